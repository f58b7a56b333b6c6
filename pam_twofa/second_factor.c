/* SPDX-License-Identifier: GPL-3.0-or-later */
#include "twofa_build.h"

#include <stdio.h>
#include <string.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include <security/pam_ext.h>

#include "answer.h"
#include "conv.h"
#include "phone.h"
#include "second_factor.h"
#include "state.h"
#include "util.h"
#include "verify.h"

typedef struct code_round {
	pam_handle_t *pamh;
	const twofa_options *opts;
	bool silent;
	const twofa_member *member;
	twofa_audit *audit;
	twofa_verify *verify;
	twofa_channel channel;
	const char *to;     /* the phone number, or the email for the email channel */
	bool sent;          /* a verification is pending at Twilio */
	char notice[160];   /* said at the start of the next prompt, which PAM_SILENT keeps */
} code_round;

/* An outage (no answer, 5xx, timeout, TLS): failmode decides, and safe opens
 * only where the caller cannot have made the outage (lib: verify_outcome.c).
 * Anything else Twilio says is never an outage and never opens the door. */
static int outage(code_round *r, const twofa_verify_result *res, const char *when)
{
	const char *refusal = NULL;

	if (r->opts->cfg.failmode == TWOFA_FAILMODE_SAFE) {
		refusal = twofa_failmode_safe_refusal(getuid());
		if (refusal == NULL) {
			twofa_audit_decision(r->audit, LOG_CRIT, "success",
					     "FAILMODE=SAFE: Twilio unreachable at %s (%s); let in on the password alone",
					     when, res->log_message);
			return PAM_SUCCESS;
		}
	}
	twofa_conv_tell(r->pamh, PAM_ERROR_MSG, r->silent,
			"The verification service cannot be reached. Try again later.");
	if (refusal != NULL)
		twofa_audit_decision(r->audit, LOG_ERR, "denied",
				     "Twilio unreachable at %s, failmode=safe treated as secure: %s (%s)", when,
				     refusal, res->log_message);
	else
		twofa_audit_decision(r->audit, LOG_ERR, "denied", "Twilio unreachable at %s (%s), failmode=secure",
				     when, res->log_message);
	return PAM_AUTHINFO_UNAVAIL;
}

static void cancel_pending(code_round *r)
{
	twofa_verify_result res;

	if (!r->sent)
		return;
	/* So the next login can send a fresh code at once. */
	(void)twofa_verify_cancel(r->verify, r->to, &res);
	r->sent = false;
}

static void describe_destination(code_round *r)
{
	r->audit->channel = twofa_channel_name(r->channel);
	if (r->channel == TWOFA_CHANNEL_EMAIL) {
		/* Only the domain of an address is shown. */
		const char *at = strrchr(r->to, '@');
		snprintf(r->audit->masked, sizeof(r->audit->masked), "***@%.30s", at != NULL ? at + 1 : "?");
	} else {
		twofa_phone_mask(r->member->phone, r->audit->masked, sizeof(r->audit->masked));
	}
}

/* A refused resend is said at the start of the next prompt, which PAM_SILENT
 * keeps; the code already sent still works. A refused first send is told
 * now: no prompt follows. Returns what send_code returns for it. */
static int refuse_send(code_round *r, bool resend, const char *text, int rc)
{
	if (!resend) {
		twofa_conv_tell(r->pamh, PAM_ERROR_MSG, r->silent, text);
		return rc;
	}
	(void)twofa_strlcpy(r->notice, text, sizeof(r->notice));
	return PAM_IGNORE;
}

/* Counts the send against the member's limit, then asks Twilio. PAM_SUCCESS
 * when a code is on its way; PAM_IGNORE when a resend was refused (the old
 * code still works, and r still points at it); otherwise the result to
 * return, logged. */
