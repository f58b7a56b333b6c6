#!/usr/bin/python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""twofa-enroll check-config on good and bad configurations (modes, owner, keys, missing and
rejected credentials, wrong service, outage), and db check / backup / recover on a
deliberately damaged members.db."""

import glob
import json
import os
import socket
import stat
import sys

from harness.tap import Tap
from harness.sim import Sim
from harness.cli import Cli

t = Tap()
sim = Sim()
cli = Cli(sim)
env = cli.env
good = open(cli.config_path).read()
creds = sim.creds
outputs = []


def run(*args, **kw):
    r = cli.run(*args, **kw)
    outputs.append(r.out + r.err)
    return r


def with_config(text, mode=0o600):
    cli.write_config(raw=text)
    os.chmod(cli.config_path, mode)


def without(text, key):
    return "".join(l + "\n" for l in text.splitlines() if not l.startswith(key + " "))


# -- check-config ------------------------------------------------------------------------------
r = run("check-config")
t.ok(r.rc == 0 and "Twilio accepted the credentials" in r.out and r.out.count("ok  ") == 6
     and "authenticator apps (totp)" in r.out,
     "check-config on a good configuration -> 0, every step ok", r.describe())

cases = [
    ("world-readable file", good, 0o644, 77, "world-readable"),
    ("group-writable file", good, 0o620, 77, "group-writable"),
    ("unknown key", good + "colour = blue\n", 0o600, 78, "unknown key 'colour'"),
    ("duplicate key", good + "max_tries = 3\nmax_tries = 4\n", 0o600, 78, "duplicate key"),
    ("value out of range", good + "max_tries = 11\n", 0o600, 78, "max_tries"),
    ("line without '='", good + "approval\n", 0o600, 78, "missing '='"),
    ("no auth_token", without(good, "auth_token"), 0o600, 78, "auth_token"),
    ("no verify_service_sid", without(good, "verify_service_sid"), 0o600, 78, "verify_service_sid"),
    ("malformed account_sid", good.replace(creds["account_sid"], "AC123"), 0o600, 78, "account_sid"),
    ("auth token Twilio refuses", good.replace(creds["auth_token"], "f" * 32), 0o600, 78,
     "refused the credentials: check account_sid and auth_token"),
    ("service SID Twilio does not know", good.replace(creds["verify_service_sid"], "VA" + "0" * 32), 0o600, 78,
     "no Verify service"),
]
for name, text, mode, want, words in cases:
    with_config(text, mode)
    r = run("check-config")
    t.ok(r.rc == want and words in r.err and r.one_line_error(), "check-config, %s -> %d" % (name, want),
         r.describe())

# API key instead of Account SID + token
apikey = without(without(good, "auth_token"), "account_sid") + \
    "api_key_sid = %s\napi_key_secret = %s\n" % (creds["api_key_sid"], creds["api_key_secret"])
with_config(apikey)
r = run("check-config")
t.ok(r.rc == 0 and "API key" in r.out, "check-config with an API key -> 0", r.describe())
with_config(apikey.replace(creds["api_key_secret"], "Z" * 32))
r = run("check-config")
t.ok(r.rc == 78 and "api_key_sid and api_key_secret" in r.err, "a wrong API key secret -> 78", r.describe())

# outages: a port nobody listens on, and a 503
s = socket.socket()
s.bind(("127.0.0.1", 0))
dead = s.getsockname()[1]
s.close()
with_config(good.replace(sim.url, "https://127.0.0.1:%d" % dead))
r = run("check-config")
t.ok(r.rc == 69 and r.one_line_error(), "check-config when Twilio cannot be reached -> 69", r.describe())
with_config(good)
sim.fault("service", "503")
r = run("check-config")
t.ok(r.rc == 69, "check-config when Twilio answers 503 -> 69", r.describe())
sim.clear_faults()

# owner and type of the file
os.chown(cli.config_path, 65534, 0)
r = run("check-config")
t.ok(r.rc == 77 and "root" in r.err, "a config file not owned by root -> 77", r.describe())
os.chown(cli.config_path, 0, 0)
link = os.path.join(env.dir, "link.conf")
os.symlink(cli.config_path, link)
r = run("check-config", config=link)
t.ok(r.rc == 77 and "symbolic link" in r.err, "a config that is a symbolic link -> 77", r.describe())
r = run("check-config", config=env.dir)
t.ok(r.rc == 78 and "directory" in r.err, "a config that is a directory -> 78", r.describe())
r = run("check-config", config=os.path.join(env.dir, "none.conf"))
t.ok(r.rc == 78 and r.one_line_error(), "a config that does not exist -> 78", r.describe())

# the store directory must be root's
os.makedirs(env.dbdir, 0o700, exist_ok=True)
os.chmod(env.dbdir, 0o777)
r = run("check-config")
t.ok(r.rc == 77 and "members" in r.err, "a world-writable store directory -> 77", r.describe())
os.chmod(env.dbdir, 0o700)

everything = "\n".join(outputs)
secrets = [creds["auth_token"], creds["api_key_secret"]]
t.ok(not any(x in everything for x in secrets), "no auth token or API secret in any output")

# -- db check / backup / recover -------------------------------------------------------------
r = run("db", "check")
t.ok(r.rc == 73 and "does not exist" in r.err and "fails closed" in r.err,
     "db check without members.db -> 73: every login would fail closed", r.describe())
env.add_member("seed", "pw-db-1", "+14155550123")
hash_ = json.loads(run("export").out)["password_hash"]
lines = [json.dumps({"user": "m%04d" % i, "email": None, "phone": "+1415555%04d" % i, "country": "US",
                     "channel": "sms", "status": "active", "created": "2026-01-01T00:00:00Z",
                     "updated": "2026-01-01T00:00:00Z", "verified": None, "password_hash": hash_, "v": 1})
         for i in range(400)]
imp = os.path.join(env.dir, "400.jsonl")
with open(imp, "w") as f:
    f.write("\n".join(lines) + "\n")
r = run("import", imp)
t.eq(r.rc, 0, "400 members imported")
r = run("db", "check")
t.ok(r.rc == 0 and "401 records, all good" in r.out, "db check of a good store -> 0", r.describe())

backup = os.path.join(env.dir, "members.backup")
r = run("db", "backup", backup)
st = os.stat(backup) if os.path.exists(backup) else None
t.ok(r.rc == 0 and st is not None and stat.S_IMODE(st.st_mode) == 0o600 and "401 records" in r.out,
     "db backup FILE -> 0, a 0600 copy of 401 records", r.describe())
t.ok(st is not None and open(backup, "rb").read() == open(cli.members_db, "rb").read(),
     "the backup is byte for byte the store")
size = st.st_size if st else 0
r = run("db", "backup", backup)
t.ok(r.rc == 73 and "refusing to overwrite" in r.err and os.path.getsize(backup) == size,
     "db backup onto an existing file -> 73, the file untouched", r.describe())

def n_kept(out):
    for l in out.splitlines():
        if l.startswith("kept "):
            return int(l.split()[1])
    return -1


# damage 4 KiB in the middle of members.db
with open(cli.members_db, "r+b") as f:
    f.seek(20000)
    f.write(b"\x5a" * 4096)
r = run("db", "check")
t.ok(r.rc == 73 and "members" in r.err and "db recover" in r.err and r.one_line_error(),
     "db check of the damaged store -> 73, pointing to db recover", r.describe())
r = run("list", "--json")
t.ok(r.rc != 0, "list of the damaged store fails (closed, not an empty list)", r.describe())
r = recovered = run("db", "recover")
kept = glob.glob(cli.members_db + ".bak-*")
t.ok(r.rc == 0 and "recovered by GDBM" in r.out and "kept %d good records" % n_kept(r.out) in r.out
     and 300 < n_kept(r.out) <= 401, "db recover -> 0 with a report of what was kept", r.describe())
t.ok(len(kept) == 1 and stat.S_IMODE(os.stat(kept[0]).st_mode) == 0o600,
     "the damaged original is kept beside it, 0600", kept)
r = run("db", "check")
t.ok(r.rc == 0 and "all good" in r.out, "db check after recovery -> 0", r.describe())
r = run("list", "--json")
n = len(r.json()) if r.rc == 0 else 0
t.ok(300 < n <= 401 and n == n_kept(recovered.out), "list after recovery shows what was kept (%d members)" % n,
     r.describe())

# rebuild from the backup: put the copy back, everything is there again
os.replace(backup, cli.members_db)
r = run("list", "--json")
t.ok(r.rc == 0 and len(r.json()) == 401, "the backup copy serves as members.db with all 401", r.describe())

# a file that is no database at all
with open(cli.members_db, "wb") as f:
    f.write(os.urandom(8192))
r = run("db", "check")
t.ok(r.rc == 73 and r.one_line_error(), "db check of random bytes -> 73", r.describe())
r = run("db", "recover")
t.ok(r.rc == 73 and "kept as" in r.err and r.one_line_error(),
     "db recover of random bytes -> 73, the original kept", r.describe())
t.ok(os.path.getsize(cli.members_db) == 8192, "the unrecoverable file is still in place (fails closed)")

# state.db damage is reported as state
os.unlink(cli.members_db)
with open(cli.state_db, "wb") as f:
    f.write(b"not a database" * 100)
r = run("db", "check")
t.ok(r.rc == 73 and "state" in r.err, "a damaged state.db is named in db check -> 73", r.describe())
r = run("db", "recover", "members")
t.ok(r.rc == 65 and "does not exist" in r.err, "db recover of a store that does not exist -> 65", r.describe())

cli.cleanup()
sys.exit(t.done())
