/* SPDX-License-Identifier: GPL-3.0-or-later */
/* A member's record for a PAM call, and the log lines about where it came
 * from (lib/member_store.h, twofa_member_store_last_load): every flow reads
 * the member through here, so a cached stand-in is always said. */
#ifndef PAM_TWOFA_MEMBER_READ_H
#define PAM_TWOFA_MEMBER_READ_H

#include "host.h"

#include "audit.h"
#include "member_store.h"

/* twofa_member_store_load, then at LOG_WARNING: "directory unreachable
 * (servers tried: ...); using this host's cached record of USER read N s
 * ago" when the cache stood in, and a cache that could not be kept. */
twofa_status twofa_read_member(const twofa_audit *audit, twofa_member_store *members, const char *user,
			       twofa_member *m, twofa_error *err);

/* The PAM code of a failed read other than TWOFA_ENOTFOUND: no directory
 * server answered and no cached record stood in is PAM_AUTHINFO_UNAVAIL
 * (the directory's outage; failmode never opens for it); the rest
 * otherwise. */
int twofa_read_member_failed(twofa_status st, int otherwise);

#endif
