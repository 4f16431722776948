/* Server reply rendering (lib/reply_write.c): RFC 5321 4.2 reply lines,
 * 4.5.3.1.5 length, RFC 2034/3463 enhanced codes, EHLO keyword lines.
 * SPDX-License-Identifier: MIT */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "server/reply_write.h"

static void rfc5321_4_2_reply_codes(void **state)
{
    (void)state;
    assert_true(smtpw__reply_write_code_ok(200));
    assert_true(smtpw__reply_write_code_ok(250));
    assert_true(smtpw__reply_write_code_ok(354));
    assert_true(smtpw__reply_write_code_ok(559));
    assert_false(smtpw__reply_write_code_ok(199));
    assert_false(smtpw__reply_write_code_ok(600));
    assert_false(smtpw__reply_write_code_ok(260)); /* second digit 0..5 (4.2) */
    assert_false(smtpw__reply_write_code_ok(0));
}

static void reply_text_cannot_inject(void **state)
{
    (void)state;
    assert_true(smtpw__reply_write_text_ok("all fine here", 13));
    assert_true(smtpw__reply_write_text_ok("", 0));
    assert_false(smtpw__reply_write_text_ok("a\r\n250 x", 8));
    assert_false(smtpw__reply_write_text_ok("a\n", 2));
    assert_false(smtpw__reply_write_text_ok("\ra", 2));
    assert_false(smtpw__reply_write_text_ok("a\0b", 3));
}

/* RFC 5321 4.2 textstring = 1*(%d09 / %d32-126): other controls (ESC, BEL,
 * DEL...) are refused too; a client would treat them as a broken reply. */
static void rfc5321_4_2_reply_text_controls_refused(void **state)
{
    unsigned c;
    char t[3] = {'a', 0, 'b'};
    (void)state;
    for (c = 0; c < 256; c++) {
        t[1] = (char)c;
        if (c == '\t' || (c >= 0x20 && c != 0x7f))
            assert_true(smtpw__reply_write_text_ok(t, 3));
        else
            assert_false(smtpw__reply_write_text_ok(t, 3));
    }
}

static void rfc3463_2_enhanced_code_grammar(void **state)
{
    (void)state;
    assert_true(smtpw__reply_write_enh_ok("2.1.0", 5, 250));
    assert_true(smtpw__reply_write_enh_ok("5.123.999", 9, 550));
    assert_true(smtpw__reply_write_enh_ok("4.7.0", 5, 421));
    assert_false(smtpw__reply_write_enh_ok("5.1.1", 5, 450)); /* class must match (RFC 2034 4) */
    assert_false(smtpw__reply_write_enh_ok("3.0.0", 5, 354));
    assert_false(smtpw__reply_write_enh_ok("2.1", 3, 250));
    assert_false(smtpw__reply_write_enh_ok("2.1.", 4, 250));
    assert_false(smtpw__reply_write_enh_ok("2..1", 4, 250));
    assert_false(smtpw__reply_write_enh_ok("2.1234.1", 8, 250));
    assert_false(smtpw__reply_write_enh_ok("2.1.1234", 8, 250));
    assert_false(smtpw__reply_write_enh_ok("2.1.1 ", 6, 250));
    assert_false(smtpw__reply_write_enh_ok("2.1.1\r\n", 7, 250));
    assert_false(smtpw__reply_write_enh_ok(NULL, 5, 250));
    assert_false(smtpw__reply_write_enh_ok("2.a.1", 5, 250));
}

static void rfc5321_4_2_reply_line_forms(void **state)
{
    uint8_t out[600];
    size_t n;
    (void)state;
    n = smtpw__reply_write_line(out, sizeof out, 250, 0, "2.1.0", 5, "Sender ok", 9, NULL, 0);
    assert_int_equal(n, 21);
    assert_memory_equal(out, "250 2.1.0 Sender ok\r\n", 21);
    n = smtpw__reply_write_line(out, sizeof out, 250, 1, NULL, 0, "mx.example", 10, "hi", 2);
    assert_memory_equal(out, "250-mx.example hi\r\n", n);
    n = smtpw__reply_write_line(out, sizeof out, 221, 0, NULL, 0, "mx", 2, NULL, 0);
    assert_memory_equal(out, "221 mx\r\n", n);
    n = smtpw__reply_write_line(out, sizeof out, 250, 0, NULL, 0, "", 0, "x", 1);
    assert_memory_equal(out, "250 x\r\n", n);
    /* does not fit the caller's space */
    assert_int_equal(smtpw__reply_write_line(out, 8, 221, 0, NULL, 0, "abc", 3, NULL, 0), 0);
    assert_int_equal(smtpw__reply_write_line(out, 9, 221, 0, NULL, 0, "abc", 3, NULL, 0), 9);
}

