#!/usr/bin/python3
"""Start-up checks of smtpwire-server's Maildir: a Maildir it cannot write
stops it at start-up with the path and the error (exit 1), instead of a
server that answers 451 to every message; a missing one is created.
Run as root here, the server is made to run as nobody (with --run-as, and
without it through a preexec setuid) facing root-owned directories, which
really fails.  Skips (77) when not root or without a nobody user."""
import os, pwd, re, subprocess, sys, tempfile, shutil

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from srvlib import check  # noqa: E402

exe = sys.argv[1]
if os.geteuid() != 0:
    print("SKIP: needs root to make a Maildir that really is unwritable")
    sys.exit(77)
try:
    nobody = pwd.getpwnam("nobody")
except KeyError:
    print("SKIP: no user nobody")
    sys.exit(77)


def as_nobody():
    os.setgroups([])
    os.setgid(nobody.pw_gid)
    os.setuid(nobody.pw_uid)


def start(args, preexec=None):
    p = subprocess.Popen([exe, "--listen", "127.0.0.1:0", "--hostname", "mx.test.example"] + args,
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, preexec_fn=preexec)
    try:
        out, err = p.communicate(timeout=10)
    except subprocess.TimeoutExpired:
        p.kill()
        out, err = p.communicate()
        return None, out, err
    return p.returncode, out, err


tmp = tempfile.mkdtemp(prefix="smtpw-md-")
os.chmod(tmp, 0o755)
try:
    # a Maildir of root's, 0755: nobody can open tmp/ but not create in it
    md = os.path.join(tmp, "Maildir")
    for sub in ("", "tmp", "new", "cur"):
        os.mkdir(os.path.join(md, sub), 0o755)
    rc, out, err = start(["--maildir", md], preexec=as_nobody)
    check(rc == 1 and b"listening on" not in out,
          f"unwritable Maildir (preexec nobody): status {rc}, stdout {out!r}")
    check(md.encode() + b"/tmp" in err and b"Permission denied" in err and b"level=error" in err,
          f"the error names path and cause: {err!r}")

    # the same with --run-as: the check runs after the drop
    rc, out, err = start(["--maildir", md, "--run-as", "nobody"])
    check(rc == 1 and b"listening on" not in out and b"Permission denied" in err
          and md.encode() in err, f"--run-as nobody, root's Maildir: {rc} {out!r} {err!r}")

    # a Maildir that does not exist yet is created (root, no drop)
    fresh = os.path.join(tmp, "a", "b", "Maildir")
    p = subprocess.Popen([exe, "--listen", "127.0.0.1:0", "--hostname", "mx.test.example",
                          "--maildir", fresh], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    line = p.stdout.readline()
    p.terminate()
    p.wait(10)
    check(re.match(rb"listening on 127\.0\.0\.1:\d+\n", line) is not None, f"fresh: {line!r}")
    check(all(os.path.isdir(os.path.join(fresh, s)) for s in ("tmp", "new", "cur")),
          "tmp/ new/ cur/ created")
    check(os.listdir(os.path.join(fresh, "tmp")) == [], "the probe file was removed")

    # a writable Maildir of nobody's, with --run-as: it starts
    own = os.path.join(tmp, "own")
    os.mkdir(own, 0o700)
    os.chown(own, nobody.pw_uid, nobody.pw_gid)
    p = subprocess.Popen([exe, "--listen", "127.0.0.1:0", "--maildir", own, "--run-as", "nobody"],
                         stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    line = p.stdout.readline()
    p.terminate()
    p.wait(10)
    check(line.startswith(b"listening on"), f"nobody's own Maildir: {line!r}")
finally:
    shutil.rmtree(tmp, ignore_errors=True)
print("ok")
