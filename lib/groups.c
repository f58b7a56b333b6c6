/* SPDX-License-Identifier: GPL-3.0-or-later */
#include "twofa_build.h"

#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <stdlib.h>
#include <string.h>

#include "groups.h"

/* As in lib/username.c: the buffer doubles on ERANGE up to this bound. */
#define NSS_BUFFER_MAX (1024 * 1024)

/* getgrnam_r or getpwnam_r (kind 'g' or 'p') into a growing buffer; *buf is
 * malloc'd on success. */
static bool lookup(char kind, const char *name, void *entry, char **buf)
{
	size_t size = 1024;
	void *found = NULL;
	int rc;

	*buf = NULL;
	for (;;) {
		char *bigger = realloc(*buf, size);
		if (bigger == NULL)
			break;
		*buf = bigger;
		if (kind == 'g')
			rc = getgrnam_r(name, entry, *buf, size, (struct group **)&found);
		else
			rc = getpwnam_r(name, entry, *buf, size, (struct passwd **)&found);
		if (rc == EINTR)
			continue;
		if (rc != ERANGE || size >= NSS_BUFFER_MAX)
			break;
		size *= 2;
	}
	if (found == NULL) {
		free(*buf);
		*buf = NULL;
	}
	return found != NULL;
}

bool twofa_user_in_group(const char *user, const char *group)
{
	struct passwd pw;
	struct group gr;
	char *pwbuf, *grbuf;
	bool member = false;

	if (!lookup('g', group, &gr, &grbuf))
		return false;
	if (lookup('p', user, &pw, &pwbuf)) {
		member = pw.pw_gid == gr.gr_gid;
		free(pwbuf);
	}
	for (char **m = gr.gr_mem; !member && m != NULL && *m != NULL; m++)
		member = strcmp(*m, user) == 0;
	free(grbuf);
	return member;
}
