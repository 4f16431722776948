#!/bin/sh
# examples/embed-static (the README's embedding example) answers whole
# pipelined sessions on stdin/stdout byte-exact (RFC 5321 4.1, RFC 2920),
# and README.md shows exactly its text (between the EMBED markers).
set -eu
exe="$1"
here=$(cd "$(dirname "$0")" && pwd)
src="$here/../examples/embed-static.c"
readme="$here/../README.md"

# The README snippet is the program's text, byte for byte.
prog=$(sed -n '/^\/\* EMBED: begin \*\/$/,/^\/\* EMBED: end \*\/$/p' "$src" | sed '1d;$d')
doc=$(awk '/^## Embedding the server core/{on=1} on&&/^```c$/{c=1;next} c&&/^```$/{exit} c{print}' "$readme")
[ -n "$prog" ] && [ "$prog" = "$doc" ] || { echo "README.md's embedding snippet differs from $src"; exit 1; }

check() { # name, input (printf format), expected output (printf format)
    out=$(printf "$2" | "$exe" 2>/dev/null | od -c | tr -s ' ')
    want=$(printf "$3" | od -c | tr -s ' ')
    if [ "$out" != "$want" ]; then
        echo "$1: unexpected output:"; echo "$out"; exit 1
    fi
}

greet='220 embed.example ESMTP smtpwire\r\n'
ehlo='250-embed.example\r\n250-PIPELINING\r\n250-8BITMIME\r\n250-SIZE 10485760\r\n250 ENHANCEDSTATUSCODES\r\n'
mail='250 2.1.0 Sender ok\r\n'
rcpt='250 2.1.5 Recipient ok\r\n'
data='354 Start mail input; end with <CRLF>.<CRLF>\r\n'
done_='250 2.0.0 Message accepted for delivery\r\n'
bye='221 2.0.0 embed.example Service closing transmission channel\r\n'

check session \
    'EHLO x\r\nMAIL FROM:<a@b.example>\r\nRCPT TO:<nobody@b.example>\r\nRCPT TO:<bob@b.example>\r\nDATA\r\nhi\r\n..dot\r\n.\r\nQUIT\r\nNOOP\r\n' \
    "$greet$ehlo$mail"'550 5.1.1 No such user here\r\n'"$rcpt$data$done_$bye"

# RFC 2920: EHLO, MAIL, 15 RCPT, DATA, a body and QUIT in one write get all
# 21 replies (the old driver loop stalled after 20 of 23 with its reads).
in='EHLO x\r\nMAIL FROM:<a@b.example>\r\n'
want="$greet$ehlo$mail"
i=0
while [ $i -lt 15 ]; do
    in="${in}RCPT TO:<u$i@b.example>\r\n"
    want="$want$rcpt"
    i=$((i + 1))
done
check rfc2920_ehlo_mail_15_rcpt_data_in_one_write \
    "${in}DATA\r\nSubject: x\r\n\r\nbody\r\n.\r\nQUIT\r\n" "$want$data$done_$bye"

# RFC 2920: 1000 pipelined NOOP/RSET in one write, 1000 replies in order
# (NOOP makes no event: recv() goes on through it in the same call).
in='EHLO x\r\n'
want="$greet$ehlo"
i=0
while [ $i -lt 500 ]; do
    in="${in}NOOP\r\nRSET\r\n"
    want="${want}250 2.0.0 Ok\r\n250 2.0.0 Ok\r\n"
    i=$((i + 1))
done
check rfc2920_1000_pipelined_noop_rset "${in}QUIT\r\n" "$want$bye"

log=$(printf 'EHLO x\r\nMAIL FROM:<a@b.example>\r\nRCPT TO:<bob@b.example>\r\nDATA\r\nhi\r\n..dot\r\n.\r\nQUIT\r\n' | "$exe" 2>&1 >/dev/null)
[ "$log" = "$(printf 'mail <a@b.example>\nrcpt <bob@b.example>\nmessage of 10 octets')" ] || { echo "log: $log"; exit 1; }
echo ok
