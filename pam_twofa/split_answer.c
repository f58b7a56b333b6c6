/* SPDX-License-Identifier: GPL-3.0-or-later */
#include "twofa_build.h"

#include <stdlib.h>
#include <string.h>
#include <syslog.h>

#include <security/pam_ext.h>

#include "conv.h"
#include "split_answer.h"
#include "util.h"

/* The module's pam_set_data name for the kept code. */
#define CODE_DATA "pam_twofa_answer_code"

static bool blank(char c)
{
	return c == ' ' || c == '\t';
}

size_t twofa_split_point(const char *answer)
{
	size_t len = strlen(answer), digits = 0;

	while (digits < len && digits <= TWOFA_SPLIT_CODE_MAX && answer[len - 1 - digits] >= '0' &&
	       answer[len - 1 - digits] <= '9')
		digits++;
	if (digits < TWOFA_SPLIT_CODE_MIN || digits > TWOFA_SPLIT_CODE_MAX || digits + 2 > len ||
	    !blank(answer[len - 1 - digits]))
		return len;
	return len - 1 - digits;
}

static void wipe_code(pam_handle_t *pamh, void *data, int error_status)
{
	(void)pamh, (void)error_status;
	twofa_free_secret(data);
}

/* Forgets a code kept on this handle: an earlier pam_authenticate's code
 * never serves a later one (swaylock keeps its handle for every attempt). */
static void forget_code(pam_handle_t *pamh)
{
	const void *data = NULL;

	if (pam_get_data(pamh, CODE_DATA, &data) == PAM_SUCCESS && data != NULL)
		(void)pam_set_data(pamh, CODE_DATA, NULL, NULL); /* runs wipe_code on the old one */
}

int twofa_split_answer(pam_handle_t *pamh, bool debug)
{
	const void *item = NULL;
	char *answer = NULL, *code = NULL;
	size_t len, cut;
	int rc;

	forget_code(pamh);
	if (pam_get_item(pamh, PAM_AUTHTOK, &item) == PAM_SUCCESS && item != NULL) {
		if (strnlen(item, TWOFA_ANSWER_MAX + 1) > TWOFA_ANSWER_MAX)
			return PAM_AUTH_ERR;
		if ((answer = strdup(item)) == NULL)
			return PAM_BUF_ERR;
	} else if ((rc = twofa_conv_ask(pamh, PAM_PROMPT_ECHO_OFF, "Password: ", &answer)) != PAM_SUCCESS) {
		return rc;
	}
	len = strlen(answer);
	cut = twofa_split_point(answer);
	if (cut < len) {
		code = strdup(answer + cut + 1);
		if (code == NULL || pam_set_data(pamh, CODE_DATA, code, wipe_code) != PAM_SUCCESS) {
			twofa_free_secret(code);
			twofa_free_wiped(answer, len + 1);
			return PAM_BUF_ERR;
		}
		answer[cut] = '\0';
	}
	rc = pam_set_item(pamh, PAM_AUTHTOK, answer);
	twofa_free_wiped(answer, len + 1);
	if (rc != PAM_SUCCESS) {
		forget_code(pamh);
		return rc;
	}
	if (debug)
		pam_syslog(pamh, LOG_DEBUG, "split_answer: %s", code != NULL ? "a code was kept from the answer"
									 : "no code in the answer");
	return PAM_IGNORE;
}

bool twofa_split_answer_take(pam_handle_t *pamh, char *out, size_t size)
{
	const void *data = NULL;
	bool taken;

	if (pam_get_data(pamh, CODE_DATA, &data) != PAM_SUCCESS || data == NULL)
		return false;
	taken = twofa_strlcpy(out, data, size);
	if (!taken)
		explicit_bzero(out, size);
	forget_code(pamh);
	return taken;
}
