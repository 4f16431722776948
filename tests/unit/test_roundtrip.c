/* Client core -> server core in memory (h11's symmetric check): random
 * envelopes and bodies, random chunking both ways; the server must see
 * exactly the envelope and the (line-end normalized) body the client was
 * given.  SPDX-License-Identifier: MIT */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "smtpwire/smtpwire.h"

static uint32_t rng = 1;

static uint32_t rnd(uint32_t n) /* xorshift32, 0..n-1 */
{
    rng ^= rng << 13;
    rng ^= rng >> 17;
    rng ^= rng << 5;
    return n ? rng % n : 0;
}

#define MAXR 40
#define MAXBODY 6000

struct env {
    char from[80];
    size_t fromlen;
    char to[MAXR][80];
    size_t tolen[MAXR];
    int refuse[MAXR]; /* the server refuses this recipient */
    size_t nto;
    uint8_t body[MAXBODY];
    size_t bodylen;
};

/* What the server saw. */
struct seen {
    char from[300];
    size_t fromlen;
    char to[MAXR][300];
    size_t tolen[MAXR];
    size_t nto;
    uint8_t body[2 * MAXBODY + 8];
    size_t bodylen;
    int ended; /* DATA_END seen */
    uint32_t messages;
};

static struct {
    uint64_t smem[SMTPW_SERVER_SIZE_HINT / 8 + 1];
    uint64_t cmem[SMTPW_CLIENT_SIZE_HINT / 8 + 1];
    smtpw_server *s;
    smtpw_client *c;
    uint8_t c2s[16384];
    size_t c2slen;
    uint8_t s2c[16384];
    size_t s2clen;
    const struct env *e;
    struct seen seen;
    size_t rcpt_seen; /* RCPT events at the server in this transaction */
    uint32_t accepted_events;
} W;

static void local_and_domain(const char *addr, size_t len, char *out, size_t *outlen,
                             const smtpw_path *p)
{
    size_t n;
    (void)addr;
    (void)len;
    assert_int_equal(smtpw_path_local_unquote(p, out, 200, &n), 0);
    if (p->domain.len) {
        out[n++] = '@';
        memcpy(out + n, p->domain.ptr, p->domain.len);
        n += p->domain.len;
    }
    *outlen = n;
}

static void server_event(const smtpw_event *ev)
{
    struct seen *sn = &W.seen;
    switch (ev->type) {
    case SMTPW_EV_MAIL:
        local_and_domain(ev->arg.ptr, ev->arg.len, sn->from, &sn->fromlen, &ev->path);
        if (ev->path.flags & SMTPW_PATH_NULL)
            sn->fromlen = 0;
        sn->nto = 0;
        sn->bodylen = 0;
        sn->ended = 0;
        W.rcpt_seen = 0;
        assert_int_equal(smtpw_server_reply(W.s, 0, NULL, 0, NULL, 0), 0);
        break;
    case SMTPW_EV_RCPT: {
        size_t k = W.rcpt_seen++;
        assert_true(k < W.e->nto);
        if (W.e->refuse[k]) {
            assert_int_equal(smtpw_server_reply(W.s, 550, NULL, 0, "no such user", 12), 0);
        } else {
            local_and_domain(ev->arg.ptr, ev->arg.len, sn->to[sn->nto], &sn->tolen[sn->nto],
                             &ev->path);
            sn->nto++;
            assert_int_equal(smtpw_server_reply(W.s, 0, NULL, 0, NULL, 0), 0);
        }
        break;
    }
    case SMTPW_EV_BODY:
        assert_true(sn->bodylen + ev->arg.len <= sizeof sn->body);
        memcpy(sn->body + sn->bodylen, ev->arg.ptr, ev->arg.len);
        sn->bodylen += ev->arg.len;
        break;
    case SMTPW_EV_DATA_END:
        sn->ended = 1;
        assert_int_equal(smtpw_server_reply(W.s, 0, NULL, 0, NULL, 0), 0);
        break;
    case SMTPW_EV_REJECTED:
    case SMTPW_EV_DATA_ABORT:
        /* only DATA with no accepted recipient may be refused here */
        assert_int_equal(ev->cmd, SMTPW_CMD_DATA);
        break;
    default:
        if (smtpw_server_want(W.s) & SMTPW_WANT_REPLY)
            assert_int_equal(smtpw_server_reply(W.s, 0, NULL, 0, NULL, 0), 0);
        break;
    }
}

