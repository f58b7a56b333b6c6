/* SPDX-License-Identifier: GPL-3.0-or-later */
/* lib/json_read: what it reads, it reads as jansson does (json_loadb with
 * JSON_REJECT_DUPLICATES, compared with json_equal); what it refuses, jansson
 * refuses too, but for the two documented exclusions (reals, deep nesting);
 * every record the store's encoders write reads equal to jansson's parse. */
#include "twofa_build.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "json_read.h"
#include "member.h"
#include "member_fixture.h"
#include "state.h"
#include "tap.h"
#include "util.h"

/* Both read the len bytes at text, to equal values. */
static bool same_as_jansson(const char *text, size_t len)
{
	twofa_json_read_error err;
	json_t *mine = twofa_json_read(text, len, &err);
	json_t *theirs = json_loadb(text, len, JSON_REJECT_DUPLICATES, NULL);
	bool same = mine != NULL && theirs != NULL && json_equal(mine, theirs);

	if (mine == NULL)
		diag("refused (%s) at byte %zu", err.reason, err.position);
	json_decref(mine);
	json_decref(theirs);
	return same;
}

/* Both refuse it; mine with a reason and a position inside the text. */
static bool both_refuse(const char *text, size_t len)
{
	twofa_json_read_error err = {.position = (size_t)-1, .reason = NULL};
	json_t *mine = twofa_json_read(text, len, &err);
	json_t *theirs = json_loadb(text, len, JSON_REJECT_DUPLICATES, NULL);
	bool refused = mine == NULL && theirs == NULL && err.reason != NULL && err.position <= len;

	json_decref(mine);
	json_decref(theirs);
	return refused;
}

/* jansson reads the len bytes at text, mine refuses them, for the reason given. */
static bool excluded_n(const char *text, size_t len, const char *reason)
{
	twofa_json_read_error err = {0};
	json_t *mine = twofa_json_read(text, len, &err);
	json_t *theirs = json_loadb(text, len, JSON_REJECT_DUPLICATES, NULL);
	bool as_documented = mine == NULL && theirs != NULL && err.reason != NULL &&
			     strcmp(err.reason, reason) == 0;

	json_decref(mine);
	json_decref(theirs);
	return as_documented;
}

static bool excluded(const char *text, const char *reason)
{
	return excluded_n(text, strlen(text), reason);
}

#define SAME(lit) ok(same_as_jansson(lit, sizeof(lit) - 1), "reads as jansson: %s", #lit)
#define REFUSED(lit) ok(both_refuse(lit, sizeof(lit) - 1), "both refuse: %s", #lit)

static void test_strings(void)
{
	json_t *v;
	twofa_json_read_error err;

	SAME("{\"a\":\"\"}");
	SAME("{\"\":\"empty key\"}");
	SAME("[\"\\\"\\\\\\/\\b\\f\\n\\r\\t\"]");
	SAME("[\"\\u0041\\u00e9\\u20AC\\uFFFF\"]");
	SAME("[\"\\ud83d\\ude00\"]");    /* a surrogate pair: U+1F600 */
	SAME("[\"\\uDBFF\\uDFFF\"]");    /* U+10FFFF */
	SAME("[\"\\u0001\"]");           /* a control character, escaped */
	SAME("{\"k\\u00e9y\":1}");       /* an escaped key */
	REFUSED("[\"\\ud83d\"]");        /* lone high surrogate */
	REFUSED("[\"\\ud83dx\"]");       /* high surrogate, then a plain byte */
	REFUSED("[\"\\ud83d\\u0041\"]"); /* high surrogate, then no low one */
	REFUSED("[\"\\ude00\"]");        /* lone low surrogate */
	REFUSED("[\"\\u0000\"]");        /* NUL: jansson needs JSON_ALLOW_NUL */
	REFUSED("{\"a\\u0000b\":1}");    /* NUL in a key */
	REFUSED("[\"\\x41\"]");          /* no such escape */
	REFUSED("[\"\\u12\"]");          /* short \u */
	REFUSED("[\"\\u12G4\"]");        /* not hex */
	REFUSED("[\"a\nb\"]");           /* raw control characters */
	REFUSED("[\"a\tb\"]");
	REFUSED("[\"a\x01\"]");
	REFUSED("[\"a\x00\"]");
	REFUSED("[\"abc]"); /* unterminated */
	REFUSED("[\"abc\\");
	REFUSED("['single']");

	/* The decoded value, byte for byte. */
	v = twofa_json_read("[\"x\\ud83d\\ude00\\n\"]", 19, &err);
	ok(v != NULL && json_string_length(json_array_get(v, 0)) == 6 &&
		   memcmp(json_string_value(json_array_get(v, 0)), "x\xf0\x9f\x98\x80\n", 6) == 0,
	   "a surrogate pair decodes to its 4-byte UTF-8 form");
	json_decref(v);
}

