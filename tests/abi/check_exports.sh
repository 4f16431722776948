#!/bin/sh
# Every dynamic symbol the library defines starts with smtpw_ (no smtpw__
# internals, no stray helpers): hidden visibility plus SMTPW_API only.
nm="$1"; lib="$2"
syms=$("$nm" -D --defined-only "$lib" | awk '$2 ~ /^[TDBR]$/ {print $3}')
[ -n "$syms" ] || { echo "no symbols found in $lib"; exit 1; }
bad=$(printf '%s\n' "$syms" | grep -v '^smtpw_' ; printf '%s\n' "$syms" | grep '^smtpw__')
if [ -n "$bad" ]; then
    echo "unexpected exported symbols:"; printf '%s\n' "$bad"; exit 1
fi
echo "$(printf '%s\n' "$syms" | wc -l) exported symbols, all smtpw_*"
