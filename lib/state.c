/* SPDX-License-Identifier: GPL-3.0-or-later */
#include "twofa_build.h"

#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <sodium.h>

#include "json_read.h"
#include "member.h"
#include "state.h"
#include "store.h"
#include "util.h"

#define STATE_JSON_MAX (32 * 1024)
#define STATE_VERSION 2
#define FAILURES_MAX 1000000L
/* A user name never holds ':', so neither of these can be a member's key. */
#define NAME_KEY_RECORD "key:unknown-names" /* the secret that hashes unknown names */
#define ANON_PREFIX "anon:"
#define ANON_KEY_SIZE (sizeof(ANON_PREFIX) - 1 + TWOFA_STATE_KEY_SIZE)
#define NAME_KEY_BYTES 32

/* -- keys ---------------------------------------------------------------------------- */

static void hash_part(crypto_generichash_state *h, const char *s)
{
	/* Each part with its NUL: no two lists of C strings hash the same input. */
	crypto_generichash_update(h, (const unsigned char *)s, strlen(s) + 1);
}

static void hash_hex(crypto_generichash_state *h, char out[TWOFA_STATE_KEY_SIZE])
{
	unsigned char digest[32];

	crypto_generichash_final(h, digest, sizeof(digest));
	sodium_bin2hex(out, TWOFA_STATE_KEY_SIZE, digest, sizeof(digest));
}

/* Printable ASCII only, so the copy is always valid JSON text and harmless on
 * a terminal; it is shown, never compared. */
static void copy_shown(char *dst, size_t size, const char *src)
{
	size_t i = 0;

	for (; src != NULL && src[i] != '\0' && i + 1 < size; i++)
		dst[i] = src[i] >= 0x20 && src[i] < 0x7f ? src[i] : '?';
	dst[i] = '\0';
}

void twofa_state_origin_make(twofa_state_origin *o, const char *service, const char *kind, const char *value,
			     const char *session, const char *shown)
{
	crypto_generichash_state h;
	bool local = kind == NULL || value == NULL || value[0] == '\0';

	memset(o, 0, sizeof(*o));
	if (sodium_init() < 0)
		return; /* no keys: every update with this origin fails closed */
	crypto_generichash_init(&h, NULL, 0, 32);
	hash_part(&h, "twofa source");
	hash_part(&h, local ? "local" : kind);
	if (!local)
		hash_part(&h, value);
	hash_hex(&h, o->source);
	copy_shown(o->from, sizeof(o->from), shown != NULL ? shown : "local");
	/* A tty name is reused by the next session that opens one: grace holds
	 * only within the session that earned it. */
	if (local || (strcmp(kind, "tty") == 0 && (session == NULL || session[0] == '\0')))
		return;
	crypto_generichash_init(&h, NULL, 0, 32);
	hash_part(&h, "twofa grace");
	hash_part(&h, service != NULL ? service : "");
	hash_part(&h, kind);
	hash_part(&h, value);
	if (strcmp(kind, "tty") == 0)
		hash_part(&h, session);
	hash_hex(&h, o->grace);
}

#define HEX_DIGITS "0123456789abcdef"

static bool key_valid(const char *s)
{
	size_t n = strspn(s, HEX_DIGITS);

	return n == TWOFA_STATE_KEY_SIZE - 1 && s[n] == '\0';
}

/* -- the record codec ----------------------------------------------------------------- */

static bool time_in_range(json_int_t t)
{
	/* 0 (never) up to the year 9999: anything else is a damaged record. */
	return t >= 0 && t <= 253402300799LL;
}

static bool get_time(json_t *obj, const char *key, time_t *out)
{
	json_t *v = json_object_get(obj, key);

	if (v == NULL) {
		*out = 0;
		return true;
	}
	if (!json_is_integer(v) || !time_in_range(json_integer_value(v)))
		return false;
	*out = (time_t)json_integer_value(v);
	return true;
}

static bool get_count(json_t *obj, const char *key, long *out)
{
	json_t *v = json_object_get(obj, key);

	*out = 0;
	if (v == NULL)
		return true;
	if (!json_is_integer(v) || json_integer_value(v) < 0 || json_integer_value(v) > FAILURES_MAX)
		return false;
	*out = (long)json_integer_value(v);
	return true;
}

static bool get_text(json_t *obj, const char *key, char *out, size_t size)
{
	json_t *v = json_object_get(obj, key);
	const char *s;

	out[0] = '\0';
	if (v == NULL)
		return true;
	if (!json_is_string(v))
		return false;
	s = json_string_value(v);
	if (twofa_has_control(s, strlen(s)))
		return false;
	return twofa_strlcpy(out, s, size);
}

static bool get_key(json_t *obj, char out[TWOFA_STATE_KEY_SIZE])
{
	return get_text(obj, "key", out, TWOFA_STATE_KEY_SIZE) && key_valid(out);
}

/* A JSON array of at most max times into out. */
static bool get_times(json_t *obj, const char *key, time_t *out, size_t max, size_t *count)
{
	json_t *v = json_object_get(obj, key), *item;
	size_t i;

	*count = 0;
	if (v == NULL)
		return true;
	if (!json_is_array(v) || json_array_size(v) > max)
		return false;
	json_array_foreach(v, i, item) {
		if (!json_is_integer(item) || !time_in_range(json_integer_value(item)))
			return false;
		out[(*count)++] = (time_t)json_integer_value(item);
	}
	return true;
}

