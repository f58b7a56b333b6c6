/* SPDX-License-Identifier: GPL-3.0-or-later */
#include "twofa_build.h"

#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <time.h>

#include "audit.h"
#include "authenticate.h"
#include "host.h"
#include "member_read.h"
#include "decision.h"
#include "enrol.h"
#include "password.h"
#include "pam_user.h"
#include "scope.h"
#include "second_factor.h"
#include "state.h"
#include "util.h"

/* What the first factor came to: held (or not ours to check), a wrong
 * password (the caller decides: not enrolled reads the same), or decided. */
typedef enum factor_result { FACTOR_HELD = 0, FACTOR_WRONG, FACTOR_DECIDED } factor_result;

typedef struct login {
	twofa_host *host;
	const twofa_options *opts;
	twofa_member_store *members;
	twofa_audit *audit;
	twofa_decision *d;
	const char *user;
	bool enrolled;
	bool invited; /* l->member is an invited record: not enrolled */
	bool silent;  /* PAM_SILENT */
	twofa_member member;
	twofa_state_entry state;
} login;

static void out_of_memory(login *l)
{
	twofa_decide(l->d, PAM_BUF_ERR, TWOFA_RESULT_ERROR, LOG_ERR, TWOFA_MSG_NONE, "out of memory");
}

/* The password from an earlier module or from the user. *password is a
 * copy the caller wipes; *from_stack says PAM_AUTHTOK was already set.
 * FACTOR_HELD when there is one. For a name that is not enrolled, a
 * password that cannot be right reads as any wrong one (FACTOR_WRONG). */
static factor_result get_password(login *l, char **password, bool *from_stack)
{
	const void *item = NULL;
	int rc;

	*password = NULL;
	*from_stack = false;
	if (l->opts->use_first_pass || l->opts->try_first_pass) {
		if (twofa_host_get_item(l->host, PAM_AUTHTOK, &item) == PAM_SUCCESS && item != NULL) {
			*password = strdup(item);
			*from_stack = true;
			if (*password != NULL)
				return FACTOR_HELD;
			out_of_memory(l);
			return FACTOR_DECIDED;
		}
		if (l->opts->use_first_pass) {
			if (!l->enrolled)
				return FACTOR_WRONG;
			twofa_decide(l->d, PAM_AUTH_ERR, TWOFA_RESULT_DENIED, LOG_NOTICE, TWOFA_MSG_NONE,
				     "use_first_pass but no earlier module set a password");
			return FACTOR_DECIDED;
		}
	}
	rc = twofa_host_ask(l->host, PAM_PROMPT_ECHO_OFF, l->opts->password_prompt, password);
	if (rc == PAM_SUCCESS)
		return FACTOR_HELD;
	if (rc == PAM_AUTH_ERR && !l->enrolled)
		return FACTOR_WRONG;
	twofa_decide(l->d, rc, TWOFA_RESULT_DENIED, LOG_NOTICE, TWOFA_MSG_NONE, "%s",
		     rc == PAM_CONV_ERR ? "conversation failed at the password prompt"
					: "password answer too long");
	return FACTOR_DECIDED;
}

static twofa_status rehash(twofa_member *m, void *arg, twofa_error *err)
{
	char **fresh = arg;
	char *old = m->password_hash;

	m->password_hash = *fresh;
	*fresh = NULL;
	twofa_free_secret(old);
	m->updated = time(NULL);
	(void)err;
	return TWOFA_OK;
}

/* The limits in the config changed since the hash was made: store a new one.
 * A failure here costs nothing but a log line; the login goes on. */
