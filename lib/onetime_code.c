/* SPDX-License-Identifier: GPL-3.0-or-later */
#include "twofa_build.h"

#include <string.h>

#include <sodium.h>

#include "onetime_code.h"
#include "password.h"

#define CODE_BYTES 10 /* 80 bits: 16 symbols of 5 bits */
#define SALT_BYTES 16
#define DIGEST_BYTES 32
#define GROUP 4 /* symbols between the dashes of the shown form */

static const char alphabet[] = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";

/* The hash's domain tag, its NUL included: these hashes mean nothing to any
 * other BLAKE2b use, and a later format changes the tag. */
static const char hash_tag[] = "twofa one-time code v1";

#ifdef TWOFA_ONETIME_COUNT_COMPARISONS
/* tests/unit/test_onetime_code.c counts the hashes twofa_onetime_verify compares. */
size_t twofa_onetime_comparisons;
#define COUNT_COMPARISON() (twofa_onetime_comparisons++)
#else
#define COUNT_COMPARISON() ((void)0)
#endif

twofa_status twofa_onetime_generate(char out[TWOFA_ONETIME_TEXT_SIZE], twofa_error *err)
{
	unsigned char raw[CODE_BYTES];
	unsigned int bits = 0, nbits = 0;
	size_t in = 0, o = 0;

	sodium_memzero(out, TWOFA_ONETIME_TEXT_SIZE);
	if (twofa_crypto_init(err) != TWOFA_OK)
		return TWOFA_ESYS;
	randombytes_buf(raw, sizeof(raw));
	for (int sym = 0; sym < TWOFA_ONETIME_SYMBOLS; sym++) {
		if (nbits < 5) {
			bits = ((bits << 8) | raw[in++]) & 0xfffu; /* never more than 12 bits pending */
			nbits += 8;
		}
		nbits -= 5;
		if (sym > 0 && sym % GROUP == 0)
			out[o++] = '-';
		out[o++] = alphabet[(bits >> nbits) & 31u];
	}
	out[o] = '\0';
	sodium_memzero(raw, sizeof(raw));
	sodium_memzero(&bits, sizeof(bits));
	return TWOFA_OK;
}

/* The canonical symbol a typed byte stands for: itself for a symbol, its
 * uppercase for a lowercase one, 1 for I and L, 0 for O; SKIP for a
 * separator; 0 for a byte that has no place in a code. */
#define SKIP 1
static char symbol_of(unsigned char c)
{
	if (c >= 'a' && c <= 'z')
		c = (unsigned char)(c - 'a' + 'A');
	if (c == 'I' || c == 'L')
		return '1';
	if (c == 'O')
		return '0';
	if (c == '-' || c == ' ')
		return SKIP;
	if (c == '\0')
		return 0;
	return strchr(alphabet, c) != NULL ? (char)c : 0;
}

bool twofa_onetime_normalize(const char *input, char out[TWOFA_ONETIME_SIZE])
{
	size_t len, n = 0;

	sodium_memzero(out, TWOFA_ONETIME_SIZE);
	if (input == NULL || (len = strnlen(input, TWOFA_ONETIME_INPUT_MAX + 1)) > TWOFA_ONETIME_INPUT_MAX)
		return false;
	for (size_t i = 0; i < len; i++) {
		char s = symbol_of((unsigned char)input[i]);

		if (s == SKIP)
			continue;
		if (s == 0 || n == TWOFA_ONETIME_SYMBOLS) {
			sodium_memzero(out, TWOFA_ONETIME_SIZE);
			return false;
		}
		out[n++] = s;
	}
	if (n != TWOFA_ONETIME_SYMBOLS) {
		sodium_memzero(out, TWOFA_ONETIME_SIZE);
		return false;
	}
	return true;
}

bool twofa_onetime_looks_like(const char *input)
{
	char canonical[TWOFA_ONETIME_SIZE];
	bool is = twofa_onetime_normalize(input, canonical);

	sodium_memzero(canonical, sizeof(canonical));
	return is;
}

/* BLAKE2b-256 keyed with salt over the tag, the length-prefixed user and the
 * canonical code (the input the header describes). */
static void digest(const unsigned char salt[SALT_BYTES], const char *user, unsigned char kind,
		   const char canonical[TWOFA_ONETIME_SIZE], unsigned char out[DIGEST_BYTES])
{
	crypto_generichash_state st;
	size_t user_len = strlen(user); /* at most TWOFA_USER_NAME_MAX: checked by the callers */
	unsigned char prefix[2] = {(unsigned char)(user_len >> 8), (unsigned char)(user_len & 0xff)};

	/* With these fixed sizes (key 16, out 32) libsodium cannot fail. */
	(void)crypto_generichash_init(&st, salt, SALT_BYTES, DIGEST_BYTES);
	(void)crypto_generichash_update(&st, (const unsigned char *)hash_tag, sizeof(hash_tag));
	(void)crypto_generichash_update(&st, &kind, 1);
	(void)crypto_generichash_update(&st, prefix, sizeof(prefix));
	(void)crypto_generichash_update(&st, (const unsigned char *)user, user_len);
	(void)crypto_generichash_update(&st, (const unsigned char *)canonical, TWOFA_ONETIME_SYMBOLS);
	(void)crypto_generichash_final(&st, out, DIGEST_BYTES);
	sodium_memzero(&st, sizeof(st));
}

