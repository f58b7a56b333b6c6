#!/usr/bin/python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""grace_period under real libpam (audit finding 5): a grace entry holds for the service,
the kind (rhost or tty) and the exact value it was earned with, and a tty entry only in
the login session that earned it (the session leader's pid and start time), since pty
names are reused. TAP output."""

import os
import shlex
import sys

from harness.tap import Tap
from harness.sim import Sim
from harness.pam import FAIL, Env, module_path, run_pam

# The drivers share this process's session: make it one whose leader is this process, so
# "the same session" holds wherever the suite runs (a make job may lead no session of its
# own). setsid(2) refuses a process group leader: then start again under setsid(1).
if os.getsid(0) != os.getpid():
    try:
        os.setsid()
    except PermissionError:
        os.execvp("setsid", ["setsid", "--wait", sys.executable] + sys.argv)

t = Tap()
if not t.ok(module_path() is not None, "pam_twofa.so is built"):
    sys.exit(t.done())

PASSWORD = "grace test password"
BOB = "+14155550199"
WRAPPER = shlex.split(os.environ.get("TWOFA_PAM_WRAPPER", ""))

sim = Sim()
env = Env(sim, config={"max_tries": "1", "lockout_failures": "0", "grace_period": "3600"})
env.add_member("bob", PASSWORD, BOB)
for name in ("grace-sudo", "grace-su", "grace-sshd"):
    env.service(name, [env.twofa_line()])


def full_login(service, **kw):
    run = run_pam(env, service, "bob", ["auth"], answers=[PASSWORD, sim.code_answer(BOB)], **kw)
    t.ok(run.code("auth") == "PAM_SUCCESS" and len(run.prompts()) == 2,
         "full login on %s" % service, run.describe())


def graced(service, **kw):
    """True if the login succeeds on the password alone (no code prompt); a code prompt
    is answered with a failed conversation."""
    run = run_pam(env, service, "bob", ["auth"], answers=[PASSWORD, FAIL], **kw)
    return run.code("auth") == "PAM_SUCCESS" and len(run.prompts()) == 1, run


def case(earn, then, want, name):
    env.fresh()
    full_login(earn[0], **earn[1])
    got, run = graced(then[0], **then[1])
    t.ok(got == want, name, run.describe())


TTY = {"tty": "/dev/pts/3"}
LONG = "h" * 127

# -- the feature itself: same service, same origin -------------------------------------------
case(("grace-sudo", {"rhost": "192.0.2.30"}), ("grace-sudo", {"rhost": "192.0.2.30"}), True,
     "same service, same rhost: no code within the grace period")
case(("grace-sudo", TTY), ("grace-sudo", TTY), True,
     "same service, same tty, same session: no code within the grace period")
case(("grace-sshd", {"rhost": "a b"}), ("grace-sshd", {"rhost": "a b"}), True,
     "an rhost with a space matches itself")
case(("grace-sshd", {"rhost": LONG + "X"}), ("grace-sshd", {"rhost": LONG + "X"}), True,
     "a 128-byte rhost matches itself")

# -- the audit's reproductions: each got grace before -----------------------------------------
case(("grace-sudo", TTY), ("grace-su", TTY), False,
     "a full login on grace-sudo /dev/pts/3 gives grace-su on /dev/pts/3 no grace")
case(("grace-sudo", TTY), ("grace-sudo", {"rhost": "/dev/pts/3"}), False,
     "rhost '/dev/pts/3' does not match tty /dev/pts/3")
case(("grace-sshd", {"rhost": "/dev/pts/3"}), ("grace-sshd", TTY), False,
     "tty /dev/pts/3 does not match rhost '/dev/pts/3'")
case(("grace-sshd", {"rhost": "a b"}), ("grace-sshd", {"rhost": "a_b"}), False,
     "rhost 'a b' gives 'a_b' no grace (no sanitised key)")
case(("grace-sshd", {"rhost": LONG + "X"}), ("grace-sshd", {"rhost": LONG + "Y"}), False,
     "128-byte rhosts differing in the last byte: no grace (no truncated key)")
case(("grace-sudo", TTY), ("grace-sudo", dict(TTY, wrapper=["setsid", "--wait"] + WRAPPER)), False,
     "the same tty name in another session (a new session leader): no grace")

# -- a tty whose session cannot be bound gets no grace at all --------------------------------
# In a new PID namespace the session leader is outside it: getsid(2) gives 0.
UNBOUND = ["unshare", "--pid", "--fork", "--mount-proc"] + WRAPPER
env.fresh()
full_login("grace-sudo", tty="/dev/pts/3", wrapper=UNBOUND)
got, run = graced("grace-sudo", tty="/dev/pts/3", wrapper=UNBOUND)
t.ok(not got, "a tty whose session leader cannot be found: no grace, even for the same tty", run.describe())
full_login("grace-sudo", rhost="192.0.2.31", wrapper=UNBOUND)
got, run = graced("grace-sudo", rhost="192.0.2.31", wrapper=UNBOUND)
t.ok(got, "an rhost needs no session: grace there still works", run.describe())

env.cleanup()
sim.stop()
sys.exit(t.done())
