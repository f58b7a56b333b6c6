/* SPDX-License-Identifier: GPL-3.0-or-later */
/* Drives lib/phone for tests/unit/phone_oracle.py: reads "CC<TAB>input" lines
 * on stdin and prints, one line each, the E.164 number or "ERR <reason>"
 * (twofa_phone_reason_name). With --region it reads E.164 numbers instead and
 * prints twofa_phone_region's answer ("-" for none); with --mask, the mask. */
#include "twofa_build.h"

#include <stdio.h>
#include <string.h>

#include "phone.h"

int main(int argc, char **argv)
{
	char line[1024];
	const char *mode = argc > 1 ? argv[1] : "";

	if (argc > 2 || (argc == 2 && strcmp(mode, "--region") != 0 && strcmp(mode, "--mask") != 0)) {
		fprintf(stderr, "usage: phone_tool [--region|--mask] < lines\n");
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
