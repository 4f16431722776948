"""smtpwire-send against scripted (mis)behaving servers: exit status,
what was sent and what was not.  Usage: misbehave.py SMTPWIRE-SEND [CASE...]
SPDX-License-Identifier: MIT"""
import sys
import time

from smtpscript import (Server, standard, run_send, check, stuffed, Failure, default_helo)

MSG = b"Subject: t\n\nline one\n.dot line\n"
FROM = ["--from", "a@example.org"]


def to(*names):
    out = []
    for n in names:
        out += ["--to", n + "@example.net"]
    return out


def rcpt_by_name(table):
    def reply(line):
        for name, rep in table.items():
            if name.encode() + b"@" in line:
                return rep
        return b"250 2.1.5 ok\r\n"
    return reply


def start(handler):
    return Server(handler)


def sent_verbs(conn):
    return [c[:4].upper() for c in conn.commands]


def case_greeting_4xx(send):
    srv = start(lambda c: standard(c, greeting=b"421 4.3.2 come back later\r\n"))
    rc, err = run_send(send, ["--server", "127.0.0.1:%d" % srv.port] + FROM + to("x"), MSG)
    check(rc == 75, "421 greeting: exit %d, want 75" % rc)
    check("come back later" in err, "the greeting reply is shown: " + err)
    check(b"MAIL" not in srv.conns[0].rx, "nothing after a 421 greeting")


def case_greeting_554(send):
    srv = start(lambda c: standard(c, greeting=b"554 5.3.2 no service\r\n"))
    rc, err = run_send(send, ["--server", "127.0.0.1:%d" % srv.port] + FROM + to("x"), MSG)
    check(rc == 69, "554 greeting: exit %d, want 69" % rc)
    time.sleep(0.05)
    # RFC 5321 3.1: after 554 the client sends QUIT, nothing else
    check(sent_verbs(srv.conns[0]) in ([], [b"QUIT"]), "only QUIT: %r" % srv.conns[0].commands)


def case_rcpt_all_5xx(send):
    srv = start(lambda c: standard(c, rcpt=lambda l: b"550 5.1.1 no such user\r\n"))
    rc, err = run_send(send, ["--server", "127.0.0.1:%d" % srv.port] + FROM + to("x", "y"), MSG)
    check(rc == 69, "every RCPT 550: exit %d, want 69" % rc)
    time.sleep(0.05)
    verbs = sent_verbs(srv.conns[0])
    check(b"DATA" not in verbs, "no DATA without PIPELINING: %r" % verbs)
    check(srv.conns[0].bodies == [], "no body")
    check(b"RSET" in verbs or b"QUIT" in verbs, "RSET or QUIT: %r" % verbs)
    check("<x@example.net>: 550 5.1.1 no such user" in err, "refusal shown: " + err)
    check("<y@example.net>: 550 5.1.1 no such user" in err, "refusal shown: " + err)


def pipelined_server(nrcpt, rcpt_reply, data_reply):
    """Answers MAIL and the RCPTs only once the whole flight is in: a client
    that waits for each reply would time out here.  DATA follows once the
    client has the RCPT replies (smtpwire-send decides on them first: a
    deferred recipient resets the transaction before DATA)."""
    def h(c):
        c.send(b"220 pipe ESMTP\r\n")
        c.line()
        c.send(b"250-pipe\r\n250-PIPELINING\r\n250-8BITMIME\r\n250 SIZE\r\n")
        flight = []
        for _ in range(nrcpt + 1):
            l = c.line()
            if l is None:
                return
            flight.append(l)
        c.flight = flight
        rep = b"250 2.1.0 ok\r\n"
        accepted = 0
        for l in flight[1:]:
            r = rcpt_reply(l)
            accepted += r.startswith(b"2")
            rep += r
        c.send(rep)
        l = c.line()
        if l is None or not l.upper().startswith(b"DATA"):
            c.after = l
            if l is not None:
                c.send(b"250 ok\r\n")
                standard_tail(c)
            return
        c.send(data_reply)
        if data_reply.startswith(b"354"):
            if c.data() is None:
                return
            c.send(b"250 2.0.0 queued\r\n")
        standard_tail(c)
    return h


