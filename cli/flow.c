/* SPDX-License-Identifier: GPL-3.0-or-later */
/* The code flow that add, phone and test share: confirm a number with
 * Lookup, send a code, read it back (with re-sends by another channel),
 * cancel what is pending when the run fails or is interrupted. */
#include "twofa_build.h"

#include <string.h>
#include <strings.h>

#include <sodium.h>

#include "cli.h"
#include "code_round.h"
#include "phone.h"
#include "util.h"

/* Re-sends a run may ask for; Twilio's own send limit (5) caps it too. */
#define CLI_MAX_RESENDS 5
/* Answers that are neither a code nor a command (blank lines) we skip. */
#define CLI_MAX_BLANK_LINES 5
/* A code is 4..10 characters; room for spaces around it and a command. */
#define CLI_CODE_LINE_MAX 64

int cli_outcome_exit(twofa_verify_outcome o)
{
	switch (o) {
	case TWOFA_VERIFY_OK:
	case TWOFA_VERIFY_SENT:
	case TWOFA_VERIFY_APPROVED:
		return EX_OK;
	case TWOFA_VERIFY_OUTAGE:
	case TWOFA_VERIFY_RATE_LIMITED:
		return EX_UNAVAILABLE;
	case TWOFA_VERIFY_BAD_CREDENTIALS:
	case TWOFA_VERIFY_SERVICE_NOT_FOUND:
	case TWOFA_VERIFY_CHANNEL_DISABLED:
		return EX_CONFIG;
	case TWOFA_VERIFY_WRONG_CODE:
	case TWOFA_VERIFY_INVALID_CODE:
	case TWOFA_VERIFY_EXPIRED:
	case TWOFA_VERIFY_TOO_MANY_CHECKS:
	case TWOFA_VERIFY_TOO_MANY_SENDS:
	case TWOFA_VERIFY_NUMBER_INVALID:
	case TWOFA_VERIFY_LANDLINE:
	case TWOFA_VERIFY_BLOCKED:
		return EX_DATAERR;
	case TWOFA_VERIFY_BAD_ANSWER:
	case TWOFA_VERIFY_LOCAL_ERROR:
	case TWOFA_VERIFY_CLIENT_ERROR:
	case TWOFA_VERIFY_OUTCOME_COUNT:
		break;
	}
	return 1;
}

/* One line: what failed, Twilio's meaning for a person, and the details
 * for the administrator (masked number, HTTP status, outcome name). */
static int outcome_fail(const char *what, const twofa_verify_result *r)
{
	return cli_fail(cli_outcome_exit(r->outcome), "%s: %s (%s)", what, r->user_message, r->log_message);
}

int cli_verify_new(cli_context *ctx, twofa_verify **v)
{
	twofa_error err;

	twofa_error_clear(&err);
	if (twofa_config_check_credentials(&ctx->config, &err) != TWOFA_OK)
		return cli_fail(EX_CONFIG, "%s: %s", ctx->config_path, err.msg);
	if (twofa_verify_new(v, &ctx->config, &err) != TWOFA_OK)
		return cli_fail(err.status == TWOFA_ECONFIG ? EX_CONFIG : twofa_status_exit_code(err.status),
				"%s: %s", ctx->config_path, err.msg);
	return 0;
}

void cli_destination_set(cli_destination *d, const char *phone, const char *email, twofa_channel channel)
{
	d->channel = channel;
	if (channel == TWOFA_CHANNEL_EMAIL && email != NULL) {
		d->to = email;
		cli_mask_email(email, d->shown, sizeof(d->shown));
	} else {
		d->to = phone;
		twofa_phone_mask(phone, d->shown, sizeof(d->shown));
	}
}

