/* SPDX-License-Identifier: GPL-3.0-or-later */
/* lib/identifiers: the one E.164 rule and the one Twilio SID rule. */
#include "twofa_build.h"

#include <string.h>

#include "identifiers.h"
#include "tap.h"

static void test_e164(void)
{
	static const char *const good[] = {"+442079460958", "+12015550123", "+6837012",
					   "+2908999",      "+431110",      "+123456789012345"};
	static const char *const bad[] = {"",
					  "+",
					  "442079460958",
					  "+0442079460958",
					  "+12345",
					  "+1234567890123456",
					  "+44 2079460958",
					  "+44-2079460958",
					  "+44207946095a",
					  "++442079460958",
					  "+442079460958\n",
					  " +442079460958"};
	char at_min[TWOFA_E164_SIZE], at_max[TWOFA_E164_SIZE];

	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++)
		ok(twofa_e164_valid(good[i]), "E.164 %s", good[i]);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		ok(!twofa_e164_valid(bad[i]), "not E.164 '%s'", bad[i]);
	ok(!twofa_e164_valid(NULL), "not E.164: NULL");

	/* The bounds are the constants, and the longest fits TWOFA_E164_SIZE. */
	memset(at_min, '5', sizeof(at_min));
	at_min[0] = '+';
	at_min[1 + TWOFA_E164_MIN_DIGITS] = '\0';
	ok(twofa_e164_valid(at_min), "%d digits are E.164", TWOFA_E164_MIN_DIGITS);
	at_min[TWOFA_E164_MIN_DIGITS] = '\0';
	ok(!twofa_e164_valid(at_min), "%d digits are not", TWOFA_E164_MIN_DIGITS - 1);
	memset(at_max, '5', sizeof(at_max));
	at_max[0] = '+';
	at_max[sizeof(at_max) - 1] = '\0';
	ok(strlen(at_max) == 1 + TWOFA_E164_MAX_DIGITS && twofa_e164_valid(at_max),
	   "%d digits are E.164 and fill TWOFA_E164_SIZE", TWOFA_E164_MAX_DIGITS);
}

static void test_sid(void)
{
	static const char hex32[] = "0123456789abcdefABCDEF0123456789";

	ok(strlen(hex32) == 32, "32 hex digits");
	{
		char sid[TWOFA_SID_LEN + 2];

		memcpy(sid, "AC", 2);
		memcpy(sid + 2, hex32, 33);
		ok(twofa_sid_valid(sid, "AC"), "AC + 32 hex is an account SID");
		ok(!twofa_sid_valid(sid, "SK"), "... but not an API key SID");
		ok(!twofa_sid_valid(sid, "ac"), "the prefix is exact");
		ok(!twofa_sid_valid(sid, "A"), "a one-letter prefix matches nothing");
		ok(!twofa_sid_valid(sid, NULL), "a NULL prefix matches nothing");
		sid[20] = 'g';
		ok(!twofa_sid_valid(sid, "AC"), "a non-hex digit");
		sid[20] = '0';
		sid[TWOFA_SID_LEN - 1] = '\0';
		ok(!twofa_sid_valid(sid, "AC"), "31 hex digits");
		memcpy(sid + 2, hex32, 32);
		sid[TWOFA_SID_LEN] = '0';
		sid[TWOFA_SID_LEN + 1] = '\0';
		ok(!twofa_sid_valid(sid, "AC"), "33 hex digits");
		memcpy(sid, "VA", 2);
		sid[TWOFA_SID_LEN] = '\0';
		ok(twofa_sid_valid(sid, "VA"), "a Verify service SID");
		memcpy(sid, "VE", 2);
		ok(twofa_sid_valid(sid, "VE"), "a verification SID");
		sid[TWOFA_SID_LEN - 1] = '\n';
		ok(!twofa_sid_valid(sid, "VE"), "a newline in place of the last digit");
	}
	ok(!twofa_sid_valid(NULL, "AC"), "NULL is no SID");
	ok(!twofa_sid_valid("", "AC"), "empty is no SID");
}

static void test_twilio_name(void)
{
	char longest[TWOFA_TWILIO_NAME_MAX + 2];

	ok(twofa_twilio_name_valid("twofa_member"), "twofa_member is a name");
	ok(twofa_twilio_name_valid("a.B-9_z"), "letters, digits, '.', '-' and '_'");
	ok(!twofa_twilio_name_valid(""), "empty is not");
	ok(!twofa_twilio_name_valid(NULL), "NULL is not");
	ok(!twofa_twilio_name_valid("a b"), "a space is not (it would need escaping)");
	ok(!twofa_twilio_name_valid("a\"b") && !twofa_twilio_name_valid("a\\b"),
	   "a quote or backslash is not (the JSON of RateLimits is not escaped)");
	ok(!twofa_twilio_name_valid("caf\xc3\xa9"), "non-ASCII is not");
	memset(longest, 'x', TWOFA_TWILIO_NAME_MAX);
	longest[TWOFA_TWILIO_NAME_MAX] = '\0';
	ok(twofa_twilio_name_valid(longest), "64 characters are a name");
	longest[TWOFA_TWILIO_NAME_MAX] = 'x';
	longest[TWOFA_TWILIO_NAME_MAX + 1] = '\0';
	ok(!twofa_twilio_name_valid(longest), "65 are not");
}

int main(void)
{
	test_e164();
	test_sid();
	test_twilio_name();
	return tap_done();
}
