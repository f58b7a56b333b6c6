#!/usr/bin/python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""The LDAP member store (lib/member_store_ldap.c) against a throwaway slapd
(harness.slapd: the shipped schema and ACLs, the two service identities), through
member_store_tool, which runs lib/member_store.h's operations:
  - add puts the class on an existing inetOrgPerson entry, or creates
    uid=<name>,ou=people (account + twofaMember) with its RDN escaped (',', '+', '"',
    '\\', '<', '>', ';', a leading '#' or space); adding again is "exists";
  - load reads it with the login identity; "Alice" does not find alice;
  - update bumps the version; two handles that both read and then both write: exactly
    one gets TWOFA_ECONFLICT, and the winner's change is what stays;
  - remove takes the class and attributes, never the user's entry;
  - names, each and count page through 1,200 members with the server's size limit of
    500 (a plain search of them fails there);
  - a uid present in two subtrees makes load fail closed, naming the count;
  - injection names (*, a*, x)(uid=*) find nothing and change nothing;
  - a handle whose server restarted reconnects once and goes on; one whose server is
    down fails "unavailable", and connects again once it is back;
  - each reports an undecodable member through the bad callback, with its DN;
  - through a lax copy of the schema (no SINGLE-VALUE, no MUST), which slapd would
    otherwise refuse: two values in a single-valued field and an oversized value fail
    closed, and a member without twofaVersion (version 0) is updated under the
    assertion that there is none, a racing second writer losing.
