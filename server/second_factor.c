/* SPDX-License-Identifier: GPL-3.0-or-later */
#include "twofa_build.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include <sodium.h>

#include "answer.h"
#include "host.h"
#include "decision.h"
#include "locker.h"
#include "phone.h"
#include "recovery.h"
#include "second_factor.h"
#include "state.h"
#include "util.h"
#include "verify.h"

/* What the code prompt asks for: the Verify code sent; a recovery or bypass
 * code after the answer 'recovery'; or one because Twilio cannot be reached
 * (failmode=secure, and the member holds a code). */
typedef enum round_mode { MODE_VERIFY = 0, MODE_RECOVERY, MODE_OUTAGE } round_mode;

typedef struct code_round {
	twofa_host *host;
	const twofa_options *opts;
	twofa_member_store *members; /* where a recovery or bypass code is consumed */
	const twofa_member *member;
	bool silent;     /* PAM_SILENT: the final text is dropped, prompts are not */
	bool may_prompt; /* the round asks at a prompt (not code_from_answer) */
	round_mode mode;
	twofa_audit *audit;
	twofa_decision *d;
	twofa_verify *verify;
	twofa_channel channel;
	const char *to;                     /* the phone number, or the email for the email channel */
	bool sent;                          /* a verification is pending at Twilio */
	const char *channel_name;           /* where the code went, for the decision line; NULL before */
	char masked[TWOFA_DECISION_TO_MAX]; /* the masked destination, "" before */
	char notice[160];                   /* said at the start of the next prompt, which PAM_SILENT keeps */
} code_round;

/* What a send came to: a code is on its way; a resend was refused and the
 * code already sent still works (the refusal is the next prompt's notice);
 * or the round is over and r->d says how. */
/* Or no code can be sent (Twilio unreachable, a send limit) and the round
 * asks for a recovery code instead. */
typedef enum send_result { SEND_SENT = 0, SEND_KEPT, SEND_DECIDED, SEND_RECOVERY } send_result;

/* The round's decision, with where the code went once that is known. */
static void decide(code_round *r, int pam_code, twofa_result result, int priority, twofa_message message,
		   long arg, const char *reason_fmt, ...) __attribute__((format(printf, 7, 8)));
static void decide(code_round *r, int pam_code, twofa_result result, int priority, twofa_message message,
		   long arg, const char *reason_fmt, ...)
{
	va_list ap;

	va_start(ap, reason_fmt);
	twofa_decide_va(r->d, pam_code, result, priority, message, reason_fmt, ap);
	va_end(ap);
	r->d->message_arg = arg;
	if (r->channel_name != NULL)
		twofa_decision_set_destination(r->d, r->channel_name, r->masked);
}

/* Whether this round may take a recovery or bypass code: recovery = yes and
 * the member holds one that can let in now. */
static bool recovery_possible(const code_round *r)
{
	return r->opts->cfg.recovery && twofa_recovery_available(r->member, time(NULL));
}

/* An outage (no answer, 5xx, timeout, TLS): failmode decides. Anything else
 * Twilio says is never an outage and never opens the door. The exchange runs
 * in the server, which the caller can neither stop nor starve, so the caller
 * cannot make an outage; a sandbox without a network is a local error
 * (lib/netif.c), not one. Under failmode=secure a member who holds a
 * recovery or bypass code is asked for one at the prompt instead (true:
 * the round goes on in MODE_OUTAGE, nothing decided). */
static bool outage(code_round *r, const twofa_verify_result *res, const char *when)
{
	if (r->opts->cfg.failmode == TWOFA_FAILMODE_SAFE) {
		decide(r, PAM_SUCCESS, TWOFA_RESULT_SUCCESS, LOG_CRIT, TWOFA_MSG_NONE, 0,
		       "FAILMODE=SAFE: Twilio unreachable at %s (%s); let in on the password alone", when,
		       res->log_message);
		return false;
	}
	if (r->may_prompt && recovery_possible(r)) {
		/* No cancel: it would wait on the dead server once more. */
		r->sent = false;
		r->mode = MODE_OUTAGE;
		twofa_host_syslog(r->host, LOG_ERR,
				  "Twilio unreachable at %s (%s), failmode=secure: asking %s for a recovery code",
				  when, res->log_message, r->audit->user);
		return true;
	}
	decide(r, PAM_AUTHINFO_UNAVAIL, TWOFA_RESULT_DENIED, LOG_ERR, TWOFA_MSG_UNREACHABLE, 0,
	       "Twilio unreachable at %s (%s), failmode=secure", when, res->log_message);
	return false;
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
	r->channel_name = twofa_channel_name(r->channel);
	if (r->channel == TWOFA_CHANNEL_EMAIL) {
		/* Only the domain of an address is shown. */
		const char *at = strrchr(r->to, '@');
		snprintf(r->masked, sizeof(r->masked), "***@%.30s", at != NULL ? at + 1 : "?");
	} else {
		twofa_phone_mask(r->member->phone, r->masked, sizeof(r->masked));
	}
}

