#!/usr/bin/python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""twofa-enroll approve / disable / enable / remove / unlock / list / show: status changes,
the login state a real pam_twofa login leaves (lockout), the table and the JSON fields,
root only, colours only at a terminal."""

import os
import pty
import shutil
import subprocess
import sys
import tempfile

from harness.tap import Tap
from harness.sim import Sim
from harness.pam import module_path, run_pam
from harness.cli import CLI, Cli, Run

t = Tap()
sim = Sim()
cli = Cli(sim, {"lockout_failures": "2", "lockout_seconds": "600"})
env = cli.env
PW = "pw-admin-test"
FIELDS = ["user", "email", "phone", "country", "channel", "status", "created", "updated", "verified",
          "last_login", "failures", "locked_until"]

r = cli.run("list")
t.ok(r.rc == 0 and r.out == "" and "no members" in r.err, "list before any store: no members, exit 0",
     r.describe())
r = cli.run("list", "--json")
t.ok(r.rc == 0 and r.json() == [], "list --json before any store: []", r.describe())
r = cli.run("approve", "alice")
t.ok(r.rc == 65 and "not enrolled" in r.err, "approve without a member: not enrolled (65)", r.describe())
if env.gdbm:
    t.ok(not os.path.exists(cli.members_db), "and no empty members.db is created")
else:
    t.skip("and no empty members.db is created", "store = ldap has no members.db")

os.makedirs(env.dbdir, 0o700, exist_ok=True)
env.add_member("alice", PW, "+14155550123")
env.add_member("pat", PW, "+14155550177", status="pending")
env.add_member("dave", PW, "+14155550188", status="disabled", email="dave@example.org")

# -- show / list --------------------------------------------------------------------------
r = cli.run("show", "alice", "--json")
o = r.json() if r.rc == 0 else {}
t.eq(list(o.keys()), FIELDS + ["locked_from", "sends", "next_send", "recovery_codes", "bypass", "totp_factor"],
     "show --json has exactly the documented fields, in order")
t.ok(o.get("phone") == "+14155550123" and o.get("status") == "active" and o.get("last_login") is None
     and o.get("failures") == 0 and o.get("locked_until") is None and o.get("email") is None,
     "show --json: full E.164, status, null times and zero failures", o)
t.ok(o.get("created", "").endswith("Z") and len(o.get("created", "")) == 20, "times are ISO 8601 UTC", o)
t.ok("argon2" not in r.out, "show --json never holds the password hash")
r = cli.run("show", "dave")
t.ok(r.rc == 0 and "+1 ***-***-0188" in r.out and "+14155550188" not in r.out and "dave@example.org" in r.out,
     "show (table): masked number", r.describe())
r = cli.run("show", "nobody")
t.ok(r.rc == 65 and r.one_line_error(), "show of someone not enrolled -> 65, one line", r.describe())

r = cli.run("list", "--json")
rows = r.json() if r.rc == 0 else []
t.eq([x["user"] for x in rows], ["alice", "dave", "pat"], "list --json: every member, sorted by user")
t.ok(all(list(x.keys()) == FIELDS + ["recovery_codes", "bypass"] for x in rows),
     "list --json rows have exactly the documented fields")
t.ok("argon2" not in r.out, "list --json never holds the password hash")
r = cli.run("list", "--status", "pending", "--json")
t.eq([x["user"] for x in r.json()] if r.rc == 0 else r.describe(), ["pat"], "list --status pending")
r = cli.run("list")
lines = r.out.splitlines()
t.ok(r.rc == 0 and len(lines) == 4 and lines[0].split()[:2] == ["USER", "PHONE"]
     and "+1 ***-***-0123" in r.out and "+14155550123" not in r.out,
     "list: a header and one row per member, numbers masked", r.describe())
t.ok("\033[" not in r.out + r.err, "no colours when stdout is not a terminal")
r = cli.run("list", "--status", "gone")
t.ok(r.rc == 64 and r.one_line_error(), "list --status with an unknown status -> 64", r.describe())

# -- approve / disable / enable ------------------------------------------------------------
r = cli.run("approve", "pat")
t.ok(r.rc == 0 and cli.member("pat")["status"] == "active", "approve pat: pending -> active", r.describe())
r = cli.run("approve", "pat")
t.ok(r.rc == 0 and "already active" in r.out, "approve of an active member is a no-op", r.describe())
r = cli.run("approve", "dave")
t.ok(r.rc == 65 and "enable" in r.err and cli.member("dave")["status"] == "disabled",
     "approve of a disabled member -> 65, pointing to enable", r.describe())
r = cli.run("enable", "dave")
t.ok(r.rc == 0 and cli.member("dave")["status"] == "active", "enable dave: disabled -> active", r.describe())
before = cli.show("alice")
r = cli.run("disable", "alice")
after = cli.show("alice")
t.ok(r.rc == 0 and after["status"] == "disabled" and after["created"] == before["created"]
     and after["updated"] >= before["updated"], "disable alice: status disabled, updated moves", r.describe())
r = cli.run("disable", "alice")
t.ok(r.rc == 0 and "already disabled" in r.out, "disable twice is a no-op", r.describe())
cli.run("enable", "alice")

# -- a real lockout from pam_twofa, then unlock ---------------------------------------------
module = module_path()
if t.ok(module is not None, "pam_twofa.so is built (for the lockout)"):
    env.service("login-test", [env.twofa_line()])
    for _ in range(2):
        run_pam(env, "login-test", "alice", ["auth"], answers=["wrong password"], rhost="192.0.2.7")
    o = cli.show("alice")
    t.ok(o["failures"] == 2 and o["locked_until"] is not None, "two wrong passwords: show says locked", o)
    r = cli.run("list")
    row = [l for l in r.out.splitlines() if l.startswith("alice")]
    t.ok(row and row[0].split()[-2:][0] == "2", "list shows the failures", r.out)
    r = cli.run("unlock", "alice")
    o = cli.show("alice")
    t.ok(r.rc == 0 and o["failures"] == 0 and o["locked_until"] is None, "unlock alice: failures and lockout reset",
         r.describe())
    st = cli.state("alice")
    t.ok(st.get("failures") == 0 and st.get("locked_until") in (0, None), "state.db agrees", st)
r = cli.run("unlock", "nobody")
t.ok(r.rc == 65, "unlock of someone not enrolled -> 65", r.describe())

# -- remove ---------------------------------------------------------------------------------
r = cli.run("remove", "dave")
t.ok(r.rc == 64 and cli.member("dave") is not None and r.one_line_error(),
     "remove without --yes when stdin is not a terminal -> 64, nothing removed", r.describe())
r = cli.run("remove", "alice", "--yes")
t.ok(r.rc == 0 and cli.member("alice") is None, "remove --yes alice", r.describe())
st = cli.state("alice")
t.ok(st.get("failures", 0) == 0 and not st.get("last_from") and st.get("grace_count", 0) == 0,
     "remove also forgets the login state", st)
r = cli.run("remove", "--yes", "alice")
t.ok(r.rc == 65 and "not enrolled" in r.err, "remove twice -> 65", r.describe())

# -- at a terminal: confirmation and colours -------------------------------------------------
def at_terminal(args, answer=None, extra_env=None):
    pid, fd = pty.fork()
    if pid == 0:
        e = dict(os.environ)
        e.pop("NO_COLOR", None)
        e.update(extra_env or {})
        os.execve(CLI, [CLI, "--config", cli.config_path] + args, e)
    out = b""
    sent = False
    while True:
        try:
            chunk = os.read(fd, 4096)
        except OSError:
            break
        if not chunk:
            break
        out += chunk
        if answer is not None and not sent and b"[y/N]" in out:
            os.write(fd, answer.encode() + b"\n")
            sent = True
    _, status = os.waitpid(pid, 0)
    os.close(fd)
    return os.waitstatus_to_exitcode(status), out.decode(errors="replace")


rc, out = at_terminal(["remove", "dave"], "n")
t.ok(rc == 1 and "Remove dave (+1 ***-***-0188)" in out and cli.member("dave") is not None,
     "at a terminal remove asks; 'n' keeps dave", out)
rc, out = at_terminal(["remove", "dave"], "y")
t.ok(rc == 0 and cli.member("dave") is None, "at a terminal 'y' removes dave", out)
rc, out = at_terminal(["list"])
t.ok(rc == 0 and "\033[1m" in out and "\033[32m" in out, "at a terminal the table has colours", out)
rc, out = at_terminal(["list"], extra_env={"NO_COLOR": "1"})
t.ok(rc == 0 and "\033[" not in out and "pat" in out, "NO_COLOR turns colours off", out)
rc, out = at_terminal(["show", "nobody"])
t.ok(rc == 65 and "\033[31m" in out, "at a terminal the error line is red", out)

# -- root only --------------------------------------------------------------------------------
def as_nobody():
    os.setgid(65534)
    os.setgroups([])
    os.setuid(65534)


# nobody cannot reach a tree under a 0700 folder (a clone in /root): it runs a copy of the
# CLI from a world-readable temporary folder.
nobody_dir = tempfile.mkdtemp(prefix="twofa-nobody-")
os.chmod(nobody_dir, 0o755)
nobody_cli = os.path.join(nobody_dir, "twofa-enroll")
shutil.copyfile(CLI, nobody_cli)
os.chmod(nobody_cli, 0o755)


def run_as_nobody(*args):
    argv = [nobody_cli if a == CLI else a for a in cli.argv(args)]
    p = subprocess.run(argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                       text=True, timeout=120, preexec_fn=as_nobody)
    return Run(p.returncode, p.stdout, p.stderr)


try:
    for args in (["list"], ["show", "pat"], ["add", "x", "--phone", "1", "--country", "US"], ["db", "check"],
                 ["check-config"], ["export"], ["import", "-"], ["bypass", "pat"]):
        r = run_as_nobody(*args)
        t.ok(r.rc == 77 and "root" in r.err and r.one_line_error(), "not root: %s -> 77" % args[0],
             r.describe())
    r = run_as_nobody("countries")
    t.ok(r.rc == 0 and "United Kingdom" in r.out, "countries needs no root", r.describe())
    r = run_as_nobody("list", "--help")
    t.ok(r.rc == 0 and "usage:" in r.out, "--help needs no root", r.describe())
finally:
    shutil.rmtree(nobody_dir)

# -- every command has --help ------------------------------------------------------------------
r = subprocess.run([CLI, "--help"], stdout=subprocess.PIPE, text=True)
cmds = ["add", "phone", "passwd", "test", "approve", "disable", "enable", "remove", "unlock", "recovery", "bypass", "list",
        "show", "export", "import", "check-config", "db", "countries", "normalize"]
for c in cmds:
    h = subprocess.run([CLI, c, "--help"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    t.ok(h.returncode == 0 and h.stdout.startswith("usage: twofa-enroll") and c in r.stdout,
         "%s --help" % c, h.stdout + h.stderr)
r = cli.run("frobnicate")
t.ok(r.rc == 64 and r.one_line_error(), "an unknown command -> 64", r.describe())
r = subprocess.run([CLI], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
t.ok(r.returncode == 64 and len(r.stderr.splitlines()) == 1, "no command -> 64, one line", r.stderr)

cli.cleanup()
sys.exit(t.done())
