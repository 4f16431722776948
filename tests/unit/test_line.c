/* Command-line framing (lib/line.c): only CRLF ends a line, bare CR/LF
 * policy, 512-octet limit with discard-to-CRLF, resume offsets.  SPDX-License-Identifier: MIT */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "guardbuf.h"
#include "server/line.h"

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
    assert_int_equal(used, 10);
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

/* An over-long line is dropped up to its CRLF, never to a bare LF: what
 * follows a bare LF inside it is still the same line (RFC 5321 2.3.8). */
static void rfc5321_2_3_8_overlong_line_dropped_to_its_crlf_in_pieces(void **state)
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
    /* a bare LF, even one right after the dropped part, ends nothing */
    assert_int_equal(next(&l, "\nyy\nMAIL FROM:<x@example.org>", 30, 512, SMTPW_BARE_REJECT, &used,
                          &n),
                     SMTPW__LINE_MORE);
    assert_int_equal(used, 30);
    /* a CR at the end of one piece and its LF at the start of the next */
    assert_int_equal(next(&l, "yy\r", 3, 512, SMTPW_BARE_REJECT, &used, &n), SMTPW__LINE_MORE);
    assert_int_equal(used, 3);
    assert_int_equal(l.discard, 2);
    assert_int_equal(next(&l, "\nNOOP\r\n", 7, 512, SMTPW_BARE_REJECT, &used, &n),
                     SMTPW__LINE_TOOLONG);
    assert_int_equal(used, 1);
    assert_int_equal(l.discard, 0);
    assert_int_equal(next(&l, "NOOP\r\n", 6, 512, SMTPW_BARE_REJECT, &used, &n), SMTPW__LINE_OK);
    /* a CR at the end of a piece followed by anything else is a bare CR */
    assert_int_equal(next(&l, buf, 512, 512, SMTPW_BARE_KEEP, &used, &n), SMTPW__LINE_MORE);
    assert_int_equal(next(&l, "y\r", 2, 512, SMTPW_BARE_KEEP, &used, &n), SMTPW__LINE_MORE);
    assert_int_equal(next(&l, "y\nNOOP\r\n", 8, 512, SMTPW_BARE_KEEP, &used, &n),
                     SMTPW__LINE_TOOLONG);
    assert_int_equal(used, 8);
    /* the CRLF of an over-long line within the same input */
    assert_int_equal(next(&l, buf, 512, 512, SMTPW_BARE_NORMALIZE, &used, &n), SMTPW__LINE_MORE);
    assert_int_equal(next(&l, "\r\r\n\nNOOP\r\n", 11, 512, SMTPW_BARE_NORMALIZE, &used, &n),
                     SMTPW__LINE_TOOLONG);
    assert_int_equal(used, 3);
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

/* RFC 5321 2.3.8: no sequence but CRLF ends a line, under every policy.
 * "RSET<LF>MAIL ...<CRLF>" is one line (as a CRLF-splitting filter in
 * front sees it): refused whole under REJECT and NORMALIZE, handed on
 * whole, LF inside, under KEEP.  Nothing behind the LF is a line of its own. */
