# SPDX-License-Identifier: GPL-3.0-or-later
"""The end-to-end tests' world: the real sshd, ssh, sudo and pamtester load the built
pam_twofa.so through PAM service files made from the recipes in etc/, against the Twilio
simulator (harness.sim) and a twofa environment (harness.pam's Env).

Everything a test adds to the system is uniquely named and registered for removal at exit,
also when the test dies (atexit, SIGTERM/SIGINT/SIGHUP turned into SystemExit):
/etc/pam.d/twofa-e2e-*, /etc/sudoers.d/twofa-e2e-*, a throwaway user (userdel -r) and the
processes started (stopped by PID). check_system_unchanged() compares the /etc/pam.d and
/etc/sudoers.d listings (and the user and group names) with the ones taken at import.
"""

import atexit
import json
import os
import pwd
import re
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile

from harness.paths import BUILDDIR, PYTHON, SRCDIR
from harness.pam import MKMEMBER, module_path, module_words
from harness.tap import Tap

ASKPASS = os.path.join(SRCDIR, "tests", "e2e", "askpass.py")
ENROLL = os.path.join(BUILDDIR, "cli", "twofa-enroll")
ETC = os.path.join(SRCDIR, "etc")
PAM_D = "/etc/pam.d"
SUDOERS_D = "/etc/sudoers.d"
# The phone the throwaway member gets codes on (the simulator's outbox is read by it).
PHONE = "+14155550123"


class Prerequisite(Exception):
    """A program or privilege the suite needs is missing: a failure, never a skip."""


# -- cleanup -------------------------------------------------------------------------------

_cleanups = []


def on_cleanup(fn, *args):
    """Runs fn(*args) at exit (last registered first), even when the test fails or is
    killed by SIGTERM/SIGINT/SIGHUP."""
    _cleanups.append((fn, args))


def _run_cleanups():
    while _cleanups:
        fn, args = _cleanups.pop()
        try:
            fn(*args)
        except Exception as e:  # keep cleaning up: one leftover must not cause others
            sys.stderr.write("e2e cleanup %s%r failed: %s\n" % (fn.__name__, args, e))


def _exit_on_signal(signum, frame):
    raise SystemExit(128 + signum)


atexit.register(_run_cleanups)
for _sig in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
    signal.signal(_sig, _exit_on_signal)


def _listing():
    """Name -> content digest of each entry of /etc/pam.d and /etc/sudoers.d, and the
    user names of /etc/passwd."""
    import hashlib
    out = {}
    for d in (PAM_D, SUDOERS_D):
        entries = {}
        for name in os.listdir(d):
            try:
                with open(os.path.join(d, name), "rb") as f:
                    entries[name] = hashlib.sha256(f.read()).hexdigest()
            except OSError:  # removed meanwhile, or not a file
                entries[name] = None
        out[d] = entries
    for path, what in (("/etc/passwd", "users"), ("/etc/group", "groups")):
        with open(path) as f:
            out["%s %s" % (path, what)] = {l.split(":", 1)[0]: None for l in f}
    return out


_LISTING_AT_START = _listing()
_created = {PAM_D: set(), SUDOERS_D: set(), "/etc/passwd users": set(),
            "/etc/group groups": set()}
# Other twofa tests running in parallel add and remove entries with these prefixes at any
# moment (each checks its own); every other entry must stay exactly as it was.
CONCURRENT_PREFIXES = ("twofa", "tfe2e")


def check_system_unchanged(tap):
    """TAP, after cleanup: what this test added to /etc/pam.d, /etc/sudoers.d,
    /etc/passwd and /etc/group is gone, every entry present at the start is still there
    with the same content, and nothing else appeared (but for concurrent tests' uniquely
    named ones)."""
    _run_cleanups()
    now = _listing()
    for what, before in _LISTING_AT_START.items():
        left = sorted(_created[what] & set(now[what]))
        before = {n: v for n, v in before.items() if not n.startswith(CONCURRENT_PREFIXES)}
        after = {n: v for n, v in now[what].items() if not n.startswith(CONCURRENT_PREFIXES)}
        removed = sorted(set(before) - set(after))
        changed = sorted(n for n in set(before) & set(after) if before[n] != after[n])
        added = sorted(set(after) - set(before))
        tap.ok(not (left or removed or changed or added),
               "%s as before the test (%d entries of its own added and removed)"
               % (what, len(_created[what])),
               "left behind: %r\nremoved: %r\nchanged: %r\nadded: %r"
               % (left, removed, changed, added))


# -- prerequisites -----------------------------------------------------------------------

