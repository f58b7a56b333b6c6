/* SPDX-License-Identifier: GPL-3.0-or-later */
/* Unit tests for lib/config: syntax, every key good and bad, duplicates,
 * module-argument overrides, credentials, and the file permission matrix. */
#include "twofa_build.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config.h"
#include "error.h"
#include "tap.h"

#define AC_SID "AC0123456789abcdef0123456789ABCDEF"
#define SK_SID "SK00112233445566778899aabbccddeeff"
#define VA_SID "VAffeeddccbbaa99887766554433221100"
/* Secrets under test: messages must never contain them. */
#define SECRET_TOKEN "Tok3nS3cr3t#with=signs"
#define SECRET_KEY "K3ySecretValue0123456789abcdefXY"

/* Parses text into a fresh config; the caller frees c. */
static twofa_status parse_text(twofa_config *c, const char *text, twofa_error *err)
{
	twofa_config_init(c);
	twofa_error_clear(err);
	return twofa_config_parse(c, "t.conf", text, strlen(text), err);
}

static bool has(const char *haystack, const char *needle)
{
	return strstr(haystack, needle) != NULL;
}

/* allowed_channels as words in a fixed order: "own call". */
static void render_channels(unsigned set, char *out, size_t size)
{
	static const char *const words[] = {"sms", "call", "whatsapp", "email", "totp"};

	(void)snprintf(out, size, "%s", (set & TWOFA_ALLOW_OWN) ? "own" : "");
	for (int i = 0; i < 5; i++)
		if (set & TWOFA_ALLOW_CHANNEL(i))
			(void)snprintf(out + strlen(out), size - strlen(out), "%s%s", out[0] ? " " : "",
				       words[i]);
}

/* Renders a key's current value the way the file would write it. */
static void render(const twofa_config *c, const char *key, char *out, size_t size)
{
	static const char *const approvals[] = {"auto", "manual"};
	static const char *const scopes[] = {"one", "sub"};
	static const char *const sasls[] = {"none", "external"};
	static const char *const tlses[] = {"starttls", "ldaps", "none"};
	static const char *const failmodes[] = {"secure", "safe"};
	static const char *const strengths[] = {"interactive", "moderate", "sensitive"};
	const char *s = NULL;
	long n = 0;
	bool number = true;

/* clang-format off */
#define STRKEY(k) else if (strcmp(key, #k) == 0) { s = c->k; number = false; }
#define NUMKEY(k) else if (strcmp(key, #k) == 0) { n = c->k; }
	if (0) {
	}
	STRKEY(account_sid) STRKEY(auth_token) STRKEY(api_key_sid) STRKEY(api_key_secret)
	STRKEY(verify_service_sid) STRKEY(verify_url) STRKEY(lookup_url) STRKEY(ca_file)
	STRKEY(proxy) STRKEY(members_db) STRKEY(state_db) STRKEY(locale) STRKEY(rate_limit)
	STRKEY(ldap_uri) STRKEY(ldap_write_uri) STRKEY(ldap_base) STRKEY(ldap_filter)
	STRKEY(ldap_bind_dn) STRKEY(ldap_bind_password) STRKEY(ldap_admin_bind_dn)
	STRKEY(ldap_admin_bind_password) STRKEY(ldap_client_cert) STRKEY(ldap_client_key)
	STRKEY(ldap_ca_file) STRKEY(ldap_run_dir)
	NUMKEY(ldap_timeout) NUMKEY(ldap_cache_max_age)
	NUMKEY(timeout) NUMKEY(max_tries) NUMKEY(lockout_failures) NUMKEY(lockout_seconds)
	NUMKEY(send_limit) NUMKEY(send_window) NUMKEY(max_members_per_phone) NUMKEY(grace_period)
	else if (strcmp(key, "store") == 0) { s = c->store == TWOFA_STORE_LDAP ? "ldap" : "gdbm"; number = false; }
	else if (strcmp(key, "ldap_scope") == 0) { s = scopes[c->ldap_scope]; number = false; }
	else if (strcmp(key, "ldap_sasl") == 0) { s = sasls[c->ldap_sasl]; number = false; }
	else if (strcmp(key, "ldap_tls") == 0) { s = tlses[c->ldap_tls]; number = false; }
	else if (strcmp(key, "approval") == 0) { s = approvals[c->approval]; number = false; }
	else if (strcmp(key, "failmode") == 0) { s = failmodes[c->failmode]; number = false; }
	else if (strcmp(key, "enroll") == 0) { s = twofa_enroll_name(c->enroll); number = false; }
	else if (strcmp(key, "recovery") == 0) { s = c->recovery ? "yes" : "no"; number = false; }
	else if (strcmp(key, "channel") == 0) { s = twofa_channel_name(c->channel); number = false; }
	else if (strcmp(key, "allowed_channels") == 0) {
		render_channels(c->allowed_channels, out, size);
		return;
	} else if (strcmp(key, "password_strength") == 0) {
		s = strengths[c->password_strength];
		number = false;
	} else {
		s = "?unknown key in test?";
		number = false;
	}
#undef STRKEY
#undef NUMKEY
	/* clang-format on */
	if (number)
		(void)snprintf(out, size, "%ld", n);
	else
		(void)snprintf(out, size, "%s", s == NULL ? "(null)" : s);
}

static void test_defaults(void)
{
	twofa_config c;
	char buf[256];
	bool ok_all = true;
	static const struct {
		const char *key, *value;
	} expected[] = {
		{"account_sid", "(null)"},
		{"auth_token", "(null)"},
		{"api_key_sid", "(null)"},
		{"api_key_secret", "(null)"},
		{"verify_service_sid", "(null)"},
		{"verify_url", "https://verify.twilio.com"},
		{"lookup_url", "https://lookups.twilio.com"},
		{"ca_file", "(null)"},
		{"proxy", "(null)"},
		{"locale", "(null)"},
		{"rate_limit", "(null)"},
		{"store", "gdbm"},
		{"members_db", TWOFA_LOCALSTATEDIR "/lib/twofa/members.db"},
		{"state_db", TWOFA_LOCALSTATEDIR "/lib/twofa/state.db"},
		{"timeout", "10"},
		{"approval", "auto"},
		{"enroll", "off"},
		{"channel", "sms"},
		{"failmode", "secure"},
		{"max_tries", "3"},
		{"lockout_failures", "10"},
		{"lockout_seconds", "900"},
		{"send_limit", "5"},
		{"send_window", "600"},
		{"max_members_per_phone", "1"},
		{"grace_period", "0"},
		{"recovery", "yes"},
		{"password_strength", "interactive"},
		{"allowed_channels", "own call"},
		{"ldap_uri", "(null)"},
		{"ldap_write_uri", "(null)"},
		{"ldap_base", "(null)"},
		{"ldap_scope", "sub"},
		{"ldap_filter", "(uid=%u)"},
		{"ldap_bind_dn", "(null)"},
		{"ldap_bind_password", "(null)"},
		{"ldap_admin_bind_dn", "(null)"},
		{"ldap_admin_bind_password", "(null)"},
		{"ldap_sasl", "none"},
		{"ldap_client_cert", "(null)"},
		{"ldap_client_key", "(null)"},
		{"ldap_tls", "starttls"},
		{"ldap_ca_file", "(null)"},
		{"ldap_timeout", "5"},
		{"ldap_cache_max_age", "86400"},
		{"ldap_run_dir", "/run/twofa/ldap"},
	};

	twofa_config_init(&c);
	for (size_t i = 0; i < sizeof(expected) / sizeof(expected[0]); i++) {
		render(&c, expected[i].key, buf, sizeof(buf));
		ok(strcmp(buf, expected[i].value) == 0, "default %s = %s (got %s)", expected[i].key,
		   expected[i].value, buf);
	}
	for (size_t i = 0; i < TWOFA_CONFIG_KEY_SLOTS; i++)
		ok_all &= c.file_line[i] == 0 && !c.set_by_args[i];
	ok(ok_all, "no key is marked as set after init");
	twofa_config_free(&c);
	render(&c, "verify_url", buf, sizeof(buf));
	ok(strcmp(buf, "https://verify.twilio.com") == 0, "free leaves defaults behind");
	twofa_config_free(&c);
	ok(1, "free twice is harmless");
}

