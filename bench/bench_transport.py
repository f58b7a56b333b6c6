# SPDX-License-Identifier: GPL-3.0-or-later
"""What the module's transports cost per PAM call and per login, beside pam_unix alone and
a pam_permit stack (the floor: the driver's own process, libpam, the harness). Each
authentication is one run of the real libpam driver (tests/pam/pam_driver, harness.pam)
against the Twilio simulator, as a local user with a Unix password who is also enrolled:

    permit            auth required pam_permit.so
    permit+per-call   auth requisite pam_permit.so; auth required pam_twofa.so
                      password=none daemon=no (the module starts twofa-server per call)
    permit+twofad     the same with daemon=yes socket=... (one twofad, harness.daemon,
                      which keeps its connection to the simulator open between logins)
    unix              auth required pam_unix.so
    unix+per-call     auth requisite pam_unix.so; the per-call pam_twofa.so line
    unix+twofad       auth requisite pam_unix.so; the twofad one

and the same stacks for the account call alone (pam_acct_mgmt: no network, so the
difference is the transport itself, with the server's config and store reads). The
per-call auth includes the server's two requests to the simulator (send, check) and its
TLS handshake. One JSON object per line on stdout:

    {"bench":"transport_call","stack":...,"op":"auth"|"acct","calls":N,"median_ms":...,
     "p90_ms":...}
    {"bench":"transport_overhead","transport":"per-call"|"twofad","auth_over_floor_ms":...,
     "acct_over_floor_ms":... (per-call only),"unix_auth_over_floor_ms":...}
                                                                 (differences of medians)
    {"bench":"transport_network","stack":...,"logins":N,"requests_per_login":...,
     "new_connections_per_login":...,"tls_handshakes_per_login":...,"connections_used":N}

A module that cannot log in through twofad (no daemon transport in its client yet) gives
{"bench":"transport_skipped","transport":"twofad","reason":...} and the twofad stacks are
left out.

Wall time is from the start of the driver to its exit, minus the time the answering side
spent (reading the code from the simulator's outbox: the user, not the module); the
stacks take turns, one call each. The new TCP connections per login are the connections
accepted by the simulator during the logins and TLS handshakes likewise (its counters,
less the harness's own outbox connections); connections_used is how many distinct ones
carried the module's requests (a warm one opened earlier counts there, not as new).

    bench_transport.py [--quick] [--count N]      (N at most 24: send_limit)
"""

import argparse
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from bench import PASSWORD, LocalUser, emit, log, percentile  # noqa: E402
from harness.daemon import TWOFAD, Twofad  # noqa: E402
from harness.pam import DRIVER, MKMEMBER, Env, SyslogCapture, module_path, run_pam  # noqa: E402
from harness.sim import Sim  # noqa: E402

PHONE = "+14155550177"
# The twofad probe and the network part log in another member (pam_permit first: it need
# not be a local user), so that neither meets send_limit (100 codes a minute per member;
# the timed part sends 4 a round).
NET_MEMBER, NET_PHONE = "twofa-bench-net", "+14155550178"
MAX_COUNT = 24


class Answers:
    """The conversation: the password, then the newest code from the outbox. Counts the
    seconds spent answering and the outbox connections made."""

    def __init__(self, sim, phone=PHONE):
        self.sim, self.phone, self.seconds, self.outbox_reads = sim, phone, 0.0, 0

    def __call__(self, kind, text, run):
        t0 = time.monotonic()
        try:
            if kind == "PROMPT_ECHO_OFF":
                return PASSWORD
            self.outbox_reads += 1
            return self.sim.last_code(self.phone)
        finally:
            self.seconds += time.monotonic() - t0


def timed_call(env, sim, service, user, op, phone=PHONE):
    """One run of the driver doing op; its cost in ms (wall time less the answering
    side's)."""
    answers = Answers(sim, phone)
    t0 = time.monotonic()
    run = run_pam(env, service, user, [op], answers=answers)
    wall = time.monotonic() - t0
    if run.codes() != ["PAM_SUCCESS"]:
        raise RuntimeError("%s %s: %s" % (service, op, run.describe()))
    return (wall - answers.seconds) * 1e3


def twofad_unusable(env, sim):
    """Why the module cannot log in through twofad (its decision line), or None."""
    cap = SyslogCapture(env)
    try:
        run = run_pam(env, "permit+twofad", NET_MEMBER, ["auth"],
                      answers=Answers(sim, NET_PHONE), syslog=cap)
        if run.codes() == ["PAM_SUCCESS"]:
            return None
        time.sleep(0.3)
        lines = [t.split("reason=", 1)[1] for t in cap.texts() if "reason=" in t]
        return "daemon=yes: %s (%s)" % (run.codes(), lines[-1] if lines else "no decision line")
    finally:
        cap.close()


