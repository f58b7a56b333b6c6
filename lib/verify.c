/* SPDX-License-Identifier: GPL-3.0-or-later */
/* The Verify v2 / Lookup v2 calls: build the URL and form body, send them
 * over the object's one HTTP handle, and turn the answer into an outcome
 * with its two messages. Local arguments are bounded before any request. */
#include "twofa_build.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "http.h"
#include "identifiers.h"
#include "phone.h"
#include "url.h"
#include "util.h"
#include "verify.h"
#include "verify_internal.h"

#define BASE_URL_MAX 512
#define URL_MAX TWOFA_VERIFY_URL_MAX
#define FORM_MAX TWOFA_VERIFY_FORM_MAX
#define DESTINATION_MAX 254 /* an email address at most */
#define LOCALE_MAX 16
#define MASKED_MAX 48

struct twofa_verify {
	twofa_http *http;
	char verify_base[BASE_URL_MAX];
	char lookup_base[BASE_URL_MAX];
	char service_sid[TWOFA_VERIFY_SID_LEN + 1];
	char locale[LOCALE_MAX + 1];                /* "" = let Twilio choose */
	char rate_limit[TWOFA_TWILIO_NAME_MAX + 1]; /* "" = sends carry no RateLimits */
};

/* ---- local argument checks ---------------------------------------------- */

static bool is_email(const char *s)
{
	size_t n = strnlen(s, DESTINATION_MAX + 1);
	const char *at = strchr(s, '@');

	if (n < 3 || n > DESTINATION_MAX || at == NULL || at == s || at[1] == '\0' ||
	    strchr(at + 1, '@') != NULL)
		return false;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c <= 0x20 || c >= 0x7f)
			return false;
	}
	return true;
}

static bool is_destination(const char *to, bool email_allowed)
{
	return to != NULL && (twofa_verify_is_e164(to) || (email_allowed && is_email(to)));
}

/* A Twilio locale tag: en, pt-BR, zh-HK ... */
static bool is_locale(const char *s)
{
	size_t n = strnlen(s, LOCALE_MAX + 1);

	if (n < 2 || n > LOCALE_MAX)
		return false;
	for (size_t i = 0; i < n; i++)
		if (!isalnum((unsigned char)s[i]) && s[i] != '-' && s[i] != '_')
			return false;
	return true;
}

/* 4..10 letters or digits, as Twilio accepts. */
static bool is_code(const char *s)
{
	size_t n = strnlen(s, 11);

	if (n < 4 || n > 10)
		return false;
	for (size_t i = 0; i < n; i++)
		if (!isalnum((unsigned char)s[i]))
			return false;
	return true;
}

/* For log lines: "+44*******89", "a***@example.com", never the whole thing. */
static void mask_destination(const char *to, char out[MASKED_MAX])
{
	size_t n;

	if (to == NULL) {
		twofa_strlcpy(out, "(none)", MASKED_MAX);
		return;
	}
	n = strnlen(to, DESTINATION_MAX + 1);
	if (twofa_verify_is_sid(to, "VE")) {
		snprintf(out, MASKED_MAX, "VE...%.4s", to + TWOFA_VERIFY_SID_LEN - 4);
	} else if (twofa_verify_is_e164(to) && n >= 7) {
		/* The same masking as prompts and the module's log lines. */
		twofa_phone_mask(to, out, MASKED_MAX);
	} else if (is_email(to)) {
		char domain[MASKED_MAX - 6];
		twofa_strlcpy(domain, strchr(to, '@') + 1, sizeof(domain));
		snprintf(out, MASKED_MAX, "%c***@%s", to[0], domain);
	} else {
		twofa_strlcpy(out, "(malformed)", MASKED_MAX);
	}
}

/* ---- encoding ----------------------------------------------------------- */

/* Percent-encodes value into buf at *len (RFC 3986 unreserved kept, as
 * curl_easy_escape does), here so no unwiped copy of a code is allocated. */
static bool append_escaped(char *buf, size_t size, size_t *len, const char *value)
{
	static const char hex[] = "0123456789ABCDEF";

	for (; *value != '\0'; value++) {
		unsigned char c = (unsigned char)*value;
		if (isalnum(c) || c == '-' || c == '.' || c == '_' || c == '~') {
			if (*len + 1 >= size)
				return false;
			buf[(*len)++] = (char)c;
		} else {
			if (*len + 3 >= size)
				return false;
			buf[(*len)++] = '%';
			buf[(*len)++] = hex[c >> 4];
			buf[(*len)++] = hex[c & 0xf];
		}
	}
	buf[*len] = '\0';
	return true;
}