def standard_tail(c):
    while True:
        l = c.line()
        if l is None:
            return
        if l.upper().startswith(b"QUIT"):
            c.send(b"221 bye\r\n")
            return
        c.send(b"250 ok\r\n")


def case_pipelined_flight(send):
    srv = start(pipelined_server(3, lambda l: b"250 2.1.5 ok\r\n", b"354 go\r\n"))
    rc, err = run_send(send, ["--timeout", "3", "--server", "127.0.0.1:%d" % srv.port] + FROM +
                       to("x", "y", "z"), MSG)
    check(rc == 0, "pipelined: exit %d, want 0: %s" % (rc, err))
    c = srv.conns[0]
    check([l[:4] for l in c.flight] == [b"MAIL", b"RCPT", b"RCPT", b"RCPT"],
          "flight %r" % c.flight)
    check(c.bodies == [stuffed(MSG)], "body %r" % c.bodies)


def case_pipelined_all_5xx(send):
    srv = start(pipelined_server(2, lambda l: b"550 5.1.1 no\r\n", b"554 5.5.1 no valid recipients\r\n"))
    rc, err = run_send(send, ["--timeout", "3", "--server", "127.0.0.1:%d" % srv.port] + FROM +
                       to("x", "y"), MSG)
    check(rc == 69, "pipelined all 550: exit %d, want 69" % rc)
    time.sleep(0.05)
    c = srv.conns[0]
    check(c.bodies == [], "no body")
    check(b"line one" not in c.rx, "no body bytes at all")
    check(b"DATA" not in c.rx, "no DATA without an accepted recipient")


def case_mixed_perm(send):
    srv = start(lambda c: standard(c, rcpt=rcpt_by_name({"bad": b"550 5.1.1 bad user\r\n"})))
    rc, err = run_send(send, ["--server", "127.0.0.1:%d" % srv.port] + FROM + to("ok", "bad", "ok2"), MSG)
    check(rc == 69, "mixed 250/550: exit %d, want 69" % rc)
    c = srv.conns[0]
    check(c.bodies == [stuffed(MSG)], "the message still goes to the accepted ones")
    check("<bad@example.net>: 550 5.1.1 bad user" in err, "refusal shown: " + err)
    # one line per recipient says what happened to it (issue 7)
    check("delivered <ok@example.net>" in err and "delivered <ok2@example.net>" in err,
          "deliveries shown: " + err)


def case_mixed_temp(send):
    srv = start(lambda c: standard(c, rcpt=rcpt_by_name({"bad": b"550 5.1.1 bad user\r\n",
                                                         "later": b"450 4.2.1 mailbox busy\r\n"})))
    rc, err = run_send(send, ["--server", "127.0.0.1:%d" % srv.port] + FROM +
                       to("ok", "bad", "later"), MSG)
    check(rc == 75, "mixed 250/550/450: exit %d, want 75" % rc)
    # a 4xx resets the transaction before DATA: nothing delivered, so a
    # retry on 75 cannot give "ok" a second copy
    check(srv.conns[0].bodies == [], "nothing delivered: %r" % srv.conns[0].bodies)
    check("not sent <ok@example.net>" in err, "the accepted one is not sent: " + err)
    check("<later@example.net>: 450 4.2.1 mailbox busy" in err, "temp refusal shown: " + err)
    check("<bad@example.net>: 550 5.1.1 bad user" in err, "perm refusal shown: " + err)


def case_421_mid_session(send):
    def h(c):
        c.send(b"220 x ESMTP\r\n")
        c.line()
        c.send(b"250 x\r\n")
        c.line()  # MAIL
        c.send(b"421 4.3.0 shutting down\r\n")
    srv = start(h)
    rc, err = run_send(send, ["--server", "127.0.0.1:%d" % srv.port] + FROM + to("x"), MSG)
    check(rc == 75, "421 to MAIL: exit %d, want 75" % rc)
    check("shutting down" in err, "421 shown: " + err)


def case_drop_after_data(send):
    def h(c):
        c.send(b"220 x ESMTP\r\n")
        c.line()
        c.send(b"250-x\r\n250 8BITMIME\r\n")
        for _ in range(2):
            c.line()
            c.send(b"250 ok\r\n")
        c.line()  # DATA
        c.send(b"354 go\r\n")
        c.data()  # then hang up without a reply
    srv = start(h)
    rc, err = run_send(send, ["--server", "127.0.0.1:%d" % srv.port] + FROM + to("x"), MSG)
    check(rc == 75, "dropped after the body: exit %d, want 75" % rc)
    check(srv.conns[0].bodies == [stuffed(MSG)], "the body went out whole")


