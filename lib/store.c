/* SPDX-License-Identifier: GPL-3.0-or-later */
/* The GDBM-backed stores: our own flock beside the database (GDBM's lock
 * never waits), owner and mode checks on the very descriptors we use, and
 * GDBM errors turned into twofa statuses with a clear message. Check and
 * recovery are in store_repair.c, crash tolerance in store_crash.c. */
#include "twofa_build.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <time.h>
#include <unistd.h>

#include <linux/fs.h>
#include <linux/magic.h>

#include <gdbm.h>

#include "store_internal.h"
#include "util.h"

/* ---- paths, owners and modes ---- */

/* Splits path into a malloc'd directory and a pointer to the base name. */
static twofa_status split_path(const char *path, char **dir, const char **base, twofa_error *err)
{
	const char *slash;
	size_t len;

	if (path == NULL || *path == '\0')
		return twofa_fail(err, TWOFA_EINVAL, "store path is empty");
	len = strnlen(path, PATH_MAX);
	if (len >= PATH_MAX - sizeof(LOCK_SUFFIX) - 32)
		return twofa_fail(err, TWOFA_EINVAL, "store path is too long");
	if (twofa_has_control(path, len))
		return twofa_fail(err, TWOFA_EINVAL, "store path has a control character");
	slash = strrchr(path, '/');
	*base = slash == NULL ? path : slash + 1;
	if (**base == '\0' || strcmp(*base, ".") == 0 || strcmp(*base, "..") == 0)
		return twofa_fail(err, TWOFA_EINVAL, "store path %s does not name a file", path);
	if (slash == NULL)
		*dir = strdup(".");
	else if (slash == path)
		*dir = strdup("/");
	else
		*dir = strndup(path, (size_t)(slash - path));
	if (*dir == NULL)
		return twofa_fail(err, TWOFA_ENOMEM, "out of memory");
	return TWOFA_OK;
}

/* a + b in a new malloc'd string, or NULL. */
static char *concat(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b);
	char *out = malloc(la + lb + 1);

	if (out != NULL) {
		memcpy(out, a, la);
		memcpy(out + la, b, lb + 1);
	}
	return out;
}

/* Root-owned and not writable by group or others: anyone else who can write
 * the store could enrol themselves or change someone's phone. */
static twofa_status check_owner_mode(int fd, bool want_dir, const char *what, const char *name,
				     twofa_error *err)
{
	struct stat st;

	if (fstat(fd, &st) != 0)
		return twofa_fail(err, TWOFA_ESTORE, "cannot stat %s %s: %s", what, name, strerror(errno));
	if (want_dir ? !S_ISDIR(st.st_mode) : !S_ISREG(st.st_mode))
		return twofa_fail(err, TWOFA_EPERM, "%s %s is not a %s", what, name,
				  want_dir ? "directory" : "regular file");
	if (st.st_uid != 0)
		return twofa_fail(err, TWOFA_EPERM, "%s %s is owned by uid %lu, not root", what, name,
				  (unsigned long)st.st_uid);
	if (st.st_mode & (S_IWGRP | S_IWOTH))
		return twofa_fail(err, TWOFA_EPERM, "%s %s is writable by group or others (mode %04o)", what,
				  name, (unsigned)(st.st_mode & 07777));
	return TWOFA_OK;
}

static twofa_status open_dir(const char *dir, bool create, int *out, twofa_error *err)
{
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);

	if (fd < 0 && errno == ENOENT) {
		if (!create)
			return twofa_fail(err, TWOFA_ENOTFOUND, "store directory %s does not exist", dir);
		if (mkdir(dir, 0700) != 0 && errno != EEXIST)
			return twofa_fail(err, TWOFA_ESTORE, "cannot create store directory %s: %s", dir,
					  errno == ENOENT ? "its parent directory does not exist"
							  : strerror(errno));
		fd = open(dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	}
	if (fd < 0) {
		if (errno == ELOOP || errno == ENOTDIR)
			return twofa_fail(err, TWOFA_EPERM,
					  "store directory %s is not a directory (or is a symbolic link)",
					  dir);
		return twofa_fail(err, errno == EACCES ? TWOFA_EPERM : TWOFA_ESTORE,
				  "cannot open store directory %s: %s", dir, strerror(errno));
	}
	if (check_owner_mode(fd, true, "store directory", dir, err) != TWOFA_OK) {
		close(fd);
		return err != NULL ? err->status : TWOFA_EPERM;
	}
	*out = fd;
	return TWOFA_OK;
}

