#!/usr/bin/python3
"""Maildir names that collide, and tmp/ or new/ that are symbolic links.

- maildir_new_is_never_replaced: with the test hook
  SMTPW_TEST_MAILDIR_UNIQUE every message first tries the same name (as
  two MX hosts sharing a --hostname, or two containers whose server is
  pid 1, can meet on one).  A file already under that name in new/, and
  every message delivered under it before, must survive: each message is
  kept, under a fresh unique name when its own is taken.
- maildir_unique_names: without the hook, names follow the Maildir
  convention time.MusecPpidQcounterRrandom.host, all distinct.
- maildir_symlinked_tmp_new_refused: a tmp/ or new/ that is a symbolic
  link is refused at start with a clear error, and nothing is written
  through it; a new/ swapped for a link while running is not followed."""
import os, re, shutil, subprocess, sys, tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from srvlib import Conn, Server, check, split_stored

OK = [b"250 2.0.0 Message accepted for delivery\r\n"]
NAME = re.compile(r"^\d+\.M\d{6}P\d+Q\d+R[0-9a-f]{16}\.mx\.test\.example$")


def deliver(port, i):
    c = Conn(port)
    check(c.code() == b"220", "greeting")
    c.send(b"EHLO c.test.example\r\nMAIL FROM:<m%d@x.example>\r\nRCPT TO:<b@y.example>\r\n"
           b"DATA\r\nSubject: m%d\r\n\r\nmessage %d\r\n.\r\n" % (i, i, i))
    c.reply()
    check(c.codes(3) == [b"250", b"250", b"354"], "envelope")
    r = c.reply()
    c.send(b"QUIT\r\n")
    c.reply()
    c.close()
    return r


def bodies(srv, skip=None):
    out = {}
    for f in srv.files("new"):
        if f == skip:
            continue
        info, body = split_stored(f)
        out[os.path.basename(f)] = body
    return out


exe = sys.argv[1]

# 1. maildir_new_is_never_replaced
os.environ["SMTPW_TEST_MAILDIR_UNIQUE"] = "collide"
try:
    srv = Server(exe)
finally:
    del os.environ["SMTPW_TEST_MAILDIR_UNIQUE"]
try:
    fixed = os.path.join(srv.maildir, "new", "collide.mx.test.example")
    with open(fixed, "wb") as f:  # someone else's message under our next name
        f.write(b"Subject: victim\r\n\r\ndelivered before\r\n")
    for i in range(4):
        check(deliver(srv.port, i) == OK, f"message {i} accepted")
    check(open(fixed, "rb").read() == b"Subject: victim\r\n\r\ndelivered before\r\n",
          "the file already in new/ was replaced")
    got = bodies(srv, skip=fixed)
    check(len(got) == 4, f"4 messages kept beside it, got {sorted(got)}")
    check(sorted(got.values()) == sorted(b"Subject: m%d\r\n\r\nmessage %d\r\n" % (i, i)
                                         for i in range(4)), f"every body intact: {got}")
    check(srv.files("tmp") == [], "tmp/ empty")
    check(srv.stop() == 0, "exit status")
finally:
    srv.close()
print("ok: maildir_new_is_never_replaced (5 deliveries onto one name, all kept)")

# 2. maildir_unique_names (and a token the hook must ignore: path bytes).
os.environ["SMTPW_TEST_MAILDIR_UNIQUE"] = "../../escape"
try:
    srv = Server(exe)
finally:
    del os.environ["SMTPW_TEST_MAILDIR_UNIQUE"]
try:
    for i in range(3):
        check(deliver(srv.port, i) == OK, f"message {i} accepted")
    names = [os.path.basename(f) for f in srv.files("new")]
    check(len(names) == 3 and all(NAME.match(n) for n in names), f"names {names}")
    check(not os.path.exists(os.path.join(srv.tmp, "escape.mx.test.example")) and
          not os.path.exists(os.path.join(os.path.dirname(srv.tmp), "escape.mx.test.example")),
          "hook token with a path was used")
    check(srv.stop() == 0, "exit status")
finally:
    srv.close()
print("ok: maildir_unique_names (time.MusecPpidQcounterRrandom.host)")

# 3. maildir_symlinked_tmp_new_refused
for sub in ("new", "tmp"):
    tmp = tempfile.mkdtemp(prefix="smtpw-coll-")
    try:
        md = os.path.join(tmp, "M")
        elsewhere = os.path.join(tmp, "elsewhere")
        os.makedirs(elsewhere)
        for d in ("tmp", "new", "cur"):
            if d != sub:
                os.makedirs(os.path.join(md, d))
        os.symlink(elsewhere, os.path.join(md, sub))
        p = subprocess.Popen([exe, "--listen", "127.0.0.1:0", "--maildir", md],
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        try:
            out, err = p.communicate(timeout=10)
        except subprocess.TimeoutExpired:
            p.kill()
            p.communicate()
            check(False, f"{sub}/ a symbolic link: the server started")
        check(p.returncode == 1 and out == b"" and b"symbolic link" in err and
              (b"/" + sub.encode()) in err,
              f"{sub}/ a symbolic link: {p.returncode} {out!r} {err!r}")
        check(os.listdir(elsewhere) == [], "nothing written through the link")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
# new/ swapped for a link while running: the open directory is used, the
# link is not followed.
srv = Server(exe)
try:
    new = os.path.join(srv.maildir, "new")
    elsewhere = os.path.join(srv.tmp, "elsewhere")
    os.makedirs(elsewhere)
    os.rename(new, new + ".old")
    os.symlink(elsewhere, new)
    check(deliver(srv.port, 0) == OK, "accepted")
    check(os.listdir(elsewhere) == [], "delivered through a link swapped in")
    check(len(os.listdir(new + ".old")) == 1, "delivered into the directory opened at start")
    check(srv.stop() == 0, "exit status")
finally:
    srv.close()
print("ok: maildir_symlinked_tmp_new_refused (tmp/ and new/ at start, new/ while running)")
