/* SPDX-License-Identifier: GPL-3.0-or-later */
/* The member store on GDBM: members.db on this host (lib/members.c over
 * lib/store.c). Each call opens the store under the lock it needs and
 * closes it again (a read-modify-write inside one exclusive open), unless a
 * batch holds it open. */
#include "twofa_build.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sodium.h>

#include "member_store_backend.h"
#include "members.h"
#include "store.h"
#include "util.h"

typedef struct gdbm_members {
	twofa_store *batch; /* open from batch_begin to batch_end */
	bool batch_empty;   /* a READ batch of an ADMIN handle on a members.db not created yet */
} gdbm_members;

static const char *db_path(const twofa_member_store *s)
{
	return s->cfg->members_db;
}

static gdbm_members *impl(twofa_member_store *s)
{
	return s->impl;
}

static twofa_status gdbm_open(twofa_member_store *s, twofa_error *err)
{
	const char *db = db_path(s);
	size_t size;

	if (db == NULL || *db == '\0')
		return twofa_fail(err, TWOFA_ECONFIG, "members_db is not set");
	size = strlen(db) + sizeof("members.db ");
	s->impl = calloc(1, sizeof(gdbm_members));
	s->description = malloc(size);
	if (s->impl == NULL || s->description == NULL) {
		free(s->impl);
		s->impl = NULL;
		return twofa_fail(err, TWOFA_ENOMEM, "out of memory");
	}
	snprintf(s->description, size, "members.db %s", db);
	return TWOFA_OK;
}

static void gdbm_close(twofa_member_store *s)
{
	gdbm_members *g = impl(s);

	if (g != NULL)
		(void)twofa_store_close(g->batch, NULL);
	free(g);
	s->impl = NULL;
}

/* members.db does not exist: before the first enrolment for twofa-enroll,
 * a store to fail closed on for a login (nobody can tell a deleted store
 * from an empty one). */
static twofa_status missing(const twofa_member_store *s, twofa_error *err)
{
	if (s->role == TWOFA_MEMBER_STORE_ADMIN)
		return twofa_fail(err, TWOFA_ENOTFOUND,
				  "user is not enrolled (there is no member store %s yet)", db_path(s));
	return twofa_fail(err, TWOFA_ESTORE, "member store %s does not exist (twofa-enroll add creates it)",
			  db_path(s));
}

static bool file_missing(const char *path)
{
	return access(path, F_OK) != 0 && errno == ENOENT;
}

/* The store for one call: the batch's, or opened now (*own: close it).
 * TWOFA_ENOTFOUND/TWOFA_ESTORE from missing() when there is none and mode
 * would not create it (create: a put). */
static twofa_status acquire(twofa_member_store *s, twofa_store_mode mode, bool create, twofa_store **out,
			    bool *own, twofa_error *err)
{
	gdbm_members *g = impl(s);
	twofa_status st;

	*out = NULL;
	*own = false;
	if (s->in_batch) {
		if (g->batch_empty)
			return missing(s, err);
		*out = g->batch;
		return TWOFA_OK;
	}
	/* A WRITE open creates the file: only a put may. */
	if (mode == TWOFA_STORE_WRITE && !create && file_missing(db_path(s)))
		return missing(s, err);
	st = twofa_store_open(out, db_path(s), mode, TWOFA_STORE_LOCK_TIMEOUT_MS, err);
	if (st == TWOFA_ENOTFOUND)
		return missing(s, err);
	if (st == TWOFA_OK)
		*own = true;
	return st;
}

/* Closes a store acquire opened, keeping the first error: a writer's
 * failed close means its write may not be on disk. */
static twofa_status release(twofa_store *store, bool own, twofa_status st, twofa_error *err)
{
	if (!own)
		return st;
	if (st == TWOFA_OK)
		return twofa_store_close(store, err);
	(void)twofa_store_close(store, NULL);
	return st;
}

