/* SPDX-License-Identifier: GPL-3.0-or-later */
#include "twofa_build.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "member.h"
#include "tap.h"
#include "util.h"

#define HASH \
	"$argon2id$v=19$m=65536,t=2,p=1$c29tZXNhbHRzb21lc2FsdA$7sE7Z1k9u9Z0ZK9oHq4Yb1qg4Rj9Y3K2cM2w1e0a2Hc"

static void fill(twofa_member *m)
{
	memset(m, 0, sizeof(*m));
	m->user = strdup("alice");
	m->email = strdup("alice@example.org");
	strcpy(m->phone, "+447911123456");
	strcpy(m->country, "GB");
	m->channel = TWOFA_CHANNEL_SMS;
	m->password_hash = strdup(HASH);
	m->status = TWOFA_MEMBER_ACTIVE;
	m->created = 1764000000;
	m->updated = 1764000100;
	m->verified = 1764000050;
}

static void test_names(void)
{
	char name[TWOFA_USER_NAME_MAX + 2];
	twofa_member_status st = TWOFA_MEMBER_DISABLED;

	ok(twofa_user_name_valid("alice"), "plain name valid");
	ok(twofa_user_name_valid("a"), "one byte name valid");
	ok(twofa_user_name_valid("j.doe-1@EXAMPLE"), "dots, dash, @ valid");
	ok(twofa_user_name_valid("j\xc3\xb6rg"), "UTF-8 name valid");
	memset(name, 'x', TWOFA_USER_NAME_MAX);
	name[TWOFA_USER_NAME_MAX] = '\0';
	ok(twofa_user_name_valid(name), "256-byte name valid");
	name[TWOFA_USER_NAME_MAX] = 'x';
	name[TWOFA_USER_NAME_MAX + 1] = '\0';
	ok(!twofa_user_name_valid(name), "257-byte name invalid");
	ok(!twofa_user_name_valid(""), "empty name invalid");
	ok(!twofa_user_name_valid(NULL), "NULL name invalid");
	ok(!twofa_user_name_valid("a/b"), "slash invalid");
	ok(!twofa_user_name_valid("a:b"), "colon invalid");
	ok(!twofa_user_name_valid("a\nb"), "newline invalid");
	ok(!twofa_user_name_valid("a\x7f"), "DEL invalid");
	ok(!twofa_user_name_valid("a\tb"), "tab invalid");
	ok(!twofa_user_name_valid("\xff\xfe"), "invalid UTF-8 invalid");
	ok(!twofa_user_name_valid("\xc0\xaf"), "overlong UTF-8 invalid");
	ok(!twofa_user_name_valid("\xed\xa0\x80"), "UTF-16 surrogate invalid");
	ok(!twofa_user_name_valid("ab\xc3"), "truncated UTF-8 invalid");

	ok(strcmp(twofa_member_status_name(TWOFA_MEMBER_PENDING), "pending") == 0, "status name pending");
	ok(twofa_member_status_name((twofa_member_status)7) == NULL, "unknown status has no name");
	ok(twofa_member_status_parse("disabled", &st) && st == TWOFA_MEMBER_DISABLED, "parse disabled");
	ok(twofa_member_status_parse("active", &st) && st == TWOFA_MEMBER_ACTIVE, "parse active");
	ok(!twofa_member_status_parse("Active", &st), "status parse is exact");
	ok(!twofa_member_status_parse(NULL, &st), "status parse NULL");
}

/* The member record takes every number lib/phone gives (twofa_phone_parse
 * checks its result with the same twofa_e164_valid), the shortest included:
 * tests/unit/phone_oracle.py runs every example number through it as well. */
