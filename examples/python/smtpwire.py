"""smtpwire over ctypes: both sans-I/O cores from Python, standard library only.

The binding mirrors exactly four kinds of C struct, all with layouts the
library pins (tests/abi/layout.c) and promises never to change in place:
smtpw_span and smtpw_path (frozen), smtpw_event (passed to *_recv() with
its ctypes.sizeof, so an older or newer library never writes past it) and
the two config structs at version 1 (filled by *_config_init(cfg, 1), which
a newer library still accepts).  The core states are opaque bytes of
*_sizeof() length.  No callbacks: the library never calls back into Python.

Library path: $SMTPW_LIB, else libsmtpwire.so in the build directory given
as $SMTPW_BUILD_DIR, else ctypes.util.find_library("smtpwire").

SPDX-License-Identifier: MIT
"""
import ctypes
import ctypes.util
import os

# The API this module was written against (include/smtpwire/version.h).
# Pre-1.0 releases keep the ABI within a major number (the soname is the
# major), so only the major must match.
WRITTEN_FOR_MAJOR = 1

# ---- constants (plain ints: the uint32_t fields they are compared with
# come out of ctypes as non-negative ints; errors are negative ints) ----
E_INVALID_ARG, E_STATE, E_NOBUF, E_AGAIN, E_PROTO, E_CLOSED = -1, -2, -3, -4, -5, -6
E_SYNTAX, E_TOOLONG, E_VERSION, E_8BIT, E_SIZE, E_IO = -7, -8, -9, -10, -11, -12
E_TIMEOUT, E_TLS, E_NOTSUP, E_DNS, E_NXDOMAIN, E_NOMAIL = -13, -14, -15, -16, -17, -18

EV_NONE, EV_HELO, EV_MAIL, EV_RCPT, EV_DATA, EV_BODY, EV_DATA_END = 0, 1, 2, 3, 4, 5, 6
EV_DATA_ABORT, EV_RSET, EV_VRFY, EV_EXPN, EV_HELP, EV_QUIT = 7, 8, 9, 10, 11, 12
EV_STARTTLS, EV_REJECTED, EV_CLOSE, EV_REPLY, EV_TLS_STARTED = 13, 14, 15, 16, 17

EVF_SIZE, EVF_8BITMIME, EVF_7BIT, EVF_SMTPUTF8 = 0x01, 0x02, 0x04, 0x08
EVF_LAST, EVF_ENHANCED, EVF_KEYWORD = 0x10, 0x20, 0x40

CMD_NONE, CMD_HELO, CMD_EHLO, CMD_MAIL, CMD_RCPT, CMD_DATA = 0, 1, 2, 3, 4, 5
CMD_RSET, CMD_NOOP, CMD_QUIT, CMD_VRFY, CMD_EXPN, CMD_HELP = 6, 7, 8, 9, 10, 11
CMD_STARTTLS, CMD_GREETING, CMD_BODY, CMD_UNKNOWN = 12, 19, 20, 21

WANT_READ, WANT_WRITE, WANT_REPLY, WANT_CLOSE, WANT_TLS, WANT_BODY = 1, 2, 4, 8, 16, 32

SERVER_LENIENT, SERVER_REFUSE, SERVER_NO_PIPELINING = 0x01, 0x02, 0x04
SERVER_NO_8BITMIME, SERVER_NO_ENHANCED, SERVER_STARTTLS, SERVER_SMTPUTF8 = 0x08, 0x10, 0x20, 0x40
CLIENT_NO_PIPELINING, CLIENT_SMTPUTF8 = 0x01, 0x02
MAIL_8BIT, MAIL_SMTPUTF8 = 0x01, 0x02

EXT_PIPELINING, EXT_SIZE, EXT_8BITMIME, EXT_SMTPUTF8 = 0x001, 0x002, 0x004, 0x008
EXT_STARTTLS, EXT_ENHANCEDSTATUSCODES = 0x040, 0x200

PATH_NULL, PATH_POSTMASTER = 0x01, 0x02
BARE_REJECT, BARE_NORMALIZE, BARE_KEEP = 0, 1, 2

SERVER_CONFIG_VERSION = 1  # the version of the mirrors below, not the library's
CLIENT_CONFIG_VERSION = 1


