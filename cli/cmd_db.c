/* SPDX-License-Identifier: GPL-3.0-or-later */
/* db check, db backup FILE, db recover [members|state]: integrity of the
 * stores, a consistent copy, and GDBM's recovery with a report of what was
 * kept. These work on the GDBM files themselves (the one place in the CLI
 * besides check-config that opens members.db); with store = ldap, db check
 * reads the members through the member store and the others refuse. */
#include "twofa_build.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli.h"
#include "store.h"
#include "util.h"
#include "verify_totp.h"

/* Validators for twofa_store_check: a member must decode and sit under its
 * own name; a state record must decode. */
static bool valid_member(const char *key, const char *value, size_t len, void *arg, char *why, size_t why_size)
{
	twofa_member m;
	twofa_error err;
	bool ok;

	(void)arg;
	twofa_error_clear(&err);
	if (twofa_member_decode(value, len, &m, &err) != TWOFA_OK) {
		snprintf(why, why_size, "record '%s': %s", key, err.msg);
		return false;
	}
	ok = strcmp(m.user, key) == 0;
	if (!ok)
		snprintf(why, why_size, "record '%s' holds the member '%s'", key, m.user);
	twofa_member_free(&m);
	return ok;
}

static bool valid_state(const char *key, const char *value, size_t len, void *arg, char *why, size_t why_size)
{
	twofa_error err;

	(void)arg;
	twofa_error_clear(&err);
	if (twofa_state_check_record(key, value, len, &err) != TWOFA_OK) {
		snprintf(why, why_size, "state of '%s': %s", key, err.msg);
		return false;
	}
	return true;
}

/* Checks one store; 0 when it is good (or does not exist yet). */
/* missing_ok: state.db appears with the first login, but without members.db
 * every login fails closed, so its absence is a problem to report. */
static int check_one(const char *label, const char *path, twofa_store_validator validate,
		     const char *recover_arg, bool missing_ok)
{
	twofa_store_report report;
	twofa_error err;
	twofa_status st;

	twofa_error_clear(&err);
	st = twofa_store_check(path, TWOFA_STORE_LOCK_TIMEOUT_MS, validate, NULL, &report, &err);
	if (st == TWOFA_ENOTFOUND && missing_ok) {
		printf("%s %s: does not exist yet (nothing stored)\n", label, path);
		return 0;
	}
	if (st == TWOFA_ENOTFOUND)
		return cli_fail(EX_CANTCREAT,
				"%s %s: does not exist, so every login fails closed; "
				"'twofa-enroll add' creates it",
				label, path);
	if (st == TWOFA_OK) {
		printf("%s %s: %zu record%s, all good\n", label, path, report.records,
		       report.records == 1 ? "" : "s");
		return 0;
	}
	/* The store could not even be opened: the error says why. */
	if (report.damaged == 0 && report.records == 0 && report.first_problem[0] == '\0')
		return cli_fail(twofa_status_exit_code(st), "%s %s: %s; try 'twofa-enroll db recover %s'",
				label, path, err.msg, recover_arg);
	twofa_sanitize(report.first_problem);
	return cli_fail(EX_CANTCREAT,
			"%s %s: %zu good record%s, %zu damaged%s; first problem: %s; run 'twofa-enroll db recover %s'",
			label, path, report.records, report.records == 1 ? "" : "s", report.damaged,
			report.walk_complete ? "" : ", the walk stopped early", report.first_problem,
			recover_arg);
}

/* A directory has no file to walk: every member is read through the
 * member store and must decode. */
typedef struct member_count {
	size_t good, bad;
	char first[256];
} member_count;

static int count_good(const twofa_member *m, void *arg)
{
	(void)m;
	((member_count *)arg)->good++;
	return 0;
}

static int count_bad(const char *key, const char *why, void *arg)
{
	member_count *c = arg;

	if (c->bad++ == 0) {
		snprintf(c->first, sizeof(c->first), "'%s': %s", key, why);
		twofa_sanitize(c->first);
	}
	return 0;
}