If no slapd can run here the test FAILS (it does not skip)."""

import os
import subprocess
import sys
import tempfile

from harness.tap import Tap
from harness import slapd as hs

BUILDDIR = os.environ.get("TWOFA_BUILDDIR") or os.getcwd()
TOOL = os.path.join(BUILDDIR, "tests", "unit", "member_store_tool")
MEMBERS = 1200


def filter_escape(value):
    out = ""
    for ch in value.encode():
        out += "\\%02x" % ch if ch in b"*()\\" or ch < 0x20 or ch >= 0x7f else chr(ch)
    return out


class Store:
    """member_store_tool on one config."""

    def __init__(self, s, directory, name, base, scope="one", uri=None, timeout=5):
        with open(s.login_pw_file) as f:
            login_pw = f.read()
        with open(s.admin_pw_file) as f:
            admin_pw = f.read()
        run_dir = os.path.join(directory, "run-" + name)
        os.makedirs(run_dir, mode=0o700, exist_ok=True)
        self.path = os.path.join(directory, name + ".conf")
        fd = os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as f:
            f.write("store = ldap\nldap_uri = %s\nldap_base = %s\nldap_scope = %s\nldap_tls = none\n"
                    "ldap_bind_dn = %s\nldap_bind_password = %s\n"
                    "ldap_admin_bind_dn = %s\nldap_admin_bind_password = %s\n"
                    "ldap_timeout = %d\nldap_run_dir = %s\n"
                    # The backend alone: no member cache standing in for a server
                    # down, and none written outside this test's directory.
                    "ldap_cache_max_age = 0\nstate_db = %s\n"
                    % (uri or s.uri, base, scope, s.login_dn, login_pw, s.admin_dn, admin_pw, timeout, run_dir,
                       os.path.join(run_dir, "state.db")))

    def popen(self, role, *args):
        env = dict(os.environ, LDAPNOINIT="1")
        return subprocess.Popen([TOOL, self.path, role] + list(args), stdin=subprocess.PIPE,
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)

    def run(self, role, *args):
        p = self.popen(role, *args)
        out, err = p.communicate(timeout=60)
        return out.splitlines(), err

    def one(self, role, *args):
        lines, err = self.run(role, *args)
        return lines[-1] if lines else "(nothing) " + err


def entry(s, filt, attrs=("*",)):
    return s.search(filt, list(attrs))


def main():
    t = Tap()
    why = hs.available()
    if why is not None:
        t.ok(False, "slapd cannot run here: %s" % why)
        return t.done()
    with hs.Slapd() as s, tempfile.TemporaryDirectory(prefix="twofa-ldapstore.") as tmp:
        st = Store(s, tmp, "people", s.people)
        basics(t, s, st)
        names_in_dns(t, s, st)
        injection(t, s, st)
        two_subtrees(t, s, tmp)
        reconnect(t, s, st, tmp)
        bad_entry(t, s, st)
        paging(t, s, tmp)
    with hs.Slapd(schema="lax") as s, tempfile.TemporaryDirectory(prefix="twofa-ldapstore.") as tmp:
        lax(t, s, Store(s, tmp, "lax", s.people))
    return t.done()


def basics(t, s, st):
    s.add_user("alice", "pw")
    t.eq(st.one("admin", "add", "alice"), "ok added", "add to an existing inetOrgPerson entry")
    got = entry(s, "(uid=alice)")
    t.ok(len(got) == 1 and got[0][0] == s.user_dn("alice")
         and {"inetOrgPerson", "posixAccount", "twofaMember"} <= set(got[0][1]["objectClass"])
         and got[0][1].get("twofaVersion") == ["1"] and got[0][1].get("twofaUser") == ["alice"],
         "the entry keeps its classes and gets twofaMember, version 1", got)
    t.ok(st.one("admin", "add", "alice").startswith("error exists"), "adding again: already enrolled")

    t.eq(st.one("admin", "add", "bob"), "ok added", "add without an entry creates one")
    got = entry(s, "(uid=bob)")
    t.ok(len(got) == 1 and got[0][0] == "uid=bob," + s.people
         and set(got[0][1]["objectClass"]) == {"account", "twofaMember"},
         "uid=bob,ou=people: account + twofaMember", got)

    t.eq(st.one("login", "load", "alice"), "ok alice v1 active +15551234567", "load with the login identity")
    t.ok(st.one("login", "load", "Alice").startswith("error not-found"), "load Alice does not find alice")
    t.ok(st.one("login", "load", "carol").startswith("error not-found"), "load of a non-member: not found")

    t.eq(st.one("admin", "update", "alice", "pending"), "ok updated", "update")
    t.eq(st.one("login", "load", "alice"), "ok alice v2 pending +15551234567", "update bumps the version")

    lines, err = st.run("admin", "race", "alice")
    t.ok(lines == ["inner ok updated", "outer error conflict: alice was changed by someone else meanwhile: "
                   "run the command again"], "two handles read, then both write: exactly one conflict",
         "\n".join(lines) + err)
    t.eq(st.one("login", "load", "alice"), "ok alice v3 pending +15551234567",
         "the winner's change stays, the loser's is not written")

    t.eq(st.one("admin", "replace", "alice", "9"), "ok replaced", "put REPLACE")
    t.eq(st.one("login", "load", "alice"), "ok alice v9 active +15551234567", "REPLACE keeps the version")

    t.eq(st.one("admin", "remove", "alice"), "ok removed", "remove")
    got = entry(s, "(uid=alice)")
    t.ok(len(got) == 1 and "twofaMember" not in got[0][1]["objectClass"]
         and not [a for a in got[0][1] if a.lower().startswith("twofa")]
         and "inetOrgPerson" in got[0][1]["objectClass"] and got[0][1].get("cn") == ["alice"],
         "remove leaves the user's entry, without twofa class or attributes", got)
    t.ok(st.one("login", "load", "alice").startswith("error not-found"), "removed: not found")
    t.ok(st.one("admin", "remove", "alice").startswith("error not-found"), "remove again: not found")
    t.eq(st.one("admin", "add", "alice"), "ok added", "add after remove puts the class back")
    t.ok(st.one("login", "add", "dave").startswith("error"), "the login identity cannot create members")

    # uid matches case-insensitively: ALICE's search finds alice's entry, which is not hers.
    res = st.one("admin", "add", "ALICE")
    t.ok(res.startswith("error store") and "another member" in res, "add ALICE onto alice's entry: refused", res)
    res = st.one("admin", "replace", "ALICE", "5")
    t.ok(res.startswith("error store"), "replace ALICE over alice's record: refused", res)
    t.eq(st.one("login", "load", "alice"), "ok alice v1 active +15551234567", "alice's record is untouched")
    s.add_user("carol")
    res = st.one("admin", "add", "Carol")
    got = entry(s, "(uid=carol)")
    t.ok(res.startswith("error store") and "another uid" in res and "twofaMember" not in got[0][1]["objectClass"],
         "add Carol onto carol's (not enrolled) entry: refused, nothing written", (res, got))


def names_in_dns(t, s, st):
    for name in ("a,b", "c+uid=d", 'q"q', "b\\s", "<x>", "e;f", "#hash", " lead", "g=h"):
        res = st.one("admin", "add", name)
        got = entry(s, "(twofaUser=%s)" % filter_escape(name), ["uid"])
        t.ok(res == "ok added" and len(got) == 1 and got[0][1].get("uid") == [name]
             and got[0][0].endswith("," + s.people) and got[0][0].count("=") >= 4,
             "created %r with its RDN escaped, under ou=people" % name, (res, got))
        t.eq(st.one("login", "load", name), "ok %s v1 active +15551234567" % name, "and it loads: %r" % name)


def injection(t, s, st):
    before = st.one("admin", "count")
    for name in ("*", "a*", "x)(uid=*", "*)(objectClass=*", "alice)(|(uid=*"):
        t.ok(st.one("login", "load", name).startswith("error not-found"), "load %r finds nothing" % name)
        t.ok(st.one("admin", "update", name, "disabled").startswith("error not-found"),
             "update %r finds nothing" % name)
        t.ok(st.one("admin", "remove", name).startswith("error not-found"), "remove %r finds nothing" % name)
    t.eq(st.one("admin", "count"), before, "and nothing changed (%s)" % before)
    t.eq(st.one("login", "load", "alice"), "ok alice v1 active +15551234567", "alice is as she was")


def two_subtrees(t, s, tmp):
    s.add_ldif("dn: ou=other,%s\nobjectClass: organizationalUnit\nou: other\n\n"
               "dn: uid=twin,ou=other,%s\nobjectClass: account\nuid: twin\n" % (s.base, s.base))
    s.add_user("twin")
    for dn in ("uid=twin,ou=other," + s.base, s.user_dn("twin")):
        s.modify("dn: %s\nchangetype: modify\nadd: objectClass\nobjectClass: twofaMember\n-\n"
                 "add: twofaUser\ntwofaUser: twin\n-\nadd: twofaStatus\ntwofaStatus: active\n-\n"
                 "add: twofaChannel\ntwofaChannel: sms\n-\nadd: twofaVersion\ntwofaVersion: 1\n-\n"
                 "add: twofaCreated\ntwofaCreated: 20260101000000Z\n-\n"
                 "add: twofaUpdated\ntwofaUpdated: 20260101000000Z\n-\n"
                 "add: twofaPhone\ntwofaPhone: +15551234567\n-\nadd: twofaCountry\ntwofaCountry: US\n-\n"
                 "add: twofaPasswordHash\ntwofaPasswordHash: $argon2id$v=19$m=65536,t=2,p=1$c29tZQ$aGFzaA\n"
                 % dn, check=True)
    sub = Store(s, tmp, "sub", s.base, scope="sub")
    res = sub.one("login", "load", "twin")
    t.ok(res.startswith("error store") and "2 or more entries" in res, "a uid in two subtrees fails closed", res)
    t.ok(sub.one("admin", "update", "twin", "disabled").startswith("error store"), "update too")
    t.ok(sub.one("admin", "remove", "twin").startswith("error store"), "remove too")
    t.ok(Store(s, tmp, "one", s.people).one("login", "load", "twin").startswith("ok twin"),
         "one level under ou=people sees one")
    missing = Store(s, tmp, "missing", "ou=nowhere," + s.base)
    res = missing.one("login", "load", "alice")
    t.ok(res.startswith("error store") and "does not exist" in res,
         "a missing ldap_base is a store error, not \"not enrolled\"", res)


def stopped(pid):
    """Every thread of pid has stopped: SIGSTOP reaches them one by one, and one that
    has not yet could still answer."""
    task = "/proc/%d/task" % pid
    for tid in os.listdir(task):
        with open(os.path.join(task, tid, "stat")) as f:
            if f.read().rsplit(")", 1)[1].split()[0] != "T":
                return False
    return True


def ask(p, name="alice"):
    """One load on a running load-lines tool."""
    p.stdin.write(name + "\n")
    p.stdin.flush()
    return p.stdout.readline().strip()


def reconnect(t, s, st, tmp):
    p = st.popen("login", "load-lines")
    want = "ok alice v1 active +15551234567"
    first = ask(p)
    s.stop()
    s.start()
    second = ask(p)
    s.stop()
    down = ask(p)
    s.start()
    back = ask(p)
    out, err = p.communicate("", timeout=60)
    t.ok(first == want and second == want, "a handle whose server restarted reconnects once", (first, second, err))
    t.ok(down.startswith("error unavailable"), "with the server down: unavailable", down)
    t.ok(back == want, "after it, the next call connects again", (back, err))

    # A server that stops answering (SIGSTOP): the operation times out and the
    # connection is marked failed; the next call must not reuse it.
    quick = Store(s, tmp, "quick", s.people, timeout=1)
    p = quick.popen("login", "load-lines")
    first = ask(p)
    s.pause()
    hs.wait_for(lambda: stopped(s.proc.pid))
    try:
        hung = ask(p)
    finally:
        s.resume()
    hs.wait_for(lambda: s.whoami().rc == 0)
    back = ask(p)
    out, err = p.communicate("", timeout=60)
    t.ok(first == want and hung.startswith("error unavailable"), "a silent server: unavailable", (first, hung))
    t.ok(back == want, "the timed-out connection is not reused: the next call connects again", (back, err))


def bad_entry(t, s, st):
    s.add_user("mallory")
    s.modify("dn: %s\nchangetype: modify\nadd: objectClass\nobjectClass: twofaMember\n-\n"
             "add: twofaUser\ntwofaUser: mallory\n-\nadd: twofaStatus\ntwofaStatus: active\n-\n"
             "add: twofaChannel\ntwofaChannel: sms\n-\nadd: twofaVersion\ntwofaVersion: 1\n-\n"
             "add: twofaCreated\ntwofaCreated: 20260101000000Z\n-\nadd: twofaUpdated\ntwofaUpdated: 2026\n"
             % s.user_dn("mallory"), check=False)
    s.modify("dn: %s\nchangetype: modify\nadd: objectClass\nobjectClass: twofaMember\n-\n"
             "add: twofaUser\ntwofaUser: mallory\n-\nadd: twofaStatus\ntwofaStatus: frozen\n-\n"
             "add: twofaChannel\ntwofaChannel: sms\n-\nadd: twofaVersion\ntwofaVersion: 1\n-\n"
             "add: twofaCreated\ntwofaCreated: 20260101000000Z\n-\n"
             "add: twofaUpdated\ntwofaUpdated: 20260101000000Z\n" % s.user_dn("mallory"), check=True)
    lines, err = st.run("admin", "each")
    bad = [l for l in lines if l.startswith("bad ")]
    t.ok(len(bad) == 1 and bad[0].startswith("bad " + s.user_dn("mallory") + ": ") and "twofaStatus" in bad[0]
         and lines[-1].startswith("ok "), "each reports the undecodable member with its DN", lines[-3:])
    t.ok(st.one("login", "load", "mallory").startswith("error store"), "and load fails closed on it")
    t.eq(st.one("admin", "remove", "mallory"), "ok removed", "remove clears even an undecodable member")


def add_raw_member(s, name, attrs):
    """name's entry with the twofaMember class and exactly attrs ([(attr, value)])."""
    s.add_user(name)
    lines = ["dn: " + s.user_dn(name), "changetype: modify", "add: objectClass", "objectClass: twofaMember",
             "-"]
    for attr, value in attrs:
        lines += ["add: " + attr, "%s: %s" % (attr, value), "-"]
    s.modify("\n".join(lines) + "\n", check=True)


