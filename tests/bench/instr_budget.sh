#!/bin/sh
# Usage: instr_budget.sh BENCH_CORE BUDGET
# Instructions per server command of bench_core's command benchmark (MAIL
# with SIZE, two RCPT, RSET; replies rendered and drained), counted by
# callgrind, which is exact where timings on a loaded machine are not.
# Fails above BUDGET.  `bench_core 0 commands` runs the session of 1 + 4 x
# 20000 commands three times; start-up is in the count (under 1%).
# Skips (77) without valgrind, unless SMTPW_REQUIRE_INTEROP=1.
# SPDX-License-Identifier: MIT
set -u
bench=$1
budget=$2
if ! command -v valgrind >/dev/null 2>&1; then
    echo "valgrind missing"
    [ "${SMTPW_REQUIRE_INTEROP:-0}" = 1 ] && exit 1
    exit 77
fi
out=$(mktemp) || exit 1
trap 'rm -f "$out"' EXIT
# meson test sets MALLOC_PERTURB_, whose fills would be counted too.
env -u MALLOC_PERTURB_ valgrind --tool=callgrind --callgrind-out-file="$out" "$bench" 0 commands >/dev/null 2>&1 || {
    echo "bench_core failed under callgrind"
    exit 1
}
total=$(awk '/^summary:|^totals:/{print $2; exit}' "$out")
[ -n "$total" ] || { echo "no callgrind total"; exit 1; }
awk -v t="$total" -v b="$budget" 'BEGIN {
    per = t / (3 * (1 + 4 * 20000));
    printf "%.1f instructions per command (budget %d)\n", per, b;
    exit per <= b ? 0 : 1 }'
