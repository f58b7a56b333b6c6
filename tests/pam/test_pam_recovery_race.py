#!/usr/bin/python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""One recovery code, many logins at once (issue 14 item 7): exactly one gets in.
  - GDBM: 20 logins of one member on one host type the same code at the same moment
    (a barrier holds every answer until all 20 sit at the recovery prompt, so each has
    checked nothing yet and each read a record that still holds the code): one success,
    the other 19 refused as used, each logged, and the code is gone from members.db;
  - LDAP, two providers (harness.slapd's SlapdPair), hosts of harness.fleet: 10 logins on
    a host reading provider A and 10 on one reading provider B, both writing to A
    (ldap_write_uri): one success across both hosts, 19 refused, and after replication
    both providers hold the other codes only.
Twilio is down for these logins (the simulator's 503 at send): the outage path asks for a
recovery code at once, and no send limit gets in the way. password=none keeps 20 Argon2id
checks off the machine. Under the valgrind variant only the GDBM part runs, with 6 logins
(memcheck on every driver); the LDAP part skips as the fleet suites do. TAP output."""

import json
import os
import sys
import threading

from harness import slapd
from harness.cli import run_cli
from harness.fleet import Host
from harness.pam import FAIL, Env, SyslogCapture, module_path, run_pam
from harness.sim import Sim
from harness.slapd import SlapdPair
from harness.tap import Tap

t = Tap()
if not t.ok(module_path() is not None, "pam_twofa.so is built"):
    sys.exit(t.done())

VALGRIND = bool(os.environ.get("TWOFA_VALGRIND"))
PARALLEL = 6 if VALGRIND else 20
PASSWORD = "race test password"
ALICE = "+14155550141"
UNREACHABLE = "The verification service cannot be reached. Enter a recovery code: "
# Each login reserves a send before it finds Twilio down: room for all of them.
RACE_CONFIG = {"lockout_failures": "0", "max_tries": "3", "send_limit": "100"}


def race(logins, code):
    """Runs logins (a list of (env, service, syslog)) in parallel; each answers code at the
    recovery prompt once all are there, then gives up. The PamRuns."""
    barrier = threading.Barrier(len(logins))
    runs, lock = [], threading.Lock()

    def at_once(kind, text, run):
        if text != UNREACHABLE:
            barrier.abort()  # the others need not wait for this one
            return FAIL
        try:
            barrier.wait(timeout=120)
        except threading.BrokenBarrierError:
            return FAIL
        return code

    def one(env, service, cap):
        r = run_pam(env, service, "alice", ["auth"], answers=[at_once, FAIL], rhost="192.0.2.51",
                    syslog=cap, timeout=180)
        with lock:
            runs.append(r)

    threads = [threading.Thread(target=one, args=login) for login in logins]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    return runs


def outcome(runs, records, n):
    codes = sorted(r.code("auth") or "none" for r in runs)
    texts = [r["message"] for r in records]
    won = [x for x in texts if "result=success reason=recovery code used" in x]
    taken = [x for x in texts if "refused as used: another login took it first" in x]
    return codes, won, taken


def export_codes(config):
    r = run_cli(config, "export")
    return [len(json.loads(l).get("recovery", [])) for l in r.out.splitlines() if '"alice"' in l]


# -- GDBM: one host, 20 logins -------------------------------------------------------------------
sim = Sim()
env = Env(sim, config=RACE_CONFIG, backend="gdbm")
env.add_member("alice", PASSWORD, ALICE)
env.service("race", [env.twofa_line("password=none")])
code = json.loads(run_cli(env.config_path, "recovery", "alice", "--count", "3", "--json").out)[0]
sim.fault("start", "503", count=-1)
cap = SyslogCapture(env)
runs = race([(env, "race", cap)] * PARALLEL, code)
cap.wait_for("x^", timeout=1.0)
codes, won, taken = outcome(runs, cap.lines(), PARALLEL)
t.ok(codes.count("PAM_SUCCESS") == 1 and codes.count("PAM_CONV_ERR") == PARALLEL - 1,
     "GDBM: %d parallel logins with one code, exactly one gets in" % PARALLEL, codes)
t.ok(len(won) == 1 and len(taken) == PARALLEL - 1,
     "one 'recovery code used' line; the %d others logged as refused, used by another login" % (PARALLEL - 1),
     "\n".join(won + taken))
t.ok(all(r.prompts()[-1][1] == "Wrong recovery code. Enter a recovery code (2 tries left): "
         for r in runs if r.code("auth") != "PAM_SUCCESS"), "the losers are told it is a wrong code",
     "\n".join(r.describe() for r in runs[:2]))
t.eq(export_codes(env.config_path), [2], "members.db keeps the two other codes")
cap.close()
env.cleanup()

if VALGRIND:
    print("# the LDAP race skips under memcheck, as the fleet suites do")
    sim.stop()
    sys.exit(t.done())

# -- LDAP: two providers, two hosts, 10 logins each ------------------------------------------------
slapd.require(t, twofa_code=True)
sim.reset()
pair = SlapdPair()
A, B = pair.a, pair.b
admin = Host(sim, A)
on_a = Host(sim, A, config=RACE_CONFIG)
on_b = Host(sim, A, uris=[B.uri], config=dict(RACE_CONFIG, ldap_write_uri=A.uri))
pair.add_user("alice")
r = admin.enroll("alice", PASSWORD, ALICE)
t.ok(r.rc == 0, "twofa-enroll add alice on the admin host (provider A)", r.describe())
r = admin.admin("recovery", "alice", "--count", "3", "--json")
code = json.loads(r.out)[0] if r.rc == 0 else "none"
t.ok(pair.wait_on(B, "(&(uid=alice)(twofaRecoveryCode=*))"), "the codes replicated to B")
sim.fault("start", "503", count=-1)
half = PARALLEL // 2
logins = [(on_a.env, on_a.service("password=none"), on_a.syslog)] * half + \
         [(on_b.env, on_b.service("password=none"), on_b.syslog)] * (PARALLEL - half)
runs = race(logins, code)
on_a.syslog.wait_for("x^", timeout=1.0)
codes, won, taken = outcome(runs, on_a.syslog.lines() + on_b.syslog.lines(), PARALLEL)
t.ok(codes.count("PAM_SUCCESS") == 1 and codes.count("PAM_CONV_ERR") == PARALLEL - 1,
     "LDAP: %d logins on two hosts (reading A and B, writing A) with one code, exactly one gets in"
     % PARALLEL, codes)
t.ok(len(won) == 1 and len(taken) == PARALLEL - 1,
     "one success line in both hosts' logs; %d refused as used" % (PARALLEL - 1), "\n".join(won + taken))


def codes_on(server):
    found = server.search("(uid=alice)", ["twofaRecoveryCode"])
    return len(found[0][1].get("twofaRecoveryCode", [])) if found else -1


t.ok(codes_on(A) == 2 and slapd.wait_for(lambda: codes_on(B) == 2),
     "both providers hold the two other codes (A: %d, B: %d)" % (codes_on(A), codes_on(B)))
for h in (admin, on_a, on_b):
    h.close()
pair.close()
sim.stop()
sys.exit(t.done())
