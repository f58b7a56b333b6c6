/* SPDX-License-Identifier: GPL-3.0-or-later */
/* Reading Twilio's answers. Defensive: a 2xx body that is not the JSON we
 * expect is a bad answer ("unexpected response"), never a pass and never an
 * outage (failmode=safe stays closed); error bodies
 * are optional (the status alone then decides). */
#include "twofa_build.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>

#include <jansson.h>
#include <sodium.h>

#include "identifiers.h"
#include "util.h"
#include "verify.h"
#include "verify_totp.h"

#define MESSAGE_MAX 120 /* of Twilio's text kept for the log */

/* Copies Twilio's message for the log: control characters become '?', and
 * anything that could be an identifier, a token, a code or a number (long
 * letter/digit runs, digit runs of 4 or more) is cut, since the message may
 * echo resource paths with SIDs or what we sent. */
static void scrub_message(const char *in, char *out, size_t out_size)
{
	size_t o = 0;

	while (*in != '\0' && o + 4 < out_size) {
		size_t run = 0;
		bool digits_only = true;

		while (isalnum((unsigned char)in[run])) {
			if (!isdigit((unsigned char)in[run]))
				digits_only = false;
			run++;
		}
		if (run >= 12 || (digits_only && run >= 4)) {
			out[o++] = '#';
			out[o++] = '#';
			out[o++] = '#';
			in += run;
		} else if (run > 0) {
			size_t n = run < out_size - 1 - o ? run : out_size - 1 - o;
			memcpy(out + o, in, n);
			o += n;
			in += run;
		} else {
			unsigned char c = (unsigned char)*in++;
			out[o++] = (c < 0x20 || c >= 0x7f) ? '?' : (char)c;
		}
	}
	out[o] = '\0';
}

bool twofa_verify_is_sid(const char *s, const char *prefix)
{
	return twofa_sid_valid(s, prefix);
}

bool twofa_verify_is_e164(const char *s)
{
	return twofa_e164_valid(s);
}

/* A string member, or NULL if absent, null or not a string. */
static const char *get_string(json_t *obj, const char *key)
{
	return json_string_value(json_object_get(obj, key));
}

/* Sets the bad-answer outcome for a 2xx body we cannot trust. */
static twofa_verify_outcome unexpected(twofa_verify_result *r, char *log, size_t log_size, const char *why,
				       const char *value)
{
	char shown[32] = "";

	if (value != NULL)
		scrub_message(value, shown, sizeof(shown));
	snprintf(log, log_size, "unexpected response (HTTP %ld): %s%s%s%s", r->http_status, why,
		 value != NULL ? " \"" : "", shown, value != NULL ? "\"" : "");
	return r->outcome = TWOFA_VERIFY_BAD_ANSWER;
}

