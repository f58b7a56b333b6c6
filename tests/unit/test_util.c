/* SPDX-License-Identifier: GPL-3.0-or-later */
#include "twofa_build.h"

#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>

#include "error.h"
#include "tap.h"
#include "username.h"
#include "util.h"

static void test_parse_long(void)
{
	long v = -1;

	ok(twofa_parse_long("10", 1, 120, &v) && v == 10, "parse_long accepts 10 in 1..120");
	ok(!twofa_parse_long("0", 1, 120, &v), "parse_long rejects below range");
	ok(!twofa_parse_long("121", 1, 120, &v), "parse_long rejects above range");
	ok(!twofa_parse_long(" 5", 1, 120, &v), "parse_long rejects leading blank");
	ok(!twofa_parse_long("+5", 1, 120, &v), "parse_long rejects explicit plus");
	ok(!twofa_parse_long("5s", 1, 120, &v), "parse_long rejects trailing junk");
	ok(!twofa_parse_long("", 0, 1, &v), "parse_long rejects empty");
	ok(!twofa_parse_long("99999999999999999999", 0, 1, &v), "parse_long rejects overflow");
	ok(twofa_parse_long("-3", -5, 5, &v) && v == -3, "parse_long accepts negative in range");
	ok(!twofa_parse_long("-", -5, 5, &v), "parse_long rejects lone minus");
}

static void test_parse_duration(void)
{
	long v = -1;

	ok(twofa_parse_duration("3600", 60, 2592000, &v) && v == 3600, "duration: plain seconds");
	ok(twofa_parse_duration("90s", 60, 2592000, &v) && v == 90, "duration: 90s");
	ok(twofa_parse_duration("30m", 60, 2592000, &v) && v == 1800, "duration: 30m");
	ok(twofa_parse_duration("1h", 60, 2592000, &v) && v == 3600, "duration: 1h");
	ok(twofa_parse_duration("30d", 60, 2592000, &v) && v == 2592000, "duration: 30d, the bound itself");
	ok(twofa_parse_duration("1m", 60, 2592000, &v) && v == 60, "duration: 1m, the lower bound");
	ok(!twofa_parse_duration("59s", 60, 2592000, &v), "duration: below the lower bound");
	ok(!twofa_parse_duration("2592001", 60, 2592000, &v), "duration: above the bound");
	ok(!twofa_parse_duration("31d", 60, 2592000, &v) && !twofa_parse_duration("721h", 60, 2592000, &v),
	   "duration: above the bound in days and hours");
	ok(!twofa_parse_duration("99999999999999999d", 0, LONG_MAX, &v), "duration: no overflow in n * unit");
	ok(!twofa_parse_duration("", 0, 100, &v) && !twofa_parse_duration(NULL, 0, 100, &v) &&
		   !twofa_parse_duration("h", 0, 100, &v),
	   "duration: empty, NULL and a unit alone");
	ok(!twofa_parse_duration("-1h", 0, 86400, &v) && !twofa_parse_duration("+1h", 0, 86400, &v) &&
		   !twofa_parse_duration(" 1h", 0, 86400, &v) && !twofa_parse_duration("1h ", 0, 86400, &v),
	   "duration: no sign or blank");
	ok(!twofa_parse_duration("1.5h", 0, 86400, &v) && !twofa_parse_duration("1h30m", 0, 86400, &v) &&
		   !twofa_parse_duration("1H", 0, 86400, &v) && !twofa_parse_duration("1w", 0, 9999999, &v) &&
		   !twofa_parse_duration("1hh", 0, 86400, &v),
	   "duration: no fraction, second unit, capital or other unit");
	ok(!twofa_parse_duration("1111111111111111111111111h", 0, LONG_MAX, &v), "duration: overlong input");
	ok(v == 60, "duration: a refused one leaves the result alone");
}

/* One case of twofa_sanitize: in and the expected result. */
static void sanitized(const char *in, const char *want, const char *what)
{
	char buf[64];

	(void)twofa_strlcpy(buf, in, sizeof(buf));
	twofa_sanitize(buf);
	ok(strcmp(buf, want) == 0, "sanitize %s: got \"%s\"", what, buf);
}