/* A refused resend is said at the start of the next prompt, which PAM_SILENT
 * keeps; the code already sent still works. */
static send_result keep_asking(code_round *r, twofa_message message, long arg)
{
	if (!twofa_message_text(message, arg, r->notice, sizeof(r->notice)))
		r->notice[0] = '\0';
	return SEND_KEPT;
}

/* No code can be sent now (a send limit, here or at Twilio), but the member
 * holds a recovery or bypass code: the round asks for one, after the notice
 * that says why no code came. */
static send_result ask_instead(code_round *r, twofa_message why, long arg)
{
	(void)keep_asking(r, why, arg);
	r->mode = MODE_RECOVERY;
	twofa_audit_debug(r->audit, "no code can be sent: asking for a recovery code");
	return SEND_RECOVERY;
}

/* Minutes until retry_at, as a message argument. */
static long minutes_until(time_t retry_at)
{
	long long minutes = ((long long)retry_at - (long long)time(NULL) + 59) / 60;

	return minutes < 0 ? 0 : (minutes > TWOFA_MESSAGE_ARG_MAX ? TWOFA_MESSAGE_ARG_MAX : (long)minutes);
}

/* Where a code by channel goes: the email address or the phone number; NULL
 * when the member has none. */
static const char *destination(const twofa_member *m, twofa_channel channel)
{
	if (channel == TWOFA_CHANNEL_EMAIL)
		return m->email;
	return m->phone[0] != '\0' ? m->phone : NULL;
}

/* Counts the send against the member's limit, then asks Twilio. A refused
 * first send ends the round (no prompt follows); a refused resend keeps it. */
