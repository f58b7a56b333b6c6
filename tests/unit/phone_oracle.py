#!/usr/bin/python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""lib/phone against libphonenumber (Debian's python3-phonenumbers), in TAP.

For every country of the table (data/countries.tsv) it takes the example
numbers libphonenumber has for each number type, writes each one the ways
people type it (national with and without the trunk prefix, the calling code
with '+', with 00, with the country's own international prefix, without '+',
with spaces, dashes, dots, slashes, parentheses), adds bad input (truncated,
an extra digit, digits changed, the unassigned-range example, other regions'
numbers, numbers of the other regions sharing the calling code), and runs it
all through tests/unit/phone_tool. The expected answer for each input is
phonenumbers.parse(input, CC) + is_valid_number_for_region(.., CC) +
format_number(.., E164), with twofa's documented extra rules:

  - input with a letter must be refused ("letters"), even where
    libphonenumber reads a vanity number or an extension;
  - an E.164 result longer than 15 digits is refused ("too-long");
  - where libphonenumber refuses digits that start with 00 (no '+'), they
    are read again as '+' and the rest: 00 is understood everywhere, not only
    where it is the country's international prefix (011 in the US, 810 in
    Russia). The number must still be valid for the country.

Any disagreement fails the country's line. Every valid result must then be
taken by the member record (phone_tool --member: the member codec). The last
lines give the totals.
Usage: phone_oracle.py [PHONE_TOOL]   (default: $TWOFA_BUILDDIR/tests/unit/phone_tool)
"""

import os
import random
import re
import subprocess
import sys

try:
    import phonenumbers
    from phonenumbers import PhoneNumberFormat, PhoneNumberType
    from phonenumbers.phonemetadata import PhoneMetadata
except ImportError:
    print("1..0 # SKIP python3-phonenumbers is not installed (apt-get install python3-phonenumbers)")
    sys.exit(0)

try:
    from re import _parser as sre_parse  # Python >= 3.11
except ImportError:  # pragma: no cover
    import sre_parse


TYPES = [PhoneNumberType.FIXED_LINE, PhoneNumberType.MOBILE, PhoneNumberType.TOLL_FREE,
         PhoneNumberType.PREMIUM_RATE, PhoneNumberType.SHARED_COST, PhoneNumberType.VOIP,
         PhoneNumberType.PERSONAL_NUMBER, PhoneNumberType.PAGER, PhoneNumberType.UAN,
         PhoneNumberType.VOICEMAIL]

# The countries the issue names; the test covers every country of the table.
REQUIRED = ["US", "CA", "JM", "BS", "RU", "KZ", "GB", "GG", "JE", "IM", "IT", "VA", "SM", "HU",
            "FR", "DE", "NL", "IN", "CN", "JP", "BR", "AR", "MX", "AU", "NZ", "ZA", "NG", "EG"]

E164_MAX_DIGITS = 15
rng = random.Random(20261125)


def srcdir():
    return os.environ.get("TWOFA_SRCDIR", os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))


def read_countries():
    rows = []
    with open(os.path.join(srcdir(), "data", "countries.tsv"), encoding="utf-8") as f:
        for line in f:
            if line.startswith("#") or not line.strip():
                continue
            code, name, cc = line.rstrip("\n").split("\t")
            rows.append((code, name, int(cc)))
    return rows


# -- strings matching a prefix pattern (for the international prefix) --------

def sample(pattern, shortest):
    """A string matching the start of pattern: the shortest, or a random one."""
    out = []

    def gen(items):
        for op, av in items:
            name = str(op)
            if name == "LITERAL":
                out.append(chr(av))
            elif name == "IN":
                chars = []
                for iop, iav in av:
                    iname = str(iop)
                    if iname == "LITERAL":
                        chars.append(chr(iav))
                    elif iname == "RANGE":
                        chars.extend(chr(c) for c in range(iav[0], iav[1] + 1))
                    elif iname == "CATEGORY":
                        chars.extend("0123456789")
                    else:
                        raise ValueError(iname)
                out.append(chars[0] if shortest else rng.choice(chars))
            elif name == "CATEGORY":
                out.append("0" if shortest else rng.choice("0123456789"))
            elif name == "SUBPATTERN":
                gen(av[-1])
            elif name == "BRANCH":
                branches = av[1]
                gen(min(branches, key=lambda b: len(str(b))) if shortest else rng.choice(branches))
            elif name in ("MAX_REPEAT", "MIN_REPEAT"):
                lo, hi, sub = av
                n = lo if shortest else rng.randint(lo, min(hi, lo + 2))
                for _ in range(n):
                    gen(sub)
            elif name == "AT":
                pass
            else:
                raise ValueError(name)

    gen(sre_parse.parse(pattern))
    return "".join(out)


def idd_strings(meta):
    """International prefixes to try: 00, the preferred one, samples of the pattern."""
    found = ["00"]
    if meta.preferred_international_prefix:
        found.append(meta.preferred_international_prefix.replace("~", ""))
    if meta.international_prefix:
        found.append(sample(meta.international_prefix, True))
        for _ in range(2):
            found.append(sample(meta.international_prefix, False))
    uniq = []
    for s in found:
        if s and s not in uniq:
            uniq.append(s)
    return uniq


# -- the reference -------------------------------------------------------------

def reference(text, region):
    """libphonenumber's answer: the E.164 string, or None."""
    try:
        n = phonenumbers.parse(text, region)
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_valid_number_for_region(n, region):
        return None
    return phonenumbers.format_number(n, PhoneNumberFormat.E164)


