/* SPDX-License-Identifier: GPL-3.0-or-later */
/* lib/ldap_member: a member as twofaMember attributes and back, with the
 * faults a lax or foreign directory can hold (oversized values, two values
 * in a single-valued attribute, another member's twofaUser, bad times and
 * encodings). No server: entries are built here as libldap would give them. */
#include "twofa_build.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "ldap_member.h"
#include "member_fixture.h"
#include "tap.h"
#include "util.h"

#define HASH MEMBER_FIXTURE_HASH
#define same_member member_fixture_same
#define CODE \
	"b2$00112233445566778899aabbccddeeff$0011223344556677889900112233445566778899001122334455667788990011"
#define CODE2 \
	"b2$ffeeddccbbaa99887766554433221100$abababababababababababababababababababababababababababababababab"
#define CODE3 \
	"b2$0123456789abcdef0123456789abcdef$cdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcd"

/* fill()'s bypass code: one value per use. */
#define BYPASS_VALUE(n) CODE " 20251124170000Z " n " root admin"
static const char *const BYPASS_USES[] = {BYPASS_VALUE("1"), BYPASS_VALUE("2"), BYPASS_VALUE("3")};

/* An entry as ldap_get_values_len gives it: names and NULL-terminated values. */
#define ENTRY_ATTRS 32
#define ENTRY_VALUES (TWOFA_MEMBER_BYPASS_USES_MAX + 4)
typedef struct entry {
	size_t n;
	twofa_ldap_attr attr[ENTRY_ATTRS];
	struct berval *valp[ENTRY_ATTRS][ENTRY_VALUES + 1];
	struct berval val[ENTRY_ATTRS][ENTRY_VALUES];
	char name[ENTRY_ATTRS][64];
	char text[ENTRY_ATTRS][ENTRY_VALUES][512];
} entry;

static entry e;

/* Distinct well-formed code hashes ("b2$" 32 hex "$" 64 hex). */
static char codes[TWOFA_MEMBER_RECOVERY_MAX + 1][TWOFA_MEMBER_CODE_HASH_SIZE];

static void make_codes(void)
{
	for (int i = 0; i <= TWOFA_MEMBER_RECOVERY_MAX; i++)
		snprintf(codes[i], sizeof(codes[i]), "b2$%032x$%064x", i + 1, i + 1);
}

static int find(const char *name)
{
	for (size_t i = 0; i < e.n; i++) {
		if (strcasecmp(e.attr[i].name, name) == 0)
			return (int)i;
	}
	return -1;
}

/* Sets name to the count values (len bytes each; len 0: strlen). */
static void set_bytes(const char *name, const char *const *values, const size_t *lens, size_t count)
{
	int i = find(name);

	if (i < 0) {
		i = (int)e.n++;
		snprintf(e.name[i], sizeof(e.name[i]), "%s", name);
		e.attr[i].name = e.name[i];
	}
	for (size_t v = 0; v < count; v++) {
		size_t len = lens != NULL ? lens[v] : strlen(values[v]);

		memcpy(e.text[i][v], values[v], len);
		e.val[i][v].bv_val = e.text[i][v];
		e.val[i][v].bv_len = len;
		e.valp[i][v] = &e.val[i][v];
	}
	e.valp[i][count] = NULL;
	e.attr[i].values = e.valp[i];
}

static void set(const char *name, const char *value)
{
	set_bytes(name, &value, NULL, 1);
}

static void set2(const char *name, const char *a, const char *b)
{
	const char *values[] = {a, b};

	set_bytes(name, values, NULL, 2);
}

static void unset(const char *name)
{
	int i = find(name);

	if (i < 0)
		return;
	e.n--;
	for (size_t j = (size_t)i; j < e.n; j++) {
		/* Move the attribute down, repointing its values at their new slot. */
		memcpy(e.name[j], e.name[j + 1], sizeof(e.name[j]));
		memcpy(e.text[j], e.text[j + 1], sizeof(e.text[j]));
		for (size_t v = 0; v <= ENTRY_VALUES; v++) {
			e.valp[j][v] = e.valp[j + 1][v] != NULL ? &e.val[j][v] : NULL;
			if (v < ENTRY_VALUES) {
				e.val[j][v].bv_len = e.val[j + 1][v].bv_len;
				e.val[j][v].bv_val = e.text[j][v];
			}
		}
		e.attr[j].name = e.name[j];
		e.attr[j].values = e.valp[j];
	}
}

/* A member with every field set, as lib/member.h allows (the shared alice,
 * with values good_entry below spells out as the directory holds them). */
static void fill(twofa_member *m)
{
	member_fixture_fill(m);
	m->channel = TWOFA_CHANNEL_WHATSAPP;
	m->status = TWOFA_MEMBER_PENDING;
	m->version = 7;
	m->unlocked = 1764000070;
	m->recovery_count = 2;
	strcpy(m->recovery[0], CODE);
	strcpy(m->recovery[1], CODE2);
	strcpy(m->bypass, CODE);
	m->bypass_uses = 3;
	m->bypass_expires = 1764003600;
	strcpy(m->bypass_issuer, "root admin"); /* a space: the issuer is the value's tail */
	strcpy(m->invite, CODE3);
	m->invite_expires = 1764007200;
	strcpy(m->rate_limit_id, "rl_alice-1");
	strcpy(m->totp_entity, "0f3a9c");
	strcpy(m->totp_factor, "YF00112233445566778899aabbccddeeff");
}

/* The entry of fill()'s member, as the directory would hold it. */
static void good_entry(void)
{
	memset(&e, 0, sizeof(e));
	set2("objectClass", "inetOrgPerson", "twofaMember");
	set("uid", "alice");
	set("twofaUser", "alice");
	set("twofaEmail", "alice@example.org");
	set("twofaPhone", "+447911123456");
	set("twofaCountry", "GB");
	set("twofaChannel", "whatsapp");
	set("twofaPasswordHash", HASH);
	set("twofaStatus", "pending");
	set("twofaCreated", "20251124160000Z");
	set("twofaUpdated", "20251124160140Z");
	set("twofaVerified", "20251124160050Z");
	set("twofaVersion", "7");
	set("twofaUnlockedAt", "20251124160110Z");
	set2("twofaRecoveryCode", CODE, CODE2);
	set_bytes("twofaBypassCode", BYPASS_USES, NULL, 3);
	set("twofaInvite", CODE3 " 20251124180000Z");
	set("twofaRateLimitId", "rl_alice-1");
	set("twofaTotpEntity", "0f3a9c");
	set("twofaTotpFactor", "YF00112233445566778899aabbccddeeff");
}

