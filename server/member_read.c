/* SPDX-License-Identifier: GPL-3.0-or-later */
#include "twofa_build.h"

#include <string.h>
#include <syslog.h>
#include <time.h>

#include "member_read.h"
#include "util.h"

/* "ldap: no directory server answered: A (why), B (why)" -> "A (why), B (why)". */
static const char *servers_tried(const char *why)
{
	static const char *const prefixes[] = {"ldap: no directory server answered: ", "ldap: "};
	size_t i;

	for (i = 0; i < sizeof(prefixes) / sizeof(prefixes[0]); i++)
		if (strncmp(why, prefixes[i], strlen(prefixes[i])) == 0)
			return why + strlen(prefixes[i]);
	return why;
}

twofa_status twofa_read_member(const twofa_audit *audit, twofa_member_store *members, const char *user,
			       twofa_member *m, twofa_error *err)
{
	twofa_status st = twofa_member_store_load(members, user, m, err);
	const twofa_member_load_source *src = twofa_member_store_last_load(members);
	char shown[TWOFA_ERROR_MSG_MAX];
	time_t now = time(NULL);

	if (src->cache_trouble[0] != '\0') {
		(void)twofa_strlcpy(shown, src->cache_trouble, sizeof(shown));
		twofa_sanitize(shown);
		twofa_host_syslog(audit->host, LOG_WARNING, "%s (user=%s; the login goes on)", shown,
				  audit->user);
	}
	if (st == TWOFA_OK && src->from_cache) {
		(void)twofa_strlcpy(shown, servers_tried(src->directory), sizeof(shown));
		twofa_sanitize(shown);
		/* Offline: no server was tried this time, and the line says why. */
		twofa_host_syslog(audit->host, LOG_WARNING,
				  "directory unreachable (%s%s); using this host's cached record of %s read %lld s ago",
				  src->offline ? "" : "servers tried: ", shown, audit->user,
				  (long long)(now > src->read_at ? now - src->read_at : 0));
	}
	return st;
}

int twofa_read_member_failed(twofa_status st, int otherwise)
{
	return st == TWOFA_EUNAVAIL ? PAM_AUTHINFO_UNAVAIL : otherwise;
}
