#!/usr/bin/python3
"""Resource exhaustion by a hostile peer, against the running server:
slowloris on a command line and in DATA (RFC 5321 4.5.3.2.7, --timeout 2),
an endless line without LF (4.5.3.1.4), an endless DATA (RFC 1870 552),
150 recipients (4.5.3.1.8: 452 past 100), a client that pipelines and never
reads (memory stays bounded, others are served), and a body written in
1-byte TCP segments (1 MB; 10 MB with SMTPW_HOSTILE_BIG=1).  Nothing is ever
left in tmp/, and the server's memory stays bounded throughout."""
import os, socket, sys, threading, time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from srvlib import Conn, Server, check, split_stored

HOST = b"mx.test.example"
ENVELOPE = b"EHLO c.test.example\r\nMAIL FROM:<a@x.example>\r\nRCPT TO:<b@y.example>\r\nDATA\r\n"


def rss_kb(pid):
    for line in open(f"/proc/{pid}/status"):
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


def open_data(c):
    check(c.code() == b"220", "greeting")
    c.send(ENVELOPE)
    c.reply()
    check(c.codes(3) == [b"250", b"250", b"354"], "envelope")


def trickle(c, limit):
    """Send one byte every 0.25 s until the server speaks or closes."""
    c.sock.settimeout(0.25)
    t0 = time.time()
    while time.time() - t0 < limit:
        try:
            c.sock.send(b"x")
        except OSError:
            break
        try:
            got = c.sock.recv(4096)
            return got, time.time() - t0
        except socket.timeout:
            pass
    return None, time.time() - t0


exe = sys.argv[1]
srv = Server(exe, "--timeout", "2", "--max-size", "1000000")
try:
    base = rss_kb(srv.proc.pid)

    # Slowloris on a command line: the bytes complete no command.
    c = Conn(srv.port)
    check(c.code() == b"220", "greeting")
    got, took = trickle(c, 10)
    check(got == b"421 " + HOST + b" Service not available, closing transmission channel\r\n"
          and took < 4, f"command slowloris: {got!r} after {took:.1f} s")
    c.close()

    # Slowloris in DATA: four bytes a second is far below the rate a body
    # must keep, so the timeout fires; the half message is dropped.
    c = Conn(srv.port)
    open_data(c)
    got, took = trickle(c, 10)
    check(got == b"421 4.3.2 " + HOST + b" Service not available, closing transmission "
          b"channel\r\n" and took < 4, f"DATA slowloris: {got!r} after {took:.1f} s")
    c.close()
    time.sleep(0.1)
    check(srv.files("tmp") == [] and srv.files("new") == [], "slowloris left nothing")
    print("ok: slowloris times out on a command line and in DATA")

    # An endless line without LF: dropped as it comes, 500 once it ends.
    c = Conn(srv.port)
    check(c.code() == b"220", "greeting")
    for _ in range(64):
        c.send(b"A" * 65536)
    c.send(b"\r\nQUIT\r\n")
    got = c.rest()
    check(got == b"500 Line too long\r\n221 " + HOST + b" Service closing transmission "
          b"channel\r\n", f"endless line: {got!r}")
    c.close()
    print("ok: a 4 MB line is refused without being kept")

    # An endless DATA past --max-size: 552 at the end, nothing stored.
    c = Conn(srv.port)
    open_data(c)
    line = b"y" * 998 + b"\r\n"
    for _ in range(4000):
        c.send(line)
    c.send(b".\r\nQUIT\r\n")
    got = c.rest()
    check(got == b"552 5.3.4 Message size exceeds fixed maximum message size\r\n221 2.0.0 " +
          HOST + b" Service closing transmission channel\r\n", f"endless DATA: {got!r}")
    c.close()
    time.sleep(0.1)
    check(srv.files("tmp") == [] and srv.files("new") == [], "oversized message dropped")
    print("ok: a 4 MB body past a 1 MB limit gets 552, nothing kept")

    # 150 recipients: 100 accepted, then 452 4.5.3 (RFC 5321 4.5.3.1.10).
    c = Conn(srv.port)
    check(c.code() == b"220", "greeting")
    c.send(b"EHLO c.test.example\r\nMAIL FROM:<a@x.example>\r\n" +
           b"".join(b"RCPT TO:<r%d@y.example>\r\n" % i for i in range(150)) +
           b"DATA\r\nSubject: many\r\n\r\nhi\r\n.\r\nQUIT\r\n")
    c.reply()
    codes = c.codes(153)
    check(codes == [b"250"] * 101 + [b"452"] * 50 + [b"354", b"250"], f"recipients: {codes}")
    c.close()
    files = srv.wait_files(1)
    check(len(files) == 1, "one message")
    info, _ = split_stored(files[0])
    check(info["rcpts"] == [b"r%d@y.example" % i for i in range(100)], "100 Delivered-To")
    os.unlink(files[0])
    print("ok: 150 recipients, 100 taken, 50 refused 452")

    # A client that pipelines and never reads.  Its replies back up until
    # the server stops reading from it; another client is served meanwhile.
    hog = socket.create_connection(("127.0.0.1", srv.port), 10)
    hog.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    hog.settimeout(3)
    sent = 0
    try:
        while sent < 64 << 20:
            hog.sendall(b"NOOP\r\n" * 4096)
            sent += 6 * 4096
    except (socket.timeout, OSError):
        pass
    check(sent < 64 << 20, "the server kept reading from a client that never reads")
    other = Conn(srv.port)
    check(other.code() == b"220", "another client greeted")
    other.send(b"QUIT\r\n")
    check(other.code() == b"221", "another client served")
    other.close()
    grew = rss_kb(srv.proc.pid) - base
    check(grew < 8192, f"memory grew by {grew} kB for a client that never reads")
    hog.close()
    print(f"ok: a non-reading client is held off after {sent >> 10} kB, memory +{grew} kB")

    # A body in 1-byte TCP segments.
    size = (10 if os.environ.get("SMTPW_HOSTILE_BIG") == "1" else 1) * 1000 * 1000
    big = Server(exe, "--max-size", str(size + 1000))
    try:
        c = Conn(big.port, timeout=600)
        c.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        open_data(c)
        body = (b"z" * 78 + b"\r\n") * (size // 80)
        mv = memoryview(body)
        for i in range(len(body)):
            c.sock.send(mv[i:i + 1])
        c.send(b".\r\n")
        check(c.reply() == [b"250 2.0.0 Message accepted for delivery\r\n"], "stored")
        c.close()
        files = big.wait_files(1)
        check(len(files) == 1, "one message")
        _, stored = split_stored(files[0])
        check(stored == body, "body intact")
        check(big.stop() == 0, "exit status")
    finally:
        big.close()
    print(f"ok: {size} body bytes in 1-byte segments stored intact")

    check(srv.files("tmp") == [], "tmp/ empty")
    check(srv.stop() == 0, "exit status")
finally:
    srv.close()
