/* SPDX-License-Identifier: GPL-3.0-or-later */
/* rate-limit: the send cap that holds across a fleet. Per-host send_limit
 * counts on one host only, and counters kept in a replicated directory lose
 * updates, so the fleet-wide cap is Twilio's: a Verify Service Rate Limit
 * named by rate_limit in twofa.conf, with a bucket of --max sends per
 * --interval seconds, keyed by each member's random rate-limit id. The
 * command makes what is missing (the rate limit, the bucket, the ids of
 * members who have none) and changes nothing that is there, so running it
 * twice is harmless. check-config verifies the same things. */
#include "twofa_build.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "member_store.h"
#include "util.h"

#define DEFAULT_MAX 10
#define DEFAULT_INTERVAL 3600

static twofa_status give_id(twofa_member *m, void *arg, twofa_error *err)
{
	(void)arg;
	(void)err;
	if (m->rate_limit_id[0] != '\0')
		return TWOFA_EEXIST; /* someone gave one meanwhile: keep it */
	twofa_member_new_rate_limit_id(m->rate_limit_id);
	return TWOFA_OK;
}

/* The names of members without an id. Collected first and updated after,
 * because a walk holds the store (GDBM: its shared lock) while it runs. */
typedef struct id_walk {
	char **names;
	size_t count, cap, had;
	bool no_memory;
} id_walk;

static int note_missing_id(const twofa_member *m, void *arg)
{
	id_walk *w = arg;

	if (m->rate_limit_id[0] != '\0') {
		w->had++;
		return 0;
	}
	if (w->count == w->cap) {
		size_t cap = w->cap == 0 ? 64 : w->cap * 2;
		char **grown = realloc(w->names, cap * sizeof(*grown));
		if (grown == NULL) {
			w->no_memory = true;
			return 1;
		}
		w->names = grown;
		w->cap = cap;
	}
	if ((w->names[w->count] = strdup(m->user)) == NULL) {
		w->no_memory = true;
		return 1;
	}
	w->count++;
	return 0;
}

static int give_ids(cli_context *ctx)
{
	twofa_member_store *store = NULL;
	twofa_error err, first;
	twofa_status st;
	id_walk w;
	size_t given = 0, failed = 0;
	int rc = EX_OK;

	memset(&w, 0, sizeof(w));
	twofa_error_clear(&err);
	twofa_error_clear(&first);
	st = twofa_member_store_open(&store, &ctx->config, TWOFA_MEMBER_STORE_ADMIN, &err);
	if (st == TWOFA_OK)
		st = twofa_member_store_each(store, note_missing_id, NULL, &w, &err);
	if (st == TWOFA_OK && w.no_memory)
		st = twofa_fail(&err, TWOFA_ENOMEM, "out of memory");
	for (size_t i = 0; st == TWOFA_OK && i < w.count; i++) {
		twofa_error one;
		twofa_error_clear(&one);
		if (twofa_member_store_update(store, w.names[i], give_id, NULL, &one) == TWOFA_OK)
			given++;
		else if (failed++ == 0)
			first = one;
	}
	for (size_t i = 0; i < w.count; i++)
		free(w.names[i]);
	free(w.names);
	twofa_member_store_close(store);
	if (st != TWOFA_OK)
		rc = cli_fail(twofa_status_exit_code(st), "members: %s", err.msg);
	else if (failed > 0)
		rc = cli_fail(EX_TEMPFAIL, "%zu member%s not given a rate-limit id (first: %s); run it again",
			      failed, failed == 1 ? " was" : "s were", first.msg);
	else
		printf("ok  members: %zu given a rate-limit id, %zu had one\n", given, w.had);
	return rc;
}

static int parse_args(int argc, char **argv, long *max, long *interval)
{
	static const struct option options[] = {
		{"max", required_argument, NULL, 'm'},
		{"interval", required_argument, NULL, 'i'},
		{NULL, 0, NULL, 0},
	};
	int opt;

	optind = 0;
	while ((opt = getopt_long(argc, argv, ":", options, NULL)) != -1) {
		if (opt == 'm') {
			if (!twofa_parse_long(optarg, 1, 1000000, max))
				return cli_usage_error("rate-limit",
						       "rate-limit: --max must be 1..1000000 sends");
		} else if (opt == 'i') {
			if (!twofa_parse_long(optarg, 60, 31536000, interval))
				return cli_usage_error("rate-limit",
						       "rate-limit: --interval must be 60..31536000 seconds");
		} else {
			return cli_usage_error("rate-limit", "rate-limit: unknown option or missing value");
		}
	}
	if (optind != argc)
		return cli_usage_error("rate-limit", "rate-limit takes no arguments besides its options");
	return 0;
}

int cmd_rate_limit(cli_context *ctx, int argc, char **argv)
{
	long max = DEFAULT_MAX, interval = DEFAULT_INTERVAL;
	twofa_verify_rate_limit rl;
	twofa_verify_result r;
	twofa_verify *v = NULL;
	twofa_verify_outcome o;
	int rc;

	if ((rc = parse_args(argc, argv, &max, &interval)) != 0)
		return rc;
	if ((rc = cli_load_config(ctx)) != 0)
		return rc;
	if (ctx->config.rate_limit == NULL)
		return cli_fail(EX_CONFIG,
				"%s has no rate_limit: set rate_limit = NAME (e.g. twofa_member) first",
				ctx->config_path);
	if ((rc = cli_verify_new(ctx, &v)) != 0)
		return rc;
	memset(&r, 0, sizeof(r));
	o = twofa_verify_rate_limit_ensure(v, ctx->config.rate_limit, max, interval, &rl, &r);
	twofa_verify_free(v);
	if (o != TWOFA_VERIFY_OK)
		return cli_fail(cli_outcome_exit(o), "cannot set up the rate limit %s at Twilio: %s",
				ctx->config.rate_limit, r.log_message);
	printf("ok  Twilio rate limit %s (%s): %zu bucket%s, one of %ld sends per %ld s\n",
	       ctx->config.rate_limit, rl.sid, rl.buckets, rl.buckets == 1 ? "" : "s", max, interval);
	return give_ids(ctx);
}

/* For check-config: the rate limit exists with a bucket, else a failure line. */
int cli_check_rate_limit(cli_context *ctx, twofa_verify *v)
{
	twofa_verify_rate_limit rl;
	twofa_verify_result r;
	twofa_verify_outcome o;

	if (ctx->config.rate_limit == NULL)
		return 0;
	memset(&r, 0, sizeof(r));
	o = twofa_verify_rate_limit_find(v, ctx->config.rate_limit, &rl, &r);
	if (o != TWOFA_VERIFY_OK)
		return cli_fail(cli_outcome_exit(o), "cannot read the rate limit %s at Twilio: %s",
				ctx->config.rate_limit, r.log_message);
	if (rl.sid[0] == '\0' || rl.buckets == 0)
		return cli_fail(EX_CONFIG,
				"Twilio has %s rate limit %s: sends would not be capped across hosts "
				"(run twofa-enroll rate-limit)",
				rl.sid[0] == '\0' ? "no" : "no bucket on the", ctx->config.rate_limit);
	printf("ok  Twilio rate limit %s (%s): %zu bucket%s\n", ctx->config.rate_limit, rl.sid, rl.buckets,
	       rl.buckets == 1 ? "" : "s");
	return 0;
}
