/* SPDX-License-Identifier: GPL-3.0-or-later */
/* Twilio Verify v2 + Lookup v2 client. Every call ends in one outcome from
 * one table (verify_outcome.c), with a short message for the user and a
 * longer one for the log; neither ever holds a secret, a code or a full
 * number. One twofa_verify object = one PAM transaction = one connection,
 * reused for the send and the check. Not thread-safe per object. */
#ifndef TWOFA_VERIFY_H
#define TWOFA_VERIFY_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "config.h"
#include "error.h"
#include "identifiers.h"

typedef struct twofa_verify twofa_verify;

typedef enum twofa_verify_outcome {
	TWOFA_VERIFY_OK = 0,            /* cancel, service fetch, lookup: done */
	TWOFA_VERIFY_SENT,              /* start: a code is on its way (status pending) */
	TWOFA_VERIFY_APPROVED,          /* check: the code is right. The ONLY pass. */
	TWOFA_VERIFY_WRONG_CODE,        /* check: 200 "pending" */
	TWOFA_VERIFY_INVALID_CODE,      /* check: not 4..10 letters/digits (refused locally) */
	TWOFA_VERIFY_EXPIRED,           /* check/cancel: 404 20404, nothing pending */
	TWOFA_VERIFY_TOO_MANY_CHECKS,   /* 60202 */
	TWOFA_VERIFY_TOO_MANY_SENDS,    /* 60203 */
	TWOFA_VERIFY_NUMBER_INVALID,    /* 60200 on To; lookup valid:false */
	TWOFA_VERIFY_LANDLINE,          /* 60205 */
	TWOFA_VERIFY_BLOCKED,           /* 60410, 60605, 60238 */
	TWOFA_VERIFY_CHANNEL_DISABLED,  /* 60223, 60217 */
	TWOFA_VERIFY_BAD_CREDENTIALS,   /* 401 / 20003 */
	TWOFA_VERIFY_SERVICE_NOT_FOUND, /* 404 on service fetch or start: wrong Service SID */
	TWOFA_VERIFY_RATE_LIMITED,      /* 20429, 60212, any other 429 */
	TWOFA_VERIFY_OUTAGE,            /* 5xx, timeout, no connection, TLS handshake/certificate */
	TWOFA_VERIFY_CLIENT_ERROR,      /* any other refusal, or a bad local argument */
	TWOFA_VERIFY_BAD_ANSWER,        /* 1xx/3xx, a 2xx we cannot read, a body too large */
	TWOFA_VERIFY_LOCAL_ERROR,       /* this machine failed: descriptors, memory, CA file */
	TWOFA_VERIFY_OUTCOME_COUNT
} twofa_verify_outcome;

/* Which call a response answers: the same status means different things. */
typedef enum twofa_verify_op {
	TWOFA_VERIFY_OP_START = 0,
	TWOFA_VERIFY_OP_CHECK,
	TWOFA_VERIFY_OP_CANCEL,
	TWOFA_VERIFY_OP_SERVICE,
	TWOFA_VERIFY_OP_LOOKUP,
	TWOFA_VERIFY_OP_RATE_LIMITS,       /* list the Service Rate Limits */
	TWOFA_VERIFY_OP_RATE_LIMIT_CREATE, /* create one */
	TWOFA_VERIFY_OP_BUCKETS,           /* list a rate limit's buckets */
	TWOFA_VERIFY_OP_BUCKET_CREATE,     /* create one */
	/* Verify TOTP (verify_totp.h). */
	TWOFA_VERIFY_OP_FACTOR_CREATE, /* a TOTP factor (and its entity): the binding */
	TWOFA_VERIFY_OP_FACTOR_VERIFY, /* its first code */
	TWOFA_VERIFY_OP_CHALLENGE,     /* a login's code */
	TWOFA_VERIFY_OP_FACTOR_DELETE,
	TWOFA_VERIFY_OP_ENTITY_DELETE,
	TWOFA_VERIFY_OP_ENTITIES, /* list the service's entities (one page) */
	TWOFA_VERIFY_OP_FACTORS,  /* list an entity's factors (one page) */
} twofa_verify_op;

#define TWOFA_VERIFY_SID_LEN TWOFA_SID_LEN
#define TWOFA_E164_MAX (TWOFA_E164_SIZE - 1) /* '+' and the digits */

typedef struct twofa_verify_result {
	twofa_verify_outcome outcome;
	long http_status;                                /* 0: no HTTP response */
	long twilio_code;                                /* Twilio's error code, 0 if none */
	char verification_sid[TWOFA_VERIFY_SID_LEN + 1]; /* start/check: VE..., else "" */
	char user_message[160];
	char log_message[320];
} twofa_verify_result;

#define TWOFA_VERIFY_BUCKETS_MAX 5 /* Twilio's limit per rate limit (error 60210) */

/* A Service Rate Limit and its buckets: each lets `max` sends per key
 * through in `interval` seconds. */
typedef struct twofa_verify_rate_limit {
	char sid[TWOFA_VERIFY_SID_LEN + 1]; /* "RK..."; "" when there is none of the name */
	size_t buckets;
	long max[TWOFA_VERIFY_BUCKETS_MAX];
	long interval[TWOFA_VERIFY_BUCKETS_MAX];
} twofa_verify_rate_limit;

struct twofa_totp_binding;
struct twofa_totp_settings;

