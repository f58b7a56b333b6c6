#!/usr/bin/python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""twofad's life and its bounds, on a private socket with a private twofa.conf: the socket
0666 in a 0755 root directory, one twofad per socket, no start without socket activation or
--foreground; a connection that sends no hello is dropped at the hello deadline while others
are served meanwhile; a uid holding many idle connections gets --max-per-uid of them and
neither root nor another uid is kept out; root keeps connections no user can take; a
changed twofa.conf and SIGHUP are re-read; SIGTERM removes the socket it made. TAP output."""

import os
import signal
import stat
import subprocess
import sys
import time

from harness.daemon import TWOFAD, Holder, Twofad, closed_within, connect, probe, served
from harness.pam import Env
from harness.sim import Sim
from harness.tap import Tap

USER_A, USER_B = 64101, 64102  # uids nobody has: only their SO_PEERCRED matters

t = Tap()
if not t.ok(os.path.exists(TWOFAD), "twofad is built", TWOFAD):
    sys.exit(t.done())
sim = Sim()
env = Env(sim)

# -- start, the socket, one per socket --------------------------------------------------
d = Twofad(env.config_path).start()
st = os.lstat(d.socket)
t.ok(stat.S_ISSOCK(st.st_mode) and stat.S_IMODE(st.st_mode) == 0o666 and st.st_uid == 0,
     "the socket is root's, mode 0666: anyone may connect", oct(st.st_mode))
dst = os.stat(os.path.dirname(d.socket))
t.ok(stat.S_IMODE(dst.st_mode) == 0o755 and dst.st_uid == 0,
     "in a directory it made: root's, mode 0755", oct(dst.st_mode))
t.ok(d.wait_log(r"twofad\[\d+\]: config %s read$" % env.config_path) is not None,
     "it read its config and found it usable", d.text())
code, line = probe(d.socket)
t.eq((code, line), (0, "connected"), "the module's connect accepts it (root's socket, peer uid 0)")
s = connect(d.socket)
t.ok(served(s), "a connection is served: a hello of another protocol version gets the closing frame")
s.close()
t.ok(d.wait_log("protocol version 999999") is not None, "and the version line is logged", d.text())

again = subprocess.run([TWOFAD, "--foreground", "--socket", d.socket, "--config", env.config_path],
                       stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, timeout=30)
t.ok(again.returncode == 1 and "another twofad is listening" in again.stdout,
     "a second twofad on the same socket refuses to start", again.stdout)
t.ok(d.proc.poll() is None and served(connect(d.socket)), "and the first one still serves")
bare = subprocess.run([TWOFAD, "--config", env.config_path], stdout=subprocess.PIPE,
                      stderr=subprocess.STDOUT, text=True, timeout=30, env={})
t.ok(bare.returncode == 1, "without socket activation and without --foreground it does not start",
     bare.stdout)
usage = subprocess.run([TWOFAD, "--max-per-uid", "0"], stdout=subprocess.PIPE,
                       stderr=subprocess.STDOUT, text=True, timeout=30)
t.ok(usage.returncode == 64 and "--max-per-uid" in usage.stdout, "a bound of 0 is a usage error",
     usage.stdout)

# -- the hello deadline ------------------------------------------------------------------
idle = connect(d.socket)
start = time.monotonic()
busy = connect(d.socket)
t.ok(served(busy, timeout=3), "while a connection sits idle, the next one is accepted and served")
busy.close()
dropped = closed_within(idle, 30)
took = time.monotonic() - start
t.ok(dropped and 8.0 <= took <= 25.0,
     "a connection that sends no hello is closed at the 10 s hello deadline (%.1f s)" % took)
idle.close()

# -- per-uid bound -----------------------------------------------------------------------
mark = len(d.lines())
a = Holder(d.socket, 12, USER_A)
t.eq(a.open, 8, "uid %d opening 12 idle connections keeps 8 (--max-per-uid's default)" % USER_A)
t.ok(d.wait_log(r"connection from uid %d pid \d+ closed: the caller's uid holds its most "
                r"connections" % USER_A, start=mark) is not None,
     "the refusals are LOG_WARNING lines naming the uid", "\n".join(d.lines()[mark:]))
warned = [l for l in d.lines()[mark:] if "closed: the caller's uid" in l]
t.ok(len(warned) <= 2, "4 refusals in a second make at most 2 lines (%d)" % len(warned))
b = Holder(d.socket, 3, USER_B)
t.eq(b.open, 3, "another uid's connections are not kept out by it")
r = connect(d.socket)
t.ok(served(r, timeout=5), "nor is root's: served while uid %d holds its 8" % USER_A)
r.close()
a.close()
b.close()
a = Holder(d.socket, 8, USER_A)
t.eq(a.open, 8, "once they closed, uid %d gets its 8 again" % USER_A)
a.close()

# -- config re-read ----------------------------------------------------------------------
mark = len(d.lines())
env.write_config({"max_tries": "4"})
served(connect(d.socket))  # the next connection looks at the file
t.ok(d.wait_log(r"config %s re-read \(the file changed\)$" % env.config_path, start=mark) is not None,
     "a changed twofa.conf is re-read at the next connection", "\n".join(d.lines()[mark:]))
mark = len(d.lines())
env.write_config(raw="this is not a config line\n")
served(connect(d.socket))
t.ok(d.wait_log(r"re-read \(the file changed\), but logins cannot use it: .*fail closed", start=mark)
     is not None, "a broken one is said to fail logins closed, and twofad keeps running",
     "\n".join(d.lines()[mark:]))
t.ok(d.proc.poll() is None, "twofad still runs")
env.write_config({})
mark = len(d.lines())
d.send_signal(signal.SIGHUP)
t.ok(d.wait_log(r"config %s re-read \(SIGHUP\)$" % env.config_path, start=mark) is not None,
     "SIGHUP re-reads it", "\n".join(d.lines()[mark:]))
t.ok(served(connect(d.socket)), "and serves on")

# -- stop ----------------------------------------------------------------------------------
held = connect(d.socket)
rc = d.stop()
t.eq(rc, 0, "SIGTERM stops it with status 0")
t.ok(closed_within(held, 5), "a connection in progress is ended at the stop")
t.ok(not os.path.exists(d.socket), "the socket it made is removed")
t.ok(d.wait_log("stopped by SIGTERM") is not None, "and it says why it stopped", d.text())

# -- root keeps connections no user can take ----------------------------------------------
d2 = Twofad(env.config_path, ["--max-connections", "16", "--max-per-uid", "8"]).start()
a = Holder(d2.socket, 8, USER_A)
b = Holder(d2.socket, 8, USER_B)
t.eq((a.open, b.open), (8, 6), "16 connections: users together get 14 of them")
roots = [connect(d2.socket) for _ in range(2)]
t.ok(all(served(x, timeout=5) for x in roots), "and root the last 2")
for x in roots:
    x.close()
a.close()
b.close()
d2.stop()
for x in (d, d2):
    t.eq(x.sanitizer_lines(), [], "no sanitizer report from twofad (pid %d)" % x.pid)
env.cleanup()
sys.exit(t.done())
