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

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>

#include "error.h"

#define TWOFA_REASON_MAX 256          /* bytes with the NUL; longer reasons are cut */
#define TWOFA_DECISION_CHANNEL_MAX 16 /* "sms", "call", "whatsapp", "email" */
#define TWOFA_DECISION_TO_MAX 40      /* a masked destination: "+1 ***-***-0123", "***@example.com" */
#define TWOFA_DECISION_JSON_MAX 1024

typedef enum twofa_result {
	TWOFA_RESULT_SUCCESS = 0, /* let in */
	TWOFA_RESULT_DENIED,      /* refused: wrong factor, locked, limits */
	TWOFA_RESULT_IGNORED,     /* not ours to decide (nullok, out of scope) */
	TWOFA_RESULT_ERROR,       /* configuration, store or service failure */
} twofa_result;

/* Every fixed text the module shows, final answers and the texts of the
 * conversation alike; one row each in decision.c. A row's argument is a
 * count (minutes, tries left), a twofa_channel or a twofa_verify_outcome. */
typedef enum twofa_message {
	TWOFA_MSG_NONE = 0,
	TWOFA_MSG_LOCKED,
	TWOFA_MSG_PENDING,
	TWOFA_MSG_DISABLED,
	TWOFA_MSG_UNREACHABLE,
	TWOFA_MSG_MISCONFIGURED,
	TWOFA_MSG_SEND_LIMIT, /* arg: minutes until the next send */
	TWOFA_MSG_NO_EMAIL,
	TWOFA_MSG_CHANNEL_REFUSED,        /* arg: the channel; the first send */
	TWOFA_MSG_CHANNEL_REFUSED_RESEND, /* arg: the channel; a resend, before the next prompt */
	TWOFA_MSG_SEND_LIMIT_RESEND,      /* arg: minutes; a resend, before the next prompt */
	TWOFA_MSG_RESEND_FAILED,
	TWOFA_MSG_COUNTRY_REFUSED, /* the member's number is in a country countries no longer lists */
	TWOFA_MSG_VERIFY,          /* arg: the twofa_verify_outcome; its user text */
	TWOFA_MSG_WRONG_CODE,
	TWOFA_MSG_NO_CODE,
	TWOFA_MSG_CODE_EXPIRED,
	TWOFA_MSG_RETRY_WRONG, /* the code prompt after a try; arg: tries left */
	TWOFA_MSG_RETRY_EMPTY,
	TWOFA_MSG_RETRY_EXPIRED,
	TWOFA_MSG_PASSWORDS_DIFFER,
	TWOFA_MSG_PASSWORD_EMPTY,
	TWOFA_MSG_PASSWORD_TOO_LONG, /* arg: the longest password in bytes */
	TWOFA_MSG_PASSWORD_NOT_HASHED,
	TWOFA_MSG_SINGLE_ANSWER,  /* the program answered the code prompt with the password */
	TWOFA_MSG_CODE_IN_ANSWER, /* arg: the channel; with the decision's destination */
	/* Recovery and bypass codes (server/recovery.c). */
	TWOFA_MSG_RECOVERY_PROMPT,      /* the echo-off prompt after the answer 'recovery' */
	TWOFA_MSG_RECOVERY_OUTAGE,      /* the same prompt when Twilio cannot be reached */
	TWOFA_MSG_RECOVERY_RETRY_WRONG, /* the recovery prompt after a wrong code; arg: tries left */
	TWOFA_MSG_RECOVERY_RETRY_EMPTY, /* arg: tries left */
	TWOFA_MSG_RECOVERY_REFUSED,     /* recovery = no: before the next code prompt */
	TWOFA_MSG_RECOVERY_NONE,        /* the member holds no code: before the next code prompt */
	TWOFA_MSG_RECOVERY_LOW,         /* a recovery code let in; arg: codes left (two or fewer) */
	TWOFA_MSG_RECOVERY_UNAVAILABLE, /* the code could not be consumed: refused */
	TWOFA_MSG_PRESS_ENTER,          /* a prompt that only waits, for a text PAM_SILENT would drop */
	/* Self-enrolment at login (server/enrol.c): its prompts, the notices said
	 * at the start of the next prompt, and its final texts. */
	TWOFA_MSG_ENROL_INVITE_PROMPT,   /* echo off */
	TWOFA_MSG_ENROL_COUNTRY_PROMPT,  /* echo on */
	TWOFA_MSG_ENROL_COUNTRY_LIST,    /* before the allowed codes, after the answer '?' */
	TWOFA_MSG_ENROL_COUNTRY_UNKNOWN, /* a notice */
	TWOFA_MSG_ENROL_COUNTRY_REFUSED, /* a notice: not in countries */
	TWOFA_MSG_ENROL_PHONE_PROMPT,    /* echo on */
	TWOFA_MSG_ENROL_PHONE_INVALID,   /* a notice: not a number of the country */
	TWOFA_MSG_ENROL_PHONE_REFUSED,   /* a notice: Lookup's no, or a number that may not be used */
	TWOFA_MSG_ENROL_INVITE_WRONG,    /* final: wrong, expired or used invite */
	TWOFA_MSG_ENROL_TOO_MANY,        /* final: max_tries answers that could not be used */
	TWOFA_MSG_ENROL_CANCELLED,       /* final: an empty answer or a cancel */
	TWOFA_MSG_ENROL_TAKEN,           /* final: another login enrolled the user meanwhile */
	TWOFA_MSG_ENROL_DONE,            /* final, with the decision's destination */
	TWOFA_MSG_APP_LOCKED,            /* final: TWOFA_STATE_APP_FAILURES_MAX wrong app codes */
	TWOFA_MSG_COUNT
} twofa_message;

