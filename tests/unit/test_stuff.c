/* The DATA body encoder (RFC 5321 4.5.2 dot-stuffing, 2.3.8 line ends,
 * 4.1.1.4 end of data), checked against a plain reference encoder at every
 * chunk split and every small output capacity.  SPDX-License-Identifier: MIT */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "guardbuf.h"
#include "smtpwire/smtpwire.h"
#include "client/stuff.h"

/* The reference: one byte at a time, whole message at once. */
static size_t reference(const uint8_t *in, size_t n, uint8_t *out)
{
    size_t i, w = 0;
    int bol = 1;
    for (i = 0; i < n; i++) {
        uint8_t c = in[i];
        if (c == '\r' || c == '\n') {
            out[w++] = '\r';
            out[w++] = '\n';
            if (c == '\r' && i + 1 < n && in[i + 1] == '\n')
                i++;
            bol = 1;
            continue;
        }
        if (bol && c == '.')
            out[w++] = '.';
        out[w++] = c;
        bol = 0;
    }
    if (!bol) {
        out[w++] = '\r';
        out[w++] = '\n';
    }
    memcpy(out + w, ".\r\n", 3);
    return w + 3;
}

/* Encode in two chunks split at `split`, with output space `cap` per call;
 * every input chunk is guarded.  Returns the bytes written. */
static size_t encode(const uint8_t *in, size_t n, size_t split, size_t cap, int allow8,
                     uint8_t *out)
{
    struct smtpw__stuffer st;
    size_t w = 0, off = 0, ends[2];
    int k;
    ends[0] = split;
    ends[1] = n;
    smtpw__stuff_init(&st, allow8);
    for (k = 0; k < 2; k++) {
        while (off < ends[k]) {
            size_t used, wrote, len = ends[k] - off;
            const uint8_t *g = guardbuf_put(in + off, len);
            int r = smtpw__stuff_encode(&st, g, len, &used, out + w, cap, &wrote);
            assert_int_equal(r, 0);
            assert_true(used <= len);
            assert_true(wrote <= cap);
            assert_true(used > 0 || wrote > 0); /* progress with cap >= 2 */
            off += used;
            w += wrote;
        }
    }
    w += smtpw__stuff_end(&st, out + w);
    return w;
}

static void check_all(const char *body, size_t n, int allow8)
{
    uint8_t want[256], got[256];
    size_t wn, split, cap;
    assert_true(n * 2 + 5 <= sizeof want);
    wn = reference((const uint8_t *)body, n, want);
    for (split = 0; split <= n; split++)
        for (cap = 2; cap <= 9; cap++) {
            size_t gn = encode((const uint8_t *)body, n, split, cap, allow8, got);
            if (gn != wn || memcmp(got, want, wn) != 0)
                fail_msg("body of %zu split %zu cap %zu: got \"%.*s\"", n, split, cap, (int)gn,
                         (const char *)got);
        }
    /* large output space, every split */
    for (split = 0; split <= n; split++) {
        size_t gn = encode((const uint8_t *)body, n, split, sizeof got - 5, allow8, got);
        assert_int_equal(gn, wn);
        assert_memory_equal(got, want, wn);
    }
}

#define CHECK(lit) check_all(lit, sizeof(lit) - 1, 1)

static void rfc5321_4_5_2_dot_stuffing(void **state)
{
    (void)state;
    CHECK(".");
    CHECK("..");
    CHECK(".\r\n");
    CHECK("a\r\n.\r\nb\r\n");
    CHECK("\r\n.\r\n");
    CHECK(".a\r\n..b\r\n...\r\n");
    CHECK("a.b\r\nc.\r\n");
    CHECK("x\r\n.");
}

static void rfc5321_2_3_8_bare_line_ends(void **state)
{
    (void)state;
    CHECK("a\nb\n");
    CHECK("a\rb\r");
    CHECK("\n.\n");
    CHECK("\r.\r");
    CHECK("\r\r\n\n");
    CHECK("a\r");
    CHECK("\n\r");
    CHECK("\r\n\r\n\r\n");
    CHECK("end\r\n.\r\nsmuggled\r\n");
    CHECK("end\n.\nsmuggled\n");
    CHECK("end\r.\rsmuggled\r");
    CHECK("end\n.\r\nsmuggled\r\n");
}

