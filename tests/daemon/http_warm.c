/* SPDX-License-Identifier: GPL-3.0-or-later */
/* http_warm URL CA_FILE N share|own: N handles one after the other (as N
 * logins make them), each one GET of URL, with lib/http_share's pool
 * (twofad) or without (twofa-server). Prints "connections=C statuses=OK|BAD":
 * C new connections in all, as libcurl counted them. For test_warm.py, which
 * counts them on the simulator's side too. */
#include "twofa_build.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "http.h"
#include "http_share.h"

int main(int argc, char **argv)
{
	twofa_http_options opt = {.timeout = 10};
	twofa_error err = {0};
	long connections = 0, n;
	bool statuses_ok = true;

	if (argc != 5 || (strcmp(argv[4], "share") != 0 && strcmp(argv[4], "own") != 0)) {
		fprintf(stderr, "usage: http_warm URL CA_FILE N share|own\n");
		return 64;
	}
	opt.ca_file = argv[2][0] != '\0' ? argv[2] : NULL;
	n = atol(argv[3]);
	if (strcmp(argv[4], "share") == 0 && twofa_http_share_renew(&err) != TWOFA_OK) {
		fprintf(stderr, "http_warm: %s\n", err.msg);
		return 1;
	}
	for (long i = 0; i < n; i++) {
		twofa_http *h = NULL;
		twofa_http_response r = {0};

		if (twofa_http_new(&h, &opt, &err) != TWOFA_OK ||
		    twofa_http_request(h, argv[1], NULL, 0, &r, &err) != TWOFA_OK) {
			fprintf(stderr, "http_warm: %s\n", err.msg);
			twofa_http_free(h);
			return 1;
		}
		if (r.failure != TWOFA_HTTP_OK || r.status < 200 || r.status >= 500) {
			fprintf(stderr, "http_warm: request %ld: failure %d status %ld %s\n", i, (int)r.failure,
				r.status, r.detail);
			statuses_ok = false;
		}
		connections += twofa_http_connections(h);
		twofa_http_response_clear(&r);
		twofa_http_free(h);
	}
	twofa_http_share_stop();
	printf("connections=%ld statuses=%s\n", connections, statuses_ok ? "OK" : "BAD");
	return 0;
}
