/* SPDX-License-Identifier: GPL-3.0-or-later */
#include "twofa_build.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include <sodium.h>

#include "host.h"
#include "decision.h"
#include "locker.h"
#include "phone.h"
#include "recovery.h"
#include "second_factor.h"
#include "send_budget.h"
#include "state.h"
#include "util.h"
#include "verify.h"

/* The login's round runs on lib/code_round: this file gives it the
 * member (the target and options), the hooks for recovery and bypass codes
 * and the screen-locker check (twofa_round_host_io), and turns what it
 * comes to into the decision: failmode decides an outage. */

static void target_member(const twofa_member *m, twofa_round_target *t)
{
	twofa_round_target x = {.user = m->user,
				.enrolled = true,
				.phone = m->phone,
				.email = m->email,
				.country = m->country,
				.channel = m->channel,
				.own_channel = m->channel,
				.rate_limit_id = m->rate_limit_id,
				.totp_entity = m->totp_entity,
				.totp_factor = m->totp_factor};

	*t = x;
}

static void login_options(const twofa_options *opts, const twofa_audit *audit, twofa_round_options *o)
{
	const twofa_config *c = &opts->cfg;
	twofa_round_options x = {.max_tries = c->max_tries,
				 .reserve_sends = true,
				 .count_failures = true,
				 .record_success = true,
				 .origin = &audit->origin,
				 .service = audit->service,
				 .recovery = c->recovery,
				 .outage_recovery = c->failmode != TWOFA_FAILMODE_SAFE};

	*o = x;
}

/* The round's result as the login's decision. An outage (no answer, 5xx,
 * timeout, TLS): failmode decides. Anything else Twilio says is never an
 * outage and never opens the door, nor does a refused send (a send limit,
 * send_budget). The exchange runs in the server, which the caller can
 * neither stop nor starve, so the caller cannot make an outage; a sandbox
 * without a network is a local error (lib/netif.c), not one. */
static void decide_round(const twofa_options *opts, const twofa_round_result *res, twofa_decision *d)
{
	twofa_round_decide(res, d);
	if (res->outcome != TWOFA_ROUND_OUTAGE)
		return;
	if (opts->cfg.failmode == TWOFA_FAILMODE_SAFE)
		twofa_decide(d, PAM_SUCCESS, TWOFA_RESULT_SUCCESS, LOG_CRIT, TWOFA_MSG_NONE,
			     "FAILMODE=SAFE: %s; let in on the password alone", res->reason);
	else
		twofa_decide(d, PAM_AUTHINFO_UNAVAIL, TWOFA_RESULT_DENIED, LOG_ERR, TWOFA_MSG_UNREACHABLE,
			     "%s, failmode=secure", res->reason);
	if (res->channel[0] != '\0')
		twofa_decision_set_destination(d, res->channel, res->to);
}

/* A text the final message would carry, which PAM_SILENT drops: said in a
 * prompt that only waits instead. Its answer means nothing and is wiped; a
 * failed conversation there changes nothing (the code is used already). */
static void tell_in_prompt(twofa_host *host, twofa_message message, long arg)
{
	char text[320], wait[64], prompt[400];
	char *answer = NULL;

	if (!twofa_message_text(message, arg, text, sizeof(text)) ||
	    !twofa_message_text(TWOFA_MSG_PRESS_ENTER, 0, wait, sizeof(wait)))
		return;
	snprintf(prompt, sizeof(prompt), "%s %s", text, wait);
	if (twofa_host_ask(host, PAM_PROMPT_ECHO_ON, prompt, &answer) == PAM_SUCCESS)
		twofa_free_secret(answer);
}

/* code_from_answer: the password's answer brought the code (split_answer
 * kept it), or it did not and one is sent for the next attempt, unless a
 * code sent within its lifetime may still be on its way. A code on its way
 * is no failure: nothing was guessed; it stays pending for that attempt. */
static void code_from_answer(twofa_host *host, const twofa_options *opts, twofa_verify *v,
			     const twofa_round_target *t, const twofa_round_options *o,
			     const twofa_round_io *io, const twofa_locker_look *look, twofa_decision *d)
{
	const char *code = twofa_locker_kept_code(host);
	const char *why;
	twofa_round_result res;

	if (look->last_send != 0 || t->channel == TWOFA_CHANNEL_TOTP) {
		(void)twofa_code_round_check(&opts->cfg, v, t, o, io, code, &res);
		why = res.reason;
	} else {
		(void)twofa_code_round_send(&opts->cfg, v, t, o, io, &res);
		why = code != NULL ? "a code in the answer, but none was sent lately: one sent"
				   : "no code in the answer: one sent, to come with the password";
	}
	if (res.outcome != TWOFA_ROUND_SENT) {
		decide_round(opts, &res, d);
		return;
	}
	twofa_decide(d, PAM_AUTH_ERR, TWOFA_RESULT_DENIED, LOG_NOTICE, TWOFA_MSG_CODE_IN_ANSWER, "%s", why);
	d->message_arg = (long)t->channel;
	twofa_decision_set_destination(d, res.channel, res.to);
}

