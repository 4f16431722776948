#!/usr/bin/python3
"""STARTTLS (RFC 3207) through the adapter's I/O hooks and OpenSSL: swaks
--tls delivers a message; the Received: line says ESMTPS (RFC 3848).
Skipped when the server was built without OpenSSL."""
import os, subprocess, sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from srvlib import SKIP, Server, check, need, split_stored, tls_cert

exe = sys.argv[1]
cert, key = tls_cert(exe)
swaks = need("swaks")
srv = Server(exe, "--tls-cert", cert, "--tls-key", key)
try:
    p = subprocess.run([swaks, "--server", f"127.0.0.1:{srv.port}", "--tls", "--helo",
                        "tls.test.example", "--from", "a@x.example", "--to", "b@y.example",
                        "--body", "over TLS", "--timeout", "10"],
                       stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=30)
    out = p.stdout.decode("utf-8", "replace")
    if (p.returncode != 0 and "Net::SSLeay" in out
            and os.environ.get("SMTPW_REQUIRE_INTEROP") != "1"):
        print("SKIP: swaks lacks TLS support (Net::SSLeay)")
        sys.exit(SKIP)
    check(p.returncode == 0 and "TLS started" in out, f"swaks --tls: {out}")
    files = srv.wait_files(1)
    check(len(files) == 1, "one message stored")
    info, body = split_stored(files[0])
    check(info["proto"] == b"ESMTPS", f"with {info['proto']}")
    check(body.endswith(b"\r\n\r\nover TLS\r\n\r\n\r\n"), f"body {body!r}")
    check(srv.stop() == 0, "exit status")
    print("ok: STARTTLS session stored, with ESMTPS")
finally:
    srv.close()
