/* SPDX-License-Identifier: GPL-3.0-or-later */
/* lib/phone: normalisation to E.164 with its reasons, the E.164 syntax check,
 * masking and the region of a number. tests/unit/phone_oracle.py compares
 * tens of thousands more inputs with libphonenumber. */
#include "twofa_build.h"

#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include "phone.h"
#include "tap.h"

/* input, country, then the E.164 result or "ERR <reason>". */
struct phone_case {
	const char *country;
	const char *input;
	const char *want;
};

static const struct phone_case cases[] = {
	/* Every way to write a British number. */
	{"GB", "0121 234 5678", "+441212345678"},
	{"GB", "01212345678", "+441212345678"},
	{"GB", "121 234 5678", "+441212345678"},
	{"GB", "+44 121 234 5678", "+441212345678"},
	{"GB", "+441212345678", "+441212345678"},
	{"GB", "0044 121 234 5678", "+441212345678"},
	{"GB", "44 121 234 5678", "+441212345678"},
	{"GB", "+44 (0)121 234 5678", "+441212345678"},
	{"GB", "(0121) 234-5678", "+441212345678"},
	{"GB", "0121.234.5678", "+441212345678"},
	{"GB", "0121/234 5678", "+441212345678"},
	{"GB", "  0121 - 234 - 5678  ", "+441212345678"},
	{"gb", "07400 123456", "+447400123456"},
	{"Gb", "+44 7400 123456", "+447400123456"},
	{"GB", "+00 44 121 234 5678", "+441212345678"}, /* libphonenumber drops the stray '+' */
	/* NANP: +1 shared, region decided by the area code. */
	{"US", "(201) 555-0123", "+12015550123"},
	{"US", "201-555-0123", "+12015550123"},
	{"US", "201.555.0123", "+12015550123"},
	{"US", "1 201 555 0123", "+12015550123"},
	{"US", "1-201-555-0123", "+12015550123"},
	{"US", "+1 201 555 0123", "+12015550123"},
	{"US", "011 1 201 555 0123", "+12015550123"},
	{"US", "00 1 201 555 0123", "+12015550123"}, /* 00 although the US prefix is 011 */
	{"US", "900 555 0123", "+19005550123"},
	{"CA", "(506) 234-5678", "+15062345678"},
	{"CA", "1 506 234 5678", "+15062345678"},
	{"JM", "876 523 0123", "+18765230123"},
	{"US", "506 234 5678", "ERR wrong-country"},
	{"US", "+1 506 234 5678", "ERR wrong-country"},
	{"CA", "201 555 0123", "ERR wrong-country"},
	{"US", "876 523 0123", "ERR wrong-country"},
	{"US", "211 555 0123", "ERR invalid"}, /* N11 is no area code */
	{"US", "555 555 0123", "ERR invalid"},
	{"US", "201 555 012", "ERR too-short"},
	{"US", "201 555 01234", "ERR too-long"},
	{"AG", "460 1234", "+12684601234"}, /* a local number: the area code is added */
	/* +7: Russia and Kazakhstan, trunk prefix 8, international 810. */
	{"RU", "8 (301) 123-45-67", "+73011234567"},
	{"RU", "8 912 345-67-89", "+79123456789"},
	{"RU", "912 345 67 89", "+79123456789"},
	{"RU", "+7 912 345 67 89", "+79123456789"},
	{"RU", "7 912 345 67 89", "+79123456789"},
	{"RU", "810 7 912 345 67 89", "+79123456789"},
	{"RU", "8 10 44 121 234 5678", "ERR wrong-country"},
	{"KZ", "8 (71234) 5 67 89", "+77123456789"},
	{"KZ", "8 771 000 9998", "+77710009998"},
	{"RU", "+7 71234 5 67 89", "ERR wrong-country"},
	{"KZ", "8 (301) 123-45-67", "ERR wrong-country"},
	/* +44 crown dependencies. */
	{"JE", "01534 456789", "+441534456789"},
	{"JE", "456789", "+441534456789"}, /* local: 01534 added */
	{"GG", "01481 256789", "+441481256789"},
	{"IM", "01624 756789", "+441624756789"},
	{"GB", "01534 456789", "ERR wrong-country"},
	{"JE", "0121 234 5678", "ERR wrong-country"},
	{"JE", "012345", "ERR too-short"}, /* Perl takes "0"; POSIX's longest match would add 1534 */
	/* +39: Italy keeps the 0; the Vatican shares the code. */
	{"IT", "02 1234 5678", "+390212345678"},
	{"IT", "+39 02 1234 5678", "+390212345678"},
	{"IT", "312 345 6789", "+393123456789"},
	{"VA", "06 6981 2345", "+390669812345"},
	{"IT", "06 6981 2345", "ERR wrong-country"},
	{"VA", "+379 06 698 12345", "ERR bad-calling-code"}, /* ITU's +379 is not in use */
	{"SM", "0549 886377", "+3780549886377"},
	{"SM", "886377", "+3780549886377"},
	/* Trunk prefixes other than 0. */
	{"HU", "06 1 234 5678", "+3612345678"},
	{"HU", "(06 1) 234 5678", "+3612345678"},
	{"HU", "06 20 123 4567", "+36201234567"},
	{"HU", "20 123 4567", "+36201234567"},
	{"MX", "044 222 123 4567", "+522221234567"},
	{"AR", "011 15-2345-6789", "+5491123456789"},
	{"AR", "011 2345-6789", "+541123456789"},
	{"AR", "+54 9 11 2345 6789", "+5491123456789"},
	/* More countries and international prefixes. */
	{"FR", "01 23 45 67 89", "+33123456789"},
	{"FR", "06 12 34 56 78", "+33612345678"},
	{"FR", "+33 6 12 34 56 78", "+33612345678"},
	{"FR", "01 23 45 67 8", "ERR too-short"},
	{"FR", "1 23 45 67 89 0", "ERR too-long"},
	{"DE", "030 123456", "+4930123456"},
	{"DE", "01512 3456789", "+4915123456789"},
	{"DE", "0301234567890123", "ERR too-long"},
	{"JP", "03-1234-5678", "+81312345678"},
	{"JP", "010 81 90 1234 5678", "+819012345678"},
	{"JP", "0081 90 1234 5678", "+819012345678"},
	{"AU", "0011 61 412 345 678", "+61412345678"},
	{"AU", "0412 345 678", "+61412345678"},
	{"CN", "010 1234 5678", "+861012345678"},
	{"IN", "081234 56789", "+918123456789"},
	{"BR", "(11) 96123-4567", "+5511961234567"},
	{"NU", "7012", "+6837012"},
	/* Valid for libphonenumber, but 16 digits: more than E.164 allows. */
	{"KR", "00798 556517347", "ERR too-long"},
	/* Other countries' numbers. */
	{"FR", "+44 121 234 5678", "ERR wrong-country"},
	{"FR", "0044 121 234 5678", "ERR wrong-country"},
	{"US", "011 44 121 234 5678", "ERR wrong-country"},
	{"US", "0044 121 234 5678", "ERR wrong-country"},
	{"FR", "+800 1234 5678", "ERR wrong-country"},
	{"FR", "+999 1234 5678", "ERR bad-calling-code"},
	{"US", "+0 201 555 0123", "ERR bad-calling-code"},
	/* Lengths and ranges. */
	{"GB", "0121 234", "ERR too-short"},
	{"GB", "+44", "ERR too-short"},
	{"GB", "+4412", "ERR too-short"},
	{"GB", "12", "ERR too-short"},
	{"GB", "000", "ERR too-short"},
	{"GB", "+44 121 234 5678 9", "ERR too-long"},
	{"GB", "0121 234 56789", "ERR too-long"},
	{"GB", "0500 123456", "ERR invalid"},
	{"GB", "5123 456789", "ERR invalid"},
	/* Characters. */
	{"GB", "", "ERR empty"},
	{"GB", "   ", "ERR empty"},
	{"GB", "+", "ERR empty"},
	{"GB", "( ) -", "ERR empty"},
	{"GB", "0121 234 567O", "ERR letters"},
	{"GB", "0800 FLOWERS", "ERR letters"},
	{"GB", "0121 234 5678 ext 12", "ERR letters"},
	{"GB", "tel:+441212345678", "ERR letters"},
	{"GB", "0121_234_5678", "ERR bad-char"},
	{"GB", "0121*234*5678", "ERR bad-char"},
	{"GB", "0121 234 5678#", "ERR bad-char"},
	{"GB", "0121\t234 5678", "ERR bad-char"},
	{"GB", "0121 234 5678\n", "ERR bad-char"},
	{"GB", "++44 121 234 5678", "ERR bad-char"},
	{"GB", "44+121 234 5678", "ERR bad-char"},
	{"GB",
	 "0121\xe2\x80\x93"
	 "234 5678",
	 "ERR bad-char"},                                               /* en dash */
	{"GB", "\xef\xbc\x90\xef\xbc\x91\xef\xbc\x92", "ERR bad-char"}, /* full-width digits */
	{"GB", "0121 234 5678;", "ERR bad-char"},
	/* Countries. */
	{"XX", "0121 234 5678", "ERR unknown-country"},
	{"XK", "038 212 345", "+38338212345"}, /* not in ISO 3166-1, but served */
	{"XK", "044 123 456", "+38344123456"},
	{"AC", "40123", "+24740123"},               /* Ascension: 5 digits */
	{"TA", "8123", "+2908123"},                 /* Tristan da Cunha: +290 8... */
	{"SH", "8123", "ERR wrong-country"},        /* +290 8 is TA, not Saint Helena */
	{"AQ", "1234 5678", "ERR unknown-country"}, /* no calling code */
	{"G", "0121 234 5678", "ERR unknown-country"},
	{"GBR", "0121 234 5678", "ERR unknown-country"},
	{"", "0121 234 5678", "ERR unknown-country"},
	{"1A", "0121 234 5678", "ERR unknown-country"},
	{"G\xc3", "0121 234 5678", "ERR unknown-country"},
};

