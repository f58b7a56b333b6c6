#!/usr/bin/python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""twofa-enroll export holds password hashes (audit section 10): --output FILE creates FILE
with mode 0600 whatever the umask, never over an existing file or through a symbolic link,
and an export to a standard output that is a file others can read gets a warning. TAP
output."""

import os
import stat
import subprocess
import sys

from harness.tap import Tap
from harness.sim import Sim
from harness.cli import Cli

t = Tap()
cli = Cli(Sim())
env = cli.env
os.makedirs(env.dbdir, 0o700, exist_ok=True)
env.add_member("alice", "pw-export-modes", "+14155550123")
WARNING = "standard output is a file others can read"


def loose_umask():
    os.umask(0o022)


whole = cli.run("export")
t.ok(whole.rc == 0 and whole.out.count("\n") == 1 and "$argon2id$" in whole.out, "export to a pipe",
     whole.describe())
t.ok(WARNING not in whole.err, "a pipe gets no warning", whole.err)

# -- --output FILE -----------------------------------------------------------------------------
out = os.path.join(env.dir, "members.jsonl")
r = cli.run("export", "--output", out, preexec=loose_umask)
mode = stat.S_IMODE(os.lstat(out).st_mode) if os.path.exists(out) else None
t.ok(r.rc == 0 and r.out == "" and mode == 0o600, "--output FILE under umask 022 creates FILE 0600 (%s)"
     % (oct(mode) if mode is not None else "missing"), r.describe())
with open(out) if os.path.exists(out) else open(os.devnull) as f:
    t.eq(f.read(), whole.out, "the file holds the same lines as standard output would")

with open(out, "w") as f:
    f.write("keep me\n")
r = cli.run("export", "--output", out)
with open(out) as f:
    kept = f.read()
t.ok(r.rc == 73 and "already exists" in r.err and kept == "keep me\n",
     "--output over an existing file: refused (73), the file untouched", r.describe())

target = os.path.join(env.dir, "elsewhere")
link = os.path.join(env.dir, "link.jsonl")
os.symlink(target, link)
r = cli.run("export", "--output", link)
t.ok(r.rc != 0 and not os.path.exists(target), "--output through a symbolic link: refused, nothing created",
     r.describe())

r = cli.run("export", "--output")
t.ok(r.rc == 64, "--output without FILE: usage error (64)", r.describe())
r = cli.run("export", "--output", os.path.join(env.dir, "x"), "extra")
t.ok(r.rc == 64 and not os.path.exists(os.path.join(env.dir, "x")), "an extra argument: usage error (64)",
     r.describe())

# -- standard output redirected to a file ------------------------------------------------------
for name, file_mode, warned in (("open.jsonl", 0o644, True), ("group.jsonl", 0o640, True),
                                ("private.jsonl", 0o600, False)):
    path = os.path.join(env.dir, name)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, file_mode)
    os.fchmod(fd, file_mode)
    p = subprocess.run(cli.argv(["export"]), stdout=fd, stderr=subprocess.PIPE, text=True,
                       stdin=subprocess.DEVNULL)
    os.close(fd)
    with open(path) as f:
        written = f.read()
    t.ok(p.returncode == 0 and written == whole.out and (WARNING in p.stderr) == warned,
         "export > file of mode %04o: %s" % (file_mode, "warns" if warned else "no warning"), p.stderr)

cli.cleanup()
sys.exit(t.done())
