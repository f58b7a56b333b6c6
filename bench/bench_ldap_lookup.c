/* SPDX-License-Identifier: GPL-3.0-or-later */
/* Member lookups through lib/member_store.h with store = ldap, timed one by
 * one; one JSON object per line on stdout. Two ways a host looks a member up:
 *   cold  open a handle, load, close: a new connection (TCP, StartTLS, bind)
 *         and one search, as the per-call twofa-server does for every login
 *   warm  N loads on one handle: one search each on a kept connection, as
 *         twofad does
 * Members are looked up by the names bench_ldap.py loaded (PREFIX + 7
 * digits, 0..M-1) in a fixed pseudo-random order.
 *
 *   bench_ldap_lookup --config FILE --members M [--count N] [--prefix P]
 *
 * The config is parsed without the file checks (it is the benchmark's own). */
#include "twofa_build.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "config.h"
#include "member.h"
#include "member_store.h"

static double now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static int by_value(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

/* Nearest rank, as the other benchmarks compute it. */
static double percentile(double *v, size_t n, int p)
{
	size_t rank = (n * (size_t)p + 99) / 100;

	qsort(v, n, sizeof(*v), by_value);
	return n == 0 ? 0 : v[(rank == 0 ? 1 : rank) - 1];
}

static int read_config(twofa_config *cfg, const char *path)
{
	twofa_error err = {TWOFA_OK, ""};
	char *text = NULL;
	size_t len = 0;
	FILE *f = fopen(path, "r");

	if (f == NULL || getdelim(&text, &len, '\0', f) < 0) {
		fprintf(stderr, "bench_ldap_lookup: cannot read %s\n", path);
		return -1;
	}
	fclose(f);
	twofa_config_init(cfg);
	if (twofa_config_parse(cfg, path, text, strlen(text), &err) != TWOFA_OK) {
		fprintf(stderr, "bench_ldap_lookup: %s\n", err.msg);
		free(text);
		return -1;
	}
	free(text);
	return 0;
}

static int lookup(twofa_member_store *s, const char *prefix, unsigned long i)
{
	char user[64];
	twofa_member m;
	twofa_error err = {TWOFA_OK, ""};
	twofa_status st;

	snprintf(user, sizeof(user), "%s%07lu", prefix, i);
	st = twofa_member_store_load(s, user, &m, &err);
	if (st != TWOFA_OK) {
		fprintf(stderr, "bench_ldap_lookup: %s: %s\n", user, err.msg);
		return -1;
	}
	twofa_member_free(&m);
	return 0;
}

int main(int argc, char **argv)
{
	static const struct option options[] = {
		{"config", required_argument, NULL, 'c'},
		{"members", required_argument, NULL, 'm'},
		{"count", required_argument, NULL, 'n'},
		{"prefix", required_argument, NULL, 'p'},
		{NULL, 0, NULL, 0},
	};
	const char *config = NULL, *prefix = "bench";
	unsigned long members = 0, count = 1000, pick = 12345;
	twofa_member_store *s = NULL;
	twofa_error err = {TWOFA_OK, ""};
	twofa_config cfg;
	double *cold, *warm, t0;
	int opt, failures = 0;

	while ((opt = getopt_long(argc, argv, "", options, NULL)) != -1) {
		if (opt == 'c')
			config = optarg;
		else if (opt == 'm')
			members = strtoul(optarg, NULL, 10);
		else if (opt == 'n')
			count = strtoul(optarg, NULL, 10);
		else if (opt == 'p')
			prefix = optarg;
		else
			return 64;
	}
	if (config == NULL || members == 0 || count == 0) {
		fprintf(stderr,
			"usage: bench_ldap_lookup --config FILE --members M [--count N] [--prefix P]\n");
		return 64;
	}
	/* As the server and the CLI: no ldaprc, ldap.conf or LDAP* variable. */
	setenv("LDAPNOINIT", "1", 1);
	if (read_config(&cfg, config) != 0)
		return 78;
	cold = calloc(count, sizeof(*cold));
	warm = calloc(count, sizeof(*warm));
	if (cold == NULL || warm == NULL)
		return 1;
	for (unsigned long i = 0; i < count; i++) {
		pick = (pick * 1103515245ul + 12345ul) % 2147483648ul;
		t0 = now_ms();
		if (twofa_member_store_open(&s, &cfg, TWOFA_MEMBER_STORE_LOGIN, &err) != TWOFA_OK) {
			fprintf(stderr, "bench_ldap_lookup: %s\n", err.msg);
			return 1;
		}
		failures += lookup(s, prefix, pick % members) != 0;
		twofa_member_store_close(s);
		cold[i] = now_ms() - t0;
	}
	if (twofa_member_store_open(&s, &cfg, TWOFA_MEMBER_STORE_LOGIN, &err) != TWOFA_OK ||
	    lookup(s, prefix, 0) != 0) /* connects: not timed */
		return 1;
	for (unsigned long i = 0; i < count; i++) {
		pick = (pick * 1103515245ul + 12345ul) % 2147483648ul;
		t0 = now_ms();
		failures += lookup(s, prefix, pick % members) != 0;
		warm[i] = now_ms() - t0;
	}
	twofa_member_store_close(s);
	printf("{\"bench\":\"ldap_lookup\",\"mode\":\"cold\",\"tls\":\"%s\",\"members\":%lu,\"lookups\":%lu,"
	       "\"failures\":%d,\"p50_ms\":%.3f,\"p99_ms\":%.3f,\"target_p50_ms\":5,\"target_p99_ms\":20,"
	       "\"method\":\"open, connect (TCP, TLS, bind), one search, close: the per-call server\"}\n",
	       cfg.ldap_tls == TWOFA_LDAP_TLS_STARTTLS ? "starttls" : "other", members, count, failures,
	       percentile(cold, count, 50), percentile(cold, count, 99));
	printf("{\"bench\":\"ldap_lookup\",\"mode\":\"warm\",\"tls\":\"%s\",\"members\":%lu,\"lookups\":%lu,"
	       "\"failures\":%d,\"p50_ms\":%.3f,\"p99_ms\":%.3f,\"target_p50_ms\":5,\"target_p99_ms\":20,"
	       "\"method\":\"one search on a kept connection: twofad\"}\n",
	       cfg.ldap_tls == TWOFA_LDAP_TLS_STARTTLS ? "starttls" : "other", members, count, failures,
	       percentile(warm, count, 50), percentile(warm, count, 99));
	free(cold);
	free(warm);
	twofa_config_free(&cfg);
	return failures == 0 ? 0 : 1;
}
