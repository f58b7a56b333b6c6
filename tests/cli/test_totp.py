#!/usr/bin/python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""twofa-enroll and authenticator apps (Verify TOTP) against the simulator: add --channel
totp (the QR code and secret shown once, the first code with max_tries tries, a wrong first
code deleting the factor and the entity), the refusal to print the secret off a terminal,
totp USER (moving a member to an app, keeping recovery codes and phone, replacing an app),
show, export/import of the factor, remove (the entity deleted at Twilio; --force), db check's
orphans, check-config's TOTP settings, and that no code or secret reaches stderr."""

import base64
import hashlib
import hmac
import json
import os
import re
import signal
import struct
import sys
import tempfile
import time

from harness.tap import Tap
from harness.sim import Sim
from harness.cli import CODE, Cli
from harness.pam import SyslogCapture, module_path, run_pam

t = Tap()
sim = Sim()
cli = Cli(sim, {"max_tries": "3"})
UTF8 = {"LANG": "C.UTF-8", "LC_ALL": "C.UTF-8"}


def entities():
    return sim.ctl("GET", "entities")


def unverified(before, timeout=15, proc=None):
    """(identity, factor sid) of the first unverified factor not in before, waiting for it."""
    deadline = time.time() + timeout
    while time.time() < deadline:
        for ident, e in entities().items():
            for sid, f in e["factors"].items():
                if f["status"] == "unverified" and sid not in before:
                    return ident, sid
        if proc is not None and proc.poll() is not None:
            return None
        time.sleep(0.05)
    return None


def entity_of(user):
    """The identity of the entity holding user's factor at the simulator, or None."""
    m = cli.show(user)
    for ident, e in entities().items():
        if m is not None and m.get("totp_factor") in e["factors"]:
            return ident
    return None


def factor_sids():
    return {sid for e in entities().values() for sid in e["factors"]}


def app_code(sid, offset=0):
    code = sim.totp_code(sid, offset)
    cli.secrets.add(code)
    return code


def wrong(code):
    return "%0*d" % (len(code), (int(code) + 1) % 10 ** len(code))


def app_flow(args, answers, env=None):
    """Runs args; answers are lines, or callables(sid) -> line run once the new factor is at
    the simulator. Returns (Run-like rc, out, err, (identity, sid) or None)."""
    before = factor_sids()
    proc = cli.popen(*args, env=env)
    made = None
    try:
        for a in answers:
            if callable(a):
                if made is None:
                    made = unverified(before, proc=proc)
                if made is None:
                    break
                line = a(made[1])
            else:
                line = a
                if len(a) >= 6:
                    cli.secrets.add(a)
            if not cli.answer(proc, line):
                break
        out, err = proc.communicate(timeout=60)
    except Exception:
        proc.kill()
        proc.communicate()
        raise
    return proc.returncode, out, err, made


