"""smtpwire-send as sendmail, driven the way its callers drive it: cron
(Vixie's and Debian's command lines), mail(1) (Debian's bsd-mailx, which
runs "sendmail -i -t"), PHP's mail() ("sendmail -t -i" plus "-f"); and
the configuration file.  A scripted server on 127.0.0.1 records what
arrives.  bsd-mailx is the only peer that may be missing (skipped, 77,
unless SMTPW_REQUIRE_INTEROP=1).
Usage: sendmail_mode.py SMTPWIRE-SEND CASE
SPDX-License-Identifier: MIT"""
import os
import shutil
import subprocess
import sys
import tempfile
import time

from smtpscript import Server, standard, check, skip_or_fail, run_case


class Env:
    """A temporary HOME with ~/.smtpwirerc, and a 'sendmail' symlink to
    the program, as /usr/sbin/sendmail would be."""

    def __init__(self, send, rc_text=None, rc_mode=0o600):
        self.dir = tempfile.mkdtemp(prefix="smtpw-sendmail-")
        self.sendmail = os.path.join(self.dir, "sendmail")
        os.symlink(os.path.abspath(send), self.sendmail)
        self.send = send
        self.srv = Server(standard)
        self.rc = os.path.join(self.dir, ".smtpwirerc")
        self.write_rc(rc_text if rc_text is not None else
                      "# written by the test\nserver 127.0.0.1:%d\n\nfrom cron@host.example.org\n"
                      "timeout 5\n" % self.srv.port, rc_mode)

    def write_rc(self, text, mode=0o600):
        with open(self.rc, "w") as f:
            f.write(text)
        os.chmod(self.rc, mode)

    def env(self):
        e = dict(os.environ)
        e["HOME"] = self.dir
        return e

    def run(self, argv, stdin, shell=False):
        p = subprocess.run(argv, input=stdin, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                           timeout=20, env=self.env(), shell=shell, cwd=self.dir)
        time.sleep(0.05)
        return p.returncode, p.stderr.decode("utf-8", "replace")

    def conn(self, i=-1):
        check(self.srv.conns, "no connection reached the server")
        return self.srv.conns[i]

    def done(self):
        self.srv.stop()
        shutil.rmtree(self.dir, ignore_errors=True)


def envelope(conn):
    mail = [c for c in conn.commands if c[:4].upper() == b"MAIL"]
    rcpt = [c[8:].decode() for c in conn.commands if c[:4].upper() == b"RCPT"]
    return (mail[0][10:].split(b" ")[0].decode() if mail else None), rcpt


CRON_MSG = (b"From: root (Cron Daemon)\n"
            b"To: ops@example.org\n"
            b"Subject: Cron <root@host> /usr/local/bin/report\n"
            b"MIME-Version: 1.0\n"
            b"Content-Type: text/plain; charset=UTF-8\n"
            b"\n"
            b"report line\n"
            b".\n"
            b"after the lone dot\n")


def cron_vixie(send):
    """Vixie cron: sendmail -FCronDaemon -odi -oem -oi -t, recipients from
    To:; -oi keeps the lone dot as text."""
    e = Env(send)
    try:
        rc, err = e.run([e.sendmail, "-FCronDaemon", "-odi", "-oem", "-oi", "-t"], CRON_MSG)
        check(rc == 0, "exit %d: %s" % (rc, err))
        frm, rcpt = envelope(e.conn())
        check(frm == "<cron@host.example.org>", "MAIL FROM from the config file: %r" % frm)
        check(rcpt == ["<ops@example.org>"], "RCPT from To: %r" % rcpt)
        body = e.conn().bodies[0]
        check(b"\r\n..\r\nafter the lone dot\r\n" in body, "the lone dot is text: %r" % body)
        check(body.startswith(b"From: root (Cron Daemon)\r\n"), "From: kept as is: %r" % body)
    finally:
        e.done()


