/* SPDX-License-Identifier: GPL-3.0-or-later */
/* The URLs twofa opens, each rule written once: Twilio's (verify_url and
 * lookup_url when the config is read, every request before it is made) and
 * the proxy. lib/config.c and lib/http.c both ask here. */
#ifndef TWOFA_URL_H
#define TWOFA_URL_H

#include <stdbool.h>
#include <stddef.h>

/* Bytes of any URL twofa opens (a request's, with its path), NUL excluded. */
#define TWOFA_URL_MAX 2048

/* scheme://[userinfo@]host[:port]rest, pointing into the checked string. */
typedef struct twofa_url {
	const char *scheme;
	size_t scheme_len;
	const char *userinfo; /* NULL when there is no '@' */
	size_t userinfo_len;
	const char *host; /* DNS name, IPv4 address or [IPv6] with its brackets */
	size_t host_len;
	const char *rest; /* path, query, fragment: "" or from the first '/', '?' or '#' */
} twofa_url;

/* True if the scheme is name, in any case (RFC 3986: HTTPS is https). */
bool twofa_url_scheme_is(const twofa_url *u, const char *name);

/* True for the loopback names plain http may go to in a test build:
 * 127.0.0.1, localhost (any case) and [::1]. */
bool twofa_url_host_is_loopback(const char *host, size_t len);

/* Why url (at most max bytes) may not be used to reach Twilio, or NULL when
 * it may, with *u filled: https://, or http:// to the loopback in a build
 * configured with --enable-test-http only; never with user info (credentials
 * go in the Authorization header). The reason never quotes the URL. */
const char *twofa_url_check_twilio(const char *url, size_t max, twofa_url *u);

/* The rule above in words, for error messages. */
const char *twofa_url_twilio_rule(void);

/* Why url (at most max bytes) may not be the proxy, or NULL when it may:
 * http, https, socks4, socks4a, socks5 or socks5h, a host, no path; user
 * info is allowed here (whether it may come from where it came is the
 * caller's rule) but never empty. */
const char *twofa_url_check_proxy(const char *url, size_t max, twofa_url *u);

#endif
