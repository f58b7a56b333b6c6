/* SPDX-License-Identifier: GPL-3.0-or-later */
/* pam_sm_chauthtok: a member changes the password kept in the store. */
#include "twofa_build.h"

#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <time.h>

#include "audit.h"
#include "chauthtok.h"
#include "conv.h"
#include "members.h"
#include "pam_user.h"
#include "password.h"
#include "util.h"

/* The item an earlier module set, or the user's answer; a wiped copy. */
static int obtain(pam_handle_t *pamh, int item, bool use_item, const char *prompt, char **out)
{
	const void *value = NULL;

	*out = NULL;
	if (use_item && pam_get_item(pamh, item, &value) == PAM_SUCCESS && value != NULL) {
		*out = strdup(value);
		return *out != NULL ? PAM_SUCCESS : PAM_BUF_ERR;
	}
	return twofa_conv_ask(pamh, PAM_PROMPT_ECHO_OFF, prompt, out);
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

static int change_password(pam_handle_t *pamh, const twofa_options *opts, const char *user,
			   const twofa_member *member, twofa_audit *audit)
{
	char *old = NULL, *fresh = NULL, *again = NULL, *stored = NULL;
	char hash[crypto_pwhash_STRBYTES];
	bool use_items = opts->use_first_pass || opts->try_first_pass;
	twofa_error err;
	int rc;

	rc = obtain(pamh, PAM_OLDAUTHTOK, use_items, "Current password: ", &old);
	if (rc != PAM_SUCCESS)
		goto out;
	if (twofa_password_verify(member->password_hash, old, &err) != TWOFA_OK) {
		twofa_audit_decision(audit, LOG_NOTICE, "denied", "password change: wrong current password");
		rc = PAM_AUTH_ERR;
		goto out;
	}
	rc = obtain(pamh, PAM_AUTHTOK, use_items, "New password: ", &fresh);
	if (rc != PAM_SUCCESS)
		goto out;
	if (!use_items) {
		rc = obtain(pamh, PAM_AUTHTOK, false, "Retype new password: ", &again);
		if (rc != PAM_SUCCESS)
			goto out;
		if (!twofa_streq_ct(fresh, again, TWOFA_PASSWORD_MAX)) {
			twofa_conv_tell(pamh, PAM_ERROR_MSG, false, "Passwords do not match.");
			rc = PAM_AUTHTOK_ERR;
			goto out;
		}
	}
	if (twofa_password_valid(fresh, &err) != TWOFA_OK ||
	    twofa_password_hash(fresh, opts->cfg.password_strength, hash, &err) != TWOFA_OK) {
		twofa_conv_tell(pamh, PAM_ERROR_MSG, false, err.msg);
		rc = PAM_AUTHTOK_ERR;
		goto out;
	}
	stored = strdup(hash);
	sodium_memzero(hash, sizeof(hash));
	if (stored == NULL) {
		rc = PAM_BUF_ERR;
		goto out;
	}
	if (twofa_members_update(opts->cfg.members_db, user, replace_hash, &stored, &err) != TWOFA_OK) {
		twofa_audit_decision(audit, LOG_ERR, "error", "password change not stored: %s", err.msg);
		rc = PAM_AUTHTOK_ERR;
		goto out;
	}
	if (!use_items)
		(void)pam_set_item(pamh, PAM_AUTHTOK, fresh);
	twofa_audit_decision(audit, LOG_NOTICE, "success", "password changed");
	rc = PAM_SUCCESS;
out:
	twofa_free_secret(old);
	twofa_free_secret(fresh);
	twofa_free_secret(again);
	twofa_free_secret(stored);
	return rc;
}

int twofa_chauthtok(pam_handle_t *pamh, int flags, const twofa_options *opts)
{
	const char *typed = NULL;
	char *user = NULL;
	twofa_member member;
	twofa_audit audit;
	twofa_error err;
	int rc;

	if (opts->password == TWOFA_PASSWORD_NONE)
		return PAM_IGNORE; /* the store's password is not in use here */
	rc = pam_get_user(pamh, &typed, NULL);
	if (rc != PAM_SUCCESS || typed == NULL)
		return rc == PAM_SUCCESS ? PAM_USER_UNKNOWN : rc;
	rc = twofa_pam_user(pamh, "password", typed, opts->debug, &user, &audit);
	if (rc != PAM_SUCCESS)
		return rc == PAM_BUF_ERR ? rc : PAM_AUTHTOK_ERR;
	switch (twofa_members_load(opts->cfg.members_db, user, &member, &err)) {
	case TWOFA_OK:
		if (flags & PAM_PRELIM_CHECK)
			rc = PAM_SUCCESS; /* the store is readable and the user enrolled */
		else
			rc = change_password(pamh, opts, user, &member, &audit);
		twofa_member_free(&member);
		break;
	case TWOFA_ENOTFOUND:
		rc = PAM_IGNORE;
		break;
	default:
		twofa_audit_decision(&audit, LOG_ERR, "error", "member store: %s", err.msg);
		rc = PAM_AUTHTOK_ERR;
		break;
	}
	free(user);
	return rc;
}
