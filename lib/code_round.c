/* SPDX-License-Identifier: GPL-3.0-or-later */
#include "twofa_build.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <syslog.h>
#include <time.h>

#include <security/_pam_types.h>
#include <sodium.h>

#include "answer.h"
#include "code_round.h"
#include "phone.h"
#include "util.h"
#include "verify_totp.h"

/* What the code prompt asks for: the Verify code sent; a recovery or bypass
 * code after the answer 'recovery' or a spent send limit; or one because
 * Twilio cannot be reached (outage_recovery). */
typedef enum round_mode { MODE_VERIFY = 0, MODE_RECOVERY, MODE_OUTAGE } round_mode;

typedef struct round {
	const twofa_config *cfg;
	twofa_verify *v;
	const twofa_round_target *t;
	const twofa_round_options *o;
	const twofa_round_io *io;
	twofa_round_result *res;
	twofa_channel channel;
	const char *to;
	bool sent;
	bool may_prompt; /* a prompt follows (not twofa_code_round_send / _check) */
	round_mode mode;
	char notice[160];
} round;

/* What a send came to: a code is on its way; a resend was refused and the
 * code already sent still works (the refusal is the next prompt's notice);
 * the round is over (r->res says how); or no code can be sent and the round
 * asks for a recovery or bypass code instead. */
typedef enum send_result { SEND_SENT = 0, SEND_KEPT, SEND_DECIDED, SEND_RECOVERY } send_result;

