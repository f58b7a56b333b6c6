/* SPDX-License-Identifier: GPL-3.0-or-later */
/* The key/value stores (members.db, state.db) on GDBM.
 *
 * GDBM's own lock never waits, so every open takes a flock on "<path>.lock"
 * beside the database: shared for TWOFA_STORE_READ, exclusive for
 * TWOFA_STORE_WRITE, retried with backoff until lock_timeout_ms, and the
 * database is opened with GDBM_NOLOCK. The lock is held from open to close.
 *
 * Callers: hold a store open only across the database operations themselves,
 * never across a network call, a prompt or a password hash. A
 * read-modify-write belongs inside one WRITE open (get, put, close), which is
 * what keeps concurrent updates from being lost.
 *
 * Files: the store's directory is created 0700 on the first WRITE open (its
 * parent must exist); database and lock files are created 0600. A directory,
 * database or lock file that is not owned by root, or is group- or
 * world-writable, is refused with TWOFA_EPERM. A corrupt or foreign file is
 * TWOFA_ESTORE, never a crash and never an empty store.
 *
 * Crashes: where the store's directory is on a filesystem that makes reflink
 * copies (XFS made with reflink=1, Btrfs), a WRITE open turns on GDBM's crash
 * tolerance (gdbm_failure_atomic): every sync also clones the database into
 * "<path>.snap-even" or "<path>.snap-odd", and a clean close removes both.
 * Whoever opens the store next (reader or writer; a reader takes the
 * exclusive lock for this) and finds them knows the writer died: the
 * database goes back to its last successful sync (GDBM's
 * gdbm_latest_snapshot chooses), and the file the writer left is kept as
 * "<path>.crashed-YYYYMMDDTHHMMSSZ". Snapshots GDBM cannot order fail the
 * open with TWOFA_ESTORE, naming them. Elsewhere (ext4, tmpfs) nothing of
 * this happens: a writer killed mid-update may leave a store that needs
 * twofa_store_recover. New databases on a reflink filesystem use GDBM's
 * numsync format.
 *
 * Memory: a READ open reads with plain reads (no mapping of the file) and
 * caches at most a few hundred buckets, so a walk of any size (export, db
 * check) stays in bounded memory; a WRITE open keeps GDBM's defaults.
 *
 * Keys are non-empty C strings (stored without the NUL) of at most
 * TWOFA_STORE_KEY_MAX bytes; values are at most TWOFA_STORE_VALUE_MAX bytes. */
#ifndef TWOFA_STORE_H
#define TWOFA_STORE_H

#include <stdbool.h>
#include <stddef.h>

#include "error.h"

#define TWOFA_STORE_KEY_MAX 1024
#define TWOFA_STORE_VALUE_MAX (64 * 1024)
/* A sensible wait for callers with no better idea (a login, a CLI command). */
#define TWOFA_STORE_LOCK_TIMEOUT_MS 5000L

typedef struct twofa_store twofa_store;
typedef enum { TWOFA_STORE_READ, TWOFA_STORE_WRITE } twofa_store_mode;

/* Opens the store at path. lock_timeout_ms >= 0 bounds the wait for the lock
 * (0: one try); past it the result is TWOFA_EBUSY. In READ mode a missing
 * directory or database is TWOFA_ENOTFOUND (the caller decides whether that
 * means "no members"). On success *out must be closed with twofa_store_close. */
twofa_status twofa_store_open(twofa_store **out, const char *path, twofa_store_mode mode,
			      long lock_timeout_ms, twofa_error *err);

/* Fetches key. TWOFA_ENOTFOUND if absent. *value is malloc'd and
 * NUL-terminated (the NUL is not counted in *len); the caller frees it. */
twofa_status twofa_store_get(twofa_store *s, const char *key, char **value, size_t *len, twofa_error *err);

/* TWOFA_OK if key is present, TWOFA_ENOTFOUND if not, or an error. */
twofa_status twofa_store_exists(twofa_store *s, const char *key, twofa_error *err);

/* Stores len bytes of value under key (WRITE mode only). With replace false,
 * an existing key is TWOFA_EEXIST and is left as it was. */
twofa_status twofa_store_put(twofa_store *s, const char *key, const char *value, size_t len, bool replace,
			     twofa_error *err);

/* Deletes key (WRITE mode only); TWOFA_ENOTFOUND if absent. */
twofa_status twofa_store_delete(twofa_store *s, const char *key, twofa_error *err);

