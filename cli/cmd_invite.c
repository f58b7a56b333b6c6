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

static const cli_issue_spec invite_spec = {
	.command = "invite",
	.ttl_min = TTL_MIN,
	.ttl_max = TTL_MAX,
	.ttl_help = "10m to 30d: SECONDS, or a number and s, m, h or d (30m, 72h, 7d)",
};

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
	cli_record kind;
	int rc;

	*replaced = false;
	if ((rc = cli_record_kind(ctx, user, &kind)) != 0 || (rc = cli_members(ctx, &s)) != 0)
		return rc;
	if (kind == CLI_RECORD_MEMBER)
		return cli_fail(EX_DATAERR, "%s is already enrolled: an invite is for a user who is not",
				shown);
	twofa_error_clear(&err);
	if (kind == CLI_RECORD_INVITED) {
		*replaced = true;
		st = twofa_member_store_update(s, user, replace_invite, iv, &err);
	} else {
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
	return cli_write_result(st, &err, "no invite was issued");
}

int cmd_invite(cli_context *ctx, int argc, char **argv)
{
	invite_issue iv = {.enrolled = false};
	cli_issue_args a = {.ttl = DEFAULT_TTL};
	char output[OUTPUT_SIZE], shown[TWOFA_USER_NAME_MAX + 1], expires[TWOFA_ISO8601_LEN];
	bool replaced = false, printed;
	twofa_error err;
	int rc;

	if ((rc = cli_parse_issue_args(&invite_spec, argc, argv, &a)) != 0)
		return rc;
	if ((rc = cli_load_config(ctx)) != 0)
		return rc;
	twofa_strlcpy(shown, a.user, sizeof(shown));
	twofa_sanitize(shown);
	if (a.revoke)
		return revoke_invite(ctx, a.user, shown);
	iv.now = time(NULL);
	iv.expires = iv.now + a.ttl;
	if (!twofa_format_time(iv.expires, expires))
		return cli_fail(1, "cannot write the expiry time");
	twofa_error_clear(&err);
	if (twofa_onetime_generate(iv.code, &err) != TWOFA_OK)
		return cli_fail_status(&err);
	/* Store first: a code printed but not stored would send the user to a
	 * login that refuses it. */
	if ((rc = store_invite(ctx, a.user, shown, &iv, &replaced)) != 0) {
		sodium_memzero(&iv, sizeof(iv));
		return rc;
	}
	printed = cli_print_once(output, sizeof(output),
				 a.json ? "{\n  \"code\": \"%s\",\n  \"expires\": \"%s\"\n}\n" : "%s\n",
				 iv.code, expires);
	sodium_memzero(iv.code, sizeof(iv.code));
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
