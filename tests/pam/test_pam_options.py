#!/usr/bin/python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""pam_twofa options and channels not covered by test_pam.py: try_first_pass, debug,
locale, WhatsApp and email channels, PAM_SILENT, prompt texts, re-hashing when the
password strength changes, over-long answers and configuration errors. TAP output."""

import json
import os
import subprocess
import sys

from harness.paths import BUILDDIR
from harness.tap import Tap
from harness.sim import Sim
from harness.pam import Env, SyslogCapture, module_path, module_with_server, run_pam

t = Tap()
if not t.ok(module_path() is not None, "pam_twofa.so is built"):
    sys.exit(t.done())

PASSWORD = "tr0ub4dor&3 horse"
ALICE, WANDA = "+14155550123", "+14155550144"
ENROLL = os.path.join(BUILDDIR, "cli", "twofa-enroll")

# The email channel needs a Verify Service with an email integration.
sim = Sim("--email-enabled")
env = Env(sim, config={"max_tries": "2", "lockout_failures": "0"})
env.add_member("alice", PASSWORD, ALICE)
env.add_member("wanda", PASSWORD, WANDA, channel="whatsapp")
env.add_member("erin", PASSWORD, "+14155550155", channel="email", email="erin@example.org")


def login(svc, user, answers, **kw):
    kw.setdefault("rhost", "192.0.2.20")
    run = run_pam(env, svc, user, ["auth"], answers=answers, **kw)
    t.ok(run.clean_exit, "driver run for %s on %s ended cleanly" % (user, svc), run.describe())
    return run


def code_for(to):
    return sim.code_answer(to)


def service(name, args="", before=()):
    env.service(name, list(before) + [env.twofa_line(args)])
    return name


# -- try_first_pass: takes the password an earlier module set --------------------------------
# pam_unix asks "Password: " and sets PAM_AUTHTOK even for a user it does not know (alice is
# no system user), then fails; "optional" lets the stack go on to pam_twofa.
env.fresh()
tfp = service("tfp", "try_first_pass", before=["auth optional pam_unix.so"])
run = login(tfp, "alice", [PASSWORD, code_for(ALICE)])
t.ok(run.code("auth") == "PAM_SUCCESS" and [k for k, _ in run.prompts()] == ["PROMPT_ECHO_OFF", "PROMPT_ECHO_ON"],
     "try_first_pass: the earlier module's password is used, no second password prompt", run.describe())
env.fresh()
run = login(tfp, "alice", ["wrong password"])
t.ok(run.code("auth") == "PAM_AUTH_ERR" and len(run.prompts()) == 1 and sim.outbox() == [],
     "try_first_pass with a wrong earlier password: refused, nothing sent", run.describe())
env.fresh()
alone = service("tfp-alone", "try_first_pass")
run = login(alone, "alice", [PASSWORD, code_for(ALICE)])
t.ok(run.code("auth") == "PAM_SUCCESS" and run.prompts()[0] == ("PROMPT_ECHO_OFF", "Password: "),
     "try_first_pass with no earlier password: asks for it", run.describe())
both = service("both", "try_first_pass use_first_pass")
run = login(both, "alice", [])
t.ok(run.code("auth") == "PAM_SERVICE_ERR" and run.prompts() == [],
     "try_first_pass with use_first_pass: a configuration error, fails closed", run.describe())

# -- debug: step lines, with the same rules as the decision line -----------------------------
env.fresh()
cap = SyslogCapture(env)
dbg = service("dbg", "debug")
run = login(dbg, "alice", [PASSWORD, code_for(ALICE)], syslog=cap)
cap.wait_for(r"result=success")
debug_lines = [r for r in cap.lines() if r["severity"] == "debug"]
code = sim.last_code(ALICE) or "no code"
t.ok(run.code("auth") == "PAM_SUCCESS" and any("code sent by sms" in r["message"] for r in debug_lines),
     "debug adds step lines at LOG_DEBUG", cap.texts())
t.ok(all(code not in x and ALICE not in x and ALICE[2:] not in x and PASSWORD not in x for x in cap.texts()),
     "debug lines hold no code, password or full number", cap.texts())
env.fresh()
cap.clear()
run = login(service("nodbg"), "alice", [PASSWORD, code_for(ALICE)], syslog=cap)
cap.wait_for(r"result=success")
t.ok(not any(r["severity"] == "debug" for r in cap.lines()), "without debug there are no debug lines",
     cap.texts())
cap.close()

# -- locale: passed to Twilio ----------------------------------------------------------------
env.fresh()
run = login(service("fr", "locale=fr"), "alice", [PASSWORD, code_for(ALICE)])
t.ok(run.code("auth") == "PAM_SUCCESS" and [e.get("locale") for e in sim.outbox()] == ["fr"],
     "locale=fr reaches Twilio with the send", sim.outbox())
env.fresh()
run = login(service("badlocale", "locale=not a locale"), "alice", [])
t.ok(run.code("auth") == "PAM_SERVICE_ERR" and sim.outbox() == [], "a malformed locale argument fails closed",
     run.describe())

# -- channels: WhatsApp and email ------------------------------------------------------------
env.fresh()
plain = service("plain")
run = login(plain, "wanda", [PASSWORD, code_for(WANDA)])
prompt = run.prompts()[-1][1] if run.prompts() else ""
t.ok(run.code("auth") == "PAM_SUCCESS" and [e["channel"] for e in sim.outbox()] == ["whatsapp"]
     and "WhatsApp" in prompt, "a WhatsApp member gets the code by WhatsApp and the prompt says so", prompt)
env.fresh()
run = login(plain, "erin", [PASSWORD, code_for("erin@example.org")])
prompt = run.prompts()[-1][1] if run.prompts() else ""
t.ok(run.code("auth") == "PAM_SUCCESS" and [(e["to"], e["channel"]) for e in sim.outbox()]
     == [("erin@example.org", "email")], "an email member gets the code by email", run.describe())
t.ok("email" in prompt and "erin@" not in prompt and "example.org" in prompt,
     "the email prompt shows the domain only, never the address", prompt)
env.fresh()
run = login(service("wa", "allowed_channels=own,whatsapp"), "alice", [PASSWORD, "whatsapp", code_for(ALICE)])
t.ok(run.code("auth") == "PAM_SUCCESS" and [e["channel"] for e in sim.outbox()] == ["sms", "whatsapp"],
     "typing 'whatsapp' at the prompt re-sends by WhatsApp where allowed_channels has it", sim.outbox())

# -- PAM_SILENT: no messages, same result ---------------------------------------------------
env.fresh()
run = login(plain, "alice", [PASSWORD, "000000", "000001"], silent=True)
t.ok(run.code("auth") == "PAM_MAXTRIES" and run.messages(("ERROR_MSG", "TEXT_INFO")) == [],
     "PAM_SILENT: wrong codes are refused without error messages", run.describe())

# -- prompt texts ----------------------------------------------------------------------------
env.fresh()
custom = service("custom", "[password_prompt=Store password: ] [code_prompt=Your %c code (to %n, 100%%): ]")
run = login(custom, "alice", [PASSWORD, code_for(ALICE)])
prompts = [p for _, p in run.prompts()]
t.ok(run.code("auth") == "PAM_SUCCESS" and prompts[:1] == ["Store password: "] and len(prompts) == 2
     and prompts[1].startswith("Your SMS code (to +1 ") and prompts[1].endswith("0123, 100%): "),
     "password_prompt= and code_prompt= with %c, %n and %%", prompts)
run = login(service("badprompt", "[code_prompt=%s%x]"), "alice", [])
t.ok(run.code("auth") == "PAM_SERVICE_ERR" and run.prompts() == [],
     "a prompt with another % directive is a configuration error", run.describe())

# -- over-long answers -----------------------------------------------------------------------
env.fresh()
run = login(plain, "alice", [PASSWORD, "1" * 5000])
t.ok(run.code("auth") not in ("PAM_SUCCESS", None), "a 5000-byte code answer never succeeds", run.describe())
env.fresh()
run = login(plain, "alice", ["p" * 5000])
t.ok(run.code("auth") not in ("PAM_SUCCESS", None) and sim.outbox() == [],
     "a 5000-byte password is refused and nothing is sent", run.describe())

# -- password strength changed: the hash is renewed at the next login -----------------------
def stored_hash(user):
    r = subprocess.run([ENROLL, "--config", env.config_path, "export"], capture_output=True, text=True)
    for line in r.stdout.splitlines():
        rec = json.loads(line)
        if rec.get("user") == user:
            return rec.get("password_hash", "")
    return ""


env.fresh()
before = stored_hash("alice")
env.write_config({"password_strength": "moderate"})
run = login(plain, "alice", [PASSWORD, code_for(ALICE)])
after = stored_hash("alice")
if env.gdbm:
    t.ok(run.code("auth") == "PAM_SUCCESS" and "m=65536" in before and "m=262144" in after,
         "a login re-hashes the password with the configured strength", "%s -> %s" % (before[:30], after[:30]))
    env.fresh()
    run = login(plain, "alice", [PASSWORD, code_for(ALICE)])
    t.ok(run.code("auth") == "PAM_SUCCESS" and stored_hash("alice") == after,
         "the renewed hash verifies and is not renewed again", run.describe())
else:
    # A login host does not write the directory (etc/ldap access rules): no re-hash is
    # tried; twofa-enroll passwd renews hashes there (tests/pam/test_fleet_unlock.py
    # shows no warning is logged either).
    t.ok(run.code("auth") == "PAM_SUCCESS" and "m=65536" in before and after == before,
         "store = ldap: the login succeeds and leaves the hash as it is",
         "%s -> %s" % (before[:30], after[:30]))
env.write_config({"password_strength": "interactive"})

# -- configuration errors fail closed --------------------------------------------------------
env.service("noconf", ["auth required %s config=%s/missing.conf" % (module_with_server(), env.dir)])
run = login("noconf", "alice", [])
t.ok(run.code("auth") == "PAM_SERVICE_ERR" and run.prompts() == [], "a missing config file: PAM_SERVICE_ERR",
     run.describe())
env.service("relconf", ["auth required %s config=twofa.conf" % module_with_server()])
run = login("relconf", "alice", [])
t.eq(run.code("auth"), "PAM_SERVICE_ERR", "a relative config= path: PAM_SERVICE_ERR")
run = login(service("badgroups", "groups=admins,,staff"), "alice", [])
t.eq(run.code("auth"), "PAM_SERVICE_ERR", "groups= with an empty entry: PAM_SERVICE_ERR")
env.fresh()
os.chmod(env.config_path, 0o644)
run = login(plain, "alice", [])
t.ok(run.code("auth") == "PAM_SERVICE_ERR" and sim.stats()["requests"] == 0,
     "a world-readable config: PAM_SERVICE_ERR before anything is asked or sent", run.describe())
os.chmod(env.config_path, 0o600)

sys.exit(t.done())
