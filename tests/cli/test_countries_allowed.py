#!/usr/bin/python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""The countries allow-list (issue 15 item 4) at twofa-enroll add and phone, against the
simulator: a number of a country that countries does not list is refused (65) before any
code is sent or anything stored, in one line that names the country, the key and the
file; there is no override (a send to it is refused anyway); a listed country (any case,
and XK, outside ISO 3166-1) enrols; unset, every country does. `countries` marks what the
list allows: a last column Allowed only when countries is set, "allowed" in --json whenever
twofa.conf could be read; a twofa.conf it cannot load is a note and every country is listed
unmarked, none when there is no file. tests/cli/ldap/test_countries_allowed.sh runs it again
with the members in a slapd. TAP output."""

import os
import sys

from harness.tap import Tap
from harness.sim import Sim
from harness.cli import CODE, Cli

t = Tap()
sim = Sim()
cli = Cli(sim)
env = cli.env
os.makedirs(env.dbdir, 0o700, exist_ok=True)
US1, US2, GB1, GB2, XK1 = "+14155550101", "+14155550102", "+447400123456", "+447400123457", "+38344123456"
env.add_member("alice", "pw-alice-1", US1)
env.write_config({"countries": "gb, IE XK"})


def refused(r, cc, what):
    t.ok(r.rc == 65 and ("country %s is not allowed by countries in %s" % (cc, env.config_path)) in r.err
         and "nothing was sent or stored" in r.err and "twofa-enroll countries" in r.err and r.one_line_error(),
         what + ": refused (65), one line naming the country, the key and the file", r.describe())


# -- add ----------------------------------------------------------------------------------
sent = len(sim.outbox(US2))
r = cli.enroll("bob", US2, "US", ["pw-bob-1", CODE], extra=["--password-stdin"])
refused(r, "US", "add bob with a US number under countries = GB IE XK")
t.ok(cli.show("bob") is None and len(sim.outbox(US2)) == sent, "nothing stored, no code sent")
r = cli.enroll("bob", US2, "us", ["pw-bob-1", CODE], extra=["--password-stdin"])
refused(r, "US", "--country in lower case")
r = cli.run("add", "bob", "--phone", US2, "--country", "US", "--force")
t.ok(r.rc == 64 and cli.show("bob") is None, "no --force or other override: a usage error", r.describe())
r = cli.enroll("bob", GB1, "gb", ["pw-bob-1", CODE], extra=["--password-stdin"])
t.ok(r.rc == 0 and (cli.show("bob") or {}).get("phone") == GB1, "a GB number enrols (gb, any case)",
     r.describe())
r = cli.enroll("kim", XK1, "XK", ["pw-kim-1", CODE], extra=["--password-stdin"])
t.ok(r.rc == 0 and (cli.show("kim") or {}).get("country") == "XK", "a Kosovo (XK) number enrols when listed",
     r.describe())

# -- phone --------------------------------------------------------------------------------
sent = len(sim.outbox(US2))
r = cli.flow(["phone", "bob", "--phone", US2, "--country", "US"], US2, [CODE])
refused(r, "US", "phone bob to a US number")
t.ok((cli.show("bob") or {}).get("phone") == GB1 and len(sim.outbox(US2)) == sent,
     "bob keeps his GB number, no code sent")
# -- test: a member whose country the list no longer names gets no code ----------------------
sent = len(sim.outbox(US1))
r = cli.run("test", "alice")
refused(r, "US", "test alice, enrolled with US before the list")
t.eq(len(sim.outbox(US1)), sent, "no code sent to her US number")

r = cli.flow(["phone", "alice", "--phone", GB2, "--country", "GB"], GB2, [CODE])
t.ok(r.rc == 0 and (cli.show("alice") or {}).get("phone") == GB2,
     "alice, enrolled with US before the list, moves to a GB number", r.describe())

# -- countries marks the list ---------------------------------------------------------------
r = cli.run("countries")
lines = r.out.splitlines()
rows = {l.split()[-3]: l.split()[-1] for l in lines[1:] if len(l.split()) >= 4}
t.ok(r.rc == 0 and lines and lines[0].split()[-1] == "Allowed" and rows.get("GB") == "yes"
     and rows.get("IE") == "yes" and rows.get("XK") == "yes" and rows.get("US") == "no" and rows.get("FR") == "no",
     "countries: a last column Allowed, yes for GB IE XK, no for US and FR", r.out[:400] + r.err)
t.ok(sum(1 for v in rows.values() if v == "yes") == 3 and len(rows) == len(lines) - 1,
     "exactly three rows say yes, every row is marked")
r = cli.run("countries", "--json")
arr = r.json() if r.rc == 0 else []
allowed = sorted(c["code"] for c in arr if c.get("allowed") is True)
t.ok(allowed == ["GB", "IE", "XK"] and all(c.get("allowed") in (True, False) for c in arr),
     "countries --json: allowed is true for GB IE XK, false for the rest", allowed)

env.write_config({"countries": None})
r = cli.run("countries")
t.ok(r.rc == 0 and r.out.splitlines()[0].split()[-2:] == ["Calling", "code"] and r.err == "",
     "countries unset: the table has no Allowed column", r.out[:200] + r.err)
r = cli.run("countries", "--json")
arr = r.json() if r.rc == 0 else []
t.ok(arr and all(c.get("allowed") is True for c in arr), "--json: every country allowed", r.out[:200])
r = cli.enroll("carl", US2, "US", ["pw-carl-1", CODE], extra=["--password-stdin"])
t.ok(r.rc == 0, "countries unset: a US number enrols", r.describe())

# -- a twofa.conf countries cannot load -----------------------------------------------------
bad = os.path.join(env.dir, "bad.conf")
with open(bad, "w") as f:
    f.write(open(env.config_path).read() + "countries = GB ZZ\n")
os.chmod(bad, 0o600)
r = cli.run("countries", config=bad)
t.ok(r.rc == 0 and "Allowed" not in r.out and "United Kingdom" in r.out and len(r.err.splitlines()) == 1
     and "countries" in r.err and "no country is marked" in r.err,
     "a twofa.conf with an unknown code: every country, unmarked, and one note why", r.describe())
r = cli.run("countries", "--json", config=bad)
t.ok(r.rc == 0 and all("allowed" not in c for c in r.json()), "--json: no allowed field then", r.err)
r = cli.run("countries", config=os.path.join(env.dir, "none.conf"))
t.ok(r.rc == 0 and "United Kingdom" in r.out and r.err == "", "no twofa.conf at all: the list, no note",
     r.describe())
t.eq(cli.leaks(r.err), [], "no secret in the output")

cli.cleanup()
sys.exit(t.done())
