/* Command-line framing (lib/line.c): CRLF, bare CR/LF policy, 512-octet
 * limit with discard-to-LF, resume offsets.  SPDX-License-Identifier: MIT */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "guardbuf.h"
#include "line.h"

static int next(smtpw__line *l, const char *in, size_t len, size_t max, unsigned bare,
                size_t *used, size_t *content)
{
    /* flush against a guard page: no read past len */
    const uint8_t *p = guardbuf_put(in, len);
    return smtpw__line_next(l, p, len, max, bare, used, content);
}

static void rfc5321_2_3_8_crlf_ends_a_line(void **state)
{
    smtpw__line l;
    size_t used, n;
    (void)state;
    smtpw__line_reset(&l);
    assert_int_equal(next(&l, "NOOP\r\nQUIT\r\n", 12, 512, SMTPW_BARE_REJECT, &used, &n),
                     SMTPW__LINE_OK);
    assert_int_equal(used, 6);
    assert_int_equal(n, 4);
    assert_int_equal(next(&l, "\r\n", 2, 512, SMTPW_BARE_REJECT, &used, &n), SMTPW__LINE_OK);
    assert_int_equal(used, 2);
    assert_int_equal(n, 0);
}

static void partial_line_not_consumed_and_scan_resumes(void **state)
{
    static const char cmd[] = "MAIL FROM:<a@b.example>\r\n";
    smtpw__line l;
    size_t used, n, i;
    (void)state;
    smtpw__line_reset(&l);
    for (i = 0; i < sizeof cmd - 2; i++) {
        assert_int_equal(next(&l, cmd, i, 512, SMTPW_BARE_REJECT, &used, &n), SMTPW__LINE_MORE);
        assert_int_equal(used, 0);
        assert_int_equal(l.scan, i); /* the scanned prefix is remembered */
    }
    assert_int_equal(next(&l, cmd, sizeof cmd - 1, 512, SMTPW_BARE_REJECT, &used, &n),
                     SMTPW__LINE_OK);
    assert_int_equal(used, sizeof cmd - 1);
    assert_int_equal(n, sizeof cmd - 3);
    assert_int_equal(l.scan, 0);
}

static void shorter_representation_rescans(void **state)
{
    smtpw__line l;
    size_t used, n;
    (void)state;
    smtpw__line_reset(&l);
    assert_int_equal(next(&l, "NOOPNOOP", 8, 512, SMTPW_BARE_REJECT, &used, &n), SMTPW__LINE_MORE);
    assert_int_equal(next(&l, "A\r\n", 3, 512, SMTPW_BARE_REJECT, &used, &n), SMTPW__LINE_OK);
    assert_int_equal(n, 1);
    /* that line forgot the old offset: the next one is searched from 0 */
    assert_int_equal(next(&l, "NOOP\nXYZ\r\n", 10, 512, SMTPW_BARE_REJECT, &used, &n),
                     SMTPW__LINE_BARE);
    assert_int_equal(used, 5);
}

static void rfc5321_4_5_3_1_4_exactly_512_ok(void **state)
{
    char buf[600];
    smtpw__line l;
    size_t used, n;
    (void)state;
    smtpw__line_reset(&l);
    memset(buf, 'x', sizeof buf);
    memcpy(buf + 510, "\r\n", 2);
    assert_int_equal(next(&l, buf, 512, 512, SMTPW_BARE_REJECT, &used, &n), SMTPW__LINE_OK);
    assert_int_equal(used, 512);
    assert_int_equal(n, 510);
    /* 512 bytes without LF: cannot be a valid line */
    assert_int_equal(next(&l, buf, 510, 512, SMTPW_BARE_REJECT, &used, &n), SMTPW__LINE_MORE);
    assert_int_equal(used, 0);
    memset(buf, 'x', sizeof buf);
    assert_int_equal(next(&l, buf, 512, 512, SMTPW_BARE_REJECT, &used, &n), SMTPW__LINE_MORE);
    assert_int_equal(used, 512);
    assert_int_equal(l.discard, 1);
}

static void rfc5321_4_5_3_1_4_513_too_long(void **state)
{
    char buf[600];
    smtpw__line l;
    size_t used, n;
    (void)state;
    smtpw__line_reset(&l);
    memset(buf, 'x', sizeof buf);
    memcpy(buf + 511, "\r\nNOOP\r\n", 8);
    /* the LF is past the limit: only up to it is consumed */
    assert_int_equal(next(&l, buf, 519, 512, SMTPW_BARE_REJECT, &used, &n), SMTPW__LINE_TOOLONG);
    assert_int_equal(used, 513);
    assert_int_equal(l.discard, 0);
    assert_int_equal(next(&l, buf + 513, 6, 512, SMTPW_BARE_REJECT, &used, &n), SMTPW__LINE_OK);
    assert_int_equal(n, 4);
}

