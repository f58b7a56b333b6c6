# SPDX-License-Identifier: GPL-3.0-or-later
"""An SSH_ASKPASS / SUDO_ASKPASS program for the e2e tests.

    askpass.py PLAN.json PROMPT

Prints the answer to PROMPT on stdout. The plan (written by harness.e2e.Askpass) says the
password, how to answer the code prompt ("right": the newest code the simulator sent to
`to`, read from GET /_sim/outbox when the prompt appears; "wrong": that code with its last
digit changed; "none": exit 1, the way a user cancels), optional answers by a word of the
prompt ([word, answer] pairs, tried first; answer null: exit 1) and where to append the
prompt (one JSON line per call) so the test can assert what was asked.
"""

import json
import ssl
import sys
import urllib.parse
import urllib.request


def newest_code(plan):
    url = "%s/_sim/outbox?to=%s" % (plan["url"], urllib.parse.quote(plan["to"]))
    ctx = ssl.create_default_context(cafile=plan["ca"]) if url.startswith("https") else None
    with urllib.request.urlopen(url, context=ctx, timeout=10) as r:
        outbox = json.load(r)
    return outbox[-1]["code"] if outbox else None


def main():
    plan_path, prompt = sys.argv[1], sys.argv[2] if len(sys.argv) > 2 else ""
    with open(plan_path) as f:
        plan = json.load(f)
    with open(plan["transcript"], "a") as f:
        f.write(json.dumps({"prompt": prompt}) + "\n")
    lower = prompt.lower()
    # Answers by a word of the prompt, tried first (the enrolment's prompts).
    for word, given in plan.get("answers") or ():
        if word.lower() in lower:
            if given is None:
                return 1
            sys.stdout.write(given + "\n")
            return 0
    if "password" in lower and plan["password"] is not None:
        answer = plan["password"]
    elif "code" in lower and plan["code"] in ("right", "wrong"):
        code = newest_code(plan)
        if code is None:
            return 1
        if plan["code"] == "wrong":
            code = code[:-1] + str((int(code[-1]) + 1) % 10)
        answer = code
    else:
        return 1
    sys.stdout.write(answer + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
