#!/usr/bin/python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""The bad-input matrix: every argument of twofa-enroll given empty, overlong, with control
characters, with letters where digits belong, for the wrong country... Each case has its
exact exit code, one line on stderr, and sends nothing and stores nothing."""

import os
import sys

from harness.tap import Tap
from harness.sim import Sim
from harness.cli import CODE, Cli

t = Tap()
sim = Sim()
cli = Cli(sim)
env = cli.env
LONG = "x" * 300
PHONE, CC = "+447400123456", "GB"


def case(name, args, want, stdin="", config=None):
    r = cli.run(*args, input=stdin, config=config)
    ok = r.rc == want and r.one_line_error() and r.out == ""
    t.ok(ok, "%s -> %d" % (name, want), r.describe())
    return r


def add(user="alice", phone=PHONE, country=CC, extra=()):
    return ["add", user, "--phone", phone, "--country", country] + list(extra)


# -- USER, for every command that takes one -----------------------------------------------
users = [("empty", "", 65), ("overlong", "u" * 257, 65), ("a control character", "al\x01ce", 65),
         ("an escape sequence", "al\x1b[31mce", 65), ("DEL", "al\x7fce", 65), ("a slash", "al/ce", 65),
         ("a colon", "al:ce", 65), ("invalid UTF-8", "al\udcffce", 65)]
commands = {"add": lambda u: add(u), "phone": lambda u: ["phone", u, "--phone", PHONE, "--country", CC],
            "passwd": lambda u: ["passwd", u], "test": lambda u: ["test", u],
            "approve": lambda u: ["approve", u], "disable": lambda u: ["disable", u],
            "enable": lambda u: ["enable", u], "remove": lambda u: ["remove", u, "--yes"],
            "unlock": lambda u: ["unlock", u], "show": lambda u: ["show", u],
            "recovery": lambda u: ["recovery", u], "bypass": lambda u: ["bypass", u]}
for cmd, argv in commands.items():
    for what, user, want in users:
        if cmd not in ("add", "show") and what not in ("empty", "overlong", "a control character"):
            continue  # the same check for every command: the full list on add and show
        try:
            case("%s USER %s" % (cmd, what), argv(user), want)
        except UnicodeEncodeError:
            r = cli.run(*[a.encode("utf-8", "surrogateescape") if isinstance(a, str) else a
                          for a in argv(user)], input="")
            t.ok(r.rc == want, "%s USER %s -> %d" % (cmd, what, want), r.describe())
    case("%s without USER" % cmd, argv("alice")[:1], 64)
case("show with two users", ["show", "alice", "bob"], 64)
case("approve with an unknown option", ["approve", "alice", "--force"], 64)

# -- phone number ---------------------------------------------------------------------------
numbers = [("empty", "", 65), ("overlong", "1" * 65, 65), ("a control character", "07400\n123456", 65),
           ("a tab", "07400\t123456", 65), ("letters", "07400 ABCDEF", 65), ("a vanity number", "0800 FLOWERS", 65),
           ("an extension", "07400 123456 ext 12", 65), ("another country's number", "+4915112345678", 65),
           ("too few digits", "07400", 65), ("too many digits", "074001234567890", 65),
           ("only punctuation", "()--..", 65), ("two plus signs", "++447400123456", 65)]
for what, number, want in numbers:
    case("add --phone %s" % what, add(phone=number), want)
    case("phone --phone %s" % what, ["phone", "alice", "--phone", number, "--country", CC], want)
    case("normalize %s" % what, ["normalize", "--country", CC, "--", number], want)
case("add --phone missing its value", ["add", "alice", "--country", CC, "--phone"], 64)
case("add without --phone", ["add", "alice", "--country", CC], 64)

# -- country --------------------------------------------------------------------------------
countries = [("empty", "", 65), ("overlong", "GBR", 65), ("unknown", "XX", 65), ("digits", "44", 65),
             ("a control character", "G\x01", 65), ("the wrong country", "DE", 65), ("long junk", LONG, 65)]
for what, cc, want in countries:
    case("add --country %s" % what, add(country=cc), want)
    case("phone --country %s" % what, ["phone", "alice", "--phone", PHONE, "--country", cc], want)
case("add without --country", ["add", "alice", "--phone", PHONE], 64)

# -- email and channel ------------------------------------------------------------------------
emails = [("empty", "", 65), ("overlong", "a" * 250 + "@example.org", 65), ("no @", "alice.example.org", 65),
          ("a control character", "al\x01ce@example.org", 65), ("a space", "al ce@example.org", 65)]
for what, email, want in emails:
    case("add --email %s" % what, add(extra=["--email", email]), want)
channels = [("empty", "", 64), ("unknown", "fax", 64), ("upper case", "SMS", 64), ("overlong", LONG, 64),
            ("a control character", "sm\x01s", 64)]
for what, ch, want in channels:
    case("add --channel %s" % what, add(extra=["--channel", ch]), want)
    case("test --channel %s" % what, ["test", "alice", "--channel", ch], 64 if want == 64 else want)
case("add --channel email without --email", add(extra=["--channel", "email"]), 64)
case("phone --channel email", ["phone", "alice", "--phone", PHONE, "--country", CC, "--channel", "email"], 64)
for what, st in (("empty", ""), ("unknown", "gone"), ("overlong", LONG), ("a control character", "act\x01ive")):
    case("list --status %s" % what, ["list", "--status", st], 64)

# -- --config, FILE arguments, subcommands -----------------------------------------------------
case("--config empty", ["list"], 64, config="")
case("--config missing file", ["list"], 78, config=os.path.join(env.dir, "nope.conf"))
case("--config overlong path", ["list"], 78, config="/" + "d" * 5000)
case("--config with a control character", ["list"], 78, config=os.path.join(env.dir, "a\x01b"))
case("import FILE empty", ["import", ""], 64)
case("import FILE overlong", ["import", "/" + "f" * 5000], 65)
case("db backup FILE empty", ["db", "backup", ""], 64)
case("db backup without FILE", ["db", "backup"], 64)
case("db recover of something else", ["db", "recover", "everything"], 64)
case("db with an unknown subcommand", ["db", "vacuum"], 64)
case("db without a subcommand", ["db"], 64)
case("check-config with an argument", ["check-config", "now"], 64)
case("countries with an argument", ["countries", "GB"], 64)

t.eq(sim.outbox(), [], "not one code was sent for any bad argument")
t.ok(not os.path.exists(cli.members_db), "no member store was created")

# -- answers: passwords and codes ---------------------------------------------------------------
case("password empty", add(), 65, stdin="\n\n")
case("password overlong", add(), 65, stdin="p" * 1025 + "\n" + "p" * 1025 + "\n")
case("password with a control character", add(), 65, stdin="pass\x01word\npass\x01word\n")
case("password missing", add(), 65, stdin="")
case("--password-stdin with nothing on stdin", add(extra=["--password-stdin"]), 65, stdin="")
t.eq(sim.outbox(), [], "no code was sent for a bad password")
r = cli.flow(add(), PHONE, ["pw-inputs-1", "pw-inputs-1", "c" * 100, CODE])
t.ok(r.rc == 65 and "too long" in r.err and cli.member("alice") is None, "an overlong code line -> 65",
     r.describe())
r = cli.flow(add(), PHONE, ["pw-inputs-1", "pw-inputs-1", "12ab56", "12\x0156", "1", CODE])
t.ok(r.rc == 65 and "not a code" in r.err and cli.member("alice") is None,
     "letters, control characters and short codes count as tries (3 -> 65)", r.describe())
r = cli.flow(add(), PHONE, ["pw-inputs-1", "pw-inputs-1", "  ", CODE])
t.ok(r.rc == 0 and cli.member("alice", "pw-inputs-1")["password"] == "ok",
     "a blank line is skipped, then the code is accepted", r.describe())

cli.cleanup()
sys.exit(t.done())
