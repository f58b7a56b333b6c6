/* SPDX-License-Identifier: GPL-3.0-or-later */
/* pam_sm_chauthtok: a member changes the password kept in the store. */
#include "twofa_build.h"

#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <time.h>

#include "audit.h"
#include "member_read.h"
#include "chauthtok.h"
#include <security/pam_modules.h> /* PAM_PRELIM_CHECK, PAM_UPDATE_AUTHTOK */

#include "host.h"
#include "decision.h"
#include "pam_user.h"
#include "password.h"
#include "util.h"

/* The item an earlier module set, or the user's answer; a wiped copy. */
static int obtain(twofa_host *host, int item, bool use_item, const char *prompt, char **out)
{
	const void *value = NULL;

	*out = NULL;
	if (use_item && twofa_host_get_item(host, item, &value) == PAM_SUCCESS && value != NULL) {
		*out = strdup(value);
		return *out != NULL ? PAM_SUCCESS : PAM_BUF_ERR;
	}
	return twofa_host_ask(host, PAM_PROMPT_ECHO_OFF, prompt, out);
}

static twofa_status replace_hash(twofa_member *m, void *arg, twofa_error *err)
{
	char **fresh = arg;

	(void)err;
	twofa_free_secret(m->password_hash);
	m->password_hash = *fresh;
	*fresh = NULL;
	m->updated = time(NULL);
	return TWOFA_OK;
}

/* A failure of its own kind: the conversation's or memory's. No line unless
 * debug, as the prompts already say what happened. */
static void step_failed(twofa_decision *d, int rc, const char *at)
{
	twofa_decide(d, rc, rc == PAM_BUF_ERR ? TWOFA_RESULT_ERROR : TWOFA_RESULT_DENIED, LOG_DEBUG,
		     TWOFA_MSG_NONE, "password change: %s at %s",
		     rc == PAM_BUF_ERR ? "out of memory" : "no answer", at);
}

/* True, with *d the refusal, when the new password cannot be used; else
 * its hash is in hash. */
static bool refuse_new(twofa_decision *d, const char *fresh, const twofa_options *opts, char *hash)
{
	twofa_error err;

	if (fresh[0] == '\0') {
		twofa_decide(d, PAM_AUTHTOK_ERR, TWOFA_RESULT_DENIED, LOG_DEBUG, TWOFA_MSG_PASSWORD_EMPTY,
			     "password change: the new password is empty");
	} else if (twofa_password_valid(fresh, &err) != TWOFA_OK) {
		twofa_decide(d, PAM_AUTHTOK_ERR, TWOFA_RESULT_DENIED, LOG_DEBUG, TWOFA_MSG_PASSWORD_TOO_LONG,
			     "password change: %s", err.msg);
		d->message_arg = TWOFA_PASSWORD_MAX;
	} else if (twofa_password_hash(fresh, opts->cfg.password_strength, hash, &err) != TWOFA_OK) {
		twofa_decide(d, PAM_AUTHTOK_ERR, TWOFA_RESULT_ERROR, LOG_ERR, TWOFA_MSG_PASSWORD_NOT_HASHED,
			     "password change: %s", err.msg);
	} else {
		return false;
	}
	return true;
}

static void change_password(twofa_host *host, const twofa_options *opts, twofa_member_store *members,
			    const char *user, const twofa_member *member, twofa_decision *d)
{
	char *old = NULL, *fresh = NULL, *again = NULL, *stored = NULL;
	char hash[crypto_pwhash_STRBYTES];
	bool use_items = opts->use_first_pass || opts->try_first_pass;
	twofa_error err;
	int rc;

	rc = obtain(host, PAM_OLDAUTHTOK, use_items, "Current password: ", &old);
	if (rc != PAM_SUCCESS) {
		step_failed(d, rc, "the current password");
		goto out;
	}
	if (twofa_password_verify(member->password_hash, old, &err) != TWOFA_OK) {
		twofa_decide(d, PAM_AUTH_ERR, TWOFA_RESULT_DENIED, LOG_NOTICE, TWOFA_MSG_NONE,
			     "password change: wrong current password");
		goto out;
	}
	rc = obtain(host, PAM_AUTHTOK, use_items, "New password: ", &fresh);
	if (rc != PAM_SUCCESS) {
		step_failed(d, rc, "the new password");
		goto out;
	}
	if (!use_items) {
		rc = obtain(host, PAM_AUTHTOK, false, "Retype new password: ", &again);
		if (rc != PAM_SUCCESS) {
			step_failed(d, rc, "the retyped password");
			goto out;
		}
		if (!twofa_streq_ct(fresh, again, TWOFA_PASSWORD_MAX)) {
			twofa_decide(d, PAM_AUTHTOK_ERR, TWOFA_RESULT_DENIED, LOG_DEBUG,
				     TWOFA_MSG_PASSWORDS_DIFFER,
				     "password change: the passwords typed differ");
			goto out;
		}
	}
	if (refuse_new(d, fresh, opts, hash))
		goto out;
	stored = strdup(hash);
	sodium_memzero(hash, sizeof(hash));
	if (stored == NULL) {
		step_failed(d, PAM_BUF_ERR, "the new hash");
		goto out;
	}
	if (twofa_member_store_update(members, user, replace_hash, &stored, &err) != TWOFA_OK) {
		twofa_decide(d, PAM_AUTHTOK_ERR, TWOFA_RESULT_ERROR, LOG_ERR, TWOFA_MSG_NONE,
			     "password change not stored: %s", err.msg);
		goto out;
	}
	if (!use_items)
		(void)twofa_host_set_item(host, PAM_AUTHTOK, fresh);
	twofa_decide(d, PAM_SUCCESS, TWOFA_RESULT_SUCCESS, LOG_NOTICE, TWOFA_MSG_NONE, "password changed");
out:
	sodium_memzero(hash, sizeof(hash));
	twofa_free_secret(old);
	twofa_free_secret(fresh);
	twofa_free_secret(again);
	twofa_free_secret(stored);
}

