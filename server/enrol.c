/* SPDX-License-Identifier: GPL-3.0-or-later */
#include "twofa_build.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <time.h>

#include <sodium.h>

#include "countries.h"
#include "enrol.h"
#include "member_read.h"
#include "phone.h"
#include "second_factor.h"
#include "send_budget.h"
#include "state.h"
#include "util.h"
#include "verify.h"

/* Prompts that may not be used in a row before the step gives up: '?' at
 * the country prompt is no bad answer, but it cannot go on for ever. */
#define EXTRA_ROUNDS 3

typedef struct enrolment {
	twofa_host *host;
	const twofa_options *opts;
	twofa_member_store *members;
	const char *user;
	const twofa_member *invited;
	bool silent;
	twofa_audit *audit;
	twofa_decision *d;
	twofa_verify *verify;
	long bad;                                 /* answers that could not be used, up to max_tries */
	char notice[TWOFA_PROTO_TEXT_MAX];        /* said at the start of the next prompt */
	char invite[TWOFA_ANSWER_MAX + 1];        /* the invite's code as typed (enroll=invite) */
	char country[3];                          /* ISO alpha-2, upper case */
	char e164[TWOFA_E164_SIZE];               /* the number, normalised and looked up */
	char masked[TWOFA_DECISION_TO_MAX];       /* the number as shown */
	char rate_limit_id[TWOFA_MEMBER_ID_SIZE]; /* the new member's, carried by its sends */
} enrolment;

/* What one answer came to. */
typedef enum answer_result { ANSWER_OK = 0, ANSWER_DECLINED, ANSWER_TOO_LONG } answer_result;

static twofa_state_login enrolment_state(const enrolment *e)
{
	const twofa_config *c = &e->opts->cfg;
	twofa_state_login s = {.user = e->user,
			       .enrolled = false,
			       .origin = &e->audit->origin,
			       .lockout_failures = c->lockout_failures,
			       .lockout_seconds = c->lockout_seconds};

	return s;
}

/* Declined: an empty answer, Ctrl-C or a failed conversation at step. Not
 * a failure (nothing was guessed): nullok passes the user on, as for anyone
 * who is not enrolled. */
void twofa_enrol_declined(const twofa_options *opts, const char *step, twofa_decision *d)
{
	if (opts->nullok)
		twofa_decide(d, PAM_IGNORE, TWOFA_RESULT_IGNORED, LOG_INFO, TWOFA_MSG_ENROL_CANCELLED,
			     "not enrolled: enrolment declined at the %s (nullok)", step);
	else
		twofa_decide(d, PAM_AUTH_ERR, TWOFA_RESULT_DENIED, LOG_NOTICE, TWOFA_MSG_ENROL_CANCELLED,
			     "not enrolled: enrolment declined at the %s", step);
}

static void declined(enrolment *e, const char *step)
{
	twofa_enrol_declined(e->opts, step, e->d);
}

