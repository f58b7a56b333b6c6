/* SPDX-License-Identifier: GPL-3.0-or-later */
/* The GDBM-backed stores: our own flock beside the database (GDBM's lock
 * never waits), owner and mode checks on the very descriptors we use, and
 * GDBM errors turned into twofa statuses with a clear message. */
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

#include "store.h"
#include "util.h"

struct twofa_store {
	GDBM_FILE db;
	int lock_fd;
	int dir_fd;
	twofa_store_mode mode;
	bool crash_tolerance; /* gdbm_failure_atomic is on: every sync makes a snapshot */
	char *path;
	char *snap_even, *snap_odd; /* "<path>.snap-even", "<path>.snap-odd" */
};

/* How twofa_store_open finds the database file. */
enum open_how {
	OPEN_NORMAL,   /* READ: must exist; WRITE: created if missing */
	OPEN_EXISTING, /* must exist in either mode (check, recover) */
};

#define LOCK_SUFFIX ".lock"
#define SNAP_EVEN_SUFFIX ".snap-even"
#define SNAP_ODD_SUFFIX ".snap-odd"
#define BACKOFF_FIRST_US 1000L
#define BACKOFF_MAX_US 50000L

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

static twofa_status lock_wait(int fd, bool exclusive, long timeout_ms, const char *shown, twofa_error *err)
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

static twofa_status gdbm_failed(twofa_store *s, const char *doing, twofa_error *err)
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

/* Crash tolerance, defined at the end of the file. */
static twofa_status settle_crash(twofa_store *s, bool exclusive, long lock_timeout_ms, twofa_error *err);
static twofa_status enable_crash_tolerance(twofa_store *s, twofa_error *err);
static twofa_status drop_snapshots(twofa_store *s, twofa_error *err);
static bool fs_may_reflink(int dir_fd);

static void store_release(twofa_store *s)
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
static twofa_status store_prepare(twofa_store **out, const char *path, twofa_store_mode mode,
				  long lock_timeout_ms, enum open_how how, int *db_fd, twofa_error *err)
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
	st = lock_wait(s->lock_fd, write, lock_timeout_ms, path, err);
	if (st != TWOFA_OK)
		goto fail;
	st = settle_crash(s, write, lock_timeout_ms, err);
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
	if (s->mode == TWOFA_STORE_WRITE && fs_may_reflink(s->dir_fd))
		flags |= GDBM_NUMSYNC;
#endif

	/* No fatal_func: since GDBM 1.13 a NULL one means errors are returned
	 * (and the handle marked as needing recovery) instead of exit(). */
	s->db = gdbm_fd_open(db_fd, s->path, 0, flags, NULL);
	if (s->db == NULL)
		return gdbm_failed(s, "opening", err);
	return TWOFA_OK;
}

static twofa_status store_open_how(twofa_store **out, const char *path, twofa_store_mode mode,
				   long lock_timeout_ms, enum open_how how, int extra_flags, twofa_error *err)
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
		st = enable_crash_tolerance(s, err);
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
			st = gdbm_failed(s, "syncing", err);
		if (gdbm_close(s->db) != 0 && st == TWOFA_OK)
			st = twofa_fail(err, TWOFA_ESTORE, "store %s: closing failed: %s", s->path,
					gdbm_strerror(gdbm_errno));
		s->db = NULL;
	}
	/* A clean close needs no snapshot; after a failed sync they stay, and
	 * the next opener goes back to the last sync that worked. */
	if (s->crash_tolerance && st == TWOFA_OK)
		st = drop_snapshots(s, err);
	store_release(s);
	return st;
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

