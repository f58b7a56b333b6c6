/* SPDX-License-Identifier: GPL-3.0-or-later */
/* The module's final answer to one PAM call, as a value: the PAM code to
 * return, the result word and priority of the one decision line, its reason,
 * and which fixed text the user sees. Flows build a decision; the entry point
 * logs it, tells the user and returns its code, once. A decision can be
 * serialised, so a separate server can make it and the module carry it out.
 * User texts come from one table (twofa_message); a reason never holds a
 * code, a password, a token or a full number. */
#ifndef TWOFA_DECISION_H
#define TWOFA_DECISION_H

#include <stdbool.h>
#include <stddef.h>

#include "error.h"

#define TWOFA_REASON_MAX 256 /* bytes with the NUL; longer reasons are cut */
#define TWOFA_DECISION_JSON_MAX 1024

typedef enum twofa_result {
	TWOFA_RESULT_SUCCESS = 0, /* let in */
	TWOFA_RESULT_DENIED,      /* refused: wrong factor, locked, limits */
	TWOFA_RESULT_IGNORED,     /* not ours to decide (nullok, out of scope) */
	TWOFA_RESULT_ERROR,       /* configuration, store or service failure */
} twofa_result;

/* Every fixed text the module shows; one row each in decision.c. */
typedef enum twofa_message {
	TWOFA_MSG_NONE = 0,
	TWOFA_MSG_LOCKED,
	TWOFA_MSG_PENDING,
	TWOFA_MSG_DISABLED,
	TWOFA_MSG_UNREACHABLE,
	TWOFA_MSG_MISCONFIGURED,
	TWOFA_MSG_SEND_LIMIT, /* arg: minutes until the next send */
	TWOFA_MSG_NO_EMAIL,
	TWOFA_MSG_COUNT
} twofa_message;

typedef struct twofa_decision {
	int pam_code;         /* PAM_SUCCESS, PAM_AUTH_ERR, ... */
	twofa_result result;
	int priority;         /* LOG_INFO, LOG_NOTICE, ... */
	twofa_message message;
	long message_arg;     /* the number some texts hold, 0..TWOFA_MESSAGE_ARG_MAX */
	char reason[TWOFA_REASON_MAX];
} twofa_decision;

#define TWOFA_MESSAGE_ARG_MAX 1000000L

/* Fills d; reason_fmt is printf-like, the result is cut to fit and has its
 * control characters replaced, so it is always safe to log. */
void twofa_decide(twofa_decision *d, int pam_code, twofa_result result, int priority,
		  twofa_message message, const char *reason_fmt, ...) __attribute__((format(printf, 6, 7)));

/* "success", "denied", "ignored" or "error". */
const char *twofa_result_name(twofa_result result);

/* The user's text for d in buf ("" for TWOFA_MSG_NONE); false if it does not fit. */
bool twofa_decision_user_text(const twofa_decision *d, char *buf, size_t size);

/* The stable names used on the wire and in tests ("PAM_AUTH_ERR", "notice",
 * "locked"); NULL for a value outside the known set. */
const char *twofa_pam_code_name(int pam_code);
const char *twofa_priority_name(int priority);
const char *twofa_message_name(twofa_message message);

/* {"v":1,"pam":"PAM_AUTH_ERR","result":"denied","priority":"notice",
 *  "message":"locked","arg":0,"reason":"..."}. Decoding refuses unknown
 * names, a wrong version, missing fields and anything over the bounds. */
twofa_status twofa_decision_encode(const twofa_decision *d, char **json, twofa_error *err);
twofa_status twofa_decision_decode(const char *json, size_t len, twofa_decision *d, twofa_error *err);

#endif
