#!/usr/bin/python3
"""SMTP smuggling (CVE-2023-51764 class) against the running server over TCP:
every mix of bare CR, bare LF and CRLF around the dot, under the strict and
lenient profiles and every --bare-body policy.  Only CRLF "." CRLF ends a
message (RFC 5321 4.1.1.4): the replies after the 354 are exactly one verdict,
then NOOP and QUIT, and new/ never holds a second (smuggled) message.  Also:
nothing pipelined after QUIT, after a 421, or after STARTTLS (RFC 3207 4.2)
is executed."""
import os, socket, ssl, subprocess, sys, tempfile, time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from srvlib import Conn, Server, check, split_stored

FAKES = [b"\r.\r", b"\r.\n", b"\r.\r\n", b"\n.\r", b"\n.\n", b"\n.\r\n", b"\r\n.\r",
         b"\r\n.\n", b"\r\n.\r\r\n", b"\n.\r\r\n", b"\r\n.\n\r\n", b"\r\n.\x00\r\n",
         b"\r\n. \r\n"]
# Fakes without a bare CR or LF: never refused, whatever the policy.
CLEAN = {b"\r\n.\x00\r\n", b"\r\n. \r\n"}
SMUGGLED = (b"MAIL FROM:<smuggled@evil.example>\r\nRCPT TO:<victim@y.example>\r\n"
            b"DATA\r\nSubject: smuggled\r\n\r\nsmuggled body\r\n")
HOST = b"mx.test.example"
CLOSING = b"221 2.0.0 " + HOST + b" Service closing transmission channel\r\n"
CONFIGS = [[], ["--lenient"], ["--bare-body", "normalize"], ["--bare-body", "keep"],
           ["--lenient", "--bare-command", "keep", "--bare-body", "keep"],
           ["--lenient", "--bare-command", "normalize", "--bare-body", "normalize"]]

exe = sys.argv[1]


def open_data(c):
    check(c.code() == b"220", "greeting")
    c.send(b"EHLO c.test.example\r\nMAIL FROM:<a@x.example>\r\nRCPT TO:<b@y.example>\r\n"
           b"DATA\r\n")
    c.reply()
    check(c.codes(3) == [b"250", b"250", b"354"], "envelope")


def smuggling():
    for cfg in CONFIGS:
        srv = Server(exe, *cfg)
        try:
            reject = "--bare-body" not in cfg
            for fake in FAKES:
                c = Conn(srv.port)
                open_data(c)
                c.send(b"Subject: s\r\n\r\nbefore" + fake + SMUGGLED + b"\r\n.\r\nNOOP\r\nQUIT\r\n")
                got = c.rest()
                c.close()
                if reject and fake not in CLEAN:
                    verdict = b"550 5.6.0 Message refused: bare CR or LF in the body\r\n"
                else:
                    verdict = b"250 2.0.0 Message accepted for delivery\r\n"
                check(got == verdict + b"250 2.0.0 Ok\r\n" + CLOSING,
                      f"{cfg} {fake!r}: replies {got!r}")
                files = srv.wait_files(0 if verdict[:3] == b"550" else 1, 5)
                time.sleep(0.05)
                files = srv.files("new")
                check(len(files) == (0 if verdict[:3] == b"550" else 1),
                      f"{cfg} {fake!r}: {len(files)} messages stored")
                for f in files:
                    info, body = split_stored(f)
                    check(info["from"] == b"a@x.example" and info["rcpts"] == [b"b@y.example"],
                          f"{cfg} {fake!r}: envelope {info}")
                    check(body.startswith(b"Subject: s\r\n\r\nbefore") and
                          b"MAIL FROM:<smuggled@evil.example>" in body and
                          body.endswith(b"smuggled body\r\n\r\n"),
                          f"{cfg} {fake!r}: body {body!r}")
                    os.unlink(f)
                check(srv.files("tmp") == [], "tmp/ empty")
            check(srv.stop() == 0, "exit status")
        finally:
            srv.close()
    print(f"ok: {len(FAKES)} fake ends x {len(CONFIGS)} configs, no second message")


