/* SPDX-License-Identifier: GPL-3.0-or-later */
#include "twofa_build.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "member.h"
#include "member_fixture.h"
#include "onetime_code.h"
#include "tap.h"
#include "util.h"

/* The shared fixture (tests/unit/member_fixture.h) by the names these tests use. */
#define HASH MEMBER_FIXTURE_HASH
#define fill member_fixture_fill
#define fill_all member_fixture_fill_all
#define code_hash member_fixture_code_hash
#define same_member member_fixture_same

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

/* Records exactly as twofa wrote them before the later fields existed (the
 * bytes of the encoder of that time, frozen): they read without a migration,
 * the later fields at their zero value, and write back byte for byte. */
static const char old_alice[] =
	"{\"channel\":\"sms\",\"country\":\"GB\",\"created\":\"2025-11-24T16:00:00Z\",\"email\":\"alice@example.org\","
	"\"password_hash\":\"$argon2id$v=19$m=65536,t=2,p=1$c29tZXNhbHRzb21lc2FsdA$"
	"7sE7Z1k9u9Z0ZK9oHq4Yb1qg4Rj9Y3K2cM2w1e0a2Hc\",\"phone\":\"+447911123456\",\"status\":\"active\","
	"\"updated\":\"2025-11-24T16:01:40Z\",\"user\":\"alice\",\"v\":1,\"verified\":\"2025-11-24T16:00:50Z\"}";

static bool later_fields_zero(const twofa_member *m)
{
	static const twofa_member zero;

	return m->version == 0 && m->unlocked == 0 && m->recovery_count == 0 &&
	       memcmp(m->recovery, zero.recovery, sizeof(zero.recovery)) == 0 && m->bypass[0] == '\0' &&
	       m->bypass_uses == 0 && m->bypass_expires == 0 && m->invite[0] == '\0' &&
	       m->invite_expires == 0 && m->rate_limit_id[0] == '\0' && m->totp_entity[0] == '\0' &&
	       m->totp_factor[0] == '\0';
}

static void test_old_records(void)
{
	static const char *const old[] = {old_alice, NULL};
	twofa_member m, back;
	twofa_error err = {TWOFA_OK, ""};
	char *json = NULL;

	for (size_t i = 0; i < 2; i++) {
		const char *rec = old[i] != NULL ? old[i] : good_json();

		ok(twofa_member_decode(rec, strlen(rec), &m, &err) == TWOFA_OK, "old record %zu decodes: %s",
		   i, err.msg);
		ok(m.password_hash != NULL && m.phone[0] == '+' && later_fields_zero(&m),
		   "old record %zu: the later fields read as none", i);
		json = NULL;
		ok(twofa_member_encode(&m, &json, &err) == TWOFA_OK && json != NULL && strcmp(json, rec) == 0,
		   "old record %zu writes back byte for byte", i);
		twofa_free_secret(json);
		twofa_member_free(&m);
	}
	/* A member made today without the later fields: the old bytes. */
	fill(&m);
	json = NULL;
	ok(twofa_member_encode(&m, &json, &err) == TWOFA_OK && json != NULL && strcmp(json, old_alice) == 0,
	   "a member without the later fields encodes to the old bytes");
	twofa_free_secret(json);
	twofa_member_free(&m);
	ok(twofa_member_decode(old_alice, strlen(old_alice), &back, &err) == TWOFA_OK &&
		   strcmp(back.user, "alice") == 0 && strcmp(back.email, "alice@example.org") == 0 &&
		   strcmp(back.phone, "+447911123456") == 0 && strcmp(back.country, "GB") == 0 &&
		   back.channel == TWOFA_CHANNEL_SMS && strcmp(back.password_hash, HASH) == 0 &&
		   back.status == TWOFA_MEMBER_ACTIVE && back.created == 1764000000 &&
		   back.updated == 1764000100 && back.verified == 1764000050,
	   "old record: every old field as written");
	twofa_member_free(&back);
}

