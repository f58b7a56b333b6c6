# SPDX-License-Identifier: GPL-3.0-or-later
"""What a local user can do to their own setuid su, sudo or chfn (the audit's #2 and #4),
for the end-to-end tests: nothing here needs more than the user's own rights, except
setting the stage (the test runs as root and hands the user a terminal).

    term = Terminal(user, [SU, user.name, "-c", "true"], wrap=wrap)  # sh runs it on a pty
    term = Terminal(user, None, wrap=wrap)       # an interactive bash with job control
    term.run("su %s -c true" % user.name)        # typed at the bash prompt
    term.ctrl_z(); term.fg()                     # the terminal's own job control
    signal_as(user, pid, signal.SIGSTOP)         # kill(2) with the user's uids: 0 or errno
    pids_of(user.uid, "/bin/su")                 # the user's own su processes
    connections_to(sim.port)                     # PIDs holding a TCP connection to the sim
    LockStopper(user, inodes)                    # polls /proc/locks, SIGSTOPs holders

wrap is an argv prefix function (a private mount namespace, a syslog capture) applied to
the user's command; the user's shell is entered with setpriv --reset-env, so its
environment is only what the test gives it.
"""

import json
import os
import pty
import re
import shutil
import signal
import subprocess
import threading
import time

from harness.paths import PYTHON
from harness import e2e

SETPRIV = "/usr/bin/setpriv"
BASH = "/bin/bash"
SH = "/bin/sh"
EXIT_MARK = "hostile-exit="
PROMPT = "hostile$ "
USER_PATH = "PATH=/usr/bin:/bin"


def as_user(user, argv, umask=None, nofile=None, nofile_hard=True, data_kib=None, env=()):
    """argv run as USER (all uids and gids, its groups) with an empty environment but for
    PATH and env (NAME=VALUE strings), after `umask`, `ulimit -n` (with nofile_hard
    false, `ulimit -Sn`: the soft limit only) and `ulimit -d` in its shell."""
    setup = []
    if data_kib is not None:
        setup.append("ulimit -d %d" % data_kib)
    if umask is not None:
        setup.append("umask %03o" % umask)
    if nofile is not None:
        setup.append("ulimit -%sn %d" % ("" if nofile_hard else "S", nofile))
    script = "; ".join(setup + ['exec "$@"'])
    return [SETPRIV, "--reuid=%d" % user.uid, "--regid=%d" % user.gid, "--init-groups",
            "--reset-env", "/usr/bin/env", "-i", USER_PATH, "LANG=C", "TERM=dumb"] + \
        list(env) + [SH, "-c", script, "sh"] + list(argv)


class Terminal(e2e.PtySession):
    """The user's terminal: a pseudo-terminal whose session leader is the user's shell.
    With command, sh runs it and prints EXIT_MARK + its status; without, an interactive
    bash (no rc files, job control on) waits at PROMPT for run()."""

    def __init__(self, user, command, wrap=lambda argv: argv, umask=None, nofile=None,
                 nofile_hard=True, data_kib=None, env=()):
        if command is None:
            shell = [BASH, "--norc", "--noprofile", "-i"]
            env = list(env) + ["PS1=" + PROMPT]
        else:
            shell = [SH, "-c", '"$@"; echo "%s$?"' % EXIT_MARK, "sh"] + list(command)
        argv = wrap(as_user(user, shell, umask, nofile, nofile_hard, data_kib, env))
        argv[0] = shutil.which(argv[0]) or argv[0]
        self.pid, self.fd = pty.fork()
        if self.pid == 0:
            try:
                # Only the terminal: a descriptor inherited from the test's own caller
                # would count against the user's RLIMIT_NOFILE.
                os.closerange(3, os.sysconf("SC_OPEN_MAX"))
                os.execve(argv[0], argv, {"PATH": "/usr/sbin:/usr/bin:/sbin:/bin",
                                          "LANG": "C", "TERM": "dumb"})
            finally:
                os._exit(127)
        e2e.on_cleanup(self.close)
        self.output = ""
        self.interactive = command is None
        if self.interactive and not self.expect(re.escape(PROMPT), timeout=30):
            raise e2e.Prerequisite("bash did not show its prompt:\n" + self.output)

    def run(self, line):
        """Types a command line at bash's prompt (exit_status() asks for its status once
        bash is back, so that a job stopped and resumed with fg reports its own)."""
        self.send(line)

    def type(self, data):
        os.write(self.fd, data)

    def ctrl_z(self):
        """The terminal's suspend character: the line discipline sends SIGTSTP to the
        terminal's foreground process group, with no permission check."""
        self.type(b"\x1a")

    def hang_up(self):
        """Closes the terminal (its master side): the kernel sends SIGHUP to the session
        leader and the foreground process group, as when a window or an ssh session
        closes. Reads see end-of-file from then on."""
        os.close(self.fd)
        self.fd = os.open(os.devnull, os.O_RDONLY)

    def fg(self):
        self.send("fg")

    def exit_status(self, timeout=60):
        """The command's status from EXIT_MARK, or None when it never came."""
        mark = re.escape(EXIT_MARK) + r"(\d+)"
        if self.interactive:
            if not self.expect(re.escape(PROMPT), timeout=timeout):
                return None
            self.send('echo "%s$?"' % EXIT_MARK)
        else:  # sh prints it once, and an expect() for something else may have read it
            m = re.search(mark, self.output)
            if m:
                return int(m.group(1))
        m = self.expect(mark, timeout=timeout)
        return int(m.group(1)) if m else None


