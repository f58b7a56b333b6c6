#!/usr/bin/python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""The lockout under real libpam (audit findings 8 and 9): parallel wrong passwords get no
more Argon2id checks than lockout_failures; a lockout that begins during a login stops its
code; a name that is not enrolled is locked out exactly like a member (and is not stored
in the clear); failures lock the source they come from, and only a higher count locks the
member out everywhere. TAP output."""

import sys
import threading

from harness.tap import Tap
from harness.sim import Sim
from harness.pam import Env, SyslogCapture, module_path, run_pam

t = Tap()
if not t.ok(module_path() is not None, "pam_twofa.so is built"):
    sys.exit(t.done())

PASSWORD = "lockout test password"
DAVE = "+14155550188"
LOCKOUT = 3
GLOBAL_FACTOR = 3  # TWOFA_STATE_GLOBAL_FACTOR, as man/twofa.conf.5 documents it
RHOST_A, RHOST_B = "192.0.2.41", "198.51.100.42"
LOCKED_MSG = "Too many failed attempts. Try again later."

sim = Sim()
env = Env(sim, config={"max_tries": "3", "lockout_failures": str(LOCKOUT), "lockout_seconds": "600"})
env.add_member("dave", PASSWORD, DAVE)
env.service("lock", [env.twofa_line()])


def login(user, answers, rhost=RHOST_A, **kw):
    return run_pam(env, "lock", user, ["auth"], answers=answers, rhost=rhost, **kw)


def reasons(cap, user):
    return [r["message"].split(" reason=", 1)[1] for r in cap.lines()
            if " reason=" in r["message"] and "user=%s " % user in r["message"]]


# -- 12 parallel wrong passwords, lockout_failures=3 ------------------------------------------
env.fresh()
cap = SyslogCapture(env)
PARALLEL = 12
barrier = threading.Barrier(PARALLEL)
results, lock = [], threading.Lock()


def at_once(kind, text, run):
    barrier.wait(timeout=30)  # every driver answers its password prompt at the same moment
    return "guess-%d" % id(run)


def one_guess():
    r = login("dave", [at_once], syslog=cap)
    with lock:
        results.append(r)


threads = [threading.Thread(target=one_guess) for _ in range(PARALLEL)]
for th in threads:
    th.start()
for th in threads:
    th.join()
cap.wait_for("x^", timeout=1.0)  # let the last datagrams arrive
why = reasons(cap, "dave")
wrong = [w for w in why if w == "wrong password"]
codes = sorted(r.code("auth") or "none" for r in results)
t.ok(len(why) == PARALLEL and len(wrong) <= LOCKOUT,
     "12 parallel wrong passwords: at most %d Argon2id checks (%d 'wrong password' lines)" % (LOCKOUT, len(wrong)),
     "\n".join(why))
# Under valgrind a driver may wait past the store's 5 s lock timeout: that fails closed.
busy_store = [w for w in why if w.startswith("state store: ") and "busy" in w]
t.ok(codes.count("PAM_AUTH_ERR") == len(wrong)
     and codes.count("PAM_MAXTRIES") + codes.count("PAM_SERVICE_ERR") == PARALLEL - len(wrong)
     and codes.count("PAM_SERVICE_ERR") == len(busy_store),
     "the others are refused as locked out or busy (PAM_MAXTRIES)", codes)
t.ok(all(w in ("wrong password", "locked out after too many failures",
               "as many password checks under way as failures left") or w in busy_store for w in why),
     "every decision line says why", why)
st = env.state("dave")
src = st.get("sources", [])
t.ok(st.get("failures") == len(wrong) == LOCKOUT and len(src) == 1 and src[0].get("failures") == LOCKOUT
     and src[0].get("pending") == [] and src[0].get("locked_until", 0) > 0,
     "exact counters afterwards: %d failures, the source locked, nothing in flight" % LOCKOUT, st)
cap.close()

# -- a lockout that begins during a login stops its code ----------------------------------------
env.fresh()


def lock_then_answer(kind, text, run):
    # The password held and a code was sent; now the source gets locked meanwhile.
    for _ in range(LOCKOUT):
        login("dave", ["wrong"])
    return sim.last_code(DAVE)


run = login("dave", [PASSWORD, lock_then_answer])
t.ok(run.code("auth") == "PAM_MAXTRIES" and LOCKED_MSG in run.texts(),
     "a login that began before the lockout does not succeed after it, even with the right code",
     run.describe())
st = env.state("dave")
t.ok(st.get("last_login", 0) == 0, "and no login is recorded", st)

# -- the lockout tells nobody who is enrolled ------------------------------------------------------
env.fresh()
GHOST = "nosuchuser-q7"


def transcript(user):
    out = []
    for _ in range(LOCKOUT + 2):
        r = login(user, ["wrong password"])
        out.append((r.code("auth"), r.texts()))
    return out


member, ghost = transcript("dave"), transcript(GHOST)
t.ok(member == ghost, "after %d wrong passwords an unknown name gets the same codes and messages as a member"
     % LOCKOUT, "member: %r\nunknown: %r" % (member, ghost))
t.ok(member[-1] == ("PAM_MAXTRIES", ["Password: ", LOCKED_MSG]), "both are locked out", member[-1])
with open(env.state_db, "rb") as f:
    t.ok(GHOST.encode() not in f.read(), "the unknown name is nowhere in state.db in the clear")
run = login(GHOST, ["wrong password"], rhost=RHOST_B)
t.eq(run.code("auth"), "PAM_AUTH_ERR", "an unknown name locked from one source is not locked from another")

# -- a stranger at one source cannot lock a member out from the others ----------------------------
env.fresh()
for _ in range(LOCKOUT):
    login("dave", ["wrong password"], rhost=RHOST_A)
run = login("dave", [PASSWORD], rhost=RHOST_A)
t.ok(run.code("auth") == "PAM_MAXTRIES" and sim.outbox() == [], "locked from rhost A: refused there, nothing sent",
     run.describe())
run = login("dave", [PASSWORD, sim.code_answer(DAVE)], rhost=RHOST_B)
t.eq(run.code("auth"), "PAM_SUCCESS", "from rhost B the right password and code still get in")
run = login("dave", [PASSWORD], rhost=RHOST_A)
t.eq(run.code("auth"), "PAM_MAXTRIES", "the success from B does not lift A's lockout")

env.fresh()
for i in range(GLOBAL_FACTOR):
    for _ in range(LOCKOUT):
        login("dave", ["wrong password"], rhost="203.0.113.%d" % (10 + i))
run = login("dave", [PASSWORD], rhost=RHOST_B)
t.ok(run.code("auth") == "PAM_MAXTRIES" and sim.outbox() == [],
     "%d failures from all sources together lock the member out everywhere" % (LOCKOUT * GLOBAL_FACTOR),
     run.describe())

# -- wrong codes lock the source too ---------------------------------------------------------------
env.fresh()


wrong_code = sim.wrong_code_answer(DAVE)


run = login("dave", [PASSWORD, wrong_code, wrong_code, wrong_code])
t.ok(run.code("auth") == "PAM_MAXTRIES" and run.texts()[-1] == LOCKED_MSG,
     "%d wrong codes lock the source at once" % LOCKOUT, run.describe())
run = login("dave", [PASSWORD, sim.code_answer(DAVE)], rhost=RHOST_B)
t.eq(run.code("auth"), "PAM_SUCCESS", "and only that source")

env.cleanup()
sim.stop()
sys.exit(t.done())
