#!/usr/bin/env python3
"""Keep smtpwire(3) in step with the public headers.

usage: check_api.py PAGE INCLUDE_DIR

Fails when the page
  - does not name a function declared SMTPW_API in include/smtpwire/*.h
    (posix.h excepted: the page points to that header as a whole);
  - does not name an error code (SMTPW_E_*), event type (SMTPW_EV_*),
    event flag (SMTPW_EVF_*) or want bit (SMTPW_WANT_*);
  - names an smtpw_* or SMTPW_* identifier no header declares (a renamed or
    removed name left behind).
"""
import os
import re
import sys

IDENT_TAIL = r"(?![A-Za-z0-9_])"


def strip_c_comments(text):
    text = re.sub(r"/\*.*?\*/", " ", text, flags=re.S)
    return re.sub(r"//[^\n]*", " ", text)


def header_names(incdir):
    funcs = {}      # exported function -> header
    defines = set()
    types = set()
    for name in sorted(os.listdir(incdir)):
        if not name.endswith(".h"):
            continue
        with open(os.path.join(incdir, name), encoding="utf-8") as f:
            src = strip_c_comments(f.read())
        defines.update(re.findall(r"^\s*#\s*define\s+(SMTPW_\w+)", src, flags=re.M))
        types.update(re.findall(r"\b(smtpw_\w+)\s*;", src))
        types.update(re.findall(r"\bstruct\s+(smtpw_\w+)", src))
        # A declaration runs from SMTPW_API to its ';'; the function's name
        # is the first smtpw_ identifier followed by '('.
        body = re.sub(r"^\s*#.*$", " ", src, flags=re.M)
        for decl in re.findall(r"\bSMTPW_API\b([^;]*);", body):
            m = re.search(r"\b(smtpw_\w+)\s*\(", decl)
            if m:
                funcs[m.group(1)] = name
    return funcs, defines, types


def page_text(path):
    with open(path, encoding="utf-8") as f:
        lines = f.read().split("\n")
    # mdoc comments (.\" and \") say nothing to the reader: they do not count.
    kept = []
    for line in lines:
        if line.startswith('.\\"'):
            continue
        kept.append(line.split('\\"', 1)[0])
    return "\n".join(kept)


def main():
    if len(sys.argv) != 3:
        print(__doc__)
        return 2
    page, incdir = sys.argv[1], sys.argv[2]
    funcs, defines, types = header_names(incdir)
    text = page_text(page)
    bad = []

    if not funcs:
        bad.append("no SMTPW_API function found in %s" % incdir)

    for fn, hdr in sorted(funcs.items()):
        if hdr == "posix.h":
            continue
        if not re.search(r"\b" + re.escape(fn) + IDENT_TAIL, text):
            bad.append("function %s (%s) is not in the page" % (fn, hdr))

    for d in sorted(defines):
        if re.match(r"SMTPW_(E|EV|EVF|WANT)_", d) and \
                not re.search(r"\b" + re.escape(d) + IDENT_TAIL, text):
            bad.append("constant %s is not in the page" % d)

    known = set(funcs) | types
    for tok in sorted(set(re.findall(r"\bsmtpw_\w*", text))):
        if tok.endswith("_"):
            continue  # a pattern such as smtpw_*_sizeof
        if tok not in known:
            bad.append("the page names %s, which no header declares" % tok)
    for tok in sorted(set(re.findall(r"\bSMTPW_\w*", text))):
        if tok.endswith("_"):
            if not any(d.startswith(tok) for d in defines):
                bad.append("the page names %s*, which matches no constant" % tok)
            continue
        if tok not in defines:
            bad.append("the page names %s, which no header defines" % tok)

    for b in bad:
        print("FAIL: " + b)
    if bad:
        return 1
    print("ok: %d exported functions and every SMTPW_E/EV/EVF/WANT constant named"
          % sum(1 for h in funcs.values() if h != "posix.h"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
