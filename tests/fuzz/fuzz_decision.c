/* SPDX-License-Identifier: GPL-3.0-or-later */
/* libFuzzer target for the decision decoder (built and run by scripts/fuzz).
 * Whatever the input: no crash, no leak; a refused input leaves a decision
 * that fails closed; an accepted one has a loggable reason and destination,
 * re-encodes and decodes again to the same decision. */
#include "twofa_build.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <security/_pam_types.h>

#include "decision.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	twofa_decision d, again;
	twofa_error err;
	char *json = NULL;

	if (twofa_decision_decode((const char *)data, size, &d, &err) != TWOFA_OK) {
		if (d.pam_code != PAM_SERVICE_ERR || d.result != TWOFA_RESULT_ERROR)
			abort();
		return 0;
	}
	for (const char *p = d.reason; *p != '\0'; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			abort();
	for (const char *p = d.to; *p != '\0'; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			abort();
	if (twofa_decision_encode(&d, &json, &err) != TWOFA_OK)
		abort();
	if (twofa_decision_decode(json, strlen(json), &again, &err) != TWOFA_OK ||
	    again.pam_code != d.pam_code || again.result != d.result || again.priority != d.priority ||
	    again.message != d.message || again.message_arg != d.message_arg ||
	    strcmp(again.reason, d.reason) != 0 || strcmp(again.channel, d.channel) != 0 ||
	    strcmp(again.to, d.to) != 0)
		abort();
	free(json);
	return 0;
}