static bool get_grace(json_t *item, twofa_state_entry *e)
{
	twofa_grace_entry *g = &e->grace[e->grace_count];

	if (!json_is_object(item) || !get_key(item, g->key) || !get_time(item, "at", &g->at))
		return false;
	e->grace_count++;
	return true;
}

static bool get_source(json_t *item, twofa_state_entry *e)
{
	twofa_source_entry *s = &e->sources[e->source_count];

	if (!json_is_object(item) || !get_key(item, s->key) ||
	    !get_text(item, "from", s->from, sizeof(s->from)) || !get_count(item, "failures", &s->failures) ||
	    !get_time(item, "locked_until", &s->locked_until) || !get_time(item, "last_seen", &s->last_seen) ||
	    !get_times(item, "pending", s->pending, TWOFA_STATE_PENDING_MAX, &s->pending_count))
		return false;
	e->source_count++;
	return true;
}

static bool get_single_answer(json_t *item, twofa_state_entry *e)
{
	twofa_single_answer_entry *a = &e->single_answer[e->single_answer_count];

	if (!json_is_object(item) || !get_text(item, "service", a->service, sizeof(a->service)) ||
	    a->service[0] == '\0' || !get_text(item, "from", a->from, sizeof(a->from)) ||
	    a->from[0] == '\0' || !get_time(item, "at", &a->at))
		return false;
	e->single_answer_count++;
	return true;
}

static bool get_app_used(json_t *item, twofa_state_entry *e)
{
	twofa_app_used_entry *a = &e->app_used[e->app_used_count];

	if (!json_is_object(item) || !get_key(item, a->key) || !get_time(item, "until", &a->until))
		return false;
	e->app_used_count++;
	return true;
}

/* A JSON array of at most max objects, each read into e by get_item. */
static bool get_list(json_t *root, const char *key, size_t max,
		     bool (*get_item)(json_t *, twofa_state_entry *), twofa_state_entry *e)
{
	json_t *v = json_object_get(root, key), *item;
	size_t i;

	if (v == NULL)
		return true;
	if (!json_is_array(v) || json_array_size(v) > max)
		return false;
	json_array_foreach(v, i, item) {
		if (!get_item(item, e))
			return false;
	}
	return true;
}

twofa_status twofa_state_decode(const char *json, size_t len, twofa_state_entry *e, twofa_error *err)
{
	twofa_json_read_error jerr;
	json_t *root, *v;
	json_int_t version;
	twofa_status st = TWOFA_ESTORE;

	memset(e, 0, sizeof(*e));
	if (len > STATE_JSON_MAX)
		return twofa_fail(err, TWOFA_ESTORE, "state record too large (%zu bytes)", len);
	root = twofa_json_read(json, len, &jerr);
	if (root == NULL)
		return twofa_fail(err, TWOFA_ESTORE, "state record is not valid JSON (%s) at byte %zu",
				  jerr.reason, jerr.position);
	if (!json_is_object(root)) {
		json_decref(root);
		return twofa_fail(err, TWOFA_ESTORE, "state record is not a JSON object");
	}
	v = json_object_get(root, "v");
	version = json_is_integer(v) ? json_integer_value(v) : 0;
	if (version != 1 && version != STATE_VERSION) {
		twofa_fail(err, TWOFA_ESTORE, "state record has an unknown version");
		goto out;
	}
	if (!get_count(root, "failures", &e->failures) || !get_count(root, "app_failures", &e->app_failures)) {
		twofa_fail(err, TWOFA_ESTORE, "state record has a bad failure count");
		goto out;
	}
	if (!get_time(root, "locked_until", &e->locked_until) ||
	    !get_time(root, "last_login", &e->last_login) ||
	    !get_time(root, "unlock_honoured", &e->unlock_honoured) ||
	    !get_text(root, "last_service", e->last_service, sizeof(e->last_service)) ||
	    !get_text(root, "last_from", e->last_from, sizeof(e->last_from))) {
		twofa_fail(err, TWOFA_ESTORE, "state record has a bad field");
		goto out;
	}
	if (!get_times(root, "sends", e->sends, TWOFA_STATE_SENDS_MAX, &e->send_count)) {
		twofa_fail(err, TWOFA_ESTORE, "state record has a bad send list");
		goto out;
	}
	if (version == 1) {
		/* Its grace entries were keyed by a bare rhost or tty name: they
		 * are dropped (the next full login makes a new one). */
		v = json_object_get(root, "grace");
		if (v != NULL && !json_is_array(v)) {
			twofa_fail(err, TWOFA_ESTORE, "state record has a bad grace list");
			goto out;
		}
	} else if (!get_list(root, "grace", TWOFA_STATE_GRACE_MAX, get_grace, e)) {
		twofa_fail(err, TWOFA_ESTORE, "state record has a bad grace entry");
		goto out;
	} else if (!get_list(root, "sources", TWOFA_STATE_SOURCES_MAX, get_source, e)) {
		twofa_fail(err, TWOFA_ESTORE, "state record has a bad source entry");
		goto out;
	} else if (!get_list(root, "single_answer", TWOFA_STATE_SINGLE_ANSWER_MAX, get_single_answer, e)) {
		/* Absent from records written before it existed: none. */
		twofa_fail(err, TWOFA_ESTORE, "state record has a bad single_answer entry");
		goto out;
	} else if (!get_list(root, "app_used", TWOFA_STATE_APP_USED_MAX, get_app_used, e)) {
		/* Absent from records written before it existed: none. */
		twofa_fail(err, TWOFA_ESTORE, "state record has a bad app_used entry");
		goto out;
	}
	st = TWOFA_OK;
out:
	json_decref(root);
	return st;
}