/* The table's defaults are values its own checks take: each one, written in
 * a file, gives what twofa_config_init gives. */
static void test_table_defaults(void)
{
	twofa_config_key k;
	size_t n = 0;

	for (size_t i = 0; twofa_config_key_describe(i, &k); i++, n++) {
		twofa_config plain, parsed;
		twofa_error err = {0};
		char text[256], want[256], got[256];
		twofa_status st;

		if (k.default_value[0] == '\0') {
			ok(k.secret || k.optional, "%s has no default: a secret or optional key", k.name);
			continue;
		}
		twofa_config_init(&plain);
		render(&plain, k.name, want, sizeof(want));
		(void)snprintf(text, sizeof(text), "%s = %s\n", k.name, k.default_value);
		st = parse_text(&parsed, text, &err);
		render(&parsed, k.name, got, sizeof(got));
		ok(st == TWOFA_OK && strcmp(want, got) == 0 && strcmp(want, k.default_value) == 0,
		   "%s: the default '%s' parses to what init sets (%s)", k.name, k.default_value,
		   st == TWOFA_OK ? got : err.msg);
		twofa_config_free(&plain);
		twofa_config_free(&parsed);
	}
	ok(n == 48 && n <= TWOFA_CONFIG_KEY_SLOTS && !twofa_config_key_describe(n, &k),
	   "the table has %zu keys, and nothing past the last", n);
	ok(!twofa_config_key_describe(0, NULL), "NULL out refused");
}

static void test_names(void)
{
	static const char *const names[] = {"sms", "call", "whatsapp", "email", "totp"};
	static const char *const labels[] = {"SMS", "voice call", "WhatsApp", "email", "authenticator app"};
	twofa_channel ch = TWOFA_CHANNEL_SMS;

	for (int i = 0; i < 5; i++) {
		ok(strcmp(twofa_channel_name((twofa_channel)i), names[i]) == 0, "channel name %s", names[i]);
		ok(strcmp(twofa_channel_label((twofa_channel)i), labels[i]) == 0, "channel label %s",
		   labels[i]);
		ok(twofa_channel_parse(names[i], &ch) && ch == (twofa_channel)i, "channel parse %s", names[i]);
	}
	ok(twofa_channel_name((twofa_channel)5) == NULL, "no name for an invalid channel");
	ok(twofa_channel_label((twofa_channel)-1) == NULL, "no label for an invalid channel");
	ch = TWOFA_CHANNEL_EMAIL;
	ok(!twofa_channel_parse("SMS", &ch) && ch == TWOFA_CHANNEL_EMAIL, "channel parse is exact");
	ok(!twofa_channel_parse("voice", &ch), "channel parse rejects voice");
	ok(!twofa_channel_parse("", &ch), "channel parse rejects empty");
	ok(!twofa_channel_parse(NULL, &ch), "channel parse rejects NULL");

	{
		twofa_config c;
		unsigned dflt, own = TWOFA_ALLOW_OWN;
		twofa_error e;

		twofa_config_init(&c);
		dflt = c.allowed_channels;
		ok(twofa_channel_allowed(dflt, TWOFA_CHANNEL_SMS, TWOFA_CHANNEL_SMS) &&
			   twofa_channel_allowed(dflt, TWOFA_CHANNEL_SMS, TWOFA_CHANNEL_CALL) &&
			   !twofa_channel_allowed(dflt, TWOFA_CHANNEL_SMS, TWOFA_CHANNEL_EMAIL) &&
			   !twofa_channel_allowed(dflt, TWOFA_CHANNEL_SMS, TWOFA_CHANNEL_WHATSAPP),
		   "by default an SMS member may get SMS and a voice call, never email or WhatsApp");
		ok(twofa_channel_allowed(dflt, TWOFA_CHANNEL_EMAIL, TWOFA_CHANNEL_EMAIL) &&
			   !twofa_channel_allowed(dflt, TWOFA_CHANNEL_EMAIL, TWOFA_CHANNEL_SMS),
		   "by default an email member gets email (own), not SMS");
		ok(twofa_channel_allowed(own, TWOFA_CHANNEL_WHATSAPP, TWOFA_CHANNEL_WHATSAPP) &&
			   !twofa_channel_allowed(own, TWOFA_CHANNEL_WHATSAPP, TWOFA_CHANNEL_CALL),
		   "own alone: only the enrolled channel");
		ok(!twofa_channel_allowed(TWOFA_ALLOW_CHANNEL(TWOFA_CHANNEL_SMS), TWOFA_CHANNEL_WHATSAPP,
					  TWOFA_CHANNEL_WHATSAPP),
		   "without own, the enrolled channel is allowed only if listed");
		ok(!twofa_channel_allowed(~0u, TWOFA_CHANNEL_SMS, (twofa_channel)5), "no unknown channel");
		ok(twofa_channel_allowed(dflt, TWOFA_CHANNEL_TOTP, TWOFA_CHANNEL_TOTP) &&
			   !twofa_channel_allowed(dflt, TWOFA_CHANNEL_SMS, TWOFA_CHANNEL_TOTP) &&
			   (TWOFA_ALLOW_OWN & TWOFA_ALLOW_CHANNEL(TWOFA_CHANNEL_TOTP)) == 0,
		   "totp: an app member's own channel; own and the totp bit are apart");
		ok(twofa_config_allowed_channels(&c, TWOFA_CHANNEL_TOTP) ==
				   (dflt | TWOFA_ALLOW_CHANNEL(TWOFA_CHANNEL_SMS)) &&
			   twofa_config_allowed_channels(&c, TWOFA_CHANNEL_SMS) == dflt,
		   "at the default an app member may also get SMS and a call (own sms call), others not");
		ok(twofa_config_set(&c, "allowed_channels", "own totp sms", TWOFA_CONFIG_FROM_FILE, &e) ==
				   TWOFA_OK &&
			   c.allowed_channels == (TWOFA_ALLOW_OWN | TWOFA_ALLOW_CHANNEL(TWOFA_CHANNEL_TOTP) |
						  TWOFA_ALLOW_CHANNEL(TWOFA_CHANNEL_SMS)),
		   "allowed_channels takes totp");
		ok(twofa_config_allowed_channels(&c, TWOFA_CHANNEL_TOTP) == c.allowed_channels,
		   "a set allowed_channels holds for app members as written");
		ok(twofa_config_set(&c, "channel", "totp", TWOFA_CONFIG_FROM_FILE, &e) != TWOFA_OK &&
			   c.channel == TWOFA_CHANNEL_SMS,
		   "channel = totp is refused: a new member's channel sends a code");
		twofa_config_free(&c);
	}
	ok(twofa_config_key_is_secret("account_sid") && twofa_config_key_is_secret("auth_token") &&
		   twofa_config_key_is_secret("api_key_sid") && twofa_config_key_is_secret("api_key_secret") &&
		   twofa_config_key_is_secret("verify_service_sid"),
	   "the five credential keys are secret");
	ok(!twofa_config_key_is_secret("timeout") && !twofa_config_key_is_secret("proxy") &&
		   !twofa_config_key_is_secret("nope") && !twofa_config_key_is_secret(NULL),
	   "other keys are not secret");
}

struct kv {
	const char *key, *value, *stored; /* stored NULL: same as value */
};

