/* SPDX-License-Identifier: GPL-3.0-or-later */
/* connect_probe PATH [TIMEOUT_MS]: runs the module's twofa_daemon_connect
 * once and prints "connected", "absent: WHY" or "unavailable: WHY"
 * (exit 0, 2, 1) for tests/daemon/test_connect.py. */
#include "twofa_build.h"

#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "daemon_connect.h"

int main(int argc, char **argv)
{
	char why[256];
	int fd;

	if (argc < 2 || argc > 3) {
		fprintf(stderr, "usage: connect_probe PATH [TIMEOUT_MS]\n");
		return 64;
	}
	fd = twofa_daemon_connect(argv[1], argc == 3 ? atoi(argv[2]) : 1000, why, sizeof(why));
	if (fd >= 0) {
		printf("connected\n");
		(void)close(fd);
		return 0;
	}
	printf("%s: %s\n", fd == TWOFA_DAEMON_ABSENT ? "absent" : "unavailable", why);
	return fd == TWOFA_DAEMON_ABSENT ? 2 : 1;
}
