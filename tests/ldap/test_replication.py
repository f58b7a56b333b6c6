#!/usr/bin/python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""Two providers of tests/harness/slapd.py's SlapdPair (olcMultiProvider, syncprov), each
replicating from the other through a cuttable TCP proxy, with the shipped schema and
access rules: a member written on A is read on B within a bounded wait and the other way
round; with the links cut, a write stays on its side until heal, then arrives; a provider
killed and restarted catches up. And the window that remains when a site writes to both
providers during a partition: an update that asserts the record version (RFC 4528) loses
on one provider, but on two partitioned ones both assertions hold, and after heal the
later write wins, silently. etc/ldap/README and the issue 13 docs name that window."""

import socket
import sys
import time

from harness import slapd
from harness.slapd import SlapdPair
from harness.tap import Tap

t = Tap()
slapd.require(t)

WAIT = 10.0  # generous: replication on loopback takes well under a second


def phone(server, name):
    found = server.search("(uid=%s)" % name, ["twofaPhone"])
    return found[0][1].get("twofaPhone", [None])[0] if found else None


def set_phone(server, name, value, bind=None, assert_version=None, new_version=None):
    lines = ["dn: " + server.user_dn(name), "changetype: modify", "replace: twofaPhone", "twofaPhone: " + value, "-"]
    if new_version is not None:
        lines += ["replace: twofaVersion", "twofaVersion: %d" % new_version, "-"]
    extra = ["-e", "!assert=(twofaVersion=%d)" % assert_version] if assert_version is not None else []
    return server.tool("ldapmodify", extra, bind, input="\n".join(lines) + "\n")


def refused(port):
    try:
        socket.create_connection(("127.0.0.1", port), timeout=1).close()
        return False
    except OSError:
        return True


start = time.monotonic()
pair = SlapdPair()
a, b = pair.a, pair.b
t.ok(True, "two providers with replication both ways start in %.2f s" % (time.monotonic() - start))
t.ok(bool(b.search(base=a.login_dn, scope="base", attrs=["1.1"])),
     "the service identities created on A are on B")
r = b.whoami(b.login_bind())
t.ok(r.rc == 0 and a.login_dn in r.out, "the login identity binds on B with the password set on A", r.describe())

pair.add_user("alice", "pw-alice")
a.add_member("alice", twofaPhone="+15551234567", twofaCountry="US", bind=a.admin_bind())
start = time.monotonic()
arrived = pair.wait_on(b, "(&(uid=alice)(twofaPhone=+15551234567))", timeout=WAIT)
t.ok(arrived, "alice enrolled through A is a member on B within %.0f s (%.2f s)" % (WAIT, time.monotonic() - start))
found = b.search("(uid=alice)", ["twofaPhone"], bind=b.login_bind())
t.ok(found and found[0][1].get("twofaPhone") == ["+15551234567"], "the login identity reads her phone on B",
     repr(found))
found = b.search("(uid=alice)", ["twofaPhone"], bind=b.user_bind("alice"))
t.ok(found and found[0][1].get("twofaPhone") == ["+15551234567"], "alice binds on B with her password from A",
     repr(found))
r = set_phone(b, "alice", "+15552222222", bind=b.admin_bind())
t.ok(r.rc == 0 and pair.wait_on(a, "(twofaPhone=+15552222222)", timeout=WAIT),
     "a change written on B reaches A", r.describe())

# Cut.
pair.cut()
t.ok(refused(pair.proxy_a.port) and refused(pair.proxy_b.port), "cut: both replication links refuse connections")
r = set_phone(a, "alice", "+15553333333", bind=a.admin_bind())
t.ok(r.rc == 0, "with the links cut, A still takes a write", r.describe())
pair.add_user("bob", "pw-bob", on="b")
t.ok(not pair.wait_on(b, "(twofaPhone=+15553333333)", timeout=2.0) and phone(b, "alice") == "+15552222222",
     "A's write does not reach B while the links are cut (2 s)")
t.ok(not a.search("(uid=bob)", ["1.1"]), "nor B's new entry A")
start = time.monotonic()
pair.heal()
got_b = pair.wait_on(b, "(twofaPhone=+15553333333)", timeout=WAIT)
got_a = pair.wait_on(a, "(uid=bob)", timeout=WAIT)
t.ok(got_b and got_a, "after heal both writes arrive on the other side (%.2f s)" % (time.monotonic() - start))

# A provider killed and restarted catches up with what B took meanwhile.
a.kill()
r = set_phone(b, "alice", "+15554444444", bind=b.admin_bind())
t.ok(r.rc == 0, "with A killed (SIGKILL), B takes a write", r.describe())
found = b.search("(uid=alice)", ["twofaPhone"], bind=b.login_bind())
t.ok(found and found[0][1].get("twofaPhone") == ["+15554444444"], "and B serves the login identity alone")
start = time.monotonic()
a.start()
t.ok(pair.wait_on(a, "(twofaPhone=+15554444444)", timeout=WAIT),
     "A restarted on its data and ports catches up (%.2f s)" % (time.monotonic() - start))

# The version assertion: one provider serialises, a partition does not.
r = set_phone(a, "alice", "+15555555555", bind=a.admin_bind(), assert_version=1, new_version=2)
t.ok(r.rc == 0, "an update asserting twofaVersion=1 succeeds and sets 2", r.describe())
r = set_phone(a, "alice", "+15556666666", bind=a.admin_bind(), assert_version=1, new_version=2)
t.ok(r.rc == 122, "a second update asserting the stale version 1 fails on the same provider (122, assertion "
     "failed): the loser is told", r.describe())
t.ok(pair.wait_on(b, "(twofaVersion=2)", timeout=WAIT), "version 2 reaches B")
pair.cut()
r1 = set_phone(a, "alice", "+15557777777", bind=a.admin_bind(), assert_version=2, new_version=3)
time.sleep(0.05)  # the later CSN: B's write
r2 = set_phone(b, "alice", "+15558888888", bind=b.admin_bind(), assert_version=2, new_version=3)
t.ok(r1.rc == 0 and r2.rc == 0, "partitioned, an update asserting version 2 succeeds on A AND on B (the window)",
     r1.describe() + "\n" + r2.describe())
pair.heal()
converged = slapd.wait_for(lambda: phone(a, "alice") == phone(b, "alice") == "+15558888888", timeout=WAIT)
t.ok(converged, "after heal both converge on the later write; A's update is lost without an error",
     "A: %s B: %s" % (phone(a, "alice"), phone(b, "alice")))
pair.close()

sys.exit(t.done())
