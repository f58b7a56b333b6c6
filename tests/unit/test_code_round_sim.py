#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""lib/code_round against the simulator (tests/unit/round_driver): a code
approved, wrong codes up to max_tries, a resend, a cancelled prompt, the
send limit, counted in a state.db of its own."""

import os
import shlex
import subprocess
import sys
import tempfile

from harness.paths import BUILDDIR
from harness.sim import Sim
from harness.tap import Tap

DRIVER = os.path.join(BUILDDIR, "tests", "unit", "round_driver")
PHONE = "+14155550123"


def run(conf, answer, max_tries=3, user="alice"):
    """Runs a round; answer(prompt, n) gives the n-th answer or None (end of input)."""
    # Under the valgrind variant the driver runs under memcheck (--error-exitcode=99).
    wrapper = shlex.split(os.environ.get("TWOFA_PAM_WRAPPER", ""))
    p = subprocess.Popen(wrapper + [DRIVER, conf, user, PHONE, "US", "sms", str(max_tries)], stdin=subprocess.PIPE,
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    prompts = []
    result = None
    for line in p.stdout:
        line = line.rstrip("\n")
        if line.startswith("PROMPT "):
            prompts.append(line[7:])
            a = answer(line[7:], len(prompts))
            if a is None:
                p.stdin.close()
            else:
                p.stdin.write(a + "\n")
                p.stdin.flush()
        elif line.startswith("RESULT "):
            result = line[7:]
    p.wait(timeout=300)
    if p.returncode != 0:
        return prompts, "exit %d %s" % (p.returncode, p.stderr.read())
    return prompts, result or "no result"


def main():
    tap = Tap()
    sim = Sim("--http")
    d = tempfile.mkdtemp(prefix="twofa-round-")
    conf = os.path.join(d, "twofa.conf")
    with open(conf, "w") as f:
        f.write(sim.fragment())
        f.write("state_db = %s/state.db\nsend_limit = 3\nsend_window = 3600\n" % d)
    os.chmod(conf, 0o600)
    try:
        prompts, res = run(conf, lambda p, n: sim.last_code(PHONE))
        tap.ok(res.startswith("approved none tries=0 sends=1"), "a right code is approved", res)
        tap.ok(len(prompts) == 1 and "0123" in prompts[0] and PHONE not in prompts[0],
               "one prompt, the number masked", prompts)

        prompts, res = run(conf, lambda p, n: "000000", user="bob")
        tap.ok(res.startswith("denied wrong_code tries=3"), "three wrong codes: denied", res)
        tap.ok(len(prompts) == 3 and "2" in prompts[1], "the retry prompts say the tries left", prompts)

        prompts, res = run(conf, lambda p, n: "resend" if n == 1 else sim.last_code(PHONE), user="carol")
        tap.ok(res.startswith("approved none tries=0 sends=2"), "a resend, then the new code", res)

        prompts, res = run(conf, lambda p, n: None, user="dave")
        tap.ok(res.startswith("cancelled none tries=0 sends=1"), "end of input cancels", res)

        prompts, res = run(conf, lambda p, n: "resend" if n < 4 else None, user="erin")
        tap.ok(res.startswith("cancelled") and "sends=3" in res and prompts[-1].startswith("Too many codes sent"),
               "resends stop at send_limit, said in the next prompt", (res, prompts))
        prompts, res = run(conf, lambda p, n: None, user="erin")
        tap.ok(res.startswith("refused send_limit") and prompts == [], "send_limit used up: refused, no prompt",
               res)
    finally:
        sim.stop()
        subprocess.run(["rm", "-rf", d])
    return tap.done()


if __name__ == "__main__":
    sys.exit(main())
