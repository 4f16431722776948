"""smtpwire-send --starttls / --require-tls / --cafile (RFC 3207) against
smtpwire-server with OpenSSL, scripted servers (Python's ssl module) and
python3-aiosmtpd.  Certificates are made with the openssl command in a
temporary directory.  Skipped (77) when smtpwire-send was built without
OpenSSL; a missing peer skips unless SMTPW_REQUIRE_INTEROP=1.
Usage: starttls.py SMTPWIRE-SEND SMTPWIRE-SERVER CASE
SPDX-License-Identifier: MIT"""
import asyncio
import os
import select
import shutil
import socket
import ssl
import subprocess
import sys
import tempfile
import threading
import time

from smtpscript import (SKIP, Server, Failure, check, run_send, skip_or_fail, standard,
                        default_helo,
                        canonical)

MSG = b"Subject: tls\n\nover TLS\n.dot line\n"
FROM = ["--from", "a@example.org"]
TO = ["--to", "b@example.net"]


def verbs(conn):
    return [c.split(b" ")[0].upper() for c in conn.commands]


def make_cert(tmp, name, san):
    """A throwaway self-signed certificate; returns (cert, key) paths."""
    openssl = shutil.which("openssl")
    if not openssl:
        skip_or_fail("the openssl command is not installed")
    cert, key = os.path.join(tmp, name + ".pem"), os.path.join(tmp, name + ".key")
    subprocess.run([openssl, "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", key,
                    "-out", cert, "-days", "2", "-subj", "/CN=" + name,
                    "-addext", "subjectAltName=" + san],
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True, timeout=30)
    return cert, key


class SmtpwireServer:
    """The smtpwire-server example with --tls-cert/--tls-key."""

    def __init__(self, exe, tmp, cert=None, key=None):
        self.maildir = tempfile.mkdtemp(prefix="md-", dir=tmp)
        args = [exe, "--listen", "127.0.0.1:0", "--maildir", self.maildir]
        if cert:
            args += ["--tls-cert", cert, "--tls-key", key]
        self.p = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        deadline = time.monotonic() + 10
        line = b""
        while time.monotonic() < deadline and self.p.poll() is None:
            r, _, _ = select.select([self.p.stdout], [], [], 0.1)
            if r:
                line = self.p.stdout.readline()
                break
        if not line.startswith(b"listening on "):
            self.close()
            raise Failure("smtpwire-server did not start: %r" % line)
        self.hostport = line.split()[2].decode()

    def files(self, n, timeout=5):
        new = os.path.join(self.maildir, "new")
        deadline = time.monotonic() + timeout
        while True:
            got = sorted(os.listdir(new)) if os.path.isdir(new) else []
            if len(got) >= n or time.monotonic() > deadline:
                return [os.path.join(new, f) for f in got]
            time.sleep(0.02)

    def close(self):
        if self.p.poll() is None:
            self.p.terminate()
            try:
                self.p.wait(5)
            except subprocess.TimeoutExpired:
                self.p.kill()
                self.p.wait()


def received_with(path):
    """The protocol word of the Received: line (RFC 3848)."""
    data = open(path, "rb").read()
    head = data.split(b"\r\n\r\n", 1)[0].replace(b"\r\n\t", b" ").replace(b"\n\t", b" ")
    for line in head.split(b"\n"):
        if line.startswith(b"Received:"):
            words = line.split()
            return words[words.index(b"with") + 1].decode() if b"with" in words else None
    return None


# (1) ESMTPS in the stored Received: line; a plain run says ESMTP
def case_esmtps(send, server, tmp):
    cert, key = make_cert(tmp, "mx.test.example", "DNS:mx.test.example,IP:127.0.0.1")
    srv = SmtpwireServer(server, tmp, cert, key)
    try:
        rc, err = run_send(send, ["-v", "--starttls", "--insecure", "--server", srv.hostport]
                           + FROM + TO, MSG)
        check(rc == 0, "--starttls --insecure: exit %d: %s" % (rc, err))
        check("*  TLS started (TLSv1." in err, "-v shows TLS started with details: " + err)
        before, after = err.split("TLS started", 1)
        check("C: STARTTLS\nS: 220" in before, "STARTTLS then 220 before TLS: " + err)
        check(after.split("\n", 2)[1].startswith("C: EHLO "), "EHLO right after TLS: " + after)
        check("C: MAIL" not in before and "C: MAIL" in after, "MAIL only over TLS: " + err)
        files = srv.files(1)
        check(len(files) == 1, "one stored message, found %r" % files)
        check(received_with(files[0]) == "ESMTPS", "with %r" % received_with(files[0]))
        check(open(files[0], "rb").read().endswith(canonical(MSG)), "body byte-exact")
        rc, err = run_send(send, ["--server", srv.hostport] + FROM + TO, MSG)
        check(rc == 0, "plain: exit %d: %s" % (rc, err))
        files = srv.files(2)
        check(len(files) == 2 and received_with(files[1]) == "ESMTP",
              "without --starttls: with %r" % (received_with(files[-1]),))
    finally:
        srv.close()


