/* SPDX-License-Identifier: GPL-3.0-or-later */
/* The GDBM store: records, files and modes, damaged files, locking. Runs as
 * root (it chowns files to nobody to test the owner check). */
#include "twofa_build.h"

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "store.h"
#include "tap.h"

static char top[64];
static char path[256];

static long long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static unsigned mode_of(const char *p)
{
	struct stat st;

	return stat(p, &st) == 0 ? (unsigned)(st.st_mode & 07777) : 0xffff;
}

static bool exists(const char *p)
{
	struct stat st;

	return lstat(p, &st) == 0;
}

static twofa_status put_str(twofa_store *s, const char *k, const char *v, bool replace)
{
	return twofa_store_put(s, k, v, strlen(v), replace, NULL);
}

static twofa_status get_cmp(twofa_store *s, const char *k, const char *want)
{
	char *v = NULL;
	size_t len = 0;
	twofa_status st = twofa_store_get(s, k, &v, &len, NULL);

	if (st == TWOFA_OK && (len != strlen(want) || strcmp(v, want) != 0))
		st = TWOFA_EINVAL;
	free(v);
	return st;
}

struct walk {
	int n;
	size_t bytes;
	int stop_after;
};

static int walk_cb(const char *key, const char *value, size_t len, void *arg)
{
	struct walk *w = arg;

	(void)key;
	if (value[len] != '\0')
		return 1;
	w->n++;
	w->bytes += len;
	return w->stop_after > 0 && w->n >= w->stop_after;
}

