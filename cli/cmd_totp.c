/* SPDX-License-Identifier: GPL-3.0-or-later */
/* An authenticator app (Verify TOTP): `add --channel totp` and `totp USER`
 * share the enrolment here. Twilio makes the secret with the factor; it is
 * shown once (the QR code, qr.c, and the base32 text for typing in), wiped
 * at once, never stored, logged or exported; then the first code from the
 * app verifies the factor, with max_tries tries. A factor that was not
 * verified is deleted again (its entity too when it was new), so a failed
 * run leaves nothing at Twilio either. */
#include "twofa_build.h"

#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <sodium.h>

#include "cli.h"
#include "json_wipe.h"
#include "password.h"
#include "util.h"
#include "verify_totp.h"

/* Answers that are not a code (blank lines) we skip before giving up. */
#define TOTP_MAX_BLANK_LINES 5
#define TOTP_CODE_LINE_MAX 64
/* The label (FriendlyName) the app shows beside the issuer. */
#define TOTP_LABEL_MAX 64

static int totp_fail(const char *what, const twofa_verify_result *r)
{
	return cli_fail(cli_outcome_exit(r->outcome), "%s: %s (%s)", what, r->user_message, r->log_message);
}

/* 1..64 of [A-Za-z0-9._@ -]: it goes into the otpauth URI's path, where
 * ':' would split issuer from account. */
static bool label_valid(const char *s)
{
	size_t len = strnlen(s, TOTP_LABEL_MAX + 1);

	if (len == 0 || len > TOTP_LABEL_MAX)
		return false;
	for (size_t i = 0; i < len; i++) {
		char c = s[i];
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		      c == '.' || c == '_' || c == '@' || c == ' ' || c == '-'))
			return false;
	}
	return true;
}

int cli_totp_preflight(cli_totp_options *o)
{
	if (o->label != NULL) {
		if (!label_valid(o->label))
			return cli_usage_error(o->command,
					       "--label must be 1..64 of A-Z a-z 0-9 . _ @ - and space");
		(void)twofa_strlcpy(o->label_buf, o->label, sizeof(o->label_buf));
	} else {
		/* Not the member's name: Twilio asks for no personal data here.
		 * The host tells the member which account the code is for. */
		char host[256];
		if (gethostname(host, sizeof(host)) != 0)
			host[0] = '\0';
		host[sizeof(host) - 1] = '\0';
		host[strcspn(host, ".")] = '\0';
		if (!label_valid(host))
			(void)twofa_strlcpy(host, "twofa", sizeof(host));
		(void)twofa_strlcpy(o->label_buf, host, sizeof(o->label_buf));
	}
	if (!o->print_secret && isatty(STDOUT_FILENO) != 1)
		return cli_fail(EX_USAGE,
				"%s: standard output is not a terminal, and the app's secret would go to a "
				"file or a pipe; nothing was made: run it at a terminal, or pass "
				"--print-secret to print the secret anyway",
				o->command);
	if (!o->ascii && !cli_qr_utf8_terminal())
		o->ascii = true;
	return 0;
}

/* The base32 secret in groups of four, for typing in. */
static void group_secret(const char *secret, char *out, size_t size)
{
	size_t n = 0;

	for (size_t i = 0; secret[i] != '\0' && n + 2 < size; i++) {
		if (i > 0 && i % 4 == 0)
			out[n++] = ' ';
		out[n++] = secret[i];
	}
	out[n] = '\0';
}

/* The one showing of the secret: the QR code, then the text, with
 * write(2) from buffers that are wiped after. */
static int show_binding(const twofa_totp_binding *b, const cli_totp_options *o)
{
	char grouped[TWOFA_TOTP_SECRET_MAX * 2];
	char text[sizeof(grouped) + 256];
	int n, rc;

	n = snprintf(text, sizeof(text), "Scan this QR code with the authenticator app (%s):\n", o->label_buf);
	if (n < 0 || !cli_write_once(text, (size_t)n))
		return cli_fail(1, "cannot write to standard output");
	if ((rc = cli_qr_draw(b->uri, o->ascii)) != 0)
		return rc;
	group_secret(b->secret, grouped, sizeof(grouped));
	n = snprintf(text, sizeof(text),
		     "Or type this secret into the app (time-based, %ld digits, every %ld s):\n  %s\n"
		     "It is shown this once: twofa does not keep it.\n",
		     b->code_length > 0 ? b->code_length : 6, b->time_step > 0 ? b->time_step : 30, grouped);
	sodium_memzero(grouped, sizeof(grouped));
	rc = n > 0 && (size_t)n < sizeof(text) && cli_write_once(text, (size_t)n)
		     ? 0
		     : cli_fail(1, "cannot write the secret to standard output");
	sodium_memzero(text, sizeof(text));
	return rc;
}

