#!/usr/bin/python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""The one write a login makes, twofa_member_store_consume (lib/member_store.h), through
tests/unit/member_store_tool against GDBM and a throwaway slapd with the shipped schema and
access rules (harness.slapd):
  - the login identity consumes a recovery code and bypass uses, one value each, and
    neither the record version nor anything else moves; a code used already is a
    conflict, a name not enrolled is not found;
  - that identity cannot add a recovery value, add or replace a bypass value, or change
    twofaVersion (ldapmodify with its own credentials);
  - 20 processes consuming one recovery code at once: exactly one wins, on GDBM, on one
    slapd, and on two providers (olcMultiProvider) with half the hosts reading from
    each and every write going to one; with a bypass code of 5 uses, exactly 5 win;
  - an admin's update from a read made before a login consumed a code (held between its
    read and its write) does not bring the code back; a new set of codes made meanwhile
    wins over the consume;
  - an import write (put IMPORT) onto a member enrolled since the check is "already
    enrolled" and leaves that member as it was, on both backends.
slapd missing fails the test; under the valgrind variant it is skipped with the other
directory suites (harness.slapd.require)."""

import sys
import tempfile

from harness import slapd as hs
from harness.store_tool import Store
from harness.tap import Tap

RACERS = 20


def hash_of(i):
    """member_store_tool's hash_of: the stored hash code number i stands for."""
    return "b2$%032x$%064x" % (i, i * 7 + 1)


def race(t, stores, kind, which, what, winners=1):
    """len(stores) login processes (one per store config) connect, wait, then consume
    hash_of(which) at once: exactly winners of them get ok, the rest a conflict."""
    procs = [st.popen("login", "consume-on-line", "alice", kind, str(which)) for st in stores]
    ready = [p.stdout.readline().strip() for p in procs]
    for p in procs:
        p.stdin.write("go\n")
        p.stdin.flush()
    results = [p.communicate(timeout=60)[0].strip().splitlines()[-1:] for p in procs]
    results = [r[0] if r else "(nothing)" for r in results]
    won = [r for r in results if r == "ok consumed"]
    lost = [r for r in results if r.startswith("error conflict")]
    t.ok(ready == ["ready"] * len(procs) and len(won) == winners and len(lost) == len(procs) - winners,
         "%s: %d consumers at once, exactly %d win%s, the others are told it was used"
         % (what, len(procs), winners, "" if winners > 1 else "s"), results)


def directory_values(s, attr):
    found = s.search("(uid=alice)", [attr, "twofaVersion"])
    return sorted(found[0][1].get(attr, [])), found[0][1].get("twofaVersion")


def modify_as(s, bind, *changes):
    lines = ["dn: " + s.user_dn("alice"), "changetype: modify"]
    for op, attr, values in changes:
        lines += ["%s: %s" % (op, attr)] + ["%s: %s" % (attr, v) for v in values] + ["-"]
    return s.modify("\n".join(lines) + "\n", bind=bind)