static send_result send_code(code_round *r, twofa_channel channel, bool resend)
{
	const twofa_config *c = &r->opts->cfg;
	const char *to = destination(r->member, channel);
	twofa_verify_result res;
	twofa_verify_outcome o;
	twofa_error err;
	bool allowed = false;
	time_t retry_at = 0;

	if (!twofa_channel_allowed(c->allowed_channels, r->member->channel, channel)) {
		twofa_audit_debug(r->audit, "no code by %s: not in allowed_channels",
				  twofa_channel_name(channel));
		if (resend)
			return keep_asking(r, TWOFA_MSG_CHANNEL_REFUSED_RESEND, (long)channel);
		decide(r, PAM_AUTH_ERR, TWOFA_RESULT_DENIED, LOG_NOTICE, TWOFA_MSG_CHANNEL_REFUSED,
		       (long)channel, "the member's channel %s is not in allowed_channels",
		       twofa_channel_name(channel));
		return SEND_DECIDED;
	}
	if (to == NULL && channel != TWOFA_CHANNEL_EMAIL) {
		/* An app member: codes go by email only. */
		if (resend)
			return keep_asking(r, TWOFA_MSG_CHANNEL_REFUSED_RESEND, (long)channel);
		decide(r, PAM_AUTH_ERR, TWOFA_RESULT_DENIED, LOG_NOTICE, TWOFA_MSG_CHANNEL_REFUSED,
		       (long)channel, "no phone number is enrolled for a code by %s",
		       twofa_channel_name(channel));
		return SEND_DECIDED;
	}
	if (to == NULL) {
		if (resend)
			return keep_asking(r, TWOFA_MSG_NO_EMAIL, 0);
		decide(r, PAM_AUTH_ERR, TWOFA_RESULT_DENIED, LOG_NOTICE, TWOFA_MSG_NO_EMAIL, 0,
		       "no email address is enrolled");
		return SEND_DECIDED;
	}
	/* send policy: limits' twofa_send_admit goes here (the login's own round, until it
	 * runs on lib/code_round, whose send_code has the same mark) */
	if (twofa_state_reserve_send(c->state_db, r->member->user, time(NULL), c->send_limit, c->send_window,
				     &allowed, &retry_at, &err) != TWOFA_OK) {
		decide(r, PAM_SERVICE_ERR, TWOFA_RESULT_ERROR, LOG_ERR, TWOFA_MSG_NONE, 0, "state store: %s",
		       err.msg);
		return SEND_DECIDED;
	}
	if (!allowed) {
		if (resend)
			return keep_asking(r, TWOFA_MSG_SEND_LIMIT_RESEND, minutes_until(retry_at));
		if (r->may_prompt && recovery_possible(r))
			return ask_instead(r, TWOFA_MSG_SEND_LIMIT, minutes_until(retry_at));
		decide(r, PAM_MAXTRIES, TWOFA_RESULT_DENIED, LOG_NOTICE, TWOFA_MSG_SEND_LIMIT,
		       minutes_until(retry_at), "send limit reached (%ld per %ld s)", c->send_limit,
		       c->send_window);
		return SEND_DECIDED;
	}
	if (!resend) {
		/* The decision lines of a failed first send name where it went. */
		r->channel = channel;
		r->to = to;
		describe_destination(r);
	}
	/* With rate_limit set, Twilio also counts the send for every host. */
	o = twofa_verify_start_keyed(r->verify, to, channel, c->locale, r->member->rate_limit_id, &res);
	switch (o) {
	case TWOFA_VERIFY_SENT:
		/* Only now: a refused resend leaves the code already sent in use. */
		r->channel = channel;
		r->to = to;
		describe_destination(r);
		r->sent = true;
		twofa_audit_debug(r->audit, "code sent by %s to %s", twofa_channel_name(channel), r->masked);
		return SEND_SENT;
	case TWOFA_VERIFY_OUTAGE:
		if (resend) {
			/* The code already sent may still arrive: keep asking. */
			twofa_audit_debug(r->audit, "resend failed: %s", res.log_message);
			return keep_asking(r, TWOFA_MSG_RESEND_FAILED, 0);
		}
		return outage(r, &res, "send") ? SEND_RECOVERY : SEND_DECIDED;
	case TWOFA_VERIFY_BAD_CREDENTIALS:
	case TWOFA_VERIFY_SERVICE_NOT_FOUND:
		decide(r, PAM_SERVICE_ERR, TWOFA_RESULT_ERROR, LOG_ERR, TWOFA_MSG_MISCONFIGURED, 0,
		       "send refused: %s", res.log_message);
		return SEND_DECIDED;
	default:
		if (resend)
			return keep_asking(r, TWOFA_MSG_VERIFY, (long)o);
		if ((o == TWOFA_VERIFY_TOO_MANY_SENDS || o == TWOFA_VERIFY_RATE_LIMITED) && r->may_prompt &&
		    recovery_possible(r))
			return ask_instead(r, TWOFA_MSG_VERIFY, (long)o);
		decide(r,
		       o == TWOFA_VERIFY_TOO_MANY_SENDS || o == TWOFA_VERIFY_RATE_LIMITED ? PAM_MAXTRIES
											  : PAM_AUTH_ERR,
		       TWOFA_RESULT_DENIED, LOG_NOTICE, TWOFA_MSG_VERIFY, (long)o, "send refused: %s",
		       res.log_message);
		return SEND_DECIDED;
	}
}

static twofa_state_login state_login(const code_round *r)
{
	const twofa_config *c = &r->opts->cfg;
	twofa_state_login s = {.user = r->member->user,
			       .enrolled = true,
			       .origin = &r->audit->origin,
			       .lockout_failures = c->lockout_failures,
			       .lockout_seconds = c->lockout_seconds};

	return s;
}

/* An approved code succeeds unless a lockout began while this login was
 * under way (parallel guesses from the same source): checked in the same
 * update that records the success. */
static void record_success(code_round *r)
{
	const twofa_config *c = &r->opts->cfg;
	twofa_state_login s = state_login(r);
	bool locked = true;
	twofa_error err;

	r->sent = false; /* approved: nothing left pending */
	if (twofa_state_record_success(c->state_db, &s, time(NULL), r->audit->service, c->grace_period,
				       &locked, &err) != TWOFA_OK)
		decide(r, PAM_SERVICE_ERR, TWOFA_RESULT_ERROR, LOG_ERR, TWOFA_MSG_NONE, 0,
		       "state store at success: %s", err.msg);
	else if (locked)
		decide(r, PAM_MAXTRIES, TWOFA_RESULT_DENIED, LOG_NOTICE, TWOFA_MSG_LOCKED, 0,
		       "code approved, but locked out meanwhile");
	else
		decide(r, PAM_SUCCESS, TWOFA_RESULT_SUCCESS, LOG_INFO, TWOFA_MSG_NONE, 0, "code approved");
}

