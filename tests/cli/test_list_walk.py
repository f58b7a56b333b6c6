#!/usr/bin/python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""twofa-enroll list in one walk of the store (issue 13 items 11 and 13): the rows are kept
in an unlinked temporary file while the store is walked once, then printed by name. On
LDAP the old list made one search per member (15.6 s at 100k); here it makes a few paged
searches whatever the number of members. The rows are the ones the records give (every
field of --json, the table's widths from the longest name of all members), a damaged record
is named, counted and left out, and the temporary file leaves nothing in $TMPDIR."""

import json
import os
import sys
import tempfile

from harness.tap import Tap
from harness.sim import Sim
from harness.cli import Cli
from harness import slapd as hs

t = Tap()
sim = Sim()
cli = Cli(sim)
env = cli.env
os.makedirs(env.dbdir, 0o700, exist_ok=True)
LONG = "bartholomew-with-a-long-name"
env.add_member("al", None, "+14155550101", email="al@example.org")
env.add_member(LONG, None, "+14155550102", status="disabled")
env.add_member("cy", None, "+442079460103", country="GB", channel="call", status="pending")
env.add_member("dee", None, "", country="", channel="email", email="dee@example.org")
env.add_member("zed", None, "+14155550177")
NAMES = ["al", LONG, "cy", "dee", "zed"]

r = cli.run("list", "--json")
rows = r.json() if r.rc == 0 else []
t.eq([x["user"] for x in rows], NAMES, "list --json: every member, by name")
same = [x for x in rows if x == {k: v for k, v in (cli.show(x["user"]) or {}).items() if k in x}]
t.ok(len(rows) == len(NAMES) and len(same) == len(rows),
     "every --json row has the fields show gives the member, with the same values", rows)

r = cli.run("list")
lines = r.out.splitlines()
header = "USER" + " " * (len(LONG) - 4) + "  PHONE"
t.ok(r.rc == 0 and lines[:1] and lines[0].startswith(header) and [l.split()[0] for l in lines[1:]] == NAMES,
     "list: the header with the longest name's width, then the rows by name", r.describe())
t.ok(len(lines) == len(NAMES) + 1 and all(l[len(LONG):len(LONG) + 3] == "  +" for l in lines[1:]),
     "every row's name is padded to that width, then the phone column", r.out)
r = cli.run("list", "--status", "pending")
lines = r.out.splitlines()
t.ok(r.rc == 0 and len(lines) == 2 and lines[0].startswith(header) and lines[1].split()[0] == "cy",
     "list --status pending: one row, the width still from every member's name", r.describe())

# The rows are read back in passes of a bounded size (32 MiB; a test build takes a smaller
# one from the environment): one row per pass gives the same bytes as one pass for all.
for args in (("list",), ("list", "--json"), ("list", "--status", "active")):
    one = cli.run(*args)
    many = cli.run(*args, env=dict(os.environ, TWOFA_TEST_LIST_PASS_BYTES="1"))
    t.ok(one.rc == 0 and many.rc == 0 and one.out == many.out and len(one.out.splitlines()) > 2,
         "%s: a pass per row gives the same output as one pass" % " ".join(args), many.describe())

def damage_states():
    """Spoils the unlock_honoured of every entry in state.db; how many were found."""
    found = 0
    with open(env.state_db, "r+b") as f:
        data = f.read()
        at = data.find(b'"unlock_honoured":')
        while at >= 0:
            f.seek(at + len('"unlock_honoured":'))
            f.write(b"x")
            found += 1
            at = data.find(b'"unlock_honoured":', at + 1)
    return found


# The login states come from one walk of state.db: an unlocked member's entry is found by
# name, and a damaged one is named and shown as empty, the others still listed.
r = cli.run("unlock", "al")
t.ok(r.rc == 0 and os.path.exists(env.state_db), "unlock al: a state.db entry for al", r.describe())
damaged = damage_states()
r = cli.run("list")
t.ok(damaged >= 1 and r.rc == 0 and "login state of 'al' is damaged" in r.err
     and [l.split()[0] for l in r.out.splitlines()[1:]] == NAMES,
     "list: a damaged login state is named, the member listed with none", r.describe())
os.remove(env.state_db)

# Each row's state is found by name through the table in name order: entries for al, cy and
# dee (all damaged, so that each is named), none for the name between and the last: exactly
# those three are named, in name order.
r = [cli.run("unlock", u) for u in ("dee", "al", "cy")]
damaged = damage_states()
r = cli.run("list")
named = [l.split("'")[1] for l in r.err.splitlines() if "login state of '" in l]
t.ok(damaged >= 3 and r.rc == 0 and named == ["al", "cy", "dee"]
     and [l.split()[0] for l in r.out.splitlines()[1:]] == NAMES,
     "list: the states of al, cy and dee found among members without one, in name order",
     (damaged, named, r.describe()))
os.remove(env.state_db)

# $TMPDIR holds the rows while the store is walked, and nothing after.
tmp = tempfile.mkdtemp(prefix="twofa-list-tmp-", dir="/tmp")
r = cli.run("list", env=dict(os.environ, TMPDIR=tmp))
t.ok(r.rc == 0 and len(r.out.splitlines()) == len(NAMES) + 1 and os.listdir(tmp) == [],
     "list with TMPDIR set: all rows, and nothing left in TMPDIR", r.describe())
os.rmdir(tmp)
if os.environ.get("TWOFA_CLI_WRAPPER", "").strip():
    t.skip("TMPDIR that does not exist", "the wrapper (valgrind) itself cannot start without it")
else:
    r = cli.run("list", env=dict(os.environ, TMPDIR=tmp))
    t.ok(r.rc == 1 and r.out == "" and "temporary file" in r.err and r.one_line_error(),
         "TMPDIR that does not exist: exit 1, saying why, nothing listed", r.describe())

# A record that does not decode: named, counted, left out; the others still listed.
with open(cli.members_db, "r+b") as f:
    data = f.read()
    at = data.find(b'"phone":"+14155550177"')
    status = data.find(b'"status":"active"', at) if at >= 0 else -1
    if status >= 0:
        f.seek(status + len('"status":"'))
        f.write(b"ACTIVE")
t.ok(status >= 0, "zed's record found in members.db and damaged")
r = cli.run("list")
t.ok(r.rc == 73 and "record 'zed' is damaged" in r.err and "1 damaged record left out" in r.err
     and [l.split()[0] for l in r.out.splitlines()[1:]] == NAMES[:-1],
     "list: the damaged record is named and counted (exit 73), the others listed", r.describe())
r = cli.run("list", "--json")
try:
    listed = [x["user"] for x in json.loads(r.out)]
except ValueError:
    listed = None
t.ok(r.rc == 73 and listed == NAMES[:-1], "list --json: valid JSON of the others, exit 73", r.describe())
cli.cleanup()

# -- store = ldap: a few paged searches, not one per member ------------------------------------
if os.environ.get("TWOFA_VALGRIND"):
    t.skip("list on LDAP: one walk", "the LDAP part runs in the default variant")
elif hs.available() is not None:
    t.ok(False, "slapd and the LDAP tools are installed", hs.available())
else:
    os.environ["TWOFA_SLAPD_DEBUG"] = "stats"  # slapd logs every operation
    lcli = Cli(sim, backend="ldap")
    lenv = lcli.env
    N = 40
    names = ["m%03d" % i for i in range(N)]
    for i, name in enumerate(reversed(names)):
        lenv.add_member(name, None, "+1415555%04d" % i)

    def searches():
        with open(lenv.slapd.log_path, errors="replace") as f:
            return sum(1 for line in f if " SRCH base=" in line)

    before = searches()
    r = lcli.run("list", "--json")
    made = searches() - before
    t.ok(r.rc == 0 and [x["user"] for x in r.json()] == names, "ldap: list --json, every member by name",
         r.describe())
    t.ok(0 < made <= 3, "ldap: list of %d members made %d searches (one walk, not one per member)"
         % (N, made))
    lcli.cleanup()

sim.stop()
sys.exit(t.done())
