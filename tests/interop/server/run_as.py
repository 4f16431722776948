#!/usr/bin/python3
"""smtpwire-server --run-as and --allow-root: after --run-as nobody the
process's real, effective, saved and filesystem ids and its groups are
nobody's (checked in /proc/PID/status) and a stored message belongs to
nobody; as root on a port below 1024 without --run-as it refuses to run
(exit 1) unless --allow-root.  Skips (77) when not root."""
import os, pwd, smtplib, socket, subprocess, sys, tempfile, shutil

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from loglib import LogServer  # noqa: E402
from srvlib import check  # noqa: E402

exe = sys.argv[1]
if os.geteuid() != 0:
    print("SKIP: --run-as needs root")
    sys.exit(77)
try:
    nobody = pwd.getpwnam("nobody")
except KeyError:
    print("SKIP: no user nobody")
    sys.exit(77)


def status(pid):
    out = {}
    for line in open(f"/proc/{pid}/status"):
        k, _, v = line.partition(":")
        out[k] = v.split()
    return out


def free_low_port():
    for port in range(990, 600, -1):
        s = socket.socket()
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind(("127.0.0.1", port))
            return port
        except OSError:
            continue
        finally:
            s.close()
    return None


tmp = tempfile.mkdtemp(prefix="smtpw-runas-")
os.chmod(tmp, 0o755)
md = os.path.join(tmp, "Maildir")
os.mkdir(md, 0o700)
os.chown(md, nobody.pw_uid, nobody.pw_gid)
try:
    srv = LogServer(exe, "--maildir", md, "--run-as", "nobody", maildir=False)
    try:
        ev = srv.wait_event(lambda e: e["event"] == "run_as")
        check(ev is not None and ev["uid"] == str(nobody.pw_uid), "run_as log line")
        st = status(srv.proc.pid)
        want_u, want_g = str(nobody.pw_uid), str(nobody.pw_gid)
        check(st["Uid"] == [want_u] * 4, f"Uid: {st['Uid']}")
        check(st["Gid"] == [want_g] * 4, f"Gid: {st['Gid']}")
        check(st.get("Groups", []) == [want_g], f"Groups: {st.get('Groups')}")
        with smtplib.SMTP("127.0.0.1", srv.port, timeout=10) as c:
            c.sendmail("a@x.example", ["b@y.example"], b"Subject: r\r\n\r\nx\r\n")
        srv.maildir = md
        files = srv.wait_files(1)
        check(len(files) == 1 and os.stat(files[0]).st_uid == nobody.pw_uid,
              "the message belongs to nobody")
    finally:
        srv.close()

    port = free_low_port()
    if port is None:
        print("no free port below 1024: privileged-port part skipped")
    else:
        p = subprocess.run([exe, "--listen", f"127.0.0.1:{port}", "--sink"],
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=10)
        check(p.returncode == 1 and b"listening on" not in p.stdout and b"--run-as" in p.stderr,
              f"root on port {port}: {p.returncode} {p.stdout!r} {p.stderr!r}")
        p = subprocess.Popen([exe, "--listen", f"127.0.0.1:{port}", "--sink", "--allow-root"],
                             stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
        line = p.stdout.readline()
        p.terminate()
        p.wait(10)
        check(line == f"listening on 127.0.0.1:{port}\n".encode(), f"--allow-root: {line!r}")
        p = subprocess.run([exe, "--run-as", "no-such-user-smtpw", "--sink"],
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=10)
        check(p.returncode == 64 and b"no-such-user-smtpw" in p.stderr, f"unknown user: {p!r}")
finally:
    shutil.rmtree(tmp, ignore_errors=True)
print("ok")
