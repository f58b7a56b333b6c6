/* SPDX-License-Identifier: GPL-3.0-or-later */
/* Store scale benchmark (issue 13 item 11): twofa-enroll list, export and
 * db check on a members.db of N members, each command run R times under
 * wait4, reporting the median wall time and the peak RSS of the command's
 * own process. add_walk and phone_walk (issue 15) are add and phone with
 * the number of a member there: max_members_per_phone walks members.db to
 * count its users, and refuses (exit 65) before anything is sent, so the
 * run is that walk plus the command's start. One JSON object per line on
 * stdout:
 *   {"bench":"store_scale","command":"list","members":1000000,"runs":3,
 *    "median_seconds":..,"max_seconds":..,"median_rss_kib":..,"max_rss_kib":..,
 *    "load_1min":..}   (the load average after the runs: the machine may be shared)
 * The store is written directly (records encoded here, one WRITE open), so a
 * million members take seconds, not an import; every fourth member has a
 * login state in state.db, so list and export read state as they do on a
 * host with logins.
 *
 * Usage: bench_store_scale [--quick] [--runs R] [--enroll PATH] [--keep]
 *                          [--only NAME,...] [N ...]
 *   default N 1000000 and R 3; --quick: N 20000, R 1; --only: those commands
 *   (list, export, db_check, add_walk, phone_walk), default all. PATH: twofa-enroll
 *   (default: ../cli/twofa-enroll beside this program). Runs as root in a
 *   fresh directory under /var/tmp that it removes afterwards (--keep: leaves
 *   it, with its twofa.conf, for a closer look, and names it on stderr). */
#include "twofa_build.h"

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "bench_store_common.h"
#include "member.h"
#include "state.h"
#include "store.h"
#include "util.h"

#define MAX_RUNS 15

static bool keep;
static const char *only; /* --only: the commands to run, by name, separated by commas */

/* Whether --only lets command name run. */
static bool chosen(const char *name)
{
	size_t len = strlen(name);

	for (const char *p = only; p != NULL; p = strchr(p, ',') != NULL ? strchr(p, ',') + 1 : NULL)
		if (strncmp(p, name, len) == 0 && (p[len] == ',' || p[len] == '\0'))
			return true;
	return only == NULL;
}

static void die(const char *what, const char *why)
{
	fprintf(stderr, "bench_store_scale: %s: %s\n", what, why);
	exit(1);
}

/* N members (user0000000...), and the state of every fourth. */
static void fill(const char *members_db, const char *state_db, size_t n)
{
	twofa_store *members = NULL, *state = NULL;
	twofa_state_entry entry;
	twofa_member m;
	twofa_error err;
	char user[32], *json;

	if (twofa_store_open(&members, members_db, TWOFA_STORE_WRITE, 1000, &err) != TWOFA_OK ||
	    twofa_store_open(&state, state_db, TWOFA_STORE_WRITE, 1000, &err) != TWOFA_OK)
		die("open", err.msg);
	bench_member_init(&m);
	memset(&entry, 0, sizeof(entry));
	entry.failures = 1;
	entry.last_login = 1764000000;
	for (size_t i = 0; i < n; i++) {
		snprintf(user, sizeof(user), "user%07zu", i);
		m.user = user;
		snprintf(m.phone, sizeof(m.phone), "+447%09zu", i % 1000000000);
		if (twofa_member_encode(&m, &json, &err) != TWOFA_OK ||
		    twofa_store_put(members, user, json, strlen(json), true, &err) != TWOFA_OK)
			die("member", err.msg);
		free(json);
		if (i % 4 == 0) {
			if (twofa_state_encode(&entry, &json, &err) != TWOFA_OK ||
			    twofa_store_put(state, user, json, strlen(json), true, &err) != TWOFA_OK)
				die("state", err.msg);
			free(json);
		}
	}
	if (twofa_store_close(members, &err) != TWOFA_OK || twofa_store_close(state, &err) != TWOFA_OK)
		die("close", err.msg);
}