static int check_members_walk(cli_context *ctx)
{
	member_count c = {0};
	twofa_member_store *s;
	twofa_error err;
	int rc;

	if ((rc = cli_members(ctx, &s)) != 0)
		return rc;
	twofa_error_clear(&err);
	if (twofa_member_store_each(s, count_good, count_bad, &c, &err) != TWOFA_OK)
		return cli_fail(twofa_status_exit_code(err.status), "members %s: %s",
				twofa_member_store_describe(s), err.msg);
	if (c.bad > 0)
		return cli_fail(EX_CANTCREAT,
				"members %s: %zu good record%s, %zu that do not decode; first: %s",
				twofa_member_store_describe(s), c.good, c.good == 1 ? "" : "s", c.bad,
				c.first);
	printf("members %s: %zu record%s, all good\n", twofa_member_store_describe(s), c.good,
	       c.good == 1 ? "" : "s");
	return 0;
}

/* ---- TOTP entities and factors at Twilio that no member refers to ---- */

typedef struct app_ref {
	char entity[TWOFA_MEMBER_ID_SIZE];
	char factor[TWOFA_MEMBER_SID_SIZE];
	bool seen; /* Twilio listed the entity */
} app_ref;

typedef struct app_refs {
	app_ref *list;
	size_t count, cap;
	bool oom;
	size_t entities, orphan_entities, orphan_factors;
	const char *entity; /* the one whose factors are listed */
	const char *factor; /* its member's factor */
} app_refs;

static int collect_ref(const twofa_member *m, void *arg)
{
	app_refs *a = arg;
	app_ref *grown;

	if (m->totp_entity[0] == '\0')
		return 0;
	if (a->count == a->cap) {
		size_t cap = a->cap == 0 ? 64 : a->cap * 2;
		if (cap > TWOFA_TOTP_LIST_MAX || (grown = realloc(a->list, cap * sizeof(*grown))) == NULL) {
			a->oom = true;
			return 1;
		}
		a->list = grown;
		a->cap = cap;
	}
	memset(&a->list[a->count], 0, sizeof(a->list[0]));
	(void)twofa_strlcpy(a->list[a->count].entity, m->totp_entity, sizeof(a->list[0].entity));
	(void)twofa_strlcpy(a->list[a->count].factor, m->totp_factor, sizeof(a->list[0].factor));
	a->count++;
	return 0;
}

static int skip_bad(const char *key, const char *why, void *arg)
{
	(void)key;
	(void)why;
	(void)arg;
	return 0; /* the store check above reported it */
}

static int ref_cmp(const void *x, const void *y)
{
	return strcmp(((const app_ref *)x)->entity, ((const app_ref *)y)->entity);
}

static bool each_entity(void *arg, const char *identity)
{
	app_refs *a = arg;
	app_ref key, *found;

	a->entities++;
	memset(&key, 0, sizeof(key));
	(void)twofa_strlcpy(key.entity, identity, sizeof(key.entity));
	found = a->count == 0 ? NULL : bsearch(&key, a->list, a->count, sizeof(*a->list), ref_cmp);
	if (found != NULL) {
		found->seen = true;
		return true;
	}
	a->orphan_entities++;
	printf("orphan  TOTP entity %s at Twilio: no member refers to it\n", identity);
	return true;
}

static bool each_factor(void *arg, const char *sid, const char *status, const char *type)
{
	app_refs *a = arg;
	char shown_status[32], shown_type[32];

	if (strcmp(sid, a->factor) == 0)
		return true;
	a->orphan_factors++;
	/* Twilio's words, bounded and without control characters. */
	(void)twofa_strlcpy(shown_status, status, sizeof(shown_status));
	(void)twofa_strlcpy(shown_type, type, sizeof(shown_type));
	twofa_sanitize(shown_status);
	twofa_sanitize(shown_type);
	printf("orphan  %s factor %s (%s) of entity %s at Twilio: not its member's factor\n", shown_type, sid,
	       shown_status, a->entity);
	return true;
}

/* Lists what is at Twilio against what the members refer to. 0, or an exit
 * code after a message when the members cannot be read. */