static twofa_status decode_as(const char *user, twofa_member *m, twofa_error *err)
{
	return twofa_ldap_member_decode(e.attr, e.n, user, m, err);
}

static bool is_empty(const twofa_member *m)
{
	static const twofa_member zero;

	return memcmp(m, &zero, sizeof(zero)) == 0;
}

/* The entry a modification list would make on an empty one. */
static void entry_from_mods(const twofa_ldap_mods *mods)
{
	memset(&e, 0, sizeof(e));
	for (size_t i = 0; mods->list[i] != NULL; i++) {
		const char *values[ENTRY_VALUES];
		size_t lens[ENTRY_VALUES], n = 0;

		for (; mods->list[i]->mod_bvalues[n] != NULL; n++) {
			values[n] = mods->list[i]->mod_bvalues[n]->bv_val;
			lens[n] = mods->list[i]->mod_bvalues[n]->bv_len;
		}
		if (n > 0)
			set_bytes(mods->list[i]->mod_type, values, lens, n);
	}
}

static const LDAPMod *mod_named(const twofa_ldap_mods *mods, const char *name)
{
	for (size_t i = 0; mods->list[i] != NULL; i++) {
		if (strcmp(mods->list[i]->mod_type, name) == 0)
			return mods->list[i];
	}
	return NULL;
}

static size_t mod_count(const twofa_ldap_mods *mods)
{
	size_t n = 0;

	while (mods->list[n] != NULL)
		n++;
	return n;
}

static size_t value_count(const LDAPMod *mod)
{
	size_t n = 0;

	while (mod->mod_bvalues != NULL && mod->mod_bvalues[n] != NULL)
		n++;
	return n;
}

static bool mod_has(const LDAPMod *mod, const char *value)
{
	for (size_t i = 0; mod != NULL && i < value_count(mod); i++) {
		if (mod->mod_bvalues[i]->bv_len == strlen(value) &&
		    memcmp(mod->mod_bvalues[i]->bv_val, value, strlen(value)) == 0)
			return true;
	}
	return false;
}

static void test_decode_good(void)
{
	twofa_member want, m;
	twofa_error err = {TWOFA_OK, ""};

	fill(&want);
	good_entry();
	ok(decode_as("alice", &m, &err) == TWOFA_OK, "every attribute decodes: %s", err.msg);
	ok(same_member(&m, &want), "into every field of the model");
	twofa_member_free(&m);

	ok(decode_as(NULL, &m, &err) == TWOFA_OK && strcmp(m.user, "alice") == 0,
	   "without a name to match (a walk), twofaUser is the name");
	twofa_member_free(&m);

	/* Attribute descriptions are case-insensitive; values are not. */
	strcpy(e.name[find("twofaUser")], "TWOFAUSER");
	strcpy(e.name[find("twofaVersion")], "twofaversion");
	ok(decode_as("alice", &m, &err) == TWOFA_OK, "attribute names match in any case");
	twofa_member_free(&m);

	good_entry();
	set("description", "an attribute not ours");
	set2("mail", "a@example.org", "b@example.org");
	ok(decode_as("alice", &m, &err) == TWOFA_OK, "other attributes are ignored");
	twofa_member_free(&m);

	/* The MAY attributes may be absent. */
	good_entry();
	unset("twofaVerified");
	unset("twofaUnlockedAt");
	unset("twofaRecoveryCode");
	unset("twofaBypassCode");
	unset("twofaInvite");
	unset("twofaRateLimitId");
	unset("twofaTotpEntity");
	unset("twofaTotpFactor");
	unset("twofaEmail");
	ok(decode_as("alice", &m, &err) == TWOFA_OK, "optional attributes absent: %s", err.msg);
	ok(m.verified == 0 && m.unlocked == 0 && m.recovery_count == 0 && m.bypass[0] == '\0' &&
		   m.invite[0] == '\0' && m.rate_limit_id[0] == '\0' && m.totp_entity[0] == '\0' &&
		   m.totp_factor[0] == '\0' && m.email == NULL,
	   "read as the zero values");
	twofa_member_free(&m);

	/* An app member: codes by email, no phone, no twofa password. */
	good_entry();
	set("twofaChannel", "email");
	unset("twofaPhone");
	unset("twofaCountry");
	unset("twofaPasswordHash");
	ok(decode_as("alice", &m, &err) == TWOFA_OK && m.phone[0] == '\0' && m.country[0] == '\0' &&
		   m.password_hash == NULL && m.channel == TWOFA_CHANNEL_EMAIL,
	   "a member without phone and password hash: %s", err.msg);
	{
		twofa_ldap_mods mods;

		ok(twofa_ldap_member_mods(&m, TWOFA_LDAP_MODS_ADD_CLASS, &mods, &err) == TWOFA_OK &&
			   mod_named(&mods, "twofaPhone") == NULL &&
			   mod_named(&mods, "twofaCountry") == NULL &&
			   mod_named(&mods, "twofaPasswordHash") == NULL,
		   "and adding it writes none of them: %s", err.msg);
		twofa_ldap_mods_clear(&mods);
	}
	twofa_member_free(&m);

	good_entry();
	unset("twofaVersion");
	ok(decode_as("alice", &m, &err) == TWOFA_OK && m.version == 0, "no twofaVersion reads as version 0");
	twofa_member_free(&m);

	good_entry();
	set("twofaVersion", "9223372036854775807");
	ok(decode_as("alice", &m, &err) == TWOFA_OK && m.version == 9223372036854775807ULL,
	   "a version of 2^63 - 1 reads");
	twofa_member_free(&m);

	good_entry();
	{
		const char *values[TWOFA_MEMBER_RECOVERY_MAX];

		for (size_t i = 0; i < TWOFA_MEMBER_RECOVERY_MAX; i++)
			values[i] = codes[i];
		set_bytes("twofaRecoveryCode", values, NULL, TWOFA_MEMBER_RECOVERY_MAX);
		ok(decode_as("alice", &m, &err) == TWOFA_OK && m.recovery_count == TWOFA_MEMBER_RECOVERY_MAX,
		   "%d recovery codes read", TWOFA_MEMBER_RECOVERY_MAX);
		twofa_member_free(&m);
	}
	twofa_member_free(&want);
}

