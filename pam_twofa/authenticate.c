/* SPDX-License-Identifier: GPL-3.0-or-later */
#include "twofa_build.h"

#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <time.h>

#include <security/pam_ext.h>

#include "audit.h"
#include "authenticate.h"
#include "conv.h"
#include "members.h"
#include "password.h"
#include "pam_user.h"
#include "scope.h"
#include "second_factor.h"
#include "state.h"
#include "util.h"

typedef struct login {
	pam_handle_t *pamh;
	const twofa_options *opts;
	bool silent;
	twofa_audit audit;
	const char *user;
	bool enrolled;
	twofa_member member;
	twofa_state_entry state;
} login;

/* The password from an earlier module or from the user. *password is a
 * copy the caller wipes; *from_stack says PAM_AUTHTOK was already set. */
static int get_password(login *l, char **password, bool *from_stack)
{
	const void *item = NULL;
	int rc;

	*password = NULL;
	*from_stack = false;
	if (l->opts->use_first_pass || l->opts->try_first_pass) {
		if (pam_get_item(l->pamh, PAM_AUTHTOK, &item) == PAM_SUCCESS && item != NULL) {
			*password = strdup(item);
			*from_stack = true;
			return *password != NULL ? PAM_SUCCESS : PAM_BUF_ERR;
		}
		if (l->opts->use_first_pass) {
			twofa_audit_decision(&l->audit, LOG_NOTICE, "denied",
					     "use_first_pass but no earlier module set a password");
			return PAM_AUTH_ERR;
		}
	}
	rc = twofa_conv_ask(l->pamh, PAM_PROMPT_ECHO_OFF, l->opts->password_prompt, password);
	if (rc != PAM_SUCCESS)
		twofa_audit_decision(&l->audit, LOG_NOTICE, "denied",
				     rc == PAM_CONV_ERR ? "conversation failed at the password prompt"
							: "password answer too long");
	return rc;
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

	if (!twofa_password_needs_rehash(l->member.password_hash, l->opts->cfg.password_strength))
		return;
	if (twofa_password_hash(password, l->opts->cfg.password_strength, hash, &err) != TWOFA_OK) {
		twofa_audit_debug(&l->audit, "rehash failed: %s", err.msg);
		return;
	}
	fresh = strdup(hash);
	sodium_memzero(hash, sizeof(hash));
	if (fresh == NULL)
		return;
	if (twofa_members_update(l->opts->cfg.members_db, l->user, rehash, &fresh, &err) != TWOFA_OK)
		pam_syslog(l->pamh, LOG_WARNING, "could not store the re-hashed password of %s: %s",
			   l->audit.user, err.msg);
	else
		twofa_audit_debug(&l->audit, "password re-hashed with the configured strength");
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
	twofa_state_login s = {.user = l->user, .enrolled = l->enrolled, .origin = &l->audit.origin,
			       .lockout_failures = c->lockout_failures, .lockout_seconds = c->lockout_seconds};

	return s;
}

static int refuse_locked(login *l, const char *reason)
{
	twofa_conv_tell(l->pamh, PAM_ERROR_MSG, l->silent, "Too many failed attempts. Try again later.");
	twofa_audit_decision(&l->audit, LOG_NOTICE, "denied", "%s%s", reason,
			     l->enrolled ? "" : " (not enrolled)");
	return PAM_MAXTRIES;
}

/* Ends the attempt begun before the check: a wrong password becomes a
 * failure, a right one gives its reservation back. */
static void end_attempt(login *l, time_t reservation, bool failed)
{
	const twofa_config *c = &l->opts->cfg;
	twofa_state_login s = state_login(l);
	twofa_error err;
	time_t now = time(NULL);
	twofa_status st = failed ? twofa_state_record_failure(c->state_db, &s, now, reservation, NULL, NULL, &err)
				 : twofa_state_release(c->state_db, &s, now, reservation, &err);

	/* A reservation that stays behind expires by itself. */
	if (st != TWOFA_OK)
		pam_syslog(l->pamh, LOG_ERR, "could not %s for %s: %s",
			   failed ? "count a failure" : "end a password check", l->audit.user, err.msg);
}

/* PAM_SUCCESS when the first factor holds (or is not ours to check);
 * otherwise the result to return, already logged for a member. */
static int first_factor(login *l)
{
	const twofa_config *c = &l->opts->cfg;
	twofa_state_login s = state_login(l);
	twofa_attempt gate = TWOFA_ATTEMPT_GO;
	time_t reservation = 0;
	char *password = NULL;
	bool from_stack = false;
	twofa_error err;
	int rc;

	if (l->opts->password == TWOFA_PASSWORD_NONE)
		return PAM_SUCCESS;
	rc = get_password(l, &password, &from_stack);
	if (rc != PAM_SUCCESS)
		return rc;
	/* Reserved before the Argon2id check, in one update with the lock
	 * check: parallel guesses never outnumber the failures left. */
	if (throttled(l) &&
	    twofa_state_begin_attempt(c->state_db, &s, time(NULL), &gate, &reservation, &err) != TWOFA_OK) {
		twofa_free_secret(password);
		twofa_audit_decision(&l->audit, LOG_ERR, "error", "state store: %s", err.msg);
		return PAM_SERVICE_ERR;
	}
	if (!l->enrolled || gate != TWOFA_ATTEMPT_GO || twofa_password_valid(password, NULL) != TWOFA_OK) {
		/* Same prompts and the same Argon2id cost as a real check, so
		 * neither reveals who is enrolled or locked. */
		twofa_password_dummy_verify(password, c->password_strength);
		rc = PAM_AUTH_ERR;
	} else if (twofa_password_verify(l->member.password_hash, password, &err) == TWOFA_OK) {
		rc = PAM_SUCCESS;
		upgrade_hash(l, password);
		if (!from_stack && pam_set_item(l->pamh, PAM_AUTHTOK, password) != PAM_SUCCESS)
			rc = PAM_BUF_ERR;
	} else {
		rc = PAM_AUTH_ERR;
	}
	twofa_free_secret(password);
	if (gate == TWOFA_ATTEMPT_LOCKED)
		return refuse_locked(l, "locked out after too many failures");
	if (gate == TWOFA_ATTEMPT_BUSY)
		return refuse_locked(l, "as many password checks under way as failures left");
	if (throttled(l))
		end_attempt(l, reservation, rc == PAM_AUTH_ERR);
	if (rc == PAM_SUCCESS || !l->enrolled)
		return rc;
	twofa_audit_decision(&l->audit, LOG_NOTICE, "denied", "wrong password");
	return rc;
}

