"""The smtpwire-server log (man smtpwire-server, LOG FORMAT) for the
interop tests: a strict parser of its key=value lines, and a Server whose
standard error is read as it comes (a log pipe nobody reads would stall
the server)."""
import os, re, sys, time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import srvlib  # noqa: E402

KEY = re.compile(rb"[a-z0-9_]+\Z")
BARE = re.compile(rb"[!#-<>-\[\]-~]+")  # printable ASCII but space, '"', '\', '='
TS = re.compile(rb"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z\Z")


class BadLine(Exception):
    pass


def parse(line):
    """[(key, value bytes)] of one log line (bytes, no newline); BadLine
    when it is not exactly what the LOG FORMAT section allows."""
    pairs, i, n = [], 0, len(line)
    for b in line:
        if b < 0x20 or b >= 0x7f:
            raise BadLine(f"byte {b:#x} in {line!r}")
    while i < n:
        eq = line.find(b"=", i)
        if eq < 0 or not KEY.match(line[i:eq]):
            raise BadLine(f"no key at {i}: {line!r}")
        key = line[i:eq].decode()
        i = eq + 1
        if line[i:i + 1] == b'"':
            i += 1
            val = bytearray()
            while True:
                if i >= n:
                    raise BadLine(f"unterminated quote: {line!r}")
                c = line[i:i + 1]
                if c == b'"':
                    i += 1
                    break
                if c == b"\\":
                    e = line[i + 1:i + 2]
                    if e in (b"\\", b'"'):
                        val += e
                        i += 2
                    elif e == b"x" and re.match(rb"[0-9a-f]{2}\Z", line[i + 2:i + 4]):
                        val.append(int(line[i + 2:i + 4], 16))
                        i += 4
                    else:
                        raise BadLine(f"bad escape at {i}: {line!r}")
                else:
                    val += c
                    i += 1
            val = bytes(val)
        else:
            m = BARE.match(line, i)
            if not m:
                raise BadLine(f"empty bare value at {i}: {line!r}")
            val = m.group(0)
            i = m.end()
        pairs.append((key, val))
        if i < n:
            if line[i:i + 1] != b" ":
                raise BadLine(f"no space after a value at {i}: {line!r}")
            i += 1
            if i == n:
                raise BadLine(f"trailing space: {line!r}")
    if len(pairs) < 3 or [k for k, _ in pairs[:3]] != ["ts", "level", "event"]:
        raise BadLine(f"does not start with ts level event: {line!r}")
    if not TS.match(pairs[0][1]) or pairs[1][1] not in (b"error", b"warn", b"info", b"debug"):
        raise BadLine(f"bad ts or level: {line!r}")
    return pairs


class Event(dict):
    """One log line: its keys (first value of each) and all pairs in order."""

    def __init__(self, pairs, raw):
        super().__init__()
        for k, v in pairs:
            self.setdefault(k, v.decode("latin-1"))
        self.pairs = pairs
        self.raw = raw

    def all(self, key):
        return [v.decode("latin-1") for k, v in self.pairs if k == key]


def parse_log(data):
    """Every line of a log (bytes) as Events; BadLine on any bad line."""
    if data and not data.endswith(b"\n"):
        raise BadLine(f"log does not end with a newline: {data[-200:]!r}")
    return [Event(parse(l), l) for l in data.split(b"\n")[:-1]]


class LogServer(srvlib.Server):
    """srvlib.Server (which reads stderr as it comes) with its log parsed."""

    def raw_log(self):
        data = bytes(self.errbuf)
        return data[:data.rfind(b"\n") + 1]

    def log(self):
        return parse_log(self.raw_log())

    def wait_event(self, pred, timeout=10.0):
        """The first event for which pred(ev) holds, waiting up to timeout."""
        end = time.time() + timeout
        while True:
            for ev in self.log():
                if pred(ev):
                    return ev
            if time.time() > end:
                return None
            time.sleep(0.05)
