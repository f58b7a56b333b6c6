#!/usr/bin/python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""normalize and add agree: a number `twofa-enroll normalize` prints is one `add` enrols
(the short ones included: 7 digits in Niue and Tokelau), and one it refuses, add refuses
with the same line. Both read the number with lib/phone and check the record with lib/identifiers' one
E.164 rule; tests/unit/phone_oracle.py holds every region's example numbers to it."""

import sys

from harness.tap import Tap
from harness.sim import Sim
from harness.cli import CODE, Cli

t = Tap()
sim = Sim()
cli = Cli(sim)

# (user, typed number, country, E.164): 7 digits, shorter than the member record took.
accepted = [("bob", "4002", "NU", "+6834002"), ("carol", "3101", "TK", "+6903101")]
for user, typed, cc, e164 in accepted:
    r = cli.run("normalize", "--country", cc, "--", typed)
    t.ok(r.rc == 0 and r.out == e164 + "\n", "normalize --country %s %s prints %s" % (cc, typed, e164),
         r.describe())
    r = cli.enroll(user, typed, cc, ["pw-%s-number-1" % user] * 2 + [CODE], to=e164)
    t.ok(r.rc == 0, "add %s --phone %s --country %s enrols the number normalize printed" % (user, typed, cc),
         r.describe())
    shown = cli.show(user)
    t.ok(shown is not None and shown.get("phone") == e164 and shown.get("country") == cc,
         "%s's record holds %s" % (user, e164), repr(shown))

# Refused the same way: the same exit code and the same error line (add may warn
# first that dave is not a user this system knows).
for typed, cc in [("400", "NU"), ("40021", "NU"), ("+68340", "NU")]:
    n = cli.run("normalize", "--country", cc, "--", typed)
    a = cli.run("add", "dave", "--phone", typed, "--country", cc, input="")
    t.ok(n.rc == 65 and a.rc == n.rc and a.err.splitlines()[-1:] == n.err.splitlines() and n.one_line_error(),
         "normalize and add both refuse %s for %s: %s" % (typed, cc, n.err.strip()),
         n.describe() + "\n" + a.describe())
t.ok(cli.member("dave") is None, "nothing was stored for the refused numbers")

cli.cleanup()
sys.exit(t.done())
