/* SPDX-License-Identifier: GPL-3.0-or-later */
/* Record decode micro-benchmark: the time to read one store record's JSON,
 * with jansson's json_loadb and with lib/json_read, and the whole decode of
 * a member (twofa_member_decode: the JSON and the field checks) and of a
 * state entry. The records are bench_store_scale's. One JSON object per line:
 *   {"bench":"json_read","record":"member","record_bytes":324,
 *    "reader":"json_loadb","iterations":..,"per_record_us":..}
 * The median of 5 rounds of N iterations each.
 *
 * Usage: bench_json_read [--quick] [N]   default N 200000; --quick: 2000. */
#include "twofa_build.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "bench_store_common.h"
#include "json_read.h"
#include "member.h"
#include "state.h"

#define ROUNDS 5

typedef enum { LOADB, JSON_READ, MEMBER_DECODE, STATE_DECODE } reader_kind;

static const char *const reader_names[] = {"json_loadb", "twofa_json_read", "twofa_member_decode",
					   "twofa_state_decode"};

static void die(const char *what, const char *why)
{
	fprintf(stderr, "bench_json_read: %s: %s\n", what, why);
	exit(1);
}

static void read_once(reader_kind kind, const char *json, size_t len)
{
	twofa_json_read_error jerr;
	twofa_state_entry entry;
	twofa_member m;
	twofa_error err;
	json_t *v = NULL;

	switch (kind) {
	case LOADB:
		v = json_loadb(json, len, JSON_REJECT_DUPLICATES, NULL);
		break;
	case JSON_READ:
		v = twofa_json_read(json, len, &jerr);
		break;
	case MEMBER_DECODE:
		if (twofa_member_decode(json, len, &m, &err) != TWOFA_OK)
			die("member", err.msg);
		twofa_member_free(&m);
		return;
	case STATE_DECODE:
		if (twofa_state_decode(json, len, &entry, &err) != TWOFA_OK)
			die("state", err.msg);
		return;
	}
	if (v == NULL)
		die(reader_names[kind], "refused the record");
	json_decref(v);
}

static void run(const char *record, reader_kind kind, const char *json, size_t n)
{
	double us[ROUNDS];
	size_t len = strlen(json);

	for (int r = 0; r < ROUNDS; r++) {
		double start = now_s();
		for (size_t i = 0; i < n; i++)
			read_once(kind, json, len);
		us[r] = (now_s() - start) * 1e6 / (double)n;
	}
	qsort(us, ROUNDS, sizeof(us[0]), cmp_double);
	printf("{\"bench\":\"json_read\",\"record\":\"%s\",\"record_bytes\":%zu,\"reader\":\"%s\","
	       "\"iterations\":%zu,\"per_record_us\":%.3f}\n",
	       record, len, reader_names[kind], n, us[ROUNDS / 2]);
	fflush(stdout);
}

int main(int argc, char **argv)
{
	twofa_state_entry entry;
	twofa_member m;
	twofa_error err;
	char *member_json = NULL, *state_json = NULL;
	size_t n = 200000;

	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--quick") == 0)
			n = 2000;
		else if ((n = strtoul(argv[i], NULL, 10)) == 0)
			die("usage", "bench_json_read [--quick] [N]");
	}
	bench_member_init(&m);
	m.user = "user0000042";
	strcpy(m.phone, "+447000000042");
	memset(&entry, 0, sizeof(entry));
	entry.failures = 1;
	entry.last_login = 1764000000;
	if (twofa_member_encode(&m, &member_json, &err) != TWOFA_OK ||
	    twofa_state_encode(&entry, &state_json, &err) != TWOFA_OK)
		die("encode", err.msg);
	run("member", LOADB, member_json, n);
	run("member", JSON_READ, member_json, n);
	run("member", MEMBER_DECODE, member_json, n);
	run("state", LOADB, state_json, n);
	run("state", JSON_READ, state_json, n);
	run("state", STATE_DECODE, state_json, n);
	free(member_json);
	free(state_json);
	return 0;
}
