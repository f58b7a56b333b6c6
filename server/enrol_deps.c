/* SPDX-License-Identifier: GPL-3.0-or-later */
#include "twofa_build.h"

#include <string.h>
#include <syslog.h>

#include "enrol.h"
#include "enrol_deps.h"
#include "second_factor.h"
#include "util.h"

bool twofa_enrol_country_allowed(const twofa_config *cfg, const char *iso2)
{
	(void)cfg;
	(void)iso2;
	return true; /* PROVISIONAL: countries (limits) not merged yet */
}

bool twofa_enrol_prove(twofa_host *host, const twofa_options *opts, twofa_member_store *members,
		       twofa_audit *audit, twofa_verify *verify, const char *user, const char *e164,
		       const char *iso2, bool silent, twofa_decision *d)
{
	twofa_options round = *opts;
	twofa_member stand_in;

	(void)verify;
	/* PROVISIONAL: the login's round on a member that is not stored. */
	round.cfg.failmode = TWOFA_FAILMODE_SECURE;
	round.cfg.recovery = false;
	round.cfg.grace_period = 0;
	memset(&stand_in, 0, sizeof(stand_in));
	stand_in.user = (char *)user;
	(void)twofa_strlcpy(stand_in.phone, e164, sizeof(stand_in.phone));
	(void)twofa_strlcpy(stand_in.country, iso2, sizeof(stand_in.country));
	stand_in.channel = opts->cfg.channel;
	stand_in.status = TWOFA_MEMBER_ACTIVE;
	twofa_second_factor(host, &round, members, &stand_in, silent, audit, d);
	if (d->pam_code == PAM_SUCCESS)
		return true;
	if (d->pam_code == PAM_CONV_ERR)
		twofa_enrol_declined(opts, "code prompt", d);
	return false;
}
