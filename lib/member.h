/* SPDX-License-Identifier: GPL-3.0-or-later */
/* The member record kept in members.db under the login name, and its JSON
 * form: a versioned object ("v":1) so fields can be added later without a
 * migration. Decoding is strict about the fields it knows and ignores fields
 * it does not know, so a newer twofa can add fields that this one still
 * reads (forward compatibility). */
#ifndef TWOFA_MEMBER_H
#define TWOFA_MEMBER_H

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <time.h>

#include "config.h"
#include "error.h"
#include "identifiers.h"

#define TWOFA_USER_NAME_MAX 256           /* bytes */
#define TWOFA_EMAIL_MAX 254               /* bytes (RFC 5321 path limit) */
#define TWOFA_MEMBER_HASH_MAX 127         /* bytes of a crypto_pwhash_str string */
#define TWOFA_MEMBER_JSON_MAX (16 * 1024) /* bytes a record may take */
#define TWOFA_MEMBER_VERSION 1

typedef enum {
	TWOFA_MEMBER_ACTIVE,
	TWOFA_MEMBER_PENDING, /* enrolled, awaiting an administrator's approval */
	TWOFA_MEMBER_DISABLED,
	/* Not a member yet: an admin issued an invite (twofa-enroll invite) for
	 * a self-enrolment at login. Only the invite hash and expiry, the name,
	 * the times and the version: no phone, country or password hash. Every
	 * path but the enrolment treats it as not enrolled. */
	TWOFA_MEMBER_INVITED,
} twofa_member_status;

/* A one-time code is kept only as "b2$" + 32 hex digits of salt + "$" + 64
 * hex digits of BLAKE2b-256 over salt, user and code (the recovery issue's
 * rule; this header only bounds the string). */
#define TWOFA_MEMBER_CODE_HASH_SIZE 101 /* bytes, the NUL included */
#define TWOFA_MEMBER_RECOVERY_MAX 20    /* recovery codes a member holds */
#define TWOFA_MEMBER_ID_SIZE 65         /* rate-limit id, TOTP entity id: [A-Za-z0-9_-]{1,64} */
#define TWOFA_MEMBER_SID_SIZE 35        /* a Twilio SID: two letters + 32 hex digits */
/* Uses one bypass code may have: Duo's limit for an active bypass code. It
 * bounds twofaBypassCode, which holds one value per remaining use. */
#define TWOFA_MEMBER_BYPASS_USES_MAX 100
/* The record version goes out as a JSON integer (and an LDAP Integer). */
#define TWOFA_MEMBER_RECORD_VERSION_MAX ((unsigned long long)LLONG_MAX)

/* The kinds of one-time code a record holds. Each kind is hashed apart
 * (lib/onetime_code.h), so a hash never verifies in another kind's place. */
typedef enum {
	TWOFA_MEMBER_CODE_RECOVERY, /* one of the member's recovery codes */
	TWOFA_MEMBER_CODE_BYPASS,   /* the bypass code an admin issued */
	TWOFA_MEMBER_CODE_INVITE,   /* the invite of a self-enrolment */
} twofa_member_code_kind;

/* Every field the fleet, recovery, enrolment and TOTP issues need, so that
 * no directory needs a schema change later. Fields added after the first
 * release are optional in a record (absent: the zero value here), so records
 * written before them read as they are, without a migration. */
typedef struct twofa_member {
	char *user;                  /* canonical login name, also the store key */
	char *email;                 /* NULL when none */
	char phone[TWOFA_E164_SIZE]; /* E.164 (twofa_e164_valid); "" when none */
	char country[3];             /* ISO 3166-1 alpha-2 the number was entered for; "" with no phone */
	twofa_channel channel;
	char *password_hash; /* "$argon2id$..."; NULL: none (enrolled behind another module's password) */
	twofa_member_status status;
	time_t created, updated;
	time_t verified;            /* last time the phone was proven; 0 = never */
	unsigned long long version; /* record version: +1 on every stored change; 0 = before versions */
	time_t unlocked;            /* last admin unlock (clears older failures on every host); 0 = never */
	size_t recovery_count;      /* recovery code hashes in recovery[] */
	char recovery[TWOFA_MEMBER_RECOVERY_MAX][TWOFA_MEMBER_CODE_HASH_SIZE];
	char bypass[TWOFA_MEMBER_CODE_HASH_SIZE];    /* admin bypass code hash; "" = none */
	long bypass_uses;                            /* uses left, >= 1 when bypass is set */
	time_t bypass_expires;                       /* set with bypass */
	char bypass_issuer[TWOFA_USER_NAME_MAX + 1]; /* admin's login name; "" = not recorded (optional) */
	char invite[TWOFA_MEMBER_CODE_HASH_SIZE];    /* self-enrolment invite hash; "" = none */
	time_t invite_expires;                       /* set with invite */
	char rate_limit_id[TWOFA_MEMBER_ID_SIZE];    /* key of Twilio's per-member rate limit; "" = none */
	char totp_entity[TWOFA_MEMBER_ID_SIZE]; /* Verify Entity identity (random, never a name); "" = none */
	char totp_factor[TWOFA_MEMBER_SID_SIZE]; /* Verify Factor SID "YF..."; "" = none */
} twofa_member;

