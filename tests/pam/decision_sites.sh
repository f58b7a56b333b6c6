#!/bin/sh
# The module answers once (issue 11, section 3), now across the split of
# issue 12. In server/: only run_flow (serve.c) logs the decision line and
# hands back the code and the text to show; the flows build a
# twofa_decision; PAM_IGNORE is a code the server returns, never a flow's
# internal signal; user texts are rows of the table in lib/decision.c. In
# pam_twofa/: the module shows only what the server sends, and its one own
# line (client.c's fail, for a server it cannot reach or follow) is written
# once. Counted over the sources, so a new hand-made decision line or
# message fails here (TAP).
# SPDX-License-Identifier: GPL-3.0-or-later
set -u
top="${TWOFA_SRCDIR:-$(dirname "$0")/../..}"
server="$top/server"
module="$top/pam_twofa"
n=0
failed=0
report() { # result description
	n=$((n + 1))
	if [ "$1" = 0 ]; then echo "ok $n - $2"; else echo "not ok $n - $2"; failed=1; fi
}
# Call sites: indented lines naming "function(" (definitions and
# declarations start at the left margin), outside comments.
calls() { # dir function
	grep -n "[^[:alnum:]_]$2(" "$1"/*.c | grep '^[^:]*:[0-9]*:[[:space:]]' |
		grep -v '^[^:]*:[0-9]*:[[:space:]]*/\?\*'
}
once_in() { # sites file
	[ "$(printf '%s\n' "$1" | grep -c .)" = 1 ] && printf '%s\n' "$1" | grep -q "/$2:"
}
uncommented() {
	grep -v '^[^:]*:[0-9]*:[[:space:]]*/\?\*'
}
[ -f "$server/serve.c" ] && [ -f "$module/client.c" ]
report $? "the sources are at $server and $module"
sites=$(calls "$server" twofa_audit_decision)
once_in "$sites" serve.c; report $? "one call of twofa_audit_decision, in server/serve.c: $(echo $sites)"
sites=$(calls "$server" twofa_host_done)
once_in "$sites" serve.c; report $? "one call of twofa_host_done, in server/serve.c: $(echo $sites)"
sites=$(grep -n 'result=' "$server"/*.c | grep -v '/audit\.c:' | uncommented)
[ -z "$sites" ]; report $? "no hand-made decision line (result=) in server/ outside audit.c${sites:+: $(echo $sites)}"
sites=$(grep -n 'PAM_IGNORE' "$server"/*.c | grep -v 'twofa_decide([a-z>-]*, PAM_IGNORE,' | uncommented)
[ -z "$sites" ]; report $? "PAM_IGNORE only as a decision's code${sites:+: $(echo $sites)}"
# A sentence for the user ("Capital ... .") in a flow is a row of the table instead.
sites=$(grep -n '"[A-Z][a-z][^"%]* [^"%]*\."' "$server"/*.c "$module"/*.c | grep -v '/host\.c:' | uncommented)
[ -z "$sites" ]; report $? "no user sentence outside lib/decision.c's table${sites:+: $(echo $sites)}"
sites=$(grep -Hn 'result=' "$module"/*.c | uncommented)
once_in "$sites" client.c; report $? "the module's own decision line is written once, in client.c: $(echo $sites)"
sites=$(grep -n 'return PAM_IGNORE\|return PAM_SUCCESS\|rc = PAM_SUCCESS\|rc = PAM_IGNORE' "$module"/client.c | uncommented)
[ -z "$sites" ]; report $? "the client never makes up a success or an ignore${sites:+: $(echo $sites)}"
echo "1..$n"
exit $failed