static bool append_raw(char *buf, size_t size, size_t *len, const char *text)
{
	size_t n = strlen(text);

	if (*len + n >= size)
		return false;
	memcpy(buf + *len, text, n + 1);
	*len += n;
	return true;
}

/* Appends "&name=escaped(value)" ("name=..." first). */
static bool form_add(char *buf, size_t size, size_t *len, const char *name, const char *value)
{
	return (*len == 0 || append_raw(buf, size, len, "&")) && append_raw(buf, size, len, name) &&
	       append_raw(buf, size, len, "=") && append_escaped(buf, size, len, value);
}

/* ---- results ------------------------------------------------------------ */

static void result_reset(twofa_verify_result *r)
{
	memset(r, 0, sizeof(*r));
	/* Fail closed until proven otherwise: not an outage, which failmode=safe opens. */
	r->outcome = TWOFA_VERIFY_LOCAL_ERROR;
}

/* Writes the outcome with the table's user message and a log line
 * "<op> <masked>: <detail> [<outcome>]". */
__attribute__((format(printf, 5, 0))) static twofa_verify_outcome vfinish(twofa_verify_result *r,
									  twofa_verify_op op,
									  const char *masked,
									  twofa_verify_outcome o,
									  const char *fmt, va_list ap)
{
	char detail[sizeof(r->log_message)];

	vsnprintf(detail, sizeof(detail), fmt, ap);
	r->outcome = o;
	twofa_strlcpy(r->user_message, twofa_verify_user_message(o), sizeof(r->user_message));
	/* Long details are cut: the return value is checked only for errors. */
	if (snprintf(r->log_message, sizeof(r->log_message), "%s%s%s: %s [%s]", twofa_verify_op_name(op),
		     masked != NULL ? " " : "", masked != NULL ? masked : "", detail,
		     twofa_verify_outcome_name(o)) < 0)
		twofa_strlcpy(r->log_message, "log message unavailable", sizeof(r->log_message));
	twofa_sanitize(r->log_message);
	return o;
}

__attribute__((format(printf, 5, 6))) static twofa_verify_outcome finish(twofa_verify_result *r,
									 twofa_verify_op op,
									 const char *masked,
									 twofa_verify_outcome o,
									 const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	o = vfinish(r, op, masked, o, fmt, ap);
	va_end(ap);
	return o;
}

static const char *failure_name(twofa_http_failure f)
{
	switch (f) {
	case TWOFA_HTTP_OK:
		return "no failure";
	case TWOFA_HTTP_TIMEOUT:
		return "timed out";
	case TWOFA_HTTP_CONNECT:
		return "connection failed";
	case TWOFA_HTTP_TLS:
		return "TLS failed";
	case TWOFA_HTTP_TOO_LARGE:
		return "response too large";
	case TWOFA_HTTP_BAD_ANSWER:
		return "unreadable answer";
	case TWOFA_HTTP_LOCAL:
		return "request failed on this machine";
	}
	return "transfer failed";
}

/* Only a server or network that is not there is an outage. */
static twofa_verify_outcome failure_outcome(twofa_http_failure f)
{
	switch (f) {
	case TWOFA_HTTP_TIMEOUT:
	case TWOFA_HTTP_CONNECT:
	case TWOFA_HTTP_TLS:
		return TWOFA_VERIFY_OUTAGE;
	case TWOFA_HTTP_TOO_LARGE:
	case TWOFA_HTTP_BAD_ANSWER:
		return TWOFA_VERIFY_BAD_ANSWER;
	case TWOFA_HTTP_OK:
	case TWOFA_HTTP_LOCAL:
		break;
	}
	return TWOFA_VERIFY_LOCAL_ERROR;
}