static void test_all_fields(void)
{
	twofa_member m, back;
	twofa_error err = {TWOFA_OK, ""};
	char *json = NULL, *json2 = NULL;
	char h[TWOFA_MEMBER_CODE_HASH_SIZE], key[300];

	fill_all(&m);
	ok(twofa_member_encode(&m, &json, &err) == TWOFA_OK && json != NULL,
	   "member with every field encodes: %s", err.msg);
	diag("%s", json ? json : "(null)");
	code_hash(h, 100);
	snprintf(key, sizeof(key),
		 "\"bypass\":{\"expires\":\"2025-11-25T16:00:00Z\",\"hash\":\"%s\",\"issuer\":\"root admin\","
		 "\"uses\":3}",
		 h);
	ok(json != NULL && strstr(json, key) != NULL, "bypass as {expires, hash, issuer, uses}");
	code_hash(h, 200);
	snprintf(key, sizeof(key), "\"invite\":{\"expires\":\"2025-11-26T16:00:00Z\",\"hash\":\"%s\"}", h);
	ok(json != NULL && strstr(json, key) != NULL, "invite as {expires, hash}");
	code_hash(h, 1);
	snprintf(key, sizeof(key), "\"recovery\":[\"%s\",", h);
	ok(json != NULL && strstr(json, key) != NULL, "recovery as a list of hashes");
	ok(json != NULL && strstr(json, "\"version\":42") &&
		   strstr(json, "\"unlocked\":\"2025-11-24T16:01:10Z\"") &&
		   strstr(json, "\"rate_limit_id\":\"rl_0f3a-Member\"") &&
		   strstr(json, "\"totp_entity\":\"e-7d1c9a0b2e4f\"") &&
		   strstr(json, "\"totp_factor\":\"YF0123456789abcdef0123456789abcdef\"") &&
		   strstr(json, "\"v\":1,") != NULL,
	   "version, unlocked, ids and v:1 as the design has them");
	ok(json != NULL && twofa_member_decode(json, strlen(json), &back, &err) == TWOFA_OK, "decodes: %s",
	   err.msg);
	ok(json != NULL && same_member(&m, &back), "every field survives the round trip");
	ok(json != NULL && twofa_member_encode(&back, &json2, &err) == TWOFA_OK && strcmp(json, json2) == 0,
	   "re-encoding gives the same bytes");
	ok(json == NULL || strlen(json) < TWOFA_MEMBER_JSON_MAX / 2,
	   "the fullest record stays well inside the size limit");
	twofa_free_secret(json2);
	twofa_member_free(&back);
	twofa_free_secret(json);
	json = json2 = NULL;

	/* An app member: no phone, no country, no twofa password. */
	m.channel = TWOFA_CHANNEL_EMAIL;
	m.phone[0] = '\0';
	m.country[0] = '\0';
	twofa_free_secret(m.password_hash);
	m.password_hash = NULL;
	ok(twofa_member_encode(&m, &json, &err) == TWOFA_OK && json != NULL,
	   "member without phone or hash encodes: %s", err.msg);
	ok(json != NULL && strstr(json, "\"phone\":null") && strstr(json, "\"country\":null") &&
		   strstr(json, "\"password_hash\":null"),
	   "phone, country and hash written as null");
	ok(json != NULL && twofa_member_decode(json, strlen(json), &back, &err) == TWOFA_OK &&
		   same_member(&m, &back) && back.password_hash == NULL && back.phone[0] == '\0' &&
		   back.country[0] == '\0',
	   "and read back as none: %s", err.msg);
	ok(json != NULL && twofa_member_encode(&back, &json2, &err) == TWOFA_OK && strcmp(json, json2) == 0,
	   "re-encoding gives the same bytes");
	twofa_free_secret(json2);
	twofa_member_free(&back);
	twofa_free_secret(json);
	twofa_member_free(&m);
	{
		const twofa_member zero = {0};
		bool wiped;

		fill_all(&m);
		twofa_member_free(&m);
		wiped = memcmp(&m, &zero, sizeof(m)) == 0;
		ok(wiped, "free wipes the code hashes and every other field");
	}
}

static void test_code_hash(void)
{
	static const struct {
		size_t at;
		char c;
		const char *what;
	} bad[] = {
		{10, 'A', "uppercase hex in the salt"}, {99, 'g', "non-hex in the digest"},
		{35, ':', "wrong separator"},           {1, '3', "other prefix"},
		{99, '\0', "one digit short"},
	};
	char h[TWOFA_MEMBER_CODE_HASH_SIZE + 8];

	code_hash(h, 5);
	ok(strlen(h) == TWOFA_MEMBER_CODE_HASH_SIZE - 1 && twofa_member_code_hash_valid(h),
	   "code hash valid: %s", h);
	ok(!twofa_member_code_hash_valid(NULL), "NULL is no code hash");
	ok(!twofa_member_code_hash_valid(""), "empty is no code hash");
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		code_hash(h, 5);
		h[bad[i].at] = bad[i].c;
		ok(!twofa_member_code_hash_valid(h), "%s refused", bad[i].what);
	}
	code_hash(h, 5);
	strcat(h, "0");
	ok(!twofa_member_code_hash_valid(h), "one digit more refused");
	code_hash(h, 5);
	memmove(h + 4, h + 3, 97);
	h[3] = '0';
	ok(!twofa_member_code_hash_valid(h), "a salt of 33 digits refused");
}

/* The later fields, one bad value at a time: refused, not encoded, and the
 * message names the field but not the value. */