static twofa_verify_outcome read_verification(twofa_verify_op op, json_t *root, twofa_verify_result *r,
					      char *log, size_t log_size)
{
	const char *sid = get_string(root, "sid");
	const char *status = get_string(root, "status");
	json_t *valid = json_object_get(root, "valid");

	if (status == NULL)
		return unexpected(r, log, log_size, "no \"status\" string", NULL);
	if (sid != NULL && !twofa_verify_is_sid(sid, "VE"))
		return unexpected(r, log, log_size, "\"sid\" is not a VE sid", NULL);
	if (op == TWOFA_VERIFY_OP_START && sid == NULL)
		return unexpected(r, log, log_size, "no verification \"sid\"", NULL);
	if (sid != NULL)
		twofa_strlcpy(r->verification_sid, sid, sizeof(r->verification_sid));

	switch (op) {
	case TWOFA_VERIFY_OP_START:
		if (strcmp(status, "pending") == 0) {
			snprintf(log, log_size, "verification pending (HTTP %ld)", r->http_status);
			return r->outcome = TWOFA_VERIFY_SENT;
		}
		break;
	case TWOFA_VERIFY_OP_CHECK:
		if (strcmp(status, "approved") == 0) {
			/* The legacy flag must not contradict: fail closed if it does. */
			if (valid != NULL && !json_is_null(valid) && !json_is_true(valid))
				return unexpected(r, log, log_size,
						  "status approved but \"valid\" is not true", NULL);
			snprintf(log, log_size, "code approved (HTTP %ld)", r->http_status);
			return r->outcome = TWOFA_VERIFY_APPROVED;
		}
		if (json_is_true(valid))
			return unexpected(r, log, log_size, "\"valid\" true with status", status);
		if (strcmp(status, "pending") == 0) {
			snprintf(log, log_size, "wrong code, verification still pending (HTTP %ld)",
				 r->http_status);
			return r->outcome = TWOFA_VERIFY_WRONG_CODE;
		}
		if (strcmp(status, "max_attempts_reached") == 0) {
			snprintf(log, log_size, "check answered status max_attempts_reached");
			return r->outcome = TWOFA_VERIFY_TOO_MANY_CHECKS;
		}
		if (strcmp(status, "canceled") == 0 || strcmp(status, "expired") == 0 ||
		    strcmp(status, "deleted") == 0 || strcmp(status, "failed") == 0) {
			snprintf(log, log_size, "check answered status %s", status);
			return r->outcome = TWOFA_VERIFY_EXPIRED;
		}
		break;
	case TWOFA_VERIFY_OP_CANCEL:
		if (strcmp(status, "canceled") == 0) {
			snprintf(log, log_size, "verification canceled (HTTP %ld)", r->http_status);
			return r->outcome = TWOFA_VERIFY_OK;
		}
		break;
	default:
		break;
	}
	return unexpected(r, log, log_size, "status", status);
}

static bool read_totp_settings(json_t *root, twofa_totp_settings *s);

static twofa_verify_outcome read_service(json_t *root, twofa_verify_result *r, twofa_verify_details *d,
					 char *log, size_t log_size)
{
	const char *sid = get_string(root, "sid");
	const char *name = get_string(root, "friendly_name");
	json_t *len = json_object_get(root, "code_length");
	long code_length = 0;

	if (!twofa_verify_is_sid(sid, "VA"))
		return unexpected(r, log, log_size, "no service \"sid\" (VA...)", NULL);
	if (len != NULL && !json_is_null(len)) {
		if (!json_is_integer(len) || json_integer_value(len) < 4 || json_integer_value(len) > 10)
			return unexpected(r, log, log_size, "\"code_length\" is not 4..10", NULL);
		code_length = (long)json_integer_value(len);
	}
	if (d != NULL && d->totp.settings != NULL && !read_totp_settings(root, d->totp.settings))
		return unexpected(r, log, log_size,
				  "\"totp\" without time_step 20..60, code_length 3..8, skew 0..2 or null",
				  NULL);
	if (d != NULL) {
		d->code_length = code_length;
		d->friendly_name[0] = '\0';
		if (name != NULL)
			scrub_message(name, d->friendly_name, sizeof(d->friendly_name));
	}
	snprintf(log, log_size, "service found (HTTP %ld), code length %ld", r->http_status, code_length);
	return r->outcome = TWOFA_VERIFY_OK;
}

static twofa_verify_outcome read_lookup(json_t *root, twofa_verify_result *r, twofa_verify_details *d,
					char *log, size_t log_size)
{
	json_t *valid = json_object_get(root, "valid");
	const char *number = get_string(root, "phone_number");

	if (!json_is_boolean(valid))
		return unexpected(r, log, log_size, "no \"valid\" boolean", NULL);
	if (json_is_false(valid)) {
		json_t *errors = json_object_get(root, "validation_errors");
		const char *first = json_string_value(json_array_get(errors, 0));
		char shown[40] = "";

		if (first != NULL)
			scrub_message(first, shown, sizeof(shown));
		snprintf(log, log_size, "number not valid (%s)", first != NULL ? shown : "no reason given");
		return r->outcome = TWOFA_VERIFY_NUMBER_INVALID;
	}
	if (!twofa_verify_is_e164(number))
		return unexpected(r, log, log_size, "valid number without an E.164 \"phone_number\"", NULL);
	if (d != NULL)
		twofa_strlcpy(d->e164, number, sizeof(d->e164));
	snprintf(log, log_size, "number valid (HTTP %ld)", r->http_status);
	return r->outcome = TWOFA_VERIFY_OK;
}

