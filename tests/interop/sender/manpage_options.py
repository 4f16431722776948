"""smtpwire-send --help and smtpwire-send(1) list the same long options,
both ways.  Usage: manpage_options.py SMTPWIRE-SEND PAGE
SPDX-License-Identifier: MIT"""
import re
import subprocess
import sys


def from_help(send):
    out = subprocess.run([send, "--help"], stdout=subprocess.PIPE, timeout=10,
                         check=True).stdout.decode()
    opts = set()
    for line in out.splitlines():
        m = re.match(r"\s+((?:-\w, )?--[a-z][a-z-]*)", line)
        if m:
            opts.update(re.findall(r"--[a-z][a-z-]*", m.group(1)))
    return opts


def from_page(page):
    text = open(page, encoding="utf-8").read()
    # the normal mode's list: from DESCRIPTION's ".Bl" to the next section
    desc = text.split(".Sh DESCRIPTION", 1)[1].split("\n.Sh ", 1)[0]
    opts = set()
    for line in desc.splitlines():
        if line.startswith(".It "):
            opts.update("--" + o for o in re.findall(r"Fl -([a-z][a-z-]*)", line))
    return opts


def main():
    send, page = sys.argv[1], sys.argv[2]
    h, p = from_help(send), from_page(page)
    bad = False
    for o in sorted(h - p):
        print("FAIL: %s is in --help but not in %s" % (o, page), file=sys.stderr)
        bad = True
    for o in sorted(p - h):
        print("FAIL: %s is in %s but not in --help" % (o, page), file=sys.stderr)
        bad = True
    if len(h) < 10:
        print("FAIL: only %d options found in --help: %r" % (len(h), sorted(h)), file=sys.stderr)
        bad = True
    if bad:
        sys.exit(1)
    print("ok: %d options in both" % len(h))


if __name__ == "__main__":
    main()