static void test_utf8(void)
{
	SAME("[\"caf\xc3\xa9\"]");               /* 2 bytes */
	SAME("[\"\xe2\x82\xac\"]");              /* 3 bytes */
	SAME("[\"\xf0\x9f\x98\x80\"]");          /* 4 bytes */
	SAME("[\"\xf4\x8f\xbf\xbf\"]");          /* U+10FFFF */
	SAME("{\"\xc3\xa9\":\"\xef\xbf\xbf\"}"); /* in a key, and U+FFFF */
	REFUSED("[\"\xc0\xaf\"]");               /* overlong '/' */
	REFUSED("[\"\xc1\xbf\"]");
	REFUSED("[\"\xe0\x80\xaf\"]");     /* overlong, 3 bytes */
	REFUSED("[\"\xf0\x80\x80\xaf\"]"); /* overlong, 4 bytes */
	REFUSED("[\"\xed\xa0\x80\"]");     /* an encoded surrogate */
	REFUSED("[\"\xf4\x90\x80\x80\"]"); /* above U+10FFFF */
	REFUSED("[\"\xf5\x80\x80\x80\"]");
	REFUSED("[\"\x80\"]"); /* a continuation byte first */
	REFUSED("[\"\xc3\"]"); /* cut short by the quote */
	REFUSED("[\"\xe2\x82\"]");
	REFUSED("[\"\xc3"); /* cut short by the end */
	REFUSED("[\"\xff\"]");
	REFUSED("[\xc3\xa9]"); /* UTF-8 outside a string */
}

static void test_numbers(void)
{
	json_t *v;
	twofa_json_read_error err;

	SAME("[0,-0,1,-1,42,1700000000]");
	SAME("[9223372036854775807]"); /* jansson's integer range: long long */
	SAME("[-9223372036854775808]");
	REFUSED("[9223372036854775808]");
	REFUSED("[-9223372036854775809]");
	REFUSED("[99999999999999999999999]");
	REFUSED("[01]"); /* leading zeros */
	REFUSED("[-01]");
	REFUSED("[00]");
	REFUSED("[-]");
	REFUSED("[+1]");
	REFUSED("[1.]");
	REFUSED("[.5]");
	REFUSED("[1e]");
	REFUSED("[0x10]");
	REFUSED("[1 2]");
	REFUSED("[Infinity]");
	REFUSED("[NaN]");
	ok(excluded("[1.5]", TWOFA_JSON_READ_REAL), "a real is refused, as documented");
	ok(excluded("[1e3]", TWOFA_JSON_READ_REAL) && excluded("[-0.0]", TWOFA_JSON_READ_REAL) &&
		   excluded("[2E-2]", TWOFA_JSON_READ_REAL),
	   "so are an exponent and -0.0");
	ok(excluded("[99999999999999999999.5]", TWOFA_JSON_READ_REAL),
	   "a real too long for an integer is refused as a real, which jansson reads");

	v = twofa_json_read("[-9223372036854775808,-0]", 25, &err);
	ok(v != NULL && json_integer_value(json_array_get(v, 0)) == (json_int_t)(-9223372036854775807LL - 1) &&
		   json_is_integer(json_array_get(v, 1)) && json_integer_value(json_array_get(v, 1)) == 0,
	   "the smallest integer and -0 (an integer 0, as in jansson)");
	json_decref(v);
}

