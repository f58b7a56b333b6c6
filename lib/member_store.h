/* SPDX-License-Identifier: GPL-3.0-or-later */
/* The member store: where enrolled members live, behind one interface with
 * two backends. `store = gdbm` (the default) keeps them in members.db on this
 * host (lib/members.c over lib/store.c); `store = ldap` keeps them on the
 * twofaMember entries of a directory (lib/member_store_ldap.c), so that one
 * enrolment serves every host of a fleet. The per-call server, twofad and
 * every CLI command go through this interface and nothing else, so a rule
 * about members is written once for both backends.
 *
 * A handle is cheap for GDBM (each call opens members.db under the right
 * lock and closes it again, so no caller holds the store across a prompt or a
 * request) and holds a directory connection for LDAP (reused by later calls;
 * twofad keeps it warm). One handle is used by one thread at a time.
 *
 * Errors: TWOFA_ENOTFOUND "not enrolled"; TWOFA_EEXIST "already enrolled";
 * TWOFA_ECONFLICT another writer changed the member between this caller's
 * read and its write (the caller reads again and retries, or tells the admin
 * to); TWOFA_EUNAVAIL no directory server answered in time; TWOFA_ESTORE a
 * store that cannot be read or holds a record that does not decode. */
#ifndef TWOFA_MEMBER_STORE_H
#define TWOFA_MEMBER_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <time.h>

#include "config.h"
#include "error.h"
#include "member.h"

typedef struct twofa_member_store twofa_member_store;

/* Whose credentials a handle uses. LOGIN: the login host's (ldap_bind_*):
 * reads, plus the narrow writes a login makes. ADMIN: twofa-enroll's
 * (ldap_admin_bind_*): every write. GDBM ignores it (root's file either way). */
typedef enum { TWOFA_MEMBER_STORE_LOGIN, TWOFA_MEMBER_STORE_ADMIN } twofa_member_store_role;

/* Opens the store cfg names (cfg->store and its keys). The handle keeps a
 * pointer to cfg, which must outlive it. For LDAP no connection is made yet:
 * the first call connects (so opening never waits on the network). */
twofa_status twofa_member_store_open(twofa_member_store **out, const twofa_config *cfg,
				     twofa_member_store_role role, twofa_error *err);

/* Frees the handle and closes its connection; NULL is fine. */
void twofa_member_store_close(twofa_member_store *s);

/* "members.db /var/lib/twofa/members.db" or "ldap ldaps://a,ldaps://b": for
 * messages and `check-config`. Never holds a credential. */
const char *twofa_member_store_describe(const twofa_member_store *s);

/* Reads user's record. TWOFA_ENOTFOUND when user is not enrolled (or not a
 * valid login name); a missing members.db is TWOFA_ESTORE (nobody can tell a
 * deleted store from an empty one, so fail closed). Only an ADMIN handle
 * (twofa-enroll, before the first enrolment) reads a members.db that does
 * not exist as a store with no members: TWOFA_ENOTFOUND here, nothing for
 * names, each and count; its first put creates the file. */
twofa_status twofa_member_store_load(twofa_member_store *s, const char *user, twofa_member *m,
				     twofa_error *err);

/* Where the record of the last twofa_member_store_load came from, for the
 * caller's log. Only store = ldap on a LOGIN handle keeps this host's member
 * cache (lib/member_cache.h), unless ldap_cache_max_age is 0 (off): a member
 * read from the directory is written to it, one the directory does not have
 * or has disabled is dropped from it, and when no directory server answered
 * (TWOFA_EUNAVAIL, and only that: a certificate that did not verify, a
 * refused bind or a bad entry fail closed) the cached record read at most
 * ldap_cache_max_age seconds ago stands in. Without one the load fails with TWOFA_EUNAVAIL, its message
 * naming the servers tried. When every server of ldap_uri failed less than
 * TWOFA_LDAP_DEAD_SECONDS ago (lib/ldap_dead.h) and the cache holds a usable
 * record, that record is taken at once without trying them (offline, as
 * sssd's offline mode: the acct call after a failed-over auth, a burst of
 * logins during an outage); without one the servers are tried as ever. So a
 * directory that came back goes unused for at most TWOFA_LDAP_DEAD_SECONDS,
 * and a mark never fails a login without a try. A cache that cannot be
 * written or read never fails a load: it is said in cache_trouble. Valid
 * until the next load. */
typedef struct twofa_member_load_source {
	bool from_cache;                         /* the record is this host's cached copy */
	bool offline;                            /* from_cache: no server was tried (see above) */
	time_t read_at;                          /* from_cache: when the directory last gave it */
	char directory[TWOFA_ERROR_MSG_MAX];     /* from_cache: why the directory did not answer */
	char cache_trouble[TWOFA_ERROR_MSG_MAX]; /* "" or what went wrong with the cache */
} twofa_member_load_source;