static void test_sanitize_unicode(void)
{
	sanitized("user=eve\xc2\x85result=success", "user=eve?result=success", "C1 NEL (U+0085)");
	sanitized("a\xc2\x80"
		  "b\xc2\x9f"
		  "c",
		  "a?b?c", "C1 first and last (U+0080, U+009F)");
	sanitized("a\xc2\x9b"
		  "31mb",
		  "a?31mb", "C1 CSI (U+009B)");
	sanitized("a\xe2\x80\xa8"
		  "b\xe2\x80\xa9"
		  "c",
		  "a?b?c", "line and paragraph separators");
	sanitized("x\xe2\x80\xaa\xe2\x80\xab\xe2\x80\xac\xe2\x80\xad\xe2\x80\xaey", "x?????y",
		  "bidi embeddings and overrides (U+202A..U+202E)");
	sanitized("x\xe2\x81\xa6\xe2\x81\xa7\xe2\x81\xa8\xe2\x81\xa9y", "x????y",
		  "bidi isolates (U+2066..U+2069)");
	sanitized("x\xe2\x80\x8e\xe2\x80\x8f\xd8\x9cy", "x???y", "bidi marks (U+200E, U+200F, U+061C)");
	sanitized("caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x94\x91 \xe2\x80\xa7 \xe2\x81\xaa",
		  "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x94\x91 \xe2\x80\xa7 \xe2\x81\xaa",
		  "other UTF-8 (\xc3\xa9, euro, emoji, U+2027, U+206A) is kept");
	sanitized("a\xff"
		  "b\xfe",
		  "a?b?", "bytes that are never UTF-8");
	sanitized("a\x80\xbf"
		  "b",
		  "a??b", "stray continuation bytes");
	sanitized("a\xc0\xaf"
		  "b\xe0\x80\xaf"
		  "c",
		  "a??b???c", "overlong forms");
	sanitized("a\xed\xa0\x80"
		  "b",
		  "a???b", "a UTF-16 surrogate");
	sanitized("a\xf4\x90\x80\x80"
		  "b",
		  "a????b", "beyond U+10FFFF");
	sanitized("ab\xe2\x80", "ab??", "a sequence cut short by the end");
	sanitized("a\xc3"
		  "b",
		  "a?b", "a sequence cut short by ASCII");
	sanitized("", "", "the empty string");
}

static void test_strings(void)
{
	const char *rest;
	char buf[8];
	char dirty[] = "a\nb\x1b[31mc\x7f";

	ok(twofa_strlcpy(buf, "1234567", sizeof(buf)) && strcmp(buf, "1234567") == 0, "strlcpy fits");
	ok(!twofa_strlcpy(buf, "12345678", sizeof(buf)) && strcmp(buf, "1234567") == 0,
	   "strlcpy truncates and reports it");
	ok(twofa_has_control("ab\tc", 4), "tab is a control character");
	ok(!twofa_has_control("abc\xc3\xa9", 5), "UTF-8 bytes are not control characters");
	twofa_sanitize(dirty);
	ok(strcmp(dirty, "a?b?[31mc?") == 0, "sanitize replaces control characters: %s", dirty);
	test_sanitize_unicode();
	ok(twofa_streq_ct("123456", "123456", 16), "streq_ct equal");
	ok(!twofa_streq_ct("123456", "123457", 16), "streq_ct last byte differs");
	ok(!twofa_streq_ct("12345", "123456", 16), "streq_ct prefix is not equal");
	ok(!twofa_streq_ct("", "1", 16), "streq_ct empty vs one");
	ok(!twofa_streq_ct("12345678901234567", "12345678901234567", 16), "streq_ct over max fails closed");
	rest = twofa_skip_prefix("groups=wheel", "groups=");
	ok(rest != NULL && strcmp(rest, "wheel") == 0, "skip_prefix gives the rest");
	rest = twofa_skip_prefix("groups=", "groups=");
	ok(rest != NULL && rest[0] == '\0', "skip_prefix: an empty rest");
	ok(twofa_skip_prefix("groups", "groups=") == NULL, "skip_prefix: the string is shorter");
	ok(twofa_skip_prefix("Groups=x", "groups=") == NULL, "skip_prefix: case counts");
	ok(twofa_skip_prefix(NULL, "x") == NULL && twofa_skip_prefix("x", NULL) == NULL, "skip_prefix: NULL");
}

static void test_canonical_user(void)
{
	char *name = NULL;
	bool known = true;
	twofa_error err;

	ok(twofa_canonical_user("root", &name, &known, &err) == TWOFA_OK && known && strcmp(name, "root") == 0,
	   "canonical_user: root is known as root");
	free(name);
	ok(twofa_canonical_user("twofa-no-such-user", &name, &known, &err) == TWOFA_OK && !known &&
		   strcmp(name, "twofa-no-such-user") == 0,
	   "canonical_user: an unknown name comes back as typed");
	free(name);
	ok(twofa_canonical_user(NULL, &name, &known, &err) == TWOFA_EINVAL && name == NULL,
	   "canonical_user: no name is an error");
}

