/* xtext (RFC 3461 4).  Inputs are read from the guard page. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "guardbuf.h"
#include "smtpwire/syntax.h"

static int dec(const char *in, size_t len, char *out, size_t cap, size_t *n)
{
    return smtpw_xtext_decode((const char *)guardbuf_put(in, len), len, out, cap, n);
}

static void rfc3461_4_decode(void **state)
{
    char out[64];
    size_t n = 99;
    (void)state;
    assert_int_equal(dec("abc", 3, out, sizeof out, &n), 0);
    assert_int_equal(n, 3);
    assert_memory_equal(out, "abc", 3);
    assert_int_equal(dec("a+2Bb+3Dc", 9, out, sizeof out, &n), 0);
    assert_int_equal(n, 5);
    assert_memory_equal(out, "a+b=c", 5);
    assert_int_equal(dec("+00+20+FF+7F", 12, out, sizeof out, &n), 0);
    assert_int_equal(n, 4);
    assert_memory_equal(out, "\x00\x20\xff\x7f", 4);
    /* a hexchar may encode a char that could be literal */
    assert_int_equal(dec("+41", 3, out, sizeof out, &n), 0);
    assert_int_equal(n, 1);
    assert_int_equal(out[0], 'A');
    /* every literal xchar: %d33-42 / %d44-60 / %d62-126 */
    {
        char all[94];
        size_t k = 0;
        int c;
        for (c = 33; c <= 126; c++)
            if (c != '+' && c != '=')
                all[k++] = (char)c;
        char big[100];
        assert_int_equal(k, 92);
        assert_int_equal(dec(all, k, big, sizeof big, &n), 0);
        assert_int_equal(n, 92);
        assert_memory_equal(big, all, 92);
    }
    assert_int_equal(dec("", 0, out, sizeof out, &n), 0);
    assert_int_equal(n, 0);
}

static void rfc3461_4_decode_strict(void **state)
{
    static const char *const bad[] = {"+", "+2", "+2b", "+ab", "+G0", "+0g", "a=b", "a b",
                                      "a\rb", "a\nb", "\x7f", "\x80", "\xc3\xa9", "+-1", "++2B"};
    char out[64];
    size_t i, n = 99;
    (void)state;
    for (i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        n = 99;
        assert_int_equal(dec(bad[i], strlen(bad[i]), out, sizeof out, &n), SMTPW_E_SYNTAX);
        assert_int_equal(n, 0);
    }
    assert_int_equal(dec("a\0b", 3, out, sizeof out, &n), SMTPW_E_SYNTAX);
    /* syntax is reported even when the buffer is also too small */
    assert_int_equal(dec("abcdef=", 7, out, 2, &n), SMTPW_E_SYNTAX);
}

static void rfc3461_4_decode_nobuf(void **state)
{
    char out[8];
    size_t n = 99, cap;
    (void)state;
    for (cap = 0; cap < 3; cap++) {
        memset(out, 'Z', sizeof out);
        assert_int_equal(dec("a+2Bc", 5, out, cap, &n), SMTPW_E_NOBUF);
        assert_int_equal(out[cap], 'Z');
    }
    assert_int_equal(dec("a+2Bc", 5, out, 3, &n), 0);
    assert_int_equal(n, 3);
    assert_int_equal(smtpw_xtext_decode(NULL, 1, out, 3, &n), SMTPW_E_INVALID_ARG);
    assert_int_equal(smtpw_xtext_decode("a", 1, out, 3, NULL), SMTPW_E_INVALID_ARG);
}

static void rfc3461_4_encode(void **state)
{
    char out[64];
    size_t n = 99;
    (void)state;
    assert_int_equal(smtpw_xtext_encode("abc", 3, out, sizeof out, &n), 0);
    assert_int_equal(n, 3);
    assert_memory_equal(out, "abc", 3);
    assert_int_equal(smtpw_xtext_encode("a+b=c d\r\n\xff\x7f!~", 13, out, sizeof out, &n), 0);
    assert_int_equal(n, 27);
    assert_memory_equal(out, "a+2Bb+3Dc+20d+0D+0A+FF+7F!~", 27);
}

static void rfc3461_4_encode_nobuf_and_roundtrip(void **state)
{
    char in[256], enc[1024], dec_out[256];
    size_t i, n, m, cap;
    (void)state;
    for (i = 0; i < 256; i++)
        in[i] = (char)i;
    assert_int_equal(smtpw_xtext_encode(in, 256, enc, sizeof enc, &n), 0);
    /* 92 literal bytes (33..126 minus '+' and '='), 164 escaped */
    assert_int_equal(n, 92 + 164 * 3);
    assert_int_equal(dec(enc, n, dec_out, sizeof dec_out, &m), 0);
    assert_int_equal(m, 256);
    assert_memory_equal(dec_out, in, 256);
    for (cap = 0; cap < 4; cap++)
        assert_int_equal(smtpw_xtext_encode("a+", 2, enc, cap, &n), SMTPW_E_NOBUF);
    assert_int_equal(smtpw_xtext_encode("a+", 2, enc, 4, &n), 0);
    assert_int_equal(n, 4);
    assert_int_equal(smtpw_xtext_encode(NULL, 0, enc, 4, &n), 0);
    assert_int_equal(n, 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(rfc3461_4_decode),
        cmocka_unit_test(rfc3461_4_decode_strict),
        cmocka_unit_test(rfc3461_4_decode_nobuf),
        cmocka_unit_test(rfc3461_4_encode),
        cmocka_unit_test(rfc3461_4_encode_nobuf_and_roundtrip),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
