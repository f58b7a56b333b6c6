#!/usr/bin/python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""The documentation of twofa.conf against lib/config.c's key table, in TAP.

tests/unit/config_keys prints the table (name, kind, flags, range, default).
Every key must be described, with the table's range and default, in:

  - man/twofa.conf.5: an ".It Cm KEY" item under CREDENTIALS or KEYS. A
    number's item gives MIN..MAX (and no other range) and "Default N"; a
    choice's item lists each word with .Cm and marks the default
    "WORD (default)"; a channel list's gives "Default" and .Ql WORDS; a URL's
    or path's "Default" and the value; a SID's its prefix with .Ql; a key
    without a default claims none.
  - etc/twofa.conf: once, commented out, as "#KEY = DEFAULT" (empty or a
    placeholder when it has no default); the comment above a group of keys
    gives each number's MIN..MAX and no other range.
  - README's key list: once; a number's entry gives "MIN..MAX (N)" (a unit
    word may stand between), a choice's "WORD (default", a channel list's
    "(WORDS)", a URL's or path's default.

No other key may appear in those places. The documents describe the default
layout (localstatedir /var); a build configured otherwise is mapped back.
Usage: test_config_docs.py [CONFIG_KEYS [MAN CONF README]]
"""

import os
import re
import subprocess
import sys

from harness.paths import BUILDDIR, SRCDIR
from harness.tap import Tap

RANGE = re.compile(r"\b\d+\.\.\d+\b")


class Key:
    def __init__(self, line, localstatedir):
        self.name, self.kind, flags, rng, self.default = line.split("\t")
        self.secret = flags == "secret"
        self.optional = flags == "optional"
        self.range = rng if self.kind == "number" else None
        self.words = rng.split("|") if self.kind in ("choice", "channels") else []
        self.prefix = rng if self.kind == "sid" else None
        # The documents show the default layout.
        if localstatedir != "/var" and self.default.startswith(localstatedir + "/"):
            self.default = "/var" + self.default[len(localstatedir):]


def read_table(tool):
    out = subprocess.run([tool], check=True, capture_output=True, text=True).stdout.splitlines()
    localstatedir = out[0].split("=", 1)[1]
    return [Key(line, localstatedir) for line in out[1:]]


# ---- man/twofa.conf.5 ----------------------------------------------------

MACROS = {"Cm", "Ql", "Pa", "Lk", "Dv", "Ev", "Xr", "Ic", "Ar", "Fl", "Ns", "Pq", "Dq", "Sq"}


def plain(lines):
    """mdoc lines as text; a macro line's words in «», its trailing
    punctuation outside: '.Ql own call' -> '«own call»'."""
    words = []
    for line in lines:
        line = line.replace("\\-", "-").replace("\\&", "")
        if not line.startswith("."):
            words.append(line)
            continue
        tokens = [t for t in line[1:].split()[1:] if t not in MACROS]
        tail = []
        while tokens and re.fullmatch(r"[.,:;()]", tokens[-1]):
            tail.insert(0, tokens.pop())
        words.append(("«%s»" % " ".join(tokens) if tokens else "") + (" " + " ".join(tail) if tail else ""))
    return " ".join(" ".join(words).split())


def man_items(text):
    """{key: [lines]} of the .It Cm items in CREDENTIALS and KEYS, and the
    keys of EXAMPLES' literal block."""
    items, order, section, depth, current = {}, [], None, 0, None
    example_keys, in_example = [], False
    for line in text.splitlines():
        if line.startswith(".Sh "):
            section, current = line[4:].strip(), None
            continue
        if section == "EXAMPLES":
            if line.startswith(".Bd"):
                in_example = True
            elif line.startswith(".Ed"):
                in_example = False
            elif in_example:
                m = re.match(r"\s*([A-Za-z_]\w*)\s*=", line)
                if m:
                    example_keys.append(m.group(1))
            continue
        if section not in ("CREDENTIALS", "KEYS"):
            continue
        if line.startswith(".Bl"):
            depth += 1
        elif line.startswith(".El"):
            depth -= 1
            current = None if depth == 0 else current
        elif depth == 1 and line.startswith(".It"):
            m = re.match(r"\.It Cm (\S+)$", line)
            current = m.group(1) if m else line
            order.append(current)
            items.setdefault(current, [])
        elif current is not None:
            items[current].append(line)
    return items, order, example_keys