static json_t *times_json(const time_t *t, size_t count)
{
	json_t *a = json_array();

	for (size_t i = 0; a != NULL && i < count; i++)
		if (json_array_append_new(a, json_integer((json_int_t)t[i])) != 0) {
			json_decref(a);
			return NULL;
		}
	return a;
}

static json_t *source_json(const twofa_source_entry *s)
{
	return json_pack("{s:s, s:s, s:I, s:I, s:I, s:o?}", "key", s->key, "from", s->from, "failures",
			 (json_int_t)s->failures, "locked_until", (json_int_t)s->locked_until, "last_seen",
			 (json_int_t)s->last_seen, "pending", times_json(s->pending, s->pending_count));
}

twofa_status twofa_state_encode(const twofa_state_entry *e, char **json, twofa_error *err)
{
	json_t *root = json_pack("{s:i, s:I, s:I, s:I, s:s, s:s, s:o?}", "v", STATE_VERSION, "failures",
				 (json_int_t)e->failures, "locked_until", (json_int_t)e->locked_until,
				 "last_login", (json_int_t)e->last_login, "last_service", e->last_service,
				 "last_from", e->last_from, "sends", times_json(e->sends, e->send_count));
	json_t *grace = json_array(), *sources = json_array(), *single = json_array(), *used = json_array();
	bool ok = root != NULL && json_is_array(json_object_get(root, "sends")) && grace != NULL &&
		  sources != NULL && single != NULL && used != NULL;

	for (size_t i = 0; ok && i < e->grace_count; i++)
		ok = json_array_append_new(grace, json_pack("{s:s, s:I}", "key", e->grace[i].key, "at",
							    (json_int_t)e->grace[i].at)) == 0;
	for (size_t i = 0; ok && i < e->source_count; i++) {
		json_t *s = source_json(&e->sources[i]);
		if (s == NULL || !json_is_array(json_object_get(s, "pending"))) {
			json_decref(s);
			ok = false;
		} else {
			ok = json_array_append_new(sources, s) == 0;
		}
	}
	for (size_t i = 0; ok && i < e->single_answer_count; i++)
		ok = json_array_append_new(single, json_pack("{s:s, s:s, s:I}", "service",
							     e->single_answer[i].service, "from",
							     e->single_answer[i].from, "at",
							     (json_int_t)e->single_answer[i].at)) == 0;
	for (size_t i = 0; ok && i < e->app_used_count; i++)
		ok = json_array_append_new(used, json_pack("{s:s, s:I}", "key", e->app_used[i].key, "until",
							   (json_int_t)e->app_used[i].until)) == 0;
	ok = ok && json_object_set(root, "grace", grace) == 0 &&
	     json_object_set(root, "sources", sources) == 0 &&
	     (e->single_answer_count == 0 || json_object_set(root, "single_answer", single) == 0) &&
	     (e->app_used_count == 0 || json_object_set(root, "app_used", used) == 0) &&
	     (e->app_failures == 0 ||
	      json_object_set_new(root, "app_failures", json_integer((json_int_t)e->app_failures)) == 0) &&
	     (e->unlock_honoured == 0 ||
	      json_object_set_new(root, "unlock_honoured", json_integer((json_int_t)e->unlock_honoured)) == 0);
	*json = ok ? json_dumps(root, JSON_COMPACT | JSON_SORT_KEYS) : NULL;
	json_decref(grace);
	json_decref(sources);
	json_decref(single);
	json_decref(used);
	json_decref(root);
	if (*json == NULL)
		return twofa_fail(err, TWOFA_ENOMEM, "out of memory encoding a state record");
	return TWOFA_OK;
}

/* -- the store ------------------------------------------------------------------------ */

/* A member's own name is their key; only names that can be a member's are. */
static twofa_status check_member_key(const char *user, twofa_error *err)
{
	if (!twofa_user_name_valid(user))
		return twofa_fail(err, TWOFA_EINVAL, "state: not a member name");
	return TWOFA_OK;
}

/* The secret that hashes names that are not enrolled: made on first need,
 * under the exclusive lock the caller holds, so every login agrees on it. */
static twofa_status name_key(twofa_store *s, unsigned char key[NAME_KEY_BYTES], twofa_error *err)
{
	char hex[NAME_KEY_BYTES * 2 + 1], *value = NULL;
	size_t len = 0, got = 0;
	twofa_status st = twofa_store_get(s, NAME_KEY_RECORD, &value, &len, err);

	if (st == TWOFA_ENOTFOUND) {
		if (sodium_init() < 0)
			return twofa_fail(err, TWOFA_ENOMEM, "libsodium cannot start");
		randombytes_buf(key, NAME_KEY_BYTES);
		sodium_bin2hex(hex, sizeof(hex), key, NAME_KEY_BYTES);
		st = twofa_store_put(s, NAME_KEY_RECORD, hex, strlen(hex), false, err);
		sodium_memzero(hex, sizeof(hex));
		if (st != TWOFA_OK)
			sodium_memzero(key, NAME_KEY_BYTES);
		return st;
	}
	if (st != TWOFA_OK)
		return st;
	if (len != NAME_KEY_BYTES * 2 ||
	    sodium_hex2bin(key, NAME_KEY_BYTES, value, len, NULL, &got, NULL) != 0 || got != NAME_KEY_BYTES)
		st = twofa_fail(err, TWOFA_ESTORE, "state store: the key for unknown names is damaged");
	twofa_free_secret(value);
	return st;
}

/* Where the state of l->user lives: the name itself for a member, else
 * "anon:" and the keyed hash of the name. */
