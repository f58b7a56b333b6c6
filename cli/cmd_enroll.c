/* SPDX-License-Identifier: GPL-3.0-or-later */
/* add, phone, passwd, test: the commands that talk to the member and, for
 * all but passwd, prove the phone with a code first. */
#include "twofa_build.h"

#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <sodium.h>

#include "cli.h"
#include "password.h"
#include "username.h"
#include "phone.h"
#include "util.h"
#include "verify_totp.h"

/* A well-formed stand-in hash: lets twofa_member_validate check the other
 * fields (email shape...) before anyone types a password. */
#define PLACEHOLDER_HASH "$argon2id$v=19$m=65536,t=2,p=1$placeholder$placeholder"

typedef struct enroll_args {
	const char *user;
	const char *phone;
	const char *country;
	const char *email;
	const char *channel_name;
	bool password_stdin;
	bool shared_phone; /* --shared-phone: past max_members_per_phone */
	cli_totp_options totp;
} enroll_args;

/* Parses "COMMAND USER [options]" for the options allowed in allowed
 * ("pceCsS" letters, and PAL for an app's options). 0 or an exit code. */
static int parse_args(const char *command, const char *allowed, int argc, char **argv, enroll_args *a)
{
	static const struct option options[] = {
		{"phone", required_argument, NULL, 'p'},    {"country", required_argument, NULL, 'c'},
		{"email", required_argument, NULL, 'e'},    {"channel", required_argument, NULL, 'C'},
		{"password-stdin", no_argument, NULL, 's'}, {"shared-phone", no_argument, NULL, 'S'},
		{"print-secret", no_argument, NULL, 'P'},   {"ascii", no_argument, NULL, 'A'},
		{"label", required_argument, NULL, 'L'},    {NULL, 0, NULL, 0},
	};
	char why[128];
	int opt;

	memset(a, 0, sizeof(*a));
	a->totp.command = command;
	optind = 0;
	while ((opt = getopt_long(argc, argv, ":", options, NULL)) != -1) {
		if (opt == '?' || opt == ':' || strchr(allowed, opt) == NULL) {
			snprintf(why, sizeof(why), "%s: %s '%s'", command,
				 opt == ':' ? "missing value for" : "unknown option",
				 optind > 0 && optind <= argc ? argv[optind - 1] : "?");
			twofa_sanitize(why);
			return cli_usage_error(command, why);
		}
		switch (opt) {
		case 'p':
			a->phone = optarg;
			break;
		case 'c':
			a->country = optarg;
			break;
		case 'e':
			a->email = optarg;
			break;
		case 'C':
			a->channel_name = optarg;
			break;
		case 's':
			a->password_stdin = true;
			break;
		case 'S':
			a->shared_phone = true;
			break;
		default:
			(void)cli_totp_parse_option(opt, optarg, &a->totp);
			break;
		}
	}
	if (optind + 1 != argc) {
		snprintf(why, sizeof(why), "%s needs exactly one USER", command);
		return cli_usage_error(command, why);
	}
	a->user = argv[optind];
	/* An app member's number is optional: both or neither. */
	if (strchr(allowed, 'p') != NULL && (a->phone == NULL || a->country == NULL) &&
	    (a->phone != NULL || a->country != NULL || strchr(allowed, 'P') == NULL ||
	     a->channel_name == NULL || strcmp(a->channel_name, "totp") != 0)) {
		snprintf(why, sizeof(why), "%s needs --phone and --country%s", command,
			 strchr(allowed, 'P') != NULL ? " (both or, with --channel totp, neither)" : "");
		return cli_usage_error(command, why);
	}
	return cli_check_user_arg(a->user);
}

static int parse_channel(const char *command, const char *name, twofa_channel *out)
{
	char why[128];

	if (name == NULL || twofa_channel_parse(name, out))
		return 0;
	snprintf(why, sizeof(why), "%s: --channel must be sms, call, whatsapp, email%s", command,
		 strcmp(command, "add") == 0 ? " or totp" : "");
	return cli_usage_error(command, why);
}

