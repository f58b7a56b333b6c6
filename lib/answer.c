/* SPDX-License-Identifier: GPL-3.0-or-later */
#include "twofa_build.h"

#include <string.h>
#include <strings.h>

#include "answer.h"
#include "onetime_code.h"

/* Strips blanks at both ends, in place: people paste codes with spaces. */
static char *trim(char *s)
{
	char *end;

	while (*s == ' ' || *s == '\t')
		s++;
	end = s + strlen(s);
	while (end > s && (end[-1] == ' ' || end[-1] == '\t' || end[-1] == '\r' || end[-1] == '\n'))
		*--end = '\0';
	return s;
}

twofa_answer_kind twofa_answer_parse(char *answer, twofa_channel current, twofa_channel *channel, char **code)
{
	char *text = trim(answer);

	*code = text;
	*channel = current;
	if (text[0] == '\0')
		return TWOFA_ANSWER_EMPTY;
	if (strcasecmp(text, "resend") == 0)
		return TWOFA_ANSWER_RESEND;
	if (twofa_channel_parse(text, channel))
		return TWOFA_ANSWER_RESEND;
	*channel = current;
	if (strcasecmp(text, "recovery") == 0)
		return TWOFA_ANSWER_RECOVERY;
	/* 16 symbols with letters: never a Verify code (4..10 digits). */
	if (twofa_onetime_looks_like(text))
		return TWOFA_ANSWER_ONETIME;
	return TWOFA_ANSWER_CODE;
}