/* Expects the entry to fail with status, the message naming what. */
static void expect_fail(const char *user, twofa_status status, const char *what, const char *label)
{
	twofa_member m;
	twofa_error err = {TWOFA_OK, ""};
	twofa_status st;

	memset(&err, 0, sizeof(err));
	st = decode_as(user, &m, &err);
	ok(st == status && strstr(err.msg, what) != NULL && is_empty(&m), "%s: %s (%s)", label, err.msg,
	   twofa_status_name(st));
	twofa_member_free(&m);
}

/* Each attribute's bound, one byte over it is an error naming it. */
static void test_oversized(void)
{
	static const struct {
		const char *name;
		size_t max;
	} bounds[] = {
		{"twofaUser", 256},         {"twofaEmail", 254},      {"twofaPhone", 16},
		{"twofaCountry", 2},        {"twofaChannel", 16},     {"twofaPasswordHash", 127},
		{"twofaStatus", 16},        {"twofaCreated", 15},     {"twofaUpdated", 15},
		{"twofaVerified", 15},      {"twofaVersion", 20},     {"twofaUnlockedAt", 15},
		{"twofaRecoveryCode", 100}, {"twofaBypassCode", 160}, {"twofaInvite", 140},
		{"twofaRateLimitId", 64},   {"twofaTotpEntity", 64},  {"twofaTotpFactor", 34},
	};
	char big[512];

	for (size_t i = 0; i < sizeof(bounds) / sizeof(bounds[0]); i++) {
		char label[96];

		good_entry();
		memset(big, 'x', sizeof(big));
		big[bounds[i].max + 1] = '\0';
		set(bounds[i].name, big);
		snprintf(label, sizeof(label), "%s of %zu bytes", bounds[i].name, bounds[i].max + 1);
		expect_fail("alice", TWOFA_ESTORE, bounds[i].name, label);
	}
	good_entry();
	memset(big, 'x', sizeof(big));
	big[sizeof(big) - 1] = '\0';
	set("twofaUser", big);
	expect_fail(NULL, TWOFA_ESTORE, "longer than 256", "a 511-byte twofaUser, no name to match");

	good_entry();
	{
		const char *values[TWOFA_MEMBER_RECOVERY_MAX + 1];

		for (size_t i = 0; i <= TWOFA_MEMBER_RECOVERY_MAX; i++)
			values[i] = codes[i];
		set_bytes("twofaRecoveryCode", values, NULL, TWOFA_MEMBER_RECOVERY_MAX + 1);
		expect_fail("alice", TWOFA_ESTORE, "twofaRecoveryCode", "21 recovery codes");
	}
}

static void test_single_valued(void)
{
	static const char *const single[] = {
		"twofaUser",         "twofaEmail",      "twofaPhone",      "twofaCountry", "twofaChannel",
		"twofaPasswordHash", "twofaStatus",     "twofaCreated",    "twofaUpdated", "twofaVerified",
		"twofaVersion",      "twofaUnlockedAt", "twofaBypassCode", "twofaInvite",  "twofaRateLimitId",
		"twofaTotpEntity",   "twofaTotpFactor",
	};

	for (size_t i = 0; i < sizeof(single) / sizeof(single[0]); i++) {
		int at;
		const char *values[2];
		char label[96];

		good_entry();
		at = find(single[i]);
		/* The same good value twice: only the count is wrong. */
		values[0] = values[1] = e.text[at][0];
		set_bytes(single[i], values, NULL, 2);
		snprintf(label, sizeof(label), "two values in %s", single[i]);
		expect_fail("alice", TWOFA_ESTORE, single[i], label);
	}
	good_entry();
	set2("twofaUser", "alice", "mallory");
	expect_fail(NULL, TWOFA_ESTORE, "single-valued", "two twofaUser values, no name to match");
}

static void test_user_match(void)
{
	twofa_member m;
	twofa_error err = {TWOFA_OK, ""};

	good_entry();
	expect_fail("Alice", TWOFA_ENOTFOUND, "another member",
		    "search for Alice finds alice: not the member");
	expect_fail("ALICE", TWOFA_ENOTFOUND, "another member", "ALICE is not alice");
	expect_fail("alic", TWOFA_ENOTFOUND, "another member", "a prefix is not the name");
	expect_fail("alice2", TWOFA_ENOTFOUND, "another member", "a longer name is not the name");
	set("twofaUser", "Alice");
	expect_fail("alice", TWOFA_ENOTFOUND, "another member", "twofaUser Alice is not alice");
	ok(decode_as("Alice", &m, &err) == TWOFA_OK && strcmp(m.user, "Alice") == 0,
	   "twofaUser Alice is the member Alice");
	twofa_member_free(&m);
}

static void test_times(void)
{
	static const char *const bad[] = {
		"2025112416000Z",      /* 14 characters */
		"20251124160000",      /* no Z */
		"20251124160000z",     /* lower-case z */
		"20250230120000Z",     /* Feb 30 */
		"20251124240000Z",     /* hour 24 */
		"20251124166000Z",     /* minute 60 */
		"20251124160060Z",     /* leap second */
		"20251324160000Z",     /* month 13 */
		"20251100160000Z",     /* day 0 */
		"20251124160000+0100", /* an offset */
		"20251124160000.5Z",   /* a fraction */
		"202511241600Z",       /* no seconds */
		"2025112416000aZ",     /* a letter */
		" 0251124160000Z",     /* a blank */
		"-0251124160000Z",     /* a sign */
	};
	static const char *const fields[] = {"twofaCreated", "twofaUpdated", "twofaVerified",
					     "twofaUnlockedAt"};
	char buf[TWOFA_LDAP_TIME_SIZE];
	time_t t = 0;

	ok(twofa_ldap_format_time(1764000000, buf) && strcmp(buf, "20251124160000Z") == 0, "format %s", buf);
	ok(twofa_ldap_parse_time("20251124160000Z", 15, &t) && t == 1764000000, "parse it back");
	ok(twofa_ldap_parse_time("20240229235959Z", 15, &t), "Feb 29 of a leap year parses");
	ok(!twofa_ldap_parse_time("20230229235959Z", 15, &t), "Feb 29 of another year does not");
	ok(!twofa_ldap_parse_time("20251124160000Z", 14, &t), "the length counts, not a NUL");
	ok(!twofa_ldap_format_time((time_t)253402300800LL, buf), "year 10000 has no 4-digit form");
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		ok(!twofa_ldap_parse_time(bad[i], strlen(bad[i]), &t), "time \"%s\" refused", bad[i]);
		if (strlen(bad[i]) <= 15) {
			char label[96];

			good_entry();
			set(fields[i % 4], bad[i]);
			snprintf(label, sizeof(label), "%s \"%s\"", fields[i % 4], bad[i]);
			expect_fail("alice", TWOFA_ESTORE, fields[i % 4], label);
		}
	}
	good_entry();
	set("twofaCreated", "19991231235959Z");
	expect_fail("alice", TWOFA_ESTORE, "created", "a time before 2000 fails the model's check");
	good_entry();
	set("twofaUpdated", "20251124155959Z");
	expect_fail("alice", TWOFA_ESTORE, "created", "updated before created fails the model's check");
}

