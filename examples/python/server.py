#!/usr/bin/python3
"""An asyncio SMTP server on the smtpwire binding that stores into a Maildir.

    server.py [--listen 127.0.0.1:2525] [--maildir ./Maildir] [--hostname NAME]

Prints "listening on HOST:PORT" once ready (port 0 picks a free one).
SPDX-License-Identifier: MIT"""
import argparse, asyncio, email.utils, os, socket, time
import smtpwire as sw


class Maildir:
    def __init__(self, path):
        self.path, self.count = path, 0
        for sub in ("tmp", "new", "cur"):
            os.makedirs(os.path.join(path, sub), exist_ok=True)

    def unique(self):
        self.count += 1
        return "%d.P%dQ%d_%s.%s" % (time.time(), os.getpid(), self.count,
                                   os.urandom(6).hex(), socket.gethostname())

    def store(self, name, data):
        """tmp/, fsync, then into new/ by link(): unlike rename() it never
        replaces an existing message; then new/ itself is fsync'd."""
        tmp = os.path.join(self.path, "tmp", name)
        with open(tmp, "xb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        try:
            os.link(tmp, os.path.join(self.path, "new", name))
        finally:
            os.unlink(tmp)
        fd = os.open(os.path.join(self.path, "new"), os.O_RDONLY | os.O_DIRECTORY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


async def session(reader, writer, maildir, hostname):
    srv = sw.Server(hostname)
    peer = writer.get_extra_info("peername")[0]        # TCP-info of RFC 5321 4.4
    literal = (("[IPv6:%s]" if ":" in peer else "[%s]") % peer).encode()
    helo, proto, sender, rcpts, body = b"unknown", "SMTP", None, [], None
    data = b""
    while True:
        for ev in srv.feed(data):                    # the documented loop, api.md A
            if ev.type == sw.EV_HELO:
                helo, proto = ev.arg, ("ESMTP" if ev.cmd == sw.CMD_EHLO else "SMTP")
            elif ev.type == sw.EV_MAIL:
                sender, rcpts = ev.path.mailbox, []
            elif ev.type == sw.EV_RCPT:
                rcpts.append(ev.path.mailbox)
            elif ev.type == sw.EV_DATA:
                body = []
            elif ev.type == sw.EV_BODY:
                body.append(ev.arg)                  # held in memory: max_message_size bounds it
            elif ev.type == sw.EV_DATA_END:
                # RFC 5321 4.4: Return-Path (final delivery) and a Received line on top.
                msgid = "%x%s" % (time.time_ns(), os.urandom(4).hex())  # an Atom
                head = (b"Return-Path: <%s>\r\nReceived: from %s (%s)\r\n\tby %s with %s id %s"
                        % (sender, helo, literal, hostname.encode(), proto.encode(),
                           msgid.encode()))
                if len(rcpts) == 1:
                    head += b"\r\n\tfor <%s>" % rcpts[0]
                head += b"; %s\r\n" % email.utils.formatdate(localtime=True).encode()
                try:    # off the loop: the core simply waits for the verdict
                    await asyncio.to_thread(maildir.store, maildir.unique(), head + b"".join(body))
                    srv.reply(0)
                except OSError:
                    srv.reply(451, "4.3.0", "Cannot store the message now")
                body = None
            elif ev.type in (sw.EV_DATA_ABORT, sw.EV_RSET):
                body = None
            if srv.want() & sw.WANT_REPLY:           # VRFY, EXPN, HELP: the defaults
                srv.reply(0)
        out = srv.output()
        if out:
            writer.write(out)
            srv.ack(len(out))
            await writer.drain()
        w = srv.want()
        if w & sw.WANT_CLOSE:
            break
        if not w & sw.WANT_READ:
            data = b""                               # input still pending: run it first
            continue
        try:
            data = await asyncio.wait_for(
                reader.read(65536), sw.timeout_seconds(srv.timeout()) or None)
        except asyncio.TimeoutError:                 # RFC 5321 4.5.3.2.7
            srv.shutdown()
            data = b""
            continue
        if not data:
            break                                    # peer gone: a message in progress is dropped
    writer.close()


async def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--listen", default="127.0.0.1:2525")
    ap.add_argument("--maildir", default="./Maildir")
    ap.add_argument("--hostname", default=socket.getfqdn())
    a = ap.parse_args()
    host, port = a.listen.rsplit(":", 1)
    md = Maildir(a.maildir)

    async def handle(r, w):
        try:
            await session(r, w, md, a.hostname)
        except (ConnectionError, sw.Error):
            w.close()

    server = await asyncio.start_server(handle, host.strip("[]"), int(port))
    print("listening on %s:%d" % (host, server.sockets[0].getsockname()[1]), flush=True)
    async with server:
        await server.serve_forever()


if __name__ == "__main__":
    try:
        asyncio.run(main())
    except KeyboardInterrupt:
        pass