void twofa_chauthtok(twofa_host *host, int flags, const twofa_options *opts, twofa_member_store *members,
		     twofa_audit *audit, twofa_decision *d)
{
	const char *typed = NULL;
	char *user = NULL;
	twofa_member member;
	twofa_error err;
	int rc;

	if (opts->password == TWOFA_PASSWORD_NONE) {
		twofa_decide(d, PAM_IGNORE, TWOFA_RESULT_IGNORED, LOG_DEBUG, TWOFA_MSG_NONE,
			     "password=none: the store's password is not in use");
		return;
	}
	if (opts->cfg.store == TWOFA_STORE_LDAP) {
		/* Login hosts may not write member records (etc/ldap/README). */
		twofa_decide(d, PAM_IGNORE, TWOFA_RESULT_IGNORED, LOG_NOTICE, TWOFA_MSG_NONE,
			     "store = ldap: the twofa password is changed with twofa-enroll passwd on an "
			     "admin host, not here");
		return;
	}
	rc = twofa_host_get_user(host, &typed);
	if (rc != PAM_SUCCESS || typed == NULL) {
		twofa_decide(d, rc == PAM_SUCCESS ? PAM_USER_UNKNOWN : rc, TWOFA_RESULT_ERROR, LOG_DEBUG,
			     TWOFA_MSG_NONE, "no user name");
		return;
	}
	if (!twofa_pam_user(host, "password", typed, opts->debug, &user, audit, d)) {
		if (d->pam_code != PAM_BUF_ERR && d->pam_code != PAM_PERM_DENIED)
			d->pam_code = PAM_AUTHTOK_ERR;
		return;
	}
	switch (twofa_read_member(audit, members, user, &member, &err)) {
	case TWOFA_OK:
		if (twofa_member_store_last_load(members)->from_cache) /* the change could not be stored */
			twofa_decide(d, PAM_AUTHTOK_ERR, TWOFA_RESULT_ERROR, LOG_ERR, TWOFA_MSG_NONE,
				     "directory unreachable: the password cannot be changed now");
		else if (member.status == TWOFA_MEMBER_INVITED) /* not a member yet */
			twofa_decide(d, PAM_IGNORE, TWOFA_RESULT_IGNORED, LOG_DEBUG, TWOFA_MSG_NONE,
				     "not enrolled (invited)");
		else if (member.password_hash == NULL) /* enrolled behind another module's password */
			twofa_decide(d, PAM_IGNORE, TWOFA_RESULT_IGNORED, LOG_DEBUG, TWOFA_MSG_NONE,
				     "member has no twofa password to change");
		else if (flags & PAM_PRELIM_CHECK)
			twofa_decide(d, PAM_SUCCESS, TWOFA_RESULT_SUCCESS, LOG_DEBUG, TWOFA_MSG_NONE,
				     "the store is readable and the user enrolled");
		else
			change_password(host, opts, members, user, &member, d);
		twofa_member_free(&member);
		break;
	case TWOFA_ENOTFOUND:
		twofa_decide(d, PAM_IGNORE, TWOFA_RESULT_IGNORED, LOG_DEBUG, TWOFA_MSG_NONE, "not enrolled");
		break;
	default:
		twofa_decide(d, PAM_AUTHTOK_ERR, TWOFA_RESULT_ERROR, LOG_ERR, TWOFA_MSG_NONE,
			     "member store: %s", err.msg);
		break;
	}
	free(user);
}
