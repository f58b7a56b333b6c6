/* SPDX-License-Identifier: GPL-3.0-or-later */
/* twofa.conf parser, module-argument overrides and the file's permission check.
 *
 * Syntax decisions:
 * - "key = value" per line; blank lines are ignored; spaces, tabs and a
 *   trailing CR around key and value are trimmed.
 * - Only a line whose first non-blank character is '#' is a comment. A '#'
 *   after a value is part of the value, because secrets may contain '#'.
 * - The value runs from the first '=' to the end of the line (secrets may
 *   contain '='); keys never contain '='.
 * - Optional keys (ca_file, proxy, locale) accept an empty value, meaning
 *   "unset"; every other key refuses an empty value.
 * - verify_url and lookup_url are stored without their optional trailing '/'.
 * - Error messages name the key, never the value: a value may be a secret
 *   or a proxy URL with a password in it.
 * - The file must be owned by root and not readable by others; group read is
 *   accepted only for root's own group (gid 0), which holds no other users on
 *   a sane system. Group or world write is always refused. So is a path
 *   through a directory another user owns or can write (sticky ones aside)
 *   or through a symbolic link: that user could swap the file.
 * - A key may be set once from the file and once from module arguments; the
 *   argument wins whatever the order of the calls.
 */
#include "twofa_build.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sodium.h>

#include "config.h"
#include "config_ldap.h"
#include "identifiers.h"
#include "send_budget.h"
#include "url.h"
#include "util.h"

#define CONFIG_LINE_MAX 4096 /* bytes per line, newline excluded */
#define CONFIG_TOKEN_MAX 128 /* auth_token, api_key_secret */
#define CONFIG_URL_MAX 512   /* verify_url, lookup_url, proxy */
#define CONFIG_PATH_MAX 4095 /* ca_file, members_db, state_db */
#define CONFIG_LOCALE_MAX 35 /* longest tag we accept, e.g. zh-Hant-HK */
#define CONFIG_KEY_SHOWN_MAX 40
#define CONFIG_NAME_SHOWN_MAX 200

#ifndef TWOFA_LOCALSTATEDIR
#define TWOFA_LOCALSTATEDIR "/var"
#endif

typedef enum key_kind {
	KEY_SID,         /* two-letter prefix + 32 hex digits */
	KEY_TOKEN,       /* printable secret without spaces */
	KEY_SERVICE_URL, /* Twilio's base URL (lib/url's rule) */
	KEY_PROXY,       /* proxy URL, credentials allowed from the file only */
	KEY_PATH,        /* absolute path of a file */
	KEY_LOCALE,      /* BCP 47-like language tag */
	KEY_NUMBER,      /* whole number in [min, max] */
	KEY_ENUM,        /* one of names[] */
	KEY_CHANNELS,    /* channel names and "own", separated by blanks or commas */
	KEY_NAME,        /* a name Twilio keeps: 1..64 of [A-Za-z0-9_.-], never PII */
	KEY_LDAP_URIS,   /* directory URIs, separated by blanks or commas (lib/config_ldap.c) */
	KEY_LDAP_URI,    /* one directory URI */
	KEY_DN,          /* a distinguished name */
	KEY_PASSWORD,    /* a bind password: printable, spaces allowed */
	KEY_FILTER,      /* an LDAP filter template with %u */
	KEY_BUDGET,      /* N/SECONDS (lib/send_budget.c) */
	KEY_COUNTRIES,   /* country codes, separated by blanks or commas (lib/send_budget.c) */
} key_kind;

/* One row per key: how its value is checked and its default. The table is
 * the one place a default is written; twofa_config_init walks it, and
 * tests/unit/test_config_docs.py holds man/twofa.conf.5, etc/twofa.conf and
 * README to it through twofa_config_key_describe. */
typedef struct key_spec {
	const char *name;
	key_kind kind;
	bool secret;
	bool optional;            /* empty value resets the key to unset (NULL) */
	size_t offset;            /* of the field in twofa_config (not KEY_ENUM) */
	const char *sid_prefix;   /* KEY_SID */
	long min, max;            /* KEY_NUMBER */
	const char *const *names; /* KEY_ENUM: names in value order, NULL-terminated */
	void (*set_enum)(twofa_config *c, int value);
	/* The default, by kind; a string key without one starts unset. */
	/* A string default is a static array (a compound literal at file scope):
	 * free_string never frees it, so twofa_config_init cannot fail. */
	char *default_string;
	long default_number;       /* KEY_NUMBER */
	int default_choice;        /* KEY_ENUM: index in names */
	unsigned default_channels; /* KEY_CHANNELS: TWOFA_ALLOW_* bits */
} key_spec;

static const char *const channel_names[] = {"sms", "call", "whatsapp", "email", "totp", NULL};
static const char *const channel_labels[] = {"SMS",   "voice call",        "WhatsApp",
					     "email", "authenticator app", NULL};
/* The `channel` key (of new members, and self-enrolment's, which sends a
 * code): every channel but totp, whose factor only `twofa-enroll` makes. */
static const char *const new_member_channel_names[] = {"sms", "call", "whatsapp", "email", NULL};
static const char *const store_names[] = {"gdbm", "ldap", NULL};
static const char *const approval_names[] = {"auto", "manual", NULL};
static const char *const enroll_names[] = {"off", "self", "invite", NULL};
static const char *const failmode_names[] = {"secure", "safe", NULL};
static const char *const strength_names[] = {"interactive", "moderate", "sensitive", NULL};
static const char *const ldap_scope_names[] = {"one", "sub", NULL};
static const char *const ldap_sasl_names[] = {"none", "external", NULL};
static const char *const ldap_tls_names[] = {"starttls", "ldaps", "none", NULL};
static const char *const yes_no_names[] = {"no", "yes", NULL};
/* allowed_channels' words: "own", then the channels in bit order. */
static const char *const channel_set_words[] = {"own", "sms", "call", "whatsapp", "email", "totp", NULL};