/* A rate limit or bucket object's sid, checked. */
static const char *resource_sid(json_t *obj, const char *prefix)
{
	const char *sid = get_string(obj, "sid");
	return twofa_verify_is_sid(sid, prefix) ? sid : NULL;
}

/* One bucket's numbers into rl, bounded. */
static bool add_bucket(json_t *obj, twofa_verify_rate_limit *rl)
{
	json_t *max = json_object_get(obj, "max"), *interval = json_object_get(obj, "interval");

	if (resource_sid(obj, "BL") == NULL || !json_is_integer(max) || !json_is_integer(interval) ||
	    json_integer_value(max) < 0 || json_integer_value(max) > 1000000000 ||
	    json_integer_value(interval) < 0 || json_integer_value(interval) > 1000000000 ||
	    rl->buckets >= TWOFA_VERIFY_BUCKETS_MAX)
		return false;
	rl->max[rl->buckets] = (long)json_integer_value(max);
	rl->interval[rl->buckets] = (long)json_integer_value(interval);
	rl->buckets++;
	return true;
}

/* Rate limits: a list is searched for details->rate_limit_name (one page,
 * which must be the last: a service with more rate limits than a page is
 * not one twofa made); a created rate limit gives its sid; a bucket list or
 * a created bucket gives the numbers. */
static twofa_verify_outcome read_rate_limit(twofa_verify_op op, json_t *root, twofa_verify_result *r,
					    twofa_verify_details *d, char *log, size_t log_size)
{
	twofa_verify_rate_limit scratch, *rl = &scratch;
	const char *want = d != NULL ? d->rate_limit_name : NULL;
	json_t *list, *item, *meta;
	size_t i;

	memset(&scratch, 0, sizeof(scratch));
	if (d != NULL)
		rl = &d->rate_limit;
	memset(rl, 0, sizeof(*rl));
	if (op == TWOFA_VERIFY_OP_RATE_LIMIT_CREATE) {
		const char *sid = resource_sid(root, "RK");
		if (sid == NULL)
			return unexpected(r, log, log_size, "no rate limit \"sid\" (RK...)", NULL);
		twofa_strlcpy(rl->sid, sid, sizeof(rl->sid));
		snprintf(log, log_size, "rate limit created (HTTP %ld)", r->http_status);
		return r->outcome = TWOFA_VERIFY_OK;
	}
	if (op == TWOFA_VERIFY_OP_BUCKET_CREATE) {
		if (!add_bucket(root, rl))
			return unexpected(r, log, log_size, "bucket without a BL sid, max or interval", NULL);
		snprintf(log, log_size, "bucket created (HTTP %ld)", r->http_status);
		return r->outcome = TWOFA_VERIFY_OK;
	}
	list = json_object_get(root, op == TWOFA_VERIFY_OP_BUCKETS ? "buckets" : "rate_limits");
	meta = json_object_get(root, "meta");
	if (!json_is_array(list))
		return unexpected(r, log, log_size, "no list in the answer", NULL);
	if (json_is_object(meta) && json_string_value(json_object_get(meta, "next_page_url")) != NULL)
		return unexpected(r, log, log_size, "more than one page of rate limits or buckets", NULL);
	json_array_foreach(list, i, item) {
		if (op == TWOFA_VERIFY_OP_BUCKETS) {
			if (!add_bucket(item, rl))
				return unexpected(r, log, log_size,
						  "a bucket without a BL sid, max or interval", NULL);
			continue;
		}
		const char *name = get_string(item, "unique_name");
		if (want != NULL && name != NULL && strcmp(name, want) == 0) {
			const char *sid = resource_sid(item, "RK");
			if (sid == NULL)
				return unexpected(r, log, log_size, "rate limit without an RK sid", NULL);
			twofa_strlcpy(rl->sid, sid, sizeof(rl->sid));
		}
	}
	snprintf(log, log_size, "%zu %s listed (HTTP %ld)", json_array_size(list),
		 op == TWOFA_VERIFY_OP_BUCKETS ? "buckets" : "rate limits", r->http_status);
	return r->outcome = TWOFA_VERIFY_OK;
}

