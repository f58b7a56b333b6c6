/* SPDX-License-Identifier: GPL-3.0-or-later */
/* Member records in members.db, on a store the caller opened (lib/store.h):
 * the record under its login name, as lib/member.h's JSON. Only the GDBM
 * backend of the member store (lib/member_store_gdbm.c) uses this; it
 * decides which lock each operation runs under. */
#ifndef TWOFA_MEMBERS_H
#define TWOFA_MEMBERS_H

#include <stdbool.h>

#include "error.h"
#include "member.h"
#include "store.h"

/* Reads user's record. TWOFA_ENOTFOUND when it is not there; a record that
 * does not decode, or holds another name, is TWOFA_ESTORE. */
twofa_status twofa_members_get(twofa_store *s, const char *user, twofa_member *m, twofa_error *err);

/* Validates m and stores it under m->user. With replace false an enrolled
 * user is TWOFA_EEXIST and nothing changes. */
twofa_status twofa_members_put(twofa_store *s, const twofa_member *m, bool replace, twofa_error *err);

/* Deletes user's record; TWOFA_ENOTFOUND if there is none. */
twofa_status twofa_members_delete(twofa_store *s, const char *user, twofa_error *err);

/* Decodes a value found under key, as twofa_members_get does: TWOFA_ESTORE
 * (the reason in err) when it is not key's record. */
twofa_status twofa_members_decode(const char *key, const char *value, size_t len, twofa_member *m,
				  twofa_error *err);

#endif
