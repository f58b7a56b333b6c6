#!/usr/bin/python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""twofa-enroll show and unlock on the login state real pam_twofa logins leave: the send
limit (sends in the window, when the next send is allowed) and lockouts per source are
shown, and unlock clears failures, lockouts and the send limit's count (issue 11 section 2:
an admin took the send limit for a lockout that unlock did not lift)."""

import calendar
import os
import sys
import time

from harness.tap import Tap
from harness.sim import Sim
from harness.pam import FAIL, module_path, run_pam
from harness.cli import Cli

t = Tap()
if not t.ok(module_path() is not None, "pam_twofa.so is built"):
    sys.exit(t.done())

sim = Sim()
SEND_LIMIT, WINDOW = 2, 600
cli = Cli(sim, {"lockout_failures": "2", "lockout_seconds": "600", "send_limit": str(SEND_LIMIT),
                "send_window": str(WINDOW)})
env = cli.env
PW = "pw-admin-state"
ALICE = "+14155550123"
RHOST_A, RHOST_B = "192.0.2.7", "198.51.100.8"
FIELDS = ["user", "email", "phone", "country", "channel", "status", "created", "updated", "verified",
          "last_login", "failures", "locked_until", "locked_from", "sends", "next_send", "recovery_codes", "bypass",
          "totp_factor"]
os.makedirs(env.dbdir, 0o700, exist_ok=True)
env.add_member("alice", PW, ALICE)
env.service("login-test", [env.twofa_line()])


def login(answers, rhost=RHOST_A):
    return run_pam(env, "login-test", "alice", ["auth"], answers=answers, rhost=rhost)


def epoch(iso):
    return calendar.timegm(time.strptime(iso, "%Y-%m-%dT%H:%M:%SZ"))


# -- the send limit --------------------------------------------------------------------------
o = cli.show("alice") or {}
t.eq(list(o.keys()), FIELDS, "show --json: the list fields, then locked_from, sends and next_send")
t.ok(o.get("sends") == 0 and o.get("next_send") is None and o.get("locked_from") == [],
     "before any login: no sends, the next send is allowed now (null), no source locked", o)

started = int(time.time())
for _ in range(SEND_LIMIT):
    login([PW, FAIL])  # a code is sent, the user gives up at the prompt
run = login([PW, FAIL])
t.ok(run.code("auth") == "PAM_MAXTRIES" and any("Too many codes sent" in x for x in run.texts()),
     "the third login within the window meets the send limit", run.describe())
o = cli.show("alice") or {}
nxt = o.get("next_send")
t.ok(o.get("sends") == SEND_LIMIT and o.get("failures") == 0 and o.get("locked_until") is None,
     "show --json: %d sends in the window, and no failure or lockout" % SEND_LIMIT, o)
t.ok(nxt is not None and started + WINDOW <= epoch(nxt) <= int(time.time()) + WINDOW,
     "show --json: next_send is when the oldest send leaves the window", o)
r = cli.run("show", "alice")
t.ok(r.rc == 0 and "sends         %d of %d in the last %d s" % (SEND_LIMIT, SEND_LIMIT, WINDOW) in r.out
     and "next send     %s" % nxt in r.out, "show: the sends in the window and the next send's time", r.describe())

r = cli.run("unlock", "alice")
t.ok(r.rc == 0 and "send" in r.out, "unlock says it reset the send limit's count too", r.describe())
o = cli.show("alice") or {}
t.ok(o.get("sends") == 0 and o.get("next_send") is None, "after unlock: no sends, next send now", o)
before = len(sim.outbox(ALICE))
run = login([PW, FAIL])
t.ok(len(sim.outbox(ALICE)) == before + 1 and len(run.prompts()) == 2,
     "after unlock a login gets a code at once", run.describe())
r = cli.run("show", "alice")
t.ok(r.rc == 0 and "sends         1 of %d" % SEND_LIMIT in r.out and "next send     now" in r.out,
     "show: below the limit the next send is now", r.describe())

# -- a lockout from one source ---------------------------------------------------------------------
for _ in range(2):
    login(["wrong password"])
o = cli.show("alice") or {}
locked = o.get("locked_from") or [{}]
t.ok(o.get("failures") == 2 and o.get("locked_until") is not None and len(o.get("locked_from", [])) == 1
     and locked[0].get("from") == "rhost=" + RHOST_A and locked[0].get("until") == o.get("locked_until"),
     "show --json: the lockout and the source it holds for", o)
r = cli.run("show", "alice")
t.ok(r.rc == 0 and "locked from   rhost=%s until %s" % (RHOST_A, o.get("locked_until")) in r.out,
     "show: a 'locked from' line names the source", r.describe())
r = cli.run("list", "--json")
rows = [x for x in r.json() if x["user"] == "alice"] if r.rc == 0 else []
t.ok(rows and rows[0]["locked_until"] == o.get("locked_until"), "list --json shows the same lockout", r.describe())
run = login([PW, FAIL], rhost=RHOST_A)
t.eq(run.code("auth"), "PAM_MAXTRIES", "locked out from that source")
r = cli.run("unlock", "alice")
o = cli.show("alice") or {}
t.ok(r.rc == 0 and o.get("failures") == 0 and o.get("locked_until") is None and o.get("locked_from") == []
     and o.get("sends") == 0, "unlock clears failures, every source's lockout and the sends", o)
run = login([PW, sim.code_answer(ALICE)], rhost=RHOST_A)
t.eq(run.code("auth"), "PAM_SUCCESS", "after unlock the source may log in again")

# -- names that are not enrolled leave records db check accepts ----------------------------------
for _ in range(3):
    run_pam(env, "login-test", "nosuchuser", ["auth"], answers=["guess"], rhost=RHOST_B)
r = cli.run("db", "check")
t.ok(r.rc == 0 and "state.db" in r.out, "db check accepts the records of unknown names and their key",
     r.describe())
r = cli.run("show", "nosuchuser")
t.ok(r.rc == 65, "show of an unknown name -> 65 (its state is not reachable by name)", r.describe())

cli.cleanup()
sim.stop()
sys.exit(t.done())