/* Opens name in dir_fd, never following a symbolic link, and checks it. */
static twofa_status open_checked(int dir_fd, const char *name, int flags, const char *what, const char *shown,
				 int *out, twofa_error *err)
{
	twofa_status st;
	int fd = openat(dir_fd, name, flags | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY, 0600);

	if (fd < 0) {
		if (errno == ENOENT)
			return twofa_fail(err, TWOFA_ENOTFOUND, "%s %s does not exist", what, shown);
		if (errno == ELOOP)
			return twofa_fail(err, TWOFA_EPERM, "%s %s is a symbolic link", what, shown);
		return twofa_fail(err, errno == EACCES ? TWOFA_EPERM : TWOFA_ESTORE, "cannot open %s %s: %s",
				  what, shown, strerror(errno));
	}
	st = check_owner_mode(fd, false, what, shown, err);
	if (st != TWOFA_OK) {
		close(fd);
		return st;
	}
	*out = fd;
	return TWOFA_OK;
}

/* ---- the lock ---- */

static long long now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000000LL + ts.tv_nsec / 1000;
}

/* Jitter only spreads retries of processes that started together; it needs
 * no cryptographic quality. */
static unsigned long jitter_next(unsigned long *state)
{
	unsigned long x = *state;

	x ^= x << 13;
	x ^= x >> 7;
	x ^= x << 17;
	*state = x;
	return x;
}

twofa_status store_lock_wait(int fd, bool exclusive, long timeout_ms, const char *shown, twofa_error *err)
{
	int op = (exclusive ? LOCK_EX : LOCK_SH) | LOCK_NB;
	long long deadline = now_us() + (long long)timeout_ms * 1000LL;
	long delay = BACKOFF_FIRST_US;
	unsigned long rng = (unsigned long)now_us() ^ ((unsigned long)getpid() << 16) ^ 0x9e3779b9UL;

	for (;;) {
		long long now, left;
		long sleep_us;
		struct timespec ts;

		if (flock(fd, op) == 0)
			return TWOFA_OK;
		if (errno == EINTR)
			continue;
		if (errno != EWOULDBLOCK)
			return twofa_fail(err, TWOFA_ESTORE, "cannot lock %s: %s", shown, strerror(errno));
		now = now_us();
		left = deadline - now;
		if (left <= 0)
			return twofa_fail(err, TWOFA_EBUSY, "store %s is busy: no %s lock within %ld ms",
					  shown, exclusive ? "exclusive" : "shared", timeout_ms);
		sleep_us = delay / 2 + (long)(jitter_next(&rng) % (unsigned long)(delay / 2 + 1));
		if (sleep_us > left)
			sleep_us = (long)left;
		ts.tv_sec = sleep_us / 1000000L;
		ts.tv_nsec = (sleep_us % 1000000L) * 1000L;
		nanosleep(&ts, NULL);
		delay = delay * 2 > BACKOFF_MAX_US ? BACKOFF_MAX_US : delay * 2;
	}
}

/* ---- GDBM errors ---- */