CAP_SYS_RESOURCE = 24


def bounding_set_has(capability):
    """Whether this process's capability bounding set (which a setuid-root program it
    starts gets as its permitted set) holds capability."""
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("CapBnd:"):
                return bool(int(line.split()[1], 16) >> capability & 1)
    return False


def signal_as(user, pid, sig):
    """kill(pid, sig) from a process with the user's uids and gids: 0 when the kernel let
    it through, else the errno (EPERM: the target is not the user's to signal)."""
    code = ("import os, sys\n"
            "try:\n"
            "    os.kill(int(sys.argv[1]), int(sys.argv[2]))\n"
            "except OSError as e:\n"
            "    sys.exit(e.errno)\n")
    r = subprocess.run([PYTHON, "-c", code, str(pid), str(int(sig))], user=user.uid,
                       group=user.gid, extra_groups=[], env={"PATH": "/usr/bin:/bin"})
    return r.returncode


def _status_ids(pid):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("Uid:"):
                return [int(x) for x in line.split()[1:]]
    return []


def runs_program(pid, program):
    """True when pid runs program. By the file, not the path /proc shows: a process in
    another mount namespace of a chroot (fresh-check) shows the path from the real root."""
    try:
        return os.path.samestat(os.stat("/proc/%d/exe" % pid), os.stat(program))
    except OSError:
        return False


def pids_of(real_uid, program):
    """PIDs of the processes running program (a path; symlinks resolved) whose real uid is
    real_uid."""
    found = []
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        pid = int(name)
        try:
            if runs_program(pid, program) and _status_ids(pid)[0] == real_uid:
                found.append(pid)
        except (OSError, IndexError):
            continue
    return found


def wait_for_pid(real_uid, program, timeout=20):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        pids = pids_of(real_uid, program)
        if pids:
            return pids[0]
        time.sleep(0.02)
    return None


def _stat_fields(pid):
    """/proc/PID/stat after the command name: fields[0] is the state, [1] the parent."""
    with open("/proc/%d/stat" % pid) as f:
        return f.read().rsplit(")", 1)[1].split()


def children_running(parent, program):
    """PIDs of parent's children that run program (a path)."""
    found = []
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        try:
            if int(_stat_fields(int(name))[1]) == parent and runs_program(int(name), program):
                found.append(int(name))
        except (OSError, IndexError):
            continue
    return found


SCHED_NAMES = {0: "SCHED_OTHER", 3: "SCHED_BATCH", 5: "SCHED_IDLE"}


def scheduling(pid):
    """(policy name, nice, I/O class line of ionice -p) of a process."""
    fields = _stat_fields(pid)
    policy = int(fields[38])
    io = subprocess.run(["/usr/bin/ionice", "-p", str(pid)], stdout=subprocess.PIPE,
                        stderr=subprocess.STDOUT, text=True).stdout.strip()
    return SCHED_NAMES.get(policy, str(policy)), int(fields[16]), io


def process_state(pid):
    """The state letter of /proc/PID/stat (T: stopped), or None when it is gone."""
    try:
        return _stat_fields(pid)[0]
    except (OSError, IndexError):
        return None


def describe_process(pid):
    """"PID exe (real/effective uid r/e, session S)" for diagnostics."""
    try:
        exe = os.readlink("/proc/%d/exe" % pid)
        uids = _status_ids(pid)
        fields = _stat_fields(pid)
        return "%d %s (uid %d/%d, session %s)" % (pid, exe, uids[0], uids[1], fields[3])
    except (OSError, IndexError):
        return "%d (gone)" % pid


def _socket_owners():
    """socket inode -> PID, from every process's fds."""
    owners = {}
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        fd_dir = "/proc/%s/fd" % name
        try:
            for fd in os.listdir(fd_dir):
                target = os.readlink(os.path.join(fd_dir, fd))
                if target.startswith("socket:["):
                    owners[int(target[8:-1])] = int(name)
        except OSError:
            continue
    return owners


