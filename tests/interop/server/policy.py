#!/usr/bin/python3
"""smtpwire-server's recipient policy with smtplib and swaks: --domain
(others 550 5.7.1, relaying denied), --recipients FILE (others 550 5.1.1),
<Postmaster> and postmaster@ every served domain always accepted (RFC 5321
4.5.1), only accepted recipients delivered; without either option every
recipient is accepted.  swaks is needed for its part."""
import os, shutil, smtplib, subprocess, sys, tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from loglib import LogServer  # noqa: E402
from srvlib import check, need, split_stored  # noqa: E402

exe = sys.argv[1]


def rcpt(c, addr):
    code, text = c.docmd(f"RCPT TO:<{addr}>")
    return code, text.decode(errors="replace")


def with_smtplib():
    tmp = tempfile.mkdtemp(prefix="smtpw-policy-")
    users = os.path.join(tmp, "users")
    with open(users, "w") as f:
        f.write("# the users\n\nalice@example.org\n  Bob@Example.ORG  \n\"john smith\"@example.org\n")
    srv = LogServer(exe, "--domain", "example.org", "--domain", "example.net",
                    "--recipients", users)
    try:
        with smtplib.SMTP("127.0.0.1", srv.port, timeout=10) as c:
            c.ehlo("client.example")
            code, _ = c.docmd("MAIL FROM:<s@x.example>")
            check(code == 250, f"MAIL {code}")
            want = [("alice@example.org", 250, None), ("BOB@example.org", 250, None),
                    ('"john smith"@example.org', 250, None),
                    ("carol@example.org", 550, "5.1.1"), ("x@example.com", 550, "5.7.1"),
                    ("alice@sub.example.org", 550, "5.7.1"), ("Postmaster", 250, None),
                    ("postmaster@EXAMPLE.NET", 250, None), ("postmaster@example.com", 550, "5.7.1")]
            for addr, wcode, enh in want:
                code, text = rcpt(c, addr)
                check(code == wcode and (enh is None or text.startswith(enh)),
                      f"RCPT {addr}: {code} {text}")
            code, _ = c.data(b"Subject: p\r\n\r\nbody\r\n")
            check(code == 250, f"DATA {code}")
        files = srv.wait_files(1)
        info, _ = split_stored(files[0])
        check(info["rcpts"] == [b"alice@example.org", b"BOB@example.org", b'"john smith"@example.org',
                                b"Postmaster", b"postmaster@EXAMPLE.NET"], f"{info['rcpts']}")
        rej = srv.wait_event(lambda e: e["event"] == "reject" and e.get("enh") == "5.7.1")
        check(rej is not None and rej["cmd"] == "RCPT" and rej["code"] == "550"
              and rej["rcpt"] == "<x@example.com>", "reject line with enh and rcpt")
    finally:
        srv.close()
        shutil.rmtree(tmp, ignore_errors=True)


def without_policy():
    srv = LogServer(exe)
    try:
        with smtplib.SMTP("127.0.0.1", srv.port, timeout=10) as c:
            c.ehlo("client.example")
            c.docmd("MAIL FROM:<s@x.example>")
            for addr in ("a@anything.example", "b@[192.0.2.1]"):
                code, text = rcpt(c, addr)
                check(code == 250, f"no policy: RCPT {addr}: {code} {text}")
    finally:
        srv.close()


def with_swaks():
    swaks = need("swaks")
    srv = LogServer(exe, "--domain", "example.org")
    try:
        base = [swaks, "--server", f"127.0.0.1:{srv.port}", "--from", "s@x.example",
                "--timeout", "10"]
        p = subprocess.run(base + ["--to", "anyone@example.org"], stdout=subprocess.PIPE,
                           stderr=subprocess.STDOUT, timeout=30)
        check(p.returncode == 0, p.stdout.decode(errors="replace"))
        p = subprocess.run(base + ["--to", "someone@elsewhere.example"], stdout=subprocess.PIPE,
                           stderr=subprocess.STDOUT, timeout=30)
        out = p.stdout.decode(errors="replace")
        check(p.returncode != 0 and "550 5.7.1" in out, f"relay attempt: {p.returncode} {out}")
        check(len(srv.wait_files(1)) == 1, "one message stored")
    finally:
        srv.close()


with_smtplib()
without_policy()
with_swaks()
print("ok")
