#!/usr/bin/python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""Recovery and bypass codes at login (issue 14 items 4, 5, 7) under real libpam, with codes
made by `twofa-enroll recovery` and a bypass code put in the record by tests/pam/mkbypass:
  - a recovery code typed at the Verify code's prompt lets in once (the code sent is
    cancelled); typed again it is a wrong code, counted as a failure;
  - the answer `recovery` (any case) cancels the code sent and asks "Recovery code: " with
    echo off; lowercase input without dashes works there;
  - a bypass code of N uses lets in N times, the N+1th is refused; an expired one never;
  - Twilio down (the simulator's 503 at send, a reset at check) under failmode=secure: a
    member with codes is asked "The verification service cannot be reached. Enter a
    recovery code: " and gets in with one; without codes PAM_AUTHINFO_UNAVAIL as before;
    failmode=safe unchanged;
  - wrong recovery codes lock the source out as wrong SMS codes do, and a locked-out source
    cannot use up a good code;
  - a disabled member's code is refused (and not used up); recovery=no refuses the answer
    `recovery` and takes a code-shaped answer for a wrong code, never asking Twilio;
  - the decision line: LOG_NOTICE "recovery code used, N left" / "bypass code used, N uses
    left, issued by ADMIN"; with two or fewer left the member is told, in the final text or,
    under PAM_SILENT (which drops it), in a prompt;
  - no code in syslog, the conversation's texts, or any process's argv or environment.
Runs on either member store (tests/pam/ldap/test_pam_recovery.sh: TWOFA_TEST_BACKEND=ldap).
TAP output."""

import json
import os
import subprocess
import sys

from harness.cli import run_cli
from harness.pam import FAIL, Env, SyslogCapture, module_path, run_pam
from harness.paths import BUILDDIR
from harness.sim import Sim
from harness.tap import Tap

t = Tap()
if not t.ok(module_path() is not None, "pam_twofa.so is built"):
    sys.exit(t.done())

PASSWORD = "recovery test password"
ALICE, BOB, CAROL = "+14155550131", "+14155550132", "+14155550133"
MKBYPASS = os.path.join(BUILDDIR, "tests", "pam", "mkbypass")
UNREACHABLE = "The verification service cannot be reached. Enter a recovery code: "
LOCKED_MSG = "Too many failed attempts. Try again later."
NOT_A_MEMBERS_CODE = "7K3M-9QXD-2HTV-A4WZ"  # well formed, no member holds it

sim = Sim()
env = Env(sim, config={"max_tries": "3", "lockout_failures": "0"})
for user, phone in (("alice", ALICE), ("bob", BOB), ("carol", CAROL)):
    env.add_member(user, PASSWORD, phone)
env.service("rc", [env.twofa_line()])
env.service("rc-off", [env.twofa_line("recovery=no")])
env.service("rc-safe", [env.twofa_line("failmode=safe")])
env.service("rc-one", [env.twofa_line("send_limit=1")])
cap = SyslogCapture(env)
seen = []  # every code handed out, to look for in logs and texts
logged, shown = [], []  # every syslog line, every text the conversation showed


def admin(*args):
    r = run_cli(env.config_path, *args)
    if r.rc != 0:
        raise RuntimeError("twofa-enroll %s: %s" % (" ".join(args), r.describe()))
    return r


def new_codes(user, count):
    codes = json.loads(admin("recovery", user, "--count", str(count), "--json").out)
    seen.extend(codes)
    return codes


def bypass(user, uses, ttl, issuer="root"):
    r = subprocess.run([MKBYPASS, "--config", env.config_path, user, str(uses), str(ttl), issuer],
                       capture_output=True, text=True)
    if r.returncode != 0:
        raise RuntimeError("mkbypass: " + r.stderr)
    seen.append(r.stdout.strip())
    return r.stdout.strip()


def record(user):
    """The member's export line: "recovery" (hashes) and "bypass" ({uses, ...}) when set."""
    for line in admin("export").out.splitlines():
        m = json.loads(line)
        if m.get("user") == user:
            return m
    return None


def left(user):
    return len(record(user).get("recovery", []))


def login(user, answers, svc="rc", **kw):
    kw.setdefault("rhost", "192.0.2.31")
    cap.clear()
    run = run_pam(env, svc, user, ["auth"], answers=answers, syslog=cap, **kw)
    cap.wait_for("result=", timeout=3)
    logged.extend(cap.texts())
    shown.extend(text for kind, text in run.transcript if kind != "ANSWER")
    return run


def decision(user):
    lines = [r for r in cap.lines() if "result=" in r["message"] and "user=%s " % user in r["message"]]
    return lines[-1] if lines else {"message": "", "severity": None}


def ops(name):
    return [r for r in sim.requests() if r["op"] == name]


def code_prompts(run):
    return [p for p in run.prompts()[1:]]


def procs_holding(code):
    """Processes whose argv or environment holds code (with or without its dashes)."""
    forms = [code.encode(), code.replace("-", "").encode()]
    hits = []
    for pid in filter(str.isdigit, os.listdir("/proc")):
        for what in ("cmdline", "environ"):
            try:
                with open("/proc/%s/%s" % (pid, what), "rb") as f:
                    data = f.read()
            except OSError:
                continue
            if any(x in data for x in forms):
                hits.append("%s %s" % (pid, what))
    return hits


codes = new_codes("alice", 5)

# -- the direct path: a recovery code at the Verify code's prompt ----------------------------
env.fresh()
run = login("alice", [PASSWORD, codes[0]])
line = decision("alice")
t.ok(run.codes() == ["PAM_SUCCESS"] and len(ops("cancel")) == 1 and ops("check") == [],
     "a recovery code at the code prompt lets in; the code sent is cancelled, Twilio checks nothing",
     run.describe())
t.ok(line["severity"] == "notice" and "result=success reason=recovery code used, 4 left" in line["message"]
     and " channel=" not in line["message"], "the decision line: LOG_NOTICE 'recovery code used, 4 left'",
     line["message"])
t.eq(left("alice"), 4, "the code is gone from the record")
t.ok(run.texts(("ERROR_MSG", "TEXT_INFO")) == [], "four left: nothing to tell", run.describe())

# -- used once: again it is a wrong code, a failure -------------------------------------------
env.fresh()
argv_hits = []


def look_then_fail(kind, text, run):
    argv_hits.extend(procs_holding(codes[0]))
    return FAIL


run = login("alice", [PASSWORD, codes[0], look_then_fail])
t.ok(run.code("auth") == "PAM_CONV_ERR" and len(run.prompts()) == 3
     and run.prompts()[2] == ("PROMPT_ECHO_ON", "Wrong code. Enter the code again (2 tries left): "),
     "the used code again: refused as a wrong code, and the prompt says so", run.describe())
t.eq(env.state("alice").get("failures"), 1, "and it counts a failure")
t.eq(argv_hits, [], "while the server runs, no process holds the typed code in its argv or environment")

# -- the answer 'recovery' ---------------------------------------------------------------------
env.fresh()
typed = codes[1].lower().replace("-", "")
run = login("alice", [PASSWORD, "Recovery", typed])
t.ok(run.codes() == ["PAM_SUCCESS"] and len(run.prompts()) == 3
     and run.prompts()[2] == ("PROMPT_ECHO_OFF", "Recovery code: ") and len(ops("cancel")) == 1,
     "'Recovery' cancels the code sent and asks 'Recovery code: ' with echo off; lowercase, no dashes",
     run.describe())
t.eq(left("alice"), 3, "that code is gone too")
env.fresh()
run = login("alice", [PASSWORD, "recovery", codes[1], FAIL])
t.ok(run.code("auth") == "PAM_CONV_ERR"
     and run.prompts()[3] == ("PROMPT_ECHO_OFF", "Wrong recovery code. Enter a recovery code (2 tries left): "),
     "at the recovery prompt a used code is wrong", run.describe())

# -- two or fewer left: the member is told, also under PAM_SILENT -------------------------------
env.fresh()
run = login("alice", [PASSWORD, " ".join(codes[2].lower().split("-"))])
told = run.texts(("ERROR_MSG",))
t.ok(run.codes() == ["PAM_SUCCESS"] and len(told) == 1 and told[0].startswith("Recovery code accepted: 2 left.")
     and "twofa-enroll recovery" in told[0], "2 left: the final text says so and how to get new ones",
     run.describe())
env.fresh()
run = login("alice", [PASSWORD, codes[3], ""], silent=True)
last = run.prompts()[-1]
t.ok(run.codes() == ["PAM_SUCCESS"] and run.texts(("ERROR_MSG", "TEXT_INFO")) == []
     and last[0] == "PROMPT_ECHO_ON" and last[1].startswith("Recovery code accepted: 1 left.")
     and last[1].endswith("Press Enter to go on: "),
     "under PAM_SILENT (final text dropped) the same is said in a prompt", run.describe())
env.fresh()
run = login("alice", [PASSWORD, codes[4], FAIL], silent=True)
t.ok(run.codes() == ["PAM_SUCCESS"] and "0 left" in run.prompts()[-1][1]
     and "recovery code used, 0 left" in decision("alice")["message"],
     "the last code: 0 left, and a failed conversation at that prompt does not undo the login",
     run.describe())

# -- wrong recovery codes lock out as wrong SMS codes do ----------------------------------------
codes = new_codes("alice", 3)
env.fresh()
env.write_config({"lockout_failures": "3", "lockout_seconds": "600"})
run = login("alice", [PASSWORD, NOT_A_MEMBERS_CODE, "recovery", NOT_A_MEMBERS_CODE, NOT_A_MEMBERS_CODE])
t.ok(run.code("auth") == "PAM_MAXTRIES" and run.texts()[-1] == LOCKED_MSG,
     "3 wrong recovery codes (one at the code prompt, two at the recovery prompt) lock the source",
     run.describe())
run = login("alice", [PASSWORD, codes[0]])
t.ok(run.code("auth") == "PAM_MAXTRIES" and len(run.prompts()) == 1 and left("alice") == 3,
     "locked out: no code prompt, and the good code is not used up", run.describe())
run = login("alice", [PASSWORD, codes[0]], rhost="198.51.100.31")
t.eq(run.codes(), ["PAM_SUCCESS"], "from another source the code still works")
env.fresh()
run = login("alice", [PASSWORD] + [sim.wrong_code_answer(ALICE)] * 3)
t.ok(run.code("auth") == "PAM_MAXTRIES" and run.texts()[-1] == LOCKED_MSG,
     "the same count of wrong SMS codes locks the same way", run.describe())
env.write_config({"lockout_failures": "0"})

# -- recovery = no -----------------------------------------------------------------------------
env.fresh()
run = login("alice", [PASSWORD, "recovery", codes[1], FAIL], svc="rc-off")
p = run.prompts()
t.ok(run.code("auth") == "PAM_CONV_ERR" and len(p) == 4 and p[2][0] == "PROMPT_ECHO_ON"
     and p[2][1].startswith("Recovery codes are not accepted here. Code sent by SMS")
     and p[3][1] == "Wrong code. Enter the code again (2 tries left): ",
     "recovery=no: 'recovery' is refused with a message, a code-shaped answer is a wrong code",
     run.describe())
t.ok(ops("check") == [] and left("alice") == 2 and env.state("alice").get("failures") == 1,
     "never sent to Twilio, not used up, counted as a failure", sim.requests())

# -- bypass codes ------------------------------------------------------------------------------
env.fresh()
code = bypass("bob", 2, 3600, "root")
run = login("bob", [PASSWORD, code])
line = decision("bob")["message"]
t.ok(run.codes() == ["PAM_SUCCESS"] and "bypass code used, 1 uses left, issued by root" in line
     and record("bob")["bypass"]["uses"] == 1, "a bypass code of 2 uses: the first", line)
run = login("bob", [PASSWORD, "recovery", code])
t.ok(run.codes() == ["PAM_SUCCESS"] and "bypass code used, 0 uses left" in decision("bob")["message"]
     and "bypass" not in record("bob"), "the second, at the recovery prompt; then it is gone", run.describe())
run = login("bob", [PASSWORD, code, FAIL])
t.ok(run.code("auth") == "PAM_CONV_ERR" and run.prompts()[2][1].startswith("Wrong code."),
     "the third use is refused", run.describe())
env.fresh()
expired = bypass("bob", 1, -60, "root")
run = login("bob", [PASSWORD, expired, FAIL])
t.ok(run.code("auth") == "PAM_CONV_ERR" and run.prompts()[2][1].startswith("Wrong code.")
     and record("bob")["bypass"]["uses"] == 1, "an expired bypass code is refused (and left alone)",
     run.describe())

# -- Twilio down -------------------------------------------------------------------------------
env.fresh()
sim.fault("start", "503", count=-1)
run = login("alice", [PASSWORD, codes[1]])
line = decision("alice")
t.ok(run.codes() == ["PAM_SUCCESS"] and run.prompts()[1] == ("PROMPT_ECHO_OFF", UNREACHABLE)
     and "recovery code used, 1 left (Twilio unreachable)" in line["message"],
     "Twilio down at send, failmode=secure, a member with codes: asked for one, and in", run.describe())
run = login("bob", [PASSWORD, expired])
t.ok(run.codes() == ["PAM_AUTHINFO_UNAVAIL"] and len(run.prompts()) == 1,
     "Twilio down, a member with no usable code (an expired bypass code): PAM_AUTHINFO_UNAVAIL as before",
     run.describe())
run = login("alice", [PASSWORD], svc="rc-safe")
t.ok(run.codes() == ["PAM_SUCCESS"] and len(run.prompts()) == 1 and "FAILMODE=SAFE" in decision("alice")["message"]
     and left("alice") == 1, "failmode=safe unchanged: in on the password, no code asked or used",
     run.describe())
env.fresh()
sim.fault("check", "reset", count=-1)
run = login("alice", [PASSWORD, sim.code_answer(ALICE), codes[2]])
t.ok(run.codes() == ["PAM_SUCCESS"] and run.prompts()[2] == ("PROMPT_ECHO_OFF", UNREACHABLE),
     "Twilio gone at the check: the next prompt asks for a recovery code", run.describe())
sim.clear_faults()

# -- no code can be sent (the send limit reached): a recovery code still lets in ------------------
env.fresh()
bobs = new_codes("bob", 3)
login("bob", [PASSWORD, FAIL], svc="rc-one")  # the window's one send
run = login("bob", [PASSWORD, bobs[0]], svc="rc-one")
p = run.prompts()
t.ok(run.codes() == ["PAM_SUCCESS"] and len(p) == 2 and p[1][0] == "PROMPT_ECHO_OFF"
     and p[1][1].startswith("Too many codes sent.") and p[1][1].endswith("Recovery code: ")
     and sim.sends(BOB) == 1, "the send limit reached: the prompt says so and asks for a recovery code",
     run.describe())

# -- a lockout that begins during the login stops the code before it is used up -------------------
env.fresh()
env.write_config({"lockout_failures": "3", "lockout_seconds": "600"})


def lock_then_answer(kind, text, run):
    for _ in range(3):  # meanwhile, three wrong passwords from the same source
        run_pam(env, "rc", "bob", ["auth"], answers=["wrong password"], rhost="192.0.2.31")
    return bobs[1]


run = login("bob", [PASSWORD, "recovery", lock_then_answer])
t.ok(run.code("auth") == "PAM_MAXTRIES" and run.texts()[-1] == LOCKED_MSG and left("bob") == 2,
     "locked out while at the recovery prompt: refused, and the code is not used up", run.describe())
env.write_config({"lockout_failures": "0"})

# -- a disabled member ---------------------------------------------------------------------------
env.fresh()
carol = new_codes("carol", 2)
admin("disable", "carol")
run = login("carol", [PASSWORD, carol[0]])
t.ok(run.codes() == ["PAM_AUTH_ERR"] and len(run.prompts()) == 1 and left("carol") == 2,
     "a disabled member is refused before any code is asked; the code stays", run.describe())
admin("enable", "carol")
sim.fault("start", "503", count=-1)
run = login("carol", [PASSWORD, carol[0]])
t.eq(run.codes(), ["PAM_SUCCESS"], "enabled again, the same code works")
sim.clear_faults()

# -- never a code in the log or the conversation's texts ------------------------------------------
forms = [c for c in seen] + [c.replace("-", "") for c in seen]
t.ok(len(logged) > 20 and all(f.lower() not in x.lower() for f in forms for x in logged),
     "no code in any syslog line of these logins (%d lines)" % len(logged), "\n".join(logged))
t.ok(all(f.lower() not in x.lower() for f in forms for x in shown),
     "nor in any prompt or message they showed", "\n".join(shown))

env.cleanup()
cap.close()
sim.stop()
sys.exit(t.done())
