#!/usr/bin/python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""The module's side of twofad's socket (pam_twofa/daemon_connect.c), as pam_sss checks
sssd's: it connects only to a socket file of root's, not through a symbolic link, served by
a process of uid 0; it tells "no socket there" (daemon=auto: per call for a root caller)
from "there but not answering" (a LOG_WARNING and per call for root, fail closed for
others), and never waits past its deadline. TAP output."""

import os
import socket
import subprocess
import sys
import tempfile
import time

from harness.daemon import CONNECT_PROBE, probe
from harness.paths import PYTHON
from harness.tap import Tap

NOBODY = 65534
t = Tap()
if not t.ok(os.path.exists(CONNECT_PROBE), "connect_probe is built", CONNECT_PROBE):
    sys.exit(t.done())

d = tempfile.mkdtemp(prefix="twofa-connect-", dir="/tmp")
os.chmod(d, 0o755)


def listener(name, backlog=16):
    path = os.path.join(d, name)
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.bind(path)
    s.listen(backlog)
    return path, s


try:
    code, line = probe(os.path.join(d, "nothing.sock"))
    t.eq((code, line.split(":")[0]), (2, "absent"), "no file at the path: absent")
    code, line = probe(os.path.join(d, "no-such-dir", "twofad.sock"))
    t.eq((code, line.split(":")[0]), (2, "absent"), "no directory either: absent")

    good, good_sock = listener("good.sock")
    code, line = probe(good)
    t.eq((code, line), (0, "connected"), "a socket of root's served by root: connected")

    plain = os.path.join(d, "plain")
    open(plain, "w").close()
    code, line = probe(plain)
    t.ok(code == 1 and "not a socket" in line, "a regular file: unavailable, not a socket", line)

    link = os.path.join(d, "link.sock")
    os.symlink(good, link)
    code, line = probe(link)
    t.ok(code == 1 and "symbolic link" in line,
         "a symbolic link to root's live socket: refused, the link is not followed", line)

    owned, owned_sock = listener("owned.sock")
    os.chown(owned, NOBODY, NOBODY)
    code, line = probe(owned)
    t.ok(code == 1 and "owned by uid %d" % NOBODY in line,
         "a socket file owned by another uid: refused before connecting", line)

    # A root-owned file, but the listener is uid 65534 (bound as root, listening after setuid).
    impostor = os.path.join(d, "impostor.sock")
    script = ("import os, socket, sys, time\n"
              "s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)\n"
              "s.bind(sys.argv[1]); os.setgid(%d); os.setuid(%d); s.listen(8)\n"
              "print('ready', flush=True); sys.stdin.read()\n" % (NOBODY, NOBODY))
    imp = subprocess.Popen([PYTHON, "-c", script, impostor], stdin=subprocess.PIPE,
                           stdout=subprocess.PIPE, text=True)
    t.eq(imp.stdout.readline().strip(), "ready", "a listener that dropped to uid 65534 runs")
    t.eq(os.stat(impostor).st_uid, 0, "its socket file is root's")
    code, line = probe(impostor)
    t.ok(code == 1 and "served by uid %d" % NOBODY in line,
         "a root-owned socket served by uid 65534: refused by SO_PEERCRED", line)
    imp.stdin.close()
    imp.wait(10)

    stale = os.path.join(d, "stale.sock")
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.bind(stale)
    s.close()
    code, line = probe(stale)
    t.ok(code == 1 and "does not answer" in line,
         "a socket nobody listens on (twofad died): unavailable, not absent", line)

    # Nobody accepts and the queue is full: the connect gives up at its deadline.
    busy, busy_sock = listener("busy.sock", backlog=0)
    held = []
    for _ in range(4):
        c = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        c.setblocking(False)
        try:
            c.connect(busy)
        except (BlockingIOError, OSError):
            pass
        held.append(c)
    start = time.monotonic()
    code, line = probe(busy, timeout_ms=300)
    took = time.monotonic() - start
    t.ok(code == 1 and "does not answer" in line, "a full listen queue: unavailable", line)
    t.ok(took < 5, "and the connect gave up near its 300 ms deadline (%.2f s)" % took)

    long_path = "/" + "x" * 120
    code, line = probe(long_path)
    t.ok(code == 1 and "longer" in line, "a path longer than sun_path: unavailable", line)
    code, line = probe("relative.sock")
    t.ok(code == 1 and "absolute" in line, "a relative path: unavailable", line)
finally:
    subprocess.run(["rm", "-rf", d])

sys.exit(t.done())
