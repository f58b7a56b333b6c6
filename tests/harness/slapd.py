# SPDX-License-Identifier: GPL-3.0-or-later
"""A throwaway OpenLDAP slapd for the tests (after python-ldap's slapdtest): its own
directory under /tmp, free 127.0.0.1 ports, cn=config built with slapadd -n0 (back_mdb,
core/cosine/nis/inetorgperson and the shipped etc/ldap/twofa.ldif) or a slapd.conf
(form="conf": the shipped twofa.schema), a throwaway CA for StartTLS and ldaps, ldapi in
its directory, started with -d 0 and stopped by PID (also at exit; it dies with the test:
PR_SET_PDEATHSIG). It never touches a system slapd, /etc/ldap/slapd.d or ports 389/636.
Behind the shipped twofa rules sit Debian's default ones (SITE_ACCESS), as on a real site.

    slapd.require(t)                        # first: fails the test when slapd is missing
    with Slapd() as s:                      # dc=example,dc=test, the shipped access rules
        s.uri, s.ldaps_uri, s.ldapi_uri     # ldap://127.0.0.1:P  ldaps://127.0.0.1:Q  ldapi://...
        s.ca_file, s.root_dn, s.root_pw     # the CA's PEM; the database's rootDN
        s.login_dn, s.login_pw(_file)       # cn=twofa-login,ou=services,BASE (read identity)
        s.admin_dn, s.admin_pw(_file)       # cn=twofa-admin,ou=services,BASE (write identity)
        s.people                            # ou=people,BASE: ldap_base
        s.twofa_keys(tls="starttls")        # {ldap_uri, ldap_base, ldap_bind_dn, ...} for twofa.conf
        dn = s.add_user("alice", "pw")      # uid=alice,ou=people,BASE (inetOrgPerson+posixAccount)
        s.add_member("alice", twofaPhone="+15551234567")   # adds twofaMember + the MUST set
        s.search("(uid=alice)", ["twofaPhone"], bind=s.user_bind("alice"))  # [(dn, {a: [v]})]
        s.modify(ldif, bind=s.login_bind()) # ldapmodify; a Result (rc, out, err, describe())
        s.slapadd(ldif)                     # bulk load offline (benchmarks)
        s.stop(); s.start()                 # same ports and data ("killed mid-login")
        s.kill(); s.pause(); s.resume()     # SIGKILL; SIGSTOP (accepts TCP, never answers)
        s.tls_env(ca_file=None, client_cert=None)   # env for a TLS client tool
        s.client_cert(s.login_dn)           # (cert, key): SASL EXTERNAL as that DN
    Slapd(schema="lax")                     # same names, no SINGLE-VALUE, no MUST (fault tests)
    Slapd(form="conf", enrol=True, access=False, tls=False, ...)   # see Slapd

    pair = SlapdPair()                      # two providers, olcMultiProvider + syncprov,
    pair.a, pair.b                          # each replicating from the other through a
    pair.cut(); pair.heal()                 # TcpProxy; pair.wait_on(pair.b, filter)

    s = SilentServer(tls=False)             # accepts TCP and never answers; tls=True: the
    s.uri                                   # same on ldaps (the handshake never finishes);
                                            # handshake=True: TLS completes, then silence

Binds: bind=None is the rootDN through ldapi SASL EXTERNAL (olcAuthzRegexp maps this
process's peercred to it); ANON is an anonymous simple bind; (dn, password_file) a simple
bind over ldap://. Passwords reach the tools only through files (-y), never argv. Every
child runs with LDAPNOINIT=1, so no ldaprc, ldap.conf or LDAP* variable counts; a TLS
client needs its CA though, and libldap takes TLS options only from the environment or a
config file: tls_env() gives the tools a config file of the instance's own (LDAPCONF)
with HOME in the instance's directory and every other LDAP* variable removed.
TWOFA_SLAPD_DEBUG=<level> (e.g. stats, -1) writes slapd's debug log to <dir>/slapd.log.
"""

import atexit
import base64
import ctypes
import hashlib
import os
import re
import secrets
import shutil
import signal
import socket
import ssl
import subprocess
import sys
import tempfile
import threading
import time

from harness.paths import SRCDIR

SLAPD = "/usr/sbin/slapd"
SLAPADD = "/usr/sbin/slapadd"
SLAPTEST = "/usr/sbin/slaptest"
MODULE_DIR = "/usr/lib/ldap"
SCHEMA_DIR = "/etc/ldap/schema"
SYSTEM_SCHEMAS = ("core", "cosine", "nis", "inetorgperson")
LDAP_DIR = os.path.join(SRCDIR, "etc", "ldap")
SHIPPED_BASE = "dc=example,dc=com"  # the placeholder the shipped files name
BASE = "dc=example,dc=test"
ANON = "anonymous"
START_TIMEOUT = 10.0
STOP_TIMEOUT = 5.0

# The site's own rules, as Debian's slapd package writes them; the shipped twofa
# rules go in front of them, as etc/ldap/README says.
SITE_ACCESS = (
    "to attrs=userPassword by self write by anonymous auth by * none",
    "to attrs=shadowLastChange by self write by * read",
    "to * by * read",
)

_live = []


