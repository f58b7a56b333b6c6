/* SPDX-License-Identifier: GPL-3.0-or-later */
#include "twofa_build.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include "daemon_conns.h"
#include "serve.h"

/* One slot per connection being served; fd -1 when free. */
typedef struct slot {
	int fd;
	twofa_peer peer;
} slot;

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t gone = PTHREAD_COND_INITIALIZER; /* a slot was freed */
static slot *slots;
static twofad_limits limits;
static unsigned active, active_users;
static bool stopping;
static const char *config;

/* A refused caller may try again in a loop: one warning a second at most,
 * with the count of those not logged. */
static time_t warned_at;
static unsigned long unlogged;

bool twofad_conns_init(const twofad_limits *lim, const char *config_path)
{
	if (lim->connections == 0 || lim->connections > TWOFAD_LIMIT_MAX || lim->per_uid == 0 ||
	    lim->per_uid > TWOFAD_LIMIT_MAX)
		return false;
	slots = calloc(lim->connections, sizeof(*slots));
	if (slots == NULL)
		return false;
	for (unsigned i = 0; i < lim->connections; i++)
		slots[i].fd = -1;
	limits = *lim;
	config = config_path;
	return true;
}

/* Root keeps an eighth of the connections for itself: all users together
 * cannot fill them. */
static unsigned users_max(void)
{
	unsigned reserve = limits.connections / 8;

	return limits.connections - (reserve > 0 ? reserve : limits.connections > 1 ? 1 : 0);
}

static unsigned held_by(uid_t uid)
{
	unsigned n = 0;

	for (unsigned i = 0; i < limits.connections; i++)
		if (slots[i].fd >= 0 && slots[i].peer.uid == uid)
			n++;
	return n;
}

/* Why the caller may not have another connection, or NULL. Under lock. */
static const char *over_bound(uid_t uid)
{
	if (active >= limits.connections)
		return "twofad serves its most connections";
	if (uid != 0 && active_users >= users_max())
		return "callers other than root hold all the connections they may";
	if (uid != 0 && held_by(uid) >= limits.per_uid)
		return "the caller's uid holds its most connections";
	return NULL;
}

static void warn_refused(const char *reason, const struct ucred *cred)
{
	time_t now = time(NULL);

	if (now == warned_at) {
		unlogged++;
		return;
	}
	warned_at = now;
	if (unlogged > 0)
		syslog(LOG_WARNING, "connection from uid %lu pid %ld closed: %s (and %lu more in the last second)",
		       (unsigned long)cred->uid, (long)cred->pid, reason, unlogged);
	else
		syslog(LOG_WARNING, "connection from uid %lu pid %ld closed: %s", (unsigned long)cred->uid,
		       (long)cred->pid, reason);
	unlogged = 0;
}

static void *serve_thread(void *arg)
{
	slot *s = arg;

	(void)twofa_serve(s->fd, &s->peer);
	pthread_mutex_lock(&lock);
	/* Closed under the lock: twofad_conns_stop never shuts down a number
	 * that has been reused meanwhile. */
	(void)close(s->fd);
	s->fd = -1;
	active--;
	if (s->peer.uid != 0)
		active_users--;
	pthread_cond_broadcast(&gone);
	pthread_mutex_unlock(&lock);
	return NULL;
}

static slot *free_slot(void)
{
	for (unsigned i = 0; i < limits.connections; i++)
		if (slots[i].fd < 0)
			return &slots[i];
	return NULL;
}

void twofad_conns_take(int fd)
{
	struct ucred cred;
	socklen_t len = sizeof(cred);
	const char *refused;
	pthread_attr_t attr;
	pthread_t thread;
	slot *s;
	int rc;

	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) != 0 || len != sizeof(cred)) {
		syslog(LOG_ERR, "connection closed: cannot tell who connected: %s", strerror(errno));
		(void)close(fd);
		return;
	}
	pthread_mutex_lock(&lock);
	refused = stopping ? "twofad is stopping" : over_bound(cred.uid);
	if (refused != NULL || (s = free_slot()) == NULL) {
		warn_refused(refused != NULL ? refused : "no free slot", &cred);
		pthread_mutex_unlock(&lock);
		(void)close(fd);
		return;
	}
	s->fd = fd;
	s->peer = (twofa_peer){.daemon = true, .uid = cred.uid, .pid = cred.pid, .config_path = config};
	active++;
	if (cred.uid != 0)
		active_users++;
	rc = pthread_attr_init(&attr);
	if (rc == 0) {
		rc = pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
		if (rc == 0)
			rc = pthread_create(&thread, &attr, serve_thread, s);
		(void)pthread_attr_destroy(&attr);
	}
	if (rc != 0) {
		s->fd = -1;
		active--;
		if (cred.uid != 0)
			active_users--;
		pthread_mutex_unlock(&lock);
		syslog(LOG_ERR, "connection from uid %lu pid %ld closed: no thread for it: %s",
		       (unsigned long)cred.uid, (long)cred.pid, strerror(rc));
		(void)close(fd);
		return;
	}
	pthread_mutex_unlock(&lock);
}

bool twofad_conns_stop(int wait_ms)
{
	struct timespec deadline;
	bool none;

	clock_gettime(CLOCK_REALTIME, &deadline);
	deadline.tv_sec += wait_ms / 1000;
	deadline.tv_nsec += (long)(wait_ms % 1000) * 1000000L;
	if (deadline.tv_nsec >= 1000000000L) {
		deadline.tv_sec++;
		deadline.tv_nsec -= 1000000000L;
	}
	pthread_mutex_lock(&lock);
	stopping = true;
	for (unsigned i = 0; slots != NULL && i < limits.connections; i++)
		if (slots[i].fd >= 0)
			(void)shutdown(slots[i].fd, SHUT_RDWR);
	while (active > 0)
		if (pthread_cond_timedwait(&gone, &lock, &deadline) == ETIMEDOUT)
			break;
	none = active == 0;
	pthread_mutex_unlock(&lock);
	return none;
}