static const struct kv good_values[] = {
	{"account_sid", AC_SID, NULL},
	{"account_sid", "ACffffffffffffffffffffffffffffffff", NULL},
	{"auth_token", SECRET_TOKEN, NULL},
	{"auth_token", "0123456789abcdef0123456789abcdef", NULL},
	{"api_key_sid", SK_SID, NULL},
	{"api_key_secret", SECRET_KEY, NULL},
	{"verify_service_sid", VA_SID, NULL},
	{"verify_url", "https://verify.twilio.com", NULL},
	{"verify_url", "https://verify.twilio.com/", "https://verify.twilio.com"},
	{"verify_url", "https://127.0.0.1:8443", NULL},
#ifdef TWOFA_TEST_HTTP /* lib/url: plain http only in test builds (tests/unit/test_url.c) */
	{"verify_url", "http://127.0.0.1:8443/", "http://127.0.0.1:8443"},
	{"verify_url", "http://localhost:1", NULL},
	{"verify_url", "http://[::1]:65535", NULL},
#endif
	{"verify_url", "HTTPS://verify.twilio.com", NULL},
	{"verify_url", "https://[2001:db8::1]", NULL},
	{"lookup_url", "https://lookups.example-2.co.uk:443", NULL},
	{"ca_file", "/etc/twofa/test-ca.pem", NULL},
	{"ca_file", "", "(null)"},
	{"proxy", "http://proxy.example:3128", NULL},
	{"proxy", "socks5h://127.0.0.1:1080", NULL},
	{"proxy", "https://user:pa%40ss@proxy.example:8443/", NULL},
	{"proxy", "", "(null)"},
	{"timeout", "1", NULL},
	{"timeout", "120", NULL},
	{"members_db", "/srv/twofa/members.db", NULL},
	{"state_db", "/srv/twofa/state db", NULL},
	{"approval", "auto", NULL},
	{"approval", "manual", NULL},
	{"enroll", "off", NULL},
	{"enroll", "self", NULL},
	{"enroll", "invite", NULL},
	{"channel", "sms", NULL},
	{"channel", "call", NULL},
	{"channel", "whatsapp", NULL},
	{"channel", "email", NULL},
	{"locale", "en", NULL},
	{"locale", "pt-BR", NULL},
	{"locale", "zh-HK", NULL},
	{"locale", "zh-Hant-HK", NULL},
	{"locale", "", "(null)"},
	{"rate_limit", "twofa_member", NULL},
	{"rate_limit", "a.b-c_9", NULL},
	{"rate_limit", "", "(null)"},
	{"store", "ldap", NULL},
	{"store", "gdbm", NULL},
	{"failmode", "secure", NULL},
	{"failmode", "safe", NULL},
	{"max_tries", "1", NULL},
	{"max_tries", "10", NULL},
	{"lockout_failures", "0", NULL},
	{"lockout_failures", "1000", NULL},
	{"lockout_seconds", "0", NULL},
	{"lockout_seconds", "604800", NULL},
	{"send_limit", "1", NULL},
	{"send_limit", "100", NULL},
	{"send_window", "60", NULL},
	{"send_window", "86400", NULL},
	{"max_members_per_phone", "1", NULL},
	{"max_members_per_phone", "100", NULL},
	{"grace_period", "0", NULL},
	{"grace_period", "86400", NULL},
	{"recovery", "yes", NULL},
	{"recovery", "no", NULL},
	{"password_strength", "interactive", NULL},
	{"password_strength", "moderate", NULL},
	{"password_strength", "sensitive", NULL},
	{"allowed_channels", "own", NULL},
	{"allowed_channels", "own call", NULL},
	{"allowed_channels", "sms", NULL},
	{"allowed_channels", "own,email", "own email"},
	{"allowed_channels", "email  whatsapp,call ,sms own", "own sms call whatsapp email"},
	{"allowed_channels", "own own", "own"},
	{"ldap_uri", "ldaps://ldap1.example.com", NULL},
	{"ldap_uri", "ldap://ldap1.example.com:389/ ldaps://10.0.0.2:636,ldapi://",
	 "ldap://ldap1.example.com:389/,ldaps://10.0.0.2:636,ldapi://"},
	{"ldap_uri", " ldap://[2001:db8::5]:389 , ,ldap://[::1]", "ldap://[2001:db8::5]:389,ldap://[::1]"},
	{"ldap_uri", "ldapi://%2Frun%2Fslapd%2Fldapi", NULL},
	{"ldap_uri", "ldap://a ldap://b ldap://c ldap://d ldap://e ldap://f ldap://g ldap://h",
	 "ldap://a,ldap://b,ldap://c,ldap://d,ldap://e,ldap://f,ldap://g,ldap://h"},
	{"ldap_uri", "", "(null)"},
	{"ldap_write_uri", "ldaps://provider.example.com:636", NULL},
	{"ldap_write_uri", "", "(null)"},
	{"ldap_base", "dc=example,dc=com", NULL},
	{"ldap_base", "ou=People,dc=example,dc=com", NULL},
	{"ldap_scope", "one", NULL},
	{"ldap_scope", "sub", NULL},
	{"ldap_filter", "(uid=%u)", NULL},
	{"ldap_filter", "(&(objectClass=posixAccount)(|(uid=%u)(mail=%u@example.com)))", NULL},
	{"ldap_bind_dn", "cn=twofa-login,ou=services,dc=example,dc=com", NULL},
	{"ldap_bind_password", "a pass phrase with #, = and spaces", NULL},
	{"ldap_admin_bind_dn", "cn=twofa-admin,ou=services,dc=example,dc=com", NULL},
	{"ldap_admin_bind_password", SECRET_TOKEN, NULL},
	{"ldap_sasl", "none", NULL},
	{"ldap_sasl", "external", NULL},
	{"ldap_client_cert", "/etc/twofa/ldap-client.pem", NULL},
	{"ldap_client_key", "/etc/twofa/ldap-client.key", NULL},
	{"ldap_tls", "starttls", NULL},
	{"ldap_tls", "ldaps", NULL},
	{"ldap_tls", "none", NULL},
	{"ldap_ca_file", "/etc/twofa/ldap-ca.pem", NULL},
	{"ldap_ca_file", "", "(null)"},
	{"ldap_timeout", "1", NULL},
	{"ldap_timeout", "60", NULL},
	{"ldap_cache_max_age", "0", NULL},
	{"ldap_cache_max_age", "604800", NULL},
	{"ldap_run_dir", "/tmp/twofa-test/ldap", NULL},
};

static void test_good_values(void)
{
	char text[512], buf[512];

	for (size_t i = 0; i < sizeof(good_values) / sizeof(good_values[0]); i++) {
		const struct kv *t = &good_values[i];
		twofa_config c;
		twofa_error err;
		twofa_status st;

		(void)snprintf(text, sizeof(text), "# test\n  %s\t=  %s  \n", t->key, t->value);
		st = parse_text(&c, text, &err);
		render(&c, t->key, buf, sizeof(buf));
		ok(st == TWOFA_OK && strcmp(buf, t->stored != NULL ? t->stored : t->value) == 0,
		   "good %s = '%s' accepted%s%s", t->key, t->value, st == TWOFA_OK ? "" : ": ",
		   st == TWOFA_OK ? "" : err.msg);
		twofa_config_free(&c);
	}
}

