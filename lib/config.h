/* SPDX-License-Identifier: GPL-3.0-or-later */
/* twofa.conf: "key = value" lines, '#' comments. Module arguments override
 * the file, except secrets, which only ever come from the root-only file. */
#ifndef TWOFA_CONFIG_H
#define TWOFA_CONFIG_H

#include <stdbool.h>
#include <stddef.h>

#include "error.h"

#ifndef TWOFA_SYSCONFDIR
#define TWOFA_SYSCONFDIR "/etc"
#endif
#define TWOFA_DEFAULT_CONFIG TWOFA_SYSCONFDIR "/twofa/twofa.conf"
#define TWOFA_CONFIG_MAX_BYTES (64 * 1024)
/* At least the number of keys in lib/config.c's table (it asserts so). */
#define TWOFA_CONFIG_KEY_SLOTS 64

typedef enum twofa_channel {
	TWOFA_CHANNEL_SMS = 0,
	TWOFA_CHANNEL_CALL,
	TWOFA_CHANNEL_WHATSAPP,
	TWOFA_CHANNEL_EMAIL,
	/* An authenticator app (Verify TOTP): no code is sent; the member types
	 * the app's code. Never a channel to send by (twofa_verify_start
	 * refuses it), and not the `channel` key's (new members by self-
	 * enrolment get a code sent). */
	TWOFA_CHANNEL_TOTP,
} twofa_channel;
#define TWOFA_CHANNEL_LAST TWOFA_CHANNEL_TOTP

/* allowed_channels: a bit per channel a code may go by, and one for "own",
 * the member's enrolled channel whatever it is. */
#define TWOFA_ALLOW_CHANNEL(ch) (1u << (unsigned)(ch))
#define TWOFA_ALLOW_OWN (1u << 8)
_Static_assert(TWOFA_CHANNEL_LAST < 8, "TWOFA_ALLOW_OWN is above every channel's bit");

typedef enum twofa_store_backend { TWOFA_STORE_GDBM = 0, TWOFA_STORE_LDAP } twofa_store_backend;
typedef enum twofa_ldap_scope { TWOFA_LDAP_SCOPE_ONE = 0, TWOFA_LDAP_SCOPE_SUB } twofa_ldap_scope;
typedef enum twofa_ldap_tls {
	TWOFA_LDAP_TLS_STARTTLS = 0,
	TWOFA_LDAP_TLS_LDAPS,
	TWOFA_LDAP_TLS_NONE
} twofa_ldap_tls;
typedef enum twofa_ldap_sasl { TWOFA_LDAP_SASL_NONE = 0, TWOFA_LDAP_SASL_EXTERNAL } twofa_ldap_sasl;
typedef enum twofa_approval { TWOFA_APPROVAL_AUTO = 0, TWOFA_APPROVAL_MANUAL } twofa_approval;
/* Self-enrolment at first login (server/enrol.c): never, on a first factor
 * alone, or with an admin's invite code too. */
typedef enum twofa_enroll { TWOFA_ENROLL_OFF = 0, TWOFA_ENROLL_SELF, TWOFA_ENROLL_INVITE } twofa_enroll;
typedef enum twofa_failmode { TWOFA_FAILMODE_SECURE = 0, TWOFA_FAILMODE_SAFE } twofa_failmode;
typedef enum twofa_strength {
	TWOFA_STRENGTH_INTERACTIVE = 0,
	TWOFA_STRENGTH_MODERATE,
	TWOFA_STRENGTH_SENSITIVE,
} twofa_strength;

typedef struct twofa_config {
	/* Secrets: only from the file; wiped by twofa_config_free. */
	char *account_sid;
	char *auth_token;
	char *api_key_sid;
	char *api_key_secret;
	char *verify_service_sid;
	char *ldap_bind_password;
	char *ldap_admin_bind_password;

	/* The keys of twofa.conf(5), each named as in the file. Ranges and
	 * defaults are in the key table in lib/config.c, and only there. */
	char *verify_url; /* base URL, stored without a trailing '/' */
	char *lookup_url;
	char *ca_file;             /* NULL: the system CA bundle */
	char *proxy;               /* NULL: no proxy */
	twofa_store_backend store; /* where members live (lib/member_store.h) */
	char *members_db;
	char *state_db;
	char *locale;     /* NULL: Twilio picks from the number */
	char *rate_limit; /* Service Rate Limit unique name keyed by member; NULL: none */

	/* store = ldap (lib/ldap_conn.h). NULL: unset. */
	char *ldap_uri;       /* validated, written with single commas: "ldaps://a,ldaps://b" */
	char *ldap_write_uri; /* NULL: the first of ldap_uri */
	char *ldap_base;
	twofa_ldap_scope ldap_scope;
	char *ldap_filter; /* template, %u the escaped name (lib/ldap_filter.c) */
	char *ldap_bind_dn;
	char *ldap_admin_bind_dn;
	twofa_ldap_sasl ldap_sasl;
	char *ldap_client_cert;
	char *ldap_client_key;
	twofa_ldap_tls ldap_tls;
	char *ldap_ca_file; /* NULL: the system CA bundle */
	long ldap_timeout;  /* seconds per server and operation */
	long ldap_cache_max_age;
	char *ldap_run_dir; /* the dead-server memory */

	long timeout;
	twofa_approval approval;
	twofa_enroll enroll;   /* the default of password=none services (server/options.c) */
	twofa_channel channel; /* of new members */
	twofa_failmode failmode;
	long max_tries;
	long lockout_failures; /* 0: off */
	long lockout_seconds;
	long send_limit;            /* per send_window */
	long max_members_per_phone; /* members one number may serve (add, phone, enrolment) */
	long send_window;
	char *send_budget; /* "N/SECONDS" per host (lib/send_budget.h); NULL: off */
	char *countries;   /* normalised "GB IE FR" (lib/send_budget.h); NULL: all */
	long grace_period; /* 0: off */
	bool recovery;     /* recovery and bypass codes are accepted at login */
	twofa_strength password_strength;
	unsigned allowed_channels; /* TWOFA_ALLOW_* bits */

	/* Where each key (by its row in the table) was set, so that each source
	 * sets it once: the file's line (0: not from the file; UINT_MAX: from
	 * twofa_config_set, without a line), and whether a module argument has. */
	unsigned file_line[TWOFA_CONFIG_KEY_SLOTS];
	bool set_by_args[TWOFA_CONFIG_KEY_SLOTS];
} twofa_config;

