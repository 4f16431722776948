/* Reply lines (RFC 5321 4.2): the internal line reader and the public
 * smtpw_client_recv() over it.  Every input sits flush against a guard page.
 * SPDX-License-Identifier: MIT */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "guardbuf.h"
#include "client/reply_read.h"
#include "smtpwire/smtpwire.h"

static union {
    uint64_t align;
    void *p;
    unsigned char b[SMTPW_CLIENT_SIZE_HINT];
} mem;

/* The line reader on s, placed against the guard page. */
static int rline(const char *s, size_t maxline, struct smtpw__rline *rl)
{
    const uint8_t *p = guardbuf_put(s, strlen(s));
    memset(rl, 0, sizeof *rl);
    return smtpw__reply_line(p, strlen(s), maxline, rl);
}

/* A client awaiting its greeting, or with a NOOP outstanding after it. */
static smtpw_client *fresh(uint32_t max_line, uint32_t max_lines)
{
    smtpw_client_config cfg;
    smtpw_client *c;
    smtpw_client_config_init(&cfg, SMTPW_CLIENT_CONFIG_VERSION);
    if (max_line)
        cfg.max_reply_line = max_line;
    if (max_lines)
        cfg.max_reply_lines = max_lines;
    assert_int_equal(smtpw_client_init(&mem, sizeof mem, &cfg, &c), 0);
    return c;
}

/* recv on a guarded copy of s; returns the result and sets *used. */
static int recv_g(smtpw_client *c, const char *s, size_t len, size_t *used, smtpw_event *ev)
{
    const uint8_t *p = guardbuf_put(s, len);
    int r = smtpw_client_recv(c, p, len, used, ev, sizeof *ev);
    if (r == SMTPW_EV_REPLY) {
        /* spans stay inside the input */
        assert_true((const uint8_t *)ev->line.ptr >= p);
        assert_true((const uint8_t *)ev->line.ptr + ev->line.len <= p + len);
        assert_true((const uint8_t *)ev->arg.ptr >= p);
        assert_true((const uint8_t *)ev->arg.ptr + ev->arg.len <= p + len);
    }
    return r;
}

static void rfc5321_4_2_single_line(void **state)
{
    struct smtpw__rline rl;
    (void)state;
    assert_int_equal(rline("250 OK\r\n", 512, &rl), 1);
    assert_int_equal(rl.code, 250);
    assert_true(rl.last);
    assert_int_equal(rl.len, 6);
    assert_int_equal(rl.consumed, 8);
    assert_int_equal(rl.text_off, 4);
    /* only the first line is taken */
    assert_int_equal(rline("250 OK\r\n250 next\r\n", 512, &rl), 1);
    assert_int_equal(rl.consumed, 8);
}

static void rfc5321_4_2_continuation_line(void **state)
{
    struct smtpw__rline rl;
    (void)state;
    assert_int_equal(rline("250-mx.example\r\n", 512, &rl), 1);
    assert_false(rl.last);
    assert_int_equal(rl.text_off, 4);
    assert_int_equal(rline("250-\r\n", 512, &rl), 1); /* empty continuation text */
    assert_false(rl.last);
    assert_int_equal(rl.len, 4);
    assert_int_equal(rline("250 \r\n", 512, &rl), 1);
    assert_true(rl.last);
}

/* CVE-2020-8794 class: a last line of only the code has empty text and
 * nothing past it may be read. */
static void rfc5321_4_2_bare_code_is_last_line(void **state)
{
    struct smtpw__rline rl;
    (void)state;
    assert_int_equal(rline("250\r\n", 512, &rl), 1);
    assert_true(rl.last);
    assert_int_equal(rl.len, 3);
    assert_int_equal(rl.text_off, 3);
    assert_int_equal(rl.consumed, 5);
}

static void rfc5321_4_2_bad_codes(void **state)
{
    static const char *const bad[] = {
        "000 x\r\n", "199 x\r\n", "600 x\r\n", "2x0 x\r\n", "260 x\r\n", "25 x\r\n",
        "25\r\n",    "\r\n",      " 250 x\r\n", "250x\r\n", "250_x\r\n", "2500 x\r\n",
        "-250 x\r\n", "a50 x\r\n", "100 x\r\n", "699 x\r\n",
    };
    struct smtpw__rline rl;
    size_t i;
    (void)state;
    for (i = 0; i < sizeof bad / sizeof bad[0]; i++)
        assert_int_equal(rline(bad[i], 512, &rl), SMTPW_E_PROTO);
    assert_int_equal(rline("559 x\r\n", 512, &rl), 1); /* the grammar's last code */
    assert_int_equal(rline("200 x\r\n", 512, &rl), 1);
}