static const struct kv bad_values[] = {
	{"account_sid", "", NULL},
	{"account_sid", "AC0123456789abcdef0123456789ABCDE", NULL}, /* 31 hex */
	{"account_sid", "AC0123456789abcdef0123456789ABCDEF0", NULL},
	{"account_sid", "SK0123456789abcdef0123456789ABCDEF", NULL},
	{"account_sid", "ac0123456789abcdef0123456789ABCDEF", NULL},
	{"account_sid", "AC0123456789abcdef0123456789ABCDEG", NULL},
	{"auth_token", "", NULL},
	{"auth_token", "Tok3n with space", NULL},
	{"auth_token", "Tok3n\twith-tab", NULL},
	{"auth_token",
	 "Tok3n\x01"
	 "ctl",
	 NULL},
	{"auth_token", "Tok3n\xc3\xa9utf8", NULL},
	{"api_key_sid", "AC00112233445566778899aabbccddeeff", NULL},
	{"api_key_sid", "SK0011", NULL},
	{"api_key_secret", "", NULL},
	{"api_key_secret",
	 "K3y\x7f"
	 "del",
	 NULL},
	{"verify_service_sid", "VA", NULL},
	{"verify_service_sid", "MGffeeddccbbaa99887766554433221100", NULL},
	{"verify_url", "", NULL},
	{"verify_url", "http://verify.twilio.com", NULL},
	{"verify_url", "http://127.0.0.2:8443", NULL},
	{"verify_url", "https://verify.twilio.com/v2", NULL},
	{"verify_url", "https://verify.twilio.com//", NULL},
	{"verify_url", "https://verify.twilio.com?x=1", NULL},
	{"verify_url", "https://verify.twilio.com#frag", NULL},
	{"verify_url", "https://user:pw@verify.twilio.com", NULL},
	{"verify_url", "ftp://verify.twilio.com", NULL},
	{"verify_url", "verify.twilio.com", NULL},
	{"verify_url", "https://", NULL},
	{"verify_url", "https://host:0", NULL},
	{"verify_url", "https://host:65536", NULL},
	{"verify_url", "https://host:", NULL},
	{"verify_url", "https://host:8a", NULL},
	{"verify_url", "https://-host.example", NULL},
	{"verify_url", "https://host-.example", NULL},
	{"verify_url", "https://a..example", NULL},
	{"verify_url", "https://ho_st.example", NULL},
	{"verify_url", "https://[::1", NULL},
	{"verify_url", "https://[zz::1]", NULL},
	{"verify_url", "https://verify.twilio.com extra", NULL},
	{"lookup_url", "https://lookups.twilio.com/v2/PhoneNumbers", NULL},
	{"ca_file", "relative/ca.pem", NULL},
	{"ca_file", "/etc/ssl/", NULL},
	{"ca_file", "/etc/ssl/ca\x1b.pem", NULL},
	{"proxy", "proxy.example:3128", NULL},
	{"proxy", "ftp://proxy.example", NULL},
	{"proxy", "http://proxy.example/path", NULL},
	{"proxy", "http://@proxy.example", NULL},
	{"proxy", "http://proxy.example:99999", NULL},
	{"proxy", "http://", NULL},
	{"timeout", "", NULL},
	{"timeout", "0", NULL},
	{"timeout", "121", NULL},
	{"timeout", "-1", NULL},
	{"timeout", "10s", NULL},
	{"timeout", "1.5", NULL},
	{"timeout", "+5", NULL},
	{"timeout", "0x10", NULL},
	{"timeout", "99999999999999999999999", NULL},
	{"timeout", "10 # seconds", NULL},
	{"members_db", "", NULL},
	{"members_db", "members.db", NULL},
	{"members_db", "/var/lib/twofa/", NULL},
	{"state_db", "", NULL},
	{"state_db", "~/state.db", NULL},
	{"approval", "", NULL},
	{"approval", "Auto", NULL},
	{"approval", "yes", NULL},
	{"enroll", "", NULL},
	{"enroll", "Self", NULL},
	{"enroll", "yes", NULL},
	{"enroll", "self invite", NULL},
	{"channel", "", NULL},
	{"channel", "voice", NULL},
	{"channel", "SMS", NULL},
	{"rate_limit", "has space", NULL},
	{"rate_limit", "quote\"d", NULL},
	{"rate_limit", "0123456789012345678901234567890123456789012345678901234567890123x", NULL},
	{"store", "sql", NULL},
	{"store", "LDAP", NULL},
	{"locale", "e", NULL},
	{"locale", "english", NULL},
	{"locale", "en_US", NULL},
	{"locale", "en-", NULL},
	{"locale", "-en", NULL},
	{"locale", "en--US", NULL},
	{"locale", "en-abcdefghi", NULL},
	{"locale", "en-a-b-c-d-e", NULL},
	{"locale", "en-US.UTF-8", NULL},
	{"locale", "12", NULL},
	{"failmode", "", NULL},
	{"failmode", "open", NULL},
	{"max_tries", "", NULL},
	{"max_tries", "0", NULL},
	{"max_tries", "11", NULL},
	{"max_tries", "three", NULL},
	{"lockout_failures", "", NULL},
	{"lockout_failures", "-1", NULL},
	{"lockout_failures", "1001", NULL},
	{"lockout_failures", "x", NULL},
	{"lockout_seconds", "", NULL},
	{"lockout_seconds", "-1", NULL},
	{"lockout_seconds", "604801", NULL},
	{"lockout_seconds", "1e3", NULL},
	{"send_limit", "", NULL},
	{"send_limit", "0", NULL},
	{"send_limit", "101", NULL},
	{"max_members_per_phone", "0", NULL},
	{"max_members_per_phone", "101", NULL},
	{"max_members_per_phone", "two", NULL},
	{"send_limit", "five", NULL},
	{"send_window", "", NULL},
	{"send_window", "59", NULL},
	{"send_window", "86401", NULL},
	{"send_window", "10m", NULL},
	{"grace_period", "", NULL},
	{"grace_period", "-1", NULL},
	{"grace_period", "86401", NULL},
	{"grace_period", "1h", NULL},
	{"recovery", "", NULL},
	{"recovery", "true", NULL},
	{"recovery", "1", NULL},
	{"password_strength", "", NULL},
	{"password_strength", "strong", NULL},
	{"allowed_channels", "", NULL},
	{"allowed_channels", ",", NULL},
	{"allowed_channels", "own voice", NULL},
	{"allowed_channels", "OWN", NULL},
	{"allowed_channels", "own;call", NULL},
	{"allowed_channels", "every", NULL},
	{"allowed_channels", "own callcallcallcallcall", NULL},
	{"ldap_uri", "http://ldap.example.com", NULL},
	{"ldap_uri", "ldap.example.com", NULL},
	{"ldap_uri", ",", NULL},
	{"ldap_uri", "ldap://", NULL},
	{"ldap_uri", "ldap://:389", NULL},
	{"ldap_uri", "ldap://host:0", NULL},
	{"ldap_uri", "ldap://host:65536", NULL},
	{"ldap_uri", "ldap://host:3x9", NULL},
	{"ldap_uri", "ldap://host/dc=example,dc=com", NULL},
	{"ldap_uri", "ldap://host/??sub", NULL},
	{"ldap_uri", "ldap://user:secret@host", NULL},
	{"ldap_uri", "ldap://ho_st", NULL},
	{"ldap_uri", "ldap://[::1", NULL},
	{"ldap_uri", "ldap://[zz::1]", NULL},
	{"ldap_uri", "ldapi://run/slapd", NULL},
	{"ldap_uri", "ldapi://%2Frun%00x", NULL},
	{"ldap_uri", "ldap://good ldap://bad:99999", NULL},
	{"ldap_uri", "ldap://a ldap://b ldap://c ldap://d ldap://e ldap://f ldap://g ldap://h ldap://i", NULL},
	{"ldap_uri",
	 "ldap://aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	 "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	 "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
	 NULL},
	{"ldap_write_uri", "ldap://a ldap://b", NULL},
	{"ldap_write_uri", "ldap://a,ldap://b", NULL},
	{"ldap_write_uri", "ftp://a", NULL},
	{"ldap_base", "example.com", NULL},
	{"ldap_base", "=x", NULL},
	{"ldap_base", "dc=a\tb", NULL},
	{"ldap_bind_password", "tab\there", NULL},
	{"ldap_bind_dn", "twofa-login", NULL},
	{"ldap_admin_bind_dn", ",cn=x", NULL},
	{"ldap_bind_password", "", NULL},
	{"ldap_admin_bind_password", "", NULL},
	{"ldap_scope", "base", NULL},
	{"ldap_scope", "subtree", NULL},
	{"ldap_filter", "", NULL},
	{"ldap_filter", "uid=%u", NULL},
	{"ldap_filter", "(uid=%u", NULL},
	{"ldap_filter", "(uid=%u))", NULL},
	{"ldap_filter", "(uid=%u)(cn=%u)", NULL},
	{"ldap_filter", "(uid=alice)", NULL},
	{"ldap_filter", "(uid=%s)", NULL},
	{"ldap_filter", "(uid=%u%%)", NULL},
	{"ldap_filter", "(uid=%u%)", NULL},
	{"ldap_filter", "(&(uid=%u)))(", NULL},
	{"ldap_sasl", "gssapi", NULL},
	{"ldap_sasl", "EXTERNAL", NULL},
	{"ldap_tls", "ssl", NULL},
	{"ldap_tls", "off", NULL},
	{"ldap_client_cert", "relative.pem", NULL},
	{"ldap_client_key", "/etc/twofa/", NULL},
	{"ldap_ca_file", "ca.pem", NULL},
	{"ldap_timeout", "0", NULL},
	{"ldap_timeout", "61", NULL},
	{"ldap_timeout", "5s", NULL},
	{"ldap_timeout", "", NULL},
	{"ldap_cache_max_age", "-1", NULL},
	{"ldap_cache_max_age", "604801", NULL},
	{"ldap_run_dir", "run/twofa", NULL},
	{"ldap_run_dir", "", NULL},
};

