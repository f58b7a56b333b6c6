/* SPDX-License-Identifier: GPL-3.0-or-later */
/* Verify TOTP (Verify v2 Entities, Factors, Challenges): the authenticator-
 * app channel. Twilio makes and holds the secret; twofa sees it once, in the
 * answer that creates a factor, to show the member, and wipes it. No message
 * is ever sent. Same object, same outcome table and the same rules as
 * verify.h: no secret, code or full number in any message. */
#ifndef TWOFA_VERIFY_TOTP_H
#define TWOFA_VERIFY_TOTP_H

#include <stdbool.h>
#include <stddef.h>

#include "error.h"
#include "identifiers.h"
#include "verify.h"

#define TWOFA_TOTP_IDENTITY_MAX 64 /* Twilio: 8..64 characters; ours [A-Za-z0-9_-] */
#define TWOFA_TOTP_SECRET_MAX 128  /* the base32 secret of binding.secret */
#define TWOFA_TOTP_URI_MAX 1024    /* the otpauth:// Key URI of binding.uri */
#define TWOFA_TOTP_LIST_MAX 100000 /* list calls stop (BAD_ANSWER) past this many items */

/* What creating a factor returns. secret and uri are the member's secret:
 * show them once, then twofa_totp_binding_wipe. */
typedef struct twofa_totp_binding {
	char factor_sid[TWOFA_SID_LEN + 1]; /* "YF" + 32 hex */
	char secret[TWOFA_TOTP_SECRET_MAX + 1];
	char uri[TWOFA_TOTP_URI_MAX + 1];
	long time_step;   /* config.time_step, seconds (20..60) */
	long code_length; /* config.code_length (3..8) */
	long skew;        /* config.skew (0..2) */
} twofa_totp_binding;

/* The Verify Service's TOTP settings (its "totp" object). */
typedef struct twofa_totp_settings {
	char issuer[64]; /* sanitised; "" if none */
	long time_step;  /* 0 when the service does not say */
	long code_length;
	long skew;
} twofa_totp_settings;

/* A new Entity identity for a member: "tf" + 32 lowercase hex digits from
 * libsodium's random bytes (never a name, email or number). */
twofa_status twofa_totp_new_identity(char out[TWOFA_TOTP_IDENTITY_MAX + 1], twofa_error *err);
bool twofa_totp_identity_valid(const char *identity);

/* POST Entities/{identity}/Factors FactorType=totp FriendlyName=name (the
 * Entity is made with its first factor). OK with *b filled (status
 * unverified). b is wiped on every other outcome. */
twofa_verify_outcome twofa_totp_factor_create(twofa_verify *v, const char *identity, const char *friendly_name,
					      twofa_totp_binding *b, twofa_verify_result *r);
void twofa_totp_binding_wipe(twofa_totp_binding *b);

/* POST Entities/{identity}/Factors/{sid} AuthPayload=code: the first code,
 * which verifies the factor. APPROVED when the factor's status is
 * "verified", WRONG_CODE when it stays "unverified", INVALID_CODE for a code
 * that is not 3..8 digits (refused locally, no request). */
twofa_verify_outcome twofa_totp_factor_verify(twofa_verify *v, const char *identity, const char *factor_sid,
					      const char *code, twofa_verify_result *r);

/* POST Entities/{identity}/Challenges FactorSid=sid AuthPayload=code: a
 * login. APPROVED only for status "approved"; WRONG_CODE for "pending" or
 * "denied"; INVALID_CODE as above; EXPIRED when the factor or entity is gone
 * (404). r->verification_sid holds the challenge's "YC..." sid. */
twofa_verify_outcome twofa_totp_challenge(twofa_verify *v, const char *identity, const char *factor_sid,
					  const char *code, twofa_verify_result *r);

/* DELETE the factor / the entity (and with it its factors). OK, or
 * EXPIRED when it was already gone (404). */
twofa_verify_outcome twofa_totp_factor_delete(twofa_verify *v, const char *identity, const char *factor_sid,
					      twofa_verify_result *r);
twofa_verify_outcome twofa_totp_entity_delete(twofa_verify *v, const char *identity, twofa_verify_result *r);

/* GET Entities (paged: follows meta.next_page_url on the same host only,
 * PageSize=1000): each(ctx, identity) per entity; false from each stops the
 * walk (outcome OK). */
twofa_verify_outcome twofa_totp_entities(twofa_verify *v, bool (*each)(void *ctx, const char *identity),
					 void *ctx, twofa_verify_result *r);

/* GET Entities/{identity}/Factors (paged likewise): each(ctx, sid, status,
 * factor_type) with status "unverified" / "verified" and type "totp", ... */
twofa_verify_outcome twofa_totp_factors(twofa_verify *v, const char *identity,
					bool (*each)(void *ctx, const char *factor_sid, const char *status,
						     const char *factor_type),
					void *ctx, twofa_verify_result *r);

/* GET the Service and read its "totp" object. OK with *s filled. */
twofa_verify_outcome twofa_totp_service_settings(twofa_verify *v, twofa_totp_settings *s,
						 twofa_verify_result *r);

#endif