/* Move bytes both ways in random pieces until nothing moves. */
static void pump(void)
{
    int progress = 1;
    while (progress) {
        size_t n, used;
        const uint8_t *p;
        progress = 0;
        p = smtpw_client_output(W.c, &n);
        if (n) {
            size_t k = 1 + rnd((uint32_t)n);
            assert_true(W.c2slen + k <= sizeof W.c2s);
            memcpy(W.c2s + W.c2slen, p, k);
            W.c2slen += k;
            smtpw_client_output_ack(W.c, k);
            progress = 1;
        }
        while (W.c2slen) {
            smtpw_event ev;
            size_t avail = 1 + rnd((uint32_t)W.c2slen);
            int r = smtpw_server_recv(W.s, W.c2s, avail, &used, &ev, sizeof ev);
            if (r == SMTPW_EV_NONE && used == 0 && avail < W.c2slen)
                r = smtpw_server_recv(W.s, W.c2s, W.c2slen, &used, &ev, sizeof ev);
            assert_true(r >= 0 || r == SMTPW_E_CLOSED);
            if (r > 0)
                server_event(&ev); /* before the bytes under its spans move */
            if (used) {
                memmove(W.c2s, W.c2s + used, W.c2slen - used);
                W.c2slen -= used;
                progress = 1;
            }
            if (r <= 0 && used == 0)
                break;
        }
        p = smtpw_server_output(W.s, &n);
        if (n) {
            size_t k = 1 + rnd((uint32_t)n);
            assert_true(W.s2clen + k <= sizeof W.s2c);
            memcpy(W.s2c + W.s2clen, p, k);
            W.s2clen += k;
            smtpw_server_output_ack(W.s, k);
            progress = 1;
        }
        while (W.s2clen) {
            smtpw_event ev;
            int r = smtpw_client_recv(W.c, W.s2c, W.s2clen, &used, &ev, sizeof ev);
            assert_true(r >= 0 || r == SMTPW_E_CLOSED);
            if (r != SMTPW_EV_REPLY)
                break;
            if (ev.cmd == SMTPW_CMD_RCPT && (ev.flags & SMTPW_EVF_LAST)) {
                assert_int_equal(ev.code, W.e->refuse[ev.index] ? 550 : 250);
                if (ev.code == 250)
                    W.accepted_events++;
            }
            memmove(W.s2c, W.s2c + used, W.s2clen - used);
            W.s2clen -= used;
            progress = 1;
        }
    }
}

static void rand_addr(char *out, size_t *len)
{
    static const char local_chars[] = "abcxyz019.-_+ \"\\!#";
    size_t n = 1 + rnd(20), i, w = 0;
    for (i = 0; i < n; i++)
        out[w++] = local_chars[rnd(sizeof local_chars - 1)];
    memcpy(out + w, "@", 1);
    w++;
    if (rnd(8) == 0) {
        memcpy(out + w, "[192.0.2.", 9);
        w += 9;
        out[w++] = (char)('1' + rnd(9));
        out[w++] = ']';
    } else {
        memcpy(out + w, "host", 4);
        w += 4;
        out[w++] = (char)('a' + rnd(26));
        memcpy(out + w, ".example", 8);
        w += 8;
    }
    *len = w;
}

/* The body as the server must deliver it: CRLF line ends, final CRLF. */
static size_t normalized(const uint8_t *in, size_t n, uint8_t *out)
{
    size_t i, w = 0;
    for (i = 0; i < n; i++) {
        if (in[i] == '\r' || in[i] == '\n') {
            out[w++] = '\r';
            out[w++] = '\n';
            if (in[i] == '\r' && i + 1 < n && in[i + 1] == '\n')
                i++;
        } else
            out[w++] = in[i];
    }
    if (w && !(w >= 2 && out[w - 2] == '\r' && out[w - 1] == '\n')) {
        out[w++] = '\r';
        out[w++] = '\n';
    }
    return w;
}

static int retry(int r)
{
    return r == SMTPW_E_AGAIN;
}

