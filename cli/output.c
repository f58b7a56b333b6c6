/* SPDX-License-Identifier: GPL-3.0-or-later */
/* Output helpers: colours, times, masked addresses, the JSON form of a
 * member and the read of every member for list and export. */
#include "twofa_build.h"

#include <stdlib.h>
#include <string.h>

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

json_t *cli_member_json(const twofa_member *m, const cli_login_state *st, time_t now, bool with_export)
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
	put(obj, "last_login", time_value(st->last_login), &ok);
	put(obj, "failures", json_integer(st->failures), &ok);
	/* A lockout that has run out is no lockout. */
	put(obj, "locked_until", time_value(cli_locked_until(st, now)), &ok);
	if (with_export) {
		put(obj, "password_hash",
		    m->password_hash != NULL ? json_string(m->password_hash) : json_null(), &ok);
		put(obj, "v", json_integer(TWOFA_MEMBER_VERSION), &ok);
		if (!twofa_member_put_later_fields(m, obj))
			ok = false;
	}
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

typedef struct collect {
	cli_member_row *rows;
	size_t count, cap;
	size_t damaged;
	bool nomem;
} collect;

static int collect_member(const char *key, const char *value, size_t len, void *arg)
{
	collect *c = arg;
	twofa_member m;
	twofa_error err;

	twofa_error_clear(&err);
	if (twofa_member_decode(value, len, &m, &err) != TWOFA_OK) {
		char shown[TWOFA_USER_NAME_MAX + 1];

		twofa_strlcpy(shown, key, sizeof(shown));
		twofa_sanitize(shown);
		cli_warn("record '%s' is damaged (%s); see 'twofa-enroll db check'", shown, err.msg);
		c->damaged++;
		return 0;
	}
	if (strcmp(m.user, key) != 0) {
		cli_warn("a record is stored under another name than its own; see 'twofa-enroll db check'");
		twofa_member_free(&m);
		c->damaged++;
		return 0;
	}
	if (c->count == c->cap) {
		size_t cap = c->cap ? c->cap * 2 : 64;
		cli_member_row *rows = realloc(c->rows, cap * sizeof(*rows));

		if (rows == NULL) {
			twofa_member_free(&m);
			c->nomem = true;
			return 1;
		}
		c->rows = rows;
		c->cap = cap;
	}
	memset(&c->rows[c->count], 0, sizeof(c->rows[0]));
	c->rows[c->count++].member = m;
	return 0;
}

static int by_user(const void *a, const void *b)
{
	return strcmp(((const cli_member_row *)a)->member.user, ((const cli_member_row *)b)->member.user);
}

/* Fills each row's state from state.db in one shared open. */
static twofa_status read_states(const char *state_db, cli_member_row *rows, size_t count, twofa_error *err)
{
	twofa_store *s = NULL;
	twofa_status st = twofa_store_open(&s, state_db, TWOFA_STORE_READ, TWOFA_STORE_LOCK_TIMEOUT_MS, err);

	if (st == TWOFA_ENOTFOUND)
		return TWOFA_OK; /* no login happened yet */
	if (st != TWOFA_OK)
		return st;
	for (size_t i = 0; i < count && st == TWOFA_OK; i++) {
		char *value = NULL;
		size_t len = 0;
		twofa_error e;

		twofa_error_clear(&e);
		st = twofa_store_get(s, rows[i].member.user, &value, &len, err);
		if (st == TWOFA_ENOTFOUND) {
			st = TWOFA_OK;
			continue;
		}
		if (st == TWOFA_OK) {
			twofa_state_entry entry;
			if (twofa_state_decode(value, len, &entry, &e) == TWOFA_OK)
				cli_login_state_from(&entry, &rows[i].state);
			else
				cli_warn("login state of '%s' is damaged (%s); shown as empty",
					 rows[i].member.user, e.msg);
		}
		free(value);
	}
	if (st == TWOFA_OK)
		return twofa_store_close(s, err);
	(void)twofa_store_close(s, NULL);
	return st;
}

twofa_status cli_members_all(const char *members_db, const char *state_db, cli_member_row **rows,
			     size_t *count, size_t *damaged, twofa_error *err)
{
	collect c = {0};
	twofa_store *s = NULL;
	twofa_status st;

	*rows = NULL;
	*count = 0;
	*damaged = 0;
	st = twofa_store_open(&s, members_db, TWOFA_STORE_READ, TWOFA_STORE_LOCK_TIMEOUT_MS, err);
	if (st == TWOFA_ENOTFOUND)
		return TWOFA_OK; /* nobody enrolled yet */
	if (st != TWOFA_OK)
		return st;
	st = twofa_store_iterate(s, collect_member, &c, err);
	if (st == TWOFA_OK && c.nomem)
		st = twofa_fail(err, TWOFA_ENOMEM, "out of memory");
	if (st == TWOFA_OK)
		st = twofa_store_close(s, err);
	else
		(void)twofa_store_close(s, NULL);
	if (st == TWOFA_OK && c.count > 1)
		qsort(c.rows, c.count, sizeof(c.rows[0]), by_user);
	if (st == TWOFA_OK && state_db != NULL)
		st = read_states(state_db, c.rows, c.count, err);
	if (st != TWOFA_OK) {
		cli_members_free(c.rows, c.count);
		return st;
	}
	*rows = c.rows;
	*count = c.count;
	*damaged = c.damaged;
	return TWOFA_OK;
}

int cli_load_members(cli_context *ctx, cli_member_row **rows, size_t *count, size_t *damaged)
{
	twofa_error err;
	int rc = cli_load_config(ctx);

	if (rc != 0)
		return rc;
	twofa_error_clear(&err);
	if (cli_members_all(ctx->config.members_db, ctx->config.state_db, rows, count, damaged, &err) !=
	    TWOFA_OK)
		return cli_fail_status(&err);
	return 0;
}

void cli_members_free(cli_member_row *rows, size_t count)
{
	for (size_t i = 0; i < count; i++)
		twofa_member_free(&rows[i].member);
	free(rows);
}
