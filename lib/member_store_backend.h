/* SPDX-License-Identifier: GPL-3.0-or-later */
/* What a member-store backend provides to lib/member_store.c, which checks
 * the arguments, keeps the rules both backends share (names, validation,
 * versions, batches) and dispatches here. Private to lib/: only
 * member_store.c and the backends include it. */
#ifndef TWOFA_MEMBER_STORE_BACKEND_H
#define TWOFA_MEMBER_STORE_BACKEND_H

#include "member_store.h"

struct twofa_member_store {
	const struct twofa_member_store_ops *ops;
	const twofa_config *cfg;
	twofa_member_store_role role;
	bool in_batch;
	twofa_member_batch_mode batch_mode;
	char *description; /* set (malloc'd) by the backend's open; freed by member_store.c */
	twofa_member_load_source last_load; /* member_store.c's, for twofa_member_store_last_load */
	void *impl;                         /* the backend's own state */
};

/* Every operation gets arguments member_store.c has checked: s open, user a
 * valid login name, m validated, callbacks not NULL. */
typedef struct twofa_member_store_ops {
	/* Sets s->description and, if it needs one, s->impl. Makes no
	 * connection (the first call does). On failure frees what it made. */
	twofa_status (*open)(twofa_member_store *s, twofa_error *err);
	/* Frees s->impl (never s itself); ends a batch left open. */
	void (*close)(twofa_member_store *s);
	/* m is zeroed; on failure leave it empty. The caller checks that the
	 * record's user is the one asked for. */
	twofa_status (*load)(twofa_member_store *s, const char *user, twofa_member *m, twofa_error *err);
	/* m->version is what to store (member_store.c sets 1 for ADD, and 1
	 * for a record from before versions). ADD and IMPORT are TWOFA_EEXIST
	 * for a member already there, found at the write itself. */
	twofa_status (*put)(twofa_member_store *s, const twofa_member *m, twofa_member_put_mode mode,
			    twofa_error *err);
	/* Reads user's record, calls change once on it and stores the result
	 * when change returns TWOFA_OK (change has already validated it and
	 * set its version to the one read + 1); TWOFA_EEXIST from change is
	 * "leave it" (return TWOFA_OK). Must not lose a concurrent update:
	 * GDBM under one exclusive lock, LDAP with the read version asserted
	 * (TWOFA_ECONFLICT when it changed meanwhile). */
	twofa_status (*update)(twofa_member_store *s, const char *user, twofa_member_change change, void *arg,
			       twofa_error *err);
	twofa_status (*remove)(twofa_member_store *s, const char *user, twofa_error *err);
	twofa_status (*names)(twofa_member_store *s, twofa_member_name_cb cb, void *arg, twofa_error *err);
	/* bad is never NULL here: member_store.c supplies one for a caller
	 * that gave none. */
	twofa_status (*each)(twofa_member_store *s, twofa_member_cb cb, twofa_member_bad_cb bad, void *arg,
			     twofa_error *err);
	twofa_status (*count)(twofa_member_store *s, size_t *count, twofa_error *err);
	/* NULL when batches mean nothing to the backend (LDAP). */
	twofa_status (*batch_begin)(twofa_member_store *s, twofa_member_batch_mode mode, twofa_error *err);
	twofa_status (*batch_end)(twofa_member_store *s, twofa_error *err);
	/* hash is a valid code hash and kind known. Removes that one value
	 * and nothing else (no version, no updated time): TWOFA_ECONFLICT when
	 * it is not there any more. */
	twofa_status (*consume)(twofa_member_store *s, const char *user, twofa_member_code_kind kind,
				const char *hash, twofa_error *err);
	/* m is validated, active or pending, without a password hash or an
	 * invite, its version 1; invite_code NULL or a string. The rules of
	 * twofa_member_store_enrol, decided at the write itself. */
	twofa_status (*enrol)(twofa_member_store *s, const twofa_member *m, const char *invite_code,
			      time_t now, twofa_error *err);
	/* e164 valid, except_user NULL or a valid name; *count is 0. */
	twofa_status (*phone_users)(twofa_member_store *s, const char *e164, const char *except_user,
				    size_t *count, twofa_error *err);
	/* Removes user's record only when it is an invited one: TWOFA_EEXIST
	 * for a member (also one who enrolled since the caller looked). */
	twofa_status (*revoke_invite)(twofa_member_store *s, const char *user, twofa_error *err);
	/* The rest NULL when they mean nothing to the backend (GDBM). */
	/* A new PAM call on a handle kept open: a LOGIN handle's budget starts again. */
	void (*new_call)(twofa_member_store *s);
	/* True when no server would answer a load now (the ones tried moments
	 * ago all failed), why saying so: the cache stands in at once. */
	bool (*offline)(twofa_member_store *s, twofa_error *why);
	/* False once the handle's connection failed (twofad's pool closes it). */
	bool (*healthy)(const twofa_member_store *s);
} twofa_member_store_ops;

extern const twofa_member_store_ops twofa_member_store_gdbm_ops;
#ifdef TWOFA_HAVE_LDAP
/* lib/member_store_ldap.c */
extern const twofa_member_store_ops twofa_member_store_ldap_ops;
#endif

#endif
