/* SPDX-License-Identifier: GPL-3.0-or-later */
#include "twofa_build.h"

#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <sodium.h>

#include "ldap_member.h"
#include "util.h"

/* The attributes, in the order of etc/ldap/twofa.schema (ARC.1.1 .. 1.18). */
typedef enum {
	A_USER,
	A_EMAIL,
	A_PHONE,
	A_COUNTRY,
	A_CHANNEL,
	A_HASH,
	A_STATUS,
	A_CREATED,
	A_UPDATED,
	A_VERIFIED,
	A_VERSION,
	A_UNLOCKED,
	A_RECOVERY,
	A_BYPASS,
	A_INVITE,
	A_RATE_LIMIT_ID,
	A_TOTP_ENTITY,
	A_TOTP_FACTOR,
	A_COUNT
} attr_id;

#define TIME_LEN (TWOFA_LDAP_TIME_SIZE - 1)
#define VERSION_LEN 20 /* digits of 2^64 - 1 */
#define CODE_HASH_LEN (TWOFA_MEMBER_CODE_HASH_SIZE - 1)

/* Each attribute's name, the bytes one value may have (the model's bound,
 * never above the schema's), whether it takes several values and whether a
 * member must have it (the class's MUST list, twofaVersion aside). */
static const struct attr_rule {
	const char *name;
	size_t max;
	bool multi, required;
} rules[A_COUNT] = {
	[A_USER] = {"twofaUser", TWOFA_USER_NAME_MAX, false, true},
	[A_EMAIL] = {"twofaEmail", TWOFA_EMAIL_MAX, false, false},
	[A_PHONE] = {"twofaPhone", TWOFA_E164_SIZE - 1, false, false},
	[A_COUNTRY] = {"twofaCountry", 2, false, false},
	[A_CHANNEL] = {"twofaChannel", 16, false, true},
	[A_HASH] = {"twofaPasswordHash", TWOFA_MEMBER_HASH_MAX, false, false},
	[A_STATUS] = {"twofaStatus", 16, false, true},
	[A_CREATED] = {"twofaCreated", TIME_LEN, false, true},
	[A_UPDATED] = {"twofaUpdated", TIME_LEN, false, true},
	[A_VERIFIED] = {"twofaVerified", TIME_LEN, false, false},
	[A_VERSION] = {"twofaVersion", VERSION_LEN, false, false},
	[A_UNLOCKED] = {"twofaUnlockedAt", TIME_LEN, false, false},
	[A_RECOVERY] = {"twofaRecoveryCode", CODE_HASH_LEN, true, false},
	/* "<hash> <uses> <time>" and "<hash> <time>": the schema's {160}, {140}. */
	[A_BYPASS] = {"twofaBypassCode", 160, false, false},
	[A_INVITE] = {"twofaInvite", 140, false, false},
	[A_RATE_LIMIT_ID] = {"twofaRateLimitId", TWOFA_MEMBER_ID_SIZE - 1, false, false},
	[A_TOTP_ENTITY] = {"twofaTotpEntity", TWOFA_MEMBER_ID_SIZE - 1, false, false},
	[A_TOTP_FACTOR] = {"twofaTotpFactor", TWOFA_MEMBER_SID_SIZE - 1, false, false},
};

char *const twofa_ldap_member_attrs[] = {
	"twofaUser",         "twofaEmail",        "twofaPhone",   "twofaCountry",
	"twofaChannel",      "twofaPasswordHash", "twofaStatus",  "twofaCreated",
	"twofaUpdated",      "twofaVerified",     "twofaVersion", "twofaUnlockedAt",
	"twofaRecoveryCode", "twofaBypassCode",   "twofaInvite",  "twofaRateLimitId",
	"twofaTotpEntity",   "twofaTotpFactor",   NULL,
};
_Static_assert(sizeof(twofa_ldap_member_attrs) / sizeof(twofa_ldap_member_attrs[0]) == A_COUNT + 1,
	       "one search attribute per rule");

char *const twofa_ldap_user_attrs[] = {"twofaUser", NULL};

/* The rule of an attribute description; with_option is set when it is a
 * twofa attribute with an option after ';'. */
