"""smtpwire-send's exit status is safe to retry on, and says what happened.
Scripted servers on 127.0.0.1 (standard library only: nothing to skip).
Usage: retry_exit.py SMTPWIRE-SEND CASE
SPDX-License-Identifier: MIT"""
import os
import sys
import tempfile
import time

from smtpscript import Server, standard, run_send, check, stuffed, run_case

MSG = b"Subject: retry\n\nexactly once\n"
FROM = ["--from", "a@example.org"]


def to(*names):
    out = []
    for n in names:
        out += ["--to", n + "@example.net"]
    return out


def server_args(srv):
    return ["--timeout", "5", "--server", "127.0.0.1:%d" % srv.port]


def rcpts(conn):
    return [c[8:].strip(b"<>").split(b"@")[0].decode() for c in conn.commands
            if c[:4].upper() == b"RCPT"]


def verbs(conn):
    return [c[:4].upper().decode() for c in conn.commands]


class Txn:
    """A server that records each transaction's accepted recipients and
    whether it got a body: deliveries[i] = [names]."""

    def __init__(self, rcpt_reply, pipelining=False, per_txn_limit=None):
        self.rcpt_reply = rcpt_reply  # (conn number, name, accepted so far) -> reply
        self.pipelining = pipelining
        self.limit = per_txn_limit
        self.deliveries = []
        self.data_in_flight = []
        self.nconn = 0

    def __call__(self, c):
        n = self.nconn
        self.nconn += 1
        c.send(b"220 txn ESMTP\r\n")
        accepted = []
        pending = []  # replies held back to see what the client pipelines
        while True:
            line = c.line()
            if line is None:
                return
            verb = line[:4].upper()
            if verb == b"EHLO":
                c.send(b"250-txn\r\n" + (b"250-PIPELINING\r\n" if self.pipelining else b"") +
                       b"250 8BITMIME\r\n")
            elif verb == b"MAIL":
                accepted = []
                pending.append(b"250 2.1.0 ok\r\n")
            elif verb == b"RCPT":
                name = line[8:].strip(b"<>").split(b"@")[0].decode()
                if self.limit is not None and len(accepted) >= self.limit:
                    rep = b"452 4.5.3 too many recipients\r\n"
                else:
                    rep = self.rcpt_reply(n, name, len(accepted))
                if rep.startswith(b"2"):
                    accepted.append(name)
                pending.append(rep)
            elif verb == b"DATA":
                # RFC 2920: the RCPT replies still held when DATA arrives
                # mean the client sent DATA before it saw them
                self.data_in_flight.append(bool(pending))
                pending.append(b"354 go\r\n" if accepted else b"554 5.5.1 no valid recipients\r\n")
            if verb in (b"MAIL", b"RCPT") and self.pipelining:
                # answer only once the client stops sending (a flight)
                time.sleep(0.05)
                if b"\n" in c.buf:
                    continue
            if pending:
                c.send(b"".join(pending))
                pending = []
            if verb == b"DATA" and accepted:
                if c.data() is None:
                    return
                self.deliveries.append(list(accepted))
                c.send(b"250 2.0.0 queued\r\n")
            elif verb == b"RSET":
                accepted = []
                c.send(b"250 2.0.0 reset\r\n")
            elif verb == b"QUIT":
                c.send(b"221 2.0.0 bye\r\n")
                return
            elif verb not in (b"EHLO", b"MAIL", b"RCPT", b"DATA"):
                c.send(b"502 5.5.1 unknown\r\n")


def defer_first_time(name):
    def reply(n, rname, _):
        if rname == name and n == 0:
            return b"450 4.2.1 mailbox busy, try later\r\n"
        return b"250 2.1.5 ok\r\n"
    return reply


def rfc5321_4xx_recipient_resets_before_data(send, pipelining=False):
    """One recipient deferred: nothing is delivered to anyone, exit 75; the
    retry delivers to both, so each gets the message exactly once."""
    t = Txn(defer_first_time("later"), pipelining=pipelining)
    srv = Server(t)
    rc, err = run_send(send, server_args(srv) + FROM + to("ok", "later"), MSG)
    check(rc == 75, "first try: exit %d, want 75: %s" % (rc, err))
    check(t.deliveries == [], "nothing delivered on the first try: %r" % t.deliveries)
    check(srv.conns[0].bodies == [], "no body on the first try")
    check("DATA" not in verbs(srv.conns[0]), "no DATA on the first try: %r" % verbs(srv.conns[0]))
    check("deferred <later@example.net>: 450 4.2.1 mailbox busy, try later" in err,
          "the deferred recipient's line: " + err)
    check("not sent <ok@example.net>" in err, "the accepted one's line: " + err)
    rc, err = run_send(send, server_args(srv) + FROM + to("ok", "later"), MSG)
    check(rc == 0, "retry: exit %d, want 0: %s" % (rc, err))
    check(t.deliveries == [["ok", "later"]], "delivered once to both: %r" % t.deliveries)
    check(srv.conns[1].bodies == [stuffed(MSG)], "the body, once")
    if pipelining:
        check(t.data_in_flight and not any(t.data_in_flight),
              "DATA must wait for the RCPT replies: %r" % t.data_in_flight)


