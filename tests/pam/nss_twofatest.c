/* SPDX-License-Identifier: GPL-3.0-or-later */
/* libnss_twofatest.so.2: a test-only NSS passwd module that accepts aliases
 * the way sssd and winbind do, so the tests can show twofa resolving ALICE,
 * alice@corp and CORP\alice to the account "alice". Never installed; tests
 * load it in a private mount namespace (tests/harness/nss.py) whose
 * /etc/nsswitch.conf names it ("passwd: files twofatest") and whose
 * /etc/ld.so.cache finds it.
 *
 * Its settings come from libnss_twofatest.conf in the directory it was loaded
 * from, not from the environment: twofa-server, which does the lookups, runs
 * with an empty one. Lines:
 *   users=NAMES   accounts it knows, comma-separated lower-case names
 *   mode=unavail  every lookup fails as an unreachable directory does
 *                 (NSS_STATUS_UNAVAIL, errno EIO)
 * A missing or unreadable file fails every lookup the same way. */
#include "twofa_build.h"

#include <ctype.h>
#include <dlfcn.h>
#include <errno.h>
#include <nss.h>
#include <pwd.h>
#include <stdbool.h>
#include <stdio.h>
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

/* Any object of this file: dladdr names the file it was loaded from. */
static const char anchor;

struct settings {
	char users[1024];
	bool unavail;
};

/* Reads libnss_twofatest.conf beside this object; false when it cannot. */
static bool load_settings(struct settings *out)
{
	Dl_info info;
	char path[4096], line[1100];
	const char *slash;
	FILE *f;
	bool ok = true;

	memset(out, 0, sizeof(*out));
	if (dladdr(&anchor, &info) == 0 || info.dli_fname == NULL ||
	    (slash = strrchr(info.dli_fname, '/')) == NULL)
		return false;
	if (snprintf(path, sizeof(path), "%.*s/libnss_twofatest.conf", (int)(slash - info.dli_fname),
		     info.dli_fname) >= (int)sizeof(path))
		return false;
	f = fopen(path, "re");
	if (f == NULL)
		return false;
	while (ok && fgets(line, sizeof(line), f) != NULL) {
		line[strcspn(line, "\n")] = '\0';
		if (strncmp(line, "users=", 6) == 0)
			ok = snprintf(out->users, sizeof(out->users), "%s", line + 6) < (int)sizeof(out->users);
		else if (strcmp(line, "mode=unavail") == 0)
			out->unavail = true;
		else if (line[0] != '\0' && strcmp(line, "mode=aliases") != 0)
			ok = false;
	}
	if (ferror(f))
		ok = false;
	fclose(f);
	return ok;
}

enum nss_status _nss_twofatest_getpwnam_r(const char *name, struct passwd *pw, char *buf, size_t buflen,
					  int *errnop)
{
	static const char rest[] = "x\0\0/nonexistent\0/usr/sbin/nologin";
	struct settings settings;
	char folded[256];
	size_t len;
	unsigned index;

	if (!load_settings(&settings) || settings.unavail) {
		*errnop = EIO;
		return NSS_STATUS_UNAVAIL;
	}
	len = fold(name, folded, sizeof(folded));
	index = len > 0 ? listed(settings.users, folded) : 0;
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
