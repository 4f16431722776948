/*
 * The driver contract (api.md A, server.h): the server core driven through
 * exactly the documented loop, with 1, 10, 100 and 1000 pipelined commands
 * sent in one flight, read in pieces of 1, 7, 64 and 4096 bytes, and the
 * output drained 1, 3, 17, 512 bytes at a time or all at once (every
 * partial write the API allows).  Every reply must come, in order, and the
 * loop must never wait for bytes the peer will not send before it has its
 * replies (the embed-static stall: EHLO, MAIL, 15 RCPT, DATA in one write
 * got 20 of 23 replies).  SPDX-License-Identifier: MIT
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "smtpwire/smtpwire.h"

/* The peer: its whole pipelined flight, and the reply codes it awaits. */
static char flight[1 << 17];
static size_t flight_len;
static unsigned want_codes[4096];
static size_t nwant;

static void add(const char *cmd, unsigned code)
{
    size_t n = strlen(cmd);
    assert_true(flight_len + n < sizeof flight);
    memcpy(flight + flight_len, cmd, n);
    flight_len += n;
    if (code) {
        assert_true(nwant < sizeof want_codes / sizeof want_codes[0]);
        want_codes[nwant++] = code;
    }
}

/* n commands: EHLO, then transactions of MAIL, 15 RCPT, DATA (+ a body)
 * with NOOP and RSET between them, and QUIT last (RFC 2920 lets a client
 * send all of it in one flight when the server offers PIPELINING). */
static void make_flight(unsigned n)
{
    static const char *const cycle[] = {"MAIL", "RCPT", "RCPT", "RCPT", "RCPT", "RCPT", "RCPT",
                                        "RCPT", "RCPT", "RCPT", "RCPT", "RCPT", "RCPT", "RCPT",
                                        "RCPT", "RCPT", "DATA", "NOOP", "RSET", "NOOP"};
    unsigned i, k = 0, in_txn = 0;
    char line[128];
    flight_len = 0;
    nwant = 0;
    want_codes[nwant++] = 220; /* the greeting */
    if (n > 1)
        add("EHLO client.example\r\n", 250);
    for (i = 2; i < n; i++, k++) {
        const char *c = cycle[k % (sizeof cycle / sizeof cycle[0])];
        if (strcmp(c, "MAIL") == 0) {
            add("MAIL FROM:<sender@client.example>\r\n", 250);
            in_txn = 1;
        } else if (strcmp(c, "RCPT") == 0) {
            snprintf(line, sizeof line, "RCPT TO:<user%u@server.example>\r\n", i);
            add(line, in_txn ? 250 : 503);
        } else if (strcmp(c, "DATA") == 0) {
            add("DATA\r\n", in_txn ? 354 : 503);
            if (in_txn)
                add("Subject: pipelined\r\n\r\nline one\r\n..dot\r\n.\r\n", 250);
            in_txn = 0;
        } else {
            add(strcmp(c, "NOOP") == 0 ? "NOOP\r\n" : "RSET\r\n", 250);
            if (strcmp(c, "RSET") == 0)
                in_txn = 0;
        }
    }
    add("QUIT\r\n", 221);
}

/* Reply lines the peer received, split as a client would (RFC 5321 4.2). */
static char rx[1 << 20];
static size_t rx_len;

static size_t count_replies(unsigned *codes, size_t cap)
{
    size_t i = 0, n = 0, start = 0;
    for (i = 0; i + 1 < rx_len; i++) {
        if (rx[i] == '\r' && rx[i + 1] == '\n') {
            if (i - start >= 4 && rx[start + 3] == ' ' && n < cap)
                codes[n++] = (unsigned)((rx[start] - '0') * 100 + (rx[start + 1] - '0') * 10 +
                                        (rx[start + 2] - '0'));
            start = i + 2;
        }
    }
    return n;
}

/* The loop of server.h, README and examples/embed-static.c, with reads of
 * `rd` bytes and drains of `dr` bytes (0: all). */
