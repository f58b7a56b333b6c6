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

#include <sodium.h>

#include "cli.h"
#include "store.h"
#include "util.h"

/* A line holds one member record plus the state fields export adds. */
#define IMPORT_LINE_MAX (TWOFA_MEMBER_JSON_MAX + 1024)
#define IMPORT_MAX_RECORDS 2000000UL

/* The export holds password hashes. --output FILE is created 0600 (never
 * over an existing file or through a symbolic link); standard output that
 * is a file others can read gets a warning, since the shell made it. */
static int open_export(const char *path, FILE **out)
{
	struct stat st;
	int fd;

	if (path == NULL) {
		*out = stdout;
		if (fstat(STDOUT_FILENO, &st) == 0 && S_ISREG(st.st_mode) && (st.st_mode & (S_IRGRP | S_IROTH)))
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
		rc = cli_fail(EX_CANTCREAT, "%zu damaged record%s not exported; run 'twofa-enroll db check'", damaged,
			      damaged == 1 ? "" : "s");
	return rc;
}

typedef struct import_record {
	char *user;
	char *json;     /* canonical record (holds the hash): wiped on free */
	char *previous; /* with --replace: the value it overwrote, for a rollback */
	size_t previous_len;
	unsigned long line;
} import_record;

typedef struct import_set {
	import_record *recs;
	size_t count, cap;
} import_set;

static void import_set_free(import_set *set)
{
	for (size_t i = 0; i < set->count; i++) {
		free(set->recs[i].user);
		twofa_free_secret(set->recs[i].json);
		if (set->recs[i].previous != NULL)
			twofa_free_wiped(set->recs[i].previous, set->recs[i].previous_len);
	}
	free(set->recs);
	memset(set, 0, sizeof(*set));
}

/* Reads one line of at most IMPORT_LINE_MAX bytes. 1 line, 0 end, -1 too
 * long (the rest of the line is skipped), -2 read error. */
static int read_line(FILE *in, char *buf, size_t *len)
{
	size_t n = 0;
	bool overflow = false;
	int c;

	while ((c = getc(in)) != EOF && c != '\n') {
		if (n < IMPORT_LINE_MAX)
			buf[n++] = (char)c;
		else
			overflow = true;
	}
	if (ferror(in))
		return -2;
	if (c == EOF && n == 0 && !overflow)
		return 0;
	if (overflow)
		return -1;
	if (n > 0 && buf[n - 1] == '\r')
		n--;
	buf[n] = '\0';
	*len = n;
	return 1;
}

static bool blank(const char *s)
{
	return s[strspn(s, " \t")] == '\0';
}

/* Decodes one line into a canonical record appended to set. */
static twofa_status take_line(import_set *set, const char *line, size_t len, unsigned long lineno,
			      twofa_error *err)
{
	twofa_member m;
	twofa_status st;
	char *json = NULL;

	if (set->count >= IMPORT_MAX_RECORDS)
		return twofa_fail(err, TWOFA_EINVAL, "more than %lu records", IMPORT_MAX_RECORDS);
	if ((st = twofa_member_decode(line, len, &m, err)) != TWOFA_OK)
		return st;
	st = twofa_member_encode(&m, &json, err);
	if (st == TWOFA_OK && set->count == set->cap) {
		size_t cap = set->cap ? set->cap * 2 : 256;
		import_record *recs = realloc(set->recs, cap * sizeof(*recs));

		if (recs == NULL)
			st = twofa_fail(err, TWOFA_ENOMEM, "out of memory");
		else {
			set->recs = recs;
			set->cap = cap;
		}
	}
	if (st == TWOFA_OK) {
		import_record *r = &set->recs[set->count];

		memset(r, 0, sizeof(*r));
		r->user = twofa_strdup(m.user);
		r->json = json;
		r->line = lineno;
		json = NULL;
		set->count++;
		if (r->user == NULL)
			st = twofa_fail(err, TWOFA_ENOMEM, "out of memory");
	}
	twofa_free_secret(json);
	twofa_member_free(&m);
	return st;
}

static int by_user(const void *a, const void *b)
{
	const import_record *x = a, *y = b;
	int c = strcmp(x->user, y->user);

	return c != 0 ? c : (x->line > y->line) - (x->line < y->line);
}

/* Reads and checks the whole input. 0 or an exit code (nothing written). */
static int read_input(const char *name, FILE *in, import_set *set)
{
	char *buf = malloc(IMPORT_LINE_MAX + 1);
	unsigned long lineno = 0;
	twofa_error err;
	size_t len = 0;
	int r, rc = 0;

	if (buf == NULL)
		return cli_fail(1, "out of memory");
	while (rc == 0 && (r = read_line(in, buf, &len)) != 0) {
		lineno++;
		if (r == -2)
			rc = cli_fail(1, "%s: cannot read: %s; nothing was imported", name, strerror(errno));
		else if (r == -1)
			rc = cli_fail(EX_DATAERR, "%s:%lu: line longer than %d bytes; nothing was imported", name,
				      lineno, IMPORT_LINE_MAX);
		else if (!blank(buf)) {
			twofa_error_clear(&err);
			if (take_line(set, buf, len, lineno, &err) != TWOFA_OK)
				rc = cli_fail(err.status == TWOFA_ENOMEM ? 1 : EX_DATAERR,
					      "%s:%lu: %s; nothing was imported", name, lineno, err.msg);
		}
	}
	sodium_memzero(buf, IMPORT_LINE_MAX + 1);
	free(buf);
	if (rc != 0)
		return rc;
	/* Sorted by user, a name given twice sits next to itself. */
	if (set->count > 1)
		qsort(set->recs, set->count, sizeof(set->recs[0]), by_user);
	for (size_t i = 1; i < set->count; i++)
		if (strcmp(set->recs[i - 1].user, set->recs[i].user) == 0)
			return cli_fail(EX_DATAERR, "%s:%lu: %s already appears on line %lu; nothing was imported", name,
					set->recs[i].line, set->recs[i].user, set->recs[i - 1].line);
	return 0;
}

/* Puts back what the first n records of set overwrote or added. */
static bool roll_back(twofa_store *s, import_set *set, size_t n)
{
	bool ok = true;

	for (size_t i = 0; i < n; i++) {
		import_record *r = &set->recs[i];
		twofa_status st = r->previous != NULL
					  ? twofa_store_put(s, r->user, r->previous, r->previous_len, true, NULL)
					  : twofa_store_delete(s, r->user, NULL);
		if (st != TWOFA_OK)
			ok = false;
	}
	return ok;
}

/* Writes every record under one exclusive lock. 0 or an exit code. */
static int write_all(cli_context *ctx, const char *name, import_set *set, bool replace, size_t *replaced)
{
	twofa_store *s = NULL;
	twofa_error err;
	twofa_status st;
	size_t i;

	*replaced = 0;
	twofa_error_clear(&err);
	st = twofa_store_open(&s, ctx->config.members_db, TWOFA_STORE_WRITE, TWOFA_STORE_LOCK_TIMEOUT_MS, &err);
	if (st != TWOFA_OK)
		return cli_fail(twofa_status_exit_code(st), "%s; nothing was imported", err.msg);
	/* First every key, so a refusal writes nothing; with --replace keep
	 * the old values for a rollback. */
	for (i = 0; i < set->count; i++) {
		import_record *r = &set->recs[i];

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
		import_record *r = &set->recs[i];

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
	import_set set = {0};
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
		return cli_fail(errno == EACCES ? EX_NOPERM : EX_DATAERR, "cannot open %s: %s", name, strerror(errno));
	}
	rc = read_input(name, in, &set);
	if (in != stdin)
		fclose(in);
	if (rc == 0 && cli_interrupted)
		rc = cli_fail(CLI_EXIT_INTERRUPTED, "interrupted; nothing was imported");
	if (rc == 0 && set.count == 0)
		cli_note("%s holds no records; nothing to import", name);
	else if (rc == 0)
		rc = write_all(ctx, name, &set, replace, &replaced);
	if (rc == 0 && set.count > 0)
		printf("imported %zu member%s (%zu new, %zu replaced)\n", set.count, set.count == 1 ? "" : "s",
		       set.count - replaced, replaced);
	import_set_free(&set);
	return rc;
}