static int rule_of(const char *name, bool *with_option)
{
	const char *semi = strchr(name, ';');
	size_t len = semi != NULL ? (size_t)(semi - name) : strlen(name);

	*with_option = semi != NULL;
	for (int i = 0; i < A_COUNT; i++) {
		if (strlen(rules[i].name) == len && strncasecmp(name, rules[i].name, len) == 0)
			return i;
	}
	return -1;
}

bool twofa_ldap_member_attr_known(const char *name)
{
	bool with_option;

	return name != NULL && rule_of(name, &with_option) >= 0 && !with_option;
}

bool twofa_ldap_format_time(time_t t, char buf[TWOFA_LDAP_TIME_SIZE])
{
	struct tm tm;

	if (gmtime_r(&t, &tm) == NULL)
		return false;
	return strftime(buf, TWOFA_LDAP_TIME_SIZE, "%Y%m%d%H%M%SZ", &tm) == TIME_LEN;
}

static int digits(const char *s, size_t n)
{
	int v = 0;

	for (size_t i = 0; i < n; i++)
		v = v * 10 + (s[i] - '0');
	return v;
}

bool twofa_ldap_parse_time(const char *s, size_t len, time_t *out)
{
	char again[TWOFA_LDAP_TIME_SIZE];
	struct tm tm;
	time_t t;

	if (s == NULL || len != TIME_LEN || s[TIME_LEN - 1] != 'Z')
		return false;
	for (size_t i = 0; i < TIME_LEN - 1; i++) {
		if (s[i] < '0' || s[i] > '9')
			return false;
	}
	memset(&tm, 0, sizeof(tm));
	tm.tm_year = digits(s, 4) - 1900;
	tm.tm_mon = digits(s + 4, 2) - 1;
	tm.tm_mday = digits(s + 6, 2);
	tm.tm_hour = digits(s + 8, 2);
	tm.tm_min = digits(s + 10, 2);
	tm.tm_sec = digits(s + 12, 2);
	t = timegm(&tm);
	/* A date timegm normalised (Feb 30, 24:00, second 60) is not the text. */
	if (t == (time_t)-1 || !twofa_ldap_format_time(t, again) || memcmp(again, s, TIME_LEN) != 0)
		return false;
	*out = t;
	return true;
}

/* ---- entry -> member ---- */

static size_t count_values(struct berval **values)
{
	size_t n = 0;

	while (values != NULL && values[n] != NULL)
		n++;
	return n;
}

/* Checks every value of one attribute against its rule before anything is
 * copied: how many, how long, no control character (no NUL inside). */
static twofa_status check_values(const struct attr_rule *r, struct berval **values, twofa_error *err)
{
	size_t n = count_values(values);

	if (n > 1 && !r->multi)
		return twofa_fail(err, TWOFA_ESTORE, "attribute %s has %zu values but is single-valued",
				  r->name, n);
	if (n > TWOFA_MEMBER_RECOVERY_MAX)
		return twofa_fail(err, TWOFA_ESTORE, "attribute %s has %zu values, more than %d", r->name, n,
				  TWOFA_MEMBER_RECOVERY_MAX);
	for (size_t i = 0; i < n; i++) {
		const struct berval *bv = values[i];

		if (bv->bv_len == 0 || bv->bv_val == NULL)
			return twofa_fail(err, TWOFA_ESTORE, "attribute %s has an empty value", r->name);
		if (bv->bv_len > r->max)
			return twofa_fail(err, TWOFA_ESTORE, "attribute %s has a value longer than %zu bytes",
					  r->name, r->max);
		if (twofa_has_control(bv->bv_val, bv->bv_len))
			return twofa_fail(err, TWOFA_ESTORE,
					  "attribute %s has a value with a control character", r->name);
	}
	return TWOFA_OK;
}

/* The checked value as a string in buf (size > the rule's max). */
static void value_text(const struct berval *bv, char *buf, size_t size)
{
	size_t n = bv->bv_len < size ? bv->bv_len : size - 1;

	memcpy(buf, bv->bv_val, n);
	buf[n] = '\0';
}

static twofa_status dup_value(const struct attr_rule *r, const struct berval *bv, char **out, twofa_error *err)
{
	*out = malloc(bv->bv_len + 1);
	if (*out == NULL)
		return twofa_fail(err, TWOFA_ENOMEM, "out of memory reading %s", r->name);
	value_text(bv, *out, bv->bv_len + 1);
	return TWOFA_OK;
}