static int send_code(code_round *r, twofa_channel channel, bool resend)
{
	const twofa_config *c = &r->opts->cfg;
	const char *to = channel == TWOFA_CHANNEL_EMAIL ? r->member->email : r->member->phone;
	twofa_verify_result res;
	twofa_error err;
	bool allowed = false;
	time_t retry_at = 0;
	char text[160];

	if (!twofa_channel_allowed(c->allowed_channels, r->member->channel, channel)) {
		twofa_audit_debug(r->audit, "no code by %s: not in allowed_channels", twofa_channel_name(channel));
		snprintf(text, sizeof(text), resend ? "Codes cannot be sent by %s here."
						    : "Codes cannot be sent by %s here. Contact your administrator.",
			 twofa_channel_label(channel));
		if (!resend)
			twofa_audit_decision(r->audit, LOG_NOTICE, "denied",
					     "the member's channel %s is not in allowed_channels",
					     twofa_channel_name(channel));
		return refuse_send(r, resend, text, PAM_AUTH_ERR);
	}
	if (to == NULL)
		return refuse_send(r, resend, "No email address is enrolled.", PAM_AUTH_ERR);
	if (twofa_state_reserve_send(c->state_db, r->member->user, time(NULL), c->send_limit, c->send_window,
				     &allowed, &retry_at, &err) != TWOFA_OK) {
		twofa_audit_decision(r->audit, LOG_ERR, "error", "state store: %s", err.msg);
		return PAM_SERVICE_ERR;
	}
	if (!allowed) {
		long minutes = (long)((retry_at - time(NULL) + 59) / 60);
		snprintf(text, sizeof(text), "Too many codes sent. %s in %ld minute%s.",
			 resend ? "Enter the code you have, or try again" : "Try again", minutes,
			 minutes == 1 ? "" : "s");
		if (!resend)
			twofa_audit_decision(r->audit, LOG_NOTICE, "denied", "send limit reached (%ld per %ld s)",
					     c->send_limit, c->send_window);
		return refuse_send(r, resend, text, PAM_MAXTRIES);
	}
	if (!resend) {
		/* The decision lines of a failed first send name where it went. */
		r->channel = channel;
		r->to = to;
		describe_destination(r);
	}
	switch (twofa_verify_start(r->verify, to, channel, c->locale, &res)) {
	case TWOFA_VERIFY_SENT:
		/* Only now: a refused resend leaves the code already sent in use. */
		r->channel = channel;
		r->to = to;
		describe_destination(r);
		r->sent = true;
		twofa_audit_debug(r->audit, "code sent by %s to %s", twofa_channel_name(channel), r->audit->masked);
		return PAM_SUCCESS;
	case TWOFA_VERIFY_OUTAGE:
		if (resend) {
			/* The code already sent may still arrive: keep asking. */
			twofa_audit_debug(r->audit, "resend failed: %s", res.log_message);
			return refuse_send(r, resend, "A new code cannot be sent now. Enter the code you have.",
					   PAM_IGNORE);
		}
		return outage(r, &res, "send");
	case TWOFA_VERIFY_TOO_MANY_SENDS:
	case TWOFA_VERIFY_RATE_LIMITED:
		if (!resend)
			twofa_audit_decision(r->audit, LOG_NOTICE, "denied", "send refused: %s", res.log_message);
		return refuse_send(r, resend, res.user_message, PAM_MAXTRIES);
	case TWOFA_VERIFY_BAD_CREDENTIALS:
	case TWOFA_VERIFY_SERVICE_NOT_FOUND:
		twofa_conv_tell(r->pamh, PAM_ERROR_MSG, r->silent,
				"The second factor is misconfigured. Contact your administrator.");
		twofa_audit_decision(r->audit, LOG_ERR, "error", "send refused: %s", res.log_message);
		return PAM_SERVICE_ERR;
	default:
		if (!resend)
			twofa_audit_decision(r->audit, LOG_NOTICE, "denied", "send refused: %s", res.log_message);
		return refuse_send(r, resend, res.user_message, PAM_AUTH_ERR);
	}
}

static twofa_state_login state_login(const code_round *r)
{
	const twofa_config *c = &r->opts->cfg;
	twofa_state_login s = {.user = r->member->user, .enrolled = true, .origin = &r->audit->origin,
			       .lockout_failures = c->lockout_failures, .lockout_seconds = c->lockout_seconds};

	return s;
}

/* An approved code succeeds unless a lockout began while this login was
 * under way (parallel guesses from the same source): checked in the same
 * update that records the success. */
