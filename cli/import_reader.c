/* SPDX-License-Identifier: GPL-3.0-or-later */
/* import's input reader (see import_reader.h). */
#include "twofa_build.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "cli.h"
#include "import_reader.h"
#include "util.h"

void cli_import_set_free(cli_import_set *set)
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
static twofa_status take_line(cli_import_set *set, const char *line, size_t len, unsigned long lineno,
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
		cli_import_record *recs = realloc(set->recs, cap * sizeof(*recs));

		if (recs == NULL)
			st = twofa_fail(err, TWOFA_ENOMEM, "out of memory");
		else {
			set->recs = recs;
			set->cap = cap;
		}
	}
	if (st == TWOFA_OK) {
		cli_import_record *r = &set->recs[set->count];

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
	const cli_import_record *x = a, *y = b;
	int c = strcmp(x->user, y->user);

	return c != 0 ? c : (x->line > y->line) - (x->line < y->line);
}

int cli_import_read(const char *name, FILE *in, cli_import_set *set)
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
			rc = cli_fail(EX_DATAERR, "%s:%lu: line longer than %d bytes; nothing was imported",
				      name, lineno, IMPORT_LINE_MAX);
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
			return cli_fail(EX_DATAERR,
					"%s:%lu: %s already appears on line %lu; nothing was imported", name,
					set->recs[i].line, set->recs[i].user, set->recs[i - 1].line);
	return 0;
}