static void test_records(void)
{
	twofa_store *s = NULL;
	twofa_error err = {TWOFA_OK, ""};
	char dir[600], lockp[600], key[TWOFA_STORE_KEY_MAX + 2], *v = NULL, *big;
	struct walk w = {0, 0, 0};
	size_t len = 0, count = 0;
	twofa_status rc;

	snprintf(dir, sizeof(dir), "%s/db", top);
	snprintf(path, sizeof(path), "%s/db/members.db", top);
	snprintf(lockp, sizeof(lockp), "%s.lock", path);

	ok(twofa_store_open(&s, path, TWOFA_STORE_READ, 100, &err) == TWOFA_ENOTFOUND && s == NULL,
	   "READ of a missing directory is not-found: %s", err.msg);
	ok(!exists(dir), "READ creates no directory");
	umask(0);
	ok(twofa_store_open(&s, path, TWOFA_STORE_WRITE, 100, &err) == TWOFA_OK && s != NULL,
	   "WRITE creates the store: %s", err.msg);
	umask(022);
	ok(mode_of(dir) == 0700, "directory is 0700 (%o) even with umask 0", mode_of(dir));
	ok(mode_of(path) == 0600, "database is 0600 (%o)", mode_of(path));
	ok(mode_of(lockp) == 0600, "lock file is 0600 (%o)", mode_of(lockp));

	ok(put_str(s, "alice", "{\"v\":1}", false) == TWOFA_OK, "put alice");
	ok(put_str(s, "bob", "B", false) == TWOFA_OK, "put bob");
	ok(twofa_store_exists(s, "alice", &err) == TWOFA_OK, "alice exists");
	ok(twofa_store_exists(s, "carol", &err) == TWOFA_ENOTFOUND, "carol does not");
	ok(put_str(s, "alice", "other", false) == TWOFA_EEXIST, "put without replace is EEXIST");
	ok(get_cmp(s, "alice", "{\"v\":1}") == TWOFA_OK, "EEXIST left the value alone");
	ok(put_str(s, "alice", "second", true) == TWOFA_OK && get_cmp(s, "alice", "second") == TWOFA_OK,
	   "replace overwrites");
	ok(twofa_store_put(s, "bin", "a\0b", 3, false, &err) == TWOFA_OK &&
		   twofa_store_get(s, "bin", &v, &len, &err) == TWOFA_OK && len == 3 &&
		   memcmp(v, "a\0b", 4) == 0,
	   "value with a NUL byte round-trips, NUL-terminated");
	free(v);
	ok(twofa_store_put(s, "empty", NULL, 0, false, &err) == TWOFA_OK &&
		   get_cmp(s, "empty", "") == TWOFA_OK,
	   "empty value");
	ok(twofa_store_get(s, "carol", &v, &len, &err) == TWOFA_ENOTFOUND && v == NULL,
	   "get missing: not-found");
	ok(twofa_store_delete(s, "bob", &err) == TWOFA_OK && get_cmp(s, "bob", "B") == TWOFA_ENOTFOUND,
	   "delete");
	ok(twofa_store_delete(s, "bob", &err) == TWOFA_ENOTFOUND, "delete missing: not-found");
	ok(twofa_store_put(s, "", "x", 1, true, &err) == TWOFA_EINVAL, "empty key refused");
	ok(twofa_store_put(s, "a\nb", "x", 1, true, &err) == TWOFA_EINVAL, "key with newline refused");
	memset(key, 'k', sizeof(key) - 1);
	key[sizeof(key) - 1] = '\0';
	ok(twofa_store_put(s, key, "x", 1, true, &err) == TWOFA_EINVAL, "overlong key refused");
	key[TWOFA_STORE_KEY_MAX] = '\0';
	ok(twofa_store_put(s, key, "x", 1, true, &err) == TWOFA_OK && get_cmp(s, key, "x") == TWOFA_OK,
	   "longest key works");
	ok(twofa_store_delete(s, key, &err) == TWOFA_OK, "and is deleted");
	big = malloc(TWOFA_STORE_VALUE_MAX + 1);
	if (big != NULL) {
		memset(big, 'v', TWOFA_STORE_VALUE_MAX + 1);
		ok(twofa_store_put(s, "big", big, TWOFA_STORE_VALUE_MAX + 1, true, &err) == TWOFA_EINVAL,
		   "value over 64 KiB refused");
		ok(twofa_store_put(s, "big", big, TWOFA_STORE_VALUE_MAX, true, &err) == TWOFA_OK,
		   "64 KiB value stored");
		ok(twofa_store_delete(s, "big", &err) == TWOFA_OK, "and deleted");
		free(big);
	}
	for (int i = 0; i < 50; i++) {
		char k[32];
		snprintf(k, sizeof(k), "user%02d", i);
		if (put_str(s, k, "0123456789", false) != TWOFA_OK)
			break;
	}
	rc = twofa_store_count(s, &count, &err);
	ok(rc == TWOFA_OK && count == 53, "count is 53 (%zu)", count);
	rc = twofa_store_iterate(s, walk_cb, &w, &err);
	ok(rc == TWOFA_OK && w.n == 53 && w.bytes == 6 + 3 + 0 + 500,
	   "iterate visits every record once (%d, %zu bytes)", w.n, w.bytes);
	w = (struct walk){0, 0, 5};
	ok(twofa_store_iterate(s, walk_cb, &w, &err) == TWOFA_OK && w.n == 5, "callback stops the walk");
	ok(twofa_store_close(s, &err) == TWOFA_OK, "close writer");
	ok(twofa_store_close(NULL, &err) == TWOFA_OK, "close NULL");

	ok(twofa_store_open(&s, path, TWOFA_STORE_READ, 100, &err) == TWOFA_OK, "reopen for reading");
	ok(get_cmp(s, "alice", "second") == TWOFA_OK, "data persisted");
	ok(put_str(s, "x", "y", true) == TWOFA_EINVAL && twofa_store_delete(s, "alice", &err) == TWOFA_EINVAL,
	   "reader cannot put or delete");
	w = (struct walk){0, 0, 0};
	ok(twofa_store_iterate(s, walk_cb, &w, &err) == TWOFA_OK && w.n == 53, "reader iterates");
	ok(twofa_store_close(s, &err) == TWOFA_OK, "close reader");

	/* The walk with its reads a thread ahead: more records than it reads
	 * ahead (4 batches of 64), every one once, and a stop anywhere. */
	ok(twofa_store_open(&s, path, TWOFA_STORE_WRITE, 100, &err) == TWOFA_OK, "writer for the walk ahead");
	for (int i = 0; i < 400; i++) {
		char k[32];
		snprintf(k, sizeof(k), "bulk%03d", i);
		if (put_str(s, k, "abcdefgh", false) != TWOFA_OK)
			break;
	}
	ok(twofa_store_close(s, &err) == TWOFA_OK &&
		   twofa_store_open(&s, path, TWOFA_STORE_READ, 100, &err) == TWOFA_OK,
	   "400 more records, reopened for reading");
	w = (struct walk){0, 0, 0};
	rc = twofa_store_iterate_ahead(s, walk_cb, &w, &err);
	ok(rc == TWOFA_OK && w.n == 453 && w.bytes == 509 + 400 * 8,
	   "iterate_ahead visits every record once (%d, %zu bytes)", w.n, w.bytes);
	for (int stop = 1; stop <= 400; stop += 133) {
		w = (struct walk){0, 0, stop};
		rc = twofa_store_iterate_ahead(s, walk_cb, &w, &err);
		ok(rc == TWOFA_OK && w.n == stop, "iterate_ahead: the callback stops it after %d (%d)", stop,
		   w.n);
	}
	ok(twofa_store_iterate_ahead(s, NULL, &w, &err) == TWOFA_EINVAL &&
		   twofa_store_iterate_ahead(NULL, walk_cb, &w, &err) == TWOFA_EINVAL,
	   "iterate_ahead without a callback or a store: refused");
	ok(twofa_store_close(s, &err) == TWOFA_OK, "close reader");

	ok(twofa_store_delete_if_present(path, "alice", &err) == TWOFA_OK &&
		   twofa_store_open(&s, path, TWOFA_STORE_READ, 100, &err) == TWOFA_OK &&
		   get_cmp(s, "alice", "second") == TWOFA_ENOTFOUND && twofa_store_close(s, &err) == TWOFA_OK,
	   "delete_if_present deletes the key and closes the store");
	ok(twofa_store_delete_if_present(path, "alice", &err) == TWOFA_OK,
	   "delete_if_present of a missing key: OK");
	ok(twofa_store_delete_if_present(path, "", &err) == TWOFA_EINVAL,
	   "delete_if_present of an empty key: refused");

	{
		char other[600], olock[700];
		snprintf(other, sizeof(other), "%s/db/state.db", top);
		snprintf(olock, sizeof(olock), "%s.lock", other);
		ok(twofa_store_open(&s, other, TWOFA_STORE_READ, 100, &err) == TWOFA_ENOTFOUND,
		   "READ of a missing file in an existing directory: not-found: %s", err.msg);
		ok(!exists(olock), "and no lock file is left behind");
		snprintf(other, sizeof(other), "%s/nope/sub/x.db", top);
		ok(twofa_store_open(&s, other, TWOFA_STORE_WRITE, 100, &err) == TWOFA_ESTORE &&
			   strstr(err.msg, "parent") != NULL,
		   "WRITE with a missing parent directory: %s", err.msg);
	}
	ok(twofa_store_open(&s, "", TWOFA_STORE_READ, 100, &err) == TWOFA_EINVAL, "empty path refused");
	ok(twofa_store_open(&s, path, TWOFA_STORE_READ, -1, &err) == TWOFA_EINVAL, "negative timeout refused");
	ok(twofa_store_open(&s, path, (twofa_store_mode)5, 10, &err) == TWOFA_EINVAL, "bad mode refused");
}