def require(tap, programs):
    """Fails (not ok + exit 1) with a clear message when not root or a program is missing;
    returns the module path."""
    missing = [p for p in programs if not os.access(p, os.X_OK)]
    module = module_path()
    problems = []
    if os.geteuid() != 0:
        problems.append("the e2e tests must run as root (they add PAM services and a user)")
    if missing:
        problems.append("missing programs: %s (Debian: apt-get install openssh-server "
                        "openssh-client sudo pamtester)" % " ".join(missing))
    if module is None:
        problems.append("pam_twofa.so is not built (make first)")
    for p in (MKMEMBER, ENROLL):
        if not os.access(p, os.X_OK):
            problems.append("%s is not built (make check builds it)" % p)
    if problems:
        tap.ok(False, "prerequisites", "\n".join(problems))
        sys.exit(tap.done())
    return module


def run(body, programs):
    """The frame of every e2e test: checks the prerequisites, runs body(tap, module), then
    cleans up and checks that the system is as before. Returns the exit status."""
    tap = Tap()
    module = require(tap, programs)
    try:
        body(tap, module)
    except Prerequisite as e:
        tap.ok(False, "prerequisites", str(e))
    check_system_unchanged(tap)
    return tap.done()


def empty_store(env):
    """An initialised members.db with nobody in it (for the not-enrolled cases)."""
    path = os.path.join(env.dbdir, "empty-members.db")
    if not os.path.exists(path):
        env._mkmember(["--init"], db_args=["--db", path])
    return path


def workdir():
    """A temp dir the throwaway user can read (askpass plans, keys), removed at exit."""
    path = tempfile.mkdtemp(prefix="twofa-e2e-")
    on_cleanup(shutil.rmtree, path, True)
    os.chmod(path, 0o755)
    return path


_fresh_count = [0]


def fresh_case(sim, env, **config):
    """Before a case: no pending verifications or faults in the simulator, a new state.db
    (no sends, failures or lockouts counted yet) and config's keys in twofa.conf."""
    sim.reset()
    _fresh_count[0] += 1
    config.setdefault("state_db", os.path.join(env.dbdir, "state-%d.db" % _fresh_count[0]))
    env.write_config(config)


SANITIZER_REPORT = re.compile(r"ERROR: AddressSanitizer|runtime error:|ERROR: LeakSanitizer")


def check_no_sanitizer_report(tap, what, text):
    """TAP: the program's output has no ASan/UBSan report (a sanitized module may misbehave
    after the outcome a case asserts, e.g. in pam_end)."""
    m = SANITIZER_REPORT.search(text)
    tap.ok(m is None, "no sanitizer report from %s" % what,
           text[max(0, m.start() - 200):m.start() + 3000] if m else None)


def unique(prefix="twofa-e2e-"):
    return prefix + secrets.token_hex(4)


# -- the sanitized module ----------------------------------------------------------------

def sanitizer_runtime(module):
    """The ASan runtime a clang -fsanitize=address pam_twofa.so needs preloaded into an
    unsanitized program (clang does not link it into shared objects), or None for a plain
    build."""
    out = subprocess.run(["nm", "-D", "--undefined-only", module], stdout=subprocess.PIPE,
                         stderr=subprocess.DEVNULL, text=True).stdout
    if "__asan_" not in out:
        return None
    for cc in ("clang", "gcc"):
        if shutil.which(cc):
            for name in ("libclang_rt.asan-x86_64.so", "libasan.so"):
                p = subprocess.run([cc, "-print-file-name=" + name], stdout=subprocess.PIPE,
                                   text=True).stdout.strip()
                if os.path.isabs(p) and os.path.exists(p):
                    return p
    raise Prerequisite("%s is built with AddressSanitizer but no ASan runtime was found "
                       "to preload into the real programs" % module)


def skip_setuid_if_sanitized(tap, module, programs):
    """True (after a TAP skip line) when module is a sanitizer build: set-user-ID programs
    (su, sudo, chfn) cannot load it, since the loader ignores LD_PRELOAD for them."""
    if not sanitizer_runtime(module):
        return False
    tap.n += 1
    print("ok %d # SKIP %s are set-user-ID: the loader ignores LD_PRELOAD, so they cannot "
          "load a sanitized pam_twofa.so (the default variant runs this)" % (tap.n, programs))
    return True


def sanitizer_env(module):
    """Environment additions that let a real (unsanitized) program load the module: the
    runtime preloaded; leaks are not reported since the host programs (sshd, pamtester)
    leak by design at exit, which is not ours to judge."""
    rt = sanitizer_runtime(module)
    if rt is None:
        return {}
    # ASan intercepts crypt(); the real one must be loaded when the runtime starts, or a
    # module that dlopen()s libcrypt later (pam_unix under pamtester) calls address 0.
    preload = [rt] + [p for p in ("/lib/x86_64-linux-gnu/libcrypt.so.1",) if os.path.exists(p)]
    return {"LD_PRELOAD": " ".join(preload), "ASAN_OPTIONS": "detect_leaks=0:abort_on_error=0",
            "UBSAN_OPTIONS": "print_stacktrace=1:halt_on_error=1"}