static void test_validate_later(void)
{
	twofa_member m;
	twofa_error err = {TWOFA_OK, ""};
	char *json = NULL;
	char h[TWOFA_MEMBER_CODE_HASH_SIZE];

#define BAD_FIELD(mutate, field, what)                                                                      \
	do {                                                                                                \
		fill_all(&m);                                                                               \
		mutate;                                                                                     \
		twofa_error_clear(&err);                                                                    \
		ok(twofa_member_validate(&m, &err) == TWOFA_EINVAL && strstr(err.msg, field) != NULL &&     \
			   strstr(err.msg, "b2$") == NULL && strstr(err.msg, "7911123456") == NULL,         \
		   "invalid: %s (%s)", what, err.msg);                                                      \
		ok(twofa_member_encode(&m, &json, &err) == TWOFA_EINVAL && json == NULL, "not encoded: %s", \
		   what);                                                                                   \
		twofa_member_free(&m);                                                                      \
	} while (0)

	BAD_FIELD(m.version = TWOFA_MEMBER_RECORD_VERSION_MAX + 1, "record version", "version over 2^63-1");
	BAD_FIELD(m.version = ~0ULL, "record version", "version 2^64-1");
	BAD_FIELD(m.unlocked = 100, "unlock time", "unlocked in 1970");
	BAD_FIELD(m.unlocked = -1, "unlock time", "negative unlocked");
	BAD_FIELD(m.unlocked = (time_t)253402300800LL, "unlock time", "unlocked after 9999");
	BAD_FIELD(m.recovery_count = TWOFA_MEMBER_RECOVERY_MAX + 1, "recovery codes", "21 recovery codes");
	BAD_FIELD(m.recovery_count = (size_t)-1, "recovery codes", "recovery count wrapped");
	BAD_FIELD(m.recovery[3][0] = '\0', "recovery code 4", "empty recovery code inside the count");
	BAD_FIELD(m.recovery[0][40] = 'F', "recovery code 1", "uppercase recovery hash");
	BAD_FIELD(memset(m.recovery[19], 'a', sizeof(m.recovery[19])), "recovery code 20",
		  "recovery hash not terminated");
	BAD_FIELD(strcpy(m.recovery[2], "$argon2id$v=19$m=65536,t=2,p=1$abc$def"), "recovery code 3",
		  "recovery code as an Argon2id hash");
	BAD_FIELD(strcpy(m.recovery[7], m.recovery[2]), "recovery codes 3 and 8", "duplicate recovery hash");
	BAD_FIELD(m.bypass_uses = 0, "bypass code", "bypass with 0 uses");
	BAD_FIELD(m.bypass_uses = -1, "bypass code", "bypass with negative uses");
	BAD_FIELD(m.bypass_uses = TWOFA_MEMBER_BYPASS_USES_MAX + 1, "bypass code", "bypass with 101 uses");
	BAD_FIELD(m.bypass_expires = 0, "bypass code", "bypass without expiry");
	BAD_FIELD(m.bypass_expires = (time_t)253402300800LL, "bypass code", "bypass expiring after 9999");
	BAD_FIELD(m.bypass[5] = 'x', "bypass code", "malformed bypass hash");
	BAD_FIELD(m.bypass[0] = '\0', "bypass code", "uses and expiry without a bypass hash");
	BAD_FIELD(m.bypass[0] = '\0'; m.bypass_uses = 0, "bypass code", "expiry without a bypass hash");
	BAD_FIELD(m.bypass[0] = '\0'; m.bypass_uses = 0;
		  m.bypass_expires = 0, "bypass code", "an issuer without a bypass hash");
	BAD_FIELD(strcpy(m.bypass_issuer, "ro/ot"), "bypass code issuer", "slash in the issuer");
	BAD_FIELD(strcpy(m.bypass_issuer, "root\nEvil"), "bypass code issuer", "newline in the issuer");
	BAD_FIELD(strcpy(m.bypass_issuer, "r\xc3"), "bypass code issuer", "broken UTF-8 in the issuer");
	BAD_FIELD(memset(m.bypass_issuer, 'a', sizeof(m.bypass_issuer)), "bypass code issuer",
		  "issuer not terminated");
	BAD_FIELD(m.invite_expires = 0, "invite", "invite without expiry");
	BAD_FIELD(m.invite_expires = 5, "invite", "invite expiring in 1970");
	BAD_FIELD(strcpy(m.invite, "b2$short"), "invite", "malformed invite hash");
	BAD_FIELD(m.invite[0] = '\0', "invite", "expiry without an invite hash");
	BAD_FIELD(strcpy(m.rate_limit_id, "a b"), "rate-limit id", "space in the rate-limit id");
	BAD_FIELD(strcpy(m.rate_limit_id, "a.b"), "rate-limit id", "dot in the rate-limit id");
	BAD_FIELD(strcpy(m.rate_limit_id, "r\xc3\xa9"), "rate-limit id", "UTF-8 in the rate-limit id");
	BAD_FIELD(memset(m.rate_limit_id, 'a', sizeof(m.rate_limit_id)), "rate-limit id",
		  "65-byte rate-limit id");
	BAD_FIELD(strcpy(m.totp_entity, "alice/1"), "TOTP entity", "slash in the TOTP entity");
	BAD_FIELD(memset(m.totp_entity, 'a', sizeof(m.totp_entity)), "TOTP entity", "65-byte TOTP entity");
	BAD_FIELD(strcpy(m.totp_factor, "YF0123456789ABCDEF0123456789abcdef"), "TOTP factor",
		  "uppercase factor SID");
	BAD_FIELD(strcpy(m.totp_factor, "YE0123456789abcdef0123456789abcdef"), "TOTP factor",
		  "other SID prefix");
	BAD_FIELD(strcpy(m.totp_factor, "YF0123456789abcdef0123456789abcde"), "TOTP factor",
		  "short factor SID");
	BAD_FIELD(memset(m.totp_factor, 'a', sizeof(m.totp_factor)), "TOTP factor",
		  "factor SID not terminated");
	BAD_FIELD(m.phone[0] = '\0', "phone number", "no phone on the sms channel");
	BAD_FIELD(m.phone[0] = '\0';
		  m.channel = TWOFA_CHANNEL_CALL, "phone number", "no phone on the call channel");
	BAD_FIELD(m.phone[0] = '\0';
		  m.channel = TWOFA_CHANNEL_WHATSAPP, "phone number", "no phone on the whatsapp channel");
	BAD_FIELD(m.phone[0] = '\0'; m.channel = TWOFA_CHANNEL_EMAIL, "country", "country without a phone");
	BAD_FIELD(m.country[0] = '\0', "country", "phone without a country");
	BAD_FIELD(m.phone[0] = '\0'; m.country[0] = '\0'; m.channel = TWOFA_CHANNEL_EMAIL; free(m.email);
		  m.email = NULL, "email", "no phone and no email");
	BAD_FIELD(m.totp_entity[0] = '\0', "TOTP factor", "a TOTP factor without its entity");
	BAD_FIELD(m.totp_factor[0] = '\0'; m.channel = TWOFA_CHANNEL_TOTP, "totp", "totp channel, no factor");
	BAD_FIELD(m.totp_factor[0] = '\0'; m.totp_entity[0] = '\0';
		  m.channel = TWOFA_CHANNEL_TOTP, "totp", "totp channel, no entity or factor");
	BAD_FIELD(m.phone[0] = '\0'; m.channel = TWOFA_CHANNEL_TOTP, "country", "totp: country without phone");
#undef BAD_FIELD

	/* The edges that are fine. */
	fill_all(&m);
	m.version = TWOFA_MEMBER_RECORD_VERSION_MAX;
	m.bypass_uses = TWOFA_MEMBER_BYPASS_USES_MAX;
	memset(m.rate_limit_id, 'Z', sizeof(m.rate_limit_id) - 1);
	strcpy(m.totp_entity, "-");
	memset(m.bypass_issuer, 'i', TWOFA_USER_NAME_MAX);
	ok(twofa_member_validate(&m, &err) == TWOFA_OK,
	   "largest version, 100 uses, 256-byte issuer, 64-byte id, 1-byte id: %s", err.msg);
	m.bypass_issuer[0] = '\0';
	ok(twofa_member_validate(&m, &err) == TWOFA_OK, "a bypass code without a recorded issuer: %s",
	   err.msg);
	m.version = 1;
	m.bypass_uses = 1;
	m.recovery_count = 1;
	m.unlocked = 0;
	ok(twofa_member_validate(&m, &err) == TWOFA_OK, "1 use, one recovery code, never unlocked: %s",
	   err.msg);
	m.recovery_count = 0;
	memset(m.recovery, 0, sizeof(m.recovery));
	m.bypass[0] = '\0';
	m.bypass_uses = 0;
	m.bypass_expires = 0;
	m.invite[0] = '\0';
	m.invite_expires = 0;
	ok(twofa_member_validate(&m, &err) == TWOFA_OK, "no codes at all: %s", err.msg);
	code_hash(h, 9);
	twofa_free_secret(m.password_hash);
	m.password_hash = NULL;
	ok(twofa_member_validate(&m, &err) == TWOFA_OK, "no twofa password: %s", err.msg);
	m.phone[0] = '\0';
	m.country[0] = '\0';
	m.channel = TWOFA_CHANNEL_EMAIL;
	ok(twofa_member_validate(&m, &err) == TWOFA_OK, "no phone on the email channel: %s", err.msg);
	m.channel = TWOFA_CHANNEL_TOTP;
	free(m.email);
	m.email = NULL;
	ok(twofa_member_validate(&m, &err) == TWOFA_OK, "an app member with no phone or email: %s", err.msg);
	twofa_strlcpy(m.phone, "+441632960001", sizeof(m.phone));
	twofa_strlcpy(m.country, "GB", sizeof(m.country));
	ok(twofa_member_validate(&m, &err) == TWOFA_OK, "an app member who keeps a phone: %s", err.msg);
	m.totp_factor[0] = '\0';
	m.channel = TWOFA_CHANNEL_SMS;
	ok(twofa_member_validate(&m, &err) == TWOFA_OK, "an entity without a factor (sms member): %s",
	   err.msg);
	twofa_member_free(&m);
}

