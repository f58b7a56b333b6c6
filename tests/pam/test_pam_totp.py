#!/usr/bin/python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""Login of an authenticator-app member (channel totp, issue 17 item 2) through real libpam
against the simulator's Verify TOTP factors: nothing is sent (no send limit, send_budget or
countries apply), the prompt "Enter the code from your authenticator app: ", the current code
and the previous time step let in, an old code and a wrong one do not (counted as failures),
a code accepted once is refused the second time (the replay guard in state.db: the simulator
approves replays, so the guard is what this sees), Twilio down decides by failmode, and
recovery codes still let an app member in. TAP output."""

import json
import os
import sys

from harness.cli import run_cli
from harness.pam import FAIL, Env, SyslogCapture, module_path, module_with_server, run_pam
from harness.sim import Sim
from harness.tap import Tap

t = Tap()
if not t.ok(module_path() is not None, "pam_twofa.so is built"):
    sys.exit(t.done())

PASSWORD = "app member password 7"
PROMPT = "Enter the code from your authenticator app: "
UNREACHABLE = "The verification service cannot be reached. Enter a recovery code: "

sim = Sim()
env = Env(sim, config={"max_tries": "3", "lockout_failures": "0"})
env.service("app", [env.twofa_line()])
env.service("app-safe", [env.twofa_line("failmode=safe")])
# A spent send limit and a country list that leaves the member out change nothing for an app.
env.service("app-nosend", [env.twofa_line("send_limit=1 countries=FR")])
cap = SyslogCapture(env)
seen = []  # every code handed out, looked for in the logs


def app_member(user, identity):
    """A verified factor at the simulator, and the member holding it."""
    st, data, _ = sim.factor_create(identity)
    if st != 201:
        raise RuntimeError("factor create: %d %r" % (st, data))
    sid = data["sid"]
    st, data, _ = sim.factor_verify(identity, sid, sim.totp_code(sid))
    if st != 200 or data.get("status") != "verified":
        raise RuntimeError("factor verify: %d %r" % (st, data))
    env.add_member(user, PASSWORD, "", country="", channel="totp", totp=(identity, sid))
    return sid


def code(sid, offset=0):
    c = sim.totp_code(sid, offset)
    seen.append(c)
    return c


def wrong(c):
    return "%0*d" % (len(c), (int(c) + 1) % 10 ** len(c))


def login(svc, user, answers):
    # No env.fresh(): it would reset the simulator's factors and the replay guard's state.db.
    cap.clear()
    run = run_pam(env, svc, user, ["auth"], answers=answers, syslog=cap, rhost="192.0.2.61")
    t.ok(run.clean_exit, "driver run for %s on %s ended cleanly" % (user, svc), run.describe())
    return run


def why(run):
    return run.describe() + "\n" + "\n".join(cap.texts())


ALICE = app_member("alice", "tf" + "a1" * 16)
BOB = app_member("bob", "tf" + "b2" * 16)
t.eq(env.member("alice").get("channel"), "totp", "the fixture stored an app member")

# -- the current code ------------------------------------------------------------------------
sim.advance(300)  # codes of steps no test used before
requests = sim.stats()["requests"]
run = login("app", "alice", [PASSWORD, lambda kind, text, r: code(ALICE)])
asked = run.texts(("PROMPT_ECHO_ON",))
t.ok(run.code("auth") == "PAM_SUCCESS" and asked == [PROMPT],
     "the current app code lets in, after the app's prompt", why(run))
t.eq(sim.outbox(), [], "nothing was sent")
t.ok(cap.wait_for(r"result=success .*code approved") is not None, "the decision line says approved",
     "\n".join(cap.texts()))
t.eq(sim.stats()["requests"] - requests, 1, "one request: the challenge")

# -- the same code again: the replay guard ---------------------------------------------------
replayed = seen[-1]
run = login("app", "alice", [PASSWORD, replayed, FAIL])
t.ok(run.code("auth") != "PAM_SUCCESS" and len(run.prompts()) >= 2
     and cap.wait_for(r"refused as a replay: the same code was accepted on this host") is not None,
     "the code accepted once is refused the second time, the reason logged", why(run))
t.eq(env.state("alice")["failures"], 1, "and the replay counts as a failure")

# -- the previous time step (skew) -----------------------------------------------------------
sim.advance(300)
run = login("app", "alice", [PASSWORD, lambda kind, text, r: code(ALICE, -1)])
t.eq(run.code("auth"), "PAM_SUCCESS", "the previous step's code lets in (skew 1)")
t.eq(env.state("alice")["failures"], 0, "a success clears the failures")

# -- an old code, a wrong code ---------------------------------------------------------------
sim.advance(300)
run = login("app", "alice", [PASSWORD, lambda kind, text, r: code(ALICE, -3), FAIL])
t.ok(run.code("auth") != "PAM_SUCCESS" and len(run.texts(("PROMPT_ECHO_ON",))) >= 2,
     "a code three steps old is refused", why(run))
run = login("app", "alice", [PASSWORD] + [lambda kind, text, r: wrong(code(ALICE))] * 3)
asked = run.texts(("PROMPT_ECHO_ON",))
t.ok(run.code("auth") == "PAM_MAXTRIES" and len(asked) == 3 and asked[0] == PROMPT
     and asked[1].startswith("Wrong code."),
     "max_tries wrong codes -> PAM_MAXTRIES, each re-prompt says so", why(run))
t.eq(env.state("alice")["failures"], 4, "the old and the wrong codes counted as failures")
t.eq(sim.outbox(), [], "still nothing sent")

# -- hostile answers: refused locally, never sent to Twilio -----------------------------------
requests = sim.stats()["requests"]
run = login("app", "alice", [PASSWORD, "12ab56", "9" * 9, "1 2 3"])
t.ok(run.code("auth") == "PAM_MAXTRIES" and sim.stats()["requests"] == requests,
     "codes that are not 3..8 digits are wrong codes, no challenge made", why(run))

# -- no send policy applies -------------------------------------------------------------------
sim.advance(300)
run = login("app-nosend", "alice", [PASSWORD, lambda kind, text, r: code(ALICE)])
t.eq(run.code("auth"), "PAM_SUCCESS", "send_limit and countries do not apply to an app code")
run = login("app", "alice", [PASSWORD, "resend", FAIL])
asked = run.texts(("PROMPT_ECHO_ON",))
t.ok(len(asked) >= 2 and sim.outbox() == [] and asked[1] != PROMPT,
     "'resend' sends nothing and is refused at the next prompt", why(run))

# -- Twilio down ------------------------------------------------------------------------------
sim.fault("challenge", "503", count=-1)
run = login("app", "bob", [PASSWORD, lambda kind, text, r: code(BOB)])
t.ok(run.code("auth") == "PAM_AUTHINFO_UNAVAIL"
     and cap.wait_for(r"Twilio unreachable at check.*failmode=secure") is not None,
     "Twilio down, failmode=secure, no recovery codes -> PAM_AUTHINFO_UNAVAIL", why(run))
run = login("app-safe", "bob", [PASSWORD, lambda kind, text, r: code(BOB)])
t.ok(run.code("auth") == "PAM_SUCCESS" and cap.wait_for(r"FAILMODE=SAFE") is not None,
     "Twilio down, failmode=safe -> let in on the password, LOG_CRIT line", why(run))

# -- recovery codes ---------------------------------------------------------------------------
r = run_cli(env.config_path, "recovery", "bob", "--count", "3", "--json")
t.eq(r.rc, 0, "recovery codes for bob\n" + r.describe())
codes = json.loads(r.out) if r.rc == 0 else ["", "", ""]
seen.extend(codes)
run = login("app", "bob", [PASSWORD, lambda kind, text, r: code(BOB), codes[0]])
asked = run.texts(("PROMPT_ECHO_ON",)) + run.texts(("PROMPT_ECHO_OFF",))
t.ok(run.code("auth") == "PAM_SUCCESS" and UNREACHABLE in asked,
     "Twilio down, failmode=secure: an app member gets in with a recovery code", why(run))
sim.clear_faults()
run = login("app", "bob", [PASSWORD, "recovery", codes[1]])
t.ok(run.code("auth") == "PAM_SUCCESS" and cap.wait_for(r"recovery code used, 1 left") is not None,
     "the answer 'recovery' at the app's prompt, then a recovery code, lets in", why(run))

# -- the cap on consecutive wrong app codes -----------------------------------------------------
CAROL = app_member("carol", "tf" + "c3" * 16)
env.service("app-ten", [env.twofa_line("max_tries=10")])
r = run_cli(env.config_path, "recovery", "carol", "--count", "2", "--json")
carol_codes = json.loads(r.out) if r.rc == 0 else ["", ""]
seen.extend(carol_codes)
codes_out = []
for i in range(10):
    run = login("app-ten", "carol", [PASSWORD] + [lambda kind, text, r: wrong(code(CAROL))] * 10)
    codes_out.append(run.code("auth"))
t.eq(codes_out, ["PAM_MAXTRIES"] * 10, "ten logins of ten wrong app codes each are refused")
t.ok(env.state("carol").get("app_failures") == 100
     and cap.wait_for(r"100 consecutive wrong app codes \(cap 100\)") is not None,
     "the 100th wrong app code reaches the cap, logged", "\n".join(cap.texts()))
requests = sim.stats()["requests"]
run = login("app", "carol", [PASSWORD, lambda kind, text, r: code(CAROL), FAIL])
asked = run.texts(("PROMPT_ECHO_OFF",))
t.ok(run.code("auth") != "PAM_SUCCESS" and sim.stats()["requests"] == requests
     and any(a.startswith("Too many wrong codes from your authenticator app.") for a in asked),
     "capped: the right code is not even checked; the member is asked for a recovery code",
     why(run))
t.eq(env.state("carol").get("app_failures"), 100, "the cap stays (only a success or an unlock clears it)")
run = login("app", "carol", [PASSWORD, carol_codes[0]])
t.ok(run.code("auth") == "PAM_SUCCESS" and env.state("carol").get("app_failures") is None,
     "capped, a recovery code still lets in, and the success resets the cap", why(run))
run = login("app", "carol", [PASSWORD, lambda kind, text, r: code(CAROL)])
t.eq(run.code("auth"), "PAM_SUCCESS", "after it the app code lets in again")

# -- allowed_channels without the app: app members are refused, nothing asked of Twilio -------
env.service("app-off", [env.twofa_line("allowed_channels=sms,call")])
requests = sim.stats()["requests"]
run = login("app-off", "carol", [PASSWORD, lambda kind, text, r: code(CAROL), FAIL])
t.ok(run.code("auth") == "PAM_AUTH_ERR" and sim.stats()["requests"] == requests
     and run.texts(("PROMPT_ECHO_ON",)) == [],
     "allowed_channels=sms,call: an app member is refused, no app prompt, no request", why(run))

# -- a wrong code answered by Twilio's documented 403 60324: a wrong code all the same ----------
sim.set_service(totp_wrong_status="error")
sim.advance(300)
run = login("app", "carol", [PASSWORD] + [lambda kind, text, r: wrong(code(CAROL))] * 3)
t.ok(run.code("auth") == "PAM_MAXTRIES" and len(run.texts(("PROMPT_ECHO_ON",))) == 3
     and env.state("carol").get("app_failures") == 3,
     "wrong app codes answered 403 60324: three tries, each counted toward the cap", why(run))
sim.set_service(totp_wrong_status="pending")
run = login("app", "carol", [PASSWORD, lambda kind, text, r: code(CAROL)])
t.ok(run.code("auth") == "PAM_SUCCESS" and env.state("carol").get("app_failures") is None,
     "then the right code lets in and clears the count", why(run))

# -- an app member with a number: 'sms' or 'call' instead ---------------------------------------
DAN_PHONE = "+14155550161"
st, data, _ = sim.factor_create("tf" + "d4" * 16)
DAN = data["sid"]
sim.factor_verify("tf" + "d4" * 16, DAN, sim.totp_code(DAN))
env.add_member("dan", PASSWORD, DAN_PHONE, country="US", channel="totp", totp=("tf" + "d4" * 16, DAN))
env.service("app-own", [env.twofa_line("allowed_channels=own")])
before = len(sim.outbox())
run = login("app", "dan", [PASSWORD, "sms", sim.code_answer(DAN_PHONE)])
asked = run.texts(("PROMPT_ECHO_ON",))
t.ok(run.code("auth") == "PAM_SUCCESS" and len(asked) == 2
     and asked[0] == "Enter the code from your authenticator app (or 'sms' for SMS, 'call' for a voice "
                     "call): "
     and asked[1].startswith("Code sent by SMS to ")
     and [(e["to"], e["channel"]) for e in sim.outbox()[before:]] == [(DAN_PHONE, "sms")],
     "allowed_channels at its default: an app member with a number answers 'sms' and logs in "
     "with the SMS code", why(run))
before = len(sim.outbox())
run = login("app-own", "dan", [PASSWORD, "sms", FAIL])
asked = run.texts(("PROMPT_ECHO_ON",))
t.ok(run.code("auth") != "PAM_SUCCESS" and len(sim.outbox()) == before and asked[0] == PROMPT
     and len(asked) >= 2 and asked[1].startswith("Codes cannot be sent by SMS here."),
     "allowed_channels=own: nothing offered, 'sms' refused, nothing sent", why(run))

# -- code_from_answer (a screen locker's recipe): the app code comes with the password ------------
check = os.path.join(env.dir, "check-password.sh")
with open(check, "w") as f:
    f.write('#!/bin/sh\n[ "$(tr -d "\\000")" = "%s" ]\n' % PASSWORD)
os.chmod(check, 0o700)
env.service("app-recipe", ["auth required %s split_answer" % module_with_server(),
                           "auth requisite pam_exec.so expose_authtok quiet " + check,
                           env.twofa_line("password=none code_from_answer")])
sim.advance(300)
run = login("app-recipe", "alice", [lambda kind, text, r: PASSWORD + " " + code(ALICE)])
t.ok(run.code("auth") == "PAM_SUCCESS" and len(run.prompts()) == 1,
     "code_from_answer: the password, a space and the app code let in", why(run))
run = login("app-recipe", "alice", [PASSWORD + " " + seen[-1]])
t.ok(run.code("auth") == "PAM_AUTH_ERR" and cap.wait_for(r"refused as a replay") is not None,
     "code_from_answer: the same app code again is a replay", why(run))
before = len(sim.outbox())
run = login("app-recipe", "alice", [PASSWORD])
t.ok(run.code("auth") == "PAM_AUTH_ERR" and cap.wait_for(r"no app code in the answer") is not None
     and len(sim.outbox()) == before,
     "code_from_answer: no code in the answer is refused, nothing sent", why(run))

# -- no code in the logs ----------------------------------------------------------------------
logged = "\n".join(cap.texts())
t.ok(not any(c and c in logged for c in seen), "no code in the syslog lines", logged[-500:])

env.cleanup()
sim.stop()
sys.exit(t.done())
