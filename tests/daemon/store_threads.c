/* SPDX-License-Identifier: GPL-3.0-or-later */
/* twofad runs logins on threads of one process: the stores' lock must
 * exclude threads of one process from each other, not only processes (an
 * fcntl/lockf lock would not: it is the process's). lib/store takes flock
 * on a descriptor of its own per open, which does. TAP. */
#include "twofa_build.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "store.h"
#include "tap.h"

#define THREADS 8
#define ROUNDS 25
#define LOCK_WAIT_MS 20000

static char path[256];
static pthread_barrier_t start;
static int failures;
static pthread_mutex_t failures_lock = PTHREAD_MUTEX_INITIALIZER;

static void failed(void)
{
	pthread_mutex_lock(&failures_lock);
	failures++;
	pthread_mutex_unlock(&failures_lock);
}

/* One read-modify-write of the counter under the exclusive lock, with a
 * pause between the read and the write to give a lost update its chance. */
static bool increment(void)
{
	twofa_store *s = NULL;
	char *value = NULL, text[32];
	size_t len = 0;
	long n = 0;
	twofa_status st;

	if (twofa_store_open(&s, path, TWOFA_STORE_WRITE, LOCK_WAIT_MS, NULL) != TWOFA_OK)
		return false;
	st = twofa_store_get(s, "counter", &value, &len, NULL);
	if (st == TWOFA_OK)
		n = atol(value);
	free(value);
	usleep(200);
	snprintf(text, sizeof(text), "%ld", n + 1);
	if ((st == TWOFA_OK || st == TWOFA_ENOTFOUND) &&
	    twofa_store_put(s, "counter", text, strlen(text), true, NULL) == TWOFA_OK)
		return twofa_store_close(s, NULL) == TWOFA_OK;
	(void)twofa_store_close(s, NULL);
	return false;
}

static void *worker(void *arg)
{
	(void)arg;
	pthread_barrier_wait(&start);
	for (int i = 0; i < ROUNDS; i++)
		if (!increment())
			failed();
	return NULL;
}

static void *holder(void *arg)
{
	twofa_store *s = NULL;
	pthread_barrier_t *held = arg;

	if (twofa_store_open(&s, path, TWOFA_STORE_WRITE, LOCK_WAIT_MS, NULL) != TWOFA_OK)
		failed();
	pthread_barrier_wait(held); /* we hold it */
	pthread_barrier_wait(held); /* the main thread has tried */
	if (s != NULL)
		(void)twofa_store_close(s, NULL);
	return NULL;
}

int main(void)
{
	char dir[] = "/tmp/twofa-store-threads-XXXXXX";
	pthread_t t[THREADS], h;
	pthread_barrier_t held;
	twofa_store *s = NULL;
	char *value = NULL;
	size_t len = 0;
	twofa_status st;

	if (!ok(mkdtemp(dir) != NULL, "a private directory"))
		return tap_done();
	snprintf(path, sizeof(path), "%s/state.db", dir);

	/* One thread holds the exclusive lock: another thread waits for it. */
	pthread_barrier_init(&held, NULL, 2);
	pthread_create(&h, NULL, holder, &held);
	pthread_barrier_wait(&held);
	st = twofa_store_open(&s, path, TWOFA_STORE_WRITE, 300, NULL);
	ok(st == TWOFA_EBUSY, "a thread's exclusive lock keeps another thread's writer out (%d)", (int)st);
	if (s != NULL)
		(void)twofa_store_close(s, NULL);
	s = NULL;
	st = twofa_store_open(&s, path, TWOFA_STORE_READ, 300, NULL);
	ok(st == TWOFA_EBUSY, "and another thread's reader (%d)", (int)st);
	if (s != NULL)
		(void)twofa_store_close(s, NULL);
	pthread_barrier_wait(&held);
	pthread_join(h, NULL);
	pthread_barrier_destroy(&held);

	/* THREADS threads increment one counter ROUNDS times each. */
	pthread_barrier_init(&start, NULL, THREADS);
	for (int i = 0; i < THREADS; i++)
		pthread_create(&t[i], NULL, worker, NULL);
	for (int i = 0; i < THREADS; i++)
		pthread_join(t[i], NULL);
	pthread_barrier_destroy(&start);
	ok(failures == 0, "every open, read and write succeeded (%d failed)", failures);
	s = NULL;
	if (twofa_store_open(&s, path, TWOFA_STORE_READ, LOCK_WAIT_MS, NULL) == TWOFA_OK &&
	    twofa_store_get(s, "counter", &value, &len, NULL) == TWOFA_OK) {
		ok(atol(value) == THREADS * ROUNDS, "%d threads x %d increments: %s, no update lost", THREADS,
		   ROUNDS, value);
	} else {
		ok(0, "the counter can be read");
	}
	free(value);
	if (s != NULL)
		(void)twofa_store_close(s, NULL);
	{
		char cmd[300];

		snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
		if (system(cmd) != 0)
			diag("could not remove %s", dir);
	}
	return tap_done();
}