/* Each of the n values of name, alone in a good entry, fails naming name. */
static void expect_each_fails(const char *name, const char *const *values, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		char label[96];

		good_entry();
		set(name, values[i]);
		snprintf(label, sizeof(label), "%s value %zu (%.40s)", name, i, values[i]);
		expect_fail("alice", TWOFA_ESTORE, name, label);
	}
}

static void test_encodings(void)
{
	static const char *const versions[] =
		{"0", "-1", "+1", "01", "1a", " 1", "18446744073709551616", "99999999999999999999"};
	static const char *const bypass[] = {
		CODE,                          /* no expiry, no use */
		CODE " 20251124170000Z",       /* no use number */
		CODE " 20251124170000Z 0",     /* use 0 */
		CODE " 20251124170000Z -1",    /* negative */
		CODE " 20251124170000Z x",     /* not a number */
		CODE " 20251124170000Z 01",    /* a leading zero */
		CODE " 20251124170000Z 101",   /* beyond the most uses */
		CODE " 20251124170000Z 1000",  /* four digits */
		CODE " 20251124170000Z 1 ",    /* an empty issuer */
		CODE " 20251124170000Z 1 a/b", /* an issuer that is no login name */
		CODE " 20251124170000Z 1 a:b", /* another */
		CODE " 3 20251124170000Z",     /* the old "<hash> <uses> <time>" */
		CODE "  20251124170000Z 1",    /* two spaces */
		" 20251124170000Z 1",          /* no hash */
		CODE " 20251124170000 1",      /* expiry without Z */
		CODE " 20251324170000Z 1",     /* month 13 */
		CODE "x 20251124170000Z 1",    /* hash of 101 bytes */
		CODE " 20251124170000Z1",      /* no space before the use */
	};
	static const char *const invite[] = {
		CODE3,                      /* no expiry */
		CODE3 " 3 20251124180000Z", /* a third field */
		CODE3 " 2025112418000Z",    /* short time */
		" 20251124180000Z",         /* no hash */
		CODE3 "  20251124180000Z",  /* two spaces */
		CODE3 " 20251124180000Z ",  /* trailing space */
	};
	static const char *const words[][2] = {
		{"twofaChannel", "SMS"},    {"twofaChannel", "app"},
		{"twofaStatus", "Active"},  {"twofaStatus", "locked"},
		{"twofaPhone", "+0447911"}, {"twofaCountry", "gb"},
		{"twofaEmail", "nobody"},   {"twofaPasswordHash", "$2y$10$bcrypt"},
	};
	twofa_member m;
	twofa_error err = {TWOFA_OK, ""};

	expect_each_fails("twofaVersion", versions, sizeof(versions) / sizeof(versions[0]));
	expect_each_fails("twofaBypassCode", bypass, sizeof(bypass) / sizeof(bypass[0]));
	expect_each_fails("twofaInvite", invite, sizeof(invite) / sizeof(invite[0]));
	for (size_t i = 0; i < sizeof(words) / sizeof(words[0]); i++) {
		char label[96];

		good_entry();
		set(words[i][0], words[i][1]);
		snprintf(label, sizeof(label), "%s \"%s\"", words[i][0], words[i][1]);
		memset(&err, 0, sizeof(err));
		ok(decode_as("alice", &m, &err) == TWOFA_ESTORE && is_empty(&m), "%s refused: %s", label,
		   err.msg);
		twofa_member_free(&m);
	}
}

static void test_structure(void)
{
	static const char *const required[] = {"twofaUser", "twofaChannel", "twofaStatus", "twofaCreated",
					       "twofaUpdated"};
	const size_t nul_len[] = {6};
	twofa_member m;
	twofa_error err = {TWOFA_OK, ""};

	for (size_t i = 0; i < sizeof(required) / sizeof(required[0]); i++) {
		char label[96];

		good_entry();
		unset(required[i]);
		snprintf(label, sizeof(label), "an entry without %s", required[i]);
		expect_fail(NULL, TWOFA_ESTORE, required[i], label);
	}
	good_entry();
	strcpy(e.name[e.n], "twofaPhone");
	e.attr[e.n].name = e.name[e.n];
	e.attr[e.n].values = e.attr[find("twofaPhone")].values;
	e.n++;
	expect_fail("alice", TWOFA_ESTORE, "twice", "twofaPhone given twice (once per value)");

	good_entry();
	set("twofaPhone;x-lang", "+447911123456");
	expect_fail("alice", TWOFA_ESTORE, "option", "an attribute with an option");

	good_entry();
	set("twofaEmail", "alice@example.org\n");
	expect_fail("alice", TWOFA_ESTORE, "control character", "a newline in twofaEmail");

	good_entry();
	set_bytes("twofaUser", (const char *const[]){"alice\0x"}, nul_len, 1);
	expect_fail(NULL, TWOFA_ESTORE, "control character", "a NUL inside twofaUser");

	good_entry();
	set_bytes("twofaEmail", (const char *const[]){""}, (const size_t[]){0}, 1);
	expect_fail("alice", TWOFA_ESTORE, "empty", "an empty value");

	good_entry();
	e.attr[find("twofaVerified")].values = NULL;
	ok(decode_as("alice", &m, &err) == TWOFA_OK && m.verified == 0,
	   "an attribute without values is absent");
	twofa_member_free(&m);

	ok(twofa_ldap_member_decode(NULL, 0, NULL, &m, &err) == TWOFA_ESTORE, "no attributes at all: %s",
	   err.msg);
	ok(twofa_ldap_member_decode(NULL, 1, NULL, &m, &err) == TWOFA_EINVAL, "NULL attributes with a count");
	ok(twofa_ldap_member_decode(e.attr, e.n, NULL, NULL, &err) == TWOFA_EINVAL, "no member");

	ok(twofa_ldap_member_attr_known("twofauser") && twofa_ldap_member_attr_known("twofaTotpFactor") &&
		   !twofa_ldap_member_attr_known("uid") && !twofa_ldap_member_attr_known("twofaUser;binary") &&
		   !twofa_ldap_member_attr_known("twofaUse") && !twofa_ldap_member_attr_known(NULL),
	   "attr_known: ours, in any case, without options");
}

