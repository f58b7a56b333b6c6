#!/usr/bin/python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""A configuration error is a decision like any other (issue 11, section 3): one syslog line
in the decision format, with service=, user= and result=error, for every kind of error in
twofa.conf or the module arguments, in auth and account. And twofa.conf in a directory
another user owns or can write is refused (audit section 10). TAP output."""

import os
import re
import shutil
import sys

from harness.tap import Tap
from harness.sim import Sim
from harness.pam import Env, SyslogCapture, module_path, module_with_server, run_pam

t = Tap()
if not t.ok(module_path() is not None, "pam_twofa.so is built"):
    sys.exit(t.done())

sim = Sim()
env = Env(sim)
env.add_member("alice", "a password of alice", "+14155550123")
cap = SyslogCapture(env)
MODULE = module_path()

# A copy of the good config in a directory owned by nobody, and in a group-writable one.
for name, mode, uid in (("foreign", 0o755, 65534), ("groupw", 0o770, 0)):
    d = os.path.join(env.dir, name)
    os.mkdir(d)
    shutil.copy(env.config_path, os.path.join(d, "twofa.conf"))
    os.chmod(os.path.join(d, "twofa.conf"), 0o600)
    os.chown(d, uid, 0)
    os.chmod(d, mode)

CASES = [
    # (what, module arguments, the reason's text after "configuration error: ")
    ("a missing config file", "config=%s/missing.conf" % env.dir, "missing.conf: no such file"),
    ("a relative config= path", "config=twofa.conf", "config= needs an absolute path"),
    ("an unknown argument", "config=%s frobnicate" % env.config_path, "unknown module argument 'frobnicate'"),
    ("a bad key value", "config=%s max_tries=99" % env.config_path,
     "bad module argument 'max_tries=...': max_tries must be"),
    ("a secret as an argument", "config=%s auth_token=x" % env.config_path,
     "auth_token: secrets may only be set in the config file"),
    ("a bad prompt", "config=%s code_prompt=%%s" % env.config_path, "a prompt is 1.."),
    ("use_first_pass with try_first_pass", "config=%s use_first_pass try_first_pass" % env.config_path,
     "use_first_pass and try_first_pass exclude each other"),
    ("a config in a directory nobody owns", "config=%s/foreign/twofa.conf" % env.dir,
     "foreign is owned by uid 65534, not root"),
    ("a config in a group-writable directory", "config=%s/groupw/twofa.conf" % env.dir,
     "groupw is group-writable (mode 0770)"),
]

for kind, action in (("auth", "auth"), ("account", "account")):  # PAM type, our action word
    for what, args, reason in CASES:
        svc = "cfgerr-%s" % kind
        env.service(svc, ["%s required %s %s" % (kind, module_with_server(), args)])
        cap.clear()
        run = run_pam(env, svc, "alice", ["auth" if kind == "auth" else "acct"], answers=[], rhost="192.0.2.9",
                      syslog=cap)
        rec = cap.wait_for(r"result=error")
        text = rec["message"] if rec else ""
        want = re.compile(r"^pam_twofa\(%s:%s\): %s service=%s user=alice rhost=192\.0\.2\.9 result=error "
                          r"reason=configuration error: " % (svc, kind, action, svc))
        t.ok(run.codes() == ["PAM_SERVICE_ERR"] and run.prompts() == [] and want.match(text) is not None
             and reason in text and rec["severity"] == "err",
             "%s: %s fails closed with one decision line, result=error" % (kind, what),
             "%s\n%s" % (run.describe(), cap.texts()))
        t.ok(sim.stats()["requests"] == 0, "%s: %s asks Twilio nothing" % (kind, what))

cap.close()
sys.exit(t.done())
