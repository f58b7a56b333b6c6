/* SPDX-License-Identifier: GPL-3.0-or-later */
/* The member store's one front (lib/member_store.h): argument checks and the
 * rules both backends keep (valid names, validated records, versions, the
 * record's name matching its key, batches), then the backend's operation
 * (lib/member_store_backend.h); and for a login host on the directory, this
 * host's member cache around each load (lib/member_cache.h). */
#include "twofa_build.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "member_cache.h"
#include "member_store_backend.h"
#include "onetime_code.h"
#include "util.h"

static const twofa_member_store_ops *backend_ops(twofa_store_backend which, twofa_error *err)
{
	switch (which) {
	case TWOFA_STORE_GDBM:
		return &twofa_member_store_gdbm_ops;
	case TWOFA_STORE_LDAP:
#ifdef TWOFA_HAVE_LDAP
		return &twofa_member_store_ldap_ops;
#else
		/* Until configure finds libldap (lib/member_store_ldap.c). */
		twofa_error_set(err, TWOFA_ECONFIG, "store = ldap: this build has no LDAP backend");
		return NULL;
#endif
	}
	twofa_error_set(err, TWOFA_ECONFIG, "unknown member store backend %d", (int)which);
	return NULL;
}

twofa_status twofa_member_store_open(twofa_member_store **out, const twofa_config *cfg,
				     twofa_member_store_role role, twofa_error *err)
{
	const twofa_member_store_ops *ops;
	twofa_member_store *s;
	twofa_status st;

	if (out == NULL || cfg == NULL)
		return twofa_fail(err, TWOFA_EINVAL, "member store: no config or no place for the handle");
	*out = NULL;
	if (role != TWOFA_MEMBER_STORE_LOGIN && role != TWOFA_MEMBER_STORE_ADMIN)
		return twofa_fail(err, TWOFA_EINVAL, "member store: unknown role");
	if ((ops = backend_ops(cfg->store, err)) == NULL)
		return TWOFA_ECONFIG;
	if ((s = calloc(1, sizeof(*s))) == NULL)
		return twofa_fail(err, TWOFA_ENOMEM, "out of memory");
	s->ops = ops;
	s->cfg = cfg;
	s->role = role;
	st = ops->open(s, err);
	if (st != TWOFA_OK) {
		free(s->description);
		free(s);
		return st;
	}
	*out = s;
	return TWOFA_OK;
}

void twofa_member_store_close(twofa_member_store *s)
{
	if (s == NULL)
		return;
	s->ops->close(s);
	free(s->description);
	free(s);
}

const char *twofa_member_store_describe(const twofa_member_store *s)
{
	return s != NULL && s->description != NULL ? s->description : "member store";
}

/* A handle and, when the call writes, a batch that allows it. */
static twofa_status usable(const twofa_member_store *s, bool writes, twofa_error *err)
{
	if (s == NULL)
		return twofa_fail(err, TWOFA_EINVAL, "member store is not open");
	if (writes && s->in_batch && s->batch_mode != TWOFA_MEMBER_BATCH_WRITE)
		return twofa_fail(err, TWOFA_EINVAL, "member store: a write inside a read batch");
	return TWOFA_OK;
}

/* Only a login host on the directory keeps a cache: the CLI writes, and
 * must never act on a stale copy. */
static bool keeps_cache(const twofa_member_store *s)
{
	return s->cfg->store == TWOFA_STORE_LDAP && s->role == TWOFA_MEMBER_STORE_LOGIN;
}

static bool cache_path(twofa_member_store *s, char *path, size_t size)
{
	if (twofa_member_cache_path(s->cfg->state_db, path, size))
		return true;
	(void)snprintf(s->last_load.cache_trouble, sizeof(s->last_load.cache_trouble),
		       "member cache: no path beside state_db");
	return false;
}

/* The directory answered (st is what it said): keep a member it has and
 * has not disabled; forget one it has not, or has disabled. */
