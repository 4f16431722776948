/*
 * libFuzzer target for the ESMTP parameter iterator (RFC 5321 4.1.2
 * Mail-parameters), xtext (RFC 3461 4), base64 (RFC 4648 4) and the small
 * parsers beside them.  The whole input is used by each of them:
 *   smtpw_param_next: terminates (each step consumes), spans inside the
 *     input and in order, keys match esmtp-keyword, values esmtp-value,
 *     *rest unchanged on error;
 *   xtext: decode -> encode -> decode gives the decoded bytes again, and
 *     encode(decode(x)) is canonical (encoding it again is the identity);
 *   base64: a decode that succeeds re-encodes to exactly the input
 *     (strict decoding accepts only the canonical form), and encode ->
 *     decode of raw bytes is the identity;
 *   smtpw_parse_u64 and smtpw_enhanced_parse against a reference.
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

static int inside(smtpw_span s, const char *p, size_t n)
{
    if (s.len == 0)
        return s.ptr == NULL || (s.ptr >= p && s.ptr <= p + n);
    return s.ptr >= p && s.len <= n && (size_t)(s.ptr - p) <= n - s.len;
}

static int alnum(unsigned char c)
{
    return (c >= '0' && c <= '9') || (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z');
}

/* esmtp-value = 1*(%d33-60 / %d62-126 / UTF8-non-ascii), RFC 6531 3.3;
 * UTF-8 checked loosely here (lead byte then continuation bytes). */
static int value_ok(smtpw_span v)
{
    size_t i;
    if (v.len == 0)
        return 0;
    for (i = 0; i < v.len; i++) {
        unsigned char c = (unsigned char)v.ptr[i];
        if (c >= 0x80)
            continue;
        if (c < 33 || c > 126 || c == '=')
            return 0;
    }
    return 1;
}

static void params(const char *t, size_t n)
{
    smtpw_span rest, key, val, saved;
    const char *prev_end = t;
    size_t steps = 0;
    int r;

    rest.ptr = t;
    rest.len = n;
    for (;;) {
        saved = rest;
        r = smtpw_param_next(&rest, &key, &val);
        CHECK(r == 1 || r == 0 || r == SMTPW_E_SYNTAX);
        CHECK(inside(rest, t, n));
        if (r != 1) {
            if (r == 0) {
                size_t i;
                CHECK(rest.len == 0);
                for (i = 0; i < saved.len; i++) /* only spaces were left */
                    CHECK(saved.ptr[i] == ' ');
            } else {
                CHECK(rest.ptr == saved.ptr && rest.len == saved.len);
            }
            CHECK(key.len == 0 && val.len == 0);
            break;
        }
        CHECK(++steps <= n); /* every step eats at least one byte */
        CHECK(rest.len < saved.len && rest.ptr + rest.len == saved.ptr + saved.len);
        CHECK(inside(key, t, n) && inside(val, t, n));
        CHECK(key.ptr >= prev_end && key.len >= 1);
        /* esmtp-keyword = (ALPHA / DIGIT) *(ALPHA / DIGIT / "-") */
        {
            size_t i;
            CHECK(alnum((unsigned char)key.ptr[0]));
            for (i = 1; i < key.len; i++)
                CHECK(alnum((unsigned char)key.ptr[i]) || key.ptr[i] == '-');
        }
        /* only spaces skipped before the key */
        {
            const char *q;
            for (q = saved.ptr; q < key.ptr; q++)
                CHECK(*q == ' ');
        }
        if (val.len) {
            CHECK(val.ptr == key.ptr + key.len + 1 && key.ptr[key.len] == '=');
            CHECK(value_ok(val));
            CHECK(rest.ptr == val.ptr + val.len);
        } else {
            CHECK(rest.ptr == key.ptr + key.len);
        }
        CHECK(rest.len == 0 || rest.ptr[0] == ' ');
        /* span_ieq agrees with itself */
        CHECK(smtpw_span_ieq(key, "SIZE") ==
              (key.len == 4 && (key.ptr[0] | 0x20) == 's' && (key.ptr[1] | 0x20) == 'i' &&
               (key.ptr[2] | 0x20) == 'z' && (key.ptr[3] | 0x20) == 'e'));
        prev_end = rest.ptr;
    }
}

