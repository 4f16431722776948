#!/usr/bin/python3
"""Maildir correctness under stress and failure, as a sysadmin runs it:
- 30 sessions finishing in the same instant (one group commit, one second,
  one process): 30 distinct names, every file complete and mode 0600;
- new/ gone after start, or a full file system (a 256 kB tmpfs, when this
  host lets us mount one): 451, never 250, and nothing left in tmp/;
- envelope bytes that could forge trace fields (quoted local parts with
  '>', '"', ';', a lenient HELO token): each trace field stays one field;
- SIGTERM right as many messages complete: every 250 means a stored,
  complete file, and tmp/ is empty after exit."""
import os, shutil, signal, socket, stat, subprocess, sys, tempfile, time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from srvlib import Conn, Server, check, split_stored

HOST = b"mx.test.example"
OK = [b"250 2.0.0 Message accepted for delivery\r\n"]


def into_data(port, n):
    cs = []
    for i in range(n):
        c = Conn(port)
        check(c.code() == b"220", "greeting")
        c.send(b"EHLO c%d.test.example\r\nMAIL FROM:<a%d@x.example>\r\nRCPT TO:<b@y.example>\r\n"
               b"DATA\r\n" % (i, i))
        c.reply()
        check(c.codes(3) == [b"250", b"250", b"354"], "envelope")
        c.send(b"Subject: m%d\r\n\r\n" % i + b"line of session %d\r\n" % i * 200)
        cs.append(c)
    return cs


def body_of(i):
    return b"Subject: m%d\r\n\r\n" % i + b"line of session %d\r\n" % i * 200


exe = sys.argv[1]

# 1. Concurrent completion.
srv = Server(exe)
try:
    cs = into_data(srv.port, 30)
    for c in cs:  # all the ends in one burst, so they share a loop turn
        c.sock.sendall(b".\r\n")
    for c in cs:
        check(c.reply() == OK, "stored")
    files = srv.wait_files(30)
    check(len(files) == 30 and len(set(os.path.basename(f) for f in files)) == 30,
          f"30 unique names: {files}")
    seen = set()
    for f in files:
        st = os.stat(f)
        check(stat.S_IMODE(st.st_mode) == 0o600, f"{f} mode {oct(st.st_mode)}")
        info, body = split_stored(f)
        i = int(info["from"][1:info["from"].index(b"@")])
        check(body == body_of(i), f"message {i} complete")
        seen.add(i)
    check(seen == set(range(30)), "every session's message")
    check(srv.files("tmp") == [], "tmp/ empty")
    check(stat.S_IMODE(os.stat(srv.maildir).st_mode) == 0o700, "Maildir mode 0700")
    for c in cs:
        c.close()
    check(srv.stop() == 0, "exit status")
finally:
    srv.close()
print("ok: 30 simultaneous messages, 30 unique complete 0600 files")

# 2a. new/ replaced by a plain file while running: the rename fails.
srv = Server(exe)
try:
    new = os.path.join(srv.maildir, "new")
    os.rmdir(new)
    open(new, "w").close()
    c = into_data(srv.port, 1)[0]
    c.send(b".\r\n")
    r = c.reply()
    check(r == [b"451 4.3.0 Cannot store the message now\r\n"], f"new/ gone: {r}")
    check(srv.files("tmp") == [], "tmp/ empty")
    c.close()
    check(srv.stop() == 0, "exit status")
finally:
    srv.close()
# ... and at start: a clear error, exit 1.
tmp = tempfile.mkdtemp(prefix="smtpw-red-")
try:
    os.makedirs(os.path.join(tmp, "M", "tmp"))
    open(os.path.join(tmp, "M", "new"), "w").close()
    p = subprocess.run([exe, "--listen", "127.0.0.1:0", "--maildir", os.path.join(tmp, "M")],
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=10)
    check(p.returncode == 1 and b"new" in p.stderr and p.stdout == b"",
          f"start with new/ a file: {p.returncode} {p.stderr!r}")
finally:
    shutil.rmtree(tmp, ignore_errors=True)
print("ok: new/ not a directory: 451 while running, exit 1 at start")

# 2b. A full file system.
mnt = tempfile.mkdtemp(prefix="smtpw-red-full-")
mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=256k", "tmpfs", mnt],
                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL).returncode == 0
if not mounted:
    os.rmdir(mnt)
    print("skip: cannot mount a tmpfs here (not root, or no CAP_SYS_ADMIN)")
