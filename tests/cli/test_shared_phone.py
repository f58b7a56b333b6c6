#!/usr/bin/python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""max_members_per_phone (issue 15) at twofa-enroll add and phone, against the simulator:
with the default 1, a number another member has is refused (65) before any code is sent
or anything stored, the message masks the number and names --shared-phone; with
--shared-phone it is bound, with a warning; a member keeping or re-proving their own number
is not counted against themselves; an invited record (no number) never counts; raising
the limit lets the number serve more; members who already share one keep it (phone to
another number and back is a new binding, checked again). tests/cli/ldap/test_shared_phone.sh
runs it again with the members in a slapd. TAP output."""

import os
import sys

from harness.tap import Tap
from harness.sim import Sim
from harness.cli import CODE, Cli

t = Tap()
sim = Sim()
cli = Cli(sim)
env = cli.env
os.makedirs(env.dbdir, 0o700, exist_ok=True)
N1, N2 = "+14155550101", "+14155550102"
env.add_member("alice", "pw-alice-1", N1)
# Two members share N2 from before the limit (written directly, as an upgrade finds them).
env.add_member("old1", "pw-old-1", N2)
env.add_member("old2", "pw-old-2", N2)


def record(user):
    r = cli.run("show", user, "--json")
    return r.json() if r.rc == 0 else None


sent = len(sim.outbox(N1))
r = cli.enroll("bob", N1, "US", ["pw-bob-1", "pw-bob-1", CODE], extra=["--password-stdin"])
t.ok(r.rc == 65 and "max_members_per_phone = 1" in r.err and "--shared-phone" in r.err and "0101" in r.err
     and N1 not in r.err and r.one_line_error(),
     "add bob with alice's number: refused (65), masked, names --shared-phone", r.describe())
t.ok(record("bob") is None and len(sim.outbox(N1)) == sent, "nothing stored, no code sent")
r = cli.flow(["add", "bob", "--phone", N1, "--country", "US", "--password-stdin", "--shared-phone"], N1,
             ["pw-bob-1", CODE])
t.ok(r.rc == 0 and (record("bob") or {}).get("phone") == N1 and "warning:" in r.err and "--shared-phone" in r.err,
     "add bob --shared-phone: bound, with a warning", r.describe())
r = cli.flow(["phone", "alice", "--phone", N1, "--country", "US"], N1, [CODE])
t.ok(r.rc == 65 and "1 other member" in r.err, "alice re-proving her number: bob shares it now (1 other): refused",
     r.describe())

r = cli.run("invite", "ivy")
t.ok(r.rc == 0, "ivy invited (a record without a number)", r.describe())
r = cli.flow(["add", "carl", "--phone", "+14155550103", "--country", "US", "--password-stdin"], "+14155550103",
             ["pw-carl-1", CODE])
t.ok(r.rc == 0, "a number nobody has: carl enrols (the invite does not count)", r.describe())
r = cli.flow(["phone", "carl", "--phone", "+14155550103", "--country", "US"], "+14155550103", [CODE])
t.ok(r.rc == 0, "carl re-proves his own number: he is not counted against himself", r.describe())

r = cli.flow(["phone", "carl", "--phone", N2, "--country", "US"], N2, [CODE])
t.ok(r.rc == 65 and "2 other members" in r.err and (record("carl") or {}).get("phone") == "+14155550103",
     "carl to the number old1 and old2 share: refused, carl keeps his", r.describe())
r = cli.flow(["phone", "old1", "--phone", "+14155550104", "--country", "US"], "+14155550104", [CODE])
t.ok(r.rc == 0 and (record("old2") or {}).get("phone") == N2, "old1 moves away; old2 keeps the shared number",
     r.describe())
r = cli.flow(["phone", "old1", "--phone", N2, "--country", "US"], N2, [CODE])
t.ok(r.rc == 65, "and old1 moving back is a new binding: refused", r.describe())

env.write_config({"max_members_per_phone": "3"})
r = cli.flow(["phone", "carl", "--phone", N1, "--country", "US"], N1, [CODE])
t.ok(r.rc == 0 and (record("carl") or {}).get("phone") == N1,
     "max_members_per_phone = 3: carl joins alice and bob on one number", r.describe())
r = cli.enroll("dora", N1, "US", ["pw-dora-1", CODE], extra=["--password-stdin"])
t.ok(r.rc == 65 and "3 other members" in r.err and "= 3" in r.err, "a fourth is refused", r.describe())
r = cli.run("add", "eve", "--phone", N1, "--country", "US", "--shared-phone", "--nope")
t.ok(r.rc == 64, "an unknown option beside --shared-phone: usage error", r.describe())
r = cli.run("test", "alice", "--shared-phone")
t.ok(r.rc == 64, "test takes no --shared-phone", r.describe())
t.eq(cli.leaks(r.err), [], "no secret in the output")

sys.exit(t.done())
