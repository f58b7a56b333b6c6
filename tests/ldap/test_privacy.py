#!/usr/bin/python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""The shipped access rules (etc/ldap/twofa-access.*, behind Debian's own rules that let
everyone read everything else) in a real slapd, both forms, every cell of etc/ldap/README's
table: an anonymous bind and another user read none of the twofa attributes (not by
reading, not by searching on them, not by compare); the member reads phone, country,
email, channel and status and nothing secret; the login identity reads all, deletes a used
recovery code value or one bypass use (one value each) but adds or replaces no code value
and changes nothing else; the admin identity writes every twofa attribute, adds and removes the class
and creates only minimal entries. With twofa-enrol.*, the login identity enrols a user who
is not a member yet, and still cannot change a member. The service identities page
through more members than the size limit; nobody else does."""

import sys

from harness import slapd
from harness.slapd import ANON, Slapd
from harness.tap import Tap

t = Tap()
slapd.require(t)

SECRET = ["twofaPasswordHash", "twofaInvite", "twofaRecoveryCode", "twofaBypassCode"]
PERSONAL = ["twofaPhone", "twofaCountry", "twofaEmail", "twofaChannel", "twofaStatus"]
OTHER = ["twofaUser", "twofaVersion", "twofaCreated", "twofaUpdated", "twofaVerified", "twofaUnlockedAt",
         "twofaRateLimitId", "twofaTotpEntity", "twofaTotpFactor"]
ALL = SECRET + PERSONAL + OTHER
ALICE = {"twofaPhone": "+15551234567", "twofaCountry": "US", "twofaEmail": "alice@example.test",
         "twofaPasswordHash": "$argon2id$v=19$m=65536,t=3,p=1$c2FsdHNhbHQ$aGFzaGhhc2hoYXNo",
         "twofaInvite": "ihash 20270101000000Z", "twofaRecoveryCode": ["rc1", "rc2", "rc3"],
         "twofaBypassCode": ["bhash 20270101000000Z %d root" % n for n in (1, 2, 3)], "twofaVerified": "20260102000000Z",
         "twofaUnlockedAt": "20260103000000Z", "twofaRateLimitId": "rl-alice", "twofaTotpEntity": "ent-alice",
         "twofaTotpFactor": "YF" + "0" * 32}
# A valid new value for every attribute, for the admin's writes.
NEW = {"twofaUser": "alice", "twofaEmail": "a2@example.test", "twofaPhone": "+15557654321", "twofaCountry": "CA",
       "twofaChannel": "call", "twofaPasswordHash": "newhash", "twofaStatus": "disabled",
       "twofaCreated": "20250101000000Z", "twofaUpdated": "20260201000000Z", "twofaVerified": "20260202000000Z",
       "twofaVersion": "2", "twofaUnlockedAt": "20260203000000Z", "twofaRecoveryCode": "rc9",
       "twofaBypassCode": "bhash2 20270101000000Z 1 root", "twofaInvite": "ihash2 20270101000000Z",
       "twofaRateLimitId": "rl-2", "twofaTotpEntity": "ent-2", "twofaTotpFactor": "YF" + "1" * 32}


def twofa_attrs(s, name, bind):
    """The twofa attributes bind reads on name's entry (None: the entry is not visible)."""
    found = s.search("(uid=%s)" % name, ["*"], bind=bind)
    if not found:
        return None
    return sorted(a for a in found[0][1] if a.startswith("twofa"))


def modify(s, name, bind, *changes):
    lines = ["dn: " + s.user_dn(name), "changetype: modify"]
    for op, attr, values in changes:
        lines += ["%s: %s" % (op, attr)] + ["%s: %s" % (attr, v) for v in values] + ["-"]
    return s.modify("\n".join(lines) + "\n", bind=bind)


def value_of(s, name, attr):
    found = s.search("(uid=%s)" % name, [attr])
    return found[0][1].get(attr, []) if found else None


