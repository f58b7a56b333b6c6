# SPDX-License-Identifier: GPL-3.0-or-later
"""twofa-enroll for the tests: runs the built CLI against a private twofa world
(harness.pam's Env: temp dir, root-owned 0600 twofa.conf with the simulator's
credentials, members_db/state_db inside the dir, or under $TWOFA_TEST_BACKEND=ldap a slapd
of its own, the CLI writing as ldap_admin_bind_dn) and the Twilio simulator (harness.sim).

    sim = Sim()
    cli = Cli(sim, {"max_tries": "3"})
    r = cli.run("list", "--json")                     # -> Run(rc, out, err)
    r = cli.enroll("alice", "+447700900123", "GB", ["pw", "pw", CODE])
    r = run_cli(config_path, "list")                  # the same, on any twofa.conf

Answers for a flow are lines written to the CLI's stdin one at a time: a str, CODE (the
newest code sent to the number, once a new one is in the outbox), AfterSend(line) (line,
once a new code was sent), or a callable(cli) that returns a line (None: write nothing).
Every secret seen (passwords written, codes read, credentials) is remembered;
cli.leaks(text) lists those found in text.
"""

import json
import os
import shlex
import signal
import subprocess
import time

from harness.paths import BUILDDIR
from harness.pam import Env

CLI = os.environ.get("TWOFA_CLI") or os.path.join(BUILDDIR, "cli", "twofa-enroll")

CODE = object()  # answer: the newest code sent to the number of the flow


class AfterSend:
    """Answer: once a new code was sent to the flow's number, write line (a str, or a
    callable(cli) returning one)."""

    def __init__(self, line):
        self.line = line


class Run:
    def __init__(self, rc, out, err):
        self.rc, self.out, self.err = rc, out, err

    def json(self):
        return json.loads(self.out)

    def describe(self):
        return "rc=%r\nstdout:\n%s\nstderr:\n%s" % (self.rc, self.out[-3000:], self.err[-3000:])

    def one_line_error(self):
        """stderr is exactly one line starting 'twofa-enroll: ' (the rule for errors)."""
        lines = [l for l in self.err.splitlines() if "warning:" not in l]
        return len(lines) == 1 and lines[0].startswith("twofa-enroll: ")


def cli_argv(config, args):
    """twofa-enroll --config CONFIG ARGS, prefixed by $TWOFA_CLI_WRAPPER
    (scripts/check --variant=valgrind: memcheck)."""
    wrapper = shlex.split(os.environ.get("TWOFA_CLI_WRAPPER", ""))
    return wrapper + [CLI, "--config", config] + list(args)


def run_cli(config, *args, input=None, env=None, timeout=120, preexec=None):
    """Runs twofa-enroll on CONFIG (stdin: input, else /dev/null); returns a Run."""
    e = dict(os.environ)
    e.pop("NO_COLOR", None)
    e.update(env or {})
    p = subprocess.run(cli_argv(config, args), input=input, stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE, text=True, env=e, timeout=timeout,
                       preexec_fn=preexec, stdin=None if input is not None else subprocess.DEVNULL)
    return Run(p.returncode, p.stdout, p.stderr)


class Cli:
    def __init__(self, sim, config=None, prefix="twofa-cli-", backend=None):
        self.sim = sim
        self.env = Env(sim, config=config, init_store=False, prefix=prefix, backend=backend)
        self.backend = self.env.backend
        self.config_path = self.env.config_path
        self.members_db = self.env.members_db
        self.state_db = self.env.state_db
        self.secrets = set()
        if sim is not None:
            self.secrets.update(v for k, v in sim.creds.items())
        self.secrets.update(self.env.ldap_secrets())

    def cleanup(self):
        self.env.cleanup()

    def write_config(self, extra=None, raw=None):
        self.env.write_config(extra, raw)

    def argv(self, args, config=None):
        return cli_argv(config if config is not None else self.config_path, args)

    def run(self, *args, input=None, config=None, env=None, timeout=120, preexec=None):
        return run_cli(config if config is not None else self.config_path, *args, input=input,
                       env=env, timeout=timeout, preexec=preexec)

    def run_unwritable(self, *args, timeout=60):
        """Runs twofa-enroll ARGS once with stdout on /dev/full and once on a pipe whose
        reader is gone (the codes' print must fail after their store); yields (what, rc,
        stderr) for each."""
        for what in ("/dev/full", "a closed pipe"):
            if what == "/dev/full":
                f = open("/dev/full", "w")
                sink = f.fileno()
            else:
                rd, sink = os.pipe()
                os.close(rd)
            try:
                p = subprocess.run(self.argv(args), stdout=sink, stderr=subprocess.PIPE,
                                   stdin=subprocess.DEVNULL, text=True, timeout=timeout)
            finally:
                f.close() if what == "/dev/full" else os.close(sink)
            yield what, p.returncode, p.stderr

    def popen(self, *args, env=None):
        e = dict(os.environ)
        e.update(env or {})
        return subprocess.Popen(self.argv(args), stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, text=True, env=e)

    @staticmethod
    def answer(proc, line):
        """Writes line to proc's stdin; False when proc has ended or stopped reading."""
        if proc.poll() is not None:
            return False
        try:
            proc.stdin.write(line + "\n")
            proc.stdin.flush()
        except BrokenPipeError:
            return False
        return True

    def wait_code(self, to, before, proc=None, timeout=15):
        """The outbox entry after the first `before` ones for `to` (waits for it), or None
        when proc ended or nothing came."""
        deadline = time.time() + timeout
        while time.time() < deadline:
            box = self.sim.outbox(to)
            if len(box) > before:
                self.secrets.add(box[-1]["code"])
                return box[-1]
            if proc is not None and proc.poll() is not None:
                return None
            time.sleep(0.05)
        return None

    def flow(self, args, to, answers, timeout=60, after=None):
        """Runs a command whose prompts read stdin lines; answers as in the module doc.
        after(proc) runs once every answer was written (e.g. to send a signal)."""
        sent = len(self.sim.outbox(to)) if to else 0
        proc = self.popen(*args)
        try:
            for a in answers:
                if a is CODE or isinstance(a, AfterSend):
                    entry = self.wait_code(to, sent, proc)
                    if entry is None:
                        break
                    sent = len(self.sim.outbox(to))
                    line = entry["code"]
                    if isinstance(a, AfterSend):
                        line = a.line(self) if callable(a.line) else a.line
                elif callable(a):
                    line = a(self)
                    if line is None:
                        continue
                else:
                    line = a
                    if len(a) >= 6 and a != "resend":
                        self.secrets.add(a)  # a password
                if not self.answer(proc, line):
                    break
            if after is not None:
                after(proc)
            out, err = proc.communicate(timeout=timeout)
        except Exception:
            proc.kill()
            proc.communicate()
            raise
        return Run(proc.returncode, out, err)

    def enroll(self, user, phone, country, answers, extra=(), to=None):
        return self.flow(["add", user, "--phone", phone, "--country", country] + list(extra),
                         to or phone, answers)

    def leaks(self, text):
        return sorted(s for s in self.secrets if s and s in text)

    def member(self, user, password=None):
        """The stored record (tests/pam/mkmember), None when not enrolled or no store."""
        if self.env.gdbm and not os.path.exists(self.members_db):
            return None
        return self.env.member(user, password)

    def state(self, user):
        return self.env.state(user)

    def show(self, user):
        r = self.run("show", user, "--json")
        return r.json() if r.rc == 0 else None


def wait_for(cond, timeout=10):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if cond():
            return True
        time.sleep(0.05)
    return False


def sigint(proc):
    proc.send_signal(signal.SIGINT)
