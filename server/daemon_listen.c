/* SPDX-License-Identifier: GPL-3.0-or-later */
#include "twofa_build.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "daemon_listen.h"
#include "util.h"

#define SD_LISTEN_FDS_START 3
#define LISTEN_BACKLOG 128

static bool fail(char *why, size_t why_size, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

static bool fail(char *why, size_t why_size, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	(void)vsnprintf(why, why_size, fmt, ap);
	va_end(ap);
	return false;
}

static bool set_flags(int fd)
{
	int fl = fcntl(fd, F_GETFL), fdfl = fcntl(fd, F_GETFD);

	return fl >= 0 && fdfl >= 0 && fcntl(fd, F_SETFL, fl | O_NONBLOCK) == 0 &&
	       fcntl(fd, F_SETFD, fdfl | FD_CLOEXEC) == 0;
}

/* The activated descriptor is what twofad needs: a listening Unix stream socket. */
static bool check_activated(int fd, char *why, size_t why_size)
{
	int type = 0, listening = 0;
	socklen_t len = sizeof(type);
	struct sockaddr_un sa = {0};
	socklen_t sa_len = sizeof(sa);

	if (getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &len) != 0 || type != SOCK_STREAM)
		return fail(why, why_size, "the activated descriptor is not a stream socket");
	len = sizeof(listening);
	if (getsockopt(fd, SOL_SOCKET, SO_ACCEPTCONN, &listening, &len) != 0 || !listening)
		return fail(why, why_size, "the activated socket is not listening (Accept=yes? twofad wants no)");
	if (getsockname(fd, (struct sockaddr *)&sa, &sa_len) != 0 || sa_len < sizeof(sa.sun_family) ||
	    sa.sun_family != AF_UNIX)
		return fail(why, why_size, "the activated socket is not a Unix socket");
	if (!set_flags(fd))
		return fail(why, why_size, "fcntl on the activated socket: %s", strerror(errno));
	return true;
}

int twofad_listen_activated(twofad_listener *l, char *why, size_t why_size)
{
	const char *pid_text = getenv("LISTEN_PID"), *fds_text = getenv("LISTEN_FDS");
	long pid = 0, fds = -1;
	bool ours;

	memset(l, 0, sizeof(*l));
	l->fd = -1;
	why[0] = '\0';
	ours = pid_text != NULL && twofa_parse_long(pid_text, 1, LONG_MAX, &pid) && pid == (long)getpid();
	if (ours && (fds_text == NULL || !twofa_parse_long(fds_text, 0, INT_MAX, &fds)))
		fds = -1;
	if (!ours && pid_text != NULL)
		(void)fail(why, why_size, "LISTEN_PID=%.20s is not this process: ignored", pid_text);
	/* Whatever they said, nothing later may take them as its own. */
	(void)unsetenv("LISTEN_PID");
	(void)unsetenv("LISTEN_FDS");
	(void)unsetenv("LISTEN_FDNAMES");
	if (!ours)
		return 0;
	if (fds != 1) {
		(void)fail(why, why_size, "socket activation passed %s sockets; twofad takes exactly one",
			   fds < 0 ? "an unreadable number of" : fds == 0 ? "no" : "several");
		return -1;
	}
	if (!check_activated(SD_LISTEN_FDS_START, why, why_size))
		return -1;
	l->fd = SD_LISTEN_FDS_START;
	l->activated = true;
	return 1;
}

/* The directory of the socket: made 0755 if missing (the last component
 * only, as systemd's RuntimeDirectory), and in any case a real directory
 * of root's that nobody else may write, so nobody else can swap the socket. */