static twofa_status time_value(const struct attr_rule *r, struct berval **values, time_t *out,
			       twofa_error *err)
{
	*out = 0;
	if (values == NULL || values[0] == NULL)
		return TWOFA_OK;
	if (!twofa_ldap_parse_time(values[0]->bv_val, values[0]->bv_len, out))
		return twofa_fail(err, TWOFA_ESTORE, "attribute %s is not a UTC time like 20260131120000Z",
				  r->name);
	return TWOFA_OK;
}

static twofa_status version_value(const struct attr_rule *r, struct berval **values, unsigned long long *out,
				  twofa_error *err)
{
	char text[VERSION_LEN + 1];
	unsigned long long v = 0;

	*out = 0;
	if (values == NULL || values[0] == NULL)
		return TWOFA_OK;
	value_text(values[0], text, sizeof(text));
	/* 1..2^64-1 in plain decimal: no sign, no leading zero, no overflow. */
	if (text[0] < '1' || text[0] > '9')
		return twofa_fail(err, TWOFA_ESTORE, "attribute %s is not a positive integer", r->name);
	for (const char *p = text; *p != '\0'; p++) {
		unsigned d = (unsigned)(*p - '0');

		if (*p < '0' || *p > '9' || v > (UINT64_MAX - d) / 10)
			return twofa_fail(err, TWOFA_ESTORE, "attribute %s is not a positive integer",
					  r->name);
		v = v * 10 + d;
	}
	*out = v;
	return TWOFA_OK;
}

/* A fixed field of the model from a single value; the rule's max keeps it
 * inside buf (checked by check_values). */
static void fixed_value(struct berval **values, char *buf, size_t size)
{
	buf[0] = '\0';
	if (values != NULL && values[0] != NULL)
		value_text(values[0], buf, size);
}

/* "<hash> <uses> <time>" (bypass, uses != NULL) or "<hash> <time>" (invite). */
static twofa_status code_value(const struct attr_rule *r, struct berval **values,
			       char hash[TWOFA_MEMBER_CODE_HASH_SIZE], long *uses, time_t *expires,
			       twofa_error *err)
{
	char text[160 + 1];
	char *field[3] = {NULL, NULL, NULL};
	size_t want = uses != NULL ? 3 : 2;
	bool shape = true;
	char *p = text;
	twofa_status st = TWOFA_OK;

	if (values == NULL || values[0] == NULL)
		return TWOFA_OK;
	value_text(values[0], text, sizeof(text));
	/* Exactly want fields, one space between each. */
	for (size_t i = 0; i < want && shape; i++) {
		char *space = strchr(p, ' ');

		field[i] = p;
		if (i + 1 == want)
			shape = space == NULL;
		else if ((shape = space != NULL)) {
			*space = '\0';
			p = space + 1;
		}
	}
	if (!shape || field[0][0] == '\0' || strlen(field[0]) > CODE_HASH_LEN)
		st = twofa_fail(err, TWOFA_ESTORE, "attribute %s is not \"<hash>%s <time>\"", r->name,
				uses != NULL ? " <uses>" : "");
	else if (uses != NULL && !twofa_parse_long(field[1], 1, LONG_MAX, uses))
		st = twofa_fail(err, TWOFA_ESTORE,
				"attribute %s has a use count that is not a positive number", r->name);
	else if (!twofa_ldap_parse_time(field[want - 1], strlen(field[want - 1]), expires))
		st = twofa_fail(err, TWOFA_ESTORE, "attribute %s has an expiry that is not a UTC time",
				r->name);
	else
		twofa_strlcpy(hash, field[0], TWOFA_MEMBER_CODE_HASH_SIZE);
	sodium_memzero(text, sizeof(text));
	return st;
}