static void note(round *r, int priority, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void note(round *r, int priority, const char *fmt, ...)
{
	char line[TWOFA_REASON_MAX];
	va_list ap;

	if (r->io->note == NULL)
		return;
	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	r->io->note(r->io->ctx, priority, line);
}

static twofa_round_outcome end(round *r, twofa_round_outcome outcome, int pam_code, twofa_message message,
			       long arg, const char *fmt, ...) __attribute__((format(printf, 6, 7)));
static twofa_round_outcome end(round *r, twofa_round_outcome outcome, int pam_code, twofa_message message,
			       long arg, const char *fmt, ...)
{
	va_list ap;

	r->res->outcome = outcome;
	r->res->pam_code = pam_code;
	r->res->message = message;
	r->res->message_arg = arg;
	va_start(ap, fmt);
	vsnprintf(r->res->reason, sizeof(r->res->reason), fmt, ap);
	va_end(ap);
	return outcome;
}

static void cancel_pending(round *r)
{
	twofa_verify_result vr;

	if (!r->sent)
		return;
	memset(&vr, 0, sizeof(vr));
	(void)twofa_verify_cancel(r->v, r->to, &vr);
	r->sent = false;
}

static const char *destination(const twofa_round_target *t, twofa_channel ch)
{
	if (ch == TWOFA_CHANNEL_EMAIL)
		return t->email;
	return t->phone != NULL && t->phone[0] != '\0' ? t->phone : NULL;
}

static void describe(round *r)
{
	(void)twofa_strlcpy(r->res->channel, twofa_channel_name(r->channel), sizeof(r->res->channel));
	if (r->channel == TWOFA_CHANNEL_TOTP) {
		(void)twofa_strlcpy(r->res->to, "app", sizeof(r->res->to));
	} else if (r->channel == TWOFA_CHANNEL_EMAIL) {
		const char *at = strrchr(r->to, '@');
		snprintf(r->res->to, sizeof(r->res->to), "***@%.30s", at != NULL ? at + 1 : "?");
	} else {
		twofa_phone_mask(r->t->phone, r->res->to, sizeof(r->res->to));
	}
}

static void event(round *r, twofa_round_event_kind kind, twofa_channel channel, twofa_round_event *e)
{
	e->kind = kind;
	e->channel = channel;
	if (e->detail == NULL)
		e->detail = "";
	r->io->event(r->io->ctx, e);
}

/* A refused resend (vr: Twilio's answer, or NULL) is said at the start of
 * the next prompt, which PAM_SILENT keeps, or as an event; the code already
 * sent still works. */
static send_result kept(round *r, twofa_channel channel, twofa_message message, long arg,
			const twofa_verify_result *vr)
{
	if (r->io->event != NULL) {
		twofa_round_event e = {.message = message,
				       .arg = arg,
				       .verify = vr != NULL ? vr->outcome : TWOFA_VERIFY_OK,
				       .detail = vr != NULL ? vr->user_message : ""};
		event(r, TWOFA_ROUND_KEPT, channel, &e);
		return SEND_KEPT;
	}
	if (!twofa_message_text(message, arg, r->notice, sizeof(r->notice)))
		r->notice[0] = '\0';
	return SEND_KEPT;
}

static send_result keep_asking(round *r, twofa_message message, long arg)
{
	return kept(r, r->channel, message, arg, NULL);
}

static long minutes_until(time_t retry_at)
{
	long long minutes = ((long long)retry_at - (long long)time(NULL) + 59) / 60;

	return minutes < 0 ? 0 : (minutes > TWOFA_MESSAGE_ARG_MAX ? TWOFA_MESSAGE_ARG_MAX : (long)minutes);
}

static unsigned allowed(const round *r)
{
	return r->o->allowed_channels != 0 ? r->o->allowed_channels
					   : twofa_config_allowed_channels(r->cfg, r->t->own_channel);
}

/* Whether the round may take a recovery or bypass code now: the login's
 * hooks, recovery = yes and the member holds one that can let in. */
static bool onetime_possible(const round *r)
{
	return r->may_prompt && r->io->onetime_use != NULL && r->o->recovery &&
	       (r->io->onetime_held == NULL || r->io->onetime_held(r->io->ctx));
}

/* No code can be sent now (a send limit, here or at Twilio), but the member
 * holds a one-time code: the round asks for one, after the notice that says
 * why no code came. */
static send_result ask_instead(round *r, twofa_message why, long arg)
{
	(void)keep_asking(r, why, arg);
	r->mode = MODE_RECOVERY;
	note(r, LOG_DEBUG, "no code can be sent: asking for a recovery code");
	return SEND_RECOVERY;
}

/* Twilio unreachable at when: the round ends OUTAGE (the caller decides by
 * failmode), or with outage_recovery goes on asking for a one-time code
 * (true). No cancel: it would wait on the dead server once more. */
static bool outage(round *r, const char *when, const char *why)
{
	r->sent = false;
	if (r->o->outage_recovery && onetime_possible(r)) {
		r->mode = MODE_OUTAGE;
		note(r, LOG_ERR,
		     "Twilio unreachable at %s (%s), failmode=secure: asking %s for a recovery code", when,
		     why, r->t->user);
		return true;
	}
	end(r, TWOFA_ROUND_OUTAGE, PAM_AUTHINFO_UNAVAIL, TWOFA_MSG_UNREACHABLE, 0,
	    "Twilio unreachable at %s (%s)", when, why);
	return false;
}

/* Checks the channel, the send policy and the send limit, then asks Twilio.
 * A refused first send ends the round; a refused resend keeps it. */
static send_result send_code(round *r, twofa_channel channel, bool resend)
{
	const twofa_config *c = r->cfg;
	const char *to = destination(r->t, channel);
	twofa_message pm = TWOFA_MSG_NONE;
	long parg = 0;
	char preason[TWOFA_REASON_MAX] = "";
	twofa_verify_result vr;
	twofa_verify_outcome vo;
	twofa_error err;
	twofa_round_admit admit = TWOFA_ROUND_ADMIT;
	bool ok = false;
	time_t retry_at = 0;

	if (channel == TWOFA_CHANNEL_TOTP) {
		/* 'resend' at the app's prompt: the app shows the codes. */
		if (resend)
			return keep_asking(r, TWOFA_MSG_CHANNEL_REFUSED_RESEND, (long)channel);
		end(r, TWOFA_ROUND_REFUSED, PAM_AUTH_ERR, TWOFA_MSG_CHANNEL_REFUSED, (long)channel,
		    "channel totp sends no code");
		return SEND_DECIDED;
	}
	if (!twofa_channel_allowed(allowed(r), r->t->own_channel, channel)) {
		note(r, LOG_DEBUG, "no code by %s: not in allowed_channels", twofa_channel_name(channel));
		if (resend)
			return kept(r, channel, TWOFA_MSG_CHANNEL_REFUSED_RESEND, (long)channel, NULL);
		end(r, TWOFA_ROUND_REFUSED, PAM_AUTH_ERR, TWOFA_MSG_CHANNEL_REFUSED, (long)channel,
		    "the member's channel %s is not in allowed_channels", twofa_channel_name(channel));
		return SEND_DECIDED;
	}
	if (to == NULL && channel != TWOFA_CHANNEL_EMAIL) {
		/* An app member: codes go by email only. */
		if (resend)
			return kept(r, channel, TWOFA_MSG_CHANNEL_REFUSED_RESEND, (long)channel, NULL);
		end(r, TWOFA_ROUND_REFUSED, PAM_AUTH_ERR, TWOFA_MSG_CHANNEL_REFUSED, (long)channel,
		    "no phone number is enrolled for a code by %s", twofa_channel_name(channel));
		return SEND_DECIDED;
	}
	if (to == NULL) {
		if (resend)
			return kept(r, channel, TWOFA_MSG_NO_EMAIL, 0, NULL);
		end(r, TWOFA_ROUND_REFUSED, PAM_AUTH_ERR, TWOFA_MSG_NO_EMAIL, 0,
		    "no email address is enrolled");
		return SEND_DECIDED;
	}
	if (r->o->reserve_sends) {
		if (twofa_state_reserve_send(c->state_db, r->t->user, time(NULL), c->send_limit,
					     c->send_window, &ok, &retry_at, &err) != TWOFA_OK) {
			end(r, TWOFA_ROUND_ERROR, PAM_SERVICE_ERR, TWOFA_MSG_NONE, 0, "state store: %s",
			    err.msg);
			return SEND_DECIDED;
		}
		if (!ok) {
			if (resend)
				return keep_asking(r, TWOFA_MSG_SEND_LIMIT_RESEND, minutes_until(retry_at));
			if (onetime_possible(r))
				return ask_instead(r, TWOFA_MSG_SEND_LIMIT, minutes_until(retry_at));
			end(r, TWOFA_ROUND_REFUSED, PAM_MAXTRIES, TWOFA_MSG_SEND_LIMIT,
			    minutes_until(retry_at), "send limit reached (%ld per %ld s)", c->send_limit,
			    c->send_window);
			return SEND_DECIDED;
		}
	}
	/* The host's send policy after the member's own limit: a member whose
	 * sends are spent spends none of the host's budget (one account
	 * retrying could trip it for everyone otherwise). A refusal here
	 * leaves the member's reservation taken, like a failed send. */
	if (r->io->admit_send != NULL)
		admit = r->io->admit_send(r->io->ctx, channel == TWOFA_CHANNEL_EMAIL ? NULL : r->t->country,
					  &pm, &parg, preason, sizeof(preason));
	switch (admit) {
	case TWOFA_ROUND_ADMIT:
		break;
	case TWOFA_ROUND_ADMIT_REFUSED:
		if (resend)
			return keep_asking(r, pm, parg);
		end(r, TWOFA_ROUND_REFUSED, PAM_AUTH_ERR, pm, parg, "send refused: %s", preason);
		return SEND_DECIDED;
	case TWOFA_ROUND_ADMIT_SPENT:
		if (resend)
			return keep_asking(r, TWOFA_MSG_SEND_LIMIT_RESEND, parg);
		if (onetime_possible(r))
			return ask_instead(r, TWOFA_MSG_SEND_LIMIT, parg);
		end(r, TWOFA_ROUND_REFUSED, PAM_MAXTRIES, TWOFA_MSG_SEND_LIMIT, parg, "send refused: %s",
		    preason);
		return SEND_DECIDED;
	case TWOFA_ROUND_ADMIT_ERROR:
		end(r, TWOFA_ROUND_ERROR, PAM_SERVICE_ERR, TWOFA_MSG_NONE, 0, "send refused: %s", preason);
		return SEND_DECIDED;
	}
	if (!resend) {
		r->channel = channel;
		r->to = to;
		describe(r);
	}
	memset(&vr, 0, sizeof(vr));
	if (r->io->event != NULL) {
		twofa_round_event e = {.sent = false};
		event(r, TWOFA_ROUND_SENDING, channel, &e);
	}
	/* With rate_limit set, Twilio also counts the send for every host. */
	vo = twofa_verify_start_keyed(r->v, to, channel, c->locale, r->t->rate_limit_id, &vr);
	r->res->verify = vo;
	if (r->io->event != NULL) {
		twofa_round_event e = {.sent = vo == TWOFA_VERIFY_SENT, .verify = vo};
		event(r, TWOFA_ROUND_SEND_DONE, channel, &e);
	}
	switch (vo) {
	case TWOFA_VERIFY_SENT:
		r->channel = channel;
		r->to = to;
		describe(r);
		r->sent = true;
		r->res->sends++;
		note(r, LOG_DEBUG, "code sent by %s to %s", twofa_channel_name(channel), r->res->to);
		return SEND_SENT;
	case TWOFA_VERIFY_OUTAGE:
		if (resend && !r->o->strict_resends) {
			note(r, LOG_DEBUG, "resend failed: %s", vr.log_message);
			return kept(r, channel, TWOFA_MSG_RESEND_FAILED, 0, &vr);
		}
		return outage(r, "send", vr.log_message) ? SEND_RECOVERY : SEND_DECIDED;
	case TWOFA_VERIFY_BAD_CREDENTIALS:
	case TWOFA_VERIFY_SERVICE_NOT_FOUND:
		end(r, TWOFA_ROUND_ERROR, PAM_SERVICE_ERR, TWOFA_MSG_MISCONFIGURED, 0, "send refused: %s",
		    vr.log_message);
		return SEND_DECIDED;
	default:
		if (resend && (!r->o->strict_resends || vo == TWOFA_VERIFY_TOO_MANY_SENDS ||
			       vo == TWOFA_VERIFY_CHANNEL_DISABLED || vo == TWOFA_VERIFY_LANDLINE))
			return kept(r, channel, TWOFA_MSG_VERIFY, (long)vo, &vr);
		if ((vo == TWOFA_VERIFY_TOO_MANY_SENDS || vo == TWOFA_VERIFY_RATE_LIMITED) &&
		    onetime_possible(r))
			return ask_instead(r, TWOFA_MSG_VERIFY, (long)vo);
		end(r, TWOFA_ROUND_REFUSED,
		    vo == TWOFA_VERIFY_TOO_MANY_SENDS || vo == TWOFA_VERIFY_RATE_LIMITED ? PAM_MAXTRIES
											 : PAM_AUTH_ERR,
		    TWOFA_MSG_VERIFY, (long)vo, "send refused: %s", vr.log_message);
		return SEND_DECIDED;
	}
}

static twofa_state_login state_login(const round *r)
{
	twofa_state_login s = {.user = r->t->user,
			       .enrolled = r->t->enrolled,
			       .origin = r->o->origin,
			       .lockout_failures = r->cfg->lockout_failures,
			       .lockout_seconds = r->cfg->lockout_seconds};

	return s;
}

/* An approved Verify code, or a consumed one-time code (onetime: res
 * holds the hook's text), succeeds unless a lockout began while the round
 * was under way: checked in the update that records the success. */
static twofa_round_outcome approved(round *r, bool onetime)
{
	twofa_state_login s = state_login(r);
	char used[TWOFA_REASON_MAX] = "code approved";
	twofa_message message = TWOFA_MSG_NONE;
	long arg = 0;
	bool locked = true;
	twofa_error err;

	r->sent = false; /* approved: nothing left pending */
	if (onetime) {
		(void)twofa_strlcpy(used, r->res->reason, sizeof(used));
		message = r->res->message;
		arg = r->res->message_arg;
	}
	if (!r->o->record_success)
		return end(r, TWOFA_ROUND_APPROVED, PAM_SUCCESS, message, arg, "%s", used);
	if (twofa_state_record_success(r->cfg->state_db, &s, time(NULL), r->o->service, r->cfg->grace_period,
				       &locked, &err) != TWOFA_OK)
		return end(r, TWOFA_ROUND_ERROR, PAM_SERVICE_ERR, TWOFA_MSG_NONE, 0,
			   "state store at success: %s", err.msg);
	if (locked)
		return end(r, TWOFA_ROUND_DENIED, PAM_MAXTRIES, TWOFA_MSG_LOCKED, 0,
			   "%s, but locked out meanwhile", used);
	return end(r, TWOFA_ROUND_APPROVED, PAM_SUCCESS, message, arg, "%s", used);
}

/* A wrong code as a failure in state.db; true when it locked the user out
 * (or could not be counted: stop rather than allow unlimited guesses). */
static bool count_wrong_code(round *r)
{
	twofa_state_login s = state_login(r);
	time_t locked_until = 0;
	twofa_error err;

	if (!r->o->count_failures)
		return false;
	if (twofa_state_record_failure(r->cfg->state_db, &s, time(NULL), 0, NULL, &locked_until, &err) !=
	    TWOFA_OK) {
		note(r, LOG_ERR, "could not count a failure for %s: %s", r->t->user, err.msg);
		return true;
	}
	return locked_until != 0;
}

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

void twofa_round_offers(unsigned allowed_channels, twofa_channel own, twofa_channel current,
			const char *phone, const char *email, char *out, size_t size)
{
	static const char *const offers[] = {
		"'sms' for SMS",
		"'call' for a voice call",
		"'whatsapp' for WhatsApp",
		"'email' for email",
	};
	twofa_round_target t = {.phone = phone, .email = email};
	size_t used = 0;

	out[0] = '\0';
	for (int i = TWOFA_CHANNEL_SMS; i <= TWOFA_CHANNEL_EMAIL; i++) {
		twofa_channel ch = (twofa_channel)i;
		if (ch == current || !twofa_channel_allowed(allowed_channels, own, ch) ||
		    destination(&t, ch) == NULL)
			continue;
		used += (size_t)snprintf(out + used, size - used, "%s%s", used == 0 ? " (or " : ", ",
					 offers[i]);
		if (used >= size) {
			out[0] = '\0'; /* cannot happen with the sizes used; say nothing rather than half */
			return;
		}
	}
	if (used > 0 && used + 1 < size)
		(void)strcat(out, ")");
}

/* The code prompt: the first one says where the code went, later ones what
 * went wrong and how many tries are left, since PAM_SILENT (sudo) drops
 * messages and the same "Code sent..." text reads as a new code. At the
 * recovery prompt, its own texts. A pending notice comes first, once. */
static void build_prompt(round *r, retry_reason retry, long left, char *out, size_t size)
{
	char offers[160], base[256 + 192];
	const char *label = twofa_channel_label(r->channel);

	if (r->io->event != NULL)
		retry = RETRY_NONE; /* said as it happened */
	if (r->mode != MODE_VERIFY) {
		twofa_message m = retry == RETRY_WRONG     ? TWOFA_MSG_RECOVERY_RETRY_WRONG
				  : retry == RETRY_EMPTY   ? TWOFA_MSG_RECOVERY_RETRY_EMPTY
				  : r->mode == MODE_OUTAGE ? TWOFA_MSG_RECOVERY_OUTAGE
							   : TWOFA_MSG_RECOVERY_PROMPT;
		if (!twofa_message_text(m, left, base, sizeof(base)))
			(void)twofa_strlcpy(base, "Recovery code: ", sizeof(base));
	} else if (retry == RETRY_NONE) {
		twofa_round_offers(allowed(r), r->t->own_channel, r->channel, r->t->phone, r->t->email,
				   offers, sizeof(offers));
		if (r->channel == TWOFA_CHANNEL_TOTP)
			snprintf(base, sizeof(base), "Enter the code from your authenticator app%s: ", offers);
		else if (r->io->code_prompt == NULL ||
			 !r->io->code_prompt(r->io->ctx, label, r->res->to, offers, base, sizeof(base)))
			snprintf(base, sizeof(base), "Enter the code sent by %s to %s%s: ", label, r->res->to,
				 offers);
	} else if (!twofa_message_text(retry_prompt[retry], left, base, sizeof(base))) {
		(void)twofa_strlcpy(base, "Enter the code: ", sizeof(base));
	}
	snprintf(out, size, "%s%s%s", r->notice, r->notice[0] != '\0' ? " " : "", base);
	r->notice[0] = '\0';
}

/* A recovery or bypass code typed at a prompt: true when the round is
 * decided; false for a code that does not let in, counted as a failure like
 * a wrong Verify code. With recovery = no it is never checked (nor sent to
 * Twilio): a wrong code. */
static bool onetime_code(round *r, const char *code)
{
	twofa_round_onetime u = TWOFA_ROUND_ONETIME_WRONG;
	twofa_state_entry state;
	twofa_error err;
	bool locked;

	r->res->onetime = true; /* whatever it comes to names no destination */
	if (r->o->recovery) {
		/* A lockout that began meanwhile (parallel logins) stops the
		 * code before it is used up. */
		if (twofa_state_read(r->cfg->state_db, r->t->user, &state, &err) != TWOFA_OK) {
			cancel_pending(r);
			end(r, TWOFA_ROUND_ERROR, PAM_SERVICE_ERR, TWOFA_MSG_NONE, 0, "state store: %s",
			    err.msg);
			return true;
		}
		locked = twofa_state_locked_until(&state, r->o->origin->source, time(NULL)) != 0;
		sodium_memzero(&state, sizeof(state));
		if (locked) {
			cancel_pending(r);
			end(r, TWOFA_ROUND_DENIED, PAM_MAXTRIES, TWOFA_MSG_LOCKED, 0,
			    "locked out after too many failures");
			return true;
		}
		/* No one to check it with: a wrong code, never a pass. */
		if (r->io->onetime_use != NULL)
			u = r->io->onetime_use(r->io->ctx, code, r->mode == MODE_OUTAGE, r->res);
	}
	switch (u) {
	case TWOFA_ROUND_ONETIME_USED:
		cancel_pending(r);
		(void)approved(r, true);
		return true;
	case TWOFA_ROUND_ONETIME_ERROR:
		cancel_pending(r);
		r->res->outcome = TWOFA_ROUND_ERROR;
		return true;
	case TWOFA_ROUND_ONETIME_WRONG:
		break;
	}
	note(r, LOG_DEBUG, "wrong recovery or bypass code%s", r->o->recovery ? "" : " (recovery = no)");
	if (count_wrong_code(r)) {
		cancel_pending(r);
		end(r, TWOFA_ROUND_DENIED, PAM_MAXTRIES, TWOFA_MSG_LOCKED, 0,
		    "wrong recovery code; locked out after too many failures");
		return true;
	}
	r->res->onetime = false;
	return false;
}

/* The answer 'recovery' at the Verify code's prompt: the code sent is
 * cancelled and the next prompts ask for a recovery code. Refused (the code
 * sent still works) with recovery = no or when the member holds none. */
static void ask_for_recovery(round *r, retry_reason *retry)
{
	if (!r->o->recovery) {
		(void)keep_asking(r, TWOFA_MSG_RECOVERY_REFUSED, 0);
		return;
	}
	if (!onetime_possible(r)) {
		(void)keep_asking(r, TWOFA_MSG_RECOVERY_NONE, 0);
		return;
	}
	cancel_pending(r);
	r->mode = MODE_RECOVERY;
	*retry = RETRY_NONE;
}

/* A wrong Verify code: a try, counted; true when it locked the user out. */
static bool wrong_code(round *r)
{
	r->res->tries++;
	if (!count_wrong_code(r))
		return false;
	cancel_pending(r);
	end(r, TWOFA_ROUND_DENIED, PAM_MAXTRIES, TWOFA_MSG_LOCKED, 0,
	    "wrong code; locked out after too many failures");
	return true;
}

/* A Verify check's outcome that ends the round, whatever asked for the
 * code: true when r->res is decided; false for a wrong, invalid or expired
 * code, or an outage that goes on at the recovery prompt. */
static bool check_ended(round *r, twofa_verify_outcome vo, const twofa_verify_result *vr)
{
	r->res->verify = vo;
	switch (vo) {
	case TWOFA_VERIFY_APPROVED:
		(void)approved(r, false);
		return true;
	case TWOFA_VERIFY_OUTAGE:
		return !outage(r, "check", vr->log_message);
	case TWOFA_VERIFY_WRONG_CODE:
	case TWOFA_VERIFY_INVALID_CODE:
	case TWOFA_VERIFY_EXPIRED:
		return false;
	case TWOFA_VERIFY_TOO_MANY_CHECKS:
		cancel_pending(r);
		end(r, TWOFA_ROUND_DENIED, PAM_MAXTRIES, TWOFA_MSG_VERIFY, (long)vo, "%s", vr->log_message);
		return true;
	default:
		cancel_pending(r);
		end(r, TWOFA_ROUND_DENIED, PAM_AUTH_ERR, TWOFA_MSG_VERIFY, (long)vo, "check refused: %s",
		    vr->log_message);
		return true;
	}
}

/* The cap on consecutive wrong app codes (TWOFA_STATE_APP_FAILURES_MAX):
 * true when r->res is decided, reached or the count unreadable. */
static bool app_cap_end(round *r, long count)
{
	end(r, TWOFA_ROUND_DENIED, PAM_MAXTRIES, TWOFA_MSG_APP_LOCKED, 0,
	    "%ld consecutive wrong app codes (cap %d): app codes are not checked until a success or an "
	    "admin unlock",
	    count, TWOFA_STATE_APP_FAILURES_MAX);
	return true;
}

static bool app_capped(round *r)
{
	twofa_state_entry state;
	twofa_error err;
	long count;

	if (twofa_state_read(r->cfg->state_db, r->t->user, &state, &err) != TWOFA_OK) {
		end(r, TWOFA_ROUND_ERROR, PAM_SERVICE_ERR, TWOFA_MSG_NONE, 0, "state store: %s", err.msg);
		return true;
	}
	count = state.app_failures;
	sodium_memzero(&state, sizeof(state));
	return count >= TWOFA_STATE_APP_FAILURES_MAX && app_cap_end(r, count);
}

static bool app_failure(round *r)
{
	twofa_error err;
	long count = 0;

	if (!r->o->count_failures)
		return false;
	if (twofa_state_app_failure(r->cfg->state_db, r->t->user, &count, &err) != TWOFA_OK) {
		end(r, TWOFA_ROUND_ERROR, PAM_SERVICE_ERR, TWOFA_MSG_NONE, 0, "state store: %s", err.msg);
		return true;
	}
	return count >= TWOFA_STATE_APP_FAILURES_MAX && app_cap_end(r, count);
}

/* An authenticator-app code: a Challenge of the member's factor; an approved
 * one is claimed in the replay guard (state.db, per host), and one accepted
 * here before is a wrong code. Fills *vo for check_ended; true when r->res is
 * decided here (the guard cannot be read, the factor is gone at Twilio). */
static bool app_code(round *r, const char *code, twofa_verify_outcome *vo, twofa_verify_result *vr)
{
	const twofa_round_target *t = r->t;
	bool replayed = false;
	twofa_error err;

	if (t->totp_entity == NULL || t->totp_factor == NULL || t->totp_entity[0] == '\0' ||
	    t->totp_factor[0] == '\0') {
		end(r, TWOFA_ROUND_ERROR, PAM_SERVICE_ERR, TWOFA_MSG_NONE, 0, "the member has no app factor");
		return true;
	}
	if (app_capped(r))
		return true;
	*vo = twofa_totp_challenge(r->v, t->totp_entity, t->totp_factor, code, vr);
	if (*vo == TWOFA_VERIFY_EXPIRED) {
		/* 404: the factor or entity is gone at Twilio; no code can pass. */
		r->res->verify = *vo;
		end(r, TWOFA_ROUND_DENIED, PAM_AUTH_ERR, TWOFA_MSG_VERIFY, (long)*vo,
		    "the member's app factor is gone at Twilio: %s", vr->log_message);
		return true;
	}
	/* Every refusal Twilio answers for a code counts toward the cap, whatever
	 * its words (only an outage, this host's own failure or a code refused
	 * before any request does not): a guess must never be free. */
	if (*vo != TWOFA_VERIFY_APPROVED)
		return !twofa_verify_is_outage(*vo) && *vo != TWOFA_VERIFY_LOCAL_ERROR &&
		       *vo != TWOFA_VERIFY_INVALID_CODE && *vo != TWOFA_VERIFY_BAD_CREDENTIALS &&
		       *vo != TWOFA_VERIFY_SERVICE_NOT_FOUND && app_failure(r);
	if (twofa_state_app_code_claim(r->cfg->state_db, t->user, t->totp_factor, code, time(NULL), &replayed,
				       &err) != TWOFA_OK) {
		end(r, TWOFA_ROUND_ERROR, PAM_SERVICE_ERR, TWOFA_MSG_NONE, 0,
		    "state store (replay guard): %s", err.msg);
		return true;
	}
	if (replayed) {
		note(r, LOG_NOTICE,
		     "an app code of %s was refused as a replay: the same code was accepted on this host "
		     "within %d s",
		     t->user, TWOFA_STATE_APP_GUARD_SECONDS);
		*vo = TWOFA_VERIFY_WRONG_CODE;
	}
	return *vo == TWOFA_VERIFY_WRONG_CODE && app_failure(r);
}

static twofa_round_outcome ask_for_code(round *r)
{
	long max_tries = r->o->max_tries > 0 ? r->o->max_tries : 1;
	/* Bound the loop: every answer is a try or a (limited) resend. */
	long rounds = 0, max_rounds = max_tries + r->cfg->send_limit + 1;
	long blanks = 0, resends = 0;
	char prompt[256 + 512];
	retry_reason retry = RETRY_NONE;

	if (r->o->max_blank > 0 || r->o->max_resends > 0)
		max_rounds += r->o->max_blank + r->o->max_resends;
	while (r->res->tries < max_tries && rounds++ < max_rounds) {
		char *answer = NULL, *text = NULL;
		char why[TWOFA_REASON_MAX] = "";
		twofa_message said = TWOFA_MSG_NONE;
		twofa_channel ch = r->channel;
		twofa_answer_kind kind;
		twofa_round_ask a;
		twofa_verify_result vr;
		twofa_verify_outcome vo;

		build_prompt(r, retry, max_tries - r->res->tries, prompt, sizeof(prompt));
		/* A recovery code is typed unseen: it is good for a whole login. */
		a = r->io->ask(r->io->ctx, r->mode == MODE_VERIFY, prompt, &answer);
		if (a != TWOFA_ROUND_ASK_OK) {
			twofa_free_secret(answer);
			cancel_pending(r);
			r->res->ask_cancelled = true;
			r->res->ask_too_long = a == TWOFA_ROUND_ASK_TOO_LONG;
			return end(r, TWOFA_ROUND_CANCELLED,
				   a == TWOFA_ROUND_ASK_TOO_LONG ? PAM_AUTH_ERR : PAM_CONV_ERR,
				   TWOFA_MSG_NONE, 0, "%s at the code prompt",
				   a == TWOFA_ROUND_ASK_TOO_LONG ? "answer too long"
								 : "conversation failed or was cancelled");
		}
		if (r->io->screen != NULL && r->io->screen(r->io->ctx, answer, &said, why, sizeof(why))) {
			twofa_free_secret(answer);
			cancel_pending(r);
			return end(r, TWOFA_ROUND_DENIED, PAM_AUTH_ERR, said, 0, "%s", why);
		}
		kind = twofa_answer_parse(answer, r->channel, &ch, &text);
		if (r->io->onetime_use == NULL &&
		    (kind == TWOFA_ANSWER_RECOVERY || kind == TWOFA_ANSWER_ONETIME))
			kind = TWOFA_ANSWER_CODE; /* no one-time codes here: Twilio judges it */
		if (kind == TWOFA_ANSWER_EMPTY && r->o->max_blank > 0) {
			twofa_free_secret(answer);
			if (++blanks <= r->o->max_blank)
				continue;
			cancel_pending(r);
			return end(r, TWOFA_ROUND_DENIED, PAM_AUTH_ERR, TWOFA_MSG_NO_CODE, 0,
				   "no code given (%ld empty answers)", blanks);
		} else if (kind == TWOFA_ANSWER_EMPTY) {
			r->res->tries++;
			retry = RETRY_EMPTY;
		} else if (r->mode != MODE_VERIFY || kind == TWOFA_ANSWER_ONETIME) {
			/* At the recovery prompt every answer is tried as a code. */
			r->res->tries++;
			if (onetime_code(r, text)) {
				twofa_free_secret(answer);
				return r->res->outcome;
			}
			retry = RETRY_WRONG;
		} else if (kind == TWOFA_ANSWER_RECOVERY) {
			ask_for_recovery(r, &retry);
		} else if (kind == TWOFA_ANSWER_RESEND) {
			twofa_free_secret(answer);
			if (r->o->max_resends > 0 && ++resends > r->o->max_resends) {
				if (r->io->event != NULL) {
					twofa_round_event e = {.sent = false};
					event(r, TWOFA_ROUND_NO_MORE_RESENDS, ch, &e);
				} else {
					(void)keep_asking(r, TWOFA_MSG_RESEND_FAILED, 0);
				}
				continue;
			}
			switch (send_code(r, ch, true)) {
			case SEND_SENT:
				retry = RETRY_NONE; /* a new code: the prompt says where it went */
				break;
			case SEND_KEPT:
			case SEND_RECOVERY: /* only a first send asks for one */
				break;
			case SEND_DECIDED:
				cancel_pending(r);
				return r->res->outcome;
			}
			continue;
		} else {
			memset(&vr, 0, sizeof(vr));
			/* Never sent to Twilio: not a code. */
			if (twofa_has_control(text, strlen(text)))
				vo = vr.outcome = TWOFA_VERIFY_INVALID_CODE;
			else if (r->channel != TWOFA_CHANNEL_TOTP)
				vo = twofa_verify_check(r->v, r->to, text, &vr);
			else if (app_code(r, text, &vo, &vr)) {
				twofa_free_secret(answer);
				return r->res->outcome;
			}
			twofa_free_secret(answer);
			answer = NULL;
			if (check_ended(r, vo, &vr))
				return r->res->outcome;
			if (vo != TWOFA_VERIFY_OUTAGE && r->io->event != NULL &&
			    r->res->tries + 1 < max_tries) {
				twofa_round_event e = {.verify = vo, .left = max_tries - r->res->tries - 1};
				event(r, TWOFA_ROUND_RETRY, r->channel, &e);
			}
			if (vo == TWOFA_VERIFY_OUTAGE) {
				retry = RETRY_NONE; /* unreachable now: the next prompt asks for a recovery code */
			} else if (vo == TWOFA_VERIFY_EXPIRED) {
				r->res->tries++;
				r->sent = false;
				retry = RETRY_EXPIRED;
			} else {
				if (wrong_code(r))
					return r->res->outcome;
				retry = RETRY_WRONG;
			}
		}
		twofa_free_secret(answer);
	}
	cancel_pending(r);
	/* The last try's outcome has no prompt left to carry it. */
	return end(r, TWOFA_ROUND_DENIED, PAM_MAXTRIES, retry_said[retry], 0,
		   "wrong %scode %ld times (max_tries)", r->mode != MODE_VERIFY ? "recovery " : "",
		   r->res->tries);
}

/* Sets up a round; false when its arguments cannot make one (r->res says). */
static bool begin(round *r, const twofa_config *cfg, twofa_verify *v, const twofa_round_target *t,
		  const twofa_round_options *o, const twofa_round_io *io, twofa_round_result *res)
{
	round init = {.cfg = cfg, .v = v, .t = t, .o = o, .io = io, .res = res, .channel = t->channel};

	*r = init;
	memset(res, 0, sizeof(*res));
	res->verify = TWOFA_VERIFY_OK;
	if (io == NULL || io->ask == NULL || t->user == NULL) {
		end(r, TWOFA_ROUND_ERROR, PAM_SERVICE_ERR, TWOFA_MSG_NONE, 0, "code round: no prompt");
		return false;
	}
	if ((o->count_failures || o->record_success || io->onetime_use != NULL) && o->origin == NULL) {
		end(r, TWOFA_ROUND_ERROR, PAM_SERVICE_ERR, TWOFA_MSG_NONE, 0, "code round: no origin");
		return false;
	}
	return true;
}

/* allowed_channels holds for the app as for every channel: an admin can
 * turn the app off (a member whose channel is not allowed is refused). */
static bool app_refused(round *r)
{
	if (twofa_channel_allowed(allowed(r), r->t->own_channel, TWOFA_CHANNEL_TOTP))
		return false;
	end(r, TWOFA_ROUND_REFUSED, PAM_AUTH_ERR, TWOFA_MSG_CHANNEL_REFUSED, (long)TWOFA_CHANNEL_TOTP,
	    "the member's channel totp is not in allowed_channels");
	return true;
}

twofa_round_outcome twofa_code_round(const twofa_config *cfg, twofa_verify *v, const twofa_round_target *t,
				     const twofa_round_options *o, const twofa_round_io *io,
				     twofa_round_result *res)
{
	round r;

	if (!begin(&r, cfg, v, t, o, io, res))
		return res->outcome;
	r.may_prompt = true;
	if (t->channel == TWOFA_CHANNEL_TOTP) {
		/* The app shows the code: nothing is sent, so no send limit,
		 * send_budget or countries apply. */
		describe(&r);
		if (app_refused(&r))
			return res->outcome;
		if (!app_capped(&r))
			return ask_for_code(&r);
		if (res->outcome != TWOFA_ROUND_DENIED || !onetime_possible(&r))
			return res->outcome;
		/* Capped: a recovery or bypass code still lets the member in. */
		(void)ask_instead(&r, TWOFA_MSG_APP_LOCKED, 0);
		return ask_for_code(&r);
	}
	switch (send_code(&r, t->channel, false)) {
	case SEND_SENT:
	case SEND_RECOVERY:
		return ask_for_code(&r);
	default:
		return res->outcome;
	}
}

twofa_round_outcome twofa_code_round_send(const twofa_config *cfg, twofa_verify *v,
					  const twofa_round_target *t, const twofa_round_options *o,
					  const twofa_round_io *io, twofa_round_result *res)
{
	round r;

	if (!begin(&r, cfg, v, t, o, io, res))
		return res->outcome;
	if (send_code(&r, t->channel, false) != SEND_SENT)
		return res->outcome;
	r.sent = false; /* it stays pending for the next attempt */
	return end(&r, TWOFA_ROUND_SENT, PAM_AUTH_ERR, TWOFA_MSG_NONE, 0, "code sent");
}

/* code_from_answer for an app member: the code came with the password, or
 * the attempt fails (nothing can be sent for the next one). */
static twofa_round_outcome app_code_in_answer(round *r, const char *code)
{
	twofa_verify_result vr;
	twofa_verify_outcome vo;

	describe(r);
	if (code == NULL)
		return end(r, TWOFA_ROUND_DENIED, PAM_AUTH_ERR, TWOFA_MSG_NONE, 0,
			   "no app code in the answer (code_from_answer)");
	memset(&vr, 0, sizeof(vr));
	if (app_code(r, code, &vo, &vr) || check_ended(r, vo, &vr))
		return r->res->outcome;
	r->res->tries = 1;
	if (count_wrong_code(r))
		return end(r, TWOFA_ROUND_DENIED, PAM_MAXTRIES, TWOFA_MSG_LOCKED, 0,
			   "wrong app code in the answer; locked out after too many failures");
	return end(r, TWOFA_ROUND_DENIED, PAM_AUTH_ERR, TWOFA_MSG_WRONG_CODE, 0,
		   "wrong app code in the answer (code_from_answer)");
}

twofa_round_outcome twofa_code_round_check(const twofa_config *cfg, twofa_verify *v,
					   const twofa_round_target *t, const twofa_round_options *o,
					   const twofa_round_io *io, const char *code, twofa_round_result *res)
{
	twofa_verify_result vr;
	twofa_verify_outcome vo;
	round r;

	if (!begin(&r, cfg, v, t, o, io, res))
		return res->outcome;
	if (t->channel == TWOFA_CHANNEL_TOTP)
		return app_refused(&r) ? res->outcome : app_code_in_answer(&r, code);
	r.to = destination(t, t->channel);
	if (r.to == NULL) /* nowhere to check it: what a send there comes to */
		return twofa_code_round_send(cfg, v, t, o, io, res);
	describe(&r);
	if (code == NULL)
		return end(&r, TWOFA_ROUND_SENT, PAM_AUTH_ERR, TWOFA_MSG_NONE, 0,
			   "no code in the answer; a code sent lately still holds, none sent");
	memset(&vr, 0, sizeof(vr));
	vo = twofa_verify_check(v, r.to, code, &vr);
	if (check_ended(&r, vo, &vr))
		return res->outcome;
	if (vo == TWOFA_VERIFY_EXPIRED) {
		/* Used, cancelled or expired at Twilio: a new one, as for no code. */
		if (send_code(&r, t->channel, false) != SEND_SENT)
			return res->outcome;
		return end(&r, TWOFA_ROUND_SENT, PAM_AUTH_ERR, TWOFA_MSG_NONE, 0,
			   "the code in the answer was used or expired: a new one sent");
	}
	res->tries = 1;
	if (count_wrong_code(&r))
		return end(&r, TWOFA_ROUND_DENIED, PAM_MAXTRIES, TWOFA_MSG_LOCKED, 0,
			   "wrong code in the answer; locked out after too many failures");
	return end(&r, TWOFA_ROUND_DENIED, PAM_AUTH_ERR, TWOFA_MSG_WRONG_CODE, 0,
		   "wrong code in the answer (code_from_answer)");
}

void twofa_round_decide(const twofa_round_result *res, twofa_decision *d)
{
	twofa_result result = TWOFA_RESULT_DENIED;
	int priority = LOG_NOTICE;

	switch (res->outcome) {
	case TWOFA_ROUND_APPROVED:
		result = TWOFA_RESULT_SUCCESS;
		priority = res->onetime ? LOG_NOTICE : LOG_INFO;
		break;
	case TWOFA_ROUND_OUTAGE:
		priority = LOG_ERR;
		break;
	case TWOFA_ROUND_ERROR:
		result = TWOFA_RESULT_ERROR;
		priority = LOG_ERR;
		break;
	default:
		break;
	}
	twofa_decide(d, res->pam_code, result, priority, res->message, "%s", res->reason);
	d->message_arg = res->message_arg;
	if (res->channel[0] != '\0' && !res->onetime)
		twofa_decision_set_destination(d, res->channel, res->to);
}
