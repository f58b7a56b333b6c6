/* SPDX-License-Identifier: GPL-3.0-or-later */
/* Output helpers: colours, times, masked addresses, the JSON form of a
 * member and the walks over every member for list and export. */
#include "twofa_build.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "cli.h"
#include "store.h"
#include "util.h"

const char *cli_color(bool on, cli_color_id c)
{
	static const char *const codes[] = {
		[CLI_RESET] = "\033[0m",  [CLI_BOLD] = "\033[1m",    [CLI_RED] = "\033[31m",
		[CLI_GREEN] = "\033[32m", [CLI_YELLOW] = "\033[33m", [CLI_DIM] = "\033[2m",
	};

	return on ? codes[c] : "";
}

const char *cli_time_text(time_t t, char *buf)
{
	if (t == 0 || !twofa_format_time(t, buf))
		return "-";
	return buf;
}

void cli_mask_email(const char *email, char *out, size_t size)
{
	const char *at = email != NULL ? strrchr(email, '@') : NULL;

	if (size == 0)
		return;
	if (at == NULL || at == email) {
		twofa_strlcpy(out, "***", size);
		return;
	}
	snprintf(out, size, "%c***%s", email[0], at);
	twofa_sanitize(out);
}

/* A time as ISO 8601 UTC, or null for 0. */
static json_t *time_value(time_t t)
{
	char buf[TWOFA_ISO8601_LEN];

	if (t == 0 || !twofa_format_time(t, buf))
		return json_null();
	return json_string(buf);
}

static void put(json_t *obj, const char *key, json_t *value, bool *ok)
{
	if (value == NULL || json_object_set_new(obj, key, value) != 0)
		*ok = false;
}

void cli_login_state_from(const twofa_state_entry *e, cli_login_state *out)
{
	out->failures = e->failures;
	out->locked_until = twofa_state_latest_lock(e, time(NULL)); /* everywhere or from one source */
	out->last_login = e->last_login;
}

time_t cli_locked_until(const cli_login_state *st, time_t now)
{
	return st->locked_until != 0 && now < st->locked_until ? st->locked_until : 0;
}

/* The state list and show add to a member. */
static void put_state(json_t *obj, const cli_login_state *st, time_t now, bool *ok)
{
	put(obj, "last_login", time_value(st->last_login), ok);
	put(obj, "failures", json_integer(st->failures), ok);
	/* A lockout that has run out is no lockout. */
	put(obj, "locked_until", time_value(cli_locked_until(st, now)), ok);
}

/* A time as a JSON value: "null" for 0, else the quoted ISO 8601 text. */
static const char *json_time(time_t t, char buf[TWOFA_ISO8601_LEN + 2])
{
	if (t == 0 || !twofa_format_time(t, buf + 1))
		return "null";
	buf[0] = '"';
	strcat(buf, "\"");
	return buf;
}

bool cli_export_line(const twofa_member *m, const cli_login_state *st, time_t now, char **line)
{
	static const char format[] = "%.*s,\"last_login\":%s,\"failures\":%ld,\"locked_until\":%s}";
	char last[TWOFA_ISO8601_LEN + 2], locked[TWOFA_ISO8601_LEN + 2];
	const char *last_v = json_time(st->last_login, last),
		   *locked_v = json_time(cli_locked_until(st, now), locked);
	char *record = NULL;
	size_t len;
	int n;

	*line = NULL;
	if (twofa_member_encode(m, &record, NULL) != TWOFA_OK)
		return false;
	/* The record is one compact object: the state goes in before its
	 * closing brace, so the record is never parsed again. Sized first, so
	 * the hash is written once, into the line itself. */
	len = strlen(record);
	n = len >= 2 && record[len - 1] == '}'
		    ? snprintf(NULL, 0, format, (int)(len - 1), record, last_v, st->failures, locked_v)
		    : -1;
	if (n > 0 && (*line = malloc((size_t)n + 1)) != NULL)
		snprintf(*line, (size_t)n + 1, format, (int)(len - 1), record, last_v, st->failures, locked_v);
	twofa_free_secret(record);
	return *line != NULL;
}