static void cache_keep(twofa_member_store *s, const char *user, twofa_status st, const twofa_member *m)
{
	char path[PATH_MAX];
	twofa_error e;
	twofa_status kept;

	if (!cache_path(s, path, sizeof(path)))
		return;
	twofa_error_clear(&e);
	if (st == TWOFA_OK && m->status != TWOFA_MEMBER_DISABLED && m->status != TWOFA_MEMBER_INVITED)
		kept = twofa_member_cache_put(path, m, time(NULL), s->cfg->ldap_cache_max_age, &e);
	else
		kept = twofa_member_cache_drop(path, user, &e);
	if (kept != TWOFA_OK)
		(void)snprintf(s->last_load.cache_trouble, sizeof(s->last_load.cache_trouble),
			       "member cache %.200s not updated: %.280s", path, e.msg);
}

/* No directory server answered (err says which were tried): this host's
 * cached record stands in if it is recent enough; else the load fails with
 * TWOFA_EUNAVAIL, saying why no cached record could. */
static twofa_status cache_stand_in(twofa_member_store *s, const char *user, twofa_member *m, twofa_error *err)
{
	twofa_member_load_source *src = &s->last_load;
	char path[PATH_MAX];
	twofa_error e;
	twofa_status st;

	(void)twofa_strlcpy(src->directory, err != NULL ? err->msg : "", sizeof(src->directory));
	if (!cache_path(s, path, sizeof(path)))
		return twofa_fail(err, TWOFA_EUNAVAIL, "%s; no cached record: %s", src->directory,
				  src->cache_trouble);
	twofa_error_clear(&e);
	st = twofa_member_cache_get(path, user, s->cfg->ldap_cache_max_age, time(NULL), m, &src->read_at, &e);
	if (st == TWOFA_OK) {
		src->from_cache = true;
		return TWOFA_OK;
	}
	if (st != TWOFA_ENOTFOUND)
		(void)snprintf(src->cache_trouble, sizeof(src->cache_trouble), "%s", e.msg);
	return twofa_fail(err, TWOFA_EUNAVAIL, "%s; no cached record: %s", src->directory, e.msg);
}

/* sssd's offline mode: every directory server failed moments ago (they are
 * remembered dead), so a usable cached record is taken at once rather than
 * waiting on them again; false (nothing changed) without one: the servers
 * are tried as ever, so a mark alone never fails anyone. */
static bool offline_stand_in(twofa_member_store *s, const char *user, twofa_member *m)
{
	twofa_error why;

	twofa_error_clear(&why);
	if (!keeps_cache(s) || s->cfg->ldap_cache_max_age <= 0 || s->ops->offline == NULL ||
	    !s->ops->offline(s, &why))
		return false;
	if (cache_stand_in(s, user, m, &why) == TWOFA_OK) {
		s->last_load.offline = true;
		return true;
	}
	twofa_member_free(m);
	memset(m, 0, sizeof(*m));
	memset(&s->last_load, 0, sizeof(s->last_load));
	return false;
}

twofa_status twofa_member_store_load(twofa_member_store *s, const char *user, twofa_member *m,
				     twofa_error *err)
{
	twofa_status st;

	if (m == NULL)
		return twofa_fail(err, TWOFA_EINVAL, "no place for the member");
	memset(m, 0, sizeof(*m));
	if ((st = usable(s, false, err)) != TWOFA_OK)
		return st;
	memset(&s->last_load, 0, sizeof(s->last_load));
	if (user == NULL || !twofa_user_name_valid(user))
		return twofa_fail(err, TWOFA_ENOTFOUND, "not a valid login name");
	if (offline_stand_in(s, user, m))
		return TWOFA_OK;
	st = s->ops->load(s, user, m, err);
	if (st == TWOFA_OK && (m->user == NULL || strcmp(m->user, user) != 0))
		st = twofa_fail(err, TWOFA_ESTORE, "member record under one name holds another");
	if (st != TWOFA_OK)
		twofa_member_free(m);
	if (!keeps_cache(s))
		return st;
	/* Only an outage lets the cache stand in: a certificate that did not
	 * verify (ECONFIG), a refused bind (EPERM) or a bad entry (ESTORE)
	 * fail closed, and leave the cache as it is. */
	if ((st == TWOFA_OK || st == TWOFA_ENOTFOUND) && s->cfg->ldap_cache_max_age > 0)
		cache_keep(s, user, st, m); /* no copy of the password hash kept for nothing */
	else if (st == TWOFA_EUNAVAIL)
		st = cache_stand_in(s, user, m, err);
	return st;
}

