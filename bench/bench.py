# SPDX-License-Identifier: GPL-3.0-or-later
"""The twofa benchmarks that need a world around them: the Twilio simulator, a private PAM
confdir, a member store, a throwaway local user. One JSON object per line on stdout.

    bench.py login       [--quick] [--count N] [--members M] [--strengths S,S] [--sensitive]
    bench.py network     [--quick] [--count N] [--pause-ms MS]
    bench.py concurrency [--quick] [--levels 1,2,4,16,64] [--logins-per-level N]
    bench.py baseline    [--quick] [--count N]
    bench.py cli         [--quick] [--sizes 10000,100000,1000000]
    bench.py rss         [--quick] [--members N]
    bench.py all         [--quick]      (everything above; the ratios need login + baseline)

Programs come from $TWOFA_BUILDDIR (bench/bench_login, cli/twofa-enroll, pam_twofa.so,
tests/pam/mkmember); the simulator and libpam driver from the test harness (tests/harness,
found through PYTHONPATH=tests, which bench/run sets).
"""

import argparse
import json
import os
import signal
import subprocess
import sys
import tempfile
import time

from harness.paths import BUILDDIR
from harness.sim import Sim
from harness.pam import MKMEMBER, Env, module_path

BENCH_LOGIN = os.path.join(BUILDDIR, "bench", "bench_login")
BENCH_RSS = os.path.join(BUILDDIR, "bench", "bench_rss")
ENROLL = os.path.join(BUILDDIR, "cli", "twofa-enroll")
PASSWORD = "bench-Passw0rd-for-twofa"
STRENGTHS = ("interactive", "moderate", "sensitive")


def emit(obj):
    print(json.dumps(obj, separators=(",", ":")), flush=True)


def log(msg):
    sys.stderr.write("bench: %s\n" % msg)
    sys.stderr.flush()


