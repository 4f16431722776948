#!/bin/sh
# The shared library's exported symbols against the committed baseline
# tests/abi/symbols.txt: a symbol gone breaks every program that uses it, and
# a new one is API from the day it ships, so both fail the test until the
# baseline says so (sh tests/abi/update-baseline.sh BUILD_DIR, committed with
# the change that explains it).
#   check_symbols.sh list  NM LIB                  print the exported names
#   check_symbols.sh check NM LIB BASELINE POSIX   compare (POSIX: true|false;
#                          without the adapter its smtpw_posix_* are not expected)
set -eu
mode="$1"; nm="$2"; lib="$3"

list() {
    # Defined dynamic symbols of any kind (functions, data, weak, ifunc).
    "$nm" -D --defined-only "$lib" | awk 'NF >= 3 && $2 ~ /^[TDBRWVi]$/ {print $3}' |
        sed 's/@.*//' | LC_ALL=C sort -u
}

case "$mode" in
list)
    list
    ;;
check)
    baseline="$4"; posix="$5"
    tmp=$(mktemp -d "${TMPDIR:-/tmp}/smtpwire-syms.XXXXXX")
    trap 'rm -rf "$tmp"' EXIT
    list > "$tmp/built"
    [ -s "$tmp/built" ] || { echo "no exported symbols found in $lib"; exit 1; }
    grep -v -e '^#' -e '^$' "$baseline" | LC_ALL=C sort -u > "$tmp/want"
    if [ "$posix" != true ]; then
        grep -v '^smtpw_posix_' "$tmp/want" > "$tmp/want.core" || true
        mv "$tmp/want.core" "$tmp/want"
    fi
    removed=$(LC_ALL=C comm -23 "$tmp/want" "$tmp/built")
    added=$(LC_ALL=C comm -13 "$tmp/want" "$tmp/built")
    if [ -n "$removed" ]; then
        echo "exported symbols REMOVED (breaks programs linked against the baseline):"
        printf '  %s\n' $removed
    fi
    if [ -n "$added" ]; then
        echo "exported symbols ADDED but not in the baseline (every addition is API):"
        printf '  %s\n' $added
    fi
    if [ -n "$removed$added" ]; then
        echo "if this is deliberate: sh tests/abi/update-baseline.sh BUILD_DIR, and commit"
        echo "tests/abi/symbols.txt (and libsmtpwire.abi) with the change"
        exit 1
    fi
    echo "$(wc -l < "$tmp/built") exported symbols, as in $(basename "$baseline")"
    ;;
*)
    echo "usage: $0 list NM LIB | check NM LIB BASELINE POSIX" >&2
    exit 2
    ;;
esac
