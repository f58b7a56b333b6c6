#!/usr/bin/python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""End to end: the screen locker recipe of etc/pam.d/swaylock with the real pam_unix and a
throwaway user, through pamtester on a pseudo-terminal under a unique
/etc/pam.d/twofa-e2e-locker-<hex>. The recipe asks one question, as swaylock and i3lock
answer one: the password alone sends a code and fails; the password, a space and the
code unlocks without another send; a wrong Unix password with a code sends nothing. So
split_answer hands pam_unix exactly the password, and no unlock attempt sends in vain.
"""

import sys

from harness.sim import Sim
from harness.pam import Env
from harness import e2e

PAMTESTER = "/usr/bin/pamtester"
UNIX_PASSWORD = "unix-pw-L0ck"


def tests(tap, module):
    sanitizer = e2e.sanitizer_env(module)
    sim = Sim()
    env = Env(sim, config={"max_tries": "3"}, prefix="twofa-e2e-")
    user = e2e.ThrowawayUser(UNIX_PASSWORD)
    env.add_member(user.name, "store-pw-unused", e2e.PHONE)
    service = e2e.install_pam_service("swaylock", env, module, prefix="twofa-e2e-locker-")
    base = {"PATH": "/usr/sbin:/usr/bin:/sbin:/bin", "TERM": "dumb", "LANG": "C"}
    base.update(sanitizer)
    outputs = []

    def unlock(typed):
        """Types typed at the one prompt; (exit status, terminal output, sends, prompts)."""
        before = e2e.sends(sim)
        s = e2e.PtySession([PAMTESTER, "-v", service, user.name, "authenticate"], base)
        asked = 0
        if s.expect(r"(?i)password: ?$"):
            asked = 1
            s.send(typed)
            again = s.expect(r"(?i)(password: ?$)|(pamtester: .*\n)")
            if again and again.group(1):
                asked += 1  # a second question the locker could not answer
                s.send(typed)
        status = s.wait()
        outputs.append(s.output)
        return status, s.output, e2e.sends(sim) - before, asked

    def report(name, ok, r):
        tap.ok(ok, name, "exit %d, %d sends, %d prompts\nterminal:\n%s" % (r[0], r[2], r[3], r[1]))

    e2e.fresh_case(sim, env)
    r = unlock(UNIX_PASSWORD)
    report("the Unix password alone: one prompt, one code sent, not unlocked",
           r[0] != 0 and "successfully authenticated" not in r[1] and r[2] == 1 and r[3] == 1, r)
    code = sim.codes(e2e.PHONE)[-1] if sim.codes(e2e.PHONE) else "000000"
    r = unlock(UNIX_PASSWORD + " " + code)
    report("the Unix password, a space and the code: unlocked, no new code sent",
           r[0] == 0 and "successfully authenticated" in r[1] and r[2] == 0 and r[3] == 1, r)
    tap.ok(UNIX_PASSWORD not in r[1] and code not in r[1], "nothing typed is echoed", r[1])

    e2e.fresh_case(sim, env)
    r = unlock("not-" + UNIX_PASSWORD + " 123456")
    report("a wrong Unix password with a code: refused by pam_unix, nothing sent",
           r[0] != 0 and r[2] == 0, r)

    empty = e2e.empty_store(env)
    e2e.fresh_case(sim, env, members_db=empty)
    r = unlock(UNIX_PASSWORD)
    report("not enrolled (nullok): unlocked on the Unix password alone, nothing sent",
           r[0] == 0 and "successfully authenticated" in r[1] and r[2] == 0, r)
    e2e.check_no_sanitizer_report(tap, "pamtester", "\n".join(outputs))


if __name__ == "__main__":
    sys.exit(e2e.run(tests, [PAMTESTER]))
