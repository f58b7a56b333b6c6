/* SPDX-License-Identifier: GPL-3.0-or-later */
/* What the store benchmarks (bench_store, bench_store_scale) share. */
#ifndef TWOFA_BENCH_STORE_COMMON_H
#define TWOFA_BENCH_STORE_COMMON_H

#include <ftw.h>
#include <stdio.h>
#include <sys/stat.h>
#include <string.h>
#include <time.h>

#include "member.h"

/* A well-formed Argon2id string: the benchmark measures the store, not hashing. */
#define FAKE_HASH \
	"$argon2id$v=19$m=65536,t=2,p=1$YmVuY2htYXJrc2FsdA$QmVuY2htYXJrSGFzaEJlbmNobWFya0hhc2hCZW5jaG0"

static inline double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static inline int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

/* For nftw(dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS): removes the bench's directory. */
static inline int rm_entry(const char *p, const struct stat *sb, int flag, struct FTW *ftw)
{
	(void)sb;
	(void)flag;
	(void)ftw;
	return remove(p);
}

/* The member every record is made from (user and phone set per record). */
static inline void bench_member_init(twofa_member *m)
{
	memset(m, 0, sizeof(*m));
	m->password_hash = (char *)FAKE_HASH;
	strcpy(m->country, "GB");
	m->channel = TWOFA_CHANNEL_SMS;
	m->status = TWOFA_MEMBER_ACTIVE;
	m->created = m->updated = m->verified = 1764000000;
}

#endif