def percentile(values, p):
    """Nearest rank, as bench_login computes it."""
    if not values:
        return 0.0
    s = sorted(values)
    rank = max(1, -(-len(s) * p // 100))
    return s[int(rank) - 1]


def run_measured(argv, stdin_text="", stdout_path=None):
    """Runs argv under bench_rss; returns (exit code, stderr, peak RSS KiB of that child
    alone, seconds). stdout goes to stdout_path (default: discarded)."""
    with tempfile.NamedTemporaryFile(prefix="twofa-bench-rss-") as report:
        with open(stdout_path or os.devnull, "w") as out:
            r = subprocess.run([BENCH_RSS, report.name] + argv, input=stdin_text, text=True,
                               stdout=out, stderr=subprocess.PIPE)
        with open(report.name) as f:
            figures = json.load(f)
    return r.returncode, r.stderr, figures["rss_kib"], figures["seconds"]


class World:
    """A simulator, an Env (twofa.conf, members.db with M members of one strength) and PAM
    services: twofa (the module alone), permit (pam_permit.so) and, with add_unix, unix."""

    def __init__(self, members, strength="interactive", sim_args=(), sim=None):
        self.sim = sim or Sim(*sim_args)
        self.owns_sim = sim is None
        self.members = members
        self.strength = strength
        # Enough sends per member for a benchmark: the send limit is not what is measured.
        self.env = Env(self.sim, config={
            "password_strength": strength, "send_limit": "100", "send_window": "60",
            "lockout_failures": "0"}, prefix="twofa-bench-")
        self.env.service("twofa", [self.env.twofa_line()])
        self.env.service("permit", ["auth required pam_permit.so"])
        r = subprocess.run([BENCH_LOGIN, "--setup", "--db", self.env.members_db, "--members",
                            str(members), "--strength", strength], input=PASSWORD + "\n",
                           text=True, stderr=subprocess.PIPE)
        if r.returncode != 0:
            raise RuntimeError("bench_login --setup failed: %s" % r.stderr)

    def login_argv(self, service="twofa", label="pam_twofa", count=None, extra=()):
        argv = [BENCH_LOGIN, "--confdir", self.env.confdir, "--service", service, "--label", label,
                "--members", str(self.members), "--sim-url", self.sim.url, "--ca", self.sim.ca,
                "--strength", self.strength]
        if count is not None:
            argv += ["--count", str(count)]
        return argv + list(extra)

    def run_login(self, argv):
        r = subprocess.run(argv, input=PASSWORD + "\n", text=True, stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE)
        if r.returncode != 0:
            raise RuntimeError("%s failed (%d): %s" % (" ".join(argv[:6]), r.returncode,
                                                       r.stderr[-2000:]))
        return [json.loads(l) for l in r.stdout.splitlines() if l.startswith("{")]

    def close(self):
        self.env.cleanup()
        if self.owns_sim:
            self.sim.stop()


# -- benchmarks -------------------------------------------------------------------------

def bench_login(a, results):
    """Latency breakdown per password_strength (bench_login --parts), module_overhead."""
    strengths = a.strengths.split(",")
    for strength in STRENGTHS:
        if strength not in strengths:
            emit({"bench": "login_skipped", "module": "pam_twofa", "strength": strength,
                  "reason": "not requested (--strengths); sensitive costs ~1 GiB and seconds "
                            "per login, so the quick and default runs leave it out"})
    sim = Sim()
    try:
        for strength in strengths:
            count = a.count
            if strength == "sensitive":
                count = a.sensitive_count
            elif strength == "moderate" and a.moderate_count is not None:
                count = a.moderate_count
            w = World(a.members, strength, sim=sim)
            try:
                log("login: %d logins, %s" % (count, strength))
                for obj in w.run_login(w.login_argv(count=count, extra=[
                        "--parts", "--config", w.env.config_path])):
                    results.append(obj)
                    emit(obj)
            finally:
                w.close()
    finally:
        sim.stop()


def network_run(w, count, pause_ms, name, keepalive):
    before = w.sim.stats()
    objs = w.run_login(w.login_argv(count=count, extra=[
        "--warmup", "0", "--pause-ms", str(pause_ms)]))
    after = w.sim.stats()
    total = next(o for o in objs if o["bench"] == "login_total")
    d = {k: after[k] - before[k] for k in ("requests", "connections", "tls_handshakes")}
    logins = total["logins"]
    # Not the module's: the driver's own outbox reads (their requests are not counted, as
    # /_sim/ requests, but their connections and handshakes are) and the connection of
    # the second stats() call.
    ours = total["driver_connections"] + 1
    obj = {"bench": name, "module": "pam_twofa", "logins": logins,
           "failures": total["failures"], "keepalive_s": keepalive, "pause_ms": pause_ms,
           "requests_per_login": d["requests"] / logins,
           "connections_per_login": (d["connections"] - ours) / logins,
           "tls_handshakes_per_login": (d["tls_handshakes"] - ours) / logins,
           "login_p50_ms": total["p50_ms"]}
    # The module's side (bench_login asks libssl of each new connection): the simulator
    # counts handshakes but cannot tell a resumed session from a full handshake.
    # Only while the module talked to Twilio itself (before the server of issue 12).
    client = next((o for o in objs if o["bench"] == "login_server_wait"), None)
    for k in ("new_connections_per_login", "tls_full_handshakes_per_login",
              "tls_resumed_per_login"):
        if client is not None:
            obj["client_" + k] = client[k]
    emit(obj)
    return obj


def bench_network(a, results):
    """Requests, connections, TLS handshakes per successful login, from the simulator's
    counters; then with a user slower than the server's keep-alive."""
    w = World(max(a.count, 2))
    try:
        log("network: %d logins" % a.count)
        results.append(network_run(w, a.count, 0, "network_per_login", 30))
    finally:
        w.close()
    w = World(max(a.slow_count, 2), sim_args=("--keepalive", "1"))
    try:
        log("network: %d logins with a %d ms pause, keep-alive 1 s" % (a.slow_count, a.pause_ms))
        results.append(network_run(w, a.slow_count, a.pause_ms, "network_keepalive_expired", 1))
    finally:
        w.close()


def bench_concurrency(a, results):
    """P parallel processes of PAM logins (password_strength interactive)."""
    levels = [int(x) for x in a.levels.split(",")]
    members = max(levels) * max(1, a.logins_per_level // min(levels)) + 1
    w = World(members)
    try:
        for p in levels:
            per_proc = max(1, -(-a.logins_per_level // p))
            start_at = time.time() + 2.0 + 0.15 * p  # after every process has warmed up
            log("concurrency: %d processes x %d logins" % (p, per_proc))
            procs = []
            for k in range(p):
                argv = w.login_argv(count=per_proc, extra=[
                    "--raw", "--first", str(k * per_proc), "--start-at", "%.3f" % start_at])
                procs.append(subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                              stderr=subprocess.PIPE, text=True))
            for proc in procs:
                proc.stdin.write(PASSWORD + "\n")
                proc.stdin.close()
            raws, failures = [], 0
            for proc in procs:
                out = proc.stdout.read()
                err = proc.stderr.read()
                if proc.wait() != 0:
                    failures += 1
                    log("concurrency: a process failed: %s" % err[-500:])
                raws += [json.loads(l) for l in out.splitlines() if l.startswith("{")]
            lat = [x for r in raws for x in r["auth_ms"]]
            lock_read = [x for r in raws for x in r["lock_wait_read_ms"]]
            lock_write = [x for r in raws for x in r["lock_wait_write_ms"]]
            span = max(r["end_unix"] for r in raws) - min(r["start_unix"] for r in raws)
            obj = {"bench": "concurrency", "module": "pam_twofa", "strength": "interactive",
                   "processes": p, "logins": len(lat),
                   "failures": failures + sum(r["failures"] for r in raws),
                   "seconds": round(span, 3), "per_sec": round(len(lat) / span, 2),
                   "p50_ms": percentile(lat, 50), "p99_ms": percentile(lat, 99),
                   "lock_wait_read_p50_ms": percentile(lock_read, 50),
                   "lock_wait_read_p99_ms": percentile(lock_read, 99),
                   "lock_wait_write_p99_ms": percentile(lock_write, 99)}
            results.append(obj)
            emit(obj)
    finally:
        w.close()


class LocalUser:
    """A throwaway local user with a password, removed at cleanup (also at exit)."""

    def __init__(self):
        self.name = "twofab%d" % (os.getpid() % 100000)
        subprocess.run(["userdel", "-r", self.name], stdout=subprocess.DEVNULL,
                       stderr=subprocess.DEVNULL)
        subprocess.run(["useradd", "--no-create-home", "--shell", "/usr/sbin/nologin",
                        self.name], check=True)
        self.present = True
        import atexit
        atexit.register(self.remove)
        subprocess.run(["chpasswd"], input="%s:%s\n" % (self.name, PASSWORD), text=True,
                       check=True)

    def remove(self):
        if self.present:
            self.present = False
            subprocess.run(["userdel", self.name], stdout=subprocess.DEVNULL,
                           stderr=subprocess.DEVNULL)


def bench_baseline(a, results):
    """The same driver with pam_permit.so and with pam_unix.so against a local user."""
    w = World(2)
    user = None
    try:
        log("baseline: pam_permit, %d logins" % a.count)
        for obj in w.run_login(w.login_argv("permit", "pam_permit", a.count,
                                            ["--user", "nobody"])):
            results.append(obj)
            emit(obj)
        user = LocalUser()
        w.env.service("unix", ["auth required pam_unix.so"])
        log("baseline: pam_unix, %d logins" % a.count)
        for obj in w.run_login(w.login_argv("unix", "pam_unix", a.count, ["--user", user.name])):
            results.append(obj)
            emit(obj)
    finally:
        if user is not None:
            user.remove()
        w.close()


def ratios(results):
    """twofa / pam_unix and twofa / pam_permit, from the login_total lines of this run."""
    totals = {}
    for o in results:
        if o.get("bench") == "login_total":
            totals[o["module"] + ("/" + o["strength"] if "strength" in o else "")] = o
    base = totals.get("pam_unix")
    if base is None:
        return
    for key, o in sorted(totals.items()):
        if not key.startswith("pam_twofa"):
            continue
        emit({"bench": "baseline_ratio", "numerator": key, "denominator": "pam_unix",
              "p50_ratio": round(o["p50_ms"] / base["p50_ms"], 2),
              "p99_ratio": round(o["p99_ms"] / base["p99_ms"], 2),
              "twofa_p50_ms": o["p50_ms"], "pam_unix_p50_ms": base["p50_ms"]})


def export_line(env):
    """One exported member line with a real Argon2id hash (made by the module's password
    unit through mkmember), to be replicated by make_import."""
    env.add_member("template", PASSWORD, "+447700900000", country="GB")
    r = subprocess.run([ENROLL, "--config", env.config_path, "export"], stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE, text=True)
    if r.returncode != 0:
        raise RuntimeError("twofa-enroll export failed: %s" % r.stderr)
    line = json.loads(r.stdout.splitlines()[0])
    for k in ("last_login", "failures", "locked_until"):
        line.pop(k, None)
    subprocess.run([ENROLL, "--config", env.config_path, "remove", "template", "--yes"],
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True)
    return line


def make_import(path, template, n):
    with open(path, "w") as f:
        for i in range(n):
            template["user"] = "user%07d" % i
            template["phone"] = "+447%09d" % i
            f.write(json.dumps(template, separators=(",", ":")) + "\n")


def enroll(env, args, stdout_path=None):
    code, err, rss, seconds = run_measured([ENROLL, "--config", env.config_path] + args,
                                           stdout_path=stdout_path)
    if code != 0:
        raise RuntimeError("twofa-enroll %s failed (%d): %s" % (" ".join(args), code, err[-500:]))
    return rss, seconds


def bench_cli(a, results):
    """import of pre-hashed records, list and export on stores of each size."""
    sim = Sim()
    try:
        for n in [int(x) for x in a.sizes.split(",")]:
            env = Env(sim, prefix="twofa-bench-cli-")
            try:
                template = export_line(env)
                path = os.path.join(env.dir, "import.jsonl")
                make_import(path, template, n)
                log("cli: import/list/export of %d members" % n)
                rss, s = enroll(env, ["import", path])
                emit({"bench": "cli_import", "members": n, "seconds": round(s, 3),
                      "per_sec": round(n / s, 1), "rss_kib": rss,
                      "file_bytes": os.path.getsize(env.members_db),
                      "input_bytes": os.path.getsize(path)})
                os.unlink(path)
                rss, s = enroll(env, ["list"])
                emit({"bench": "cli_list", "members": n, "seconds": round(s, 3), "rss_kib": rss})
                results.append({"bench": "cli_list", "members": n, "rss_kib": rss})
                rss, s = enroll(env, ["export"])
                emit({"bench": "cli_export", "members": n, "seconds": round(s, 3),
                      "per_sec": round(n / s, 1), "rss_kib": rss})
            finally:
                env.cleanup()
    finally:
        sim.stop()


def bench_rss(a, results):
    """Peak RSS of one whole process doing one authentication (bench_login --count 1
    --warmup 0), twofa and pam_unix for comparison."""
    w = World(2)
    user = None
    try:
        code, err, rss, _ = run_measured(w.login_argv(count=1, extra=["--warmup", "0"]),
                                         PASSWORD + "\n")
        if code != 0:
            raise RuntimeError("bench_login failed: %s" % err)
        emit({"bench": "rss_one_login", "module": "pam_twofa", "strength": "interactive",
              "rss_kib": rss})
        code, err, rss, _ = run_measured(w.login_argv("permit", "pam_permit", 1, [
            "--warmup", "0", "--user", "nobody"]), PASSWORD + "\n")
        emit({"bench": "rss_one_login", "module": "pam_permit", "rss_kib": rss})
        user = LocalUser()
        w.env.service("unix", ["auth required pam_unix.so"])
        code, err, rss, _ = run_measured(w.login_argv("unix", "pam_unix", 1, [
            "--warmup", "0", "--user", user.name]), PASSWORD + "\n")
        emit({"bench": "rss_one_login", "module": "pam_unix", "rss_kib": rss})
    finally:
        if user is not None:
            user.remove()
        w.close()


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("what", choices=["login", "network", "concurrency", "baseline", "cli", "rss",
                                     "all"])
    ap.add_argument("--quick", action="store_true", help="small sizes: proves it runs")
    ap.add_argument("--count", type=int, help="logins per measurement (200; quick 20)")
    ap.add_argument("--members", type=int, help="members in the login store (1000; quick 50)")
    ap.add_argument("--strengths", help="interactive,moderate (add sensitive for ~1 GiB Argon2id)")
    ap.add_argument("--moderate-count", type=int, help="logins at moderate (default --count)")
    ap.add_argument("--sensitive-count", type=int, default=10)
    ap.add_argument("--slow-count", type=int, help="logins slower than the keep-alive (5; quick 2)")
    ap.add_argument("--pause-ms", type=int, default=1500, help="the slow user's pause (1500)")
    ap.add_argument("--levels", help="parallel processes (1,2,4,16,64; quick 1,4)")
    ap.add_argument("--logins-per-level", type=int, help="logins per level (192; quick 8)")
    ap.add_argument("--sizes", help="store sizes for the CLI (10000,100000,1000000; quick 1000)")
    a = ap.parse_args()
    q = a.quick
    a.count = a.count or (20 if q else 200)
    a.members = a.members or (50 if q else 1000)
    a.strengths = a.strengths or ("interactive" if q else "interactive,moderate")
    a.slow_count = a.slow_count or (2 if q else 5)
    a.levels = a.levels or ("1,4" if q else "1,2,4,16,64")
    a.logins_per_level = a.logins_per_level or (8 if q else 192)
    a.sizes = a.sizes or ("1000" if q else "10000,100000,1000000")
    for prog in (BENCH_LOGIN, BENCH_RSS, ENROLL, MKMEMBER):
        if not os.path.exists(prog):
            sys.exit("bench: %s is not built" % prog)
    if module_path() is None:
        sys.exit("bench: pam_twofa.so is not built")
    # A TERM (make check's timeout, a kill) still runs the atexit clean-ups: the
    # simulator stops, temp dirs and the throwaway user go.
    signal.signal(signal.SIGTERM, lambda signum, frame: sys.exit(128 + signum))
    results = []
    steps = {"login": bench_login, "network": bench_network, "concurrency": bench_concurrency,
             "baseline": bench_baseline, "cli": bench_cli, "rss": bench_rss}
    for name in (steps if a.what == "all" else [a.what]):
        steps[name](a, results)
    if a.what in ("all", "baseline"):
        ratios(results)


if __name__ == "__main__":
    main()