def cron_debian(send):
    """Debian's cron: sendmail -FCronDaemon -i -B8BITMIME -oem MAILTO, and a
    message without From: gets one with the -F name."""
    e = Env(send)
    try:
        msg = CRON_MSG.replace(b"From: root (Cron Daemon)\n", b"")
        rc, err = e.run([e.sendmail, "-FCronDaemon", "-i", "-B8BITMIME", "-oem",
                         "admin@example.org"], msg)
        check(rc == 0, "exit %d: %s" % (rc, err))
        frm, rcpt = envelope(e.conn())
        check(rcpt == ["<admin@example.org>"], "RCPT from the operand only (no -t): %r" % rcpt)
        body = e.conn().bodies[0]
        check(body.startswith(b"From: \"CronDaemon\" <cron@host.example.org>\r\nTo: ops@"),
              "From: added with -F: %r" % body[:80])
    finally:
        e.done()


def lone_dot_ends_input_without_i(send):
    """sendmail without -i: a lone '.' line ends the message."""
    e = Env(send)
    try:
        rc, err = e.run([e.sendmail, "ops@example.org"], CRON_MSG)
        check(rc == 0, "exit %d: %s" % (rc, err))
        body = e.conn().bodies[0]
        check(body.endswith(b"report line\r\n") and b"after the lone dot" not in body,
              "cut at the dot: %r" % body)
    finally:
        e.done()


def mailx(send):
    """Debian's bsd-mailx runs "sendmail -i -t" (with -r: "-f ADDR") and
    writes To:, Cc: and Bcc: into the header; Bcc: must not go out."""
    mail = shutil.which("bsd-mailx") or shutil.which("mail")
    if not mail or not os.path.realpath(mail).endswith("bsd-mailx"):
        skip_or_fail("bsd-mailx not installed (apt-get install bsd-mailx)")
    e = Env(send)
    try:
        mailrc = os.path.join(e.dir, "mailrc")
        with open(mailrc, "w") as f:
            f.write("set sendmail=%s\n" % e.sendmail)
        env = e.env()
        env["MAILRC"] = mailrc
        p = subprocess.run([mail, "-s", "from mailx", "-c", "cc@example.org", "-b",
                            "hidden@example.org", "-r", "me@example.org",
                            "Bob <bob@example.org>", "you@example.org"],
                           input=b"hello from mail(1)\n.\nstill here\n", env=env,
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=20)
        time.sleep(0.1)
        check(p.returncode == 0, "mail exit %d: %r" % (p.returncode, p.stderr))
        frm, rcpt = envelope(e.conn())
        check(frm == "<me@example.org>", "-r becomes -f: %r" % frm)
        check(sorted(rcpt) == ["<bob@example.org>", "<cc@example.org>", "<hidden@example.org>",
                               "<you@example.org>"], "RCPTs: %r" % rcpt)
        body = e.conn().bodies[0]
        check(b"Bcc:" not in body.split(b"\r\n\r\n")[0], "Bcc: removed: %r" % body)
        check(b"hidden@example.org" not in body, "the Bcc address leaks: %r" % body)
        check(body.count(b"From:") == 1, "mailx's own From: kept, none added: %r" % body)
        check(b"hello from mail(1)\r\n..\r\nstill here\r\n" in body, "body: %r" % body)
        # without -r, mailx writes no From: and gives no -f: the sender and
        # the From: field come from the configuration file
        p = subprocess.run([mail, "-s", "no -r", "you@example.org"], input=b"hi\n", env=env,
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=20)
        time.sleep(0.1)
        check(p.returncode == 0, "mail exit %d: %r" % (p.returncode, p.stderr))
        frm, rcpt = envelope(e.conn())
        check(frm == "<cron@host.example.org>", "sender from the config: %r" % frm)
        body = e.conn().bodies[0]
        check(body.startswith(b"From: <cron@host.example.org>\r\nTo: you@example.org\r\n"),
              "From: added: %r" % body)
    finally:
        e.done()


def php_mail(send):
    """PHP's mail(): popen("sendmail -t -i" + " -fwww@example.org")."""
    e = Env(send)
    try:
        msg = (b"To: Customer <customer@example.org>\r\n"
               b"Subject: Your order\r\n"
               b"Cc: \"Sales, Team\" <sales@example.org>\r\n"
               b"Bcc: audit@example.org\r\n"
               b"\r\n"
               b"Thanks.\r\n.\r\nbye\r\n")
        rc, err = e.run("%s -t -i -fwww@example.org" % e.sendmail, msg, shell=True)
        check(rc == 0, "exit %d: %s" % (rc, err))
        frm, rcpt = envelope(e.conn())
        check(frm == "<www@example.org>", "-f: %r" % frm)
        check(rcpt == ["<customer@example.org>", "<sales@example.org>", "<audit@example.org>"],
              "RCPTs from To/Cc/Bcc: %r" % rcpt)
        body = e.conn().bodies[0]
        check(b"audit@" not in body and b"Bcc" not in body, "Bcc removed: %r" % body)
        check(b"Thanks.\r\n..\r\nbye\r\n" in body, "-i keeps the dot: %r" % body)
    finally:
        e.done()