static bool gdbm_error_is_corruption(int ec)
{
	switch (ec) {
	case GDBM_BAD_MAGIC_NUMBER:
	case GDBM_EMPTY_DATABASE:
	case GDBM_BYTE_SWAPPED:
	case GDBM_BAD_FILE_OFFSET:
	case GDBM_FILE_EOF:
	case GDBM_NEED_RECOVERY:
	case GDBM_DIR_OVERFLOW:
	case GDBM_BAD_BUCKET:
	case GDBM_BAD_HEADER:
	case GDBM_BAD_AVAIL:
	case GDBM_BAD_HASH_TABLE:
	case GDBM_BAD_DIR_ENTRY:
	case GDBM_BUCKET_CACHE_CORRUPTED:
	case GDBM_BAD_HASH_ENTRY:
	case GDBM_MALFORMED_DATA:
	case GDBM_BLOCK_SIZE_ERROR:
	case GDBM_FILE_SEEK_ERROR: /* an offset beyond the end of the file */
		return true;
	default:
		return false;
	}
}

twofa_status store_gdbm_failed(twofa_store *s, const char *doing, twofa_error *err)
{
	int ec = s->db != NULL ? gdbm_last_errno(s->db) : gdbm_errno;
	const char *why = s->db != NULL ? gdbm_db_strerror(s->db) : gdbm_strerror(ec);

	if (ec == GDBM_MALLOC_ERROR)
		return twofa_fail(err, TWOFA_ENOMEM, "out of memory while %s store %s", doing, s->path);
	if (gdbm_error_is_corruption(ec))
		return twofa_fail(err, TWOFA_ESTORE,
				  "store %s is damaged or not a GDBM database (%s while %s); "
				  "run a store check and recovery",
				  s->path, why, doing);
	return twofa_fail(err, TWOFA_ESTORE, "store %s: %s while %s", s->path, why, doing);
}

/* ---- open and close ---- */

void store_release(twofa_store *s)
{
	if (s->db != NULL)
		gdbm_close(s->db);
	if (s->dir_fd >= 0)
		close(s->dir_fd);
	if (s->lock_fd >= 0)
		close(s->lock_fd); /* closing the only descriptor releases the flock */
	free(s->path);
	free(s->snap_even);
	free(s->snap_odd);
	free(s);
}

/* Everything up to the GDBM open: directory, lock, database file. */
twofa_status store_prepare(twofa_store **out, const char *path, twofa_store_mode mode, long lock_timeout_ms,
			   enum open_how how, int *db_fd, twofa_error *err)
{
	twofa_store *s = NULL;
	char *dir = NULL, *lock_name = NULL;
	const char *base = NULL;
	bool write = mode == TWOFA_STORE_WRITE;
	bool create = write && how == OPEN_NORMAL;
	twofa_status st;
	struct stat sb;

	*out = NULL;
	*db_fd = -1;
	if (mode != TWOFA_STORE_READ && mode != TWOFA_STORE_WRITE)
		return twofa_fail(err, TWOFA_EINVAL, "bad store open mode");
	if (lock_timeout_ms < 0)
		return twofa_fail(err, TWOFA_EINVAL, "negative store lock timeout");
	st = split_path(path, &dir, &base, err);
	if (st != TWOFA_OK)
		return st;
	s = calloc(1, sizeof(*s));
	if (s != NULL) {
		/* Before any failure path: store_release closes what is >= 0. */
		s->lock_fd = -1;
		s->dir_fd = -1;
	}
	lock_name = malloc(strlen(base) + sizeof(LOCK_SUFFIX));
	if (s == NULL || lock_name == NULL || (s->path = strdup(path)) == NULL ||
	    (s->snap_even = concat(path, SNAP_EVEN_SUFFIX)) == NULL ||
	    (s->snap_odd = concat(path, SNAP_ODD_SUFFIX)) == NULL) {
		st = twofa_fail(err, TWOFA_ENOMEM, "out of memory");
		goto fail;
	}
	s->mode = mode;
	memcpy(lock_name, base, strlen(base));
	memcpy(lock_name + strlen(base), LOCK_SUFFIX, sizeof(LOCK_SUFFIX));