static twofa_status fill_member(struct berval **got[A_COUNT], twofa_member *m, twofa_error *err)
{
	char word[16 + 1];
	twofa_status st;

	if ((st = dup_value(&rules[A_USER], got[A_USER][0], &m->user, err)) != TWOFA_OK)
		return st;
	if (got[A_EMAIL] != NULL &&
	    (st = dup_value(&rules[A_EMAIL], got[A_EMAIL][0], &m->email, err)) != TWOFA_OK)
		return st;
	if (got[A_HASH] != NULL &&
	    (st = dup_value(&rules[A_HASH], got[A_HASH][0], &m->password_hash, err)) != TWOFA_OK)
		return st;
	fixed_value(got[A_PHONE], m->phone, sizeof(m->phone));
	fixed_value(got[A_COUNTRY], m->country, sizeof(m->country));
	fixed_value(got[A_CHANNEL], word, sizeof(word));
	if (!twofa_channel_parse(word, &m->channel))
		return twofa_fail(err, TWOFA_ESTORE, "attribute twofaChannel has an unknown value");
	fixed_value(got[A_STATUS], word, sizeof(word));
	if (!twofa_member_status_parse(word, &m->status))
		return twofa_fail(err, TWOFA_ESTORE, "attribute twofaStatus has an unknown value");
	if ((st = time_value(&rules[A_CREATED], got[A_CREATED], &m->created, err)) != TWOFA_OK ||
	    (st = time_value(&rules[A_UPDATED], got[A_UPDATED], &m->updated, err)) != TWOFA_OK ||
	    (st = time_value(&rules[A_VERIFIED], got[A_VERIFIED], &m->verified, err)) != TWOFA_OK ||
	    (st = time_value(&rules[A_UNLOCKED], got[A_UNLOCKED], &m->unlocked, err)) != TWOFA_OK ||
	    (st = version_value(&rules[A_VERSION], got[A_VERSION], &m->version, err)) != TWOFA_OK)
		return st;
	m->recovery_count = count_values(got[A_RECOVERY]);
	for (size_t i = 0; i < m->recovery_count; i++)
		value_text(got[A_RECOVERY][i], m->recovery[i], sizeof(m->recovery[i]));
	if ((st = code_value(&rules[A_BYPASS], got[A_BYPASS], m->bypass, &m->bypass_uses, &m->bypass_expires,
			     err)) != TWOFA_OK ||
	    (st = code_value(&rules[A_INVITE], got[A_INVITE], m->invite, NULL, &m->invite_expires, err)) !=
		    TWOFA_OK)
		return st;
	fixed_value(got[A_RATE_LIMIT_ID], m->rate_limit_id, sizeof(m->rate_limit_id));
	fixed_value(got[A_TOTP_ENTITY], m->totp_entity, sizeof(m->totp_entity));
	fixed_value(got[A_TOTP_FACTOR], m->totp_factor, sizeof(m->totp_factor));
	return TWOFA_OK;
}

twofa_status twofa_ldap_member_decode(const twofa_ldap_attr *attrs, size_t n, const char *user,
				      twofa_member *m, twofa_error *err)
{
	struct berval **got[A_COUNT] = {NULL};
	bool seen[A_COUNT] = {false};
	twofa_status st;

	if (m == NULL)
		return twofa_fail(err, TWOFA_EINVAL, "no place for the member");
	memset(m, 0, sizeof(*m));
	if (attrs == NULL && n > 0)
		return twofa_fail(err, TWOFA_EINVAL, "no attributes");
	for (size_t i = 0; i < n; i++) {
		bool with_option;
		int id = attrs[i].name != NULL ? rule_of(attrs[i].name, &with_option) : -1;

		if (id < 0)
			continue; /* not ours (objectClass, uid, ...) */
		if (with_option)
			return twofa_fail(err, TWOFA_ESTORE, "attribute %s comes with an option",
					  rules[id].name);
		if (seen[id])
			return twofa_fail(err, TWOFA_ESTORE, "attribute %s appears twice", rules[id].name);
		seen[id] = true;
		if ((st = check_values(&rules[id], attrs[i].values, err)) != TWOFA_OK)
			return st;
		if (count_values(attrs[i].values) > 0)
			got[id] = attrs[i].values;
	}
	for (int id = 0; id < A_COUNT; id++) {
		if (rules[id].required && got[id] == NULL)
			return twofa_fail(err, TWOFA_ESTORE, "entry has no %s", rules[id].name);
	}
	/* uid is caseIgnoreMatch, twofaUser is the name exactly: "Alice" is not alice. */
	if (user != NULL && (got[A_USER][0]->bv_len != strlen(user) ||
			     memcmp(got[A_USER][0]->bv_val, user, got[A_USER][0]->bv_len) != 0))
		return twofa_fail(err, TWOFA_ENOTFOUND, "the entry found for %s is another member's", user);
	st = fill_member(got, m, err);
	if (st == TWOFA_OK && (st = twofa_member_validate(m, err)) != TWOFA_OK)
		st = TWOFA_ESTORE; /* the message names the field */
	if (st != TWOFA_OK)
		twofa_member_free(m);
	return st;
}

