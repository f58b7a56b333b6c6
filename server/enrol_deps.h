/* SPDX-License-Identifier: GPL-3.0-or-later */
/* What self-enrolment (server/enrol.c) takes from the other parts of issue
 * 15 that were not merged when it was written, behind one small adapter
 * each: the country allow-list (countries) and one code round for a number that is not a member's yet. */
#ifndef TWOFA_ENROL_DEPS_H
#define TWOFA_ENROL_DEPS_H

#include <stdbool.h>
#include <stddef.h>
#include <time.h>

#include "host.h"

#include "audit.h"
#include "config.h"
#include "decision.h"
#include "member.h"
#include "member_store.h"
#include "options.h"
#include "verify.h"

/* Whether countries lets codes go to numbers of iso2. */
bool twofa_enrol_country_allowed(const twofa_config *cfg, const char *iso2);

/* One code round to e164 (country iso2) by the configured channel for user,
 * who is not a member yet: sends count against the user's send_limit,
 * 'call', 'sms' and 'resend' work, no recovery code is taken, an outage is
 * never let through. True when the code was approved; otherwise false with
 * *d decided (a declined round: PAM_IGNORE under nullok) and the pending
 * verification cancelled. */
bool twofa_enrol_prove(twofa_host *host, const twofa_options *opts, twofa_member_store *members,
		       twofa_audit *audit, twofa_verify *verify, const char *user, const char *e164,
		       const char *iso2, bool silent, twofa_decision *d);

#endif