static void test_structure(void)
{
	twofa_json_read_error err = {0};
	char deep[64];
	json_t *v;
	int i;

	SAME("{}");
	SAME("[]");
	SAME(" \t\r\n{ \"a\" : [ 1 , true , false , null , { } , [ ] ] } \n\t\r ");
	SAME("{\"a\":{\"b\":{\"c\":[[1]]}}}");
	REFUSED("");
	REFUSED(" ");
	REFUSED("\"top-level string\""); /* jansson needs JSON_DECODE_ANY */
	REFUSED("1");
	REFUSED("null");
	REFUSED("{\"a\":1}x"); /* trailing garbage */
	REFUSED("{\"a\":1}{}");
	REFUSED("{\"a\":1}\x00");
	/* jansson's lexer skips one NUL straight after a number or a literal. */
	ok(excluded_n("[0\0]", 4, TWOFA_JSON_READ_NUL) &&
		   excluded_n("{\"a\":true\0,\"b\":1}", sizeof("{\"a\":true\0,\"b\":1}") - 1,
			      TWOFA_JSON_READ_NUL),
	   "a NUL after a number or a literal is refused, as documented");
	REFUSED("[0\0\0]");   /* two it does not skip */
	REFUSED("[\"a\"\0]"); /* nor one after a string */
	REFUSED("[[]\0]");
	REFUSED("{\"a\":1,}"); /* trailing commas */
	REFUSED("[1,]");
	REFUSED("[,1]");
	REFUSED("{,}");
	REFUSED("{\"a\"}");
	REFUSED("{\"a\":}");
	REFUSED("{\"a\" 1}");
	REFUSED("{a:1}");
	REFUSED("{1:1}");
	REFUSED("{\"a\":1 \"b\":2}");
	REFUSED("[tru]");
	REFUSED("[truex]");
	REFUSED("[nul]");
	REFUSED("[True]");
	REFUSED("[\x0b]"); /* not RFC 8259 whitespace */
	REFUSED("[\f]");
	REFUSED("[1");
	REFUSED("{\"a\":1");
	REFUSED("{");
	REFUSED("[[[]]");
	REFUSED("[]]");

	/* Duplicates: the callers pass JSON_REJECT_DUPLICATES. */
	REFUSED("{\"a\":1,\"a\":2}");
	REFUSED("{\"a\":1,\"b\":2,\"a\":1}");
	REFUSED("{\"a\":1,\"\\u0061\":2}"); /* the same key, escaped */
	REFUSED("{\"x\":{\"a\":1,\"a\":1}}");
	SAME("{\"a\":{\"a\":1},\"b\":{\"a\":2}}"); /* the same key in two objects */

	/* Nesting: TWOFA_JSON_READ_DEPTH_MAX levels read, one more does not. */
	for (i = 0; i < TWOFA_JSON_READ_DEPTH_MAX; i++) {
		deep[i] = '[';
		deep[2 * TWOFA_JSON_READ_DEPTH_MAX - 1 - i] = ']';
	}
	ok(same_as_jansson(deep, 2 * TWOFA_JSON_READ_DEPTH_MAX), "%d levels read", TWOFA_JSON_READ_DEPTH_MAX);
	memmove(deep + 1, deep, 2 * TWOFA_JSON_READ_DEPTH_MAX);
	deep[2 * TWOFA_JSON_READ_DEPTH_MAX + 1] = ']';
	deep[2 * TWOFA_JSON_READ_DEPTH_MAX + 2] = '\0';
	ok(excluded(deep, TWOFA_JSON_READ_DEEP), "%d levels are refused, as documented",
	   TWOFA_JSON_READ_DEPTH_MAX + 1);

	/* The length is the caller's: nothing past it is read. */
	ok(same_as_jansson("{\"a\":1}garbage", 7), "reads only len bytes");
	v = twofa_json_read("{\"a\":\"bc\"}", 8, &err);
	ok(v == NULL && err.position == 8 && strcmp(err.reason, "unterminated string") == 0,
	   "a string cut by len is unterminated at len: %s at %zu", err.reason, err.position);
	v = twofa_json_read(NULL, 0, &err);
	ok(v == NULL && strcmp(err.reason, "empty") == 0, "no text: empty");
}