def value(token):
    return token[1:-1] if token.startswith("«") else token


def check_man(tap, keys, path):
    with open(path, encoding="utf-8") as f:
        items, order, example_keys = man_items(f.read())
    names = {k.name for k in keys}
    unknown = [n for n in order if n not in names] + [n for n in example_keys if n not in names]
    tap.ok(not unknown, "man: every key it describes is in the table", "unknown: %s" % unknown)
    for k in keys:
        what = "man: %s" % k.name
        if order.count(k.name) != 1:
            tap.ok(False, what, "described %d times (.It Cm %s)" % (order.count(k.name), k.name))
            continue
        lines = items[k.name]
        text = plain(lines)
        defaults = [value(m) for m in re.findall(r"\bDefault:? («[^»]*»|[^\s.,;:()]+)", text)]
        problems = []
        if k.kind == "number":
            ranges = RANGE.findall(text)
            if ranges != [k.range]:
                problems.append("ranges %s, the table's %s" % (ranges, k.range))
        problems += ["does not list .Cm %s" % w for w in k.words if "«%s»" % w not in text]
        if k.kind == "choice":
            marked = [value(m) for m in re.findall(r"(«[^»]*»|\S+) \(default\)", text)]
            if marked != [k.default]:
                problems.append("marks %s as (default), the table %s" % (marked, k.default))
        elif k.default:
            if defaults != [k.default]:
                problems.append("says Default %s, the table %s" % (defaults, k.default))
        elif defaults:
            problems.append("says Default %s; the table has none" % defaults)
        if k.prefix and "«%s»" % k.prefix not in text:
            problems.append("does not give the prefix .Ql %s" % k.prefix)
        tap.ok(not problems, what + (" (%s)" % (k.range or k.default) if k.range or k.default else ""),
               "\n".join(problems + ["text: " + text]))


# ---- etc/twofa.conf --------------------------------------------------------

def check_conf(tap, keys, path):
    by_name = {k.name: k for k in keys}
    seen, unknown, uncommented, problems = {}, [], [], []
    comment, group = [], []

    def close_group():
        if not group:
            return
        ranges = RANGE.findall(" ".join(comment))
        wanted = [by_name[n].range for n in group if n in by_name and by_name[n].range]
        for r in wanted:
            if r not in ranges:
                problems.append("the comment above %s does not give %s" % (", ".join(group), r))
        for r in ranges:
            if r not in wanted:
                problems.append("the comment above %s gives %s, which is no range of theirs" %
                                (", ".join(group), r))

    with open(path, encoding="utf-8") as f:
        for lineno, line in enumerate(f, 1):
            line = line.rstrip("\n")
            m = re.match(r"^(#?)\s*([A-Za-z_]\w*)\s*=(.*)$", line)
            if not m:
                if group:
                    close_group()
                    comment, group = [], []
                if line.startswith("#"):
                    comment.append(line)
                continue
            hashed, name, val = m.group(1), m.group(2), m.group(3).strip()
            group.append(name)
            if name not in by_name:
                unknown.append("%s (line %d)" % (name, lineno))
                continue
            if not hashed or not line.startswith("#" + name):
                uncommented.append("%s (line %d)" % (name, lineno))
            seen.setdefault(name, []).append((lineno, val))
    close_group()
    tap.ok(not unknown, "etc/twofa.conf: every key in it is in the table", "unknown: %s" % unknown)
    tap.ok(not uncommented, "etc/twofa.conf: every key is commented out as #KEY = ...",
           "not so: %s" % uncommented)
    tap.ok(not problems, "etc/twofa.conf: each group's comment gives its numbers' ranges, no other",
           "\n".join(problems))
    for k in keys:
        got = seen.get(k.name, [])
        if len(got) != 1:
            tap.ok(False, "etc/twofa.conf: %s" % k.name, "%d lines set it" % len(got))
            continue
        lineno, val = got[0]
        if k.default:
            good = val == k.default
        else:
            good = val == "" or (k.prefix is not None and val == k.prefix + "x" * 32)
        tap.ok(good, "etc/twofa.conf: #%s = %s" % (k.name, k.default),
               "line %d has '%s'" % (lineno, val))


