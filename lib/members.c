/* SPDX-License-Identifier: GPL-3.0-or-later */
#include "twofa_build.h"

#include <stdlib.h>
#include <string.h>

#include "members.h"
#include "store.h"

twofa_status twofa_members_load(const char *db, const char *user, twofa_member *m, twofa_error *err)
{
	twofa_store *s = NULL;
	char *value = NULL;
	size_t len = 0;
	twofa_status st;

	memset(m, 0, sizeof(*m));
	if (!twofa_user_name_valid(user))
		return twofa_fail(err, TWOFA_ENOTFOUND, "not a valid login name");
	st = twofa_store_open(&s, db, TWOFA_STORE_READ, TWOFA_STORE_LOCK_TIMEOUT_MS, err);
	if (st == TWOFA_ENOTFOUND)
		return twofa_fail(err, TWOFA_ESTORE,
				  "member store %s does not exist (twofa-enroll add creates it)", db);
	if (st != TWOFA_OK)
		return st;
	st = twofa_store_get(s, user, &value, &len, err);
	/* Close before decoding: the lock is held only for the read itself. */
	if (st == TWOFA_OK)
		st = twofa_store_close(s, err);
	else
		(void)twofa_store_close(s, NULL);
	if (st == TWOFA_OK) {
		st = twofa_member_decode(value, len, m, err);
		if (st == TWOFA_OK && strcmp(m->user, user) != 0)
			st = twofa_fail(err, TWOFA_ESTORE, "member record under one name holds another");
		if (st != TWOFA_OK && st != TWOFA_ENOMEM)
			st = TWOFA_ESTORE;
	}
	if (value != NULL) {
		/* The record holds the password hash. */
		memset(value, 0, len);
		free(value);
	}
	if (st != TWOFA_OK)
		twofa_member_free(m);
	return st;
}

static twofa_status put_member(twofa_store *s, const twofa_member *m, bool replace, twofa_error *err)
{
	char *json = NULL;
	twofa_status st = twofa_member_validate(m, err);

	if (st == TWOFA_OK)
		st = twofa_member_encode(m, &json, err);
	if (st == TWOFA_OK)
		st = twofa_store_put(s, m->user, json, strlen(json), replace, err);
	if (json != NULL) {
		memset(json, 0, strlen(json));
		free(json);
	}
	return st;
}

/* Closes s, keeping the first error. */
static twofa_status finish(twofa_store *s, twofa_status st, twofa_error *err)
{
	if (st == TWOFA_OK)
		return twofa_store_close(s, err);
	(void)twofa_store_close(s, NULL);
	return st;
}

twofa_status twofa_members_save(const char *db, const twofa_member *m, bool replace, twofa_error *err)
{
	twofa_store *s = NULL;
	twofa_status st = twofa_member_validate(m, err);

	if (st != TWOFA_OK)
		return st;
	st = twofa_store_open(&s, db, TWOFA_STORE_WRITE, TWOFA_STORE_LOCK_TIMEOUT_MS, err);
	if (st != TWOFA_OK)
		return st;
	st = put_member(s, m, replace, err);
	if (st == TWOFA_EEXIST)
		twofa_fail(err, TWOFA_EEXIST, "user is already enrolled");
	return finish(s, st, err);
}

twofa_status twofa_members_update(const char *db, const char *user, twofa_member_change change, void *arg,
				  twofa_error *err)
{
	twofa_store *s = NULL;
	twofa_member m;
	char *value = NULL;
	size_t len = 0;
	twofa_status st;

	memset(&m, 0, sizeof(m));
	st = twofa_store_open(&s, db, TWOFA_STORE_WRITE, TWOFA_STORE_LOCK_TIMEOUT_MS, err);
	if (st != TWOFA_OK)
		return st;
	st = twofa_store_get(s, user, &value, &len, err);
	if (st == TWOFA_ENOTFOUND)
		twofa_fail(err, TWOFA_ENOTFOUND, "user is not enrolled");
	if (st == TWOFA_OK)
		st = twofa_member_decode(value, len, &m, err);
	if (value != NULL) {
		memset(value, 0, len);
		free(value);
	}
	if (st == TWOFA_OK) {
		st = change(&m, arg, err);
		if (st == TWOFA_OK)
			st = put_member(s, &m, true, err);
		else if (st == TWOFA_EEXIST)
			st = TWOFA_OK;
	}
	twofa_member_free(&m);
	return finish(s, st, err);
}

twofa_status twofa_members_remove(const char *db, const char *user, twofa_error *err)
{
	twofa_store *s = NULL;
	twofa_status st = twofa_store_open(&s, db, TWOFA_STORE_WRITE, TWOFA_STORE_LOCK_TIMEOUT_MS, err);

	if (st != TWOFA_OK)
		return st;
	st = twofa_store_delete(s, user, err);
	if (st == TWOFA_ENOTFOUND)
		twofa_fail(err, TWOFA_ENOTFOUND, "user is not enrolled");
	return finish(s, st, err);
}
