# SPDX-License-Identifier: GPL-3.0-or-later
"""Shared bits of the reliability tests (issue 7). Reuses harness.pam (Sim, Env,
run_pam, SyslogCapture, RawAnswer) and harness.cli; adds only what they lack:

- LONG: True when TWOFA_LONG=1 (long runs: load 64 x 60 s, 200 kills, ...).
- run_programs_bare(): no memcheck wrappers, for the suites that assert timing.
- log_problems(texts): control characters or signs of printf expansion in log lines.
- wait_quiet(cap): the captured log lines, once the datagrams already sent are read.
- require_built(t, paths): a missing build product is a failure, never a skip.
"""

import os
import re
import time

from harness.paths import BUILDDIR

LONG = os.environ.get("TWOFA_LONG", "") not in ("", "0")


def run_programs_bare():
    """For suites that assert timing (timeout + 1 s, lock deadlines, throughput): run the
    PAM driver, twofa-enroll and twofa-server without the valgrind variant's memcheck
    wrappers. The module's, the server's and the CLI's memcheck comes from tests/pam,
    tests/cli and test_hostile.py."""
    for wrapper in ("TWOFA_PAM_WRAPPER", "TWOFA_CLI_WRAPPER", "TWOFA_SERVER_WRAPPER"):
        os.environ.pop(wrapper, None)


_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


def log_problems(texts, literals=()):
    """Why the log lines are not safe: a raw control character, a NUL, or a printf
    conversion that got expanded (literals: strings that must appear verbatim)."""
    problems = []
    for t in texts:
        if _CONTROL.search(t):
            problems.append("control character in %r" % t)
        if "(null)" in t or "(nil)" in t:
            problems.append("printf expansion in %r" % t)
    return problems


def wait_quiet(cap, settle=0.15):
    """Lets the capture thread collect datagrams already sent (they are sent before the
    driver exits, but read by a thread)."""
    time.sleep(settle)
    return cap.texts()


def require_built(t, *paths):
    """A missing build product is a failure with a clear message, not a skip."""
    missing = [p for p in paths if not os.path.exists(p)]
    return t.ok(not missing, "built: %s" % ", ".join(os.path.relpath(p, BUILDDIR) for p in paths),
                "missing: %s (run make first)" % ", ".join(missing))
