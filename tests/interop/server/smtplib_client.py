#!/usr/bin/python3
"""Python's smtplib against smtpwire-server: several messages over one
session (dot lines, an 8-bit body, several recipients, a refused recipient),
every stored file checked byte for byte: trace fields, then the body as sent
after unstuffing."""
import os, smtplib, sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from srvlib import Server, check, split_stored

exe = sys.argv[1]
srv = Server(exe, "--max-recipients", "2")
try:
    bodies = [
        (b"Subject: dots\r\n\r\n.\r\n..\r\n.leading dot\r\n...three\r\nend .\r\n", "a@x.example",
         ["b@y.example"]),
        ("Subject: 8bit\r\nContent-Type: text/plain; charset=utf-8\r\n"
         "Content-Transfer-Encoding: 8bit\r\n\r\nGr\u00fc\u00dfe, \u00e9t\u00e9 \u2603\r\n"
         .encode("utf-8") + bytes(range(0x80, 0x100)) + b"\r\n", "", ["c@y.example"]),
        (b"Subject: two\r\n\r\nfor two recipients\r\n", "d@x.example",
         ["e@y.example", "\"quoted local\"@y.example"]),
        (b"Subject: no final newline\r\n\r\nlast line", "f@x.example", ["g@y.example"]),
    ]
    expect = []
    with smtplib.SMTP("127.0.0.1", srv.port, local_hostname="client.test.example",
                      timeout=10) as s:
        code, _ = s.ehlo()
        check(code == 250, "EHLO")
        check(s.has_extn("pipelining") and s.has_extn("8bitmime") and s.has_extn("size"),
              f"EHLO keywords: {s.esmtp_features}")
        for body, frm, rcpts in bodies:
            refused = s.sendmail(frm, rcpts, body, mail_options=["BODY=8BITMIME"])
            check(refused == {}, f"refused {refused}")
            # smtplib adds CRLF when the body lacks it (RFC 5321 4.1.1.4).
            expect.append((frm, rcpts, body if body.endswith(b"\r\n") else body + b"\r\n"))
        # A third recipient is past --max-recipients 2: 452, the rest goes.
        refused = s.sendmail("h@x.example", ["i@y.example", "j@y.example", "k@y.example"],
                             b"Subject: too many\r\n\r\nx\r\n")
        check(list(refused) == ["k@y.example"] and refused["k@y.example"][0] == 452,
              f"third recipient: {refused}")
        expect.append(("h@x.example", ["i@y.example", "j@y.example"],
                       b"Subject: too many\r\n\r\nx\r\n"))
        # A recipient that is not an address: 501, the message is refused.
        try:
            s.sendmail("a@x.example", ["not an address"], b"x\r\n")
            check(False, "a bad recipient was accepted")
        except smtplib.SMTPRecipientsRefused as e:
            code = e.recipients["not an address"][0]
            check(code in (501, 553), f"bad recipient code {code}")
        code, _ = s.noop()
        check(code == 250, "NOOP after refusals")
    files = srv.wait_files(len(expect))
    check(len(files) == len(expect), f"{len(files)} files in new/, want {len(expect)}")
    check(srv.files("tmp") == [], "tmp/ is empty")
    got = []
    for path in files:
        info, body = split_stored(path)
        got.append((info, body))
    # Match each expected message to its file by body (names sort by time).
    for frm, rcpts, body in expect:
        match = [i for i, (info, b) in enumerate(got) if b == body]
        check(len(match) == 1, f"body stored exactly once: {body[:40]!r}")
        info, _ = got.pop(match[0])
        check(info["from"] == frm.encode(), f"Return-Path {info['from']} != {frm}")
        check(info["rcpts"] == [r.encode() for r in rcpts], f"Delivered-To {info['rcpts']}")
        check(info["helo"] == b"client.test.example", f"helo {info['helo']}")
        check(info["proto"] == b"ESMTP", "with ESMTP")
        check(info["for"] == (rcpts[0].encode() if len(rcpts) == 1 else None),
              f"for clause {info['for']}")
    check(srv.stop() == 0, "exit status after SIGTERM")
    print(f"ok: {len(expect)} messages stored byte-exact")
finally:
    srv.close()