static void misconfigured(enrolment *e, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void misconfigured(enrolment *e, const char *fmt, ...)
{
	char why[TWOFA_REASON_MAX];
	va_list ap;

	va_start(ap, fmt);
	(void)vsnprintf(why, sizeof(why), fmt, ap);
	va_end(ap);
	twofa_decide(e->d, PAM_SERVICE_ERR, TWOFA_RESULT_ERROR, LOG_ERR, TWOFA_MSG_MISCONFIGURED,
		     "enrolment: %s", why);
}

/* Sets the notice of the next prompt to a row's text. */
static void notice(enrolment *e, twofa_message message)
{
	if (!twofa_message_text(message, 0, e->notice, sizeof(e->notice)))
		e->notice[0] = '\0';
}

/* Asks the row's prompt, after the pending notice (PAM_SILENT drops
 * messages, not prompts). The answer is trimmed of blanks; an empty one,
 * or a failed conversation, declines. */
static answer_result ask(enrolment *e, int style, twofa_message message, char **answer)
{
	char base[128], prompt[TWOFA_PROTO_TEXT_MAX + 1];
	char *start, *end;
	int rc;

	*answer = NULL;
	if (!twofa_message_text(message, 0, base, sizeof(base)))
		return ANSWER_DECLINED;
	if ((size_t)snprintf(prompt, sizeof(prompt), "%s%s%s", e->notice, e->notice[0] != '\0' ? " " : "",
			     base) >= sizeof(prompt))
		(void)twofa_strlcpy(prompt, base, sizeof(prompt));
	e->notice[0] = '\0';
	rc = twofa_host_ask(e->host, style, prompt, answer);
	if (rc == PAM_AUTH_ERR)
		return ANSWER_TOO_LONG;
	if (rc != PAM_SUCCESS)
		return ANSWER_DECLINED;
	for (start = *answer; *start == ' ' || *start == '\t'; start++)
		;
	end = start + strlen(start);
	while (end > start && (end[-1] == ' ' || end[-1] == '\t' || end[-1] == '\r'))
		end--;
	*end = '\0';
	memmove(*answer, start, (size_t)(end - start) + 1);
	if ((*answer)[0] == '\0') {
		twofa_free_secret(*answer);
		*answer = NULL;
		return ANSWER_DECLINED;
	}
	return ANSWER_OK;
}

/* A bad answer: said before the next prompt; false once max_tries were. */
static bool ask_again(enrolment *e, twofa_message why)
{
	notice(e, why);
	return ++e->bad < e->opts->cfg.max_tries;
}

static void too_many(enrolment *e, const char *step)
{
	twofa_decide(e->d, PAM_AUTH_ERR, TWOFA_RESULT_DENIED, LOG_NOTICE, TWOFA_MSG_ENROL_TOO_MANY,
		     "not enrolled: %ld answers at the %s could not be used (max_tries)", e->bad, step);
}

/* "Countries: GB IE FR." before the next prompt: the codes a number may be
 * of here, since PAM_SILENT would drop a message listing them. */
static void list_countries(enrolment *e)
{
	size_t used;

	notice(e, TWOFA_MSG_ENROL_COUNTRY_LIST);
	used = strlen(e->notice);
	/* Leaves room for the prompt that follows. */
	for (size_t i = 0; i < twofa_country_count() && used + 8 < sizeof(e->notice) - 128; i++) {
		const twofa_country *c = twofa_country_at(i);
		if (!twofa_country_allowed(&e->opts->cfg, c->code))
			continue;
		used += (size_t)snprintf(e->notice + used, sizeof(e->notice) - used, " %s", c->code);
	}
	if (used + 1 < sizeof(e->notice))
		(void)strcat(e->notice, ".");
}

/* The country prompt until a code of the table that countries allows. */
static bool ask_country(enrolment *e)
{
	long rounds = 0;

	while (rounds++ < e->opts->cfg.max_tries + EXTRA_ROUNDS) {
		char *answer = NULL;
		answer_result r = ask(e, PAM_PROMPT_ECHO_ON, TWOFA_MSG_ENROL_COUNTRY_PROMPT, &answer);
		const twofa_country *c;

		if (r == ANSWER_DECLINED) {
			declined(e, "country prompt");
			return false;
		}
		if (r == ANSWER_OK && strcmp(answer, "?") == 0) {
			twofa_free_secret(answer);
			list_countries(e);
			continue;
		}
		c = r == ANSWER_OK ? twofa_country_by_code(answer) : NULL;
		twofa_free_secret(answer);
		if (c == NULL) {
			if (!ask_again(e, TWOFA_MSG_ENROL_COUNTRY_UNKNOWN))
				break;
			continue;
		}
		if (!twofa_country_allowed(&e->opts->cfg, c->code)) {
			twofa_audit_debug(e->audit, "enrolment: country %s is not in countries", c->code);
			if (!ask_again(e, TWOFA_MSG_ENROL_COUNTRY_REFUSED))
				break;
			continue;
		}
		memcpy(e->country, c->code, sizeof(e->country));
		return true;
	}
	too_many(e, "country prompt");
	return false;
}

typedef enum number_check { NUMBER_GOOD = 0, NUMBER_BAD, NUMBER_DECIDED } number_check;

/* Twilio Lookup on the normalised number. Unreachable (or any answer but
 * yes or no) refuses the enrolment: failmode=safe opens only for members. */
static number_check look_up(enrolment *e)
{
	char found[TWOFA_E164_MAX + 1] = "";
	twofa_verify_result res;
	twofa_verify_outcome o;

	memset(&res, 0, sizeof(res));
	o = twofa_lookup(e->verify, e->e164, e->country, found, &res);
	switch (o) {
	case TWOFA_VERIFY_OK:
		if (strcmp(found, e->e164) != 0)
			twofa_audit_debug(e->audit,
					  "enrolment: Lookup reads %s as another number; kept as normalised",
					  e->masked);
		return NUMBER_GOOD;
	case TWOFA_VERIFY_NUMBER_INVALID:
		twofa_audit_debug(e->audit, "enrolment: Lookup says %s is not valid", e->masked);
		return NUMBER_BAD;
	case TWOFA_VERIFY_BAD_CREDENTIALS:
	case TWOFA_VERIFY_SERVICE_NOT_FOUND:
		misconfigured(e, "Twilio Lookup: %s", res.log_message);
		return NUMBER_DECIDED;
	default:
		twofa_decide(e->d, PAM_AUTHINFO_UNAVAIL, TWOFA_RESULT_DENIED, LOG_ERR, TWOFA_MSG_UNREACHABLE,
			     "not enrolled: Twilio Lookup unreachable or refused (%s); enrolment refused "
			     "whatever failmode says",
			     res.log_message);
		return NUMBER_DECIDED;
	}
}

/* A number bound to max_members_per_phone other members already is refused
 * with the words of any other unusable number: the user learns nothing of
 * who holds it. */
static number_check shared_number(enrolment *e)
{
	size_t users = 0;
	twofa_error err;

	twofa_error_clear(&err);
	if (twofa_member_store_phone_users(e->members, e->e164, e->user, &users, &err) != TWOFA_OK) {
		twofa_decide(e->d, twofa_read_member_failed(err.status, PAM_SERVICE_ERR), TWOFA_RESULT_ERROR,
			     LOG_ERR, TWOFA_MSG_NONE, "not enrolled: member store: %s", err.msg);
		return NUMBER_DECIDED;
	}
	if ((long)users < e->opts->cfg.max_members_per_phone)
		return NUMBER_GOOD;
	twofa_host_syslog(e->host, LOG_NOTICE,
			  "enrolment of %s: %s is the number of %zu member(s) already (max_members_per_phone); "
			  "refused",
			  e->audit->user, e->masked, users);
	return NUMBER_BAD;
}

/* The phone prompt until a number that normalises for the country, that
 * may be used, and that Lookup knows. */
static bool ask_number(enrolment *e)
{
	while (e->bad < e->opts->cfg.max_tries) {
		twofa_phone_result parsed;
		char *answer = NULL;
		answer_result r = ask(e, PAM_PROMPT_ECHO_ON, TWOFA_MSG_ENROL_PHONE_PROMPT, &answer);
		twofa_phone_reason why;
		number_check got;

		if (r == ANSWER_DECLINED) {
			declined(e, "phone prompt");
			return false;
		}
		why = r == ANSWER_OK ? twofa_phone_parse(answer, e->country, &parsed)
				     : TWOFA_PHONE_INPUT_TOO_LONG;
		twofa_free_secret(answer);
		if (why == TWOFA_PHONE_INTERNAL) {
			twofa_decide(e->d, PAM_SERVICE_ERR, TWOFA_RESULT_ERROR, LOG_ERR, TWOFA_MSG_NONE,
				     "not enrolled: the number could not be read (internal error)");
			return false;
		}
		if (why != TWOFA_PHONE_OK) {
			twofa_audit_debug(e->audit, "enrolment: not a number of %s: %s", e->country,
					  twofa_phone_reason_name(why));
			(void)ask_again(e, TWOFA_MSG_ENROL_PHONE_INVALID);
			continue;
		}
		memcpy(e->e164, parsed.e164, sizeof(e->e164));
		sodium_memzero(&parsed, sizeof(parsed));
		twofa_phone_mask(e->e164, e->masked, sizeof(e->masked));
		got = shared_number(e);
		if (got == NUMBER_GOOD)
			got = look_up(e);
		if (got == NUMBER_GOOD)
			return true;
		if (got == NUMBER_DECIDED)
			return false;
		e->e164[0] = e->masked[0] = '\0';
		(void)ask_again(e, TWOFA_MSG_ENROL_PHONE_REFUSED);
	}
	too_many(e, "phone prompt");
	return false;
}

static void state_failed(enrolment *e, const twofa_error *err)
{
	twofa_decide(e->d, PAM_SERVICE_ERR, TWOFA_RESULT_ERROR, LOG_ERR, TWOFA_MSG_NONE, "state store: %s",
		     err->msg);
}

/* Begins a check counted like a password's, under the not-enrolled key:
 * true with *reservation to end; false with *d decided while locked out
 * or as many checks are under way as failures left. */
static bool begin_check(enrolment *e, time_t *reservation)
{
	twofa_state_login s = enrolment_state(e);
	twofa_attempt gate = TWOFA_ATTEMPT_GO;
	twofa_error err;

	*reservation = 0;
	if (twofa_state_begin_attempt(e->opts->cfg.state_db, &s, time(NULL), &gate, reservation, &err) !=
	    TWOFA_OK) {
		state_failed(e, &err);
		return false;
	}
	if (gate == TWOFA_ATTEMPT_GO)
		return true;
	twofa_decide(e->d, PAM_MAXTRIES, TWOFA_RESULT_DENIED, LOG_NOTICE, TWOFA_MSG_LOCKED, "not enrolled: %s",
		     gate == TWOFA_ATTEMPT_LOCKED ? "locked out after too many failures"
						  : "as many checks under way as failures left");
	return false;
}

/* Ends it: a failure counted, or the reservation given back. */
static bool end_check(enrolment *e, time_t reservation, bool failed)
{
	const twofa_config *c = &e->opts->cfg;
	twofa_state_login s = enrolment_state(e);
	twofa_error err;

	if ((failed ? twofa_state_record_failure(c->state_db, &s, time(NULL), reservation, NULL, NULL, &err)
		    : twofa_state_release(c->state_db, &s, time(NULL), reservation, &err)) == TWOFA_OK)
		return true;
	state_failed(e, &err);
	return false;
}

/* The invite's code, checked against the invited record and counted like a
 * password check (a wrong one is a failure in state.db). Asked only of a
 * user with an invited record (the caller decides); the code is kept for
 * the store's write, which consumes it. */
static bool ask_invite(enrolment *e)
{
	time_t reservation = 0;
	char *answer = NULL;
	answer_result r = ask(e, PAM_PROMPT_ECHO_OFF, TWOFA_MSG_ENROL_INVITE_PROMPT, &answer);
	bool right;

	if (r == ANSWER_DECLINED) {
		declined(e, "enrolment code prompt");
		return false;
	}
	if (!begin_check(e, &reservation)) {
		twofa_free_secret(answer);
		return false;
	}
	right = r == ANSWER_OK && twofa_member_invite_matches(e->invited, answer, time(NULL));
	if (right)
		(void)twofa_strlcpy(e->invite, answer, sizeof(e->invite));
	twofa_free_secret(answer);
	if (!end_check(e, reservation, !right))
		return false;
	if (!right)
		twofa_decide(e->d, PAM_AUTH_ERR, TWOFA_RESULT_DENIED, LOG_NOTICE, TWOFA_MSG_ENROL_INVITE_WRONG,
			     "not enrolled: wrong, used or expired enrolment code");
	return right;
}

/* Refuses before any prompt while the user is locked out here: failures
 * of earlier enrolments, invites under the not-enrolled key and codes
 * under the name, as a member's. */
static bool not_locked(enrolment *e)
{
	twofa_state_entry named;
	twofa_error err;
	time_t reservation = 0;
	bool locked;

	if (!begin_check(e, &reservation) || !end_check(e, reservation, false))
		return false;
	if (twofa_state_read(e->opts->cfg.state_db, e->user, &named, &err) != TWOFA_OK) {
		state_failed(e, &err);
		return false;
	}
	locked = twofa_state_locked_until(&named, e->audit->origin.source, time(NULL)) != 0;
	sodium_memzero(&named, sizeof(named));
	if (locked)
		twofa_decide(e->d, PAM_MAXTRIES, TWOFA_RESULT_DENIED, LOG_NOTICE, TWOFA_MSG_LOCKED,
			     "not enrolled: locked out after too many failures; no enrolment offered");
	return !locked;
}

/* A text the final message would carry, which PAM_SILENT drops: said in a
 * prompt that only waits. Its answer means nothing. */
static void say_in_prompt(enrolment *e, twofa_message message)
{
	char text[320], wait[64], prompt[400];
	char *answer = NULL;

	if (!e->silent || !twofa_message_text(message, 0, text, sizeof(text)) ||
	    !twofa_message_text(TWOFA_MSG_PRESS_ENTER, 0, wait, sizeof(wait)))
		return;
	snprintf(prompt, sizeof(prompt), "%s %s", text, wait);
	if (twofa_host_ask(e->host, PAM_PROMPT_ECHO_ON, prompt, &answer) == PAM_SUCCESS)
		twofa_free_secret(answer);
}

/* The member as the proved number makes it: no twofa password (the first
 * factor is another module's), active or pending by approval. */
static void new_member(const enrolment *e, twofa_member *m, time_t now)
{
	memset(m, 0, sizeof(*m));
	m->user = (char *)e->user;
	memcpy(m->phone, e->e164, sizeof(m->phone));
	memcpy(m->country, e->country, sizeof(m->country));
	m->channel = e->opts->cfg.channel;
	m->status = e->opts->cfg.approval == TWOFA_APPROVAL_MANUAL ? TWOFA_MEMBER_PENDING
								   : TWOFA_MEMBER_ACTIVE;
	m->created = m->updated = m->verified = now;
	memcpy(m->rate_limit_id, e->rate_limit_id, sizeof(m->rate_limit_id));
}

/* The code round (lib/code_round) to the number, by the configured
 * channel: sends reserved against the user's send_limit, wrong codes
 * counted as failures under the not-enrolled key (with the invite's), the
 * lockout re-checked at approval, no recovery code, the send policy
 * checked before every send. An outage refuses (failmode=safe opens for
 * members only); a cancelled prompt declines. True when approved. */
static bool prove_number(enrolment *e)
{
	const twofa_config *c = &e->opts->cfg;
	twofa_round_host ctx = {.host = e->host, .opts = e->opts, .audit = e->audit};
	twofa_round_target t = {.user = e->user,
				.enrolled = false,
				.phone = e->e164,
				.country = e->country,
				.channel = c->channel,
				.own_channel = c->channel,
				.rate_limit_id = e->rate_limit_id};
	twofa_round_options o = {.max_tries = c->max_tries,
				 .reserve_sends = true,
				 .count_failures = true,
				 .record_success = true,
				 .origin = &e->audit->origin,
				 .service = e->audit->service};
	twofa_round_result res;
	twofa_round_io io;

	twofa_round_host_io(&ctx, &io);
	if (twofa_code_round(c, e->verify, &t, &o, &io, &res) == TWOFA_ROUND_APPROVED)
		return true;
	if (res.outcome == TWOFA_ROUND_CANCELLED && res.ask_cancelled && !res.ask_too_long)
		declined(e, "code prompt");
	else
		twofa_round_decide(&res, e->d);
	if (res.channel[0] != '\0')
		twofa_decision_set_destination(e->d, res.channel, res.to);
	return false;
}

/* A full success for the new member: its first login, with grace. */
static void record_login(enrolment *e, time_t now)
{
	const twofa_config *c = &e->opts->cfg;
	twofa_state_login s = enrolment_state(e);
	bool locked = false;
	twofa_error err;

	s.enrolled = true;
	if (twofa_state_record_success(c->state_db, &s, now, e->audit->service, c->grace_period, &locked,
				       &err) != TWOFA_OK)
		twofa_host_syslog(e->host, LOG_ERR, "could not record the first login of %s: %s",
				  e->audit->user, err.msg);
}

/* Stores the member the approved code proved, in one write that fails when
 * another login stored the user first (and, with an invite, consumes it). */
static void store(enrolment *e)
{
	const char *channel = twofa_channel_name(e->opts->cfg.channel);
	twofa_member m;
	twofa_error err;
	time_t now = time(NULL);
	twofa_status st;

	new_member(e, &m, now);
	twofa_error_clear(&err);
	st = twofa_member_store_enrol(e->members, &m, e->invited != NULL ? e->invite : NULL, now, &err);
	sodium_memzero(e->invite, sizeof(e->invite));
	if (st == TWOFA_EEXIST || (st == TWOFA_EPERM && e->invited != NULL)) {
		twofa_decide(e->d, PAM_AUTH_ERR, TWOFA_RESULT_DENIED, LOG_NOTICE, TWOFA_MSG_ENROL_TAKEN,
			     "not enrolled: %s; nothing stored",
			     st == TWOFA_EEXIST ? "another login enrolled the user meanwhile"
						: "the enrolment code was used or expired meanwhile");
	} else if (st != TWOFA_OK) {
		twofa_decide(e->d, twofa_read_member_failed(st, PAM_SERVICE_ERR), TWOFA_RESULT_ERROR, LOG_ERR,
			     TWOFA_MSG_NONE, "not enrolled: member store: %s", err.msg);
	} else if (m.status == TWOFA_MEMBER_PENDING) {
		twofa_host_syslog(e->host, LOG_NOTICE,
				  "%s enrolled at login with %s by %s, awaiting approval: see 'twofa-enroll list "
				  "--status pending', then 'twofa-enroll approve %s'",
				  e->audit->user, e->masked, channel, e->audit->user);
		twofa_decide(e->d, PAM_AUTH_ERR, TWOFA_RESULT_DENIED, LOG_NOTICE, TWOFA_MSG_PENDING,
			     "enrolled at login%s, awaiting approval (twofa-enroll approve)",
			     e->invited != NULL ? " with an invite" : "");
		say_in_prompt(e, TWOFA_MSG_PENDING);
	} else {
		twofa_host_syslog(e->host, LOG_NOTICE, "%s enrolled at login with %s by %s (approval=auto)",
				  e->audit->user, e->masked, channel);
		record_login(e, now);
		twofa_decide(e->d, PAM_SUCCESS, TWOFA_RESULT_SUCCESS, LOG_NOTICE, TWOFA_MSG_ENROL_DONE,
			     "enrolled at login%s (approval=auto)",
			     e->invited != NULL ? " with an invite" : "");
		e->d->message_arg = (long)e->opts->cfg.channel;
	}
	twofa_decision_set_destination(e->d, channel, e->masked);
}

void twofa_enrol(twofa_host *host, const twofa_options *opts, twofa_member_store *members, const char *user,
		 const twofa_member *invited, bool silent, twofa_audit *audit, twofa_decision *d)
{
	enrolment e = {.host = host,
		       .opts = opts,
		       .members = members,
		       .user = user,
		       .invited = invited,
		       .silent = silent,
		       .audit = audit,
		       .d = d};
	twofa_error err;

	twofa_member_new_rate_limit_id(e.rate_limit_id);
	if (opts->cfg.channel == TWOFA_CHANNEL_EMAIL) {
		misconfigured(&e, "channel = email: a code to a new member goes by sms, call or whatsapp");
		return;
	}
	if (!not_locked(&e))
		return;
	if (twofa_verify_new(&e.verify, &opts->cfg, &err) != TWOFA_OK) {
		twofa_decide(d, PAM_SERVICE_ERR, TWOFA_RESULT_ERROR, LOG_ERR, TWOFA_MSG_NONE,
			     "Twilio client: %s", err.msg);
		return;
	}
	twofa_audit_debug(audit, "not enrolled: offering enrolment (enroll=%s)",
			  twofa_enroll_name(opts->enroll));
	if ((invited == NULL || ask_invite(&e)) && ask_country(&e) && ask_number(&e) && prove_number(&e))
		store(&e);
	twofa_verify_free(e.verify);
	sodium_memzero(&e, sizeof(e));
}
