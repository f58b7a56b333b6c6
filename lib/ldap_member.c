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
#define USE_LEN 3 /* digits of TWOFA_MEMBER_BYPASS_USES_MAX */
_Static_assert(TWOFA_MEMBER_BYPASS_USES_MAX <= 999, "a use number fits USE_LEN digits");
/* One use of a bypass code: "<hash> <expires> <n>" or "<hash> <expires> <n> <issuer>"
 * (TWOFA_LDAP_BYPASS_VALUE_MAX, within the schema's {384}). */
#define BYPASS_LEN TWOFA_LDAP_BYPASS_VALUE_MAX
_Static_assert(BYPASS_LEN == CODE_HASH_LEN + 1 + TIME_LEN + 1 + USE_LEN + 1 + TWOFA_USER_NAME_MAX,
	       "the bypass value bound adds up");

/* Each attribute's name, the bytes one value may have (the model's bound,
 * never above the schema's), how many values it may have and whether a
 * member must have it (the class's MUST list, twofaVersion aside). */
static const struct attr_rule {
	const char *name;
	size_t max;
	size_t max_values;
	bool required;
} rules[A_COUNT] = {
	[A_USER] = {"twofaUser", TWOFA_USER_NAME_MAX, 1, true},
	[A_EMAIL] = {"twofaEmail", TWOFA_EMAIL_MAX, 1, false},
	[A_PHONE] = {"twofaPhone", TWOFA_E164_SIZE - 1, 1, false},
	[A_COUNTRY] = {"twofaCountry", 2, 1, false},
	[A_CHANNEL] = {"twofaChannel", 16, 1, true},
	[A_HASH] = {"twofaPasswordHash", TWOFA_MEMBER_HASH_MAX, 1, false},
	[A_STATUS] = {"twofaStatus", 16, 1, true},
	[A_CREATED] = {"twofaCreated", TIME_LEN, 1, true},
	[A_UPDATED] = {"twofaUpdated", TIME_LEN, 1, true},
	[A_VERIFIED] = {"twofaVerified", TIME_LEN, 1, false},
	[A_VERSION] = {"twofaVersion", VERSION_LEN, 1, false},
	[A_UNLOCKED] = {"twofaUnlockedAt", TIME_LEN, 1, false},
	[A_RECOVERY] = {"twofaRecoveryCode", CODE_HASH_LEN, TWOFA_MEMBER_RECOVERY_MAX, false},
	/* One value per remaining use, so that a login consumes one by deleting it. */
	[A_BYPASS] = {"twofaBypassCode", BYPASS_LEN, TWOFA_MEMBER_BYPASS_USES_MAX, false},
	/* "<hash> <time>": the schema's {140}. */
	[A_INVITE] = {"twofaInvite", 140, 1, false},
	[A_RATE_LIMIT_ID] = {"twofaRateLimitId", TWOFA_MEMBER_ID_SIZE - 1, 1, false},
	[A_TOTP_ENTITY] = {"twofaTotpEntity", TWOFA_MEMBER_ID_SIZE - 1, 1, false},
	[A_TOTP_FACTOR] = {"twofaTotpFactor", TWOFA_MEMBER_SID_SIZE - 1, 1, false},
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

	if (n > 1 && r->max_values == 1)
		return twofa_fail(err, TWOFA_ESTORE, "attribute %s has %zu values but is single-valued",
				  r->name, n);
	if (n > r->max_values)
		return twofa_fail(err, TWOFA_ESTORE, "attribute %s has %zu values, more than %zu", r->name, n,
				  r->max_values);
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

/* "<hash> <time>" (the invite). */
static twofa_status invite_value(const struct attr_rule *r, struct berval **values,
				 char hash[TWOFA_MEMBER_CODE_HASH_SIZE], time_t *expires, twofa_error *err)
{
	char text[140 + 1];
	char *space;
	twofa_status st = TWOFA_OK;

	if (values == NULL || values[0] == NULL)
		return TWOFA_OK;
	value_text(values[0], text, sizeof(text));
	space = strchr(text, ' ');
	if (space == NULL || space == text || (size_t)(space - text) > CODE_HASH_LEN ||
	    strchr(space + 1, ' ') != NULL)
		st = twofa_fail(err, TWOFA_ESTORE, "attribute %s is not \"<hash> <time>\"", r->name);
	else if (!twofa_ldap_parse_time(space + 1, strlen(space + 1), expires))
		st = twofa_fail(err, TWOFA_ESTORE, "attribute %s has an expiry that is not a UTC time",
				r->name);
	else {
		*space = '\0';
		twofa_strlcpy(hash, text, TWOFA_MEMBER_CODE_HASH_SIZE);
	}
	sodium_memzero(text, sizeof(text));
	return st;
}

/* One bypass value split in place: "<hash> <expires> <n>[ <issuer>]", n
 * 1..TWOFA_MEMBER_BYPASS_USES_MAX in plain decimal, the issuer (the rest of
 * the value, spaces and all) a valid login name. */
typedef struct bypass_use {
	const char *hash, *issuer;
	time_t expires;
	long n;
} bypass_use;

static bool bypass_split(char *text, bypass_use *u)
{
	char *expires, *n, *issuer;
	size_t digits_len;

	if ((expires = strchr(text, ' ')) == NULL || expires == text ||
	    (size_t)(expires - text) > CODE_HASH_LEN)
		return false;
	*expires++ = '\0';
	if (strlen(expires) < TIME_LEN + 2 || expires[TIME_LEN] != ' ' ||
	    !twofa_ldap_parse_time(expires, TIME_LEN, &u->expires))
		return false;
	n = expires + TIME_LEN + 1;
	issuer = strchr(n, ' ');
	digits_len = issuer != NULL ? (size_t)(issuer - n) : strlen(n);
	if (issuer != NULL)
		*issuer++ = '\0';
	if (digits_len < 1 || digits_len > USE_LEN || n[0] == '0' || strspn(n, "0123456789") != digits_len ||
	    !twofa_parse_long(n, 1, TWOFA_MEMBER_BYPASS_USES_MAX, &u->n))
		return false;
	if (issuer != NULL && !twofa_user_name_valid(issuer))
		return false;
	u->hash = text;
	u->issuer = issuer != NULL ? issuer : "";
	return true;
}

/* The values of twofaBypassCode, one per remaining use: every value the
 * same hash, expiry and issuer, each with its own use number (deleting one
 * value, whichever, is one use consumed). uses is their count. */
static twofa_status bypass_values(const struct attr_rule *r, struct berval **values, twofa_member *m,
				  twofa_error *err)
{
	char text[BYPASS_LEN + 1];
	bool seen[TWOFA_MEMBER_BYPASS_USES_MAX + 1] = {false};
	size_t n = count_values(values);
	twofa_status st = TWOFA_OK;

	for (size_t i = 0; i < n && st == TWOFA_OK; i++) {
		bypass_use u;

		value_text(values[i], text, sizeof(text));
		if (!bypass_split(text, &u))
			st = twofa_fail(err, TWOFA_ESTORE,
					"attribute %s has a value that is not \"<hash> <time> <use>[ <issuer>]\"",
					r->name);
		else if (i == 0) {
			twofa_strlcpy(m->bypass, u.hash, sizeof(m->bypass));
			twofa_strlcpy(m->bypass_issuer, u.issuer, sizeof(m->bypass_issuer));
			m->bypass_expires = u.expires;
		} else if (strcmp(m->bypass, u.hash) != 0 || strcmp(m->bypass_issuer, u.issuer) != 0 ||
			   m->bypass_expires != u.expires)
			st = twofa_fail(err, TWOFA_ESTORE,
					"attribute %s has values that disagree on the hash, expiry or issuer",
					r->name);
		if (st == TWOFA_OK && seen[u.n])
			st = twofa_fail(err, TWOFA_ESTORE, "attribute %s has a use number twice", r->name);
		if (st == TWOFA_OK)
			seen[u.n] = true;
	}
	m->bypass_uses = st == TWOFA_OK ? (long)n : 0;
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
	if ((st = bypass_values(&rules[A_BYPASS], got[A_BYPASS], m, err)) != TWOFA_OK ||
	    (st = invite_value(&rules[A_INVITE], got[A_INVITE], m->invite, &m->invite_expires, err)) !=
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
	if (!terminated(m->bypass_issuer, sizeof(m->bypass_issuer)))
		return twofa_fail(err, TWOFA_EINVAL, "bypass code issuer of %s is not terminated", m->user);
	if (!terminated(m->invite, sizeof(m->invite)) || strchr(m->invite, ' ') != NULL ||
	    (m->invite[0] != '\0' && m->invite_expires <= 0))
		return twofa_fail(err, TWOFA_EINVAL, "invite of %s needs a hash and an expiry", m->user);
	if (!terminated(m->rate_limit_id, sizeof(m->rate_limit_id)) ||
	    !terminated(m->totp_entity, sizeof(m->totp_entity)) ||
	    !terminated(m->totp_factor, sizeof(m->totp_factor)))
		return twofa_fail(err, TWOFA_EINVAL, "an identifier of %s is not terminated", m->user);
	return TWOFA_OK;
}

/* Every twofa attribute of a member as it is stored, in text form: values
 * of one attribute next to each other. It holds the password hash: wipe it. */
#define MEMBER_VALUES_MAX (A_COUNT + TWOFA_MEMBER_RECOVERY_MAX + TWOFA_MEMBER_BYPASS_USES_MAX)
typedef struct member_values {
	size_t first[A_COUNT], count[A_COUNT];
	const char *v[MEMBER_VALUES_MAX];
	size_t n_v, n_text;
	char text[TWOFA_MEMBER_BYPASS_USES_MAX * (BYPASS_LEN + 1) + 4096];
} member_values;

/* Appends a value of id ("" or NULL: none). */
static bool value_put(member_values *mv, attr_id id, const char *value)
{
	size_t len;

	if (value == NULL || value[0] == '\0')
		return true;
	len = strlen(value);
	if (mv->n_v >= MEMBER_VALUES_MAX || len >= sizeof(mv->text) - mv->n_text)
		return false;
	if (mv->count[id] == 0)
		mv->first[id] = mv->n_v;
	memcpy(mv->text + mv->n_text, value, len + 1);
	mv->v[mv->n_v++] = mv->text + mv->n_text;
	mv->n_text += len + 1;
	mv->count[id]++;
	return true;
}

static bool time_put(member_values *mv, attr_id id, time_t t)
{
	char buf[TWOFA_LDAP_TIME_SIZE];

	return t == 0 || (twofa_ldap_format_time(t, buf) && value_put(mv, id, buf));
}

/* "<hash> <expires> <n>[ <issuer>]" for n = 1..uses: one value per use. */
static bool bypass_put(member_values *mv, const twofa_member *m)
{
	char when[TWOFA_LDAP_TIME_SIZE], value[BYPASS_LEN + 1];
	bool ok = true;

	if (m->bypass[0] == '\0')
		return true;
	if (!twofa_ldap_format_time(m->bypass_expires, when))
		return false;
	for (long n = 1; ok && n <= m->bypass_uses; n++)
		ok = (size_t)snprintf(value, sizeof(value), "%s %s %ld%s%s", m->bypass, when, n,
				      m->bypass_issuer[0] != '\0' ? " " : "",
				      m->bypass_issuer) < sizeof(value) &&
		     value_put(mv, A_BYPASS, value);
	return ok;
}

static bool member_values_fill(const twofa_member *m, member_values *mv)
{
	char version[VERSION_LEN + 1] = "", when[TWOFA_LDAP_TIME_SIZE], invite[140 + 1] = "";
	bool ok = true;

	memset(mv, 0, sizeof(*mv));
	if (m->version != 0)
		snprintf(version, sizeof(version), "%llu", m->version);
	if (m->invite[0] != '\0' &&
	    (!twofa_ldap_format_time(m->invite_expires, when) ||
	     (size_t)snprintf(invite, sizeof(invite), "%s %s", m->invite, when) >= sizeof(invite)))
		ok = false;
	ok = ok && value_put(mv, A_USER, m->user) && value_put(mv, A_EMAIL, m->email) &&
	     value_put(mv, A_PHONE, m->phone) && value_put(mv, A_COUNTRY, m->country) &&
	     value_put(mv, A_CHANNEL, twofa_channel_name(m->channel)) &&
	     value_put(mv, A_HASH, m->password_hash) &&
	     value_put(mv, A_STATUS, twofa_member_status_name(m->status)) &&
	     time_put(mv, A_CREATED, m->created) && time_put(mv, A_UPDATED, m->updated) &&
	     time_put(mv, A_VERIFIED, m->verified) && value_put(mv, A_VERSION, version) &&
	     time_put(mv, A_UNLOCKED, m->unlocked);
	for (size_t i = 0; ok && i < m->recovery_count; i++)
		ok = value_put(mv, A_RECOVERY, m->recovery[i]);
	ok = ok && bypass_put(mv, m) && value_put(mv, A_INVITE, invite) &&
	     value_put(mv, A_RATE_LIMIT_ID, m->rate_limit_id) &&
	     value_put(mv, A_TOTP_ENTITY, m->totp_entity) && value_put(mv, A_TOTP_FACTOR, m->totp_factor);
	sodium_memzero(invite, sizeof(invite));
	return ok;
}

static const char *const *values_of(const member_values *mv, attr_id id)
{
	return &mv->v[mv->first[id]];
}

static bool member_mods(const member_values *mv, twofa_ldap_mods_kind kind, twofa_ldap_mods *mods)
{
	for (int id = 0; id < A_COUNT; id++) {
		if (!mod_attr(mods, kind, (attr_id)id, values_of(mv, (attr_id)id), mv->count[id]))
			return false;
	}
	return true;
}

static bool has_value(const member_values *mv, attr_id id, const char *value)
{
	for (size_t i = 0; i < mv->count[id]; i++) {
		if (strcmp(values_of(mv, id)[i], value) == 0)
			return true;
	}
	return false;
}

/* The values of id in from and not in other, as one modification of op. */
static bool mod_missing(twofa_ldap_mods *mods, int op, attr_id id, const member_values *from,
			const member_values *other)
{
	if (mod_begin(mods, op, rules[id].name) == NULL)
		return false;
	for (size_t i = 0; i < from->count[id]; i++) {
		const char *v = values_of(from, id)[i];

		if (!has_value(other, id, v) && !mod_value(mods, v, strlen(v)))
			return false;
	}
	return mod_end(mods);
}

/* Nothing for an attribute whose values did not change; a replace when no
 * value stays; else the exact values removed and added, so that a value
 * another writer deleted meanwhile (a code a login consumed) makes the
 * modify fail instead of coming back. */
static bool change_mods(const member_values *was, const member_values *now, twofa_ldap_mods *mods)
{
	for (int i = 0; i < A_COUNT; i++) {
		attr_id id = (attr_id)i;
		size_t kept = 0;

		for (size_t v = 0; v < now->count[id]; v++)
			kept += has_value(was, id, values_of(now, id)[v]) ? 1 : 0;
		if (kept == now->count[id] && kept == was->count[id])
			continue;
		if (kept == 0) {
			if (!mod_attr(mods, TWOFA_LDAP_MODS_REPLACE, id, values_of(now, id), now->count[id]))
				return false;
			continue;
		}
		if ((was->count[id] > kept && !mod_missing(mods, LDAP_MOD_DELETE, id, was, now)) ||
		    (now->count[id] > kept && !mod_missing(mods, LDAP_MOD_ADD, id, now, was)))
			return false;
	}
	return true;
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

static twofa_status too_big(twofa_ldap_mods *mods, const twofa_member *m, twofa_error *err)
{
	twofa_ldap_mods_clear(mods);
	return twofa_fail(err, TWOFA_EINVAL, "the record of %s does not fit in one modification",
			  m != NULL ? m->user : "the member");
}

twofa_status twofa_ldap_member_mods(const twofa_member *m, twofa_ldap_mods_kind kind, twofa_ldap_mods *mods,
				    twofa_error *err)
{
	member_values *mv = NULL;
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
		if ((mv = malloc(sizeof(*mv))) == NULL)
			return twofa_fail(err, TWOFA_ENOMEM, "out of memory");
		ok = member_values_fill(m, mv) &&
		     (kind == TWOFA_LDAP_MODS_REPLACE || class_mods(m, kind, mods)) &&
		     member_mods(mv, kind, mods);
		twofa_free_wiped(mv, sizeof(*mv));
	}
	if (!ok)
		return too_big(mods, m, err);
	mods->list[mods->n_mod] = NULL;
	return TWOFA_OK;
}

twofa_status twofa_ldap_member_change_mods(const twofa_member *was, const twofa_member *m,
					   twofa_ldap_mods *mods, twofa_error *err)
{
	member_values *before, *after;
	twofa_status st;
	bool ok;

	if (mods == NULL || was == NULL)
		return twofa_fail(err, TWOFA_EINVAL, "no place for the modifications, or no record read");
	memset(mods, 0, sizeof(*mods));
	if ((st = twofa_member_validate(m, err)) != TWOFA_OK || (st = check_fixed(m, err)) != TWOFA_OK)
		return st;
	before = malloc(sizeof(*before));
	after = malloc(sizeof(*after));
	if (before == NULL || after == NULL) {
		free(before);
		free(after);
		return twofa_fail(err, TWOFA_ENOMEM, "out of memory");
	}
	ok = member_values_fill(was, before) && member_values_fill(m, after) &&
	     change_mods(before, after, mods);
	twofa_free_wiped(before, sizeof(*before));
	twofa_free_wiped(after, sizeof(*after));
	if (!ok)
		return too_big(mods, m, err);
	mods->list[mods->n_mod] = NULL;
	return TWOFA_OK;
}

twofa_status twofa_ldap_member_enrol_mods(const twofa_member *was, const twofa_member *m,
					  const char *invite_value, size_t len, twofa_ldap_mods *mods,
					  twofa_error *err)
{
	twofa_member before;
	twofa_status st;

	if (was == NULL || m == NULL || mods == NULL || invite_value == NULL || len == 0 ||
	    len > rules[A_INVITE].max || m->invite[0] != '\0')
		return twofa_fail(err, TWOFA_EINVAL, "no invited record, member or invite value to enrol");
	/* The change from the record without its invite: the invite is not
	 * replaced to none but deleted by its exact value, last. */
	before = *was; /* shallow: only the invite differs */
	before.invite[0] = '\0';
	before.invite_expires = 0;
	st = twofa_ldap_member_change_mods(&before, m, mods, err);
	sodium_memzero(&before, sizeof(before));
	if (st != TWOFA_OK)
		return st;
	if (mod_begin(mods, LDAP_MOD_DELETE, rules[A_INVITE].name) == NULL ||
	    !mod_value(mods, invite_value, len) || !mod_end(mods))
		return too_big(mods, m, err);
	mods->list[mods->n_mod] = NULL;
	return TWOFA_OK;
}

void twofa_ldap_mods_clear(twofa_ldap_mods *mods)
{
	if (mods != NULL)
		sodium_memzero(mods, sizeof(*mods));
}
