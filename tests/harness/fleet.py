# SPDX-License-Identifier: GPL-3.0-or-later
"""Hosts of a fleet for the tests (issue 13): each host is a private twofa world
(harness.cli's Cli, whose Env also serves harness.pam's run_pam) with store = ldap
naming servers of harness.slapd, its own state.db and member cache, and its own
ldap_run_dir (the dead-server memory), so hosts never share per-host state.

    sim = Sim()
    pair = SlapdPair()
    a = Host(sim, pair.a)                           # ldap_uri = A, plain ldap:// on loopback
    b = Host(sim, pair.a, uris=[pair.b.uri])        # the same directory's keys, through B
    r = a.enroll("alice", PASSWORD, PHONE)          # twofa-enroll add on host a
    login = b.login("alice", PASSWORD, PHONE)       # real libpam: auth + acct, syslog kept
    login.codes(), login.seconds, login.log         # PAM codes, wall time, syslog texts
    b.forget_dead_servers()                         # a fresh ldap_run_dir

    hold = HoldingProxy(pair.a.port_of_uri)         # an LDAP-aware forwarder that can hold
    hold.arm(MODIFY)                                # the next modify request until release()
    hold.arm(SEARCH, 3)                             # the third search from now
"""

import os
import shutil
import socket
import sys
import threading
import time

from harness.cli import CODE, Cli
from harness.pam import SyslogCapture, run_pam
from harness.slapd import TcpProxy

TIMEOUT = 1  # ldap_timeout of the hosts unless a test says otherwise (the smallest allowed)
MODIFY = 0x66  # BER tag of an LDAP ModifyRequest ([APPLICATION 6], constructed)
SEARCH = 0x63  # BER tag of an LDAP SearchRequest ([APPLICATION 3], constructed)


def skip_under_valgrind():
    """The fleet suites report SKIP under the valgrind variant (TWOFA_VALGRIND): there
    they take three times as long (test_fleet.py 69 s instead of 21 s) for a memcheck of
    pam_driver and the CLI only (the variant runs no server of theirs under memcheck),
    which the PAM and CLI suites already give; tests/fleet/fleet.am says how their
    servers were checked under memcheck instead."""
    if os.environ.get("TWOFA_VALGRIND"):
        print("1..0 # SKIP the fleet suites under memcheck: three times slower for nothing the PAM and "
              "CLI suites do not check already")
        sys.exit(0)


class Login:
    """A run_pam run, its wall time and its syslog records (harness.pam.SyslogCapture)."""

    def __init__(self, run, seconds, records):
        self.run, self.seconds, self.records = run, seconds, records
        self.log = [r["message"] for r in records]

    def codes(self):
        return self.run.codes()

    def lines(self, word, severity=None):
        """Messages holding word (at severity, e.g. "warning")."""
        return [r["message"] for r in self.records
                if word in r["message"] and severity in (None, r["severity"])]

    def describe(self):
        return "%.2f s\n%s\nsyslog:\n%s" % (self.seconds, self.run.describe(), "\n".join(self.log))


class Host:
    """One host: twofa.conf = the simulator's fragment + server's twofa_keys(tls) +
    ldap_uri (uris, in order) + ldap_timeout + a private ldap_run_dir + config."""

    def __init__(self, sim, server, uris=None, tls="none", timeout=TIMEOUT, config=None):
        self.sim = sim
        self.cli = Cli(sim, prefix="twofa-fleet-")
        self.env = self.cli.env
        os.makedirs(self.env.dbdir, 0o700, exist_ok=True)
        self.run_dir = os.path.join(self.env.dir, "ldap-run")
        self.cache_db = os.path.join(self.env.dbdir, "member-cache.db")
        keys = server.twofa_keys(tls=tls)
        if uris is not None:
            keys["ldap_uri"] = ",".join(uris)
        keys.update(ldap_timeout=str(timeout), ldap_run_dir=self.run_dir)
        keys.update(config or {})
        self.forget_dead_servers()
        self.env.write_config(keys)
        self.syslog = SyslogCapture(self.env)
        self.services = {}

    def set(self, **keys):
        """Changes keys of twofa.conf (None drops one)."""
        self.env.write_config({k: (None if v is None else str(v)) for k, v in keys.items()})

    def forget_dead_servers(self):
        shutil.rmtree(self.run_dir, ignore_errors=True)
        os.makedirs(self.run_dir, 0o700)

    def service(self, args=""):
        """A PAM service of auth + account lines of pam_twofa with args; its name."""
        name = self.services.get(args)
        if name is None:
            name = "fleet%d" % len(self.services)
            self.env.service(name, [self.env.twofa_line(args), self.env.twofa_line(args, kind="account")])
            self.services[args] = name
        return name

    def enroll(self, user, password, phone, country="US"):
        """twofa-enroll add on this host: password twice, then the code sent to phone."""
        return self.cli.enroll(user, phone, country, [password, password, CODE])

    def admin(self, *args, input=None):
        return self.cli.run(*args, input=input)

    def login(self, user, password, phone=None, ops=("auth", "acct"), args="", answers=None,
              rhost="192.0.2.10"):
        """auth (+ acct) for user through real libpam: the password, then the newest code
        sent to phone (answers replaces both). A Login with this run's syslog texts."""
        if answers is None:
            answers = [password, self.sim.code_answer(phone)] if phone else [password]
        self.syslog.clear()
        start = time.monotonic()
        run = run_pam(self.env, self.service(args), user, list(ops), answers=answers, rhost=rhost,
                      syslog=self.syslog)
        seconds = time.monotonic() - start
        time.sleep(0.05)  # the last datagrams
        return Login(run, seconds, self.syslog.lines())

    def close(self):
        self.syslog.close()
        self.cli.cleanup()


