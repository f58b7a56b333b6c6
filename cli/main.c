/* SPDX-License-Identifier: GPL-3.0-or-later */
/* twofa-enroll: enrolment and administration of twofa members.
 * main() parses the global options and dispatches to one command. */
#include "twofa_build.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"

const cli_command cli_commands[] = {
	{"countries", cmd_countries, "countries [--json]",
	 "list countries with their ISO code and calling code"},
	{"normalize", cmd_normalize, "normalize --country CC [--] NUMBER",
	 "print NUMBER in E.164 form for country CC"},
	{NULL, NULL, NULL, NULL},
};

int cli_fail(int exit_code, const char *fmt, ...)
{
	va_list ap;

	fputs("twofa-enroll: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	return exit_code;
}

int cli_fail_status(const twofa_error *err)
{
	return cli_fail(twofa_status_exit_code(err->status), "%s", err->msg);
}

void cli_usage(FILE *stream, const cli_command *cmd)
{
	fprintf(stream, "usage: twofa-enroll [--config PATH] %s\n  %s\n", cmd->synopsis, cmd->summary);
}

bool cli_wants_help(int argc, char **argv)
{
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--") == 0)
			return false;
		if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0)
			return true;
	}
	return false;
}

static void print_help(FILE *stream)
{
	fprintf(stream,
		"usage: twofa-enroll [--config PATH] COMMAND [ARGS]\n"
		"       twofa-enroll --help | --version\n\n"
		"Enrol and administer members of the twofa second factor (pam_twofa).\n\n"
		"Commands:\n");
	for (const cli_command *c = cli_commands; c->name != NULL; c++)
		fprintf(stream, "  %-36s %s\n", c->synopsis, c->summary);
	fprintf(stream,
		"\nOptions:\n"
		"  --config PATH   configuration file (default %s)\n"
		"  --help          this text; COMMAND --help for one command\n"
		"  --version       print the version\n\n"
		"Exit status: 0 success, 64 usage, 65 bad input data, 69 Twilio unavailable,\n"
		"73 store cannot be written, 77 permission, 78 configuration, 1 other errors.\n"
		"See twofa-enroll(8).\n",
		TWOFA_DEFAULT_CONFIG);
}

int main(int argc, char **argv)
{
	cli_context ctx = {.config_path = TWOFA_DEFAULT_CONFIG, .color = false};
	int i = 1;

	for (; i < argc && argv[i][0] == '-'; i++) {
		if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
			print_help(stdout);
			return EX_OK;
		} else if (strcmp(argv[i], "--version") == 0) {
			printf("twofa-enroll (%s) %s\n", PACKAGE_NAME, PACKAGE_VERSION);
			return EX_OK;
		} else if (strcmp(argv[i], "--config") == 0 && i + 1 < argc) {
			ctx.config_path = argv[++i];
		} else if (strncmp(argv[i], "--config=", 9) == 0) {
			ctx.config_path = argv[i] + 9;
		} else {
			fprintf(stderr, "twofa-enroll: unknown option '%s'\n", argv[i]);
			print_help(stderr);
			return EX_USAGE;
		}
	}
	if (i >= argc) {
		print_help(stderr);
		return EX_USAGE;
	}
	ctx.color = isatty(STDOUT_FILENO) && getenv("NO_COLOR") == NULL;
	for (const cli_command *c = cli_commands; c->name != NULL; c++) {
		if (strcmp(c->name, argv[i]) == 0) {
			if (cli_wants_help(argc - i, argv + i)) {
				cli_usage(stdout, c);
				return EX_OK;
			}
			return c->run(&ctx, argc - i, argv + i);
		}
	}
	return cli_fail(EX_USAGE, "unknown command '%s' (try --help)", argv[i]);
}
