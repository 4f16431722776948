#!/bin/sh
# README's first quick-start command: build the library and the examples,
# start smtpwire-server on its defaults (127.0.0.1:2525, Maildir in
# ./Maildir), deliver one message to it with smtpwire-send, and show where
# it landed.  Installs the Debian build tools first when run as root.
set -eu
cd "$(dirname "$0")/.."

missing=""
for p in meson ninja-build gcc pkg-config; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
done
if [ -n "$missing" ]; then
    if [ "$(id -u)" = 0 ]; then
        DEBIAN_FRONTEND=noninteractive apt-get update -qq
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $missing >/dev/null
    else
        echo "missing Debian packages:$missing (sudo apt-get install$missing)" >&2
        exit 1
    fi
fi

[ -d build ] || meson setup build -Dtests=disabled >/dev/null
ninja -C build >/dev/null

log=$(mktemp)
# --max-messages 1: the server exits by itself once the message is stored.
build/examples/smtpwire-server --max-messages 1 >"$log" 2>&1 &
server=$!
trap 'kill $server 2>/dev/null || true; rm -f "$log"' EXIT
i=0
until grep -q '^listening on' "$log"; do
    i=$((i + 1))
    if [ $i -gt 100 ] || ! kill -0 $server 2>/dev/null; then
        echo "smtpwire-server did not start:" >&2; cat "$log" >&2; exit 1
    fi
    sleep 0.05
done
head -n 1 "$log"

printf 'From: Alice <alice@example.org>\nTo: Bob <bob@example.org>\nSubject: Hello from smtpwire\n\nHi Bob,\n.a line that starts with a dot survives the trip.\n' |
    build/examples/smtpwire-send -v --server 127.0.0.1:2525 \
        --from alice@example.org --to bob@example.org
wait $server
trap - EXIT
rm -f "$log"

file=$(ls -t Maildir/new/* | head -n 1)
echo
echo "stored in $file:"
cat "$file"