static int record_success(code_round *r)
{
	const twofa_config *c = &r->opts->cfg;
	twofa_state_login s = state_login(r);
	bool locked = true;
	twofa_error err;

	r->sent = false; /* approved: nothing left pending */
	if (twofa_state_record_success(c->state_db, &s, time(NULL), r->audit->service, c->grace_period, &locked,
				       &err) != TWOFA_OK) {
		twofa_audit_decision(r->audit, LOG_ERR, "error", "state store at success: %s", err.msg);
		return PAM_SERVICE_ERR;
	}
	if (locked) {
		twofa_conv_tell(r->pamh, PAM_ERROR_MSG, r->silent, "Too many failed attempts. Try again later.");
		twofa_audit_decision(r->audit, LOG_NOTICE, "denied", "code approved, but locked out meanwhile");
		return PAM_MAXTRIES;
	}
	twofa_audit_decision(r->audit, LOG_INFO, "success", "code approved");
	return PAM_SUCCESS;
}

/* A wrong code counts as a failure; true if it locked the member out. */
static bool count_wrong_code(code_round *r)
{
	const twofa_config *c = &r->opts->cfg;
	twofa_state_login s = state_login(r);
	time_t locked_until = 0;
	twofa_error err;

	if (twofa_state_record_failure(c->state_db, &s, time(NULL), 0, NULL, &locked_until, &err) != TWOFA_OK) {
		pam_syslog(r->pamh, LOG_ERR, "could not count a failure for %s: %s", r->audit->user, err.msg);
		return true; /* cannot count: stop rather than allow unlimited guesses */
	}
	return locked_until != 0;
}

/* Why the next prompt asks again: the try that failed. */
typedef enum retry_reason { RETRY_NONE = 0, RETRY_WRONG, RETRY_EMPTY, RETRY_EXPIRED } retry_reason;

static const char *const retry_said[] = {
	NULL, "Wrong code.", "No code entered.", "The code has expired or was used.",
};
static const char *const retry_asked[] = {
	NULL, "Enter the code again", "Enter the code", "Type 'resend' for a new one",
};

/* " (or 'call' for a voice call, 'email' for email)": the channels other than
 * the current one that allowed_channels lets this member ask for, or "". */
static void offer_channels(const code_round *r, char *out, size_t size)
{
	static const char *const offers[] = {
		"'sms' for SMS", "'call' for a voice call", "'whatsapp' for WhatsApp", "'email' for email",
	};
	unsigned allowed = r->opts->cfg.allowed_channels;
	size_t used = 0;

	out[0] = '\0';
	for (int i = TWOFA_CHANNEL_SMS; i <= TWOFA_CHANNEL_EMAIL; i++) {
		twofa_channel ch = (twofa_channel)i;
		if (ch == r->channel || !twofa_channel_allowed(allowed, r->member->channel, ch) ||
		    (ch == TWOFA_CHANNEL_EMAIL && r->member->email == NULL))
			continue;
		used += (size_t)snprintf(out + used, size - used, "%s%s", used == 0 ? " (or " : ", ", offers[i]);
		if (used >= size) {
			out[0] = '\0'; /* cannot happen with the sizes used; say nothing rather than half */
			return;
		}
	}
	if (used > 0 && used + 1 < size)
		(void)strcat(out, ")");
}

/* The code prompt: the configured one while no try failed, then one that
 * says what went wrong and how many tries are left, since PAM_SILENT (sudo)
 * drops error messages and the same "Code sent..." text reads as a new code.
 * A pending notice comes first and is said once. */
static void build_prompt(code_round *r, retry_reason retry, long left, char *out, size_t size)
{
	char offers[160], base[TWOFA_PROMPT_MAX + 192];

	if (retry == RETRY_NONE) {
		offer_channels(r, offers, sizeof(offers));
		if (!twofa_prompt_expand(r->opts->code_prompt, twofa_channel_label(r->channel), r->audit->masked,
					 offers, base, sizeof(base)))
			(void)twofa_strlcpy(base, "Enter the code: ", sizeof(base));
	} else {
		snprintf(base, sizeof(base), "%s %s (%ld %s left): ", retry_said[retry], retry_asked[retry], left,
			 left == 1 ? "try" : "tries");
	}
	snprintf(out, size, "%s%s%s", r->notice, r->notice[0] != '\0' ? " " : "", base);
	r->notice[0] = '\0';
}

