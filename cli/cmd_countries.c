/* SPDX-License-Identifier: GPL-3.0-or-later */
/* countries and normalize: the country picker and the offline number check;
 * and the countries allow-list as add and phone apply it. */
#include "twofa_build.h"

#include <errno.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <jansson.h>

#include "cli.h"
#include "countries.h"
#include "phone.h"
#include "send_budget.h"
#include "util.h"

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

int cli_check_country(const cli_context *ctx, const char *iso2)
{
	char shown[3];

	if (twofa_country_allowed(&ctx->config, iso2))
		return 0;
	twofa_strlcpy(shown, iso2, sizeof(shown));
	twofa_sanitize(shown);
	return cli_fail(EX_DATAERR,
			"country %s is not allowed by countries in %s; nothing was sent or stored "
			"('twofa-enroll countries' marks the allowed ones)",
			shown, ctx->config_path);
}

/* The allow-list to mark: ctx's config when twofa.conf can be read, else
 * NULL. countries needs no root, and its list is what a twofa.conf that
 * names an unknown code points to, so a config that cannot be loaded is a
 * note (none when there is no file), never an error. */
static const twofa_config *allow_list(cli_context *ctx)
{
	struct stat st;
	twofa_error err;

	if (cli_try_config(ctx, &err))
		return &ctx->config;
	if (stat(ctx->config_path, &st) == 0 || errno != ENOENT)
		cli_note("%s; no country is marked allowed or not", err.msg);
	return NULL;
}

static int print_countries_json(const twofa_config *cfg)
{
	json_t *list = json_array();
	char *text;

	if (list == NULL)
		return cli_fail(1, "out of memory");
	for (size_t i = 0; i < twofa_country_count(); i++) {
		const twofa_country *c = twofa_country_at(i);
		json_t *row = json_pack("{s:s, s:s, s:s}", "code", c->code, "name", c->name, "calling_code",
					c->calling_code);
		if (row != NULL && cfg != NULL &&
		    json_object_set_new(row, "allowed", json_boolean(twofa_country_allowed(cfg, c->code))) !=
			    0) {
			json_decref(row);
			row = NULL;
		}
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

/* The table; with an allow-list set (cfg->countries), a last column
 * "Allowed" with yes or no. */
static int print_countries_table(const twofa_config *cfg)
{
	bool mark = cfg != NULL && cfg->countries != NULL;
	size_t width = strlen("Country");

	for (size_t i = 0; i < twofa_country_count(); i++) {
		size_t w = utf8_columns(twofa_country_at(i)->name);
		if (w > width)
			width = w;
	}
	printf("%-*s  %s  %s%s\n", (int)width, "Country", "Code", "Calling code", mark ? "  Allowed" : "");
	for (size_t i = 0; i < twofa_country_count(); i++) {
		const twofa_country *c = twofa_country_at(i);
		/* printf pads by bytes; pad by columns so accented names line up. */
		if (mark)
			printf("%s%*s  %-4s  +%-11s  %s\n", c->name, (int)(width - utf8_columns(c->name)), "",
			       c->code, c->calling_code, twofa_country_allowed(cfg, c->code) ? "yes" : "no");
		else
			printf("%s%*s  %-4s  +%s\n", c->name, (int)(width - utf8_columns(c->name)), "",
			       c->code, c->calling_code);
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

	optind = 0;
	while ((opt = getopt_long(argc, argv, "+", options, NULL)) != -1) {
		if (opt != 'j')
			return cli_fail(EX_USAGE, "usage: twofa-enroll countries [--json]");
		json = true;
	}
	if (optind != argc)
		return cli_fail(EX_USAGE,
				"countries takes no arguments; usage: twofa-enroll countries [--json]");
	return json ? print_countries_json(allow_list(ctx)) : print_countries_table(allow_list(ctx));
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