static void upgrade_hash(login *l, const char *password)
{
	char hash[crypto_pwhash_STRBYTES];
	char *fresh;
	twofa_error err;

	/* A login host holds only a read credential on the directory (plus the
	 * narrow rights of etc/ldap/README): hashes are renewed by twofa-enroll
	 * passwd there, never by a login. */
	if (l->opts->cfg.store == TWOFA_STORE_LDAP ||
	    !twofa_password_needs_rehash(l->member.password_hash, l->opts->cfg.password_strength))
		return;
	if (twofa_password_hash(password, l->opts->cfg.password_strength, hash, &err) != TWOFA_OK) {
		twofa_audit_debug(l->audit, "rehash failed: %s", err.msg);
		return;
	}
	fresh = strdup(hash);
	sodium_memzero(hash, sizeof(hash));
	if (fresh == NULL)
		return;
	if (twofa_member_store_update(l->members, l->user, rehash, &fresh, &err) != TWOFA_OK)
		twofa_host_syslog(l->host, LOG_WARNING, "could not store the re-hashed password of %s: %s",
				  l->audit->user, err.msg);
	else
		twofa_audit_debug(l->audit, "password re-hashed with the configured strength");
	twofa_free_secret(fresh);
}

/* Whose lockout a password check counts against: a member, or a name that
 * is not enrolled, which gets the same lockout so it reveals nothing. Under
 * nullok an unknown name is not ours to lock out (it passes on to the next
 * module) and enrolment is no secret there: a member is asked for a code. */
static bool throttled(const login *l)
{
	return l->enrolled || !l->opts->nullok;
}

static twofa_state_login state_login(const login *l)
{
	const twofa_config *c = &l->opts->cfg;
	twofa_state_login s = {.user = l->user,
			       .enrolled = l->enrolled,
			       .origin = &l->audit->origin,
			       .lockout_failures = c->lockout_failures,
			       .lockout_seconds = c->lockout_seconds};

	return s;
}

static void refuse_locked(login *l, const char *reason)
{
	twofa_decide(l->d, PAM_MAXTRIES, TWOFA_RESULT_DENIED, LOG_NOTICE, TWOFA_MSG_LOCKED, "%s%s", reason,
		     l->enrolled ? "" : " (not enrolled)");
}

/* Ends the attempt begun before the check: a wrong password becomes a
 * failure, a right one gives its reservation back. */
static void end_attempt(login *l, time_t reservation, bool failed)
{
	const twofa_config *c = &l->opts->cfg;
	twofa_state_login s = state_login(l);
	twofa_error err;
	time_t now = time(NULL);
	twofa_status st = failed ? twofa_state_record_failure(c->state_db, &s, now, reservation, NULL, NULL,
							      &err)
				 : twofa_state_release(c->state_db, &s, now, reservation, &err);

	/* A reservation that stays behind expires by itself. */
	if (st != TWOFA_OK)
		twofa_host_syslog(l->host, LOG_ERR, "could not %s for %s: %s",
				  failed ? "count a failure" : "end a password check", l->audit->user,
				  err.msg);
}

static factor_result first_factor(login *l)
{
	const twofa_config *c = &l->opts->cfg;
	twofa_state_login s = state_login(l);
	twofa_attempt gate = TWOFA_ATTEMPT_GO;
	time_t reservation = 0;
	char *password = NULL;
	bool from_stack = false, held = false, stored = true;
	factor_result got;
	twofa_error err;
	/* Enrolled behind another module's password: nothing here to check. */
	bool no_hash = l->enrolled && l->member.password_hash == NULL;

	if (l->opts->password == TWOFA_PASSWORD_NONE)
		return FACTOR_HELD;
	got = get_password(l, &password, &from_stack);
	if (got != FACTOR_HELD)
		return got;
	/* Reserved before the Argon2id check, in one update with the lock
	 * check: parallel guesses never outnumber the failures left. */
	if (throttled(l) &&
	    twofa_state_begin_attempt(c->state_db, &s, time(NULL), &gate, &reservation, &err) != TWOFA_OK) {
		twofa_free_secret(password);
		twofa_decide(l->d, PAM_SERVICE_ERR, TWOFA_RESULT_ERROR, LOG_ERR, TWOFA_MSG_NONE,
			     "state store: %s", err.msg);
		return FACTOR_DECIDED;
	}
	if (!l->enrolled || no_hash || gate != TWOFA_ATTEMPT_GO ||
	    twofa_password_valid(password, NULL) != TWOFA_OK) {
		/* Same prompts and the same Argon2id cost as a real check, so
		 * neither reveals who is enrolled, locked or without a hash. */
		twofa_password_dummy_verify(password, c->password_strength);
	} else if (twofa_password_verify(l->member.password_hash, password, &err) == TWOFA_OK) {
		held = true;
		upgrade_hash(l, password);
		if (!from_stack && twofa_host_set_item(l->host, PAM_AUTHTOK, password) != PAM_SUCCESS)
			stored = false;
	}
	twofa_free_secret(password);
	if (gate == TWOFA_ATTEMPT_LOCKED) {
		refuse_locked(l, "locked out after too many failures");
		return FACTOR_DECIDED;
	}
	if (gate == TWOFA_ATTEMPT_BUSY) {
		refuse_locked(l, "as many password checks under way as failures left");
		return FACTOR_DECIDED;
	}
	if (throttled(l))
		end_attempt(l, reservation, !held);
	if (no_hash) {
		twofa_decide(l->d, PAM_AUTH_ERR, TWOFA_RESULT_DENIED, LOG_NOTICE, TWOFA_MSG_NONE,
			     "member has no twofa password; use password=none behind another module");
		return FACTOR_DECIDED;
	}
	if (!stored) {
		out_of_memory(l);
		return FACTOR_DECIDED;
	}
	return held ? FACTOR_HELD : FACTOR_WRONG;
}

