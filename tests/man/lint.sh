#!/bin/sh
# Every manual page is clean under mandoc -Tlint -Wwarning (TAP).
# SPDX-License-Identifier: GPL-3.0-or-later
set -u
n=0
failed=0
for page in "$TWOFA_SRCDIR"/man/*.[0-9]; do
	n=$((n + 1))
	out=$(mandoc -Tlint -Wwarning "$page" 2>&1)
	if [ $? -eq 0 ] && [ -z "$out" ]; then
		echo "ok $n - $(basename "$page") is clean under mandoc -Tlint -Wwarning"
	else
		echo "not ok $n - $(basename "$page"): mandoc says:"
		printf '%s\n' "$out" | sed 's/^/#   /'
		failed=1
	fi
done
# The pages the module and the configuration need must exist.
for page in pam_twofa.8 twofa.conf.5; do
	n=$((n + 1))
	if [ -f "$TWOFA_SRCDIR/man/$page" ]; then
		echo "ok $n - man/$page exists"
	else
		echo "not ok $n - man/$page is missing"
		failed=1
	fi
done
echo "1..$n"
exit $failed