static twofa_status fetch(twofa_store *s, datum k, const char *key, char **value, size_t *len,
			  twofa_error *err)
{
	datum d = gdbm_fetch(s->db, k);

	if (d.dptr == NULL) {
		if (gdbm_last_errno(s->db) == GDBM_ITEM_NOT_FOUND) {
			gdbm_clear_error(s->db);
			return twofa_fail(err, TWOFA_ENOTFOUND, "no entry '%s' in store %s", key, s->path);
		}
		return gdbm_failed(s, "reading", err);
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
	return fetch(s, k, key, value, len, err);
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
		return gdbm_failed(s, "reading", err);
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
		return gdbm_failed(s, "writing", err);
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
	return gdbm_failed(s, "deleting from", err);
}

/* Copies a key out of GDBM as a C string; false if it cannot be one of ours. */
static bool key_to_string(datum k, char buf[TWOFA_STORE_KEY_MAX + 1])
{
	if (k.dsize <= 0 || k.dsize > TWOFA_STORE_KEY_MAX || memchr(k.dptr, '\0', (size_t)k.dsize) != NULL)
		return false;
	memcpy(buf, k.dptr, (size_t)k.dsize);
	buf[k.dsize] = '\0';
	return true;
}

/* The end of a walk: GDBM reports "not found" when there is no next key. */
static twofa_status walk_end(twofa_store *s, twofa_error *err)
{
	if (gdbm_last_errno(s->db) == GDBM_ITEM_NOT_FOUND || gdbm_last_errno(s->db) == GDBM_NO_ERROR) {
		gdbm_clear_error(s->db);
		return TWOFA_OK;
	}
	return gdbm_failed(s, "walking", err);
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

		if (!key_to_string(k, key)) {
			free(k.dptr);
			return twofa_fail(err, TWOFA_ESTORE, "store %s has a damaged key", s->path);
		}
		if (key_cb != NULL) {
			stop = key_cb(key, arg);
		} else {
			st = fetch(s, k, key, &value, &len, err);
			if (st != TWOFA_OK) {
				free(k.dptr);
				return st == TWOFA_ENOTFOUND
					       ? twofa_fail(err, TWOFA_ESTORE,
							    "store %s: key '%s' has no readable value", s->path, key)
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
	return walk_end(s, err);
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
		return gdbm_failed(s, "counting", err);
	*count = (size_t)n;
	return TWOFA_OK;
}

twofa_status twofa_store_sync(twofa_store *s, twofa_error *err)
{
	twofa_status st = check_handle(s, true, err);

	if (st != TWOFA_OK)
		return st;
	if (gdbm_sync(s->db) != 0)
		return gdbm_failed(s, "syncing", err);
	return TWOFA_OK;
}

/* ---- check and recover ---- */

/* Counts a damaged entry and keeps the first one's description (cut to fit). */
static void note_problem(twofa_store_report *r, const char *key, const char *why)
{
	r->damaged++;
	if (r->first_problem[0] == '\0' &&
	    snprintf(r->first_problem, sizeof(r->first_problem), "key '%s': %s", key, why) < 0)
		r->first_problem[0] = '\0';
}

twofa_status twofa_store_check(const char *path, long lock_timeout_ms, twofa_store_validator validate,
			       void *arg, twofa_store_report *report, twofa_error *err)
{
	char key[TWOFA_STORE_KEY_MAX + 1];
	twofa_store *s = NULL;
	twofa_error e;
	twofa_status st;
	datum k;

	if (report == NULL)
		return twofa_fail(err, TWOFA_EINVAL, "no place for the check report");
	memset(report, 0, sizeof(*report));
	/* GDBM_XVERIFY: GDBM checks each bucket and entry as it reads it. */
	st = store_open_how(&s, path, TWOFA_STORE_READ, lock_timeout_ms, OPEN_EXISTING, GDBM_XVERIFY, err);
	if (st != TWOFA_OK)
		return st;
	k = gdbm_firstkey(s->db);
	while (k.dptr != NULL) {
		char *value = NULL;
		size_t len = 0;
		datum next;

		if (!key_to_string(k, key)) {
			note_problem(report, "?",
				     "a key that cannot be a store key (empty, too long or with a NUL)");
		} else {
			twofa_error_clear(&e);
			if (fetch(s, k, key, &value, &len, &e) != TWOFA_OK) {
				note_problem(report, key, e.msg);
			} else {
				char why[160] = "";

				if (validate != NULL && !validate(key, value, len, arg, why, sizeof(why)))
					note_problem(report, key, why);
				else
					report->records++;
				free(value);
			}
		}
		next = gdbm_nextkey(s->db, k);
		free(k.dptr);
		k = next;
	}
	twofa_error_clear(&e);
	if (walk_end(s, &e) == TWOFA_OK)
		report->walk_complete = true;
	else if (report->first_problem[0] == '\0')
		twofa_strlcpy(report->first_problem, e.msg, sizeof(report->first_problem));
	twofa_store_close(s, NULL);
	if (!report->walk_complete || report->damaged > 0)
		return twofa_fail(err, TWOFA_ESTORE,
				  "store %s: %zu good records, %zu damaged%s; first problem: %s", path,
				  report->records, report->damaged,
				  report->walk_complete ? "" : ", walk stopped early", report->first_problem);
	return TWOFA_OK;
}

/* Copies everything readable from src_fd into out (a new file), then syncs. */
static twofa_status copy_fd(int src_fd, int out, const char *from, const char *to, twofa_error *err)
{
	char buf[16384];
	off_t off = 0;

	for (;;) {
		ssize_t n = pread(src_fd, buf, sizeof(buf), off), w = 0;

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return twofa_fail(err, TWOFA_ESTORE, "cannot read %s: %s", from, strerror(errno));
		if (n == 0)
			break;
		while (w < n) {
			ssize_t m = write(out, buf + w, (size_t)(n - w));

			if (m < 0 && errno == EINTR)
				continue;
			if (m <= 0)
				return twofa_fail(err, TWOFA_ESTORE, "cannot write %s: %s", to,
						  m < 0 ? strerror(errno) : "short write");
			w += m;
		}
		off += n;
	}
	if (fsync(out) != 0)
		return twofa_fail(err, TWOFA_ESTORE, "cannot sync %s: %s", to, strerror(errno));
	return TWOFA_OK;
}

/* A new file beside the store, named path + suffix (+ ".N" if taken),
 * opened O_EXCL; *full is its malloc'd path. */
static twofa_status create_beside(twofa_store *s, const char *suffix, bool numbered, int *out, char **full,
				  twofa_error *err)
{
	const char *base = strrchr(s->path, '/');
	size_t size = strlen(s->path) + strlen(suffix) + 16;
	char *name = malloc(size);

	base = base == NULL ? s->path : base + 1;
	*out = -1;
	if (name == NULL)
		return twofa_fail(err, TWOFA_ENOMEM, "out of memory");
	for (int i = 0; i < (numbered ? 100 : 1) && *out < 0; i++) {
		if (i == 0)
			snprintf(name, size, "%s%s", s->path, suffix);
		else
			snprintf(name, size, "%s%s.%d", s->path, suffix, i);
		*out = openat(s->dir_fd, name + (size_t)(base - s->path),
			      O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
		if (*out < 0 && errno != EEXIST)
			break;
	}
	if (*out < 0) {
		twofa_status st = twofa_fail(err, TWOFA_ESTORE, "cannot create %s: %s", name, strerror(errno));
		free(name);
		return st;
	}
	*full = name;
	return TWOFA_OK;
}

static const char *base_of(const char *path)
{
	const char *slash = strrchr(path, '/');

	return slash == NULL ? path : slash + 1;
}

/* Copies the database to "<path><kind>YYYYMMDDTHHMMSSZ" (never overwriting),
 * kind being ".bak-" or ".crashed-". */
static twofa_status backup_copy(twofa_store *s, int db_fd, const char *kind, char **backup_path,
				twofa_error *err)
{
	char stamp[TWOFA_ISO8601_LEN], suffix[48];
	twofa_status st;
	int out;

	if (!twofa_format_time(time(NULL), stamp))
		return twofa_fail(err, TWOFA_ESYS, "cannot format the time");
	/* "2026-11-25T17:52:19Z" -> "20261125T175219Z" */
	snprintf(suffix, sizeof(suffix), "%s%.4s%.2s%.2sT%.2s%.2s%.2sZ", kind, stamp, stamp + 5, stamp + 8,
		 stamp + 11, stamp + 14, stamp + 17);
	st = create_beside(s, suffix, true, &out, backup_path, err);
	if (st != TWOFA_OK)
		return st;
	st = copy_fd(db_fd, out, s->path, *backup_path, err);
	close(out);
	if (st != TWOFA_OK) {
		unlinkat(s->dir_fd, base_of(*backup_path), 0);
		free(*backup_path);
		*backup_path = NULL;
	}
	return st;
}

/* Runs GDBM's recovery on the work copy at work_fd (GDBM takes the fd). */
static twofa_status recover_copy(twofa_store *s, int work_fd, const char *work, gdbm_recovery *rcvr,
				 twofa_error *err)
{
	GDBM_FILE db = gdbm_fd_open(work_fd, work, 0,
				    GDBM_WRITER | GDBM_NOLOCK | GDBM_CLOEXEC | GDBM_CLOERROR, NULL);
	twofa_status st = TWOFA_OK;

	if (db == NULL)
		return twofa_fail(err, TWOFA_ESTORE,
				  "store %s cannot be recovered: its header is unreadable (%s)", s->path,
				  gdbm_strerror(gdbm_errno));
	memset(rcvr, 0, sizeof(*rcvr));
	if (gdbm_recover(db, rcvr, GDBM_RCVR_FORCE) != 0)
		st = twofa_fail(err, TWOFA_ESTORE, "store %s: GDBM recovery failed: %s", s->path,
				gdbm_db_strerror(db));
	else if (rcvr->recovered_keys == 0 && (rcvr->failed_keys > 0 || rcvr->failed_buckets > 0))
		/* Installing an empty store would read as "nobody is enrolled". */
		st = twofa_fail(err, TWOFA_ESTORE, "store %s: nothing could be recovered (%zu buckets lost)",
				s->path, rcvr->failed_buckets);
	else if (fchmod(gdbm_fdesc(db), 0600) != 0)
		st = twofa_fail(err, TWOFA_ESTORE, "cannot set the mode of %s: %s", work, strerror(errno));
	else if (gdbm_sync(db) != 0)
		st = twofa_fail(err, TWOFA_ESTORE, "cannot sync %s: %s", work, gdbm_db_strerror(db));
	if (gdbm_close(db) != 0 && st == TWOFA_OK)
		st = twofa_fail(err, TWOFA_ESTORE, "cannot close %s", work);
	return st;
}

twofa_status twofa_store_recover(const char *path, long lock_timeout_ms, char **backup_path,
				 twofa_store_recovery *stats, twofa_error *err)
{
	twofa_store *s = NULL;
	gdbm_recovery rcvr;
	char *work = NULL;
	twofa_status st;
	int db_fd = -1, work_fd = -1;

	if (backup_path == NULL)
		return twofa_fail(err, TWOFA_EINVAL, "no place for the backup name");
	*backup_path = NULL;
	if (stats != NULL)
		memset(stats, 0, sizeof(*stats));
	st = store_prepare(&s, path, TWOFA_STORE_WRITE, lock_timeout_ms, OPEN_EXISTING, &db_fd, err);
	if (st != TWOFA_OK)
		return st;
	st = backup_copy(s, db_fd, ".bak-", backup_path, err);
	/* Recover a second copy and only then swap it in, so a failed or
	 * empty recovery leaves the original where it was. */
	if (st == TWOFA_OK) {
		char stale[PATH_MAX];

		snprintf(stale, sizeof(stale), "%s.recover", base_of(path));
		(void)unlinkat(s->dir_fd, stale, 0);
		st = create_beside(s, ".recover", false, &work_fd, &work, err);
	}
	if (st == TWOFA_OK)
		st = copy_fd(db_fd, work_fd, path, work, err);
	/* GDBM reads the header from the current offset. */
	if (st == TWOFA_OK && lseek(work_fd, 0, SEEK_SET) != 0)
		st = twofa_fail(err, TWOFA_ESTORE, "cannot rewind %s: %s", work, strerror(errno));
	if (st == TWOFA_OK) {
		st = recover_copy(s, work_fd, work, &rcvr, err);
		work_fd = -1;
	}
	if (st == TWOFA_OK && renameat(s->dir_fd, base_of(work), s->dir_fd, base_of(path)) != 0)
		st = twofa_fail(err, TWOFA_ESTORE, "cannot put the recovered store in place: %s",
				strerror(errno));
	if (st == TWOFA_OK && fsync(s->dir_fd) != 0)
		st = twofa_fail(err, TWOFA_ESTORE, "cannot sync directory of %s: %s", path, strerror(errno));
	if (st != TWOFA_OK && work != NULL)
		(void)unlinkat(s->dir_fd, base_of(work), 0);
	if (st == TWOFA_OK && stats != NULL) {
		stats->recovered_keys = rcvr.recovered_keys;
		stats->failed_keys = rcvr.failed_keys;
		stats->failed_buckets = rcvr.failed_buckets;
		stats->duplicate_keys = rcvr.duplicate_keys;
	}
	if (st != TWOFA_OK && *backup_path != NULL && err != NULL) {
		size_t used = strnlen(err->msg, sizeof(err->msg));
		if (snprintf(err->msg + used, sizeof(err->msg) - used, "; the original is kept in %s",
			     *backup_path) < 0)
			err->msg[used] = '\0';
	}
	if (work_fd >= 0)
		close(work_fd);
	if (db_fd >= 0)
		close(db_fd);
	free(work);
	store_release(s);
	return st;
}

/* ---- crash tolerance ----
 *
 * Where the store's filesystem can make reflink copies (XFS made with
 * reflink=1, Btrfs), a WRITE open turns on gdbm_failure_atomic: every sync
 * then clones the database into "<path>.snap-even" or "<path>.snap-odd", the
 * one made read-only (0400) last holding the state of the last sync that
 * worked. A clean close removes both. Snapshots found by the next opener
 * (under the exclusive lock) mean a writer died: the database goes back to
 * that last synced state, and the file the writer left is kept as
 * "<path>.crashed-YYYYMMDDTHHMMSSZ". */

static const char *const snapshot_suffix[2] = {SNAP_EVEN_SUFFIX, SNAP_ODD_SUFFIX};

/* Only these can clone; elsewhere (ext4, tmpfs) trying would just create
 * and remove two files at every open. */
static bool fs_may_reflink(int dir_fd)
{
	struct statfs sf;
	unsigned long type;

	if (fstatfs(dir_fd, &sf) != 0)
		return false;
	type = (unsigned long)sf.f_type & 0xffffffffUL;
	return type == (unsigned long)XFS_SUPER_MAGIC || type == (unsigned long)BTRFS_SUPER_MAGIC;
}

/* "<base of path><suffix>", for the *at() calls; false if it cannot be a name. */
static bool name_beside(const char *path, const char *suffix, char *buf, size_t size)
{
	int n = snprintf(buf, size, "%s%s", base_of(path), suffix);

	return n > 0 && (size_t)n < size && (size_t)n <= NAME_MAX;
}

/* Counts the snapshot files present and those marked as a finished snapshot
 * (owner-readable). Anything but a root-owned regular file is refused. */
static twofa_status snapshot_files(twofa_store *s, int *present, int *readable, twofa_error *err)
{
	*present = 0;
	*readable = 0;
	for (int i = 0; i < 2; i++) {
		char name[PATH_MAX];
		struct stat sb;

		if (!name_beside(s->path, snapshot_suffix[i], name, sizeof(name)))
			continue; /* too long to exist: crash tolerance is never turned on for it */
		if (fstatat(s->dir_fd, name, &sb, AT_SYMLINK_NOFOLLOW) != 0) {
			if (errno == ENOENT)
				continue;
			return twofa_fail(err, TWOFA_ESTORE, "cannot stat %s%s: %s", s->path,
					  snapshot_suffix[i], strerror(errno));
		}
		if (!S_ISREG(sb.st_mode) || sb.st_uid != 0 || (sb.st_mode & (S_IWGRP | S_IWOTH)) != 0)
			return twofa_fail(err, TWOFA_EPERM,
					  "store snapshot %s%s is not a regular file owned by root and writable by root only",
					  s->path, snapshot_suffix[i]);
		(*present)++;
		if (sb.st_mode & S_IRUSR)
			(*readable)++;
	}
	return TWOFA_OK;
}

static twofa_status drop_snapshots(twofa_store *s, twofa_error *err)
{
	for (int i = 0; i < 2; i++) {
		char name[PATH_MAX];

		if (!name_beside(s->path, snapshot_suffix[i], name, sizeof(name)))
			continue;
		if (unlinkat(s->dir_fd, name, 0) != 0 && errno != ENOENT)
			return twofa_fail(err, TWOFA_ESTORE, "cannot remove %s%s: %s", s->path,
					  snapshot_suffix[i], strerror(errno));
	}
	if (fsync(s->dir_fd) != 0)
		return twofa_fail(err, TWOFA_ESTORE, "cannot sync the directory of %s: %s", s->path,
				  strerror(errno));
	return TWOFA_OK;
}

#ifdef HAVE_GDBM_FAILURE_ATOMIC
/* Puts the snapshot chosen by GDBM in place of the database, keeping the
 * database the crashed writer left beside it. */
static twofa_status restore_snapshot(twofa_store *s, const char *chosen, twofa_error *err)
{
	char stale[PATH_MAX];
	char *crashed = NULL, *work = NULL;
	int db_fd, snap_fd, work_fd = -1;
	twofa_status st = TWOFA_OK;

	db_fd = openat(s->dir_fd, base_of(s->path), O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY);
	if (db_fd < 0 && errno != ENOENT)
		return twofa_fail(err, TWOFA_ESTORE, "cannot open %s: %s", s->path, strerror(errno));
	if (db_fd >= 0) {
		st = backup_copy(s, db_fd, ".crashed-", &crashed, err);
		close(db_fd);
		free(crashed);
		if (st != TWOFA_OK)
			return st;
	}
	snap_fd = openat(s->dir_fd, base_of(chosen), O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY);
	if (snap_fd < 0)
		return twofa_fail(err, TWOFA_ESTORE, "cannot open %s: %s", chosen, strerror(errno));
	if (!name_beside(s->path, ".restore", stale, sizeof(stale)))
		st = twofa_fail(err, TWOFA_EINVAL, "store path %s is too long", s->path);
	else
		(void)unlinkat(s->dir_fd, stale, 0); /* left by a restore that died */
	if (st == TWOFA_OK)
		st = create_beside(s, ".restore", false, &work_fd, &work, err);
	/* A reflink copy costs nothing; a plain copy does the same. */
	if (st == TWOFA_OK && ioctl(work_fd, FICLONE, snap_fd) != 0)
		st = copy_fd(snap_fd, work_fd, chosen, work, err);
	else if (st == TWOFA_OK && fsync(work_fd) != 0)
		st = twofa_fail(err, TWOFA_ESTORE, "cannot sync %s: %s", work, strerror(errno));
	if (st == TWOFA_OK && fchmod(work_fd, 0600) != 0)
		st = twofa_fail(err, TWOFA_ESTORE, "cannot set the mode of %s: %s", work, strerror(errno));
	if (st == TWOFA_OK && renameat(s->dir_fd, base_of(work), s->dir_fd, base_of(s->path)) != 0)
		st = twofa_fail(err, TWOFA_ESTORE, "cannot put the snapshot back in place of %s: %s", s->path,
				strerror(errno));
	if (st != TWOFA_OK && work != NULL)
		(void)unlinkat(s->dir_fd, base_of(work), 0);
	/* drop_snapshots syncs the directory, which makes the rename last. */
	if (st == TWOFA_OK)
		st = drop_snapshots(s, err);
	if (work_fd >= 0)
		close(work_fd);
	close(snap_fd);
	free(work);
	return st;
}
#endif

/* Under the exclusive lock: brings back the last synced state if a writer
 * died with crash tolerance on. */
static twofa_status recover_from_snapshots(twofa_store *s, twofa_error *err)
{
	int present, readable;
	twofa_status st = snapshot_files(s, &present, &readable, err);

	if (st != TWOFA_OK || present == 0)
		return st;
	/* One file: the writer died between the two removals of a clean close.
	 * None finished: it died while turning crash tolerance on, before its
	 * first write. Either way the database is as the last writer left it. */
	if (present == 1 || readable == 0)
		return drop_snapshots(s, err);
#ifdef HAVE_GDBM_FAILURE_ATOMIC
	{
		const char *chosen = NULL;
		int rc = gdbm_latest_snapshot(s->snap_even, s->snap_odd, &chosen);

		if (rc == GDBM_SNAPSHOT_OK && chosen != NULL)
			return restore_snapshot(s, chosen, err);
		return twofa_fail(err, TWOFA_ESTORE,
				  "store %s: a writer died and GDBM cannot tell which of its snapshots %s and %s "
				  "is the last synced state (gdbm_latest_snapshot status %d); compare them with "
				  "gdbmtool's 'snapshot' command, copy the right one over the store (mode 0600) "
				  "and remove both snapshot files",
				  s->path, s->snap_even, s->snap_odd, rc);
	}
#else
	return twofa_fail(err, TWOFA_ESTORE,
			  "store %s: crash snapshots %s and %s exist but this GDBM cannot read them; "
			  "restore one by hand and remove both",
			  s->path, s->snap_even, s->snap_odd);
#endif
}

/* Called with the open's own lock held. A reader that finds snapshots takes
 * the exclusive lock for the recovery, then its shared lock again (flock
 * converts in place; the check is repeated, since a writer can get in
 * between and crash too). */
static twofa_status settle_crash(twofa_store *s, bool exclusive, long lock_timeout_ms, twofa_error *err)
{
	for (int round = 0; round < 3; round++) {
		int present, readable;
		twofa_status st = snapshot_files(s, &present, &readable, err);

		if (st != TWOFA_OK || present == 0)
			return st;
		if (!exclusive &&
		    (st = lock_wait(s->lock_fd, true, lock_timeout_ms, s->path, err)) != TWOFA_OK)
			return st;
		st = recover_from_snapshots(s, err);
		if (st != TWOFA_OK || exclusive)
			return st;
		if ((st = lock_wait(s->lock_fd, false, lock_timeout_ms, s->path, err)) != TWOFA_OK)
			return st;
	}
	return twofa_fail(err, TWOFA_EBUSY, "store %s: writers keep dying; try again", s->path);
}

/* Turns on gdbm_failure_atomic where the filesystem can clone. Not being
 * able to clone leaves the store as it always was; any other failure fails
 * the open. */
static twofa_status enable_crash_tolerance(twofa_store *s, twofa_error *err)
{
#ifdef HAVE_GDBM_FAILURE_ATOMIC
	char name[PATH_MAX];
	twofa_status st;
	int ec, saved;

	if (!fs_may_reflink(s->dir_fd) || !name_beside(s->path, SNAP_EVEN_SUFFIX, name, sizeof(name)) ||
	    !name_beside(s->path, SNAP_ODD_SUFFIX, name, sizeof(name)))
		return TWOFA_OK;
	if (gdbm_failure_atomic(s->db, s->snap_even, s->snap_odd) == 0) {
		s->crash_tolerance = true;
		return TWOFA_OK;
	}
	saved = errno;
	ec = gdbm_last_errno(s->db);
	gdbm_clear_error(s->db);
	/* settle_crash saw no snapshot under this exclusive lock: what is
	 * there now, GDBM created. */
	st = drop_snapshots(s, err);
	if (st != TWOFA_OK)
		return st;
	if (ec == GDBM_ERR_SNAPSHOT_CLONE &&
	    (saved == EOPNOTSUPP || saved == EINVAL || saved == EXDEV || saved == ENOSYS || saved == ENOTTY))
		return TWOFA_OK; /* e.g. XFS made with reflink=0 */
	return twofa_fail(err, TWOFA_ESTORE, "store %s: cannot turn on crash tolerance: %s (%s)", s->path,
			  gdbm_strerror(ec), strerror(saved));
#else
	(void)s;
	(void)err;
	(void)fs_may_reflink; /* used for GDBM_NUMSYNC only, if at all */
	return TWOFA_OK;
#endif
}