def network(env, sim, service, count):
    """Requests, new TCP connections and TLS handshakes per login of service."""
    sim.reset()
    before = sim.stats()
    answers = Answers(sim, NET_PHONE)
    for _ in range(count):
        run = run_pam(env, service, NET_MEMBER, ["auth"], answers=answers)
        if run.codes() != ["PAM_SUCCESS"]:
            raise RuntimeError("%s: %s" % (service, run.describe()))
    api = sim.requests()
    after = sim.stats()
    # The harness's own: one connection per outbox read, requests() and the last stats().
    ours = answers.outbox_reads + 2
    return {"bench": "transport_network", "stack": service, "logins": count,
            "requests_per_login": round(len(api) / count, 2),
            "new_connections_per_login": round(
                (after["connections"] - before["connections"] - ours) / count, 2),
            "tls_handshakes_per_login": round(
                (after["tls_handshakes"] - before["tls_handshakes"] - ours) / count, 2),
            "connections_used": len({r["connection_id"] for r in api})}


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--quick", action="store_true", help="5 calls per case: proves it runs")
    ap.add_argument("--count", type=int, help="calls per stack and op (default 15; quick 5; "
                    "at most %d)" % MAX_COUNT)
    a = ap.parse_args()
    count = a.count or (5 if a.quick else 15)
    if not 1 <= count <= MAX_COUNT:
        sys.exit("bench_transport: --count must be 1 to %d (send_limit)" % MAX_COUNT)
    for prog in (DRIVER, MKMEMBER):
        if not os.path.exists(prog):
            sys.exit("bench_transport: %s is not built" % prog)
    if module_path() is None:
        sys.exit("bench_transport: pam_twofa.so is not built")
    if not os.path.exists(TWOFAD):
        sys.exit("bench_transport: %s is not built" % TWOFAD)
    sim = Sim()
    env = Env(sim, config={"send_limit": "100", "send_window": "60", "lockout_failures": "0"},
              prefix="twofa-bench-")
    user = LocalUser()
    daemon = Twofad(env.config_path)
    try:
        env.add_member(user.name, "store-pw-unused", PHONE)
        env.add_member(NET_MEMBER, "store-pw-unused", NET_PHONE)
        daemon.start()
        stacks = {"permit": (["auth required pam_permit.so"],
                             ["account required pam_permit.so"]),
                  "unix": (["auth required pam_unix.so"], ["account required pam_unix.so"])}
        for transport, args in (("per-call", "daemon=no"),
                                ("twofad", "daemon=yes socket=" + daemon.socket)):
            auth = env.twofa_line("password=none " + args)
            acct = env.twofa_line(args, kind="account")
            for first in ("permit", "unix"):
                stacks["%s+%s" % (first, transport)] = (
                    ["auth requisite pam_%s.so" % first, auth],
                    ["account requisite pam_%s.so" % first, acct])
        for name, (auth, acct) in stacks.items():
            env.service(name, auth + acct)
        transports = ["per-call", "twofad"]
        why = twofad_unusable(env, sim)
        if why:
            emit({"bench": "transport_skipped", "transport": "twofad", "reason": why})
            transports.remove("twofad")
            for first in ("permit", "unix"):
                del stacks[first + "+twofad"]
        medians = {}
        for op in ("auth", "acct"):
            # Round robin, so that the neighbours' load on a shared machine falls on
            # every stack alike.
            log("transport: %d x %s, %s" % (count, op, ", ".join(stacks)))
            costs = {name: [] for name in stacks}
            for _ in range(count):
                for name in stacks:
                    costs[name].append(timed_call(env, sim, name, user.name, op))
            for name in stacks:
                medians[name, op] = percentile(costs[name], 50)
                emit({"bench": "transport_call", "stack": name, "op": op, "calls": count,
                      "median_ms": round(medians[name, op], 2),
                      "p90_ms": round(percentile(costs[name], 90), 2)})
        # Over the floor, without pam_unix's password hash in between (whose time on a
        # loaded machine varies more than the transport costs). twofad's account call
        # costs about what pam_permit's does: that difference is noise either side, so
        # only its medians (transport_call) say it.
        for transport in transports:
            obj = {"bench": "transport_overhead", "transport": transport, "calls": count,
                   "auth_over_floor_ms": round(medians["permit+" + transport, "auth"] -
                                               medians["permit", "auth"], 2),
                   "unix_auth_over_floor_ms": round(medians["unix", "auth"] -
                                                    medians["permit", "auth"], 2)}
            if transport == "per-call":
                obj["acct_over_floor_ms"] = round(medians["permit+per-call", "acct"] -
                                                  medians["permit", "acct"], 2)
            emit(obj)
        for transport in transports:
            log("transport: network, %d logins, %s" % (count, transport))
            emit(network(env, sim, "permit+" + transport, count))
    finally:
        daemon.stop()
        user.remove()
        env.cleanup()
        sim.stop()


if __name__ == "__main__":
    main()