static void xtext(const char *t, size_t n)
{
    char *d1 = malloc(n + 1), *e = malloc(3 * n + 1), *d2 = malloc(n + 1);
    size_t l1 = 7, le = 7, l2 = 7;
    int r;
    CHECK(d1 && e && d2);
    r = smtpw_xtext_decode(t, n, d1, n, &l1);
    CHECK(r == 0 || r == SMTPW_E_SYNTAX);
    if (r == 0) {
        size_t small = 5;
        CHECK(l1 <= n);
        CHECK(smtpw_xtext_encode(d1, l1, e, 3 * n + 1, &le) == 0);
        CHECK(le >= l1 && le <= 3 * l1);
        CHECK(smtpw_xtext_decode(e, le, d2, n + 1, &l2) == 0);
        CHECK(l2 == l1 && (l1 == 0 || memcmp(d1, d2, l1) == 0));
        /* the encoding is canonical: encoding its decoding gives it back */
        {
            char *e2 = malloc(3 * n + 1);
            size_t le2 = 0;
            CHECK(e2 != NULL);
            CHECK(smtpw_xtext_encode(d2, l2, e2, 3 * n + 1, &le2) == 0);
            CHECK(le2 == le && (le == 0 || memcmp(e2, e, le) == 0));
            free(e2);
        }
        /* too small a buffer: NOBUF, never a write past cap */
        if (l1 > 0) {
            CHECK(smtpw_xtext_decode(t, n, d2, l1 - 1, &small) == SMTPW_E_NOBUF && small == 0);
            CHECK(smtpw_xtext_encode(d1, l1, e, le - 1, &small) == SMTPW_E_NOBUF && small == 0);
        }
    } else {
        CHECK(l1 == 0);
        CHECK(smtpw_xtext_decode(t, n, d1, 0, &l1) == SMTPW_E_SYNTAX);
    }
    /* raw bytes: encode -> decode is the identity */
    CHECK(smtpw_xtext_encode(t, n, e, 3 * n + 1, &le) == 0);
    CHECK(smtpw_xtext_decode(e, le, d2, n + 1, &l2) == 0);
    CHECK(l2 == n && (n == 0 || memcmp(d2, t, n) == 0));
    free(d1);
    free(e);
    free(d2);
}

static void base64(const char *t, size_t n)
{
    uint8_t *d = malloc(n + 1);
    char *e = malloc(n / 3 * 4 + 8);
    uint8_t *d2 = malloc(n + 1);
    size_t ld = 7, le = 7, l2 = 7;
    int r;
    CHECK(d && e && d2);
    r = smtpw_base64_decode(t, n, d, n, &ld);
    CHECK(r == 0 || r == SMTPW_E_SYNTAX);
    if (r == 0) {
        CHECK(n % 4 == 0 && ld <= n / 4 * 3 && ld + 2 >= n / 4 * 3);
        CHECK(smtpw_base64_encode(d, ld, e, n / 3 * 4 + 8, &le) == 0);
        CHECK(le == n && (n == 0 || memcmp(e, t, n) == 0)); /* canonical */
        if (ld > 0)
            CHECK(smtpw_base64_decode(t, n, d2, ld - 1, &l2) == SMTPW_E_NOBUF && l2 == 0);
    } else {
        CHECK(ld == 0);
    }
    /* raw bytes: encode -> decode is the identity */
    CHECK(smtpw_base64_encode((const uint8_t *)t, n, e, n / 3 * 4 + 8, &le) == 0);
    CHECK(le == (n + 2) / 3 * 4);
    if (n)
        CHECK(smtpw_base64_encode((const uint8_t *)t, n, e, le - 1, &l2) == SMTPW_E_NOBUF &&
              l2 == 0);
    CHECK(smtpw_base64_decode(e, le, d2, n + 1, &l2) == 0);
    CHECK(l2 == n && (n == 0 || memcmp(d2, t, n) == 0));
    free(d);
    free(e);
    free(d2);
}

static void numbers(const char *t, size_t n)
{
    smtpw_span s;
    uint64_t v = 99, ref = 0;
    size_t i, used = 99;
    int ok = n >= 1 && n <= 20, r;
    unsigned cls = 9, sub = 9, det = 9;

    for (i = 0; i < n && ok; i++) {
        unsigned dgt = (unsigned)((unsigned char)t[i] - '0');
        if (dgt > 9 || ref > (UINT64_MAX - dgt) / 10)
            ok = 0;
        else
            ref = ref * 10 + dgt;
    }
    s.ptr = t;
    s.len = n;
    r = smtpw_parse_u64(s, &v);
    CHECK(ok ? (r == 0 && v == ref) : (r == SMTPW_E_SYNTAX && v == 0));

    r = smtpw_enhanced_parse(t, n, &cls, &sub, &det, &used);
    CHECK(r == 0 || r == SMTPW_E_SYNTAX);
    if (r == 0) {
        /* class "." 1*3digit "." 1*3digit, then nothing, SP or a non-digit */
        CHECK(used >= 5 && used <= 9 && used <= n);
        CHECK(cls == 2 || cls == 4 || cls == 5);
        CHECK((unsigned char)t[0] == '0' + cls && t[1] == '.');
        CHECK(sub <= 999 && det <= 999);
        CHECK(used == n || (t[used] != '.' && (t[used] < '0' || t[used] > '9')));
        {
            /* reference: the numbers are the digits as written */
            unsigned a = 0, b = 0, dots = 0;
            for (i = 2; i < used; i++) {
                if (t[i] == '.')
                    dots++;
                else if (dots == 0)
                    a = a * 10 + (unsigned)(t[i] - '0');
                else
                    b = b * 10 + (unsigned)(t[i] - '0');
            }
            CHECK(dots == 1 && a == sub && b == det);
        }
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *t = malloc(size ? size : 1); /* exact size: ASan sees over-reads */
    CHECK(t != NULL);
    if (size)
        memcpy(t, data, size);
    params(t, size);
    xtext(t, size);
    base64(t, size);
    numbers(t, size);
    free(t);
    return 0;
}
