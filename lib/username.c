/* SPDX-License-Identifier: GPL-3.0-or-later */
#include "twofa_build.h"

#include <errno.h>
#include <pwd.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "member.h"
#include "username.h"

/* getpwnam_r's buffer starts at the system's hint and doubles on ERANGE up
 * to this: no real passwd entry is near it, a broken NSS module cannot make
 * the module allocate without bound. */
#define PASSWD_BUFFER_MAX (1024 * 1024)

/* What getpwnam_r(3) lists as "the given name was not found", besides 0
 * with a NULL result: some NSS modules pass these back. */
static bool means_not_found(int rc)
{
	return rc == ENOENT || rc == ESRCH || rc == EBADF || rc == EPERM;
}

twofa_status twofa_canonical_user(const char *typed, char **canonical, bool *known, twofa_error *err)
{
	long hint = sysconf(_SC_GETPW_R_SIZE_MAX);
	size_t size = hint > 0 && hint <= PASSWD_BUFFER_MAX ? (size_t)hint : 1024;
	struct passwd pw, *found = NULL;
	char *buf = NULL;
	int rc, interrupted = 0;

	*canonical = NULL;
	*known = false;
	if (typed == NULL)
		return twofa_fail(err, TWOFA_EINVAL, "no user name");
	for (;;) {
		char *bigger = realloc(buf, size);
		if (bigger == NULL) {
			free(buf);
			return twofa_fail(err, TWOFA_ENOMEM, "user lookup: out of memory");
		}
		buf = bigger;
		rc = getpwnam_r(typed, &pw, buf, size, &found);
		if (rc == EINTR && ++interrupted < 3)
			continue;
		if (rc != ERANGE || size >= PASSWD_BUFFER_MAX)
			break;
		size *= 2;
	}
	if (found == NULL && (rc == 0 || means_not_found(rc))) {
		*canonical = strdup(typed);
	} else if (found == NULL) {
		free(buf);
		return twofa_fail(err, TWOFA_EUNAVAIL, "user database lookup failed: %s",
				  rc == ERANGE ? "entry too large" : strerror(rc));
	} else if (!twofa_user_name_valid(pw.pw_name)) {
		free(buf);
		return twofa_fail(err, TWOFA_EINVAL,
				  "the user database names this account with a name twofa cannot store");
	} else {
		*known = true;
		*canonical = strdup(pw.pw_name);
	}
	free(buf);
	if (*canonical == NULL)
		return twofa_fail(err, TWOFA_ENOMEM, "user lookup: out of memory");
	return TWOFA_OK;
}