static bool check_directory(const char *path, char *why, size_t why_size)
{
	char dir[sizeof(((twofad_listener *)0)->path)];
	char *slash;
	struct stat st;

	twofa_strlcpy(dir, path, sizeof(dir));
	slash = strrchr(dir, '/');
	if (slash == dir)
		return fail(why, why_size, "%s: the socket may not be directly in /", path);
	*slash = '\0';
	if (mkdir(dir, 0755) == 0) {
		if (chmod(dir, 0755) != 0) /* the umask may have taken bits away */
			return fail(why, why_size, "chmod %s: %s", dir, strerror(errno));
	} else if (errno != EEXIST) {
		return fail(why, why_size, "cannot make %s: %s", dir, strerror(errno));
	}
	if (lstat(dir, &st) != 0)
		return fail(why, why_size, "cannot stat %s: %s", dir, strerror(errno));
	if (!S_ISDIR(st.st_mode))
		return fail(why, why_size, "%s is not a directory", dir);
	if (st.st_uid != 0)
		return fail(why, why_size, "%s is owned by uid %lu, not root", dir, (unsigned long)st.st_uid);
	if ((st.st_mode & (S_IWGRP | S_IWOTH)) != 0)
		return fail(why, why_size, "%s is writable by others (mode %04o)", dir,
			    (unsigned)(st.st_mode & 07777));
	return true;
}

/* A file already at the path: a stale socket goes, anything else stays. */
static bool clear_stale(const struct sockaddr_un *sa, char *why, size_t why_size)
{
	struct stat st;
	int fd, rc;

	if (lstat(sa->sun_path, &st) != 0)
		return errno == ENOENT ? true : fail(why, why_size, "cannot stat %s: %s", sa->sun_path,
						     strerror(errno));
	if (!S_ISSOCK(st.st_mode))
		return fail(why, why_size, "%s exists and is not a socket: not replaced", sa->sun_path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		return fail(why, why_size, "socket: %s", strerror(errno));
	rc = connect(fd, (const struct sockaddr *)sa, sizeof(*sa));
	(void)close(fd);
	if (rc == 0 || errno == EAGAIN)
		return fail(why, why_size, "%s: another twofad is listening on it", sa->sun_path);
	if (errno != ECONNREFUSED)
		return fail(why, why_size, "%s: cannot tell whether it is in use: %s", sa->sun_path,
			    strerror(errno));
	if (unlink(sa->sun_path) != 0 && errno != ENOENT)
		return fail(why, why_size, "cannot remove the stale %s: %s", sa->sun_path, strerror(errno));
	return true;
}

bool twofad_listen_create(twofad_listener *l, const char *path, char *why, size_t why_size)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	struct stat st;
	mode_t old_umask;
	int rc;

	memset(l, 0, sizeof(*l));
	l->fd = -1;
	if (path == NULL || path[0] != '/')
		return fail(why, why_size, "the socket path must be absolute");
	if (strlen(path) >= sizeof(sa.sun_path) || strlen(path) >= sizeof(l->path))
		return fail(why, why_size, "the socket path is longer than %zu bytes", sizeof(sa.sun_path) - 1);
	memcpy(sa.sun_path, path, strlen(path) + 1);
	if (!check_directory(path, why, why_size) || !clear_stale(&sa, why, why_size))
		return false;
	l->fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (l->fd < 0)
		return fail(why, why_size, "socket: %s", strerror(errno));
	/* 0666 from the start: the file never exists with other bits. */
	old_umask = umask(0111);
	rc = bind(l->fd, (const struct sockaddr *)&sa, sizeof(sa));
	(void)umask(old_umask);
	if (rc != 0) {
		(void)fail(why, why_size, "bind %s: %s", path, strerror(errno));
		goto failed;
	}
	if (chmod(path, 0666) != 0 || lstat(path, &st) != 0) {
		(void)fail(why, why_size, "chmod %s: %s", path, strerror(errno));
		(void)unlink(path);
		goto failed;
	}
	twofa_strlcpy(l->path, path, sizeof(l->path));
	l->dev = st.st_dev;
	l->ino = st.st_ino;
	if (listen(l->fd, LISTEN_BACKLOG) != 0) {
		(void)fail(why, why_size, "listen %s: %s", path, strerror(errno));
		twofad_listen_close(l);
		return false;
	}
	return true;

failed:
	(void)close(l->fd);
	l->fd = -1;
	return false;
}

void twofad_listen_close(twofad_listener *l)
{
	struct stat st;

	if (l->fd >= 0)
		(void)close(l->fd);
	l->fd = -1;
	if (!l->activated && l->path[0] != '\0' && lstat(l->path, &st) == 0 && st.st_dev == l->dev &&
	    st.st_ino == l->ino)
		(void)unlink(l->path);
	l->path[0] = '\0';
}
