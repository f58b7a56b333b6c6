/* SPDX-License-Identifier: GPL-3.0-or-later */
/* invite: the one-time code with which a user who is not enrolled enrols
 * themselves at login (pam_twofa enroll=invite). As bypass does, it stores
 * first (an invited record: the code's hash and its expiry, no phone, no
 * password) and prints after, once, with write(2) from a buffer that is
 * wiped after. Issuing again over an invited record replaces the invite;
 * a member is refused. --revoke removes the invited record (on a directory
 * the twofa attributes and class, never the user's entry). */
#include "twofa_build.h"

#include <errno.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <sodium.h>

#include "cli.h"
#include "onetime_code.h"
#include "util.h"

#define DEFAULT_TTL (72 * 3600) /* seconds: three days, to reach a user and their first login */
#define TTL_MIN 600             /* ten minutes: time to pass the code on and log in */
#define TTL_MAX (30 * 86400)    /* an invite, not a standing credential: at most 30 days */
/* {"code": ..., "expires": ...} at its largest. */
#define OUTPUT_SIZE (TWOFA_ONETIME_TEXT_SIZE + TWOFA_ISO8601_LEN + 64)

typedef struct invite_issue {
	char code[TWOFA_ONETIME_TEXT_SIZE];
	time_t now, expires;
	bool enrolled; /* the record turned out to be a member's */
} invite_issue;

/* The invite's hash and expiry on an invited record (re-issuing). */
static twofa_status put_code(twofa_member *m, const invite_issue *iv, twofa_error *err)
{
	sodium_memzero(m->invite, sizeof(m->invite));
	m->invite_expires = iv->expires;
	m->updated = iv->now > m->created ? iv->now : m->created;
	return twofa_onetime_hash(m->user, TWOFA_MEMBER_CODE_INVITE, iv->code, m->invite, err);
}

/* The store's change over a record found invited: a member now (enrolled
 * since it was read) is left alone. */
static twofa_status replace_invite(twofa_member *m, void *arg, twofa_error *err)
{
	invite_issue *iv = arg;

	if (m->status != TWOFA_MEMBER_INVITED) {
		iv->enrolled = true;
		return twofa_fail(err, TWOFA_EEXIST, "%s is already enrolled", m->user);
	}
	return put_code(m, iv, err);
}

static int parse_args(int argc, char **argv, const char **user, long *ttl, bool *json, bool *revoke)
{
	static const struct option options[] = {
		{"ttl", required_argument, NULL, 't'},
		{"json", no_argument, NULL, 'j'},
		{"revoke", no_argument, NULL, 'r'},
		{NULL, 0, NULL, 0},
	};
	bool issuing = false;
	int opt;

	optind = 0;
	while ((opt = getopt_long(argc, argv, ":", options, NULL)) != -1) {
		if (opt == 't') {
			if (!twofa_parse_duration(optarg, TTL_MIN, TTL_MAX, ttl))
				return cli_usage_error("invite",
						       "invite: --ttl must be 10m to 30d: SECONDS, or a "
						       "number and s, m, h or d (30m, 72h, 7d)");
			issuing = true;
		} else if (opt == 'j') {
			*json = true;
			issuing = true;
		} else if (opt == 'r') {
			*revoke = true;
		} else {
			return cli_usage_error("invite", "invite: unknown option or missing value");
		}
	}
	if (*revoke && issuing)
		return cli_usage_error("invite", "invite: --revoke takes no --ttl or --json");
	if (optind + 1 != argc)
		return cli_usage_error("invite", "invite needs exactly one USER");
	*user = argv[optind];
	return cli_check_user_arg(*user);
}

static int revoke_invite(cli_context *ctx, const char *user, const char *shown)
{
	twofa_member_store *s;
	twofa_error err;
	twofa_status st;
	int rc;

	if ((rc = cli_members(ctx, &s)) != 0)
		return rc;
	twofa_error_clear(&err);
	st = twofa_member_store_revoke_invite(s, user, &err);
	if (st == TWOFA_ENOTFOUND) {
		printf("%s had no invite\n", shown);
		return EX_OK;
	}
	if (st == TWOFA_EEXIST)
		return cli_fail(EX_DATAERR,
				"%s is enrolled, not invited: nothing was revoked (see 'twofa-enroll remove')",
				shown);
	if (st != TWOFA_OK)
		return cli_fail_status(&err);
	printf("invite of %s revoked\n", shown);
	return EX_OK;
}

