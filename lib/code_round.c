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

#include "code_round.h"
#include "phone.h"
#include "util.h"

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
	char notice[160];
} round;

typedef enum send_result { SEND_SENT = 0, SEND_KEPT, SEND_DECIDED } send_result;

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
	if (r->channel == TWOFA_CHANNEL_EMAIL) {
		const char *at = strrchr(r->to, '@');
		snprintf(r->res->to, sizeof(r->res->to), "***@%.30s", at != NULL ? at + 1 : "?");
	} else {
		twofa_phone_mask(r->t->phone, r->res->to, sizeof(r->res->to));
	}
}

static send_result keep_asking(round *r, twofa_message message, long arg)
{
	if (!twofa_message_text(message, arg, r->notice, sizeof(r->notice)))
		r->notice[0] = '\0';
	return SEND_KEPT;
}

static long minutes_until(time_t retry_at)
{
	long long minutes = ((long long)retry_at - (long long)time(NULL) + 59) / 60;

	return minutes < 0 ? 0 : (minutes > TWOFA_MESSAGE_ARG_MAX ? TWOFA_MESSAGE_ARG_MAX : (long)minutes);
}

static unsigned allowed(const round *r)
{
	return r->o->allowed_channels != 0 ? r->o->allowed_channels : r->cfg->allowed_channels;
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
	bool ok = false;
	time_t retry_at = 0;

	if (!twofa_channel_allowed(allowed(r), r->t->own_channel, channel) ||
	    (to == NULL && channel != TWOFA_CHANNEL_EMAIL)) {
		note(r, LOG_DEBUG, "no code by %s: not allowed or no number", twofa_channel_name(channel));
		if (resend)
			return keep_asking(r, TWOFA_MSG_CHANNEL_REFUSED_RESEND, (long)channel);
		end(r, TWOFA_ROUND_REFUSED, PAM_AUTH_ERR, TWOFA_MSG_CHANNEL_REFUSED, (long)channel,
		    "no code by %s: not in allowed_channels or no phone number", twofa_channel_name(channel));
		return SEND_DECIDED;
	}
	if (to == NULL) {
		if (resend)
			return keep_asking(r, TWOFA_MSG_NO_EMAIL, 0);
		end(r, TWOFA_ROUND_REFUSED, PAM_AUTH_ERR, TWOFA_MSG_NO_EMAIL, 0,
		    "no email address is enrolled");
		return SEND_DECIDED;
	}
	/* send policy: limits' twofa_send_admit goes here */
	if (r->io->admit_send != NULL &&
	    !r->io->admit_send(r->io->ctx, r->t->country, &pm, &parg, preason, sizeof(preason))) {
		if (resend)
			return keep_asking(r, pm, parg);
		end(r, TWOFA_ROUND_REFUSED, PAM_AUTH_ERR, pm, parg, "send refused: %s", preason);
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
			end(r, TWOFA_ROUND_REFUSED, PAM_MAXTRIES, TWOFA_MSG_SEND_LIMIT,
			    minutes_until(retry_at), "send limit reached (%ld per %ld s)", c->send_limit,
			    c->send_window);
			return SEND_DECIDED;
		}
	}
	if (!resend) {
		r->channel = channel;
		r->to = to;
		describe(r);
	}
	memset(&vr, 0, sizeof(vr));
	vo = twofa_verify_start_keyed(r->v, to, channel, c->locale, r->t->rate_limit_id, &vr);
	r->res->verify = vo;
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
		if (resend) {
			note(r, LOG_DEBUG, "resend failed: %s", vr.log_message);
			return keep_asking(r, TWOFA_MSG_RESEND_FAILED, 0);
		}
		end(r, TWOFA_ROUND_OUTAGE, PAM_AUTHINFO_UNAVAIL, TWOFA_MSG_UNREACHABLE, 0,
		    "Twilio unreachable at send (%s)", vr.log_message);
		return SEND_DECIDED;
	case TWOFA_VERIFY_BAD_CREDENTIALS:
	case TWOFA_VERIFY_SERVICE_NOT_FOUND:
		end(r, TWOFA_ROUND_ERROR, PAM_SERVICE_ERR, TWOFA_MSG_MISCONFIGURED, 0, "send refused: %s",
		    vr.log_message);
		return SEND_DECIDED;
	default:
		if (resend)
			return keep_asking(r, TWOFA_MSG_VERIFY, (long)vo);
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