/* The reason and the position, never the text. */
static void test_errors(void)
{
	static const struct {
		const char *text;
		size_t position;
		const char *reason;
	} cases[] = {
		{"{\"phone\":\"+447700900123\",\"phone\":1}", 25, "duplicate key"},
		{"{\"hash\":\"$argon2id$\x01\"}", 19, "control character in a string"},
		{"{\"a\":1}  x", 9, "data after the value"},
		{"{\"a\":01}", 5, "number with a leading zero"},
		{"{\"a\":1.5}", 5, TWOFA_JSON_READ_REAL},
		{"{\"a\":\"\\ud800\"}", 6, "high surrogate without a low one"},
		{"{\"a\":\"\xc0\x80\"}", 6, "invalid UTF-8"},
		{"{\"a\" 1}", 5, "':' expected"},
		{"{\"a\":1 \"b\":2}", 7, "',' or '}' expected"},
		{"[1 2]", 3, "',' or ']' expected"},
		{"\"a\"", 0, "an object or an array expected"},
	};
	twofa_json_read_error err;
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		json_t *v = twofa_json_read(cases[i].text, strlen(cases[i].text), &err);
		ok(v == NULL && err.position == cases[i].position &&
			   strcmp(err.reason, cases[i].reason) == 0 && strstr(err.reason, "+44") == NULL &&
			   strstr(err.reason, "argon") == NULL,
		   "error %zu: %s at byte %zu", i, err.reason, err.position);
		json_decref(v);
	}
}

static void check_record(const char *what, const char *json)
{
	ok(json != NULL && same_as_jansson(json, strlen(json)), "%s reads as jansson reads it", what);
}

/* Every record the encoders write: members (the old form and every field)
 * and state entries (empty, and every list full). */
static void test_records(void)
{
	twofa_member m;
	twofa_state_entry e;
	twofa_error err;
	char *json = NULL;
	size_t i, j;

	member_fixture_fill(&m);
	json = NULL;
	(void)twofa_member_encode(&m, &json, &err);
	check_record("a member", json);
	twofa_free_secret(json);
	twofa_member_free(&m);

	member_fixture_fill_all(&m);
	json = NULL;
	(void)twofa_member_encode(&m, &json, &err);
	check_record("a member with every field", json);
	twofa_free_secret(json);
	twofa_member_free(&m);

	memset(&e, 0, sizeof(e));
	json = NULL;
	(void)twofa_state_encode(&e, &json, &err);
	check_record("an empty state entry", json);
	free(json);

	e.failures = 7;
	e.locked_until = 1800000000;
	e.last_login = 1700000000;
	e.unlock_honoured = 1700000500;
	twofa_strlcpy(e.last_service, "sshd", sizeof(e.last_service));
	twofa_strlcpy(e.last_from, "rhost=203.0.113.9 \"quoted\" \\", sizeof(e.last_from));
	e.send_count = TWOFA_STATE_SENDS_MAX;
	for (i = 0; i < e.send_count; i++)
		e.sends[i] = 1700000000 + (time_t)i;
	e.grace_count = TWOFA_STATE_GRACE_MAX;
	for (i = 0; i < e.grace_count; i++) {
		memset(e.grace[i].key, 'a' + (int)i, TWOFA_STATE_KEY_SIZE - 1);
		e.grace[i].at = 1700000000 + (time_t)i;
	}
	e.source_count = TWOFA_STATE_SOURCES_MAX;
	for (i = 0; i < e.source_count; i++) {
		twofa_source_entry *s = &e.sources[i];
		memset(s->key, 'A' + (int)i, TWOFA_STATE_KEY_SIZE - 1);
		snprintf(s->from, sizeof(s->from), "tty=pts/%zu", i);
		s->failures = (long)i;
		s->locked_until = 1800000000;
		s->last_seen = 1700000000;
		s->pending_count = TWOFA_STATE_PENDING_MAX;
		for (j = 0; j < s->pending_count; j++)
			s->pending[j] = 1700000000 + (time_t)j;
	}
	e.single_answer_count = TWOFA_STATE_SINGLE_ANSWER_MAX;
	for (i = 0; i < e.single_answer_count; i++) {
		snprintf(e.single_answer[i].service, sizeof(e.single_answer[i].service), "svc%zu", i);
		twofa_strlcpy(e.single_answer[i].from, "local", sizeof(e.single_answer[i].from));
		e.single_answer[i].at = 1700000000;
	}
	json = NULL;
	(void)twofa_state_encode(&e, &json, &err);
	check_record("a state entry with every list full", json);
	ok(json != NULL && strlen(json) >= 4096,
	   "(which is longer than the reader's stack buffer: %zu bytes)", json != NULL ? strlen(json) : 0);
	free(json);
}

int main(void)
{
	test_strings();
	test_utf8();
	test_numbers();
	test_structure();
	test_errors();
	test_records();
	return tap_done();
}
