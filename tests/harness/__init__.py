# SPDX-License-Identifier: GPL-3.0-or-later
"""The Python test harness of twofa, one package for every Python test, bench/bench.py and
scripts/demo.py. Its parent, tests/, is on the module search path through PYTHONPATH,
set in one place per way of running: the test environment of `make check`
(AM_TESTS_ENVIRONMENT in Makefile.am), bench/run and scripts/demo. So every user imports
it the same way, e.g. `from harness.pam import Env, run_pam`.

    harness.paths            SRCDIR, BUILDDIR, PYTHON
    harness.tap              Tap: TAP output
    harness.sim              Sim: the Twilio simulator (tests/sim) and its /_sim/ controls
    harness.pam              real libpam through tests/pam/pam_driver: run_pam, Env,
                             SyslogCapture
    harness.cli              twofa-enroll in a private twofa world: Cli, Run, CODE
    harness.e2e              the real sshd, sudo, login: throwaway users and system files
                             removed at exit, Askpass, PtySession
    harness.pam_auth_update  the real pam-auth-update over copies of the system's PAM
                             directories in a private mount namespace
    harness.reliability      what the reliability suites add: LONG, log_problems, ...
    harness.sanitizer        the servers under the variant's memcheck or sanitizer
                             options; a report fails the test (exit status 99)
    harness.slapd            a throwaway OpenLDAP slapd (Slapd), two replicating
                             providers (SlapdPair, TcpProxy), a SilentServer
"""

# First of the harness's exit handlers, so it runs last: the servers' memcheck and sanitizer
# reports are read after every other handler stopped what it started.
from harness import sanitizer  # noqa: E402,F401
