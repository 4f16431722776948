"""smtpwire-send's MX resolver against a scripted nameserver (UDP and TCP on
one port of 127.0.0.1): EDNS0 (RFC 6891), TCP after a truncated answer
(RFC 7766), exchangers that are this machine refused (RFC 5321 5.1, 2.3.5),
answers that fail validation contributing nothing (RFC 1035 4.1).
Standard library only: nothing to skip.
Usage: dns_edge.py SMTPWIRE-SEND CASE
SPDX-License-Identifier: MIT"""
import socket
import struct
import sys
import threading
import time

from smtpscript import Server, standard, run_send, check, stuffed, Failure

MSG = b"Subject: dns\n\nvia a scripted nameserver\n"
LOOP = ["--allow-loopback-mx"]  # every working exchanger here is 127.0.0.1
T_A, T_MX, T_TXT, T_AAAA, T_OPT = 1, 15, 16, 28, 41


def wire_name(name):
    out = b""
    for label in name.split("."):
        if label:
            out += bytes([len(label)]) + label.encode()
    return out + b"\0"


def rr(rtype, rdata):
    """A record owned by the question's name (pointer to offset 12)."""
    return b"\xc0\x0c" + struct.pack(">HHIH", rtype, 1, 300, len(rdata)) + rdata


def mx(pref, host):
    return rr(T_MX, struct.pack(">H", pref) + wire_name(host))


def a(ip):
    return rr(T_A, socket.inet_pton(socket.AF_INET, ip))


def aaaa(ip):
    return rr(T_AAAA, socket.inet_pton(socket.AF_INET6, ip))


class Query:
    def __init__(self, data, tcp):
        self.raw = data
        self.tcp = tcp
        self.id, self.flags, qd, _, _, self.arcount = struct.unpack(">HHHHHH", data[:12])
        off, labels = 12, []
        while data[off]:
            n = data[off]
            labels.append(data[off + 1:off + 1 + n].decode("ascii", "replace"))
            off += 1 + n
        self.name = ".".join(labels)
        self.qtype = struct.unpack(">H", data[off + 1:off + 3])[0]
        qend = off + 5
        self.question = data[12:qend]
        # the OPT pseudo-record (RFC 6891 6.1.2): root owner, type 41,
        # CLASS = the requestor's UDP payload size, TTL = ext-rcode/version/flags
        self.opt = None
        rest = data[qend:]
        if self.arcount == 1 and len(rest) >= 11 and rest[0] == 0 and \
                struct.unpack(">H", rest[1:3])[0] == T_OPT:
            size, ttl = struct.unpack(">HI", rest[3:9])
            self.opt = (size, (ttl >> 16) & 0xFF)

    def reply(self, answers=(), rcode=0, tc=False, qid=None):
        flags = 0x8180 | rcode | (0x0200 if tc else 0)
        hdr = struct.pack(">HHHHHH", self.id if qid is None else qid, flags, 1,
                          len(answers), 0, 0)
        return hdr + self.question + b"".join(answers)


# name -> exchanger; host -> (A, AAAA)
MXS = {"big.test": "mx.big.test", "edns.test": "mx.edns.test",
       "noedns.test": "mx.noedns.test", "ip6.test": "ip6-localhost",
       "ip6b.test": "ip6-loopback", "single.test": "mailhost",
       "loop.test": "mx.loop.test", "bad.test": "mx.bad.test"}
ADDRS = {"mx.big.test": (["127.0.0.1"], []), "mx.edns.test": (["127.0.0.1"], []),
         "mx.noedns.test": (["127.0.0.1"], []),
         "mx.loop.test": (["127.0.0.1", "127.9.9.9"], ["::1", "::ffff:127.0.0.1"]),
         # what /etc/hosts would say, and what an old resolver then used
         "ip6-localhost": ([], ["::1"]), "ip6-loopback": ([], ["::1"]),
         "mailhost": (["127.0.0.1"], [])}


