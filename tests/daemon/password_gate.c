/* SPDX-License-Identifier: GPL-3.0-or-later */
/* twofa_password_set_parallel: twofad bounds the Argon2id checks running at
 * once (each takes its strength's memlimit); by default nothing waits. TAP. */
#include "twofa_build.h"

#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "password.h"
#include "tap.h"

#define THREADS 4

static char hash[crypto_pwhash_STRBYTES];
static pthread_barrier_t start;
static twofa_status results[THREADS];

static void *check(void *arg)
{
	size_t i = (size_t)arg;

	pthread_barrier_wait(&start);
	/* Half of them with the wrong password: the bound changes no answer. */
	results[i] = twofa_password_verify(hash, i % 2 == 0 ? "right password" : "wrong password", NULL);
	return NULL;
}

/* valgrind runs one thread at a time: how many checks overlap is then luck,
 * and only the bound is a fact (the valgrind variant sets TWOFA_VALGRIND). */
static bool serialized(void)
{
	return getenv("TWOFA_VALGRIND") != NULL;
}

/* THREADS verifies at once; the most that ran together. */
static unsigned run_all(bool *answers_right)
{
	pthread_t t[THREADS];

	(void)twofa_password_parallel_peak();
	pthread_barrier_init(&start, NULL, THREADS);
	for (size_t i = 0; i < THREADS; i++)
		pthread_create(&t[i], NULL, check, (void *)i);
	for (size_t i = 0; i < THREADS; i++)
		pthread_join(t[i], NULL);
	pthread_barrier_destroy(&start);
	*answers_right = true;
	for (size_t i = 0; i < THREADS; i++)
		if (results[i] != (i % 2 == 0 ? TWOFA_OK : TWOFA_EINVAL))
			*answers_right = false;
	return twofa_password_parallel_peak();
}

int main(void)
{
	bool right;
	unsigned peak;

	if (!ok(twofa_password_hash("right password", TWOFA_STRENGTH_INTERACTIVE, hash, NULL) == TWOFA_OK,
		"a hash to check against"))
		return tap_done();

	peak = run_all(&right);
	ok(serialized() ? peak >= 1 && peak <= THREADS : peak == THREADS,
	   "no bound by default: %d checks started together all ran at once (%u)", THREADS, peak);
	ok(right, "unbounded: every answer right");

	twofa_password_set_parallel(1);
	peak = run_all(&right);
	ok(peak == 1, "bound 1: one check at a time (%u)", peak);
	ok(right, "bound 1: every answer right");

	twofa_password_set_parallel(2);
	peak = run_all(&right);
	ok(serialized() ? peak >= 1 && peak <= 2 : peak == 2, "bound 2: two at a time, never more (%u)", peak);
	ok(right, "bound 2: every answer right");

	/* A hash (twofa-enroll passwd, a re-hash after login) waits its turn too. */
	twofa_password_set_parallel(1);
	(void)twofa_password_parallel_peak();
	{
		char other[crypto_pwhash_STRBYTES];

		ok(twofa_password_hash("another", TWOFA_STRENGTH_INTERACTIVE, other, NULL) == TWOFA_OK &&
			   twofa_password_parallel_peak() == 1,
		   "a hash is counted like a verify");
	}
	twofa_password_set_parallel(0);
	return tap_done();
}