def connections_to(port):
    """PIDs holding an established TCP connection to 127.0.0.1:port (the client side)."""
    inodes = []
    with open("/proc/net/tcp") as f:
        next(f)
        for line in f:
            fields = line.split()
            remote, state, inode = fields[2], fields[3], int(fields[9])
            if state == "01" and remote == "0100007F:%04X" % port and inode:
                inodes.append(inode)
    if not inodes:
        return []
    owners = _socket_owners()
    return sorted({owners[i] for i in inodes if i in owners})


def inodes_under(directory):
    """Inode numbers of the files in directory (the stores and their lock files)."""
    return sorted(os.stat(os.path.join(directory, n)).st_ino for n in os.listdir(directory))


# The attacker of audit #4, run as the user: polls the world-readable /proc/locks for locks
# on the store inodes. Each (holder, mode) seen is one JSON line {"pid", "mode",
# "may_signal" (kill(pid, 0) succeeded), "stopped", "held", "lock"}. A WRITE holder it may
# signal gets SIGSTOP; if it still holds the lock once stopped ("held"), SIGCONT comes
# `hold` seconds later, else at once (it had unlocked in between) and it may be caught
# again.
_LOCKSTOP = r"""
import json, os, signal, sys, time
inodes, hold, until = set(json.loads(sys.argv[1])), float(sys.argv[2]), float(sys.argv[3])
seen, stopped = set(), []

def locks():
    with open("/proc/locks") as f:
        for line in f.read().splitlines():
            fields = [x for x in line.split() if x != "->"]
            if len(fields) >= 6 and int(fields[5].rsplit(":", 1)[1]) in inodes:
                yield int(fields[4]), fields[3], line

def state(pid):
    try:
        with open("/proc/%d/stat" % pid) as f:
            return f.read().rsplit(")", 1)[1].split()[0]
    except OSError:
        return None

while time.monotonic() < until:
    for pid, mode, line in list(locks()):
        if (pid, mode) in seen or pid == os.getpid():
            continue
        seen.add((pid, mode))
        try:
            os.kill(pid, 0)
            may = True
        except OSError:
            may = False
        stop, held = may and mode == "WRITE", False
        if stop:
            os.kill(pid, signal.SIGSTOP)
            while state(pid) not in ("T", None):
                pass
            held = any(p == pid and m == mode for p, m, _ in locks())
            if held:
                stopped.append((pid, time.monotonic() + hold))
            else:
                os.kill(pid, signal.SIGCONT)
                seen.discard((pid, mode))
        print(json.dumps({"pid": pid, "mode": mode, "may_signal": may, "stopped": stop,
                          "held": held, "lock": line}), flush=True)
    for pid, at in [s for s in stopped if s[1] <= time.monotonic()]:
        stopped.remove((pid, at))
        try:
            os.kill(pid, signal.SIGCONT)
        except OSError:
            pass
for pid, _ in stopped:
    try:
        os.kill(pid, signal.SIGCONT)
    except OSError:
        pass
"""


def decisive(event):
    """A LockStopper event that settles the question: a write lock holder the user may
    not signal, or one it stopped while it held the lock."""
    return event.get("mode") == "WRITE" and (not event.get("may_signal") or event.get("held"))


class LockStopper:
    """The audit #4 attacker as a process of the user's, for `seconds`: it reports every
    process seen holding (or waiting for) a lock on one of inodes, and keeps each WRITE
    holder it may signal stopped with its lock for `hold` seconds. events: what it saw,
    as dicts, in order."""

    def __init__(self, user, inodes, hold, seconds):
        until = time.monotonic() + seconds  # CLOCK_MONOTONIC is system-wide
        self.proc = subprocess.Popen(
            [PYTHON, "-c", _LOCKSTOP, json.dumps(list(inodes)), str(hold), str(until)],
            user=user.uid, group=user.gid, extra_groups=[], env={"PATH": "/usr/bin:/bin"},
            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, text=True)
        e2e.on_cleanup(self.stop)
        self.events = []
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self):
        for line in self.proc.stdout:
            try:
                self.events.append(json.loads(line))
            except ValueError:
                self.events.append({"raw": line})

    def wait_write_holder(self, timeout):
        """The first WRITE holder seen that the attacker either may not signal or holds
        stopped with the lock, waiting up to timeout; None if there was none."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and self.proc.poll() is None:
            for ev in list(self.events):
                if decisive(ev):
                    return ev
            time.sleep(0.01)
        return None

    def stop(self):
        """Ends the attacker and continues whatever it left stopped."""
        if self.proc.poll() is None:
            self.proc.terminate()
        self.proc.wait()
        self._reader.join(5)
        for ev in self.events:
            if ev.get("held"):
                try:
                    os.kill(ev["pid"], signal.SIGCONT)
                except ProcessLookupError:
                    pass
