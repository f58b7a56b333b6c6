/* SPDX-License-Identifier: GPL-3.0-or-later */
/* The URL rules (lib/url.h). A strict subset of RFC 3986: what passes here
 * is read the same way by libcurl, so no URL means one host to us and
 * another to the library that connects. */
#include "twofa_build.h"

#include <string.h>
#include <strings.h>

#include "url.h"
#include "util.h"

/* tests/verify/test_verify_https_only and tests/unit/test_url_https_only
 * build this file as a normal build has it: no plain http at all. */
#ifdef TWOFA_HTTPS_ONLY
#undef TWOFA_TEST_HTTP
#endif

static bool is_digit(char ch)
{
	return ch >= '0' && ch <= '9';
}

static bool is_hex(char ch)
{
	return is_digit(ch) || (ch >= 'a' && ch <= 'f') || (ch >= 'A' && ch <= 'F');
}

static bool is_alnum(char ch)
{
	return is_digit(ch) || (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z');
}

/* DNS name or IPv4 address: labels of letters, digits and inner hyphens. */
static bool valid_hostname(const char *h, size_t len)
{
	size_t label = 0;

	if (len == 0 || len > 253)
		return false;
	for (size_t i = 0; i <= len; i++) {
		if (i == len || h[i] == '.') {
			if (label == 0 || label > 63 || h[i - 1] == '-' || h[i - label] == '-')
				return false;
			label = 0;
		} else if (is_alnum(h[i]) || h[i] == '-') {
			label++;
		} else {
			return false;
		}
	}
	return true;
}

/* [v6]: hex digits, colons and dots (an embedded IPv4) between brackets,
 * no zone. */
static bool valid_ipv6(const char *a, size_t len)
{
	bool colon = false;

	if (len < 4 || len > 47 || a[0] != '[' || a[len - 1] != ']')
		return false;
	for (size_t i = 1; i + 1 < len; i++) {
		if (!is_hex(a[i]) && a[i] != ':' && a[i] != '.')
			return false;
		colon |= a[i] == ':';
	}
	return colon;
}

/* host, host:port, [v6] or [v6]:port; the port 1..65535. */
static bool split_host_port(const char *a, size_t len, twofa_url *u)
{
	unsigned long port = 0;
	size_t h;

	if (len > 0 && a[0] == '[') {
		const char *close = memchr(a, ']', len);
		h = close == NULL ? 0 : (size_t)(close - a) + 1;
		if (!valid_ipv6(a, h))
			return false;
	} else {
		const char *colon = memchr(a, ':', len);
		h = colon == NULL ? len : (size_t)(colon - a);
		if (!valid_hostname(a, h))
			return false;
	}
	u->host = a;
	u->host_len = h;
	if (h == len)
		return true;
	if (a[h] != ':' || len - h < 2 || len - h > 6)
		return false;
	for (size_t i = h + 1; i < len; i++) {
		if (!is_digit(a[i]))
			return false;
		port = port * 10 + (unsigned long)(a[i] - '0');
	}
	return port >= 1 && port <= 65535;
}

/* Splits url into *u; the userinfo runs to the last '@' of the authority. */
static const char *split(const char *url, size_t max, twofa_url *u)
{
	const char *sep, *authority, *at;
	size_t len, authority_len;

	memset(u, 0, sizeof(*u));
	if (url == NULL)
		return "is missing";
	len = strnlen(url, max + 1);
	if (len > max)
		return "is too long";
	if (twofa_has_control(url, len) || memchr(url, ' ', len) != NULL)
		return "must not contain spaces or control characters";
	sep = strstr(url, "://");
	if (sep == NULL || sep == url)
		return "must be a URL such as https://host";
	u->scheme = url;
	u->scheme_len = (size_t)(sep - url);
	authority = sep + 3;
	authority_len = strcspn(authority, "/?#");
	u->rest = authority + authority_len;
	for (at = authority; (at = memchr(at, '@', authority_len - (size_t)(at - authority))) != NULL; at++) {
		u->userinfo = authority;
		u->userinfo_len = (size_t)(at - authority);
	}
	if (u->userinfo != NULL) {
		authority_len -= u->userinfo_len + 1;
		authority += u->userinfo_len + 1;
	}
	if (!split_host_port(authority, authority_len, u))
		return "has an invalid host or port";
	return NULL;
}

bool twofa_url_scheme_is(const twofa_url *u, const char *name)
{
	return u->scheme != NULL && strlen(name) == u->scheme_len &&
	       strncasecmp(u->scheme, name, u->scheme_len) == 0;
}

bool twofa_url_host_is_loopback(const char *host, size_t len)
{
	return (len == 9 && memcmp(host, "127.0.0.1", len) == 0) ||
	       (len == 9 && strncasecmp(host, "localhost", len) == 0) ||
	       (len == 5 && memcmp(host, "[::1]", len) == 0);
}

const char *twofa_url_twilio_rule(void)
{
#ifdef TWOFA_TEST_HTTP
	return "must start with https:// (or, in this test build, http:// to 127.0.0.1, localhost or "
	       "[::1]), without user info";
#else
	return "must start with https://, without user info (plain http:// is accepted only by test "
	       "builds, configure --enable-test-http)";
#endif
}

const char *twofa_url_check_twilio(const char *url, size_t max, twofa_url *u)
{
	const char *why = split(url, max, u);

	if (why != NULL)
		return why;
	if (u->userinfo != NULL)
		return "must not contain user credentials";
	if (twofa_url_scheme_is(u, "https"))
		return NULL;
#ifdef TWOFA_TEST_HTTP
	if (twofa_url_scheme_is(u, "http") && twofa_url_host_is_loopback(u->host, u->host_len))
		return NULL;
#endif
	return twofa_url_twilio_rule();
}

static const char *const proxy_schemes[] = {
	"http", "https", "socks4", "socks4a", "socks5", "socks5h", NULL,
};

const char *twofa_url_check_proxy(const char *url, size_t max, twofa_url *u)
{
	const char *why = split(url, max, u);
	bool known = false;

	if (why != NULL)
		return why;
	for (size_t i = 0; proxy_schemes[i] != NULL; i++)
		known |= twofa_url_scheme_is(u, proxy_schemes[i]);
	if (!known)
		return "must start with http://, https://, socks4://, socks4a://, socks5:// or socks5h://";
	if (u->userinfo != NULL && u->userinfo_len == 0)
		return "has empty credentials before '@'";
	if (u->rest[0] != '\0' && strcmp(u->rest, "/") != 0)
		return "must not have a path, query or fragment";
	return NULL;
}