def expected(text, region):
    """What twofa must answer: an E.164 string or 'ERR'."""
    if re.search(r"[A-Za-z]", text):
        return "ERR letters"
    e164 = reference(text, region)
    digits = re.sub(r"[^0-9]", "", text)
    if e164 is None and "+" not in text and digits.startswith("00") and len(digits) > 2:
        e164 = reference("+" + digits[2:], region)
    if e164 is None:
        return "ERR"
    if len(e164) - 1 > E164_MAX_DIGITS:
        return "ERR too-long"
    return e164


def agrees(want, got):
    if want == "ERR":
        return got.startswith("ERR ")
    return want == got


# -- inputs --------------------------------------------------------------------

def punctuations(s):
    """The same digits with other separators people use."""
    out = {s}
    if " " in s:
        out.add(s.replace(" ", "-"))
        out.add(s.replace(" ", "."))
        out.add(s.replace(" ", ""))
        out.add(s.replace(" ", " / ", 1))
        head, _, tail = s.partition(" ")
        if head and tail:
            if head.startswith("+"):
                # "+44 (20) 7946 0958"
                mid, _, rest = tail.partition(" ")
                if mid and rest:
                    out.add("%s (%s) %s" % (head, mid, rest))
            else:
                out.add("(%s) %s" % (head, tail))
    out.add("  " + s + " ")
    return out


def forms(numobj, region, meta):
    """Positive forms of a valid number of region."""
    cc = str(numobj.country_code)
    nsn = phonenumbers.national_significant_number(numobj)
    national = phonenumbers.format_number(numobj, PhoneNumberFormat.NATIONAL)
    intl = phonenumbers.format_number(numobj, PhoneNumberFormat.INTERNATIONAL)
    grouped = intl[len(cc) + 2:] if intl.startswith("+" + cc + " ") else nsn
    out = set()
    out |= punctuations(national)
    out.add(nsn)
    out |= punctuations(grouped)
    prefix = meta.national_prefix
    if prefix:
        out.add(prefix + nsn)
        out |= punctuations(prefix + " " + grouped)
    out |= punctuations(intl)
    out.add("+" + cc + nsn)
    out.add("+" + cc + " " + grouped)
    out.add(cc + nsn)
    out.add(cc + " " + grouped)
    for idd in idd_strings(meta):
        out.add(idd + cc + nsn)
        out.add(idd + " " + cc + " " + grouped)
        out.add("+" + idd + " " + cc + " " + grouped)  # libphonenumber drops the '+' here
    return out


