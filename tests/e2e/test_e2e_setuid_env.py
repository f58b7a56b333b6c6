#!/usr/bin/python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""End to end, audit #1: the real setuid chfn and su, run by a throwaway enrolled user
with umask 0 and SSLKEYLOGFILE pointing into a root-owned directory, over the stack that
the real pam-auth-update generates from etc/pam-configs/twofa. The user types only their
own Unix password and wrong codes. No file may appear.

The stack is set up as in test_e2e_pam_auth_update.py (harness.pam_auth_update). chfn and su have fixed service
names, so they read /etc/pam.d/chfn and /etc/pam.d/su. Each run happens in a private mount
namespace, where a copy of /etc/pam.d is bind-mounted over the real one. That copy holds
the system's own chfn and su files and the generated common-auth and common-account. The
real files are never edited.

The negative control proves that the harness can see the hole. tests/e2e/plant_getenv.c
is a test-only module that does what libcurl 7.88 did (fopen(getenv("SSLKEYLOGFILE"),
"a")). Put in pam_twofa's place in common-auth, it makes the file appear, root-owned and
0666. Each run also checks that pam_twofa really ran (a code was sent and asked for),
so a missing file is not the result of a module that never loaded libcurl.
"""

import os
import stat
import sys

from harness.sim import Sim
from harness.pam import Env
from harness import e2e
from harness import pam_auth_update
from harness.pam_auth_update import CMD_ENV, PAM_AUTH_UPDATE, Namespace, install_profile

CHFN, SU, SETPRIV = "/usr/bin/chfn", "/bin/su", "/usr/bin/setpriv"
PROGRAMS = pam_auth_update.PROGRAMS + [CHFN, SU, SETPRIV]
UNIX_PASSWORD = "unix-pw-8Rt"
MAX_TRIES = 2
PLANT = os.path.join(e2e.BUILDDIR, "tests", "e2e", ".libs", "plant_getenv.so")


def enable_profile(tap, ns, env, module):
    """pam-auth-update --enable twofa in the namespace, with the profile's module path
    changed to the built module + config=."""
    install_profile(ns, env, module)
    r = ns.run([PAM_AUTH_UPDATE, "--enable", "twofa"])
    tap.ok(r.returncode == 0, "pam-auth-update --enable twofa in the namespace",
           "exit %d\n%s%s" % (r.returncode, r.stdout, r.stderr))
    path = os.path.join(ns.copy_of("/etc/pam.d"), "common-auth")
    with open(path) as f:
        text = f.read()
    tap.ok(text.count(module) == 1, "the generated common-auth has one pam_twofa line", text)
    return path, text


def as_user(user, keylog, command):
    """argv: in the namespace, the user's own shell with umask 0 and SSLKEYLOGFILE set,
    running the setuid COMMAND (a list)."""
    script = 'umask 000; "$@"; echo "setuid-exit=$?"'
    return [SETPRIV, "--reuid=%d" % user.uid, "--regid=%d" % user.gid, "--init-groups",
            "--reset-env", "/usr/bin/env", "-i", "PATH=/usr/bin:/bin", "SSLKEYLOGFILE=" + keylog,
            "/bin/sh", "-c", script, "sh"] + command


def run_setuid(sim, ns, user, keylog, command):
    """Types the Unix password, then a wrong code at each code prompt. Returns (exit of
    COMMAND or None, code prompts, sends, terminal output)."""
    before = e2e.sends(sim)
    s = e2e.PtySession(ns.argv(as_user(user, keylog, command)), CMD_ENV)
    prompts, status = 0, None
    if s.expect(r"[Pp]assword: ?$"):
        s.send(UNIX_PASSWORD)
        while True:
            m = s.expect(r"(?i)(code[^\n]*: ?$)|setuid-exit=(\d+)")
            if not m:
                break
            if m.group(2) is not None:
                status = int(m.group(2))
                break
            prompts += 1
            sent = sim.codes(e2e.PHONE)
            right = sent[-1] if sent else "000000"
            s.send(right[:-1] + str((int(right[-1]) + 1) % 10))
    s.wait()
    return status, prompts, e2e.sends(sim) - before, s.output


def describe(path):
    if not os.path.lexists(path):
        return "no file"
    st = os.lstat(path)
    return "mode %o, uid %d, %d bytes" % (stat.S_IMODE(st.st_mode), st.st_uid, st.st_size)


def tests(tap, module):
    if e2e.skip_setuid_if_sanitized(tap, module, "chfn and su"):
        return
    if not os.path.exists(PLANT):
        raise e2e.Prerequisite("%s is not built (make check builds it)" % PLANT)
    sim = Sim()
    env = Env(sim, config={"max_tries": str(MAX_TRIES)}, prefix="twofa-e2e-")
    member = e2e.ThrowawayUser(UNIX_PASSWORD)
    env.add_member(member.name, "store-pw-unused", e2e.PHONE)
    work = e2e.workdir()
    keylogs = os.path.join(work, "keylogs")
    os.mkdir(keylogs, 0o755)  # root's: the user cannot create files here
    ns = Namespace(work)
    common_auth, generated = enable_profile(tap, ns, env, module)

    programs = [("chfn", [CHFN, "-r", "42"]), ("su", [SU, member.name, "-c", "true"])]
    for name, command in programs:
        e2e.fresh_case(sim, env)
        keylog = os.path.join(keylogs, name + "-proof")
        status, prompts, sends, out = run_setuid(sim, ns, member, keylog, command)
        tap.ok(status not in (None, 0) and prompts == MAX_TRIES and sends == 1,
               "%s as %s, umask 0, wrong codes: pam_twofa ran (code sent, %d prompts) and "
               "%s refused" % (name, member.name, prompts, name), out)
        tap.ok(not os.path.lexists(keylog), "%s: SSLKEYLOGFILE in a root-owned directory: "
               "no file appears" % name, describe(keylog))

    # Negative control: the planted getenv in pam_twofa's place.
    planted = "\n".join(("auth optional %s" % PLANT) if module in line and
                        line.split()[:1] == ["auth"] else line
                        for line in generated.splitlines()) + "\n"
    with open(common_auth, "w") as f:
        f.write(planted)
    for name, command in programs:
        e2e.fresh_case(sim, env)
        keylog = os.path.join(keylogs, name + "-planted")
        status, prompts, sends, out = run_setuid(sim, ns, member, keylog, command)
        made = os.path.isfile(keylog) and os.stat(keylog).st_uid == 0 and \
            stat.S_IMODE(os.stat(keylog).st_mode) == 0o666
        tap.ok(made, "negative control, %s: a planted fopen(getenv(SSLKEYLOGFILE)) in the "
               "same stack position creates a root-owned 0666 file, and this test sees it"
               % name, "%s\n%s" % (describe(keylog), out))
    with open(common_auth, "w") as f:
        f.write(generated)


if __name__ == "__main__":
    sys.exit(e2e.run(tests, PROGRAMS))
