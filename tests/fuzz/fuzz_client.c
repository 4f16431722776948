/* libFuzzer target: the client core fed hostile server bytes while a
 * scripted client issues commands.  The first three bytes pick the config
 * and the chunking (llhttp's trick).  Invariants are asserted: consumed <=
 * inlen, spans inside the input, errors sticky, output only whole CRLF
 * lines of at most 512 octets.  SPDX-License-Identifier: MIT */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "smtpwire/smtpwire.h"

#define CHECK(x)                                                                          \
    do {                                                                                  \
        if (!(x))                                                                         \
            abort();                                                                      \
    } while (0)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static uint64_t mem[SMTPW_CLIENT_SIZE_HINT / 8 + 1];

static int in_span(smtpw_span s, const uint8_t *p, size_t n)
{
    if (s.len == 0)
        return 1;
    return (const uint8_t *)s.ptr >= p && (const uint8_t *)s.ptr + s.len <= p + n;
}

/* Command bytes are whole CRLF lines of at most 512 octets. */
static void check_output(smtpw_client *c)
{
    size_t n, i, linelen = 0;
    const uint8_t *p = smtpw_client_output(c, &n);
    for (i = 0; i < n; i++) {
        linelen++;
        if (p[i] == '\r')
            CHECK(i + 1 < n && p[i + 1] == '\n');
        if (p[i] == '\n') {
            CHECK(i > 0 && p[i - 1] == '\r');
            CHECK(linelen <= 512);
            linelen = 0;
        }
        CHECK(p[i] != 0);
    }
    CHECK(linelen == 0);
    smtpw_client_output_ack(c, n);
}

/* The next scripted step; returns 1 to move on, 0 to retry later. */
static int step(smtpw_client *c, unsigned k)
{
    int r;
    switch (k) {
    case 0: r = smtpw_client_ehlo(c, "client.example", 14); break;
    case 1: r = smtpw_client_mail(c, "a@b.example", 11, 100, SMTPW_MAIL_8BIT,
                                  "ENVID=x", 7); break;
    case 2: r = smtpw_client_rcpt(c, "r1@x.example", 12, NULL, 0); break;
    case 3: r = smtpw_client_rcpt(c, "\"q q\"@x.example", 15, "NOTIFY=NEVER", 12); break;
    case 4: r = smtpw_client_data(c); break;
    case 5: r = smtpw_client_noop(c); break;
    case 6: r = smtpw_client_starttls(c); break;
    case 7: r = smtpw_client_helo(c, "client.example", 14); break;
    case 8: r = smtpw_client_rset(c); break;
    case 9: r = smtpw_client_vrfy(c, "postmaster", 10); break;
    case 10: r = smtpw_client_mail(c, NULL, 0, 0, 0, NULL, 0); break;
    case 11: r = smtpw_client_rcpt(c, "Postmaster", 10, NULL, 0); break;
    case 12: r = smtpw_client_data(c); break;
    default: r = smtpw_client_quit(c); break;
    }
    CHECK(r <= 0);
    return r != SMTPW_E_AGAIN;
}

/* Whatever the state asks for besides reading. */
static void serve_wants(smtpw_client *c)
{
    unsigned w = smtpw_client_want(c);
    static const uint8_t body[] = ".dot\r\nbare\nlf\rcr\r\n\xc3\xa9 8bit\r\n.\r\nend";
    if (w & SMTPW_WANT_TLS)
        CHECK(smtpw_client_tls_started(c) == 0);
    if (w & SMTPW_WANT_BODY) {
        uint8_t out[128];
        size_t used, wrote, off = 0;
        int r = 0;
        while (off < sizeof body - 1) {
            r = smtpw_client_body_encode(c, body + off, sizeof body - 1 - off, &used, out, 7,
                                         &wrote);
            CHECK(used <= sizeof body - 1 - off && wrote <= 7);
            if (r)
                break;
            CHECK(used || wrote);
            off += used;
        }
        CHECK(r == 0 || r == SMTPW_E_8BIT);
        CHECK(smtpw_client_body_end(c, out, sizeof out, &wrote) == 0);
        CHECK(wrote >= 3 && wrote <= 5);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const uint32_t line_limits[] = {512, 513, 600, 2048};
    smtpw_client_config cfg;
    smtpw_client *c;
    size_t off = 0, avail, chunk;
    unsigned k = 0;
    int sticky = 0;

    if (size < 3)
        return 0;
    smtpw_client_config_init(&cfg, SMTPW_CLIENT_CONFIG_VERSION);
    cfg.flags = data[0] & (SMTPW_CLIENT_NO_PIPELINING | SMTPW_CLIENT_SMTPUTF8);
    cfg.max_reply_line = line_limits[(data[0] >> 2) & 3];
    cfg.max_reply_lines = (data[1] & 0x80) ? 100u : 1u + (data[1] & 7u);
    chunk = 1u + data[2];
    data += 3;
    size -= 3;
    CHECK(smtpw_client_init(mem, sizeof mem, &cfg, &c) == 0);
    avail = size < chunk ? size : chunk;

    for (;;) {
        smtpw_event ev;
        size_t used = 12345;
        const uint8_t *p = data + off;
        size_t n = avail - off;
        int r;

        /* issue whatever the script allows now */
        while (k < 16 && step(c, k))
            k++;
        check_output(c);
        serve_wants(c);
        check_output(c);

        r = smtpw_client_recv(c, p, n, &used, &ev, sizeof ev);
        CHECK(used <= n);
        if (sticky) { /* fatal errors stay */
            CHECK(r == sticky);
            CHECK(used == 0);
            CHECK(smtpw_client_noop(c) == sticky);
            break;
        }
        if (r < 0) {
            CHECK(used == 0);
            CHECK(r == SMTPW_E_PROTO || r == SMTPW_E_CLOSED);
            CHECK(smtpw_client_want(c) & SMTPW_WANT_CLOSE);
            CHECK(smtpw_client_timeout(c) == SMTPW_TIMEOUT_NONE);
            sticky = r;
            continue;
        }
        if (r == SMTPW_EV_NONE) {
            CHECK(used == 0);
            if (avail == size)
                break;
            avail = size - avail < chunk ? size : avail + chunk;
            continue;
        }
        CHECK(r == SMTPW_EV_REPLY);
        CHECK(used >= 5 && used <= cfg.max_reply_line);
        CHECK(p[used - 2] == '\r' && p[used - 1] == '\n');
        CHECK(ev.code >= 200 && ev.code <= 559);
        CHECK((const uint8_t *)ev.line.ptr == p && ev.line.len == used - 2);
        CHECK(in_span(ev.arg, p, used - 2));
        CHECK(in_span(ev.keyword, p, used - 2) && in_span(ev.params, p, used - 2));
        if (ev.flags & SMTPW_EVF_ENHANCED)
            CHECK(ev.enh_class == ev.code / 100);
        if (ev.cmd == SMTPW_CMD_RCPT)
            CHECK(ev.index < 2);
        off += used;
    }
    return 0;
}
