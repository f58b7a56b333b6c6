/* SPDX-License-Identifier: GPL-3.0-or-later */
/* Sending a code through Twilio Verify and asking for it. */
#ifndef PAM_TWOFA_SECOND_FACTOR_H
#define PAM_TWOFA_SECOND_FACTOR_H

#include <stdbool.h>

#include "host.h"

#include "audit.h"
#include "decision.h"
#include "member.h"
#include "options.h"

/* Runs the send + prompt + check loop for an enrolled, active member whose
 * first factor held, and fills *d with its answer (naming where the code
 * went once that is known). */
void twofa_second_factor(twofa_host *host, const twofa_options *opts, const twofa_member *member,
			 twofa_audit *audit, twofa_decision *d);

#endif
