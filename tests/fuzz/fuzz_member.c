/* SPDX-License-Identifier: GPL-3.0-or-later */
/* libFuzzer target for the member record decoder. Built and run by
 * scripts/fuzz (rules in tests/fuzz/fuzz.am). Whatever the input: no
 * crash, no leak; a record that decodes validates, re-encodes, and decodes
 * again to the same bytes. */
#include "twofa_build.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "member.h"
#include "util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	twofa_member m, again;
	twofa_error err;
	char *json = NULL, *json2 = NULL;

	if (twofa_member_decode((const char *)data, size, &m, &err) != TWOFA_OK) {
		if (m.user != NULL || m.password_hash != NULL || err.msg[0] == '\0')
			abort(); /* a failed decode leaves nothing behind and says why */
		return 0;
	}
	if (twofa_member_validate(&m, &err) != TWOFA_OK || twofa_member_encode(&m, &json, &err) != TWOFA_OK)
		abort();
	if (twofa_member_decode(json, strlen(json), &again, &err) != TWOFA_OK ||
	    twofa_member_encode(&again, &json2, &err) != TWOFA_OK || strcmp(json, json2) != 0)
		abort();
	twofa_free_secret(json);
	twofa_free_secret(json2);
	twofa_member_free(&again);
	twofa_member_free(&m);
	return 0;
}