# ---- the mirrored structs (layouts pinned in tests/abi/layout.c) ----
class Span(ctypes.Structure):
    # ptr as a void pointer: c_char_p would read up to a NUL, and spans are
    # never NUL-terminated.
    _fields_ = [("ptr", ctypes.c_void_p), ("len", ctypes.c_size_t)]

    def get(self):
        return ctypes.string_at(self.ptr, self.len) if self.len else b""


class CPath(ctypes.Structure):
    _fields_ = [("raw", Span), ("mailbox", Span), ("local", Span), ("domain", Span),
                ("route", Span), ("literal", Span),
                ("flags", ctypes.c_uint32), ("literal_kind", ctypes.c_uint32)]


class CEvent(ctypes.Structure):
    """smtpw_event as this module knows it (fields are only ever appended)."""
    _fields_ = [("type", ctypes.c_uint32), ("cmd", ctypes.c_uint32),
                ("code", ctypes.c_uint32), ("flags", ctypes.c_uint32),
                ("arg", Span), ("params", Span), ("size", ctypes.c_uint64),
                ("path", CPath), ("line", Span), ("keyword", Span),
                ("index", ctypes.c_uint32), ("enh_class", ctypes.c_uint32),
                ("enh_subject", ctypes.c_uint32), ("enh_detail", ctypes.c_uint32)]


class ServerConfig(ctypes.Structure):
    """smtpw_server_config, version 1."""
    _fields_ = [("version", ctypes.c_uint32), ("flags", ctypes.c_uint32),
                ("hostname", ctypes.c_void_p), ("hostname_len", ctypes.c_size_t),
                ("max_message_size", ctypes.c_uint64),
                ("max_recipients", ctypes.c_uint32), ("max_command_line", ctypes.c_uint32),
                ("max_text_line", ctypes.c_uint32), ("max_errors", ctypes.c_uint32),
                ("bare_command", ctypes.c_uint32), ("bare_body", ctypes.c_uint32)]


class ClientConfig(ctypes.Structure):
    """smtpw_client_config, version 1."""
    _fields_ = [("version", ctypes.c_uint32), ("flags", ctypes.c_uint32),
                ("max_reply_line", ctypes.c_uint32), ("max_reply_lines", ctypes.c_uint32)]


MIRRORS = {"smtpw_span": Span, "smtpw_path": CPath, "smtpw_event": CEvent,
           "smtpw_server_config": ServerConfig, "smtpw_client_config": ClientConfig}


# ---- loading ----
def _find_library():
    path = os.environ.get("SMTPW_LIB")
    if path:
        return path
    build = os.environ.get("SMTPW_BUILD_DIR")
    if build:
        for sub in ("lib", ""):
            cand = os.path.join(build, sub, "libsmtpwire.so")
            if os.path.exists(cand):
                return cand
    found = ctypes.util.find_library("smtpwire")
    if not found:
        raise ImportError("libsmtpwire not found: set SMTPW_LIB or SMTPW_BUILD_DIR")
    return found


_u32, _sz, _vp, _int = ctypes.c_uint32, ctypes.c_size_t, ctypes.c_void_p, ctypes.c_int
_psz = ctypes.POINTER(ctypes.c_size_t)
_cs = ctypes.c_char_p  # only for NUL-terminated static strings out, and text in with a length

