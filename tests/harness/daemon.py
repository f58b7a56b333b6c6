# SPDX-License-Identifier: GPL-3.0-or-later
"""twofad for the tests: started on a private socket (its own 0755 directory under /tmp, so
any uid can reach it) with a given twofa.conf, stopped by PID (also at exit); its log lines
(stderr: with --foreground twofad writes each syslog line there too); raw connections as any
uid; and systemd-socket-activate for the LISTEN_FDS path.

    d = Twofad(env.config_path)           # harness.pam's Env makes a config and stores
    d.start()                             # --foreground --socket DIR/run/twofad.sock
    d.wait_log("serving on")
    d.stop()                              # SIGTERM, then the exit status

For a caller that is not root: World() copies the driver and the module into a
world-readable directory with a confdir of its own (the tree and Env's dir may be 0700),
and as_user(uid, gid) is the run_pam wrapper that drops to that uid:

    w = World()
    w.service("unlock", ["auth required %s daemon=yes socket=%s" % (w.module, d.socket)])
    run_pam(w, "unlock", "someone", ["auth"], wrapper=as_user(uid, gid), driver=w.driver)
"""

import atexit
import json
import os
import re
import shutil
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import time

from harness import sanitizer
from harness.paths import BUILDDIR, PYTHON
from harness.pam import DRIVER, module_path

TWOFAD = os.path.join(BUILDDIR, "server", "twofad")
CONNECT_PROBE = os.path.join(BUILDDIR, "tests", "daemon", "connect_probe")
SOCKET_ACTIVATE = shutil.which("systemd-socket-activate") or "/usr/bin/systemd-socket-activate"


class Twofad:
    """One twofad process. activate=True runs it under systemd-socket-activate (which makes
    the socket and execs twofad in its place at the first connection: same PID)."""

    def __init__(self, config_path, args=(), activate=False):
        self.dir = tempfile.mkdtemp(prefix="twofad-", dir="/tmp")
        os.chmod(self.dir, 0o755)
        self.socket = os.path.join(self.dir, "run", "twofad.sock")
        self.config_path = config_path
        self.args = list(args)
        self.activate = activate
        self.log_path = os.path.join(self.dir, "twofad.log")
        self.proc = None
        atexit.register(self.cleanup)

    @property
    def pid(self):
        return self.proc.pid if self.proc else None

    def argv(self):
        if self.activate:
            os.makedirs(os.path.dirname(self.socket), 0o755, exist_ok=True)
            # --foreground only so its lines go to stderr too; the socket is systemd's.
            return [SOCKET_ACTIVATE, "-l", self.socket] + sanitizer.command(
                [TWOFAD, "--foreground", "--config", self.config_path] + self.args)
        # Under the variant's checker (harness.sanitizer): its reports fail the test.
        return sanitizer.command([TWOFAD, "--foreground", "--socket", self.socket,
                                  "--config", self.config_path] + self.args)

    def start(self, wait=True, env=None):
        """Starts it; with wait, until it serves (its "serving on" line), else raises."""
        self.log = open(self.log_path, "ab")
        self.proc = subprocess.Popen(self.argv(), stdin=subprocess.DEVNULL,
                                     stdout=self.log, stderr=self.log, env=env)
        if wait:
            if self.activate:
                self._wait_socket()
                socket_poke(self.socket)  # systemd-socket-activate execs at the first connection
            if not self.wait_log("serving on", timeout=15):
                raise RuntimeError("twofad did not start:\n" + self.text())
        return self

    def _wait_socket(self, timeout=10):
        end = time.time() + timeout
        while time.time() < end and not os.path.exists(self.socket):
            time.sleep(0.02)

    def text(self):
        try:
            with open(self.log_path, "rb") as f:
                return f.read().decode("utf-8", "replace")
        except FileNotFoundError:
            return ""

    def lines(self):
        return self.text().splitlines()

    def wait_log(self, pattern, timeout=10, start=0):
        """The first log line from line number start on that matches pattern (a regex), or
        None when none came within timeout seconds (or twofad exited)."""
        rx = re.compile(pattern)
        end = time.time() + timeout
        while True:
            for line in self.lines()[start:]:
                if rx.search(line):
                    return line
            if time.time() >= end or (self.proc and self.proc.poll() is not None and
                                      not any(rx.search(l) for l in self.lines()[start:])):
                return None
            time.sleep(0.05)

    def sanitizer_lines(self):
        """What ASan, LSan or UBSan said in its log (an asan build): [] when nothing."""
        return [l for l in self.lines()
                if "Sanitizer" in l or "runtime error:" in l or l.startswith("==")]

    def send_signal(self, sig):
        os.kill(self.proc.pid, sig)

    def stop(self, sig=signal.SIGTERM, timeout=15):
        """Sends sig and waits: the exit status (None if it had to be killed)."""
        if self.proc is None or self.proc.poll() is not None:
            return self.proc.returncode if self.proc else None
        os.kill(self.proc.pid, sig)
        try:
            return self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
            return None

    def cleanup(self):
        self.stop()
        if getattr(self, "log", None):
            self.log.close()
        if os.environ.get("TWOFA_KEEP_DAEMON_DIR"):
            sys.stderr.write("twofad dir kept: %s\n" % self.dir)
        else:
            shutil.rmtree(self.dir, ignore_errors=True)