static void one_message(struct env *e)
{
    size_t i, off;
    uint8_t want[2 * MAXBODY + 8];
    size_t wantlen, naccept = 0;
    int r;

    rand_addr(e->from, &e->fromlen);
    if (rnd(10) == 0)
        e->fromlen = 0; /* null reverse-path */
    e->nto = 1 + rnd(rnd(4) == 0 ? MAXR : 4);
    for (i = 0; i < e->nto; i++) {
        rand_addr(e->to[i], &e->tolen[i]);
        e->refuse[i] = rnd(5) == 0;
        naccept += !e->refuse[i];
    }
    e->bodylen = rnd(MAXBODY);
    for (i = 0; i < e->bodylen; i++) {
        static const char alpha[] = "..\r\n\r\nabcdefgh ij.\t";
        e->body[i] = rnd(3) ? (uint8_t)('a' + rnd(26)) : (uint8_t)alpha[rnd(sizeof alpha - 1)];
    }
    W.e = e;
    W.accepted_events = 0;

    while (retry(r = smtpw_client_mail(W.c, e->from, e->fromlen, e->bodylen, 0, NULL, 0)))
        pump();
    assert_int_equal(r, 0);
    for (i = 0; i < e->nto; i++) {
        while (retry(r = smtpw_client_rcpt(W.c, e->to[i], e->tolen[i], NULL, 0)))
            pump();
        assert_int_equal(r, 0);
    }
    while (retry(r = smtpw_client_data(W.c)))
        pump();
    if (r == SMTPW_E_STATE) { /* every recipient refused: no DATA */
        assert_int_equal(naccept, 0);
        assert_int_equal(smtpw_client_rset(W.c), 0);
        pump();
        return;
    }
    assert_int_equal(r, 0);
    pump();
    if (!(smtpw_client_want(W.c) & SMTPW_WANT_BODY)) {
        assert_int_equal(naccept, 0); /* the server refused DATA */
        assert_int_equal(smtpw_client_rset(W.c), 0);
        pump();
        return;
    }
    assert_int_equal(smtpw_client_accepted(W.c), naccept);
    assert_int_equal(W.accepted_events, naccept);
    /* the body in random chunks and random output sizes */
    off = 0;
    while (off < e->bodylen) {
        uint8_t out[700];
        size_t used, wrote, len = 1 + rnd((uint32_t)(e->bodylen - off));
        size_t cap = 2 + rnd(sizeof out - 2);
        assert_int_equal(smtpw_client_body_encode(W.c, e->body + off, len, &used, out, cap,
                                                  &wrote),
                         0);
        assert_true(W.c2slen + wrote <= sizeof W.c2s);
        memcpy(W.c2s + W.c2slen, out, wrote);
        W.c2slen += wrote;
        off += used;
        if (W.c2slen > 8000 || rnd(4) == 0)
            pump();
    }
    {
        uint8_t out[5];
        size_t wrote;
        assert_int_equal(smtpw_client_body_end(W.c, out, sizeof out, &wrote), 0);
        memcpy(W.c2s + W.c2slen, out, wrote);
        W.c2slen += wrote;
    }
    pump();
    assert_int_equal(smtpw_client_pending(W.c), 0);
    /* what the server saw */
    assert_true(W.seen.ended);
    assert_int_equal(W.seen.fromlen, e->fromlen);
    assert_memory_equal(W.seen.from, e->from, e->fromlen);
    assert_int_equal(W.seen.nto, naccept);
    {
        size_t k = 0;
        for (i = 0; i < e->nto; i++) {
            if (e->refuse[i])
                continue;
            assert_int_equal(W.seen.tolen[k], e->tolen[i]);
            assert_memory_equal(W.seen.to[k], e->to[i], e->tolen[i]);
            k++;
        }
    }
    wantlen = normalized(e->body, e->bodylen, want);
    assert_int_equal(W.seen.bodylen, wantlen);
    assert_memory_equal(W.seen.body, want, wantlen);
    W.seen.messages++;
}

static void roundtrip_random_sessions(void **state)
{
    static struct env e;
    int iter;
    uint32_t delivered = 0;
    (void)state;
    rng = 0x2545F491u;
    for (iter = 0; iter < 300; iter++) {
        smtpw_server_config scfg;
        smtpw_client_config ccfg;
        int k, nmsg, r;
        smtpw_server_config_init(&scfg, SMTPW_SERVER_CONFIG_VERSION);
        scfg.hostname = "mx.example";
        scfg.hostname_len = 10;
        if (rnd(3) == 0)
            scfg.flags |= SMTPW_SERVER_NO_PIPELINING;
        smtpw_client_config_init(&ccfg, SMTPW_CLIENT_CONFIG_VERSION);
        if (rnd(4) == 0)
            ccfg.flags |= SMTPW_CLIENT_NO_PIPELINING;
        assert_int_equal(smtpw_server_init(W.smem, sizeof W.smem, &scfg, &W.s), 0);
        assert_int_equal(smtpw_client_init(W.cmem, sizeof W.cmem, &ccfg, &W.c), 0);
        W.c2slen = W.s2clen = 0;
        memset(&W.seen, 0, sizeof W.seen);
        pump();
        assert_int_equal(smtpw_client_pending(W.c), 0);
        assert_int_equal(smtpw_client_ehlo(W.c, "client.example", 14), 0);
        pump();
        assert_true(smtpw_client_extensions(W.c) & SMTPW_EXT_8BITMIME);
        assert_int_equal(!!(smtpw_client_extensions(W.c) & SMTPW_EXT_PIPELINING),
                         !(scfg.flags & SMTPW_SERVER_NO_PIPELINING));
        nmsg = 1 + (int)rnd(3);
        for (k = 0; k < nmsg; k++)
            one_message(&e);
        while (retry(r = smtpw_client_quit(W.c)))
            pump();
        assert_int_equal(r, 0);
        pump();
        assert_int_equal(smtpw_client_want(W.c), SMTPW_WANT_CLOSE);
        assert_int_equal(smtpw_server_messages(W.s), W.seen.messages);
        delivered += W.seen.messages;
    }
    /* most messages have an accepted recipient: the test really delivers */
    printf("roundtrip: %u messages delivered in 300 sessions\n", delivered);
    assert_true(delivered > 300);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(roundtrip_random_sessions),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