	st = open_dir(dir, create, &s->dir_fd, err);
	if (st != TWOFA_OK)
		goto fail;
	/* A reader of a store that was never written gets "not found" without
	 * leaving a lock file behind. */
	if (!create && fstatat(s->dir_fd, base, &sb, AT_SYMLINK_NOFOLLOW) != 0 && errno == ENOENT) {
		st = twofa_fail(err, TWOFA_ENOTFOUND, "store %s does not exist", path);
		goto fail;
	}
	st = open_checked(s->dir_fd, lock_name, O_RDWR | O_CREAT, "store lock file", path, &s->lock_fd, err);
	if (st != TWOFA_OK)
		goto fail;
	st = store_lock_wait(s->lock_fd, write, lock_timeout_ms, path, err);
	if (st != TWOFA_OK)
		goto fail;
	st = store_settle_crash(s, write, lock_timeout_ms, err);
	if (st != TWOFA_OK)
		goto fail;
	st = open_checked(s->dir_fd, base, write ? (create ? O_RDWR | O_CREAT : O_RDWR) : O_RDONLY, "store",
			  path, db_fd, err);
	if (st != TWOFA_OK)
		goto fail;
	free(dir);
	free(lock_name);
	*out = s;
	return TWOFA_OK;
fail:
	free(dir);
	free(lock_name);
	if (s != NULL)
		store_release(s);
	return st;
}

/* Hands db_fd to GDBM (which closes it on failure too). */
static twofa_status store_attach(twofa_store *s, int db_fd, int extra_flags, twofa_error *err)
{
	int flags = (s->mode == TWOFA_STORE_WRITE ? GDBM_WRCREAT : GDBM_READER) | GDBM_NOLOCK | GDBM_CLOEXEC |
		    GDBM_CLOERROR | extra_flags;

#ifdef GDBM_NUMSYNC
	/* New databases where crash tolerance can be on count their syncs in
	 * the header, which tells the newer snapshot apart even when both
	 * mtimes are equal. Elsewhere the file stays as it always was (the
	 * count changes the file at every sync). GDBM ignores the flag for an
	 * existing database. */
	if (s->mode == TWOFA_STORE_WRITE && store_fs_may_reflink(s->dir_fd))
		flags |= GDBM_NUMSYNC;
#endif

	/* No fatal_func: since GDBM 1.13 a NULL one means errors are returned
	 * (and the handle marked as needing recovery) instead of exit(). */
	/* A reader's memory stays bounded at any store size: GDBM would map
	 * the whole file and, by default, cache every bucket it reads, so a
	 * walk of a million records (export, db check) grew to the size of
	 * the file. A writer keeps GDBM's defaults (an import touches every
	 * bucket many times). */
	if (s->mode == TWOFA_STORE_READ)
		flags |= GDBM_NOMMAP;
	s->db = gdbm_fd_open(db_fd, s->path, 0, flags, NULL);
	if (s->db == NULL)
		return store_gdbm_failed(s, "opening", err);
	if (s->mode == TWOFA_STORE_READ) {
		size_t cache = STORE_READ_CACHE_BUCKETS;

		if (gdbm_setopt(s->db, GDBM_SETCACHESIZE, &cache, sizeof(cache)) != 0)
			return store_gdbm_failed(s, "sizing the cache of", err);
	}
	return TWOFA_OK;
}

twofa_status store_open_how(twofa_store **out, const char *path, twofa_store_mode mode, long lock_timeout_ms,
			    enum open_how how, int extra_flags, twofa_error *err)
{
	twofa_store *s = NULL;
	int db_fd = -1;
	twofa_status st;

	if (out == NULL)
		return twofa_fail(err, TWOFA_EINVAL, "no place for the store handle");
	*out = NULL;
	st = store_prepare(&s, path, mode, lock_timeout_ms, how, &db_fd, err);
	if (st != TWOFA_OK)
		return st;
	st = store_attach(s, db_fd, extra_flags, err);
	if (st == TWOFA_OK && mode == TWOFA_STORE_WRITE && how == OPEN_NORMAL)
		st = store_enable_crash_tolerance(s, err);
	if (st != TWOFA_OK) {
		store_release(s);
		return st;
	}
	/* Only needed while creating files (and removing the snapshots at close). */
	if (!s->crash_tolerance) {
		close(s->dir_fd);
		s->dir_fd = -1;
	}
	*out = s;
	return TWOFA_OK;
}

