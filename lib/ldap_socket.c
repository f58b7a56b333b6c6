/* SPDX-License-Identifier: GPL-3.0-or-later */
/* Connecting with a deadline, and the TLS handshake under a watchdog
 * (lib/ldap_socket.h). */
#include "twofa_build.h"

#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "config_ldap.h"
#include "ldap_socket.h"
#include "util.h"
#include "wire.h"

/* Debian's slapd listens there for ldapi:/// (LDAPI_SOCK). */
#define DEFAULT_LDAPI_PATH "/var/run/slapd/ldapi"

static int hex_value(char ch)
{
	if (ch >= '0' && ch <= '9')
		return ch - '0';
	if (ch >= 'a' && ch <= 'f')
		return ch - 'a' + 10;
	if (ch >= 'A' && ch <= 'F')
		return ch - 'A' + 10;
	return -1;
}

/* ldapi://%2Frun%2Fslapd%2Fldapi -> /run/slapd/ldapi (the URI was checked
 * when the config was loaded). */
static bool ldapi_path(const char *uri, char *out, size_t size)
{
	const char *p = uri + strlen("ldapi://");
	size_t used = 0;

	if (*p == '\0' || *p == '/')
		return twofa_strlcpy(out, DEFAULT_LDAPI_PATH, size);
	for (; *p != '\0' && *p != '/'; p++) {
		char ch = *p;
		if (ch == '%') {
			int hi = hex_value(p[1]), lo = hi < 0 ? -1 : hex_value(p[2]);
			if (lo < 0)
				return false;
			ch = (char)(hi * 16 + lo);
			p += 2;
		}
		if (ch == '\0' || used + 1 >= size)
			return false;
		out[used++] = ch;
	}
	out[used] = '\0';
	return used > 0 && out[0] == '/';
}

/* "ldap://[::1]:3890/" -> "::1", "3890"; the default port by scheme. */
static bool host_port(const char *uri, char *host, size_t host_size, char *port, size_t port_size)
{
	bool tls = strncmp(uri, "ldaps://", 8) == 0;
	const char *p = uri + (tls ? 8 : 7), *end;
	size_t len;

	if (*p == '[') {
		end = strchr(p, ']');
		if (end == NULL)
			return false;
		len = (size_t)(end - p - 1);
		p++;
		end++;
	} else {
		len = strcspn(p, ":/");
		end = p + len;
	}
	if (len == 0 || len >= host_size)
		return false;
	memcpy(host, p, len);
	host[len] = '\0';
	if (*end == ':') {
		len = strcspn(end + 1, "/");
		if (len == 0 || len >= port_size)
			return false;
		memcpy(port, end + 1, len);
		port[len] = '\0';
		return true;
	}
	return twofa_strlcpy(port, tls ? "636" : "389", port_size);
}

/* connect() on a non-blocking socket, then poll until deadline_ms. */
static int connect_before(int fd, const struct sockaddr *addr, socklen_t len, long long deadline_ms)
{
	struct pollfd p = {.fd = fd, .events = POLLOUT};
	int e = 0;
	socklen_t elen = sizeof(e);

	if (connect(fd, addr, len) == 0)
		return 0;
	if (errno != EINPROGRESS && errno != EINTR)
		return -1;
	for (;;) {
		long long left = deadline_ms - twofa_wire_now_ms();
		int n;
		if (left <= 0) {
			errno = ETIMEDOUT;
			return -1;
		}
		n = poll(&p, 1, left > 60000 ? 60000 : (int)left);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -1;
		if (n > 0)
			break;
	}
	if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &e, &elen) != 0)
		return -1;
	if (e != 0) {
		errno = e;
		return -1;
	}
	return 0;
}

/* A new non-blocking socket connected before the deadline, made blocking
 * again for libldap; -1 with errno. */