/* input as a C literal would show it, so TAP lines stay single lines. */
static const char *shown(const char *s, char *buf, size_t size)
{
	size_t n = 0;

	for (; *s != '\0' && n + 5 < size; s++) {
		unsigned char ch = (unsigned char)*s;
		if (ch >= 0x20 && ch < 0x7f)
			buf[n++] = (char)ch;
		else
			n += (size_t)snprintf(buf + n, size - n, "\\x%02x", ch);
	}
	buf[n] = '\0';
	return buf;
}

static void test_cases(void)
{
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const struct phone_case *t = &cases[i];
		twofa_phone_result res;
		char got[64], in[128], cc[16];

		if (twofa_phone_parse(t->input, t->country, &res) == TWOFA_PHONE_OK)
			(void)snprintf(got, sizeof(got), "%s", res.e164);
		else
			(void)snprintf(got, sizeof(got), "ERR %s", twofa_phone_reason_name(res.reason));
		shown(t->input, in, sizeof(in));
		shown(t->country, cc, sizeof(cc));
		ok(strcmp(got, t->want) == 0, "%s '%s' -> %s (got %s)", cc, in, t->want, got);
		ok(res.reason == TWOFA_PHONE_OK ? twofa_e164_valid(res.e164) : res.e164[0] == '\0',
		   "%s '%s': result is E.164 exactly when accepted", cc, in);
	}
}

