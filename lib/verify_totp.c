/* SPDX-License-Identifier: GPL-3.0-or-later */
/* The Verify TOTP calls (verify_totp.h): Entities, Factors, Challenges.
 * Local arguments are bounded before any request; the answers are read by
 * verify_response.c's strict readers; the member's secret lives only in the
 * caller's twofa_totp_binding and is wiped on every other path. */
#include "twofa_build.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>

#include <sodium.h>

#include "util.h"
#include "verify_internal.h"
#include "verify_totp.h"

#define CODE_MIN 3
#define CODE_MAX 8
#define FRIENDLY_NAME_MAX 64
#define MASKED_MAX 16
/* Pages a list follows at most: TWOFA_TOTP_LIST_MAX items at Twilio's
 * default page size of 50 (it may answer fewer than the 1000 asked for).
 * Every page but the last has an item (verify_response.c), so a hostile
 * answer costs at most this many requests. */
#define PAGES_MAX (TWOFA_TOTP_LIST_MAX / 50 + 1)

bool twofa_totp_identity_valid(const char *identity)
{
	size_t n = identity != NULL ? strnlen(identity, TWOFA_TOTP_IDENTITY_MAX + 1) : 0;

	if (n < 8 || n > TWOFA_TOTP_IDENTITY_MAX)
		return false;
	for (size_t i = 0; i < n; i++)
		if (!isalnum((unsigned char)identity[i]) && identity[i] != '_' && identity[i] != '-')
			return false;
	return true;
}

twofa_status twofa_totp_new_identity(char out[TWOFA_TOTP_IDENTITY_MAX + 1], twofa_error *err)
{
	unsigned char raw[16];

	out[0] = '\0';
	if (sodium_init() < 0)
		return twofa_fail(err, TWOFA_ESYS, "libsodium did not initialise");
	randombytes_buf(raw, sizeof(raw));
	out[0] = 't';
	out[1] = 'f';
	sodium_bin2hex(out + 2, TWOFA_TOTP_IDENTITY_MAX - 1, raw, sizeof(raw));
	sodium_memzero(raw, sizeof(raw));
	return TWOFA_OK;
}

void twofa_totp_binding_wipe(twofa_totp_binding *b)
{
	if (b != NULL)
		sodium_memzero(b, sizeof(*b));
}

/* 3..8 digits, the range of a service's Totp.CodeLength. */
static bool is_totp_code(const char *code)
{
	size_t n = code != NULL ? strnlen(code, CODE_MAX + 1) : 0;

	if (n < CODE_MIN || n > CODE_MAX)
		return false;
	for (size_t i = 0; i < n; i++)
		if (!isdigit((unsigned char)code[i]))
			return false;
	return true;
}

/* The name the app shows next to the codes: 1..64 printable ASCII. */
static bool is_friendly_name(const char *name)
{
	size_t n = name != NULL ? strnlen(name, FRIENDLY_NAME_MAX + 1) : 0;

	if (n == 0 || n > FRIENDLY_NAME_MAX)
		return false;
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)name[i] < 0x20 || (unsigned char)name[i] >= 0x7f)
			return false;
	return true;
}

/* For log lines: "tf...1a2b". Identities are random, not secret, but a log
 * needs no more to tell two apart. */
static void mask_identity(const char *identity, char out[MASKED_MAX])
{
	size_t n = identity != NULL ? strnlen(identity, TWOFA_TOTP_IDENTITY_MAX + 1) : 0;

	if (!twofa_totp_identity_valid(identity))
		snprintf(out, MASKED_MAX, "(malformed)");
	else
		snprintf(out, MASKED_MAX, "%.2s...%.4s", identity, identity + n - 4);
}

/* Refuses what is not ours before any request: CLIENT_ERROR with why. */
static bool refuse_arguments(twofa_verify_result *r, twofa_verify_op op, const char *masked,
			     const char *identity, const char *factor_sid)
{
	twofa_verify_result_reset(r);
	if (!twofa_totp_identity_valid(identity)) {
		twofa_verify_finish(r, op, masked, TWOFA_VERIFY_CLIENT_ERROR,
				    "identity refused locally: not 8..64 of [A-Za-z0-9_-]");
		return true;
	}
	if (factor_sid != NULL && !twofa_sid_valid(factor_sid, "YF")) {
		twofa_verify_finish(r, op, masked, TWOFA_VERIFY_CLIENT_ERROR,
				    "factor refused locally: not YF + 32 hex digits");
		return true;
	}
	return false;
}

/* {service}/Entities/{identity}{rest}: identities need no escaping. */
static bool entity_url(const twofa_verify *v, const char *identity, const char *rest,
		       char url[TWOFA_VERIFY_URL_MAX])
{
	char suffix[TWOFA_VERIFY_URL_MAX];
	int n = snprintf(suffix, sizeof(suffix), "/Entities/%s%s", identity, rest);

	return n > 0 && (size_t)n < sizeof(suffix) && twofa_verify_service_url(v, suffix, url);
}

