/* SPDX-License-Identifier: GPL-3.0-or-later */
/* ldap_probe CONFIG [login|admin] [read|write] [COUNT|again|options]: loads CONFIG,
 * runs twofa_ldap_connect (COUNT times, default once) and on success a Who
 * am I? on the connection, printing one line per call for
 * tests/ldapconn/test_ldap_conn.py:
 *   ok MS URI WHOAMI
 *   fail MS STATUS MESSAGE
 * MS: the call's milliseconds (connect and whoami). With "again", after the
 * first line it waits for a line on stdin and asks again on the same
 * connection (a second line: "ok MS URI WHOAMI" or "fail MS STATUS MESSAGE").
 * With "options", a second line "options SIZELIMIT TIMELIMIT DEREF" gives
 * those defaults of the connection's handle (what an ldaprc or LDAP*
 * variable would set if libldap read them).
 * Exit 0 when the last call succeeded, 1 when it failed, 64 on a usage error. */
#include "twofa_build.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "error.h"
#include "ldap_conn.h"
#include "wire.h"

/* Who am I? on l, one line. */
static twofa_status whoami(twofa_ldap *l, long long start, twofa_error *err)
{
	struct berval *authzid = NULL;
	LDAP *ld = twofa_ldap_handle(l);
	int rc = ld != NULL ? ldap_whoami_s(ld, &authzid, NULL, NULL) : LDAP_SERVER_DOWN;
	twofa_status st = rc == LDAP_SUCCESS ? TWOFA_OK : twofa_ldap_fail(l, rc, "whoami", err);

	if (st == TWOFA_OK)
		printf("ok %lld %s %.*s\n", twofa_wire_now_ms() - start, twofa_ldap_uri(l),
		       authzid != NULL && authzid->bv_len > 0 ? (int)authzid->bv_len : 9,
		       authzid != NULL && authzid->bv_len > 0 ? authzid->bv_val : "anonymous");
	else
		printf("fail %lld %s %s\n", twofa_wire_now_ms() - start, twofa_status_name(st), err->msg);
	fflush(stdout);
	ber_bvfree(authzid);
	return st;
}

static int probe_again(const twofa_config *cfg, twofa_ldap_identity who, bool write)
{
	long long start = twofa_wire_now_ms();
	twofa_error err = {0};
	twofa_ldap *l = NULL;
	twofa_status st = twofa_ldap_connect(&l, cfg, who, write, &err);
	char line[16];

	if (st != TWOFA_OK) {
		printf("fail %lld %s %s\n", twofa_wire_now_ms() - start, twofa_status_name(st), err.msg);
		return 1;
	}
	st = whoami(l, start, &err);
	if (st == TWOFA_OK && fgets(line, sizeof(line), stdin) != NULL) {
		twofa_ldap_new_budget(l);
		st = whoami(l, twofa_wire_now_ms(), &err);
	}
	twofa_ldap_close(l);
	return st == TWOFA_OK ? 0 : 1;
}

static int probe(const twofa_config *cfg, twofa_ldap_identity who, bool write, bool show_options)
{
	long long start = twofa_wire_now_ms();
	twofa_error err = {0};
	twofa_ldap *l = NULL;
	twofa_status st = twofa_ldap_connect(&l, cfg, who, write, &err);

	if (st == TWOFA_OK) {
		st = whoami(l, start, &err);
		if (st == TWOFA_OK && show_options) {
			int size = -1, time_limit = -1, deref = -1;
			LDAP *ld = twofa_ldap_handle(l);
			(void)ldap_get_option(ld, LDAP_OPT_SIZELIMIT, &size);
			(void)ldap_get_option(ld, LDAP_OPT_TIMELIMIT, &time_limit);
			(void)ldap_get_option(ld, LDAP_OPT_DEREF, &deref);
			printf("options %d %d %d\n", size, time_limit, deref);
		}
	} else {
		printf("fail %lld %s %s\n", twofa_wire_now_ms() - start, twofa_status_name(st), err.msg);
		fflush(stdout);
	}
	twofa_ldap_close(l);
	return st == TWOFA_OK ? 0 : 1;
}

int main(int argc, char **argv)
{
	twofa_config cfg;
	twofa_error err = {0};
	twofa_ldap_identity who = TWOFA_LDAP_LOGIN;
	bool write = false, show_options = false;
	int count = 1, rc = 1;

	if (argc < 2 || argc > 5) {
		fprintf(stderr, "usage: ldap_probe CONFIG [login|admin] [read|write] [COUNT]\n");
		return 64;
	}
	if (argc > 2)
		who = strcmp(argv[2], "admin") == 0 ? TWOFA_LDAP_ADMIN : TWOFA_LDAP_LOGIN;
	if (argc > 3)
		write = strcmp(argv[3], "write") == 0;
	if (argc > 4 && strcmp(argv[4], "again") == 0)
		count = -1;
	else if (argc > 4 && strcmp(argv[4], "options") == 0)
		show_options = true;
	else if (argc > 4)
		count = atoi(argv[4]);
	twofa_config_init(&cfg);
	if (twofa_config_load(&cfg, argv[1], &err) != TWOFA_OK) {
		printf("fail 0 %s %s\n", twofa_status_name(err.status), err.msg);
		twofa_config_free(&cfg);
		return 1;
	}
	if (count < 0)
		rc = probe_again(&cfg, who, write);
	for (int i = 0; i < count; i++)
		rc = probe(&cfg, who, write, show_options);
	twofa_config_free(&cfg);
	return rc;
}
