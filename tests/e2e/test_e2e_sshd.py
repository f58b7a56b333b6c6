# SPDX-License-Identifier: GPL-3.0-or-later
"""End to end: the real OpenSSH sshd loads pam_twofa.so through the recipes of
etc/pam.d/twofa-sshd (a: password from the twofa store + code, keyboard-interactive) and
etc/pam.d/twofa-sshd-publickey (b: publickey, then the code only; and with enroll=self, a
user who is not enrolled enrols through keyboard-interactive), with the sshd_config
lines of etc/sshd_config.d/twofa-sshd.conf. The real ssh client answers the
keyboard-interactive prompts through SSH_ASKPASS (SSH_ASKPASS_REQUIRE=force, no terminal),
reading the code from the simulator's outbox.

How sshd is made to use a test PAM service: OpenSSH's portable sshd passes its program name
(__progname, the basename of argv[0]) to pam_start() as the service name (Debian 12's
sshd too: see the right-code cases, which get pam_twofa's prompts instead of
/etc/pam.d/sshd's). So sshd runs through a symlink named like the unique
/etc/pam.d/twofa-e2e-<hex> service; by absolute path, since sshd re-executes itself.
Its privilege separation directory /run/sshd must exist: sshd runs in a private mount
namespace with a fresh tmpfs on /run, so the host's /run is never touched.

The client gives PAM one attempt per connection (NumberOfPasswordPrompts=1) so the sends
and prompts of each case can be counted exactly.
"""

import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time

from harness.sim import Sim
from harness.pam import Env
from harness import e2e

SSHD = "/usr/sbin/sshd"
SSH = "/usr/bin/ssh"
SSH_KEYGEN = "/usr/bin/ssh-keygen"
UNSHARE = "/usr/bin/unshare"
STORE_PASSWORD = "store-pw-7Qx"   # the member's twofa password (recipe a)
UNIX_PASSWORD = "unix-pw-3Kd"     # the Unix password (never accepted by these recipes)
MAX_TRIES = 3


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def sshd_config_lines(recipe):
    """The lines of etc/sshd_config.d/twofa-sshd.conf; for recipe b, the recipe (a)
    AuthenticationMethods line commented out and the recipe (b) one enabled, as the file
    tells the admin to do."""
    with open(os.path.join(e2e.ETC, "sshd_config.d", "twofa-sshd.conf")) as f:
        lines = f.read().splitlines()
    if recipe == "b":
        a = [i for i, l in enumerate(lines) if l.startswith("AuthenticationMethods ")]
        b = [i for i, l in enumerate(lines)
             if l.startswith("#AuthenticationMethods publickey,keyboard-interactive")]
        if len(a) != 1 or len(b) != 1:
            raise e2e.Prerequisite("etc/sshd_config.d/twofa-sshd.conf: expected one active "
                                   "AuthenticationMethods line and one commented recipe "
                                   "(b) line")
        lines[a[0]] = "#" + lines[a[0]]
        lines[b[0]] = lines[b[0]][1:]
    return lines


