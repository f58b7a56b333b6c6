/* SPDX-License-Identifier: GPL-3.0-or-later */
/* The syntax of twofa.conf's ldap_* values and the rules between them
 * (lib/config_ldap.h). Pure string checks: no libldap here, so loading the
 * config never initialises libldap (lib/ldap_conn.c does, after LDAPNOINIT). */
#include "twofa_build.h"

#include <stdlib.h>
#include <string.h>

#include "config_ldap.h"
#include "util.h"

static bool is_digit(char ch)
{
	return ch >= '0' && ch <= '9';
}

static bool is_alnum(char ch)
{
	return is_digit(ch) || (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z');
}

static bool is_hex(char ch)
{
	return is_digit(ch) || (ch >= 'a' && ch <= 'f') || (ch >= 'A' && ch <= 'F');
}

/* The scheme's length ("ldap://" 7, "ldaps://" and "ldapi://" 8), 0 for another. */
static size_t scheme_length(const char *uri)
{
	if (strncmp(uri, "ldap://", 7) == 0)
		return 7;
	if (strncmp(uri, "ldaps://", 8) == 0 || strncmp(uri, "ldapi://", 8) == 0)
		return 8;
	return 0;
}

/* A host name (letters, digits, '-' and '.', labels of 1..63) or an IPv4
 * address (which is one too, syntactically). */
static bool valid_hostname(const char *h, size_t len)
{
	size_t label = 0;

	if (len == 0 || len > 253)
		return false;
	for (size_t i = 0; i < len; i++) {
		if (h[i] == '.') {
			if (label == 0)
				return false;
			label = 0;
		} else if (is_alnum(h[i]) || h[i] == '-') {
			if (++label > 63)
				return false;
		} else {
			return false;
		}
	}
	return label > 0;
}

/* "[::1]", "[2001:db8::5]": hex digits, ':' and '.' (an embedded IPv4). */
static bool valid_ipv6(const char *h, size_t len)
{
	if (len < 4 || h[0] != '[' || h[len - 1] != ']' || len > 2 + 45)
		return false;
	for (size_t i = 1; i + 1 < len; i++) {
		if (!is_hex(h[i]) && h[i] != ':' && h[i] != '.')
			return false;
	}
	return memchr(h, ':', len) != NULL;
}

/* ldapi's host: empty (libldap's default socket) or an absolute path with
 * each '/' written %2F: unreserved characters and %XX escapes only. */
static bool valid_ldapi_path(const char *h, size_t len)
{
	if (len == 0)
		return true;
	if (len < 3 || h[0] != '%' || h[1] != '2' || (h[2] != 'F' && h[2] != 'f'))
		return false;
	for (size_t i = 0; i < len; i++) {
		if (h[i] == '%') {
			if (i + 2 >= len || !is_hex(h[i + 1]) || !is_hex(h[i + 2]) ||
			    (h[i + 1] == '0' && h[i + 2] == '0'))
				return false;
			i += 2;
		} else if (!is_alnum(h[i]) && strchr("-._~", h[i]) == NULL) {
			return false;
		}
	}
	return true;
}

const char *twofa_ldap_uri_check(const char *v)
{
	size_t len = strnlen(v, TWOFA_LDAP_URI_MAX + 1), skip = scheme_length(v), host_len, end;
	const char *host = v + skip;
	bool ldapi = strncmp(v, "ldapi://", 8) == 0;

	if (len > TWOFA_LDAP_URI_MAX)
		return "has a URI longer than 255 bytes";
	if (skip == 0)
		return "must be ldap://, ldaps:// or ldapi:// URIs";
	end = len;
	if (end > skip && v[end - 1] == '/')
		end--; /* "ldap://host/" is the same server */
	if (memchr(host, '/', end - skip) != NULL || memchr(host, '?', end - skip) != NULL)
		return "must name servers only: no DN, attributes or extensions after the host";
	host_len = end - skip;
	if (ldapi)
		return valid_ldapi_path(host, host_len)
			       ? NULL
			       : "has an ldapi:// URI whose socket is not an absolute path written with %2F";
	if (host_len > 0 && host[0] == '[') {
		const char *close = memchr(host, ']', host_len);
		size_t ip_len = close == NULL ? host_len : (size_t)(close - host) + 1;
		if (!valid_ipv6(host, ip_len))
			return "has a URI with a malformed [IPv6] address";
		host_len -= ip_len;
		host += ip_len;
	} else {
		const char *colon = memchr(host, ':', host_len);
		size_t name_len = colon == NULL ? host_len : (size_t)(colon - host);
		if (!valid_hostname(host, name_len))
			return "has a URI without a valid host name or address";
		host_len -= name_len;
		host += name_len;
	}
	if (host_len > 0) {
		char port[8];
		long n;
		if (host[0] != ':' || host_len - 1 >= sizeof(port))
			return "has a URI with a malformed port";
		memcpy(port, host + 1, host_len - 1);
		port[host_len - 1] = '\0';
		if (!twofa_parse_long(port, 1, 65535, &n))
			return "has a URI with a port outside 1..65535";
	}
	return NULL;
}

const char *twofa_ldap_uri_list_check(const char *v, char **normalised)
{
	static const char separators[] = " \t,";
	char uri[TWOFA_LDAP_URI_MAX + 1], *out = NULL;
	size_t count = 0, used = 0, total = strlen(v);
	const char *why = NULL;

	if (normalised != NULL) {
		*normalised = NULL;
		out = malloc(total + 1);
		if (out == NULL)
			return NULL; /* the caller sees no list: out of memory */
	}
	for (v += strspn(v, separators); *v != '\0' && why == NULL; v += strspn(v, separators)) {
		size_t len = strcspn(v, separators);
		if (++count > TWOFA_LDAP_URIS_MAX) {
			why = "lists more than 8 URIs";
		} else if (len > TWOFA_LDAP_URI_MAX) {
			why = "has a URI longer than 255 bytes";
		} else {
			memcpy(uri, v, len);
			uri[len] = '\0';
			why = twofa_ldap_uri_check(uri);
			if (why == NULL && out != NULL) {
				if (used > 0)
					out[used++] = ',';
				memcpy(out + used, uri, len);
				used += len;
			}
		}
		v += len;
	}
	if (why == NULL && count == 0)
		why = "must list at least one URI";
	if (why != NULL) {
		free(out);
		return why;
	}
	if (out != NULL) {
		out[used] = '\0';
		*normalised = out;
	}
	return NULL;
}

bool twofa_ldap_uri_at(const char *list, size_t index, char out[TWOFA_LDAP_URI_MAX + 1])
{
	const char *p = list;

	if (list == NULL)
		return false;
	for (size_t i = 0; i < index; i++) {
		p = strchr(p, ',');
		if (p == NULL)
			return false;
		p++;
	}
	size_t len = strcspn(p, ",");
	if (len == 0 || len > TWOFA_LDAP_URI_MAX)
		return false;
	memcpy(out, p, len);
	out[len] = '\0';
	return true;
}

bool twofa_ldap_uri_is_local(const char *uri)
{
	size_t skip = scheme_length(uri), len;
	const char *host = uri + skip;

	if (skip == 0)
		return false;
	if (strncmp(uri, "ldapi://", 8) == 0)
		return true;
	if (strncmp(host, "[::1]", 5) == 0)
		return host[5] == '\0' || host[5] == ':' || host[5] == '/';
	len = strcspn(host, ":/");
	if (len == 9 && strncmp(host, "localhost", 9) == 0)
		return true;
	/* 127.0.0.0/8: four decimal octets, the first 127. */
	if (len < 9 || strncmp(host, "127.", 4) != 0)
		return false;
	for (size_t i = 4, dots = 0, digits = 0; i <= len; i++) {
		if (i == len || host[i] == '.') {
			if (digits == 0 || digits > 3)
				return false;
			if (i == len)
				return dots == 2;
			dots++;
			digits = 0;
		} else if (is_digit(host[i])) {
			digits++;
		} else {
			return false;
		}
	}
	return false;
}

const char *twofa_ldap_dn_check(const char *v)
{
	size_t len = strnlen(v, TWOFA_LDAP_DN_MAX + 1);

	if (len > TWOFA_LDAP_DN_MAX)
		return "is longer than 1024 bytes";
	if (twofa_has_control(v, len))
		return "must not contain control characters";
	if (strchr(v, '=') == NULL || v[0] == '=' || v[0] == ',')
		return "must be a DN such as dc=example,dc=com";
	return NULL;
}

const char *twofa_ldap_password_check(const char *v)
{
	size_t len = strnlen(v, TWOFA_LDAP_PASSWORD_MAX + 1);

	if (len > TWOFA_LDAP_PASSWORD_MAX)
		return "is longer than 256 bytes";
	if (twofa_has_control(v, len))
		return "must not contain control characters";
	return NULL;
}

const char *twofa_ldap_filter_template_check(const char *v)
{
	size_t len = strnlen(v, TWOFA_LDAP_FILTER_MAX + 1), users = 0;
	int depth = 0;

	if (len > TWOFA_LDAP_FILTER_MAX)
		return "is longer than 512 bytes";
	if (twofa_has_control(v, len))
		return "must not contain control characters";
	if (v[0] != '(' || v[len - 1] != ')')
		return "must be one filter in parentheses, such as (cn=%u)";
	for (size_t i = 0; i < len; i++) {
		if (v[i] == '(') {
			depth++;
		} else if (v[i] == ')') {
			/* Closing the outer filter before the end: two filters. */
			if (--depth < 0 || (depth == 0 && i + 1 < len))
				return "must be one filter with balanced parentheses";
		} else if (v[i] == '%') {
			if (v[i + 1] != 'u')
				return "may hold no '%' but %u (the login name)";
			users++;
			i++;
		}
	}
	if (depth != 0)
		return "must be one filter with balanced parentheses";
	if (users == 0)
		return "must hold %u (the login name)";
	return NULL;
}

/* ---- the rules between keys ---- */

static bool is_ldapi(const char *uri)
{
	return strncmp(uri, "ldapi://", 8) == 0;
}

/* Checks one URI against ldap_tls and ldap_sasl; *all_ldapi is cleared by
 * a network URI. */
static twofa_status check_uri_rules(const twofa_config *c, const char *key, const char *uri, bool *all_ldapi,
				    twofa_error *err)
{
	if (!is_ldapi(uri))
		*all_ldapi = false;
	if (c->ldap_tls == TWOFA_LDAP_TLS_NONE && !twofa_ldap_uri_is_local(uri))
		return twofa_fail(err, TWOFA_ECONFIG,
				  "ldap_tls = none is only for ldapi:// and the loopback, and %s has %s: use "
				  "starttls or ldaps",
				  key, uri);
	if (c->ldap_tls == TWOFA_LDAP_TLS_LDAPS && strncmp(uri, "ldap://", 7) == 0)
		return twofa_fail(err, TWOFA_ECONFIG,
				  "ldap_tls = ldaps, but %s has %s: write ldaps:// (or set ldap_tls = starttls)",
				  key, uri);
	return TWOFA_OK;
}

twofa_status twofa_config_check_store(const twofa_config *c, twofa_error *err)
{
	char uri[TWOFA_LDAP_URI_MAX + 1];
	bool all_ldapi = true;
	twofa_status st;

	if (c == NULL)
		return twofa_fail(err, TWOFA_EINVAL, "config: invalid call to check_store");
	if (c->store == TWOFA_STORE_LDAP && c->ldap_uri == NULL)
		return twofa_fail(err, TWOFA_ECONFIG, "store = ldap needs ldap_uri (the directory servers)");
	if (c->store == TWOFA_STORE_LDAP && c->ldap_base == NULL)
		return twofa_fail(err, TWOFA_ECONFIG, "store = ldap needs ldap_base (where members are)");
	if (c->ldap_uri == NULL)
		return TWOFA_OK;
	for (size_t i = 0; twofa_ldap_uri_at(c->ldap_uri, i, uri); i++) {
		if ((st = check_uri_rules(c, "ldap_uri", uri, &all_ldapi, err)) != TWOFA_OK)
			return st;
	}
	if (c->ldap_write_uri != NULL &&
	    (st = check_uri_rules(c, "ldap_write_uri", c->ldap_write_uri, &all_ldapi, err)) != TWOFA_OK)
		return st;
	if ((c->ldap_client_cert == NULL) != (c->ldap_client_key == NULL))
		return twofa_fail(err, TWOFA_ECONFIG, "%s is set without %s: give both or neither",
				  c->ldap_client_cert != NULL ? "ldap_client_cert" : "ldap_client_key",
				  c->ldap_client_cert != NULL ? "ldap_client_key" : "ldap_client_cert");
	if (c->ldap_sasl == TWOFA_LDAP_SASL_EXTERNAL && !all_ldapi && c->ldap_client_cert == NULL)
		return twofa_fail(err, TWOFA_ECONFIG,
				  "ldap_sasl = external needs ldap_client_cert and ldap_client_key, unless every "
				  "URI is ldapi://");
	return TWOFA_OK;
}
