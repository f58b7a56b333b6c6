#!/usr/bin/python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""twofa-enroll bypass USER [--uses N] [--ttl DURATION] [--json] | --revoke (issue 14): one code
printed once, in the format; the record (read through `export`) holds its hash, checked here
with Python's own BLAKE2b over the input lib/onetime_code.h documents (kind byte 'b'), with
the uses, the expiry and the issuer (root, or SUDO_USER under sudo when it names the user
SUDO_UID says); --uses and --ttl bounds and forms; a new code replaces the old one; --revoke;
refusals print no code and change nothing; a failed print after the store says so; show (and
--json) tells the bypass code's state and the recovery codes left, never a code or hash;
export/import carry the code with its issuer. tests/cli/ldap/test_bypass.sh runs it again with
the members in a slapd. TAP output."""

import json
import os
import pwd
import sys

from harness.tap import Tap
from harness.sim import Sim
from harness.cli import Cli
from harness.onetime import CODE_RE, HASH_RE, ISO_RE, OneTime, iso_time

# The issuer comes from SUDO_USER: this test sets it itself, never inherits it.
os.environ.pop("SUDO_USER", None)
os.environ.pop("SUDO_UID", None)

t = Tap()
# Under memcheck each twofa-enroll run costs about a second, and CI's time is bounded: the
# forms of --uses and --ttl are the parsers' cases (tests/unit/test_util, memchecked there
# too), so that variant runs three of each list here; the other variants run all of them.
FEW = 3 if os.environ.get("TWOFA_VALGRIND") else None
sim = Sim()
cli = Cli(sim)
env = cli.env
os.makedirs(env.dbdir, 0o700, exist_ok=True)
PW = "pw-bypass-1"
env.add_member("alice", PW, "+14155550123")
env.add_member("bob", PW, "+14155550124")
env.add_member("dave", PW, "+14155550188", status="disabled")
env.add_member("pat", PW, "+14155550177", status="pending")

codes = OneTime(cli, "bypass", b"b")
seen, matches, record, issue, no_code_in = codes.seen, codes.matches, codes.record, codes.issue, codes.no_code_in
hashes = set()  # every hash stored: none may show up in show or list


def stored(user):
    """The bypass object of user's record as export prints it ({} when none; None: no user)."""
    r = cli.run("export")
    for line in r.out.splitlines():
        o = json.loads(line)
        if o["user"] == user:
            b = o.get("bypass", {})
            if b.get("hash"):
                hashes.add(b["hash"])
            return b
    return None


def no_hash_in(text):
    return "b2$" not in text and not any(h in text or h[36:] in text for h in hashes)


# -- the default: one use, an hour, issued by root ------------------------------------------
code, r, before, after = issue("alice")
t.ok(r.rc == 0 and code is not None and CODE_RE.match(code) and r.out == code + "\n",
     "bypass alice: exit 0, stdout is one code in the format and nothing else", r.describe())
b = stored("alice") or {}
t.ok(HASH_RE.match(b.get("hash", "")) is not None, "the record holds a well-formed code hash", b)
t.ok(matches("alice", code or "", b.get("hash", "")), "the printed code verifies against it, as a bypass code")
t.ok(not matches("alice", code or "", b.get("hash", ""), kind=b"r"), "and not as a recovery code (kind byte)")
t.ok(not matches("bob", code or "", b.get("hash", "")), "nor for another user")
t.eq(b.get("uses"), 1, "one use by default")
exp = iso_time(b["expires"]) if ISO_RE.match(b.get("expires", "")) else 0
t.ok(before + 3600 <= exp <= after + 3600, "it expires an hour after it was issued", b)
t.eq(b.get("issuer"), "root", "the issuer is the real uid's name (root), without sudo")
t.ok(r.err.startswith("twofa-enroll: bypass code issued for alice: 1 use, expires %s (issued by root)"
                      % b.get("expires")) and len(r.err.splitlines()) == 1,
     "stderr: one line saying what was issued, for how long, by whom", r.describe())
