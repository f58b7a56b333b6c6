/* SPDX-License-Identifier: GPL-3.0-or-later */
/* mkmember: a test fixture that writes one member record into a members.db
 * with the same units the module reads it with (password, member, members).
 *
 *   mkmember --db PATH --init
 *       creates an empty store (the module refuses a missing one)
 *   mkmember --db PATH --user U --phone E164 --country CC [--channel sms|call|whatsapp|email]
 *            [--email ADDR] [--status active|pending|disabled]
 *            [--strength interactive|moderate|sensitive] [--replace] [--no-password]
 *       reads the password from stdin (one line) and stores the member;
 *       --no-password stores one without a twofa password (no hash), and
 *       --phone "" --country "" one without a phone (email channel)
 *            [--totp ENTITY:FACTOR_SID] the app factor of a totp member
 *   mkmember --db PATH --show USER [--check-password]
 *       prints the record as "key value" lines (the hash only as its scheme
 *       prefix); with --check-password also "password ok|wrong" for the
 *       password line on stdin. Exit 3 when the user is not enrolled.
 *   mkmember --state-db PATH --show-state USER
 *       prints the user's state.db entry as JSON
 *   --config PATH instead of --db PATH: the member store that twofa.conf
 *       names (store = gdbm or ldap); --show reads it as a login host does
 *       (ldap_bind_dn), a write as twofa-enroll does (ldap_admin_bind_dn)
 *
 * Exit 0 on success, 1 on a store or validation error (message on stderr),
 * 2 on misuse. */
#include "twofa_build.h"

#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <sodium.h>

#include "config.h"
#include "member.h"
#include "member_store.h"
#include "password.h"
#include "state.h"
#include "store.h"
#include "util.h"

static int usage(const char *why)
{
	fprintf(stderr,
		"mkmember: %s\n"
		"usage: mkmember --db PATH|--config PATH --init\n"
		"       mkmember --db PATH --user U --phone E164 --country CC [--channel CH]\n"
		"                [--email ADDR] [--status active|pending|disabled]\n"
		"                [--strength interactive|moderate|sensitive] [--replace]\n"
		"                [--no-password | < password]\n",
		why);
	return 2;
}

static int report(const char *what, const twofa_error *err)
{
	fprintf(stderr, "mkmember: %s: %s (%s)\n", what, err->msg, twofa_status_name(err->status));
	return 1;
}

static bool parse_strength(const char *s, twofa_strength *out)
{
	static const char *const names[] = {"interactive", "moderate", "sensitive"};
	static const twofa_strength values[] = {TWOFA_STRENGTH_INTERACTIVE, TWOFA_STRENGTH_MODERATE,
						TWOFA_STRENGTH_SENSITIVE};

	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		if (strcmp(s, names[i]) == 0) {
			*out = values[i];
			return true;
		}
	}
	return false;
}

static int init_store(const char *db)
{
	twofa_error err;
	twofa_store *s = NULL;

	twofa_error_clear(&err);
	if (twofa_store_open(&s, db, TWOFA_STORE_WRITE, TWOFA_STORE_LOCK_TIMEOUT_MS, &err) != TWOFA_OK)
		return report("open", &err);
	if (twofa_store_close(s, &err) != TWOFA_OK)
		return report("close", &err);
	return 0;
}

static char *read_password(void);

/* The member store: members_db = db, as a login host opens it, or the one
 * the twofa.conf at config names, in role (cfg is freed by the caller, also
 * after a failure). */
static twofa_status open_members(const char *db, const char *config, twofa_member_store_role role,
				 twofa_config *cfg, twofa_member_store **s, twofa_error *err)
{
	twofa_status st;

	*s = NULL;
	twofa_config_init(cfg);
	if (config != NULL)
		st = twofa_config_load(cfg, config, err);
	else
		st = twofa_config_set(cfg, "members_db", db, TWOFA_CONFIG_FROM_FILE, err);
	if (st == TWOFA_OK)
		st = twofa_member_store_open(s, cfg, config != NULL ? role : TWOFA_MEMBER_STORE_LOGIN, err);
	return st;
}

/* The hash's "$argon2id$v=19" part: enough to see the scheme, nothing to crack. */
static void print_hash_scheme(const char *hash)
{
	const char *end = hash;

	for (int dollars = 0; *end && dollars < 3; end++)
		if (*end == '$' && ++dollars == 3)
			break;
	printf("hash %.*s\n", (int)(end - hash), hash);
}