/* A wrong code counts as a failure; true if it locked the member out. */
static bool count_wrong_code(code_round *r)
{
	const twofa_config *c = &r->opts->cfg;
	twofa_state_login s = state_login(r);
	time_t locked_until = 0;
	twofa_error err;

	if (twofa_state_record_failure(c->state_db, &s, time(NULL), 0, NULL, &locked_until, &err) != TWOFA_OK) {
		twofa_host_syslog(r->host, LOG_ERR, "could not count a failure for %s: %s", r->audit->user,
				  err.msg);
		return true; /* cannot count: stop rather than allow unlimited guesses */
	}
	return locked_until != 0;
}

/* Why the next prompt asks again: the try that failed; the prompt that says
 * so, and the text that says it when no prompt is left. */
typedef enum retry_reason { RETRY_NONE = 0, RETRY_WRONG, RETRY_EMPTY, RETRY_EXPIRED } retry_reason;

static const twofa_message retry_prompt[] = {
	TWOFA_MSG_NONE,
	TWOFA_MSG_RETRY_WRONG,
	TWOFA_MSG_RETRY_EMPTY,
	TWOFA_MSG_RETRY_EXPIRED,
};
static const twofa_message retry_said[] = {
	TWOFA_MSG_NONE,
	TWOFA_MSG_WRONG_CODE,
	TWOFA_MSG_NO_CODE,
	TWOFA_MSG_CODE_EXPIRED,
};

/* The channels other than the current one this member may ask for. */
static void offer_channels(const code_round *r, char *out, size_t size)
{
	twofa_round_offers(r->opts->cfg.allowed_channels, r->member->channel, r->channel, r->member->phone,
			   r->member->email, out, size);
}

/* The code prompt: the configured one while no try failed, then one that
 * says what went wrong and how many tries are left, since PAM_SILENT (sudo)
 * drops error messages and the same "Code sent..." text reads as a new code.
 * A pending notice comes first and is said once. */
static void build_prompt(code_round *r, retry_reason retry, long left, char *out, size_t size)
{
	char offers[160], base[TWOFA_PROMPT_MAX + 192];

	if (r->mode != MODE_VERIFY) {
		twofa_message m = retry == RETRY_WRONG     ? TWOFA_MSG_RECOVERY_RETRY_WRONG
				  : retry == RETRY_EMPTY   ? TWOFA_MSG_RECOVERY_RETRY_EMPTY
				  : r->mode == MODE_OUTAGE ? TWOFA_MSG_RECOVERY_OUTAGE
							   : TWOFA_MSG_RECOVERY_PROMPT;
		if (!twofa_message_text(m, left, base, sizeof(base)))
			(void)twofa_strlcpy(base, "Recovery code: ", sizeof(base));
	} else if (retry == RETRY_NONE) {
		offer_channels(r, offers, sizeof(offers));
		if (!twofa_prompt_expand(r->opts->code_prompt, twofa_channel_label(r->channel), r->masked,
					 offers, base, sizeof(base)))
			(void)twofa_strlcpy(base, "Enter the code: ", sizeof(base));
	} else if (!twofa_message_text(retry_prompt[retry], left, base, sizeof(base))) {
		(void)twofa_strlcpy(base, "Enter the code: ", sizeof(base));
	}
	snprintf(out, size, "%s%s%s", r->notice, r->notice[0] != '\0' ? " " : "", base);
	r->notice[0] = '\0';
}

/* The outcomes of a check that end the round, whatever asked for the code:
 * true when r->d is decided; false for a wrong, invalid or expired code. */
