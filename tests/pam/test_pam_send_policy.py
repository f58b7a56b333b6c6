#!/usr/bin/python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""The send policy at login (issue 15 item 4) under real libpam: every code a login sends,
resends too, goes through lib/send_budget's twofa_send_admit:
  - countries: a member whose number's country the list no longer names fails closed
    (PAM_AUTH_ERR, nothing sent, the reason in the decision line, a plain text), under
    failmode=safe too; an email member has no country and is not refused for one;
  - send_budget: over it no code is sent (PAM_MAXTRIES, "Too many codes sent"), one LOG_CRIT
    line a window however many logins it refuses, failmode=safe never lets in on it, a
    refused resend keeps the code already sent, a member who holds a recovery code is asked
    for one instead, and after the window sends go again.
Runs on either member store (tests/pam/ldap/test_pam_send_policy.sh). TAP output."""

import json
import os
import sys
import time

from harness.cli import run_cli
from harness.pam import Env, SyslogCapture, module_path, run_pam
from harness.sim import Sim
from harness.tap import Tap

t = Tap()
if not t.ok(module_path() is not None, "pam_twofa.so is built"):
    sys.exit(t.done())

PASSWORD = "send policy test password"
ALICE, BOB, CAROL = "+14155550141", "+447400123458", "+14155550143"
MAIL = "dora@example.org"
COUNTRY_TEXT = "Codes cannot be sent to your number's country from here. Contact your administrator."
LIMIT_TEXT = "Too many codes sent."
WINDOW = 20

sim = Sim("--email-enabled")
env = Env(sim, config={"max_tries": "3", "lockout_failures": "0"})
env.add_member("alice", PASSWORD, ALICE)
env.add_member("bob", PASSWORD, BOB, country="GB")
env.add_member("carol", PASSWORD, CAROL)
env.add_member("dora", PASSWORD, "", country="", channel="email", email=MAIL)
env.service("sp", [env.twofa_line()])
env.service("sp-safe", [env.twofa_line("failmode=safe")])
cap = SyslogCapture(env)


def login(user, answers, svc="sp", **kw):
    kw.setdefault("rhost", "192.0.2.41")
    cap.clear()
    run = run_pam(env, svc, user, ["auth"], answers=answers, syslog=cap, **kw)
    cap.wait_for("result=", timeout=3)
    return run


def decisions():
    return [r for r in cap.lines() if " result=" in r["message"]]


def one_decision(what):
    lines = decisions()
    t.ok(len(lines) == 1, "%s: one decision line" % what, "\n".join(cap.texts()))
    return lines[0]["message"] if lines else ""


def crits():
    return [r for r in cap.lines() if r["severity"] == "crit" and "send_budget" in r["message"]]


# -- countries: a member whose country is no longer listed fails closed ----------------------
env.write_config({"countries": "US"})
env.fresh()
run = login("alice", [PASSWORD, sim.code_answer(ALICE)])
t.ok(run.code("auth") == "PAM_SUCCESS" and sim.sends(ALICE) == 1,
     "countries = US: a US member logs in as before", run.describe())
env.fresh()
run = login("bob", [PASSWORD, sim.code_answer(BOB)])
line = one_decision("a GB member under countries = US")
t.ok(run.code("auth") == "PAM_AUTH_ERR" and sim.sends(BOB) == 0 and len(run.prompts()) == 1,
     "countries = US: the GB member is refused after the password, nothing sent, no code prompt",
     run.describe())
t.ok("result=denied" in line and "country GB is not in countries" in line and BOB not in line,
     "the decision line gives the reason (no number)", line)
t.ok(COUNTRY_TEXT in run.texts(), "the member is told plainly", run.describe())
env.fresh()
run = login("bob", [PASSWORD, sim.code_answer(BOB)], svc="sp-safe")
t.ok(run.code("auth") == "PAM_AUTH_ERR" and sim.sends(BOB) == 0,
     "failmode=safe: the refused country still fails closed", run.describe())
env.fresh()
run = login("dora", [PASSWORD, sim.code_answer(MAIL)])
t.ok(run.code("auth") == "PAM_SUCCESS" and sim.sends(MAIL) == 1,
     "an email member has no country: countries does not refuse her codes", run.describe())
env.write_config({"countries": None})
env.fresh()
run = login("bob", [PASSWORD, sim.code_answer(BOB)])
t.ok(run.code("auth") == "PAM_SUCCESS" and sim.sends(BOB) == 1,
     "countries unset again: the GB member logs in", run.describe())

# -- send_budget: logins trip it, it refuses, one LOG_CRIT a window, then it recovers -------
env.write_config({"send_budget": "2/%d" % WINDOW})
env.fresh()
start = time.time()
runs = [login(u, [PASSWORD, sim.code_answer(p)]) for u, p in (("alice", ALICE), ("carol", CAROL))]
t.ok([r.code("auth") for r in runs] == ["PAM_SUCCESS"] * 2,
     "send_budget = 2/%d: two logins get their codes" % WINDOW, "\n".join(r.describe() for r in runs))
seen_crit = []
run = login("alice", [PASSWORD, sim.code_answer(ALICE)])
seen_crit += crits()
line = one_decision("over budget")
t.ok(run.code("auth") == "PAM_MAXTRIES" and sim.sends(ALICE) == 1 and len(run.prompts()) == 1,
     "over budget: refused after the password, nothing sent", run.describe())
t.ok("result=denied" in line and "send_budget 2/%d s spent" % WINDOW in line and
     any(LIMIT_TEXT in x for x in run.texts()), "the decision line and the text say why", line)
run = login("carol", [PASSWORD, sim.code_answer(CAROL)], svc="sp-safe")
seen_crit += crits()
t.ok(run.code("auth") == "PAM_MAXTRIES" and sim.sends(CAROL) == 1,
     "failmode=safe never lets in on a spent budget", run.describe())
run = login("bob", [PASSWORD, sim.code_answer(BOB)], rhost="192.0.2.42")
seen_crit += crits()
t.ok(run.code("auth") == "PAM_MAXTRIES" and sim.sends(BOB) == 0, "another member: refused too",
     run.describe())
t.ok(len(seen_crit) == 1, "three refusals in one window: one LOG_CRIT line",
     "\n".join(r["message"] for r in seen_crit))

# A member who holds a recovery code is asked for one instead.
r = run_cli(env.config_path, "recovery", "bob", "--count", "5", "--json")
codes = json.loads(r.out) if r.rc == 0 else []
t.ok(len(codes) == 5, "bob gets recovery codes", r.describe())
run = login("bob", [PASSWORD, codes[0] if codes else ""])
line = one_decision("a recovery code over budget")
prompts = [text for kind, text in run.prompts()]
t.ok(run.code("auth") == "PAM_SUCCESS" and sim.sends(BOB) == 0 and len(prompts) == 2
     and LIMIT_TEXT in prompts[1] and "Recovery code" in prompts[1]
     and "recovery code used, 4 left" in line,
     "over budget, a member with recovery codes is asked for one and gets in", run.describe())
t.ok(crits() == [], "no second LOG_CRIT line in the window", "\n".join(cap.texts()))

# After the window, sends go again.
time.sleep(max(0.0, start + WINDOW + 1 - time.time()))
env.fresh()  # the users' own send_limit counters, not the host's budget
run = login("alice", [PASSWORD, "call", sim.code_answer(ALICE)])
t.ok(run.code("auth") == "PAM_SUCCESS" and sim.sends(ALICE) == 2,
     "a new window: the code and a resend go (the budget's two)", run.describe())
run = login("carol", [PASSWORD, sim.code_answer(CAROL)])
t.ok(run.code("auth") == "PAM_MAXTRIES" and len(crits()) == 1,
     "the new window trips again: refused, and its own one LOG_CRIT line", run.describe())

# A refused resend keeps the code already sent.
time.sleep(WINDOW + 1)
env.write_config({"send_budget": "1/%d" % WINDOW})
env.fresh()
run = login("alice", [PASSWORD, "call", sim.code_answer(ALICE)])
prompts = [text for kind, text in run.prompts()]
t.ok(run.code("auth") == "PAM_SUCCESS" and sim.sends(ALICE) == 1 and len(prompts) == 3
     and "Enter the code you have" in prompts[2],
     "send_budget = 1: a resend is refused at the next prompt, the first code still lets in",
     run.describe())
env.write_config({"send_budget": None})

# A member whose own sends are spent spends none of the host's budget: with send_limit 1 and
# a budget of 2, alice's second login meets her own limit, and carol still gets the second
# code (were the budget asked first, alice's refused login would have taken it).
env.write_config({"send_budget": "2/%d" % WINDOW, "send_limit": "1"})
env.fresh()
budget_db = os.path.join(os.path.dirname(env.state_db), "send_budget.db")
if os.path.exists(budget_db):
    os.unlink(budget_db)  # a new window
first = login("alice", [PASSWORD, sim.code_answer(ALICE)])
second = login("alice", [PASSWORD])
third = login("carol", [PASSWORD, sim.code_answer(CAROL)])
t.ok(first.code("auth") == "PAM_SUCCESS" and second.code("auth") == "PAM_MAXTRIES"
     and sim.sends(ALICE) == 1 and third.code("auth") == "PAM_SUCCESS" and sim.sends(CAROL) == 1
     and crits() == [],
     "a login refused by the member's own send_limit takes nothing of the host's budget",
     "\n".join(r.describe() for r in (first, second, third)))
env.write_config({"send_budget": None, "send_limit": None})

env.cleanup()
sys.exit(t.done())
