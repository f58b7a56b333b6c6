# SPDX-License-Identifier: GPL-3.0-or-later
"""What the autopkgtests of debian/tests share. They test the installed packages (the
module where libpam loads it, /usr/sbin/twofa-enroll, /etc/twofa/twofa.conf, the real
/etc/pam.d), not a build: they run as root on a throwaway testbed (breaks-testbed), from
the unpacked source, whose tests/ gives them the Verify simulator (harness.sim), the
pseudo-terminal driver and the askpass program (harness.e2e).

The member store they enrol in is the real /var/lib/twofa/members.db, and it is left
there: scripts/deb-check's upgrade and purge phases check what becomes of it."""

import os
import pwd
import re
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
SRCDIR = os.path.dirname(os.path.dirname(HERE))
# Run by autopkgtest from the source tree, not by make check: the harness is in tests/.
sys.path.insert(0, os.path.join(SRCDIR, "tests"))
os.environ["TWOFA_SRCDIR"] = SRCDIR

# harness.e2e lists /etc/sudoers.d at import (to check it is unchanged at exit); a
# testbed without sudo has none.
os.makedirs("/etc/sudoers.d", mode=0o755, exist_ok=True)

from harness.sim import Sim  # noqa: E402
from harness.tap import Tap  # noqa: E402
from harness import e2e  # noqa: E402

ENROLL = "/usr/sbin/twofa-enroll"
PAMTESTER = "/usr/bin/pamtester"
CONF = "/etc/twofa/twofa.conf"
TEMPLATE = "/usr/share/twofa/twofa.conf"
EXAMPLES = "/usr/share/doc/twofa/examples"
PHONE = e2e.PHONE                      # +14155550123
PHONE_NATIONAL = "(415) 555-0123"
UNIX_PASSWORD = "unix-pw-Debian-12"
STORE_PASSWORD = "store-pw-Debian-12"  # twofa's own password (unused by password=none)
MAX_TRIES = 3
ENV = {"PATH": "/usr/sbin:/usr/bin:/sbin:/bin", "HOME": "/root", "TERM": "dumb",
       "LANG": "C.UTF-8"}


def start_sim():
    """The simulator, twofa.conf made again from the package's template plus its lines
    (credentials, URLs, CA) and a send limit the tests' logins stay within, and a new
    state.db (members.db stays)."""
    sim = Sim()
    with open(TEMPLATE) as f:
        text = f.read()
    text += "\n# debian/tests: the Verify simulator\n" + sim.fragment() + "send_limit = 50\n"
    fd = os.open(CONF + ".new", os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write(text)
    os.rename(CONF + ".new", CONF)
    # No sends counted yet: a caller that is not root gets at most 3 sends a window
    # whatever send_limit says (server/peer_policy.h), and the tests before counted theirs.
    for name in ("state.db",):
        try:
            os.unlink(os.path.join("/var/lib/twofa", name))
        except FileNotFoundError:
            pass
    return sim


def user(name):
    """A local user with UNIX_PASSWORD (made once; the testbed is thrown away)."""
    try:
        pwd.getpwnam(name)
    except KeyError:
        subprocess.run(["useradd", "--create-home", "--shell", "/bin/sh", name], check=True)
        subprocess.run(["chpasswd"], input="%s:%s\n" % (name, UNIX_PASSWORD), text=True,
                       check=True)
    return pwd.getpwnam(name)


def enrolled(name):
    return subprocess.run([ENROLL, "show", name], stdout=subprocess.DEVNULL,
                          stderr=subprocess.DEVNULL).returncode == 0


def enrol(tap, sim, name):
    """twofa-enroll add NAME on a terminal, as an admin does: the twofa password twice,
    then the code the simulator sent. TAP: the member is stored, active."""
    if enrolled(name):
        return
    s = e2e.PtySession([ENROLL, "add", name, "--phone", PHONE_NATIONAL, "--country", "US"],
                       ENV)
    steps = [(r"Password for [^\n]*: ?$", STORE_PASSWORD), (r"Repeat[^\n]*: ?$", STORE_PASSWORD),
             (r"(?i)code[^\n]*: ?$", None)]
    for pattern, answer in steps:
        if not s.expect(pattern):
            break
        s.send(answer if answer is not None else (sim.last_code(PHONE) or "000000"))
    rc = s.wait()
    out = s.output
    tap.ok(rc == 0 and re.search(r"%s enrolled with \+1 \*\*\*-\*\*\*-0123 \(active\)" % name, out)
           and enrolled(name), "twofa-enroll add %s: code sent, typed, member stored" % name,
           "exit %d, output:\n%s" % (rc, out))


def pamtester(service, name, ops=("authenticate",), as_user=None):
    argv = [PAMTESTER, service, name] + list(ops)
    if as_user:
        argv = ["/usr/sbin/runuser", "-u", as_user, "--"] + argv
    return e2e.PtySession(argv, ENV)


def login(sim, service, name, password, code, ops=("authenticate", "acct_mgmt"), as_user=None):
    """pamtester on a terminal: the Unix password, then the code prompts answered with the
    right code (or a wrong one, or none asked). -> (verdict line, code prompts, sends, output)."""
    before = sim.sends(PHONE)
    s = pamtester(service, name, ops, as_user)
    prompts = 0
    if s.expect(r"(?i)password: ?$"):
        s.send(password)
        prompts, _ = e2e.answer_code_prompts(s, sim, code)
    s.wait()
    verdict = re.findall(r"pamtester: [^\n]*", s.output)
    return (verdict[-1].strip() if verdict else ""), prompts, sim.sends(PHONE) - before, s.output


def ok_verdict(v):
    return v.startswith("pamtester: successfully") or v == "pamtester: account management done."


def install_service(name, text):
    path = os.path.join("/etc/pam.d", name)
    with open(path, "w") as f:
        f.write(text)
    os.chmod(path, 0o644)
    return name
