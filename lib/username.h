/* SPDX-License-Identifier: GPL-3.0-or-later */
/* The one name a login is known by. NSS (sssd, winbind) may accept several
 * spellings of an account (ALICE, alice@corp, CORP\alice); members, scope
 * and grace must all use the name the account has, or an alias is a
 * stranger that nullok lets in on the password alone. */
#ifndef TWOFA_USERNAME_H
#define TWOFA_USERNAME_H

#include <stdbool.h>

#include "error.h"

/* Resolves typed with getpwnam_r. *canonical (malloc'd, free() it) is the
 * account's pw_name when NSS knows the name, with *known true; otherwise a
 * copy of typed, with *known false (no alias of it can exist). An NSS error
 * (not "not found") is TWOFA_EUNAVAIL: the caller fails closed. A pw_name
 * that is not a valid member name is TWOFA_EINVAL. */
twofa_status twofa_canonical_user(const char *typed, char **canonical, bool *known, twofa_error *err);

#endif