static void rfc5321_4_2_missing_space_or_hyphen(void **state)
{
    struct smtpw__rline rl;
    (void)state;
    assert_int_equal(rline("250OK\r\n", 512, &rl), SMTPW_E_PROTO);
    assert_int_equal(rline("250\tOK\r\n", 512, &rl), SMTPW_E_PROTO);
    assert_int_equal(rline("250=OK\r\n", 512, &rl), SMTPW_E_PROTO);
}

/* Strict line ends: a bare LF or a CR inside the line is an error. */
static void rfc5321_2_3_8_bare_lf_and_cr_refused(void **state)
{
    struct smtpw__rline rl;
    (void)state;
    assert_int_equal(rline("250 OK\n", 512, &rl), SMTPW_E_PROTO);
    assert_int_equal(rline("\n", 512, &rl), SMTPW_E_PROTO);
    assert_int_equal(rline("250 O\rK\r\n", 512, &rl), SMTPW_E_PROTO);
    assert_int_equal(rline("250 O\r\r\n", 512, &rl), SMTPW_E_PROTO);
    {
        static const char nul[] = "250 O\0K\r\n";
        const uint8_t *p = guardbuf_put(nul, sizeof nul - 1);
        assert_int_equal(smtpw__reply_line(p, sizeof nul - 1, 512, &rl), SMTPW_E_PROTO);
    }
    assert_int_equal(rline("250 O\x7fK\r\n", 512, &rl), SMTPW_E_PROTO);
    /* HT and 8-bit text are tolerated */
    assert_int_equal(rline("250 a\tb \xc3\xa9\r\n", 512, &rl), 1);
}

static void config_max_reply_line(void **state)
{
    char buf[700];
    struct smtpw__rline rl;
    (void)state;
    memset(buf, 'a', sizeof buf);
    memcpy(buf, "250 ", 4);
    /* exactly 512 with CRLF: fine */
    memcpy(buf + 510, "\r\n", 3);
    assert_int_equal(rline(buf, 512, &rl), 1);
    assert_int_equal(rl.consumed, 512);
    /* 513: an error once the limit is reached, without the LF in sight */
    buf[510] = 'a';
    memcpy(buf + 511, "\r\n", 3);
    assert_int_equal(rline(buf, 512, &rl), SMTPW_E_PROTO);
    buf[511] = 0;
    assert_int_equal(rline(buf, 512, &rl), 0); /* 511 bytes, no LF: wait */
    buf[511] = 'a';
    buf[512] = 0;
    assert_int_equal(rline(buf, 512, &rl), SMTPW_E_PROTO); /* 512, no LF: too long */
}

static void rfc3463_enhanced_split(void **state)
{
    unsigned k = 9, s = 9, d = 9;
    size_t skip = 99;
    (void)state;
    assert_int_equal(smtpw__reply_enhanced("2.1.0 Ok", 8, 250, &k, &s, &d, &skip), 1);
    assert_int_equal(k, 2);
    assert_int_equal(s, 1);
    assert_int_equal(d, 0);
    assert_int_equal(skip, 6);
    assert_int_equal(smtpw__reply_enhanced("5.7.1", 5, 550, &k, &s, &d, &skip), 1);
    assert_int_equal(skip, 5);
    assert_int_equal(smtpw__reply_enhanced("4.4.2 x", 7, 421, &k, &s, &d, &skip), 1);
    assert_int_equal(smtpw__reply_enhanced("123.456.789 x", 13, 550, &k, &s, &d, &skip), 0);
    /* class must repeat the reply's first digit */
    assert_int_equal(smtpw__reply_enhanced("5.1.1 x", 7, 250, &k, &s, &d, &skip), 0);
    assert_int_equal(smtpw__reply_enhanced("2.1.0x", 6, 250, &k, &s, &d, &skip), 0);
    assert_int_equal(smtpw__reply_enhanced("2.1", 3, 250, &k, &s, &d, &skip), 0);
    assert_int_equal(smtpw__reply_enhanced("2.1.1000 x", 10, 250, &k, &s, &d, &skip), 0);
    assert_int_equal(smtpw__reply_enhanced("", 0, 250, &k, &s, &d, &skip), 0);
    assert_int_equal(smtpw__reply_enhanced("Ok", 2, 250, &k, &s, &d, &skip), 0);
    /* 354 has no enhanced class */
    assert_int_equal(smtpw__reply_enhanced("3.0.0 go", 8, 354, &k, &s, &d, &skip), 0);
}