def rfc2920_4xx_recipient_resets_before_data_pipelined(send):
    rfc5321_4xx_recipient_resets_before_data(send, pipelining=True)


def rfc5321_4_5_3_1_10_452_splits_transactions(send):
    """A server taking 2 recipients per transaction: 452 after an
    acceptance means "no more here", so the rest follow in further
    transactions on the same connection; exit 0."""
    for pipelining in (False, True):
        t = Txn(lambda n, name, k: b"250 2.1.5 ok\r\n", pipelining=pipelining, per_txn_limit=2)
        srv = Server(t)
        rc, err = run_send(send, server_args(srv) + FROM + to("r1", "r2", "r3", "r4", "r5"), MSG)
        check(rc == 0, "452 split: exit %d, want 0: %s" % (rc, err))
        check(len(srv.conns) == 1, "one connection, got %d" % len(srv.conns))
        check(t.deliveries == [["r1", "r2"], ["r3", "r4"], ["r5"]],
              "three transactions: %r" % t.deliveries)
        check(srv.conns[0].bodies == [stuffed(MSG)] * 3, "three bodies")
        check(verbs(srv.conns[0]).count("MAIL") == 3, "three MAILs: %r" % verbs(srv.conns[0]))


def rfc5321_4_5_3_1_10_452_first_is_a_deferral(send):
    """452 before any acceptance is an ordinary temporary refusal."""
    def reply(n, name, k):
        return b"452 4.3.1 insufficient system storage\r\n" if name == "r1" else b"250 ok\r\n"
    t = Txn(reply)
    srv = Server(t)
    rc, err = run_send(send, server_args(srv) + FROM + to("r1", "r2"), MSG)
    check(rc == 75, "452 first: exit %d, want 75: %s" % (rc, err))
    check(t.deliveries == [], "nothing delivered: %r" % t.deliveries)


def perm_refusal_others_still_get_it(send):
    def reply(n, name, k):
        return b"550 5.1.1 no such user\r\n" if name == "bad" else b"250 2.1.5 ok\r\n"
    t = Txn(reply)
    srv = Server(t)
    rc, err = run_send(send, server_args(srv) + FROM + to("ok", "bad"), MSG)
    check(rc == 69, "550 for one: exit %d, want 69: %s" % (rc, err))
    check(t.deliveries == [["ok"]], "the other still gets it: %r" % t.deliveries)
    check("refused <bad@example.net>: 550 5.1.1 no such user" in err, "refusal line: " + err)
    check("delivered <ok@example.net>" in err, "delivery line: " + err)


def all_or_nothing_resets_on_any_refusal(send):
    def reply(n, name, k):
        return b"550 5.1.1 no such user\r\n" if name == "bad" else b"250 2.1.5 ok\r\n"
    for pipelining in (False, True):
        t = Txn(reply, pipelining=pipelining)
        srv = Server(t)
        rc, err = run_send(send, server_args(srv) + ["--all-or-nothing"] + FROM +
                           to("ok", "bad", "ok2"), MSG)
        check(rc == 69, "--all-or-nothing, 550: exit %d, want 69: %s" % (rc, err))
        check(t.deliveries == [] and srv.conns[0].bodies == [], "nothing delivered")
        check("DATA" not in verbs(srv.conns[0]), "no DATA: %r" % verbs(srv.conns[0]))
        check("not sent <ok@example.net>" in err and "not sent <ok2@example.net>" in err,
              "the accepted ones are reported unsent: " + err)
    t = Txn(defer_first_time("later"))
    srv = Server(t)
    rc, err = run_send(send, server_args(srv) + ["--all-or-nothing"] + FROM + to("ok", "later"), MSG)
    check(rc == 75, "--all-or-nothing, 450: exit %d, want 75" % rc)


