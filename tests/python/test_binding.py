#!/usr/bin/python3
"""Unit test of the ctypes binding (examples/python/smtpwire.py): both cores
driven through it, the struct mirrors against the C layouts, the size and
version rules of API 1.0 as a foreign caller sees them, and the hostname
lifetime rule.  Environment: SMTPW_LIB (the shared library), optionally
SMTPW_ABI_LAYOUT (tests/abi/abi_layout, whose --print gives the layouts).
SPDX-License-Identifier: MIT"""
import ctypes
import gc
import os
import re
import subprocess

from pyt import bound, check, import_binding, run_cases

bound(60)
sw = import_binding()
lib = sw.lib


def drive_server(srv, reads, drain=None, answer=None):
    """The documented driver loop (api.md A), statement for statement.
    reads: what successive read() calls return; drain: how many output
    bytes one write takes (None: all); answer(srv, ev) answers decision
    events (default: code 0).  Returns (all output, events)."""
    reads, out, events, data = list(reads), bytearray(), [], b""
    for _ in range(100000):
        for ev in srv.feed(data):
            events.append(ev)
            if answer:
                answer(srv, ev)
            elif srv.want() & sw.WANT_REPLY:
                srv.reply(0)
        data = b""
        o = srv.output()
        n = len(o) if drain is None else min(drain, len(o))
        out += o[:n]
        srv.ack(n)
        w = srv.want()
        if w & sw.WANT_CLOSE:
            while srv.output():           # close once the output is drained
                o = srv.output()
                out += o
                srv.ack(len(o))
            return bytes(out), events
        if not w & sw.WANT_READ:
            continue                      # input still pending: run it first
        if not reads:
            if srv.output():
                continue                  # the peer waits for our replies
            return bytes(out), events
        data = reads.pop(0)
    raise AssertionError("the driver loop does not end")


def final_codes(out):
    """The code of every final reply line (RFC 5321 4.2.1: code SP)."""
    return [int(m.group(1)) for m in re.finditer(rb"^(\d{3})(?: [^\r\n]*)?\r\n", out, re.M)]


RCPTS = 15
PIPELINED = (b"EHLO client.example\r\nMAIL FROM:<a@x.example> SIZE=100\r\n"
             + b"".join(b"RCPT TO:<r%d@y.example>\r\n" % i for i in range(RCPTS))
             + b"DATA\r\nSubject: t\r\n\r\n..dot line\r\nlast\r\n.\r\nQUIT\r\n")
WANT_CODES = [220, 250, 250] + [250] * RCPTS + [354, 250, 221]


def rfc2920_server_pipelined_session_through_feed():
    """EHLO, MAIL, 15 RCPT, DATA, a body and QUIT in one read (the
    embed-static stall of issue 6): every reply arrives, in order, under
    every output drain size and read split."""
    ref = None
    for drain in (None, 1, 7, 64):
        for split in (None, 1, 13):
            reads = ([PIPELINED] if split is None else
                     [PIPELINED[i:i + split] for i in range(0, len(PIPELINED), split)])
            out, evs = drive_server(sw.Server("mx.test.example"), reads, drain)
            check(final_codes(out) == WANT_CODES, "drain %s split %s: %r" % (drain, split, out))
            ref = ref or out
            check(out == ref, "drain %s split %s: output differs" % (drain, split))
            body = b"".join(e.arg for e in evs if e.type == sw.EV_BODY)
            check(body == b"Subject: t\r\n\r\n.dot line\r\nlast\r\n", "body %r" % body)
            rc = [e for e in evs if e.type == sw.EV_RCPT]
            check([e.path.mailbox for e in rc] == [b"r%d@y.example" % i for i in range(RCPTS)],
                  "recipients")
            mail = [e for e in evs if e.type == sw.EV_MAIL][0]
            check(mail.size == 100 and mail.flags & sw.EVF_SIZE and mail.path.mailbox
                  == b"a@x.example" and mail.params == b"SIZE=100", "MAIL event %r" % mail)
            end = [e for e in evs if e.type == sw.EV_DATA_END][0]
            check(end.size == len(body), "DATA_END size %d" % end.size)
    check(ref.startswith(b"220 mx.test.example "), "greeting %r" % ref[:40])