t.ok(no_code_in(r.err), "no code on stderr")
first = b

# -- show tells the state, never the code --------------------------------------------------
r = cli.run("recovery", "alice", "--count", "3")
seen += r.out.splitlines()
show = cli.run("show", "alice")
lines = show.out.splitlines()
t.ok(show.rc == 0 and "recovery      3 codes left" in lines, "show: the recovery codes left", show.describe())
t.ok("bypass        active: 1 use left, expires %s, issued by root" % first.get("expires") in lines,
     "show: the bypass code is active, with its uses left, expiry and issuer", show.describe())
sj = cli.run("show", "alice", "--json")
o = sj.json() if sj.rc == 0 else {}
t.eq(o.get("recovery_codes"), 3, "show --json: recovery_codes")
t.eq(o.get("bypass"), {"active": True, "uses": 1, "expires": first.get("expires"), "issuer": "root"},
     "show --json: bypass with active, uses, expires and issuer (no hash)")
t.ok(no_code_in(show.out + sj.out) and no_hash_in(show.out + sj.out), "no code or hash in show")
r = cli.run("show", "bob")
rj = cli.run("show", "bob", "--json")
t.ok("recovery      0 codes left" in r.out.splitlines() and "bypass        none" in r.out.splitlines(),
     "show of a member without codes: 0 recovery codes, no bypass code", r.describe())
t.ok(rj.rc == 0 and rj.json().get("recovery_codes") == 0 and rj.json().get("bypass", 0) is None,
     "show --json: recovery_codes 0, bypass null", rj.describe())

# -- a new code replaces the old one; --uses and --ttl -------------------------------------
code2, r, before, after = issue("alice", "--uses", "3", "--ttl", "30m")
b = stored("alice") or {}
t.ok(r.rc == 0 and code2 is not None and code2 != code and matches("alice", code2, b.get("hash", "")),
     "bypass alice --uses 3 --ttl 30m: a new code, and it is the stored one", r.describe())
t.ok(not matches("alice", code or "", b.get("hash", "")), "the first code no longer verifies (replaced)")
t.eq(b.get("uses"), 3, "3 uses stored")
exp = iso_time(b["expires"]) if ISO_RE.match(b.get("expires", "")) else 0
t.ok(before + 1800 <= exp <= after + 1800, "it expires 30 minutes after it was issued", b)
t.ok("3 uses, expires" in r.err and "replaces the earlier one" in r.err and no_code_in(r.err),
     "stderr: 3 uses, says it replaces the earlier one, no code", r.describe())
r = cli.run("show", "alice")
t.ok("bypass        active: 3 uses left, expires %s, issued by root" % b.get("expires") in r.out.splitlines(),
     "show: 3 uses left and the new expiry", r.describe())

for ttl, seconds in (("3600", 3600), ("90s", 90), ("2h", 7200), ("60", 60), ("1d", 86400), ("30d", 2592000),
                     ("720h", 2592000))[:FEW]:
    c, r, before, after = issue("alice", "--ttl", ttl)
    b = stored("alice") or {}
    exp = iso_time(b["expires"]) if ISO_RE.match(b.get("expires", "")) else 0
    t.ok(r.rc == 0 and before + seconds <= exp <= after + seconds and matches("alice", c or "", b.get("hash", "")),
         "--ttl %s: expires %d s after it was issued" % (ttl, seconds), r.describe())
c, r, _, _ = issue("alice", "--uses", "100")
b = stored("alice") or {}
t.ok(r.rc == 0 and b.get("uses") == 100 and matches("alice", c or "", b.get("hash", "")),
     "--uses 100 (the bound): stored", r.describe())