json_t *cli_member_json(const twofa_member *m, const cli_login_state *st, time_t now)
{
	json_t *obj = json_object();
	bool ok = obj != NULL;

	if (!ok)
		return NULL;
	put(obj, "user", json_string(m->user), &ok);
	put(obj, "email", m->email != NULL ? json_string(m->email) : json_null(), &ok);
	put(obj, "phone", json_string(m->phone), &ok);
	put(obj, "country", json_string(m->country), &ok);
	put(obj, "channel", json_string(twofa_channel_name(m->channel)), &ok);
	put(obj, "status", json_string(twofa_member_status_name(m->status)), &ok);
	put(obj, "created", time_value(m->created), &ok);
	put(obj, "updated", time_value(m->updated), &ok);
	put(obj, "verified", time_value(m->verified), &ok);
	put_state(obj, st, now, &ok);
	if (!ok) {
		json_decref(obj);
		return NULL;
	}
	return obj;
}

int cli_print_json(json_t *value, bool compact)
{
	size_t flags = JSON_PRESERVE_ORDER | (compact ? JSON_COMPACT : JSON_INDENT(2));
	char *text = json_dumps(value, flags);

	if (text == NULL)
		return cli_fail(1, "out of memory");
	puts(text);
	free(text);
	return 0;
}

/* ---- list and export: members a chunk at a time (see cli.h) ---- */

/* Rows per chunk: enough that the stores' opens (each reads GDBM's whole
 * directory, a few MiB at a million members) cost little, few enough that
 * a chunk's text stays a few MiB and a lock is held for a fraction of a
 * second. */
#define CHUNK_ROWS 16384
/* export's chunks end at this much text too (its lines are long); the walk
 * holds members.db open meanwhile, so only state.db is reopened. */
#define CHUNK_BYTES (1024L * 1024L)

typedef struct chunk {
	cli_member_walk *w;
	const char *state_db;
	twofa_store *state; /* open while a chunk is read */
	bool no_state;      /* state.db does not exist: nobody logged in yet */
	FILE *text;         /* the chunk's output, in memory */
	char *buf;
	size_t len;
	size_t rows; /* in this chunk */
} chunk;

static int chunk_start(chunk *c, cli_member_walk *w, const char *state_db)
{
	memset(c, 0, sizeof(*c));
	c->w = w;
	c->state_db = state_db;
	c->text = open_memstream(&c->buf, &c->len);
	return c->text == NULL ? cli_fail(1, "out of memory") : 0;
}

/* The member's login state, with state.db opened for the chunk on first use,
 * as this host's next login of the member will see it (an unlock from any
 * host of the fleet honoured). */
static twofa_status chunk_state(chunk *c, const twofa_member *m, cli_login_state *out, twofa_error *err)
{
	const char *user = m->user;
	char *value = NULL;
	size_t len = 0;
	twofa_status st;

	memset(out, 0, sizeof(*out));
	if (c->no_state)
		return TWOFA_OK;
	if (c->state == NULL) {
		st = twofa_store_open(&c->state, c->state_db, TWOFA_STORE_READ, TWOFA_STORE_LOCK_TIMEOUT_MS,
				      err);
		if (st == TWOFA_ENOTFOUND) {
			c->no_state = true; /* no login happened yet */
			return TWOFA_OK;
		}
		if (st != TWOFA_OK)
			return st;
	}
	st = twofa_store_get(c->state, user, &value, &len, err);
	if (st == TWOFA_ENOTFOUND)
		return TWOFA_OK;
	if (st == TWOFA_OK) {
		twofa_state_entry entry;
		twofa_error e;

		twofa_error_clear(&e);
		if (twofa_state_decode(value, len, &entry, &e) == TWOFA_OK) {
			(void)twofa_state_honour_unlock(&entry, m->unlocked);
			cli_login_state_from(&entry, out);
		} else {
			cli_warn("login state of '%s' is damaged (%s); shown as empty", user, e.msg);
		}
		sodium_memzero(&entry, sizeof(entry));
	}
	free(value);
	return st;
}

