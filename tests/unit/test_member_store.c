/* SPDX-License-Identifier: GPL-3.0-or-later */
/* The member-store interface over GDBM: versions, read-modify-write, the
 * missing store for a login and for twofa-enroll, walks, batches, and the
 * LDAP store refused by a build without it. Runs as root (the store's files
 * must be root's). */
#include "twofa_build.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "member_store.h"
#include "onetime_code.h"
#include "util.h"
#include "store.h"
#include "tap.h"

#define HASH \
	"$argon2id$v=19$m=65536,t=2,p=1$c29tZXNhbHRzb21lc2FsdA$7sE7Z1k9u9Z0ZK9oHq4Yb1qg4Rj9Y3K2cM2w1e0a2Hc"

static char top[64];
static char db[128];
/* Whether lib/member.c's record carries "version" (the member-model change
 * adds it): until it does, every stored version reads back as 0. */
static bool codec_versions;

/* The version a load should see after the store was given v. */
static unsigned long long expect(unsigned long long v)
{
	return codec_versions ? v : 0;
}

static void probe_codec(void)
{
	twofa_member m, back;
	char user[] = "probe";
	char *json = NULL;

	memset(&m, 0, sizeof(m));
	m.user = user;
	strcpy(m.phone, "+447700900123");
	strcpy(m.country, "GB");
	m.password_hash = (char *)HASH;
	m.created = m.updated = 1767225600;
	m.version = 5;
	if (twofa_member_encode(&m, &json, NULL) == TWOFA_OK &&
	    twofa_member_decode(json, strlen(json), &back, NULL) == TWOFA_OK) {
		codec_versions = back.version == 5;
		twofa_member_free(&back);
	}
	twofa_free_secret(json);
	if (!codec_versions)
		diag("lib/member.c does not store \"version\" yet: versions read back as 0");
}

static void fill(twofa_member *m, char *user)
{
	memset(m, 0, sizeof(*m));
	m->user = user;
	strcpy(m->phone, "+447700900123");
	strcpy(m->country, "GB");
	m->channel = TWOFA_CHANNEL_SMS;
	m->password_hash = (char *)HASH;
	m->status = TWOFA_MEMBER_ACTIVE;
	m->created = m->updated = 1767225600; /* 2026-01-01 */
}

static unsigned long long stored_version(twofa_member_store *s, const char *user)
{
	twofa_member m;
	unsigned long long v = ~0ULL; /* matches no expectation */

	if (twofa_member_store_load(s, user, &m, NULL) == TWOFA_OK)
		v = m.version;
	twofa_member_free(&m);
	return v;
}

static twofa_status disable(twofa_member *m, void *arg, twofa_error *err)
{
	(void)arg;
	(void)err;
	if (m->status == TWOFA_MEMBER_DISABLED)
		return TWOFA_EEXIST;
	m->status = TWOFA_MEMBER_DISABLED;
	return TWOFA_OK;
}

static twofa_status rename_member(twofa_member *m, void *arg, twofa_error *err)
{
	(void)err;
	free(m->user);
	m->user = strdup(arg);
	return m->user != NULL ? TWOFA_OK : TWOFA_ENOMEM;
}

static twofa_status break_phone(twofa_member *m, void *arg, twofa_error *err)
{
	(void)arg;
	(void)err;
	strcpy(m->phone, "12");
	return TWOFA_OK;
}

static int count_name(const char *user, void *arg)
{
	(void)user;
	(*(size_t *)arg)++;
	return 0;
}

typedef struct walked {
	size_t good, bad;
} walked;

static int count_good(const twofa_member *m, void *arg)
{
	(void)m;
	((walked *)arg)->good++;
	return 0;
}

static int count_bad(const char *key, const char *why, void *arg)
{
	(void)key;
	(void)why;
	((walked *)arg)->bad++;
	return 0;
}

