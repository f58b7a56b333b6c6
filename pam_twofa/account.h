/* SPDX-License-Identifier: GPL-3.0-or-later */
#ifndef PAM_TWOFA_ACCOUNT_H
#define PAM_TWOFA_ACCOUNT_H

#include <security/pam_modules.h>

#include "audit.h"
#include "decision.h"
#include "options.h"

/* Fills *d with the answer; audit is started here once the user is known. */
void twofa_account(pam_handle_t *pamh, int flags, const twofa_options *opts, twofa_audit *audit,
		   twofa_decision *d);

#endif
