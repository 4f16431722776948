#!/usr/bin/python3
"""Out of file descriptors (EMFILE).  With the descriptor limit at 32:
- by default the server caps its sessions so that each can also hold a
  message file, and turns the rest away with 421 (RFC 5321 3.1);
- with --max-connections set past what the limit allows, accept() fails with
  EMFILE: the server must not spin on the still-readable listener (it stays
  near 0% CPU), keeps serving its sessions, answers 451 (never 250) to a
  message it cannot open a file for, and accepts again once descriptors
  are free."""
import os, resource, socket, sys, time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from srvlib import Conn, Server, check, cpu_ticks

LIMIT = 32
HZ = os.sysconf("SC_CLK_TCK")


def low_fd_limit():
    resource.setrlimit(resource.RLIMIT_NOFILE, (LIMIT, LIMIT))


def transaction(c, helo=b"c.test.example"):
    c.send(b"EHLO " + helo + b"\r\nMAIL FROM:<a@x.example>\r\nRCPT TO:<b@y.example>\r\nDATA\r\n")
    c.reply()
    check(c.codes(3) == [b"250", b"250", b"354"], "envelope")
    c.send(b"Subject: fd\r\n\r\nbody\r\n.\r\n")
    return c.reply()


exe = sys.argv[1]

# 1. Default: (32 - 16) / 2 = 8 sessions, the 9th and later get 421 at once.
srv = Server(exe, preexec_fn=low_fd_limit)
try:
    conns = [Conn(srv.port) for _ in range(8)]
    for c in conns:
        check(c.code() == b"220", "greeting within the session cap")
    extra = Conn(srv.port)
    got = extra.rest()
    check(got == b"421 4.3.2 mx.test.example Too many connections, try again later\r\n",
          f"over the cap: {got!r}")
    extra.close()
    # Every admitted session can still store a message: the cap kept a
    # descriptor for each message file.
    for c in conns:
        check(transaction(c) == [b"250 2.0.0 Message accepted for delivery\r\n"], "stored")
    check(len(srv.wait_files(8)) == 8, "eight messages")
    for c in conns:
        c.close()
    check(srv.stop() == 0, "exit status")
finally:
    srv.close()
print("ok: sessions capped by the fd limit, the rest get 421, every admitted one stores")

# 2. --max-connections past the limit: accept() fails with EMFILE.
srv = Server(exe, "--max-connections", "1000", preexec_fn=low_fd_limit)
try:
    first = Conn(srv.port)
    check(first.code() == b"220", "first greeting")
    crowd = [socket.create_connection(("127.0.0.1", srv.port), 10) for _ in range(60)]
    time.sleep(0.5)
    t0 = cpu_ticks(srv.proc.pid)
    time.sleep(2)
    used = cpu_ticks(srv.proc.pid) - t0
    check(used <= HZ * 2 // 10, f"server busy while out of descriptors: {used} ticks in 2 s")
    # The admitted session is still served; its message cannot get a file:
    # 451 to DATA, never a 250 for a message that was not stored.
    first.send(b"EHLO c.test.example\r\nMAIL FROM:<a@x.example>\r\nRCPT TO:<b@y.example>\r\n"
               b"DATA\r\n")
    first.reply()
    r = [first.code(), first.code(), first.reply()]
    check(r == [b"250", b"250", [b"451 4.3.0 Cannot store the message now\r\n"]],
          f"DATA at EMFILE: {r}")
    check(srv.files("new") == [] and srv.files("tmp") == [], "nothing stored or left")
    first.send(b"QUIT\r\n")
    check(first.code() == b"221", "QUIT")
    first.close()
    for s in crowd:
        s.close()
    time.sleep(0.5)
    again = Conn(srv.port)
    check(again.code() == b"220", "accepting again")
    check(transaction(again) == [b"250 2.0.0 Message accepted for delivery\r\n"], "stored")
    again.close()
    check(len(srv.wait_files(1)) == 1, "one message")
    check(srv.stop() == 0, "exit status")
finally:
    srv.close()
print(f"ok: EMFILE costs no CPU ({used} ticks in 2 s), 451 not 250, recovers")