const twofa_member_load_source *twofa_member_store_last_load(const twofa_member_store *s)
{
	static const twofa_member_load_source none;

	return s != NULL ? &s->last_load : &none;
}

twofa_status twofa_member_store_put(twofa_member_store *s, const twofa_member *m, twofa_member_put_mode mode,
				    twofa_error *err)
{
	twofa_member stored;
	twofa_status st;

	if ((st = usable(s, true, err)) != TWOFA_OK)
		return st;
	if (m == NULL || (mode != TWOFA_MEMBER_PUT_ADD && mode != TWOFA_MEMBER_PUT_REPLACE &&
			  mode != TWOFA_MEMBER_PUT_IMPORT))
		return twofa_fail(err, TWOFA_EINVAL, "member store: nothing to store, or an unknown mode");
	if ((st = twofa_member_validate(m, err)) != TWOFA_OK)
		return st;
	/* A shallow copy: only the version differs, nothing is freed. A new
	 * member starts at 1; REPLACE and IMPORT keep the record's. */
	stored = *m;
	if (mode == TWOFA_MEMBER_PUT_ADD)
		stored.version = 1;
	st = s->ops->put(s, &stored, mode, err);
	if (st == TWOFA_EEXIST)
		twofa_fail(err, TWOFA_EEXIST, "user is already enrolled");
	return st;
}

/* The caller's change, then what every stored change must be: the same
 * member, a valid record, the next version. */
typedef struct versioned_change {
	const char *user;
	twofa_member_change change;
	void *arg;
} versioned_change;

static twofa_status change_versioned(twofa_member *m, void *arg, twofa_error *err)
{
	versioned_change *vc = arg;
	twofa_status st = vc->change(m, vc->arg, err);

	if (st != TWOFA_OK)
		return st;
	if (m->user == NULL || strcmp(m->user, vc->user) != 0)
		return twofa_fail(err, TWOFA_EINVAL, "a change may not rename the member");
	if ((st = twofa_member_validate(m, err)) != TWOFA_OK)
		return st;
	m->version++; /* 0, a record from before versions, becomes 1 */
	return TWOFA_OK;
}

twofa_status twofa_member_store_update(twofa_member_store *s, const char *user, twofa_member_change change,
				       void *arg, twofa_error *err)
{
	versioned_change vc = {.user = user, .change = change, .arg = arg};
	twofa_status st;

	if ((st = usable(s, true, err)) != TWOFA_OK)
		return st;
	if (change == NULL)
		return twofa_fail(err, TWOFA_EINVAL, "member store: no change to make");
	if (user == NULL || !twofa_user_name_valid(user))
		return twofa_fail(err, TWOFA_ENOTFOUND, "not a valid login name");
	return s->ops->update(s, user, change_versioned, &vc, err);
}

twofa_status twofa_member_store_remove(twofa_member_store *s, const char *user, twofa_error *err)
{
	twofa_status st;

	if ((st = usable(s, true, err)) != TWOFA_OK)
		return st;
	if (user == NULL || !twofa_user_name_valid(user))
		return twofa_fail(err, TWOFA_ENOTFOUND, "not a valid login name");
	return s->ops->remove(s, user, err);
}

twofa_status twofa_member_store_names(twofa_member_store *s, twofa_member_name_cb cb, void *arg,
				      twofa_error *err)
{
	twofa_status st;

	if ((st = usable(s, false, err)) != TWOFA_OK)
		return st;
	if (cb == NULL)
		return twofa_fail(err, TWOFA_EINVAL, "member store: no callback for the names");
	return s->ops->names(s, cb, arg, err);
}

