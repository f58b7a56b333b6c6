/* SPDX-License-Identifier: GPL-3.0-or-later */
/* libnss_twofatest.so.2: a test-only NSS passwd module that accepts aliases
 * the way sssd and winbind do, so the tests can show pam_twofa resolving
 * ALICE, alice@corp and CORP\alice to the account "alice". Never installed;
 * tests load it in a private mount namespace whose /etc/nsswitch.conf names
 * it ("passwd: files twofatest") and with LD_LIBRARY_PATH pointing at it.
 *
 * Environment:
 *   TWOFA_NSS_USERS  accounts it knows, comma-separated lower-case names
 *   TWOFA_NSS_MODE   "unavail": every lookup fails as an unreachable
 *                    directory does (NSS_STATUS_UNAVAIL, errno EIO) */
#include "twofa_build.h"

#include <ctype.h>
#include <errno.h>
#include <nss.h>
#include <pwd.h>
#include <stdlib.h>
#include <string.h>

enum nss_status _nss_twofatest_getpwnam_r(const char *name, struct passwd *pw, char *buf, size_t buflen,
					  int *errnop);

/* "CORP\Alice@corp.example" -> "alice": no domain, ASCII lower case. */
static size_t fold(const char *name, char *out, size_t size)
{
	const char *start = strrchr(name, '\\');
	size_t len = 0;

	start = start != NULL ? start + 1 : name;
	for (const char *p = start; *p != '\0' && *p != '@'; p++) {
		if (len + 1 >= size)
			return 0;
		out[len++] = (char)tolower((unsigned char)*p);
	}
	out[len] = '\0';
	return len;
}

/* The 1-based position of name in the comma-separated list, or 0. */
static unsigned listed(const char *list, const char *name)
{
	size_t len = strlen(name);
	unsigned index = 1;

	for (const char *p = list; *p != '\0'; index++) {
		size_t n = strcspn(p, ",");
		if (n == len && strncmp(p, name, len) == 0)
			return index;
		p += n;
		if (*p == ',')
			p++;
	}
	return 0;
}

enum nss_status _nss_twofatest_getpwnam_r(const char *name, struct passwd *pw, char *buf, size_t buflen,
					  int *errnop)
{
	const char *mode = getenv("TWOFA_NSS_MODE"), *users = getenv("TWOFA_NSS_USERS");
	static const char rest[] = "x\0\0/nonexistent\0/usr/sbin/nologin";
	char folded[256];
	size_t len;
	unsigned index;

	if (mode != NULL && strcmp(mode, "unavail") == 0) {
		*errnop = EIO;
		return NSS_STATUS_UNAVAIL;
	}
	len = fold(name, folded, sizeof(folded));
	index = len > 0 && users != NULL ? listed(users, folded) : 0;
	if (index == 0) {
		*errnop = ENOENT;
		return NSS_STATUS_NOTFOUND;
	}
	if (buflen < len + 1 + sizeof(rest)) {
		*errnop = ERANGE;
		return NSS_STATUS_TRYAGAIN;
	}
	memcpy(buf, folded, len + 1);
	memcpy(buf + len + 1, rest, sizeof(rest));
	pw->pw_name = buf;
	pw->pw_passwd = buf + len + 1;
	pw->pw_gecos = pw->pw_passwd + 2;
	pw->pw_dir = pw->pw_gecos + 1;
	pw->pw_shell = pw->pw_dir + strlen(pw->pw_dir) + 1;
	pw->pw_uid = pw->pw_gid = 40000 + index;
	return NSS_STATUS_SUCCESS;
}