/* One member: its state, then its row onto the chunk. 0 or an exit code. */
static int chunk_add(chunk *c, const twofa_member *m)
{
	cli_member_row row = {.member = m};
	twofa_error err;
	int rc;

	twofa_error_clear(&err);
	if (chunk_state(c, m, &row.state, &err) != TWOFA_OK)
		return cli_fail_status(&err);
	if ((rc = c->w->format(c->text, &row, c->w->arg)) != 0)
		return rc;
	c->rows++;
	c->w->rows++;
	return 0;
}

static void chunk_damaged(chunk *c, const char *key, const char *why)
{
	char shown[TWOFA_USER_NAME_MAX + 1];

	twofa_strlcpy(shown, key, sizeof(shown));
	twofa_sanitize(shown);
	cli_warn("record '%s' is damaged (%s); see 'twofa-enroll db check'", shown, why);
	c->w->damaged++;
}

/* Closes the chunk's text, wiping it: export's rows hold password hashes. */
static void chunk_drop(chunk *c)
{
	if (c->text != NULL)
		(void)fclose(c->text);
	c->text = NULL;
	if (c->buf != NULL)
		sodium_memzero(c->buf, c->len);
	free(c->buf);
	c->buf = NULL;
	c->len = 0;
}

/* Lets state.db go, then writes the chunk out and starts the next. */
static int chunk_flush(chunk *c)
{
	int rc = 0;

	(void)twofa_store_close(c->state, NULL);
	c->state = NULL;
	if (fclose(c->text) != 0) {
		c->text = NULL;
		chunk_drop(c);
		return cli_fail(1, "out of memory");
	}
	c->text = NULL;
	if (c->len > 0 && fwrite(c->buf, 1, c->len, c->w->out) != c->len)
		rc = cli_fail(1, "cannot write the output: %s", strerror(errno));
	chunk_drop(c);
	c->rows = 0;
	if (rc == 0 && (c->text = open_memstream(&c->buf, &c->len)) == NULL)
		rc = cli_fail(1, "out of memory");
	return rc;
}

static void chunk_end(chunk *c)
{
	(void)twofa_store_close(c->state, NULL);
	c->state = NULL;
	chunk_drop(c);
}

/* The names, sorted: one arena of strings and an array of offsets into it
 * (pointers only once the arena stops moving). */
typedef struct name_list {
	char *arena;
	size_t used, size;
	size_t *at;
	size_t count, cap;
	bool nomem;
} name_list;

static int add_name(const char *user, void *arg)
{
	name_list *n = arg;
	size_t len = strlen(user) + 1;

	if (n->used + len > n->size) {
		size_t size = n->size ? n->size * 2 : 65536;
		char *arena;

		while (size < n->used + len)
			size *= 2;
		if ((arena = realloc(n->arena, size)) == NULL) {
			n->nomem = true;
			return 1;
		}
		n->arena = arena;
		n->size = size;
	}
	if (n->count == n->cap) {
		size_t cap = n->cap ? n->cap * 2 : 4096;
		size_t *at = realloc(n->at, cap * sizeof(*at));

		if (at == NULL) {
			n->nomem = true;
			return 1;
		}
		n->at = at;
		n->cap = cap;
	}
	memcpy(n->arena + n->used, user, len);
	n->at[n->count++] = n->used;
	n->used += len;
	return 0;
}

static const char *sort_arena; /* qsort's comparison has no argument */