# (2) --cafile: the matching certificate verifies; another CA, or a
# certificate for another name, fails with 75 and stores nothing
def case_verify(send, server, tmp):
    cert, key = make_cert(tmp, "mx.test.example", "DNS:mx.test.example,IP:127.0.0.1")
    other, _ = make_cert(tmp, "other-ca.example", "DNS:other-ca.example")
    srv = SmtpwireServer(server, tmp, cert, key)
    try:
        rc, err = run_send(send, ["-v", "--require-tls", "--cafile", cert,
                                  "--server", srv.hostport] + FROM + TO, MSG)
        check(rc == 0, "matching CA: exit %d: %s" % (rc, err))
        check("TLS started" in err, "TLS started: " + err)
        check(len(srv.files(1)) == 1, "stored")
        rc, err = run_send(send, ["-v", "--require-tls", "--cafile", other,
                                  "--server", srv.hostport] + FROM + TO, MSG)
        check(rc == 75, "wrong CA: exit %d, want 75: %s" % (rc, err))
        check("certificate verification failed" in err, "says why: " + err)
        check("C: MAIL" not in err and "TLS started" not in err, "no MAIL: " + err)
        # --insecure: opportunistic, not verified (RFC 7435)
        rc, err = run_send(send, ["--starttls", "--insecure", "--server", srv.hostport]
                           + FROM + TO, MSG)
        check(rc == 0, "--starttls --insecure: exit %d: %s" % (rc, err))
        check(len(srv.files(2, timeout=1)) == 2, "two stored, none from the wrong-CA run")
    finally:
        srv.close()
    # the right CA, the wrong name: the certificate names only a DNS name
    named, nkey = make_cert(tmp, "mx.other.example", "DNS:mx.other.example")
    srv = SmtpwireServer(server, tmp, named, nkey)
    try:
        rc, err = run_send(send, ["--require-tls", "--cafile", named,
                                  "--server", srv.hostport] + FROM + TO, MSG)
        check(rc == 75, "name mismatch: exit %d, want 75: %s" % (rc, err))
        check("mismatch" in err, "says mismatch: " + err)
        check(srv.files(0, timeout=0.3) == [], "nothing stored")
    finally:
        srv.close()


# (3) no STARTTLS offered: --require-tls quits before MAIL (75);
# --starttls --insecure goes on in clear
def case_require_not_offered(send, server, tmp):
    srv = Server(standard)
    rc, err = run_send(send, ["--require-tls", "--server", "127.0.0.1:%d" % srv.port]
                       + FROM + TO, MSG)
    time.sleep(0.05)
    check(rc == 75, "exit %d, want 75: %s" % (rc, err))
    check("does not offer STARTTLS" in err, "says why: " + err)
    check(verbs(srv.conns[0]) == [b"EHLO", b"QUIT"], "only EHLO, QUIT: %r"
          % srv.conns[0].commands)
    rc, err = run_send(send, ["--starttls", "--insecure", "--server", "127.0.0.1:%d" % srv.port]
                       + FROM + TO, MSG)
    time.sleep(0.05)
    check(rc == 0, "opportunistic: exit %d: %s" % (rc, err))
    check(verbs(srv.conns[1]) == [b"EHLO", b"MAIL", b"RCPT", b"DATA", b"QUIT"],
          "in clear, no STARTTLS: %r" % srv.conns[1].commands)