def available():
    """Why no slapd can run here, or None."""
    for path in (SLAPD, SLAPADD, SLAPTEST, os.path.join(MODULE_DIR, "back_mdb.so")):
        if not os.path.exists(path):
            return "%s is missing (scripts/deps installs slapd)" % path
    for tool in ("ldapsearch", "ldapwhoami", "ldapadd", "ldapmodify", "openssl"):
        if not shutil.which(tool):
            return "%s is missing (scripts/deps installs ldap-utils and openssl)" % tool
    return None


def require(tap, twofa_code=False):
    """The first call of a test that needs slapd. Missing slapd or ldap-utils fail the
    test (scripts/deps installs them; a skip would hide a broken machine). A test that
    runs no twofa code (twofa_code=False: only slapd and the ldap tools, as tests/ldap)
    is skipped under the valgrind variant (TWOFA_VALGRIND), where it would only repeat
    the default run with nothing of twofa's under memcheck."""
    if not twofa_code and os.environ.get("TWOFA_VALGRIND"):
        print("1..0 # SKIP no twofa code runs here (slapd and ldap-utils only): memcheck adds nothing "
              "to the default run")
        sys.exit(0)
    why = available()
    if why:
        tap.ok(False, "slapd and the LDAP tools are installed", why)
        sys.exit(tap.done())


def free_port():
    """A free 127.0.0.1 port, picked by the kernel (bind to port 0)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def child_env(extra=None):
    """The environment of every LDAP child: no LDAP* variable of ours, LDAPNOINIT=1."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("LDAP")}
    env["LDAPNOINIT"] = "1"
    env.update(extra or {})
    return env


def tls_client_env(directory, ca_file, client_cert=None):
    """The environment of a TLS client: a config file of its own in directory (TLS_CACERT
    ca_file, TLS_REQCERT demand) through LDAPCONF, HOME there (no ~/.ldaprc), no other
    LDAP* variable. LDAPNOINIT would make libldap ignore the CA too. client_cert:
    (certificate, key) files, for SASL EXTERNAL (libldap takes them only from a user's
    ldaprc or LDAPTLS_CERT/LDAPTLS_KEY)."""
    path = os.path.join(directory, "ldap-client-%s.conf" % hashlib.sha1(ca_file.encode()).hexdigest()[:8])
    with open(path, "w") as f:
        f.write("TLS_CACERT %s\nTLS_REQCERT demand\nREFERRALS off\n" % ca_file)
    env = child_env({"LDAPCONF": path, "LDAPRC": "twofa-no-ldaprc", "HOME": directory})
    del env["LDAPNOINIT"]
    if client_cert:
        env["LDAPTLS_CERT"], env["LDAPTLS_KEY"] = client_cert
    return env


def ssha(password):
    """An {SSHA} userPassword value (slapd checks it; the clear text never reaches it)."""
    salt = secrets.token_bytes(8)
    digest = hashlib.sha1(password.encode() + salt).digest()
    return "{SSHA}" + base64.b64encode(digest + salt).decode()


def shipped(name, base):
    """A file of etc/ldap with its placeholder suffix replaced by base."""
    with open(os.path.join(LDAP_DIR, name)) as f:
        return f.read().replace(SHIPPED_BASE, base)


def ldif_values(text):
    """The attribute values of an LDIF text, unfolded, in order: [(attribute, value)]
    (comments, dn, changetype and the add:/- lines of a modify left out)."""
    lines = []
    for line in text.splitlines():
        if line.startswith(" ") and lines:
            lines[-1] += line[1:]
        elif line and not line.startswith("#"):
            lines.append(line)
    values = []
    for line in lines:
        name, _, value = line.partition(": ")
        if line != "-" and name not in ("dn", "changetype", "add", "replace", "delete"):
            values.append((name, value))
    return values


_prctl = ctypes.CDLL(None, use_errno=True).prctl  # looked up before any fork


def lax_schema(text):
    """The shipped schema (either form) made lax, same OIDs and names: no SINGLE-VALUE and
    every MUST a MAY, so a test can store two values in a single-valued field or a member
    without a required one, which the real schema refuses, and see twofa refuse to read it."""
    text = text.replace(" SINGLE-VALUE", "")
    must = re.search(r"MUST \(([^)]*)\)\s*MAY \(", text)
    if not must:
        raise ValueError("lax_schema: no MUST ( ... ) MAY ( in the schema")
    return text[:must.start()] + "MAY (" + must.group(1) + "$ " + text[must.end():]


def _die_with_parent():
    # The slapd must not outlive a test killed by a timeout (PR_SET_PDEATHSIG = 1). It
    # follows the thread that started it: start slapd from the test's main thread.
    _prctl(1, signal.SIGKILL)


class _Owned:
    """What the harness started and stops at exit, or earlier with close() / with."""

    def _own(self):
        _live.append(self)

    def _disown(self):
        if self in _live:
            _live.remove(self)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


class Result:
    def __init__(self, argv, rc, out, err):
        self.argv, self.rc, self.out, self.err = argv, rc, out, err

    def describe(self):
        return "$ %s\nrc=%s\nstdout: %s\nstderr: %s" % (" ".join(self.argv), self.rc,
                                                        self.out.strip(), self.err.strip())