class Sshd:
    """sshd -D -e on 127.0.0.1:free port, started through a symlink named `service`, with
    its own host key and config in workdir. stop() stops it by PID (also at exit)."""

    def __init__(self, workdir, service, recipe, extra_env):
        self.dir = tempfile.mkdtemp(prefix="sshd-", dir=workdir)
        os.chmod(self.dir, 0o700)
        self.hostkey = os.path.join(self.dir, "host_ed25519")
        subprocess.run([SSH_KEYGEN, "-q", "-t", "ed25519", "-N", "", "-f", self.hostkey],
                       check=True)
        self.link = os.path.join(self.dir, service)
        os.symlink(SSHD, self.link)
        self.log = os.path.join(self.dir, "sshd.log")
        self.proc = None
        for _ in range(3):  # another process may take the free port before sshd binds it
            self.port = free_port()
            self.config = os.path.join(self.dir, "sshd_config")
            with open(self.config, "w") as f:
                f.write("\n".join([
                    "# e2e test sshd: only the Port/Listen/keys/logging lines are the "
                    "test's,",
                    "# the rest is etc/sshd_config.d/twofa-sshd.conf",
                    "ListenAddress 127.0.0.1",
                    "Port %d" % self.port,
                    "HostKey %s" % self.hostkey,
                    "PidFile none",
                    "LogLevel VERBOSE",
                    "PasswordAuthentication no",
                ] + sshd_config_lines(recipe)) + "\n")
            if self._start(extra_env):
                return
        raise RuntimeError("sshd did not start:\n" + self.log_text())

    def _start(self, extra_env):
        # A tmpfs on /run in a private mount namespace gives sshd its /run/sshd.
        script = ('mount -t tmpfs -o mode=0755 e2e-run /run && mkdir -m 0755 /run/sshd '
                  '&& exec "$0" "$@"')
        env = dict(os.environ)
        env.update(extra_env)
        with open(self.log, "w") as log:
            self.proc = subprocess.Popen(
                [UNSHARE, "--mount", "--propagation", "private", "/bin/sh", "-c", script,
                 self.link, "-D", "-e", "-f", self.config],
                stdin=subprocess.DEVNULL, stdout=log, stderr=log, env=env)
        e2e.on_cleanup(self.stop)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            if "Server listening on 127.0.0.1 port %d" % self.port in self.log_text():
                return True
            if self.proc.poll() is not None:
                return False
            time.sleep(0.05)
        self.stop()
        return False

    def log_text(self):
        with open(self.log, errors="replace") as f:
            return f.read()

    def stop(self):
        if self.proc is not None and self.proc.poll() is None:
            e2e.stop_pid(self.proc.pid)
        self.proc = None

    def ssh(self, user, askpass, methods, key=None, command="echo hello"):
        """Runs the real ssh client without a terminal; returns CompletedProcess."""
        argv = [SSH, "-F", "/dev/null", "-o", "StrictHostKeyChecking=no",
                "-o", "UserKnownHostsFile=/dev/null", "-o", "LogLevel=ERROR",
                "-o", "PreferredAuthentications=" + methods, "-o", "IdentityAgent=none",
                "-o", "NumberOfPasswordPrompts=1", "-o", "ConnectTimeout=10",
                "-p", str(self.port)]
        argv += ["-o", "IdentitiesOnly=yes"] + (["-i", key] if key else
                                                 ["-o", "IdentityFile=/dev/null"])
        argv += ["%s@127.0.0.1" % user, command]
        env = {"PATH": "/usr/sbin:/usr/bin:/sbin:/bin", "HOME": "/root",
               "SSH_ASKPASS": askpass, "SSH_ASKPASS_REQUIRE": "force", "DISPLAY": ":0"}
        return subprocess.run(argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True, env=env, timeout=60,
                              start_new_session=True)


def keypair(workdir, name):
    path = os.path.join(workdir, name)
    subprocess.run([SSH_KEYGEN, "-q", "-t", "ed25519", "-N", "", "-C", name, "-f", path],
                   check=True)
    return path


def authorize(user, key):
    ssh_dir = os.path.join(user.home, ".ssh")
    os.makedirs(ssh_dir, mode=0o700, exist_ok=True)
    dest = os.path.join(ssh_dir, "authorized_keys")
    shutil.copyfile(key + ".pub", dest)
    for p, mode in ((ssh_dir, 0o700), (dest, 0o600)):
        os.chown(p, user.uid, user.gid)
        os.chmod(p, mode)


class Case:
    """Runs one ssh login and reports it in TAP: what was asked, what was sent."""

    def __init__(self, tap, sim, env, sshd, askpass, user):
        self.tap, self.sim, self.env, self.sshd = tap, sim, env, sshd
        self.askpass, self.user = askpass, user

    def fresh(self, **config):
        e2e.fresh_case(self.sim, self.env, **config)

    def login(self, password, code, methods, key=None, to=e2e.PHONE, answers=()):
        prog, transcript = self.askpass.program(password, code, to=to, answers=answers)
        before = e2e.sends(self.sim)
        r = self.sshd.ssh(self.user.name, prog, methods, key)
        asked = e2e.prompts(transcript)
        self.last = r
        self.diag = ("ssh exit %d\nstdout %r\nstderr %r\nprompts %r\nsshd log tail:\n%s"
                     % (r.returncode, r.stdout, r.stderr.strip(), asked,
                        "\n".join(self.sshd.log_text().splitlines()[-12:])))
        return r, asked, e2e.sends(self.sim) - before

    def logged_in(self, r):
        return r.returncode == 0 and r.stdout == "hello\n"

    def refused(self, r):
        return r.returncode == 255 and "hello" not in r.stdout and \
            "Permission denied" in r.stderr


