/* SPDX-License-Identifier: GPL-3.0-or-later */
#include "twofa_build.h"

#include <stdio.h>
#include <syslog.h>
#include <time.h>

#include "enrol_deps.h"
#include "second_factor.h"
#include "send_budget.h"

/* Minutes until t, as a message argument. */
static long minutes_until(time_t t)
{
	long long minutes = ((long long)t - (long long)time(NULL) + 59) / 60;

	return minutes < 0 ? 0 : (minutes > TWOFA_MESSAGE_ARG_MAX ? TWOFA_MESSAGE_ARG_MAX : (long)minutes);
}

/* The round's admit_send for an enrolment: lib/send_budget's verdict
 * before every send. Over budget is a refusal (failmode never opens on it),
 * its first of the window one LOG_CRIT line; a store error refuses too. */
static bool admit(void *ctx, const char *country, twofa_message *message, long *message_arg, char *reason,
		  size_t reason_size)
{
	const twofa_round_host *h = ctx;
	twofa_send_verdict v;
	twofa_error err;

	twofa_error_clear(&err);
	if (twofa_send_admit(&h->opts->cfg, country, time(NULL), &v, &err) != TWOFA_OK) {
		*message = TWOFA_MSG_NONE;
		(void)snprintf(reason, reason_size, "send budget: %s; no code sent", err.msg);
		return false;
	}
	switch (v.kind) {
	case TWOFA_SEND_ADMIT:
		return true;
	case TWOFA_SEND_COUNTRY_REFUSED:
		*message = TWOFA_MSG_ENROL_COUNTRY_REFUSED;
		(void)snprintf(reason, reason_size, "country %s is not in countries; no code sent",
			       country != NULL ? country : "?");
		return false;
	case TWOFA_SEND_OVER_BUDGET:
		break;
	}
	if (v.first_in_window)
		twofa_host_syslog(h->host, LOG_CRIT,
				  "send_budget %ld/%ld s spent: no code is sent from this host until the window "
				  "ends (logins and enrolments are refused, never let in)",
				  v.budget, v.window);
	*message = TWOFA_MSG_SEND_LIMIT;
	*message_arg = minutes_until(v.window_ends);
	(void)snprintf(reason, reason_size, "send_budget %ld/%ld s spent; no code sent", v.budget, v.window);
	return false;
}

void twofa_enrol_send_policy(twofa_round_io *io)
{
	if (io->admit_send == NULL)
		io->admit_send = admit;
}
