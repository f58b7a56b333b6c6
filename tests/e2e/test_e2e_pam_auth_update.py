# SPDX-License-Identifier: GPL-3.0-or-later
"""End to end: the pam-auth-update profile etc/pam-configs/twofa, enabled and disabled by
the real /usr/sbin/pam-auth-update (Debian package libpam-runtime), then used by a real
PAM application (pamtester under a pseudo-terminal, as in test_e2e_login.py).

Nothing of the system's PAM configuration is touched: every command that must see the
changed configuration runs in a private mount namespace where temporary copies are
bind-mounted over /etc/pam.d, /usr/share/pam-configs, /var/lib/pam (pam-auth-update's
saved state) and /var/cache/debconf (pam-auth-update is a debconf client: it stores the
chosen profiles in the libpam-runtime/profiles question of config.dat); see
harness.pam_auth_update. The copy of /usr/share/pam-configs gets etc/pam-configs/twofa as
"twofa" with only the module path changed (`pam_twofa.so` -> the built module + config=);
the PAM service pamtester uses is a unique file in the copy of /etc/pam.d made of
`@include common-auth` and `@include common-account`, i.e. exactly what pam-auth-update
generated.

At the end the real /etc/pam.d, /usr/share/pam-configs and /var/lib/pam are compared
byte for byte (names, types, modes, contents) with the start, and the libpam-runtime
questions of the real debconf database likewise.
"""

import hashlib
import os
import re
import stat
import sys

from harness.sim import Sim
from harness.pam import Env, module_words
from harness import e2e
from harness.pam_auth_update import (CMD_ENV, PAMTESTER, PAM_AUTH_UPDATE, PROGRAMS, Namespace,
                                     install_profile)

UNIX_PASSWORD = "unix-pw-3Qw"
MAX_TRIES = 3
DEBCONF_DB = "/var/cache/debconf/config.dat"
# The bound directories compared before/after (debconf as its libpam-runtime questions
# only: other helpers' apt-get runs may change the rest of it meanwhile).
HASHED = ["/etc/pam.d", "/usr/share/pam-configs", "/var/lib/pam"]


# -- the real system's state ---------------------------------------------------------------

def tree_digest(top):
    """Relative path -> (type, mode, sha256 or link target) of everything under top. In
    /etc/pam.d, the entries concurrent twofa tests add and remove (harness.e2e's prefixes)
    are left out: e2e.check_system_unchanged checks those."""
    out = {}
    for dirpath, dirnames, filenames in os.walk(top):
        for name in sorted(dirnames + filenames):
            path = os.path.join(dirpath, name)
            rel = os.path.relpath(path, top)
            if top == "/etc/pam.d" and rel.startswith(e2e.CONCURRENT_PREFIXES):
                continue
            st = os.lstat(path)
            if stat.S_ISLNK(st.st_mode):
                what = ("link", os.readlink(path))
            elif stat.S_ISREG(st.st_mode):
                with open(path, "rb") as f:
                    what = ("file", hashlib.sha256(f.read()).hexdigest())
            else:
                what = ("other", None)
            out[rel] = (stat.S_IFMT(st.st_mode), stat.S_IMODE(st.st_mode)) + what
    return out


def debconf_questions(path=DEBCONF_DB):
    """The libpam-runtime/* stanzas of debconf's config.dat, as text."""
    with open(path, encoding="utf-8", errors="replace") as f:
        stanzas = f.read().split("\n\n")
    return "\n\n".join(s for s in stanzas if s.startswith("Name: libpam-runtime/"))


def system_state():
    state = {d: tree_digest(d) for d in HASHED}
    state[DEBCONF_DB + " libpam-runtime/*"] = debconf_questions()
    return state


# -- the generated files -------------------------------------------------------------------

def managed_lines(text):
    """The PAM lines between pam-auth-update's markers, as lists of words, and the index
    of the first line of the "Additional" block."""
    lines, additional, inside = [], None, False
    for line in text.splitlines():
        if line.startswith('# here are the per-package modules (the "Primary" block)'):
            inside = True
        elif line.startswith('# and here are more per-package modules (the "Additional"'):
            additional = len(lines)
        elif line.startswith("# end of pam-auth-update config"):
            inside = False
        elif inside and line.strip() and not line.startswith("#"):
            lines.append(line.split())
    return lines, additional