static void test_phone(void)
{
	static const char *const good[] = {"+447911123456", "+12025550123", "+123456789012345",
					   "+431110",  /* Vienna, 6 digits: the shortest there are */
					   "+6834002", /* Niue, 7 digits */
					   "+2908999"};
	/* 16 digits do not fit m.phone: test_validate's "phone not terminated". */
	static const char *const bad[] =
		{"+43111", "+0447911123456", "447911123456", "+44 7911 123456", "+4479111234a6", "", "+"};
	twofa_member m, back;
	twofa_error err;

	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		char *json = NULL;

		fill(&m);
		strcpy(m.phone, good[i]);
		twofa_error_clear(&err);
		ok(twofa_member_encode(&m, &json, &err) == TWOFA_OK, "member with %s encodes: %s", good[i],
		   err.msg);
		memset(&back, 0, sizeof(back));
		ok(json != NULL && twofa_member_decode(json, strlen(json), &back, &err) == TWOFA_OK &&
			   strcmp(back.phone, good[i]) == 0,
		   "member with %s decodes: %s", good[i], err.msg);
		twofa_member_free(&back);
		twofa_free_secret(json);
		twofa_member_free(&m);
	}
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		fill(&m);
		strcpy(m.phone, bad[i]);
		twofa_error_clear(&err);
		ok(twofa_member_validate(&m, &err) == TWOFA_EINVAL && strstr(err.msg, "6..15 digits") != NULL,
		   "member with phone '%s' refused: %s", bad[i], err.msg);
		twofa_member_free(&m);
	}
}

static void test_round_trip(void)
{
	twofa_member m, back;
	twofa_error err = {TWOFA_OK, ""};
	char *json = NULL, *json2 = NULL;

	fill(&m);
	ok(twofa_member_validate(&m, &err) == TWOFA_OK, "good member validates: %s", err.msg);
	ok(twofa_member_encode(&m, &json, &err) == TWOFA_OK && json != NULL, "encode");
	diag("%s", json ? json : "(null)");
	ok(json != NULL && strncmp(json, "{\"channel\":\"sms\",\"country\":\"GB\",\"created\":\"2025-11-24T",
				   54) == 0,
	   "compact, sorted keys, ISO 8601 times");
	ok(json != NULL && strstr(json, "\"v\":1") != NULL && strstr(json, "\"status\":\"active\"") != NULL,
	   "has v:1 and status name");
	ok(twofa_member_decode(json, strlen(json), &back, &err) == TWOFA_OK, "decode: %s", err.msg);
	ok(back.user && strcmp(back.user, "alice") == 0 && back.email && strcmp(back.email, m.email) == 0 &&
		   strcmp(back.phone, m.phone) == 0 && strcmp(back.country, "GB") == 0 &&
		   back.channel == m.channel && strcmp(back.password_hash, HASH) == 0 &&
		   back.status == m.status && back.created == m.created && back.updated == m.updated &&
		   back.verified == m.verified,
	   "every field survives the round trip");
	ok(twofa_member_encode(&back, &json2, &err) == TWOFA_OK && strcmp(json, json2) == 0,
	   "re-encoding gives the same bytes");
	twofa_free_secret(json2);
	twofa_member_free(&back);
	twofa_free_secret(json);

	/* No email, never verified, other channel and status. */
	free(m.email);
	m.email = NULL;
	m.verified = 0;
	m.channel = TWOFA_CHANNEL_WHATSAPP;
	m.status = TWOFA_MEMBER_PENDING;
	json = NULL;
	if (twofa_member_encode(&m, &json, &err) != TWOFA_OK)
		json = NULL;
	ok(json != NULL && strstr(json, "\"email\":null") && strstr(json, "\"verified\":null") &&
		   strstr(json, "\"channel\":\"whatsapp\"") && strstr(json, "\"status\":\"pending\""),
	   "nulls and names encoded");
	ok(json != NULL && twofa_member_decode(json, strlen(json), &back, &err) == TWOFA_OK &&
		   back.email == NULL && back.verified == 0 && back.channel == TWOFA_CHANNEL_WHATSAPP &&
		   back.status == TWOFA_MEMBER_PENDING,
	   "nulls decode to none");
	twofa_member_free(&back);
	ok(back.user == NULL && back.password_hash == NULL, "free clears the record");
	twofa_free_secret(json);
	twofa_member_free(&m);
	twofa_member_free(NULL);
	ok(1, "free NULL is fine");
}

