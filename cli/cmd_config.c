/* SPDX-License-Identifier: GPL-3.0-or-later */
/* check-config: the file (owner, mode, keys), the stores, and the
 * credentials themselves with a Fetch Service call, then the service's TOTP
 * settings. Each step prints one "ok" line; the first failure is one line
 * on stderr saying what is wrong. */
#include "twofa_build.h"

#include <string.h>

#include "cli.h"
#include "store.h"
#include "util.h"
#include "verify_totp.h"

/* Opens a store for reading, which checks its directory and files. */
static int check_store(const char *label, const char *path)
{
	twofa_store *s = NULL;
	twofa_error err;
	twofa_status st;
	size_t count = 0;

	twofa_error_clear(&err);
	st = twofa_store_open(&s, path, TWOFA_STORE_READ, TWOFA_STORE_LOCK_TIMEOUT_MS, &err);
	if (st == TWOFA_ENOTFOUND) {
		printf("ok  %s %s: not created yet (the first write creates it)\n", label, path);
		return 0;
	}
	if (st == TWOFA_OK)
		st = twofa_store_count(s, &count, &err);
	(void)twofa_store_close(s, NULL);
	if (st != TWOFA_OK)
		return cli_fail(twofa_status_exit_code(st), "%s %s: %s", label, path, err.msg);
	printf("ok  %s %s: %zu record%s\n", label, path, count, count == 1 ? "" : "s");
	return 0;
}

/* A member store that is not a file here: reached and counted. */
static int check_member_store(cli_context *ctx)
{
	twofa_member_store *s;
	twofa_error err;
	size_t count = 0;
	int rc;

	if ((rc = cli_members(ctx, &s)) != 0)
		return rc;
	twofa_error_clear(&err);
	if (twofa_member_store_count(s, &count, &err) != TWOFA_OK)
		return cli_fail(twofa_status_exit_code(err.status), "members %s: %s",
				twofa_member_store_describe(s), err.msg);
	printf("ok  members %s: %zu member%s\n", twofa_member_store_describe(s), count, count == 1 ? "" : "s");
	return 0;
}

/* What an authenticator app's codes are (the service's "totp" object, or
 * Twilio's defaults where it says nothing), and the clock they need. A
 * failure is a warning: members of other channels do not need it. */
static void show_totp_settings(twofa_verify *v)
{
	twofa_totp_settings s;
	twofa_verify_result r;
	long step, digits, skew;

	memset(&s, 0, sizeof(s));
	memset(&r, 0, sizeof(r));
	if (twofa_totp_service_settings(v, &s, &r) != TWOFA_VERIFY_OK) {
		cli_warn("cannot read the Verify service's TOTP settings (%s)", r.log_message);
		return;
	}
	/* Twilio's defaults: 30 s, 6 digits, a skew of 1 step. */
	step = s.time_step > 0 ? s.time_step : 30;
	digits = s.code_length > 0 ? s.code_length : 6;
	skew = s.time_step > 0 ? s.skew : 1;
	twofa_sanitize(s.issuer);
	printf("ok  authenticator apps (totp): codes of %ld digits every %ld s, %ld step%s of skew%s%s%s; "
	       "every host needs a synchronised clock (NTP): a code is good for about %ld s\n",
	       digits, step, skew, skew == 1 ? "" : "s", s.issuer[0] != '\0' ? ", issuer \"" : "", s.issuer,
	       s.issuer[0] != '\0' ? "\"" : "", (2 * skew + 1) * step);
}

int cmd_check_config(cli_context *ctx, int argc, char **argv)
{
	twofa_verify_details details;
	twofa_verify_result r;
	twofa_verify *v = NULL;
	twofa_verify_outcome o;
	twofa_error err;
	int rc;

	(void)argv;
	if (argc != 1)
		return cli_usage_error("check-config", "check-config takes no arguments");
	if ((rc = cli_load_config(ctx)) != 0)
		return rc;
	printf("ok  %s: owner, mode and keys\n", ctx->config_path);
	twofa_error_clear(&err);
	if (twofa_config_check_credentials(&ctx->config, &err) != TWOFA_OK)
		return cli_fail(EX_CONFIG, "%s: %s", ctx->config_path, err.msg);
	printf("ok  credentials present (%s)\n",
	       ctx->config.api_key_sid != NULL ? "API key" : "Account SID and Auth Token");
	if ((rc = ctx->config.store == TWOFA_STORE_GDBM ? check_store("members", ctx->config.members_db)
							: check_member_store(ctx)) != 0 ||
	    (rc = check_store("state", ctx->config.state_db)) != 0)
		return rc;
	if ((rc = cli_verify_new(ctx, &v)) != 0)
		return rc;
	memset(&r, 0, sizeof(r));
	memset(&details, 0, sizeof(details));
	o = twofa_verify_fetch_service(v, &details, &r);
	if (o == TWOFA_VERIFY_OK) {
		printf("ok  Twilio accepted the credentials; Verify service \"%s\", codes of %ld digits\n",
		       details.friendly_name, details.code_length);
		show_totp_settings(v);
		rc = cli_check_rate_limit(ctx, v);
	}
	twofa_verify_free(v);
	switch (o) {
	case TWOFA_VERIFY_OK:
		return rc;
	case TWOFA_VERIFY_BAD_CREDENTIALS:
		return cli_fail(EX_CONFIG, "Twilio refused the credentials: check %s (%s)",
				ctx->config.api_key_sid != NULL ? "api_key_sid and api_key_secret"
								: "account_sid and auth_token",
				r.log_message);
	case TWOFA_VERIFY_SERVICE_NOT_FOUND:
		return cli_fail(EX_CONFIG,
				"Twilio has no Verify service with this verify_service_sid in the account (%s)",
				r.log_message);
	default:
		return cli_fail(cli_outcome_exit(o), "cannot check the credentials with Twilio (%s): %s",
				ctx->config.verify_url, r.log_message);
	}
}
