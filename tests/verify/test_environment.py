#!/usr/bin/python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""The caller's environment and twofa (audit #1), through the real libpam driver
(harness.pam) and the Twilio simulator over https. Since issue 12 the module in the
caller's process only relays the conversation; twofa-server, which it starts for each PAM
call with an empty environment, does the TLS, the stores and the user lookups.

- The server's environment is empty: at the code prompt the test reads
  /proc/<server>/environ (the server is the driver's child) for a root run and for a setuid
  copy of the driver run by an unprivileged uid (a real setuid exec), both with every
  variable the audit worried about set to a hostile value. Both logins work, and the
  driver's own environ shows that the values were there. Controls: the same OPENSSL_CONF
  breaks, and GNUTLS_DEBUG_LEVEL makes chatty, lib/http's TLS in a process that has them
  (tests/verify/verify_tool), so they would have shown had they reached the server.
- SSLKEYLOGFILE with umask 0: no file appears. The negative control is
  tests/e2e/plant_getenv.c in the module's place: the harness sees the file it creates.
  After the module the variable is still there for the host, and a host that initialised
  libcurl itself (tests/verify/keylog_host.c, preloaded) finds nothing in its keylog file.
- The caller's process maps no libcurl, libcrypto, libssl, GnuTLS, GDBM or Argon2 during a
  login (/proc/<driver>/maps at the code prompt), and every getenv/secure_getenv call made
  in it (tests/verify/getenv_trace.c, preloaded; the server does not inherit LD_PRELOAD) is
  in environment.md's table of the module side, read as the table says. None of the
  variables the audit worried about is read there. The planted getenv, traced, shows that
  the trace records what a module reads.
"""

import atexit
import grp
import os
import pwd
import re
import shutil
import stat
import subprocess
import sys
import tempfile

from harness.paths import BUILDDIR
from harness.tap import Tap
from harness.sim import Sim
from harness.pam import DRIVER, Env, module_path, run_pam, server_path
from harness import sanitizer

# This test reads the server's own process (its executable, its empty environment): a
# checker around it (the asan and valgrind variants) would change both.
sanitizer.bare()
HERE = os.path.dirname(os.path.abspath(__file__))

t = Tap()
MODULE = module_path()
SERVER = server_path()
TRACE_LIB = os.path.join(BUILDDIR, "tests", "verify", ".libs", "getenv_trace.so")
HOST_LIB = os.path.join(BUILDDIR, "tests", "verify", ".libs", "keylog_host.so")
PLANT = os.path.join(BUILDDIR, "tests", "e2e", ".libs", "plant_getenv.so")
VERIFY_TOOL = os.path.join(BUILDDIR, "tests", "verify", "verify_tool")
TABLE = os.path.join(HERE, "environment.md")
built = [p for p in (MODULE, SERVER, TRACE_LIB, HOST_LIB, PLANT, DRIVER, VERIFY_TOOL)
         if not p or not os.path.exists(p)]
if not t.ok(not built and os.geteuid() == 0, "built, and running as root", "missing: %r" % built):
    sys.exit(t.done())

PASSWORD = "environment pw"
ALICE = "+14155550123"
KEYLOG = "SSLKEYLOGFILE"

sim = Sim()
env = Env(sim)
env.add_member("alice", PASSWORD, ALICE)
env.service("twofa", [env.twofa_line()])
env.service("twofa-then-plant", [env.twofa_line(), "auth optional %s" % PLANT])
env.service("plant", ["auth optional %s" % PLANT, "auth required pam_permit.so"])
# World-readable: the unprivileged uid of the setuid runs must reach the driver copy.
world = tempfile.mkdtemp(prefix="twofa-env-")
atexit.register(shutil.rmtree, world, True)  # also when an assertion raises
os.chmod(world, 0o755)
keylogs = os.path.join(world, "keylogs")  # root's, 0755: no other uid can create files here
os.mkdir(keylogs, 0o755)

hostile_conf = os.path.join(world, "hostile-openssl.cnf")
with open(hostile_conf, "w") as f:
    f.write("openssl_conf = init\n[init]\nssl_conf = ssl\n[ssl]\nsystem_default = sys\n"
            "[sys]\nMinProtocol = TLSv1.3\nCiphersuites = TLS_AES_128_CCM_8_SHA256\n")
os.chmod(hostile_conf, 0o644)
empty_ca = os.path.join(world, "empty-ca.pem")
open(empty_ca, "w").close()
os.chmod(empty_ca, 0o644)
DEAD_PROXY = "http://127.0.0.1:9"
# Every variable the audit worried about, each with a value that would do harm or show.
HOSTILE = {
    "OPENSSL_CONF": hostile_conf, "GNUTLS_DEBUG_LEVEL": "9",
    "SSL_CERT_FILE": empty_ca, "SSL_CERT_DIR": world, "CURL_CA_BUNDLE": empty_ca,
    "https_proxy": DEAD_PROXY, "HTTPS_PROXY": DEAD_PROXY, "ALL_PROXY": DEAD_PROXY,
    "all_proxy": DEAD_PROXY, "http_proxy": DEAD_PROXY, "no_proxy": "", "NO_PROXY": "",
    "OPENSSL_ia32cap": "~0xffffffffffffffff:~0xffffffffffffffff",
    "SYSTEMD_LOG_LEVEL": "debug", "SYSTEMD_LOG_TARGET": "console",
    "SYSTEMD_BYPASS_USERDB": "io.systemd.NameServiceSwitch", "SYSTEMD_ONLY_USERDB": "nowhere",
    "LDAPCONF": empty_ca, "KRB5_CONFIG": empty_ca, "P11_KIT_DEBUG": "all",
}
# Every variable a test here sets, removed from this process's environment between runs.
TOUCHED = [KEYLOG, "TWOFA_TEST_PRELOAD", "TWOFA_GETENV_TRACE"] + list(HOSTILE)
# umask 0 for the driver; TWOFA_TEST_PRELOAD becomes its LD_PRELOAD (and only its: the
# shell must not load the helpers, which may be built with a sanitizer the shell lacks).
UMASK0 = ["/bin/sh", "-c", 'umask 000; if [ -n "$TWOFA_TEST_PRELOAD" ]; then '
          'LD_PRELOAD=$TWOFA_TEST_PRELOAD; export LD_PRELOAD; fi; exec "$@"', "sh"]


# -- the processes of a login, seen at its code prompt ---------------------------------------
def children(parent):
    """Pids of parent's children, from /proc/*/stat."""
    found = []
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        try:
            with open("/proc/%s/stat" % name) as f:
                fields = f.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == parent:
            found.append(int(name))
    return found


def exe_of(pid):
    try:
        return os.readlink("/proc/%d/exe" % pid)
    except OSError:
        return None


def read_proc(pid, name):
    with open("/proc/%d/%s" % (pid, name), "rb") as f:
        return f.read()


class Snapshot:
    """What the driver (this process's child) and its twofa-server child look like while
    the server waits for the code: environ of both, the driver's mapped files."""

    def __init__(self, driver):
        self.driver = os.path.realpath(driver)
        self.taken = False
        self.problem = "no code prompt"

    def answer(self, then):
        def at_prompt(kind, text, run):
            self.take()
            return then(kind, text, run)
        return at_prompt

    def take(self):
        drivers = [p for p in children(os.getpid()) if exe_of(p) == self.driver]
        servers = [p for d in drivers for p in children(d) if exe_of(p) == os.path.realpath(SERVER)]
        if len(drivers) != 1 or len(servers) != 1:
            self.problem = "drivers %r, servers %r" % (drivers, servers)
            return
        try:
            self.server_environ = read_proc(servers[0], "environ")
            self.driver_environ = dict(e.decode(errors="replace").partition("=")[::2]
                                       for e in read_proc(drivers[0], "environ").split(b"\0") if e)
            self.driver_maps = {line.split()[-1] for line in
                                read_proc(drivers[0], "maps").decode(errors="replace").splitlines()
                                if len(line.split()) >= 6}
        except OSError as e:
            self.problem = "reading /proc: %s" % e
            return
        self.taken = True
        self.problem = None


HEAVY = re.compile(r"/(libcurl|libcrypto|libssl|libgnutls|libgdbm|libargon2|libsodium|libldap|"
                   r"libnss_systemd)[.-][^/]*$")


def heavy_libs(snap):
    """The TLS, HTTP, store, hashing and directory libraries mapped in the driver."""
    return sorted(m for m in snap.driver_maps if HEAVY.search(m)) if snap.taken else []


def login(service, extra_env, wrapper=UMASK0, right_code=True, driver=DRIVER, snapshot=None):
    """One auth with the right (or a wrong) code, extra_env set for the driver only."""
    for k in TOUCHED:
        os.environ.pop(k, None)
    os.environ.update(extra_env)
    try:
        env.fresh()  # no send limit carried over
        code = sim.code_answer(ALICE) if right_code else (lambda kind, text, run: "000000")
        if snapshot is not None:
            code = snapshot.answer(code)
        return run_pam(env, service, "alice", ["auth"], wrapper=wrapper, driver=driver,
                       answers=[PASSWORD, code, code, code])
    finally:
        for k in extra_env:
            os.environ.pop(k, None)


def keylog_path(name):
    path = os.path.join(keylogs, name)
    if os.path.lexists(path):
        os.unlink(path)
    return path


def describe(path):
    if not os.path.lexists(path):
        return "no file"
    st = os.lstat(path)
    with open(path, "rb") as f:
        head = f.read(200)
    return "mode %o, owner %d, %d bytes: %r" % (stat.S_IMODE(st.st_mode), st.st_uid,
                                                st.st_size, head)


def hostile_login(label, wrapper=UMASK0, driver=DRIVER):
    """A login with every hostile variable and SSLKEYLOGFILE (umask 0) set."""
    path = keylog_path(label)
    snap = Snapshot(driver)
    run = login("twofa", dict(HOSTILE, **{KEYLOG: path}), wrapper=wrapper, driver=driver, snapshot=snap)
    t.eq(run.codes(), ["PAM_SUCCESS"], "%s, every hostile variable set: the login works" % label)
    t.ok(snap.taken and snap.server_environ == b"", "%s: twofa-server's environment is empty while "
         "it waits for the code" % label, snap.problem or snap.server_environ[:500])
    seen = {k: v for k, v in (snap.driver_environ if snap.taken else {}).items() if k in HOSTILE}
    t.ok(seen == HOSTILE, "%s: (control) the driver, the caller's process, has them all" % label,
         sorted(seen))
    t.ok(not os.path.lexists(path), "%s, umask 0, SSLKEYLOGFILE set: no keylog file appears" % label,
         describe(path))
    return snap


# -- SSLKEYLOGFILE -------------------------------------------------------------------------
path = keylog_path("plant")
run = login("plant", {KEYLOG: path})
t.ok(os.path.isfile(path) and stat.S_IMODE(os.stat(path).st_mode) == 0o666,
     "negative control: a planted fopen(getenv(SSLKEYLOGFILE)) in the module's place "
     "creates a 0666 file, and this harness sees it", describe(path))

path = keylog_path("restored")
run = login("twofa-then-plant", {KEYLOG: path})
t.eq(run.codes(), ["PAM_SUCCESS"], "the module, then the planted getenv: the login works")
t.ok(os.path.isfile(path) and os.path.getsize(path) == 0,
     "after the module, SSLKEYLOGFILE is there for the host (the planted getenv found it) "
     "and nothing wrote to it", describe(path))

path = keylog_path("host-first")
host_snap = Snapshot(DRIVER)
run = login("twofa", {KEYLOG: path, "TWOFA_TEST_PRELOAD": HOST_LIB}, snapshot=host_snap)
t.eq(run.codes(), ["PAM_SUCCESS"], "a host that initialised libcurl first: the login works")
t.ok(os.path.isfile(path) and os.path.getsize(path) == 0,
     "a host that initialised libcurl first has its keylog file open, and no secret of "
     "the login's TLS connection reaches it", describe(path))

# -- the server's environment --------------------------------------------------------------
snap = hostile_login("root run")
t.ok(snap.taken and not heavy_libs(snap), "the caller's process maps no libcurl, libcrypto, libssl, "
     "GnuTLS, GDBM, libsodium, libldap or libnss_systemd during a login", heavy_libs(snap))
t.ok(host_snap.taken and "libcurl" in " ".join(heavy_libs(host_snap)), "control: in a host that loaded "
     "libcurl itself, that check sees libcurl", host_snap.problem)

# Controls: the values are hostile to lib/http's TLS in a process that has them.
def verify_service(extra_env):
    return subprocess.run([VERIFY_TOOL, env.config_path, "service"], capture_output=True, text=True,
                          env=dict(os.environ, **extra_env), timeout=60)


r = verify_service({})
t.ok(r.returncode == 0 and "outcome=ok " in r.stdout, "control: verify_tool reaches the simulator",
     r.stdout + r.stderr)
r = verify_service({"OPENSSL_CONF": hostile_conf})
t.ok("outcome=ok " not in r.stdout, "control: OPENSSL_CONF with no usable TLS suite breaks "
     "lib/http's handshake in a process that has it", r.stdout + r.stderr)
r = verify_service({"GNUTLS_DEBUG_LEVEL": "9"})
t.ok("gnutls[" in r.stderr, "control: GNUTLS_DEBUG_LEVEL=9 makes a process with libcurl print "
     "gnutls debug lines", r.stderr[-500:])

# -- the same through a real setuid exec ---------------------------------------------------
def unused_id(taken):
    n = 61500
    while True:
        try:
            taken(n)
            n += 1
        except KeyError:
            return n


uid, gid = unused_id(pwd.getpwuid), unused_id(grp.getgrgid)
t.ok(not os.statvfs(world).f_flag & os.ST_NOSUID, "%s allows setuid programs (not nosuid)"
     % world)
# The setuid copy runs any module a --confdir names, as root: only this test's unused gid
# may execute it (04750), so no other local user can use it meanwhile.
setuid_driver = os.path.join(world, "pam_driver")
shutil.copy(DRIVER, setuid_driver)
os.chown(setuid_driver, 0, gid)
os.chmod(setuid_driver, 0o4750)
AS_USER = ["setpriv", "--reuid=%d" % uid, "--regid=%d" % gid, "--clear-groups"] + UMASK0
hostile_login("setuid run by uid %d" % uid, wrapper=AS_USER, driver=setuid_driver)

# -- what the caller's process reads -------------------------------------------------------
rows = {}
with open(TABLE) as f:
    for line in f:
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) >= 3 and cells[0].startswith("`") and cells[1].startswith("module side"):
            for name in re.findall(r"`([^`]+)`", cells[0]):
                rows.setdefault(name, []).append(cells[2])


