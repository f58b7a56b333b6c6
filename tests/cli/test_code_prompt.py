#!/usr/bin/python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""twofa-enroll's code prompt, now lib/code_round with the CLI's options: up to five blank
lines are skipped (not tries), a sixth ends the run; at most five re-sends a run (more are
refused with a warning, the code sent still works); nothing of it is counted in state.db.
TAP output."""

import os
import sys

from harness.cli import CODE, Cli
from harness.sim import Sim
from harness.tap import Tap

t = Tap()
sim = Sim()
cli = Cli(sim)
PHONES = {"alice": "+447400123466", "bob": "+447400123467", "carol": "+447400123468"}
CC = "GB"
PW = "pw-code-prompt-1"


def add(user):
    return ["add", user, "--phone", PHONES[user], "--country", CC]


r = cli.flow(add("alice"), PHONES["alice"], [PW, PW, "", "", "", "", "", CODE])
t.ok(r.rc == 0 and cli.member("alice") is not None, "five blank lines are skipped, then the code is accepted",
     r.describe())

r = cli.flow(add("bob"), PHONES["bob"], [PW, PW, "", "", "", "", "", ""])
t.ok(r.rc == 65 and "no code given" in r.err and cli.member("bob") is None,
     "a sixth blank line ends the run: 65, nothing stored", r.describe())
t.ok(sim.requests()[-1]["op"] == "cancel", "the pending code is cancelled", sim.requests()[-1:])

sends = sim.sends(PHONES["carol"])
r = cli.flow(add("carol"), PHONES["carol"], [PW, PW] + ["resend"] * 6 + [CODE])
t.ok(r.rc == 0 and r.err.count("no more re-sends in this run") == 1 and cli.member("carol") is not None,
     "a sixth re-send is refused with a warning; the code sent still lets the run finish", r.describe())
t.ok(sim.sends(PHONES["carol"]) - sends <= 6, "at most one send and five re-sends went", sim.sends(PHONES["carol"]) - sends)
t.ok(not os.path.exists(cli.env.state_db) or all(
    cli.env.state(u).get("failures", 0) == 0 and not cli.env.state(u).get("sends") for u in ("alice", "bob", "carol")),
     "nothing of it is counted in state.db")

cli.cleanup()
sys.exit(t.done())
