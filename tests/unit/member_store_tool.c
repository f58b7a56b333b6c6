/* SPDX-License-Identifier: GPL-3.0-or-later */
/* Runs member-store operations for tests/unit/test_member_store_ldap.py, one
 * result line each ("ok ..." or "error <status>: <message>"):
 *
 *   member_store_tool CONFIG login|admin COMMAND [ARG...]
 *     add USER            put ADD of a generated sms member
 *     replace USER VER    put REPLACE, the record at version VER
 *     load USER...        load each (one handle: the connection is reused)
 *     load-lines          one handle; for each line of stdin (a name), load it
 *     update USER STATUS  update: status and updated set
 *     race USER           two handles: the first's change runs the second's whole
 *                         update, then returns; exactly one must lose
 *     remove USER
 *     import USER VER     put IMPORT (import without --replace), the record at VER
 *     set-codes USER N USES ISSUER
 *                         update: N recovery codes (hash_of 1..N) and a bypass code
 *                         (hash_of 100) of USES uses issued by ISSUER ("-": none)
 *     codes USER          load; "ok v<version> recovery <i,j,..> bypass <uses> <issuer>"
 *     consume USER recovery|bypass I
 *                         consume the code hash_of(I)
 *     consume-on-line USER recovery|bypass I
 *                         connect (a load), print "ready", wait for a line, consume
 *     update-paused USER PHONE|codes
 *                         update whose change prints "read" and waits for a line,
 *                         then sets the phone (or makes recovery codes 11..13)
 *     invite USER CODE SECONDS
 *                         put ADD of an invited record: CODE's hash, expiring in
 *                         SECONDS (negative: expired)
 *     enrol USER CODE|- PHONE
 *                         twofa_member_store_enrol of an active member without a
 *                         password hash ("-": self mode, no invite)
 *     enrol-on-line USER CODE|- PHONE
 *                         connect (a load), print "ready", wait for a line, enrol
 *     phone-users PHONE EXCEPT|-
 *                         "ok count N"
 *     revoke USER         twofa_member_store_revoke_invite
 *     names | each | count
 *     first-count         names stopped after the first, then count on the same handle
 *
 * The config is parsed without the file checks (it is the test's own). */
#include "twofa_build.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "config.h"
#include "member_store.h"
#include "onetime_code.h"

#define HASH \
	"$argon2id$v=19$m=65536,t=2,p=1$c29tZXNhbHRzb21lc2FsdA$7sE7Z1k9u9Z0ZK9oHq4Yb1qg4Rj9Y3K2cM2w1e0a2Hc"

static twofa_config cfg;
static twofa_member_store_role role;

static int report(twofa_status st, const twofa_error *err, const char *what)
{
	if (st == TWOFA_OK)
		printf("ok %s\n", what);
	else
		printf("error %s: %s\n", twofa_status_name(st), err->msg);
	fflush(stdout);
	return st == TWOFA_OK ? 0 : 1;
}

static twofa_member_store *open_store(void)
{
	twofa_member_store *s = NULL;
	twofa_error err = {TWOFA_OK, ""};

	if (twofa_member_store_open(&s, &cfg, role, &err) != TWOFA_OK) {
		printf("error %s: %s\n", twofa_status_name(err.status), err.msg);
		exit(1);
	}
	return s;
}

static void generated(twofa_member *m, char *user)
{
	memset(m, 0, sizeof(*m));
	m->user = user;
	strcpy(m->phone, "+15551234567");
	strcpy(m->country, "US");
	m->channel = TWOFA_CHANNEL_SMS;
	m->password_hash = (char *)HASH;
	m->status = TWOFA_MEMBER_ACTIVE;
	m->created = m->updated = time(NULL);
}

static int invite(twofa_member_store *s, char *user, const char *code, const char *seconds)
{
	twofa_error err = {TWOFA_OK, ""};
	twofa_member m;
	twofa_status st;

	memset(&m, 0, sizeof(m));
	m.user = user;
	m.channel = TWOFA_CHANNEL_SMS;
	m.status = TWOFA_MEMBER_INVITED;
	m.created = m.updated = time(NULL) - 120;
	m.invite_expires = time(NULL) + strtol(seconds, NULL, 10);
	st = twofa_onetime_hash(user, TWOFA_MEMBER_CODE_INVITE, code, m.invite, &err);
	if (st == TWOFA_OK)
		st = twofa_member_store_put(s, &m, TWOFA_MEMBER_PUT_ADD, &err);
	return report(st, &err, "invited");
}

