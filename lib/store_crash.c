/* SPDX-License-Identifier: GPL-3.0-or-later */
/* The GDBM stores' crash tolerance (see store.h). */
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
bool store_fs_may_reflink(int dir_fd)
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
	int n = snprintf(buf, size, "%s%s", store_base_of(path), suffix);

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

twofa_status store_drop_snapshots(twofa_store *s, twofa_error *err)
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

	db_fd = openat(s->dir_fd, store_base_of(s->path), O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY);
	if (db_fd < 0 && errno != ENOENT)
		return twofa_fail(err, TWOFA_ESTORE, "cannot open %s: %s", s->path, strerror(errno));
	if (db_fd >= 0) {
		st = store_backup_copy(s, db_fd, ".crashed-", &crashed, err);
		close(db_fd);
		free(crashed);
		if (st != TWOFA_OK)
			return st;
	}
	snap_fd = openat(s->dir_fd, store_base_of(chosen), O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY);
	if (snap_fd < 0)
		return twofa_fail(err, TWOFA_ESTORE, "cannot open %s: %s", chosen, strerror(errno));
	if (!name_beside(s->path, ".restore", stale, sizeof(stale)))
		st = twofa_fail(err, TWOFA_EINVAL, "store path %s is too long", s->path);
	else
		(void)unlinkat(s->dir_fd, stale, 0); /* left by a restore that died */
	if (st == TWOFA_OK)
		st = store_create_beside(s, ".restore", false, &work_fd, &work, err);
	/* A reflink copy costs nothing; a plain copy does the same. */
	if (st == TWOFA_OK && ioctl(work_fd, FICLONE, snap_fd) != 0)
		st = store_copy_fd(snap_fd, work_fd, chosen, work, err);
	else if (st == TWOFA_OK && fsync(work_fd) != 0)
		st = twofa_fail(err, TWOFA_ESTORE, "cannot sync %s: %s", work, strerror(errno));
	if (st == TWOFA_OK && fchmod(work_fd, 0600) != 0)
		st = twofa_fail(err, TWOFA_ESTORE, "cannot set the mode of %s: %s", work, strerror(errno));
	if (st == TWOFA_OK && renameat(s->dir_fd, store_base_of(work), s->dir_fd, store_base_of(s->path)) != 0)
		st = twofa_fail(err, TWOFA_ESTORE, "cannot put the snapshot back in place of %s: %s", s->path,
				strerror(errno));
	if (st != TWOFA_OK && work != NULL)
		(void)unlinkat(s->dir_fd, store_base_of(work), 0);
	/* drop_snapshots syncs the directory, which makes the rename last. */
	if (st == TWOFA_OK)
		st = store_drop_snapshots(s, err);
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
		return store_drop_snapshots(s, err);
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
twofa_status store_settle_crash(twofa_store *s, bool exclusive, long lock_timeout_ms, twofa_error *err)
{
	for (int round = 0; round < 3; round++) {
		int present, readable;
		twofa_status st = snapshot_files(s, &present, &readable, err);

		if (st != TWOFA_OK || present == 0)
			return st;
		if (!exclusive &&
		    (st = store_lock_wait(s->lock_fd, true, lock_timeout_ms, s->path, err)) != TWOFA_OK)
			return st;
		st = recover_from_snapshots(s, err);
		if (st != TWOFA_OK || exclusive)
			return st;
		if ((st = store_lock_wait(s->lock_fd, false, lock_timeout_ms, s->path, err)) != TWOFA_OK)
			return st;
	}
	return twofa_fail(err, TWOFA_EBUSY, "store %s: writers keep dying; try again", s->path);
}

/* Turns on gdbm_failure_atomic where the filesystem can clone. Not being
 * able to clone leaves the store as it always was; any other failure fails
 * the open. */
twofa_status store_enable_crash_tolerance(twofa_store *s, twofa_error *err)
{
#ifdef HAVE_GDBM_FAILURE_ATOMIC
	char name[PATH_MAX];
	twofa_status st;
	int ec, saved;

	if (!store_fs_may_reflink(s->dir_fd) || !name_beside(s->path, SNAP_EVEN_SUFFIX, name, sizeof(name)) ||
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
	st = store_drop_snapshots(s, err);
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
	return TWOFA_OK;
#endif
}
