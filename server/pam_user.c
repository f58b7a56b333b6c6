/* SPDX-License-Identifier: GPL-3.0-or-later */
#include "twofa_build.h"

#include <stdlib.h>
#include <string.h>
#include <syslog.h>

#include "pam_user.h"
#include "peer_policy.h"
#include "username.h"

bool twofa_pam_user(twofa_host *host, const char *action, const char *typed, bool debug, char **canonical,
		    twofa_audit *audit, twofa_decision *d)
{
	twofa_error err;
	bool known = false;
	twofa_status st;

	twofa_error_clear(&err);
	st = twofa_canonical_user(typed, canonical, &known, &err);
	if (st != TWOFA_OK) {
		/* Not knowing whether this is an alias of a member: fail closed. */
		twofa_audit_init(audit, host, action, typed, debug);
		twofa_decide(d,
			     st == TWOFA_ENOMEM
				     ? PAM_BUF_ERR
				     : (st == TWOFA_EUNAVAIL ? PAM_AUTHINFO_UNAVAIL : PAM_SERVICE_ERR),
			     TWOFA_RESULT_ERROR, LOG_ERR, TWOFA_MSG_NONE, "%s", err.msg);
		return false;
	}
	twofa_audit_init(audit, host, action, *canonical, debug);
	if (!twofa_peer_may_act_for(host->peer, *canonical, d)) {
		free(*canonical);
		*canonical = NULL;
		return false;
	}
	if (known && strcmp(typed, *canonical) != 0)
		twofa_audit_debug(audit, "the user database knows '%.80s' as this account", typed);
	return true;
}
