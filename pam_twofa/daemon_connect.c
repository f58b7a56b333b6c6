/* SPDX-License-Identifier: GPL-3.0-or-later */
#include "twofa_build.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "daemon_connect.h"

/* A full listen queue: connect says EAGAIN at once; try again this often. */
#define RETRY_MS 10

static int fail(int result, char *why, size_t why_size, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static int fail(int result, char *why, size_t why_size, const char *fmt, ...)
{
	va_list ap;

	if (why != NULL && why_size > 0) {
		va_start(ap, fmt);
		(void)vsnprintf(why, why_size, fmt, ap);
		va_end(ap);
	}
	return result;
}

static long long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000LL + ts.tv_nsec / 1000000L;
}

/* Waits until fd is writable or the deadline passes: true if it is. */
static bool wait_writable(int fd, long long deadline)
{
	for (;;) {
		struct pollfd p = {.fd = fd, .events = POLLOUT};
		long long left = deadline - now_ms();
		int n;

		if (left <= 0)
			return false;
		n = poll(&p, 1, (int)left);
		if (n > 0)
			return true;
		if (n < 0 && errno != EINTR)
			return false;
	}
}

/* connect without blocking past the deadline: 0, or an errno. */
static int connect_by(int fd, const struct sockaddr_un *sa, long long deadline)
{
	for (;;) {
		int e;
		socklen_t len = sizeof(e);

		if (connect(fd, (const struct sockaddr *)sa, sizeof(*sa)) == 0)
			return 0;
		e = errno;
		if (e == EINTR)
			continue;
		if (e == EAGAIN) { /* the listen queue is full: the server is busy, or stopped */
			struct timespec ts = {0, RETRY_MS * 1000000L};

			if (now_ms() + RETRY_MS >= deadline)
				return ETIMEDOUT;
			nanosleep(&ts, NULL);
			continue;
		}
		if (e != EINPROGRESS)
			return e;
		if (!wait_writable(fd, deadline))
			return ETIMEDOUT;
		if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &e, &len) != 0)
			return errno;
		return e;
	}
}

int twofa_daemon_connect(const char *path, int timeout_ms, char *why, size_t why_size)
{
	long long deadline = now_ms() + (timeout_ms > 0 ? timeout_ms : 0);
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	struct ucred peer;
	socklen_t len = sizeof(peer);
	struct stat st;
	int fd, e, flags;

	if (why != NULL && why_size > 0)
		why[0] = '\0';
	if (path == NULL || path[0] != '/')
		return fail(TWOFA_DAEMON_UNAVAILABLE, why, why_size, "socket path is not absolute");
	if (strlen(path) >= sizeof(sa.sun_path))
		return fail(TWOFA_DAEMON_UNAVAILABLE, why, why_size, "socket path is longer than %zu bytes",
			    sizeof(sa.sun_path) - 1);
	memcpy(sa.sun_path, path, strlen(path) + 1);

	/* The file first: a symbolic link, or a socket someone other than root
	 * made, is not twofad's. */
	if (lstat(path, &st) != 0) {
		e = errno;
		if (e == ENOENT)
			return fail(TWOFA_DAEMON_ABSENT, why, why_size, "%s does not exist", path);
		return fail(TWOFA_DAEMON_UNAVAILABLE, why, why_size, "cannot stat %s: %s", path, strerror(e));
	}
	if (S_ISLNK(st.st_mode))
		return fail(TWOFA_DAEMON_UNAVAILABLE, why, why_size, "%s is a symbolic link", path);
	if (!S_ISSOCK(st.st_mode))
		return fail(TWOFA_DAEMON_UNAVAILABLE, why, why_size, "%s is not a socket", path);
	if (st.st_uid != 0)
		return fail(TWOFA_DAEMON_UNAVAILABLE, why, why_size, "%s is owned by uid %lu, not root", path,
			    (unsigned long)st.st_uid);

	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		return fail(TWOFA_DAEMON_UNAVAILABLE, why, why_size, "socket: %s", strerror(errno));
	e = connect_by(fd, &sa, deadline);
	if (e != 0) {
		(void)close(fd);
		if (e == ETIMEDOUT)
			return fail(TWOFA_DAEMON_UNAVAILABLE, why, why_size,
				    "%s does not answer: no connection within %d ms", path, timeout_ms);
		if (e == ENOENT) /* removed since the lstat: twofad stopped */
			return fail(TWOFA_DAEMON_ABSENT, why, why_size, "%s does not exist", path);
		return fail(TWOFA_DAEMON_UNAVAILABLE, why, why_size, "%s does not answer: %s", path, strerror(e));
	}
	/* The peer is whoever listened: it must be root. */
	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &peer, &len) != 0 || len != sizeof(peer)) {
		e = errno;
		(void)close(fd);
		return fail(TWOFA_DAEMON_UNAVAILABLE, why, why_size, "%s: cannot tell who serves it: %s", path,
			    strerror(e));
	}
	if (peer.uid != 0) {
		(void)close(fd);
		return fail(TWOFA_DAEMON_UNAVAILABLE, why, why_size, "%s is served by uid %lu, not root", path,
			    (unsigned long)peer.uid);
	}
	flags = fcntl(fd, F_GETFL);
	if (flags < 0 || fcntl(fd, F_SETFL, flags & ~O_NONBLOCK) != 0) {
		e = errno;
		(void)close(fd);
		return fail(TWOFA_DAEMON_UNAVAILABLE, why, why_size, "fcntl: %s", strerror(e));
	}
	return fd;
}
