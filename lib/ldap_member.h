/* SPDX-License-Identifier: GPL-3.0-or-later */
/* A member as the twofaMember attributes of a directory entry, and back
 * (the attribute table of etc/ldap/twofa.schema): pure functions, no server.
 *
 * Reading is strict, because a directory is shared with other writers and
 * its schema may be laxer than ours: a single-valued attribute with two
 * values, a value longer than its bound, a time that is not
 * YYYYMMDDHHMMSSZ, a value with a control character or a twofaUser that is
 * not byte for byte the name asked for (uid matches case-insensitively, so a
 * search for "Alice" finds alice's entry) is an error, never a guess. */
#ifndef TWOFA_LDAP_MEMBER_H
#define TWOFA_LDAP_MEMBER_H

#include <stddef.h>

#include <ldap.h>

#include "error.h"
#include "member.h"

#define TWOFA_LDAP_MEMBER_CLASS "twofaMember"
#define TWOFA_LDAP_USER_ATTR "twofaUser"
#define TWOFA_LDAP_VERSION_ATTR "twofaVersion"
/* "YYYYMMDDHHMMSSZ" and its NUL. */
#define TWOFA_LDAP_TIME_SIZE 16

/* The twofa attributes, NULL-terminated, as a search asks for them (never
 * '*', never userPassword); and twofaUser alone, for listing names. */
extern char *const twofa_ldap_member_attrs[];
extern char *const twofa_ldap_user_attrs[];

/* True if name is one of the twofa attributes (case-insensitively, as
 * attribute descriptions are). */
bool twofa_ldap_member_attr_known(const char *name);

/* One attribute of an entry as libldap gives it: the description and its
 * values (ldap_get_values_len, NULL-terminated). */
typedef struct twofa_ldap_attr {
	const char *name;
	struct berval **values;
} twofa_ldap_attr;

/* Decodes the n attributes of one entry into m. Attributes that are not
 * twofa's are ignored; one that appears twice, or with an option
 * ("twofaUser;lang-de"), is an error. If user is not NULL, twofaUser must be
 * exactly user (else TWOFA_ENOTFOUND: that entry is not this member). Then
 * twofa_member_validate. Absent twofaVersion reads as 0 (a record from before
 * versions). twofaBypassCode holds one value per remaining use (uses = the
 * count): every value the same hash, expiry and issuer, each its own use
 * number 1..TWOFA_MEMBER_BYPASS_USES_MAX, gaps allowed (a login deletes any
 * one of them; each value is one use). Errors name the attribute, never its
 * value: TWOFA_ESTORE for an entry that does not decode. On error m is left
 * empty (safe to free). */
twofa_status twofa_ldap_member_decode(const twofa_ldap_attr *attrs, size_t n, const char *user,
				      twofa_member *m, twofa_error *err);

/* YYYYMMDDHHMMSSZ (GeneralizedTime, UTC, whole seconds) of t, and back:
 * exactly that form, a real date (no Feb 30), nothing else. */
bool twofa_ldap_format_time(time_t t, char buf[TWOFA_LDAP_TIME_SIZE]);
bool twofa_ldap_parse_time(const char *s, size_t len, time_t *out);

/* The DN of a minimal entry for user under base: "uid=<user>,<base>", the
 * value escaped per RFC 4514 (',', '+', '"', '\\', '<', '>', ';', '=', a
 * leading '#' or space, a trailing space and control bytes as \XX), so no
 * name adds an RDN or leaves base. *dn is malloc'd. */
twofa_status twofa_ldap_member_dn(const char *user, const char *base, char **dn, twofa_error *err);

/* Which change a modification list makes. */
typedef enum {
	TWOFA_LDAP_MODS_ADD_CLASS, /* modify of an existing entry: add the class and every set attribute */
	TWOFA_LDAP_MODS_CREATE,    /* ldap_add of a minimal entry: objectClass account + twofaMember, uid */
	TWOFA_LDAP_MODS_REPLACE,   /* modify: replace every twofa attribute, the empty ones with none */
	TWOFA_LDAP_MODS_REMOVE,    /* modify: every twofa attribute to none, the class value deleted */
} twofa_ldap_mods_kind;