/* One request and its interpretation: GET (form NULL), POST, or DELETE (del). */
static twofa_verify_outcome request(twofa_verify *v, twofa_verify_op op, bool del, const char *url,
				    const char *form, size_t form_len, const char *masked,
				    twofa_verify_result *r, twofa_verify_details *d)
{
	twofa_http_response resp;
	twofa_error err = {0};
	char detail[sizeof(r->log_message)];
	twofa_status st;
	twofa_verify_outcome o;

	result_reset(r);
	st = del ? twofa_http_delete(v->http, url, &resp, &err)
		 : twofa_http_request(v->http, url, form, form_len, &resp, &err);
	if (st != TWOFA_OK)
		/* A refused URL or no memory: our fault, not the service's, so
		 * failmode=safe must not treat it as an outage. */
		return finish(r, op, masked, TWOFA_VERIFY_CLIENT_ERROR, "request not sent: %s", err.msg);
	if (resp.failure != TWOFA_HTTP_OK) {
		o = finish(r, op, masked, failure_outcome(resp.failure), "%s: %s", failure_name(resp.failure),
			   resp.detail);
		twofa_http_response_clear(&resp);
		return o;
	}
	o = twofa_verify_interpret(op, resp.status, resp.body, resp.len, r, d, detail, sizeof(detail));
	twofa_http_response_clear(&resp);
	return finish(r, op, masked, o, "%s", detail);
}

/* One GET (form NULL) or POST and its interpretation. */
static twofa_verify_outcome exchange(twofa_verify *v, twofa_verify_op op, const char *url, const char *form,
				     size_t form_len, const char *masked, twofa_verify_result *r,
				     twofa_verify_details *d)
{
	return request(v, op, false, url, form, form_len, masked, r, d);
}

/* ---- object ------------------------------------------------------------- */

/* The config always holds a base URL (lib/config.c's table has the default). */
static bool copy_base(char dst[BASE_URL_MAX], const char *url)
{
	twofa_url u;
	size_t n;

	if (url == NULL || !twofa_strlcpy(dst, url, BASE_URL_MAX))
		return false;
	n = strlen(dst);
	while (n > 0 && dst[n - 1] == '/')
		dst[--n] = '\0';
	return twofa_url_check_twilio(dst, BASE_URL_MAX - 1, &u) == NULL;
}

twofa_status twofa_verify_new(twofa_verify **out, const twofa_config *cfg, twofa_error *err)
{
	twofa_verify *v;
	twofa_http_options opt = {0};
	twofa_status st;

	*out = NULL;
	st = twofa_config_check_credentials(cfg, err);
	if (st != TWOFA_OK)
		return st;
	if (!twofa_verify_is_sid(cfg->verify_service_sid, "VA"))
		return twofa_fail(err, TWOFA_ECONFIG, "verify_service_sid is not VA + 32 hex digits");
	v = calloc(1, sizeof(*v));
	if (v == NULL)
		return twofa_fail(err, TWOFA_ENOMEM, "out of memory");
	if (!copy_base(v->verify_base, cfg->verify_url) || !copy_base(v->lookup_base, cfg->lookup_url)) {
		free(v);
		return twofa_fail(err, TWOFA_ECONFIG, "verify_url/lookup_url refused: %s",
				  twofa_url_twilio_rule());
	}
	twofa_strlcpy(v->service_sid, cfg->verify_service_sid, sizeof(v->service_sid));
	if (cfg->locale != NULL && cfg->locale[0] != '\0') {
		if (!is_locale(cfg->locale)) {
			free(v);
			return twofa_fail(err, TWOFA_ECONFIG, "locale is not a language tag like en or pt-BR");
		}
		twofa_strlcpy(v->locale, cfg->locale, sizeof(v->locale));
	}
	if (cfg->rate_limit != NULL && cfg->rate_limit[0] != '\0') {
		if (!twofa_twilio_name_valid(cfg->rate_limit)) {
			free(v);
			return twofa_fail(err, TWOFA_ECONFIG, "rate_limit is not a name of [A-Za-z0-9_.-]");
		}
		twofa_strlcpy(v->rate_limit, cfg->rate_limit, sizeof(v->rate_limit));
	}

	/* An API key is preferred: it can be revoked without touching the account. */
	if (cfg->api_key_sid != NULL && cfg->api_key_sid[0] != '\0' && cfg->api_key_secret != NULL &&
	    cfg->api_key_secret[0] != '\0') {
		opt.username = cfg->api_key_sid;
		opt.password = cfg->api_key_secret;
	} else {
		opt.username = cfg->account_sid;
		opt.password = cfg->auth_token;
	}
	opt.ca_file = cfg->ca_file;
	opt.proxy = cfg->proxy;
	opt.timeout = cfg->timeout;
	st = twofa_http_new(&v->http, &opt, err);
	if (st != TWOFA_OK) {
		free(v);
		return st;
	}
	*out = v;
	return TWOFA_OK;
}