def exit_0_delivered(send):
    t = Txn(lambda n, name, k: b"250 ok\r\n")
    srv = Server(t)
    rc, err = run_send(send, server_args(srv) + FROM + to("x", "y"), MSG)
    check(rc == 0 and err == "", "exit %d, stderr %r" % (rc, err))


def exit_64_bad_options_name_the_problem(send):
    cases = [
        (["--from", "a@example.org"], "--to is required"),
        (["--to", "x@example.net"], "--from is required"),
        (FROM + to("x") + ["--bogus"], "unknown option --bogus"),
        (FROM + ["--to"], "--to needs a value"),
        (FROM + to("x") + ["--timeout", "abc"], "--timeout must be a number of seconds"),
        (FROM + ["--to", "nobody"], "bad recipient address"),
        (FROM + to("x") + ["--server", "[::1"], "bad server"),
        (FROM + to("x") + ["a.eml", "b.eml"], "one message file at most"),
    ]
    for args, want in cases:
        rc, err = run_send(send, args, MSG)
        lines = err.splitlines()
        check(rc == 64, "%r: exit %d, want 64" % (args, rc))
        check(len(lines) == 2, "%r: two lines, got %r" % (args, lines))
        check(lines[0].startswith("smtpwire-send: ") and want in lines[0],
              "%r: want %r in the first line: %r" % (args, want, lines[0]))
        check("--help" in lines[1], "%r: a hint to --help: %r" % (args, lines[1]))
    rc, err = run_send(send, ["--help"])
    check(rc == 0, "--help exits 0")


def exit_66_no_input(send):
    rc, err = run_send(send, FROM + to("x") + ["/nonexistent/message.eml"], MSG)
    check(rc == 66, "missing file: exit %d, want 66" % rc)
    check("/nonexistent/message.eml: No such file or directory" in err, err)
    rc, err = run_send(send, FROM + to("x") + ["--config", "/nonexistent/smtpwire.conf"], MSG)
    check(rc == 66, "missing --config: exit %d, want 66" % rc)


def exit_68_unknown_domain(send):
    from dns_edge import Nameserver
    ns = Nameserver()
    env = {"SMTPW_NAMESERVER": "127.0.0.1:%d" % ns.port}
    rc, err = run_send(send, ["--timeout", "3"] + FROM + ["--to", "u@nosuch.test"], MSG, env=env)
    check(rc == 68, "NXDOMAIN: exit %d, want 68: %s" % (rc, err))
    check("nosuch.test" in err and "does not exist" in err, "the DNS error said: " + err)


def exit_69_permanent(send):
    srv = Server(lambda c: standard(c, rcpt=lambda l: b"550 5.1.1 no such user\r\n"))
    rc, err = run_send(send, server_args(srv) + FROM + to("x"), MSG)
    check(rc == 69, "550: exit %d, want 69" % rc)


def exit_75_closed_by_server_names_the_command(send):
    def h(c):
        c.send(b"220 x ESMTP\r\n")
        c.line()
        c.send(b"250 x\r\n")
        c.line()  # MAIL: hang up without a reply
    srv = Server(h)
    rc, err = run_send(send, server_args(srv) + FROM + to("x"), MSG)
    check(rc == 75, "closed after MAIL: exit %d, want 75" % rc)
    check("Resource temporarily unavailable" not in err, "a stale errno: " + err)
    check("closed the connection" in err and "MAIL" in err, "says after which command: " + err)
    srv = Server(lambda c: None)  # accepts, then closes: no greeting
    rc, err = run_send(send, server_args(srv) + FROM + to("x"), MSG)
    check(rc == 75, "closed before the greeting: exit %d, want 75" % rc)
    check("Resource temporarily unavailable" not in err, "a stale errno: " + err)
    check("closed the connection" in err and "greeting" in err, "says when: " + err)


def exit_76_protocol_error(send):
    srv = Server(lambda c: standard(c, ehlo=b"25O-scripted\r\n250 ok\r\n"))
    rc, err = run_send(send, server_args(srv) + FROM + to("x"), MSG)
    check(rc == 76, "malformed reply: exit %d, want 76" % rc)
    check(srv.conns[0].bodies == [], "no body after a malformed reply")


def version(send):
    import subprocess
    p = subprocess.run([send, "--version"], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                       timeout=10)
    check(p.returncode == 0, "--version: exit %d" % p.returncode)
    out = p.stdout.decode()
    check(out.startswith("smtpwire-send ") and "library" in out, "--version says: %r" % out)


if __name__ == "__main__":
    run_case(globals())
