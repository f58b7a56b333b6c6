/* SPDX-License-Identifier: GPL-3.0-or-later */
/* pam_driver: runs real libpam on a private PAM confdir with a conversation
 * that a controlling process answers line by line over stdin/stdout, so a
 * test can decide an answer after seeing the prompt (e.g. fetch the code
 * from the simulator's outbox only once the code prompt appeared).
 *
 * Usage: pam_driver --confdir DIR --service NAME (--user USER | --no-user)
 *                   [--rhost HOST] [--tty TTY] [--ruser U] [--silent]
 *                   [--disallow-null-authtok] [--stop-on-fail]
 *                   --op auth|acct|chauthtok|setcred|open|close [--op ...]
 *
 * Output lines (stdout, flushed after each):
 *   PROMPT_ECHO_OFF <text> | PROMPT_ECHO_ON <text> | ERROR_MSG <text> | TEXT_INFO <text>
 *   RESULT op=OP code=PAM_NAME (N) msg="pam_strerror text"
 *   ITEMS op=OP user="..." authtok=set|unset   (after the call; libpam itself
 *                                              clears PAM_AUTHTOK when auth returns)
 *   END
 * Texts are escaped: backslash as \\, newline \n, CR \r, tab \t, other
 * control bytes \xHH, and a double quote inside msg="..." as \".
 *
 * Answers (stdin, one line per prompt):
 *   ANSWER <text>   the text (may be empty; the same escapes are decoded)
 *   NULL            a NULL resp for this message
 *   NORESP          the conversation returns PAM_SUCCESS with no resp array at all
 *   FAIL or EOF     the conversation returns PAM_CONV_ERR
 * Secrets never travel in argv. Exit status: 0 when every op ran (whatever
 * PAM answered), 2 on misuse, 77 when libpam has no pam_start_confdir. */
#include "twofa_build.h"

#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <security/pam_appl.h>

#define DRIVER_MAX_OPS 16
/* Far above PAM_MAX_RESP_SIZE, so a test can feed the module oversized input. */
#define DRIVER_MAX_ANSWER (64 * 1024)

typedef enum { OP_AUTH, OP_ACCT, OP_CHAUTHTOK, OP_SETCRED, OP_OPEN, OP_CLOSE } driver_op;

static const char *const op_names[] = {"auth", "acct", "chauthtok", "setcred", "open", "close"};

struct pam_code_name {
	int code;
	const char *name;
};

static const struct pam_code_name pam_code_names[] = {
	{PAM_SUCCESS, "PAM_SUCCESS"},
	{PAM_OPEN_ERR, "PAM_OPEN_ERR"},
	{PAM_SYMBOL_ERR, "PAM_SYMBOL_ERR"},
	{PAM_SERVICE_ERR, "PAM_SERVICE_ERR"},
	{PAM_SYSTEM_ERR, "PAM_SYSTEM_ERR"},
	{PAM_BUF_ERR, "PAM_BUF_ERR"},
	{PAM_PERM_DENIED, "PAM_PERM_DENIED"},
	{PAM_AUTH_ERR, "PAM_AUTH_ERR"},
	{PAM_CRED_INSUFFICIENT, "PAM_CRED_INSUFFICIENT"},
	{PAM_AUTHINFO_UNAVAIL, "PAM_AUTHINFO_UNAVAIL"},
	{PAM_USER_UNKNOWN, "PAM_USER_UNKNOWN"},
	{PAM_MAXTRIES, "PAM_MAXTRIES"},
	{PAM_NEW_AUTHTOK_REQD, "PAM_NEW_AUTHTOK_REQD"},
	{PAM_ACCT_EXPIRED, "PAM_ACCT_EXPIRED"},
	{PAM_SESSION_ERR, "PAM_SESSION_ERR"},
	{PAM_CRED_UNAVAIL, "PAM_CRED_UNAVAIL"},
	{PAM_CRED_EXPIRED, "PAM_CRED_EXPIRED"},
	{PAM_CRED_ERR, "PAM_CRED_ERR"},
	{PAM_NO_MODULE_DATA, "PAM_NO_MODULE_DATA"},
	{PAM_CONV_ERR, "PAM_CONV_ERR"},
	{PAM_AUTHTOK_ERR, "PAM_AUTHTOK_ERR"},
	{PAM_AUTHTOK_RECOVERY_ERR, "PAM_AUTHTOK_RECOVERY_ERR"},
	{PAM_AUTHTOK_LOCK_BUSY, "PAM_AUTHTOK_LOCK_BUSY"},
	{PAM_AUTHTOK_DISABLE_AGING, "PAM_AUTHTOK_DISABLE_AGING"},
	{PAM_TRY_AGAIN, "PAM_TRY_AGAIN"},
	{PAM_IGNORE, "PAM_IGNORE"},
	{PAM_ABORT, "PAM_ABORT"},
	{PAM_AUTHTOK_EXPIRED, "PAM_AUTHTOK_EXPIRED"},
	{PAM_MODULE_UNKNOWN, "PAM_MODULE_UNKNOWN"},
	{PAM_BAD_ITEM, "PAM_BAD_ITEM"},
	{PAM_CONV_AGAIN, "PAM_CONV_AGAIN"},
	{PAM_INCOMPLETE, "PAM_INCOMPLETE"},
};