/* The table reads as a table: one key a line. */
/* clang-format off */
static void set_store(twofa_config *c, int v) { c->store = (twofa_store_backend)v; }
static void set_approval(twofa_config *c, int v) { c->approval = (twofa_approval)v; }
static void set_enroll(twofa_config *c, int v) { c->enroll = (twofa_enroll)v; }
static void set_channel(twofa_config *c, int v) { c->channel = (twofa_channel)v; }
static void set_failmode(twofa_config *c, int v) { c->failmode = (twofa_failmode)v; }
static void set_strength(twofa_config *c, int v) { c->password_strength = (twofa_strength)v; }
static void set_ldap_scope(twofa_config *c, int v) { c->ldap_scope = (twofa_ldap_scope)v; }
static void set_ldap_sasl(twofa_config *c, int v) { c->ldap_sasl = (twofa_ldap_sasl)v; }
static void set_ldap_tls(twofa_config *c, int v) { c->ldap_tls = (twofa_ldap_tls)v; }
static void set_recovery(twofa_config *c, int v) { c->recovery = v != 0; }

#define FIELD(key) .name = #key, .offset = offsetof(twofa_config, key)
#define SID(key, prefix) { FIELD(key), .kind = KEY_SID, .secret = true, .sid_prefix = prefix }
#define TOKEN(key) { FIELD(key), .kind = KEY_TOKEN, .secret = true }
#define STRING(key, k, def) { FIELD(key), .kind = k, .default_string = (char[]){ def } }
#define OPTIONAL(key, k) { FIELD(key), .kind = k, .optional = true }
#define NUMBER(key, lo, hi, def) \
	{ FIELD(key), .kind = KEY_NUMBER, .min = lo, .max = hi, .default_number = def }
