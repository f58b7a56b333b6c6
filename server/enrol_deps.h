/* SPDX-License-Identifier: GPL-3.0-or-later */
/* The send policy of an enrolment's code round: lib/send_budget's
 * countries and send_budget, before every send. An adapter until
 * twofa_round_host_io (server/second_factor.c) sets one of its own: then
 * that one stands. */
#ifndef TWOFA_ENROL_DEPS_H
#define TWOFA_ENROL_DEPS_H

#include "code_round.h"

/* Sets io's send policy (admit_send): the country allow-list and the
 * host's send budget, checked before every send of the round. */
void twofa_enrol_send_policy(twofa_round_io *io);

#endif
