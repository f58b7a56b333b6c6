#!/bin/sh
# make install / uninstall with DESTDIR (TAP): every file lands where the
# README says, with the right modes, the pam-auth-update profile where
# pam-auth-update reads it whatever the prefix, an edited twofa.conf is never
# replaced, and uninstall leaves only what holds secrets or members.
# SPDX-License-Identifier: GPL-3.0-or-later
set -u
n=0
failed=0
report() { # status description
	n=$((n + 1))
	if [ "$1" = 0 ]; then echo "ok $n - $2"; else echo "not ok $n - $2"; failed=1; fi
}
dest=$(mktemp -d /tmp/twofa-install-XXXXXX)
trap 'rm -rf "$dest" "$dest.log"' EXIT
build=$TWOFA_BUILDDIR
# Ask the build for its directories, so the test follows configure's choices.
vars=$(env -u MAKEFLAGS -u MFLAGS make -s -C "$build" --no-print-directory -f Makefile -f - print-dirs <<'MK'
print-dirs:
	@echo "securedir=$(securedir) sbindir=$(sbindir) mandir=$(mandir) sysconfdir=$(sysconfdir) localstatedir=$(localstatedir)"
	@echo "twofa_ldapdir=$(twofa_ldapdir)"
	@echo "pamconfigsdir=$(pamconfigsdir) pamconfigsdir_given=$(pamconfigsdir_given) docdir=$(docdir) docdir_given=$(docdir_given)"
MK
)
eval "$vars"
inst() { env -u MAKEFLAGS -u MFLAGS make -s -C "$build" "$@" DESTDIR="$dest" >"$dest.log" 2>&1; }

inst install; report $? "make install DESTDIR=... succeeds"
[ -f "$dest$securedir/pam_twofa.so" ]; report $? "pam_twofa.so in the PAM module directory ($securedir)"
[ ! -e "$dest$securedir/pam_twofa.la" ]; report $? "no libtool archive next to the module"
[ -x "$dest$sbindir/twofa-enroll" ]; report $? "twofa-enroll in sbindir"
for page in man8/pam_twofa.8 man8/twofa-enroll.8 man5/twofa.conf.5; do
	[ -f "$dest$mandir/$page" ]; report $? "man page $page installed"
done
conf="$dest$sysconfdir/twofa/twofa.conf"
[ "$(stat -c %a "$conf" 2>/dev/null)" = 600 ]; report $? "twofa.conf installed with mode 0600"
[ "$(stat -c %a "$dest$localstatedir/lib/twofa" 2>/dev/null)" = 700 ]; report $? "$localstatedir/lib/twofa created 0700"
# Unless configure was told otherwise, the profile goes where pam-auth-update
# reads profiles (a profile elsewhere is never offered, and --enable exits 0),
# and the examples where the README and Debian put a package's documentation.
profiles=/usr/share/pam-configs
if [ -r /usr/sbin/pam-auth-update ]; then
	profiles=$(sed -n "s/^my \$inputdir = '\(.*\)';/\1/p" /usr/sbin/pam-auth-update)
fi
where="where pam-auth-update reads it"
[ "$pamconfigsdir_given" = yes ] && profiles=$pamconfigsdir && where="as --with-pam-configs-dir says"
examples=/usr/share/doc/twofa/examples
[ "$docdir_given" = yes ] && examples=$docdir/examples
[ -f "$dest$profiles/twofa" ]; report $? "pam-auth-update profile installed in $profiles, $where"
[ -f "$dest$examples/twofa-sshd" ] && [ -f "$dest$examples/twofa-sshd.conf" ]
report $? "PAM and sshd examples installed in $examples"
[ -f "$dest$twofa_ldapdir/twofa.schema" ] && [ -f "$dest$twofa_ldapdir/twofa.ldif" ] &&
	[ -f "$dest$twofa_ldapdir/twofa-access.ldif" ] && [ -f "$dest$twofa_ldapdir/README" ]
report $? "LDAP schema, access rules and their README installed in $twofa_ldapdir"

echo "api_key_sid = edited" >>"$conf"
inst install; report $? "a second make install succeeds"
grep -q "api_key_sid = edited" "$conf"; report $? "an existing twofa.conf is never replaced"

inst uninstall; report $? "make uninstall succeeds"
[ ! -e "$dest$securedir/pam_twofa.so" ] && [ ! -e "$dest$sbindir/twofa-enroll" ]
report $? "uninstall removes the module and the CLI"
[ -f "$conf" ]; report $? "uninstall keeps an edited twofa.conf (it holds secrets)"
rm -f "$conf"
inst install && inst uninstall; report $? "install then uninstall again"
left=$(find "$dest" -type f | sed "s|^$dest||")
[ -z "$left" ]; report $? "an unedited install leaves no file behind${left:+ (left: $(echo $left))}"
left=$(for d in "$profiles" "$examples" "${examples%/*}" "$sysconfdir/twofa" "$localstatedir/lib/twofa" \
	"$twofa_ldapdir" "${twofa_ldapdir%/*}"; do
	[ -d "$dest$d" ] && echo "$d"; done)
[ -z "$left" ]; report $? "nor a folder of its own${left:+ (left: $(echo $left))}"
echo "1..$n"
exit $failed