else:
    try:
        srv = Server(exe, "--maildir", os.path.join(mnt, "M"), maildir=False)
        srv.maildir = os.path.join(mnt, "M")
        try:
            c = Conn(srv.port)
            check(c.code() == b"220", "greeting")
            c.send(b"EHLO c.test.example\r\nMAIL FROM:<a@x.example>\r\nRCPT TO:<b@y.example>\r\n"
                   b"DATA\r\n")
            c.reply()
            check(c.codes(3) == [b"250", b"250", b"354"], "envelope")
            c.send((b"f" * 998 + b"\r\n") * 1000 + b".\r\n")
            r = c.reply()
            check(r == [b"451 4.3.0 Cannot store the message now\r\n"], f"disk full: {r}")
            check(srv.files("tmp") == [] and srv.files("new") == [], "nothing kept")
            # Space is back (nothing was kept): a small message goes through.
            c.send(b"MAIL FROM:<a@x.example>\r\nRCPT TO:<b@y.example>\r\nDATA\r\n")
            check(c.codes(3) == [b"250", b"250", b"354"], "envelope")
            c.send(b"Subject: small\r\n\r\nfits\r\n.\r\n")
            check(c.reply() == OK, "small message stored")
            c.close()
            check(srv.stop() == 0, "exit status")
        finally:
            srv.close()
    finally:
        subprocess.run(["umount", mnt])
        os.rmdir(mnt)
    print("ok: disk full: 451, nothing kept, next message stored")

# 3. Trace-field forgery through the envelope (lenient profile too).
for cfg in ([], ["--lenient"]):
    srv = Server(exe, *cfg)
    try:
        c = Conn(srv.port)
        check(c.code() == b"220", "greeting")
        helo = b"x)(Received:" if cfg else b"[IPv6:::1]"
        frm = b'"a>b\\" Received: from evil; x"@x.example'
        rcpt = b'"c\\\\>; for <d@e>"@y.example'
        c.send(b"EHLO " + helo + b"\r\nMAIL FROM:<" + frm + b">\r\nRCPT TO:<" + rcpt +
               b">\r\nDATA\r\n")
        c.reply()
        check(c.codes(3) == [b"250", b"250", b"354"], f"{cfg} envelope")
        c.send(b"Subject: inj\r\n\r\nbody\r\n.\r\n")
        check(c.reply() == OK, "stored")
        c.close()
        files = srv.wait_files(1)
        data = open(files[0], "rb").read()
        head = data[:data.index(b"Subject: inj\r\n")]
        lines = head.split(b"\r\n")[:-1]
        check(lines[0] == b"Return-Path: <" + frm + b">", f"Return-Path {lines[0]!r}")
        check(lines[1] == b"Delivered-To: " + rcpt, f"Delivered-To {lines[1]!r}")
        check(lines[2] == b"Received: from " + helo + b" ([127.0.0.1])", f"{lines[2]!r}")
        check(len(lines) == 5 and lines[3].startswith(b"\tby ") and
              lines[4] == b"\tfor <" + rcpt + b">" + lines[4][len(rcpt) + 7:] and
              lines[4].startswith(b"\tfor <" + rcpt + b">; "), f"trace lines {lines!r}")
        for l in head.split(b"\r\n"):
            check(b"\r" not in l and b"\n" not in l and b"\0" not in l, "no control bytes")
        check(srv.stop() == 0, "exit status")
    finally:
        srv.close()
print("ok: odd envelope bytes stay inside their trace fields")

# 4. SIGTERM as 20 messages complete, at several delays so that some rounds
# land inside the group commit: 250 only for stored, complete files.
total_ok = total_stored = 0
for delay in (0, 0.001, 0.003, 0.01, 0.03, 0.1):
    srv = Server(exe)
    try:
        cs = into_data(srv.port, 20)
        for c in cs:
            c.sock.sendall(b".\r\n")
        time.sleep(delay)
        srv.proc.send_signal(signal.SIGTERM)
        answered = []
        for i, c in enumerate(cs):
            r = c.reply()
            check(r in (OK, [b"421 4.3.2 mx.test.example Service not available, closing "
                             b"transmission channel\r\n"], [b""]), f"after SIGTERM: {r}")
            if r == OK:
                answered.append(i)
            c.close()
        check(srv.stop() == 0, "exit status")
        stored = {}
        for f in srv.files("new"):
            info, body = split_stored(f)
            i = int(info["from"][1:info["from"].index(b"@")])
            check(body == body_of(i), f"message {i} complete")
            stored[i] = f
        check(set(answered) <= set(stored), f"250 without a file: {answered} vs {sorted(stored)}")
        check(srv.files("tmp") == [], "tmp/ empty after SIGTERM")
        total_ok += len(answered)
        total_stored += len(stored)
    finally:
        srv.close()
print(f"ok: SIGTERM at 6 delays: {total_ok} answered 250, {total_stored} stored, tmp/ empty")
