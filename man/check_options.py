#!/usr/bin/python3
"""A program's --help and its manual page name the same options.

usage: check_options.py PAGE PROGRAM [--optional OPT,...] [--page-only OPT,...]

Options of --help are the dash words in the left column of its option
lines ("  -q, --quiet   ..."); options of the page are the Fl arguments of
its .It lines (".It Fl q , Fl -quiet").  Every option must be in both,
except those named with --optional, which a build may leave out of --help
(the TLS options without OpenSSL), and those named with --page-only, which
the page describes apart from --help (smtpwire-send's sendmail-mode
options).  Exit 0, or 1 with the differences."""
import re, subprocess, sys


def help_options(program):
    out = subprocess.run([program, "--help"], stdout=subprocess.PIPE, check=True,
                         timeout=30).stdout.decode()
    opts = set()
    for line in out.splitlines():
        m = re.match(r"^\s+(-\S.*?)(?:\s{2,}|$)", line)
        if m:
            opts.update(re.findall(r"(?<![\w-])(--?[A-Za-z0-9][\w-]*)", m.group(1)))
    return opts


def page_options(page):
    opts = set()
    for line in open(page, encoding="utf-8"):
        if not line.startswith(".It "):
            continue
        words = line.split()
        for i, w in enumerate(words[:-1]):
            if w == "Fl":
                opts.add("-" + words[i + 1])
    return opts


def main():
    page, program = sys.argv[1], sys.argv[2]
    optional = set()
    rest = sys.argv[3:]
    while len(rest) >= 2 and rest[0] in ("--optional", "--page-only"):
        optional |= set(rest[1].split(","))
        rest = rest[2:]
    if rest:
        print("usage: check_options.py PAGE PROGRAM [--optional OPT,...] [--page-only OPT,...]")
        return 2
    h, p = help_options(program), page_options(page)
    only_help = sorted(h - p)
    only_page = sorted(p - h - optional)
    if only_help:
        print("in --help but not in the manual page:", " ".join(only_help))
    if only_page:
        print("in the manual page but not in --help:", " ".join(only_page))
    if only_help or only_page or not h:
        print("FAIL")
        return 1
    print(f"ok: {len(h)} options in both")
    return 0


if __name__ == "__main__":
    sys.exit(main())
