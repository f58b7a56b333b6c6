/* SPDX-License-Identifier: GPL-3.0-or-later */
/* Runtime state of logins in state.db, one record per user: failure count and
 * lockout, the times of recent code sends (the send limit), the last login
 * and grace entries. Kept apart from members.db so a login never rewrites a
 * member record. Every update is one read-modify-write under the store's
 * exclusive lock, so parallel logins lose no update. */
#ifndef TWOFA_STATE_H
#define TWOFA_STATE_H

#include <stdbool.h>
#include <stddef.h>
#include <time.h>

#include "error.h"

#define TWOFA_STATE_SENDS_MAX 100  /* the largest send_limit */
#define TWOFA_STATE_GRACE_MAX 16   /* grace entries kept per user, oldest dropped */
#define TWOFA_STATE_FROM_MAX 128   /* rhost or tty, bytes with the NUL */
#define TWOFA_STATE_SERVICE_MAX 64

typedef struct twofa_grace_entry {
	char from[TWOFA_STATE_FROM_MAX];
	time_t at;
} twofa_grace_entry;

typedef struct twofa_state_entry {
	long failures;        /* wrong passwords or codes since the last success */
	time_t locked_until;  /* 0 when not locked */
	size_t send_count;
	time_t sends[TWOFA_STATE_SENDS_MAX]; /* oldest first */
	time_t last_login;    /* 0 when never */
	char last_service[TWOFA_STATE_SERVICE_MAX];
	char last_from[TWOFA_STATE_FROM_MAX];
	size_t grace_count;
	twofa_grace_entry grace[TWOFA_STATE_GRACE_MAX];
} twofa_state_entry;

/* Reads the user's state; a missing store or user gives an all-zero entry. */
twofa_status twofa_state_read(const char *path, const char *user, twofa_state_entry *out,
			      twofa_error *err);

/* True while the user is locked out at time now. */
bool twofa_state_is_locked(const twofa_state_entry *e, time_t now);

/* Counts a send if fewer than limit sends happened in the last window seconds.
 * *allowed says whether the caller may send; *retry_at, when not allowed, is
 * when the oldest counted send leaves the window. */
twofa_status twofa_state_reserve_send(const char *path, const char *user, time_t now, long limit,
				      long window, bool *allowed, time_t *retry_at, twofa_error *err);

/* Counts one failure; at lockout_failures (0 = never) the user is locked for
 * lockout_seconds. *failures and *locked_until (may be NULL) report the result. */
twofa_status twofa_state_record_failure(const char *path, const char *user, time_t now,
					long lockout_failures, long lockout_seconds, long *failures,
					time_t *locked_until, twofa_error *err);

/* A full success: clears failures and lockout, records the last login and,
 * when grace_period > 0, a grace entry for from. */
twofa_status twofa_state_record_success(const char *path, const char *user, time_t now,
					const char *service, const char *from, long grace_period,
					twofa_error *err);

/* True if from had a full success within grace_period seconds before now. */
bool twofa_state_in_grace(const twofa_state_entry *e, const char *from, time_t now,
			  long grace_period);

/* Clears failures and lockout (twofa-enroll unlock). */
twofa_status twofa_state_unlock(const char *path, const char *user, twofa_error *err);

/* Removes everything known about user (twofa-enroll remove). */
twofa_status twofa_state_forget(const char *path, const char *user, twofa_error *err);

/* JSON codec of one record, exposed for tests and fuzzing. */
twofa_status twofa_state_encode(const twofa_state_entry *e, char **json, twofa_error *err);
twofa_status twofa_state_decode(const char *json, size_t len, twofa_state_entry *e,
				twofa_error *err);

#endif
