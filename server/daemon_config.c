/* SPDX-License-Identifier: GPL-3.0-or-later */
#include "twofa_build.h"

#include <errno.h>
#include <string.h>
#include <sys/stat.h>
#include <syslog.h>

#include "config.h"
#include "daemon_config.h"
#include "http_share.h"

/* What stat said last time; missing when the file was not there. */
typedef struct file_seen {
	bool missing;
	dev_t dev;
	ino_t ino;
	off_t size;
	struct timespec mtime, ctime;
} file_seen;

static const char *config_path;
static file_seen seen;

static file_seen look(void)
{
	file_seen f = {0};
	struct stat st;

	if (stat(config_path, &st) != 0) {
		f.missing = true;
		return f;
	}
	f.dev = st.st_dev;
	f.ino = st.st_ino;
	f.size = st.st_size;
	f.mtime = st.st_mtim;
	f.ctime = st.st_ctim; /* a chmod or chown changes whether the file is usable */
	return f;
}

static bool same(const file_seen *a, const file_seen *b)
{
	if (a->missing || b->missing)
		return a->missing == b->missing;
	return a->dev == b->dev && a->ino == b->ino && a->size == b->size && a->mtime.tv_sec == b->mtime.tv_sec &&
	       a->mtime.tv_nsec == b->mtime.tv_nsec && a->ctime.tv_sec == b->ctime.tv_sec &&
	       a->ctime.tv_nsec == b->ctime.tv_nsec;
}

/* Loads the file to say whether logins can use it; nothing of it is kept. */
static void load(const char *how)
{
	twofa_config c;
	twofa_error err = {0};
	twofa_status st;

	twofa_config_init(&c);
	st = twofa_config_load(&c, config_path, &err);
	if (st == TWOFA_OK)
		st = twofa_config_check_credentials(&c, &err);
	twofa_config_free(&c);
	if (st == TWOFA_OK)
		syslog(LOG_INFO, "config %s %s", config_path, how);
	else
		syslog(LOG_ERR, "config %s %s, but logins cannot use it: %s; they fail closed until it is fixed",
		       config_path, how, err.msg);
}

bool twofad_config_start(const char *path)
{
	twofa_error err = {0};

	config_path = path;
	seen = look();
	load("read");
	if (twofa_http_share_renew(&err) != TWOFA_OK) {
		syslog(LOG_ERR, "warm connections: %s", err.msg);
		return false;
	}
	return true;
}

void twofad_config_check(bool forced)
{
	file_seen now = look();
	twofa_error err = {0};

	if (!forced && same(&now, &seen))
		return;
	seen = now;
	load(forced ? "re-read (SIGHUP)" : "re-read (the file changed)");
	/* The next login opens fresh connections under the new settings. */
	if (twofa_http_share_renew(&err) != TWOFA_OK) {
		syslog(LOG_ERR, "warm connections: %s; each login opens its own", err.msg);
		twofa_http_share_stop();
	}
}
