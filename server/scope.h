/* SPDX-License-Identifier: GPL-3.0-or-later */
/* groups=: which users the module applies to. */
#ifndef PAM_TWOFA_SCOPE_H
#define PAM_TWOFA_SCOPE_H

#include <stdbool.h>

#include "decision.h"

/* groups is a comma-separated list; "!name" excludes members of name. A user
 * in an excluded group is out of scope; with any plain names, a user must be
 * in one of them. NULL or "" means everyone. *malformed is set when the list
 * has an empty or overlong entry (callers fail closed). */
bool twofa_user_in_scope(const char *user, const char *groups, bool *malformed);

/* The scope check of every flow: true when user is in scope; otherwise false
 * with *d decided (ignored when out of scope, an error when groups= is
 * malformed). */
bool twofa_scope_decide(const char *user, const char *groups, twofa_decision *d);

#endif
