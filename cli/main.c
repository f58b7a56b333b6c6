/* SPDX-License-Identifier: GPL-3.0-or-later */
/* twofa-enroll: enrolment and administration of twofa members.
 * main() parses the global options and dispatches to one command. */
#include "twofa_build.h"

#include <errno.h>
#include <getopt.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "util.h"

#define USER_HELP "USER is a login name: 1..256 bytes, no control characters, '/' or ':'.\n"
#define PASSWORD_HELP                                                                           \
	"The password is asked twice with echo off at a terminal; --password-stdin reads it\n"  \
	"once, as one line, from stdin. When stdin is not a terminal every answer (password,\n" \
	"its repeat, code) is one line of stdin, in that order.\n"
#define CODE_HELP "At the code prompt, 'call', 'sms' or 'resend' sends the code again (by that channel).\n"

const cli_command cli_commands[] = {
	{"add", cmd_add,
	 "add USER --phone NUMBER --country CC [--email ADDR] [--channel C] [--password-stdin] "
	 "[--shared-phone] | add USER --channel totp [--phone NUMBER --country CC] [TOTP options]",
	 "enrol USER: prove the phone with a code (or set up an app), then store the member", true,
	 "  --phone NUMBER     the number as people write it (national or international form)\n"
	 "  --country CC       ISO 3166-1 alpha-2 country of the number (see 'countries')\n"
	 "  --email ADDR       email address (needed for --channel email)\n"
	 "  --channel C        sms, call, whatsapp, email or totp (default: the configured channel)\n"
	 "  --password-stdin   read the password once from stdin\n"
	 "  --shared-phone     bind the number even if max_members_per_phone members have it\n"
	 "  --print-secret     totp: print the QR code and secret even if stdout is no terminal\n"
	 "  --ascii            totp: draw the QR code with ## (also when the locale is not UTF-8)\n"
	 "  --label TEXT       totp: the account name the app shows (default: the host name)\n" USER_HELP
		 PASSWORD_HELP CODE_HELP
	 "The member is stored only after the code was approved: active, or pending when\n"
	 "approval = manual. The number is also checked with Twilio Lookup; when Lookup cannot\n"
	 "be reached that is a warning, since the code proves the number anyway.\n"
	 "With --channel totp, --phone and --country are optional (a number is not proven then):\n"
	 "the app's QR code and secret are shown once, and the first code from the app verifies\n"
	 "the factor; after max_tries wrong codes the factor is deleted and nothing is stored.\n"},
	{"phone", cmd_phone, "phone USER --phone NUMBER --country CC [--channel C] [--shared-phone]",
	 "rebind USER to a new number once a code sent to it is approved", true,
	 "  --phone NUMBER, --country CC   the new number and its country\n"
	 "  --channel C        sms, call or whatsapp (default: the member's channel)\n"
	 "  --shared-phone     bind the number even if max_members_per_phone members have it\n" CODE_HELP},
	{"passwd", cmd_passwd, "passwd USER [--password-stdin]", "set a new password for USER", true,
	 PASSWORD_HELP},
	{"test", cmd_test, "test USER [--channel C]", "send USER a code and check it, without logging in",
	 true, CODE_HELP},
	{"totp", cmd_totp, "totp USER [--print-secret] [--ascii] [--label TEXT]",
	 "move USER to an authenticator app once its first code is right", true,
	 "  --print-secret   print the QR code and secret even if stdout is not a terminal\n"
	 "  --ascii          draw the QR code with ## (also when the locale is not UTF-8)\n"
	 "  --label TEXT     the account name the app shows (default: the host name)\n"
	 "Makes a Verify TOTP factor (and USER's entity, the first time) and shows its QR code\n"
	 "and secret once; twofa never stores them. The member's channel becomes totp only\n"
	 "after the first code from the app is right; recovery codes, password and phone are\n"
	 "kept, and a factor the member had before is deleted. After max_tries wrong codes the\n"
	 "new factor is deleted and nothing changes.\n"},
	{"approve", cmd_approve, "approve USER", "activate a member pending approval", true, NULL},
	{"disable", cmd_disable, "disable USER", "refuse logins of USER until enabled", true, NULL},
	{"enable", cmd_enable, "enable USER", "allow logins of a disabled member again", true, NULL},
	{"remove", cmd_remove, "remove USER [--yes] [--force]", "delete USER's record and login state", true,
	 "  --yes     do not ask for confirmation (needed when stdin is not a terminal)\n"
	 "  --force   remove an app member even when Twilio cannot delete their TOTP entity\n"
	 "An app member's TOTP entity and factor are deleted at Twilio first; when that fails\n"
	 "nothing is removed, unless --force ('db check' then lists what was left there).\n"},
	{"unlock", cmd_unlock, "unlock USER", "reset USER's failure count and lockout", true, NULL},
	{"recovery", cmd_recovery, "recovery USER [--count N] [--json]",
	 "make USER a new set of recovery codes and print it once", true,
	 "  --count N   how many codes: 1..20 (default 10)\n"
	 "  --json      print them as a JSON array of strings\n"
	 "The new set replaces any earlier one. Only the codes' hashes are stored, so this is\n"
	 "the one time the codes are shown: run the command again for a new set. Each code\n"
	 "is 16 letters and digits (XXXX-XXXX-XXXX-XXXX), for one use; a disabled or pending\n"
	 "member's codes do not work.\n"},
	{"bypass", cmd_bypass, "bypass USER [--uses N] [--ttl DURATION] [--json] | bypass USER --revoke",
	 "issue USER a bypass code for an incident and print it once, or revoke it", true,
	 "  --uses N         how many logins it lets in: 1..100 (default 1)\n"
	 "  --ttl DURATION   how long it works: SECONDS, or a number and s, m, h or d\n"
	 "                   (30m, 2h, 1d), from 1m to 30d (default 1h)\n"
	 "  --json           print {\"code\", \"uses\", \"expires\"} as JSON\n"
	 "  --revoke         remove USER's bypass code (exit 0 whether there was one or not)\n"
	 "A new code replaces any earlier one. Only its hash is stored, with the uses left, the\n"
	 "expiry and the admin who issued it (SUDO_USER under sudo, else the login name of the\n"
	 "real uid): 'show' tells them, never the code. It works at the code prompt as a\n"
	 "recovery code does; a disabled or pending member's code does not work.\n"},
	{"invite", cmd_invite, "invite USER [--ttl DURATION] [--json] | invite USER --revoke",
	 "issue USER, not enrolled, a one-time code to enrol at login and print it once", true,
	 "  --ttl DURATION   how long it works: SECONDS, or a number and s, m, h or d\n"
	 "                   (30m, 72h, 7d), from 10m to 30d (default 72h)\n"
	 "  --json           print {\"code\", \"expires\"} as JSON\n"
	 "  --revoke         remove USER's invite (exit 0 whether there was one or not)\n"
	 "For pam_twofa's enroll=invite: at their first login USER types the code, then their\n"
	 "number and a code sent to it; the enrolment consumes the invite. USER is stored as\n"
	 "invited (the code's hash and expiry only; 'list' and 'show' say so) and is not\n"
	 "enrolled until then. A new invite replaces an earlier one; an enrolled user is\n"
	 "refused.\n"},
	{"list", cmd_list, "list [--status active|pending|disabled|invited] [--json]",
	 "list members (masked numbers; full E.164 only in --json)", true, NULL},
	{"show", cmd_show, "show USER [--json]", "show one member", true, NULL},
	{"export", cmd_export, "export [--output FILE]",
	 "print every member as JSON lines, password hashes included", true,
	 "One object per line: the fields of 'show --json' plus \"v\" and \"password_hash\", then\n"
	 "the record's later fields that are set (\"recovery\", \"version\", ...).\n"
	 "The output holds password hashes: keep it as safe as members.db.\n"
	 "  --output FILE   write to the new FILE, created with mode 0600\n"},
	{"import", cmd_import, "import [--replace] FILE|-", "add members from an export (all or nothing)",
	 true,
	 "  --replace   overwrite members that already exist (otherwise that is an error)\n"
	 "Every line is checked before anything is written; then all lines are written under one\n"
	 "lock. last_login, failures and locked_until are runtime state and are not imported.\n"},
	{"check-config", cmd_check_config, "check-config",
	 "check the configuration file, the stores and the Twilio credentials", true, NULL},
	{"rate-limit", cmd_rate_limit, "rate-limit [--max N] [--interval SECONDS]",
	 "cap each member's codes across every host with a Twilio Verify rate limit", true,
	 "  makes the rate limit named by rate_limit in twofa.conf, a bucket of N sends (10)\n"
	 "  per SECONDS (3600) and a rate-limit id for every member who has none; running\n"
	 "  it again changes nothing that is there\n"},
	{"db", cmd_db, "db check | db backup FILE | db recover [members|state]",
	 "check, copy or recover the stores", true,
	 "  db check          walk members.db and state.db and check every record, then list\n"
	 "                    TOTP entities and factors at Twilio that no member refers to\n"
	 "  db backup FILE    consistent copy of members.db (0600; FILE must not exist)\n"
	 "  db recover [members|state]\n"
	 "                    rebuild a damaged store with GDBM's recovery; the damaged file is\n"
	 "                    kept beside it as STORE.bak-TIME\n"},
	{"countries", cmd_countries, "countries [--json]",
	 "list countries with their ISO code and calling code", false,
	 "  when twofa.conf sets countries, a last column says which it allows (add and phone\n"
	 "  refuse the others); --json gives \"allowed\" whenever twofa.conf could be read\n"},
	{"normalize", cmd_normalize, "normalize --country CC [--] NUMBER",
	 "print NUMBER in E.164 form for country CC", false, NULL},
	{NULL, NULL, NULL, NULL, false, NULL},
};

