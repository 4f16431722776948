"""Scripted SMTP servers for smtpwire-send's interop tests.

A tiny socket server on 127.0.0.1 port 0 runs one handler per connection
in a thread and keeps every byte the client sent, so a test can assert
exact client behaviour (what was sent, what was not).  Standard library
only.  SPDX-License-Identifier: MIT
"""
import os
import socket
import subprocess
import sys
import threading

SKIP = 77


def skip_or_fail(why):
    """A missing peer skips the test unless SMTPW_REQUIRE_INTEROP=1."""
    if os.environ.get("SMTPW_REQUIRE_INTEROP") == "1":
        print("FAIL (SMTPW_REQUIRE_INTEROP=1): " + why, file=sys.stderr)
        sys.exit(1)
    print("SKIP: " + why, file=sys.stderr)
    sys.exit(SKIP)


class Conn:
    def __init__(self, sock):
        self.sock = sock
        self.buf = b""
        self.rx = b""  # everything the client sent
        self.commands = []  # command lines, without CRLF
        self.bodies = []  # stuffed DATA contents, terminator excluded
        self.reads = []  # the size of each recv(): shows pipelined flights

    def send(self, data):
        self.sock.sendall(data)

    def _fill(self):
        try:
            chunk = self.sock.recv(65536)
        except OSError:
            chunk = b""
        if chunk:
            self.rx += chunk
            self.buf += chunk
            self.reads.append(len(chunk))
        return chunk

    def line(self):
        """One command line without its CRLF, or None at EOF."""
        while b"\n" not in self.buf:
            if not self._fill():
                return None
        line, self.buf = self.buf.split(b"\n", 1)
        line = line.rstrip(b"\r")
        self.commands.append(line)
        return line

    def data(self):
        """The stuffed message up to CRLF.CRLF, or None at EOF."""
        while b"\r\n.\r\n" not in b"\r\n" + self.buf:
            if not self._fill():
                return None
        body, self.buf = (b"\r\n" + self.buf).split(b"\r\n.\r\n", 1)
        body = body[2:] + b"\r\n" if body != b"" else b""
        self.bodies.append(body)
        return body

    def close(self):
        try:
            self.sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        self.sock.close()


def standard(conn, greeting=b"220 scripted ESMTP\r\n",
             ehlo=b"250-scripted\r\n250-8BITMIME\r\n250 SIZE 1000000\r\n",
             rcpt=None, data=b"354 go ahead\r\n", body=b"250 2.0.0 queued\r\n",
             mail=b"250 2.1.0 ok\r\n"):
    """A well-behaved server whose replies can be replaced one by one."""
    conn.send(greeting)
    while True:
        line = conn.line()
        if line is None:
            return
        verb = line[:4].upper()
        if verb == b"EHLO":
            conn.send(ehlo)
        elif verb == b"HELO":
            conn.send(b"250 scripted\r\n")
        elif verb == b"MAIL":
            conn.send(mail)
        elif verb == b"RCPT":
            conn.send(rcpt(line) if rcpt else b"250 2.1.5 ok\r\n")
        elif verb == b"DATA":
            conn.send(data)
            if data.startswith(b"354"):
                if conn.data() is None:
                    return
                conn.send(body)
        elif verb == b"RSET":
            conn.send(b"250 2.0.0 reset\r\n")
        elif verb == b"QUIT":
            conn.send(b"221 2.0.0 bye\r\n")
            return
        else:
            conn.send(b"502 5.5.1 unknown\r\n")


class Server:
    """Serves connections with handler(conn) until stopped."""

    def __init__(self, handler, host="127.0.0.1"):
        self.handler = handler
        self.sock = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind((host, 0))
        self.sock.listen(16)
        self.port = self.sock.getsockname()[1]
        self.conns = []
        self.errors = []
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self):
        while True:
            try:
                s, _ = self.sock.accept()
            except OSError:
                return
            c = Conn(s)
            self.conns.append(c)
            try:
                self.handler(c)
            except Exception as e:  # a broken script must fail the test
                self.errors.append(repr(e))
            c.close()

    def stop(self):
        try:
            self.sock.close()
        except OSError:
            pass


def run_send(send, args, stdin=b"", timeout=20, env=None):
    """Run smtpwire-send; returns (exit status, stderr text)."""
    e = dict(os.environ)
    if env:
        e.update(env)
    p = subprocess.run([send] + args, input=stdin, stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE, timeout=timeout, env=e)
    return p.returncode, p.stderr.decode("utf-8", "replace")


def canonical(msg):
    """What a correct client puts on the wire before stuffing: CRLF lines,
    a final CRLF (RFC 5321 4.1.1.4)."""
    out = msg.replace(b"\r\n", b"\n").replace(b"\r", b"\n").replace(b"\n", b"\r\n")
    if out and not out.endswith(b"\r\n"):
        out += b"\r\n"
    return out


def stuffed(msg):
    """canonical() with RFC 5321 4.5.2 dot stuffing."""
    c = canonical(msg)
    lines = c.split(b"\r\n")
    return b"\r\n".join(b"." + l if l.startswith(b".") else l for l in lines)


def default_helo(local_ip="127.0.0.1"):
    """smtpwire-send's EHLO argument without --helo: the host name when it
    has a dot (RFC 5321 4.1.1.1), else the local address literal (4.1.4)."""
    import re
    name = socket.gethostname()
    label = r"[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?"
    if "." in name and re.fullmatch(label + r"(\." + label + r")+", name):
        return name
    return "[%s]" % local_ip


class Failure(Exception):
    pass


def check(cond, what):
    if not cond:
        raise Failure(what)


def run_case(cases):
    """Run the test named by argv[2] from cases (a script's globals()) with
    argv[1], the smtpwire-send binary; exit 1 with the failure."""
    send, case = sys.argv[1], sys.argv[2]
    try:
        cases[case](send)
    except Failure as e:
        print("FAIL: %s: %s" % (case, e), file=sys.stderr)
        sys.exit(1)
    print("ok: " + case)
