#!/usr/bin/python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""Logins through twofad under real libpam (tests/pam/pam_driver via harness.pam), with
daemon=yes socket=PATH: the right password and code succeed and a wrong password sends
nothing; logins one after the other share one connection to Twilio (per call, each opens
its own); root in a sandbox without network and with / read-only (polkit's helper) is
served through the socket; a uid holding idle connections does not keep a login out; twofad stopped, or
killed at the code prompt, fails closed (PAM_AUTHINFO_UNAVAIL, nullok too); daemon=auto
takes per call for a root caller when the socket is absent, and when it is there but dead
with a LOG_WARNING line; SIGTERM with a call stuck on Twilio ends twofad within its 3 s
wait. TAP output."""

import os
import shlex
import signal
import sys
import threading
import time

from harness.daemon import Holder, Twofad
from harness.pam import Env, SyslogCapture, module_path, run_pam
from harness.sim import Sim
from harness.tap import Tap

PASSWORD = "correct horse battery"
ALICE = "+14155550123"
IDLE_UID = 64103
N = 5

t = Tap()
if not t.ok(module_path() is not None, "pam_twofa.so is built"):
    sys.exit(t.done())
sim = Sim()
env = Env(sim, config={"max_tries": "3", "lockout_failures": "0"})
env.add_member("alice", PASSWORD, ALICE)
d = Twofad(env.config_path).start()


def service(name, args):
    env.service(name, [env.twofa_line(args), env.twofa_line(args, kind="account")])
    return name


via = service("via-twofad", "daemon=yes socket=" + d.socket)
per_call = service("per-call", "daemon=no")
code = sim.code_answer(ALICE)


def login(svc, answers, user="alice", ops=("auth", "acct"), **kw):
    return run_pam(env, svc, user, list(ops), answers=answers, rhost="192.0.2.40", **kw)


def api_connections():
    """Distinct connections behind the API requests since the last reset."""
    return len({q["connection_id"] for q in sim.requests() if not q["path"].startswith("/_sim/")})


env.fresh()
run = login(via, [PASSWORD, code])
t.ok(run.codes() == ["PAM_SUCCESS", "PAM_SUCCESS"], "through twofad: right password and code succeed",
     run.describe())
t.eq([(e["to"], e["channel"]) for e in sim.outbox()], [(ALICE, "sms")], "one SMS sent")
env.fresh()
run = login(via, ["not the password"], ops=("auth",))
t.eq(run.codes(), ["PAM_AUTH_ERR"], "a wrong password: PAM_AUTH_ERR")
t.eq(sim.stats()["requests"], 0, "and Twilio is not asked")

# -- warm connections ------------------------------------------------------------------------
env.fresh()
runs = [login(via, [PASSWORD, code]) for _ in range(N)]
t.ok(all(r.codes() == ["PAM_SUCCESS", "PAM_SUCCESS"] for r in runs), "%d logins through twofad" % N,
     "\n".join(r.describe() for r in runs if r.codes() != ["PAM_SUCCESS", "PAM_SUCCESS"]))
sends = [q for q in sim.requests() if q["op"] in ("start", "check")]
t.eq(len(sends), 2 * N, "%d sends and %d checks" % (N, N))
t.eq(api_connections(), 1, "all on 1 connection to Twilio: the logins after the first open none")
env.fresh()
runs = [login(per_call, [PASSWORD, code]) for _ in range(N)]
t.ok(all(r.codes() == ["PAM_SUCCESS", "PAM_SUCCESS"] for r in runs), "%d logins per call" % N)
t.eq(api_connections(), N, "per call, each login opens its own connection (%d)" % N)

# -- a polkit-like sandbox: no network, / read-only -------------------------------------
SANDBOX = ["unshare", "--net", "--mount", "--propagation", "private", "sh", "-c",
           'mount --bind / / && mount -o remount,bind,ro / && exec "$@"', "sandbox"]
wrapper = SANDBOX + shlex.split(os.environ.get("TWOFA_PAM_WRAPPER", ""))
env.fresh()
run = login(via, [PASSWORD, code], wrapper=wrapper)
t.ok(run.codes() == ["PAM_SUCCESS", "PAM_SUCCESS"],
     "root in a sandbox without network and with / read-only (as polkit's helper): served "
     "through twofad's socket", run.describe())
env.fresh()
run = login(per_call, [PASSWORD, code], wrapper=wrapper)
t.ok(run.code("auth") != "PAM_SUCCESS" and sim.outbox() == [],
     "the same login per call cannot work there (%s), and sends nothing" % run.code("auth"),
     run.describe())

# -- a user's idle connections -------------------------------------------------------------
holder = Holder(d.socket, 12, IDLE_UID)
t.eq(holder.open, 8, "uid %d holds 8 idle connections (4 more were refused)" % IDLE_UID)
env.fresh()
run = login(via, [PASSWORD, code])
t.ok(run.codes() == ["PAM_SUCCESS", "PAM_SUCCESS"], "root's login is served meanwhile", run.describe())
holder.close()

# -- twofad gone: never open ---------------------------------------------------------------
log = SyslogCapture(env)


def kill_at_prompt(kind, text, r):
    if kind == "PROMPT_ECHO_OFF":
        return PASSWORD
    d.send_signal(signal.SIGKILL)
    d.proc.wait(10)
    return sim.last_code(ALICE)


env.fresh()
run = login(via, kill_at_prompt, ops=("auth",))
t.ok(run.codes() == ["PAM_AUTHINFO_UNAVAIL"], "twofad killed at the code prompt: PAM_AUTHINFO_UNAVAIL",
     run.describe())
t.ok(os.path.exists(d.socket), "its socket stays behind, dead")
nullok = service("nullok", "daemon=yes nullok socket=" + d.socket)
for user in ("alice", "nobody-enrolled"):
    run = login(nullok, [PASSWORD], user=user, ops=("auth",))
    t.eq(run.codes(), ["PAM_AUTHINFO_UNAVAIL"], "daemon=yes, twofad dead, nullok, %s: fails closed" % user)

auto = service("auto", "daemon=auto socket=" + d.socket)
env.fresh()
run = login(auto, [PASSWORD, code], syslog=log)
t.eq(run.codes(), ["PAM_SUCCESS", "PAM_SUCCESS"],
     "daemon=auto, a root caller, twofad's socket there but dead: served per call")
t.ok(any(r["severity"] == "warning" and "twofad" in r["message"] for r in log.lines()),
     "with a LOG_WARNING line about twofad", "\n".join(log.texts()))
os.unlink(d.socket)
log.clear()
env.fresh()
run = login(auto, [PASSWORD, code], syslog=log)
t.eq(run.codes(), ["PAM_SUCCESS", "PAM_SUCCESS"], "daemon=auto, no socket at all: per call")
t.ok(not any(r["severity"] == "warning" and "twofad" in r["message"] for r in log.lines()),
     "and no warning: there is no twofad here", "\n".join(log.texts()))
log.close()

# -- SIGTERM while a call waits on Twilio ------------------------------------------------------
d3 = Twofad(env.config_path).start()
slow = service("slow", "daemon=yes socket=" + d3.socket)
env.fresh()
sim.fault("start", "delay", delay=30)
result = {}
th = threading.Thread(target=lambda: result.update(run=login(slow, [PASSWORD, code], ops=("auth",))))
th.start()
end = time.time() + 20
while time.time() < end and sim.stats()["requests"] < 1:  # counted before the delay
    time.sleep(0.1)
started = time.monotonic()
rc = d3.stop()
took = time.monotonic() - started
t.ok(rc == 0 and took < 10,
     "SIGTERM while a call waits on a 30 s Twilio request: twofad is gone in %.1f s" % took)
t.ok(d3.wait_log("calls still running 3000 ms after") is not None,
     "saying it left a call running", d3.text())
th.join(60)
t.ok("run" in result and result["run"].codes() == ["PAM_AUTHINFO_UNAVAIL"],
     "and that login fails closed", result["run"].describe() if "run" in result else "no run")
for x in (d, d3):
    t.eq(x.sanitizer_lines(), [], "no sanitizer report from twofad (pid %d)" % x.pid)
env.fresh()
env.cleanup()
sys.exit(t.done())