void cli_totp_undo(twofa_verify *v, const char *identity, const char *factor_sid, bool entity_too)
{
	twofa_verify_result r;
	twofa_verify_outcome o;

	memset(&r, 0, sizeof(r));
	if (entity_too) {
		/* Deleting the entity deletes its factors. */
		o = twofa_totp_entity_delete(v, identity, &r);
		if (o != TWOFA_VERIFY_OK && o != TWOFA_VERIFY_EXPIRED)
			cli_warn("could not delete the new TOTP entity at Twilio (%s); 'twofa-enroll db check' "
				 "lists it",
				 r.log_message);
		return;
	}
	o = twofa_totp_factor_delete(v, identity, factor_sid, &r);
	if (o != TWOFA_VERIFY_OK && o != TWOFA_VERIFY_EXPIRED)
		cli_warn("could not delete the unverified factor %s at Twilio (%s); 'twofa-enroll db check' "
			 "lists it",
			 factor_sid, r.log_message);
}

/* Reads the first code until the factor is verified: 0, or an exit code
 * after a message (the caller deletes the factor). */
static int first_code(twofa_verify *v, const char *identity, const char *factor_sid, long max_tries)
{
	char line[TOTP_CODE_LINE_MAX];
	long tries = 0, blanks = 0;

	for (;;) {
		twofa_verify_result r;
		twofa_verify_outcome o;
		char *answer;
		cli_read_result rr = cli_read_line("Code from the app: ", false, line, sizeof(line));

		if (rr == CLI_READ_INTERRUPTED || cli_interrupted)
			return cli_fail(CLI_EXIT_INTERRUPTED,
					"interrupted; the factor was deleted and nothing was changed");
		if (rr != CLI_READ_OK)
			return cli_fail(rr == CLI_READ_ERROR ? 1 : EX_DATAERR,
					"no code given%s; the factor was deleted and nothing was changed",
					rr == CLI_READ_EOF ? " (end of input)" : "");
		answer = cli_trim(line);
		if (answer[0] == '\0') {
			if (++blanks > TOTP_MAX_BLANK_LINES)
				return cli_fail(EX_DATAERR,
						"no code given; the factor was deleted and nothing was changed");
			continue;
		}
		memset(&r, 0, sizeof(r));
		o = twofa_totp_factor_verify(v, identity, factor_sid, answer, &r);
		sodium_memzero(line, sizeof(line));
		if (cli_interrupted && o != TWOFA_VERIFY_APPROVED)
			return cli_fail(CLI_EXIT_INTERRUPTED,
					"interrupted; the factor was deleted and nothing was changed");
		switch (o) {
		case TWOFA_VERIFY_APPROVED:
			return 0;
		case TWOFA_VERIFY_WRONG_CODE:
		case TWOFA_VERIFY_INVALID_CODE:
			if (++tries >= max_tries)
				return cli_fail(EX_DATAERR,
						"wrong code; %ld of %ld tries used, the factor was deleted and "
						"nothing was changed",
						tries, max_tries);
			cli_warn("%s (%ld %s left)",
				 o == TWOFA_VERIFY_WRONG_CODE ? "wrong code"
							      : "that is not a code: 3 to 8 digits",
				 max_tries - tries, max_tries - tries == 1 ? "try" : "tries");
			break;
		default:
			return totp_fail("cannot check the code", &r);
		}
	}
}

int cli_totp_enrol(twofa_verify *v, const char *identity, bool new_entity, const cli_totp_options *o,
		   long max_tries, char factor_sid[TWOFA_SID_LEN + 1])
{
	twofa_totp_binding *b;
	twofa_verify_result r;
	twofa_verify_outcome out;
	twofa_error err;
	int rc;

	factor_sid[0] = '\0';
	twofa_error_clear(&err);
	if (twofa_crypto_init(&err) != TWOFA_OK)
		return cli_fail_status(&err);
	/* Twilio's answer holds the secret: from here on, every block jansson
	 * frees is wiped first. Only here: wiping every free cost list 1.2 s at
	 * 1M members. Safe at any time: both allocators are malloc's. */
	twofa_json_wipe_install();
	/* Guarded pages, wiped by sodium_free: the secret lives only here. */
	b = sodium_malloc(sizeof(*b));
	if (b == NULL)
		return cli_fail(1, "out of memory");
	memset(b, 0, sizeof(*b));
	memset(&r, 0, sizeof(r));
	out = twofa_totp_factor_create(v, identity, o->label_buf, b, &r);
	if (out != TWOFA_VERIFY_OK) {
		sodium_free(b);
		rc = totp_fail("cannot make the app's factor at Twilio", &r);
		/* A refused first factor may still have made the entity. */
		if (new_entity)
			cli_totp_undo(v, identity, "", true);
		return rc;
	}
	(void)twofa_strlcpy(factor_sid, b->factor_sid, TWOFA_SID_LEN + 1);
	rc = show_binding(b, o);
	twofa_totp_binding_wipe(b);
	sodium_free(b);
	if (rc == 0 && cli_interrupted)
		rc = cli_fail(CLI_EXIT_INTERRUPTED,
			      "interrupted; the factor was deleted and nothing was changed");
	if (rc == 0)
		rc = first_code(v, identity, factor_sid, max_tries);
	if (rc != 0) {
		cli_totp_undo(v, identity, factor_sid, new_entity);
		factor_sid[0] = '\0';
	}
	return rc;
}