static void test_missing(twofa_config *cfg)
{
	twofa_member_store *login = NULL, *admin = NULL;
	twofa_member m;
	twofa_error err = {TWOFA_OK, ""};
	size_t n = 99;

	ok(twofa_member_store_open(&login, cfg, TWOFA_MEMBER_STORE_LOGIN, &err) == TWOFA_OK &&
		   twofa_member_store_open(&admin, cfg, TWOFA_MEMBER_STORE_ADMIN, &err) == TWOFA_OK,
	   "open makes no file: handles for a login and for twofa-enroll");
	ok(access(db, F_OK) != 0, "opening created nothing");
	ok(strstr(twofa_member_store_describe(login), db) != NULL, "describe names members.db: %s",
	   twofa_member_store_describe(login));
	ok(twofa_member_store_load(login, "alice", &m, &err) == TWOFA_ESTORE,
	   "a login fails closed on a missing members.db: %s", err.msg);
	ok(twofa_member_store_count(login, &n, &err) == TWOFA_ESTORE, "and so does a count");
	ok(twofa_member_store_load(admin, "alice", &m, &err) == TWOFA_ENOTFOUND,
	   "twofa-enroll: nobody is enrolled yet: %s", err.msg);
	ok(twofa_member_store_count(admin, &n, &err) == TWOFA_OK && n == 0, "count 0");
	ok(twofa_member_store_update(admin, "alice", disable, NULL, &err) == TWOFA_ENOTFOUND &&
		   twofa_member_store_remove(admin, "alice", &err) == TWOFA_ENOTFOUND,
	   "update and remove: not enrolled");
	ok(twofa_member_store_batch_begin(admin, TWOFA_MEMBER_BATCH_READ, &err) == TWOFA_OK &&
		   twofa_member_store_load(admin, "alice", &m, &err) == TWOFA_ENOTFOUND &&
		   twofa_member_store_batch_end(admin, &err) == TWOFA_OK,
	   "a read batch of a store not created yet: not enrolled");
	ok(access(db, F_OK) != 0, "and none of it created members.db");
	twofa_member_store_close(login);
	twofa_member_store_close(admin);
}