/* ---- Verify TOTP ---------------------------------------------------------- */

/* Overwrites a string value jansson holds (the secret, the Key URI) before
 * the tree is freed: jansson frees without wiping. */
static void wipe_json_string(json_t *s)
{
	if (json_is_string(s))
		sodium_memzero((char *)json_string_value(s), json_string_length(s));
}

/* An integer member in lo..hi; null or absent only when nullable. */
static bool get_bounded(json_t *obj, const char *key, long lo, long hi, bool nullable, long *out)
{
	json_t *v = json_object_get(obj, key);

	*out = 0;
	if (v == NULL || json_is_null(v))
		return nullable;
	if (!json_is_integer(v) || json_integer_value(v) < lo || json_integer_value(v) > hi)
		return false;
	*out = (long)json_integer_value(v);
	return true;
}

/* RFC 4648 base32 without padding, at least 128 bits (RFC 4226 R6). */
static bool is_base32_secret(const char *s, size_t n)
{
	if (n < 26 || n > TWOFA_TOTP_SECRET_MAX)
		return false;
	for (size_t i = 0; i < n; i++)
		if (!((s[i] >= 'A' && s[i] <= 'Z') || (s[i] >= '2' && s[i] <= '7')))
			return false;
	return true;
}

/* otpauth://totp/..., printable ASCII without spaces, carrying exactly this
 * secret as its secret parameter (the QR and the text must agree). */
static bool is_key_uri(const char *uri, size_t n, const char *secret, size_t secret_len)
{
	static const char prefix[] = "otpauth://totp/";
	const char *q, *p;
	size_t found = 0;
	bool match = false;

	if (n <= sizeof(prefix) - 1 || n > TWOFA_TOTP_URI_MAX || strncmp(uri, prefix, sizeof(prefix) - 1) != 0)
		return false;
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)uri[i] <= 0x20 || (unsigned char)uri[i] >= 0x7f)
			return false;
	q = strchr(uri, '?');
	if (q == NULL)
		return false;
	/* Exactly one secret, binding.secret: an app that took the last of two
	 * would show codes of a secret other than the one printed. */
	for (p = q; p != NULL; p = strchr(p + 1, '&'))
		if (strncmp(p + 1, "secret=", 7) == 0) {
			found++;
			match = strncmp(p + 8, secret, secret_len) == 0 &&
				(p[8 + secret_len] == '&' || p[8 + secret_len] == '\0');
		}
	return found == 1 && match;
}

/* A factor's "config": the numbers a TOTP factor runs on, all in range. */
static bool read_totp_config(json_t *obj, long *time_step, long *code_length, long *skew)
{
	json_t *config = json_object_get(obj, "config");
	const char *alg = get_string(config, "alg");

	return json_is_object(config) && get_bounded(config, "time_step", 20, 60, false, time_step) &&
	       get_bounded(config, "code_length", 3, 8, false, code_length) &&
	       get_bounded(config, "skew", 0, 2, false, skew) &&
	       (alg == NULL || strcmp(alg, "sha1") == 0 || strcmp(alg, "sha256") == 0 ||
		strcmp(alg, "sha512") == 0);
}

