#!/usr/bin/python3
"""The client core, through the binding, delivering over asyncio streams to
python3-aiosmtpd on 127.0.0.1: the envelope and the message must arrive
byte-exact, a refused recipient is matched to its index (RFC 5321 3.3) and
the others still get the message.  Run with /usr/bin/python3 (Debian's
aiosmtpd).  SMTPW_LIB: the shared library.
SPDX-License-Identifier: MIT"""
import asyncio

from pyt import bound, check, import_binding, run_cases, skip

bound(60)
sw = import_binding()
try:
    from aiosmtpd.smtp import SMTP
except ImportError:
    skip("python3-aiosmtpd is not installed for this python3")

MESSAGE = (b"From: a@x.example\r\nSubject: from the client core\r\n\r\n.leading dot\r\n"
           b"..two\r\n.\r\nbare LF\nline\r\nno final newline")
# What the server must receive: bare LF made CRLF, a CRLF added at the end,
# dots unstuffed again on its side (RFC 5321 4.5.2).
EXPECTED = MESSAGE.replace(b"bare LF\n", b"bare LF\r\n") + b"\r\n"


class Handler:
    def __init__(self):
        self.envelopes = []

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address.startswith("nobody@"):
            return "550 5.1.1 No such user"
        envelope.rcpt_tos.append(address)
        return "250 2.1.5 OK"

    async def handle_DATA(self, server, session, envelope):
        self.envelopes.append((session.host_name, envelope.mail_from, list(envelope.rcpt_tos),
                               list(envelope.mail_options), envelope.original_content))
        return "250 2.0.0 stored"


async def deliver(port, sender, rcpts, message):
    """One transaction by the driver loop of api.md A over asyncio streams.
    Commands go out as fast as the core allows (E_AGAIN: wait for replies;
    RFC 2920 when PIPELINING is offered, one at a time when not)."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    c = sw.Client()
    todo, replies = [], []

    def push():
        while todo:
            try:
                todo[0]()
            except sw.Error as e:
                if e.code != sw.E_AGAIN:
                    raise
                return
            todo.pop(0)

    def on_last(e):
        if e.cmd == sw.CMD_GREETING:
            todo.append(lambda: c.ehlo("client.example"))
        elif e.cmd == sw.CMD_EHLO:
            todo.append(lambda: c.mail(sender, size=len(message)))
            todo.extend((lambda r=r: c.rcpt(r)) for r in rcpts)
            todo.append(c.data)
        elif e.cmd == sw.CMD_DATA and c.want() & sw.WANT_BODY:
            writer.write(c.output())        # anything queued goes first
            c.ack(len(c.output()))
            writer.write(c.body_encode(message) + c.body_end())
        elif e.cmd in (sw.CMD_DATA, sw.CMD_BODY):
            todo.append(c.quit)

    data = b""
    for _ in range(1000):
        for e in c.feed(data):
            replies.append(e)
            if e.flags & sw.EVF_LAST:
                on_last(e)
        push()
        out = c.output()
        writer.write(out)
        c.ack(len(out))
        await writer.drain()
        w = c.want()
        if w & sw.WANT_CLOSE:
            break
        if not w & sw.WANT_READ:
            data = b""
            continue
        data = await asyncio.wait_for(reader.read(65536), 10)
        check(data, "connection closed early")
    writer.close()
    return [(e.cmd, e.code, e.index) for e in replies if e.flags & sw.EVF_LAST]


async def aiosmtpd_receives_byte_exact():
    h = Handler()
    server = await asyncio.get_running_loop().create_server(
        lambda: SMTP(h, decode_data=False, hostname="aiosmtpd.example"), "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    try:
        got = await deliver(port, "a@x.example", ["b@y.example", "nobody@y.example",
                                                  "d@y.example"], MESSAGE)
    finally:
        server.close()
    rcpt = [(code, index) for cmd, code, index in got if cmd == sw.CMD_RCPT]
    check(rcpt == [(250, 0), (550, 1), (250, 2)], "RCPT replies %r" % got)
    check([cmd for cmd, _, _ in got][-2:] == [sw.CMD_BODY, sw.CMD_QUIT], repr(got))
    check(len(h.envelopes) == 1, "%d messages" % len(h.envelopes))
    helo, frm, tos, opts, content = h.envelopes[0]
    check(helo == "client.example" and frm == "a@x.example", repr(h.envelopes[0][:2]))
    check(tos == ["b@y.example", "d@y.example"], repr(tos))
    check("SIZE=%d" % len(MESSAGE) in opts, repr(opts))
    check(content == EXPECTED, "content %r" % content)


run_cases([("rfc5321_client_core_delivers_to_aiosmtpd_byte_exact",
            lambda: asyncio.run(aiosmtpd_receives_byte_exact()))])