/* Bytes of one twofaBypassCode value: "<hash> <expires> <n>" or "<hash>
 * <expires> <n> <issuer>" (etc/ldap/README), one value per remaining use. */
#define TWOFA_LDAP_BYPASS_VALUE_MAX \
	(TWOFA_MEMBER_CODE_HASH_SIZE + TWOFA_LDAP_TIME_SIZE + 4 + TWOFA_USER_NAME_MAX)

/* modifications: the 18 attributes (two each for the codes in a change),
 * objectClass, uid */
#define TWOFA_LDAP_MODS_MAX 24
/* Value slots, each list's terminating NULL included, and bytes of every
 * value together: a change may delete every old code value and add as many. */
#define TWOFA_LDAP_VALUES_MAX (2 * (TWOFA_MEMBER_BYPASS_USES_MAX + TWOFA_MEMBER_RECOVERY_MAX) + 64)
#define TWOFA_LDAP_TEXT_MAX                                                      \
	(2 * (TWOFA_MEMBER_BYPASS_USES_MAX * (TWOFA_LDAP_BYPASS_VALUE_MAX + 1) + \
	      TWOFA_MEMBER_RECOVERY_MAX * TWOFA_MEMBER_CODE_HASH_SIZE) +         \
	 4096)

/* A modification list that owns its values (no allocation): list is what
 * ldap_modify_ext_s and ldap_add_ext_s take. It holds the password hash:
 * clear it with twofa_ldap_mods_clear. */
typedef struct twofa_ldap_mods {
	LDAPMod *list[TWOFA_LDAP_MODS_MAX + 1];
	LDAPMod mod[TWOFA_LDAP_MODS_MAX];
	struct berval *valp[TWOFA_LDAP_VALUES_MAX];
	struct berval val[TWOFA_LDAP_VALUES_MAX];
	char text[TWOFA_LDAP_TEXT_MAX];
	size_t n_mod, n_valp, n_val, n_text;
} twofa_ldap_mods;

/* Fills mods with the change kind makes for m (validated first; m may be
 * NULL for REMOVE). twofaVersion is written as m->version (the caller sets
 * the version it means to store, >= 1). */
twofa_status twofa_ldap_member_mods(const twofa_member *m, twofa_ldap_mods_kind kind, twofa_ldap_mods *mods,
				    twofa_error *err);

/* The modify of an admin's update: only the attributes that differ between
 * was (the record as read) and m (validated first; its version the one to
 * store). Unchanged attributes are not written, so a code a login consumed
 * after was was read stays consumed; a set of codes that keeps some values
 * is changed by deleting and adding exact values (a value gone meanwhile
 * fails the modify: LDAP_NO_SUCH_ATTRIBUTE); one that keeps none, or a
 * single-valued attribute, is replaced. */
twofa_status twofa_ldap_member_change_mods(const twofa_member *was, const twofa_member *m,
					   twofa_ldap_mods *mods, twofa_error *err);

/* The modify of an enrolment over an invited entry: what differs between
 * was (the invited record as read, its invite set) and m (the member,
 * validated, no invite), the invite aside, and then the deletion of exactly
 * invite_value (the twofaInvite value as read: len bytes), so that the
 * modify fails (LDAP_NO_SUCH_ATTRIBUTE) when another enrolment consumed it
 * or an admin replaced it since the read. */
twofa_status twofa_ldap_member_enrol_mods(const twofa_member *was, const twofa_member *m,
					  const char *invite_value, size_t len, twofa_ldap_mods *mods,
					  twofa_error *err);

/* Wipes mods (the hash with it). */
void twofa_ldap_mods_clear(twofa_ldap_mods *mods);

#endif
