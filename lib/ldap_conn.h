/* SPDX-License-Identifier: GPL-3.0-or-later */
/* A bound connection to one directory server, chosen with failover that
 * beats libldap's own. libldap moves to the next URI only when a connection
 * is refused; a server that accepts TCP and then says nothing (or never
 * finishes the TLS handshake) hangs it. Here each URI of ldap_uri is tried
 * in order with a deadline on connect, the TLS handshake, the bind and every
 * later operation (ldap_timeout seconds each), within one budget of
 * ldap_timeout x 2 for the whole connect, and for the whole PAM call when the
 * caller keeps a twofa_ldap_budget; a server that failed is remembered as
 * dead for 30 s in a file under ldap_run_dir, /run/twofa/ldap (the per-call
 * server lives for one login), and tried after the others (lib/ldap_dead.h).
 *
 * Every libldap option is set here, explicitly: TLS REQUIRE_CERT demand, the
 * CA file, a new TLS context per handle, referrals never chased, protocol
 * version 3. The process sets LDAPNOINIT=1 in its own environment before the
 * first libldap call, so no ldaprc, ldap.conf or LDAP* variable counts.
 * Only lib/ touches libldap. */
#ifndef TWOFA_LDAP_CONN_H
#define TWOFA_LDAP_CONN_H

#include <stdbool.h>

#include <ldap.h>

#include "config.h"
#include "error.h"

typedef struct twofa_ldap twofa_ldap;

/* Whose bind and which servers: LOGIN binds with ldap_bind_dn/_password and
 * reads from ldap_uri in order; ADMIN binds with ldap_admin_bind_dn/_password;
 * WRITE connects only to ldap_write_uri (the one provider that takes writes). */
typedef enum { TWOFA_LDAP_LOGIN, TWOFA_LDAP_ADMIN } twofa_ldap_identity;

/* Connects and binds, failing over as above. TWOFA_EUNAVAIL when no server
 * answered within the budget, its message naming every URI tried and why
 * (never a credential); TWOFA_ECONFIG for a bad URI or key (the rules of
 * twofa_config_check_store are checked again here), and when a server's
 * certificate did not verify (a wrong ldap_ca_file or someone in the way:
 * not an outage, so no cache may stand in); TWOFA_EPERM when a server
 * refused the bind (wrong DN or password: trying the next server would not
 * help). Anonymous when the identity has no bind DN (and ldap_sasl = none). */
twofa_status twofa_ldap_connect(twofa_ldap **out, const twofa_config *cfg, twofa_ldap_identity who,
				bool write, twofa_error *err);

/* twofa_ldap_connect within a budget the caller keeps: every step ends by
 * end_ms (twofa_wire_now_ms time) at the latest, and so do the connection's
 * operations until twofa_ldap_set_deadline. */
twofa_status twofa_ldap_connect_until(twofa_ldap **out, const twofa_config *cfg, twofa_ldap_identity who,
				      bool write, long long end_ms, twofa_error *err);

/* The bound libldap handle, with LDAP_OPT_TIMEOUT and LDAP_OPT_NETWORK_TIMEOUT
 * set to min(ldap_timeout, what is left of the budget) by this call: call it
 * before each operation. Valid until twofa_ldap_close. NULL once
 * twofa_ldap_fail saw the server fail (the caller closes it, and may connect
 * again on what is left of its budget: twofa_ldap_connect_until). */
LDAP *twofa_ldap_handle(twofa_ldap *l);

/* The URI this connection went to, for messages. */
const char *twofa_ldap_uri(const twofa_ldap *l);

/* Milliseconds an operation may still take: min(ldap_timeout, budget left);
 * 0 when the budget is spent (the caller fails with TWOFA_EUNAVAIL). */
long twofa_ldap_op_deadline_ms(const twofa_ldap *l);

/* Starts a new budget of ldap_timeout x 2 for the next call on a connection
 * kept open; twofa_ldap_connect starts the first. */
void twofa_ldap_new_budget(twofa_ldap *l);

/* The connection's operations end by end_ms at the latest (a budget the
 * caller keeps: twofa_ldap_budget). */
void twofa_ldap_set_deadline(twofa_ldap *l, long long end_ms);

/* True once twofa_ldap_fail saw the server fail (twofa_ldap_handle gives NULL). */
bool twofa_ldap_broken(const twofa_ldap *l);

/* The directory time of one PAM call: ldap_timeout x 2 in all (issue 13:
 * "a login never waits more than ldap_timeout x 2 for the directory"), over
 * however many operations and connections the call makes. Only the time
 * between resume and pause counts: a prompt between two store calls spends
 * none of it. */
typedef struct twofa_ldap_budget {
	long long left_ms;    /* what is left */
	long long resumed_ms; /* when the running stretch began; 0: paused */
} twofa_ldap_budget;

/* A whole budget for cfg: ldap_timeout x 2. */
void twofa_ldap_budget_init(twofa_ldap_budget *b, const twofa_config *cfg);

/* Starts a stretch; returns its deadline, now + what is left (now when
 * nothing is: every step then fails at once with TWOFA_EUNAVAIL). */
long long twofa_ldap_budget_resume(twofa_ldap_budget *b);

/* Ends the stretch, charging its time. */
void twofa_ldap_budget_pause(twofa_ldap_budget *b);

/* True when every server of ldap_uri was remembered dead less than
 * TWOFA_LDAP_DEAD_SECONDS ago (lib/ldap_dead.h), why then naming them: a
 * login host may take its cached record at once (lib/member_store.h). */
bool twofa_ldap_all_dead(const twofa_config *cfg, twofa_error *why);

/* Maps a libldap result code to a status with a message naming what was
 * done ("search", "modify") and the server, never a value: LDAP_SERVER_DOWN,
 * LDAP_TIMEOUT, LDAP_CONNECT_ERROR -> TWOFA_EUNAVAIL (and the server is
 * remembered as dead); LDAP_ASSERTION_FAILED -> TWOFA_ECONFLICT;
 * LDAP_NO_SUCH_OBJECT -> TWOFA_ENOTFOUND; LDAP_ALREADY_EXISTS,
 * LDAP_TYPE_OR_VALUE_EXISTS -> TWOFA_EEXIST; LDAP_INSUFFICIENT_ACCESS ->
 * TWOFA_EPERM; the rest TWOFA_ESTORE. */
twofa_status twofa_ldap_fail(twofa_ldap *l, int rc, const char *doing, twofa_error *err);

/* Unbinds and frees; NULL is fine. */
void twofa_ldap_close(twofa_ldap *l);

/* RFC 4515 escaping of one assertion value (the canonical login name) into
 * out: '*', '(', ')', '\\', NUL and every byte >= 0x80 or < 0x20 as \XX.
 * len bytes of value (so a NUL in it is escaped, not an end). false if out
 * is too small. */
bool twofa_ldap_escape_filter_value(const char *value, size_t len, char *out, size_t out_size);

/* Builds the search filter for user from ldap_filter's template (each %u
 * replaced by the escaped name), always ANDed with (objectClass=twofaMember).
 * TWOFA_EINVAL for a name that does not fit; the template itself was checked
 * when the config was loaded. *filter is malloc'd. */
twofa_status twofa_ldap_member_filter(const twofa_config *cfg, const char *user, char **filter,
				      twofa_error *err);

#endif