static bool stderr_color;

/* One line on stderr; color (CLI_RESET for none) only when stderr is a terminal. */
static void vprint(cli_color_id color, const char *label, const char *fmt, va_list ap)
	__attribute__((format(printf, 3, 0)));
static void vprint(cli_color_id color, const char *label, const char *fmt, va_list ap)
{
	fputs("twofa-enroll: ", stderr);
	fputs(cli_color(stderr_color && color != CLI_RESET, color), stderr);
	fputs(label, stderr);
	vfprintf(stderr, fmt, ap);
	fputs(cli_color(stderr_color && color != CLI_RESET, CLI_RESET), stderr);
	fputc('\n', stderr);
}

int cli_fail(int exit_code, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vprint(CLI_RED, "", fmt, ap);
	va_end(ap);
	return exit_code;
}

void cli_warn(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vprint(CLI_YELLOW, "warning: ", fmt, ap);
	va_end(ap);
}

void cli_note(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vprint(CLI_RESET, "", fmt, ap);
	va_end(ap);
}

int cli_fail_status(const twofa_error *err)
{
	/* A damaged store is repaired with the db commands: say so. */
	if (err->status == TWOFA_ESTORE && strstr(err->msg, "db check") == NULL)
		return cli_fail(EX_CANTCREAT, "%s (see 'twofa-enroll db check')", err->msg);
	return cli_fail(twofa_status_exit_code(err->status), "%s", err->msg);
}