/* Validation: one bad field at a time. */
static void test_validate(void)
{
	twofa_member m;
	twofa_error err = {TWOFA_OK, ""};
	char *json = NULL;
	char buf[400];

#define BAD(mutate, what)                                                                                   \
	do {                                                                                                \
		fill(&m);                                                                                   \
		mutate;                                                                                     \
		ok(twofa_member_validate(&m, &err) == TWOFA_EINVAL, "invalid: %s (%s)", what, err.msg);     \
		ok(twofa_member_encode(&m, &json, &err) == TWOFA_EINVAL && json == NULL, "not encoded: %s", \
		   what);                                                                                   \
		twofa_member_free(&m);                                                                      \
	} while (0)

	BAD(free(m.user); m.user = strdup("bad/name"), "user with slash");
	BAD(free(m.user); m.user = NULL, "no user");
	BAD(free(m.email); m.email = strdup("no-at-sign"), "email without @");
	BAD(free(m.email); m.email = strdup("a@b@example.org"), "email with two @");
	BAD(free(m.email); m.email = strdup("a b@example.org"), "email with space");
	BAD(free(m.email); m.email = strdup("a@localhost"), "email domain without dot");
	BAD(free(m.email); m.email = strdup("a@.example.org"), "email domain starting with dot");
	BAD(free(m.email); m.email = strdup("@example.org"), "email empty local part");
	BAD(free(m.email); m.email = strdup("a@example.org\n"), "email with newline");
	memset(buf, 'a', 250);
	strcpy(buf + 250, "@x.io");
	BAD(free(m.email); m.email = strdup(buf), "email over 254 bytes");
	BAD(strcpy(m.phone, "07911123456"), "national phone");
	BAD(strcpy(m.phone, "+0123456789"), "phone +0");
	BAD(strcpy(m.phone, "+12345"), "phone too short");
	BAD(memset(m.phone, '1', sizeof(m.phone)), "phone not terminated");
	BAD(strcpy(m.country, "gb"), "lowercase country");
	BAD(strcpy(m.country, "G"), "one-letter country");
	BAD(strcpy(m.country, "G1"), "digit in country");
	BAD(m.channel = (twofa_channel)9, "unknown channel");
	BAD(m.channel = TWOFA_CHANNEL_EMAIL; free(m.email); m.email = NULL, "email channel without email");
	BAD(m.status = (twofa_member_status)3, "unknown status");
	BAD(free(m.password_hash);
	    m.password_hash = strdup("$argon2i$v=19$m=4096,t=3,p=1$abc$def"), "argon2i hash");
	BAD(free(m.password_hash); m.password_hash = strdup("plaintext"), "plain text hash");
	BAD(free(m.password_hash); m.password_hash = NULL, "no hash");
	memset(buf, 'A', 200);
	memcpy(buf, "$argon2id$", 10);
	buf[200] = '\0';
	BAD(free(m.password_hash); m.password_hash = strdup(buf), "overlong hash");
	BAD(m.created = 0, "no created time");
	BAD(m.created = 100, "created in 1970");
	BAD(m.updated = m.created - 1, "updated before created");
	BAD(m.verified = -5, "negative verified time");
	BAD(m.updated = (time_t)253402300800LL, "updated after year 9999");
#undef BAD
	fill(&m);
	m.channel = TWOFA_CHANNEL_EMAIL;
	ok(twofa_member_validate(&m, &err) == TWOFA_OK, "email channel with email is fine");
	strcpy(m.phone, "+12025550123");
	ok(twofa_member_validate(&m, &err) == TWOFA_OK, "another phone is fine");
	strcpy(m.phone, "+20255");
	ok(twofa_member_validate(&m, &err) == TWOFA_EINVAL && strstr(err.msg, "20255") == NULL,
	   "message does not show the phone number: %s", err.msg);
	twofa_member_free(&m);
	ok(twofa_member_validate(NULL, &err) == TWOFA_EINVAL, "NULL member invalid");
}

static const char *good_json(void)
{
	return "{\"channel\":\"sms\",\"country\":\"GB\",\"created\":\"2025-11-24T16:00:00Z\",\"email\":null,"
	       "\"password_hash\":\""
	       "$argon2id$v=19$m=65536,t=2,p=1$c29tZXNhbHQ$aGFzaA"
	       "\",\"phone\":\"+447911123456\","
	       "\"status\":\"active\",\"updated\":\"2025-11-24T16:00:00Z\",\"user\":\"bob\",\"v\":1,\"verified\":null}";
}

