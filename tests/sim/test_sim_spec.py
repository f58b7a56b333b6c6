#!/usr/bin/python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""Conformance of the simulator to Twilio's official OpenAPI specs (TAP).

Every 2xx body the simulator gives is validated against the response schema of its operation
in ../shared/twilio-oai (a small validator for the JSON Schema subset the specs use), every
error body against the spec's error schema, and the spec's required request parameters,
enums and SID patterns must be enforced. The validator itself is tested on the spec's own
examples and on broken copies of them."""

import copy
import datetime
import json
import os
import re
import sys
import urllib.parse

from harness.paths import SRCDIR
from harness.tap import Tap
from harness.sim import Sim


def find_spec(name):
    for d in (os.environ.get("TWOFA_TWILIO_OAI"), os.path.join(SRCDIR, "..", "shared", "twilio-oai")):
        if d and os.path.exists(os.path.join(d, name)):
            return os.path.join(d, name)
    return None


class Validator:
    """type, properties (all declared, none extra), nullable, enum, format (date-time, uri,
    uri-map), minLength, maxLength, pattern, items, $ref to #/components/schemas."""

    def __init__(self, spec, null_ok=()):
        self.spec = spec
        self.null_ok = set(null_ok)  # property paths the spec's own examples show as null

    def resolve(self, schema):
        while "$ref" in schema:
            ref = schema["$ref"]
            assert ref.startswith("#/components/schemas/"), ref
            target = self.spec["components"]["schemas"][ref.split("/")[-1]]
            # sibling keywords next to $ref (description, nullable) are kept
            schema = dict(target, **{k: v for k, v in schema.items() if k != "$ref"})
        return schema

    def errors(self, value, schema, path="$"):
        s = self.resolve(schema)
        out = []
        if value is None:
            if s.get("nullable") or path in self.null_ok or not s:
                return out
            return ["%s: null but not nullable" % path]
        ty = s.get("type")
        types = {"object": dict, "array": list, "string": str, "boolean": bool}
        if ty in types and not isinstance(value, types[ty]):
            return ["%s: %r is not %s" % (path, value, ty)]
        if ty == "integer" and (isinstance(value, bool) or not isinstance(value, int)):
            return ["%s: %r is not integer" % (path, value)]
        if ty == "number" and (isinstance(value, bool) or not isinstance(value, (int, float))):
            return ["%s: %r is not number" % (path, value)]
        if "enum" in s and value not in s["enum"]:
            out.append("%s: %r not in enum %r" % (path, value, s["enum"]))
        if isinstance(value, str):
            if "minLength" in s and len(value) < s["minLength"]:
                out.append("%s: shorter than %d" % (path, s["minLength"]))
            if "maxLength" in s and len(value) > s["maxLength"]:
                out.append("%s: longer than %d" % (path, s["maxLength"]))
            if "pattern" in s and not re.search(s["pattern"], value):
                out.append("%s: %r does not match %s" % (path, value, s["pattern"]))
            fmt = s.get("format")
            if fmt == "date-time":
                try:
                    datetime.datetime.strptime(value, "%Y-%m-%dT%H:%M:%SZ")
                except ValueError:
                    out.append("%s: %r is not an ISO 8601 UTC date-time" % (path, value))
            elif fmt == "uri":
                u = urllib.parse.urlsplit(value)
                if u.scheme not in ("http", "https") or not u.netloc:
                    out.append("%s: %r is not an absolute URI" % (path, value))
        if isinstance(value, dict):
            props = s.get("properties")
            if s.get("format") == "uri-map":
                for k, v in value.items():
                    out += self.errors(v, {"type": "string", "format": "uri"}, "%s.%s" % (path, k))
            if props is not None:
                for k in props:
                    if k not in value:
                        out.append("%s: missing property %s" % (path, k))
                for k, v in value.items():
                    if k not in props:
                        out.append("%s: property %s not in the spec" % (path, k))
                    else:
                        out += self.errors(v, props[k], "%s.%s" % (path, k))
        if isinstance(value, list) and "items" in s:
            for i, v in enumerate(value):
                out += self.errors(v, s["items"], "%s[%d]" % (path, i))
        return out