twofa_verify_outcome twofa_totp_factor_create(twofa_verify *v, const char *identity, const char *friendly_name,
					      twofa_totp_binding *b, twofa_verify_result *r)
{
	char masked[MASKED_MAX], url[TWOFA_VERIFY_URL_MAX], form[TWOFA_VERIFY_FORM_MAX];
	size_t len = 0;
	twofa_verify_details d;
	twofa_verify_outcome o;

	twofa_totp_binding_wipe(b);
	mask_identity(identity, masked);
	if (refuse_arguments(r, TWOFA_VERIFY_OP_FACTOR_CREATE, masked, identity, NULL))
		return r->outcome;
	if (!is_friendly_name(friendly_name))
		return twofa_verify_finish(r, TWOFA_VERIFY_OP_FACTOR_CREATE, masked, TWOFA_VERIFY_CLIENT_ERROR,
					   "friendly name refused locally: not 1..64 printable characters");
	if (!entity_url(v, identity, "/Factors", url) ||
	    !twofa_verify_form_add(form, sizeof(form), &len, "FriendlyName", friendly_name) ||
	    !twofa_verify_form_add(form, sizeof(form), &len, "FactorType", "totp"))
		return twofa_verify_finish(r, TWOFA_VERIFY_OP_FACTOR_CREATE, masked,
					   TWOFA_VERIFY_CLIENT_ERROR, "request too long");
	memset(&d, 0, sizeof(d));
	d.totp.binding = b;
	o = twofa_verify_exchange(v, TWOFA_VERIFY_OP_FACTOR_CREATE, false, url, form, len, masked, r, &d);
	if (o != TWOFA_VERIFY_OK)
		twofa_totp_binding_wipe(b);
	return o;
}

/* The two calls that carry a code: the factor's first, and a challenge. */
static twofa_verify_outcome code_call(twofa_verify *v, twofa_verify_op op, const char *identity,
				      const char *factor_sid, const char *code, twofa_verify_result *r)
{
	char masked[MASKED_MAX], url[TWOFA_VERIFY_URL_MAX], form[TWOFA_VERIFY_FORM_MAX], rest[48];
	size_t len = 0;
	twofa_verify_details d;
	twofa_verify_outcome o;
	bool built;

	mask_identity(identity, masked);
	if (refuse_arguments(r, op, masked, identity, factor_sid))
		return r->outcome;
	if (!is_totp_code(code))
		return twofa_verify_finish(r, op, masked, TWOFA_VERIFY_INVALID_CODE,
					   "code refused locally: not %d..%d digits", CODE_MIN, CODE_MAX);
	if (op == TWOFA_VERIFY_OP_FACTOR_VERIFY) {
		snprintf(rest, sizeof(rest), "/Factors/%s", factor_sid);
		built = entity_url(v, identity, rest, url) &&
			twofa_verify_form_add(form, sizeof(form), &len, "AuthPayload", code);
	} else {
		built = entity_url(v, identity, "/Challenges", url) &&
			twofa_verify_form_add(form, sizeof(form), &len, "FactorSid", factor_sid) &&
			twofa_verify_form_add(form, sizeof(form), &len, "AuthPayload", code);
	}
	if (!built) {
		sodium_memzero(form, sizeof(form));
		return twofa_verify_finish(r, op, masked, TWOFA_VERIFY_CLIENT_ERROR, "request too long");
	}
	memset(&d, 0, sizeof(d));
	d.totp.factor_sid = factor_sid;
	o = twofa_verify_exchange(v, op, false, url, form, len, masked, r, &d);
	sodium_memzero(form, sizeof(form)); /* it held the code */
	return o;
}

twofa_verify_outcome twofa_totp_factor_verify(twofa_verify *v, const char *identity, const char *factor_sid,
					      const char *code, twofa_verify_result *r)
{
	return code_call(v, TWOFA_VERIFY_OP_FACTOR_VERIFY, identity, factor_sid, code, r);
}

twofa_verify_outcome twofa_totp_challenge(twofa_verify *v, const char *identity, const char *factor_sid,
					  const char *code, twofa_verify_result *r)
{
	return code_call(v, TWOFA_VERIFY_OP_CHALLENGE, identity, factor_sid, code, r);
}

static twofa_verify_outcome delete_call(twofa_verify *v, twofa_verify_op op, const char *identity,
					const char *factor_sid, twofa_verify_result *r)
{
	char masked[MASKED_MAX], url[TWOFA_VERIFY_URL_MAX], rest[48] = "";

	mask_identity(identity, masked);
	if (refuse_arguments(r, op, masked, identity, factor_sid))
		return r->outcome;
	if (factor_sid != NULL)
		snprintf(rest, sizeof(rest), "/Factors/%s", factor_sid);
	if (!entity_url(v, identity, rest, url))
		return twofa_verify_finish(r, op, masked, TWOFA_VERIFY_CLIENT_ERROR, "request too long");
	return twofa_verify_exchange(v, op, true, url, NULL, 0, masked, r, NULL);
}