def traced(service, label, preload=""):
    trace = os.path.join(world, "trace-" + label)
    if os.path.lexists(trace):
        os.unlink(trace)
    run = login(service, {"TWOFA_TEST_PRELOAD": (TRACE_LIB + " " + preload).strip(),
                          "TWOFA_GETENV_TRACE": trace, KEYLOG: keylog_path("trace-" + label)})
    seen = set()
    with open(trace, "a+") as f:  # no call at all leaves no file
        f.seek(0)
        for line in f:
            kind, name, lib = line.split(" ", 2)
            lib = lib.strip()
            if lib.endswith("/pam_driver") or "/sh" in lib:
                continue  # the host itself and the wrapper's shell
            seen.add((kind, name, os.path.basename(lib)))
    return run, seen


AUDIT = re.compile(r"^(SSLKEYLOGFILE|OPENSSL_.*|GNUTLS_.*|SSL_CERT_.*|CURL_.*|.*_proxy|.*_PROXY|"
                   r"SYSTEMD_.*|P11_KIT_.*|NETTLE_.*|LDAP.*|KRB5.*|HOME)$")


def audited(seen):
    return sorted(n for _, n, _ in seen if AUDIT.match(n))


run, seen = traced("twofa-then-plant", "plant")
t.ok(("getenv", KEYLOG, "plant_getenv.so") in seen, "the trace records a module's getenv "
     "(the planted one reading SSLKEYLOGFILE)", sorted(seen))
run, seen = traced("twofa", "host-first", preload=HOST_LIB)
t.ok(KEYLOG in audited(seen), "control: in a host that loaded libcurl itself, the trace sees "
     "libcurl read SSLKEYLOGFILE", sorted(seen))
run, seen = traced("twofa", "login")
t.eq(run.codes(), ["PAM_SUCCESS"], "a full login with every getenv of the caller's process recorded")
t.ok(not audited(seen), "none of the variables the audit worried about is read in the caller's "
     "process", sorted(seen))
missing = sorted((k, n, l) for k, n, l in seen
                 if n not in rows or not any(r.startswith(k) for r in rows[n]))
t.ok(not missing, "every variable the caller's process reads during a login (%d) is in "
     "environment.md as the module side, read as it says" % len(seen),
     "not in the table, or read otherwise: %r" % missing)

shutil.rmtree(world, ignore_errors=True)
env.cleanup()
sim.stop()
sys.exit(t.done())
