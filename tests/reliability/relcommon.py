# SPDX-License-Identifier: GPL-3.0-or-later
"""Shared bits of the reliability tests (issue 7). Reuses tests/pam/pamtest.py (Sim, Env,
run_pam, SyslogCapture) and tests/cli/cli_common.py; adds only what they lack:

- LONG: True when TWOFA_LONG=1 (long runs: load 64 x 60 s, 200 kills, ...).
- RawAnswer(bytes): a conversation answer sent byte for byte (non-UTF-8), through the
  driver's \\xHH escapes, which pamtest.escape() never produces for bytes >= 0x80.
- log_problems(texts): control characters or signs of printf expansion in log lines.
- cli(...): runs twofa-enroll, returns cli_common.Run.
"""

import os
import re
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
SRCDIR = os.environ.get("TWOFA_SRCDIR") or os.path.dirname(os.path.dirname(HERE))
BUILDDIR = os.environ.get("TWOFA_BUILDDIR") or SRCDIR
sys.path.insert(0, os.path.join(SRCDIR, "tests", "pam"))
sys.path.insert(0, os.path.join(SRCDIR, "tests", "cli"))
import pamtest  # noqa: E402
import cli_common  # noqa: E402

LONG = os.environ.get("TWOFA_LONG", "") not in ("", "0")


def run_programs_bare():
    """For suites that assert timing (timeout + 1 s, lock deadlines, throughput): run the
    PAM driver and twofa-enroll without the valgrind variant's memcheck wrappers. The
    module's and the CLI's memcheck comes from tests/pam, tests/cli and test_hostile.py."""
    for wrapper in ("TWOFA_PAM_WRAPPER", "TWOFA_CLI_WRAPPER"):
        os.environ.pop(wrapper, None)
CLI = cli_common.CLI
PYTHON = pamtest.PYTHON


class RawAnswer:
    """An answer given as bytes: every byte >= 0x80 or < 0x20 goes as \\xHH."""

    def __init__(self, data):
        self.data = bytes(data)

    def wire(self):
        out = []
        for b in self.data:
            if b == 0x5c:
                out.append("\\\\")
            elif b < 0x20 or b >= 0x7f:
                out.append("\\x%02x" % b)
            else:
                out.append(chr(b))
        return "".join(out)


_plain_answer_line = pamtest._answer_line


def _answer_line(answer):
    if isinstance(answer, RawAnswer):
        return "ANSWER " + answer.wire(), repr(answer.data)
    return _plain_answer_line(answer)


# run_pam looks the encoder up at call time: teach it RawAnswer.
pamtest._answer_line = _answer_line

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


def cli(config, *args, input=None, timeout=60, env=None):
    e = dict(os.environ)
    e.update(env or {})
    p = subprocess.run([CLI, "--config", config] + list(args), input=input, text=True,
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=timeout, env=e,
                       stdin=None if input is not None else subprocess.DEVNULL)
    return cli_common.Run(p.returncode, p.stdout, p.stderr)


def require_built(t, *paths):
    """A missing build product is a failure with a clear message, not a skip."""
    missing = [p for p in paths if not os.path.exists(p)]
    return t.ok(not missing, "built: %s" % ", ".join(os.path.relpath(p, BUILDDIR) for p in paths),
                "missing: %s (run make first)" % ", ".join(missing))
