/* SPDX-License-Identifier: GPL-3.0-or-later */
/* lib/onetime_code: the form of recovery, bypass and invite codes, their
 * hash and the check against every stored hash. Built with its own copy of
 * lib/onetime_code.c that counts the hashes a check compares
 * (TWOFA_ONETIME_COUNT_COMPARISONS, tests/unit/unit.am). */
#include "twofa_build.h"

#include <stdio.h>
#include <string.h>

#include "onetime_code.h"
#include "tap.h"

extern size_t twofa_onetime_comparisons;

#define ALPHABET "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
#define DRAWS 2000

/* The hash of the recovery code "0123456789ABCDEF" for alice with the salt 00 01 .. 0f, as
 * Python's hashlib.blake2b(key=salt, digest_size=32) computes it over the
 * input the header documents: it pins the encoding, so stored hashes keep
 * verifying across versions. */
#define KNOWN_CODE "0123-4567-89AB-CDEF"
#define KNOWN_HASH                                                         \
	"b2$000102030405060708090a0b0c0d0e0f$04e00860e20e2f41872ad6f11ec3" \
	"ee189935eb5fcbda545ae6aaed9827bc6f36"

static bool shown_form(const char *s)
{
	if (strlen(s) != TWOFA_ONETIME_TEXT_SIZE - 1)
		return false;
	for (size_t i = 0; i < TWOFA_ONETIME_TEXT_SIZE - 1; i++) {
		if (i % 5 == 4 ? s[i] != '-' : strchr(ALPHABET, s[i]) == NULL || s[i] == '\0')
			return false;
	}
	return true;
}

static bool all_zero(const char *buf, size_t size)
{
	for (size_t i = 0; i < size; i++)
		if (buf[i] != 0)
			return false;
	return true;
}

static void test_generate(void)
{
	static char codes[DRAWS][TWOFA_ONETIME_TEXT_SIZE];
	/* seen[position][symbol]: every symbol shows up at every position,
	 * the last one included (all 80 bits reach the text). */
	static bool seen[TWOFA_ONETIME_SYMBOLS][32];
	bool formed = true, distinct = true, every = true;
	twofa_error err;

	for (int i = 0; i < DRAWS; i++) {
		if (twofa_onetime_generate(codes[i], &err) != TWOFA_OK || !shown_form(codes[i])) {
			formed = false;
			continue;
		}
		for (int pos = 0, sym = 0; codes[i][pos] != '\0'; pos++)
			if (codes[i][pos] != '-')
				seen[sym++][strchr(ALPHABET, codes[i][pos]) - ALPHABET] = true;
	}
	ok(formed, "%d codes generated, each XXXX-XXXX-XXXX-XXXX over Crockford's alphabet (no I, L, O, U)",
	   DRAWS);
	for (int i = 1; i < DRAWS && distinct; i++)
		for (int j = 0; j < i && distinct; j++)
			distinct = strcmp(codes[i], codes[j]) != 0;
	ok(distinct, "no two of %d codes are the same", DRAWS);
	for (int pos = 0; pos < TWOFA_ONETIME_SYMBOLS; pos++)
		for (int s = 0; s < 32; s++)
			every = every && seen[pos][s];
	ok(every, "each of the 32 symbols appears at each of the 16 positions");
}

static void normalizes_to(const char *input, const char *want, const char *what)
{
	char out[TWOFA_ONETIME_SIZE];
	bool got = twofa_onetime_normalize(input, out);

	ok(got && strcmp(out, want) == 0, "normalise %s", what);
	ok(twofa_onetime_looks_like(input), "looks like a code: %s", what);
}

static void refused(const char *input, const char *what)
{
	char out[TWOFA_ONETIME_SIZE];

	memset(out, 'x', sizeof(out));
	ok(!twofa_onetime_normalize(input, out) && all_zero(out, sizeof(out)), "not a code, out wiped: %s",
	   what);
	ok(!twofa_onetime_looks_like(input), "does not look like a code: %s", what);
}

