/* SPDX-License-Identifier: GPL-3.0-or-later */
#include "twofa_build.h"

#include <string.h>
#include <syslog.h>

#include <security/_pam_types.h>


#include "groups.h"
#include "scope.h"

#define GROUP_NAME_MAX 256

bool twofa_user_in_scope(const char *user, const char *groups, bool *malformed)
{
	bool has_positive = false, in_positive = false;
	const char *p = groups;

	*malformed = false;
	if (groups == NULL || groups[0] == '\0')
		return true;
	while (*p != '\0') {
		char name[GROUP_NAME_MAX];
		size_t len = strcspn(p, ",");
		bool exclude = *p == '!';
		const char *start = exclude ? p + 1 : p;
		size_t name_len = exclude ? len - 1 : len;

		if (name_len == 0 || name_len >= sizeof(name)) {
			*malformed = true;
			return false;
		}
		memcpy(name, start, name_len);
		name[name_len] = '\0';
		bool member = twofa_user_in_group(user, name);
		if (exclude && member)
			return false;
		if (!exclude) {
			has_positive = true;
			in_positive = in_positive || member;
		}
		p += len;
		if (*p == ',')
			p++;
		if (*p == '\0' && p[-1] == ',') {
			*malformed = true;
			return false;
		}
	}
	return !has_positive || in_positive;
}

bool twofa_scope_decide(const char *user, const char *groups, twofa_decision *d)
{
	bool malformed = false;

	if (twofa_user_in_scope(user, groups, &malformed))
		return true;
	if (malformed)
		twofa_decide(d, PAM_SERVICE_ERR, TWOFA_RESULT_ERROR, LOG_ERR, TWOFA_MSG_NONE,
			     "groups= has an empty or overlong entry");
	else
		twofa_decide(d, PAM_IGNORE, TWOFA_RESULT_IGNORED, LOG_DEBUG, TWOFA_MSG_NONE, "not in groups=");
	return false;
}