def member_attrs(name, **override):
    base = [("twofaUser", name), ("twofaStatus", "active"), ("twofaChannel", "sms"), ("twofaVersion", "1"),
            ("twofaCreated", "20260101000000Z"), ("twofaUpdated", "20260101000000Z"),
            ("twofaPhone", "+15551234567"), ("twofaCountry", "US"),
            ("twofaPasswordHash", "$argon2id$v=19$m=65536,t=2,p=1$c29tZQ$aGFzaA")]
    out = [(a, v) for a, v in base if a not in override]
    for a, v in override.items():
        out += [(a, x) for x in (v if isinstance(v, list) else [v]) if x is not None]
    return out


def lax(t, s, st):
    add_raw_member(s, "twophones", member_attrs("twophones", twofaPhone=["+15551234567", "+15557654321"]))
    res = st.one("login", "load", "twophones")
    t.ok(res.startswith("error store") and "twofaPhone" in res and "single-valued" in res,
         "two values in a single-valued field: load fails closed", res)
    add_raw_member(s, "twousers", member_attrs("twousers", twofaUser=["twousers", "root"]))
    res = st.one("login", "load", "twousers")
    t.ok(res.startswith("error store") and "twofaUser" in res, "two twofaUser values: load fails closed", res)
    add_raw_member(s, "bigmail", member_attrs("bigmail", twofaEmail="a" * 300 + "@example.org"))
    res = st.one("login", "load", "bigmail")
    t.ok(res.startswith("error store") and "twofaEmail" in res and "longer than" in res,
         "an oversized value: load fails closed naming the attribute", res)
    add_raw_member(s, "nostatus", member_attrs("nostatus", twofaStatus=None))
    res = st.one("login", "load", "nostatus")
    t.ok(res.startswith("error store") and "twofaStatus" in res, "a required attribute missing", res)
    lines, err = st.run("admin", "each")
    bad = sorted(l.split(":")[0] for l in lines if l.startswith("bad "))
    t.eq(bad, sorted("bad " + s.user_dn(n) for n in ("twophones", "twousers", "bigmail", "nostatus")),
         "each reports all four through the bad callback")

    add_raw_member(s, "old", member_attrs("old", twofaVersion=None))
    t.eq(st.one("login", "load", "old"), "ok old v0 active +15551234567", "a member without twofaVersion is v0")
    lines, err = st.run("admin", "race", "old")
    t.ok(lines == ["inner ok updated", "outer error conflict: old was changed by someone else meanwhile: "
                   "run the command again"], "v0: the update asserts no version; the second writer loses",
         "\n".join(lines) + err)
    t.eq(st.one("login", "load", "old"), "ok old v1 pending +15551234567", "and the first one's write is v1")


