/* SPDX-License-Identifier: GPL-3.0-or-later */
/* export and import: members as JSON lines, for backup and migration.
 * Export walks the store one record at a time (bounded memory at any size).
 * Import checks every line before it writes anything, then writes all
 * records in one batch of the member store (for GDBM one exclusive open);
 * without --replace each write is an add that keeps the record's version, so
 * a member another admin enrols in between (on a directory) is never
 * overwritten.
 * Neither backend has transactions: if a write fails half-way, the records
 * written so far are put back as they were (old record restored or new one
 * removed), for GDBM under the same lock. */
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

static int export_row(FILE *chunk, const cli_member_row *row, void *arg)
{
	const time_t *now = arg;
	char *line = NULL;
	int rc = cli_export_line(row->member, &row->state, *now, &line) ? 0 : cli_fail(1, "out of memory");

	if (rc == 0 && fprintf(chunk, "%s\n", line) < 0)
		rc = cli_fail(1, "out of memory");
	twofa_free_secret(line); /* it holds the password hash */
	return rc;
}

int cmd_export(cli_context *ctx, int argc, char **argv)
{
	static const struct option options[] = {
		{"output", required_argument, NULL, 'o'},
		{NULL, 0, NULL, 0},
	};
	const char *path = NULL;
	time_t now = time(NULL);
	cli_member_walk w = {.format = export_row, .arg = &now};
	twofa_member_store *members;
	int rc = EX_OK, opt;

	optind = 0;
	while ((opt = getopt_long(argc, argv, ":", options, NULL)) != -1) {
		if (opt != 'o')
			return cli_usage_error("export", "export: the only option is --output FILE");
		path = optarg;
	}
	if (optind != argc)
		return cli_usage_error("export", "export takes no arguments but --output FILE");
	/* The store must open before the file is made. */
	if ((rc = cli_members(ctx, &members)) != 0 || (rc = open_export(path, &w.out)) != 0)
		return rc;
	/* One record at a time, in the store's order: memory stays bounded. */
	rc = cli_walk_all(ctx, &w);
	rc = close_export(path, w.out, rc);
	if (rc == EX_OK && w.damaged > 0)
		rc = cli_fail(EX_CANTCREAT, "%zu damaged record%s not exported; run 'twofa-enroll db check'",
			      w.damaged, w.damaged == 1 ? "" : "s");
	return rc;
}

/* Puts back what the first n records of set overwrote or added. */
static bool roll_back(twofa_member_store *s, cli_import_set *set, size_t n)
{
	bool ok = true;

	for (size_t i = 0; i < n; i++) {
		cli_import_record *r = &set->recs[i];
		twofa_member old;
		twofa_status st;

		if (r->previous == NULL) {
			st = twofa_member_store_remove(s, r->user, NULL);
		} else {
			st = twofa_member_decode(r->previous, r->previous_len, &old, NULL);
			if (st == TWOFA_OK)
				st = twofa_member_store_put(s, &old, TWOFA_MEMBER_PUT_REPLACE, NULL);
			twofa_member_free(&old);
		}
		if (st != TWOFA_OK)
			ok = false;
	}
	return ok;
}

/* Checks every name before anything is written, so a refusal writes
 * nothing; with --replace keeps what each record overwrites, for a
 * rollback. 0 or an exit code. */
static int check_all(twofa_member_store *s, const char *name, cli_import_set *set, bool replace,
		     size_t *replaced)
{
	twofa_error err;

	*replaced = 0;
	for (size_t i = 0; i < set->count; i++) {
		cli_import_record *r = &set->recs[i];
		twofa_member old;
		twofa_status st;

		twofa_error_clear(&err);
		st = twofa_member_store_load(s, r->user, &old, &err);
		r->previous = NULL;
		if (st == TWOFA_OK && replace) {
			st = twofa_member_encode(&old, &r->previous, &err);
			r->previous_len = r->previous != NULL ? strlen(r->previous) : 0;
		}
		twofa_member_free(&old);
		if (st == TWOFA_ENOTFOUND)
			continue;
		if (st != TWOFA_OK)
			return cli_fail(twofa_status_exit_code(st), "%s; nothing was imported", err.msg);
		if (!replace)
			return cli_fail(EX_DATAERR,
					"%s:%lu: %s is already enrolled (use --replace to overwrite); nothing was imported",
					name, r->line, r->user);
		(*replaced)++;
	}
	return 0;
}

/* Writes every record in one batch (GDBM: one exclusive lock), each with
 * its own version. 0 or an exit code. */
static int write_all(cli_context *ctx, const char *name, cli_import_set *set, bool replace, size_t *replaced)
{
	twofa_member_store *s;
	twofa_error err;
	twofa_status st = TWOFA_OK;
	size_t i;
	int rc;

	*replaced = 0;
	if ((rc = cli_members(ctx, &s)) != 0)
		return rc;
	twofa_error_clear(&err);
	if (twofa_member_store_batch_begin(s, TWOFA_MEMBER_BATCH_WRITE, &err) != TWOFA_OK)
		return cli_fail(twofa_status_exit_code(err.status), "%s; nothing was imported", err.msg);
	if ((rc = check_all(s, name, set, replace, replaced)) != 0) {
		(void)twofa_member_store_batch_end(s, NULL);
		return rc;
	}
	for (i = 0; i < set->count; i++) {
		cli_import_record *r = &set->recs[i];
		twofa_member m;

		if (cli_interrupted) {
			st = twofa_fail(&err, TWOFA_ESYS, "interrupted");
			break;
		}
		st = twofa_member_decode(r->json, strlen(r->json), &m, &err);
		/* Both keep the record's version. Checked absent above when not
		 * replacing, but on a directory another admin may enrol the
		 * name meanwhile: IMPORT never overwrites that member. */
		if (st == TWOFA_OK)
			st = twofa_member_store_put(s, &m,
						    replace ? TWOFA_MEMBER_PUT_REPLACE
							    : TWOFA_MEMBER_PUT_IMPORT,
						    &err);
		twofa_member_free(&m);
		if (st != TWOFA_OK)
			break;
	}
	if (st != TWOFA_OK) {
		bool undone = roll_back(s, set, i);
		twofa_status closed = twofa_member_store_batch_end(s, NULL);

		if (undone && closed == TWOFA_OK && st == TWOFA_EEXIST && !replace)
			return cli_fail(EX_DATAERR,
					"%s:%lu: %s is already enrolled (enrolled meanwhile; use --replace to overwrite); the "
					"%zu records written before were rolled back",
					name, set->recs[i].line, set->recs[i].user, i);
		if (undone && closed == TWOFA_OK)
			return cli_fail(cli_interrupted ? CLI_EXIT_INTERRUPTED : twofa_status_exit_code(st),
					"import stopped at %s:%lu (%s); the %zu records written before were rolled back",
					name, set->recs[i].line, err.msg, i);
		return cli_fail(EX_CANTCREAT,
				"import stopped at %s:%lu (%s) and the rollback failed: the member store may hold part of "
				"the import; restore it from a backup (twofa-enroll db backup) or fix and re-run with --replace",
				name, set->recs[i].line, err.msg);
	}
	if (twofa_member_store_batch_end(s, &err) != TWOFA_OK)
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
