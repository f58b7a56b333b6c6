/* SPDX-License-Identifier: GPL-3.0-or-later */
#ifndef PAM_TWOFA_CHAUTHTOK_H
#define PAM_TWOFA_CHAUTHTOK_H

#include "host.h"

#include "audit.h"
#include "decision.h"
#include "member_store.h"
#include "options.h"

/* Fills *d with the answer; audit is started here once the user is known. */
void twofa_chauthtok(twofa_host *host, int flags, const twofa_options *opts, twofa_member_store *members,
		     twofa_audit *audit, twofa_decision *d);

#endif