static twofa_status record_key(twofa_store *s, const char *user, bool enrolled, char out[ANON_KEY_SIZE],
			       twofa_error *err)
{
	unsigned char key[NAME_KEY_BYTES], digest[32];
	twofa_status st;

	if (enrolled) {
		if ((st = check_member_key(user, err)) != TWOFA_OK)
			return st;
		/* Member names are at most TWOFA_USER_NAME_MAX bytes; out only holds keys. */
		return TWOFA_OK;
	}
	if ((st = name_key(s, key, err)) != TWOFA_OK)
		return st;
	crypto_generichash(digest, sizeof(digest), (const unsigned char *)user, strlen(user), key,
			   sizeof(key));
	sodium_memzero(key, sizeof(key));
	memcpy(out, ANON_PREFIX, sizeof(ANON_PREFIX) - 1);
	sodium_bin2hex(out + sizeof(ANON_PREFIX) - 1, TWOFA_STATE_KEY_SIZE, digest, sizeof(digest));
	return TWOFA_OK;
}

twofa_status twofa_state_read(const char *path, const char *user, twofa_state_entry *out, twofa_error *err)
{
	twofa_store *s = NULL;
	char *value = NULL;
	size_t len = 0;
	twofa_status st;

	memset(out, 0, sizeof(*out));
	if ((st = check_member_key(user, err)) != TWOFA_OK)
		return st;
	st = twofa_store_open(&s, path, TWOFA_STORE_READ, TWOFA_STORE_LOCK_TIMEOUT_MS, err);
	if (st == TWOFA_ENOTFOUND)
		return TWOFA_OK; /* no login has written state yet */
	if (st != TWOFA_OK)
		return st;
	st = twofa_store_get(s, user, &value, &len, err);
	if (st == TWOFA_OK)
		st = twofa_state_decode(value, len, out, err);
	else if (st == TWOFA_ENOTFOUND)
		st = TWOFA_OK;
	free(value);
	return twofa_store_finish(s, st, err);
}

typedef bool (*state_change)(twofa_state_entry *e, void *arg);

static twofa_status check_origin(const twofa_state_login *l, twofa_error *err)
{
	if (l->origin == NULL || !key_valid(l->origin->source) ||
	    (l->origin->grace[0] != '\0' && !key_valid(l->origin->grace)))
		return twofa_fail(err, TWOFA_EINVAL, "state: the login has no origin key");
	return TWOFA_OK;
}

static bool entry_empty(const twofa_state_entry *e)
{
	return e->failures == 0 && e->locked_until == 0 && e->send_count == 0 && e->last_login == 0 &&
	       e->grace_count == 0 && e->source_count == 0 && e->single_answer_count == 0 &&
	       e->unlock_honoured == 0 && e->app_used_count == 0 && e->app_failures == 0;
}

/* One read-modify-write of the user's record under the exclusive lock.
 * change returns false to leave the record as it was. The record of a name
 * that is not enrolled goes once nothing is left in it. */
static twofa_status update_state(const char *path, const char *user, bool enrolled, state_change change,
				 void *arg, twofa_error *err)
{
	twofa_store *s = NULL;
	twofa_state_entry e;
	char *value = NULL, *json = NULL, anon[ANON_KEY_SIZE];
	const char *key = user;
	size_t len = 0;
	twofa_status st;

	st = twofa_store_open(&s, path, TWOFA_STORE_WRITE, TWOFA_STORE_LOCK_TIMEOUT_MS, err);
	if (st != TWOFA_OK)
		return st;
	st = record_key(s, user, enrolled, anon, err);
	if (st == TWOFA_OK && !enrolled)
		key = anon;
	if (st == TWOFA_OK)
		st = twofa_store_get(s, key, &value, &len, err);
	if (st == TWOFA_OK)
		st = twofa_state_decode(value, len, &e, err);
	else if (st == TWOFA_ENOTFOUND) {
		memset(&e, 0, sizeof(e));
		st = TWOFA_OK;
	}
	free(value);
	if (st == TWOFA_OK && change(&e, arg)) {
		if (!enrolled && entry_empty(&e)) {
			st = twofa_store_delete(s, key, err);
			if (st == TWOFA_ENOTFOUND)
				st = TWOFA_OK;
		} else {
			st = twofa_state_encode(&e, &json, err);
			if (st == TWOFA_OK)
				st = twofa_store_put(s, key, json, strlen(json), true, err);
			free(json);
		}
	}
	return twofa_store_finish(s, st, err);
}

twofa_status twofa_state_check_record(const char *key, const char *value, size_t len, twofa_error *err)
{
	twofa_state_entry e;

	if (strcmp(key, NAME_KEY_RECORD) == 0) {
		/* The store gives values NUL-terminated. */
		if (len != NAME_KEY_BYTES * 2 || strspn(value, HEX_DIGITS) != len)
			return twofa_fail(err, TWOFA_ESTORE, "the key for unknown names is not %d hex digits",
					  NAME_KEY_BYTES * 2);
		return TWOFA_OK;
	}
	if (strncmp(key, ANON_PREFIX, sizeof(ANON_PREFIX) - 1) == 0 ? !key_valid(key + sizeof(ANON_PREFIX) - 1)
								    : !twofa_user_name_valid(key))
		return twofa_fail(err, TWOFA_ESTORE,
				  "a record under a key that is no member's name nor a hash");
	return twofa_state_decode(value, len, &e, err);
}

/* -- lockouts ------------------------------------------------------------------------- */

static bool lock_in_force(time_t locked_until, time_t now)
{
	return locked_until != 0 && now < locked_until;
}

