#!/usr/bin/python3
"""swaks against smtpwire-server: a plain session with dot lines, a
pipelined one (RFC 2920) with two recipients, and one that quits after
RCPT (nothing stored)."""
import os, subprocess, sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from srvlib import Server, check, need, split_stored

swaks = need("swaks")
exe = sys.argv[1]
srv = Server(exe)
try:
    base = [swaks, "--server", f"127.0.0.1:{srv.port}", "--helo", "swaks.test.example",
            "--from", "a@x.example", "--timeout", "10"]

    def run(*args):
        p = subprocess.run(base + list(args), stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                           timeout=30)
        return p.returncode, p.stdout.decode("utf-8", "replace")

    rc, out = run("--to", "b@y.example", "--body", "first line\n.dot line\n..two dots\nlast")
    check(rc == 0, f"plain session: {out}")
    rc, out = run("--pipeline", "--to", "c@y.example,d@y.example", "--body", "pipelined body")
    check(rc == 0 and "PIPELINING" in out, f"pipelined session: {out}")
    rc, out = run("--to", "e@y.example", "--quit-after", "RCPT")
    check(rc == 0, f"quit after RCPT: {out}")
    files = srv.wait_files(2)
    check(len(files) == 2, f"{len(files)} files in new/, want 2")
    seen = {}
    for path in files:
        info, body = split_stored(path)
        seen[tuple(info["rcpts"])] = body
        check(info["helo"] == b"swaks.test.example", "helo")
    plain = seen.get((b"b@y.example",))
    # swaks ends its body with an empty line of its own.
    check(plain is not None and plain.endswith(
        b"\r\n\r\nfirst line\r\n.dot line\r\n..two dots\r\nlast\r\n\r\n\r\n"),
        f"plain body {plain!r}")
    piped = seen.get((b"c@y.example", b"d@y.example"))
    check(piped is not None and piped.endswith(b"\r\n\r\npipelined body\r\n\r\n\r\n"),
          f"pipelined body {piped!r}")
    check(srv.files("tmp") == [], "tmp/ is empty")
    check(srv.stop() == 0, "exit status")
    print("ok: swaks plain, pipelined, quit-after-RCPT")
finally:
    srv.close()
