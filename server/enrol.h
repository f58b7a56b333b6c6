/* SPDX-License-Identifier: GPL-3.0-or-later */
/* Self-enrolment at first login (enroll=self or enroll=invite): a user who
 * is not enrolled, in scope, whose first factor an earlier module checked
 * (password=none), names a country and a phone number, proves it with a
 * code, and is stored as a member without a twofa password. */
#ifndef TWOFA_ENROL_H
#define TWOFA_ENROL_H

#include <stdbool.h>

#include "host.h"

#include "audit.h"
#include "decision.h"
#include "member.h"
#include "member_store.h"
#include "options.h"

/* Runs the conversation, in this order: the invite's code (enroll=invite
 * only), the country, the phone number, the code round; stores the member
 * only after an approved code, and fills *d: PAM_SUCCESS when the member is
 * active (approval=auto); PAM_AUTH_ERR "awaiting approval" when pending; a
 * declined or cancelled enrolment (an empty answer, a failed conversation)
 * is PAM_IGNORE under nullok, else PAM_AUTH_ERR; nothing is stored then and
 * a pending verification is cancelled. invited is the user's invited record
 * (NULL when there is none); silent is PAM_SILENT. */
void twofa_enrol(twofa_host *host, const twofa_options *opts, twofa_member_store *members, const char *user,
		 const twofa_member *invited, bool silent, twofa_audit *audit, twofa_decision *d);

/* The decision of an enrolment declined at step (an empty answer, Ctrl-C,
 * a failed conversation): PAM_IGNORE under nullok, else PAM_AUTH_ERR. */
void twofa_enrol_declined(const twofa_options *opts, const char *step, twofa_decision *d);

#endif
