#!/usr/bin/python3
"""smtpwire-server's log of STARTTLS (RFC 3207): a handshake that succeeds
logs event=tls with the protocol and cipher; one that fails (a client
that speaks garbage after the 220) logs event=tls_error with the reason,
then the disconnect.  Skipped without OpenSSL in the build, swaks or
openssl."""
import os, socket, subprocess, sys, tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from loglib import LogServer  # noqa: E402
from srvlib import SKIP, Conn, check, need  # noqa: E402

exe = sys.argv[1]
if "--tls-cert" not in subprocess.run([exe, "--help"], stdout=subprocess.PIPE,
                                      text=True).stdout:
    print("SKIP: smtpwire-server built without OpenSSL")
    sys.exit(SKIP)
swaks = need("swaks")
openssl = need("openssl")
keydir = tempfile.mkdtemp(prefix="smtpw-tls-")
cert, key = os.path.join(keydir, "cert.pem"), os.path.join(keydir, "key.pem")
subprocess.run([openssl, "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", key,
                "-out", cert, "-days", "2", "-subj", "/CN=mx.test.example"],
               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True, timeout=30)
srv = LogServer(exe, "--tls-cert", cert, "--tls-key", key)
try:
    p = subprocess.run([swaks, "--server", f"127.0.0.1:{srv.port}", "--tls", "--from",
                        "a@x.example", "--to", "b@y.example", "--timeout", "10"],
                       stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=30)
    out = p.stdout.decode("utf-8", "replace")
    if (p.returncode != 0 and "Net::SSLeay" in out
            and os.environ.get("SMTPW_REQUIRE_INTEROP") != "1"):
        print("SKIP: swaks lacks TLS support (Net::SSLeay)")
        sys.exit(SKIP)
    check(p.returncode == 0, out)
    tls = srv.wait_event(lambda e: e["event"] == "tls")
    check(tls is not None and tls["protocol"].startswith("TLSv") and tls["cipher"],
          f"tls line: {tls and tls.raw}")

    c = Conn(srv.port)
    c.reply()
    c.send(b"EHLO x.example\r\n")
    c.reply()
    c.send(b"STARTTLS\r\n")
    check(c.code() == b"220", "STARTTLS 220")
    c.send(b"this is not a TLS ClientHello\r\n" * 4)
    c.rest()
    c.close()
    err = srv.wait_event(lambda e: e["event"] == "tls_error")
    check(err is not None and err["error"] and err["session"] != tls["session"],
          "tls_error line")
    dis = srv.wait_event(lambda e: e["event"] == "disconnect" and e["session"] == err["session"])
    check(dis is not None and dis["reason"] == "tls_error", f"disconnect: {dis and dis.raw}")
finally:
    srv.close()
print("ok")