# ---- README ---------------------------------------------------------------

def readme_entries(path):
    """[(names, text)] of the key list after 'The keys:'."""
    with open(path, encoding="utf-8") as f:
        lines = f.read().splitlines()
    start = next(i for i, l in enumerate(lines) if l.rstrip().endswith("The keys:"))
    entries = []
    for line in lines[start + 1:]:
        if not line.strip():
            if entries:
                break
            continue
        if not line.startswith("    "):
            break
        if line[4] != " ":
            names, _, text = line[4:].partition("  ")
            entries.append(([n.strip() for n in names.split(",")], text.strip()))
        else:
            entries[-1] = (entries[-1][0], entries[-1][1] + " " + line.strip())
    return entries


def check_readme(tap, keys, path):
    by_name = {k.name: k for k in keys}
    entries = readme_entries(path)
    listed = [n for names, _ in entries for n in names]
    unknown = [n for n in listed if n not in by_name]
    tap.ok(entries and not unknown, "README: every key in its key list is in the table",
           "unknown: %s" % unknown)
    for names, text in entries:
        ranges = RANGE.findall(text)
        wanted = [by_name[n].range for n in names if n in by_name and by_name[n].range]
        extra = [r for r in ranges if r not in wanted]
        tap.ok(not extra, "README: %s gives no range but its own" % ", ".join(names), "extra: %s" % extra)
    for k in keys:
        what = "README: %s" % k.name
        found = [text for names, text in entries if k.name in names]
        if len(found) != 1:
            tap.ok(False, what, "listed %d times" % len(found))
            continue
        text, problems = found[0], []
        if k.kind == "number":
            if not re.search(r"%s(?: [a-z]+)? \(%s\)" % (re.escape(k.range), re.escape(k.default)), text):
                problems.append("does not give '%s (%s)'" % (k.range, k.default))
        elif k.kind == "choice":
            problems += ["does not list %s" % w for w in k.words if not re.search(r"\b%s\b" % w, text)]
            marked = re.findall(r"([\w-]+) \(default\b", text)
            if marked != [k.default]:
                problems.append("marks %s as (default), the table %s" % (marked, k.default))
        elif k.kind == "channels":
            problems += ["does not list %s" % w for w in k.words if not re.search(r"\b%s\b" % w, text)]
            if "(%s)" % k.default not in text:
                problems.append("does not give the default (%s)" % k.default)
        elif k.default and k.default not in text:
            problems.append("does not give the default %s" % k.default)
        tap.ok(not problems, what, "\n".join(problems + ["entry: " + text]))


def main():
    args = sys.argv[1:]
    tool = args[0] if args else os.path.join(BUILDDIR, "tests", "unit", "config_keys")
    man, conf, readme = args[1:4] if len(args) >= 4 else (
        os.path.join(SRCDIR, "man", "twofa.conf.5"), os.path.join(SRCDIR, "etc", "twofa.conf"),
        os.path.join(SRCDIR, "README"))
    tap = Tap()
    keys = read_table(tool)
    tap.ok(len(keys) >= 20 and len({k.name for k in keys}) == len(keys),
           "config_keys printed the table: %d keys" % len(keys))
    check_man(tap, keys, man)
    check_conf(tap, keys, conf)
    check_readme(tap, keys, readme)
    return tap.done()


if __name__ == "__main__":
    sys.exit(main())
