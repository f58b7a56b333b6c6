# SPDX-License-Identifier: GPL-3.0-or-later
"""Memcheck and sanitizer reports of the servers the tests do not start themselves.

pam_twofa.so starts twofa-server with an empty environment and fds 0-2 on /dev/null, and has
its answer before the server exits: neither a report on stderr nor the exit status that
valgrind or LeakSanitizer set at exit reaches a test. So the variants of scripts/check say
what to run the server under, and every report lands in a log that the test process reads:

    TWOFA_SERVER_WRAPPER  words run before the server (valgrind: "valgrind -q ...
                          --log-file={log}.%p")
    TWOFA_SERVER_ENV      NAME=VALUE words set for it (asan: "ASAN_OPTIONS=log_path={log}")
    TWOFA_SERVER_WRAPPER_TESTS  the test scripts (e.g. tests/pam/test_pam.py) whose servers
                          run under the wrapper; unset: all (memcheck makes a login some
                          20 times slower, so the valgrind variant names a subset)

{log} stands for a log prefix in a 0755 directory of this process. server(real) is then a
generated root-owned 0755 script there, the module's server= (the module checks it as it
checks the real one), that sets the variables and execs the words and the real server, all
by absolute path (the server's environment is empty). A program a test starts itself (twofad)
runs through command(argv). At exit a process whose programs left a report prints each
report as TAP comments and exits with status 99, which make check counts as an ERROR.

The check is registered when the harness package is imported, before any other exit
handler, so it runs after all of them: what they stop (twofad) has written its report, and
os._exit skips no cleanup. The server binary is the product's: nothing is compiled in."""

import atexit
import os
import re
import shlex
import shutil
import sys
import tempfile

WRAPPER_VAR = "TWOFA_SERVER_WRAPPER"
ENV_VAR = "TWOFA_SERVER_ENV"
WRAPPER_TESTS_VAR = "TWOFA_SERVER_WRAPPER_TESTS"
EXIT_STATUS = 99
LOG_PREFIX = "report"
SHOWN = 3  # reports printed in full; one bug often leaves one in every server

_state = {"dir": None, "pid": None, "scripts": {}}


def _checker():
    """(wrapper words, [NAME=VALUE]) from the environment, {log} filled in, or None."""
    wrapper = shlex.split(os.environ.get(WRAPPER_VAR, "")) if _wrapped_test() else []
    assigns = shlex.split(os.environ.get(ENV_VAR, ""))
    if not wrapper and not assigns:
        return None
    log = os.path.join(_log_dir(), LOG_PREFIX)
    wrapper = [w.replace("{log}", log) for w in wrapper]
    assigns = [a.replace("{log}", log) for a in assigns]
    for a in assigns:
        if not re.match(r"^[A-Za-z_][A-Za-z0-9_]*=", a):
            raise ValueError("%s: %r is not NAME=VALUE" % (ENV_VAR, a))
    if wrapper:
        found = shutil.which(wrapper[0])
        if found is None:
            raise RuntimeError("%s: %s is not on PATH" % (WRAPPER_VAR, wrapper[0]))
        wrapper[0] = os.path.abspath(found)
    return wrapper, assigns


def _wrapped_test():
    """Whether this test script is one whose servers run under the wrapper."""
    names = os.environ.get(WRAPPER_TESTS_VAR)
    if names is None:
        return True
    script = os.path.realpath(sys.argv[0]) if sys.argv and sys.argv[0] else ""
    return any(script.endswith(os.sep + n.strip("/")) for n in names.split())


def _log_dir():
    if _state["dir"] is None or _state["pid"] != os.getpid():
        # Root's, 0755: the module checks the script's directory like the server's.
        _state["dir"] = tempfile.mkdtemp(prefix="twofa-sanitizer-", dir="/tmp")
        _state["pid"] = os.getpid()
        _state["scripts"] = {}
        os.chmod(_state["dir"], 0o755)
    return _state["dir"]


def server(real):
    """The path to give the module as server=: real itself, or the script that runs it
    under the variant's checker."""
    checker = _checker()
    if checker is None:
        return real
    wrapper, assigns = checker
    key = (real, tuple(wrapper), tuple(assigns))
    script = _state["scripts"].get(key)
    if script is None:
        script = os.path.join(_log_dir(), "server-%d" % len(_state["scripts"]))
        lines = ["#!/bin/sh",
                 "# tests/harness/sanitizer.py: %s under the variant's checker" % real]
        lines += ["export %s" % shlex.quote(a) for a in assigns]
        lines.append("exec " + " ".join(shlex.quote(w) for w in wrapper + [real]))
        fd = os.open(script, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o755)
        with os.fdopen(fd, "w") as f:
            f.write("\n".join(lines) + "\n")
        os.chmod(script, 0o755)
        _state["scripts"][key] = script
    return script


def command(argv):
    """argv (a program a test starts itself, e.g. twofad) under the variant's checker."""
    checker = _checker()
    if checker is None:
        return list(argv)
    wrapper, assigns = checker
    return (["/usr/bin/env"] + assigns if assigns else []) + wrapper + list(argv)


def bare():
    """No checker for the rest of this process: for a test that inspects the server's own
    process (its executable, its empty environment), which a checker would change."""
    os.environ.pop(WRAPPER_VAR, None)
    os.environ.pop(ENV_VAR, None)


_VALGRIND_LINE = re.compile(r"^==\d+== ?(.*)$")


def _errors(text):
    """The report's lines that are errors: valgrind's "Warning:" blocks (a large
    allocation, an unknown ioctl) are not; every other line of a report is (the wrapper
    shows only the leak kinds it counts as errors)."""
    out, in_warning = [], False
    for line in text.splitlines():
        m = _VALGRIND_LINE.match(line)
        body = m.group(1) if m else line
        if body.startswith("Warning:"):
            in_warning = True
            continue
        if in_warning and m and body.startswith("   "):
            continue
        in_warning = False
        if body.strip():
            out.append(line)
    return out


def reports():
    """[(log path, text)] for every log of this process's programs that holds an error."""
    d = _state["dir"]
    if d is None or _state["pid"] != os.getpid() or not os.path.isdir(d):
        return []
    found = []
    for name in sorted(os.listdir(d)):
        if not name.startswith(LOG_PREFIX):
            continue
        path = os.path.join(d, name)
        with open(path, "rb") as f:
            text = f.read().decode("utf-8", "replace")
        if _errors(text):
            found.append((path, text))
    return found


def _at_exit():
    if _state["dir"] is None or _state["pid"] != os.getpid():
        return
    found = reports()
    if not found:
        shutil.rmtree(_state["dir"], ignore_errors=True)
        return
    sys.stdout.flush()
    for path, text in found[:SHOWN]:
        print("# a program run by this test left a memcheck or sanitizer report: %s" % path)
        for line in text.splitlines()[:200]:
            print("#   " + line)
    print("# %d report(s) in all; exiting with status %d for them (logs kept in %s)"
          % (len(found), EXIT_STATUS, _state["dir"]))
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(EXIT_STATUS)


atexit.register(_at_exit)