twofa_status twofa_store_open(twofa_store **out, const char *path, twofa_store_mode mode,
			      long lock_timeout_ms, twofa_error *err)
{
	return store_open_how(out, path, mode, lock_timeout_ms, OPEN_NORMAL, 0, err);
}

twofa_status twofa_store_close(twofa_store *s, twofa_error *err)
{
	twofa_status st = TWOFA_OK;

	if (s == NULL)
		return TWOFA_OK;
	if (s->db != NULL) {
		/* Sync while still holding the lock, so the next opener sees it all. */
		if (s->mode == TWOFA_STORE_WRITE && gdbm_sync(s->db) != 0)
			st = store_gdbm_failed(s, "syncing", err);
		if (gdbm_close(s->db) != 0 && st == TWOFA_OK)
			st = twofa_fail(err, TWOFA_ESTORE, "store %s: closing failed: %s", s->path,
					gdbm_strerror(gdbm_errno));
		s->db = NULL;
	}
	/* A clean close needs no snapshot; after a failed sync they stay, and
	 * the next opener goes back to the last sync that worked. */
	if (s->crash_tolerance && st == TWOFA_OK)
		st = store_drop_snapshots(s, err);
	store_release(s);
	return st;
}

twofa_status twofa_store_finish(twofa_store *s, twofa_status st, twofa_error *err)
{
	if (st == TWOFA_OK)
		return twofa_store_close(s, err);
	(void)twofa_store_close(s, NULL);
	return st;
}

twofa_status twofa_store_delete_if_present(const char *path, const char *key, twofa_error *err)
{
	twofa_store *s = NULL;
	twofa_status st = twofa_store_open(&s, path, TWOFA_STORE_WRITE, TWOFA_STORE_LOCK_TIMEOUT_MS, err);

	if (st != TWOFA_OK)
		return st;
	st = twofa_store_delete(s, key, err);
	if (st == TWOFA_ENOTFOUND)
		st = TWOFA_OK;
	return twofa_store_finish(s, st, err);
}

bool twofa_store_crash_tolerance(const twofa_store *s)
{
	return s != NULL && s->crash_tolerance;
}

/* ---- records ---- */

static twofa_status check_key(const char *key, datum *d, twofa_error *err)
{
	size_t len;

	if (key == NULL || *key == '\0')
		return twofa_fail(err, TWOFA_EINVAL, "store key is empty");
	len = strnlen(key, TWOFA_STORE_KEY_MAX + 1);
	if (len > TWOFA_STORE_KEY_MAX)
		return twofa_fail(err, TWOFA_EINVAL, "store key is longer than %d bytes", TWOFA_STORE_KEY_MAX);
	if (twofa_has_control(key, len))
		return twofa_fail(err, TWOFA_EINVAL, "store key has a control character");
	d->dptr = (char *)key; /* GDBM does not write through it */
	d->dsize = (int)len;
	return TWOFA_OK;
}

static twofa_status check_handle(twofa_store *s, bool write, twofa_error *err)
{
	if (s == NULL || s->db == NULL)
		return twofa_fail(err, TWOFA_EINVAL, "store is not open");
	if (write && s->mode != TWOFA_STORE_WRITE)
		return twofa_fail(err, TWOFA_EINVAL, "store %s is open for reading only", s->path);
	return TWOFA_OK;
}

/* Takes ownership of d.dptr: returns it NUL-terminated, or frees it. */
static twofa_status own_value(twofa_store *s, datum d, const char *key, char **value, size_t *len,
			      twofa_error *err)
{
	char *buf;

	if (d.dsize < 0 || d.dsize > TWOFA_STORE_VALUE_MAX) {
		free(d.dptr);
		return twofa_fail(err, TWOFA_ESTORE, "store %s: the record for key '%s' is damaged (%d bytes)",
				  s->path, key, d.dsize);
	}
	buf = realloc(d.dptr, (size_t)d.dsize + 1);
	if (buf == NULL) {
		free(d.dptr);
		return twofa_fail(err, TWOFA_ENOMEM, "out of memory");
	}
	buf[d.dsize] = '\0';
	*value = buf;
	if (len != NULL)
		*len = (size_t)d.dsize;
	return TWOFA_OK;
}