def refuses_starttls(c, ehlo=b"250-scripted\r\n250-STARTTLS\r\n250 8BITMIME\r\n"):
    """A scripted server that offers STARTTLS and answers it 454."""
    c.send(b"220 scripted ESMTP\r\n")
    c.line()
    c.send(ehlo)
    if c.line() is None:
        return
    c.send(b"454 4.7.0 TLS not available now\r\n")
    standard(c, greeting=b"", ehlo=ehlo)  # greeting and EHLO are done


# 454 to STARTTLS: the session stays usable in clear (RFC 3207 4)
def case_refused_454(send, server, tmp):
    srv = Server(refuses_starttls)
    rc, err = run_send(send, ["-v", "--starttls", "--insecure", "--server",
                              "127.0.0.1:%d" % srv.port] + FROM + TO, MSG)
    time.sleep(0.05)
    check(rc == 0, "opportunistic after 454: exit %d: %s" % (rc, err))
    check("STARTTLS refused: continuing without TLS" in err, "-v says so: " + err)
    check(verbs(srv.conns[0]) == [b"EHLO", b"STARTTLS", b"MAIL", b"RCPT", b"DATA", b"QUIT"],
          "%r" % srv.conns[0].commands)
    rc, err = run_send(send, ["--require-tls", "--server", "127.0.0.1:%d" % srv.port]
                       + FROM + TO, MSG)
    time.sleep(0.05)
    check(rc == 75, "required after 454: exit %d, want 75: %s" % (rc, err))
    check("454 4.7.0 TLS not available now" in err, "the reply is shown: " + err)
    check(verbs(srv.conns[1]) == [b"EHLO", b"STARTTLS", b"QUIT"], "%r" % srv.conns[1].commands)


# (4) plaintext injection: "220 go\r\n250 injected\r\n" in one write, then
# the handshake.  The client must drop the injected line and read the real
# reply to its EHLO over TLS.
def case_injection(send, server, tmp):
    cert, key = make_cert(tmp, "mx.test.example", "DNS:mx.test.example,IP:127.0.0.1")
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(cert, key)
    seen = {}

    def h(c):
        c.sock.settimeout(10)
        c.send(b"220 scripted ESMTP\r\n")
        c.line()
        c.send(b"250-scripted\r\n250-PIPELINING\r\n250 STARTTLS\r\n")
        c.line()
        seen["clear_after_starttls"] = c.buf
        c.send(b"220 go\r\n250 injected\r\n")
        c.sock = ctx.wrap_socket(c.sock, server_side=True)
        seen["tls"] = c.sock.version()
        first = c.line()
        seen["first_tls_command"] = first
        if first is None:
            return
        c.send(b"250-real after TLS\r\n250-PIPELINING\r\n250 8BITMIME\r\n")
        standard(c, greeting=b"", ehlo=b"")

    srv = Server(h)
    rc, err = run_send(send, ["-v", "--require-tls", "--cafile", cert,
                              "--server", "127.0.0.1:%d" % srv.port] + FROM + TO, MSG)
    time.sleep(0.05)
    check(srv.errors == [], "script errors: %r" % srv.errors)
    check(rc == 0, "exit %d: %s" % (rc, err))
    check(seen.get("clear_after_starttls") == b"", "nothing sent in clear after STARTTLS")
    check(seen.get("tls", "").startswith("TLSv1"), "the handshake ran: %r" % seen)
    check(seen.get("first_tls_command", b"").startswith(b"EHLO "), "EHLO first over TLS")
    check("250 injected" not in err, "the injected line was never read as a reply: " + err)
    check("*  discarded 14 octets sent in clear after the 220" in err,
          "the 14 injected octets were dropped: " + err)
    after = err.split("TLS started", 1)[1]
    check("C: EHLO %s\nS: 250-real after TLS\n" % default_helo() in after,
          "the EHLO after TLS got the real reply: " + after)
    check(verbs(srv.conns[0]) == [b"EHLO", b"STARTTLS", b"EHLO", b"MAIL", b"RCPT", b"DATA",
                                  b"QUIT"], "%r" % srv.conns[0].commands)
    check(len(srv.conns[0].bodies) == 1, "the message went over TLS")


