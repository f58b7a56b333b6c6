/* SPDX-License-Identifier: GPL-3.0-or-later */
/* lib/member_cache: what a host keeps of members read from the directory, for
 * when no directory server answers: the age limit, the off switch, a clock
 * set back, forgetting, and entries that must not be trusted. */
#include "twofa_build.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "member_cache.h"
#include "member_fixture.h"
#include "store.h"
#include "tap.h"

#define NOW ((time_t)1800000000)

/* Writes a raw value under key, as a damaged or forged cache would hold it. */
static void put_raw(const char *path, const char *key, const char *value)
{
	twofa_store *s = NULL;
	twofa_error err = {0};

	if (twofa_store_open(&s, path, TWOFA_STORE_WRITE, 1000, &err) != TWOFA_OK ||
	    twofa_store_put(s, key, value, strlen(value), true, &err) != TWOFA_OK)
		diag("put_raw: %s", err.msg);
	(void)twofa_store_close(s, NULL);
}

static char *raw_value(const char *path, const char *key)
{
	twofa_store *s = NULL;
	char *value = NULL;
	size_t len = 0;

	if (twofa_store_open(&s, path, TWOFA_STORE_READ, 1000, NULL) == TWOFA_OK)
		(void)twofa_store_get(s, key, &value, &len, NULL);
	(void)twofa_store_close(s, NULL);
	return value;
}

int main(void)
{
	char top[] = "/tmp/twofa-cache-test-XXXXXX", state[256], path[300], small[8];
	twofa_member m, got;
	twofa_error err = {0};
	time_t at = 0;
	char *before, *after;

	if (mkdtemp(top) == NULL) {
		printf("Bail out! mkdtemp: %s\n", strerror(errno));
		return 1;
	}
	snprintf(state, sizeof(state), "%s/db/state.db", top);
	ok(twofa_member_cache_path(state, path, sizeof(path)) &&
		   strcmp(strrchr(path, '/'), "/member-cache.db") == 0 &&
		   strncmp(path, state, strlen(top) + 3) == 0,
	   "the cache lives beside state.db: %s", path);
	ok(!twofa_member_cache_path("state.db", path, sizeof(path)) &&
		   !twofa_member_cache_path(state, small, sizeof(small)),
	   "a relative state_db or a short buffer gives no path");
	snprintf(path, sizeof(path), "%s/db", top);
	ok(mkdir(path, 0700) == 0, "store directory made");
	snprintf(path, sizeof(path), "%s/db/member-cache.db", top);

	ok(twofa_member_cache_get(path, "alice", 86400, NOW, &got, &at, &err) == TWOFA_ENOTFOUND,
	   "no cache yet: not found (%s)", err.msg);
	member_fixture_fill(&m);
	ok(twofa_member_cache_put(path, &m, NOW, 86400, &err) == TWOFA_OK, "put alice (%s)", err.msg);
	ok(twofa_member_cache_get(path, "alice", 86400, NOW + 60, &got, &at, &err) == TWOFA_OK && at == NOW &&
		   strcmp(got.user, "alice") == 0 && strcmp(got.phone, m.phone) == 0 &&
		   got.password_hash != NULL && strcmp(got.password_hash, m.password_hash) == 0,
	   "get alice a minute later: the same record, read at the put's time (%s)", err.msg);
	twofa_member_free(&got);
	ok(twofa_member_cache_get(path, "alice", 86400, NOW + 86401, &got, &at, &err) == TWOFA_ENOTFOUND,
	   "older than ldap_cache_max_age: not used (%s)", err.msg);
	ok(twofa_member_cache_get(path, "alice", 0, NOW + 1, &got, &at, &err) == TWOFA_ENOTFOUND,
	   "ldap_cache_max_age = 0: the cache is off");
	ok(twofa_member_cache_get(path, "alice", 86400, NOW - 10, &got, &at, &err) == TWOFA_ENOTFOUND,
	   "a read time in the future (clock set back) is not trusted");
	ok(twofa_member_cache_get(path, "bob", 86400, NOW, &got, &at, &err) == TWOFA_ENOTFOUND,
	   "someone never cached: not found");

	before = raw_value(path, "alice");
	ok(twofa_member_cache_put(path, &m, NOW + 100, 86400, &err) == TWOFA_OK, "put the same record again");
	after = raw_value(path, "alice");
	ok(before != NULL && after != NULL && strcmp(before, after) == 0,
	   "an unchanged record read within the hour is not rewritten");
	free(after);
	ok(twofa_member_cache_put(path, &m, NOW + 3700, 86400, &err) == TWOFA_OK, "and again an hour later");
	after = raw_value(path, "alice");
	ok(after != NULL && strncmp(after, "1800003700\n", 11) == 0, "which refreshes the read time");
	free(after);
	free(before);
	ok(twofa_member_cache_put(path, &m, NOW + 3900, 600, &err) == TWOFA_OK,
	   "with max_age 600, 200 s later");
	after = raw_value(path, "alice");
	ok(after != NULL && strncmp(after, "1800003900\n", 11) == 0,
	   "an entry in use is refreshed within a quarter of a short max_age");
	free(after);
	strcpy(m.phone, "+14155550124");
	ok(twofa_member_cache_put(path, &m, NOW + 3901, 86400, &err) == TWOFA_OK &&
		   twofa_member_cache_get(path, "alice", 86400, NOW + 3902, &got, &at, &err) == TWOFA_OK &&
		   strcmp(got.phone, "+14155550124") == 0,
	   "a changed record is written at once");
	twofa_member_free(&got);

	ok(twofa_member_cache_drop(path, "alice", &err) == TWOFA_OK &&
		   twofa_member_cache_get(path, "alice", 86400, NOW + 3902, &got, &at, &err) ==
			   TWOFA_ENOTFOUND,
	   "drop forgets alice");
	ok(twofa_member_cache_drop(path, "alice", &err) == TWOFA_OK, "dropping someone not there is fine");

	put_raw(path, "eve", "1800000000\n{\"not\":\"a member\"}");
	ok(twofa_member_cache_get(path, "eve", 86400, NOW, &got, &at, &err) == TWOFA_ESTORE,
	   "an entry that is not a member: store error, not a login (%s)", err.msg);
	put_raw(path, "eve", "yesterday\n{}");
	ok(twofa_member_cache_get(path, "eve", 86400, NOW, &got, &at, &err) == TWOFA_ESTORE,
	   "an entry with a bad read time: store error");
	put_raw(path, "eve", "no newline at all");
	ok(twofa_member_cache_get(path, "eve", 86400, NOW, &got, &at, &err) == TWOFA_ESTORE,
	   "an entry without a read time: store error");
	ok(twofa_member_cache_put(path, &m, NOW, 86400, &err) == TWOFA_OK, "alice cached again");
	before = raw_value(path, "alice");
	if (before != NULL)
		put_raw(path, "mallory", before);
	free(before);
	ok(twofa_member_cache_get(path, "mallory", 86400, NOW, &got, &at, &err) == TWOFA_ESTORE,
	   "alice's entry copied under another name is refused (%s)", err.msg);
	twofa_member_free(&m);

	snprintf(path, sizeof(path), "rm -rf '%s'", top);
	if (system(path) != 0)
		diag("could not remove %s", top);
	return tap_done();
}
