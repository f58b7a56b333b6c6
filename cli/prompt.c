/* SPDX-License-Identifier: GPL-3.0-or-later */
/* Terminal input: prompts on /dev/tty with echo off for secrets, or one line
 * per answer from stdin for scripts; signals that end a run cleanly. */
#include "twofa_build.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#include <sodium.h>

#include "cli.h"
#include "password.h"
#include "util.h"

volatile sig_atomic_t cli_interrupted;

static void on_signal(int sig)
{
	cli_interrupted = sig;
}

void cli_signals_install(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	sa.sa_flags = 0; /* no SA_RESTART: a blocked read must return */
	(void)sigaction(SIGINT, &sa, NULL);
	(void)sigaction(SIGTERM, &sa, NULL);
	(void)sigaction(SIGHUP, &sa, NULL);
}

bool cli_interactive(void)
{
	return isatty(STDIN_FILENO) == 1;
}

static void write_all(int fd, const char *s)
{
	size_t len = strlen(s);

	while (len > 0) {
		ssize_t n = write(fd, s, len);
		if (n < 0 && errno == EINTR && !cli_interrupted)
			continue;
		if (n <= 0)
			return;
		s += n;
		len -= (size_t)n;
	}
}

/* Reads bytes up to a newline from fd, one at a time so nothing after the
 * line is consumed (the next prompt reads it). */
static cli_read_result read_fd_line(int fd, char *buf, size_t size)
{
	size_t len = 0;
	bool overflow = false, any = false;

	for (;;) {
		char c;
		ssize_t n;

		if (cli_interrupted) {
			sodium_memzero(buf, size);
			return CLI_READ_INTERRUPTED;
		}
		n = read(fd, &c, 1);
		if (n < 0) {
			if (errno == EINTR)
				continue; /* the loop head sees a flagged signal */
			sodium_memzero(buf, size);
			return CLI_READ_ERROR;
		}
		if (n == 0) {
			if (!any) {
				sodium_memzero(buf, size);
				return CLI_READ_EOF;
			}
			break; /* a last line without a newline */
		}
		any = true;
		if (c == '\n')
			break;
		if (len + 1 < size)
			buf[len++] = c;
		else
			overflow = true;
	}
	if (overflow) {
		sodium_memzero(buf, size);
		return CLI_READ_TOO_LONG;
	}
	if (len > 0 && buf[len - 1] == '\r')
		len--;
	buf[len] = '\0';
	return CLI_READ_OK;
}

cli_read_result cli_read_line(const char *prompt, bool secret, char *buf, size_t size)
{
	struct termios saved, quiet;
	bool restore = false;
	cli_read_result r;
	int fd;

	if (size == 0)
		return CLI_READ_ERROR;
	buf[0] = '\0';
	if (!cli_interactive())
		return read_fd_line(STDIN_FILENO, buf, size);
	fd = open("/dev/tty", O_RDWR | O_NOCTTY | O_CLOEXEC);
	if (fd < 0)
		return read_fd_line(STDIN_FILENO, buf, size);
	if (secret && tcgetattr(fd, &saved) == 0) {
		quiet = saved;
		quiet.c_lflag &= (tcflag_t) ~(ECHO | ECHONL);
		quiet.c_lflag |= ICANON;
		if (tcsetattr(fd, TCSAFLUSH, &quiet) == 0)
			restore = true;
	}
	write_all(fd, prompt);
	r = read_fd_line(fd, buf, size);
	if (restore) {
		(void)tcsetattr(fd, TCSAFLUSH, &saved);
		write_all(fd, "\n"); /* the newline the user typed was not echoed */
	} else if (r == CLI_READ_INTERRUPTED) {
		write_all(fd, "\n");
	}
	close(fd);
	return r;
}

bool cli_confirm(const char *question)
{
	char answer[16];

	if (cli_read_line(question, false, answer, sizeof(answer)) != CLI_READ_OK)
		return false;
	return strcmp(answer, "y") == 0 || strcmp(answer, "Y") == 0 || strcmp(answer, "yes") == 0;
}