/* ---- member -> entry ---- */

twofa_status twofa_ldap_member_dn(const char *user, const char *base, char **dn, twofa_error *err)
{
	static const char hex[] = "0123456789ABCDEF";
	size_t len, base_len, used = 0;
	char *out;

	if (dn == NULL)
		return twofa_fail(err, TWOFA_EINVAL, "no place for the DN");
	*dn = NULL;
	if (user == NULL || base == NULL || (len = strnlen(user, TWOFA_USER_NAME_MAX + 1)) == 0 ||
	    len > TWOFA_USER_NAME_MAX)
		return twofa_fail(err, TWOFA_EINVAL, "no login name or base for a DN");
	base_len = strlen(base);
	/* "uid=", three bytes a byte at most, ",", base, NUL. */
	out = malloc(4 + 3 * len + 1 + base_len + 1);
	if (out == NULL)
		return twofa_fail(err, TWOFA_ENOMEM, "out of memory");
	memcpy(out, "uid=", 4);
	used = 4;
	for (size_t i = 0; i < len; i++) {
		unsigned char ch = (unsigned char)user[i];
		bool special = strchr(",+\"\\<>;=", ch) != NULL || ch < 0x20 || ch == 0x7f ||
			       ((ch == ' ' || ch == '#') && i == 0) || (ch == ' ' && i == len - 1);

		if (special) {
			out[used++] = '\\';
			out[used++] = hex[ch >> 4];
			out[used++] = hex[ch & 0x0f];
		} else {
			out[used++] = (char)ch;
		}
	}
	if (base_len > 0) {
		out[used++] = ',';
		memcpy(out + used, base, base_len);
		used += base_len;
	}
	out[used] = '\0';
	*dn = out;
	return TWOFA_OK;
}

/* ---- member -> modification list ---- */

static LDAPMod *mod_begin(twofa_ldap_mods *mods, int op, const char *name)
{
	LDAPMod *mod;

	if (mods->n_mod >= TWOFA_LDAP_MODS_MAX || mods->n_valp >= TWOFA_LDAP_VALUES_MAX)
		return NULL;
	mod = &mods->mod[mods->n_mod];
	mod->mod_op = op | LDAP_MOD_BVALUES;
	mod->mod_type = (char *)name;
	mod->mod_bvalues = &mods->valp[mods->n_valp];
	mods->list[mods->n_mod++] = mod;
	return mod;
}

/* Appends one value (copied into mods) to the modification begun last. */
static bool mod_value(twofa_ldap_mods *mods, const char *data, size_t len)
{
	struct berval *bv;

	if (mods->n_val >= TWOFA_LDAP_VALUES_MAX || mods->n_valp + 1 >= TWOFA_LDAP_VALUES_MAX ||
	    len >= TWOFA_LDAP_TEXT_MAX - mods->n_text)
		return false;
	bv = &mods->val[mods->n_val++];
	bv->bv_val = &mods->text[mods->n_text];
	bv->bv_len = len;
	memcpy(bv->bv_val, data, len);
	mods->text[mods->n_text + len] = '\0';
	mods->n_text += len + 1;
	mods->valp[mods->n_valp++] = bv;
	return true;
}

static bool mod_end(twofa_ldap_mods *mods)
{
	if (mods->n_valp >= TWOFA_LDAP_VALUES_MAX)
		return false;
	mods->valp[mods->n_valp++] = NULL;
	return true;
}

/* One attribute with count values (0: a replace to none, or nothing at all
 * for an add). */
static bool mod_attr(twofa_ldap_mods *mods, twofa_ldap_mods_kind kind, attr_id id, const char *const *values,
		     size_t count)
{
	bool adding = kind == TWOFA_LDAP_MODS_ADD_CLASS || kind == TWOFA_LDAP_MODS_CREATE;

	if (adding && count == 0)
		return true;
	if (mod_begin(mods, adding ? LDAP_MOD_ADD : LDAP_MOD_REPLACE, rules[id].name) == NULL)
		return false;
	for (size_t i = 0; i < count; i++) {
		if (!mod_value(mods, values[i], strlen(values[i])))
			return false;
	}
	return mod_end(mods);
}