def case_drop_at_data(send):
    def h(c):
        c.send(b"220 x ESMTP\r\n")
        c.line()
        c.send(b"250 x\r\n")
        for _ in range(2):
            c.line()
            c.send(b"250 ok\r\n")
        c.line()  # DATA: hang up
    srv = start(h)
    rc, err = run_send(send, ["--server", "127.0.0.1:%d" % srv.port] + FROM + to("x"), MSG)
    check(rc == 75, "dropped at DATA: exit %d, want 75" % rc)


def case_bare_250_last_line(send):
    # RFC 5321 4.2: the text is optional, "250" alone ends the reply
    srv = start(lambda c: standard(c, ehlo=b"250-scripted\r\n250-8BITMIME\r\n250\r\n",
                                   mail=b"250\r\n"))
    rc, err = run_send(send, ["--server", "127.0.0.1:%d" % srv.port] + FROM + to("x"), MSG)
    check(rc == 0, "bare 250: exit %d, want 0: %s" % (rc, err))
    check(srv.conns[0].bodies == [stuffed(MSG)], "delivered")


def case_malformed_reply(send):
    srv = start(lambda c: standard(c, ehlo=b"25O-scripted\r\n250 ok\r\n"))
    rc, err = run_send(send, ["--server", "127.0.0.1:%d" % srv.port] + FROM + to("x"), MSG)
    check(rc == 76, "malformed reply: exit %d, want 76 (EX_PROTOCOL)" % rc)
    check(srv.conns[0].bodies == [], "no body after a malformed reply")


def case_never_answers(send):
    def h(c):
        c.line()  # no greeting, ever; returns at EOF
    srv = start(h)
    t = time.monotonic()
    rc, err = run_send(send, ["--timeout", "1", "--server", "127.0.0.1:%d" % srv.port] + FROM +
                       to("x"), MSG, timeout=10)
    took = time.monotonic() - t
    check(rc == 75, "silent server: exit %d, want 75" % rc)
    check(0.9 <= took < 3.0, "--timeout 1 took %.2f s" % took)


def case_ehlo_502_helo(send):
    srv = start(lambda c: standard(c, ehlo=b"502 5.5.1 EHLO not implemented\r\n"))
    rc, err = run_send(send, ["--server", "127.0.0.1:%d" % srv.port, "--helo", "client.example"] +
                       FROM + to("x"), b"Subject: t\n\nplain\n")
    check(rc == 0, "HELO fallback: exit %d, want 0: %s" % (rc, err))
    v = srv.conns[0].commands
    check(v[0] == b"EHLO client.example" and v[1] == b"HELO client.example", "%r" % v[:2])
    check(srv.conns[0].commands[2] == b"MAIL FROM:<a@example.org>", "no ESMTP params after HELO: %r" % v[2])


def case_no_8bitmime(send):
    # an 8-bit body but no 8BITMIME offered (RFC 6152 3): nothing is sent
    srv = start(lambda c: standard(c, ehlo=b"250-scripted\r\n250 SIZE 1000000\r\n"))
    rc, err = run_send(send, ["--server", "127.0.0.1:%d" % srv.port] + FROM + to("x"),
                       b"Subject: caf\xc3\xa9\n\n8-bit\n")
    check(rc == 69, "8-bit body without 8BITMIME: exit %d, want 69" % rc)
    time.sleep(0.05)
    check(b"MAIL" not in srv.conns[0].rx and srv.conns[0].bodies == [], "%r" % srv.conns[0].rx)


def case_size_over_limit(send):
    # RFC 1870 6.1: a message over the advertised SIZE is not offered
    srv = start(lambda c: standard(c, ehlo=b"250-scripted\r\n250 SIZE 20\r\n"))
    rc, err = run_send(send, ["--server", "127.0.0.1:%d" % srv.port] + FROM + to("x"), MSG)
    check(rc == 69, "over SIZE: exit %d, want 69" % rc)
    time.sleep(0.05)
    check(b"MAIL" not in srv.conns[0].rx, "%r" % srv.conns[0].rx)


