/* SPDX-License-Identifier: GPL-3.0-or-later */
/* What the user typed at the code prompt: a code, a resend command or nothing. */
#ifndef PAM_TWOFA_ANSWER_H
#define PAM_TWOFA_ANSWER_H

#include "config.h"

typedef enum twofa_answer_kind {
	TWOFA_ANSWER_EMPTY = 0, /* only blanks */
	TWOFA_ANSWER_RESEND,    /* "resend", "call", "sms", "whatsapp", "email" */
	TWOFA_ANSWER_CODE,      /* anything else: Twilio and the verify client judge it */
} twofa_answer_kind;

/* Trims blanks (and a trailing CR/LF) from answer in place and classifies it.
 * For RESEND, *channel is the channel asked for ("resend": current). *code
 * points into answer: the trimmed text. */
twofa_answer_kind twofa_answer_parse(char *answer, twofa_channel current, twofa_channel *channel, char **code);

#endif