bool twofa_state_is_locked(const twofa_state_entry *e, time_t now)
{
	return lock_in_force(e->locked_until, now);
}

bool twofa_state_source_is_locked(const twofa_source_entry *s, time_t now)
{
	return lock_in_force(s->locked_until, now);
}

static twofa_source_entry *find_source(twofa_state_entry *e, const char *key)
{
	for (size_t i = 0; i < e->source_count; i++)
		if (strcmp(e->sources[i].key, key) == 0)
			return &e->sources[i];
	return NULL;
}

time_t twofa_state_locked_until(const twofa_state_entry *e, const char *source, time_t now)
{
	time_t until = lock_in_force(e->locked_until, now) ? e->locked_until : 0;

	for (size_t i = 0; source != NULL && i < e->source_count; i++)
		if (strcmp(e->sources[i].key, source) == 0 &&
		    lock_in_force(e->sources[i].locked_until, now) && e->sources[i].locked_until > until)
			until = e->sources[i].locked_until;
	return until;
}

time_t twofa_state_latest_lock(const twofa_state_entry *e, time_t now)
{
	time_t until = lock_in_force(e->locked_until, now) ? e->locked_until : 0;

	for (size_t i = 0; i < e->source_count; i++)
		if (lock_in_force(e->sources[i].locked_until, now) && e->sources[i].locked_until > until)
			until = e->sources[i].locked_until;
	return until;
}

static void drop_source(twofa_state_entry *e, size_t i)
{
	memmove(&e->sources[i], &e->sources[i + 1], (e->source_count - i - 1) * sizeof(e->sources[0]));
	e->source_count--;
	memset(&e->sources[e->source_count], 0, sizeof(e->sources[0]));
}

/* Lockouts that have run out start their count again; checks in flight
 * older than TWOFA_STATE_PENDING_SECONDS (or from a clock that went back)
 * were left by a login that died; sources with nothing left go. */
static void expire(twofa_state_entry *e, time_t now)
{
	if (e->locked_until != 0 && now >= e->locked_until) {
		e->locked_until = 0;
		e->failures = 0;
	}
	for (size_t i = e->source_count; i-- > 0;) {
		twofa_source_entry *s = &e->sources[i];
		size_t kept = 0;

		if (s->locked_until != 0 && now >= s->locked_until) {
			s->locked_until = 0;
			s->failures = 0;
		}
		for (size_t j = 0; j < s->pending_count; j++)
			if (s->pending[j] > now - TWOFA_STATE_PENDING_SECONDS &&
			    s->pending[j] < now + TWOFA_STATE_PENDING_SECONDS)
				s->pending[kept++] = s->pending[j];
		s->pending_count = kept;
		if (s->failures == 0 && s->locked_until == 0 && s->pending_count == 0)
			drop_source(e, i);
	}
}

/* When all TWOFA_STATE_SOURCES_MAX are in use the new source takes the place
 * of the one that matters least: not locked before locked, no check in
 * flight before some, then the longest unseen; among locked ones the first
 * to end. Forgetting a source only ever forgets its own count: the count
 * everywhere stays, and locks everyone out before
 * TWOFA_STATE_SOURCES_MAX sources could each be locked. */
static size_t evict_source(const twofa_state_entry *e, time_t now)
{
	size_t best = 0;

	for (size_t i = 1; i < e->source_count; i++) {
		const twofa_source_entry *a = &e->sources[i], *b = &e->sources[best];
		bool la = lock_in_force(a->locked_until, now), lb = lock_in_force(b->locked_until, now);

		if (la != lb) {
			if (!la)
				best = i;
		} else if (la) {
			if (a->locked_until < b->locked_until)
				best = i;
		} else if ((a->pending_count == 0) != (b->pending_count == 0)) {
			if (a->pending_count == 0)
				best = i;
		} else if (a->last_seen < b->last_seen) {
			best = i;
		}
	}
	return best;
}

/* The entry of the login's source, made (or made room for) when missing. */
static twofa_source_entry *source_of(twofa_state_entry *e, const twofa_state_origin *o, time_t now)
{
	twofa_source_entry *s = find_source(e, o->source);

	if (s != NULL)
		return s;
	if (e->source_count == TWOFA_STATE_SOURCES_MAX)
		drop_source(e, evict_source(e, now));
	s = &e->sources[e->source_count++];
	memset(s, 0, sizeof(*s));
	memcpy(s->key, o->source, sizeof(s->key));
	(void)twofa_strlcpy(s->from, o->from, sizeof(s->from));
	return s;
}

static void drop_reservation(twofa_source_entry *s, time_t reservation)
{
	if (reservation == 0)
		return;
	for (size_t j = 0; j < s->pending_count; j++)
		if (s->pending[j] == reservation) {
			memmove(&s->pending[j], &s->pending[j + 1],
				(s->pending_count - j - 1) * sizeof(s->pending[0]));
			s->pending[--s->pending_count] = 0;
			return;
		}
}

static size_t pending_everywhere(const twofa_state_entry *e)
{
	size_t n = 0;

	for (size_t i = 0; i < e->source_count; i++)
		n += e->sources[i].pending_count;
	return n;
}

struct attempt_args {
	const twofa_state_login *l;
	time_t now;
	twofa_attempt outcome;
	time_t reservation;
};