def check_generated(tap, ns, kind, want_args, module):
    """TAP: common-KIND in the copy has exactly one pam_twofa line, `KIND required MODULE
    WANT_ARGS`, in the Additional block after the primary block's `requisite pam_deny.so`
    and `required pam_permit.so`."""
    path = os.path.join(ns.copy_of("/etc/pam.d"), "common-" + kind)
    with open(path) as f:
        text = f.read()
    lines, additional = managed_lines(text)
    where = [i for i, l in enumerate(lines) if any("pam_twofa" in w for w in l)]
    deny = [i for i, l in enumerate(lines) if l[1:3] == ["requisite", "pam_deny.so"]]
    permit = [i for i, l in enumerate(lines) if l[1:3] == ["required", "pam_permit.so"]]
    ok = (len(where) == 1 and len(deny) == 1 and len(permit) == 1 and additional is not None
          and deny[0] < permit[0] <= additional <= where[0])
    tap.ok(ok, "common-%s: one pam_twofa line, in the Additional block after the primary "
           "block's requisite pam_deny and required pam_permit" % kind, text)
    if where:
        tap.eq(lines[where[0]], [kind, "required", module] + want_args,
               "common-%s: the profile's line as written (required, its arguments)" % kind)
    else:
        tap.ok(False, "common-%s: the profile's line as written" % kind, text)
    return text


# -- pamtester -----------------------------------------------------------------------------

class Login:
    """pamtester SERVICE USER authenticate acct_mgmt on a pseudo-terminal, in the
    namespace; types the password and, at each code prompt, the right or wrong code."""

    def __init__(self, sim, ns, service, sanitizer):
        self.sim, self.ns, self.service = sim, ns, service
        self.prefix = ["/usr/bin/env"] + ["%s=%s" % kv for kv in sorted(sanitizer.items())]
        self.transcripts = []

    def run(self, user, password, code, ops=("authenticate", "acct_mgmt")):
        """Returns (exit status, terminal output, sends to e2e.PHONE, code prompts)."""
        before = e2e.sends(self.sim)
        argv = self.ns.argv(self.prefix + [PAMTESTER, "-v", self.service, user.name] +
                            list(ops))
        s = e2e.PtySession(argv, CMD_ENV)
        code_prompts, finished = 0, False
        if "authenticate" not in ops or s.expect(r"[Pp]assword: ?$"):
            if "authenticate" in ops:
                s.send(password)
            code_prompts, finished = e2e.answer_code_prompts(s, self.sim, code)
        if finished:
            status = s.wait()
        else:  # stuck at a prompt this test does not expect: a failure, not a hang
            s.close()
            status = -1
            s.output += "\n[no expected prompt or pamtester verdict: pamtester stopped]"
        self.transcripts.append(s.output)
        return status, s.output, e2e.sends(self.sim) - before, code_prompts


def authenticated(r):
    return (r[0] == 0 and "successfully authenticated" in r[1] and
            "account management done" in r[1])


# -- the test ------------------------------------------------------------------------------