def case_refused_connection(send):
    srv = start(lambda c: None)
    port = srv.port
    srv.stop()
    time.sleep(0.05)
    rc, err = run_send(send, ["--server", "127.0.0.1:%d" % port] + FROM + to("x"), MSG)
    check(rc == 75, "connection refused: exit %d, want 75" % rc)


def case_usage(send):
    for args in (["--to", "x@y"], FROM, FROM + ["--to", "not an address"], FROM + to("x") + ["--bogus"],
                 FROM + to("x") + ["--timeout", "abc"], FROM + to("x") + ["--server", "[::1"]):
        rc, err = run_send(send, args, MSG)
        check(rc == 64, "%r: exit %d, want 64" % (args, rc))
    rc, err = run_send(send, ["--help"])
    check(rc == 0, "--help exits 0")


HOSTILE = b"550 5.1.1 \x9b31mred\x1b]0;title \xc3\xa9 back\\slash"


def case_escaped_reply_text(send):
    # 8-bit C1 bytes (0x9B is CSI on many terminals) reach the client; the
    # core refuses ESC itself (a protocol error), so both are tried
    srv = start(lambda c: standard(c, rcpt=lambda line: HOSTILE.replace(b"\x1b", b"") + b"\r\n"))
    rc, err = run_send(send, ["-v", "--server", "127.0.0.1:%d" % srv.port] + FROM + to("x"), MSG)
    check(rc == 69, "550: exit %d, want 69" % rc)
    check("\ufffd" not in err and "\x9b" not in err, "raw 8-bit bytes printed: %r" % err)
    # common/escape.h: a backslash is "\\", other bytes "\xNN"
    check("S: 550 5.1.1 \\x9b31mred]0;title \\xc3\\xa9 back\\\\slash\n" in err,
          "the -v line, escaped: %r" % err)
    check("<x@example.net>: 550 5.1.1 \\x9b31mred]0;title \\xc3\\xa9 back\\\\slash\n" in err,
          "the error message, escaped: %r" % err)
    srv = start(lambda c: standard(c, rcpt=lambda line: HOSTILE + b"\r\n"))
    rc, err = run_send(send, ["-v", "--server", "127.0.0.1:%d" % srv.port] + FROM + to("x"), MSG)
    check(rc == 76, "ESC in a reply: exit %d, want 76 (protocol error)" % rc)
    check("\x1b" not in err, "ESC printed: %r" % err)


def case_helo_default(send):
    srv = start(lambda c: standard(c))
    rc, err = run_send(send, ["--server", "127.0.0.1:%d" % srv.port] + FROM + to("x"), MSG)
    check(rc == 0, "exit %d: %s" % (rc, err))
    want = b"EHLO " + default_helo().encode()
    check(srv.conns[0].commands[0] == want, "%r, want %r" % (srv.conns[0].commands[0], want))
    check(want != b"EHLO localhost", "never localhost over TCP")


def case_data_250(send):
    srv = start(lambda c: standard(c, data=b"250 2.0.0 no body needed\r\n"))
    rc, err = run_send(send, ["--server", "127.0.0.1:%d" % srv.port] + FROM + to("x"), MSG)
    check(rc == 76, "250 to DATA: exit %d, want 76 (protocol error)" % rc)
    check(srv.conns[0].bodies == [], "no body after a 250 to DATA")


def case_reply_before_dot(send):
    srv = start(lambda c: standard(c, data=b"354 go\r\n250 2.0.0 queued early\r\n"))
    rc, err = run_send(send, ["--server", "127.0.0.1:%d" % srv.port] + FROM + to("x"), MSG)
    check(rc == 76, "250 before the dot: exit %d, want 76 (protocol error)" % rc)
    check(srv.conns[0].bodies == [], "the message was not sent")


CASES = {k[5:]: v for k, v in sorted(globals().items()) if k.startswith("case_")}


def main():
    send = sys.argv[1]
    names = sys.argv[2:] or list(CASES)
    failed = 0
    for n in names:
        try:
            CASES[n](send)
            print("ok   " + n)
        except (Failure, AssertionError, Exception) as e:
            failed += 1
            print("FAIL %s: %s" % (n, e))
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