static twofa_status open_close(const char *p, twofa_store_mode mode, twofa_error *err)
{
	twofa_store *s = NULL;
	twofa_status st = twofa_store_open(&s, p, mode, 100, err);

	if (st == TWOFA_OK)
		st = twofa_store_close(s, err);
	return st;
}

static void test_permissions(void)
{
	char dir[600], lockp[600], link[600];
	twofa_error err = {TWOFA_OK, ""};

	snprintf(dir, sizeof(dir), "%s/db", top);
	snprintf(lockp, sizeof(lockp), "%s.lock", path);
	ok(open_close(path, TWOFA_STORE_READ, &err) == TWOFA_OK, "baseline opens");

	chmod(dir, 0770);
	ok(open_close(path, TWOFA_STORE_READ, &err) == TWOFA_EPERM && strstr(err.msg, "writable") != NULL,
	   "group-writable directory refused: %s", err.msg);
	chmod(dir, 0702);
	ok(open_close(path, TWOFA_STORE_WRITE, &err) == TWOFA_EPERM, "world-writable directory refused");
	chmod(dir, 0700);
	ok(chown(dir, 65534, 65534) == 0 && open_close(path, TWOFA_STORE_READ, &err) == TWOFA_EPERM &&
		   strstr(err.msg, "65534") != NULL,
	   "directory owned by nobody refused: %s", err.msg);
	ok(chown(dir, 0, 0) == 0 && open_close(path, TWOFA_STORE_READ, &err) == TWOFA_OK, "owner restored");

	chmod(path, 0620);
	ok(open_close(path, TWOFA_STORE_READ, &err) == TWOFA_EPERM, "group-writable database refused: %s",
	   err.msg);
	chmod(path, 0606);
	ok(open_close(path, TWOFA_STORE_WRITE, &err) == TWOFA_EPERM, "world-writable database refused");
	chmod(path, 0600);
	ok(chown(path, 65534, 0) == 0 && open_close(path, TWOFA_STORE_WRITE, &err) == TWOFA_EPERM,
	   "database owned by nobody refused: %s", err.msg);
	ok(chown(path, 0, 0) == 0, "database owner restored");
	chmod(lockp, 0666);
	ok(open_close(path, TWOFA_STORE_READ, &err) == TWOFA_EPERM, "world-writable lock file refused: %s",
	   err.msg);
	chmod(lockp, 0600);
	ok(open_close(path, TWOFA_STORE_READ, &err) == TWOFA_OK, "modes restored, opens again");

	/* Symbolic links: the database, and the directory. */
	snprintf(link, sizeof(link), "%s/db/link.db", top);
	ok(symlink(path, link) == 0 && open_close(link, TWOFA_STORE_READ, &err) == TWOFA_EPERM,
	   "database that is a symlink refused: %s", err.msg);
	snprintf(link, sizeof(link), "%s/dirlink", top);
	ok(symlink(dir, link) == 0, "make a directory symlink");
	strcat(link, "/members.db");
	ok(open_close(link, TWOFA_STORE_READ, &err) == TWOFA_EPERM, "directory that is a symlink refused: %s",
	   err.msg);
}