last = b
for opt, bad in [("--uses", v) for v in ("0", "101", "ten", "", "-1", "1.5", " 2", "2x")[:FEW]] + \
        [("--ttl", v) for v in ("59", "2592001", "1h30m", "0", "59s", "31d", "721h", "1.5h", "-1h", "", "abc",
                                "1w", "1H", " 1h")[:FEW]]:
    r = cli.run("bypass", "alice", opt, bad)
    t.ok(r.rc == 64 and r.one_line_error() and r.out == "", "%s %r: usage error (64), nothing printed" % (opt, bad),
         r.describe())
t.ok(stored("alice") == last, "and the stored code is unchanged")
for args, what in ((["bypass"], "no USER"), (["bypass", "alice", "bob"], "two users"),
                   (["bypass", "alice", "--uses"], "--uses without a value"),
                   (["bypass", "alice", "--count", "2"], "an unknown option"),
                   (["bypass", "alice", "--revoke", "--uses", "2"], "--revoke with --uses"),
                   (["bypass", "alice", "--ttl", "1h", "--revoke"], "--revoke with --ttl"),
                   (["bypass", "alice", "--revoke", "--json"], "--revoke with --json")):
    r = cli.run(*args)
    t.ok(r.rc == 64 and r.one_line_error() and r.out == "", "%s: usage error (64)" % what, r.describe())
t.ok(stored("alice") == last, "and the stored code is still unchanged")

# -- --json --------------------------------------------------------------------------------
c, r, before, after = issue("alice", "--json", "--uses", "2", "--ttl", "2h")
try:
    o = json.loads(r.out)
except ValueError:
    o = None
if isinstance(o, dict) and isinstance(o.get("code"), str):
    seen.append(o["code"])
b = stored("alice") or {}
t.ok(r.rc == 0 and isinstance(o, dict) and sorted(o) == ["code", "expires", "uses"] and CODE_RE.match(o["code"])
     and o["uses"] == 2 and o["expires"] == b.get("expires"),
     "--json: stdout is {code, uses, expires} and nothing else, the stored uses and expiry", r.describe())
t.ok(isinstance(o, dict) and matches("alice", o.get("code", ""), b.get("hash", "")), "and the code is the stored one")
t.ok("bypass code issued for alice: 2 uses" in r.err and no_code_in(r.err), "stderr: the note, no code",
     r.describe())

# -- who issued it --------------------------------------------------------------------------
nobody = pwd.getpwnam("nobody")
for extra, want, what in (({"SUDO_USER": "nobody", "SUDO_UID": str(nobody.pw_uid)}, "nobody",
                           "SUDO_USER naming the user SUDO_UID says: that admin"),
                          ({"SUDO_USER": "nobody", "SUDO_UID": "0"}, "root", "SUDO_UID of another user: root"),
                          ({"SUDO_USER": "nobody"}, "root", "SUDO_USER without SUDO_UID: root"),
                          ({"SUDO_USER": "no-such-user-b14", "SUDO_UID": "4242"}, "root",
                           "SUDO_USER of no user: root"),
                          ({"SUDO_USER": "a/b", "SUDO_UID": "0"}, "root", "SUDO_USER that is no login name: root"),
                          ({"SUDO_USER": "", "SUDO_UID": "0"}, "root", "an empty SUDO_USER: root")):
    c, r, _, _ = issue("bob", env=extra)
    b = stored("bob") or {}
    t.ok(r.rc == 0 and b.get("issuer") == want and "(issued by %s)" % want in r.err
         and matches("bob", c or "", b.get("hash", "")), what, r.describe())
t.ok(cli.run("show", "bob").out.splitlines()[-1].endswith("issued by root"), "show names the issuer")
c, r, _, _ = issue("bob", env={"SUDO_USER": "nobody", "SUDO_UID": str(nobody.pw_uid)})
r = cli.run("show", "bob")
t.ok(r.out.splitlines()[-1].endswith("issued by nobody"), "show names a sudo issuer", r.describe())

