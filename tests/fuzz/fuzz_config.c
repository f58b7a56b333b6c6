/* SPDX-License-Identifier: GPL-3.0-or-later */
/* libFuzzer target for the twofa.conf parser: any bytes must parse or fail
 * cleanly, never crash, leak or read out of bounds. Built and run by
 * scripts/fuzz (rules in tests/fuzz/fuzz.am). */
#include "twofa_build.h"

#include <stddef.h>
#include <stdint.h>

#include "config.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	twofa_config c;
	twofa_error err;

	twofa_config_init(&c);
	if (twofa_config_parse(&c, "fuzz.conf", (const char *)data, size, &err) == TWOFA_OK)
		(void)twofa_config_check_credentials(&c, &err);
	twofa_config_free(&c);
	return 0;
}
