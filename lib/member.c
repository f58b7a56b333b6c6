/* SPDX-License-Identifier: GPL-3.0-or-later */
#include "twofa_build.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <sodium.h>

#include "member.h"
#include "util.h"

#define ARGON2ID_PREFIX "$argon2id$"
/* Sane record times: 2000-01-01T00:00:00Z .. 9999-12-31T23:59:59Z. */
#define TIME_MIN ((time_t)946684800)
#define TIME_MAX ((time_t)253402300799LL)

static const char *const status_names[] = {"active", "pending", "disabled"};

const char *twofa_member_status_name(twofa_member_status status)
{
	return (unsigned)status < sizeof(status_names) / sizeof(status_names[0]) ? status_names[status] : NULL;
}

bool twofa_member_status_parse(const char *s, twofa_member_status *out)
{
	if (s == NULL)
		return false;
	for (unsigned i = 0; i < sizeof(status_names) / sizeof(status_names[0]); i++) {
		if (strcmp(s, status_names[i]) == 0) {
			if (out != NULL)
				*out = (twofa_member_status)i;
			return true;
		}
	}
	return false;
}

/* Strict UTF-8: no overlong forms, no surrogates, nothing above U+10FFFF. */
static bool utf8_valid(const unsigned char *s, size_t len)
{
	size_t i = 0;

	while (i < len) {
		unsigned char c = s[i];
		size_t n;
		uint32_t cp;

		if (c < 0x80) {
			i++;
			continue;
		} else if (c >= 0xc2 && c <= 0xdf) {
			n = 1;
			cp = c & 0x1f;
		} else if (c >= 0xe0 && c <= 0xef) {
			n = 2;
			cp = c & 0x0f;
		} else if (c >= 0xf0 && c <= 0xf4) {
			n = 3;
			cp = c & 0x07;
		} else {
			return false;
		}
		if (len - i <= n)
			return false;
		for (size_t j = 1; j <= n; j++) {
			if ((s[i + j] & 0xc0) != 0x80)
				return false;
			cp = (cp << 6) | (s[i + j] & 0x3f);
		}
		if ((n == 2 && (cp < 0x800 || (cp >= 0xd800 && cp <= 0xdfff))) ||
		    (n == 3 && (cp < 0x10000 || cp > 0x10ffff)))
			return false;
		i += n + 1;
	}
	return true;
}

bool twofa_user_name_valid(const char *name)
{
	size_t len;

	if (name == NULL || *name == '\0')
		return false;
	len = strnlen(name, TWOFA_USER_NAME_MAX + 1);
	if (len > TWOFA_USER_NAME_MAX)
		return false;
	if (twofa_has_control(name, len) || memchr(name, '/', len) != NULL || memchr(name, ':', len) != NULL)
		return false;
	return utf8_valid((const unsigned char *)name, len);
}

/* A simple shape check, not RFC 5322: local@domain, printable ASCII or
 * UTF-8 without blanks, a dot inside the domain. Twilio has the last word. */
static bool email_valid(const char *email)
{
	size_t len = strnlen(email, TWOFA_EMAIL_MAX + 1);
	const char *at = strchr(email, '@');
	const char *domain;
	size_t local_len, domain_len;

	if (len < 3 || len > TWOFA_EMAIL_MAX || at == NULL || strchr(at + 1, '@') != NULL)
		return false;
	if (twofa_has_control(email, len) || strpbrk(email, " <>()[],;:\\\"") != NULL)
		return false;
	if (!utf8_valid((const unsigned char *)email, len))
		return false;
	local_len = (size_t)(at - email);
	domain = at + 1;
	domain_len = strlen(domain);
	if (local_len < 1 || local_len > 64 || domain_len < 3)
		return false;
	if (strchr(domain, '.') == NULL || domain[0] == '.' || domain[0] == '-' ||
	    domain[domain_len - 1] == '.' || domain[domain_len - 1] == '-' || strstr(domain, "..") != NULL)
		return false;
	return email[0] != '.' && at[-1] != '.';
}

