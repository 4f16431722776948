#!/usr/bin/python3
"""smtpwire-server's log (man smtpwire-server, LOG FORMAT) under real
clients: smtplib, swaks and smtp-source sessions leave one parseable line
per event (connect, helo, reject, message, disconnect, busy, timeout), and
a client sending control bytes and a fake CRLF can neither break a line
nor forge one.  Needs swaks and smtp-source (Postfix) for their parts."""
import os, shutil, smtplib, socket, subprocess, sys, time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from loglib import LogServer, parse_log, BadLine  # noqa: E402
from srvlib import Conn, check, need  # noqa: E402

exe = sys.argv[1]


def events(srv, name):
    return [e for e in srv.log() if e["event"] == name]


def smtplib_session():
    srv = LogServer(exe)
    try:
        with smtplib.SMTP("127.0.0.1", srv.port, local_hostname="client.test.example",
                          timeout=10) as c:
            code, _ = c.docmd("FOO bar")
            check(code == 500, f"FOO: {code}")
            c.sendmail("from@x.example", ["a@y.example", "b@y.example"], b"Subject: t\r\n\r\nhi\r\n")
        files = srv.wait_files(1)
        ev = srv.wait_event(lambda e: e["event"] == "disconnect")
        check(ev is not None, "no disconnect line")
        log = srv.log()
        names = [e["event"] for e in log]
        check(names[0] == "start", f"first event: {names}")
        start = log[0]
        check(start["listen"] == f"127.0.0.1:{srv.port}" and start["maildir"] == srv.maildir,
              f"start line: {start.raw!r}")
        con = events(srv, "connect")[0]
        sid = con["session"]
        check(con["listener"] == f"127.0.0.1:{srv.port}" and con["peer"].startswith("127.0.0.1:"),
              f"connect line: {con.raw!r}")
        mine = [e for e in log if e.get("session") == sid]
        check([e["event"] for e in mine] == ["connect", "reject", "helo", "message", "disconnect"],
              f"session events: {[e.raw for e in mine]}")
        helo = mine[2]
        check(helo["cmd"] == "EHLO" and helo["name"] == "client.test.example", helo.raw)
        rej = mine[1]
        check(rej["cmd"] == "UNKNOWN" and rej["code"] == "500" and rej["line"] == "FOO bar"
              and rej["reason"], rej.raw)
        msg = mine[3]
        check(msg["verdict"] == "accepted" and msg["code"] == "250" and msg["from"] == "from@x.example"
              and msg.all("to") == ["a@y.example", "b@y.example"] and msg["nrcpt"] == "2"
              and int(msg["size"]) == len(b"Subject: t\r\n\r\nhi\r\n") and "fsync_ms" in msg,
              msg.raw)
        check(len(files) == 1 and os.path.basename(files[0]) == msg["file"],
              f"file {msg['file']} vs {files}")
        dis = mine[4]
        check(dis["reason"] == "quit" and dis["messages"] == "1" and dis["rejects"] == "1"
              and int(dis["duration_ms"]) >= 0, dis.raw)
    finally:
        srv.close()