static int open_connected(int family, const struct sockaddr *addr, socklen_t len, long long deadline_ms)
{
	int fd = socket(family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0), flags, e;

	if (fd < 0)
		return -1;
	/* As libldap does for the sockets it opens itself: without it, Nagle
	 * holds the bind behind the TLS Finished until the server's delayed
	 * ACK, 40 ms on every connection. */
	if ((family == AF_INET || family == AF_INET6) &&
	    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &(int){1}, sizeof(int)) != 0) {
		e = errno;
		(void)close(fd);
		errno = e;
		return -1;
	}
	if (connect_before(fd, addr, len, deadline_ms) == 0 && (flags = fcntl(fd, F_GETFL)) >= 0 &&
	    fcntl(fd, F_SETFL, flags & ~O_NONBLOCK) == 0)
		return fd;
	e = errno;
	(void)close(fd);
	errno = e;
	return -1;
}

static const char *connect_why(int e, bool *dead)
{
	*dead = e == ECONNREFUSED || e == ETIMEDOUT || e == EHOSTUNREACH || e == ENETUNREACH || e == ENOENT;
	switch (e) {
	case ECONNREFUSED:
		return "connection refused";
	case ETIMEDOUT:
		return "connect timed out";
	case EHOSTUNREACH:
	case ENETUNREACH:
		return "unreachable";
	case ENOENT:
		return "no such socket";
	default:
		return "cannot connect";
	}
}

/* getaddrinfo with a deadline: a resolver that does not answer would
 * otherwise cost its own timeouts (5 s x 2 tries per server by default),
 * beyond the budget. The lookup runs in glibc's helper thread
 * (getaddrinfo_a); one that cannot be cancelled in time still writes into
 * its request, which is then left to it (a few hundred bytes, once per
 * lookup that timed out). 0, or an EAI_* code (EAI_AGAIN: timed out). */
static int resolve_before(const char *host, const char *port, long long deadline_ms, struct addrinfo **out)
{
	struct lookup {
		struct gaicb cb;
		struct addrinfo hints;
		char host[TWOFA_LDAP_URI_MAX + 1];
		char port[8];
	} *r = calloc(1, sizeof(*r));
	struct gaicb *list[1];
	int rc;

	*out = NULL;
	if (r == NULL)
		return EAI_MEMORY;
	if (!twofa_strlcpy(r->host, host, sizeof(r->host)) || !twofa_strlcpy(r->port, port, sizeof(r->port))) {
		free(r);
		return EAI_NONAME;
	}
	r->hints.ai_socktype = SOCK_STREAM;
	r->hints.ai_flags = AI_ADDRCONFIG;
	r->cb.ar_name = r->host;
	r->cb.ar_service = r->port;
	r->cb.ar_request = &r->hints;
	list[0] = &r->cb;
	if ((rc = getaddrinfo_a(GAI_NOWAIT, list, 1, NULL)) != 0) {
		free(r);
		return rc;
	}
	while ((rc = gai_error(&r->cb)) == EAI_INPROGRESS) {
		long long left = deadline_ms - twofa_wire_now_ms();
		struct timespec wait;

		if (left <= 0)
			break;
		wait.tv_sec = (time_t)(left / 1000);
		wait.tv_nsec = (long)(left % 1000) * 1000000L;
		(void)gai_suspend((const struct gaicb *const *)list, 1, &wait);
	}
	if (rc == EAI_INPROGRESS) {
		if (gai_cancel(&r->cb) == EAI_NOTCANCELED)
			return EAI_AGAIN; /* r stays with the lookup */
		rc = gai_error(&r->cb);
		if (rc == EAI_CANCELED)
			rc = EAI_AGAIN;
	}
	if (rc == 0)
		*out = r->cb.ar_result;
	else if (r->cb.ar_result != NULL)
		freeaddrinfo(r->cb.ar_result);
	free(r);
	return rc;
}

