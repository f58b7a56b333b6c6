#!/bin/sh
# tests/cli/test_totp.py with the members in a throwaway slapd (tests/harness/ldap_backend.sh).
# SPDX-License-Identifier: GPL-3.0-or-later
exec /bin/sh "$TWOFA_SRCDIR/tests/harness/ldap_backend.sh" tests/cli/test_totp.py