def rfc6238(secret, now, step=30, digits=6):
    key = base64.b32decode(secret + "=" * (-len(secret) % 8))
    mac = hmac.new(key, struct.pack(">Q", int(now) // step), hashlib.sha1).digest()
    off = mac[-1] & 15
    return "%0*d" % (digits, (struct.unpack(">I", mac[off:off + 4])[0] & 0x7FFFFFFF) % 10 ** digits)


# -- add --channel totp: a wrong first code, then the right one -------------------------
rc, out, err, made = app_flow(["add", "carol", "--channel", "totp", "--password-stdin", "--print-secret"],
                              ["pw-carol-1", lambda sid: wrong(app_code(sid)), lambda sid: app_code(sid)],
                              env=UTF8)
t.eq(rc, 0, "add carol --channel totp: wrong code then the right one -> 0\n" + err)
t.ok("wrong code (2 tries left)" in err, "the wrong first code is reported with the tries left", err)
t.ok(made is not None and entities()[made[0]]["factors"][made[1]]["status"] == "verified",
     "the factor is verified at Twilio", made)
t.ok(made is not None and re.fullmatch(r"tf[0-9a-f]{32}", made[0]),
     "the entity's identity is random hex, not a name", made)
m = cli.show("carol")
t.ok(m is not None and m["channel"] == "totp" and m["phone"] in (None, "") and m["status"] == "active"
     and made is not None and m["totp_factor"] == made[1],
     "carol stored active, channel totp, no phone, the verified factor", m)
secret_m = re.search(r"Or type this secret.*\n  ([A-Z2-7 ]+)\n", out)
t.ok(secret_m is not None, "the secret is printed for typing in", out[-500:])
grouped = secret_m.group(1) if secret_m else ""
secret = grouped.replace(" ", "")
cli.secrets.add(secret)
t.ok(secret != "" and made is not None and rfc6238(secret, sim.clock()) == sim.totp_code(made[1]),
     "the secret shown is the factor's: its RFC 6238 code is the app's code")
t.eq(out.count(grouped) if grouped else 0, 1, "the secret is shown once")
qr = [l for l in out.splitlines() if l and set(l) <= set("\u2588\u2580\u2584 ")]
t.ok(len(qr) >= 15 and len({len(l) for l in qr}) == 1 and (len(qr[0]) - 8) % 4 == 1
     and len(qr[0]) >= 29, "a QR code of half blocks, square with its quiet zone (%d lines)" % len(qr))
t.ok(all(c == "\u2588" for c in qr[0]) and all(c == "\u2588" for c in qr[1]),
     "the quiet zone is drawn (light) around the code")


def dark_modules(lines):
    """The drawing read back: rows of booleans, True for a dark module (a block is light)."""
    rows = []
    for l in lines:
        rows.append([c not in "\u2588\u2580" for c in l])
        rows.append([c not in "\u2588\u2584" for c in l])
    return rows


def finder_at(rows, x, y):
    """The 7x7 finder pattern: a dark ring, a light ring, a dark 3x3 centre."""
    for dy in range(7):
        for dx in range(7):
            ring = max(abs(dx - 3), abs(dy - 3))
            if rows[y + dy][x + dx] != (ring != 2):
                return False
    return True


if qr:
    rows = dark_modules(qr)
    side = len(qr[0])
    t.ok(finder_at(rows, 4, 4) and finder_at(rows, side - 11, 4) and finder_at(rows, 4, side - 11)
         and not finder_at(rows, side - 11, side - 11),
         "the three finder patterns sit in the right corners, dark on light")
t.ok(not cli.leaks(err) and (secret == "" or secret not in err), "no code or secret on stderr",
     cli.leaks(err))
t.ok("carol enrolled with the authenticator app (active)" in out, "the result line", out[-300:])

# -- ASCII, and a phone number kept but not proven (no SMS) ---------------------------
sent = sim.sends()
rc, out, err, made_d = app_flow(["add", "dave", "--channel", "totp", "--phone", "07400 123457",
                                 "--country", "GB", "--password-stdin", "--print-secret", "--ascii"],
                                ["pw-dave-22", lambda sid: app_code(sid)])
t.eq(rc, 0, "add dave --channel totp with a phone -> 0\n" + err)
t.eq(sim.sends(), sent, "no code was sent to the number")
t.ok("was not proven" in err, "the note says the number was not proven", err)
t.ok("##" in out and "\u2588" not in out, "--ascii draws with ##", out[:200])
m = cli.show("dave")
t.ok(m is not None and m["phone"] == "+447400123457" and m["country"] == "GB" and m["channel"] == "totp",
     "dave keeps the number, channel totp", m)

# -- the enrolled app members log in with their app's code, nothing sent ------------------
if module_path() is not None:
    cap = SyslogCapture(cli.env)
    cli.env.service("twofa-totp-cli", [cli.env.twofa_line("")])
    for user, pw in (("carol", "pw-carol-1"), ("dave", "pw-dave-22")):
        cap.clear()
        sent = sim.sends()
        sid = (cli.show(user) or {}).get("totp_factor", "")
        run = run_pam(cli.env, "twofa-totp-cli", user, ["auth"], syslog=cap, rhost="192.0.2.77",
                      answers=[pw, lambda kind, text, r, sid=sid: app_code(sid)])
        t.ok(run.code("auth") == "PAM_SUCCESS" and sim.sends() == sent
             and run.texts(("PROMPT_ECHO_ON",))[0].startswith("Enter the code from your authenticator app"),
             "the app member %s logs in with the app's code, nothing sent" % user,
             run.describe() + "\n" + "\n".join(cap.texts()))
else:
    t.ok(False, "pam_twofa.so is built")

# -- refusals before anything is made ---------------------------------------------------
n = len(entities())
r = cli.run("add", "erin", "--channel", "totp", "--password-stdin", input="pw-erin-1\n")
t.ok(r.rc == 64 and "not a terminal" in r.err and "--print-secret" in r.err and r.one_line_error(),
     "stdout not a terminal, no --print-secret -> 64", r.describe())
t.eq(len(entities()), n, "nothing was made at Twilio")
r = cli.run("add", "erin", "--channel", "totp", "--phone", "07400 123458", "--print-secret",
            input="pw-erin-1\n")
t.ok(r.rc == 64 and "both or" in r.err, "--phone without --country -> 64", r.describe())
r = cli.run("add", "erin", "--print-secret", input="pw-erin-1\n")
t.ok(r.rc == 64 and "--phone and --country" in r.err, "sms without a phone -> 64", r.describe())
r = cli.run("add", "erin", "--phone", "07400 123458", "--country", "GB", "--ascii", input="x\n")
t.ok(r.rc == 64 and "for --channel totp" in r.err, "--ascii without --channel totp -> 64", r.describe())
r = cli.run("add", "erin", "--channel", "totp", "--label", "a:b", "--print-secret", input="x\n")
t.ok(r.rc == 64 and "--label" in r.err, "a label with ':' -> 64", r.describe())
t.eq(cli.show("erin"), None, "erin is not stored")

# -- max_tries wrong first codes: factor and entity deleted, nothing stored ---------------
rc, out, err, made_e = app_flow(["add", "erin", "--channel", "totp", "--password-stdin", "--print-secret"],
                                ["pw-erin-1"] + [lambda sid: wrong(app_code(sid))] * 3)
t.ok(rc == 65 and "3 of 3 tries used" in err and "factor was deleted" in err,
     "three wrong codes -> 65", err)
t.ok(made_e is not None and made_e[0] not in entities(), "the new entity (and factor) was deleted", made_e)
t.eq(cli.show("erin"), None, "erin is not stored")
rc, out, err, made_e = app_flow(["add", "erin", "--channel", "totp", "--password-stdin", "--print-secret"],
                                ["pw-erin-1"])
t.ok(rc == 65 and "end of input" in err and (made_e is None or made_e[0] not in entities()),
     "end of input at the code prompt -> 65, nothing left at Twilio", err)

# -- interrupted at the code prompt: the factor and entity deleted -----------------------
before = factor_sids()
proc = cli.popen("add", "erin", "--channel", "totp", "--password-stdin", "--print-secret")
cli.answer(proc, "pw-erin-1")
made_e = unverified(before, proc=proc)
time.sleep(0.3)
proc.send_signal(signal.SIGINT)
out, err = proc.communicate(timeout=60)
t.ok(proc.returncode == 1 and "interrupted" in err and made_e is not None and made_e[0] not in entities()
     and cli.show("erin") is None, "SIGINT at the code prompt: 1, the entity deleted, nothing stored", err)

n = len(entities())
sim.fault("factor_create", "503")
r = cli.run("add", "erin", "--channel", "totp", "--password-stdin", "--print-secret", input="pw-erin-1\n")
t.ok(r.rc == 69 and "cannot make the app's factor" in r.err and cli.show("erin") is None
     and len(entities()) == n, "Twilio down at the factor: 69, nothing stored or left", r.describe())
sim.fault("factor_update", "503")
rc, out, err, made_e = app_flow(["add", "erin", "--channel", "totp", "--password-stdin", "--print-secret"],
                                ["pw-erin-1", lambda sid: app_code(sid)])
t.ok(rc == 69 and cli.show("erin") is None and made_e is not None and made_e[0] not in entities(),
     "Twilio down at the first code: 69, the entity deleted, nothing stored", err)
sim.clear_faults()

# -- totp USER: an SMS member moves to an app ---------------------------------------------
GB = "+447400123456"
r = cli.enroll("alice", GB, "GB", ["pw-alice-1", "pw-alice-1", CODE])
t.eq(r.rc, 0, "alice enrolled by SMS")
r = cli.run("recovery", "alice", "--count", "4", "--json")
t.eq(r.rc, 0, "alice gets 4 recovery codes")
rc, out, err, made_a = app_flow(["totp", "alice", "--print-secret"], [lambda sid: wrong(app_code(sid))] * 3)
m = cli.show("alice")
t.ok(rc == 65 and m["channel"] == "sms" and m["totp_factor"] is None,
     "three wrong codes: alice stays an SMS member", (rc, err, m))
t.ok(made_a is not None and made_a[0] not in entities(), "her new entity was deleted", made_a)
rc, out, err, made_a = app_flow(["totp", "alice", "--print-secret"], [lambda sid: app_code(sid)])
m = cli.show("alice")
t.eq(rc, 0, "totp alice with the right code -> 0\n" + err)
t.ok(m["channel"] == "totp" and m["phone"] == GB and m["recovery_codes"] == 4
     and m["totp_factor"] == made_a[1], "alice is an app member, her phone and 4 recovery codes kept", m)
t.ok("recovery codes and phone kept" in out, "the result line says what was kept", out[-200:])
first = made_a
rc, out, err, made_a = app_flow(["totp", "alice", "--print-secret"], [lambda sid: app_code(sid)],
                                env={"LANG": "C", "LC_ALL": "C", "LC_CTYPE": "C"})
t.ok("##" in out and "\u2588" not in out, "a locale that is not UTF-8 gets the ## drawing", out[:200])
m = cli.show("alice")
t.ok(rc == 0 and made_a[0] == first[0] and m["totp_factor"] == made_a[1]
     and first[1] not in entities()[first[0]]["factors"],
     "a new app for alice: same entity, the old factor deleted", (rc, err, m))
r = cli.run("show", "alice")
t.ok(r.rc == 0 and ("app factor    " + made_a[1]) in r.out, "show names the app factor", r.out)
r = cli.run("test", "carol")
t.ok(r.rc == 65 and "authenticator app" in r.err, "test of an app member without a phone -> 65",
     r.describe())
r = cli.run("phone", "alice", "--phone", "07400 123459", "--country", "GB", "--channel", "totp")
t.eq(r.rc, 64, "phone --channel totp -> 64")

# -- export and import carry the factor -----------------------------------------------
r = cli.run("export")
line = [json.loads(l) for l in r.out.splitlines() if '"carol"' in l]
t.ok(r.rc == 0 and line and line[0]["totp_factor"] == cli.show("carol")["totp_factor"]
     and line[0]["totp_entity"] and line[0]["channel"] == "totp", "export carries the entity and factor")
t.ok(secret not in r.out, "export holds no secret")
other = Cli(sim, {"max_tries": "3"})
with tempfile.NamedTemporaryFile("w", suffix=".jsonl", delete=False) as f:
    f.write(r.out)
    dump = f.name
try:
    r2 = other.run("import", dump)
    m2 = other.show("carol")
    t.ok(r2.rc == 0 and m2 is not None and m2["totp_factor"] == cli.show("carol")["totp_factor"]
         and m2["channel"] == "totp", "import brings carol back as an app member", r2.describe())
finally:
    os.unlink(dump)
    other.cleanup()

# -- check-config: the service's TOTP settings and the clock ----------------------------
r = cli.run("check-config")
t.ok(r.rc == 0 and "codes of 6 digits every 30 s, 1 step of skew" in r.out
     and "synchronised clock" in r.out, "check-config: Twilio's defaults and the clock note", r.describe())
sim.ctl("POST", "service", {"totp_time_step": 60, "totp_skew": 2, "totp_issuer": "Example"})
r = cli.run("check-config")
t.ok(r.rc == 0 and "every 60 s, 2 steps of skew, issuer \"Example\"" in r.out and "300 s" in r.out,
     "check-config: the service's own settings", r.describe())
sim.ctl("POST", "service", {"totp_time_step": None, "totp_skew": None, "totp_issuer": None})
cli.write_config({"max_tries": "3", "channel": "totp"})
r = cli.run("check-config")
t.ok(r.rc == 78 and "channel" in r.err, "channel = totp in twofa.conf is a configuration error",
     r.describe())
cli.write_config({"max_tries": "3", "channel": "sms"})

# -- db check: orphans -----------------------------------------------------------------
r = cli.run("db", "check")
t.ok(r.rc == 0 and "0 orphan entities and 0 orphan factors" in r.out, "db check: no orphans", r.describe())
st, body, _ = sim.factor_create("tf-left-behind-0001")
t.eq(st, 201, "an entity no member refers to (a failed add)")
st, body2, _ = sim.factor_create(entity_of("carol"))
r = cli.run("db", "check")
t.ok(r.rc == 0 and "orphan  TOTP entity tf-left-behind-0001" in r.out
     and ("orphan  totp factor %s" % body2.get("sid")) in r.out
     and "1 orphan entity and 1 orphan factor" in r.out, "db check lists the orphan entity and factor",
     r.describe())

# -- remove: the entity deleted at Twilio; --force when Twilio fails --------------------
dave_entity = entity_of("dave")
r = cli.run("remove", "dave", "--yes")
t.ok(r.rc == 0 and dave_entity not in entities() and cli.show("dave") is None,
     "remove dave: his entity is deleted at Twilio", r.describe())
carol_entity = entity_of("carol")
sim.fault("entity_delete", "503", count=-1)
r = cli.run("remove", "carol", "--yes")
t.ok(r.rc == 69 and "--force" in r.err and cli.show("carol") is not None and r.one_line_error(),
     "Twilio down: remove carol -> 69, carol kept", r.describe())
r = cli.run("remove", "carol", "--yes", "--force")
t.ok(r.rc == 0 and cli.show("carol") is None and "anyway (--force)" in r.err,
     "remove --force: carol removed with a warning", r.describe())
sim.clear_faults()
r = cli.run("db", "check")
t.ok(r.rc == 0 and ("orphan  TOTP entity " + carol_entity) in r.out, "db check lists carol's entity",
     r.describe())

t.ok(not cli.leaks(r.out + r.err), "no secret in the last output")
cli.cleanup()
sys.exit(t.done())