def run(argv, input=None, env=None, timeout=30, check=False):
    p = subprocess.run(argv, input=input, capture_output=True, text=True, env=env or child_env(),
                       timeout=timeout)
    r = Result(argv, p.returncode, p.stdout, p.stderr)
    if check and r.rc != 0:
        raise RuntimeError("harness.slapd: command failed\n" + r.describe())
    return r


def parse_ldif(text):
    """ldapsearch -LLL -o ldif_wrap=no output -> [(dn, {attribute: [value, ...]})]; the
    attribute names as the server spelt them, values base64-decoded where it encoded them."""
    entries = []
    for block in text.strip().split("\n\n"):
        dn, attrs = None, {}
        for line in block.splitlines():
            if not line or line.startswith("#"):
                continue
            name, sep, value = line.partition(":")
            if not sep:
                continue
            if value.startswith(":"):
                value = base64.b64decode(value[1:].strip()).decode("utf-8", "replace")
            else:
                value = value[1:] if value.startswith(" ") else value
            if name == "dn":
                dn = value
            else:
                attrs.setdefault(name, []).append(value)
        if dn is not None:
            entries.append((dn, attrs))
    return entries


class Ca:
    """A throwaway certificate authority (openssl, P-256 keys): issue() signs a server or
    client certificate with it."""

    def __init__(self, directory, name="twofa test CA"):
        self.dir = directory
        os.makedirs(directory, exist_ok=True)
        self.key = os.path.join(directory, "ca.key")
        self.cert = os.path.join(directory, "ca.pem")
        self._openssl("req", "-x509", "-new", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256",
                      "-nodes", "-keyout", self.key, "-out", self.cert, "-days", "2",
                      "-subj", "/CN=%s" % name, "-addext", "basicConstraints=critical,CA:TRUE",
                      "-addext", "keyUsage=critical,keyCertSign,cRLSign")

    def _openssl(self, *args):
        run(["openssl"] + list(args), check=True)

    def issue(self, name, subject, san=None, client=False):
        """(certificate, key) files for subject (an openssl /A=b/C=d string)."""
        key = os.path.join(self.dir, name + ".key")
        csr = os.path.join(self.dir, name + ".csr")
        cert = os.path.join(self.dir, name + ".pem")
        ext = os.path.join(self.dir, name + ".ext")
        with open(ext, "w") as f:
            f.write("basicConstraints=CA:FALSE\n")
            f.write("extendedKeyUsage=%s\n" % ("clientAuth" if client else "serverAuth"))
            if san:
                f.write("subjectAltName=%s\n" % san)
        self._openssl("req", "-new", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
                      "-keyout", key, "-out", csr, "-subj", subject)
        self._openssl("x509", "-req", "-in", csr, "-CA", self.cert, "-CAkey", self.key,
                      "-CAcreateserial", "-days", "2", "-extfile", ext, "-out", cert)
        return cert, key


_shared = {}


def shared_ca():
    """One CA and one server certificate (127.0.0.1, localhost) per test process: every
    instance uses them, so a start costs no key generation."""
    if "ca" not in _shared:
        directory = tempfile.mkdtemp(prefix="twofa-ca.", dir="/tmp")
        atexit.register(shutil.rmtree, directory, True)
        ca = Ca(directory)
        ca.server_cert, ca.server_key = ca.issue("server", "/CN=127.0.0.1",
                                                 san="IP:127.0.0.1,DNS:localhost")
        _shared["ca"] = ca
    return _shared["ca"]


def _ldif_attr(name, value):
    return "%s: %s" % (name, value)