def paging(t, s, tmp):
    fleet = "ou=fleet," + s.base
    chunks = ["dn: %s\nobjectClass: organizationalUnit\nou: fleet\n" % fleet]
    for i in range(MEMBERS):
        chunks.append("dn: uid=m%04d,%s\nobjectClass: account\nobjectClass: twofaMember\nuid: m%04d\n"
                      "twofaUser: m%04d\ntwofaStatus: active\ntwofaChannel: sms\ntwofaVersion: 1\n"
                      "twofaCreated: 20260101000000Z\ntwofaUpdated: 20260101000000Z\n"
                      "twofaPhone: +15551234567\ntwofaCountry: US\n"
                      "twofaPasswordHash: $argon2id$v=19$m=65536,t=2,p=1$c29tZQ$aGFzaA\n" % (i, fleet, i, i))
    s.add_ldif("\n".join(chunks))
    plain = s.search_raw("(objectClass=twofaMember)", ["twofaUser"], base=fleet, bind=s.login_bind())
    t.ok(plain.rc == 4, "a plain search of %d members hits the server's size limit" % MEMBERS, plain.describe())
    fl = Store(s, tmp, "fleet", fleet)
    lines, err = fl.run("login", "names")
    names = sorted(l[5:] for l in lines if l.startswith("name "))
    t.ok(lines[-1] == "ok %d names" % MEMBERS and names == ["m%04d" % i for i in range(MEMBERS)],
         "names pages through all %d, each once" % MEMBERS, lines[-1:] + [err])
    lines, err = fl.run("admin", "each")
    t.ok(lines[-1] == "ok %d members" % MEMBERS and not [l for l in lines if l.startswith("bad ")],
         "each decodes all %d" % MEMBERS, lines[-1:] + [err])
    t.eq(fl.one("login", "count"), "ok count %d" % MEMBERS, "count")
    lines, err = fl.run("login", "first-count")
    t.ok(len(lines) == 2 and lines[0].startswith("first m") and lines[1] == "ok count %d" % MEMBERS,
         "a walk stopped early, then another on the same handle", lines + [err])


if __name__ == "__main__":
    sys.exit(main())
