/* SPDX-License-Identifier: GPL-3.0-or-later */
/* bench_rss: runs a program and reports its own peak RSS (ru_maxrss from
 * wait4) and wall time. The peak RSS of a process survives fork and exec,
 * so the benchmark driver (a Python process) must not be the one that
 * forks: this small program is.
 *
 * Usage: bench_rss OUT PROGRAM [ARG ...]
 *   stdin and stdout are the program's; OUT receives one JSON object:
 *   {"exit":N,"rss_kib":N,"seconds":S}. Exit status: the program's. */
#include "twofa_build.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
	struct rusage usage;
	int status = 0, code;
	double t0;
	pid_t pid;
	FILE *out;

	if (argc < 3) {
		fprintf(stderr, "usage: bench_rss OUT PROGRAM [ARG ...]\n");
		return 64;
	}
	t0 = now_s();
	pid = fork();
	if (pid < 0) {
		perror("bench_rss: fork");
		return 71;
	}
	if (pid == 0) {
		execv(argv[2], argv + 2);
		fprintf(stderr, "bench_rss: %s: %s\n", argv[2], strerror(errno));
		_exit(127);
	}
	while (wait4(pid, &status, 0, &usage) < 0) {
		if (errno != EINTR) {
			perror("bench_rss: wait4");
			return 71;
		}
	}
	code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
	out = fopen(argv[1], "w");
	if (out == NULL) {
		perror("bench_rss: OUT");
		return 73;
	}
	fprintf(out, "{\"exit\":%d,\"rss_kib\":%ld,\"seconds\":%.6f}\n", code, usage.ru_maxrss, now_s() - t0);
	fclose(out);
	return code;
}
