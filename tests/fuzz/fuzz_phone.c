/* SPDX-License-Identifier: GPL-3.0-or-later */
/* libFuzzer target for the phone parser: the first two bytes are the country
 * code, or pick one when they are no code, the rest is the typed number. Any
 * input must give E.164 or a reason, never crash or read out of bounds, and
 * an accepted number must be E.164, belong to the country and mask safely.
 * Not part of the normal build: scripts/fuzz builds and runs it. */
#include "twofa_build.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "countries.h"
#include "phone.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char country[3], input[TWOFA_PHONE_INPUT_MAX + 8], mask[TWOFA_PHONE_MASK_SIZE];
	const twofa_country *c;
	twofa_phone_result res;
	size_t n;

	if (size < 2)
		return 0;
	country[0] = (char)data[0];
	country[1] = (char)data[1];
	country[2] = '\0';
	if (twofa_country_by_code(country) == NULL && data[0] < 0x80) {
		c = twofa_country_at(((size_t)data[0] << 8 | data[1]) % twofa_country_count());
		memcpy(country, c->code, 3);
	}
	n = size - 2 < sizeof(input) - 1 ? size - 2 : sizeof(input) - 1;
	memcpy(input, data + 2, n);
	input[n] = '\0';

	if (twofa_phone_parse(input, country, &res) == TWOFA_PHONE_OK) {
		const char *region = twofa_phone_region(res.e164);
		if (!twofa_e164_valid(res.e164) || region == NULL)
			abort();
		twofa_phone_mask(res.e164, mask, sizeof(mask));
		if (mask[0] != '+')
			abort();
	} else if (res.e164[0] != '\0' || res.reason == TWOFA_PHONE_INTERNAL) {
		abort();
	}
	twofa_phone_mask(input, mask, sizeof(mask));
	(void)twofa_phone_region(input);
	return 0;
}
