"""Shared helpers of the binding tests: the exit conventions of the interop
suite (77 = skipped, unless SMTPW_REQUIRE_INTEROP=1), a hard time bound, and
the import of examples/python/smtpwire.py.
SPDX-License-Identifier: MIT"""
import os
import shutil
import signal
import sys

SKIP = 77
HERE = os.path.dirname(os.path.abspath(__file__))
EXAMPLES = os.path.join(HERE, "..", "..", "examples", "python")
sys.path.insert(0, os.path.abspath(EXAMPLES))


def skip(why):
    """A missing peer: skipped, or failed under SMTPW_REQUIRE_INTEROP=1."""
    if os.environ.get("SMTPW_REQUIRE_INTEROP") == "1":
        print("FAIL: %s (SMTPW_REQUIRE_INTEROP=1)" % why)
        sys.exit(1)
    print("SKIP: " + why)
    sys.exit(SKIP)


def need(program):
    for p in (program, "/usr/sbin/" + program, "/usr/bin/" + program):
        found = shutil.which(p)
        if found:
            return found
    skip(program + " is not installed")


def bound(seconds):
    """Kill the test after this long, whatever it is blocked in."""
    def expired(signum, frame):
        print("FAIL: no result after %d s" % seconds)
        os._exit(1)
    signal.signal(signal.SIGALRM, expired)
    signal.alarm(seconds)


class Failure(Exception):
    pass


def check(cond, what):
    if not cond:
        raise Failure(what)


def run_cases(cases):
    """Run (name, function) pairs; report each; exit 1 if any failed."""
    failed = 0
    for name, fn in cases:
        try:
            fn()
            print("ok   " + name)
        except Exception as e:  # a failed case must not hide the others
            failed += 1
            print("FAIL %s: %s: %s" % (name, type(e).__name__, e))
    sys.exit(1 if failed else 0)


def import_binding():
    if not os.environ.get("SMTPW_LIB") and not os.environ.get("SMTPW_BUILD_DIR"):
        skip("SMTPW_LIB is not set (run through meson test)")
    import smtpwire
    return smtpwire
