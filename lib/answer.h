/* SPDX-License-Identifier: GPL-3.0-or-later */
/* What the user typed at the code prompt: a code, a resend command, a
 * recovery code or the word asking for one, or nothing. */
#ifndef TWOFA_ANSWER_H
#define TWOFA_ANSWER_H

#include "config.h"

typedef enum twofa_answer_kind {
	TWOFA_ANSWER_EMPTY = 0, /* only blanks */
	TWOFA_ANSWER_RESEND,    /* "resend", "call", "sms", "whatsapp", "email" */
	TWOFA_ANSWER_RECOVERY,  /* "recovery": the member asks to type a recovery code */
	TWOFA_ANSWER_ONETIME,   /* in the form of a recovery or bypass code (lib/onetime_code.h) */
	TWOFA_ANSWER_CODE,      /* anything else: Twilio and the verify client judge it */
} twofa_answer_kind;

/* Trims blanks (and a trailing CR/LF) from answer in place and classifies it;
 * the words are case-insensitive.
 * For RESEND, *channel is the channel asked for ("resend": current). *code
 * points into answer: the trimmed text. */
twofa_answer_kind twofa_answer_parse(char *answer, twofa_channel current, twofa_channel *channel, char **code);

#endif