# (5) python3-aiosmtpd with require_starttls: a message only over TLS
def case_aiosmtpd_require(send, server, tmp):
    try:
        from aiosmtpd.smtp import SMTP
    except ImportError:
        skip_or_fail("python3-aiosmtpd is not installed for " + sys.executable)
    cert, key = make_cert(tmp, "mx.test.example", "DNS:mx.test.example,IP:127.0.0.1")
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(cert, key)
    got = []

    class Collect:
        async def handle_DATA(self, server_, session, envelope):
            got.append((session.ssl is not None, envelope.original_content))
            return "250 2.0.0 stored"

    loop = asyncio.new_event_loop()
    ready = threading.Event()
    box = {}

    def run():
        asyncio.set_event_loop(loop)
        srv = loop.run_until_complete(loop.create_server(
            lambda: SMTP(Collect(), decode_data=False, tls_context=ctx,
                         require_starttls=True), "127.0.0.1", 0))
        box["port"] = srv.sockets[0].getsockname()[1]
        ready.set()
        loop.run_forever()

    threading.Thread(target=run, daemon=True).start()
    check(ready.wait(10), "aiosmtpd started")
    hp = "127.0.0.1:%d" % box["port"]
    rc, err = run_send(send, ["--server", hp] + FROM + TO, MSG)
    check(rc == 69, "in clear: exit %d, want 69 (530 must STARTTLS): %s" % (rc, err))
    check("530" in err, "the refusal is shown: " + err)
    check(got == [], "nothing accepted in clear")
    rc, err = run_send(send, ["--require-tls", "--cafile", cert, "--server", hp] + FROM + TO,
                       MSG)
    check(rc == 0, "--require-tls: exit %d: %s" % (rc, err))
    check(len(got) == 1 and got[0][0], "accepted once, over TLS: %r" % (got,))
    check(got[0][1] == canonical(MSG), "body byte-exact: %r" % (got[0][1],))


def case_usage(send, server, tmp):
    # --cafile alone asks for TLS (it implies --require-tls): no longer 64
    rc, err = run_send(send, ["--cafile", "/nonexistent/ca.pem", "--server", "127.0.0.1:1"]
                       + FROM + TO, MSG)
    check(rc == 75 and "/nonexistent/ca.pem" in err, "--cafile alone: %d %s" % (rc, err))
    rc, err = run_send(send, ["--cafile", "/nonexistent", "--insecure", "--starttls",
                              "--server", "127.0.0.1:1"] + FROM + TO, MSG)
    check(rc == 64 and "contradict" in err, "--cafile with --insecure: %d %s" % (rc, err))
    rc, err = run_send(send, ["--insecure", "--server", "127.0.0.1:1"] + FROM + TO, MSG)
    check(rc == 64, "--insecure alone: exit %d, want 64" % rc)
    rc, err = run_send(send, ["--require-tls", "--cafile", "/nonexistent/ca.pem",
                              "--server", "127.0.0.1:1"] + FROM + TO, MSG)
    check(rc == 75 and "/nonexistent/ca.pem" in err, "unreadable CA file: %d %s" % (rc, err))


class TlsScript:
    """A scripted server offering STARTTLS with (cert, key): records each
    connection's handshake result (TLS version or the error) and the SNI
    names the client sent."""

    def __init__(self, cert, key):
        self.ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        self.ctx.load_cert_chain(cert, key)
        self.sni = []
        self.ctx.sni_callback = lambda sock, name, ctx: self.sni.append(name)
        self.handshakes = []
        self.srv = Server(self.handle)
        self.port = self.srv.port
        self.hostport = "127.0.0.1:%d" % self.port

    def handle(self, c):
        c.sock.settimeout(10)
        c.send(b"220 scripted ESMTP\r\n")
        if c.line() is None:
            return
        c.send(b"250-scripted\r\n250-PIPELINING\r\n250 STARTTLS\r\n")
        line = c.line()
        if line is None or line.upper() != b"STARTTLS":
            return
        c.send(b"220 2.0.0 go ahead\r\n")
        try:
            c.sock = self.ctx.wrap_socket(c.sock, server_side=True)
        except (ssl.SSLError, OSError) as e:
            self.handshakes.append("failed: %s" % e)
            return
        self.handshakes.append(c.sock.version())
        if c.line() is None:
            return
        c.send(b"250-after TLS\r\n250-PIPELINING\r\n250 8BITMIME\r\n")
        standard(c, greeting=b"", ehlo=b"")

    def nothing_sent(self):
        """No MAIL, RCPT or DATA ever reached the server."""
        time.sleep(0.05)
        return all(v not in (b"MAIL", b"RCPT", b"DATA") for c in self.srv.conns
                   for v in verbs(c))

    def stop(self):
        self.srv.stop()


