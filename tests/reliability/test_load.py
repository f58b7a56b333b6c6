#!/usr/bin/python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""Load and concurrency (issue 7): parallel PAM transactions (one pam_driver process each,
like sshd) against the simulator while twofa-enroll adds, re-phones and removes other
members. Short by default (16 workers for 10 s); TWOFA_LONG=1 runs 64 workers for 60 s
(TWOFA_LOAD_WORKERS / TWOFA_LOAD_SECONDS override either).

Each worker owns two members and logs in with the right code (a success) or a wrong code
(one failure, max_tries=1); every worker also types wrong passwords for one shared member,
all at once. Afterwards, exactly:
- no login failed because of a lock (no PAM_SERVICE_ERR, no lock or busy line in the log),
  no twofa-enroll command failed;
- each own member's failures = wrong codes since its last success, its last_login lies
  within its last successful run; the shared member's failures = every wrong password;
- db check passes;
- send limits hold exactly: a burst of parallel logins for one member sends exactly
  send_limit codes and refuses the rest with PAM_MAXTRIES.
Lock waits are bounded: while a process holds the exclusive lock on members.db.lock a
login fails closed (PAM_SERVICE_ERR) within the store's deadline + 2 s."""

import fcntl
import os
import random
import re
import sys
import threading
import time

from harness.paths import SRCDIR
from harness.tap import Tap
from harness.sim import Sim
from harness.pam import DRIVER, FAIL, MKMEMBER, SyslogCapture, module_path, run_pam
from harness.cli import CLI, CODE, Cli
from harness.reliability import LONG, log_problems, require_built, run_programs_bare

run_programs_bare()  # timing is asserted here

t = Tap()
if not require_built(t, DRIVER, MKMEMBER, CLI,
                     module_path() or "pam_twofa/.libs/pam_twofa.so"):
    sys.exit(t.done())

WORKERS = int(os.environ.get("TWOFA_LOAD_WORKERS") or (64 if LONG else 16))
SECONDS = float(os.environ.get("TWOFA_LOAD_SECONDS") or (60 if LONG else 10))
PASSWORD = "load test pw"
SEND_LIMIT = 3
with open(os.path.join(SRCDIR, "lib", "store.h")) as f:
    LOCK_DEADLINE = int(re.search(r"TWOFA_STORE_LOCK_TIMEOUT_MS\s+(\d+)L?", f.read()).group(1)) / 1000.0

sim = Sim()
cli = Cli(sim, {"max_tries": "1", "lockout_failures": "0", "send_limit": "100",
                "send_window": "60"}, prefix="twofa-load-")
env = cli.env
os.makedirs(env.dbdir, 0o700, exist_ok=True)
own = {}  # worker -> [(user, number)]
for w in range(WORKERS):
    own[w] = [("w%02dm%d" % (w, k), "+1415555%04d" % (2000 + w * 2 + k)) for k in range(2)]
    for user, number in own[w]:
        env.add_member(user, PASSWORD, number)
SHARED = ("shared", "+14155550999")
env.add_member(*SHARED[:1], PASSWORD, SHARED[1])
env.service("load", [env.twofa_line()])
cap = SyslogCapture(env)

lock = threading.Lock()
problems = []           # what went wrong, for one diagnostic
runs = {"success": 0, "wrong code": 0, "wrong password": 0}
history = {}            # own user -> list of (kind, start, end)
shared_wrong = [0]
stop_at = time.monotonic() + SECONDS


wrong_code = sim.wrong_code_answer


def worker(w):
    rng = random.Random(w)
    while time.monotonic() < stop_at:
        user, number = rng.choice(own[w])
        kind = rng.choice(["success", "wrong code", "wrong password"])
        if kind == "wrong password":
            user, number = SHARED
            answers = ["not the password"]
        elif kind == "success":
            answers = [PASSWORD, sim.code_answer(number)]
        else:
            answers = [PASSWORD, wrong_code(number)]
        start = time.time()
        run = run_pam(env, "load", user, ["auth"], answers=answers, rhost="192.0.2.%d" % (w + 1),
                      syslog=cap, timeout=120)
        end = time.time()
        want = {"success": "PAM_SUCCESS", "wrong code": "PAM_MAXTRIES",
                "wrong password": "PAM_AUTH_ERR"}[kind]
        with lock:
            runs[kind] += 1
            if kind == "wrong password":
                shared_wrong[0] += 1
            else:
                history.setdefault(user, []).append((kind, start, end))
            if not run.clean_exit or run.codes() != [want]:
                problems.append("%s for %s: %s" % (kind, user, run.describe()))


churn_log = []


def churn():
    """twofa-enroll adds a member, moves it to a new number, removes it, over and over."""
    i = 0
    while time.monotonic() < stop_at:
        user = "churn%04d" % i
        first, second = "+1415555%04d" % (6000 + 2 * i), "+1415555%04d" % (6001 + 2 * i)
        steps = [("add", cli.enroll(user, first, "US", ["churn pw 1", "churn pw 1", CODE]))]
        steps.append(("phone", cli.flow(["phone", user, "--phone", second, "--country", "US"], second,
                                        [CODE])))
        steps.append(("remove", cli.run("remove", user, "--yes")))
        for name, r in steps:
            churn_log.append((name, user, r.rc))
            if r.rc != 0:
                with lock:
                    problems.append("twofa-enroll %s %s: %s" % (name, user, r.describe()))
        i += 1


