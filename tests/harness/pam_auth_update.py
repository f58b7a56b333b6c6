# SPDX-License-Identifier: GPL-3.0-or-later
"""The real pam-auth-update (Debian package libpam-runtime) without touching the system's
PAM configuration: every command that must see the changed configuration runs in a
private mount namespace (`unshare --mount --propagation private`) where temporary copies
are bind-mounted over /etc/pam.d, /usr/share/pam-configs, /var/lib/pam (pam-auth-update's
saved state) and /var/cache/debconf (pam-auth-update is a debconf client). Each command
gets a namespace of its own with the same binds, so they all see the same copies, which
hold the state from one command to the next.

    ns = Namespace(e2e.workdir())
    install_profile(ns, env, module)    # etc/pam-configs/twofa, with the built module
    ns.run([PAM_AUTH_UPDATE, "--enable", "twofa"])
"""

import os
import shutil
import subprocess

from harness.e2e import ETC, with_built_module

PAMTESTER = "/usr/bin/pamtester"
PAM_AUTH_UPDATE = "/usr/sbin/pam-auth-update"
UNSHARE = "/usr/bin/unshare"
MOUNT = "/usr/bin/mount"
SH = "/bin/sh"
PROGRAMS = [PAMTESTER, PAM_AUTH_UPDATE, UNSHARE, MOUNT, SH]
PROFILE = os.path.join(ETC, "pam-configs", "twofa")
# Real directory -> its bind-mounted copy's name in the work dir.
BOUND = [("/etc/pam.d", "pam.d"), ("/usr/share/pam-configs", "pam-configs"),
         ("/var/lib/pam", "var-lib-pam"), ("/var/cache/debconf", "debconf")]
CMD_ENV = {"PATH": "/usr/sbin:/usr/bin:/sbin:/bin", "LANG": "C", "TERM": "dumb",
           "DEBIAN_FRONTEND": "noninteractive"}


class Namespace:
    """Copies of the BOUND directories in a work dir, and argv prefixes that run a command
    in a fresh private mount namespace with the copies bound over the real ones."""

    def __init__(self, workdir):
        self.copies = []
        for real, name in BOUND:
            copy = os.path.join(workdir, name)
            shutil.copytree(real, copy, symlinks=True)
            shutil.copystat(real, copy)
            self.copies.append((real, copy))

    def copy_of(self, real):
        return dict(self.copies)[real]

    def argv(self, cmd):
        script = ["set -e"]
        for i, (real, _) in enumerate(self.copies, 1):
            script.append('%s --bind "$%d" %s' % (MOUNT, i, real))
        script += ["shift %d" % len(self.copies), 'exec "$@"']
        return ([UNSHARE, "--mount", "--propagation", "private", SH, "-c",
                 "; ".join(script), "sh"] + [c for _, c in self.copies] + list(cmd))

    def run(self, cmd):
        return subprocess.run(self.argv(cmd), env=CMD_ENV, stdin=subprocess.DEVNULL,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                              timeout=120)


def install_profile(ns, env, module):
    """The copy of /usr/share/pam-configs gets etc/pam-configs/twofa as "twofa" with only
    the module path changed (`pam_twofa.so` -> the built module + config=ENV's
    twofa.conf)."""
    with open(os.path.join(ns.copy_of("/usr/share/pam-configs"), "twofa"), "w") as f:
        f.write(with_built_module(PROFILE, env, module))
