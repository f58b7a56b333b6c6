/* SPDX-License-Identifier: GPL-3.0-or-later */
/* store_budget CONFIG login|admin USER OP...: opens one member store handle
 * on CONFIG with that role and runs the OPs on it in order, one line each,
 * for tests/fleet/test_budget.py:
 *   load STATUS MS MESSAGE   twofa_member_store_load(USER): its status
 *                            (twofa_status_name), milliseconds, the error
 *   new                twofa_member_store_new_call (a new PAM call on the handle)
 *   sleep MS           nothing, for MS milliseconds (a prompt between two calls)
 * Exit 0 when every op ran, 1 when the config or the handle failed, 64 on a
 * usage error. */
#include "twofa_build.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "config.h"
#include "error.h"
#include "member_store.h"
#include "wire.h"

static void run_load(twofa_member_store *s, const char *user)
{
	long long start = twofa_wire_now_ms();
	twofa_error err = {0};
	twofa_member m;
	twofa_status st = twofa_member_store_load(s, user, &m, &err);

	printf("load %s %lld %s\n", twofa_status_name(st), twofa_wire_now_ms() - start, err.msg);
	if (st == TWOFA_OK)
		twofa_member_free(&m);
}

int main(int argc, char **argv)
{
	twofa_member_store *s = NULL;
	twofa_config cfg;
	twofa_error err = {0};
	twofa_member_store_role role;

	if (argc < 5 || (strcmp(argv[2], "login") != 0 && strcmp(argv[2], "admin") != 0)) {
		fprintf(stderr, "usage: store_budget CONFIG login|admin USER OP...\n");
		return 64;
	}
	role = strcmp(argv[2], "admin") == 0 ? TWOFA_MEMBER_STORE_ADMIN : TWOFA_MEMBER_STORE_LOGIN;
	twofa_config_init(&cfg);
	if (twofa_config_load(&cfg, argv[1], &err) != TWOFA_OK ||
	    twofa_member_store_open(&s, &cfg, role, &err) != TWOFA_OK) {
		printf("fail %s %s\n", twofa_status_name(err.status), err.msg);
		twofa_config_free(&cfg);
		return 1;
	}
	for (int i = 4; i < argc; i++) {
		if (strcmp(argv[i], "load") == 0) {
			run_load(s, argv[3]);
		} else if (strcmp(argv[i], "new") == 0) {
			twofa_member_store_new_call(s);
			printf("new\n");
		} else if (strncmp(argv[i], "sleep:", 6) == 0) {
			long ms = atol(argv[i] + 6);
			struct timespec pause = {ms / 1000, (ms % 1000) * 1000000L};

			nanosleep(&pause, NULL);
			printf("sleep %ld\n", ms);
		} else {
			fprintf(stderr, "store_budget: unknown op %s\n", argv[i]);
			twofa_member_store_close(s);
			twofa_config_free(&cfg);
			return 64;
		}
		fflush(stdout);
	}
	twofa_member_store_close(s);
	twofa_config_free(&cfg);
	return 0;
}