def hostile_bytes():
    """Control bytes, a fake CRLF (bare LF and bare CR) and a forged log line
    in HELO, MAIL and an unknown command; with -v too."""
    forged = b"ts=2026-01-01T00:00:00.000Z level=info event=message verdict=accepted"
    lines = [b"HELO evil.example\n" + forged + b"\r\n",
             b"HELO evil\rexample " + forged + b"\r\n",
             b"EHLO \x1b]0;pwned\x07\x1b[2J\x9b" + b"31m\x00x\r\n",
             b"MAIL FROM:<a\"=\\b@x.example>\n" + forged + b"\r\n",
             b"XYZZY \"\\\"\x7f\xff\xfe\r\n"]
    for flags in ([], ["-v"], ["--bare-command", "keep", "--lenient"]):
        srv = LogServer(exe, *flags)
        try:
            c = Conn(srv.port)
            c.reply()
            for l in lines:
                c.send(l)
                code = c.code()
                check(code[:1] == b"5", f"{flags} {l!r}: {code!r}")
            c.send(b"QUIT\r\n")
            c.rest()
            c.close()
            check(srv.wait_event(lambda e: e["event"] == "disconnect") is not None,
                  f"{flags}: no disconnect")
            raw = srv.raw_log()
            try:
                log = parse_log(raw)
            except BadLine as e:
                check(False, f"{flags}: a log line does not parse: {e}")
            check(all(b"\r" not in e.raw and b"\x1b" not in e.raw for e in log), "control bytes")
            check([e for e in log if e["event"] == "message"] == [], f"{flags}: forged message line")
            rejects = [e for e in log if e["event"] == "reject"]
            check(len(rejects) == len(lines), f"{flags}: {len(rejects)} rejects: {raw!r}")
            # each refused line comes back byte for byte from the log
            got = [dict(e.pairs)[ "line"] for e in rejects]
            check(got == [l[:-2] for l in lines], f"{flags}: lines {got!r}")
        finally:
            srv.close()


def swaks_session():
    swaks = need("swaks")
    srv = LogServer(exe)
    try:
        p = subprocess.run([swaks, "--server", f"127.0.0.1:{srv.port}", "--helo", "swaks.example",
                            "--from", "s@x.example", "--to", "t@y.example", "--timeout", "10"],
                           stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=30)
        check(p.returncode == 0, p.stdout.decode(errors="replace"))
        ev = srv.wait_event(lambda e: e["event"] == "disconnect")
        check(ev is not None and ev["reason"] == "quit", "swaks disconnect")
        helo = events(srv, "helo")[0]
        msg = events(srv, "message")[0]
        check(helo["name"] == "swaks.example" and msg["to"] == "t@y.example"
              and msg["verdict"] == "accepted", f"{helo.raw!r} {msg.raw!r}")
    finally:
        srv.close()


def smtp_source_sessions():
    source = need("smtp-source")
    srv = LogServer(exe)
    try:
        p = subprocess.run([source, "-s", "3", "-m", "30", "-l", "500", "-f", "src@x.example",
                            "-t", "dst@y.example", f"127.0.0.1:{srv.port}"],
                           stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=60)
        check(p.returncode == 0, p.stdout[-300:])
        srv.wait_files(30)
        end = time.time() + 10
        while time.time() < end and len(events(srv, "message")) < 30:
            time.sleep(0.05)
        msgs = events(srv, "message")
        check(len(msgs) == 30 and all(m["verdict"] == "accepted" for m in msgs),
              f"{len(msgs)} message lines")
        files = {os.path.basename(f) for f in srv.files("new")}
        check({m["file"] for m in msgs} == files, "file names in the log vs new/")
        sids = {e["session"] for e in events(srv, "connect")}
        check({m["session"] for m in msgs} <= sids, "message sessions")
    finally:
        srv.close()


def busy_and_timeout():
    srv = LogServer(exe, "--max-connections", "1", "--timeout", "1")
    try:
        a = Conn(srv.port)
        a.reply()
        b = Conn(srv.port)
        check(b.code() == b"421", "second connection")
        b.close()
        busy = srv.wait_event(lambda e: e["event"] == "busy")
        check(busy is not None and busy["reason"] == "max_connections" and busy["code"] == "421",
              "busy line")
        to = srv.wait_event(lambda e: e["event"] == "timeout", 10)
        check(to is not None and to["code"] == "421", "timeout line")
        dis = srv.wait_event(lambda e: e["event"] == "disconnect")
        check(dis is not None and dis["reason"] == "timeout", "disconnect after timeout")
        a.close()
    finally:
        srv.close()


smtplib_session()
hostile_bytes()
busy_and_timeout()
swaks_session()
smtp_source_sessions()
print("ok")