def negatives(numobj, region, meta):
    """Bad forms of a valid number: truncated, one more digit, digits changed, letters."""
    cc = str(numobj.country_code)
    nsn = phonenumbers.national_significant_number(numobj)
    out = set()
    for body in (nsn, "+" + cc + nsn, (meta.national_prefix or "") + nsn):
        out.add(("truncated", body[:-1]))
        out.add(("truncated", body[:-2]))
        out.add(("extra digits", body + "5"))
        out.add(("extra digits", body + "00"))
    digits = "0123456789"
    for i in range(len(nsn)):
        if i < 2 or rng.random() < 0.25:
            d = rng.choice(digits.replace(nsn[i], ""))
            changed = nsn[:i] + d + nsn[i + 1:]
            out.add(("digit changed", changed))
            out.add(("digit changed", "+" + cc + changed))
    for d in digits:
        out.add(("first digit changed", d + nsn[1:]))
    out.add(("'+' without the calling code", "+" + nsn))
    out.add(("'+' without the calling code", "+" + (meta.national_prefix or "") + nsn))
    # letters: a typo, a vanity number, an extension
    out.add(("letters", nsn[:-1] + "O"))
    out.add(("letters", nsn[:3] + "ABCD"))
    out.add(("letters", "+" + cc + " " + nsn + " ext 12"))
    out.add(("letters", "tel " + nsn))
    return out


def locals_and_random(numobj, region, meta):
    """Local numbers without the area code (libphonenumber completes some:
    NANP islands, GG/JE/IM, SM), and random numbers on the example's prefix
    written in every way."""
    cc = str(numobj.country_code)
    nsn = phonenumbers.national_significant_number(numobj)
    out = set()
    for k in range(4, 9):
        if k < len(nsn):
            out.add(("local", nsn[-k:]))
            out.add(("local", cc + nsn[-k:]))
    lengths = list(meta.general_desc.possible_length) + list(meta.general_desc.possible_length_local_only)
    heads = ["", "+" + cc, cc, (meta.national_prefix or ""), "0", "00" + cc, "+" + cc + "0"]
    for _ in range(12):
        keep = rng.randint(1, len(nsn) - 1)
        length = rng.choice(lengths) + rng.choice([-1, 0, 0, 0, 1])
        body = nsn[:keep] + "".join(rng.choice("0123456789") for _ in range(max(0, length - keep)))
        out.add(("random", rng.choice(heads) + body))
    return out


def other_regions(region, cc):
    """Numbers of other regions: different calling codes, and the same code."""
    same = [r for r in phonenumbers.COUNTRY_CODE_TO_REGION_CODE[cc] if r != region]
    others = [r for r in sorted(phonenumbers.SUPPORTED_REGIONS)
              if PhoneMetadata.metadata_for_region(r).country_code != cc]
    picks = same + rng.sample(others, 4)
    out = set()
    kind = "other country"
    for r in picks:
        n = phonenumbers.example_number(r)
        if n is None:
            continue
        kind = "same calling code, other region" if r in same else "other country"
        nsn = phonenumbers.national_significant_number(n)
        out.add((kind, "+%d %s" % (n.country_code, nsn)))
        out.add((kind, nsn))
        np = PhoneMetadata.metadata_for_region(r).national_prefix
        if np:
            out.add((kind, np + nsn))
    return out


