#!/usr/bin/python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""enroll = off | self | invite (issue 15, item 1) through real libpam: the module argument
and its checks (a malformed or repeated one, and enroll= with password=store or
code_from_answer, are configuration errors naming the conflict); twofa.conf's enroll as the
default of password=none services only (ignored with a NOTICE line under password=store, and
overridden by enroll=off); and a caller that is not root, through twofad, is never offered
enrolment while root through the same twofad is. TAP output."""

import os
import re
import sys

from harness import e2e
from harness.daemon import Twofad, World, as_user
from harness.pam import FAIL, Env, SyslogCapture, module_path, run_pam
from harness.sim import Sim

COUNTRY = "Country (ISO code, e.g. GB; ? lists them): "
PASSWORD = "pw of a member"
DECISION = re.compile(r"result=\w+ reason=")


def body(t, module):
    sim = Sim()
    env = Env(sim, config={"max_tries": "3", "lockout_failures": "0"})
    env.add_member("alice", PASSWORD, "+14155550123")
    cap = SyslogCapture(env)
    os.chmod(cap.path, 0o666)  # the throwaway uid's driver logs to it too

    def service(name, args, first="auth requisite pam_permit.so"):
        env.service(name, ([first] if first else []) + [env.twofa_line(args)])
        return name

    def login(svc, user, answers, **kw):
        env.fresh()
        cap.clear()
        kw.setdefault("rhost", "192.0.2.60")
        return run_pam(env, svc, user, ["auth"], answers=answers, syslog=cap, **kw)

    def decision():
        cap.wait_for(DECISION.pattern, timeout=3.0)
        lines = [x for x in cap.texts() if DECISION.search(x)]
        return lines[0] if len(lines) == 1 else "%d decision lines: %r" % (len(lines), lines)

    def refused_config(args, words, what, first="auth requisite pam_permit.so"):
        run = login(service("enrol-bad", args, first), "bob", [FAIL])
        line = decision()
        t.ok(run.code("auth") == "PAM_SERVICE_ERR" and run.prompts() == []
             and "result=error" in line and all(w in line for w in words),
             "%s: PAM_SERVICE_ERR before any prompt, the line names it" % what,
             run.describe() + "\n" + line)

    # -- the argument --------------------------------------------------------------------------
    refused_config("password=none enroll=yes", ["enroll=", "off, self or invite"], "enroll=yes")
    refused_config("password=none enroll=", ["enroll="], "an empty enroll=")
    refused_config("password=none enroll=self enroll=invite", ["duplicate argument 'enroll'"],
                   "enroll= twice")
    refused_config("enroll=self", ["enroll=self and password=store exclude each other"],
                   "enroll=self with password=store (the default)", first=None)
    refused_config("password=store enroll=invite",
                   ["enroll=invite and password=store exclude each other"],
                   "enroll=invite with password=store", first=None)
    refused_config("password=none code_from_answer enroll=self",
                   ["enroll=self and code_from_answer exclude each other"],
                   "enroll=self with code_from_answer")
    run = login(service("enrol-off-store", "enroll=off", first=None), "alice", [PASSWORD, FAIL])
    t.ok(run.code("auth") != "PAM_SERVICE_ERR" and len(run.prompts()) == 2,
         "enroll=off with password=store is no conflict: password, then the code prompt",
         run.describe())
    run = login(service("enrol-self", "password=none enroll=self"), "bob", [FAIL])
    t.eq([x for k, x in run.prompts()], [COUNTRY], "enroll=self: bob, not enrolled, is asked his country")

    # -- twofa.conf's enroll ---------------------------------------------------------------------
    env.write_config({"enroll": "self"})
    run = login(service("conf-none", "password=none"), "bob", [FAIL])
    t.eq([x for k, x in run.prompts()], [COUNTRY],
         "enroll = self in twofa.conf: the default of a password=none service")
    run = login(service("conf-off", "password=none enroll=off"), "bob", [FAIL])
    t.ok(run.prompts() == [] and run.code("auth") == "PAM_AUTH_ERR",
         "enroll=off overrides twofa.conf's enroll", run.describe())
    run = login(service("conf-store", "", first=None), "bob", ["some password", FAIL])
    notice = [r for r in cap.lines() if "enroll = self is ignored" in r["text"]]
    t.ok(run.code("auth") == "PAM_AUTH_ERR" and [x for k, x in run.prompts()] == ["Password: "],
         "password=store: twofa.conf's enroll is ignored (the password prompt, then not enrolled)",
         run.describe())
    t.ok(len(notice) == 1 and notice[0]["severity"] == "notice" and "password=store" in notice[0]["text"],
         "and one NOTICE line says so", "\n".join(cap.texts()))
    run = login(service("conf-store-member", "", first=None), "alice", [PASSWORD, FAIL])
    t.ok(len(run.prompts()) == 2 and run.prompts()[1][1].startswith("Code sent"),
         "a member of that service logs in as ever", run.describe())
    env.write_config({"enroll": "maybe"})
    run = login(service("conf-none", "password=none"), "bob", [FAIL])
    t.ok(run.code("auth") == "PAM_SERVICE_ERR" and "enroll must be one of: off, self, invite" in decision(),
         "a malformed enroll in twofa.conf fails closed, naming the key", run.describe() + decision())
    env.write_config({"enroll": None})

    # -- a caller that is not root never enrols ----------------------------------------------------
    user = e2e.ThrowawayUser("unix pw of the throwaway")
    d = Twofad(env.config_path).start()
    w = World()
    line = "auth required %s password=none enroll=self daemon=yes socket=%s config=%s" % (
        w.module, d.socket, env.config_path)
    w.service("enrol-daemon", ["auth requisite pam_permit.so", line])
    env.fresh()
    cap.clear()
    run = run_pam(w, "enrol-daemon", user.name, ["auth"], answers=[FAIL], driver=w.driver,
                  wrapper=as_user(user.uid, user.gid), syslog=cap)
    said = "a caller that is not root is never offered enrolment"
    t.ok(run.code("auth") == "PAM_AUTH_ERR" and run.prompts() == [] and sim.outbox() == [],
         "uid %d through twofad, not enrolled, enroll=self: not enrolled, no prompt" % user.uid,
         run.describe())
    t.ok(said in decision() or d.wait_log(re.escape(said), timeout=3) is not None,
         "the decision says why: " + said, decision())
    cap.clear()
    run = run_pam(w, "enrol-daemon", user.name, ["auth"], answers=[FAIL], driver=w.driver,
                  syslog=cap)
    t.eq([x for k, x in run.prompts()], [COUNTRY], "root through the same twofad is offered enrolment")
    d.stop()


sys.exit(e2e.run(body, ["/usr/sbin/useradd", "/usr/bin/setpriv"]))
