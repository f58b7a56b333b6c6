/* SPDX-License-Identifier: GPL-3.0-or-later */
/* Starting twofa-server for one PAM call, and reaping exactly it. */
#ifndef PAM_TWOFA_SPAWN_H
#define PAM_TWOFA_SPAWN_H

#include <stddef.h>
#include <sys/types.h>

/* Checks path (a regular file owned by root, not group- or world-writable,
 * in a directory of the same kind), then forks and execs it with one end of
 * a socketpair on fd 3. The child, before exec and with async-signal-safe
 * calls only: default signal dispositions and an empty mask, a session of
 * its own (setsid: the terminal's Ctrl-Z, Ctrl-C and SIGHUP go to the
 * caller's process group, not to it), every uid and gid 0 and no
 * supplementary groups, the default scheduler, nice value and I/O class,
 * fds 0-2 on /dev/null and nothing else open, umask 077, fixed rlimits, not
 * dumpable, and an empty environment. Returns the
 * module's end of the socket and *pid, or -1 with why set. Needs euid 0. */
int twofa_spawn_server(const char *path, pid_t *pid, char *why, size_t why_size);

/* Waits a little for pid to exit after its socket closed, then kills it;
 * reaps only pid. A host that ignores SIGCHLD (the kernel then reaps) or
 * reaps it itself is fine. how gets " (the server exited with status N)"
 * or " (... was killed by signal N)" for an unclean end, else "". */
void twofa_reap_server(pid_t pid, char *how, size_t how_size);

#endif