def main():
    tool = sys.argv[1] if len(sys.argv) > 1 else os.path.join(
        os.environ.get("TWOFA_BUILDDIR", "."), "tests", "unit", "phone_tool")
    countries = read_countries()
    codes = [c[0] for c in countries]
    missing = [r for r in REQUIRED if r not in codes]

    cases = []  # (region, kind, text)
    for code, _, cc in countries:
        meta = PhoneMetadata.metadata_for_region(code)
        examples = []
        for t in TYPES:
            n = phonenumbers.example_number_for_type(code, t)
            if n is not None and phonenumbers.is_valid_number_for_region(n, code):
                if all(phonenumbers.national_significant_number(n) != phonenumbers.national_significant_number(e)
                       for e in examples):
                    examples.append(n)
        for n in examples:
            for text in sorted(forms(n, code, meta)):
                cases.append((code, "typed forms", text))
            for kind, text in sorted(negatives(n, code, meta) | locals_and_random(n, code, meta)):
                cases.append((code, kind, text))
        bad = phonenumbers.invalid_example_number(code)
        if bad is not None:
            nsn = phonenumbers.national_significant_number(bad)
            cases.append((code, "unassigned range", nsn))
            cases.append((code, "unassigned range", "+%d%s" % (bad.country_code, nsn)))
        for kind, text in sorted(other_regions(code, cc)):
            cases.append((code, kind, text))

    for _, _, text in cases:
        assert "\t" not in text and "\n" not in text, text
    payload = "".join("%s\t%s\n" % (r, t) for r, _, t in cases)
    run = subprocess.run([tool], input=payload, capture_output=True, text=True, check=False)
    got = run.stdout.split("\n")[:-1]
    tests = 0
    failed = 0

    def ok(cond, msg):
        nonlocal tests, failed
        tests += 1
        if not cond:
            failed += 1
        print("%sok %d - %s" % ("" if cond else "not ", tests, msg))

    ok(run.returncode == 0 and len(got) == len(cases),
       "phone_tool answered every line (%d of %d, exit %d)" % (len(got), len(cases), run.returncode))
    if run.returncode != 0 or len(got) != len(cases):
        print("# " + run.stderr.strip().replace("\n", "\n# "))
        print("1..%d" % tests)
        return 1
    ok(not missing, "the required countries are in the table%s" % (": missing " + " ".join(missing) if missing else ""))

    kinds = {}  # kind -> [inputs, valid for libphonenumber, refused only for letters]
    by_region = {}
    for (region, kind, text), answer in zip(cases, got):
        want = expected(text, region)
        entry = by_region.setdefault(region, [0, 0, 0, []])
        k = kinds.setdefault(kind, [0, 0, 0])
        entry[0] += 1
        k[0] += 1
        if not want.startswith("ERR"):
            entry[1] += 1
            k[1] += 1
        elif want == "ERR letters":
            try:
                n = phonenumbers.parse(text, region)
                if phonenumbers.is_valid_number_for_region(n, region):
                    k[2] += 1
            except phonenumbers.NumberParseException:
                pass
        if not agrees(want, answer):
            entry[2] += 1
            entry[3].append("%s %r: phonenumbers %s, twofa %s" % (region, text, want, answer))

    for code, name, _ in countries:
        n, valid, bad, why = by_region.get(code, [0, 0, 0, []])
        ok(bad == 0 and valid > 0,
           "%s (%s): %d inputs agree, %d of them valid" % (code, name, n - bad, valid))
        for line in why[:15]:
            print("#   " + line)

    # twofa_phone_region on every valid result.
    valid = sorted({a for a in got if a.startswith("+")})
    run = subprocess.run([tool, "--region"], input="".join(v + "\n" for v in valid),
                         capture_output=True, text=True, check=False)
    regions = run.stdout.split("\n")[:-1]
    wrong = []
    for e164, r in zip(valid, regions):
        want = phonenumbers.region_code_for_number(phonenumbers.parse(e164, None))
        if r != want:
            wrong.append("%s: phonenumbers %s, twofa %s" % (e164, want, r))
    ok(len(regions) == len(valid) and not wrong,
       "twofa_phone_region agrees on %d valid numbers" % len(valid))
    for line in wrong[:15]:
        print("#   " + line)

    # Every number lib/phone gives is one a member record takes (the codec add
    # and import store through): the example number of every type of every
    # country, in every typed form that reads as valid.
    run = subprocess.run([tool, "--member"], input="".join(v + "\n" for v in valid),
                         capture_output=True, text=True, check=False)
    answers = run.stdout.split("\n")[:-1]
    refused = ["%s: %s" % (e164, a) for e164, a in zip(valid, answers) if a != "ok"]
    ok(run.returncode == 0 and len(answers) == len(valid) and not refused,
       "the member record takes all %d numbers twofa_phone_parse gives" % len(valid))
    for line in refused[:15]:
        print("#   " + line)
    examples = {}
    for (region, kind, text), answer in zip(cases, got):
        if kind == "typed forms" and answer.startswith("+"):
            examples.setdefault(region, answer)
    ok(all(code in examples for code, _, _ in countries),
       "that includes a number of each of the %d countries (none for: %s)"
       % (len(countries), " ".join(c for c, _, _ in countries if c not in examples) or "-"))

    print("# %d inputs for %d countries, by kind (valid: twofa and the reference both accept):" % (len(cases), len(countries)))
    for kind, (n, v, letters) in sorted(kinds.items()):
        print("#   %-32s %6d inputs, %6d valid, %6d refused%s" % (
            kind, n, v, n - v,
            " (%d of them only for letters: libphonenumber reads a vanity number or extension)" % letters
            if letters else ""))
    print("1..%d" % tests)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
