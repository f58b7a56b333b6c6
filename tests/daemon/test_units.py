#!/usr/bin/python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""twofad's systemd units (etc/systemd), as far as a machine without systemd as PID 1 can
check them: systemd-analyze verify finds nothing to say, systemd-analyze security
--offline=true rates the service's exposure at most 2.0 with the sandbox the issue asks
for, and make install puts both units in the configured unit directory with the configured
paths. TAP output."""

import os
import re
import shutil
import subprocess
import sys
import tempfile

from harness.daemon import TWOFAD
from harness.paths import BUILDDIR, SRCDIR
from harness.tap import Tap

MAX_EXPOSURE = 2.0
t = Tap()
analyze = shutil.which("systemd-analyze")
if not t.ok(analyze is not None, "systemd-analyze is installed (scripts/deps)"):
    sys.exit(t.done())
service = os.path.join(BUILDDIR, "etc", "systemd", "twofad.service")
if not t.ok(os.path.exists(service) and os.path.exists(TWOFAD), "the service unit and twofad are built"):
    sys.exit(t.done())

d = tempfile.mkdtemp(prefix="twofa-units-", dir="/tmp")
try:
    # verify wants the ExecStart binary to exist: the built one stands in for sbindir's.
    with open(service) as f:
        text = f.read()
    exec_start = re.search(r"^ExecStart=(\S+)", text, re.M).group(1)
    with open(os.path.join(d, "twofad.service"), "w") as f:
        f.write(text.replace("ExecStart=" + exec_start, "ExecStart=" + os.path.abspath(TWOFAD)))
    shutil.copy(os.path.join(SRCDIR, "etc", "systemd", "twofad.socket"), d)
    units = [os.path.join(d, "twofad.socket"), os.path.join(d, "twofad.service")]
    r = subprocess.run([analyze, "verify", "--man=no"] + units, stdout=subprocess.PIPE,
                       stderr=subprocess.STDOUT, text=True, timeout=120)
    t.ok(r.returncode == 0 and r.stdout.strip() == "", "systemd-analyze verify: both units clean",
         r.stdout)

    r = subprocess.run([analyze, "security", "--offline=true", units[1]], stdout=subprocess.PIPE,
                       stderr=subprocess.STDOUT, text=True, timeout=120)
    m = re.search(r"Overall exposure level for twofad.service: (\d+\.\d+) (\S+)", r.stdout)
    score = float(m.group(1)) if m else None
    print("# systemd-analyze security --offline=true: %s" % (m.group(0) if m else "no score"))
    t.ok(score is not None and score <= MAX_EXPOSURE,
         "exposure %s, at most %.1f" % (score, MAX_EXPOSURE), r.stdout[-3000:])
    passed = {l.split()[1] for l in r.stdout.splitlines() if l.startswith("✓")}
    for setting in ("ProtectSystem=", "PrivateTmp=", "NoNewPrivileges=", "MemoryDenyWriteExecute=",
                    "CapabilityBoundingSet=~CAP_SYS_ADMIN",
                    "CapabilityBoundingSet=~CAP_(DAC_*|FOWNER|IPC_OWNER)",
                    "RestrictAddressFamilies=~AF_PACKET", "RestrictAddressFamilies=~…",
                    "SystemCallFilter=~@privileged", "ProtectHome=", "PrivateDevices="):
        t.ok(setting in passed, "systemd-analyze security approves %s" % setting)
    for line in ("ReadWritePaths=", "RuntimeDirectory=twofa", "CapabilityBoundingSet=\n",
                 "RestrictAddressFamilies=AF_UNIX AF_INET AF_INET6\n"):
        t.ok(line in text, "the service says %s" % line.strip())
    with open(units[0]) as f:
        sock = f.read()
    for line in ("ListenStream=/run/twofa/twofad.sock", "Accept=no", "SocketMode=0666"):
        t.ok(line + "\n" in sock, "the socket says %s" % line)

    # make install puts them where configure said, with its paths.
    dest = os.path.join(d, "dest")
    q = subprocess.run(["make", "-s", "-C", BUILDDIR, "--no-print-directory", "-f", "Makefile",
                        "-f", "-", "print-dirs"],
                       input="print-dirs:\n\t@echo $(systemdsystemunitdir) $(sbindir) $(localstatedir)\n",
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                       env=dict(os.environ, MAKEFLAGS="", MFLAGS=""))
    unitdir, sbindir, statedir = q.stdout.split()
    r = subprocess.run(["make", "-s", "-C", BUILDDIR, "install-systemdsystemunitDATA",
                        "DESTDIR=" + dest], stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                       text=True, env=dict(os.environ, MAKEFLAGS="", MFLAGS=""))
    installed = os.path.join(dest + unitdir, "twofad.service")
    t.ok(r.returncode == 0 and os.path.exists(installed) and
         os.path.exists(os.path.join(dest + unitdir, "twofad.socket")),
         "make install puts both units in %s" % unitdir, r.stdout)
    with open(installed) as f:
        inst = f.read()
    t.ok("ExecStart=%s/twofad\n" % sbindir in inst and
         "ReadWritePaths=%s/lib/twofa\n" % statedir in inst and
         not re.search(r"@[a-z]+@", inst),
         "with the configured sbindir and state directory", inst)
finally:
    shutil.rmtree(d, ignore_errors=True)
sys.exit(t.done())