/* Verify TOTP, in and out (verify_totp.c fills the "in" fields). */
typedef struct twofa_verify_totp_details {
	/* In: the sid the answer must name (factor verify: the factor; a
	 * challenge: its factor); NULL to skip. */
	const char *factor_sid;
	/* Out, factor create: the binding (secret, uri, config); wiped by the
	 * reader on every outcome but OK. NULL: an answer without one is read. */
	struct twofa_totp_binding *binding;
	/* Out, service fetch: its "totp" object read strictly when not NULL. */
	struct twofa_totp_settings *settings;
	/* Lists: each item of a page that reads whole, in order; false stops. */
	bool (*each_entity)(void *ctx, const char *identity);
	bool (*each_factor)(void *ctx, const char *factor_sid, const char *status, const char *factor_type);
	void *ctx;
	size_t items;         /* in/out: items so far, bounded by TWOFA_TOTP_LIST_MAX */
	bool stopped;         /* out: a callback returned false */
	char next_page[1025]; /* out: meta.next_page_url, "" on the last page */
} twofa_verify_totp_details;

/* What a 2xx body carried besides its status. */
typedef struct twofa_verify_details {
	char e164[TWOFA_E164_MAX + 1]; /* lookup: normalised number */
	char friendly_name[64];        /* service: sanitised */
	long code_length;              /* service: 4..10, 0 if absent */
	/* Rate limits. In: the unique name a list is searched for. Out: its sid
	 * (a list, a create), or the buckets (a bucket list, a create). */
	const char *rate_limit_name;
	twofa_verify_rate_limit rate_limit;
	twofa_verify_totp_details totp;
} twofa_verify_details;

/* Copies what it needs from cfg (credentials, URLs, CA, proxy, timeout,
 * locale). Needs API key SID + secret or Account SID + token, a Service SID
 * and allowed URLs (https, or http to the loopback). */
twofa_status twofa_verify_new(twofa_verify **out, const twofa_config *cfg, twofa_error *err);
void twofa_verify_free(twofa_verify *v);

/* Sends a code to `to` (E.164, or an address for email). locale NULL means
 * the config's locale (which may be unset); an unsupported locale is
 * retried once without it (so, only then, two requests: up to 2 x timeout).
 * SENT on success. TWOFA_CHANNEL_TOTP is CLIENT_ERROR with no request: an
 * app's code is never sent. */
twofa_verify_outcome twofa_verify_start(twofa_verify *v, const char *to, twofa_channel ch, const char *locale,
					twofa_verify_result *r);

/* twofa_verify_start for a member: rate_key is the member's rate-limit id.
 * With the config's rate_limit set and rate_key not NULL or "", the send
 * carries RateLimits={rate_limit: rate_key}, and Twilio's buckets count it
 * for every host of a fleet (a full bucket is a refusal, never an outage). */
twofa_verify_outcome twofa_verify_start_keyed(twofa_verify *v, const char *to, twofa_channel ch,
					      const char *locale, const char *rate_key,
					      twofa_verify_result *r);

/* Checks code for `to`. Only APPROVED passes. */
twofa_verify_outcome twofa_verify_check(twofa_verify *v, const char *to, const char *code,
					twofa_verify_result *r);

/* Cancels what is pending for `to` (or a VE sid). OK, or EXPIRED if nothing was. */
twofa_verify_outcome twofa_verify_cancel(twofa_verify *v, const char *to, twofa_verify_result *r);

/* Fetches the Verify Service: validates credentials and Service SID.
 * details may be NULL. */
twofa_verify_outcome twofa_verify_fetch_service(twofa_verify *v, twofa_verify_details *details,
						twofa_verify_result *r);

/* Lookup v2: number in E.164 or national form, country ISO 3166 alpha-2 (or
 * NULL). OK with e164_out filled, or NUMBER_INVALID. */
twofa_verify_outcome twofa_lookup(twofa_verify *v, const char *number, const char *country,
				  char e164_out[TWOFA_E164_MAX + 1], twofa_verify_result *r);

/* Service Rate Limits (names: twofa_twilio_name_valid). find: the rate limit of the
 * unique name and its buckets (OK with rl->sid "" when there is none).
 * ensure: find, then create the rate limit if missing and a bucket of max
 * sends per interval seconds if none has those numbers; OK when both are
 * there. */
twofa_verify_outcome twofa_verify_rate_limit_find(twofa_verify *v, const char *name,
						  twofa_verify_rate_limit *rl, twofa_verify_result *r);
twofa_verify_outcome twofa_verify_rate_limit_ensure(twofa_verify *v, const char *name, long max, long interval,
						    twofa_verify_rate_limit *rl, twofa_verify_result *r);

/* New TCP connections this object opened so far. */
long twofa_verify_connections(const twofa_verify *v);

/* Outcome table (verify_outcome.c). */
const char *twofa_verify_outcome_name(twofa_verify_outcome o); /* "approved", ... */
const char *twofa_verify_user_message(twofa_verify_outcome o);
bool twofa_verify_is_outage(twofa_verify_outcome o);
/* The outcome of a non-2xx answer: the one place Twilio's codes are mapped. */
twofa_verify_outcome twofa_verify_map_error(twofa_verify_op op, long http_status, long twilio_code);
const char *twofa_verify_op_name(twofa_verify_op op);

/* twofa_sid_valid and twofa_e164_valid (lib/identifiers.h). */
bool twofa_verify_is_sid(const char *s, const char *prefix);
bool twofa_verify_is_e164(const char *s);

/* Interprets one HTTP answer (verify_response.c): fills r->outcome,
 * http_status, twilio_code, verification_sid and details (may be NULL; its
 * inputs, rate_limit_name and the totp part, set or zeroed); the caller
 * writes the messages. log_detail receives why (sanitised, no
 * secrets). Pure function: the fuzz target drives it. */
twofa_verify_outcome twofa_verify_interpret(twofa_verify_op op, long http_status, const char *body,
					    size_t len, twofa_verify_result *r, twofa_verify_details *details,
					    char *log_detail, size_t log_detail_size);

#endif
