/* SPDX-License-Identifier: GPL-3.0-or-later */
/* countries and normalize: the country picker and the offline number check. */
#include "twofa_build.h"

#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "cli.h"
#include "countries.h"
#include "phone.h"

/* Display width of UTF-8 text: one column per code point is right for the
 * Latin names in the table. */
static size_t utf8_columns(const char *s)
{
	size_t n = 0;

	for (; *s != '\0'; s++)
		if (((unsigned char)*s & 0xc0) != 0x80)
			n++;
	return n;
}

static int print_countries_json(void)
{
	json_t *list = json_array();
	char *text;

	if (list == NULL)
		return cli_fail(1, "out of memory");
	for (size_t i = 0; i < twofa_country_count(); i++) {
		const twofa_country *c = twofa_country_at(i);
		json_t *row = json_pack("{s:s, s:s, s:s}", "code", c->code, "name", c->name, "calling_code",
					c->calling_code);
		if (row == NULL || json_array_append_new(list, row) != 0) {
			json_decref(list);
			return cli_fail(1, "out of memory");
		}
	}
	text = json_dumps(list, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
	json_decref(list);
	if (text == NULL)
		return cli_fail(1, "out of memory");
	puts(text);
	free(text);
	return EX_OK;
}

static int print_countries_table(void)
{
	size_t width = strlen("Country");

	for (size_t i = 0; i < twofa_country_count(); i++) {
		size_t w = utf8_columns(twofa_country_at(i)->name);
		if (w > width)
			width = w;
	}
	printf("%-*s  %s  %s\n", (int)width, "Country", "Code", "Calling code");
	for (size_t i = 0; i < twofa_country_count(); i++) {
		const twofa_country *c = twofa_country_at(i);
		/* printf pads by bytes; pad by columns so accented names line up. */
		printf("%s%*s  %-4s  +%s\n", c->name, (int)(width - utf8_columns(c->name)), "", c->code,
		       c->calling_code);
	}
	return EX_OK;
}

int cmd_countries(cli_context *ctx, int argc, char **argv)
{
	static const struct option options[] = {
		{"json", no_argument, NULL, 'j'},
		{NULL, 0, NULL, 0},
	};
	bool json = false;
	int opt;

	(void)ctx;
	optind = 0;
	while ((opt = getopt_long(argc, argv, "+", options, NULL)) != -1) {
		if (opt != 'j')
			return cli_fail(EX_USAGE, "usage: twofa-enroll countries [--json]");
		json = true;
	}
	if (optind != argc)
		return cli_fail(EX_USAGE,
				"countries takes no arguments; usage: twofa-enroll countries [--json]");
	return json ? print_countries_json() : print_countries_table();
}

int cmd_normalize(cli_context *ctx, int argc, char **argv)
{
	static const struct option options[] = {
		{"country", required_argument, NULL, 'c'},
		{NULL, 0, NULL, 0},
	};
	const char *country = NULL;
	char e164[TWOFA_E164_SIZE];
	twofa_error err;
	int opt;

	(void)ctx;
	optind = 0;
	while ((opt = getopt_long(argc, argv, "+", options, NULL)) != -1) {
		if (opt != 'c')
			return cli_fail(EX_USAGE, "usage: twofa-enroll normalize --country CC [--] NUMBER");
		country = optarg;
	}
	if (country == NULL || optind + 1 != argc)
		return cli_fail(EX_USAGE, "usage: twofa-enroll normalize --country CC [--] NUMBER");
	twofa_error_clear(&err);
	if (twofa_phone_normalize(argv[optind], country, e164, &err) != TWOFA_OK)
		return cli_fail_status(&err);
	puts(e164);
	return EX_OK;
}