class Slapd(_Owned):
    """One slapd. form="ldif": cn=config (slapd -F) with the twofa.ldif schema and the
    shipped twofa-access.ldif applied by ldapmodify, as etc/ldap/README says; form="conf":
    a slapd.conf (slapd -f) including twofa.schema and twofa-access.conf. access=False
    leaves only the site's rules (every attribute readable by all); enrol=True adds the
    optional self-enrolment rules. schema=False leaves the twofa schema out (with
    access=False: the rules name its attributes); schema="lax" loads lax_schema() of it
    instead, for tests of what twofa does with what the real one refuses. populate=True
    adds the suffix entry, ou=people and ou=services, and with services=True the two
    service identities."""

    def __init__(self, base=BASE, tls=True, form="ldif", access=True, enrol=False, services=True,
                 port=None, ldaps_port=None, server_id=None, syncrepl=None, root_pw=None,
                 ca=None, debug=None, populate=True, schema=True, start=True):
        if form not in ("ldif", "conf"):
            raise ValueError("form is ldif or conf")
        self.base = base
        self.people = "ou=people," + base
        self.services_dn = "ou=services," + base
        self.tls = tls
        self.form = form
        self.access = access
        self.enrol = enrol
        self.schema = schema
        self.server_id = server_id
        self.syncrepl = syncrepl or []
        self.ca = ca or (shared_ca() if tls else None)
        self.debug = debug or os.environ.get("TWOFA_SLAPD_DEBUG", "0")
        self.dir = tempfile.mkdtemp(prefix="twofa-slapd.", dir="/tmp")
        self._given_ports = (port, ldaps_port)
        self._pick_ports()
        self.ldapi_path = os.path.join(self.dir, "ldapi")
        self.ldapi_uri = "ldapi://" + self.ldapi_path.replace("/", "%2F")
        self.ca_file = self.ca.cert if self.ca else None
        self.root_dn = "cn=admin," + base
        self.root_pw = root_pw or secrets.token_urlsafe(18)
        self.root_pw_file = self.password_file("root", self.root_pw)
        self.log_path = os.path.join(self.dir, "slapd.log")
        self.login_dn = "cn=twofa-login," + self.services_dn
        self.admin_dn = "cn=twofa-admin," + self.services_dn
        self.login_pw = self.admin_pw = None
        self.login_pw_file = self.admin_pw_file = None
        self.proc = None
        self._users = {}
        self._own()
        self._configure()
        if start:
            self._first_start()
            if self.access and form == "ldif" and not self.syncrepl:
                self.apply_shipped_access()
            if populate:
                self.add_base()
                if services:
                    self.add_services()

    def _pick_ports(self):
        port, ldaps_port = self._given_ports
        self.port = port or free_port()
        self.ldaps_port = (ldaps_port or free_port()) if self.tls else None
        self.uri = "ldap://127.0.0.1:%d" % self.port
        self.ldaps_uri = "ldaps://127.0.0.1:%d" % self.ldaps_port if self.tls else None

    def _first_start(self):
        # A port picked free can be taken before slapd binds it (by any connect of a
        # parallel test): slapd then exits at once. Ports the caller chose stay.
        for attempt in range(3):
            try:
                return self.start()
            except RuntimeError:
                if attempt == 2 or any(self._given_ports[:1 + self.tls]):
                    raise
                self._pick_ports()

    # ---- configuration -------------------------------------------------------------
    def password_file(self, name, password):
        path = os.path.join(self.dir, name + ".pw")
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as f:
            f.write(password)  # ldap tools' -y reads the whole file: no newline
        return path

    def _peercred_regexp(self):
        return "gidNumber=%d\\+uidNumber=%d,cn=peercred,cn=external,cn=auth" % (os.getgid(), os.getuid())

    def _modules(self):
        return ["back_mdb"] + (["syncprov"] if self.syncrepl else [])

    def _syncrepl_lines(self):
        lines = []
        for rid, provider in enumerate(self.syncrepl, 1):
            lines.append('rid=%03d provider=%s bindmethod=simple binddn="%s" credentials=%s '
                         'searchbase="%s" type=refreshAndPersist retry="1 +" timeout=2 '
                         'network-timeout=2 keepalive=5:2:1'
                         % (rid, provider, self.root_dn, self.root_pw, self.base))
        return lines

    def _twofa_schema(self, name):
        with open(os.path.join(LDAP_DIR, name)) as f:
            text = f.read()
        return lax_schema(text) if self.schema == "lax" else text

    def _configure(self):
        os.makedirs(os.path.join(self.dir, "db"))
        if self.form == "ldif":
            self._configure_ldif()
        else:
            self._configure_conf()

    def _configure_ldif(self):
        cfg = ["dn: cn=config", "objectClass: olcGlobal", "cn: config",
               "olcPidFile: %s/slapd.pid" % self.dir, "olcArgsFile: %s/slapd.args" % self.dir,
               'olcAuthzRegexp: {0}"%s" "%s"' % (self._peercred_regexp(), self.root_dn)]
        if self.server_id is not None:
            cfg.append("olcServerID: %d" % self.server_id)
        if self.ca:
            cfg += ["olcTLSCACertificateFile: " + self.ca.cert,
                    "olcTLSCertificateFile: " + self.ca.server_cert,
                    "olcTLSCertificateKeyFile: " + self.ca.server_key,
                    "olcTLSVerifyClient: allow"]
        cfg += ["", "dn: cn=module{0},cn=config", "objectClass: olcModuleList", "cn: module{0}",
                "olcModulePath: " + MODULE_DIR] + ["olcModuleLoad: " + m for m in self._modules()]
        cfg += ["", "dn: cn=schema,cn=config", "objectClass: olcSchemaConfig", "cn: schema", ""]
        text = "\n".join(cfg) + "\n"
        for name in SYSTEM_SCHEMAS:
            with open(os.path.join(SCHEMA_DIR, name + ".ldif")) as f:
                text += "\n" + f.read()
        if self.schema:
            text += "\n" + self._twofa_schema("twofa.ldif")
        db = ["", "dn: olcDatabase={-1}frontend,cn=config", "objectClass: olcDatabaseConfig",
              "objectClass: olcFrontendConfig", "olcDatabase: {-1}frontend", "olcSizeLimit: 500",
              "", "dn: olcDatabase={0}config,cn=config", "objectClass: olcDatabaseConfig",
              "olcDatabase: {0}config", "olcRootDN: " + self.root_dn,
              "", "dn: olcDatabase={1}mdb,cn=config", "objectClass: olcDatabaseConfig",
              "objectClass: olcMdbConfig", "olcDatabase: {1}mdb",
              "olcDbDirectory: %s/db" % self.dir, "olcSuffix: " + self.base,
              "olcRootDN: " + self.root_dn, "olcRootPW: " + ssha(self.root_pw),
              "olcDbMaxSize: 4294967296", "olcDbNoSync: TRUE",
              "olcDbIndex: objectClass eq", "olcDbIndex: uid eq", "olcDbIndex: entryCSN,entryUUID eq"]
        if self.schema:
            db.append("olcDbIndex: twofaUser eq")
        access, limits = list(SITE_ACCESS), []
        if self.access and self.syncrepl:
            # A provider takes its twofa rules at slapadd: an olcAccess change on a
            # database with a running consumer waits for it (~2 s); a single instance
            # gets them the admin's way, by ldapmodify (apply_shipped_access).
            shipped_values = []
            for name in (["twofa-enrol.ldif"] if self.enrol else []) + ["twofa-access.ldif"]:
                shipped_values += ldif_values(shipped(name, self.base))
            access = [re.sub(r"^\{\d+\}", "", v) for a, v in shipped_values if a == "olcAccess"] + access
            limits = [v for a, v in shipped_values if a == "olcLimits"]
        db += ["olcAccess: {%d}%s" % (i, rule) for i, rule in enumerate(access)]
        db += ["olcLimits: {%d}%s" % (i, limit) for i, limit in enumerate(limits)]
        db += ["olcSyncrepl: {%d}%s" % (i, line) for i, line in enumerate(self._syncrepl_lines())]
        if self.syncrepl:
            db += ["olcMultiProvider: TRUE",
                   "", "dn: olcOverlay={0}syncprov,olcDatabase={1}mdb,cn=config",
                   "objectClass: olcOverlayConfig", "objectClass: olcSyncProvConfig",
                   "olcOverlay: {0}syncprov", "olcSpCheckpoint: 100 1"]
        text += "\n".join(db) + "\n"
        path = os.path.join(self.dir, "config.ldif")
        with open(path, "w") as f:
            f.write(text)
        self.config = os.path.join(self.dir, "slapd.d")
        os.mkdir(self.config)
        run([SLAPADD, "-F", self.config, "-n0", "-l", path], check=True)
        run([SLAPTEST, "-F", self.config, "-u"], check=True)
        self._config_args = ["-F", self.config]

    def _configure_conf(self):
        lines = ["include %s/%s.schema" % (SCHEMA_DIR, n) for n in SYSTEM_SCHEMAS]
        if self.schema:
            path = os.path.join(self.dir, "twofa.schema")
            with open(path, "w") as f:
                f.write(self._twofa_schema("twofa.schema"))
            lines.append("include " + path)
        lines += ["pidfile %s/slapd.pid" % self.dir, "argsfile %s/slapd.args" % self.dir,
                  "modulepath " + MODULE_DIR] + ["moduleload " + m for m in self._modules()]
        # slapd.conf unescapes a quoted word once: the regular expression's \+ is \\+ here.
        lines.append('authz-regexp "%s" "%s"' % (self._peercred_regexp().replace("\\", "\\\\"), self.root_dn))
        if self.server_id is not None:
            lines.append("serverID %d" % self.server_id)
        if self.ca:
            lines += ["TLSCACertificateFile " + self.ca.cert, "TLSCertificateFile " + self.ca.server_cert,
                      "TLSCertificateKeyFile " + self.ca.server_key, "TLSVerifyClient allow"]
        lines += ["sizelimit 500", "database mdb", 'suffix "%s"' % self.base,
                  'rootdn "%s"' % self.root_dn, "rootpw " + ssha(self.root_pw),
                  "directory %s/db" % self.dir, "maxsize 4294967296", "dbnosync",
                  "index objectClass eq", "index uid eq", "index entryCSN,entryUUID eq"]
        if self.schema:
            lines.append("index twofaUser eq")
        if self.access:
            for name in (["twofa-enrol.conf"] if self.enrol else []) + ["twofa-access.conf"]:
                path = os.path.join(self.dir, name)
                with open(path, "w") as f:
                    f.write(shipped(name, self.base))
                lines.append("include " + path)
        lines += ["access " + rule for rule in SITE_ACCESS]
        lines += ["syncrepl " + line for line in self._syncrepl_lines()]
        if self.syncrepl:
            lines += ["multiprovider on", "overlay syncprov", "syncprov-checkpoint 100 1"]
        self.config = os.path.join(self.dir, "slapd.conf")
        with open(self.config, "w") as f:
            f.write("\n".join(lines) + "\n")
        run([SLAPTEST, "-f", self.config, "-u"], check=True)
        self._config_args = ["-f", self.config]

    def apply_shipped_access(self):
        """The shipped olcAccess rules (and, with enrol, the self-enrolment ones) by
        ldapmodify over ldapi, exactly as etc/ldap/README tells an admin to."""
        for name in ["twofa-access.ldif"] + (["twofa-enrol.ldif"] if self.enrol else []):
            self.modify(shipped(name, self.base), check=True)

    # ---- process -------------------------------------------------------------------
    def start(self):
        """Starts slapd (again: the same ports, config and data) and waits until it answers."""
        if self.proc is not None:
            raise RuntimeError("slapd already running")
        urls = [self.uri + "/", self.ldapi_uri + "/"]
        if self.tls:
            urls.append(self.ldaps_uri + "/")
        log = open(self.log_path, "ab")
        self.proc = subprocess.Popen([SLAPD] + self._config_args + ["-h", " ".join(urls), "-d", self.debug],
                                     stdin=subprocess.DEVNULL, stdout=log, stderr=log, env=child_env(),
                                     preexec_fn=_die_with_parent)
        log.close()
        deadline = time.monotonic() + START_TIMEOUT
        while True:
            if self.proc.poll() is not None:
                self.proc = None
                raise RuntimeError("slapd exited at start:\n" + self.log_tail())
            r = run(["ldapwhoami", "-Q", "-Y", "EXTERNAL", "-H", self.ldapi_uri])
            if r.rc == 0:
                return
            if time.monotonic() > deadline:
                self.stop()
                raise RuntimeError("slapd did not answer in %.0f s:\n%s\n%s"
                                   % (START_TIMEOUT, r.describe(), self.log_tail()))
            time.sleep(0.1)

    @property
    def pid(self):
        return self.proc.pid if self.proc else None

    def stop(self):
        """SIGTERM, then SIGKILL after STOP_TIMEOUT; returns its exit status."""
        if self.proc is None:
            return None
        if self.proc.poll() is None:
            os.kill(self.proc.pid, signal.SIGCONT)  # a paused one must see its SIGTERM
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(STOP_TIMEOUT)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        rc, self.proc = self.proc.returncode, None
        return rc

    def kill(self):
        """SIGKILL, as a crash would: start() brings it back on its data."""
        if self.proc is not None:
            self.proc.kill()
            self.proc.wait()
            self.proc = None

    def pause(self):
        """SIGSTOP: the kernel still completes TCP connects; nothing answers."""
        os.kill(self.proc.pid, signal.SIGSTOP)

    def resume(self):
        os.kill(self.proc.pid, signal.SIGCONT)

    def close(self):
        self.stop()
        shutil.rmtree(self.dir, ignore_errors=True)
        self._disown()

    def log_tail(self, lines=30):
        try:
            with open(self.log_path, errors="replace") as f:
                return "".join(f.readlines()[-lines:])
        except OSError:
            return ""

    # ---- clients -------------------------------------------------------------------
    def root_bind(self):
        return None

    def login_bind(self):
        return (self.login_dn, self.login_pw_file)

    def admin_bind(self):
        return (self.admin_dn, self.admin_pw_file)

    def user_bind(self, name):
        dn, pw_file = self._users[name]
        return (dn, pw_file)

    def _bind_args(self, bind, uri):
        if bind is None:
            return ["-Q", "-Y", "EXTERNAL", "-H", self.ldapi_uri]
        if bind == ANON:
            return ["-x", "-H", uri or self.uri]
        dn, pw_file = bind
        return ["-x", "-H", uri or self.uri, "-D", dn, "-y", pw_file]

    def tls_env(self, ca_file=None, client_cert=None):
        """tls_client_env in this instance's directory, trusting its CA (or ca_file)."""
        return tls_client_env(self.dir, ca_file or self.ca_file, client_cert)

    def client_cert(self, dn):
        """(certificate, key) of the test CA whose subject is dn: with it, a SASL EXTERNAL
        bind over StartTLS or ldaps is dn (olcTLSVerifyClient allow, no mapping)."""
        rdns = [rdn.split("=", 1) for rdn in dn.split(",")]
        subject = "".join("/%s=%s" % (k.upper(), v) for k, v in reversed(rdns))
        name = "client-" + hashlib.sha1(dn.encode()).hexdigest()[:12]
        return self.ca.issue(name, subject, client=True)

    def tool(self, name, args, bind=None, uri=None, input=None, env=None, timeout=30, check=False):
        argv = [name] + self._bind_args(bind, uri) + list(args)
        return run(argv, input=input, env=env, timeout=timeout, check=check)

    def whoami(self, bind=None, uri=None, starttls=False, env=None):
        return self.tool("ldapwhoami", ["-ZZ"] if starttls else [], bind, uri, env=env)

    def add_ldif(self, text, bind=None, check=True):
        return self.tool("ldapadd", [], bind, input=text, check=check)

    def modify(self, text, bind=None, check=False):
        return self.tool("ldapmodify", [], bind, input=text, check=check)

    def search_raw(self, filter="(objectClass=*)", attrs=(), base=None, scope="sub", bind=None, uri=None,
                   extra=(), env=None):
        args = ["-LLL", "-o", "ldif_wrap=no", "-b", base or self.base, "-s", scope] + list(extra)
        return self.tool("ldapsearch", args + [filter] + list(attrs), bind, uri, env=env)

    def search(self, filter="(objectClass=*)", attrs=(), base=None, scope="sub", bind=None, uri=None):
        """[(dn, {attribute: [values]})]; raises when the search fails (32, no such
        object, is an empty list)."""
        r = self.search_raw(filter, attrs, base, scope, bind, uri)
        if r.rc == 32:
            return []
        if r.rc != 0:
            raise RuntimeError("harness.slapd: search failed\n" + r.describe())
        return parse_ldif(r.out)

    # ---- content -------------------------------------------------------------------
    def add_base(self):
        """The suffix entry, ou=people and ou=services."""
        rdn = self.base.split(",")[0].split("=", 1)[1]
        self.add_ldif("\n\n".join([
            "dn: %s\nobjectClass: dcObject\nobjectClass: organization\ndc: %s\no: %s" % (self.base, rdn, rdn),
            "dn: %s\nobjectClass: organizationalUnit\nou: people" % self.people,
            "dn: %s\nobjectClass: organizationalUnit\nou: services" % self.services_dn]) + "\n")

    def add_services(self, login_pw=None, admin_pw=None):
        """cn=twofa-login and cn=twofa-admin under ou=services, with passwords (files)."""
        self.login_pw = login_pw or secrets.token_urlsafe(18)
        self.admin_pw = admin_pw or secrets.token_urlsafe(18)
        self.login_pw_file = self.password_file("twofa-login", self.login_pw)
        self.admin_pw_file = self.password_file("twofa-admin", self.admin_pw)
        if self.search(base=self.login_dn, scope="base", attrs=["1.1"]):
            return  # a replica: the identities came with the data
        self.add_ldif("\n\n".join(
            "dn: %s\nobjectClass: organizationalRole\nobjectClass: simpleSecurityObject\ncn: %s\nuserPassword: %s"
            % (dn, dn.split(",")[0][3:], ssha(pw))
            for dn, pw in ((self.login_dn, self.login_pw), (self.admin_dn, self.admin_pw))) + "\n")

    def user_dn(self, name):
        return "uid=%s,%s" % (name, self.people)

    def add_user(self, name, password=None, uid_number=None, extra=None):
        """An inetOrgPerson + posixAccount entry uid=name,ou=people,BASE; returns its DN.
        extra: {attribute: value or [values]} added to it (a twofaMember class included)."""
        dn = self.user_dn(name)
        password = password or secrets.token_urlsafe(12)
        uid_number = uid_number or 20000 + len(self._users)
        lines = ["dn: " + dn, "objectClass: inetOrgPerson", "objectClass: posixAccount",
                 "uid: " + name, "cn: " + name, "sn: " + name, "uidNumber: %d" % uid_number,
                 "gidNumber: %d" % uid_number, "homeDirectory: /home/" + name,
                 "userPassword: " + ssha(password)]
        for attr, value in (extra or {}).items():
            lines += [_ldif_attr(attr, v) for v in (value if isinstance(value, list) else [value])]
        self.add_ldif("\n".join(lines) + "\n")
        self.remember_user(name, password)
        return dn

    def remember_user(self, name, password):
        """Makes user_bind(name) work for a user added by other means (or on a replica)."""
        self._users[name] = (self.user_dn(name), self.password_file("user-" + name, password))

    def add_member(self, name, bind=None, **attrs):
        """Adds the twofaMember class and its MUST attributes (defaults: an active sms member,
        version 1) plus attrs to the entry of name; returns the Result of ldapmodify."""
        values = {"twofaUser": name, "twofaStatus": "active", "twofaChannel": "sms", "twofaVersion": "1",
                  "twofaCreated": "20260101000000Z", "twofaUpdated": "20260101000000Z"}
        values.update(attrs)
        lines = ["dn: " + self.user_dn(name), "changetype: modify", "add: objectClass",
                 "objectClass: twofaMember", "-"]
        for attr, value in values.items():
            lines += ["add: " + attr] + [_ldif_attr(attr, v) for v in
                                         (value if isinstance(value, list) else [value])] + ["-"]
        return self.modify("\n".join(lines) + "\n", bind=bind, check=bind is None)


    def slapadd(self, text):
        """Loads LDIF entries offline (slapadd -q: far faster than ldapadd for the 100k
        members of a benchmark): stops the server if it runs, loads, starts it again."""
        running = self.proc is not None
        self.stop()
        path = os.path.join(self.dir, "bulk.ldif")
        with open(path, "w") as f:
            f.write(text)
        try:
            run([SLAPADD, "-q"] + self._config_args + ["-b", self.base, "-l", path], check=True, timeout=600)
        finally:
            os.unlink(path)
        if running:
            self.start()

    def twofa_keys(self, tls="starttls", admin=True):
        """twofa.conf's ldap keys (issue 13 item 4) for this instance, as {key: value}:
        the login identity, and with admin the admin identity too. tls: starttls (ldap://
        and the CA), ldaps or none (ldap://127.0.0.1, plain)."""
        keys = {"store": "ldap", "ldap_uri": self.ldaps_uri if tls == "ldaps" else self.uri,
                "ldap_base": self.people, "ldap_tls": tls,
                "ldap_bind_dn": self.login_dn, "ldap_bind_password": self.login_pw}
        if tls != "none":
            keys["ldap_ca_file"] = self.ca_file
        if admin:
            keys.update(ldap_admin_bind_dn=self.admin_dn, ldap_admin_bind_password=self.admin_pw)
        return keys


