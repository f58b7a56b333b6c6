# SPDX-License-Identifier: GPL-3.0-or-later
"""A private NSS world for the tests: tests/pam/nss_twofatest.c (libnss_twofatest.so.2, an
alias-accepting passwd module) made visible to every process of one private mount namespace,
including twofa-server, which the module starts with an empty environment (so neither
LD_LIBRARY_PATH nor a setting in the environment can reach it).

    world = NssWorld(os.path.join(env.dir, "nss"), users=["alice", "dora"])
    run_pam(env, svc, "ALICE", ["auth"], wrapper=world.wrapper())         # or mode="unavail"

In the namespace three bind mounts cover the real files, which are never changed:
/etc/nsswitch.conf ("passwd: files twofatest", the rest as the system has it),
/etc/ld.so.cache (built by ldconfig from the world's lib/ plus the system's directories, so
glibc's dlopen of libnss_twofatest.so.2 finds it without LD_LIBRARY_PATH) and the module's
settings file lib/libnss_twofatest.conf (the mode's copy: aliases or unavail).
"""

import os
import re
import subprocess

from harness.paths import BUILDDIR

NSS_SO = os.path.join(BUILDDIR, "tests", "pam", ".libs", "libnss_twofatest.so")
SONAME = "libnss_twofatest.so.2"
MODES = ("aliases", "unavail")

# $1 nsswitch.conf, $2 ld.so.cache, $3 the mode's settings, $4 where the module reads them.
_MOUNTS = ('mount --bind "$1" /etc/nsswitch.conf && mount --bind "$2" /etc/ld.so.cache && '
           'mount --bind "$3" "$4" && shift 4 && exec "$@"')


def built():
    return os.path.exists(NSS_SO)


class NssWorld:
    """The files of one NSS world under directory (created, 0755, so the root server and
    the module read them); users: the lower-case accounts the module knows."""

    def __init__(self, directory, users, passwd_only=False):
        self.dir = directory
        self.lib = os.path.join(directory, "lib")
        os.makedirs(self.lib, 0o755)
        os.symlink(os.path.abspath(NSS_SO), os.path.join(self.lib, SONAME))
        self.settings = os.path.join(self.lib, "libnss_twofatest.conf")
        for mode in MODES:
            self._write(mode + ".conf", "users=%s\nmode=%s\n" % (",".join(users), mode))
        self._write(self.settings, "mode=unavail\n")  # the mount target; always covered
        if passwd_only:
            lines = ["group: files"]
        else:
            with open("/etc/nsswitch.conf") as f:
                lines = [l for l in f.read().splitlines() if not re.match(r"\s*passwd\s*:", l)]
        self.nsswitch = self._write("nsswitch.conf", "\n".join(["passwd: files twofatest"] + lines) + "\n")
        self.cache = os.path.join(directory, "ld.so.cache")
        conf = self._write("ld.so.conf", "%s\ninclude /etc/ld.so.conf\n" % self.lib)
        # ldconfig also rewrites its aux cache (/var/cache/ldconfig) even with -i: give it a
        # private tmpfs there. -X: no links made in any directory it scans.
        subprocess.run(["unshare", "--mount", "--propagation", "private", "sh", "-c",
                        'mount -t tmpfs tmpfs /var/cache/ldconfig && exec ldconfig -i -X -C "$0" -f "$1"',
                        self.cache, conf], check=True)

    def _write(self, name, text):
        path = os.path.join(self.dir, name)
        with open(path, "w") as f:
            f.write(text)
        os.chmod(path, 0o644)
        return path

    def resolves(self):
        """Where the world's ld.so.cache finds libnss_twofatest.so.2, or None."""
        out = subprocess.run(["ldconfig", "-p", "-C", self.cache], capture_output=True, text=True).stdout
        m = re.search(r"^\s*%s \(.*\) => (\S+)$" % re.escape(SONAME), out, re.M)
        return m.group(1) if m else None

    def wrapper(self, mode="aliases"):
        """argv prefix: the command runs in a fresh private mount namespace of this world;
        mode "unavail" fails every lookup of the module."""
        return ["unshare", "--mount", "--propagation", "private", "sh", "-c", _MOUNTS, "sh",
                self.nsswitch, self.cache, os.path.join(self.dir, mode + ".conf"), self.settings]
