/* SPDX-License-Identifier: GPL-3.0-or-later */
/* recovery: a member's recovery codes, their way in when the phone is lost
 * or Twilio cannot be reached. Makes a new set, stores only the hashes in
 * the member's record (the new set replaces the old one in that write), and
 * only then prints the codes, once: a set that was printed is always the
 * set that is stored. The codes go to stdout with write(2) from one buffer
 * that is wiped after, never through stdio's buffers, and never anywhere
 * else (not in a message, not in a log). */
#include "twofa_build.h"

#include <errno.h>
#include <getopt.h>
#include <string.h>
#include <time.h>

#include <sodium.h>

#include "cli.h"
#include "onetime_code.h"
#include "util.h"

#define DEFAULT_COUNT 10
/* One code a line, or a JSON array of them, at its largest. */
#define OUTPUT_SIZE (TWOFA_MEMBER_RECOVERY_MAX * (TWOFA_ONETIME_TEXT_SIZE + 8) + 8)

typedef struct recovery_set {
	size_t count;
	char codes[TWOFA_MEMBER_RECOVERY_MAX][TWOFA_ONETIME_TEXT_SIZE];
	time_t now;
	twofa_member_status status; /* the member's, as stored */
} recovery_set;

/* The store's change: the new hashes in place of every old one. */
static twofa_status replace_codes(twofa_member *m, void *arg, twofa_error *err)
{
	recovery_set *set = arg;
	twofa_status st;

	sodium_memzero(m->recovery, sizeof(m->recovery));
	m->recovery_count = 0;
	for (size_t i = 0; i < set->count; i++)
		if ((st = twofa_onetime_hash(m->user, TWOFA_MEMBER_CODE_RECOVERY, set->codes[i],
					     m->recovery[i], err)) != TWOFA_OK)
			return st;
	m->recovery_count = set->count;
	m->updated = set->now > m->created ? set->now : m->created;
	set->status = m->status;
	return TWOFA_OK;
}

static int parse_args(int argc, char **argv, const char **user, size_t *count, bool *json)
{
	static const struct option options[] = {
		{"count", required_argument, NULL, 'c'},
		{"json", no_argument, NULL, 'j'},
		{NULL, 0, NULL, 0},
	};
	long n;
	int opt;

	optind = 0;
	while ((opt = getopt_long(argc, argv, ":", options, NULL)) != -1) {
		if (opt == 'c') {
			if (!twofa_parse_long(optarg, 1, TWOFA_MEMBER_RECOVERY_MAX, &n))
				return cli_usage_error("recovery",
						       "recovery: --count must be a number from 1 to 20");
			*count = (size_t)n;
		} else if (opt == 'j') {
			*json = true;
		} else {
			return cli_usage_error("recovery", "recovery: unknown option or missing value");
		}
	}
	if (optind + 1 != argc)
		return cli_usage_error("recovery", "recovery needs exactly one USER");
	*user = argv[optind];
	return cli_check_user_arg(*user);
}

/* The codes as they are printed: one a line, or a JSON array of strings
 * (the codes need no escaping: digits, capitals and dashes). */
static size_t format_codes(const recovery_set *set, bool json, char out[OUTPUT_SIZE])
{
	size_t len = 0;

	if (json)
		len += (size_t)snprintf(out + len, OUTPUT_SIZE - len, "[\n");
	for (size_t i = 0; i < set->count; i++)
		len += (size_t)snprintf(out + len, OUTPUT_SIZE - len, json ? "  \"%s\"%s\n" : "%s\n",
					set->codes[i], json && i + 1 < set->count ? "," : "");
	if (json)
		len += (size_t)snprintf(out + len, OUTPUT_SIZE - len, "]\n");
	return len;
}

int cmd_recovery(cli_context *ctx, int argc, char **argv)
{
	recovery_set set = {.count = DEFAULT_COUNT};
	char output[OUTPUT_SIZE], shown[TWOFA_USER_NAME_MAX + 1];
	const char *user = NULL;
	bool json = false, printed;
	twofa_error err;
	size_t len, count;
	int rc;

	if ((rc = parse_args(argc, argv, &user, &set.count, &json)) != 0)
		return rc;
	if ((rc = cli_load_config(ctx)) != 0)
		return rc;
	twofa_strlcpy(shown, user, sizeof(shown));
	twofa_sanitize(shown);
	twofa_error_clear(&err);
	for (size_t i = 0; i < set.count; i++)
		if (twofa_onetime_generate(set.codes[i], &err) != TWOFA_OK) {
			sodium_memzero(&set, sizeof(set));
			return cli_fail_status(&err);
		}
	set.now = time(NULL);
	/* Store first: codes that were printed but not stored would fail the
	 * member at the moment they need them. */
	if ((rc = cli_update_member(ctx, user, replace_codes, &set)) != 0) {
		sodium_memzero(&set, sizeof(set));
		return rc;
	}
	cli_warn_codes_unusable(shown, set.status, "these codes do");
	len = format_codes(&set, json, output);
	count = set.count;
	sodium_memzero(&set, sizeof(set));
	printed = cli_write_once(output, len);
	sodium_memzero(output, sizeof(output));
	if (!printed)
		return cli_fail(1,
				"the new recovery codes of %s are stored but could not be printed (%s); the old "
				"set is gone too: run 'twofa-enroll recovery %s' again",
				shown, strerror(errno), shown);
	cli_note("recovery codes replaced for %s (%zu)", shown, count);
	return EX_OK;
}
