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
    two: lib/ldap_socket.h);
  - all silent: TWOFA_EUNAVAIL within ldap_timeout x 2, the message naming
    every URI;
  - the dead-server memory: the second call skips the silent first server
    and does not pay its timeout again; its files are 0600 in a 0700 dir;
    a forged record is ignored;
  - a wrong CA and a host name the certificate does not name fail with a
    TLS message (status "config", not "unavailable": no cache may stand in);
  - a wrong bind password is TWOFA_EPERM, with no failover;
  - ldaprc in the working directory and HOME, LDAPURI, LDAPTLS_* are ignored;
  - ldap_tls = none to the loopback, ldapi:// with SASL EXTERNAL, the admin
    identity, and writes going to ldap_write_uri only;
  - a connection cut after the bind is never reopened by libldap on its own.
"""

import os
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time

from harness.paths import BUILDDIR
from harness.tap import Tap

PROBE = os.path.join(BUILDDIR, "tests", "ldapconn", "ldap_probe")
TIMEOUT = 2
SLACK = 3.0  # seconds of scheduling slack on a shared machine
BASE = "dc=example,dc=com"
LOGIN_DN = "cn=twofa-login,ou=services," + BASE
LOGIN_PW = "login pass phrase"
ADMIN_DN = "cn=twofa-admin,ou=services," + BASE
ADMIN_PW = "admin-pw"


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


class Silent:
    """Accepts TCP connections and never answers; with starttls, answers the
    StartTLS request with success and then says nothing (never finishes the
    handshake)."""

    def __init__(self, starttls=False):
        self.sock = socket.socket()
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.port = self.sock.getsockname()[1]
        self.starttls = starttls
        self.held = []
        threading.Thread(target=self.serve, daemon=True).start()

    def serve(self):
        while True:
            try:
                c, _ = self.sock.accept()
            except OSError:
                return
            self.held.append(c)
            if self.starttls:
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
        self.sock.close()
        for c in self.held:
            c.close()


class Proxy:
    """A TCP proxy to port that can cut every connection it carries and
    counts the connections it accepted."""

    def __init__(self, port):
        self.target = port
        self.sock = socket.socket()
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.port = self.sock.getsockname()[1]
        self.accepted = 0
        self.pairs = []
        threading.Thread(target=self.serve, daemon=True).start()

    def serve(self):
        while True:
            try:
                c, _ = self.sock.accept()
            except OSError:
                return
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
        self.sock.close()


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


def run(cmd, **kw):
    return subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, check=True, **kw)


class Slapd:
    """A throwaway slapd on 127.0.0.1 (ldap, ldaps, ldapi) with a test CA."""

    def __init__(self, top):
        self.dir = os.path.join(top, "slapd")
        os.makedirs(os.path.join(self.dir, "db"))
        os.makedirs(os.path.join(self.dir, "slapd.d"))
        self.port, self.tls_port = free_port(), free_port()
        self.ldapi = os.path.join(self.dir, "ldapi")
        d = self.dir
        self.ca = os.path.join(d, "ca.pem")
        self.other_ca = os.path.join(d, "other-ca.pem")
        for name in ("ca", "other-ca"):
            run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
                 "-subj", "/CN=twofa test %s" % name, "-keyout", os.path.join(d, name + ".key"),
                 "-out", os.path.join(d, name + ".pem")])
        run(["openssl", "req", "-newkey", "rsa:2048", "-nodes", "-subj", "/CN=127.0.0.1",
             "-keyout", os.path.join(d, "server.key"), "-out", os.path.join(d, "server.csr")])
        with open(os.path.join(d, "san.ext"), "w") as f:
            f.write("subjectAltName=IP:127.0.0.1,DNS:localhost\n")
        run(["openssl", "x509", "-req", "-in", os.path.join(d, "server.csr"), "-CA", self.ca,
             "-CAkey", os.path.join(d, "ca.key"), "-CAcreateserial", "-days", "2",
             "-extfile", os.path.join(d, "san.ext"), "-out", os.path.join(d, "server.pem")])
        config = """dn: cn=config
