/* SPDX-License-Identifier: GPL-3.0-or-later */
/* The PAM host, seen from the server: what the flows used to ask libpam
 * for, answered over the connection to the module. The items are the ones
 * the hello carried; the conversation, pam_get_user, setting PAM_AUTHTOK and
 * syslog lines are messages to the module, which does them in the caller's
 * process. Once the connection fails, every later step fails (PAM_CONV_ERR):
 * the module fails closed on its side. */
#ifndef TWOFA_HOST_H
#define TWOFA_HOST_H

#include <stdbool.h>

#include <security/_pam_types.h>

#include "proto.h"
#include "serve.h"

/* Longest answer kept; a longer one is refused as a whole, never truncated. */
#define TWOFA_ANSWER_MAX TWOFA_PROTO_TEXT_MAX

typedef struct twofa_host {
	int fd;
	const twofa_peer *peer;
	long caller_ruid; /* the real uid the caller runs with */
	bool broken;
	bool has_item[TWOFA_ITEM_COUNT];
	char items[TWOFA_ITEM_COUNT][TWOFA_PROTO_ITEM_MAX + 1];
	/* The last echo-off answer: the only value PAM_AUTHTOK may be set to,
	 * so a secret never travels from the server to the caller. */
	bool has_secret_answer;
	char secret_answer[TWOFA_ANSWER_MAX + 1];
} twofa_host;

/* Starts h from a decoded hello (its items are copied). */
void twofa_host_init(twofa_host *h, int fd, const twofa_peer *peer, const twofa_msg *hello);

/* Wipes h. */
void twofa_host_wipe(twofa_host *h);

/* pam_get_item for PAM_SERVICE, PAM_USER, PAM_RHOST, PAM_TTY, PAM_RUSER,
 * PAM_AUTHTOK and PAM_OLDAUTHTOK: PAM_SUCCESS with *value NULL when the
 * module had none; PAM_BAD_ITEM for any other item. */
int twofa_host_get_item(twofa_host *h, int item, const void **value);

/* pam_set_item(PAM_AUTHTOK, value): value must be the last echo-off answer.
 * Any other item or value is PAM_BAD_ITEM. */
int twofa_host_set_item(twofa_host *h, int item, const void *value);

/* pam_get_user in the module (which may prompt for the name). */
int twofa_host_get_user(twofa_host *h, const char **user);

/* Asks one question (PAM_PROMPT_ECHO_OFF or _ON). On PAM_SUCCESS *answer is a
 * malloc'd string the caller frees with twofa_free_secret. A failed
 * conversation or no answer is PAM_CONV_ERR; an answer over
 * TWOFA_ANSWER_MAX bytes is PAM_AUTH_ERR. */
int twofa_host_ask(twofa_host *h, int style, const char *prompt, char **answer);

/* Shows a message (PAM_ERROR_MSG or PAM_TEXT_INFO) unless silent. */
void twofa_host_tell(twofa_host *h, int style, bool silent, const char *text);

/* One syslog line, written by the module with pam_syslog (so it reads
 * "pam_twofa(SERVICE:CALL): ..." as before the split); twofad also writes
 * it to its own log, with the peer's uid and pid. */
void twofa_host_syslog(twofa_host *h, int priority, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* pam_strerror's text for the codes the module passes on. */
const char *twofa_host_strerror(int rc);

/* Sends done: the PAM code to return and the text to show (NULL: none). */
bool twofa_host_done(twofa_host *h, int pam_code, const char *text);

#endif
