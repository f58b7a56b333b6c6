/* SPDX-License-Identifier: GPL-3.0-or-later */
/* store_writer: a fixture for tests/unit/test_store_crash.py. It writes
 * member records (valid ones, so `twofa-enroll db check` accepts them) through
 * lib/store and says on stdout exactly which of them are synced.
 *
 *   store_writer PATH hold
 *       opens PATH for writing, prints "open crash_tolerance=0|1", stores one
 *       member, syncs, prints "synced", waits for a line on stdin, closes and
 *       prints "closed"
 *   store_writer PATH write FIRST BATCH
 *       opens PATH for writing, prints "open crash_tolerance=0|1", then stores
 *       members m000FIRST, m000FIRST+1, ... syncing after every BATCH of them
 *       and printing "synced N" (all members below N are on disk) after each
 *       sync, until it is killed (or after a million)
 *   store_writer PATH has FIRST END
 *       opens PATH for reading and checks that members FIRST..END-1 are there,
 *       whole; prints "has N of M" and exits 0 only if all are
 *
 * Exit 1 on a store error (message on stderr), 2 on misuse. */
#include "twofa_build.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "member.h"
#include "store.h"

#define MEMBER_LIMIT 1000000L

static int fail(const char *doing, const twofa_error *err)
{
	fprintf(stderr, "store_writer: %s: %s\n", doing, err->msg);
	return 1;
}

/* The record of member number i, as the CLI would store it. */
static char *member_json(long i, char user[16], twofa_error *err)
{
	char hash[] = "$argon2id$v=19$m=8,t=1,p=1$c3RvcmUtd3JpdGVy$ZmFrZSBoYXNoIGZvciBhIGZpeHR1cmU";
	twofa_member m;
	char *json = NULL;

	snprintf(user, 16, "m%07ld", i);
	memset(&m, 0, sizeof(m));
	m.user = user;
	snprintf(m.phone, sizeof(m.phone), "+1415%07ld", i % 10000000L);
	memcpy(m.country, "US", 3);
	m.channel = TWOFA_CHANNEL_SMS;
	m.password_hash = hash;
	m.status = TWOFA_MEMBER_ACTIVE;
	m.created = m.updated = 1767323045; /* 2026-01-02 */
	if (twofa_member_encode(&m, &json, err) != TWOFA_OK)
		return NULL;
	return json;
}

static int put_member(twofa_store *s, long i, twofa_error *err)
{
	char user[16];
	char *json = member_json(i, user, err);
	twofa_status st;

	if (json == NULL)
		return -1;
	st = twofa_store_put(s, user, json, strlen(json), true, err);
	free(json);
	return st == TWOFA_OK ? 0 : -1;
}

static int hold(const char *path)
{
	twofa_store *s = NULL;
	twofa_error err;
	char line[64];

	twofa_error_clear(&err);
	if (twofa_store_open(&s, path, TWOFA_STORE_WRITE, TWOFA_STORE_LOCK_TIMEOUT_MS, &err) != TWOFA_OK)
		return fail("open", &err);
	printf("open crash_tolerance=%d\n", twofa_store_crash_tolerance(s) ? 1 : 0);
	if (put_member(s, 0, &err) != 0 || twofa_store_sync(s, &err) != TWOFA_OK) {
		(void)twofa_store_close(s, NULL);
		return fail("write", &err);
	}
	printf("synced\n");
	fflush(stdout);
	if (fgets(line, sizeof(line), stdin) == NULL)
		line[0] = '\0';
	if (twofa_store_close(s, &err) != TWOFA_OK)
		return fail("close", &err);
	printf("closed\n");
	return 0;
}

static int write_until_killed(const char *path, long first, long batch)
{
	twofa_store *s = NULL;
	twofa_error err;

	twofa_error_clear(&err);
	if (twofa_store_open(&s, path, TWOFA_STORE_WRITE, TWOFA_STORE_LOCK_TIMEOUT_MS, &err) != TWOFA_OK)
		return fail("open", &err);
	printf("open crash_tolerance=%d\n", twofa_store_crash_tolerance(s) ? 1 : 0);
	fflush(stdout);
	for (long i = first; i < first + MEMBER_LIMIT; i++) {
		if (put_member(s, i, &err) != 0) {
			(void)twofa_store_close(s, NULL);
			return fail("write", &err);
		}
		if ((i + 1 - first) % batch == 0) {
			if (twofa_store_sync(s, &err) != TWOFA_OK) {
				(void)twofa_store_close(s, NULL);
				return fail("sync", &err);
			}
			printf("synced %ld\n", i + 1);
			fflush(stdout);
		}
	}
	if (twofa_store_close(s, &err) != TWOFA_OK)
		return fail("close", &err);
	return 0;
}

static int has(const char *path, long first, long end)
{
	twofa_store *s = NULL;
	twofa_error err;
	long found = 0;

	twofa_error_clear(&err);
	if (twofa_store_open(&s, path, TWOFA_STORE_READ, TWOFA_STORE_LOCK_TIMEOUT_MS, &err) != TWOFA_OK)
		return fail("open", &err);
	for (long i = first; i < end; i++) {
		char user[16];
		char *want = member_json(i, user, &err), *got = NULL;
		size_t len = 0;

		if (want == NULL) {
			(void)twofa_store_close(s, NULL);
			return fail("encode", &err);
		}
		if (twofa_store_get(s, user, &got, &len, &err) == TWOFA_OK && len == strlen(want) &&
		    memcmp(got, want, len) == 0)
			found++;
		else
			fprintf(stderr, "store_writer: %s is missing or not whole\n", user);
		free(want);
		free(got);
	}
	(void)twofa_store_close(s, NULL);
	printf("has %ld of %ld\n", found, end - first);
	return found == end - first ? 0 : 1;
}

static long number(const char *text)
{
	char *end = NULL;
	long n = strtol(text, &end, 10);

	return end != text && *end == '\0' && n >= 0 && n < MEMBER_LIMIT * 10 ? n : -1;
}

int main(int argc, char **argv)
{
	if (argc == 3 && strcmp(argv[2], "hold") == 0)
		return hold(argv[1]);
	if (argc == 5 && strcmp(argv[2], "write") == 0 && number(argv[3]) >= 0 && number(argv[4]) > 0)
		return write_until_killed(argv[1], number(argv[3]), number(argv[4]));
	if (argc == 5 && strcmp(argv[2], "has") == 0 && number(argv[3]) >= 0 &&
	    number(argv[4]) >= number(argv[3]))
		return has(argv[1], number(argv[3]), number(argv[4]));
	fprintf(stderr, "usage: store_writer PATH hold | write FIRST BATCH | has FIRST END\n");
	return 2;
}