def server_reply_codes_texts_and_refusals():
    """reply(code, enh, text) as pointer and length; a refused RCPT; an
    invalid reply is an Error that leaves the reply pending."""
    def answer(srv, ev):
        if ev.type == sw.EV_RCPT and ev.path.local == b"nobody":
            try:
                srv.reply(550, "5.1.1", "bad\r\ninjected")
                raise AssertionError("CRLF in reply text accepted")
            except sw.Error as e:
                check(e.code == sw.E_INVALID_ARG and e.name == "INVALID_ARG", str(e))
            srv.reply(550, "5.1.1", "No such user here")
        elif srv.want() & sw.WANT_REPLY:
            srv.reply(0)
    srv = sw.Server("mx.test.example")
    out, _ = drive_server(srv, [b"EHLO c.example\r\nMAIL FROM:<>\r\nRCPT TO:<nobody@y.example>\r\n"
                                b"RCPT TO:<ok@y.example>\r\nRSET\r\nQUIT\r\n"], answer=answer)
    check(b"\r\n550 5.1.1 No such user here\r\n" in out, repr(out))
    check(final_codes(out) == [220, 250, 250, 550, 250, 250, 221], repr(out))
    check(srv.closing, "closing after QUIT")
    check(list(srv.feed(b"NOOP\r\n")) == [] and srv.output() == b"", "nothing after QUIT")
    check(lib.smtpw_err_is_fatal(sw.E_CLOSED), "E_CLOSED is fatal")


def api_c_hostname_outlives_a_collected_python_bytes():
    """The core references cfg.hostname (api.md C): the binding keeps its
    own copy, so a dropped, collected and overwritten argument cannot turn
    the EHLO reply (rendered long after init) into garbage."""
    want = "mx-%s.lifetime.example" % os.urandom(4).hex()
    name = want.encode()             # the only reference to these bytes
    srv = sw.Server(name)
    del name
    gc.collect()
    # Freed small objects are reused first: same-sized junk lands where
    # the name was.
    junk = [bytes([0x41 + i % 26]) * len(want) for i in range(2000)]
    out, _ = drive_server(srv, [b"EHLO c.example\r\nNOOP\r\n"])
    del junk
    check(out.startswith(("220 %s " % want).encode()), "greeting %r" % out[:60])
    check(("\r\n250-%s " % want).encode() in out or ("\r\n250-%s\r\n" % want).encode() in out,
          "EHLO reply %r" % out)


def client_scripted_exchange():
    """The client core through the binding against a scripted server: a
    pipelined envelope, a refused recipient, the body stuffed, QUIT."""
    c = sw.Client()
    check(c.output() == b"" and c.want() & sw.WANT_READ, "awaits the greeting")
    ev = list(c.feed(b"220 mx.example ESMTP\r\n"))
    check(len(ev) == 1 and ev[0].cmd == sw.CMD_GREETING and ev[0].code == 220
          and ev[0].flags & sw.EVF_LAST and ev[0].arg == b"mx.example ESMTP", repr(ev))
    c.ehlo("client.example")
    check(c.output() == b"EHLO client.example\r\n", repr(c.output()))
    c.ack(len(c.output()))
    reply = (b"250-mx.example\r\n250-PIPELINING\r\n250-SIZE 1000000\r\n"
             b"250-8BITMIME\r\n250 ENHANCEDSTATUSCODES\r\n")
    ev = [e for i in range(len(reply)) for e in c.feed(reply[i:i + 1])]  # byte by byte
    check([e.keyword for e in ev] == [b"", b"PIPELINING", b"SIZE", b"8BITMIME",
                                      b"ENHANCEDSTATUSCODES"], repr(ev))
    check(ev[2].params == b"1000000" and ev[2].line == b"250-SIZE 1000000", repr(ev[2].line))
    check([bool(e.flags & sw.EVF_LAST) for e in ev] == [False] * 4 + [True], "LAST flags")
    check(c.extensions() & sw.EXT_PIPELINING and c.size_limit() == 1000000, "extensions")
    c.mail("a@x.example", size=42)
    c.rcpt("b@y.example")
    c.rcpt("c@y.example")
    c.data()
    out = c.output()
    check(out == b"MAIL FROM:<a@x.example> SIZE=42\r\nRCPT TO:<b@y.example>\r\n"
          b"RCPT TO:<c@y.example>\r\nDATA\r\n", repr(out))
    c.ack(len(out))
    ev = list(c.feed(b"250 2.1.0 ok\r\n250 2.1.5 ok\r\n550 5.1.1 no such user\r\n354 go\r\n"))
    check([(e.cmd, e.code) for e in ev] == [(sw.CMD_MAIL, 250), (sw.CMD_RCPT, 250),
                                            (sw.CMD_RCPT, 550), (sw.CMD_DATA, 354)], repr(ev))
    check(ev[2].index == 1 and ev[2].enh == (5, 1, 1) and ev[2].arg == b"no such user",
          "refused RCPT %r" % ev[2].__dict__)
    check(c.accepted() == 1 and c.want() & sw.WANT_BODY, "body due")
    body = c.body_encode(b".hidden\nline\r\n.") + c.body_end()
    check(body == b"..hidden\r\nline\r\n..\r\n.\r\n", repr(body))
    ev = list(c.feed(b"250 2.0.0 queued as 1"))              # an incomplete line
    check(ev == [] and c.pending_input == 21 and c.want() & sw.WANT_READ, "partial line kept")
    ev = list(c.feed(b"\r\n"))
    check(len(ev) == 1 and ev[0].cmd == sw.CMD_BODY and ev[0].code == 250, repr(ev))
    c.quit()
    c.ack(len(c.output()))
    ev = list(c.feed(b"221 2.0.0 bye\r\n"))
    check(ev[0].cmd == sw.CMD_QUIT and c.closing, "closed after 221")