static void test_versions(twofa_config *cfg)
{
	twofa_member_store *s = NULL;
	twofa_member m, got;
	twofa_error err = {TWOFA_OK, ""};
	char alice[] = "alice", bob[] = "bob";
	size_t n = 0;
	walked w = {0, 0};

	ok(twofa_member_store_open(&s, cfg, TWOFA_MEMBER_STORE_ADMIN, &err) == TWOFA_OK, "open");
	fill(&m, alice);
	m.version = 7;
	ok(twofa_member_store_put(s, &m, TWOFA_MEMBER_PUT_ADD, &err) == TWOFA_OK, "add alice: %s", err.msg);
	ok(stored_version(s, "alice") == expect(1), "add stores version 1 (not the caller's 7)");
	ok(twofa_member_store_put(s, &m, TWOFA_MEMBER_PUT_ADD, &err) == TWOFA_EEXIST,
	   "add again: already enrolled");
	ok(twofa_member_store_update(s, "alice", disable, NULL, &err) == TWOFA_OK &&
		   stored_version(s, "alice") == expect(2),
	   "update stores version + 1");
	ok(twofa_member_store_update(s, "alice", disable, NULL, &err) == TWOFA_OK &&
		   stored_version(s, "alice") == expect(2),
	   "a change that leaves the record as it is stores nothing");
	ok(twofa_member_store_update(s, "alice", rename_member, "mallory", &err) == TWOFA_EINVAL &&
		   twofa_member_store_load(s, "mallory", &got, NULL) == TWOFA_ENOTFOUND,
	   "a change may not rename the member: %s", err.msg);
	ok(twofa_member_store_update(s, "alice", break_phone, NULL, &err) == TWOFA_EINVAL &&
		   stored_version(s, "alice") == expect(2),
	   "a change that breaks the record is refused and nothing stored");
	fill(&m, alice);
	m.version = 41;
	ok(twofa_member_store_put(s, &m, TWOFA_MEMBER_PUT_REPLACE, &err) == TWOFA_OK &&
		   stored_version(s, "alice") == expect(41),
	   "replace stores the version as given");
	ok(twofa_member_store_load(s, "alice", &got, &err) == TWOFA_OK && got.status == TWOFA_MEMBER_ACTIVE,
	   "replace overwrote the whole record");
	twofa_member_free(&got);
	fill(&m, bob);
	strcpy(m.phone, "12");
	ok(twofa_member_store_put(s, &m, TWOFA_MEMBER_PUT_ADD, &err) == TWOFA_EINVAL,
	   "an invalid record is refused");
	ok(twofa_member_store_load(s, "a/b", &got, &err) == TWOFA_ENOTFOUND,
	   "an invalid name is not enrolled");
	fill(&m, bob);
	ok(twofa_member_store_put(s, &m, TWOFA_MEMBER_PUT_ADD, &err) == TWOFA_OK, "add bob");

	/* a record that does not decode, written under the interface's back */
	{
		twofa_store *raw = NULL;

		ok(twofa_store_open(&raw, db, TWOFA_STORE_WRITE, 1000, &err) == TWOFA_OK &&
			   twofa_store_put(raw, "carol", "{\"v\":1}", 7, true, &err) == TWOFA_OK &&
			   twofa_store_put(raw, "dave", "not json", 8, true, &err) == TWOFA_OK &&
			   twofa_store_close(raw, &err) == TWOFA_OK,
		   "two damaged records");
	}
	n = 0;
	ok(twofa_member_store_names(s, count_name, &n, &err) == TWOFA_OK && n == 4, "names: all four keys");
	ok(twofa_member_store_count(s, &n, &err) == TWOFA_OK && n == 4, "count 4");
	ok(twofa_member_store_each(s, count_good, count_bad, &w, &err) == TWOFA_OK && w.good == 2 &&
		   w.bad == 2,
	   "each: two members and two bad records, none skipped silently");
	w.good = w.bad = 0;
	ok(twofa_member_store_each(s, count_good, NULL, &w, &err) == TWOFA_ESTORE,
	   "each without a bad callback fails at a bad record: %s", err.msg);
	ok(twofa_member_store_load(s, "dave", &got, &err) == TWOFA_ESTORE,
	   "load of a bad record: store error");
	ok(twofa_member_store_remove(s, "dave", &err) == TWOFA_OK &&
		   twofa_member_store_remove(s, "dave", &err) == TWOFA_ENOTFOUND,
	   "remove, then not enrolled");

	/* batches */
	ok(twofa_member_store_batch_begin(s, TWOFA_MEMBER_BATCH_READ, &err) == TWOFA_OK, "read batch");
	ok(twofa_member_store_batch_begin(s, TWOFA_MEMBER_BATCH_READ, &err) == TWOFA_EINVAL,
	   "no batch in a batch");
	ok(stored_version(s, "bob") == expect(1), "load in a read batch");
	fill(&m, bob);
	ok(twofa_member_store_put(s, &m, TWOFA_MEMBER_PUT_REPLACE, &err) == TWOFA_EINVAL &&
		   twofa_member_store_remove(s, "bob", &err) == TWOFA_EINVAL,
	   "no write in a read batch");
	{
		twofa_store *raw = NULL;

		ok(twofa_store_open(&raw, db, TWOFA_STORE_WRITE, 0, &err) == TWOFA_EBUSY,
		   "a read batch holds the shared lock: a writer waits");
	}
	ok(twofa_member_store_batch_end(s, &err) == TWOFA_OK, "end the read batch");
	ok(twofa_member_store_batch_end(s, &err) == TWOFA_EINVAL, "end without a batch");
	ok(twofa_member_store_batch_begin(s, TWOFA_MEMBER_BATCH_WRITE, &err) == TWOFA_OK, "write batch");
	{
		twofa_store *raw = NULL;

		ok(twofa_store_open(&raw, db, TWOFA_STORE_READ, 0, &err) == TWOFA_EBUSY,
		   "a write batch holds the exclusive lock: a reader waits");
	}
	m.version = 9;
	ok(twofa_member_store_put(s, &m, TWOFA_MEMBER_PUT_REPLACE, &err) == TWOFA_OK &&
		   twofa_member_store_update(s, "bob", disable, NULL, &err) == TWOFA_OK &&
		   stored_version(s, "bob") == expect(10),
	   "put, update and load inside the write batch");
	ok(twofa_member_store_batch_end(s, &err) == TWOFA_OK, "end the write batch (syncs)");
	twofa_member_store_close(s);
	s = NULL;
	ok(twofa_member_store_open(&s, cfg, TWOFA_MEMBER_STORE_LOGIN, &err) == TWOFA_OK &&
		   stored_version(s, "bob") == expect(10),
	   "a new handle reads what the batch wrote");
	twofa_member_store_close(s);
}