int twofa_ldap_socket_connect(const char *uri, long long deadline_ms, const char **why, bool *dead)
{
	char host[TWOFA_LDAP_URI_MAX + 1], port[8];
	struct addrinfo *list = NULL;
	int fd = -1, e = ETIMEDOUT, rc;

	*dead = false;
	if (strncmp(uri, "ldapi://", 8) == 0) {
		struct sockaddr_un sun = {.sun_family = AF_UNIX};
		if (!ldapi_path(uri, sun.sun_path, sizeof(sun.sun_path))) {
			*why = "bad ldapi socket path";
			return -1;
		}
		fd = open_connected(AF_UNIX, (const struct sockaddr *)&sun, sizeof(sun), deadline_ms);
		if (fd < 0)
			*why = connect_why(errno, dead);
		return fd;
	}
	if (!host_port(uri, host, sizeof(host), port, sizeof(port))) {
		*why = "bad host or port";
		return -1;
	}
	rc = resolve_before(host, port, deadline_ms, &list);
	if (rc != 0) {
		*why = rc == EAI_NONAME  ? "no such host"
		       : rc == EAI_AGAIN ? "the host name did not resolve (in time)"
					 : "cannot resolve the host";
		return -1;
	}
	for (struct addrinfo *a = list; a != NULL && fd < 0; a = a->ai_next) {
		if (twofa_wire_now_ms() >= deadline_ms)
			break;
		fd = open_connected(a->ai_family, a->ai_addr, a->ai_addrlen, deadline_ms);
		if (fd < 0)
			e = errno;
	}
	freeaddrinfo(list);
	if (fd < 0)
		*why = connect_why(e, dead);
	return fd;
}

/* ---- the handshake's watchdog ---- */

typedef struct watchdog {
	pthread_mutex_t lock;
	pthread_cond_t wake;
	bool done, fired;
	int fd;
	struct timespec deadline; /* CLOCK_MONOTONIC */
} watchdog;

static void *watch(void *arg)
{
	watchdog *w = arg;

	(void)pthread_mutex_lock(&w->lock);
	while (!w->done) {
		int rc = pthread_cond_timedwait(&w->wake, &w->lock, &w->deadline);
		if (rc == ETIMEDOUT && !w->done) {
			/* Ends the read or write libldap is blocked in; the
			 * descriptor stays open (libldap closes it). */
			(void)shutdown(w->fd, SHUT_RDWR);
			w->fired = true;
			break;
		}
	}
	(void)pthread_mutex_unlock(&w->lock);
	return NULL;
}

int twofa_ldap_tls_bounded(LDAP *ld, int fd, long long deadline_ms, bool *timed_out)
{
	watchdog w = {.fd = fd};
	pthread_condattr_t attr;
	pthread_t thread;
	int rc;

	*timed_out = false;
	w.deadline.tv_sec = (time_t)(deadline_ms / 1000);
	w.deadline.tv_nsec = (long)(deadline_ms % 1000) * 1000000L;
	if (pthread_mutex_init(&w.lock, NULL) != 0)
		return LDAP_LOCAL_ERROR;
	if (pthread_condattr_init(&attr) != 0) {
		(void)pthread_mutex_destroy(&w.lock);
		return LDAP_LOCAL_ERROR;
	}
	rc = pthread_condattr_setclock(&attr, CLOCK_MONOTONIC) == 0 && pthread_cond_init(&w.wake, &attr) == 0
		     ? 0
		     : -1;
	(void)pthread_condattr_destroy(&attr);
	if (rc != 0) {
		(void)pthread_mutex_destroy(&w.lock);
		return LDAP_LOCAL_ERROR;
	}
	/* twofa_wire_now_ms is CLOCK_MONOTONIC too: one scale. */
	if (pthread_create(&thread, NULL, watch, &w) != 0) {
		rc = LDAP_LOCAL_ERROR;
	} else {
		rc = ldap_install_tls(ld);
		(void)pthread_mutex_lock(&w.lock);
		w.done = true;
		(void)pthread_cond_signal(&w.wake);
		(void)pthread_mutex_unlock(&w.lock);
		(void)pthread_join(thread, NULL);
		*timed_out = w.fired;
	}
	(void)pthread_cond_destroy(&w.wake);
	(void)pthread_mutex_destroy(&w.lock);
	return rc;
}