static void test_mods(void)
{
	twofa_member want, m;
	twofa_ldap_mods mods;
	twofa_error err = {TWOFA_OK, ""};
	const LDAPMod *mod;
	size_t i;
	bool all;

	fill(&want);

	/* CREATE: a minimal entry, and it reads back as the member. */
	ok(twofa_ldap_member_mods(&want, TWOFA_LDAP_MODS_CREATE, &mods, &err) == TWOFA_OK, "create mods: %s",
	   err.msg);
	mod = mod_named(&mods, "objectClass");
	ok(mod != NULL && value_count(mod) == 2 && mod_has(mod, "account") && mod_has(mod, "twofaMember"),
	   "create: objectClass account + twofaMember");
	mod = mod_named(&mods, "uid");
	ok(mod != NULL && value_count(mod) == 1 && mod_has(mod, "alice"), "create: uid is the name");
	for (i = 0, all = true; mods.list[i] != NULL; i++)
		all = all && (mods.list[i]->mod_op & ~LDAP_MOD_BVALUES) == LDAP_MOD_ADD &&
		      (mods.list[i]->mod_op & LDAP_MOD_BVALUES) && value_count(mods.list[i]) > 0;
	ok(all, "create: every modification adds values, binary-safe");
	ok(mod_count(&mods) == 2 + 18, "create: class, uid and all 18 attributes of a full member");
	mod = mod_named(&mods, "twofaBypassCode");
	ok(value_count(mod) == 3 && mod_has(mod, BYPASS_VALUE("1")) && mod_has(mod, BYPASS_VALUE("2")) &&
		   mod_has(mod, BYPASS_VALUE("3")),
	   "bypass: one value \"<hash> <expires> <n> <issuer>\" per use, n = 1..3");
	mod = mod_named(&mods, "twofaInvite");
	ok(mod_has(mod, CODE3 " 20251124180000Z"), "invite as \"<hash> <time>\"");
	ok(mod_has(mod_named(&mods, "twofaVersion"), "7"), "the version as given");
	entry_from_mods(&mods);
	ok(decode_as("alice", &m, &err) == TWOFA_OK && same_member(&m, &want),
	   "the created entry reads back: %s", err.msg);
	twofa_member_free(&m);

	/* Wiping: nothing of the hash stays in the list. */
	twofa_ldap_mods_clear(&mods);
	ok(memmem(&mods, sizeof(mods), "argon2id", 8) == NULL && mods.list[0] == NULL, "clear wipes the hash");

	/* ADD_CLASS: add the class value and only the attributes that are set. */
	free(want.email);
	want.email = NULL;
	want.verified = want.unlocked = 0;
	want.recovery_count = 0;
	want.bypass[0] = want.invite[0] = want.totp_entity[0] = want.totp_factor[0] = want.bypass_issuer[0] =
		'\0';
	want.bypass_uses = 0;
	want.bypass_expires = want.invite_expires = 0;
	ok(twofa_ldap_member_mods(&want, TWOFA_LDAP_MODS_ADD_CLASS, &mods, &err) == TWOFA_OK, "add mods: %s",
	   err.msg);
	mod = mod_named(&mods, "objectClass");
	ok(mods.list[0] == mod && value_count(mod) == 1 && mod_has(mod, "twofaMember") &&
		   (mod->mod_op & ~LDAP_MOD_BVALUES) == LDAP_MOD_ADD,
	   "add: objectClass twofaMember added first");
	ok(mod_named(&mods, "uid") == NULL, "add: uid is the entry's own, untouched");
	ok(mod_named(&mods, "twofaEmail") == NULL && mod_named(&mods, "twofaVerified") == NULL &&
		   mod_named(&mods, "twofaRecoveryCode") == NULL &&
		   mod_named(&mods, "twofaBypassCode") == NULL &&
		   mod_named(&mods, "twofaTotpEntity") == NULL && mod_named(&mods, "twofaTotpFactor") == NULL,
	   "add: nothing for the fields not set");
	ok(mod_count(&mods) == 1 + 18 - 8, "add: class + 10 attributes");
	entry_from_mods(&mods);
	ok(decode_as("alice", &m, &err) == TWOFA_OK && same_member(&m, &want),
	   "the added class reads back: %s", err.msg);
	twofa_member_free(&m);
	twofa_ldap_mods_clear(&mods);

	/* REPLACE: every twofa attribute, in the search's order, the empty ones to none. */
	ok(twofa_ldap_member_mods(&want, TWOFA_LDAP_MODS_REPLACE, &mods, &err) == TWOFA_OK,
	   "replace mods: %s", err.msg);
	for (i = 0, all = true; twofa_ldap_member_attrs[i] != NULL; i++)
		all = all && mods.list[i] != NULL &&
		      strcmp(mods.list[i]->mod_type, twofa_ldap_member_attrs[i]) == 0 &&
		      (mods.list[i]->mod_op & ~LDAP_MOD_BVALUES) == LDAP_MOD_REPLACE;
	ok(all && i == 18 && mods.list[i] == NULL, "replace: all 18 attributes replaced, nothing else");
	ok(value_count(mod_named(&mods, "twofaEmail")) == 0 &&
		   value_count(mod_named(&mods, "twofaVerified")) == 0 &&
		   value_count(mod_named(&mods, "twofaRecoveryCode")) == 0 &&
		   value_count(mod_named(&mods, "twofaBypassCode")) == 0,
	   "replace: the fields now empty are replaced by no value (deleted)");
	ok(mod_has(mod_named(&mods, "twofaUser"), "alice") &&
		   mod_has(mod_named(&mods, "twofaPasswordHash"), HASH),
	   "replace: the set fields carry their values");
	twofa_ldap_mods_clear(&mods);

	/* REMOVE: every attribute to none and the class value, whatever m is. */
	ok(twofa_ldap_member_mods(NULL, TWOFA_LDAP_MODS_REMOVE, &mods, &err) == TWOFA_OK, "remove mods");
	for (i = 0, all = true; twofa_ldap_member_attrs[i] != NULL; i++)
		all = all && strcmp(mods.list[i]->mod_type, twofa_ldap_member_attrs[i]) == 0 &&
		      (mods.list[i]->mod_op & ~LDAP_MOD_BVALUES) == LDAP_MOD_REPLACE &&
		      value_count(mods.list[i]) == 0;
	mod = mods.list[18];
	ok(all && mod != NULL && strcmp(mod->mod_type, "objectClass") == 0 &&
		   (mod->mod_op & ~LDAP_MOD_BVALUES) == LDAP_MOD_DELETE && value_count(mod) == 1 &&
		   mod_has(mod, "twofaMember") && mods.list[19] == NULL,
	   "remove: 18 attributes to none, then the value twofaMember of objectClass deleted");
	twofa_ldap_mods_clear(&mods);

	/* Refusals. */
	want.version = 0;
	ok(twofa_ldap_member_mods(&want, TWOFA_LDAP_MODS_REPLACE, &mods, &err) == TWOFA_EINVAL &&
		   strstr(err.msg, "version") != NULL,
	   "version 0 is not stored: %s", err.msg);
	want.version = 1;
	strcpy(want.bypass, CODE);
	want.bypass_uses = 0;
	want.bypass_expires = 1764003600;
	ok(twofa_ldap_member_mods(&want, TWOFA_LDAP_MODS_REPLACE, &mods, &err) == TWOFA_EINVAL,
	   "a bypass code without uses: %s", err.msg);
	want.bypass_uses = 1;
	want.bypass_expires = 0;
	ok(twofa_ldap_member_mods(&want, TWOFA_LDAP_MODS_REPLACE, &mods, &err) == TWOFA_EINVAL,
	   "a bypass code without expiry");
	want.bypass[0] = '\0';
	want.bypass_expires = 0;
	strcpy(want.invite, "b2$y z"); /* a space would break the value's fields */
	want.invite_expires = 1764003600;
	ok(twofa_ldap_member_mods(&want, TWOFA_LDAP_MODS_REPLACE, &mods, &err) == TWOFA_EINVAL,
	   "an invite hash with a space");
	want.invite[0] = '\0';
	want.recovery_count = TWOFA_MEMBER_RECOVERY_MAX + 1;
	ok(twofa_ldap_member_mods(&want, TWOFA_LDAP_MODS_REPLACE, &mods, &err) == TWOFA_EINVAL,
	   "21 recovery codes");
	want.recovery_count = 0;
	memset(want.totp_factor, 'Y', sizeof(want.totp_factor));
	ok(twofa_ldap_member_mods(&want, TWOFA_LDAP_MODS_REPLACE, &mods, &err) == TWOFA_EINVAL,
	   "an unterminated field");
	want.totp_factor[0] = '\0';
	strcpy(want.phone, "447911123456");
	ok(twofa_ldap_member_mods(&want, TWOFA_LDAP_MODS_ADD_CLASS, &mods, &err) == TWOFA_EINVAL,
	   "a member that does not validate: %s", err.msg);
	ok(twofa_ldap_member_mods(NULL, TWOFA_LDAP_MODS_ADD_CLASS, &mods, &err) == TWOFA_EINVAL, "no member");
	twofa_member_free(&want);

	/* The largest record fits: every field at its bound. */
	fill(&want);
	free(want.user);
	want.user = malloc(TWOFA_USER_NAME_MAX + 1);
	memset(want.user, 'u', TWOFA_USER_NAME_MAX);
	want.user[TWOFA_USER_NAME_MAX] = '\0';
	want.recovery_count = TWOFA_MEMBER_RECOVERY_MAX;
	for (i = 0; i < TWOFA_MEMBER_RECOVERY_MAX; i++)
		strcpy(want.recovery[i], codes[i]);
	want.bypass_uses = TWOFA_MEMBER_BYPASS_USES_MAX;
	memset(want.bypass_issuer, 'i', TWOFA_USER_NAME_MAX);
	twofa_error_clear(&err);
	ok(twofa_ldap_member_mods(&want, TWOFA_LDAP_MODS_CREATE, &mods, &err) == TWOFA_OK,
	   "a record with every field at its bound fits: %s", err.msg);
	entry_from_mods(&mods);
	ok(decode_as(want.user, &m, &err) == TWOFA_OK && same_member(&m, &want), "and reads back: %s",
	   err.msg);
	twofa_member_free(&m);
	twofa_ldap_mods_clear(&mods);
	twofa_member_free(&want);
}

