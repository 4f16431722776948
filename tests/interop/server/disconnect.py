#!/usr/bin/python3
"""A client that vanishes mid-DATA leaves nothing behind: no file in tmp/
or new/, and the server goes on serving (RFC 5321 3.8: a message is only
ours once the final reply was sent)."""
import os, socket, sys, time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from srvlib import Server, check


def expect(f, code):
    while True:
        line = f.readline()
        check(line[:3] == code, f"want {code}, got {line!r}")
        if line[3:4] != b"-":
            return


exe = sys.argv[1]
srv = Server(exe)
try:
    for how in ("close", "reset", "half-line"):
        s = socket.create_connection(("127.0.0.1", srv.port), 10)
        f = s.makefile("rb")
        expect(f, b"220")
        s.sendall(b"EHLO cut.test.example\r\n")
        expect(f, b"250")
        s.sendall(b"MAIL FROM:<a@x.example>\r\nRCPT TO:<b@y.example>\r\nDATA\r\n")
        expect(f, b"250")
        expect(f, b"250")
        expect(f, b"354")
        s.sendall(b"Subject: cut\r\n\r\n" + b"x" * 100000 + b"\r\n")
        if how == "half-line":
            s.sendall(b"\r\n.")
        if how == "reset":
            s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
        f.close()
        s.close()
    # The server is still fine, and nothing of the three messages is left.
    s = socket.create_connection(("127.0.0.1", srv.port), 10)
    f = s.makefile("rb")
    expect(f, b"220")
    s.sendall(b"QUIT\r\n")
    expect(f, b"221")
    s.close()
    time.sleep(0.2)
    check(srv.files("new") == [], f"new/ is empty: {srv.files('new')}")
    check(srv.files("tmp") == [], f"tmp/ is empty: {srv.files('tmp')}")
    check(srv.stop() == 0, "exit status")
    print("ok: three cut sessions left nothing")
finally:
    srv.close()