/* Where a key may come from. */
#define TWOFA_CONFIG_FROM_FILE 0x1u /* the config file: every key */
#define TWOFA_CONFIG_FROM_ARGS 0x2u /* a module argument: never a secret */

/* Fills c with each key's default from the table. Always succeeds. */
void twofa_config_init(twofa_config *c);

/* Opens path component by component from "/" without following symbolic
 * links, checking that every directory is root's and not group/world-writable
 * (unless sticky); checks the file is a regular file owned by root, not
 * group/world-writable, not world-readable, at most TWOFA_CONFIG_MAX_BYTES,
 * and parses it into c. Errors name file and line. */
twofa_status twofa_config_load(twofa_config *c, const char *path, twofa_error *err);

/* Parses text that was already read (for tests and fuzzing); name is used in
 * messages. No permission checks. */
twofa_status twofa_config_parse(twofa_config *c, const char *name, const char *text, size_t len,
				twofa_error *err);

/* Sets one key from a source (TWOFA_CONFIG_FROM_*); validates the value. */
twofa_status twofa_config_set(twofa_config *c, const char *key, const char *value, unsigned from,
			      twofa_error *err);

/* True if key names a secret (account_sid, auth_token, api_key_*, verify_service_sid,
 * ldap_bind_password, ldap_admin_bind_password). */
bool twofa_config_key_is_secret(const char *key);

/* Checks that credentials for Twilio are present and well formed: either
 * api_key_sid + api_key_secret, or account_sid + auth_token; plus
 * verify_service_sid. The message names what is missing, never a value. */
twofa_status twofa_config_check_credentials(const twofa_config *c, twofa_error *err);

/* One row of the key table, for the test that holds man/twofa.conf.5,
 * etc/twofa.conf and README to it (tests/unit/config_keys). */
typedef struct twofa_config_key {
	const char *name;
	const char *kind;         /* sid, token, url, proxy, path, locale, number, choice, channels,
				   * uris, uri, dn, password, filter, budget, countries */
	bool secret;              /* only from the file */
	bool optional;            /* an empty value unsets it */
	const char *sid_prefix;   /* sid: "AC", "SK" or "VA" */
	long min, max;            /* number */
	const char *const *words; /* choice, channels: the words it takes, NULL-terminated */
	char default_value[128];  /* as the file would write it; "" when it has none */
} twofa_config_key;

/* Fills *out with the index-th key of the table; false past the last. */
bool twofa_config_key_describe(size_t index, twofa_config_key *out);

/* Frees every string, wiping the secrets first. c can be re-initialised. */
void twofa_config_free(twofa_config *c);

/* Names for enums, and parsing them back ("sms", "call", "whatsapp", "email",
 * "totp"). */
const char *twofa_channel_name(twofa_channel ch);
bool twofa_channel_parse(const char *s, twofa_channel *out);
/* "off", "self", "invite", and parsing them back. */
const char *twofa_enroll_name(twofa_enroll e);
bool twofa_enroll_parse(const char *s, twofa_enroll *out);

/* "SMS", "voice call", "WhatsApp", "email", "authenticator app": for prompts. */
const char *twofa_channel_label(twofa_channel ch);

/* Whether allowed_channels lets a code go by ch to a member enrolled with
 * own. Voice, SMS and WhatsApp always go to the member's own number, email
 * to the member's own address, totp is the member's own app factor; whether
 * there is one is the caller's check. */
bool twofa_channel_allowed(unsigned allowed, twofa_channel own, twofa_channel ch);

/* allowed_channels for a member of channel own: the key's value, but for an
 * app member (totp) "own sms call" while the key is at its default (set
 * neither in the file nor as a module argument). */
unsigned twofa_config_allowed_channels(const twofa_config *c, twofa_channel own);

#endif
