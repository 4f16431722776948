"""Shared helpers for the smtpwire-server interop tests: start the built
server on 127.0.0.1 port 0 with a temporary Maildir, read its
"listening on" line, stop it; skip (77) when a peer program is missing."""
import atexit, os, re, shutil, signal, socket, subprocess, sys, tempfile, threading, time

SKIP = 77


def need(program):
    """Path of a peer program, or exit 77 (1 when SMTPW_REQUIRE_INTEROP=1)."""
    for p in (program, "/usr/sbin/" + program, "/usr/bin/" + program):
        found = shutil.which(p)
        if found:
            return found
    if os.environ.get("SMTPW_REQUIRE_INTEROP") == "1":
        print(f"FAIL: {program} is required (SMTPW_REQUIRE_INTEROP=1) but missing")
        sys.exit(1)
    print(f"SKIP: {program} not installed")
    sys.exit(SKIP)


class Server:
    def __init__(self, exe, *args, maildir=True, preexec_fn=None):
        self.tmp = tempfile.mkdtemp(prefix="smtpw-interop-")
        self.maildir = os.path.join(self.tmp, "Maildir")
        cmd = [exe, "--listen", "127.0.0.1:0", "--hostname", "mx.test.example"]
        if maildir:
            cmd += ["--maildir", self.maildir]
        cmd += list(args)
        self.proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                     text=True, preexec_fn=preexec_fn)
        line = self.proc.stdout.readline()
        m = re.match(r"listening on 127\.0\.0\.1:(\d+)$", line.strip())
        if not m:
            self.proc.kill()
            raise SystemExit(f"FAIL: no 'listening on' line, got {line!r}: "
                             f"{self.proc.stderr.read()}")
        self.port = int(m.group(1))
        # The server logs to stderr as it goes (one line per event): read it
        # now, or a full pipe would stall the server.
        self.errbuf = bytearray()
        self._drain = threading.Thread(target=self._read_stderr, daemon=True)
        self._drain.start()

    def _read_stderr(self):
        fd = self.proc.stderr.fileno()
        while True:
            chunk = os.read(fd, 65536)
            if not chunk:
                return
            self.errbuf += chunk

    def files(self, sub):
        d = os.path.join(self.maildir, sub)
        return sorted(os.path.join(d, f) for f in os.listdir(d)) if os.path.isdir(d) else []

    def wait_files(self, n, timeout=10.0):
        end = time.time() + timeout
        while time.time() < end and len(self.files("new")) < n:
            time.sleep(0.02)
        return self.files("new")

    def stop(self, sig=signal.SIGTERM, timeout=10):
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
        try:
            rc = self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
            raise SystemExit("FAIL: server did not stop")
        return rc

    def close(self):
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        self._drain.join(10)
        err = bytes(self.errbuf).decode("utf-8", "replace")
        self.proc.stdout.close()
        self.proc.stderr.close()
        shutil.rmtree(self.tmp, ignore_errors=True)
        return err


def tls_cert(exe):
    """A throw-away self-signed certificate for CN mx.test.example, as
    (cert, key) paths; exits SKIP when exe was built without OpenSSL or
    openssl is missing.  Removed at exit."""
    if "--tls-cert" not in subprocess.run([exe, "--help"], stdout=subprocess.PIPE,
                                          text=True).stdout:
        print("SKIP: smtpwire-server built without OpenSSL")
        sys.exit(SKIP)
    openssl = need("openssl")
    keydir = tempfile.mkdtemp(prefix="smtpw-tls-")
    atexit.register(shutil.rmtree, keydir, True)
    cert, key = os.path.join(keydir, "cert.pem"), os.path.join(keydir, "key.pem")
    subprocess.run([openssl, "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", key,
                    "-out", cert, "-days", "2", "-subj", "/CN=mx.test.example"],
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True, timeout=30)
    return cert, key


def check(cond, what):
    if not cond:
        print("FAIL:", what)
        sys.exit(1)


TRACE = re.compile(
    rb"\AReturn-Path: <(?P<from>[^>]*)>\r\n(?P<dt>(?:Delivered-To: [^\r\n]*\r\n)*)"
    rb"Received: from (?P<helo>\S+) \(\[127\.0\.0\.1\]\)\r\n"
    rb"\tby mx\.test\.example with (?P<proto>E?SMTPS?) id (?P<id>[^\r\n;]+)"
    rb"(?:\r\n\tfor <(?P<for>[^>]*)>)?; (?P<date>[A-Z][a-z]{2}, \d{2} [A-Z][a-z]{2} \d{4} "
    rb"\d{2}:\d{2}:\d{2} [+-]\d{4})\r\n")


def split_stored(path):
    """(trace fields as a dict, body bytes) of a stored message."""
    data = open(path, "rb").read()
    m = TRACE.match(data)
    check(m is not None, f"trace headers of {path}: {data[:300]!r}")
    rcpts = [l[len(b"Delivered-To: "):] for l in m.group("dt").split(b"\r\n") if l]
    info = {"from": m.group("from"), "rcpts": rcpts, "helo": m.group("helo"),
            "proto": m.group("proto"), "id": m.group("id"), "for": m.group("for")}
    return info, data[m.end():]


def cpu_ticks(pid):
    """User plus system CPU time of a process, in clock ticks (proc(5))."""
    fields = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()
    return int(fields[11]) + int(fields[12])


class Conn:
    """A raw SMTP client socket for hostile tests: exact bytes out, replies
    read line by line."""

    def __init__(self, port, timeout=10):
        self.sock = socket.create_connection(("127.0.0.1", port), timeout)
        self.f = self.sock.makefile("rb")

    def send(self, data):
        self.sock.sendall(data)

    def reply(self):
        """The lines of one reply (b"" as the only line at EOF)."""
        lines = []
        while True:
            line = self.f.readline()
            lines.append(line)
            if line[3:4] != b"-":
                return lines

    def code(self):
        return self.reply()[-1][:3]

    def codes(self, n):
        return [self.code() for _ in range(n)]

    def rest(self):
        """Everything until the server closes (b"" when it sends nothing more)."""
        data = b""
        while True:
            try:
                chunk = self.sock.recv(65536)
            except (ConnectionResetError, socket.timeout):
                return data
            if not chunk:
                return data
            data += chunk

    def close(self):
        try:
            self.f.close()
            self.sock.close()
        except OSError:
            pass
