#!/usr/bin/python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""Regenerates data/countries.tsv and data/phonemeta.tsv (developer time only).

The build never runs this: it turns the committed data files into C with
tools/gen-countries-c.awk. Run it by hand when Debian's iso-codes or
python3-phonenumbers change, review the diff, run the tests, commit:

    tools/gen-countries.py [--srcdir DIR]

Sources:
  - names: iso-codes, /usr/share/iso-codes/json/iso_3166-1.json
    (common_name when present, else name);
  - calling codes and number metadata: python3-phonenumbers (libphonenumber's
    metadata), per region: country_code, international_prefix,
    national_prefix_for_parsing, national_prefix_transform_rule, and for the
    general description and each number type the national_number_pattern and
    possible lengths.

Patterns are rewritten here so that C needs no translation:
  - national number patterns become anchored POSIX EREs for <regex.h>
    ("(?:" -> "(", "\\d" -> "[0-9]", wrapped in "^(...)$"); libphonenumber
    only ever full-matches them, and a full match is the same set of strings
    under POSIX leftmost-longest and Perl leftmost-first rules;
  - prefix patterns (international_prefix, national_prefix_for_parsing) keep
    their libphonenumber syntax except "\\d" -> "[0-9]": libphonenumber
    matches them as prefixes with Perl rules and reads their capture groups,
    so lib/phone.c runs them with its own small backtracking matcher;
  - the transform rule's "\\1" becomes "$1".
"""

import argparse
import json
import os
import re
import subprocess
import sys
import unicodedata

ISO_JSON = "/usr/share/iso-codes/json/iso_3166-1.json"

# Regions outside ISO 3166-1 that libphonenumber and Twilio serve: offered
# too, so that people there can enrol (issue 15). Names as Twilio gives them.
EXTRA_REGIONS = {"AC": "Ascension Island", "TA": "Tristan da Cunha", "XK": "Kosovo"}

# Order matters only for readability of the data file; validity is "the
# general description matches and any type matches" (see lib/phone.c).
TYPES = ["general", "fixed_line", "mobile", "toll_free", "premium_rate", "shared_cost",
         "voip", "personal_number", "pager", "uan", "voicemail"]
MAX_LENGTH = 17  # libphonenumber's _MAX_LENGTH_FOR_NSN; lengths fit a 32-bit mask

NATIONAL_OK = re.compile(r"^[0-9\[\]()|?{},*+-]*$")
PREFIX_OK = re.compile(r"^[0-9\[\]()|?{},*+$:-]*$")


def package_version(pkg, fallback):
    try:
        out = subprocess.run(["dpkg-query", "-W", "-f=${Version}", pkg], check=True,
                             capture_output=True, text=True).stdout.strip()
        return out or fallback
    except (OSError, subprocess.CalledProcessError):
        return fallback


def to_ere(pattern, where):
    """libphonenumber national number pattern -> anchored POSIX ERE."""
    ere = pattern.replace("(?:", "(").replace("\\d", "[0-9]")
    if not NATIONAL_OK.match(ere) or "(?" in ere or "[^" in ere:
        sys.exit("gen-countries: %s: pattern uses syntax the ERE conversion does not handle: %r"
                 % (where, pattern))
    re.compile(ere)  # still a valid regex with the same meaning
    return "^(" + ere + ")$"


def to_prefix(pattern, where):
    """libphonenumber prefix pattern -> the subset lib/phone.c's matcher reads."""
    out = pattern.replace("\\d", "[0-9]")
    if not PREFIX_OK.match(out) or "[^" in out or re.search(r"\(\?(?!:)", out) \
            or re.search(r"[?*+}]\?", out):
        sys.exit("gen-countries: %s: prefix pattern uses unsupported syntax: %r" % (where, pattern))
    # A '$' may only end an alternative (the matcher treats it as end-of-input).
    if re.search(r"\$(?![|)]|$)", out):
        sys.exit("gen-countries: %s: '$' in the middle of a pattern: %r" % (where, pattern))
    re.compile(out)
    return out


def to_transform(rule, where):
    out = re.sub(r"\\([1-9])", r"$\1", rule)
    if not re.match(r"^[0-9$]*$", out) or re.search(r"\$(?![1-9])", out):
        sys.exit("gen-countries: %s: unsupported transform rule %r" % (where, rule))
    return out


def lengths(seq):
    seq = [n for n in seq]
    for n in seq:
        if not 1 <= n <= MAX_LENGTH:
            raise ValueError(n)
    return ",".join(str(n) for n in sorted(seq)) or "-"