def client_errors_are_named():
    c = sw.Client()
    list(c.feed(b"220 mx.example\r\n"))
    try:
        c.rcpt("b@y.example")
        raise AssertionError("RCPT before EHLO accepted")
    except sw.Error as e:
        check(e.code == sw.E_STATE and e.name == "STATE" and not e.fatal, str(e))
    check(lib.smtpw_err_name(sw.E_NOBUF) == b"NOBUF" and lib.smtpw_err_name(12345) == b"?",
          "err names")
    check(sw.event_name(sw.EV_DATA_END) == "DATA_END" and sw.event_name(999) == "?", "ev names")
    check(sw.cmd_name(sw.CMD_MAIL) == "MAIL" and sw.cmd_name(sw.CMD_NONE) == "NONE", "cmd names")


def client_core_to_server_core_in_memory():
    """Both cores through the binding, talking to each other: the client
    decides on each reply's last line, the server answers with defaults."""
    c, s = sw.Client(), sw.Server("mx.test.example")
    wire, names = bytearray(), []

    def flush_client():
        o = c.output()
        wire.extend(o)
        c.ack(len(o))

    def on_reply(e):
        if not e.flags & sw.EVF_LAST:
            return
        if e.cmd == sw.CMD_GREETING:
            c.ehlo("c.example")
        elif e.cmd == sw.CMD_EHLO:
            c.mail("a@x.example")
            c.rcpt("b@y.example")
            c.data()
        elif e.cmd == sw.CMD_DATA and e.code == 354:
            flush_client()        # body bytes go after what was queued before
            wire.extend(c.body_encode(b"Hi.\n.\n") + c.body_end())
        elif e.cmd == sw.CMD_BODY:
            c.quit()

    for _ in range(100):
        o = s.output()
        s.ack(len(o))
        for e in c.feed(o):
            on_reply(e)
        flush_client()
        data = bytes(wire)
        del wire[:]
        while True:
            for ev in s.feed(data):
                names.append(ev.name)
                if s.want() & sw.WANT_REPLY:
                    s.reply(0)
            data = b""
            if s.want() & (sw.WANT_READ | sw.WANT_CLOSE):
                break
            o = s.output()      # WRITE without READ: drain into the pipe, go on
            s.ack(len(o))
            for e in c.feed(o):
                on_reply(e)
        if c.closing:
            break
    check(c.closing and s.messages() == 1, "session %r" % names)
    check(names[:4] == ["HELO", "MAIL", "RCPT", "DATA"] and "BODY" in names
          and names[-2:] == ["DATA_END", "QUIT"], repr(names))


