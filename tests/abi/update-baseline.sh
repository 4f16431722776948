#!/bin/sh
# Regenerate the ABI baselines from a build directory:
#   tests/abi/symbols.txt      exported symbol names (check_symbols.sh)
#   tests/abi/libsmtpwire.abi  abidw of the shared library (check_abidiff.sh)
# The build must be what the abidiff test compares against: x86-64, debug
# info (the default debugoptimized buildtype), no sanitizers, the POSIX
# adapter built.  gcc is what the committed baseline was made with:
#   CC=gcc meson setup build-abi && ninja -C build-abi
#   sh tests/abi/update-baseline.sh build-abi
# Then look at `git diff tests/abi` and commit it with the change it records.
set -eu
[ $# -eq 1 ] || { echo "usage: $0 BUILD_DIR" >&2; exit 2; }
here=$(cd "$(dirname "$0")" && pwd)
src=$(cd "$here/../.." && pwd)
build=$(cd "$1" && pwd)
lib="$build/lib/libsmtpwire.so"
[ -e "$lib" ] || { echo "$lib not found: build first (ninja -C $1)" >&2; exit 1; }

opts=$(meson introspect --buildoptions "$build")
opt() {
    printf '%s' "$opts" | python3 -c '
import json, sys
for o in json.load(sys.stdin):
    if o["name"] == sys.argv[1]:
        print(str(o["value"]).lower())' "$1"
}
[ "$(opt b_sanitize)" = none ] || { echo "$1 is built with sanitizers: use a plain build" >&2; exit 1; }
[ "$(opt debug)" = true ] || { echo "$1 has no debug info (-Ddebug=true)" >&2; exit 1; }
[ "$(opt posix)" = true ] || { echo "$1 is built without the POSIX adapter" >&2; exit 1; }
[ "$(uname -m)" = x86_64 ] || echo "warning: not x86-64; the abidiff test will skip elsewhere" >&2

{
    echo "# Exported symbols of libsmtpwire.so, checked by the test abi_exported_symbols_as_baseline:"
    echo "# a name missing from the library fails, and so does one the library exports"
    echo "# beyond this list, so every API addition is deliberate."
    echo "# Regenerate with: sh tests/abi/update-baseline.sh BUILD_DIR"
    sh "$here/check_symbols.sh" list "${NM:-nm}" "$lib"
} > "$here/symbols.txt"
sh "$here/check_abidiff.sh" dump "$lib" "$src/include/smtpwire" "$here/libsmtpwire.abi"
echo "wrote tests/abi/symbols.txt ($(grep -c '^smtpw' "$here/symbols.txt") symbols) and tests/abi/libsmtpwire.abi ($(sed -n "s/^<abi-corpus .*soname='\([^']*\)'.*/\1/p" "$here/libsmtpwire.abi"))"
