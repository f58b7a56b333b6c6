#!/usr/bin/python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""Hostile conversation answers and user names through real libpam (issue 7, bad input).

Every answer below goes once to the password prompt and once to the code prompt (after
the right password); every user name once to the whole stack. Asserted each time: the
result is never PAM_SUCCESS (unless the right code was typed: the module trims blanks,
spaces/tabs at both ends and CR/LF at the end, so "  CODE  " and "CODE\\n" pass), the
driver exits cleanly, a wrong password sends nothing, and the syslog lines have no raw
control characters and no printf expansion. Same length in CI and with TWOFA_LONG=1.
With TWOFA_TRANSPORT=daemon (test_hostile_daemon.sh) the same inputs go through one twofad."""

import subprocess
import sys

from harness.tap import Tap
from harness.sim import Sim
from harness.pam import (DRIVER, MKMEMBER, RESULT_LINE, Env, PamRun, RawAnswer, Result,
                         SyslogCapture, module_path, run_pam, transport_daemon)
from harness.reliability import log_problems, require_built, wait_quiet

t = Tap()
if not require_built(t, DRIVER, MKMEMBER,
                     module_path() or "pam_twofa/.libs/pam_twofa.so"):
    sys.exit(t.done())

PASSWORD = "hostile input pw"
ALICE = "+14155550123"
FORMAT = "%n%s%x%p%99999999d"

sim = Sim()
env = Env(sim, config={"max_tries": "1", "lockout_failures": "0", "timeout": "5"})
env.add_member("alice", PASSWORD, ALICE)
env.service("hostile", [env.twofa_line(), env.twofa_line(kind="account")])
cap = SyslogCapture(env)

# (label, answer). 64 KiB: the driver reads lines up to 64 KiB, so the answer is just
# under that (over the module's own 1 KiB cap: refused as a whole).
HOSTILE = [
    ("empty", ""),
    ("NULL", None),
    ("64 KiB", "7" * (64 * 1024 - 64)),
    ("control characters", "\x01\x02\x1b[2J\x07\x7f\r"),
    ("non-UTF-8 bytes", RawAnswer(b"\xff\xfe\xc3\x28\xa0\xa1\x80")),
    ("format string", FORMAT),
    ("a code with inner spaces", "123 456"),
    ("only blanks", " \t \t"),
    ("a newline alone", "\n"),
    ("a 4 KiB code-like digit run", "1" * 4096),
]


def fresh():
    env.fresh()
    cap.clear()


def check_log(label):
    texts = wait_quiet(cap)
    problems = log_problems(texts)
    t.ok(texts and not problems, "%s: logged, no control character or printf expansion" % label,
         "\n".join(problems) or "no log line at all")
    return texts


# -- the password prompt --------------------------------------------------------------------
for label, answer in HOSTILE:
    fresh()
    run = run_pam(env, "hostile", "alice", ["auth"], answers=[answer], rhost="192.0.2.5", syslog=cap)
    t.ok(run.clean_exit, "password %s: the driver exits cleanly" % label, run.describe())
    t.ok(run.code("auth") not in ("PAM_SUCCESS", None), "password %s: refused (%s)"
         % (label, run.code("auth")), run.describe())
    t.eq(sim.outbox(), [], "password %s: nothing sent" % label)
    texts = check_log("password " + label)
    if isinstance(answer, str) and len(answer) >= 4 and answer.strip():
        t.ok(all(answer not in x for x in texts), "password %s: the answer is not logged" % label,
             texts)

# -- the code prompt ------------------------------------------------------------------------
for label, answer in HOSTILE:
    fresh()
    run = run_pam(env, "hostile", "alice", ["auth"], answers=[PASSWORD, answer],
                  rhost="192.0.2.5", syslog=cap)
    t.ok(run.clean_exit, "code %s: the driver exits cleanly" % label, run.describe())
    t.ok(run.code("auth") not in ("PAM_SUCCESS", None), "code %s: refused (%s)"
         % (label, run.code("auth")), run.describe())
    t.ok(len(sim.outbox(ALICE)) == 1, "code %s: exactly one code was sent" % label, sim.outbox())
    check_log("code " + label)

# -- the right code, dressed up ---------------------------------------------------------------
# The module trims spaces and tabs at both ends and CR/LF at the end: these pass.
DRESSED = [("surrounding spaces", "  %s  "), ("tabs", "\t%s\t"), ("a trailing newline", "%s\n"),
           ("a trailing CR LF", "%s\r\n")]
# These are not the code: nothing but blanks is trimmed.
MANGLED = [("inner space", lambda c: c[:3] + " " + c[3:]), ("a leading control character", lambda c: "\x01" + c),
           ("one digit more", lambda c: c + "0"), ("a trailing format string", lambda c: c + "%n")]
for label, template in DRESSED:
    fresh()
    run = run_pam(env, "hostile", "alice", ["auth"], rhost="192.0.2.5",
                  answers=[PASSWORD, lambda k, x, r, tp=template: tp % sim.last_code(ALICE)])
    t.ok(run.clean_exit and run.codes() == ["PAM_SUCCESS"],
         "the right code with %s: PAM_SUCCESS (blanks are trimmed)" % label, run.describe())
for label, mangle in MANGLED:
    fresh()
    run = run_pam(env, "hostile", "alice", ["auth"], rhost="192.0.2.5",
                  answers=[PASSWORD, lambda k, x, r, m=mangle: m(sim.last_code(ALICE))])
    t.ok(run.clean_exit and run.code("auth") not in ("PAM_SUCCESS", None),
         "the code with %s: refused (%s)" % (label, run.code("auth")), run.describe())

# -- hostile user names -------------------------------------------------------------------
USERS = [
    ("empty", ""),
    ("300 bytes", "u" * 300),
    ("with '/'", "../../etc/passwd"),
    ("with ':'", "alice:x:0:0"),
    ("control characters", "ali\x1bce\x07\r\x7f"),
    ("a newline (log injection)", "alice\nFAKE result=success"),
    ("format string", FORMAT),
    ("non-UTF-8", "al\udcffi\udcc3ce"),  # surrogateescape: raw 0xff, 0xc3 in argv
]


def run_bytes(user):
    """run_pam for a user name that is not UTF-8: harness.pam reads the driver's output as
    strict UTF-8 and the driver echoes PAM_USER back raw, so this one run feeds the
    answers up front (unknown user: a password prompt only) and reads bytes."""
    argv = cap.wrap([DRIVER, "--confdir", env.confdir, "--service", "hostile",
                     "--user", user, "--rhost", "192.0.2.5", "--op", "auth", "--op", "acct"])
    p = subprocess.run(argv, input=("ANSWER %s\nFAIL\n" % PASSWORD).encode(), timeout=60,
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    run = PamRun()
    run.returncode = p.returncode
    for line in p.stdout.decode("utf-8", "replace").splitlines():
        run.lines.append(line)
        m = RESULT_LINE.match(line)
        if m:
            run.results.append(Result(m.group(1), m.group(2), int(m.group(3)), m.group(4)))
        run.ended = run.ended or line == "END"
    run.stderr = p.stderr.decode("utf-8", "replace")
    return run


for label, user in USERS:
    fresh()
    if label == "non-UTF-8":
        run = run_bytes(user)
    else:
        run = run_pam(env, "hostile", user, ["auth", "acct"], answers=[PASSWORD, sim.code_answer(ALICE)],
                      rhost="192.0.2.5", syslog=cap)
    t.ok(run.clean_exit, "user %s: the driver exits cleanly" % label, run.describe())
    t.ok("PAM_SUCCESS" not in run.codes() and len(run.codes()) == 2,
         "user %s: auth and acct refused (%s)" % (label, run.codes()), run.describe())
    t.eq(sim.outbox(), [], "user %s: nothing sent" % label)
    texts = check_log("user " + label)
    if label == "format string":
        t.ok(any(FORMAT in x for x in texts), "user format string: logged verbatim, not expanded",
             texts)
    if label.startswith("a newline"):
        t.ok(not any(x.startswith("FAKE") for x in texts),
             "user with a newline: cannot forge a second log line", texts)

d = transport_daemon(env.config_path)
if d is not None:
    t.ok(d.proc.poll() is None and not d.sanitizer_lines(),
         "TWOFA_TRANSPORT=daemon: one twofad (pid %d) served the suite and is still up, with "
         "no sanitizer report" % d.pid, d.text()[-2000:])
cap.close()
env.cleanup()
sim.stop()
sys.exit(t.done())