/* Writes len bytes of content to a fresh 0600 file. */
static void write_file(const char *p, const void *content, size_t len)
{
	int fd = open(p, O_WRONLY | O_CREAT | O_TRUNC, 0600);

	if (fd >= 0) {
		if (write(fd, content, len) != (ssize_t)len)
			diag("short write to %s", p);
		close(fd);
	}
}

/* Opens, walks and reads p in a child, so a crash is seen as a signal.
 * Exit: 0 everything OK, 1 a store error, 2 another status. */
static int probe(const char *p, int *signo)
{
	pid_t pid = fork();
	int status = 0;

	if (pid == 0) {
		twofa_store *s = NULL;
		struct walk w = {0, 0, 0};
		twofa_status st = twofa_store_open(&s, p, TWOFA_STORE_READ, 1000, NULL);
		if (st == TWOFA_OK)
			st = twofa_store_iterate(s, walk_cb, &w, NULL);
		if (st == TWOFA_OK) {
			char *v = NULL;
			st = twofa_store_get(s, "user0007", &v, NULL, NULL);
			free(v);
			if (st == TWOFA_ENOTFOUND)
				st = TWOFA_OK;
		}
		twofa_store_close(s, NULL);
		_exit(st == TWOFA_OK ? 0 : st == TWOFA_ESTORE ? 1 : 2);
	}
	*signo = 0;
	if (pid < 0 || waitpid(pid, &status, 0) != pid)
		return 3;
	if (WIFSIGNALED(status)) {
		*signo = WTERMSIG(status);
		return 4;
	}
	return WEXITSTATUS(status);
}

static void make_db(const char *p, int n)
{
	twofa_store *s = NULL;
	char k[32], v[200];

	unlink(p);
	if (twofa_store_open(&s, p, TWOFA_STORE_WRITE, 1000, NULL) != TWOFA_OK)
		return;
	for (int i = 0; i < n; i++) {
		snprintf(k, sizeof(k), "user%04d", i);
		snprintf(v, sizeof(v), "{\"v\":1,\"user\":\"%s\",\"pad\":\"%0120d\"}", k, i);
		put_str(s, k, v, true);
	}
	twofa_store_close(s, NULL);
}

