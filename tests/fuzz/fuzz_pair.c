/*
 * libFuzzer "pair" target (DESIGN.md 8): the client core talks to the
 * server core in memory, and both must agree.
 *
 * The input chooses, in this order: config flags of both sides, chunk
 * sizes (client->server, server->client, output drains, body encode input
 * and output), then 1-2 messages, each an envelope (a sender, possibly the
 * null one, and 1-5 recipients with odd but valid local parts, quoted
 * forms, address literals, UTF-8, "Postmaster"), a declared SIZE and a
 * body of arbitrary bytes.  The bytes left over answer the server's
 * decisions as they come (250/354, a refusal, sometimes 421, sometimes
 * with text of the fuzzer's own); once they run out every answer is
 * positive.
 *
 * Asserted:
 *  - the server sees each MAIL/RCPT path with the mailbox the client was
 *    given (unquoted local part "@" domain, byte for byte);
 *  - each delivered body is what the client was given after the documented
 *    normalisation (bare CR and bare LF become CRLF, a final CRLF is added
 *    when missing), 8-bit only when BODY=8BITMIME went out;
 *  - the replies the client matched to its commands (command, code, RCPT
 *    index) are exactly the answers the server gave, in order;
 *  - neither side fails: every call returns 0 or an expected code
 *    (E_AGAIN while waiting, E_8BIT/E_SIZE only when the server's
 *    capabilities say so), the server refuses nothing on its own beyond
 *    what the refusals chosen above imply, and the two never deadlock.
 * Inputs whose addresses smtpw_path_render() refuses are skipped.
 * SPDX-License-Identifier: MIT
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "smtpwire/smtpwire.h"

#ifdef PAIR_DEBUG /* cc -DPAIR_DEBUG ... with a main(): print the session */
#include <stdio.h>
#endif

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#ifdef PAIR_DEBUG
#define CHECK(x)                                                                              \
    do {                                                                                      \
        if (!(x)) {                                                                           \
            fprintf(stderr, "line %d: %s\n", __LINE__, #x);                                   \
            abort();                                                                          \
        }                                                                                     \
    } while (0)
#else
#define CHECK(x)                                                                              \
    do {                                                                                      \
        if (!(x))                                                                             \
            abort();                                                                          \
    } while (0)
#endif

#define MAXMSG 2
#define MAXRCPT 5
#define MAXBODY 2048
#define WIRE (1u << 16)
#define MAXLOG 64

/* ---- input reader: exhausted input reads as zeros ---- */

struct rd {
    const uint8_t *p;
    size_t n;
};

static unsigned u8(struct rd *r)
{
    if (r->n == 0)
        return 0;
    r->n--;
    return *r->p++;
}

/* ---- the session plan ---- */

struct addr {
    char s[320];
    size_t len;
    int utf8;
};

struct msg {
    struct addr from;
    struct addr to[MAXRCPT];
    unsigned nrcpt;
    uint64_t size;
    uint8_t body[MAXBODY];
    size_t bodylen;
    uint8_t expect[2 * MAXBODY + 2]; /* normalised body */
    size_t expectlen;
    int has8;
};

struct logent {
    int cmd;
    unsigned code;
    unsigned index;
};

struct pair {
    /* plan */
    struct msg m[MAXMSG];
    unsigned nmsg;
    smtpw_server_config scfg;
    smtpw_client_config ccfg;
    int ehlo_refused, starttls, esmtp, pipelining, ext8, extutf8;
    size_t c2s_chunk, s2c_chunk, cdrain, sdrain, enc_in, enc_out;
    struct rd answers;

    /* wires */
    uint8_t c2s[WIRE], s2c[WIRE];
    size_t c2s_len, c2s_avail, c2s_off;
    size_t s2c_len, s2c_avail, s2c_off;

    /* server side view */
    struct logent slog[MAXLOG];
    unsigned nslog;
    int s_msg;            /* index of the current MAIL, -1 before */
    unsigned s_rcpt;      /* RCPT commands seen in this message */
    unsigned s_accepted;  /* accepted in this message */
    unsigned s_total_acc; /* accepted since the last MAIL was accepted */
    int s_mail_ok;        /* the current MAIL was accepted */
    int s_in_data;
    uint8_t s_body[2 * MAXBODY + 2];
    size_t s_bodylen;
    int s_closed, s_first_ehlo_done, s_tls;
    unsigned s_acc_at_data[MAXMSG];

    /* client side view */
    struct logent clog[MAXLOG];
    unsigned nclog;
    int phase;
    unsigned cm;    /* current message */
    unsigned crcpt; /* RCPT commands queued in this message */
    unsigned c_rcpt_replies;
    int hello_code, tls_code, data_code, mail_code;
    int c_closed, tls_done, saw421;
    int c_msg_of_reply; /* message the next MAIL/RCPT/DATA reply belongs to */
};

enum {
    P_EHLO,
    P_WAIT_HELLO,
    P_HELO,
    P_STARTTLS,
    P_WAIT_TLS,
    P_MAIL,
    P_RCPT,
    P_DATA,
    P_WAIT_DATA,
    P_BODY,
    P_RSET,
    P_NEXT,
    P_QUIT,
    P_END
};

/* ---- building the plan ---- */

static const char *const domains[] = {
    "example.org",        "EXAMPLE.Net",   "a-b.c0.example",          "x",
    "[192.0.2.1]",        "[IPv6:2001:db8::1]", "[IPv6:::ffff:192.0.2.1]", "[x-tag:a@b]",
    ("b\xc3\xbc" "cher.example"), "xn--bcher-kva.example", "[IPv6:::]", "mx.example",
};

static const char atext[] = "abcXYZ019!#$%&'*+-/=?^_`{|}~";
static const char *const utf8_bits[] = {"\xc3\xa9", "\xc3\xbc", "\xe6\x97\xa5", "\xf0\x9f\x93\xa7",
                                        "a", ".", " ", "\""};

static void gen_addr(struct rd *r, struct addr *a, int rcpt)
{
    unsigned k = u8(r), n, i;
    size_t len = 0;
    char *s = a->s;
    const char *d;

    a->len = 0;
    a->utf8 = 0;
    if ((k & 15) == 15) {
        if (rcpt) {
            static const char *const pm[] = {"Postmaster", "postmaster", "POSTMASTER", "pOsTmAsTeR"};
            d = pm[(k >> 4) & 3];
            memcpy(s, d, 10);
            a->len = 10;
        }
        return; /* the null reverse-path */
    }
    switch ((k >> 4) & 3) {
    case 0: /* a Dot-string */
        n = 1 + u8(r) % 12;
        for (i = 0; i < n; i++) {
            unsigned c = u8(r);
            if (i && i + 1 < n && s[len - 1] != '.' && c % 7 == 0)
                s[len++] = '.';
            else
                s[len++] = atext[c % (sizeof atext - 1)];
        }
        break;
    case 1: /* any printable ASCII: quoting needed when not a Dot-string */
        n = u8(r) % 20;
        for (i = 0; i < n; i++)
            s[len++] = (char)(32 + u8(r) % 95);
        break;
    case 2: /* UTF-8 (RFC 6531) mixed with specials */
        n = 1 + u8(r) % 8;
        for (i = 0; i < n; i++) {
            const char *b = utf8_bits[u8(r) % 8];
            size_t bl = strlen(b);
            memcpy(s + len, b, bl);
            len += bl;
        }
        break;
    default: /* near the 64-octet limit (4.5.3.1.1) */
        n = 58 + u8(r) % 10;
        for (i = 0; i < n; i++)
            s[len++] = (char)(i % 5 == 4 ? '.' : 'a' + (int)(i % 26));
        if (k & 0x80)
            s[len++] = '"';
        break;
    }
    s[len++] = '@';
    d = domains[(k >> 6 | (u8(r) & 3u) << 2) % (sizeof domains / sizeof domains[0])];
    memcpy(s + len, d, strlen(d));
    len += strlen(d);
    a->len = len;
    for (i = 0; i < len; i++)
        if ((unsigned char)s[i] >= 0x80)
            a->utf8 = 1;
}

/* The documented normalisation (client.h body_encode, body_end). */
static void normalise(struct msg *m)
{
    size_t i, w = 0;
    for (i = 0; i < m->bodylen; i++) {
        uint8_t c = m->body[i];
        if (c == '\r' || c == '\n') {
            m->expect[w++] = '\r';
            m->expect[w++] = '\n';
            if (c == '\r' && i + 1 < m->bodylen && m->body[i + 1] == '\n')
                i++;
        } else {
            m->expect[w++] = c;
        }
    }
    if (w && !(w >= 2 && m->expect[w - 2] == '\r' && m->expect[w - 1] == '\n')) {
        m->expect[w++] = '\r';
        m->expect[w++] = '\n';
    }
    m->expectlen = w;
}

/* Returns 0 to go on, -1 to skip the input. */
static int plan(struct pair *P, const uint8_t *data, size_t size)
{
    static const uint32_t rcpt_limits[] = {0, 1, 2, 3, 100, 100, 4, 100};
    struct rd r;
    unsigned b0, b1, b2, i, j;
    size_t k;

    r.p = data;
    r.n = size;
    b0 = u8(&r);
    b1 = u8(&r);
    b2 = u8(&r);

    smtpw_server_config_init(&P->scfg, SMTPW_SERVER_CONFIG_VERSION);
    P->scfg.hostname = "mx.example";
    P->scfg.hostname_len = 10;
    P->scfg.flags = b0 & (SMTPW_SERVER_NO_PIPELINING | SMTPW_SERVER_NO_8BITMIME |
                          SMTPW_SERVER_NO_ENHANCED | SMTPW_SERVER_STARTTLS |
                          SMTPW_SERVER_SMTPUTF8 | SMTPW_SERVER_LENIENT);
    P->ehlo_refused = (b0 & 0x80) != 0;
    P->scfg.bare_body = (b1 & 3) % 3;
    P->scfg.bare_command = ((b1 >> 2) & 3) % 3;
    P->scfg.max_recipients = rcpt_limits[(b1 >> 5) & 7];
    P->scfg.max_errors = 0; /* refusals implied by the script count as errors */
    switch (b2 & 3) {
    case 0: P->scfg.max_message_size = 0; break;
    case 1: P->scfg.max_message_size = 10485760u; break;
    case 2: P->scfg.max_message_size = 32u + (b2 >> 2); break;
    default: P->scfg.max_message_size = 200u + 4u * (b2 >> 2); break;
    }
    smtpw_client_config_init(&P->ccfg, SMTPW_CLIENT_CONFIG_VERSION);
    if (b1 & 0x10)
        P->ccfg.flags |= SMTPW_CLIENT_SMTPUTF8;
    if (b0 & 0x40 && b1 & 0x80)
        P->ccfg.flags |= SMTPW_CLIENT_NO_PIPELINING;

    P->esmtp = !P->ehlo_refused;
    P->starttls = P->esmtp && (P->scfg.flags & SMTPW_SERVER_STARTTLS);
    P->pipelining = P->esmtp && !(P->scfg.flags & SMTPW_SERVER_NO_PIPELINING) &&
                    !(P->ccfg.flags & SMTPW_CLIENT_NO_PIPELINING);
    P->ext8 = P->esmtp && !(P->scfg.flags & SMTPW_SERVER_NO_8BITMIME);
    P->extutf8 = P->esmtp && (P->scfg.flags & SMTPW_SERVER_SMTPUTF8);

    /* chunk sizes: 0 in the input means "all at once" */
    {
        unsigned c = u8(&r), d = u8(&r), e = u8(&r);
        P->c2s_chunk = c ? c : WIRE;
        P->s2c_chunk = d ? d : WIRE;
        P->cdrain = (e & 15) ? (e & 15) : WIRE;
        P->sdrain = (e >> 4) ? (e >> 4) : WIRE;
        c = u8(&r);
        P->enc_in = c ? c : MAXBODY;
        P->enc_out = 2u + u8(&r); /* body_encode needs 2 */
    }

    P->nmsg = 1u + (u8(&r) & 1u);
    for (i = 0; i < P->nmsg; i++) {
        struct msg *m = &P->m[i];
        int utf8 = 0;
        unsigned sz;
        gen_addr(&r, &m->from, 0);
        m->nrcpt = 1u + u8(&r) % MAXRCPT;
        for (j = 0; j < m->nrcpt; j++)
            gen_addr(&r, &m->to[j], 1);
        sz = u8(&r);
        m->bodylen = u8(&r);
        m->bodylen |= (size_t)(u8(&r) & 7u) << 8;
        if (m->bodylen > r.n)
            m->bodylen = r.n;
        memcpy(m->body, r.p, m->bodylen);
        r.p += m->bodylen;
        r.n -= m->bodylen;
        m->has8 = 0;
        for (k = 0; k < m->bodylen; k++)
            if (m->body[k] >= 0x80)
                m->has8 = 1;
        if (m->has8 && !P->ext8) { /* 8-bit only with BODY=8BITMIME (RFC 6152) */
            for (k = 0; k < m->bodylen; k++)
                m->body[k] &= 0x7f;
        }
        normalise(m);
        switch (sz & 3) {
        case 0: m->size = 0; break;
        case 1: m->size = m->expectlen; break;
        case 2: m->size = 1u + (sz >> 2) * 7u; break;
        default: m->size = (uint64_t)1 << 40; break;
        }
        /* SMTPUTF8 in this transaction: declared for UTF-8 addresses, or
         * always with SMTPW_CLIENT_SMTPUTF8; only when offered. */
        utf8 = m->from.utf8;
        for (j = 0; j < m->nrcpt; j++)
            utf8 |= m->to[j].utf8;
        if (utf8 && !P->extutf8)
            return -1;
        /* the client renders with smtpw_path_render: skip what it refuses */
        {
            char out[SMTPW_MAX_PATH];
            size_t n;
            unsigned opt = (P->extutf8 && (utf8 || (P->ccfg.flags & SMTPW_CLIENT_SMTPUTF8)))
                               ? SMTPW_PARSE_UTF8
                               : 0u;
#ifdef PAIR_DEBUG
            fprintf(stderr, "from %.*s opt %u\n", (int)m->from.len, m->from.s, opt);
            for (j = 0; j < m->nrcpt; j++)
                fprintf(stderr, "to %.*s\n", (int)m->to[j].len, m->to[j].s);
#endif
            if (smtpw_path_render(m->from.s, m->from.len, opt, out, sizeof out, &n) != 0)
                return -1;
            for (j = 0; j < m->nrcpt; j++)
                if (smtpw_path_render(m->to[j].s, m->to[j].len, opt, out, sizeof out, &n) != 0)
                    return -1;
        }
    }
    P->answers = r;
    return 0;
}

static int msg_utf8(const struct pair *P, const struct msg *m)
{
    unsigned j;
    int u = m->from.utf8;
    for (j = 0; j < m->nrcpt; j++)
        u |= m->to[j].utf8;
    (void)P;
    return u;
}

/* ---- server side ---- */

static void slog_add(struct pair *P, int cmd, unsigned code)
{
    CHECK(P->nslog < MAXLOG);
    P->slog[P->nslog].cmd = cmd;
    P->slog[P->nslog].code = code;
    P->slog[P->nslog].index = 0;
    P->nslog++;
}

/* The application's answer to a decision event, from the input. */
static unsigned pick(struct pair *P, int ev)
{
    static const unsigned mail_no[] = {450, 451, 452, 550, 552, 553, 554, 421};
    static const unsigned rcpt_no[] = {450, 451, 452, 550, 551, 552, 553, 421, 251};
    static const unsigned data_no[] = {451, 554, 503, 421};
    static const unsigned end_no[] = {450, 451, 452, 552, 554, 421};
    unsigned b = u8(&P->answers);
    if (b < 160)
        return 0; /* the default positive answer */
    b -= 160;
    switch (ev) {
    case SMTPW_EV_MAIL: return mail_no[b % 8];
    case SMTPW_EV_RCPT: return rcpt_no[b % 9];
    case SMTPW_EV_DATA: return data_no[b % 4];
    default: return end_no[b % 6];
    }
}

static void answer(struct pair *P, smtpw_server *s, int ev, unsigned code)
{
    char text[8];
    size_t tl = 0;
    unsigned t = code ? u8(&P->answers) : 0;
    int r;
    /* sometimes text of the fuzzer's own: the client must take any text
     * the server lets through */
    if (t >= 224) {
        tl = 1u + (t & 7u);
        for (t = 0; t < tl; t++)
            text[t] = (char)u8(&P->answers);
    }
    /* Raw bytes: the server must refuse any text a client would reject
     * (RFC 5321 4.2), so a refusal here falls back to the default text. */
    r = smtpw_server_reply(s, code, NULL, 0, tl ? text : NULL, tl);
    if (r == SMTPW_E_INVALID_ARG && tl)
        r = smtpw_server_reply(s, code, NULL, 0, NULL, 0);
    CHECK(r == 0);
    (void)ev;
}

/* Unquoted local part "@" domain of a parsed path equals what the client got. */
static void check_path(const smtpw_path *p, const struct addr *a)
{
    char buf[2 * SMTPW_MAX_PATH];
    size_t n = 0;
    if (a->len == 0) {
        CHECK(p->flags & SMTPW_PATH_NULL);
        return;
    }
    CHECK(!(p->flags & (SMTPW_PATH_NULL | SMTPW_PATH_ROUTE | SMTPW_PATH_NO_BRACKETS)));
    CHECK(smtpw_path_local_unquote(p, buf, sizeof buf, &n) == 0);
    if (p->flags & SMTPW_PATH_POSTMASTER) {
        CHECK(p->domain.len == 0);
    } else {
        buf[n++] = '@';
        memcpy(buf + n, p->domain.ptr, p->domain.len);
        n += p->domain.len;
    }
    CHECK(n == a->len && memcmp(buf, a->s, n) == 0);
}

static void server_event(struct pair *P, smtpw_server *s, const smtpw_event *ev, int r)
{
    unsigned code;
    const struct msg *m = P->s_msg >= 0 ? &P->m[P->s_msg] : NULL;
    switch (r) {
    case SMTPW_EV_NONE:
        break;
    case SMTPW_EV_HELO:
        code = 0;
        if (ev->cmd == SMTPW_CMD_EHLO && P->ehlo_refused && !P->s_first_ehlo_done)
            code = 502;
        P->s_first_ehlo_done = 1;
        answer(P, s, r, code);
        slog_add(P, ev->cmd, code ? code : 250);
        break;
    case SMTPW_EV_MAIL:
        CHECK(P->s_msg + 1 < (int)P->nmsg);
        P->s_msg++;
        m = &P->m[P->s_msg];
        P->s_rcpt = 0;
        P->s_accepted = 0;
        check_path(&ev->path, &m->from);
        CHECK(!!(ev->flags & SMTPW_EVF_8BITMIME) == (m->has8 && P->ext8));
        CHECK(!!(ev->flags & SMTPW_EVF_SMTPUTF8) ==
              (P->extutf8 && (msg_utf8(P, m) || (P->ccfg.flags & SMTPW_CLIENT_SMTPUTF8))));
        code = pick(P, r);
        answer(P, s, r, code);
        P->s_mail_ok = code == 0;
        slog_add(P, SMTPW_CMD_MAIL, code ? code : 250);
        break;
    case SMTPW_EV_RCPT:
        CHECK(m != NULL && P->s_mail_ok && P->s_rcpt < m->nrcpt);
        check_path(&ev->path, &m->to[P->s_rcpt]);
        code = pick(P, r);
        answer(P, s, r, code);
        if (code == 0 || code == 251)
            P->s_accepted++;
        slog_add(P, SMTPW_CMD_RCPT, code ? code : 250);
        P->slog[P->nslog - 1].index = P->s_rcpt;
        P->s_rcpt++;
        break;
    case SMTPW_EV_DATA:
        CHECK(m != NULL && P->s_mail_ok && P->s_accepted > 0);
        P->s_acc_at_data[P->s_msg] = P->s_accepted;
        code = pick(P, r);
        answer(P, s, r, code);
        slog_add(P, SMTPW_CMD_DATA, code ? code : 354);
        P->s_in_data = code == 0;
        P->s_bodylen = 0;
        break;
    case SMTPW_EV_BODY:
        CHECK(P->s_in_data && m != NULL);
        CHECK(P->s_bodylen + ev->arg.len <= m->expectlen);
        memcpy(P->s_body + P->s_bodylen, ev->arg.ptr, ev->arg.len);
        P->s_bodylen += ev->arg.len;
        break;
    case SMTPW_EV_DATA_END:
        CHECK(P->s_in_data && m != NULL);
        /* the body as given, normalised; and only when within the limit */
        CHECK(P->s_bodylen == m->expectlen);
        CHECK(m->expectlen == 0 || memcmp(P->s_body, m->expect, m->expectlen) == 0);
        CHECK(ev->size == m->expectlen);
        CHECK(P->scfg.max_message_size == 0 || m->expectlen <= P->scfg.max_message_size);
        code = pick(P, r);
        answer(P, s, r, code);
        slog_add(P, SMTPW_CMD_BODY, code ? code : 250);
        P->s_in_data = 0;
        P->s_mail_ok = 0;
        break;
    case SMTPW_EV_DATA_ABORT:
        /* only the size limit can refuse a well-formed message */
        CHECK(P->s_in_data && m != NULL && ev->code == 552);
        CHECK(P->scfg.max_message_size && m->expectlen > P->scfg.max_message_size);
        slog_add(P, SMTPW_CMD_BODY, 552);
        P->s_in_data = 0;
        P->s_mail_ok = 0;
        break;
    case SMTPW_EV_RSET:
        slog_add(P, SMTPW_CMD_RSET, 250);
        P->s_mail_ok = 0;
        break;
    case SMTPW_EV_QUIT:
        slog_add(P, SMTPW_CMD_QUIT, 221);
        break;
    case SMTPW_EV_STARTTLS:
        CHECK(P->starttls && !P->s_tls);
        slog_add(P, SMTPW_CMD_STARTTLS, 220);
        CHECK(smtpw_server_tls_started(s) == 0);
        P->s_tls = 1;
        break;
    case SMTPW_EV_REJECTED:
        /* the core's own refusals: only those the chosen answers imply */
        if (ev->cmd == SMTPW_CMD_MAIL) {
            abort();
        } else if (ev->cmd == SMTPW_CMD_RCPT) {
            CHECK(m != NULL && P->s_rcpt < m->nrcpt);
            if (ev->code == 503)
                CHECK(!P->s_mail_ok);
            else
                CHECK(ev->code == 452 && P->s_mail_ok && P->scfg.max_recipients &&
                      P->s_accepted >= P->scfg.max_recipients);
            slog_add(P, SMTPW_CMD_RCPT, ev->code);
            P->slog[P->nslog - 1].index = P->s_rcpt;
            P->s_rcpt++;
        } else if (ev->cmd == SMTPW_CMD_DATA) {
            if (ev->code == 554)
                CHECK(P->s_mail_ok && P->s_accepted == 0);
            else
                CHECK(ev->code == 503 && !P->s_mail_ok);
            slog_add(P, SMTPW_CMD_DATA, ev->code);
        } else {
            abort();
        }
        break;
    default:
        abort(); /* VRFY, EXPN, HELP, CLOSE: never sent, never due */
    }
}

/* Feed the server what has arrived; returns 1 on progress. */
static int server_step(struct pair *P, smtpw_server *s)
{
    int progress = 0;
    for (;;) {
        smtpw_event ev;
        size_t used = 99999, have;
        int r;
        if (P->s_closed)
            return progress;
        have = P->c2s_avail - P->c2s_off;
        r = smtpw_server_recv(s, P->c2s + P->c2s_off, have, &used, &ev, sizeof ev);
        if (r == SMTPW_E_CLOSED) {
            CHECK(used == 0 && (smtpw_server_want(s) & SMTPW_WANT_CLOSE));
            P->s_closed = 1;
            return 1;
        }
        CHECK(r >= 0 && used <= have && (uint32_t)r == ev.type);
        P->c2s_off += used;
        server_event(P, s, &ev, r);
        CHECK(!(smtpw_server_want(s) & SMTPW_WANT_REPLY));
        if (r != SMTPW_EV_NONE || used) {
            progress = 1;
            continue;
        }
        /* stuck: more bytes off the wire, if any */
        if (P->c2s_avail < P->c2s_len &&
            (smtpw_server_want(s) & (SMTPW_WANT_READ | SMTPW_WANT_TLS))) {
            P->c2s_avail += P->c2s_chunk < P->c2s_len - P->c2s_avail
                                ? P->c2s_chunk
                                : P->c2s_len - P->c2s_avail;
            progress = 1;
            continue;
        }
        return progress;
    }
}

static int server_drain(struct pair *P, smtpw_server *s)
{
    size_t n;
    const uint8_t *o = smtpw_server_output(s, &n);
    if (n == 0)
        return 0;
    if (n > P->sdrain)
        n = P->sdrain;
    CHECK(P->s2c_len + n <= WIRE);
    memcpy(P->s2c + P->s2c_len, o, n);
    P->s2c_len += n;
    smtpw_server_output_ack(s, n);
    return 1;
}

/* ---- client side ---- */

static void clog_add(struct pair *P, const smtpw_event *ev)
{
    CHECK(P->nclog < MAXLOG);
    P->clog[P->nclog].cmd = (int)ev->cmd;
    P->clog[P->nclog].code = ev->code;
    P->clog[P->nclog].index = ev->index;
    P->nclog++;
}

static void client_reply(struct pair *P, smtpw_client *c, const smtpw_event *ev)
{
    if (ev->cmd == SMTPW_CMD_RCPT)
        CHECK(ev->index == P->c_rcpt_replies);
    else
        CHECK(ev->index == 0);
    if (!(ev->flags & SMTPW_EVF_LAST))
        return;
    if (ev->code == 421)
        P->saw421 = 1;
    switch (ev->cmd) {
    case SMTPW_CMD_GREETING:
        CHECK(ev->code == 220);
        return; /* not a decision */
    case SMTPW_CMD_EHLO:
    case SMTPW_CMD_HELO:
        P->hello_code = (int)ev->code;
        break;
    case SMTPW_CMD_STARTTLS:
        P->tls_code = (int)ev->code;
        break;
    case SMTPW_CMD_MAIL:
        P->mail_code = (int)ev->code;
        P->c_rcpt_replies = 0; /* RCPT replies of this MAIL follow */
        break;
    case SMTPW_CMD_RCPT:
        P->c_rcpt_replies++;
        break;
    case SMTPW_CMD_DATA:
        P->data_code = (int)ev->code;
        break;
    default:
        break;
    }
    clog_add(P, ev);
    if (ev->cmd == SMTPW_CMD_DATA && ev->code == 354) {
        int sm = P->s_msg;
        CHECK(sm >= 0 && smtpw_client_accepted(c) == P->s_acc_at_data[sm]);
    }
}

static int client_recv(struct pair *P, smtpw_client *c)
{
    int progress = 0;
    for (;;) {
        smtpw_event ev;
        size_t used = 99999, have = P->s2c_avail - P->s2c_off;
        int r = smtpw_client_recv(c, P->s2c + P->s2c_off, have, &used, &ev, sizeof ev);
        if (r == SMTPW_E_CLOSED) {
            CHECK(used == 0 && (smtpw_client_want(c) & SMTPW_WANT_CLOSE));
            P->c_closed = 1;
            return progress;
        }
        CHECK(r == SMTPW_EV_NONE || r == SMTPW_EV_REPLY);
        CHECK(used <= have);
        if (r == SMTPW_EV_REPLY) {
            CHECK(used >= 5 && ev.line.ptr == (const char *)P->s2c + P->s2c_off);
            P->s2c_off += used;
            client_reply(P, c, &ev);
            progress = 1;
            continue;
        }
        CHECK(used == 0);
        if (P->s2c_avail < P->s2c_len) {
            P->s2c_avail += P->s2c_chunk < P->s2c_len - P->s2c_avail
                                ? P->s2c_chunk
                                : P->s2c_len - P->s2c_avail;
            progress = 1;
            continue;
        }
        return progress;
    }
}

static int client_drain(struct pair *P, smtpw_client *c)
{
    size_t n;
    const uint8_t *o = smtpw_client_output(c, &n);
    if (n == 0)
        return 0;
    if (n > P->cdrain)
        n = P->cdrain;
    CHECK(P->c2s_len + n <= WIRE);
    memcpy(P->c2s + P->c2s_len, o, n);
    P->c2s_len += n;
    smtpw_client_output_ack(c, n);
    return 1;
}

/* The body after 354: encoded in pieces straight onto the wire. */
static void send_body(struct pair *P, smtpw_client *c, const struct msg *m)
{
    uint8_t out[260];
    size_t off = 0, used, wrote;
    /* command bytes queued before the 354 go first (there are none: DATA
     * ends a group) */
    CHECK(smtpw_client_output(c, &used) != NULL && used == 0);
    while (off < m->bodylen) {
        size_t in = m->bodylen - off < P->enc_in ? m->bodylen - off : P->enc_in;
        int r = smtpw_client_body_encode(c, m->body + off, in, &used, out, P->enc_out, &wrote);
        CHECK(r == 0);
        CHECK(used <= in && wrote <= P->enc_out && (used || wrote));
        CHECK(P->c2s_len + wrote <= WIRE);
        memcpy(P->c2s + P->c2s_len, out, wrote);
        P->c2s_len += wrote;
        off += used;
    }
    CHECK(smtpw_client_body_end(c, out, sizeof out, &wrote) == 0);
    CHECK(wrote >= 3 && wrote <= 5);
    memcpy(P->c2s + P->c2s_len, out, wrote);
    P->c2s_len += wrote;
}

/* Only these results are expected from a command call. */
static int cmd_rc(const struct pair *P, int r)
{
    if (r == SMTPW_E_CLOSED)
        CHECK(P->saw421);
    else
        CHECK(r == 0 || r == SMTPW_E_AGAIN);
    return r;
}

/* One step of the client's script; returns 1 when it moved. */
static int script(struct pair *P, smtpw_client *c)
{
    const struct msg *m = &P->m[P->cm < P->nmsg ? P->cm : 0];
    int r;
    if (P->saw421 && P->phase != P_END) {
        /* 3.8: the server closed; every command now says so */
        CHECK(smtpw_client_noop(c) == SMTPW_E_CLOSED);
        P->phase = P_END;
        return 1;
    }
    switch (P->phase) {
    case P_EHLO:
        r = cmd_rc(P, smtpw_client_ehlo(c, "client.example", 14));
        if (r)
            return 0;
        P->hello_code = 0;
        P->phase = P_WAIT_HELLO;
        return 1;
    case P_HELO:
        r = cmd_rc(P, smtpw_client_helo(c, "[192.0.2.7]", 11));
        if (r)
            return 0;
        P->hello_code = 0;
        P->phase = P_WAIT_HELLO;
        return 1;
    case P_WAIT_HELLO:
        if (P->hello_code == 0)
            return 0;
        if (P->hello_code == 502) {
            CHECK(P->ehlo_refused);
            P->phase = P_HELO;
        } else {
            CHECK(P->hello_code == 250);
            P->phase = (P->starttls && !P->tls_done) ? P_STARTTLS : P_MAIL;
            /* the capabilities the plan was made for */
            if (P->phase == P_MAIL) {
                uint32_t x = smtpw_client_extensions(c);
                CHECK(!!(x & SMTPW_EXT_8BITMIME) == P->ext8);
                CHECK(!!(x & SMTPW_EXT_SMTPUTF8) == P->extutf8);
                CHECK(!!(x & SMTPW_EXT_PIPELINING) ==
                      (P->esmtp && !(P->scfg.flags & SMTPW_SERVER_NO_PIPELINING)));
                if (P->tls_done) /* RFC 3207 4.2: not offered again */
                    CHECK(!(x & SMTPW_EXT_STARTTLS));
                CHECK(smtpw_client_size_limit(c) == (P->esmtp ? P->scfg.max_message_size : 0));
            }
        }
        return 1;
    case P_STARTTLS:
        r = cmd_rc(P, smtpw_client_starttls(c));
        if (r)
            return 0;
        P->tls_code = 0;
        P->phase = P_WAIT_TLS;
        return 1;
    case P_WAIT_TLS:
        if (P->tls_code == 0)
            return 0;
        CHECK(P->tls_code == 220 && (smtpw_client_want(c) & SMTPW_WANT_TLS));
        if (!P->s_tls)
            return 0; /* the server's side of the handshake first */
        CHECK(smtpw_client_tls_started(c) == 0);
        P->tls_done = 1;
        P->phase = P_EHLO;
        return 1;
    case P_MAIL: {
        unsigned flags = (m->has8 ? SMTPW_MAIL_8BIT : 0u) |
                         (msg_utf8(P, m) ? SMTPW_MAIL_SMTPUTF8 : 0u);
        uint64_t size = m->size;
        if (m->has8 && !P->ext8) { /* RFC 6152 3: refused locally, nothing sent */
            r = smtpw_client_mail(c, m->from.s, m->from.len, size, flags, NULL, 0);
            if (r == SMTPW_E_AGAIN)
                return 0;
            CHECK(r == SMTPW_E_8BIT);
            flags &= ~SMTPW_MAIL_8BIT; /* the plan masked the body to 7 bits */
        }
        if (P->esmtp && P->scfg.max_message_size && size > P->scfg.max_message_size) {
            r = smtpw_client_mail(c, m->from.s, m->from.len, size, flags, NULL, 0);
            if (r == SMTPW_E_AGAIN)
                return 0;
            CHECK(r == SMTPW_E_SIZE); /* RFC 1870 6.1: refused locally */
            size = 0;
        }
        if (cmd_rc(P, smtpw_client_mail(c, m->from.s, m->from.len, size, flags, NULL, 0)))
            return 0;
        P->mail_code = 0;
        P->crcpt = 0;
        P->phase = P_RCPT;
        return 1;
    }
    case P_RCPT:
        if (P->crcpt == m->nrcpt) {
            P->phase = P_DATA;
            return 1;
        }
        r = smtpw_client_rcpt(c, m->to[P->crcpt].s, m->to[P->crcpt].len, NULL, 0);
        if (r == SMTPW_E_STATE) { /* MAIL was refused: the transaction is gone */
            CHECK(P->mail_code != 0 && P->mail_code != 250);
            P->phase = P_NEXT;
            return 1;
        }
        if (cmd_rc(P, r))
            return 0;
        P->crcpt++;
        return 1;
    case P_DATA:
        r = smtpw_client_data(c);
        if (r == SMTPW_E_STATE) {
            /* MAIL refused, or every RCPT answered and none accepted */
            CHECK((P->mail_code && P->mail_code != 250) ||
                  (P->c_rcpt_replies == m->nrcpt && smtpw_client_accepted(c) == 0));
            P->phase = P_RSET;
            return 1;
        }
        if (cmd_rc(P, r))
            return 0;
        P->data_code = 0;
        P->phase = P_WAIT_DATA;
        return 1;
    case P_WAIT_DATA:
        if (P->data_code == 0)
            return 0;
        P->phase = P->data_code == 354 ? P_BODY : P_RSET;
        return 1;
    case P_BODY:
        CHECK(smtpw_client_want(c) & SMTPW_WANT_BODY);
        send_body(P, c, m);
        P->phase = P_NEXT;
        return 1;
    case P_RSET:
        if (cmd_rc(P, smtpw_client_rset(c)))
            return 0;
        P->phase = P_NEXT;
        return 1;
    case P_NEXT:
        P->cm++;
        P->phase = P->cm < P->nmsg ? P_MAIL : P_QUIT;
        return 1;
    case P_QUIT:
        if (cmd_rc(P, smtpw_client_quit(c)))
            return 0;
        P->phase = P_END;
        return 1;
    default:
        return 0;
    }
}

static struct pair P_;
static uint64_t smem[SMTPW_SERVER_SIZE_HINT / 8 + 1];
static uint64_t cmem[SMTPW_CLIENT_SIZE_HINT / 8 + 1];

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct pair *P = &P_;
    smtpw_server *s;
    smtpw_client *c;
    unsigned i, idle = 0;

    memset(P, 0, sizeof *P);
    if (plan(P, data, size) != 0) {
#ifdef PAIR_DEBUG
        fprintf(stderr, "skipped: an address render refuses\n");
#endif
        return 0;
    }
    P->s_msg = -1;
    P->phase = P_EHLO;
    CHECK(smtpw_server_init(smem, sizeof smem, &P->scfg, &s) == 0);
    CHECK(smtpw_client_init(cmem, sizeof cmem, &P->ccfg, &c) == 0);

    for (;;) {
        int progress = 0;
        while (script(P, c))
            progress = 1;
        progress |= client_drain(P, c);
        progress |= server_step(P, s);
        progress |= server_drain(P, s);
        progress |= client_recv(P, c);
        if (P->phase == P_END && (P->c_closed || (smtpw_client_want(c) & SMTPW_WANT_CLOSE)) &&
            (smtpw_server_want(s) & SMTPW_WANT_CLOSE) && P->s2c_off == P->s2c_len)
            break;
        if (progress) {
            idle = 0;
            continue;
        }
        /* both sides wait for each other: a deadlock */
        CHECK(++idle < 2);
    }
    /* what the client matched is what the server answered */
    CHECK(P->nclog == P->nslog);
    for (i = 0; i < P->nclog; i++) {
        CHECK(P->clog[i].cmd == P->slog[i].cmd);
        CHECK(P->clog[i].code == P->slog[i].code);
        CHECK(P->clog[i].index == P->slog[i].index);
    }
#ifdef PAIR_DEBUG
    for (i = 0; i < P->nslog; i++)
        fprintf(stderr, "%s %u #%u\n", smtpw_cmd_name(P->slog[i].cmd), P->slog[i].code,
                P->slog[i].index);
    fprintf(stderr, "wire: %zu bytes up, %zu down\n", P->c2s_len, P->s2c_len);
#endif
    if (!P->saw421)
        CHECK(P->nslog && P->slog[P->nslog - 1].cmd == SMTPW_CMD_QUIT);
    return 0;
}
