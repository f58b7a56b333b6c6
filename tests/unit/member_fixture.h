/* SPDX-License-Identifier: GPL-3.0-or-later */
/* The member the unit tests of lib/member, lib/ldap_member and lib/member_cache
 * start from, written once. Each fills a twofa_member the caller frees with
 * twofa_member_free. */
#ifndef TWOFA_TESTS_MEMBER_FIXTURE_H
#define TWOFA_TESTS_MEMBER_FIXTURE_H

#include <stdbool.h>

#include "member.h"

/* A well-formed Argon2id hash (of no password a test types). */
#define MEMBER_FIXTURE_HASH \
	"$argon2id$v=19$m=65536,t=2,p=1$c29tZXNhbHRzb21lc2FsdA$7sE7Z1k9u9Z0ZK9oHq4Yb1qg4Rj9Y3K2cM2w1e0a2Hc"

/* alice: an email, a GB mobile, sms, MEMBER_FIXTURE_HASH, active, created,
 * verified and updated set; every other field empty. */
void member_fixture_fill(twofa_member *m);

/* A well-formed code hash ("b2$" 32 hex "$" 64 hex), different for each n. */
void member_fixture_code_hash(char out[TWOFA_MEMBER_CODE_HASH_SIZE], unsigned n);

/* member_fixture_fill with every field of the fleet, recovery, enrolment and
 * TOTP issues set as well. */
void member_fixture_fill_all(twofa_member *m);

/* Whether a and b hold the same member, field by field (NULL email or
 * password hash equal only to NULL). */
bool member_fixture_same(const twofa_member *a, const twofa_member *b);

#endif