static void test_ldap_refused(twofa_config *cfg)
{
	twofa_member_store *s = NULL;
	twofa_error err = {TWOFA_OK, ""};

	cfg->store = TWOFA_STORE_LDAP;
#ifdef TWOFA_HAVE_LDAP
	ok(1, "this build has the LDAP backend (tested in tests/ldap)");
#else
	ok(twofa_member_store_open(&s, cfg, TWOFA_MEMBER_STORE_LOGIN, &err) == TWOFA_ECONFIG && s == NULL &&
		   strstr(err.msg, "no LDAP backend") != NULL,
	   "store = ldap without the backend: a configuration error: %s", err.msg);
#endif
	cfg->store = TWOFA_STORE_GDBM;
	(void)s;
	(void)err;
}

/* twofa_member_store_consume's checks, the IMPORT put and what a consume
 * leaves (the parallel races: tests/ldap/test_login_writes.py). */
static void test_consume(twofa_config *cfg)
{
	twofa_member_store *s = NULL;
	twofa_member m, got;
	twofa_error err = {TWOFA_OK, ""};
	char erin[] = "erin";
	char codes[3][TWOFA_MEMBER_CODE_HASH_SIZE];

	for (int i = 0; i < 3; i++)
		snprintf(codes[i], sizeof(codes[i]), "b2$%032x$%064x", i + 1, i + 1);
	ok(twofa_member_store_open(&s, cfg, TWOFA_MEMBER_STORE_LOGIN, &err) == TWOFA_OK,
	   "open a login handle");
	fill(&m, erin);
	m.version = 5;
	m.recovery_count = 2;
	strcpy(m.recovery[0], codes[0]);
	strcpy(m.recovery[1], codes[1]);
	strcpy(m.bypass, codes[2]);
	m.bypass_uses = 2;
	m.bypass_expires = 1767229200;
	strcpy(m.bypass_issuer, "root");
	ok(twofa_member_store_put(s, &m, TWOFA_MEMBER_PUT_IMPORT, &err) == TWOFA_OK &&
		   stored_version(s, "erin") == expect(5),
	   "an IMPORT put keeps the record's version: %s", err.msg);
	ok(twofa_member_store_put(s, &m, TWOFA_MEMBER_PUT_IMPORT, &err) == TWOFA_EEXIST,
	   "an IMPORT put onto an enrolled member: already enrolled");
	ok(twofa_member_store_put(s, &m, (twofa_member_put_mode)9, &err) == TWOFA_EINVAL,
	   "an unknown put mode");

	ok(twofa_member_store_consume(s, "erin", TWOFA_MEMBER_CODE_RECOVERY, "b2$short", &err) == TWOFA_EINVAL,
	   "not a code hash: refused before the store");
	ok(twofa_member_store_consume(s, "erin", TWOFA_MEMBER_CODE_RECOVERY, NULL, &err) == TWOFA_EINVAL,
	   "no hash");
	ok(twofa_member_store_consume(s, "erin", (twofa_member_code_kind)7, codes[0], &err) == TWOFA_EINVAL,
	   "an unknown kind of code");
	ok(twofa_member_store_consume(NULL, "erin", TWOFA_MEMBER_CODE_RECOVERY, codes[0], &err) ==
		   TWOFA_EINVAL,
	   "no handle");
	ok(twofa_member_store_consume(s, "a/b", TWOFA_MEMBER_CODE_RECOVERY, codes[0], &err) == TWOFA_ENOTFOUND,
	   "an invalid name: not enrolled");
	ok(twofa_member_store_consume(s, "nobody", TWOFA_MEMBER_CODE_RECOVERY, codes[0], &err) ==
		   TWOFA_ENOTFOUND,
	   "a name not enrolled: not found");

	ok(twofa_member_store_consume(s, "erin", TWOFA_MEMBER_CODE_RECOVERY, codes[1], &err) == TWOFA_OK,
	   "a login consumes a recovery code: %s", err.msg);
	ok(twofa_member_store_load(s, "erin", &got, &err) == TWOFA_OK && got.recovery_count == 1 &&
		   strcmp(got.recovery[0], codes[0]) == 0 && got.version == expect(5) &&
		   got.updated == m.updated,
	   "only that code is gone; version and updated time as they were");
	twofa_member_free(&got);
	ok(twofa_member_store_consume(s, "erin", TWOFA_MEMBER_CODE_RECOVERY, codes[1], &err) ==
		   TWOFA_ECONFLICT,
	   "the same code again: a conflict: %s", err.msg);
	ok(twofa_member_store_consume(s, "erin", TWOFA_MEMBER_CODE_BYPASS, codes[0], &err) == TWOFA_ECONFLICT,
	   "a recovery hash is not the bypass code");
	ok(twofa_member_store_consume(s, "erin", TWOFA_MEMBER_CODE_BYPASS, codes[2], &err) == TWOFA_OK &&
		   twofa_member_store_load(s, "erin", &got, &err) == TWOFA_OK && got.bypass_uses == 1 &&
		   strcmp(got.bypass_issuer, "root") == 0,
	   "a bypass use consumed: one left, the issuer kept");
	twofa_member_free(&got);
	ok(twofa_member_store_consume(s, "erin", TWOFA_MEMBER_CODE_BYPASS, codes[2], &err) == TWOFA_OK &&
		   twofa_member_store_load(s, "erin", &got, &err) == TWOFA_OK && got.bypass[0] == '\0' &&
		   got.bypass_uses == 0 && got.bypass_expires == 0 && got.bypass_issuer[0] == '\0',
	   "the last use: the bypass code is gone");
	twofa_member_free(&got);
	ok(twofa_member_store_consume(s, "erin", TWOFA_MEMBER_CODE_BYPASS, codes[2], &err) == TWOFA_ECONFLICT,
	   "and a use beyond it is a conflict");
	ok(twofa_member_store_batch_begin(s, TWOFA_MEMBER_BATCH_READ, &err) == TWOFA_OK &&
		   twofa_member_store_consume(s, "erin", TWOFA_MEMBER_CODE_RECOVERY, codes[0], &err) ==
			   TWOFA_EINVAL &&
		   twofa_member_store_batch_end(s, &err) == TWOFA_OK,
	   "no consume inside a read batch");
	twofa_member_store_close(s);
}

