/* SPDX-License-Identifier: GPL-3.0-or-later */
/* pam_sm_acct_mgmt: an enrolled member must be active. */
#include "twofa_build.h"

#include <stdlib.h>
#include <string.h>
#include <syslog.h>

#include "account.h"
#include "audit.h"
#include "conv.h"
#include "members.h"
#include "pam_user.h"
#include "scope.h"

/* The member's status decides; user is the account's own name. */
static int check_member(pam_handle_t *pamh, const twofa_options *opts, bool silent, const char *user,
			twofa_audit *audit)
{
	twofa_member member;
	twofa_error err;
	bool malformed = false;
	int rc;

	if (!twofa_user_in_scope(pamh, user, opts->groups, &malformed)) {
		if (malformed) {
			twofa_audit_decision(audit, LOG_ERR, "error", "groups= has an empty or overlong entry");
			return PAM_SERVICE_ERR;
		}
		return PAM_IGNORE;
	}
	switch (twofa_members_load(opts->cfg.members_db, user, &member, &err)) {
	case TWOFA_OK:
		break;
	case TWOFA_ENOTFOUND:
		if (opts->nullok)
			return PAM_IGNORE;
		twofa_audit_decision(audit, LOG_NOTICE, "denied", "not enrolled");
		return PAM_USER_UNKNOWN;
	default:
		twofa_audit_decision(audit, LOG_ERR, "error", "member store: %s", err.msg);
		return PAM_SERVICE_ERR;
	}
	switch (member.status) {
	case TWOFA_MEMBER_ACTIVE:
		rc = PAM_SUCCESS;
		break;
	case TWOFA_MEMBER_PENDING:
		twofa_conv_tell(pamh, PAM_ERROR_MSG, silent,
				"Your second-factor enrolment is awaiting approval by an administrator.");
		twofa_audit_decision(audit, LOG_NOTICE, "denied", "enrolment awaiting approval");
		rc = PAM_PERM_DENIED;
		break;
	default:
		twofa_conv_tell(pamh, PAM_ERROR_MSG, silent, "Your second factor is disabled.");
		twofa_audit_decision(audit, LOG_NOTICE, "denied", "member disabled");
		rc = PAM_PERM_DENIED;
		break;
	}
	twofa_member_free(&member);
	return rc;
}

int twofa_account(pam_handle_t *pamh, int flags, const twofa_options *opts)
{
	const char *typed = NULL;
	char *user = NULL;
	twofa_audit audit;
	int rc;

	rc = pam_get_user(pamh, &typed, NULL);
	if (rc != PAM_SUCCESS || typed == NULL) {
		twofa_audit_init(&audit, pamh, "account", NULL, opts->debug);
		twofa_audit_decision(&audit, LOG_ERR, "error", "no user name");
		return rc == PAM_SUCCESS ? PAM_USER_UNKNOWN : rc;
	}
	rc = twofa_pam_user(pamh, "account", typed, opts->debug, &user, &audit);
	if (rc != PAM_SUCCESS)
		return rc == PAM_BUF_ERR ? rc : PAM_SERVICE_ERR;
	rc = check_member(pamh, opts, (flags & PAM_SILENT) != 0, user, &audit);
	free(user);
	return rc;
}