static int ask_for_code(code_round *r)
{
	const twofa_config *c = &r->opts->cfg;
	long tries = 0, rounds = 0;
	/* Bound the loop: every answer is a try or a (limited) resend. */
	long max_rounds = c->max_tries + c->send_limit + 1;
	char prompt[TWOFA_PROMPT_MAX + 512];
	retry_reason retry = RETRY_NONE;
	twofa_verify_result res;

	while (tries < c->max_tries && rounds++ < max_rounds) {
		char *answer = NULL, *code = NULL;
		twofa_channel channel;
		twofa_answer_kind kind;
		int rc;

		build_prompt(r, retry, c->max_tries - tries, prompt, sizeof(prompt));
		rc = twofa_conv_ask(r->pamh, PAM_PROMPT_ECHO_ON, prompt, &answer);
		if (rc != PAM_SUCCESS) {
			cancel_pending(r);
			twofa_audit_decision(r->audit, LOG_NOTICE, "denied", "%s at the code prompt",
					     rc == PAM_CONV_ERR ? "conversation failed or was cancelled" : "answer too long");
			return rc;
		}
		kind = twofa_answer_parse(answer, r->channel, &channel, &code);
		if (kind == TWOFA_ANSWER_EMPTY) {
			tries++;
			retry = RETRY_EMPTY;
		} else if (kind == TWOFA_ANSWER_RESEND) {
			twofa_free_secret(answer);
			rc = send_code(r, channel, true);
			if (rc != PAM_SUCCESS && rc != PAM_IGNORE) {
				cancel_pending(r);
				return rc;
			}
			if (rc == PAM_SUCCESS)
				retry = RETRY_NONE; /* a new code: the prompt says where it went */
			continue;
		} else {
			twofa_verify_outcome o = twofa_verify_check(r->verify, r->to, code, &res);
			twofa_free_secret(answer);
			answer = NULL;
			switch (o) {
			case TWOFA_VERIFY_APPROVED:
				return record_success(r);
			case TWOFA_VERIFY_OUTAGE:
				/* No cancel: it would wait on the same dead server a
				 * second time; the verification expires by itself. */
				return outage(r, &res, "check");
			case TWOFA_VERIFY_WRONG_CODE:
			case TWOFA_VERIFY_INVALID_CODE:
				tries++;
				if (count_wrong_code(r)) {
					cancel_pending(r);
					twofa_conv_tell(r->pamh, PAM_ERROR_MSG, r->silent,
							"Too many failed attempts. Try again later.");
					twofa_audit_decision(r->audit, LOG_NOTICE, "denied",
							     "wrong code; locked out after too many failures");
					return PAM_MAXTRIES;
				}
				retry = RETRY_WRONG;
				break;
			case TWOFA_VERIFY_EXPIRED:
				tries++;
				r->sent = false;
				retry = RETRY_EXPIRED;
				break;
			case TWOFA_VERIFY_TOO_MANY_CHECKS:
				cancel_pending(r);
				twofa_conv_tell(r->pamh, PAM_ERROR_MSG, r->silent, res.user_message);
				twofa_audit_decision(r->audit, LOG_NOTICE, "denied", "%s", res.log_message);
				return PAM_MAXTRIES;
			default:
				cancel_pending(r);
				twofa_conv_tell(r->pamh, PAM_ERROR_MSG, r->silent, res.user_message);
				twofa_audit_decision(r->audit, LOG_NOTICE, "denied", "check refused: %s", res.log_message);
				return PAM_AUTH_ERR;
			}
		}
		twofa_free_secret(answer);
	}
	/* The last try's outcome has no prompt left to carry it. */
	if (retry != RETRY_NONE)
		twofa_conv_tell(r->pamh, PAM_ERROR_MSG, r->silent, retry_said[retry]);
	cancel_pending(r);
	twofa_audit_decision(r->audit, LOG_NOTICE, "denied", "wrong code %ld times (max_tries)", tries);
	return PAM_MAXTRIES;
}

int twofa_second_factor(pam_handle_t *pamh, const twofa_options *opts, bool silent,
			const twofa_member *member, twofa_audit *audit)
{
	code_round r = {.pamh = pamh, .opts = opts, .silent = silent, .member = member, .audit = audit,
			.channel = member->channel};
	twofa_error err;
	int rc;

	if (twofa_verify_new(&r.verify, &opts->cfg, &err) != TWOFA_OK) {
		twofa_audit_decision(audit, LOG_ERR, "error", "Twilio client: %s", err.msg);
		return PAM_SERVICE_ERR;
	}
	rc = send_code(&r, member->channel, false);
	if (rc == PAM_SUCCESS && r.sent)
		rc = ask_for_code(&r);
	twofa_verify_free(r.verify);
	return rc;
}