/* Stores the invite: a new invited record, or the new code over an invited
 * one. *replaced says which. 0 or an exit code after a message. */
static int store_invite(cli_context *ctx, const char *user, const char *shown, invite_issue *iv,
			bool *replaced)
{
	twofa_member_store *s;
	twofa_member m;
	twofa_error err;
	twofa_status st;
	int rc;

	*replaced = false;
	if ((rc = cli_members(ctx, &s)) != 0)
		return rc;
	twofa_error_clear(&err);
	st = twofa_member_store_load(s, user, &m, &err);
	if (st == TWOFA_OK && m.status != TWOFA_MEMBER_INVITED) {
		twofa_member_free(&m);
		return cli_fail(EX_DATAERR, "%s is already enrolled: an invite is for a user who is not",
				shown);
	}
	twofa_member_free(&m);
	if (st == TWOFA_OK) {
		*replaced = true;
		st = twofa_member_store_update(s, user, replace_invite, iv, &err);
	} else if (st == TWOFA_ENOTFOUND) {
		memset(&m, 0, sizeof(m));
		m.user = (char *)user;
		/* A channel the record must have; the enrolment sets the member's. */
		m.channel = ctx->config.channel;
		m.status = TWOFA_MEMBER_INVITED;
		m.created = iv->now;
		if ((st = put_code(&m, iv, &err)) == TWOFA_OK)
			st = twofa_member_store_put(s, &m, TWOFA_MEMBER_PUT_ADD, &err);
		sodium_memzero(m.invite, sizeof(m.invite));
		iv->enrolled = st == TWOFA_EEXIST;
	}
	if (iv->enrolled)
		return cli_fail(EX_DATAERR, "%s enrolled meanwhile: no invite was issued", shown);
	if (st == TWOFA_ECONFLICT)
		return cli_fail(twofa_status_exit_code(st), "%s; no invite was issued: run the command again",
				err.msg);
	if (st != TWOFA_OK)
		return cli_fail_status(&err);
	return 0;
}

int cmd_invite(cli_context *ctx, int argc, char **argv)
{
	invite_issue iv = {.enrolled = false};
	char output[OUTPUT_SIZE], shown[TWOFA_USER_NAME_MAX + 1], expires[TWOFA_ISO8601_LEN];
	const char *user = NULL;
	bool json = false, revoke = false, replaced = false, printed;
	long ttl = DEFAULT_TTL;
	twofa_error err;
	size_t len;
	int rc;

	if ((rc = parse_args(argc, argv, &user, &ttl, &json, &revoke)) != 0)
		return rc;
	if ((rc = cli_load_config(ctx)) != 0)
		return rc;
	twofa_strlcpy(shown, user, sizeof(shown));
	twofa_sanitize(shown);
	if (revoke)
		return revoke_invite(ctx, user, shown);
	iv.now = time(NULL);
	iv.expires = iv.now + ttl;
	if (!twofa_format_time(iv.expires, expires))
		return cli_fail(1, "cannot write the expiry time");
	twofa_error_clear(&err);
	if (twofa_onetime_generate(iv.code, &err) != TWOFA_OK)
		return cli_fail_status(&err);
	/* Store first: a code printed but not stored would send the user to a
	 * login that refuses it. */
	if ((rc = store_invite(ctx, user, shown, &iv, &replaced)) != 0) {
		sodium_memzero(&iv, sizeof(iv));
		return rc;
	}
	len = (size_t)snprintf(output, sizeof(output),
			       json ? "{\n  \"code\": \"%s\",\n  \"expires\": \"%s\"\n}\n" : "%s\n", iv.code,
			       expires);
	sodium_memzero(iv.code, sizeof(iv.code));
	printed = len < sizeof(output) && cli_write_once(output, len);
	sodium_memzero(output, sizeof(output));
	if (!printed)
		return cli_fail(1,
				"the invite of %s is stored but could not be printed (%s)%s: run 'twofa-enroll "
				"invite %s' again for a new one, or revoke it with --revoke",
				shown, strerror(errno), replaced ? "; the earlier one is gone too" : "",
				shown);
	cli_note("invite issued for %s, for one enrolment at login (pam_twofa enroll=invite), expires %s%s",
		 shown, expires, replaced ? "; it replaces the earlier one" : "");
	return EX_OK;
}
