/* SPDX-License-Identifier: GPL-3.0-or-later */
#include "twofa_build.h"

#include <errno.h>
#include <pthread.h>
#include <string.h>

#include <sodium.h>

#include "password.h"
#include "util.h"

#define ARGON2ID_PREFIX "$argon2id$"

/* The bound on Argon2id computations at once (twofa_password_set_parallel). */
static pthread_mutex_t gate_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t gate_turn = PTHREAD_COND_INITIALIZER;
static unsigned gate_max, gate_running, gate_peak;

void twofa_password_set_parallel(unsigned max)
{
	pthread_mutex_lock(&gate_lock);
	gate_max = max;
	pthread_cond_broadcast(&gate_turn);
	pthread_mutex_unlock(&gate_lock);
}

unsigned twofa_password_parallel_peak(void)
{
	unsigned peak;

	pthread_mutex_lock(&gate_lock);
	peak = gate_peak;
	gate_peak = gate_running;
	pthread_mutex_unlock(&gate_lock);
	return peak;
}

static void gate_enter(void)
{
	pthread_mutex_lock(&gate_lock);
	while (gate_max != 0 && gate_running >= gate_max)
		pthread_cond_wait(&gate_turn, &gate_lock);
	if (++gate_running > gate_peak)
		gate_peak = gate_running;
	pthread_mutex_unlock(&gate_lock);
}

static void gate_leave(void)
{
	pthread_mutex_lock(&gate_lock);
	gate_running--;
	pthread_cond_signal(&gate_turn);
	pthread_mutex_unlock(&gate_lock);
}

twofa_status twofa_crypto_init(twofa_error *err)
{
	if (sodium_init() < 0)
		return twofa_fail(err, TWOFA_ESYS, "libsodium could not be initialised");
	return TWOFA_OK;
}

void twofa_password_limits(twofa_strength strength, unsigned long long *opslimit, size_t *memlimit)
{
	switch (strength) {
	case TWOFA_STRENGTH_SENSITIVE:
		*opslimit = crypto_pwhash_OPSLIMIT_SENSITIVE;
		*memlimit = crypto_pwhash_MEMLIMIT_SENSITIVE;
		return;
	case TWOFA_STRENGTH_MODERATE:
		*opslimit = crypto_pwhash_OPSLIMIT_MODERATE;
		*memlimit = crypto_pwhash_MEMLIMIT_MODERATE;
		return;
	case TWOFA_STRENGTH_INTERACTIVE:
	default:
		*opslimit = crypto_pwhash_OPSLIMIT_INTERACTIVE;
		*memlimit = crypto_pwhash_MEMLIMIT_INTERACTIVE;
		return;
	}
}

twofa_status twofa_password_valid(const char *password, twofa_error *err)
{
	size_t len;

	if (password == NULL || *password == '\0')
		return twofa_fail(err, TWOFA_EINVAL, "the password is empty");
	len = strnlen(password, TWOFA_PASSWORD_MAX + 1);
	if (len > TWOFA_PASSWORD_MAX)
		return twofa_fail(err, TWOFA_EINVAL, "the password is longer than %d bytes",
				  TWOFA_PASSWORD_MAX);
	return TWOFA_OK;
}

/* The shape of a hash we wrote: bounded, Argon2id, printable. */
static bool hash_shape_ok(const char *hash)
{
	size_t len;

	if (hash == NULL)
		return false;
	len = strnlen(hash, crypto_pwhash_STRBYTES);
	if (len >= crypto_pwhash_STRBYTES || len <= sizeof(ARGON2ID_PREFIX) - 1)
		return false;
	if (strncmp(hash, ARGON2ID_PREFIX, sizeof(ARGON2ID_PREFIX) - 1) != 0)
		return false;
	return !twofa_has_control(hash, len);
}

twofa_status twofa_password_hash(const char *password, twofa_strength strength,
				 char out[crypto_pwhash_STRBYTES], twofa_error *err)
{
	unsigned long long ops;
	size_t mem;
	twofa_status st;
	int rc;

	if (out == NULL)
		return twofa_fail(err, TWOFA_EINVAL, "no place for the password hash");
	out[0] = '\0';
	if ((st = twofa_crypto_init(err)) != TWOFA_OK ||
	    (st = twofa_password_valid(password, err)) != TWOFA_OK)
		return st;
	twofa_password_limits(strength, &ops, &mem);
	gate_enter();
	rc = crypto_pwhash_str(out, password, strlen(password), ops, mem);
	gate_leave();
	if (rc != 0) {
		sodium_memzero(out, crypto_pwhash_STRBYTES);
		return twofa_fail(err, TWOFA_ENOMEM, "hashing the password failed (out of memory?)");
	}
	return TWOFA_OK;
}

