/* SPDX-License-Identifier: GPL-3.0-or-later */
/* Runtime state of logins in state.db, one record per user: failure counts
 * and lockouts (everywhere, and per source the attempts come from), the
 * password checks in flight, the times of recent code sends (the send limit),
 * the last login and grace entries. Kept apart from members.db so that a
 * login changes a member record only to consume a recovery or bypass code
 * (twofa_member_store_consume). Every update is one read-modify-write under
 * the store's exclusive lock, so parallel logins lose no update.
 *
 * A name that is not enrolled gets the same lockout as a member, so the
 * lockout tells nobody who is enrolled; its record is stored under a keyed
 * hash of the name (the key is a random secret kept in state.db), never under
 * the name itself.
 *
 * Lockouts: lockout_failures failures from one source (an rhost, else a tty,
 * else "local") lock that source out for the user; lockout_failures times
 * TWOFA_STATE_GLOBAL_FACTOR failures from all sources together lock the user
 * out everywhere. So a stranger at one address cannot lock a member out from
 * the others, and guesses stay bounded however many addresses are used. */
#ifndef TWOFA_STATE_H
#define TWOFA_STATE_H

#include <stdbool.h>
#include <stddef.h>
#include <time.h>

#include "error.h"

#define TWOFA_STATE_SENDS_MAX 100      /* the largest send_limit */
#define TWOFA_STATE_GRACE_MAX 16       /* grace entries kept per user, oldest dropped */
#define TWOFA_STATE_SOURCES_MAX 16     /* sources kept per user (see evict_source) */
#define TWOFA_STATE_PENDING_MAX 16     /* password checks in flight per source */
#define TWOFA_STATE_PENDING_SECONDS 60 /* a check in flight left by a killed login expires */
#define TWOFA_STATE_GLOBAL_FACTOR 3    /* times lockout_failures, from all sources: locked everywhere */
#define TWOFA_STATE_FROM_MAX 128       /* "rhost=HOST" as shown to the admin, bytes with the NUL */
#define TWOFA_STATE_SERVICE_MAX 64
#define TWOFA_STATE_KEY_SIZE 65                /* a context key: BLAKE2b-256 in hex, with the NUL */
#define TWOFA_STATE_SINGLE_ANSWER_MAX 8        /* services remembered per user, oldest dropped */
#define TWOFA_STATE_SINGLE_ANSWER_SECONDS 3600 /* how long one is remembered */
#define TWOFA_STATE_APP_USED_MAX 16            /* accepted app codes kept per user (replay guard) */
/* How long an accepted app code stays refused: (2 x skew + 1) x time step at
 * the largest settings Twilio allows (skew 2, 60 s), so the guard outlasts a
 * code's validity whatever the service's TOTP settings are. */
#define TWOFA_STATE_APP_GUARD_SECONDS ((2 * 2 + 1) * 60)
/* Consecutive wrong app codes after which a member's app codes are no
 * longer checked (NIST SP 800-63B 5.2.2: at most 100): lockout expiry does
 * not reset the count, a success or an admin unlock does. */
#define TWOFA_STATE_APP_FAILURES_MAX 100

/* Where a login comes from, as the state keys it. Both keys are hashes of
 * the exact values (never of a sanitised or truncated copy), with the kind
 * (rhost or tty) hashed in, so the two never share a key space. */
typedef struct twofa_state_origin {
	char source[TWOFA_STATE_KEY_SIZE]; /* throttling: kind and value, or local */
	char grace[TWOFA_STATE_KEY_SIZE];  /* grace: service, kind, value and, for a tty, the
					    * session; "" when the login gets no grace */
	char from[TWOFA_STATE_FROM_MAX];   /* printable ASCII copy for show, never compared */
} twofa_state_origin;

/* Fills o for a login to service from kind "rhost" or "tty" with value
 * (kind NULL: neither is known, a local login). session, for a tty, names
 * the login session (e.g. the session leader's pid and start time); a tty
 * without one gets no grace, as does a local login. shown is the text for
 * show ("rhost=HOST"). */
void twofa_state_origin_make(twofa_state_origin *o, const char *service, const char *kind, const char *value,
			     const char *session, const char *shown);

typedef struct twofa_grace_entry {
	char key[TWOFA_STATE_KEY_SIZE];
	time_t at;
} twofa_grace_entry;

/* A service whose program answered the code prompt with the password (a
 * screen locker that answers every prompt with one typed buffer), from
 * where, and when. Bound to the origin, so that someone who knows the
 * password and answers sshd's code prompt with it from one host does not
 * stop the member's codes from every other. */