void twofa_verify_free(twofa_verify *v)
{
	if (v == NULL)
		return;
	twofa_http_free(v->http);
	sodium_memzero(v, sizeof(*v));
	free(v);
}

long twofa_verify_connections(const twofa_verify *v)
{
	return twofa_http_connections(v->http);
}

/* {verify_base}/v2/Services/{VA}{suffix} */
static bool service_url(const twofa_verify *v, const char *suffix, char url[URL_MAX])
{
	int n = snprintf(url, URL_MAX, "%s/v2/Services/%s%s", v->verify_base, v->service_sid, suffix);
	return n > 0 && n < URL_MAX;
}

/* ---- calls -------------------------------------------------------------- */

static twofa_verify_outcome start_once(twofa_verify *v, const char *to, twofa_channel ch, const char *locale,
				       const char *rate_key, const char *masked, twofa_verify_result *r)
{
	char url[URL_MAX], form[FORM_MAX], limits[2 * TWOFA_TWILIO_NAME_MAX + 8];
	size_t len = 0;
	twofa_verify_outcome o;

	/* Both names are of [A-Za-z0-9_.-] (checked), so the JSON needs no escaping. */
	limits[0] = '\0';
	if (rate_key != NULL && (unsigned)snprintf(limits, sizeof(limits), "{\"%s\":\"%s\"}", v->rate_limit,
						   rate_key) >= sizeof(limits))
		limits[0] = '\0';
	if (!service_url(v, "/Verifications", url) || !form_add(form, sizeof(form), &len, "To", to) ||
	    !form_add(form, sizeof(form), &len, "Channel", twofa_channel_name(ch)) ||
	    (locale != NULL && !form_add(form, sizeof(form), &len, "Locale", locale)) ||
	    (rate_key != NULL &&
	     (limits[0] == '\0' || !form_add(form, sizeof(form), &len, "RateLimits", limits)))) {
		result_reset(r);
		return finish(r, TWOFA_VERIFY_OP_START, masked, TWOFA_VERIFY_CLIENT_ERROR, "request too long");
	}
	o = exchange(v, TWOFA_VERIFY_OP_START, url, form, len, masked, r, NULL);
	sodium_memzero(form, sizeof(form));
	return o;
}

twofa_verify_outcome twofa_verify_start(twofa_verify *v, const char *to, twofa_channel ch, const char *locale,
					twofa_verify_result *r)
{
	return twofa_verify_start_keyed(v, to, ch, locale, NULL, r);
}

twofa_verify_outcome twofa_verify_start_keyed(twofa_verify *v, const char *to, twofa_channel ch,
					      const char *locale, const char *rate_key, twofa_verify_result *r)
{
	char masked[MASKED_MAX];
	const char *use_locale;
	twofa_verify_outcome o;

	mask_destination(to, masked);
	result_reset(r);
	/* An app member's codes come from the app (verify_totp.h): none is sent. */
	if (ch == TWOFA_CHANNEL_TOTP)
		return finish(r, TWOFA_VERIFY_OP_START, masked, TWOFA_VERIFY_CLIENT_ERROR,
			      "channel totp sends no code (the authenticator app shows it); refused locally");
	if ((unsigned)ch > TWOFA_CHANNEL_EMAIL || twofa_channel_name(ch) == NULL)
		return finish(r, TWOFA_VERIFY_OP_START, masked, TWOFA_VERIFY_CLIENT_ERROR,
			      "unknown channel %d", (int)ch);
	if (!is_destination(to, ch == TWOFA_CHANNEL_EMAIL))
		return finish(r, TWOFA_VERIFY_OP_START, masked, TWOFA_VERIFY_NUMBER_INVALID,
			      "destination refused locally: not %s",
			      ch == TWOFA_CHANNEL_EMAIL ? "E.164 or an email address" : "E.164");
	use_locale = locale != NULL ? locale : (v->locale[0] != '\0' ? v->locale : NULL);
	if (use_locale != NULL && !is_locale(use_locale))
		return finish(r, TWOFA_VERIFY_OP_START, masked, TWOFA_VERIFY_CLIENT_ERROR,
			      "locale refused locally: not a language tag");
	/* The key counts only where a rate limit is configured. */
	if (v->rate_limit[0] == '\0' || rate_key == NULL || rate_key[0] == '\0')
		rate_key = NULL;
	else if (!twofa_twilio_name_valid(rate_key))
		return finish(r, TWOFA_VERIFY_OP_START, masked, TWOFA_VERIFY_CLIENT_ERROR,
			      "rate-limit key refused locally: not of [A-Za-z0-9_.-]");

	o = start_once(v, to, ch, use_locale, rate_key, masked, r);
	/* An unsupported Locale is a bare 404 on create: try once without it. */
	if (use_locale != NULL && r->http_status == 404) {
		char first[sizeof(r->log_message)];
		twofa_strlcpy(first, r->log_message, sizeof(first));
		o = start_once(v, to, ch, NULL, rate_key, masked, r);
		{
			char joined[sizeof(r->log_message)];
			if (snprintf(joined, sizeof(joined), "locale %s refused (%.100s); retried without: %s",
				     use_locale, first, r->log_message) > 0)
				twofa_strlcpy(r->log_message, joined, sizeof(r->log_message));
		}
	}
	if (o == TWOFA_VERIFY_SENT)
		snprintf(r->user_message, sizeof(r->user_message),
			 "A verification code was sent by %s to %s.", twofa_channel_label(ch), masked);
	return o;
}

