#!/usr/bin/python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""twofa-enroll at a terminal (a pseudo-terminal as controlling tty): prompts on /dev/tty,
passwords not echoed, the progress line with the masked number, Ctrl-C restores the
terminal and stores nothing, and Twilio's own limit of 5 checks."""

import os
import pty
import signal
import sys
import termios
import time

from harness.tap import Tap
from harness.sim import Sim
from harness.cli import CLI, Cli

t = Tap()
sim = Sim()
cli = Cli(sim, {"max_tries": "3"})
NUMBER = "+447400123456"


class Terminal:
    """The CLI on a pty: expect(text) reads until text shows, send(line) types a line."""

    def __init__(self, args, env=None):
        self.pid, self.fd = pty.fork()
        if self.pid == 0:
            e = dict(os.environ)
            e.pop("NO_COLOR", None)
            e.update(env or {})
            os.execve(CLI, [CLI, "--config", cli.config_path] + args, e)
        self.out = b""

    def expect(self, text, timeout=15):
        deadline = time.time() + timeout
        while text.encode() not in self.out and time.time() < deadline:
            try:
                chunk = os.read(self.fd, 4096)
            except OSError:
                break
            if not chunk:
                break
            self.out += chunk
        return text.encode() in self.out

    def echo_off(self):
        return not termios.tcgetattr(self.fd)[3] & termios.ECHO

    def send(self, line):
        os.write(self.fd, line.encode() + b"\n")

    def finish(self):
        while True:
            try:
                chunk = os.read(self.fd, 4096)
            except OSError:
                break
            if not chunk:
                break
            self.out += chunk
        _, status = os.waitpid(self.pid, 0)
        try:
            self.echo_after = bool(termios.tcgetattr(self.fd)[3] & termios.ECHO)
        except termios.error:
            self.echo_after = None
        os.close(self.fd)
        return os.waitstatus_to_exitcode(status)

    @property
    def text(self):
        return self.out.decode(errors="replace")


PW = "tty-secret-pw"
term = Terminal(["add", "alice", "--phone", "07400 123456", "--country", "GB"])
t.ok(term.expect("Password for alice: "), "at a terminal the password is asked for", term.text)
t.ok(term.echo_off(), "echo is off while the password is typed")
term.send(PW)
t.ok(term.expect("Repeat the password: "), "and asked again", term.text)
term.send(PW)
t.ok(term.expect("Sending code by SMS to +44 **** **3456 ... sent"), "the progress line names the masked number",
     term.text)
t.ok(term.expect("Code (or call / sms / resend): "), "then the code is asked for", term.text)
t.ok(not term.echo_off(), "echo is back on for the code")
code = sim.last_code(NUMBER)
term.send(code)
rc = term.finish()
t.ok(rc == 0 and "alice enrolled with +44 **** **3456 (active)" in term.text, "alice is enrolled", term.text)
t.ok(PW not in term.text, "the password never appears on the terminal")
t.ok(cli.member("alice", PW)["password"] == "ok", "the password typed is the one stored")

# Ctrl-C at the password prompt restores echo and stores nothing
term = Terminal(["add", "bob", "--phone", "+447400123457", "--country", "GB"])
term.expect("Password for bob: ")
os.kill(term.pid, signal.SIGINT)
rc = term.finish()
t.ok(rc == 1 and "interrupted" in term.text, "Ctrl-C at the password prompt -> exit 1", term.text)
t.ok(term.echo_after is True, "and echo is on again afterwards", term.echo_after)
t.ok(cli.member("bob") is None, "nothing stored")

# Ctrl-C at the code prompt cancels the pending verification
term = Terminal(["add", "bob", "--phone", "+447400123457", "--country", "GB"])
term.expect("Password for bob: ")
term.send(PW)
term.expect("Repeat the password: ")
term.send(PW)
term.expect("Code (or call / sms / resend): ")
os.kill(term.pid, signal.SIGINT)
rc = term.finish()
st, body, _ = sim.fetch("+447400123457")
t.ok(rc == 1 and cli.member("bob") is None and st == 404, "Ctrl-C at the code prompt -> 1, canceled, nothing stored",
     "%s\n%r %r" % (term.text, st, body))

# Twilio's own limit: more than 5 checks of one verification are refused (60202)
cli.write_config({"max_tries": "10"})
N = "+447400123458"
r = cli.flow(["add", "carol", "--phone", N, "--country", "GB"], N,
             ["pw-carol-tty", "pw-carol-tty"] + ["00000%d" % i for i in range(6)] + ["999999"])
t.ok(r.rc == 65 and "Too many wrong codes" in r.err and cli.member("carol") is None,
     "max_tries 10: the 6th check is refused by Twilio -> 65, nothing stored", r.describe())

cli.cleanup()
sys.exit(t.done())