/* Public API: greeting with an enhanced code, text span exact. */
static void rfc5321_4_2_recv_event_fields(void **state)
{
    static const char g[] = "220 2.0.0 mx.example ESMTP\r\n";
    smtpw_client *c = fresh(0, 0);
    smtpw_event ev;
    size_t used;
    (void)state;
    assert_int_equal(recv_g(c, g, sizeof g - 1, &used, &ev), SMTPW_EV_REPLY);
    assert_int_equal(used, sizeof g - 1);
    assert_int_equal(ev.cmd, SMTPW_CMD_GREETING);
    assert_int_equal(ev.code, 220);
    assert_int_equal(ev.flags, SMTPW_EVF_LAST | SMTPW_EVF_ENHANCED);
    assert_int_equal(ev.enh_class, 2);
    assert_int_equal(ev.enh_subject, 0);
    assert_int_equal(ev.enh_detail, 0);
    assert_int_equal(ev.line.len, sizeof g - 3);
    assert_int_equal(ev.arg.len, 16);
    assert_memory_equal(ev.arg.ptr, "mx.example ESMTP", 16);
}

static void noop_out(smtpw_client *c)
{
    size_t n;
    static const char g[] = "220 mx\r\n";
    smtpw_event ev;
    size_t used;
    assert_int_equal(recv_g(c, g, sizeof g - 1, &used, &ev), SMTPW_EV_REPLY);
    assert_int_equal(smtpw_client_noop(c), 0);
    smtpw_client_output(c, &n);
    smtpw_client_output_ack(c, n);
}

/* A multi-line reply arrives one line per event; mixed codes are fatal. */
static void rfc5321_4_2_1_same_code_every_line(void **state)
{
    static const char ok[] = "250-a\r\n250-\r\n250\r\n";
    static const char mixed[] = "250-a\r\n251 b\r\n";
    smtpw_client *c = fresh(0, 0);
    smtpw_event ev;
    size_t used, off = 0;
    int i;
    (void)state;
    noop_out(c);
    for (i = 0; i < 3; i++) {
        assert_int_equal(recv_g(c, ok + off, sizeof ok - 1 - off, &used, &ev), SMTPW_EV_REPLY);
        assert_int_equal(ev.cmd, SMTPW_CMD_NOOP);
        assert_int_equal(ev.flags & SMTPW_EVF_LAST, i == 2 ? SMTPW_EVF_LAST : 0u);
        off += used;
    }
    assert_int_equal(off, sizeof ok - 1);
    assert_int_equal(ev.arg.len, 0);
    assert_int_equal(smtpw_client_pending(c), 0);

    c = fresh(0, 0);
    noop_out(c);
    assert_int_equal(recv_g(c, mixed, sizeof mixed - 1, &used, &ev), SMTPW_EV_REPLY);
    assert_int_equal(recv_g(c, mixed + used, sizeof mixed - 1 - used, &used, &ev),
                     SMTPW_E_PROTO);
    assert_int_equal(used, 0);
    /* sticky */
    assert_int_equal(recv_g(c, "250 x\r\n", 7, &used, &ev), SMTPW_E_PROTO);
    assert_int_equal(smtpw_client_noop(c), SMTPW_E_PROTO);
    assert_int_equal(smtpw_client_want(c), SMTPW_WANT_CLOSE);
}