static void test_normalize(void)
{
	char code[TWOFA_ONETIME_TEXT_SIZE], canonical[TWOFA_ONETIME_SIZE], want[TWOFA_ONETIME_SIZE];
	char input[TWOFA_ONETIME_INPUT_MAX + 2];
	twofa_error err;
	size_t n = 0;

	ok(twofa_onetime_generate(code, &err) == TWOFA_OK, "generate");
	for (const char *p = code; *p != '\0'; p++)
		if (*p != '-')
			want[n++] = *p;
	want[n] = '\0';
	ok(twofa_onetime_normalize(code, canonical) && strcmp(canonical, want) == 0,
	   "a generated code normalises to its symbols without dashes");

	normalizes_to("0123-4567-89AB-CDEF", "0123456789ABCDEF", "the shown form");
	normalizes_to("0123456789abcdef", "0123456789ABCDEF", "lowercase, no dashes");
	normalizes_to("0123 4567 89ab cdef", "0123456789ABCDEF", "spaces between groups");
	normalizes_to("  0123-4567 89Ab--cdEF ", "0123456789ABCDEF",
		      "mixed separators and case, blanks at the ends");
	normalizes_to("o123-4567-89ab-cdef", "0123456789ABCDEF", "o read as 0");
	normalizes_to("O1I3-4567-89AB-CDEF", "0113456789ABCDEF", "O read as 0, I as 1");
	normalizes_to("0lL3-4567-89AB-CDEF", "0113456789ABCDEF", "l and L read as 1");
	normalizes_to("WXYZ-VTSR-QPNM-KJHG", "WXYZVTSRQPNMKJHG", "the other letters");
	/* 16 symbols and 48 separators: exactly the input bound. */
	snprintf(input, sizeof(input), "%s%s", "0123456789ABCDEF",
		 "------------------------------------------------");
	normalizes_to(input, "0123456789ABCDEF", "64 bytes of input (the bound)");

	refused(NULL, "NULL");
	refused("", "empty");
	refused("----", "only dashes");
	refused("123456", "a 6-digit Verify code");
	refused("1234567890", "a 10-digit Verify code");
	refused("0123-4567-89AB-CDE", "15 symbols");
	refused("0123-4567-89AB-CDEF0", "17 symbols");
	refused("0123-4567-89AB-CDEU", "U (not in the alphabet)");
	refused("0123-4567-89AB-CDE*", "a check symbol *");
	refused("0123_4567_89AB_CDEF", "underscores");
	refused("0123\t4567-89AB-CDEF", "a tab");
	refused("0123-4567-89AB-CDE\xc3\x89", "a non-ASCII letter");
	refused("0123-4567-89AB-CDEF\n", "a newline");
	snprintf(input, sizeof(input), "%s%s", "0123456789ABCDEF",
		 "-------------------------------------------------");
	refused(input, "65 bytes of input (over the bound)");
}

