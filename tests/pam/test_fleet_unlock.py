#!/usr/bin/python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""The admin unlock across a fleet (FreeIPA's krbLastAdminUnlock): two hosts, A (a login
host) and B (an admin host), share the member store (store = ldap, one throwaway slapd)
but each keeps its own state.db. alice, enrolled once (export from GDBM, import on B),
locks herself out on A with wrong passwords; `twofa-enroll unlock alice` run with B's
config writes the unlock time into her directory entry, and A honours it: she logs in on
A again. The unlock does not undo what comes after it: failures made on A after the
unlock still count and lock again, and a later unlock clears them once more.
If no slapd can run here the test FAILS (it does not skip)."""

import os
import sys

from harness.tap import Tap
from harness import slapd as hs
from harness.sim import Sim
from harness.pam import Env, module_path, run_pam
from harness.cli import run_cli

PW = "pw-fleet-unlock"
PHONE = "+14155550161"
RHOST = "192.0.2.61"

t = Tap()
hs.require(t, twofa_code=True)
if not t.ok(module_path() is not None, "pam_twofa.so is built"):
    sys.exit(t.done())

sim = Sim()
with hs.Slapd(tls=False) as s:
    def host(name, admin):
        keys = s.twofa_keys(tls="none", admin=admin)
        env = Env(sim, config=dict(keys, lockout_failures="3", lockout_seconds="900"),
                  prefix="twofa-fleet-%s-" % name)
        run_dir = os.path.join(env.dir, "ldap-run")
        os.mkdir(run_dir, 0o700)
        env.write_config({"ldap_run_dir": run_dir})
        return env

    a = host("a", admin=False)
    b = host("b", admin=True)
    a.service("sshd", [a.twofa_line()])

    # Enrolled once, for the whole fleet: made in a GDBM store, imported through B.
    with Env(sim) as origin:
        origin.add_member("alice", PW, PHONE)
        r = run_cli(origin.config_path, "export")
        t.ok(r.rc == 0 and r.out.count("\n") == 1, "export alice from GDBM", r.describe())
        r = run_cli(b.config_path, "import", "-", input=r.out)
        t.ok(r.rc == 0, "import her into the directory through B", r.describe())

    def login(password, code=True):
        answers = [password, lambda kind, text, run: sim.last_code(PHONE)] if code else [password]
        return run_pam(a, "sshd", "alice", ["auth"], answers=answers, rhost=RHOST).code("auth")

    def fail(n):
        return [login("wrong " + PW, code=False) for _ in range(n)]

    t.eq(login(PW), "PAM_SUCCESS", "alice logs in on A (the member comes from the directory)")
    t.eq(fail(3), ["PAM_AUTH_ERR"] * 3, "three wrong passwords on A")
    t.eq(login(PW, code=False), "PAM_MAXTRIES", "then A locks her out, the right password included")
    t.ok(a.state("alice").get("failures") == 3, "A's state.db counts the three failures", a.state("alice"))
    t.ok(not os.path.exists(b.state_db) or b.state("alice").get("failures", 0) == 0,
         "B's state.db knows nothing of them")

    r = run_cli(b.config_path, "unlock", "alice")
    t.ok(r.rc == 0 and "alice unlocked" in r.out, "twofa-enroll unlock alice, run on B", r.describe())
    entry = s.search("(uid=alice)", ["twofaUnlockedAt"])
    t.ok(entry and entry[0][1].get("twofaUnlockedAt"), "the unlock time is in her directory entry", entry)
    t.eq(login(PW), "PAM_SUCCESS", "A honours it: alice logs in on A again")

    # Failures after the unlock count: the unlock time stays in the entry, and A clears
    # only what it counted before it first saw that time.
    t.eq(fail(2), ["PAM_AUTH_ERR"] * 2, "two wrong passwords on A after the unlock")
    t.ok(a.state("alice").get("failures") == 2, "counted, not voided by the unlock before them",
         a.state("alice"))
    t.eq(fail(1), ["PAM_AUTH_ERR"], "a third")
    t.eq(login(PW, code=False), "PAM_MAXTRIES", "locks her out again: the old unlock did not undo them")

    r = run_cli(b.config_path, "unlock", "alice")
    t.ok(r.rc == 0, "a second unlock on B", r.describe())
    t.eq(login(PW), "PAM_SUCCESS", "clears them on A too")

    # A login host does not write the directory: no re-hash at login (a hash made with
    # other limits stays as it is, with no warning line), and password changes are
    # left to twofa-enroll passwd on an admin host.
    from harness.pam import SyslogCapture
    a.write_config({"password_strength": "moderate"})
    before = s.search("(uid=alice)", ["twofaPasswordHash"])
    log = SyslogCapture(a)
    code = run_pam(a, "sshd", "alice", ["auth"], rhost=RHOST, syslog=log,
                   answers=[PW, lambda kind, text, run: sim.last_code(PHONE)]).code("auth")
    texts = " | ".join(log.texts())
    t.ok(code == "PAM_SUCCESS" and "re-hashed" not in texts and
         s.search("(uid=alice)", ["twofaPasswordHash"]) == before,
         "a hash of other limits is not re-hashed by a login host, and nothing warns", texts)
    a.service("passwd-test", [a.twofa_line(kind="password"), "password required pam_permit.so"])
    run = run_pam(a, "passwd-test", "alice", ["chauthtok"], syslog=log,
                  answers=[PW, "a new password 1", "a new password 1"])
    t.ok(run.code("chauthtok") == "PAM_SUCCESS" and not run.prompts() and
         s.search("(uid=alice)", ["twofaPasswordHash"]) == before and
         "twofa-enroll passwd on an admin host" in " | ".join(log.texts()),
         "a password change on a login host is ignored, with a line saying where it is done",
         run.describe())
    a.cleanup()
    b.cleanup()
sys.exit(t.done())
