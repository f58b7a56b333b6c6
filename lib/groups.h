/* SPDX-License-Identifier: GPL-3.0-or-later */
/* Group membership as pam_modutil_user_in_group_nam_nam decides it (the
 * server has no libpam): the user's primary group, or a member list entry. */
#ifndef TWOFA_GROUPS_H
#define TWOFA_GROUPS_H

#include <stdbool.h>

/* True when user is in group; false when not, or when either is unknown or
 * the lookup fails (the caller's groups= rule decides what that means). */
bool twofa_user_in_group(const char *user, const char *group);

#endif