static void test_bad_values(void)
{
	char text[512], before[512], after[512], prefix[64];

	for (size_t i = 0; i < sizeof(bad_values) / sizeof(bad_values[0]); i++) {
		const struct kv *t = &bad_values[i];
		twofa_config c;
		twofa_error err;
		twofa_status st;

		twofa_config_init(&c);
		render(&c, t->key, before, sizeof(before));
		twofa_config_free(&c);
		(void)snprintf(text, sizeof(text), "# test\n\n%s = %s\n", t->key, t->value);
		st = parse_text(&c, text, &err);
		render(&c, t->key, after, sizeof(after));
		(void)snprintf(prefix, sizeof(prefix), "t.conf:3: %s", t->key);
		ok(st == TWOFA_ECONFIG && strncmp(err.msg, prefix, strlen(prefix)) == 0 &&
			   strcmp(before, after) == 0 && (strlen(t->value) < 3 || !has(err.msg, t->value)),
		   "bad %s = '%s' refused, value unchanged, value not quoted: %s", t->key,
		   twofa_config_key_is_secret(t->key) ? "(secret)" : t->value, err.msg);
		twofa_config_free(&c);
	}
}

static void test_syntax(void)
{
	twofa_config c;
	twofa_error err;
	twofa_status st;

	st = parse_text(&c, "", &err);
	ok(st == TWOFA_OK, "empty file parses");
	twofa_config_free(&c);

	st = parse_text(&c,
			"# twofa\n"
			"   # indented comment = with equals\n"
			"\t\n"
			"\n"
			"timeout=20\n"
			"  max_tries\t =\t 4 \r\n"
			"auth_token = " SECRET_TOKEN "   \n"
			"api_key_secret=a=b#c\n"
			"channel = call", /* no final newline */
			&err);
	ok(st == TWOFA_OK, "comments, blanks, tabs, CRLF and a missing final newline: %s", err.msg);
	ok(c.timeout == 20 && c.max_tries == 4 && c.channel == TWOFA_CHANNEL_CALL,
	   "values around whitespace are trimmed");
	ok(c.auth_token != NULL && strcmp(c.auth_token, SECRET_TOKEN) == 0,
	   "a '#' after a value is part of the value");
	ok(c.api_key_secret != NULL && strcmp(c.api_key_secret, "a=b#c") == 0,
	   "the value runs from the first '='");
	twofa_config_free(&c);

	st = parse_text(&c, "timeout = 10\nfoo = bar\n", &err);
	ok(st == TWOFA_ECONFIG && strcmp(err.msg, "t.conf:2: unknown key 'foo'") == 0,
	   "unknown key named with file and line: %s", err.msg);
	twofa_config_free(&c);

	st = parse_text(&c, "Timeout = 10\n", &err);
	ok(st == TWOFA_ECONFIG && has(err.msg, "t.conf:1: unknown key 'Timeout'"),
	   "keys are case-sensitive: %s", err.msg);
	twofa_config_free(&c);

	st = parse_text(&c, "\n" SECRET_KEY "\n", &err);
	ok(st == TWOFA_ECONFIG && has(err.msg, "t.conf:2: missing '='") && !has(err.msg, SECRET_KEY) &&
		   !has(err.msg, "K3y"),
	   "a line without '=' is refused without quoting it: %s", err.msg);
	twofa_config_free(&c);

	st = parse_text(&c, "my secret " SECRET_KEY " = x\n", &err);
	ok(st == TWOFA_ECONFIG && has(err.msg, "t.conf:1: unknown key '(not a key name)'") &&
		   !has(err.msg, SECRET_KEY),
	   "an implausible key is not echoed: %s", err.msg);
	twofa_config_free(&c);

	st = parse_text(&c, " = 10\n", &err);
	ok(st == TWOFA_ECONFIG && has(err.msg, "t.conf:1: missing key"), "missing key: %s", err.msg);
	twofa_config_free(&c);

	st = parse_text(&c, "timeout =\n", &err);
	ok(st == TWOFA_ECONFIG && has(err.msg, "t.conf:1: timeout has an empty value"), "empty value: %s",
	   err.msg);
	twofa_config_free(&c);

	{
		static const char nul_text[] = "timeout = 1\0 0\n";
		twofa_config_init(&c);
		st = twofa_config_parse(&c, "t.conf", nul_text, sizeof(nul_text) - 1, &err);
		ok(st == TWOFA_ECONFIG && has(err.msg, "t.conf:1: line contains a NUL byte"),
		   "a NUL byte is refused: %s", err.msg);
		twofa_config_free(&c);
	}

	twofa_config_init(&c);
	st = twofa_config_parse(&c, "t.conf", NULL, 0, &err);
	ok(st == TWOFA_OK, "NULL text of length 0 is an empty file");
	st = twofa_config_parse(&c, "t.conf", NULL, 1, &err);
	ok(st == TWOFA_EINVAL, "NULL text with a length is refused");
	st = twofa_config_parse(NULL, "t.conf", "", 0, &err);
	ok(st == TWOFA_EINVAL, "NULL config is refused");
	twofa_config_free(&c);
}

static void test_duplicates(void)
{
	twofa_config c;
	twofa_error err;
	twofa_status st;

	st = parse_text(&c, "timeout = 10\n# x\ntimeout = 11\n", &err);
	ok(st == TWOFA_ECONFIG &&
		   strcmp(err.msg, "t.conf:3: duplicate key 'timeout' (first set on line 1)") == 0,
	   "duplicate key names both lines: %s", err.msg);
	ok(c.timeout == 10, "the first value stays after a duplicate");
	twofa_config_free(&c);

	st = parse_text(&c, "auth_token = " SECRET_TOKEN "\nauth_token = " SECRET_TOKEN "\n", &err);
	ok(st == TWOFA_ECONFIG && has(err.msg, "t.conf:2: duplicate key 'auth_token'") &&
		   !has(err.msg, SECRET_TOKEN),
	   "duplicate secret refused without its value: %s", err.msg);
	twofa_config_free(&c);

	st = parse_text(&c, "timeout = 10\ntimeout = 10\n", &err);
	ok(st == TWOFA_ECONFIG, "a duplicate with the same value is still refused");
	twofa_config_free(&c);

	st = parse_text(&c, "locale = en\n", &err);
	st = twofa_config_set(&c, "locale", "fr", TWOFA_CONFIG_FROM_FILE, &err);
	ok(st == TWOFA_ECONFIG && strcmp(err.msg, "duplicate key 'locale' (first set on line 1)") == 0 &&
		   strcmp(c.locale, "en") == 0,
	   "twofa_config_set after the file names the file's line: %s", err.msg);
	st = twofa_config_set(&c, "timeout", "20", TWOFA_CONFIG_FROM_FILE, &err);
	st = twofa_config_set(&c, "timeout", "30", TWOFA_CONFIG_FROM_FILE, &err);
	ok(st == TWOFA_ECONFIG && strcmp(err.msg, "duplicate key 'timeout'") == 0 && c.timeout == 20,
	   "twofa_config_set twice is a duplicate too, without a line: %s", err.msg);
	st = twofa_config_parse(&c, "u.conf", "locale = fr\n", strlen("locale = fr\n"), &err);
	ok(st == TWOFA_ECONFIG && has(err.msg, "u.conf:1: duplicate key 'locale'"),
	   "a key is set once across parse calls: %s", err.msg);
	twofa_config_free(&c);
}