static bool check_ended(code_round *r, twofa_verify_outcome o, const twofa_verify_result *res)
{
	switch (o) {
	case TWOFA_VERIFY_APPROVED:
		record_success(r);
		return true;
	case TWOFA_VERIFY_OUTAGE:
		/* No cancel: it would wait on the same dead server a second
		 * time; the verification expires by itself. */
		return !outage(r, res, "check");
	case TWOFA_VERIFY_WRONG_CODE:
	case TWOFA_VERIFY_INVALID_CODE:
	case TWOFA_VERIFY_EXPIRED:
		return false;
	case TWOFA_VERIFY_TOO_MANY_CHECKS:
		cancel_pending(r);
		decide(r, PAM_MAXTRIES, TWOFA_RESULT_DENIED, LOG_NOTICE, TWOFA_MSG_VERIFY, (long)o, "%s",
		       res->log_message);
		return true;
	default:
		cancel_pending(r);
		decide(r, PAM_AUTH_ERR, TWOFA_RESULT_DENIED, LOG_NOTICE, TWOFA_MSG_VERIFY, (long)o,
		       "check refused: %s", res->log_message);
		return true;
	}
}

/* The program answered the code prompt with the password (or did so lately
 * and is remembered): it cannot ask for a code. Its user is no guesser, so
 * no failure is counted; the code sent, if any, is cancelled. */
static void single_answer(code_round *r, bool detected)
{
	cancel_pending(r);
	if (detected)
		twofa_locker_remember(r->host, r->opts, r->member, r->audit);
	decide(r, PAM_AUTH_ERR, TWOFA_RESULT_DENIED, LOG_NOTICE, TWOFA_MSG_SINGLE_ANSWER, 0, "%s%s",
	       TWOFA_LOCKER_REASON, detected ? "" : "; remembered from an earlier login, nothing sent");
}

/* A text the final message would carry, which PAM_SILENT drops: said in a
 * prompt that only waits instead. Its answer means nothing and is wiped; a
 * failed conversation there changes nothing (the code is used already). */
static void tell_in_prompt(code_round *r, twofa_message message, long arg)
{
	char text[320], wait[64], prompt[400];
	char *answer = NULL;

	if (!twofa_message_text(message, arg, text, sizeof(text)) ||
	    !twofa_message_text(TWOFA_MSG_PRESS_ENTER, 0, wait, sizeof(wait)))
		return;
	snprintf(prompt, sizeof(prompt), "%s %s", text, wait);
	if (twofa_host_ask(r->host, PAM_PROMPT_ECHO_ON, prompt, &answer) == PAM_SUCCESS)
		twofa_free_secret(answer);
}

/* A consumed recovery or bypass code: a full success, unless a lockout began
 * meanwhile, logged at LOG_NOTICE with what is left (never the code). With
 * two or fewer recovery codes left the member is asked to get a new set. */
static void recovery_success(code_round *r, const twofa_recovery_use *use)
{
	const twofa_config *c = &r->opts->cfg;
	twofa_state_login s = state_login(r);
	const char *why = r->mode == MODE_OUTAGE ? " (Twilio unreachable)" : "";
	bool low = use->kind == TWOFA_MEMBER_CODE_RECOVERY && use->left <= 2;
	bool locked = true;
	twofa_error err;

	if (twofa_state_record_success(c->state_db, &s, time(NULL), r->audit->service, c->grace_period,
				       &locked, &err) != TWOFA_OK) {
		twofa_decide(r->d, PAM_SERVICE_ERR, TWOFA_RESULT_ERROR, LOG_ERR, TWOFA_MSG_NONE,
			     "state store at success: %s", err.msg);
		return;
	}
	if (locked) {
		twofa_decide(r->d, PAM_MAXTRIES, TWOFA_RESULT_DENIED, LOG_NOTICE, TWOFA_MSG_LOCKED,
			     "%s code used, but locked out meanwhile",
			     use->kind == TWOFA_MEMBER_CODE_RECOVERY ? "recovery" : "bypass");
		return;
	}
	if (use->kind == TWOFA_MEMBER_CODE_RECOVERY)
		twofa_decide(r->d, PAM_SUCCESS, TWOFA_RESULT_SUCCESS, LOG_NOTICE,
			     low ? TWOFA_MSG_RECOVERY_LOW : TWOFA_MSG_NONE, "recovery code used, %ld left%s",
			     use->left, why);
	else
		twofa_decide(r->d, PAM_SUCCESS, TWOFA_RESULT_SUCCESS, LOG_NOTICE, TWOFA_MSG_NONE,
			     "bypass code used, %ld uses left, issued by %s%s", use->left,
			     use->issuer[0] != '\0' ? use->issuer : "(not recorded)", why);
	r->d->message_arg = low ? use->left : 0;
	if (low && r->silent)
		tell_in_prompt(r, TWOFA_MSG_RECOVERY_LOW, use->left);
}