static int show_member(const char *db, const char *config, const char *user, bool check_password)
{
	twofa_member_store *s = NULL;
	twofa_config cfg;
	twofa_member m;
	twofa_error err;
	twofa_status st;
	char *password;

	twofa_error_clear(&err);
	memset(&m, 0, sizeof(m));
	st = open_members(db, config, TWOFA_MEMBER_STORE_LOGIN, &cfg, &s, &err);
	if (st == TWOFA_OK)
		st = twofa_member_store_load(s, user, &m, &err);
	twofa_member_store_close(s);
	twofa_config_free(&cfg);
	if (st == TWOFA_ENOTFOUND)
		return 3;
	if (st != TWOFA_OK)
		return report("load", &err);
	printf("user %s\nphone %s\ncountry %s\nchannel %s\nstatus %s\nemail %s\n", m.user, m.phone, m.country,
	       twofa_channel_name(m.channel), twofa_member_status_name(m.status), m.email ? m.email : "-");
	printf("created %lld\nupdated %lld\nverified %lld\n", (long long)m.created, (long long)m.updated,
	       (long long)m.verified);
	if (m.password_hash != NULL)
		print_hash_scheme(m.password_hash);
	else
		printf("hash -\n");
	if (check_password) {
		password = read_password();
		if (!password) {
			twofa_member_free(&m);
			return usage("no password line on stdin");
		}
		st = twofa_password_verify(m.password_hash, password, &err);
		twofa_free_secret(password);
		printf("password %s\n", st == TWOFA_OK ? "ok" : "wrong");
	}
	twofa_member_free(&m);
	fflush(stdout);
	return 0;
}

static int show_state(const char *db, const char *user)
{
	twofa_state_entry entry;
	twofa_error err;
	char *json = NULL;

	twofa_error_clear(&err);
	if (twofa_state_read(db, user, &entry, &err) != TWOFA_OK)
		return report("state read", &err);
	if (twofa_state_encode(&entry, &json, &err) != TWOFA_OK)
		return report("state encode", &err);
	printf("%s\n", json);
	free(json);
	return 0;
}

/* Reads one line from stdin; NULL on EOF. The getline buffer is wiped; the
 * caller frees the copy with twofa_free_secret. */
static char *read_password(void)
{
	char *line = NULL;
	size_t cap = 0;
	ssize_t len = getline(&line, &cap, stdin);
	char *copy;

	if (len < 0) {
		free(line);
		return NULL;
	}
	if (len > 0 && line[len - 1] == '\n')
		line[--len] = '\0';
	copy = strdup(line);
	sodium_memzero(line, cap);
	free(line);
	return copy;
}