objectClass: olcGlobal
cn: config
olcPidFile: {d}/slapd.pid
olcTLSCACertificateFile: {ca}
olcTLSCertificateFile: {d}/server.pem
olcTLSCertificateKeyFile: {d}/server.key

dn: cn=module{{0}},cn=config
objectClass: olcModuleList
cn: module{{0}}
olcModulePath: /usr/lib/ldap
olcModuleLoad: back_mdb

dn: cn=schema,cn=config
objectClass: olcSchemaConfig
cn: schema

include: file:///etc/ldap/schema/core.ldif
include: file:///etc/ldap/schema/cosine.ldif
include: file:///etc/ldap/schema/inetorgperson.ldif

dn: olcDatabase={{-1}}frontend,cn=config
objectClass: olcDatabaseConfig
objectClass: olcFrontendConfig
olcDatabase: {{-1}}frontend

dn: olcDatabase={{0}}config,cn=config
objectClass: olcDatabaseConfig
olcDatabase: {{0}}config
olcAccess: {{0}}to * by * none

dn: olcDatabase={{1}}mdb,cn=config
objectClass: olcDatabaseConfig
objectClass: olcMdbConfig
olcDatabase: {{1}}mdb
olcSuffix: {base}
olcRootDN: cn=root,{base}
olcDbDirectory: {d}/db
olcAccess: {{0}}to attrs=userPassword by anonymous auth by * none
olcAccess: {{1}}to * by * read
""".format(d=d, ca=self.ca, base=BASE)
        data = """dn: {base}
objectClass: dcObject
objectClass: organization
dc: example
o: example

dn: ou=services,{base}
objectClass: organizationalUnit
ou: services

dn: {login}
objectClass: organizationalRole
objectClass: simpleSecurityObject
cn: twofa-login
userPassword: {login_pw}

