#!/usr/bin/python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""Behaviour of pam_twofa.so under real libpam (issue 4): the built module named by
absolute path in a private confdir, the Twilio simulator, a scripted conversation.
TAP output. TWOFA_PAM_WRAPPER="valgrind ..." runs every login under valgrind."""

import os
import sys
import threading

from harness.tap import Tap
from harness.sim import Sim
from harness.pam import FAIL, Env, SyslogCapture, module_path, run_pam

t = Tap()
MODULE = module_path()
if not t.ok(MODULE is not None, "pam_twofa.so is built", "set TWOFA_PAM_MODULE or build it"):
    sys.exit(t.done())

PASSWORD = "correct horse battery"
ALICE, PAT, DAVE, CARL = "+14155550123", "+14155550177", "+14155550188", "+14155550199"
MAX_TRIES = 3

sim = Sim()
env = Env(sim, config={"max_tries": str(MAX_TRIES), "lockout_failures": "0"})
env.add_member("alice", PASSWORD, ALICE)
env.add_member("pat", PASSWORD, PAT, status="pending")
env.add_member("dave", PASSWORD, DAVE, status="disabled")
env.add_member("carl", PASSWORD, CARL, channel="call")


def service(name, args="", extra_before=(), extra_after=(), account=True):
    lines = list(extra_before) + [env.twofa_line(args)] + list(extra_after)
    if account:
        lines.append(env.twofa_line(args, kind="account"))
    env.service(name, lines)
    return name


def code_for(number):
    return sim.code_answer(number)


def login(svc, user, answers, ops=("auth",), **kw):
    kw.setdefault("rhost", "192.0.2.10")
    run = run_pam(env, svc, user, list(ops), answers=answers, **kw)
    if not run.clean_exit:
        t.ok(False, "driver run for %s ended cleanly" % user, run.describe())
    return run


wrong_code = sim.wrong_code_answer  # wrong_code(number): a code that differs from the one sent


def ops_of(name):
    return [r["op"] for r in sim.requests() if r["op"] == name]


base = service("twofa")

# -- the normal login ------------------------------------------------------------------------
env.fresh()
run = login(base, "alice", [PASSWORD, code_for(ALICE)], ops=("auth", "acct"))
t.eq(run.codes(), ["PAM_SUCCESS", "PAM_SUCCESS"], "right password and code: auth and acct succeed")
prompts = run.prompts()
t.ok(len(prompts) == 2 and prompts[0] == ("PROMPT_ECHO_OFF", "Password: ")
     and prompts[1][0] == "PROMPT_ECHO_ON", "password echo off, then code echo on", run.describe())
code_prompt = prompts[1][1] if len(prompts) == 2 else ""
t.ok("code" in code_prompt.lower() and "SMS" in code_prompt and ALICE not in code_prompt
     and ALICE[2:] not in code_prompt and "0123" in code_prompt,
     "code prompt names the channel and a masked number, never the full number", code_prompt)
t.eq([(e["to"], e["channel"]) for e in sim.outbox()], [(ALICE, "sms")], "exactly one SMS sent")
state = env.state("alice")
t.ok(state["last_login"] > 0 and state["failures"] == 0 and state["last_service"] == base,
     "success records the last login", state)
received = os.path.join(env.dir, "authtok-received")
check = os.path.join(env.dir, "authtok.sh")
with open(check, "w") as f:
    f.write('#!/bin/sh\ntr -d "\\000" > "%s"\n' % received)
os.chmod(check, 0o700)
env.fresh()
env.service("stacked", [env.twofa_line(), "auth required pam_exec.so expose_authtok quiet " + check])
run = login("stacked", "alice", [PASSWORD, code_for(ALICE)])
got = open(received).read() if os.path.exists(received) else None
t.ok(run.codes() == ["PAM_SUCCESS"] and len(run.prompts()) == 2 and got == PASSWORD,
     "PAM_AUTHTOK is set for later modules (pam_exec gets it without asking)",
     "%r\n%s" % (got, run.describe()))

# -- wrong password: no send -----------------------------------------------------------
env.fresh()
run = login(base, "alice", ["not the password"])
t.eq(run.codes(), ["PAM_AUTH_ERR"], "wrong password: PAM_AUTH_ERR")
t.eq(len(run.prompts()), 1, "wrong password: no code prompt")
t.eq(sim.outbox(), [], "wrong password: nothing sent (no SMS cost)")
t.eq(sim.stats()["requests"], 0, "wrong password: Twilio not even asked")
t.eq(env.state("alice")["failures"], 1, "wrong password counts a failure")

# -- wrong codes -----------------------------------------------------------------------------
env.fresh()
run = login(base, "alice", [PASSWORD] + [wrong_code(ALICE)] * MAX_TRIES)
t.eq(run.codes(), ["PAM_MAXTRIES"], "max_tries wrong codes: PAM_MAXTRIES")
t.eq(len(run.prompts()), 1 + MAX_TRIES, "one code prompt per try")
t.ok([x for _, x in run.prompts()][2:] == ["Wrong code. Enter the code again (2 tries left): ",
                                           "Wrong code. Enter the code again (1 try left): "]
     and run.texts(("ERROR_MSG",)) == ["Wrong code."],
     "each wrong code is told: by the next prompt, the last one by a message", run.describe())
t.ok(len(ops_of("cancel")) == 1, "the verification is cancelled after the last try",
     sim.requests())
t.eq(len(sim.outbox()), 1, "wrong codes cause no extra send")

env.fresh()
run = login(base, "alice", [PASSWORD, wrong_code(ALICE), code_for(ALICE)])
t.eq(run.codes(), ["PAM_SUCCESS"], "a wrong code, then the right one: success")
t.ok(run.prompts()[2][1].startswith("Wrong code."), "the wrong code is reported", run.describe())

env.fresh()
run = login(base, "alice", [PASSWORD, ""] + [wrong_code(ALICE)] * MAX_TRIES)
t.ok(run.code("auth") != "PAM_SUCCESS", "an empty code never succeeds", run.describe())

# -- resend --------------------------------------------------------------------------------
env.fresh()
run = login(base, "alice", [PASSWORD, "call", code_for(ALICE)])
t.eq(run.codes(), ["PAM_SUCCESS"], "'call' at the code prompt, then the code: success")
t.eq([e["channel"] for e in sim.outbox()], ["sms", "call"], "the resend went by voice call")
prompts = run.prompts()
t.ok(len(prompts) == 3 and "voice call" in prompts[2][1], "the next prompt names the voice call",
     run.describe())

env.fresh()
run = login(base, "carl", [PASSWORD, code_for(CARL)])
t.ok(run.codes() == ["PAM_SUCCESS"] and [e["channel"] for e in sim.outbox()] == ["call"],
     "a member on the call channel gets a call", run.describe())

# -- expiry ------------------------------------------------------------------------------------
env.fresh()


def expire_then_answer(kind, text, r):
    code = sim.last_code(ALICE)
    sim.advance(601)
    return code


run = login(base, "alice", [PASSWORD, expire_then_answer, "resend", code_for(ALICE)])
t.eq(run.codes(), ["PAM_SUCCESS"], "expired code: told, 'resend' gets a new one that works")
t.ok(run.prompts()[2][1] == "The code has expired or was used. Type 'resend' for a new one (2 tries left): ",
     "the expiry is told", run.describe())

# -- conversation failures -------------------------------------------------------------------
env.fresh()
run = login(base, "alice", [PASSWORD, FAIL])
t.eq(run.codes(), ["PAM_CONV_ERR"], "conversation fails at the code prompt: PAM_CONV_ERR")
t.eq(len(ops_of("cancel")), 1, "the verification is cancelled when the user gives up")
env.fresh()
run = login(base, "alice", [PASSWORD, None])
t.eq(run.codes(), ["PAM_CONV_ERR"], "NULL answer at the code prompt: PAM_CONV_ERR")
env.fresh()
run = login(base, "alice", [None])
t.ok(run.codes() == ["PAM_CONV_ERR"] and sim.outbox() == [],
     "NULL answer at the password prompt: PAM_CONV_ERR, nothing sent", run.describe())

# -- members that may not log in ---------------------------------------------------------------
for user, number, word in (("pat", PAT, "approval"), ("dave", DAVE, "disabled")):
    env.fresh()
    run = login(base, user, [PASSWORD], ops=("auth", "acct"))
    t.ok(run.codes() == ["PAM_AUTH_ERR", "PAM_PERM_DENIED"]
         and any(word in m for m in run.texts(("ERROR_MSG",))) and sim.outbox() == [],
         "%s member: auth refused with a message, acct PAM_PERM_DENIED, nothing sent" % word,
         run.describe())

# -- enumeration ---------------------------------------------------------------------------------
env.fresh()
known = login(base, "alice", ["wrong password"])
unknown = login(base, "mallory", ["wrong password"])
t.ok(unknown.codes() == ["PAM_AUTH_ERR"] and unknown.prompts() == known.prompts()
     and unknown.texts(("ERROR_MSG", "TEXT_INFO")) == known.texts(("ERROR_MSG", "TEXT_INFO")),
     "an unknown user sees the same prompts and result as a wrong password",
     known.describe() + "\n--\n" + unknown.describe())
run = login(base, "mallory", [PASSWORD], ops=("acct",))
t.eq(run.codes(), ["PAM_USER_UNKNOWN"], "acct of an unenrolled user without nullok")
# PAM_IGNORE is seen through the stack: libpam turns an all-ignore stack into
# PAM_PERM_DENIED, so the module after it decides.
for after, want in (("pam_permit.so", "PAM_SUCCESS"), ("pam_deny.so", None)):
    env.service("nullok", [env.twofa_line("nullok"), "auth required " + after,
                           env.twofa_line("nullok", kind="account"), "account required " + after])
    run = login("nullok", "mallory", ["anything"], ops=("auth", "acct"))
    t.ok(run.codes() == [want] * 2 if want else "PAM_SUCCESS" not in run.codes() and len(run.codes()) == 2,
         "nullok: an unenrolled user is PAM_IGNORE (%s decides auth and acct)" % after, run.describe())
env.service("nullok-alone", [env.twofa_line("nullok")])
t.eq(login("nullok-alone", "mallory", ["anything"]).codes(), ["PAM_PERM_DENIED"],
     "nullok alone in the stack: libpam's all-ignore result, never success")

# -- lockout --------------------------------------------------------------------------------
env.fresh()
env.write_config({"lockout_failures": "2", "lockout_seconds": "600"})
for _ in range(2):
    login(base, "alice", ["wrong password"])
run = login(base, "alice", [PASSWORD])
t.ok(run.codes() == ["PAM_MAXTRIES"] and sim.outbox() == [],
     "locked out after lockout_failures: PAM_MAXTRIES even with the right password, no send",
     run.describe())
env.write_config({"lockout_failures": "0"})

# -- outages and failmode ---------------------------------------------------------------------
env.fresh()
sim.fault("start", "503", count=-1)
run = login(base, "alice", [PASSWORD])
t.eq(run.codes(), ["PAM_AUTHINFO_UNAVAIL"], "5xx at send under failmode=secure: PAM_AUTHINFO_UNAVAIL")
safe = service("safe", "failmode=safe")
cap = SyslogCapture(env)
run = login(safe, "alice", [PASSWORD], syslog=cap)
rec = cap.wait_for("FAILMODE=SAFE")
t.eq(run.codes(), ["PAM_SUCCESS"], "5xx at send under failmode=safe: success after the password")
t.ok(rec is not None and rec["severity"] == "crit", "the fail-open is logged at LOG_CRIT", cap.texts())
run = login(safe, "alice", ["wrong password"])
t.eq(run.codes(), ["PAM_AUTH_ERR"], "failmode=safe never skips the password")
sim.clear_faults()
sim.fault("start", "429", count=-1)
run = login(safe, "alice", [PASSWORD])
t.ok(run.code("auth") not in ("PAM_SUCCESS", None), "a 429 is no outage, even under failmode=safe",
     run.describe())
sim.clear_faults()
env.fresh()
sim.fault("check", "reset", count=-1)
run = login(base, "alice", [PASSWORD, code_for(ALICE)])
t.eq(run.codes(), ["PAM_AUTHINFO_UNAVAIL"], "connection reset at check: PAM_AUTHINFO_UNAVAIL")
sim.clear_faults()

# -- logging -------------------------------------------------------------------------------
env.fresh()
cap.clear()
run = login(base, "alice", [PASSWORD, code_for(ALICE)], syslog=cap)
rec = cap.wait_for(r"result=success")
code = sim.last_code(ALICE) or "no code"
t.ok(rec is not None and rec["facility"] == "authpriv" and "user=alice" in rec["message"]
     and "rhost=192.0.2.10" in rec["message"] and "channel=sms" in rec["message"],
     "one authpriv decision line with user, rhost, channel and result", cap.texts())
t.ok(all(code not in x and ALICE not in x and PASSWORD not in x for x in cap.texts()),
     "no code, password or full number in the log", cap.texts())
cap.close()

# -- password=none, use_first_pass ----------------------------------------------------------
env.fresh()
none = service("none", "password=none")
run = login(none, "alice", [code_for(ALICE)])
t.ok(run.codes() == ["PAM_SUCCESS"] and len(run.prompts()) == 1
     and run.prompts()[0][0] == "PROMPT_ECHO_ON", "password=none: only the code is asked",
     run.describe())
env.fresh()
ufp = service("ufp", "use_first_pass")
run = login(ufp, "alice", [])
t.ok(run.code("auth") not in ("PAM_SUCCESS", None) and run.prompts() == [] and sim.outbox() == [],
     "use_first_pass with no earlier password: refused without a prompt", run.describe())

# -- grace -----------------------------------------------------------------------------------
env.fresh()
grace = service("grace", "grace_period=300")
login(grace, "alice", [PASSWORD, code_for(ALICE)])
run = login(grace, "alice", [PASSWORD])
t.ok(run.codes() == ["PAM_SUCCESS"] and len(sim.outbox()) == 1,
     "grace_period: the same rhost again needs no code", run.describe())
run = login(grace, "alice", [PASSWORD, code_for(ALICE)], rhost="198.51.100.20")
t.ok(run.codes() == ["PAM_SUCCESS"] and len(sim.outbox()) == 2,
     "grace_period: another rhost needs the code", run.describe())

# -- arguments -------------------------------------------------------------------------------
for args, why in (("frobnicate", "an unknown argument"), ("auth_token=deadbeef", "a secret as argument"),
                  ("max_tries=zero", "a malformed value")):
    env.fresh()
    svc = service("bad", args)
    run = login(svc, "alice", [PASSWORD, code_for(ALICE)])
    t.ok(run.codes() == ["PAM_SERVICE_ERR"] and sim.outbox() == [],
         "%s fails closed with PAM_SERVICE_ERR" % why, run.describe())

# -- stacks ------------------------------------------------------------------------------------
env.fresh()
suff = service("suff", "", extra_after=["auth required pam_deny.so"], account=False)
t.eq(login(suff, "alice", [PASSWORD, code_for(ALICE)]).codes(), ["PAM_AUTH_ERR"],
     "required twofa then required deny: the deny still fails the stack")
env.service("suff2", ["auth sufficient " + env.twofa_module_args(), "auth required pam_deny.so"])
t.eq(login("suff2", "alice", [PASSWORD, code_for(ALICE)]).codes(), ["PAM_SUCCESS"],
     "sufficient twofa: the right code ends the stack with success")
t.eq(login("suff2", "alice", ["wrong password"]).codes(), ["PAM_AUTH_ERR"],
     "sufficient twofa: a wrong password falls through to the deny")
env.service("skip", ["auth [success=1 default=ignore] " + env.twofa_module_args("nullok"),
                     "auth requisite pam_deny.so", "auth required pam_permit.so"])
t.eq(login("skip", "alice", [PASSWORD, code_for(ALICE)]).codes(), ["PAM_SUCCESS"],
     "[success=1 default=ignore]: the right code jumps over the deny")
t.eq(login("skip", "mallory", ["x"]).codes(), ["PAM_AUTH_ERR"],
     "[success=1 default=ignore] with nullok: an unenrolled user falls into the deny")
env.service("req", ["auth requisite " + env.twofa_module_args(), "auth required pam_permit.so"])
t.eq(login("req", "alice", ["wrong password"]).codes(), ["PAM_AUTH_ERR"],
     "requisite twofa: a wrong password stops the stack")

# -- groups= (root is a real user in group root; alice is no system user at all) --------------
ROOT = "+14155550166"
env.add_member("root", PASSWORD, ROOT)
for groups, user, want_code_prompt, why in (
        ("root", "root", True, "a member of a listed group needs the code"),
        ("root", "alice", False, "a user outside the listed groups is out of scope"),
        ("!root", "root", False, "a user in an excluded group is out of scope")):
    env.fresh()
    env.service("groups", [env.twofa_line("groups=" + groups), "auth required pam_permit.so"])
    number = ROOT if user == "root" else ALICE
    run = login("groups", user, [PASSWORD, code_for(number)])
    if want_code_prompt:
        ok = run.codes() == ["PAM_SUCCESS"] and len(run.prompts()) == 2 and len(sim.outbox()) == 1
    else:
        # PAM_IGNORE: no prompt at all, pam_permit decides.
        ok = run.codes() == ["PAM_SUCCESS"] and run.prompts() == [] and sim.outbox() == []
    t.ok(ok, "groups=%s: %s" % (groups, why), run.describe())
env.service("groups-only", [env.twofa_line("groups=root")])
t.eq(login("groups-only", "alice", [PASSWORD]).codes(), ["PAM_PERM_DENIED"],
     "groups=: out of scope alone in the stack is never success")

# -- prompts, setcred, sessions --------------------------------------------------------------------
env.fresh()
env.service("prompt", ["auth required %s [code_prompt=Your %%c code for %%n: ]" % env.twofa_module_args()])
run = login("prompt", "alice", [PASSWORD, code_for(ALICE)])
p = run.prompts()[1][1] if len(run.prompts()) == 2 else ""
t.ok(run.codes() == ["PAM_SUCCESS"] and p.startswith("Your SMS code for +1 ") and p.endswith("0123: ")
     and ALICE not in p, "code_prompt= with %c and %n", run.describe())
env.service("prompt-bad", ["auth required %s [code_prompt=Code %%s: ]" % env.twofa_module_args()])
t.eq(login("prompt-bad", "alice", [PASSWORD]).codes(), ["PAM_SERVICE_ERR"],
     "code_prompt= with an unknown placeholder fails closed")
env.service("sessions", [env.twofa_line("", kind="session")] + [env.twofa_line()])
run = login("sessions", "alice", [PASSWORD, code_for(ALICE)], ops=("auth", "setcred", "open", "close"))
t.eq(run.codes(), ["PAM_SUCCESS"] * 4, "setcred, open_session and close_session succeed")

# -- chauthtok ---------------------------------------------------------------------------------
env.add_member("erin", "old password", "+14155550155")
env.service("passwd", [env.twofa_line("", kind="password")])
if env.gdbm:
    run = login("passwd", "erin", ["wrong old", "new password", "new password"], ops=("chauthtok",))
    t.ok(run.code("chauthtok") not in ("PAM_SUCCESS", None)
         and env.member("erin", "old password")["password"] == "ok",
         "chauthtok: a wrong current password changes nothing", run.describe())
    run = login("passwd", "erin", ["old password", "new password", "other password"], ops=("chauthtok",))
    t.ok(run.codes() == ["PAM_AUTHTOK_ERR"] and env.member("erin", "old password")["password"] == "ok",
         "chauthtok: a mistyped repeat is PAM_AUTHTOK_ERR, nothing changes", run.describe())
    run = login("passwd", "erin", ["old password", "new password", "new password"], ops=("chauthtok",))
    t.ok(run.codes() == ["PAM_SUCCESS"]
         and [x for k, x in run.prompts()] == ["Current password: ", "New password: ", "Retype new password: "]
         and env.member("erin", "new password")["password"] == "ok"
         and env.member("erin", "old password")["password"] == "wrong",
         "chauthtok: the new password replaces the old one in the store", run.describe())
else:
    # A login host does not write the directory (etc/ldap access rules): a password
    # change is ignored without asking anything, and twofa-enroll passwd does it. (With
    # every module of the stack ignoring, libpam answers PAM_PERM_DENIED.)
    run = login("passwd", "erin", ["old password", "new password", "new password"], ops=("chauthtok",))
    t.ok(run.codes() == ["PAM_PERM_DENIED"] and not run.prompts()
         and env.member("erin", "old password")["password"] == "ok",
         "chauthtok under store = ldap: ignored, nothing asked, the hash unchanged", run.describe())

# -- parallel logins and the send limit ----------------------------------------------------------
env.fresh()
SEND_LIMIT = 3
limited = service("limited", "send_limit=%d" % SEND_LIMIT, account=False)
results = []
lock = threading.Lock()


def one_login():
    r = run_pam(env, limited, "alice", ["auth"], answers=[PASSWORD, FAIL], rhost="192.0.2.11")
    with lock:
        results.append(r)


threads = [threading.Thread(target=one_login) for _ in range(20)]
for th in threads:
    th.start()
for th in threads:
    th.join()
sends = len(sim.outbox(ALICE))
t.ok(1 <= sends <= SEND_LIMIT, "20 parallel logins send at most send_limit codes (%d)" % sends)
t.eq(sum(1 for r in results if r.code("auth") == "PAM_MAXTRIES"), 20 - sends,
     "every login past the limit gets PAM_MAXTRIES")
t.ok(all(r.clean_exit for r in results), "every parallel driver ended cleanly")

env.cleanup()
sim.stop()
sys.exit(t.done())