static bool string_is(json_t *obj, const char *key, const char *want)
{
	const char *s = get_string(obj, key);
	return s != NULL && strcmp(s, want) == 0;
}

/* The answer to a factor create: a totp factor, unverified, with a binding
 * whose secret and Key URI are sane; they go to d->totp.binding and are
 * wiped from jansson's copy whatever happens. */
static twofa_verify_outcome read_factor_create(json_t *root, twofa_verify_result *r, twofa_verify_details *d,
					       char *log, size_t log_size)
{
	twofa_totp_binding scratch, *b = &scratch;
	json_t *binding = json_object_get(root, "binding");
	json_t *secret = json_object_get(binding, "secret"), *uri = json_object_get(binding, "uri");
	const char *sid = get_string(root, "sid");
	twofa_verify_outcome o;

	if (d != NULL && d->totp.binding != NULL)
		b = d->totp.binding;
	memset(b, 0, sizeof(*b));
	if (!twofa_sid_valid(sid, "YF"))
		o = unexpected(r, log, log_size, "no factor \"sid\" (YF...)", NULL);
	else if (!string_is(root, "factor_type", "totp"))
		o = unexpected(r, log, log_size, "\"factor_type\" is not totp", NULL);
	else if (!string_is(root, "status", "unverified"))
		o = unexpected(r, log, log_size, "a new factor whose \"status\" is not unverified", NULL);
	else if (!json_is_string(secret) ||
		 !is_base32_secret(json_string_value(secret), json_string_length(secret)))
		o = unexpected(r, log, log_size, "\"binding.secret\" is not 26..128 base32 characters", NULL);
	else if (!json_is_string(uri) || !is_key_uri(json_string_value(uri), json_string_length(uri),
						     json_string_value(secret), json_string_length(secret)))
		o = unexpected(r, log, log_size,
			       "\"binding.uri\" is not a printable otpauth://totp/ URI with that secret",
			       NULL);
	else if (!read_totp_config(root, &b->time_step, &b->code_length, &b->skew))
		o = unexpected(r, log, log_size,
			       "\"config\" without time_step 20..60, code_length 3..8, skew 0..2", NULL);
	else {
		twofa_strlcpy(b->factor_sid, sid, sizeof(b->factor_sid));
		memcpy(b->secret, json_string_value(secret), json_string_length(secret) + 1);
		memcpy(b->uri, json_string_value(uri), json_string_length(uri) + 1);
		snprintf(log, log_size, "factor created, unverified (HTTP %ld), %ld digits every %ld s",
			 r->http_status, b->code_length, b->time_step);
		o = r->outcome = TWOFA_VERIFY_OK;
	}
	if (o != TWOFA_VERIFY_OK || b == &scratch)
		sodium_memzero(b, sizeof(*b));
	wipe_json_string(secret);
	wipe_json_string(uri);
	return o;
}

/* A factor after its first code: verified is the pass, unverified a wrong code. */
static twofa_verify_outcome read_factor_verify(json_t *root, twofa_verify_result *r, twofa_verify_details *d,
					       char *log, size_t log_size)
{
	const char *sid = get_string(root, "sid"), *status = get_string(root, "status");
	const char *want = d != NULL ? d->totp.factor_sid : NULL;

	if (!twofa_sid_valid(sid, "YF") || (want != NULL && strcmp(sid, want) != 0))
		return unexpected(r, log, log_size, "\"sid\" is not the factor asked for", NULL);
	if (!string_is(root, "factor_type", "totp"))
		return unexpected(r, log, log_size, "\"factor_type\" is not totp", NULL);
	if (status != NULL && strcmp(status, "verified") == 0) {
		snprintf(log, log_size, "factor verified (HTTP %ld)", r->http_status);
		return r->outcome = TWOFA_VERIFY_APPROVED;
	}
	if (status != NULL && strcmp(status, "unverified") == 0) {
		snprintf(log, log_size, "wrong code, factor still unverified (HTTP %ld)", r->http_status);
		return r->outcome = TWOFA_VERIFY_WRONG_CODE;
	}
	return unexpected(r, log, log_size, "factor status", status);
}