static int enrol(twofa_member_store *s, char *user, const char *code, const char *phone)
{
	twofa_error err = {TWOFA_OK, ""};
	twofa_member m;

	generated(&m, user);
	m.password_hash = NULL;
	snprintf(m.phone, sizeof(m.phone), "%s", phone);
	return report(twofa_member_store_enrol(s, &m, strcmp(code, "-") == 0 ? NULL : code, time(NULL), &err),
		      &err, "enrolled");
}

static int load(twofa_member_store *s, const char *user)
{
	twofa_error err = {TWOFA_OK, ""};
	twofa_member m;
	char line[512];
	twofa_status st = twofa_member_store_load(s, user, &m, &err);

	if (st == TWOFA_OK)
		snprintf(line, sizeof(line), "%s v%llu %s %s", m.user, m.version,
			 twofa_member_status_name(m.status), m.phone);
	twofa_member_free(&m);
	return report(st, &err, st == TWOFA_OK ? line : "");
}

static twofa_status set_status(twofa_member *m, void *arg, twofa_error *err)
{
	if (!twofa_member_status_parse(arg, &m->status))
		return twofa_fail(err, TWOFA_EINVAL, "unknown status");
	m->updated = time(NULL);
	return TWOFA_OK;
}

/* The race: the first handle's change, between its read and its write,
 * runs the second handle's whole update. */
typedef struct race {
	twofa_member_store *second;
	const char *user;
	twofa_status inner;
	twofa_error inner_err;
} race;

static twofa_status race_change(twofa_member *m, void *arg, twofa_error *err)
{
	race *r = arg;

	r->inner = twofa_member_store_update(r->second, r->user, set_status, "pending", &r->inner_err);
	return set_status(m, "disabled", err);
}

/* The code hash number i stands for (any well-formed hash will do: the
 * store never sees a code). */
static void hash_of(long i, char out[TWOFA_MEMBER_CODE_HASH_SIZE])
{
	snprintf(out, TWOFA_MEMBER_CODE_HASH_SIZE, "b2$%032lx$%064lx", i, i * 7 + 1);
}

static twofa_status set_codes(twofa_member *m, void *arg, twofa_error *err)
{
	char *const *a = arg; /* N USES ISSUER */
	long n = strtol(a[0], NULL, 10), uses = strtol(a[1], NULL, 10);

	(void)err;
	m->recovery_count = (size_t)n;
	for (long i = 0; i < n; i++)
		hash_of(i + 1, m->recovery[i]);
	memset(m->bypass_issuer, 0, sizeof(m->bypass_issuer));
	if (uses > 0) {
		hash_of(100, m->bypass);
		m->bypass_uses = uses;
		m->bypass_expires = time(NULL) + 3600;
		if (strcmp(a[2], "-") != 0)
			snprintf(m->bypass_issuer, sizeof(m->bypass_issuer), "%s", a[2]);
	} else {
		m->bypass[0] = '\0';
		m->bypass_uses = 0;
		m->bypass_expires = 0;
	}
	return TWOFA_OK;
}

static int codes(twofa_member_store *s, const char *user)
{
	twofa_error err = {TWOFA_OK, ""};
	char line[1024], h[TWOFA_MEMBER_CODE_HASH_SIZE];
	size_t used;
	twofa_member m;
	twofa_status st = twofa_member_store_load(s, user, &m, &err);

	if (st == TWOFA_OK) {
		used = (size_t)snprintf(line, sizeof(line), "v%llu recovery ", m.version);
		for (size_t i = 0; i < m.recovery_count; i++)
			for (long n = 1; n <= 100; n++) {
				hash_of(n, h);
				if (strcmp(h, m.recovery[i]) == 0 && used < sizeof(line))
					used += (size_t)snprintf(line + used, sizeof(line) - used, "%s%ld",
								 i > 0 ? "," : "", n);
			}
		if (used < sizeof(line))
			snprintf(line + used, sizeof(line) - used, "%s bypass %ld %s",
				 m.recovery_count ? "" : "-", m.bypass_uses,
				 m.bypass_issuer[0] != '\0' ? m.bypass_issuer : "-");
	}
	twofa_member_free(&m);
	return report(st, &err, st == TWOFA_OK ? line : "");
}

