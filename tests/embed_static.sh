#!/bin/sh
# examples/embed-static (the README's embedding example) answers a whole
# pipelined session on stdin/stdout byte-exact (RFC 5321 4.1, RFC 2920).
set -eu
exe="$1"
out=$(printf 'EHLO x\r\nMAIL FROM:<a@b.example>\r\nRCPT TO:<nobody@b.example>\r\nRCPT TO:<bob@b.example>\r\nDATA\r\nhi\r\n..dot\r\n.\r\nQUIT\r\nNOOP\r\n' |
      "$exe" 2>/dev/null | od -c | tr -s ' ')
want=$(printf '220 embed.example ESMTP smtpwire\r\n250-embed.example\r\n250-PIPELINING\r\n250-8BITMIME\r\n250-SIZE 10485760\r\n250 ENHANCEDSTATUSCODES\r\n250 2.1.0 Sender ok\r\n550 5.1.1 No such user here\r\n250 2.1.5 Recipient ok\r\n354 Start mail input; end with <CRLF>.<CRLF>\r\n250 2.0.0 Message accepted for delivery\r\n221 2.0.0 embed.example Service closing transmission channel\r\n' | od -c | tr -s ' ')
if [ "$out" != "$want" ]; then
    echo "unexpected output:"; echo "$out"; exit 1
fi
log=$(printf 'EHLO x\r\nMAIL FROM:<a@b.example>\r\nRCPT TO:<bob@b.example>\r\nDATA\r\nhi\r\n..dot\r\n.\r\nQUIT\r\n' | "$exe" 2>&1 >/dev/null)
[ "$log" = "$(printf 'mail <a@b.example>\nrcpt <bob@b.example>\nmessage of 10 octets')" ] || { echo "log: $log"; exit 1; }
echo ok