int cli_lookup_number(twofa_verify *v, const char *e164, const char *country)
{
	char found[TWOFA_E164_MAX + 1] = "";
	char shown[TWOFA_PHONE_MASK_SIZE];
	twofa_verify_result r;
	twofa_verify_outcome o;

	memset(&r, 0, sizeof(r));
	twofa_phone_mask(e164, shown, sizeof(shown));
	o = twofa_lookup(v, e164, country, found, &r);
	switch (o) {
	case TWOFA_VERIFY_OK:
		if (strcmp(found, e164) != 0)
			cli_warn("Twilio Lookup reads %s as another number; keeping the number as normalised",
				 shown);
		return 0;
	case TWOFA_VERIFY_NUMBER_INVALID:
		return cli_fail(EX_DATAERR, "Twilio Lookup says %s is not a valid number (%s)", shown,
				r.log_message);
	case TWOFA_VERIFY_BAD_CREDENTIALS:
		return outcome_fail("Twilio Lookup refused the credentials", &r);
	default:
		/* The code about to be sent proves the number just as well. */
		cli_warn("could not confirm %s with Twilio Lookup (%s); continuing", shown, r.log_message);
		return 0;
	}
}

/* The CLI's side of the lib/code_round round: the terminal (or stdin), its
 * warnings on stderr, the progress line around each send. */
typedef struct cli_round {
	cli_destination *d;
	const char *phone;
	const char *email;
	cli_read_result rr; /* the last read */
} cli_round;

static twofa_round_ask cli_round_ask(void *ctx, bool echo_on, const char *prompt, char **answer)
{
	cli_round *c = ctx;
	char line[CLI_CODE_LINE_MAX];

	(void)echo_on;
	(void)prompt;
	*answer = NULL;
	c->rr = cli_interrupted ? CLI_READ_INTERRUPTED
				: cli_read_line("Code (or call / sms / resend): ", false, line, sizeof(line));
	/* A Ctrl-C during the read ends it however the read came out (end of
	 * input, an error, a line). */
	if (cli_interrupted)
		c->rr = CLI_READ_INTERRUPTED;
	if (c->rr == CLI_READ_OK) {
		*answer = strdup(line);
		if (*answer == NULL)
			c->rr = CLI_READ_ERROR;
	}
	sodium_memzero(line, sizeof(line));
	if (c->rr == CLI_READ_OK)
		return TWOFA_ROUND_ASK_OK;
	return c->rr == CLI_READ_TOO_LONG ? TWOFA_ROUND_ASK_TOO_LONG : TWOFA_ROUND_ASK_CANCELLED;
}

static const char *tries_word(long left)
{
	return left == 1 ? "try" : "tries";
}

static void cli_round_event(void *ctx, const twofa_round_event *e)
{
	cli_round *c = ctx;
	const char *label = twofa_channel_label(e->channel);
	char text[256];

	switch (e->kind) {
	case TWOFA_ROUND_SENDING:
		cli_destination_set(c->d, c->phone, e->channel == TWOFA_CHANNEL_EMAIL ? c->email : NULL,
				    e->channel);
		cli_tty_print("Sending code by %s to %s ... ", label, c->d->shown);
		break;
	case TWOFA_ROUND_SEND_DONE:
		cli_tty_print("%s\n", e->sent ? "sent" : "failed");
		if (e->sent && !cli_interactive())
			cli_note("code sent by %s to %s", label, c->d->shown);
		break;
	case TWOFA_ROUND_RETRY:
		if (e->verify == TWOFA_VERIFY_EXPIRED)
			cli_warn("the code has expired; type 'resend' for a new one (%ld %s left)", e->left,
				 tries_word(e->left));
		else
			cli_warn("%s (%ld %s left)",
				 e->verify == TWOFA_VERIFY_WRONG_CODE ? "wrong code"
								      : "that is not a code: 4 to 10 digits",
				 e->left, tries_word(e->left));
		break;
	case TWOFA_ROUND_KEPT:
		if (e->message == TWOFA_MSG_CHANNEL_REFUSED_RESEND && c->phone[0] == '\0')
			cli_warn("no phone number is enrolled: codes go by email only");
		else if (e->message == TWOFA_MSG_VERIFY)
			cli_warn("cannot send again by %s: %s; type the code already sent", label, e->detail);
		else if (twofa_message_text(e->message, e->arg, text, sizeof(text)))
			cli_warn("%s", text);
		break;
	case TWOFA_ROUND_NO_MORE_RESENDS:
		cli_warn("no more re-sends in this run; type the code");
		break;
	}
}

