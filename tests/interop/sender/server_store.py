"""smtpwire-send against the smtpwire-server example: the stored Maildir
file must hold the message byte-exact (after the server's own header
lines).  Usage: server_store.py SMTPWIRE-SEND SMTPWIRE-SERVER
SPDX-License-Identifier: MIT"""
import os
import select
import shutil
import subprocess
import sys
import tempfile
import time

from smtpscript import run_send, canonical, check, Failure

MSG = (b"From: Alice <alice@example.org>\nTo: Bob <bob@example.net>\nSubject: store\n\n"
       b"first line\n.a dot line\n..two dots\n.\nlast line, no newline")


def start_server(exe, maildir):
    p = subprocess.Popen([exe, "--listen", "127.0.0.1:0", "--maildir", maildir,
                          "--max-messages", "2"],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 10
    line = b""
    while time.monotonic() < deadline:
        r, _, _ = select.select([p.stdout], [], [], 0.1)
        if r:
            line = p.stdout.readline()
            break
        if p.poll() is not None:
            break
    if not line.startswith(b"listening on "):
        p.kill()
        raise Failure("no 'listening on' line: %r %r" % (line, p.stderr.read()))
    hostport = line.split()[2].decode()
    return p, hostport


def stored(maildir):
    new = os.path.join(maildir, "new")
    if not os.path.isdir(new):
        return []
    return [os.path.join(new, f) for f in sorted(os.listdir(new))]


def wait_for_files(maildir, n, timeout=5):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        files = stored(maildir)
        if len(files) >= n:
            return files
        time.sleep(0.02)
    return stored(maildir)


def main():
    send, server = sys.argv[1], sys.argv[2]
    tmp = tempfile.mkdtemp(prefix="smtpw-send-")
    maildir = os.path.join(tmp, "Maildir")
    p = None
    failed = 0
    try:
        p, hostport = start_server(server, maildir)
        # one message, two recipients, verbose dialogue
        rc, err = run_send(send, ["-v", "--server", hostport, "--from", "alice@example.org",
                                  "--to", "bob@example.net", "--to", "carol@example.net"], MSG)
        try:
            check(rc == 0, "exit %d: %s" % (rc, err))
            check("C: MAIL FROM:<alice@example.org>" in err, "-v shows the dialogue: " + err)
            check("\nS: 250" in err, "-v shows the replies: " + err)
            files = wait_for_files(maildir, 1)
            check(len(files) == 1, "one stored file, found %r" % files)
            data = open(files[0], "rb").read()
            want = canonical(MSG)
            # a Maildir file may use LF or CRLF; the server may prepend
            # trace headers (Received:, Return-Path:)
            ok = data.endswith(want) or data.endswith(want.replace(b"\r\n", b"\n"))
            check(ok, "stored message ends with the sent one: %r" % data[-300:])
            print("ok   message stored byte-exact")
        except Failure as e:
            failed += 1
            print("FAIL stored message: %s" % e)
        # a message from a file argument, CRLF input
        path = os.path.join(tmp, "msg.eml")
        with open(path, "wb") as f:
            f.write(b"Subject: from a file\r\n\r\nbody\r\n")
        rc, err = run_send(send, ["--server", hostport, "--from", "", "--to", "dave@example.net", path])
        try:
            check(rc == 0, "FILE argument: exit %d: %s" % (rc, err))
            files = wait_for_files(maildir, 2)
            check(len(files) == 2, "two stored files")
            print("ok   FILE argument, null reverse-path")
        except Failure as e:
            failed += 1
            print("FAIL FILE argument: %s" % e)
    except Failure as e:
        failed += 1
        print("FAIL %s" % e)
    finally:
        if p:
            try:
                p.wait(5)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()
        shutil.rmtree(tmp, ignore_errors=True)
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