static void test_hash(void)
{
	char code[TWOFA_ONETIME_TEXT_SIZE], h1[TWOFA_MEMBER_CODE_HASH_SIZE], h2[TWOFA_MEMBER_CODE_HASH_SIZE];
	char tampered[TWOFA_MEMBER_CODE_HASH_SIZE];
	char known[1][TWOFA_MEMBER_CODE_HASH_SIZE] = {KNOWN_HASH};
	char lower[TWOFA_ONETIME_TEXT_SIZE];
	char user[TWOFA_USER_NAME_MAX + 2];
	twofa_error err;
	size_t at = 99;

	ok(twofa_onetime_generate(code, &err) == TWOFA_OK, "generate");
	ok(twofa_onetime_hash("alice", TWOFA_MEMBER_CODE_RECOVERY, code, h1, &err) == TWOFA_OK &&
		   twofa_member_code_hash_valid(h1),
	   "the hash is in the stored form (twofa_member_code_hash_valid)");
	ok(twofa_onetime_hash("alice", TWOFA_MEMBER_CODE_RECOVERY, code, h2, &err) == TWOFA_OK &&
		   strcmp(h1, h2) != 0 && strncmp(h1, h2, 35) != 0,
	   "two hashes of one code differ (a new salt each)");
	ok(twofa_onetime_verify("alice", TWOFA_MEMBER_CODE_RECOVERY, code, &h1, 1, &at, &err) == TWOFA_OK &&
		   at == 0,
	   "the code verifies against its hash");
	for (size_t i = 0; code[i] != '\0'; i++)
		lower[i] = (char)(code[i] >= 'A' && code[i] <= 'Z' ? code[i] - 'A' + 'a' : code[i]);
	lower[TWOFA_ONETIME_TEXT_SIZE - 1] = '\0';
	ok(twofa_onetime_verify("alice", TWOFA_MEMBER_CODE_RECOVERY, lower, &h1, 1, &at, &err) == TWOFA_OK,
	   "typed in lowercase, it verifies");
	ok(twofa_onetime_verify("bob", TWOFA_MEMBER_CODE_RECOVERY, code, &h1, 1, &at, &err) == TWOFA_ENOTFOUND,
	   "alice's hash does not verify for bob (the user is hashed)");
	ok(twofa_onetime_verify("alicf", TWOFA_MEMBER_CODE_RECOVERY, code, &h1, 1, &at, &err) ==
		   TWOFA_ENOTFOUND,
	   "nor for a name one letter off");

	strcpy(tampered, h1);
	tampered[TWOFA_MEMBER_CODE_HASH_SIZE - 2] = tampered[TWOFA_MEMBER_CODE_HASH_SIZE - 2] == '0' ? '1'
												     : '0';
	ok(twofa_member_code_hash_valid(tampered) &&
		   twofa_onetime_verify("alice", TWOFA_MEMBER_CODE_RECOVERY, code, &tampered, 1, &at, &err) ==
			   TWOFA_ENOTFOUND,
	   "a hash with one digit of its digest changed does not verify");
	strcpy(tampered, h1);
	tampered[3] = tampered[3] == '0' ? '1' : '0';
	ok(twofa_onetime_verify("alice", TWOFA_MEMBER_CODE_RECOVERY, code, &tampered, 1, &at, &err) ==
		   TWOFA_ENOTFOUND,
	   "a hash with one digit of its salt changed does not verify");
	strcpy(tampered, h1);
	tampered[36] = 'G';
	ok(twofa_onetime_verify("alice", TWOFA_MEMBER_CODE_RECOVERY, code, &tampered, 1, &at, &err) ==
		   TWOFA_ENOTFOUND,
	   "a string that is not a hash never matches");

	ok(twofa_onetime_verify("alice", TWOFA_MEMBER_CODE_RECOVERY, KNOWN_CODE, known, 1, &at, &err) ==
		   TWOFA_OK,
	   "the known hash (Python's blake2b over the documented input) verifies");
	ok(twofa_onetime_verify("alice", TWOFA_MEMBER_CODE_BYPASS, KNOWN_CODE, known, 1, &at, &err) ==
			   TWOFA_ENOTFOUND &&
		   twofa_onetime_verify("alice", TWOFA_MEMBER_CODE_INVITE, KNOWN_CODE, known, 1, &at, &err) ==
			   TWOFA_ENOTFOUND,
	   "a recovery code's hash does not verify as a bypass code or an invite");
	ok(twofa_onetime_hash("alice", TWOFA_MEMBER_CODE_BYPASS, KNOWN_CODE, h2, &err) == TWOFA_OK &&
		   twofa_onetime_verify("alice", TWOFA_MEMBER_CODE_BYPASS, KNOWN_CODE, &h2, 1, &at, &err) ==
			   TWOFA_OK &&
		   twofa_onetime_verify("alice", TWOFA_MEMBER_CODE_RECOVERY, KNOWN_CODE, &h2, 1, &at, &err) ==
			   TWOFA_ENOTFOUND,
	   "a bypass code's hash verifies as one, and not as a recovery code");
	ok(twofa_onetime_hash("alice", (twofa_member_code_kind)7, KNOWN_CODE, h2, &err) == TWOFA_EINVAL &&
		   h2[0] == '\0',
	   "hash refuses an unknown kind");
	ok(twofa_onetime_verify("alice", TWOFA_MEMBER_CODE_RECOVERY, "oi23 4567 89ab cdef", known, 1, &at,
				&err) == TWOFA_OK,
	   "typed with o for 0 and i for 1, the known code verifies");
	ok(twofa_onetime_verify("alice", TWOFA_MEMBER_CODE_RECOVERY, "01Z3-4567-89AB-CDEF", known, 1, &at,
				&err) == TWOFA_ENOTFOUND,
	   "Z is a symbol of its own, not an alias of 2");

	ok(twofa_onetime_hash("alice", TWOFA_MEMBER_CODE_RECOVERY, "123456", h2, &err) == TWOFA_EINVAL &&
		   h2[0] == '\0',
	   "hash refuses what is not a code");
	ok(twofa_onetime_verify("alice", TWOFA_MEMBER_CODE_RECOVERY, "123456", &h1, 1, &at, &err) ==
		   TWOFA_EINVAL,
	   "verify refuses what is not a code");
	ok(twofa_onetime_hash("a/b", TWOFA_MEMBER_CODE_RECOVERY, code, h2, &err) == TWOFA_EINVAL &&
		   h2[0] == '\0',
	   "hash refuses a user name that is not one");
	memset(user, 'u', sizeof(user) - 1);
	user[sizeof(user) - 1] = '\0';
	ok(twofa_onetime_hash(user, TWOFA_MEMBER_CODE_RECOVERY, code, h2, &err) == TWOFA_EINVAL,
	   "hash refuses a name over 256 bytes");
	user[TWOFA_USER_NAME_MAX] = '\0';
	ok(twofa_onetime_hash(user, TWOFA_MEMBER_CODE_RECOVERY, code, h2, &err) == TWOFA_OK &&
		   twofa_onetime_verify(user, TWOFA_MEMBER_CODE_RECOVERY, code, &h2, 1, &at, &err) == TWOFA_OK,
	   "a 256-byte name hashes and verifies");
	ok(strstr(err.msg, code) == NULL, "no message holds the code");
}

