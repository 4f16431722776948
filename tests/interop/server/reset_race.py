#!/usr/bin/python3
"""A whole pipelined session and a TCP reset landing in one poll turn
(RFC 5321 6.1: a message is the server's only once it said 250).

The client leaves the greeting unread, sends EHLO, MAIL, RCPT, DATA, the
body and the final dot in one write, and closes with SO_LINGER {1, 0} so a
RST follows the data.  The server is stopped (SIGSTOP) while both arrive
and continued (SIGCONT) afterwards, so it always sees them in one turn: the
message completes, is queued for the group commit, and the write of the
queued replies then fails on the reset connection.  The server must stay
up, and the message must be discarded (nothing in new/ or tmp/): its 250
can never reach the client, which therefore still owns the message and
will send it again.  Sessions around it are unaffected.

A second shape: the envelope is answered (354 read), then the body, the
dot and the RST arrive while the server is stopped.  No reply is owed
but the 250, so nothing fails before the group commit; the reset must
still be noticed before the message is committed, and it is discarded
the same way."""
import os, select, signal, socket, struct, sys, time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from srvlib import Conn, Server, check

OK = [b"250 2.0.0 Message accepted for delivery\r\n"]
ROUNDS = 5


def wait_state(pid, want, timeout=5.0):
    """Wait until /proc says the process is in one of the states in want."""
    end = time.time() + timeout
    while time.time() < end:
        try:
            st = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()[0]
        except OSError:
            return None
        if st in want:
            return st
        time.sleep(0.005)
    return None


def store_one(port, tag):
    """A well-behaved session storing one message; its reply."""
    c = Conn(port)
    check(c.code() == b"220", f"{tag}: greeting")
    c.send(b"EHLO good.test.example\r\nMAIL FROM:<good@x.example>\r\n"
           b"RCPT TO:<b@y.example>\r\nDATA\r\n")
    c.reply()
    check(c.codes(3) == [b"250", b"250", b"354"], f"{tag}: envelope")
    c.send(b"Subject: " + tag.encode() + b"\r\n\r\nkept\r\n.\r\n")
    r = c.reply()
    c.send(b"QUIT\r\n")
    c.reply()
    c.close()
    return r


def reset_session(srv, i):
    s = socket.create_connection(("127.0.0.1", srv.port), 10)
    # The greeting is out, so the server has accepted the connection and
    # waits for input; it stays unread.
    r, _, _ = select.select([s], [], [], 10)
    check(r, "greeting arrives")
    srv.proc.send_signal(signal.SIGSTOP)
    check(wait_state(srv.proc.pid, ("T", "t")) is not None, "server stopped")
    try:
        s.sendall(b"EHLO reset.test.example\r\nMAIL FROM:<reset%d@x.example>\r\n"
                  b"RCPT TO:<b@y.example>\r\nDATA\r\nSubject: reset %d\r\n\r\n"
                  b"this one is reset\r\n.\r\n" % (i, i))
        s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        s.close()  # RST right behind the data
        time.sleep(0.05)  # let loopback deliver both to the stopped server
    finally:
        srv.proc.send_signal(signal.SIGCONT)


def reset_after_354(srv, i):
    c = Conn(srv.port)
    check(c.code() == b"220", "greeting")
    c.send(b"EHLO reset.test.example\r\nMAIL FROM:<late%d@x.example>\r\n"
           b"RCPT TO:<b@y.example>\r\nDATA\r\n" % i)
    c.reply()
    check(c.codes(3) == [b"250", b"250", b"354"], "envelope")
    srv.proc.send_signal(signal.SIGSTOP)
    check(wait_state(srv.proc.pid, ("T", "t")) is not None, "server stopped")
    try:
        c.send(b"Subject: late %d\r\n\r\nthis one is reset\r\n.\r\n" % i)
        c.sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        c.close()
        time.sleep(0.05)
    finally:
        srv.proc.send_signal(signal.SIGCONT)


exe = sys.argv[1]
srv = Server(exe)
try:
    check(store_one(srv.port, "before") == OK, "a message before the race")
    check(len(srv.wait_files(1)) == 1, "stored before the race")
    for i in range(2 * ROUNDS):
        if i % 2 == 0:
            reset_session(srv, i)
        else:
            reset_after_354(srv, i)
        time.sleep(0.1)
        check(srv.proc.poll() is None,
              f"round {i}: server died (status {srv.proc.returncode})")
        # Still serving: a new session is greeted and its message stored.
        check(store_one(srv.port, f"after {i}") == OK, f"round {i}: message after the race")
        files = srv.wait_files(i + 2)
        check(len(files) == i + 2, f"round {i}: {len(files)} files in new/")
        for f in files:
            check(b"this one is reset" not in open(f, "rb").read(),
                  f"round {i}: the reset message was stored though never answered: {f}")
        check(srv.files("tmp") == [], f"round {i}: tmp/ empty: {srv.files('tmp')}")
    check(srv.stop() == 0, "exit status")
    err = srv.close()
    check(err == "" or "cannot store" not in err, f"stderr: {err}")
except BaseException:
    srv.close()
    raise
print(f"ok: {ROUNDS} pipelined sessions and {ROUNDS} bodies reset in one turn: server "
      f"alive, messages discarded, tmp/ empty, sessions around them stored")
