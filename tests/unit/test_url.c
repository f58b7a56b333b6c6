/* SPDX-License-Identifier: GPL-3.0-or-later */
/* lib/url: the rule for Twilio's URLs and the proxy's, and that the config
 * (verify_url, when the file is read) and the HTTP client (before each
 * request) take and refuse the same URLs. Built twice, like
 * tests/verify/test_verify_unit: as test_url with the build's lib/url.c (a
 * test build, configure --enable-test-http) and as test_url_https_only with
 * its own lib/url.c compiled as a normal build has it (TWOFA_HTTPS_ONLY). */
#include "twofa_build.h"

#ifdef TWOFA_HTTPS_ONLY
#undef TWOFA_TEST_HTTP
#endif

#include <string.h>

#include "config.h"
#include "http.h"
#include "url.h"

#include "tap.h"

/* Plain http to the loopback: only a test build takes it. */
#ifdef TWOFA_TEST_HTTP
#define LOOPBACK_HTTP true
#else
#define LOOPBACK_HTTP false
#endif

static const struct {
	const char *url;
	bool allowed;
	const char *what;
} twilio_urls[] = {
	{"https://verify.twilio.com", true, "https"},
	{"https://verify.twilio.com/", true, "https with a trailing /"},
	{"HTTPS://verify.twilio.com", true, "scheme in upper case"},
	{"hTTpS://verify.twilio.com", true, "scheme in mixed case"},
	{"https://verify.twilio.com:443", true, "https with a port"},
	{"https://127.0.0.1:8443", true, "https to the loopback"},
	{"https://[2001:db8::1]", true, "https to an IPv6 address"},
	{"https://[2001:db8::1]:8443", true, "https to an IPv6 address and port"},
	{"https://[::ffff:192.0.2.1]", true, "https to an IPv4-mapped IPv6 address"},
	{"http://127.0.0.1:8080", LOOPBACK_HTTP, "http to 127.0.0.1"},
	{"http://localhost:1", LOOPBACK_HTTP, "http to localhost"},
	{"http://LocalHost:1", LOOPBACK_HTTP, "http to localhost in mixed case"},
	{"HTTP://127.0.0.1:1", LOOPBACK_HTTP, "HTTP in upper case to 127.0.0.1"},
	{"http://[::1]", LOOPBACK_HTTP, "http to [::1]"},
	{"http://[::1]:65535", LOOPBACK_HTTP, "http to [::1] with a port"},
	{"http://::1", false, "http to a bare ::1 (not a URL host)"},
	{"http://::1:8080", false, "http to a bare ::1 with a port"},
	{"http://[0:0:0:0:0:0:0:1]", false, "http to ::1 spelled out (not on the list)"},
	{"http://[::ffff:127.0.0.1]", false, "http to an IPv4-mapped loopback"},
	{"http://[::1%25lo]", false, "http to [::1] with a zone"},
	{"http://127.1", false, "http to 127.1 (libcurl would read 127.0.0.1)"},
	{"http://2130706433", false, "http to the loopback as one number"},
	{"http://127.0.0.2", false, "http to 127.0.0.2"},
	{"http://localhost.example", false, "http to a name that starts with localhost"},
	{"http://verify.twilio.com", false, "http elsewhere"},
	{"https://user:pw@verify.twilio.com", false, "user info"},
	{"https://user@verify.twilio.com", false, "a user name"},
	{"https://@verify.twilio.com", false, "an empty user info"},
	{"http://user@127.0.0.1:1", false, "user info on the loopback"},
	{"https://verify.twilio.com@evil.example", false, "the host after an '@'"},
	{"https://evil.example\\@verify.twilio.com", false, "a backslash in the authority"},
	{"ftp://127.0.0.1", false, "ftp"},
	{"file:///etc/passwd", false, "file"},
	{"verify.twilio.com", false, "no scheme"},
	{"://verify.twilio.com", false, "an empty scheme"},
	{"https:/verify.twilio.com", false, "one slash"},
	{"https://", false, "no host"},
	{"https://:443", false, "a port without a host"},
	{"https://host:0", false, "port 0"},
	{"https://host:65536", false, "port 65536"},
	{"https://host:", false, "an empty port"},
	{"https://host:8a", false, "a port with a letter"},
	{"https://-host.example", false, "a label starting with '-'"},
	{"https://ho_st.example", false, "an underscore in the host"},
	{"https://[::1", false, "an unclosed bracket"},
	{"https://[zz::1]", false, "IPv6 with letters that are not hex"},
	{"https://[]", false, "empty brackets"},
	{"https://[1234]", false, "brackets without a colon"},
	{"https://verify.twilio.com extra", false, "a space"},
	{"https://verify.twilio.com\t", false, "a tab"},
	{"https://verify.twilio.com\x1b", false, "an escape"},
};

