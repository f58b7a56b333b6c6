# SPDX-License-Identifier: GPL-3.0-or-later
"""End to end: a terminal login through the recipe of etc/pam.d/twofa-login (the Unix
password with pam_unix, then a code for enrolled users only, nullok for the others), typed
at a pseudo-terminal.

Why pamtester and not login or su: util-linux login always uses the PAM service "login"
(or "remote"), and su always "su" / "su-l"; neither takes a service name, and the tests
must not edit /etc/pam.d/login or /etc/pam.d/su. pamtester is a real PAM application: it
takes the service name, loads /etc/pam.d/SERVICE through the system libpam and answers
with libpam's own terminal conversation (misc_conv), echo off for secrets, exactly as
login does. It runs here on a pseudo-terminal of its own, under a unique
/etc/pam.d/twofa-e2e-login-<hex> made from etc/pam.d/twofa-login.
"""

import sys

from harness.sim import Sim
from harness.pam import Env
from harness import e2e

PAMTESTER = "/usr/bin/pamtester"
UNIX_PASSWORD = "unix-pw-8Zr"


class Login:
    def __init__(self, sim, service, user, sanitizer):
        self.sim, self.service, self.user = sim, service, user
        self.env = {"PATH": "/usr/sbin:/usr/bin:/sbin:/bin", "TERM": "dumb", "LANG": "C"}
        self.env.update(sanitizer)
        self.transcripts = []

    def run(self, password, code):
        """Types password at the password prompt and, when a code prompt comes, the right
        or wrong code. Returns (exit status, terminal output, sends, code prompts)."""
        before = e2e.sends(self.sim)
        s = e2e.PtySession([PAMTESTER, "-v", self.service, self.user.name,
                            "authenticate", "acct_mgmt"], self.env)
        code_prompts = 0
        if s.expect(r"[Pp]assword: ?$"):
            s.send(password)
            code_prompts, _ = e2e.answer_code_prompts(s, self.sim, code)
        status = s.wait()
        self.transcripts.append(s.output)
        return status, s.output, e2e.sends(self.sim) - before, code_prompts


def tests(tap, module):
    sanitizer = e2e.sanitizer_env(module)
    sim = Sim()
    env = Env(sim, config={"max_tries": "3"}, prefix="twofa-e2e-")
    user = e2e.ThrowawayUser(UNIX_PASSWORD)
    env.add_member(user.name, "store-pw-unused", e2e.PHONE)
    service = e2e.install_pam_service("twofa-login", env, module,
                                      prefix="twofa-e2e-login-")
    login = Login(sim, service, user, sanitizer)

    def report(name, ok, result):
        status, out, sent, prompts = result
        tap.ok(ok, name, "exit %d, %d sends, %d code prompts\nterminal:\n%s"
               % (status, sent, prompts, out))

    sim.reset()
    r = login.run(UNIX_PASSWORD, "right")
    report("Unix password + right code at a terminal: authenticated, account ok, one "
           "code sent", r[0] == 0 and "successfully authenticated" in r[1] and
           "account management done" in r[1] and r[2] == 1 and r[3] == 1, r)
    tap.ok(UNIX_PASSWORD not in r[1], "the password is not echoed on the terminal",
           r[1])

    sim.reset()
    r = login.run(UNIX_PASSWORD, "wrong")
    report("Unix password + wrong code: refused after max_tries code prompts",
           r[0] != 0 and "successfully authenticated" not in r[1] and r[3] == 3, r)

    sim.reset()
    r = login.run("not-" + UNIX_PASSWORD, "right")
    report("wrong Unix password: refused, no code sent or asked (pam_unix requisite)",
           r[0] != 0 and r[2] == 0 and r[3] == 0, r)

    # The login recipe says nullok: a user who is not enrolled gets in on the Unix
    # password alone (the sshd and sudo recipes, without nullok, refuse such a user).
    empty = e2e.empty_store(env)
    env.write_config({"members_db": empty})
    sim.reset()
    r = login.run(UNIX_PASSWORD, "right")
    report("not enrolled, stack with nullok: authenticated on the Unix password, no "
           "code", r[0] == 0 and "successfully authenticated" in r[1] and r[2] == 0 and
           r[3] == 0, r)
    e2e.check_no_sanitizer_report(tap, "pamtester", "\n".join(login.transcripts))


if __name__ == "__main__":
    sys.exit(e2e.run(tests, [PAMTESTER]))
