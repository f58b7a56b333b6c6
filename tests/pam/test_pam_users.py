#!/usr/bin/python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""pam_twofa goes by the account's own name (audit section 6): where NSS accepts aliases
(sssd, winbind: ALICE, alice@corp, CORP\\alice), members, lockout and grace are looked up by
pw_name, so under nullok an alias is not "not enrolled"; an NSS error fails closed; and
`twofa-enroll add` stores the canonical name. NSS here is tests/pam/nss_twofatest.c, loaded
in a private mount namespace (harness.nss) whose /etc/nsswitch.conf says "passwd: files
twofatest" and whose /etc/ld.so.cache finds it: the lookups happen in twofa-server, which
has an empty environment. TAP output."""

import os
import shlex
import sys

from harness import nss
from harness.tap import Tap
from harness.sim import Sim
from harness.pam import FAIL, Env, SyslogCapture, module_path, run_pam
from harness.cli import CODE, Cli

t = Tap()
if not t.ok(module_path() is not None, "pam_twofa.so is built"):
    sys.exit(t.done())
if not t.ok(nss.built(), "the test NSS module is built", nss.NSS_SO):
    sys.exit(t.done())

PASSWORD = "correct horse battery"
ALICE, DORA = "+14155550123", "+14155550166"
ALIASES = ["ALICE", "Alice", "alice@corp.example", "CORP\\alice"]

sim = Sim()
env = Env(sim, config={"max_tries": "2", "lockout_failures": "0"})
env.add_member("alice", PASSWORD, ALICE)
env.add_member("dora", PASSWORD, DORA, status="disabled")

# The private NSS world, knowing alice, dora and carol.
world = nss.NssWorld(os.path.join(env.dir, "nss"), ["alice", "dora", "carol"])
t.eq(world.resolves(), os.path.join(world.lib, nss.SONAME),
     "the world's ld.so.cache finds libnss_twofatest.so.2 (no LD_LIBRARY_PATH needed)")


def login(svc, user, answers, ops=("auth",), mode="aliases", **kw):
    kw.setdefault("rhost", "192.0.2.30")
    wrapper = world.wrapper(mode) + shlex.split(os.environ.get("TWOFA_PAM_WRAPPER", ""))
    run = run_pam(env, svc, user, list(ops), answers=answers, wrapper=wrapper, **kw)
    t.ok(run.clean_exit, "driver run for %r on %s ended cleanly" % (user, svc), run.describe())
    return run


# The audit's stack: pam_permit stands for pam_sss accepting the alias.
env.service("none-nullok", ["auth requisite pam_permit.so",
                            env.twofa_line("password=none nullok"),
                            "account required pam_permit.so",
                            env.twofa_line("nullok", kind="account")])

# -- aliases are the member ------------------------------------------------------------------
for alias in ALIASES:
    env.fresh()
    run = login("none-nullok", alias, [FAIL])
    asked = [x for k, x in run.prompts() if k == "PROMPT_ECHO_ON"]
    t.ok(run.code("auth") != "PAM_SUCCESS" and len(asked) == 1 and sim.sends(ALICE) == 1,
         "%r under nullok: alice's code is sent and asked for, not PAM_SUCCESS on the password" % alias,
         run.describe())

env.fresh()
run = login("none-nullok", "alice@corp.example", [sim.code_answer(ALICE)])
t.ok(run.code("auth") == "PAM_SUCCESS" and env.state("alice")["last_login"] > 0,
     "alice@corp.example with alice's code: success, recorded for alice", run.describe())

env.fresh()
run = login("none-nullok", "mallory", [])
t.ok(run.code("auth") == "PAM_SUCCESS" and run.prompts() == [] and sim.outbox() == [],
     "a name NSS does not know is looked up as typed: not enrolled, nullok ignores it", run.describe())

# -- the decision line names the account -----------------------------------------------------
env.fresh()
cap = SyslogCapture(env)
env.service("dbg", ["auth requisite pam_permit.so", env.twofa_line("password=none nullok debug")])
run = login("dbg", "ALICE", [FAIL], syslog=cap)
line = cap.wait_for(r"result=denied")
t.ok(line is not None and "user=alice " in line["text"] and
     cap.wait_for(r"debug: the user database knows 'ALICE' as this account") is not None,
     "the decision line says user=alice; a debug line names the alias", cap.texts())

# -- grace goes by the account too -----------------------------------------------------------
env.fresh()
env.write_config({"grace_period": "600"})
run = login("none-nullok", "ALICE", [sim.code_answer(ALICE)])
again = login("none-nullok", "alice", [])
t.ok(run.code("auth") == "PAM_SUCCESS" and again.code("auth") == "PAM_SUCCESS" and again.prompts() == []
     and sim.sends(ALICE) == 1, "a login as ALICE gives alice's grace (one account, one grace)",
     again.describe())
env.write_config({"grace_period": None})

# -- account management ----------------------------------------------------------------------
env.fresh()
run = login("none-nullok", "DORA", [], ops=("acct",))
t.ok(run.code("acct") == "PAM_PERM_DENIED",
     "account: DORA is dora, whose second factor is disabled: PAM_PERM_DENIED", run.describe())

# -- password changes ------------------------------------------------------------------------
env.service("passwd", [env.twofa_line(kind="password")])
NEW = "a new password of alice"
run = login("passwd", "CORP\\alice", [PASSWORD, NEW, NEW], ops=("chauthtok",))
t.ok(run.code("chauthtok") == "PAM_SUCCESS" and env.member("alice", NEW)["password"] == "ok",
     "password: CORP\\alice changes alice's password in the store", run.describe())
env.add_member("alice", PASSWORD, ALICE, replace=True)

# -- an NSS error fails closed ---------------------------------------------------------------
env.fresh()
cap.clear()
for user in ("ALICE", "mallory"):
    run = login("none-nullok", user, [], mode="unavail", syslog=cap)
    t.ok(run.code("auth") == "PAM_AUTHINFO_UNAVAIL" and run.prompts() == [] and sim.outbox() == [],
         "%s while NSS cannot answer: PAM_AUTHINFO_UNAVAIL, even under nullok" % user, run.describe())
cap.wait_for(r"user=mallory .*result=error")
errors = [x for x in cap.texts() if "result=error reason=user database lookup failed" in x]
t.ok(len(errors) == 2 and all("service=none-nullok" in x for x in errors)
     and "user=ALICE " in errors[0] and "user=mallory " in errors[1],
     "each NSS error is a decision line with result=error", cap.texts())
run = login("none-nullok", "ALICE", [], ops=("acct",), mode="unavail")
t.ok(run.code("acct") == "PAM_SERVICE_ERR", "account while NSS cannot answer: PAM_SERVICE_ERR",
     run.describe())
cap.close()

# -- twofa-enroll add stores the account's name ----------------------------------------------
os.environ["TWOFA_CLI_WRAPPER"] = " ".join(
    shlex.quote(a) for a in world.wrapper()) + " " + os.environ.get("TWOFA_CLI_WRAPPER", "")
cli = Cli(sim)
CAROL = "+14155550177"
r = cli.enroll("CORP\\Carol", CAROL, "US", ["pw-carol-12", "pw-carol-12", CODE])
t.ok(r.rc == 0 and cli.member("carol") is not None and cli.member("CORP\\Carol") is None,
     "add CORP\\Carol stores carol, the account's name", r.describe())
t.ok("CORP\\Carol is carol in the user database; enrolling carol" in r.err, "and says so", r.err)
r = cli.enroll("Carol", CAROL, "US", ["pw-carol-12", "pw-carol-12", CODE])
t.ok(r.rc != 0 and "already enrolled" in r.err, "add Carol afterwards: carol is already enrolled",
     r.describe())
cli.cleanup()

sys.exit(t.done())