/* A member of the enrolment: active, no twofa password. */
static void fill_enrolled(twofa_member *m, char *user)
{
	fill(m, user);
	strcpy(m->phone, "+447700900456"); /* the other tests' members have another */
	m->password_hash = NULL;
}

/* An invited record for user with a new code, expiring at expires. */
static void put_invite(twofa_member_store *s, char *user, time_t expires, char code[TWOFA_ONETIME_TEXT_SIZE])
{
	twofa_member m;
	twofa_error err = {TWOFA_OK, ""};

	memset(&m, 0, sizeof(m));
	m.user = user;
	m.channel = TWOFA_CHANNEL_SMS;
	m.status = TWOFA_MEMBER_INVITED;
	m.created = m.updated = 1767225600;
	m.invite_expires = expires;
	m.version = 1;
	if (twofa_onetime_generate(code, &err) != TWOFA_OK ||
	    twofa_onetime_hash(user, TWOFA_MEMBER_CODE_INVITE, code, m.invite, &err) != TWOFA_OK ||
	    twofa_member_store_put(s, &m, TWOFA_MEMBER_PUT_REPLACE, &err) != TWOFA_OK)
		diag("cannot store the invite of %s: %s", user, err.msg);
}

/* Two processes enrol user at once: the statuses each got. */
static void race(twofa_config *cfg, char *user, const char *code, twofa_status got[2])
{
	pid_t pids[2];

	for (int i = 0; i < 2; i++) {
		pids[i] = fork();
		if (pids[i] == 0) {
			twofa_member_store *s = NULL;
			twofa_member m;
			twofa_status st;

			fill_enrolled(&m, user);
			st = twofa_member_store_open(&s, cfg, TWOFA_MEMBER_STORE_LOGIN, NULL);
			if (st == TWOFA_OK)
				st = twofa_member_store_enrol(s, &m, code, time(NULL), NULL);
			twofa_member_store_close(s);
			_exit((int)st);
		}
	}
	for (int i = 0; i < 2; i++) {
		int ws = 0;

		got[i] = pids[i] > 0 && waitpid(pids[i], &ws, 0) == pids[i] && WIFEXITED(ws)
				 ? (twofa_status)WEXITSTATUS(ws)
				 : TWOFA_ESYS;
	}
}