def stripped_checks(srv, rc, err, opts, hp, want):
    time.sleep(0.05)
    check(rc == 75, "%s: exit %d, want 75: %s" % (opts, rc, err))
    check(want % hp in err and "TLS is required" in err and "nothing sent" in err,
          "%s: the message says what happened: %s" % (opts, err))
    check(not any(v in (b"MAIL", b"RCPT", b"DATA") for v in verbs(srv.conns[-1])),
          "%s: no MAIL/RCPT/DATA in clear: %r" % (opts, srv.conns[-1].commands))


# (6) STARTTLS stripped from EHLO (a man in the middle, RFC 3207 6): asking
# for verification (--cafile, or --starttls with --server) asks for TLS, so
# nothing of the transaction goes out in clear and the exit is 75
def case_rfc3207_6_stripped_starttls_with_cafile_sends_nothing(send, server, tmp):
    cert, _ = make_cert(tmp, "mx.test.example", "DNS:mx.test.example,IP:127.0.0.1")
    srv = Server(standard)  # its EHLO reply has no STARTTLS
    hp = "127.0.0.1:%d" % srv.port
    for opts in (["--starttls", "--cafile", cert], ["--cafile", cert], ["--starttls"]):
        rc, err = run_send(send, opts + ["--server", hp] + FROM + TO, MSG)
        stripped_checks(srv, rc, err, opts, hp, "server %s does not offer STARTTLS")
        check(verbs(srv.conns[-1]) == [b"EHLO", b"QUIT"], "%s: only EHLO, QUIT: %r"
              % (opts, srv.conns[-1].commands))


# (7) 454 to STARTTLS (RFC 3207 4) with --cafile (or a verified --server):
# no falling back to clear
def case_rfc3207_4_refused_starttls_with_cafile_sends_nothing(send, server, tmp):
    cert, _ = make_cert(tmp, "mx.test.example", "DNS:mx.test.example,IP:127.0.0.1")
    srv = Server(refuses_starttls)
    hp = "127.0.0.1:%d" % srv.port
    for opts in (["--starttls", "--cafile", cert], ["--cafile", cert], ["--starttls"]):
        rc, err = run_send(send, opts + ["--server", hp] + FROM + TO, MSG)
        stripped_checks(srv, rc, err, opts, hp, "server %s refused STARTTLS")
        check("454 4.7.0 TLS not available now" in err, "the reply is shown: " + err)
        check(verbs(srv.conns[-1]) == [b"EHLO", b"STARTTLS", b"QUIT"], "%s: %r"
              % (opts, srv.conns[-1].commands))


# (8) RFC 6125: a certificate for another name fails, whether the CAs come
# from --cafile or from the default store (SSL_CERT_FILE stands in for it)
def case_rfc6125_name_mismatch_fails(send, server, tmp):
    named, nkey = make_cert(tmp, "mx.other.example", "DNS:mx.other.example")
    srv = TlsScript(named, nkey)
    try:
        lh = "localhost:%d" % srv.port
        runs = [(["--starttls", "--server", lh], {"SSL_CERT_FILE": named}, "hostname mismatch"),
                (["--cafile", named, "--server", lh], None, "hostname mismatch"),
                (["--cafile", named, "--server", srv.hostport], None, "IP address mismatch")]
        for opts, env, why in runs:
            del srv.sni[:]
            rc, err = run_send(send, ["-v"] + opts + FROM + TO, MSG, env=env)
            check(rc == 75, "%s: exit %d, want 75: %s" % (opts, rc, err))
            check("certificate verification failed: " + why in err and "nothing sent" in err,
                  "%s: names the verification error: %s" % (opts, err))
            check("TLS started" not in err, "%s: no TLS session: %s" % (opts, err))
            check(srv.nothing_sent(), "%s: nothing of the transaction was sent" % opts)
            if opts[-1] == lh:
                check(srv.sni == ["localhost"], "SNI names the server: %r" % srv.sni)
    finally:
        srv.stop()


