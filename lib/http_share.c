/* SPDX-License-Identifier: GPL-3.0-or-later */
#include "twofa_build.h"

#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>

#include <curl/curl.h>

#include "http.h"
#include "http_share.h"

/* One share and its locks: libcurl asks for a lock per kind of shared data,
 * and handles of several threads use it at once. refs counts the handles
 * that joined it, plus one while it is current. */
struct twofa_http_share {
	CURLSH *sh;
	pthread_mutex_t locks[CURL_LOCK_DATA_LAST];
	long refs;
};

/* Guards current and every share's refs. */
static pthread_mutex_t share_lock = PTHREAD_MUTEX_INITIALIZER;
static struct twofa_http_share *current;

static void lock_data(CURL *handle, curl_lock_data data, curl_lock_access access, void *userptr)
{
	struct twofa_http_share *s = userptr;

	(void)handle;
	(void)access; /* shared and single access alike: a mutex is enough here */
	if (data >= 0 && data < CURL_LOCK_DATA_LAST)
		pthread_mutex_lock(&s->locks[data]);
}

static void unlock_data(CURL *handle, curl_lock_data data, void *userptr)
{
	struct twofa_http_share *s = userptr;

	(void)handle;
	if (data >= 0 && data < CURL_LOCK_DATA_LAST)
		pthread_mutex_unlock(&s->locks[data]);
}

static void share_free(struct twofa_http_share *s)
{
	if (s->sh != NULL)
		(void)curl_share_cleanup(s->sh);
	for (int i = 0; i < CURL_LOCK_DATA_LAST; i++)
		pthread_mutex_destroy(&s->locks[i]);
	free(s);
}

static bool share_set(CURLSH *sh, CURLSHoption opt, long value)
{
	return curl_share_setopt(sh, opt, value) == CURLSHE_OK;
}

static struct twofa_http_share *share_new(void)
{
	struct twofa_http_share *s = calloc(1, sizeof(*s));

	if (s == NULL)
		return NULL;
	for (int i = 0; i < CURL_LOCK_DATA_LAST; i++)
		pthread_mutex_init(&s->locks[i], NULL);
	s->refs = 1;
	s->sh = curl_share_init();
	if (s->sh == NULL || curl_share_setopt(s->sh, CURLSHOPT_LOCKFUNC, lock_data) != CURLSHE_OK ||
	    curl_share_setopt(s->sh, CURLSHOPT_UNLOCKFUNC, unlock_data) != CURLSHE_OK ||
	    curl_share_setopt(s->sh, CURLSHOPT_USERDATA, s) != CURLSHE_OK ||
	    !share_set(s->sh, CURLSHOPT_SHARE, CURL_LOCK_DATA_CONNECT) ||
	    !share_set(s->sh, CURLSHOPT_SHARE, CURL_LOCK_DATA_DNS) ||
	    !share_set(s->sh, CURLSHOPT_SHARE, CURL_LOCK_DATA_SSL_SESSION)) {
		share_free(s);
		return NULL;
	}
	return s;
}

/* Makes s (or none) current; the share it replaces goes once no handle uses it. */
static void make_current(struct twofa_http_share *s)
{
	struct twofa_http_share *old;

	pthread_mutex_lock(&share_lock);
	old = current;
	current = s;
	if (old != NULL && --old->refs != 0)
		old = NULL;
	pthread_mutex_unlock(&share_lock);
	if (old != NULL)
		share_free(old);
}

twofa_status twofa_http_share_renew(twofa_error *err)
{
	struct twofa_http_share *s;
	twofa_status st = twofa_http_init(err);

	if (st != TWOFA_OK)
		return st;
	if ((s = share_new()) == NULL)
		return twofa_fail(err, TWOFA_ENOMEM, "libcurl could not create a connection share");
	make_current(s);
	return TWOFA_OK;
}

void twofa_http_share_stop(void)
{
	make_current(NULL);
}

struct twofa_http_share *twofa_http_share_acquire(CURLSH **share)
{
	struct twofa_http_share *s;

	pthread_mutex_lock(&share_lock);
	s = current;
	if (s != NULL)
		s->refs++;
	pthread_mutex_unlock(&share_lock);
	*share = s != NULL ? s->sh : NULL;
	return s;
}

void twofa_http_share_release(struct twofa_http_share *s)
{
	bool last;

	if (s == NULL)
		return;
	pthread_mutex_lock(&share_lock);
	last = --s->refs == 0;
	pthread_mutex_unlock(&share_lock);
	if (last)
		share_free(s);
}