static bool mod_one(twofa_ldap_mods *mods, twofa_ldap_mods_kind kind, attr_id id, const char *value)
{
	return mod_attr(mods, kind, id, &value, value != NULL && value[0] != '\0' ? 1 : 0);
}

static bool mod_time(twofa_ldap_mods *mods, twofa_ldap_mods_kind kind, attr_id id, time_t t, bool *ok)
{
	char buf[TWOFA_LDAP_TIME_SIZE] = "";

	if (t != 0 && !twofa_ldap_format_time(t, buf))
		*ok = false;
	return mod_one(mods, kind, id, buf);
}

static bool terminated(const char *buf, size_t size)
{
	return memchr(buf, '\0', size) != NULL;
}

/* The fixed fields' own checks, beside twofa_member_validate: each a string
 * within its buffer, a code with its uses and expiry. */
static twofa_status check_fixed(const twofa_member *m, twofa_error *err)
{
	if (m->version == 0)
		return twofa_fail(err, TWOFA_EINVAL, "member %s has no record version to store", m->user);
	if (m->recovery_count > TWOFA_MEMBER_RECOVERY_MAX)
		return twofa_fail(err, TWOFA_EINVAL, "member %s has more than %d recovery codes", m->user,
				  TWOFA_MEMBER_RECOVERY_MAX);
	for (size_t i = 0; i < m->recovery_count; i++) {
		if (!terminated(m->recovery[i], sizeof(m->recovery[i])) || m->recovery[i][0] == '\0')
			return twofa_fail(err, TWOFA_EINVAL, "recovery code %zu of %s is not a hash", i + 1,
					  m->user);
	}
	if (!terminated(m->bypass, sizeof(m->bypass)) || strchr(m->bypass, ' ') != NULL ||
	    (m->bypass[0] != '\0' && (m->bypass_uses < 1 || m->bypass_expires <= 0)))
		return twofa_fail(err, TWOFA_EINVAL,
				  "bypass code of %s needs a hash, uses >= 1 and an expiry", m->user);
	if (!terminated(m->invite, sizeof(m->invite)) || strchr(m->invite, ' ') != NULL ||
	    (m->invite[0] != '\0' && m->invite_expires <= 0))
		return twofa_fail(err, TWOFA_EINVAL, "invite of %s needs a hash and an expiry", m->user);
	if (!terminated(m->rate_limit_id, sizeof(m->rate_limit_id)) ||
	    !terminated(m->totp_entity, sizeof(m->totp_entity)) ||
	    !terminated(m->totp_factor, sizeof(m->totp_factor)))
		return twofa_fail(err, TWOFA_EINVAL, "an identifier of %s is not terminated", m->user);
	return TWOFA_OK;
}

static bool member_mods(const twofa_member *m, twofa_ldap_mods_kind kind, twofa_ldap_mods *mods)
{
	const char *recovery[TWOFA_MEMBER_RECOVERY_MAX];
	char version[VERSION_LEN + 1], bypass[160 + 1] = "", invite[140 + 1] = "";
	char bypass_time[TWOFA_LDAP_TIME_SIZE], invite_time[TWOFA_LDAP_TIME_SIZE];
	bool ok = true;

	for (size_t i = 0; i < m->recovery_count; i++)
		recovery[i] = m->recovery[i];
	snprintf(version, sizeof(version), "%llu", m->version);
	if (m->bypass[0] != '\0' && (!twofa_ldap_format_time(m->bypass_expires, bypass_time) ||
				     (size_t)snprintf(bypass, sizeof(bypass), "%s %ld %s", m->bypass,
						      m->bypass_uses, bypass_time) >= sizeof(bypass)))
		ok = false;
	if (m->invite[0] != '\0' &&
	    (!twofa_ldap_format_time(m->invite_expires, invite_time) ||
	     (size_t)snprintf(invite, sizeof(invite), "%s %s", m->invite, invite_time) >= sizeof(invite)))
		ok = false;
	ok = ok && mod_one(mods, kind, A_USER, m->user) && mod_one(mods, kind, A_EMAIL, m->email) &&
	     mod_one(mods, kind, A_PHONE, m->phone) && mod_one(mods, kind, A_COUNTRY, m->country) &&
	     mod_one(mods, kind, A_CHANNEL, twofa_channel_name(m->channel)) &&
	     mod_one(mods, kind, A_HASH, m->password_hash) &&
	     mod_one(mods, kind, A_STATUS, twofa_member_status_name(m->status)) &&
	     mod_time(mods, kind, A_CREATED, m->created, &ok) &&
	     mod_time(mods, kind, A_UPDATED, m->updated, &ok) &&
	     mod_time(mods, kind, A_VERIFIED, m->verified, &ok) && mod_one(mods, kind, A_VERSION, version) &&
	     mod_time(mods, kind, A_UNLOCKED, m->unlocked, &ok) &&
	     mod_attr(mods, kind, A_RECOVERY, recovery, m->recovery_count) &&
	     mod_one(mods, kind, A_BYPASS, bypass) && mod_one(mods, kind, A_INVITE, invite) &&
	     mod_one(mods, kind, A_RATE_LIMIT_ID, m->rate_limit_id) &&
	     mod_one(mods, kind, A_TOTP_ENTITY, m->totp_entity) &&
	     mod_one(mods, kind, A_TOTP_FACTOR, m->totp_factor);
	sodium_memzero(bypass, sizeof(bypass));
	sodium_memzero(invite, sizeof(invite));
	return ok;
}

