/* SPDX-License-Identifier: GPL-3.0-or-later */
#include "twofa_build.h"

#include <stdlib.h>
#include <string.h>

#include "conv.h"
#include "util.h"

static int converse(pam_handle_t *pamh, int style, const char *text, struct pam_response **resp)
{
	const struct pam_conv *conv = NULL;
	struct pam_message msg = {.msg_style = style, .msg = text};
	const struct pam_message *msgs[1] = {&msg};
	int rc;

	*resp = NULL;
	rc = pam_get_item(pamh, PAM_CONV, (const void **)&conv);
	if (rc != PAM_SUCCESS || conv == NULL || conv->conv == NULL)
		return PAM_CONV_ERR;
	rc = conv->conv(1, msgs, resp, conv->appdata_ptr);
	if (rc != PAM_SUCCESS) {
		/* Applications may hand back a partial answer on failure. */
		if (*resp != NULL) {
			twofa_free_secret((*resp)[0].resp);
			free(*resp);
			*resp = NULL;
		}
		return PAM_CONV_ERR;
	}
	return PAM_SUCCESS;
}

int twofa_conv_ask(pam_handle_t *pamh, int style, const char *prompt, char **answer)
{
	struct pam_response *resp = NULL;
	int rc;

	*answer = NULL;
	rc = converse(pamh, style, prompt, &resp);
	if (rc != PAM_SUCCESS)
		return rc;
	if (resp == NULL || resp[0].resp == NULL) {
		free(resp);
		return PAM_CONV_ERR;
	}
	if (strnlen(resp[0].resp, TWOFA_ANSWER_MAX + 1) > TWOFA_ANSWER_MAX) {
		twofa_free_secret(resp[0].resp);
		free(resp);
		return PAM_AUTH_ERR;
	}
	*answer = resp[0].resp;
	free(resp);
	return PAM_SUCCESS;
}

void twofa_conv_tell(pam_handle_t *pamh, int style, bool silent, const char *text)
{
	struct pam_response *resp = NULL;

	if (silent)
		return;
	if (converse(pamh, style, text, &resp) == PAM_SUCCESS && resp != NULL) {
		twofa_free_secret(resp[0].resp);
		free(resp);
	}
}