# -- recipes from etc/ ---------------------------------------------------------------------

_MODULE_WORD = re.compile(r"(?<![\w/.])pam_twofa\.so(?![\w.])")


def with_built_module(path, env, module):
    """The text of PATH (a file in etc/) with only the module path changed: every
    `pam_twofa.so` becomes the built module's absolute path followed by config=ENV's
    twofa.conf and server= the built server."""
    with open(path) as f:
        text = f.read()
    replacement = "%s %s" % (module, module_words(env.config_path))
    new, count = _MODULE_WORD.subn(lambda m: replacement, text)
    if count == 0:
        raise Prerequisite("%s does not name pam_twofa.so" % os.path.relpath(path, SRCDIR))
    return new


def pam_recipe(name, env, module):
    """etc/pam.d/NAME with the built module (with_built_module)."""
    return with_built_module(os.path.join(ETC, "pam.d", name), env, module)


def install_system_file(path, text, mode=0o644):
    """Creates path (which must not exist) and removes it at exit."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, mode)
    on_cleanup(_remove, path)
    if os.path.dirname(path) in _created:
        _created[os.path.dirname(path)].add(os.path.basename(path))
    with os.fdopen(fd, "w") as f:
        f.write(text)
    os.chmod(path, mode)
    return path


def _remove(path):
    if os.path.lexists(path):
        os.unlink(path)


def install_pam_service(recipe, env, module, prefix="twofa-e2e-"):
    """/etc/pam.d/<unique name> from etc/pam.d/RECIPE; returns the service name."""
    service = unique(prefix)
    install_system_file(os.path.join(PAM_D, service), pam_recipe(recipe, env, module))
    return service


# -- a throwaway user ----------------------------------------------------------------------

class ThrowawayUser:
    """A local user with a home and a Unix password, removed (userdel -r) at exit."""

    def __init__(self, password):
        self.name = unique("tfe2e")
        self.password = password
        self.uid = self.home = None
        r = subprocess.run(["useradd", "--create-home", "--shell", "/bin/sh", "--comment",
                            "twofa e2e test", self.name], stderr=subprocess.PIPE, text=True)
        if r.returncode != 0:
            raise Prerequisite("useradd %s: %s" % (self.name, r.stderr.strip()))
        on_cleanup(self.remove)
        _created["/etc/passwd users"].add(self.name)
        _created["/etc/group groups"].add(self.name)  # useradd's user private group
        subprocess.run(["chpasswd"], input="%s:%s\n" % (self.name, password), text=True,
                       check=True)
        pw = pwd.getpwnam(self.name)
        self.uid, self.gid, self.home = pw.pw_uid, pw.pw_gid, pw.pw_dir

    def remove(self):
        # userdel refuses while a process of the user runs (a stuck session or askpass):
        # those processes are this test's, killed one by one by PID.
        for pid in [int(p) for p in os.listdir("/proc") if p.isdigit() and self.uid]:
            try:
                if os.stat("/proc/%d" % pid).st_uid == self.uid:
                    os.kill(pid, signal.SIGKILL)
            except (FileNotFoundError, ProcessLookupError):
                pass
        r = subprocess.run(["userdel", "--remove", self.name], stderr=subprocess.PIPE,
                           text=True)
        if r.returncode not in (0, 12):  # 12: the home could not be removed (done below)
            raise RuntimeError("userdel %s: %s" % (self.name, r.stderr.strip()))
        if self.home and os.path.exists(self.home):
            shutil.rmtree(self.home, ignore_errors=True)


# -- the answering side --------------------------------------------------------------------

class Askpass:
    """An SSH_ASKPASS/SUDO_ASKPASS program answering from a plan (see askpass.py): a small
    shell wrapper per plan, in a directory the throwaway user can read, with a transcript
    file the program appends each prompt to."""

    def __init__(self, sim, user, workdir):
        self.dir = tempfile.mkdtemp(prefix="askpass-", dir=workdir)
        os.chmod(self.dir, 0o755)
        self.ca = os.path.join(self.dir, "ca.pem")
        shutil.copyfile(sim.ca, self.ca)
        os.chmod(self.ca, 0o644)
        # A copy: the user cannot reach a tree under a 0700 folder (a clone in /root).
        self.askpass = os.path.join(self.dir, "askpass.py")
        shutil.copyfile(ASKPASS, self.askpass)
        os.chmod(self.askpass, 0o644)
        self.sim, self.user, self.n = sim, user, 0

    def program(self, password, code, to=PHONE, answers=()):
        """Writes a plan and returns (askpass program path, transcript path). code: "right"
        (the newest code sent to `to`, read from the outbox when the prompt appears),
        "wrong" (that code with its last digit changed) or "none" (the prompt is a failure:
        askpass exits 1). answers: (word, answer) pairs for prompts holding the word, tried
        first (answer None: askpass exits 1)."""
        self.n += 1
        base = os.path.join(self.dir, "plan%d" % self.n)
        transcript = base + ".log"
        plan = {"password": password, "code": code, "to": to, "url": self.sim.url,
                "ca": self.ca, "transcript": transcript, "answers": list(answers)}
        with open(base + ".json", "w") as f:
            json.dump(plan, f)
        open(transcript, "w").close()
        os.chown(transcript, self.user.uid, self.user.gid)
        prog = base + ".sh"
        with open(prog, "w") as f:
            f.write("#!/bin/sh\nexec %s %s %s \"$@\"\n" % (PYTHON, self.askpass, base + ".json"))
        for p in (base + ".json", prog):
            os.chmod(p, 0o755 if p == prog else 0o644)
        return prog, transcript


def prompts(transcript):
    """The prompts askpass was asked, in order."""
    with open(transcript) as f:
        return [json.loads(l)["prompt"] for l in f if l.strip()]


def is_code_prompt(text):
    return "code" in text.lower() and "password" not in text.lower()


def answer_code_prompts(session, sim, code):
    """Answers pamtester's code prompts on a PtySession until pamtester gives its verdict:
    each with the last code sent to PHONE, or with code == "wrong" that code with its
    last digit changed. Returns (code prompts answered, whether a verdict came)."""
    prompts = 0
    while True:
        m = session.expect(r"(?i)(code[^\n]*: ?$)|(pamtester: .*\n)")
        if not m or m.group(2):
            return prompts, m is not None
        prompts += 1
        sent = sim.codes(PHONE)
        answer = sent[-1] if sent else "000000"
        if code == "wrong":
            answer = answer[:-1] + str((int(answer[-1]) + 1) % 10)
        session.send(answer)


def sends(sim):
    return sim.sends(PHONE)


def stop_pid(pid, timeout=5):
    """TERM, then KILL after timeout; reaps the child."""
    try:
        os.kill(pid, signal.SIGTERM)
    except ProcessLookupError:
        return
    import time
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            done, _ = os.waitpid(pid, os.WNOHANG)
        except ChildProcessError:
            return
        if done:
            return
        time.sleep(0.05)
    os.kill(pid, signal.SIGKILL)
    os.waitpid(pid, 0)


class PtySession:
    """A program on a pseudo-terminal of its own (its controlling terminal): expect()
    reads its output until a regex matches, send() types a line."""

    def __init__(self, argv, env):
        import pty
        self.pid, self.fd = pty.fork()
        if self.pid == 0:
            try:
                os.execve(argv[0], argv, env)
            finally:
                os._exit(127)
        on_cleanup(self.close)
        self.output = ""

    def _read(self, timeout):
        import select
        ready, _, _ = select.select([self.fd], [], [], timeout)
        if not ready:
            return None
        try:
            data = os.read(self.fd, 4096)
        except OSError:  # EIO: the program closed the terminal (exited)
            return ""
        return data.decode("utf-8", "replace")

    def expect(self, pattern, timeout=30):
        """The match object once the output since the last match contains pattern; None
        when the program ends or the timeout passes first."""
        import time
        rx = re.compile(pattern)
        deadline = time.monotonic() + timeout
        start = len(self.output)
        while True:
            m = rx.search(self.output, start)
            if m:
                return m
            left = deadline - time.monotonic()
            if left <= 0:
                return None
            data = self._read(left)
            if not data:
                return None
            self.output += data

    def send(self, line):
        os.write(self.fd, (line + "\n").encode())

    def wait(self, timeout=30):
        """Reads everything until the program exits; returns its exit status."""
        while True:
            data = self._read(timeout)
            if data is None:
                # Silent for timeout seconds: stuck at a prompt nobody answers.
                # Stop it rather than wait forever; -1 fails the caller's check.
                stop_pid(self.pid)
                self.pid = None
                os.close(self.fd)
                return -1
            if not data:
                break
            self.output += data
        _, status = os.waitpid(self.pid, 0)
        self.pid = None
        os.close(self.fd)
        return os.waitstatus_to_exitcode(status)

    def close(self):
        if self.pid is not None:
            stop_pid(self.pid)
            self.pid = None
            os.close(self.fd)