static int not_enrolled(login *l)
{
	if (l->opts->nullok) {
		twofa_audit_decision(&l->audit, LOG_INFO, "ignored", "not enrolled (nullok)");
		return PAM_IGNORE;
	}
	twofa_audit_decision(&l->audit, LOG_NOTICE, "denied", "not enrolled");
	return PAM_AUTH_ERR;
}

static int member_refused(login *l)
{
	if (l->member.status == TWOFA_MEMBER_PENDING) {
		twofa_conv_tell(l->pamh, PAM_ERROR_MSG, l->silent,
				"Your second-factor enrolment is awaiting approval by an administrator.");
		twofa_audit_decision(&l->audit, LOG_NOTICE, "denied", "enrolment awaiting approval");
	} else {
		twofa_conv_tell(l->pamh, PAM_ERROR_MSG, l->silent, "Your second factor is disabled.");
		twofa_audit_decision(&l->audit, LOG_NOTICE, "denied", "member disabled");
	}
	return PAM_AUTH_ERR;
}

static int run(login *l)
{
	const twofa_config *c = &l->opts->cfg;
	twofa_error err;
	bool malformed = false;
	int rc;

	if (!twofa_user_in_scope(l->pamh, l->user, l->opts->groups, &malformed)) {
		if (malformed) {
			twofa_audit_decision(&l->audit, LOG_ERR, "error", "groups= has an empty or overlong entry");
			return PAM_SERVICE_ERR;
		}
		twofa_audit_debug(&l->audit, "not in groups=, ignored");
		return PAM_IGNORE;
	}
	switch (twofa_members_load(c->members_db, l->user, &l->member, &err)) {
	case TWOFA_OK:
		l->enrolled = true;
		break;
	case TWOFA_ENOTFOUND:
		break;
	default:
		twofa_audit_decision(&l->audit, LOG_ERR, "error", "member store: %s", err.msg);
		return PAM_SERVICE_ERR;
	}
	if (l->enrolled && twofa_state_read(c->state_db, l->user, &l->state, &err) != TWOFA_OK) {
		twofa_audit_decision(&l->audit, LOG_ERR, "error", "state store: %s", err.msg);
		return PAM_SERVICE_ERR;
	}
	rc = first_factor(l);
	if (rc != PAM_SUCCESS && l->enrolled)
		return rc;
	if (!l->enrolled) {
		if (rc != PAM_SUCCESS && rc != PAM_AUTH_ERR)
			return rc;
		return not_enrolled(l);
	}
	if (l->member.status != TWOFA_MEMBER_ACTIVE)
		return member_refused(l);
	/* Checked again for password=none; the code step checks once more. */
	if (twofa_state_locked_until(&l->state, l->audit.origin.source, time(NULL)) != 0)
		return refuse_locked(l, "locked out after too many failures");
	if (twofa_state_in_grace(&l->state, l->audit.origin.grace, time(NULL), c->grace_period)) {
		twofa_audit_decision(&l->audit, LOG_INFO, "success", "within grace period of an earlier login");
		return PAM_SUCCESS;
	}
	return twofa_second_factor(l->pamh, l->opts, l->silent, &l->member, &l->audit);
}

int twofa_authenticate(pam_handle_t *pamh, int flags, const twofa_options *opts)
{
	const char *typed = NULL;
	char *canonical = NULL;
	login l;
	int rc;

	memset(&l, 0, sizeof(l));
	l.pamh = pamh;
	l.opts = opts;
	l.silent = (flags & PAM_SILENT) != 0;
	rc = pam_get_user(pamh, &typed, NULL);
	if (rc != PAM_SUCCESS || typed == NULL) {
		twofa_audit_init(&l.audit, pamh, "auth", NULL, opts->debug);
		twofa_audit_decision(&l.audit, LOG_ERR, "error", "no user name: %s", pam_strerror(pamh, rc));
		return rc == PAM_CONV_AGAIN ? PAM_INCOMPLETE : (rc != PAM_SUCCESS ? rc : PAM_USER_UNKNOWN);
	}
	/* Members, scope, lockout and grace all go by the account's own name. */
	rc = twofa_pam_user(pamh, "auth", typed, opts->debug, &canonical, &l.audit);
	if (rc != PAM_SUCCESS)
		return rc;
	l.user = canonical;
	rc = run(&l);
	twofa_member_free(&l.member);
	sodium_memzero(&l.state, sizeof(l.state));
	free(canonical);
	return rc;
}
