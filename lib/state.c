/* SPDX-License-Identifier: GPL-3.0-or-later */
#include "twofa_build.h"

#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "state.h"
#include "store.h"
#include "util.h"

#define STATE_JSON_MAX (16 * 1024)

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

twofa_status twofa_state_decode(const char *json, size_t len, twofa_state_entry *e, twofa_error *err)
{
	json_error_t jerr;
	json_t *root, *v, *item;
	size_t i;
	twofa_status st = TWOFA_ESTORE;

	memset(e, 0, sizeof(*e));
	if (len > STATE_JSON_MAX)
		return twofa_fail(err, TWOFA_ESTORE, "state record too large (%zu bytes)", len);
	root = json_loadb(json, len, JSON_REJECT_DUPLICATES, &jerr);
	if (root == NULL || !json_is_object(root)) {
		json_decref(root);
		return twofa_fail(err, TWOFA_ESTORE, "state record is not a JSON object");
	}
	v = json_object_get(root, "v");
	if (!json_is_integer(v) || json_integer_value(v) != 1) {
		twofa_fail(err, TWOFA_ESTORE, "state record has an unknown version");
		goto out;
	}
	v = json_object_get(root, "failures");
	if (v != NULL) {
		if (!json_is_integer(v) || json_integer_value(v) < 0 || json_integer_value(v) > 1000000) {
			twofa_fail(err, TWOFA_ESTORE, "state record has a bad failure count");
			goto out;
		}
		e->failures = (long)json_integer_value(v);
	}
	if (!get_time(root, "locked_until", &e->locked_until) || !get_time(root, "last_login", &e->last_login) ||
	    !get_text(root, "last_service", e->last_service, sizeof(e->last_service)) ||
	    !get_text(root, "last_from", e->last_from, sizeof(e->last_from))) {
		twofa_fail(err, TWOFA_ESTORE, "state record has a bad field");
		goto out;
	}
	v = json_object_get(root, "sends");
	if (v != NULL) {
		if (!json_is_array(v) || json_array_size(v) > TWOFA_STATE_SENDS_MAX) {
			twofa_fail(err, TWOFA_ESTORE, "state record has a bad send list");
			goto out;
		}
		json_array_foreach(v, i, item) {
			if (!json_is_integer(item) || !time_in_range(json_integer_value(item))) {
				twofa_fail(err, TWOFA_ESTORE, "state record has a bad send time");
				goto out;
			}
			e->sends[e->send_count++] = (time_t)json_integer_value(item);
		}
	}
	v = json_object_get(root, "grace");
	if (v != NULL) {
		if (!json_is_array(v) || json_array_size(v) > TWOFA_STATE_GRACE_MAX) {
			twofa_fail(err, TWOFA_ESTORE, "state record has a bad grace list");
			goto out;
		}
		json_array_foreach(v, i, item) {
			twofa_grace_entry *g = &e->grace[e->grace_count];
			if (!json_is_object(item) || !get_text(item, "from", g->from, sizeof(g->from)) ||
			    !get_time(item, "at", &g->at)) {
				twofa_fail(err, TWOFA_ESTORE, "state record has a bad grace entry");
				goto out;
			}
			e->grace_count++;
		}
	}
	st = TWOFA_OK;
out:
	json_decref(root);
	return st;
}