static int check_apps(cli_context *ctx)
{
	app_refs a;
	twofa_member_store *s;
	twofa_verify *v = NULL;
	twofa_verify_result r;
	twofa_verify_outcome o;
	twofa_error err;
	int rc;

	twofa_error_clear(&err);
	if (twofa_config_check_credentials(&ctx->config, &err) != TWOFA_OK) {
		printf("twilio: no credentials in %s, so TOTP entities and factors are not checked\n",
		       ctx->config_path);
		return 0;
	}
	memset(&a, 0, sizeof(a));
	if ((rc = cli_members(ctx, &s)) != 0)
		return rc;
	if (twofa_member_store_each(s, collect_ref, skip_bad, &a, &err) != TWOFA_OK || a.oom) {
		free(a.list);
		return a.oom ? cli_fail(1, "out of memory listing the members' TOTP entities")
			     : cli_fail_status(&err);
	}
	if (a.count > 1)
		qsort(a.list, a.count, sizeof(*a.list), ref_cmp);
	if ((rc = cli_verify_new(ctx, &v)) != 0) {
		free(a.list);
		return rc;
	}
	memset(&r, 0, sizeof(r));
	o = twofa_totp_entities(v, each_entity, &a, &r);
	for (size_t i = 0; o == TWOFA_VERIFY_OK && i < a.count; i++) {
		if (!a.list[i].seen) {
			cli_warn("a member's TOTP entity %s is not at Twilio: that member cannot log in with the "
				 "app ('twofa-enroll totp USER' sets it up again)",
				 a.list[i].entity);
			continue;
		}
		a.entity = a.list[i].entity;
		a.factor = a.list[i].factor;
		o = twofa_totp_factors(v, a.list[i].entity, each_factor, &a, &r);
	}
	twofa_verify_free(v);
	free(a.list);
	/* The stores are what db check is for: Twilio out of reach is a warning. */
	if (o != TWOFA_VERIFY_OK) {
		cli_warn("twilio: cannot list the TOTP entities and factors, so orphans are not checked: %s",
			 r.log_message);
		return 0;
	}
	printf("twilio: %zu TOTP entit%s, %zu orphan entit%s and %zu orphan factor%s\n", a.entities,
	       a.entities == 1 ? "y" : "ies", a.orphan_entities, a.orphan_entities == 1 ? "y" : "ies",
	       a.orphan_factors, a.orphan_factors == 1 ? "" : "s");
	return 0;
}

static int db_check(cli_context *ctx)
{
	/* GDBM: the file itself, bucket by bucket (GDBM_XVERIFY). */
	int rc_members = ctx->config.store == TWOFA_STORE_GDBM
				 ? check_one("members", ctx->config.members_db, valid_member, "members", false)
				 : check_members_walk(ctx);
	int rc_state = check_one("state", ctx->config.state_db, valid_state, "state", true);
	int rc_apps = rc_members == 0 ? check_apps(ctx) : 0;

	return rc_members != 0 ? rc_members : rc_state != 0 ? rc_state : rc_apps;
}

