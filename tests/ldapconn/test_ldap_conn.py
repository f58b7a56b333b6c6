#!/usr/bin/python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""lib/ldap_conn.c against a real slapd and servers that never answer, in TAP.

tests/ldapconn/ldap_probe loads a twofa.conf, connects (twofa_ldap_connect)
and asks "Who am I?"; each case writes its own config. With ldap_timeout = 2
(budget 4 s), what is proven:

  - a refused first server costs nothing; slapd answers (fail over, fast);
  - a silent TCP server first (StartTLS request never answered), an ldaps://
    server that never finishes the handshake, and a server that accepts
    StartTLS and then never finishes the handshake each cost about one
    ldap_timeout, then slapd answers (libldap 2.5.13 alone hangs on the last
    two: lib/ldap_socket.h), as does an ldaps:// server silent after the
    handshake;
  - all silent (and a slapd stopped with SIGSTOP): TWOFA_EUNAVAIL within
    ldap_timeout x 2, the message naming every URI;
  - the dead-server memory: the second call skips the silent first server
    and does not pay its timeout again; its files are 0600 in a 0700 dir;
    with every server marked dead they are all tried anyway (the records
    that are ignored: tests/unit/test_ldap_dead.c);
  - a wrong CA and a host name the certificate does not name fail with a
    TLS message (status "config", not "unavailable": no cache may stand in);
  - a wrong bind password is TWOFA_EPERM, with no failover;
  - ldaprc in the working directory and HOME, LDAPURI, LDAPTLS_* are ignored;
  - ldap_tls = none to the loopback, SASL EXTERNAL over ldapi:// and with a
    client certificate, the admin identity, and writes going to
    ldap_write_uri only;
  - a connection cut after the bind is never reopened by libldap on its own;
  - a resolver that never answers costs one ldap_timeout per name (glibc's
    own: 10 s), in a private mount and network namespace.
