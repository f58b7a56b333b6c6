/* SPDX-License-Identifier: GPL-3.0-or-later */
/* What self-enrolment (server/enrol.c) takes from the other parts of issue
 * 15 that were not merged when it was written, behind one small adapter
 * each: the country allow-list (countries) and the send policy of the code
 * round (countries, send_budget). */
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
#include "code_round.h"
#include "verify.h"

/* Whether countries lets codes go to numbers of iso2. */
bool twofa_enrol_country_allowed(const twofa_config *cfg, const char *iso2);

/* Sets io's send policy (admit_send): the country allow-list and the
 * host's send budget, checked before every send of the round. */
void twofa_enrol_send_policy(twofa_round_io *io);

#endif