static void test_time(void)
{
	char buf[TWOFA_ISO8601_LEN];
	time_t t = 0;

	ok(twofa_format_time(1764093139, buf) && strcmp(buf, "2025-11-25T17:52:19Z") == 0,
	   "format_time gives ISO 8601 UTC: %s", buf);
	ok(twofa_parse_time("2025-11-25T17:52:19Z", &t) && t == 1764093139, "parse_time round trip");
	ok(!twofa_parse_time("2025-02-30T00:00:00Z", &t), "parse_time rejects Feb 30");
	ok(!twofa_parse_time("2025-11-25 17:52:19Z", &t), "parse_time rejects a space");
	ok(!twofa_parse_time("2025-11-25T17:52:19", &t), "parse_time requires Z");
	ok(!twofa_parse_time(NULL, &t), "parse_time rejects NULL");
	/* The hand-written parser takes what strptime, timegm and the round trip took. */
	ok(twofa_parse_time("2000-02-29T00:00:00Z", &t) && t == 951782400, "parse_time: Feb 29, 2000");
	ok(twofa_parse_time("2024-02-29T23:59:59Z", &t) && t == 1709251199, "parse_time: Feb 29, 2024");
	ok(!twofa_parse_time("1900-02-29T00:00:00Z", &t) && !twofa_parse_time("2023-02-29T00:00:00Z", &t),
	   "parse_time rejects Feb 29 of 1900 and 2023");
	ok(!twofa_parse_time("2025-04-31T00:00:00Z", &t) && !twofa_parse_time("2025-13-01T00:00:00Z", &t) &&
		   !twofa_parse_time("2025-00-01T00:00:00Z", &t) &&
		   !twofa_parse_time("2025-01-00T00:00:00Z", &t),
	   "parse_time rejects April 31, month 13 and 0, day 0");
	ok(!twofa_parse_time("2025-01-01T24:00:00Z", &t) && !twofa_parse_time("2025-01-01T00:60:00Z", &t) &&
		   !twofa_parse_time("2016-12-31T23:59:60Z", &t),
	   "parse_time rejects hour 24, minute 60 and a leap second");
	ok(twofa_parse_time("1000-01-01T00:00:00Z", &t) && t == -30610224000LL &&
		   twofa_parse_time("9999-12-31T23:59:59Z", &t) && t == 253402300799LL &&
		   !twofa_parse_time("0999-12-31T23:59:59Z", &t),
	   "parse_time: years 1000 to 9999, as strftime's %%Y writes them");
	ok(!twofa_parse_time("2025-11-25T17:52:1xZ", &t) && !twofa_parse_time("+025-11-25T17:52:19Z", &t) &&
		   !twofa_parse_time("2025-11-25T17:52:19Z ", &t),
	   "parse_time rejects a letter, a sign and a trailing space");
}

static void test_errors(void)
{
	twofa_error err;

	twofa_error_clear(&err);
	ok(twofa_fail(&err, TWOFA_ECONFIG, "line %d", 7) == TWOFA_ECONFIG && err.status == TWOFA_ECONFIG &&
		   strcmp(err.msg, "line 7") == 0,
	   "twofa_fail records status and message");
	ok(twofa_fail(NULL, TWOFA_EINVAL, "x") == TWOFA_EINVAL, "twofa_fail accepts NULL");
	ok(twofa_status_exit_code(TWOFA_EINVAL) == EX_DATAERR, "invalid data exits 65");
	ok(twofa_status_exit_code(TWOFA_EUNAVAIL) == EX_UNAVAILABLE, "unavailable exits 69");
	ok(twofa_status_exit_code(TWOFA_ESTORE) == EX_CANTCREAT, "store exits 73");
	ok(twofa_status_exit_code(TWOFA_EPERM) == EX_NOPERM, "permission exits 77");
	ok(twofa_status_exit_code(TWOFA_ECONFIG) == EX_CONFIG, "config exits 78");
	ok(strcmp(twofa_status_name(TWOFA_EBUSY), "busy") == 0, "status names are stable");
}

int main(void)
{
	test_parse_long();
	test_parse_duration();
	test_strings();
	test_canonical_user();
	test_time();
	test_errors();
	return tap_done();
}