def recipe_a(tap, sim, env, module, work, user, askpass, sanitizer):
    service = e2e.install_pam_service("twofa-sshd", env, module)
    sshd = Sshd(work, service, "a", sanitizer)
    case = Case(tap, sim, env, sshd, askpass, user)
    kbd = "keyboard-interactive"

    case.fresh()
    r, asked, sent = case.login(STORE_PASSWORD, "right", kbd)
    tap.ok(case.logged_in(r) and sent == 1, "(a) password + right code: logged in, "
           "command ran, one code sent", case.diag)
    tap.ok(len(asked) == 2 and "password" in asked[0].lower() and
           e2e.is_code_prompt(asked[1]),
           "(a) asked pam_twofa's password prompt, then its code prompt", case.diag)

    case.fresh()
    r, asked, sent = case.login(STORE_PASSWORD, "wrong", kbd)
    codes_asked = [p for p in asked if e2e.is_code_prompt(p)]
    tap.ok(case.refused(r) and sent == 1 and len(codes_asked) == MAX_TRIES,
           "(a) wrong code: refused after max_tries=%d code prompts, one send" % MAX_TRIES,
           case.diag)

    case.fresh()
    r, asked, sent = case.login(UNIX_PASSWORD, "right", kbd)
    tap.ok(case.refused(r) and sent == 0 and not any(map(e2e.is_code_prompt, asked)),
           "(a) wrong password: refused, no code sent or asked", case.diag)

    # A user who is not in the member store: the recipe has no nullok, so no way in.
    empty = e2e.empty_store(env)
    case.fresh(members_db=empty)
    r, asked, sent = case.login(STORE_PASSWORD, "right", kbd)
    tap.ok(case.refused(r) and sent == 0, "(a) not enrolled, stack without nullok: "
           "refused, no code sent", case.diag)
    env.write_config({"members_db": env.members_db})

    case.fresh(failmode="secure")
    sim.fault("start", "503", count=-1)
    r, asked, sent = case.login(STORE_PASSWORD, "right", kbd)
    tap.ok(case.refused(r) and sent == 0, "(a) Twilio outage (503 on send) under "
           "failmode=secure: refused", case.diag)
    sim.clear_faults()

    # Lockout after one failed login; twofa-enroll unlock lets the member in again.
    case.fresh(lockout_failures="1", lockout_seconds="900")
    case.login(STORE_PASSWORD, "wrong", kbd)
    r, asked, sent = case.login(STORE_PASSWORD, "right", kbd)
    tap.ok(case.refused(r) and sent == 0, "(a) locked-out member with the right password: "
           "refused before any code is sent", case.diag)
    u = subprocess.run([e2e.ENROLL, "--config", env.config_path, "unlock", user.name],
                       stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    r, asked, sent = case.login(STORE_PASSWORD, "right", kbd)
    tap.ok(u.returncode == 0 and case.logged_in(r) and sent == 1,
           "(a) after twofa-enroll unlock: logged in", "unlock: %s\n%s" % (u.stdout,
                                                                         case.diag))
    env.write_config({"lockout_failures": None, "lockout_seconds": None})
    sshd.stop()
    e2e.check_no_sanitizer_report(tap, "sshd, recipe (a)", sshd.log_text())


def recipe_b(tap, sim, env, module, work, user, askpass, sanitizer):
    service = e2e.install_pam_service("twofa-sshd-publickey", env, module)
    sshd = Sshd(work, service, "b", sanitizer)
    case = Case(tap, sim, env, sshd, askpass, user)
    good, unknown = keypair(work, "authorized"), keypair(work, "unknown")
    authorize(user, good)
    methods = "publickey,keyboard-interactive"

    case.fresh()
    r, asked, sent = case.login(None, "right", methods, key=good)
    tap.ok(case.logged_in(r) and sent == 1 and len(asked) == 1 and
           e2e.is_code_prompt(asked[0]),
           "(b) authorized key + right code: logged in, only the code was asked",
           case.diag)

    case.fresh()
    r, asked, sent = case.login(None, "wrong", methods, key=good)
    tap.ok(case.refused(r) and sent == 1 and len(asked) == MAX_TRIES,
           "(b) authorized key + wrong code: refused", case.diag)

    case.fresh()
    r, asked, sent = case.login(None, "right", methods, key=unknown)
    tap.ok(case.refused(r) and sent == 0 and asked == [],
           "(b) unknown key: refused before keyboard-interactive, no code sent", case.diag)
    sshd.stop()
    e2e.check_no_sanitizer_report(tap, "sshd, recipe (b)", sshd.log_text())


def recipe_b_enrol(tap, sim, env, module, work, sanitizer):
    """Recipe (b) with enroll=self: a user with an authorized key but not enrolled enrols
    through keyboard-interactive, the prompts in order; the next login asks only the code."""
    text = e2e.pam_recipe("twofa-sshd-publickey", env, module)
    text = text.replace("password=none", "password=none enroll=self", 1)
    service = e2e.unique()
    e2e.install_system_file(os.path.join(e2e.PAM_D, service), text)
    sshd = Sshd(work, service, "b", sanitizer)
    newcomer = e2e.ThrowawayUser(UNIX_PASSWORD)
    askpass = e2e.Askpass(sim, newcomer, work)
    case = Case(tap, sim, env, sshd, askpass, newcomer)
    key = keypair(work, "newcomer")
    authorize(newcomer, key)
    methods = "publickey,keyboard-interactive"
    phone = "+447400123459"
    typed = [("Country", "GB"), ("Phone number", "07400 123459")]

    def bare(asked):
        """The prompts without the '(user@host) ' ssh puts before each."""
        return [re.sub(r"^\([^)]*\) ", "", p) for p in asked]

    case.fresh()
    r, asked, _ = case.login(None, "none", methods, key=key, to=phone,
                             answers=[("Country", None)])
    asked = bare(asked)
    tap.ok(case.refused(r) and asked[:1] == ["Country (ISO code, e.g. GB; ? lists them): "]
           and env.member(newcomer.name) is None,
           "(b) enroll=self: the key, then the country prompt; cancelled there, nothing "
           "stored, refused", case.diag)

    case.fresh()
    r, asked, _ = case.login(None, "right", methods, key=key, to=phone, answers=typed)
    asked = bare(asked)
    m = env.member(newcomer.name)
    tap.ok(case.logged_in(r) and len(asked) == 3 and asked[0].startswith("Country")
           and asked[1] == "Phone number: " and asked[2].startswith("Code sent by SMS to +44 ")
           and sim.sends(phone) == 1,
           "(b) enroll=self: country, phone, code over keyboard-interactive, logged in at "
           "the first login", case.diag)
    tap.ok(m is not None and m.get("status") == "active" and m.get("phone") == phone,
           "(b) the new member is stored active with the number", repr(m))

    case.fresh()
    r, asked, _ = case.login(None, "right", methods, key=key, to=phone, answers=typed)
    tap.ok(case.logged_in(r) and len(asked) == 1 and e2e.is_code_prompt(asked[0]),
           "(b) the next login asks only for the code", case.diag)
    sshd.stop()
    e2e.check_no_sanitizer_report(tap, "sshd, recipe (b) with enroll=self", sshd.log_text())


def tests(tap, module):
    sanitizer = e2e.sanitizer_env(module)
    sim = Sim()
    env = Env(sim, config={"max_tries": str(MAX_TRIES)}, prefix="twofa-e2e-")
    work = e2e.workdir()
    user = e2e.ThrowawayUser(UNIX_PASSWORD)
    env.add_member(user.name, STORE_PASSWORD, e2e.PHONE)
    askpass = e2e.Askpass(sim, user, work)
    recipe_a(tap, sim, env, module, work, user, askpass, sanitizer)
    recipe_b(tap, sim, env, module, work, user, askpass, sanitizer)
    recipe_b_enrol(tap, sim, env, module, work, sanitizer)


if __name__ == "__main__":
    sys.exit(e2e.run(tests, [SSHD, SSH, SSH_KEYGEN, UNSHARE]))
