#!/usr/bin/python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""The shipped schema loads into a real slapd 2.5 in both forms (cn=config from
etc/ldap/twofa.ldif by slapadd -n0 and by ldapadd into a running server, slapd.conf from
etc/ldap/twofa.schema, slaptest -u on each), and slapd enforces it: the class without a
MUST attribute is refused, a second value of a SINGLE-VALUE attribute is refused, a value
against its syntax is refused (and the harness's lax test schema takes both). The {N} length bounds are not enforced by slapd: this test
records that (a 300-character twofaPhone is stored), as etc/ldap/README says, and that the
constraint overlay the README shows does refuse it."""

import os
import re
import sys

from harness import slapd
from harness.slapd import Slapd, LDAP_DIR
from harness.tap import Tap

t = Tap()
slapd.require(t)

MUST = {"twofaUser": "alice", "twofaStatus": "active", "twofaChannel": "sms", "twofaVersion": "1",
        "twofaCreated": "20260101000000Z", "twofaUpdated": "20260101000000Z"}


def modify(s, name, *changes):
    """One ldapmodify of the entry of name: changes are (op, attribute, [values])."""
    lines = ["dn: " + s.user_dn(name), "changetype: modify"]
    for op, attr, values in changes:
        lines += ["%s: %s" % (op, attr)] + ["%s: %s" % (attr, v) for v in values] + ["-"]
    return s.modify("\n".join(lines) + "\n")


def add_class(s, name, attrs):
    return modify(s, name, ("add", "objectClass", ["twofaMember"]),
                  *[("add", a, [v]) for a, v in attrs.items()])


def schema_names(s):
    """The twofa names slapd's subschema entry publishes."""
    found = s.search("(objectClass=subschema)", ["attributeTypes", "objectClasses"], base="cn=Subschema",
                     scope="base")
    text = " ".join(v for _, attrs in found for vs in attrs.values() for v in vs)
    return sorted(set(re.findall(r"NAME '(twofa\w+)'", text)))


want_names = sorted(["twofaMember"] + ["twofa" + n for n in (
    "User Email Phone Country Channel PasswordHash Status Created Updated Verified Version UnlockedAt "
    "RecoveryCode BypassCode Invite RateLimitId TotpEntity TotpFactor").split()])

for form in ("ldif", "conf"):
    with Slapd(form=form, tls=False, services=False) as s:
        t.ok(True, "%s form: slaptest -u accepts the config and slapd starts with it" % form)
        t.eq(schema_names(s), want_names, "%s form: cn=Subschema publishes twofaMember and its 18 attributes"
             % form)
        s.add_user("alice", "pw-alice")
        s.add_user("bob", "pw-bob")

        for missing in ("twofaStatus", "twofaVersion"):
            attrs = dict(MUST)
            del attrs[missing]
            r = add_class(s, "bob", attrs)
            t.ok(r.rc == 65 and ("requires attribute '%s'" % missing) in r.err,
                 "%s form: the class without MUST %s is refused (object class violation)" % (form, missing),
                 r.describe())

        r = add_class(s, "alice", dict(MUST, twofaPhone="+15551234567", twofaCountry="US"))
        t.ok(r.rc == 0, "%s form: the class with every MUST attribute is taken" % form, r.describe())
        for attr, value in (("twofaChannel", "call"), ("twofaPhone", "+15557654321"), ("twofaVersion", "2")):
            r = modify(s, "alice", ("add", attr, [value]))
            t.ok(r.rc == 19 and "cannot have multiple values" in r.err,
                 "%s form: a second %s value is refused (SINGLE-VALUE)" % (form, attr), r.describe())
        r = modify(s, "alice", ("add", "twofaRecoveryCode", ["h1", "h2", "h3"]))
        t.ok(r.rc == 0, "%s form: twofaRecoveryCode takes several values" % form, r.describe())
        r = modify(s, "alice", ("add", "twofaBypassCode", ["b 20270101000000Z %d root" % n for n in (1, 2, 3)]))
        t.ok(r.rc == 0, "%s form: twofaBypassCode takes several values (one per use)" % form, r.describe())
        r = modify(s, "alice", ("delete", "twofaStatus", []))
        t.ok(r.rc == 65, "%s form: deleting a MUST attribute of a member is refused" % form, r.describe())

        for attr, value in (("twofaPhone", "caf\u00e9"), ("twofaVersion", "one"),
                            ("twofaCreated", "yesterday")):
            r = modify(s, "alice", ("replace", attr, [value]))
            t.ok(r.rc == 21, "%s form: %s %r is refused (invalid syntax)" % (form, attr, value), r.describe())

        # The {N} bounds: slapd stores what it is given. Recorded, not wished away.
        long_phone = "+" + "1" * 299
        r = modify(s, "alice", ("replace", "twofaPhone", [long_phone]), ("replace", "twofaCountry", ["USA"]))
        got = s.search("(uid=alice)", ["twofaPhone", "twofaCountry"])
        t.ok(r.rc == 0 and got and got[0][1].get("twofaPhone") == [long_phone]
             and got[0][1].get("twofaCountry") == ["USA"],
             "%s form: slapd does not enforce {16} and {2}: a 300-character twofaPhone and a 3-letter "
             "twofaCountry are stored (twofa checks what it reads)" % form, r.describe() + "\n" + repr(got))

# The lax test schema of the harness (same OIDs and names, no SINGLE-VALUE, no MUST):
# what twofa's own checks are tested with, since the real schema refuses it.
for form in ("ldif", "conf"):
    with Slapd(form=form, tls=False, services=False, schema="lax") as s:
        t.eq(schema_names(s), want_names, "%s form, lax test schema: the same names" % form)
        s.add_user("alice", "pw-alice")
        attrs = dict(MUST)
        del attrs["twofaStatus"]
        r = add_class(s, "alice", attrs)
        t.ok(r.rc == 0, "%s form, lax test schema: a member without twofaStatus is stored" % form, r.describe())
        r = modify(s, "alice", ("add", "twofaChannel", ["call"]))
        got = s.search("(uid=alice)", ["twofaChannel"])
        t.ok(r.rc == 0 and got and sorted(got[0][1].get("twofaChannel", [])) == ["call", "sms"],
             "%s form, lax test schema: two twofaChannel values are stored" % form, r.describe())

# A schema loaded into a running server, as README says for an existing cn=config
# directory: a server with only the system schemas, then ldapadd of twofa.ldif.
s = Slapd(tls=False, access=False, services=False, schema=False)
t.eq(schema_names(s), [], "a server without the twofa schema publishes none of its names")
with open(os.path.join(LDAP_DIR, "twofa.ldif")) as f:
    r = s.add_ldif(f.read(), check=False)
t.ok(r.rc == 0, "ldapadd -Y EXTERNAL -H ldapi:/// -f twofa.ldif loads it into the running server", r.describe())
t.eq(schema_names(s), want_names, "and the running server publishes every twofa name at once")
s.add_user("carol", "pw-carol")
r = add_class(s, "carol", MUST)
t.ok(r.rc == 0, "a member entry is taken right after the load", r.describe())

# The constraint overlay of README refuses what the bounds alone do not.
r = s.modify("dn: cn=module{0},cn=config\nchangetype: modify\nadd: olcModuleLoad\nolcModuleLoad: constraint\n")
t.ok(r.rc == 0, "the constraint module loads", r.describe())
r = s.add_ldif("dn: olcOverlay=constraint,olcDatabase={1}mdb,cn=config\nobjectClass: olcOverlayConfig\n"
               "objectClass: olcConstraintConfig\nolcOverlay: constraint\n"
               "olcConstraintAttribute: twofaPhone size 16\nolcConstraintAttribute: twofaCountry size 2\n",
               check=False)
t.ok(r.rc == 0, "README's constraint overlay entry is taken", r.describe())
r = modify(s, "carol", ("add", "twofaPhone", ["+" + "1" * 16]))
t.ok(r.rc == 19, "with it, a 17-character twofaPhone is refused (constraint violation)", r.describe())
r = modify(s, "carol", ("add", "twofaPhone", ["+" + "1" * 15]), ("add", "twofaCountry", ["US"]))
t.ok(r.rc == 0, "and a 16-character one with a 2-letter country is taken", r.describe())
s.close()

sys.exit(t.done())
