/* SPDX-License-Identifier: GPL-3.0-or-later */
/* export and import: members as JSON lines, for backup and migration.
 * Import checks every line before it writes anything, then writes all
 * records in one exclusive open of the store. GDBM has no transactions: if
 * a write fails half-way, the records written so far are put back as they
 * were (old value restored or new key deleted) under the same lock. */
#include "twofa_build.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "import_reader.h"
#include "store.h"
#include "util.h"

/* The export holds password hashes. --output FILE is created 0600 (never
 * over an existing file or through a symbolic link); standard output that
 * is a file others can read gets a warning, since the shell made it. */
static int open_export(const char *path, FILE **out)
{
	struct stat st;
	int fd;

	if (path == NULL) {
		*out = stdout;
		if (fstat(STDOUT_FILENO, &st) == 0 && S_ISREG(st.st_mode) &&
		    (st.st_mode & (S_IRGRP | S_IROTH)))
			cli_warn("standard output is a file others can read (mode %04o) and the export holds "
				 "password hashes: chmod 600 it, or use --output FILE",
				 (unsigned)(st.st_mode & 07777));
		return 0;
	}
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd < 0 && errno == EEXIST)
		return cli_fail(EX_CANTCREAT, "%s already exists; refusing to overwrite it", path);
	if (fd < 0)
		return cli_fail(errno == EACCES ? EX_NOPERM : EX_CANTCREAT, "cannot create %s: %s", path,
				strerror(errno));
	if ((*out = fdopen(fd, "w")) == NULL) {
		int e = errno;
		(void)close(fd);
		(void)unlink(path);
		return cli_fail(EX_CANTCREAT, "cannot write %s: %s", path, strerror(e));
	}
	return 0;
}

/* Flushes and closes the export; a file that was not written whole is removed. */
static int close_export(const char *path, FILE *out, int rc)
{
	int e = 0;

	if (rc == EX_OK && (fflush(out) != 0 || (path != NULL && fsync(fileno(out)) != 0)))
		e = errno;
	if (path == NULL)
		return e != 0 ? cli_fail(1, "cannot write the export: %s", strerror(e)) : rc;
	if (fclose(out) != 0 && rc == EX_OK && e == 0)
		e = errno;
	if (rc == EX_OK && e != 0)
		rc = cli_fail(EX_CANTCREAT, "cannot write %s: %s", path, strerror(e));
	if (rc != EX_OK)
		(void)unlink(path);
	return rc;
}

int cmd_export(cli_context *ctx, int argc, char **argv)
{
	static const struct option options[] = {
		{"output", required_argument, NULL, 'o'},
		{NULL, 0, NULL, 0},
	};
	const char *path = NULL;
	cli_member_row *rows = NULL;
	size_t count = 0, damaged = 0;
	time_t now = time(NULL);
	FILE *out = NULL;
	int rc = EX_OK, opt;

	optind = 0;
	while ((opt = getopt_long(argc, argv, ":", options, NULL)) != -1) {
		if (opt != 'o')
			return cli_usage_error("export", "export: the only option is --output FILE");
		path = optarg;
	}
	if (optind != argc)
		return cli_usage_error("export", "export takes no arguments but --output FILE");
	if ((rc = cli_load_members(ctx, &rows, &count, &damaged)) != 0)
		return rc;
	if ((rc = open_export(path, &out)) != 0) {
		cli_members_free(rows, count);
		return rc;
	}
	for (size_t i = 0; i < count && rc == EX_OK; i++) {
		json_t *obj = cli_member_json(&rows[i].member, &rows[i].state, now, true);
		char *line = obj != NULL ? json_dumps(obj, JSON_COMPACT | JSON_PRESERVE_ORDER) : NULL;

		json_decref(obj);
		if (line == NULL)
			rc = cli_fail(1, "out of memory");
		else if (fprintf(out, "%s\n", line) < 0)
			rc = cli_fail(1, "cannot write the export: %s", strerror(errno));
		twofa_free_secret(line); /* it holds the password hash */
	}
	cli_members_free(rows, count);
	rc = close_export(path, out, rc);
	if (rc == EX_OK && damaged > 0)
		rc = cli_fail(EX_CANTCREAT, "%zu damaged record%s not exported; run 'twofa-enroll db check'",
			      damaged, damaged == 1 ? "" : "s");
	return rc;
}

/* Puts back what the first n records of set overwrote or added. */
static bool roll_back(twofa_store *s, cli_import_set *set, size_t n)
{
	bool ok = true;

	for (size_t i = 0; i < n; i++) {
		cli_import_record *r = &set->recs[i];
		twofa_status st = r->previous != NULL ? twofa_store_put(s, r->user, r->previous,
									r->previous_len, true, NULL)
						      : twofa_store_delete(s, r->user, NULL);
		if (st != TWOFA_OK)
			ok = false;
	}
	return ok;
}

