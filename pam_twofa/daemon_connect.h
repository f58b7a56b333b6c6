/* SPDX-License-Identifier: GPL-3.0-or-later */
/* The module's side of twofad's socket: connect only to a server that is
 * root's, as pam_sss does (the socket file owned by root, not reached
 * through a symbolic link, and the listening peer uid 0 by SO_PEERCRED). */
#ifndef TWOFA_DAEMON_CONNECT_H
#define TWOFA_DAEMON_CONNECT_H

#include <stddef.h>

/* twofa_daemon_connect's results besides a descriptor. */
#define TWOFA_DAEMON_ABSENT (-2)      /* nothing at the path (daemon=auto: per call for root) */
#define TWOFA_DAEMON_UNAVAILABLE (-1) /* there, but not answering or not root's */

/* Connects to twofad's socket at path within timeout_ms. Returns the
 * connected descriptor (blocking, close-on-exec), or TWOFA_DAEMON_ABSENT or
 * TWOFA_DAEMON_UNAVAILABLE with why (a NUL-terminated line for the log,
 * without the caller's data) set. */
int twofa_daemon_connect(const char *path, int timeout_ms, char *why, size_t why_size);

#endif
