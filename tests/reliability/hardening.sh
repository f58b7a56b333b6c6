#!/bin/sh
# The built module and CLI carry the hardening of configure.ac (issue 7): full RELRO
# (GNU_RELRO segment + BIND_NOW), the stack protector (__stack_chk_fail referenced),
# FORTIFY (some *_chk function referenced). Sanitizer builds (clang ASan/UBSan, found by
# their __asan_/__ubsan_ symbols) turn FORTIFY off by design: there the FORTIFY check is
# reported as not applicable in its TAP description and the rest is still asserted.
# Only-pam_sm_*-exported is tests/pam/symbols.sh's job. TAP output.
# SPDX-License-Identifier: GPL-3.0-or-later
set -u
build=${TWOFA_BUILDDIR:?TWOFA_BUILDDIR is not set}
n=0
failed=0
report() { # status description
	n=$((n + 1))
	if [ "$1" = 0 ]; then echo "ok $n - $2"; else echo "not ok $n - $2"; failed=1; fi
}
for tool in readelf nm; do
	command -v "$tool" >/dev/null 2>&1; report $? "$tool is installed (binutils)"
done

for bin in "$build/pam_twofa/.libs/pam_twofa.so" "$build/server/twofa-server" "$build/server/twofad" \
	"$build/cli/.libs/twofa-enroll" "$build/cli/twofa-enroll"; do
	# libtool may leave a wrapper script in cli/ and the real program in cli/.libs/.
	[ -f "$bin" ] || continue
	head -c 4 "$bin" | grep -q 'ELF' || continue
	name=${bin#"$build"/}
	symbols=$(nm -D "$bin" 2>/dev/null; nm "$bin" 2>/dev/null)
	sanitized=no
	printf '%s\n' "$symbols" | grep -q '__asan_\|__ubsan_' && sanitized=yes
	kind="default build"
	[ $sanitized = yes ] && kind="sanitizer build"

	readelf -lW "$bin" | grep -q 'GNU_RELRO'
	report $? "$name ($kind): GNU_RELRO segment (-z relro)"
	readelf -dW "$bin" | grep -Eq '\(FLAGS\).*BIND_NOW|\(FLAGS_1\).*NOW'
	report $? "$name ($kind): BIND_NOW (-z now: full RELRO)"
	printf '%s\n' "$symbols" | grep -q '__stack_chk_fail'
	report $? "$name ($kind): stack protector (__stack_chk_fail referenced)"
	if [ $sanitized = yes ]; then
		report 0 "$name ($kind): FORTIFY not applicable (configure leaves _FORTIFY_SOURCE out under -fsanitize)"
	else
		chk=$(printf '%s\n' "$symbols" | grep -o '__[a-z_]*_chk\b' | grep -v '__stack_chk' | sort -u | tr '\n' ' ')
		[ -n "$chk" ]
		report $? "$name ($kind): FORTIFY (*_chk referenced: ${chk:-none})"
	fi
	case "$name" in
	*pam_twofa.so)
		# dlclose at pam_end must not unload it: before the split it held
		# libcurl's global init and thread-local data; kept, since a host
		# that reloads the module then keeps one copy of its state.
		readelf -dW "$bin" | grep -Eq '\(FLAGS_1\).*NODELETE'
		report $? "$name ($kind): never unloaded (-z nodelete)"
		;;
	esac
	checked=$((${checked:-0} + 1))
done
[ "${checked:-0}" -ge 3 ]; report $? "the module, the server and the CLI are built in $build"
echo "1..$n"
exit $failed