def after_quit_and_421():
    srv = Server(exe)
    try:
        # RFC 5321 4.1.1.10: QUIT then a whole transaction in one segment.
        c = Conn(srv.port)
        check(c.code() == b"220", "greeting")
        c.send(b"HELO c.test.example\r\nQUIT\r\nMAIL FROM:<a@x.example>\r\n"
               b"RCPT TO:<b@y.example>\r\nDATA\r\nx\r\n.\r\n")
        got = c.rest()
        c.close()
        check(got == b"250 " + HOST + b"\r\n221 " + HOST +
              b" Service closing transmission channel\r\n", f"after QUIT: {got!r}")
        # Ten refused commands, then a transaction: 421, nothing executed.
        c = Conn(srv.port)
        check(c.code() == b"220", "greeting")
        c.send(b"HELO c.test.example\r\n" + b"BOGUS\r\n" * 10 +
               b"MAIL FROM:<a@x.example>\r\nRCPT TO:<b@y.example>\r\nDATA\r\nx\r\n.\r\n")
        got = c.rest()
        c.close()
        check(got == b"250 " + HOST + b"\r\n" + b"500 Command unrecognized\r\n" * 10 +
              b"421 " + HOST + b" Too many errors, closing connection\r\n",
              f"after 421: {got!r}")
        time.sleep(0.1)
        check(srv.files("new") == [] and srv.files("tmp") == [], "nothing stored")
        check(srv.stop() == 0, "exit status")
    finally:
        srv.close()
    print("ok: nothing runs after QUIT or a 421")


def starttls_injection():
    """RFC 3207 4.2: commands sent in the clear right behind STARTTLS are
    dropped; under TLS the session starts over (MAIL before EHLO is 503)."""
    if "--tls-cert" not in subprocess.run([exe, "--help"], stdout=subprocess.PIPE,
                                          text=True).stdout:
        print("skip: STARTTLS (built without OpenSSL)")
        return
    keydir = tempfile.mkdtemp(prefix="smtpw-red-")
    cert, key = os.path.join(keydir, "c.pem"), os.path.join(keydir, "k.pem")
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout",
                    key, "-out", cert, "-days", "2", "-subj", "/CN=mx.test.example"],
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True,
                   timeout=60)
    srv = Server(exe, "--tls-cert", cert, "--tls-key", key)
    try:
        ctx = ssl.create_default_context()
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE
        for inject in (b"MAIL FROM:<evil@x.example>\r\n",
                       b"EHLO evil.example\r\nMAIL FROM:<evil@x.example>\r\n"
                       b"RCPT TO:<v@y.example>\r\nDATA\r\nx\r\n.\r\n"):
            c = Conn(srv.port)
            check(c.code() == b"220", "greeting")
            c.send(b"EHLO c.test.example\r\n")
            check(c.code() == b"250", "EHLO")
            c.send(b"STARTTLS\r\n" + inject)
            check(c.reply() == [b"220 2.0.0 Ready to start TLS\r\n"], "220 to STARTTLS")
            tls = ctx.wrap_socket(c.sock, server_hostname="mx.test.example")
            tls.settimeout(10)
            tf = tls.makefile("rb")
            tls.sendall(b"MAIL FROM:<a@x.example>\r\nQUIT\r\n")
            got = tf.readline() + tf.readline()
            check(got == b"503 Send HELO/EHLO first\r\n221 " + HOST +
                  b" Service closing transmission channel\r\n",
                  f"after STARTTLS with {inject!r}: {got!r}")
            tf.close()
            tls.close()
        time.sleep(0.1)
        check(srv.files("new") == [], "nothing stored")
        check(srv.stop() == 0, "exit status")
    finally:
        srv.close()
        for f in (cert, key):
            os.unlink(f)
        os.rmdir(keydir)
    print("ok: plaintext pipelined after STARTTLS is never executed")


smuggling()
after_quit_and_421()
starttls_injection()