twofa_status twofa_state_encode(const twofa_state_entry *e, char **json, twofa_error *err)
{
	json_t *root = json_pack("{s:i, s:I, s:I, s:I, s:s, s:s}", "v", 1, "failures", (json_int_t)e->failures,
				 "locked_until", (json_int_t)e->locked_until, "last_login",
				 (json_int_t)e->last_login, "last_service", e->last_service, "last_from",
				 e->last_from);
	json_t *sends = json_array(), *grace = json_array();
	bool ok = root != NULL && sends != NULL && grace != NULL;

	for (size_t i = 0; ok && i < e->send_count; i++)
		ok = json_array_append_new(sends, json_integer((json_int_t)e->sends[i])) == 0;
	for (size_t i = 0; ok && i < e->grace_count; i++)
		ok = json_array_append_new(grace, json_pack("{s:s, s:I}", "from", e->grace[i].from, "at",
							    (json_int_t)e->grace[i].at)) == 0;
	ok = ok && json_object_set(root, "sends", sends) == 0 && json_object_set(root, "grace", grace) == 0;
	*json = ok ? json_dumps(root, JSON_COMPACT | JSON_SORT_KEYS) : NULL;
	json_decref(sends);
	json_decref(grace);
	json_decref(root);
	if (*json == NULL)
		return twofa_fail(err, TWOFA_ENOMEM, "out of memory encoding a state record");
	return TWOFA_OK;
}

twofa_status twofa_state_read(const char *path, const char *user, twofa_state_entry *out, twofa_error *err)
{
	twofa_store *s = NULL;
	char *value = NULL;
	size_t len = 0;
	twofa_status st;

	memset(out, 0, sizeof(*out));
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
	if (st == TWOFA_OK)
		return twofa_store_close(s, err);
	(void)twofa_store_close(s, NULL);
	return st;
}

typedef bool (*state_change)(twofa_state_entry *e, void *arg);

/* One read-modify-write of user's record under the exclusive lock. change
 * returns false to leave the record as it was. */
static twofa_status update_state(const char *path, const char *user, state_change change, void *arg,
				 twofa_error *err)
{
	twofa_store *s = NULL;
	twofa_state_entry e;
	char *value = NULL, *json = NULL;
	size_t len = 0;
	twofa_status st;

	st = twofa_store_open(&s, path, TWOFA_STORE_WRITE, TWOFA_STORE_LOCK_TIMEOUT_MS, err);
	if (st != TWOFA_OK)
		return st;
	st = twofa_store_get(s, user, &value, &len, err);
	if (st == TWOFA_OK)
		st = twofa_state_decode(value, len, &e, err);
	else if (st == TWOFA_ENOTFOUND) {
		memset(&e, 0, sizeof(e));
		st = TWOFA_OK;
	}
	free(value);
	if (st == TWOFA_OK && change(&e, arg)) {
		st = twofa_state_encode(&e, &json, err);
		if (st == TWOFA_OK)
			st = twofa_store_put(s, user, json, strlen(json), true, err);
		free(json);
	}
	if (st == TWOFA_OK)
		return twofa_store_close(s, err);
	(void)twofa_store_close(s, NULL);
	return st;
}

bool twofa_state_is_locked(const twofa_state_entry *e, time_t now)
{
	return e->locked_until != 0 && now < e->locked_until;
}

/* A lockout that has run out starts the count again. */
static void expire_lockout(twofa_state_entry *e, time_t now)
{
	if (e->locked_until != 0 && now >= e->locked_until) {
		e->locked_until = 0;
		e->failures = 0;
	}
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

	for (size_t i = 0; i < e->send_count; i++)
		if (e->sends[i] > a->now - a->window && e->sends[i] <= a->now)
			e->sends[kept++] = e->sends[i];
	e->send_count = kept;
	a->allowed = (long)e->send_count < a->limit && e->send_count < TWOFA_STATE_SENDS_MAX;
	if (!a->allowed) {
		a->retry_at = kept != 0 ? e->sends[0] + a->window : a->now + a->window;
		return kept != 0; /* store the pruned list anyway */
	}
	e->sends[e->send_count++] = a->now;
	return true;
}

twofa_status twofa_state_reserve_send(const char *path, const char *user, time_t now, long limit,
				      long window, bool *allowed, time_t *retry_at, twofa_error *err)
{
	struct send_args a = {.now = now, .limit = limit, .window = window};
	twofa_status st = update_state(path, user, change_reserve_send, &a, err);

	*allowed = st == TWOFA_OK && a.allowed;
	if (retry_at != NULL)
		*retry_at = a.retry_at;
	return st;
}

struct failure_args {
	time_t now;
	long lockout_failures, lockout_seconds;
	long failures;
	time_t locked_until;
};