static void not_enrolled(login *l)
{
	const char *off = l->opts->enroll_off;

	if (l->opts->nullok)
		twofa_decide(l->d, PAM_IGNORE, TWOFA_RESULT_IGNORED, LOG_INFO, TWOFA_MSG_NONE,
			     "not enrolled (nullok)%s%s", off != NULL ? "; " : "", off != NULL ? off : "");
	else
		twofa_decide(l->d, PAM_AUTH_ERR, TWOFA_RESULT_DENIED, LOG_NOTICE, TWOFA_MSG_NONE,
			     "not enrolled%s%s", off != NULL ? "; " : "", off != NULL ? off : "");
}

/* A user who is not enrolled, in scope, past the first factor an earlier
 * module checked (enroll= holds only with password=none): enrolment, when
 * this service offers it. enroll=invite offers it only to a user an admin
 * invited (an invited record); enroll=self to anyone not enrolled. */
static void offer_enrolment(login *l)
{
	const twofa_member *invited = NULL;

	if (l->opts->enroll == TWOFA_ENROLL_OFF || l->opts->password != TWOFA_PASSWORD_NONE) {
		not_enrolled(l);
		return;
	}
	/* The store's write of an invited user consumes the invite, in
	 * either mode: its code is asked for whenever there is one. */
	if (l->invited)
		invited = &l->member;
	else if (l->opts->enroll == TWOFA_ENROLL_INVITE) {
		not_enrolled(l);
		return;
	}
	twofa_enrol(l->host, l->opts, l->members, l->user, invited, l->silent, l->audit, l->d);
}

static void member_refused(login *l)
{
	if (l->member.status == TWOFA_MEMBER_PENDING)
		twofa_decide(l->d, PAM_AUTH_ERR, TWOFA_RESULT_DENIED, LOG_NOTICE, TWOFA_MSG_PENDING,
			     "enrolment awaiting approval");
	else
		twofa_decide(l->d, PAM_AUTH_ERR, TWOFA_RESULT_DENIED, LOG_NOTICE, TWOFA_MSG_DISABLED,
			     "member disabled");
}

