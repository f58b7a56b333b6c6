/* SPDX-License-Identifier: GPL-3.0-or-later */
/* The CLI helpers the import reader calls, for tests/fuzz/fuzz_import.c:
 * cli/main.c's versions print to stderr, which would only slow the fuzzer
 * down. They keep the contract the reader relies on (return the exit
 * code). */
#include "twofa_build.h"

#include "cli.h"

int cli_fail(int exit_code, const char *fmt, ...)
{
	(void)fmt;
	return exit_code;
}
