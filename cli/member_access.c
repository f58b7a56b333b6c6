/* SPDX-License-Identifier: GPL-3.0-or-later */
/* Reading and changing one member for the commands, with the messages and
 * exit codes the CLI promises ("alice is not enrolled": 65). */
#include "twofa_build.h"

#include <errno.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "store.h"
#include "util.h"

/* True when the member store file does not exist (nobody enrolled yet). */
static bool store_missing(const char *db)
{
	return access(db, F_OK) != 0 && errno == ENOENT;
}

static const char *shown_user(const char *user, char *buf, size_t size)
{
	twofa_strlcpy(buf, user, size);
	twofa_sanitize(buf);
	return buf;
}

int cli_load_member(cli_context *ctx, const char *user, twofa_member *m)
{
	char shown[TWOFA_USER_NAME_MAX + 1];
	twofa_error err;
	twofa_status st;

	memset(m, 0, sizeof(*m));
	twofa_error_clear(&err);
	if (store_missing(ctx->config.members_db))
		return cli_fail(EX_DATAERR, "%s is not enrolled (there is no member store %s yet)",
				shown_user(user, shown, sizeof(shown)), ctx->config.members_db);
	st = twofa_members_load(ctx->config.members_db, user, m, &err);
	if (st == TWOFA_ENOTFOUND)
		return cli_fail(EX_DATAERR, "%s is not enrolled", shown_user(user, shown, sizeof(shown)));
	if (st != TWOFA_OK)
		return cli_fail_status(&err);
	return 0;
}

int cli_refuse_enrolled(cli_context *ctx, const char *user)
{
	char shown[TWOFA_USER_NAME_MAX + 1];
	twofa_store *s = NULL;
	twofa_error err;
	twofa_status st;

	twofa_error_clear(&err);
	st = twofa_store_open(&s, ctx->config.members_db, TWOFA_STORE_READ, TWOFA_STORE_LOCK_TIMEOUT_MS, &err);
	if (st == TWOFA_ENOTFOUND)
		return 0;
	if (st != TWOFA_OK)
		return cli_fail_status(&err);
	st = twofa_store_exists(s, user, &err);
	(void)twofa_store_close(s, NULL);
	if (st == TWOFA_OK)
		return cli_fail(EX_DATAERR,
				"%s is already enrolled (see 'twofa-enroll show', 'phone', 'passwd')",
				shown_user(user, shown, sizeof(shown)));
	if (st != TWOFA_ENOTFOUND)
		return cli_fail_status(&err);
	return 0;
}

int cli_update_member(cli_context *ctx, const char *user, twofa_member_change change, void *arg)
{
	char shown[TWOFA_USER_NAME_MAX + 1];
	twofa_error err;
	twofa_status st;

	twofa_error_clear(&err);
	/* A WRITE open would create an empty store: say "not enrolled" instead. */
	if (store_missing(ctx->config.members_db))
		return cli_fail(EX_DATAERR, "%s is not enrolled (there is no member store %s yet)",
				shown_user(user, shown, sizeof(shown)), ctx->config.members_db);
	st = twofa_members_update(ctx->config.members_db, user, change, arg, &err);
	if (st == TWOFA_ENOTFOUND)
		return cli_fail(EX_DATAERR, "%s is not enrolled", shown_user(user, shown, sizeof(shown)));
	if (st != TWOFA_OK)
		return cli_fail_status(&err);
	return 0;
}
