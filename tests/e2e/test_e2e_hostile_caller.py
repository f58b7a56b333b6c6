#!/usr/bin/python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""End to end, audit #2 and #4 (issue 12): what the caller of a setuid su, sudo or chfn
can do to its own process no longer decides anything. A throwaway enrolled user, using
only its own rights (kill(2) with its own uids, its own terminal, its own rlimits), runs
the real setuid programs over the stack pam-auth-update generates from
etc/pam-configs/twofa (in a private mount namespace, as test_e2e_setuid_env.py does),
with failmode=safe in twofa.conf:

(a) SIGSTOP of its su (and sudo) while the code is being sent, held past the HTTP
    timeout, then SIGCONT; and a stop at the code prompt. Before the split the stopped
    process itself was waiting for Twilio, its request timed out, and that "outage" let
    it in on the password alone (later: a refusal logged as an outage). Now the login
    never succeeds without the code, and no decision line speaks of an outage.
(b) The same stop as a Ctrl-Z typed on su's controlling terminal (a pty under an
    interactive bash with job control), then `fg`.
(c) A low RLIMIT_NOFILE set by the user before su: before, a deterministic fake outage
    (later a local error); now the code is sent and the right code logs in.
(d) Another member's logins while the user's chfn is stopped: at its code prompt, and by
    the audit's attacker, which polls /proc/locks and SIGSTOPs whatever holds a lock on
    the stores. The others' logins succeed within a generous bound, and no lock holder is
    a process the user may stop.

Beyond the audit, what the per-call server must hold to: a low RLIMIT_DATA (which the
server keeps) fails closed, never as an outage; su ended at the code prompt (SIGKILL,
Ctrl-C, hangup) takes its server with it and loses nothing; and the scheduling class,
nice value and I/O class the user gave its su do not reach the server.

