/* SPDX-License-Identifier: GPL-3.0-or-later */
/* Member passwords: Argon2id through libsodium's crypto_pwhash_str, with the
 * opslimit/memlimit pair chosen by password_strength. */
#ifndef TWOFA_PASSWORD_H
#define TWOFA_PASSWORD_H

#include <stdbool.h>

#include <sodium.h>

#include "config.h"
#include "error.h"

/* Bytes. A longer password is invalid (it bounds the work an attacker can
 * make a login do before Argon2id even starts). The empty password is
 * invalid too. */
#define TWOFA_PASSWORD_MAX 1024
/* Longest hash string we accept from the store (crypto_pwhash_STRBYTES - 1). */
#define TWOFA_PASSWORD_HASH_MAX (crypto_pwhash_STRBYTES - 1)

/* sodium_init, once; idempotent and thread-safe. Every function below calls
 * it, so calling it yourself is only needed to report a failure early. */
twofa_status twofa_crypto_init(twofa_error *err);

/* TWOFA_OK if password is acceptable: 1..TWOFA_PASSWORD_MAX bytes, no NUL
 * inside (it is a C string). */
twofa_status twofa_password_valid(const char *password, twofa_error *err);

/* Hashes password into out (a NUL-terminated "$argon2id$..." string). */
twofa_status twofa_password_hash(const char *password, twofa_strength strength,
				 char out[crypto_pwhash_STRBYTES], twofa_error *err);

/* TWOFA_OK: the password matches. TWOFA_EINVAL: it does not (or is not a
 * valid password). TWOFA_ESTORE: the stored hash is malformed.
 * TWOFA_ENOMEM: the verify could not run for lack of memory. */
twofa_status twofa_password_verify(const char *hash, const char *password, twofa_error *err);

/* True if hash was made with other limits than strength asks for (or is not
 * one we can read): re-hash after the next successful verify. */
bool twofa_password_needs_rehash(const char *hash, twofa_strength strength);

/* Verifies password against a fixed hash of the given strength (computed
 * once per process and strength), so an unknown user costs the same time as
 * a real one. The result is thrown away. */
void twofa_password_dummy_verify(const char *password, twofa_strength strength);

/* The hash twofa_password_dummy_verify checks against for strength. Made
 * with that strength's limits, so the dummy costs what one real verify costs
 * (tests check the limits instead of timing it). False if none could be had. */
bool twofa_password_dummy_hash(twofa_strength strength, char out[crypto_pwhash_STRBYTES]);

/* At most max Argon2id computations (hashes and verifies, dummies too) run
 * at once in this process; the others wait for a turn. Each takes up to the
 * strength's memlimit (64 MiB interactive, 1 GiB sensitive), so twofad, which
 * serves many logins at once, bounds them. 0 (the default): no bound, for a
 * process that serves one login. Set it before threads start. */
void twofa_password_set_parallel(unsigned max);

/* The most Argon2id computations that ran at once since the last call (which
 * starts the count again from those running now). */
unsigned twofa_password_parallel_peak(void);

/* The libsodium limits for a strength. */
void twofa_password_limits(twofa_strength strength, unsigned long long *opslimit, size_t *memlimit);

#endif
