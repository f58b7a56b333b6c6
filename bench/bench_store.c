/* SPDX-License-Identifier: GPL-3.0-or-later */
/* Store benchmark: insert N member records under one WRITE open, then look
 * up random members the way a login does (READ open, get, close) and with
 * one open for all lookups. One JSON object per line on stdout.
 *
 * Usage: bench_store [--quick] [--batch B] [N ...]
 *   default sizes 100000 1000000; --quick: 10000; --batch: records between
 *   syncs while inserting (default 10000, 0: one sync at the end)
 * Runs in a fresh directory under /var/tmp that it removes afterwards. */
#include "twofa_build.h"

#include <errno.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "bench_store_common.h"
#include "member.h"
#include "store.h"
#include "util.h"

#define LOOKUP_SAMPLES 20000

static long batch = 10000;
static unsigned long long rng_state = 0x243f6a8885a308d3ULL;

static unsigned long long rng(void)
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 7;
	rng_state ^= rng_state << 17;
	return rng_state;
}

static void key_of(size_t i, char buf[32])
{
	snprintf(buf, 32, "user%07zu", i);
}

static void die(const char *what, const twofa_error *err)
{
	fprintf(stderr, "bench_store: %s: %s\n", what, err->msg);
	exit(1);
}

/* The records, encoded before the clock starts. */
static char **build_records(size_t n)
{
	char **rec = calloc(n, sizeof(*rec));
	twofa_member m;
	twofa_error err;
	char user[32];

	if (rec == NULL)
		return NULL;
	bench_member_init(&m);
	for (size_t i = 0; i < n; i++) {
		key_of(i, user);
		m.user = user;
		snprintf(m.phone, sizeof(m.phone), "+447%09zu", i % 1000000000);
		if (twofa_member_encode(&m, &rec[i], &err) != TWOFA_OK)
			die("encode", &err);
	}
	return rec;
}

static void run(size_t n)
{
	char dir[] = "/var/tmp/twofa-bench-XXXXXX", path[128], key[32], *value = NULL;
	double t0, secs, *lat;
	size_t samples = n < LOOKUP_SAMPLES ? n : LOOKUP_SAMPLES, found = 0;
	twofa_store *s = NULL;
	twofa_error err;
	struct stat st;
	char **rec;

	if (mkdtemp(dir) == NULL) {
		fprintf(stderr, "bench_store: mkdtemp: %s\n", strerror(errno));
		exit(1);
	}
	snprintf(path, sizeof(path), "%s/store/members.db", dir);
	rec = build_records(n);
	lat = calloc(samples, sizeof(*lat));
	if (rec == NULL || lat == NULL) {
		fprintf(stderr, "bench_store: out of memory\n");
		exit(1);
	}

	t0 = now_s();
	if (twofa_store_open(&s, path, TWOFA_STORE_WRITE, 1000, &err) != TWOFA_OK)
		die("open for writing", &err);
	for (size_t i = 0; i < n; i++) {
		key_of(i, key);
		if (twofa_store_put(s, key, rec[i], strlen(rec[i]), false, &err) != TWOFA_OK)
			die("put", &err);
		if (batch > 0 && (i + 1) % (size_t)batch == 0 && twofa_store_sync(s, &err) != TWOFA_OK)
			die("sync", &err);
	}
	if (twofa_store_close(s, &err) != TWOFA_OK)
		die("close", &err);
	secs = now_s() - t0;
	if (stat(path, &st) != 0)
		st.st_size = -1;
	printf("{\"bench\":\"store_insert\",\"members\":%zu,\"seconds\":%.3f,\"per_sec\":%.0f,\"file_bytes\":%lld,"
	       "\"record_bytes\":%zu,\"batch\":%ld}\n",
	       n, secs, (double)n / secs, (long long)st.st_size, strlen(rec[0]), batch);
	fflush(stdout);

	/* Like a login: open under the shared lock, one get, close. */
	for (size_t i = 0; i < samples; i++) {
		size_t len = 0;
		key_of((size_t)(rng() % n), key);
		t0 = now_s();
		if (twofa_store_open(&s, path, TWOFA_STORE_READ, 1000, &err) != TWOFA_OK ||
		    twofa_store_get(s, key, &value, &len, &err) != TWOFA_OK)
			die("lookup", &err);
		twofa_store_close(s, NULL);
		lat[i] = (now_s() - t0) * 1e6;
		found += len > 0;
		free(value);
	}
	qsort(lat, samples, sizeof(*lat), cmp_double);
	printf("{\"bench\":\"store_lookup\",\"members\":%zu,\"reopen\":true,\"p50_us\":%.1f,\"p99_us\":%.1f,"
	       "\"samples\":%zu}\n",
	       n, lat[samples / 2], lat[samples * 99 / 100], found);
	fflush(stdout);

	/* One open for all lookups: the cost of the get alone. */
	found = 0;
	if (twofa_store_open(&s, path, TWOFA_STORE_READ, 1000, &err) != TWOFA_OK)
		die("open for reading", &err);
	for (size_t i = 0; i < samples; i++) {
		size_t len = 0;
		key_of((size_t)(rng() % n), key);
		t0 = now_s();
		if (twofa_store_get(s, key, &value, &len, &err) != TWOFA_OK)
			die("lookup", &err);
		lat[i] = (now_s() - t0) * 1e6;
		found += len > 0;
		free(value);
	}
	twofa_store_close(s, NULL);
	qsort(lat, samples, sizeof(*lat), cmp_double);
	printf("{\"bench\":\"store_lookup\",\"members\":%zu,\"reopen\":false,\"p50_us\":%.1f,\"p99_us\":%.1f,"
	       "\"samples\":%zu}\n",
	       n, lat[samples / 2], lat[samples * 99 / 100], found);
	fflush(stdout);

	for (size_t i = 0; i < n; i++)
		free(rec[i]);
	free(rec);
	free(lat);
	if (nftw(dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS) != 0)
		fprintf(stderr, "bench_store: could not remove %s\n", dir);
}

int main(int argc, char **argv)
{
	size_t sizes[16], count = 0;
	bool quick = false;

	for (int i = 1; i < argc; i++) {
		long v;
		if (strcmp(argv[i], "--quick") == 0) {
			quick = true;
		} else if (strcmp(argv[i], "--batch") == 0 && i + 1 < argc) {
			if (!twofa_parse_long(argv[++i], 0, 100000000, &batch)) {
				fprintf(stderr, "bench_store: bad --batch: %s\n", argv[i]);
				return 64;
			}
		} else if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
			printf("usage: bench_store [--quick] [--batch B] [N ...]  (default: 100000 1000000; --quick: 10000)\n");
			return 0;
		} else if (count < sizeof(sizes) / sizeof(sizes[0]) &&
			   twofa_parse_long(argv[i], 1, 100000000, &v)) {
			sizes[count++] = (size_t)v;
		} else {
			fprintf(stderr, "bench_store: bad argument: %s\n", argv[i]);
			return 64;
		}
	}
	if (count == 0 && quick)
		sizes[count++] = 10000;
	if (count == 0) {
		sizes[count++] = 100000;
		sizes[count++] = 1000000;
	}
	for (size_t i = 0; i < count; i++)
		run(sizes[i]);
	return 0;
}
