# Shared by scripts/fresh-check and scripts/deb-check (sourced, not run): a
# fresh Debian 12 (minbase) tree made from a cached pristine debootstrap
# tarball, given what a real machine has and debootstrap lacks, inside the
# caller's private mount and PID namespaces (fresh_enter), so that nothing
# is left behind whatever happens. The caller sets $top and defines say()
# and die().
# SPDX-License-Identifier: GPL-3.0-or-later
# shellcheck shell=sh disable=SC2154 # $top, say and die are the caller's

cache=${TWOFA_FRESH_CACHE:-/var/cache/twofa-fresh}
suite=bookworm
tarball=$cache/$suite-minbase.tar

since() { echo "$(( $(date +%s) - $1 )) s"; }

# fresh_enter SCRIPT ARGS...: outside, checks root, installs debootstrap and
# re-executes SCRIPT as PID 1 of new mount and PID namespaces (killing it
# kills every process and mount inside); inside, returns.
fresh_enter() {
	if [ "${TWOFA_FRESH_INSIDE:-}" != 1 ]; then
		[ "$(id -u)" = 0 ] || { echo "${0##*/}: run it as root" >&2; exit 77; }
		"$top/scripts/deps" fresh
		mkdir -p "$cache/root"
		TWOFA_FRESH_INSIDE=1 exec unshare --mount --pid --fork --kill-child --mount-proc \
			--propagation private "$@"
	fi
}

# The host's Debian mirror for $suite: debootstrap can reach no other.
host_mirror() {
	for f in /etc/apt/sources.list.d/*.sources; do
		[ -f "$f" ] || continue
		awk -v suite="$suite" 'BEGIN { RS = ""; FS = "\n" }
			{ uri = ""; deb = 0; ok = 0
			  for (i = 1; i <= NF; i++) {
				n = split($i, w, /[ \t]+/)
				if (w[1] == "Types:") for (j = 2; j <= n; j++) if (w[j] == "deb") deb = 1
				if (w[1] == "URIs:") uri = w[2]
				if (w[1] == "Suites:") for (j = 2; j <= n; j++) if (w[j] == suite) ok = 1
			  }
			  if (deb && ok && uri != "") { print uri; exit } }' "$f"
	done
	cat /etc/apt/sources.list /etc/apt/sources.list.d/*.list 2>/dev/null |
		sed -n "s/^deb[ 	]\{1,\}\(\[[^]]*\][ 	]\{1,\}\)\{0,1\}\([^ 	]*\)[ 	]\{1,\}${suite}[ 	].*/\2/p"
}

# fresh_init LOGDIR: the mirror and proxy, and a tmpfs on $cache/root for the trees.
fresh_init() {
	fresh_logs=$1
	mkdir -p "$fresh_logs"
	mirror=$(host_mirror | head -n 1)
	[ -n "$mirror" ] || die "the host's apt sources name no mirror for $suite; debootstrap needs one"
	proxy=
	eval "$(apt-config shell proxy Acquire::http::Proxy)"
	mount -t tmpfs -o mode=0755 twofa-fresh "$cache/root"
}

# Mirror and proxy host names never reach the output.
hide() { awk -v m="$mirror" -v p="$proxy" '{
	while (m != "" && (i = index($0, m))) $0 = substr($0, 1, i - 1) "MIRROR" substr($0, i + length(m))
	while (p != "" && (i = index($0, p))) $0 = substr($0, 1, i - 1) "PROXY" substr($0, i + length(p))
	print }'; }

# The pristine tarball, rebuilt when missing or a week old (one builder at a time).
fresh_pristine() {
	exec 9>"$cache/.lock"
	flock 9
	if [ -z "$(find "$tarball" -mtime -7 2>/dev/null)" ]; then
		say "debootstrap --variant=minbase $suite (the host's mirror${proxy:+, through its apt proxy}) ..."
		_start=$(date +%s)
		_pristine=$cache/root/pristine
		# ca-certificates: a real machine has it, minbase does not.
		if ! env ${proxy:+http_proxy="$proxy"} debootstrap --variant=minbase --include=ca-certificates \
			"$suite" "$_pristine" "$mirror" >"$fresh_logs/debootstrap.log" 2>&1; then
			tail -n 20 "$fresh_logs/debootstrap.log" | hide >&2
			die "debootstrap failed (log: $fresh_logs/debootstrap.log)"
		fi
		tar -C "$_pristine" --numeric-owner --exclude='./dev/*' --exclude='./proc/*' --exclude='./sys/*' \
			-cf "$tarball.new" .
		mv "$tarball.new" "$tarball"
		rm -rf "$_pristine"
		say "pristine $suite minbase cached in $tarball ($(since "$_start"))"
	fi
	flock -u 9
}

