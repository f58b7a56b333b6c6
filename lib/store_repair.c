/* SPDX-License-Identifier: GPL-3.0-or-later */
/* The GDBM stores' check and recovery, and the copies made beside a store
 * (backups, the recovery's work copy, crashed files). */
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

		if (!store_key_to_string(k, key)) {
			note_problem(report, "?",
				     "a key that cannot be a store key (empty, too long or with a NUL)");
		} else {
			twofa_error_clear(&e);
			if (store_fetch(s, k, key, &value, &len, &e) != TWOFA_OK) {
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
	if (store_walk_end(s, &e) == TWOFA_OK)
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
twofa_status store_copy_fd(int src_fd, int out, const char *from, const char *to, twofa_error *err)
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
twofa_status store_create_beside(twofa_store *s, const char *suffix, bool numbered, int *out, char **full,
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

const char *store_base_of(const char *path)
{
	const char *slash = strrchr(path, '/');

	return slash == NULL ? path : slash + 1;
}

/* Copies the database to "<path><kind>YYYYMMDDTHHMMSSZ" (never overwriting),
 * kind being ".bak-" or ".crashed-". */
twofa_status store_backup_copy(twofa_store *s, int db_fd, const char *kind, char **backup_path,
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
	st = store_create_beside(s, suffix, true, &out, backup_path, err);
	if (st != TWOFA_OK)
		return st;
	st = store_copy_fd(db_fd, out, s->path, *backup_path, err);
	close(out);
	if (st != TWOFA_OK) {
		unlinkat(s->dir_fd, store_base_of(*backup_path), 0);
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
	st = store_backup_copy(s, db_fd, ".bak-", backup_path, err);
	/* Recover a second copy and only then swap it in, so a failed or
	 * empty recovery leaves the original where it was. */
	if (st == TWOFA_OK) {
		char stale[PATH_MAX];

		snprintf(stale, sizeof(stale), "%s.recover", store_base_of(path));
		(void)unlinkat(s->dir_fd, stale, 0);
		st = store_create_beside(s, ".recover", false, &work_fd, &work, err);
	}
	if (st == TWOFA_OK)
		st = store_copy_fd(db_fd, work_fd, path, work, err);
	/* GDBM reads the header from the current offset. */
	if (st == TWOFA_OK && lseek(work_fd, 0, SEEK_SET) != 0)
		st = twofa_fail(err, TWOFA_ESTORE, "cannot rewind %s: %s", work, strerror(errno));
	if (st == TWOFA_OK) {
		st = recover_copy(s, work_fd, work, &rcvr, err);
		work_fd = -1;
	}
	if (st == TWOFA_OK && renameat(s->dir_fd, store_base_of(work), s->dir_fd, store_base_of(path)) != 0)
		st = twofa_fail(err, TWOFA_ESTORE, "cannot put the recovered store in place: %s",
				strerror(errno));
	if (st == TWOFA_OK && fsync(s->dir_fd) != 0)
		st = twofa_fail(err, TWOFA_ESTORE, "cannot sync directory of %s: %s", path, strerror(errno));
	if (st != TWOFA_OK && work != NULL)
		(void)unlinkat(s->dir_fd, store_base_of(work), 0);
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
