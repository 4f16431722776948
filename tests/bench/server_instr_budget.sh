#!/bin/sh
# Usage: server_instr_budget.sh SMTPWIRE_SERVER QUIET_BUDGET LINE_BUDGET
# User-space instructions per message of smtpwire-server --sink under
# Postfix smtp-source (-d -s 20 -l 1024), counted by callgrind, which is
# exact where timings on a loaded machine are not.  Per message = the
# difference of a 3000- and a 1000-message run over 2000, so start-up and
# connection set-up cancel out.  Two figures, each against its budget:
#   -q            the server with the log off (README: faster than
#                 smtp-sink, which logs nothing per message);
#   default - -q  the default level's one "message" line per message.
# Skips (77) without valgrind or smtp-source, unless SMTPW_REQUIRE_INTEROP=1.
# SPDX-License-Identifier: MIT
set -u
srv=$1
quiet_budget=$2
line_budget=$3
for p in valgrind smtp-source; do
    if ! command -v "$p" >/dev/null 2>&1; then
        echo "$p missing"
        [ "${SMTPW_REQUIRE_INTEROP:-0}" = 1 ] && exit 1
        exit 77
    fi
done
tmp=$(mktemp -d) || exit 1
trap 'rm -rf "$tmp"' EXIT

# run MESSAGES [options...]: prints the callgrind total of the server
run() {
    n=$1
    shift
    : >"$tmp/out"
    # meson test sets MALLOC_PERTURB_, whose fills would be counted too
    env -u MALLOC_PERTURB_ valgrind --tool=callgrind --callgrind-out-file="$tmp/cg" \
        "$srv" --sink --listen 127.0.0.1:0 "$@" >"$tmp/out" 2>/dev/null &
    pid=$!
    addr=
    i=0
    while [ $i -lt 300 ] && [ -z "$addr" ]; do
        addr=$(sed -n 's/^listening on //p' "$tmp/out")
        [ -n "$addr" ] || sleep 0.1
        i=$((i + 1))
    done
    if [ -z "$addr" ]; then
        echo "server did not start" >&2
        kill "$pid" 2>/dev/null
        return 1
    fi
    smtp-source -d -s 20 -m "$n" -l 1024 -f a@example.org -t b@example.com "$addr" \
        >/dev/null 2>&1 || echo "smtp-source failed" >&2
    kill -TERM "$pid"
    wait "$pid"
    awk '/^summary:|^totals:/{print $2; exit}' "$tmp/cg"
}

per_msg() {
    a=$(run 1000 "$@") && b=$(run 3000 "$@") && [ -n "$a" ] && [ -n "$b" ] || return 1
    echo $(((b - a) / 2000))
}

q=$(per_msg -q) || { echo "measurement failed (-q)"; exit 1; }
d=$(per_msg) || { echo "measurement failed (default level)"; exit 1; }
line=$((d - q))
echo "instructions per message: -q $q (budget $quiet_budget), default $d, log line $line (budget $line_budget)"
[ "$q" -le "$quiet_budget" ] && [ "$line" -le "$line_budget" ]
