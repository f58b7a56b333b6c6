#!/usr/bin/python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""Secrets (issue 7): a representative set of operations (enrol, login right and wrong,
outage, check-config, export, list, show) with every output captured: syslog (SyslogCapture),
stdout and stderr of twofa-enroll and the driver, the exported JSON minus password_hash,
and /proc/PID/cmdline and /proc/PID/environ of the CLI and of the driver while they run
(twofa starts no process of its own). None may hold the auth token, the API key secret,
a password, a code or a full phone number. Then: https_proxy, http_proxy and ALL_PROXY
pointing at a dead port change nothing for a login."""

import json
import os
import re
import socket
import sys

from harness.tap import Tap
from harness.sim import Sim
from harness.pam import DRIVER, MKMEMBER, SyslogCapture, module_path, run_pam
from harness.cli import CLI, Cli
from harness.reliability import require_built, wait_quiet

t = Tap()
if not require_built(t, DRIVER, MKMEMBER, CLI,
                     module_path() or "pam_twofa/.libs/pam_twofa.so"):
    sys.exit(t.done())

PASSWORD = "Secret pw 8c1f"
NUMBER = "+14155550142"
sim = Sim()
cli = Cli(sim, {"timeout": "2"}, prefix="twofa-secrets-")
env = cli.env
os.makedirs(env.dbdir, 0o700, exist_ok=True)
env.service("secrets", [env.twofa_line(), env.twofa_line(kind="account")])
cap = SyslogCapture(env)
captured = []   # (where, text)
proc_views = []  # (where, text) from /proc


def snapshot_procs(marker, where):
    """cmdline and environ of every process whose cmdline holds marker (a private path)."""
    for pid in os.listdir("/proc"):
        if not pid.isdigit() or int(pid) == os.getpid():
            continue
        try:
            with open("/proc/%s/cmdline" % pid, "rb") as f:
                cmdline = f.read()
            if marker.encode() not in cmdline or b"devlog_ns.py" in cmdline:
                continue
            with open("/proc/%s/environ" % pid, "rb") as f:
                environ = f.read()
        except OSError:
            continue
        text = (cmdline + b"\n" + environ).replace(b"\0", b" ").decode("utf-8", "replace")
        proc_views.append(("%s /proc/%s" % (where, pid), text))


def keep(where, run):
    captured.append((where + " stdout", run.out if hasattr(run, "out") else "\n".join(run.lines)))
    captured.append((where + " stderr", run.err if hasattr(run, "err") else run.stderr))
    return run


# -- enrol (the CLI's /proc is read while it waits for the code) ----------------------------
def code_after_snapshot(c):
    # Once the code is sent the CLI is surely running, waiting for it.
    entry = c.wait_code(NUMBER, 0)
    snapshot_procs(env.config_path, "twofa-enroll add")
    return entry["code"] if entry else ""


r = keep("add", cli.enroll("alice", NUMBER, "US", [PASSWORD, PASSWORD, code_after_snapshot]))
t.ok(r.rc == 0, "enrol alice through twofa-enroll", r.describe())


# -- logins --------------------------------------------------------------------------------
def code_with_snapshot(kind, text, run):
    snapshot_procs(env.confdir, "pam_driver")
    return sim.last_code(NUMBER)


wrong_code = sim.wrong_code_answer(NUMBER)


logins = [
    ("right login", [PASSWORD, code_with_snapshot], "PAM_SUCCESS"),
    ("wrong password", ["not " + PASSWORD], "PAM_AUTH_ERR"),
    ("wrong code", [PASSWORD, wrong_code, wrong_code, wrong_code], "PAM_MAXTRIES"),
]
for label, answers, want in logins:
    run = keep(label, run_pam(env, "secrets", "alice", ["auth", "acct"], answers=answers,
                              rhost="192.0.2.9", syslog=cap))
    t.eq(run.code("auth"), want, "%s: %s" % (label, want))
sim.fault("start", "503", count=-1)
run = keep("outage", run_pam(env, "secrets", "alice", ["auth"], answers=[PASSWORD], syslog=cap))
t.eq(run.codes(), ["PAM_AUTHINFO_UNAVAIL"], "outage: PAM_AUTHINFO_UNAVAIL")
sim.clear_faults()

# -- admin commands --------------------------------------------------------------------------
# (list --json and show --json print the full number on purpose: not searched.)
for args in (["check-config"], ["list"], ["show", "alice"], ["db", "check"]):
    r = keep(" ".join(args), cli.run(*args))
    t.ok(r.rc == 0, "twofa-enroll %s runs" % " ".join(args), r.describe())
r = cli.run("export")
exported = [json.loads(l) for l in r.out.splitlines() if l.strip()]
t.ok(r.rc == 0 and len(exported) == 1 and exported[0]["password_hash"].startswith("$argon2id$"),
     "export has alice with an Argon2id hash", r.describe())
for rec in exported:
    rec.pop("password_hash", None)
    rec.pop("phone", None)  # export exists to move members: it holds the number on purpose
captured.append(("export (without password_hash and phone)", json.dumps(exported)))
captured.append(("export stderr", r.err))
captured += [("syslog", x) for x in wait_quiet(cap, 0.3)]

# -- the search ------------------------------------------------------------------------------
creds = sim.creds
secrets = {"auth token": creds["auth_token"], "API key secret": creds["api_key_secret"],
           "password": PASSWORD, "full number": NUMBER, "number digits": NUMBER[1:]}
for i, code in enumerate(sim.codes()):
    secrets["code %d" % (i + 1)] = code


def leaks(text):
    found = []
    for name, value in secrets.items():
        # Codes and numbers are digit runs: only a whole run counts.
        rx = re.escape(value) if not value.isdigit() else r"(?<!\d)%s(?!\d)" % re.escape(value)
        if re.search(rx, text):
            found.append(name)
    return found


t.ok(len(secrets) >= 8 and any(w == "syslog" for w, x in captured),
     "searching %d captured outputs and %d /proc views for %d secrets"
     % (len(captured), len(proc_views), len(secrets)))
t.ok(any(w.startswith("twofa-enroll") for w, x in proc_views)
     and any(w.startswith("pam_driver") for w, x in proc_views),
     "the CLI's and the driver's /proc were read while they ran", [w for w, x in proc_views])
for where, text in captured + proc_views:
    found = leaks(text or "")
    if where.startswith("twofa-enroll add /proc"):
        # The admin typed the number as --phone on the command line (the documented
        # interface): the CLI cannot hide its own argv. Everything else still counts.
        found = [f for f in found if f not in ("full number", "number digits")]
    t.ok(not found, "no secret in %s%s" % (where, (" (found: %s)" % ", ".join(found)) if found else ""))

# -- proxies in the environment change nothing ---------------------------------------------------
dead = socket.socket()
dead.bind(("127.0.0.1", 0))
dead_port = dead.getsockname()[1]
dead.close()
saved = {k: os.environ.get(k) for k in ("https_proxy", "http_proxy", "HTTPS_PROXY", "ALL_PROXY", "all_proxy")}
try:
    for k in saved:
        os.environ[k] = "http://127.0.0.1:%d" % dead_port
    sim.reset()
    run = run_pam(env, "secrets", "alice", ["auth"], answers=[PASSWORD, sim.code_answer(NUMBER)])
finally:
    for k, v in saved.items():
        if v is None:
            os.environ.pop(k, None)
        else:
            os.environ[k] = v
t.ok(run.codes() == ["PAM_SUCCESS"] and sim.stats()["by_op"].get("check") == 1,
     "proxy variables pointing at a dead port: the login still goes straight to Twilio",
     run.describe())

cap.close()
cli.cleanup()
sim.stop()
sys.exit(t.done())
