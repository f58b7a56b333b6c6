/* SPDX-License-Identifier: GPL-3.0-or-later */
/* libFuzzer target for twofa-enroll import's input reader (cli_import_read
 * in cli/import_reader.c: line splitting, length bounds, per-line decoding,
 * duplicate users), fed through fmemopen. Built by scripts/fuzz. The CLI
 * helper it calls (cli_fail) is stubbed in cli_stubs.c; nothing is written
 * anywhere.
 * Invariants: an accepted input yields records sorted by user with no user
 * twice, and every stored record decodes again. */
#include "twofa_build.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "import_reader.h"
#include "member.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	cli_import_set set = {0};
	FILE *in;
	int rc;

	if (size == 0)
		return 0;
	in = fmemopen((void *)data, size, "r");
	if (in == NULL)
		return 0;
	rc = cli_import_read("fuzz", in, &set);
	fclose(in);
	if (rc == 0) {
		for (size_t i = 0; i < set.count; i++) {
			twofa_member m;
			if (i > 0 && strcmp(set.recs[i - 1].user, set.recs[i].user) >= 0)
				abort();
			if (twofa_member_decode(set.recs[i].json, strlen(set.recs[i].json), &m, NULL) !=
			    TWOFA_OK)
				abort();
			if (strcmp(m.user, set.recs[i].user) != 0)
				abort();
			twofa_member_free(&m);
		}
	}
	cli_import_set_free(&set);
	return 0;
}
