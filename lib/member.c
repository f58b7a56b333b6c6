/* SPDX-License-Identifier: GPL-3.0-or-later */
#include "twofa_build.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <sodium.h>

#include "json_read.h"
#include "member.h"
#include "onetime_code.h"
#include "util.h"

#define ARGON2ID_PREFIX "$argon2id$"
/* Sane record times: 2000-01-01T00:00:00Z .. 9999-12-31T23:59:59Z. */
#define TIME_MIN ((time_t)946684800)
#define TIME_MAX ((time_t)253402300799LL)

static const char *const status_names[] = {"active", "pending", "disabled", "invited"};

const char *twofa_member_status_name(twofa_member_status status)
{
	return (unsigned)status < sizeof(status_names) / sizeof(status_names[0]) ? status_names[status] : NULL;
}

bool twofa_member_bypass_active(const twofa_member *m, time_t now)
{
	return m->bypass[0] != '\0' && m->bypass_uses >= 1 && m->bypass_expires > now;
}

bool twofa_member_invite_matches(const twofa_member *rec, const char *code, time_t now)
{
	const char empty[1][TWOFA_MEMBER_CODE_HASH_SIZE] = {""};
	const char(*hash)[TWOFA_MEMBER_CODE_HASH_SIZE];
	size_t matched = 1;
	bool usable;
	twofa_status st;

	if (rec == NULL || code == NULL)
		return false;
	usable = rec->status == TWOFA_MEMBER_INVITED && rec->invite[0] != '\0' && rec->invite_expires > now &&
		 memchr(rec->invite, '\0', sizeof(rec->invite)) != NULL;
	/* The hash is computed whatever the record says (an invalid stored
	 * string never matches), so the time is the same either way. */
	hash = usable ? &rec->invite : empty;
	st = twofa_onetime_verify(rec->user != NULL ? rec->user : "", TWOFA_MEMBER_CODE_INVITE, code, hash, 1,
				  &matched, NULL);
	return st == TWOFA_OK && matched == 0 && usable;
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

static bool lower_hex(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
			return false;
	return true;
}

bool twofa_member_code_hash_valid(const char *s)
{
	/* "b2$" salt(32) "$" digest(64) */
	return s != NULL && strnlen(s, TWOFA_MEMBER_CODE_HASH_SIZE) == TWOFA_MEMBER_CODE_HASH_SIZE - 1 &&
	       strncmp(s, "b2$", 3) == 0 && lower_hex(s + 3, 32) && s[35] == '$' && lower_hex(s + 36, 64);
}

/* "" or [A-Za-z0-9_-]{1,size-1}, terminated inside the buffer. */
static bool id_valid(const char *id, size_t size)
{
	size_t len = strnlen(id, size);

	if (len == size)
		return false;
	for (size_t i = 0; i < len; i++)
		if (!((id[i] >= 'A' && id[i] <= 'Z') || (id[i] >= 'a' && id[i] <= 'z') ||
		      (id[i] >= '0' && id[i] <= '9') || id[i] == '_' || id[i] == '-'))
			return false;
	return true;
}

/* "" or "YF" + 32 lowercase hex digits. */
static bool factor_sid_valid(const char *sid)
{
	size_t len = strnlen(sid, TWOFA_MEMBER_SID_SIZE);

	return len == 0 || (len == TWOFA_MEMBER_SID_SIZE - 1 && sid[0] == 'Y' && sid[1] == 'F' &&
			    lower_hex(sid + 2, TWOFA_MEMBER_SID_SIZE - 3));
}

/* Phone and country: both set, or both "" for a member whose codes go by
 * email or come from an authenticator app (totp). */
static twofa_status validate_phone(const twofa_member *m, twofa_error *err)
{
	if (m->status == TWOFA_MEMBER_INVITED) {
		if (memchr(m->phone, '\0', sizeof(m->phone)) == NULL || m->phone[0] != '\0' ||
		    memchr(m->country, '\0', sizeof(m->country)) == NULL || m->country[0] != '\0')
			return twofa_fail(err, TWOFA_EINVAL,
					  "invited record of %s has a phone number or a country (it may have "
					  "none before enrolment)",
					  m->user);
		return TWOFA_OK;
	}
	if (memchr(m->phone, '\0', sizeof(m->phone)) == NULL ||
	    (m->phone[0] == '\0' ? m->channel != TWOFA_CHANNEL_EMAIL && m->channel != TWOFA_CHANNEL_TOTP
				 : !twofa_e164_valid(m->phone)))
		return twofa_fail(err, TWOFA_EINVAL,
				  "phone number of %s is not in E.164 form (+ and %d..%d digits; only a "
				  "member of the email or totp channel may have none)",
				  m->user, TWOFA_E164_MIN_DIGITS, TWOFA_E164_MAX_DIGITS);
	if (m->phone[0] == '\0' ? m->country[0] != '\0'
				: !(m->country[0] >= 'A' && m->country[0] <= 'Z' && m->country[1] >= 'A' &&
				    m->country[1] <= 'Z' && m->country[2] == '\0'))
		return twofa_fail(err, TWOFA_EINVAL,
				  "country of %s is not two uppercase letters (or none, without a phone number)",
				  m->user);
	return TWOFA_OK;
}

/* The fields of the fleet, recovery, enrolment and TOTP issues. */
static twofa_status validate_later_fields(const twofa_member *m, twofa_error *err)
{
	if (m->version > TWOFA_MEMBER_RECORD_VERSION_MAX)
		return twofa_fail(err, TWOFA_EINVAL, "record version of %s is out of range", m->user);
	if (m->unlocked != 0 && !time_valid(m->unlocked))
		return twofa_fail(err, TWOFA_EINVAL, "unlock time of %s is out of range", m->user);
	if (m->recovery_count > TWOFA_MEMBER_RECOVERY_MAX)
		return twofa_fail(err, TWOFA_EINVAL, "%s has more than %d recovery codes", m->user,
				  TWOFA_MEMBER_RECOVERY_MAX);
	for (size_t i = 0; i < m->recovery_count; i++) {
		if (!twofa_member_code_hash_valid(m->recovery[i]))
			return twofa_fail(err, TWOFA_EINVAL, "recovery code %zu of %s is not a code hash",
					  i + 1, m->user);
		for (size_t j = 0; j < i; j++)
			if (strcmp(m->recovery[i], m->recovery[j]) == 0)
				return twofa_fail(err, TWOFA_EINVAL,
						  "recovery codes %zu and %zu of %s are the same", j + 1,
						  i + 1, m->user);
	}
	if (m->bypass[0] == '\0'
		    ? m->bypass_uses != 0 || m->bypass_expires != 0 || m->bypass_issuer[0] != '\0'
		    : !twofa_member_code_hash_valid(m->bypass) || m->bypass_uses < 1 ||
			      m->bypass_uses > TWOFA_MEMBER_BYPASS_USES_MAX || !time_valid(m->bypass_expires))
		return twofa_fail(err, TWOFA_EINVAL,
				  "bypass code of %s is not a code hash with 1..%d uses and an expiry in range "
				  "(or none, with no uses, expiry or issuer)",
				  m->user, TWOFA_MEMBER_BYPASS_USES_MAX);
	/* The issuer is shown by `show`: a login name, or "" (not recorded). */
	if (memchr(m->bypass_issuer, '\0', sizeof(m->bypass_issuer)) == NULL ||
	    (m->bypass_issuer[0] != '\0' && !twofa_user_name_valid(m->bypass_issuer)))
		return twofa_fail(err, TWOFA_EINVAL, "bypass code issuer of %s is not a valid login name",
				  m->user);
	if (m->invite[0] == '\0' ? m->invite_expires != 0
				 : !twofa_member_code_hash_valid(m->invite) || !time_valid(m->invite_expires))
		return twofa_fail(err, TWOFA_EINVAL,
				  "invite of %s is not a code hash with an expiry in range (or none, with no "
				  "expiry)",
				  m->user);
	if (!id_valid(m->rate_limit_id, sizeof(m->rate_limit_id)))
		return twofa_fail(err, TWOFA_EINVAL, "rate-limit id of %s is not 1..%zu of A-Z a-z 0-9 _ -",
				  m->user, sizeof(m->rate_limit_id) - 1);
	if (!id_valid(m->totp_entity, sizeof(m->totp_entity)))
		return twofa_fail(err, TWOFA_EINVAL, "TOTP entity of %s is not 1..%zu of A-Z a-z 0-9 _ -",
				  m->user, sizeof(m->totp_entity) - 1);
	if (!factor_sid_valid(m->totp_factor))
		return twofa_fail(err, TWOFA_EINVAL,
				  "TOTP factor of %s is not YF and 32 lowercase hex digits", m->user);
	/* A factor lives under its entity; an app member has both. */
	if (m->totp_factor[0] != '\0' && m->totp_entity[0] == '\0')
		return twofa_fail(err, TWOFA_EINVAL, "TOTP factor of %s has no TOTP entity", m->user);
	if (m->channel == TWOFA_CHANNEL_TOTP && m->status != TWOFA_MEMBER_INVITED && m->totp_factor[0] == '\0')
		return twofa_fail(err, TWOFA_EINVAL,
				  "channel of %s is totp but there is no TOTP entity and factor", m->user);
	return TWOFA_OK;
}

/* An invited record is an invite and nothing a member has (validate_phone
 * has checked the phone and country). */
static twofa_status validate_invited(const twofa_member *m, twofa_error *err)
{
	if (m->status != TWOFA_MEMBER_INVITED)
		return TWOFA_OK;
	if (m->invite[0] == '\0')
		return twofa_fail(err, TWOFA_EINVAL, "invited record of %s has no invite", m->user);
	if (m->channel == TWOFA_CHANNEL_TOTP)
		return twofa_fail(err, TWOFA_EINVAL,
				  "invited record of %s is of the totp channel (self-enrolment sends a code)",
				  m->user);
	if (m->password_hash != NULL || m->verified != 0 || m->recovery_count != 0 || m->bypass[0] != '\0' ||
	    m->totp_factor[0] != '\0')
		return twofa_fail(err, TWOFA_EINVAL,
				  "invited record of %s holds a password hash, a verified time, recovery "
				  "codes, a bypass code or a TOTP factor (only a member may)",
				  m->user);
	return TWOFA_OK;
}

twofa_status twofa_member_validate(const twofa_member *m, twofa_error *err)
{
	twofa_status st;

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
	if ((st = validate_phone(m, err)) != TWOFA_OK)
		return st;
	if (twofa_channel_name(m->channel) == NULL)
		return twofa_fail(err, TWOFA_EINVAL, "channel of %s is unknown", m->user);
	if (m->channel == TWOFA_CHANNEL_EMAIL && m->email == NULL && m->status != TWOFA_MEMBER_INVITED)
		return twofa_fail(err, TWOFA_EINVAL, "channel of %s is email but there is no email address",
				  m->user);
	if (m->password_hash != NULL && !hash_valid(m->password_hash))
		return twofa_fail(err, TWOFA_EINVAL, "password hash of %s is not an Argon2id hash", m->user);
	if (twofa_member_status_name(m->status) == NULL)
		return twofa_fail(err, TWOFA_EINVAL, "status of %s is unknown", m->user);
	if (!time_valid(m->created) || !time_valid(m->updated) || m->updated < m->created)
		return twofa_fail(err, TWOFA_EINVAL,
				  "created/updated times of %s are out of range or updated is before created",
				  m->user);
	if (m->verified != 0 && !time_valid(m->verified))
		return twofa_fail(err, TWOFA_EINVAL, "verified time of %s is out of range", m->user);
	if ((st = validate_later_fields(m, err)) != TWOFA_OK)
		return st;
	return validate_invited(m, err);
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

static json_t *string_or_null(const char *s)
{
	return s != NULL && s[0] != '\0' ? json_string(s) : json_null();
}

/* json_object_set_new that remembers a failure (a NULL value included). */
static void set(json_t *obj, const char *key, json_t *value, bool *ok)
{
	if (value == NULL || json_object_set_new(obj, key, value) != 0)
		*ok = false;
}

/* {"expires":t,"hash":h,"issuer":i,"uses":n}, without uses when uses is
 * NULL and without issuer when issuer is NULL or "". */
static json_t *code_json(const char *hash, const long *uses, time_t expires, const char *issuer)
{
	json_t *v = json_object();
	bool ok = v != NULL;

	if (ok) { /* in sorted order, as twofa_member_put_later_fields */
		set(v, "expires", time_json(expires), &ok);
		set(v, "hash", json_string(hash), &ok);
		if (issuer != NULL && issuer[0] != '\0')
			set(v, "issuer", json_string(issuer), &ok);
		if (uses != NULL)
			set(v, "uses", json_integer(*uses), &ok);
	}
	if (!ok) {
		json_decref(v);
		return NULL;
	}
	return v;
}

/* Later fields go in only when set: a member without them keeps the bytes
 * it had before they existed, and an older twofa still reads it. */
bool twofa_member_put_later_fields(const twofa_member *m, json_t *obj)
{
	bool ok = true;
	json_t *v;

	/* In sorted order, for an export line that keeps the order it is given. */
	if (m->bypass[0] != '\0')
		set(obj, "bypass", code_json(m->bypass, &m->bypass_uses, m->bypass_expires, m->bypass_issuer),
		    &ok);
	if (m->invite[0] != '\0')
		set(obj, "invite", code_json(m->invite, NULL, m->invite_expires, NULL), &ok);
	if (m->rate_limit_id[0] != '\0')
		set(obj, "rate_limit_id", json_string(m->rate_limit_id), &ok);
	if (m->recovery_count > 0) {
		v = json_array();
		for (size_t i = 0; v != NULL && i < m->recovery_count; i++)
			if (json_array_append_new(v, json_string(m->recovery[i])) != 0)
				ok = false;
		set(obj, "recovery", v, &ok);
	}
	if (m->totp_entity[0] != '\0')
		set(obj, "totp_entity", json_string(m->totp_entity), &ok);
	if (m->totp_factor[0] != '\0')
		set(obj, "totp_factor", json_string(m->totp_factor), &ok);
	if (m->unlocked != 0)
		set(obj, "unlocked", time_json(m->unlocked), &ok);
	if (m->version != 0)
		set(obj, "version", json_integer((json_int_t)m->version), &ok);
	return ok;
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
	set(obj, "email", string_or_null(m->email), &ok);
	set(obj, "phone", string_or_null(m->phone), &ok);
	set(obj, "country", string_or_null(m->country), &ok);
	set(obj, "channel", json_string(twofa_channel_name(m->channel)), &ok);
	set(obj, "password_hash", string_or_null(m->password_hash), &ok);
	set(obj, "status", json_string(twofa_member_status_name(m->status)), &ok);
	set(obj, "created", time_json(m->created), &ok);
	set(obj, "updated", time_json(m->updated), &ok);
	set(obj, "verified", time_json(m->verified), &ok);
	if (!twofa_member_put_later_fields(m, obj))
		ok = false;
	text = ok ? json_dumps(obj, JSON_COMPACT | JSON_SORT_KEYS) : NULL;
	json_decref(obj);
	if (text == NULL)
		return twofa_fail(err, TWOFA_ENOMEM, "cannot encode the record of %s", m->user);
	*json = text;
	return TWOFA_OK;
}

/* ---- decode ---- */

/* The value of a field, or NULL with an error when a required one is
 * missing. label names it in messages ("bypass.hash" for a nested one). */
static json_t *field(json_t *obj, const char *name, const char *label, twofa_error *err)
{
	json_t *v = json_object_get(obj, name);

	if (v == NULL)
		(void)twofa_fail(err, TWOFA_EINVAL, "member record has no \"%s\"", label);
	return v;
}

/* A string value of at most max bytes, checked before it is copied. *out is
 * a copy, NULL for null when nullable. */
static twofa_status string_value(json_t *v, const char *label, bool nullable, size_t max, char **out,
				 twofa_error *err)
{
	*out = NULL;
	if (json_is_null(v) && nullable)
		return TWOFA_OK;
	if (!json_is_string(v))
		return twofa_fail(err, TWOFA_EINVAL, "member record field \"%s\" is not a string", label);
	if (json_string_length(v) > max)
		return twofa_fail(err, TWOFA_EINVAL, "member record field \"%s\" is longer than %zu bytes",
				  label, max);
	*out = strdup(json_string_value(v));
	if (*out == NULL)
		return twofa_fail(err, TWOFA_ENOMEM, "out of memory");
	return TWOFA_OK;
}

static twofa_status take_string(json_t *obj, const char *name, bool nullable, size_t max, char **out,
				twofa_error *err)
{
	json_t *v = field(obj, name, name, err);

	*out = NULL;
	return v == NULL ? TWOFA_EINVAL : string_value(v, name, nullable, max, out, err);
}

/* A short string into a fixed buffer ("" for null when nullable). */
static twofa_status fixed_value(json_t *v, const char *label, bool nullable, char *buf, size_t size,
				twofa_error *err)
{
	buf[0] = '\0';
	if (json_is_null(v) && nullable)
		return TWOFA_OK;
	if (!json_is_string(v))
		return twofa_fail(err, TWOFA_EINVAL, "member record field \"%s\" is not a string", label);
	if (json_string_length(v) > size - 1)
		return twofa_fail(err, TWOFA_EINVAL, "member record field \"%s\" is longer than %zu bytes",
				  label, size - 1);
	twofa_strlcpy(buf, json_string_value(v), size);
	return TWOFA_OK;
}

static twofa_status take_fixed(json_t *obj, const char *name, bool nullable, char *buf, size_t size,
			       twofa_error *err)
{
	json_t *v = field(obj, name, name, err);

	buf[0] = '\0';
	return v == NULL ? TWOFA_EINVAL : fixed_value(v, name, nullable, buf, size, err);
}

static twofa_status time_value(json_t *v, const char *label, bool nullable, time_t *out, twofa_error *err)
{
	char s[TWOFA_ISO8601_LEN];
	twofa_status st;

	*out = 0;
	if (json_is_null(v) && nullable)
		return TWOFA_OK;
	if ((st = fixed_value(v, label, false, s, sizeof(s), err)) != TWOFA_OK)
		return st;
	if (!twofa_parse_time(s, out) || *out == 0)
		return twofa_fail(err, TWOFA_EINVAL,
				  "member record field \"%s\" is not a time like 2026-01-31T12:00:00Z", label);
	return TWOFA_OK;
}

static twofa_status take_time(json_t *obj, const char *name, bool nullable, time_t *out, twofa_error *err)
{
	json_t *v = field(obj, name, name, err);

	*out = 0;
	return v == NULL ? TWOFA_EINVAL : time_value(v, name, nullable, out, err);
}

static twofa_status take_enum(json_t *obj, const char *name, int *out, twofa_error *err)
{
	char s[17];
	twofa_status st = take_fixed(obj, name, false, s, sizeof(s), err);
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
	if (!ok)
		return twofa_fail(err, TWOFA_EINVAL, "member record field \"%s\" has an unknown value", name);
	return TWOFA_OK;
}

/* An integer value within lo..hi. */
static twofa_status integer_value(json_t *v, const char *label, json_int_t lo, json_int_t hi, json_int_t *out,
				  twofa_error *err)
{
	if (!json_is_integer(v) || json_integer_value(v) < lo || json_integer_value(v) > hi)
		return twofa_fail(err, TWOFA_EINVAL,
				  "member record field \"%s\" is not a whole number in %" JSON_INTEGER_FORMAT
				  "..%" JSON_INTEGER_FORMAT,
				  label, lo, hi);
	*out = json_integer_value(v);
	return TWOFA_OK;
}

static twofa_status take_recovery(json_t *v, twofa_member *m, twofa_error *err)
{
	size_t n = json_is_array(v) ? json_array_size(v) : 0;
	twofa_status st;

	if (n < 1 || n > TWOFA_MEMBER_RECOVERY_MAX)
		return twofa_fail(err, TWOFA_EINVAL, "member record field \"recovery\" is not a list of 1..%d",
				  TWOFA_MEMBER_RECOVERY_MAX);
	for (size_t i = 0; i < n; i++)
		if ((st = fixed_value(json_array_get(v, i), "recovery", false, m->recovery[i],
				      sizeof(m->recovery[i]), err)) != TWOFA_OK)
			return st;
	m->recovery_count = n;
	return TWOFA_OK;
}

/* {"hash":h,"uses":n,"expires":t} with an optional "issuer" (bypass: uses
 * and issuer not NULL) or {"hash":h,"expires":t} (invite). */
static twofa_status take_code(json_t *v, const char *name, char *hash, long *uses, time_t *expires,
			      char *issuer, twofa_error *err)
{
	char hash_label[16], uses_label[16], expires_label[24], issuer_label[24];
	json_t *h, *u = NULL, *e, *i;
	json_int_t n = 0;
	twofa_status st;

	if (!json_is_object(v))
		return twofa_fail(err, TWOFA_EINVAL, "member record field \"%s\" is not an object", name);
	snprintf(hash_label, sizeof(hash_label), "%s.hash", name);
	snprintf(uses_label, sizeof(uses_label), "%s.uses", name);
	snprintf(expires_label, sizeof(expires_label), "%s.expires", name);
	snprintf(issuer_label, sizeof(issuer_label), "%s.issuer", name);
	if ((h = field(v, "hash", hash_label, err)) == NULL ||
	    (e = field(v, "expires", expires_label, err)) == NULL ||
	    (uses != NULL && (u = field(v, "uses", uses_label, err)) == NULL))
		return TWOFA_EINVAL;
	if ((st = fixed_value(h, hash_label, false, hash, TWOFA_MEMBER_CODE_HASH_SIZE, err)) != TWOFA_OK ||
	    (st = time_value(e, expires_label, false, expires, err)) != TWOFA_OK)
		return st;
	if (uses != NULL) {
		if ((st = integer_value(u, uses_label, 1, TWOFA_MEMBER_BYPASS_USES_MAX, &n, err)) != TWOFA_OK)
			return st;
		*uses = (long)n;
	}
	/* Absent in records from before it was kept: "". */
	if (issuer != NULL && (i = json_object_get(v, "issuer")) != NULL) {
		if ((st = fixed_value(i, issuer_label, false, issuer, TWOFA_USER_NAME_MAX + 1, err)) !=
		    TWOFA_OK)
			return st;
		if (issuer[0] == '\0')
			return twofa_fail(err, TWOFA_EINVAL,
					  "member record field \"%s\" is empty (absent means not recorded)",
					  issuer_label);
	}
	return TWOFA_OK;
}

/* An optional identifier: absent for none, never "". */
static twofa_status take_id(json_t *obj, const char *name, char *buf, size_t size, twofa_error *err)
{
	json_t *v = json_object_get(obj, name);
	twofa_status st;

	buf[0] = '\0';
	if (v == NULL)
		return TWOFA_OK;
	if ((st = fixed_value(v, name, false, buf, size, err)) != TWOFA_OK)
		return st;
	if (buf[0] == '\0')
		return twofa_fail(err, TWOFA_EINVAL,
				  "member record field \"%s\" is empty (absent means none)", name);
	return TWOFA_OK;
}

/* The later fields: absent is the zero value, present must be of its type. */
static twofa_status decode_later_fields(json_t *obj, twofa_member *m, twofa_error *err)
{
	twofa_status st = TWOFA_OK;
	json_int_t version = 0;
	json_t *v;

	if ((v = json_object_get(obj, "version")) != NULL &&
	    (st = integer_value(v, "version", 1, (json_int_t)TWOFA_MEMBER_RECORD_VERSION_MAX, &version,
				err)) != TWOFA_OK)
		return st;
	m->version = (unsigned long long)version;
	if (((v = json_object_get(obj, "unlocked")) != NULL &&
	     (st = time_value(v, "unlocked", false, &m->unlocked, err)) != TWOFA_OK) ||
	    ((v = json_object_get(obj, "recovery")) != NULL && (st = take_recovery(v, m, err)) != TWOFA_OK) ||
	    ((v = json_object_get(obj, "bypass")) != NULL &&
	     (st = take_code(v, "bypass", m->bypass, &m->bypass_uses, &m->bypass_expires, m->bypass_issuer,
			     err)) != TWOFA_OK) ||
	    ((v = json_object_get(obj, "invite")) != NULL &&
	     (st = take_code(v, "invite", m->invite, NULL, &m->invite_expires, NULL, err)) != TWOFA_OK) ||
	    (st = take_id(obj, "rate_limit_id", m->rate_limit_id, sizeof(m->rate_limit_id), err)) != TWOFA_OK ||
	    (st = take_id(obj, "totp_entity", m->totp_entity, sizeof(m->totp_entity), err)) != TWOFA_OK ||
	    (st = take_id(obj, "totp_factor", m->totp_factor, sizeof(m->totp_factor), err)) != TWOFA_OK)
		return st;
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
	/* No twofa password (enrolled behind another module's): null or absent. */
	v = json_object_get(obj, "password_hash");
	if ((st = take_string(obj, "user", false, TWOFA_USER_NAME_MAX, &m->user, err)) != TWOFA_OK ||
	    (st = take_string(obj, "email", true, TWOFA_EMAIL_MAX, &m->email, err)) != TWOFA_OK ||
	    (st = take_fixed(obj, "phone", true, m->phone, sizeof(m->phone), err)) != TWOFA_OK ||
	    (st = take_fixed(obj, "country", true, m->country, sizeof(m->country), err)) != TWOFA_OK ||
	    (st = take_enum(obj, "channel", &channel, err)) != TWOFA_OK ||
	    (v != NULL && (st = string_value(v, "password_hash", true, TWOFA_MEMBER_HASH_MAX,
					     &m->password_hash, err)) != TWOFA_OK) ||
	    (st = take_enum(obj, "status", &status, err)) != TWOFA_OK ||
	    (st = take_time(obj, "created", false, &m->created, err)) != TWOFA_OK ||
	    (st = take_time(obj, "updated", false, &m->updated, err)) != TWOFA_OK ||
	    (st = take_time(obj, "verified", true, &m->verified, err)) != TWOFA_OK ||
	    (st = decode_later_fields(obj, m, err)) != TWOFA_OK)
		return st;
	m->channel = (twofa_channel)channel;
	m->status = (twofa_member_status)status;
	return twofa_member_validate(m, err);
}

twofa_status twofa_member_decode(const char *json, size_t len, twofa_member *m, twofa_error *err)
{
	twofa_json_read_error jerr;
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
	root = twofa_json_read(json, len, &jerr);
	if (root == NULL)
		return twofa_fail(err, TWOFA_EINVAL, "member record is not valid JSON (%s) at byte %zu",
				  jerr.reason, jerr.position);
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
	/* The code hashes and the rest go with the struct. */
	sodium_memzero(m, sizeof(*m));
}

void twofa_member_new_rate_limit_id(char out[TWOFA_MEMBER_ID_SIZE])
{
	unsigned char raw[16];

	randombytes_buf(raw, sizeof(raw));
	(void)sodium_bin2hex(out, TWOFA_MEMBER_ID_SIZE, raw, sizeof(raw));
	sodium_memzero(raw, sizeof(raw));
}