Each case asserts the program's result (su/chfn exit status, sudo's) and the decision
line in the syslog captured from the namespace (harness.pam.SyslogCapture). The cases run
through the per-call server (su and chfn run as root: daemon=auto starts it), then again
with the generated stack's pam_twofa lines given daemon=yes socket= of a twofad started
by the test (but for those about the per-call server's own process, and sudo's separate
service). Cases can be named on the command line to run only those.
"""

import errno
import os
import re
import signal
import subprocess
import sys
import time

from harness.sim import Sim
from harness.daemon import Twofad
from harness.pam import Env, SyslogCapture, run_pam, server_path
from harness import e2e
from harness import hostile
from harness import pam_auth_update
from harness.pam_auth_update import PAM_AUTH_UPDATE, Namespace, install_profile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from test_e2e_sudo import install_sudoers, SUDO, VISUDO  # noqa: E402

CHFN, SU = "/usr/bin/chfn", "/bin/su"
NICE, IONICE, CHRT = "/usr/bin/nice", "/usr/bin/ionice", "/usr/bin/chrt"
PROGRAMS = pam_auth_update.PROGRAMS + [CHFN, SU, hostile.SETPRIV, hostile.BASH, SUDO, VISUDO,
                                       NICE, IONICE, CHRT]
UNIX_PASSWORD = "unix-pw-7Hq"
TIMEOUT = 3              # twofa.conf timeout: seconds for one HTTP request
SEND_DELAY = 1.5         # the simulator's answer to the send: Internet latency, under TIMEOUT
HOLD = TIMEOUT + 3       # how long the user keeps its process stopped
PEER, PEER_PASSWORD, PEER_PHONE = "peer", "peer-pw-2Lz", "+14155550188"
PEER_BOUND = 10.0        # seconds one login of another member may take (the lock wait is 5)
# The user's `ulimit -n` before su: with 4 or 5 su itself cannot load its modules; before
# the split 6 failed the request (no descriptor for the connection) and 7 and 8 the stores.
LOW_NOFILE = (6, 7, 8)
LOGGED_IN = "hostile-logged-in"
CHFN_COMMAND = [CHFN, "-r", "42"]
OUTAGE = re.compile(r"(?i)outage|unreachable|FAILMODE=SAFE|timed out")


def logged_in(term):
    """The command su ran printed LOGGED_IN (a line of its own, not the typed command)."""
    return any(line.strip() == LOGGED_IN for line in term.output.splitlines())


class Prefixed:
    """A Tap whose assertion names start with prefix."""

    def __init__(self, tap, prefix):
        self.inner, self.prefix = tap, prefix

    def ok(self, cond, name, diag=None):
        return self.inner.ok(cond, self.prefix + name, diag)


class Case:
    """The world the cases share, and what one case saw."""

    def __init__(self, tap, module):
        self.tap = tap
        self.sim = Sim()
        self.env = Env(self.sim, config={"max_tries": "1", "timeout": str(TIMEOUT),
                                         "failmode": "safe", "lockout_failures": "0",
                                         "send_limit": "50"}, prefix="twofa-e2e-")
        self.user = e2e.ThrowawayUser(UNIX_PASSWORD)
        self.env.add_member(self.user.name, "store-pw-unused", e2e.PHONE)
        self.su_command = [SU, self.user.name, "-c", "echo " + LOGGED_IN]
        self.transport = "per-call"
        self.env.add_member(PEER, PEER_PASSWORD, PEER_PHONE)
        self.env.service("peer", [self.env.twofa_line()])
        self.work = e2e.workdir()
        self.ns = Namespace(self.work)
        install_profile(self.ns, self.env, module)
        r = self.ns.run([PAM_AUTH_UPDATE, "--enable", "twofa"])
        tap.ok(r.returncode == 0, "pam-auth-update --enable twofa in the namespace",
               "exit %d\n%s%s" % (r.returncode, r.stdout, r.stderr))
        self.cap = SyslogCapture(self.env)
        e2e.on_cleanup(self.cap.close)

    def through_twofad(self, module):
        """From now on the generated stack's pam_twofa lines say daemon=yes socket=...
        of a twofad started here on the same twofa.conf, and every TAP name says so."""
        self.twofad = Twofad(self.env.config_path)
        self.twofad.start()
        e2e.on_cleanup(self.twofad.stop)
        for name in ("common-auth", "common-account"):
            path = os.path.join(self.ns.copy_of("/etc/pam.d"), name)
            with open(path) as f:
                lines = f.read().splitlines()
            with open(path, "w") as f:
                f.write("".join((l + " daemon=yes socket=" + self.twofad.socket
                                 if module in l else l) + "\n" for l in lines))
        self.tap = Prefixed(self.tap, "through twofad: ")
        self.transport = "twofad"

    def wrap(self, argv):
        """The user's command in the namespace (the generated stack) with /dev/log captured."""
        return self.cap.wrap(self.ns.argv(argv))

    def fresh(self, **config):
        e2e.fresh_case(self.sim, self.env, **config)
        self.cap.clear()

    def decisions(self, service, settle=0.3):
        """pam_twofa's decision lines (result=...) for SERVICE's auth so far."""
        time.sleep(settle)
        return [t for t in self.cap.texts() if "result=" in t and "(%s:auth)" % service in t]

    def send_in_flight(self, timeout=20):
        """PIDs holding a connection to the simulator once it has the send (which its
        delay fault holds SEND_DELAY seconds): [] if the send never came. The simulator
        counts a request when it arrives, before the delay."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.sim.stats()["by_op"].get("start", 0) > 0:
                return hostile.connections_to(self.sim.port)
            time.sleep(0.02)
        return []

    def code(self, right):
        sent = self.sim.codes(e2e.PHONE)
        code = sent[-1] if sent else "000000"
        return code if right else code[:-1] + str((int(code[-1]) + 1) % 10)

    def answer_code(self, term, right, timeout=30):
        """Answers the code prompt if it comes (True), else False."""
        m = term.expect(r"(?i)(code[^\n]*: ?$)|" + re.escape(hostile.EXIT_MARK), timeout=timeout)
        if not m or m.group(1) is None:
            return False
        term.send(self.code(right))
        return True

    def check_no_outage(self, label, service, decisions, want, why=""):
        """One decision line for the auth, `want` in it, nothing about an outage."""
        self.tap.ok(len(decisions) == 1 and want in decisions[0] and
                    not OUTAGE.search(decisions[0]),
                    "%s: one decision line, %r, no outage%s" % (label, want, why),
                    "\n".join(decisions + ["-- all captured:"] + self.cap.texts()))

    def start(self, label, command, program, at_code_prompt, **terminal):
        """The user runs command (PROGRAM's argv) on its terminal and types its password;
        with at_code_prompt, waits for the code prompt too. Returns (terminal, PID of
        program), or (None, None) after a failed TAP line saying what did not come."""
        term = hostile.Terminal(self.user, command, wrap=self.wrap, **terminal)
        if not term.expect(r"[Pp]assword: ?$"):
            self.tap.ok(False, "%s: %s asks for the password" % (label, command[0]), term.output)
            term.close()
            return None, None
        pid = hostile.wait_for_pid(self.user.uid, program)
        term.send(UNIX_PASSWORD)
        if at_code_prompt and not term.expect(r"(?i)code[^\n]*: ?$"):
            self.tap.ok(False, "%s: %s asks for the code" % (label, command[0]), term.output)
            term.close()
            return None, None
        return term, pid

    def stop_as_user(self, label, pid):
        """SIGSTOP with the user's own rights; TAP: the kernel let it through and the
        process is stopped."""
        rc = hostile.signal_as(self.user, pid, signal.SIGSTOP)
        deadline = time.monotonic() + 5
        while hostile.process_state(pid) != "T" and time.monotonic() < deadline:
            time.sleep(0.01)
        self.tap.ok(rc == 0 and hostile.process_state(pid) == "T",
                    "%s: the user stops its own %s" % (label, hostile.describe_process(pid)),
                    "kill errno %d, state %r" % (rc, hostile.process_state(pid)))

    def check_others_unsignalable(self, label, holders, caller):
        """TAP: the processes talking to Twilio are not the caller and not the user's to
        signal (kill(pid, 0) with the user's uids: EPERM)."""
        verdicts = {p: hostile.signal_as(self.user, p, 0) for p in holders}
        self.tap.ok(holders and caller not in holders and
                    all(v == errno.EPERM for v in verdicts.values()),
                    "%s: the connection to Twilio is held by a process the user cannot "
                    "signal" % label,
                    "\n".join("%s: kill errno %d" % (hostile.describe_process(p), v)
                              for p, v in verdicts.items()) or "no connection seen")


# -- (a) SIGSTOP, (b) Ctrl-Z: su and sudo under failmode=safe ---------------------------------

def su_stopped_during_send(c, how):
    """The user types its password; while the code is being sent (the connection to the
    simulator is open and the answer SEND_DELAY away) it stops su for HOLD seconds (kill,
    or Ctrl-Z on su's terminal then fg), then answers the code prompt with a wrong code."""
    label = "su, failmode=safe, %s during the send" % how
    c.fresh()
    c.sim.fault("start", "delay", delay=SEND_DELAY)
    command = c.su_command
    if how == "Ctrl-Z":
        term = hostile.Terminal(c.user, None, wrap=c.wrap)
        term.run(" ".join(command[:3] + ["'%s'" % command[3]]))
    else:
        term = hostile.Terminal(c.user, command, wrap=c.wrap)
    if not term.expect(r"[Pp]assword: ?$"):
        c.tap.ok(False, "%s: su asks for the password" % label, term.output)
        return
    su = hostile.wait_for_pid(c.user.uid, SU)
    term.send(UNIX_PASSWORD)
    holders = c.send_in_flight()
    if how == "Ctrl-Z":
        term.ctrl_z()
        stopped = term.expect(r"Stopped", timeout=10)
        c.tap.ok(stopped and hostile.process_state(su) == "T",
                 "%s: the terminal's Ctrl-Z stops su (bash: Stopped)" % label, term.output)
    else:
        c.stop_as_user(label, su)
    states = {p: hostile.process_state(p) for p in holders if p != su}
    c.check_others_unsignalable(label, holders, su)
    c.tap.ok(states and all(s != "T" for s in states.values()),
             "%s: the stop reaches su only, not the process sending the code" % label, states)
    time.sleep(HOLD)
    if how == "Ctrl-Z":
        term.fg()
    else:
        hostile.signal_as(c.user, su, signal.SIGCONT)
    prompted = c.answer_code(term, right=False)
    status = term.exit_status()
    term.close()
    c.tap.ok(status not in (None, 0) and not logged_in(term),
        "%s, wrong code: su refuses (no login on the password alone)" % label, term.output)
    c.tap.ok(prompted and c.sim.sends(e2e.PHONE) == 1,
             "%s: the code was sent once and asked for after the stop" % label,
             "prompted %r, sends %d\n%s" % (prompted, c.sim.sends(e2e.PHONE), term.output))
    c.check_no_outage(label, "su", c.decisions("su"), "wrong code")


def su_stopped_at_prompt(c):
    """Stopped at the code prompt for HOLD seconds (longer than the HTTP timeout), then
    continued: the right code still logs in, a wrong one is refused; never an outage."""
    for right in (True, False):
        label = "su, failmode=safe, SIGSTOP at the code prompt, %s code" % (
            "right" if right else "wrong")
        c.fresh()
        term, su = c.start(label, c.su_command, SU, True)
        if term is None:
            continue
        c.stop_as_user(label, su)
        time.sleep(HOLD)
        c.tap.ok(hostile.signal_as(c.user, su, signal.SIGCONT) == 0,
                 "%s: the user continues su" % label)
        term.send(c.code(right))
        status = term.exit_status()
        term.close()
        if right:
            c.tap.ok(status == 0 and logged_in(term),
                     "%s: su logs in after the stop" % label, term.output)
            c.check_no_outage(label, "su", c.decisions("su"), "result=success")
        else:
            c.tap.ok(status not in (None, 0), "%s: su refuses" % label, term.output)
            c.check_no_outage(label, "su", c.decisions("su"), "wrong code")


def sudo_stopped_during_send(c, module):
    """The audit's stopsudo.sh: sudo -A (askpass answers the password, then a wrong code),
    SIGSTOP by the user while the code is being sent, held for HOLD seconds."""
    label = "sudo, failmode=safe, SIGSTOP during the send"
    service = e2e.install_pam_service("twofa-sudo", c.env, module, prefix="twofa-e2e-sudo-")
    install_sudoers(c.user, service)
    askpass = e2e.Askpass(c.sim, c.user, c.work)
    c.fresh()
    c.sim.fault("start", "delay", delay=SEND_DELAY)
    prog, transcript = askpass.program(UNIX_PASSWORD, "wrong")
    # setpriv, not runuser: runuser stops itself when its child stops (su's job control)
    # and nobody would continue it.
    argv = c.cap.wrap(hostile.as_user(c.user, [SUDO, "-A", "-k", "true"],
                                      env=["SUDO_ASKPASS=" + prog]))
    proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, start_new_session=True)
    e2e.on_cleanup(lambda: proc.poll() is None and proc.kill())
    sudo = hostile.wait_for_pid(c.user.uid, SUDO)
    holders = c.send_in_flight()
    if sudo is None or not holders:
        c.tap.ok(False, "%s: sudo runs and sends the code" % label,
                 "sudo %r, connections %r" % (sudo, holders))
        proc.kill()
        return
    c.stop_as_user(label, sudo)
    c.check_others_unsignalable(label, holders, sudo)
    time.sleep(HOLD)
    hostile.signal_as(c.user, sudo, signal.SIGCONT)
    out, err = proc.communicate(timeout=120)
    asked = e2e.prompts(transcript)
    c.tap.ok(proc.returncode != 0 and any(map(e2e.is_code_prompt, asked)),
             "%s, wrong code: sudo refuses (no root on the password alone)" % label,
             "exit %d\nstderr %r\nprompts %r" % (proc.returncode, err, asked))
    decisions = c.decisions(service)
    c.tap.ok(decisions and "wrong code" in decisions[0] and
             not any(OUTAGE.search(d) for d in decisions),
             "%s: the first decision line says wrong code; none speaks of an outage" % label,
             "\n".join(decisions + ["-- all captured:"] + c.cap.texts()))


# -- (c) RLIMIT_NOFILE ---------------------------------------------------------------------

def su_low_nofile(c):
    """`ulimit -Sn N` (the soft limit) in the user's shell, then su: su itself, pam_unix
    and the module's client work in that many descriptors; the exchange with Twilio and
    the stores must not depend on them (before: no descriptor for the connection, the CA
    file or the stores: a fake outage, later a local error). `ulimit -n N` lowers the hard
    limit too, which only CAP_SYS_RESOURCE can raise again: with it in the bounding set
    the server raises it and the login works; without (some containers) the login fails
    closed as a local error, never as an outage or a success."""
    raisable = hostile.bounding_set_has(hostile.CAP_SYS_RESOURCE)
    for hard in (False, True):
        for nofile in LOW_NOFILE:
            label = "su after `ulimit -%sn %d`" % ("" if hard else "S", nofile)
            c.fresh()
            term, _ = c.start(label, c.su_command, SU, False, nofile=nofile, nofile_hard=hard)
            if term is None:
                continue
            prompted = c.answer_code(term, right=True)
            status = term.exit_status()
            term.close()
            decisions = c.decisions("su")
            # twofad does the exchange in its own process: no limit of su's reaches it.
            if raisable or not hard or c.transport == "twofad":
                c.tap.ok(prompted and status == 0 and logged_in(term),
                         "%s: the code is sent and the right code logs in" % label,
                         "prompted %r, status %r\n%s" % (prompted, status, term.output))
                c.check_no_outage(label, "su", decisions, "result=success")
            else:
                c.tap.ok(status not in (None, 0) and not logged_in(term),
                         "%s, no CAP_SYS_RESOURCE to raise it again: su refuses" % label,
                         term.output)
                c.tap.ok(len(decisions) == 1 and "result=success" not in decisions[0] and
                         not OUTAGE.search(decisions[0]),
                         "%s: one decision line, a local error, not an outage" % label,
                         "\n".join(decisions + ["-- all captured:"] + c.cap.texts()))


# -- the caller gives up, or picks the server's priority --------------------------------------

def su_abandoned(c):
    """The user ends its su at the code prompt: SIGKILL, Ctrl-C on its terminal, or
    closing the terminal (hangup). The server of that login exits (no root process is
    left behind), and nothing is lost: the next login with the right code works."""
    for how in ("SIGKILL", "Ctrl-C", "hangup"):
        label = "su ended by %s at the code prompt" % how
        c.fresh()
        term, su = c.start(label, c.su_command, SU, True)
        if term is None:
            continue
        servers = hostile.children_running(su, server_path())
        if how == "SIGKILL":
            hostile.signal_as(c.user, su, signal.SIGKILL)
        elif how == "Ctrl-C":
            term.type(b"\x03")
        else:
            term.hang_up()
        deadline = time.monotonic() + 10
        while [p for p in servers if hostile.process_state(p) not in (None, "Z")] and \
                time.monotonic() < deadline:
            time.sleep(0.05)
        left = [hostile.describe_process(p) for p in servers
                if hostile.process_state(p) not in (None, "Z")]
        term.close()
        c.tap.ok(len(servers) == 1 and not left,
                 "%s: its twofa-server exits with it" % label,
                 "servers at the prompt %r, still running %r" % (servers, left))
        c.fresh()
        term, _ = c.start(label, c.su_command, SU, True)
        if term is None:
            continue
        term.send(c.code(right=True))
        status = term.exit_status()
        term.close()
        c.tap.ok(status == 0 and logged_in(term),
                 "%s: the next login with the right code works" % label, term.output)


def su_low_priority(c):
    """The user runs su with SCHED_IDLE, nice 19 and the idle I/O class (all allowed on
    its own processes). The server must not keep them: a caller that starves the server
    past the HTTP timeout makes a real timeout, an outage, on which failmode=safe opens;
    an idle I/O class stretches every store lock the server holds."""
    label = "su under chrt --idle, nice 19, ionice -c 3"
    c.fresh()
    command = [NICE, "-n", "19", IONICE, "-c", "3", CHRT, "--idle", "0"] + c.su_command
    term, su = c.start(label, command, SU, True)
    if term is None:
        return
    servers = hostile.children_running(su, server_path())
    caller = hostile.scheduling(su)
    server = hostile.scheduling(servers[0]) if servers else None
    c.tap.ok(caller[:2] == ("SCHED_IDLE", 19) and "idle" in caller[2],
             "%s: su runs with what the user chose" % label, repr(caller))
    c.tap.ok(server is not None and server[:2] == ("SCHED_OTHER", 0) and
             "idle" not in server[2],
             "%s: its twofa-server does not (SCHED_OTHER, nice 0, not the idle I/O class)"
             % label, "server %r, su %r" % (server, caller))
    term.send(c.code(right=True))
    status = term.exit_status()
    term.close()
    c.tap.ok(status == 0 and logged_in(term), "%s: the right code logs in" % label,
             term.output)


def su_low_data(c):
    """`ulimit -d N` (RLIMIT_DATA, which the server inherits and does not reset) from
    where the server cannot even start up to where it logs in, with wrong codes under
    failmode=safe: a server short of memory fails closed (it cannot start, or dies)
    and is never an outage, so never a success. The user's Unix password is hashed with
    SHA-512 here, which pam_unix checks in less memory than the server needs (yescrypt
    needs more: pam_unix would fail first)."""
    label = "su after `ulimit -d N`"
    subprocess.run(["chpasswd", "-c", "SHA512"], input="%s:%s\n" % (c.user.name, UNIX_PASSWORD),
                   text=True, check=True)
    seen = {"prompted": [], "refused": [], "success": [], "outage": [], "su_failed": []}

    def attempt(kb):
        """One login with a wrong code; whether the code was asked for."""
        c.fresh()
        term = hostile.Terminal(c.user, c.su_command, wrap=c.wrap, data_kib=kb)
        if not term.expect(r"[Pp]assword: ?$"):  # su itself cannot run in that little
            term.close()
            seen["su_failed"].append(kb)
            return False
        term.send(UNIX_PASSWORD)
        prompted = c.answer_code(term, right=False)
        status = term.exit_status()
        term.close()
        decisions = c.decisions("su")
        if prompted:
            seen["prompted"].append(kb)
        if status != 0 and not logged_in(term):
            seen["refused"].append(kb)
        else:
            seen["success"].append((kb, term.output))
        if any(OUTAGE.search(d) for d in decisions):
            seen["outage"].append((kb, decisions))
        return prompted

    # Coarse steps up to the first limit at which the code is sent, then fine steps
    # through the last coarse one: where the server starts but may run short.
    # (Each failed login costs su's fail delay, about 3 s.)
    kb = 768
    while kb <= 8192 and not attempt(kb):
        kb += 128
    for fine in range(kb - 112, kb, 16):
        attempt(fine)
    subprocess.run(["chpasswd"], input="%s:%s\n" % (c.user.name, UNIX_PASSWORD), text=True,
                   check=True)
    c.tap.ok(seen["prompted"] and len(seen["refused"]) > len(seen["prompted"]),
             "%s: from a server that cannot start to one that sends the code (from %s KiB)"
             % (label, min(seen["prompted"]) if seen["prompted"] else None), repr(seen))
    c.tap.ok(not seen["success"], "%s, wrong codes: never a login" % label, repr(seen["success"]))
    c.tap.ok(not seen["outage"], "%s: no decision line speaks of an outage" % label,
             repr(seen["outage"]))


# -- (d) a stopped chfn and the others' logins ----------------------------------------------

def peer_logins(c, label, count=2):
    """count logins of another member (root-run, as sshd would): TAP each succeeds within
    PEER_BOUND seconds with its decision line."""
    for i in range(count):
        started = time.monotonic()
        run = run_pam(c.env, "peer", PEER, ["auth"], rhost="192.0.2.9", syslog=c.cap,
                      answers=[PEER_PASSWORD, c.sim.code_answer(PEER_PHONE)],
                      timeout=PEER_BOUND + 30)
        took = time.monotonic() - started
        time.sleep(0.3)
        lines = [t for t in c.cap.texts() if "result=" in t and "(peer:auth)" in t]
        c.tap.ok(run.codes() == ["PAM_SUCCESS"] and took <= PEER_BOUND and lines and
                 "result=success" in lines[-1],
                 "%s: another member's login %d succeeds in %.1f s (bound %.0f s)"
                 % (label, i + 1, took, PEER_BOUND),
                 run.describe() + "\n" + "\n".join(lines))


def chfn_stopped_at_prompt(c):
    label = "chfn stopped at its code prompt"
    c.fresh()
    term, chfn = c.start(label, CHFN_COMMAND, CHFN, True)
    if term is None:
        return
    c.stop_as_user(label, chfn)
    peer_logins(c, label)
    hostile.signal_as(c.user, chfn, signal.SIGCONT)
    term.send(c.code(right=False))
    status = term.exit_status()
    term.close()
    c.tap.ok(status not in (None, 0), "%s, then continued, wrong code: chfn refuses" % label,
             term.output)


def chfn_lock_holder_stopped(c, attempts=3):
    """The audit's lockstop.py: while the user's chfn logs in (right code), an attacker of
    the user's polls /proc/locks and SIGSTOPs each process holding a write lock on the
    stores (the send reservation, the success record) for HOLD seconds; as soon as it has
    seen one, another member logs in. Repeated until the attacker has seen a holder (the
    locks are held for milliseconds)."""
    label = "chfn under the /proc/locks attacker"
    events = []
    for attempt in range(1, attempts + 1):
        c.fresh()
        # The stores' files exist from the first state write on: a peer login makes them.
        peer_logins(c, "%s, before (attempt %d)" % (label, attempt), count=1)
        attacker = hostile.LockStopper(c.user, hostile.inodes_under(c.env.dbdir), HOLD, 60)
        term, _ = c.start(label, CHFN_COMMAND, CHFN, False)
        if term is None:
            attacker.stop()
            return
        # The first write lock comes at the send or after the code: whichever is first.
        deadline = time.monotonic() + HOLD + 30
        answered = False
        while attacker.wait_write_holder(0.1) is None and time.monotonic() < deadline:
            if not answered and term.expect(r"(?i)code[^\n]*: ?$", timeout=0.1):
                term.send(c.code(right=True))
                answered = True
        peer_logins(c, "%s (attempt %d)" % (label, attempt))
        if not answered:
            c.answer_code(term, right=True, timeout=HOLD + 30)
        status = term.exit_status(timeout=HOLD + 30)
        term.close()
        attacker.stop()
        events += attacker.events
        c.tap.ok(status == 0, "%s (attempt %d): chfn with the right code succeeds"
                 % (label, attempt), term.output)
        if [e for e in events if hostile.decisive(e)]:
            break
    c.tap.ok([e for e in events if hostile.decisive(e)],
             "%s: the attacker saw a process holding a write lock on the stores" % label,
             "no write lock holder seen (or kept stopped with it) in %d attempts" % attempts)
    c.tap.ok(events and not [e for e in events if e.get("may_signal")],
             "%s: no process holding a store lock is one the user may signal "
             "(%d holders seen)" % (label, len(events)),
             "\n".join("pid %s may_signal=%s stopped=%s held=%s: %s" % (
                 e.get("pid"), e.get("may_signal"), e.get("stopped"), e.get("held"), e.get("lock"))
                 for e in events))


def tests(tap, module):
    if e2e.skip_setuid_if_sanitized(tap, module, "su, sudo and chfn"):
        return
    c = Case(tap, module)
    cases = [("su-sigstop", lambda: su_stopped_during_send(c, "SIGSTOP")),
             ("su-ctrl-z", lambda: su_stopped_during_send(c, "Ctrl-Z")),
             ("su-prompt", lambda: su_stopped_at_prompt(c)),
             ("sudo-sigstop", lambda: sudo_stopped_during_send(c, module)),
             ("su-nofile", lambda: su_low_nofile(c)),
             ("su-data", lambda: su_low_data(c)),
             ("su-abandoned", lambda: su_abandoned(c)),
             ("su-priority", lambda: su_low_priority(c)),
             ("chfn-prompt", lambda: chfn_stopped_at_prompt(c)),
             ("chfn-locks", lambda: chfn_lock_holder_stopped(c))]
    # Through twofad too, where the caller's process only relays the conversation: what
    # concerns the per-call server's own process (its exit with su, its limits and
    # priority, sudo's separate service) stays with the per-call transport.
    per_call_only = ("sudo-sigstop", "su-data", "su-abandoned", "su-priority")
    chosen = sys.argv[1:]  # by hand: the names of the cases to run (default all)
    for name, case in cases:
        if not chosen or name in chosen:
            case()
    c.through_twofad(module)
    for name, case in cases:
        if (not chosen or name in chosen) and name not in per_call_only:
            case()


if __name__ == "__main__":
    sys.exit(e2e.run(tests, PROGRAMS))