# fresh_tree ROOT: a fresh copy of the pristine tree at ROOT (under $cache/root)
# with what a real machine has: / is a mount point (unshare needs it), the
# kernel file systems, /run, a host name that resolves, DNS, the host's apt
# sources and the configuration apt needs to reach them, and its CA certificates.
fresh_tree() {
	_root=$1
	mkdir "$_root"
	tar -C "$_root" --numeric-owner -xpf "$tarball"
	mount --bind "$_root" "$_root"
	mount -t proc proc "$_root/proc"
	mount --rbind /sys "$_root/sys"
	mount --bind /dev "$_root/dev"
	mount --bind /dev/pts "$_root/dev/pts"
	mount -t tmpfs -o mode=1777,nosuid,nodev shm "$_root/dev/shm"
	mount -t tmpfs -o mode=0755,nosuid,nodev run "$_root/run"
	mkdir -m 1777 "$_root/run/lock"
	printf '127.0.0.1\tlocalhost\n127.0.1.1\t%s\n::1\tlocalhost ip6-localhost ip6-loopback\n' \
		"$(hostname)" >"$_root/etc/hosts"
	cp -L /etc/resolv.conf "$_root/etc/resolv.conf"

	rm -f "$_root/etc/apt/sources.list"
	for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list /etc/apt/sources.list.d/*.sources; do
		if [ -f "$f" ]; then cp "$f" "$_root$f"; fi
	done
	# The keyrings those sources are signed by, where the tree lacks them.
	cat "$_root/etc/apt/sources.list" "$_root"/etc/apt/sources.list.d/* 2>/dev/null |
		sed -n 's/^Signed-By:[ 	]*\(\/[^ 	]*\).*/\1/p; s/.*signed-by=\(\/[^] 	]*\).*/\1/p' | sort -u |
		while IFS= read -r key; do
			if [ -f "$key" ] && [ ! -e "$_root$key" ]; then
				mkdir -p "$_root${key%/*}"
				cp "$key" "$_root$key"
			fi
		done
	# apt.conf.d files that only set Acquire:: options (validity, proxy, ...); none
	# of the hooks other files run exist in the tree.
	for f in /etc/apt/apt.conf.d/*; do
		[ -f "$f" ] || continue
		if ! grep -vE '^[[:space:]]*(//|#|$)' "$f" | grep -qvE '^[[:space:]]*Acquire::'; then
			cp "$f" "$_root/etc/apt/apt.conf.d/"
		fi
	done
	for f in /etc/apt/auth.conf /etc/apt/auth.conf.d/*; do
		if [ -f "$f" ]; then cp -p "$f" "$_root$f"; fi
	done
	if [ -n "$proxy" ]; then
		printf 'Acquire::http::Proxy "%s";\n' "$proxy" >"$_root/etc/apt/apt.conf.d/00twofa-fresh-proxy"
	fi
	if [ -d /usr/local/share/ca-certificates ]; then
		cp -R /usr/local/share/ca-certificates/. "$_root/usr/local/share/ca-certificates/"
	fi
	chroot "$_root" update-ca-certificates >/dev/null 2>&1 || die "update-ca-certificates failed in the tree"
}

# fresh_apt_cache ROOT: the tree's apt starts with the .debs earlier runs
# downloaded ($cache/archives, copied in: a shared bind mount would make
# concurrent runs fail on apt's lock); fresh_apt_save ROOT adds the ones it
# downloaded since. One copier at a time.
fresh_apt_cache() {
	mkdir -p "$cache/archives"
	exec 8>"$cache/.archives-lock"
	flock 8
	find "$cache/archives" -maxdepth 1 -name '*.deb' -exec cp -t "$1/var/cache/apt/archives/" {} +
	flock -u 8
}
fresh_apt_save() {
	exec 8>"$cache/.archives-lock"
	flock 8
	find "$1/var/cache/apt/archives" -maxdepth 1 -name '*.deb' -exec cp -n -t "$cache/archives/" {} +
	flock -u 8
}

# fresh_login ROOT COMMAND: COMMAND in the tree from a clean root login.
fresh_login() {
	env -i HOME=/root TERM=xterm LANG=C.UTF-8 \
		PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
		chroot "$1" /bin/bash -lc "$2"
}