static void test_limits(void)
{
	twofa_config c;
	twofa_error err;
	twofa_status st;
	char *text = malloc(TWOFA_CONFIG_MAX_BYTES + 2);

	if (text == NULL) {
		ok(0, "malloc");
		return;
	}
	/* A 4096-byte comment line is fine, 4097 bytes is not. */
	memset(text, ' ', 4096);
	text[0] = '#';
	memcpy(text + 4096, "\ntimeout = 7\n", 14);
	st = parse_text(&c, text, &err);
	ok(st == TWOFA_OK && c.timeout == 7, "a 4096-byte line is accepted: %s", err.msg);
	twofa_config_free(&c);
	memset(text, ' ', 4097);
	text[0] = '#';
	memcpy(text + 4097, "\ntimeout = 7\n", 14);
	st = parse_text(&c, text, &err);
	ok(st == TWOFA_ECONFIG && has(err.msg, "t.conf:1: line is longer than 4096 bytes"),
	   "a 4097-byte line is refused: %s", err.msg);
	twofa_config_free(&c);

	/* A long secret value is refused without quoting it. */
	memcpy(text, "auth_token = ", 13);
	memset(text + 13, 'S', 129);
	text[13 + 129] = '\0';
	st = parse_text(&c, text, &err);
	ok(st == TWOFA_ECONFIG && has(err.msg, "t.conf:1: auth_token must be") && !has(err.msg, "SSSS"),
	   "a 129-character token is refused: %s", err.msg);
	twofa_config_free(&c);
	text[13 + 128] = '\0';
	st = parse_text(&c, text, &err);
	ok(st == TWOFA_OK && strlen(c.auth_token) == 128, "a 128-character token is accepted");
	twofa_config_free(&c);

	/* Exactly TWOFA_CONFIG_MAX_BYTES parses, one more byte does not. */
	for (size_t i = 0; i < TWOFA_CONFIG_MAX_BYTES; i += 64) {
		memset(text + i, ' ', 64);
		text[i] = '#';
		text[i + 63] = '\n';
	}
	twofa_config_init(&c);
	st = twofa_config_parse(&c, "t.conf", text, TWOFA_CONFIG_MAX_BYTES, &err);
	ok(st == TWOFA_OK, "a file of exactly %d bytes parses", TWOFA_CONFIG_MAX_BYTES);
	text[TWOFA_CONFIG_MAX_BYTES] = '\n';
	st = twofa_config_parse(&c, "t.conf", text, TWOFA_CONFIG_MAX_BYTES + 1, &err);
	ok(st == TWOFA_ECONFIG && has(err.msg, "t.conf: is larger than 65536 bytes"),
	   "one byte more is refused: %s", err.msg);
	twofa_config_free(&c);

	/* The URL and locale bounds. */
	memcpy(text, "https://", 8);
	memset(text + 8, 'a', 600);
	for (size_t i = 8 + 60; i < 8 + 600; i += 61)
		text[i] = '.';
	text[8 + 600] = '\0';
	twofa_config_init(&c);
	st = twofa_config_set(&c, "verify_url", text, TWOFA_CONFIG_FROM_FILE, &err);
	ok(st == TWOFA_ECONFIG && has(err.msg, "verify_url is too long"), "a 608-byte URL: %s", err.msg);
	st = twofa_config_set(&c, "locale", "abc-defghijk-lmnopqrs-tuvwxyz0-12", TWOFA_CONFIG_FROM_FILE, &err);
	ok(st == TWOFA_OK, "a 33-byte locale is accepted: %s", err.msg);
	twofa_config_free(&c);
	twofa_config_init(&c);
	st = twofa_config_set(&c, "locale", "abc-defghijk-lmnopqrs-tuvwxyz0-1234", TWOFA_CONFIG_FROM_FILE,
			      &err);
	ok(st == TWOFA_OK, "a 35-byte locale is accepted: %s", err.msg);
	twofa_config_free(&c);
	twofa_config_init(&c);
	st = twofa_config_set(&c, "locale", "abc-defghijk-lmnopqrs-tuvwxyz0-12345", TWOFA_CONFIG_FROM_FILE,
			      &err);
	ok(st == TWOFA_ECONFIG, "a 36-byte locale is refused");
	memcpy(text, "/", 1);
	memset(text + 1, 'p', 4095);
	text[4096] = '\0';
	st = twofa_config_set(&c, "ca_file", text, TWOFA_CONFIG_FROM_FILE, &err);
	ok(st == TWOFA_ECONFIG && has(err.msg, "ca_file is too long"), "a 4096-byte path: %s", err.msg);
	text[4095] = '\0';
	st = twofa_config_set(&c, "ca_file", text, TWOFA_CONFIG_FROM_FILE, &err);
	ok(st == TWOFA_OK, "a 4095-byte path is accepted");
	twofa_config_free(&c);
	free(text);
}

static twofa_status parse_more(twofa_config *c, const char *name, const char *text, twofa_error *err)
{
	return twofa_config_parse(c, name, text, strlen(text), err);
}

static void test_args(void)
{
	char buf[64];
	twofa_config c;
	twofa_error err;
	twofa_status st;

	st = parse_text(&c, "timeout = 10\nchannel = sms\nproxy = http://u:p@proxy:3128\n", &err);
	ok(st == TWOFA_OK, "file parsed");
	st = twofa_config_set(&c, "timeout", "30", TWOFA_CONFIG_FROM_ARGS, &err);
	ok(st == TWOFA_OK && c.timeout == 30, "an argument overrides a key the file set");
	st = twofa_config_set(&c, "timeout", "40", TWOFA_CONFIG_FROM_ARGS, &err);
	ok(st == TWOFA_ECONFIG && has(err.msg, "duplicate argument 'timeout'") && c.timeout == 30,
	   "the same argument twice is refused: %s", err.msg);
	st = twofa_config_set(&c, "channel", "whatsapp", TWOFA_CONFIG_FROM_ARGS, &err);
	ok(st == TWOFA_OK && c.channel == TWOFA_CHANNEL_WHATSAPP, "channel from an argument");
	st = twofa_config_set(&c, "proxy", "", TWOFA_CONFIG_FROM_ARGS, &err);
	ok(st == TWOFA_OK && c.proxy == NULL, "an empty proxy argument turns the proxy off");
	st = twofa_config_set(&c, "max_tries", "11", TWOFA_CONFIG_FROM_ARGS, &err);
	ok(st == TWOFA_ECONFIG && has(err.msg, "max_tries must be a whole number from 1 to 10") &&
		   c.max_tries == 3,
	   "a bad argument is refused: %s", err.msg);
	st = twofa_config_set(&c, "bogus", "1", TWOFA_CONFIG_FROM_ARGS, &err);
	ok(st == TWOFA_ECONFIG && strcmp(err.msg, "unknown key 'bogus'") == 0,
	   "an unknown argument is refused: %s", err.msg);
	twofa_config_free(&c);

	static const char *const secrets[] = {"account_sid", "auth_token", "api_key_sid", "api_key_secret",
					      "verify_service_sid"};
	static const char *const secret_values[] = {AC_SID, SECRET_TOKEN, SK_SID, SECRET_KEY, VA_SID};
	for (size_t i = 0; i < 5; i++) {
		twofa_config_init(&c);
		st = twofa_config_set(&c, secrets[i], secret_values[i], TWOFA_CONFIG_FROM_ARGS, &err);
		render(&c, secrets[i], buf, sizeof(buf));
		ok(st == TWOFA_ECONFIG && has(err.msg, "secrets may only be set in the config file") &&
			   has(err.msg, secrets[i]) && !has(err.msg, secret_values[i]) &&
			   strcmp(buf, "(null)") == 0,
		   "argument %s refused: %s", secrets[i], err.msg);
		twofa_config_free(&c);
	}

	twofa_config_init(&c);
	st = twofa_config_set(&c, "proxy", "http://user:" SECRET_KEY "@proxy:3128", TWOFA_CONFIG_FROM_ARGS,
			      &err);
	ok(st == TWOFA_ECONFIG && has(err.msg, "proxy credentials may only be set in the config file") &&
		   !has(err.msg, SECRET_KEY),
	   "proxy credentials refused in an argument: %s", err.msg);
	/* Arguments first, file second: the argument still wins, the file is still checked. */
	st = twofa_config_set(&c, "send_limit", "7", TWOFA_CONFIG_FROM_ARGS, &err);
	ok(st == TWOFA_OK, "send_limit argument");
	st = parse_more(&c, "t.conf", "send_limit = 9\n", &err);
	ok(st == TWOFA_OK && c.send_limit == 7, "an argument set before the file still wins");
	st = parse_more(&c, "v.conf", "max_tries = 2\n", &err);
	ok(st == TWOFA_OK && c.max_tries == 2, "second file sets another key");
	twofa_config_free(&c);
	twofa_config_init(&c);
	st = twofa_config_set(&c, "grace_period", "60", TWOFA_CONFIG_FROM_ARGS, &err);
	st = parse_more(&c, "t.conf", "grace_period = 999999\n", &err);
	ok(st == TWOFA_ECONFIG && has(err.msg, "t.conf:1: grace_period must be") && c.grace_period == 60,
	   "a bad file value is refused even under an argument: %s", err.msg);
	st = twofa_config_set(&c, "timeout", "5", 0x4u, &err);
	ok(st == TWOFA_EINVAL, "an unknown source is refused");
	st = twofa_config_set(&c, "timeout", NULL, TWOFA_CONFIG_FROM_ARGS, &err);
	ok(st == TWOFA_EINVAL, "a NULL value is refused");
	twofa_config_free(&c);
}

