# SPDX-License-Identifier: GPL-3.0-or-later
"""Real libpam for the tests, bench and demo: runs tests/pam/pam_driver on a private PAM
confdir, answers the conversation from Python, prepares a temporary twofa environment
(config, member store, service files) around the Twilio simulator (harness.sim) and
captures syslog in a private mount namespace.

    sim = Sim()                                   # harness.sim (stopped at exit)
    env = Env(sim, config={"max_tries": "3"})     # temp dir, twofa.conf, empty members.db
    env.add_member("alice", "pw", "+14155550123")
    env.service("sshd", ["auth required %s" % env.twofa_module_args()])
    run = run_pam(env, "sshd", "alice", ["auth", "acct"],
                  answers=["pw", lambda kind, text, run: sim.last_code("+14155550123")])
    run.code("auth") == "PAM_SUCCESS"

Answers: a list (consumed one per prompt; an entry may itself be a callable) or a
callable(kind, text, run) called per prompt. An answer is a str (sent as the text),
RawAnswer(bytes) (sent byte for byte), None (a NULL resp), FAIL (the conversation fails)
or NORESP (the conversation returns no resp array). A list that runs out answers FAIL.
Module path: $TWOFA_PAM_MODULE, else $TWOFA_BUILDDIR/pam_twofa/.libs/pam_twofa.so; the
server it starts: $TWOFA_SERVER, else $TWOFA_BUILDDIR/server/twofa-server, through
harness.sanitizer when the variant checks it ($TWOFA_SERVER_WRAPPER, $TWOFA_SERVER_ENV).
$TWOFA_TRANSPORT=daemon makes module_words() (so Env.twofa_line) reach a twofad instead.
$TWOFA_PAM_WRAPPER (e.g. "valgrind --error-exitcode=99 -q") prefixes every driver run.
$TWOFA_TEST_BACKEND=ldap (default gdbm) puts every Env's members in a throwaway slapd
(harness.slapd) instead of members.db, so that one suite runs against either member store
(tests/*/ldap/*.sh run the core suites so); BACKEND says which, Env.backend too.
"""

import atexit
import json
import os
import re
import shlex
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time

from harness import sanitizer
from harness.paths import BUILDDIR, PYTHON, SRCDIR

DRIVER = os.path.join(BUILDDIR, "tests", "pam", "pam_driver")
MKMEMBER = os.path.join(BUILDDIR, "tests", "pam", "mkmember")
DEVLOG_NS = os.path.join(SRCDIR, "tests", "pam", "devlog_ns.py")

FAIL = object()    # answer: the conversation returns PAM_CONV_ERR
NORESP = object()  # answer: the conversation returns PAM_SUCCESS without a resp array

PROMPT_KINDS = ("PROMPT_ECHO_OFF", "PROMPT_ECHO_ON")
MESSAGE_KINDS = PROMPT_KINDS + ("ERROR_MSG", "TEXT_INFO")


def module_path():
    """Absolute path of the built pam_twofa.so, or None when it is not built."""
    p = os.environ.get("TWOFA_PAM_MODULE") or os.path.join(
        BUILDDIR, "pam_twofa", ".libs", "pam_twofa.so")
    return os.path.abspath(p) if os.path.exists(p) else None


def real_server_path():
    """Absolute path of the built twofa-server ($TWOFA_SERVER overrides)."""
    p = os.environ.get("TWOFA_SERVER") or os.path.join(BUILDDIR, "server", "twofa-server")
    return os.path.abspath(p)


def server_path():
    """The module's server= argument: the built twofa-server, or the script that runs it
    under the variant's memcheck or sanitizer options (harness.sanitizer)."""
    return sanitizer.server(real_server_path())


def module_with_server():
    """'/abs/pam_twofa.so server=/abs/twofa-server': a module line's start for tests that
    give config= themselves."""
    return "%s server=%s" % (module_path(), server_path())