twofa_status store_fetch(twofa_store *s, datum k, const char *key, char **value, size_t *len, twofa_error *err)
{
	datum d = gdbm_fetch(s->db, k);

	if (d.dptr == NULL) {
		if (gdbm_last_errno(s->db) == GDBM_ITEM_NOT_FOUND) {
			gdbm_clear_error(s->db);
			return twofa_fail(err, TWOFA_ENOTFOUND, "no entry '%s' in store %s", key, s->path);
		}
		return store_gdbm_failed(s, "reading", err);
	}
	return own_value(s, d, key, value, len, err);
}

twofa_status twofa_store_get(twofa_store *s, const char *key, char **value, size_t *len, twofa_error *err)
{
	twofa_status st;
	datum k;

	if (value == NULL)
		return twofa_fail(err, TWOFA_EINVAL, "no place for the value");
	*value = NULL;
	if (len != NULL)
		*len = 0;
	if ((st = check_handle(s, false, err)) != TWOFA_OK || (st = check_key(key, &k, err)) != TWOFA_OK)
		return st;
	return store_fetch(s, k, key, value, len, err);
}

twofa_status twofa_store_exists(twofa_store *s, const char *key, twofa_error *err)
{
	twofa_status st;
	datum k;

	if ((st = check_handle(s, false, err)) != TWOFA_OK || (st = check_key(key, &k, err)) != TWOFA_OK)
		return st;
	if (gdbm_exists(s->db, k))
		return TWOFA_OK;
	if (gdbm_last_errno(s->db) != GDBM_NO_ERROR && gdbm_last_errno(s->db) != GDBM_ITEM_NOT_FOUND)
		return store_gdbm_failed(s, "reading", err);
	gdbm_clear_error(s->db);
	return twofa_fail(err, TWOFA_ENOTFOUND, "no entry '%s' in store %s", key, s->path);
}

twofa_status twofa_store_put(twofa_store *s, const char *key, const char *value, size_t len, bool replace,
			     twofa_error *err)
{
	twofa_status st;
	datum k, d;
	int rc;

	if ((st = check_handle(s, true, err)) != TWOFA_OK || (st = check_key(key, &k, err)) != TWOFA_OK)
		return st;
	if (value == NULL && len > 0)
		return twofa_fail(err, TWOFA_EINVAL, "store value is missing");
	if (len > TWOFA_STORE_VALUE_MAX)
		return twofa_fail(err, TWOFA_EINVAL, "store value for '%s' is larger than %d bytes", key,
				  TWOFA_STORE_VALUE_MAX);
	d.dptr = (char *)(value != NULL ? value : "");
	d.dsize = (int)len;
	rc = gdbm_store(s->db, k, d, replace ? GDBM_REPLACE : GDBM_INSERT);
	if (rc == 1)
		return twofa_fail(err, TWOFA_EEXIST, "entry '%s' already exists in store %s", key, s->path);
	if (rc != 0)
		return store_gdbm_failed(s, "writing", err);
	return TWOFA_OK;
}

twofa_status twofa_store_delete(twofa_store *s, const char *key, twofa_error *err)
{
	twofa_status st;
	datum k;

	if ((st = check_handle(s, true, err)) != TWOFA_OK || (st = check_key(key, &k, err)) != TWOFA_OK)
		return st;
	if (gdbm_delete(s->db, k) == 0)
		return TWOFA_OK;
	if (gdbm_last_errno(s->db) == GDBM_ITEM_NOT_FOUND) {
		gdbm_clear_error(s->db);
		return twofa_fail(err, TWOFA_ENOTFOUND, "no entry '%s' in store %s", key, s->path);
	}
	return store_gdbm_failed(s, "deleting from", err);
}

