#!/usr/bin/python3
"""A command pipelined behind the final dot (RFC 2920 3.1 allows it: the
client may send the next command without waiting for the 250) arrives in the
same segment as the end of the message.  smtpwire-server defers that 250 for
its group commit, so the adapter keeps the rest (a pool slot when it fits,
the heap when it is larger than a slot) and hands the EHLO out after the
verdict.  The event pointing into that rest must still be intact when the
server copies the EHLO name: the adapter once gave the memory back first,
and the next message was stored with "Received: from  ([127.0.0.1])"
(RFC 5321 4.4: the FROM clause carries the EHLO name) or the server read
freed memory."""
import os, sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from srvlib import SKIP, Conn, Server, check, split_stored

NAME = b"abcdefghijkl.example"


def one_session(srv, pad):
    """Two messages; the EHLO (behind pad NOOPs) rides with the first one's
    final dot.  Returns the stored second message's trace fields."""
    c = Conn(srv.port)
    try:
        check(c.code() == b"220", "greeting")
        c.send(b"EHLO first.example\r\nMAIL FROM:<a@x.example>\r\nRCPT TO:<b@y.example>\r\n"
               b"DATA\r\n")
        c.reply()
        check(c.codes(3) == [b"250", b"250", b"354"], "first envelope")
        # One write: the end of the message and what comes after it.
        c.send(b"Subject: one\r\n\r\nfirst\r\n.\r\n" + b"NOOP\r\n" * pad +
               b"EHLO " + NAME + b"\r\n")
        check(c.code() == b"250", "first message accepted")
        check(c.codes(pad) == [b"250"] * pad, "NOOPs")
        ehlo = c.reply()
        check(ehlo[-1][:3] == b"250", f"EHLO after the dot: {ehlo!r}")
        # A moment later, the second message (RFC 5321 4.1.1.1: EHLO reset
        # the transaction state; the name is the one just given).
        c.send(b"MAIL FROM:<c@x.example>\r\nRCPT TO:<d@y.example>\r\nDATA\r\n")
        check(c.codes(3) == [b"250", b"250", b"354"], "second envelope")
        c.send(b"Subject: two\r\n\r\nsecond\r\n.\r\n")
        check(c.code() == b"250", "second message accepted")
        c.send(b"QUIT\r\n")
        check(c.code() == b"221", "QUIT")
    finally:
        c.close()
    files = srv.wait_files(2, 10)
    check(len(files) == 2, f"pad {pad}: {len(files)} messages stored")
    seconds = []
    for f in files:
        info, body = split_stored(f)
        if body.startswith(b"Subject: two"):
            seconds.append(info)
        else:
            check(info["helo"] == b"first.example", f"pad {pad}: first message {info}")
        os.unlink(f)
    check(len(seconds) == 1, f"pad {pad}: second message not found")
    return seconds[0]


def main():
    exe = sys.argv[1] if len(sys.argv) > 1 else ""
    if not os.access(exe, os.X_OK):
        if os.environ.get("SMTPW_REQUIRE_INTEROP") == "1":
            print(f"FAIL: smtpwire-server {exe!r} is required but missing")
            sys.exit(1)
        print(f"SKIP: smtpwire-server {exe!r} not built")
        sys.exit(SKIP)
    srv = Server(exe)
    try:
        # 0: the rest (27 octets) fits a 512-octet pool slot; 90: 567
        # octets, kept on the heap.
        for pad in (0, 90):
            info = one_session(srv, pad)
            check(info["helo"] == NAME,
                  f"pad {pad}: second message Received: from {info['helo']!r}, want {NAME!r}")
        check(srv.proc.poll() is None, "server still running")
        check(srv.stop() == 0, "exit status")
    finally:
        err = srv.close()
    check("AddressSanitizer" not in err, f"server stderr: {err}")
    print("ok: EHLO behind the final dot names the next message (slot and heap rest)")


main()
