#!/usr/bin/python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""The two forms of the shipped schema are one schema: etc/ldap/twofa.schema (slapd.conf)
and etc/ldap/twofa.ldif (cn=config) declare the same attribute types and object class,
field by field (OID, names, description, matching rules, syntax and bound, SINGLE-VALUE,
SUP, kind, MUST and MAY, X-ORIGIN), every OID under the frozen arc of design13 and listed
with its name in etc/ldap/README; the access rules of the two forms are the same rules,
and README shows them. Text only: no slapd runs here (test_schema.py loads both)."""

import os
import re
import sys

from harness.paths import SRCDIR
from harness.tap import Tap

ARC = "2.25.44654659137546377784188992738705577970"
LDAP = os.path.join(SRCDIR, "etc", "ldap")


def read(name):
    with open(os.path.join(LDAP, name)) as f:
        return f.read()


def tokens(definition):
    return re.findall(r"'[^']*'|\(|\)|\$|[^\s()$']+", definition)


def parse_definition(definition):
    """An RFC 4512 attribute type or object class description -> {field: value}."""
    toks = tokens(definition)
    if not toks or toks[0] != "(" or toks[-1] != ")":
        raise ValueError("not a parenthesised description: %r" % definition)
    toks = toks[1:-1]
    out = {"oid": toks.pop(0)}
    while toks:
        key = toks.pop(0).upper()
        if key in ("SINGLE-VALUE", "AUXILIARY", "STRUCTURAL", "ABSTRACT", "OBSOLETE", "COLLECTIVE",
                   "NO-USER-MODIFICATION"):
            out[key] = True
            continue
        if toks[0] == "(":
            end = toks.index(")")
            value = tuple(t.strip("'") for t in toks[1:end] if t != "$")
            del toks[:end + 1]
        else:
            value = toks.pop(0).strip("'")
            if key in ("NAME", "MUST", "MAY", "SUP"):
                value = (value,)
        if key in out:
            raise ValueError("%s twice in %s" % (key, out["oid"]))
        out[key] = value
    return out


def conf_lines(text):
    """slapd.conf logical lines: comments out, indented continuation lines joined."""
    logical = []
    for line in text.splitlines():
        if line.startswith("#") or not line.strip():
            continue
        if line[0].isspace() and logical:
            logical[-1] += " " + line.strip()
        else:
            logical.append(line.strip())
    return logical


def ldif_lines(text):
    """LDIF logical lines: comments out, folded lines (one leading space) unfolded."""
    lines = []
    for line in text.splitlines():
        if line.startswith("#"):
            continue
        if line.startswith(" ") and lines:
            lines[-1] += line[1:]
        elif line:
            lines.append(line)
    return lines


def from_schema(text):
    """slapd.conf form: attributetype/objectclass keywords."""
    logical = conf_lines(text)
    kinds = {"attributetype": "attribute", "objectclass": "class"}
    out = []
    for line in logical:
        word, _, rest = line.partition(" ")
        if word.lower() not in kinds:
            raise ValueError("unexpected line in twofa.schema: %r" % line)
        out.append((kinds[word.lower()], parse_definition(rest)))
    return out


def from_ldif(text):
    """cn=config form: one entry; values of olcAttributeTypes/olcObjectClasses, an {N}
    ordering prefix dropped."""
    lines = ldif_lines(text)
    kinds = {"olcattributetypes": "attribute", "olcobjectclasses": "class"}
    out, head = [], {}
    for line in lines:
        name, _, value = line.partition(":")
        value = value.strip()
        if name.lower() in kinds:
            out.append((kinds[name.lower()], parse_definition(re.sub(r"^\{\d+\}", "", value))))
        else:
            head.setdefault(name.lower(), []).append(value)
    return head, out


def access_rules_ldif(text):
    rules = []
    for v in ldif_lines(text):
        m = re.match(r"olcAccess: \{\d+\}to (.*)", v)
        if m:
            rules.append("access to " + " ".join(m.group(1).split()))
        m = re.match(r"olcLimits: (.*)", v)
        if m:
            rules.append("limits " + " ".join(m.group(1).split()))
    return rules


def access_rules_conf(text):
    return [" ".join(r.split()) for r in conf_lines(text)]


t = Tap()
schema = from_schema(read("twofa.schema"))
head, ldif = from_ldif(read("twofa.ldif"))

t.eq(head.get("dn"), ["cn=twofa,cn=schema,cn=config"], "twofa.ldif is the entry cn=twofa,cn=schema,cn=config")
t.eq(head.get("objectclass"), ["olcSchemaConfig"], "of class olcSchemaConfig")
t.eq([(k, d["oid"]) for k, d in ldif], [(k, d["oid"]) for k, d in schema],
     "both forms declare the same types and class, in the same order")
by_oid = {d["oid"]: d for _, d in ldif}
for kind, d in schema:
    other = by_oid.get(d["oid"])
    t.eq(other, d, "%s %s (%s) is the same in both forms" % (kind, d["NAME"][0], d["oid"]))

attributes = [d for k, d in schema if k == "attribute"]
classes = [d for k, d in schema if k == "class"]
t.eq([d["oid"] for d in attributes], ["%s.1.%d" % (ARC, n) for n in range(1, 19)],
     "attribute types are %s.1.1 to .1.18, in order" % ARC)
t.eq([d["oid"] for d in classes], [ARC + ".2.1"], "one object class, %s.2.1" % ARC)
t.ok(all(len(d["NAME"]) == 1 and d["NAME"][0].startswith("twofa") for d in attributes + classes),
     "every name is one twofa* name")
t.ok(all(d.get("X-ORIGIN") == "twofa" for d in attributes + classes), "every definition has X-ORIGIN 'twofa'")
multi = [d["NAME"][0] for d in attributes if not d.get("SINGLE-VALUE")]
t.eq(multi, ["twofaRecoveryCode", "twofaBypassCode"],
     "every attribute but twofaRecoveryCode and twofaBypassCode (one value per use) is SINGLE-VALUE")
t.ok(all("EQUALITY" in d and "SYNTAX" in d for d in attributes), "every attribute has an equality rule and a syntax")
member = classes[0]
t.ok(member["NAME"] == ("twofaMember",) and member.get("AUXILIARY") and member.get("SUP") == ("top",),
     "twofaMember is AUXILIARY, SUP top", repr(member))
names = {d["NAME"][0] for d in attributes}
t.eq(set(member["MUST"]) | set(member["MAY"]), names, "MUST and MAY name every attribute, and only them")
t.eq(set(member["MUST"]) & set(member["MAY"]), set(), "no attribute is both MUST and MAY")

readme = read("README")
for d in attributes + classes:
    t.ok(re.search(r"\b%s\b.*\b%s\b" % (re.escape(d["oid"]), d["NAME"][0]), readme),
         "README's OID registry lists %s %s" % (d["oid"], d["NAME"][0]))
flat = " ".join(readme.split())
unindented = "\n".join(line[4:] for line in readme.splitlines() if line.startswith("    "))
for ldif_name, conf_name in (("twofa-access.ldif", "twofa-access.conf"), ("twofa-enrol.ldif", "twofa-enrol.conf")):
    from_l, from_c = access_rules_ldif(read(ldif_name)), access_rules_conf(read(conf_name))
    t.ok(from_l and from_l == from_c, "%s and %s hold the same rules" % (ldif_name, conf_name),
         "\n".join(a + "\n  vs " + b for a, b in zip(from_l, from_c) if a != b) or "%r %r" % (from_l, from_c))
    missing = [r for r in from_c if " ".join(r.split()) not in flat]
    t.ok(not missing, "README shows every rule of %s" % conf_name, "\n".join(missing))
    body = read(ldif_name)
    body = body[body.index("dn: "):]
    t.ok(body in unindented, "README shows %s as it is, from its dn: line on" % ldif_name)

sys.exit(t.done())