static void rfc5321_2_3_8_bare_lf_never_ends_a_command(void **state)
{
    static const char in[] = "RSET\nMAIL FROM:<x@example.org>\r\nNOOP\r\n";
    const size_t len = sizeof in - 1, first = 32;
    unsigned pol;
    smtpw__line l;
    size_t used, n, i;
    (void)state;
    for (pol = SMTPW_BARE_REJECT; pol <= SMTPW_BARE_KEEP; pol++) {
        smtpw__line_reset(&l);
        /* every prefix short of the CRLF waits: nothing consumed */
        for (i = 0; i < first; i++) {
            assert_int_equal(next(&l, in, i, 512, pol, &used, &n), SMTPW__LINE_MORE);
            assert_int_equal(used, 0);
        }
        assert_int_equal(next(&l, in, len, 512, pol, &used, &n),
                         pol == SMTPW_BARE_KEEP ? SMTPW__LINE_OK : SMTPW__LINE_BARE);
        assert_int_equal(used, first);
        assert_int_equal(n, first - 2);
        assert_int_equal(next(&l, in + first, len - first, 512, pol, &used, &n), SMTPW__LINE_OK);
        assert_int_equal(n, 4);
        /* a bare LF right before the CRLF, and a line of bare LFs */
        assert_int_equal(next(&l, "NOOP\n\r\n", 7, 512, pol, &used, &n),
                         pol == SMTPW_BARE_KEEP ? SMTPW__LINE_OK : SMTPW__LINE_BARE);
        assert_int_equal(used, 7);
        assert_int_equal(n, 5);
        assert_int_equal(next(&l, "\n\n\n", 3, 512, pol, &used, &n), SMTPW__LINE_MORE);
        assert_int_equal(used, 0);
        assert_int_equal(next(&l, "\n\n\r\n", 4, 512, pol, &used, &n),
                         pol == SMTPW_BARE_KEEP ? SMTPW__LINE_OK : SMTPW__LINE_BARE);
        assert_int_equal(used, 4);
    }
}

/* RFC 5321 4.5.3.1.4 with 2.3.8: a bare LF does not restart the count.  A
 * line whose CRLF is not within max octets is over-long, bare LFs or not;
 * one that fits with its CRLF is judged by the bare policy. */
static void rfc5321_4_5_3_1_4_bare_lf_does_not_reset_the_limit(void **state)
{
    char buf[700];
    unsigned pol;
    smtpw__line l;
    size_t used, n;
    (void)state;
    for (pol = SMTPW_BARE_REJECT; pol <= SMTPW_BARE_KEEP; pol++) {
        smtpw__line_reset(&l);
        memset(buf, 'x', sizeof buf);
        buf[300] = '\n';
        memcpy(buf + 600, "\r\nNOOP\r\n", 8);
        /* 300 + 1 + 299 + CRLF: over 512, and no earlier CRLF */
        assert_int_equal(next(&l, buf, 400, 512, pol, &used, &n), SMTPW__LINE_MORE);
        assert_int_equal(used, 0);
        assert_int_equal(next(&l, buf, 608, 512, pol, &used, &n), SMTPW__LINE_TOOLONG);
        assert_int_equal(used, 602);
        assert_int_equal(next(&l, buf + 602, 6, 512, pol, &used, &n), SMTPW__LINE_OK);
        /* the same when the CRLF arrives after the line was dropped in part */
        assert_int_equal(next(&l, buf, 520, 512, pol, &used, &n), SMTPW__LINE_MORE);
        assert_int_equal(used, 520);
        assert_int_equal(next(&l, buf + 520, 88, 512, pol, &used, &n), SMTPW__LINE_TOOLONG);
        assert_int_equal(used, 82);
        /* exactly 512 with its CRLF and a bare LF inside: not too long */
        memset(buf, 'x', sizeof buf);
        buf[300] = '\n';
        memcpy(buf + 510, "\r\n", 2);
        assert_int_equal(next(&l, buf, 512, 512, pol, &used, &n),
                         pol == SMTPW_BARE_KEEP ? SMTPW__LINE_OK : SMTPW__LINE_BARE);
        assert_int_equal(used, 512);
        assert_int_equal(n, 510);
    }
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
        cmocka_unit_test(rfc5321_2_3_8_overlong_line_dropped_to_its_crlf_in_pieces),
        cmocka_unit_test(configurable_limit),
        cmocka_unit_test(rfc5321_2_3_8_bare_lf_never_ends_a_command),
        cmocka_unit_test(rfc5321_4_5_3_1_4_bare_lf_does_not_reset_the_limit),
        cmocka_unit_test(rfc5321_2_3_8_bare_cr_never_ends_a_line),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