/* A challenge with the code: approved is the pass; pending or denied a wrong code. */
static twofa_verify_outcome read_challenge(json_t *root, twofa_verify_result *r, twofa_verify_details *d,
					   char *log, size_t log_size)
{
	const char *sid = get_string(root, "sid"), *status = get_string(root, "status");
	const char *factor = get_string(root, "factor_sid");
	const char *want = d != NULL ? d->totp.factor_sid : NULL;

	if (!twofa_sid_valid(sid, "YC"))
		return unexpected(r, log, log_size, "no challenge \"sid\" (YC...)", NULL);
	if (!twofa_sid_valid(factor, "YF") || (want != NULL && strcmp(factor, want) != 0))
		return unexpected(r, log, log_size, "\"factor_sid\" is not the factor asked for", NULL);
	if (!string_is(root, "factor_type", "totp"))
		return unexpected(r, log, log_size, "\"factor_type\" is not totp", NULL);
	twofa_strlcpy(r->verification_sid, sid, sizeof(r->verification_sid));
	if (status != NULL && strcmp(status, "approved") == 0) {
		snprintf(log, log_size, "challenge approved (HTTP %ld)", r->http_status);
		return r->outcome = TWOFA_VERIFY_APPROVED;
	}
	if (status != NULL && (strcmp(status, "pending") == 0 || strcmp(status, "denied") == 0)) {
		snprintf(log, log_size, "wrong code, challenge %s (HTTP %ld)", status, r->http_status);
		return r->outcome = TWOFA_VERIFY_WRONG_CODE;
	}
	r->verification_sid[0] = '\0';
	return unexpected(r, log, log_size, "challenge status", status);
}

/* An identity another program may have given an entity: 1..64 printable
 * characters, no space (it may be printed). */
static bool is_listed_identity(const char *s)
{
	size_t n = s != NULL ? strnlen(s, TWOFA_TOTP_IDENTITY_MAX + 1) : 0;

	if (n == 0 || n > TWOFA_TOTP_IDENTITY_MAX)
		return false;
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)s[i] <= 0x20 || (unsigned char)s[i] >= 0x7f)
			return false;
	return true;
}

static bool is_one_of(const char *s, const char *const *words)
{
	for (; s != NULL && *words != NULL; words++)
		if (strcmp(s, *words) == 0)
			return true;
	return false;
}

/* One page of entities or factors: every item is checked before any goes
 * to the callback; the next page's URL is handed back for the caller to
 * check (same service, same host) and follow. */
