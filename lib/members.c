/* SPDX-License-Identifier: GPL-3.0-or-later */
#include "twofa_build.h"

#include <stdlib.h>
#include <string.h>

#include "members.h"
#include "util.h"

twofa_status twofa_members_decode(const char *key, const char *value, size_t len, twofa_member *m,
				  twofa_error *err)
{
	twofa_status st = twofa_member_decode(value, len, m, err);

	if (st == TWOFA_OK && strcmp(m->user, key) != 0) {
		twofa_member_free(m);
		return twofa_fail(err, TWOFA_ESTORE, "member record under one name holds another");
	}
	if (st != TWOFA_OK && st != TWOFA_ENOMEM)
		st = TWOFA_ESTORE;
	return st;
}

twofa_status twofa_members_get(twofa_store *s, const char *user, twofa_member *m, twofa_error *err)
{
	char *value = NULL;
	size_t len = 0;
	twofa_status st;

	memset(m, 0, sizeof(*m));
	st = twofa_store_get(s, user, &value, &len, err);
	if (st == TWOFA_ENOTFOUND)
		return twofa_fail(err, TWOFA_ENOTFOUND, "user is not enrolled");
	if (st == TWOFA_OK)
		st = twofa_members_decode(user, value, len, m, err);
	/* The record holds the password hash. */
	if (value != NULL)
		twofa_free_wiped(value, len);
	return st;
}

twofa_status twofa_members_put(twofa_store *s, const twofa_member *m, bool replace, twofa_error *err)
{
	char *json = NULL;
	twofa_status st = twofa_member_validate(m, err);

	if (st == TWOFA_OK)
		st = twofa_member_encode(m, &json, err);
	if (st == TWOFA_OK)
		st = twofa_store_put(s, m->user, json, strlen(json), replace, err);
	if (st == TWOFA_EEXIST)
		twofa_fail(err, TWOFA_EEXIST, "user is already enrolled");
	twofa_free_secret(json);
	return st;
}

twofa_status twofa_members_delete(twofa_store *s, const char *user, twofa_error *err)
{
	twofa_status st = twofa_store_delete(s, user, err);

	if (st == TWOFA_ENOTFOUND)
		twofa_fail(err, TWOFA_ENOTFOUND, "user is not enrolled");
	return st;
}
