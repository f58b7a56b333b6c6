/* SPDX-License-Identifier: GPL-3.0-or-later */
/* Runs one lib/code_round round for tests/unit/test_code_round_sim.py:
 * round_driver CONFIG USER PHONE COUNTRY CHANNEL MAX_TRIES. Each prompt is
 * one line "PROMPT <text>" on stdout; the answer is one line on stdin (end
 * of input: cancelled). The result is the last line:
 * "RESULT <outcome> <message> tries=N sends=N to=MASKED reason=...". */
#include "twofa_build.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "code_round.h"
#include "util.h"

static twofa_round_ask ask(void *ctx, bool echo_on, const char *prompt, char **answer)
{
	char line[256];
	size_t len;

	(void)ctx;
	printf("PROMPT %s%s\n", echo_on ? "" : "(hidden) ", prompt);
	fflush(stdout);
	*answer = NULL;
	if (fgets(line, sizeof(line), stdin) == NULL)
		return TWOFA_ROUND_ASK_CANCELLED;
	len = strcspn(line, "\n");
	line[len] = '\0';
	if (len > 64)
		return TWOFA_ROUND_ASK_TOO_LONG;
	*answer = strdup(line);
	return *answer != NULL ? TWOFA_ROUND_ASK_OK : TWOFA_ROUND_ASK_CANCELLED;
}

static const char *const outcome_names[] = {"approved", "denied", "cancelled", "outage",
					    "refused",  "error",  "sent"};

int main(int argc, char **argv)
{
	twofa_config cfg;
	twofa_verify *v = NULL;
	twofa_state_origin origin;
	twofa_round_io io = {.ask = ask};
	twofa_round_target t = {0};
	twofa_round_options o = {.reserve_sends = true, .count_failures = true, .record_success = true};
	twofa_round_result res;
	twofa_error err;

	if (argc != 7)
		return 2;
	twofa_config_init(&cfg);
	if (twofa_config_load(&cfg, argv[1], &err) != TWOFA_OK ||
	    twofa_verify_new(&v, &cfg, &err) != TWOFA_OK) {
		fprintf(stderr, "round_driver: %s\n", err.msg);
		twofa_config_free(&cfg);
		return 2;
	}
	twofa_state_origin_make(&origin, "round", "tty", "/dev/pts/9", NULL, "tty=/dev/pts/9");
	t.user = argv[2];
	t.phone = argv[3];
	t.country = argv[4];
	if (!twofa_channel_parse(argv[5], &t.channel))
		return 2;
	t.own_channel = t.channel;
	o.max_tries = atol(argv[6]);
	o.origin = &origin;
	o.service = "round";
	(void)twofa_code_round(&cfg, v, &t, &o, &io, &res);
	printf("RESULT %s %s tries=%ld sends=%ld to=%s reason=%s\n", outcome_names[res.outcome],
	       twofa_message_name(res.message), res.tries, res.sends, res.to, res.reason);
	twofa_verify_free(v);
	twofa_config_free(&cfg);
	return 0;
}
