/* SPDX-License-Identifier: GPL-3.0-or-later */
/* twofad's warm member stores: a small pool of LOGIN handles on the
 * directory (store = ldap), so that its logins reuse one connection (its
 * StartTLS and bind, 2-3 ms) instead of making one per PAM call. A handle
 * is shared only by configs whose every key the member store reads is the
 * same (store, ldap_uri, ldap_base, the bind DN and password, the TLS keys,
 * ldap_timeout, the cache and run paths...): config= may differ per request.
 * At most as many handles as twofad has connections; each used by one
 * request at a time; one unused for the idle time is closed (so a new bind
 * password, CA or certificate file, or a server that came back, is picked
 * up), and so is one older than the maximum age, however busy; one whose
 * connection failed is closed rather than kept. GDBM handles
 * are cheap and never pooled. Until twofa_member_pool_start (twofa-server,
 * one PAM call per process) every take opens a handle and every give closes
 * it. Thread-safe. */
#ifndef TWOFA_MEMBER_POOL_H
#define TWOFA_MEMBER_POOL_H

#include "config.h"
#include "error.h"
#include "member_store.h"

/* Default seconds an unused handle stays open. */
#define TWOFA_MEMBER_POOL_IDLE_DEFAULT 60
/* Default seconds a handle is used at most, busy or not: a busy twofad's
 * connection to a replica later in ldap_uri goes back to the first server
 * that came back within this time (sssd's ldap_connection_expire_timeout
 * default). */
#define TWOFA_MEMBER_POOL_MAX_AGE_DEFAULT 900

/* Pools up to max handles, each closed after idle_seconds unused or, at the
 * end of the call that finds it so, max_age_seconds after it was opened.
 * false when out of memory (or called twice). Before the first thread. */
bool twofa_member_pool_start(unsigned max, unsigned idle_seconds, unsigned max_age_seconds);

/* A LOGIN handle for one PAM call on cfg (which must outlive the call, not
 * the handle: a pooled handle holds its own copy of the keys it reads), its
 * directory budget new (twofa_member_store_new_call). Errors as
 * twofa_member_store_open's. */
twofa_status twofa_member_pool_take(const twofa_config *cfg, twofa_member_store **out, twofa_error *err);

/* The call is over: the handle goes back to the pool, or is closed. NULL is
 * fine. */
void twofa_member_pool_give(twofa_member_store *s);

/* Closes every handle; none may be taken any more. After the last request. */
void twofa_member_pool_stop(void);

#endif