# -- export and import carry it, issuer included -------------------------------------------
exported = cli.run("export")
line = [x for x in exported.out.splitlines() if json.loads(x)["user"] == "bob"][0]
other = Cli(sim)
os.makedirs(other.env.dbdir, 0o700, exist_ok=True)
src = os.path.join(other.env.dbdir, "bob.jsonl")
with open(src, "w") as f:
    f.write(line + "\n")
r = other.run("import", src)
back = [json.loads(x) for x in other.run("export").out.splitlines() if json.loads(x)["user"] == "bob"]
t.ok(r.rc == 0 and len(back) == 1 and back[0].get("bypass") == json.loads(line)["bypass"]
     and back[0]["bypass"].get("issuer") == "nobody",
     "export, then import elsewhere: the same bypass code, uses, expiry and issuer", r.describe())
t.ok(len(back) == 1 and matches("bob", c or "", back[0].get("bypass", {}).get("hash", "")),
     "and the code issued here verifies against the imported hash")
r = other.run("show", "bob")
t.ok(r.rc == 0 and r.out.splitlines()[-1].endswith("issued by nobody"), "show there names the issuer",
     r.describe())
# An expired code: show says so, and --revoke says it had expired.
old = json.loads(line)
old["bypass"]["expires"] = "2026-01-01T00:00:00Z"
with open(src, "w") as f:
    f.write(json.dumps(old) + "\n")
r = other.run("import", "--replace", src)
s = other.run("show", "bob")
sj = other.run("show", "bob", "--json")
t.ok(r.rc == 0 and "bypass        expired 2026-01-01T00:00:00Z (1 use unused), issued by nobody" in s.out.splitlines(),
     "an expired code: show says expired, not active", s.describe())
t.ok(sj.rc == 0 and sj.json().get("bypass", {}).get("active") is False, "show --json: active false", sj.describe())
r = other.run("bypass", "bob", "--revoke")
t.ok(r.rc == 0 and r.out == "bypass code of bob revoked (it had expired)\n", "--revoke of an expired code says so",
     r.describe())
# A code from before issuers were recorded (the field is optional).
del old["bypass"]["issuer"]
old["bypass"]["expires"] = "9999-01-01T00:00:00Z"
with open(src, "w") as f:
    f.write(json.dumps(old) + "\n")
r = other.run("import", "--replace", src)
s = other.run("show", "bob")
sj = other.run("show", "bob", "--json")
t.ok(r.rc == 0 and "bypass        active: 1 use left, expires 9999-01-01T00:00:00Z, issued by -" in s.out.splitlines()
     and sj.rc == 0 and sj.json().get("bypass", {}).get("issuer", 0) is None,
     "a code without a recorded issuer: show says '-', --json null", s.describe() + sj.describe())
other.cleanup()

# -- --revoke ------------------------------------------------------------------------------
r = cli.run("bypass", "alice", "--revoke")
t.ok(r.rc == 0 and r.out == "bypass code of alice revoked\n", "--revoke: exit 0, says it was revoked", r.describe())
t.eq(stored("alice"), {}, "the record holds no bypass code any more")
r = cli.run("show", "alice")
t.ok("bypass        none" in r.out.splitlines() and "recovery      3 codes left" in r.out.splitlines(),
     "show: no bypass code, the recovery codes untouched", r.describe())
before_line = record("alice")
r = cli.run("bypass", "alice", "--revoke")
t.ok(r.rc == 0 and r.out == "alice had no bypass code\n", "--revoke again: exit 0, says there was none", r.describe())
t.ok(before_line is not None and record("alice") == before_line,
     "and the record is not written (same version and updated time)")

# -- members that cannot use it, and no member ---------------------------------------------
before_bob = stored("bob")
for user in ("nobody-b14", "a/b"):
    r = cli.run("bypass", user)
    t.ok(r.rc == 65 and r.one_line_error() and r.out == "", "%s: 65, no code printed" % user, r.describe())
r = cli.run("bypass", "nobody-b14", "--revoke")
t.ok(r.rc == 65 and "not enrolled" in r.err and r.out == "", "--revoke of an unknown user: not enrolled (65)",
     r.describe())
