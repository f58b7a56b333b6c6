# SPDX-License-Identifier: GPL-3.0-or-later
"""TAP output for the Python tests: one `ok N - name` line per assertion, the plan at the
end.

    t = Tap()
    t.ok(cond, "name", diag)     # diag: printed as # lines when cond is false
    t.eq(got, want, "name")
    t.skip("name", "why")        # a check that cannot run here: `ok N - name # SKIP why`
    sys.exit(t.done())           # 1 when anything failed or nothing was tested
"""


class Tap:
    def __init__(self):
        self.n = 0
        self.failed = 0

    def ok(self, cond, name, diag=None):
        self.n += 1
        if not cond:
            self.failed += 1
        # A name is one line: a newline in it would end the TAP line early.
        print("%s %d - %s" % ("ok" if cond else "not ok", self.n, str(name).replace("\n", " ")),
              flush=True)
        if not cond and diag is not None:
            for line in str(diag).splitlines()[:40]:
                print("# " + line, flush=True)
        return cond

    def eq(self, got, want, name):
        return self.ok(got == want, name, "got:  %r\nwant: %r" % (got, want))

    def skip(self, name, why):
        """Counts name as skipped, saying why (TAP's # SKIP directive): for a check that
        does not apply here (e.g. to the other member-store backend), never to hide one
        that fails."""
        self.n += 1
        print("ok %d - %s # SKIP %s" % (self.n, str(name).replace("\n", " "), str(why).replace("\n", " ")),
              flush=True)
        return False

    def done(self):
        print("1..%d" % self.n, flush=True)
        return 1 if self.failed or self.n == 0 else 0
