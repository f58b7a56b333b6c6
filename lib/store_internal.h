/* SPDX-License-Identifier: GPL-3.0-or-later */
/* What the parts of the GDBM store share (private to lib/store*.c): the
 * handle, how it is opened, and the helpers one part calls in another.
 * store.c: paths, modes, the lock, open/close and records; store_repair.c:
 * check, recover and the copies beside the store; store_crash.c: crash
 * tolerance (snapshots). */
#ifndef TWOFA_STORE_INTERNAL_H
#define TWOFA_STORE_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>

#include <gdbm.h>

#include "store.h"

struct twofa_store {
	GDBM_FILE db;
	int lock_fd;
	int dir_fd;
	twofa_store_mode mode;
	bool crash_tolerance; /* gdbm_failure_atomic is on: every sync makes a snapshot */
	char *path;
	char *snap_even, *snap_odd; /* "<path>.snap-even", "<path>.snap-odd" */
};

/* How twofa_store_open finds the database file. */
enum open_how {
	OPEN_NORMAL,   /* READ: must exist; WRITE: created if missing */
	OPEN_EXISTING, /* must exist in either mode (check, recover) */
};

#define LOCK_SUFFIX ".lock"
#define SNAP_EVEN_SUFFIX ".snap-even"
#define SNAP_ODD_SUFFIX ".snap-odd"
#define BACKOFF_FIRST_US 1000L
#define BACKOFF_MAX_US 50000L
#define STORE_READ_CACHE_BUCKETS 256 /* GDBM buckets a reader caches (each one block) */

/* store.c */
twofa_status store_lock_wait(int fd, bool exclusive, long timeout_ms, const char *shown, twofa_error *err);
twofa_status store_gdbm_failed(twofa_store *s, const char *doing, twofa_error *err);
void store_release(twofa_store *s);
twofa_status store_prepare(twofa_store **out, const char *path, twofa_store_mode mode, long lock_timeout_ms,
			   enum open_how how, int *db_fd, twofa_error *err);
twofa_status store_open_how(twofa_store **out, const char *path, twofa_store_mode mode, long lock_timeout_ms,
			    enum open_how how, int extra_flags, twofa_error *err);
twofa_status store_fetch(twofa_store *s, datum k, const char *key, char **value, size_t *len,
			 twofa_error *err);
bool store_key_to_string(datum k, char buf[TWOFA_STORE_KEY_MAX + 1]);
twofa_status store_walk_end(twofa_store *s, twofa_error *err);

/* store_repair.c */
twofa_status store_copy_fd(int src_fd, int out, const char *from, const char *to, twofa_error *err);
twofa_status store_create_beside(twofa_store *s, const char *suffix, bool numbered, int *out, char **full,
				 twofa_error *err);
const char *store_base_of(const char *path);
twofa_status store_backup_copy(twofa_store *s, int db_fd, const char *kind, char **backup_path,
			       twofa_error *err);

/* store_crash.c */
twofa_status store_settle_crash(twofa_store *s, bool exclusive, long lock_timeout_ms, twofa_error *err);
twofa_status store_enable_crash_tolerance(twofa_store *s, twofa_error *err);
twofa_status store_drop_snapshots(twofa_store *s, twofa_error *err);
bool store_fs_may_reflink(int dir_fd);

#endif
