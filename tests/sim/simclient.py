# SPDX-License-Identifier: GPL-3.0-or-later
"""Helpers for Python tests that use the Twilio simulator: start/stop it with simctl (stopped
at exit, even on failure), call the API and the /_sim/ controls, print TAP."""

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

HERE = os.path.dirname(os.path.abspath(__file__))
SIMCTL = os.path.join(HERE, "simctl")
PYTHON = "/usr/bin/python3" if os.path.exists("/usr/bin/python3") else sys.executable


class Tap:
    def __init__(self):
        self.n = 0
        self.failed = 0

    def ok(self, cond, name, diag=None):
        self.n += 1
        if not cond:
            self.failed += 1
        print("%s %d - %s" % ("ok" if cond else "not ok", self.n, name), flush=True)
        if not cond and diag is not None:
            for line in str(diag).splitlines()[:40]:
                print("# " + line, flush=True)
        return cond

    def eq(self, got, want, name):
        return self.ok(got == want, name, "got:  %r\nwant: %r" % (got, want))

    def done(self):
        print("1..%d" % self.n, flush=True)
        return 1 if self.failed else 0


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