static void run(unsigned ncmd, size_t rd, size_t dr)
{
    static uint64_t mem[SMTPW_SERVER_SIZE_HINT / 8 + 1];
    static uint8_t buf[4096];
    smtpw_server_config cfg;
    smtpw_server *s;
    smtpw_event ev;
    size_t len = 0, off = 0, used = 0, sent = 0, steps = 0, bound, n;
    unsigned got[4096];
    uint32_t w;

    make_flight(ncmd);
    rx_len = 0;
    assert_int_equal(smtpw_server_config_init(&cfg, SMTPW_SERVER_CONFIG_VERSION), 0);
    cfg.hostname = "server.example";
    cfg.hostname_len = strlen(cfg.hostname);
    assert_int_equal(smtpw_server_init(mem, sizeof mem, &cfg, &s), 0);
    /* generous: every byte in or out may cost one turn */
    bound = 64 + (flight_len / rd + 1) * 4 + nwant * 600 / (dr ? dr : 512) * 4 + nwant * 4;

    for (;;) {
        int t;
        const uint8_t *out;
        assert_true(++steps < bound);
        while ((t = smtpw_server_recv(s, buf + off, len - off, &used, &ev, sizeof ev)) > 0) {
            off += used;
            if (smtpw_server_want(s) & SMTPW_WANT_REPLY) /* handle(): the defaults */
                assert_int_equal(smtpw_server_reply(s, 0, NULL, 0, NULL, 0), 0);
        }
        if (t < 0) {
            assert_int_equal(t, SMTPW_E_CLOSED);
            break;
        }
        off += used;
        out = smtpw_server_output(s, &n); /* drain (a partial write) */
        assert_non_null(out);
        if (dr && n > dr)
            n = dr;
        assert_true(rx_len + n <= sizeof rx);
        memcpy(rx + rx_len, out, n);
        rx_len += n;
        smtpw_server_output_ack(s, n);
        w = smtpw_server_want(s);
        if (w & SMTPW_WANT_CLOSE)
            break;
        if (!(w & SMTPW_WANT_READ))
            continue; /* input still pending: run it first */
        memmove(buf, buf + off, len - off);
        len -= off;
        off = 0;
        /* read more: the peer sent its whole flight and now waits for its
         * replies, so asking for more once it is all given is the stall */
        if (sent == flight_len) {
            if (w & SMTPW_WANT_WRITE)
                continue; /* drain first: the replies are still queued */
            n = count_replies(got, 4096);
            fail_msg("stall: %u commands, reads of %zu, drains of %zu: want() 0x%x with all "
                     "%zu bytes given, %zu of %zu replies",
                     ncmd, rd, dr, (unsigned)w, flight_len, n, nwant);
        }
        n = flight_len - sent < rd ? flight_len - sent : rd;
        if (n > sizeof buf - len)
            n = sizeof buf - len;
        assert_true(n > 0); /* the buffer holds more than a command line */
        memcpy(buf + len, flight + sent, n);
        sent += n;
        len += n;
    }
    /* what is still queued after CLOSE goes out before the close */
    {
        const uint8_t *out = smtpw_server_output(s, &n);
        memcpy(rx + rx_len, out, n);
        rx_len += n;
    }
    n = count_replies(got, 4096);
    if (n != nwant)
        fail_msg("%u commands, reads of %zu, drains of %zu: %zu of %zu replies", ncmd, rd, dr, n,
                 nwant);
    for (n = 0; n < nwant; n++)
        if (got[n] != want_codes[n])
            fail_msg("%u commands, reads of %zu, drains of %zu: reply %zu is %u, expected %u",
                     ncmd, rd, dr, n, got[n], want_codes[n]);
}

static const size_t reads[] = {1, 7, 64, 4096};
static const size_t drains[] = {1, 3, 17, 512, 0};

static void loop_all(unsigned ncmd)
{
    size_t i, j;
    for (i = 0; i < sizeof reads / sizeof reads[0]; i++)
        for (j = 0; j < sizeof drains / sizeof drains[0]; j++)
            run(ncmd, reads[i], drains[j]);
}

static void rfc2920_documented_loop_1_command(void **state)
{
    (void)state;
    loop_all(1);
}

static void rfc2920_documented_loop_10_pipelined_commands(void **state)
{
    (void)state;
    loop_all(10);
}

static void rfc2920_documented_loop_100_pipelined_commands(void **state)
{
    (void)state;
    loop_all(100);
}

static void rfc2920_documented_loop_1000_pipelined_commands(void **state)
{
    (void)state;
    loop_all(1000);
}

/* The embed-static case: EHLO, MAIL, 15 RCPT, DATA, a body and QUIT in one
 * write, read at once, every reply written at once. */
static void rfc2920_ehlo_mail_15_rcpt_data_in_one_write(void **state)
{
    (void)state;
    run(19, 4096, 0);
    assert_int_equal(nwant, 1 + 1 + 1 + 15 + 1 + 1 + 1);
}

/* api.md A: after NONE, READ only when every complete line was used. */
static void want_read_only_when_input_used_up(void **state)
{
    static uint64_t mem[SMTPW_SERVER_SIZE_HINT / 8 + 1];
    static const char in[] = "NOOP\r\nNOOP\r\nNOO";
    smtpw_server *s;
    smtpw_event ev;
    size_t used = 99;
    (void)state;
    assert_int_equal(smtpw_server_init(mem, sizeof mem, NULL, &s), 0);
    assert_true(smtpw_server_want(s) & SMTPW_WANT_READ); /* nothing given yet */
    /* both NOOPs run in one call; the rest is an incomplete line */
    assert_int_equal(smtpw_server_recv(s, (const uint8_t *)in, sizeof in - 1, &used, &ev, sizeof ev),
                     SMTPW_EV_NONE);
    assert_int_equal(used, 12);
    assert_int_equal(smtpw_server_want(s), SMTPW_WANT_READ | SMTPW_WANT_WRITE);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(rfc2920_documented_loop_1_command),
        cmocka_unit_test(rfc2920_documented_loop_10_pipelined_commands),
        cmocka_unit_test(rfc2920_documented_loop_100_pipelined_commands),
        cmocka_unit_test(rfc2920_documented_loop_1000_pipelined_commands),
        cmocka_unit_test(rfc2920_ehlo_mail_15_rcpt_data_in_one_write),
        cmocka_unit_test(want_read_only_when_input_used_up),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
