#!/usr/bin/python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""twofa-enroll invite USER [--ttl DURATION] [--json] | invite USER --revoke (issue 15): one
code printed once, in the format; the record (read through `export`) is an invited one
(status invited, no phone, no password hash) holding the code's hash, checked here with
Python's BLAKE2b over the input lib/onetime_code.h documents (kind byte 'i'), and its expiry
(72 h by default; --ttl 10m..30d); a new invite replaces the old one; a member is refused;
every command on a member refuses an invited record and changes nothing; list and show say
invited; export/import carry it; --revoke removes it and refuses a member. Refusals print no
code. tests/cli/ldap/test_invite.sh runs it again with the members in a slapd. TAP output."""

import json
import os
import sys

from harness.tap import Tap
from harness.sim import Sim
from harness.cli import Cli
from harness.pam import BACKEND
from harness.onetime import CODE_RE, OneTime, iso_time

t = Tap()
sim = Sim()
cli = Cli(sim)
env = cli.env
os.makedirs(env.dbdir, 0o700, exist_ok=True)
PW = "pw-invite-1"
env.add_member("alice", PW, "+14155550123")

codes = OneTime(cli, "invite", b"i")
seen, matches, record, issue, no_code_in = codes.seen, codes.matches, codes.record, codes.issue, codes.no_code_in


# -- an invite for a user who is not enrolled ----------------------------------------------
code, r, before, after = issue("carol")
t.ok(r.rc == 0 and code is not None and CODE_RE.match(code) and r.out == code + "\n",
     "invite carol: exit 0, stdout is one code in the format and nothing else", r.describe())
rec = record("carol") or {}
inv = rec.get("invite", {})
t.ok(rec.get("status") == "invited" and not rec.get("phone") and not rec.get("country")
     and rec.get("password_hash") is None,
     "carol's record: status invited, no phone, country or password hash", rec)
t.ok(matches("carol", code or "", inv.get("hash", "b2$" + "0" * 98)), "the printed code verifies as her invite")
t.ok(not matches("carol", code or "", inv.get("hash", "b2$" + "0" * 98), kind=b"r"), "and not as a recovery code")
t.ok(not matches("alice", code or "", inv.get("hash", "b2$" + "0" * 98)), "nor for another user")
exp = iso_time(inv.get("expires"))
t.ok(before + 72 * 3600 <= exp <= after + 72 * 3600, "it expires 72 hours after it was issued", inv)
t.ok(r.err.startswith("twofa-enroll: invite issued for carol") and "expires %s" % inv.get("expires") in r.err
     and len(r.err.splitlines()) == 1 and no_code_in(r.err), "stderr: one note with the expiry, no code",
     r.describe())

r = cli.run("list")
row = [line for line in r.out.splitlines() if line.startswith("carol ")]
t.ok(r.rc == 0 and len(row) == 1 and " invited " in row[0], "list: carol with status invited", r.describe())
r = cli.run("list", "--status", "invited")
t.ok(r.rc == 0 and "carol" in r.out and "alice" not in r.out, "list --status invited: carol only", r.describe())
r = cli.run("list", "--status", "active")
t.ok(r.rc == 0 and "carol" not in r.out and "alice" in r.out, "list --status active: not carol", r.describe())
r = cli.run("show", "carol")
t.ok(r.rc == 0 and "status        invited" in r.out.splitlines()
     and "invite        expires %s" % inv.get("expires") in r.out.splitlines() and no_code_in(r.out)
     and "b2$" not in r.out, "show: status invited and when the invite expires, no code or hash", r.describe())
r = cli.run("show", "carol", "--json")
t.ok(r.rc == 0 and r.json().get("status") == "invited" and "b2$" not in r.out, "show --json: status invited",
     r.describe())

# -- again: a new invite replaces the old one ----------------------------------------------
code2, r, before, after = issue("carol", "--ttl", "10m")
inv2 = (record("carol") or {}).get("invite", {})
t.ok(r.rc == 0 and code2 is not None and code2 != code and matches("carol", code2, inv2.get("hash", "")),
     "invite carol --ttl 10m: a new code, the stored one", r.describe())
t.ok(not matches("carol", code or "", inv2.get("hash", "")), "the first invite no longer verifies")
t.ok(before + 600 <= iso_time(inv2.get("expires")) <= after + 600, "it expires 10 minutes after", inv2)
t.ok("replaces the earlier one" in r.err, "stderr says it replaces the earlier one", r.describe())
for ttl, seconds in (("30d", 2592000), ("600", 600), ("7d", 604800)):
    c, r, before, after = issue("carol", "--ttl", ttl)
    inv2 = (record("carol") or {}).get("invite", {})
    t.ok(r.rc == 0 and before + seconds <= iso_time(inv2.get("expires")) <= after + seconds
         and matches("carol", c or "", inv2.get("hash", "")), "--ttl %s: %d s" % (ttl, seconds), r.describe())
last = record("carol")
for bad in ("9m", "599", "31d", "2592001", "", "1w", "-1h", "abc"):
    r = cli.run("invite", "carol", "--ttl", bad)
    t.ok(r.rc == 64 and r.one_line_error() and r.out == "", "--ttl %r: usage error (64), nothing printed" % bad,
         r.describe())
for args, what in ((["invite"], "no USER"), (["invite", "carol", "bob"], "two users"),
                   (["invite", "carol", "--revoke", "--ttl", "1h"], "--revoke with --ttl"),
                   (["invite", "carol", "--revoke", "--json"], "--revoke with --json"),
                   (["invite", "carol", "--uses", "2"], "an unknown option")):
    r = cli.run(*args)
    t.ok(r.rc == 64 and r.out == "", "%s: usage error (64)" % what, r.describe())
r = cli.run("invite", "a/b")
t.ok(r.rc == 65 and r.out == "" and "not a valid user name" in r.err, "an invalid name: refused (65)", r.describe())
t.ok(record("carol") == last, "and carol's invite is unchanged")

# -- --json --------------------------------------------------------------------------------
r = cli.run("invite", "carol", "--json")
o = r.json() if r.rc == 0 else {}
if isinstance(o.get("code"), str):
    seen.append(o["code"])
inv3 = (record("carol") or {}).get("invite", {})
t.ok(r.rc == 0 and sorted(o) == ["code", "expires"] and CODE_RE.match(o.get("code", ""))
     and o.get("expires") == inv3.get("expires") and matches("carol", o.get("code", ""), inv3.get("hash", "")),
     "--json: {code, expires}, the stored invite", r.describe())
last = record("carol")

# -- a member is refused -------------------------------------------------------------------
alice = record("alice")
r = cli.run("invite", "alice")
t.ok(r.rc == 65 and r.out == "" and "already enrolled" in r.err and r.one_line_error(),
     "invite alice (a member): refused (65), nothing printed", r.describe())
t.ok(record("alice") == alice, "alice's record is unchanged")

# -- every command on a member refuses an invited record ------------------------------------
for args in (["approve", "carol"], ["enable", "carol"], ["disable", "carol"], ["unlock", "carol"],
             ["recovery", "carol"], ["bypass", "carol"], ["remove", "carol", "--yes"],
             ["phone", "carol", "--phone", "4155550199", "--country", "US"], ["test", "carol"],
             ["passwd", "carol", "--password-stdin"]):
    r = cli.run(*args, input="pw-carol-123\n")
    t.ok(r.rc == 65 and "invited" in r.err and r.out.strip() == "" and r.one_line_error(),
         "%s: refused (65), says carol is invited" % args[0], r.describe())
t.ok(record("carol") == last and not sim.sends("+14155550199"),
     "carol's record is unchanged and no code was sent")
r = cli.run("add", "carol", "--phone", "4155550199", "--country", "US", "--password-stdin",
            input="pw-carol-123\n")
t.ok(r.rc == 65 and "invited" in r.err and "--revoke" in r.err, "add carol over her invite: refused (65)",
     r.describe())
t.ok(record("carol") == last, "and nothing changed")
if BACKEND == "gdbm":
    r = cli.run("db", "check")
    t.ok(r.rc == 0, "db check accepts the invited record", r.describe())

# -- export / import carry it; --revoke ------------------------------------------------------
line = [x for x in cli.run("export").out.splitlines() if json.loads(x)["user"] == "carol"][0]
r = cli.run("invite", "carol", "--revoke")
t.ok(r.rc == 0 and r.out == "invite of carol revoked\n", "invite --revoke carol: revoked", r.describe())
t.ok(record("carol") is None, "carol has no record")
r = cli.run("invite", "--revoke", "carol")
t.ok(r.rc == 0 and r.out == "carol had no invite\n", "--revoke again: she had none (exit 0)", r.describe())
r = cli.run("import", "-", input=line + "\n")
t.ok(r.rc == 0 and (record("carol") or {}).get("invite") == last.get("invite")
     and record("carol").get("status") == "invited", "import of the exported line brings the invite back",
     r.describe())
r = cli.run("invite", "alice", "--revoke")
t.ok(r.rc == 65 and "enrolled, not invited" in r.err, "--revoke of a member: refused (65)", r.describe())
t.ok(record("alice") == alice, "alice is still a member, unchanged")
t.ok(cli.run("invite", "carol", "--revoke").rc == 0 and record("carol") is None, "carol revoked again")

sys.exit(t.done())
