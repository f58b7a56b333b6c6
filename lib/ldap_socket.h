/* SPDX-License-Identifier: GPL-3.0-or-later */
/* The two steps of a directory connection that libldap 2.5 cannot bound,
 * done here with a deadline. Measured on Debian 12's 2.5.13 (GnuTLS): with
 * LDAP_OPT_NETWORK_TIMEOUT and LDAP_OPT_TIMEOUT at 2 s, a silent server
 * times out a plain bind or the StartTLS request after 2.0 s, but the TLS
 * handshake itself (ldaps://, or after a StartTLS the server accepted) to a
 * peer that never answers it still hung after 12 s, SO_RCVTIMEO on the
 * socket or not. So the TCP (or ldapi) connection is made here, with a
 * deadline, and handed to libldap (ldap_init_fd); the handshake runs with a
 * watchdog thread that shuts the socket down at the deadline, which ends
 * any read or write libldap is blocked in. The host name is resolved with
 * the same deadline (getaddrinfo_a): a resolver that never answers cost
 * 10 s per name with glibc's defaults (timeout:5 attempts:2), more than the
 * whole budget. */
#ifndef TWOFA_LDAP_SOCKET_H
#define TWOFA_LDAP_SOCKET_H

#include <stdbool.h>

#include <ldap.h>

/* Resolves uri's host and connects to its port (each address in turn; 389
 * or 636 by default), or to its ldapi:// socket, before deadline_ms
 * (twofa_wire_now_ms scale). Returns a blocking, close-on-exec descriptor, or -1 with *why
 * ("refused", "timed out", ...: a static string) and *dead true when the
 * server refused or timed out (as opposed to, say, no address). */
int twofa_ldap_socket_connect(const char *uri, long long deadline_ms, const char **why, bool *dead);

/* ldap_install_tls(ld) on fd, ld's socket, shut down at deadline_ms if the
 * handshake has not ended by then (*timed_out true). Returns libldap's
 * result code. */
int twofa_ldap_tls_bounded(LDAP *ld, int fd, long long deadline_ms, bool *timed_out);

#endif
