# SPDX-License-Identifier: GPL-3.0-or-later
"""tests/unit/member_store_tool on one config of its own: store = ldap on a harness.slapd
instance, or gdbm when there is none. Used by the tests of the member store's writes
(tests/ldap/test_login_writes.py, tests/ldap/test_enrol_writes.py)."""

import os
import subprocess

BUILDDIR = os.environ.get("TWOFA_BUILDDIR") or os.getcwd()
TOOL = os.path.join(BUILDDIR, "tests", "unit", "member_store_tool")


class Store:
    """member_store_tool on one config (store = ldap on s, or gdbm when s is None)."""

    def __init__(self, directory, name, s=None, uri=None, write_uri=None):
        run_dir = os.path.join(directory, "run-" + name)
        os.makedirs(run_dir, mode=0o700, exist_ok=True)
        lines = ["state_db = %s" % os.path.join(run_dir, "state.db")]
        if s is None:
            lines += ["store = gdbm", "members_db = %s" % os.path.join(directory, "members.db")]
        else:
            with open(s.login_pw_file) as f:
                login_pw = f.read()
            with open(s.admin_pw_file) as f:
                admin_pw = f.read()
            lines += ["store = ldap", "ldap_uri = %s" % (uri or s.uri), "ldap_base = %s" % s.people,
                      "ldap_tls = none", "ldap_bind_dn = %s" % s.login_dn, "ldap_bind_password = %s" % login_pw,
                      "ldap_admin_bind_dn = %s" % s.admin_dn, "ldap_admin_bind_password = %s" % admin_pw,
                      "ldap_timeout = 5", "ldap_run_dir = %s" % run_dir, "ldap_cache_max_age = 0"]
            if write_uri:
                lines.append("ldap_write_uri = %s" % write_uri)
        self.path = os.path.join(directory, name + ".conf")
        fd = os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as f:
            f.write("\n".join(lines) + "\n")

    def popen(self, role, *args):
        return subprocess.Popen([TOOL, self.path, role] + list(args), stdin=subprocess.PIPE,
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                                env=dict(os.environ, LDAPNOINIT="1"))

    def one(self, role, *args):
        p = self.popen(role, *args)
        out, err = p.communicate(timeout=60)
        lines = out.splitlines()
        return lines[-1] if lines else "(nothing) " + err

    def at_once(self, role, *commands):
        """Runs each command (a tuple of arguments; a command that connects, prints
        "ready" and waits for a line) in its own process, then lets them all go at
        once: the last line of each."""
        procs = [self.popen(role, *c) for c in commands]
        ready = [p.stdout.readline().strip() for p in procs]
        for p in procs:
            p.stdin.write("go\n")
            p.stdin.flush()
        results = [p.communicate(timeout=60)[0].strip().splitlines()[-1:] for p in procs]
        return ready, [r[0] if r else "(nothing)" for r in results]
