/* SPDX-License-Identifier: GPL-3.0-or-later */
/* Drives the Verify client from a shell test (tests/verify/prism.sh).
 *   verify_tool CONFIG_FILE start TO CHANNEL [LOCALE]
 *   verify_tool CONFIG_FILE check TO        (the code is read from stdin)
 *   verify_tool CONFIG_FILE cancel TO
 *   verify_tool CONFIG_FILE service
 *   verify_tool CONFIG_FILE lookup NUMBER [COUNTRY]
 *   verify_tool CONFIG_FILE totp-create IDENTITY NAME   (prints factor=YF..., never the secret)
 *   verify_tool CONFIG_FILE totp-verify IDENTITY FACTOR (the code from stdin)
 *   verify_tool CONFIG_FILE totp-challenge IDENTITY FACTOR (the code from stdin)
 *   verify_tool CONFIG_FILE totp-delete IDENTITY [FACTOR]
 *   verify_tool CONFIG_FILE totp-entities | totp-factors IDENTITY | totp-service
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
#include "verify_totp.h"

static int usage(void)
{
	fprintf(stderr,
		"usage: verify_tool CONFIG_FILE start TO CHANNEL [LOCALE] | check TO | "
		"cancel TO | service | lookup NUMBER [COUNTRY] | totp-create IDENTITY NAME | "
		"totp-verify IDENTITY FACTOR | totp-challenge IDENTITY FACTOR | "
		"totp-delete IDENTITY [FACTOR] | totp-entities | totp-factors IDENTITY | totp-service\n");
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

/* The code, from stdin only (never argv). */
static void read_code(char code[64])
{
	if (fgets(code, 64, stdin) == NULL)
		code[0] = '\0';
	code[strcspn(code, "\r\n")] = '\0';
}

static bool print_entity(void *ctx, const char *identity)
{
	(void)ctx;
	printf("entity=%s\n", identity);
	return true;
}

static bool print_factor(void *ctx, const char *sid, const char *status, const char *type)
{
	(void)ctx;
	printf("factor=%s status=%s type=%s\n", sid, status, type);
	return true;
}

/* The TOTP calls; false when op is not one of them. */
static bool totp_op(twofa_verify *v, const char *op, int argc, char **argv, twofa_verify_result *r)
{
	char code[64] = "";

	if (strcmp(op, "totp-create") == 0 && argc == 5) {
		twofa_totp_binding b;
		if (twofa_totp_factor_create(v, argv[3], argv[4], &b, r) == TWOFA_VERIFY_OK)
			printf("factor=%s secret_length=%zu digits=%ld period=%ld skew=%ld\n", b.factor_sid,
			       strlen(b.secret), b.code_length, b.time_step, b.skew);
		twofa_totp_binding_wipe(&b);
	} else if ((strcmp(op, "totp-verify") == 0 || strcmp(op, "totp-challenge") == 0) && argc == 5) {
		read_code(code);
		if (strcmp(op, "totp-verify") == 0)
			twofa_totp_factor_verify(v, argv[3], argv[4], code, r);
		else
			twofa_totp_challenge(v, argv[3], argv[4], code, r);
		sodium_memzero(code, sizeof(code));
	} else if (strcmp(op, "totp-delete") == 0 && argc == 4) {
		twofa_totp_entity_delete(v, argv[3], r);
	} else if (strcmp(op, "totp-delete") == 0 && argc == 5) {
		twofa_totp_factor_delete(v, argv[3], argv[4], r);
	} else if (strcmp(op, "totp-entities") == 0 && argc == 3) {
		twofa_totp_entities(v, print_entity, NULL, r);
	} else if (strcmp(op, "totp-factors") == 0 && argc == 4) {
		twofa_totp_factors(v, argv[3], print_factor, NULL, r);
	} else if (strcmp(op, "totp-service") == 0 && argc == 3) {
		twofa_totp_settings s;
		if (twofa_totp_service_settings(v, &s, r) == TWOFA_VERIFY_OK)
			printf("time_step=%ld code_length=%ld skew=%ld\n", s.time_step, s.code_length, s.skew);
	} else {
		return false;
	}
	return true;
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
	} else if (!totp_op(v, op, argc, argv, &r)) {
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
