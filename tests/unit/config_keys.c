/* SPDX-License-Identifier: GPL-3.0-or-later */
/* Prints lib/config.c's key table, one key a line, tab-separated:
 *   name  kind  flags  range  default
 * flags: "secret", "optional" or "-"; range: "MIN..MAX" for a number, the
 * words (w1|w2|...) for a choice or a channel list, the SID prefix for a
 * SID, else "-"; default: as the file would write it, empty when none. A
 * first comment line gives the build's localstatedir, which the defaults
 * of the stores start with. For tests/unit/test_config_docs.py. */
#include "twofa_build.h"

#include <stdio.h>
#include <string.h>

#include "config.h"

static void print_range(const twofa_config_key *k)
{
	if (strcmp(k->kind, "number") == 0) {
		printf("%ld..%ld", k->min, k->max);
	} else if (k->words != NULL) {
		for (size_t i = 0; k->words[i] != NULL; i++)
			printf("%s%s", i > 0 ? "|" : "", k->words[i]);
	} else if (k->sid_prefix != NULL) {
		printf("%s", k->sid_prefix);
	} else {
		printf("-");
	}
}

int main(void)
{
	twofa_config_key k;

	printf("# localstatedir=%s\n", TWOFA_LOCALSTATEDIR);
	for (size_t i = 0; twofa_config_key_describe(i, &k); i++) {
		printf("%s\t%s\t%s\t", k.name, k.kind, k.secret ? "secret" : k.optional ? "optional" : "-");
		print_range(&k);
		printf("\t%s\n", k.default_value);
	}
	return fflush(stdout) == 0 ? 0 : 1;
}
