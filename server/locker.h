/* SPDX-License-Identifier: GPL-3.0-or-later */
/* Screen lockers. swaylock and i3lock answer every prompt with the one
 * buffer the user typed, so the code prompt gets the password: that is
 * detected (the answer equals PAM_AUTHTOK), costs no failure and is
 * remembered per member and service in state.db, so that service's next
 * logins send nothing in vain. The recipe for such programs brings the code
 * in the password's answer instead (pam_twofa split_answer, then
 * code_from_answer): what that needs from the state and the hello is here. */
#ifndef TWOFA_SERVER_LOCKER_H
#define TWOFA_SERVER_LOCKER_H

#include <stdbool.h>
#include <time.h>

#include "audit.h"
#include "error.h"
#include "host.h"
#include "member.h"
#include "options.h"

/* How long a Twilio Verify code lives: a send newer than this may still be
 * checked. */
#define TWOFA_LOCKER_CODE_LIFETIME 600

#define TWOFA_LOCKER_REASON                                                             \
	"the program answered the code prompt with the password: it cannot ask for a " \
	"code (pam_twofa(8) SCREEN LOCKERS)"

/* What state.db says about this member and the call's service. */
typedef struct twofa_locker_look {
	bool remembered;  /* the service answered the code prompt with the password lately */
	time_t last_send; /* the latest send within TWOFA_LOCKER_CODE_LIFETIME; 0: none */
} twofa_locker_look;

/* Reads it; false with *err when the store cannot be read. */
bool twofa_locker_look_up(twofa_host *host, const twofa_options *opts, const twofa_member *member,
			  twofa_locker_look *look, twofa_error *err);

/* True if answer, given at the code prompt, is the password (PAM_AUTHTOK,
 * set by an earlier module or by this one's password check). Constant time. */
bool twofa_locker_answered_with_password(twofa_host *host, const char *answer);

/* Remembers the call's service for the member; a store that cannot be
 * written costs a log line and nothing else. */
void twofa_locker_remember(twofa_host *host, const twofa_options *opts, const twofa_member *member);

/* The code split_answer kept from the password's answer, or NULL. */
const char *twofa_locker_kept_code(twofa_host *host);

#endif