t.ok(stored("bob") == before_bob and stored("alice") == {}, "other members are untouched by those")
c, r, _, _ = issue("dave")
t.ok(r.rc == 0 and c and "dave is disabled" in r.err and "does not work until 'twofa-enroll enable dave'" in r.err,
     "a disabled member: the code is issued, with a warning that it does not work until enabled", r.describe())
t.ok(matches("dave", c or "", (stored("dave") or {}).get("hash", "")), "and stored")
c, r, _, _ = issue("pat")
t.ok(r.rc == 0 and c and "pending approval" in r.err and "until 'twofa-enroll approve pat'" in r.err,
     "a pending member: the same warning, pointing at approve", r.describe())

# -- the print fails after the store -------------------------------------------------------
before_b = stored("bob")
for what, rc, err in cli.run_unwritable("bypass", "bob"):
    after_b = stored("bob")
    t.ok(rc == 1 and "stored but could not be printed" in err and "run 'twofa-enroll bypass bob' again" in err
         and "--revoke" in err, "stdout is %s: exit 1, says the code is stored, run it again or revoke" % what,
         "rc=%r stderr=%s" % (rc, err))
    t.ok(after_b and after_b.get("hash") != before_b.get("hash"), "and the new code is in the record")
    t.ok("issued for bob" not in err, "no success note")
    before_b = after_b

# -- remove takes it with the member -------------------------------------------------------
r = cli.run("remove", "dave", "--yes")
env.add_member("dave", PW, "+14155550188")
t.ok(r.rc == 0 and stored("dave") == {}, "remove, then enrol again: no bypass code is left", r.describe())

r = cli.run("bypass", "--help")
t.ok(r.rc == 0 and "bypass USER [--uses N] [--ttl DURATION] [--json]" in r.out and "1..100" in r.out
     and "30d" in r.out, "bypass --help", r.describe())
after_all = [cli.run(*a) for a in (["show", "alice"], ["show", "bob", "--json"], ["show", "pat"], ["list"],
                                   ["list", "--json"], ["export"])]
# (fewer codes were printed under memcheck, which runs fewer --ttl forms)
t.ok(len(seen) >= (20 if FEW is None else 15) and all(x.rc == 0 for x in after_all)
     and no_code_in("".join(x.out + x.err for x in after_all)),
     "none of the %d codes printed is in show, list or export" % len(seen))
t.ok(no_hash_in("".join(x.out + x.err for x in after_all[:5])), "no code hash in show or list")

# -- list tells the same as show, for every member at once ----------------------------------
shown = {u: cli.show(u) or {} for u in ("alice", "bob")}
r = cli.run("list", "--json")
listed = {x["user"]: x for x in r.json()} if r.rc == 0 else {}
t.ok(all(listed.get(u, {}).get("recovery_codes") == shown[u].get("recovery_codes")
         and listed.get(u, {}).get("bypass") == shown[u].get("bypass") for u in shown)
     and (listed.get("bob", {}).get("bypass") or {}).get("active") is True
     and listed.get("alice", {}).get("bypass") is None,
     "list --json gives each member's recovery_codes and bypass as show --json does", repr(listed))
r = cli.run("list")
lines = r.out.splitlines()
head = lines[0].split() if lines else []
rows = {l.split()[0]: l.split() for l in lines[1:]}
# From the end: the masked number has spaces; LAST LOGIN, FAILURES, LOCKED UNTIL are one word each.
t.ok(r.rc == 0 and head[-7:-5] == ["RECOVERY", "BYPASS"]
     and rows.get("bob", [])[-5:-3] == [str(shown["bob"].get("recovery_codes")), "active"]
     and rows.get("alice", [])[-5:-3] == [str(shown["alice"].get("recovery_codes")), "-"],
     "the list table has RECOVERY and BYPASS columns: bob's code active, alice's revoked", r.out)

cli.cleanup()
sys.exit(t.done())
