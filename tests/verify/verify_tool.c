/* SPDX-License-Identifier: GPL-3.0-or-later */
/* Drives the Verify client from a shell test (tests/verify/prism.sh).
 *   verify_tool CONFIG_FILE start TO CHANNEL [LOCALE]
 *   verify_tool CONFIG_FILE check TO        (the code is read from stdin)
 *   verify_tool CONFIG_FILE cancel TO
 *   verify_tool CONFIG_FILE service
 *   verify_tool CONFIG_FILE lookup NUMBER [COUNTRY]
 * Secrets come only from the config file, the code only from stdin, never
 * from argv. Prints "outcome=NAME http=N code=N", then the two messages.
 * Exit 0 when the call ran (whatever the outcome), 2 on usage or setup errors. */
#include "twofa_build.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "config.h"
#include "verify.h"

static int usage(void)
{
	fprintf(stderr, "usage: verify_tool CONFIG_FILE start TO CHANNEL [LOCALE] | check TO | "
			"cancel TO | service | lookup NUMBER [COUNTRY]\n");
	return 2;
}

/* Reads the config file without the root-ownership checks of
 * twofa_config_load: tests run it from a temporary directory. */
static bool load_config(twofa_config *cfg, const char *path, twofa_error *err)
{
	FILE *f = fopen(path, "r");
	char *text;
	size_t n;
	bool good;

	if (f == NULL) {
		twofa_fail(err, TWOFA_ESYS, "cannot open the config file");
		return false;
	}
	text = calloc(1, TWOFA_CONFIG_MAX_BYTES + 1);
	n = text != NULL ? fread(text, 1, TWOFA_CONFIG_MAX_BYTES, f) : 0;
	fclose(f);
	good = text != NULL && twofa_config_parse(cfg, path, text, n, err) == TWOFA_OK;
	if (text != NULL) {
		sodium_memzero(text, TWOFA_CONFIG_MAX_BYTES + 1);
		free(text);
	}
	return good;
}

int main(int argc, char **argv)
{
	twofa_config cfg;
	twofa_error err = {0};
	twofa_verify *v = NULL;
	twofa_verify_result r;
	const char *op;
	int rc = 0;

	if (argc < 3)
		return usage();
	op = argv[2];
	twofa_config_init(&cfg);
	if (!load_config(&cfg, argv[1], &err) || twofa_verify_new(&v, &cfg, &err) != TWOFA_OK) {
		fprintf(stderr, "verify_tool: %s\n", err.msg);
		twofa_config_free(&cfg);
		return 2;
	}
	twofa_config_free(&cfg);

	if (strcmp(op, "start") == 0 && (argc == 5 || argc == 6)) {
		twofa_channel ch;
		if (!twofa_channel_parse(argv[4], &ch))
			rc = usage();
		else
			twofa_verify_start(v, argv[3], ch, argc == 6 ? argv[5] : NULL, &r);
	} else if (strcmp(op, "check") == 0 && argc == 4) {
		char code[64] = "";
		if (fgets(code, sizeof(code), stdin) == NULL)
			code[0] = '\0';
		code[strcspn(code, "\r\n")] = '\0';
		twofa_verify_check(v, argv[3], code, &r);
		sodium_memzero(code, sizeof(code));
	} else if (strcmp(op, "cancel") == 0 && argc == 4) {
		twofa_verify_cancel(v, argv[3], &r);
	} else if (strcmp(op, "service") == 0 && argc == 3) {
		twofa_verify_details d;
		if (twofa_verify_fetch_service(v, &d, &r) == TWOFA_VERIFY_OK)
			printf("code_length=%ld\n", d.code_length);
	} else if (strcmp(op, "lookup") == 0 && (argc == 4 || argc == 5)) {
		char e164[TWOFA_E164_MAX + 1];
		if (twofa_lookup(v, argv[3], argc == 5 ? argv[4] : NULL, e164, &r) == TWOFA_VERIFY_OK)
			printf("e164=%s\n", e164);
	} else {
		rc = usage();
	}
	if (rc == 0) {
		printf("outcome=%s http=%ld code=%ld\n", twofa_verify_outcome_name(r.outcome), r.http_status,
		       r.twilio_code);
		printf("user=%s\nlog=%s\n", r.user_message, r.log_message);
	}
	twofa_verify_free(v);
	return rc;
}