/* Normalises the typed number for the country (65 with the reason). */
static int normalize_phone(const char *number, const char *country, char e164[TWOFA_E164_SIZE])
{
	twofa_error err;

	twofa_error_clear(&err);
	if (twofa_phone_normalize(number, country, e164, &err) != TWOFA_OK)
		return cli_fail_status(&err);
	return 0;
}

static void upper_country(const char *in, char out[3])
{
	out[0] = (char)(in[0] >= 'a' && in[0] <= 'z' ? in[0] - 'a' + 'A' : in[0]);
	out[1] = (char)(in[1] >= 'a' && in[1] <= 'z' ? in[1] - 'a' + 'A' : in[1]);
	out[2] = '\0';
}

/* max_members_per_phone, before any code is sent: a number that serves as
 * many other members already is refused (65), unless shared (--shared-phone:
 * a warning). Members who share one from before keep it: only a new binding
 * is checked. */
static int check_shared(cli_context *ctx, const char *e164, const char *user, bool shared)
{
	char shown[TWOFA_PHONE_MASK_SIZE];
	twofa_member_store *s;
	twofa_error err;
	size_t others = 0;
	int rc;

	if ((rc = cli_members(ctx, &s)) != 0)
		return rc;
	twofa_error_clear(&err);
	if (twofa_member_store_phone_users(s, e164, user, &others, &err) != TWOFA_OK)
		return cli_fail_status(&err);
	if (others < (size_t)ctx->config.max_members_per_phone)
		return 0;
	twofa_phone_mask(e164, shown, sizeof(shown));
	if (shared) {
		cli_warn("%s serves %s%zu other member%s already (max_members_per_phone = %ld): bound anyway "
			 "(--shared-phone)",
			 shown, others >= TWOFA_MEMBER_PHONE_USERS_MAX ? "at least " : "", others,
			 others == 1 ? "" : "s", ctx->config.max_members_per_phone);
		return 0;
	}
	return cli_fail(EX_DATAERR,
			"%s serves %s%zu other member%s already (max_members_per_phone = %ld); nothing was "
			"sent or stored: pass --shared-phone to bind it anyway",
			shown, others >= TWOFA_MEMBER_PHONE_USERS_MAX ? "at least " : "", others,
			others == 1 ? "" : "s", ctx->config.max_members_per_phone);
}

/* The module looks members up by the account's own name (pw_name), so that
 * is the name stored: a->user becomes it, held in *account (free() it). */
static int canonical_user(enroll_args *a, char **account)
{
	twofa_error err;
	bool known = false;

	twofa_error_clear(&err);
	if (twofa_canonical_user(a->user, account, &known, &err) != TWOFA_OK)
		return cli_fail_status(&err);
	if (!known)
		cli_warn("%s is not a user this system knows (yet); enrolling anyway", a->user);
	else if (strcmp(*account, a->user) != 0)
		cli_warn("%s is %s in the user database; enrolling %s", a->user, *account, *account);
	a->user = *account;
	return 0;
}

