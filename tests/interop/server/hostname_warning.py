#!/usr/bin/python3
"""RFC 5321 2.3.5 / 4.1.1.1: the greeting names the server by its
fully-qualified domain name.  smtpwire-server warns at start-up, in one
log line, when --hostname has no dot, and says nothing for a qualified
name.  Usage: hostname_warning.py SMTPWIRE-SERVER"""
import os, select, signal, subprocess, sys, time

exe = sys.argv[1]


def start_log(hostname):
    p = subprocess.Popen([exe, "--sink", "--listen", "127.0.0.1:0", "--hostname", hostname],
                         stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    out, end = b"", time.time() + 10
    while time.time() < end and b"event=start" not in out:
        ready, _, _ = select.select([p.stdout], [], [], 0.2)
        if ready:
            chunk = os.read(p.stdout.fileno(), 4096)
            if not chunk:
                break
            out += chunk
    lines = out.decode(errors="replace").splitlines()
    p.send_signal(signal.SIGTERM)
    p.wait(timeout=10)
    return [l for l in lines if "event=config" in l and "level=warn" in l]


warn = start_log("mailhost")
if len(warn) != 1 or "hostname=mailhost" not in warn[0] or "RFC 5321 2.3.5" not in warn[0]:
    print("FAIL: no warning for an unqualified --hostname:", warn)
    sys.exit(1)
quiet = start_log("mx.example.org")
if quiet:
    print("FAIL: a qualified --hostname was warned about:", quiet)
    sys.exit(1)
print("ok: rfc5321_2_3_5_unqualified_greeting_name_warned")
