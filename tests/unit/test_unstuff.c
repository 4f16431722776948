/* DATA decoding (lib/unstuff.c): dot-unstuffing, CRLF "." CRLF only, bare
 * CR/LF policies, line limit; checked against a byte-at-a-time reference
 * model under every chunking.  SPDX-License-Identifier: MIT */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "server/unstuff.h"

/* What decoding a whole input gives. */
struct result {
    char out[8192]; /* data delivered before the end, or before a refusal */
    size_t outlen;
    int refused;     /* SMTPW__UNSTUFF_BARE or _LONG, 0 if none */
    size_t end;      /* offset just past CRLF.CRLF, or (size_t)-1 */
};

/* Reference model: RFC 5321 4.5.2 read one byte at a time, no speed tricks. */
static void model(const char *in, size_t n, unsigned policy, uint32_t max_line, struct result *r)
{
    size_t i = 0;
    int bol = 1, refused = 0;
    uint32_t line = 0;
    memset(r, 0, sizeof *r);
    r->end = (size_t)-1;
#define PUT(c)                                                                                \
    do {                                                                                      \
        if (!refused)                                                                         \
            r->out[r->outlen++] = (c);                                                        \
    } while (0)
#define CONTENT()                                                                             \
    do {                                                                                      \
        line++;                                                                               \
        if (!refused && max_line && line + 2 > max_line)                                      \
            refused = r->refused = SMTPW__UNSTUFF_LONG;                                       \
    } while (0)
    while (i < n) {
        char c = in[i];
        if (bol && c == '.') {
            if (i + 2 < n && in[i + 1] == '\r' && in[i + 2] == '\n') {
                r->end = i + 3;
                return;
            }
            i++; /* stuffed dot dropped */
            bol = 0;
            continue;
        }
        if (c == '\r' && i + 1 < n && in[i + 1] == '\n') {
            PUT('\r');
            PUT('\n');
            i += 2;
            bol = 1;
            line = 0;
            continue;
        }
        bol = 0;
        if (c == '\r' || c == '\n') {
            if (refused || policy == SMTPW_BARE_KEEP) {
                CONTENT();
                PUT(c);
            } else if (policy == SMTPW_BARE_NORMALIZE) {
                PUT('\r');
                PUT('\n');
                line = 0;
            } else {
                refused = r->refused = SMTPW__UNSTUFF_BARE;
            }
        } else {
            CONTENT();
            PUT(c);
        }
        i++;
    }
#undef PUT
#undef CONTENT
}

/* The implementation fed in chunks: cuts[] are the chunk ends. */
static void run(const char *in, size_t n, unsigned policy, uint32_t max_line, const size_t *cuts,
                size_t ncuts, struct result *r)
{
    smtpw__unstuff u;
    size_t from = 0, k;
    memset(r, 0, sizeof *r);
    r->end = (size_t)-1;
    smtpw__unstuff_init(&u, policy, max_line);
    for (k = 0; k <= ncuts; k++) {
        size_t to = k < ncuts ? cuts[k] : n, off = from;
        while (off <= to) {
            smtpw_span sp;
            size_t used = 12345;
            int may = smtpw__unstuff_may_end(&u, (const uint8_t *)in + off, to - off);
            int x = smtpw__unstuff_next(&u, (const uint8_t *)in + off, to - off, &used, &sp);
            assert_true(used <= to - off);
            assert_int_equal(may, x == SMTPW__UNSTUFF_END);
            if (x == SMTPW__UNSTUFF_DATA) {
                /* spans into the input or static CRLF bytes */
                if (!(sp.ptr >= in + off && sp.ptr + sp.len <= in + off + used)) {
                    assert_true(sp.len == 1 || sp.len == 2);
                    assert_memory_equal(sp.ptr, "\r\n", sp.len);
                }
                assert_true(sp.len > 0);
                if (!r->refused) {
                    memcpy(r->out + r->outlen, sp.ptr, sp.len);
                    r->outlen += sp.len;
                }
            } else if (x == SMTPW__UNSTUFF_END) {
                r->end = off + used;
                return;
            } else if (x == SMTPW__UNSTUFF_BARE || x == SMTPW__UNSTUFF_LONG) {
                assert_int_equal(r->refused, 0);
                r->refused = x;
                u.policy = SMTPW_BARE_KEEP; /* as the server does: only the end matters */
                u.max_line = 0;
            } else {
                assert_int_equal(x, SMTPW__UNSTUFF_MORE);
                assert_int_equal(used, to - off); /* MORE always takes everything */
                break;
            }
            off += used;
        }
        from = to;
    }
}