/* The bad-record callback for a caller that gave none: the walk fails. */
typedef struct strict_walk {
	twofa_member_cb cb;
	void *arg;
	bool failed;
	char why[TWOFA_ERROR_MSG_MAX / 2];
} strict_walk;

static int strict_member(const twofa_member *m, void *arg)
{
	strict_walk *w = arg;

	return w->cb(m, w->arg);
}

static int strict_bad(const char *key, const char *why, void *arg)
{
	strict_walk *w = arg;
	char shown[64];

	twofa_strlcpy(shown, key, sizeof(shown));
	twofa_sanitize(shown);
	snprintf(w->why, sizeof(w->why), "record '%s': %s", shown, why);
	w->failed = true;
	return 1;
}

twofa_status twofa_member_store_each(twofa_member_store *s, twofa_member_cb cb, twofa_member_bad_cb bad,
				     void *arg, twofa_error *err)
{
	strict_walk w = {.cb = cb, .arg = arg};
	twofa_status st;

	if ((st = usable(s, false, err)) != TWOFA_OK)
		return st;
	if (cb == NULL)
		return twofa_fail(err, TWOFA_EINVAL, "member store: no callback for the members");
	if (bad != NULL)
		return s->ops->each(s, cb, bad, arg, err);
	st = s->ops->each(s, strict_member, strict_bad, &w, err);
	if (st == TWOFA_OK && w.failed)
		st = twofa_fail(err, TWOFA_ESTORE, "%s: %s", twofa_member_store_describe(s), w.why);
	return st;
}

twofa_status twofa_member_store_count(twofa_member_store *s, size_t *count, twofa_error *err)
{
	twofa_status st;

	if (count == NULL)
		return twofa_fail(err, TWOFA_EINVAL, "no place for the count");
	*count = 0;
	if ((st = usable(s, false, err)) != TWOFA_OK)
		return st;
	return s->ops->count(s, count, err);
}

twofa_status twofa_member_store_batch_begin(twofa_member_store *s, twofa_member_batch_mode mode,
					    twofa_error *err)
{
	twofa_status st;

	if ((st = usable(s, false, err)) != TWOFA_OK)
		return st;
	if (mode != TWOFA_MEMBER_BATCH_READ && mode != TWOFA_MEMBER_BATCH_WRITE)
		return twofa_fail(err, TWOFA_EINVAL, "member store: unknown batch mode");
	if (s->in_batch)
		return twofa_fail(err, TWOFA_EINVAL, "member store: a batch is already open");
	if (s->ops->batch_begin != NULL && (st = s->ops->batch_begin(s, mode, err)) != TWOFA_OK)
		return st;
	s->in_batch = true;
	s->batch_mode = mode;
	return TWOFA_OK;
}

twofa_status twofa_member_store_batch_end(twofa_member_store *s, twofa_error *err)
{
	twofa_status st;

	if ((st = usable(s, false, err)) != TWOFA_OK)
		return st;
	if (!s->in_batch)
		return twofa_fail(err, TWOFA_EINVAL, "member store: no batch is open");
	s->in_batch = false;
	return s->ops->batch_end != NULL ? s->ops->batch_end(s, err) : TWOFA_OK;
}

twofa_status twofa_member_store_consume(twofa_member_store *s, const char *user, twofa_member_code_kind kind,
					const char *hash, twofa_error *err)
{
	twofa_status st;

	if ((st = usable(s, true, err)) != TWOFA_OK)
		return st;
	if (kind != TWOFA_MEMBER_CODE_RECOVERY && kind != TWOFA_MEMBER_CODE_BYPASS)
		return twofa_fail(err, TWOFA_EINVAL, "member store: unknown kind of code");
	if (!twofa_member_code_hash_valid(hash))
		return twofa_fail(err, TWOFA_EINVAL, "member store: not a code hash");
	if (user == NULL || !twofa_user_name_valid(user))
		return twofa_fail(err, TWOFA_ENOTFOUND, "not a valid login name");
	return s->ops->consume(s, user, kind, hash, err);
}