static void test_limits(void)
{
	char in[TWOFA_PHONE_INPUT_MAX + 2];
	twofa_phone_result res;

	/* 64 bytes is fine, 65 is not, whatever they hold. */
	memset(in, ' ', sizeof(in));
	memcpy(in, "0121 234 5678", 13);
	in[TWOFA_PHONE_INPUT_MAX] = '\0';
	ok(twofa_phone_parse(in, "GB", &res) == TWOFA_PHONE_OK, "64 bytes of input are read");
	in[TWOFA_PHONE_INPUT_MAX] = ' ';
	in[TWOFA_PHONE_INPUT_MAX + 1] = '\0';
	ok(twofa_phone_parse(in, "GB", &res) == TWOFA_PHONE_INPUT_TOO_LONG, "65 bytes are refused");
	memset(in, '1', sizeof(in) - 1);
	ok(twofa_phone_parse(in, "GB", &res) == TWOFA_PHONE_INPUT_TOO_LONG, "65 digits are refused");
	in[40] = '\0';
	ok(twofa_phone_parse(in, "GB", &res) == TWOFA_PHONE_TOO_LONG, "40 digits are too long");
	ok(twofa_phone_parse(NULL, "GB", &res) == TWOFA_PHONE_EMPTY, "NULL input is empty");
	ok(twofa_phone_parse("0121 234 5678", NULL, &res) == TWOFA_PHONE_UNKNOWN_COUNTRY,
	   "NULL country is unknown");
}

static void test_wrong_country_details(void)
{
	twofa_phone_result res;

	twofa_phone_parse("+44 121 234 5678", "FR", &res);
	ok(strcmp(res.calling_code, "44") == 0 && strcmp(res.region, "GB") == 0,
	   "a British number given for FR names +44 and GB (%s %s)", res.calling_code, res.region);
	twofa_phone_parse("506 234 5678", "US", &res);
	ok(strcmp(res.calling_code, "1") == 0 && strcmp(res.region, "CA") == 0,
	   "a Canadian area code given for US names CA (%s %s)", res.calling_code, res.region);
	twofa_phone_parse("+800 1234 5678", "FR", &res);
	ok(strcmp(res.calling_code, "800") == 0 && res.region[0] == '\0',
	   "an international freephone number names +800 and no region");
	twofa_phone_parse("+383 44 123 456", "AL", &res);
	ok(res.reason == TWOFA_PHONE_WRONG_COUNTRY && strcmp(res.region, "XK") == 0,
	   "a Kosovo number given for AL names XK (%s)", res.region);
}

