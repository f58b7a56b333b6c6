# SPDX-License-Identifier: GPL-3.0-or-later
"""What the tests of the commands that print one-time codes once share (recovery, bypass,
invite: issues 14 and 15): the formats, the hash checked with Python's own BLAKE2b over the
input lib/onetime_code.h documents, the member's export line, and a log of every code
printed, so that a test can look for any of them where none may be.

    codes = OneTime(cli, "bypass", b"b")
    code, r, before, after = codes.issue("alice", "--uses", "2")  # before/after: time()
    t.ok(codes.matches("alice", code, codes.record("alice")["bypass"]["hash"]), ...)
    t.ok(codes.no_code_in(cli.run("show", "alice").out), ...)
"""

import hashlib
import json
import re
import time

CODE_RE = re.compile(r"^[0-9A-HJKMNP-TV-Z]{4}(-[0-9A-HJKMNP-TV-Z]{4}){3}$")
HASH_RE = re.compile(r"^b2\$[0-9a-f]{32}\$[0-9a-f]{64}$")
ISO_RE = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$")


def matches(user, code, h, kind):
    """Does code verify against the stored hash h for user, as that kind (b"r" recovery,
    b"b" bypass, b"i" invite)? The documented input."""
    salt, digest = bytes.fromhex(h[3:35]), h[36:]
    u = user.encode()
    msg = b"twofa one-time code v1\0" + kind + len(u).to_bytes(2, "big") + u + code.replace("-", "").encode()
    return hashlib.blake2b(msg, key=salt, digest_size=32).hexdigest() == digest


def iso_time(s):
    """The seconds of an ISO 8601 UTC time as the CLI writes it; 0 for anything else."""
    return int(time.mktime(time.strptime(s, "%Y-%m-%dT%H:%M:%SZ")) - time.timezone) if ISO_RE.match(s or "") else 0


class OneTime:
    """The codes cli's command (recovery, bypass, invite) printed, of kind."""

    def __init__(self, cli, command, kind):
        self.cli, self.command, self.kind = cli, command, kind
        self.seen = []  # every code printed: none may show up anywhere else

    def matches(self, user, code, h, kind=None):
        return matches(user, code, h, kind or self.kind)

    def record(self, user):
        """user's export line as an object (None: no record)."""
        for line in self.cli.run("export").out.splitlines():
            if json.loads(line)["user"] == user:
                return json.loads(line)
        return None

    def issue(self, user, *args, env=None):
        """COMMAND USER ARGS: the code printed (None without one, or with --json) and the
        run, timed."""
        before = int(time.time())
        r = self.cli.run(self.command, user, *args, env=env)
        after = int(time.time())
        code = r.out.strip() if r.rc == 0 and "--json" not in args else None
        if code:
            self.seen.append(code)
        return code, r, before, after

    def no_code_in(self, text):
        return not any(c in text or c.replace("-", "") in text for c in self.seen)
