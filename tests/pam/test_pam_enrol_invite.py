#!/usr/bin/python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""Self-enrolment with an invite (enroll=invite, issue 15) and the limits of enrolment,
through real libpam: a right invite enrols (echo-off prompt first), a wrong one and an
expired one are refused and counted as failures toward the lockout, a used one is gone;
only an invited user is offered enrolment; two parallel first logins of one user make one
member and stay within the send limit; the user's send_limit counts enrolment sends.
Invites come from twofa-enroll invite, and (expired ones, known codes) from
tests/unit/member_store_tool. Against a slapd too: tests/pam/ldap/test_pam_enrol_invite.sh. TAP output."""

import os
import subprocess
import sys
import threading

from harness.tap import Tap
from harness.sim import Sim
from harness.cli import run_cli
from harness.pam import FAIL, Env, SyslogCapture, module_path, run_pam
from harness.paths import BUILDDIR

t = Tap()
if not t.ok(module_path() is not None, "pam_twofa.so is built"):
    sys.exit(t.done())

TOOL = os.path.join(BUILDDIR, "tests", "unit", "member_store_tool")
INVITE = "0123-4567-89AB-CDEF"
OTHER = "7KQ2-M9XD-4TAC-HV1B"
GB, GB_TYPED = "+447400123456", "07400 123456"
ENROLMENT_CODE = "Enrolment code: "
COUNTRY = "Country (ISO code, e.g. GB; ? lists them): "

sim = Sim()
env = Env(sim, config={"max_tries": "3", "lockout_failures": "2", "lockout_seconds": "600"},
          slapd_options={"enrol": True})
cap = SyslogCapture(env)
if env.slapd is not None:  # TWOFA_TEST_BACKEND=ldap: the users' entries, as on a real site
    for person in ("gina", "hugo", "ivan", "jack", "kate", "lena", "mona"):
        env._ldap_user(person)


def tool(*args):
    r = subprocess.run([TOOL, env.config_path, "admin"] + list(args), stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE, text=True)
    return (r.stdout.strip().splitlines() or ["(nothing) " + r.stderr.strip()])[-1]


def invite(user, seconds=3600, code=INVITE):
    t.eq(tool("invite", user, code, str(seconds)), "ok invited", "%s invited" % user)


def service(name, args):
    env.service(name, ["auth requisite pam_permit.so", env.twofa_line(args)])
    return name


def login(svc, user, answers, fresh=True, rhost="192.0.2.70"):
    if fresh:
        env.fresh()
    cap.clear()
    run = run_pam(env, svc, user, ["auth"], answers=answers, syslog=cap, rhost=rhost)
    t.ok(run.clean_exit, "driver run for %s ended cleanly" % user, run.describe())
    return run


def decision():
    cap.wait_for(r" result=", timeout=3.0)
    lines = [x for x in cap.texts() if " result=" in x]
    return lines[0] if len(lines) == 1 else "%d decision lines: %r" % (len(lines), lines)


def code_of(to):
    return lambda kind, text, run: sim.last_code(to)


def enrolled(user):
    m = env.member(user)
    return m is not None and m.get("status") != "invited"


def forget(user):
    run_cli(env.config_path, "remove", user, "--yes")


inv = service("enrol-invite", "password=none enroll=invite")
self_svc = service("enrol-self", "password=none enroll=self")

# -- a right invite, issued with twofa-enroll invite --------------------------------------------
r = run_cli(env.config_path, "invite", "gina", "--ttl", "72h", "--json")
t.ok(r.rc == 0, "twofa-enroll invite gina --ttl 72h", r.describe())
issued = r.json()["code"] if r.rc == 0 else INVITE
run = login(inv, "gina", [issued, "GB", GB_TYPED, code_of(GB)])
asked = run.prompts()
m = env.member("gina")
t.ok(run.code("auth") == "PAM_SUCCESS" and [x for k, x in asked][:3] == [ENROLMENT_CODE, COUNTRY, "Phone number: "]
     and asked[0][0] == "PROMPT_ECHO_OFF" and m is not None and m.get("status") == "active",
     "enroll=invite: the enrolment code (echo off), country, phone, code; stored active",
     run.describe() + repr(m))
line = decision()
t.ok("result=success" in line and "with an invite" in line and issued not in " ".join(cap.texts()),
     "the decision says so, and no log line holds the invite", line)

# -- used: the invite went with that write --------------------------------------------------------
forget("gina")
run = login(inv, "gina", [FAIL])
t.ok(run.code("auth") == "PAM_AUTH_ERR" and run.prompts() == [] and env.member("gina") is None,
     "a used invite is gone: removed again, gina is not offered enrolment", run.describe())

# -- wrong and expired invites: refused, counted as failures -------------------------------------
invite("hugo")
env.fresh()
run = login(inv, "hugo", [OTHER], fresh=False)
line = decision()
t.ok(run.code("auth") == "PAM_AUTH_ERR" and len(run.prompts()) == 1 and sim.outbox() == []
     and "wrong, used or expired enrolment code" in line,
     "a wrong invite: refused at once, nothing sent", run.describe() + "\n" + line)
t.ok(any("The enrolment code is wrong" in x for x in run.texts()), "the user is told", run.describe())
run = login(inv, "hugo", ["not-even-a-code"], fresh=False)
run = login(inv, "hugo", [INVITE, "GB", GB_TYPED, code_of(GB)], fresh=False)
t.ok(run.code("auth") == "PAM_MAXTRIES" and run.prompts() == [] and not enrolled("hugo"),
     "two wrong invites (lockout_failures=2): locked out, even the right one is not asked",
     run.describe() + "\n" + decision())
run = login(inv, "hugo", [INVITE, "GB", GB_TYPED, code_of(GB)], rhost="192.0.2.71")
t.ok(run.code("auth") == "PAM_SUCCESS" and enrolled("hugo"),
     "from another source (a fresh state): the right invite still works", run.describe())
forget("hugo")

invite("ivan", seconds=-60)
run = login(inv, "ivan", [INVITE, "GB", GB_TYPED, code_of(GB)])
t.ok(run.code("auth") == "PAM_AUTH_ERR" and len(run.prompts()) == 1 and not enrolled("ivan")
     and sim.outbox() == [], "an expired invite: refused at its prompt, nothing sent or stored",
     run.describe())
tool("revoke", "ivan")

# -- who is offered enrolment ------------------------------------------------------------------
run = login(inv, "jack", [FAIL])
t.ok(run.code("auth") == "PAM_AUTH_ERR" and run.prompts() == [],
     "enroll=invite: a user without an invite is not enrolled, no prompt", run.describe())
invite("kate")
run = login(self_svc, "kate", [FAIL])
t.eq([x for k, x in run.prompts()], [ENROLMENT_CODE],
     "enroll=self: an invited user is asked for the invite (its write consumes it)")
run = login(self_svc, "kate", [""])
t.ok(not enrolled("kate") and "declined at the enrolment code prompt" in decision(),
     "an empty invite declines", decision())
run = login(self_svc, "kate", [INVITE, "GB", GB_TYPED, code_of(GB)])
t.ok(run.code("auth") == "PAM_SUCCESS" and enrolled("kate"),
     "enroll=self with the invite: enrolled, the invite consumed", run.describe() + decision())
forget("kate")

# -- two parallel first logins of one user ----------------------------------------------------
env.write_config({"send_limit": "3", "lockout_failures": "0"})
env.fresh()
both_sent = threading.Barrier(2, timeout=30)


def parallel_code(kind, text, run):
    if text.startswith("Code sent"):
        try:
            both_sent.wait()
        except threading.BrokenBarrierError:
            pass
        return sim.last_code(GB)
    return FAIL


runs = [None, None]


def one(i):
    runs[i] = run_pam(env, self_svc, "lena", ["auth"],
                      answers=["GB", GB_TYPED, parallel_code, FAIL], rhost="192.0.2.8%d" % i)


threads = [threading.Thread(target=one, args=(i,)) for i in range(2)]
for th in threads:
    th.start()
for th in threads:
    th.join()
codes = sorted(r.code("auth") for r in runs)
t.ok(codes.count("PAM_SUCCESS") == 1 and env.member("lena") is not None,
     "two parallel first logins of lena: exactly one logs in, one member stored: %r" % codes,
     "\n---\n".join(r.describe() for r in runs))
t.ok(len(sim.outbox(GB)) <= 3 and len(env.state("lena")["sends"]) <= 3,
     "and the sends stay within send_limit=3 (%d sent)" % len(sim.outbox(GB)))
forget("lena")

# -- enrolment sends count against the user's send_limit -------------------------------------
env.write_config({"send_limit": "2"})
env.fresh()
run = login(self_svc, "mona", ["GB", GB_TYPED, "resend", "resend", FAIL], fresh=False)
asked = [x for k, x in run.prompts()]
t.ok(len(sim.outbox(GB)) == 2 and len(asked) == 5 and asked[4].startswith("Too many codes sent")
     and env.member("mona") is None,
     "send_limit=2: the first send and one resend, the second resend refused in the prompt",
     run.describe())
run = login(self_svc, "mona", ["GB", GB_TYPED, FAIL], fresh=False)
t.ok(run.code("auth") in ("PAM_MAXTRIES", "PAM_AUTH_ERR") and len(sim.outbox(GB)) == 2
     and env.member("mona") is None,
     "the next enrolment finds the limit reached: nothing sent, nothing stored", run.describe())
env.write_config({"send_limit": None})

sys.exit(t.done())
