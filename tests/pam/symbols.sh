#!/bin/sh
# pam_twofa.so exports only pam_sm_* and links every symbol it uses (TAP).
# SPDX-License-Identifier: GPL-3.0-or-later
set -u
so="$TWOFA_BUILDDIR/pam_twofa/.libs/pam_twofa.so"
n=0
failed=0
report() { # result description
	n=$((n + 1))
	if [ "$1" = 0 ]; then echo "ok $n - $2"; else echo "not ok $n - $2"; failed=1; fi
}
[ -f "$so" ]; report $? "the module is built: $so"
exported=$(nm -D --defined-only "$so" | awk '$2 ~ /^[TDBRVW]$/ {print $3}' | sort)
others=$(printf '%s\n' "$exported" | grep -v '^pam_sm_' | grep -v '^$')
[ -z "$others" ]; report $? "only pam_sm_* are exported${others:+ (also: $(echo $others))}"
for f in pam_sm_authenticate pam_sm_setcred pam_sm_acct_mgmt pam_sm_chauthtok pam_sm_open_session pam_sm_close_session; do
	printf '%s\n' "$exported" | grep -qx "$f"; report $? "$f is exported"
done
undefined=$(nm -D --undefined-only "$so" | awk '{print $2}' | grep '^twofa_')
[ -z "$undefined" ]; report $? "no libtwofa symbol is left undefined${undefined:+ ($(echo $undefined))}"
echo "1..$n"
exit $failed