twofa_verify_outcome twofa_verify_check(twofa_verify *v, const char *to, const char *code,
					twofa_verify_result *r)
{
	char masked[MASKED_MAX], url[URL_MAX], form[FORM_MAX];
	size_t len = 0;
	twofa_verify_outcome o;

	mask_destination(to, masked);
	result_reset(r);
	if (!is_destination(to, true))
		return finish(r, TWOFA_VERIFY_OP_CHECK, masked, TWOFA_VERIFY_NUMBER_INVALID,
			      "destination refused locally: not E.164 or an email address");
	if (code == NULL || !is_code(code))
		return finish(r, TWOFA_VERIFY_OP_CHECK, masked, TWOFA_VERIFY_INVALID_CODE,
			      "code refused locally: not 4..10 letters or digits");
	if (!service_url(v, "/VerificationCheck", url) || !form_add(form, sizeof(form), &len, "To", to) ||
	    !form_add(form, sizeof(form), &len, "Code", code)) {
		sodium_memzero(form, sizeof(form));
		return finish(r, TWOFA_VERIFY_OP_CHECK, masked, TWOFA_VERIFY_CLIENT_ERROR, "request too long");
	}
	o = exchange(v, TWOFA_VERIFY_OP_CHECK, url, form, len, masked, r, NULL);
	sodium_memzero(form, sizeof(form)); /* it held the code */
	return o;
}

twofa_verify_outcome twofa_verify_cancel(twofa_verify *v, const char *to, twofa_verify_result *r)
{
	char masked[MASKED_MAX], url[URL_MAX], path[FORM_MAX];
	size_t len = 0;
	static const char form[] = "Status=canceled";

	mask_destination(to, masked);
	result_reset(r);
	if (!is_destination(to, true) && !twofa_verify_is_sid(to, "VE"))
		return finish(r, TWOFA_VERIFY_OP_CANCEL, masked, TWOFA_VERIFY_NUMBER_INVALID,
			      "destination refused locally: not E.164, an email address or a VE sid");
	if (!append_raw(path, sizeof(path), &len, "/Verifications/") ||
	    !append_escaped(path, sizeof(path), &len, to) || !service_url(v, path, url))
		return finish(r, TWOFA_VERIFY_OP_CANCEL, masked, TWOFA_VERIFY_CLIENT_ERROR,
			      "request too long");
	return exchange(v, TWOFA_VERIFY_OP_CANCEL, url, form, sizeof(form) - 1, masked, r, NULL);
}

twofa_verify_outcome twofa_verify_fetch_service(twofa_verify *v, twofa_verify_details *details,
						twofa_verify_result *r)
{
	char url[URL_MAX];
	twofa_verify_details scratch;

	memset(&scratch, 0, sizeof(scratch));
	result_reset(r);
	if (!service_url(v, "", url))
		return finish(r, TWOFA_VERIFY_OP_SERVICE, NULL, TWOFA_VERIFY_CLIENT_ERROR, "request too long");
	if (details != NULL)
		memset(details, 0, sizeof(*details));
	return exchange(v, TWOFA_VERIFY_OP_SERVICE, url, NULL, 0, NULL, r,
			details != NULL ? details : &scratch);
}