static bool hash_valid(const char *hash)
{
	size_t len;

	if (hash == NULL)
		return false;
	len = strnlen(hash, TWOFA_MEMBER_HASH_MAX + 1);
	return len > sizeof(ARGON2ID_PREFIX) - 1 && len <= TWOFA_MEMBER_HASH_MAX &&
	       strncmp(hash, ARGON2ID_PREFIX, sizeof(ARGON2ID_PREFIX) - 1) == 0 &&
	       !twofa_has_control(hash, len) && strchr(hash, ' ') == NULL;
}

static bool time_valid(time_t t)
{
	return t >= TIME_MIN && t <= TIME_MAX;
}

twofa_status twofa_member_validate(const twofa_member *m, twofa_error *err)
{
	if (m == NULL)
		return twofa_fail(err, TWOFA_EINVAL, "no member");
	if (!twofa_user_name_valid(m->user))
		return twofa_fail(err, TWOFA_EINVAL,
				  "user name must be 1..%d bytes of UTF-8 without control characters, '/' or ':'",
				  TWOFA_USER_NAME_MAX);
	if (m->email != NULL && !email_valid(m->email))
		return twofa_fail(err, TWOFA_EINVAL,
				  "email address of %s is not of the form name@domain.tld (at most %d bytes)",
				  m->user, TWOFA_EMAIL_MAX);
	if (memchr(m->phone, '\0', sizeof(m->phone)) == NULL || !twofa_e164_valid(m->phone))
		return twofa_fail(err, TWOFA_EINVAL,
				  "phone number of %s is not in E.164 form (+ and %d..%d digits)", m->user,
				  TWOFA_E164_MIN_DIGITS, TWOFA_E164_MAX_DIGITS);
	if (!(m->country[0] >= 'A' && m->country[0] <= 'Z' && m->country[1] >= 'A' && m->country[1] <= 'Z' &&
	      m->country[2] == '\0'))
		return twofa_fail(err, TWOFA_EINVAL, "country of %s is not two uppercase letters", m->user);
	if (twofa_channel_name(m->channel) == NULL)
		return twofa_fail(err, TWOFA_EINVAL, "channel of %s is unknown", m->user);
	if (m->channel == TWOFA_CHANNEL_EMAIL && m->email == NULL)
		return twofa_fail(err, TWOFA_EINVAL, "channel of %s is email but there is no email address",
				  m->user);
	if (!hash_valid(m->password_hash))
		return twofa_fail(err, TWOFA_EINVAL, "password hash of %s is not an Argon2id hash", m->user);
	if (twofa_member_status_name(m->status) == NULL)
		return twofa_fail(err, TWOFA_EINVAL, "status of %s is unknown", m->user);
	if (!time_valid(m->created) || !time_valid(m->updated) || m->updated < m->created)
		return twofa_fail(err, TWOFA_EINVAL,
				  "created/updated times of %s are out of range or updated is before created",
				  m->user);
	if (m->verified != 0 && !time_valid(m->verified))
		return twofa_fail(err, TWOFA_EINVAL, "verified time of %s is out of range", m->user);
	return TWOFA_OK;
}

/* ---- encode ---- */

static json_t *time_json(time_t t)
{
	char buf[TWOFA_ISO8601_LEN];

	if (t == 0)
		return json_null();
	if (!twofa_format_time(t, buf))
		return NULL;
	return json_string(buf);
}

/* json_object_set_new that remembers a failure (a NULL value included). */
static void set(json_t *obj, const char *key, json_t *value, bool *ok)
{
	if (value == NULL || json_object_set_new(obj, key, value) != 0)
		*ok = false;
}

