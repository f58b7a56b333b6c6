/* SPDX-License-Identifier: GPL-3.0-or-later */
/* libFuzzer target for the one-time code parser (lib/onetime_code.c), which
 * reads what a user types at the code prompt. Built and run by scripts/fuzz.
 * Invariants: a refused input leaves the output wiped, does not look like a
 * code and does not hash; an accepted one came from at most
 * TWOFA_ONETIME_INPUT_MAX bytes, is 16 symbols of the alphabet, normalises
 * to itself again (also in the shown form), and a hash made from the input
 * verifies for the canonical form at index 0 and for no other user. */
#include "twofa_build.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "onetime_code.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char alphabet[] = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";

static void check_accepted(const char *input, const char canonical[TWOFA_ONETIME_SIZE])
{
	char again[TWOFA_ONETIME_SIZE], shown[TWOFA_ONETIME_TEXT_SIZE];
	char hash[1][TWOFA_MEMBER_CODE_HASH_SIZE];
	twofa_error err;
	size_t at = 1, o = 0;

	if (strlen(input) > TWOFA_ONETIME_INPUT_MAX || strlen(canonical) != TWOFA_ONETIME_SYMBOLS ||
	    strspn(canonical, alphabet) != TWOFA_ONETIME_SYMBOLS || !twofa_onetime_looks_like(input))
		abort();
	if (!twofa_onetime_normalize(canonical, again) || strcmp(again, canonical) != 0)
		abort();
	for (size_t i = 0; i < TWOFA_ONETIME_SYMBOLS; i++) {
		if (i > 0 && i % 4 == 0)
			shown[o++] = '-';
		shown[o++] = canonical[i];
	}
	shown[o] = '\0';
	if (!twofa_onetime_normalize(shown, again) || strcmp(again, canonical) != 0)
		abort();
	if (twofa_onetime_hash("fuzz", TWOFA_MEMBER_CODE_RECOVERY, input, hash[0], &err) != TWOFA_OK ||
	    !twofa_member_code_hash_valid(hash[0]) ||
	    twofa_onetime_verify("fuzz", TWOFA_MEMBER_CODE_RECOVERY, canonical, hash, 1, &at, &err) !=
		    TWOFA_OK ||
	    at != 0 ||
	    twofa_onetime_verify("fuzz2", TWOFA_MEMBER_CODE_RECOVERY, input, hash, 1, &at, &err) !=
		    TWOFA_ENOTFOUND)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *input = malloc(size + 1);
	char canonical[TWOFA_ONETIME_SIZE], hash[TWOFA_MEMBER_CODE_HASH_SIZE];
	twofa_error err;

	if (input == NULL)
		return 0;
	memcpy(input, data, size);
	input[size] = '\0';
	if (twofa_onetime_normalize(input, canonical)) {
		check_accepted(input, canonical);
	} else {
		for (size_t i = 0; i < sizeof(canonical); i++)
			if (canonical[i] != '\0')
				abort();
		if (twofa_onetime_looks_like(input) ||
		    twofa_onetime_hash("fuzz", TWOFA_MEMBER_CODE_RECOVERY, input, hash, &err) != TWOFA_EINVAL ||
		    hash[0] != '\0')
			abort();
	}
	free(input);
	return 0;
}
