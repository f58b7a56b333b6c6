#!/usr/bin/python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""twofa-enroll add / phone / passwd / test against the Twilio simulator: the whole
registration flow (sms, call, wrong code then right, resend by call, expired code, too many
tries, outages, Lookup), duplicates, manual approval, rebinding a phone, interruption, and
that no secret or full number reaches the output."""

import signal
import sys
import time

from harness.tap import Tap
from harness.sim import Sim
from harness.cli import CODE, AfterSend, Cli, wait_for

t = Tap()
sim = Sim()
cli = Cli(sim, {"max_tries": "3"})
GB = "+447400123456"
US = "+14155550123"
DE = "+4915112345678"
all_output = []


def keep(r):
    all_output.append(r.err)
    all_output.append(r.out)
    return r


def pending(to):
    st, body, _ = sim.fetch(to)
    return st == 200 and body.get("status") == "pending"


# -- the happy path: national form, wrong code first -----------------------------------
r = keep(cli.enroll("alice", "07400 123456", "gb", ["pw-alice-1", "pw-alice-1", "000000", CODE], to=GB))
t.eq(r.rc, 0, "add alice: wrong code then the right one -> 0")
t.ok("wrong code (2 tries left)" in r.err, "the wrong code is reported with the tries left", r.describe())
t.ok("code sent by SMS to +44 **** **3456" in r.err, "where the code went, masked", r.describe())
m = cli.member("alice", "pw-alice-1")
t.ok(m is not None and m["phone"] == GB and m["country"] == "GB" and m["status"] == "active"
     and m["channel"] == "sms" and m["password"] == "ok",
     "alice stored active with the E.164 number, the country and the password", m)
t.ok(m is not None and m["created"] == m["updated"] == m["verified"], "created = updated = verified", m)
t.ok(GB not in r.out + r.err, "the full number is not printed", r.describe())
t.ok(not cli.leaks(r.out + r.err), "no password or code printed", cli.leaks(r.out + r.err))
reqs = [q for q in sim.requests() if q["op"] == "lookup"]
t.ok(len(reqs) >= 1, "the number was confirmed with Lookup")

# -- duplicate: refused at once, nothing sent -------------------------------------------
before = len(sim.outbox())
r = keep(cli.run("add", "alice", "--phone", US, "--country", "US", input="x\nx\n"))
t.ok(r.rc == 65 and "already enrolled" in r.err and r.one_line_error(), "a second add of alice -> 65",
     r.describe())
t.eq(len(sim.outbox()), before, "nothing was sent for the duplicate")

# -- voice call channel, --password-stdin, resend by sms --------------------------------
r = keep(cli.flow(["add", "bob", "--phone", "(415) 555-0123", "--country", "US", "--channel", "call",
                   "--password-stdin"], US, ["pw-bob-22", CODE]))
t.eq(r.rc, 0, "add bob by voice call with --password-stdin -> 0")
t.eq(sim.outbox(US)[-1]["channel"], "call", "the code went by call")
t.ok(cli.member("bob", "pw-bob-22")["channel"] == "call", "bob's channel is call")
cli.run("remove", "bob", "--yes")

# -- resend by call ---------------------------------------------------------------------
r = keep(cli.flow(["add", "carol", "--phone", DE, "--country", "DE"], DE,
                  ["pw-carol-3", "pw-carol-3", AfterSend("call"), CODE]))
box = sim.outbox(DE)
t.ok(r.rc == 0 and len(box) >= 2 and box[-2]["channel"] == "sms" and box[-1]["channel"] == "call",
     "carol: sms, then 'call' re-sends by call, the code is approved", r.describe())
t.ok("code sent by voice call" in r.err, "the re-send is reported", r.describe())

# -- expired code, then resend ----------------------------------------------------------
def expire(c):
    sim.advance(601)
    return sim.last_code("+33612345678")


r = keep(cli.flow(["add", "dave", "--phone", "06 12 34 56 78", "--country", "FR"], "+33612345678",
                  ["pw-dave-44", "pw-dave-44", AfterSend(expire), "resend", CODE]))
t.ok(r.rc == 0 and "expired" in r.err, "dave: an expired code is reported; resend gives a new one", r.describe())
t.ok(cli.member("dave") is not None, "dave stored after the new code")

cli.write_config({"max_tries": "1"})
r = keep(cli.flow(["add", "dave2", "--phone", "+33612345679", "--country", "FR"], "+33612345679",
                  ["pw-dave-44", "pw-dave-44", AfterSend(lambda c: (sim.advance(601),
                                                                    sim.last_code("+33612345679"))[1])]))
t.ok(r.rc == 65 and cli.member("dave2") is None, "max_tries 1 and an expired code -> 65, nothing stored",
     r.describe())
cli.write_config({"max_tries": "3"})

# -- too many tries ---------------------------------------------------------------------
N = "+447400123457"
r = keep(cli.flow(["add", "erin", "--phone", N, "--country", "GB"], N,
                  ["pw-erin-55", "pw-erin-55", "111111", "222222", "333333"]))
t.ok(r.rc == 65 and "3 of 3 tries" in r.err, "three wrong codes with max_tries 3 -> 65", r.describe())
t.ok(cli.member("erin") is None, "nothing stored after too many tries")
t.ok(not pending(N), "the pending verification was canceled")

# -- outages ----------------------------------------------------------------------------
N = "+447400123458"
sim.fault("start", "503")
r = keep(cli.run("add", "fred", "--phone", N, "--country", "GB", input="pw-fred-66\npw-fred-66\n"))
t.ok(r.rc == 69 and r.one_line_error() and cli.member("fred") is None,
     "Verify answers 503 on the send -> 69, one line, nothing stored", r.describe())
sim.clear_faults()
sim.fault("check", "500")
r = keep(cli.flow(["add", "fred", "--phone", N, "--country", "GB"], N, ["pw-fred-66", "pw-fred-66", CODE]))
t.ok(r.rc == 69 and cli.member("fred") is None, "Verify answers 500 on the check -> 69, nothing stored",
     r.describe())
sim.clear_faults()
sim.fault("lookup", "503")
r = keep(cli.flow(["add", "fred", "--phone", N, "--country", "GB"], N, ["pw-fred-66", "pw-fred-66", CODE]))
t.ok(r.rc == 0 and "could not confirm" in r.err, "a Lookup outage is a warning; the code proves the number",
     r.describe())
sim.clear_faults()

# -- Lookup says invalid ----------------------------------------------------------------
N = "+447400123459"
sim.number_kind(N, "invalid")
before = len(sim.outbox())
r = keep(cli.run("add", "gina", "--phone", N, "--country", "GB", input="pw-gina-77\npw-gina-77\n"))
t.ok(r.rc == 65 and "Lookup" in r.err and r.one_line_error(), "Lookup calls the number invalid -> 65",
     r.describe())
t.eq(len(sim.outbox()), before, "no code sent to an invalid number")

# -- password problems: no code sent ----------------------------------------------------
N = "+447400123460"
r = keep(cli.run("add", "hank", "--phone", N, "--country", "GB", input="pw-hank-88\npw-hank-89\n"))
t.ok(r.rc == 65 and "differ" in r.err and not sim.outbox(N), "passwords that differ -> 65, nothing sent",
     r.describe())
r = keep(cli.run("add", "hank", "--phone", N, "--country", "GB", input="pw-hank-88\npw-hank-88\n"))
t.ok(r.rc == 65 and "end of input" in r.err and cli.member("hank") is None and not pending(N),
     "end of input instead of a code -> 65, nothing stored, verification canceled", r.describe())
r = keep(cli.run("add", "hank", "--phone", N, "--country", "GB", input=""))
t.ok(r.rc == 65 and "no password" in r.err, "no password at all -> 65", r.describe())

# -- interrupted: SIGINT while waiting for the code -------------------------------------
N = "+447400123461"


def interrupt(proc):
    wait_for(lambda: len(sim.outbox(N)) > 0)
    time.sleep(0.2)
    proc.send_signal(signal.SIGINT)


proc = cli.popen("add", "ivan", "--phone", N, "--country", "GB")
proc.stdin.write("pw-ivan-99\npw-ivan-99\n")
proc.stdin.flush()
interrupt(proc)
out, err = proc.communicate(timeout=30)
all_output += [out, err]
t.ok(proc.returncode == 1 and "interrupted" in err, "SIGINT while waiting for the code -> exit 1",
     "rc=%r %s" % (proc.returncode, err))
t.ok(cli.member("ivan") is None, "an interrupted run stores nothing")
t.ok(not pending(N), "the pending verification was canceled")

# -- bad credentials --------------------------------------------------------------------
good = open(cli.config_path).read()
cli.write_config(raw=good.replace(sim.creds["auth_token"], "0" * 32))
r = keep(cli.run("add", "judy", "--phone", "+447400123462", "--country", "GB", input="pw\npw\n"))
t.ok(r.rc == 78 and r.one_line_error(), "credentials Twilio refuses -> 78", r.describe())
cli.write_config(raw=good)

# -- manual approval --------------------------------------------------------------------
cli.write_config({"approval": "manual"})
N = "+447400123463"
r = keep(cli.enroll("kate", N, "GB", ["pw-kate-10", "pw-kate-10", CODE]))
t.ok(r.rc == 0 and "pending" in r.out and cli.member("kate")["status"] == "pending",
     "approval = manual: kate is stored pending", r.describe())
r = keep(cli.run("approve", "kate"))
t.ok(r.rc == 0 and cli.member("kate")["status"] == "active", "approve kate -> active", r.describe())
cli.write_config({"approval": "auto"})

# -- rebind the phone -------------------------------------------------------------------
# carol has DE: alice shares it (max_members_per_phone is 1; tests/cli/test_shared_phone.py).
r = keep(cli.flow(["phone", "alice", "--phone", "0151 12345678", "--country", "DE", "--shared-phone"], DE,
                  ["999999", "888888", "777777"]))
m = cli.member("alice")
t.ok(r.rc == 65 and m["phone"] == GB, "phone: wrong codes leave the old number", r.describe())
r = keep(cli.flow(["phone", "alice", "--phone", "0151 12345678", "--country", "DE", "--channel", "call",
                   "--shared-phone"], DE, [CODE]))
m = cli.member("alice")
t.ok(r.rc == 0 and m["phone"] == DE and m["country"] == "DE" and m["channel"] == "call",
     "phone: the approved code rebinds alice to the new number and channel", r.describe())
t.eq(sim.outbox(DE)[-1]["channel"], "call", "the code for the new number went by call")
r = keep(cli.run("phone", "nobody", "--phone", DE, "--country", "DE"))
t.ok(r.rc == 65 and "not enrolled" in r.err, "phone for someone not enrolled -> 65", r.describe())

# -- test --------------------------------------------------------------------------------
r = keep(cli.flow(["test", "alice", "--channel", "sms"], DE, [CODE]))
t.ok(r.rc == 0 and "approved" in r.out, "test alice: the code is approved", r.describe())
r = keep(cli.flow(["test", "alice"], DE, ["000000", "000001", "000002"]))
t.ok(r.rc == 65, "test alice with wrong codes -> 65", r.describe())

# -- passwd -----------------------------------------------------------------------------
r = keep(cli.run("passwd", "alice", "--password-stdin", input="pw-new-alice\n"))
t.ok(r.rc == 0 and cli.member("alice", "pw-new-alice")["password"] == "ok",
     "passwd --password-stdin changes the password", r.describe())
cli.secrets.add("pw-new-alice")
r = keep(cli.run("passwd", "alice", input="a-new-one\nanother-one\n"))
t.ok(r.rc == 65 and cli.member("alice", "pw-new-alice")["password"] == "ok",
     "passwd with two different passwords -> 65, unchanged", r.describe())
r = keep(cli.run("passwd", "zed", input="pw-zed-123\npw-zed-123\n"))
t.ok(r.rc == 65 and "not enrolled" in r.err, "passwd for someone not enrolled -> 65", r.describe())

# -- nothing secret anywhere ------------------------------------------------------------
everything = "\n".join(all_output)
t.ok(not cli.leaks(everything), "no password, code or credential in any output", cli.leaks(everything))
numbers = [GB, US, DE, "+33612345678"]
t.ok(not any(n in everything for n in numbers), "no full number in any output",
     [n for n in numbers if n in everything])

cli.cleanup()
sys.exit(t.done())
