/* SPDX-License-Identifier: GPL-3.0-or-later */
/* libFuzzer target for conversation answers: pam_twofa/conv.c (linked in,
 * with libpam's pam_get_item replaced by the stub below) asks a question and the
 * "application" answers with the fuzz input. The first byte picks how the
 * application behaves (answer, no resp array, NULL resp, a failure with or
 * without a partial answer); the rest is the answer, NULs and all, possibly
 * far over TWOFA_ANSWER_MAX. Invariants: PAM_SUCCESS always comes with a
 * terminated answer of at most TWOFA_ANSWER_MAX bytes; anything else leaves
 * no answer; nothing leaks (LeakSanitizer). Built and run by scripts/fuzz.
 * The module's treatment of the answer after that (trim, "resend"/channel
 * words, code check) is static in pam_twofa/second_factor.c and not reached
 * from here. */
#include "twofa_build.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "conv.h"
#include "util.h"

enum app_behaviour { APP_ANSWER, APP_NO_ARRAY, APP_NULL_RESP, APP_FAIL_PARTIAL, APP_FAIL, APP_BEHAVIOURS };

static const uint8_t *fuzz_data;
static size_t fuzz_size;

static int fuzz_conversation(int n, const struct pam_message **msg, struct pam_response **resp, void *appdata)
{
	enum app_behaviour how = (enum app_behaviour)(fuzz_data[0] % APP_BEHAVIOURS);
	struct pam_response *r;
	char *text;

	(void)appdata;
	if (n != 1 || msg[0]->msg == NULL)
		abort(); /* the module asks one thing at a time */
	if (how == APP_NO_ARRAY)
		return PAM_SUCCESS;
	if (how == APP_FAIL)
		return PAM_CONV_ERR;
	r = calloc(1, sizeof(*r));
	if (r == NULL)
		return PAM_BUF_ERR;
	if (how != APP_NULL_RESP) {
		text = malloc(fuzz_size);
		if (text == NULL) {
			free(r);
			return PAM_BUF_ERR;
		}
		memcpy(text, fuzz_data + 1, fuzz_size - 1);
		text[fuzz_size - 1] = '\0';
		r->resp = text;
	}
	*resp = r;
	return how == APP_FAIL_PARTIAL ? PAM_CONV_ERR : PAM_SUCCESS;
}

static const struct pam_conv fuzz_conv = {fuzz_conversation, NULL};

/* libpam declares the handle nonnull; the stub never looks inside. */
static char fake_handle;
#define FAKE_PAMH ((pam_handle_t *)(void *)&fake_handle)

/* libpam is not linked into fuzz targets: the conversation item is all
 * conv.c asks for. */
int pam_get_item(const pam_handle_t *pamh, int item_type, const void **item)
{
	(void)pamh;
	if (item_type != PAM_CONV)
		return PAM_BAD_ITEM;
	*item = &fuzz_conv;
	return PAM_SUCCESS;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *answer = (char *)"not touched";
	int rc;

	if (size < 1)
		return 0;
	fuzz_data = data;
	fuzz_size = size;
	rc = twofa_conv_ask(FAKE_PAMH, (data[0] & 0x80) ? PAM_PROMPT_ECHO_ON : PAM_PROMPT_ECHO_OFF,
			    "Code: ", &answer);
	if (rc == PAM_SUCCESS) {
		if (answer == NULL || strlen(answer) > TWOFA_ANSWER_MAX)
			abort();
		twofa_free_secret(answer);
	} else if (answer != NULL || (rc != PAM_CONV_ERR && rc != PAM_AUTH_ERR)) {
		abort();
	}
	twofa_conv_tell(FAKE_PAMH, PAM_ERROR_MSG, (data[0] & 0x40) != 0, "Wrong code.");
	return 0;
}
