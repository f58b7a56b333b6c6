#!/usr/bin/python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""Behaviour tests of the Twilio Verify simulator (TAP). Starts it with simctl in temp dirs
and stops it by PID at exit, even on failure."""

import base64
import http.client
import json
import os
import re
import shutil
import socket
import ssl
import stat
import subprocess
import sys
import time

from harness.paths import PYTHON
from harness.tap import Tap
from harness.sim import SIMCTL, Sim

t = Tap()
NUM = "+14155550100"


def err(status, code):
    return {"code": code, "more_info": "https://www.twilio.com/docs/errors/%d" % code,
            "status": status}


def is_err(res, status, code, name):
    st, body, _ = res
    good = st == status and isinstance(body, dict) and \
        all(body.get(k) == v for k, v in err(status, code).items()) and \
        isinstance(body.get("message"), str) and set(body) >= {"code", "message", "more_info",
                                                                 "status"}
    return t.ok(good, name, "got %r %r, want %d %d" % (st, body, status, code))


def pid_alive(pid):
    try:
        with open("/proc/%d/stat" % pid) as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def test_files(s):
    d = s.dir
    for f in ("ca.pem", "server.pem", "wrong.pem", "credentials.json", "twofa.conf", "pid",
              "port", "url", "wrong_host_url", "sim.log"):
        t.ok(os.path.exists(os.path.join(d, f)), "simctl wrote %s" % f)
    for f in ("credentials.json", "twofa.conf"):
        t.eq(stat.S_IMODE(os.stat(os.path.join(d, f)).st_mode), 0o600, "%s is mode 0600" % f)
    c = s.creds
    t.ok(re.fullmatch(r"AC[0-9a-f]{32}", c["account_sid"]) is not None, "account SID format")
    t.ok(re.fullmatch(r"[0-9a-f]{32}", c["auth_token"]) is not None, "auth token format")
    t.ok(re.fullmatch(r"SK[0-9a-f]{32}", c["api_key_sid"]) is not None, "API key SID format")
    t.ok(re.fullmatch(r"[A-Za-z0-9]{32}", c["api_key_secret"]) is not None, "API key secret")
    t.ok(re.fullmatch(r"VA[0-9a-f]{32}", c["verify_service_sid"]) is not None, "service SID")
    t.eq(s.url, "https://127.0.0.1:%d" % s.port, "url file matches port")
    conf = {}
    for line in open(os.path.join(d, "twofa.conf")):
        if "=" in line and not line.startswith("#"):
            k, v = line.split("=", 1)
            conf[k.strip()] = v.strip()
    t.eq(conf, {"account_sid": c["account_sid"], "auth_token": c["auth_token"],
                "verify_service_sid": c["verify_service_sid"], "verify_url": s.url,
                "lookup_url": s.url, "ca_file": os.path.join(d, "ca.pem")},
         "twofa.conf fragment has every key")
    with open("/proc/%d/cmdline" % s.pid, "rb") as f:
        argv = f.read()
    t.ok(c["auth_token"].encode() not in argv and c["api_key_secret"].encode() not in argv,
         "no secret on the server's command line")
    t.ok(all(c[k] not in open(os.path.join(d, "sim.log")).read() for k in c),
         "no credential in sim.log")


def test_tls(s):
    conn = s.connection()
    st, body, _ = s.request("GET", "/_sim/stats", auth=None, conn=conn)
    t.ok(st == 200 and conn.sock.getpeercert()["subjectAltName"] ==
         (("IP Address", "127.0.0.1"), ("DNS", "localhost")), "server cert SAN IP:127.0.0.1")
    conn.close()
    wrong = s.read("wrong_host_url")
    try:
        s.request("GET", "/_sim/stats", auth=None, conn=s.connection(url=wrong))
        t.ok(False, "wrong-host listener fails hostname verification")
    except ssl.SSLCertVerificationError as e:
        t.ok("mismatch" in str(e) or "match" in str(e),
             "wrong-host listener fails hostname verification", e)
    ctx = ssl.create_default_context(cafile=s.ca)
    ctx.check_hostname = False
    c2 = http.client.HTTPSConnection("127.0.0.1", int(wrong.rsplit(":", 1)[1]), context=ctx)
    st, body, _ = s.request("GET", s.svc_path(), conn=c2)
    t.ok(st == 200 and body["sid"] == s.va, "wrong-host listener serves the same app (CA-signed)")
    c2.close()
    st, body, _ = s.request("GET", "/_sim/stats", auth=None)
    t.ok(body["tls_failures"] >= 1, "failed handshake counted in tls_failures")


def test_auth(s):
    s.ctl("POST", "reset")
    c = s.creds
    st, body, _ = s.service(auth="account")
    t.ok(st == 200 and body["sid"] == s.va and body["account_sid"] == c["account_sid"],
         "account SID + auth token accepted")
    st, body, _ = s.service(auth="apikey")
    t.ok(st == 200 and body["sid"] == s.va, "API key SID + secret accepted")
    want = {"code": 20003, "message": "Authenticate",
            "more_info": "https://www.twilio.com/docs/errors/20003", "status": 401}
    for name, auth in (("wrong token", (c["account_sid"], "0" * 32)),
                       ("no credentials", None),
                       ("key SID with auth token", (c["api_key_sid"], c["auth_token"])),
                       ("account SID with key secret", (c["account_sid"], c["api_key_secret"])),
                       ("empty password", (c["account_sid"], ""))):
        st, body, h = s.service(auth=auth)
        t.ok(st == 401 and body == want, "401 20003 for %s" % name, (st, body))
    st, body, h = s.request("GET", s.svc_path(), auth=None,
                            headers={"Authorization": "Basic !!notbase64"})
    t.ok(st == 401 and body == want and "Basic" in h.get("WWW-Authenticate", ""),
         "401 20003 for a malformed Authorization header, with WWW-Authenticate")
    st, body, _ = s.start(NUM, auth=None)
    t.ok(st == 401 and s.outbox(NUM) == [], "unauthenticated start sends nothing")
    st, body, _ = s.service(auth=("AC" + "0" * 32, c["auth_token"]))
    t.eq(st, 401, "another account SID with our token -> 401")
    log = s.ctl("GET", "requests")
    t.eq([r["auth"] for r in log[:3]], ["account", "apikey", "bad"],
         "request log records which credential form was used")
    t.ok(any(r["auth"] == "none" for r in log), "request log records a missing credential")
    is_err(s.service(va="VA" + "0" * 32), 404, 20404, "unknown service SID -> 404 20404")
    is_err(s.request("POST", "/v2/Services/VAnope/Verifications", {"To": NUM, "Channel": "sms"}),
           404, 20404, "malformed service SID -> 404 20404")
    is_err(s.request("GET", "/v2/Nothing"), 404, 20404, "unknown path -> 404 20404")
    is_err(s.request("DELETE", s.svc_path()), 405, 20004, "wrong method -> 405 20004")


def test_lifecycle(s):
    s.ctl("POST", "reset")
    st, v, _ = s.start(NUM)
    t.ok(st == 201 and v["status"] == "pending" and v["valid"] is False and
         re.fullmatch(r"VE[0-9a-f]{32}", v["sid"]) and v["to"] == NUM and v["channel"] == "sms",
         "start -> 201 pending", v)
    box = s.outbox(NUM)
    t.ok(len(box) == 1 and re.fullmatch(r"[0-9]{6}", box[0]["code"]) and
         box[0]["channel"] == "sms" and box[0]["verification_sid"] == v["sid"] and
         box[0]["service_sid"] == s.va and box[0]["locale"] is None,
         "outbox holds one 6-digit sms code", box)
    code = box[0]["code"]
    st, v2, _ = s.start(NUM)
    t.ok(st == 201 and v2["sid"] == v["sid"] and len(v2["send_code_attempts"]) == 2,
         "resend while pending keeps the VE sid and appends an attempt")
    st, v3, _ = s.start(NUM, "call")
    box = s.outbox(NUM)
    t.ok(st == 201 and v3["sid"] == v["sid"] and v3["channel"] == "call" and
         [m["code"] for m in box] == [code] * 3 and box[-1]["channel"] == "call",
         "resend by call keeps the same code", box)
    t.eq([a["channel"] for a in v3["send_code_attempts"]], ["SMS", "SMS", "CALL"],
         "send_code_attempts channels")
    wrong = "%06d" % ((int(code) + 1) % 1000000)
    st, c, _ = s.check(NUM, wrong)
    t.ok(st == 200 and c["status"] == "pending" and c["valid"] is False,
         "wrong code -> 200 pending", (st, c))
    st, f, _ = s.fetch(v["sid"])
    t.ok(st == 200 and f["status"] == "pending" and f["sid"] == v["sid"], "fetch by sid")
    st, f, _ = s.fetch(NUM)
    t.ok(st == 200 and f["sid"] == v["sid"], "fetch by To")
    st, c, _ = s.check(NUM, code)
    t.ok(st == 200 and c["status"] == "approved" and c["valid"] is True and
         c["sid"] == v["sid"], "right code -> 200 approved", (st, c))
    is_err(s.check(NUM, code), 404, 20404, "check after approval -> 404 20404")
    is_err(s.fetch(v["sid"]), 404, 20404, "fetch after approval -> 404 20404")
    st, n, _ = s.start(NUM)
    t.ok(st == 201 and n["sid"] != v["sid"] and len(n["send_code_attempts"]) == 1,
         "start after approval creates a new verification")
    s.update(n["sid"], "canceled")

    # five wrong checks are evaluated, the sixth is refused even with the right code
    s.start(NUM)
    code = s.last_code(NUM)
    wrong = "%06d" % ((int(code) + 7) % 1000000)
    res = [s.check(NUM, wrong)[1].get("status") for _ in range(5)]
    t.eq(res, ["pending"] * 5, "checks 1-5 evaluated")
    is_err(s.check(NUM, code), 429, 60202, "6th check -> 429 60202 even with the right code")
    st, c, _ = s.update(NUM, "canceled")
    t.ok(st == 200 and c["status"] == "canceled" and c["valid"] is False,
         "cancel by To -> 200 canceled")
    is_err(s.check(NUM, code), 404, 20404, "check after cancel -> 404 20404")
    is_err(s.update(NUM, "canceled"), 404, 20404, "cancel with nothing pending -> 404 20404")

    # 4 wrong + right on the 5th
    st, v, _ = s.start(NUM)
    code = s.last_code(NUM)
    for _ in range(4):
        s.check(NUM, "%06d" % ((int(code) + 3) % 1000000))
    st, c, _ = s.check(NUM, code)
    t.eq(c.get("status"), "approved", "right code on the 5th check passes")

    # check by VerificationSid; update approved
    st, v, _ = s.start(NUM)
    code = s.last_code(NUM)
    st, c, _ = s.request("POST", s.svc_path("/VerificationCheck"),
                         {"VerificationSid": v["sid"], "Code": code})
    t.ok(st == 200 and c["status"] == "approved", "check by VerificationSid")
    st, v, _ = s.start(NUM)
    st, u, _ = s.update(v["sid"], "approved")
    t.ok(st == 200 and u["status"] == "approved" and u["valid"] is True,
         "update Status=approved by sid")
    st, v, _ = s.start(NUM)
    is_err(s.update(v["sid"], "pending"), 400, 60200, "update Status=pending -> 400 60200")
    is_err(s.request("POST", s.svc_path("/Verifications/" + v["sid"]), {}), 400, 60200,
           "update without Status -> 400 60200")
    is_err(s.update("VE" + "0" * 32, "canceled"), 404, 20404, "update unknown sid -> 404")
    s.update(v["sid"], "canceled")

    # send limit
    sids = set()
    for i in range(5):
        st, v, _ = s.start(NUM)
        sids.add((st, v["sid"]))
    t.eq(len(sids), 1, "5 sends on one verification")
    before = len(s.outbox(NUM))
    is_err(s.start(NUM), 429, 60203, "6th send -> 429 60203")
    t.eq(len(s.outbox(NUM)), before, "refused send delivers nothing")
    s.update(NUM, "canceled")
    st, v, _ = s.start(NUM)
    t.ok(st == 201 and (201, v["sid"]) not in sids, "cancel frees the send limit")

    # expiry via the movable clock
    other = "+14155550101"
    st, v, _ = s.start(other)
    code = s.last_code(other)
    now = s.ctl("GET", "clock")["now"]
    s.ctl("POST", "clock", {"advance": 599})
    st, f, _ = s.fetch(v["sid"])
    t.eq(st, 200, "still pending at 599 s")
    got = s.ctl("POST", "clock", {"advance": 2})["now"]
    t.ok(abs(got - now - 601) < 5, "clock advanced by 601 s")
    is_err(s.check(other, code), 404, 20404, "check after 10 minutes -> 404 20404 (expired)")
    st, n, _ = s.start(other)
    t.ok(st == 201 and n["sid"] != v["sid"], "start after expiry -> new verification")
    s.ctl("POST", "clock", {"set": 2000000000})
    t.ok(abs(s.ctl("GET", "clock")["now"] - 2000000000) < 5, "clock set")
    is_err(s.check(other, s.last_code(other)), 404, 20404, "expired after clock set")
    st, n, _ = s.start(other)
    t.ok(n["date_created"].startswith("2033-05-18T03:3"), "dates follow the sim clock",
         n["date_created"])


def test_errors(s):
    s.ctl("POST", "reset")
    is_err(s.start("4155550100"), 400, 60200, "To without + -> 400 60200")
    is_err(s.start("+1415abc"), 400, 60200, "To with letters -> 400 60200")
    is_err(s.request("POST", s.svc_path("/Verifications"), {"Channel": "sms"}), 400, 60200,
           "missing To -> 400 60200")
    is_err(s.request("POST", s.svc_path("/Verifications"), {"To": NUM}), 400, 60200,
           "missing Channel -> 400 60200")
    is_err(s.start(NUM, "pigeon"), 400, 60200, "unknown Channel -> 400 60200")
    is_err(s.start("user@example.com", "email"), 400, 60217, "email without integration -> 60217")
    s.ctl("POST", "service", {"email_enabled": True})
    st, v, _ = s.start("user@example.com", "email")
    t.ok(st == 201 and v["channel"] == "email", "email with integration -> 201")
    is_err(s.start(NUM, "email"), 400, 60200, "email channel with a phone number -> 60200")
    s.ctl("POST", "service", {"disabled_channels": ["whatsapp"]})
    is_err(s.start(NUM, "whatsapp"), 400, 60223, "disabled channel -> 400 60223")
    for num, kind, status, code in (("+14155550110", "landline", 403, 60205),
                                    ("+14155550111", "blocked", 403, 60410),
                                    ("+14155550112", "geo_blocked", 403, 60605),
                                    ("+14155550113", "invalid", 400, 60200),
                                    ("+14155550114", "twilio_blocked", 403, 60238)):
        s.ctl("POST", "numbers", {"number": num, "kind": kind})
        is_err(s.start(num), status, code, "%s number -> %d %d" % (kind, status, code))
    st, v, _ = s.start("+14155550110", "call")
    t.eq(st, 201, "landline by call -> 201")
    s.ctl("POST", "numbers", {"number": "+14155550111", "kind": "normal"})
    t.eq(s.start("+14155550111")[0], 201, "number back to normal -> 201")
    st, body, _ = s.start(NUM, extra={"Locale": "tlh"})
    is_err((st, body, None), 404, 20404, "unsupported Locale -> 404")
    t.eq(s.outbox(NUM), [], "unsupported Locale sends nothing")
    st, v, _ = s.start(NUM, extra={"Locale": "pt-BR"})
    t.ok(st == 201 and s.outbox(NUM)[-1]["locale"] == "pt-BR", "supported Locale -> 201, outbox")
    is_err(s.start(NUM, extra={"RiskCheck": "disable"}), 400, 60200,
           "RiskCheck=disable -> 400 (the tripwire: twofa never sends it)")
    t.eq(s.start(NUM, extra={"RiskCheck": "enable"})[0], 201, "RiskCheck=enable -> 201")
    is_err(s.request("POST", s.svc_path("/VerificationCheck"), {"Code": "123456"}), 400, 60221,
           "check without To or VerificationSid -> 60221")
    for bad in ("12a456", "123", "12345678901", ""):
        is_err(s.check(NUM, bad), 400, 60200, "Code %r -> 400 60200" % bad)
    is_err(s.request("POST", s.svc_path("/VerificationCheck"), {"To": NUM}), 400, 60200,
           "check without Code -> 60200")
    is_err(s.check("+14155550199", "123456"), 404, 20404, "check, never sent -> 404 20404")
    is_err(s.request("POST", s.svc_path("/Verifications"), auth="account",
                     body=json.dumps({"To": NUM, "Channel": "sms"}).encode(),
                     headers={"Content-Type": "application/json"}), 400, 20001,
           "JSON body -> 400")
    t.eq(s.ctl("GET", "stats")["checks"], 0, "refused checks are not counted as evaluated")


def test_service_lookup(s):
    s.ctl("POST", "reset")
    st, b, _ = s.service()
    t.ok(st == 200 and b["code_length"] == 6 and b["url"] == s.url + s.svc_path(),
         "service: code_length 6 by default")
    s.ctl("POST", "service", {"code_length": 8})
    t.eq(s.service()[1]["code_length"], 8, "service code_length follows /_sim/service")
    s.start(NUM)
    t.ok(re.fullmatch(r"[0-9]{8}", s.last_code(NUM)) is not None, "8-digit code delivered")
    t.eq(s.check(NUM, s.last_code(NUM))[1]["status"], "approved", "8-digit code approved")
    s.ctl("POST", "reset")
    t.eq(s.service()[1]["code_length"], 6, "reset restores the service")
    st, b, _ = s.lookup("+14159929960")
    t.ok(st == 200 and b["valid"] is True and b["calling_country_code"] == "1" and
         b["country_code"] == "US" and b["phone_number"] == "+14159929960" and
         b["national_format"] == "(415) 992-9960" and b["validation_errors"] is None,
         "lookup valid US number", b)
    st, b, _ = s.lookup("020 7946 0958", {"CountryCode": "GB"})
    t.ok(b["valid"] and b["phone_number"] == "+442079460958" and b["country_code"] == "GB",
         "lookup national GB number with CountryCode", b)
    st, b, _ = s.lookup("(416) 555-2368")
    t.ok(b["valid"] and b["country_code"] == "CA" and b["phone_number"] == "+14165552368",
         "lookup national NANP defaults to +1 (Canada area code)", b)
    st, b, _ = s.lookup("+141599299600")
    t.ok(st == 200 and b["valid"] is False and b["validation_errors"] == ["TOO_LONG"] and
         b["country_code"] is None and b["phone_number"] == "+141599299600",
         "lookup too long -> valid false TOO_LONG", b)
    t.eq(s.lookup("+1415")[1]["validation_errors"], ["TOO_SHORT"], "lookup TOO_SHORT")
    t.eq(s.lookup("+9991234567")[1]["validation_errors"], ["INVALID_COUNTRY_CODE"],
         "lookup INVALID_COUNTRY_CODE")
    t.eq(s.lookup("hello")[1]["validation_errors"], ["NOT_A_NUMBER"], "lookup NOT_A_NUMBER")
    s.ctl("POST", "numbers", {"number": "+14159929961", "kind": "invalid"})
    t.eq(s.lookup("+14159929961")[1]["valid"], False, "lookup honours number kind invalid")
    s.ctl("POST", "numbers", {"number": "+14159929962", "kind": "landline"})
    b = s.lookup("+14159929962", {"Fields": "line_type_intelligence"})[1]
    t.ok(b["valid"] and b["line_type_intelligence"]["type"] == "landline",
         "line_type_intelligence reports landline", b)
    t.eq(s.lookup("+14159929960", auth=None)[0], 401, "lookup needs auth")


def test_faults(s):
    s.ctl("POST", "reset")
    for kind, status, code in (("500", 500, 20500), ("503", 503, 20503), ("429", 429, 20429)):
        s.ctl("POST", "faults", {"op": "start", "fault": kind})
        res = s.start(NUM)
        is_err(res, status, code, "fault %s on start" % kind)
        if kind == "429":
            t.eq(res[2].get("Retry-After"), "1", "429 fault has Retry-After")
    t.eq(s.outbox(NUM), [], "faulted starts deliver nothing")
    t.eq(s.start(NUM)[0], 201, "fault count 1 is used up")
    s.ctl("POST", "faults", {"op": "check", "fault": "429", "code": 60212, "count": 2})
    is_err(s.check(NUM, "000000"), 429, 60212, "fault with custom code")
    is_err(s.check(NUM, "000000"), 429, 60212, "fault count 2, second")
    t.eq(s.check(NUM, s.last_code(NUM))[1]["status"], "approved", "after count, normal")
    s.ctl("POST", "faults", {"op": "any", "fault": "503", "count": -1})
    is_err(s.service(), 503, 20503, "fault until cleared (service)")
    is_err(s.lookup("+14159929960"), 503, 20503, "fault until cleared (lookup)")
    s.ctl("DELETE", "faults")
    t.eq(s.service()[0], 200, "DELETE /_sim/faults clears")
    s.ctl("POST", "faults", {"op": "start", "fault": "500", "number": "+14155550177"})
    t.eq(s.start(NUM)[0], 201, "per-number fault skips other numbers")
    t.eq(s.start("+14155550177")[0], 500, "per-number fault hits its number")
    s.ctl("POST", "faults", {"op": "start", "fault": "malformed"})
    st, body, _ = s.start(NUM)
    t.ok(st == 201 and isinstance(body, bytes) and body.startswith(b"{"),
         "malformed -> 201 with broken JSON", body)
    s.ctl("POST", "faults", {"op": "start", "fault": "302"})
    st, body, _ = s.start(NUM)
    t.eq(st, 302, "302 -> a redirect status")
    s.ctl("POST", "faults", {"op": "fetch", "fault": "oversized"})
    st, body, h = s.fetch(NUM)
    t.ok(st == 200 and int(h["Content-Length"]) > 1024 * 1024, "oversized -> 200 body > 1 MiB")
    s.ctl("POST", "faults", {"op": "cancel", "fault": "empty"})
    st, body, h = s.update(NUM, "canceled")
    t.ok(st == 200 and body == b"" and h["Content-Length"] == "0", "empty -> 200 empty body")
    t.eq(s.fetch(NUM)[1]["status"], "pending", "faulted cancel changed nothing")
    s.ctl("POST", "faults", {"op": "check", "fault": "reset"})
    try:
        s.check(NUM, "000000")
        t.ok(False, "reset fault drops the connection")
    except (ConnectionError, http.client.HTTPException, ssl.SSLError, OSError) as e:
        t.ok(True, "reset fault drops the connection (%s)" % type(e).__name__)
    s.ctl("POST", "faults", {"op": "service", "fault": "delay", "delay": 1.0})
    t0 = time.monotonic()
    try:
        s.service(timeout=0.3)
        t.ok(False, "delay fault makes the client time out")
    except (socket.timeout, TimeoutError):
        t.ok(time.monotonic() - t0 < 0.9, "delay fault makes the client time out")
    t.eq(s.service()[0], 200, "after the delay fault, normal")
    try:
        s.ctl("POST", "faults", {"op": "start", "fault": "explode"})
        t.ok(False, "unknown fault refused")
    except RuntimeError:
        t.ok(True, "unknown fault refused")
    log = s.ctl("GET", "requests")
    t.ok(any(r["op"] == "check" and r["form"].get("Code") == 6 for r in log) and
         all(not isinstance(r["form"].get("Code", 0), str) for r in log),
         "request log replaces Code by its length")


def test_connections(s):
    s.ctl("POST", "reset")
    conn = s.connection()
    st1, v, _ = s.start(NUM, conn=conn)
    st2, c, _ = s.check(NUM, s.last_code(NUM), conn=conn)
    conn.close()
    stats = s.ctl("GET", "stats")
    log = [r for r in s.ctl("GET", "requests") if r["op"] in ("start", "check")]
    t.ok(st1 == 201 and st2 == 200 and c["status"] == "approved", "send + check on one conn")
    t.eq(len({r["connection_id"] for r in log}), 1, "send and check share one connection id")
    # The outbox read (last_code) and the stats read each open their own connection.
    t.eq((stats["connections"], stats["tls_handshakes"]), (3, 3),
         "connections and TLS handshakes counted")
    t.eq((stats["requests"], stats["by_op"], stats["sends"], stats["checks"]),
         (2, {"start": 1, "check": 1}, 1, 1), "request counters")
    s.start(NUM)
    s.start(NUM)
    # + requests read, 2 starts, stats read
    t.eq(s.ctl("GET", "stats")["connections"], 7, "separate requests -> separate connections")


def test_http_options():
    s = Sim("--http", "--code-length", "4", "--send-limit", "2", "--keepalive", "0.5")
    t.ok(s.url.startswith("http://127.0.0.1:") and not os.path.exists(
        os.path.join(s.dir, "wrong_host_url")), "--http serves plain HTTP")
    conf = open(os.path.join(s.dir, "twofa.conf")).read()
    t.ok("verify_url = http://" in conf and "ca_file" not in conf, "--http twofa.conf")
    t.eq(s.service()[1]["code_length"], 4, "--code-length 4")
    s.start(NUM)
    t.ok(re.fullmatch(r"[0-9]{4}", s.last_code(NUM)) is not None, "4-digit code")
    s.start(NUM)
    is_err(s.start(NUM), 429, 60203, "--send-limit 2: third send refused")
    sock = socket.create_connection(("127.0.0.1", s.port), timeout=5)
    sock.sendall(b"GET /_sim/stats HTTP/1.1\r\nHost: x\r\n\r\n")
    data = b""
    while b"\r\n\r\n" not in data:
        data += sock.recv(4096)
    t.ok(data.startswith(b"HTTP/1.1 200") and b"Content-Length" in data, "HTTP/1.1 answer")
    t0 = time.monotonic()
    rest = b"x"
    try:
        while rest:
            rest = sock.recv(4096)
    except OSError:
        rest = b""
    t.ok(0.3 < time.monotonic() - t0 < 3, "idle keep-alive connection closed after --keepalive")
    sock.close()
    s.stop()
    t.ok(not pid_alive(s.pid), "simctl stop ends the server")


def test_totp_options():
    s = Sim("--http", "--totp-issuer", "Acme", "--totp-time-step", "60", "--totp-code-length", "8",
            "--totp-skew", "0")
    try:
        t.eq(s.service()[1]["totp"], {"issuer": "Acme", "time_step": 60, "code_length": 8, "skew": 0},
             "simctl start --totp-*: the service's totp settings")
        st, f, _ = s.factor_create("tf" + "2" * 32, "dave")
        t.ok(st == 201 and f["config"]["time_step"] == 60 and len(s.totp_code(f["sid"])) == 8,
             "and new factors take them")
    finally:
        s.stop()
    r = subprocess.run([PYTHON, SIMCTL, "start", s.dir + "-bad", "--http", "--totp-skew", "3"],
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    t.ok(r.returncode != 0 and b"--totp-skew must be 0..2" in r.stderr,
         "simctl start --totp-skew 3 fails", r.stderr)
    shutil.rmtree(s.dir + "-bad", ignore_errors=True)


def test_lifetime_and_restart():
    s = Sim("--http", "--max-lifetime", "1")
    r = subprocess.run([PYTHON, SIMCTL, "start", s.dir, "--http"], stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE)
    t.ok(r.returncode == 1 and b"already running" in r.stderr, "second start in DIR refused")
    deadline = time.monotonic() + 5
    while pid_alive(s.pid) and time.monotonic() < deadline:
        time.sleep(0.1)
    t.ok(not pid_alive(s.pid), "--max-lifetime ends the server by itself")
    s.stop()
    r = subprocess.run([PYTHON, SIMCTL, "start", "/proc/nope"], stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE)
    t.ok(r.returncode != 0, "start in an impossible DIR fails")


def test_rate_limits(s):
    """Service Rate Limits: the resources as the spec has them, and a send carrying a key
    that a bucket counts (the answers to a tripped or unknown key are guesses)."""
    s.ctl("POST", "reset")
    st, rl, _ = s.request("POST", s.svc_path("/RateLimits"),
                          {"UniqueName": "twofa_member", "Description": "per member"})
    t.ok(st == 201 and re.fullmatch(r"RK[0-9a-f]{32}", rl.get("sid", "")) and
         rl["unique_name"] == "twofa_member", "create a rate limit -> 201 RK...", rl)
    is_err(s.request("POST", s.svc_path("/RateLimits"), {"UniqueName": "twofa_member"}), 409,
           60208, "a second rate limit of the same unique name -> 409")
    st, lst, _ = s.request("GET", s.svc_path("/RateLimits"))
    t.ok(st == 200 and [r["sid"] for r in lst["rate_limits"]] == [rl["sid"]],
         "list holds it", lst)
    st, b, _ = s.request("POST", s.svc_path("/RateLimits/%s/Buckets" % rl["sid"]),
                         {"Max": "2", "Interval": "60"})
    t.ok(st == 201 and re.fullmatch(r"BL[0-9a-f]{32}", b.get("sid", "")) and b["max"] == 2 and
         b["interval"] == 60 and b["rate_limit_sid"] == rl["sid"], "create a bucket -> 201", b)
    is_err(s.request("POST", s.svc_path("/RateLimits/%s/Buckets" % rl["sid"]), {"Max": "x"}),
           400, 60200, "a bucket without numbers -> 400")
    key = json.dumps({"twofa_member": "m-1"})
    other = json.dumps({"twofa_member": "m-2"})
    nums = ["+14155550111", "+14155550112", "+14155550113"]
    got = [s.start(n, extra={"RateLimits": key})[0] for n in nums]
    t.eq(got, [201, 201, 429], "two sends under one key pass, the third trips the bucket")
    t.eq(len(s.outbox(nums[2])), 0, "a tripped send sends nothing")
    t.eq(s.start("+14155550114", extra={"RateLimits": other})[0], 201, "another key has its own count")
    t.eq(s.start("+14155550115")[0], 201, "a send without the parameter is not counted")
    s.advance(61)
    t.eq(s.start(nums[2], extra={"RateLimits": key})[0], 201, "after the interval the key may send again")
    is_err(s.start(NUM, extra={"RateLimits": json.dumps({"nope": "m-1"})}), 400, 60200,
           "an unknown unique name is refused")
    is_err(s.start(NUM, extra={"RateLimits": "{not json"}), 400, 60200, "RateLimits that is not JSON")


def test_totp(s):
    """Verify TOTP: Entities made with their first factor, real RFC 6238 codes, Challenges."""
    s.reset()
    # At the start of a 30 s step, so no step boundary passes between a code and its use.
    s.set_clock(int(time.time() // 30) * 30 + 30.5)
    ident = "tf" + "0123456789abcdef" * 2
    st, f, _ = s.factor_create(ident, "alice laptop")
    t.eq(st, 201, "a TOTP factor is created (and with it the entity)")
    sid = f["sid"]
    t.ok(re.fullmatch(r"YF[0-9a-f]{32}", sid) and f["status"] == "unverified" and
         f["factor_type"] == "totp", "YF sid, unverified, type totp")
    t.ok(re.fullmatch(r"[A-Z2-7]{32}", f["binding"]["secret"]) is not None,
         "binding.secret is 32 base32 characters (160 bits)")
    t.eq(f["binding"]["uri"], "otpauth://totp/twofa%20sim:alice%20laptop?secret=" +
         f["binding"]["secret"] + "&issuer=twofa%20sim&algorithm=SHA1&digits=6&period=30",
         "binding.uri is the Key URI with issuer, SHA1, 6 digits, 30 s")
    t.eq(f["config"], {"alg": "sha1", "skew": 1, "code_length": 6, "time_step": 30},
         "config from the defaults")
    st, g, _ = s.request("GET", s.entity_path(ident, "/Factors/" + sid))
    t.ok(st == 200 and "binding" not in g, "a fetched factor does not carry the secret")
    code = s.totp_code(sid)
    wrong = "%06d" % ((int(code) + 1) % 10 ** 6)
    st, g, _ = s.factor_verify(ident, sid, wrong)
    t.ok(st == 200 and g["status"] == "unverified", "a wrong first code leaves it unverified")
    is_err(s.challenge(ident, sid, code), 400, 60200, "no challenge on an unverified factor")
    st, g, _ = s.factor_verify(ident, sid, code)
    t.ok(st == 200 and g["status"] == "verified", "the right first code verifies it")
    for off, want in ((0, "approved"), (-1, "approved"), (1, "approved"), (-2, "pending"),
                      (2, "pending")):
        st, c, _ = s.challenge(ident, sid, s.totp_code(sid, off))
        t.ok(st == 201 and c["status"] == want and re.fullmatch(r"YC[0-9a-f]{32}", c["sid"]),
             "challenge with the code %+d steps away: %s (skew 1)" % (off, want), (st, c))
    st, c, _ = s.challenge(ident, sid, s.totp_code(sid))
    t.eq(c["status"], "approved", "a replayed code is approved by default (GUESS: accept)")
    s.set_service(totp_replay="refuse", totp_wrong_status="denied")
    st, c, _ = s.challenge(ident, sid, s.totp_code(sid))
    t.eq(c["status"], "denied", "totp_replay=refuse: the replay is refused (denied)")
    s.set_service(totp_replay="accept", totp_wrong_status="pending")
    s.advance(30)
    st, c, _ = s.challenge(ident, sid, s.totp_code(sid))
    t.eq(c["status"], "approved", "after the clock moves a step the new code passes")
    st, c2, _ = s.request("GET", s.entity_path(ident, "/Challenges/" + c["sid"]))
    t.ok(st == 200 and c2["status"] == "approved", "the challenge can be fetched")
    out = subprocess.run([PYTHON, SIMCTL, "totp-code", s.dir, sid, "--step-offset", "-1"],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    t.ok(out.returncode == 0 and out.stdout.decode().strip() == s.totp_code(sid, -1),
         "simctl totp-code prints the code of the previous step", out.stderr)
    out = subprocess.run([PYTHON, SIMCTL, "totp-code", s.dir, "YF" + "0" * 32],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    t.ok(out.returncode == 1 and out.stdout == b"", "simctl totp-code of an unknown factor fails")

    # RFC 6238 appendix B vectors through Binding.Secret and the movable clock.
    rfc = (("sha1", b"12345678901234567890", "94287082"),
           ("sha256", b"12345678901234567890123456789012", "46119246"),
           ("sha512", b"1234567890123456789012345678901234567890123456789012345678901234",
            "90693936"))
    s.set_clock(59)
    for alg, key, want in rfc:
        secret = base64.b32encode(key).decode().rstrip("=")
        st, f2, _ = s.factor_create(ident, "rfc " + alg, extra={
            "Binding.Secret": secret, "Config.Alg": alg, "Config.CodeLength": "8"})
        t.ok(st == 201 and s.totp_code(f2["sid"]) == want and
             "algorithm=%s&digits=8" % alg.upper() in f2["binding"]["uri"],
             "RFC 6238 vector %s at T=59: %s" % (alg, want), (st, f2))
    s.set_clock(time.time())

    st, page, _ = s.request("GET", s.entity_path(ident, "/Factors?PageSize=2"))
    t.ok(st == 200 and len(page["factors"]) == 2 and page["meta"]["next_page_url"],
         "factor list pages: 2 of 4 with a next_page_url")
    nxt = page["meta"]["next_page_url"]
    st, page2, _ = s.request("GET", nxt[len(s.url):])
    t.ok(st == 200 and len(page2["factors"]) == 2 and page2["meta"]["next_page_url"] is None,
         "the next page holds the rest and is the last")
    for label, extra in (("Config.TimeStep 19", {"Config.TimeStep": "19"}),
                         ("Config.CodeLength 9", {"Config.CodeLength": "9"}),
                         ("Config.Skew 3", {"Config.Skew": "3"}),
                         ("Config.Alg md5", {"Config.Alg": "md5"}),
                         ("Binding.Secret not base32", {"Binding.Secret": "abc!"}),
                         ("FactorType push", {"FactorType": "push"})):
        is_err(s.factor_create(ident, "x", extra=extra), 400, 60200, "factor with %s" % label)
    is_err(s.factor_create("short", "x"), 400, 60200, "an identity of 5 characters")
    is_err(s.factor_verify(ident, sid, "12a456"), 400, 60200, "AuthPayload with a letter")
    is_err(s.factor_verify(ident, "YF" + "0" * 32, "123456"), 404, 20404, "unknown factor")
    is_err(s.challenge("tf" + "9" * 32, sid, "123456"), 404, 20404, "unknown entity")

    # service settings: Totp.* through the Service update, used by new factors
    st, svc, _ = s.service()
    t.eq(svc["totp"], {"issuer": None, "time_step": None, "code_length": None, "skew": None},
         "the service's totp object is unset at first (Twilio's example)")
    st, svc, _ = s.request("POST", s.svc_path(), {"Totp.Issuer": "Acme", "Totp.TimeStep": "60",
                                                  "Totp.CodeLength": "8", "Totp.Skew": "0"})
    t.ok(st == 200 and svc["totp"] == {"issuer": "Acme", "time_step": 60, "code_length": 8,
                                       "skew": 0}, "Totp.* set through the Service update", svc)
    is_err(s.request("POST", s.svc_path(), {"Totp.Skew": "3"}), 400, 60200, "Totp.Skew 3")
    st, f3, _ = s.factor_create("tf" + "1" * 32, "bob")
    t.ok(f3["config"] == {"alg": "sha1", "skew": 0, "code_length": 8, "time_step": 60} and
         f3["binding"]["uri"].startswith("otpauth://totp/Acme:bob?") and
         len(s.totp_code(f3["sid"])) == 8, "a new factor takes the service's settings")

    st, ents, _ = s.request("GET", s.svc_path("/Entities"))
    t.eq(sorted(e["identity"] for e in ents["entities"]), sorted([ident, "tf" + "1" * 32]),
         "entities are listed")
    s.fault("totp", "503")
    is_err(s.challenge(ident, sid, s.totp_code(sid)), 503, 20503, "fault op totp: 503")
    s.fault("factor_delete", "404")
    is_err(s.request("DELETE", s.entity_path(ident, "/Factors/" + sid)), 404, 20404,
           "fault 404 on factor_delete")
    st, body, _ = s.request("DELETE", s.entity_path(ident, "/Factors/" + sid))
    t.ok(st == 204 and body == b"", "a factor is deleted: 204, no body")
    is_err(s.request("DELETE", s.entity_path(ident, "/Factors/" + sid)), 404, 20404,
           "deleting it again: 404")
    t.eq(s.request("DELETE", s.entity_path(ident))[0], 204, "an entity is deleted")
    is_err(s.request("GET", s.entity_path(ident, "/Factors")), 404, 20404,
           "its factors went with it")
    s.fault("factor_create", "answer", count=1)
    s.clear_faults()
    s.ctl("POST", "faults", {"op": "factor_create", "fault": "answer", "status": 201,
                             "body": {"sid": "YF1"}})
    st, body, _ = s.factor_create(ident, "x")
    t.ok(st == 201 and body == {"sid": "YF1"}, "fault answer sends the test's body as it is")
    s.reset()
    t.eq(s.request("GET", s.svc_path("/Entities"))[1]["entities"], [], "reset clears entities")


def main():
    s = Sim()
    try:
        for fn in (test_files, test_tls, test_auth, test_lifecycle, test_errors,
                   test_service_lookup, test_faults, test_connections, test_rate_limits,
                   test_totp):
            try:
                fn(s)
            except Exception as e:  # report and go on: one broken part must not hide the rest
                t.ok(False, "%s raised %s: %s" % (fn.__name__, type(e).__name__, e))
        log = open(os.path.join(s.dir, "sim.log")).read()
        t.ok("Traceback" not in log and "ValueError" not in log and "conn 1:" in log,
             "sim.log has request lines and no tracebacks", log[-2000:])
    finally:
        s.stop()
    t.ok(not pid_alive(s.pid), "server stopped by PID")
    for fn in (test_http_options, test_lifetime_and_restart, test_totp_options):
        try:
            fn()
        except Exception as e:
            t.ok(False, "%s raised %s: %s" % (fn.__name__, type(e).__name__, e))
    return t.done()


if __name__ == "__main__":
    sys.exit(main())