/* ---- twofa-enroll totp USER ---- */

typedef struct totp_switch {
	const char *entity;
	const char *factor;
	time_t now;
	char old_factor[TWOFA_MEMBER_SID_SIZE]; /* out: the factor it replaced */
} totp_switch;

static twofa_status switch_to_app(twofa_member *m, void *arg, twofa_error *err)
{
	totp_switch *s = arg;

	(void)err;
	(void)twofa_strlcpy(s->old_factor, m->totp_factor, sizeof(s->old_factor));
	(void)twofa_strlcpy(m->totp_entity, s->entity, sizeof(m->totp_entity));
	(void)twofa_strlcpy(m->totp_factor, s->factor, sizeof(m->totp_factor));
	m->channel = TWOFA_CHANNEL_TOTP;
	m->updated = m->verified = s->now > m->created ? s->now : m->created;
	return TWOFA_OK;
}

int cli_totp_parse_option(int opt, const char *arg, cli_totp_options *o)
{
	switch (opt) {
	case 'P':
		o->print_secret = true;
		return 1;
	case 'A':
		o->ascii = true;
		return 1;
	case 'L':
		o->label = arg;
		return 1;
	default:
		return 0;
	}
}

int cmd_totp(cli_context *ctx, int argc, char **argv)
{
	static const struct option options[] = {
		{"print-secret", no_argument, NULL, 'P'},
		{"ascii", no_argument, NULL, 'A'},
		{"label", required_argument, NULL, 'L'},
		{NULL, 0, NULL, 0},
	};
	char identity[TWOFA_TOTP_IDENTITY_MAX + 1];
	char factor[TWOFA_SID_LEN + 1];
	cli_totp_options o;
	twofa_verify *v = NULL;
	twofa_member m;
	totp_switch sw;
	twofa_error err;
	bool new_entity;
	const char *user;
	char why[128];
	int opt, rc;

	memset(&o, 0, sizeof(o));
	o.command = "totp";
	optind = 0;
	while ((opt = getopt_long(argc, argv, ":", options, NULL)) != -1) {
		if (cli_totp_parse_option(opt, optarg, &o))
			continue;
		snprintf(why, sizeof(why), "totp: %s '%s'",
			 opt == ':' ? "missing value for" : "unknown option",
			 optind > 0 && optind <= argc ? argv[optind - 1] : "?");
		twofa_sanitize(why);
		return cli_usage_error("totp", why);
	}
	if (optind + 1 != argc)
		return cli_usage_error("totp", "totp needs exactly one USER");
	user = argv[optind];
	if ((rc = cli_check_user_arg(user)) != 0)
		return rc;
	if ((rc = cli_totp_preflight(&o)) != 0)
		return rc;
	if ((rc = cli_load_config(ctx)) != 0)
		return rc;
	if ((rc = cli_load_member(ctx, user, &m)) != 0)
		return rc;
	/* The member's entity is kept: its factors are the member's. */
	new_entity = m.totp_entity[0] == '\0';
	if (new_entity) {
		twofa_error_clear(&err);
		if (twofa_totp_new_identity(identity, &err) != TWOFA_OK) {
			twofa_member_free(&m);
			return cli_fail_status(&err);
		}
	} else {
		(void)twofa_strlcpy(identity, m.totp_entity, sizeof(identity));
	}
	twofa_member_free(&m);
	if ((rc = cli_verify_new(ctx, &v)) != 0)
		return rc;
	rc = cli_totp_enrol(v, identity, new_entity, &o, ctx->config.max_tries, factor);
	if (rc == 0 && cli_interrupted) {
		cli_totp_undo(v, identity, factor, new_entity);
		rc = cli_fail(CLI_EXIT_INTERRUPTED,
			      "interrupted; the factor was deleted and nothing was changed");
	}
	if (rc == 0) {
		memset(&sw, 0, sizeof(sw));
		sw.entity = identity;
		sw.factor = factor;
		sw.now = time(NULL);
		rc = cli_update_member(ctx, user, switch_to_app, &sw);
		if (rc != 0)
			cli_totp_undo(v, identity, factor, new_entity);
	}
	if (rc == 0 && sw.old_factor[0] != '\0' && strcmp(sw.old_factor, factor) != 0) {
		/* The app it replaces can log in no more. */
		twofa_verify_result r;
		twofa_verify_outcome out;

		memset(&r, 0, sizeof(r));
		out = twofa_totp_factor_delete(v, identity, sw.old_factor, &r);
		if (out != TWOFA_VERIFY_OK && out != TWOFA_VERIFY_EXPIRED)
			cli_warn("could not delete the factor %s of the app replaced (%s); 'twofa-enroll db "
				 "check' lists it",
				 sw.old_factor, r.log_message);
	}
	twofa_verify_free(v);
	if (rc == 0)
		printf("%s now logs in with the authenticator app (factor %s); recovery codes and phone "
		       "kept\n",
		       user, factor);
	return rc;
}
