/* SPDX-License-Identifier: GPL-3.0-or-later */
#include "twofa_build.h"

#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "util.h"

void twofa_free_secret(char *secret)
{
	if (secret == NULL)
		return;
	sodium_memzero(secret, strlen(secret));
	free(secret);
}

void twofa_free_wiped(void *buf, size_t len)
{
	if (buf == NULL)
		return;
	sodium_memzero(buf, len);
	free(buf);
}

char *twofa_strdup(const char *s)
{
	return s == NULL ? NULL : strdup(s);
}

bool twofa_strlcpy(char *dst, const char *src, size_t size)
{
	size_t len = strlen(src);

	if (len < size) {
		memcpy(dst, src, len + 1);
		return true;
	}
	memcpy(dst, src, size - 1);
	dst[size - 1] = '\0';
	return false;
}

bool twofa_has_control(const char *s, size_t len)
{
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c < 0x20 || c == 0x7f)
			return true;
	}
	return false;
}

void twofa_sanitize(char *s)
{
	for (; *s != '\0'; s++) {
		unsigned char c = (unsigned char)*s;
		if (c < 0x20 || c == 0x7f)
			*s = '?';
	}
}

bool twofa_parse_long(const char *s, long min, long max, long *out)
{
	char *end = NULL;
	long v;

	if (s == NULL || *s == '\0')
		return false;
	/* strtol accepts leading blanks and signs; a config value must not. */
	if (*s == '-' ? !(s[1] >= '0' && s[1] <= '9') : !(*s >= '0' && *s <= '9'))
		return false;
	errno = 0;
	v = strtol(s, &end, 10);
	if (errno != 0 || end == s || *end != '\0')
		return false;
	if (v < min || v > max)
		return false;
	*out = v;
	return true;
}

bool twofa_streq_ct(const char *a, const char *b, size_t max)
{
	size_t la = strnlen(a, max + 1), lb = strnlen(b, max + 1);
	unsigned char diff = 0;

	if (la > max || lb > max)
		return false;
	/* Compare over the longer length so the time does not depend on where
	 * the strings differ; the lengths themselves are not secret here. */
	for (size_t i = 0; i < max; i++) {
		unsigned char ca = i < la ? (unsigned char)a[i] : 0;
		unsigned char cb = i < lb ? (unsigned char)b[i] : 0;
		diff |= (unsigned char)(ca ^ cb);
	}
	return diff == 0 && la == lb;
}

bool twofa_format_time(time_t t, char buf[TWOFA_ISO8601_LEN])
{
	struct tm tm;

	if (gmtime_r(&t, &tm) == NULL)
		return false;
	return strftime(buf, TWOFA_ISO8601_LEN, "%Y-%m-%dT%H:%M:%SZ", &tm) == TWOFA_ISO8601_LEN - 1;
}

bool twofa_parse_time(const char *s, time_t *out)
{
	struct tm tm;
	const char *end;
	time_t t;

	if (s == NULL || strlen(s) != TWOFA_ISO8601_LEN - 1)
		return false;
	memset(&tm, 0, sizeof(tm));
	end = strptime(s, "%Y-%m-%dT%H:%M:%SZ", &tm);
	if (end == NULL || *end != '\0')
		return false;
	t = timegm(&tm);
	if (t == (time_t)-1)
		return false;
	/* Reject dates strptime normalised (Feb 30 and the like). */
	{
		char again[TWOFA_ISO8601_LEN];
		if (!twofa_format_time(t, again) || strcmp(again, s) != 0)
			return false;
	}
	*out = t;
	return true;
}
