/* SPDX-License-Identifier: GPL-3.0-or-later */
#include "twofa_build.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "member_cache.h"
#include "store.h"
#include "util.h"

#define CACHE_NAME "member-cache.db"
#define READ_AT_MAX 20       /* digits of the read time */
#define REFRESH_SECONDS 3600 /* an unchanged record is rewritten at most this often */

bool twofa_member_cache_path(const char *state_db, char *out, size_t size)
{
	const char *slash = state_db != NULL ? strrchr(state_db, '/') : NULL;
	int n;

	if (slash == NULL || size == 0)
		return false;
	n = snprintf(out, size, "%.*s/%s", (int)(slash - state_db), state_db, CACHE_NAME);
	return n > 0 && (size_t)n < size;
}

static void wipe_free(char *p, size_t len)
{
	if (p != NULL) {
		sodium_memzero(p, len);
		free(p);
	}
}

/* Splits a cached value into its read time and the member JSON after it. */
static twofa_status parse_value(const char *value, size_t len, time_t *read_at, const char **json,
				size_t *json_len, twofa_error *err)
{
	const char *nl = memchr(value, '\n', len < READ_AT_MAX + 1 ? len : READ_AT_MAX + 1);
	char digits[READ_AT_MAX + 1];
	long long at = 0;
	char *end = NULL;

	if (nl == NULL || nl == value)
		return twofa_fail(err, TWOFA_ESTORE, "member cache: an entry without its read time");
	memcpy(digits, value, (size_t)(nl - value));
	digits[nl - value] = '\0';
	errno = 0;
	at = strtoll(digits, &end, 10);
	if (errno != 0 || *end != '\0' || at <= 0 || digits[0] == '+' || digits[0] == '-')
		return twofa_fail(err, TWOFA_ESTORE, "member cache: an entry with a bad read time");
	*read_at = (time_t)at;
	*json = nl + 1;
	*json_len = len - (size_t)(nl + 1 - value);
	return TWOFA_OK;
}

static twofa_status encode_value(const twofa_member *m, time_t now, char **out, size_t *out_len,
				 twofa_error *err)
{
	char *json = NULL, *value;
	size_t need;
	int head;
	twofa_status st = twofa_member_encode(m, &json, err);

	if (st != TWOFA_OK)
		return st;
	need = strlen(json) + READ_AT_MAX + 2;
	value = malloc(need);
	if (value == NULL) {
		twofa_free_secret(json);
		return twofa_fail(err, TWOFA_ENOMEM, "out of memory");
	}
	head = snprintf(value, need, "%" PRIdMAX "\n%s", (intmax_t)now, json);
	twofa_free_secret(json);
	if (head < 0 || (size_t)head >= need) {
		wipe_free(value, need);
		return twofa_fail(err, TWOFA_ESTORE, "member cache: entry does not fit");
	}
	*out = value;
	*out_len = (size_t)head;
	return TWOFA_OK;
}

/* True when the stored value holds the same record as fresh, read recently. */
static bool still_fresh(const char *stored, size_t stored_len, const char *fresh, size_t fresh_len,
			time_t now, long max_age)
{
	const char *a, *b;
	size_t a_len, b_len;
	time_t at_a, at_b;

	if (parse_value(stored, stored_len, &at_a, &a, &a_len, NULL) != TWOFA_OK ||
	    parse_value(fresh, fresh_len, &at_b, &b, &b_len, NULL) != TWOFA_OK)
		return false;
	return a_len == b_len && memcmp(a, b, a_len) == 0 && at_a <= now && now - at_a < REFRESH_SECONDS &&
	       now - at_a < max_age / 4;
}

twofa_status twofa_member_cache_put(const char *path, const twofa_member *m, time_t now, long max_age,
				    twofa_error *err)
{
	twofa_store *s = NULL;
	char *value = NULL, *stored = NULL;
	size_t len = 0, stored_len = 0;
	twofa_status st = encode_value(m, now, &value, &len, err);

	if (st != TWOFA_OK)
		return st;
	st = twofa_store_open(&s, path, TWOFA_STORE_WRITE, TWOFA_STORE_LOCK_TIMEOUT_MS, err);
	if (st == TWOFA_OK) {
		twofa_status got = twofa_store_get(s, m->user, &stored, &stored_len, NULL);
		if (got != TWOFA_OK || !still_fresh(stored, stored_len, value, len, now, max_age))
			st = twofa_store_put(s, m->user, value, len, true, err);
		if (st == TWOFA_OK)
			st = twofa_store_close(s, err);
		else
			(void)twofa_store_close(s, NULL);
	}
	wipe_free(stored, stored_len);
	wipe_free(value, len);
	return st;
}

twofa_status twofa_member_cache_drop(const char *path, const char *user, twofa_error *err)
{
	return twofa_store_delete_if_present(path, user, err);
}

twofa_status twofa_member_cache_get(const char *path, const char *user, long max_age, time_t now,
				    twofa_member *m, time_t *read_at, twofa_error *err)
{
	twofa_store *s = NULL;
	char *value = NULL;
	size_t len = 0, json_len = 0;
	const char *json = NULL;
	twofa_status st;

	memset(m, 0, sizeof(*m));
	*read_at = 0;
	if (max_age <= 0)
		return twofa_fail(err, TWOFA_ENOTFOUND, "the member cache is off (ldap_cache_max_age = 0)");
	st = twofa_store_open(&s, path, TWOFA_STORE_READ, TWOFA_STORE_LOCK_TIMEOUT_MS, err);
	if (st == TWOFA_ENOTFOUND)
		return twofa_fail(err, TWOFA_ENOTFOUND, "no member cache on this host");
	if (st != TWOFA_OK)
		return st;
	st = twofa_store_get(s, user, &value, &len, err);
	if (st == TWOFA_OK)
		st = twofa_store_close(s, err);
	else
		(void)twofa_store_close(s, NULL);
	if (st == TWOFA_ENOTFOUND)
		return twofa_fail(err, TWOFA_ENOTFOUND, "member not in this host's cache");
	if (st == TWOFA_OK)
		st = parse_value(value, len, read_at, &json, &json_len, err);
	/* A read time in the future counts as too old: a clock set back must
	 * not make an entry live forever. */
	if (st == TWOFA_OK && (*read_at > now || now - *read_at > max_age))
		st = twofa_fail(err, TWOFA_ENOTFOUND,
				"cached member is older than ldap_cache_max_age (%ld s)", max_age);
	if (st == TWOFA_OK) {
		st = twofa_member_decode(json, json_len, m, err);
		if (st == TWOFA_OK && strcmp(m->user, user) != 0)
			st = twofa_fail(err, TWOFA_ESTORE,
					"member cache: an entry under one name holds another");
		if (st != TWOFA_OK && st != TWOFA_ENOMEM && st != TWOFA_ENOTFOUND)
			st = TWOFA_ESTORE;
		if (st != TWOFA_OK)
			twofa_member_free(m);
	}
	wipe_free(value, len);
	return st;
}
