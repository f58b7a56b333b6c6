#!/usr/bin/python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""Screen lockers (issue 12, item 5) through real libpam. swaylock and i3lock answer every
prompt with the one buffer the user typed; the conversations here do the same. The
detection: a code answer equal to PAM_AUTHTOK refuses without counting a failure, cancels
the code and is remembered for that member and service, so its next logins send nothing.
The recipe (split_answer, the password check, code_from_answer): the password and the
code in one answer, and never a code sent in vain. SMS counted in the simulator's outbox,
failures in state.db, decision lines in the captured syslog. TAP output."""

import os
import re
import sys
import time

from harness.tap import Tap
from harness.sim import Sim
from harness.pam import Env, SyslogCapture, module_path, module_with_server, run_pam

t = Tap()
if not t.ok(module_path() is not None, "pam_twofa.so is built"):
    sys.exit(t.done())

PASSWORD = "locker password"
ALICE, BOB = "+14155550123", "+14155550124"

sim = Sim()
env = Env(sim, config={"max_tries": "3", "lockout_failures": "5", "lockout_seconds": "600"})
env.add_member("alice", PASSWORD, ALICE)
env.add_member("bob", PASSWORD, BOB)
cap = SyslogCapture(env)

# The first factor: pam_exec checks PAM_AUTHTOK (asking for it when no module set it, as
# pam_unix does) and keeps what it got, so the tests see what the password check saw.
received = os.path.join(env.dir, "authtok-received")
check = os.path.join(env.dir, "check-password.sh")
with open(check, "w") as f:
    f.write('#!/bin/sh\ntr -d "\\000" > "%s"\n[ "$(cat "%s")" = "%s" ]\n' % (received, received, PASSWORD))
os.chmod(check, 0o700)
FIRST = "auth requisite pam_exec.so expose_authtok quiet " + check

env.service("lk-sway", [FIRST, env.twofa_line("password=none")])
env.service("lk-term", [FIRST, env.twofa_line("password=none")])
RECIPE = ["auth required %s split_answer" % module_with_server(), FIRST,
          env.twofa_line("password=none code_from_answer")]
env.service("lk-recipe", RECIPE)
env.service("lk-recipe-store", ["auth required %s split_answer" % module_with_server(), FIRST,
                                env.twofa_line("code_from_answer")])
env.service("lk-split-args", ["auth required %s split_answer nullok" % module_with_server(), FIRST])
env.service("lk-recipe-nullok", ["auth required %s split_answer debug config=%s" % (module_with_server(), env.config_path),
                                 FIRST, env.twofa_line("password=none code_from_answer nullok")])

DECISION = re.compile(r"^pam_twofa\([^)]*\): auth service=\S+ user=\S+ .*result=\w+ reason=")


def typed(text):
    """A conversation that answers every prompt with the same buffer, as swaylock does."""
    return lambda kind, prompt, run: text


def login(service, user, answers, ops=("auth",)):
    """One PAM call; (run, its decision lines, its severities)."""
    cap.clear()
    run = run_pam(env, service, user, list(ops), answers=answers, syslog=cap, rhost="192.0.2.50")
    cap.wait_for(r"result=", timeout=3.0)
    time.sleep(0.2)
    lines = [r for r in cap.lines() if DECISION.match(r["message"])]
    return run, [r["message"] for r in lines], [r["severity"] for r in lines]


def failures(user):
    return env.state(user)["failures"]


# -- the detection ---------------------------------------------------------------------------
env.fresh()
run, lines, sev = login("lk-sway", "alice", typed(PASSWORD))
code = sim.last_code(ALICE)
t.ok(run.code("auth") == "PAM_AUTH_ERR" and sim.sends(ALICE) == 1,
     "a swaylock-like login: refused, and it cost exactly one SMS", run.describe())
t.ok(len(run.prompts()) == 2, "the code prompt was asked once, not max_tries times", run.describe())
t.eq(failures("alice"), 0, "no failure counted (no progress towards a lockout)")
t.ok(len(lines) == 1 and "reason=the program answered the code prompt with the password: it cannot "
     "ask for a code (pam_twofa(8) SCREEN LOCKERS)" in lines[0] and sev[0] in ("notice", "warning"),
     "one decision line says why, at notice", "%r %r" % (lines, sev))
t.ok(any("SCREEN LOCKERS" in m for m in run.texts(("ERROR_MSG",))),
     "the user is told to look at pam_twofa(8) SCREEN LOCKERS", run.describe())
st, body, _ = sim.check(ALICE, code or "000000")
t.ok(st == 404, "the code sent was cancelled: it no longer works", "%r %r" % (st, body))
state = env.state("alice")
t.ok([e["service"] for e in state.get("single_answer", [])] == ["lk-sway"],
     "state.db remembers the service for the member", state)

for attempt in (2, 3):
    run, lines, sev = login("lk-sway", "alice", typed(PASSWORD))
    t.ok(run.code("auth") == "PAM_AUTH_ERR" and sim.sends(ALICE) == 1 and len(run.prompts()) == 1,
         "attempt %d of the same program: refused at once, no SMS, no code prompt" % attempt,
         run.describe())
    t.ok(len(lines) == 1 and "SCREEN LOCKERS" in lines[0] and "nothing sent" in lines[0]
         and any("SCREEN LOCKERS" in m for m in run.texts(("ERROR_MSG",))),
         "attempt %d: the same hint, one decision line" % attempt, "%r" % lines)
t.eq(failures("alice"), 0, "still no failure counted")

run, lines, _ = login("lk-term", "alice", [PASSWORD, sim.code_answer(ALICE)])
t.ok(run.code("auth") == "PAM_SUCCESS" and sim.sends(ALICE) == 2,
     "the same member on another service is not affected: code sent, login succeeds", run.describe())
run, lines, _ = login("lk-sway", "bob", [PASSWORD, sim.code_answer(BOB)])
t.ok(run.code("auth") == "PAM_SUCCESS" and sim.sends(BOB) == 1,
     "another member on the remembered service is not affected", run.describe())
run, lines, _ = login("lk-sway", "alice", [PASSWORD, sim.wrong_code_answer(ALICE)] + ["1"] * 2)
t.ok(run.code("auth") != "PAM_SUCCESS" and failures("alice") == 0 and sim.sends(ALICE) == 2,
     "while remembered, a client that can answer gets no code either (nothing sent, nothing counted)",
     run.describe())

# A normal client whose code answer is not the password is the normal path: failures count.
env.fresh()
run, lines, _ = login("lk-term", "alice", [PASSWORD] + [sim.wrong_code_answer(ALICE)] * 3)
t.ok(run.code("auth") == "PAM_MAXTRIES" and failures("alice") == 3 and "single_answer" not in env.state("alice"),
     "wrong codes from a client that shows prompts still count as failures", run.describe())

# -- the recipe: password and code in one answer ----------------------------------------------
env.fresh()
os.path.exists(received) and os.unlink(received)
run, lines, _ = login("lk-recipe", "alice", typed(PASSWORD))
told = run.texts(("ERROR_MSG",))
t.ok(run.code("auth") == "PAM_AUTH_ERR" and sim.sends(ALICE) == 1 and run.prompts() == [
    ("PROMPT_ECHO_OFF", "Password: ")],
     "recipe, password alone: one prompt, one SMS, refused", run.describe())
t.ok(told == ["A code was sent by SMS to +1 ***-***-0123: type your password, a space and the code."],
     "the user is told where the code went and what to type", "%r" % told)
t.eq(failures("alice"), 0, "recipe, password alone: no failure counted")
t.ok(len(lines) == 1 and "result=denied" in lines[0] and "channel=sms" in lines[0]
     and ALICE not in lines[0], "one decision line, with the masked destination", "%r" % lines)
t.eq(open(received).read() if os.path.exists(received) else None, PASSWORD,
     "the password check got the password")

code = sim.last_code(ALICE)
os.unlink(received)
run, lines, _ = login("lk-recipe", "alice", typed(PASSWORD + " " + code))
t.ok(run.code("auth") == "PAM_SUCCESS" and sim.sends(ALICE) == 1 and len(run.prompts()) == 1,
     "recipe, password, a space and the code: success, no new SMS", run.describe())
t.eq(open(received).read() if os.path.exists(received) else None, PASSWORD,
     "split_answer left the password alone in PAM_AUTHTOK for the password check")
t.ok(code not in "".join(cap.texts()), "the code is in no log line")

run, lines, _ = login("lk-recipe", "alice", typed(PASSWORD))
t.ok(run.code("auth") == "PAM_AUTH_ERR" and sim.sends(ALICE) == 1
     and run.texts(("ERROR_MSG",)) == told,
     "recipe, password alone again within the code's lifetime: nothing sent", run.describe())
t.eq(failures("alice"), 0, "and no failure counted")

env.fresh()
run, _, _ = login("lk-recipe", "alice", typed(PASSWORD))
wrong = sim.wrong_code_answer(ALICE)(None, None, None)
run, lines, _ = login("lk-recipe", "alice", typed(PASSWORD + " " + wrong))
t.ok(run.code("auth") == "PAM_AUTH_ERR" and failures("alice") == 1 and sim.sends(ALICE) == 1,
     "recipe, a wrong code: refused, counted as a failure, nothing sent", run.describe())
t.ok(len(lines) == 1 and "wrong code" in lines[0], "its decision line", "%r" % lines)
run, _, _ = login("lk-recipe", "alice", typed(PASSWORD + " " + sim.last_code(ALICE)))
t.ok(run.code("auth") == "PAM_SUCCESS" and sim.sends(ALICE) == 1 and failures("alice") == 0,
     "the right code after a wrong one still works (the verification stayed pending)", run.describe())

env.fresh()
run, _, _ = login("lk-recipe", "alice", typed("not the password 123456"))
t.ok(run.code("auth") not in ("PAM_SUCCESS", None) and sim.sends(ALICE) == 0,
     "recipe, a wrong password with a code: the password check refuses, nothing sent", run.describe())
t.eq(open(received).read() if os.path.exists(received) else None, "not the password",
     "the password check got the answer without its code")
run, _, _ = login("lk-recipe", "alice", typed(PASSWORD + " 12345678901"))
t.ok(run.code("auth") not in ("PAM_SUCCESS", None) and sim.sends(ALICE) == 0
     and open(received).read() == PASSWORD + " 12345678901",
     "11 trailing digits are no code: the whole answer is the password", run.describe())

# The detection has no say here: a service remembered before the recipe still logs in.
env.fresh()
login("lk-recipe", "alice", typed(PASSWORD))
env.service("lk-sway", RECIPE)
env.fresh()
run, _, _ = login("lk-sway", "alice", typed(PASSWORD))
t.ok(run.code("auth") == "PAM_AUTH_ERR" and sim.sends(ALICE) == 1, "recipe on a fresh state: one send")
env.service("lk-sway", [FIRST, env.twofa_line("password=none")])

# Errors of configuration fail closed.
run, lines, _ = login("lk-recipe-store", "alice", typed(PASSWORD))
t.ok(run.code("auth") == "PAM_SERVICE_ERR" and sim.sends(ALICE) == 1 and len(lines) == 1
     and "code_from_answer needs password=none" in lines[0],
     "code_from_answer without password=none: a configuration error", "%r\n%s" % (lines, run.describe()))
run, _, _ = login("lk-split-args", "alice", typed(PASSWORD))
t.ok(run.code("auth") == "PAM_SERVICE_ERR" and len(run.prompts()) == 1,
     "split_answer with an argument for the server: a configuration error (the line asks nothing)",
     run.describe())

env.fresh()
run, _, _ = login("lk-recipe-nullok", "carol", typed(PASSWORD))
t.ok(run.code("auth") == "PAM_SUCCESS" and sim.sends() == 0,
     "recipe with nullok: a user who is not enrolled unlocks on the password alone (split_answer "
     "takes debug and config=)", run.describe())
t.ok(any("split_answer: no code in the answer" in l for l in cap.texts()),
     "split_answer logs a line with debug, and no code", "%r" % cap.texts())

# swaylock keeps one PAM handle for every attempt: a later attempt is split afresh.
env.fresh()
attempts = []


def unlock_attempts(kind, prompt, run):
    attempts.append(prompt)
    return PASSWORD if len(attempts) == 1 else PASSWORD + " " + sim.last_code(ALICE)


run, _, _ = login("lk-recipe", "alice", unlock_attempts, ops=("auth", "auth"))
t.ok(run.codes() == ["PAM_AUTH_ERR", "PAM_SUCCESS"] and len(attempts) == 2 and sim.sends(ALICE) == 1,
     "one handle, two attempts: the password alone sends, then password and code unlock",
     run.describe())

sys.exit(t.done())