/* A recovery or bypass code typed at a prompt. True when the round is
 * decided; false for a code that does not let in, counted as a failure like
 * a wrong Verify code (*retry says so). With recovery = no the answer is
 * never checked (nor sent to Twilio): a wrong code. */
static bool onetime_code(code_round *r, const char *code, retry_reason *retry)
{
	const twofa_config *c = &r->opts->cfg;
	twofa_recovery_use use;
	twofa_recovery_outcome o = TWOFA_RECOVERY_WRONG;
	twofa_state_entry state;
	twofa_error err;
	time_t now;

	if (c->recovery) {
		/* A lockout that began meanwhile (parallel logins) stops the
		 * code before it is used up. */
		if (twofa_state_read(c->state_db, r->member->user, &state, &err) != TWOFA_OK) {
			cancel_pending(r);
			twofa_decide(r->d, PAM_SERVICE_ERR, TWOFA_RESULT_ERROR, LOG_ERR, TWOFA_MSG_NONE,
				     "state store: %s", err.msg);
			return true;
		}
		now = time(NULL);
		if (twofa_state_locked_until(&state, r->audit->origin.source, now) != 0) {
			sodium_memzero(&state, sizeof(state));
			cancel_pending(r);
			twofa_decide(r->d, PAM_MAXTRIES, TWOFA_RESULT_DENIED, LOG_NOTICE, TWOFA_MSG_LOCKED,
				     "locked out after too many failures");
			return true;
		}
		sodium_memzero(&state, sizeof(state));
		o = twofa_recovery_try(r->members, r->member, code, now, &use);
	}
	switch (o) {
	case TWOFA_RECOVERY_USED:
		cancel_pending(r);
		recovery_success(r, &use);
		return true;
	case TWOFA_RECOVERY_UNAVAILABLE:
		cancel_pending(r);
		twofa_decide(r->d, use.status == TWOFA_EUNAVAIL ? PAM_AUTHINFO_UNAVAIL : PAM_SERVICE_ERR,
			     TWOFA_RESULT_ERROR, LOG_ERR, TWOFA_MSG_RECOVERY_UNAVAILABLE,
			     "%s code not accepted: the member store did not consume it: %s",
			     use.kind == TWOFA_MEMBER_CODE_RECOVERY ? "recovery" : "bypass", use.why);
		return true;
	case TWOFA_RECOVERY_TAKEN:
		twofa_host_syslog(r->host, LOG_NOTICE,
				  "a %s code of %s was refused as used: another login took it first (%s)",
				  use.kind == TWOFA_MEMBER_CODE_RECOVERY ? "recovery" : "bypass",
				  r->audit->user, use.why);
		break;
	case TWOFA_RECOVERY_WRONG:
		break;
	}
	twofa_audit_debug(r->audit, "wrong recovery or bypass code%s", c->recovery ? "" : " (recovery = no)");
	if (count_wrong_code(r)) {
		cancel_pending(r);
		twofa_decide(r->d, PAM_MAXTRIES, TWOFA_RESULT_DENIED, LOG_NOTICE, TWOFA_MSG_LOCKED,
			     "wrong recovery code; locked out after too many failures");
		return true;
	}
	*retry = RETRY_WRONG;
	return false;
}

/* The answer 'recovery' at the Verify code's prompt: the code sent is
 * cancelled and the next prompts ask for a recovery code. Refused (the code
 * sent still works) with recovery = no or when the member holds none. */
static void ask_for_recovery(code_round *r, retry_reason *retry)
{
	if (!r->opts->cfg.recovery) {
		(void)keep_asking(r, TWOFA_MSG_RECOVERY_REFUSED, 0);
		return;
	}
	if (!twofa_recovery_available(r->member, time(NULL))) {
		(void)keep_asking(r, TWOFA_MSG_RECOVERY_NONE, 0);
		return;
	}
	cancel_pending(r);
	r->mode = MODE_RECOVERY;
	*retry = RETRY_NONE;
}