void cli_usage(FILE *stream, const cli_command *cmd)
{
	fprintf(stream, "usage: twofa-enroll [--config PATH] %s\n  %s\n", cmd->synopsis, cmd->summary);
	if (cmd->help != NULL)
		fprintf(stream, "\n%s", cmd->help);
}

int cli_usage_error(const char *command, const char *why)
{
	for (const cli_command *c = cli_commands; c->name != NULL; c++)
		if (strcmp(c->name, command) == 0)
			return cli_fail(EX_USAGE, "%s; usage: twofa-enroll %s", why, c->synopsis);
	return cli_fail(EX_USAGE, "%s", why);
}

bool cli_wants_help(int argc, char **argv)
{
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--") == 0)
			return false;
		if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0)
			return true;
	}
	return false;
}

bool cli_try_config(cli_context *ctx, twofa_error *err)
{
	if (ctx->config_loaded)
		return true;
	twofa_error_clear(err);
	twofa_config_init(&ctx->config);
	if (twofa_config_load(&ctx->config, ctx->config_path, err) != TWOFA_OK) {
		twofa_config_free(&ctx->config);
		return false;
	}
	ctx->config_loaded = true;
	return true;
}

int cli_load_config(cli_context *ctx)
{
	twofa_error err;

	if (cli_try_config(ctx, &err))
		return 0;
	return cli_fail(err.status == TWOFA_EPERM ? EX_NOPERM : EX_CONFIG, "%s", err.msg);
}

