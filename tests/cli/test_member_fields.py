#!/usr/bin/python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""twofa-enroll with the member model of issue 13 (item 2): export carries the later fields
(version, unlock time, code hashes, ids) as the record has them and import reads them back,
while an old member's export line keeps its keys; a member without a twofa password exports
with "password_hash": null; a member without a phone gets no SMS or call from `test`. TAP
output."""

import json
import os
import sys

from harness.tap import Tap
from harness.sim import Sim
from harness.cli import CODE, Cli

t = Tap()
sim = Sim("--email-enabled")
cli = Cli(sim)
env = cli.env
os.makedirs(env.dbdir, 0o700, exist_ok=True)
PW = "pw-fields-1"
APP_MAIL = "app@example.org"
# An export line is the record as the store keeps it (its keys sorted), then the login state.
RECORD_KEYS = ["channel", "country", "created", "email", "password_hash", "phone", "status", "updated", "user",
               "v", "verified"]
STATE_KEYS = ["last_login", "failures", "locked_until"]
LATER_KEYS = ["bypass", "invite", "rate_limit_id", "recovery", "totp_entity", "totp_factor", "unlocked", "version"]


def code_hash(n):
    return "b2$%032x$%064x" % (n, n * 7 + 1)


env.add_member("old", PW, "+14155550180")
env.add_member("nopass", None, "+14155550181")
env.add_member("app", PW, "", country="", channel="email", email=APP_MAIL)
r = cli.run("export")
lines = r.out.splitlines() if r.rc == 0 else []
rows = {json.loads(l)["user"]: json.loads(l) for l in lines}
t.ok(r.rc == 0 and sorted(rows) == ["app", "nopass", "old"], "export of members without hash or phone works",
     r.describe())
t.eq(list(rows.get("old", {}).keys()), sorted(RECORD_KEYS + ["version"]) + STATE_KEYS,
     "an old member's export line: the record's keys sorted (with the version add gave it), then the state")
t.ok(rows.get("nopass", {}).get("password_hash", "") is None, "no twofa password exports as null")
hash_ = rows.get("old", {}).get("password_hash")

full = dict(rows.get("old", {}), user="full", last_login=None, failures=0, locked_until=None)
for k in ("last_login", "failures", "locked_until"):
    del full[k]
full.update({"version": 7, "unlocked": "2026-01-05T00:00:00Z",
             "recovery": [code_hash(i) for i in range(1, 21)],
             "bypass": {"expires": "2026-02-01T00:00:00Z", "hash": code_hash(100), "uses": 3},
             "invite": {"expires": "2026-02-02T00:00:00Z", "hash": code_hash(200)},
             "rate_limit_id": "rl-full_1", "totp_entity": "ent-9f2c", "totp_factor": "YF" + "0123456789abcdef" * 2})
path = os.path.join(env.dir, "full.jsonl")
with open(path, "w") as f:
    f.write(json.dumps(full) + "\n")
r = cli.run("import", path)
t.ok(r.rc == 0, "import of a line with every later field", r.describe())
r = cli.run("export")
exported = {json.loads(l)["user"]: l for l in r.out.splitlines()} if r.rc == 0 else {}
got = json.loads(exported.get("full", "{}"))
t.eq(list(got.keys()), sorted(RECORD_KEYS + LATER_KEYS) + STATE_KEYS,
     "export line: every field of the record, sorted, then the state")
t.ok(all(got.get(k) == full[k] for k in LATER_KEYS), "every later field survives import and export",
     json.dumps(got))
t.eq(exported.get("old"), lines[[json.loads(l)["user"] for l in lines].index("old")] if lines else None,
     "the old member's line is unchanged byte for byte")

# Round trip into a second store: the same lines back.
other = Cli(sim, prefix="twofa-cli-b-")
os.makedirs(other.env.dbdir, 0o700, exist_ok=True)
dump = os.path.join(env.dir, "all.jsonl")
with open(dump, "w") as f:
    f.write(r.out)
r2 = other.run("import", dump)
r3 = other.run("export")
t.ok(r2.rc == 0 and r3.rc == 0 and sorted(r3.out.splitlines()) == sorted(r.out.splitlines()),
     "export, import elsewhere, export: the same lines", r2.describe() + r3.describe())
other.cleanup()

# -- no phone: codes by email only ----------------------------------------------------------------
for ch in ("sms", "call"):
    r = cli.run("test", "app", "--channel", ch, input="")
    t.ok(r.rc == 65 and "no phone number" in r.err and sim.outbox() == [],
         "test --channel %s of a member without a phone: refused, nothing sent" % ch, r.describe())
r = cli.flow(["test", "app"], APP_MAIL, ["call", CODE])
t.ok(r.rc == 0 and "no phone number is enrolled" in r.err
     and [(e["to"], e["channel"]) for e in sim.outbox()] == [(APP_MAIL, "email")],
     "'call' at the code prompt of a member without a phone: refused, the email code still works", r.describe())
t.ok(hash_ is not None and all(hash_ not in x for x in (r.out, r.err)), "no hash on the terminal")

cli.cleanup()
sys.exit(t.done())
