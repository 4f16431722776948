#!/usr/bin/python3
"""smtpwire-server --version: the program's and the library's versions,
exit 0, nothing on stderr."""
import re, subprocess, sys

exe, want = sys.argv[1], sys.argv[2]
p = subprocess.run([exe, "--version"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=10)
m = re.fullmatch(rb"smtpwire-server (\S+) \(smtpwire library (\S+)\)\n", p.stdout)
if p.returncode != 0 or p.stderr or not m or m.group(1) != want.encode() or m.group(2) != want.encode():
    print(f"FAIL: --version: {p.returncode} {p.stdout!r} {p.stderr!r} (want {want})")
    sys.exit(1)
print("ok")
