/* SPDX-License-Identifier: GPL-3.0-or-later */
#include "twofa_build.h"

#include <string.h>
#include <sysexits.h>

#include "error.h"
#include "tap.h"
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

static void test_strings(void)
{
	char buf[8];
	char dirty[] = "a\nb\x1b[31mc\x7f";

	ok(twofa_strlcpy(buf, "1234567", sizeof(buf)) && strcmp(buf, "1234567") == 0, "strlcpy fits");
	ok(!twofa_strlcpy(buf, "12345678", sizeof(buf)) && strcmp(buf, "1234567") == 0,
	   "strlcpy truncates and reports it");
	ok(twofa_has_control("ab\tc", 4), "tab is a control character");
	ok(!twofa_has_control("abc\xc3\xa9", 5), "UTF-8 bytes are not control characters");
	twofa_sanitize(dirty);
	ok(strcmp(dirty, "a?b?[31mc?") == 0, "sanitize replaces control characters: %s", dirty);
	ok(twofa_streq_ct("123456", "123456", 16), "streq_ct equal");
	ok(!twofa_streq_ct("123456", "123457", 16), "streq_ct last byte differs");
	ok(!twofa_streq_ct("12345", "123456", 16), "streq_ct prefix is not equal");
	ok(!twofa_streq_ct("", "1", 16), "streq_ct empty vs one");
	ok(!twofa_streq_ct("12345678901234567", "12345678901234567", 16), "streq_ct over max fails closed");
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
}

static void test_errors(void)
{
	twofa_error err;

	twofa_error_clear(&err);
	ok(twofa_fail(&err, TWOFA_ECONFIG, "line %d", 7) == TWOFA_ECONFIG && err.status == TWOFA_ECONFIG &&
	   strcmp(err.msg, "line 7") == 0, "twofa_fail records status and message");
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
	test_strings();
	test_time();
	test_errors();
	return tap_done();
}