def answer(q):
    """The packets to send back for q, in order."""
    name, t = q.name.lower(), q.qtype
    if name.endswith("noedns.test") and q.opt is not None:
        return [q.reply(rcode=1)]  # FORMERR: a server that knows no EDNS
    if name == "big.test" and t == T_MX:
        if not q.tcp:
            return [q.reply(tc=True)]  # truncated: no records at all
        # the full answer is larger than any UDP size asked (1232)
        filler = [rr(T_TXT, b"\x3f" + b"x" * 63) for _ in range(30)]
        return [q.reply([mx(10, MXS[name])] + filler)]
    if name == "mx.bad.test" and t == T_A:
        # a forged answer (another id) first; then ours, with a valid A
        # record followed by one cut short: the whole answer is bad
        forged = q.reply([a("127.0.0.1")], qid=q.id ^ 0x5555)
        bad = q.reply([a("127.0.0.1"), b"\xc0\x0c" + struct.pack(">HHIH", T_A, 1, 300, 4) + b"\x7f"])
        return [forged, bad]
    if t == T_MX and name in MXS:
        return [q.reply([mx(10, MXS[name])])]
    if name in ADDRS and t in (T_A, T_AAAA):
        v4, v6 = ADDRS[name]
        return [q.reply([a(x) for x in v4] if t == T_A else [aaaa(x) for x in v6])]
    if name in MXS or name in ADDRS:
        return [q.reply()]  # NOERROR, nothing of that type
    return [q.reply(rcode=3)]  # NXDOMAIN


class Nameserver:
    """UDP and TCP on the same port of 127.0.0.1; keeps every query."""

    def __init__(self):
        self.queries = []
        self.errors = []
        for _ in range(50):
            self.udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            self.udp.bind(("127.0.0.1", 0))
            self.port = self.udp.getsockname()[1]
            self.tcp = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            self.tcp.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            try:
                self.tcp.bind(("127.0.0.1", self.port))
                break
            except OSError:
                self.udp.close()
                self.tcp.close()
        else:
            raise Failure("no port free for both UDP and TCP")
        self.tcp.listen(8)
        threading.Thread(target=self._udp, daemon=True).start()
        threading.Thread(target=self._tcp, daemon=True).start()

    def _handle(self, data, tcp):
        try:
            q = Query(data, tcp)
        except Exception as e:  # a query we cannot read fails the test
            self.errors.append("unreadable query %r: %r" % (data, e))
            return []
        self.queries.append(q)
        return answer(q)

    def _udp(self):
        while True:
            try:
                data, peer = self.udp.recvfrom(4096)
            except OSError:
                return
            for pkt in self._handle(data, False):
                self.udp.sendto(pkt, peer)

    def _tcp(self):
        while True:
            try:
                s, _ = self.tcp.accept()
            except OSError:
                return
            threading.Thread(target=self._tcp_conn, args=(s,), daemon=True).start()

    def _tcp_conn(self, s):
        buf = b""
        s.settimeout(10)
        try:
            while True:
                while len(buf) < 2 or len(buf) < 2 + struct.unpack(">H", buf[:2])[0]:
                    chunk = s.recv(4096)
                    if not chunk:
                        return
                    buf += chunk
                n = struct.unpack(">H", buf[:2])[0]
                data, buf = buf[2:2 + n], buf[2 + n:]
                for pkt in self._handle(data, True):
                    s.sendall(struct.pack(">H", len(pkt)) + pkt)
        except OSError:
            pass
        finally:
            s.close()

    def stop(self):
        for s in (self.udp, self.tcp):
            try:
                s.close()
            except OSError:
                pass


