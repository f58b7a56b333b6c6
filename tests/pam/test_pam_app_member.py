#!/usr/bin/python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""Members the model of issue 13 allows (item 2): one without a twofa password (enrolled
behind another module's password) and one without a phone (codes by email only). A
password=store service refuses the first with a clear reason, at the cost of a real check
and counted as a failure, as a wrong password is; password=none lets it in with its code; a
password change is not ours to make for it.
Nobody offers or sends a code by SMS or call to a member without a phone. TAP output."""

import sys

from harness.tap import Tap
from harness.sim import Sim
from harness.pam import FAIL, Env, SyslogCapture, module_path, run_pam

t = Tap()
if not t.ok(module_path() is not None, "pam_twofa.so is built"):
    sys.exit(t.done())

PASSWORD = "tr0ub4dor&3 horse"
NOPASS, NOPASS_PHONE = "nopass", "+14155550170"
APP, APP_MAIL = "app", "app@example.org"

sim = Sim("--email-enabled")
env = Env(sim, config={"max_tries": "2", "lockout_failures": "5"})
env.add_member(NOPASS, None, NOPASS_PHONE)
env.add_member(APP, PASSWORD, "", country="", channel="email", email=APP_MAIL)
cap = SyslogCapture(env)


def service(name, args=""):
    env.service(name, [env.twofa_line(args)])
    return name


def login(svc, user, answers, ops=("auth",), **kw):
    env.fresh()
    cap.clear()
    kw.setdefault("rhost", "192.0.2.41")
    run = run_pam(env, svc, user, list(ops), answers=answers, syslog=cap, **kw)
    t.ok(run.clean_exit, "driver run for %s on %s ended cleanly" % (user, svc), run.describe())
    return run


def sent():
    return [(e["to"], e["channel"]) for e in sim.outbox()]


t.eq(env.member(NOPASS).get("hash"), "-", "the fixture stored a member without a hash")
t.eq((env.member(APP).get("phone"), env.member(APP).get("country")), ("", ""),
     "the fixture stored a member without a phone")

# -- no twofa password ----------------------------------------------------------------------
store = service("store")
run = login(store, NOPASS, [PASSWORD])
t.ok(run.code("auth") == "PAM_AUTH_ERR" and len(run.prompts()) == 1 and sent() == []
     and cap.wait_for(r"result=denied reason=member has no twofa password; use password=none "
                      r"behind another module") is not None,
     "password=store: a member without a twofa password is refused, the reason logged",
     run.describe() + "\n" + "\n".join(cap.texts()))
t.eq(env.state(NOPASS)["failures"], 1, "and the attempt counts a failure, as a wrong password does")
t.ok(sim.stats()["requests"] == 0, "no code is sent for it")
run = login(store, NOPASS, [""])
t.ok(run.code("auth") == "PAM_AUTH_ERR" and cap.wait_for(r"reason=member has no twofa password") is not None,
     "an empty password reads the same", run.describe())

none = service("none", "password=none")
run = login(none, NOPASS, [sim.code_answer(NOPASS_PHONE)])
t.ok(run.code("auth") == "PAM_SUCCESS" and sent() == [(NOPASS_PHONE, "sms")],
     "password=none: the same member logs in with its code", run.describe())

env.service("passwd", [env.twofa_line("", kind="password"), "password required pam_permit.so"])
run = login("passwd", NOPASS, ["old", "new password", "new password"], ops=("chauthtok",))
t.ok(run.code("chauthtok") == "PAM_SUCCESS" and run.prompts() == [] and env.member(NOPASS).get("hash") == "-",
     "chauthtok leaves a member without a twofa password to the other modules", run.describe())

# -- no phone: codes by email only --------------------------------------------------------------
run = login(store, APP, [PASSWORD, sim.code_answer(APP_MAIL)])
asked = run.texts(("PROMPT_ECHO_ON",))
t.ok(run.code("auth") == "PAM_SUCCESS" and sent() == [(APP_MAIL, "email")]
     and asked and asked[0].endswith("Enter the code: "),
     "a member without a phone gets its code by email, with no call or SMS offered", run.describe())
anything = service("anything", "[allowed_channels=sms call whatsapp email]")
run = login(anything, APP, [PASSWORD, "call", "sms", "whatsapp", FAIL])
asked = run.texts(("PROMPT_ECHO_ON",))
t.ok(sent() == [(APP_MAIL, "email")] and len(asked) >= 4 and asked[0].endswith("Enter the code: ")
     and asked[1].startswith("Codes cannot be sent by voice call here. ")
     and asked[2].startswith("Codes cannot be sent by SMS here. ")
     and asked[3].startswith("Codes cannot be sent by WhatsApp here. "),
     "even where every channel is allowed: call, sms and whatsapp are refused plainly, nothing sent",
     run.describe())
cap.close()
sys.exit(t.done())