static bool change_begin_attempt(twofa_state_entry *e, void *arg)
{
	struct attempt_args *a = arg;
	const twofa_state_login *l = a->l;
	twofa_source_entry *s;
	long bound = l->lockout_failures, global_bound = l->lockout_failures * TWOFA_STATE_GLOBAL_FACTOR;

	expire(e, a->now);
	if (twofa_state_locked_until(e, l->origin->source, a->now) != 0) {
		a->outcome = TWOFA_ATTEMPT_LOCKED;
		return true;
	}
	a->outcome = TWOFA_ATTEMPT_GO;
	if (bound <= 0)
		return true; /* lockout off: nothing to reserve */
	s = find_source(e, l->origin->source);
	if ((s != NULL && (s->failures + (long)s->pending_count >= bound ||
			   s->pending_count == TWOFA_STATE_PENDING_MAX)) ||
	    e->failures + (long)pending_everywhere(e) >= global_bound) {
		a->outcome = TWOFA_ATTEMPT_BUSY;
		return true;
	}
	s = source_of(e, l->origin, a->now);
	s->pending[s->pending_count++] = a->now;
	s->last_seen = a->now;
	a->reservation = a->now;
	return true;
}

/* The checks in flight are recorded by start time: 0 means "none", so a
 * clock at the epoch never reserves. */
twofa_status twofa_state_begin_attempt(const char *path, const twofa_state_login *l, time_t now,
				       twofa_attempt *out, time_t *reservation, twofa_error *err)
{
	struct attempt_args a = {.l = l, .now = now > 0 ? now : 1, .outcome = TWOFA_ATTEMPT_LOCKED};
	twofa_status st = check_origin(l, err);

	if (st == TWOFA_OK)
		st = update_state(path, l->user, l->enrolled, change_begin_attempt, &a, err);
	*out = st == TWOFA_OK ? a.outcome : TWOFA_ATTEMPT_LOCKED;
	*reservation = st == TWOFA_OK ? a.reservation : 0;
	return st;
}

struct failure_args {
	const twofa_state_login *l;
	time_t now, reservation;
	long failures;
	time_t locked_until;
};

static bool change_failure(twofa_state_entry *e, void *arg)
{
	struct failure_args *a = arg;
	const twofa_state_login *l = a->l;
	twofa_source_entry *s;

	expire(e, a->now);
	s = source_of(e, l->origin, a->now);
	drop_reservation(s, a->reservation);
	s->last_seen = a->now;
	if (s->failures < FAILURES_MAX)
		s->failures++;
	if (e->failures < FAILURES_MAX)
		e->failures++;
	if (l->lockout_failures > 0 && s->failures >= l->lockout_failures && s->locked_until == 0)
		s->locked_until = a->now + l->lockout_seconds;
	if (l->lockout_failures > 0 && e->failures >= l->lockout_failures * TWOFA_STATE_GLOBAL_FACTOR &&
	    e->locked_until == 0)
		e->locked_until = a->now + l->lockout_seconds;
	a->failures = e->failures;
	a->locked_until = twofa_state_locked_until(e, l->origin->source, a->now);
	return true;
}

twofa_status twofa_state_record_failure(const char *path, const twofa_state_login *l, time_t now,
					time_t reservation, long *failures, time_t *locked_until,
					twofa_error *err)
{
	struct failure_args a = {.l = l, .now = now, .reservation = reservation};
	twofa_status st = check_origin(l, err);

	if (st == TWOFA_OK)
		st = update_state(path, l->user, l->enrolled, change_failure, &a, err);
	if (failures != NULL)
		*failures = a.failures;
	if (locked_until != NULL)
		*locked_until = a.locked_until;
	return st;
}

struct release_args {
	const twofa_state_login *l;
	time_t now, reservation;
};

static bool change_release(twofa_state_entry *e, void *arg)
{
	struct release_args *a = arg;
	twofa_source_entry *s = find_source(e, a->l->origin->source);

	if (s != NULL)
		drop_reservation(s, a->reservation);
	expire(e, a->now);
	return true;
}

twofa_status twofa_state_release(const char *path, const twofa_state_login *l, time_t now, time_t reservation,
				 twofa_error *err)
{
	struct release_args a = {.l = l, .now = now, .reservation = reservation};

	if (reservation == 0)
		return TWOFA_OK;
	return update_state(path, l->user, l->enrolled, change_release, &a, err);
}

struct success_args {
	const twofa_state_login *l;
	time_t now;
	const char *service;
	long grace_period;
	bool locked;
};

static void add_grace(twofa_state_entry *e, const char *key, time_t now)
{
	size_t slot = e->grace_count;

	for (size_t i = 0; i < e->grace_count; i++)
		if (strcmp(e->grace[i].key, key) == 0)
			slot = i;
	if (slot == TWOFA_STATE_GRACE_MAX) {
		/* Full: drop the oldest entry. */
		slot = 0;
		for (size_t i = 1; i < e->grace_count; i++)
			if (e->grace[i].at < e->grace[slot].at)
				slot = i;
	}
	memcpy(e->grace[slot].key, key, sizeof(e->grace[slot].key));
	e->grace[slot].at = now;
	if (slot == e->grace_count)
		e->grace_count++;
}

static bool change_success(twofa_state_entry *e, void *arg)
{
	struct success_args *a = arg;
	const twofa_state_origin *o = a->l->origin;
	twofa_source_entry *s;

	expire(e, a->now);
	if (twofa_state_locked_until(e, o->source, a->now) != 0) {
		/* Locked out while this login was under way: it does not count. */
		a->locked = true;
		return true;
	}
	e->failures = 0;
	e->locked_until = 0;
	e->app_failures = 0;
	if ((s = find_source(e, o->source)) != NULL) {
		s->failures = 0;
		s->locked_until = 0;
		expire(e, a->now);
	}
	e->last_login = a->now;
	copy_shown(e->last_service, sizeof(e->last_service), a->service);
	(void)twofa_strlcpy(e->last_from, o->from, sizeof(e->last_from));
	if (a->grace_period > 0 && o->grace[0] != '\0')
		add_grace(e, o->grace, a->now);
	return true;
}

