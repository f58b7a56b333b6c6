/* SPDX-License-Identifier: GPL-3.0-or-later */
/* Who may act for whom through twofad. Root (sshd, sudo, su, login) may act
 * for any user. Any other caller (a screen locker, vlock) only for the
 * account whose uid it has, unix_chkpwd's rule, and only with the options
 * that cannot loosen anything beyond its own answer. */
#ifndef TWOFA_PEER_POLICY_H
#define TWOFA_PEER_POLICY_H

#include <stdbool.h>

#include "decision.h"
#include "options.h"
#include "proto.h"
#include "serve.h"

/* Sends in a send_window for a caller that is not root and whose first
 * factor twofad cannot know (password=none): pumping SMS stays cheap. */
#define TWOFA_PEER_SEND_LIMIT 3

/* A socket peer that is not root. */
bool twofa_peer_unprivileged(const twofa_peer *peer);

/* True when peer may act for the account canonical; otherwise false with
 * *d PAM_PERM_DENIED at LOG_WARNING (an unknown name is another user too). */
bool twofa_peer_may_act_for(const twofa_peer *peer, const char *canonical, twofa_decision *d);

/* False with *d decided when peer may not make this call at all: a caller
 * that is not root never changes a twofa password (it could do so without
 * the old one by skipping the modules before pam_twofa); PAM_IGNORE, so the
 * rest of its stack goes on. */
bool twofa_peer_may_call(const twofa_peer *peer, twofa_proto_call call, twofa_decision *d);

/* Narrows opts for an unprivileged peer: groups= does not exempt it, no
 * grace is honoured or granted (its service and origin are its own word),
 * with password=none at most TWOFA_PEER_SEND_LIMIT sends a window, and no
 * self-enrolment (its first factor is its own word: a locker of alice's
 * session could bind a number of its choosing).
 * nullok stays: it changes only the caller's own answer, which the caller
 * could ignore anyway, and without it nobody unenrolled could unlock a
 * screen. */
void twofa_peer_limit_options(const twofa_peer *peer, twofa_options *opts);

#endif