/* Copies a key out of GDBM as a C string; false if it cannot be one of ours. */
bool store_key_to_string(datum k, char buf[TWOFA_STORE_KEY_MAX + 1])
{
	if (k.dsize <= 0 || k.dsize > TWOFA_STORE_KEY_MAX || memchr(k.dptr, '\0', (size_t)k.dsize) != NULL)
		return false;
	memcpy(buf, k.dptr, (size_t)k.dsize);
	buf[k.dsize] = '\0';
	return true;
}

/* The end of a walk: GDBM reports "not found" when there is no next key. */
twofa_status store_walk_end(twofa_store *s, twofa_error *err)
{
	if (gdbm_last_errno(s->db) == GDBM_ITEM_NOT_FOUND || gdbm_last_errno(s->db) == GDBM_NO_ERROR) {
		gdbm_clear_error(s->db);
		return TWOFA_OK;
	}
	return store_gdbm_failed(s, "walking", err);
}

/* The walk of twofa_store_iterate (cb) and twofa_store_keys (key_cb, which
 * reads no value). */
static twofa_status walk(twofa_store *s, twofa_store_cb cb, twofa_store_key_cb key_cb, void *arg,
			 twofa_error *err)
{
	char key[TWOFA_STORE_KEY_MAX + 1];
	twofa_status st;
	datum k;

	if ((st = check_handle(s, false, err)) != TWOFA_OK)
		return st;
	if (cb == NULL && key_cb == NULL)
		return twofa_fail(err, TWOFA_EINVAL, "no callback for the store walk");
	gdbm_clear_error(s->db);
	k = gdbm_firstkey(s->db);
	while (k.dptr != NULL) {
		char *value = NULL;
		size_t len = 0;
		datum next;
		int stop;

		if (!store_key_to_string(k, key)) {
			free(k.dptr);
			return twofa_fail(err, TWOFA_ESTORE, "store %s has a damaged key", s->path);
		}
		if (key_cb != NULL) {
			stop = key_cb(key, arg);
		} else {
			st = store_fetch(s, k, key, &value, &len, err);
			if (st != TWOFA_OK) {
				free(k.dptr);
				return st == TWOFA_ENOTFOUND
					       ? twofa_fail(err, TWOFA_ESTORE,
							    "store %s: key '%s' has no readable value",
							    s->path, key)
					       : st;
			}
			stop = cb(key, value, len, arg);
			free(value);
		}
		if (stop) {
			free(k.dptr);
			return TWOFA_OK;
		}
		next = gdbm_nextkey(s->db, k);
		free(k.dptr);
		k = next;
	}
	return store_walk_end(s, err);
}

twofa_status twofa_store_iterate(twofa_store *s, twofa_store_cb cb, void *arg, twofa_error *err)
{
	if (cb == NULL)
		return twofa_fail(err, TWOFA_EINVAL, "no callback for the store walk");
	return walk(s, cb, NULL, arg, err);
}

twofa_status twofa_store_keys(twofa_store *s, twofa_store_key_cb cb, void *arg, twofa_error *err)
{
	if (cb == NULL)
		return twofa_fail(err, TWOFA_EINVAL, "no callback for the store walk");
	return walk(s, NULL, cb, arg, err);
}

twofa_status twofa_store_count(twofa_store *s, size_t *count, twofa_error *err)
{
	twofa_status st;
	gdbm_count_t n = 0;

	if ((st = check_handle(s, false, err)) != TWOFA_OK)
		return st;
	if (count == NULL)
		return twofa_fail(err, TWOFA_EINVAL, "no place for the count");
	if (gdbm_count(s->db, &n) != 0)
		return store_gdbm_failed(s, "counting", err);
	*count = (size_t)n;
	return TWOFA_OK;
}

twofa_status twofa_store_sync(twofa_store *s, twofa_error *err)
{
	twofa_status st = check_handle(s, true, err);

	if (st != TWOFA_OK)
		return st;
	if (gdbm_sync(s->db) != 0)
		return store_gdbm_failed(s, "syncing", err);
	return TWOFA_OK;
}
