/* SPDX-License-Identifier: GPL-3.0-or-later */
#include "twofa_build.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "member_fixture.h"

void member_fixture_fill(twofa_member *m)
{
	memset(m, 0, sizeof(*m));
	m->user = strdup("alice");
	m->email = strdup("alice@example.org");
	strcpy(m->phone, "+447911123456");
	strcpy(m->country, "GB");
	m->channel = TWOFA_CHANNEL_SMS;
	m->password_hash = strdup(MEMBER_FIXTURE_HASH);
	m->status = TWOFA_MEMBER_ACTIVE;
	m->created = 1764000000;
	m->updated = 1764000100;
	m->verified = 1764000050;
}

void member_fixture_code_hash(char out[TWOFA_MEMBER_CODE_HASH_SIZE], unsigned n)
{
	snprintf(out, TWOFA_MEMBER_CODE_HASH_SIZE, "b2$%032x$%064x", n, n * 7u + 1u);
}

void member_fixture_fill_all(twofa_member *m)
{
	member_fixture_fill(m);
	m->version = 42;
	m->unlocked = 1764000070;
	m->recovery_count = TWOFA_MEMBER_RECOVERY_MAX;
	for (unsigned i = 0; i < TWOFA_MEMBER_RECOVERY_MAX; i++)
		member_fixture_code_hash(m->recovery[i], i + 1);
	member_fixture_code_hash(m->bypass, 100);
	m->bypass_uses = 3;
	m->bypass_expires = 1764086400;
	strcpy(m->bypass_issuer, "root admin");
	member_fixture_code_hash(m->invite, 200);
	m->invite_expires = 1764172800;
	strcpy(m->rate_limit_id, "rl_0f3a-Member");
	strcpy(m->totp_entity, "e-7d1c9a0b2e4f");
	strcpy(m->totp_factor, "YF0123456789abcdef0123456789abcdef");
}

bool member_fixture_same(const twofa_member *a, const twofa_member *b)
{
	bool same = strcmp(a->user, b->user) == 0 &&
		    (a->email == NULL ? b->email == NULL
				      : b->email != NULL && strcmp(a->email, b->email) == 0) &&
		    strcmp(a->phone, b->phone) == 0 && strcmp(a->country, b->country) == 0 &&
		    a->channel == b->channel &&
		    (a->password_hash == NULL
			     ? b->password_hash == NULL
			     : b->password_hash != NULL && strcmp(a->password_hash, b->password_hash) == 0) &&
		    a->status == b->status && a->created == b->created && a->updated == b->updated &&
		    a->verified == b->verified && a->version == b->version && a->unlocked == b->unlocked &&
		    a->recovery_count == b->recovery_count && strcmp(a->bypass, b->bypass) == 0 &&
		    a->bypass_uses == b->bypass_uses && a->bypass_expires == b->bypass_expires &&
		    strcmp(a->bypass_issuer, b->bypass_issuer) == 0 && strcmp(a->invite, b->invite) == 0 &&
		    a->invite_expires == b->invite_expires &&
		    strcmp(a->rate_limit_id, b->rate_limit_id) == 0 &&
		    strcmp(a->totp_entity, b->totp_entity) == 0 &&
		    strcmp(a->totp_factor, b->totp_factor) == 0;

	for (size_t i = 0; same && i < a->recovery_count; i++)
		same = strcmp(a->recovery[i], b->recovery[i]) == 0;
	return same;
}
