/*
 * libFuzzer target for the server core.  data[0] picks flags and bare
 * policies, data[1..2] limits and the chunking/answer seed; the rest is the
 * client's byte stream, fed in pieces, with output drained in pieces and
 * events answered with varied (sometimes invalid) replies.
 * Invariants: consumed <= input, return == ev.type, spans inside the input
 * or static CRLF bytes, no progress while a reply is owed, want() agrees
 * with the queue, output is well-formed CRLF lines of at most 512 octets
 * that start with a reply code, nothing is read after QUIT.
 * SPDX-License-Identifier: MIT
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "smtpwire/smtpwire.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(x)                                                                              \
    do {                                                                                      \
        if (!(x))                                                                             \
            abort();                                                                          \
    } while (0)

struct rng {
    uint32_t s;
};

static uint32_t next(struct rng *r)
{
    r->s = r->s * 1103515245u + 12345u;
    return r->s >> 8;
}

/* Output checker: every line CRLF-terminated, <= 512 octets, "ddd" then SP or '-'. */
struct outchk {
    size_t linelen;
    char line[4];
    int cr;
};

static void out_bytes(struct outchk *o, const uint8_t *p, size_t n)
{
    size_t i;
    for (i = 0; i < n; i++) {
        uint8_t c = p[i];
        if (o->cr) {
            CHECK(c == '\n'); /* CR only before LF */
            o->cr = 0;
            CHECK(o->linelen + 1 <= 512);
            o->linelen = 0;
            continue;
        }
        CHECK(c != '\n'); /* LF only after CR */
        if (c == '\r') {
            o->cr = 1;
            CHECK(o->linelen >= 4);
            o->linelen++;
            continue;
        }
        if (o->linelen < 3)
            CHECK(c >= '0' && c <= '9');
        if (o->linelen == 3)
            CHECK(c == ' ' || c == '-');
        o->linelen++;
    }
}

static int span_ok(smtpw_span sp, const uint8_t *in, size_t len)
{
    if (sp.len == 0)
        return 1;
    if ((const uint8_t *)sp.ptr >= in && (const uint8_t *)sp.ptr + sp.len <= in + len)
        return 1;
    return sp.len <= 2 && memcmp(sp.ptr, "\r\n", sp.len) == 0;
}

