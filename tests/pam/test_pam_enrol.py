#!/usr/bin/python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""Self-enrolment at first login (issue 15) through real libpam (and against a slapd
through tests/pam/ldap/test_pam_enrol.sh): enroll=self behind a first
factor another module checked (password=none); the prompts in order (country, phone, code);
approval auto and manual; a wrong number or country asked again; every way of cancelling
stores nothing and cancels the pending verification; an enrolled user and a user out of
scope never see an enrolment prompt; one decision line per call. TAP output."""

import sys
import time

from harness.tap import Tap
from harness.sim import Sim
from harness.cli import run_cli
from harness.pam import FAIL, Env, SyslogCapture, module_path, run_pam

t = Tap()
if not t.ok(module_path() is not None, "pam_twofa.so is built"):
    sys.exit(t.done())

GB = "+447400123456"
GB_TYPED = "07400 123456"
GB2 = "+447400123457"
PASSWORD = "tr0ub4dor&3 horse"
COUNTRY = "Country (ISO code, e.g. GB; ? lists them): "
PHONE = "Phone number: "

sim = Sim()
# The directory (under ldap) has the self-enrolment rules of etc/ldap/twofa-enrol.*.
env = Env(sim, config={"max_tries": "3", "lockout_failures": "0"}, slapd_options={"enrol": True})
cap = SyslogCapture(env)


def service(name, args):
    # pam_permit stands for the first factor (pam_unix, sshd publickey).
    env.service(name, ["auth requisite pam_permit.so", env.twofa_line(args)])
    return name


def login(svc, user, answers, fresh=True, **kw):
    if fresh:
        env.fresh()
    cap.clear()
    kw.setdefault("rhost", "192.0.2.50")
    run = run_pam(env, svc, user, ["auth"], answers=answers, syslog=cap, **kw)
    t.ok(run.clean_exit, "driver run for %s on %s ended cleanly" % (user, svc), run.describe())
    return run


def decisions():
    cap.wait_for(r" result=", timeout=3.0)
    return [r["text"] for r in cap.lines() if " result=" in r["text"]]


def one_decision(run, what):
    lines = decisions()
    t.ok(len(lines) == 1, "%s: one decision line" % what, "\n".join(cap.texts()))
    return lines[0] if lines else ""


def prompts(run):
    return [x for k, x in run.prompts()]


def code_of(to):
    return lambda kind, text, run: sim.last_code(to)


def admin(*args):
    r = run_cli(env.config_path, *args)
    t.ok(r.rc == 0, "twofa-enroll %s" % " ".join(args), r.describe())
    return r


def forget(user):
    """Removes a member the test enrolled."""
    run_cli(env.config_path, "remove", user, "--yes")


def ops_of(name):
    return [r["op"] for r in sim.requests() if r["op"] == name]


# Under TWOFA_TEST_BACKEND=ldap a self-enrolment adds the member to the user's entry (a
# login creates none), as on a site whose directory holds its users.
if env.slapd is not None:
    for person in ("carol", "dave", "erin", "frank"):
        env._ldap_user(person)

self_svc = service("enrol-self", "password=none enroll=self")

# -- auto approval: the prompts in order, the member stored, logged in -----------------------
run = login(self_svc, "carol", ["gb", GB_TYPED, code_of(GB)])
asked = prompts(run)
t.ok(run.code("auth") == "PAM_SUCCESS" and len(asked) == 3 and asked[0] == COUNTRY
     and asked[1] == PHONE and asked[2].startswith("Code sent by SMS to +44 "),
     "enroll=self: country, phone, code prompts in this order, and the login succeeds",
     run.describe())
t.eq([k for k, x in run.prompts()], ["PROMPT_ECHO_ON"] * 3, "every enrolment prompt echoes")
m = env.member("carol")
t.ok(m is not None and m.get("status") == "active" and m.get("phone") == GB
     and m.get("country") == "GB" and m.get("password_hash") in (None, "none", "null"),
     "carol is stored active with the normalised number and no twofa password", repr(m))
line = one_decision(run, "auto enrolment")
t.ok("result=success" in line and "enrolled at login" in line and GB not in " ".join(cap.texts()),
     "the decision says enrolled at login, and no log line holds the full number", line)
t.ok(any("You are enrolled" in x for x in run.texts()), "the user is told where codes go",
     run.describe())

# -- the next login asks only for a code ---------------------------------------------------------
run = login(self_svc, "carol", [code_of(GB)])
t.ok(run.code("auth") == "PAM_SUCCESS" and len(prompts(run)) == 1
     and prompts(run)[0].startswith("Code sent by SMS"),
     "an enrolled user never sees an enrolment prompt: one code prompt", run.describe())

# -- manual approval -----------------------------------------------------------------------------
env.write_config({"approval": "manual"})
run = login(self_svc, "dave", ["GB", GB2, code_of(GB2)])
m = env.member("dave")
line = one_decision(run, "manual enrolment")
t.ok(run.code("auth") == "PAM_AUTH_ERR" and m is not None and m.get("status") == "pending",
     "approval = manual: stored pending, the login refused", run.describe() + repr(m))
t.ok(any("awaiting approval" in x for x in run.texts()), "the user reads 'awaiting approval'",
     run.describe())
t.ok(any("twofa-enroll list --status pending" in x and "twofa-enroll approve dave" in x
         for x in cap.texts()), "a syslog line tells the admin how to approve", "\n".join(cap.texts()))
run = login(self_svc, "dave", [])
t.ok(run.code("auth") == "PAM_AUTH_ERR" and prompts(run) == [],
     "pending: the next login is refused without a prompt", run.describe())
r = admin("list", "--status", "pending")
t.ok("dave" in r.out and "carol" not in r.out, "twofa-enroll list --status pending lists dave", r.out)
admin("approve", "dave")
run = login(self_svc, "dave", [code_of(GB2)])
t.ok(run.code("auth") == "PAM_SUCCESS" and len(prompts(run)) == 1
     and prompts(run)[0].startswith("Code sent by SMS"),
     "approved: the next login asks only for a code", run.describe())
run = login(self_svc, "erin", ["GB", "07400 123458", code_of("+447400123458"), ""], silent=True)
t.ok(run.code("auth") == "PAM_AUTH_ERR" and prompts(run)[-1].startswith(
     "Your second-factor enrolment is awaiting approval") and run.texts(("ERROR_MSG", "TEXT_INFO")) == [],
     "under PAM_SILENT (sudo) 'awaiting approval' is said in a last prompt, as no message shows",
     run.describe())
env.write_config({"approval": None})
forget("dave")
forget("erin")

# -- a wrong number and a wrong country asked again ------------------------------------------------
# carol holds GB: max_members_per_phone (1) refuses it to erin, in the words of any
# unusable number.
run = login(self_svc, "erin", ["GB", GB_TYPED, FAIL])
asked = prompts(run)
t.ok(len(asked) == 3 and asked[2] == "That number cannot be used. Enter another one. " + PHONE
     and sim.outbox() == [] and not any("carol" in x for x in run.texts()),
     "a number another member holds is refused without saying so; nothing sent", run.describe())
t.ok(any("max_members_per_phone" in x and "carol" not in x for x in cap.texts()),
     "the log says why (max_members_per_phone), without naming the holder", "\n".join(cap.texts()))
forget("carol")
run = login(self_svc, "erin", ["XX", "GB", "12", GB_TYPED, code_of(GB)])
asked = prompts(run)
t.ok(run.code("auth") == "PAM_SUCCESS" and len(asked) == 5
     and asked[1].startswith("That is not a country code") and asked[1].endswith(COUNTRY)
     and asked[3].startswith("That is not a valid phone number") and asked[3].endswith(PHONE),
     "a bad country and a bad number are said in the next prompt and asked again", run.describe())
forget("erin")

# -- '?' lists the countries in the next prompt ----------------------------------------------------
run = login(self_svc, "erin", ["?", FAIL])
asked = prompts(run)
t.ok(len(asked) == 2 and asked[1].startswith("Countries: ") and " GB " in asked[1]
     and asked[1].endswith(COUNTRY),
     "'?' lists the country codes in the next prompt (PAM_SILENT keeps prompts)", asked)
t.ok(env.member("erin") is None, "nothing stored after a failed conversation")

# -- countries: a country the allow-list does not name is said and asked again ---------------
env.write_config({"countries": "GB IE"})
run = login(self_svc, "erin", ["FR", "?", "XX", FAIL])
asked = prompts(run)
t.ok(len(asked) == 4 and asked[1] == "Codes cannot be sent to that country from here. " + COUNTRY
     and asked[2] == "Countries: IE GB. " + COUNTRY and sim.outbox() == [],
     "countries = GB IE: FR refused and asked again, '?' lists only IE and GB (by country name)", run.describe())
env.write_config({"countries": None})

# -- send_budget: over it no code is sent (one LOG_CRIT a window), then it recovers ----------
# send_limit above the six attempts: each takes one of erin's own sends before the host's
# budget is asked (a member whose sends are spent spends none of the budget).
env.write_config({"send_budget": "1/4", "send_limit": "10"})
env.fresh()
runs = [login(self_svc, "erin", ["GB", GB_TYPED, FAIL], fresh=False) for _ in range(3)]
crit = [r for r in cap.lines() if r["severity"] == "crit"]
t.ok(len(sim.outbox(GB)) == 1 and all(r.code("auth") != "PAM_SUCCESS" for r in runs)
     and all(len(r.prompts()) == 2 for r in runs[1:]) and env.member("erin") is None,
     "send_budget = 1/4: the first enrolment gets its code, the next two none and are refused",
     "\n---\n".join(r.describe() for r in runs))
crit_all = []
cap.clear()
runs = [login(self_svc, "erin", ["GB", GB_TYPED, FAIL], fresh=False) for _ in range(2)]
crit_all = [r for r in cap.lines() if r["severity"] == "crit" and "send_budget" in r["text"]]
t.ok(len(sim.outbox(GB)) == 1 and len(crit_all) <= 1,
     "over budget: still nothing sent, at most one LOG_CRIT line a window", "\n".join(cap.texts()))
time.sleep(4.5)
run = login(self_svc, "erin", ["GB", GB_TYPED, code_of(GB)], fresh=False)
t.ok(run.code("auth") == "PAM_SUCCESS" and len(sim.outbox(GB)) == 2 and env.member("erin") is not None,
     "after the window the budget recovers: the code is sent and erin enrols", run.describe())
env.write_config({"send_budget": None, "send_limit": None})
forget("erin")

# -- too many bad answers ------------------------------------------------------------------------
run = login(self_svc, "erin", ["GB", "1", "2", "3"])
t.ok(run.code("auth") == "PAM_AUTH_ERR" and len(prompts(run)) == 4 and sim.outbox() == []
     and env.member("erin") is None,
     "max_tries numbers that cannot be used: refused, nothing sent or stored", run.describe())

# -- cancel at each step stores nothing and cancels the pending verification ---------------------
for where, answers in (("country", [FAIL]), ("country (empty)", [""]), ("phone", ["GB", FAIL]),
                       ("phone (empty)", ["GB", ""]), ("code", ["GB", GB_TYPED, FAIL])):
    run = login(self_svc, "frank", answers)
    line = one_decision(run, "cancel at the %s prompt" % where)
    t.ok(run.code("auth") == "PAM_AUTH_ERR" and env.member("frank") is None and "declined" in line,
         "cancel at the %s prompt: refused (no nullok), nothing stored" % where,
         run.describe() + "\n" + line)
    if where == "code":
        t.ok(len(ops_of("start")) == 1 and len(ops_of("cancel")) == 1,
             "cancel at the code prompt cancels the pending verification", repr(sim.requests())[-600:])
    else:
        t.eq(ops_of("start"), [], "cancel at the %s prompt: no code sent" % where)

nullok_svc = service("enrol-nullok", "password=none enroll=self nullok")
run = login(nullok_svc, "frank", [""])
line = one_decision(run, "declined under nullok")
t.ok("result=ignored" in line and "declined" in line and env.member("frank") is None,
     "nullok: declining enrolment is PAM_IGNORE (the stack goes on), nothing stored",
     run.describe() + "\n" + line)

# -- Kosovo (XK, +383): outside ISO 3166-1, served by Twilio, enrols like any country ---------
run = login(self_svc, "frank", ["XK", "044 123 456", code_of("+38344123456")])
m = env.member("frank")
t.ok(run.code("auth") == "PAM_SUCCESS" and m is not None and m.get("country") == "XK"
     and m.get("phone") == "+38344123456",
     "a number of Kosovo (XK) enrols: country XK, +383 44 123 456", run.describe() + repr(m))
forget("frank")

# -- out of scope never enrols -------------------------------------------------------------------
scoped = service("enrol-scoped", "password=none enroll=self groups=twofa-nosuchgroup nullok")
run = login(scoped, "frank", [])
t.ok(run.code("auth") == "PAM_SUCCESS" and prompts(run) == [] and env.member("frank") is None,
     "a user out of scope (groups=) never sees an enrolment prompt", run.describe())

# -- enroll=off (the default) never enrols -------------------------------------------------------
off = service("enrol-off", "password=none")
run = login(off, "frank", [])
t.ok(run.code("auth") == "PAM_AUTH_ERR" and prompts(run) == [],
     "enroll off (default): not enrolled, no prompt", run.describe())

sys.exit(t.done())