static twofa_verify_outcome read_totp_list(twofa_verify_op op, json_t *root, twofa_verify_result *r,
					   twofa_verify_details *d, char *log, size_t log_size)
{
	static const char *const statuses[] = {"unverified", "verified", NULL};
	static const char *const types[] = {"push", "totp", "passkeys", NULL};
	bool entities = op == TWOFA_VERIFY_OP_ENTITIES;
	json_t *list = json_object_get(root, entities ? "entities" : "factors");
	json_t *meta = json_object_get(root, "meta"), *next, *item;
	twofa_verify_totp_details scratch, *t = &scratch;
	size_t i;

	memset(&scratch, 0, sizeof(scratch));
	if (d != NULL)
		t = &d->totp;
	t->next_page[0] = '\0';
	t->stopped = false;
	if (!json_is_array(list))
		return unexpected(r, log, log_size, "no list in the answer", NULL);
	if (json_array_size(list) > TWOFA_TOTP_LIST_MAX - t->items)
		return unexpected(r, log, log_size, "more items than twofa reads", NULL);
	next = json_is_object(meta) ? json_object_get(meta, "next_page_url") : NULL;
	if (next != NULL && !json_is_null(next)) {
		if (!json_is_string(next) || json_string_length(next) >= sizeof(t->next_page) ||
		    twofa_has_control(json_string_value(next), json_string_length(next)) ||
		    strchr(json_string_value(next), ' ') != NULL)
			return unexpected(r, log, log_size, "\"next_page_url\" is not a URL", NULL);
		if (json_array_size(list) == 0)
			return unexpected(r, log, log_size, "an empty page that is not the last", NULL);
		memcpy(t->next_page, json_string_value(next), json_string_length(next) + 1);
	}
	json_array_foreach(list, i, item) {
		if (entities ? !twofa_sid_valid(get_string(item, "sid"), "YE") ||
				       !is_listed_identity(get_string(item, "identity"))
			     : !twofa_sid_valid(get_string(item, "sid"), "YF") ||
				       !is_one_of(get_string(item, "status"), statuses) ||
				       !is_one_of(get_string(item, "factor_type"), types)) {
			t->next_page[0] = '\0';
			return unexpected(r, log, log_size,
					  entities ? "an entity without a YE sid or a printable identity"
						   : "a factor without a YF sid, a status or a type",
					  NULL);
		}
	}
	t->items += json_array_size(list);
	json_array_foreach(list, i, item) {
		bool go = entities ? (t->each_entity == NULL ||
				      t->each_entity(t->ctx, get_string(item, "identity")))
				   : (t->each_factor == NULL ||
				      t->each_factor(t->ctx, get_string(item, "sid"),
						     get_string(item, "status"),
						     get_string(item, "factor_type")));
		if (!go) {
			t->stopped = true;
			break;
		}
	}
	snprintf(log, log_size, "%zu %s listed (HTTP %ld)%s", json_array_size(list),
		 entities ? "entities" : "factors", r->http_status,
		 t->next_page[0] != '\0' ? ", more to come" : "");
	return r->outcome = TWOFA_VERIFY_OK;
}

/* The service's "totp" object: null or absent is "not set" (zeros). */
static bool read_totp_settings(json_t *root, twofa_totp_settings *s)
{
	json_t *totp = json_object_get(root, "totp"), *issuer;

	memset(s, 0, sizeof(*s));
	if (totp == NULL || json_is_null(totp))
		return true;
	issuer = json_object_get(totp, "issuer");
	if (!json_is_object(totp) || !get_bounded(totp, "time_step", 20, 60, true, &s->time_step) ||
	    !get_bounded(totp, "code_length", 3, 8, true, &s->code_length) ||
	    !get_bounded(totp, "skew", 0, 2, true, &s->skew) ||
	    (issuer != NULL && !json_is_null(issuer) && !json_is_string(issuer))) {
		memset(s, 0, sizeof(*s));
		return false;
	}
	if (json_is_string(issuer))
		scrub_message(json_string_value(issuer), s->issuer, sizeof(s->issuer));
	return true;
}

static twofa_verify_outcome read_error(twofa_verify_op op, const char *body, size_t len,
				       twofa_verify_result *r, char *log, size_t log_size)
{
	json_t *root = json_loadb(body, len, JSON_REJECT_DUPLICATES, NULL);
	const char *message = NULL;
	char shown[MESSAGE_MAX] = "";

	if (json_is_object(root)) {
		json_t *code = json_object_get(root, "code");
		if (json_is_integer(code) && json_integer_value(code) > 0 &&
		    json_integer_value(code) < 1000000000)
			r->twilio_code = (long)json_integer_value(code);
		message = get_string(root, "message");
		if (message != NULL)
			scrub_message(message, shown, sizeof(shown));
	}
	r->outcome = twofa_verify_map_error(op, r->http_status, r->twilio_code);
	snprintf(log, log_size, "HTTP %ld, Twilio error %ld%s%s%s", r->http_status, r->twilio_code,
		 message != NULL ? ": \"" : (json_is_object(root) ? "" : ", body not Twilio JSON"), shown,
		 message != NULL ? "\"" : "");
	json_decref(root);
	return r->outcome;
}