/* Builds a config from lines and checks credentials. */
static twofa_status credentials(const char *text, twofa_error *err)
{
	twofa_config c;
	twofa_status st = parse_text(&c, text, err);

	if (st == TWOFA_OK)
		st = twofa_config_check_credentials(&c, err);
	else
		(void)snprintf(err->msg, sizeof(err->msg), "parse failed");
	twofa_config_free(&c);
	return st;
}

#define ACCOUNT "account_sid = " AC_SID "\n"
#define TOKEN "auth_token = " SECRET_TOKEN "\n"
#define KEYSID "api_key_sid = " SK_SID "\n"
#define KEYSECRET "api_key_secret = " SECRET_KEY "\n"
#define SERVICE "verify_service_sid = " VA_SID "\n"

static void test_credentials(void)
{
	static const struct {
		const char *text;
		twofa_status status;
		const char *needle;
		const char *what;
	} cases[] = {
		{ACCOUNT TOKEN SERVICE, TWOFA_OK, "", "account SID + auth token"},
		{KEYSID KEYSECRET SERVICE, TWOFA_OK, "", "API key pair"},
		{KEYSID KEYSECRET ACCOUNT SERVICE, TWOFA_OK, "", "API key pair + account SID"},
		{ACCOUNT TOKEN KEYSID KEYSECRET SERVICE, TWOFA_OK, "", "both pairs"},
		{SERVICE, TWOFA_ECONFIG, "no Twilio credentials", "no credentials"},
		{"", TWOFA_ECONFIG, "no Twilio credentials", "empty config"},
		{ACCOUNT TOKEN, TWOFA_ECONFIG, "verify_service_sid is missing", "no service"},
		{KEYSID SERVICE, TWOFA_ECONFIG, "api_key_secret is missing", "key without secret"},
		{KEYSECRET SERVICE, TWOFA_ECONFIG, "api_key_sid is missing", "secret without key"},
		{ACCOUNT SERVICE, TWOFA_ECONFIG, "auth_token is missing", "account without token"},
		{TOKEN SERVICE, TWOFA_ECONFIG, "account_sid is missing", "token without account"},
		{KEYSID KEYSECRET TOKEN SERVICE, TWOFA_ECONFIG, "account_sid is missing",
		 "API key pair + half an account pair"},
		{KEYSID ACCOUNT TOKEN SERVICE, TWOFA_ECONFIG, "api_key_secret is missing",
		 "half an API key pair + account pair"},
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		twofa_error err;
		twofa_status st = credentials(cases[i].text, &err);
		ok(st == cases[i].status && (st == TWOFA_OK || has(err.msg, cases[i].needle)) &&
			   !has(err.msg, SECRET_TOKEN) && !has(err.msg, SECRET_KEY) && !has(err.msg, AC_SID),
		   "credentials: %s -> %s %s", cases[i].what, twofa_status_name(st),
		   st == TWOFA_OK ? "" : err.msg);
	}

	/* Fields set by code bypass set(); the check validates them again. */
	{
		twofa_config c;
		twofa_error err;
		char bad_sid[] = "SKnothex";
		char token[] = SECRET_KEY;
		char service[] = VA_SID;
		twofa_config_init(&c);
		c.api_key_sid = bad_sid;
		c.api_key_secret = token;
		c.verify_service_sid = service;
		ok(twofa_config_check_credentials(&c, &err) == TWOFA_ECONFIG &&
			   has(err.msg, "api_key_sid must be SK"),
		   "a malformed SID set by code: %s", err.msg);
		/* The strings are not heap-allocated: detach them instead of freeing. */
		c.api_key_sid = NULL;
		c.api_key_secret = NULL;
		c.verify_service_sid = NULL;
		ok(twofa_config_check_credentials(NULL, &err) == TWOFA_EINVAL, "NULL config");
	}
}

/* ---- the file on disk ---- */

static char tmpdir[64];
static const char good_file[] = "# twofa test\n" ACCOUNT TOKEN SERVICE "timeout = 15\n";

static int write_file(const char *path, const char *text, size_t len, mode_t mode, uid_t uid, gid_t gid)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);

	if (fd < 0)
		return -1;
	if (write(fd, text, len) != (ssize_t)len || fchown(fd, uid, gid) != 0 || fchmod(fd, mode) != 0) {
		(void)close(fd);
		return -1;
	}
	return close(fd);
}

static twofa_status load(const char *path, twofa_config *c, twofa_error *err)
{
	twofa_config_init(c);
	twofa_error_clear(err);
	return twofa_config_load(c, path, err);
}

static void expect_load(const char *name, mode_t mode, uid_t uid, gid_t gid, twofa_status want,
			const char *needle)
{
	char path[128];
	twofa_config c;
	twofa_error err;
	twofa_status st;

	(void)snprintf(path, sizeof(path), "%s/%s", tmpdir, name);
	if (write_file(path, good_file, strlen(good_file), mode, uid, gid) != 0) {
		ok(0, "create %s: %s", path, strerror(errno));
		return;
	}
	st = load(path, &c, &err);
	ok(st == want &&
		   (want == TWOFA_OK ? c.timeout == 15 && c.auth_token != NULL
				     : has(err.msg, path) && has(err.msg, needle)) &&
		   !has(err.msg, SECRET_TOKEN),
	   "load mode %04o uid %lu gid %lu -> %s %s", (unsigned)mode, (unsigned long)uid, (unsigned long)gid,
	   twofa_status_name(st), err.msg);
	twofa_config_free(&c);
}

