#!/usr/bin/python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""twofad under socket activation (LISTEN_FDS/LISTEN_PID, Accept=no, fd 3), driven by
systemd-socket-activate as twofad.socket would: it serves on the socket it was passed, takes
LISTEN_FDS only when LISTEN_PID is its own, refuses several sockets and a socket that is not
listening, says so to syslog (authpriv, ident twofad), and at SIGTERM leaves the socket,
which is systemd's, in place. (It also drops the LISTEN_* variables, which nothing outside
can see: /proc/PID/environ shows the environment a process started with.) TAP output."""

import os
import socket
import subprocess
import sys
import tempfile
import time
import types

from harness.daemon import SOCKET_ACTIVATE, TWOFAD, Twofad, connect, served
from harness.pam import Env, SyslogCapture
from harness.tap import Tap

t = Tap()
if not t.ok(os.path.exists(TWOFAD), "twofad is built", TWOFAD):
    sys.exit(t.done())
if not t.ok(os.path.exists(SOCKET_ACTIVATE), "systemd-socket-activate is installed (scripts/deps)"):
    sys.exit(t.done())
env = Env()
env.write_config(raw="verify_service_sid = VA0123456789abcdef0123456789abcdef\n"
                     "api_key_sid = SK0123456789abcdef0123456789abcdef\napi_key_secret = s\n")

d = Twofad(env.config_path, activate=True).start()
t.ok(d.wait_log(r"serving on the socket systemd passed") is not None,
     "twofad takes the socket systemd-socket-activate passed on fd 3", d.text())
t.ok(served(connect(d.socket)), "and serves connections on it")
t.eq(d.stop(), 0, "SIGTERM stops it")
t.ok(os.path.exists(d.socket), "the socket systemd passed stays: it is systemd's to remove")
os.unlink(d.socket)


def run_activated(listen_pid, fds, socks=()):
    """twofad started as systemd would (without --foreground: its lines go to syslog only,
    captured here), with socks dup'ed to fds 3, 4, ...; listen_pid None: its own pid (a
    shell that execs it keeps its pid). -> (exit status, the syslog records)."""
    log = SyslogCapture(types.SimpleNamespace(dir=tempfile.mkdtemp(dir=env.dir)))
    pid = "$$" if listen_pid is None else str(listen_pid)
    script = 'LISTEN_PID=%s LISTEN_FDS=%d exec "$0" --config "$1"' % (pid, fds)

    def place():
        for i, sk in enumerate(socks):
            os.dup2(sk.fileno(), 3 + i)

    r = subprocess.run(log.wrap(["sh", "-c", script, TWOFAD, env.config_path]), env={},
                       preexec_fn=place, pass_fds=tuple(range(3, 3 + len(socks))),
                       stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, timeout=30)
    time.sleep(0.3)  # the last datagrams
    recs = log.lines()
    log.close()
    return r.returncode, recs, r.stdout


def said(recs, text, severity):
    return any(text in r["message"] and r["ident"] == "twofad" and r["facility"] == "authpriv"
               and r["severity"] == severity for r in recs)


code, recs, out = run_activated(1, 1)
t.ok(code == 1 and said(recs, "LISTEN_PID=1 is not this process: ignored", "warning") and
     said(recs, "not started by socket activation", "err"),
     "LISTEN_FDS for another process is ignored, and without --foreground it does not start; "
     "said to syslog (authpriv, ident twofad)", out + repr(recs))

unlistened = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
code, recs, out = run_activated(None, 1, [unlistened])
t.ok(code == 1 and said(recs, "not listening", "err"),
     "a passed socket that is not listening (Accept=yes) is refused", out + repr(recs))
one, two = (socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) for _ in range(2))
for n, sk in enumerate((one, two)):
    sk.bind("\0twofad-test-%d-%d" % (os.getpid(), n))
    sk.listen(1)
code, recs, out = run_activated(None, 2, [one, two])
t.ok(code == 1 and said(recs, "takes exactly one", "err"), "two passed sockets are refused",
     out + repr(recs))
env.cleanup()
sys.exit(t.done())
