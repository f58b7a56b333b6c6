/* SPDX-License-Identifier: GPL-3.0-or-later */
/* Reading and changing one member for the commands, through the member
 * store, with the messages and exit codes the CLI promises ("alice is not
 * enrolled": 65). */
#include "twofa_build.h"

#include <string.h>

#include "cli.h"
#include "util.h"

static const char *shown_user(const char *user, char *buf, size_t size)
{
	twofa_strlcpy(buf, user, size);
	twofa_sanitize(buf);
	return buf;
}

int cli_members(cli_context *ctx, twofa_member_store **out)
{
	twofa_error err;
	int rc = cli_load_config(ctx);

	*out = NULL;
	if (rc != 0)
		return rc;
	twofa_error_clear(&err);
	if (ctx->members == NULL &&
	    twofa_member_store_open(&ctx->members, &ctx->config, TWOFA_MEMBER_STORE_ADMIN, &err) != TWOFA_OK)
		return cli_fail_status(&err);
	*out = ctx->members;
	return 0;
}

int cli_require_gdbm(const cli_context *ctx, const char *what)
{
	if (ctx->config.store == TWOFA_STORE_GDBM)
		return 0;
	return cli_fail(EX_USAGE, "%s works on members.db and is for store = gdbm only; %s uses store = ldap",
			what, ctx->config_path);
}

/* The message for a member the store does not have. */
static int not_enrolled(const char *user)
{
	char shown[TWOFA_USER_NAME_MAX + 1];

	return cli_fail(EX_DATAERR, "%s is not enrolled", shown_user(user, shown, sizeof(shown)));
}

int cli_refuse_invited(const char *user)
{
	char shown[TWOFA_USER_NAME_MAX + 1];

	shown_user(user, shown, sizeof(shown));
	return cli_fail(EX_DATAERR,
			"%s is invited, not enrolled yet: they enrol at their next login, or revoke the "
			"invite with 'twofa-enroll invite --revoke %s'",
			shown, shown);
}

int cli_load_member(cli_context *ctx, const char *user, twofa_member *m)
{
	int rc = cli_load_record(ctx, user, m);

	if (rc == 0 && m->status == TWOFA_MEMBER_INVITED) {
		twofa_member_free(m);
		return cli_refuse_invited(user);
	}
	return rc;
}

int cli_load_record(cli_context *ctx, const char *user, twofa_member *m)
{
	twofa_member_store *s;
	twofa_error err;
	twofa_status st;
	int rc;

	memset(m, 0, sizeof(*m));
	if ((rc = cli_members(ctx, &s)) != 0)
		return rc;
	twofa_error_clear(&err);
	st = twofa_member_store_load(s, user, m, &err);
	if (st == TWOFA_ENOTFOUND)
		return not_enrolled(user);
	if (st != TWOFA_OK)
		return cli_fail_status(&err);
	return 0;
}

int cli_record_kind(cli_context *ctx, const char *user, cli_record *kind)
{
	twofa_member_store *s;
	twofa_member m;
	twofa_error err;
	twofa_status st;
	int rc;

	*kind = CLI_RECORD_NONE;
	if ((rc = cli_members(ctx, &s)) != 0)
		return rc;
	twofa_error_clear(&err);
	st = twofa_member_store_load(s, user, &m, &err);
	if (st == TWOFA_OK)
		*kind = m.status == TWOFA_MEMBER_INVITED ? CLI_RECORD_INVITED : CLI_RECORD_MEMBER;
	twofa_member_free(&m);
	if (st != TWOFA_OK && st != TWOFA_ENOTFOUND)
		return cli_fail_status(&err);
	return 0;
}

int cli_refuse_enrolled(cli_context *ctx, const char *user)
{
	char shown[TWOFA_USER_NAME_MAX + 1];
	cli_record kind;
	int rc;

	if ((rc = cli_record_kind(ctx, user, &kind)) != 0)
		return rc;
	if (kind == CLI_RECORD_INVITED)
		return cli_fail(EX_DATAERR,
				"%s is invited (to enrol at login); revoke the invite first with "
				"'twofa-enroll invite --revoke %s'",
				shown_user(user, shown, sizeof(shown)), shown);
	if (kind == CLI_RECORD_MEMBER)
		return cli_fail(EX_DATAERR,
				"%s is already enrolled (see 'twofa-enroll show', 'phone', 'passwd')",
				shown_user(user, shown, sizeof(shown)));
	return 0;
}

int cli_write_result(twofa_status st, const twofa_error *err, const char *undone)
{
	if (st == TWOFA_ECONFLICT)
		return cli_fail(twofa_status_exit_code(st), "%s; %s: run the command again", err->msg, undone);
	if (st != TWOFA_OK)
		return cli_fail_status(err);
	return 0;
}

/* The caller's change, never on an invited record. */
typedef struct member_change {
	twofa_member_change change;
	void *arg;
	bool invited;
} member_change;

static twofa_status change_member(twofa_member *m, void *arg, twofa_error *err)
{
	member_change *c = arg;

	if (m->status == TWOFA_MEMBER_INVITED) {
		c->invited = true;
		return twofa_fail(err, TWOFA_EINVAL, "%s is invited, not enrolled", m->user);
	}
	return c->change(m, c->arg, err);
}

int cli_update_member(cli_context *ctx, const char *user, twofa_member_change change, void *arg)
{
	member_change c = {change, arg, false};
	twofa_member_store *s;
	twofa_error err;
	twofa_status st;
	int rc;

	if ((rc = cli_members(ctx, &s)) != 0)
		return rc;
	twofa_error_clear(&err);
	st = twofa_member_store_update(s, user, change_member, &c, &err);
	if (c.invited)
		return cli_refuse_invited(user);
	if (st == TWOFA_ENOTFOUND)
		return not_enrolled(user);
	return cli_write_result(st, &err, "nothing was changed");
}