twofa_verify_outcome twofa_lookup(twofa_verify *v, const char *number, const char *country,
				  char e164_out[TWOFA_E164_MAX + 1], twofa_verify_result *r)
{
	char url[URL_MAX], masked[MASKED_MAX] = "(malformed)", cc[3];
	size_t len = 0, n;
	twofa_verify_details d;
	twofa_verify_outcome o;

	memset(&d, 0, sizeof(d));
	e164_out[0] = '\0';
	result_reset(r);
	n = number != NULL ? strnlen(number, 33) : 0;
	if (n == 0 || n > 32 || twofa_has_control(number, n))
		return finish(r, TWOFA_VERIFY_OP_LOOKUP, masked, TWOFA_VERIFY_NUMBER_INVALID,
			      "number refused locally: empty, too long or control characters");
	snprintf(masked, sizeof(masked), "***%s", n >= 4 ? number + n - 2 : "");
	if (country != NULL) {
		if (strlen(country) != 2 || !isalpha((unsigned char)country[0]) ||
		    !isalpha((unsigned char)country[1]))
			return finish(r, TWOFA_VERIFY_OP_LOOKUP, masked, TWOFA_VERIFY_CLIENT_ERROR,
				      "country refused locally: not ISO 3166 alpha-2");
		cc[0] = (char)toupper((unsigned char)country[0]);
		cc[1] = (char)toupper((unsigned char)country[1]);
		cc[2] = '\0';
	}
	if (!append_raw(url, sizeof(url), &len, v->lookup_base) ||
	    !append_raw(url, sizeof(url), &len, "/v2/PhoneNumbers/") ||
	    !append_escaped(url, sizeof(url), &len, number) ||
	    (country != NULL && (!append_raw(url, sizeof(url), &len, "?CountryCode=") ||
				 !append_raw(url, sizeof(url), &len, cc))))
		return finish(r, TWOFA_VERIFY_OP_LOOKUP, masked, TWOFA_VERIFY_CLIENT_ERROR,
			      "request too long");
	o = exchange(v, TWOFA_VERIFY_OP_LOOKUP, url, NULL, 0, masked, r, &d);
	if (o == TWOFA_VERIFY_OK)
		twofa_strlcpy(e164_out, d.e164, TWOFA_E164_MAX + 1);
	return o;
}

/* ---- Service Rate Limits ------------------------------------------------ */

static twofa_verify_outcome rate_limit_call(twofa_verify *v, twofa_verify_op op, const char *suffix,
					    const char *form, size_t form_len, twofa_verify_details *d,
					    twofa_verify_result *r)
{
	char url[URL_MAX];

	if (!service_url(v, suffix, url)) {
		result_reset(r);
		return finish(r, op, NULL, TWOFA_VERIFY_CLIENT_ERROR, "request too long");
	}
	return exchange(v, op, url, form, form_len, NULL, r, d);
}

twofa_verify_outcome twofa_verify_rate_limit_find(twofa_verify *v, const char *name,
						  twofa_verify_rate_limit *rl, twofa_verify_result *r)
{
	twofa_verify_details d;
	char suffix[96];
	twofa_verify_outcome o;

	memset(rl, 0, sizeof(*rl));
	memset(&d, 0, sizeof(d));
	result_reset(r);
	if (!twofa_twilio_name_valid(name))
		return finish(r, TWOFA_VERIFY_OP_RATE_LIMITS, NULL, TWOFA_VERIFY_CLIENT_ERROR,
			      "rate-limit name refused locally: not of [A-Za-z0-9_.-]");
	d.rate_limit_name = name;
	/* Twilio's largest page: twofa makes one rate limit, so this is all. */
	o = rate_limit_call(v, TWOFA_VERIFY_OP_RATE_LIMITS, "/RateLimits?PageSize=1000", NULL, 0, &d, r);
	if (o != TWOFA_VERIFY_OK || d.rate_limit.sid[0] == '\0')
		return o;
	twofa_strlcpy(rl->sid, d.rate_limit.sid, sizeof(rl->sid));
	memset(&d, 0, sizeof(d));
	(void)snprintf(suffix, sizeof(suffix), "/RateLimits/%s/Buckets?PageSize=1000", rl->sid);
	o = rate_limit_call(v, TWOFA_VERIFY_OP_BUCKETS, suffix, NULL, 0, &d, r);
	if (o == TWOFA_VERIFY_OK) {
		rl->buckets = d.rate_limit.buckets;
		memcpy(rl->max, d.rate_limit.max, sizeof(rl->max));
		memcpy(rl->interval, d.rate_limit.interval, sizeof(rl->interval));
	}
	return o;
}

