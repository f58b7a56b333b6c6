/* SPDX-License-Identifier: GPL-3.0-or-later */
/* Shared pieces of twofa-enroll: the command table, errors and output. */
#ifndef TWOFA_CLI_H
#define TWOFA_CLI_H

#include <stdbool.h>
#include <stdio.h>
#include <sysexits.h>

#include "config.h"
#include "error.h"

typedef struct cli_context {
	const char *config_path; /* --config, or the default */
	bool color;              /* stdout is a terminal and NO_COLOR is unset */
} cli_context;

typedef struct cli_command {
	const char *name;
	int (*run)(cli_context *ctx, int argc, char **argv); /* argv[0] is the command */
	const char *synopsis;
	const char *summary;
} cli_command;

/* Prints "twofa-enroll: <message>" on stderr and returns exit_code. */
int cli_fail(int exit_code, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Prints err's message and returns the exit code its status maps to. */
int cli_fail_status(const twofa_error *err);

/* Prints the usage of one command on stream. */
void cli_usage(FILE *stream, const cli_command *cmd);

/* True if argv[i] asks for help. */
bool cli_wants_help(int argc, char **argv);

/* Command implementations, one file per group. */
int cmd_countries(cli_context *ctx, int argc, char **argv);
int cmd_normalize(cli_context *ctx, int argc, char **argv);

extern const cli_command cli_commands[];

#endif