def socket_poke(path, timeout=5):
    """Connects and closes at once (wakes systemd-socket-activate)."""
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.settimeout(timeout)
    try:
        s.connect(path)
    finally:
        s.close()


# A holder of idle connections as another uid: connects COUNT times, says how many stayed
# open after a moment, then keeps them until its stdin closes.
_HOLDER = r"""
import os, select, socket, sys, time
path, count = sys.argv[1], int(sys.argv[2])
socks = []
for _ in range(count):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.connect(path)
    socks.append(s)
time.sleep(float(sys.argv[3]))
open_now = 0
for s in socks:
    r, _, _ = select.select([s], [], [], 0)
    if not r:
        open_now += 1
    elif s.recv(1, socket.MSG_PEEK) != b"":
        open_now += 1
print(open_now, flush=True)
sys.stdin.read()
"""


class Holder:
    """COUNT idle connections to path held by a process running as uid (and gid); .open is
    how many twofad kept open after settle seconds. close() ends them."""

    def __init__(self, path, count, uid, settle=2.0):
        self.proc = subprocess.Popen([PYTHON, "-c", _HOLDER, path, str(count), str(settle)],
                                     stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
                                     user=uid, group=uid, extra_groups=[])
        line = self.proc.stdout.readline()
        self.open = int(line) if line.strip().isdigit() else None

    def close(self):
        if self.proc.poll() is None:
            self.proc.stdin.close()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


def closed_within(sock, seconds):
    """True when the peer closed sock (EOF or reset) within seconds."""
    sock.settimeout(seconds)
    try:
        return sock.recv(1) == b""
    except socket.timeout:
        return False
    except ConnectionResetError:
        return True


def connect(path, timeout=5):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.settimeout(timeout)
    s.connect(path)
    return s


def probe(path, timeout_ms=1000):
    """Runs the module's twofa_daemon_connect: (exit status, its line)."""
    r = subprocess.run([CONNECT_PROBE, path, str(timeout_ms)], stdout=subprocess.PIPE,
                       stderr=subprocess.STDOUT, text=True, timeout=30)
    return r.returncode, r.stdout.strip()


def frame(obj):
    data = json.dumps(obj).encode()
    return struct.pack(">I", len(data)) + data


def read_frame(sock, timeout=10):
    """One frame's JSON from sock, or None when it closed or timeout passed first."""
    sock.settimeout(timeout)
    buf = b""
    try:
        while len(buf) < 4:
            chunk = sock.recv(4 - len(buf))
            if not chunk:
                return None
            buf += chunk
        n = struct.unpack(">I", buf)[0]
        body = b""
        while len(body) < n:
            chunk = sock.recv(n - len(body))
            if not chunk:
                return None
            body += chunk
    except (socket.timeout, ConnectionResetError):
        return None
    return json.loads(body)


def served(sock, timeout=10):
    """True when a server thread answers on sock: a hello of a protocol version nobody
    speaks gets the server's closing frame (and a log line saying the versions differ)."""
    try:
        sock.sendall(frame({"v": 999999, "t": "hello"}))
    except OSError:
        return False
    reply = read_frame(sock, timeout)
    return reply is not None and reply.get("t") == "done"


def as_user(uid, gid):
    """A run_pam wrapper running the driver with all uids and gids set to uid and gid."""
    return ["setpriv", "--reuid=%d" % uid, "--regid=%d" % gid, "--clear-groups"]


class World:
    """The driver and pam_twofa.so copied into a world-readable directory under /tmp, and a
    confdir there (service files 0644): what a driver run as another uid must read. Has the
    .confdir run_pam needs, so it stands in for an Env there. Removed at exit."""

    def __init__(self):
        self.dir = tempfile.mkdtemp(prefix="twofa-world-", dir="/tmp")
        os.chmod(self.dir, 0o755)
        self.driver = os.path.join(self.dir, "pam_driver")
        self.module = os.path.join(self.dir, "pam_twofa.so")
        for src, dst in ((DRIVER, self.driver), (module_path(), self.module)):
            shutil.copy(src, dst)
            os.chmod(dst, 0o755)
        self.confdir = os.path.join(self.dir, "pam.d")
        os.mkdir(self.confdir, 0o755)
        self.service("other", ["%s required pam_deny.so" % k
                               for k in ("auth", "account", "password", "session")])
        atexit.register(shutil.rmtree, self.dir, True)

    def service(self, name, lines):
        path = os.path.join(self.confdir, name)
        with open(path, "w") as f:
            f.write("".join(l + "\n" for l in lines))
        os.chmod(path, 0o644)
        return name