const twofa_member_load_source *twofa_member_store_last_load(const twofa_member_store *s);

/* How twofa_member_store_put treats a member who is already there. */
typedef enum {
	TWOFA_MEMBER_PUT_ADD,     /* TWOFA_EEXIST, nothing changes */
	TWOFA_MEMBER_PUT_REPLACE, /* overwritten whole (import --replace, rollback) */
	TWOFA_MEMBER_PUT_IMPORT,  /* as ADD, but m's version is kept (import without --replace) */
} twofa_member_put_mode;

/* Stores m (validated first). ADD sets m's version to 1 in the store;
 * REPLACE and IMPORT store m's version as it is (import keeps the records'
 * versions; the directory stores 0, from before versions, as 1). ADD and IMPORT
 * never overwrite: a member enrolled meanwhile (by another admin, after the
 * caller checked the name) is TWOFA_EEXIST, on both backends. */
twofa_status twofa_member_store_put(twofa_member_store *s, const twofa_member *m, twofa_member_put_mode mode,
				    twofa_error *err);

/* Read-modify-write of user's record. change gets the record as stored and
 * returns TWOFA_OK to store it (with version + 1 and updated unchanged: the
 * change sets updated when it means to), TWOFA_EEXIST to leave it unchanged
 * without error, or an error that is passed back. GDBM does it under one
 * exclusive lock; LDAP writes only if the version it read is still there
 * (RFC 4528 assertion), else TWOFA_ECONFLICT: no update is lost silently. */
typedef twofa_status (*twofa_member_change)(twofa_member *m, void *arg, twofa_error *err);
twofa_status twofa_member_store_update(twofa_member_store *s, const char *user, twofa_member_change change,
				       void *arg, twofa_error *err);

/* Removes user's membership: the GDBM record, or the twofa attributes and
 * the twofaMember class of the directory entry (never the entry itself).
 * TWOFA_ENOTFOUND if user is not enrolled. */
twofa_status twofa_member_store_remove(twofa_member_store *s, const char *user, twofa_error *err);

/* Calls cb for every enrolled member's login name, in no particular order,
 * holding at most one name at a time (bounded memory at any size); cb
 * returns nonzero to stop early (still TWOFA_OK). The name is valid only
 * during the call. */
typedef int (*twofa_member_name_cb)(const char *user, void *arg);
twofa_status twofa_member_store_names(twofa_member_store *s, twofa_member_name_cb cb, void *arg,
				      twofa_error *err);

/* Calls cb for every member, decoded, in no particular order and in bounded
 * memory (one record, or one page of the directory, at a time); m is freed
 * after the call. A record that does not decode is not skipped: bad is
 * called with its key and the reason (bad may be NULL: then the walk fails
 * with TWOFA_ESTORE at the first one). cb or bad return nonzero to stop. */
typedef int (*twofa_member_cb)(const twofa_member *m, void *arg);
typedef int (*twofa_member_bad_cb)(const char *key, const char *why, void *arg);
twofa_status twofa_member_store_each(twofa_member_store *s, twofa_member_cb cb, twofa_member_bad_cb bad,
				     void *arg, twofa_error *err);

/* Number of members. */
twofa_status twofa_member_store_count(twofa_member_store *s, size_t *count, twofa_error *err);

/* Many calls in a row (import, list): GDBM holds members.db open from begin
 * to end instead of reopening it per call, under the exclusive lock for
 * TWOFA_MEMBER_BATCH_WRITE or the shared one for TWOFA_MEMBER_BATCH_READ;
 * LDAP does nothing. Between them: load, names, each and count, and in a
 * WRITE batch also put and remove. end syncs; a failed end means the puts
 * since begin may not be on disk. Keep a batch short: it holds the lock
 * (never across a prompt, or output that may block). */
typedef enum { TWOFA_MEMBER_BATCH_READ, TWOFA_MEMBER_BATCH_WRITE } twofa_member_batch_mode;
twofa_status twofa_member_store_batch_begin(twofa_member_store *s, twofa_member_batch_mode mode,
					    twofa_error *err);
twofa_status twofa_member_store_batch_end(twofa_member_store *s, twofa_error *err);

