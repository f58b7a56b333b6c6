#!/usr/bin/python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""TLS to the throwaway slapd of tests/harness/slapd.py, as twofa will use it: StartTLS
and ldaps verify against the test CA (TLS_REQCERT demand) and carry simple binds; a
client that trusts another CA is refused on both; a client certificate with the login
identity's subject binds as that identity by SASL EXTERNAL (etc/ldap/README's second
bind) and the access rules apply to it, while one from another CA binds as nobody; ldapi
SASL EXTERNAL is the harness's rootDN. Also the SilentServer fixture: it accepts and never
answers, plain and TLS."""

import os
import shutil
import subprocess
import sys
import tempfile
import time

from harness import slapd
from harness.slapd import ANON, Ca, SilentServer, Slapd, run, tls_client_env
from harness.tap import Tap

t = Tap()
slapd.require(t)

s = Slapd()
s.add_user("alice", "pw-alice")
s.add_member("alice", twofaPhone="+15551234567", twofaCountry="US")
good = s.tls_env()
other_dir = tempfile.mkdtemp(prefix="twofa-ca-other.", dir="/tmp")
other = Ca(other_dir, "another CA")
wrong = s.tls_env(ca_file=other.cert)

r = s.whoami(ANON, s.uri, starttls=True, env=good)
t.ok(r.rc == 0 and r.out.strip() == "anonymous", "StartTLS (-ZZ) with the test CA", r.describe())
r = s.whoami(s.login_bind(), s.uri, starttls=True, env=good)
t.ok(r.rc == 0 and s.login_dn in r.out, "a simple bind of the login identity over StartTLS", r.describe())
r = s.whoami(s.login_bind(), s.ldaps_uri, env=good)
t.ok(r.rc == 0 and s.login_dn in r.out, "a simple bind of the login identity over ldaps", r.describe())
r = s.search_raw("(uid=alice)", ["twofaPhone"], bind=s.login_bind(), uri=s.ldaps_uri, env=good)
t.ok(r.rc == 0 and "+15551234567" in r.out, "the login identity reads alice's phone over ldaps", r.describe())

r = s.whoami(ANON, s.uri, starttls=True, env=wrong)
t.ok(r.rc != 0 and "ldap_start_tls" in r.err, "StartTLS trusting another CA is refused", r.describe())
r = s.whoami(ANON, s.ldaps_uri, env=wrong)
t.ok(r.rc != 0, "ldaps trusting another CA is refused", r.describe())
r = s.whoami(ANON, s.uri, starttls=True, env=s.tls_env(ca_file="/dev/null"))
t.ok(r.rc != 0, "StartTLS with no usable CA is refused", r.describe())

# SASL EXTERNAL with a client certificate.
cert = s.client_cert(s.login_dn)
for name, uri, extra in (("StartTLS", s.uri, ["-ZZ"]), ("ldaps", s.ldaps_uri, [])):
    env = s.tls_env(client_cert=cert)
    r = run(["ldapwhoami", "-Q", "-Y", "EXTERNAL", "-H", uri] + extra, env=env)
    t.ok(r.rc == 0 and r.out.strip() == "dn:" + s.login_dn,
         "a client certificate with the login identity's subject binds as it (SASL EXTERNAL, %s)" % name,
         r.describe())
r = run(["ldapsearch", "-Q", "-Y", "EXTERNAL", "-H", s.ldaps_uri, "-LLL", "-b", s.base, "(uid=alice)", "twofaPhone"],
        env=s.tls_env(client_cert=cert))
t.ok(r.rc == 0 and "+15551234567" in r.out, "and reads what the login identity reads", r.describe())
foreign = other.issue("login", "/DC=test/DC=example/OU=services/CN=twofa-login", client=True)
r = run(["ldapwhoami", "-Q", "-Y", "EXTERNAL", "-H", s.ldaps_uri], env=s.tls_env(client_cert=foreign))
t.ok(r.rc != 0 and s.login_dn not in r.out,
     "the same subject from another CA binds as nobody (SASL EXTERNAL fails)", r.describe())
r = s.whoami()
t.ok(r.rc == 0 and r.out.strip() == "dn:" + s.root_dn, "ldapi SASL EXTERNAL is the harness's rootDN", r.describe())
s.close()
shutil.rmtree(other_dir, True)


# SilentServer: connects succeed, nothing ever answers (LDAPTIMEOUT bounds the wait
# for an LDAP answer, not a TLS handshake: a hung ldaps server hangs ldapwhoami).
def hangs(uri, env, bound):
    start = time.monotonic()
    try:
        p = subprocess.run(["ldapwhoami", "-x", "-H", uri], env=env, capture_output=True, text=True, timeout=bound)
        return False, time.monotonic() - start, p.stderr.strip()
    except subprocess.TimeoutExpired:
        return True, time.monotonic() - start, ""


def timeout_env(ca_file):
    env = tls_client_env(other_dir, ca_file)
    env["LDAPTIMEOUT"] = "1"
    return env


os.makedirs(other_dir, exist_ok=True)
with SilentServer() as silent:
    hung, took, err = hangs(silent.uri, timeout_env(slapd.shared_ca().cert), 5)
    t.ok(not hung and 0.9 < took < 4 and "Timed out" in err and silent.connections == 1,
         "SilentServer (plain): the connect succeeds, the bind is never answered (LDAPTIMEOUT=1: %.1f s)" % took,
         err)
with SilentServer(tls=True) as silent:
    hung, took, err = hangs(silent.uri, timeout_env(slapd.shared_ca().cert), 2)
    t.ok(hung and silent.connections == 1,
         "SilentServer (ldaps): the TLS handshake never finishes (still hanging after 2 s despite LDAPTIMEOUT=1)")
with SilentServer(tls=True, handshake=True) as silent:
    hung, took, err = hangs(silent.uri, timeout_env(silent.ca_file), 5)
    t.ok(not hung and "Timed out" in err,
         "SilentServer (ldaps, handshake=True): TLS completes, then nothing answers (%.1f s)" % took, err)
shutil.rmtree(other_dir, True)

sys.exit(t.done())