twofa_status twofa_state_record_success(const char *path, const twofa_state_login *l, time_t now,
					const char *service, long grace_period, bool *locked, twofa_error *err)
{
	struct success_args a = {.l = l,
				 .now = now,
				 .service = service ? service : "",
				 .grace_period = grace_period};
	twofa_status st = check_origin(l, err);

	if (st == TWOFA_OK)
		st = update_state(path, l->user, l->enrolled, change_success, &a, err);
	/* Fail closed: a login whose success could not be checked is no success. */
	*locked = st != TWOFA_OK || a.locked;
	return st;
}

bool twofa_state_in_grace(const twofa_state_entry *e, const char *grace_key, time_t now, long grace_period)
{
	if (grace_period <= 0 || grace_key == NULL || grace_key[0] == '\0')
		return false;
	for (size_t i = 0; i < e->grace_count; i++)
		if (strcmp(e->grace[i].key, grace_key) == 0)
			return e->grace[i].at <= now && now - e->grace[i].at < grace_period;
	return false;
}

/* -- the send limit ------------------------------------------------------------------- */

/* Parallel logins read the time before they take state.db's lock, so a send
 * another one recorded can be a second or two "after" now: it counts (and
 * is kept). Left out it reset the count, and 20 parallel logins sent one
 * code more than send_limit. One far ahead (the clock was set back) does
 * not count, as before. */
#define SEND_CLOCK_SLACK 60

static bool send_counts(time_t at, time_t now, long window)
{
	return at > now - window && at <= now + SEND_CLOCK_SLACK;
}

void twofa_state_send_window(const twofa_state_entry *e, time_t now, long limit, long window,
			     size_t *in_window, time_t *next_at)
{
	size_t n = 0;
	time_t oldest = 0;

	for (size_t i = 0; i < e->send_count; i++)
		if (send_counts(e->sends[i], now, window) && (n++ == 0 || e->sends[i] < oldest))
			oldest = e->sends[i];
	*in_window = n;
	*next_at = (long)n < limit && n < TWOFA_STATE_SENDS_MAX ? now
		   : n != 0                                     ? oldest + window
								: now + window;
}

struct send_args {
	time_t now;
	long limit, window;
	bool allowed;
	time_t retry_at;
};

static bool change_reserve_send(twofa_state_entry *e, void *arg)
{
	struct send_args *a = arg;
	size_t kept = 0;
	time_t next_at;

	for (size_t i = 0; i < e->send_count; i++)
		if (send_counts(e->sends[i], a->now, a->window))
			e->sends[kept++] = e->sends[i];
	e->send_count = kept;
	twofa_state_send_window(e, a->now, a->limit, a->window, &kept, &next_at);
	a->allowed = next_at <= a->now;
	if (!a->allowed) {
		a->retry_at = next_at;
		return kept != 0; /* store the pruned list anyway */
	}
	e->sends[e->send_count++] = a->now;
	return true;
}

twofa_status twofa_state_reserve_send(const char *path, const char *user, time_t now, long limit, long window,
				      bool *allowed, time_t *retry_at, twofa_error *err)
{
	struct send_args a = {.now = now, .limit = limit, .window = window};
	twofa_status st = update_state(path, user, true, change_reserve_send, &a, err);

	*allowed = st == TWOFA_OK && a.allowed;
	if (retry_at != NULL)
		*retry_at = a.retry_at;
	return st;
}

time_t twofa_state_last_send(const twofa_state_entry *e, time_t now, long lifetime)
{
	time_t last = 0;

	for (size_t i = 0; i < e->send_count; i++)
		if (send_counts(e->sends[i], now, lifetime) && e->sends[i] > last)
			last = e->sends[i];
	return last;
}

/* -- programs that answer every prompt with the password ------------------------------ */

static bool single_answer_in_force(const twofa_single_answer_entry *a, time_t now)
{
	return a->at <= now && now - a->at < TWOFA_STATE_SINGLE_ANSWER_SECONDS;
}

struct single_answer_args {
	char service[TWOFA_STATE_SERVICE_MAX];
	char from[TWOFA_STATE_FROM_MAX];
	time_t now;
};

static bool single_answer_is(const twofa_single_answer_entry *a, const char *service, const char *from)
{
	return strcmp(a->service, service) == 0 && strcmp(a->from, from) == 0;
}

static bool change_single_answer(twofa_state_entry *e, void *arg)
{
	struct single_answer_args *a = arg;
	size_t kept = 0, slot;

	for (size_t i = 0; i < e->single_answer_count; i++)
		if (single_answer_in_force(&e->single_answer[i], a->now) &&
		    !single_answer_is(&e->single_answer[i], a->service, a->from))
			e->single_answer[kept++] = e->single_answer[i];
	memset(&e->single_answer[kept], 0,
	       (TWOFA_STATE_SINGLE_ANSWER_MAX - kept) * sizeof(e->single_answer[0]));
	slot = kept;
	if (slot == TWOFA_STATE_SINGLE_ANSWER_MAX) {
		/* Full: the oldest goes. */
		slot = 0;
		for (size_t i = 1; i < kept; i++)
			if (e->single_answer[i].at < e->single_answer[slot].at)
				slot = i;
	} else {
		kept++;
	}
	memcpy(e->single_answer[slot].service, a->service, sizeof(a->service));
	memcpy(e->single_answer[slot].from, a->from, sizeof(a->from));
	e->single_answer[slot].at = a->now;
	e->single_answer_count = kept;
	return true;
}