/* Calls cb for every record in hash order, with a NUL-terminated key and a
 * NUL-terminated value of len bytes (both valid only during the call). cb
 * returns nonzero to stop early (still TWOFA_OK). cb must not modify the
 * store. A damaged record or walk is TWOFA_ESTORE. */
typedef int (*twofa_store_cb)(const char *key, const char *value, size_t len, void *arg);
twofa_status twofa_store_iterate(twofa_store *s, twofa_store_cb cb, void *arg, twofa_error *err);

/* As twofa_store_iterate, with the store's reads made in a second thread a
 * few hundred records ahead of cb, which runs in the caller's thread (cb
 * must not use s; the walk costs one thread and some 260 KiB). For walks
 * whose cb costs about what the reads do (decoding every member). Without a
 * thread it is twofa_store_iterate. (lib/store_ahead.c) */
twofa_status twofa_store_iterate_ahead(twofa_store *s, twofa_store_cb cb, void *arg, twofa_error *err);

/* Calls cb for every key in hash order, without reading the values (a
 * NUL-terminated key, valid only during the call); otherwise as
 * twofa_store_iterate. */
typedef int (*twofa_store_key_cb)(const char *key, void *arg);
twofa_status twofa_store_keys(twofa_store *s, twofa_store_key_cb cb, void *arg, twofa_error *err);

/* Number of records. */
twofa_status twofa_store_count(twofa_store *s, size_t *count, twofa_error *err);

/* Writes everything stored so far to disk (WRITE mode), e.g. between the
 * batches of a long import; close does this too. */
twofa_status twofa_store_sync(twofa_store *s, twofa_error *err);

/* Syncs (writer) and closes the database, then releases the lock. Always
 * frees everything; s may be NULL. A failed sync or close is TWOFA_ESTORE:
 * the writes of this open may not be on disk. */
twofa_status twofa_store_close(twofa_store *s, twofa_error *err);

/* Closes s after work that ended with st and returns what to pass back:
 * st when it is an error (the first error is the one reported), else the
 * close's own status. s may be NULL. */
twofa_status twofa_store_finish(twofa_store *s, twofa_status st, twofa_error *err);

/* Opens the store at path for writing, deletes key and closes it again: one
 * "forget this key" for callers that have nothing else to do there. A key
 * that is not there is TWOFA_OK. */
twofa_status twofa_store_delete_if_present(const char *path, const char *key, twofa_error *err);

/* True if this open makes crash snapshots at every sync (see the top). */
bool twofa_store_crash_tolerance(const twofa_store *s);

/* Result of a check: every record walked and fetched. */
typedef struct twofa_store_report {
	size_t records;          /* records read whole */
	size_t damaged;          /* keys or values that could not be read, or were refused by the validator */
	bool walk_complete;      /* false: the walk stopped at a damaged bucket */
	char first_problem[256]; /* the first damaged entry, for the report ("" if none) */
} twofa_store_report;

/* Optional per-record validator for twofa_store_check (e.g. a member decoder):
 * returns true if the record is good, else false with a reason in why. */
typedef bool (*twofa_store_validator)(const char *key, const char *value, size_t len, void *arg, char *why,
				      size_t why_size);

/* Walks every record of the store under a shared lock and fills report.
 * TWOFA_OK if the store opened and nothing was damaged; TWOFA_ESTORE if the
 * file cannot be opened as a database or any entry is damaged (report says
 * what was found). validate may be NULL. */
twofa_status twofa_store_check(const char *path, long lock_timeout_ms, twofa_store_validator validate,
			       void *arg, twofa_store_report *report, twofa_error *err);

typedef struct twofa_store_recovery {
	size_t recovered_keys;
	size_t failed_keys;
	size_t failed_buckets;
	size_t duplicate_keys;
} twofa_store_recovery;

/* Rebuilds a damaged store with GDBM's recovery, under the exclusive lock.
 * First copies the original file to "<path>.bak-YYYYMMDDTHHMMSSZ" (0600, never
 * overwriting); *backup_path (malloc'd, caller frees) names it, also on
 * failure once the copy exists. A file whose header cannot be read at all
 * cannot be recovered: TWOFA_ESTORE, and the backup is kept. */
twofa_status twofa_store_recover(const char *path, long lock_timeout_ms, char **backup_path,
				 twofa_store_recovery *stats, twofa_error *err);

#endif