void twofa_second_factor(twofa_host *host, const twofa_options *opts, twofa_member_store *members,
			 const twofa_member *member, bool silent, twofa_audit *audit, twofa_decision *d)
{
	twofa_round_host ctx = {.host = host,
				.opts = opts,
				.audit = audit,
				.members = members,
				.member = member};
	twofa_locker_look look;
	twofa_round_target t;
	twofa_round_options o;
	twofa_round_result res;
	twofa_round_io io;
	twofa_verify *v = NULL;
	twofa_error err;

	if (!twofa_locker_look_up(host, opts, member, audit, &look, &err)) {
		twofa_decide(d, PAM_SERVICE_ERR, TWOFA_RESULT_ERROR, LOG_ERR, TWOFA_MSG_NONE,
			     "state store: %s", err.msg);
		return;
	}
	if (!opts->code_from_answer && look.remembered) {
		/* The program answered the code prompt with the password lately:
		 * it cannot ask for a code, so nothing is sent in vain. */
		twofa_decide(d, PAM_AUTH_ERR, TWOFA_RESULT_DENIED, LOG_NOTICE, TWOFA_MSG_SINGLE_ANSWER,
			     "%s%s", TWOFA_LOCKER_REASON, "; remembered from an earlier login, nothing sent");
		return;
	}
	if (twofa_verify_new(&v, &opts->cfg, &err) != TWOFA_OK) {
		twofa_decide(d, PAM_SERVICE_ERR, TWOFA_RESULT_ERROR, LOG_ERR, TWOFA_MSG_NONE,
			     "Twilio client: %s", err.msg);
		return;
	}
	target_member(member, &t);
	login_options(opts, audit, &o);
	twofa_round_host_io(&ctx, &io);
	if (opts->code_from_answer) {
		code_from_answer(host, opts, v, &t, &o, &io, &look, d);
	} else {
		(void)twofa_code_round(&opts->cfg, v, &t, &o, &io, &res);
		decide_round(opts, &res, d);
		/* Two or fewer recovery codes left: the member must read it. */
		if (res.outcome == TWOFA_ROUND_APPROVED && res.message == TWOFA_MSG_RECOVERY_LOW && silent)
			tell_in_prompt(host, TWOFA_MSG_RECOVERY_LOW, res.message_arg);
	}
	twofa_verify_free(v);
}

/* The member holds a recovery or bypass code that can let in now. */
static bool round_host_onetime_held(void *ctx)
{
	const twofa_round_host *h = ctx;

	return twofa_recovery_available(h->member, time(NULL));
}

