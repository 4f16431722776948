#!/bin/sh
# smtpwire-send against Postfix's smtp-sink: a few hundred messages, one
# process each, every one must exit 0.  Prints the mean wall time per
# message.  Usage: smtp_sink.sh SMTPWIRE-SEND [COUNT]
# SPDX-License-Identifier: MIT
set -u
send=$1
count=${2:-300}
sink=$(command -v smtp-sink || echo /usr/sbin/smtp-sink)
if [ ! -x "$sink" ]; then
    if [ "${SMTPW_REQUIRE_INTEROP:-0}" = 1 ]; then echo "FAIL: smtp-sink missing" >&2; exit 1; fi
    echo "SKIP: smtp-sink (postfix) is not installed" >&2; exit 77
fi
tmp=$(mktemp -d)
sinkpid=
cleanup() { [ -n "$sinkpid" ] && kill "$sinkpid" 2>/dev/null; rm -rf "$tmp"; }
trap cleanup EXIT INT TERM

port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
user=
[ "$(id -u)" = 0 ] && user="-u root"
# shellcheck disable=SC2086
"$sink" $user 127.0.0.1:"$port" 1000 &
sinkpid=$!
i=0
until python3 -c "import socket,sys; socket.create_connection(('127.0.0.1',$port),1).close()" 2>/dev/null; do
    i=$((i + 1))
    if [ $i -gt 100 ]; then echo "FAIL: smtp-sink did not start" >&2; exit 1; fi
    sleep 0.05
done

# a 1 KiB message with a dot line
{
    printf 'From: a@example.org\nTo: b@example.net\nSubject: sink test\n\n'
    printf '.starts with a dot\n'
    head -c 900 /dev/zero | tr '\0' 'x' | fold -w 70
    printf '\n'
} >"$tmp/msg"

start=$(date +%s%N)
n=0
while [ $n -lt "$count" ]; do
    if ! "$send" --server 127.0.0.1:"$port" --from a@example.org --to b@example.net \
        --to c@example.net --timeout 10 "$tmp/msg" 2>"$tmp/err"; then
        echo "FAIL: message $n: exit $?" >&2
        cat "$tmp/err" >&2
        exit 1
    fi
    n=$((n + 1))
done
end=$(date +%s%N)
us=$(( (end - start) / 1000 / count ))
echo "ok   $count messages of $(wc -c <"$tmp/msg") octets, one process each: ${us} us wall per message"
