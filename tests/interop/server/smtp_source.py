#!/usr/bin/python3
"""Postfix's smtp-source against smtpwire-server: 500 messages over 10
parallel sessions, one connection per message, then 200 more sent several
per connection (-d); every message stored in new/, nothing left in tmp/."""
import os, subprocess, sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from srvlib import Server, check, need

source = need("smtp-source")
exe = sys.argv[1]
srv = Server(exe)
try:
    addr = f"127.0.0.1:{srv.port}"
    p = subprocess.run([source, "-s", "10", "-m", "500", "-l", "2048", "-f", "src@x.example",
                        "-t", "dst@y.example", "-M", "source.test.example", addr],
                       stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=60)
    check(p.returncode == 0, f"smtp-source: {p.stdout[-500:]!r}")
    p = subprocess.run([source, "-d", "-s", "4", "-m", "200", "-r", "3", "-l", "100", addr],
                       stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=60)
    check(p.returncode == 0, f"smtp-source -d: {p.stdout[-500:]!r}")
    files = srv.wait_files(700)
    check(len(files) == 700, f"{len(files)} files in new/, want 700")
    check(srv.files("tmp") == [], "tmp/ is empty")
    check(srv.stop() == 0, "exit status")
    print("ok: 700 messages from smtp-source stored")
finally:
    srv.close()
