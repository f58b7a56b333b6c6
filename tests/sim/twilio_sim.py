#!/usr/bin/python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""Twilio Verify v2 + Lookup v2 simulator for twofa's tests, demo and benchmarks.

Python standard library only. Started by tests/sim/simctl; see tests/sim/README.md for the
interface. Binds 127.0.0.1 only. Secrets come from DIR/credentials.json, never argv.
"""

import argparse
import base64
import binascii
import hmac
import http.server
import io
import json
import os
import re
import secrets
import signal
import socket
import ssl
import struct
import sys
import threading
import time
import urllib.parse

BODY_MAX = 1024 * 1024
LOG_MAX = 100000  # request log and outbox entries kept
CHANNELS = ("sms", "call", "whatsapp", "email")
# send_code_attempts[].channel as Twilio's examples spell it (upper case for SMS/EMAIL).
ATTEMPT_CHANNEL = {"sms": "SMS", "call": "CALL", "email": "EMAIL", "whatsapp": "whatsapp"}
NUMBER_KINDS = ("normal", "landline", "blocked", "geo_blocked", "invalid", "twilio_blocked")
FAULT_OPS = ("start", "check", "cancel", "fetch", "service", "lookup", "any", "totp",
             "factor_create", "factor_update", "factor_fetch", "factors", "factor_delete",
             "entities", "entity", "entity_delete", "challenge", "challenge_fetch",
             "service_update")
FAULT_KINDS = ("500", "503", "429", "302", "404", "delay", "reset", "malformed", "oversized",
               "empty", "answer")

# Verify's supported Locale overrides (twilio.com/docs/verify/supported-languages).
LOCALES = set("""af ar ca cs da de el en en-GB es es-419 et fi fr fr-CA he hi hr hu id it ja
ko lt lv ms nb nl pl pt pt-BR ro ru sk sl sr sv th tl tr uk vi zh zh-CN zh-HK bg bn gu kn ml
mr pa ta te ur""".split())

E164_RE = re.compile(r"^\+[1-9][0-9]{6,14}$")
EMAIL_RE = re.compile(r"^[^@\s]{1,64}@[A-Za-z0-9.-]{1,253}\.[A-Za-z]{2,63}$")
SID_RE = re.compile(r"^VE[0-9a-fA-F]{32}$")
CODE_RE = re.compile(r"^[0-9]{4,10}$")

# calling code -> (ISO alpha-2, min NSN digits, max NSN digits, national trunk prefix)
COUNTRIES = {
    "1": ("US", 10, 10, "1"), "44": ("GB", 9, 10, "0"), "49": ("DE", 6, 13, "0"),
    "33": ("FR", 9, 9, "0"), "41": ("CH", 9, 9, "0"), "34": ("ES", 9, 9, ""),
    "39": ("IT", 6, 11, ""), "31": ("NL", 9, 9, "0"), "32": ("BE", 8, 9, "0"),
    "43": ("AT", 4, 13, "0"), "46": ("SE", 7, 13, "0"), "47": ("NO", 8, 8, ""),
    "45": ("DK", 8, 8, ""), "353": ("IE", 7, 9, "0"), "61": ("AU", 9, 9, "0"),
    "91": ("IN", 10, 10, "0"), "55": ("BR", 10, 11, "0"), "81": ("JP", 9, 10, "0"),
    "86": ("CN", 5, 12, "0"), "7": ("RU", 10, 10, "8"), "52": ("MX", 10, 10, ""),
    "27": ("ZA", 9, 9, "0"), "64": ("NZ", 8, 10, "0"), "48": ("PL", 9, 9, ""),
    "351": ("PT", 9, 9, ""), "30": ("GR", 10, 10, ""), "358": ("FI", 5, 12, "0"),
    "420": ("CZ", 9, 9, ""), "972": ("IL", 8, 9, "0"), "65": ("SG", 8, 8, ""),
    "852": ("HK", 8, 8, ""), "82": ("KR", 8, 10, "0"), "90": ("TR", 10, 10, "0"),
    # Kosovo: no ISO 3166-1 code, but in libphonenumber and served by Twilio (issue 15).
    "383": ("XK", 8, 9, "0"),
    # The shortest numbers there are: 7 digits with the calling code.
    "683": ("NU", 4, 7, ""), "690": ("TK", 4, 7, ""),
}
ISO_TO_CC = {v[0]: k for k, v in COUNTRIES.items()}
ISO_TO_CC["CA"] = "1"
CANADA_AREAS = set("""204 226 236 249 250 289 306 343 365 403 416 418 431 437 438 450 506 514
519 548 579 581 587 604 613 639 647 672 705 709 742 778 780 782 807 819 825 867 873 902
905""".split())

ERROR_MESSAGES = {
    20001: "Invalid content type", 20003: "Authenticate", 20004: "Method not allowed",
    20429: "Too Many Requests", 20500: "An internal server error has occurred",
    20503: "Service unavailable", 60200: "Invalid parameter", 60202: "Max check attempts reached",
    60203: "Max send attempts reached", 60205: "SMS is not supported by landline phone number",
    60212: "Too many concurrent requests for phone number",
    60217: "Email channel requires an email integration",
    60221: "No target verification specified", 60223: "Delivery channel disabled",
    60238: "Verification creation blocked", 60410: "Verification delivery attempt blocked",
    60605: "Verification delivery blocked by geo permissions",
}


def iso(t):
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(t))


def new_sid(prefix):
    return prefix + secrets.token_hex(16)


class ApiError(Exception):
    def __init__(self, status, code, message=None, headers=None):
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message or ERROR_MESSAGES.get(code, "Error")
        self.headers = headers or {}

    def body(self):
        return {"code": self.code, "message": self.message,
                "more_info": "https://www.twilio.com/docs/errors/%d" % self.code,
                "status": self.status}


class Verification:
    def __init__(self, service_sid, to, channel, code, now, locale):
        self.sid = new_sid("VE")
        self.service_sid = service_sid
        self.to = to
        self.channel = channel
        self.code = code
        self.status = "pending"
        self.created = now
        self.updated = now
        self.attempts = []
        self.checks = 0
        self.locale = locale


class State:
    """Everything mutable, behind one lock."""

    def __init__(self, creds, opts):
        self.lock = threading.Lock()
        self.creds = creds
        self.opts = opts
        self.base_url = ""
        self.reset()

    def reset(self):
        o = self.opts
        self.offset = 0.0
        self.service = {
            "sid": self.creds["verify_service_sid"], "code_length": o.code_length,
            "email_enabled": o.email_enabled, "friendly_name": "twofa sim",
            "lifetime": o.lifetime, "send_limit": o.send_limit, "disabled_channels": [],
            "created": time.time(),
            # Verify TOTP: None = not set on the service (Twilio's default 30 s, 6, 1 applies).
            "totp_issuer": o.totp_issuer, "totp_time_step": o.totp_time_step,
            "totp_code_length": o.totp_code_length, "totp_skew": o.totp_skew,
            "totp_replay": "accept", "totp_wrong_status": "pending",
            "page_size_max": 1000,
        }
        self.entities = {}        # identity -> entity dict, with its "factors" and "challenges"
        self.verifications = {}   # sid -> Verification
        self.rate_limits = {}     # RK sid -> rate limit dict, with its "buckets" (BL sid -> dict)
        self.rate_hits = {}       # (RK sid, key value) -> times of the sends it let through
        self.outbox = []
        self.faults = []
        self.numbers = {}
        self.requests = []
        self.stats = {"requests": 0, "connections": 0, "tls_handshakes": 0,
                      "tls_failures": 0, "by_op": {}, "sends": 0, "checks": 0}
        old = getattr(self, "wake", None)
        self.wake = threading.Event()
        if old is not None:
            old.set()  # end delay faults still sleeping

    def now(self):
        return time.time() + self.offset

    def live(self, v, now):
        """True if v is pending and within its lifetime; marks it expired otherwise."""
        if v.status == "pending" and now >= v.created + self.service["lifetime"]:
            v.status = "expired"
        return v.status == "pending"

    def pending_for(self, to, now):
        for v in self.verifications.values():
            if v.to == to and v.service_sid == self.service["sid"] and self.live(v, now):
                return v
        return None

    def take_fault(self, op, number):
        for f in self.faults:
            if f["op"] not in (op, "any") and not (f["op"] == "totp" and op in TOTP_OPS):
                continue
            if f.get("number") and f["number"] != number:
                continue
            if f["count"] > 0:
                f["count"] -= 1
            if f["count"] == 0:
                self.faults.remove(f)
            return dict(f)
        return None


# ------------------------------------------------------------------------------------------
# Twilio API operations. Each takes (state, match groups, form, query, now) under the lock
# and returns (status, body dict) or raises ApiError.

def verification_json(st, v):
    url = "%s/v2/Services/%s/Verifications/%s" % (st.base_url, v.service_sid, v.sid)
    return {
        "sid": v.sid, "service_sid": v.service_sid, "account_sid": st.creds["account_sid"],
        "to": v.to, "channel": v.channel, "status": v.status, "valid": v.status == "approved",
        "lookup": {}, "amount": None, "payee": None,
        "send_code_attempts": [{"time": iso(t), "channel": ATTEMPT_CHANNEL[c], "attempt_sid": a}
                               for (t, c, a) in v.attempts],
        "date_created": iso(v.created), "date_updated": iso(v.updated), "sna": None, "url": url,
    }


def check_json(st, v):
    return {
        "sid": v.sid, "service_sid": v.service_sid, "account_sid": st.creds["account_sid"],
        "to": v.to, "channel": v.channel, "status": v.status, "valid": v.status == "approved",
        "amount": None, "payee": None, "date_created": iso(v.created),
        "date_updated": iso(v.updated), "sna_attempts_error_codes": None,
    }


def not_found(path):
    return ApiError(404, 20404, "The requested resource %s was not found" % path[3:])


def check_service(st, sid, path):
    if sid != st.service["sid"]:
        raise not_found(path)


def op_start(st, m, form, query, now, path):
    check_service(st, m[0], path)
    to = form.get("To", "")
    channel = form.get("Channel", "")
    locale = form.get("Locale") or None
    svc = st.service
    if not to:
        raise ApiError(400, 60200, "Invalid parameter: To")
    if not channel:
        raise ApiError(400, 60200, "Invalid parameter: Channel")
    # Not Twilio's behaviour but a tripwire: twofa never turns Fraud Guard and
    # Geo Permissions off for a send (issue 15), so every test that sends a
    # code through the simulator also asserts that it did not.
    if form.get("RiskCheck", "enable") != "enable":
        raise ApiError(400, 60200, "Invalid parameter: RiskCheck (twofa never sends RiskCheck=disable)")
    if channel in ("sna", "auto") or channel in svc["disabled_channels"]:
        raise ApiError(400, 60223, "Delivery channel disabled: %s" % channel.upper())
    if channel not in CHANNELS:
        raise ApiError(400, 60200, "Invalid parameter: Channel")
    if channel == "email":
        if not EMAIL_RE.match(to):
            raise ApiError(400, 60200, "Invalid parameter: To")
        if not svc["email_enabled"]:
            raise ApiError(400, 60217)
    elif not E164_RE.match(to):
        raise ApiError(400, 60200, "Invalid parameter: To")
    kind = st.numbers.get(to, "normal")
    if kind == "invalid":
        raise ApiError(400, 60200, "Invalid parameter: To")
    if kind == "blocked":
        raise ApiError(403, 60410)
    if kind == "geo_blocked":
        raise ApiError(403, 60605)
    if kind == "twilio_blocked":
        raise ApiError(403, 60238)
    if kind == "landline" and channel == "sms":
        raise ApiError(403, 60205)
    if locale is not None and locale not in LOCALES:
        # Twilio documents only "a 404" for an unsupported Locale; the body is unknown.
        raise ApiError(404, 20404, "Unsupported locale: %s" % locale[:16])
    keys = rate_limit_keys(st, form.get("RateLimits"))
    rate_limit_take(st, keys, now)
    v = st.pending_for(to, now)
    if v is None:
        code = "".join(secrets.choice("0123456789") for _ in range(svc["code_length"]))
        v = Verification(svc["sid"], to, channel, code, now, locale)
        st.verifications[v.sid] = v
    elif len(v.attempts) >= svc["send_limit"]:
        raise ApiError(429, 60203)
    v.channel = channel
    v.locale = locale
    v.updated = now
    v.attempts.append((now, channel, new_sid("VL")))
    st.outbox.append({"to": to, "channel": channel, "code": v.code, "locale": locale,
                      "time": now, "service_sid": v.service_sid, "verification_sid": v.sid})
    st.stats["sends"] += 1
    if len(st.outbox) > LOG_MAX:
        del st.outbox[:len(st.outbox) - LOG_MAX]
    return 201, verification_json(st, v)


def op_check(st, m, form, query, now, path):
    check_service(st, m[0], path)
    to = form.get("To", "")
    vsid = form.get("VerificationSid", "")
    code = form.get("Code")
    if not to and not vsid:
        raise ApiError(400, 60221)
    if code is None or not CODE_RE.match(code):
        raise ApiError(400, 60200, "Invalid parameter: Code")
    if vsid:
        v = st.verifications.get(vsid)
        if v is None or v.service_sid != st.service["sid"] or not st.live(v, now):
            raise not_found(path)
    else:
        v = st.pending_for(to, now)
        if v is None:
            raise not_found(path)
    if v.checks >= 5:
        raise ApiError(429, 60202)
    v.checks += 1
    st.stats["checks"] += 1
    if hmac.compare_digest(code.encode(), v.code.encode()):
        v.status = "approved"
    v.updated = now
    return 200, check_json(st, v)


def find_by_sid_or_to(st, key, now, path):
    if SID_RE.match(key):
        v = st.verifications.get(key)
        if v is None or v.service_sid != st.service["sid"] or not st.live(v, now):
            raise not_found(path)
        return v
    v = st.pending_for(key, now)
    if v is None:
        raise not_found(path)
    return v


def op_fetch(st, m, form, query, now, path):
    check_service(st, m[0], path)
    return 200, verification_json(st, find_by_sid_or_to(st, m[1], now, path))


def op_update(st, m, form, query, now, path):
    check_service(st, m[0], path)
    status = form.get("Status", "")
    if status not in ("canceled", "approved"):
        raise ApiError(400, 60200, "Invalid parameter: Status")
    v = find_by_sid_or_to(st, m[1], now, path)
    v.status = status
    v.updated = now
    return 200, verification_json(st, v)


def op_service(st, m, form, query, now, path):
    check_service(st, m[0], path)
    svc = st.service
    base = "%s/v2/Services/%s" % (st.base_url, svc["sid"])
    links = {k: "%s/%s" % (base, p) for k, p in (
        ("verification_checks", "VerificationCheck"), ("verifications", "Verifications"),
        ("rate_limits", "RateLimits"), ("messaging_configurations", "MessagingConfigurations"),
        ("entities", "Entities"), ("webhooks", "Webhooks"), ("access_tokens", "AccessTokens"))}
    return 200, {
        "sid": svc["sid"], "account_sid": st.creds["account_sid"],
        "friendly_name": svc["friendly_name"], "code_length": svc["code_length"],
        "lookup_enabled": False, "psd2_enabled": False, "skip_sms_to_landlines": False,
        "dtmf_input_required": False, "tts_name": None, "do_not_share_warning_enabled": False,
        "custom_code_enabled": False,
        "push": {"include_date": False, "apn_credential_sid": None, "fcm_credential_sid": None},
        "totp": totp_settings(st),
        "whatsapp": {"msg_service_sid": None, "from": None},
        "passkeys": {"relying_party": {"id": None, "name": None, "origins": None},
                     "authenticator_attachment": None, "discoverable_credentials": None,
                     "user_verification": None},
        "default_template_sid": None, "verify_event_subscription_enabled": False,
        "date_created": iso(svc["created"]), "date_updated": iso(svc["created"]),
        "url": base, "links": links,
    }


def parse_number(raw, country):
    """-> (valid, e164 or echoed input, cc, iso, nsn, errors). Small table, not libphonenumber."""
    s = re.sub(r"[\s().\-]", "", raw)
    if s.startswith("00"):
        s = "+" + s[2:]
    if s.startswith("+"):
        digits = s[1:]
        if not digits.isdigit():
            return False, s, None, None, None, ["NOT_A_NUMBER"]
        cc = next((digits[:n] for n in (1, 2, 3) if digits[:n] in COUNTRIES), None)
        if cc is None:
            return False, s, None, None, None, ["INVALID_COUNTRY_CODE"]
        nsn = digits[len(cc):]
    else:
        if not s.isdigit():
            return False, raw, None, None, None, ["NOT_A_NUMBER"]
        cc = ISO_TO_CC.get((country or "US").upper())
        if cc is None:
            return False, raw, None, None, None, ["INVALID_COUNTRY_CODE"]
        trunk = COUNTRIES[cc][3]
        nsn = s
        if trunk and nsn.startswith(trunk) and len(nsn) > COUNTRIES[cc][1]:
            nsn = nsn[len(trunk):]
    iso2, lo, hi, _ = COUNTRIES[cc]
    e164 = "+" + cc + nsn
    if len(nsn) < lo:
        return False, e164, None, None, None, ["TOO_SHORT"]
    if len(nsn) > hi:
        return False, e164, None, None, None, ["TOO_LONG"]
    if cc == "1":
        if nsn[0] in "01" or nsn[3] in "01":
            return False, e164, None, None, None, ["INVALID_BUT_POSSIBLE"]
        iso2 = "CA" if nsn[:3] in CANADA_AREAS else "US"
    return True, e164, cc, iso2, nsn, None


def op_lookup(st, m, form, query, now, path):
    raw = m[0]
    valid, number, cc, iso2, nsn, errors = parse_number(raw, query.get("CountryCode"))
    kind = st.numbers.get(number, "normal")
    if valid and kind == "invalid":
        valid, cc, iso2, nsn, errors = False, None, None, None, ["INVALID_BUT_POSSIBLE"]
    national = None
    if valid:
        if cc == "1":
            national = "(%s) %s-%s" % (nsn[:3], nsn[3:6], nsn[6:])
        else:
            national = COUNTRIES[cc][3] + nsn if COUNTRIES[cc][3] == "0" else nsn
    fields = [f.strip() for f in query.get("Fields", "").split(",") if f.strip()]
    lti = None
    if "line_type_intelligence" in fields and valid:
        lti = {"mobile_country_code": "310", "mobile_network_code": "456",
               "carrier_name": "twofa sim carrier",
               "type": "landline" if kind == "landline" else "mobile", "error_code": None}
    return 200, {
        "calling_country_code": cc, "country_code": iso2, "phone_number": number,
        "national_format": national, "valid": valid, "validation_errors": errors,
        "caller_name": None, "sim_swap": None, "call_forwarding": None, "line_status": None,
        "line_type_intelligence": lti, "identity_match": None, "reassigned_number": None,
        "sms_pumping_risk": None, "phone_number_quality_score": None, "pre_fill": None,
        "url": "%s/v2/PhoneNumbers/%s" % (st.base_url, urllib.parse.quote(number, safe="+")),
    }


# Service Rate Limits (Verify v2 /Services/{sid}/RateLimits and their Buckets). Twilio
# documents the resources but not what a send that trips a bucket gets back, nor what an
# unknown key name gets: both answers here are guesses (tests/sim/README.md).
RATE_LIMIT_TRIPPED = (429, 60203)      # guess: "Max send attempts reached"
RATE_LIMIT_UNKNOWN = (400, 60200)      # guess: "Invalid parameter"
UNIQUE_NAME_RE = re.compile(r"^[A-Za-z0-9_.-]{1,64}$")


def rate_limit_json(st, rl):
    url = "%s/v2/Services/%s/RateLimits/%s" % (st.base_url, rl["service_sid"], rl["sid"])
    return {"sid": rl["sid"], "service_sid": rl["service_sid"],
            "account_sid": st.creds["account_sid"], "unique_name": rl["unique_name"],
            "description": rl["description"], "date_created": iso(rl["created"]),
            "date_updated": iso(rl["created"]), "url": url, "links": {"buckets": url + "/Buckets"}}


def bucket_json(st, rl, b):
    return {"sid": b["sid"], "rate_limit_sid": rl["sid"], "service_sid": rl["service_sid"],
            "account_sid": st.creds["account_sid"], "max": b["max"], "interval": b["interval"],
            "date_created": iso(b["created"]), "date_updated": iso(b["created"]),
            "url": "%s/v2/Services/%s/RateLimits/%s/Buckets/%s" % (
                st.base_url, rl["service_sid"], rl["sid"], b["sid"])}


def page(st, path, key, items):
    url = st.base_url + path + "?PageSize=50&Page=0"
    return {key: items, "meta": {"first_page_url": url, "key": key, "next_page_url": None,
                                 "page": 0, "page_size": 50, "previous_page_url": None,
                                 "url": url}}


def find_rate_limit(st, sid, path):
    rl = st.rate_limits.get(sid)
    if rl is None:
        rl = next((r for r in st.rate_limits.values() if r["unique_name"] == sid), None)
    if rl is None:
        raise not_found(path)
    return rl


def op_rate_limit_create(st, m, form, query, now, path):
    check_service(st, m[0], path)
    name = form.get("UniqueName", "")
    if not UNIQUE_NAME_RE.match(name):
        raise ApiError(400, 60200, "Invalid parameter: UniqueName")
    if any(r["unique_name"] == name for r in st.rate_limits.values()):
        raise ApiError(409, 60208, "Rate limit with this unique name already exists")
    rl = {"sid": new_sid("RK"), "service_sid": m[0], "unique_name": name,
          "description": form.get("Description", "")[:256], "created": now, "buckets": {}}
    st.rate_limits[rl["sid"]] = rl
    return 201, rate_limit_json(st, rl)


def op_rate_limit_list(st, m, form, query, now, path):
    check_service(st, m[0], path)
    return 200, page(st, path, "rate_limits",
                     [rate_limit_json(st, r) for r in st.rate_limits.values()])


def op_rate_limit_fetch(st, m, form, query, now, path):
    check_service(st, m[0], path)
    return 200, rate_limit_json(st, find_rate_limit(st, m[1], path))


def op_bucket_create(st, m, form, query, now, path):
    check_service(st, m[0], path)
    rl = find_rate_limit(st, m[1], path)
    try:
        mx, interval = int(form.get("Max", "")), int(form.get("Interval", ""))
    except ValueError:
        raise ApiError(400, 60200, "Invalid parameter: Max or Interval")
    if mx < 1 or interval < 1:
        raise ApiError(400, 60200, "Invalid parameter: Max or Interval")
    if len(rl["buckets"]) >= 5:
        raise ApiError(400, 60210)
    b = {"sid": new_sid("BL"), "max": mx, "interval": interval, "created": now}
    rl["buckets"][b["sid"]] = b
    return 201, bucket_json(st, rl, b)


def op_bucket_list(st, m, form, query, now, path):
    check_service(st, m[0], path)
    rl = find_rate_limit(st, m[1], path)
    return 200, page(st, path, "buckets", [bucket_json(st, rl, b) for b in rl["buckets"].values()])


def rate_limit_keys(st, raw):
    """The RateLimits parameter of a send: a JSON object of unique name -> value."""
    if raw is None:
        return []
    try:
        obj = json.loads(raw)
    except ValueError:
        raise ApiError(400, 60200, "Invalid parameter: RateLimits")
    if not isinstance(obj, dict):
        raise ApiError(400, 60200, "Invalid parameter: RateLimits")
    keys = []
    for name, value in obj.items():
        rl = next((r for r in st.rate_limits.values() if r["unique_name"] == name), None)
        if rl is None or not isinstance(value, str) or not value:
            raise ApiError(*RATE_LIMIT_UNKNOWN, "Invalid parameter: RateLimits")
        keys.append((rl, value))
    return keys


def rate_limit_take(st, keys, now):
    """Refuses the send when any bucket of a key is full; else counts it in every one."""
    for rl, value in keys:
        hits = st.rate_hits.get((rl["sid"], value), [])
        for b in rl["buckets"].values():
            if sum(1 for t in hits if t > now - b["interval"]) >= b["max"]:
                st.stats["rate_limited"] = st.stats.get("rate_limited", 0) + 1
                raise ApiError(*RATE_LIMIT_TRIPPED)
    for rl, value in keys:
        hits = st.rate_hits.setdefault((rl["sid"], value), [])
        hits.append(now)
        longest = max((b["interval"] for b in rl["buckets"].values()), default=0)
        hits[:] = [t for t in hits if t > now - longest][-1000:]


# ------------------------------------------------------------------------------------------
# Verify TOTP: Entities, Factors, Challenges (Verify v2 /Services/{sid}/Entities/...).
# Real RFC 6238 codes (RFC 4226 truncation) on the simulator's movable clock, so a test
# computes a code as an authenticator app would (simctl totp-code, /_sim/totp).
# What Twilio's docs do not state is marked GUESS here and in tests/sim/README.md.

TOTP_ALGS = {"sha1": "sha1", "sha256": "sha256", "sha512": "sha512"}
TOTP_DEFAULTS = {"time_step": 30, "code_length": 6, "skew": 1}
TOTP_RANGES = {"time_step": (20, 60), "code_length": (3, 8), "skew": (0, 2)}
IDENTITY_RE = re.compile(r"^[A-Za-z0-9_-]{8,64}$")  # GUESS: Twilio says 8..64 characters, not which
FACTOR_SID_RE = re.compile(r"^YF[0-9a-fA-F]{32}$")
CHALLENGE_SID_RE = re.compile(r"^YC[0-9a-fA-F]{32}$")
BASE32_RE = re.compile(r"^[A-Z2-7]{16,128}$")
AUTH_PAYLOAD_RE = re.compile(r"^[0-9]{3,8}$")
FACTORS_PER_ENTITY = 20  # GUESS: Twilio documents a limit for push factors only
CHALLENGE_LIFETIME = 300  # GUESS: a pending challenge's life when ExpirationDate is not given
TOTP_OPS = ("factor_create", "factor_update", "factor_fetch", "factors", "factor_delete",
            "entities", "entity", "entity_delete", "challenge", "challenge_fetch")


def totp_code(secret, counter, digits, alg="sha1"):
    """RFC 6238 / RFC 4226: HMAC(secret, counter) truncated to `digits` decimal digits."""
    key = base64.b32decode(secret + "=" * (-len(secret) % 8))
    mac = hmac.new(key, struct.pack(">Q", counter), TOTP_ALGS[alg]).digest()
    off = mac[-1] & 0x0F
    value = struct.unpack(">I", mac[off:off + 4])[0] & 0x7FFFFFFF
    return "%0*d" % (digits, value % 10 ** digits)


def totp_settings(st):
    """The service's totp object; None = not set (Twilio's default applies)."""
    return {k: st.service.get("totp_" + k) for k in ("issuer", "time_step", "code_length", "skew")}


def totp_effective(st, key):
    v = st.service.get("totp_" + key)
    return TOTP_DEFAULTS[key] if v is None else v


def totp_check_setting(key, param, raw):
    try:
        v = int(raw)
    except (TypeError, ValueError):
        raise ApiError(400, 60200, "Invalid parameter: %s" % param)
    lo, hi = TOTP_RANGES[key]
    if not lo <= v <= hi:
        raise ApiError(400, 60200, "Invalid parameter: %s must be %d..%d" % (param, lo, hi))
    return v


def entity_url(st, e):
    return "%s/v2/Services/%s/Entities/%s" % (st.base_url, st.service["sid"],
                                             urllib.parse.quote(e["identity"], safe=""))


def entity_json(st, e):
    url = entity_url(st, e)
    return {"sid": e["sid"], "identity": e["identity"], "account_sid": st.creds["account_sid"],
            "service_sid": st.service["sid"], "date_created": iso(e["created"]),
            "date_updated": iso(e["created"]), "url": url,
            "links": {"factors": url + "/Factors", "new_factors": url + "/Factors",
                      "challenges": url + "/Challenges"}}


def factor_config(f):
    return {"alg": f["alg"], "skew": f["skew"], "code_length": f["code_length"],
            "time_step": f["time_step"]}


def factor_json(st, e, f, binding=False):
    out = {"sid": f["sid"], "account_sid": st.creds["account_sid"],
           "service_sid": st.service["sid"], "entity_sid": e["sid"], "identity": e["identity"],
           "date_created": iso(f["created"]), "date_updated": iso(f["updated"]),
           "friendly_name": f["friendly_name"], "status": f["status"], "factor_type": "totp",
           "config": factor_config(f), "metadata": None,
           "url": "%s/Factors/%s" % (entity_url(st, e), f["sid"])}
    if binding:  # only the answer that creates the factor carries the secret (Twilio's docs)
        issuer = f["issuer"]
        label = urllib.parse.quote("%s:%s" % (issuer, f["friendly_name"]), safe=":")
        uri = "otpauth://totp/%s?secret=%s&issuer=%s&algorithm=%s&digits=%d&period=%d" % (
            label, f["secret"], urllib.parse.quote(issuer, safe=""), f["alg"].upper(),
            f["code_length"], f["time_step"])
        out = {k: out[k] for k in ("sid", "account_sid", "service_sid", "entity_sid",
                                   "identity")}
        out.update({"binding": {"secret": f["secret"], "uri": uri}, "options": None,
                    "date_created": iso(f["created"]), "date_updated": iso(f["updated"]),
                    "friendly_name": f["friendly_name"], "status": f["status"],
                    "factor_type": "totp", "config": factor_config(f), "metadata": None,
                    "url": "%s/Factors/%s" % (entity_url(st, e), f["sid"])})
    return out


def challenge_json(st, e, c):
    url = "%s/Challenges/%s" % (entity_url(st, e), c["sid"])
    return {"sid": c["sid"], "account_sid": st.creds["account_sid"],
            "service_sid": st.service["sid"], "entity_sid": e["sid"], "identity": e["identity"],
            "factor_sid": c["factor_sid"], "date_created": iso(c["created"]),
            "date_updated": iso(c["updated"]),
            "date_responded": iso(c["responded"]) if c["responded"] is not None else None,
            "expiration_date": iso(c["expires"]), "status": c["status"],
            "responded_reason": "none", "details": None, "hidden_details": None,
            "metadata": None, "factor_type": "totp", "url": url,
            "links": {"notifications": url + "/Notifications"}}


def find_entity(st, m, path):
    check_service(st, m[0], path)
    e = st.entities.get(m[1])
    if e is None:
        raise not_found(path)
    return e


def find_factor(st, m, path):
    e = find_entity(st, m, path)
    f = e["factors"].get(m[2])
    if f is None:
        raise not_found(path)
    return e, f


def totp_match(st, f, payload, now):
    """The counter payload is valid for (within the factor's skew), or None."""
    here = int(now // f["time_step"])
    for c in range(here - f["skew"], here + f["skew"] + 1):
        if hmac.compare_digest(payload.encode(),
                               totp_code(f["secret"], c, f["code_length"], f["alg"]).encode()):
            return c
    return None


def auth_payload(form):
    p = form.get("AuthPayload")
    if p is not None and not AUTH_PAYLOAD_RE.match(p):
        # GUESS: Twilio does not document the answer to a payload that is not 3..8 digits.
        raise ApiError(400, 60200, "Invalid parameter: AuthPayload")
    return p


def list_page(st, path, query, key, items):
    """Twilio's paging: PageSize 1..1000 (default 50), Page from 0, next_page_url while more."""
    try:
        size = int(query.get("PageSize", 50))
        number = int(query.get("Page", 0))
    except ValueError:
        raise ApiError(400, 60200, "Invalid parameter: PageSize or Page")
    if not 1 <= size <= 1000 or number < 0:
        raise ApiError(400, 60200, "Invalid parameter: PageSize or Page")
    size = min(size, st.service["page_size_max"])  # a smaller page than asked, as Twilio may
    base = st.base_url + path

    def url(n):
        return "%s?PageSize=%d&Page=%d" % (base, size, n) + ("&PageToken=PT%d" % n if n else "")
    chunk = items[number * size:(number + 1) * size]
    more = (number + 1) * size < len(items)
    return {key: chunk, "meta": {"first_page_url": url(0), "key": key,
                                 "next_page_url": url(number + 1) if more else None,
                                 "page": number, "page_size": size,
                                 "previous_page_url": url(number - 1) if number else None,
                                 "url": url(number)}}


def op_factor_create(st, m, form, query, now, path):
    check_service(st, m[0], path)
    identity = m[1]
    if not IDENTITY_RE.match(identity):
        raise ApiError(400, 60200, "Invalid parameter: Identity")
    name = form.get("FriendlyName", "")
    ftype = form.get("FactorType", "")
    if not name or len(name) > 64:
        raise ApiError(400, 60200, "Invalid parameter: FriendlyName")
    if ftype != "totp":
        # Push and passkeys factors need an SDK binding: not simulated.
        raise ApiError(400, 60200, "Invalid parameter: FactorType")
    alg = form.get("Config.Alg", "sha1")
    if alg not in TOTP_ALGS:
        raise ApiError(400, 60200, "Invalid parameter: Config.Alg")
    f = {"sid": new_sid("YF"), "friendly_name": name, "status": "unverified", "alg": alg,
         "created": now, "updated": now, "last_counter": None,
         "issuer": st.service.get("totp_issuer") or st.service["friendly_name"]}
    for key, param in (("time_step", "Config.TimeStep"), ("code_length", "Config.CodeLength"),
                       ("skew", "Config.Skew")):
        f[key] = totp_check_setting(key, param, form[param]) if param in form else \
            totp_effective(st, key)
    secret = form.get("Binding.Secret")
    if secret is not None and not BASE32_RE.match(secret):
        raise ApiError(400, 60200, "Invalid parameter: Binding.Secret")
    f["secret"] = secret or base64.b32encode(secrets.token_bytes(20)).decode().rstrip("=")
    e = st.entities.get(identity)
    if e is not None and len(e["factors"]) >= FACTORS_PER_ENTITY:
        raise ApiError(400, 60315, "Reached max limit of factors for this entity")
    if e is None:  # the entity is made with its first factor
        e = {"sid": new_sid("YE"), "identity": identity, "created": now, "factors": {},
             "challenges": {}}
        st.entities[identity] = e
    e["factors"][f["sid"]] = f
    return 201, factor_json(st, e, f, binding=True)


def op_factor_update(st, m, form, query, now, path):
    e, f = find_factor(st, m, path)
    payload = auth_payload(form)
    if "FriendlyName" in form:
        if not form["FriendlyName"] or len(form["FriendlyName"]) > 64:
            raise ApiError(400, 60200, "Invalid parameter: FriendlyName")
        f["friendly_name"] = form["FriendlyName"]
    for key, param in (("time_step", "Config.TimeStep"), ("code_length", "Config.CodeLength"),
                       ("skew", "Config.Skew")):
        if param in form:
            f[key] = totp_check_setting(key, param, form[param])
    if "Config.Alg" in form:
        if form["Config.Alg"] not in TOTP_ALGS:
            raise ApiError(400, 60200, "Invalid parameter: Config.Alg")
        f["alg"] = form["Config.Alg"]
    # GUESS: a wrong first code answers 200 with the factor still unverified (no error), and
    # a payload for a factor already verified changes nothing.
    if payload is not None and f["status"] == "unverified":
        c = totp_match(st, f, payload, now)
        if c is not None:
            f["status"] = "verified"
            f["last_counter"] = c
        elif st.service["totp_wrong_status"] == "error":
            raise ApiError(403, 60311, "Factor verification failed")  # documented
    f["updated"] = now
    return 200, factor_json(st, e, f)


def op_factor_fetch(st, m, form, query, now, path):
    e, f = find_factor(st, m, path)
    return 200, factor_json(st, e, f)


def op_factor_delete(st, m, form, query, now, path):
    e, f = find_factor(st, m, path)
    del e["factors"][f["sid"]]
    return 204, None


def op_factor_list(st, m, form, query, now, path):
    e = find_entity(st, m, path)
    return 200, list_page(st, path, query, "factors",
                          [factor_json(st, e, f) for f in e["factors"].values()])


def op_entity_list(st, m, form, query, now, path):
    check_service(st, m[0], path)
    return 200, list_page(st, path, query, "entities",
                          [entity_json(st, e) for e in st.entities.values()])


def op_entity_fetch(st, m, form, query, now, path):
    return 200, entity_json(st, find_entity(st, m, path))


def op_entity_delete(st, m, form, query, now, path):
    e = find_entity(st, m, path)
    del st.entities[e["identity"]]
    return 204, None


def op_challenge_create(st, m, form, query, now, path):
    check_service(st, m[0], path)
    fsid = form.get("FactorSid", "")
    if not FACTOR_SID_RE.match(fsid):
        raise ApiError(400, 60200, "Invalid parameter: FactorSid")
    payload = auth_payload(form)
    e = find_entity(st, m, path)
    f = e["factors"].get(fsid)
    if f is None:
        raise not_found(path + "/" + fsid)
    if f["status"] != "verified":
        # GUESS: Twilio's answer to a challenge of an unverified factor is not documented.
        raise ApiError(400, 60200, "Invalid parameter: the factor is not verified")
    c = {"sid": new_sid("YC"), "factor_sid": fsid, "created": now, "updated": now,
         "responded": None, "expires": now + CHALLENGE_LIFETIME, "status": "pending"}
    if payload is not None:
        counter = totp_match(st, f, payload, now)
        replay = counter is not None and f["last_counter"] is not None and \
            counter <= f["last_counter"]
        if counter is not None and (not replay or st.service["totp_replay"] == "accept"):
            c["status"] = "approved"
            f["last_counter"] = max(counter, f["last_counter"] or counter)
        else:
            # GUESS: a wrong (or, with totp_replay=refuse, a replayed) code leaves the
            # challenge pending; totp_wrong_status=denied answers "denied" instead, and
            # totp_wrong_status=error the 403 60324 Twilio documents (its answer before
            # the 2021 change to a status).
            if st.service["totp_wrong_status"] == "error":
                raise ApiError(403, 60324, "Challenge verification failed")
            c["status"] = st.service["totp_wrong_status"]
        c["responded"] = now
    e["challenges"][c["sid"]] = c
    if len(e["challenges"]) > 1000:
        del e["challenges"][next(iter(e["challenges"]))]
    st.stats["challenges"] = st.stats.get("challenges", 0) + 1
    return 201, challenge_json(st, e, c)


def op_challenge_fetch(st, m, form, query, now, path):
    e = find_entity(st, m, path)
    c = e["challenges"].get(m[2])
    if c is None:
        raise not_found(path)
    if c["status"] == "pending" and now >= c["expires"]:
        c["status"] = "expired"
    return 200, challenge_json(st, e, c)


def op_service_update(st, m, form, query, now, path):
    check_service(st, m[0], path)
    svc = dict(st.service)
    if "FriendlyName" in form:
        svc["friendly_name"] = form["FriendlyName"][:30]
    if "Totp.Issuer" in form:
        svc["totp_issuer"] = form["Totp.Issuer"][:64] or None
    for key in ("time_step", "code_length", "skew"):
        param = "Totp." + "".join(w.capitalize() for w in key.split("_"))
        if param in form:
            svc["totp_" + key] = totp_check_setting(key, param, form[param])
    st.service = svc
    return op_service(st, m, form, query, now, path)


# (regex, {method: (op name, handler)})
ROUTES = [
    (re.compile(r"^/v2/Services/([^/]+)/Verifications$"), {"POST": ("start", op_start)}),
    (re.compile(r"^/v2/Services/([^/]+)/VerificationCheck$"), {"POST": ("check", op_check)}),
    (re.compile(r"^/v2/Services/([^/]+)/Verifications/([^/]+)$"),
     {"GET": ("fetch", op_fetch), "POST": ("cancel", op_update)}),
    (re.compile(r"^/v2/Services/([^/]+)$"),
     {"GET": ("service", op_service), "POST": ("service_update", op_service_update)}),
    (re.compile(r"^/v2/Services/([^/]+)/RateLimits$"),
     {"GET": ("rate_limits", op_rate_limit_list), "POST": ("rate_limit_create", op_rate_limit_create)}),
    (re.compile(r"^/v2/Services/([^/]+)/RateLimits/([^/]+)$"), {"GET": ("rate_limit", op_rate_limit_fetch)}),
    (re.compile(r"^/v2/Services/([^/]+)/RateLimits/([^/]+)/Buckets$"),
     {"GET": ("buckets", op_bucket_list), "POST": ("bucket_create", op_bucket_create)}),
    (re.compile(r"^/v2/PhoneNumbers/([^/]+)$"), {"GET": ("lookup", op_lookup)}),
    (re.compile(r"^/v2/Services/([^/]+)/Entities$"), {"GET": ("entities", op_entity_list)}),
    (re.compile(r"^/v2/Services/([^/]+)/Entities/([^/]+)$"),
     {"GET": ("entity", op_entity_fetch), "DELETE": ("entity_delete", op_entity_delete)}),
    (re.compile(r"^/v2/Services/([^/]+)/Entities/([^/]+)/Factors$"),
     {"GET": ("factors", op_factor_list), "POST": ("factor_create", op_factor_create)}),
    (re.compile(r"^/v2/Services/([^/]+)/Entities/([^/]+)/Factors/([^/]+)$"),
     {"GET": ("factor_fetch", op_factor_fetch), "POST": ("factor_update", op_factor_update),
      "DELETE": ("factor_delete", op_factor_delete)}),
    (re.compile(r"^/v2/Services/([^/]+)/Entities/([^/]+)/Challenges$"),
     {"POST": ("challenge", op_challenge_create)}),
    (re.compile(r"^/v2/Services/([^/]+)/Entities/([^/]+)/Challenges/([^/]+)$"),
     {"GET": ("challenge_fetch", op_challenge_fetch)}),
]


# ------------------------------------------------------------------------------------------

class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "twofa-sim/1"
    sys_version = ""

    def setup(self):
        srv = self.server
        st = srv.state
        self.timeout = srv.keepalive
        with st.lock:
            st.stats["connections"] += 1
            self.conn_id = st.stats["connections"]
        # Headers and body are separate writes: without NODELAY, Nagle + delayed ACK add 40 ms.
        self.request.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        if srv.ssl_context is not None:
            self.request.settimeout(srv.keepalive)
            tls = srv.ssl_context.wrap_socket(self.request, server_side=True,
                                              do_handshake_on_connect=False)
            try:
                tls.do_handshake()
            except (OSError, ssl.SSLError) as e:
                with st.lock:
                    st.stats["tls_failures"] += 1
                self.log_message("conn %d: TLS handshake failed: %s", self.conn_id, e)
                tls.close()
                raise
            with st.lock:
                st.stats["tls_handshakes"] += 1
            self.request = tls
        super().setup()

    def finish(self):
        try:
            super().finish()
        except OSError:
            pass
        try:
            self.request.close()  # the TLS socket replaced the one socketserver closes
        except OSError:
            pass

    def log_message(self, fmt, *args):
        sys.stderr.write("%s %s\n" % (time.strftime("%H:%M:%S"), fmt % args))
        sys.stderr.flush()

    def log_request(self, code="-", size="-"):
        # requestline is "METHOD path HTTP/1.1": the path carries no secret.
        self.log_message("conn %d: %s %s", self.conn_id, self.requestline, code)

    # -- plumbing ------------------------------------------------------------------------
    def read_body(self):
        if self.headers.get("Transfer-Encoding"):
            raise ApiError(400, 20001, "Chunked bodies are not supported")
        try:
            n = int(self.headers.get("Content-Length") or 0)
        except ValueError:
            raise ApiError(400, 20001, "Bad Content-Length")
        if n < 0 or n > BODY_MAX:
            raise ApiError(413, 20001, "Request too large")
        return self.rfile.read(n) if n else b""

    def send(self, status, body, headers=None, raw=None):
        data = raw if raw is not None else (b"" if status == 204 else json.dumps(body).encode())
        self.send_response(status)
        if status != 204:
            self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.end_headers()
        try:
            self.wfile.write(data)
            self.wfile.flush()
        except OSError:
            self.close_connection = True

    def do_GET(self):
        self.dispatch("GET")

    def do_POST(self):
        self.dispatch("POST")

    def do_DELETE(self):
        self.dispatch("DELETE")

    def do_PUT(self):
        self.dispatch("PUT")

    def dispatch(self, method):
        url = urllib.parse.urlsplit(self.path)
        path = url.path
        query = {k: v[0] for k, v in urllib.parse.parse_qs(url.query).items()}
        try:
            body = self.read_body()
        except ApiError as e:
            self.close_connection = True
            self.send(e.status, e.body())
            return
        if path.startswith("/_sim/"):
            self.control(method, path, query, body)
        else:
            self.api(method, path, query, body)

    # -- Twilio API ----------------------------------------------------------------------
    def auth(self):
        h = self.headers.get("Authorization")
        if not h:
            return "none"
        if not h.startswith("Basic "):
            return "bad"
        try:
            user, _, pw = base64.b64decode(h[6:].strip(), validate=True).decode().partition(":")
        except (binascii.Error, UnicodeDecodeError):
            return "bad"
        c = self.server.state.creds
        pairs = (("account", c["account_sid"], c["auth_token"]),
                 ("apikey", c["api_key_sid"], c["api_key_secret"]))
        for name, u, p in pairs:
            if hmac.compare_digest(user.encode(), u.encode()) and \
                    hmac.compare_digest(pw.encode(), p.encode()):
                return name
        return "bad"

    def api(self, method, path, query, body):
        st = self.server.state
        op, fn, groups = "other", None, ()
        method_ok = False
        for rx, methods in ROUTES:
            mm = rx.match(path)
            if mm:
                groups = tuple(urllib.parse.unquote(g) for g in mm.groups())
                op = "other"
                if method in methods:
                    op, fn = methods[method]
                    method_ok = True
                break
        auth = self.auth()
        form = {}
        ctype = (self.headers.get("Content-Type") or "").split(";")[0].strip().lower()
        form_error = None
        if body:
            if ctype != "application/x-www-form-urlencoded":
                form_error = ApiError(400, 20001)
            else:
                try:
                    pairs = urllib.parse.parse_qsl(body.decode("utf-8"), keep_blank_values=True,
                                                   strict_parsing=True, errors="strict")
                    form = {}
                    for k, v in pairs:
                        form.setdefault(k, v)
                except (UnicodeDecodeError, ValueError):
                    form_error = ApiError(400, 20001, "Malformed form body")
        number = form.get("To") or (groups[0] if op == "lookup" else None) or \
            (groups[1] if op in ("fetch", "cancel") + TOTP_OPS and len(groups) > 1 else None)
        fault = None
        status, out, headers, raw = 200, None, {}, None
        with st.lock:
            st.stats["requests"] += 1
            st.stats["by_op"][op] = st.stats["by_op"].get(op, 0) + 1
            if auth in ("account", "apikey") and fn is not None:
                fault = st.take_fault(op, number)
            wake = st.wake
        if fault is not None and fault["fault"] == "delay":
            wake.wait(fault.get("delay", 30))
            fault = None
        try:
            if auth not in ("account", "apikey"):
                raise ApiError(401, 20003, headers={"WWW-Authenticate": 'Basic realm="Twilio API"'})
            if not groups:
                raise ApiError(404, 20404, "The requested resource %s was not found" % path)
            if not method_ok:
                raise ApiError(405, 20004)
            if form_error:
                raise form_error
            if fault is not None:
                status, out, raw = self.fault_answer(fault, op)
                if raw == b"reset":
                    self.record(op, method, path, 0, auth, form, query)
                    self.reset_connection()
                    return
            else:
                with st.lock:
                    status, out = fn(st, groups, form, query, st.now(), path)
        except ApiError as e:
            status, out, headers = e.status, e.body(), e.headers
        self.record(op, method, path, status, auth, form, query)
        self.send(status, out, headers, raw)

    def fault_answer(self, fault, op):
        ok = 201 if op in ("start", "factor_create", "challenge") else 200
        kind = fault["fault"]
        if kind == "404":  # the entity or factor gone at Twilio between two calls
            raise ApiError(404, 20404, "The requested resource was not found")
        if kind == "answer":  # a test's own (hostile) answer, sent as it is
            return int(fault.get("status") or ok), None, json.dumps(fault.get("body")).encode()
        if kind in ("500", "503", "429"):
            code = fault.get("code") or {"500": 20500, "503": 20503, "429": 20429}[kind]
            hdr = {"Retry-After": "1"} if kind == "429" else {}
            raise ApiError(int(kind), int(code), headers=hdr)
        if kind == "302":  # a redirect (never followed): not an outage, never a pass
            return 302, None, b'{"status": "pending"}'
        if kind == "reset":
            return 0, None, b"reset"
        if kind == "malformed":
            return ok, None, b'{"sid": "VE0123", "status": "pend'
        if kind == "oversized":
            pad = "x" * (BODY_MAX + 1024)
            return ok, None, json.dumps({"status": "pending", "padding": pad}).encode()
        return 200, None, b""  # empty

    def reset_connection(self):
        """Abort the TCP connection (RST via SO_LINGER 0), no HTTP answer, no TLS close_notify."""
        self.close_connection = True
        try:
            self.request.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            # The makefile() objects hold references; the fd closes (and RSTs) after the last.
            self.rfile.close()
            self.wfile.close()
            self.request.close()
        except OSError:
            pass
        # http.server flushes wfile after the handler returns: give it something harmless.
        self.rfile, self.wfile = io.BytesIO(), io.BytesIO()
        self.log_message("conn %d: %s reset by fault", self.conn_id, self.requestline)

    def record(self, op, method, path, status, auth, form, query):
        f = dict(form)
        for secret in ("Code", "AuthPayload", "Binding.Secret"):
            if secret in f:
                f[secret] = len(f[secret])
        st = self.server.state
        with st.lock:
            st.requests.append({"op": op, "method": method, "path": path, "status": status,
                                "connection_id": self.conn_id, "auth": auth, "form": f,
                                "query": query, "time": st.now()})
            if len(st.requests) > LOG_MAX:  # long benchmarks: keep the newest
                del st.requests[:len(st.requests) - LOG_MAX]

    # -- test controls -------------------------------------------------------------------
    def control(self, method, path, query, body):
        st = self.server.state
        try:
            obj = json.loads(body.decode()) if body else {}
        except (ValueError, UnicodeDecodeError):
            self.send(400, {"error": "body is not JSON"})
            return
        if not isinstance(obj, dict):
            self.send(400, {"error": "body must be a JSON object"})
            return
        key = (method, path)
        with st.lock:
            try:
                status, out = self.control_locked(st, key, query, obj)
            except (KeyError, ValueError, TypeError) as e:
                status, out = 400, {"error": "bad request: %s" % e}
        self.send(status, out)

    def control_locked(self, st, key, query, obj):
        if key == ("GET", "/_sim/outbox"):
            to = query.get("to")
            return 200, [m for m in st.outbox if to is None or m["to"] == to]
        if key == ("GET", "/_sim/clock"):
            return 200, {"now": st.now()}
        if key == ("POST", "/_sim/clock"):
            if "advance" in obj:
                st.offset += float(obj["advance"])
            elif "set" in obj:
                st.offset = float(obj["set"]) - time.time()
            else:
                raise KeyError("advance or set")
            return 200, {"now": st.now()}
        if key == ("POST", "/_sim/numbers"):
            num, kind = str(obj["number"]), obj["kind"]
            if kind not in NUMBER_KINDS:
                raise ValueError("kind must be one of %s" % ", ".join(NUMBER_KINDS))
            if kind == "normal":
                st.numbers.pop(num, None)
            else:
                st.numbers[num] = kind
            return 200, {"numbers": st.numbers}
        if key == ("POST", "/_sim/faults"):
            f = {"op": obj.get("op", "any"), "fault": str(obj["fault"]),
                 "count": int(obj.get("count", 1)), "delay": float(obj.get("delay", 30)),
                 "number": obj.get("number"), "code": obj.get("code"),
                 "status": obj.get("status"), "body": obj.get("body")}
            if f["op"] not in FAULT_OPS or f["fault"] not in FAULT_KINDS:
                raise ValueError("op in %s, fault in %s" % (FAULT_OPS, FAULT_KINDS))
            if f["count"] == 0 or f["count"] < -1:
                raise ValueError("count must be >= 1 or -1")
            st.faults.append(f)
            return 200, {"faults": st.faults}
        if key == ("GET", "/_sim/faults"):
            return 200, {"faults": st.faults}
        if key == ("DELETE", "/_sim/faults"):
            st.faults = []
            return 200, {"faults": []}
        if key == ("GET", "/_sim/stats"):
            return 200, json.loads(json.dumps(st.stats))
        if key == ("GET", "/_sim/requests"):
            return 200, list(st.requests)
        if key == ("POST", "/_sim/reset"):
            st.reset()
            return 200, {"reset": True}
        if key == ("GET", "/_sim/totp"):
            # The code an authenticator app shows for a factor now (+ step_offset steps).
            sid = query["factor"]
            f = next((f for e in st.entities.values() for f in e["factors"].values()
                      if f["sid"] == sid), None)
            if f is None:
                return 404, {"error": "no factor %s" % sid[:34]}
            counter = int(st.now() // f["time_step"]) + int(query.get("step_offset", 0))
            return 200, {"code": totp_code(f["secret"], counter, f["code_length"], f["alg"]),
                         "counter": counter, "time_step": f["time_step"],
                         "status": f["status"]}
        if key == ("GET", "/_sim/entities"):
            return 200, {i: {"sid": e["sid"], "factors": {
                s: {k: f[k] for k in ("status", "friendly_name", "time_step", "code_length",
                                      "skew", "alg")} for s, f in e["factors"].items()}}
                for i, e in st.entities.items()}
        if key == ("GET", "/_sim/service"):
            return 200, st.service
        if key == ("POST", "/_sim/service"):
            svc = dict(st.service)
            for k, v in obj.items():
                if k in ("code_length", "lifetime", "send_limit"):
                    v = int(v)
                    if k == "code_length" and not 4 <= v <= 10:
                        raise ValueError("code_length 4..10")
                elif k == "email_enabled":
                    v = bool(v)
                elif k == "friendly_name":
                    v = str(v)[:30]
                elif k == "disabled_channels":
                    v = [str(c) for c in v]
                elif k in ("totp_time_step", "totp_code_length", "totp_skew"):
                    if v is not None:
                        lo, hi = TOTP_RANGES[k[5:]]
                        v = int(v)
                        if not lo <= v <= hi:
                            raise ValueError("%s %d..%d" % (k, lo, hi))
                elif k == "page_size_max":
                    v = int(v)
                    if not 1 <= v <= 1000:
                        raise ValueError("page_size_max 1..1000")
                elif k == "totp_issuer":
                    v = None if v is None else str(v)[:64]
                elif k == "totp_replay":
                    if v not in ("accept", "refuse"):
                        raise ValueError("totp_replay accept or refuse")
                elif k == "totp_wrong_status":
                    if v not in ("pending", "denied", "error"):
                        raise ValueError("totp_wrong_status pending, denied or error")
                else:
                    raise KeyError(k)
                svc[k] = v
            st.service = svc
            return 200, svc
        return 404, {"error": "no such control: %s %s" % key}


class Server(http.server.ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 64

    def __init__(self, state, ssl_context, keepalive):
        self.state = state
        self.ssl_context = ssl_context
        self.keepalive = keepalive
        super().__init__(("127.0.0.1", 0), Handler)

    def handle_error(self, request, client_address):
        e = sys.exc_info()[1]
        sys.stderr.write("%s connection error: %s: %s\n" %
                         (time.strftime("%H:%M:%S"), type(e).__name__, e))


def tls_context(d, name):
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.minimum_version = ssl.TLSVersion.TLSv1_2
    ctx.load_cert_chain(os.path.join(d, name + ".pem"), os.path.join(d, name + ".key"))
    return ctx


def write_atomic(path, text):
    tmp = path + ".tmp"
    with open(tmp, "w") as f:
        f.write(text)
    os.replace(tmp, path)


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--dir", required=True)
    ap.add_argument("--http", action="store_true")
    ap.add_argument("--code-length", type=int, default=6)
    ap.add_argument("--send-limit", type=int, default=5)
    ap.add_argument("--keepalive", type=float, default=30.0)
    ap.add_argument("--max-lifetime", type=float, default=3600.0)
    ap.add_argument("--lifetime", type=int, default=600)
    ap.add_argument("--email-enabled", action="store_true")
    ap.add_argument("--totp-issuer")
    for key in ("time_step", "code_length", "skew"):
        ap.add_argument("--totp-" + key.replace("_", "-"), type=int)
    opts = ap.parse_args()
    if not 4 <= opts.code_length <= 10:
        ap.error("--code-length must be 4..10")
    for key, (lo, hi) in TOTP_RANGES.items():
        v = getattr(opts, "totp_" + key)
        if v is not None and not lo <= v <= hi:
            ap.error("--totp-%s must be %d..%d" % (key.replace("_", "-"), lo, hi))
    d = os.path.abspath(opts.dir)
    with open(os.path.join(d, "credentials.json")) as f:
        creds = json.load(f)
    state = State(creds, opts)
    servers = []
    if opts.http:
        main_srv = Server(state, None, opts.keepalive)
        scheme = "http"
    else:
        main_srv = Server(state, tls_context(d, "server"), opts.keepalive)
        scheme = "https"
        wrong = Server(state, tls_context(d, "wrong"), opts.keepalive)
        servers.append(wrong)
        write_atomic(os.path.join(d, "wrong_host_url"),
                     "https://127.0.0.1:%d\n" % wrong.server_address[1])
    servers.insert(0, main_srv)
    port = main_srv.server_address[1]
    state.base_url = "%s://127.0.0.1:%d" % (scheme, port)
    for s in servers:
        threading.Thread(target=s.serve_forever, kwargs={"poll_interval": 0.2},
                         daemon=True).start()
    write_atomic(os.path.join(d, "url"), state.base_url + "\n")
    write_atomic(os.path.join(d, "port"), "%d\n" % port)
    sys.stderr.write("%s listening on %s (pid %d)\n" %
                     (time.strftime("%H:%M:%S"), state.base_url, os.getpid()))
    sys.stderr.flush()

    done = threading.Event()
    signal.signal(signal.SIGTERM, lambda *a: done.set())
    signal.signal(signal.SIGINT, lambda *a: done.set())
    deadline = time.monotonic() + opts.max_lifetime
    while not done.is_set() and time.monotonic() < deadline:
        done.wait(min(1.0, max(0.0, deadline - time.monotonic())))
    sys.stderr.write("%s exiting (%s)\n" % (time.strftime("%H:%M:%S"),
                                            "signal" if done.is_set() else "max lifetime"))
    state.wake.set()
    for s in servers:
        s.shutdown()
        s.server_close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
