#!/usr/bin/python3
"""End-to-end benchmark: smtpwire-server --sink beside Postfix's smtp-sink,
under the same load, round by round in one run (README "Performance").

  /usr/bin/python3 tests/bench/e2e.py BUILD_DIR [--rounds N] [--quick]

Loads: Postfix smtp-source (-d -s 20 -m 40000 -l 1024, never pipelines) and
the pipelining generator ../shared/tools/pipesource.c (-P -s 20 -m 20000,
1 KiB and 100 KiB bodies).  For each server and load: messages/s and the
server's own CPU per message (utime+stime from /proc/PID/stat).  Then
system calls per message (strace -c -f on the server) and user-space memory
per idle connection after EHLO (VmRSS growth over 1000 connections).
Client side: the client core (tests/bench/bench_send) beside pipesource
-P -s 1, each sending 20000 pipelined 1 KiB messages on one connection to
the same smtp-sink; client CPU per message from the child's rusage.  And
smtpwire-send, one 1 KiB message per process, 50 runs, wall time per
message beside msmtp doing the same.
Only 127.0.0.1 is used; every run is bounded in count and time.
"""
import os, re, shutil, signal, socket, subprocess, sys, tempfile, time

TOP = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
HZ = os.sysconf("SC_CLK_TCK")


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    p = s.getsockname()[1]
    s.close()
    return p


def cpu_ticks(pid):
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return int(fields[11]) + int(fields[12])  # utime, stime (fields 14, 15)


def wait_port(port, deadline=10):
    end = time.time() + deadline
    while time.time() < end:
        try:
            socket.create_connection(("127.0.0.1", port), 0.2).close()
            return
        except OSError:
            time.sleep(0.05)
    raise SystemExit(f"server on {port} did not come up")


class Server:
    def __init__(self, kind, build):
        self.kind = kind
        self.port = free_port()
        if kind == "smtpwire":
            # -q: smtp-sink logs nothing per connection or message, so the
            # like-for-like run logs errors only (the default level's one
            # line per message costs about 15% more instructions per message)
            cmd = [os.path.join(build, "examples", "smtpwire-server"), "--sink", "-q",
                   "--listen", f"127.0.0.1:{self.port}", "--max-size", "0"]
        else:
            cmd = ["smtp-sink", "-u", "root", f"127.0.0.1:{self.port}", "1000"]
        self.proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                                     preexec_fn=raise_nofile)
        wait_port(self.port)

    def stop(self):
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(5)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


def raise_nofile():
    import resource
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    try:
        resource.setrlimit(resource.RLIMIT_NOFILE, (min(8192, hard), hard))
    except (ValueError, OSError):
        pass


def run_load(server, load, msgs, size, pipesource):
    addr = f"127.0.0.1:{server.port}"
    if load == "smtp-source":
        cmd = ["smtp-source", "-d", "-s", "20", "-m", str(msgs), "-l", str(size), addr]
    else:
        cmd = [pipesource, "-P", "-s", "20", "-m", str(msgs), "-l", str(size), addr]
    c0 = cpu_ticks(server.proc.pid)
    t0 = time.time()
    out = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=600,
                         text=True)
    wall = time.time() - t0
    c1 = cpu_ticks(server.proc.pid)
    if out.returncode != 0:
        raise SystemExit(f"{load} against {server.kind} failed: {out.stdout[-500:]}")
    rate = msgs / wall
    m = re.search(r"msg_per_s ([0-9.]+)", out.stdout)
    if m:
        rate = float(m.group(1))
    cpu_us = (c1 - c0) / HZ * 1e6 / msgs
    return rate, cpu_us


def syscalls_per_message(server, load, msgs, pipesource):
    strace = shutil.which("strace")
    if not strace:
        return None
    fd, path = tempfile.mkstemp()
    os.close(fd)
    tr = subprocess.Popen([strace, "-c", "-f", "-o", path, "-p", str(server.proc.pid)],
                          stderr=subprocess.DEVNULL)
    time.sleep(0.5)
    run_load(server, load, msgs, 1024, pipesource)
    tr.send_signal(signal.SIGINT)
    tr.wait(10)
    total = None
    with open(path) as f:
        for line in f:
            if line.strip().endswith("total"):
                total = int(line.split()[3])  # % time, seconds, usecs/call, calls
    os.unlink(path)
    return None if total is None else total / msgs