static int add(cli_context *ctx, const enroll_args *args)
{
	char hash[crypto_pwhash_STRBYTES];
	char e164[TWOFA_E164_SIZE];
	twofa_verify *v = NULL;
	twofa_member_store *members = NULL;
	twofa_member m;
	cli_destination d;
	twofa_error err;
	enroll_args a = *args;
	char factor[TWOFA_SID_LEN + 1] = "";
	bool app;
	time_t now;
	int rc;

	e164[0] = '\0';
	if (a.phone != NULL && (rc = normalize_phone(a.phone, a.country, e164)) != 0)
		return rc;
	if ((rc = cli_load_config(ctx)) != 0)
		return rc;
	memset(&m, 0, sizeof(m));
	m.channel = ctx->config.channel;
	if ((rc = parse_channel("add", a.channel_name, &m.channel)) != 0)
		return rc;
	app = m.channel == TWOFA_CHANNEL_TOTP;
	if (m.channel == TWOFA_CHANNEL_EMAIL && a.email == NULL)
		return cli_usage_error("add", "add: the email channel needs --email");
	if (!app && a.phone == NULL)
		return cli_usage_error("add", "add needs --phone and --country");
	if (!app && (a.totp.print_secret || a.totp.ascii || a.totp.label != NULL))
		return cli_usage_error("add",
				       "add: --print-secret, --ascii and --label are for --channel totp");
	if (app && (rc = cli_totp_preflight(&a.totp)) != 0)
		return rc;
	/* Check every field of the record before asking anything. */
	m.user = (char *)a.user;
	m.email = (char *)a.email;
	twofa_strlcpy(m.phone, e164, sizeof(m.phone));
	if (a.country != NULL)
		upper_country(a.country, m.country);
	if (app) {
		/* The factor's stand-in until Twilio names it. */
		twofa_error_clear(&err);
		if (twofa_totp_new_identity(m.totp_entity, &err) != TWOFA_OK)
			return cli_fail_status(&err);
		twofa_strlcpy(m.totp_factor, "YF00000000000000000000000000000000", sizeof(m.totp_factor));
	}
	m.password_hash = (char *)PLACEHOLDER_HASH;
	m.status = ctx->config.approval == TWOFA_APPROVAL_MANUAL ? TWOFA_MEMBER_PENDING : TWOFA_MEMBER_ACTIVE;
	m.created = m.updated = m.verified = time(NULL);
	/* Every member has one, so turning rate_limit on later needs no migration. */
	twofa_member_new_rate_limit_id(m.rate_limit_id);
	twofa_error_clear(&err);
	if (twofa_member_validate(&m, &err) != TWOFA_OK)
		return cli_fail(EX_DATAERR, "%s", err.msg);
	if ((rc = cli_refuse_enrolled(ctx, a.user)) != 0)
		return rc;
	if (m.phone[0] != '\0' && ((rc = cli_check_country(ctx, m.country)) != 0 ||
				   (rc = check_shared(ctx, m.phone, a.user, a.shared_phone)) != 0))
		return rc;
	if ((rc = cli_verify_new(ctx, &v)) != 0)
		return rc;
	rc = e164[0] != '\0' ? cli_lookup_number(v, e164, m.country) : 0;
	if (rc == 0)
		rc = cli_read_new_password(a.user, a.password_stdin, ctx->config.password_strength, hash,
					   sizeof(hash));
	if (rc == 0 && app) {
		rc = cli_totp_enrol(v, m.totp_entity, true, &a.totp, ctx->config.max_tries, factor);
		if (rc == 0)
			twofa_strlcpy(m.totp_factor, factor, sizeof(m.totp_factor));
	} else if (rc == 0) {
		cli_destination_set(&d, e164, a.email, m.channel);
		rc = cli_prove_possession(v, &d, e164, ctx->config.max_tries);
	}
	if (rc == 0 && cli_interrupted)
		rc = cli_fail(CLI_EXIT_INTERRUPTED, "interrupted; nothing was stored");
	if (rc == 0) {
		now = time(NULL);
		m.password_hash = hash;
		m.created = m.updated = m.verified = now;
		rc = cli_members(ctx, &members);
		if (rc == 0 && twofa_member_store_put(members, &m, TWOFA_MEMBER_PUT_ADD, &err) != TWOFA_OK)
			rc = err.status == TWOFA_EEXIST
				     ? cli_fail(EX_DATAERR,
						"%s was enrolled by someone else meanwhile; nothing was stored",
						m.user)
				     : cli_fail_status(&err);
	}
	/* A verified factor nobody refers to: gone with its new entity. */
	if (rc != 0 && factor[0] != '\0')
		cli_totp_undo(v, m.totp_entity, factor, true);
	twofa_verify_free(v);
	if (rc == 0) {
		char shown[TWOFA_PHONE_MASK_SIZE];

		if (e164[0] != '\0')
			twofa_phone_mask(e164, shown, sizeof(shown));
		if (app)
			printf("%s enrolled with the authenticator app%s%s (%s)%s\n", m.user,
			       e164[0] != '\0' ? " and " : "", e164[0] != '\0' ? shown : "",
			       twofa_member_status_name(m.status),
			       m.status == TWOFA_MEMBER_PENDING ? "; approve with 'twofa-enroll approve'"
								: "");
		else
			printf("%s enrolled with %s (%s)%s\n", m.user, shown,
			       twofa_member_status_name(m.status),
			       m.status == TWOFA_MEMBER_PENDING ? "; approve with 'twofa-enroll approve'"
								: "");
		if (app && e164[0] != '\0')
			cli_note("the number of %s was not proven with a code: 'twofa-enroll test %s --channel sms' "
				 "proves it",
				 m.user, m.user);
	}
	sodium_memzero(hash, sizeof(hash));
	return rc;
}

