#!/usr/bin/python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""twofa-enroll import without --replace against a directory (a throwaway slapd,
harness.slapd) while another admin enrols the same name: import checks every name first,
then writes; a proxy between the importer and slapd (harness.fleet.HoldingProxy, holding
the search alice's write makes) stops it after its check found
alice absent, another admin enrols alice meanwhile, and the import goes on. It must not
overwrite her: it stops "already enrolled" for that record (exit 65, the record's line
named), rolls back what it wrote before, and alice keeps the other admin's phone. With
nobody in the way the same import adds her and keeps her record's version."""

import json
import os
import sys

from harness import fleet, slapd
from harness.fleet import SEARCH, HoldingProxy, Host
from harness.sim import Sim
from harness.slapd import Slapd
from harness.tap import Tap

PASSWORD = "correct horse battery"
FILE_PHONE, OTHER_PHONE = "+14155550123", "+14155550199"


def main():
    t = Tap()
    slapd.require(t, twofa_code=True)
    fleet.skip_under_valgrind()
    sim = Sim()
    s = Slapd(tls=False)
    for name in ("aaron", "alice"):
        s.add_user(name)
    other = Host(sim, s)
    r = other.enroll("alice", PASSWORD, FILE_PHONE)
    t.ok(r.rc == 0, "alice enrolled, to have her record to import", r.describe())
    r = other.admin("export")
    lines = [l for l in r.out.splitlines() if json.loads(l)["user"] == "alice"]
    record = json.loads(lines[0]) if lines else {}
    record["version"] = 7
    for runtime in ("last_login", "failures", "locked_until"):
        record.pop(runtime, None)
    aaron = dict(record, user="aaron", version=3)
    path = os.path.join(other.env.dir, "import.jsonl")
    with open(path, "w") as f:
        f.write(json.dumps(aaron) + "\n" + json.dumps(record) + "\n")
    t.eq(other.admin("remove", "alice", "--yes").rc, 0, "alice removed: the file's aaron and alice are new")

    hold = HoldingProxy(s.port)
    importer = Host(sim, s, uris=[hold.uri])
    # The searches of the import: its check loads aaron and alice, then each write
    # finds the entry first (in name order): the 4th is alice's write.
    hold.arm(SEARCH, 4)
    slow = importer.cli.popen("import", path)
    t.ok(hold.held.wait(20), "the import has checked aaron and alice, written aaron, and is held before writing alice")
    r = other.enroll("alice", PASSWORD, OTHER_PHONE)
    t.ok(r.rc == 0, "another admin enrols alice meanwhile", r.describe())
    hold.release()
    out, err = slow.communicate(timeout=60)
    t.ok(slow.returncode == 65 and "alice is already enrolled" in err and "meanwhile" in err
         and "import.jsonl:2" in err and "rolled back" in err,
         "the import stops at alice's record: already enrolled (exit 65), what it wrote rolled back",
         "rc=%s\n%s%s" % (slow.returncode, out, err))
    shown = other.admin("show", "alice", "--json")
    t.ok(shown.rc == 0 and shown.json().get("phone") == OTHER_PHONE,
         "alice keeps the other admin's phone: the import did not overwrite her", shown.describe())
    t.ok(other.admin("show", "aaron").rc != 0, "aaron, written before, was rolled back")
    hold.close()

    t.eq(other.admin("remove", "alice", "--yes").rc, 0, "alice removed again")
    r = importer.admin("import", path)
    t.ok(r.rc == 0 and "2 new" in r.out, "with nobody in the way the import adds both", r.describe())
    found = s.search("(uid=alice)", ["twofaVersion", "twofaPhone"])
    t.ok(found and found[0][1].get("twofaVersion") == ["7"] and found[0][1].get("twofaPhone") == [FILE_PHONE],
         "with the record's version 7 and phone", found)
    for h in (other, importer):
        h.close()
    s.close()
    return t.done()


if __name__ == "__main__":
    sys.exit(main())
