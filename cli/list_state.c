/* SPDX-License-Identifier: GPL-3.0-or-later */
/* list's login states: one walk of state.db into a table sorted by name,
 * instead of a lookup per member (numbered names share GDBM hash values, so
 * a lookup that finds nothing still reads other entries). list asks for the
 * states in name order, so a cursor moves through the table once, reading
 * memory in order (a hash table's lookups missed the cache three times
 * each). Only what list shows is kept: the failures, the latest lockout,
 * the last login and the unlock the entry has honoured. */
#include "twofa_build.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <sodium.h>

#include "cli.h"
#include "store.h"
#include "util.h"

typedef struct state_row {
	size_t name; /* in the arena */
	size_t why;  /* damaged: the reason, in the arena */
	bool damaged;
	cli_login_state st;
	time_t honoured; /* the admin unlock the entry has taken in */
} state_row;

struct cli_state_table {
	char *arena; /* names (and reasons), each with its NUL */
	size_t used, size;
	state_row *rows;
	size_t count, cap;
	size_t next; /* the cursor: the first row whose name is not below the last asked for */
	int rc;
};

/* Copies s into the arena: its offset, or SIZE_MAX out of memory. */
static size_t keep(cli_state_table *t, const char *s)
{
	size_t len = strlen(s) + 1, at;

	if (t->used + len > t->size) {
		size_t size = t->size ? t->size * 2 : 65536;
		char *arena;

		while (size < t->used + len)
			size *= 2;
		if ((arena = realloc(t->arena, size)) == NULL)
			return SIZE_MAX;
		t->arena = arena;
		t->size = size;
	}
	at = t->used;
	memcpy(t->arena + at, s, len);
	t->used += len;
	return at;
}

static int state_of(const char *key, const char *value, size_t len, void *arg)
{
	cli_state_table *t = arg;
	twofa_state_entry entry;
	twofa_error e;
	state_row *r;

	/* Other keys (unknown names' counters, the store's secret) are no
	 * member's. */
	if (!twofa_user_name_valid(key))
		return 0;
	if (t->count == t->cap) {
		size_t cap = t->cap ? t->cap * 2 : 4096;
		state_row *rows = cap < UINT32_MAX ? realloc(t->rows, cap * sizeof(*rows)) : NULL;

		if (rows == NULL)
			goto oom;
		t->rows = rows;
		t->cap = cap;
	}
	r = &t->rows[t->count];
	memset(r, 0, sizeof(*r));
	if ((r->name = keep(t, key)) == SIZE_MAX)
		goto oom;
	twofa_error_clear(&e);
	if (twofa_state_decode(value, len, &entry, &e) == TWOFA_OK) {
		cli_login_state_from(&entry, &r->st);
		r->honoured = entry.unlock_honoured;
	} else if ((r->why = keep(t, e.msg)) == SIZE_MAX) {
		sodium_memzero(&entry, sizeof(entry));
		goto oom;
	} else {
		r->damaged = true;
	}
	sodium_memzero(&entry, sizeof(entry));
	t->count++;
	return 0;
oom:
	t->rc = cli_fail(1, "out of memory");
	return 1;
}

static int by_name(const void *a, const void *b, void *arena)
{
	return strcmp((const char *)arena + ((const state_row *)a)->name,
		      (const char *)arena + ((const state_row *)b)->name);
}

void cli_state_table_free(cli_state_table *t)
{
	if (t == NULL)
		return;
	free(t->arena);
	free(t->rows);
	free(t);
}

int cli_state_table_load(const char *state_db, cli_state_table **out)
{
	cli_state_table *t = calloc(1, sizeof(*t));
	twofa_store *s = NULL;
	twofa_error err;
	twofa_status st;

	*out = NULL;
	if (t == NULL)
		return cli_fail(1, "out of memory");
	twofa_error_clear(&err);
	/* Held shared for one walk: logins wait for it as long (some 0.1 s
	 * per 100,000 logged-in members here). */
	st = twofa_store_open(&s, state_db, TWOFA_STORE_READ, TWOFA_STORE_LOCK_TIMEOUT_MS, &err);
	if (st == TWOFA_OK) {
		st = twofa_store_iterate_ahead(s, state_of, t, &err);
		st = twofa_store_finish(s, st, &err);
	} else if (st == TWOFA_ENOTFOUND) {
		st = TWOFA_OK; /* no login happened yet */
	}
	if (t->rc == 0 && st != TWOFA_OK)
		t->rc = cli_fail_status(&err);
	if (t->rc == 0 && t->count > 1)
		qsort_r(t->rows, t->count, sizeof(t->rows[0]), by_name, t->arena);
	if (t->rc != 0) {
		int rc = t->rc;

		cli_state_table_free(t);
		return rc;
	}
	*out = t;
	return 0;
}

/* The first row whose name is not below user, from the cursor on when the
 * names come in order, else by a binary search. */
static size_t find_row(const cli_state_table *t, const char *user)
{
	size_t lo = t->next, hi = t->count;

	if (lo > 0 && strcmp(t->arena + t->rows[lo - 1].name, user) >= 0) {
		lo = 0; /* out of order: search the whole table */
	} else {
		/* Every row below the cursor is below user: a few steps on. */
		for (size_t steps = 0; lo < hi && steps < 8; lo++, steps++)
			if (strcmp(t->arena + t->rows[lo].name, user) >= 0)
				return lo;
	}
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (strcmp(t->arena + t->rows[mid].name, user) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

void cli_state_table_get(cli_state_table *t, const char *user, time_t unlocked, cli_login_state *out)
{
	size_t at = find_row(t, user);
	const state_row *r;

	memset(out, 0, sizeof(*out));
	t->next = at;
	if (at == t->count || strcmp(t->arena + t->rows[at].name, user) != 0)
		return;
	r = &t->rows[at];
	t->next = at + 1;
	if (r->damaged) {
		cli_warn("login state of '%s' is damaged (%s); shown as empty", user, t->arena + r->why);
		return;
	}
	*out = r->st;
	/* An unlock this entry has not taken in yet clears it, as this
	 * host's next login will (twofa_state_honour_unlock). */
	if (unlocked > r->honoured) {
		out->failures = 0;
		out->locked_until = 0;
	}
}