twofa_verify_outcome twofa_verify_interpret(twofa_verify_op op, long http_status, const char *body,
					    size_t len, twofa_verify_result *r, twofa_verify_details *details,
					    char *log_detail, size_t log_detail_size)
{
	json_t *root;
	json_error_t jerr;
	twofa_verify_outcome o;

	r->http_status = http_status;
	r->twilio_code = 0;
	r->verification_sid[0] = '\0';
	/* What a rate-limit answer fills is empty until it is read whole. */
	if (details != NULL && op >= TWOFA_VERIFY_OP_RATE_LIMITS && op <= TWOFA_VERIFY_OP_BUCKET_CREATE)
		memset(&details->rate_limit, 0, sizeof(details->rate_limit));
	/* So is a binding: wiped unless a factor create reads one whole. */
	if (details != NULL && details->totp.binding != NULL)
		sodium_memzero(details->totp.binding, sizeof(*details->totp.binding));
	if (details != NULL && details->totp.settings != NULL)
		memset(details->totp.settings, 0, sizeof(*details->totp.settings));
	if (details != NULL)
		details->totp.next_page[0] = '\0';
	if (body == NULL)
		len = 0;
	if (http_status < 200 || http_status > 299)
		return read_error(op, body != NULL ? body : "", len, r, log_detail, log_detail_size);
	/* A delete answers 204 and no body: the status is all there is. */
	if (op == TWOFA_VERIFY_OP_FACTOR_DELETE || op == TWOFA_VERIFY_OP_ENTITY_DELETE) {
		snprintf(log_detail, log_detail_size, "deleted (HTTP %ld)", http_status);
		return r->outcome = TWOFA_VERIFY_OK;
	}

	if (len == 0)
		return unexpected(r, log_detail, log_detail_size, "empty body", NULL);
	root = json_loadb(body, len, JSON_REJECT_DUPLICATES, &jerr);
	if (root == NULL)
		return unexpected(r, log_detail, log_detail_size, "body is not valid JSON", NULL);
	if (!json_is_object(root)) {
		json_decref(root);
		return unexpected(r, log_detail, log_detail_size, "body is not a JSON object", NULL);
	}
	switch (op) {
	case TWOFA_VERIFY_OP_SERVICE:
		o = read_service(root, r, details, log_detail, log_detail_size);
		break;
	case TWOFA_VERIFY_OP_LOOKUP:
		o = read_lookup(root, r, details, log_detail, log_detail_size);
		break;
	case TWOFA_VERIFY_OP_RATE_LIMITS:
	case TWOFA_VERIFY_OP_RATE_LIMIT_CREATE:
	case TWOFA_VERIFY_OP_BUCKETS:
	case TWOFA_VERIFY_OP_BUCKET_CREATE:
		o = read_rate_limit(op, root, r, details, log_detail, log_detail_size);
		break;
	case TWOFA_VERIFY_OP_FACTOR_CREATE:
		o = read_factor_create(root, r, details, log_detail, log_detail_size);
		break;
	case TWOFA_VERIFY_OP_FACTOR_VERIFY:
		o = read_factor_verify(root, r, details, log_detail, log_detail_size);
		break;
	case TWOFA_VERIFY_OP_CHALLENGE:
		o = read_challenge(root, r, details, log_detail, log_detail_size);
		break;
	case TWOFA_VERIFY_OP_ENTITIES:
	case TWOFA_VERIFY_OP_FACTORS:
		o = read_totp_list(op, root, r, details, log_detail, log_detail_size);
		break;
	default:
		o = read_verification(op, root, r, log_detail, log_detail_size);
		break;
	}
	json_decref(root);
	return o;
}
