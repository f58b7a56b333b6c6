/* SPDX-License-Identifier: GPL-3.0-or-later */
/* bypass: the code an admin issues a member for an incident (a lost phone,
 * Twilio down), Duo's model: a few uses, a short life, and a record of who
 * issued it. As recovery does, it stores first (only the hash, with the
 * uses, the expiry and the issuer, in place of any earlier bypass code) and
 * prints after, once, with write(2) from a buffer that is wiped after; the
 * code goes nowhere else. --revoke removes the code. */
#include "twofa_build.h"

#include <errno.h>
#include <pwd.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <sodium.h>

#include "cli.h"
#include "onetime_code.h"
#include "util.h"

#define DEFAULT_USES 1
#define DEFAULT_TTL 3600     /* seconds: an hour, Duo's default */
#define TTL_MIN 60           /* long enough to read a code out over the phone */
#define TTL_MAX (30 * 86400) /* an incident, not a second password: at most 30 days */
/* {"code": ..., "uses": ..., "expires": ...} at its largest. */
#define OUTPUT_SIZE (TWOFA_ONETIME_TEXT_SIZE + TWOFA_ISO8601_LEN + 80)

typedef struct bypass_issue {
	bool revoke;
	long uses;
	char code[TWOFA_ONETIME_TEXT_SIZE];
	char issuer[TWOFA_USER_NAME_MAX + 1];
	time_t now, expires;
	twofa_member_status status; /* the member's, as stored */
	bool had_one;               /* a bypass code was there before */
	bool had_expired;           /* and it had expired */
} bypass_issue;

/* The store's change: the new code's hash, uses, expiry and issuer in place
 * of any earlier one; or, revoking, none (TWOFA_EEXIST when there was none). */
static twofa_status change_bypass(twofa_member *m, void *arg, twofa_error *err)
{
	bypass_issue *b = arg;
	twofa_status st;

	b->had_one = m->bypass[0] != '\0';
	b->had_expired = b->had_one && m->bypass_expires <= b->now;
	b->status = m->status;
	if (b->revoke && !b->had_one)
		return TWOFA_EEXIST;
	sodium_memzero(m->bypass, sizeof(m->bypass));
	m->bypass_uses = 0;
	m->bypass_expires = 0;
	memset(m->bypass_issuer, 0, sizeof(m->bypass_issuer));
	if (!b->revoke) {
		if ((st = twofa_onetime_hash(m->user, TWOFA_MEMBER_CODE_BYPASS, b->code, m->bypass, err)) !=
		    TWOFA_OK)
			return st;
		m->bypass_uses = b->uses;
		m->bypass_expires = b->expires;
		twofa_strlcpy(m->bypass_issuer, b->issuer, sizeof(m->bypass_issuer));
	}
	m->updated = b->now > m->created ? b->now : m->created;
	return TWOFA_OK;
}

/* Who issues the code, for the record (never an authority: root can set
 * any environment). Under sudo the real uid is root's, and SUDO_USER, which
 * sudo sets, names the admin who ran it: taken when it is a valid login
 * name that is the user SUDO_UID says (so a stale or hand-made SUDO_USER of
 * some other account is not); otherwise the real uid's login name; "root"
 * when that has no valid name either. */
static void find_issuer(char out[TWOFA_USER_NAME_MAX + 1])
{
	const char *sudo_user = getenv("SUDO_USER"), *sudo_uid = getenv("SUDO_UID");
	const struct passwd *pw;
	char uid[24];

	if (getuid() == 0 && sudo_user != NULL && sudo_uid != NULL && twofa_user_name_valid(sudo_user) &&
	    (pw = getpwnam(sudo_user)) != NULL && strcmp(pw->pw_name, sudo_user) == 0 &&
	    snprintf(uid, sizeof(uid), "%lu", (unsigned long)pw->pw_uid) > 0 && strcmp(uid, sudo_uid) == 0) {
		twofa_strlcpy(out, sudo_user, TWOFA_USER_NAME_MAX + 1);
		return;
	}
	pw = getpwuid(getuid());
	twofa_strlcpy(out, pw != NULL && twofa_user_name_valid(pw->pw_name) ? pw->pw_name : "root",
		      TWOFA_USER_NAME_MAX + 1);
}

static const cli_issue_spec bypass_spec = {
	.command = "bypass",
	.ttl_min = TTL_MIN,
	.ttl_max = TTL_MAX,
	.ttl_help = "1m to 30d: SECONDS, or a number and s, m, h or d (30m, 2h, 1d)",
	.uses_max = TWOFA_MEMBER_BYPASS_USES_MAX,
};

static int revoke_code(cli_context *ctx, const char *user, bypass_issue *b, const char *shown)
{
	int rc;

	if ((rc = cli_update_member(ctx, user, change_bypass, b)) != 0)
		return rc;
	if (!b->had_one)
		printf("%s had no bypass code\n", shown);
	else
		printf("bypass code of %s revoked%s\n", shown, b->had_expired ? " (it had expired)" : "");
	return EX_OK;
}

int cmd_bypass(cli_context *ctx, int argc, char **argv)
{
	bypass_issue b = {.revoke = false};
	cli_issue_args a = {.uses = DEFAULT_USES, .ttl = DEFAULT_TTL};
	char output[OUTPUT_SIZE], shown[TWOFA_USER_NAME_MAX + 1], expires[TWOFA_ISO8601_LEN];
	bool printed;
	twofa_error err;
	int rc;

	if ((rc = cli_parse_issue_args(&bypass_spec, argc, argv, &a)) != 0)
		return rc;
	if ((rc = cli_load_config(ctx)) != 0)
		return rc;
	twofa_strlcpy(shown, a.user, sizeof(shown));
	twofa_sanitize(shown);
	b.revoke = a.revoke;
	b.uses = a.uses;
	b.now = time(NULL);
	if (b.revoke)
		return revoke_code(ctx, a.user, &b, shown);
	b.expires = b.now + a.ttl;
	if (!twofa_format_time(b.expires, expires))
		return cli_fail(1, "cannot write the expiry time");
	find_issuer(b.issuer);
	twofa_error_clear(&err);
	if (twofa_onetime_generate(b.code, &err) != TWOFA_OK)
		return cli_fail_status(&err);
	/* Store first: a code that was printed but not stored would fail the
	 * member at the moment they need it. */
	if ((rc = cli_update_member(ctx, a.user, change_bypass, &b)) != 0) {
		sodium_memzero(&b, sizeof(b));
		return rc;
	}
	cli_warn_codes_unusable(shown, b.status, "this bypass code does");
	printed = cli_print_once(output, sizeof(output),
				 a.json ? "{\n  \"code\": \"%s\",\n  \"uses\": %ld,\n  \"expires\": \"%s\"\n}\n"
					: "%s\n",
				 b.code, b.uses, expires);
	sodium_memzero(b.code, sizeof(b.code));
	if (!printed)
		return cli_fail(1,
				"the new bypass code of %s is stored but could not be printed (%s); any earlier "
				"one is gone too: run 'twofa-enroll bypass %s' again, or revoke it with --revoke",
				shown, strerror(errno), shown);
	twofa_sanitize(b.issuer); /* SUDO_USER is only a valid name: no bidi marks on a terminal */
	cli_note("bypass code issued for %s: %ld use%s, expires %s (issued by %s)%s", shown, b.uses,
		 b.uses == 1 ? "" : "s", expires, b.issuer, b.had_one ? "; it replaces the earlier one" : "");
	return EX_OK;
}