static int consume(twofa_member_store *s, const char *user, const char *kind, const char *which)
{
	twofa_error err = {TWOFA_OK, ""};
	char h[TWOFA_MEMBER_CODE_HASH_SIZE];

	hash_of(strtol(which, NULL, 10), h);
	return report(twofa_member_store_consume(s, user,
						 strcmp(kind, "bypass") == 0 ? TWOFA_MEMBER_CODE_BYPASS
									     : TWOFA_MEMBER_CODE_RECOVERY,
						 h, &err),
		      &err, "consumed");
}

/* A change held between its read and its write until a line comes. */
static twofa_status paused_change(twofa_member *m, void *arg, twofa_error *err)
{
	const char *what = arg;
	char line[16];

	printf("read\n");
	fflush(stdout);
	if (fgets(line, sizeof(line), stdin) == NULL)
		return twofa_fail(err, TWOFA_EINVAL, "no line to go on");
	if (strcmp(what, "codes") == 0) {
		m->recovery_count = 3;
		for (long i = 0; i < 3; i++)
			hash_of(11 + i, m->recovery[i]);
	} else {
		snprintf(m->phone, sizeof(m->phone), "%s", what);
	}
	m->updated = time(NULL);
	return TWOFA_OK;
}

static int count_name(const char *user, void *arg)
{
	printf("name %s\n", user);
	(*(size_t *)arg)++;
	return 0;
}

static int first_name(const char *user, void *arg)
{
	printf("first %s\n", user);
	(*(size_t *)arg)++;
	return 1;
}

static int each_member(const twofa_member *m, void *arg)
{
	printf("member %s v%llu\n", m->user, m->version);
	(*(size_t *)arg)++;
	return 0;
}

static int each_bad(const char *key, const char *why, void *arg)
{
	(void)arg;
	printf("bad %s: %s\n", key, why);
	return 0;
}

