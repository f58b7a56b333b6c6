/* SPDX-License-Identifier: GPL-3.0-or-later */
/* twofad's connections: one thread each, under a bound on them all and a
 * smaller one per non-root uid, so a user holding idle connections cannot
 * keep other users (or root) from logging in. */
#ifndef TWOFA_DAEMON_CONNS_H
#define TWOFA_DAEMON_CONNS_H

#include <stdbool.h>

#define TWOFAD_MAX_CONNECTIONS 256
#define TWOFAD_MAX_PER_UID 8
#define TWOFAD_LIMIT_MAX 4096 /* the largest either bound may be set to */

typedef struct twofad_limits {
	unsigned connections; /* all callers together */
	unsigned per_uid;     /* each non-root uid; root has only the first bound */
} twofad_limits;

/* Before the first twofad_conns_take. config_path is handed to every call
 * and must outlive the connections. */
bool twofad_conns_init(const twofad_limits *lim, const char *config_path);

/* An accepted connection: served on a thread of its own, or closed at once
 * (with a LOG_WARNING line) when its caller is over a bound. Never blocks
 * on the caller. */
void twofad_conns_take(int fd);

/* Ends every connection (the calls in progress fail closed on the module's
 * side) and waits up to wait_ms for their threads. True when none is left. */
bool twofad_conns_stop(int wait_ms);

#endif
