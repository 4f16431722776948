/* base64 (RFC 4648 4, 10 test vectors), strict decoding for AUTH.
 * Inputs are read from the guard page. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "guardbuf.h"
#include "smtpwire/syntax.h"

static int dec(const char *in, uint8_t *out, size_t cap, size_t *n)
{
    size_t len = strlen(in);
    return smtpw_base64_decode((const char *)guardbuf_put(in, len), len, out, cap, n);
}

/* RFC 4648 10: BASE64("") = "" ... BASE64("foobar") = "Zm9vYmFy" */
static void rfc4648_10_test_vectors(void **state)
{
    static const char *const plain[] = {"", "f", "fo", "foo", "foob", "fooba", "foobar"};
    static const char *const enc[] = {"", "Zg==", "Zm8=", "Zm9v", "Zm9vYg==", "Zm9vYmE=", "Zm9vYmFy"};
    char out[32];
    uint8_t raw[32];
    size_t i, n;
    (void)state;
    for (i = 0; i < 7; i++) {
        size_t pl = strlen(plain[i]);
        n = 99;
        assert_int_equal(smtpw_base64_encode(guardbuf_put(plain[i], pl), pl, out, sizeof out, &n), 0);
        assert_int_equal(n, strlen(enc[i]));
        assert_memory_equal(out, enc[i], n);
        n = 99;
        assert_int_equal(dec(enc[i], raw, sizeof raw, &n), 0);
        assert_int_equal(n, pl);
        assert_memory_equal(raw, plain[i], pl);
    }
}

/* RFC 4954 4: AUTH PLAIN "\0user\0pass" */
static void rfc4954_auth_plain_example(void **state)
{
    char out[64];
    uint8_t raw[64];
    size_t n;
    (void)state;
    assert_int_equal(smtpw_base64_encode((const uint8_t *)"\0tim\0tanstaaftanstaaf", 21, out,
                                         sizeof out, &n), 0);
    assert_int_equal(n, 28);
    assert_memory_equal(out, "AHRpbQB0YW5zdGFhZnRhbnN0YWFm", 28);
    assert_int_equal(dec("AHRpbQB0YW5zdGFhZnRhbnN0YWFm", raw, sizeof raw, &n), 0);
    assert_int_equal(n, 21);
    assert_memory_equal(raw, "\0tim\0tanstaaftanstaaf", 21);
}

static void rfc4648_4_all_bytes_roundtrip(void **state)
{
    uint8_t in[256], back[256];
    char enc[400];
    size_t i, len, n, m;
    (void)state;
    for (i = 0; i < 256; i++)
        in[i] = (uint8_t)(255 - i);
    for (len = 0; len <= 256; len++) {
        assert_int_equal(smtpw_base64_encode(in, len, enc, sizeof enc, &n), 0);
        assert_int_equal(n, (len + 2) / 3 * 4);
        assert_int_equal(smtpw_base64_decode((const char *)guardbuf_put(enc, n), n, back,
                                             sizeof back, &m), 0);
        assert_int_equal(m, len);
        assert_memory_equal(back, in, len);
    }
    /* the alphabet, in order: bytes 0x00 0x10 0x83 ... encode to A..Z a..z 0..9 + / */
    {
        static const uint8_t seq[] = {0x00, 0x10, 0x83, 0x10, 0x51, 0x87, 0x20, 0x92, 0x8b,
                                      0x30, 0xd3, 0x8f, 0x41, 0x14, 0x93, 0x51, 0x55, 0x97,
                                      0x61, 0x96, 0x9b, 0x71, 0xd7, 0x9f, 0x82, 0x18, 0xa3,
                                      0x92, 0x59, 0xa7, 0xa2, 0x9a, 0xab, 0xb2, 0xdb, 0xaf,
                                      0xc3, 0x1c, 0xb3, 0xd3, 0x5d, 0xb7, 0xe3, 0x9e, 0xbb,
                                      0xf3, 0xdf, 0xbf};
        assert_int_equal(smtpw_base64_encode(seq, sizeof seq, enc, sizeof enc, &n), 0);
        assert_int_equal(n, 64);
        assert_memory_equal(enc, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/",
                            64);
    }
}

static void rfc4648_3_strict_decode(void **state)
{
    static const char *const bad[] = {
        "Zg",       /* 3.2: padding required */
        "Zg=",      "Zm9",     "Z",       "Zm9vY",
        "Zg==Zg==", /* padding only at the end */
        "Z===",     "====",    "=Zg=",    "Zm=v",     "Zg=a",
        "Zh==",     /* 3.5: non-zero bits dropped by the padding */
        "Zm9=",
        "Zm9v\r\n", /* 3.3: no whitespace, no line breaks */
        "Zm 9v",    "Zm9v ",   " Zm9v",   "Zm-v",     "Zm_v", /* not base64url */
        "Zm9\xc3\xa9",
    };
    uint8_t out[32];
    size_t i, n;
    (void)state;
    for (i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        n = 99;
        if (dec(bad[i], out, sizeof out, &n) != SMTPW_E_SYNTAX) {
            print_error("accepted \"%s\"\n", bad[i]);
            fail();
        }
        assert_int_equal(n, 0);
    }
    assert_int_equal(smtpw_base64_decode("Zm\0v", 4, out, sizeof out, &n), SMTPW_E_SYNTAX);
    /* syntax wins over a short buffer */
    assert_int_equal(dec("Zm9vYmF=", out, 1, &n), SMTPW_E_SYNTAX);
}

static void rfc4648_4_nobuf(void **state)
{
    char enc[16];
    uint8_t raw[16];
    size_t cap, n;
    (void)state;
    for (cap = 0; cap < 8; cap++) {
        memset(enc, 'Z', sizeof enc);
        assert_int_equal(smtpw_base64_encode((const uint8_t *)"fooba", 5, enc, cap, &n),
                         SMTPW_E_NOBUF);
        assert_int_equal(enc[cap], 'Z');
    }
    assert_int_equal(smtpw_base64_encode((const uint8_t *)"fooba", 5, enc, 8, &n), 0);
    for (cap = 0; cap < 5; cap++) {
        memset(raw, 0xEE, sizeof raw);
        assert_int_equal(dec("Zm9vYmE=", raw, cap, &n), SMTPW_E_NOBUF);
        assert_int_equal(n, 0);
        assert_int_equal(raw[0], 0xEE); /* nothing written */
    }
    assert_int_equal(dec("Zm9vYmE=", raw, 5, &n), 0);
    assert_int_equal(n, 5);
    assert_int_equal(smtpw_base64_encode(NULL, 1, enc, 8, &n), SMTPW_E_INVALID_ARG);
    assert_int_equal(smtpw_base64_decode(NULL, 4, raw, 8, &n), SMTPW_E_INVALID_ARG);
    assert_int_equal(smtpw_base64_decode("", 0, NULL, 0, &n), 0);
    assert_int_equal(n, 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(rfc4648_10_test_vectors),
        cmocka_unit_test(rfc4954_auth_plain_example),
        cmocka_unit_test(rfc4648_4_all_bytes_roundtrip),
        cmocka_unit_test(rfc4648_3_strict_decode),
        cmocka_unit_test(rfc4648_4_nobuf),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
