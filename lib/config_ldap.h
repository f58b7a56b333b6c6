/* SPDX-License-Identifier: GPL-3.0-or-later */
/* The values of twofa.conf's ldap_* keys: the syntax of a directory URI and
 * of a URI list, a DN, a password, the filter template, and the rules that
 * tie the keys together (store = ldap needs ldap_uri and ldap_base;
 * ldap_tls = none only to the loopback or ldapi://). lib/config.c calls these
 * for each key; lib/ldap_conn.c reads the URI list they normalised. */
#ifndef TWOFA_CONFIG_LDAP_H
#define TWOFA_CONFIG_LDAP_H

#include <stdbool.h>
#include <stddef.h>

#include "config.h"
#include "error.h"

#define TWOFA_LDAP_URI_MAX 255 /* bytes of one URI */
#define TWOFA_LDAP_URIS_MAX 8  /* URIs in ldap_uri */
#define TWOFA_LDAP_DN_MAX 1024 /* ldap_base, ldap_*bind_dn */
#define TWOFA_LDAP_PASSWORD_MAX 256
#define TWOFA_LDAP_FILTER_MAX 512 /* the template, before %u is replaced */

/* Each returns NULL when v is fine, else why not (never quoting v). */

/* "ldap://host[:port][/]", "ldaps://...", "ldapi://[%2Fpath%2Fto%2Fsocket][/]":
 * host a name, an IPv4 address or an [IPv6] address; nothing after the '/'
 * (no DN, attributes or extensions: the keys say those). */
const char *twofa_ldap_uri_check(const char *v);

/* One to TWOFA_LDAP_URIS_MAX URIs separated by blanks or commas, each
 * checked as above. On success, when normalised is not NULL, *normalised is
 * the list written with single commas (malloc'd). */
const char *twofa_ldap_uri_list_check(const char *v, char **normalised);

/* True for ldapi:// and for ldap(s):// to localhost, 127.0.0.0/8 or [::1]. */
bool twofa_ldap_uri_is_local(const char *uri);

/* Copies the index-th URI of a normalised list (as twofa_config keeps
 * ldap_uri) into out; false past the last or when it does not fit. */
bool twofa_ldap_uri_at(const char *list, size_t index, char out[TWOFA_LDAP_URI_MAX + 1]);

/* A distinguished name: attr=value[,attr=value...], bounded, no control
 * character. The directory checks the rest. */
const char *twofa_ldap_dn_check(const char *v);

/* A bind password: 1..TWOFA_LDAP_PASSWORD_MAX bytes, no control character. */
const char *twofa_ldap_password_check(const char *v);

/* One parenthesised filter, parentheses balanced, at least one %u and no
 * other '%' sequence, no control character, bounded. */
const char *twofa_ldap_filter_template_check(const char *v);

/* The rules between keys, after every source set its keys (the file is
 * checked when it is loaded; lib/ldap_conn.c checks again before it
 * connects, so module arguments are held to them too). With store = ldap:
 * ldap_uri and ldap_base are set. Whenever ldap_uri is set: ldap_tls = none
 * only when every URI (ldap_write_uri too) is local, ldap_tls = ldaps only
 * with ldaps:// or ldapi:// URIs; ldap_client_cert and ldap_client_key go
 * together; ldap_sasl = external needs a client certificate unless every URI
 * is ldapi://. The message names the key and the URI, never a secret. */
twofa_status twofa_config_check_store(const twofa_config *c, twofa_error *err);

#endif