static bool one_won(const twofa_status got[2], twofa_status loser)
{
	return (got[0] == TWOFA_OK && got[1] == loser) || (got[1] == TWOFA_OK && got[0] == loser);
}

static void test_enrol(twofa_config *cfg)
{
	twofa_member_store *s = NULL, *admin = NULL;
	twofa_member m, got;
	twofa_error err = {TWOFA_OK, ""};
	char frank[] = "frank", gina[] = "gina", hal[] = "hal", ivy[] = "ivy", jo[] = "jo", kim[] = "kim";
	char code[TWOFA_ONETIME_TEXT_SIZE], other[TWOFA_ONETIME_TEXT_SIZE];
	time_t now = time(NULL);
	twofa_status raced[2], st;
	size_t n = 99;

	ok(twofa_member_store_open(&s, cfg, TWOFA_MEMBER_STORE_LOGIN, &err) == TWOFA_OK &&
		   twofa_member_store_open(&admin, cfg, TWOFA_MEMBER_STORE_ADMIN, &err) == TWOFA_OK,
	   "open a login and an admin handle");
	/* self mode */
	fill_enrolled(&m, frank);
	m.version = 9;
	ok(twofa_member_store_enrol(s, &m, NULL, now, &err) == TWOFA_OK, "self: frank enrols: %s", err.msg);
	ok(twofa_member_store_load(s, "frank", &got, &err) == TWOFA_OK && got.status == TWOFA_MEMBER_ACTIVE &&
		   got.password_hash == NULL && got.version == expect(1),
	   "stored active, no password hash, version 1");
	twofa_member_free(&got);
	ok(twofa_member_store_enrol(s, &m, NULL, now, &err) == TWOFA_EEXIST,
	   "self: again: already enrolled: %s", err.msg);
	fill(&m, gina);
	ok(twofa_member_store_enrol(s, &m, NULL, now, &err) == TWOFA_EINVAL,
	   "a member with a password hash: refused");
	fill_enrolled(&m, gina);
	m.status = TWOFA_MEMBER_DISABLED;
	ok(twofa_member_store_enrol(s, &m, NULL, now, &err) == TWOFA_EINVAL, "a disabled member: refused");
	fill_enrolled(&m, gina);
	strcpy(m.phone, "12");
	ok(twofa_member_store_enrol(s, &m, NULL, now, &err) == TWOFA_EINVAL, "an invalid member: refused");
	ok(twofa_member_store_enrol(NULL, &m, NULL, now, &err) == TWOFA_EINVAL &&
		   twofa_member_store_enrol(s, NULL, NULL, now, &err) == TWOFA_EINVAL,
	   "no handle, no member");
	ok(twofa_member_store_load(s, "gina", &got, &err) == TWOFA_ENOTFOUND, "none of them stored");

	/* invite mode */
	put_invite(admin, gina, now + 3600, code);
	fill_enrolled(&m, gina);
	ok(twofa_member_store_enrol(s, &m, NULL, now, &err) == TWOFA_EEXIST,
	   "self mode over an invited record: refused: %s", err.msg);
	ok(twofa_onetime_generate(other, &err) == TWOFA_OK &&
		   twofa_member_store_enrol(s, &m, other, now, &err) == TWOFA_EPERM,
	   "a wrong invite: refused: %s", err.msg);
	ok(twofa_member_store_enrol(s, &m, "not a code", now, &err) == TWOFA_EPERM, "not a code: refused");
	ok(twofa_member_store_enrol(s, &m, code, now + 3600, &err) == TWOFA_EPERM,
	   "an expired invite: refused");
	ok(twofa_member_store_load(s, "gina", &got, &err) == TWOFA_OK && got.status == TWOFA_MEMBER_INVITED &&
		   got.invite[0] != '\0',
	   "the invited record is as it was");
	twofa_member_free(&got);
	m.status = TWOFA_MEMBER_PENDING;
	ok(twofa_member_store_enrol(s, &m, code, now, &err) == TWOFA_OK, "the right invite: enrolled: %s",
	   err.msg);
	ok(twofa_member_store_load(s, "gina", &got, &err) == TWOFA_OK && got.status == TWOFA_MEMBER_PENDING &&
		   got.invite[0] == '\0' && got.invite_expires == 0 &&
		   strcmp(got.phone, "+447700900456") == 0 && got.version == expect(2),
	   "stored pending over the invite, the invite gone, version 2");
	twofa_member_free(&got);
	ok(twofa_member_store_enrol(s, &m, code, now, &err) == TWOFA_EEXIST,
	   "the invite again: the member is enrolled: %s", err.msg);
	fill_enrolled(&m, hal);
	ok(twofa_member_store_enrol(s, &m, code, now, &err) == TWOFA_EPERM,
	   "an invite for a user without a record: refused");
	put_invite(admin, hal, now + 3600, other);
	ok(twofa_member_store_enrol(s, &m, code, now, &err) == TWOFA_EPERM,
	   "gina's invite on hal's record: refused (the hash names the user)");

	/* races */
	race(cfg, ivy, NULL, raced);
	ok(one_won(raced, TWOFA_EEXIST),
	   "self: two enrolments of ivy at once: one wins, one already enrolled (%d %d)", (int)raced[0],
	   (int)raced[1]);
	put_invite(admin, jo, now + 3600, code);
	race(cfg, jo, code, raced);
	ok(one_won(raced, TWOFA_EEXIST) || one_won(raced, TWOFA_EPERM),
	   "invite: two enrolments of jo with one invite: exactly one wins (%d %d)", (int)raced[0],
	   (int)raced[1]);

	/* phone_users: frank, ivy, jo and gina hold +447700900456; hal is invited. */
	st = twofa_member_store_phone_users(s, "+447700900456", NULL, &n, &err);
	ok(st == TWOFA_OK && n == 4, "four members have the number: %zu (%s)", n, err.msg);
	ok(twofa_member_store_phone_users(s, "+447700900456", "frank", &n, &err) == TWOFA_OK && n == 3,
	   "three besides frank");
	ok(twofa_member_store_phone_users(s, "+447700900999", NULL, &n, &err) == TWOFA_OK && n == 0,
	   "none have another");
	ok(twofa_member_store_phone_users(s, "0044", NULL, &n, &err) == TWOFA_EINVAL &&
		   twofa_member_store_phone_users(s, "+447700900456", NULL, NULL, &err) == TWOFA_EINVAL,
	   "not E.164, no count: refused");
	ok(twofa_member_store_phone_users(s, "+447700900456", "a/b", &n, &err) == TWOFA_OK && n == 4,
	   "an invalid name to except excepts nobody");
	/* The walk skips records without the number's digits undecoded: one
	 * that spells a digit as a \u escape (twofa never writes one) counts. */
	{
		twofa_store *raw = NULL;
		char lena[] = "lena", escaped[4096], *json = NULL, *at = NULL;

		fill_enrolled(&m, lena);
		if (twofa_member_encode(&m, &json, &err) == TWOFA_OK)
			at = strstr(json, "+447700900456");
		ok(at != NULL &&
			   snprintf(escaped, sizeof(escaped), "%.*s+44770090045\\u0036%s", (int)(at - json),
				    json, at + strlen("+447700900456")) < (int)sizeof(escaped) &&
			   twofa_store_open(&raw, cfg->members_db, TWOFA_STORE_WRITE, 1000, &err) == TWOFA_OK &&
			   twofa_store_put(raw, lena, escaped, strlen(escaped), true, &err) == TWOFA_OK &&
			   twofa_store_close(raw, &err) == TWOFA_OK,
		   "lena's record, a digit of her number escaped");
		twofa_free_secret(json);
		st = twofa_member_store_phone_users(s, "+447700900456", NULL, &n, &err);
		ok(st == TWOFA_OK && n == 5, "an escaped digit is still the number: five members: %zu", n);
	}
	fill_enrolled(&m, kim);
	ok(twofa_member_store_batch_begin(s, TWOFA_MEMBER_BATCH_READ, &err) == TWOFA_OK &&
		   twofa_member_store_enrol(s, &m, NULL, now, &err) == TWOFA_EINVAL &&
		   twofa_member_store_batch_end(s, &err) == TWOFA_OK,
	   "no enrolment inside a read batch");
	twofa_member_store_close(s);
	twofa_member_store_close(admin);
}

int main(void)
{
	twofa_config cfg;
	twofa_error err = {TWOFA_OK, ""};
	char cmd[160];

	if (geteuid() != 0) {
		printf("1..0 # SKIP the member store tests run as root (the store must be root's)\n");
		return 0;
	}
	snprintf(top, sizeof(top), "/var/tmp/twofa-test-member-store-XXXXXX");
	if (mkdtemp(top) == NULL) {
		printf("Bail out! mkdtemp: %s\n", strerror(errno));
		return 1;
	}
	snprintf(db, sizeof(db), "%s/db/members.db", top);
	twofa_config_init(&cfg);
	if (twofa_config_set(&cfg, "members_db", db, TWOFA_CONFIG_FROM_FILE, &err) != TWOFA_OK) {
		printf("Bail out! members_db: %s\n", err.msg);
		return 1;
	}
	probe_codec();
	test_missing(&cfg);
	test_versions(&cfg);
	test_consume(&cfg);
	test_enrol(&cfg);
	test_ldap_refused(&cfg);
	twofa_config_free(&cfg);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", top);
	if (system(cmd) != 0)
		diag("could not remove %s", top);
	return tap_done();
}
