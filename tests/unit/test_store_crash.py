#!/usr/bin/python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""GDBM crash tolerance of the stores (issue 7, "Crashes").

Makes a 300 MB sparse XFS image (reflink=1) in /var/tmp, loop-mounts it in a private
mount namespace and checks there that:
  - a WRITE open turns crash tolerance on: the snapshot files exist while it is open
    (one of them read-only, the finished one) and are gone after a clean close;
  - a writer killed with SIGKILL at random points (30 times; TWOFA_STORE_CRASH_KILLS)
    leaves a store that the next opener (a reader or `twofa-enroll db check`) brings
    back to the last sync: `db check` accepts it and it holds every record whose sync
    the writer had reported, whole; no snapshot is left behind;
  - snapshots GDBM cannot order make the open fail closed, naming them, and the manual
    fix the message describes works.
And on /tmp (ext4 or tmpfs here) nothing changes: crash tolerance is off, no snapshot
file appears.

Needs root, mkfs.xfs (Debian: xfsprogs), unshare, losetup and mount. If the image cannot
be made or mounted the test FAILS (it does not skip). The image, the loop device and
the mount are removed also on failure. TWOFA_CRASH_SEED repeats a run."""

import os
import random
import shutil
import signal
import stat
import subprocess
import sys
import tempfile
import time

from harness.tap import Tap

BUILDDIR = os.environ.get("TWOFA_BUILDDIR") or os.getcwd()
WRITER = os.path.join(BUILDDIR, "tests", "unit", "store_writer")
CLI = os.path.join(BUILDDIR, "cli", "twofa-enroll")
INNER = "TWOFA_STORE_CRASH_IMAGE"
KILLS = int(os.environ.get("TWOFA_STORE_CRASH_KILLS") or 30)
IMAGE_BYTES = 300 * 1024 * 1024  # the smallest XFS mkfs.xfs accepts


def run(argv, **kw):
    return subprocess.run(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, **kw)


# -- outside the namespace: the image and the loop device ------------------------------

def detach_loops(image):
    r = run(["losetup", "-j", image])
    for line in r.stdout.splitlines():
        dev = line.split(":", 1)[0]
        if dev.startswith("/dev/loop"):
            run(["losetup", "-d", dev])


def outer():
    t = Tap()
    if os.geteuid() != 0:
        t.ok(False, "this test needs root (loop devices, mounts)")
        return t.done()
    missing = [p for p in ("mkfs.xfs", "unshare", "losetup", "mount", "umount") if shutil.which(p) is None]
    if missing:
        t.ok(False, "tools for the XFS image are installed", "missing: %s (Debian: xfsprogs, util-linux, mount)"
             % ", ".join(missing))
        return t.done()
    fd, image = tempfile.mkstemp(prefix="twofa-store-crash-", suffix=".img", dir="/var/tmp")
    try:
        os.ftruncate(fd, IMAGE_BYTES)
        os.close(fd)
        r = run(["mkfs.xfs", "-q", "-m", "reflink=1", image])
        if not t.ok(r.returncode == 0, "mkfs.xfs -m reflink=1 on a sparse 300 MB image", r.stderr):
            return t.done()
        sys.stdout.flush()
        env = dict(os.environ)
        env[INNER] = image
        # The inner run prints the rest of the TAP stream, numbered after ours.
        env["TWOFA_STORE_CRASH_TAP_START"] = str(t.n)
        p = subprocess.run(["unshare", "--mount", "--propagation", "private", sys.executable,
                            os.path.abspath(__file__)], env=env)
        return p.returncode
    finally:
        detach_loops(image)
        os.unlink(image)


# -- inside the namespace ----------------------------------------------------------------

def snapshots(db):
    return [p for p in (db + ".snap-even", db + ".snap-odd") if os.path.lexists(p)]


def leftovers(dbdir, what):
    return sorted(n for n in os.listdir(dbdir) if what in n)


def hold_check(t, where, db, want_tolerance):
    """Opens db with store_writer hold; returns (crash_tolerance, snapshots while open and
    their modes, snapshots after the close)."""
    p = subprocess.Popen([WRITER, db, "hold"], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, text=True)
    first = p.stdout.readline().strip()
    second = p.stdout.readline().strip()
    during = {os.path.basename(s): stat.S_IMODE(os.lstat(s).st_mode) for s in snapshots(db)}
    out, err = p.communicate("\n", timeout=60)
    t.ok(p.returncode == 0 and second == "synced" and out.strip() == "closed",
         "%s: a writer opens, syncs and closes" % where, err)
    t.ok(first == "open crash_tolerance=%d" % want_tolerance,
         "%s: crash tolerance is %s (%s)" % (where, "on" if want_tolerance else "off", first))
    return during, snapshots(db)


def write_config(confdir, dbdir):
    path = os.path.join(confdir, "twofa.conf")
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write("members_db = %s/members.db\nstate_db = %s/state.db\n" % (dbdir, dbdir))
    return path


def db_check(config):
    return run([CLI, "--config", config, "db", "check"], timeout=120)


def kill_rounds(t, rng, db, config):
    synced_upto = 0  # members below this were reported synced
    recovered = kills = open_kills = 0
    problems = []
    began = time.monotonic()
    for round_no in range(KILLS):
        batch = rng.choice([1, 5, 40])
        delay = rng.choice([0.0, rng.uniform(0, 0.02), rng.uniform(0, 0.4)])
        p = subprocess.Popen([WRITER, db, "write", str(synced_upto), str(batch)], stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, text=True)
        # Its output (a line per sync) stays far below a pipe's 64 KiB meanwhile.
        first = ""
        if round_no % 3 == 0:  # anywhere, the open itself included
            try:
                p.wait(timeout=delay)
            except subprocess.TimeoutExpired:
                pass
        else:  # once it has the store open
            open_kills += 1
            first = p.stdout.readline()
            time.sleep(delay)
        p.send_signal(signal.SIGKILL)
        out, err = p.communicate(timeout=120)
        out = first + out
        lines = out.splitlines()
        if p.returncode != -signal.SIGKILL:
            problems.append("round %d: writer ended with %s before the kill: %s" % (round_no, p.returncode, err))
            continue
        kills += 1
        for line in lines:
            if line.startswith("synced "):
                synced_upto = max(synced_upto, int(line.split()[1]))
        left = snapshots(db)
        finished_left = len(left) == 2 and any(os.lstat(s).st_mode & stat.S_IRUSR for s in left)
        crashed_before = len(leftovers(os.path.dirname(db), ".crashed-"))
        # The next opener recovers: half of the time a reader, else `db check`.
        if round_no % 2 == 0:
            r = run([WRITER, db, "has", "0", str(synced_upto)], timeout=120)
            if r.returncode != 0:
                problems.append("round %d: a reader after the kill: %s %s" % (round_no, r.stdout, r.stderr))
        c = db_check(config)
        if c.returncode != 0:
            problems.append("round %d: db check after the kill failed: %s" % (round_no, c.stderr.strip()))
        r = run([WRITER, db, "has", "0", str(synced_upto)], timeout=120)
        if r.returncode != 0:
            problems.append("round %d: records synced before the kill are missing: %s %s"
                            % (round_no, r.stdout.strip(), r.stderr.strip()[:400]))
        if snapshots(db):
            problems.append("round %d: snapshots left after recovery: %s" % (round_no, snapshots(db)))
        crashed_after = len(leftovers(os.path.dirname(db), ".crashed-"))
        if finished_left:
            recovered += 1
            if crashed_after != crashed_before + 1:
                problems.append("round %d: no .crashed- copy was kept" % round_no)
    elapsed = time.monotonic() - began
    t.ok(kills == KILLS and not problems,
         "%d kills of a writer: after each, db check passes and all %d records synced before the kills "
         "are there, whole (%d restored from a snapshot, %.1f s)" % (kills, synced_upto, recovered, elapsed),
         "\n".join(problems[:10]))
    t.ok(recovered >= open_kills > 0, "every kill of a writer that had the store open was recovered from "
         "its snapshot (%d of them; %d recoveries in all)" % (open_kills, recovered))
    t.ok(not leftovers(os.path.dirname(db), ".restore"), "no .restore work file is left")
    return synced_upto


def import_file(work, prefix, lines):
    path = os.path.join(work, prefix + ".jsonl")
    with open(path, "w") as f:
        for i in range(lines):
            f.write('{"v":1,"user":"%s%05d","email":null,"phone":"+1415666%04d","country":"US",'
                    '"channel":"sms","status":"active","created":"2026-01-02T03:04:05Z",'
                    '"updated":"2026-01-02T03:04:05Z","verified":null,"password_hash":'
                    '"$argon2id$v=19$m=8,t=1,p=1$c3RvcmUtd3JpdGVy$ZmFrZSBoYXNoIGZvciBhIGZpeHR1cmU"}\n'
                    % (prefix, i, i % 10000))
    return path


def killed_import(t, rng, db, config, work):
    """twofa-enroll import writes a whole file in one open and syncs once, at the end: with
    crash tolerance a kill undoes it whole, never leaving part of the file."""
    lines = 20000

    def records():
        c = db_check(config)
        first = c.stdout.splitlines()[0] if c.returncode == 0 and c.stdout else ""
        return int(first.split(": ")[1].split()[0]) if first.endswith(", all good") else None

    def crashed():
        return len(leftovers(os.path.dirname(db), ".crashed-"))

    before = records()
    began = time.monotonic()
    r = run([CLI, "--config", config, "import", import_file(work, "full", lines)], timeout=300)
    took = time.monotonic() - began
    t.ok(r.returncode == 0 and records() == before + lines,
         "an undisturbed import of %d lines takes %.2f s" % (lines, took), r.stderr)
    outcomes = []
    mid_write = 0
    for round_no in range(3):
        before = records()
        crashed_before = crashed()
        p = subprocess.Popen([CLI, "--config", config, "import", import_file(work, "kill%d" % round_no, lines)],
                             stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        # Kill once it has the store open (its snapshots exist), a random while later.
        while p.poll() is None and not snapshots(db):
            time.sleep(0.001)
        time.sleep(rng.uniform(0, 0.3) * took)
        p.send_signal(signal.SIGKILL)
        p.communicate(timeout=300)
        after = records()
        mid_write += crashed() > crashed_before
        outcomes.append((p.returncode, after - before if after is not None and before is not None else None))
    whole = all(n in (0, lines) and (rc != 0 or n == lines) for rc, n in outcomes)
    t.ok(whole, "3 imports of %d lines killed at random (%d of them while writing): none or all of the "
         "file is there (exit, records added: %s)" % (lines, mid_write, outcomes))


def ambiguous_snapshots(t, db, config, synced_upto):
    """Two finished snapshots GDBM cannot order: the open fails closed, naming them, and
    the fix the message describes (copy one over the store, remove both) works."""
    p = subprocess.Popen([WRITER, db, "hold"], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, text=True)
    p.stdout.readline()
    p.stdout.readline()
    p.send_signal(signal.SIGKILL)
    p.communicate(timeout=60)
    even, odd = db + ".snap-even", db + ".snap-odd"
    finished = [s for s in (even, odd) if os.path.exists(s) and os.lstat(s).st_mode & stat.S_IRUSR]
    if not t.ok(len(finished) == 1, "a killed writer left one finished snapshot"):
        return
    other = odd if finished[0] == even else even
    os.unlink(other)
    shutil.copyfile(finished[0], other)  # the same numsync
    os.chmod(other, 0o400)
    os.chmod(finished[0], 0o400)
    now = time.time()
    os.utime(even, (now, now))
    os.utime(odd, (now, now))
    r = run([WRITER, db, "has", "0", str(synced_upto)], timeout=60)
    t.ok(r.returncode == 1 and "snap-even" in r.stderr and "snap-odd" in r.stderr,
         "snapshots of the same sync and time: the open fails closed and names them", r.stderr)
    c = db_check(config)
    t.ok(c.returncode != 0 and "snapshot" in c.stderr, "db check fails too: %s" % c.stderr.strip()[:200])
    shutil.copyfile(even, db)
    os.chmod(db, 0o600)
    os.unlink(even)
    os.unlink(odd)
    c = db_check(config)
    r = run([WRITER, db, "has", "0", str(synced_upto)], timeout=60)
    t.ok(c.returncode == 0 and r.returncode == 0, "after the manual fix db check passes and no record is lost",
         c.stderr + r.stderr)


def inner(image):
    t = Tap()
    t.n = int(os.environ.get("TWOFA_STORE_CRASH_TAP_START") or 0)
    seed = int(os.environ.get("TWOFA_CRASH_SEED") or time.time())
    rng = random.Random(seed)
    t.ok(True, "random seed %d (TWOFA_CRASH_SEED=%d repeats this run)" % (seed, seed))
    for prog in (WRITER, CLI):
        if not t.ok(os.access(prog, os.X_OK), "%s is built" % prog):
            return t.done()
    mnt = tempfile.mkdtemp(prefix="twofa-store-crash-mnt-", dir="/tmp")
    work = tempfile.mkdtemp(prefix="twofa-store-crash-", dir="/tmp")
    mounted = False
    try:
        r = run(["mount", "-o", "loop", image, mnt])
        mounted = r.returncode == 0
        if not t.ok(mounted, "loop-mount the XFS image in a private mount namespace",
                    "mount failed: %s; crash tolerance cannot be tested without a loop device" % r.stderr):
            return t.done()
        fstype = run(["stat", "-f", "-c", "%T", mnt]).stdout.strip()
        t.ok(fstype == "xfs", "the mount is XFS (%s)" % fstype)
        os.chmod(mnt, 0o700)
        dbdir = os.path.join(mnt, "db")
        db = os.path.join(dbdir, "members.db")
        config = write_config(work, dbdir)

        # (1) on: snapshots while open, none after a clean close.
        during, after = hold_check(t, "XFS", db, 1)
        t.ok(sorted(during) == ["members.db.snap-even", "members.db.snap-odd"] and
             sorted(during.values()) == [0o200, 0o400],
             "XFS: while open, two snapshots, one finished (0400) and one not (0200): %s"
             % {k: "%04o" % v for k, v in during.items()})
        t.ok(after == [] and not leftovers(dbdir, ".crashed-"),
             "XFS: a clean close removes both snapshots and keeps no crashed copy")
        c = db_check(config)
        t.ok(c.returncode == 0, "XFS: db check passes: %s" % c.stdout.splitlines()[0] if c.stdout else "", c.stderr)

        # (2) kill -9 at random points.
        synced_upto = kill_rounds(t, rng, db, config)
        killed_import(t, rng, db, config, work)
        ambiguous_snapshots(t, db, config, synced_upto)

        # (3) /tmp: nothing changes.
        tmpdb = os.path.join(work, "db", "members.db")
        tmptype = run(["stat", "-f", "-c", "%T", work]).stdout.strip()
        during, after = hold_check(t, "/tmp (%s)" % tmptype, tmpdb, 0)
        t.ok(during == {} and after == [], "/tmp (%s): no snapshot file while open or after" % tmptype)
    except Exception as e:  # a broken step still reports, unmounts and cleans up
        t.ok(False, "the test ran to its end", "%s: %s" % (type(e).__name__, e))
    finally:
        if mounted:
            r = run(["umount", mnt])
            t.ok(r.returncode == 0, "unmount the image", r.stderr)
        os.rmdir(mnt)
        shutil.rmtree(work, ignore_errors=True)
    return t.done()


if __name__ == "__main__":
    sys.exit(inner(os.environ[INNER]) if os.environ.get(INNER) else outer())
