#!/usr/bin/python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""The module's side of the split (issue 12): pam_twofa.so starts twofa-server per PAM call
and fails closed on every way the server can go wrong, whatever nullok and failmode say.
Through real libpam (harness.pam) against the simulator:

- a server that is missing, not root's, writable by others, or a symlink is not started;
- a server that exits, answers garbage, another protocol version, an oversized frame or a
  code that is not a PAM code, or hangs past server_timeout=: PAM_AUTHINFO_UNAVAIL and one
  decision line (result=error) that says which, under nullok and failmode=safe;
- the real server killed at the code prompt: fail closed, and the next login works;
- the real server's process at the code prompt: its own session, uids/gids 0, umask 077,
  no core dumps, fds 0-2 on /dev/null, an empty environment;
- in a sandbox without a network, no route to Twilio is a local error: failmode=safe
  stays shut;
- a host that ignores SIGCHLD still gets its answer (the module reaps only its child);
- the module's own arguments are checked; the module links no curl, TLS, GDBM or
  libsodium. TAP."""

import os
import pwd
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time

from harness.tap import Tap
from harness.sim import Sim
from harness.pam import DRIVER, Env, SyslogCapture, module_path, run_pam, server_path
from harness import sanitizer

# This test inspects the server's own process (its executable, its empty environment),
# which a memcheck wrapper or sanitizer options would change: the bare server.
sanitizer.bare()
HERE = os.path.dirname(os.path.abspath(__file__))
t = Tap()
MODULE = module_path()
SERVER = server_path()
if not t.ok(MODULE is not None and os.path.exists(SERVER) and os.geteuid() == 0,
            "the module and twofa-server are built, and this runs as root", SERVER):
    sys.exit(t.done())

PASSWORD = "transport pw"
ALICE = "+14155550123"
sim = Sim()
env = Env(sim, config={"failmode": "safe", "max_tries": "3"})
env.add_member("alice", PASSWORD, ALICE)
cap = SyslogCapture(env)

# Servers of our own, in a root-only directory (the module checks it).
fakes = tempfile.mkdtemp(prefix="twofa-fakes-")
os.chmod(fakes, 0o755)


def fake(name):
    path = os.path.join(fakes, name)
    shutil.copy(os.path.join(HERE, "fake_server.py"), path)
    os.chmod(path, 0o755)
    return path


def service(name, args):
    env.service(name, [env.twofa_line("nullok " + args), env.twofa_line("nullok " + args, kind="account")])
    return name


def decisions():
    time.sleep(0.2)
    return [r["message"] for r in cap.records if "result=" in r["message"]]


def fails_closed(what, args, reason, ops=("auth",), answers=(PASSWORD,), bound=None):
    cap.clear()
    svc = service("t-" + re.sub(r"\W+", "-", what).lower(), args)  # libpam lowercases names
    start = time.monotonic()
    run = run_pam(env, svc, "alice", list(ops), answers=list(answers), rhost="192.0.2.5", syslog=cap,
                  timeout=120)
    took = time.monotonic() - start
    lines = decisions()
    ok = (run.codes() == ["PAM_AUTHINFO_UNAVAIL"] * len(ops) and len(lines) == len(ops)
          and all("result=error" in x and reason in x for x in lines))
    t.ok(ok, "%s: PAM_AUTHINFO_UNAVAIL under nullok and failmode=safe, one line: %s" % (what, reason),
         "%s\n%s" % (run.describe(), "\n".join(lines)))
    if bound is not None:
        t.ok(took < bound, "%s: the module gave up within %d s (took %.1f s)" % (what, bound, took))
    return run


# -- servers the module will not start -------------------------------------------------------
fails_closed("a missing server", "server=%s/nothing-here" % fakes, "No such file or directory",
             ops=("auth", "acct"))
open_dir = tempfile.mkdtemp(prefix="twofa-open-")
os.chmod(open_dir, 0o777)
shutil.copy(SERVER, os.path.join(open_dir, "twofa-server"))
fails_closed("a server in a world-writable directory", "server=%s/twofa-server" % open_dir,
             "in a directory that someone other than root may change")
writable = fake("groupw")
os.chmod(writable, 0o775)
fails_closed("a group-writable server", "server=" + writable, "not a root-owned executable")
foreign = fake("foreign")
os.chown(foreign, pwd.getpwnam("nobody").pw_uid, 0)
fails_closed("a server owned by nobody", "server=" + foreign, "not a root-owned executable")
link = os.path.join(fakes, "link")
os.symlink(SERVER, link)
fails_closed("a symlink as the server", "server=" + link, "not a root-owned executable")

# -- servers that break the protocol ---------------------------------------------------------
fails_closed("a server that exits at once", "server=" + fake("exit"), "exited with status 3",
             answers=())
fails_closed("a server that answers garbage", "server=" + fake("garbage"), "not of the protocol",
             answers=())
fails_closed("a server of another protocol version", "server=" + fake("version"),
             "the server speaks protocol version 99, this pam_twofa.so speaks 1", answers=())
fails_closed("a server that says a code PAM does not have", "server=" + fake("badcode"),
             "broke the protocol", answers=())
fails_closed("a server that announces a 1 GiB frame", "server=" + fake("bigframe"),
             "a frame of a length the protocol does not allow", answers=())
fails_closed("a server that hangs", "server=%s server_timeout=2" % fake("hang"),
             "no answer before the deadline", answers=(), bound=30)
def descends_from_us(pid):
    """True when pid is a child, grandchild ... of this test process (make check runs other
    tests, with servers of their own, beside this one)."""
    for _ in range(64):
        try:
            with open("/proc/%d/status" % pid) as f:
                pid = int(re.search(r"^PPid:\s*(\d+)", f.read(), re.M).group(1))
        except (OSError, AttributeError):
            return False
        if pid == os.getpid():
            return True
        if pid <= 1:
            return False
    return False


def server_pids():
    """The twofa-server processes this test started (the real binary)."""
    pids = []
    for p in os.listdir("/proc"):
        if p.isdigit():
            try:
                # By the file: in fresh-check's chroot /proc shows another path.
                if os.path.samestat(os.stat("/proc/%s/exe" % p), os.stat(SERVER)) and \
                        descends_from_us(int(p)):
                    pids.append(int(p))
            except OSError:
                pass
    return pids


def hung_fakes():
    found = []
    for p in os.listdir("/proc"):
        if p.isdigit():
            try:
                with open("/proc/%s/cmdline" % p, "rb") as f:
                    if os.path.join(fakes, "hang").encode() in f.read():
                        found.append(int(p))
            except OSError:
                pass
    return found


t.ok(not hung_fakes(), "the hung server was killed and reaped, not left behind", hung_fakes())

# -- the real server: its process, killed mid-login ------------------------------------------
service("real", "")
seen = {}


def inspect_then_answer(kind, text, run):
    if "assword" in text:
        return PASSWORD
    pids = server_pids()
    seen["pids"] = pids
    if len(pids) == 1:
        pid = pids[0]
        seen["sid"] = os.getsid(pid)
        seen["pid"] = pid
        with open("/proc/%d/status" % pid) as f:
            seen["status"] = f.read()
        with open("/proc/%d/environ" % pid, "rb") as f:
            seen["environ"] = f.read()
        with open("/proc/%d/limits" % pid) as f:
            seen["limits"] = f.read()
        # By the device, not the path /proc shows (another one in fresh-check's chroot).
        null = os.stat("/dev/null").st_rdev
        seen["fds"] = {fd: "/dev/null" if os.stat("/proc/%d/fd/%s" % (pid, fd)).st_rdev == null
                       else os.readlink("/proc/%d/fd/%s" % (pid, fd)) for fd in ("0", "1", "2")}
        seen["parent_pgid"] = os.getpgid(int(seen["status"].split("PPid:")[1].split()[0]))
    return sim.last_code(ALICE)


cap.clear()
run = run_pam(env, "real", "alice", ["auth"], answers=inspect_then_answer, syslog=cap)
t.ok(run.codes() == ["PAM_SUCCESS"], "the real server: right password and code, PAM_SUCCESS",
     run.describe())
t.ok(len(seen.get("pids", [])) == 1, "one twofa-server runs while the code is asked for", seen.get("pids"))
status = seen.get("status", "")


def field(name):
    m = re.search(r"^%s:[ \t]*(.*)$" % name, status, re.M)
    return m.group(1).split() if m else None



t.ok(seen.get("sid") == seen.get("pid") and seen.get("parent_pgid") != seen.get("pid"),
     "the server leads a session of its own (terminal signals reach the caller's group, not it)",
     seen)
t.ok(field("Uid") == ["0"] * 4 and field("Gid") == ["0"] * 4 and field("Groups") == [],
     "every uid and gid of the server is 0, with no supplementary groups", status)
t.ok(field("Umask") == ["0077"], "the server's umask is 077", field("Umask"))
t.ok(re.search(r"^Max core file size\s+0\s+0\s", seen.get("limits", ""), re.M) is not None,
     "the server may not dump core", seen.get("limits"))
t.ok(seen.get("environ") == b"", "the server's environment is empty", seen.get("environ"))
t.ok(all(v == "/dev/null" for v in seen.get("fds", {"0": "?"}).values()),
     "the server's fds 0-2 are /dev/null", seen.get("fds"))


def kill_then_answer(kind, text, run):
    if "assword" in text:
        return PASSWORD
    for pid in server_pids():
        os.kill(pid, signal.SIGKILL)
    time.sleep(0.3)
    return sim.last_code(ALICE)


cap.clear()
run = run_pam(env, "real", "alice", ["auth"], answers=kill_then_answer, syslog=cap)
lines = decisions()
t.ok(run.codes() == ["PAM_AUTHINFO_UNAVAIL"] and len(lines) == 1 and "killed by signal 9" in lines[0],
     "the server killed at the code prompt: PAM_AUTHINFO_UNAVAIL under nullok and failmode=safe, "
     "one line naming the signal", "%s\n%s" % (run.describe(), lines))
run = run_pam(env, "real", "alice", ["auth", "acct"], answers=[PASSWORD, sim.code_answer(ALICE)])
t.ok(run.codes() == ["PAM_SUCCESS", "PAM_SUCCESS"], "after the kill the next login works (nothing lost)",
     run.describe())

# -- a sandbox without a network (polkit's PrivateNetwork=yes) --------------------------------
# The per-call server inherits the caller's network namespace: no route to Twilio there is
# this machine's failure, so failmode=safe (this env's) must not open on it.
cap.clear()
run = run_pam(env, "real", "alice", ["auth"], answers=[PASSWORD, "123456"], syslog=cap,
              wrapper=["unshare", "--net"])
lines = decisions()
t.ok(run.codes() not in (["PAM_SUCCESS"], []) and len(lines) == 1
     and "on this machine" in lines[0] and "FAILMODE=SAFE" not in " ".join(cap.texts()),
     "no network (unshare --net), failmode=safe: refused as a local error, not an outage",
     "%s\n%s" % (run.describe(), "\n".join(cap.texts())))

# -- a host that ignores SIGCHLD ----------------------------------------------------------------
ignore = [sys.executable, "-c", "import os, signal, sys; signal.signal(signal.SIGCHLD, signal.SIG_IGN); "
          "os.execv(sys.argv[1], sys.argv[1:])"]
run = run_pam(env, "real", "alice", ["auth", "acct"], answers=[PASSWORD, sim.code_answer(ALICE)],
              wrapper=ignore)
t.ok(run.codes() == ["PAM_SUCCESS", "PAM_SUCCESS"] and run.ended,
     "a host that ignores SIGCHLD: the login succeeds and ends", run.describe())

# -- the module's own arguments ----------------------------------------------------------------
for arg, why in (("daemon=maybe", "daemon= takes auto, yes or no"),
                 ("server=relative/path", "server= needs an absolute path"),
                 ("server_timeout=0", "server_timeout= takes seconds"),
                 ("socket=run/x.sock", "socket= needs an absolute path")):
    cap.clear()
    svc = service("arg-" + re.sub(r"\W+", "-", arg).lower(), arg)
    run = run_pam(env, svc, "alice", ["auth"], answers=[], syslog=cap)
    lines = decisions()
    t.ok(run.codes() == ["PAM_SERVICE_ERR"] and len(lines) == 1 and why in lines[0]
         and "configuration error" in lines[0] and run.prompts() == [],
         "%s: PAM_SERVICE_ERR, one line, nobody asked" % arg, "%s\n%s" % (run.describe(), lines))

# -- what the module links ---------------------------------------------------------------------
needed = subprocess.run(["readelf", "-d", MODULE], stdout=subprocess.PIPE, text=True).stdout
libs = re.findall(r"\(NEEDED\)\s+Shared library: \[([^\]]+)\]", needed)
bad = [l for l in libs if re.match(r"lib(curl|ssl|crypto|gdbm|sodium|ldap|gnutls)", l)]
t.ok(libs and not bad, "the module links no curl, TLS, GDBM, libsodium or libldap: %s" % " ".join(libs), bad)

cap.close()
shutil.rmtree(fakes, ignore_errors=True)
shutil.rmtree(open_dir, ignore_errors=True)
sys.exit(t.done())