# (9) --server without --cafile: the default CA store verifies chain and
# name; a self-signed certificate fails (75, nothing sent) unless
# --insecure; one the store trusts passes; no SNI for an IP literal
def case_rfc6125_server_verified_by_default_store(send, server, tmp):
    os.environ.pop("SSL_CERT_FILE", None)
    os.environ.pop("SSL_CERT_DIR", None)
    cert, key = make_cert(tmp, "localhost", "DNS:localhost,IP:127.0.0.1")
    srv = TlsScript(cert, key)
    try:
        hp, lh = srv.hostport, "localhost:%d" % srv.port
        for opts in (["--starttls"], ["--require-tls"]):
            rc, err = run_send(send, opts + ["--server", hp] + FROM + TO, MSG)
            check(rc == 75, "%s, self-signed: exit %d, want 75: %s" % (opts, rc, err))
            check("certificate verification failed: self" in err and "nothing sent" in err,
                  "names the verification error: " + err)
            check(srv.nothing_sent(), "%s: nothing of the transaction was sent" % opts)
        rc, err = run_send(send, ["--starttls", "--insecure", "--server", hp] + FROM + TO, MSG)
        check(rc == 0, "--insecure: exit %d: %s" % (rc, err))
        time.sleep(0.05)
        check(srv.handshakes[-1].startswith("TLSv1") and len(srv.srv.conns[-1].bodies) == 1,
              "--insecure: sent over TLS: %r" % srv.handshakes)
        for target, sni in ((hp, [None]), (lh, ["localhost"])):
            del srv.sni[:]
            rc, err = run_send(send, ["-v", "--starttls", "--server", target] + FROM + TO, MSG,
                               env={"SSL_CERT_FILE": cert})
            check(rc == 0, "%s, trusted CA: exit %d: %s" % (target, rc, err))
            check("TLS started" in err, "TLS started: " + err)
            time.sleep(0.05)
            check(len(srv.srv.conns[-1].bodies) == 1, "delivered over TLS")
            check(srv.sni in (sni, [] if sni == [None] else sni), "%s: SNI %r, want %r"
                  % (target, srv.sni, sni))
    finally:
        srv.stop()


