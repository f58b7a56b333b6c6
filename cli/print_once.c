/* SPDX-License-Identifier: GPL-3.0-or-later */
/* What recovery, bypass and invite share when they hand out one-time
 * codes: the one print of the codes, with write(2) from the caller's buffer
 * (wiped after), never through stdio's buffers; the warning when the member
 * cannot use them yet; and the options of the commands that issue one code. */
#include "twofa_build.h"

#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <unistd.h>

#include <sodium.h>

#include "cli.h"
#include "util.h"

bool cli_write_once(const char *buf, size_t len)
{
	struct sigaction ignore = {.sa_handler = SIG_IGN}, old;
	bool ok = true;
	int saved;

	if (fflush(stdout) != 0)
		return false;
	if (sigemptyset(&ignore.sa_mask) != 0 || sigaction(SIGPIPE, &ignore, &old) != 0)
		return false;
	while (len > 0) {
		ssize_t n = write(STDOUT_FILENO, buf, len);

		if (n < 0 && errno == EINTR && !cli_interrupted)
			continue;
		if (n <= 0) {
			if (n == 0 || cli_interrupted)
				errno = EINTR;
			ok = false;
			break;
		}
		buf += n;
		len -= (size_t)n;
	}
	saved = errno;
	(void)sigaction(SIGPIPE, &old, NULL);
	errno = saved;
	return ok;
}

void cli_warn_codes_unusable(const char *shown, twofa_member_status status, const char *codes_do)
{
	if (status == TWOFA_MEMBER_DISABLED)
		cli_warn("%s is disabled: %s not work until 'twofa-enroll enable %s'", shown, codes_do, shown);
	else if (status == TWOFA_MEMBER_PENDING)
		cli_warn("%s is pending approval: %s not work until 'twofa-enroll approve %s'", shown,
			 codes_do, shown);
}

bool cli_print_once(char *buf, size_t size, const char *fmt, ...)
{
	va_list ap;
	bool printed;
	int len, saved;

	va_start(ap, fmt);
	len = vsnprintf(buf, size, fmt, ap);
	va_end(ap);
	if (len < 0 || (size_t)len >= size) {
		errno = EOVERFLOW;
		printed = false;
	} else {
		printed = cli_write_once(buf, (size_t)len);
	}
	saved = errno;
	sodium_memzero(buf, size);
	errno = saved;
	return printed;
}

int cli_parse_issue_args(const cli_issue_spec *spec, int argc, char **argv, cli_issue_args *a)
{
	static const struct option options[] = {
		{"uses", required_argument, NULL, 'u'},
		{"ttl", required_argument, NULL, 't'},
		{"json", no_argument, NULL, 'j'},
		{"revoke", no_argument, NULL, 'r'},
		{NULL, 0, NULL, 0},
	};
	const char *cmd = spec->command;
	char why[256];
	bool issuing = false;
	int opt;

	optind = 0;
	/* Without --uses the table starts after it, so getopt refuses it. */
	while ((opt = getopt_long(argc, argv, ":", spec->uses_max > 0 ? options : options + 1, NULL)) != -1) {
		if (opt == 'u') {
			if (!twofa_parse_long(optarg, 1, spec->uses_max, &a->uses)) {
				(void)snprintf(why, sizeof(why), "%s: --uses must be a number from 1 to %ld",
					       cmd, spec->uses_max);
				return cli_usage_error(cmd, why);
			}
			issuing = true;
		} else if (opt == 't') {
			if (!twofa_parse_duration(optarg, spec->ttl_min, spec->ttl_max, &a->ttl)) {
				(void)snprintf(why, sizeof(why), "%s: --ttl must be %s", cmd, spec->ttl_help);
				return cli_usage_error(cmd, why);
			}
			issuing = true;
		} else if (opt == 'j') {
			a->json = true;
			issuing = true;
		} else if (opt == 'r') {
			a->revoke = true;
		} else {
			(void)snprintf(why, sizeof(why), "%s: unknown option or missing value", cmd);
			return cli_usage_error(cmd, why);
		}
	}
	if (a->revoke && issuing) {
		(void)snprintf(why, sizeof(why), "%s: --revoke takes no %s--ttl or --json", cmd,
			       spec->uses_max > 0 ? "--uses, " : "");
		return cli_usage_error(cmd, why);
	}
	if (optind + 1 != argc) {
		(void)snprintf(why, sizeof(why), "%s needs exactly one USER", cmd);
		return cli_usage_error(cmd, why);
	}
	a->user = argv[optind];
	return cli_check_user_arg(a->user);
}
