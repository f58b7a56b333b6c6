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

typedef enum twofa_channel {
	TWOFA_CHANNEL_SMS = 0,
	TWOFA_CHANNEL_CALL,
	TWOFA_CHANNEL_WHATSAPP,
	TWOFA_CHANNEL_EMAIL,
} twofa_channel;

/* allowed_channels: a bit per channel a code may go by, and one for "own",
 * the member's enrolled channel whatever it is. */
#define TWOFA_ALLOW_CHANNEL(ch) (1u << (unsigned)(ch))
#define TWOFA_ALLOW_OWN (1u << 4)

typedef enum twofa_approval { TWOFA_APPROVAL_AUTO = 0, TWOFA_APPROVAL_MANUAL } twofa_approval;
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

	char *verify_url;  /* base URL without /v2; default https://verify.twilio.com */
	char *lookup_url;  /* default https://lookups.twilio.com */
	char *ca_file;     /* NULL: the system CA bundle */
	char *proxy;       /* NULL: no proxy (environment variables are never used) */
	char *members_db;  /* default /var/lib/twofa/members.db */
	char *state_db;    /* default /var/lib/twofa/state.db */
	char *locale;      /* NULL: Twilio picks from the number */

	long timeout;          /* seconds for one HTTP request, connect included: 1..120 (10) */
	twofa_approval approval;
	twofa_channel channel; /* default channel for new members */
	twofa_failmode failmode;
	long max_tries;        /* 1..10 (3) */
	long lockout_failures; /* 0..1000, 0 = off (10) */
	long lockout_seconds;  /* 0..604800 (900) */
	long send_limit;       /* 1..100 (5) per send_window */
	long send_window;      /* 60..86400 (600) */
	long grace_period;     /* 0..86400 (0) */
	twofa_strength password_strength;
	unsigned allowed_channels; /* TWOFA_ALLOW_* bits (TWOFA_ALLOW_OWN | call) */

	unsigned long long seen; /* bit per key set from the file, to refuse duplicates */
} twofa_config;

/* Where a key may come from. */
#define TWOFA_CONFIG_FROM_FILE 0x1u  /* the config file: every key */
#define TWOFA_CONFIG_FROM_ARGS 0x2u  /* a module argument: never a secret */

/* Fills c with the defaults above. Always succeeds. */
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

/* True if key names a secret (account_sid, auth_token, api_key_*, verify_service_sid). */
bool twofa_config_key_is_secret(const char *key);

/* Checks that credentials for Twilio are present and well formed: either
 * api_key_sid + api_key_secret, or account_sid + auth_token; plus
 * verify_service_sid. The message names what is missing, never a value. */
twofa_status twofa_config_check_credentials(const twofa_config *c, twofa_error *err);

/* Frees every string, wiping the secrets first. c can be re-initialised. */
void twofa_config_free(twofa_config *c);

/* Names for enums, and parsing them back ("sms", "call", "whatsapp", "email"). */
const char *twofa_channel_name(twofa_channel ch);
bool twofa_channel_parse(const char *s, twofa_channel *out);
/* "SMS", "voice call", "WhatsApp", "email": for prompts. */
const char *twofa_channel_label(twofa_channel ch);

/* Whether allowed_channels lets a code go by ch to a member enrolled with
 * own. Voice, SMS and WhatsApp always go to the member's own number, email
 * to the member's own address; whether there is one is the caller's check. */
bool twofa_channel_allowed(unsigned allowed, twofa_channel own, twofa_channel ch);

#endif
