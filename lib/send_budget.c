/* SPDX-License-Identifier: GPL-3.0-or-later */
/* The country allow-list and the per-host send budget (send_budget.h). */
#include "twofa_build.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "countries.h"
#include "send_budget.h"
#include "store.h"
#include "util.h"

#define BUDGET_KEY "budget"
#define BUDGET_RECORD_MAX 64
/* A window start later than this is no time this code wrote. */
#define BUDGET_TIME_MAX 253402300799LL /* 9999-12-31T23:59:59Z */

/* ---- the values of the two keys ---- */

/* A decimal number in [min, max] of len digits, nothing else. */
static bool parse_number(const char *s, size_t len, long long min, long long max, long long *out)
{
	long long v = 0;

	if (len == 0 || len > 19)
		return false;
	for (size_t i = 0; i < len; i++) {
		if (s[i] < '0' || s[i] > '9')
			return false;
		if (v > (max - (s[i] - '0')) / 10)
			return false;
		v = v * 10 + (s[i] - '0');
	}
	if (v < min || v > max)
		return false;
	*out = v;
	return true;
}

const char *twofa_send_budget_parse(const char *value, long *count, long *seconds)
{
	const char *slash = value == NULL ? NULL : strchr(value, '/');
	long long n, w;

	if (slash == NULL)
		return "must be N/SECONDS, e.g. 200/3600";
	if (!parse_number(value, (size_t)(slash - value), 1, TWOFA_SEND_BUDGET_MAX, &n))
		return "must be N/SECONDS with N from 1 to 1000000";
	if (!parse_number(slash + 1, strlen(slash + 1), TWOFA_SEND_BUDGET_WINDOW_MIN,
			  TWOFA_SEND_BUDGET_WINDOW_MAX, &w))
		return "must be N/SECONDS with SECONDS from 1 to 604800";
	if (count != NULL)
		*count = (long)n;
	if (seconds != NULL)
		*seconds = (long)w;
	return NULL;
}

const char *twofa_countries_parse(const char *value, char **normalised, char bad[8])
{
	static const char separators[] = " \t,";
	char list[TWOFA_COUNTRIES_MAX * 3 + 1];
	size_t used = 0, codes = 0;

	bad[0] = '\0';
	if (normalised != NULL)
		*normalised = NULL;
	for (value += strspn(value, separators); *value != '\0'; value += strspn(value, separators)) {
		size_t len = strcspn(value, separators);
		const twofa_country *c = NULL;
		char word[3];

		if (len == 2) {
			memcpy(word, value, 2);
			word[2] = '\0';
			c = twofa_country_by_code(word);
		}
		if (c == NULL) {
			/* Shown only when it is two printable ASCII characters. */
			if (len == 2 && value[0] > 0x20 && value[0] < 0x7f && value[1] > 0x20 &&
			    value[1] < 0x7f) {
				memcpy(bad, value, 2);
				bad[2] = '\0';
			}
			return "lists an unknown country code";
		}
		value += len;
		bool seen = false;
		for (size_t i = 0; i < used; i += 3)
			if (memcmp(list + i, c->code, 2) == 0)
				seen = true;
		if (seen)
			continue;
		if (++codes > TWOFA_COUNTRIES_MAX)
			return "lists more than 300 countries";
		if (used > 0)
			list[used - 1] = ' ';
		memcpy(list + used, c->code, 2);
		list[used + 2] = '\0';
		used += 3;
	}
	if (codes == 0)
		return "lists no country";
	if (normalised != NULL)
		*normalised = strdup(list);
	return NULL;
}

bool twofa_country_allowed(const twofa_config *cfg, const char *iso2)
{
	const twofa_country *c = twofa_country_by_code(iso2);
	const char *list;

	if (c == NULL || cfg == NULL)
		return false;
	if (cfg->countries == NULL)
		return true;
	/* The stored list is normalised: "GB IE FR". */
	for (list = cfg->countries; list[0] != '\0' && list[1] != '\0'; list += list[2] == ' ' ? 3 : 2)
		if (list[0] == c->code[0] && list[1] == c->code[1])
			return true;
	return false;
}

/* ---- the counter ---- */

twofa_status twofa_send_budget_path(const twofa_config *cfg, char *out, size_t size, twofa_error *err)
{
	const char *slash = cfg->state_db == NULL ? NULL : strrchr(cfg->state_db, '/');
	size_t dir;
	int n;

	if (slash == NULL)
		return twofa_fail(err, TWOFA_ECONFIG, "state_db is not an absolute path");
	dir = (size_t)(slash - cfg->state_db);
	n = snprintf(out, size, "%.*s/%s", (int)dir, cfg->state_db, TWOFA_SEND_BUDGET_FILE);
	if (n < 0 || (size_t)n >= size)
		return twofa_fail(err, TWOFA_ECONFIG, "the directory of state_db is too long");
	return TWOFA_OK;
}

typedef struct budget_record {
	long long start; /* of the current window */
	long long count; /* sends in it */
	bool refused;    /* a refusal was reported in it */
} budget_record;