def sort_key(name):
    """The name as a person reads it: accents and case folded."""
    folded = "".join(c for c in unicodedata.normalize("NFKD", name)
                     if not unicodedata.combining(c))
    return folded.casefold()


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--srcdir", default=os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
    args = ap.parse_args()

    import phonenumbers
    from phonenumbers.phonemetadata import PhoneMetadata

    iso_version = package_version("iso-codes", "unknown")
    pn_version = package_version("python3-phonenumbers", phonenumbers.__version__)

    with open(ISO_JSON, encoding="utf-8") as f:
        iso = json.load(f)["3166-1"]

    supported = set(phonenumbers.SUPPORTED_REGIONS)
    names = {}
    for entry in iso:
        code = entry["alpha_2"]
        names[code] = entry.get("common_name") or entry["name"]
    no_code = sorted(c for c in names if c not in supported)
    not_iso = sorted(r for r in supported if r not in names)
    for code, name in EXTRA_REGIONS.items():
        if code not in supported:
            sys.exit("gen-countries: %s is no longer in libphonenumber" % code)
        names[code] = name

    # Region metadata, ordered by calling code and, inside a code, as
    # libphonenumber lists the regions (the main region first).
    meta_lines = []
    calling_codes = sorted(phonenumbers.COUNTRY_CODE_TO_REGION_CODE)
    for cc in calling_codes:
        regions = phonenumbers.COUNTRY_CODE_TO_REGION_CODE[cc]
        meta_lines.append("cc\t%d\t%s" % (cc, ",".join(regions)))
        for region in regions:
            if region == "001":
                continue  # non-geographic entities (+800, +882...): no region to enrol in
            m = PhoneMetadata.metadata_for_region(region)
            if m.country_code != cc:
                sys.exit("gen-countries: %s: calling code %d listed under %d" % (region, m.country_code, cc))
            meta_lines.append("region\t%s\t%d" % (region, cc))
            if m.international_prefix:
                meta_lines.append("idd\t%s\t%s" % (region, to_prefix(m.international_prefix, region + " idd")))
            if m.national_prefix_for_parsing:
                meta_lines.append("npp\t%s\t%s" % (region, to_prefix(m.national_prefix_for_parsing, region + " npp")))
                if m.national_prefix_transform_rule:
                    if not re.search(r"(?<!\\)\((?!\?)", m.national_prefix_for_parsing):
                        sys.exit("gen-countries: %s: transform rule without a capture group" % region)
                    meta_lines.append("npt\t%s\t%s" % (region, to_transform(m.national_prefix_transform_rule, region)))
            elif m.national_prefix_transform_rule:
                sys.exit("gen-countries: %s: transform rule without a national prefix pattern" % region)
            for t in TYPES:
                d = m.general_desc if t == "general" else getattr(m, t)
                if d is None or not d.national_number_pattern:
                    continue
                if t == "mobile" and m.same_mobile_and_fixed_line_pattern:
                    # libphonenumber skips the mobile test when the patterns are the same.
                    continue
                if not d.possible_length:
                    sys.exit("gen-countries: %s %s: no possible lengths" % (region, t))
                where = "%s %s" % (region, t)
                meta_lines.append("desc\t%s\t%s\t%s\t%s\t%s" % (
                    region, t, lengths(d.possible_length), lengths(d.possible_length_local_only),
                    to_ere(d.national_number_pattern, where)))

    # The country table: ISO 3166-1 regions that libphonenumber gives a calling code.
    rows = []
    for code, name in names.items():
        if code not in supported:
            continue
        cc = PhoneMetadata.metadata_for_region(code).country_code
        main = phonenumbers.COUNTRY_CODE_TO_REGION_CODE[cc][0]
        if main not in names:
            sys.exit("gen-countries: %s: main region %s of +%d is not in ISO 3166-1" % (code, main, cc))
        rows.append((sort_key(name), code, name, cc))
    rows.sort()

    source = [
        "Generated by tools/gen-countries.py; do not edit by hand, regenerate.",
        "Sources (Debian packages):",
        "  iso-codes %s: %s, English short name" % (iso_version, ISO_JSON),
        "    (common_name when present, else name);",
        "  python3-phonenumbers %s (libphonenumber metadata): calling codes," % pn_version,
        "    international and national prefixes, number patterns and lengths.",
    ]

    countries = os.path.join(args.srcdir, "data", "countries.tsv")
    with open(countries, "w", encoding="utf-8") as f:
        f.write("# twofa country table: every ISO 3166-1 region with an international calling code.\n")
        for line in source:
            f.write("# " + line + "\n")
        f.write("# In ISO 3166-1 but without a calling code in libphonenumber (left out): %s\n"
                % " ".join(no_code))
        f.write("# In libphonenumber but not in ISO 3166-1, offered too (Twilio serves them; names: EXTRA_REGIONS\n"
                "#   in tools/gen-countries.py): %s\n" % " ".join(not_iso))
        f.write("# VA: ITU assigned +379 to the Vatican, but it is not in use; its numbers are\n")
        f.write("#   +39 06 698..., shared with Italy, as libphonenumber has them.\n")
        f.write("# Sorted by name as a person reads it: accents and case folded (Åland under A).\n")
        f.write("# Columns: alpha-2 code, name, calling code. %d rows.\n" % len(rows))
        for _, code, name, cc in rows:
            f.write("%s\t%s\t%d\n" % (code, name, cc))

    phonemeta = os.path.join(args.srcdir, "data", "phonemeta.tsv")
    with open(phonemeta, "w", encoding="utf-8") as f:
        f.write("# twofa phone number metadata: what lib/phone.c checks numbers against.\n")
        for line in source:
            f.write("# " + line + "\n")
        f.write("""#
# One fact per line, tab-separated:
#   cc      CODE REGIONS      a calling code and its regions, main one first (001 = non-geographic)
#   region  RR CODE           starts the facts of region RR (calling code CODE)
#   idd     RR PATTERN        international_prefix (prefix pattern, Perl rules)
#   npp     RR PATTERN        national_prefix_for_parsing (prefix pattern, Perl rules)
#   npt     RR RULE           national_prefix_transform_rule ($1 = capture group 1)
#   desc    RR TYPE LENGTHS LOCAL ERE
#                             a number type: possible lengths, local-only lengths
#                             ("-" = none) and the national number pattern as an
#                             anchored POSIX extended regular expression.
# Prefix patterns are libphonenumber's with \\d written [0-9]; lib/phone.c reads them.
""")
        for line in meta_lines:
            f.write(line + "\n")
    print("gen-countries: %d countries, %d metadata lines" % (len(rows), len(meta_lines)))


if __name__ == "__main__":
    main()