def mirrors_match_the_pinned_layouts():
    """ctypes.sizeof and every field offset of the mirrors against what
    the C compiler says (tests/abi abi_layout --print)."""
    check(ctypes.sizeof(ctypes.c_void_p) == 8, "LP64 only")
    exe = os.environ.get("SMTPW_ABI_LAYOUT")
    check(exe and os.path.exists(exe), "SMTPW_ABI_LAYOUT not set")
    text = subprocess.run([exe, "--print"], stdout=subprocess.PIPE, check=True,
                          timeout=20).stdout.decode()
    sizes, fields = {}, {}
    for m in re.finditer(r"^STRUCT\((\w+), (\d+)\)$", text, re.M):
        sizes[m.group(1)] = int(m.group(2))
    for m in re.finditer(r"^FIELD\((\w+), (\w+), (\d+), (\d+)\)$", text, re.M):
        fields.setdefault(m.group(1), []).append((m.group(2), int(m.group(3)), int(m.group(4))))
    for cname, mirror in sw.MIRRORS.items():
        check(cname in sizes, cname + " has no pin")
        check(ctypes.sizeof(mirror) == sizes[cname],
              "%s: ctypes %d, C %d" % (cname, ctypes.sizeof(mirror), sizes[cname]))
        mine = [(f, getattr(mirror, f).offset, getattr(mirror, f).size)
                for f, _ in mirror._fields_]
        check(mine == fields[cname], "%s: ctypes %s, C %s" % (cname, mine, fields[cname]))


def api_b_recv_writes_no_byte_past_the_callers_event_size():
    """An older caller (a smaller event) gets nothing written past it; a
    newer caller (a larger one) gets the part the library does not know
    zero-filled (api.md B)."""
    n = ctypes.sizeof(sw.CEvent)
    for evsize, marker_from in ((16, 16), (n, n), (n + 64, n)):
        buf = (ctypes.c_uint8 * (n + 96))(*([0xA5] * (n + 96)))
        srv = sw.Server("mx.test.example")
        used = ctypes.c_size_t()
        line = b"EHLO c.example\r\n"
        t = lib.smtpw_server_recv(srv._handle, line, len(line), ctypes.byref(used),
                                  ctypes.cast(buf, ctypes.POINTER(sw.CEvent)), evsize)
        check(t == sw.EV_HELO and used.value == len(line), "evsize %d: t %d" % (evsize, t))
        check(buf[0] == sw.EV_HELO, "type written")
        check(all(b == 0 for b in buf[marker_from:evsize]), "evsize %d: not zero-filled" % evsize)
        check(all(b == 0xA5 for b in buf[max(evsize, marker_from):]),
              "evsize %d: written past the caller's struct" % evsize)


def api_b_config_init_version_1_writes_only_version_1():
    for mirror, init in ((sw.ServerConfig, lib.smtpw_server_config_init),
                         (sw.ClientConfig, lib.smtpw_client_config_init)):
        n = ctypes.sizeof(mirror)
        buf = (ctypes.c_uint8 * (n + 32))(*([0xA5] * (n + 32)))
        check(init(ctypes.cast(buf, ctypes.POINTER(mirror)), 1) == 0, "init v1")
        check(all(b == 0xA5 for b in buf[n:]), "%s: written past version 1" % mirror.__name__)
        check(mirror.from_buffer(buf).version == 1, "version set")
        for bad in (0, 1000):
            check(init(ctypes.cast(buf, ctypes.POINTER(mirror)), bad) == sw.E_VERSION,
                  "version %d accepted" % bad)
    cfg = sw.ServerConfig()
    lib.smtpw_server_config_init(ctypes.byref(cfg), 1)
    check(cfg.hostname is None and cfg.hostname_len == 0, "hostname default NULL/0")


