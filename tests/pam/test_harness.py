#!/usr/bin/python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""Tests of the PAM harness itself (pam_driver, harness.pam, mkmember, the syslog capture)
against Linux-PAM's own modules: pam_permit, pam_deny, pam_exec, pam_echo, pam_warn.
They do not need pam_twofa.so. TAP output."""

import os
import stat
import subprocess
import sys

from harness.tap import Tap
from harness.sim import Sim
from harness.pam import DRIVER, FAIL, MKMEMBER, NORESP, Env, SyslogCapture, run_pam

t = Tap()
env = Env(init_store=False)


def write_script(name, body):
    path = os.path.join(env.dir, name)
    with open(path, "w") as f:
        f.write("#!/bin/sh\n" + body)
    os.chmod(path, 0o700)
    return path


def expect(run, want_codes, name):
    return t.ok(run.codes() == want_codes and run.clean_exit, name,
                "want %r\n%s" % (want_codes, run.describe()))


# -- driver basics -----------------------------------------------------------------------
t.ok(os.access(DRIVER, os.X_OK), "pam_driver is built", DRIVER)

ALL_OPS = ["auth", "acct", "setcred", "open", "close", "chauthtok"]
env.service("permit", ["%s required pam_permit.so" % k
                       for k in ("auth", "account", "session", "password")])
env.service("deny", ["%s required pam_deny.so" % k
                     for k in ("auth", "account", "session", "password")])

run = run_pam(env, "permit", "alice", ALL_OPS)
expect(run, ["PAM_SUCCESS"] * len(ALL_OPS), "pam_permit: every op succeeds on one handle")
t.eq([r.op for r in run.results], ALL_OPS, "ops run in the order given")
t.eq(run.result("auth").user, "alice", "PAM_USER is the --user name")
t.eq(run.result("auth").number, 0, "PAM_SUCCESS is reported as 0")
t.eq(run.transcript, [], "pam_permit holds no conversation")

run = run_pam(env, "deny", "alice", ["auth", "acct"])
t.ok(run.code("auth") == "PAM_AUTH_ERR" and run.result("auth").number == 7
     and run.result("auth").msg == "Authentication failure",
     "pam_deny: auth is PAM_AUTH_ERR (7) with pam_strerror text", run.describe())
t.ok(run.code("acct") not in (None, "PAM_SUCCESS"), "pam_deny: acct fails", run.describe())

run = run_pam(env, "deny", "alice", ["auth", "acct"], stop_on_fail=True)
t.ok(run.codes() == ["PAM_AUTH_ERR"] and run.clean_exit,
     "--stop-on-fail stops after the failing op (like sshd)", run.describe())

run = run_pam(env, "no-such-service", "alice", ["auth"])
t.ok(run.code("auth") == "PAM_AUTH_ERR" and run.clean_exit,
     "an unknown service falls back to the env's fail-closed 'other'", run.describe())

for bad_args, why in (([], "no --op"), (["--op", "fly"], "unknown --op"),
                      (["--op", "auth", "--no-user"], "--user and --no-user")):
    r = subprocess.run([DRIVER, "--confdir", env.confdir, "--service", "permit",
                        "--user", "alice"] + bad_args, stdin=subprocess.DEVNULL,
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    t.ok(r.returncode == 2 and "END" not in r.stdout, "driver misuse exits 2: %s" % why,
         "exit %d\n%s%s" % (r.returncode, r.stdout, r.stderr))

# -- control flags ----------------------------------------------------------------------
marker = os.path.join(env.dir, "marker")
touch = "auth optional pam_exec.so quiet /usr/bin/touch %s" % marker


def stack_run(name, lines):
    if os.path.exists(marker):
        os.unlink(marker)
    env.service(name, lines)
    return run_pam(env, name, "alice", ["auth"])


run = stack_run("required", ["auth required pam_deny.so", touch, "auth required pam_permit.so"])
t.ok(run.code("auth") == "PAM_AUTH_ERR" and os.path.exists(marker),
     "required failure: stack goes on, result is the failure", run.describe())
run = stack_run("requisite", ["auth requisite pam_deny.so", touch, "auth required pam_permit.so"])
t.ok(run.code("auth") == "PAM_AUTH_ERR" and not os.path.exists(marker),
     "requisite failure: stack stops at once", run.describe())
run = stack_run("sufficient", ["auth sufficient pam_permit.so", touch, "auth required pam_deny.so"])
t.ok(run.code("auth") == "PAM_SUCCESS" and not os.path.exists(marker),
     "sufficient success with no earlier failure: done, later lines skipped", run.describe())
run = stack_run("suff-fail", ["auth sufficient pam_deny.so", "auth required pam_permit.so"])
expect(run, ["PAM_SUCCESS"], "sufficient failure is ignored")
run = stack_run("req-suff", ["auth required pam_deny.so", "auth sufficient pam_permit.so",
                             "auth required pam_permit.so"])
expect(run, ["PAM_AUTH_ERR"], "sufficient cannot override an earlier required failure")
run = stack_run("skip-ok", ["auth [success=1 default=ignore] pam_permit.so",
                            "auth requisite pam_deny.so", "auth required pam_permit.so"])
expect(run, ["PAM_SUCCESS"], "[success=1 default=ignore]: success jumps over the deny")
run = stack_run("skip-fail", ["auth [success=1 default=ignore] pam_deny.so",
                              "auth requisite pam_deny.so", "auth required pam_permit.so"])
expect(run, ["PAM_AUTH_ERR"], "[success=1 default=ignore]: failure falls into the deny")

# -- the conversation --------------------------------------------------------------------
received = os.path.join(env.dir, "received")
save = write_script("save.sh", 'cat > "%s"\n[ "$(cat "%s.want")" = "$(tr -d \'\\000\' < "%s")" ]\n'
                    % (received, received, received))
env.service("secret", ["auth required pam_exec.so expose_authtok %s" % save])
secret = "pä\\ss w\tord\"x"
with open(received + ".want", "w") as f:
    f.write(secret)

run = run_pam(env, "secret", "alice", ["auth"], answers=[secret])
got = open(received, "rb").read().rstrip(b"\0") if os.path.exists(received) else None
t.eq(run.prompts(), [("PROMPT_ECHO_OFF", "Password: ")], "echo-off prompt is reported")
t.eq(got, secret.encode(), "an answer with backslash, tab, quote and UTF-8 arrives intact")
expect(run, ["PAM_SUCCESS"], "pam_exec accepts the right answer")

run = run_pam(env, "secret", "alice", ["auth"], answers=["wrong"])
t.ok(run.code("auth") not in (None, "PAM_SUCCESS")
     and any(k == "ERROR_MSG" and "failed" in txt for k, txt in run.transcript),
     "a wrong answer fails and the module's ERROR_MSG is reported", run.describe())

for answers, want, name in (([FAIL], "PAM_CONV_ERR", "FAIL makes the conversation fail"),
                            ([], "PAM_CONV_ERR", "running out of answers fails the conversation")):
    run = run_pam(env, "secret", "alice", ["auth"], answers=answers)
    expect(run, [want], name)

run = run_pam(env, "secret", "alice", ["auth"], answers=[None])
t.ok(("ANSWER", None) in run.transcript and run.code("auth") not in (None, "PAM_SUCCESS"),
     "NULL answer is sent and does not authenticate", run.describe())
run = run_pam(env, "secret", "alice", ["auth"], answers=[NORESP])
t.ok(run.code("auth") not in (None, "PAM_SUCCESS") and run.clean_exit,
     "NORESP (no resp array) does not authenticate", run.describe())

env.service("login", ["auth required pam_permit.so"])
run = run_pam(env, "login", None, ["auth"], answers=["bob"])
t.ok(len(run.prompts()) == 1 and run.prompts()[0][0] == "PROMPT_ECHO_ON"
     and run.result("auth").user == "bob" and run.code("auth") == "PAM_SUCCESS",
     "no --user: echo-on user prompt, the answer becomes PAM_USER", run.describe())

seen = []
run = run_pam(env, "secret", "alice", ["auth"],
              answers=lambda kind, text, r: seen.append((kind, text, len(r.transcript))) or secret)
t.ok(seen == [("PROMPT_ECHO_OFF", "Password: ", 1)] and run.code("auth") == "PAM_SUCCESS",
     "a callable answer sees kind, text and the transcript so far", "%r\n%s" % (seen, run.describe()))

banner = os.path.join(env.dir, "banner")
with open(banner, "w") as f:
    f.write("first line\nback\\slash \"quoted\" ümlaut")
env.service("echo", ["auth optional pam_echo.so file=%s" % banner,
                     "auth optional pam_echo.so svc=%s host=%H tty=%t ruser=%U",
                     "auth required pam_permit.so"])
run = run_pam(env, "echo", "alice", ["auth"], rhost="203.0.113.9", tty="pts/7", ruser="carol")
infos = run.texts(("TEXT_INFO",))
t.eq(infos[:1], ["first line\nback\\slash \"quoted\" ümlaut"],
     "a multi-line TEXT_INFO with escapes arrives intact")
t.eq(infos[1:], ["svc=echo host=203.0.113.9 tty=pts/7 ruser=carol"],
     "--rhost, --tty and --ruser reach PAM items")
run = run_pam(env, "echo", "alice", ["auth"], silent=True)
t.ok(run.code("auth") == "PAM_SUCCESS" and run.texts(("TEXT_INFO",)) == [],
     "--silent passes PAM_SILENT (pam_echo stays quiet)", run.describe())

# -- syslog capture --------------------------------------------------------------------------
had_dev_log = os.path.lexists("/dev/log")
cap = SyslogCapture(env)
env.service("warn", ["auth required pam_warn.so", "auth required pam_permit.so"])
run = run_pam(env, "warn", "alice", ["auth"], rhost="198.51.100.4", syslog=cap)
rec = cap.wait_for(r"pam_warn\(warn:auth\)")
expect(run, ["PAM_SUCCESS"], "the driver runs inside the /dev/log namespace")
t.ok(rec is not None and "user=[alice]" in rec["message"] and "rhost=[198.51.100.4]" in rec["message"],
     "pam_warn's syslog line is captured with user and rhost", cap.texts())
t.ok(rec is not None and rec["facility"] == "authpriv" and rec["ident"] == "pam_driver",
     "the record's facility and ident are parsed", rec)
t.eq(os.path.lexists("/dev/log"), had_dev_log, "the real /dev is unchanged")
run = run_pam(env, "permit", "alice", ["auth"], syslog=cap)
t.ok(run.clean_exit and os.path.exists("/dev/null"), "a second run in a fresh namespace works",
     run.describe())
cap.close()

# -- mkmember ------------------------------------------------------------------------------
if os.access(MKMEMBER, os.X_OK):
    menv = Env()
    st = os.stat(menv.members_db)
    t.ok(stat.S_IMODE(st.st_mode) == 0o600 and st.st_uid == 0,
         "Env creates an empty members.db (root, 0600)", oct(st.st_mode))
    menv.add_member("alice", "correct horse", "+14155550123", country="US")
    rec = menv.member("alice", password="correct horse")
    t.ok(rec is not None and rec.get("phone") == "+14155550123" and rec.get("status") == "active"
         and rec.get("channel") == "sms" and rec.get("hash", "").startswith("$argon2id$")
         and rec.get("password") == "ok", "add_member stores an active member with an Argon2id hash",
         rec)
    t.eq((menv.member("alice", password="correct hors") or {}).get("password"), "wrong",
         "the stored hash refuses another password")
    t.eq(menv.member("nobody"), None, "member() of an unenrolled user is None")
    for user, phone, why in (("alice", "+14155550124", "enrolling the same user twice without replace"),
                             ("bob", "12345", "a malformed phone number")):
        try:
            menv.add_member(user, "pw", phone)
            refused = False
        except RuntimeError:
            refused = True
        t.ok(refused, "%s is refused" % why)
    menv.add_member("alice", "other", "+14155550124", status="pending", channel="call",
                    replace=True)
    rec = menv.member("alice", password="other") or {}
    t.ok(rec.get("status") == "pending" and rec.get("channel") == "call"
         and rec.get("phone") == "+14155550124" and rec.get("password") == "ok",
         "replace=True re-enrols a member with new fields", rec)
    state = menv.state("alice")
    t.ok(isinstance(state, dict) and state.get("failures", 0) == 0,
         "state() reads an empty state entry for a user with no logins", state)
    menv.cleanup()
    t.ok(not os.path.exists(menv.dir), "Env.cleanup removes its directory")
else:
    t.ok(False, "mkmember is built", MKMEMBER)

# -- simulator and config ----------------------------------------------------------------
sim = Sim()
senv = Env(sim, config={"max_tries": "2", "failmode": "secure"}, init_store=False)
text = open(senv.config_path).read()
cst = os.stat(senv.config_path)
t.ok(stat.S_IMODE(cst.st_mode) == 0o600 and cst.st_uid == 0
     and stat.S_IMODE(os.stat(senv.dir).st_mode) == 0o700,
     "twofa.conf is root 0600 in a 0700 dir", oct(cst.st_mode))
t.ok("verify_url = %s" % sim.url in text and "members_db = %s" % senv.members_db in text
     and "max_tries = 2" in text and "auth_token = %s" % sim.creds["auth_token"] in text,
     "twofa.conf holds the simulator fragment, the store paths and extra keys", text)
senv.write_config({"max_tries": None, "grace_period": "60"})
text = open(senv.config_path).read()
t.ok("max_tries" not in text and "grace_period = 60" in text and "failmode = secure" in text,
     "write_config drops keys set to None and keeps the others", text)
st, body, _ = sim.start("+14155550199")
t.ok(st == 201 and sim.codes("+14155550199") == [sim.last_code("+14155550199")]
     and sim.sends() == 1, "Sim: a start shows one code in the outbox", (st, body))
now = sim.clock()
t.ok(abs(sim.advance(700) - now - 700) < 5, "Sim: the clock moves")
sim.fault("start", "503")
st, body, _ = sim.start("+14155550199")
t.eq(st, 503, "Sim: a queued fault answers")
sim.reset()
t.ok(sim.sends() == 0 and sim.stats()["requests"] == 0, "Sim: reset empties outbox and stats")
senv.cleanup()
sim.stop()

env.cleanup()
sys.exit(t.done())
