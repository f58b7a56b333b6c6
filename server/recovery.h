/* SPDX-License-Identifier: GPL-3.0-or-later */
/* A recovery or bypass code typed at login: checked against the member's
 * stored hashes (lib/onetime_code.h) and consumed in the member store
 * (twofa_member_store_consume), the one write a login makes to a member
 * record. Only a consume that returned TWOFA_OK lets in: the record read at
 * the start of the login (perhaps this host's cached copy) may still list a
 * code used since, here or on another host. Nothing here logs or prompts. */
#ifndef PAM_TWOFA_RECOVERY_H
#define PAM_TWOFA_RECOVERY_H

#include <stdbool.h>
#include <stddef.h>
#include <time.h>

#include "error.h"
#include "member.h"
#include "member_store.h"

typedef enum twofa_recovery_outcome {
	TWOFA_RECOVERY_USED = 0,    /* this login consumed it: it may let in */
	TWOFA_RECOVERY_WRONG,       /* none of the member's usable codes: a failure */
	TWOFA_RECOVERY_TAKEN,       /* it matched, but another login or an admin took it first */
	TWOFA_RECOVERY_UNAVAILABLE, /* the store did not consume it (no answer, an error): refused */
} twofa_recovery_outcome;

typedef struct twofa_recovery_use {
	twofa_member_code_kind kind;          /* USED, TAKEN: which kind matched */
	long left;                            /* USED: recovery codes, or bypass uses, left */
	char issuer[TWOFA_USER_NAME_MAX + 1]; /* USED bypass: who issued it ("" unknown) */
	twofa_status status;                  /* TAKEN, UNAVAILABLE: the consume's status */
	char why[TWOFA_ERROR_MSG_MAX];        /* TAKEN, UNAVAILABLE: the store's message */
} twofa_recovery_use;

/* True when m holds a code that can let in at now: a recovery code, or an
 * active bypass code (twofa_member_bypass_active). */
bool twofa_recovery_available(const twofa_member *m, time_t now);

/* Checks typed input against m's recovery hashes and, while it is active,
 * its bypass hash (every one of them, whichever matches), then consumes the
 * one that matched through members. *use says more; its counts are those of
 * m as read, less this use. */
twofa_recovery_outcome twofa_recovery_try(twofa_member_store *members, const twofa_member *m,
					  const char *input, time_t now, twofa_recovery_use *use);

#endif