threads = [threading.Thread(target=worker, args=(w,)) for w in range(WORKERS)]
threads.append(threading.Thread(target=churn))
began = time.monotonic()
for th in threads:
    th.start()
for th in threads:
    th.join()
took = time.monotonic() - began
total = sum(runs.values())
time.sleep(0.3)
texts = cap.texts()

t.ok(total > WORKERS, "%d workers ran %d logins in %.0f s (%.1f/s; %d success, %d wrong code, %d wrong "
     "password)" % (WORKERS, total, took, total / took, runs["success"], runs["wrong code"],
                    runs["wrong password"]))
t.ok(not problems, "every login got its expected result and every twofa-enroll command succeeded",
     "\n".join(problems[:5]))
ops = {}
for name, user, rc in churn_log:
    ops[name] = ops.get(name, 0) + 1
t.ok(ops.get("add", 0) >= 1 and ops.get("add") == ops.get("phone") == ops.get("remove"),
     "twofa-enroll churned meanwhile: %r" % ops)
busy = [x for x in texts if re.search(r"lock|busy|store.*(time|wait)|PAM_SERVICE_ERR", x, re.I)]
t.ok(not busy, "no log line about a lock, a busy store or a service error", busy[:5])
t.ok(not log_problems(texts), "all %d log lines are clean" % len(texts))

# Counters add up exactly.
mismatch = []
for w in range(WORKERS):
    for user, number in own[w]:
        hist = sorted(history.get(user, []), key=lambda h: h[1])
        successes = [h for h in hist if h[0] == "success"]
        last = hist.index(successes[-1]) if successes else -1
        want_failures = sum(1 for h in hist[last + 1:] if h[0] == "wrong code")
        st = env.state(user) if hist else {"failures": 0, "last_login": 0}
        if st.get("failures", 0) != want_failures:
            mismatch.append("%s: failures %r, want %d" % (user, st.get("failures"), want_failures))
        if successes:
            lo, hi = int(successes[-1][1]), int(successes[-1][2]) + 1
            if not lo <= st.get("last_login", 0) <= hi:
                mismatch.append("%s: last_login %r not in [%d, %d]" % (user, st.get("last_login"), lo, hi))
        elif st.get("last_login", 0):
            mismatch.append("%s: last_login set without a success" % user)
t.ok(not mismatch, "each member's failures and last_login match its own history exactly",
     "\n".join(mismatch[:10]))
shared = env.state(SHARED[0])
t.eq(shared.get("failures"), shared_wrong[0],
     "%d parallel wrong passwords for one member: none lost" % shared_wrong[0])

r = cli.run("db", "check")
t.ok(r.rc == 0 and "all good" in r.out, "db check passes after the load", r.describe())

# Send limit under a burst: exactly SEND_LIMIT codes (a member with no sends yet).
sim.reset()
BURSTY = ("bursty", "+14155550998")
env.add_member(BURSTY[0], PASSWORD, BURSTY[1])
env.service("limited", [env.twofa_line("send_limit=%d send_window=600" % SEND_LIMIT)])
BURST = max(3 * SEND_LIMIT, min(WORKERS, 24))
burst = []


def burst_login():
    r = run_pam(env, "limited", BURSTY[0], ["auth"], answers=[PASSWORD, FAIL], rhost="192.0.2.200")
    with lock:
        burst.append(r)


threads = [threading.Thread(target=burst_login) for _ in range(BURST)]
for th in threads:
    th.start()
for th in threads:
    th.join()
sent = len(sim.outbox(BURSTY[1]))
t.eq(sent, SEND_LIMIT, "%d parallel logins for one member: exactly send_limit (%d) codes sent"
     % (BURST, SEND_LIMIT))
t.eq(sum(1 for r in burst if r.code("auth") == "PAM_MAXTRIES"), BURST - SEND_LIMIT,
     "the other %d logins are refused with PAM_MAXTRIES" % (BURST - SEND_LIMIT))

# A writer stuck holding the lock: logins fail closed after the deadline.
lock_path = env.members_db + ".lock"
fd = os.open(lock_path, os.O_RDWR | os.O_CREAT, 0o600)
try:
    fcntl.flock(fd, fcntl.LOCK_EX)
    began = time.monotonic()
    run = run_pam(env, "load", "w00m1", ["auth"], answers=[PASSWORD, FAIL], timeout=LOCK_DEADLINE + 30)
    waited = time.monotonic() - began
finally:
    os.close(fd)
t.eq(run.codes(), ["PAM_SERVICE_ERR"], "members.db locked by a stuck writer: the login fails closed")
t.ok(LOCK_DEADLINE - 0.5 <= waited <= LOCK_DEADLINE + 2,
     "it gave up after %.1f s (deadline %.0f s, bound + 2 s)" % (waited, LOCK_DEADLINE))
run = run_pam(env, "load", "w00m1", ["auth"], answers=[PASSWORD, sim.code_answer(own[0][1][1])])
t.eq(run.codes(), ["PAM_SUCCESS"], "once the lock is released, logins work again")

cap.close()
cli.cleanup()
sim.stop()
sys.exit(t.done())
