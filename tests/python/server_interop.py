#!/usr/bin/python3
"""examples/python/server.py (the asyncio server on the binding) receiving
from real clients on 127.0.0.1; every stored message is checked byte-exact
in the Maildir: trace lines (RFC 5321 4.4) then the message as sent.
Usage: server_interop.py smtplib|swaks    (SMTPW_LIB: the shared library)
SPDX-License-Identifier: MIT"""
import os
import re
import smtplib
import socket
import subprocess
import sys
import tempfile
import time

from pyt import EXAMPLES, bound, check, import_binding, need, run_cases

bound(90)
import_binding()      # skips cleanly without a library
MODE = sys.argv[1]
HOST = "mx.binding.example"
# Dot lines, an empty line, 8-bit text: what a stuffing bug or a lost byte shows.
MESSAGE = (b"From: a@x.example\r\nSubject: binding test\r\n\r\nfirst line\r\n.dot line\r\n"
           b"..two dots\r\n.\r\n\r\nK\xc3\xb6ln\r\nlast line\r\n")


class AsyncioServer:
    def __init__(self):
        self.tmp = tempfile.mkdtemp(prefix="smtpw-py-")
        self.maildir = os.path.join(self.tmp, "Maildir")
        self.proc = subprocess.Popen(
            [sys.executable, os.path.join(EXAMPLES, "server.py"), "--listen", "127.0.0.1:0",
             "--maildir", self.maildir, "--hostname", HOST],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        line = self.proc.stdout.readline()
        m = re.match(r"listening on 127\.0\.0\.1:(\d+)$", line.strip())
        if not m:
            self.proc.kill()
            raise SystemExit("FAIL: no 'listening on' line: %r %s"
                             % (line, self.proc.stderr.read()))
        self.port = int(m.group(1))

    def files(self, sub):
        d = os.path.join(self.maildir, sub)
        return sorted(os.path.join(d, f) for f in os.listdir(d))

    def wait_files(self, n, timeout=10.0):
        end = time.time() + timeout
        while time.time() < end and len(self.files("new")) < n:
            time.sleep(0.02)
        return self.files("new")

    def close(self):
        self.proc.terminate()
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
        err = self.proc.stderr.read()
        check("Traceback" not in err, "server.py: " + err)


TRACE = re.compile(
    rb"Return-Path: <(?P<from>[^>]*)>\r\n"
    rb"Received: from (?P<helo>\S+) \(\[127\.0\.0\.1\]\)\r\n"
    rb"\tby " + re.escape(HOST.encode()) + rb" with (?P<proto>E?SMTP) id [0-9A-Za-z]+"
    rb"(?:\r\n\tfor <(?P<for>[^>]*)>)?; [A-Z][a-z]{2}, \d{1,2} [A-Z][a-z]{2} \d{4} "
    rb"\d\d:\d\d:\d\d [+-]\d{4}\r\n")


def stored(path):
    """(trace fields, the message after the trace lines)."""
    data = open(path, "rb").read()
    m = TRACE.match(data)
    check(m is not None, "trace lines of %s: %r" % (path, data[:300]))
    return m.groupdict(), data[m.end():]


def smtplib_two_messages_one_session():
    srv = AsyncioServer()
    try:
        with smtplib.SMTP("127.0.0.1", srv.port, local_hostname="client.example",
                          timeout=10) as s:
            check(s.ehlo()[0] == 250 and s.has_extn("pipelining"), "EHLO")
            check(s.sendmail("a@x.example", ["b@y.example"], MESSAGE) == {}, "first")
            refused = s.sendmail("", ["c@y.example", "d@y.example"], MESSAGE)
            check(refused == {}, "second %r" % refused)
        files = srv.wait_files(2)
        check(len(files) == 2, "%d files in new/" % len(files))
        got = sorted((stored(f) for f in files), key=lambda g: g[0]["from"], reverse=True)
        t, body = got[0]
        check(t["from"] == b"a@x.example" and t["helo"] == b"client.example" and
              t["proto"] == b"ESMTP" and t["for"] == b"b@y.example", repr(t))
        check(body == MESSAGE, "first body %r" % body)
        t, body = got[1]
        check(t["from"] == b"" and t["for"] is None and body == MESSAGE, repr(t))
        check(srv.files("tmp") == [], "tmp/ is empty")
    finally:
        srv.close()


def rfc2920_one_write_burst_gets_every_reply():
    """EHLO, MAIL, 100 RCPT, DATA, the message and QUIT in one write: more
    replies than the core's output queue holds, so server.py's loop must
    drain and run the pending input without reading (the stall of issue 6)."""
    srv = AsyncioServer()
    try:
        n = 100
        burst = (b"EHLO burst.example\r\nMAIL FROM:<a@x.example>\r\n"
                 + b"".join(b"RCPT TO:<r%d@y.example>\r\n" % i for i in range(n))
                 + b"DATA\r\n" + MESSAGE.replace(b"\r\n.", b"\r\n..") + b".\r\nQUIT\r\n")
        with socket.create_connection(("127.0.0.1", srv.port), timeout=10) as c:
            c.sendall(burst)
            got = b""
            while not got.endswith(b"\r\n") or not re.search(rb"^221 ", got, re.M):
                chunk = c.recv(65536)
                if not chunk:
                    break
                got += chunk
        codes = [int(m.group(1)) for m in re.finditer(rb"^(\d{3}) ", got, re.M)]
        check(codes == [220, 250, 250] + [250] * n + [354, 250, 221], repr(got[-300:]))
        files = srv.wait_files(1)
        check(len(files) == 1, "%d files" % len(files))
        t, body = stored(files[0])
        check(t["helo"] == b"burst.example" and t["for"] is None and body == MESSAGE,
              "stored %r %r" % (t, body))
    finally:
        srv.close()


def swaks_run(srv, *extra):
    fd, name = tempfile.mkstemp(dir=srv.tmp)
    os.write(fd, MESSAGE)
    os.close(fd)
    p = subprocess.run([need("swaks"), "--server", "127.0.0.1:%d" % srv.port,
                        "--helo", "swaks.example", "--from", "a@x.example",
                        "--timeout", "10", "--data", "@" + name] + list(extra),
                       stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=30)
    return p.returncode, p.stdout.decode("utf-8", "replace")


def swaks_plain_and_pipelined():
    need("swaks")
    srv = AsyncioServer()
    try:
        rc, out = swaks_run(srv, "--to", "b@y.example")
        check(rc == 0, "plain: " + out)
        rc, out = swaks_run(srv, "--pipeline", "--to", "c@y.example,d@y.example")
        check(rc == 0 and "PIPELINING" in out, "pipelined: " + out)
        rc, out = swaks_run(srv, "--to", "e@y.example", "--quit-after", "RCPT")
        check(rc == 0, "quit after RCPT: " + out)
        files = srv.wait_files(2)
        time.sleep(0.2)
        files = srv.files("new")
        check(len(files) == 2, "%d files in new/, want 2" % len(files))
        for t, body in (stored(f) for f in files):
            check(t["helo"] == b"swaks.example" and t["from"] == b"a@x.example", repr(t))
            check(t["for"] in (b"b@y.example", None), repr(t))
            # swaks ends the DATA it sends with a CRLF of its own before the dot.
            check(body == MESSAGE + b"\r\n", "body %r" % body)
        check(srv.files("tmp") == [], "tmp/ is empty")
    finally:
        srv.close()


run_cases({"smtplib": [("rfc5321_4_4_smtplib_stored_byte_exact_with_received_line",
                        smtplib_two_messages_one_session),
                       ("rfc2920_one_write_burst_gets_every_reply",
                        rfc2920_one_write_burst_gets_every_reply)],
           "swaks": [("rfc2920_swaks_plain_and_pipelined_stored_byte_exact",
                      swaks_plain_and_pipelined)]}[MODE])