twofa_status twofa_member_encode(const twofa_member *m, char **json, twofa_error *err)
{
	twofa_status st;
	json_t *obj;
	bool ok = true;
	char *text;

	if (json == NULL)
		return twofa_fail(err, TWOFA_EINVAL, "no place for the member record");
	*json = NULL;
	if ((st = twofa_member_validate(m, err)) != TWOFA_OK)
		return st;
	obj = json_object();
	if (obj == NULL)
		return twofa_fail(err, TWOFA_ENOMEM, "out of memory");
	set(obj, "v", json_integer(TWOFA_MEMBER_VERSION), &ok);
	set(obj, "user", json_string(m->user), &ok);
	set(obj, "email", m->email != NULL ? json_string(m->email) : json_null(), &ok);
	set(obj, "phone", json_string(m->phone), &ok);
	set(obj, "country", json_string(m->country), &ok);
	set(obj, "channel", json_string(twofa_channel_name(m->channel)), &ok);
	set(obj, "password_hash", json_string(m->password_hash), &ok);
	set(obj, "status", json_string(twofa_member_status_name(m->status)), &ok);
	set(obj, "created", time_json(m->created), &ok);
	set(obj, "updated", time_json(m->updated), &ok);
	set(obj, "verified", time_json(m->verified), &ok);
	text = ok ? json_dumps(obj, JSON_COMPACT | JSON_SORT_KEYS) : NULL;
	json_decref(obj);
	if (text == NULL)
		return twofa_fail(err, TWOFA_ENOMEM, "cannot encode the record of %s", m->user);
	*json = text;
	return TWOFA_OK;
}

/* ---- decode ---- */

/* A string field: required and, unless nullable, not null. *out is a copy
 * (NULL for null). */
static twofa_status take_string(json_t *obj, const char *name, bool nullable, size_t max, char **out,
				twofa_error *err)
{
	json_t *v = json_object_get(obj, name);

	*out = NULL;
	if (v == NULL)
		return twofa_fail(err, TWOFA_EINVAL, "member record has no \"%s\"", name);
	if (json_is_null(v) && nullable)
		return TWOFA_OK;
	if (!json_is_string(v))
		return twofa_fail(err, TWOFA_EINVAL, "member record field \"%s\" is not a string", name);
	if (json_string_length(v) > max)
		return twofa_fail(err, TWOFA_EINVAL, "member record field \"%s\" is longer than %zu bytes",
				  name, max);
	*out = strdup(json_string_value(v));
	if (*out == NULL)
		return twofa_fail(err, TWOFA_ENOMEM, "out of memory");
	return TWOFA_OK;
}

/* Copies a short string field into a fixed buffer. */
static twofa_status take_fixed(json_t *obj, const char *name, char *buf, size_t size, twofa_error *err)
{
	char *s = NULL;
	twofa_status st = take_string(obj, name, false, size - 1, &s, err);

	if (st != TWOFA_OK)
		return st;
	twofa_strlcpy(buf, s, size);
	free(s);
	return TWOFA_OK;
}

static twofa_status take_time(json_t *obj, const char *name, bool nullable, time_t *out, twofa_error *err)
{
	char *s = NULL;
	twofa_status st = take_string(obj, name, nullable, TWOFA_ISO8601_LEN - 1, &s, err);

	*out = 0;
	if (st != TWOFA_OK || s == NULL)
		return st;
	if (!twofa_parse_time(s, out) || *out == 0)
		st = twofa_fail(err, TWOFA_EINVAL,
				"member record field \"%s\" is not a time like 2026-01-31T12:00:00Z", name);
	free(s);
	return st;
}

static twofa_status take_enum(json_t *obj, const char *name, int *out, twofa_error *err)
{
	char *s = NULL;
	twofa_status st = take_string(obj, name, false, 16, &s, err);
	bool ok;

	if (st != TWOFA_OK)
		return st;
	if (strcmp(name, "channel") == 0) {
		twofa_channel ch = TWOFA_CHANNEL_SMS;
		ok = twofa_channel_parse(s, &ch);
		*out = (int)ch;
	} else {
		twofa_member_status ms = TWOFA_MEMBER_ACTIVE;
		ok = twofa_member_status_parse(s, &ms);
		*out = (int)ms;
	}
	free(s);
	if (!ok)
		return twofa_fail(err, TWOFA_EINVAL, "member record field \"%s\" has an unknown value", name);
	return TWOFA_OK;
}