int main(int argc, char **argv)
{
	enum {
		OPT_DB = 256,
		OPT_CONFIG,
		OPT_INIT,
		OPT_USER,
		OPT_PHONE,
		OPT_COUNTRY,
		OPT_CHANNEL,
		OPT_EMAIL,
		OPT_STATUS,
		OPT_STRENGTH,
		OPT_REPLACE,
		OPT_NO_PASSWORD,
		OPT_SHOW,
		OPT_CHECK_PASSWORD,
		OPT_STATE_DB,
		OPT_SHOW_STATE,
		OPT_TOTP
	};
	static const struct option options[] = {
		{"db", required_argument, NULL, OPT_DB},
		{"config", required_argument, NULL, OPT_CONFIG},
		{"init", no_argument, NULL, OPT_INIT},
		{"user", required_argument, NULL, OPT_USER},
		{"phone", required_argument, NULL, OPT_PHONE},
		{"country", required_argument, NULL, OPT_COUNTRY},
		{"channel", required_argument, NULL, OPT_CHANNEL},
		{"email", required_argument, NULL, OPT_EMAIL},
		{"status", required_argument, NULL, OPT_STATUS},
		{"strength", required_argument, NULL, OPT_STRENGTH},
		{"replace", no_argument, NULL, OPT_REPLACE},
		{"no-password", no_argument, NULL, OPT_NO_PASSWORD},
		{"show", required_argument, NULL, OPT_SHOW},
		{"check-password", no_argument, NULL, OPT_CHECK_PASSWORD},
		{"state-db", required_argument, NULL, OPT_STATE_DB},
		{"show-state", required_argument, NULL, OPT_SHOW_STATE},
		{"totp", required_argument, NULL, OPT_TOTP},
		{NULL, 0, NULL, 0},
	};
	const char *db = NULL, *config = NULL, *user = NULL, *phone = NULL, *country = NULL, *email = NULL;
	const char *show = NULL, *state_db = NULL, *show_state_user = NULL, *totp = NULL;
	bool check_password = false;
	twofa_channel channel = TWOFA_CHANNEL_SMS;
	twofa_member_status status = TWOFA_MEMBER_ACTIVE;
	twofa_strength strength = TWOFA_STRENGTH_INTERACTIVE;
	bool init = false, replace = false, no_password = false;
	char hash[crypto_pwhash_STRBYTES];
	twofa_member_store *s = NULL;
	twofa_config cfg;
	twofa_member m;
	twofa_error err;
	twofa_status st;
	char *password;
	int opt;

	while ((opt = getopt_long(argc, argv, "", options, NULL)) != -1) {
		switch (opt) {
		case OPT_DB:
			db = optarg;
			break;
		case OPT_CONFIG:
			config = optarg;
			break;
		case OPT_INIT:
			init = true;
			break;
		case OPT_USER:
			user = optarg;
			break;
		case OPT_PHONE:
			phone = optarg;
			break;
		case OPT_COUNTRY:
			country = optarg;
			break;
		case OPT_EMAIL:
			email = optarg;
			break;
		case OPT_REPLACE:
			replace = true;
			break;
		case OPT_NO_PASSWORD:
			no_password = true;
			break;
		case OPT_SHOW:
			show = optarg;
			break;
		case OPT_CHECK_PASSWORD:
			check_password = true;
			break;
		case OPT_STATE_DB:
			state_db = optarg;
			break;
		case OPT_SHOW_STATE:
			show_state_user = optarg;
			break;
		case OPT_TOTP:
			totp = optarg;
			break;
		case OPT_CHANNEL:
			if (!twofa_channel_parse(optarg, &channel))
				return usage("unknown --channel");
			break;
		case OPT_STATUS:
			if (!twofa_member_status_parse(optarg, &status))
				return usage("unknown --status");
			break;
		case OPT_STRENGTH:
			if (!parse_strength(optarg, &strength))
				return usage("unknown --strength");
			break;
		default:
			return usage("bad option");
		}
	}
	if (optind != argc)
		return usage("unexpected argument");
	if (state_db || show_state_user) {
		if (!state_db || !show_state_user || db || config)
			return usage("--state-db goes with --show-state only");
		return show_state(state_db, show_state_user);
	}
	if (!db == !config)
		return usage("one of --db and --config is required");
	if (show)
		return user || init ? usage("--show takes no other action")
				    : show_member(db, config, show, check_password);
	if (init)
		return user || config ? usage("--init takes --db and no member") : init_store(db);
	if (!user || !phone || !country)
		return usage("--user, --phone and --country are required");
	/* The record's fixed-size fields: let the validator judge content, not overflow. */
	if (strlen(phone) >= sizeof(m.phone) || strlen(country) >= sizeof(m.country))
		return usage("--phone or --country too long");

	twofa_error_clear(&err);
	if (!no_password) {
		password = read_password();
		if (!password)
			return usage("no password line on stdin");
		if (twofa_password_hash(password, strength, hash, &err) != TWOFA_OK) {
			twofa_free_secret(password);
			return report("hash", &err);
		}
		twofa_free_secret(password);
	}

	memset(&m, 0, sizeof(m));
	m.user = (char *)user;
	m.email = (char *)email;
	memcpy(m.phone, phone, strlen(phone) + 1);
	memcpy(m.country, country, strlen(country) + 1);
	m.channel = channel;
	if (totp != NULL) {
		/* ENTITY:FACTOR_SID, made at the simulator by the test. */
		const char *colon = strchr(totp, ':');
		if (colon == NULL || (size_t)(colon - totp) >= sizeof(m.totp_entity) ||
		    strlen(colon + 1) >= sizeof(m.totp_factor))
			return usage("--totp ENTITY:FACTOR");
		memcpy(m.totp_entity, totp, (size_t)(colon - totp));
		memcpy(m.totp_factor, colon + 1, strlen(colon + 1) + 1);
	}
	m.password_hash = no_password ? NULL : hash;
	m.status = status;
	m.created = m.updated = m.verified = time(NULL);
	if (status == TWOFA_MEMBER_PENDING)
		m.verified = 0;
	st = open_members(db, config, TWOFA_MEMBER_STORE_ADMIN, &cfg, &s, &err);
	if (st == TWOFA_OK)
		st = twofa_member_store_put(s, &m, replace ? TWOFA_MEMBER_PUT_REPLACE : TWOFA_MEMBER_PUT_ADD,
					    &err);
	twofa_member_store_close(s);
	twofa_config_free(&cfg);
	if (st != TWOFA_OK) {
		sodium_memzero(hash, sizeof(hash));
		return report("save", &err);
	}
	sodium_memzero(hash, sizeof(hash));
	return 0;
}