def start_dnsmasq(tmp, records):
    """dnsmasq on 127.0.0.1, a free port, answering only for *.test."""
    exe = shutil.which("dnsmasq") or ("/usr/sbin/dnsmasq"
                                      if os.path.exists("/usr/sbin/dnsmasq") else None)
    if not exe:
        skip_or_fail("dnsmasq (dnsmasq-base) is not installed")
    u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    u.bind(("127.0.0.1", 0))
    port = u.getsockname()[1]
    u.close()
    p = subprocess.Popen([exe, "--no-daemon", "--port=%d" % port, "--listen-address=127.0.0.1",
                          "--bind-interfaces", "--no-resolv", "--no-hosts", "--local=/test/",
                          "--user=" + ("root" if os.getuid() == 0 else "nobody"),
                          "--pid-file="] + records,
                         stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    query = b"\x12\x34\x01\x00\x00\x01\x00\x00\x00\x00\x00\x00\x04test\x00\x00\x01\x00\x01"
    for _ in range(100):
        q = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        q.settimeout(0.05)
        try:
            q.sendto(query, ("127.0.0.1", port))
            q.recv(512)
            return p, "127.0.0.1:%d" % port
        except OSError:
            if p.poll() is not None:
                skip_or_fail("dnsmasq did not start: " + p.stderr.read().decode(errors="replace"))
        finally:
            q.close()
    p.kill()
    raise Failure("dnsmasq did not answer")


# (10) delivery by MX stays opportunistic and unauthenticated with
# --starttls (RFC 7435); --cafile verifies the MX name and requires TLS
def case_rfc7435_mx_opportunistic_cafile_verifies(send, server, tmp):
    cert, key = make_cert(tmp, "mx1.example.test", "DNS:mx1.example.test")
    other, _ = make_cert(tmp, "other-ca.example", "DNS:mx1.example.test")
    dns, ns = start_dnsmasq(tmp, ["--mx-host=example.test,mx1.example.test,10",
                                  "--host-record=mx1.example.test,127.0.0.1"])
    helptext = subprocess.run([send, "--help"], stdout=subprocess.PIPE, timeout=10).stdout
    # MX hosts on loopback are refused unless the test says otherwise
    extra = ["--allow-loopback-mx"] if b"--allow-loopback-mx" in helptext else []
    plain = Server(standard)
    srv = TlsScript(cert, key)
    to = ["--to", "u@example.test"]
    try:
        def mx(opts, port, **kw):
            return run_send(send, extra + opts + FROM + to, MSG,
                            env={"SMTPW_NAMESERVER": ns, "SMTPW_MX_PORT": str(port)}, **kw)
        rc, err = mx(["--starttls"], plain.port)
        time.sleep(0.05)
        check(rc == 0, "no STARTTLS offered, opportunistic: exit %d: %s" % (rc, err))
        check(verbs(plain.conns[-1]) == [b"EHLO", b"MAIL", b"RCPT", b"DATA", b"QUIT"],
              "in clear: %r" % plain.conns[-1].commands)
        rc, err = mx(["--starttls"], srv.port)
        check(rc == 0, "self-signed MX, unverified: exit %d: %s" % (rc, err))
        time.sleep(0.05)
        check(len(srv.srv.conns[-1].bodies) == 1 and srv.handshakes[-1].startswith("TLSv1"),
              "sent over TLS: %r" % srv.handshakes)
        check(srv.sni[-1:] == ["mx1.example.test"], "SNI is the MX name: %r" % srv.sni)
        for opts in (["--starttls", "--cafile", cert], ["--cafile", cert]):
            rc, err = mx(opts, plain.port)
            stripped_checks(plain, rc, err, opts, "mx1.example.test",
                            "server %s does not offer STARTTLS")
        rc, err = mx(["--cafile", cert], srv.port)
        check(rc == 0, "--cafile, right CA and MX name: exit %d: %s" % (rc, err))
        before = len(srv.srv.conns)
        rc, err = mx(["--starttls", "--cafile", other], srv.port)
        check(rc == 75 and "certificate verification failed" in err,
              "--cafile, wrong CA: exit %d, want 75: %s" % (rc, err))
        time.sleep(0.05)
        check(all(not c.bodies and b"MAIL" not in verbs(c) for c in srv.srv.conns[before:]),
              "nothing sent after a failed verification")
    finally:
        dns.terminate()
        dns.wait(5)
        plain.stop()
        srv.stop()


CASES = {
    "esmtps": case_esmtps,
    "verify": case_verify,
    "require_not_offered": case_require_not_offered,
    "refused_454": case_refused_454,
    "injection": case_injection,
    "aiosmtpd_require": case_aiosmtpd_require,
    "usage": case_usage,
    "rfc3207_stripped_with_cafile": case_rfc3207_6_stripped_starttls_with_cafile_sends_nothing,
    "rfc3207_454_with_cafile": case_rfc3207_4_refused_starttls_with_cafile_sends_nothing,
    "rfc6125_name_mismatch": case_rfc6125_name_mismatch_fails,
    "rfc6125_default_ca_store": case_rfc6125_server_verified_by_default_store,
    "rfc7435_mx_opportunistic": case_rfc7435_mx_opportunistic_cafile_verifies,
}


def main():
    send, server, name = sys.argv[1], sys.argv[2], sys.argv[3]
    helptext = subprocess.run([send, "--help"], stdout=subprocess.PIPE, timeout=10).stdout
    if b"--starttls" not in helptext or b"has no OpenSSL" in helptext:
        if name == "usage":
            # without OpenSSL the TLS options are a usage error, said clearly
            for opt in (["--starttls"], ["--require-tls"]):
                rc, err = run_send(send, opt + ["--server", "127.0.0.1:1"] + FROM + TO, MSG)
                if rc != 64 or "no OpenSSL" not in err:
                    print("FAIL %s without OpenSSL: exit %d: %s" % (opt[0], rc, err))
                    sys.exit(1)
            print("ok   usage (built without OpenSSL: exit 64)")
            sys.exit(0)
        print("SKIP: smtpwire-send built without OpenSSL")
        sys.exit(SKIP)
    tmp = tempfile.mkdtemp(prefix="smtpw-starttls-")
    try:
        CASES[name](send, server, tmp)
        print("ok   %s" % name)
    except Failure as e:
        print("FAIL %s: %s" % (name, e))
        sys.exit(1)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