def run_form(form):
    s = Slapd(form=form, tls=False)
    s.add_user("alice", "pw-alice")
    s.add_user("bob", "pw-bob")
    s.add_user("carol", "pw-carol")
    s.add_user("dave", "pw-dave")
    s.add_member("alice", **ALICE)
    s.add_member("bob", twofaPhone="+15550001111", twofaCountry="US")
    readers = {"anonymous": ANON, "another member (bob)": s.user_bind("bob"),
               "a user who is no member (carol)": s.user_bind("carol")}
    f = "%s form: " % form

    # Reading.
    for who, bind in readers.items():
        got = twofa_attrs(s, "alice", bind)
        t.ok(got == [], f + "%s sees alice's entry but none of its twofa attributes" % who, repr(got))
        r = s.search_raw("(twofaPhone=+15551234567)", ["1.1"], bind=bind)
        t.ok(r.rc == 0 and "dn:" not in r.out, f + "%s cannot find alice by searching on her phone" % who,
             r.describe())
        r = s.search_raw("(twofaPasswordHash=*)", ["1.1"], bind=bind)
        t.ok(r.rc == 0 and "dn:" not in r.out, f + "%s cannot find who has a password hash" % who, r.describe())
        r = s.tool("ldapcompare", [s.user_dn("alice"), "twofaCountry:US"], bind)
        t.ok(r.rc not in (5, 6), f + "%s cannot compare alice's country (rc %d)" % (who, r.rc), r.describe())
    got = twofa_attrs(s, "alice", s.user_bind("alice"))
    t.eq(got, sorted(PERSONAL), f + "alice reads her own phone, country, email, channel and status, "
         "not her hash, codes, invite or the rest")
    r = s.search_raw("(uid=alice)", ["twofaPhone"], bind=s.user_bind("alice"))
    t.ok("+15551234567" in r.out, f + "the value she reads is her phone number", r.describe())
    for who, bind in (("the login identity", s.login_bind()), ("the admin identity", s.admin_bind())):
        got = twofa_attrs(s, "alice", bind)
        t.eq(got, sorted(ALL), f + "%s reads every twofa attribute" % who)
        r = s.search_raw("(&(objectClass=twofaMember)(twofaUser=alice))", ["1.1"], bind=bind)
        t.ok(s.user_dn("alice") in r.out, f + "%s finds alice by objectClass=twofaMember and twofaUser" % who,
             r.describe())

    # The member and other users write nothing twofa.
    for who, name, bind in (("alice", "alice", s.user_bind("alice")), ("bob", "alice", s.user_bind("bob")),
                            ("anonymous", "alice", ANON)):
        r = modify(s, name, bind, ("replace", "twofaPhone", ["+15550000000"]))
        t.ok(r.rc != 0, f + "%s cannot change alice's phone" % who, r.describe())
        r = modify(s, name, bind, ("delete", "twofaRecoveryCode", ["rc1"]))
        t.ok(r.rc != 0, f + "%s cannot delete alice's recovery code" % who, r.describe())
    r = modify(s, "carol", s.user_bind("carol"), ("add", "objectClass", ["twofaMember"]),
               *[("add", a, [v]) for a, v in NEW.items() if a in ("twofaUser", "twofaStatus", "twofaChannel",
                                                                    "twofaVersion", "twofaCreated",
                                                                    "twofaUpdated")])
    t.ok(r.rc != 0, f + "carol cannot make herself a member", r.describe())

    # The login identity: what a login consumes, nothing else.
    login = s.login_bind()
    r = modify(s, "alice", login, ("delete", "twofaRecoveryCode", ["rc2"]))
    t.ok(r.rc == 0 and sorted(value_of(s, "alice", "twofaRecoveryCode")) == ["rc1", "rc3"],
         f + "the login identity deletes one used recovery code value, the others stay", r.describe())
    r = modify(s, "alice", login, ("delete", "twofaRecoveryCode", ["rc2"]))
    t.ok(r.rc == 16, f + "deleting the same value again fails (no such value: a second host's use loses)",
         r.describe())
    r = modify(s, "alice", login, ("add", "twofaRecoveryCode", ["minted"]))
    t.ok(r.rc == 50, f + "the login identity cannot add a recovery code", r.describe())
    r = modify(s, "alice", login, ("replace", "twofaRecoveryCode", ["rc1", "rc3", "minted"]))
    t.ok(r.rc == 50, f + "nor replace the recovery codes with a set of its own", r.describe())
    r = modify(s, "alice", login, ("delete", "twofaBypassCode", ["bhash 20270101000000Z 3 root"]))
    t.ok(r.rc == 0 and sorted(value_of(s, "alice", "twofaBypassCode")) ==
         ["bhash 20270101000000Z 1 root", "bhash 20270101000000Z 2 root"],
         f + "the login identity consumes a bypass use: it deletes one value, the other uses stay", r.describe())
    r = modify(s, "alice", login, ("delete", "twofaBypassCode", ["bhash 20270101000000Z 3 root"]))
    t.ok(r.rc == 16, f + "a consume of a use already consumed fails (no such attribute value)", r.describe())
    r = modify(s, "alice", login, ("add", "twofaBypassCode", ["bhash 20270101000000Z 3 root"]))
    t.ok(r.rc == 50, f + "the login identity cannot add a use back", r.describe())
    r = modify(s, "alice", login, ("replace", "twofaBypassCode", ["minted 20991231000000Z 1 root"]))
    t.ok(r.rc == 50, f + "nor replace the bypass code with one of its own (minting one)", r.describe())
    r = modify(s, "alice", login, ("delete", "twofaBypassCode", ["bhash 20270101000000Z 2 root"]),
               ("add", "twofaBypassCode", ["bhash 20270101000000Z 9 root"]))
    t.ok(r.rc == 50 and len(value_of(s, "alice", "twofaBypassCode")) == 2,
         f + "nor delete one use and add another in one modify: nothing changes", r.describe())
    r = modify(s, "bob", login, ("add", "twofaBypassCode", ["minted 20991231000000Z 1 root"]))
    t.ok(r.rc == 50 and value_of(s, "bob", "twofaBypassCode") == [],
         f + "nor give a member without one (bob) a bypass code", r.describe())
    for attr in ("twofaPhone", "twofaCountry", "twofaEmail", "twofaPasswordHash", "twofaStatus", "twofaChannel",
                 "twofaVersion", "twofaUnlockedAt", "twofaInvite", "twofaUser"):
        r = modify(s, "alice", login, ("replace", attr, [NEW[attr]]))
        t.ok(r.rc == 50, f + "the login identity cannot modify %s" % attr, r.describe())
    r = s.add_member("carol", bind=login)
    t.ok(r.rc == 50, f + "without twofa-enrol, the login identity cannot enrol carol", r.describe())
    r = s.add_ldif("dn: uid=mallory,%s\nobjectClass: account\nuid: mallory\n" % s.people, bind=login, check=False)
    t.ok(r.rc == 50, f + "the login identity creates no entry", r.describe())

    # The admin identity writes every twofa attribute.
    admin = s.admin_bind()
    for attr, value in NEW.items():
        r = modify(s, "alice", admin, ("replace", attr, [value]))
        t.ok(r.rc == 0 and value_of(s, "alice", attr) == [value], f + "the admin identity writes %s" % attr,
             r.describe())
    r = s.add_member("dave", bind=admin, twofaPhone="+15552223333", twofaCountry="US")
    t.ok(r.rc == 0, f + "the admin identity adds the class and attributes to dave's entry", r.describe())
    r = modify(s, "dave", admin, ("delete", "objectClass", ["twofaMember"]),
               *[("delete", a, []) for a in ("twofaUser", "twofaStatus", "twofaChannel", "twofaVersion",
                                             "twofaCreated", "twofaUpdated", "twofaPhone", "twofaCountry")])
    t.ok(r.rc == 0 and value_of(s, "dave", "objectClass") == ["inetOrgPerson", "posixAccount"],
         f + "and removes them again, leaving his entry", r.describe())
    minimal = ("dn: uid=erin,%s\nobjectClass: account\nobjectClass: twofaMember\nuid: erin\ntwofaUser: erin\n"
               "twofaStatus: pending\ntwofaChannel: sms\ntwofaVersion: 1\ntwofaCreated: 20260101000000Z\n"
               "twofaUpdated: 20260101000000Z\n" % s.people)
    r = s.add_ldif(minimal, bind=admin, check=False)
    t.ok(r.rc == 0, f + "the admin identity creates a minimal entry (account + twofaMember) under ldap_base",
         r.describe())
    r = s.add_ldif("dn: uid=frank,%s\nobjectClass: account\nuid: frank\n" % s.people, bind=admin, check=False)
    t.ok(r.rc == 50, f + "but no entry that is not a twofa member", r.describe())
    r = s.add_ldif(minimal.replace("uid=erin,%s" % s.people, "uid=erin,%s" % s.services_dn), bind=admin,
                   check=False)
    t.ok(r.rc == 50, f + "and none outside ldap_base", r.describe())
    r = s.modify("dn: %s\nchangetype: delete\n" % s.user_dn("bob"), bind=admin)
    t.ok(r.rc == 50, f + "the admin identity cannot delete a user's entry", r.describe())
    s.close()

    # Optional self-enrolment.
    s = Slapd(form=form, tls=False, enrol=True)
    s.add_user("alice", "pw-alice")
    s.add_user("carol", "pw-carol")
    s.add_member("alice", twofaPhone="+15551234567", twofaCountry="US")
    r = s.add_member("carol", bind=s.login_bind(), twofaPhone="+15554445555", twofaCountry="US",
                     twofaStatus="pending")
    t.ok(r.rc == 0 and value_of(s, "carol", "twofaPhone") == ["+15554445555"],
         f + "with twofa-enrol, the login identity enrols carol, who was no member", r.describe())
    r = modify(s, "alice", s.login_bind(), ("replace", "twofaPhone", ["+15550000000"]))
    t.ok(r.rc == 50, f + "but still cannot change a member's phone", r.describe())
    r = modify(s, "carol", s.login_bind(), ("replace", "twofaStatus", ["active"]))
    t.ok(r.rc == 50, f + "nor the member it just enrolled", r.describe())
    got = twofa_attrs(s, "alice", s.user_bind("carol"))
    t.ok(got == [], f + "and carol still reads nothing of alice's", repr(got))
    s.close()




