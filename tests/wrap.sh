#!/bin/sh
# Runs one C test program, under valgrind memcheck when TWOFA_VALGRIND is set
# (scripts/check --variant=valgrind). A valgrind error fails the test.
# SPDX-License-Identifier: GPL-3.0-or-later
if [ -n "${TWOFA_VALGRIND:-}" ]; then
	exec valgrind -q --vgdb=no --error-exitcode=99 --leak-check=full --errors-for-leak-kinds=definite \
		--suppressions="$TWOFA_SRCDIR/tests/valgrind.supp" --track-fds=no "$@"
fi
exec "$@"