def main():
    send, case = sys.argv[1], sys.argv[2]
    ns = Nameserver()
    srv = Server(standard)
    env = {"SMTPW_NAMESERVER": "127.0.0.1:%d" % ns.port, "SMTPW_MX_PORT": str(srv.port)}

    def deliver(domain, extra=LOOP):
        before = len(srv.conns)
        rc, err = run_send(send, extra + ["--timeout", "3", "--from", "a@example.org",
                                          "--to", "u@" + domain], MSG, env=env)
        time.sleep(0.05)
        return rc, err, srv.conns[before:]

    def delivered(domain, extra=LOOP):
        rc, err, conns = deliver(domain, extra)
        check(rc == 0, "%s: exit %d, want 0: %s" % (domain, rc, err))
        check(len(conns) == 1 and conns[0].bodies == [stuffed(MSG)],
              "%s: one delivery, got %d" % (domain, len(conns)))

    def asked(name, qtype):
        return [q for q in ns.queries if q.name.lower() == name and q.qtype == qtype]

    def rfc7766_tcp_after_truncation():
        delivered("big.test")
        qs = asked("big.test", T_MX)
        check([q.tcp for q in qs] == [False, True], "UDP then TCP, got %r" % [q.tcp for q in qs])
        check(qs[0].id == qs[1].id and qs[0].question == qs[1].question,
              "the TCP query repeats the UDP one")

    def rfc6891_edns0_opt_in_queries():
        delivered("edns.test")
        check(ns.queries, "no query seen")
        for q in ns.queries:
            check(q.opt is not None, "%s type %d: no OPT record" % (q.name, q.qtype))
            check(q.opt[0] >= 1232 and q.opt[1] == 0,
                  "OPT size %d version %d" % q.opt)

    def rfc6891_7_formerr_retried_without_edns():
        delivered("noedns.test")
        qs = asked("noedns.test", T_MX)
        check([q.opt is not None for q in qs] == [True, False],
              "EDNS, FORMERR, then plain: %r" % [q.opt for q in qs])

    def rfc5321_5_1_single_label_mx_refused():
        for dom, host in (("ip6.test", "ip6-localhost"), ("ip6b.test", "ip6-loopback"),
                          ("single.test", "mailhost")):
            rc, err, conns = deliver(dom, [])
            check(rc == 69, "%s (MX %s): exit %d, want 69: %s" % (dom, host, rc, err))
            check("single-label" in err and dom in err, "says why: %r" % err)
            check(not conns, "%s: no connection" % dom)
            check(not asked(host, T_A) and not asked(host, T_AAAA),
                  "%s is never looked up" % host)

    def rfc5321_5_1_loopback_address_refused():
        rc, err, conns = deliver("loop.test", [])
        check(rc == 69, "loop.test: exit %d, want 69: %s" % (rc, err))
        check("loop" in err and "mx.loop.test" in err and "RFC 5321 5.1" in err,
              "says why: %r" % err)
        check(not conns, "no connection to a loopback MX")
        delivered("loop.test")  # the test-only option lets it through

    def rfc1035_4_1_bad_answer_contributes_no_address():
        rc, err, conns = deliver("bad.test")
        check(rc == 75, "bad.test: exit %d, want 75: %s" % (rc, err))
        check("mx.bad.test" in err and "address lookup" in err, "says why: %r" % err)
        check(not conns, "no connection from a rejected answer, got %d" % len(conns))

    cases = {f.__name__: f for f in (rfc7766_tcp_after_truncation, rfc6891_edns0_opt_in_queries,
                                     rfc6891_7_formerr_retried_without_edns,
                                     rfc5321_5_1_single_label_mx_refused,
                                     rfc5321_5_1_loopback_address_refused,
                                     rfc1035_4_1_bad_answer_contributes_no_address)}
    failed = 0
    try:
        cases[case]()
        check(not ns.errors, "nameserver: %r" % ns.errors)
        check(not srv.errors, "smtp server: %r" % srv.errors)
        print("ok   " + case)
    except (Failure, Exception) as e:
        failed = 1
        print("FAIL %s: %s" % (case, e))
    finally:
        ns.stop()
        srv.stop()
    sys.exit(failed)


if __name__ == "__main__":
    main()