static const char *pam_code_name(int code)
{
	for (size_t i = 0; i < sizeof(pam_code_names) / sizeof(pam_code_names[0]); i++)
		if (pam_code_names[i].code == code)
			return pam_code_names[i].name;
	return "PAM_UNKNOWN_CODE";
}

/* Prints s escaped so that one message is always one line. */
static void print_escaped(const char *s, bool in_quotes)
{
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		switch (*p) {
		case '\\':
			fputs("\\\\", stdout);
			break;
		case '\n':
			fputs("\\n", stdout);
			break;
		case '\r':
			fputs("\\r", stdout);
			break;
		case '\t':
			fputs("\\t", stdout);
			break;
		case '"':
			fputs(in_quotes ? "\\\"" : "\"", stdout);
			break;
		default:
			if (*p < 0x20 || *p == 0x7f)
				printf("\\x%02x", *p);
			else
				putchar(*p);
		}
	}
}

static int hex_value(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* Decodes the escapes of an ANSWER text in place. A "\x00" would cut the C
 * string short, which is what a module sees from a real client too. False on
 * a malformed escape. */
static bool unescape_in_place(char *s)
{
	char *out = s;

	for (char *in = s; *in; in++) {
		if (*in != '\\') {
			*out++ = *in;
			continue;
		}
		in++;
		switch (*in) {
		case '\\':
			*out++ = '\\';
			break;
		case 'n':
			*out++ = '\n';
			break;
		case 'r':
			*out++ = '\r';
			break;
		case 't':
			*out++ = '\t';
			break;
		case '"':
			*out++ = '"';
			break;
		case 'x': {
			int hi = in[1] ? hex_value(in[1]) : -1;
			int lo = hi >= 0 && in[2] ? hex_value(in[2]) : -1;

			if (hi < 0 || lo < 0)
				return false;
			*out++ = (char)(hi * 16 + lo);
			in += 2;
			break;
		}
		default:
			return false;
		}
	}
	*out = '\0';
	return true;
}

typedef enum { ANSWER_TEXT, ANSWER_NULL, ANSWER_NORESP, ANSWER_FAIL } answer_kind;

/* Reads one answer line. For ANSWER_TEXT, *text is a malloc'd copy. The
 * line buffer is wiped, since it held what may be a password. */
static answer_kind read_answer(char **text)
{
	char *line = NULL;
	size_t cap = 0;
	ssize_t len = getline(&line, &cap, stdin);
	answer_kind kind = ANSWER_FAIL;

	*text = NULL;
	if (len < 0 || (size_t)len > DRIVER_MAX_ANSWER) {
		if (line)
			explicit_bzero(line, cap);
		free(line);
		return ANSWER_FAIL;
	}
	if (len > 0 && line[len - 1] == '\n')
		line[--len] = '\0';
	if (strcmp(line, "NULL") == 0) {
		kind = ANSWER_NULL;
	} else if (strcmp(line, "NORESP") == 0) {
		kind = ANSWER_NORESP;
	} else if (strncmp(line, "ANSWER ", 7) == 0 || strcmp(line, "ANSWER") == 0) {
		char *body = line + (len > 6 ? 7 : 6);

		if (unescape_in_place(body)) {
			*text = strdup(body);
			kind = *text ? ANSWER_TEXT : ANSWER_FAIL;
		} else {
			fputs("pam_driver: malformed escape in ANSWER line\n", stderr);
		}
	} else if (strcmp(line, "FAIL") != 0) {
		fputs("pam_driver: unknown answer line (want ANSWER/NULL/NORESP/FAIL)\n", stderr);
	}
	explicit_bzero(line, cap);
	free(line);
	return kind;
}

static void free_responses(struct pam_response *resp, int count)
{
	for (int i = 0; i < count; i++) {
		if (resp[i].resp) {
			explicit_bzero(resp[i].resp, strlen(resp[i].resp));
			free(resp[i].resp);
		}
	}
	free(resp);
}

static int driver_conv(int num_msg, const struct pam_message **msg, struct pam_response **resp, void *appdata)
{
	struct pam_response *answers;

	(void)appdata;
	*resp = NULL;
	if (num_msg <= 0 || num_msg > PAM_MAX_NUM_MSG)
		return PAM_CONV_ERR;
	answers = calloc((size_t)num_msg, sizeof(*answers));
	if (!answers)
		return PAM_BUF_ERR;
	for (int i = 0; i < num_msg; i++) {
		const char *tag;
		bool is_prompt = false;
		char *text;

		switch (msg[i]->msg_style) {
		case PAM_PROMPT_ECHO_OFF:
			tag = "PROMPT_ECHO_OFF";
			is_prompt = true;
			break;
		case PAM_PROMPT_ECHO_ON:
			tag = "PROMPT_ECHO_ON";
			is_prompt = true;
			break;
		case PAM_ERROR_MSG:
			tag = "ERROR_MSG";
			break;
		case PAM_TEXT_INFO:
			tag = "TEXT_INFO";
			break;
		default:
			printf("BAD_STYLE %d\n", msg[i]->msg_style);
			fflush(stdout);
			free_responses(answers, i);
			return PAM_CONV_ERR;
		}
		printf("%s ", tag);
		print_escaped(msg[i]->msg ? msg[i]->msg : "", false);
		putchar('\n');
		fflush(stdout);
		if (!is_prompt)
			continue;
		switch (read_answer(&text)) {
		case ANSWER_TEXT:
			answers[i].resp = text;
			break;
		case ANSWER_NULL:
			break;
		case ANSWER_NORESP:
			free_responses(answers, i);
			return PAM_SUCCESS;
		case ANSWER_FAIL:
			free_responses(answers, i);
			return PAM_CONV_ERR;
		}
	}
	*resp = answers;
	return PAM_SUCCESS;
}

static int run_op(pam_handle_t *pamh, driver_op op, int flags)
{
	switch (op) {
	case OP_AUTH:
		return pam_authenticate(pamh, flags);
	case OP_ACCT:
		return pam_acct_mgmt(pamh, flags);
	case OP_CHAUTHTOK:
		return pam_chauthtok(pamh, flags);
	case OP_SETCRED:
		return pam_setcred(pamh, flags | PAM_ESTABLISH_CRED);
	case OP_OPEN:
		return pam_open_session(pamh, flags);
	case OP_CLOSE:
		return pam_close_session(pamh, flags);
	}
	return PAM_SYSTEM_ERR;
}

static void print_result(pam_handle_t *pamh, driver_op op, int code)
{
	const void *user = NULL;
	const void *authtok = NULL;

	printf("RESULT op=%s code=%s (%d) msg=\"", op_names[op], pam_code_name(code), code);
	print_escaped(pam_strerror(pamh, code), true);
	printf("\"\n");
	/* Whether a token is set, never its value: tests check the stacking contract. */
	if (pam_get_item(pamh, PAM_USER, &user) != PAM_SUCCESS)
		user = NULL;
	if (pam_get_item(pamh, PAM_AUTHTOK, &authtok) != PAM_SUCCESS)
		authtok = NULL;
	printf("ITEMS op=%s user=\"", op_names[op]);
	print_escaped(user ? user : "", true);
	printf("\" authtok=%s\n", authtok ? "set" : "unset");
	fflush(stdout);
}

static int usage(const char *why)
{
	fprintf(stderr,
		"pam_driver: %s\n"
		"usage: pam_driver --confdir DIR --service NAME (--user USER | --no-user)\n"
		"                  [--rhost HOST] [--tty TTY] [--ruser USER] [--silent]\n"
		"                  [--disallow-null-authtok] [--stop-on-fail]\n"
		"                  --op auth|acct|chauthtok|setcred|open|close [--op ...]\n",
		why);
	return 2;
}

static bool parse_op(const char *name, driver_op *out)
{
	for (size_t i = 0; i < sizeof(op_names) / sizeof(op_names[0]); i++) {
		if (strcmp(name, op_names[i]) == 0) {
			*out = (driver_op)i;
			return true;
		}
	}
	return false;
}

int main(int argc, char **argv)
{
	enum {
		OPT_CONFDIR = 256,
		OPT_SERVICE,
		OPT_USER,
		OPT_NO_USER,
		OPT_RHOST,
		OPT_TTY,
		OPT_RUSER,
		OPT_OP,
		OPT_SILENT,
		OPT_DISALLOW_NULL,
		OPT_STOP_ON_FAIL
	};
	static const struct option options[] = {
		{"confdir", required_argument, NULL, OPT_CONFDIR},
		{"service", required_argument, NULL, OPT_SERVICE},
		{"user", required_argument, NULL, OPT_USER},
		{"no-user", no_argument, NULL, OPT_NO_USER},
		{"rhost", required_argument, NULL, OPT_RHOST},
		{"tty", required_argument, NULL, OPT_TTY},
		{"ruser", required_argument, NULL, OPT_RUSER},
		{"op", required_argument, NULL, OPT_OP},
		{"silent", no_argument, NULL, OPT_SILENT},
		{"disallow-null-authtok", no_argument, NULL, OPT_DISALLOW_NULL},
		{"stop-on-fail", no_argument, NULL, OPT_STOP_ON_FAIL},
		{NULL, 0, NULL, 0},
	};
	const char *confdir = NULL, *service = NULL, *user = NULL;
	const char *rhost = NULL, *tty = NULL, *ruser = NULL;
	bool no_user = false, stop_on_fail = false;
	driver_op ops[DRIVER_MAX_OPS];
	size_t op_count = 0;
	int flags = 0;
	int opt;

	while ((opt = getopt_long(argc, argv, "", options, NULL)) != -1) {
		switch (opt) {
		case OPT_CONFDIR:
			confdir = optarg;
			break;
		case OPT_SERVICE:
			service = optarg;
			break;
		case OPT_USER:
			user = optarg;
			break;
		case OPT_NO_USER:
			no_user = true;
			break;
		case OPT_RHOST:
			rhost = optarg;
			break;
		case OPT_TTY:
			tty = optarg;
			break;
		case OPT_RUSER:
			ruser = optarg;
			break;
		case OPT_SILENT:
			flags |= PAM_SILENT;
			break;
		case OPT_DISALLOW_NULL:
			flags |= PAM_DISALLOW_NULL_AUTHTOK;
			break;
		case OPT_STOP_ON_FAIL:
			stop_on_fail = true;
			break;
		case OPT_OP:
			if (op_count == DRIVER_MAX_OPS)
				return usage("too many --op");
			if (!parse_op(optarg, &ops[op_count]))
				return usage("unknown --op");
			op_count++;
			break;
		default:
			return usage("bad option");
		}
	}
	if (optind != argc)
		return usage("unexpected argument");
	if (!confdir || !service)
		return usage("--confdir and --service are required");
	if ((user != NULL) == no_user)
		return usage("give exactly one of --user and --no-user");
	if (op_count == 0)
		return usage("at least one --op is required");

#ifdef HAVE_PAM_START_CONFDIR
	const struct pam_conv conv = {driver_conv, NULL};
	pam_handle_t *pamh = NULL;
	int status = pam_start_confdir(service, user, &conv, confdir, &pamh);

	if (status != PAM_SUCCESS) {
		printf("RESULT op=start code=%s (%d) msg=\"\"\nEND\n", pam_code_name(status), status);
		return 0;
	}
	const struct {
		int item;
		const char *value;
	} items[] = {
		{PAM_RHOST, rhost},
		{PAM_TTY, tty},
		{PAM_RUSER, ruser},
	};
	for (size_t i = 0; i < sizeof(items) / sizeof(items[0]); i++) {
		if (items[i].value && pam_set_item(pamh, items[i].item, items[i].value) != PAM_SUCCESS) {
			fputs("pam_driver: pam_set_item failed\n", stderr);
			pam_end(pamh, PAM_SYSTEM_ERR);
			return 2;
		}
	}
	for (size_t i = 0; i < op_count; i++) {
		status = run_op(pamh, ops[i], flags);
		print_result(pamh, ops[i], status);
		if (stop_on_fail && status != PAM_SUCCESS)
			break;
	}
	pam_end(pamh, status);
	puts("END");
	fflush(stdout);
	return 0;
#else
	(void)rhost;
	(void)tty;
	(void)ruser;
	(void)flags;
	(void)stop_on_fail;
	(void)driver_conv;
	(void)run_op;
	(void)print_result;
	fputs("pam_driver: this libpam has no pam_start_confdir (Linux-PAM >= 1.4 needed)\n", stderr);
	return 77;
#endif
}
