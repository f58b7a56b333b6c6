#!/usr/bin/python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""Warm connections (issue 12, item 6): with lib/http_share's pool (twofad), N handles made
one after the other, as N logins make them, open one TCP connection and one TLS handshake
to the Twilio simulator, not N; without it (twofa-server, the CLI) each opens its own.
Counted on the simulator's side (distinct connections behind the API requests, TLS
handshakes) and by libcurl. TAP output."""

import os
import subprocess
import sys

from harness.paths import BUILDDIR
from harness.sim import Sim
from harness.tap import Tap

HTTP_WARM = os.path.join(BUILDDIR, "tests", "daemon", "http_warm")
N = 5

t = Tap()
if not t.ok(os.path.exists(HTTP_WARM), "http_warm is built", HTTP_WARM):
    sys.exit(t.done())
sim = Sim()
url = sim.url.rstrip("/") + sim.svc_path()


def run(mode):
    """-> (libcurl's count, connections seen by the simulator, its TLS handshakes)."""
    sim.reset()
    r = subprocess.run([HTTP_WARM, url, sim.ca, str(N), mode], stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE, text=True, timeout=120)
    t.ok(r.returncode == 0 and "statuses=OK" in r.stdout, "%s: %d requests answered" % (mode, N),
         r.stdout + r.stderr)
    reqs = [q for q in sim.requests() if not q["path"].startswith("/_sim/")]
    t.eq(len(reqs), N, "%s: the simulator saw %d API requests" % (mode, N))
    curl = int(r.stdout.split("connections=")[1].split()[0]) if "connections=" in r.stdout else -1
    # The requests and stats calls are two more connections, each with its handshake.
    stats = sim.stats()
    return curl, len({q["connection_id"] for q in reqs}), stats["tls_handshakes"] - 2


curl, conns, tls = run("own")
t.eq((curl, conns, tls), (N, N, N),
     "without the pool: %d handles, %d connections and %d TLS handshakes" % (N, N, N))
curl, conns, tls = run("share")
t.eq((curl, conns, tls), (1, 1, 1),
     "with the pool: %d handles one after the other share 1 connection and 1 handshake" % N)
sys.exit(t.done())
