/* SPDX-License-Identifier: GPL-3.0-or-later */
/* The per-host cache of members read from the directory (store = ldap), so
 * that a directory outage does not lock every host out, root at the console
 * and cron included. It is used only when no directory server answered,
 * and only for a member read at most ldap_cache_max_age seconds ago; a
 * member the directory no longer has, or has disabled, leaves it at the next
 * successful read. It lives beside state.db (twofa_member_cache_path) in a
 * GDBM store with lib/store's locks, owner and mode checks (0600 root: a
 * cached record holds the password hash, as members.db does).
 *
 * A value is "<seconds since the epoch the member was read>\n<member JSON>". */
#ifndef TWOFA_MEMBER_CACHE_H
#define TWOFA_MEMBER_CACHE_H

#include <stddef.h>
#include <time.h>

#include "error.h"
#include "member.h"

/* "<directory of state_db>/member-cache.db" into out; false if it does not fit. */
bool twofa_member_cache_path(const char *state_db, char *out, size_t size);

/* Remembers m as read from the directory at now. Skips the write when the
 * cache already holds the same record read recently: less than an hour ago
 * and less than a quarter of max_age (a login should not rewrite a file it
 * does not need to, yet an entry in use must never age past max_age). */
twofa_status twofa_member_cache_put(const char *path, const twofa_member *m, time_t now, long max_age,
				    twofa_error *err);

/* Forgets user (no longer a member, or disabled). TWOFA_OK if it was not there. */
twofa_status twofa_member_cache_drop(const char *path, const char *user, twofa_error *err);

/* The cached member, if read at most max_age seconds before now (max_age 0:
 * the cache is off, always TWOFA_ENOTFOUND). *read_at says when. An entry
 * too old, absent, or a cache that does not exist is TWOFA_ENOTFOUND; a
 * damaged one TWOFA_ESTORE. */
twofa_status twofa_member_cache_get(const char *path, const char *user, long max_age, time_t now,
				    twofa_member *m, time_t *read_at, twofa_error *err);

#endif
