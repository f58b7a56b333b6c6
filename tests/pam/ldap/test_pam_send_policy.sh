#!/bin/sh
# tests/pam/test_pam_send_policy.py with the members in a throwaway slapd (tests/harness/ldap_backend.sh).
# SPDX-License-Identifier: GPL-3.0-or-later
exec /bin/sh "$TWOFA_SRCDIR/tests/harness/ldap_backend.sh" tests/pam/test_pam_send_policy.py