#define ENUM(key, list, fn, def) \
	{ .name = #key, .kind = KEY_ENUM, .names = list, .set_enum = fn, .default_choice = def }
#define PASSWORD(key) { FIELD(key), .kind = KEY_PASSWORD, .secret = true }
#define CHANNELS(key, def) { FIELD(key), .kind = KEY_CHANNELS, .default_channels = def }

static const key_spec keys[] = {
	SID(account_sid, "AC"),
	TOKEN(auth_token),
	SID(api_key_sid, "SK"),
	TOKEN(api_key_secret),
	SID(verify_service_sid, "VA"),
	STRING(verify_url, KEY_SERVICE_URL, "https://verify.twilio.com"), /* without /v2 */
	STRING(lookup_url, KEY_SERVICE_URL, "https://lookups.twilio.com"),
	OPTIONAL(ca_file, KEY_PATH),   /* unset: the system CA bundle */
	OPTIONAL(proxy, KEY_PROXY),    /* unset: no proxy (environment variables are never used) */
	NUMBER(timeout, 1, 120, 10),   /* seconds for one HTTP request, connect included */
	ENUM(store, store_names, set_store, TWOFA_STORE_GDBM),
	STRING(members_db, KEY_PATH, TWOFA_LOCALSTATEDIR "/lib/twofa/members.db"),
	STRING(state_db, KEY_PATH, TWOFA_LOCALSTATEDIR "/lib/twofa/state.db"),
	/* store = ldap: where and how (lib/ldap_conn.c). */
	OPTIONAL(ldap_uri, KEY_LDAP_URIS),       /* tried in order */
	OPTIONAL(ldap_write_uri, KEY_LDAP_URI),  /* unset: the first of ldap_uri */
	OPTIONAL(ldap_base, KEY_DN),
	ENUM(ldap_scope, ldap_scope_names, set_ldap_scope, TWOFA_LDAP_SCOPE_SUB),
	STRING(ldap_filter, KEY_FILTER, "(uid=%u)"),
	OPTIONAL(ldap_bind_dn, KEY_DN),          /* unset: an anonymous bind (or SASL EXTERNAL) */
	PASSWORD(ldap_bind_password),
	OPTIONAL(ldap_admin_bind_dn, KEY_DN),
	PASSWORD(ldap_admin_bind_password),
	ENUM(ldap_sasl, ldap_sasl_names, set_ldap_sasl, TWOFA_LDAP_SASL_NONE),
	OPTIONAL(ldap_client_cert, KEY_PATH),
	OPTIONAL(ldap_client_key, KEY_PATH),
	ENUM(ldap_tls, ldap_tls_names, set_ldap_tls, TWOFA_LDAP_TLS_STARTTLS),
	OPTIONAL(ldap_ca_file, KEY_PATH),        /* unset: the system CA bundle */
	NUMBER(ldap_timeout, 1, 60, 5),          /* seconds per server and operation */
	NUMBER(ldap_cache_max_age, 0, 604800, 86400), /* 0: off */
	STRING(ldap_run_dir, KEY_PATH, "/run/twofa/ldap"),
	ENUM(approval, approval_names, set_approval, TWOFA_APPROVAL_AUTO),
	ENUM(enroll, enroll_names, set_enroll, TWOFA_ENROLL_OFF), /* password=none services only */
	ENUM(channel, new_member_channel_names, set_channel, TWOFA_CHANNEL_SMS), /* no totp */
	OPTIONAL(locale, KEY_LOCALE),  /* unset: Twilio picks from the number */
	OPTIONAL(rate_limit, KEY_NAME), /* unset: no fleet-wide send cap at Twilio */
	ENUM(failmode, failmode_names, set_failmode, TWOFA_FAILMODE_SECURE),
	NUMBER(max_tries, 1, 10, 3),
	NUMBER(lockout_failures, 0, 1000, 10), /* 0: off */
	NUMBER(lockout_seconds, 0, 604800, 900),
	NUMBER(send_limit, 1, 100, 5),         /* per send_window */
	NUMBER(send_window, 60, 86400, 600),
	NUMBER(max_members_per_phone, 1, 100, 1),
	OPTIONAL(send_budget, KEY_BUDGET),     /* unset: off; sends per host per window */
	OPTIONAL(countries, KEY_COUNTRIES),    /* unset: every country */
	NUMBER(grace_period, 0, 86400, 0),     /* 0: off */
	ENUM(recovery, yes_no_names, set_recovery, 1), /* recovery and bypass codes at login */
	ENUM(password_strength, strength_names, set_strength, TWOFA_STRENGTH_INTERACTIVE),
	/* The member's own channel, and a voice call to the member's own number. */
	CHANNELS(allowed_channels, TWOFA_ALLOW_OWN | TWOFA_ALLOW_CHANNEL(TWOFA_CHANNEL_CALL)),
};

/* clang-format on */

#define KEY_COUNT (sizeof(keys) / sizeof(keys[0]))
_Static_assert(sizeof(keys) / sizeof(keys[0]) <= TWOFA_CONFIG_KEY_SLOTS, "twofa_config has a slot per key");

static char **string_field(twofa_config *c, const key_spec *spec)
{
	return (char **)(void *)((char *)c + spec->offset);
}

static long *number_field(twofa_config *c, const key_spec *spec)
{
	return (long *)(void *)((char *)c + spec->offset);
}

static unsigned *channels_field(twofa_config *c, const key_spec *spec)
{
	return (unsigned *)(void *)((char *)c + spec->offset);
}

static bool is_string_key(const key_spec *spec)
{
	return spec->kind != KEY_NUMBER && spec->kind != KEY_ENUM && spec->kind != KEY_CHANNELS;
}

static void free_string(char **field, const char *default_value)
{
	/* Every string is wiped: a proxy URL may carry a password too. */
	if (*field != NULL && *field != default_value)
		twofa_free_secret(*field);
	*field = NULL;
}

static void set_default(twofa_config *c, const key_spec *spec)
{
	if (spec->kind == KEY_NUMBER)
		*number_field(c, spec) = spec->default_number;
	else if (spec->kind == KEY_ENUM)
		spec->set_enum(c, spec->default_choice);
	else if (spec->kind == KEY_CHANNELS)
		*channels_field(c, spec) = spec->default_channels;
	else
		*string_field(c, spec) = spec->default_string;
}

void twofa_config_init(twofa_config *c)
{
	memset(c, 0, sizeof(*c));
	for (size_t i = 0; i < KEY_COUNT; i++)
		set_default(c, &keys[i]);
}

void twofa_config_free(twofa_config *c)
{
	if (c == NULL)
		return;
	for (size_t i = 0; i < KEY_COUNT; i++) {
		if (is_string_key(&keys[i]))
			free_string(string_field(c, &keys[i]), keys[i].default_string);
	}
	sodium_memzero(c, sizeof(*c));
	twofa_config_init(c);
}

/* ---- names ---- */

static const key_spec *find_key(const char *key)
{
	for (size_t i = 0; i < KEY_COUNT; i++) {
		if (strcmp(keys[i].name, key) == 0)
			return &keys[i];
	}
	return NULL;
}

bool twofa_config_key_is_secret(const char *key)
{
	const key_spec *spec = key == NULL ? NULL : find_key(key);

	return spec != NULL && spec->secret;
}

static const char *const kind_words[] = {
	[KEY_SID] = "sid",       [KEY_TOKEN] = "token",         [KEY_SERVICE_URL] = "url",
	[KEY_PROXY] = "proxy",   [KEY_PATH] = "path",           [KEY_LOCALE] = "locale",
	[KEY_NUMBER] = "number", [KEY_ENUM] = "choice",         [KEY_CHANNELS] = "channels",
	[KEY_NAME] = "name",     [KEY_LDAP_URIS] = "uris",      [KEY_LDAP_URI] = "uri",
	[KEY_DN] = "dn",         [KEY_PASSWORD] = "password",   [KEY_FILTER] = "filter",
	[KEY_BUDGET] = "budget", [KEY_COUNTRIES] = "countries",
};

/* "own call": the words of a channel set, in channel_set_words' order. */
static void format_channel_set(unsigned set, char *out, size_t size)
{
	static const unsigned bits[] = {
		TWOFA_ALLOW_OWN,
		TWOFA_ALLOW_CHANNEL(TWOFA_CHANNEL_SMS),
		TWOFA_ALLOW_CHANNEL(TWOFA_CHANNEL_CALL),
		TWOFA_ALLOW_CHANNEL(TWOFA_CHANNEL_WHATSAPP),
		TWOFA_ALLOW_CHANNEL(TWOFA_CHANNEL_EMAIL),
		TWOFA_ALLOW_CHANNEL(TWOFA_CHANNEL_TOTP),
	};

	out[0] = '\0';
	for (size_t i = 0; i < sizeof(bits) / sizeof(bits[0]); i++) {
		if ((set & bits[i]) == 0)
			continue;
		if (out[0] != '\0')
			(void)strncat(out, " ", size - strlen(out) - 1);
		(void)strncat(out, channel_set_words[i], size - strlen(out) - 1);
	}
}

bool twofa_config_key_describe(size_t index, twofa_config_key *out)
{
	const key_spec *spec;

	if (out == NULL || index >= KEY_COUNT)
		return false;
	spec = &keys[index];
	memset(out, 0, sizeof(*out));
	out->name = spec->name;
	out->kind = kind_words[spec->kind];
	out->secret = spec->secret;
	out->optional = spec->optional;
	out->sid_prefix = spec->sid_prefix;
	out->min = spec->min;
	out->max = spec->max;
	out->words = spec->kind == KEY_ENUM       ? spec->names
		     : spec->kind == KEY_CHANNELS ? channel_set_words
						  : NULL;
	if (spec->kind == KEY_NUMBER)
		(void)snprintf(out->default_value, sizeof(out->default_value), "%ld", spec->default_number);
	else if (spec->kind == KEY_ENUM)
		(void)twofa_strlcpy(out->default_value, spec->names[spec->default_choice],
				    sizeof(out->default_value));
	else if (spec->kind == KEY_CHANNELS)
		format_channel_set(spec->default_channels, out->default_value, sizeof(out->default_value));
	else if (spec->default_string != NULL)
		(void)twofa_strlcpy(out->default_value, spec->default_string, sizeof(out->default_value));
	return true;
}

const char *twofa_channel_name(twofa_channel ch)
{
	return (unsigned)ch <= TWOFA_CHANNEL_LAST ? channel_names[ch] : NULL;
}

const char *twofa_channel_label(twofa_channel ch)
{
	return (unsigned)ch <= TWOFA_CHANNEL_LAST ? channel_labels[ch] : NULL;
}

static bool parse_enum(const char *const *names, const char *s, int *out)
{
	for (int i = 0; names[i] != NULL; i++) {
		if (strcmp(names[i], s) == 0) {
			*out = i;
			return true;
		}
	}
	return false;
}

bool twofa_channel_parse(const char *s, twofa_channel *out)
{
	int v;

	if (s == NULL || out == NULL || !parse_enum(channel_names, s, &v))
		return false;
	*out = (twofa_channel)v;
	return true;
}

const char *twofa_enroll_name(twofa_enroll e)
{
	return (unsigned)e <= TWOFA_ENROLL_INVITE ? enroll_names[e] : NULL;
}

bool twofa_enroll_parse(const char *s, twofa_enroll *out)
{
	int v;

	if (s == NULL || out == NULL || !parse_enum(enroll_names, s, &v))
		return false;
	*out = (twofa_enroll)v;
	return true;
}

bool twofa_channel_allowed(unsigned allowed, twofa_channel own, twofa_channel ch)
{
	if ((unsigned)ch > TWOFA_CHANNEL_LAST)
		return false;
	return (allowed & TWOFA_ALLOW_CHANNEL(ch)) != 0 || (ch == own && (allowed & TWOFA_ALLOW_OWN) != 0);
}

/* "own call", "own,email": at least one word, each "own" or a channel name. */
static bool parse_channel_set(const char *v, unsigned *out)
{
	static const char separators[] = " \t,";
	unsigned set = 0;

	for (v += strspn(v, separators); *v != '\0'; v += strspn(v, separators)) {
		size_t len = strcspn(v, separators);
		char word[16];
		int ch;

		if (len >= sizeof(word))
			return false;
		memcpy(word, v, len);
		word[len] = '\0';
		v += len;
		if (strcmp(word, "own") == 0)
			set |= TWOFA_ALLOW_OWN;
		else if (parse_enum(channel_names, word, &ch))
			set |= TWOFA_ALLOW_CHANNEL(ch);
		else
			return false;
	}
	if (set == 0)
		return false;
	*out = set;
	return true;
}

/* ---- value checks: each returns NULL when fine, else why not (no value) ---- */

static bool is_alnum(char ch)
{
	return (ch >= '0' && ch <= '9') || (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z');
}

static bool is_alpha(char ch)
{
	return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z');
}

static bool valid_token(const char *v)
{
	size_t len = strnlen(v, CONFIG_TOKEN_MAX + 1);

	if (len == 0 || len > CONFIG_TOKEN_MAX)
		return false;
	for (size_t i = 0; i < len; i++) {
		if ((unsigned char)v[i] <= 0x20 || (unsigned char)v[i] >= 0x7f)
			return false;
	}
	return true;
}

static const char *check_service_url(const char *v)
{
	twofa_url u;
	const char *why = twofa_url_check_twilio(v, CONFIG_URL_MAX, &u);

	if (why == NULL && u.rest[0] != '\0' && strcmp(u.rest, "/") != 0)
		why = "must be a base URL without a path, query or fragment";
	return why;
}

static const char *check_proxy(const char *v, unsigned from)
{
	twofa_url u;
	const char *why = twofa_url_check_proxy(v, CONFIG_URL_MAX, &u);

	/* Module arguments are in world-readable PAM files. */
	if (why == NULL && u.userinfo != NULL && from != TWOFA_CONFIG_FROM_FILE)
		why = "credentials may only be set in the config file";
	return why;
}

static const char *check_path(const char *v)
{
	size_t len = strnlen(v, CONFIG_PATH_MAX + 1);

	if (v[0] != '/')
		return "must be an absolute path";
	if (len > CONFIG_PATH_MAX)
		return "is too long";
	if (twofa_has_control(v, len))
		return "must not contain control characters";
	if (v[len - 1] == '/')
		return "must name a file, not end in '/'";
	return NULL;
}

/* en, pt-BR, zh-HK, zh-Hant-HK: a 2-3 letter language, then up to four
 * subtags of 1-8 letters or digits, 35 bytes at most. */
static bool valid_locale(const char *v)
{
	size_t len = strnlen(v, CONFIG_LOCALE_MAX + 1), i = 0, n = 0, subtags = 0;

	if (len > CONFIG_LOCALE_MAX)
		return false;
	while (i < len && is_alpha(v[i]))
		i++;
	if (i < 2 || i > 3)
		return false;
	while (i < len) {
		if (v[i] != '-' || ++subtags > 4)
			return false;
		for (n = 0, i++; i < len && is_alnum(v[i]); i++)
			n++;
		if (n < 1 || n > 8)
			return false;
	}
	return true;
}

/* ---- setting one key ---- */

/* Copies a key for a message: only a plausible key name is shown, so a
 * secret pasted without its key is never echoed back. */
static void shown_key(char out[CONFIG_KEY_SHOWN_MAX + 1], const char *key)
{
	size_t len = strlen(key);

	for (size_t i = 0; i < len; i++) {
		char ch = key[i];
		if (len > CONFIG_KEY_SHOWN_MAX || !(is_alnum(ch) || ch == '_' || ch == '-' || ch == '.')) {
			(void)twofa_strlcpy(out, "(not a key name)", CONFIG_KEY_SHOWN_MAX + 1);
			return;
		}
	}
	memcpy(out, key, len + 1);
}

static twofa_status replace_string(twofa_config *c, const key_spec *spec, const char *value, bool keep,
				   twofa_error *err)
{
	char **field = string_field(c, spec);
	char *copy = NULL;

	if (keep)
		return TWOFA_OK;
	if (value != NULL) {
		copy = strdup(value);
		if (copy == NULL)
			return twofa_fail(err, TWOFA_ENOMEM, "%s: out of memory", spec->name);
	}
	free_string(field, spec->default_string);
	*field = copy;
	return TWOFA_OK;
}

/* Stores a value a check has normalised into a string of its own
 * (NULL: it ran out of memory), and frees that string. */
static twofa_status store_normalised(twofa_config *c, const key_spec *spec, char *normalised, twofa_error *err)
{
	twofa_status st;

	if (normalised == NULL)
		return twofa_fail(err, TWOFA_ENOMEM, "%s: out of memory", spec->name);
	st = replace_string(c, spec, normalised, false, err);
	free(normalised);
	return st;
}

static twofa_status enum_error(const key_spec *spec, twofa_error *err)
{
	char list[128] = "";

	for (size_t i = 0; spec->names[i] != NULL; i++) {
		if (i > 0)
			(void)strncat(list, ", ", sizeof(list) - strlen(list) - 1);
		(void)strncat(list, spec->names[i], sizeof(list) - strlen(list) - 1);
	}
	return twofa_fail(err, TWOFA_ECONFIG, "%s must be one of: %s", spec->name, list);
}

/* Validates value for spec and stores it unless keep (an argument already set it). */
static twofa_status set_value(twofa_config *c, const key_spec *spec, const char *value, unsigned from,
			      bool keep, twofa_error *err)
{
	const char *why = NULL;
	unsigned channels;
	long number;
	int choice;

	if (value[0] == '\0') {
		if (!spec->optional)
			return twofa_fail(err, TWOFA_ECONFIG, "%s has an empty value", spec->name);
		return replace_string(c, spec, NULL, keep, err);
	}
	switch (spec->kind) {
	case KEY_SID:
		if (!twofa_sid_valid(value, spec->sid_prefix))
			return twofa_fail(err, TWOFA_ECONFIG, "%s must be %s followed by 32 hex digits",
					  spec->name, spec->sid_prefix);
		break;
	case KEY_TOKEN:
		if (!valid_token(value))
			return twofa_fail(err, TWOFA_ECONFIG,
					  "%s must be 1 to %d printable characters without spaces",
					  spec->name, CONFIG_TOKEN_MAX);
		break;
	case KEY_SERVICE_URL:
		why = check_service_url(value);
		break;
	case KEY_PROXY:
		why = check_proxy(value, from);
		break;
	case KEY_PATH:
		why = check_path(value);
		break;
	case KEY_LOCALE:
		if (!valid_locale(value))
			why = "must be a language tag such as en, pt-BR or zh-HK";
		break;
	case KEY_NAME:
		if (!twofa_twilio_name_valid(value))
			why = "must be 1 to 64 of the letters A-Z a-z, digits, '_', '.' and '-'";
		break;
	case KEY_NUMBER:
		if (!twofa_parse_long(value, spec->min, spec->max, &number))
			return twofa_fail(err, TWOFA_ECONFIG, "%s must be a whole number from %ld to %ld",
					  spec->name, spec->min, spec->max);
		if (!keep)
			*number_field(c, spec) = number;
		return TWOFA_OK;
	case KEY_ENUM:
		if (!parse_enum(spec->names, value, &choice))
			return enum_error(spec, err);
		if (!keep)
			spec->set_enum(c, choice);
		return TWOFA_OK;
	case KEY_LDAP_URIS: {
		char *normalised = NULL;

		why = twofa_ldap_uri_list_check(value, keep ? NULL : &normalised);
		if (why != NULL)
			return twofa_fail(err, TWOFA_ECONFIG, "%s %s", spec->name, why);
		return keep ? TWOFA_OK : store_normalised(c, spec, normalised, err);
	}
	case KEY_LDAP_URI:
		why = twofa_ldap_uri_check(value);
		break;
	case KEY_DN:
		why = twofa_ldap_dn_check(value);
		break;
	case KEY_PASSWORD:
		why = twofa_ldap_password_check(value);
		break;
	case KEY_FILTER:
		why = twofa_ldap_filter_template_check(value);
		break;
	case KEY_BUDGET:
		why = twofa_send_budget_parse(value, NULL, NULL);
		break;
	case KEY_COUNTRIES: {
		char *normalised = NULL, bad[8];

		why = twofa_countries_parse(value, keep ? NULL : &normalised, bad);
		if (why != NULL)
			return twofa_fail(err, TWOFA_ECONFIG, "%s %s%s%s (twofa-enroll countries lists them)",
					  spec->name, why, bad[0] != '\0' ? ": " : "", bad);
		return keep ? TWOFA_OK : store_normalised(c, spec, normalised, err);
	}
	case KEY_CHANNELS:
		if (!parse_channel_set(value, &channels))
			return twofa_fail(err, TWOFA_ECONFIG,
					  "%s must list one or more of own, sms, call, whatsapp, email "
					  "(separated by spaces or commas)",
					  spec->name);
		if (!keep)
			*channels_field(c, spec) = channels;
		return TWOFA_OK;
	}
	if (why != NULL)
		return twofa_fail(err, TWOFA_ECONFIG, "%s %s", spec->name, why);
	if (spec->kind == KEY_SERVICE_URL && !keep) {
		/* Store the base without its trailing '/', so callers append "/v2/...". */
		twofa_status st = replace_string(c, spec, value, false, err);
		char *stored = *string_field(c, spec);
		if (st == TWOFA_OK && stored[strlen(stored) - 1] == '/')
			stored[strlen(stored) - 1] = '\0';
		return st;
	}
	return replace_string(c, spec, value, keep, err);
}

/* The line a key set through twofa_config_set has: none. */
#define NO_LINE UINT_MAX

/* Sets keys[index] once per source: a second setting from the same source
 * is refused, the first one named. A file's value is still checked when a
 * module argument already overrode it. */
static twofa_status set_key(twofa_config *c, size_t index, const char *value, unsigned from, unsigned line,
			    twofa_error *err)
{
	const key_spec *spec = &keys[index];
	twofa_status st;

	if (from == TWOFA_CONFIG_FROM_ARGS) {
		if (spec->secret)
			return twofa_fail(err, TWOFA_ECONFIG,
					  "%s: secrets may only be set in the config file", spec->name);
		if (c->set_by_args[index])
			return twofa_fail(err, TWOFA_ECONFIG, "duplicate argument '%s'", spec->name);
		st = set_value(c, spec, value, from, false, err);
		if (st == TWOFA_OK)
			c->set_by_args[index] = true;
		return st;
	}
	if (c->file_line[index] == NO_LINE)
		return twofa_fail(err, TWOFA_ECONFIG, "duplicate key '%s'", spec->name);
	if (c->file_line[index] != 0)
		return twofa_fail(err, TWOFA_ECONFIG, "duplicate key '%s' (first set on line %u)", spec->name,
				  c->file_line[index]);
	st = set_value(c, spec, value, from, c->set_by_args[index], err);
	if (st == TWOFA_OK)
		c->file_line[index] = line;
	return st;
}

static size_t key_index(const char *key)
{
	const key_spec *spec = find_key(key);

	return spec == NULL ? KEY_COUNT : (size_t)(spec - keys);
}

unsigned twofa_config_allowed_channels(const twofa_config *c, twofa_channel own)
{
	size_t index = key_index("allowed_channels");

	/* An app member who also has a number may fall back to SMS or a call:
	 * the default becomes "own sms call" unless the key was set. */
	if (own == TWOFA_CHANNEL_TOTP && index < KEY_COUNT && c->file_line[index] == 0 &&
	    !c->set_by_args[index])
		return c->allowed_channels | TWOFA_ALLOW_CHANNEL(TWOFA_CHANNEL_SMS);
	return c->allowed_channels;
}

twofa_status twofa_config_set(twofa_config *c, const char *key, const char *value, unsigned from,
			      twofa_error *err)
{
	char shown[CONFIG_KEY_SHOWN_MAX + 1];
	size_t index;

	if (c == NULL || key == NULL || value == NULL ||
	    (from != TWOFA_CONFIG_FROM_FILE && from != TWOFA_CONFIG_FROM_ARGS))
		return twofa_fail(err, TWOFA_EINVAL, "config: invalid call to twofa_config_set");
	index = key_index(key);
	if (index == KEY_COUNT) {
		shown_key(shown, key);
		return twofa_fail(err, TWOFA_ECONFIG, "unknown key '%s'", shown);
	}
	return set_key(c, index, value, from, NO_LINE, err);
}

/* ---- the file ---- */

/* A bounded copy of a file name without control characters, for messages. */
static void shown_name(char out[CONFIG_NAME_SHOWN_MAX + 1], const char *name)
{
	if (!twofa_strlcpy(out, name, CONFIG_NAME_SHOWN_MAX + 1))
		memcpy(out + CONFIG_NAME_SHOWN_MAX - 3, "...", 3);
	twofa_sanitize(out);
}

static bool is_blank(char ch)
{
	return ch == ' ' || ch == '\t' || ch == '\r';
}

static char *trim(char *s)
{
	size_t len;

	while (is_blank(*s))
		s++;
	len = strlen(s);
	while (len > 0 && is_blank(s[len - 1]))
		s[--len] = '\0';
	return s;
}

static twofa_status parse_line(twofa_config *c, const char *name, unsigned lineno, char *line,
			       twofa_error *err)
{
	char shown[CONFIG_KEY_SHOWN_MAX + 1];
	char *key = trim(line), *value, *eq;
	size_t index;
	twofa_status st;

	if (key[0] == '\0' || key[0] == '#')
		return TWOFA_OK;
	eq = strchr(key, '=');
	if (eq == NULL)
		return twofa_fail(err, TWOFA_ECONFIG, "%s:%u: missing '=' (expected: key = value)", name,
				  lineno);
	*eq = '\0';
	key = trim(key);
	value = trim(eq + 1);
	if (key[0] == '\0')
		return twofa_fail(err, TWOFA_ECONFIG, "%s:%u: missing key before '='", name, lineno);
	index = key_index(key);
	shown_key(shown, key);
	if (index == KEY_COUNT)
		return twofa_fail(err, TWOFA_ECONFIG, "%s:%u: unknown key '%s'", name, lineno, shown);
	st = set_key(c, index, value, TWOFA_CONFIG_FROM_FILE, lineno, err);
	if (st != TWOFA_OK) {
		char why[TWOFA_ERROR_MSG_MAX];
		(void)twofa_strlcpy(why, err != NULL ? err->msg : "", sizeof(why));
		return twofa_fail(err, st, "%s:%u: %s", name, lineno, why);
	}
	return TWOFA_OK;
}

twofa_status twofa_config_parse(twofa_config *c, const char *name, const char *text, size_t len,
				twofa_error *err)
{
	char shown[CONFIG_NAME_SHOWN_MAX + 1];
	char line[CONFIG_LINE_MAX + 1];
	unsigned lineno = 0;
	size_t pos = 0;
	twofa_status st = TWOFA_OK;

	if (c == NULL || name == NULL || (text == NULL && len > 0))
		return twofa_fail(err, TWOFA_EINVAL, "config: invalid call to twofa_config_parse");
	shown_name(shown, name);
	if (len > TWOFA_CONFIG_MAX_BYTES)
		return twofa_fail(err, TWOFA_ECONFIG, "%s: is larger than %d bytes", shown,
				  TWOFA_CONFIG_MAX_BYTES);
	while (pos < len && st == TWOFA_OK) {
		const char *start = text + pos;
		const char *newline = memchr(start, '\n', len - pos);
		size_t line_len = newline != NULL ? (size_t)(newline - start) : len - pos;

		lineno++;
		pos += line_len + (newline != NULL ? 1 : 0);
		if (line_len > CONFIG_LINE_MAX) {
			st = twofa_fail(err, TWOFA_ECONFIG, "%s:%u: line is longer than %d bytes", shown,
					lineno, CONFIG_LINE_MAX);
		} else if (memchr(start, '\0', line_len) != NULL) {
			st = twofa_fail(err, TWOFA_ECONFIG, "%s:%u: line contains a NUL byte", shown, lineno);
		} else {
			memcpy(line, start, line_len);
			line[line_len] = '\0';
			st = parse_line(c, shown, lineno, line, err);
		}
	}
	sodium_memzero(line, sizeof(line));
	return st;
}

static twofa_status open_error(const char *shown, int e, twofa_error *err)
{
	switch (e) {
	case ENOENT:
		return twofa_fail(err, TWOFA_ECONFIG,
				  "%s: no such file (create it owned by root with mode 600)", shown);
	case ELOOP:
		return twofa_fail(err, TWOFA_EPERM, "%s: is a symbolic link; refusing to follow it", shown);
	case ENOTDIR:
		return twofa_fail(err, TWOFA_ECONFIG, "%s: a component of the path is not a directory", shown);
	case EACCES:
	case EPERM:
		return twofa_fail(err, TWOFA_EPERM, "%s: permission denied (must run as root)", shown);
	default:
		return twofa_fail(err, TWOFA_ESYS, "%s: cannot open: %s", shown, strerror(e));
	}
}

/* Refuses a file an unprivileged user could write, swap or read. */
static twofa_status check_file(const char *shown, const struct stat *st, twofa_error *err)
{
	unsigned mode = (unsigned)(st->st_mode & 07777);

	if (S_ISDIR(st->st_mode))
		return twofa_fail(err, TWOFA_ECONFIG, "%s: is a directory, not a regular file", shown);
	if (!S_ISREG(st->st_mode))
		return twofa_fail(err, TWOFA_ECONFIG, "%s: is not a regular file", shown);
	if (st->st_uid != 0)
		return twofa_fail(err, TWOFA_EPERM,
				  "%s: is owned by uid %lu, not root; it holds secrets: chown root:root",
				  shown, (unsigned long)st->st_uid);
	if (mode & S_IWOTH)
		return twofa_fail(err, TWOFA_EPERM, "%s: is world-writable (mode %04o): chmod 600", shown,
				  mode);
	if (mode & S_IWGRP)
		return twofa_fail(err, TWOFA_EPERM, "%s: is group-writable (mode %04o): chmod 600", shown,
				  mode);
	if (mode & S_IROTH)
		return twofa_fail(err, TWOFA_EPERM,
				  "%s: is world-readable (mode %04o); it holds secrets: chmod 600", shown,
				  mode);
	if ((mode & S_IRGRP) && st->st_gid != 0)
		return twofa_fail(err, TWOFA_EPERM,
				  "%s: is readable by group %lu (mode %04o); it holds secrets: chmod 600",
				  shown, (unsigned long)st->st_gid, mode);
	if (st->st_size > TWOFA_CONFIG_MAX_BYTES)
		return twofa_fail(err, TWOFA_ECONFIG, "%s: is larger than %d bytes", shown,
				  TWOFA_CONFIG_MAX_BYTES);
	return TWOFA_OK;
}

/* Reads at most TWOFA_CONFIG_MAX_BYTES + 1 bytes, so a file that grew after
 * fstat is still caught. */
static twofa_status read_all(int fd, const char *shown, char *buf, size_t *len, twofa_error *err)
{
	size_t total = 0;

	while (total < TWOFA_CONFIG_MAX_BYTES + 1) {
		ssize_t n = read(fd, buf + total, TWOFA_CONFIG_MAX_BYTES + 1 - total);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return twofa_fail(err, TWOFA_ESYS, "%s: cannot read: %s", shown, strerror(errno));
		if (n == 0)
			break;
		total += (size_t)n;
	}
	if (total > TWOFA_CONFIG_MAX_BYTES)
		return twofa_fail(err, TWOFA_ECONFIG, "%s: is larger than %d bytes", shown,
				  TWOFA_CONFIG_MAX_BYTES);
	*len = total;
	return TWOFA_OK;
}

/* Refuses a directory on the way to the file that anyone but root could
 * change: owned by another user, or group/world-writable without the sticky
 * bit. A sticky directory such as /tmp is accepted: there only root may
 * rename or remove root's entries, and the next component is checked too. */
static twofa_status check_parent(const char *shown, const char *walked, int dir, twofa_error *err)
{
	char dir_shown[CONFIG_NAME_SHOWN_MAX + 1];
	struct stat st;
	unsigned mode;

	shown_name(dir_shown, walked);
	if (fstat(dir, &st) != 0)
		return twofa_fail(err, TWOFA_ESYS, "%s: cannot stat %s: %s", shown, dir_shown,
				  strerror(errno));
	mode = (unsigned)(st.st_mode & 07777);
	if (st.st_uid != 0)
		return twofa_fail(err, TWOFA_EPERM,
				  "%s: directory %s is owned by uid %lu, not root; that user could replace "
				  "the file",
				  shown, dir_shown, (unsigned long)st.st_uid);
	if ((mode & (S_IWGRP | S_IWOTH)) != 0 && (mode & S_ISVTX) == 0)
		return twofa_fail(err, TWOFA_EPERM,
				  "%s: directory %s is %s-writable (mode %04o); others could replace the file",
				  shown, dir_shown, (mode & S_IWOTH) ? "world" : "group", mode);
	return TWOFA_OK;
}

/* Opens the next directory name below dir without following a link. */
static twofa_status open_directory(const char *shown, const char *walked, int dir, const char *name, int *out,
				   twofa_error *err)
{
	char dir_shown[CONFIG_NAME_SHOWN_MAX + 1];
	struct stat st;

	*out = openat(dir, name, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (*out >= 0)
		return TWOFA_OK;
	if (errno != ENOTDIR)
		return open_error(shown, errno, err);
	/* O_PATH|O_NOFOLLOW takes a symbolic link as the link itself: ENOTDIR. */
	shown_name(dir_shown, walked);
	if (fstatat(dir, name, &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISLNK(st.st_mode))
		return twofa_fail(err, TWOFA_EPERM, "%s: %s is a symbolic link; refusing to follow it", shown,
				  dir_shown);
	return open_error(shown, ENOTDIR, err);
}

/* Opens path one component at a time from "/" (a relative path from the
 * working directory's), never following a symbolic link, and checks every
 * directory on the way (check_parent). The file is
 * opened O_NONBLOCK, so a FIFO does not wait for a writer. */
static twofa_status open_checked(const char *path, const char *shown, int *fd, twofa_error *err)
{
	char walked[CONFIG_PATH_MAX + 2] = "/", absolute[CONFIG_PATH_MAX + 1];
	const char *p = path;
	twofa_status st;
	int dir;

	*fd = -1;
	if (path[0] != '/') {
		/* A relative path (twofa-enroll --config) is walked from / too:
		 * getcwd names the working directory without symbolic links. */
		if (getcwd(absolute, sizeof(absolute)) == NULL)
			return twofa_fail(err, TWOFA_ESYS, "%s: cannot tell the working directory: %s", shown,
					  strerror(errno));
		if (strlen(absolute) + 1 + strlen(path) > CONFIG_PATH_MAX)
			return twofa_fail(err, TWOFA_ECONFIG, "%s: path is too long", shown);
		(void)strcat(absolute, "/");
		p = strcat(absolute, path);
	}
	if (strlen(p) > CONFIG_PATH_MAX)
		return twofa_fail(err, TWOFA_ECONFIG, "%s: path is too long", shown);
	dir = open("/", O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (dir < 0)
		return open_error(shown, errno, err);
	for (;;) {
		char name[NAME_MAX + 1];
		size_t len;
		int next;

		if ((st = check_parent(shown, walked, dir, err)) != TWOFA_OK)
			break;
		while (*p == '/')
			p++;
		len = strcspn(p, "/");
		if (len > NAME_MAX) {
			st = twofa_fail(err, TWOFA_ECONFIG, "%s: a path component is too long", shown);
			break;
		}
		memcpy(name, p, len);
		name[len] = '\0';
		p += len;
		if (len == 0 || (*p == '/' && p[strspn(p, "/")] == '\0')) {
			st = twofa_fail(err, TWOFA_ECONFIG, "%s: is a directory, not a regular file", shown);
			break;
		}
		if (*p == '\0') {
			*fd = openat(dir, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
			st = *fd >= 0 ? TWOFA_OK : open_error(shown, errno, err);
			break;
		}
		if (strlen(walked) > 1)
			(void)strcat(walked, "/");
		(void)strcat(walked, name); /* fits: walked is never longer than path */
		st = open_directory(shown, walked, dir, name, &next, err);
		if (st != TWOFA_OK)
			break;
		(void)close(dir);
		dir = next;
	}
	(void)close(dir);
	return st;
}

twofa_status twofa_config_load(twofa_config *c, const char *path, twofa_error *err)
{
	char shown[CONFIG_NAME_SHOWN_MAX + 1];
	struct stat st;
	char *buf = NULL;
	size_t len = 0;
	int fd, flags;
	twofa_status status;

	if (c == NULL || path == NULL)
		return twofa_fail(err, TWOFA_EINVAL, "config: invalid call to twofa_config_load");
	shown_name(shown, path);
	status = open_checked(path, shown, &fd, err);
	if (status != TWOFA_OK)
		return status;
	if (fstat(fd, &st) != 0) {
		status = twofa_fail(err, TWOFA_ESYS, "%s: cannot stat: %s", shown, strerror(errno));
		goto out;
	}
	status = check_file(shown, &st, err);
	if (status != TWOFA_OK)
		goto out;
	flags = fcntl(fd, F_GETFL);
	if (flags < 0 || fcntl(fd, F_SETFL, flags & ~O_NONBLOCK) != 0) {
		status = twofa_fail(err, TWOFA_ESYS, "%s: fcntl: %s", shown, strerror(errno));
		goto out;
	}
	buf = malloc(TWOFA_CONFIG_MAX_BYTES + 1);
	if (buf == NULL) {
		status = twofa_fail(err, TWOFA_ENOMEM, "%s: out of memory", shown);
		goto out;
	}
	status = read_all(fd, shown, buf, &len, err);
	if (status == TWOFA_OK)
		status = twofa_config_parse(c, path, buf, len, err);
	if (status == TWOFA_OK) {
		/* The keys that go together, as the file has them. */
		status = twofa_config_check_store(c, err);
		if (status != TWOFA_OK) {
			char why[TWOFA_ERROR_MSG_MAX];
			(void)twofa_strlcpy(why, err != NULL ? err->msg : "", sizeof(why));
			status = twofa_fail(err, status, "%s: %s", shown, why);
		}
	}
out:
	twofa_free_wiped(buf, TWOFA_CONFIG_MAX_BYTES + 1);
	(void)close(fd);
	return status;
}

/* ---- credentials ---- */

static bool present(const char *s)
{
	return s != NULL && s[0] != '\0';
}

static twofa_status check_pair(const char *sid_key, const char *sid, const char *prefix,
			       const char *secret_key, const char *secret, twofa_error *err)
{
	if (!present(sid))
		return twofa_fail(err, TWOFA_ECONFIG, "%s is missing (%s is set)", sid_key, secret_key);
	if (!present(secret))
		return twofa_fail(err, TWOFA_ECONFIG, "%s is missing (%s is set)", secret_key, sid_key);
	if (!twofa_sid_valid(sid, prefix))
		return twofa_fail(err, TWOFA_ECONFIG, "%s must be %s followed by 32 hex digits", sid_key,
				  prefix);
	if (!valid_token(secret))
		return twofa_fail(err, TWOFA_ECONFIG, "%s must be 1 to %d printable characters without spaces",
				  secret_key, CONFIG_TOKEN_MAX);
	return TWOFA_OK;
}

twofa_status twofa_config_check_credentials(const twofa_config *c, twofa_error *err)
{
	bool have_key, have_account;
	twofa_status st;

	if (c == NULL)
		return twofa_fail(err, TWOFA_EINVAL, "config: invalid call to check_credentials");
	have_key = present(c->api_key_sid) || present(c->api_key_secret);
	have_account = present(c->account_sid) || present(c->auth_token);
	if (!have_key && !have_account)
		return twofa_fail(err, TWOFA_ECONFIG,
				  "no Twilio credentials: set api_key_sid and api_key_secret, or "
				  "account_sid and auth_token");
	/* An API key wins when both pairs are present; half a pair is always wrong. */
	if (have_key) {
		st = check_pair("api_key_sid", c->api_key_sid, "SK", "api_key_secret", c->api_key_secret, err);
		if (st != TWOFA_OK)
			return st;
	}
	if (present(c->auth_token) || !have_key) {
		st = check_pair("account_sid", c->account_sid, "AC", "auth_token", c->auth_token, err);
		if (st != TWOFA_OK)
			return st;
	} else if (present(c->account_sid) && !twofa_sid_valid(c->account_sid, "AC")) {
		/* With an API key, account_sid alone is optional but must still be well formed. */
		return twofa_fail(err, TWOFA_ECONFIG, "account_sid must be AC followed by 32 hex digits");
	}
	if (!present(c->verify_service_sid))
		return twofa_fail(err, TWOFA_ECONFIG, "verify_service_sid is missing");
	if (!twofa_sid_valid(c->verify_service_sid, "VA"))
		return twofa_fail(err, TWOFA_ECONFIG,
				  "verify_service_sid must be VA followed by 32 hex digits");
	return TWOFA_OK;
}
