/* SPDX-License-Identifier: GPL-3.0-or-later */
#include "twofa_build.h"

#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "util.h"

/* explicit_bzero, not sodium_memzero: these helpers are linked into the
 * module, which links no libsodium. Neither wipe may be optimised away. */
void twofa_free_secret(char *secret)
{
	if (secret == NULL)
		return;
	explicit_bzero(secret, strlen(secret));
	free(secret);
}

void twofa_free_wiped(void *buf, size_t len)
{
	if (buf == NULL)
		return;
	explicit_bzero(buf, len);
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

/* Length of the well-formed UTF-8 sequence at s (1..4) and its code point,
 * or 0 when s starts with a byte that begins no valid sequence (a stray
 * continuation byte, an overlong form, a surrogate, beyond U+10FFFF). */
static size_t utf8_sequence(const unsigned char *s, unsigned long *cp)
{
	static const unsigned long min_cp[] = {0, 0, 0x80, 0x800, 0x10000};
	size_t len;

	if (s[0] < 0x80) {
		*cp = s[0];
		return 1;
	}
	if (s[0] >= 0xc2 && s[0] <= 0xdf)
		len = 2;
	else if (s[0] >= 0xe0 && s[0] <= 0xef)
		len = 3;
	else if (s[0] >= 0xf0 && s[0] <= 0xf4)
		len = 4;
	else
		return 0;
	*cp = s[0] & (0x7f >> len);
	for (size_t i = 1; i < len; i++) {
		if ((s[i] & 0xc0) != 0x80) /* also stops at the NUL */
			return 0;
		*cp = (*cp << 6) | (s[i] & 0x3f);
	}
	if (*cp < min_cp[len] || *cp > 0x10ffff || (*cp >= 0xd800 && *cp <= 0xdfff))
		return 0;
	return len;
}

/* Characters a log viewer or terminal may act on: C0, DEL and C1 controls,
 * the Unicode line and paragraph separators, and the bidi marks, embeddings,
 * overrides and isolates that reorder the text around them. */
static bool log_unsafe(unsigned long cp)
{
	return cp < 0x20 || (cp >= 0x7f && cp <= 0x9f) || cp == 0x061c || cp == 0x200e || cp == 0x200f ||
	       (cp >= 0x2028 && cp <= 0x202e) || (cp >= 0x2066 && cp <= 0x2069);
}

void twofa_sanitize(char *s)
{
	unsigned char *in = (unsigned char *)s, *out = (unsigned char *)s;

	while (*in != '\0') {
		unsigned long cp;
		size_t len = utf8_sequence(in, &cp);

		if (len == 0 || log_unsafe(cp)) {
			/* One '?' per bad byte or per unsafe character. */
			*out++ = '?';
			in += len == 0 ? 1 : len;
			continue;
		}
		memmove(out, in, len);
		out += len;
		in += len;
	}
	*out = '\0';
}

const char *twofa_skip_prefix(const char *s, const char *prefix)
{
	size_t len;

	if (s == NULL || prefix == NULL)
		return NULL;
	len = strlen(prefix);
	return strncmp(s, prefix, len) == 0 ? s + len : NULL;
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

bool twofa_parse_duration(const char *s, long min, long max, long *seconds)
{
	static const struct {
		char unit;
		long seconds;
	} units[] = {{'s', 1}, {'m', 60}, {'h', 3600}, {'d', 86400}};
	char number[24];
	size_t len = s != NULL ? strnlen(s, sizeof(number)) : 0;
	long unit = 1, n;

	if (len == 0 || len >= sizeof(number) || min < 0 || max < min)
		return false;
	memcpy(number, s, len + 1);
	for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++)
		if (number[len - 1] == units[i].unit) {
			unit = units[i].seconds;
			number[--len] = '\0';
			break;
		}
	/* A bound on the number first, so that n * unit cannot overflow. */
	if (len == 0 || number[0] == '-' || !twofa_parse_long(number, 0, max / unit, &n) || n * unit < min)
		return false;
	*seconds = n * unit;
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

/* Days from 1970-01-01 to the date (proleptic Gregorian; Howard Hinnant's
 * days_from_civil), for years from 1000. */
static long long days_from_civil(int year, int month, int day)
{
	int y = year - (month <= 2);
	int era = y / 400, yoe = y - era * 400;
	int doy = (153 * (month > 2 ? month - 3 : month + 9) + 2) / 5 + day - 1;
	int doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;

	return (long long)era * 146097 + doe - 719468;
}

/* Parsed by hand: strptime, timegm and the check of a round trip through
 * strftime were a fifth of decoding a member record (three times in each),
 * and it accepts the same texts: the canonical form of years 1000 to 9999
 * (strftime's %Y gives fewer digits below), a real date, no leap second. */
bool twofa_parse_time(const char *s, time_t *out)
{
	static const char form[] = "dddd-dd-ddTdd:dd:ddZ";
	static const int month_days[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
	int v[6] = {0}, field = 0, year, month, day, last;
	time_t t;

	if (s == NULL || strlen(s) != TWOFA_ISO8601_LEN - 1)
		return false;
	for (size_t i = 0; i < sizeof(form) - 1; i++) {
		if (form[i] != 'd') {
			if (s[i] != form[i])
				return false;
			field++;
		} else if (s[i] < '0' || s[i] > '9') {
			return false;
		} else {
			v[field] = v[field] * 10 + (s[i] - '0');
		}
	}
	year = v[0];
	month = v[1];
	day = v[2];
	if (year < 1000 || month < 1 || month > 12 || v[3] > 23 || v[4] > 59 || v[5] > 59)
		return false;
	last = month_days[month - 1] + (month == 2 && year % 4 == 0 && (year % 100 != 0 || year % 400 == 0));
	if (day < 1 || day > last)
		return false;
	t = (time_t)(days_from_civil(year, month, day) * 86400 + v[3] * 3600 + v[4] * 60 + v[5]);
	/* timegm's error value, which the old parser refused too. */
	if (t == (time_t)-1)
		return false;
	*out = t;
	return true;
}