def consume_basics(t, st, what, s=None):
    """What one store gives a login, the same on both backends."""
    t.eq(st.one("admin", "add", "alice"), "ok added", what + ": alice added")
    t.eq(st.one("admin", "set-codes", "alice", "3", "3", "root"), "ok codes set",
         what + ": three recovery codes and a bypass code of 3 uses issued by root")
    t.eq(st.one("login", "codes", "alice"), "ok v2 recovery 1,2,3 bypass 3 root", what + ": as stored")
    t.eq(st.one("login", "consume", "alice", "recovery", "2"), "ok consumed", what + ": a recovery code consumed")
    t.eq(st.one("login", "codes", "alice"), "ok v2 recovery 1,3 bypass 3 root",
         what + ": exactly that one is gone, the version (2) did not move")
    r = st.one("login", "consume", "alice", "recovery", "2")
    t.ok(r.startswith("error conflict"), what + ": the same code again: a conflict (used already)", r)
    r = st.one("login", "consume", "alice", "recovery", "7")
    t.ok(r.startswith("error conflict"), what + ": a code never issued: a conflict", r)
    for left in (2, 1):
        t.eq(st.one("login", "consume", "alice", "bypass", "100"), "ok consumed", what + ": a bypass use")
        t.eq(st.one("login", "codes", "alice"), "ok v2 recovery 1,3 bypass %d root" % left,
             what + ": %d use%s left, the issuer kept" % (left, "s" if left > 1 else ""))
    t.eq(st.one("login", "consume", "alice", "bypass", "100"), "ok consumed", what + ": the last bypass use")
    t.eq(st.one("login", "codes", "alice"), "ok v2 recovery 1,3 bypass 0 -", what + ": the code is gone")
    r = st.one("login", "consume", "alice", "bypass", "100")
    t.ok(r.startswith("error conflict"), what + ": a use beyond the last: a conflict", r)
    r = st.one("login", "consume", "nobody", "recovery", "1")
    t.ok(r.startswith("error not-found"), what + ": a name not enrolled: not found", r)
    if s is not None:
        values, version = directory_values(s, "twofaRecoveryCode")
        t.ok(values == [hash_of(1), hash_of(3)] and version == ["2"],
             what + ": in the directory, two recovery values and twofaVersion 2", (values, version))


def import_race(t, st, what):
    """import without --replace checked alice absent; she was enrolled since: its write
    must not overwrite her (put IMPORT: "already enrolled"), and keeps a version."""
    t.eq(st.one("admin", "import", "newbie", "7"), "ok imported", what + ": import of a new member")
    t.eq(st.one("login", "codes", "newbie"), "ok v7 recovery - bypass 0 -", what + ": with the record's version 7")
    r = st.one("admin", "import", "alice", "9")
    t.ok(r.startswith("error exists"), what + ": an import write onto a member enrolled since the check: "
         "already enrolled", r)
    t.eq(st.one("login", "codes", "alice"), "ok v2 recovery 1,3 bypass 0 -", what + ": and she is as she was")


def gdbm(t, tmp):
    st = Store(tmp, "gdbm")
    consume_basics(t, st, "GDBM")
    import_race(t, st, "GDBM")
    race(t, [st] * RACERS, "recovery", 1, "GDBM, one recovery code")
    t.eq(st.one("login", "codes", "alice"), "ok v2 recovery 3 bypass 0 -", "GDBM: consumed once, the other stays")
    st.one("admin", "set-codes", "alice", "1", "5", "-")
    race(t, [st] * RACERS, "bypass", 100, "GDBM, a bypass code of 5 uses", winners=5)


def acl(t, s):
    """The login identity's rights on real values: delete one, nothing else."""
    login = s.login_bind()
    r = modify_as(s, login, ("add", "twofaRecoveryCode", [hash_of(50)]))
    t.ok(r.rc == 50, "the login identity cannot add a recovery value", r.describe())
    r = modify_as(s, login, ("add", "twofaBypassCode", [hash_of(100) + " 20991231000000Z 9 root"]))
    t.ok(r.rc == 50, "nor add a bypass value", r.describe())
    r = modify_as(s, login, ("replace", "twofaBypassCode", [hash_of(51) + " 20991231000000Z 1 root"]))
    t.ok(r.rc == 50, "nor replace the bypass code with one of its own", r.describe())
    r = modify_as(s, login, ("replace", "twofaVersion", ["99"]))
    t.ok(r.rc == 50, "nor change twofaVersion", r.describe())
    r = modify_as(s, login, ("delete", "twofaRecoveryCode", [hash_of(1)]), ("replace", "twofaVersion", ["99"]))
    t.ok(r.rc == 50 and hash_of(1) in directory_values(s, "twofaRecoveryCode")[0],
         "a consume that also bumps the version is refused whole", r.describe())