static void answer(smtpw_server *s, struct rng *r, int type)
{
    static const unsigned ok[] = {0, 250, 251, 252, 214, 211};
    static const unsigned bad[] = {421, 450, 451, 452, 500, 501, 503, 550, 551, 552, 553, 554, 555};
    static const char *const texts[] = {NULL, "ok", "a rather long text for the reply line",
                                        "x\r\ny", "\n", "t\0t"};
    static const char *const enhs[] = {NULL, "2.0.0", "5.7.1", "4.2.0", "9.9.9", "2.1", "5.1.1"};
    unsigned k = next(r) % 16, code;
    int rc;
    const char *text = texts[next(r) % 6], *enh = enhs[next(r) % 7];
    size_t tl = text ? (text[0] == 't' ? 3 : strlen(text)) : 0;
    char longtext[600];
    if (k < 9)
        code = type == SMTPW_EV_DATA ? 354 : ok[next(r) % 6];
    else if (k < 15)
        code = bad[next(r) % 13];
    else
        code = next(r) % 700;
    if (next(r) % 40 == 0) {
        memset(longtext, 'L', sizeof longtext);
        text = longtext;
        tl = 400 + next(r) % 200;
    }
    rc = smtpw_server_reply(s, code, enh, enh ? strlen(enh) : 0, text, tl);
    if (rc != 0) {
        CHECK(rc == SMTPW_E_INVALID_ARG || rc == SMTPW_E_TOOLONG);
        CHECK(smtpw_server_want(s) & SMTPW_WANT_REPLY); /* still owed */
        CHECK(smtpw_server_reply(s, 0, NULL, 0, NULL, 0) == 0);
    }
    CHECK(!(smtpw_server_want(s) & SMTPW_WANT_REPLY));
    CHECK(smtpw_server_reply(s, 0, NULL, 0, NULL, 0) == SMTPW_E_STATE);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static uint64_t mem[SMTPW_SERVER_SIZE_HINT / 8 + 1];
    static uint8_t buf[1 << 16];
    smtpw_server_config cfg;
    smtpw_server *s;
    struct rng r;
    struct outchk oc;
    size_t have = 0, off = 3, guard = 0, olen;
    uint64_t bodysz = 0;
    int closed = 0;
    const uint8_t *p;

    if (size < 3)
        return 0;
    smtpw_server_config_init(&cfg, SMTPW_SERVER_CONFIG_VERSION);
    cfg.flags = 0;
    if (data[0] & 0x01)
        cfg.flags |= SMTPW_SERVER_LENIENT;
    if (data[0] & 0x02)
        cfg.flags |= SMTPW_SERVER_STARTTLS;
    if (data[0] & 0x04)
        cfg.flags |= SMTPW_SERVER_SMTPUTF8;
    if (data[0] & 0x08)
        cfg.flags |= (data[1] & 0x80) ? SMTPW_SERVER_REFUSE : SMTPW_SERVER_NO_ENHANCED;
    cfg.bare_command = (uint32_t)((data[0] >> 4) & 3) % 3;
    cfg.bare_body = (uint32_t)((data[0] >> 6) & 3) % 3;
    cfg.max_text_line = (data[1] & 0x01) ? 3 + (uint32_t)(data[2] % 100) : 0;
    cfg.max_message_size = (data[1] & 0x02) ? (uint64_t)data[2] * 4 : (data[1] & 0x04) ? 0 : 10485760;
    cfg.max_recipients = (data[1] & 0x08) ? 2 : 100;
    cfg.max_errors = (data[1] & 0x10) ? 0 : 3 + (uint32_t)(data[2] % 20);
    cfg.max_command_line = (data[1] & 0x20) ? 1000 : 512;
    r.s = (uint32_t)data[1] << 8 | data[2];
    memset(&oc, 0, sizeof oc);

    CHECK(smtpw_server_init(mem, sizeof mem, &cfg, &s) == 0);
    for (;;) {
        smtpw_event ev;
        size_t used = 999999;
        unsigned w = smtpw_server_want(s);
        int x;
        CHECK(++guard < 1000000);
        p = smtpw_server_output(s, &olen);
        CHECK(((w & SMTPW_WANT_WRITE) != 0) == (olen != 0));
        if ((w & SMTPW_WANT_TLS) && next(&r) % 2 == 0) {
            CHECK(smtpw_server_tls_started(s) == 0);
            continue;
        }
        x = smtpw_server_recv(s, buf, have, &used, &ev, sizeof ev);
        if (x == SMTPW_E_CLOSED) {
            CHECK(used == 0);
            CHECK(smtpw_server_want(s) & SMTPW_WANT_CLOSE);
            closed = 1;
        } else {
            CHECK(x >= 0 && (uint32_t)x == ev.type);
            CHECK(used <= have);
            CHECK(span_ok(ev.arg, buf, have) && span_ok(ev.params, buf, have));
            if (w & SMTPW_WANT_REPLY)
                CHECK(x == SMTPW_EV_NONE && used == 0);
            if (x == SMTPW_EV_BODY) {
                bodysz += ev.arg.len;
                if (cfg.max_message_size)
                    CHECK(bodysz <= cfg.max_message_size);
            } else if (x == SMTPW_EV_DATA_END) {
                CHECK(ev.size == bodysz);
                bodysz = 0;
            } else if (x == SMTPW_EV_DATA_ABORT) {
                CHECK(ev.code == 552 || ev.code == 550 || ev.code == 500);
                bodysz = 0;
            } else if (x == SMTPW_EV_QUIT || x == SMTPW_EV_CLOSE) {
                CHECK(smtpw_server_want(s) & SMTPW_WANT_CLOSE);
            }
            memmove(buf, buf + used, have - used);
            have -= used;
            if (smtpw_server_want(s) & SMTPW_WANT_REPLY) {
                if (next(&r) % 64 == 0) {
                    CHECK(smtpw_server_shutdown(s) == 0);
                    CHECK(smtpw_server_reply(s, 0, NULL, 0, NULL, 0) == SMTPW_E_STATE);
                } else {
                    answer(s, &r, x);
                }
            }
            if (x != SMTPW_EV_NONE || used)
                continue;
        }
        /* stuck: drain some output, else feed more */
        p = smtpw_server_output(s, &olen);
        if (olen) {
            size_t n = 1 + next(&r) % olen;
            out_bytes(&oc, p, n);
            smtpw_server_output_ack(s, n);
            continue;
        }
        if (closed || off >= size)
            break;
        {
            size_t n = 1 + next(&r) % 600;
            if (n > size - off)
                n = size - off;
            if (n > sizeof buf - have)
                n = sizeof buf - have;
            CHECK(n > 0); /* the core must never hold more than a line's worth */
            memcpy(buf + have, data + off, n);
            have += n;
            off += n;
        }
    }
    p = smtpw_server_output(s, &olen);
    out_bytes(&oc, p, olen);
    CHECK(oc.cr == 0 && oc.linelen == 0); /* ends on a line end */
    return 0;
}