static void run(login *l)
{
	const twofa_config *c = &l->opts->cfg;
	twofa_error err;
	twofa_status st;

	if (l->opts->enroll_ignored != NULL)
		twofa_host_syslog(l->host, LOG_NOTICE,
				  "twofa.conf's enroll = %s is ignored for this service: with %s a user who is "
				  "not enrolled has no first factor",
				  twofa_enroll_name(c->enroll), l->opts->enroll_ignored);
	if (!twofa_scope_decide(l->user, l->opts->groups, l->d))
		return;
	switch (st = twofa_read_member(l->audit, l->members, l->user, &l->member, &err)) {
	case TWOFA_OK:
		/* An invited record is not a member yet: not enrolled (nullok
		 * included); the record stays in l->member for the enrolment. */
		l->invited = l->member.status == TWOFA_MEMBER_INVITED;
		l->enrolled = !l->invited;
		break;
	case TWOFA_ENOTFOUND:
		break;
	default:
		/* Not knowing whether this is a member: fail closed, nullok
		 * and failmode=safe included (failmode is about Twilio). */
		twofa_decide(l->d, twofa_read_member_failed(st, PAM_SERVICE_ERR), TWOFA_RESULT_ERROR, LOG_ERR,
			     TWOFA_MSG_NONE, "member store: %s", err.msg);
		return;
	}
	/* An admin unlock made on any host (member.unlocked) voids what this
	 * host counted before it; then the state is read. */
	if (l->enrolled && (twofa_state_unlock(c->state_db, l->user, l->member.unlocked, &err) != TWOFA_OK ||
			    twofa_state_read(c->state_db, l->user, &l->state, &err) != TWOFA_OK)) {
		twofa_decide(l->d, PAM_SERVICE_ERR, TWOFA_RESULT_ERROR, LOG_ERR, TWOFA_MSG_NONE,
			     "state store: %s", err.msg);
		return;
	}
	switch (first_factor(l)) {
	case FACTOR_DECIDED:
		return;
	case FACTOR_WRONG:
		if (l->enrolled)
			twofa_decide(l->d, PAM_AUTH_ERR, TWOFA_RESULT_DENIED, LOG_NOTICE, TWOFA_MSG_NONE,
				     "wrong password");
		else
			not_enrolled(l);
		return;
	case FACTOR_HELD:
		break;
	}
	if (!l->enrolled) {
		offer_enrolment(l);
		return;
	}
	if (l->member.status != TWOFA_MEMBER_ACTIVE) {
		member_refused(l);
		return;
	}
	/* Checked again for password=none; the code step checks once more. */
	if (twofa_state_locked_until(&l->state, l->audit->origin.source, time(NULL)) != 0) {
		refuse_locked(l, "locked out after too many failures");
		return;
	}
	if (twofa_state_in_grace(&l->state, l->audit->origin.grace, time(NULL), c->grace_period)) {
		twofa_decide(l->d, PAM_SUCCESS, TWOFA_RESULT_SUCCESS, LOG_INFO, TWOFA_MSG_NONE,
			     "within grace period of an earlier login");
		return;
	}
	twofa_second_factor(l->host, l->opts, l->members, &l->member, l->silent, l->audit, l->d);
}

void twofa_authenticate(twofa_host *host, int flags, const twofa_options *opts, twofa_member_store *members,
			twofa_audit *audit, twofa_decision *d)
{
	const char *typed = NULL;
	char *canonical = NULL;
	login l;
	int rc;

	memset(&l, 0, sizeof(l));
	/* The entry point drops the final text under PAM_SILENT; the code
	 * step says in a prompt what must be read. */
	l.silent = (flags & PAM_SILENT) != 0;
	l.host = host;
	l.opts = opts;
	l.members = members;
	l.audit = audit;
	l.d = d;
	rc = twofa_host_get_user(host, &typed);
	if (rc != PAM_SUCCESS || typed == NULL) {
		twofa_audit_init(audit, host, "auth", NULL, opts->debug);
		twofa_decide(d,
			     rc == PAM_CONV_AGAIN ? PAM_INCOMPLETE
						  : (rc != PAM_SUCCESS ? rc : PAM_USER_UNKNOWN),
			     TWOFA_RESULT_ERROR, LOG_ERR, TWOFA_MSG_NONE, "no user name: %s",
			     twofa_host_strerror(rc));
		return;
	}
	/* Members, scope, lockout and grace all go by the account's own name. */
	if (!twofa_pam_user(host, "auth", typed, opts->debug, &canonical, audit, d))
		return;
	l.user = canonical;
	run(&l);
	twofa_member_free(&l.member);
	sodium_memzero(&l.state, sizeof(l.state));
	free(canonical);
}