/* Every twofa attribute to none (those absent stay absent without an
 * error), and the class value deleted: the entry itself stays. */
static bool remove_mods(twofa_ldap_mods *mods)
{
	for (int id = 0; id < A_COUNT; id++) {
		if (!mod_attr(mods, TWOFA_LDAP_MODS_REMOVE, (attr_id)id, NULL, 0))
			return false;
	}
	return mod_begin(mods, LDAP_MOD_DELETE, "objectClass") != NULL &&
	       mod_value(mods, TWOFA_LDAP_MEMBER_CLASS, strlen(TWOFA_LDAP_MEMBER_CLASS)) && mod_end(mods);
}

static bool class_mods(const twofa_member *m, twofa_ldap_mods_kind kind, twofa_ldap_mods *mods)
{
	if (kind == TWOFA_LDAP_MODS_CREATE)
		return mod_begin(mods, LDAP_MOD_ADD, "objectClass") != NULL &&
		       mod_value(mods, "account", strlen("account")) &&
		       mod_value(mods, TWOFA_LDAP_MEMBER_CLASS, strlen(TWOFA_LDAP_MEMBER_CLASS)) &&
		       mod_end(mods) && mod_begin(mods, LDAP_MOD_ADD, "uid") != NULL &&
		       mod_value(mods, m->user, strlen(m->user)) && mod_end(mods);
	return mod_begin(mods, LDAP_MOD_ADD, "objectClass") != NULL &&
	       mod_value(mods, TWOFA_LDAP_MEMBER_CLASS, strlen(TWOFA_LDAP_MEMBER_CLASS)) && mod_end(mods);
}

twofa_status twofa_ldap_member_mods(const twofa_member *m, twofa_ldap_mods_kind kind, twofa_ldap_mods *mods,
				    twofa_error *err)
{
	twofa_status st;
	bool ok;

	if (mods == NULL)
		return twofa_fail(err, TWOFA_EINVAL, "no place for the modifications");
	memset(mods, 0, sizeof(*mods));
	if (kind == TWOFA_LDAP_MODS_REMOVE) {
		ok = remove_mods(mods);
	} else {
		if ((st = twofa_member_validate(m, err)) != TWOFA_OK || (st = check_fixed(m, err)) != TWOFA_OK)
			return st;
		ok = (kind == TWOFA_LDAP_MODS_REPLACE || class_mods(m, kind, mods)) &&
		     member_mods(m, kind, mods);
	}
	if (!ok) {
		twofa_ldap_mods_clear(mods);
		return twofa_fail(err, TWOFA_EINVAL, "the record of %s does not fit in one modification",
				  m != NULL ? m->user : "the member");
	}
	mods->list[mods->n_mod] = NULL;
	return TWOFA_OK;
}

void twofa_ldap_mods_clear(twofa_ldap_mods *mods)
{
	if (mods != NULL)
		sodium_memzero(mods, sizeof(*mods));
}
