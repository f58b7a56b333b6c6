/* SPDX-License-Identifier: GPL-3.0-or-later */
/* The member search filter: the login name escaped per RFC 4515 into
 * ldap_filter's template, ANDed with (objectClass=twofaMember), so that no
 * name (`*`, `x)(uid=*`, a NUL) can widen the search or end it early. */
#include "twofa_build.h"

#include <stdlib.h>
#include <string.h>

#include "ldap_conn.h"
#include "member.h"

#define MEMBER_CLASS "(objectClass=twofaMember)"
/* A login name escapes to at most three bytes a byte; names are bounded
 * (lib/username), this is the bound of what the filter accepts. */
#define FILTER_NAME_MAX TWOFA_USER_NAME_MAX

bool twofa_ldap_escape_filter_value(const char *value, size_t len, char *out, size_t out_size)
{
	static const char hex[] = "0123456789abcdef";
	size_t used = 0;

	if (out == NULL || out_size == 0)
		return false;
	out[0] = '\0';
	if (value == NULL && len > 0)
		return false;
	for (size_t i = 0; i < len; i++) {
		unsigned char ch = (unsigned char)value[i];
		/* RFC 4515 requires '*', '(', ')', '\' and NUL; the rest of the
		 * controls and every non-ASCII byte are escaped too, so the filter
		 * is plain ASCII whatever the name's encoding. */
		bool escape = ch == '*' || ch == '(' || ch == ')' || ch == '\\' || ch < 0x20 || ch >= 0x7f;
		size_t need = escape ? 3 : 1;

		if (used + need >= out_size) {
			out[0] = '\0';
			return false;
		}
		if (escape) {
			out[used++] = '\\';
			out[used++] = hex[ch >> 4];
			out[used++] = hex[ch & 0x0f];
		} else {
			out[used++] = (char)ch;
		}
	}
	out[used] = '\0';
	return true;
}

twofa_status twofa_ldap_member_filter(const twofa_config *cfg, const char *user, char **filter,
				      twofa_error *err)
{
	char escaped[3 * FILTER_NAME_MAX + 1];
	const char *tmpl;
	size_t users = 0, total, len;
	char *out, *p;

	if (filter != NULL)
		*filter = NULL;
	if (cfg == NULL || user == NULL || filter == NULL || cfg->ldap_filter == NULL)
		return twofa_fail(err, TWOFA_EINVAL, "ldap: invalid call to member_filter");
	tmpl = cfg->ldap_filter;
	len = strnlen(user, FILTER_NAME_MAX + 1);
	if (len == 0 || len > FILTER_NAME_MAX ||
	    !twofa_ldap_escape_filter_value(user, len, escaped, sizeof(escaped)))
		return twofa_fail(err, TWOFA_EINVAL, "ldap: the login name does not fit a search filter");
	for (const char *t = strstr(tmpl, "%u"); t != NULL; t = strstr(t + 2, "%u"))
		users++;
	/* "(&" MEMBER_CLASS template ")", each %u (2 bytes) replaced. */
	total = 2 + strlen(MEMBER_CLASS) + strlen(tmpl) - 2 * users + users * strlen(escaped) + 1 + 1;
	out = malloc(total);
	if (out == NULL)
		return twofa_fail(err, TWOFA_ENOMEM, "ldap: out of memory");
	p = out;
	memcpy(p, "(&" MEMBER_CLASS, 2 + strlen(MEMBER_CLASS));
	p += 2 + strlen(MEMBER_CLASS);
	for (const char *t = tmpl; *t != '\0';) {
		if (t[0] == '%' && t[1] == 'u') {
			memcpy(p, escaped, strlen(escaped));
			p += strlen(escaped);
			t += 2;
		} else {
			*p++ = *t++;
		}
	}
	*p++ = ')';
	*p = '\0';
	*filter = out;
	return TWOFA_OK;
}
