# SPDX-License-Identifier: GPL-3.0-or-later
"""Where the harness finds the tree and the build: $TWOFA_SRCDIR and $TWOFA_BUILDDIR (set
by make check, bench/run and scripts/demo), else the tree this file is in."""

import os
import sys

SRCDIR = os.environ.get("TWOFA_SRCDIR") or \
    os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BUILDDIR = os.environ.get("TWOFA_BUILDDIR") or SRCDIR
PYTHON = "/usr/bin/python3" if os.path.exists("/usr/bin/python3") else sys.executable