static void ask_for_code(code_round *r)
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
		/* A recovery code is typed unseen: it is good for a whole login. */
		rc = twofa_host_ask(r->host, r->mode == MODE_VERIFY ? PAM_PROMPT_ECHO_ON : PAM_PROMPT_ECHO_OFF,
				    prompt, &answer);
		if (rc != PAM_SUCCESS) {
			cancel_pending(r);
			decide(r, rc, TWOFA_RESULT_DENIED, LOG_NOTICE, TWOFA_MSG_NONE, 0,
			       "%s at the code prompt",
			       rc == PAM_CONV_ERR ? "conversation failed or was cancelled"
						  : "answer too long");
			return;
		}
		if (twofa_locker_answered_with_password(r->host, answer)) {
			twofa_free_secret(answer);
			single_answer(r, true);
			return;
		}
		kind = twofa_answer_parse(answer, r->channel, &channel, &code);
		if (kind == TWOFA_ANSWER_EMPTY) {
			tries++;
			retry = RETRY_EMPTY;
		} else if (r->mode != MODE_VERIFY || kind == TWOFA_ANSWER_ONETIME) {
			/* At the recovery prompt every answer is tried as a code. */
			tries++;
			retry = RETRY_NONE;
			if (onetime_code(r, code, &retry)) {
				twofa_free_secret(answer);
				return;
			}
		} else if (kind == TWOFA_ANSWER_RECOVERY) {
			ask_for_recovery(r, &retry);
		} else if (kind == TWOFA_ANSWER_RESEND) {
			twofa_free_secret(answer);
			switch (send_code(r, channel, true)) {
			case SEND_SENT:
				retry = RETRY_NONE; /* a new code: the prompt says where it went */
				break;
			case SEND_KEPT:
			case SEND_RECOVERY: /* only a first send asks for one */
				break;
			case SEND_DECIDED:
				cancel_pending(r);
				return;
			}
			continue;
		} else {
			twofa_verify_outcome o = twofa_verify_check(r->verify, r->to, code, &res);
			twofa_free_secret(answer);
			answer = NULL;
			if (check_ended(r, o, &res))
				return;
			switch (o) {
			case TWOFA_VERIFY_OUTAGE:
				/* Unreachable now: the next prompt asks for a recovery code. */
				retry = RETRY_NONE;
				break;
			case TWOFA_VERIFY_WRONG_CODE:
			case TWOFA_VERIFY_INVALID_CODE:
				tries++;
				if (count_wrong_code(r)) {
					cancel_pending(r);
					decide(r, PAM_MAXTRIES, TWOFA_RESULT_DENIED, LOG_NOTICE,
					       TWOFA_MSG_LOCKED, 0,
					       "wrong code; locked out after too many failures");
					return;
				}
				retry = RETRY_WRONG;
				break;
			default: /* TWOFA_VERIFY_EXPIRED */
				tries++;
				r->sent = false;
				retry = RETRY_EXPIRED;
				break;
			}
		}
		twofa_free_secret(answer);
	}
	cancel_pending(r);
	/* The last try's outcome has no prompt left to carry it. */
	decide(r, PAM_MAXTRIES, TWOFA_RESULT_DENIED, LOG_NOTICE, retry_said[retry], 0,
	       "wrong %scode %ld times (max_tries)", r->mode != MODE_VERIFY ? "recovery " : "", tries);
}

/* Where codes for this member go on their own channel. */
static void aim_at_member(code_round *r)
{
	r->channel = r->member->channel;
	r->to = destination(r->member, r->channel);
	describe_destination(r);
}

/* A code sent (now, or lately and still alive): the next attempt brings it
 * with the password. Not a failure: nothing was guessed. The verification
 * stays pending for that attempt. */
static void code_is_on_its_way(code_round *r, const char *reason)
{
	r->sent = false;
	decide(r, PAM_AUTH_ERR, TWOFA_RESULT_DENIED, LOG_NOTICE, TWOFA_MSG_CODE_IN_ANSWER, (long)r->channel,
	       "%s", reason);
}

