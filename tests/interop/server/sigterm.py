#!/usr/bin/python3
"""SIGTERM with sessions open: each gets 421 (RFC 5321 3.8), a message in
progress is dropped (nothing in tmp/ or new/), and the server exits 0."""
import os, signal, socket, sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from srvlib import Server, check


def reply(f):
    lines = []
    while True:
        line = f.readline()
        lines.append(line)
        if line[3:4] != b"-":
            return lines


exe = sys.argv[1]
srv = Server(exe)
try:
    idle = socket.create_connection(("127.0.0.1", srv.port), 10)
    fi = idle.makefile("rb")
    check(reply(fi)[0].startswith(b"220 mx.test.example"), "greeting")
    idle.sendall(b"EHLO idle.test.example\r\n")
    reply(fi)
    busy = socket.create_connection(("127.0.0.1", srv.port), 10)
    fb = busy.makefile("rb")
    reply(fb)
    busy.sendall(b"HELO busy.test.example\r\nMAIL FROM:<a@x.example>\r\n"
                 b"RCPT TO:<b@y.example>\r\nDATA\r\n")
    for code in (b"250", b"250", b"250", b"354"):
        r = reply(fb)
        check(r[-1][:3] == code, f"want {code}: {r}")
    busy.sendall(b"Subject: half\r\n\r\npart of a body\r\n")
    rc = srv.stop(signal.SIGTERM)
    check(rc == 0, f"exit status {rc}")
    r = reply(fi)
    check(r == [b"421 4.3.2 mx.test.example Service not available, closing transmission "
                b"channel\r\n"], f"idle session got {r}")
    check(fi.readline() == b"", "idle session closed after 421")
    r = reply(fb)
    check(r == [b"421 mx.test.example Service not available, closing transmission channel\r\n"],
          f"busy session got {r}")
    check(srv.files("new") == [] and srv.files("tmp") == [], "nothing stored")
    idle.close()
    busy.close()
    print("ok: 421 to both sessions, exit 0")
finally:
    srv.close()
