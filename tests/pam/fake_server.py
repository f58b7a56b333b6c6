#!/usr/bin/python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""A misbehaving stand-in for twofa-server, for tests/pam/test_pam_transport.py. The module
execs it like the real one (the socket on fd 3, an empty environment); what it does is
named by the file name of its copy: garbage, version, badcode, bigframe, exit, hang,
silent-success (a done with PAM_SUCCESS and nothing asked: the module may return it, the
test shows the module adds no success of its own)."""

import json
import os
import socket
import struct
import sys
import time

mode = os.path.basename(sys.argv[0])
sock = socket.socket(fileno=3)


def frame(raw):
    sock.sendall(struct.pack(">I", len(raw)) + raw)


def read_frame():
    head = b""
    while len(head) < 4:
        chunk = sock.recv(4 - len(head))
        if not chunk:
            sys.exit(1)
        head += chunk
    n = struct.unpack(">I", head)[0]
    body = b""
    while len(body) < n:
        chunk = sock.recv(n - len(body))
        if not chunk:
            sys.exit(1)
        body += chunk
    return json.loads(body)


if mode == "exit":
    sys.exit(3)
hello = read_frame()
if mode == "garbage":
    frame(b"this is not json")
elif mode == "version":
    frame(json.dumps({"v": 99, "t": "done", "code": 0}).encode())
elif mode == "badcode":
    frame(json.dumps({"v": 1, "t": "done", "code": 999}).encode())
elif mode == "bigframe":
    sock.sendall(struct.pack(">I", 1 << 30))
elif mode == "hang":
    time.sleep(3600)
elif mode == "silent-success":
    frame(json.dumps({"v": 1, "t": "done", "code": 0}).encode())
time.sleep(0.5)  # let the module read before the socket closes