twofa_status twofa_password_verify(const char *hash, const char *password, twofa_error *err)
{
	twofa_status st;
	int rc, e;

	if ((st = twofa_crypto_init(err)) != TWOFA_OK)
		return st;
	if (!hash_shape_ok(hash))
		return twofa_fail(err, TWOFA_ESTORE, "the stored password hash is not an Argon2id hash");
	if ((st = twofa_password_valid(password, err)) != TWOFA_OK)
		return st;
	gate_enter();
	errno = 0;
	rc = crypto_pwhash_str_verify(hash, password, strlen(password));
	e = errno;
	gate_leave();
	if (rc == 0)
		return TWOFA_OK;
	/* libsodium sets EINVAL only for a mismatch; anything else means the
	 * verify could not run. */
	if (e == EINVAL)
		return twofa_fail(err, TWOFA_EINVAL, "wrong password");
	if (e == ENOMEM)
		return twofa_fail(err, TWOFA_ENOMEM, "out of memory verifying the password");
	return twofa_fail(err, TWOFA_ESTORE, "the stored password hash cannot be read");
}

bool twofa_password_needs_rehash(const char *hash, twofa_strength strength)
{
	unsigned long long ops;
	size_t mem;

	if (!hash_shape_ok(hash) || twofa_crypto_init(NULL) != TWOFA_OK)
		return true;
	twofa_password_limits(strength, &ops, &mem);
	return crypto_pwhash_str_needs_rehash(hash, ops, mem) != 0;
}

/* Fixed hashes of random passwords nobody knows (made once with the
 * current libsodium limits), so a login in a fresh process (sshd forks one
 * per connection) pays one verify for an unknown user, as for a known one.
 * If libsodium's limits ever change, a hash is computed once instead. */
static const char *const dummy_fixed[3] = {
	"$argon2id$v=19$m=65536,t=2,p=1$nEbGr4mnmKgCVjNzSULSGA$MmzPIB4MbmhF8XJ8U1svMkTJ5o7XQShGgYAK7BPRxjc",
	"$argon2id$v=19$m=262144,t=3,p=1$SNOXaqaRqA+CAiW7Aj7A9A$G9I15YfE6y6pJ+hYf7deCwIz1BdjR96Wocp6HUsifj0",
	"$argon2id$v=19$m=1048576,t=4,p=1$qFWXrCMrhdyT8uQsFg/VEg$D0q+oDV/s1RDTDkuBxSVTC1AKYImrCO0v2SGjvo/Grs",
};
static pthread_mutex_t dummy_lock = PTHREAD_MUTEX_INITIALIZER;
static char dummy_hash[3][crypto_pwhash_STRBYTES];

static void dummy_make(unsigned idx)
{
	unsigned char raw[32];
	char secret[2 * sizeof(raw) + 1];

	if (!twofa_password_needs_rehash(dummy_fixed[idx], (twofa_strength)idx)) {
		twofa_strlcpy(dummy_hash[idx], dummy_fixed[idx], sizeof(dummy_hash[idx]));
		return;
	}
	randombytes_buf(raw, sizeof(raw));
	sodium_bin2hex(secret, sizeof(secret), raw, sizeof(raw));
	if (twofa_password_hash(secret, (twofa_strength)idx, dummy_hash[idx], NULL) != TWOFA_OK)
		dummy_hash[idx][0] = '\0';
	sodium_memzero(raw, sizeof(raw));
	sodium_memzero(secret, sizeof(secret));
}

bool twofa_password_dummy_hash(twofa_strength strength, char out[crypto_pwhash_STRBYTES])
{
	unsigned idx = (unsigned)strength < 3 ? (unsigned)strength : 0;

	out[0] = '\0';
	if (twofa_crypto_init(NULL) != TWOFA_OK)
		return false;
	pthread_mutex_lock(&dummy_lock);
	if (dummy_hash[idx][0] == '\0')
		dummy_make(idx);
	memcpy(out, dummy_hash[idx], crypto_pwhash_STRBYTES);
	pthread_mutex_unlock(&dummy_lock);
	return out[0] != '\0';
}

void twofa_password_dummy_verify(const char *password, twofa_strength strength)
{
	char hash[crypto_pwhash_STRBYTES];

	if (twofa_password_dummy_hash(strength, hash))
		(void)twofa_password_verify(hash, password, NULL);
}
