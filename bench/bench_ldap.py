# SPDX-License-Identifier: GPL-3.0-or-later
"""store = ldap against a local slapd (tests/harness/slapd.py: the shipped schema and access
rules, StartTLS with a throwaway CA, 127.0.0.1, back_mdb with uid and twofaUser indexed and
no fsync) holding M members (default 100,000), loaded offline with slapadd. One JSON object
per line on stdout:

    ldap_load        slapadd of the M members
    ldap_lookup      bench/bench_ldap_lookup: member lookups through lib/member_store.h,
                     cold (new connection, StartTLS, bind, one search: the per-call server)
                     and warm (one search on a kept connection: twofad); p50/p99 against the
                     targets p50 < 5 ms, p99 < 20 ms
    ldap_login       a full PAM call through the real module and twofa-server (the libpam
                     driver of tests/pam; pam_permit, then pam_twofa password=none), auth
                     and acct, with store = gdbm and with store = ldap (StartTLS, the same
                     member), per call and through twofad; the stacks take turns
    ldap_login_overhead  ldap minus gdbm (differences of medians) and their ratio
    ldap_login_connections  directory connections a login (auth + acct) opens, per call and
                     through twofad (its pool of warm member stores, server/member_pool.c),
                     counted by a TcpProxy in front of slapd (a separate pass: the proxy is
                     not in the timed path)
    ldap_cli         twofa-enroll list, export and import with store = ldap: wall time and
                     peak RSS of twofa-enroll (bench_rss); list against the target < 10 s in
                     < 100 MiB at 100k; import of N more members (default M) as admin

    bench_ldap.py [--quick] [--members M] [--lookups N] [--logins N] [--import N]

Not part of bench/run --quick (CI): it starts a slapd and loads 100k entries.
"""

import argparse
import json
import os
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from bench import ENROLL, PASSWORD, emit, enroll, export_line, log, percentile  # noqa: E402
from bench_transport import timed_call  # noqa: E402
from harness import slapd as hs  # noqa: E402
from harness.daemon import TWOFAD, Twofad  # noqa: E402
from harness.pam import DRIVER, Env, module_path  # noqa: E402
from harness.paths import BUILDDIR  # noqa: E402
from harness.sim import Sim  # noqa: E402

LOOKUP = os.path.join(BUILDDIR, "bench", "bench_ldap_lookup")
MIB = 1024


def member_ldif(people, i, hash_value):
    name = "bench%07d" % i
    return ("dn: uid=%s,%s\nobjectClass: account\nobjectClass: twofaMember\nuid: %s\n"
            "twofaUser: %s\ntwofaStatus: active\ntwofaChannel: sms\ntwofaVersion: 1\n"
            "twofaCreated: 20260101000000Z\ntwofaUpdated: 20260101000000Z\n"
            "twofaPhone: +447%09d\ntwofaCountry: GB\ntwofaPasswordHash: %s\n\n"
            % (name, people, name, name, i, hash_value))


def ldap_env(sim, s, extra=None):
    """An Env whose twofa.conf has store = ldap on s (StartTLS, both identities)."""
    keys = s.twofa_keys(tls="starttls", admin=True)
    keys.update({"send_limit": "100", "send_window": "60", "lockout_failures": "0",
                 "ldap_timeout": "5"})
    keys.update(extra or {})
    env = Env(sim, config=keys, prefix="twofa-bench-ldap-")
    run_dir = os.path.join(env.dir, "ldap-run")
    os.mkdir(run_dir, 0o700)
    env.write_config({"ldap_run_dir": run_dir})
    return env


def bench_lookup(a, s, env):
    log("ldap: %d lookups cold and warm over %d members" % (a.lookups, a.members))
    r = subprocess.run([LOOKUP, "--config", env.config_path, "--members", str(a.members),
                        "--count", str(a.lookups)], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                       text=True, env=dict(os.environ, LDAPNOINIT="1"))
    if r.returncode != 0:
        raise RuntimeError("bench_ldap_lookup failed: %s" % r.stderr[-500:])
    for line in r.stdout.splitlines():
        obj = json.loads(line)
        obj["p50_met"] = obj["p50_ms"] < obj["target_p50_ms"]
        obj["p99_met"] = obj["p99_ms"] < obj["target_p99_ms"]
        emit(obj)


def bench_login(a, sim, lenv, genv):
    user, phone = "bench0000001", "+447000000001"
    genv.add_member(user, PASSWORD, phone, country="GB")
    daemons = {"gdbm": Twofad(genv.config_path), "ldap": Twofad(lenv.config_path)}
    stacks = {"permit": (genv, ["auth required pam_permit.so"], ["account required pam_permit.so"])}
    try:
        for store, env in (("gdbm", genv), ("ldap", lenv)):
            daemons[store].start()
            for transport, args in (("per-call", "daemon=no"),
                                    ("twofad", "daemon=yes socket=" + daemons[store].socket)):
                stacks["%s/%s" % (store, transport)] = (
                    env, ["auth requisite pam_permit.so", env.twofa_line("password=none " + args)],
                    ["account requisite pam_permit.so", env.twofa_line(args, kind="account")])
        for name, (env, auth, acct) in stacks.items():
            env.service(name.replace("/", "-"), auth + acct)
        medians = {}
        for op in ("auth", "acct"):
            log("ldap: %d x %s, %s" % (a.logins, op, ", ".join(stacks)))
            costs = {name: [] for name in stacks}
            for _ in range(a.logins):
                for name, (env, _, _) in stacks.items():
                    costs[name].append(timed_call(env, sim, name.replace("/", "-"), user, op, phone))
            for name in stacks:
                medians[name, op] = percentile(costs[name], 50)
                emit({"bench": "ldap_login", "stack": name, "op": op, "calls": a.logins,
                      "median_ms": round(medians[name, op], 2),
                      "p90_ms": round(percentile(costs[name], 90), 2)})
        for transport in ("per-call", "twofad"):
            for op in ("auth", "acct"):
                g, l = medians["gdbm/" + transport, op], medians["ldap/" + transport, op]
                f = medians["permit", op]
                emit({"bench": "ldap_login_overhead", "transport": transport, "op": op,
                      "calls": a.logins, "ldap_minus_gdbm_ms": round(l - g, 2),
                      "ldap_over_floor_ms": round(l - f, 2), "gdbm_over_floor_ms": round(g - f, 2),
                      "ldap_gdbm_ratio": round((l - f) / (g - f), 2) if g > f else None})
    finally:
        for d in daemons.values():
            d.stop()