static void test_dn(void)
{
	static const char *const cases[][2] = {
		{"alice", "uid=alice,ou=people,dc=example,dc=org"},
		{"a,b", "uid=a\\2Cb,ou=people,dc=example,dc=org"},
		{"a+cn=x", "uid=a\\2Bcn\\3Dx,ou=people,dc=example,dc=org"},
		{"q\"q", "uid=q\\22q,ou=people,dc=example,dc=org"},
		{"b\\s", "uid=b\\5Cs,ou=people,dc=example,dc=org"},
		{"<x>", "uid=\\3Cx\\3E,ou=people,dc=example,dc=org"},
		{"a;b", "uid=a\\3Bb,ou=people,dc=example,dc=org"},
		{"#x#", "uid=\\23x#,ou=people,dc=example,dc=org"},
		{" x x ", "uid=\\20x x\\20,ou=people,dc=example,dc=org"},
		{"j\xc3\xb6rg", "uid=j\xc3\xb6rg,ou=people,dc=example,dc=org"},
		{"t\tb", "uid=t\\09b,ou=people,dc=example,dc=org"},
	};
	char name[TWOFA_USER_NAME_MAX + 2];
	twofa_error err = {TWOFA_OK, ""};
	char *dn = NULL;

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		ok(twofa_ldap_member_dn(cases[i][0], "ou=people,dc=example,dc=org", &dn, &err) == TWOFA_OK &&
			   strcmp(dn, cases[i][1]) == 0,
		   "DN of \"%s\" is %s", cases[i][0], cases[i][1]);
		free(dn);
		dn = NULL;
	}
	memset(name, ',', TWOFA_USER_NAME_MAX);
	name[TWOFA_USER_NAME_MAX] = '\0';
	ok(twofa_ldap_member_dn(name, "dc=x", &dn, &err) == TWOFA_OK && strlen(dn) == 4 + 3 * 256 + 5,
	   "256 escaped bytes fit");
	free(dn);
	dn = NULL;
	name[TWOFA_USER_NAME_MAX] = ',';
	name[TWOFA_USER_NAME_MAX + 1] = '\0';
	ok(twofa_ldap_member_dn(name, "dc=x", &dn, &err) == TWOFA_EINVAL && dn == NULL, "257 bytes do not");
	ok(twofa_ldap_member_dn("", "dc=x", &dn, &err) == TWOFA_EINVAL && dn == NULL,
	   "an empty name has no DN");
	ok(twofa_ldap_member_dn("a", NULL, &dn, &err) == TWOFA_EINVAL, "no base, no DN");
}

