#!/bin/sh
# SPDX-License-Identifier: GPL-3.0-or-later
# Conformance of the Verify client's requests to Twilio's official OpenAPI
# spec, checked by an independent implementation: Stoplight Prism (npm
# @stoplight/prism-cli) serving ../shared/twilio-oai/twilio_verify_v2.json
# answers 422 to requests the spec forbids. Prism is stateless and approves
# any code, so behaviour is tested against tests/sim; this checks shape.
# Prism is installed with `npm ci` from tests/verify/prism/package-lock.json
# (exact versions that run on Debian 12's node 18) into a cache outside the
# source tree keyed by the lockfile's hash (TWOFA_PRISM_DIR, default
# /var/cache/twofa-test/prism-HASH), reinstalled when its prism prints no
# version. No node or npm is a failure (scripts/deps installs them).
set -u
srcdir=${TWOFA_SRCDIR:?TWOFA_SRCDIR not set}
builddir=${TWOFA_BUILDDIR:?TWOFA_BUILDDIR not set}
lock="$srcdir/tests/verify/prism/package-lock.json"
prism_dir=${TWOFA_PRISM_DIR:-/var/cache/twofa-test/prism-$(sha256sum "$lock" 2>/dev/null | cut -c1-16)}
spec=${TWOFA_VERIFY_SPEC:-${TWOFA_TWILIO_OAI:-$srcdir/../shared/twilio-oai}/twilio_verify_v2.json}
tool="$builddir/tests/verify/verify_tool"