typedef struct twofa_single_answer_entry {
	char service[TWOFA_STATE_SERVICE_MAX]; /* printable ASCII copy of PAM_SERVICE */
	char from[TWOFA_STATE_FROM_MAX];       /* "rhost=HOST", "tty=TTY" or "local" */
	time_t at;
} twofa_single_answer_entry;

typedef struct twofa_source_entry {
	char key[TWOFA_STATE_KEY_SIZE];
	char from[TWOFA_STATE_FROM_MAX];
	long failures;       /* failures from this source since its last success */
	time_t locked_until; /* 0 when not locked */
	time_t last_seen;    /* last failure or check in flight */
	size_t pending_count;
	time_t pending[TWOFA_STATE_PENDING_MAX]; /* start times of the checks in flight */
} twofa_source_entry;

/* An accepted authenticator-app code: a hash of the member, the factor and
 * the code (never the code), refused again until until. */
typedef struct twofa_app_used_entry {
	char key[TWOFA_STATE_KEY_SIZE];
	time_t until;
} twofa_app_used_entry;

typedef struct twofa_state_entry {
	long failures;       /* failures from all sources since the last success */
	time_t locked_until; /* locked everywhere until then; 0 when not */
	size_t send_count;
	time_t sends[TWOFA_STATE_SENDS_MAX]; /* oldest first */
	time_t last_login;                   /* 0 when never */
	char last_service[TWOFA_STATE_SERVICE_MAX];
	char last_from[TWOFA_STATE_FROM_MAX];
	size_t grace_count;
	twofa_grace_entry grace[TWOFA_STATE_GRACE_MAX];
	size_t source_count;
	twofa_source_entry sources[TWOFA_STATE_SOURCES_MAX];
	size_t single_answer_count;
	twofa_single_answer_entry single_answer[TWOFA_STATE_SINGLE_ANSWER_MAX];
	time_t unlock_honoured; /* the latest admin unlock time cleared here; 0 = none */
	size_t app_used_count;
	twofa_app_used_entry app_used[TWOFA_STATE_APP_USED_MAX]; /* the replay guard */
	long app_failures; /* wrong app codes since the last success or admin unlock */
} twofa_state_entry;

/* Whose state an update is about, and the lockout rules that apply. */
typedef struct twofa_state_login {
	const char *user;
	bool enrolled; /* false: stored under the keyed hash of user */
	const twofa_state_origin *origin;
	long lockout_failures; /* 0 = never locked */
	long lockout_seconds;
} twofa_state_login;

/* Reads a member's state; a missing store or user gives an all-zero entry. */
twofa_status twofa_state_read(const char *path, const char *user, twofa_state_entry *out, twofa_error *err);

/* True while the user is locked out everywhere at time now. */
bool twofa_state_is_locked(const twofa_state_entry *e, time_t now);

/* True while the source is locked out at time now. */
bool twofa_state_source_is_locked(const twofa_source_entry *s, time_t now);

/* The end of the lockout that applies to a login from source at now: the
 * later of the one everywhere and the source's own; 0 when not locked. */
time_t twofa_state_locked_until(const twofa_state_entry *e, const char *source, time_t now);

/* The end of the latest lockout in force at now, everywhere or from any
 * source; 0 when none (what list and show call locked_until). */
time_t twofa_state_latest_lock(const twofa_state_entry *e, time_t now);

/* The send limit at now: sends counted in the window and, when the limit is
 * reached, when the oldest of them leaves it (else *next_at = now). */
void twofa_state_send_window(const twofa_state_entry *e, time_t now, long limit, long window,
			     size_t *in_window, time_t *next_at);

/* Counts a send if fewer than limit sends happened in the last window seconds.
 * *allowed says whether the caller may send; *retry_at, when not allowed, is
 * when the oldest counted send leaves the window. */
twofa_status twofa_state_reserve_send(const char *path, const char *user, time_t now, long limit, long window,
				      bool *allowed, time_t *retry_at, twofa_error *err);

typedef enum twofa_attempt {
	TWOFA_ATTEMPT_GO,     /* check the password, then end the attempt */
	TWOFA_ATTEMPT_LOCKED, /* locked out from this source or everywhere */
	TWOFA_ATTEMPT_BUSY,   /* the checks in flight would use up every failure left */
} twofa_attempt;

/* Before a password check, in one exclusive update: refuses while locked, and
 * reserves a check in flight so that failures plus checks in flight never
 * exceed the lockout bounds, however many logins run in parallel. On GO,
 * *reservation (0: none was needed, lockout off) goes to
 * twofa_state_record_failure or twofa_state_release. */
twofa_status twofa_state_begin_attempt(const char *path, const twofa_state_login *l, time_t now,
				       twofa_attempt *out, time_t *reservation, twofa_error *err);