static twofa_status gdbm_load(twofa_member_store *s, const char *user, twofa_member *m, twofa_error *err)
{
	twofa_store *store;
	char *value = NULL;
	size_t len = 0;
	bool own;
	twofa_status st = acquire(s, TWOFA_STORE_READ, false, &store, &own, err);

	if (st != TWOFA_OK)
		return st;
	st = twofa_store_get(store, user, &value, &len, err);
	if (st == TWOFA_ENOTFOUND)
		twofa_fail(err, TWOFA_ENOTFOUND, "user is not enrolled");
	/* Closed before decoding: the lock is held only for the read itself. */
	st = release(store, own, st, err);
	if (st == TWOFA_OK)
		st = twofa_members_decode(user, value, len, m, err);
	if (value != NULL)
		twofa_free_wiped(value, len); /* it holds the password hash */
	return st;
}

static twofa_status gdbm_put(twofa_member_store *s, const twofa_member *m, twofa_member_put_mode mode,
			     twofa_error *err)
{
	twofa_store *store;
	bool own;
	twofa_status st = acquire(s, TWOFA_STORE_WRITE, true, &store, &own, err);

	if (st != TWOFA_OK)
		return st;
	st = twofa_members_put(store, m, mode == TWOFA_MEMBER_PUT_REPLACE, err);
	return release(store, own, st, err);
}

/* What a read-modify-write does once it has seen the record. */
typedef enum rmw_write {
	RMW_NOTHING,
	RMW_REPLACE, /* put over the record there */
	RMW_ADD,     /* put where there was none */
	RMW_DELETE,
} rmw_write;

/* Decides a read-modify-write: rec is user's record when found is TWOFA_OK
 * (TWOFA_ENOTFOUND: there is none, and err already says so); it may change
 * rec, and sets *write and *put (rec unless it points elsewhere). */
typedef twofa_status (*rmw_decide)(twofa_member *rec, twofa_status found, void *arg, rmw_write *write,
				   const twofa_member **put, twofa_error *err);

/* The one read-modify-write of members.db: user's record is read, decided
 * on and written under the one exclusive lock, so that no other writer (an
 * admin, another login) may look in between and no concurrent change is lost. */
static twofa_status locked_rmw(twofa_member_store *s, const char *user, rmw_decide decide, void *arg,
			       twofa_error *err)
{
	twofa_store *store;
	twofa_member rec;
	const twofa_member *put = &rec;
	rmw_write write = RMW_NOTHING;
	bool own;
	twofa_status st = acquire(s, TWOFA_STORE_WRITE, false, &store, &own, err);

	if (st != TWOFA_OK)
		return st;
	st = twofa_members_get(store, user, &rec, err);
	if (st == TWOFA_OK || st == TWOFA_ENOTFOUND)
		st = decide(&rec, st, arg, &write, &put, err);
	if (st == TWOFA_OK && write == RMW_DELETE)
		st = twofa_members_delete(store, user, err);
	else if (st == TWOFA_OK && write != RMW_NOTHING)
		st = twofa_members_put(store, put, write == RMW_REPLACE, err);
	twofa_member_free(&rec);
	return release(store, own, st, err);
}

typedef struct change_call {
	twofa_member_change change;
	void *arg;
} change_call;

/* The caller's change of a record there; TWOFA_EEXIST from it: nothing to write. */
static twofa_status decide_update(twofa_member *rec, twofa_status found, void *arg, rmw_write *write,
				  const twofa_member **put, twofa_error *err)
{
	const change_call *c = arg;
	twofa_status st;

	(void)put;
	if (found != TWOFA_OK)
		return found;
	st = c->change(rec, c->arg, err);
	if (st == TWOFA_OK)
		*write = RMW_REPLACE;
	return st == TWOFA_EEXIST ? TWOFA_OK : st;
}

static twofa_status gdbm_update(twofa_member_store *s, const char *user, twofa_member_change change,
				void *arg, twofa_error *err)
{
	change_call c = {change, arg};

	return locked_rmw(s, user, decide_update, &c, err);
}

