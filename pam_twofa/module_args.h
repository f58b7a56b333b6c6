/* SPDX-License-Identifier: GPL-3.0-or-later */
/* The module's own arguments: how to reach the server. Every other argument
 * travels to the server in the hello, which parses and applies it. */
#ifndef PAM_TWOFA_MODULE_ARGS_H
#define PAM_TWOFA_MODULE_ARGS_H

#include <stdbool.h>
#include <stddef.h>

#include "proto.h"

typedef enum twofa_daemon_use {
	TWOFA_DAEMON_AUTO = 0, /* twofad when its socket is there, else per call when euid is 0 */
	TWOFA_DAEMON_YES,      /* twofad only */
	TWOFA_DAEMON_NO,       /* per call only (euid 0) */
} twofa_daemon_use;

#define TWOFA_DEFAULT_SOCKET "/run/twofa/twofad.sock"
#define TWOFA_SERVER_TIMEOUT_DEFAULT 300 /* seconds; more than a step's HTTP timeouts */
#define TWOFA_SERVER_TIMEOUT_MAX 3600

typedef struct twofa_module_args {
	twofa_daemon_use daemon;
	const char *socket;     /* socket=PATH */
	const char *server;     /* server=PATH: twofa-server, default in pkglibexecdir */
	int server_timeout;     /* server_timeout=SECONDS: the longest wait for one server message */
	bool split_answer;      /* split_answer: this line splits the password's answer, no server */
	bool debug;             /* debug (also forwarded): split_answer's line */
	size_t nforward;        /* the rest, for the server */
	const char *forward[TWOFA_PROTO_ARGS_MAX];
} twofa_module_args;

/* Splits argv. False with why set when an argument of the module's own is
 * malformed, or the rest do not fit the hello (count or length). */
bool twofa_module_args_parse(int argc, const char **argv, twofa_module_args *a, char *why, size_t why_size);

#endif