# The transport the module lines of module_words() take: "call" (the default: the module
# starts the built server per PAM call) or "daemon" ($TWOFA_TRANSPORT=daemon: one twofad per
# config, started on it at first use and stopped at exit; the lines say daemon=yes socket=).
TRANSPORT = os.environ.get("TWOFA_TRANSPORT", "call")
if TRANSPORT not in ("call", "daemon"):
    raise RuntimeError("TWOFA_TRANSPORT=%s: call or daemon" % TRANSPORT)
_twofads = {}

# The member store every Env uses unless told otherwise: "gdbm" (members.db in the env's
# dir) or "ldap" (a harness.slapd.Slapd of the env's own, the shipped schema and access
# rules; the module's server reads as ldap_bind_dn, the CLI writes as ldap_admin_bind_dn).
BACKEND = os.environ.get("TWOFA_TEST_BACKEND", "gdbm")
if BACKEND not in ("gdbm", "ldap"):
    raise RuntimeError("TWOFA_TEST_BACKEND=%s: gdbm or ldap" % BACKEND)


def transport_daemon(config_path):
    """The harness.daemon.Twofad serving config_path under TWOFA_TRANSPORT=daemon (started
    at the first call), or None for the per-call transport."""
    if TRANSPORT != "daemon":
        return None
    if config_path not in _twofads:
        from harness.daemon import Twofad
        _twofads[config_path] = Twofad(config_path).start()
    return _twofads[config_path]


def module_words(config_path):
    """The arguments every test's module line starts with: its config and the built
    server (the installed default is pkglibexecdir's); under TWOFA_TRANSPORT=daemon also
    daemon=yes and the socket of the twofad that serves that config."""
    words = "config=%s server=%s" % (config_path, server_path())
    d = transport_daemon(config_path)
    return words if d is None else "%s daemon=yes socket=%s" % (words, d.socket)


# -- the driver's line protocol ----------------------------------------------------------

_UNESCAPE = {"\\": "\\", "n": "\n", "r": "\r", "t": "\t", '"': '"'}


def unescape(s):
    """Decodes the driver's escapes (\\\\ \\n \\r \\t \\" \\xHH)."""
    out, i = [], 0
    while i < len(s):
        c = s[i]
        if c == "\\" and i + 1 < len(s):
            n = s[i + 1]
            if n == "x" and i + 4 <= len(s):
                out.append(chr(int(s[i + 2:i + 4], 16)))
                i += 4
                continue
            out.append(_UNESCAPE.get(n, n))
            i += 2
            continue
        out.append(c)
        i += 1
    return "".join(out)


def escape(s):
    """Encodes an answer for an ANSWER line (one line, any byte but NUL survives)."""
    out = []
    for c in s:
        if c == "\\":
            out.append("\\\\")
        elif c == "\n":
            out.append("\\n")
        elif c == "\r":
            out.append("\\r")
        elif c == "\t":
            out.append("\\t")
        elif ord(c) < 0x20 or ord(c) == 0x7f:
            out.append("\\x%02x" % ord(c))
        else:
            out.append(c)
    return "".join(out)


RESULT_LINE = re.compile(r'^RESULT op=(\S+) code=(\S+) \((-?\d+)\) msg="(.*)"$')
_ITEMS = re.compile(r'^ITEMS op=(\S+) user="(.*)" authtok=(set|unset)$')


class Result:
    """One PAM call: op, code name (e.g. "PAM_SUCCESS"), number, pam_strerror text, and the
    PAM_USER / whether PAM_AUTHTOK was set afterwards."""

    def __init__(self, op, name, number, msg):
        self.op, self.name, self.number, self.msg = op, name, number, msg
        self.user, self.authtok_set = None, None

    def __repr__(self):
        return "Result(%s=%s)" % (self.op, self.name)