twofa_verify_outcome twofa_verify_rate_limit_ensure(twofa_verify *v, const char *name, long max, long interval,
						    twofa_verify_rate_limit *rl, twofa_verify_result *r)
{
	twofa_verify_details d;
	char form[FORM_MAX], number[24], suffix[96];
	size_t len = 0;
	twofa_verify_outcome o;

	if (max < 1 || max > 1000000 || interval < 1 || interval > 31536000) {
		memset(rl, 0, sizeof(*rl));
		result_reset(r);
		return finish(r, TWOFA_VERIFY_OP_BUCKET_CREATE, NULL, TWOFA_VERIFY_CLIENT_ERROR,
			      "bucket refused locally: max 1..1000000, interval 1..31536000 s");
	}
	o = twofa_verify_rate_limit_find(v, name, rl, r);
	if (o != TWOFA_VERIFY_OK)
		return o;
	if (rl->sid[0] == '\0') {
		memset(&d, 0, sizeof(d));
		if (!form_add(form, sizeof(form), &len, "UniqueName", name) ||
		    !form_add(form, sizeof(form), &len, "Description", "twofa: sends per member, every host"))
			return finish(r, TWOFA_VERIFY_OP_RATE_LIMIT_CREATE, NULL, TWOFA_VERIFY_CLIENT_ERROR,
				      "request too long");
		o = rate_limit_call(v, TWOFA_VERIFY_OP_RATE_LIMIT_CREATE, "/RateLimits", form, len, &d, r);
		if (o != TWOFA_VERIFY_OK)
			return o;
		twofa_strlcpy(rl->sid, d.rate_limit.sid, sizeof(rl->sid));
	}
	for (size_t i = 0; i < rl->buckets; i++) {
		if (rl->max[i] == max && rl->interval[i] == interval)
			return TWOFA_VERIFY_OK;
	}
	memset(&d, 0, sizeof(d));
	len = 0;
	(void)snprintf(number, sizeof(number), "%ld", max);
	if (!form_add(form, sizeof(form), &len, "Max", number))
		return finish(r, TWOFA_VERIFY_OP_BUCKET_CREATE, NULL, TWOFA_VERIFY_CLIENT_ERROR,
			      "request too long");
	(void)snprintf(number, sizeof(number), "%ld", interval);
	if (!form_add(form, sizeof(form), &len, "Interval", number))
		return finish(r, TWOFA_VERIFY_OP_BUCKET_CREATE, NULL, TWOFA_VERIFY_CLIENT_ERROR,
			      "request too long");
	(void)snprintf(suffix, sizeof(suffix), "/RateLimits/%s/Buckets", rl->sid);
	o = rate_limit_call(v, TWOFA_VERIFY_OP_BUCKET_CREATE, suffix, form, len, &d, r);
	if (o == TWOFA_VERIFY_OK && rl->buckets < TWOFA_VERIFY_BUCKETS_MAX) {
		rl->max[rl->buckets] = max;
		rl->interval[rl->buckets] = interval;
		rl->buckets++;
	}
	return o;
}

/* ---- for the other Verify clients of lib/ (verify_internal.h) ------------ */

bool twofa_verify_form_add(char *buf, size_t size, size_t *len, const char *name, const char *value)
{
	return form_add(buf, size, len, name, value);
}

bool twofa_verify_service_url(const twofa_verify *v, const char *suffix, char url[TWOFA_VERIFY_URL_MAX])
{
	return service_url(v, suffix, url);
}

void twofa_verify_result_reset(twofa_verify_result *r)
{
	result_reset(r);
}

twofa_verify_outcome twofa_verify_finish(twofa_verify_result *r, twofa_verify_op op, const char *masked,
					 twofa_verify_outcome o, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	o = vfinish(r, op, masked, o, fmt, ap);
	va_end(ap);
	return o;
}

twofa_verify_outcome twofa_verify_exchange(twofa_verify *v, twofa_verify_op op, bool del, const char *url,
					   const char *form, size_t form_len, const char *masked,
					   twofa_verify_result *r, twofa_verify_details *d)
{
	return request(v, op, del, url, form, form_len, masked, r, d);
}