def admin_race(t, s, st):
    """An admin update read before a login consumed: its write must not bring the code back."""
    t.eq(st.one("admin", "set-codes", "alice", "3", "0", "-"), "ok codes set", "alice gets codes 1..3 again")
    before = st.one("login", "codes", "alice")
    slow = st.popen("admin", "update-paused", "alice", "+15550001111")
    t.eq(slow.stdout.readline().strip(), "read", "an admin's phone change has read alice (%s)" % before)
    t.eq(st.one("login", "consume", "alice", "recovery", "1"), "ok consumed", "a login consumes code 1 meanwhile")
    out, err = slow.communicate("go\n", timeout=60)
    t.ok(out.strip().endswith("ok updated"), "the admin's update goes through (the version did not move)",
         out + err)
    values, version = directory_values(s, "twofaRecoveryCode")
    t.ok(values == [hash_of(2), hash_of(3)],
         "code 1 stays consumed: the update did not write back the codes it read", (values, version))
    found = s.search("(uid=alice)", ["twofaPhone"])
    t.eq(found[0][1].get("twofaPhone"), ["+15550001111"], "and the phone is the admin's")

    slow = st.popen("admin", "update-paused", "alice", "codes")
    t.eq(slow.stdout.readline().strip(), "read", "an admin's new recovery set has read alice")
    t.eq(st.one("login", "consume", "alice", "recovery", "2"), "ok consumed", "a login consumes code 2 meanwhile")
    out, err = slow.communicate("go\n", timeout=60)
    t.ok(out.strip().endswith("ok updated"), "the new set is written", out + err)
    t.eq(directory_values(s, "twofaRecoveryCode")[0], sorted(hash_of(i) for i in (11, 12, 13)),
         "the new set wins: 11, 12, 13 and nothing of the old")


def ldap_one(t, tmp):
    with hs.Slapd(tls=False) as s:
        s.add_user("alice", "pw")
        st = Store(tmp, "one", s)
        consume_basics(t, st, "LDAP", s)
        import_race(t, st, "LDAP")
        acl(t, s)
        race(t, [st] * RACERS, "recovery", 1, "LDAP, one recovery code")
        t.eq(directory_values(s, "twofaRecoveryCode")[0], [hash_of(3)], "LDAP: code 1 gone, code 3 stays")
        st.one("admin", "set-codes", "alice", "1", "5", "root")
        race(t, [st] * RACERS, "bypass", 100, "LDAP, a bypass code of 5 uses", winners=5)
        t.eq(directory_values(s, "twofaBypassCode")[0], [], "LDAP: all 5 uses gone")
        admin_race(t, s, st)


def ldap_pair(t, tmp):
    pair = hs.SlapdPair(tls=False)
    try:
        pair.add_user("alice", "pw")
        admin = Store(tmp, "pair-admin", pair.a)
        t.eq(admin.one("admin", "add", "alice"), "ok added", "two providers: alice added through A")
        t.eq(admin.one("admin", "set-codes", "alice", "3", "0", "-"), "ok codes set", "with three recovery codes")
        t.ok(pair.wait_on(pair.b, "(twofaRecoveryCode=%s)" % hash_of(3)), "B has them too")
        # Hosts read from A or from B; every write goes to A (ldap_write_uri).
        on_a = Store(tmp, "host-a", pair.a, uri=pair.a.uri, write_uri=pair.a.uri)
        on_b = Store(tmp, "host-b", pair.a, uri=pair.b.uri, write_uri=pair.a.uri)
        race(t, [on_a, on_b] * (RACERS // 2), "recovery", 1, "two providers, writes to A, one recovery code")
        t.ok(pair.wait_on(pair.b, "(twofaRecoveryCode=%s)" % hash_of(1), want=False),
             "the consume reaches B: no host can use code 1 there either")
        r = on_b.one("login", "consume", "alice", "recovery", "1")
        t.ok(r.startswith("error conflict"), "a host reading from B is refused code 1 afterwards", r)
    finally:
        pair.close()


def main():
    t = Tap()
    hs.require(t)
    with tempfile.TemporaryDirectory(prefix="twofa-consume.") as tmp:
        gdbm(t, tmp)
        ldap_one(t, tmp)
        ldap_pair(t, tmp)
    return t.done()


if __name__ == "__main__":
    sys.exit(main())
