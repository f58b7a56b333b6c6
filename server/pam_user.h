/* SPDX-License-Identifier: GPL-3.0-or-later */
/* PAM_USER resolved to the account's own name (lib/username.h), with the
 * audit record every entry point starts from. */
#ifndef PAM_TWOFA_PAM_USER_H
#define PAM_TWOFA_PAM_USER_H

#include <stdbool.h>

#include "host.h"

#include "audit.h"

/* Resolves typed and starts *audit for action with the resolved name. True
 * with *canonical malloc'd (free() it); otherwise false with *d the decision,
 * result=error: PAM_AUTHINFO_UNAVAIL when the user database cannot answer,
 * PAM_BUF_ERR, or PAM_SERVICE_ERR for a name twofa cannot store. */
bool twofa_pam_user(twofa_host *host, const char *action, const char *typed, bool debug, char **canonical,
		    twofa_audit *audit, twofa_decision *d);

#endif