static void test_damaged(void)
{
	char p[600], bak[600], *backup = NULL;
	unsigned char junk[8192];
	twofa_error err = {TWOFA_OK, ""};
	twofa_store *s = NULL;
	twofa_store_report rep;
	twofa_store_recovery rec;
	struct stat st;
	int sig = 0, rc, crashes = 0, estore = 0;
	unsigned long seed = 12345;

	snprintf(p, sizeof(p), "%s/db/junk.db", top);
	for (size_t i = 0; i < sizeof(junk); i++) {
		seed = seed * 6364136223846793005UL + 1442695040888963407UL;
		junk[i] = (unsigned char)(seed >> 56);
	}
	write_file(p, junk, sizeof(junk));
	ok(open_close(p, TWOFA_STORE_READ, &err) == TWOFA_ESTORE && strstr(err.msg, "damaged") != NULL,
	   "random bytes: store error on READ: %s", err.msg);
	ok(open_close(p, TWOFA_STORE_WRITE, &err) == TWOFA_ESTORE, "random bytes: store error on WRITE");
	ok(stat(p, &st) == 0 && st.st_size == (off_t)sizeof(junk), "WRITE left the foreign file as it was");
	write_file(p, "user:password\nroot:x\n", 21);
	ok(open_close(p, TWOFA_STORE_READ, &err) == TWOFA_ESTORE, "text file: store error: %s", err.msg);
	ok(open_close(p, TWOFA_STORE_WRITE, &err) == TWOFA_ESTORE && stat(p, &st) == 0 && st.st_size == 21,
	   "text file: WRITE refuses and does not touch it");
	write_file(p, "", 0);
	ok(open_close(p, TWOFA_STORE_READ, &err) == TWOFA_ESTORE,
	   "empty file: READ is a store error, not an empty store: %s", err.msg);

	/* A real database, then cut short at several places. */
	make_db(p, 400);
	ok(probe(p, &sig) == 0, "intact database probes clean");
	rc = twofa_store_check(p, 1000, NULL, NULL, &rep, &err);
	ok(rc == TWOFA_OK && rep.records == 400 && rep.damaged == 0 && rep.walk_complete,
	   "check of an intact store: %zu records", rep.records);
	rc = stat(p, &st);
	ok(rc == 0 && st.st_size > 4096, "database size %lld", (long long)st.st_size);
	{
		off_t cuts[] = {10, 100, 600, 4096, st.st_size / 3, st.st_size / 2, st.st_size - 4096};
		for (size_t i = 0; i < sizeof(cuts) / sizeof(cuts[0]); i++) {
			make_db(p, 400);
			if (truncate(p, cuts[i]) != 0)
				continue;
			rc = probe(p, &sig);
			ok(rc == 1, "truncated to %lld bytes: store error, no crash (rc %d, signal %d)",
			   (long long)cuts[i], rc, sig);
		}
	}
	/* Random byte damage: never a crash; sometimes harmless. */
	for (int round = 0; round < 60; round++) {
		int fd;
		make_db(p, 400);
		fd = open(p, O_RDWR);
		if (fd < 0)
			break;
		for (int k = 0; k < 8; k++) {
			unsigned char b;
			seed = seed * 6364136223846793005UL + 1442695040888963407UL;
			b = (unsigned char)(seed >> 33);
			if (pwrite(fd, &b, 1, (off_t)((seed >> 20) % (unsigned long)st.st_size)) != 1)
				break;
		}
		close(fd);
		rc = probe(p, &sig);
		crashes += rc >= 2;
		estore += rc == 1;
	}
	ok(crashes == 0, "60 randomly damaged files: no crash, no odd status (%d store errors)", estore);

	/* check reports damage; recover keeps a backup and rebuilds. */
	make_db(p, 400);
	{
		int fd = open(p, O_RDWR);
		memset(junk, 0x5a, 4096);
		ok(fd >= 0 && pwrite(fd, junk, 4096, 20000) == 4096, "overwrite 4 KiB in the middle");
		if (fd >= 0)
			close(fd);
	}
	ok(twofa_store_check(p, 1000, NULL, NULL, &rep, &err) == TWOFA_ESTORE && !rep.walk_complete,
	   "check of a damaged store fails: %s", err.msg);
	rc = twofa_store_recover(p, 1000, &backup, &rec, &err);
	ok(rc == TWOFA_OK && backup != NULL, "recover (%zu keys back, %zu failed): %s", rec.recovered_keys,
	   rec.failed_keys, err.msg);
	ok(backup != NULL && stat(backup, &st) == 0 && (st.st_mode & 07777) == 0600, "backup kept, mode 0600");
	rc = twofa_store_check(p, 1000, NULL, NULL, &rep, &err);
	ok(rc == TWOFA_OK && rep.records > 300 && rep.records <= rec.recovered_keys,
	   "recovered store checks clean with %zu records", rep.records);
	ok(mode_of(p) == 0600, "recovered store is 0600");
	free(backup);
	backup = NULL;

	/* Cut short: GDBM finds nothing; the original must stay, not an empty store. */
	make_db(p, 400);
	ok(stat(p, &st) == 0 && truncate(p, st.st_size / 2) == 0, "cut the store in half");
	ok(twofa_store_recover(p, 1000, &backup, &rec, &err) == TWOFA_ESTORE,
	   "nothing recoverable is an error: %s", err.msg);
	ok(stat(p, &st) == 0 && open_close(p, TWOFA_STORE_READ, &err) == TWOFA_OK && probe(p, &sig) == 1,
	   "the damaged original is still in place (fails closed, not empty)");
	free(backup);
	backup = NULL;

	memset(junk, 0, sizeof(junk));
	for (size_t i = 0; i < sizeof(junk); i++) {
		seed = seed * 6364136223846793005UL + 1442695040888963407UL;
		junk[i] = (unsigned char)(seed >> 56);
	}
	write_file(p, junk, sizeof(junk));
	ok(twofa_store_recover(p, 1000, &backup, &rec, &err) == TWOFA_ESTORE && backup != NULL &&
		   strstr(err.msg, backup) != NULL,
	   "random bytes cannot be recovered; backup named: %s", err.msg);
	snprintf(bak, sizeof(bak), "%s", backup ? backup : "");
	free(backup);
	ok(stat(bak, &st) == 0 && st.st_size == (off_t)sizeof(junk), "backup is a full copy of the original");
	(void)s;
}

