/* SPDX-License-Identifier: GPL-3.0-or-later */
/* Member records in members.db: the operations the module and the CLI share.
 * Each call opens the store, does its work under the right lock and closes
 * it again, so no caller can hold the store across a prompt or a request. */
#ifndef TWOFA_MEMBERS_H
#define TWOFA_MEMBERS_H

#include <stdbool.h>

#include "error.h"
#include "member.h"

/* Reads user's record under the shared lock. TWOFA_ENOTFOUND when the user is
 * not enrolled; a missing store is TWOFA_ESTORE (fail closed: nobody can
 * tell a deleted store from an empty one). */
twofa_status twofa_members_load(const char *db, const char *user, twofa_member *m, twofa_error *err);

/* Stores m (validated first). With replace false an enrolled user is
 * TWOFA_EEXIST and nothing changes. */
twofa_status twofa_members_save(const char *db, const twofa_member *m, bool replace, twofa_error *err);

/* Read-modify-write of user's record under one exclusive lock. change returns
 * TWOFA_OK to store the changed record, TWOFA_EEXIST to leave it unchanged
 * without error, or an error that is passed back. */
typedef twofa_status (*twofa_member_change)(twofa_member *m, void *arg, twofa_error *err);
twofa_status twofa_members_update(const char *db, const char *user, twofa_member_change change, void *arg,
				  twofa_error *err);

/* Deletes user's record; TWOFA_ENOTFOUND if there is none. */
twofa_status twofa_members_remove(const char *db, const char *user, twofa_error *err);

#endif
