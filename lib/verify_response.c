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

#include "identifiers.h"
#include "util.h"
#include "verify.h"

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
	if (details != NULL && op >= TWOFA_VERIFY_OP_RATE_LIMITS)
		memset(&details->rate_limit, 0, sizeof(details->rate_limit));
	if (body == NULL)
		len = 0;
	if (http_status < 200 || http_status > 299)
		return read_error(op, body != NULL ? body : "", len, r, log_detail, log_detail_size);

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
	default:
		o = read_verification(op, root, r, log_detail, log_detail_size);
		break;
	}
	json_decref(root);
	return o;
}
