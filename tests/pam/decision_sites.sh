#!/bin/sh
# The module answers once (issue 11, section 3): only the entry point
# (pam_twofa/pam_twofa.c, run_flow) logs a decision line and shows a final
# message; the flows build a twofa_decision; PAM_IGNORE is a code the module
# returns, never a flow's internal signal; user texts are rows of the table
# in lib/decision.c. Counted over the sources, so a new hand-made decision
# line or message fails here (TAP).
# SPDX-License-Identifier: GPL-3.0-or-later
set -u
src="${TWOFA_SRCDIR:-$(dirname "$0")/../..}/pam_twofa"
n=0
failed=0
report() { # result description
	n=$((n + 1))
	if [ "$1" = 0 ]; then echo "ok $n - $2"; else echo "not ok $n - $2"; failed=1; fi
}
# Call sites: indented lines naming "function(" (definitions and
# declarations start at the left margin), outside comments.
calls() { # function
	grep -n "[^[:alnum:]_]$1(" "$src"/*.c | grep '^[^:]*:[0-9]*:[[:space:]]' |
		grep -v '^[^:]*:[0-9]*:[[:space:]]*/\?\*'
}
[ -f "$src/pam_twofa.c" ]; report $? "the module's sources are at $src"
sites=$(calls twofa_audit_decision)
[ "$(printf '%s\n' "$sites" | grep -c .)" = 1 ] && printf '%s\n' "$sites" | grep -q '/pam_twofa\.c:'
report $? "one call of twofa_audit_decision, in pam_twofa.c: $(echo $sites)"
sites=$(calls twofa_conv_tell)
[ "$(printf '%s\n' "$sites" | grep -c .)" = 1 ] && printf '%s\n' "$sites" | grep -q '/pam_twofa\.c:'
report $? "one call of twofa_conv_tell, in pam_twofa.c: $(echo $sites)"
sites=$(grep -n 'result=' "$src"/*.c | grep -v '/audit\.c:' | grep -v '^[^:]*:[0-9]*:[[:space:]]*/\?\*')
[ -z "$sites" ]; report $? "no hand-made decision line (result=) outside audit.c${sites:+: $(echo $sites)}"
sites=$(grep -n 'PAM_IGNORE' "$src"/*.c | grep -v 'twofa_decide([a-z>-]*, PAM_IGNORE,' |
	grep -v '^[^:]*:[0-9]*:[[:space:]]*/\?\*')
[ -z "$sites" ]; report $? "PAM_IGNORE only as a decision's code${sites:+: $(echo $sites)}"
# A sentence for the user ("Capital ... .") in a flow is a row of the table instead.
sites=$(grep -n '"[A-Z][a-z][^"%]* [^"%]*\."' "$src"/*.c | grep -v '^[^:]*:[0-9]*:[[:space:]]*/\?\*')
[ -z "$sites" ]; report $? "no user sentence in pam_twofa/ outside lib/decision.c's table${sites:+: $(echo $sites)}"
echo "1..$n"
exit $failed