/* Hostile values of the later fields in a record: refused, the field named. */
static void bad_field_mut(const char *from, const char *to, const char *field, const char *what)
{
	twofa_member m;
	twofa_error err = {TWOFA_OK, ""};
	char *j = mutate(from, to);

	ok(j != NULL && twofa_member_decode(j, strlen(j), &m, &err) == TWOFA_EINVAL && m.user == NULL &&
		   m.password_hash == NULL && later_fields_zero(&m) && strstr(err.msg, field) != NULL &&
		   strstr(err.msg, "b2$") == NULL,
	   "rejected: %s (%s)", what, err.msg);
	free(j);
}

static void good_mut(const char *from, const char *to, const char *what)
{
	twofa_member m;
	twofa_error err = {TWOFA_OK, ""};
	char *j = mutate(from, to);

	ok(j != NULL && twofa_member_decode(j, strlen(j), &m, &err) == TWOFA_OK, "accepted: %s (%s)", what,
	   err.msg);
	twofa_member_free(&m);
	free(j);
}

static void test_decode_later(void)
{
	char h1[TWOFA_MEMBER_CODE_HASH_SIZE], h2[TWOFA_MEMBER_CODE_HASH_SIZE];
	char to[4096], big[400];
	size_t used;
	twofa_member m;
	twofa_error err = {TWOFA_OK, ""};
	char *j;

	code_hash(h1, 1);
	code_hash(h2, 2);
#define V "\"v\":1"
	/* Without a twofa password: hash absent or null. */
	j = mutate("\"password_hash\":\"$argon2id$v=19$m=65536,t=2,p=1$c29tZXNhbHQ$aGFzaA\",", "");
	ok(j != NULL && twofa_member_decode(j, strlen(j), &m, &err) == TWOFA_OK && m.password_hash == NULL,
	   "no password_hash: a member without a twofa password (%s)", err.msg);
	twofa_member_free(&m);
	free(j);
	good_mut("\"password_hash\":\"$argon2id$v=19$m=65536,t=2,p=1$c29tZXNhbHQ$aGFzaA\"",
		 "\"password_hash\":null", "password_hash null");
	bad_field_mut("\"password_hash\":\"$argon2id$v=19$m=65536,t=2,p=1$c29tZXNhbHQ$aGFzaA\"",
		      "\"password_hash\":\"\"", "password hash", "password_hash empty");
	bad_field_mut("\"password_hash\":\"$argon2id$v=19$m=65536,t=2,p=1$c29tZXNhbHQ$aGFzaA\"",
		      "\"password_hash\":7", "password_hash", "password_hash a number");
	/* No phone: only on the email channel. */
	bad_field_mut("\"phone\":\"+447911123456\"", "\"phone\":null", "phone number", "phone null on sms");
	j = mutate("\"phone\":\"+447911123456\"", "\"phone\":null");
	if (j != NULL) {
		char *k = NULL;
		const char *at = strstr(j, "\"channel\":\"sms\",\"country\":\"GB\"");

		if (at != NULL && (k = malloc(strlen(j) + 64)) != NULL)
			sprintf(k, "%.*s\"channel\":\"email\",\"country\":null,\"email\":\"b@example.org\"%s",
				(int)(at - j), j, strstr(at, ",\"created\""));
		if (k != NULL) {
			char *e = strstr(k, ",\"email\":null");
			memmove(e, e + strlen(",\"email\":null"), strlen(e + strlen(",\"email\":null")) + 1);
		}
		ok(k != NULL && twofa_member_decode(k, strlen(k), &m, &err) == TWOFA_OK &&
			   m.phone[0] == '\0' && m.country[0] == '\0' && m.channel == TWOFA_CHANNEL_EMAIL,
		   "phone and country null on the email channel: an app member (%s)", err.msg);
		twofa_member_free(&m);
		free(k);
		free(j);
	}
	bad_field_mut("\"country\":\"GB\"", "\"country\":null", "country", "phone without a country");

	/* version */
	good_mut(V, V ",\"version\":1", "version 1");
	good_mut(V, V ",\"version\":9223372036854775807", "version 2^63-1");
	bad_field_mut(V, V ",\"version\":0", "version", "version 0");
	bad_field_mut(V, V ",\"version\":-3", "version", "negative version");
	bad_field_mut(V, V ",\"version\":\"4\"", "version", "version as a string");
	/* Refused by the reader: records hold no reals (lib/json_read.h). */
	bad_field_mut(V, V ",\"version\":4.0", "real number", "version as a real");
	bad_field_mut(V, V ",\"version\":null", "version", "version null");
	bad_field_mut(V, V ",\"version\":true", "version", "version a boolean");
	bad_field_mut(V, V ",\"version\":4,\"version\":5", "duplicate", "version twice");
	bad_field_mut(V, V ",\"version\":9223372036854775808", "out of range", "version over 2^63-1");
	/* unlocked */
	good_mut(V, V ",\"unlocked\":\"2025-11-24T17:00:00Z\"", "unlocked");
	bad_field_mut(V, V ",\"unlocked\":null", "unlocked", "unlocked null");
	bad_field_mut(V, V ",\"unlocked\":1764000000", "unlocked", "unlocked a number");
	bad_field_mut(V, V ",\"unlocked\":\"yesterday\"", "unlocked", "unlocked not a time");
	bad_field_mut(V, V ",\"unlocked\":\"1970-01-01T00:00:00Z\"", "unlocked", "unlocked at the epoch");
	bad_field_mut(V, V ",\"unlocked\":\"1999-12-31T23:59:59Z\"", "unlock time", "unlocked before 2000");
	/* recovery */
	snprintf(to, sizeof(to), V ",\"recovery\":[\"%s\",\"%s\"]", h1, h2);
	good_mut(V, to, "two recovery codes");
	snprintf(to, sizeof(to), V ",\"recovery\":[\"%s\",\"%s\"]", h1, h1);
	bad_field_mut(V, to, "recovery codes 1 and 2", "the same recovery code twice");
	bad_field_mut(V, V ",\"recovery\":[]", "recovery", "empty recovery list");
	bad_field_mut(V, V ",\"recovery\":null", "recovery", "recovery null");
	snprintf(to, sizeof(to), V ",\"recovery\":\"%s\"", h1);
	bad_field_mut(V, to, "recovery", "recovery a string");
	bad_field_mut(V, V ",\"recovery\":[5]", "recovery", "recovery code a number");
	bad_field_mut(V, V ",\"recovery\":[null]", "recovery", "recovery code null");
	bad_field_mut(V, V ",\"recovery\":[\"b2$00\"]", "recovery code 1", "recovery code short");
	memset(big, 'a', 300);
	big[300] = '\0';
	snprintf(to, sizeof(to), V ",\"recovery\":[\"%s\"]", big);
	bad_field_mut(V, to, "recovery", "300-byte recovery code");
	used = (size_t)snprintf(to, sizeof(to), V ",\"recovery\":[");
	for (unsigned i = 0; i <= TWOFA_MEMBER_RECOVERY_MAX; i++) {
		code_hash(h2, i + 10);
		used += (size_t)snprintf(to + used, sizeof(to) - used, "%s\"%s\"", i ? "," : "", h2);
	}
	snprintf(to + used, sizeof(to) - used, "]");
	bad_field_mut(V, to, "recovery", "21 recovery codes");
	code_hash(h2, 2);
	/* bypass */
	snprintf(to, sizeof(to),
		 V ",\"bypass\":{\"expires\":\"2025-12-01T00:00:00Z\",\"hash\":\"%s\",\"uses\":100}", h1);
	good_mut(V, to, "bypass with 100 uses, no issuer (a record from before issuers)");
	snprintf(to, sizeof(to),
		 V ",\"bypass\":{\"expires\":\"2025-12-01T00:00:00Z\",\"hash\":\"%s\",\"uses\":101}", h1);
	bad_field_mut(V, to, "bypass.uses", "bypass with 101 uses");
	snprintf(to, sizeof(to),
		 V ",\"bypass\":{\"expires\":\"2025-12-01T00:00:00Z\",\"hash\":\"%s\",\"issuer\":\"jörg\","
		   "\"uses\":2}",
		 h1);
	good_mut(V, to, "bypass with an issuer");
	{
		/* Issuers that are refused, the field each message names. */
		char issuer300[sizeof(big) + 2];
		const char *const issuers[][3] = {
			{"\"\"", "bypass.issuer", "an empty issuer"},
			{"7", "bypass.issuer", "an issuer that is a number"},
			{issuer300, "bypass.issuer", "a 300-byte issuer"},
			{"\"a/b\"", "bypass code issuer", "an issuer that is no login name"},
		};

		snprintf(issuer300, sizeof(issuer300), "\"%s\"", big);
		for (size_t i = 0; i < sizeof(issuers) / sizeof(issuers[0]); i++) {
			snprintf(to, sizeof(to),
				 V
				 ",\"bypass\":{\"expires\":\"2025-12-01T00:00:00Z\",\"hash\":\"%s\",\"issuer\":%s,"
				 "\"uses\":2}",
				 h1, issuers[i][0]);
			bad_field_mut(V, to, issuers[i][1], issuers[i][2]);
		}
	}
	snprintf(to, sizeof(to),
		 V
		 ",\"bypass\":{\"expires\":\"2025-12-01T00:00:00Z\",\"hash\":\"%s\",\"later\":[1],\"uses\":1}",
		 h1);
	good_mut(V, to, "unknown key inside bypass ignored");
	snprintf(to, sizeof(to),
		 V ",\"bypass\":{\"expires\":\"2025-12-01T00:00:00Z\",\"hash\":\"%s\",\"uses\":0}", h1);
	bad_field_mut(V, to, "bypass.uses", "bypass with 0 uses");
	snprintf(to, sizeof(to),
		 V ",\"bypass\":{\"expires\":\"2025-12-01T00:00:00Z\",\"hash\":\"%s\",\"uses\":\"3\"}", h1);
	bad_field_mut(V, to, "bypass.uses", "bypass uses a string");
	snprintf(to, sizeof(to),
		 V ",\"bypass\":{\"expires\":\"2025-12-01T00:00:00Z\",\"hash\":\"%s\",\"uses\":4294967297}",
		 h1);
	bad_field_mut(V, to, "bypass.uses", "bypass uses over 32 bits");
	snprintf(to, sizeof(to), V ",\"bypass\":{\"expires\":\"2025-12-01T00:00:00Z\",\"hash\":\"%s\"}", h1);
	bad_field_mut(V, to, "bypass.uses", "bypass without uses");
	snprintf(to, sizeof(to), V ",\"bypass\":{\"hash\":\"%s\",\"uses\":2}", h1);
	bad_field_mut(V, to, "bypass.expires", "bypass without expiry");
	snprintf(to, sizeof(to), V ",\"bypass\":{\"expires\":null,\"hash\":\"%s\",\"uses\":2}", h1);
	bad_field_mut(V, to, "bypass.expires", "bypass expiry null");
	bad_field_mut(V, V ",\"bypass\":{\"expires\":\"2025-12-01T00:00:00Z\",\"uses\":2}", "bypass.hash",
		      "bypass without hash");
	snprintf(to, sizeof(to),
		 V ",\"bypass\":{\"expires\":\"2025-12-01T00:00:00Z\",\"hash\":\"%s\",\"uses\":2}", big);
	bad_field_mut(V, to, "bypass.hash", "300-byte bypass hash");
	snprintf(to, sizeof(to),
		 V
		 ",\"bypass\":{\"expires\":\"2025-12-01T00:00:00Z\",\"hash\":\"%s\",\"hash\":\"%s\",\"uses\":2}",
		 h1, h2);
	bad_field_mut(V, to, "duplicate", "bypass hash twice");
	snprintf(to, sizeof(to), V ",\"bypass\":\"%s\"", h1);
	bad_field_mut(V, to, "bypass", "bypass a string");
	bad_field_mut(V, V ",\"bypass\":{}", "bypass.hash", "bypass empty");
	/* invite */
	snprintf(to, sizeof(to), V ",\"invite\":{\"expires\":\"2025-12-01T00:00:00Z\",\"hash\":\"%s\"}", h1);
	good_mut(V, to, "invite");
	snprintf(to, sizeof(to), V ",\"invite\":{\"hash\":\"%s\"}", h1);
	bad_field_mut(V, to, "invite.expires", "invite without expiry");
	snprintf(to, sizeof(to), V ",\"invite\":{\"expires\":\"2025-12-01T00:00:00Z\",\"hash\":\"%.99s\"}",
		 h1);
	bad_field_mut(V, to, "invite", "invite hash one short");
	bad_field_mut(V, V ",\"invite\":[]", "invite", "invite a list");
	/* ids */
	good_mut(V,
		 V
		 ",\"rate_limit_id\":\"r-1_A\",\"totp_entity\":\"x\",\"totp_factor\":\"YF0123456789abcdef0123456789abcdef\"",
		 "ids");
	bad_field_mut(V, V ",\"rate_limit_id\":\"\"", "rate_limit_id", "empty rate-limit id");
	bad_field_mut(V, V ",\"rate_limit_id\":\"a*b\"", "rate-limit id", "star in the rate-limit id");
	bad_field_mut(V, V ",\"rate_limit_id\":5", "rate_limit_id", "rate-limit id a number");
	bad_field_mut(V, V ",\"rate_limit_id\":null", "rate_limit_id", "rate-limit id null");
	snprintf(to, sizeof(to), V ",\"rate_limit_id\":\"%.65s\"", big);
	bad_field_mut(V, to, "rate_limit_id", "65-byte rate-limit id");
	bad_field_mut(V, V ",\"totp_entity\":\"x)(uid=*\"", "TOTP entity", "filter characters in the entity");
	snprintf(to, sizeof(to), V ",\"totp_entity\":\"%s\"", big);
	bad_field_mut(V, to, "totp_entity", "300-byte TOTP entity");
	bad_field_mut(V, V ",\"totp_factor\":\"YF0123456789abcdef0123456789abcdeF\"", "TOTP factor",
		      "uppercase in the factor SID");
	bad_field_mut(V, V ",\"totp_factor\":\"YF0123456789abcdef0123456789abcdef0\"", "totp_factor",
		      "35-byte factor SID");
	bad_field_mut(V, V ",\"totp_factor\":[]", "totp_factor", "factor SID a list");
#undef V
}