static int run(int argc, char **argv)
{
	twofa_member_store *s = open_store();
	twofa_error err = {TWOFA_OK, ""};
	const char *cmd = argv[0];
	twofa_member m;
	twofa_status st;
	size_t n = 0;
	int rc = 0;
	char buf[64];

	if (strcmp(cmd, "add") == 0 && argc == 2) {
		generated(&m, argv[1]);
		rc = report(twofa_member_store_put(s, &m, TWOFA_MEMBER_PUT_ADD, &err), &err, "added");
	} else if (strcmp(cmd, "replace") == 0 && argc == 3) {
		generated(&m, argv[1]);
		m.version = strtoull(argv[2], NULL, 10);
		rc = report(twofa_member_store_put(s, &m, TWOFA_MEMBER_PUT_REPLACE, &err), &err, "replaced");
	} else if (strcmp(cmd, "load") == 0 && argc >= 2) {
		for (int i = 1; i < argc; i++)
			rc |= load(s, argv[i]);
	} else if (strcmp(cmd, "load-lines") == 0) {
		while (fgets(buf, sizeof(buf), stdin) != NULL) {
			buf[strcspn(buf, "\n")] = '\0';
			rc |= load(s, buf);
		}
	} else if (strcmp(cmd, "update") == 0 && argc == 3) {
		rc = report(twofa_member_store_update(s, argv[1], set_status, argv[2], &err), &err, "updated");
	} else if (strcmp(cmd, "race") == 0 && argc == 2) {
		race r = {open_store(), argv[1], TWOFA_OK, {TWOFA_OK, ""}};

		st = twofa_member_store_update(s, argv[1], race_change, &r, &err);
		printf("inner ");
		report(r.inner, &r.inner_err, "updated");
		printf("outer ");
		rc = report(st, &err, "updated");
		twofa_member_store_close(r.second);
	} else if (strcmp(cmd, "import") == 0 && argc == 3) {
		generated(&m, argv[1]);
		m.version = strtoull(argv[2], NULL, 10);
		rc = report(twofa_member_store_put(s, &m, TWOFA_MEMBER_PUT_IMPORT, &err), &err, "imported");
	} else if (strcmp(cmd, "set-codes") == 0 && argc == 5) {
		rc = report(twofa_member_store_update(s, argv[1], set_codes, argv + 2, &err), &err,
			    "codes set");
	} else if (strcmp(cmd, "codes") == 0 && argc == 2) {
		rc = codes(s, argv[1]);
	} else if (strcmp(cmd, "consume") == 0 && argc == 4) {
		rc = consume(s, argv[1], argv[2], argv[3]);
	} else if (strcmp(cmd, "consume-on-line") == 0 && argc == 4) {
		(void)twofa_member_store_load(s, argv[1], &m, &err);
		twofa_member_free(&m);
		printf("ready\n");
		fflush(stdout);
		if (fgets(buf, sizeof(buf), stdin) != NULL)
			rc = consume(s, argv[1], argv[2], argv[3]);
	} else if (strcmp(cmd, "update-paused") == 0 && argc == 3) {
		rc = report(twofa_member_store_update(s, argv[1], paused_change, argv[2], &err), &err,
			    "updated");
	} else if (strcmp(cmd, "remove") == 0 && argc == 2) {
		rc = report(twofa_member_store_remove(s, argv[1], &err), &err, "removed");
	} else if (strcmp(cmd, "invite") == 0 && argc == 4) {
		rc = invite(s, argv[1], argv[2], argv[3]);
	} else if (strcmp(cmd, "enrol") == 0 && argc == 4) {
		rc = enrol(s, argv[1], argv[2], argv[3]);
	} else if (strcmp(cmd, "enrol-on-line") == 0 && argc == 4) {
		(void)twofa_member_store_load(s, argv[1], &m, &err);
		twofa_member_free(&m);
		printf("ready\n");
		fflush(stdout);
		if (fgets(buf, sizeof(buf), stdin) != NULL)
			rc = enrol(s, argv[1], argv[2], argv[3]);
	} else if (strcmp(cmd, "phone-users") == 0 && argc == 3) {
		st = twofa_member_store_phone_users(s, argv[1], strcmp(argv[2], "-") == 0 ? NULL : argv[2],
						    &n, &err);
		snprintf(buf, sizeof(buf), "count %zu", n);
		rc = report(st, &err, buf);
	} else if (strcmp(cmd, "revoke") == 0 && argc == 2) {
		rc = report(twofa_member_store_revoke_invite(s, argv[1], &err), &err, "revoked");
	} else if (strcmp(cmd, "names") == 0) {
		st = twofa_member_store_names(s, count_name, &n, &err);
		snprintf(buf, sizeof(buf), "%zu names", n);
		rc = report(st, &err, buf);
	} else if (strcmp(cmd, "each") == 0) {
		st = twofa_member_store_each(s, each_member, each_bad, &n, &err);
		snprintf(buf, sizeof(buf), "%zu members", n);
		rc = report(st, &err, buf);
	} else if (strcmp(cmd, "first-count") == 0) {
		st = twofa_member_store_names(s, first_name, &n, &err);
		if (st == TWOFA_OK && n == 1)
			st = twofa_member_store_count(s, &n, &err);
		snprintf(buf, sizeof(buf), "count %zu", n);
		rc = report(st, &err, buf);
	} else if (strcmp(cmd, "count") == 0) {
		st = twofa_member_store_count(s, &n, &err);
		snprintf(buf, sizeof(buf), "count %zu", n);
		rc = report(st, &err, buf);
	} else {
		printf("error usage: unknown command %s\n", cmd);
		rc = 2;
	}
	twofa_member_store_close(s);
	return rc;
}

int main(int argc, char **argv)
{
	twofa_error err = {TWOFA_OK, ""};
	static char text[TWOFA_CONFIG_MAX_BYTES];
	size_t len;
	FILE *f;
	int rc;

	/* As the server and the CLI do: no ldaprc or LDAP* variable counts. */
	if (setenv("LDAPNOINIT", "1", 1) != 0)
		return 2;
	if (argc < 4 || (f = fopen(argv[1], "r")) == NULL) {
		fprintf(stderr, "usage: member_store_tool CONFIG login|admin COMMAND [ARG...]\n");
		return 2;
	}
	len = fread(text, 1, sizeof(text), f);
	fclose(f);
	twofa_config_init(&cfg);
	if (twofa_config_parse(&cfg, argv[1], text, len, &err) != TWOFA_OK) {
		printf("error config: %s\n", err.msg);
		return 2;
	}
	role = strcmp(argv[2], "admin") == 0 ? TWOFA_MEMBER_STORE_ADMIN : TWOFA_MEMBER_STORE_LOGIN;
	rc = run(argc - 3, argv + 3);
	twofa_config_free(&cfg);
	return rc;
}