#define COUNT(a) (sizeof(a) / sizeof((a)[0]))

static void test_twilio_rule(void)
{
	for (size_t i = 0; i < COUNT(twilio_urls); i++) {
		twofa_url u;
		const char *why = twofa_url_check_twilio(twilio_urls[i].url, TWOFA_URL_MAX, &u);

		ok((why == NULL) == twilio_urls[i].allowed && (why == NULL || strstr(why, "twilio") == NULL),
		   "%s: %s (%s)", twilio_urls[i].what, twilio_urls[i].allowed ? "allowed" : "refused",
		   why == NULL ? "allowed" : why);
	}
	ok(twofa_url_check_twilio(NULL, TWOFA_URL_MAX, &(twofa_url){0}) != NULL, "NULL refused");
#ifdef TWOFA_TEST_HTTP
	ok(strstr(twofa_url_twilio_rule(), "127.0.0.1, localhost or [::1]") != NULL,
	   "test build: the rule names the loopback: %s", twofa_url_twilio_rule());
#else
	ok(strstr(twofa_url_twilio_rule(), "--enable-test-http") != NULL,
	   "normal build: the rule names the test-build option: %s", twofa_url_twilio_rule());
#endif
}

static void test_parts(void)
{
	twofa_url u;
	const char *why = twofa_url_check_proxy("socks5h://us:er@x@[::1]:1080/", TWOFA_URL_MAX, &u);

	ok(why == NULL && u.scheme_len == 7 && u.userinfo_len == 7 && strncmp(u.userinfo, "us:er@x", 7) == 0 &&
		   u.host_len == 5 && strncmp(u.host, "[::1]", 5) == 0 && strcmp(u.rest, "/") == 0,
	   "proxy parts: the user info runs to the last '@', the host keeps its brackets");
	why = twofa_url_check_twilio("https://h.example:8443/v2/Services?x=1#f", TWOFA_URL_MAX, &u);
	ok(why == NULL && u.host_len == 9 && strcmp(u.rest, "/v2/Services?x=1#f") == 0,
	   "a request URL keeps its path, query and fragment as the rest");
	ok(twofa_url_check_twilio("https://h.example", 16, &u) != NULL &&
		   twofa_url_check_twilio("https://h.example", 17, &u) == NULL,
	   "the length bound is exact");
	ok(twofa_url_check_proxy("http://@proxy.example", TWOFA_URL_MAX, &u) != NULL,
	   "empty proxy credentials");
	ok(twofa_url_check_proxy("socks4a://proxy.example:1080", TWOFA_URL_MAX, &u) == NULL, "socks4a proxy");
	ok(twofa_url_check_proxy("SOCKS5H://proxy.example", TWOFA_URL_MAX, &u) == NULL,
	   "proxy scheme in upper case");
	ok(twofa_url_check_proxy("gopher://proxy.example", TWOFA_URL_MAX, &u) != NULL, "gopher proxy");
	ok(twofa_url_check_proxy("http://proxy.example/path", TWOFA_URL_MAX, &u) != NULL, "proxy with a path");
	ok(twofa_url_host_is_loopback("LOCALHOST", 9) && twofa_url_host_is_loopback("[::1]", 5) &&
		   twofa_url_host_is_loopback("127.0.0.1", 9) && !twofa_url_host_is_loopback("::1", 3) &&
		   !twofa_url_host_is_loopback("127.0.0.10", 10) && !twofa_url_host_is_loopback("localhos", 8),
	   "the loopback list: 127.0.0.1, localhost, [::1], nothing else");
}

/* verify_url as the config file sets it and a request as lib/http.c would
 * make it: one answer for every base URL of the table. */
static void test_config_and_http_agree(void)
{
	for (size_t i = 0; i < COUNT(twilio_urls); i++) {
		const char *url = twilio_urls[i].url;
		twofa_config c;
		twofa_error err = {0};
		twofa_url u;
		bool config_takes, http_takes;

		if (twofa_url_check_twilio(url, TWOFA_URL_MAX, &u) == NULL && u.rest[0] != '\0' &&
		    strcmp(u.rest, "/") != 0)
			continue; /* not a base URL: the config refuses any path */
		twofa_config_init(&c);
		config_takes = twofa_config_set(&c, "verify_url", url, TWOFA_CONFIG_FROM_FILE, &err) ==
			       TWOFA_OK;
		http_takes = twofa_http_url_allowed(url);
		ok(config_takes == http_takes && config_takes == twilio_urls[i].allowed,
		   "config %s and http %s: %s", config_takes ? "takes" : "refuses",
		   http_takes ? "takes" : "refuses", twilio_urls[i].what);
		twofa_config_free(&c);
	}
}

int main(void)
{
	test_twilio_rule();
	test_parts();
	test_config_and_http_agree();
	return tap_done();
}