def run_limits(form):
    """size.prtotal=unlimited: the service identities page through more members than the
    size limit (500, as Debian's), nobody else does, and an unpaged search stays bounded."""
    s = Slapd(form=form, tls=False)
    entry = ("dn: uid=m%04d,{people}\nobjectClass: account\nobjectClass: twofaMember\nuid: m%04d\n"
             "twofaUser: m%04d\ntwofaStatus: active\ntwofaChannel: sms\ntwofaVersion: 1\n"
             "twofaCreated: 20260101000000Z\ntwofaUpdated: 20260101000000Z\n").replace("{people}", s.people)
    s.slapadd("\n".join(entry % (i, i, i) for i in range(600)))
    f = "%s form: " % form
    for who, bind in (("the login identity", s.login_bind()), ("the admin identity", s.admin_bind())):
        r = s.search_raw("(objectClass=twofaMember)", ["1.1"], bind=bind, extra=["-E", "pr=200/noprompt"])
        t.ok(r.rc == 0 and r.out.count("dn: ") == 600,
             f + "%s pages through all 600 members (size limit 500)" % who, r.describe()[:400])
        r = s.search_raw("(objectClass=twofaMember)", ["1.1"], bind=bind)
        t.ok(r.rc == 4 and r.out.count("dn: ") == 500, f + "%s's unpaged search stops at the limit" % who,
             r.describe()[:400])
    r = s.search_raw("(objectClass=*)", ["1.1"], bind=ANON, extra=["-E", "pr=200/noprompt"])
    t.ok(r.rc == 4 and r.out.count("dn: ") == 500, f + "an anonymous paged search stops at the limit",
         r.describe()[:400])
    s.close()


for form in ("ldif", "conf"):
    run_form(form)
    run_limits(form)

sys.exit(t.done())