static twofa_status gdbm_remove(twofa_member_store *s, const char *user, twofa_error *err)
{
	twofa_store *store;
	bool own;
	twofa_status st = acquire(s, TWOFA_STORE_WRITE, false, &store, &own, err);

	if (st != TWOFA_OK)
		return st;
	st = twofa_members_delete(store, user, err);
	return release(store, own, st, err);
}

/* A walk over a store that may not exist: an ADMIN handle sees no members. */
static twofa_status acquire_walk(twofa_member_store *s, twofa_store **store, bool *own, bool *empty,
				 twofa_error *err)
{
	twofa_status st = acquire(s, TWOFA_STORE_READ, false, store, own, err);

	*empty = st == TWOFA_ENOTFOUND && s->role == TWOFA_MEMBER_STORE_ADMIN;
	return *empty ? TWOFA_OK : st;
}

typedef struct name_walk {
	twofa_member_name_cb cb;
	void *arg;
} name_walk;

static int name_of(const char *key, void *arg)
{
	name_walk *w = arg;

	return w->cb(key, w->arg);
}

static twofa_status gdbm_names(twofa_member_store *s, twofa_member_name_cb cb, void *arg, twofa_error *err)
{
	name_walk w = {.cb = cb, .arg = arg};
	twofa_store *store;
	bool own, empty;
	twofa_status st = acquire_walk(s, &store, &own, &empty, err);

	if (st != TWOFA_OK || empty)
		return st;
	st = twofa_store_keys(store, name_of, &w, err);
	return release(store, own, st, err);
}

typedef struct member_walk {
	twofa_member_cb cb;
	twofa_member_bad_cb bad;
	void *arg;
	twofa_status failed; /* TWOFA_ENOMEM stops the walk */
} member_walk;

static int member_of(const char *key, const char *value, size_t len, void *arg)
{
	member_walk *w = arg;
	twofa_member m;
	twofa_error e;
	int stop;

	twofa_error_clear(&e);
	switch (twofa_members_decode(key, value, len, &m, &e)) {
	case TWOFA_OK:
		stop = w->cb(&m, w->arg);
		twofa_member_free(&m);
		return stop;
	case TWOFA_ENOMEM:
		w->failed = TWOFA_ENOMEM;
		return 1;
	default:
		return w->bad(key, e.msg, w->arg);
	}
}

static twofa_status gdbm_each(twofa_member_store *s, twofa_member_cb cb, twofa_member_bad_cb bad, void *arg,
			      twofa_error *err)
{
	member_walk w = {.cb = cb, .bad = bad, .arg = arg, .failed = TWOFA_OK};
	twofa_store *store;
	bool own, empty;
	twofa_status st = acquire_walk(s, &store, &own, &empty, err);

	if (st != TWOFA_OK || empty)
		return st;
	/* Reading the next records while this one is decoded. */
	st = twofa_store_iterate_ahead(store, member_of, &w, err);
	if (st == TWOFA_OK && w.failed != TWOFA_OK)
		st = twofa_fail(err, w.failed, "out of memory");
	return release(store, own, st, err);
}

static twofa_status gdbm_count(twofa_member_store *s, size_t *count, twofa_error *err)
{
	twofa_store *store;
	bool own, empty;
	twofa_status st = acquire_walk(s, &store, &own, &empty, err);

	if (st != TWOFA_OK || empty)
		return st;
	st = twofa_store_count(store, count, err);
	return release(store, own, st, err);
}

static twofa_status gdbm_batch_begin(twofa_member_store *s, twofa_member_batch_mode mode, twofa_error *err)
{
	gdbm_members *g = impl(s);
	twofa_status st;

	g->batch_empty = false;
	st = twofa_store_open(&g->batch, db_path(s),
			      mode == TWOFA_MEMBER_BATCH_WRITE ? TWOFA_STORE_WRITE : TWOFA_STORE_READ,
			      TWOFA_STORE_LOCK_TIMEOUT_MS, err);
	if (st == TWOFA_ENOTFOUND) {
		st = missing(s, err);
		if (st == TWOFA_ENOTFOUND) {
			g->batch_empty = true;
			return TWOFA_OK;
		}
	}
	return st;
}

