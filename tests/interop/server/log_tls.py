#!/usr/bin/python3
"""smtpwire-server's log of STARTTLS (RFC 3207): a handshake that succeeds
logs event=tls with the protocol and cipher; one that fails (a client
that speaks garbage after the 220) logs event=tls_error with the reason,
then the disconnect.  Skipped without OpenSSL in the build, swaks or
openssl."""
import os, socket, subprocess, sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from loglib import LogServer  # noqa: E402
from srvlib import SKIP, Conn, check, need, tls_cert  # noqa: E402

exe = sys.argv[1]
cert, key = tls_cert(exe)
swaks = need("swaks")
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