def sendmail_flag_and_long_options(send):
    """--sendmail selects the mode without the name; long options work in it."""
    e = Env(send, rc_text="")
    try:
        rc, err = e.run([send, "--sendmail", "--server", "127.0.0.1:%d" % e.srv.port,
                         "-f", "<x@example.org>", "-t"], b"To: y@example.org\n\nhi\n")
        check(rc == 0, "exit %d: %s" % (rc, err))
        frm, rcpt = envelope(e.conn())
        check(frm == "<x@example.org>" and rcpt == ["<y@example.org>"], "%r %r" % (frm, rcpt))
    finally:
        e.done()


def sendmail_refusals(send):
    e = Env(send)
    try:
        for argv, want in (([e.sendmail, "-bp"], "-bp"),
                           ([e.sendmail, "-q"], "-q"),
                           ([e.sendmail, "root"], "root"),
                           ([e.sendmail, "-t"], "no recipients")):
            rc, err = e.run(argv, b"Subject: x\n\nx\n")
            check(rc == 64, "%r: exit %d, want 64: %s" % (argv, rc, err))
            check(want in err.splitlines()[0], "%r: %r" % (argv, err))
        check(e.srv.conns == [], "nothing sent")
    finally:
        e.done()


def config_precedence_and_comments(send):
    """The command line wins; comments, blank lines and quotes work."""
    e = Env(send)
    try:
        e.write_rc("# the relay\nserver 127.0.0.1:1   # a port nobody listens on\n\n"
                   "helo \"from-file.example.org\"\nfrom file@example.org\n", 0o644)
        rc, err = e.run([send, "--server", "127.0.0.1:%d" % e.srv.port, "--to",
                         "y@example.org"], b"Subject: x\n\nx\n")
        check(rc == 0, "exit %d: %s" % (rc, err))
        c = e.conn()
        check(c.commands[0] == b"EHLO from-file.example.org", "helo from the file: %r" % c.commands)
        frm, _ = envelope(c)
        check(frm == "<file@example.org>", "from from the file: %r" % frm)
        # an explicit --config is read instead of ~/.smtpwirerc
        other = os.path.join(e.dir, "other.conf")
        with open(other, "w") as f:
            f.write("server 127.0.0.1:%d\nfrom other@example.org\n" % e.srv.port)
        rc, err = e.run([send, "--config", other, "--to", "y@example.org"], b"Subject: x\n\nx\n")
        check(rc == 0, "--config: exit %d: %s" % (rc, err))
        frm, _ = envelope(e.conn())
        check(frm == "<other@example.org>", "--config file used: %r" % frm)
    finally:
        e.done()


def config_errors(send):
    e = Env(send)
    try:
        e.write_rc("server 127.0.0.1:%d\n\n# x\nsevrer localhost\n" % e.srv.port, 0o644)
        rc, err = e.run([send, "--from", "a@example.org", "--to", "y@example.org"], b"x\n")
        check(rc == 64, "unknown key: exit %d" % rc)
        check(e.rc + ":4: unknown key \"sevrer\"" in err, err)
        e.write_rc("server 127.0.0.1:%d\npassword s3cret\n" % e.srv.port, 0o644)
        rc, err = e.run([send, "--from", "a@example.org", "--to", "y@example.org"], b"x\n")
        check(rc == 64, "password, 0644: exit %d" % rc)
        check("readable by others" in err and "s3cret" not in err, err)
        e.write_rc("server 127.0.0.1:%d\npassword s3cret\n" % e.srv.port, 0o600)
        rc, err = e.run([send, "--from", "a@example.org", "--to", "y@example.org"], b"x\n")
        check(rc == 64, "password, 0600: exit %d" % rc)
        check("AUTH is not supported yet" in err, err)
        check(e.srv.conns == [], "nothing sent")
    finally:
        e.done()


if __name__ == "__main__":
    run_case(globals())