/* Counts one failure (a wrong password in place of its reservation, or a
 * wrong code with reservation 0) for the source and everywhere, locking at
 * the bounds. *failures (everywhere) and *locked_until (what now applies to
 * this source, 0 when not locked) may be NULL. */
twofa_status twofa_state_record_failure(const char *path, const twofa_state_login *l, time_t now,
					time_t reservation, long *failures, time_t *locked_until,
					twofa_error *err);

/* Gives a reservation back (the password was right). */
twofa_status twofa_state_release(const char *path, const twofa_state_login *l, time_t now, time_t reservation,
				 twofa_error *err);

/* A full success, unless a lockout began meanwhile (*locked; nothing
 * changes then): clears the failures everywhere and from this source,
 * records the last login and, when grace_period > 0 and the origin allows
 * it, a grace entry. */
twofa_status twofa_state_record_success(const char *path, const twofa_state_login *l, time_t now,
					const char *service, long grace_period, bool *locked,
					twofa_error *err);

/* True if the grace key had a full success within grace_period seconds before now. */
bool twofa_state_in_grace(const twofa_state_entry *e, const char *grace_key, time_t now, long grace_period);

/* Remembers, for TWOFA_STATE_SINGLE_ANSWER_SECONDS from now, that service's
 * program answered the member's code prompt with the password, so that its
 * next logins send no code in vain. */
twofa_status twofa_state_note_single_answer(const char *path, const char *user, const char *service,
					    const char *from, time_t now, twofa_error *err);

/* True while service is remembered so for from at now. */
bool twofa_state_single_answer(const twofa_state_entry *e, const char *service, const char *from, time_t now);

/* The time of the latest code send in the last `lifetime` seconds before
 * now; 0 when none. */
time_t twofa_state_last_send(const twofa_state_entry *e, time_t now, long lifetime);

/* The replay guard of authenticator-app codes (per host): claims an app code
 * that Twilio approved for user's factor at now. *replayed true when the same
 * code was accepted here within TWOFA_STATE_APP_GUARD_SECONDS (nothing
 * changes then); else it is kept for that long, the oldest dropped when
 * TWOFA_STATE_APP_USED_MAX are kept. One exclusive update, so two parallel
 * logins with one code let in one. */
twofa_status twofa_state_app_code_claim(const char *path, const char *user, const char *factor,
					const char *code, time_t now, bool *replayed, twofa_error *err);

/* Counts one wrong app code for user (the cap TWOFA_STATE_APP_FAILURES_MAX);
 * *count (may be NULL) is the count after it. */
twofa_status twofa_state_app_failure(const char *path, const char *user, long *count, twofa_error *err);

/* An admin unlock (twofa-enroll unlock) on this host or any other of the
 * fleet: member.unlocked, written in the member store, which replicates,
 * while state.db stays per host. The first time this host's record of user
 * sees an unlock time later than the one it last honoured, it clears the
 * failures, lockouts (everywhere and per source), checks in flight, the send
 * limit's count, the wrong app codes and the remembered single-answer services, and remembers
 * that time; the same time again changes nothing, so failures counted after
 * the host honoured an unlock count on until the next one. Failures carry no
 * time of their own: a failure made here between the unlock and the first
 * login that reads it (replication delay, or a cached member while the
 * directory is down) is cleared with the older ones. unlocked 0 (never
 * unlocked): nothing to do, and state.db is not opened. The server calls it
 * for every login of a member before reading the state; twofa-enroll unlock
 * with the time it just wrote. */
twofa_status twofa_state_unlock(const char *path, const char *user, time_t unlocked, twofa_error *err);

/* The rule twofa_state_unlock stores, applied to an entry in memory: true
 * when unlocked is later than the unlock e last honoured, and e was cleared
 * as said there. list and show apply it to the state they display, so a
 * lockout that an unlock on another host cleared is not shown until this
 * host's next login of the member stores it. */
bool twofa_state_honour_unlock(twofa_state_entry *e, time_t unlocked);

/* Removes everything known about user (twofa-enroll remove). */
twofa_status twofa_state_forget(const char *path, const char *user, twofa_error *err);

/* Checks one record of state.db as stored under key (twofa-enroll db check). */
twofa_status twofa_state_check_record(const char *key, const char *value, size_t len, twofa_error *err);

/* JSON codec of one record, exposed for tests and fuzzing. Version 1 records
 * decode with their grace entries dropped (they were keyed by name only). */
twofa_status twofa_state_encode(const twofa_state_entry *e, char **json, twofa_error *err);
twofa_status twofa_state_decode(const char *json, size_t len, twofa_state_entry *e, twofa_error *err);

#endif
