#!/usr/bin/python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""The caller's environment inside the module (audit #1), at module level, through the
real libpam driver (harness.pam) and the Twilio simulator over https:

- SSLKEYLOGFILE with umask 0: no file appears, and the variable is back for the host
  afterwards (a planted getenv after the module sees it, and finds no secret in it). If
  the host initialised libcurl first (tests/verify/keylog_host.c, preloaded), the host's
  keylog file gets no secret of the module's connections. The negative control is
  tests/e2e/plant_getenv.c in the module's place: the harness sees the file it creates.
- Every getenv/secure_getenv call of a full login (tests/verify/getenv_trace.c,
  preloaded) is listed in tests/verify/environment.md, read the way the table says.
- Guards: through a setuid-root copy of the driver run by an unprivileged uid (a real
  setuid exec, so AT_SECURE is set), OPENSSL_CONF and GNUTLS_DEBUG_LEVEL change nothing.
  A root run with the same values shows that they are hostile. SSL_CERT_FILE,
  SSL_CERT_DIR, CURL_CA_BUNDLE and the proxy variables change no run, and the live
  OPENSSL_ia32cap only selects code paths.
"""

import atexit
import grp
import os
import pwd
import re
import shutil
import stat
import sys
import tempfile

from harness.paths import BUILDDIR
from harness.tap import Tap
from harness.sim import Sim
from harness.pam import DRIVER, Env, module_path, run_pam

HERE = os.path.dirname(os.path.abspath(__file__))

t = Tap()
MODULE = module_path()
TRACE_LIB = os.path.join(BUILDDIR, "tests", "verify", ".libs", "getenv_trace.so")
HOST_LIB = os.path.join(BUILDDIR, "tests", "verify", ".libs", "keylog_host.so")
PLANT = os.path.join(BUILDDIR, "tests", "e2e", ".libs", "plant_getenv.so")
TABLE = os.path.join(HERE, "environment.md")
built = [p for p in (MODULE, TRACE_LIB, HOST_LIB, PLANT, DRIVER) if not p or not os.path.exists(p)]
if not t.ok(not built and os.geteuid() == 0, "built, and running as root", "missing: %r" % built):
    sys.exit(t.done())

PASSWORD = "environment pw"
ALICE = "+14155550123"
KEYLOG = "SSLKEYLOGFILE"
# Every variable a test here sets, removed from this process's environment between runs.
TOUCHED = [KEYLOG, "TWOFA_TEST_PRELOAD", "TWOFA_GETENV_TRACE", "OPENSSL_CONF", "GNUTLS_DEBUG_LEVEL",
           "SSL_CERT_FILE", "SSL_CERT_DIR", "CURL_CA_BUNDLE", "OPENSSL_ia32cap", "https_proxy",
           "HTTPS_PROXY", "ALL_PROXY", "all_proxy", "http_proxy"]

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
# umask 0 for the driver; TWOFA_TEST_PRELOAD becomes its LD_PRELOAD (and only its: the
# shell must not load the helpers, which may be built with a sanitizer the shell lacks).
UMASK0 = ["/bin/sh", "-c", 'umask 000; if [ -n "$TWOFA_TEST_PRELOAD" ]; then '
          'LD_PRELOAD=$TWOFA_TEST_PRELOAD; export LD_PRELOAD; fi; exec "$@"', "sh"]


def login(service, extra_env, wrapper=UMASK0, right_code=True, driver=DRIVER):
    """One auth with the right (or a wrong) code, extra_env set for the driver only."""
    for k in TOUCHED:
        os.environ.pop(k, None)
    os.environ.update(extra_env)
    try:
        env.fresh()  # no send limit carried over
        code = sim.code_answer(ALICE) if right_code else "000000"
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


# -- SSLKEYLOGFILE -------------------------------------------------------------------------
path = keylog_path("module")
run = login("twofa", {KEYLOG: path})
t.eq(run.codes(), ["PAM_SUCCESS"], "umask 0, SSLKEYLOGFILE set: the login works (over TLS)")
t.ok(not os.path.lexists(path), "umask 0, SSLKEYLOGFILE set: no keylog file appears",
     describe(path))

path = keylog_path("plant")
run = login("plant", {KEYLOG: path})
t.ok(os.path.isfile(path) and stat.S_IMODE(os.stat(path).st_mode) == 0o666,
     "negative control: a planted fopen(getenv(SSLKEYLOGFILE)) in the module's place "
     "creates a 0666 file, and this harness sees it", describe(path))

path = keylog_path("restored")
run = login("twofa-then-plant", {KEYLOG: path})
t.eq(run.codes(), ["PAM_SUCCESS"], "the module, then the planted getenv: the login works")
t.ok(os.path.isfile(path) and os.path.getsize(path) == 0,
     "after the module, SSLKEYLOGFILE is back for the host (the planted getenv found it) "
     "and the module wrote no secret to it", describe(path))

path = keylog_path("host-first")
run = login("twofa", {KEYLOG: path, "TWOFA_TEST_PRELOAD": HOST_LIB})
t.eq(run.codes(), ["PAM_SUCCESS"], "a host that initialised libcurl first: the login works")
t.ok(os.path.isfile(path) and os.path.getsize(path) == 0,
     "a host that initialised libcurl first has its keylog file open, and no secret of "
     "the module's TLS connection reaches it", describe(path))

# -- the table holds every variable read ---------------------------------------------------
rows = {}
with open(TABLE) as f:
    for line in f:
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) >= 3 and cells[0].startswith("`"):
            for name in re.findall(r"`([^`]+)`", cells[0]):
                rows.setdefault(name, []).append(cells[2])
trace = os.path.join(world, "trace")
run = login("twofa", {"TWOFA_TEST_PRELOAD": TRACE_LIB, "TWOFA_GETENV_TRACE": trace})
t.eq(run.codes(), ["PAM_SUCCESS"], "a full login with every getenv recorded")
seen = set()
with open(trace) as f:
    for line in f:
        kind, name, lib = line.split(" ", 2)
        lib = lib.strip()
        if lib.endswith(("/pam_driver", "/libc.so.6", "/libpam.so.0")) or "/sh" in lib:
            continue  # the host itself, not what the module brings in
        seen.add((kind, name, os.path.basename(lib)))
t.ok(any(n == KEYLOG for _, n, _ in seen), "the trace shows libcurl reading SSLKEYLOGFILE "
     "(so it records what it should)", sorted(seen))
missing = sorted((k, n, l) for k, n, l in seen
                 if n not in rows or not any(r.startswith(k) for r in rows[n]))
t.ok(not missing, "every variable read during a login (%d) is in environment.md, read as "
     "it says" % len(seen), "not in the table, or read otherwise: %r" % missing)

# -- guards: a real setuid exec --------------------------------------------------------------
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


def setuid_login(extra_env):
    """The login through the setuid copy, started by uid (real uid uid, euid 0)."""
    return login("twofa", extra_env, wrapper=AS_USER, driver=setuid_driver)


run = setuid_login({})
t.eq(run.codes(), ["PAM_SUCCESS"], "the setuid copy run by uid %d logs in" % uid)

hostile_conf = os.path.join(world, "hostile-openssl.cnf")
with open(hostile_conf, "w") as f:
    f.write("openssl_conf = init\n[init]\nssl_conf = ssl\n[ssl]\nsystem_default = sys\n"
            "[sys]\nMinProtocol = TLSv1.3\nCiphersuites = TLS_AES_128_CCM_8_SHA256\n")
os.chmod(hostile_conf, 0o644)
run = login("twofa", {"OPENSSL_CONF": hostile_conf})
t.ok(run.code("auth") != "PAM_SUCCESS", "OPENSSL_CONF with no usable TLS suite breaks a root "
     "run (the value is hostile)", run.describe())
run = setuid_login({"OPENSSL_CONF": hostile_conf})
t.eq(run.codes(), ["PAM_SUCCESS"], "guard: OPENSSL_CONF is ignored in a setuid process "
     "(OpenSSL's secure_getenv)")

run = login("twofa", {"GNUTLS_DEBUG_LEVEL": "9"})
t.ok("gnutls[" in run.stderr, "GNUTLS_DEBUG_LEVEL=9 makes a root run print gnutls debug "
     "lines", run.stderr[-500:])
run = setuid_login({"GNUTLS_DEBUG_LEVEL": "9"})
t.ok(run.codes() == ["PAM_SUCCESS"] and "gnutls[" not in run.stderr,
     "guard: GNUTLS_DEBUG_LEVEL is ignored in a setuid process (GnuTLS's secure_getenv)",
     run.describe())

empty_ca = os.path.join(world, "empty-ca.pem")
open(empty_ca, "w").close()
os.chmod(empty_ca, 0o644)
no_trust = {"SSL_CERT_FILE": empty_ca, "SSL_CERT_DIR": world, "CURL_CA_BUNDLE": empty_ca}
t.eq(login("twofa", no_trust).codes(), ["PAM_SUCCESS"],
     "SSL_CERT_FILE, SSL_CERT_DIR, CURL_CA_BUNDLE trusting nothing: no effect on a root run "
     "(ca_file is passed explicitly)")
t.eq(setuid_login(no_trust).codes(), ["PAM_SUCCESS"], "guard: ... nor in a setuid process")
dead = {k: "http://127.0.0.1:9" for k in ("https_proxy", "HTTPS_PROXY", "ALL_PROXY",
                                          "all_proxy", "http_proxy")}
t.eq(setuid_login(dead).codes(), ["PAM_SUCCESS"],
     "proxy variables pointing at a dead proxy: no effect in a setuid process")
cleared = {"OPENSSL_ia32cap": "~0xffffffffffffffff:~0xffffffffffffffff"}
run = setuid_login(cleared)
t.eq(run.codes(), ["PAM_SUCCESS"], "the live OPENSSL_ia32cap with every capability cleared "
     "only selects generic code: the setuid login still works")
path = keylog_path("setuid")
run = setuid_login({KEYLOG: path})
t.ok(run.codes() == ["PAM_SUCCESS"] and not os.path.lexists(path),
     "setuid run, umask 0, SSLKEYLOGFILE set: no keylog file", describe(path))

shutil.rmtree(world, ignore_errors=True)
env.cleanup()
sim.stop()
sys.exit(t.done())
