#!/usr/bin/python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""An invited user (twofa-enroll invite, issue 15) at login, under real libpam: not enrolled,
exactly as a user the store does not know: the same prompts and result as an unknown user
(password=store), PAM_USER_UNKNOWN at acct, PAM_IGNORE with nullok (auth and acct), refused
without it behind another module's password (password=none), and never a code sent.
tests/pam/ldap/test_pam_invited.sh runs it with the members in a slapd. TAP output."""

import sys

from harness.tap import Tap
from harness.sim import Sim
from harness.cli import run_cli
from harness.pam import Env, module_path, run_pam

t = Tap()
if not t.ok(module_path() is not None, "pam_twofa.so is built", "set TWOFA_PAM_MODULE or build it"):
    sys.exit(t.done())
PASSWORD = "correct horse battery"
sim = Sim()
env = Env(sim, config={"lockout_failures": "0"})
env.add_member("alice", PASSWORD, "+14155550123")
r = run_cli(env.config_path, "invite", "ivy")
t.ok(r.rc == 0, "ivy invited", r.describe())
r = run_cli(env.config_path, "show", "ivy")
t.ok(r.rc == 0 and "status        invited" in r.out.splitlines(), "ivy's record: status invited", r.describe())


def login(svc, user, answers, ops=("auth",)):
    run = run_pam(env, svc, user, list(ops), answers=answers, rhost="192.0.2.10")
    if not run.clean_exit:
        t.ok(False, "driver run for %s ended cleanly" % user, run.describe())
    return run


env.service("twofa", [env.twofa_line(""), env.twofa_line("", kind="account")])
invited = login("twofa", "ivy", [PASSWORD])
unknown = login("twofa", "mallory", [PASSWORD])
t.ok(invited.codes() == ["PAM_AUTH_ERR"] and invited.prompts() == unknown.prompts()
     and invited.texts(("ERROR_MSG", "TEXT_INFO")) == unknown.texts(("ERROR_MSG", "TEXT_INFO")),
     "password=store: ivy gets what an unknown user gets (PAM_AUTH_ERR, same prompts)",
     invited.describe() + "\n--\n" + unknown.describe())
t.eq(login("twofa", "ivy", [PASSWORD], ops=("acct",)).codes(), ["PAM_USER_UNKNOWN"],
     "acct of ivy without nullok: PAM_USER_UNKNOWN, as for a user not enrolled")

env.service("nullok", [env.twofa_line("nullok"), "auth required pam_permit.so",
                       env.twofa_line("nullok", kind="account"), "account required pam_permit.so"])
run = login("nullok", "ivy", [PASSWORD], ops=("auth", "acct"))
t.eq(run.codes(), ["PAM_SUCCESS", "PAM_SUCCESS"], "nullok: PAM_IGNORE for ivy (pam_permit decides auth and acct)")
env.service("nullok-deny", [env.twofa_line("nullok"), "auth required pam_deny.so"])
t.ok("PAM_SUCCESS" not in login("nullok-deny", "ivy", [PASSWORD]).codes(),
     "nullok before pam_deny: not a success (the invite opens nothing)")

env.service("behind", ["auth requisite pam_permit.so", env.twofa_line("password=none")])
run = login("behind", "ivy", [])
t.eq(run.codes(), ["PAM_AUTH_ERR"], "password=none without nullok: ivy is refused as not enrolled")
env.service("behind-nullok", ["auth requisite pam_permit.so", env.twofa_line("password=none nullok"),
                              "auth required pam_permit.so"])
t.eq(login("behind-nullok", "ivy", []).codes(), ["PAM_SUCCESS"], "password=none nullok: PAM_IGNORE for ivy")
t.eq(sim.outbox(), [], "no code was ever sent")

sys.exit(t.done())