static void check_all(const char *in, size_t n, unsigned policy, uint32_t max_line, int every)
{
    struct result want, got;
    size_t cuts[4096] = {0}, i;
    model(in, n, policy, max_line, &want);
    /* whole */
    run(in, n, policy, max_line, NULL, 0, &got);
#define SAME()                                                                                \
    do {                                                                                      \
        assert_int_equal(got.end, want.end);                                                  \
        assert_int_equal(got.refused, want.refused);                                          \
        assert_int_equal(got.outlen, want.outlen);                                            \
        assert_memory_equal(got.out, want.out, want.outlen);                                  \
    } while (0)
    SAME();
    /* one byte at a time */
    for (i = 0; i + 1 < n && i < 4096; i++)
        cuts[i] = i + 1;
    run(in, n, policy, max_line, cuts, i, &got);
    SAME();
    /* every two-piece split */
    if (every)
        for (i = 1; i < n; i++) {
            cuts[0] = i;
            run(in, n, policy, max_line, cuts, 1, &got);
            SAME();
        }
#undef SAME
}

static const unsigned policies[] = {SMTPW_BARE_REJECT, SMTPW_BARE_NORMALIZE, SMTPW_BARE_KEEP};

#define CHECK_LIT(lit, pol, max) check_all(lit, sizeof(lit) - 1, pol, max, 1)

static void rfc5321_4_1_1_4_end_only_crlf_dot_crlf(void **state)
{
    struct result r;
    (void)state;
    model("a\r\n.\r\n", 6, SMTPW_BARE_REJECT, 0, &r);
    assert_int_equal(r.end, 6);
    CHECK_LIT("a\r\n.\r\n", SMTPW_BARE_REJECT, 0);
    CHECK_LIT(".\r\n", SMTPW_BARE_REJECT, 0); /* right after 354: empty message */
    CHECK_LIT("..\r\n.\r\n", SMTPW_BARE_REJECT, 0);
    CHECK_LIT("..x\r\n.x\r\n.\r\n", SMTPW_BARE_REJECT, 0);
}

static void rfc5321_4_5_2_leading_dot_dropped(void **state)
{
    struct result r;
    (void)state;
    run("..x\r\n.\r\n", 8, SMTPW_BARE_REJECT, 0, NULL, 0, &r);
    assert_int_equal(r.outlen, 4);
    assert_memory_equal(r.out, ".x\r\n", 4);
    assert_int_equal(r.end, 8);
}

static void smuggling_variants_every_policy_every_split(void **state)
{
    static const char *const v[] = {
        "a\n.\nb\r\n.\r\n",   "a\r\n.\nb\r\n.\r\n",  "a\n.\r\nb\r\n.\r\n", "a\r.\rb\r\n.\r\n",
        "a\r\n.\rb\r\n.\r\n", "a\r.\r\nb\r\n.\r\n",  "a\r\n.\r\r\nb\r\n.\r\n",
        "a\n.\r\r\n.\r\n",    "\n.\n\r\n.\r\n",      "\r.\r\n.\r\n",      ".\n.\r\n",
        ".\r.\r\n\r\n.\r\n",  "a\r\r\n.\r\n",        "a\n\r\n.\r\n",      "\r\n\r\n.\r\n",
    };
    size_t k, p;
    (void)state;
    for (k = 0; k < sizeof v / sizeof v[0]; k++)
        for (p = 0; p < 3; p++)
            check_all(v[k], strlen(v[k]), policies[p], 0, 1);
}

static void bare_lf_never_starts_a_line(void **state)
{
    struct result r;
    (void)state;
    /* "\n.\r\n" under KEEP: the dot is data, the message goes on */
    run("a\n.\r\nb\r\n.\r\n", 11, SMTPW_BARE_KEEP, 0, NULL, 0, &r);
    assert_int_equal(r.end, 11);
    assert_int_equal(r.outlen, 8);
    assert_memory_equal(r.out, "a\n.\r\nb\r\n", 8);
    run("a\n.\r\nb\r\n.\r\n", 11, SMTPW_BARE_NORMALIZE, 0, NULL, 0, &r);
    assert_int_equal(r.outlen, 9);
    assert_memory_equal(r.out, "a\r\n.\r\nb\r\n", 9);
    run("a\n.\r\nb\r\n.\r\n", 11, SMTPW_BARE_REJECT, 0, NULL, 0, &r);
    assert_int_equal(r.refused, SMTPW__UNSTUFF_BARE);
    assert_int_equal(r.end, 11);
    assert_int_equal(r.outlen, 1);
}

static void rfc5321_4_5_3_1_6_line_limit(void **state)
{
    size_t p;
    (void)state;
    for (p = 0; p < 3; p++) {
        CHECK_LIT("12345678\r\n..2345678\r\n.\r\n", policies[p], 10);
        CHECK_LIT("123456789\r\n.\r\n", policies[p], 10);
        CHECK_LIT("1\n2\n3\n4\n5\n6\n\r\n.\r\n", policies[p], 10);
    }
}