static twofa_status gdbm_batch_end(twofa_member_store *s, twofa_error *err)
{
	gdbm_members *g = impl(s);
	twofa_store *store = g->batch;

	g->batch = NULL;
	g->batch_empty = false;
	return twofa_store_close(store, err);
}

/* Removes the code hash matches from m: TWOFA_ECONFLICT when it has none. */
static twofa_status take_code(twofa_member *m, twofa_member_code_kind kind, const char *hash, twofa_error *err)
{
	size_t len = TWOFA_MEMBER_CODE_HASH_SIZE - 1, found = m->recovery_count;

	if (kind == TWOFA_MEMBER_CODE_BYPASS) {
		if (m->bypass[0] == '\0' || sodium_memcmp(m->bypass, hash, len) != 0)
			return twofa_fail(err, TWOFA_ECONFLICT, "the bypass code is used up or was replaced");
		if (--m->bypass_uses == 0) {
			sodium_memzero(m->bypass, sizeof(m->bypass));
			sodium_memzero(m->bypass_issuer, sizeof(m->bypass_issuer));
			m->bypass_expires = 0;
		}
		return TWOFA_OK;
	}
	/* Every stored code is compared: no early exit. */
	for (size_t i = 0; i < m->recovery_count; i++) {
		if (sodium_memcmp(m->recovery[i], hash, len) == 0)
			found = i;
	}
	if (found == m->recovery_count)
		return twofa_fail(err, TWOFA_ECONFLICT, "the recovery code was used already or was replaced");
	memmove(m->recovery[found], m->recovery[found + 1],
		(m->recovery_count - found - 1) * sizeof(m->recovery[0]));
	m->recovery_count--;
	sodium_memzero(m->recovery[m->recovery_count], sizeof(m->recovery[0]));
	return TWOFA_OK;
}

typedef struct code_to_take {
	twofa_member_code_kind kind;
	const char *hash;
} code_to_take;

static twofa_status take_change(twofa_member *m, void *arg, twofa_error *err)
{
	const code_to_take *c = arg;

	return take_code(m, c->kind, c->hash, err);
}

/* gdbm_update's read, change and write under one exclusive lock: of two
 * logins with one code, the second reads the record without it. Called
 * here directly, not through member_store.c, so neither the version nor
 * the updated time changes: a consume is not an admin change (the same on
 * the directory, where a login may not write either). */
static twofa_status gdbm_consume(twofa_member_store *s, const char *user, twofa_member_code_kind kind,
				 const char *hash, twofa_error *err)
{
	code_to_take c = {kind, hash};

	return gdbm_update(s, user, take_change, &c, err);
}

typedef struct enrol_call {
	twofa_member stored; /* shallow: the caller's member, but for the version */
	const char *invite_code;
	time_t now;
} enrol_call;

/* A self-enrolment: over an invited record only with its invite (which
 * goes with this write), where there is none only without one. */
static twofa_status decide_enrol(twofa_member *rec, twofa_status found, void *arg, rmw_write *write,
				 const twofa_member **put, twofa_error *err)
{
	enrol_call *e = arg;
	const char *user = e->stored.user;

	if (found == TWOFA_OK && rec->status != TWOFA_MEMBER_INVITED)
		return twofa_fail(err, TWOFA_EEXIST, "%s is already enrolled", user);
	if (found == TWOFA_OK && e->invite_code == NULL)
		return twofa_fail(err, TWOFA_EEXIST, "%s has an invite: enrolment needs it", user);
	if (found == TWOFA_OK && !twofa_member_invite_matches(rec, e->invite_code, e->now))
		return twofa_fail(err, TWOFA_EPERM, "no valid invite for %s", user);
	if (found != TWOFA_OK && e->invite_code != NULL)
		return twofa_fail(err, TWOFA_EPERM, "no valid invite for %s", user);
	if (found == TWOFA_OK)
		e->stored.version = rec->version + 1;
	*write = found == TWOFA_OK ? RMW_REPLACE : RMW_ADD;
	*put = &e->stored;
	return TWOFA_OK;
}