def null_paths(example, schema, v, path="$"):
    """Property paths where the spec's own example has null although the schema says not
    nullable (the specs disagree with themselves, e.g. Lookup's validation_errors)."""
    out = set()
    s = v.resolve(schema)
    if example is None:
        if not s.get("nullable"):
            out.add(path)
    elif isinstance(example, dict) and "properties" in s:
        for k, sub in s["properties"].items():
            if k in example:
                out |= null_paths(example[k], sub, v, "%s.%s" % (path, k))
    return out


class Api:
    """One spec: operation lookup by (method, concrete path)."""

    def __init__(self, spec):
        self.spec = spec
        self.v = Validator(spec)
        self.ops = []
        for tpl, item in spec["paths"].items():
            rx = "^" + re.sub(r"\\\{[A-Za-z]+\\\}", "[^/]+", re.escape(tpl)) + "$"
            for m, op in item.items():
                if m in ("get", "post", "delete"):
                    self.ops.append((re.compile(rx), m.upper(), op))

    def op(self, method, path):
        for rx, m, op in self.ops:
            if m == method and rx.match(path.split("?")[0]):
                return op
        return None

    def response_schema(self, op, status):
        r = op["responses"].get(str(status))
        if r is None:
            return None, set()
        media = r["content"]["application/json"]
        nulls = set()
        for ex in media.get("examples", {}).values():
            nulls |= null_paths(ex["value"], media["schema"], self.v)
        return media["schema"], nulls