/* "v1 START COUNT REFUSED": four fields, single spaces, each a decimal. */
static bool decode_record(const char *v, size_t len, budget_record *r)
{
	const char *field[4];
	size_t flen[4], nf = 0, start = 0;
	long long refused;

	for (size_t i = 0; i <= len; i++) {
		if (i < len && v[i] != ' ')
			continue;
		if (nf == 4)
			return false;
		field[nf] = v + start;
		flen[nf++] = i - start;
		start = i + 1;
	}
	if (nf != 4 || flen[0] != 2 || memcmp(field[0], "v1", 2) != 0)
		return false;
	if (!parse_number(field[1], flen[1], 0, BUDGET_TIME_MAX, &r->start) ||
	    !parse_number(field[2], flen[2], 0, TWOFA_SEND_BUDGET_MAX, &r->count) ||
	    !parse_number(field[3], flen[3], 0, 1, &refused))
		return false;
	r->refused = refused == 1;
	return true;
}

twofa_status twofa_send_budget_take_until(const twofa_config *cfg, time_t now, bool *allowed,
					  bool *first_refusal_in_window, time_t *window_ends, twofa_error *err)
{
	char path[4096], record[BUDGET_RECORD_MAX];
	twofa_store *s = NULL;
	budget_record r = {0, 0, false};
	long budget, window;
	char *value = NULL;
	size_t len = 0;
	bool write = true;
	twofa_status st;
	int n;

	*allowed = false;
	*first_refusal_in_window = false;
	if (window_ends != NULL)
		*window_ends = 0;
	if (cfg->send_budget == NULL) {
		*allowed = true;
		return TWOFA_OK;
	}
	if (twofa_send_budget_parse(cfg->send_budget, &budget, &window) != NULL)
		return twofa_fail(err, TWOFA_ECONFIG, "send_budget is not N/SECONDS");
	if ((long long)now < 0 || (long long)now > BUDGET_TIME_MAX)
		return twofa_fail(err, TWOFA_ESYS, "the clock is outside the years 1970..9999");
	st = twofa_send_budget_path(cfg, path, sizeof(path), err);
	if (st != TWOFA_OK)
		return st;
	st = twofa_store_open(&s, path, TWOFA_STORE_WRITE, TWOFA_STORE_LOCK_TIMEOUT_MS, err);
	if (st != TWOFA_OK)
		return st;
	st = twofa_store_get(s, BUDGET_KEY, &value, &len, err);
	if (st == TWOFA_OK && !decode_record(value, len, &r))
		st = twofa_fail(err, TWOFA_ESTORE, "%s: the send budget record is damaged (remove the file)",
				path);
	else if (st == TWOFA_ENOTFOUND)
		st = TWOFA_OK;
	free(value);
	if (st != TWOFA_OK)
		return twofa_store_finish(s, st, err);

	/* A new window when none runs (or the clock went back past its start). */
	if (r.start == 0 || (long long)now < r.start || (long long)now - r.start >= window) {
		r.start = (long long)now;
		r.count = 0;
		r.refused = false;
	}
	if (r.count < budget) {
		r.count++;
		*allowed = true;
	} else {
		*first_refusal_in_window = !r.refused;
		write = !r.refused;
		r.refused = true;
		if (window_ends != NULL)
			*window_ends = (time_t)(r.start + window);
	}
	if (write) {
		n = snprintf(record, sizeof(record), "v1 %lld %lld %d", r.start, r.count, r.refused ? 1 : 0);
		if (n < 0 || (size_t)n >= sizeof(record))
			st = twofa_fail(err, TWOFA_ESYS, "send budget record too long");
		else
			st = twofa_store_put(s, BUDGET_KEY, record, (size_t)n, true, err);
	}
	st = twofa_store_finish(s, st, err);
	if (st != TWOFA_OK) {
		/* Not counted: not sent. */
		*allowed = false;
		*first_refusal_in_window = false;
	}
	return st;
}

twofa_status twofa_send_budget_take(const twofa_config *cfg, time_t now, bool *allowed,
				    bool *first_refusal_in_window, twofa_error *err)
{
	return twofa_send_budget_take_until(cfg, now, allowed, first_refusal_in_window, NULL, err);
}

twofa_status twofa_send_admit(const twofa_config *cfg, const char *iso2, time_t now, twofa_send_verdict *v,
			      twofa_error *err)
{
	bool allowed = false, first = false;
	twofa_status st;

	memset(v, 0, sizeof(*v));
	if (iso2 != NULL && !twofa_country_allowed(cfg, iso2)) {
		v->kind = TWOFA_SEND_COUNTRY_REFUSED;
		return TWOFA_OK;
	}
	v->kind = TWOFA_SEND_OVER_BUDGET;
	if (cfg->send_budget != NULL)
		(void)twofa_send_budget_parse(cfg->send_budget, &v->budget, &v->window);
	st = twofa_send_budget_take_until(cfg, now, &allowed, &first, &v->window_ends, err);
	if (st != TWOFA_OK)
		return st;
	v->first_in_window = first;
	if (allowed)
		v->kind = TWOFA_SEND_ADMIT;
	return TWOFA_OK;
}