/* One run of twofa-enroll with stdout to /dev/null; its own peak RSS. */
static int measure(const char *enroll, const char *config, char *const *args, double *secs, long *rss_kib)
{
	char *argv[12] = {(char *)enroll, "--config", (char *)config};
	struct rusage usage;
	int status = 0, i = 3;
	double t0 = now_s();
	pid_t pid;

	for (; *args != NULL && i < 11; args++)
		argv[i++] = *args;
	argv[i] = NULL;
	pid = fork();
	if (pid < 0)
		die("fork", strerror(errno));
	if (pid == 0) {
		int null = open("/dev/null", O_WRONLY);

		if (null < 0 || dup2(null, STDOUT_FILENO) < 0)
			_exit(126);
		execv(enroll, argv);
		_exit(127);
	}
	while (wait4(pid, &status, 0, &usage) < 0)
		if (errno != EINTR)
			die("wait4", strerror(errno));
	*secs = now_s() - t0;
	*rss_kib = usage.ru_maxrss;
	return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

static int cmp_long(const void *a, const void *b)
{
	long x = *(const long *)a, y = *(const long *)b;

	return x < y ? -1 : x > y;
}

static void run(const char *enroll, size_t n, int runs)
{
	static char *const list[] = {"list", NULL}, *const export[] = {"export", NULL},
			   *const check[] = {"db", "check", NULL};
	static char taken[24], other[32];
	static char *const add[] = {"add", "newcomer", "--phone", taken, "--country", "GB", NULL},
			   *const phone[] = {"phone", other, "--phone", taken, "--country", "GB", NULL};
	static const struct {
		const char *name;
		char *const *args;
		int exit_code; /* what a good run exits with */
	} commands[] = {{"list", list, 0},
			{"export", export, 0},
			{"db_check", check, 0},
			{"add_walk", add, 65},
			{"phone_walk", phone, 65}};
	char dir[] = "/var/tmp/twofa-bench-scale-XXXXXX", config[96], members_db[96], state_db[96];
	double t0;
	FILE *f;

	if (mkdtemp(dir) == NULL)
		die("mkdtemp", strerror(errno));
	snprintf(config, sizeof(config), "%s/twofa.conf", dir);
	snprintf(members_db, sizeof(members_db), "%s/store/members.db", dir);
	snprintf(state_db, sizeof(state_db), "%s/store/state.db", dir);
	f = fopen(config, "w");
	if (f == NULL || fchmod(fileno(f), 0600) != 0 ||
	    fprintf(f, "members_db = %s\nstate_db = %s\n", members_db, state_db) < 0 || fclose(f) != 0)
		die("config", strerror(errno));
	t0 = now_s();
	/* In a child: a peak RSS survives fork, so the process that forks the
	 * measured commands must stay small. */
	{
		pid_t pid = fork();
		int status = 0;

		if (pid < 0)
			die("fork", strerror(errno));
		if (pid == 0) {
			fill(members_db, state_db, n);
			_exit(0);
		}
		if (waitpid(pid, &status, 0) != pid || !WIFEXITED(status) || WEXITSTATUS(status) != 0)
			die("fill", "the writer failed");
	}
	fprintf(stderr, "bench_store_scale: %zu members written in %.1f s\n", n, now_s() - t0);
	/* The number of the middle member, and another member moving to it. */
	snprintf(taken, sizeof(taken), "+447%09zu", (n / 2) % 1000000000);
	snprintf(other, sizeof(other), "user%07zu", (n / 2 + 1) % n);
	for (size_t c = 0; c < sizeof(commands) / sizeof(commands[0]); c++) {
		double secs[MAX_RUNS], load[1];
		long rss[MAX_RUNS];
		int rc = 0;

		if (!chosen(commands[c].name))
			continue;
		for (int r = 0; r < runs && rc == 0; r++)
			if (measure(enroll, config, commands[c].args, &secs[r], &rss[r]) !=
			    commands[c].exit_code)
				rc = 1;
		if (rc != 0)
			die(commands[c].name, "twofa-enroll exited otherwise than expected");
		qsort(secs, (size_t)runs, sizeof(secs[0]), cmp_double);
		qsort(rss, (size_t)runs, sizeof(rss[0]), cmp_long);
		/* The machine may be shared: say how loaded it was. */
		if (getloadavg(load, 1) != 1)
			load[0] = -1;
		printf("{\"bench\":\"store_scale\",\"command\":\"%s\",\"members\":%zu,\"runs\":%d,"
		       "\"median_seconds\":%.3f,\"max_seconds\":%.3f,\"median_rss_kib\":%ld,\"max_rss_kib\":%ld,"
		       "\"load_1min\":%.2f}\n",
		       commands[c].name, n, runs, secs[runs / 2], secs[runs - 1], rss[runs / 2],
		       rss[runs - 1], load[0]);
		fflush(stdout);
	}
	if (keep)
		fprintf(stderr, "bench_store_scale: kept %s\n", dir);
	else if (nftw(dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS) != 0)
		fprintf(stderr, "bench_store_scale: could not remove %s\n", dir);
}

int main(int argc, char **argv)
{
	char self[PATH_MAX], enroll_default[PATH_MAX + 32];
	const char *enroll = NULL;
	int runs = 3, i = 1;
	bool quick = false, sized = false;
	ssize_t len;

	for (; i < argc && argv[i][0] == '-'; i++) {
		if (strcmp(argv[i], "--quick") == 0) {
			quick = true;
			runs = 1;
		} else if (strcmp(argv[i], "--runs") == 0 && i + 1 < argc) {
			runs = atoi(argv[++i]);
		} else if (strcmp(argv[i], "--keep") == 0) {
			keep = true;
		} else if (strcmp(argv[i], "--only") == 0 && i + 1 < argc) {
			only = argv[++i];
		} else if (strcmp(argv[i], "--enroll") == 0 && i + 1 < argc) {
			enroll = argv[++i];
		} else {
			fprintf(stderr,
				"usage: bench_store_scale [--quick] [--runs R] [--enroll PATH] [--keep] "
				"[--only NAME,...] [N ...]\n");
			return 64;
		}
	}
	if (runs < 1 || runs > MAX_RUNS)
		die("--runs", "between 1 and 15");
	if (geteuid() != 0)
		die("needs root", "the stores and twofa.conf must be root's");
	if (enroll == NULL) {
		len = readlink("/proc/self/exe", self, sizeof(self) - 1);
		if (len < 0)
			die("/proc/self/exe", strerror(errno));
		self[len] = '\0';
		snprintf(enroll_default, sizeof(enroll_default), "%s/../cli/twofa-enroll", dirname(self));
		enroll = enroll_default;
	}
	for (; i < argc; i++) {
		char *end;
		unsigned long n = strtoul(argv[i], &end, 10);

		if (*end != '\0' || n == 0)
			die("size", argv[i]);
		run(enroll, (size_t)n, runs);
		sized = true;
	}
	if (!sized)
		run(enroll, quick ? 20000 : 1000000, runs);
	return 0;
}