/* Writes every record under one exclusive lock. 0 or an exit code. */
static int write_all(cli_context *ctx, const char *name, cli_import_set *set, bool replace, size_t *replaced)
{
	twofa_store *s = NULL;
	twofa_error err;
	twofa_status st;
	size_t i;

	*replaced = 0;
	twofa_error_clear(&err);
	st = twofa_store_open(&s, ctx->config.members_db, TWOFA_STORE_WRITE, TWOFA_STORE_LOCK_TIMEOUT_MS,
			      &err);
	if (st != TWOFA_OK)
		return cli_fail(twofa_status_exit_code(st), "%s; nothing was imported", err.msg);
	/* First every key, so a refusal writes nothing; with --replace keep
	 * the old values for a rollback. */
	for (i = 0; i < set->count; i++) {
		cli_import_record *r = &set->recs[i];

		if (replace)
			st = twofa_store_get(s, r->user, &r->previous, &r->previous_len, &err);
		else
			st = twofa_store_exists(s, r->user, &err);
		if (st == TWOFA_ENOTFOUND) {
			r->previous = NULL;
			continue;
		}
		if (st != TWOFA_OK) {
			(void)twofa_store_close(s, NULL);
			return cli_fail(twofa_status_exit_code(st), "%s; nothing was imported", err.msg);
		}
		if (!replace) {
			(void)twofa_store_close(s, NULL);
			return cli_fail(EX_DATAERR,
					"%s:%lu: %s is already enrolled (use --replace to overwrite); nothing was imported",
					name, r->line, r->user);
		}
		(*replaced)++;
	}
	for (i = 0; i < set->count; i++) {
		cli_import_record *r = &set->recs[i];

		if (cli_interrupted) {
			st = twofa_fail(&err, TWOFA_ESYS, "interrupted");
			break;
		}
		st = twofa_store_put(s, r->user, r->json, strlen(r->json), replace, &err);
		if (st != TWOFA_OK)
			break;
	}
	if (st != TWOFA_OK) {
		bool undone = roll_back(s, set, i);
		twofa_status closed = twofa_store_close(s, NULL);

		if (undone && closed == TWOFA_OK)
			return cli_fail(cli_interrupted ? CLI_EXIT_INTERRUPTED : twofa_status_exit_code(st),
					"import stopped at %s:%lu (%s); the %zu records written before were rolled back",
					name, set->recs[i].line, err.msg, i);
		return cli_fail(EX_CANTCREAT,
				"import stopped at %s:%lu (%s) and the rollback failed: members.db may hold part of "
				"the import; restore it from a backup (twofa-enroll db backup) or fix and re-run with --replace",
				name, set->recs[i].line, err.msg);
	}
	if (twofa_store_close(s, &err) != TWOFA_OK)
		return cli_fail(EX_CANTCREAT, "%s: the imported records may not all be on disk", err.msg);
	return 0;
}

int cmd_import(cli_context *ctx, int argc, char **argv)
{
	static const struct option options[] = {
		{"replace", no_argument, NULL, 'r'},
		{NULL, 0, NULL, 0},
	};
	cli_import_set set = {0};
	bool replace = false;
	size_t replaced = 0;
	const char *name;
	FILE *in;
	int opt, rc;

	optind = 0;
	while ((opt = getopt_long(argc, argv, ":", options, NULL)) != -1) {
		if (opt != 'r')
			return cli_usage_error("import", "import: unknown option");
		replace = true;
	}
	if (optind + 1 != argc)
		return cli_usage_error("import", "import needs one FILE (or - for stdin)");
	name = argv[optind];
	if (name[0] == '\0')
		return cli_usage_error("import", "import: the file name is empty");
	if ((rc = cli_load_config(ctx)) != 0)
		return rc;
	if (strcmp(name, "-") == 0) {
		in = stdin;
		name = "stdin";
	} else if ((in = fopen(name, "re")) == NULL) {
		return cli_fail(errno == EACCES ? EX_NOPERM : EX_DATAERR, "cannot open %s: %s", name,
				strerror(errno));
	}
	rc = cli_import_read(name, in, &set);
	if (in != stdin)
		fclose(in);
	if (rc == 0 && cli_interrupted)
		rc = cli_fail(CLI_EXIT_INTERRUPTED, "interrupted; nothing was imported");
	if (rc == 0 && set.count == 0)
		cli_note("%s holds no records; nothing to import", name);
	else if (rc == 0)
		rc = write_all(ctx, name, &set, replace, &replaced);
	if (rc == 0 && set.count > 0)
		printf("imported %zu member%s (%zu new, %zu replaced)\n", set.count,
		       set.count == 1 ? "" : "s", set.count - replaced, replaced);
	cli_import_set_free(&set);
	return rc;
}
