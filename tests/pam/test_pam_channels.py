#!/usr/bin/python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""Where the code may go (audit section 7): allowed_channels, in twofa.conf and as a module
argument, limits the resend words at the code prompt ('call', 'sms', 'whatsapp', 'email');
the default, "own call", is the member's own channel plus a voice call to the member's own
number. Refused words send nothing and the next prompt says so; the prompt offers only what
is allowed. And the prompt after a failed try says what went wrong and how many tries are
left, so it shows under PAM_SILENT too (issue 11, section 2). TAP output."""

import sys

from harness.tap import Tap
from harness.sim import Sim
from harness.pam import FAIL, Env, SyslogCapture, module_path, run_pam

t = Tap()
if not t.ok(module_path() is not None, "pam_twofa.so is built"):
    sys.exit(t.done())

PASSWORD = "tr0ub4dor&3 horse"
ALICE, BOB, WANDA = "+14155550123", "+14155550124", "+14155550144"
ALICE_MAIL = "alice@example.org"

sim = Sim("--email-enabled")
env = Env(sim, config={"max_tries": "3", "lockout_failures": "0"})
env.add_member("alice", PASSWORD, ALICE, email=ALICE_MAIL)
env.add_member("bob", PASSWORD, BOB)
env.add_member("wanda", PASSWORD, WANDA, channel="whatsapp")


def service(name, args=""):
    env.service(name, [env.twofa_line(args)])
    return name


def login(svc, user, answers, **kw):
    env.fresh()
    kw.setdefault("rhost", "192.0.2.40")
    run = run_pam(env, svc, user, ["auth"], answers=answers, **kw)
    t.ok(run.clean_exit, "driver run for %s on %s ended cleanly" % (user, svc), run.describe())
    return run


def sent():
    return [(e["to"], e["channel"]) for e in sim.outbox()]


def code_prompts(run):
    return [x for k, x in run.prompts() if k == "PROMPT_ECHO_ON"]


REFUSED = "Codes cannot be sent by %s here. "

# -- the default: own channel and a voice call -----------------------------------------------
plain = service("plain")
run = login(plain, "alice", [PASSWORD, FAIL])
t.eq(code_prompts(run), ["Code sent by SMS to +1 ***-***-0123. Enter the code (or 'call' for a voice call): "],
     "default prompt offers a voice call only, not email though alice has one")
for word, label in (("email", "email"), ("whatsapp", "WhatsApp")):
    run = login(plain, "alice", [PASSWORD, word, FAIL])
    asked = code_prompts(run)
    t.ok(sent() == [(ALICE, "sms")] and len(asked) == 2 and asked[1].startswith(REFUSED % label)
         and asked[1].endswith("Enter the code (or 'call' for a voice call): "),
         "default: '%s' at the prompt sends nothing, and the next prompt says why" % word, run.describe())
run = login(plain, "alice", [PASSWORD, "call", sim.code_answer(ALICE)])
t.ok(run.code("auth") == "PAM_SUCCESS" and sent() == [(ALICE, "sms"), (ALICE, "call")]
     and code_prompts(run)[1] == "Code sent by voice call to +1 ***-***-0123. Enter the code (or 'sms' for SMS): ",
     "default: 'call' calls the member's own number; that prompt offers SMS back", run.describe())
run = login(plain, "wanda", [PASSWORD, "sms", FAIL])
t.ok(sent() == [(WANDA, "whatsapp")] and code_prompts(run)[1].startswith(REFUSED % "SMS"),
     "default: a WhatsApp member cannot switch to SMS", run.describe())

# -- allowed_channels=own --------------------------------------------------------------------
own = service("own", "allowed_channels=own")
run = login(own, "alice", [PASSWORD, "call", FAIL])
asked = code_prompts(run)
t.ok(sent() == [(ALICE, "sms")] and asked[0].endswith("Enter the code: ") and asked[1].startswith(REFUSED % "voice call"),
     "allowed_channels=own: no offer, and 'call' is refused", run.describe())
run = login(own, "alice", [PASSWORD, "resend", sim.code_answer(ALICE)])
t.ok(run.code("auth") == "PAM_SUCCESS" and sent() == [(ALICE, "sms"), (ALICE, "sms")],
     "allowed_channels=own: 'resend' still re-sends by the member's channel", run.describe())

# -- allowed_channels="own email" --------------------------------------------------------------
mail = service("mail", "[allowed_channels=own email]")
run = login(mail, "alice", [PASSWORD, "email", sim.code_answer(ALICE_MAIL)])
asked = code_prompts(run)
t.ok(run.code("auth") == "PAM_SUCCESS" and sent() == [(ALICE, "sms"), (ALICE_MAIL, "email")]
     and asked[0].endswith("Enter the code (or 'email' for email): "),
     "allowed_channels=own email: 'email' sends to the member's own address", run.describe())
run = login(mail, "bob", [PASSWORD, "email", FAIL])
t.ok(sent() == [(BOB, "sms")] and code_prompts(run)[0].endswith("Enter the code: ")
     and code_prompts(run)[1].startswith("No email address is enrolled. Code sent by SMS"),
     "allowed_channels=own email: a member without an address is not offered email", run.describe())



def email_refused(kind, text, run):
    sim.fault("start", "503", number=ALICE_MAIL, count=10)
    return "email"


run = login(mail, "alice", [PASSWORD, email_refused, sim.code_answer(ALICE)], silent=True)
t.ok(run.code("auth") == "PAM_SUCCESS" and sent() == [(ALICE, "sms")] and code_prompts(run)[1].startswith(
     "A new code cannot be sent now. Enter the code you have. Code sent by SMS to "),
     "a resend Twilio refuses is said by the prompt, and the SMS code sent before still works", run.describe())
sim.clear_faults()

# -- the key in twofa.conf, and the member's own channel not allowed -------------------------
env.write_config({"allowed_channels": "sms, call"})
run = login(plain, "alice", [PASSWORD, "call", sim.code_answer(ALICE)])
t.ok(run.code("auth") == "PAM_SUCCESS" and sent() == [(ALICE, "sms"), (ALICE, "call")],
     "allowed_channels = sms, call in twofa.conf", run.describe())
run = login(plain, "wanda", [PASSWORD])
t.ok(run.code("auth") == "PAM_AUTH_ERR" and sent() == [] and code_prompts(run) == []
     and run.texts(("ERROR_MSG",)) == ["Codes cannot be sent by WhatsApp here. Contact your administrator."],
     "a member whose own channel is not allowed gets no code and is refused", run.describe())
env.write_config({"allowed_channels": None})

# -- validation ------------------------------------------------------------------------------
cap = SyslogCapture(env)
run = login(service("bad", "allowed_channels=own,voice"), "alice", [], syslog=cap)
t.ok(run.code("auth") == "PAM_SERVICE_ERR" and run.prompts() == [] and
     cap.wait_for(r"allowed_channels=\.\.\.'?: allowed_channels must list") is not None,
     "an unknown word in the argument is a configuration error", cap.texts())
env.write_config({"allowed_channels": "own,all"})
cap.clear()
run = login(plain, "alice", [], syslog=cap)
t.ok(run.code("auth") == "PAM_SERVICE_ERR" and run.prompts() == [] and
     cap.wait_for(r"twofa\.conf:\d+: allowed_channels must list") is not None,
     "an unknown word in twofa.conf names the file and line", cap.texts())
env.write_config({"allowed_channels": None})
cap.close()

# -- the prompt after a failed try says so (PAM_SILENT drops messages) ------------------------
wrong = sim.wrong_code_answer(ALICE)


run = login(plain, "alice", [PASSWORD, wrong, "", sim.code_answer(ALICE)], silent=True)
t.ok(run.code("auth") == "PAM_SUCCESS" and code_prompts(run)[1:] ==
     ["Wrong code. Enter the code again (2 tries left): ", "No code entered. Enter the code (1 try left): "]
     and run.messages(("ERROR_MSG", "TEXT_INFO")) == [],
     "PAM_SILENT: the next prompt says the code was wrong and how many tries are left", run.describe())
run = login(plain, "alice", [PASSWORD, "email", FAIL], silent=True)
t.ok(code_prompts(run)[1].startswith(REFUSED % "email") and run.messages(("ERROR_MSG", "TEXT_INFO")) == [],
     "PAM_SILENT: a refused channel is said by the prompt", run.describe())
run = login(plain, "alice", [PASSWORD, wrong, "call", FAIL])
t.ok(code_prompts(run)[2].startswith("Code sent by voice call to "),
     "after a new code the prompt says where it went again", run.describe())
custom = service("custom", "[code_prompt=Code (%c, %n)%o? ]")
run = login(custom, "alice", [PASSWORD, FAIL])
t.eq(code_prompts(run), ["Code (SMS, +1 ***-***-0123) (or 'call' for a voice call)? "],
     "code_prompt= with %o: the offered channels")

sys.exit(t.done())