/* A child holds the exclusive lock until told to let go. */
static void test_lock_timeout(void)
{
	int ready[2], go[2];
	twofa_error err = {TWOFA_OK, ""};
	twofa_store *s = NULL;
	long long t0, dt;
	pid_t pid;
	char c = 0;
	int status;

	if (pipe(ready) != 0 || pipe(go) != 0)
		return;
	pid = fork();
	if (pid == 0) {
		twofa_store *cs = NULL;
		close(ready[0]);
		close(go[1]);
		if (twofa_store_open(&cs, path, TWOFA_STORE_WRITE, 1000, NULL) != TWOFA_OK)
			_exit(1);
		if (write(ready[1], "r", 1) != 1 || read(go[0], &c, 1) != 1)
			_exit(1);
		usleep(300 * 1000);
		twofa_store_close(cs, NULL);
		_exit(0);
	}
	close(ready[1]);
	close(go[0]);
	ok(read(ready[0], &c, 1) == 1, "child holds the write lock");
	t0 = now_ms();
	ok(twofa_store_open(&s, path, TWOFA_STORE_READ, 0, &err) == TWOFA_EBUSY && now_ms() - t0 < 100,
	   "timeout 0: busy at once");
	t0 = now_ms();
	ok(twofa_store_open(&s, path, TWOFA_STORE_READ, 400, &err) == TWOFA_EBUSY && s == NULL,
	   "reader gets busy: %s", err.msg);
	dt = now_ms() - t0;
	ok(dt >= 390 && dt < 1400, "after about the deadline (%lld ms for 400)", dt);
	t0 = now_ms();
	ok(twofa_store_open(&s, path, TWOFA_STORE_WRITE, 200, &err) == TWOFA_EBUSY, "writer gets busy too");
	if (write(go[1], "g", 1) != 1)
		diag("cannot signal the child");
	t0 = now_ms();
	ok(twofa_store_open(&s, path, TWOFA_STORE_WRITE, 5000, &err) == TWOFA_OK,
	   "writer waits and gets the lock: %s", err.msg);
	dt = now_ms() - t0;
	ok(dt >= 200 && dt < 2000, "it waited for the release (%lld ms)", dt);
	twofa_store_close(s, NULL);
	ok(waitpid(pid, &status, 0) == pid && WIFEXITED(status) && WEXITSTATUS(status) == 0,
	   "child exited cleanly");
	close(ready[0]);
	close(go[1]);

	/* Readers share. */
	{
		twofa_store *a = NULL, *b = NULL;
		ok(twofa_store_open(&a, path, TWOFA_STORE_READ, 100, &err) == TWOFA_OK &&
			   twofa_store_open(&b, path, TWOFA_STORE_READ, 100, &err) == TWOFA_OK,
		   "two readers at once");
		ok(twofa_store_open(&s, path, TWOFA_STORE_WRITE, 50, &err) == TWOFA_EBUSY,
		   "a writer waits for readers");
		twofa_store_close(a, NULL);
		twofa_store_close(b, NULL);
	}
}

