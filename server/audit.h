/* SPDX-License-Identifier: GPL-3.0-or-later */
/* Who is logging in from where, and the one syslog line per decision. */
#ifndef PAM_TWOFA_AUDIT_H
#define PAM_TWOFA_AUDIT_H

#include <stdbool.h>

#include "host.h"

#include "decision.h"
#include "state.h"

typedef struct twofa_audit {
	twofa_host *host;
	bool debug;
	const char *action; /* "auth", "account", "password" */
	char service[64];   /* sanitised copies, safe to log */
	char user[80];
	char from[136];            /* "rhost=HOST" or "tty=TTY" or "local" */
	twofa_state_origin origin; /* rhost, else tty and session: what lockouts and grace are bound to */
} twofa_audit;

/* Collects service, rhost and tty from the handle, and for a tty the login
 * session (see session_of_caller); user may be NULL. */
void twofa_audit_init(twofa_audit *a, twofa_host *host, const char *action, const char *user, bool debug);

/* The decision line of d at LOG_AUTHPRIV with d's priority:
 * "auth service=sshd user=alice rhost=192.0.2.1 channel=sms to=+1 ***-***-0123
 *  result=denied reason=wrong code". Never a code, password, token or number.
 * Only the entry point (pam_twofa.c) calls it, once per PAM call. */
void twofa_audit_decision(const twofa_audit *a, const twofa_decision *d);

/* A step line, only with the debug option. Same rules. */
void twofa_audit_debug(const twofa_audit *a, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#endif
