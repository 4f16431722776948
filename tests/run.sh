#!/bin/sh
# The whole test suite: README's second quick-start command, and what .ci/run
# calls.  Installs missing Debian packages when run as root, then runs
#   1. the normal build with -Werror: unit, vectors, abi and interop suites;
#      meson install; smtpwire as a subproject of a parent (tests/subproject);
#   2. the same under AddressSanitizer + UndefinedBehaviorSanitizer;
#   3. clang with the portable C99 paths only (no SSE2/AVX2);
#   4. a gcc release build: the instruction budgets of the README's figures
#      (callgrind; suite perf);
#   5. the libFuzzer targets built with clang, a short run each.
set -eu
cd "$(dirname "$0")/.."
top=$(pwd)

pkgs="meson ninja-build gcc g++ clang libclang-rt-14-dev libcmocka-dev pkg-config libssl-dev
      python3 python3-aiosmtpd swaks postfix msmtp curl dnsmasq-base openssl
      abigail-tools mandoc valgrind bsd-mailx"
missing=""
for p in $pkgs; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
done
if [ -n "$missing" ]; then
    if [ "$(id -u)" = 0 ]; then
        echo "== installing:$missing"
        export DEBIAN_FRONTEND=noninteractive
        # Postfix is only wanted for smtp-source/smtp-sink: no configuration,
        # and its daemon is never started.
        echo "postfix postfix/main_mailer_type select No configuration" | debconf-set-selections
        apt-get update -qq
        apt-get install -y -qq $missing >/dev/null
    else
        echo "missing Debian packages:$missing" >&2
        echo "install them (sudo apt-get install$missing) or run as root" >&2
        exit 1
    fi
fi

# Every peer is installed now, so an interop test that cannot find one fails.
export SMTPW_REQUIRE_INTEROP=1

step() { echo; echo "== $*"; }

step "gcc, -Werror: unit, vectors, abi, interop"
rm -rf build-test
CC=gcc meson setup build-test -Dwerror=true >/dev/null
ninja -C build-test
meson test -C build-test --print-errorlogs --no-suite fuzz

step "meson install, then a program built against the installed library with pkg-config"
dest="$top/build-test/destdir"
rm -rf "$dest"
DESTDIR="$dest" meson install -C build-test --quiet >/dev/null
pcdir=$(dirname "$(find "$dest" -name smtpwire.pc | head -n 1)")
libdir=$(dirname "$(find "$dest" -name 'libsmtpwire.so.1' | head -n 1)")
flags=$(PKG_CONFIG_PATH="$pcdir" PKG_CONFIG_SYSROOT_DIR="$dest" pkg-config --cflags --libs smtpwire)
cc -std=c99 -pedantic-errors -Wall -Wextra -Werror -o build-test/embed-installed \
    examples/embed-static.c $flags
LD_LIBRARY_PATH="$libdir" sh tests/embed_static.sh build-test/embed-installed

step "smtpwire as a meson subproject of a parent project, without cmocka"
sh tests/subproject/run.sh

step "AddressSanitizer + UndefinedBehaviorSanitizer"
rm -rf build-asan
CC=gcc meson setup build-asan -Dwerror=true -Db_sanitize=address,undefined -Db_lundef=false \
    -Dc_args=-fno-sanitize-recover=all -Dc_link_args=-fno-sanitize-recover=all >/dev/null
ninja -C build-asan
ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
    meson test -C build-asan --print-errorlogs --no-suite fuzz --timeout-multiplier 3

step "clang -Werror, portable C99 paths only (-DSMTPW_NO_SIMD): unit and transcript suites"
rm -rf build-nosimd
CC=clang meson setup build-nosimd -Dwerror=true -Dc_args=-DSMTPW_NO_SIMD >/dev/null
ninja -C build-nosimd
meson test -C build-nosimd --print-errorlogs --suite unit --suite vectors

step "gcc release build: instruction budgets under callgrind (README figures)"
rm -rf build-perf
CC=gcc meson setup build-perf --buildtype=release -Dwerror=true >/dev/null
ninja -C build-perf
meson test -C build-perf --print-errorlogs --suite perf

step "libFuzzer targets (clang), short runs"
rm -rf build-fuzz
CC=clang CXX=clang++ meson setup build-fuzz -Dfuzz=true -Dexamples=disabled >/dev/null
ninja -C build-fuzz
meson test -C build-fuzz --print-errorlogs --suite fuzz

# One closing line over every run above (meson's JSON logs).
python3 - build-test build-asan build-nosimd build-perf build-fuzz <<'PY'
import json, sys
passed = failed = skipped = 0
for d in sys.argv[1:]:
    for line in open(d + "/meson-logs/testlog.json"):
        r = json.loads(line)["result"]
        if r in ("OK", "EXPECTEDFAIL"):
            passed += 1
        elif r == "SKIP":
            skipped += 1
        else:
            failed += 1
print(f"smtpwire: {passed} passed, {failed} failed, {skipped} skipped")
sys.exit(1 if failed else 0)
PY