# name: (restype, argtypes).  Every call the module makes is declared here
# (tests/python/test_binding.py checks each against the headers).
_PROTOS = {
    "smtpw_version": (_u32, []),
    "smtpw_version_string": (_cs, []),
    "smtpw_strerror": (_cs, [_int]),
    "smtpw_err_name": (_cs, [_int]),
    "smtpw_err_is_fatal": (_int, [_int]),
    "smtpw_event_name": (_cs, [_u32]),
    "smtpw_cmd_name": (_cs, [_u32]),
    "smtpw_timeout_seconds": (_u32, [_u32]),
    "smtpw_server_sizeof": (_sz, []),
    "smtpw_server_config_init": (_int, [ctypes.POINTER(ServerConfig), _u32]),
    "smtpw_server_init": (_int, [_vp, _sz, ctypes.POINTER(ServerConfig), ctypes.POINTER(_vp)]),
    "smtpw_server_recv": (_int, [_vp, _vp, _sz, _psz, ctypes.POINTER(CEvent), _sz]),
    "smtpw_server_reply": (_int, [_vp, _u32, _cs, _sz, _cs, _sz]),
    "smtpw_server_output": (_vp, [_vp, _psz]),
    "smtpw_server_output_ack": (None, [_vp, _sz]),
    "smtpw_server_want": (_u32, [_vp]),
    "smtpw_server_timeout": (_u32, [_vp]),
    "smtpw_server_shutdown": (_int, [_vp]),
    "smtpw_server_tls_started": (_int, [_vp]),
    "smtpw_server_messages": (_u32, [_vp]),
    "smtpw_client_sizeof": (_sz, []),
    "smtpw_client_config_init": (_int, [ctypes.POINTER(ClientConfig), _u32]),
    "smtpw_client_init": (_int, [_vp, _sz, ctypes.POINTER(ClientConfig), ctypes.POINTER(_vp)]),
    "smtpw_client_ehlo": (_int, [_vp, _cs, _sz]),
    "smtpw_client_helo": (_int, [_vp, _cs, _sz]),
    "smtpw_client_mail": (_int, [_vp, _cs, _sz, ctypes.c_uint64, _u32, _cs, _sz]),
    "smtpw_client_rcpt": (_int, [_vp, _cs, _sz, _cs, _sz]),
    "smtpw_client_data": (_int, [_vp]),
    "smtpw_client_rset": (_int, [_vp]),
    "smtpw_client_noop": (_int, [_vp]),
    "smtpw_client_quit": (_int, [_vp]),
    "smtpw_client_starttls": (_int, [_vp]),
    "smtpw_client_vrfy": (_int, [_vp, _cs, _sz]),
    "smtpw_client_expn": (_int, [_vp, _cs, _sz]),
    "smtpw_client_help": (_int, [_vp, _cs, _sz]),
    "smtpw_client_body_encode": (_int, [_vp, _vp, _sz, _psz, _vp, _sz, _psz]),
    "smtpw_client_body_end": (_int, [_vp, _vp, _sz, _psz]),
    "smtpw_client_recv": (_int, [_vp, _vp, _sz, _psz, ctypes.POINTER(CEvent), _sz]),
    "smtpw_client_output": (_vp, [_vp, _psz]),
    "smtpw_client_output_ack": (None, [_vp, _sz]),
    "smtpw_client_want": (_u32, [_vp]),
    "smtpw_client_timeout": (_u32, [_vp]),
    "smtpw_client_tls_started": (_int, [_vp]),
    "smtpw_client_extensions": (_u32, [_vp]),
    "smtpw_client_size_limit": (ctypes.c_uint64, [_vp]),
    "smtpw_client_accepted": (_u32, [_vp]),
    "smtpw_client_pending": (_u32, [_vp]),
}

lib = ctypes.CDLL(_find_library())
for _name, (_res, _args) in _PROTOS.items():
    _f = getattr(lib, _name)
    _f.restype, _f.argtypes = _res, _args

VERSION = lib.smtpw_version()
if VERSION >> 16 != WRITTEN_FOR_MAJOR:
    raise ImportError("libsmtpwire %s: this binding was written for major version %d"
                      % (lib.smtpw_version_string().decode(), WRITTEN_FOR_MAJOR))


class Error(Exception):
    """A negative SMTPW_E_* return; .code is the number, .name its name."""

    def __init__(self, code, call):
        self.code, self.name = code, lib.smtpw_err_name(code).decode()
        self.fatal = bool(lib.smtpw_err_is_fatal(code))
        super().__init__("%s: SMTPW_E_%s (%s)" % (call, self.name,
                                                 lib.smtpw_strerror(code).decode()))


def _check(rc, call):
    if rc < 0:
        raise Error(rc, call)
    return rc


def event_name(t):
    return lib.smtpw_event_name(t).decode()


def cmd_name(c):
    return lib.smtpw_cmd_name(c).decode()


def timeout_seconds(which):
    return lib.smtpw_timeout_seconds(which)


class Path:
    """A parsed path, copied out of the event."""
    __slots__ = ("raw", "mailbox", "local", "domain", "route", "literal", "flags",
                 "literal_kind")

    def __init__(self, c):
        for f in ("raw", "mailbox", "local", "domain", "route", "literal"):
            setattr(self, f, getattr(c, f).get())
        self.flags, self.literal_kind = c.flags, c.literal_kind