"""

import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time

from harness import slapd as harness_slapd
from harness.paths import BUILDDIR, SRCDIR
from harness.slapd import Ca, SilentServer, Slapd, free_port
from harness.tap import Tap

PROBE = os.path.join(BUILDDIR, "tests", "ldapconn", "ldap_probe")
SUPP = os.path.join(SRCDIR, "tests", "ldapconn", "lsan-gnutls-client-cert.supp")
TIMEOUT = 2
SLACK = 3.0  # seconds of scheduling slack on a shared machine


class Listener:
    """A listener on a free 127.0.0.1 port (port, uri) that hands every connection it
    accepts to self.connected, until close(). A subclass sets its own attributes before
    calling __init__, which starts accepting."""

    def __init__(self):
        self.sock = socket.socket()
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.port = self.sock.getsockname()[1]
        self.uri = "ldap://127.0.0.1:%d" % self.port
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self):
        while True:
            try:
                c, _ = self.sock.accept()
            except OSError:
                return
            self.connected(c)

    def close(self):
        self.sock.close()


class StartTlsSilent(Listener):
    """Answers the StartTLS request with success, then says nothing: the
    handshake never finishes (harness.slapd.SilentServer covers silent TCP,
    ldaps:// and silence after a finished handshake)."""

    def __init__(self):
        self.held = []
        super().__init__()

    def connected(self, c):
        self.held.append(c)
        threading.Thread(target=self.answer_starttls, args=(c,), daemon=True).start()

    @staticmethod
    def answer_starttls(c):
        try:
            data = c.recv(4096)
            # LDAPMessage: 30 LL 02 <len> <id> 77 ... (short forms: small requests)
            if len(data) < 5 or data[0] != 0x30 or data[2] != 0x02:
                return
            mid = data[4:4 + data[3]]
            oid = b"1.3.6.1.4.1.1466.20037"
            body = b"\x0a\x01\x00\x04\x00\x04\x00\x8a" + bytes([len(oid)]) + oid
            msg = b"\x02" + bytes([len(mid)]) + mid + b"\x78" + bytes([len(body)]) + body
            c.sendall(b"\x30" + bytes([len(msg)]) + msg)
        except OSError:
            pass

    def close(self):
        super().close()
        for c in self.held:
            c.close()


class Proxy(Listener):
    """A TCP proxy to port that can cut every connection it carries and
    counts the connections it accepted (it goes on listening after a cut, so
    that a reconnect would be counted: harness.slapd.TcpProxy refuses it)."""

    def __init__(self, port):
        self.target = port
        self.accepted = 0
        self.pairs = []
        super().__init__()

    def connected(self, c):
        self.accepted += 1
        u = socket.create_connection(("127.0.0.1", self.target))
        self.pairs.append((c, u))
        for a, b in ((c, u), (u, c)):
            threading.Thread(target=self.pipe, args=(a, b), daemon=True).start()

    @staticmethod
    def pipe(a, b):
        try:
            while True:
                data = a.recv(65536)
                if not data:
                    break
                b.sendall(data)
        except OSError:
            pass
        for s in (a, b):
            try:
                s.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass

    def cut(self):
        for c, u in self.pairs:
            for s in (c, u):
                try:
                    s.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass
        self.pairs = []

    def close(self):
        self.cut()
        super().close()


def forge(run_dir, uri, ms_ahead, uid=0):
    """Writes the record lib/ldap_dead.c would write for uri, dead for ms_ahead
    more milliseconds (CLOCK_MONOTONIC, as time.monotonic())."""
    h = 0xcbf29ce484222325
    for b in uri.encode():
        h = ((h ^ b) * 0x100000001b3) & 0xffffffffffffffff
    os.makedirs(run_dir, mode=0o700, exist_ok=True)
    path = os.path.join(run_dir, "dead-%016x" % h)
    if os.path.exists(path):
        os.unlink(path)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write("twofa-ldap-dead 1\n%s\n%d\n" % (uri, int(time.monotonic() * 1000) + ms_ahead))
    os.chown(path, uid, uid)


class Case:
    """One twofa.conf for the directory d (its twofa_keys, ldap_timeout = TIMEOUT, a run
    directory of its own unless given), with keys overridden (None removes one)."""
    counter = 0

    def __init__(self, top, d, uris, **keys):
        Case.counter += 1
        self.dir = os.path.join(top, "case%d" % Case.counter)
        os.makedirs(self.dir, mode=0o700)
        self.run_dir = keys.pop("run_dir", os.path.join(self.dir, "run"))
        lines = d.twofa_keys()
        lines.update(ldap_uri=" ".join(uris), ldap_timeout=str(TIMEOUT), ldap_run_dir=self.run_dir)
        for k, v in keys.items():
            if v is None:
                lines.pop(k, None)
            else:
                lines[k] = v
        self.config = os.path.join(self.dir, "twofa.conf")
        fd = os.open(self.config, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as f:
            f.write("".join("%s = %s\n" % kv for kv in lines.items()))

    def probe(self, *args, env=None, cwd=None):
        start = time.monotonic()
        p = subprocess.run([PROBE, self.config] + list(args), stdout=subprocess.PIPE,
                           stderr=subprocess.STDOUT, text=True, env=env if env is not None else {},
                           cwd=cwd or self.dir, timeout=60)
        elapsed = time.monotonic() - start
        lines = [l.split(" ", 3) for l in p.stdout.splitlines() if l] or [["", "", "", ""]]
        return p.returncode, lines, elapsed, p.stdout


def main():
    t = Tap()
    harness_slapd.require(t, twofa_code=True)
    top = tempfile.mkdtemp(prefix="twofa-ldapconn-")
    os.chmod(top, 0o700)
    d = Slapd()
    other_ca = Ca(os.path.join(top, "other-ca"), "another CA").cert
    closers = [d]

    def silent(**kw):
        server = SilentServer(**kw)
        closers.append(server)
        return server

    def starttls_silent():
        server = StartTlsSilent()
        closers.append(server)
        return server

    def paid(elapsed):
        return TIMEOUT - 0.5 < elapsed < TIMEOUT + SLACK

    try:
        refused = "ldap://127.0.0.1:%d" % free_port()
        login = "dn:" + d.login_dn

        c = Case(top, d, [d.uri])
        rc, lines, elapsed, out = c.probe()
        t.ok(rc == 0 and lines[0][0] == "ok" and lines[0][3] == login,
             "StartTLS to slapd, bound as ldap_bind_dn (%.2f s)" % elapsed, out)

        c = Case(top, d, [refused, d.uri])
        rc, lines, elapsed, out = c.probe()
        t.ok(rc == 0 and lines[0][2] == d.uri and elapsed < TIMEOUT / 2,
             "a refused first server: slapd answers at once (%.2f s)" % elapsed, out)

        c = Case(top, d, [silent().uri, d.uri])
        rc, lines, elapsed, out = c.probe()
        t.ok(rc == 0 and lines[0][2] == d.uri and paid(elapsed),
             "a silent TCP server first costs one ldap_timeout, then slapd (%.2f s)" % elapsed, out)

        c = Case(top, d, [silent(tls=True).uri, d.ldaps_uri])
        rc, lines, elapsed, out = c.probe()
        t.ok(rc == 0 and lines[0][2] == d.ldaps_uri and paid(elapsed),
             "an ldaps:// server that never finishes the handshake costs one ldap_timeout (%.2f s)" % elapsed,
             out)

        c = Case(top, d, [starttls_silent().uri, d.uri])
        rc, lines, elapsed, out = c.probe()
        t.ok(rc == 0 and lines[0][2] == d.uri and paid(elapsed),
             "a server that accepts StartTLS and never finishes the handshake costs one ldap_timeout "
             "(%.2f s)" % elapsed, out)

        c = Case(top, d, [silent(tls=True, handshake=True).uri, d.ldaps_uri])
        rc, lines, elapsed, out = c.probe()
        t.ok(rc == 0 and lines[0][2] == d.ldaps_uri and paid(elapsed),
             "an ldaps:// server silent after the handshake costs one ldap_timeout (%.2f s)" % elapsed, out)

        uris = [silent().uri, starttls_silent().uri, silent(tls=True).uri]
        c = Case(top, d, uris)
        rc, lines, elapsed, out = c.probe()
        t.ok(rc == 1 and lines[0][2] == "unavailable" and elapsed < 2 * TIMEOUT + SLACK
             and all(u in lines[0][3] for u in uris),
             "all silent: unavailable within ldap_timeout x 2 (%.2f s), every URI named" % elapsed, out)

        d.pause()
        try:
            c = Case(top, d, [d.uri, refused])
            rc, lines, elapsed, out = c.probe()
        finally:
            d.resume()
        t.ok(rc == 1 and lines[0][2] == "unavailable" and elapsed < 2 * TIMEOUT + SLACK
             and d.uri in lines[0][3] and refused in lines[0][3],
             "a stopped slapd (SIGSTOP) and a refused one: unavailable in bounded time (%.2f s)" % elapsed, out)

        first = silent().uri
        c = Case(top, d, [first, d.uri])
        rc, lines, elapsed, out = c.probe("login", "read", "2")
        ms = [int(l[1]) for l in lines if l[1].isdigit()]
        t.ok(rc == 0 and len(lines) == 2 and all(l[0] == "ok" for l in lines) and len(ms) == 2
             and ms[0] >= (TIMEOUT - 0.5) * 1000 and ms[1] < TIMEOUT * 1000 / 2,
             "the dead-server memory: the second call skips the silent server (%s ms)" % ms, out)
        names = os.listdir(c.run_dir) if os.path.isdir(c.run_dir) else []
        modes = [os.stat(os.path.join(c.run_dir, n)).st_mode & 0o777 for n in names]
        t.ok(os.path.isdir(c.run_dir) and os.stat(c.run_dir).st_mode & 0o777 == 0o700 and len(names) == 1
             and modes == [0o600], "its record: one file, 0600, in a 0700 directory (%s %s)" % (names, modes))
        rc, lines, elapsed, out = c.probe("login", "read", "1")
        t.ok(rc == 0 and elapsed < TIMEOUT / 2, "a third process skips it too (%.2f s)" % elapsed, out)
        c = Case(top, d, [d.uri])
        forge(c.run_dir, d.uri, 20000)
        rc, lines, elapsed, out = c.probe()
        t.ok(rc == 0 and lines[0][2] == d.uri and elapsed < TIMEOUT / 2,
             "every server marked dead: they are tried anyway (%.2f s)" % elapsed, out)

        c = Case(top, d, [d.uri], ldap_ca_file=other_ca)
        rc, lines, elapsed, out = c.probe()
        t.ok(rc == 1 and lines[0][2] == "config" and "TLS" in lines[0][3] and d.uri in lines[0][3],
             "a wrong CA: a TLS error, not an outage", out)
        # The certificate names 127.0.0.1 and localhost, but libldap checks "localhost" as the
        # machine's own name (ldap_int_hostname), which it does not name.
        c = Case(top, d, [d.ldaps_uri.replace("127.0.0.1", "localhost")])
        rc, lines, elapsed, out = c.probe()
        t.ok(rc == 1 and lines[0][2] == "config" and "does not name the host" in lines[0][3],
             "ldaps:// to a name the certificate does not name: a TLS error", out)
        c = Case(top, d, ["ldaps://[::1]:%d" % d.ldaps_port, d.ldaps_uri])
        rc, lines, elapsed, out = c.probe()
        t.ok(rc == 0 and lines[0][2] == d.ldaps_uri, "an address slapd does not listen on: the next", out)

        quiet = silent()
        c = Case(top, d, [d.uri, quiet.uri], ldap_bind_password="wrong-pass-phrase")
        rc, lines, elapsed, out = c.probe()
        t.ok(rc == 1 and lines[0][2] == "permission" and d.uri in lines[0][3] and elapsed < TIMEOUT / 2
             and quiet.uri not in lines[0][3] and quiet.connections == 0 and "wrong-pass" not in out,
             "a wrong bind password: permission, no failover, no password in the message (%.2f s)" % elapsed,
             out)

        # ldaprc, .ldaprc, LDAPURI, LDAPTLS_*: none of them counts.
        quiet = silent()
        home = os.path.join(top, "home")
        os.makedirs(home, exist_ok=True)
        rcfile = "URI %s\nTLS_REQCERT never\nTLS_CACERT %s\nBINDDN cn=nobody\nSIZELIMIT 7\nDEREF always\n" % (
            quiet.uri, other_ca)
        for path in (os.path.join(home, "ldaprc"), os.path.join(home, ".ldaprc")):
            with open(path, "w") as f:
                f.write(rcfile)
        env = {"HOME": home, "LDAPURI": quiet.uri, "LDAPTLS_REQCERT": "never", "LDAPTLS_CACERT": other_ca,
               "LDAPRC": os.path.join(home, "ldaprc"), "LDAPCONF": os.path.join(home, "ldaprc"),
               "LDAPBINDDN": "cn=nobody", "LDAPTIMELIMIT": "9"}
        c = Case(top, d, [d.uri])
        rc, lines, elapsed, out = c.probe("login", "read", "options", env=env, cwd=home)
        t.ok(rc == 0 and lines[0][3] == login and elapsed < TIMEOUT / 2 and quiet.connections == 0
             and lines[1] == ["options", "0", "0", "0"],
             "ldaprc in the cwd and HOME, LDAPURI, LDAPTLS_* and LDAPTIMELIMIT are ignored: the handle "
             "keeps libldap's defaults (no size or time limit, never dereference)", out)
        c = Case(top, d, [d.uri], ldap_ca_file=other_ca)
        rc, lines, elapsed, out = c.probe(env=env, cwd=home)
        t.ok(rc == 1 and lines[0][2] == "config", "LDAPTLS_REQCERT=never does not relax a wrong CA", out)

        c = Case(top, d, [d.uri], ldap_tls="none")
        rc, lines, elapsed, out = c.probe()
        t.ok(rc == 0 and lines[0][3] == login, "ldap_tls = none to the loopback", out)

        c = Case(top, d, [d.ldapi_uri], ldap_sasl="external", ldap_bind_dn=None, ldap_bind_password=None)
        rc, lines, elapsed, out = c.probe()
        t.ok(rc == 0 and lines[0][3] == "dn:" + d.root_dn,
             "ldapi:// with SASL EXTERNAL: this process's uid, mapped by slapd", out)

        cert, key = d.client_cert(d.login_dn)
        c = Case(top, d, [d.uri], ldap_sasl="external", ldap_client_cert=cert, ldap_client_key=key,
                 ldap_bind_dn=None, ldap_bind_password=None)
        # libldap's own leak of the certificate and key (tests/ldapconn/lsan-*.supp), for the
        # asan variant; every other case runs with LeakSanitizer's defaults.
        rc, lines, elapsed, out = c.probe(env={"LSAN_OPTIONS": "suppressions=%s:print_suppressions=0" % SUPP})
        t.ok(rc == 0 and lines[0][3].lower() == login.lower(),
             "StartTLS with a client certificate and SASL EXTERNAL: its subject", out)

        c = Case(top, d, [d.ldaps_uri])
        rc, lines, elapsed, out = c.probe("admin")
        t.ok(rc == 0 and lines[0][3] == "dn:" + d.admin_dn, "the admin identity binds as ldap_admin_bind_dn", out)

        w = silent().uri
        c = Case(top, d, [d.uri], ldap_write_uri=w)
        rc, lines, elapsed, out = c.probe("admin", "write")
        t.ok(rc == 1 and lines[0][2] == "unavailable" and w in lines[0][3] and d.uri not in lines[0][3],
             "writes go to ldap_write_uri only, never to a reader", out)
        c = Case(top, d, [d.uri, refused])
        rc, lines, elapsed, out = c.probe("admin", "write")
        t.ok(rc == 0 and lines[0][2] == d.uri, "ldap_write_uri unset: the first of ldap_uri", out)

        # A lost connection stays lost: it is not reopened behind the caller's back.
        proxy = Proxy(d.port)
        closers.append(proxy)
        c = Case(top, d, [proxy.uri])
        p = subprocess.Popen([PROBE, c.config, "login", "read", "again"], stdin=subprocess.PIPE,
                             stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env={})
        first_line = p.stdout.readline().split(" ", 3)
        proxy.cut()
        time.sleep(0.2)
        try:
            out, _ = p.communicate("\n", timeout=30)
        except subprocess.TimeoutExpired:
            p.kill()
            out, _ = p.communicate()
        second = out.split(" ", 3)
        t.ok(first_line[0] == "ok" and second[0] == "fail" and second[2] == "unavailable" and proxy.accepted == 1,
             "a connection cut after the bind is not reopened behind the caller's back (%d connections)"
             % proxy.accepted, "%s\n%s" % (first_line, out))

        c = Case(top, d, [d.uri], ldap_bind_password=None)
        rc, lines, elapsed, out = c.probe()
        t.ok(rc == 1 and lines[0][2] == "config" and "ldap_bind_password" in lines[0][3],
             "a bind DN without its password is refused before any connection", out)

        # A resolver that never answers (in a private mount and network namespace: a
        # resolv.conf of the test's own naming a silent 127.0.0.1:53): the name costs one
        # ldap_timeout, not glibc's 5 s x 2, and the next server is tried.
        resolv = os.path.join(top, "resolv.conf")
        with open(resolv, "w") as f:
            f.write("nameserver 127.0.0.1\noptions timeout:5 attempts:2\n")
        c = Case(top, d, ["ldap://ldap.twofa-test.example", refused])
        script = ("ip link set lo up && mount --bind %s /etc/resolv.conf && "
                  "exec %s -c 'import socket, subprocess, sys, time; s = socket.socket(socket.AF_INET, "
                  "socket.SOCK_DGRAM); s.bind((\"127.0.0.1\", 53)); t = time.monotonic(); "
                  "p = subprocess.run(sys.argv[1:], stdout=subprocess.PIPE, text=True, env={}); "
                  "print(p.stdout.strip(), \"%%.2f\" %% (time.monotonic() - t))' %s %s") % (
                      resolv, sys.executable, PROBE, c.config)
        p = subprocess.run(["unshare", "-m", "-n", "sh", "-c", script], stdout=subprocess.PIPE,
                           stderr=subprocess.STDOUT, text=True, timeout=60)
        words = p.stdout.split()
        took = float(words[-1]) if words and re.fullmatch(r"[\d.]+", words[-1]) else 99
        t.ok(p.returncode == 0 and words[:3] == ["fail", words[1], "unavailable"] and "in time" in p.stdout
             and refused in p.stdout and "connection refused" in p.stdout and took < TIMEOUT + SLACK,
             "a silent resolver costs one ldap_timeout (%.2f s), then the next server" % took, p.stdout)
    finally:
        for thing in closers:
            thing.close()
        shutil.rmtree(top, ignore_errors=True)
    return t.done()


if __name__ == "__main__":
    sys.exit(main())
