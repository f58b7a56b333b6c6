/* SPDX-License-Identifier: GPL-3.0-or-later */
#include "twofa_build.h"

#include <string.h>
#include <syslog.h>

#include "enrol_deps.h"

bool twofa_enrol_country_allowed(const twofa_config *cfg, const char *iso2)
{
	(void)cfg;
	(void)iso2;
	return true; /* PROVISIONAL: countries (limits) not merged yet */
}

void twofa_enrol_send_policy(twofa_round_io *io)
{
	io->admit_send = NULL; /* PROVISIONAL: twofa_send_admit (limits) not merged yet */
}
