/* SPDX-License-Identifier: GPL-3.0-or-later */
/* pam_sm_acct_mgmt: an enrolled member must be active. */
#include "twofa_build.h"

#include <string.h>
#include <syslog.h>

#include "account.h"
#include "audit.h"
#include "conv.h"
#include "members.h"
#include "scope.h"

int twofa_account(pam_handle_t *pamh, int flags, const twofa_options *opts)
{
	const char *user = NULL;
	twofa_member member;
	twofa_audit audit;
	twofa_error err;
	bool malformed = false, silent = (flags & PAM_SILENT) != 0;
	int rc;

	rc = pam_get_user(pamh, &user, NULL);
	twofa_audit_init(&audit, pamh, "account", rc == PAM_SUCCESS ? user : NULL, opts->debug);
	if (rc != PAM_SUCCESS || user == NULL) {
		twofa_audit_decision(&audit, LOG_ERR, "error", "no user name");
		return rc == PAM_SUCCESS ? PAM_USER_UNKNOWN : rc;
	}
	if (!twofa_user_in_scope(pamh, user, opts->groups, &malformed)) {
		if (malformed) {
			twofa_audit_decision(&audit, LOG_ERR, "error", "groups= has an empty or overlong entry");
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
		twofa_audit_decision(&audit, LOG_NOTICE, "denied", "not enrolled");
		return PAM_USER_UNKNOWN;
	default:
		twofa_audit_decision(&audit, LOG_ERR, "error", "member store: %s", err.msg);
		return PAM_SERVICE_ERR;
	}
	switch (member.status) {
	case TWOFA_MEMBER_ACTIVE:
		rc = PAM_SUCCESS;
		break;
	case TWOFA_MEMBER_PENDING:
		twofa_conv_tell(pamh, PAM_ERROR_MSG, silent,
				"Your second-factor enrolment is awaiting approval by an administrator.");
		twofa_audit_decision(&audit, LOG_NOTICE, "denied", "enrolment awaiting approval");
		rc = PAM_PERM_DENIED;
		break;
	default:
		twofa_conv_tell(pamh, PAM_ERROR_MSG, silent, "Your second factor is disabled.");
		twofa_audit_decision(&audit, LOG_NOTICE, "denied", "member disabled");
		rc = PAM_PERM_DENIED;
		break;
	}
	twofa_member_free(&member);
	return rc;
}