dn: {admin}
objectClass: organizationalRole
objectClass: simpleSecurityObject
cn: twofa-admin
userPassword: {admin_pw}
""".format(base=BASE, login=LOGIN_DN, login_pw=LOGIN_PW, admin=ADMIN_DN, admin_pw=ADMIN_PW)
        for name, text in (("config.ldif", config), ("data.ldif", data)):
            with open(os.path.join(d, name), "w") as f:
                f.write(text)
        run(["slapadd", "-n0", "-F", os.path.join(d, "slapd.d"), "-l", os.path.join(d, "config.ldif")])
        run(["slapadd", "-n1", "-F", os.path.join(d, "slapd.d"), "-l", os.path.join(d, "data.ldif")])
        urls = "ldap://127.0.0.1:%d/ ldaps://127.0.0.1:%d/ ldapi://%s/" % (
            self.port, self.tls_port, self.ldapi.replace("/", "%2F"))
        self.proc = subprocess.Popen(["slapd", "-d", "0", "-F", os.path.join(d, "slapd.d"), "-h", urls],
                                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                socket.create_connection(("127.0.0.1", self.port), 0.2).close()
                if os.path.exists(self.ldapi):
                    break
            except OSError:
                time.sleep(0.05)

    @property
    def uri(self):
        return "ldap://127.0.0.1:%d" % self.port

    @property
    def tls_uri(self):
        return "ldaps://127.0.0.1:%d" % self.tls_port

    @property
    def ldapi_uri(self):
        return "ldapi://" + self.ldapi.replace("/", "%2F")

    def stop(self):
        self.proc.terminate()
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


class Case:
    counter = 0

    def __init__(self, top, slapd, uris, **keys):
        Case.counter += 1
        self.dir = os.path.join(top, "case%d" % Case.counter)
        os.makedirs(self.dir, mode=0o700)
        self.run_dir = keys.pop("run_dir", os.path.join(self.dir, "run"))
        lines = {"store": "ldap", "ldap_uri": " ".join(uris), "ldap_base": BASE,
                 "ldap_ca_file": slapd.ca, "ldap_timeout": str(TIMEOUT), "ldap_run_dir": self.run_dir,
                 "ldap_bind_dn": LOGIN_DN, "ldap_bind_password": LOGIN_PW,
                 "ldap_admin_bind_dn": ADMIN_DN, "ldap_admin_bind_password": ADMIN_PW}
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
        lines = [l.split(" ", 3) for l in p.stdout.splitlines() if l]
        return p.returncode, lines, elapsed, p.stdout


def main():
    t = Tap()
    if not os.path.exists("/usr/sbin/slapd"):
        print("1..0 # SKIP slapd is not installed (scripts/deps installs it)")
        return 0
    top = tempfile.mkdtemp(prefix="twofa-ldapconn-")
    os.chmod(top, 0o700)
    slapd = Slapd(top)
    silents = []

    def silent(starttls=False):
        s = Silent(starttls)
        silents.append(s)
        return s

    try:
        refused = "ldap://127.0.0.1:%d" % free_port()

        c = Case(top, slapd, [slapd.uri])
        rc, lines, elapsed, out = c.probe()
        t.ok(rc == 0 and lines[0][0] == "ok" and lines[0][3] == "dn:" + LOGIN_DN,
             "StartTLS to slapd, bound as ldap_bind_dn (%.2f s)" % elapsed, out)

        c = Case(top, slapd, [refused, slapd.uri])
        rc, lines, elapsed, out = c.probe()
        t.ok(rc == 0 and lines[0][2] == slapd.uri and elapsed < TIMEOUT / 2,
             "a refused first server: slapd answers at once (%.2f s)" % elapsed, out)

        s = silent()
        c = Case(top, slapd, ["ldap://127.0.0.1:%d" % s.port, slapd.uri])
        rc, lines, elapsed, out = c.probe()
        t.ok(rc == 0 and lines[0][2] == slapd.uri and TIMEOUT - 0.5 < elapsed < TIMEOUT + SLACK,
             "a silent TCP server first costs one ldap_timeout, then slapd (%.2f s)" % elapsed, out)

        s = silent()
        c = Case(top, slapd, ["ldaps://127.0.0.1:%d" % s.port, slapd.tls_uri])
        rc, lines, elapsed, out = c.probe()
        t.ok(rc == 0 and lines[0][2] == slapd.tls_uri and TIMEOUT - 0.5 < elapsed < TIMEOUT + SLACK,
             "an ldaps:// server that never finishes the handshake costs one ldap_timeout (%.2f s)" % elapsed,
             out)

        s = silent(starttls=True)
        c = Case(top, slapd, ["ldap://127.0.0.1:%d" % s.port, slapd.uri])
        rc, lines, elapsed, out = c.probe()
        t.ok(rc == 0 and lines[0][2] == slapd.uri and TIMEOUT - 0.5 < elapsed < TIMEOUT + SLACK,
             "a server that accepts StartTLS and never finishes the handshake costs one ldap_timeout "
             "(%.2f s)" % elapsed, out)

        a, b, d = silent(), silent(starttls=True), silent()
        uris = ["ldap://127.0.0.1:%d" % a.port, "ldap://127.0.0.1:%d" % b.port, "ldaps://127.0.0.1:%d" % d.port]
        c = Case(top, slapd, uris)
        rc, lines, elapsed, out = c.probe()
        t.ok(rc == 1 and lines[0][2] == "unavailable" and elapsed < 2 * TIMEOUT + SLACK
             and all(u in lines[0][3] for u in uris),
             "all silent: unavailable within ldap_timeout x 2 (%.2f s), every URI named" % elapsed, out)

        s = silent()
        first = "ldap://127.0.0.1:%d" % s.port
        c = Case(top, slapd, [first, slapd.uri])
        rc, lines, elapsed, out = c.probe("login", "read", "2")
        ms = [int(l[1]) for l in lines]
        t.ok(rc == 0 and len(lines) == 2 and all(l[0] == "ok" for l in lines) and ms[0] >= (TIMEOUT - 0.5) * 1000
             and ms[1] < TIMEOUT * 1000 / 2,
             "the dead-server memory: the second call skips the silent server (%s ms)" % ms, out)
        names = os.listdir(c.run_dir) if os.path.isdir(c.run_dir) else []
        modes = [os.stat(os.path.join(c.run_dir, n)).st_mode & 0o777 for n in names]
        t.ok(os.path.isdir(c.run_dir) and os.stat(c.run_dir).st_mode & 0o777 == 0o700 and len(names) == 1
             and modes == [0o600], "its record: one file, 0600, in a 0700 directory (%s %s)" % (names, modes))
        rc, lines, elapsed, out = c.probe("login", "read", "1")
        t.ok(rc == 0 and elapsed < TIMEOUT / 2, "a third process skips it too (%.2f s)" % elapsed, out)
        if names:
            os.chmod(os.path.join(c.run_dir, names[0]), 0o644)
        rc, lines, elapsed, out = c.probe()
        t.ok(rc == 0 and elapsed > TIMEOUT - 0.5,
             "a record others could have written (0644) is ignored: the timeout is paid (%.2f s)" % elapsed, out)
        forge(c.run_dir, first, 86400 * 1000)
        rc, lines, elapsed, out = c.probe()
        t.ok(rc == 0 and elapsed > TIMEOUT - 0.5,
             "a record marking a server dead for a day is ignored (%.2f s)" % elapsed, out)
        forge(c.run_dir, first, 20000, uid=65534)
        rc, lines, elapsed, out = c.probe()
        t.ok(rc == 0 and elapsed > TIMEOUT - 0.5, "so is one of another user's (%.2f s)" % elapsed, out)
        c = Case(top, slapd, [slapd.uri])
        forge(c.run_dir, slapd.uri, 20000)
        rc, lines, elapsed, out = c.probe()
        t.ok(rc == 0 and lines[0][2] == slapd.uri and elapsed < TIMEOUT / 2,
             "every server marked dead: they are tried anyway (%.2f s)" % elapsed, out)

        c = Case(top, slapd, [slapd.uri], ldap_ca_file=slapd.other_ca)
        rc, lines, elapsed, out = c.probe()
        t.ok(rc == 1 and lines[0][2] == "config" and "TLS" in lines[0][3] and slapd.uri in lines[0][3],
             "a wrong CA: a TLS error, not an outage", out)

        # The certificate names 127.0.0.1 and localhost, but libldap checks "localhost" as the
        # machine's own name (ldap_int_hostname), which it does not name.
        c = Case(top, slapd, [slapd.tls_uri.replace("127.0.0.1", "localhost")])
        rc, lines, elapsed, out = c.probe()
        t.ok(rc == 1 and lines[0][2] == "config" and "does not name the host" in lines[0][3],
             "ldaps:// to a name the certificate does not name: a TLS error", out)
        c = Case(top, slapd, ["ldaps://[::1]:%d" % slapd.tls_port, slapd.tls_uri])
        rc, lines, elapsed, out = c.probe()
        t.ok(rc == 0 and lines[0][2] == slapd.tls_uri, "an address slapd does not listen on: the next", out)

        s = silent()
        c = Case(top, slapd, [slapd.uri, "ldap://127.0.0.1:%d" % s.port], ldap_bind_password="wrong")
        rc, lines, elapsed, out = c.probe()
        t.ok(rc == 1 and lines[0][2] == "permission" and slapd.uri in lines[0][3] and elapsed < TIMEOUT / 2
             and str(s.port) not in lines[0][3] and "wrong" not in lines[0][3],
             "a wrong bind password: permission, no failover, no password in the message (%.2f s)" % elapsed,
             out)

        # ldaprc, .ldaprc, LDAPURI, LDAPTLS_*: none of them counts.
        s = silent()
        home = os.path.join(top, "home")
        os.makedirs(home, exist_ok=True)
        rcfile = "URI ldap://127.0.0.1:%d\nTLS_REQCERT never\nTLS_CACERT %s\nBINDDN cn=nobody\n" % (
            s.port, slapd.other_ca)
        for path in (os.path.join(home, "ldaprc"), os.path.join(home, ".ldaprc")):
            with open(path, "w") as f:
                f.write(rcfile)
        env = {"HOME": home, "LDAPURI": "ldap://127.0.0.1:%d" % s.port, "LDAPTLS_REQCERT": "never",
               "LDAPTLS_CACERT": slapd.other_ca, "LDAPRC": os.path.join(home, "ldaprc"),
               "LDAPCONF": os.path.join(home, "ldaprc"), "LDAPBINDDN": "cn=nobody"}
        c = Case(top, slapd, [slapd.uri])
        rc, lines, elapsed, out = c.probe(env=env, cwd=home)
        t.ok(rc == 0 and lines[0][3] == "dn:" + LOGIN_DN and elapsed < TIMEOUT / 2,
             "ldaprc in the cwd and HOME, LDAPURI and LDAPTLS_* are ignored", out)
        c = Case(top, slapd, [slapd.uri], ldap_ca_file=slapd.other_ca)
        rc, lines, elapsed, out = c.probe(env=env, cwd=home)
        t.ok(rc == 1 and lines[0][2] == "config", "LDAPTLS_REQCERT=never does not relax a wrong CA", out)

        c = Case(top, slapd, [slapd.uri], ldap_tls="none")
        rc, lines, elapsed, out = c.probe()
        t.ok(rc == 0 and lines[0][3] == "dn:" + LOGIN_DN, "ldap_tls = none to the loopback", out)

        c = Case(top, slapd, [slapd.ldapi_uri], ldap_sasl="external", ldap_bind_dn=None,
                 ldap_bind_password=None)
        rc, lines, elapsed, out = c.probe()
        t.ok(rc == 0 and "uidNumber=%d" % os.geteuid() in lines[0][3] and "cn=peercred" in lines[0][3],
             "ldapi:// with SASL EXTERNAL: the process's uid", out)

        c = Case(top, slapd, [slapd.tls_uri])
        rc, lines, elapsed, out = c.probe("admin")
        t.ok(rc == 0 and lines[0][3] == "dn:" + ADMIN_DN, "the admin identity binds as ldap_admin_bind_dn", out)

        s = silent()
        w = "ldap://127.0.0.1:%d" % s.port
        c = Case(top, slapd, [slapd.uri], ldap_write_uri=w)
        rc, lines, elapsed, out = c.probe("admin", "write")
        t.ok(rc == 1 and lines[0][2] == "unavailable" and w in lines[0][3] and slapd.uri not in lines[0][3],
             "writes go to ldap_write_uri only, never to a reader", out)
        c = Case(top, slapd, [slapd.uri, refused])
        rc, lines, elapsed, out = c.probe("admin", "write")
        t.ok(rc == 0 and lines[0][2] == slapd.uri, "ldap_write_uri unset: the first of ldap_uri", out)

        # A lost connection stays lost: libldap would reopen its default connection on its own,
        # in plain text, without StartTLS, the bind or any deadline.
        proxy = Proxy(slapd.port)
        silents.append(proxy)
        c = Case(top, slapd, ["ldap://127.0.0.1:%d" % proxy.port])
        p = subprocess.Popen([PROBE, c.config, "login", "read", "again"], stdin=subprocess.PIPE,
                             stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env={})
        first = p.stdout.readline().split(" ", 3)
        proxy.cut()
        time.sleep(0.2)
        try:
            out, _ = p.communicate("\n", timeout=30)
        except subprocess.TimeoutExpired:
            p.kill()
            out, _ = p.communicate()
        second = out.split(" ", 3)
        t.ok(first[0] == "ok" and second[0] == "fail" and second[2] == "unavailable" and proxy.accepted == 1,
             "a connection cut after the bind is not reopened behind the caller's back (%d connections)"
             % proxy.accepted, "%s\n%s" % (first, out))

        c = Case(top, slapd, [slapd.uri], ldap_bind_password=None)
        rc, lines, elapsed, out = c.probe()
        t.ok(rc == 1 and lines[0][2] == "config" and "ldap_bind_password" in lines[0][3],
             "a bind DN without its password is refused before any connection", out)
    finally:
        for s in silents:
            s.close()
        slapd.stop()
        shutil.rmtree(top, ignore_errors=True)
    return t.done()


if __name__ == "__main__":
    sys.exit(main())
