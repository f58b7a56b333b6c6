#!/usr/bin/python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""A caller that is not root (a screen locker, vlock) through twofad: a throwaway user with
a Unix password, enrolled, runs the real libpam driver under its own uid through
`auth requisite pam_unix.so` + `auth required pam_twofa.so password=none daemon=yes
socket=S`. Its own account with the right code succeeds, a wrong code is refused; twofad
stopped fails closed (nullok and daemon=auto too), killed at the code prompt fails closed
and after a restart the next login works with nothing lost (state.db readable, `twofa-enroll
db check` passes). Another member's name (pam_permit as the first factor: pam_unix refuses
another user's password to a non-root caller anyway) is PAM_PERM_DENIED with a LOG_WARNING
line and sends nothing. With password=none and send_limit=10 the caller gets 3 codes a
window, a root caller on the same user still gets its own; its password call is PAM_IGNORE
and leaves the stored hash as it was; groups=! does not exempt it. TAP output."""

import hashlib
import os
import re
import shlex
import signal
import sys

from harness import e2e
from harness.cli import CLI, run_cli
from harness.daemon import Twofad, World, as_user
from harness.pam import Env, SyslogCapture, module_path, run_pam
from harness.sim import Sim
from harness.tap import Tap

UNIX_PASSWORD = "unix pw of the throwaway"
TWOFA_PASSWORD = "twofa pw never asked"
PHONE = "+14155550177"
ALICE = "+14155550123"
PEER_SEND_LIMIT = 3  # TWOFA_PEER_SEND_LIMIT (server/peer_policy.h)


def body(t, module):
    sim = Sim()
    env = Env(sim, config={"max_tries": "1", "lockout_failures": "0", "send_limit": "10"})
    user = e2e.ThrowawayUser(UNIX_PASSWORD)
    env.add_member(user.name, TWOFA_PASSWORD, PHONE)
    env.add_member("alice", "alice pw", ALICE)
    d = Twofad(env.config_path).start()
    w = World()
    cap = SyslogCapture(env)
    os.chmod(cap.path, 0o666)  # the driver sends to it as the throwaway uid
    memcheck = shlex.split(os.environ.get("TWOFA_PAM_WRAPPER", ""))  # the valgrind variant's
    me, root = as_user(user.uid, user.gid) + memcheck, memcheck

    def twofa(args="", kind="auth"):
        return "%s required %s password=none daemon=yes socket=%s config=%s %s" % (
            kind, w.module, d.socket, env.config_path, args)

    def service(name, args="", first="pam_unix.so"):
        return w.service(name, ["auth requisite " + first, twofa(args),
                                "account required pam_unix.so", twofa(args, "account")])

    locker = service("locker")
    code = sim.code_answer(PHONE)

    def login(svc, answers, who=None, ops=("auth", "acct"), wrapper=me):
        return run_pam(w, svc, who or user.name, list(ops), answers=answers, wrapper=wrapper,
                       driver=w.driver, syslog=cap)

    def logged(text, timeout=3.0):
        """The first line saying text: the module's (it logs the server's lines in the
        caller's process, read by a thread) or else twofad's own. None when neither has one."""
        rec = cap.wait_for(re.escape(text), timeout)
        if rec is not None:
            return rec
        line = d.wait_log(re.escape(text), timeout=0)
        return None if line is None else {"text": line, "severity": None, "message": line}

    def fresh():
        env.fresh()
        cap.clear()
        d.log.truncate(0)

    # -- its own account ----------------------------------------------------------------------
    fresh()
    run = login(locker, [UNIX_PASSWORD, code])
    t.ok(run.codes() == ["PAM_SUCCESS", "PAM_SUCCESS"],
         "uid %d, its own account, Unix password and the right code: auth and account succeed"
         % user.uid, run.describe())
    t.eq([e["to"] for e in sim.outbox()], [PHONE], "one code sent, to its phone")
    fresh()
    run = login(locker, [UNIX_PASSWORD, "000000"], ops=("auth",))
    t.ok(run.codes() == ["PAM_MAXTRIES"] and sim.stats()["checks"] == 1,
         "a wrong code: refused (PAM_MAXTRIES: max_tries=1; Twilio said no)", run.describe())
    fresh()
    run = login(locker, ["not the unix password", code], ops=("auth",))
    t.ok(run.codes() == ["PAM_AUTH_ERR"] and sim.outbox() == [],
         "a wrong Unix password: pam_unix refuses, nothing sent", run.describe())

    # -- another member's name -------------------------------------------------------------
    permit = service("permit-first", first="pam_permit.so")
    fresh()
    run = login(permit, [code], who="alice", ops=("auth",))
    t.eq(run.codes(), ["PAM_PERM_DENIED"], "pam_permit first, another member's name (alice): "
         "PAM_PERM_DENIED")
    t.eq(sim.outbox(), [], "and nothing is sent to alice")
    t.eq(run.prompts(), [], "and no code is asked for")
    said = "a caller with uid %d asked for another user" % user.uid
    line = logged(said)
    t.ok(line is not None and line["severity"] in ("warning", None)
         and sum(said in x for x in cap.texts()) <= 1,
         "one LOG_WARNING line: " + said, "\n".join(cap.texts() + d.lines()))
    fresh()
    run = login(permit, [code], who="nobody-such-%d" % user.uid, ops=("auth",))
    t.eq(run.codes(), ["PAM_PERM_DENIED"], "nor for a name nobody has")

    # -- the send cap -------------------------------------------------------------------------
    fresh()
    runs = [login(locker, [UNIX_PASSWORD, code], ops=("auth",)) for _ in range(PEER_SEND_LIMIT + 1)]
    t.eq([r.code("auth") for r in runs], ["PAM_SUCCESS"] * PEER_SEND_LIMIT + ["PAM_MAXTRIES"],
         "password=none, send_limit=10: %d logins get a code, the %dth is refused"
         % (PEER_SEND_LIMIT, PEER_SEND_LIMIT + 1))
    t.eq(len(sim.outbox(PHONE)), PEER_SEND_LIMIT, "the simulator sent exactly %d codes" % PEER_SEND_LIMIT)
    t.eq(len(env.state(user.name)["sends"]), PEER_SEND_LIMIT, "state.db counts %d sends" % PEER_SEND_LIMIT)
    root_runs = [login(locker, [UNIX_PASSWORD, code], ops=("auth",), wrapper=root) for _ in range(2)]
    t.eq([r.code("auth") for r in root_runs], ["PAM_SUCCESS"] * 2,
         "a root caller on the same user, same window: still gets its codes (send_limit=10)")
    t.eq(len(sim.outbox(PHONE)), PEER_SEND_LIMIT + 2, "2 more codes sent")
    run = login(locker, [UNIX_PASSWORD, code], ops=("auth",))
    t.ok(run.code("auth") == "PAM_MAXTRIES" and len(sim.outbox(PHONE)) == PEER_SEND_LIMIT + 2,
         "and the non-root caller still gets none", run.describe())

    # -- groups= and the password call ---------------------------------------------------------
    scoped = service("scoped", "groups=!%s" % user.name)  # useradd's private group
    fresh()
    run = login(scoped, [UNIX_PASSWORD, code], ops=("auth",), wrapper=root)
    t.ok(run.codes() == ["PAM_SUCCESS"] and sim.outbox() == [],
         "groups=!%s, a root caller: the user is out of scope (no code)" % user.name, run.describe())
    fresh()
    run = login(scoped, [UNIX_PASSWORD, "000000"], ops=("auth",))
    t.ok(run.codes() == ["PAM_MAXTRIES"] and len(sim.outbox(PHONE)) == 1,
         "the same for the non-root caller: groups= does not apply, a code is sent and the "
         "wrong one refused", run.describe())

    # -- config= counts only for root callers ---------------------------------------------------
    other = Env(sim)  # a config whose store does not know the user
    elsewhere = w.service("elsewhere", [
        "auth requisite pam_unix.so",
        "auth required %s password=none daemon=yes socket=%s config=%s nullok"
        % (w.module, d.socket, other.config_path)])
    fresh()
    run = login(elsewhere, [UNIX_PASSWORD, code], ops=("auth",), wrapper=root)
    t.ok(run.codes() == ["PAM_SUCCESS"] and sim.outbox() == [],
         "a root caller's config= counts: not enrolled there, nullok, no code", run.describe())
    fresh()
    run = login(elsewhere, [UNIX_PASSWORD, code], ops=("auth",))
    t.ok(run.codes() == ["PAM_SUCCESS"] and len(sim.outbox(PHONE)) == 1,
         "a non-root caller's config= does not: twofad's own config, where it is enrolled, "
         "sends its code", run.describe())

    # pam_permit after it: the stack succeeds only if pam_twofa is ignored (not denied).
    chpw = w.service("chpw", ["password required %s daemon=yes socket=%s config=%s"
                              % (w.module, d.socket, env.config_path), "password required pam_permit.so"])
    before = hashlib.sha256(open(env.members_db, "rb").read()).hexdigest()
    fresh()
    run = login(chpw, [TWOFA_PASSWORD, "a new twofa pw", "a new twofa pw"], ops=("chauthtok",))
    line = logged("may not change a twofa password")
    t.ok(run.codes() == ["PAM_SUCCESS"] and line is not None and "result=ignored" in line["text"],
         "its password call: PAM_IGNORE (result=ignored; pam_permit after it decides)",
         "\n".join(cap.texts() + d.lines()) + "\n" + run.describe())
    t.eq(run.prompts(), [], "without asking anything")
    t.ok(hashlib.sha256(open(env.members_db, "rb").read()).hexdigest() == before
         and env.member(user.name, TWOFA_PASSWORD).get("password") == "ok",
         "the stored hash is unchanged (the old password still holds)")

    # -- twofad killed at the code prompt, then stopped ------------------------------------
    prompts = []

    def kill_at_code(kind, text, r):
        prompts.append(text)
        if len(prompts) == 1:
            return UNIX_PASSWORD
        d.send_signal(signal.SIGKILL)
        d.proc.wait(10)
        return sim.last_code(PHONE)

    fresh()
    run = login(locker, kill_at_code, ops=("auth",))
    t.ok(run.codes() == ["PAM_AUTHINFO_UNAVAIL"] and len(prompts) == 2,
         "twofad killed (SIGKILL) at the code prompt: PAM_AUTHINFO_UNAVAIL", run.describe())
    nullok = service("nullok", "nullok")
    auto = w.service("auto", ["auth requisite pam_unix.so",
                              "auth required %s password=none daemon=auto socket=%s config=%s"
                              % (w.module, d.socket, env.config_path)])
    for svc, what in ((locker, "daemon=yes"), (nullok, "daemon=yes nullok"),
                      (auto, "daemon=auto (no per-call server for a non-root caller)")):
        run = login(svc, [UNIX_PASSWORD, code], ops=("auth",))
        t.eq(run.codes(), ["PAM_AUTHINFO_UNAVAIL"], "twofad dead, %s: fails closed" % what)
    t.eq(sim.outbox(PHONE)[1:], [], "no code sent while it was dead")
    d.start()
    check = run_cli(env.config_path, "db", "check")
    t.ok(check.rc == 0, "after the kill, `twofa-enroll db check` passes", check.describe())
    state = env.state(user.name)
    t.ok(isinstance(state, dict), "and state.db reads (%r)" % state)
    run = login(locker, [UNIX_PASSWORD, code])
    t.ok(run.codes() == ["PAM_SUCCESS", "PAM_SUCCESS"], "restarted: the next login works",
         run.describe())
    rc = d.stop()
    run = login(nullok, [UNIX_PASSWORD, code], ops=("auth",))
    t.ok(rc == 0 and run.codes() == ["PAM_AUTHINFO_UNAVAIL"],
         "twofad stopped (SIGTERM, exit %r), nullok: PAM_AUTHINFO_UNAVAIL" % rc, run.describe())
    t.eq(d.sanitizer_lines(), [], "no sanitizer report from twofad")
    cap.close()
    env.cleanup()
    sim.stop()


sys.exit(e2e.run(body, ["/usr/sbin/useradd", "/usr/sbin/chpasswd", "/usr/bin/setpriv", CLI]))
