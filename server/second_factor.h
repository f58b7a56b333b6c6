/* SPDX-License-Identifier: GPL-3.0-or-later */
/* Sending a code through Twilio Verify and asking for it. */
#ifndef PAM_TWOFA_SECOND_FACTOR_H
#define PAM_TWOFA_SECOND_FACTOR_H

#include <stdbool.h>

#include "host.h"

#include "audit.h"
#include "code_round.h"
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

/* The server's side of a lib/code_round round (the login and enrolment):
 * prompts through the module's conversation
 * (twofa_host_ask), the first code prompt from the code_prompt template,
 * notes to syslog (LOG_DEBUG ones only with debug, through audit). */
typedef struct twofa_round_host {
	twofa_host *host;
	const twofa_options *opts;
	twofa_audit *audit;
	/* The login's (NULL for enrolment): recovery and bypass codes are
	 * consumed in members, and an answer that is the password ends the
	 * round (server/locker.h). */
	twofa_member_store *members;
	const twofa_member *member;
} twofa_round_host;

/* Fills *io for ctx, which must outlive the round. */
void twofa_round_host_io(twofa_round_host *ctx, twofa_round_io *io);

#endif
