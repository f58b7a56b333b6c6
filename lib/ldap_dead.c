/* SPDX-License-Identifier: GPL-3.0-or-later */
/* The dead-server memory (lib/ldap_dead.h). One file per server, named by a
 * hash of its URI and holding the URI itself (a hash collision is then just
 * no record), written whole under a temporary name and renamed, so a reader
 * never sees half a record. Times are CLOCK_MONOTONIC milliseconds: /run is
 * emptied at boot, and a changed wall clock cannot stretch a mark. */
#include "twofa_build.h"

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config_ldap.h"
#include "ldap_dead.h"
#include "util.h"
#include "wire.h"

#define RECORD_MAGIC "twofa-ldap-dead 1"
#define RECORD_MAX (sizeof(RECORD_MAGIC) + TWOFA_LDAP_URI_MAX + 32)

/* The caller's and writable by nobody else. */
static bool trusted(int fd, bool want_dir)
{
	struct stat st;

	if (fstat(fd, &st) != 0 || st.st_uid != geteuid())
		return false;
	if (want_dir ? !S_ISDIR(st.st_mode) : !S_ISREG(st.st_mode))
		return false;
	return (st.st_mode & (want_dir ? (S_IWGRP | S_IWOTH) : 0177)) == 0;
}

/* Opens dir, creating it (and, once, a missing parent, mode 0755 as twofad
 * makes /run/twofa) when asked; -1 when it is missing or not to be trusted. */
static int open_dir(const char *dir, bool create)
{
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);

	if (fd < 0 && errno == ENOENT && create) {
		if (mkdir(dir, 0700) != 0 && errno == ENOENT) {
			char parent[4096];
			char *slash;
			if (twofa_strlcpy(parent, dir, sizeof(parent)) &&
			    (slash = strrchr(parent, '/')) != NULL && slash != parent) {
				*slash = '\0';
				if (mkdir(parent, 0755) == 0 || errno == EEXIST)
					(void)mkdir(dir, 0700);
			}
		}
		fd = open(dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	}
	if (fd >= 0 && !trusted(fd, true)) {
		(void)close(fd);
		return -1;
	}
	return fd;
}

/* "dead-" and 16 hex digits of FNV-1a 64 over the URI. */
static void record_name(const char *uri, char name[32])
{
	uint64_t h = 0xcbf29ce484222325ull;

	for (const unsigned char *p = (const unsigned char *)uri; *p != '\0'; p++) {
		h ^= *p;
		h *= 0x100000001b3ull;
	}
	(void)snprintf(name, 32, "dead-%016llx", (unsigned long long)h);
}

bool twofa_ldap_dead_recent(const char *dir, const char *uri)
{
	char name[32], buf[RECORD_MAX + 1], *until_text, *end;
	long long until, now;
	ssize_t n;
	int dfd, fd;

	if (dir == NULL || uri == NULL || (dfd = open_dir(dir, false)) < 0)
		return false;
	record_name(uri, name);
	fd = openat(dfd, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
	(void)close(dfd);
	if (fd < 0)
		return false;
	n = trusted(fd, false) ? read(fd, buf, RECORD_MAX + 1) : -1;
	(void)close(fd);
	if (n <= 0 || (size_t)n > RECORD_MAX)
		return false;
	buf[n] = '\0';
	/* RECORD_MAGIC "\n" URI "\n" UNTIL_MS "\n", nothing else. */
	if (strncmp(buf, RECORD_MAGIC "\n", sizeof(RECORD_MAGIC)) != 0)
		return false;
	until_text = buf + sizeof(RECORD_MAGIC);
	if (strncmp(until_text, uri, strlen(uri)) != 0 || until_text[strlen(uri)] != '\n')
		return false;
	until_text += strlen(uri) + 1;
	errno = 0;
	until = strtoll(until_text, &end, 10);
	if (errno != 0 || end == until_text || strcmp(end, "\n") != 0)
		return false;
	now = twofa_wire_now_ms();
	/* A mark further ahead than one period was not written by this rule. */
	return until > now && until - now <= TWOFA_LDAP_DEAD_SECONDS * 1000LL;
}

void twofa_ldap_dead_mark(const char *dir, const char *uri)
{
	char name[32], tmp[48], buf[RECORD_MAX + 1];
	int dfd, fd, len;
	bool written;

	if (dir == NULL || uri == NULL || strlen(uri) > TWOFA_LDAP_URI_MAX || (dfd = open_dir(dir, true)) < 0)
		return;
	record_name(uri, name);
	/* Per thread: twofad's threads may mark the same server at once. */
	(void)snprintf(tmp, sizeof(tmp), ".%s.%ld", name, (long)gettid());
	len = snprintf(buf, sizeof(buf), RECORD_MAGIC "\n%s\n%lld\n", uri,
		       twofa_wire_now_ms() + TWOFA_LDAP_DEAD_SECONDS * 1000LL);
	(void)unlinkat(dfd, tmp, 0);
	fd = openat(dfd, tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd >= 0) {
		written = len > 0 && write(fd, buf, (size_t)len) == len;
		if (close(fd) != 0 || !written || renameat(dfd, tmp, dfd, name) != 0)
			(void)unlinkat(dfd, tmp, 0);
	}
	(void)close(dfd);
}

void twofa_ldap_dead_clear(const char *dir, const char *uri)
{
	char name[32];
	int dfd;

	if (dir == NULL || uri == NULL || (dfd = open_dir(dir, false)) < 0)
		return;
	record_name(uri, name);
	(void)unlinkat(dfd, name, 0);
	(void)close(dfd);
}
