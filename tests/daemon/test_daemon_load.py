#!/usr/bin/python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""twofad under load (TWOFA_LONG=1; skipped otherwise): 64 parallel root callers for 60 s
(TWOFA_LOAD_WORKERS / TWOFA_LOAD_SECONDS override either), each one pam_driver process
per login through `pam_twofa.so password=none daemon=yes socket=S` against the simulator,
each worker with a member of its own, the right code or a wrong one (max_tries=1) at
random. Afterwards, exactly: logins attempted == successes + wrong codes refused, nothing
else (no PAM_AUTHINFO_UNAVAIL, no connection refused or dropped by twofad); the simulator
sent one code and was asked one check per login; twofad's threads are back to
what they were before the load, its RSS stayed bounded, db check passes. TAP output."""

import os
import random
import sys
import threading
import time

from harness.cli import run_cli
from harness.daemon import Twofad
from harness.pam import DRIVER, Env, module_path, run_pam
from harness.reliability import LONG, require_built, run_programs_bare
from harness.sim import Sim
from harness.tap import Tap

if not LONG:
    print("1..0 # SKIP a long run: TWOFA_LONG=1 runs 64 callers for 60 s through twofad")
    sys.exit(0)
run_programs_bare()  # throughput is measured here

t = Tap()
if not require_built(t, DRIVER, module_path() or "pam_twofa/.libs/pam_twofa.so"):
    sys.exit(t.done())

WORKERS = int(os.environ.get("TWOFA_LOAD_WORKERS") or 64)
SECONDS = float(os.environ.get("TWOFA_LOAD_SECONDS") or 60)
RSS_BOUND_KIB = 64 * 1024  # growth over the idle RSS

sim = Sim()
env = Env(sim, config={"max_tries": "1", "lockout_failures": "0", "send_limit": "100",
                       "send_window": "60"})
members = [("load%02d" % w, "+1415555%04d" % (3000 + w)) for w in range(WORKERS)]
for user, number in members:
    env.add_member(user, "unused: password=none", number)
d = Twofad(env.config_path).start()
env.service("load", [env.twofa_line("password=none daemon=yes socket=" + d.socket)])


def status(field):
    with open("/proc/%d/status" % d.pid) as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    return None


idle_threads, idle_rss = status("Threads"), status("VmRSS")
lock = threading.Lock()
counts = {"attempted": 0, "success": 0, "wrong code": 0}
problems = []
peak = {"threads": idle_threads, "rss": idle_rss}
stop_at = time.monotonic() + SECONDS


def worker(w):
    rng = random.Random(w)
    user, number = members[w]
    while time.monotonic() < stop_at:
        kind = rng.choice(["success", "success", "wrong code"])
        answer = sim.code_answer(number) if kind == "success" else sim.wrong_code_answer(number)
        run = run_pam(env, "load", user, ["auth"], answers=[answer], rhost="192.0.2.%d" % (w + 1),
                      timeout=120)
        want = "PAM_SUCCESS" if kind == "success" else "PAM_MAXTRIES"
        with lock:
            counts["attempted"] += 1
            if run.clean_exit and run.codes() == [want]:
                counts[kind] += 1
            else:
                problems.append("%s for %s: %s" % (kind, user, run.describe()))


def monitor():
    while time.monotonic() < stop_at + 5:
        th, rss = status("Threads"), status("VmRSS")
        with lock:
            peak["threads"] = max(peak["threads"], th or 0)
            peak["rss"] = max(peak["rss"], rss or 0)
        time.sleep(0.2)


threads = [threading.Thread(target=worker, args=(w,)) for w in range(WORKERS)]
mon = threading.Thread(target=monitor)
began = time.monotonic()
for th in threads + [mon]:
    th.start()
for th in threads:
    th.join()
took = time.monotonic() - began
mon.join()
n = counts["attempted"]
t.ok(n > WORKERS, "%d root callers ran %d logins through twofad in %.0f s (%.1f/s): %d success, %d "
     "wrong code" % (WORKERS, n, took, n / took, counts["success"], counts["wrong code"]))
t.ok(not problems and n == counts["success"] + counts["wrong code"],
     "logins attempted (%d) == successes (%d) + wrong codes refused (%d), nothing else"
     % (n, counts["success"], counts["wrong code"]), "\n".join(problems[:5]))
stats = sim.stats()
sent = len(sim.outbox())
t.ok(sent == stats["sends"] == n, "the simulator sent exactly one code per login (%d)" % sent)
t.eq(stats["checks"], n, "and was asked one check per login (%d)" % stats["checks"])
refused = [l for l in d.lines() if "closed:" in l or "refus" in l]
t.ok(not refused, "no connection refused or closed by twofad's limits", "\n".join(refused[:5]))
end = time.time() + 10
while time.time() < end and status("Threads") != idle_threads:
    time.sleep(0.1)
after_threads, after_rss = status("Threads"), status("VmRSS")
t.eq(after_threads, idle_threads, "twofad's threads back to %d after the load (peak %d)"
     % (idle_threads, peak["threads"]))
t.ok(peak["rss"] - idle_rss < RSS_BOUND_KIB, "twofad's RSS bounded: %d KiB idle, %d KiB peak, %d KiB "
     "after (bound: %d KiB growth)" % (idle_rss, peak["rss"], after_rss, RSS_BOUND_KIB))
r = run_cli(env.config_path, "db", "check")
t.ok(r.rc == 0, "db check passes after the load", r.describe())
t.eq(d.stop(), 0, "twofad stops cleanly (SIGTERM)")
t.eq(d.sanitizer_lines(), [], "no sanitizer report from twofad")
env.cleanup()
sim.stop()
sys.exit(t.done())