twofa_verify_outcome twofa_totp_factor_delete(twofa_verify *v, const char *identity, const char *factor_sid,
					      twofa_verify_result *r)
{
	if (factor_sid == NULL) {
		twofa_verify_result_reset(r);
		return twofa_verify_finish(r, TWOFA_VERIFY_OP_FACTOR_DELETE, NULL, TWOFA_VERIFY_CLIENT_ERROR,
					   "no factor given");
	}
	return delete_call(v, TWOFA_VERIFY_OP_FACTOR_DELETE, identity, factor_sid, r);
}

twofa_verify_outcome twofa_totp_entity_delete(twofa_verify *v, const char *identity, twofa_verify_result *r)
{
	return delete_call(v, TWOFA_VERIFY_OP_ENTITY_DELETE, identity, NULL, r);
}

/* Walks the paged list at list (a URL of this service, no query) while the
 * answers say there is more: each next_page_url must be the same list of the
 * same service on the same host (list, then '?'), never elsewhere. */
static twofa_verify_outcome walk(twofa_verify *v, twofa_verify_op op, const char *masked, const char *list,
				 twofa_verify_details *d, twofa_verify_result *r)
{
	char url[TWOFA_VERIFY_URL_MAX];
	size_t prefix_len = strlen(list);
	int n = snprintf(url, sizeof(url), "%s?PageSize=1000", list);
	twofa_verify_outcome o;

	if (n < 0 || (size_t)n >= sizeof(url))
		return twofa_verify_finish(r, op, masked, TWOFA_VERIFY_CLIENT_ERROR, "request too long");
	for (size_t page = 0; page < PAGES_MAX; page++) {
		o = twofa_verify_exchange(v, op, false, url, NULL, 0, masked, r, d);
		if (o != TWOFA_VERIFY_OK || d->totp.stopped || d->totp.next_page[0] == '\0')
			return o;
		if (strlen(d->totp.next_page) >= sizeof(url) ||
		    strncmp(d->totp.next_page, list, prefix_len) != 0 ||
		    d->totp.next_page[prefix_len] != '?' || strcmp(d->totp.next_page, url) == 0)
			return twofa_verify_finish(r, op, masked, TWOFA_VERIFY_BAD_ANSWER,
						   "unexpected response: next_page_url is not the next page of "
						   "this list on this host");
		twofa_strlcpy(url, d->totp.next_page, sizeof(url));
	}
	return twofa_verify_finish(r, op, masked, TWOFA_VERIFY_BAD_ANSWER,
				   "unexpected response: more pages than twofa reads");
}

twofa_verify_outcome twofa_totp_entities(twofa_verify *v, bool (*each)(void *ctx, const char *identity),
					 void *ctx, twofa_verify_result *r)
{
	char url[TWOFA_VERIFY_URL_MAX];
	twofa_verify_details d;

	twofa_verify_result_reset(r);
	if (!twofa_verify_service_url(v, "/Entities", url))
		return twofa_verify_finish(r, TWOFA_VERIFY_OP_ENTITIES, NULL, TWOFA_VERIFY_CLIENT_ERROR,
					   "request too long");
	memset(&d, 0, sizeof(d));
	d.totp.each_entity = each;
	d.totp.ctx = ctx;
	return walk(v, TWOFA_VERIFY_OP_ENTITIES, NULL, url, &d, r);
}

twofa_verify_outcome twofa_totp_factors(twofa_verify *v, const char *identity,
					bool (*each)(void *ctx, const char *factor_sid, const char *status,
						     const char *factor_type),
					void *ctx, twofa_verify_result *r)
{
	char masked[MASKED_MAX], url[TWOFA_VERIFY_URL_MAX];
	twofa_verify_details d;

	mask_identity(identity, masked);
	if (refuse_arguments(r, TWOFA_VERIFY_OP_FACTORS, masked, identity, NULL))
		return r->outcome;
	if (!entity_url(v, identity, "/Factors", url))
		return twofa_verify_finish(r, TWOFA_VERIFY_OP_FACTORS, masked, TWOFA_VERIFY_CLIENT_ERROR,
					   "request too long");
	memset(&d, 0, sizeof(d));
	d.totp.each_factor = each;
	d.totp.ctx = ctx;
	return walk(v, TWOFA_VERIFY_OP_FACTORS, masked, url, &d, r);
}

twofa_verify_outcome twofa_totp_service_settings(twofa_verify *v, twofa_totp_settings *s,
						 twofa_verify_result *r)
{
	char url[TWOFA_VERIFY_URL_MAX];
	twofa_verify_details d;

	memset(s, 0, sizeof(*s));
	twofa_verify_result_reset(r);
	if (!twofa_verify_service_url(v, "", url))
		return twofa_verify_finish(r, TWOFA_VERIFY_OP_SERVICE, NULL, TWOFA_VERIFY_CLIENT_ERROR,
					   "request too long");
	memset(&d, 0, sizeof(d));
	d.totp.settings = s;
	return twofa_verify_exchange(v, TWOFA_VERIFY_OP_SERVICE, false, url, NULL, 0, NULL, r, &d);
}
