/* SPDX-License-Identifier: GPL-3.0-or-later */
/* One PAM call served on a connected socket: the hello, the flow it asks
 * for, the done. The same for both transports: twofa-server (one process per
 * PAM call, started by a root module) and twofad (one thread per
 * connection). */
#ifndef TWOFA_SERVE_H
#define TWOFA_SERVE_H

#include <stdbool.h>
#include <sys/types.h>

/* Who is on the other end, as the transport knows it (never as the hello
 * says). */
typedef struct twofa_peer {
	bool daemon;             /* twofad: a socket peer, uid and pid from SO_PEERCRED */
	uid_t uid;               /* the peer's uid; 0 for twofa-server's parent module */
	pid_t pid;               /* the caller's process: its login session binds grace */
	const char *config_path; /* twofad's own twofa.conf; NULL: the default, or a root caller's config= */
} twofa_peer;

/* Deadlines of the server side. The module's own deadline is its
 * server_timeout= argument. */
#define TWOFA_SERVE_HELLO_MS 10000         /* from connect to a complete hello */
#define TWOFA_SERVE_ANSWER_MS (15 * 60000) /* a user at a prompt: longer than a code lives */
#define TWOFA_SERVE_WRITE_MS 10000         /* the module takes a frame */

/* Serves one call on fd (which it does not close). False when the
 * connection failed or the peer broke the protocol; the module then fails
 * closed on its side. */
bool twofa_serve(int fd, const twofa_peer *peer);

#endif