#define WRITERS 8
#define ROUNDS 200

static void test_concurrent_writers(void)
{
	char cpath[600], *v = NULL;
	pid_t pids[WRITERS];
	twofa_store *s = NULL;
	twofa_error err = {TWOFA_OK, ""};
	int clean = 0;
	long long t0 = now_ms();

	snprintf(cpath, sizeof(cpath), "%s/db/counter.db", top);
	for (int i = 0; i < WRITERS; i++) {
		pids[i] = fork();
		if (pids[i] == 0) {
			for (int r = 0; r < ROUNDS; r++) {
				twofa_store *cs = NULL;
				char buf[32];
				long n = 0;
				if (twofa_store_open(&cs, cpath, TWOFA_STORE_WRITE, 20000, NULL) != TWOFA_OK)
					_exit(1);
				if (twofa_store_get(cs, "counter", &v, NULL, NULL) == TWOFA_OK)
					n = strtol(v, NULL, 10);
				free(v);
				v = NULL;
				snprintf(buf, sizeof(buf), "%ld", n + 1);
				if (put_str(cs, "counter", buf, true) != TWOFA_OK ||
				    twofa_store_close(cs, NULL) != TWOFA_OK)
					_exit(2);
			}
			_exit(0);
		}
	}
	for (int i = 0; i < WRITERS; i++) {
		int status = 0;
		if (pids[i] > 0 && waitpid(pids[i], &status, 0) == pids[i] && WIFEXITED(status) &&
		    WEXITSTATUS(status) == 0)
			clean++;
	}
	ok(clean == WRITERS, "%d writers finished cleanly", clean);
	if (twofa_store_open(&s, cpath, TWOFA_STORE_READ, 1000, &err) != TWOFA_OK ||
	    twofa_store_get(s, "counter", &v, NULL, &err) != TWOFA_OK)
		v = NULL;
	ok(v != NULL && strtol(v, NULL, 10) == WRITERS * ROUNDS, "counter is exactly %d: %s (%lld ms)",
	   WRITERS * ROUNDS, v != NULL ? v : err.msg, now_ms() - t0);
	free(v);
	twofa_store_close(s, NULL);
}

static int remove_tree(const char *dir)
{
	char cmd[200];

	snprintf(cmd, sizeof(cmd), "rm -rf -- '%s'", dir);
	return system(cmd);
}

int main(void)
{
	if (geteuid() != 0) {
		printf("1..0 # SKIP the store tests run as root (they chown files)\n");
		return 0;
	}
	snprintf(top, sizeof(top), "/var/tmp/twofa-test-store-XXXXXX");
	if (mkdtemp(top) == NULL) {
		printf("Bail out! mkdtemp: %s\n", strerror(errno));
		return 1;
	}
	test_records();
	test_permissions();
	test_damaged();
	test_lock_timeout();
	test_concurrent_writers();
	remove_tree(top);
	return tap_done();
}