/* Copies src_fd to a new file at dst (0600, never overwriting). */
static int copy_file(int src_fd, const char *dst, off_t *copied)
{
	char buf[65536];
	int out = open(dst, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	int saved;

	*copied = 0;
	if (out < 0) {
		if (errno == EEXIST)
			return cli_fail(EX_CANTCREAT, "%s already exists; refusing to overwrite it", dst);
		return cli_fail(errno == EACCES ? EX_NOPERM : EX_CANTCREAT, "cannot create %s: %s", dst,
				strerror(errno));
	}
	if (fchmod(out, 0600) != 0)
		goto fail;
	for (;;) {
		ssize_t n = read(src_fd, buf, sizeof(buf));
		char *p = buf;

		if (n < 0 && errno == EINTR && !cli_interrupted)
			continue;
		if (n < 0)
			goto fail;
		if (n == 0)
			break;
		while (n > 0) {
			ssize_t w = write(out, p, (size_t)n);
			if (w < 0 && errno == EINTR && !cli_interrupted)
				continue;
			if (w <= 0)
				goto fail;
			p += w;
			n -= w;
			*copied += w;
		}
	}
	if (fsync(out) != 0)
		goto fail;
	if (close(out) != 0) {
		out = -1;
		goto fail;
	}
	return 0;
fail:
	saved = errno;
	if (out >= 0)
		close(out);
	unlink(dst);
	return cli_fail(EX_CANTCREAT, "cannot write %s: %s; no backup was made", dst,
			cli_interrupted ? "interrupted" : strerror(saved));
}

static int db_backup(cli_context *ctx, const char *dst)
{
	const char *src = ctx->config.members_db;
	twofa_store *s = NULL;
	twofa_error err;
	twofa_status st;
	size_t records = 0;
	off_t copied = 0;
	int fd, rc;

	twofa_error_clear(&err);
	/* The shared lock keeps writers out while the bytes are copied. */
	st = twofa_store_open(&s, src, TWOFA_STORE_READ, TWOFA_STORE_LOCK_TIMEOUT_MS, &err);
	if (st == TWOFA_ENOTFOUND)
		return cli_fail(EX_CANTCREAT, "there is no member store %s to back up", src);
	if (st != TWOFA_OK)
		return cli_fail_status(&err);
	if (twofa_store_count(s, &records, &err) != TWOFA_OK) {
		(void)twofa_store_close(s, NULL);
		return cli_fail(EX_CANTCREAT, "%s; run 'twofa-enroll db check'", err.msg);
	}
	fd = open(src, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0) {
		(void)twofa_store_close(s, NULL);
		return cli_fail(EX_CANTCREAT, "cannot read %s: %s", src, strerror(errno));
	}
	rc = copy_file(fd, dst, &copied);
	close(fd);
	(void)twofa_store_close(s, NULL);
	if (rc == 0)
		printf("members %s copied to %s (%zu record%s, %lld bytes)\n", src, dst, records,
		       records == 1 ? "" : "s", (long long)copied);
	return rc;
}

/* Keys whose values do not read as records after a recovery. */
typedef struct bad_keys {
	twofa_store_validator validate;
	char **keys;
	size_t count, cap;
	bool nomem;
} bad_keys;

static int collect_bad(const char *key, const char *value, size_t len, void *arg)
{
	bad_keys *b = arg;
	char why[160];

	if (b->validate(key, value, len, NULL, why, sizeof(why)))
		return 0;
	if (b->count == b->cap) {
		size_t cap = b->cap ? b->cap * 2 : 16;
		char **keys = realloc(b->keys, cap * sizeof(*keys));

		if (keys == NULL) {
			b->nomem = true;
			return 1;
		}
		b->keys = keys;
		b->cap = cap;
	}
	if ((b->keys[b->count] = twofa_strdup(key)) == NULL) {
		b->nomem = true;
		return 1;
	}
	b->count++;
	return 0;
}

/* GDBM's recovery keeps a key whose value bytes were damaged. Such a record
 * can never be used (it fails closed at every login), so it is dropped and
 * named: the damaged original stays in the .bak file. */
static int drop_unreadable(const char *which, const char *path, twofa_store_validator validate,
			   size_t *dropped)
{
	bad_keys b = {.validate = validate};
	twofa_store *s = NULL;
	twofa_error err;
	twofa_status st;
	int rc = 0;

	*dropped = 0;
	twofa_error_clear(&err);
	st = twofa_store_open(&s, path, TWOFA_STORE_WRITE, TWOFA_STORE_LOCK_TIMEOUT_MS, &err);
	if (st == TWOFA_OK)
		st = twofa_store_iterate(s, collect_bad, &b, &err);
	if (st == TWOFA_OK && b.nomem)
		st = twofa_fail(&err, TWOFA_ENOMEM, "out of memory");
	for (size_t i = 0; st == TWOFA_OK && i < b.count; i++) {
		st = twofa_store_delete(s, b.keys[i], &err);
		if (st == TWOFA_OK) {
			twofa_sanitize(b.keys[i]);
			printf("dropped the unreadable %s record '%s'\n", which, b.keys[i]);
			(*dropped)++;
		}
	}
	if (s != NULL) {
		if (st == TWOFA_OK)
			st = twofa_store_close(s, &err);
		else
			(void)twofa_store_close(s, NULL);
	}
	if (st != TWOFA_OK)
		rc = cli_fail(twofa_status_exit_code(st),
			      "cannot drop unreadable records after the recovery: %s", err.msg);
	for (size_t i = 0; i < b.count; i++)
		free(b.keys[i]);
	free(b.keys);
	return rc;
}

static int db_recover(cli_context *ctx, const char *which)
{
	bool members = strcmp(which, "members") == 0;
	const char *path = members ? ctx->config.members_db : ctx->config.state_db;
	twofa_store_validator validate = members ? valid_member : valid_state;
	twofa_store_recovery stats;
	twofa_store_report report;
	char *backup = NULL;
	twofa_error err;
	twofa_status st;
	size_t dropped = 0;
	int rc;

	memset(&stats, 0, sizeof(stats));
	twofa_error_clear(&err);
	if (access(path, F_OK) != 0 && errno == ENOENT)
		return cli_fail(EX_DATAERR, "%s store %s does not exist; nothing to recover", which, path);
	st = twofa_store_recover(path, TWOFA_STORE_LOCK_TIMEOUT_MS, &backup, &stats, &err);
	if (st != TWOFA_OK) {
		rc = cli_fail(twofa_status_exit_code(st), "cannot recover %s: %s%s%s", path, err.msg,
			      backup != NULL ? "; the original is kept as " : "",
			      backup != NULL ? backup : "");
		free(backup);
		return rc;
	}
	printf("%s %s recovered by GDBM: %zu key%s read back, %zu lost, %zu damaged bucket%s skipped, "
	       "%zu duplicate key%s\n",
	       which, path, stats.recovered_keys, stats.recovered_keys == 1 ? "" : "s", stats.failed_keys,
	       stats.failed_buckets, stats.failed_buckets == 1 ? "" : "s", stats.duplicate_keys,
	       stats.duplicate_keys == 1 ? "" : "s");
	if (backup != NULL)
		printf("the damaged file is kept as %s\n", backup);
	free(backup);
	if ((rc = drop_unreadable(which, path, validate, &dropped)) != 0)
		return rc;
	/* What is left must now check clean. */
	st = twofa_store_check(path, TWOFA_STORE_LOCK_TIMEOUT_MS, validate, NULL, &report, &err);
	if (st != TWOFA_OK) {
		twofa_sanitize(report.first_problem);
		return cli_fail(EX_CANTCREAT,
				"after recovery %zu records are good and %zu are still damaged (first: %s)",
				report.records, report.damaged, report.first_problem);
	}
	printf("kept %zu good record%s\n", report.records, report.records == 1 ? "" : "s");
	if (stats.failed_keys > 0 || stats.failed_buckets > 0 || dropped > 0)
		cli_warn("records were lost: compare with 'twofa-enroll list' and re-enrol or import the missing %s",
			 members ? "members" : "entries");
	return 0;
}

int cmd_db(cli_context *ctx, int argc, char **argv)
{
	int rc;

	if (argc < 2)
		return cli_usage_error("db", "db needs a subcommand");
	if (strcmp(argv[1], "check") == 0) {
		if (argc != 2)
			return cli_usage_error("db", "db check takes no arguments");
		if ((rc = cli_load_config(ctx)) != 0)
			return rc;
		return db_check(ctx);
	}
	if (strcmp(argv[1], "backup") == 0) {
		if (argc != 3 || argv[2][0] == '\0' || argv[2][0] == '-')
			return cli_usage_error("db", "db backup needs one FILE");
		if ((rc = cli_load_config(ctx)) != 0 || (rc = cli_require_gdbm(ctx, "db backup")) != 0)
			return rc;
		return db_backup(ctx, argv[2]);
	}
	if (strcmp(argv[1], "recover") == 0) {
		const char *which = argc == 3 ? argv[2] : "members";

		if (argc > 3 || (strcmp(which, "members") != 0 && strcmp(which, "state") != 0))
			return cli_usage_error("db", "db recover takes 'members' (the default) or 'state'");
		if ((rc = cli_load_config(ctx)) != 0)
			return rc;
		/* state.db is on this host whatever the store. */
		if (strcmp(which, "members") == 0 && (rc = cli_require_gdbm(ctx, "db recover members")) != 0)
			return rc;
		return db_recover(ctx, which);
	}
	return cli_usage_error("db", "unknown db subcommand");
}