int cmd_add(cli_context *ctx, int argc, char **argv)
{
	char *account = NULL;
	enroll_args a;
	int rc;

	if ((rc = parse_args("add", "pceCsSPAL", argc, argv, &a)) != 0)
		return rc;
	if ((rc = canonical_user(&a, &account)) == 0)
		rc = add(ctx, &a);
	free(account);
	return rc;
}

typedef struct new_phone {
	char e164[TWOFA_E164_SIZE];
	char country[3];
	bool set_channel;
	twofa_channel channel;
	time_t now;
} new_phone;

static twofa_status change_phone(twofa_member *m, void *arg, twofa_error *err)
{
	const new_phone *p = arg;

	(void)err;
	twofa_strlcpy(m->phone, p->e164, sizeof(m->phone));
	memcpy(m->country, p->country, sizeof(m->country));
	if (p->set_channel)
		m->channel = p->channel;
	m->updated = m->verified = p->now > m->created ? p->now : m->created;
	return TWOFA_OK;
}

int cmd_phone(cli_context *ctx, int argc, char **argv)
{
	twofa_verify *v = NULL;
	new_phone p;
	cli_destination d;
	twofa_member m;
	enroll_args a;
	int rc;

	memset(&p, 0, sizeof(p));
	if ((rc = parse_args("phone", "pcCS", argc, argv, &a)) != 0)
		return rc;
	if ((rc = normalize_phone(a.phone, a.country, p.e164)) != 0)
		return rc;
	upper_country(a.country, p.country);
	if (a.channel_name != NULL) {
		if ((rc = parse_channel("phone", a.channel_name, &p.channel)) != 0)
			return rc;
		if (p.channel == TWOFA_CHANNEL_EMAIL || p.channel == TWOFA_CHANNEL_TOTP)
			return cli_usage_error("phone",
					       "phone: a new number is proven by sms, call or whatsapp");
		p.set_channel = true;
	}
	if ((rc = cli_load_config(ctx)) != 0)
		return rc;
	if ((rc = cli_load_member(ctx, a.user, &m)) != 0)
		return rc;
	if (!p.set_channel)
		p.channel = m.channel == TWOFA_CHANNEL_EMAIL || m.channel == TWOFA_CHANNEL_TOTP
				    ? TWOFA_CHANNEL_SMS
				    : m.channel;
	twofa_member_free(&m);
	if ((rc = cli_check_country(ctx, p.country)) != 0 ||
	    (rc = check_shared(ctx, p.e164, a.user, a.shared_phone)) != 0)
		return rc;
	if ((rc = cli_verify_new(ctx, &v)) != 0)
		return rc;
	rc = cli_lookup_number(v, p.e164, p.country);
	if (rc == 0) {
		/* The code goes to the new number: that is what it proves. */
		cli_destination_set(&d, p.e164, NULL, p.channel);
		rc = cli_prove_possession(v, &d, p.e164, ctx->config.max_tries);
	}
	twofa_verify_free(v);
	if (rc == 0 && cli_interrupted)
		rc = cli_fail(CLI_EXIT_INTERRUPTED, "interrupted; nothing was changed");
	if (rc == 0) {
		p.now = time(NULL);
		rc = cli_update_member(ctx, a.user, change_phone, &p);
	}
	if (rc == 0) {
		char shown[TWOFA_PHONE_MASK_SIZE];

		twofa_phone_mask(p.e164, shown, sizeof(shown));
		printf("%s now uses %s\n", a.user, shown);
	}
	return rc;
}

typedef struct new_password {
	const char *hash;
	time_t now;
} new_password;