static void fast_path_blocks(void **state)
{
    char buf[6000];
    size_t i, n = 0, p;
    (void)state;
    /* base64-like lines, a dot line, bare bytes deep inside long clean runs */
    for (i = 0; i < 60; i++) {
        memset(buf + n, 'A' + (int)(i % 26), 76);
        n += 76;
        memcpy(buf + n, "\r\n", 2);
        n += 2;
        if (i == 20)
            buf[n++] = '.';
        if (i == 30)
            buf[n - 40] = '\n';
        if (i == 40)
            buf[n - 50] = '\r';
        if (i == 50) { /* CR as the last byte of a 64-byte block */
            memset(buf + n, 'x', 200);
            n += 200;
        }
    }
    memcpy(buf + n, "\r\n.\r\n", 5);
    n += 5;
    for (p = 0; p < 3; p++) {
        check_all(buf, n, policies[p], 0, 1);
        check_all(buf, n, policies[p], 100, 0);
        check_all(buf, n, policies[p], 78, 0);
        check_all(buf, n, policies[p], 1000, 0);
    }
}

static void random_against_model(void **state)
{
    static const char alphabet[] = "aaaaaaaa.\r\n\r\n.";
    char buf[700];
    size_t cuts[64];
    struct result want, got;
    unsigned seed = 12345;
    int iter;
    (void)state;
    for (iter = 0; iter < 6000; iter++) {
        size_t n, i, nc;
        unsigned policy;
        uint32_t max;
        seed = seed * 1103515245u + 12345u;
        n = (seed >> 8) % 600;
        for (i = 0; i < n; i++) {
            seed = seed * 1103515245u + 12345u;
            /* long clean runs now and then, for the block path */
            if ((seed >> 20) % 50 == 0 && i + 80 < n) {
                memset(buf + i, 'q', 70);
                i += 69;
                continue;
            }
            buf[i] = alphabet[(seed >> 16) % (sizeof alphabet - 1)];
        }
        memcpy(buf + n, "\r\n.\r\n", 5);
        n += 5;
        policy = policies[iter % 3];
        max = (iter % 4 == 0) ? (uint32_t)(3 + (seed >> 24) % 90) : 0;
        model(buf, n, policy, max, &want);
        nc = 0;
        for (i = 1; i < n && nc < 64; i++) {
            seed = seed * 1103515245u + 12345u;
            if ((seed >> 16) % 7 == 0)
                cuts[nc++] = i;
        }
        run(buf, n, policy, max, cuts, nc, &got);
        if (got.end != want.end || got.refused != want.refused || got.outlen != want.outlen ||
            memcmp(got.out, want.out, want.outlen) != 0)
            fail_msg("iteration %d policy %u max %u: end %zu/%zu refused %d/%d len %zu/%zu", iter,
                     policy, (unsigned)max, got.end, want.end, got.refused, want.refused,
                     got.outlen, want.outlen);
        if (iter % 10 == 0)
            check_all(buf, n, policy, max, iter % 50 == 0);
    }
}

static void held_bytes_come_back_from_static_storage(void **state)
{
    smtpw__unstuff u;
    smtpw_span sp;
    size_t used;
    static const uint8_t a[] = "abc\r", b[] = "\nx";
    (void)state;
    smtpw__unstuff_init(&u, SMTPW_BARE_REJECT, 0);
    assert_int_equal(smtpw__unstuff_next(&u, a, 4, &used, &sp), SMTPW__UNSTUFF_DATA);
    assert_int_equal(used, 4); /* the CR is taken and held */
    assert_int_equal(sp.len, 3);
    assert_int_equal(u.state, SMTPW__US_CR);
    assert_int_equal(smtpw__unstuff_next(&u, b, 2, &used, &sp), SMTPW__UNSTUFF_DATA);
    assert_int_equal(used, 1);
    assert_int_equal(sp.len, 2);
    assert_memory_equal(sp.ptr, "\r\n", 2);
    assert_false(sp.ptr >= (const char *)b && sp.ptr < (const char *)b + 2);
    /* ".\r" held at a boundary: the end, or a dropped dot and a bare CR */
    smtpw__unstuff_init(&u, SMTPW_BARE_KEEP, 0);
    assert_int_equal(smtpw__unstuff_next(&u, (const uint8_t *)".\r", 2, &used, &sp),
                     SMTPW__UNSTUFF_MORE);
    assert_int_equal(used, 2);
    assert_int_equal(u.state, SMTPW__US_DOTCR);
    assert_int_equal(smtpw__unstuff_next(&u, (const uint8_t *)"x", 1, &used, &sp),
                     SMTPW__UNSTUFF_DATA);
    assert_int_equal(used, 0);
    assert_int_equal(sp.len, 1);
    assert_memory_equal(sp.ptr, "\r", 1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(rfc5321_4_1_1_4_end_only_crlf_dot_crlf),
        cmocka_unit_test(rfc5321_4_5_2_leading_dot_dropped),
        cmocka_unit_test(smuggling_variants_every_policy_every_split),
        cmocka_unit_test(bare_lf_never_starts_a_line),
        cmocka_unit_test(rfc5321_4_5_3_1_6_line_limit),
        cmocka_unit_test(fast_path_blocks),
        cmocka_unit_test(random_against_model),
        cmocka_unit_test(held_bytes_come_back_from_static_storage),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