static twofa_status decode_fields(json_t *obj, twofa_member *m, twofa_error *err)
{
	json_t *v = json_object_get(obj, "v");
	twofa_status st;
	int channel = 0, status = 0;

	if (v == NULL || !json_is_integer(v))
		return twofa_fail(err, TWOFA_EINVAL, "member record has no integer version \"v\"");
	if (json_integer_value(v) != TWOFA_MEMBER_VERSION)
		return twofa_fail(err, TWOFA_EINVAL,
				  "member record version %" JSON_INTEGER_FORMAT " is not supported (only %d)",
				  json_integer_value(v), TWOFA_MEMBER_VERSION);
	if ((st = take_string(obj, "user", false, TWOFA_USER_NAME_MAX, &m->user, err)) != TWOFA_OK ||
	    (st = take_string(obj, "email", true, TWOFA_EMAIL_MAX, &m->email, err)) != TWOFA_OK ||
	    (st = take_fixed(obj, "phone", m->phone, sizeof(m->phone), err)) != TWOFA_OK ||
	    (st = take_fixed(obj, "country", m->country, sizeof(m->country), err)) != TWOFA_OK ||
	    (st = take_enum(obj, "channel", &channel, err)) != TWOFA_OK ||
	    (st = take_string(obj, "password_hash", false, TWOFA_MEMBER_HASH_MAX, &m->password_hash, err)) !=
		    TWOFA_OK ||
	    (st = take_enum(obj, "status", &status, err)) != TWOFA_OK ||
	    (st = take_time(obj, "created", false, &m->created, err)) != TWOFA_OK ||
	    (st = take_time(obj, "updated", false, &m->updated, err)) != TWOFA_OK ||
	    (st = take_time(obj, "verified", true, &m->verified, err)) != TWOFA_OK)
		return st;
	m->channel = (twofa_channel)channel;
	m->status = (twofa_member_status)status;
	return twofa_member_validate(m, err);
}

/* A fixed description of a parse error: jansson's own text can quote the
 * input, which may hold a phone number or a hash. */
static const char *json_problem(const json_error_t *jerr)
{
	switch (json_error_code(jerr)) {
	case json_error_duplicate_key:
		return "duplicate key";
	case json_error_premature_end_of_input:
		return "truncated";
	case json_error_end_of_input_expected:
		return "data after the object";
	case json_error_invalid_utf8:
		return "invalid UTF-8";
	case json_error_null_character:
		return "NUL character";
	case json_error_null_byte_in_key:
		return "NUL in a key";
	case json_error_numeric_overflow:
		return "number out of range";
	case json_error_out_of_memory:
		return "out of memory";
	case json_error_item_not_found:
	case json_error_wrong_type:
	case json_error_null_value:
	case json_error_invalid_argument:
	case json_error_invalid_format:
	case json_error_unknown:
	case json_error_cannot_open_file:
	case json_error_invalid_syntax:
	case json_error_stack_overflow:
	case json_error_index_out_of_range:
	default:
		return "invalid syntax or nesting";
	}
}

twofa_status twofa_member_decode(const char *json, size_t len, twofa_member *m, twofa_error *err)
{
	json_error_t jerr;
	twofa_status st;
	json_t *root;

	if (m == NULL)
		return twofa_fail(err, TWOFA_EINVAL, "no place for the member");
	memset(m, 0, sizeof(*m));
	if (json == NULL || len == 0)
		return twofa_fail(err, TWOFA_EINVAL, "member record is empty");
	if (len > TWOFA_MEMBER_JSON_MAX)
		return twofa_fail(err, TWOFA_EINVAL, "member record is larger than %d bytes",
				  TWOFA_MEMBER_JSON_MAX);
	root = json_loadb(json, len, JSON_REJECT_DUPLICATES, &jerr);
	if (root == NULL)
		return twofa_fail(err, TWOFA_EINVAL, "member record is not valid JSON (%s) at byte %d",
				  json_problem(&jerr), jerr.position);
	if (!json_is_object(root)) {
		json_decref(root);
		return twofa_fail(err, TWOFA_EINVAL, "member record is not a JSON object");
	}
	st = decode_fields(root, m, err);
	json_decref(root);
	if (st != TWOFA_OK)
		twofa_member_free(m);
	return st;
}

void twofa_member_free(twofa_member *m)
{
	if (m == NULL)
		return;
	free(m->user);
	free(m->email);
	twofa_free_secret(m->password_hash);
	sodium_memzero(m, sizeof(*m));
}
