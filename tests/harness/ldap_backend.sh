#!/bin/sh
# Runs one Python suite (its path under the source tree, $1) with its members in a
# throwaway slapd instead of members.db: TWOFA_TEST_BACKEND=ldap (harness.pam's Env).
# The wrappers in tests/*/ldap/ call it, so that `make check` registers a core suite a
# second time, unchanged, against the LDAP backend. Under the valgrind variant
# (TWOFA_VALGRIND) a wrapper runs only if it sets TWOFA_LDAP_UNDER_VALGRIND=1 (the
# cheap ones): memcheck makes every login ~20 times slower.
# SPDX-License-Identifier: GPL-3.0-or-later
set -eu
suite=$1
if [ -n "${TWOFA_VALGRIND:-}" ] && [ -z "${TWOFA_LDAP_UNDER_VALGRIND:-}" ]; then
	echo "1..0 # SKIP $suite against LDAP: too slow under memcheck; the default variant runs it"
	exit 0
fi
TWOFA_TEST_BACKEND=ldap
export TWOFA_TEST_BACKEND
exec "${PYTHON3:-python3}" "$TWOFA_SRCDIR/$suite"
