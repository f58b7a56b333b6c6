/* SPDX-License-Identifier: GPL-3.0-or-later */
/* twofa_store_iterate_ahead: the walk of twofa_store_iterate with GDBM's
 * reads (a read and a seek per record for a reader, which does not map the
 * file) made in a second thread, a few batches of records ahead of the
 * callback, which runs in the caller's thread. A walk that decodes every
 * member (list, export, db check) then reads and decodes at once on two
 * cores. The handle is the reader thread's alone until the walk returns. */
#include "twofa_build.h"

#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>

#include "store_internal.h"
#include "util.h"

#define AHEAD_BATCH 64  /* records handed over at a time (one lock each way) */
#define AHEAD_BATCHES 4 /* batches read and not yet taken, at most */

typedef struct ahead_record {
	char key[TWOFA_STORE_KEY_MAX + 1];
	char *value; /* NUL-terminated, len bytes */
	size_t len;
} ahead_record;

typedef struct ahead_batch {
	ahead_record rec[AHEAD_BATCH];
	size_t n;
} ahead_batch;

typedef struct ahead {
	twofa_store *s;
	pthread_mutex_t mu;
	pthread_cond_t changed; /* a batch was filled or taken, or stop set */
	ahead_batch batches[AHEAD_BATCHES];
	size_t head; /* the batch the reader fills next */
	size_t tail; /* the batch the callback takes next */
	size_t full; /* batches filled and not yet given back (the one in use too) */
	bool done;   /* the reader has handed over its last batch: st says how the walk ended */
	bool stop;   /* the callback asked to stop: the reader reads no more */
	twofa_status st;
	twofa_error err;
} ahead;

/* The next record into rec, k moved on past it. false at the end of the
 * walk or on an error (*st says which). */
static bool read_one(twofa_store *s, datum *k, ahead_record *rec, twofa_status *st, twofa_error *err)
{
	datum next;

	if (k->dptr == NULL) {
		*st = store_walk_end(s, err);
		return false;
	}
	if (!store_key_to_string(*k, rec->key)) {
		*st = twofa_fail(err, TWOFA_ESTORE, "store %s has a damaged key", s->path);
		return false;
	}
	*st = store_fetch(s, *k, rec->key, &rec->value, &rec->len, err);
	if (*st != TWOFA_OK) {
		if (*st == TWOFA_ENOTFOUND)
			*st = twofa_fail(err, TWOFA_ESTORE, "store %s: key '%s' has no readable value",
					 s->path, rec->key);
		return false;
	}
	next = gdbm_nextkey(s->db, *k);
	free(k->dptr);
	*k = next;
	return true;
}

static void *reader(void *arg)
{
	ahead *a = arg;
	datum k = gdbm_firstkey(a->s->db);
	twofa_status st = TWOFA_OK;
	twofa_error err;
	bool end = false;

	twofa_error_clear(&err);
	while (!end) {
		ahead_batch *b;
		bool stop;

		pthread_mutex_lock(&a->mu);
		while (a->full == AHEAD_BATCHES && !a->stop)
			pthread_cond_wait(&a->changed, &a->mu);
		stop = a->stop;
		pthread_mutex_unlock(&a->mu);
		if (stop)
			break;
		/* Not in the queue, not in use: the reader's until handed over. */
		b = &a->batches[a->head];
		for (b->n = 0; b->n < AHEAD_BATCH; b->n++)
			if (!read_one(a->s, &k, &b->rec[b->n], &st, &err)) {
				end = true;
				break;
			}
		pthread_mutex_lock(&a->mu);
		a->head = (a->head + 1) % AHEAD_BATCHES;
		a->full++;
		if (end) {
			a->st = st;
			a->err = err;
			a->done = true;
		}
		pthread_cond_signal(&a->changed);
		pthread_mutex_unlock(&a->mu);
	}
	free(k.dptr);
	return NULL;
}

/* A record's value holds what the store holds (a member's password hash). */
static void drop_batch(ahead_batch *b)
{
	for (size_t i = 0; i < b->n; i++)
		if (b->rec[i].value != NULL)
			twofa_free_wiped(b->rec[i].value, b->rec[i].len);
	b->n = 0;
}

/* The callback's side: every batch in order until the reader is done or
 * cb asks to stop (*stopped). */
static void take_batches(ahead *a, twofa_store_cb cb, void *arg, bool *stopped)
{
	for (;;) {
		ahead_batch *b;

		pthread_mutex_lock(&a->mu);
		while (a->full == 0 && !a->done)
			pthread_cond_wait(&a->changed, &a->mu);
		if (a->full == 0) { /* done, and every batch taken */
			pthread_mutex_unlock(&a->mu);
			return;
		}
		b = &a->batches[a->tail];
		pthread_mutex_unlock(&a->mu);
		for (size_t i = 0; i < b->n && !*stopped; i++)
			*stopped = cb(b->rec[i].key, b->rec[i].value, b->rec[i].len, arg) != 0;
		drop_batch(b);
		pthread_mutex_lock(&a->mu);
		a->tail = (a->tail + 1) % AHEAD_BATCHES;
		a->full--;
		a->stop = *stopped;
		pthread_cond_signal(&a->changed);
		pthread_mutex_unlock(&a->mu);
		if (*stopped)
			return;
	}
}

twofa_status twofa_store_iterate_ahead(twofa_store *s, twofa_store_cb cb, void *arg, twofa_error *err)
{
	sigset_t all, old;
	pthread_t thread;
	bool stopped = false;
	twofa_status st;
	ahead *a;
	int rc;

	if (s == NULL || s->db == NULL)
		return twofa_fail(err, TWOFA_EINVAL, "store is not open");
	if (cb == NULL)
		return twofa_fail(err, TWOFA_EINVAL, "no callback for the store walk");
	a = calloc(1, sizeof(*a));
	/* Without a second thread, the same walk in one. */
	if (a == NULL)
		return twofa_store_iterate(s, cb, arg, err);
	a->s = s;
	if (pthread_mutex_init(&a->mu, NULL) != 0) {
		free(a);
		return twofa_store_iterate(s, cb, arg, err);
	}
	if (pthread_cond_init(&a->changed, NULL) != 0) {
		pthread_mutex_destroy(&a->mu);
		free(a);
		return twofa_store_iterate(s, cb, arg, err);
	}
	gdbm_clear_error(s->db);
	/* Signals stay the caller's thread's. */
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	rc = pthread_create(&thread, NULL, reader, a);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (rc != 0) {
		pthread_cond_destroy(&a->changed);
		pthread_mutex_destroy(&a->mu);
		free(a);
		return twofa_store_iterate(s, cb, arg, err);
	}
	take_batches(a, cb, arg, &stopped);
	pthread_join(thread, NULL);
	/* After a stop: what the reader had read ahead. */
	for (; a->full > 0; a->full--, a->tail = (a->tail + 1) % AHEAD_BATCHES)
		drop_batch(&a->batches[a->tail]);
	st = stopped ? TWOFA_OK : a->st;
	if (st != TWOFA_OK && err != NULL)
		*err = a->err;
	pthread_cond_destroy(&a->changed);
	pthread_mutex_destroy(&a->mu);
	free(a);
	return st;
}
