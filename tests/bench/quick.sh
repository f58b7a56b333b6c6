#!/bin/sh
# SPDX-License-Identifier: GPL-3.0-or-later
# Runs every benchmark in quick mode (bench/run --quick) and checks that each
# printed valid JSON lines with the expected "bench" names and non-negative
# figures, one of them positive per line. Proves the benchmarks run; it
# asserts nothing about speed.
set -u

srcdir=${TWOFA_SRCDIR:?}
builddir=${TWOFA_BUILDDIR:?}
python=${PYTHON3:-/usr/bin/python3}

if [ "$(id -u)" != 0 ]; then
	echo "1..0 # SKIP needs root (throwaway user for the pam_unix baseline)"
	exit 0
fi
if [ ! -e "$builddir/pam_twofa/.libs/pam_twofa.so" ]; then
	echo "1..0 # SKIP pam_twofa.so is not built"
	exit 0
fi

out=$(mktemp /tmp/twofa-bench-quick.XXXXXX)
err=$(mktemp /tmp/twofa-bench-quick.XXXXXX)
trap 'rm -f "$out" "$err"' EXIT INT TERM

"$srcdir/bench/run" --quick --no-build --build-dir "$builddir" >"$out" 2>"$err"
status=$?

"$python" - "$out" "$err" "$status" <<'PY'
import json, math, sys

out, err, status = sys.argv[1], sys.argv[2], int(sys.argv[3])
n = 0
failed = 0


def ok(cond, name, diag=None):
    global n, failed
    n += 1
    if not cond:
        failed += 1
    print("%s %d - %s" % ("ok" if cond else "not ok", n, name))
    if not cond and diag:
        for line in str(diag).splitlines()[-30:]:
            print("# " + line)


EXPECTED = ["store_insert", "store_lookup", "store_scale", "login_total", "login_pam_start_end",
            "module_overhead", "login_part", "login_parts_local", "json_read",
            "login_skipped", "network_per_login", "network_keepalive_expired", "concurrency",
            "rss_one_login", "cli_import", "cli_list", "cli_export", "baseline_ratio",
            "transport_call", "transport_overhead", "transport_network"]
UNIT_SUFFIXES = ("_ms", "_us", "_kib", "_bytes", "per_sec", "seconds", "_per_login", "_ratio")

with open(err) as f:
    stderr = f.read()
ok(status == 0, "bench/run --quick exits 0", "exit %d\n%s" % (status, stderr))
lines = open(out).read().splitlines()
objs, bad = [], []
for line in lines:
    try:
        obj = json.loads(line)
        if not isinstance(obj, dict) or not isinstance(obj.get("bench"), str):
            raise ValueError("no bench name")
        objs.append(obj)
    except ValueError as e:
        bad.append("%s: %r" % (e, line))
ok(lines and not bad, "every stdout line is a JSON object with a bench name", "\n".join(bad))
names = {o["bench"] for o in objs}
for name in EXPECTED:
    ok(name in names, "a %s line was printed" % name, stderr)
problems = []
for o in objs:
    figures = {k: v for k, v in o.items()
               if isinstance(v, (int, float)) and not isinstance(v, bool)
               and k.endswith(UNIT_SUFFIXES)}
    if o["bench"].endswith("_skipped"):
        continue
    if not figures:
        problems.append("no unit-named figure: %r" % o)
    elif any(not math.isfinite(v) or v < 0 for v in figures.values()):
        problems.append("negative or not finite: %r" % o)
    elif not any(v > 0 for v in figures.values()):
        problems.append("no positive figure: %r" % o)
ok(not problems, "figures are named with units, finite, >= 0, one > 0 per line", "\n".join(problems))
overhead = [o for o in objs if o["bench"] == "module_overhead"]
ok(overhead and all(o.get("p50_ms", 0) > 0 and o.get("logins", 0) > 0 for o in overhead),
   "module_overhead has p50_ms and logins", repr(overhead))
failures = [o for o in objs if o.get("failures")]
ok(not failures, "no benchmark login failed", "\n".join(map(repr, failures)))
print("1..%d" % n)
sys.exit(1 if failed else 0)
PY