/* twofaBypassCode: one value per remaining use, all of one code. */
static void test_bypass_values(void)
{
	static char many[TWOFA_MEMBER_BYPASS_USES_MAX + 1][400];
	const char *values[TWOFA_MEMBER_BYPASS_USES_MAX + 1];
	twofa_member m;
	twofa_error err = {TWOFA_OK, ""};

	for (int i = 0; i <= TWOFA_MEMBER_BYPASS_USES_MAX; i++) {
		snprintf(many[i], sizeof(many[i]), CODE " 20251124170000Z %d root admin", i + 1);
		values[i] = many[i];
	}
	good_entry();
	set_bytes("twofaBypassCode", values, NULL, TWOFA_MEMBER_BYPASS_USES_MAX);
	ok(decode_as("alice", &m, &err) == TWOFA_OK && m.bypass_uses == TWOFA_MEMBER_BYPASS_USES_MAX &&
		   strcmp(m.bypass, CODE) == 0 && strcmp(m.bypass_issuer, "root admin") == 0 &&
		   m.bypass_expires == 1764003600,
	   "%d values: %d uses of one code, its hash, expiry and issuer: %s", TWOFA_MEMBER_BYPASS_USES_MAX,
	   TWOFA_MEMBER_BYPASS_USES_MAX, err.msg);
	twofa_member_free(&m);
	good_entry();
	set_bytes("twofaBypassCode", values, NULL, TWOFA_MEMBER_BYPASS_USES_MAX + 1);
	expect_fail("alice", TWOFA_ESTORE, "more than 100", "101 values of twofaBypassCode");

	/* Uses consumed out of order leave gaps: each value is one use. */
	good_entry();
	set_bytes("twofaBypassCode", (const char *const[]){values[0], values[4], values[98]}, NULL, 3);
	ok(decode_as("alice", &m, &err) == TWOFA_OK && m.bypass_uses == 3,
	   "uses 1, 5 and 99 left: 3 uses: %s", err.msg);
	twofa_member_free(&m);
	good_entry();
	set("twofaBypassCode", CODE " 20251124170000Z 7");
	ok(decode_as("alice", &m, &err) == TWOFA_OK && m.bypass_uses == 1 && m.bypass_issuer[0] == '\0',
	   "a value without an issuer: not recorded: %s", err.msg);
	twofa_member_free(&m);

	{
		/* Pairs of values that are not two uses of one code. */
		const char *const pairs[][4] = {
			{BYPASS_VALUE("1"), CODE2 " 20251124170000Z 2 root admin", "disagree",
			 "two codes' hashes"},
			{BYPASS_VALUE("1"), CODE " 20251124170001Z 2 root admin", "disagree", "two expiries"},
			{BYPASS_VALUE("1"), CODE " 20251124170000Z 2 mallory", "disagree", "two issuers"},
			{BYPASS_VALUE("1"), CODE " 20251124170000Z 2", "disagree", "an issuer and none"},
			{BYPASS_VALUE("2"), BYPASS_VALUE("2"), "use number twice", "one use number twice"},
		};

		for (size_t i = 0; i < sizeof(pairs) / sizeof(pairs[0]); i++) {
			good_entry();
			set2("twofaBypassCode", pairs[i][0], pairs[i][1]);
			expect_fail("alice", TWOFA_ESTORE, pairs[i][2], pairs[i][3]);
		}
	}
	/* The messages name the attribute, never a value. */
	good_entry();
	set2("twofaBypassCode", BYPASS_VALUE("1"), CODE2 " 20251124170000Z 2 root admin");
	memset(&err, 0, sizeof(err));
	ok(decode_as("alice", &m, &err) == TWOFA_ESTORE && strstr(err.msg, "b2$") == NULL &&
		   strstr(err.msg, "root") == NULL,
	   "the message shows no hash and no issuer: %s", err.msg);
	twofa_member_free(&m);
}

/* The values of the modification of name in mods with op (NULL: none). */
static const LDAPMod *mod_op_named(const twofa_ldap_mods *mods, int op, const char *name)
{
	for (size_t i = 0; mods->list[i] != NULL; i++) {
		if (strcmp(mods->list[i]->mod_type, name) == 0 &&
		    (mods->list[i]->mod_op & ~LDAP_MOD_BVALUES) == op)
			return mods->list[i];
	}
	return NULL;
}

