# SPDX-License-Identifier: GPL-3.0-or-later
"""The twofa demo's script: enrolment through twofa-enroll, then logins through
real libpam (tests/pam/pam_driver) with pam_twofa.so, against the Twilio Verify
simulator or, with TWOFA_DEMO_CONFIG, against real Twilio."""

import os
import queue
import subprocess
import sys
import threading
import time

from harness.paths import BUILDDIR
from harness.sim import Sim
from harness.pam import Env, run_pam

ENROLL = os.path.join(BUILDDIR, "cli", "twofa-enroll")
USER = "demo-alice"
PASSWORD = "correct horse battery staple"
REAL = os.environ.get("TWOFA_DEMO_CONFIG")


def say(text=""):
    print(text, flush=True)


def shell(cmd):
    say("$ " + " ".join(("'%s'" % a) if " " in a else a for a in cmd))


def run_cli(config, args, show=True, lines=None):
    cmd = [ENROLL, "--config", config] + args
    shell(["twofa-enroll"] + args)
    r = subprocess.run(cmd, text=True, capture_output=True)
    out = r.stdout.rstrip("\n")
    if show and out:
        say("\n".join(out.splitlines()[:lines] if lines else out.splitlines()))
    if r.stderr.strip():
        say(r.stderr.rstrip("\n"))
    return r


def code_from_phone(sim, phone):
    """What the phone would show: the simulator's outbox, or the person at the keyboard."""
    if sim is None:
        return input("  code received on your phone: ").strip()
    for _ in range(100):
        outbox = sim.outbox(phone)
        if outbox:
            entry = outbox[-1]
            say("  [the phone ending in %s gets an %s] Your verification code is: %s"
                % (phone[-4:], "SMS" if entry.get("channel", "sms") == "sms" else entry.get("channel").upper(), entry["code"]))
            return entry["code"]
        time.sleep(0.05)
    raise SystemExit("demo: no code arrived in the simulator's outbox")


def enrol(env, sim, phone, country):
    args = ["add", USER, "--phone", phone, "--country", country]
    shell(["twofa-enroll"] + args)
    p = subprocess.Popen([ENROLL, "--config", env.config_path] + args, stdin=subprocess.PIPE,
                         stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, bufsize=1)
    # The CLI's lines as they come, so the transcript keeps the order things happen in.
    lines = queue.Queue()

    def read_lines():
        for line in p.stdout:
            lines.put(line)
        lines.put(None)

    threading.Thread(target=read_lines, daemon=True).start()

    def show_until(sent):
        """Prints the CLI's lines until one says the code went out (sent) or it exits."""
        while True:
            try:
                line = lines.get(timeout=None if not sent else 30)
            except queue.Empty:
                return
            if line is None:
                return
            say("  " + line.rstrip("\n"))
            if sent and "sent" in line.lower():
                return

    # Not a terminal: the CLI reads password, repeat and code as lines.
    p.stdin.write(PASSWORD + "\n" + PASSWORD + "\n")
    p.stdin.flush()
    say("  (password typed twice)")
    show_until(sent=True)
    code = code_from_phone(sim, env_phone(phone, country))
    say("  code typed: %s" % code)
    p.stdin.write(code + "\n")
    p.stdin.close()
    show_until(sent=False)
    rc = p.wait()
    if rc != 0:
        raise SystemExit("demo: twofa-enroll add failed (exit %d)" % rc)


_E164 = {}


def env_phone(phone, country):
    if (phone, country) not in _E164:
        r = subprocess.run([ENROLL, "normalize", "--country", country, "--", phone],
                           text=True, capture_output=True, check=True)
        _E164[(phone, country)] = r.stdout.strip()
    return _E164[(phone, country)]


def login(env, sim, e164, wrong=False):
    shown = [0]

    def show_messages(run):
        # Info and error messages, in the order the module sent them.
        for kind, text in run.transcript[shown[0]:]:
            if kind in ("ERROR_MSG", "TEXT_INFO"):
                say("  [%s] %s" % (kind, text))
        shown[0] = len(run.transcript)

    def answer(kind, text, run):
        show_messages(run)
        if kind == "PROMPT_ECHO_OFF":
            say("  %s(password typed)" % text)
            return PASSWORD
        if "code" in text.lower():
            if wrong:
                code = "%06d" % ((int(sim.codes(e164)[-1]) + 1) % 1000000) if sim else "000000"
                say("  %s%s   (a wrong code)" % (text, code))
            else:
                code = code_from_phone(sim, e164)
                say("  %s%s" % (text, code))
            return code
        return None

    run = run_pam(env, "twofa-demo", USER, ["auth", "acct"], answers=answer,
                  rhost="192.0.2.10", stop_on_fail=True)
    show_messages(run)
    say("  -> pam_authenticate: %s%s" % (run.code("auth"), ", pam_acct_mgmt: %s" % run.code("acct")
                                          if run.code("acct") else ""))
    return run


def main():
    sim = None
    if REAL:
        phone = os.environ["TWOFA_DEMO_PHONE"]
        country = os.environ["TWOFA_DEMO_COUNTRY"]
        env = Env(None)
        with open(REAL) as f:
            env.write_config(raw=f.read() + "\nmembers_db = %s\nstate_db = %s\n"
                             % (env.members_db, env.state_db))
        say("== twofa demo against real Twilio (config %s) ==" % REAL)
    else:
        sim = Sim()
        phone, country = "(415) 555-2671", "US"
        env = Env(sim, config={"max_tries": "2"})
        say("== twofa demo: Twilio Verify simulator at %s ==" % sim.url)
    say("scratch folder: %s (removed at the end)" % env.dir)
    say()
    say("-- the country picker and the offline number check --")
    run_cli(env.config_path, ["countries"], lines=6)
    say("  ...")
    run_cli(env.config_path, ["normalize", "--country", "GB", "020 7946 0958"])
    run_cli(env.config_path, ["normalize", "--country", "FR", "+44 20 7946 0958"])
    say()
    say("-- registration: number + country -> code sent -> code typed -> member stored --")
    enrol(env, sim, phone, country)
    run_cli(env.config_path, ["show", USER])
    say()
    env.service("twofa-demo", ["auth required %s" % env.twofa_module_args(),
                               "account required %s" % env.twofa_module_args()])
    say("-- login through real libpam: service twofa-demo = pam_twofa.so --")
    ok = login(env, sim, env_phone(phone, country))
    say()
    say("-- the same login with a wrong code --")
    bad = login(env, sim, env_phone(phone, country), wrong=True)
    say()
    run_cli(env.config_path, ["list"])
    good = ok.code("auth") == "PAM_SUCCESS" and bad.code("auth") != "PAM_SUCCESS"
    say("demo %s" % ("done: the right code logged in, the wrong one was refused" if good
                     else "FAILED"))
    env.cleanup()
    if good:
        say("next: README, \"Build and install\", then \"Enrol a user\" and \"Using it in PAM stacks\"")
    return 0 if good else 1


if __name__ == "__main__":
    sys.exit(main())