static bool change_failure(twofa_state_entry *e, void *arg)
{
	struct failure_args *a = arg;

	expire_lockout(e, a->now);
	if (e->failures < 1000000)
		e->failures++;
	if (a->lockout_failures > 0 && e->failures >= a->lockout_failures && e->locked_until == 0)
		e->locked_until = a->now + a->lockout_seconds;
	a->failures = e->failures;
	a->locked_until = e->locked_until;
	return true;
}

twofa_status twofa_state_record_failure(const char *path, const char *user, time_t now,
					long lockout_failures, long lockout_seconds, long *failures,
					time_t *locked_until, twofa_error *err)
{
	struct failure_args a = {.now = now, .lockout_failures = lockout_failures,
				 .lockout_seconds = lockout_seconds};
	twofa_status st = update_state(path, user, change_failure, &a, err);

	if (failures != NULL)
		*failures = a.failures;
	if (locked_until != NULL)
		*locked_until = a.locked_until;
	return st;
}

struct success_args {
	time_t now;
	const char *service, *from;
	long grace_period;
};

static bool change_success(twofa_state_entry *e, void *arg)
{
	struct success_args *a = arg;
	size_t slot = e->grace_count;

	e->failures = 0;
	e->locked_until = 0;
	e->last_login = a->now;
	(void)twofa_strlcpy(e->last_service, a->service, sizeof(e->last_service));
	(void)twofa_strlcpy(e->last_from, a->from, sizeof(e->last_from));
	if (a->grace_period <= 0 || a->from[0] == '\0')
		return true;
	for (size_t i = 0; i < e->grace_count; i++)
		if (strcmp(e->grace[i].from, a->from) == 0)
			slot = i;
	if (slot == TWOFA_STATE_GRACE_MAX) {
		/* Full: drop the oldest entry. */
		slot = 0;
		for (size_t i = 1; i < e->grace_count; i++)
			if (e->grace[i].at < e->grace[slot].at)
				slot = i;
	}
	if (!twofa_strlcpy(e->grace[slot].from, a->from, sizeof(e->grace[slot].from)))
		return true; /* a name too long to match exactly never gets grace */
	e->grace[slot].at = a->now;
	if (slot == e->grace_count)
		e->grace_count++;
	return true;
}

twofa_status twofa_state_record_success(const char *path, const char *user, time_t now,
					const char *service, const char *from, long grace_period,
					twofa_error *err)
{
	struct success_args a = {.now = now, .service = service ? service : "",
				 .from = from ? from : "", .grace_period = grace_period};

	return update_state(path, user, change_success, &a, err);
}

bool twofa_state_in_grace(const twofa_state_entry *e, const char *from, time_t now, long grace_period)
{
	if (grace_period <= 0 || from == NULL || from[0] == '\0')
		return false;
	for (size_t i = 0; i < e->grace_count; i++)
		if (strcmp(e->grace[i].from, from) == 0)
			return e->grace[i].at <= now && now - e->grace[i].at < grace_period;
	return false;
}

static bool change_unlock(twofa_state_entry *e, void *arg)
{
	(void)arg;
	e->failures = 0;
	e->locked_until = 0;
	return true;
}

twofa_status twofa_state_unlock(const char *path, const char *user, twofa_error *err)
{
	return update_state(path, user, change_unlock, NULL, err);
}

twofa_status twofa_state_forget(const char *path, const char *user, twofa_error *err)
{
	twofa_store *s = NULL;
	twofa_status st = twofa_store_open(&s, path, TWOFA_STORE_WRITE, TWOFA_STORE_LOCK_TIMEOUT_MS, err);

	if (st != TWOFA_OK)
		return st;
	st = twofa_store_delete(s, user, err);
	if (st == TWOFA_ENOTFOUND)
		st = TWOFA_OK;
	if (st == TWOFA_OK)
		return twofa_store_close(s, err);
	(void)twofa_store_close(s, NULL);
	return st;
}