static twofa_status change_password(twofa_member *m, void *arg, twofa_error *err)
{
	const new_password *p = arg;
	char *copy = twofa_strdup(p->hash);

	if (copy == NULL)
		return twofa_fail(err, TWOFA_ENOMEM, "out of memory");
	twofa_free_secret(m->password_hash);
	m->password_hash = copy;
	m->updated = p->now > m->created ? p->now : m->created;
	return TWOFA_OK;
}

int cmd_passwd(cli_context *ctx, int argc, char **argv)
{
	char hash[crypto_pwhash_STRBYTES];
	new_password p;
	twofa_member m;
	enroll_args a;
	int rc;

	if ((rc = parse_args("passwd", "s", argc, argv, &a)) != 0)
		return rc;
	if ((rc = cli_load_config(ctx)) != 0)
		return rc;
	/* Say "not enrolled" before asking for a password nobody can use. */
	if ((rc = cli_load_member(ctx, a.user, &m)) != 0)
		return rc;
	twofa_member_free(&m);
	rc = cli_read_new_password(a.user, a.password_stdin, ctx->config.password_strength, hash,
				   sizeof(hash));
	if (rc == 0) {
		p.hash = hash;
		p.now = time(NULL);
		rc = cli_update_member(ctx, a.user, change_password, &p);
	}
	sodium_memzero(hash, sizeof(hash));
	if (rc == 0)
		printf("password of %s changed\n", a.user);
	return rc;
}

static twofa_status change_verified(twofa_member *m, void *arg, twofa_error *err)
{
	const time_t *now = arg;

	(void)err;
	if (*now > m->created)
		m->verified = *now;
	return TWOFA_OK;
}

int cmd_test(cli_context *ctx, int argc, char **argv)
{
	twofa_verify *v = NULL;
	cli_destination d;
	twofa_channel channel = TWOFA_CHANNEL_SMS;
	twofa_member m;
	enroll_args a;
	time_t now;
	int rc;

	if ((rc = parse_args("test", "C", argc, argv, &a)) != 0)
		return rc;
	if ((rc = parse_channel("test", a.channel_name, &channel)) != 0)
		return rc;
	if ((rc = cli_load_config(ctx)) != 0)
		return rc;
	if ((rc = cli_load_member(ctx, a.user, &m)) != 0)
		return rc;
	if (a.channel_name == NULL)
		channel = m.channel == TWOFA_CHANNEL_TOTP && m.phone[0] != '\0' ? TWOFA_CHANNEL_SMS
										: m.channel;
	if (channel == TWOFA_CHANNEL_TOTP)
		rc = cli_fail(EX_DATAERR,
			      "%s logs in with an authenticator app, and test checks a code sent: 'twofa-enroll "
			      "totp %s' sets the app up again",
			      m.user, m.user);
	else if (channel == TWOFA_CHANNEL_EMAIL && m.email == NULL)
		rc = cli_fail(EX_DATAERR, "%s has no email address for the email channel", m.user);
	else if (channel != TWOFA_CHANNEL_EMAIL && m.phone[0] == '\0')
		rc = cli_fail(EX_DATAERR, "%s has no phone number: codes go by email only", m.user);
	else if (channel != TWOFA_CHANNEL_EMAIL)
		rc = cli_check_country(ctx, m.country); /* every send, as at add, phone and login */
	if (rc == 0)
		rc = cli_verify_new(ctx, &v);
	if (rc == 0) {
		cli_destination_set(&d, m.phone, m.email, channel);
		rc = cli_prove_possession(v, &d, m.phone, ctx->config.max_tries);
	}
	twofa_verify_free(v);
	if (rc == 0 && cli_interrupted)
		rc = cli_fail(CLI_EXIT_INTERRUPTED, "interrupted");
	if (rc == 0) {
		/* The member proved the phone: worth recording. */
		now = time(NULL);
		rc = cli_update_member(ctx, a.user, change_verified, &now);
	}
	if (rc == 0)
		printf("code approved: %s receives codes by %s\n", m.user, twofa_channel_label(channel));
	twofa_member_free(&m);
	return rc;
}
