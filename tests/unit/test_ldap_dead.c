/* SPDX-License-Identifier: GPL-3.0-or-later */
/* Unit tests for lib/ldap_dead: a mark is kept for 30 s and cleared; the
 * directory is made 0700 and its records 0600; a record that is corrupt,
 * for another URI, a symbolic link, another user's, writable by others, in
 * a directory others can write, or dated too far ahead is ignored. */
#include "twofa_build.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ldap_dead.h"
#include "tap.h"
#include "wire.h"

#define URI "ldaps://ldap1.example.com:636"

static char top[] = "/tmp/twofa-ldap-dead-XXXXXX";
static char dir[128];

/* The one record in dir, by name; false when there is not exactly one. */
static bool record_path(char *out, size_t size)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	int n = 0;

	if (d == NULL)
		return false;
	while ((e = readdir(d)) != NULL) {
		if (e->d_name[0] == '.')
			continue;
		(void)snprintf(out, size, "%s/%s", dir, e->d_name);
		n++;
	}
	(void)closedir(d);
	return n == 1;
}

static void rewrite(const char *path, const char *text)
{
	int fd = open(path, O_WRONLY | O_TRUNC);

	ok(fd >= 0 && write(fd, text, strlen(text)) == (ssize_t)strlen(text) && close(fd) == 0, "rewrote %s",
	   path);
}

int main(void)
{
	char path[512], text[512];
	struct stat st;

	if (geteuid() != 0) {
		printf("1..0 # SKIP records are checked to be root's\n");
		return 0;
	}
	if (mkdtemp(top) == NULL)
		return 1;
	(void)snprintf(dir, sizeof(dir), "%s/run/ldap", top);

	ok(!twofa_ldap_dead_recent(dir, URI), "no directory: nothing is dead");
	twofa_ldap_dead_mark(dir, URI);
	ok(twofa_ldap_dead_recent(dir, URI), "marked: dead");
	ok(!twofa_ldap_dead_recent(dir, "ldaps://ldap2.example.com:636"), "another server is not");
	ok(stat(dir, &st) == 0 && (st.st_mode & 07777) == 0700 && st.st_uid == 0,
	   "the directory is root's, 0700");
	ok(record_path(path, sizeof(path)) && stat(path, &st) == 0 && (st.st_mode & 07777) == 0600,
	   "one record, 0600");
	twofa_ldap_dead_mark(dir, URI);
	ok(record_path(path, sizeof(path)), "marking again replaces the record, leaves no temporary file");
	twofa_ldap_dead_clear(dir, URI);
	ok(!twofa_ldap_dead_recent(dir, URI) && !record_path(path, sizeof(path)), "cleared: alive, no record");

	twofa_ldap_dead_mark(dir, URI);
	ok(record_path(path, sizeof(path)), "marked again");
	rewrite(path, "garbage\n");
	ok(!twofa_ldap_dead_recent(dir, URI), "a corrupt record is ignored");
	(void)snprintf(text, sizeof(text), "twofa-ldap-dead 1\nldaps://other.example.com\n%lld\n",
		       twofa_wire_now_ms() + 20000);
	rewrite(path, text);
	ok(!twofa_ldap_dead_recent(dir, URI), "a record of another URI under its name is ignored");
	(void)snprintf(text, sizeof(text), "twofa-ldap-dead 1\n%s\n%lld\n", URI,
		       twofa_wire_now_ms() + 86400000LL);
	rewrite(path, text);
	ok(!twofa_ldap_dead_recent(dir, URI), "a record dated a day ahead is ignored");
	(void)snprintf(text, sizeof(text), "twofa-ldap-dead 1\n%s\n%lld\n", URI, twofa_wire_now_ms() - 1);
	rewrite(path, text);
	ok(!twofa_ldap_dead_recent(dir, URI), "an expired record: alive");
	(void)snprintf(text, sizeof(text), "twofa-ldap-dead 1\n%s\n%lld\n", URI, twofa_wire_now_ms() + 20000);
	rewrite(path, text);
	ok(twofa_ldap_dead_recent(dir, URI), "a record written by the rule: dead");
	ok(chmod(path, 0620) == 0 && !twofa_ldap_dead_recent(dir, URI), "group-writable: ignored");
	ok(chmod(path, 0600) == 0 && chown(path, 65534, 0) == 0 && !twofa_ldap_dead_recent(dir, URI),
	   "another user's: ignored");
	ok(chown(path, 0, 0) == 0 && twofa_ldap_dead_recent(dir, URI), "root's again: dead");
	ok(chmod(dir, 0777) == 0 && !twofa_ldap_dead_recent(dir, URI),
	   "in a world-writable directory: ignored");
	twofa_ldap_dead_mark(dir, URI);
	(void)chmod(dir, 0700);
	{
		char target[256], moved[512];
		(void)snprintf(target, sizeof(target), "%s/elsewhere", top);
		(void)snprintf(moved, sizeof(moved), "%s", path);
		ok(rename(path, target) == 0 && symlink(target, moved) == 0 &&
			   !twofa_ldap_dead_recent(dir, URI),
		   "a symbolic link to a good record: ignored");
		(void)unlink(moved);
		(void)unlink(target);
	}
	twofa_ldap_dead_clear(dir, URI);
	(void)rmdir(dir);
	(void)snprintf(path, sizeof(path), "%s/run", top);
	(void)rmdir(path);
	(void)rmdir(top);
	return tap_done();
}