static void rfc5321_4_5_3_1_5_reply_line_512(void **state)
{
    uint8_t out[700];
    char text[600];
    (void)state;
    memset(text, 'x', sizeof text);
    /* "550 " + 506 + CRLF = 512 */
    assert_int_equal(smtpw__reply_write_line(out, sizeof out, 550, 0, NULL, 0, text, 506, NULL, 0),
                     512);
    assert_int_equal(smtpw__reply_write_line(out, sizeof out, 550, 0, NULL, 0, text, 507, NULL, 0),
                     0);
    assert_int_equal(
        smtpw__reply_write_line(out, sizeof out, 550, 0, "5.0.0", 5, text, 500, NULL, 0), 512);
}

/* Every extension the server core can offer. */
#define SERVER_EXTS                                                                                \
    (SMTPW_EXT_PIPELINING | SMTPW_EXT_8BITMIME | SMTPW_EXT_SIZE | SMTPW_EXT_ENHANCEDSTATUSCODES |     \
     SMTPW_EXT_STARTTLS | SMTPW_EXT_SMTPUTF8)

static void rfc5321_4_1_1_1_ehlo_keyword_lines(void **state)
{
    uint8_t out[300];
    size_t n;
    (void)state;
    n = smtpw__reply_write_caps(out, sizeof out, SERVER_EXTS, 10485760);
    out[n] = 0;
    assert_string_equal((char *)out, "250-PIPELINING\r\n250-8BITMIME\r\n250-SIZE 10485760\r\n"
                                     "250-ENHANCEDSTATUSCODES\r\n250-STARTTLS\r\n250 SMTPUTF8\r\n");
    /* RFC 1870 4: SIZE with no number when there is no fixed limit */
    n = smtpw__reply_write_caps(out, sizeof out, SMTPW_EXT_SIZE, 0);
    assert_int_equal(n, 10);
    assert_memory_equal(out, "250 SIZE\r\n", 10);
    n = smtpw__reply_write_caps(out, sizeof out, SMTPW_EXT_SIZE | SMTPW_EXT_STARTTLS,
                                UINT64_MAX);
    out[n] = 0;
    assert_string_equal((char *)out, "250-SIZE 18446744073709551615\r\n250 STARTTLS\r\n");
    assert_int_equal(smtpw__reply_write_caps(out, sizeof out, 0, 1), 0);
    assert_int_equal(smtpw__reply_write_caps(out, 20, SERVER_EXTS, 1), 0);
}

static void decimal_digits(void **state)
{
    char buf[20];
    (void)state;
    assert_int_equal(smtpw__u64_dec(buf, 0), 1);
    assert_memory_equal(buf, "0", 1);
    assert_int_equal(smtpw__u64_dec(buf, 1000), 4);
    assert_memory_equal(buf, "1000", 4);
    assert_int_equal(smtpw__u64_dec(buf, UINT64_MAX), 20);
    assert_memory_equal(buf, "18446744073709551615", 20);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(rfc5321_4_2_reply_codes),
        cmocka_unit_test(reply_text_cannot_inject),
        cmocka_unit_test(rfc5321_4_2_reply_text_controls_refused),
        cmocka_unit_test(rfc3463_2_enhanced_code_grammar),
        cmocka_unit_test(rfc5321_4_2_reply_line_forms),
        cmocka_unit_test(rfc5321_4_5_3_1_5_reply_line_512),
        cmocka_unit_test(rfc5321_4_1_1_1_ehlo_keyword_lines),
        cmocka_unit_test(decimal_digits),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
