/* SPDX-License-Identifier: GPL-3.0-or-later */
#include "twofa_build.h"

#include <string.h>

#include "onetime_code.h"
#include "recovery.h"
#include "util.h"

bool twofa_recovery_available(const twofa_member *m, time_t now)
{
	return m->recovery_count > 0 || twofa_member_bypass_active(m, now);
}

twofa_recovery_outcome twofa_recovery_try(twofa_member_store *members, const twofa_member *m,
					  const char *input, time_t now, twofa_recovery_use *use)
{
	size_t recovery_at = 0, bypass_at = 0;
	bool bypass_active = twofa_member_bypass_active(m, now);
	twofa_status recovery, bypass = TWOFA_ENOTFOUND, st;
	const char *hash;
	twofa_error err;

	memset(use, 0, sizeof(*use));
	twofa_error_clear(&err);
	/* Both kinds are checked, each against all of its hashes: the time
	 * does not say which one matched. A bypass code past its expiry or
	 * without a use left is not checked at all: it lets nobody in. */
	recovery = twofa_onetime_verify(m->user, TWOFA_MEMBER_CODE_RECOVERY, input, m->recovery,
					m->recovery_count, &recovery_at, &err);
	if (bypass_active)
		bypass = twofa_onetime_verify(m->user, TWOFA_MEMBER_CODE_BYPASS, input, &m->bypass, 1,
					      &bypass_at, &err);
	if (recovery == TWOFA_OK) {
		use->kind = TWOFA_MEMBER_CODE_RECOVERY;
		hash = m->recovery[recovery_at];
	} else if (bypass == TWOFA_OK) {
		use->kind = TWOFA_MEMBER_CODE_BYPASS;
		hash = m->bypass;
	} else {
		return TWOFA_RECOVERY_WRONG;
	}
	twofa_error_clear(&err);
	st = twofa_member_store_consume(members, m->user, use->kind, hash, &err);
	use->status = st;
	if (st != TWOFA_OK) {
		(void)twofa_strlcpy(use->why, err.msg, sizeof(use->why));
		return st == TWOFA_ECONFLICT ? TWOFA_RECOVERY_TAKEN : TWOFA_RECOVERY_UNAVAILABLE;
	}
	if (use->kind == TWOFA_MEMBER_CODE_RECOVERY) {
		use->left = (long)m->recovery_count - 1;
	} else {
		use->left = m->bypass_uses - 1;
		(void)twofa_strlcpy(use->issuer, m->bypass_issuer, sizeof(use->issuer));
	}
	return TWOFA_RECOVERY_USED;
}