typedef struct twofa_decision {
	int pam_code; /* PAM_SUCCESS, PAM_AUTH_ERR, ... */
	twofa_result result;
	int priority; /* LOG_INFO, LOG_NOTICE, ...; LOG_DEBUG: a line only with debug */
	twofa_message message;
	long message_arg;                         /* the number some texts hold, 0..TWOFA_MESSAGE_ARG_MAX */
	char channel[TWOFA_DECISION_CHANNEL_MAX]; /* where the code went: a channel name or "" */
	char to[TWOFA_DECISION_TO_MAX];           /* the masked destination or "" */
	char reason[TWOFA_REASON_MAX];
} twofa_decision;

#define TWOFA_MESSAGE_ARG_MAX 1000000L

/* Fills d; reason_fmt is printf-like, the result is cut to fit and has its
 * control characters replaced, so it is always safe to log. */
void twofa_decide(twofa_decision *d, int pam_code, twofa_result result, int priority, twofa_message message,
		  const char *reason_fmt, ...) __attribute__((format(printf, 6, 7)));

/* The same with the reason's arguments as a va_list. */
void twofa_decide_va(twofa_decision *d, int pam_code, twofa_result result, int priority, twofa_message message,
		     const char *reason_fmt, va_list ap) __attribute__((format(printf, 6, 0)));

/* The decision every flow starts from, so one that decides nothing fails
 * closed: PAM_SERVICE_ERR, result=error. */
void twofa_decide_nothing_yet(twofa_decision *d);

/* Where the code went, for the decision line: channel is a channel name
 * (or NULL), to the masked destination (or NULL); both are cut to fit and
 * sanitised. */
void twofa_decision_set_destination(twofa_decision *d, const char *channel, const char *to);

/* Whether d gets a decision line: always, except a LOG_DEBUG decision (the
 * module had nothing to say: out of scope, not in use), which is logged
 * only with the debug option. */
bool twofa_decision_logged(const twofa_decision *d, bool debug);

/* "success", "denied", "ignored" or "error". */
const char *twofa_result_name(twofa_result result);

/* The text of one row with its argument in buf ("" for TWOFA_MSG_NONE);
 * false if it does not fit or arg is not valid for the row. A row that names
 * the destination reads without it here (twofa_decision_user_text has it). */
bool twofa_message_text(twofa_message message, long arg, char *buf, size_t size);

/* The user's text for d in buf ("" for TWOFA_MSG_NONE); false if it does not fit. */
bool twofa_decision_user_text(const twofa_decision *d, char *buf, size_t size);

/* The stable names used on the wire and in tests ("PAM_AUTH_ERR", "notice",
 * "locked"); NULL for a value outside the known set. */
const char *twofa_pam_code_name(int pam_code);
const char *twofa_priority_name(int priority);
const char *twofa_message_name(twofa_message message);

/* {"v":1,"pam":"PAM_AUTH_ERR","result":"denied","priority":"notice",
 *  "message":"locked","arg":0,"channel":"sms","to":"+1 ***-***-0123",
 *  "reason":"..."}. Decoding refuses unknown names, a wrong version, missing
 * fields, an argument the message cannot hold and anything over the bounds. */
twofa_status twofa_decision_encode(const twofa_decision *d, char **json, twofa_error *err);
twofa_status twofa_decision_decode(const char *json, size_t len, twofa_decision *d, twofa_error *err);

#endif