twofa_status twofa_member_store_enrol(twofa_member_store *s, const twofa_member *m, const char *invite_code,
				      time_t now, twofa_error *err)
{
	twofa_member stored;
	twofa_status st;

	if ((st = usable(s, true, err)) != TWOFA_OK)
		return st;
	if (m == NULL)
		return twofa_fail(err, TWOFA_EINVAL, "member store: nothing to enrol");
	if ((st = twofa_member_validate(m, err)) != TWOFA_OK)
		return st;
	if ((m->status != TWOFA_MEMBER_ACTIVE && m->status != TWOFA_MEMBER_PENDING) ||
	    m->password_hash != NULL || m->invite[0] != '\0')
		return twofa_fail(err, TWOFA_EINVAL,
				  "member store: a self-enrolled member of %s must be active or pending, "
				  "with no password hash and no invite",
				  m->user);
	if (invite_code != NULL && strnlen(invite_code, TWOFA_ONETIME_INPUT_MAX + 1) > TWOFA_ONETIME_INPUT_MAX)
		return twofa_fail(err, TWOFA_EPERM, "no valid invite for %s", m->user);
	if (s->ops->enrol == NULL)
		return twofa_fail(err, TWOFA_ECONFIG, "%s: self-enrolment is not supported",
				  twofa_member_store_describe(s));
	stored = *m; /* shallow: only the version differs */
	stored.version = 1;
	return s->ops->enrol(s, &stored, invite_code, now, err);
}

twofa_status twofa_member_store_revoke_invite(twofa_member_store *s, const char *user, twofa_error *err)
{
	twofa_status st;

	if ((st = usable(s, true, err)) != TWOFA_OK)
		return st;
	if (user == NULL || !twofa_user_name_valid(user))
		return twofa_fail(err, TWOFA_ENOTFOUND, "not a valid login name");
	if (s->ops->revoke_invite == NULL)
		return twofa_fail(err, TWOFA_ECONFIG, "%s: cannot revoke an invite",
				  twofa_member_store_describe(s));
	return s->ops->revoke_invite(s, user, err);
}

twofa_status twofa_member_store_phone_users(twofa_member_store *s, const char *e164, const char *except_user,
					    size_t *count, twofa_error *err)
{
	twofa_status st;

	if (count == NULL)
		return twofa_fail(err, TWOFA_EINVAL, "no place for the count");
	*count = 0;
	if ((st = usable(s, false, err)) != TWOFA_OK)
		return st;
	if (e164 == NULL || !twofa_e164_valid(e164))
		return twofa_fail(err, TWOFA_EINVAL, "member store: not a phone number in E.164 form");
	if (except_user != NULL && !twofa_user_name_valid(except_user))
		except_user = NULL; /* nobody of that name is a member */
	if (s->ops->phone_users == NULL)
		return twofa_fail(err, TWOFA_ECONFIG, "%s: cannot count the members of a phone number",
				  twofa_member_store_describe(s));
	return s->ops->phone_users(s, e164, except_user, count, err);
}

twofa_status twofa_member_store_phone_taken(twofa_member_store *s, const char *e164, const char *except_user,
					    bool *taken, twofa_error *err)
{
	size_t count = 0;
	twofa_status st;

	if (taken == NULL)
		return twofa_fail(err, TWOFA_EINVAL, "no place for the answer");
	*taken = true;
	if ((st = twofa_member_store_phone_users(s, e164, except_user, &count, err)) != TWOFA_OK)
		return st;
	*taken = count >= (size_t)s->cfg->max_members_per_phone;
	return TWOFA_OK;
}

void twofa_member_store_new_call(twofa_member_store *s)
{
	if (s != NULL && s->ops->new_call != NULL)
		s->ops->new_call(s);
}

bool twofa_member_store_healthy(const twofa_member_store *s)
{
	return s != NULL && (s->ops->healthy == NULL || s->ops->healthy(s));
}
