/* SPDX-License-Identifier: GPL-3.0-or-later */
/* The PAM conversation: prompts and messages, with answers bounded and wiped. */
#ifndef PAM_TWOFA_CONV_H
#define PAM_TWOFA_CONV_H

#include <stdbool.h>

#include <security/pam_modules.h>

/* Longest answer kept; a longer one is refused as a whole, never truncated. */
#define TWOFA_ANSWER_MAX 1024

/* Asks one question (PAM_PROMPT_ECHO_OFF or _ON). On PAM_SUCCESS *answer is a
 * malloc'd string the caller frees with twofa_free_secret. A failed
 * conversation or a NULL answer is PAM_CONV_ERR; an answer over
 * TWOFA_ANSWER_MAX bytes is PAM_AUTH_ERR. */
int twofa_conv_ask(pam_handle_t *pamh, int style, const char *prompt, char **answer);

/* Shows a message (PAM_ERROR_MSG or PAM_TEXT_INFO) unless silent. */
void twofa_conv_tell(pam_handle_t *pamh, int style, bool silent, const char *text);

#endif
