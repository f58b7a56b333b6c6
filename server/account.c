/* SPDX-License-Identifier: GPL-3.0-or-later */
/* pam_sm_acct_mgmt: an enrolled member must be active. */
#include "twofa_build.h"

#include <stdlib.h>
#include <string.h>
#include <syslog.h>

#include "account.h"
#include "audit.h"
#include "member_read.h"
#include "pam_user.h"
#include "scope.h"

/* The member's status decides; user is the account's own name. Out of
 * scope, or not enrolled under nullok, is not ours to say: no line unless
 * debug. */
static void check_member(const twofa_options *opts, const twofa_audit *audit, twofa_member_store *members,
			 const char *user, twofa_decision *d)
{
	twofa_member member;
	twofa_error err;
	twofa_status st;

	if (!twofa_scope_decide(user, opts->groups, d))
		return;
	st = twofa_read_member(audit, members, user, &member, &err);
	if (st == TWOFA_OK && member.status == TWOFA_MEMBER_INVITED) {
		/* An invite is not a membership: as not enrolled. */
		twofa_member_free(&member);
		st = twofa_fail(&err, TWOFA_ENOTFOUND, "not enrolled (invited)");
	}
	switch (st) {
	case TWOFA_OK:
		break;
	case TWOFA_ENOTFOUND:
		if (opts->nullok)
			twofa_decide(d, PAM_IGNORE, TWOFA_RESULT_IGNORED, LOG_DEBUG, TWOFA_MSG_NONE,
				     "not enrolled (nullok)");
		else
			twofa_decide(d, PAM_USER_UNKNOWN, TWOFA_RESULT_DENIED, LOG_NOTICE, TWOFA_MSG_NONE,
				     "not enrolled");
		return;
	default:
		twofa_decide(d, twofa_read_member_failed(st, PAM_SERVICE_ERR), TWOFA_RESULT_ERROR, LOG_ERR,
			     TWOFA_MSG_NONE, "member store: %s", err.msg);
		return;
	}
	switch (member.status) {
	case TWOFA_MEMBER_ACTIVE:
		twofa_decide(d, PAM_SUCCESS, TWOFA_RESULT_SUCCESS, LOG_DEBUG, TWOFA_MSG_NONE, "member active");
		break;
	case TWOFA_MEMBER_PENDING:
		twofa_decide(d, PAM_PERM_DENIED, TWOFA_RESULT_DENIED, LOG_NOTICE, TWOFA_MSG_PENDING,
			     "enrolment awaiting approval");
		break;
	default:
		twofa_decide(d, PAM_PERM_DENIED, TWOFA_RESULT_DENIED, LOG_NOTICE, TWOFA_MSG_DISABLED,
			     "member disabled");
		break;
	}
	twofa_member_free(&member);
}

void twofa_account(twofa_host *host, int flags, const twofa_options *opts, twofa_member_store *members,
		   twofa_audit *audit, twofa_decision *d)
{
	const char *typed = NULL;
	char *user = NULL;
	int rc;

	(void)flags;
	rc = twofa_host_get_user(host, &typed);
	if (rc != PAM_SUCCESS || typed == NULL) {
		twofa_audit_init(audit, host, "account", NULL, opts->debug);
		twofa_decide(d, rc == PAM_SUCCESS ? PAM_USER_UNKNOWN : rc, TWOFA_RESULT_ERROR, LOG_ERR,
			     TWOFA_MSG_NONE, "no user name");
		return;
	}
	if (!twofa_pam_user(host, "account", typed, opts->debug, &user, audit, d)) {
		if (d->pam_code != PAM_BUF_ERR && d->pam_code != PAM_PERM_DENIED)
			d->pam_code = PAM_SERVICE_ERR;
		return;
	}
	check_member(opts, audit, members, user, d);
	free(user);
}