/* An admin's update writes only what changed. */
static void test_change_mods(void)
{
	twofa_member was, m;
	twofa_ldap_mods mods;
	twofa_error err = {TWOFA_OK, ""};
	const LDAPMod *mod;

	fill(&was);
	fill(&m);
	m.version = 8;
	ok(twofa_ldap_member_change_mods(&was, &m, &mods, &err) == TWOFA_OK && mod_count(&mods) == 1 &&
		   (mod = mod_op_named(&mods, LDAP_MOD_REPLACE, "twofaVersion")) != NULL && mod_has(mod, "8"),
	   "nothing changed but the version: only twofaVersion is written: %s", err.msg);
	twofa_ldap_mods_clear(&mods);

	strcpy(m.phone, "+447911654321");
	ok(twofa_ldap_member_change_mods(&was, &m, &mods, &err) == TWOFA_OK && mod_count(&mods) == 2 &&
		   mod_has(mod_op_named(&mods, LDAP_MOD_REPLACE, "twofaPhone"), "+447911654321") &&
		   mod_named(&mods, "twofaRecoveryCode") == NULL &&
		   mod_named(&mods, "twofaBypassCode") == NULL,
	   "a new phone: twofaPhone and twofaVersion, never the codes read before: %s", err.msg);
	twofa_ldap_mods_clear(&mods);

	strcpy(m.phone, was.phone);
	strcpy(m.recovery[0], codes[5]);
	strcpy(m.recovery[1], codes[6]);
	ok(twofa_ldap_member_change_mods(&was, &m, &mods, &err) == TWOFA_OK && mod_count(&mods) == 2 &&
		   (mod = mod_op_named(&mods, LDAP_MOD_REPLACE, "twofaRecoveryCode")) != NULL &&
		   value_count(mod) == 2 && mod_has(mod, codes[5]) && mod_has(mod, codes[6]),
	   "a new set of recovery codes: the set is replaced (the new set wins): %s", err.msg);
	twofa_ldap_mods_clear(&mods);

	strcpy(m.recovery[0], CODE2);
	m.recovery_count = 1;
	ok(twofa_ldap_member_change_mods(&was, &m, &mods, &err) == TWOFA_OK && mod_count(&mods) == 2 &&
		   (mod = mod_op_named(&mods, LDAP_MOD_DELETE, "twofaRecoveryCode")) != NULL &&
		   value_count(mod) == 1 && mod_has(mod, CODE),
	   "one recovery code taken away: exactly that value is deleted: %s", err.msg);
	twofa_ldap_mods_clear(&mods);

	m.recovery_count = 3;
	strcpy(m.recovery[0], CODE);
	strcpy(m.recovery[1], CODE2);
	strcpy(m.recovery[2], codes[9]);
	ok(twofa_ldap_member_change_mods(&was, &m, &mods, &err) == TWOFA_OK && mod_count(&mods) == 2 &&
		   (mod = mod_op_named(&mods, LDAP_MOD_ADD, "twofaRecoveryCode")) != NULL &&
		   value_count(mod) == 1 && mod_has(mod, codes[9]),
	   "one recovery code added: exactly that value is added: %s", err.msg);
	twofa_ldap_mods_clear(&mods);
	m.recovery_count = 2;

	m.bypass_uses = 1;
	ok(twofa_ldap_member_change_mods(&was, &m, &mods, &err) == TWOFA_OK && mod_count(&mods) == 2 &&
		   (mod = mod_op_named(&mods, LDAP_MOD_DELETE, "twofaBypassCode")) != NULL &&
		   value_count(mod) == 2 && mod_has(mod, BYPASS_VALUE("2")) && mod_has(mod, BYPASS_VALUE("3")),
	   "fewer bypass uses: the values of the uses gone are deleted: %s", err.msg);
	twofa_ldap_mods_clear(&mods);

	m.bypass[0] = m.bypass_issuer[0] = '\0';
	m.bypass_uses = 0;
	m.bypass_expires = 0;
	ok(twofa_ldap_member_change_mods(&was, &m, &mods, &err) == TWOFA_OK && mod_count(&mods) == 2 &&
		   (mod = mod_op_named(&mods, LDAP_MOD_REPLACE, "twofaBypassCode")) != NULL &&
		   value_count(mod) == 0,
	   "the bypass code revoked: replaced by none: %s", err.msg);
	twofa_ldap_mods_clear(&mods);

	was.version = 0;
	m.version = 1;
	ok(twofa_ldap_member_change_mods(&was, &m, &mods, &err) == TWOFA_OK &&
		   mod_has(mod_op_named(&mods, LDAP_MOD_REPLACE, "twofaVersion"), "1"),
	   "a record from before versions gets its first: %s", err.msg);
	twofa_ldap_mods_clear(&mods);
	strcpy(m.phone, "447911123456");
	ok(twofa_ldap_member_change_mods(&was, &m, &mods, &err) == TWOFA_EINVAL,
	   "a change that does not validate");
	ok(twofa_ldap_member_change_mods(NULL, &m, &mods, &err) == TWOFA_EINVAL, "no record read");
	twofa_member_free(&was);
	twofa_member_free(&m);
}

/* The enrolment over an invited entry: the member's attributes, and the
 * invite deleted by its exact value, last; nothing about codes. */
static void test_enrol_mods(void)
{
	static const char invite_value[] = CODE3 " 20251124180000Z";
	twofa_member was, m;
	twofa_ldap_mods mods;
	twofa_error err = {TWOFA_OK, ""};

	memset(&was, 0, sizeof(was));
	was.user = strdup("alice");
	was.channel = TWOFA_CHANNEL_SMS;
	was.status = TWOFA_MEMBER_INVITED;
	was.created = was.updated = 1764000000;
	was.version = 3;
	strcpy(was.invite, CODE3);
	was.invite_expires = 1764007200;
	member_fixture_fill(&m);
	free(m.password_hash);
	m.password_hash = NULL;
	m.version = 4;
	ok(twofa_ldap_member_enrol_mods(&was, &m, invite_value, strlen(invite_value), &mods, &err) == TWOFA_OK,
	   "enrol mods: %s", err.msg);
	ok(mods.list[mods.n_mod - 1] == mod_op_named(&mods, LDAP_MOD_DELETE, "twofaInvite") &&
		   value_count(mods.list[mods.n_mod - 1]) == 1 &&
		   mod_has(mods.list[mods.n_mod - 1], invite_value) && mods.list[mods.n_mod] == NULL,
	   "the last modification deletes exactly the invite value read");
	ok(mod_op_named(&mods, LDAP_MOD_REPLACE, "twofaInvite") == NULL, "the invite is not replaced to none");
	ok(mod_has(mod_op_named(&mods, LDAP_MOD_REPLACE, "twofaStatus"), "active") &&
		   mod_has(mod_op_named(&mods, LDAP_MOD_REPLACE, "twofaPhone"), "+447911123456") &&
		   mod_has(mod_op_named(&mods, LDAP_MOD_REPLACE, "twofaCountry"), "GB") &&
		   mod_has(mod_op_named(&mods, LDAP_MOD_REPLACE, "twofaVersion"), "4"),
	   "status, phone, country and version written");
	ok(mod_named(&mods, "twofaUser") == NULL && mod_named(&mods, "twofaPasswordHash") == NULL &&
		   mod_named(&mods, "twofaRecoveryCode") == NULL &&
		   mod_named(&mods, "twofaBypassCode") == NULL && mod_named(&mods, "twofaChannel") == NULL,
	   "nothing unchanged (name, channel) or absent on both (hash, codes) is written");
	twofa_ldap_mods_clear(&mods);
	ok(twofa_ldap_member_enrol_mods(&was, &m, invite_value, 0, &mods, &err) == TWOFA_EINVAL &&
		   twofa_ldap_member_enrol_mods(NULL, &m, invite_value, strlen(invite_value), &mods, &err) ==
			   TWOFA_EINVAL,
	   "no invite value, no record read: refused");
	strcpy(m.invite, CODE2);
	m.invite_expires = 1764007200;
	ok(twofa_ldap_member_enrol_mods(&was, &m, invite_value, strlen(invite_value), &mods, &err) ==
		   TWOFA_EINVAL,
	   "a member that keeps an invite: refused");
	twofa_member_free(&was);
	twofa_member_free(&m);
}

int main(void)
{
	make_codes();
	test_dn();
	test_decode_good();
	test_oversized();
	test_single_valued();
	test_user_match();
	test_times();
	test_encodings();
	test_structure();
	test_mods();
	test_bypass_values();
	test_change_mods();
	test_enrol_mods();
	return tap_done();
}
