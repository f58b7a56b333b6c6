/* SPDX-License-Identifier: GPL-3.0-or-later */
/* twofad's listening socket: the one systemd passed (socket activation,
 * Accept=no), or one twofad makes itself (--foreground): mode 0666 in a
 * root-owned directory no one else may write, as pam_sss's pipe. Anyone may
 * connect; the peer rules decide what a caller may do. */
#ifndef TWOFA_DAEMON_LISTEN_H
#define TWOFA_DAEMON_LISTEN_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#define TWOFAD_SOCKET_DEFAULT "/run/twofa/twofad.sock"

typedef struct twofad_listener {
	int fd;           /* listening, non-blocking, close-on-exec */
	bool activated;   /* passed by systemd: never removed by us */
	char path[108];   /* the socket file twofad made ("" when activated) */
	dev_t dev;        /* and its inode, so only that file is removed */
	ino_t ino;
} twofad_listener;

/* The socket systemd passed, if LISTEN_PID names this process: 1 with l->fd
 * set; 0 when there was no activation for us (why says so when LISTEN_PID
 * named another process, else ""); -1 with why set when the activation is
 * not what twofad needs. The LISTEN_* variables are removed either way. */
int twofad_listen_activated(twofad_listener *l, char *why, size_t why_size);

/* Makes and listens on the socket at path (its directory is made 0755 when
 * missing). A stale socket (nobody listening) is replaced; a live one, or
 * anything that is not a socket, is not. False with why set. */
bool twofad_listen_create(twofad_listener *l, const char *path, char *why, size_t why_size);

/* Closes the socket; removes the file only when twofad made it and it is
 * still the one it made. */
void twofad_listen_close(twofad_listener *l);

#endif
