/* SPDX-License-Identifier: GPL-3.0-or-later */
/* Drives lib/phone for tests/unit/phone_oracle.py: reads "CC<TAB>input" lines
 * on stdin and prints, one line each, the E.164 number or "ERR <reason>"
 * (twofa_phone_reason_name). With --region it reads E.164 numbers instead and
 * prints twofa_phone_region's answer ("-" for none); with --mask, the mask;
 * with --member, "ok" if a member record with that phone number encodes and
 * decodes back to the same number, else "ERR <why>". */
#include "twofa_build.h"

#include <stdio.h>
#include <string.h>

#include "member.h"
#include "phone.h"
#include "util.h"

/* Through the member codec, as add and import store it. */
static void print_member_answer(const char *phone)
{
	twofa_member m = {.channel = TWOFA_CHANNEL_SMS,
			  .status = TWOFA_MEMBER_ACTIVE,
			  .created = 1764000000,
			  .updated = 1764000000};
	twofa_member back;
	twofa_error err;
	char *json = NULL;

	memset(&back, 0, sizeof(back));
	twofa_error_clear(&err);
	m.user = (char *)"alice";
	m.password_hash = (char *)"$argon2id$v=19$m=65536,t=2,p=1$c2FsdHNhbHQ$aGFzaGhhc2hoYXNo";
	memcpy(m.country, "GB", 3);
	if (strlen(phone) >= sizeof(m.phone)) {
		printf("ERR longer than a member's phone field\n");
		return;
	}
	strcpy(m.phone, phone);
	if (twofa_member_encode(&m, &json, &err) != TWOFA_OK)
		printf("ERR encode: %s\n", err.msg);
	else if (twofa_member_decode(json, strlen(json), &back, &err) != TWOFA_OK)
		printf("ERR decode: %s\n", err.msg);
	else
		printf("%s\n", strcmp(back.phone, phone) == 0 ? "ok" : "ERR decoded another number");
	twofa_member_free(&back);
	twofa_free_secret(json);
}

int main(int argc, char **argv)
{
	char line[1024];
	const char *mode = argc > 1 ? argv[1] : "";

	if (argc > 2 || (argc == 2 && strcmp(mode, "--region") != 0 && strcmp(mode, "--mask") != 0 &&
			 strcmp(mode, "--member") != 0)) {
		fprintf(stderr, "usage: phone_tool [--region|--mask|--member] < lines\n");
		return 64;
	}
	while (fgets(line, sizeof(line), stdin) != NULL) {
		char *nl = strchr(line, '\n');
		char *tab;
		twofa_phone_result res;

		if (nl == NULL && !feof(stdin)) {
			fprintf(stderr, "phone_tool: line too long\n");
			return 1;
		}
		if (nl != NULL)
			*nl = '\0';
		if (strcmp(mode, "--region") == 0) {
			const char *r = twofa_phone_region(line);
			printf("%s\n", r != NULL ? r : "-");
		} else if (strcmp(mode, "--member") == 0) {
			print_member_answer(line);
		} else if (strcmp(mode, "--mask") == 0) {
			char out[TWOFA_PHONE_MASK_SIZE];
			twofa_phone_mask(line, out, sizeof(out));
			printf("%s\n", out);
		} else {
			tab = strchr(line, '\t');
			if (tab == NULL) {
				fprintf(stderr, "phone_tool: expected CC<TAB>input\n");
				return 1;
			}
			*tab = '\0';
			if (twofa_phone_parse(tab + 1, line, &res) == TWOFA_PHONE_OK)
				printf("%s\n", res.e164);
			else
				printf("ERR %s\n", twofa_phone_reason_name(res.reason));
		}
		fflush(stdout);
	}
	return 0;
}
