#!/bin/sh
# test_faults.py again with every module line through one twofad (harness.pam's
# TWOFA_TRANSPORT=daemon: daemon=yes socket=PATH) instead of a server per PAM call.
# TAP output.
# SPDX-License-Identifier: GPL-3.0-or-later
srcdir=${TWOFA_SRCDIR:?TWOFA_SRCDIR is not set}
TWOFA_TRANSPORT=daemon exec "${PYTHON3:-python3}" "$srcdir/tests/reliability/test_faults.py"
