/* SPDX-License-Identifier: GPL-3.0-or-later */
/* Sending a code through Twilio Verify and asking for it. */
#ifndef PAM_TWOFA_SECOND_FACTOR_H
#define PAM_TWOFA_SECOND_FACTOR_H

#include <stdbool.h>

#include "host.h"

#include "audit.h"
#include "decision.h"
#include "member.h"
#include "member_store.h"
#include "options.h"

/* Runs the send + prompt + check loop for an enrolled, active member whose
 * first factor held, and fills *d with its answer (naming where the code
 * went once that is known). A recovery or bypass code typed at the prompt
 * (server/recovery.h) is consumed in members; silent (PAM_SILENT) says the
 * final text will be dropped, so what the member must read goes in a prompt. */
void twofa_second_factor(twofa_host *host, const twofa_options *opts, twofa_member_store *members,
			 const twofa_member *member, bool silent, twofa_audit *audit, twofa_decision *d);

#endif