int cli_check_user_arg(const char *user)
{
	if (user[0] == '\0')
		return cli_fail(EX_DATAERR, "the user name is empty");
	if (strlen(user) > TWOFA_USER_NAME_MAX)
		return cli_fail(EX_DATAERR, "the user name is longer than %d bytes", TWOFA_USER_NAME_MAX);
	if (!twofa_user_name_valid(user))
		return cli_fail(EX_DATAERR,
				"not a valid user name: it must be UTF-8 without control characters, '/' or ':'");
	return 0;
}

static void print_help(FILE *stream)
{
	fprintf(stream, "usage: twofa-enroll [--config PATH] COMMAND [ARGS]\n"
			"       twofa-enroll --help | --version\n\n"
			"Enrol and administer members of the twofa second factor (pam_twofa).\n\n"
			"Commands:\n");
	for (const cli_command *c = cli_commands; c->name != NULL; c++)
		fprintf(stream, "  %s\n      %s\n", c->synopsis, c->summary);
	fprintf(stream,
		"\nOptions:\n"
		"  --config PATH   configuration file (default %s)\n"
		"  --help          this text; COMMAND --help for one command\n"
		"  --version       print the version\n\n"
		"Exit status: 0 success, 64 usage, 65 bad input data, 69 Twilio unavailable,\n"
		"73 store cannot be written, 77 permission, 78 configuration, 1 other errors.\n"
		"See twofa-enroll(8).\n",
		TWOFA_DEFAULT_CONFIG);
}

/* Secrets pass through this process (a TOTP factor's seed in Twilio's
 * answer, Twilio's credentials, codes, passwords): no core file holds them,
 * and the same uid's other processes cannot ptrace it. */
static bool no_core_dumps(void)
{
	struct rlimit core = {0, 0};

	return prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) == 0 && setrlimit(RLIMIT_CORE, &core) == 0;
}

int main(int argc, char **argv)
{
	cli_context ctx = {.config_path = TWOFA_DEFAULT_CONFIG};
	/* NO_COLOR set at all (even empty) turns colours off. */
	bool color_ok = getenv("NO_COLOR") == NULL;
	int i = 1, rc;

	if (!no_core_dumps())
		return cli_fail(EX_OSERR, "cannot turn core dumps off: %s", strerror(errno));
	/* Commands print their own one-line errors for bad options. */
	opterr = 0;
	ctx.color = color_ok && isatty(STDOUT_FILENO);
	ctx.color_err = color_ok && isatty(STDERR_FILENO);
	stderr_color = ctx.color_err;
	for (; i < argc && argv[i][0] == '-'; i++) {
		const char *config_path = twofa_skip_prefix(argv[i], "--config=");

		if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
			print_help(stdout);
			return EX_OK;
		} else if (strcmp(argv[i], "--version") == 0) {
			printf("twofa-enroll (%s) %s\n", PACKAGE_NAME, PACKAGE_VERSION);
			return EX_OK;
		} else if (strcmp(argv[i], "--config") == 0 && i + 1 < argc) {
			ctx.config_path = argv[++i];
		} else if (config_path != NULL) {
			ctx.config_path = config_path;
		} else {
			return cli_fail(EX_USAGE, "unknown option '%s' (try --help)", argv[i]);
		}
	}
	if (i >= argc)
		return cli_fail(EX_USAGE, "no command given (try --help)");
	if (ctx.config_path[0] == '\0')
		return cli_fail(EX_USAGE, "--config needs a path");
	for (const cli_command *c = cli_commands; c->name != NULL; c++) {
		if (strcmp(c->name, argv[i]) != 0)
			continue;
		if (cli_wants_help(argc - i, argv + i)) {
			cli_usage(stdout, c);
			return EX_OK;
		}
		/* The stores and the configuration are root's alone. */
		if (c->needs_root && geteuid() != 0)
			return cli_fail(EX_NOPERM,
					"%s must run as root (the configuration and the member "
					"store are readable by root only)",
					c->name);
		cli_signals_install();
		rc = c->run(&ctx, argc - i, argv + i);
		twofa_member_store_close(ctx.members);
		if (ctx.config_loaded)
			twofa_config_free(&ctx.config);
		if (fflush(stdout) != 0 && rc == EX_OK)
			rc = cli_fail(1, "cannot write the output");
		return rc;
	}
	return cli_fail(EX_USAGE, "unknown command '%s' (try --help)", argv[i]);
}