twofa_status twofa_state_note_single_answer(const char *path, const char *user, const char *service,
					    const char *from, time_t now, twofa_error *err)
{
	struct single_answer_args a = {.now = now};

	copy_shown(a.service, sizeof(a.service), service);
	copy_shown(a.from, sizeof(a.from), from);
	if (a.service[0] == '\0' || a.from[0] == '\0')
		return twofa_fail(err, TWOFA_EINVAL, "state: no service or origin to remember");
	return update_state(path, user, true, change_single_answer, &a, err);
}

bool twofa_state_single_answer(const twofa_state_entry *e, const char *service, const char *from, time_t now)
{
	char shown[TWOFA_STATE_SERVICE_MAX], where[TWOFA_STATE_FROM_MAX];

	copy_shown(shown, sizeof(shown), service);
	copy_shown(where, sizeof(where), from);
	for (size_t i = 0; i < e->single_answer_count; i++)
		if (single_answer_is(&e->single_answer[i], shown, where))
			return single_answer_in_force(&e->single_answer[i], now);
	return false;
}

/* -- the replay guard of authenticator-app codes ------------------------------------- */

struct app_claim_args {
	char key[TWOFA_STATE_KEY_SIZE];
	time_t now;
	bool *replayed;
};

static bool change_app_claim(twofa_state_entry *e, void *arg)
{
	struct app_claim_args *a = arg;
	size_t kept = 0, slot;

	for (size_t i = 0; i < e->app_used_count; i++) {
		if (e->app_used[i].until <= a->now)
			continue; /* expired: dropped */
		if (sodium_memcmp(e->app_used[i].key, a->key, TWOFA_STATE_KEY_SIZE) == 0) {
			*a->replayed = true;
			return false;
		}
		e->app_used[kept++] = e->app_used[i];
	}
	memset(&e->app_used[kept], 0, (TWOFA_STATE_APP_USED_MAX - kept) * sizeof(e->app_used[0]));
	slot = kept;
	if (slot == TWOFA_STATE_APP_USED_MAX) {
		/* Full (16 logins in 5 minutes): the one that expires first goes. */
		slot = 0;
		for (size_t i = 1; i < kept; i++)
			if (e->app_used[i].until < e->app_used[slot].until)
				slot = i;
	} else {
		kept++;
	}
	memcpy(e->app_used[slot].key, a->key, sizeof(a->key));
	e->app_used[slot].until = a->now + TWOFA_STATE_APP_GUARD_SECONDS;
	e->app_used_count = kept;
	return true;
}

twofa_status twofa_state_app_code_claim(const char *path, const char *user, const char *factor,
					const char *code, time_t now, bool *replayed, twofa_error *err)
{
	struct app_claim_args a = {.now = now, .replayed = replayed};
	crypto_generichash_state h;
	twofa_status st;

	*replayed = false;
	if (factor == NULL || code == NULL || sodium_init() < 0)
		return twofa_fail(err, TWOFA_EINVAL, "state: no factor or code to guard");
	/* Only a hash, never the code as typed. With the name and factor known,
	 * a 6-digit code's hash is quickly reversed, but the code is good only
	 * within the factor's skew (at most two steps), and state.db is
	 * root's: a key kept beside it in the same file would add nothing. */
	crypto_generichash_init(&h, NULL, 0, 32);
	hash_part(&h, "twofa app code");
	hash_part(&h, user);
	hash_part(&h, factor);
	hash_part(&h, code);
	hash_hex(&h, a.key);
	sodium_memzero(&h, sizeof(h));
	st = update_state(path, user, true, change_app_claim, &a, err);
	sodium_memzero(a.key, sizeof(a.key));
	return st;
}

static bool change_app_failure(twofa_state_entry *e, void *arg)
{
	long *count = arg;

	if (e->app_failures < FAILURES_MAX)
		e->app_failures++;
	*count = e->app_failures;
	return true;
}

twofa_status twofa_state_app_failure(const char *path, const char *user, long *count, twofa_error *err)
{
	long n = 0;
	twofa_status st = update_state(path, user, true, change_app_failure, &n, err);

	if (count != NULL)
		*count = n;
	return st;
}

/* -- the admin's commands ------------------------------------------------------------- */

bool twofa_state_honour_unlock(twofa_state_entry *e, time_t unlocked)
{
	if (unlocked <= e->unlock_honoured)
		return false;
	e->unlock_honoured = unlocked;
	memset(e->single_answer, 0, sizeof(e->single_answer));
	e->single_answer_count = 0;
	e->failures = 0;
	e->locked_until = 0;
	e->app_failures = 0;
	memset(e->sources, 0, sizeof(e->sources));
	e->source_count = 0;
	memset(e->sends, 0, sizeof(e->sends));
	e->send_count = 0;
	return true;
}

static bool change_unlock(twofa_state_entry *e, void *arg)
{
	return twofa_state_honour_unlock(e, *(const time_t *)arg);
}

twofa_status twofa_state_unlock(const char *path, const char *user, time_t unlocked, twofa_error *err)
{
	if (unlocked == 0)
		return TWOFA_OK;
	return update_state(path, user, true, change_unlock, &unlocked, err);
}

twofa_status twofa_state_forget(const char *path, const char *user, twofa_error *err)
{
	twofa_status st = check_member_key(user, err);

	if (st != TWOFA_OK)
		return st;
	return twofa_store_delete_if_present(path, user, err);
}