/* 1..256 bytes of valid UTF-8 with no control characters, '/' or ':'. */
bool twofa_user_name_valid(const char *name);

/* Checks every field: user name as above; email optional, at most 254 bytes,
 * local@domain shape (required when the channel is email); phone E.164 and
 * country two uppercase ASCII letters, or both "" for a member of the email
 * or totp channel; channel and status known; a totp member (not invited:
 * an invited record is never of the totp channel) has a totp_entity and a
 * totp_factor, and a totp_factor always has its totp_entity; hash NULL (no twofa
 * password) or an Argon2id string; created and updated within 2000..9999
 * with updated >= created; verified and unlocked 0 or within the same range;
 * version at most TWOFA_MEMBER_RECORD_VERSION_MAX; recovery_count at most
 * TWOFA_MEMBER_RECOVERY_MAX, each of those code hashes well formed and none
 * twice; bypass "" (uses, expiry and issuer empty) or a code hash with
 * 1..TWOFA_MEMBER_BYPASS_USES_MAX uses, an expiry in range and an issuer ""
 * or a valid user name (the admin who issued it); invite "" (expiry 0) or a code hash with an expiry in
 * range; an invited record (status invited) has an invite, no phone,
 * country, password hash, verified time, recovery codes, bypass code or
 * TOTP factor, and any known channel (an email channel needs no address:
 * there is no member to send to yet); rate_limit_id and totp_entity "" or [A-Za-z0-9_-]{1,64};
 * totp_factor "" or "YF" + 32 lowercase hex digits. The message names the
 * field, never its value. */
twofa_status twofa_member_validate(const twofa_member *m, twofa_error *err);

/* A one-time code hash as stored: "b2$" + 32 lowercase hex digits + "$" +
 * 64 lowercase hex digits (TWOFA_MEMBER_CODE_HASH_SIZE - 1 bytes). Reads at
 * most TWOFA_MEMBER_CODE_HASH_SIZE bytes of s; NULL is not valid. */
bool twofa_member_code_hash_valid(const char *s);

/* Validates m and writes it as compact JSON with sorted keys:
 * {"channel":"sms","country":"GB","created":"2026-...Z","email":null,
 *  "password_hash":"$argon2id$...","phone":"+44...","status":"active",
 *  "updated":"...","user":"alice","v":1,"verified":null}
 * password_hash, phone and country are null when there are none. The later
 * fields are written only when set, so a member without them encodes to the
 * same bytes as before they existed:
 *  "version":7, "unlocked":"<time>", "recovery":["b2$...",...],
 *  "bypass":{"expires":"<time>","hash":"b2$...","issuer":"root","uses":3}
 *  (issuer only when recorded),
 *  "invite":{"expires":"<time>","hash":"b2$..."},
 *  "rate_limit_id":"...", "totp_entity":"...", "totp_factor":"YF..."
 * *json is malloc'd; free it with twofa_free_secret (it holds the hash). */
twofa_status twofa_member_encode(const twofa_member *m, char **json, twofa_error *err);

/* Adds to obj (a jansson object: an export line) the later fields of m that
 * are set, as twofa_member_encode writes them, so that an export carries
 * them and an old member's line keeps its bytes. False when out of memory. */
struct json_t;
bool twofa_member_put_later_fields(const twofa_member *m, struct json_t *obj);

/* Parses len bytes (at most TWOFA_MEMBER_JSON_MAX) into m: one JSON object,
 * no duplicate keys (nested objects included), "v" exactly 1, the first
 * fields present with their type (email and verified may be null, so may
 * phone and country; password_hash may be null or absent), the later fields
 * absent (the zero value) or of their type ("recovery" 1..20 strings), then
 * twofa_member_validate. Every string is bounded before it is copied.
 * Unknown fields are ignored. On error m is left empty (safe to free). */
twofa_status twofa_member_decode(const char *json, size_t len, twofa_member *m, twofa_error *err);

/* Frees the strings (wiping the hash) and wipes all of m. NULL is fine. */
void twofa_member_free(twofa_member *m);

/* A new member's rate-limit id: 32 hex digits from the system's random
 * source, naming nobody (the key of Twilio's per-member rate limit). */
void twofa_member_new_rate_limit_id(char out[TWOFA_MEMBER_ID_SIZE]);

/* True while m's bypass code may be used at now: set, with a use left, and
 * not expired (an expired one stays in the record until an admin replaces
 * or revokes it, and lets nobody in). */
bool twofa_member_bypass_active(const twofa_member *m, time_t now);

/* True when rec is an invited record whose invite is code for rec->user
 * (typed input, lib/onetime_code's rules) and has not expired at now (it
 * expires at invite_expires: valid while now < invite_expires). The hash is
 * checked in constant time whatever else fails, so the time says nothing
 * of which check did. False for NULL, a record that is not invited, no
 * invite, or input that is not a code. */
bool twofa_member_invite_matches(const twofa_member *rec, const char *code, time_t now);

/* "active", "pending", "disabled", "invited"; NULL for an unknown value. */
const char *twofa_member_status_name(twofa_member_status status);
bool twofa_member_status_parse(const char *s, twofa_member_status *out);

#endif