def api_b_null_config_means_defaults():
    mem = (ctypes.c_uint64 * ((lib.smtpw_server_sizeof() + 7) // 8))()
    h = ctypes.c_void_p()
    check(lib.smtpw_server_init(mem, ctypes.sizeof(mem), None, ctypes.byref(h)) == 0, "init")
    n = ctypes.c_size_t()
    p = lib.smtpw_server_output(h, ctypes.byref(n))
    check(ctypes.string_at(p, n.value).startswith(b"220 localhost "), "default hostname")
    cmem = (ctypes.c_uint64 * ((lib.smtpw_client_sizeof() + 7) // 8))()
    check(lib.smtpw_client_init(cmem, ctypes.sizeof(cmem), None, ctypes.byref(h)) == 0, "client")


def api_c_unused_spans_are_null():
    """DATA and QUIT hand back no verb: arg is {NULL, 0} in the C event."""
    srv = sw.Server("mx.test.example")
    seen = {}
    for chunk in (b"EHLO c.example\r\nMAIL FROM:<a@x.example>\r\nRCPT TO:<b@y.example>\r\n",
                  b"DATA\r\n", b".\r\nQUIT\r\n"):
        for ev in srv.feed(chunk):
            seen[ev.type] = (srv._ev.arg.ptr, srv._ev.arg.len, srv._ev.path.raw.ptr)
            if srv.want() & sw.WANT_REPLY:
                srv.reply(0)
        srv.ack(len(srv.output()))
    for t in (sw.EV_DATA, sw.EV_QUIT):
        check(seen.get(t) == (None, 0, None), "%s: %r" % (sw.event_name(t), seen.get(t)))


# C type in a prototype -> the ctypes type the binding must declare for it.
C_TO_CTYPES = {
    "void": None, "int": ctypes.c_int, "uint32_t": ctypes.c_uint32,
    "uint64_t": ctypes.c_uint64, "size_t": ctypes.c_size_t, "const char *": ctypes.c_char_p,
    "size_t *": ctypes.POINTER(ctypes.c_size_t), "smtpw_event *": ctypes.POINTER(sw.CEvent),
    "smtpw_server_config *": ctypes.POINTER(sw.ServerConfig),
    "const smtpw_server_config *": ctypes.POINTER(sw.ServerConfig),
    "smtpw_client_config *": ctypes.POINTER(sw.ClientConfig),
    "const smtpw_client_config *": ctypes.POINTER(sw.ClientConfig),
}


def c_type(decl):
    """The type part of "const uint8_t *in" or "uint32_t code"."""
    decl = re.sub(r"\b\w+$", "", decl.strip()).strip()      # drop the name
    return re.sub(r"\s*\*", " *", decl).replace("* *", "**").strip()


def ctypes_for(t):
    if t in C_TO_CTYPES:
        return C_TO_CTYPES[t]
    check(t.endswith("*"), "no ctypes rule for C type %r" % t)
    if t.endswith("**"):
        return ctypes.POINTER(ctypes.c_void_p)   # the handle out-pointer of *_init()
    return ctypes.c_void_p      # state handles, byte buffers


def binding_declares_every_call_as_the_headers_do():
    """Each prototype in smtpwire.py against include/smtpwire/*.h, so a
    changed C type (uint32_t -> uint64_t, a new argument) fails here
    instead of corrupting the stack."""
    inc = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "include",
                       "smtpwire")
    text = "".join(open(os.path.join(inc, h)).read() for h in ("common.h", "server.h",
                                                                 "client.h"))
    decls = {m.group(2): (m.group(1), m.group(3)) for m in re.finditer(
        r"SMTPW_API\s+([^;()]*?)\b(smtpw_\w+)\s*\(([^;]*?)\)\s*;", text, re.S)}
    for name, (res, args) in sw._PROTOS.items():
        check(name in decls, name + " is not declared in the headers")
        cres, cargs = decls[name]
        want_res = ctypes_for(c_type(cres + " x"))
        check(res is want_res, "%s returns %s, bound as %s" % (name, cres.strip(), res))
        cargs = [] if cargs.strip() == "void" else [a for a in cargs.split(",")]
        check(len(cargs) == len(args), "%s: %d arguments, bound %d" % (name, len(cargs),
                                                                      len(args)))
        for a, b in zip(cargs, args):
            check(ctypes_for(c_type(" ".join(a.split()))) is b,
                  "%s: argument %r bound as %s" % (name, a.strip(), b))


def version_checked_at_import():
    check(sw.VERSION >> 16 == sw.WRITTEN_FOR_MAJOR, "major")
    check(lib.smtpw_version_string().decode() == "%d.%d.%d" % (
        sw.VERSION >> 16, (sw.VERSION >> 8) & 0xFF, sw.VERSION & 0xFF), "version string")


run_cases([(f.__name__, f) for f in (
    version_checked_at_import,
    binding_declares_every_call_as_the_headers_do,
    mirrors_match_the_pinned_layouts,
    api_b_recv_writes_no_byte_past_the_callers_event_size,
    api_b_config_init_version_1_writes_only_version_1,
    api_b_null_config_means_defaults,
    api_c_unused_spans_are_null,
    api_c_hostname_outlives_a_collected_python_bytes,
    rfc2920_server_pipelined_session_through_feed,
    server_reply_codes_texts_and_refusals,
    client_scripted_exchange,
    client_errors_are_named,
    client_core_to_server_core_in_memory,
)])
