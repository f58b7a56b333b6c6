/* SPDX-License-Identifier: GPL-3.0-or-later */
/* libFuzzer target for what a user types at the code prompt
 * (server/answer.c). Built by scripts/fuzz. Invariants: the code points
 * into the answer, has no blank at either end, and only an empty trimmed
 * answer is EMPTY; a RESEND names a valid channel; an answer is ONETIME
 * exactly when lib/onetime_code.h takes it for a code (so no code-shaped
 * answer ever goes to Twilio, and nothing else is tried as a code). */
#include "twofa_build.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "answer.h"
#include "onetime_code.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *answer = malloc(size + 1), *code = NULL;
	twofa_channel channel;
	twofa_answer_kind kind;
	size_t len;

	if (answer == NULL)
		return 0;
	memcpy(answer, data, size);
	answer[size] = '\0';
	kind = twofa_answer_parse(answer, TWOFA_CHANNEL_SMS, &channel, &code);
	len = strlen(code);
	if (code < answer || code > answer + size)
		abort();
	if ((kind == TWOFA_ANSWER_EMPTY) != (len == 0))
		abort();
	if (len > 0 && (code[0] == ' ' || code[0] == '\t' || code[len - 1] == ' ' || code[len - 1] == '\n'))
		abort();
	if (kind == TWOFA_ANSWER_RESEND && twofa_channel_name(channel) == NULL)
		abort();
	if ((kind == TWOFA_ANSWER_ONETIME) != twofa_onetime_looks_like(code))
		abort();
	free(answer);
	return 0;
}
