/* SPDX-License-Identifier: GPL-3.0-or-later */
/* libFuzzer target for module arguments: pam_twofa hands every key=value
 * argument that is not one of its own flags to twofa_config_set with
 * TWOFA_CONFIG_FROM_ARGS (pam_twofa/options.c), so that is what is fuzzed
 * here. The input is split on NUL and newline into arguments; each one is
 * split at its first '='. Whatever the input: no crash or leak, a secret key
 * is always refused from an argument, and a refusal says why. Built and run
 * by scripts/fuzz. */
#include "twofa_build.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"

#define MAX_ARG 512

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	twofa_config c;
	size_t start = 0;

	twofa_config_init(&c);
	while (start < size) {
		size_t end = start;
		char arg[MAX_ARG + 1], *eq;
		twofa_error err;

		while (end < size && data[end] != '\0' && data[end] != '\n')
			end++;
		if (end - start <= MAX_ARG) {
			memcpy(arg, data + start, end - start);
			arg[end - start] = '\0';
			eq = strchr(arg, '=');
			if (eq != NULL) {
				twofa_status st;

				*eq = '\0';
				memset(&err, 0, sizeof(err));
				st = twofa_config_set(&c, arg, eq + 1, TWOFA_CONFIG_FROM_ARGS, &err);
				if (st == TWOFA_OK && twofa_config_key_is_secret(arg))
					abort(); /* a secret never comes from the PAM stack */
				if (st != TWOFA_OK && err.msg[0] == '\0')
					abort();
			}
		}
		start = end + 1;
	}
	twofa_config_free(&c);
	return 0;
}