static twofa_round_outcome approved(round *r)
{
	twofa_state_login s = state_login(r);
	bool locked = false;
	twofa_error err;

	r->sent = false;
	if (!r->o->record_success)
		return end(r, TWOFA_ROUND_APPROVED, PAM_SUCCESS, TWOFA_MSG_NONE, 0, "code approved");
	if (twofa_state_record_success(r->cfg->state_db, &s, time(NULL), r->o->service, r->cfg->grace_period,
				       &locked, &err) != TWOFA_OK)
		return end(r, TWOFA_ROUND_ERROR, PAM_SERVICE_ERR, TWOFA_MSG_NONE, 0,
			   "state store at success: %s", err.msg);
	if (locked)
		return end(r, TWOFA_ROUND_DENIED, PAM_MAXTRIES, TWOFA_MSG_LOCKED, 0,
			   "code approved, but locked out meanwhile");
	return end(r, TWOFA_ROUND_APPROVED, PAM_SUCCESS, TWOFA_MSG_NONE, 0, "code approved");
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

static void build_prompt(round *r, retry_reason retry, long left, char *out, size_t size)
{
	char offers[160], base[256 + 192];
	const char *label = twofa_channel_label(r->channel);

	if (retry == RETRY_NONE) {
		twofa_round_offers(allowed(r), r->t->own_channel, r->channel, r->t->phone, r->t->email,
				   offers, sizeof(offers));
		if (r->io->code_prompt == NULL ||
		    !r->io->code_prompt(r->io->ctx, label, r->res->to, offers, base, sizeof(base)))
			snprintf(base, sizeof(base), "Enter the code sent by %s to %s%s: ", label, r->res->to,
				 offers);
	} else if (!twofa_message_text(retry_prompt[retry], left, base, sizeof(base))) {
		(void)twofa_strlcpy(base, "Enter the code: ", sizeof(base));
	}
	snprintf(out, size, "%s%s%s", r->notice, r->notice[0] != '\0' ? " " : "", base);
	r->notice[0] = '\0';
}

/* Trims blanks (and a trailing CR/LF) in place. */
static char *trim(char *s)
{
	char *e;

	while (*s == ' ' || *s == '\t')
		s++;
	e = s + strlen(s);
	while (e > s && (e[-1] == ' ' || e[-1] == '\t' || e[-1] == '\r' || e[-1] == '\n'))
		*--e = '\0';
	return s;
}

static twofa_round_outcome ask_for_code(round *r)
{
	long max_tries = r->o->max_tries > 0 ? r->o->max_tries : 1;
	long rounds = 0, max_rounds = max_tries + r->cfg->send_limit + 1;
	char prompt[256 + 512];
	retry_reason retry = RETRY_NONE;

	while (r->res->tries < max_tries && rounds++ < max_rounds) {
		char *answer = NULL, *text;
		twofa_channel ch = r->channel;
		twofa_round_ask a;
		twofa_verify_result vr;
		twofa_verify_outcome vo;

		build_prompt(r, retry, max_tries - r->res->tries, prompt, sizeof(prompt));
		a = r->io->ask(r->io->ctx, true, prompt, &answer);
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
		text = trim(answer);
		if (text[0] == '\0') {
			r->res->tries++;
			retry = RETRY_EMPTY;
			twofa_free_secret(answer);
			continue;
		}
		if (strcasecmp(text, "resend") == 0 || twofa_channel_parse(text, &ch)) {
			twofa_free_secret(answer);
			if (send_code(r, ch, true) == SEND_DECIDED) {
				cancel_pending(r);
				return r->res->outcome;
			}
			retry = r->notice[0] == '\0' ? RETRY_NONE : retry;
			continue;
		}
		memset(&vr, 0, sizeof(vr));
		vo = twofa_verify_check(r->v, r->to, text, &vr);
		twofa_free_secret(answer);
		r->res->verify = vo;
		switch (vo) {
		case TWOFA_VERIFY_APPROVED:
			return approved(r);
		case TWOFA_VERIFY_OUTAGE:
			/* No cancel: it would wait on the dead server again. */
			r->sent = false;
			return end(r, TWOFA_ROUND_OUTAGE, PAM_AUTHINFO_UNAVAIL, TWOFA_MSG_UNREACHABLE, 0,
				   "Twilio unreachable at check (%s)", vr.log_message);
		case TWOFA_VERIFY_WRONG_CODE:
		case TWOFA_VERIFY_INVALID_CODE:
			r->res->tries++;
			if (count_wrong_code(r)) {
				cancel_pending(r);
				return end(r, TWOFA_ROUND_DENIED, PAM_MAXTRIES, TWOFA_MSG_LOCKED, 0,
					   "wrong code; locked out after too many failures");
			}
			retry = RETRY_WRONG;
			break;
		case TWOFA_VERIFY_EXPIRED:
			r->res->tries++;
			r->sent = false;
			retry = RETRY_EXPIRED;
			break;
		case TWOFA_VERIFY_TOO_MANY_CHECKS:
			cancel_pending(r);
			return end(r, TWOFA_ROUND_DENIED, PAM_MAXTRIES, TWOFA_MSG_VERIFY, (long)vo, "%s",
				   vr.log_message);
		default:
			cancel_pending(r);
			return end(r, TWOFA_ROUND_DENIED, PAM_AUTH_ERR, TWOFA_MSG_VERIFY, (long)vo,
				   "check refused: %s", vr.log_message);
		}
	}
	cancel_pending(r);
	return end(r, TWOFA_ROUND_DENIED, PAM_MAXTRIES, retry_said[retry], 0,
		   "wrong code %ld times (max_tries)", r->res->tries);
}

twofa_round_outcome twofa_code_round(const twofa_config *cfg, twofa_verify *v, const twofa_round_target *t,
				     const twofa_round_options *o, const twofa_round_io *io,
				     twofa_round_result *res)
{
	round r = {.cfg = cfg, .v = v, .t = t, .o = o, .io = io, .res = res, .channel = t->channel};

	memset(res, 0, sizeof(*res));
	res->verify = TWOFA_VERIFY_OK;
	if (io == NULL || io->ask == NULL || t->user == NULL)
		return end(&r, TWOFA_ROUND_ERROR, PAM_SERVICE_ERR, TWOFA_MSG_NONE, 0, "code round: no prompt");
	if ((o->count_failures || o->record_success) && o->origin == NULL)
		return end(&r, TWOFA_ROUND_ERROR, PAM_SERVICE_ERR, TWOFA_MSG_NONE, 0, "code round: no origin");
	if (send_code(&r, t->channel, false) != SEND_SENT)
		return res->outcome;
	return ask_for_code(&r);
}

void twofa_round_decide(const twofa_round_result *res, twofa_decision *d)
{
	twofa_result result = TWOFA_RESULT_DENIED;
	int priority = LOG_NOTICE;

	switch (res->outcome) {
	case TWOFA_ROUND_APPROVED:
		result = TWOFA_RESULT_SUCCESS;
		priority = LOG_INFO;
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
	if (res->channel[0] != '\0')
		twofa_decision_set_destination(d, res->channel, res->to);
}