/* The round's reason line, cut to fit. */
static void say(twofa_round_result *res, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void say(twofa_round_result *res, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	(void)vsnprintf(res->reason, sizeof(res->reason), fmt, ap);
	va_end(ap);
}

/* A recovery or bypass code, consumed in the member store; only a consume
 * that returned TWOFA_OK lets in. Logged at LOG_NOTICE with what is left
 * (never the code); two or fewer recovery codes left: the member is asked to
 * get a new set. */
static twofa_round_onetime round_host_onetime_use(void *ctx, const char *code, bool outage,
						  twofa_round_result *res)
{
	const twofa_round_host *h = ctx;
	const char *why = outage ? " (Twilio unreachable)" : "";
	twofa_recovery_use use;
	const char *kind;

	switch (twofa_recovery_try(h->members, h->member, code, time(NULL), &use)) {
	case TWOFA_RECOVERY_USED:
		if (use.kind == TWOFA_MEMBER_CODE_RECOVERY) {
			bool low = use.left <= 2;
			res->message = low ? TWOFA_MSG_RECOVERY_LOW : TWOFA_MSG_NONE;
			res->message_arg = low ? use.left : 0;
			say(res, "recovery code used, %ld left%s", use.left, why);
		} else {
			res->message = TWOFA_MSG_NONE;
			res->message_arg = 0;
			say(res, "bypass code used, %ld uses left, issued by %s%s", use.left,
			    use.issuer[0] != '\0' ? use.issuer : "(not recorded)", why);
		}
		return TWOFA_ROUND_ONETIME_USED;
	case TWOFA_RECOVERY_UNAVAILABLE:
		res->pam_code = use.status == TWOFA_EUNAVAIL ? PAM_AUTHINFO_UNAVAIL : PAM_SERVICE_ERR;
		res->message = TWOFA_MSG_RECOVERY_UNAVAILABLE;
		res->message_arg = 0;
		say(res, "%s code not accepted: the member store did not consume it: %s",
		    use.kind == TWOFA_MEMBER_CODE_RECOVERY ? "recovery" : "bypass", use.why);
		return TWOFA_ROUND_ONETIME_ERROR;
	case TWOFA_RECOVERY_TAKEN:
		kind = use.kind == TWOFA_MEMBER_CODE_RECOVERY ? "recovery" : "bypass";
		twofa_host_syslog(h->host, LOG_NOTICE,
				  "a %s code of %s was refused as used: another login took it first (%s)",
				  kind, h->audit->user, use.why);
		return TWOFA_ROUND_ONETIME_WRONG;
	case TWOFA_RECOVERY_WRONG:
		break;
	}
	return TWOFA_ROUND_ONETIME_WRONG;
}

/* Minutes until t, as a message argument. */
static long minutes_until(time_t t)
{
	long long minutes = ((long long)t - (long long)time(NULL) + 59) / 60;

	return minutes < 0 ? 0 : (minutes > TWOFA_MESSAGE_ARG_MAX ? TWOFA_MESSAGE_ARG_MAX : (long)minutes);
}

/* The send policy, before every send of a login or an enrolment: the
 * countries allow-list (a member whose country is no longer listed fails
 * closed) and the host's send_budget (lib/send_budget.h). Over budget is a
 * refusal, never an outage (failmode never opens on it), its first of the
 * window one LOG_CRIT line; a counter that cannot be read refuses too. */
static twofa_round_admit round_host_admit(void *ctx, const char *country, twofa_message *message,
					  long *message_arg, char *reason, size_t reason_size)
{
	const twofa_round_host *h = ctx;
	twofa_send_verdict v;
	twofa_error err;

	twofa_error_clear(&err);
	if (twofa_send_admit(&h->opts->cfg, country, time(NULL), &v, &err) != TWOFA_OK) {
		(void)snprintf(reason, reason_size, "send budget: %s; no code sent", err.msg);
		return TWOFA_ROUND_ADMIT_ERROR;
	}
	switch (v.kind) {
	case TWOFA_SEND_ADMIT:
		return TWOFA_ROUND_ADMIT;
	case TWOFA_SEND_COUNTRY_REFUSED:
		*message = h->member != NULL ? TWOFA_MSG_COUNTRY_REFUSED : TWOFA_MSG_ENROL_COUNTRY_REFUSED;
		(void)snprintf(reason, reason_size, "country %s is not in countries; no code sent",
			       country != NULL && country[0] != '\0' ? country : "(none)");
		return TWOFA_ROUND_ADMIT_REFUSED;
	case TWOFA_SEND_OVER_BUDGET:
		break;
	}
	if (v.first_in_window)
		twofa_host_syslog(h->host, LOG_CRIT,
				  "send_budget %ld/%ld s spent: no code is sent from this host until the window "
				  "ends (logins and enrolments are refused, never let in)",
				  v.budget, v.window);
	*message_arg = minutes_until(v.window_ends);
	(void)snprintf(reason, reason_size, "send_budget %ld/%ld s spent; no code sent", v.budget, v.window);
	return TWOFA_ROUND_ADMIT_SPENT;
}

/* The program answered the code prompt with the password: it cannot ask for
 * a code. Its user is no guesser, so no failure is counted; the service is
 * remembered so that its next logins send nothing in vain. */
static bool round_host_screen(void *ctx, const char *answer, twofa_message *message, char *reason,
			      size_t reason_size)
{
	const twofa_round_host *h = ctx;

	if (!twofa_locker_answered_with_password(h->host, answer))
		return false;
	twofa_locker_remember(h->host, h->opts, h->member, h->audit);
	*message = TWOFA_MSG_SINGLE_ANSWER;
	(void)twofa_strlcpy(reason, TWOFA_LOCKER_REASON, reason_size);
	return true;
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
			    .admit_send = round_host_admit};

	if (ctx->member != NULL) {
		r.screen = round_host_screen;
		r.onetime_held = round_host_onetime_held;
		r.onetime_use = round_host_onetime_use;
	}
	*io = r;
}
