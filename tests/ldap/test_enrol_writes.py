#!/usr/bin/python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""The writes of issue 15 (lib/member_store.h): twofa_member_store_enrol with a LOGIN
handle, twofa_member_store_revoke_invite and twofa_member_store_phone_users, through
tests/unit/member_store_tool on GDBM and on a throwaway slapd loaded with the shipped
schema, twofa-access.* and twofa-enrol.* (both forms):
  - enroll=self: a user who is no member enrols once; again: already enrolled; two
    enrolments of one user at once: exactly one wins;
  - enroll=invite: a wrong invite, an expired one and none are refused and change
    nothing; the right one enrols and is consumed in that write; reused: refused; two
    enrolments with one invite at once: exactly one wins;
  - the login identity cannot do more than twofa-enrol.* says: not change an active
    member's phone or status, not give an invited entry a password hash, a recovery code
    or a bypass code, not delete an active member's class; it can count the members of
    a number (a search on twofaPhone), which another user cannot;
  - invite --revoke removes an invited record (the entry stays) and refuses a member.
slapd missing fails the test; under the valgrind variant it is skipped with the other
directory suites (harness.slapd.require)."""

import sys
import tempfile

from harness import slapd as hs
from harness.store_tool import Store
from harness.tap import Tap

CODE = "0123-4567-89AB-CDEF"
WRONG = "ZZZZ-YYYY-XXXX-WWWW"
PHONE = "+15557770001"


def races(t, st, what):
    """Two logins enrol one user at once: one wins, the other is told."""
    ready, got = st.at_once("login", ("enrol-on-line", "dave", "-", PHONE), ("enrol-on-line", "dave", "-", PHONE))
    t.ok(ready == ["ready"] * 2 and sorted(got) == ["error exists: dave is already enrolled", "ok enrolled"],
         what + ": self: two enrolments of dave at once: exactly one wins, the other is already enrolled", got)
    t.eq(st.one("admin", "invite", "erin", CODE, "3600"), "ok invited", what + ": erin invited")
    ready, got = st.at_once("login", ("enrol-on-line", "erin", CODE, PHONE), ("enrol-on-line", "erin", CODE, PHONE))
    won = [r for r in got if r == "ok enrolled"]
    lost = [r for r in got if r.startswith("error exists") or r.startswith("error permission")]
    t.ok(ready == ["ready"] * 2 and len(won) == 1 and len(lost) == 1,
         what + ": invite: two enrolments with one invite at once: exactly one wins", got)


def basics(t, st, what):
    t.eq(st.one("login", "enrol", "carol", "-", PHONE), "ok enrolled", what + ": self: carol enrols")
    t.ok(st.one("login", "load", "carol").startswith("ok carol v1 active " + PHONE),
         what + ": carol is an active member of version 1")
    r = st.one("login", "enrol", "carol", "-", PHONE)
    t.ok(r.startswith("error exists"), what + ": self again: already enrolled", r)
    r = st.one("login", "enrol", "carol", CODE, PHONE)
    t.ok(r.startswith("error exists"), what + ": invite mode for a member: already enrolled", r)

    t.eq(st.one("admin", "invite", "frank", CODE, "3600"), "ok invited", what + ": frank invited")
    t.ok(st.one("login", "load", "frank").startswith("ok frank v1 invited"), what + ": status invited, no phone")
    r = st.one("login", "enrol", "frank", "-", PHONE)
    t.ok(r.startswith("error exists"), what + ": self mode over an invite: refused", r)
    r = st.one("login", "enrol", "frank", WRONG, PHONE)
    t.ok(r.startswith("error permission"), what + ": a wrong invite: refused", r)
    r = st.one("login", "enrol", "frank", "not-a-code", PHONE)
    t.ok(r.startswith("error permission"), what + ": not a code: refused", r)
    t.ok(st.one("login", "load", "frank").startswith("ok frank v1 invited"), what + ": frank is as he was")
    t.eq(st.one("login", "enrol", "frank", CODE, PHONE), "ok enrolled", what + ": the right invite enrols frank")
    t.ok(st.one("login", "load", "frank").startswith("ok frank v2 active " + PHONE),
         what + ": frank is active, version 2")
    r = st.one("login", "enrol", "frank", CODE, PHONE)
    t.ok(r.startswith("error exists"), what + ": the invite reused: refused (frank is a member)", r)

    t.eq(st.one("admin", "invite", "gina", CODE, "-60"), "ok invited", what + ": gina's invite expired a minute ago")
    r = st.one("login", "enrol", "gina", CODE, PHONE)
    t.ok(r.startswith("error permission"), what + ": an expired invite: refused", r)
    r = st.one("login", "enrol", "hal", CODE, PHONE)
    t.ok(r.startswith("error permission"), what + ": an invite for a user who has none: refused", r)
    t.eq(st.one("admin", "invite", "hal", CODE, "3600"), "ok invited", what + ": hal invited")
    r = st.one("admin", "revoke", "frank")
    t.ok(r.startswith("error exists"), what + ": revoke refuses a member", r)
    t.eq(st.one("admin", "revoke", "hal"), "ok revoked", what + ": hal's invite revoked")
    r = st.one("login", "load", "hal")
    t.ok(r.startswith("error not-found"), what + ": hal has no record", r)
    r = st.one("admin", "revoke", "hal")
    t.ok(r.startswith("error not-found"), what + ": revoke again: not found", r)
    races(t, st, what)
    # carol, dave, erin, frank have PHONE; gina is invited.
    t.eq(st.one("login", "phone-users", PHONE, "-"), "ok count 4", what + ": four members have the number")
    t.eq(st.one("login", "phone-users", PHONE, "carol"), "ok count 3", what + ": three besides carol")
    t.eq(st.one("admin", "phone-users", "+15557770002", "-"), "ok count 0", what + ": none another")


def modify_as(s, name, bind, *changes):
    lines = ["dn: " + s.user_dn(name), "changetype: modify"]
    for op, attr, values in changes:
        lines += ["%s: %s" % (op, attr)] + ["%s: %s" % (attr, v) for v in values] + ["-"]
    return s.modify("\n".join(lines) + "\n", bind=bind)


def acl(t, s, st, what):
    """The login identity's rights beyond the enrolment itself: none."""
    login = s.login_bind()
    t.eq(st.one("admin", "invite", "ivy", CODE, "3600"), "ok invited", what + ": ivy invited")
    r = modify_as(s, "carol", login, ("replace", "twofaPhone", ["+15550000000"]))
    t.ok(r.rc == 50, what + ": the login identity cannot change an active member's phone", r.describe())
    r = modify_as(s, "carol", login, ("replace", "twofaStatus", ["disabled"]))
    t.ok(r.rc == 50, what + ": nor its status", r.describe())
    r = modify_as(s, "carol", login, ("delete", "objectClass", ["twofaMember"]))
    t.ok(r.rc == 50, what + ": nor remove its class", r.describe())
    for attr, value in (("twofaPasswordHash", "$argon2id$v=19$m=65536,t=3,p=1$c2FsdA$aGFzaA"),
                        ("twofaRecoveryCode", "b2$%032x$%064x" % (1, 1)),
                        ("twofaBypassCode", "b2$%032x$%064x 20991231000000Z 1 root" % (2, 2)),
                        ("twofaTotpFactor", "YF" + "2" * 32)):
        r = modify_as(s, "ivy", login, ("add", attr, [value]))
        t.ok(r.rc == 50, what + ": nor give an invited entry %s" % attr, r.describe())
    r = modify_as(s, "ivy", login, ("add", "twofaInvite", ["b2$%032x$%064x 20991231000000Z" % (3, 3)]))
    t.ok(r.rc == 50, what + ": nor add an invite of its own", r.describe())
    t.ok(st.one("login", "load", "ivy").startswith("ok ivy v1 invited"), what + ": ivy's entry is as it was")
    found = s.search("(twofaPhone=%s)" % PHONE, ["1.1"], bind=s.user_bind("ivy"))
    t.eq(len(found), 0, what + ": another user (ivy) finds nobody by the number")
    found = s.search("(twofaPhone=%s)" % PHONE, ["1.1"], bind=s.user_bind("carol"))
    t.eq(len(found), 1, what + ": a member finds only herself")
    found = s.search("(twofaPhone=%s)" % PHONE, ["1.1"], bind=login)
    t.eq(len(found), 4, what + ": the login identity finds its members")
    found = s.search("(uid=hal)", ["objectClass"])
    t.ok(found and "twofaMember" not in found[0][1].get("objectClass", []),
         what + ": hal's revoked invite left his entry, without the class", repr(found))


def main():
    t = Tap()
    hs.require(t)
    with tempfile.TemporaryDirectory(prefix="twofa-enrol.") as tmp:
        gdbm = Store(tmp, "gdbm")
        # A login needs members.db to exist (a missing one fails closed): the admin's
        # first write creates it.
        t.eq(gdbm.one("admin", "invite", "zed", CODE, "3600"), "ok invited", "GDBM: the first invite creates members.db")
        basics(t, gdbm, "GDBM")
        for form in ("ldif", "conf"):
            with hs.Slapd(tls=False, form=form, enrol=True) as s:
                for name in ("carol", "dave", "erin", "frank", "gina", "hal", "ivy"):
                    s.add_user(name, "pw-" + name)
                st = Store(tmp, "ldap-" + form, s)
                basics(t, st, "LDAP (%s)" % form)
                acl(t, s, st, "LDAP (%s)" % form)
    return t.done()


if __name__ == "__main__":
    sys.exit(main())