/* What a round that did not approve comes to: its one line and exit code. */
static int round_failed(const cli_round *c, const twofa_round_result *res, long max_tries)
{
	char text[256] = "";
	int code;

	if (res->outcome == TWOFA_ROUND_CANCELLED) {
		if (c->rr == CLI_READ_INTERRUPTED || cli_interrupted)
			return cli_fail(CLI_EXIT_INTERRUPTED,
					"interrupted; the pending code was canceled and nothing was changed");
		if (c->rr == CLI_READ_TOO_LONG)
			return cli_fail(EX_DATAERR, "that is not a code (too long); nothing was changed");
		return cli_fail(c->rr == CLI_READ_EOF ? EX_DATAERR : 1, "no code given%s; nothing was changed",
				c->rr == CLI_READ_EOF ? " (end of input)" : "");
	}
	if (res->outcome == TWOFA_ROUND_DENIED && res->message == TWOFA_MSG_NO_CODE)
		return cli_fail(EX_DATAERR, "no code given; nothing was changed");
	if (res->outcome == TWOFA_ROUND_DENIED &&
	    (res->message == TWOFA_MSG_WRONG_CODE || res->message == TWOFA_MSG_CODE_EXPIRED))
		return cli_fail(EX_DATAERR, "%s; %ld of %ld tries used, nothing was changed",
				res->message == TWOFA_MSG_CODE_EXPIRED ? "the code has expired" : "wrong code",
				res->tries, max_tries);
	code = cli_outcome_exit(res->verify);
	if (code == EX_OK)
		code = res->outcome == TWOFA_ROUND_ERROR ? 1 : EX_DATAERR;
	if (!twofa_message_text(res->message, res->message_arg, text, sizeof(text)))
		text[0] = '\0';
	return cli_fail(code, "%s%s(%s)", text, text[0] != '\0' ? " " : "", res->reason);
}

int cli_prove_possession(twofa_verify *v, cli_destination *d, const char *phone, long max_tries)
{
	cli_round c = {.d = d, .phone = phone, .email = d->channel == TWOFA_CHANNEL_EMAIL ? d->to : NULL};
	twofa_round_target t = {.user = "twofa-enroll",
				.enrolled = false,
				.phone = phone,
				.email = c.email,
				.channel = d->channel,
				.own_channel = d->channel};
	/* No state counted: root at the keyboard, one run at a time. */
	twofa_round_options o = {.max_tries = max_tries,
				 .allowed_channels = TWOFA_ALLOW_OWN | TWOFA_ALLOW_CHANNEL(TWOFA_CHANNEL_SMS) |
						     TWOFA_ALLOW_CHANNEL(TWOFA_CHANNEL_CALL),
				 .max_blank = CLI_MAX_BLANK_LINES,
				 .max_resends = CLI_MAX_RESENDS,
				 .strict_resends = true};
	twofa_round_io io = {.ctx = &c, .ask = cli_round_ask, .event = cli_round_event};
	twofa_round_result res;
	twofa_config cfg;

	/* The round reads the locale and send_limit (its loop bound) only. */
	memset(&cfg, 0, sizeof(cfg));
	cfg.send_limit = CLI_MAX_RESENDS;
	c.rr = CLI_READ_OK;
	if (twofa_code_round(&cfg, v, &t, &o, &io, &res) == TWOFA_ROUND_APPROVED)
		return 0;
	return round_failed(&c, &res, max_tries);
}