def tests(tap, module):
    before = system_state()
    sanitizer = e2e.sanitizer_env(module)
    sim = Sim()
    env = Env(sim, config={"max_tries": str(MAX_TRIES)}, prefix="twofa-e2e-")
    member = e2e.ThrowawayUser(UNIX_PASSWORD)
    outsider = e2e.ThrowawayUser(UNIX_PASSWORD)  # a local user who is not enrolled
    env.add_member(member.name, "store-pw-unused", e2e.PHONE)

    ns = Namespace(e2e.workdir())
    install_profile(ns, env, module)
    pamd = ns.copy_of("/etc/pam.d")
    originals = {}
    for kind in ("auth", "account", "password", "session", "session-noninteractive"):
        with open(os.path.join(pamd, "common-" + kind)) as f:
            originals[kind] = f.read()
    tap.ok(not any("pam_twofa" in t for t in originals.values()),
           "the system's common-* files do not name pam_twofa before the test")

    # -- enable ------------------------------------------------------------------------
    r = ns.run([PAM_AUTH_UPDATE, "--enable", "twofa"])
    out = "exit %d\nstdout:\n%s\nstderr:\n%s" % (r.returncode, r.stdout, r.stderr)
    tap.ok(r.returncode == 0 and "not updating" not in r.stderr,
           "pam-auth-update --enable twofa (noninteractive) succeeds", out)
    built = module_words(env.config_path).split()
    check_generated(tap, ns, "auth", built + ["password=none", "nullok"], module)
    check_generated(tap, ns, "account", built + ["nullok"], module)
    for kind in ("password", "session", "session-noninteractive"):
        with open(os.path.join(pamd, "common-" + kind)) as f:
            tap.eq(f.read(), originals[kind], "common-%s unchanged (the profile has no "
                   "%s lines)" % (kind, kind.split("-")[0]))
    with open(os.path.join(ns.copy_of("/var/lib/pam"), "seen")) as f:
        seen = f.read().split()
    with open(os.path.join(ns.copy_of("/var/lib/pam"), "auth")) as f:
        saved_auth = f.read()
    tap.ok("twofa" in seen and "Module: twofa" in saved_auth,
           "pam-auth-update recorded the profile in its saved state (the copy of "
           "/var/lib/pam)", "seen: %r\nauth:\n%s" % (seen, saved_auth))
    tap.ok(re.search(r"(?m)^Value: .*\btwofa\b",
                     debconf_questions(os.path.join(ns.copy_of("/var/cache/debconf"),
                                                    "config.dat"))) is not None,
           "debconf's libpam-runtime/profiles (in the copy) lists twofa")

    service = e2e.unique("twofa-e2e-pau-")
    with open(os.path.join(pamd, service), "w") as f:
        f.write("# twofa e2e test: what pam-auth-update generated, nothing else\n"
                "@include common-auth\n@include common-account\n")
    login = Login(sim, ns, service, sanitizer)

    def report(name, ok, r):
        tap.ok(ok, name, "exit %d, %d sends, %d code prompts\nterminal:\n%s"
               % (r[0], r[2], r[3], r[1]))

    # -- logins through the generated stack ------------------------------------------
    e2e.fresh_case(sim, env)
    r = login.run(member, UNIX_PASSWORD, "right")
    report("enrolled member, Unix password + right code: authenticated, account ok, one "
           "code sent and asked", authenticated(r) and r[2] == 1 and r[3] == 1, r)

    e2e.fresh_case(sim, env)
    r = login.run(member, UNIX_PASSWORD, "wrong")
    report("enrolled member, Unix password + wrong code: refused after max_tries code "
           "prompts", r[0] != 0 and "successfully authenticated" not in r[1] and
           r[3] == MAX_TRIES, r)

    e2e.fresh_case(sim, env)
    r = login.run(member, "not-" + UNIX_PASSWORD, "right")
    report("enrolled member, wrong Unix password: refused, no code asked (the primary "
           "block's pam_deny ends the stack before pam_twofa)",
           r[0] != 0 and "successfully authenticated" not in r[1] and r[3] == 0, r)
    tap.eq(sim.outbox(), [], "wrong Unix password: the simulator's outbox is empty "
           "(nothing sent to anyone)")

    e2e.fresh_case(sim, env)
    r = login.run(outsider, UNIX_PASSWORD, "right")
    report("local user not enrolled: authenticated on the Unix password alone, no code "
           "(nullok in the profile)", authenticated(r) and r[3] == 0, r)
    tap.eq(sim.outbox(), [], "not enrolled: nothing sent")

    # The Account line is in effect: a disabled member is refused by acct_mgmt alone.
    env.add_member(member.name, "store-pw-unused", e2e.PHONE, status="disabled",
                   replace=True)
    e2e.fresh_case(sim, env)
    r = login.run(member, None, None, ops=("acct_mgmt",))
    report("disabled member: acct_mgmt through common-account refused (pam_twofa's "
           "account line)", r[0] != 0 and "account management done" not in r[1], r)
    r = login.run(outsider, None, None, ops=("acct_mgmt",))
    report("not enrolled: acct_mgmt through common-account passes (nullok)",
           r[0] == 0 and "account management done" in r[1], r)
    env.add_member(member.name, "store-pw-unused", e2e.PHONE, replace=True)

    # -- disable -----------------------------------------------------------------------
    r = ns.run([PAM_AUTH_UPDATE, "--disable", "twofa"])
    out = "exit %d\nstdout:\n%s\nstderr:\n%s" % (r.returncode, r.stdout, r.stderr)
    tap.ok(r.returncode == 0 and "not updating" not in r.stderr,
           "pam-auth-update --disable twofa succeeds", out)
    for kind, text in originals.items():
        with open(os.path.join(pamd, "common-" + kind)) as f:
            now = f.read()
        tap.ok("pam_twofa" not in now and managed_lines(now) == managed_lines(text),
               "after --disable, common-%s has the managed lines it had before --enable"
               % kind, now)

    e2e.fresh_case(sim, env)
    r = login.run(member, UNIX_PASSWORD, "right")
    report("after --disable, the enrolled member gets in on the Unix password alone, no "
           "code", authenticated(r) and r[2] == 0 and r[3] == 0, r)

    e2e.check_no_sanitizer_report(tap, "pamtester", "\n".join(login.transcripts))

    # -- the real system -------------------------------------------------------------
    after = system_state()
    for what in before:
        b, a = before[what], after[what]
        if isinstance(b, dict):
            diff = sorted(n for n in set(b) | set(a) if b.get(n) != a.get(n))
            tap.ok(not diff, "the real %s is byte for byte as before (%d entries)"
                   % (what, len(b)), "differs: %r" % diff)
        else:
            tap.eq(a, b, "the real %s as before" % what)


if __name__ == "__main__":
    sys.exit(e2e.run(tests, PROGRAMS))
