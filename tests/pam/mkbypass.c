/* SPDX-License-Identifier: GPL-3.0-or-later */
/* mkbypass: a test fixture that gives a member a bypass code through the
 * member store, as an admin would, and prints the code once:
 *
 *   mkbypass --config PATH USER USES TTL [ISSUER]
 *
 * USES 1..100; TTL seconds from now, negative for a code that expired
 * already (which `twofa-enroll bypass` never makes); ISSUER "" or absent:
 * none recorded. The code is made and hashed by lib/onetime_code, the
 * record written by twofa_member_store_update with the ADMIN identity of
 * the twofa.conf at PATH (members.db or the directory). Exit 0 with the
 * code on stdout; 1 on a store error, 2 on misuse (message on stderr). */
#include "twofa_build.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <sodium.h>

#include "config.h"
#include "member_store.h"
#include "onetime_code.h"
#include "util.h"

typedef struct bypass {
	char code[TWOFA_ONETIME_TEXT_SIZE];
	long uses, ttl;
	const char *issuer;
} bypass;

static twofa_status set_bypass(twofa_member *m, void *arg, twofa_error *err)
{
	const bypass *b = arg;
	twofa_status st;

	if ((st = twofa_onetime_hash(m->user, TWOFA_MEMBER_CODE_BYPASS, b->code, m->bypass, err)) != TWOFA_OK)
		return st;
	m->bypass_uses = b->uses;
	m->bypass_expires = time(NULL) + b->ttl;
	(void)twofa_strlcpy(m->bypass_issuer, b->issuer, sizeof(m->bypass_issuer));
	m->updated = time(NULL);
	return TWOFA_OK;
}

int main(int argc, char **argv)
{
	twofa_member_store *s = NULL;
	twofa_config cfg;
	twofa_error err;
	bypass b;
	int rc = 1;

	if (argc < 6 || argc > 7 || strcmp(argv[1], "--config") != 0) {
		fprintf(stderr, "usage: mkbypass --config PATH USER USES TTL [ISSUER]\n");
		return 2;
	}
	memset(&b, 0, sizeof(b));
	if (!twofa_parse_long(argv[4], 1, 100, &b.uses) || !twofa_parse_long(argv[5], -86400, 86400, &b.ttl)) {
		fprintf(stderr, "mkbypass: USES 1..100, TTL -86400..86400\n");
		return 2;
	}
	b.issuer = argc == 7 ? argv[6] : "";
	twofa_error_clear(&err);
	twofa_config_init(&cfg);
	if (twofa_onetime_generate(b.code, &err) == TWOFA_OK &&
	    twofa_config_load(&cfg, argv[2], &err) == TWOFA_OK &&
	    twofa_member_store_open(&s, &cfg, TWOFA_MEMBER_STORE_ADMIN, &err) == TWOFA_OK &&
	    twofa_member_store_update(s, argv[3], set_bypass, &b, &err) == TWOFA_OK) {
		printf("%s\n", b.code);
		rc = 0;
	} else {
		fprintf(stderr, "mkbypass: %s (%s)\n", err.msg, twofa_status_name(err.status));
	}
	sodium_memzero(&b, sizeof(b));
	twofa_member_store_close(s);
	twofa_config_free(&cfg);
	return rc;
}