static int by_name(const void *a, const void *b)
{
	return strcmp(sort_arena + *(const size_t *)a, sort_arena + *(const size_t *)b);
}

int cli_walk_sorted(cli_context *ctx, cli_member_filter filter, cli_member_walk *w)
{
	name_list n = {0};
	twofa_member_store *s;
	twofa_error err;
	twofa_status st;
	chunk c;
	int rc;

	if ((rc = cli_members(ctx, &s)) != 0)
		return rc;
	twofa_error_clear(&err);
	st = twofa_member_store_names(s, add_name, &n, &err);
	if (st == TWOFA_OK && n.nomem)
		st = twofa_fail(&err, TWOFA_ENOMEM, "out of memory");
	if (st != TWOFA_OK) {
		free(n.arena);
		free(n.at);
		return cli_fail_status(&err);
	}
	for (size_t k = 0; k < n.count; k++) {
		size_t len = strlen(n.arena + n.at[k]);
		if (len > w->longest)
			w->longest = len;
	}
	sort_arena = n.arena;
	if (n.count > 1)
		qsort(n.at, n.count, sizeof(n.at[0]), by_name);
	rc = chunk_start(&c, w, ctx->config.state_db);
	for (size_t i = 0; rc == 0 && i < n.count; i += CHUNK_ROWS) {
		size_t end = n.count - i < CHUNK_ROWS ? n.count : i + CHUNK_ROWS;

		st = twofa_member_store_batch_begin(s, TWOFA_MEMBER_BATCH_READ, &err);
		for (size_t k = i; st == TWOFA_OK && rc == 0 && k < end; k++) {
			const char *user = n.arena + n.at[k];
			twofa_member m;

			st = twofa_member_store_load(s, user, &m, &err);
			if (st == TWOFA_OK && (filter == NULL || filter(&m, w->arg)))
				rc = chunk_add(&c, &m);
			twofa_member_free(&m);
			if (st == TWOFA_ENOTFOUND) {
				st = TWOFA_OK; /* removed since the names were read */
			} else if (st == TWOFA_ESTORE) {
				chunk_damaged(&c, user, err.msg);
				st = TWOFA_OK;
			}
		}
		if (st != TWOFA_OK) {
			(void)twofa_member_store_batch_end(s, NULL);
			rc = cli_fail_status(&err);
		} else if (twofa_member_store_batch_end(s, &err) != TWOFA_OK) {
			rc = cli_fail_status(&err);
		}
		if (rc == 0)
			rc = chunk_flush(&c);
	}
	chunk_end(&c);
	free(n.arena);
	free(n.at);
	return rc;
}

typedef struct each_walk {
	chunk c;
	int rc;
} each_walk;

static int each_member(const twofa_member *m, void *arg)
{
	each_walk *e = arg;

	e->rc = chunk_add(&e->c, m);
	if (e->rc == 0 && (e->c.rows >= CHUNK_ROWS || ftell(e->c.text) >= CHUNK_BYTES))
		e->rc = chunk_flush(&e->c);
	return e->rc != 0;
}

static int each_bad(const char *key, const char *why, void *arg)
{
	each_walk *e = arg;

	chunk_damaged(&e->c, key, why);
	return 0;
}

int cli_walk_all(cli_context *ctx, cli_member_walk *w)
{
	twofa_member_store *s;
	twofa_error err;
	each_walk e;
	int rc;

	if ((rc = cli_members(ctx, &s)) != 0)
		return rc;
	if ((rc = chunk_start(&e.c, w, ctx->config.state_db)) != 0)
		return rc;
	e.rc = 0;
	twofa_error_clear(&err);
	if (twofa_member_store_each(s, each_member, each_bad, &e, &err) != TWOFA_OK)
		rc = e.rc != 0 ? e.rc : cli_fail_status(&err);
	else
		rc = e.rc != 0 ? e.rc : chunk_flush(&e.c);
	chunk_end(&e.c);
	return rc;
}