class Event:
    """One event of either core.  Everything is copied out of the C event
    at once: its spans point into the input and are transient."""

    def __init__(self, c):
        self.type, self.cmd, self.code, self.flags = c.type, c.cmd, c.code, c.flags
        self.arg, self.params, self.size = c.arg.get(), c.params.get(), c.size
        self.path = Path(c.path) if c.type in (EV_MAIL, EV_RCPT) else None
        self.line, self.keyword, self.index = c.line.get(), c.keyword.get(), c.index
        self.enh = ((c.enh_class, c.enh_subject, c.enh_detail)
                    if c.flags & EVF_ENHANCED else None)

    @property
    def name(self):
        return event_name(self.type)

    def __repr__(self):
        return "<Event %s cmd=%s code=%d arg=%r>" % (self.name, cmd_name(self.cmd),
                                                      self.code, self.arg)


def _text(b):
    """(pointer, length) arguments from bytes, str or None."""
    if b is None:
        return None, 0
    if isinstance(b, str):
        b = b.encode()
    return b, len(b)


class _Core:
    """What both cores share: caller-owned state, input kept across calls,
    the output queue."""
    _p = ""  # "smtpw_server_" / "smtpw_client_"

    def _alloc(self, size):
        # uint64_t elements: aligned for a pointer and a uint64_t, as *_init() needs.
        self._mem = (ctypes.c_uint64 * ((size + 7) // 8))()
        self._handle = _vp()
        self._in = None      # the ctypes copy of the unconsumed input + new bytes
        self._rest = b""     # unconsumed input of the last feed()
        self._ev = CEvent()
        self._used = ctypes.c_size_t()

    def _call(self, verb):
        return getattr(lib, self._p + verb)

    def feed(self, data=b""):
        """Append data to the unconsumed input and return an iterator of
        Events: *_recv() runs until it returns NONE (api.md A, the inner
        loop).  Then drain output() and look at want(): READ: read more and
        feed it; WRITE without READ: drain, then feed() with no new bytes
        (input is still pending); CLOSE: close once drained (the iterator
        also just ends on SMTPW_E_CLOSED, as the C loop breaks; other
        errors raise Error).  Input not yet
        consumed stays here, so an iterator dropped early loses nothing."""
        self._rest += bytes(data)
        return self._events()

    def _events(self):
        buf = self._rest
        # The C side reads straight from this copy; self._in keeps it alive
        # while recv runs (the events themselves hold copies).
        self._in = ctypes.create_string_buffer(buf, len(buf)) if buf else None
        base = ctypes.addressof(self._in) if buf else 0
        recv, off = self._call("recv"), 0
        try:
            while True:
                t = recv(self._handle, (base + off) or None, len(buf) - off,
                         ctypes.byref(self._used), ctypes.byref(self._ev),
                         ctypes.sizeof(self._ev))
                if t == E_CLOSED:
                    return        # after QUIT or 421: drain output(), want() says CLOSE
                if t < 0:
                    _check(t, self._p + "recv")
                off += self._used.value
                if t == EV_NONE:
                    return
                yield Event(self._ev)
        finally:
            self._rest = buf[off:]

    @property
    def pending_input(self):
        return len(self._rest)

    def output(self):
        """The queued output bytes (a copy); ack() what was sent."""
        n = ctypes.c_size_t()
        p = self._call("output")(self._handle, ctypes.byref(n))
        return ctypes.string_at(p, n.value) if n.value else b""

    def ack(self, n):
        self._call("output_ack")(self._handle, n)

    def want(self):
        return self._call("want")(self._handle)

    def timeout(self):
        """The SMTPW_TIMEOUT_* that applies now; see timeout_seconds()."""
        return self._call("timeout")(self._handle)

    def tls_started(self):
        _check(self._call("tls_started")(self._handle), self._p + "tls_started")

    @property
    def closing(self):
        return bool(self.want() & WANT_CLOSE)


class Server(_Core):
    """The server core.  hostname: bytes/str; the library references it
    (api.md C: no copy), so this object keeps its own copy alive for as
    long as the server lives, whatever happens to the caller's object."""
    _p = "smtpw_server_"

    def __init__(self, hostname=None, flags=0, **limits):
        cfg = ServerConfig()
        _check(lib.smtpw_server_config_init(ctypes.byref(cfg), SERVER_CONFIG_VERSION),
               "smtpw_server_config_init")
        cfg.flags = flags
        self._hostname = None
        if hostname is not None:
            h = hostname.encode() if isinstance(hostname, str) else bytes(hostname)
            # Our own buffer, held by self: a dropped and collected argument
            # can never leave the core pointing at freed memory.
            self._hostname = ctypes.create_string_buffer(h, len(h))
            cfg.hostname, cfg.hostname_len = ctypes.addressof(self._hostname), len(h)
        for k, v in limits.items():
            if k not in dict(ServerConfig._fields_) or k in ("version", "hostname"):
                raise TypeError("unknown server limit %r" % k)
            setattr(cfg, k, v)
        self._alloc(lib.smtpw_server_sizeof())
        _check(lib.smtpw_server_init(self._mem, ctypes.sizeof(self._mem), ctypes.byref(cfg),
                                     ctypes.byref(self._handle)), "smtpw_server_init")

    def reply(self, code=0, enh=None, text=None):
        """Answer the pending decision event; code 0: the default answer."""
        e, el = _text(enh)
        t, tl = _text(text)
        _check(lib.smtpw_server_reply(self._handle, code, e, el, t, tl), "smtpw_server_reply")

    def shutdown(self):
        _check(lib.smtpw_server_shutdown(self._handle), "smtpw_server_shutdown")

    def messages(self):
        return lib.smtpw_server_messages(self._handle)


class Client(_Core):
    """The client core: queue commands, feed() the server's bytes to get
    one Event (EV_REPLY) per reply line, body_encode()/body_end() the
    message after 354."""
    _p = "smtpw_client_"

    def __init__(self, flags=0, **limits):
        cfg = ClientConfig()
        _check(lib.smtpw_client_config_init(ctypes.byref(cfg), CLIENT_CONFIG_VERSION),
               "smtpw_client_config_init")
        cfg.flags = flags
        for k, v in limits.items():
            if k not in ("max_reply_line", "max_reply_lines"):
                raise TypeError("unknown client limit %r" % k)
            setattr(cfg, k, v)
        self._alloc(lib.smtpw_client_sizeof())
        _check(lib.smtpw_client_init(self._mem, ctypes.sizeof(self._mem), ctypes.byref(cfg),
                                     ctypes.byref(self._handle)), "smtpw_client_init")

    def _cmd(self, verb, *args):
        _check(self._call(verb)(self._handle, *args), self._p + verb)

    def ehlo(self, domain):
        self._cmd("ehlo", *_text(domain))

    def helo(self, domain):
        self._cmd("helo", *_text(domain))

    def mail(self, addr, size=0, flags=0, params=None):
        a, al = _text(addr)
        self._cmd("mail", a, al, size, flags, *_text(params))

    def rcpt(self, addr, params=None):
        self._cmd("rcpt", *(_text(addr) + _text(params)))

    def data(self):
        self._cmd("data")

    def rset(self):
        self._cmd("rset")

    def noop(self):
        self._cmd("noop")

    def quit(self):
        self._cmd("quit")

    def starttls(self):
        self._cmd("starttls")

    def vrfy(self, arg):
        self._cmd("vrfy", *_text(arg))

    def expn(self, arg):
        self._cmd("expn", *_text(arg))

    def help(self, arg=None):
        self._cmd("help", *_text(arg))

    def body_encode(self, data):
        """The message bytes dot-stuffed for DATA (RFC 5321 4.5.2)."""
        data = bytes(data)
        src = ctypes.create_string_buffer(data, len(data)) if data else None
        out = ctypes.create_string_buffer(max(2 * len(data), 64))
        used, wrote = ctypes.c_size_t(), ctypes.c_size_t()
        res, off = [], 0
        while off < len(data):
            _check(lib.smtpw_client_body_encode(
                self._handle, ctypes.addressof(src) + off, len(data) - off,
                ctypes.byref(used), out, len(out), ctypes.byref(wrote)),
                "smtpw_client_body_encode")
            res.append(out.raw[:wrote.value])
            off += used.value
        return b"".join(res)

    def body_end(self):
        out = ctypes.create_string_buffer(8)
        wrote = ctypes.c_size_t()
        _check(lib.smtpw_client_body_end(self._handle, out, len(out), ctypes.byref(wrote)),
               "smtpw_client_body_end")
        return out.raw[:wrote.value]

    def extensions(self):
        return lib.smtpw_client_extensions(self._handle)

    def size_limit(self):
        return lib.smtpw_client_size_limit(self._handle)

    def accepted(self):
        return lib.smtpw_client_accepted(self._handle)

    def pending(self):
        return lib.smtpw_client_pending(self._handle)
