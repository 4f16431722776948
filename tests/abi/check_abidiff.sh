#!/bin/sh
# libabigail check of the built shared library against the committed
# baseline tests/abi/libsmtpwire.abi (abidw of a gcc -g x86-64 build).
#   check_abidiff.sh dump  LIB INCDIR OUT      write LIB's ABI (update-baseline.sh)
#   check_abidiff.sh check LIB INCDIR BASELINE SANITIZE DEBUG
# check: the library is dumped exactly as the baseline was (types from the
# public headers in INCDIR; the opaque structs stay opaque) and abidiff'ed:
#   - a removed symbol (ABIDIFF_ABI_INCOMPATIBLE_CHANGE, bit 8) or any change
#     to an existing function's or variable's types (bit 4 once additions are
#     ignored: abidiff only calls removals incompatible, but an inserted field
#     or a narrowed parameter breaks callers just the same) fails, unless the
#     library's soname differs from the baseline's (a deliberate break: then
#     the baseline must be regenerated, as printed);
#   - added functions pass here (symbols.txt still makes them deliberate).
# Skips (77) when abidw/abidiff are missing, unless SMTPW_REQUIRE_INTEROP=1,
# and always on a build the baseline does not describe: another
# architecture, sanitizers (SANITIZE != none), no debug info (DEBUG != true).
set -eu
mode="$1"; lib="$2"; incdir="$3"

dump() { # LIB OUT
    # No locations, paths or sequence-numbered ids: the file depends only on
    # the ABI, not on where or in which order it was built.
    abidw --no-show-locs --no-comp-dir-path --no-corpus-path --type-id-style hash \
        --headers-dir "$incdir" --drop-private-types --out-file "$2" "$1"
}
attr() { # FILE NAME: an attribute of the abi-corpus element
    sed -n "s/^<abi-corpus .*$2='\([^']*\)'.*/\1/p" "$1" | head -n 1
}

have_tools() {
    command -v abidw >/dev/null 2>&1 && command -v abidiff >/dev/null 2>&1
}

case "$mode" in
dump)
    have_tools || { echo "abidw/abidiff not found (Debian: apt-get install abigail-tools)" >&2; exit 1; }
    dump "$lib" "$4"
    ;;
check)
    baseline="$4"; sanitize="$5"; debug="$6"
    if ! have_tools; then
        if [ "${SMTPW_REQUIRE_INTEROP:-0}" = 1 ]; then
            echo "abidw/abidiff not found (abigail-tools) and SMTPW_REQUIRE_INTEROP=1"; exit 1
        fi
        echo "abidw/abidiff not found (apt-get install abigail-tools): skipped"; exit 77
    fi
    if [ "$sanitize" != none ] || [ "$debug" != true ]; then
        echo "the baseline is for a build with -g and no sanitizers (this one: b_sanitize=$sanitize, debug=$debug): skipped"
        exit 77
    fi
    tmp=$(mktemp -d "${TMPDIR:-/tmp}/smtpwire-abi.XXXXXX")
    trap 'rm -rf "$tmp"' EXIT
    dump "$lib" "$tmp/built.abi"
    arch_base=$(attr "$baseline" architecture); arch=$(attr "$tmp/built.abi" architecture)
    if [ "$arch_base" != "$arch" ]; then
        echo "the baseline is for $arch_base, this library is $arch: skipped"; exit 77
    fi
    so_base=$(attr "$baseline" soname); so=$(attr "$tmp/built.abi" soname)
    rc=0; abidiff "$baseline" "$tmp/built.abi" > "$tmp/report" 2>&1 || rc=$?
    if [ $((rc & 3)) -ne 0 ]; then
        cat "$tmp/report"; echo "abidiff failed (exit status $rc)"; exit 1
    fi
    if [ "$rc" -eq 0 ]; then
        echo "no ABI change against $(basename "$baseline") ($so)"; exit 0
    fi
    cat "$tmp/report"
    # The same comparison with additions left out: what remains changes
    # something a program built against the baseline already uses.
    rc2=0; abidiff --no-added-syms "$baseline" "$tmp/built.abi" >/dev/null 2>&1 || rc2=$?
    if [ $((rc & 8)) -eq 0 ] && [ $((rc2 & 4)) -eq 0 ]; then
        echo "compatible: only additions (abidiff exit status $rc); symbols.txt decides whether they are deliberate"
        exit 0
    fi
    if [ "$so" != "$so_base" ]; then
        echo "incompatible ABI change, allowed by the soname change $so_base -> $so;"
        echo "the baseline is now stale: regenerate it from a gcc x86-64 build with -g and"
        echo "no sanitizers, and commit it with the soname bump:"
        echo "    sh tests/abi/update-baseline.sh BUILD_DIR"
        exit 0
    fi
    echo "INCOMPATIBLE ABI change against $(basename "$baseline") with the same soname $so"
    echo "(abidiff exit status $rc, $rc2 without additions): programs built against the"
    echo "baseline would break.  Undo it, or bump the soname (meson.build version) and"
    echo "regenerate the baseline: sh tests/abi/update-baseline.sh BUILD_DIR.  A change"
    echo "the project rules call compatible (a field appended to a struct with a version"
    echo "field) also needs the baseline regenerated, deliberately."
    exit 1
    ;;
*)
    echo "usage: $0 dump LIB INCDIR OUT | check LIB INCDIR BASELINE SANITIZE DEBUG" >&2
    exit 2
    ;;
esac