/* Checks the code split_answer kept, once: no prompt follows. */
static void check_kept_code(code_round *r, const char *code)
{
	twofa_verify_result res;
	twofa_verify_outcome o = twofa_verify_check(r->verify, r->to, code, &res);

	if (check_ended(r, o, &res))
		return;
	if (o == TWOFA_VERIFY_EXPIRED) {
		/* Used, cancelled or expired at Twilio: a new one, as for no code. */
		if (send_code(r, r->member->channel, false) == SEND_SENT)
			code_is_on_its_way(r, "the code in the answer was used or expired: a new one sent");
	} else if (count_wrong_code(r)) {
		decide(r, PAM_MAXTRIES, TWOFA_RESULT_DENIED, LOG_NOTICE, TWOFA_MSG_LOCKED, 0,
		       "wrong code in the answer; locked out after too many failures");
	} else {
		decide(r, PAM_AUTH_ERR, TWOFA_RESULT_DENIED, LOG_NOTICE, TWOFA_MSG_WRONG_CODE, 0,
		       "wrong code in the answer (code_from_answer)");
	}
}

/* code_from_answer: the password's answer brought the code (split_answer
 * kept it), or it did not and one is sent for the next attempt, unless a
 * code sent within its lifetime may still be on its way. */
static void code_from_answer(code_round *r, const twofa_locker_look *look)
{
	const char *code = twofa_locker_kept_code(r->host);

	if (look->last_send != 0) {
		aim_at_member(r);
		if (code != NULL)
			check_kept_code(r, code);
		else
			code_is_on_its_way(r,
					   "no code in the answer; a code sent lately still holds, none sent");
		return;
	}
	if (send_code(r, r->member->channel, false) == SEND_SENT)
		code_is_on_its_way(r, code != NULL
					      ? "a code in the answer, but none was sent lately: one sent"
					      : "no code in the answer: one sent, to come with the password");
}

void twofa_second_factor(twofa_host *host, const twofa_options *opts, twofa_member_store *members,
			 const twofa_member *member, bool silent, twofa_audit *audit, twofa_decision *d)
{
	code_round r = {.host = host,
			.opts = opts,
			.members = members,
			.member = member,
			.silent = silent,
			.audit = audit,
			.d = d,
			.channel = member->channel};
	twofa_locker_look look;
	twofa_error err;

	if (!twofa_locker_look_up(host, opts, member, audit, &look, &err)) {
		decide(&r, PAM_SERVICE_ERR, TWOFA_RESULT_ERROR, LOG_ERR, TWOFA_MSG_NONE, 0, "state store: %s",
		       err.msg);
		return;
	}
	if (!opts->code_from_answer && look.remembered) {
		single_answer(&r, false);
		return;
	}
	if (twofa_verify_new(&r.verify, &opts->cfg, &err) != TWOFA_OK) {
		decide(&r, PAM_SERVICE_ERR, TWOFA_RESULT_ERROR, LOG_ERR, TWOFA_MSG_NONE, 0,
		       "Twilio client: %s", err.msg);
		return;
	}
	if (opts->code_from_answer) {
		code_from_answer(&r, &look);
	} else {
		send_result sent;
		r.may_prompt = true;
		sent = send_code(&r, member->channel, false);
		if (sent == SEND_SENT || sent == SEND_RECOVERY)
			ask_for_code(&r);
	}
	twofa_verify_free(r.verify);
}

static twofa_round_ask round_host_ask(void *ctx, bool echo_on, const char *prompt, char **answer)
{
	twofa_round_host *h = ctx;
	int rc = twofa_host_ask(h->host, echo_on ? PAM_PROMPT_ECHO_ON : PAM_PROMPT_ECHO_OFF, prompt, answer);

	if (rc == PAM_SUCCESS)
		return TWOFA_ROUND_ASK_OK;
	*answer = NULL;
	return rc == PAM_AUTH_ERR ? TWOFA_ROUND_ASK_TOO_LONG : TWOFA_ROUND_ASK_CANCELLED;
}

static bool round_host_prompt(void *ctx, const char *label, const char *masked, const char *offers, char *out,
			      size_t size)
{
	const twofa_round_host *h = ctx;

	return twofa_prompt_expand(h->opts->code_prompt, label, masked, offers, out, size);
}

static void round_host_note(void *ctx, int priority, const char *line)
{
	const twofa_round_host *h = ctx;

	if (priority == LOG_DEBUG)
		twofa_audit_debug(h->audit, "%s", line);
	else
		twofa_host_syslog(h->host, priority, "%s", line);
}

void twofa_round_host_io(twofa_round_host *ctx, twofa_round_io *io)
{
	twofa_round_io r = {.ctx = ctx,
			    .ask = round_host_ask,
			    .code_prompt = round_host_prompt,
			    .note = round_host_note,
			    .admit_send = NULL};

	*io = r;
}