def _ber_length(buf, at):
    """(length, bytes of the length field) of the BER length at buf[at], or None if
    buf does not hold all of it yet."""
    if len(buf) <= at:
        return None
    first = buf[at]
    if first < 0x80:
        return first, 1
    n = first & 0x7F
    if len(buf) < at + 1 + n:
        return None
    return int.from_bytes(buf[at + 1:at + 1 + n], "big"), 1 + n


def _split_message(buf):
    """(one whole LDAPMessage, rest) from the front of buf, or (None, buf)."""
    got = _ber_length(buf, 1)
    if got is None:
        return None, buf
    length, size = got
    total = 1 + size + length
    if len(buf) < total:
        return None, buf
    return bytes(buf[:total]), buf[total:]


def _operation_tag(message):
    """The protocolOp tag of an LDAPMessage: after SEQUENCE and the messageID INTEGER."""
    _, size = _ber_length(message, 1)
    at = 1 + size  # the messageID's tag
    id_length, id_size = _ber_length(message, at + 1)
    return message[at + 1 + id_size + id_length]


class HoldingProxy:
    """A TCP forwarder on 127.0.0.1 to target_port that reads the client's LDAP messages
    one by one and, once armed with a tag, holds the next request with that tag (e.g.
    MODIFY) until release(): so a test can stop a client between its read and its
    write, deterministically. Plain LDAP only (no StartTLS through it)."""

    def __init__(self, target_port):
        self.target_port = target_port
        self._listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._listener.bind(("127.0.0.1", 0))
        self._listener.listen(16)
        self.port = self._listener.getsockname()[1]
        self.uri = "ldap://127.0.0.1:%d" % self.port
        self._tag = None
        self._left = 0
        self.held = threading.Event()
        self._release = threading.Event()
        self._socks = []
        threading.Thread(target=self._accept, daemon=True).start()

    def arm(self, tag, nth=1):
        """Holds the nth next request with tag (the ones before it pass)."""
        self.held.clear()
        self._release.clear()
        self._left = nth
        self._tag = tag

    def release(self):
        self._tag = None
        self._release.set()

    def _accept(self):
        while True:
            try:
                client, _ = self._listener.accept()
            except OSError:
                return
            server = socket.create_connection(("127.0.0.1", self.target_port))
            self._socks += [client, server]
            threading.Thread(target=self._requests, args=(client, server), daemon=True).start()
            # The answers pass as they come (TcpProxy's pump uses nothing of its self).
            threading.Thread(target=TcpProxy._pump, args=(self, server, client), daemon=True).start()

    def _requests(self, src, dst):
        buf = b""
        try:
            while True:
                data = src.recv(65536)
                if not data:
                    break
                buf += data
                while True:
                    message, buf = _split_message(buf)
                    if message is None:
                        break
                    if self._tag is not None and _operation_tag(message) == self._tag:
                        self._left -= 1
                        if self._left == 0:
                            self.held.set()
                            self._release.wait(30)
                    dst.sendall(message)
        except OSError:
            pass
        finally:
            _shut(dst)

    def close(self):
        self.release()
        self._listener.close()
        for s in self._socks:
            _shut(s)
            s.close()


def _shut(sock):
    try:
        sock.shutdown(socket.SHUT_RDWR)
    except OSError:
        pass