/* The one write a login makes: consumes the code whose stored hash is hash
 * (twofa_member_code_hash_valid), after the caller has checked the code
 * against the record it loaded. RECOVERY removes exactly that recovery code;
 * BYPASS one use of the bypass code with that hash (the code is gone with
 * its last use). Exactly one of any number of racing consumers of one value
 * wins: TWOFA_OK when this caller removed it, TWOFA_ECONFLICT when it is not
 * there any more (another login, here or on another host, used it first, or
 * an admin replaced the codes), TWOFA_ENOTFOUND when user is not enrolled.
 *
 * A consume is not an admin change: the record version and the updated time
 * stay as they are (on LDAP the login identity may not write them). GDBM
 * reads, checks and writes under one exclusive lock. LDAP sends one modify
 * to ldap_write_uri with the handle's own identity (a LOGIN handle: the
 * login credential, whose only write right is deleting values of these two
 * attributes) that deletes exactly one value and nothing else; an admin
 * update never rewrites a code attribute it did not change, so it cannot
 * bring a consumed code back. With no directory server answering it is
 * TWOFA_EUNAVAIL, and a code must then not be accepted: only a consume
 * that returned TWOFA_OK makes a code used (a record from this host's
 * member cache still lists codes used since it was cached). */
twofa_status twofa_member_store_consume(twofa_member_store *s, const char *user, twofa_member_code_kind kind,
					const char *hash, twofa_error *err);

/* The write of a self-enrolment at login (server/enrol.c): stores m, a
 * member of status active or pending with no password hash and no invite,
 * for a user who proved a phone number at login. m's version is ignored
 * (the store sets it). A LOGIN handle may make it (on the directory with the
 * narrow rights of etc/ldap/twofa-enrol.*).
 *
 * invite_code NULL (enroll=self): only when there is no record for m->user;
 * a member or an invited record is TWOFA_EEXIST and nothing changes.
 * invite_code set (enroll=invite): only over an invited record whose invite
 * is that code and has not expired at now (twofa_member_invite_matches),
 * and the invite is consumed in the same write, so that an invite enrols
 * one member once: no record, no invite, a wrong code or an expired invite
 * is TWOFA_EPERM (the message does not say which), a member is TWOFA_EEXIST.
 * Of two enrolments of one user at once, exactly one is TWOFA_OK; the other
 * is TWOFA_EEXIST (self) or TWOFA_EPERM or TWOFA_EEXIST (invite). GDBM reads,
 * checks and writes under one exclusive lock; LDAP adds the class and the
 * attributes to the user's entry in one modify (self; it fails when the
 * class is there) or replaces the invited entry's attributes in one modify
 * that deletes the exact invite value read (invite; it fails when the value
 * is gone). Needs members.db to exist, as a login does (TWOFA_ESTORE). */
twofa_status twofa_member_store_enrol(twofa_member_store *s, const twofa_member *m, const char *invite_code,
				      time_t now, twofa_error *err);

/* max_members_per_phone (the handle's config): *taken is true when e164
 * already serves that many members other than except_user, so that it may
 * not be bound to one more. The enrolment refuses such a number without
 * saying why; twofa-enroll add and phone refuse it unless --shared-phone.
 * An error leaves *taken true (fail closed). */
twofa_status twofa_member_store_phone_taken(twofa_member_store *s, const char *e164, const char *except_user,
					    bool *taken, twofa_error *err);

/* `twofa-enroll invite --revoke`: removes user's record only when it is an
 * invited one (on LDAP the twofa attributes and the class, never the
 * entry). TWOFA_ENOTFOUND when there is none; TWOFA_EEXIST when it is a
 * member's (also one who enrolled between the caller's look and this
 * write: GDBM checks under the exclusive lock, LDAP asserts the status). */
twofa_status twofa_member_store_revoke_invite(twofa_member_store *s, const char *user, twofa_error *err);

/* How many members other than except_user (NULL: none excepted) have the
 * phone number e164 (twofa_e164_valid), for max_members_per_phone: the
 * count, up to TWOFA_MEMBER_PHONE_USERS_MAX (a count of that many means
 * "at least"). Invited records have no number and never count; a record that
 * does not decode is not counted. GDBM walks members.db; LDAP searches
 * twofaPhone (the login identity needs search on it: etc/ldap/README). */
#define TWOFA_MEMBER_PHONE_USERS_MAX 101
twofa_status twofa_member_store_phone_users(twofa_member_store *s, const char *e164, const char *except_user,
					    size_t *count, twofa_error *err);

/* One PAM call, one directory budget: a LOGIN handle's store calls share
 * ldap_timeout x 2 of directory time in all (the time between them, at a
 * prompt, does not count), from the handle's open, or from this call when a
 * kept handle (twofad's pool) serves a new PAM call. An ADMIN handle gives
 * each store call a whole budget (twofa-enroll's batches and imports must
 * not run out). Also lets go of a connection that failed. No-op for GDBM. */
void twofa_member_store_new_call(twofa_member_store *s);

/* False once the handle's directory connection failed or no server
 * answered: not worth keeping for another call. Always true for GDBM. */
bool twofa_member_store_healthy(const twofa_member_store *s);

#endif
