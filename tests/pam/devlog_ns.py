#!/usr/bin/python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""Runs a command with /dev/log bound to a test's datagram socket (harness.pam's
SyslogCapture runs the driver through it):

    unshare --mount --propagation private python3 devlog_ns.py SOCK WORKDIR -- COMMAND...

Standard library only: it runs outside the harness, as its own program."""

import ctypes
import ctypes.util
import os
import stat
import sys
import tempfile


def devlog_namespace_exec(sock_path, work_dir, argv):
    """Runs inside `unshare --mount --propagation private`: rebuilds /dev on a tmpfs with
    every host entry bound back, binds sock_path on /dev/log, then execs argv."""
    libc = ctypes.CDLL(ctypes.util.find_library("c"), use_errno=True)
    MS_NOSUID, MS_BIND, MS_REC, MNT_DETACH = 0x2, 0x1000, 0x4000, 0x2

    def mount(src, dst, fstype, flags, data=None):
        if libc.mount(src.encode(), dst.encode(), fstype.encode() if fstype else None,
                      ctypes.c_ulong(flags), data.encode() if data else None) != 0:
            e = ctypes.get_errno()
            raise OSError(e, "mount %s on %s: %s" % (src, dst, os.strerror(e)))

    hostdev = tempfile.mkdtemp(prefix="hostdev-", dir=work_dir)
    mount("/dev", hostdev, None, MS_BIND | MS_REC)
    mount("tmpfs", "/dev", "tmpfs", MS_NOSUID, "mode=755,size=1m")
    for name in os.listdir(hostdev):
        src, dst = os.path.join(hostdev, name), os.path.join("/dev", name)
        st = os.lstat(src)
        if stat.S_ISLNK(st.st_mode):
            os.symlink(os.readlink(src), dst)
            continue
        if stat.S_ISDIR(st.st_mode):
            os.mkdir(dst, 0o755)
            mount(src, dst, None, MS_BIND | MS_REC)
        else:
            open(dst, "w").close()
            mount(src, dst, None, MS_BIND)
    open("/dev/log", "w").close()
    mount(sock_path, "/dev/log", None, MS_BIND)
    if libc.umount2(hostdev.encode(), MNT_DETACH) != 0:
        raise OSError(ctypes.get_errno(), "umount " + hostdev)
    os.rmdir(hostdev)
    os.execvp(argv[0], argv)


if __name__ == "__main__":
    if len(sys.argv) >= 5 and sys.argv[3] == "--":
        devlog_namespace_exec(sys.argv[1], sys.argv[2], sys.argv[4:])
    sys.stderr.write("usage: devlog_ns.py SOCK WORKDIR -- COMMAND...\n")
    sys.exit(2)