static void test_normalize(void)
{
	char out[TWOFA_E164_SIZE];
	twofa_error err;

	twofa_error_clear(&err);
	ok(twofa_phone_normalize("020 7946 0958", "GB", out, &err) == TWOFA_OK &&
		   strcmp(out, "+442079460958") == 0,
	   "normalize: %s", out);
	ok(twofa_phone_normalize("+44 20 7946 0958", "FR", out, &err) == TWOFA_EINVAL && out[0] == '\0',
	   "normalize refuses a British number for France");
	ok(strstr(err.msg, "United Kingdom (+44)") != NULL && strstr(err.msg, "France (+33)") != NULL,
	   "the message names both countries: %s", err.msg);
	ok(twofa_phone_normalize("506 234 5678", "US", out, &err) == TWOFA_EINVAL &&
		   strstr(err.msg, "Canada (+1)") != NULL && strstr(err.msg, "United States (+1)") != NULL,
	   "NANP: %s", err.msg);
	ok(twofa_phone_normalize("0121 234", "GB", out, &err) == TWOFA_EINVAL &&
		   strstr(err.msg, "too short") != NULL && strstr(err.msg, "United Kingdom") != NULL,
	   "too short: %s", err.msg);
	ok(twofa_phone_normalize("0121 234 5678 9", "GB", out, &err) == TWOFA_EINVAL &&
		   strstr(err.msg, "too long") != NULL,
	   "too long: %s", err.msg);
	ok(twofa_phone_normalize("0500 123456", "GB", out, &err) == TWOFA_EINVAL &&
		   strstr(err.msg, "not a valid") != NULL,
	   "invalid: %s", err.msg);
	ok(twofa_phone_normalize("0800 FLOWERS", "GB", out, &err) == TWOFA_EINVAL &&
		   strstr(err.msg, "letters") != NULL,
	   "letters: %s", err.msg);
	ok(twofa_phone_normalize("0121_234", "GB", out, &err) == TWOFA_EINVAL &&
		   strstr(err.msg, "only have digits") != NULL,
	   "bad character: %s", err.msg);
	ok(twofa_phone_normalize("", "GB", out, &err) == TWOFA_EINVAL &&
		   strstr(err.msg, "no phone number") != NULL,
	   "empty: %s", err.msg);
	ok(twofa_phone_normalize("0121 234 5678", "ZZ", out, &err) == TWOFA_EINVAL &&
		   strstr(err.msg, "unknown country") != NULL,
	   "unknown country: %s", err.msg);
	ok(twofa_phone_normalize("+999 1234 5678", "GB", out, &err) == TWOFA_EINVAL &&
		   strstr(err.msg, "calling code") != NULL,
	   "bad calling code: %s", err.msg);
	ok(twofa_phone_normalize("0121 234 5678", "GB", out, NULL) == TWOFA_OK, "err may be NULL");
	ok(twofa_phone_normalize("0121 234", "GB", out, NULL) == TWOFA_EINVAL, "err may be NULL on failure");
}

static void test_reason_names(void)
{
	static const char *const names[] = {
		"ok",       "empty",           "input-too-long",   "letters",
		"bad-char", "unknown-country", "bad-calling-code", "too-short",
		"too-long", "wrong-length",    "wrong-country",    "invalid",
		"internal",
	};

	for (int r = TWOFA_PHONE_OK; r <= TWOFA_PHONE_INTERNAL; r++)
		ok(strcmp(twofa_phone_reason_name((twofa_phone_reason)r), names[r]) == 0, "reason %d is %s",
		   r, names[r]);
	ok(strcmp(twofa_phone_reason_name((twofa_phone_reason)99), "unknown") == 0, "out of range reason");
}