static void discard_to_lf_in_pieces(void **state)
{
    char buf[512];
    smtpw__line l;
    size_t used, n;
    (void)state;
    smtpw__line_reset(&l);
    memset(buf, 'y', sizeof buf);
    assert_int_equal(next(&l, buf, 512, 512, SMTPW_BARE_REJECT, &used, &n), SMTPW__LINE_MORE);
    assert_int_equal(used, 512);
    assert_int_equal(next(&l, buf, 100, 512, SMTPW_BARE_REJECT, &used, &n), SMTPW__LINE_MORE);
    assert_int_equal(used, 100);
    /* even a bare LF ends the discarded line */
    assert_int_equal(next(&l, "yy\nNOOP\r\n", 9, 512, SMTPW_BARE_REJECT, &used, &n),
                     SMTPW__LINE_TOOLONG);
    assert_int_equal(used, 3);
    assert_int_equal(next(&l, "NOOP\r\n", 6, 512, SMTPW_BARE_REJECT, &used, &n), SMTPW__LINE_OK);
}

static void configurable_limit(void **state)
{
    char buf[1000];
    smtpw__line l;
    size_t used, n;
    (void)state;
    smtpw__line_reset(&l);
    memset(buf, 'z', sizeof buf);
    memcpy(buf + 998, "\r\n", 2);
    assert_int_equal(next(&l, buf, 1000, 1000, SMTPW_BARE_REJECT, &used, &n), SMTPW__LINE_OK);
    assert_int_equal(next(&l, buf, 1000, 999, SMTPW_BARE_REJECT, &used, &n), SMTPW__LINE_TOOLONG);
}

static void rfc5321_2_3_8_bare_lf_policies(void **state)
{
    smtpw__line l;
    size_t used, n;
    (void)state;
    smtpw__line_reset(&l);
    assert_int_equal(next(&l, "NOOP\nX", 6, 512, SMTPW_BARE_REJECT, &used, &n), SMTPW__LINE_BARE);
    assert_int_equal(used, 5);
    assert_int_equal(next(&l, "NOOP\nX", 6, 512, SMTPW_BARE_NORMALIZE, &used, &n), SMTPW__LINE_OK);
    assert_int_equal(used, 5);
    assert_int_equal(n, 4);
    assert_int_equal(next(&l, "NOOP\nX", 6, 512, SMTPW_BARE_KEEP, &used, &n), SMTPW__LINE_OK);
    assert_int_equal(n, 4);
    assert_int_equal(next(&l, "\n", 1, 512, SMTPW_BARE_KEEP, &used, &n), SMTPW__LINE_OK);
    assert_int_equal(n, 0);
}

static void rfc5321_2_3_8_bare_cr_never_ends_a_line(void **state)
{
    smtpw__line l;
    size_t used, n;
    (void)state;
    smtpw__line_reset(&l);
    assert_int_equal(next(&l, "MAIL FROM:<a@b>\rRCPT TO:<c@d>\r\n", 31, 512, SMTPW_BARE_REJECT,
                          &used, &n),
                     SMTPW__LINE_BARE);
    assert_int_equal(used, 31);
    assert_int_equal(next(&l, "NOOP\r\r\n", 7, 512, SMTPW_BARE_NORMALIZE, &used, &n),
                     SMTPW__LINE_BARE);
    assert_int_equal(used, 7);
    assert_int_equal(next(&l, "NO\rOP\r\n", 7, 512, SMTPW_BARE_KEEP, &used, &n), SMTPW__LINE_OK);
    assert_int_equal(n, 5);
    /* a CR alone at the end of the input is not a line end either */
    assert_int_equal(next(&l, "NOOP\r", 5, 512, SMTPW_BARE_REJECT, &used, &n), SMTPW__LINE_MORE);
    assert_int_equal(used, 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(rfc5321_2_3_8_crlf_ends_a_line),
        cmocka_unit_test(partial_line_not_consumed_and_scan_resumes),
        cmocka_unit_test(shorter_representation_rescans),
        cmocka_unit_test(rfc5321_4_5_3_1_4_exactly_512_ok),
        cmocka_unit_test(rfc5321_4_5_3_1_4_513_too_long),
        cmocka_unit_test(discard_to_lf_in_pieces),
        cmocka_unit_test(configurable_limit),
        cmocka_unit_test(rfc5321_2_3_8_bare_lf_policies),
        cmocka_unit_test(rfc5321_2_3_8_bare_cr_never_ends_a_line),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
