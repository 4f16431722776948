"""smtpwire-send against python3-aiosmtpd: the envelope and the message
must arrive byte-exact (dot lines, bare LF input, no final newline, 8-bit).
Run with /usr/bin/python3 (Debian's aiosmtpd).  Usage: aiosmtpd_bodies.py SEND
SPDX-License-Identifier: MIT"""
import asyncio
import sys
import threading

from smtpscript import skip_or_fail, run_send, canonical, check, Failure

try:
    from aiosmtpd.smtp import SMTP
except ImportError:
    skip_or_fail("python3-aiosmtpd is not installed for " + sys.executable)


class Collect:
    def __init__(self):
        self.envelopes = []

    async def handle_DATA(self, server, session, envelope):
        self.envelopes.append((envelope.mail_from, list(envelope.rcpt_tos),
                               list(envelope.mail_options), envelope.original_content))
        return "250 2.0.0 stored"


def serve(handler):
    """aiosmtpd on 127.0.0.1 port 0 in a thread; returns the port."""
    loop = asyncio.new_event_loop()
    ready = threading.Event()
    box = {}

    def run():
        asyncio.set_event_loop(loop)
        srv = loop.run_until_complete(loop.create_server(
            lambda: SMTP(handler, decode_data=False, enable_SMTPUTF8=True), "127.0.0.1", 0))
        box["port"] = srv.sockets[0].getsockname()[1]
        ready.set()
        loop.run_forever()

    threading.Thread(target=run, daemon=True).start()
    ready.wait(5)
    return box["port"]


CASES = [
    ("plain CRLF", b"Subject: a\r\n\r\nhello\r\n"),
    ("bare LF input", b"Subject: b\n\nline 1\nline 2\n"),
    ("no final newline", b"Subject: c\n\nlast line without newline"),
    ("dot lines", b"Subject: d\n\n.\n..\n.hidden\n. space\nend\n.\n"),
    ("dot at the very start", b".Subject-less first line\n..two\n"),
    ("8-bit", "Subject: \u00e9t\u00e9\n\nK\u00f6ln, \u65e5\u672c\n".encode("utf-8") + b"\xff\xfe raw\n"),
    ("mixed CR, CRLF, LF", b"a\r\nb\nc\rd\r\n.\r\n"),
    ("empty body", b""),
    ("100 KiB of 993-octet lines", (b"0123456789abcdef" * 62 + b"\n") * 100),
]


def main():
    send = sys.argv[1]
    h = Collect()
    port = serve(h)
    failed = 0
    for name, msg in CASES:
        try:
            before = len(h.envelopes)
            rc, err = run_send(send, ["--server", "127.0.0.1:%d" % port, "--from", "alice@example.org",
                                      "--to", "bob@example.net", "--to", "carol@example.net"], msg)
            check(rc == 0, "exit %d: %s" % (rc, err))
            check(len(h.envelopes) == before + 1, "one envelope")
            mfrom, rcpts, opts, content = h.envelopes[-1]
            check(mfrom == "alice@example.org", "MAIL FROM %r" % mfrom)
            check(rcpts == ["bob@example.net", "carol@example.net"], "RCPT TO %r" % rcpts)
            want = canonical(msg)
            check(content == want, "content %r, want %r" % (content[:200], want[:200]))
            eight = any(b >= 0x80 for b in msg)
            check(("BODY=8BITMIME" in opts) == eight, "BODY= per 8-bit content: %r" % opts)
            # RFC 1870: the canonical size; the core sends none for 0 octets
            check(("SIZE=%d" % len(want) in opts) or (not want and not opts),
                  "SIZE= the canonical size: %r" % opts)
            print("ok   " + name)
        except (Failure, Exception) as e:
            failed += 1
            print("FAIL %s: %s" % (name, e))
    # the null reverse-path
    try:
        rc, err = run_send(send, ["--server", "127.0.0.1:%d" % port, "--from", "", "--to", "x@example.net"],
                           b"bounce\n")
        # aiosmtpd keeps the null path as the literal "<>"
        check(rc == 0 and h.envelopes[-1][0] in ("", "<>"),
              "null path: exit %d %r" % (rc, h.envelopes[-1][0]))
        print("ok   null reverse-path")
    except (Failure, Exception) as e:
        failed += 1
        print("FAIL null reverse-path: %s" % e)
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