def wait_for(predicate, timeout=10.0, interval=0.1):
    """Polls predicate until it is true or timeout seconds passed; its last value."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value or time.monotonic() > deadline:
            return value
        time.sleep(interval)


class TcpProxy:
    """A cuttable TCP forwarder on 127.0.0.1: cut() closes its listener and every connection
    through it (the far side sees a reset, new connects are refused); heal() listens again on
    the same port. accepted counts the connections it took."""

    def __init__(self, target_port, port=None):
        self.target = ("127.0.0.1", target_port)
        self.port = port or free_port()
        self.accepted = 0
        self._lock = threading.Lock()
        self._conns = []
        self._listener = None
        self.heal()

    def heal(self):
        with self._lock:
            if self._listener is not None:
                return
            s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            s.bind(("127.0.0.1", self.port))
            s.listen(16)
            self._listener = s
        threading.Thread(target=self._accept, args=(s,), daemon=True).start()

    def cut(self):
        with self._lock:
            listener, self._listener = self._listener, None
            conns, self._conns = self._conns, []
        if listener is not None:
            try:
                listener.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            listener.close()
        for c in conns:
            _abort(c)

    close = cut

    def _accept(self, listener):
        while True:
            try:
                client, _ = listener.accept()
            except OSError:
                return
            self.accepted += 1
            try:
                upstream = socket.create_connection(self.target, timeout=5)
                upstream.settimeout(None)
            except OSError:
                _abort(client)
                continue
            with self._lock:
                if self._listener is not listener:
                    _abort(client)
                    _abort(upstream)
                    return
                self._conns += [client, upstream]
            threading.Thread(target=self._pump, args=(client, upstream), daemon=True).start()
            threading.Thread(target=self._pump, args=(upstream, client), daemon=True).start()

    def _pump(self, src, dst):
        try:
            while True:
                data = src.recv(65536)
                if not data:
                    break
                dst.sendall(data)
        except OSError:
            pass
        for s in (src, dst):
            try:
                s.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass


def _abort(sock):
    try:
        sock.shutdown(socket.SHUT_RDWR)
    except OSError:
        pass
    sock.close()


class SlapdPair(_Owned):
    """Two providers (olcMultiProvider, syncprov, olcServerID 1 and 2), each replicating the
    other's data through a TcpProxy: a.proxy leads to a, b.proxy to b; b consumes from
    a.proxy and a from b.proxy. cut() severs both links, heal() restores them. Both share
    the root password and the CA; the suffix, ou=people/ou=services and the service
    identities are added on a and reach b by replication."""

    def __init__(self, base=BASE, tls=True, form="ldif", access=True, enrol=False):
        ports = {name: free_port() for name in ("a", "b")}
        self.proxy_a = TcpProxy(ports["a"])
        self.proxy_b = TcpProxy(ports["b"])
        root_pw = secrets.token_urlsafe(18)
        common = dict(base=base, tls=tls, form=form, access=access, enrol=enrol, root_pw=root_pw)
        self.a = Slapd(port=ports["a"], server_id=1, syncrepl=["ldap://127.0.0.1:%d" % self.proxy_b.port],
                       **common)
        self.b = Slapd(port=ports["b"], server_id=2, syncrepl=["ldap://127.0.0.1:%d" % self.proxy_a.port],
                       populate=False, **common)
        login_pw, admin_pw = self.a.login_pw, self.a.admin_pw
        if not wait_for(lambda: self.b.search(base=self.a.admin_dn, scope="base", attrs=["1.1"])):
            raise RuntimeError("harness.slapd: b did not replicate a's entries in 10 s:\n"
                               + self.b.log_tail())
        self.b.add_services(login_pw, admin_pw)

    def add_user(self, name, password=None, on="a", **kw):
        """Adds the user on one side and makes user_bind(name) work on both."""
        password = password or secrets.token_urlsafe(12)
        dn = getattr(self, on).add_user(name, password, **kw)
        for s in (self.a, self.b):
            s.remember_user(name, password)
        return dn

    def wait_on(self, server, filter, attrs=("1.1",), timeout=10.0, want=True):
        """Polls server (as its rootDN) until filter matches (want=False: matches nothing);
        True when it did within timeout."""
        return bool(wait_for(lambda: bool(server.search(filter, list(attrs))) == want, timeout))

    def cut(self):
        self.proxy_a.cut()
        self.proxy_b.cut()

    def heal(self):
        self.proxy_a.heal()
        self.proxy_b.heal()

    def close(self):
        self.cut()
        self.a.close()
        self.b.close()


class SilentServer(_Owned):
    """A TCP listener on 127.0.0.1 that accepts every connection and never sends a byte:
    a hung directory server. With tls=False its uri is ldap:// (an LDAP bind or a StartTLS
    request is never answered), with tls=True ldaps:// (the TLS handshake never finishes).
    handshake=True (with tls) completes the TLS handshake with the shared test certificate
    and then stays silent. connections counts the accepted ones."""

    def __init__(self, tls=False, handshake=False):
        self.port = free_port()
        self.uri = "%s://127.0.0.1:%d" % ("ldaps" if tls else "ldap", self.port)
        self.connections = 0
        self._held = []
        self._ctx = None
        if tls and handshake:
            ca = shared_ca()
            self._ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            self._ctx.load_cert_chain(ca.server_cert, ca.server_key)
            self.ca_file = ca.cert
        self._listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._listener.bind(("127.0.0.1", self.port))
        self._listener.listen(64)
        threading.Thread(target=self._accept, daemon=True).start()
        self._own()

    def _accept(self):
        while True:
            try:
                conn, _ = self._listener.accept()
            except OSError:
                return
            self.connections += 1
            self._held.append(conn)  # held open, never read, never written
            if self._ctx is not None:
                threading.Thread(target=self._handshake, args=(conn,), daemon=True).start()

    def _handshake(self, conn):
        try:
            conn.settimeout(10)
            self._held.append(self._ctx.wrap_socket(conn, server_side=True))
        except (OSError, ssl.SSLError):
            pass

    def close(self):
        try:
            self._listener.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        self._listener.close()
        for c in self._held:
            try:
                c.close()
            except OSError:
                pass
        self._held = []
        self._disown()


@atexit.register
def _close_all():
    for thing in list(_live):
        thing.close()