static void test_index(void)
{
	char codes[TWOFA_MEMBER_RECOVERY_MAX][TWOFA_ONETIME_TEXT_SIZE];
	char hashes[TWOFA_MEMBER_RECOVERY_MAX][TWOFA_MEMBER_CODE_HASH_SIZE];
	char other[TWOFA_ONETIME_TEXT_SIZE];
	const size_t n = TWOFA_MEMBER_RECOVERY_MAX;
	bool made = true, each = true;
	twofa_error err;
	twofa_status st;
	size_t at;

	for (size_t i = 0; i < n; i++)
		made = made && twofa_onetime_generate(codes[i], &err) == TWOFA_OK &&
		       twofa_onetime_hash("carol", TWOFA_MEMBER_CODE_RECOVERY, codes[i], hashes[i], &err) ==
			       TWOFA_OK;
	ok(made, "%zu codes and their hashes", n);
	for (size_t i = 0; i < n; i++) {
		twofa_onetime_comparisons = 0;
		at = 99;
		st = twofa_onetime_verify("carol", TWOFA_MEMBER_CODE_RECOVERY, codes[i], hashes, n, &at, &err);
		each = each && st == TWOFA_OK && at == i && twofa_onetime_comparisons == n;
		if (i == 0 || i == n - 1)
			ok(at == i && twofa_onetime_comparisons == n,
			   "code %zu matches at index %zu after comparing all %zu hashes (%zu)", i, at, n,
			   twofa_onetime_comparisons);
	}
	ok(each, "every code matches at its own index, every check compares all %zu", n);
	ok(twofa_onetime_generate(other, &err) == TWOFA_OK, "another code");
	twofa_onetime_comparisons = 0;
	ok(twofa_onetime_verify("carol", TWOFA_MEMBER_CODE_RECOVERY, other, hashes, n, &at, &err) ==
			   TWOFA_ENOTFOUND &&
		   twofa_onetime_comparisons == n,
	   "a code that is not in the set matches none, after comparing all %zu", n);
	strcpy(hashes[3], "not a hash");
	twofa_onetime_comparisons = 0;
	ok(twofa_onetime_verify("carol", TWOFA_MEMBER_CODE_RECOVERY, codes[3], hashes, n, &at, &err) ==
			   TWOFA_ENOTFOUND &&
		   twofa_onetime_comparisons == n,
	   "a damaged entry matches nothing and is still computed");
	ok(twofa_onetime_verify("carol", TWOFA_MEMBER_CODE_RECOVERY, codes[4], hashes, n, &at, &err) ==
			   TWOFA_OK &&
		   at == 4,
	   "the entries after it still match");
	ok(twofa_onetime_verify("carol", TWOFA_MEMBER_CODE_RECOVERY, codes[0], hashes, 0, &at, &err) ==
		   TWOFA_ENOTFOUND,
	   "an empty set matches nothing");
	ok(twofa_onetime_verify("carol", TWOFA_MEMBER_CODE_RECOVERY, codes[0], hashes, n + 1, &at, &err) ==
		   TWOFA_EINVAL,
	   "more hashes than a member holds is refused");
}

int main(void)
{
	test_generate();
	test_normalize();
	test_hash();
	test_index();
	return tap_done();
}
