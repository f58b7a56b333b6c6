#!/bin/sh
# SPDX-License-Identifier: GPL-3.0-or-later
# Runs tests/verify/test_verify against two simulators (HTTPS and plain HTTP),
# started here and stopped by PID whatever happens.
set -u
srcdir=${TWOFA_SRCDIR:?TWOFA_SRCDIR not set}
builddir=${TWOFA_BUILDDIR:?TWOFA_BUILDDIR not set}
simctl="$srcdir/tests/sim/simctl"

work=$(mktemp -d "${TMPDIR:-/tmp}/twofa-verify.XXXXXX") || exit 99
cleanup() {
	for d in "$work/https" "$work/http"; do
		[ -f "$d/pid" ] && "$simctl" stop "$d" >/dev/null 2>&1
	done
	rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 1' HUP INT TERM

if ! "$simctl" start "$work/https" >"$work/start.log" 2>&1 ||
   ! "$simctl" start "$work/http" --http >>"$work/start.log" 2>&1; then
	echo "not ok 1 - the simulator starts"
	sed 's/^/# /' "$work/start.log"
	echo "1..1"
	exit 1
fi
"$builddir/tests/verify/test_verify" "$work/https" "$work/http"