/* An endless multi-line reply ends at max_reply_lines. */
static void config_max_reply_lines(void **state)
{
    smtpw_client *c = fresh(0, 3);
    smtpw_event ev;
    size_t used;
    (void)state;
    noop_out(c);
    assert_int_equal(recv_g(c, "250-1\r\n", 7, &used, &ev), SMTPW_EV_REPLY);
    assert_int_equal(recv_g(c, "250-2\r\n", 7, &used, &ev), SMTPW_EV_REPLY);
    assert_int_equal(recv_g(c, "250 3\r\n", 7, &used, &ev), SMTPW_EV_REPLY); /* 3 is fine */
    assert_int_equal(smtpw_client_noop(c), 0);
    smtpw_client_output(c, &used);
    smtpw_client_output_ack(c, used);
    assert_int_equal(recv_g(c, "250-1\r\n", 7, &used, &ev), SMTPW_EV_REPLY);
    assert_int_equal(recv_g(c, "250-2\r\n", 7, &used, &ev), SMTPW_EV_REPLY);
    assert_int_equal(recv_g(c, "250-3\r\n", 7, &used, &ev), SMTPW_EV_REPLY);
    assert_int_equal(recv_g(c, "250-4\r\n", 7, &used, &ev), SMTPW_E_PROTO);
    assert_int_equal(used, 0);
}

/* An over-long line fails as soon as max_reply_line bytes are in, with
 * nothing consumed and nothing buffered. */
static void config_over_long_line_public(void **state)
{
    char buf[600];
    smtpw_client *c = fresh(512, 0);
    smtpw_event ev;
    size_t used = 99;
    (void)state;
    memset(buf, 'x', sizeof buf);
    memcpy(buf, "220 ", 4);
    assert_int_equal(recv_g(c, buf, 511, &used, &ev), SMTPW_EV_NONE);
    assert_int_equal(used, 0);
    assert_int_equal(recv_g(c, buf, 512, &used, &ev), SMTPW_E_PROTO);
    assert_int_equal(used, 0);
}

/* Every prefix of a multi-line reply: nothing consumed until a whole line,
 * then exactly that line; the event sequence is the same at any split. */
static void rfc5321_4_2_every_split(void **state)
{
    static const char r[] = "220-mx.example ESMTP\r\n220-\r\n220 2.0.0 ready\r\n";
    const size_t n = sizeof r - 1;
    size_t split;
    (void)state;
    for (split = 0; split <= n; split++) {
        smtpw_client *c = fresh(0, 0);
        smtpw_event ev;
        size_t have = 0, used, lines = 0;
        size_t avail = split; /* bytes the "network" delivered so far */
        while (have < n) {
            int rc = recv_g(c, r + have, avail - have, &used, &ev);
            assert_true(rc == SMTPW_EV_REPLY || rc == SMTPW_EV_NONE);
            if (rc == SMTPW_EV_NONE) {
                assert_int_equal(used, 0);
                assert_true(avail < n);
                avail = n; /* the rest arrives */
                continue;
            }
            assert_true(used <= avail - have);
            assert_int_equal(r[have + used - 1], '\n');
            have += used;
            lines++;
        }
        assert_int_equal(lines, 3);
        assert_int_equal(ev.flags, SMTPW_EVF_LAST | SMTPW_EVF_ENHANCED);
        assert_int_equal(ev.arg.len, 5);
        assert_int_equal(smtpw_client_pending(c), 0);
    }
}

/* Byte by byte: every proper prefix of a line gives NONE. */
static void rfc5321_4_2_prefixes_consume_nothing(void **state)
{
    static const char r[] = "250-8BITMIME\r\n";
    size_t k;
    (void)state;
    for (k = 0; k < sizeof r - 1; k++) {
        smtpw_client *c = fresh(0, 0);
        smtpw_event ev;
        size_t used = 99;
        assert_int_equal(recv_g(c, r, k, &used, &ev), SMTPW_EV_NONE);
        assert_int_equal(used, 0);
        assert_int_equal(ev.type, SMTPW_EV_NONE);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(rfc5321_4_2_single_line),
        cmocka_unit_test(rfc5321_4_2_continuation_line),
        cmocka_unit_test(rfc5321_4_2_bare_code_is_last_line),
        cmocka_unit_test(rfc5321_4_2_bad_codes),
        cmocka_unit_test(rfc5321_4_2_missing_space_or_hyphen),
        cmocka_unit_test(rfc5321_2_3_8_bare_lf_and_cr_refused),
        cmocka_unit_test(config_max_reply_line),
        cmocka_unit_test(rfc3463_enhanced_split),
        cmocka_unit_test(rfc5321_4_2_recv_event_fields),
        cmocka_unit_test(rfc5321_4_2_1_same_code_every_line),
        cmocka_unit_test(config_max_reply_lines),
        cmocka_unit_test(config_over_long_line_public),
        cmocka_unit_test(rfc5321_4_2_every_split),
        cmocka_unit_test(rfc5321_4_2_prefixes_consume_nothing),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
