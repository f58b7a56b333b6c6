# SPDX-License-Identifier: GPL-3.0-or-later
"""The Twilio simulator (tests/sim) for Python tests: start/stop it with simctl (stopped at
exit, even on failure), call the API, and the /_sim/ controls (outbox, faults, clock,
numbers, service settings).

    sim = Sim()                  # or Sim("--http"), any simctl start arguments
    sim.start("+14155550123")    # POST /Verifications -> (status, JSON, headers)
    sim.last_code("+14155550123")
"""

import atexit
import base64
import http.client
import json
import os
import shutil
import ssl
import subprocess
import sys
import tempfile
import urllib.parse

from harness.paths import PYTHON, SRCDIR

SIMCTL = os.path.join(SRCDIR, "tests", "sim", "simctl")


class Sim:
    """A running simulator in its own temporary directory."""

    def __init__(self, *args):
        self.dir = tempfile.mkdtemp(prefix="twofa-sim-")
        self.http = "--http" in args
        r = subprocess.run([PYTHON, SIMCTL, "start", self.dir] + list(args),
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        if r.returncode != 0:
            raise RuntimeError("simctl start failed: %s" % r.stderr.decode(errors="replace"))
        self.running = True
        atexit.register(self.stop)
        with open(os.path.join(self.dir, "credentials.json")) as f:
            self.creds = json.load(f)
        self.url = self.read("url")
        self.port = int(self.read("port"))
        self.pid = int(self.read("pid"))
        self.va = self.creds["verify_service_sid"]
        self.ca = os.path.join(self.dir, "ca.pem")
        self.ctx = None if self.http else ssl.create_default_context(cafile=self.ca)

    def read(self, name):
        with open(os.path.join(self.dir, name)) as f:
            return f.read().strip()

    def stop(self):
        if not self.running:
            return
        self.running = False
        subprocess.run([PYTHON, SIMCTL, "stop", self.dir], stdout=subprocess.DEVNULL)
        if os.environ.get("TWOFA_KEEP_SIM_DIR"):
            sys.stderr.write("sim dir kept: %s\n" % self.dir)
        else:
            shutil.rmtree(self.dir, ignore_errors=True)

    # -- connections ---------------------------------------------------------------------
    def connection(self, timeout=10, url=None):
        u = urllib.parse.urlsplit(url or self.url)
        if u.scheme == "http":
            return http.client.HTTPConnection(u.hostname, u.port, timeout=timeout)
        return http.client.HTTPSConnection(u.hostname, u.port, timeout=timeout, context=self.ctx)

    def auth_header(self, auth):
        if auth is None:
            return None
        if auth == "account":
            auth = (self.creds["account_sid"], self.creds["auth_token"])
        elif auth == "apikey":
            auth = (self.creds["api_key_sid"], self.creds["api_key_secret"])
        return "Basic " + base64.b64encode(("%s:%s" % auth).encode()).decode()

    def request(self, method, path, form=None, auth="account", conn=None, headers=None,
                body=None, timeout=10):
        """-> (status, parsed JSON or raw bytes, response headers). form: dict, urlencoded."""
        own = conn is None
        if own:
            conn = self.connection(timeout)
        h = {"Accept": "application/json"}
        a = self.auth_header(auth)
        if a:
            h["Authorization"] = a
        if form is not None:
            body = urllib.parse.urlencode(form).encode()
            h["Content-Type"] = "application/x-www-form-urlencoded"
        h.update(headers or {})
        try:
            conn.request(method, path, body=body, headers=h)
            r = conn.getresponse()
            data = r.read()
            try:
                parsed = json.loads(data) if data else data
            except ValueError:
                parsed = data
            return r.status, parsed, dict(r.getheaders())
        finally:
            if own:
                conn.close()

    # -- Twilio operations ---------------------------------------------------------------
    def svc_path(self, rest="", va=None):
        return "/v2/Services/%s%s" % (va or self.va, rest)

    def start(self, to, channel="sms", **kw):
        form = {"To": to, "Channel": channel}
        form.update(kw.pop("extra", {}))
        return self.request("POST", self.svc_path("/Verifications"), form, **kw)

    def check(self, to, code, **kw):
        return self.request("POST", self.svc_path("/VerificationCheck"),
                            {"To": to, "Code": code}, **kw)

    def fetch(self, key, **kw):
        return self.request("GET", self.svc_path("/Verifications/" +
                                                 urllib.parse.quote(key, safe="")), **kw)

    def update(self, key, status, **kw):
        return self.request("POST", self.svc_path("/Verifications/" +
                                                  urllib.parse.quote(key, safe="")),
                            {"Status": status}, **kw)

    def service(self, va=None, **kw):
        return self.request("GET", self.svc_path(va=va), **kw)

    def lookup(self, number, query=None, **kw):
        p = "/v2/PhoneNumbers/" + urllib.parse.quote(number, safe="")
        if query:
            p += "?" + urllib.parse.urlencode(query)
        return self.request("GET", p, **kw)

    # -- Verify TOTP (Entities, Factors, Challenges) --------------------------------------
    def entity_path(self, identity, rest=""):
        return self.svc_path("/Entities/%s%s" % (urllib.parse.quote(identity, safe=""), rest))

    def factor_create(self, identity, name="twofa", extra=None, **kw):
        form = {"FriendlyName": name, "FactorType": "totp"}
        form.update(extra or {})
        return self.request("POST", self.entity_path(identity, "/Factors"), form, **kw)

    def factor_verify(self, identity, factor_sid, code, **kw):
        return self.request("POST", self.entity_path(identity, "/Factors/" + factor_sid),
                            {"AuthPayload": code}, **kw)

    def challenge(self, identity, factor_sid, code, **kw):
        return self.request("POST", self.entity_path(identity, "/Challenges"),
                            {"FactorSid": factor_sid, "AuthPayload": code}, **kw)

    def totp_code(self, factor_sid, step_offset=0):
        """The code an authenticator app shows for the factor at the simulator's clock."""
        q = urllib.parse.urlencode({"factor": factor_sid, "step_offset": step_offset})
        return self.ctl("GET", "totp?" + q)["code"]

    # -- test controls -------------------------------------------------------------------
    def ctl(self, method, path, obj=None):
        body = json.dumps(obj).encode() if obj is not None else None
        st, data, _ = self.request(method, "/_sim/" + path, auth=None, body=body,
                                   headers={"Content-Type": "application/json"} if body else None)
        if st != 200:
            raise RuntimeError("/_sim/%s -> %d %r" % (path, st, data))
        return data

    def outbox(self, to=None):
        return self.ctl("GET", "outbox" + ("?to=" + urllib.parse.quote(to) if to else ""))

    def last_code(self, to):
        box = self.outbox(to)
        return box[-1]["code"] if box else None

    def code_answer(self, to):
        """A run_pam answer callable that reads the newest code for `to` from the outbox at
        the moment the prompt appears (None, i.e. a NULL resp, if nothing was sent)."""
        return lambda kind, text, run: self.last_code(to)

    def wrong_code_answer(self, to):
        """A run_pam answer callable: a well-formed code that differs from the newest one
        sent to `to` (from 000000 when nothing was sent)."""
        def answer(kind, text, run):
            code = self.last_code(to) or "000000"
            return "%06d" % ((int(code) + 1) % 10 ** len(code))
        return answer

    def codes(self, to=None):
        return [e["code"] for e in self.outbox(to)]

    def sends(self, to=None):
        return len(self.outbox(to))

    def reset(self):
        return self.ctl("POST", "reset")

    def fragment(self):
        """The twofa.conf lines simctl wrote for this simulator (credentials, URLs, CA)."""
        with open(os.path.join(self.dir, "twofa.conf")) as f:
            return f.read()

    def fault(self, op, fault, number=None, delay=None, count=1):
        spec = {"op": op, "fault": fault, "count": count}
        if number is not None:
            spec["number"] = number
        if delay is not None:
            spec["delay"] = delay
        return self.ctl("POST", "faults", spec)

    def clear_faults(self):
        return self.ctl("DELETE", "faults")

    def clock(self):
        return self.ctl("GET", "clock")["now"]

    def advance(self, seconds):
        return self.ctl("POST", "clock", {"advance": seconds})["now"]

    def set_clock(self, epoch):
        return self.ctl("POST", "clock", {"set": epoch})["now"]

    def stats(self):
        return self.ctl("GET", "stats")

    def requests(self):
        return self.ctl("GET", "requests")

    def number_kind(self, number, kind):
        return self.ctl("POST", "numbers", {"number": number, "kind": kind})

    def set_service(self, **settings):
        return self.ctl("POST", "service", settings)
