/* SPDX-License-Identifier: GPL-3.0-or-later */
/* The dead-server memory of lib/ldap_conn.c: a directory server that timed
 * out or refused is remembered for TWOFA_LDAP_DEAD_SECONDS in a small file
 * of its own under ldap_run_dir, so the next login (a new per-call server)
 * does not pay its timeout again. A dead server is tried after the others,
 * never left out, with one exception: when every server is remembered dead,
 * a login whose member this host has a usable cached record of takes that
 * record without trying them (lib/member_store.h, sssd's offline mode). So a
 * corrupt, foreign or forged record can cost time, or serve a member what
 * the directory itself said within ldap_cache_max_age, but never fails a
 * login without a try nor lets anyone in the directory would not. The directory is
 * created mode 0700 and must be the caller's (root's) and writable by nobody
 * else; a record that is not a regular file of the caller's, mode 0600 at
 * most, with a plausible content, is ignored. Errors are never reported:
 * without the memory, logins only take longer. */
#ifndef TWOFA_LDAP_DEAD_H
#define TWOFA_LDAP_DEAD_H

#include <stdbool.h>

#define TWOFA_LDAP_DEAD_SECONDS 30

/* True when uri was marked dead less than TWOFA_LDAP_DEAD_SECONDS ago. */
bool twofa_ldap_dead_recent(const char *dir, const char *uri);

/* Marks uri dead from now on. */
void twofa_ldap_dead_mark(const char *dir, const char *uri);

/* Forgets uri's mark (it answered). */
void twofa_ldap_dead_clear(const char *dir, const char *uri);

#endif