def bench_login_connections(a, sim, s, genv):
    """Directory connections per login (auth + acct) through a TcpProxy in front of s."""
    user, phone = "bench0000001", "+447000000001"
    proxy = hs.TcpProxy(s.port)
    env = ldap_env(sim, s, {"ldap_uri": "ldap://127.0.0.1:%d" % proxy.port})
    d = Twofad(env.config_path)
    try:
        d.start()
        logins = max(2, min(a.logins, 5))
        for transport, args in (("per-call", "daemon=no"), ("twofad", "daemon=yes socket=" + d.socket)):
            name = "conn-" + transport
            env.service(name, ["auth requisite pam_permit.so", env.twofa_line("password=none " + args),
                               "account requisite pam_permit.so", env.twofa_line(args, kind="account")])
            before = proxy.accepted
            for _ in range(logins):
                for op in ("auth", "acct"):
                    timed_call(env, sim, name, user, op, phone)
            emit({"bench": "ldap_login_connections", "transport": transport, "logins": logins,
                  "directory_connections": proxy.accepted - before})
    finally:
        d.stop()
        env.cleanup()
        proxy.close()


def bench_cli(a, lenv, template):
    total = a.members
    for cmd in (["list"], ["export"]):
        log("ldap: twofa-enroll %s of %d members" % (cmd[0], total))
        out = os.path.join(lenv.dir, "out")
        rss, s = enroll(lenv, cmd, stdout_path=out)
        lines = sum(1 for _ in open(out))
        os.unlink(out)
        obj = {"bench": "ldap_cli", "command": cmd[0], "members": total, "lines": lines,
               "seconds": round(s, 3), "rss_kib": rss}
        if cmd[0] == "list":
            obj.update(target_seconds=10, target_rss_kib=100 * MIB,
                       met=s < 10 and rss < 100 * MIB)
        emit(obj)
    path = os.path.join(lenv.dir, "import.jsonl")
    with open(path, "w") as f:
        for i in range(a.import_count):
            template["user"] = "imp%07d" % i
            template["phone"] = "+448%09d" % i
            f.write(json.dumps(template, separators=(",", ":")) + "\n")
    log("ldap: twofa-enroll import of %d members (new minimal entries)" % a.import_count)
    rss, s = enroll(lenv, ["import", path])
    os.unlink(path)
    emit({"bench": "ldap_cli", "command": "import", "members": a.import_count,
          "seconds": round(s, 3), "per_sec": round(a.import_count / s, 1), "rss_kib": rss})


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--quick", action="store_true", help="1000 members, a few calls: proves it runs")
    ap.add_argument("--members", type=int)
    ap.add_argument("--lookups", type=int)
    ap.add_argument("--logins", type=int, help="calls per stack and op (at most 24: send_limit)")
    ap.add_argument("--import", dest="import_count", type=int)
    ap.add_argument("--only", default="lookup,login,cli")
    a = ap.parse_args()
    a.members = a.members or (1000 if a.quick else 100000)
    a.lookups = a.lookups or (50 if a.quick else 2000)
    a.logins = a.logins or (3 if a.quick else 15)
    a.import_count = a.import_count if a.import_count is not None else a.members
    for prog in (LOOKUP, DRIVER, ENROLL, TWOFAD):
        if not os.path.exists(prog):
            sys.exit("bench_ldap: %s is not built" % prog)
    if module_path() is None:
        sys.exit("bench_ldap: pam_twofa.so is not built")
    if hs.available() is not None:
        sys.exit("bench_ldap: " + hs.available())
    only = a.only.split(",")
    sim = Sim()
    genv = Env(sim, config={"send_limit": "100", "send_window": "60", "lockout_failures": "0"},
               prefix="twofa-bench-gdbm-")
    s = hs.Slapd(tls=True)
    lenv = None
    try:
        template = export_line(genv)
        hash_value = template["password_hash"]
        log("ldap: slapadd of %d members" % a.members)
        text = "".join(member_ldif(s.people, i, hash_value) for i in range(a.members))
        t0 = time.monotonic()
        s.slapadd(text)
        emit({"bench": "ldap_load", "members": a.members, "seconds": round(time.monotonic() - t0, 3),
              "ldif_bytes": len(text)})
        del text
        lenv = ldap_env(sim, s)
        if "lookup" in only:
            bench_lookup(a, s, lenv)
        if "login" in only:
            bench_login(a, sim, lenv, genv)
            bench_login_connections(a, sim, s, genv)
        if "cli" in only:
            bench_cli(a, lenv, template)
    finally:
        if lenv is not None:
            lenv.cleanup()
        genv.cleanup()
        s.close()
        sim.stop()


if __name__ == "__main__":
    main()
