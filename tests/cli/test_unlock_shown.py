#!/usr/bin/python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""show and list honour an unlock made on another host (issue 13 item 8 of the last note):
`twofa-enroll unlock` on any host writes member.unlocked into the shared member store and
resets only that host's own state.db; every other host clears its failures, lockouts and
send count at the member's next login there (lib/state: twofa_state_honour_unlock). Until
then this host's state.db still holds the lockout, and show and list used to print it as
stored: the admin who had just unlocked alice on host B saw her locked on host A. Here B
is a second twofa.conf on the same members.db with a state.db of its own."""

import os
import sys

from harness.tap import Tap
from harness.sim import Sim
from harness.pam import FAIL, module_path, run_pam
from harness.cli import Cli

t = Tap()
if not t.ok(module_path() is not None, "pam_twofa.so is built"):
    sys.exit(t.done())

sim = Sim()
cli = Cli(sim, {"lockout_failures": "2", "lockout_seconds": "600", "send_limit": "5",
                "send_window": "600"})
env = cli.env
PW = "pw-unlock-shown"
ALICE = "+14155550123"
os.makedirs(env.dbdir, 0o700, exist_ok=True)
env.add_member("alice", PW, ALICE)
env.add_member("bob", PW, "+14155550124")
env.service("login-test", [env.twofa_line()])

# Host B: the same member store, its own state.db.
b_dir = os.path.join(env.dir, "host-b")
os.mkdir(b_dir, 0o700)
b_config = os.path.join(env.dir, "host-b.conf")
with open(env.config_path) as f:
    text = f.read().replace("state_db = %s" % env.state_db, "state_db = %s" % os.path.join(b_dir, "state.db"))
fd = os.open(b_config, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
with os.fdopen(fd, "w") as f:
    f.write(text)


def login(answers):
    return run_pam(env, "login-test", "alice", ["auth"], answers=answers, rhost="192.0.2.7")


def listed(user):
    r = cli.run("list", "--json")
    rows = [x for x in r.json() if x["user"] == user] if r.rc == 0 else []
    return rows[0] if rows else {}


def table_row(user):
    r = cli.run("list")
    rows = [l.split() for l in r.out.splitlines() if l.split()[:1] == [user]]
    return rows[0] if rows else []


login([PW, FAIL])  # one code sent, given up at the prompt
for _ in range(2):
    login(["wrong password"])
o = cli.show("alice") or {}
t.ok(o.get("failures") == 2 and o.get("locked_until") is not None and len(o.get("locked_from") or []) == 1
     and o.get("sends") == 1, "host A: two failures, locked (everywhere or from the source), one send", o)

r = cli.run("unlock", "alice", config=b_config)
t.ok(r.rc == 0, "host B: unlock alice", r.describe())
st = cli.state("alice")
t.ok(st.get("failures") == 2, "host A's state.db still holds the failures (no login there since)", st)

o = cli.show("alice") or {}
t.ok(o.get("failures") == 0 and o.get("locked_until") is None and o.get("locked_from") == []
     and o.get("sends") == 0 and o.get("next_send") is None,
     "host A: show --json honours B's unlock: no failures, lockout or sends", o)
r = cli.run("show", "alice")
t.ok(r.rc == 0 and "failures      0\n" in r.out and "locked until  -\n" in r.out and "locked from" not in r.out
     and "sends         0 of 5" in r.out, "host A: show (text) honours it too", r.describe())
row = listed("alice")
t.ok(row.get("failures") == 0 and row.get("locked_until") is None, "host A: list --json honours it", row)
row = table_row("alice")
t.ok(row[-2:] == ["0", "-"], "host A: the list table shows 0 failures and no lockout", row)
row = listed("bob")
t.ok(row.get("failures") == 0 and row.get("locked_until") is None, "bob, never unlocked, is listed as before",
     row)
r = cli.run("export")
lines = [x for x in r.out.splitlines() if '"user":"alice"' in x]
t.ok(r.rc == 0 and lines and '"failures":0,"locked_until":null' in lines[0],
     "export's state honours it as well", r.describe())

# What the login does agrees: it honours the unlock once, and failures after it count.
run = login([PW, sim.code_answer(ALICE)])
t.eq(run.code("auth"), "PAM_SUCCESS", "host A: the login honours the unlock and succeeds")
login(["wrong password"])
o = cli.show("alice") or {}
st = cli.state("alice")
t.ok(o.get("failures") == 1 and st.get("failures") == 1,
     "a failure after the honoured unlock is shown (the same unlock clears nothing twice)", (o, st))
row = listed("alice")
t.ok(row.get("failures") == 1, "and listed", row)

cli.cleanup()
sim.stop()
sys.exit(t.done())