void cli_tty_print(const char *fmt, ...)
{
	char line[512];
	va_list ap;
	int fd;

	if (!cli_interactive())
		return;
	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	fd = open("/dev/tty", O_WRONLY | O_NOCTTY | O_CLOEXEC);
	if (fd < 0)
		return;
	write_all(fd, line);
	close(fd);
}

/* Why reading an answer failed, as an exit code after one line on stderr. */
static int read_failure(cli_read_result r, const char *what)
{
	switch (r) {
	case CLI_READ_OK:
		return 0;
	case CLI_READ_EOF:
		return cli_fail(EX_DATAERR, "no %s given (end of input)", what);
	case CLI_READ_TOO_LONG:
		return cli_fail(EX_DATAERR, "the %s is too long", what);
	case CLI_READ_INTERRUPTED:
		return cli_fail(CLI_EXIT_INTERRUPTED, "interrupted; nothing was changed");
	case CLI_READ_ERROR:
		break;
	}
	return cli_fail(1, "cannot read the %s: %s", what, strerror(errno));
}

int cli_read_new_password(const char *user, bool once, twofa_strength strength, char *hash, size_t hash_size)
{
	char *first, *again;
	char prompt[TWOFA_USER_NAME_MAX + 32];
	char sanitized[TWOFA_USER_NAME_MAX + 1];
	twofa_error err;
	cli_read_result r;
	int rc = 0;

	twofa_error_clear(&err);
	if (twofa_crypto_init(&err) != TWOFA_OK)
		return cli_fail_status(&err);
	/* One byte more than the limit, so an overlong password is seen as such.
	 * Guarded pages, wiped by sodium_free. */
	first = sodium_malloc(TWOFA_PASSWORD_MAX + 2);
	again = sodium_malloc(TWOFA_PASSWORD_MAX + 2);
	if (first == NULL || again == NULL || hash_size < crypto_pwhash_STRBYTES) {
		sodium_free(first);
		sodium_free(again);
		return cli_fail(1, "out of memory");
	}
	twofa_error_clear(&err);
	twofa_strlcpy(sanitized, user, sizeof(sanitized));
	twofa_sanitize(sanitized);
	snprintf(prompt, sizeof(prompt), "Password for %s: ", sanitized);
	r = cli_read_line(prompt, true, first, TWOFA_PASSWORD_MAX + 2);
	rc = read_failure(r, "password");
	if (rc == 0 && twofa_password_valid(first, &err) != TWOFA_OK)
		rc = cli_fail(EX_DATAERR, "%s", err.msg);
	if (rc == 0 && twofa_has_control(first, strlen(first)))
		rc = cli_fail(EX_DATAERR, "the password contains a control character");
	if (rc == 0 && !once) {
		r = cli_read_line("Repeat the password: ", true, again, TWOFA_PASSWORD_MAX + 2);
		rc = read_failure(r, "repeated password");
		if (rc == 0 && !twofa_streq_ct(first, again, TWOFA_PASSWORD_MAX + 1))
			rc = cli_fail(EX_DATAERR, "the two passwords differ; nothing was changed");
	}
	if (rc == 0) {
		char out[crypto_pwhash_STRBYTES];

		if (twofa_password_hash(first, strength, out, &err) != TWOFA_OK)
			rc = cli_fail_status(&err);
		else
			twofa_strlcpy(hash, out, hash_size);
		sodium_memzero(out, sizeof(out));
	}
	/* sodium_free wipes both buffers. */
	sodium_free(first);
	sodium_free(again);
	if (rc == 0 && cli_interrupted)
		rc = read_failure(CLI_READ_INTERRUPTED, "password");
	return rc;
}

char *cli_trim(char *s)
{
	size_t len;

	while (*s == ' ' || *s == '\t')
		s++;
	len = strlen(s);
	while (len > 0 && (s[len - 1] == ' ' || s[len - 1] == '\t'))
		s[--len] = '\0';
	return s;
}
