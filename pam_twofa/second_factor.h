/* SPDX-License-Identifier: GPL-3.0-or-later */
/* Sending a code through Twilio Verify and asking for it. */
#ifndef PAM_TWOFA_SECOND_FACTOR_H
#define PAM_TWOFA_SECOND_FACTOR_H

#include <stdbool.h>

#include <security/pam_modules.h>

#include "audit.h"
#include "member.h"
#include "options.h"

/* Runs the send + prompt + check loop for an enrolled, active member whose
 * first factor held. Returns the PAM result and logs the decision. */
int twofa_second_factor(pam_handle_t *pamh, const twofa_options *opts, bool silent,
			const twofa_member *member, twofa_audit *audit);

#endif