/* A self-enrolment, decided under one exclusive lock: the record there (or
 * none) is read and checked, and m written, before any other writer (another
 * login enrolling the same user, an admin) may look. */
static twofa_status gdbm_enrol(twofa_member_store *s, const twofa_member *m, const char *invite_code,
			       time_t now, twofa_error *err)
{
	enrol_call e = {.stored = *m, .invite_code = invite_code, .now = now};

	return locked_rmw(s, m->user, decide_enrol, &e, err);
}

/* Removes an invited record; a member's is refused. */
static twofa_status decide_revoke(twofa_member *rec, twofa_status found, void *arg, rmw_write *write,
				  const twofa_member **put, twofa_error *err)
{
	(void)arg;
	(void)put;
	if (found != TWOFA_OK)
		return found;
	if (rec->status != TWOFA_MEMBER_INVITED)
		return twofa_fail(err, TWOFA_EEXIST, "%s is enrolled, not invited", rec->user);
	*write = RMW_DELETE;
	return TWOFA_OK;
}

static twofa_status gdbm_revoke_invite(twofa_member_store *s, const char *user, twofa_error *err)
{
	return locked_rmw(s, user, decide_revoke, NULL, err);
}

typedef struct phone_walk {
	const char *e164, *except;
	size_t count;
} phone_walk;

static int phone_of(const char *key, const char *value, size_t len, void *arg)
{
	phone_walk *w = arg;
	twofa_member m;

	/* Most records hold another number: skip decoding them. A JSON string
	 * holds the number's digits as they are, or through a \u escape. */
	if (w->e164[0] == '+' && w->e164[1] != '\0' &&
	    memmem(value, len, w->e164 + 1, strlen(w->e164 + 1)) == NULL &&
	    memmem(value, len, "\\u", 2) == NULL)
		return 0;
	if (twofa_members_decode(key, value, len, &m, NULL) != TWOFA_OK)
		return 0; /* not counted: `db check` reports it */
	if (m.status != TWOFA_MEMBER_INVITED && strcmp(m.phone, w->e164) == 0 &&
	    (w->except == NULL || strcmp(m.user, w->except) != 0))
		w->count++;
	twofa_member_free(&m);
	return w->count >= TWOFA_MEMBER_PHONE_USERS_MAX;
}

static twofa_status gdbm_phone_users(twofa_member_store *s, const char *e164, const char *except_user,
				     size_t *count, twofa_error *err)
{
	phone_walk w = {e164, except_user, 0};
	twofa_store *store;
	bool own, empty;
	twofa_status st = acquire_walk(s, &store, &own, &empty, err);

	if (st != TWOFA_OK || empty)
		return st;
	/* GDBM's reads in a second thread: they are most of the walk now. */
	st = twofa_store_iterate_ahead(store, phone_of, &w, err);
	*count = w.count;
	return release(store, own, st, err);
}

const twofa_member_store_ops twofa_member_store_gdbm_ops = {
	.open = gdbm_open,
	.close = gdbm_close,
	.load = gdbm_load,
	.put = gdbm_put,
	.update = gdbm_update,
	.remove = gdbm_remove,
	.names = gdbm_names,
	.each = gdbm_each,
	.count = gdbm_count,
	.batch_begin = gdbm_batch_begin,
	.batch_end = gdbm_batch_end,
	.consume = gdbm_consume,
	.enrol = gdbm_enrol,
	.phone_users = gdbm_phone_users,
	.revoke_invite = gdbm_revoke_invite,
};
