#!/usr/bin/python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""The module's answer is one decision (issue 11, section 3): each PAM call writes exactly one
decision line, whatever the outcome, and shows at most one final message. Counted through
real libpam with the syslog captured, for the outcomes of every flow: success, wrong
password, wrong codes, not enrolled with and without nullok, locked out, a configuration
error, a pending member in account, an NSS error, a password change, the outcomes of a
self-enrolment at login. TAP output."""

import os
import re
import shlex
import sys
import time

from harness import nss
from harness.tap import Tap
from harness.sim import Sim
from harness.pam import Env, SyslogCapture, module_path, run_pam

t = Tap()
if not t.ok(module_path() is not None, "pam_twofa.so is built"):
    sys.exit(t.done())

PASSWORD = "a password of alice"
ALICE, PAT, LOU = "+14155550123", "+14155550124", "+14155550125"
MAX_TRIES, LOCKOUT = 3, 5

sim = Sim()
env = Env(sim, config={"max_tries": str(MAX_TRIES), "lockout_failures": str(LOCKOUT),
                               "lockout_seconds": "600"})
env.add_member("alice", PASSWORD, ALICE)
env.add_member("pat", PASSWORD, PAT, status="pending")
env.add_member("lou", PASSWORD, LOU)
cap = SyslogCapture(env)

env.service("dl", [env.twofa_line()])
# The stack's result is PAM_SUCCESS where pam_twofa says PAM_IGNORE (libpam turns a stack of
# ignores alone into PAM_PERM_DENIED).
env.service("dl-nullok", [env.twofa_line("nullok"), "auth required pam_permit.so"])
env.service("dl-bad", [env.twofa_line("frobnicate"), env.twofa_line("frobnicate", kind="account")])
env.service("dl-acct", [env.twofa_line(kind="account")])
env.service("dl-none", ["auth requisite pam_permit.so", env.twofa_line("password=none nullok")])
env.service("dl-passwd", [env.twofa_line(kind="password")])
env.service("dl-scope", [env.twofa_line("groups=twofa-no-such-group"), "auth required pam_permit.so"])
env.service("dl-scope-debug", [env.twofa_line("groups=twofa-no-such-group debug"), "auth required pam_permit.so"])

# A decision line: "ACTION service=S user=U FROM[ channel=C to=M] result=R reason=...".
DECISION = re.compile(r"^pam_twofa\([^)]*\): (auth|account|password) service=\S+ user=\S+ .*"
                      r"result=(success|denied|ignored|error) reason=")

world = nss.NssWorld(os.path.join(env.dir, "nss"), ["alice"], passwd_only=True) if nss.built() else None


def nss_unavailable():
    """argv prefix: a private mount namespace whose NSS fails every passwd lookup."""
    return world.wrapper("unavail") + shlex.split(os.environ.get("TWOFA_PAM_WRAPPER", ""))


def wrong_code(number):
    def answer(kind, text, run):
        code = sim.last_code(number) or "000000"
        return "%06d" % ((int(code) + 1) % 10 ** len(code))
    return answer


def decisions_of(svc, user, answers, op="auth", **kw):
    """Runs one PAM call; returns (its result, its decision lines, its error messages)."""
    kw.setdefault("rhost", "192.0.2.40")
    cap.clear()
    run = run_pam(env, svc, user, [op], answers=answers, syslog=cap, **kw)
    cap.wait_for(r"result=", timeout=3.0)
    time.sleep(0.3)  # a second line, if any, arrives by now
    lines = [r for r in cap.lines() if DECISION.match(r["message"])]
    return run, lines, run.texts(("ERROR_MSG",))


def once(what, svc, user, answers, code, result, reason, op="auth", message=None, **kw):
    run, lines, told = decisions_of(svc, user, answers, op=op, **kw)
    texts = [r["message"] for r in lines]
    t.ok(run.code(op) == code and len(lines) == 1 and " result=%s reason=%s" % (result, reason) in texts[0],
         "%s: %s and exactly one decision line (result=%s)" % (what, code, result),
         "%s\n%s" % (run.describe(), cap.texts()))
    if message is not None:
        t.ok(told == [message], "%s: the one message is %r" % (what, message), told)
    return run


def fresh():
    sim.reset()
    if os.path.exists(env.state_db):
        os.unlink(env.state_db)


fresh()
once("success", "dl", "alice", [PASSWORD, sim.code_answer(ALICE)], "PAM_SUCCESS", "success", "code approved")
fresh()
once("wrong password", "dl", "alice", ["not the password"], "PAM_AUTH_ERR", "denied", "wrong password")
fresh()
once("wrong code x%d" % MAX_TRIES, "dl", "alice", [PASSWORD] + [wrong_code(ALICE)] * MAX_TRIES, "PAM_MAXTRIES",
     "denied", "wrong code %d times" % MAX_TRIES, message="Wrong code.")
fresh()
once("not enrolled", "dl", "mallory", ["a guess"], "PAM_AUTH_ERR", "denied", "not enrolled")
once("not enrolled under nullok", "dl-nullok", "mallory", ["a guess"], "PAM_SUCCESS", "ignored",
     "not enrolled (nullok)")
# The old code logged two lines here: "password answer too long", then "not enrolled".
once("not enrolled, an overlong password answer", "dl-nullok", "mallory", ["x" * 2000], "PAM_SUCCESS",
     "ignored", "not enrolled (nullok)")
once("not enrolled, an overlong password answer, no nullok", "dl", "mallory", ["x" * 2000], "PAM_AUTH_ERR",
     "denied", "not enrolled")

fresh()
for i in range(LOCKOUT):
    once("wrong password %d of %d" % (i + 1, LOCKOUT), "dl", "lou", ["not the password"], "PAM_AUTH_ERR",
         "denied", "wrong password")
once("locked out", "dl", "lou", [PASSWORD], "PAM_MAXTRIES", "denied", "locked out after too many failures",
     message="Too many failed attempts. Try again later.")
run, lines, told = decisions_of("dl", "lou", [PASSWORD], silent=True)
t.ok(run.code("auth") == "PAM_MAXTRIES" and len(lines) == 1 and told == [],
     "locked out under PAM_SILENT: one decision line, no message", run.describe())

for op, code in (("auth", "PAM_SERVICE_ERR"), ("acct", "PAM_SERVICE_ERR")):
    once("a configuration error in %s" % op, "dl-bad", "alice", [], code, "error",
         "configuration error: unknown module argument 'frobnicate'", op=op)

fresh()
once("a pending member in account", "dl-acct", "pat", [], "PAM_PERM_DENIED", "denied",
     "enrolment awaiting approval", op="acct",
     message="Your second-factor enrolment is awaiting approval by an administrator.")
once("a pending member in auth", "dl", "pat", [PASSWORD], "PAM_AUTH_ERR", "denied",
     "enrolment awaiting approval",
     message="Your second-factor enrolment is awaiting approval by an administrator.")
once("not enrolled in account", "dl-acct", "mallory", [], "PAM_USER_UNKNOWN", "denied", "not enrolled",
     op="acct")
run, lines, told = decisions_of("dl-acct", "alice", [], op="acct")
t.ok(run.code("acct") == "PAM_SUCCESS" and lines == [],
     "an active member in account: PAM_SUCCESS and no line (as before: nothing to decide)", cap.texts())

# Out of scope is not ours to say: no line, unless debug asks for one (at LOG_DEBUG).
run, lines, told = decisions_of("dl-scope", "alice", [])
t.ok(run.code("auth") == "PAM_SUCCESS" and run.prompts() == [] and lines == [],
     "a user outside groups=: ignored, no decision line", cap.texts())
run, lines, told = decisions_of("dl-scope-debug", "alice", [])
t.ok(run.code("auth") == "PAM_SUCCESS" and len(lines) == 1 and lines[0]["severity"] == "debug"
     and " result=ignored reason=not in groups=" in lines[0]["message"],
     "with debug: one decision line at LOG_DEBUG", cap.texts())

if t.ok(world is not None, "the test NSS module is built", nss.NSS_SO):
    once("an NSS error", "dl-none", "alice", [], "PAM_AUTHINFO_UNAVAIL", "error", "user database lookup failed",
         wrapper=nss_unavailable())

fresh()
NEW = "a new password of alice"
once("a password change", "dl-passwd", "alice", [PASSWORD, NEW, NEW], "PAM_SUCCESS", "success",
     "password changed", op="chauthtok")
once("a password change with a wrong current password", "dl-passwd", "alice", [PASSWORD], "PAM_AUTH_ERR",
     "denied", "password change: wrong current password", op="chauthtok")
env.add_member("alice", PASSWORD, ALICE, replace=True)

# The destination is part of the decision line once a code was sent.
fresh()
run, lines, told = decisions_of("dl", "alice", [PASSWORD, sim.code_answer(ALICE)])
t.ok(len(lines) == 1 and " channel=sms to=+1 ***-***-0123 result=success" in lines[0]["message"],
     "the decision line names channel and masked destination", [r["message"] for r in lines])

# Self-enrolment at login (server/enrol.c): each outcome one line and at most one message.
env.service("dl-enrol", ["auth requisite pam_permit.so", env.twofa_line("password=none enroll=self")])
env.service("dl-enrol-nullok", ["auth requisite pam_permit.so",
                                env.twofa_line("password=none enroll=self nullok")])
NEWCOMER = "+447400123466"
fresh()
once("enrolment declined", "dl-enrol", "nina", [""], "PAM_AUTH_ERR", "denied",
     "not enrolled: enrolment declined at the country prompt",
     message="Enrolment cancelled. Nothing was stored.")
once("enrolment declined under nullok", "dl-enrol-nullok", "nina", [""], "PAM_SUCCESS", "ignored",
     "not enrolled: enrolment declined at the country prompt (nullok)")
once("enrolment: max_tries unusable numbers", "dl-enrol", "nina", ["GB", "1", "2", "3"], "PAM_AUTH_ERR",
     "denied", "not enrolled: 3 answers at the phone prompt could not be used (max_tries)")
once("enrolment stored active", "dl-enrol", "nina", ["GB", "07400 123466", sim.code_answer(NEWCOMER)],
     "PAM_SUCCESS", "success", "enrolled at login (approval=auto)",
     message="You are enrolled: codes go by SMS to +44 **** **3466.")

cap.close()
sys.exit(t.done())
