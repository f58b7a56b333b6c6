/* SPDX-License-Identifier: GPL-3.0-or-later */
/* What admits a send: the country allow-list (countries = GB IE FR ...) and
 * the per-host send budget (send_budget = N/SECONDS), a circuit breaker over
 * every code this host sends at a login prompt (logins, their resends,
 * enrolment; twofa-enroll's sends, root's on purpose, are not counted).
 *
 * The budget is a fixed window: the first send after a window ended starts
 * the next one, at most N sends go in it. Its counter is one record in
 * TWOFA_SEND_BUDGET_FILE beside state.db (lib/store.h: the same flock, owner
 * and mode checks), updated in one read-modify-write under the exclusive
 * lock. A record that cannot be read is an error: the caller refuses the
 * send (fail closed), never sends without counting.
 *
 * Over budget is a refusal, never an outage: an attacker can trip a budget
 * on purpose, so failmode = safe must never open on it. The first refusal of
 * each window says so (first_refusal_in_window), so that the caller logs one
 * LOG_CRIT line per window, not one per login. lib/ logs nothing. */
#ifndef TWOFA_SEND_BUDGET_H
#define TWOFA_SEND_BUDGET_H

#include <stdbool.h>
#include <stddef.h>
#include <time.h>

#include "config.h"
#include "error.h"

#define TWOFA_SEND_BUDGET_FILE "send_budget.db" /* in the directory of state_db */
#define TWOFA_SEND_BUDGET_MAX 1000000L          /* N of send_budget */
#define TWOFA_SEND_BUDGET_WINDOW_MIN 1L         /* SECONDS of send_budget */
#define TWOFA_SEND_BUDGET_WINDOW_MAX 604800L
#define TWOFA_COUNTRIES_MAX 300 /* codes in the countries list */

/* "200/3600" -> 200, 3600. NULL when good, else why not (without the value),
 * for the config table's row. count and seconds may be NULL. */
const char *twofa_send_budget_parse(const char *value, long *count, long *seconds);

/* Checks a countries list (codes separated by blanks or commas, any case,
 * each a region of the country table, twofa-enroll countries) and, when
 * normalised is not NULL, writes it as upper-case codes separated by single
 * spaces, duplicates dropped (malloc'd; NULL when out of memory). NULL when
 * good, else why not; an unknown code is named in bad (at most 2 letters
 * shown, "" otherwise). */
const char *twofa_countries_parse(const char *value, char **normalised, char bad[8]);

/* Whether a code may go to a number of country iso2 (any case): the country
 * is in the table and the countries list is unset or names it. */
bool twofa_country_allowed(const twofa_config *cfg, const char *iso2);

/* Where the counter lives: the directory of cfg->state_db and
 * TWOFA_SEND_BUDGET_FILE. */
twofa_status twofa_send_budget_path(const twofa_config *cfg, char *out, size_t size, twofa_error *err);

/* Counts one send against the budget at time now. *allowed: the send may go
 * (always true with send_budget unset, and nothing is written then).
 * *first_refusal_in_window: this refusal is the first of its window (log it
 * at LOG_CRIT). *window_ends (may be NULL): when the window of a refusal
 * ends. On an error *allowed is false. */
twofa_status twofa_send_budget_take_until(const twofa_config *cfg, time_t now, bool *allowed,
					  bool *first_refusal_in_window, time_t *window_ends,
					  twofa_error *err);
twofa_status twofa_send_budget_take(const twofa_config *cfg, time_t now, bool *allowed,
				    bool *first_refusal_in_window, twofa_error *err);

typedef enum twofa_send_verdict_kind {
	TWOFA_SEND_ADMIT = 0,
	TWOFA_SEND_COUNTRY_REFUSED, /* the number's country is not in countries */
	TWOFA_SEND_OVER_BUDGET,     /* send_budget spent for this window */
} twofa_send_verdict_kind;

typedef struct twofa_send_verdict {
	twofa_send_verdict_kind kind;
	bool first_in_window; /* OVER_BUDGET: the first refusal of its window (LOG_CRIT) */
	time_t window_ends;   /* OVER_BUDGET: when sends may go again */
	long budget, window;  /* OVER_BUDGET: the budget, for the log line */
} twofa_send_verdict;

/* The check every send site makes just before it asks Twilio to send to a
 * number of country iso2 (NULL: an email, which has none): the country
 * first (a refused country spends no budget), then the budget. TWOFA_OK with the verdict, or an error (the
 * state store: refuse the send; *v says OVER_BUDGET then, so that a caller
 * that only reads the verdict still refuses). */
twofa_status twofa_send_admit(const twofa_config *cfg, const char *iso2, time_t now, twofa_send_verdict *v,
			      twofa_error *err);

#endif