class PamRun:
    """What one driver run did: results (one per op that ran), transcript (every
    conversation message as (kind, text), answers as ("ANSWER", text|None|"<FAIL>"|...)),
    the raw stdout lines, stderr, exit status and whether it printed END."""

    def __init__(self):
        self.results, self.transcript, self.lines = [], [], []
        self.stderr, self.returncode, self.ended, self.timed_out = "", None, False, False

    def result(self, op):
        for r in self.results:
            if r.op == op:
                return r
        return None

    def code(self, op):
        """Code name of the first run of op, or None if it did not run."""
        r = self.result(op)
        return r.name if r else None

    def codes(self):
        return [r.name for r in self.results]

    def messages(self, kinds=MESSAGE_KINDS):
        return [(k, t) for k, t in self.transcript if k in kinds]

    def prompts(self):
        return self.messages(PROMPT_KINDS)

    def texts(self, kinds=MESSAGE_KINDS):
        return [t for k, t in self.messages(kinds)]

    @property
    def clean_exit(self):
        return self.returncode == 0 and self.ended and not self.timed_out

    def describe(self):
        """Multi-line summary for a TAP diagnostic."""
        out = ["exit=%r ended=%r timed_out=%r" % (self.returncode, self.ended, self.timed_out)]
        out += ["%s %r" % (k, t) for k, t in self.transcript]
        out += ["%s %s %s" % (r.op, r.name, r.msg) for r in self.results]
        if self.stderr.strip():
            out += ["stderr: " + l for l in self.stderr.strip().splitlines()[-15:]]
        return "\n".join(out)


class RawAnswer:
    """An answer given as bytes (non-UTF-8 too): every byte >= 0x7f or < 0x20 goes as \\xHH,
    which escape() never produces for the bytes >= 0x80 of a str."""

    def __init__(self, data):
        self.data = bytes(data)

    def wire(self):
        out = []
        for b in self.data:
            if b == 0x5c:
                out.append("\\\\")
            elif b < 0x20 or b >= 0x7f:
                out.append("\\x%02x" % b)
            else:
                out.append(chr(b))
        return "".join(out)


def _answer_line(answer):
    if isinstance(answer, RawAnswer):
        return "ANSWER " + answer.wire(), repr(answer.data)
    if answer is FAIL:
        return "FAIL", "<FAIL>"
    if answer is NORESP:
        return "NORESP", "<NORESP>"
    if answer is None:
        return "NULL", None
    return "ANSWER " + escape(str(answer)), str(answer)


def run_pam(env, service, user, ops, answers=(), rhost=None, tty=None, ruser=None,
            silent=False, disallow_null_authtok=False, stop_on_fail=False, timeout=60,
            syslog=None, wrapper=None, driver=DRIVER):
    """Runs ops (e.g. ["auth", "acct"]) on one PAM handle for service in env's confdir.
    user None starts PAM without a user (the stack prompts for one). syslog: a
    SyslogCapture to run the driver with /dev/log bound to. driver: another copy of
    pam_driver (e.g. a setuid one). Returns a PamRun."""
    argv = [driver, "--confdir", env.confdir, "--service", service]
    argv += ["--no-user"] if user is None else ["--user", user]
    for flag, value in (("--rhost", rhost), ("--tty", tty), ("--ruser", ruser)):
        if value is not None:
            argv += [flag, value]
    if silent:
        argv.append("--silent")
    if disallow_null_authtok:
        argv.append("--disallow-null-authtok")
    if stop_on_fail:
        argv.append("--stop-on-fail")
    for op in ops:
        argv += ["--op", op]
    if wrapper is None:
        wrapper = shlex.split(os.environ.get("TWOFA_PAM_WRAPPER", ""))
    argv = list(wrapper) + argv
    if syslog is not None:
        argv = syslog.wrap(argv)

    run = PamRun()
    pending = list(answers) if not callable(answers) else None
    proc = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, bufsize=1)
    watchdog = threading.Timer(timeout, lambda: (setattr(run, "timed_out", True), proc.kill()))
    watchdog.start()
    err_chunks = []
    err_reader = threading.Thread(target=lambda: err_chunks.append(proc.stderr.read()))
    err_reader.start()
    current = None
    try:
        for raw in proc.stdout:
            line = raw.rstrip("\n")
            run.lines.append(line)
            kind, _, rest = line.partition(" ")
            if kind in MESSAGE_KINDS:
                text = unescape(rest)
                run.transcript.append((kind, text))
                if kind in PROMPT_KINDS:
                    if pending is not None:
                        answer = pending.pop(0) if pending else FAIL
                    else:
                        answer = answers
                    if callable(answer):
                        answer = answer(kind, text, run)
                    wire, shown = _answer_line(answer)
                    run.transcript.append(("ANSWER", shown))
                    try:
                        proc.stdin.write(wire + "\n")
                        proc.stdin.flush()
                    except BrokenPipeError:
                        pass
            elif kind == "RESULT":
                m = RESULT_LINE.match(line)
                if m:
                    current = Result(m.group(1), m.group(2), int(m.group(3)), unescape(m.group(4)))
                    run.results.append(current)
            elif kind == "ITEMS":
                m = _ITEMS.match(line)
                if m and current is not None:
                    current.user = unescape(m.group(2))
                    current.authtok_set = m.group(3) == "set"
            elif line == "END":
                run.ended = True
        try:
            proc.stdin.close()
        except BrokenPipeError:
            pass
        run.returncode = proc.wait()
    finally:
        watchdog.cancel()
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        err_reader.join()
    run.stderr = "".join(c for c in err_chunks if c)
    return run