def main():
    t = Tap()
    vpath, lpath = find_spec("twilio_verify_v2.json"), find_spec("twilio_lookups_v2.json")
    if not t.ok(vpath is not None and lpath is not None, "official specs found"):
        return t.done()
    verify = Api(json.load(open(vpath)))
    lookup = Api(json.load(open(lpath)))

    # -- the validator against the spec's own examples, and broken copies ---------------
    ours = ("CreateVerification", "CreateVerificationCheck", "FetchVerification",
            "UpdateVerification", "FetchService", "FetchPhoneNumber", "UpdateService",
            "CreateNewFactor", "UpdateFactor", "FetchFactor", "ListFactor", "ListEntity",
            "FetchEntity", "CreateChallenge", "FetchChallenge")
    seen = {}
    for api in (verify, lookup):
        for _, _, op in api.ops:
            if op["operationId"] not in ours:
                continue
            for status, r in op["responses"].items():
                if not status.startswith("2"):
                    continue
                schema, nulls = api.response_schema(op, status)
                for name, ex in r["content"]["application/json"].get("examples", {}).items():
                    errs = Validator(api.spec, nulls).errors(ex["value"], schema)
                    t.ok(not errs, "spec example %s/%s %s validates" %
                         (op["operationId"], status, name), "\n".join(errs))
                    seen.setdefault(op["operationId"], (api, schema, nulls, ex["value"]))
    t.eq(sorted(seen), sorted(ours), "every operation the simulator serves is in the specs")
    api, schema, nulls, ex = seen["CreateVerification"]
    val = Validator(api.spec, nulls)
    for what, mutate in (("valid as string", lambda d: d.update(valid="false")),
                         ("channel outside enum", lambda d: d.update(channel="pigeon")),
                         ("extra property", lambda d: d.update(code="123456")),
                         ("missing property", lambda d: d.pop("send_code_attempts")),
                         ("bad sid pattern", lambda d: d.update(sid="VE123")),
                         ("bad date-time", lambda d: d.update(date_created="Thu, 30 Jul 2015")),
                         ("relative url", lambda d: d.update(url="/v2/Services")),
                         ("null non-nullable channel", lambda d: d.update(channel=None))):
        bad = copy.deepcopy(ex)
        mutate(bad)
        t.ok(val.errors(bad, schema), "validator rejects %s" % what)
    api, schema, nulls, ex = seen["FetchService"]
    bad = copy.deepcopy(ex)
    bad["code_length"] = "6"
    t.ok(Validator(api.spec, nulls).errors(bad, schema), "validator rejects string code_length")
    bad = copy.deepcopy(ex)
    bad["links"]["verifications"] = "not a uri"
    t.ok(Validator(api.spec, nulls).errors(bad, schema), "validator checks uri-map values")

    error_schema = verify.op("POST", "/v2/Services/VA/Verifications")["responses"]["429"][
        "content"]["application/json"]["schema"]

    # -- the simulator's answers ---------------------------------------------------------
    s = Sim()
    try:
        def conform(label, method, path, res, want_status):
            st, body, _ = res
            api = lookup if path.startswith("/v2/PhoneNumbers") else verify
            op = api.op(method, path)
            if not t.ok(op is not None and st == want_status,
                        "%s: %s %s -> %d" % (label, method, path.split("/")[-1][:20], st),
                        body):
                return None
            if st == 204:
                t.ok(body == b"" and "204" in op["responses"],
                     "%s: 204 without a body, declared for %s" % (label, op["operationId"]))
                return body
            schema, nulls = api.response_schema(op, st)
            if not t.ok(schema is not None, "%s: status %d declared for %s" %
                        (label, st, op["operationId"])):
                return None
            errs = Validator(api.spec, nulls).errors(body, schema)
            t.ok(not errs, "%s: body matches %s schema" % (label, op["operationId"]),
                 "\n".join(errs))
            return body

        def required_enforced(method, path, base):
            """The spec's required parameters are base's; leaving out each one is 400 60200."""
            op = verify.op(method, path)
            body = op["requestBody"]["content"]["application/x-www-form-urlencoded"]["schema"]
            req = body.get("required", [])
            t.ok(set(req) == set(base), "%s requires %s per spec" % (op["operationId"], req))
            for name in req:
                form = {k: v for k, v in base.items() if k != name}
                st, b, _ = s.request(method, path, form)
                t.ok(st == 400 and b["code"] == 60200,
                     "%s without %s -> 400 60200" % (op["operationId"], name), (st, b))
            return op, body

        num = "+14155550123"
        p = s.svc_path
        v = conform("start sms", "POST", p("/Verifications"), s.start(num), 201)
        conform("resend call", "POST", p("/Verifications"), s.start(num, "call"), 201)
        conform("fetch", "GET", p("/Verifications/" + v["sid"]), s.fetch(v["sid"]), 200)
        code = s.last_code(num)
        conform("check wrong", "POST", p("/VerificationCheck"), s.check(num, "000000"
                if code != "000000" else "111111"), 200)
        conform("check right", "POST", p("/VerificationCheck"), s.check(num, code), 200)
        v = conform("start again", "POST", p("/Verifications"), s.start(num, "whatsapp"), 201)
        conform("cancel", "POST", p("/Verifications/" + v["sid"]), s.update(v["sid"], "canceled"),
                200)
        s.start(num)
        conform("approve by To", "POST", p("/Verifications/" + num), s.update(num, "approved"),
                200)
        s.ctl("POST", "service", {"email_enabled": True})
        conform("start email", "POST", p("/Verifications"), s.start("a@example.com", "email"),
                201)
        conform("service", "GET", p(), s.service(), 200)
        rl = conform("rate limit create", "POST", p("/RateLimits"),
                     s.request("POST", p("/RateLimits"), {"UniqueName": "spec_rl"}), 201)
        if rl is not None:
            conform("rate limit list", "GET", p("/RateLimits"),
                    s.request("GET", p("/RateLimits")), 200)
            conform("rate limit fetch", "GET", p("/RateLimits/" + rl["sid"]),
                    s.request("GET", p("/RateLimits/" + rl["sid"])), 200)
            bp = p("/RateLimits/%s/Buckets" % rl["sid"])
            conform("bucket create", "POST", bp,
                    s.request("POST", bp, {"Max": "3", "Interval": "600"}), 201)
            conform("bucket list", "GET", bp, s.request("GET", bp), 200)
            conform("start with RateLimits", "POST", p("/Verifications"),
                    s.start(num, extra={"RateLimits": json.dumps({"spec_rl": "k1"})}), 201)
        # Verify TOTP: every call twofa makes, and the Service update of the Totp settings.
        ident = "tf" + "ab" * 16
        conform("service update Totp.*", "POST", p(), s.request("POST", p(), {
            "Totp.Issuer": "twofa", "Totp.TimeStep": "30", "Totp.CodeLength": "6",
            "Totp.Skew": "1"}), 200)
        ep = "/Entities/" + ident
        f = conform("factor create", "POST", p(ep + "/Factors"), s.factor_create(ident), 201)
        if f is not None:
            fp = ep + "/Factors/" + f["sid"]
            conform("factor fetch", "GET", p(fp), s.request("GET", p(fp)), 200)
            conform("factor verify wrong", "POST", p(fp),
                    s.factor_verify(ident, f["sid"], "%06d" % (
                        (int(s.totp_code(f["sid"])) + 1) % 10 ** 6)), 200)
            conform("factor verify", "POST", p(fp),
                    s.factor_verify(ident, f["sid"], s.totp_code(f["sid"])), 200)
            c = conform("challenge", "POST", p(ep + "/Challenges"),
                        s.challenge(ident, f["sid"], s.totp_code(f["sid"])), 201)
            conform("challenge wrong", "POST", p(ep + "/Challenges"),
                    s.challenge(ident, f["sid"], "%06d" % (
                        (int(s.totp_code(f["sid"])) + 1) % 10 ** 6)), 201)
            if c is not None:
                conform("challenge fetch", "GET", p(ep + "/Challenges/" + c["sid"]),
                        s.request("GET", p(ep + "/Challenges/" + c["sid"])), 200)
            conform("factor list", "GET", p(ep + "/Factors"),
                    s.request("GET", p(ep + "/Factors?PageSize=1")), 200)
            conform("entity list", "GET", p("/Entities"),
                    s.request("GET", p("/Entities?PageSize=1000")), 200)
            conform("entity fetch", "GET", p(ep), s.request("GET", p(ep)), 200)
            conform("factor delete", "DELETE", p(fp), s.request("DELETE", p(fp)), 204)
            conform("entity delete", "DELETE", p(ep), s.request("DELETE", p(ep)), 204)
        for method, path, base in (("POST", p(ep + "/Factors"),
                                    {"FriendlyName": "x", "FactorType": "totp"}),
                                   ("POST", p(ep + "/Challenges"),
                                    {"FactorSid": "YF" + "0" * 32})):
            required_enforced(method, path, base)
        op = verify.op("POST", p(ep + "/Factors"))
        fprops = op["requestBody"]["content"]["application/x-www-form-urlencoded"]["schema"][
            "properties"]
        t.ok("totp" in verify.v.resolve(fprops["FactorType"])["enum"] and
             set(verify.v.resolve(fprops["Config.Alg"])["enum"]) == {"sha1", "sha256", "sha512"}
             and {"Binding.Secret", "Config.TimeStep", "Config.Skew", "Config.CodeLength"} <=
             set(fprops), "factor parameters the simulator reads exist in the spec")
        st, b, _ = s.request("POST", p(ep + "/Factors"), {"FriendlyName": "x",
                                                          "FactorType": "sms"})
        t.ok(st == 400, "FactorType outside the enum is refused", (st, b))
        cprops = verify.op("POST", p(ep + "/Challenges"))["requestBody"]["content"][
            "application/x-www-form-urlencoded"]["schema"]["properties"]
        st, b, _ = s.request("POST", p(ep + "/Challenges"), {"FactorSid": "YF123"})
        t.ok(st == 400 and re.match(cprops["FactorSid"]["pattern"], "YF123") is None,
             "FactorSid outside the spec's pattern is refused", (st, b))
        uprops = verify.op("POST", p())["requestBody"]["content"][
            "application/x-www-form-urlencoded"]["schema"]["properties"]
        t.ok({"Totp.Issuer", "Totp.TimeStep", "Totp.CodeLength", "Totp.Skew"} <= set(uprops) and
             "AuthPayload" in cprops, "Totp.* and AuthPayload exist in the spec")

        for n, q in (("+14159929960", None), ("+141599299600", None), ("+1415", None),
                     ("07911 123456", {"CountryCode": "GB"}),
                     ("+14159929960", {"Fields": "line_type_intelligence"})):
            path = "/v2/PhoneNumbers/" + urllib.parse.quote(n, safe="")
            conform("lookup %s" % n, "GET", path, s.lookup(n, q), 200)

        # error bodies follow the spec's error schema
        for label, res in (("401", s.service(auth=None)),
                           ("404 service", s.service(va="VA" + "0" * 32)),
                           ("60200", s.start("123")),
                           ("60203", (s.ctl("POST", "service", {"send_limit": 1}),
                                      s.start("+14155550126"), s.start("+14155550126"))[-1]),
                           ("60221", s.request("POST", p("/VerificationCheck"), {"Code": "1234"})),
                           ("404 check", s.check("+14155550999", "123456"))):
            st, body, _ = res
            if t.ok(st >= 400, "error %s is an error (%d)" % (label, st)):
                errs = Validator(verify.spec).errors(body, error_schema)
                t.ok(not errs and body["status"] == st,
                     "error %s body matches the spec's error schema" % label, "\n".join(errs))

        # required request params, enums and path patterns from the spec are enforced
        for method, path, base in (("POST", p("/Verifications"),
                                    {"To": "+14155550124", "Channel": "sms"}),
                                   ("POST", p("/Verifications/+14155550124"),
                                    {"Status": "canceled"})):
            op, body = required_enforced(method, path, base)
            for name, prop in body["properties"].items():
                enum = verify.v.resolve(prop).get("enum")
                if name in base and enum:
                    form = dict(base, **{name: "pending"})
                    st, b, _ = s.request(method, path, form)
                    t.ok("pending" not in enum and st == 400,
                         "%s %s outside enum %s -> 400" % (op["operationId"], name, enum))
                    for good in enum:
                        s.start("+14155550124")
                        st, b, _ = s.request(method, path, dict(base, **{name: good}))
                        t.ok(st == 200 and b["status"] == good,
                             "%s %s=%s accepted" % (op["operationId"], name, good), (st, b))
        op = verify.op("GET", p())
        pat = [x for x in op["parameters"] if x["name"] == "Sid"][0]["schema"]["pattern"]
        t.ok(re.match(pat, s.va) is not None, "our service SID matches the spec pattern %s" % pat)
        op = verify.op("POST", p("/VerificationCheck"))
        props = op["requestBody"]["content"]["application/x-www-form-urlencoded"]["schema"][
            "properties"]
        vpat = props["VerificationSid"]["pattern"]
        st, v, _ = s.start("+14155550125")
        t.ok(re.match(vpat, v["sid"]) is not None, "our VE sid matches VerificationSid pattern")
        st, b, _ = s.request("POST", p("/VerificationCheck"),
                             {"VerificationSid": "VE123", "Code": "123456"})
        t.ok(st == 404 or st == 400, "VerificationSid outside the pattern is refused", (st, b))
        create_props = verify.op("POST", p("/Verifications"))["requestBody"]["content"][
            "application/x-www-form-urlencoded"]["schema"]["properties"]
        t.ok({"To", "Channel", "Locale"} <= set(create_props) and
             {"To", "Code", "VerificationSid"} <= set(props),
             "parameter names the simulator reads exist in the spec")
    finally:
        s.stop()
    return t.done()


if __name__ == "__main__":
    sys.exit(main())
