"""smtpwire-send without --server: MX lookup (RFC 5321 5.1, RFC 7505)
through a local dnsmasq, delivery to a scripted server on 127.0.0.1.
SMTPW_NAMESERVER points the sender at dnsmasq; SMTPW_MX_PORT (test only)
replaces port 25.  Usage: mx.py SMTPWIRE-SEND
SPDX-License-Identifier: MIT"""
import os
import shutil
import socket
import subprocess
import sys
import time

from smtpscript import Server, standard, run_send, check, stuffed, skip_or_fail, Failure

MSG = b"Subject: mx\n\nvia MX\n"
# every exchanger here is 127.0.0.1, which is refused by default (RFC 5321
# 5.1: an MX must not loop back to us)
LOOP = ["--allow-loopback-mx"]


def free_udp_port():
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def start_dnsmasq(port):
    exe = shutil.which("dnsmasq") or ("/usr/sbin/dnsmasq" if os.path.exists("/usr/sbin/dnsmasq") else None)
    if not exe:
        skip_or_fail("dnsmasq (dnsmasq-base) is not installed")
    args = [exe, "--no-daemon", "--port=%d" % port, "--listen-address=127.0.0.1",
            "--bind-interfaces", "--no-resolv", "--no-hosts", "--local=/test/",
            "--user=" + ("root" if os.getuid() == 0 else "nobody"), "--pid-file=",
            # the preferred exchanger has no address: the next one is used
            "--mx-host=example.test,noaddr.example.test,5",
            "--mx-host=example.test,mx1.example.test,10",
            "--host-record=mx1.example.test,127.0.0.1",
            "--host-record=plain.test,127.0.0.1",      # no MX: the implicit MX
            "--mx-host=null.test,.,0"]                 # RFC 7505 null MX
    p = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    # ready when it answers anything
    for _ in range(100):
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        s.settimeout(0.05)
        try:
            s.sendto(b"\x12\x34\x01\x00\x00\x01\x00\x00\x00\x00\x00\x00\x04test\x00\x00\x01\x00\x01",
                     ("127.0.0.1", port))
            s.recv(512)
            return p
        except OSError:
            if p.poll() is not None:
                skip_or_fail("dnsmasq did not start: " + p.stderr.read().decode(errors="replace"))
        finally:
            s.close()
    p.kill()
    raise Failure("dnsmasq did not answer")


def main():
    send = sys.argv[1]
    dport = free_udp_port()
    dns = start_dnsmasq(dport)
    srv = Server(standard)
    env = {"SMTPW_NAMESERVER": "127.0.0.1:%d" % dport, "SMTPW_MX_PORT": str(srv.port)}
    failed = 0

    def case(name, fn):
        nonlocal failed
        try:
            fn()
            print("ok   " + name)
        except (Failure, Exception) as e:
            failed += 1
            print("FAIL %s: %s" % (name, e))

    def mx_order():
        before = len(srv.conns)
        rc, err = run_send(send, LOOP + ["--from", "a@example.org", "--to", "u@example.test"], MSG, env=env)
        check(rc == 0, "exit %d: %s" % (rc, err))
        check(len(srv.conns) == before + 1, "one connection")
        c = srv.conns[-1]
        time.sleep(0.05)
        check(b"RCPT TO:<u@example.test>" in c.commands, "%r" % c.commands)
        check(c.bodies == [stuffed(MSG)], "body %r" % c.bodies)

    def implicit_mx():
        rc, err = run_send(send, LOOP + ["--from", "a@example.org", "--to", "v@plain.test"], MSG, env=env)
        check(rc == 0, "no MX, A record: exit %d: %s" % (rc, err))
        check(b"RCPT TO:<v@plain.test>" in srv.conns[-1].commands, "delivered to the A record")

    def null_mx():
        before = len(srv.conns)
        rc, err = run_send(send, LOOP + ["--from", "a@example.org", "--to", "w@null.test"], MSG, env=env)
        check(rc == 69, "null MX: exit %d, want 69: %s" % (rc, err))
        check("null MX" in err, err)
        check(len(srv.conns) == before, "no connection for a null MX")

    def nxdomain():
        rc, err = run_send(send, LOOP + ["--from", "a@example.org", "--to", "x@nope.test"], MSG, env=env)
        check(rc == 68, "NXDOMAIN: exit %d, want 68 (EX_NOHOST)" % rc)

    def grouped():
        before = len(srv.conns)
        rc, err = run_send(send, LOOP + ["--from", "a@example.org", "--to", "p@example.test",
                                  "--to", "q@plain.test", "--to", "r@EXAMPLE.test"], MSG, env=env)
        check(rc == 0, "two domains: exit %d: %s" % (rc, err))
        time.sleep(0.05)
        conns = srv.conns[before:]
        check(len(conns) == 2, "one transaction per domain, got %d" % len(conns))
        r1 = [c for c in conns[0].commands if c.startswith(b"RCPT")]
        r2 = [c for c in conns[1].commands if c.startswith(b"RCPT")]
        check(r1 == [b"RCPT TO:<p@example.test>", b"RCPT TO:<r@EXAMPLE.test>"], "%r" % r1)
        check(r2 == [b"RCPT TO:<q@plain.test>"], "%r" % r2)

    def bad_nameserver():
        rc, err = run_send(send, LOOP + ["--timeout", "1", "--from", "a@example.org", "--to", "u@example.test"],
                           MSG, env={"SMTPW_NAMESERVER": "127.0.0.1:%d" % free_udp_port(),
                                     "SMTPW_MX_PORT": str(srv.port)}, timeout=10)
        check(rc == 75, "no DNS answer: exit %d, want 75" % rc)

    try:
        case("MX preference order, skip an exchanger without address", mx_order)
        case("no MX: implicit MX from the A record (RFC 5321 5.1)", implicit_mx)
        case("null MX: no mail, no connection (RFC 7505)", null_mx)
        case("NXDOMAIN: permanent", nxdomain)
        case("recipients grouped per domain", grouped)
        case("silent nameserver: timeout", bad_nameserver)
    finally:
        dns.terminate()
        dns.wait(5)
        srv.stop()
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
