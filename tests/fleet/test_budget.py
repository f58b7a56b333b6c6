#!/usr/bin/python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""One directory budget per PAM call (issue 13 item 6: "a login never waits more than
ldap_timeout x 2 for the directory"), through the member store interface itself
(tests/fleet/store_budget: one handle, the store calls a PAM call makes):
  - every server silent: a LOGIN handle's first load spends the budget (about
    ldap_timeout x 2), and a second load on the same handle, the same PAM call, waits no
    more (it fails at once, TWOFA_EUNAVAIL), where each store call used to get a budget
    of its own (4 x ldap_timeout for two);
  - twofa_member_store_new_call (twofad's pool hands the handle to a new PAM call) gives
    a whole budget again;
  - time between two store calls (a prompt) spends none of it: a silent first server
    costs ldap_timeout, then after a pause longer than the budget the next load goes
    on through the kept connection;
  - an ADMIN handle (twofa-enroll: batches, imports) keeps a budget per store call: three
    loads against a silent ldap_write_uri each wait ldap_timeout.
The member cache is off (ldap_cache_max_age = 0): only the directory's time counts here.
If no slapd can run here the test FAILS (it does not skip)."""

import os
import subprocess
import sys

from harness import fleet, slapd
from harness.fleet import Host
from harness.paths import BUILDDIR
from harness.sim import Sim
from harness.slapd import SilentServer, Slapd
from harness.tap import Tap

STORE_BUDGET = os.path.join(BUILDDIR, "tests", "fleet", "store_budget")
TIMEOUT = 1  # ldap_timeout, seconds
MARGIN = 0.7  # seconds on top of a deadline: a loaded 2-core machine

t = Tap()
fleet.skip_under_valgrind()
slapd.require(t, twofa_code=True)
if not t.ok(os.path.exists(STORE_BUDGET), "store_budget is built", STORE_BUDGET):
    sys.exit(t.done())

sim = Sim()
directory = Slapd(tls=False)
directory.add_user("alice")
directory.add_member("alice", twofaPhone="+14155550123", twofaCountry="US")
mute = [SilentServer(), SilentServer()]
hosts = []


def host(uris, **keys):
    h = Host(sim, directory, uris=uris, timeout=TIMEOUT, config=dict(ldap_cache_max_age="0", **keys))
    hosts.append(h)
    return h


def run(h, role, *ops):
    """[(op, status, seconds)] of store_budget's lines."""
    r = subprocess.run([STORE_BUDGET, h.env.config_path, role, "alice"] + list(ops), stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE, text=True, timeout=60)
    lines = [line.split() for line in r.stdout.splitlines()]
    out = [(w[0], w[1], int(w[2]) / 1000.0) for w in lines if len(w) >= 3 and w[0] == "load"]
    return out, "rc %d\n%s%s" % (r.returncode, r.stdout, r.stderr)


# -- every server silent: two loads of one PAM call share one budget ---------------------
silent = host([m.uri for m in mute])
loads, why = run(silent, "login", "load", "load")
t.ok(len(loads) == 2 and all(s == "unavailable" for _, s, _ in loads),
     "every server silent: both loads fail closed with TWOFA_EUNAVAIL", why)
t.ok(len(loads) == 2 and loads[0][2] >= 2 * TIMEOUT - 0.1,
     "the first load waits the budget, ldap_timeout x 2 (%.2f s)" % (loads[0][2] if loads else -1), why)
t.ok(len(loads) == 2 and loads[1][2] <= 0.3,
     "the second load of the same PAM call waits no more: %.2f s (each call had its own budget: "
     "2 x ldap_timeout more)" % (loads[1][2] if len(loads) == 2 else -1), why)
t.ok(len(loads) == 2 and loads[0][2] + loads[1][2] <= 2 * TIMEOUT + MARGIN,
     "both together within ldap_timeout x 2 + %.1f s" % MARGIN, why)

silent.forget_dead_servers()
loads, why = run(silent, "login", "load", "new", "load")
t.ok(len(loads) == 2 and loads[1][1] == "unavailable" and loads[1][2] >= 2 * TIMEOUT - 0.1,
     "twofa_member_store_new_call: the next PAM call on the handle has a whole budget again (%.2f s)"
     % (loads[1][2] if len(loads) == 2 else -1), why)

# -- a prompt between two store calls spends none of it ---------------------------------
first_silent = host([mute[0].uri, directory.uri])
loads, why = run(first_silent, "login", "load", "sleep:%d" % (2500 * TIMEOUT), "load")
t.ok(len(loads) == 2 and loads[0][1] == "ok" and TIMEOUT - 0.1 <= loads[0][2] <= TIMEOUT + MARGIN,
     "a silent first server: the load goes on through the next after ldap_timeout (%.2f s)"
     % (loads[0][2] if loads else -1), why)
t.ok(len(loads) == 2 and loads[1][1] == "ok",
     "after a pause longer than the budget, the next load of the call still has its time left", why)

# -- ADMIN: a budget per store call ----------------------------------------------------------
admin = host([directory.uri], ldap_write_uri=mute[0].uri)
loads, why = run(admin, "admin", "load", "load", "load")
t.ok(len(loads) == 3 and all(s == "unavailable" and st >= TIMEOUT - 0.1 for _, s, st in loads),
     "an ADMIN handle on a silent ldap_write_uri: each of three loads waits ldap_timeout "
     "(%s s): a batch never runs out of budget" % ", ".join("%.2f" % st for _, _, st in loads), why)

for h in hosts:
    h.close()
for m in mute:
    m.close()
directory.close()
sys.exit(t.done())
