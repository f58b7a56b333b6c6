#!/usr/bin/python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""The server's directory path in a few PAM calls, cheap enough to run under memcheck: the
valgrind variant runs every twofa-server and the twofad of this test under memcheck
(scripts/check names it in TWOFA_SERVER_WRAPPER_TESTS; harness.sanitizer fails the test on
any report), while the other fleet and LDAP suites skip there (too slow: harness.fleet).
Every other variant runs it as it is. One host (harness.pam's Env with store = ldap: a
slapd of its own, StartTLS, the login identity for the server), real libpam; the driver
runs bare (the PAM suites memcheck it and the module):
  - auth + acct through the per-call server: connect, StartTLS, bind, search, the code,
    and the member cached on this host;
  - ldap_uri = a refused server, a silent one, slapd: the login goes through slapd;
  - a wrong ldap_bind_password: fails closed (PAM_SERVICE_ERR), no code sent;
  - one login through twofad (store = ldap), stopped afterwards so its leak check runs;
  - slapd killed: alice, cached, logs in from the cache with the warning line; bob, never
    read on this host, fails closed with PAM_AUTHINFO_UNAVAIL naming the server.
If no slapd can run here the test FAILS (it does not skip)."""

import os
import sys
import time

from harness import sanitizer, slapd
from harness.daemon import Twofad
from harness.pam import Env, SyslogCapture, real_server_path, run_pam
from harness.sim import Sim
from harness.slapd import SilentServer, free_port
from harness.tap import Tap

t = Tap()
slapd.require(t, twofa_code=True)
started = time.monotonic()

PASSWORD = "correct horse battery"
ALICE, BOB = "+14155550123", "+14155550124"
CACHED = "using this host's cached record of"
# ldap_timeout: under memcheck a server's connect, StartTLS and bind to slapd alone take
# about 1.7 s (2 cores, loaded), so there the silent server is given 5 s, not 2.
TIMEOUT = 5 if os.environ.get("TWOFA_VALGRIND") else 2

if os.environ.get("TWOFA_VALGRIND") and os.environ.get(sanitizer.WRAPPER_VAR):
    # Only a name in TWOFA_SERVER_WRAPPER_TESTS puts the servers under memcheck: a rename
    # that forgets scripts/check must not pass here unchecked.
    t.ok(sanitizer.server(real_server_path()) != real_server_path(),
         "the valgrind variant runs this test's servers under memcheck")

sim = Sim()
env = Env(sim, backend="ldap", config={"ldap_timeout": str(TIMEOUT)})
s = env.slapd
syslog = SyslogCapture(env)
env.add_member("alice", PASSWORD, ALICE)
env.add_member("bob", PASSWORD, BOB)
services = {}


def login(user, phone, ops=("auth",), args=""):
    """ops for user through real libpam (the driver bare), password=none (the password
    check, memory-hard Argon2id, is the PAM suites' and slow under memcheck): the newest
    code sent to phone; the run, its syslog texts in run.log."""
    args = ("password=none " + args).strip()
    name = services.get(args)
    if name is None:
        name = services[args] = "memcheck%d" % len(services)
        env.service(name, [env.twofa_line(args), env.twofa_line(args, kind="account")])
    syslog.clear()
    start = time.monotonic()
    run = run_pam(env, name, user, list(ops), answers=[sim.code_answer(phone)],
                  rhost="192.0.2.10", syslog=syslog, wrapper=[])
    run.seconds = time.monotonic() - start
    run.log = [r["message"] for r in syslog.lines()]
    return run


def lines(run, word):
    return [l for l in run.log if word in l]


def describe(run):
    return run.describe() + "\nsyslog:\n" + "\n".join(run.log)


run = login("alice", ALICE, ops=("auth", "acct"))
t.ok(run.codes() == ["PAM_SUCCESS", "PAM_SUCCESS"] and not lines(run, CACHED)
     and any("reason=code approved" in l for l in run.log),
     "StartTLS, bind, search: alice logs in from the directory with a code (%.1f s)" % run.seconds,
     describe(run))
t.ok(os.path.exists(os.path.join(env.dbdir, "member-cache.db")), "... and is in this host's member cache now")

silent = SilentServer()
refused = "ldap://127.0.0.1:%d" % free_port()
env.write_config({"ldap_uri": " ".join([refused, silent.uri, s.uri])})
run = login("alice", ALICE)
t.ok(run.codes() == ["PAM_SUCCESS"] and silent.connections >= 1 and not lines(run, CACHED),
     "ldap_uri = refused, silent, slapd: alice logs in through slapd (%.1f s)" % run.seconds, describe(run))
silent.close()
env.write_config({"ldap_uri": s.uri})

env.write_config({"ldap_bind_password": "not the password"})
sent = len(sim.outbox(ALICE))
run = login("alice", ALICE)
t.ok(run.codes() == ["PAM_SERVICE_ERR"] and not lines(run, CACHED) and len(sim.outbox(ALICE)) == sent,
     "a wrong ldap_bind_password fails closed, not from the cache, no code sent (%.1f s)" % run.seconds,
     describe(run))
env.write_config({"ldap_bind_password": s.login_pw})

d = Twofad(env.config_path)
start = time.monotonic()
d.start()
up = time.monotonic() - start
run = login("alice", ALICE, args="daemon=yes socket=" + d.socket)
t.ok(run.codes() == ["PAM_SUCCESS"],
     "through twofad (store = ldap): alice logs in (started in %.1f s, login %.1f s)" % (up, run.seconds),
     describe(run) + "\ntwofad:\n" + d.text())
t.eq(d.stop(), 0, "twofad stops cleanly (its leak check at exit)")

s.kill()
run = login("alice", ALICE)
warned = lines(run, CACHED)
t.ok(run.codes() == ["PAM_SUCCESS"] and len(warned) == 1 and s.uri in warned[0],
     "slapd down: alice, cached, logs in from the cache with one warning naming the server (%.1f s)"
     % run.seconds, describe(run))
run = login("bob", BOB)
decision = lines(run, "result=")
t.ok(run.codes() == ["PAM_AUTHINFO_UNAVAIL"] and not lines(run, CACHED) and decision
     and "no directory server answered" in decision[-1] and s.uri in decision[-1],
     "bob, never read on this host: fails closed (PAM_AUTHINFO_UNAVAIL), naming the server (%.1f s)"
     % run.seconds, describe(run))

syslog.close()
env.cleanup()
t.ok(True, "the memcheck selection took %.1f s" % (time.monotonic() - started))
sys.exit(t.done())