static void test_mask(void)
{
	static const struct {
		const char *in, *want;
	} masks[] = {
		{"+12015550123", "+1 ***-***-0123"},
		{"+442079460958", "+44 **** **0958"},
		{"+447400123456", "+44 **** **3456"},
		{"+33612345678", "+33 *** **5678"},
		{"+4930123456", "+49 ** **3456"},
		{"+4915123456789", "+49 ***** **6789"},
		{"+861012345678", "+86 **** **5678"},
		{"+3612345678", "+36 ** **5678"},
		{"+3780549886377", "+378 **** **6377"},
		{"+6837012", "+683 **12"},
		{"+6838884012", "+683 ****012"},
		{"+431234", "+43 **34"},
		{"+80012345678", "+800 ** **5678"},
		{"+9991234567", "+**** **4567"}, /* no such code: masked too */
		{"not a number", "+***"},
		{"+44 20 7946 0958", "+***"},
	};
	char out[TWOFA_PHONE_MASK_SIZE];
	char small[8];

	for (size_t i = 0; i < sizeof(masks) / sizeof(masks[0]); i++) {
		twofa_phone_mask(masks[i].in, out, sizeof(out));
		ok(strcmp(out, masks[i].want) == 0, "mask %s -> %s (got %s)", masks[i].in, masks[i].want, out);
	}
	twofa_phone_mask(NULL, out, sizeof(out));
	ok(strcmp(out, "+***") == 0, "mask NULL");
	memset(small, 'x', sizeof(small));
	twofa_phone_mask("+12015550123", small, sizeof(small));
	ok(small[0] == '\0', "a buffer too small gets an empty string");
	twofa_phone_mask("+12015550123", small, 0); /* must not write */
	ok(small[0] == '\0', "outlen 0 writes nothing");

	/* Never more than the last four digits, never more than half. */
	for (size_t len = TWOFA_E164_MIN_DIGITS; len <= TWOFA_E164_MAX_DIGITS; len++) {
		char num[TWOFA_E164_SIZE];
		size_t shown = 0, stars = 0, i;

		num[0] = '+';
		num[1] = '4';
		num[2] = '4';
		for (i = 3; i <= len; i++)
			num[i] = (char)('0' + i % 10);
		num[len + 1] = '\0';
		twofa_phone_mask(num, out, sizeof(out));
		for (i = 4; out[i] != '\0'; i++) {
			if (out[i] >= '0' && out[i] <= '9')
				shown++;
			else if (out[i] == '*')
				stars++;
		}
		ok(strncmp(out, "+44 ", 4) == 0 && shown >= 2 && shown <= 4 && shown <= stars &&
			   shown + stars == len - 2,
		   "mask of %zu digits shows %zu: %s", len, shown, out);
	}
}

static void test_region(void)
{
	static const struct {
		const char *in, *want;
	} regions[] = {
		{"+12015550123", "US"},  {"+15062345678", "CA"},  {"+18765230123", "JM"},
		{"+441212345678", "GB"}, {"+441534456789", "JE"}, {"+79123456789", "RU"},
		{"+77710009998", "KZ"},  {"+390212345678", "IT"}, {"+390669812345", "VA"},
		{"+38344123456", "XK"},
	};

	for (size_t i = 0; i < sizeof(regions) / sizeof(regions[0]); i++) {
		const char *r = twofa_phone_region(regions[i].in);
		ok(r != NULL && strcmp(r, regions[i].want) == 0, "region of %s is %s (%s)", regions[i].in,
		   regions[i].want, r != NULL ? r : "NULL");
	}
	ok(twofa_phone_region("+12115550123") == NULL, "an invalid number has no region");
	ok(twofa_phone_region("+80012345678") == NULL, "+800 has no region");
	ok(twofa_phone_region("+99912345678") == NULL, "+999 has no region");
	ok(twofa_phone_region("12015550123") == NULL, "not E.164: no region");
	ok(twofa_phone_region(NULL) == NULL, "NULL: no region");
}

/* No state is shared between calls: the same answers from several threads. */
static void *thread_run(void *arg)
{
	int *bad = arg;

	for (int round = 0; round < 20; round++) {
		for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i += 7) {
			twofa_phone_result res;
			twofa_phone_parse(cases[i].input, cases[i].country, &res);
			if (res.reason == TWOFA_PHONE_OK ? strcmp(res.e164, cases[i].want) != 0
							 : strncmp(cases[i].want, "ERR ", 4) != 0)
				(*bad)++;
		}
	}
	return NULL;
}

static void test_threads(void)
{
	pthread_t t[4];
	int bad[4] = {0, 0, 0, 0};
	int started = 0;

	for (int i = 0; i < 4; i++)
		if (pthread_create(&t[i], NULL, thread_run, &bad[i]) == 0)
			started++;
	for (int i = 0; i < started; i++)
		pthread_join(t[i], NULL);
	ok(started == 4 && bad[0] + bad[1] + bad[2] + bad[3] == 0, "4 threads at once get the same answers");
}

int main(void)
{
	test_cases();
	test_limits();
	test_wrong_country_details();
	test_normalize();
	test_reason_names();
	test_mask();
	test_region();
	test_threads();
	return tap_done();
}