n=0
failed=0
ok() { # ok CONDITION-STATUS DESCRIPTION
	n=$((n + 1))
	if [ "$1" -eq 0 ]; then echo "ok $n - $2"; else echo "not ok $n - $2"; failed=$((failed + 1)); fi
}
bail() { # a precondition failed: report it and stop
	n=$((n + 1))
	echo "not ok $n - $1"
	[ $# -gt 1 ] && [ -f "$2" ] && tail -n 20 "$2" | sed 's/^/# /'
	echo "1..$n"
	exit 1
}

work=$(mktemp -d "${TMPDIR:-/tmp}/twofa-prism.XXXXXX") || exit 99
prism_pid=
cleanup() {
	if [ -n "$prism_pid" ]; then
		kill "$prism_pid" 2>/dev/null
		wait "$prism_pid" 2>/dev/null
	fi
	rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 1' HUP INT TERM

command -v node >/dev/null 2>&1 || bail "node is installed (apt-get install nodejs npm)"
command -v npm >/dev/null 2>&1 || bail "npm is installed (apt-get install npm)"
command -v curl >/dev/null 2>&1 || bail "curl is installed"
[ -r "$spec" ] || bail "Twilio's Verify spec is readable at $spec"
[ -x "$tool" ] || bail "verify_tool is built ($tool)"

[ -r "$lock" ] || bail "Prism's lockfile is readable at $lock"
prism="$prism_dir/node_modules/.bin/prism"
# A working install prints its version; anything else is reinstalled.
prism_version() { "$prism" --version 2>/dev/null | grep -E '^[0-9]+\.[0-9]+\.[0-9]+$'; }
if ! prism_version >/dev/null; then
	mkdir -p "$prism_dir" || bail "cache directory $prism_dir can be made"
	# One installer at a time when several test runs share the cache.
	(
		flock 9
		prism_version >/dev/null && exit 0
		rm -rf "$prism_dir/node_modules" &&
			cp "$srcdir/tests/verify/prism/package.json" "$lock" "$prism_dir/" &&
			npm ci --prefix "$prism_dir" --no-audit --no-fund
	) 9>"$prism_dir/.install.lock" >"$work/npm.log" 2>&1
fi
version=$(prism_version) || bail "Prism installed with npm ci into $prism_dir prints its version" "$work/npm.log"
ok 0 "prism available: $version"

port=$("${PYTHON3:-python3}" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
"$prism" mock -h 127.0.0.1 -p "$port" "$spec" >"$work/prism.log" 2>&1 &
prism_pid=$!
base="http://127.0.0.1:$port"
ready=1
i=0
while [ $i -lt 120 ]; do
	if curl -s -o /dev/null --noproxy '*' "$base/"; then ready=0; break; fi
	kill -0 "$prism_pid" 2>/dev/null || break
	sleep 0.25
	i=$((i + 1))
done
[ $ready -eq 0 ] || bail "prism answers on $base" "$work/prism.log"
ok 0 "prism mock serves the spec on port $port (pid $prism_pid)"

# Random, well-formed credentials: Prism accepts any Basic auth, but the
# client must send it. They go into a 0600 file, never onto a command line.
hex() { od -An -N16 -tx1 /dev/urandom | tr -d ' \n'; }
umask 077
service="VA$(hex)"
cat >"$work/twofa.conf" <<EOF
account_sid = AC$(hex)
auth_token = $(hex)
verify_service_sid = $service
verify_url = $base
lookup_url = $base
timeout = 10
EOF

run() { # run NAME EXPECTED-OUTCOME EXPECTED-HTTP TOOL-ARGS... (stdin passes through)
	name=$1 want=$2 http=$3
	shift 3
	"$tool" "$work/twofa.conf" "$@" >"$work/out" 2>&1
	rc=$?
	line=$(grep '^outcome=' "$work/out")
	echo "$line" | grep -q "^outcome=$want http=$http " && [ $rc -eq 0 ]
	ok $? "$name: $want, HTTP $http (got: ${line:-rc $rc})"
	if grep -q 'http=422' "$work/out"; then sed 's/^/# /' "$work/out"; fi
}

run "start sms" sent 201 start +15017122661 sms
run "start call with Locale" sent 201 start +15017122661 call fr
run "start whatsapp" sent 201 start +15017122661 whatsapp
run "start email" sent 201 start user@example.com email
# The code goes on stdin; a redirect (not a pipe) keeps run in this shell.
echo 123456 >"$work/code1"
echo A1b2C3 >"$work/code2"
run "check (Prism approves any code)" approved 200 check +15017122661 <"$work/code1"
run "check an alphanumeric code" approved 200 check +15017122661 <"$work/code2"
run "cancel by number" ok 200 cancel +15017122661
run "cancel by VE sid" ok 200 cancel VEaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa
run "fetch service" ok 200 service
grep -q '^code_length=4$' "$work/out"
ok $? "service code_length from the spec example (4)"

# Verify TOTP: every request the client makes passes the spec (no 422).
# Prism answers each with the first example of the operation, a push
# factor or challenge: the client's readers refuse those as bad answers
# (they are not totp, nor the factor asked for), which is right too.
identity=tf0123456789abcdef0123456789abcdef
factor=YF0123456789abcdef0123456789abcdef
run "totp factor create (Prism's push example refused)" bad_answer 201 totp-create $identity alice@host
run "totp factor verify (push example refused)" bad_answer 200 totp-verify $identity $factor <"$work/code1"
run "totp challenge (push example refused)" bad_answer 201 totp-challenge $identity $factor <"$work/code1"
run "totp factor delete" ok 204 totp-delete $identity $factor
run "totp entity delete" ok 204 totp-delete $identity
run "totp entity list" ok 200 totp-entities
run "totp factor list" ok 200 totp-factors $identity
run "totp service settings" ok 200 totp-service

# The check above only means something if Prism does refuse bad requests.
post() { # post PATH FORM -> HTTP status
	curl -s -o /dev/null -w '%{http_code}' --noproxy '*' -u "ACx:y" \
		-H 'Content-Type: application/x-www-form-urlencoded' -d "$2" "$base$1"
}
code=$(post "/v2/Services/$service/Verifications" "To=%2B15017122661")
[ "$code" = 422 ]
ok $? "prism refuses a start without Channel with 422 (got $code)"
code=$(post "/v2/Services/$service/Verifications/%2B15017122661" "Status=pending")
[ "$code" = 422 ]
ok $? "prism refuses Status=pending with 422 (got $code)"
code=$(post "/v2/Services/VA123/Verifications" "To=%2B15017122661&Channel=sms")
[ "$code" = 422 ]
ok $? "prism refuses a malformed Service SID with 422 (got $code)"
code=$(post "/v2/Services/$service/Entities/$identity/Challenges" "AuthPayload=123456")
[ "$code" = 422 ]
ok $? "prism refuses a challenge without FactorSid with 422 (got $code)"
code=$(post "/v2/Services/$service/Entities/$identity/Factors" "FriendlyName=x&FactorType=sms")
[ "$code" = 422 ]
ok $? "prism refuses FactorType=sms with 422 (got $code)"
code=$(curl -s -o /dev/null -w '%{http_code}' --noproxy '*' "$base/v2/Services/$service")
[ "$code" = 401 ]
ok $? "prism refuses a request without Basic auth with 401 (got $code)"

# Our own client, pointed at a bad Service SID, must be refused before sending.
sed "s/^verify_service_sid = .*/verify_service_sid = VA123/" "$work/twofa.conf" >"$work/bad.conf"
"$tool" "$work/bad.conf" service >"$work/out" 2>&1
[ $? -eq 2 ]
ok $? "the client refuses a malformed Service SID locally"

echo "1..$n"
[ $failed -eq 0 ]