static void rfc5321_4_1_1_4_final_crlf(void **state)
{
    uint8_t out[8];
    struct smtpw__stuffer st;
    (void)state;
    CHECK("no final crlf");
    CHECK("");
    smtpw__stuff_init(&st, 0);
    assert_int_equal(smtpw__stuff_end(&st, out), 3); /* empty: just the dot */
    assert_memory_equal(out, ".\r\n", 3);
}

static void rfc6152_8bit(void **state)
{
    static const uint8_t body[] = "ok\r\n\xff\xfe.\r\n\x80";
    struct smtpw__stuffer st;
    uint8_t out[64];
    size_t used, w;
    (void)state;
    check_all((const char *)body, sizeof body - 1, 1);
    smtpw__stuff_init(&st, 0);
    assert_int_equal(smtpw__stuff_encode(&st, body, sizeof body - 1, &used, out, sizeof out, &w),
                     SMTPW_E_8BIT);
    assert_int_equal(used, 4);
    assert_int_equal(w, 4);
    assert_memory_equal(out, "ok\r\n", 4);
    /* a CR before the 8-bit byte: its LF is written, the byte is not */
    smtpw__stuff_init(&st, 0);
    assert_int_equal(smtpw__stuff_encode(&st, (const uint8_t *)"a\r\xc3", 3, &used, out,
                                         sizeof out, &w),
                     SMTPW_E_8BIT);
    assert_int_equal(used, 2);
    assert_int_equal(w, 3);
    assert_memory_equal(out, "a\r\n", 3);
}

static void api_small_output_refused(void **state)
{
    struct smtpw__stuffer st;
    uint8_t out[2];
    size_t used = 9, w = 9;
    (void)state;
    smtpw__stuff_init(&st, 1);
    assert_int_equal(smtpw__stuff_encode(&st, (const uint8_t *)"abc", 3, &used, out, 1, &w),
                     SMTPW_E_NOBUF);
    assert_int_equal(used, 0);
    assert_int_equal(w, 0);
    /* 2 bytes: a doubled dot fits, then one byte at a time */
    assert_int_equal(smtpw__stuff_encode(&st, (const uint8_t *)".abc", 4, &used, out, 2, &w), 0);
    assert_int_equal(used, 1);
    assert_int_equal(w, 2);
    assert_memory_equal(out, "..", 2);
}

/* Long random bodies (so the block fast path runs) against the reference,
 * in random chunks and output sizes. */
static void rfc5321_4_5_2_random_long_bodies(void **state)
{
    static uint8_t body[4096], want[8192 + 8], got[8192 + 8];
    static const uint8_t alphabet[] = "abc .\r\n\xc3 xyzxyzxyzxyz0123456789";
    uint32_t seed = 12345;
    int iter;
    (void)state;
    for (iter = 0; iter < 300; iter++) {
        struct smtpw__stuffer st;
        size_t n, i, off = 0, w = 0, wn;
        seed = seed * 1103515245u + 12345u;
        n = (seed >> 8) % sizeof body;
        for (i = 0; i < n; i++) {
            seed = seed * 1103515245u + 12345u;
            /* mostly plain runs, sometimes specials */
            body[i] = (seed >> 24) % 8 ? (uint8_t)('a' + (seed >> 16) % 26)
                                       : alphabet[(seed >> 10) % (sizeof alphabet - 1)];
        }
        wn = reference(body, n, want);
        smtpw__stuff_init(&st, 1);
        while (off < n) {
            size_t used, wrote, len, cap;
            seed = seed * 1103515245u + 12345u;
            len = 1 + (seed >> 8) % 300;
            cap = 2 + (seed >> 20) % 400;
            if (len > n - off)
                len = n - off;
            assert_int_equal(smtpw__stuff_encode(&st, body + off, len, &used, got + w, cap, &wrote),
                             0);
            off += used;
            w += wrote;
        }
        w += smtpw__stuff_end(&st, got + w);
        assert_int_equal(w, wn);
        assert_memory_equal(got, want, wn);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(rfc5321_4_5_2_dot_stuffing),
        cmocka_unit_test(rfc5321_2_3_8_bare_line_ends),
        cmocka_unit_test(rfc5321_4_1_1_4_final_crlf),
        cmocka_unit_test(rfc6152_8bit),
        cmocka_unit_test(api_small_output_refused),
        cmocka_unit_test(rfc5321_4_5_2_random_long_bodies),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
