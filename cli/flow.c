/* SPDX-License-Identifier: GPL-3.0-or-later */
/* The code flow that add, phone and test share: confirm a number with
 * Lookup, send a code, read it back (with re-sends by another channel),
 * cancel what is pending when the run fails or is interrupted. */
#include "twofa_build.h"

#include <string.h>
#include <strings.h>

#include <sodium.h>

#include "cli.h"
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

static void cancel_pending(twofa_verify *v, const cli_destination *d)
{
	twofa_verify_result r;

	memset(&r, 0, sizeof(r));
	(void)twofa_verify_cancel(v, d->to, &r);
}

/* Sends a code; 0 or an exit code. TOO_MANY_SENDS on a re-send is only a
 * warning (the code sent before is still good): *soft tells the caller. */
static int send_code(twofa_verify *v, const cli_destination *d, bool resend, bool *soft)
{
	const char *label = twofa_channel_label(d->channel);
	twofa_verify_result r;
	twofa_verify_outcome o;

	*soft = false;
	memset(&r, 0, sizeof(r));
	/* send policy: limits' twofa_send_admit goes here (the CLI's own round, until it
	 * runs on lib/code_round, whose send_code has the same mark) */
	cli_tty_print("Sending code by %s to %s ... ", label, d->shown);
	o = twofa_verify_start(v, d->to, d->channel, NULL, &r);
	cli_tty_print("%s\n", o == TWOFA_VERIFY_SENT ? "sent" : "failed");
	if (o == TWOFA_VERIFY_SENT) {
		if (!cli_interactive())
			cli_note("code sent by %s to %s", label, d->shown);
		return 0;
	}
	if (resend && (o == TWOFA_VERIFY_TOO_MANY_SENDS || o == TWOFA_VERIFY_CHANNEL_DISABLED ||
		       o == TWOFA_VERIFY_LANDLINE)) {
		*soft = true;
		cli_warn("cannot send again by %s: %s; type the code already sent", label, r.user_message);
		return 0;
	}
	return outcome_fail("cannot send the code", &r);
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

/* "call", "sms", "resend" -> the channel to send by; false for anything else. */
static bool resend_command(const char *answer, twofa_channel current, twofa_channel *out)
{
	if (strcasecmp(answer, "resend") == 0) {
		*out = current;
		return true;
	}
	if (strcasecmp(answer, "call") == 0) {
		*out = TWOFA_CHANNEL_CALL;
		return true;
	}
	if (strcasecmp(answer, "sms") == 0) {
		*out = TWOFA_CHANNEL_SMS;
		return true;
	}
	return false;
}

static int interrupted(twofa_verify *v, const cli_destination *d)
{
	cancel_pending(v, d);
	return cli_fail(CLI_EXIT_INTERRUPTED,
			"interrupted; the pending code was canceled and nothing was changed");
}

int cli_prove_possession(twofa_verify *v, cli_destination *d, const char *phone, long max_tries)
{
	char line[CLI_CODE_LINE_MAX];
	long tries = 0, resends = 0, blanks = 0;
	bool soft;
	int rc;

	if ((rc = send_code(v, d, false, &soft)) != 0)
		return rc;
	if (cli_interrupted)
		return interrupted(v, d);
	for (;;) {
		twofa_verify_result r;
		twofa_verify_outcome o;
		twofa_channel ch;
		char *answer;
		cli_read_result rr = cli_read_line("Code (or call / sms / resend): ", false, line,
						   sizeof(line));

		if (rr == CLI_READ_INTERRUPTED || cli_interrupted)
			return interrupted(v, d);
		if (rr != CLI_READ_OK) {
			cancel_pending(v, d);
			if (rr == CLI_READ_TOO_LONG)
				return cli_fail(EX_DATAERR,
						"that is not a code (too long); nothing was changed");
			return cli_fail(rr == CLI_READ_EOF ? EX_DATAERR : 1,
					"no code given%s; nothing was changed",
					rr == CLI_READ_EOF ? " (end of input)" : "");
		}
		answer = cli_trim(line);
		if (answer[0] == '\0') {
			if (++blanks > CLI_MAX_BLANK_LINES) {
				cancel_pending(v, d);
				return cli_fail(EX_DATAERR, "no code given; nothing was changed");
			}
			continue;
		}
		if (resend_command(answer, d->channel, &ch)) {
			if (++resends > CLI_MAX_RESENDS) {
				cli_warn("no more re-sends in this run; type the code");
				continue;
			}
			/* call / sms go to the phone even when the first code went by email. */
			if (ch != d->channel && phone[0] == '\0') {
				cli_warn("no phone number is enrolled: codes go by email only");
				continue;
			}
			if (ch != d->channel)
				cli_destination_set(d, phone, NULL, ch);
			if ((rc = send_code(v, d, true, &soft)) != 0) {
				cancel_pending(v, d);
				return rc;
			}
			if (cli_interrupted)
				return interrupted(v, d);
			continue;
		}
		if (twofa_has_control(answer, strlen(answer))) {
			sodium_memzero(line, sizeof(line));
			o = TWOFA_VERIFY_INVALID_CODE;
			memset(&r, 0, sizeof(r));
		} else {
			memset(&r, 0, sizeof(r));
			o = twofa_verify_check(v, d->to, answer, &r);
			sodium_memzero(line, sizeof(line));
		}
		if (cli_interrupted && o != TWOFA_VERIFY_APPROVED)
			return interrupted(v, d);
		switch (o) {
		case TWOFA_VERIFY_APPROVED:
			return 0;
		case TWOFA_VERIFY_WRONG_CODE:
		case TWOFA_VERIFY_INVALID_CODE:
		case TWOFA_VERIFY_EXPIRED:
			if (++tries >= max_tries) {
				cancel_pending(v, d);
				return cli_fail(EX_DATAERR, "%s; %ld of %ld tries used, nothing was changed",
						o == TWOFA_VERIFY_EXPIRED ? "the code has expired"
									  : "wrong code",
						tries, max_tries);
			}
			if (o == TWOFA_VERIFY_EXPIRED)
				cli_warn("the code has expired; type 'resend' for a new one (%ld %s left)",
					 max_tries - tries, max_tries - tries == 1 ? "try" : "tries");
			else
				cli_warn("%s (%ld %s left)",
					 o == TWOFA_VERIFY_WRONG_CODE ? "wrong code"
								      : "that is not a code: 4 to 10 digits",
					 max_tries - tries, max_tries - tries == 1 ? "try" : "tries");
			break;
		default:
			cancel_pending(v, d);
			return outcome_fail("cannot check the code", &r);
		}
	}
}