def vmrss_kib(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def idle_memory(server, n=1000):
    socks = []
    base = vmrss_kib(server.proc.pid)
    for _ in range(n):
        s = socket.create_connection(("127.0.0.1", server.port), 5)
        s.recv(512)
        s.sendall(b"EHLO bench.example\r\n")
        buf = b""
        while not re.search(rb"(^|\n)250 [^\n]*\r\n$", buf):
            d = s.recv(4096)
            if not d:
                raise SystemExit("connection closed during EHLO")
            buf += d
        socks.append(s)
    time.sleep(0.2)
    grown = vmrss_kib(server.proc.pid) - base
    for s in socks:
        s.close()
    return grown * 1024 / n


def child_cpu(cmd):
    """Run cmd; return (stdout, user+sys CPU seconds, wall seconds)."""
    t0 = time.time()
    p = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    out = p.stdout.read()
    _, status, ru = os.wait4(p.pid, 0)
    p.returncode = os.waitstatus_to_exitcode(status)
    if p.returncode != 0:
        raise SystemExit(f"{cmd[0]} failed: {out[-500:]}")
    return out, ru.ru_utime + ru.ru_stime, time.time() - t0


def client_side(build, pipesource, rounds, msgs):
    print()
    print(f"client side: {msgs} pipelined 1 KiB messages on one connection to smtp-sink")
    bench_send = os.path.join(build, "tests", "bench", "bench_send")
    res = {"smtpwire": [], "pipesource": []}
    for r in range(rounds):
        for kind in ("smtpwire", "pipesource"):
            srv = Server("smtp-sink", build)
            try:
                addr = f"127.0.0.1:{srv.port}"
                cmd = ([bench_send, "-m", str(msgs), "-l", "1024", addr] if kind == "smtpwire"
                       else [pipesource, "-P", "-s", "1", "-m", str(msgs), "-l", "1024", addr])
                out, cpu, wall = child_cpu(cmd)
            finally:
                srv.stop()
            res[kind].append((msgs / wall, cpu * 1e6 / msgs))
            print(f"  round {r + 1} {kind:<10} {msgs / wall:9.0f} msg/s {cpu * 1e6 / msgs:7.2f} us CPU/msg",
                  flush=True)
    med = lambda k, i: sorted(x[i] for x in res[k])[len(res[k]) // 2]
    print(f"  client CPU per message: smtpwire {med('smtpwire', 1):.2f} us vs pipesource "
          f"{med('pipesource', 1):.2f} us (x{med('smtpwire', 1) / med('pipesource', 1):.2f})")


def sender_wall(build, runs=50):
    send = os.path.join(build, "examples", "smtpwire-send")
    msg = b"From: a@example.com\nTo: b@example.org\nSubject: bench\n\n" + b"x" * 1000 + b"\n"
    srv = Server("smtp-sink", build)
    try:
        tools = [("smtpwire-send", [send, "--server", f"127.0.0.1:{srv.port}", "--from",
                                    "a@example.com", "--to", "b@example.org"])]
        if shutil.which("msmtp"):
            tools.append(("msmtp", ["msmtp", "--host=127.0.0.1", f"--port={srv.port}",
                                    "--auth=off", "--tls=off", "--from=a@example.com",
                                    "b@example.org"]))
        print()
        print(f"one 1 KiB message per process against smtp-sink, {runs} runs (ms wall per message):")
        for name, cmd in tools:
            times = []
            for _ in range(runs):
                t0 = time.time()
                subprocess.run(cmd, input=msg, stdout=subprocess.DEVNULL,
                               stderr=subprocess.DEVNULL, check=True, timeout=30)
                times.append((time.time() - t0) * 1000)
            times.sort()
            print(f"  {name:<14} median {times[len(times) // 2]:6.2f} ms, best {times[0]:6.2f} ms")
    finally:
        srv.stop()


def main():
    args = sys.argv[1:]
    if not args:
        raise SystemExit(__doc__)
    build = os.path.abspath(args[0])
    rounds = int(args[args.index("--rounds") + 1]) if "--rounds" in args else 3
    quick = "--quick" in args
    scale = 10 if quick else 1
    if not shutil.which("smtp-sink") or not shutil.which("smtp-source"):
        raise SystemExit("needs Postfix's smtp-sink and smtp-source (apt-get install postfix)")
    src = os.environ.get("PIPESOURCE_SRC", os.path.join(TOP, "..", "shared", "tools", "pipesource.c"))
    tmp = tempfile.mkdtemp()
    pipesource = os.path.join(tmp, "pipesource")
    subprocess.run(["gcc", "-O2", "-std=c99", "-o", pipesource, src], check=True)

    loads = [("smtp-source", 40000 // scale, 1024), ("pipesource", 20000 // scale, 1024),
             ("pipesource", 4000 // scale, 100 * 1024)]
    print("smtpwire-server runs with -q (errors only): smtp-sink logs nothing per message either")
    print(f"{'load':<12} {'body':>7} {'round':>5} {'server':<9} {'msg/s':>9} {'cpu us/msg':>10}")
    results = {}
    for load, msgs, size in loads:
        for r in range(rounds):
            for kind in ("smtpwire", "smtp-sink"):
                srv = Server(kind, build)
                try:
                    rate, cpu = run_load(srv, load, msgs, size, pipesource)
                finally:
                    srv.stop()
                results.setdefault((load, size, kind), []).append((rate, cpu))
                print(f"{load:<12} {size:>7} {r + 1:>5} {kind:<9} {rate:>9.0f} {cpu:>10.1f}",
                      flush=True)
    print()
    print("summary (median of rounds; ratio = smtpwire / smtp-sink):")
    for load, msgs, size in loads:
        def med(kind, i):
            v = sorted(x[i] for x in results[(load, size, kind)])
            return v[len(v) // 2]
        rw, rs = med("smtpwire", 0), med("smtp-sink", 0)
        cw, cs = med("smtpwire", 1), med("smtp-sink", 1)
        print(f"  {load:<12} {size:>7} B: msg/s {rw:9.0f} vs {rs:9.0f} (x{rw / rs:.2f}); "
              f"cpu/msg {cw:7.1f} vs {cs:7.1f} us (x{cw / cs if cs else float('nan'):.2f})")

    srv = Server("smtpwire", build)
    try:
        for load in ("smtp-source", "pipesource"):
            n = syscalls_per_message(srv, load, 2000, pipesource)
            if n is not None:
                print(f"  syscalls per message, {load:<12}: {n:.2f} (strace -c -f)")
        print(f"  memory per idle connection after EHLO: {idle_memory(srv):.0f} bytes (VmRSS growth / 1000)")
    finally:
        srv.stop()
    client_side(build, pipesource, rounds, 20000 // scale)
    sender_wall(build)
    shutil.rmtree(tmp)


if __name__ == "__main__":
    main()
