/* SPDX-License-Identifier: GPL-3.0-or-later */
/* libFuzzer target for twofa-enroll import's input reader (read_input in
 * cli/cmd_transfer.c: line splitting, length bounds, per-line decoding,
 * duplicate users), fed through fmemopen. Built by scripts/fuzz. The CLI
 * helpers it calls are stubbed below; nothing is written anywhere.
 * Invariants: an accepted input yields records sorted by user with no user
 * twice, and every stored record decodes again. */
#include "twofa_build.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../cli/cmd_transfer.c"

volatile sig_atomic_t cli_interrupted;

int cli_fail(int exit_code, const char *fmt, ...)
{
	(void)fmt;
	return exit_code;
}

int cli_fail_status(const twofa_error *err)
{
	return twofa_status_exit_code(err->status);
}

void cli_note(const char *fmt, ...)
{
	(void)fmt;
}

int cli_usage_error(const char *command, const char *why)
{
	(void)command, (void)why;
	return EX_USAGE;
}

int cli_load_config(cli_context *ctx)
{
	(void)ctx;
	return EX_CONFIG;
}

int cli_load_members(cli_context *ctx, cli_member_row **rows, size_t *count, size_t *damaged)
{
	(void)ctx, (void)rows, (void)count, (void)damaged;
	return EX_CONFIG;
}

json_t *cli_member_json(const twofa_member *m, const cli_login_state *st, time_t now, bool with_export)
{
	(void)m, (void)st, (void)now, (void)with_export;
	return NULL;
}

void cli_members_free(cli_member_row *rows, size_t count)
{
	(void)rows, (void)count;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	import_set set = {0};
	FILE *in;
	int rc;

	if (size == 0)
		return 0;
	in = fmemopen((void *)data, size, "r");
	if (in == NULL)
		return 0;
	rc = read_input("fuzz", in, &set);
	fclose(in);
	if (rc == 0) {
		for (size_t i = 0; i < set.count; i++) {
			twofa_member m;
			if (i > 0 && strcmp(set.recs[i - 1].user, set.recs[i].user) >= 0)
				abort();
			if (twofa_member_decode(set.recs[i].json, strlen(set.recs[i].json), &m, NULL) != TWOFA_OK)
				abort();
			if (strcmp(m.user, set.recs[i].user) != 0)
				abort();
			twofa_member_free(&m);
		}
	}
	import_set_free(&set);
	return 0;
}