# -- the environment ---------------------------------------------------------------------

def _write_private(path, text, mode=0o600):
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_NOFOLLOW, mode)
    with os.fdopen(fd, "w") as f:
        f.write(text)
    os.chmod(path, mode)


class Env:
    """A private twofa world in a 0700 temp dir under /tmp: twofa.conf (0600) made of the
    simulator's fragment, members_db/state_db inside the dir and extra keys; an empty
    members.db; PAM service files in DIR/pam.d. Removed by cleanup() or at exit.
    backend (default BACKEND): "ldap" keeps the members in a slapd of the env's own
    (self.slapd) instead: twofa.conf says store = ldap with its ldap_* keys (StartTLS,
    both identities), state.db stays in the dir (state is per host)."""

    def __init__(self, sim=None, config=None, init_store=True, prefix="twofa-pam-", backend=None,
                 slapd_options=None):
        self.sim = sim
        self.slapd_options = slapd_options or {}  # for harness.slapd.Slapd, e.g. enrol=True
        self.backend = backend or BACKEND
        self.dir = tempfile.mkdtemp(prefix=prefix, dir="/tmp")
        os.chmod(self.dir, 0o700)
        self.confdir = os.path.join(self.dir, "pam.d")
        os.mkdir(self.confdir, 0o700)
        self.dbdir = os.path.join(self.dir, "db")
        self.members_db = os.path.join(self.dbdir, "members.db")
        self.state_db = os.path.join(self.dbdir, "state.db")
        self.config_path = os.path.join(self.dir, "twofa.conf")
        # Members are hashed with the cheapest Argon2id limits (mkmember's default), and
        # the module is told the same, so it does not re-hash at every login.
        self.config = {"password_strength": "interactive"}
        self._closed = False
        self.slapd = None
        # libpam falls back to "other" for an unknown service: make that fail closed here.
        self.service("other", ["%s required pam_deny.so" % k
                               for k in ("auth", "account", "password", "session")])
        atexit.register(self.cleanup)
        if self.backend == "ldap":
            self._start_directory()
        elif self.backend != "gdbm":
            raise ValueError("backend %r: gdbm or ldap" % self.backend)
        self.write_config(config or {})
        if self.backend == "ldap":
            os.makedirs(self.dbdir, 0o700, exist_ok=True)  # state.db's directory
        elif init_store:
            os.mkdir(self.dbdir, 0o700)
            self._mkmember(["--init"])

    def _start_directory(self):
        from harness import slapd
        why = slapd.available()
        if why:
            raise RuntimeError("TWOFA_TEST_BACKEND=ldap: " + why)
        self.slapd = slapd.Slapd(**self.slapd_options)
        run_dir = os.path.join(self.dir, "ldap-run")  # dead-server memory, not /run/twofa
        os.mkdir(run_dir, 0o700)
        keys = self.slapd.twofa_keys(tls="starttls")
        keys.update(ldap_run_dir=run_dir, members_db=None)
        self.config.update(keys)

    @property
    def gdbm(self):
        return self.backend == "gdbm"

    def ldap_secrets(self):
        """The directory passwords twofa.conf holds (none under gdbm): for leak checks."""
        return [self.slapd.login_pw, self.slapd.admin_pw, self.slapd.root_pw] if self.slapd else []

    def fresh(self):
        """Before a case: the simulator reset (no verifications, faults or outbox) and no
        state.db (no sends, failures or lockouts counted yet)."""
        if self.sim is not None:
            self.sim.reset()
        if os.path.exists(self.state_db):
            os.unlink(self.state_db)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.cleanup()

    def cleanup(self):
        if self._closed:
            return
        self._closed = True
        if os.environ.get("TWOFA_KEEP_PAM_DIR"):
            sys.stderr.write("pam test dir kept: %s\n" % self.dir)
        else:
            shutil.rmtree(self.dir, ignore_errors=True)
        if self.slapd is not None:
            self.slapd.close()

    def write_config(self, extra=None, raw=None):
        """(Re)writes twofa.conf: simulator fragment, store paths, then extra keys (a dict;
        a value None drops the key). raw replaces the whole text (for error tests)."""
        if raw is None:
            self.config.update(extra or {})
            lines = [self.sim.fragment().rstrip("\n")] if self.sim else []
            keys = {"members_db": self.members_db, "state_db": self.state_db}
            keys.update(self.config)
            lines += ["%s = %s" % (k, v) for k, v in keys.items() if v is not None]
            raw = "\n".join(lines) + "\n"
        _write_private(self.config_path, raw)

    def twofa_module_args(self, args="", module=None):
        """'/abs/pam_twofa.so config=DIR/twofa.conf ARGS' for a service line."""
        module = module or module_path()
        if module is None:
            raise RuntimeError("pam_twofa.so is not built (set TWOFA_PAM_MODULE)")
        return ("%s %s %s" % (module, module_words(self.config_path), args)).rstrip()

    def twofa_line(self, args="", kind="auth", control="required"):
        return "%s %s %s" % (kind, control, self.twofa_module_args(args))

    def service(self, name, lines):
        """Writes DIR/pam.d/NAME from lines (strings, e.g. "auth required pam_permit.so")."""
        if "/" in name or name in ("", ".", ".."):
            raise ValueError("bad service name %r" % name)
        path = os.path.join(self.confdir, name)
        _write_private(path, "".join(l.rstrip("\n") + "\n" for l in lines), 0o644)
        return path

    def _mkmember(self, args, stdin="", db_args=None, ok_codes=(0,)):
        if db_args is None:
            db_args = ["--db", self.members_db] if self.gdbm else ["--config", self.config_path]
        r = subprocess.run([MKMEMBER] + db_args + args, input=stdin, text=True,
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        if r.returncode not in ok_codes:
            raise RuntimeError("mkmember %s failed: %s" % (" ".join(args), r.stderr.strip()))
        return r

    def member(self, user, password=None):
        """The stored record as a dict of strings (hash shown only as its scheme), or None
        when user is not enrolled. With password, also "password": "ok" or "wrong"."""
        args = ["--show", user] + (["--check-password"] if password is not None else [])
        r = self._mkmember(args, "" if password is None else password + "\n", ok_codes=(0, 3))
        if r.returncode == 3:
            return None
        return dict(l.split(" ", 1) for l in r.stdout.splitlines() if " " in l)

    def state(self, user):
        """The user's state.db entry (failures, locked_until, sends, last login, grace)."""
        r = self._mkmember(["--show-state", user], db_args=["--state-db", self.state_db])
        return json.loads(r.stdout)

    def add_member(self, user, password, phone, country="US", channel="sms", status="active",
                   strength="interactive", email=None, replace=False, totp=None):
        """Enrols user in this env's member store (password hashed with the password unit;
        None: a member without a twofa password; phone "" and country "": without a phone).
        Under ldap the user gets an inetOrgPerson entry first, as on a site where twofa
        adds its class to the existing user (twofa-enroll add, without one, makes the
        minimal entry itself)."""
        args = ["--user", user, "--phone", phone, "--country", country, "--channel", channel,
                "--status", status, "--strength", strength]
        if password is None:
            args.append("--no-password")
        if email is not None:
            args += ["--email", email]
        if replace:
            args.append("--replace")
        if totp is not None:
            args += ["--totp", "%s:%s" % totp]  # (entity identity, factor sid)
        if self.slapd is not None:
            self._ldap_user(user)
        self._mkmember(args, "" if password is None else password + "\n")

    def _ldap_user(self, user):
        if not self.slapd.search(base=self.slapd.user_dn(user), scope="base", attrs=["1.1"]):
            self.slapd.add_user(user)


# -- syslog capture ------------------------------------------------------------------------

_SYSLOG_LINE = re.compile(r"^<(\d{1,3})>(.*)$", re.S)
# glibc's header after the priority: "Mmm dd hh:mm:ss ident[pid]: message"
_SYSLOG_BODY = re.compile(r"^\w{3} [ \d]\d \d\d:\d\d:\d\d ([^:\[ ]+)(?:\[(\d+)\])?: (.*)$", re.S)
FACILITIES = {0: "kern", 1: "user", 4: "auth", 10: "authpriv", 3: "daemon"}
SEVERITIES = ["emerg", "alert", "crit", "err", "warning", "notice", "info", "debug"]


class SyslogCapture:
    """Receives what the driver (and the modules it loads) send to /dev/log. This machine
    has no /dev/log, and the real /dev must never change: the driver runs in a private
    mount namespace where a tmpfs covers /dev, every host /dev entry is bind-mounted back
    into it, and a datagram socket in the test dir is bind-mounted on /dev/log."""

    def __init__(self, env):
        self.dir = os.path.join(env.dir, "syslog")
        os.mkdir(self.dir, 0o700)
        self.path = os.path.join(self.dir, "log.sock")
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.sock.bind(self.path)
        self.sock.settimeout(0.2)
        self.records = []
        self._lock = threading.Lock()
        self._stop = False
        # A reader thread keeps the queue short: a sender blocks once it is full.
        self._thread = threading.Thread(target=self._read, daemon=True)
        self._thread.start()

    def _read(self):
        while not self._stop:
            try:
                data = self.sock.recv(65536)
            except socket.timeout:
                continue
            except OSError:
                return
            with self._lock:
                self.records.append(self._parse(data.decode("utf-8", "replace")))

    @staticmethod
    def _parse(raw):
        m = _SYSLOG_LINE.match(raw)
        rec = {"raw": raw, "facility": None, "severity": None, "text": raw,
               "ident": None, "pid": None, "message": raw}
        if m:
            pri = int(m.group(1))
            rec["facility"] = FACILITIES.get(pri >> 3, str(pri >> 3))
            rec["severity"] = SEVERITIES[pri & 7]
            rec["text"] = rec["message"] = m.group(2).rstrip("\n\0")
            b = _SYSLOG_BODY.match(rec["text"])
            if b:
                rec["ident"], rec["message"] = b.group(1), b.group(3)
                rec["pid"] = int(b.group(2)) if b.group(2) else None
        return rec

    def wrap(self, argv):
        """argv run with this capture as /dev/log (used by run_pam(syslog=...))."""
        return ["unshare", "--mount", "--propagation", "private", PYTHON, DEVLOG_NS,
                self.path, self.dir, "--"] + list(argv)

    def lines(self):
        with self._lock:
            return list(self.records)

    def texts(self):
        return [r["text"] for r in self.lines()]

    def clear(self):
        with self._lock:
            self.records = []

    def wait_for(self, pattern, timeout=3.0):
        """First record whose text matches the regex pattern, waiting up to timeout."""
        rx = re.compile(pattern)
        deadline = time.monotonic() + timeout
        while True:
            for rec in self.lines():
                if rx.search(rec["text"]):
                    return rec
            if time.monotonic() >= deadline:
                return None
            time.sleep(0.02)

    def close(self):
        self._stop = True
        self.sock.close()
        self._thread.join()
