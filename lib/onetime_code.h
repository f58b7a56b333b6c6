/* SPDX-License-Identifier: GPL-3.0-or-later */
/* One-time codes: the recovery codes a member holds, the bypass code an
 * admin issues, the invite of a self-enrolment. This file is every rule about
 * their form and their hash; nothing else parses, hashes or compares them.
 *
 * A code is 80 random bits written as 16 symbols of Crockford's base32
 * (0123456789ABCDEFGHJKMNPQRSTVWXYZ) and shown as XXXX-XXXX-XXXX-XXXX.
 * 80 bits are more than NIST SP 800-63B asks of a look-up secret (64), so a
 * salted BLAKE2b is enough to store one: no key to distribute across a fleet,
 * and no Argon2id run per stored code at every attempt.
 *
 * Input is read as Crockford decodes it: case does not matter, '-' and ' '
 * are ignored wherever they are, and the symbols a person may misread for
 * others are read as those (I and L as 1, O as 0). Codes are never made with
 * I, L or O, so this only turns a misreading into the code that was meant:
 * the number of codes an attacker has to try stays 2^80. Anything else (U,
 * any other character, fewer or more than 16 symbols) is not a code; so a
 * Verify code (4..10 digits) is never taken for one. Nothing here logs. */
#ifndef TWOFA_ONETIME_CODE_H
#define TWOFA_ONETIME_CODE_H

#include <stdbool.h>
#include <stddef.h>

#include "error.h"
#include "member.h"

#define TWOFA_ONETIME_SYMBOLS 16   /* symbols of a code, 5 bits each */
#define TWOFA_ONETIME_SIZE 17      /* the canonical form (16 symbols) and its NUL */
#define TWOFA_ONETIME_TEXT_SIZE 20 /* "XXXX-XXXX-XXXX-XXXX" and its NUL */
#define TWOFA_ONETIME_INPUT_MAX 64 /* bytes of typed input read at most; longer is not a code */

/* A new code from the system's random source, in its shown form. Fails only
 * when libsodium cannot be initialised (out is then wiped). */
twofa_status twofa_onetime_generate(char out[TWOFA_ONETIME_TEXT_SIZE], twofa_error *err);

/* Reads typed input (NUL-terminated; at most TWOFA_ONETIME_INPUT_MAX bytes
 * of it, longer is not a code) by the rules above into the canonical form:
 * the 16 symbols, uppercase, without separators. False when it is not a code
 * (out is then wiped). NULL is not a code. */
bool twofa_onetime_normalize(const char *input, char out[TWOFA_ONETIME_SIZE]);

/* True if input is in the form of a code (twofa_onetime_normalize accepts
 * it): the code prompt tries such an answer as a recovery code. */
bool twofa_onetime_looks_like(const char *input);

/* The stored form of code for user: "b2$" + 32 hex digits of a new random
 * 16-byte salt + "$" + 64 hex digits of BLAKE2b-256 (crypto_generichash)
 * keyed with the salt, over
 *     "twofa one-time code v1" NUL, the kind as one byte ('r' recovery,
 *     'b' bypass, 'i' invite), len(user) as 2 bytes big-endian, user,
 *     the 16 canonical symbols of code,
 * which twofa_member_code_hash_valid accepts. The tag and the code have a
 * fixed length and the user is length-prefixed, so no two (user, code) pairs
 * hash the same input: a hash copied into another member's record is checked
 * against that member's name and does not verify, and one copied into the
 * place of another kind (a recovery code's into the bypass code's) is
 * checked as that kind and does not verify either. code is typed input
 * (normalised first): TWOFA_EINVAL when it is not a code, user is not a
 * valid login name or kind is unknown (out is then ""). */
twofa_status twofa_onetime_hash(const char *user, twofa_member_code_kind kind, const char *code,
				char out[TWOFA_MEMBER_CODE_HASH_SIZE], twofa_error *err);

/* Checks typed input against count stored hashes (at most
 * TWOFA_MEMBER_RECOVERY_MAX; a single bypass or invite hash is &hash, 1).
 * Every hash is computed and compared (sodium_memcmp), with no exit at a
 * match and the index chosen without a branch on it, so the time does not
 * depend on which one matched, or whether one did. A stored string that is
 * not a code hash never matches. TWOFA_OK with *matched the first index that
 * matched; TWOFA_ENOTFOUND when none did; TWOFA_EINVAL when input is not a
 * code, user is not a valid login name or count is too large. */
twofa_status twofa_onetime_verify(const char *user, twofa_member_code_kind kind, const char *input,
				  const char (*hashes)[TWOFA_MEMBER_CODE_HASH_SIZE], size_t count,
				  size_t *matched, twofa_error *err);

#endif