/* The checks both hash and verify make of their inputs, then the canonical code. */
static twofa_status prepare(const char *user, twofa_member_code_kind kind, const char *code,
			    char canonical[TWOFA_ONETIME_SIZE], unsigned char *kind_byte, twofa_error *err)
{
	switch (kind) {
	case TWOFA_MEMBER_CODE_RECOVERY:
		*kind_byte = 'r';
		break;
	case TWOFA_MEMBER_CODE_BYPASS:
		*kind_byte = 'b';
		break;
	case TWOFA_MEMBER_CODE_INVITE:
		*kind_byte = 'i';
		break;
	default:
		sodium_memzero(canonical, TWOFA_ONETIME_SIZE);
		return twofa_fail(err, TWOFA_EINVAL, "not a kind of one-time code");
	}
	if (user == NULL || !twofa_user_name_valid(user)) {
		sodium_memzero(canonical, TWOFA_ONETIME_SIZE);
		return twofa_fail(err, TWOFA_EINVAL, "not a valid user name for a one-time code");
	}
	if (!twofa_onetime_normalize(code, canonical))
		return twofa_fail(err, TWOFA_EINVAL, "not a one-time code (16 symbols, XXXX-XXXX-XXXX-XXXX)");
	return twofa_crypto_init(err);
}

twofa_status twofa_onetime_hash(const char *user, twofa_member_code_kind kind, const char *code,
				char out[TWOFA_MEMBER_CODE_HASH_SIZE], twofa_error *err)
{
	unsigned char kind_byte;
	char canonical[TWOFA_ONETIME_SIZE];
	unsigned char salt[SALT_BYTES], sum[DIGEST_BYTES];
	twofa_status st;

	out[0] = '\0';
	if ((st = prepare(user, kind, code, canonical, &kind_byte, err)) != TWOFA_OK) {
		sodium_memzero(canonical, sizeof(canonical));
		return st;
	}
	randombytes_buf(salt, sizeof(salt));
	digest(salt, user, kind_byte, canonical, sum);
	sodium_memzero(canonical, sizeof(canonical));
	memcpy(out, "b2$", 3);
	(void)sodium_bin2hex(out + 3, 2 * SALT_BYTES + 1, salt, sizeof(salt));
	out[3 + 2 * SALT_BYTES] = '$';
	(void)sodium_bin2hex(out + 4 + 2 * SALT_BYTES, 2 * DIGEST_BYTES + 1, sum, sizeof(sum));
	sodium_memzero(sum, sizeof(sum));
	return TWOFA_OK;
}

/* Salt and digest of a stored hash; false (both zero) when it is not one. */
static bool split_hash(const char *h, unsigned char salt[SALT_BYTES], unsigned char sum[DIGEST_BYTES])
{
	size_t got_salt = 0, got_sum = 0;

	memset(salt, 0, SALT_BYTES);
	memset(sum, 0, DIGEST_BYTES);
	if (!twofa_member_code_hash_valid(h))
		return false;
	if (sodium_hex2bin(salt, SALT_BYTES, h + 3, 2 * SALT_BYTES, NULL, &got_salt, NULL) != 0 ||
	    sodium_hex2bin(sum, DIGEST_BYTES, h + 4 + 2 * SALT_BYTES, 2 * DIGEST_BYTES, NULL, &got_sum,
			   NULL) != 0 ||
	    got_salt != SALT_BYTES || got_sum != DIGEST_BYTES)
		return false;
	return true;
}

twofa_status twofa_onetime_verify(const char *user, twofa_member_code_kind kind, const char *input,
				  const char (*hashes)[TWOFA_MEMBER_CODE_HASH_SIZE], size_t count,
				  size_t *matched, twofa_error *err)
{
	char canonical[TWOFA_ONETIME_SIZE];
	unsigned char salt[SALT_BYTES], stored[DIGEST_BYTES], sum[DIGEST_BYTES];
	unsigned int found = 0;
	unsigned char kind_byte;
	size_t index = 0;
	twofa_status st;

	*matched = 0;
	if (count > TWOFA_MEMBER_RECOVERY_MAX || (count > 0 && hashes == NULL))
		return twofa_fail(err, TWOFA_EINVAL, "more one-time code hashes than a member holds");
	if ((st = prepare(user, kind, input, canonical, &kind_byte, err)) != TWOFA_OK) {
		sodium_memzero(canonical, sizeof(canonical));
		return st;
	}
	for (size_t i = 0; i < count; i++) {
		/* A string that is not a hash (never, in a record that
		 * validated) is still computed, and never counts as a match. */
		unsigned int well_formed = split_hash(hashes[i], salt, stored) ? 1u : 0u;
		unsigned int equal, take;
		size_t mask;

		digest(salt, user, kind_byte, canonical, sum);
		COUNT_COMPARISON();
		equal = (unsigned int)(sodium_memcmp(sum, stored, DIGEST_BYTES) == 0) & well_formed;
		take = equal & (found ^ 1u);
		mask = (size_t)0 - (size_t)take;
		index = (index & ~mask) | (i & mask);
		found |= equal;
	}
	sodium_memzero(canonical, sizeof(canonical));
	sodium_memzero(sum, sizeof(sum));
	sodium_memzero(stored, sizeof(stored));
	sodium_memzero(salt, sizeof(salt));
	if (!found)
		return twofa_fail(err, TWOFA_ENOTFOUND, "the one-time code does not match");
	*matched = index;
	return TWOFA_OK;
}
