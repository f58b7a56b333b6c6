#!/usr/bin/python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""twofa-enroll rate-limit and check-config with rate_limit set: the Service Rate Limit and
its bucket are made once at Twilio (the simulator), every member gets one random rate-limit
id, and real logins through pam_twofa carry it: a member's codes are capped by Twilio's
bucket across hosts (two hosts here: two state stores, one member store), and a full bucket
is a refusal, even under failmode=safe."""

import json
import os
import re
import sys

from harness.tap import Tap
from harness.sim import Sim
from harness.pam import Env, run_pam
from harness.cli import CODE, Cli

t = Tap()
sim = Sim()
PW = "pw-rate-limit-test"
ALICE, BOB = "+14155550131", "+14155550132"
cli = Cli(sim, {"rate_limit": "twofa_member", "failmode": "safe", "lockout_failures": "0"})
env = cli.env


def exported():
    r = cli.run("export")
    return {o["user"]: o for o in (json.loads(l) for l in r.out.splitlines() if l.strip())}


def rate_limits():
    st, body, _ = sim.request("GET", sim.svc_path("/RateLimits"))
    return body.get("rate_limits", []) if st == 200 else None


def buckets(sid):
    st, body, _ = sim.request("GET", sim.svc_path("/RateLimits/%s/Buckets" % sid))
    return body.get("buckets", []) if st == 200 else None


sim.ctl("POST", "reset")
os.makedirs(env.dbdir, 0o700, exist_ok=True)
env.add_member("alice", PW, ALICE)
env.add_member("bob", PW, BOB)

plain = Cli(sim, prefix="twofa-cli-norl-")
r = plain.run("rate-limit")
t.ok(r.rc == 78 and "rate_limit" in r.err and r.one_line_error(),
     "rate-limit without rate_limit in the config: 78, one line naming the key", r.describe())
plain.cleanup()
r = cli.run("rate-limit", "--max", "0")
t.ok(r.rc == 64 and rate_limits() == [], "--max 0 is a usage error and makes nothing", r.describe())

r = cli.run("check-config")
t.ok(r.rc == 78 and "no rate limit twofa_member" in r.err,
     "check-config before setup: the missing rate limit is an error", r.describe())

r = cli.run("rate-limit", "--max", "2", "--interval", "3600")
rls = rate_limits() or []
t.ok(r.rc == 0 and len(rls) == 1 and rls[0]["unique_name"] == "twofa_member",
     "rate-limit creates the rate limit at Twilio", r.describe())
bl = buckets(rls[0]["sid"]) if rls else []
t.ok(bl is not None and [(b["max"], b["interval"]) for b in bl] == [(2, 3600)],
     "with one bucket of 2 sends per 3600 s", bl)
t.ok("2 given a rate-limit id, 0 had one" in r.out, "both members were given an id", r.out)
ids = {u: m.get("rate_limit_id") for u, m in exported().items()}
t.ok(all(re.fullmatch(r"[0-9a-f]{32}", i or "") for i in ids.values()) and
     len(set(ids.values())) == 2, "each member holds its own random 32-hex id", ids)

r = cli.run("rate-limit", "--max", "2", "--interval", "3600")
t.ok(r.rc == 0 and len(rate_limits()) == 1 and len(buckets(rls[0]["sid"])) == 1 and
     "0 given a rate-limit id, 2 had one" in r.out,
     "running it again makes nothing new", r.describe())
t.eq({u: m.get("rate_limit_id") for u, m in exported().items()}, ids, "and keeps every id")

CAROL = "+14155550133"
r = cli.enroll("carol", CAROL, "US", ["pw-carol-rl-1", "pw-carol-rl-1", CODE])
carol = exported().get("carol", {})
t.ok(r.rc == 0 and re.fullmatch(r"[0-9a-f]{32}", carol.get("rate_limit_id", "")) and
     carol["rate_limit_id"] not in ids.values(), "add gives a new member its own id at once",
     r.describe())

r = cli.run("check-config")
t.ok(r.rc == 0 and "ok  Twilio rate limit twofa_member" in r.out, "check-config verifies it",
     r.describe())

# -- logins on two hosts: each has its own state (and send_limit), the bucket is shared -----
host_b = Env(sim, config={"rate_limit": "twofa_member", "failmode": "safe",
                          "lockout_failures": "0", "members_db": env.members_db},
             init_store=False, prefix="twofa-host-b-")
for e in (env, host_b):
    e.service("rl-test", [e.twofa_line()])


def login(e, user, number):
    return run_pam(e, "rl-test", user, ["auth"], answers=[PW, sim.code_answer(number)],
                   rhost="192.0.2.40")


first, second = login(env, "alice", ALICE), login(host_b, "alice", ALICE)
t.eq([first.code("auth"), second.code("auth")], ["PAM_SUCCESS", "PAM_SUCCESS"],
     "alice logs in on host A, then on host B")
sent = len(sim.outbox(ALICE))
third = login(env, "alice", ALICE)
t.ok(third.code("auth") != "PAM_SUCCESS" and len(sim.outbox(ALICE)) == sent,
     "the third code within the hour is refused by Twilio's bucket, even under failmode=safe, "
     "and none is sent", third.describe())
t.eq(login(host_b, "bob", BOB).code("auth"), "PAM_SUCCESS", "bob's codes have their own bucket")
sends = [q for q in sim.requests() if q["op"] == "start" and
         q.get("form", {}).get("To") in (ALICE, BOB)]
t.ok(all(json.loads(q["form"].get("RateLimits", "{}")).get("twofa_member") in ids.values()
         for q in sends if "form" in q) and any("form" in q for q in sends),
     "every login send carried the member's id as the key", sends[-1] if sends else None)

host_b.cleanup()
cli.cleanup()
sim.stop()
sys.exit(t.done())