static void test_files(void)
{
	char path[128], target[256];
	twofa_config c;
	twofa_error err;
	twofa_status st;

	(void)snprintf(tmpdir, sizeof(tmpdir), "%s", "/tmp/twofa-config-XXXXXX");
	if (mkdtemp(tmpdir) == NULL) {
		ok(0, "mkdtemp: %s", strerror(errno));
		return;
	}
	(void)snprintf(path, sizeof(path), "%s/missing.conf", tmpdir);
	st = load(path, &c, &err);
	ok(st == TWOFA_ECONFIG && has(err.msg, path) && has(err.msg, "no such file"), "missing file: %s",
	   err.msg);
	twofa_config_free(&c);

	if (geteuid() != 0) {
		/* Owner checks need root to create root-owned files; CI runs as root. */
		printf("ok %d # SKIP permission matrix needs root\n", ++tap_count);
		return;
	}
	expect_load("ok600.conf", 0600, 0, 0, TWOFA_OK, "");
	expect_load("ok400.conf", 0400, 0, 0, TWOFA_OK, "");
	expect_load("ok640.conf", 0640, 0, 0, TWOFA_OK, "");
	expect_load("group640.conf", 0640, 0, 65534, TWOFA_EPERM, "is readable by group 65534");
	expect_load("world644.conf", 0644, 0, 0, TWOFA_EPERM,
		    "is world-readable (mode 0644); it holds secrets: chmod 600");
	expect_load("world604.conf", 0604, 0, 0, TWOFA_EPERM, "is world-readable (mode 0604)");
	expect_load("group660.conf", 0660, 0, 0, TWOFA_EPERM, "is group-writable (mode 0660)");
	expect_load("group620.conf", 0620, 0, 0, TWOFA_EPERM, "is group-writable (mode 0620)");
	expect_load("world602.conf", 0602, 0, 0, TWOFA_EPERM, "is world-writable (mode 0602)");
	expect_load("world666.conf", 0666, 0, 0, TWOFA_EPERM, "is world-writable (mode 0666)");
	expect_load("nobody.conf", 0600, 65534, 0, TWOFA_EPERM, "is owned by uid 65534, not root");

	(void)snprintf(target, sizeof(target), "%s/ok600.conf", tmpdir);
	(void)snprintf(path, sizeof(path), "%s/link.conf", tmpdir);
	ok(symlink(target, path) == 0, "create symlink");
	st = load(path, &c, &err);
	ok(st == TWOFA_EPERM && has(err.msg, path) && has(err.msg, "is a symbolic link"),
	   "symlink refused: %s", err.msg);
	twofa_config_free(&c);

	(void)snprintf(path, sizeof(path), "%s/dir.conf", tmpdir);
	ok(mkdir(path, 0700) == 0, "create directory");
	st = load(path, &c, &err);
	ok(st == TWOFA_ECONFIG && has(err.msg, path) && has(err.msg, "is a directory"),
	   "directory refused: %s", err.msg);
	twofa_config_free(&c);

	(void)snprintf(path, sizeof(path), "%s/fifo.conf", tmpdir);
	ok(mkfifo(path, 0600) == 0, "create FIFO");
	alarm(10); /* a hang here is a failure, not a stuck test run */
	st = load(path, &c, &err);
	alarm(0);
	ok(st == TWOFA_ECONFIG && has(err.msg, path) && has(err.msg, "is not a regular file"),
	   "FIFO refused without blocking: %s", err.msg);
	twofa_config_free(&c);

	(void)snprintf(path, sizeof(path), "%s/nodir/x.conf", tmpdir);
	st = load(path, &c, &err);
	ok(st == TWOFA_ECONFIG && has(err.msg, "no such file"), "missing directory: %s", err.msg);
	twofa_config_free(&c);
	(void)snprintf(path, sizeof(path), "%s/ok600.conf/x", tmpdir);
	st = load(path, &c, &err);
	ok(st == TWOFA_ECONFIG && has(err.msg, "not a directory"), "file as directory: %s", err.msg);
	twofa_config_free(&c);

	{
		char *big = malloc(TWOFA_CONFIG_MAX_BYTES + 1);
		if (big == NULL) {
			ok(0, "malloc");
			return;
		}
		memset(big, '#', TWOFA_CONFIG_MAX_BYTES + 1);
		for (size_t i = 63; i <= TWOFA_CONFIG_MAX_BYTES; i += 64)
			big[i] = '\n';
		(void)snprintf(path, sizeof(path), "%s/big.conf", tmpdir);
		ok(write_file(path, big, TWOFA_CONFIG_MAX_BYTES + 1, 0600, 0, 0) == 0, "big file");
		st = load(path, &c, &err);
		ok(st == TWOFA_ECONFIG && has(err.msg, path) && has(err.msg, "is larger than 65536"),
		   "file one byte too big: %s", err.msg);
		twofa_config_free(&c);
		(void)snprintf(path, sizeof(path), "%s/max.conf", tmpdir);
		ok(write_file(path, big, TWOFA_CONFIG_MAX_BYTES, 0600, 0, 0) == 0, "max file");
		st = load(path, &c, &err);
		ok(st == TWOFA_OK, "file of exactly the maximum size loads: %s", err.msg);
		twofa_config_free(&c);
		free(big);
	}

	{
		static const char bad[] = "# x\n" TOKEN "\ntimeout = 500\n";
		(void)snprintf(path, sizeof(path), "%s/bad.conf", tmpdir);
		ok(write_file(path, bad, strlen(bad), 0600, 0, 0) == 0, "bad file");
		st = load(path, &c, &err);
		(void)snprintf(target, sizeof(target), "%s:4: timeout must be", path);
		ok(st == TWOFA_ECONFIG && has(err.msg, target) && !has(err.msg, SECRET_TOKEN),
		   "parse error names path and line: %s", err.msg);
		twofa_config_free(&c);
	}
}

/* Makes tmpdir/name a directory with mode and owner (mkdir's umask aside). */
static bool make_dir(const char *name, mode_t mode, uid_t uid)
{
	char path[160];

	(void)snprintf(path, sizeof(path), "%s/%s", tmpdir, name);
	return mkdir(path, 0700) == 0 && chown(path, uid, 0) == 0 && chmod(path, mode) == 0;
}

/* Loads tmpdir/dir/x.conf, a good root-owned 0600 file; want: expected status;
 * the message must name tmpdir/culprit (unless NULL) and say needle. */
static void expect_parent(const char *dir, twofa_status want, const char *culprit, const char *needle)
{
	char path[192], where[192];
	twofa_config c;
	twofa_error err;
	twofa_status st;

	(void)snprintf(path, sizeof(path), "%s/%s/x.conf", tmpdir, dir);
	(void)snprintf(where, sizeof(where), "%s/%s", tmpdir, culprit != NULL ? culprit : "");
	st = load(path, &c, &err);
	ok(st == want &&
		   (want == TWOFA_OK ? c.timeout == 15
				     : has(err.msg, path) && has(err.msg, where) && has(err.msg, needle)),
	   "config under %s -> %s %s", dir, twofa_status_name(st), err.msg);
	twofa_config_free(&c);
}

/* Every directory on the way to the file is checked, not only the file. */
static void test_parents(void)
{
	static const char *const dirs[] = {"foreign", "foreign/sub", "groupw", "worldw",
					   "sticky",  "gid",         "plain",  "plain/deep"};
	char path[192], target[192];

	if (geteuid() != 0) {
		printf("ok %d # SKIP parent directory checks need root\n", ++tap_count);
		return;
	}
	ok(make_dir("foreign", 0755, 65534) && make_dir("foreign/sub", 0755, 0) &&
		   make_dir("groupw", 0770, 0) && make_dir("worldw", 0777, 0) &&
		   make_dir("sticky", 01777, 0) && make_dir("gid", 02755, 0) && make_dir("plain", 0755, 0) &&
		   make_dir("plain/deep", 0711, 0),
	   "create the parent directories");
	for (size_t i = 0; i < sizeof(dirs) / sizeof(dirs[0]); i++) {
		(void)snprintf(path, sizeof(path), "%s/%s/x.conf", tmpdir, dirs[i]);
		if (write_file(path, good_file, strlen(good_file), 0600, 0, 0) != 0)
			ok(0, "create %s: %s", path, strerror(errno));
	}
	expect_parent("foreign", TWOFA_EPERM, "foreign", "is owned by uid 65534, not root");
	expect_parent("foreign/sub", TWOFA_EPERM, "foreign ", "is owned by uid 65534, not root");
	expect_parent("groupw", TWOFA_EPERM, "groupw", "is group-writable (mode 0770)");
	expect_parent("worldw", TWOFA_EPERM, "worldw", "is world-writable (mode 0777)");
	expect_parent("sticky", TWOFA_OK, NULL, "");
	expect_parent("gid", TWOFA_OK, NULL, "");
	expect_parent("plain/deep", TWOFA_OK, NULL, "");

	(void)snprintf(target, sizeof(target), "%s/plain", tmpdir);
	(void)snprintf(path, sizeof(path), "%s/link", tmpdir);
	ok(symlink(target, path) == 0, "create a symlink to a directory");
	expect_parent("link", TWOFA_EPERM, "link", "is a symbolic link; refusing to follow it");
	expect_parent("plain/x.conf", TWOFA_ECONFIG, NULL, "a component of the path is not a directory");
	expect_parent("plain/../plain", TWOFA_OK, NULL, "");

	/* A relative path is walked from / through the working directory. */
	{
		twofa_config c;
		twofa_error err;
		twofa_status st;

		(void)snprintf(path, sizeof(path), "%s/plain", tmpdir);
		ok(chdir(path) == 0, "chdir %s", path);
		st = load("x.conf", &c, &err);
		ok(st == TWOFA_OK && c.timeout == 15, "a relative path in a good directory loads: %s",
		   err.msg);
		twofa_config_free(&c);
		(void)snprintf(path, sizeof(path), "%s/groupw", tmpdir);
		ok(chdir(path) == 0, "chdir %s", path);
		st = load("x.conf", &c, &err);
		ok(st == TWOFA_EPERM && has(err.msg, path) && has(err.msg, "is group-writable"),
		   "a relative path in a group-writable directory is refused: %s", err.msg);
		twofa_config_free(&c);
		ok(chdir("/") == 0, "chdir /");
	}
}

int main(void)
{
	test_defaults();
	test_table_defaults();
	test_names();
	test_good_values();
	test_bad_values();
	test_syntax();
	test_duplicates();
	test_limits();
	test_args();
	test_credentials();
	test_files();
	test_parents();
	if (tmpdir[0] != '\0') {
		char cmd[128];
		(void)snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpdir);
		if (system(cmd) != 0)
			diag("could not remove %s", tmpdir);
	}
	return tap_done();
}