/* Replaces the first occurrence of from by to in the good record. */
static char *mutate(const char *from, const char *to)
{
	const char *base = good_json(), *at = strstr(base, from);
	char *out;

	if (at == NULL)
		return NULL;
	out = malloc(strlen(base) - strlen(from) + strlen(to) + 1);
	if (out == NULL)
		return NULL;
	sprintf(out, "%.*s%s%s", (int)(at - base), base, to, at + strlen(from));
	return out;
}

static void expect_bad(const char *json, size_t len, const char *what)
{
	twofa_member m;
	twofa_error err = {TWOFA_OK, ""};

	twofa_error_clear(&err);
	ok(json != NULL && twofa_member_decode(json, len, &m, &err) == TWOFA_EINVAL && m.user == NULL &&
		   m.password_hash == NULL,
	   "rejected: %s (%s)", what, err.msg);
	ok(strstr(err.msg, "7911123456") == NULL, "message hides the phone: %s", what);
}

static void bad_mut(const char *from, const char *to, const char *what)
{
	char *j = mutate(from, to);

	expect_bad(j, j ? strlen(j) : 0, what);
	free(j);
}

static void test_decode_hostile(void)
{
	twofa_member m;
	twofa_error err = {TWOFA_OK, ""};
	const char *g = good_json();
	char *big, *j;
	size_t n;

	ok(twofa_member_decode(g, strlen(g), &m, &err) == TWOFA_OK && strcmp(m.user, "bob") == 0,
	   "hand-written good record decodes: %s", err.msg);
	twofa_member_free(&m);
	j = mutate("\"v\":1", "\"v\":1,\"future\":{\"a\":[1,2,{\"b\":null}]},\"zz\":\"x\"");
	ok(j && twofa_member_decode(j, strlen(j), &m, &err) == TWOFA_OK, "unknown fields are ignored");
	twofa_member_free(&m);
	free(j);

	expect_bad("[]", 2, "array");
	expect_bad("\"alice\"", 7, "string");
	expect_bad("null", 4, "null");
	expect_bad("", 0, "empty");
	ok(twofa_member_decode(NULL, 10, &m, &err) == TWOFA_EINVAL && m.user == NULL, "NULL buffer rejected");
	ok(twofa_member_decode(g, strlen(g), NULL, &err) == TWOFA_EINVAL, "NULL member rejected");
	expect_bad("{", 1, "lone brace");
	expect_bad(g, strlen(g) - 1, "truncated by one byte");
	expect_bad(g, strlen(g) / 2, "truncated in half");
	bad_mut("\"v\":1", "\"v\":2", "version 2");
	bad_mut("\"v\":1", "\"v\":0", "version 0");
	bad_mut("\"v\":1", "\"v\":\"1\"", "version as string");
	bad_mut("\"v\":1", "\"v\":1.0", "version as real");
	bad_mut("\"v\":1,", "", "no version");
	bad_mut("\"v\":1", "\"v\":1,\"v\":1", "duplicate v");
	bad_mut("\"user\":\"bob\"", "\"user\":\"bob\",\"user\":\"eve\"", "duplicate user");
	bad_mut("\"user\":\"bob\",", "", "no user");
	bad_mut("\"user\":\"bob\"", "\"user\":42", "user is a number");
	bad_mut("\"user\":\"bob\"", "\"user\":null", "user is null");
	bad_mut("\"user\":\"bob\"", "\"user\":[\"bob\"]", "user is an array");
	bad_mut("\"user\":\"bob\"", "\"user\":\"b\\u0000b\"", "NUL escaped in user");
	bad_mut("\"user\":\"bob\"", "\"user\":\"b/b\"", "slash in user");
	bad_mut("\"user\":\"bob\"", "\"user\":\"b\\nb\"", "newline in user");
	bad_mut("\"email\":null", "\"email\":false", "email is a boolean");
	bad_mut("\"email\":null,", "", "no email field");
	bad_mut("\"email\":null", "\"email\":\"nope\"", "malformed email");
	bad_mut("\"phone\":\"+447911123456\"", "\"phone\":447911123456", "phone is a number");
	bad_mut("\"phone\":\"+447911123456\"", "\"phone\":\"+4479111234567890123\"", "phone too long");
	bad_mut("\"phone\":\"+447911123456\"", "\"phone\":\"07911123456\"", "national phone");
	bad_mut("\"country\":\"GB\"", "\"country\":\"GBR\"", "three-letter country");
	bad_mut("\"country\":\"GB\"", "\"country\":{}", "country is an object");
	bad_mut("\"channel\":\"sms\"", "\"channel\":\"pigeon\"", "unknown channel");
	bad_mut("\"channel\":\"sms\"", "\"channel\":0", "channel as number");
	bad_mut("\"status\":\"active\"", "\"status\":\"ACTIVE\"", "status in capitals");
	bad_mut("\"status\":\"active\",", "", "no status");
	bad_mut("\"password_hash\":\"$argon2id$", "\"password_hash\":\"$2y$", "bcrypt hash");
	bad_mut("\"password_hash\":\"$argon2id$v=19$m=65536,t=2,p=1$c29tZXNhbHQ$aGFzaA\",", "", "no hash");
	bad_mut("\"created\":\"2025-11-24T16:00:00Z\"", "\"created\":1764000000", "created as a number");
	bad_mut("\"created\":\"2025-11-24T16:00:00Z\"", "\"created\":\"2025-11-24 16:00:00\"",
		"created not ISO");
	bad_mut("\"created\":\"2025-11-24T16:00:00Z\"", "\"created\":\"2025-02-30T16:00:00Z\"", "February 30");
	bad_mut("\"created\":\"2025-11-24T16:00:00Z\"", "\"created\":null", "created null");
	bad_mut("\"updated\":\"2025-11-24T16:00:00Z\"", "\"updated\":\"2025-11-24T15:59:59Z\"",
		"updated before created");
	bad_mut("\"verified\":null", "\"verified\":\"soon\"", "verified not a time");
	bad_mut("\"verified\":null", "\"verified\":\"1970-01-01T00:00:00Z\"", "verified at the epoch");
	bad_mut("\"verified\":null}", "\"verified\":null}}", "trailing brace");
	bad_mut("\"verified\":null}", "\"verified\":null} {}", "two objects");
	bad_mut("\"verified\":null}", "\"verified\":null,}", "trailing comma");

	/* Huge strings and deep nesting. */
	n = 3000;
	big = malloc(n + 64);
	if (big != NULL) {
		memset(big, 'a', n);
		memcpy(big, "\"user\":\"", 8);
		big[n] = '\0';
		strcat(big, "\"");
		bad_mut("\"user\":\"bob\"", big, "3000-byte user name");
		free(big);
	}
	n = TWOFA_MEMBER_JSON_MAX + 10;
	big = malloc(n + 1);
	if (big != NULL) {
		memset(big, ' ', n);
		big[0] = '{';
		big[n - 1] = '}';
		big[n] = '\0';
		expect_bad(big, n, "record over the size limit");
		free(big);
	}
	n = 4000;
	big = malloc(2 * n + 64);
	if (big != NULL) {
		size_t i;
		strcpy(big, "\"zz\":");
		for (i = 0; i < n; i++)
			strcat(big + 5 + i, "[");
		for (i = 0; i < n; i++)
			big[5 + n + i] = ']';
		big[5 + 2 * n] = '\0';
		j = mutate("\"v\":1", "\"v\":1,@@");
		if (j != NULL) {
			char *at = strstr(j, "@@"), *full = malloc(strlen(j) + strlen(big) + 1);
			if (full != NULL) {
				sprintf(full, "%.*s%s%s", (int)(at - j), j, big, at + 2);
				expect_bad(full, strlen(full), "4000-deep nested junk");
				free(full);
			}
			free(j);
		}
		free(big);
	}
	{
		char raw[] = "{\"v\":1,\"user\":\"a\xff\"}";
		expect_bad(raw, strlen(raw), "invalid UTF-8 in the JSON");
	}
	{
		char nul[] = "{\"v\":1}\0garbage";
		expect_bad(nul, sizeof(nul) - 1, "NUL byte in the buffer");
	}
}

int main(void)
{
	test_names();
	test_round_trip();
	test_validate();
	test_phone();
	test_decode_hostile();
	return tap_done();
}
