#!/bin/sh
# Static analysis of twofa's own C code (issue 7). Not a `make check` test: .ci/run
# calls it. Exits non-zero on any finding.
#   1. cppcheck (Debian: cppcheck) over lib/ server/ pam_twofa/ cli/ with warning, portability
#      and performance checks. Suppressions, each for a reason:
#        missingIncludeSystem  system headers are not analysed (libc, PAM, GDBM, curl)
#   2. clang's scan-build (Debian: clang-tools, i.e. clang-tools-14 on bookworm)
#      running a full `make` in a fresh build directory with --status-bugs. The HTML
#      report stays in build/static/scan-build when something is found.
# Usage: tests/reliability/static.sh [cppcheck|scan-build]   (default: both)
# SPDX-License-Identifier: GPL-3.0-or-later
set -u
top=$(cd "$(dirname "$0")/../.." && pwd)
what=${1:-all}
failed=0
cd "$top" || exit 1
if [ "$what" = all ] || [ "$what" = cppcheck ]; then
	command -v cppcheck >/dev/null || { echo "static.sh: cppcheck is not installed (apt-get install cppcheck)" >&2; exit 1; }
	if cppcheck -q --std=c11 --enable=warning,portability,performance --inline-suppr --error-exitcode=1 \
		--suppress=missingIncludeSystem -D__GNUC__ -I lib -I server -I pam_twofa -I cli lib server pam_twofa cli; then
		echo "static.sh: cppcheck: clean"
	else
		echo "static.sh: cppcheck: findings above" >&2; failed=1
	fi
fi
if [ "$what" = all ] || [ "$what" = scan-build ]; then
	command -v scan-build >/dev/null || { echo "static.sh: scan-build is not installed (apt-get install clang-tools)" >&2; exit 1; }
	"$top/scripts/bootstrap" >/dev/null
	build="$top/build/static"
	rm -rf "$build"
	mkdir -p "$build"
	cd "$build" || exit 1
	if ! scan-build "$top/configure" -q >configure.out 2>&1; then
		tail -n 30 configure.out >&2; exit 1
	fi
	if scan-build --status-bugs -o "$build/scan-build" make -j"$(nproc)" >make.out 2>&1; then
		echo "static.sh: scan-build: clean"
	else
		grep -E 'warning:|bugs? found|error:' make.out >&2
		echo "static.sh: scan-build: findings above; report in $build/scan-build" >&2; failed=1
	fi
fi
exit $failed