/* An invite for carol, issued at 1764000000 and expiring an hour later. */
static void invited_fill(twofa_member *m, char code[TWOFA_ONETIME_TEXT_SIZE])
{
	memset(m, 0, sizeof(*m));
	m->user = strdup("carol");
	m->channel = TWOFA_CHANNEL_SMS;
	m->status = TWOFA_MEMBER_INVITED;
	m->created = m->updated = 1764000000;
	m->version = 1;
	m->invite_expires = 1764003600;
	if (twofa_onetime_generate(code, NULL) != TWOFA_OK ||
	    twofa_onetime_hash("carol", TWOFA_MEMBER_CODE_INVITE, code, m->invite, NULL) != TWOFA_OK)
		diag("cannot make an invite");
}

/* The invited record: its status, its own validation, its JSON, and
 * twofa_member_invite_matches. */
static void test_invited(void)
{
	char code[TWOFA_ONETIME_TEXT_SIZE], other[TWOFA_ONETIME_TEXT_SIZE], lower[TWOFA_ONETIME_TEXT_SIZE];
	twofa_member m, back;
	twofa_member_status st = TWOFA_MEMBER_ACTIVE;
	twofa_error err = {TWOFA_OK, ""};
	char *json = NULL;

	ok(strcmp(twofa_member_status_name(TWOFA_MEMBER_INVITED), "invited") == 0 &&
		   twofa_member_status_parse("invited", &st) && st == TWOFA_MEMBER_INVITED,
	   "status invited: name and parse");
	ok(strcmp(twofa_member_status_name(TWOFA_MEMBER_ACTIVE), "active") == 0 &&
		   strcmp(twofa_member_status_name(TWOFA_MEMBER_DISABLED), "disabled") == 0 &&
		   twofa_member_status_name((twofa_member_status)4) == NULL,
	   "the old names keep their values; one past invited is unknown");
	invited_fill(&m, code);
	ok(twofa_member_validate(&m, &err) == TWOFA_OK, "an invited record: no phone, country or hash: %s",
	   err.msg);
	ok(twofa_member_encode(&m, &json, &err) == TWOFA_OK && json != NULL &&
		   strstr(json, "\"status\":\"invited\"") != NULL && strstr(json, "\"phone\":null") != NULL,
	   "encoded with status invited and no phone");
	ok(json != NULL && twofa_member_decode(json, strlen(json), &back, &err) == TWOFA_OK &&
		   member_fixture_same(&m, &back),
	   "and read back the same: %s", err.msg);
	twofa_member_free(&back);
	twofa_free_secret(json);
	json = NULL;

	ok(twofa_member_invite_matches(&m, code, 1764000000), "the invite matches at issue time");
	ok(twofa_member_invite_matches(&m, code, 1764003599), "and a second before it expires");
	ok(!twofa_member_invite_matches(&m, code, 1764003600), "not at its expiry");
	ok(!twofa_member_invite_matches(&m, code, 1764090000), "nor a day later");
	snprintf(lower, sizeof(lower), "%s", code);
	for (char *p = lower; *p != '\0'; p++)
		*p = (char)(*p >= 'A' && *p <= 'Z' ? *p - 'A' + 'a' : *p);
	ok(twofa_member_invite_matches(&m, lower, 1764000000), "typed in lowercase: still the code");
	ok(twofa_onetime_generate(other, NULL) == TWOFA_OK &&
		   !twofa_member_invite_matches(&m, other, 1764000000),
	   "another code does not match");
	ok(!twofa_member_invite_matches(&m, "", 1764000000) &&
		   !twofa_member_invite_matches(&m, NULL, 1764000000) &&
		   !twofa_member_invite_matches(NULL, code, 1764000000) &&
		   !twofa_member_invite_matches(&m, "123456", 1764000000),
	   "empty, NULL, no record and a Verify code do not match");
	free(m.user);
	m.user = strdup("dave");
	ok(!twofa_member_invite_matches(&m, code, 1764000000),
	   "carol's invite copied to dave's record does not");
	free(m.user);
	m.user = strdup("carol");
	m.status = TWOFA_MEMBER_ACTIVE;
	ok(!twofa_member_invite_matches(&m, code, 1764000000), "an invite on a record not invited does not");
	twofa_member_free(&m);

#define BAD_INVITED(mutate, what)                                                                         \
	do {                                                                                              \
		invited_fill(&m, code);                                                                   \
		mutate;                                                                                   \
		twofa_error_clear(&err);                                                                  \
		ok(twofa_member_validate(&m, &err) == TWOFA_EINVAL && strstr(err.msg, "carol") != NULL && \
			   strstr(err.msg, "b2$") == NULL,                                                \
		   "invalid invited record: %s (%s)", what, err.msg);                                     \
		twofa_member_free(&m);                                                                    \
	} while (0)
	BAD_INVITED((m.invite[0] = '\0', m.invite_expires = 0), "no invite");
	BAD_INVITED((strcpy(m.phone, "+447911123456"), strcpy(m.country, "GB")), "a phone number");
	BAD_INVITED(strcpy(m.country, "GB"), "a country alone");
	BAD_INVITED(m.password_hash = strdup(MEMBER_FIXTURE_HASH), "a password hash");
	BAD_INVITED(m.verified = 1764000000, "a verified time");
	BAD_INVITED((m.recovery_count = 1, member_fixture_code_hash(m.recovery[0], 1)), "a recovery code");
	BAD_INVITED((member_fixture_code_hash(m.bypass, 2), m.bypass_uses = 1, m.bypass_expires = 1764003600),
		    "a bypass code");
	BAD_INVITED((strcpy(m.totp_entity, "tf1"),
		     strcpy(m.totp_factor, "YF0123456789abcdef0123456789abcdef")),
		    "a TOTP factor");
	BAD_INVITED(m.channel = TWOFA_CHANNEL_TOTP, "the totp channel");
#undef BAD_INVITED
	invited_fill(&m, code);
	m.channel = TWOFA_CHANNEL_EMAIL;
	ok(twofa_member_validate(&m, &err) == TWOFA_OK,
	   "an invited record of the email channel needs no address");
	twofa_member_free(&m);
	member_fixture_fill(&m);
	m.phone[0] = m.country[0] = '\0';
	ok(twofa_member_validate(&m, &err) == TWOFA_EINVAL, "a member of sms without a phone stays invalid");
	twofa_member_free(&m);
}

int main(void)
{
	test_names();
	test_round_trip();
	test_validate();
	test_phone();
	test_decode_hostile();
	test_old_records();
	test_all_fields();
	test_code_hash();
	test_validate_later();
	test_decode_later();
	test_invited();
	return tap_done();
}
