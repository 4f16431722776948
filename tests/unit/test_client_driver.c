/* The client core driven through exactly the loop client.h documents
 * (api.md A), against a scripted in-memory server: every reply arrives,
 * matched to its command, whatever the read and write sizes, and the loop
 * never stalls (no read asked for while nothing can come).
 * SPDX-License-Identifier: MIT */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "smtpwire/smtpwire.h"

/* ---- the scripted server: answers each whole command line at once ---- */

#define S2C_CAP (1u << 20)

static struct server {
    char line[1024]; /* the command line being received */
    size_t linelen;
    int in_body;     /* after 354: until CRLF "." CRLF */
    uint8_t s2c[S2C_CAP];
    size_t s2c_len, s2c_off; /* replies written / read by the client */
} S;

static void say(const char *text)
{
    size_t n = strlen(text);
    assert_true(S.s2c_len + n <= S2C_CAP);
    memcpy(S.s2c + S.s2c_len, text, n);
    S.s2c_len += n;
}

static void server_line(const char *l, size_t n)
{
    if (S.in_body) {
        if (n == 1 && l[0] == '.') {
            S.in_body = 0;
            say("250 2.0.0 queued\r\n");
        }
        return;
    }
    if (n >= 4 && memcmp(l, "EHLO", 4) == 0)
        say("250-mx.example\r\n250-PIPELINING\r\n250 8BITMIME\r\n");
    else if (n >= 4 && memcmp(l, "MAIL", 4) == 0)
        say("250 2.1.0 sender ok\r\n");
    else if (n >= 4 && memcmp(l, "RCPT", 4) == 0)
        say("250 2.1.5 recipient ok\r\n");
    else if (n == 4 && memcmp(l, "DATA", 4) == 0) {
        S.in_body = 1;
        say("354 go ahead\r\n");
    } else if (n == 4 && memcmp(l, "NOOP", 4) == 0)
        say("250 2.0.0 ok\r\n");
    else if (n == 4 && memcmp(l, "RSET", 4) == 0)
        say("250 2.0.0 reset\r\n");
    else if (n == 4 && memcmp(l, "QUIT", 4) == 0)
        say("221 2.0.0 bye\r\n");
    else
        fail_msg("server got \"%.*s\"", (int)n, l);
}

/* Client bytes arrive in any pieces; lines end at CRLF. */
static void server_take(const uint8_t *p, size_t n)
{
    size_t i;
    for (i = 0; i < n; i++) {
        assert_true(S.linelen < sizeof S.line);
        S.line[S.linelen++] = (char)p[i];
        if (S.linelen >= 2 && S.line[S.linelen - 2] == '\r' && S.line[S.linelen - 1] == '\n') {
            server_line(S.line, S.linelen - 2);
            S.linelen = 0;
        }
    }
}

/* ---- the application: a plan of commands, queued as the core allows ---- */

#define PLAN_MAX 1200

static struct app {
    smtpw_client *c;
    uint32_t plan[PLAN_MAX]; /* SMTPW_CMD_* in order (BODY: send the message) */
    size_t nplan, queued;    /* planned, queued so far */
    uint32_t expect[PLAN_MAX + 4]; /* the command each complete reply must answer */
    size_t nexpect, replies;
    size_t chunk;                  /* output drained this many bytes at a time */
    int helo_done, quit_queued, closed;
} A;

static void expect(uint32_t cmd)
{
    assert_true(A.nexpect < sizeof A.expect / sizeof A.expect[0]);
    A.expect[A.nexpect++] = cmd;
}

/* n pipelined commands after EHLO: transactions of MAIL, up to 100 RCPTs
 * and DATA (the body's reply counts as one more), NOOPs and RSETs between. */
static void make_plan(size_t n)
{
    size_t k = 0;
    A.nplan = 0;
    while (k < n) {
        size_t left = n - k, r;
        if (left >= 3 && (k / 3) % 4 != 3) {
            size_t rcpts = left - 2 > 100 ? 100 : left - 2;
            A.plan[A.nplan++] = SMTPW_CMD_MAIL;
            for (r = 0; r < rcpts; r++)
                A.plan[A.nplan++] = SMTPW_CMD_RCPT;
            A.plan[A.nplan++] = SMTPW_CMD_DATA;
            k += rcpts + 2;
        } else {
            A.plan[A.nplan++] = (k % 2) ? SMTPW_CMD_RSET : SMTPW_CMD_NOOP;
            k++;
        }
    }
    assert_true(A.nplan <= PLAN_MAX);
}

static void drain_to_server(const uint8_t *p, size_t n)
{
    while (n) {
        size_t k = n < A.chunk ? n : A.chunk;
        server_take(p, k);
        p += k;
        n -= k;
    }
}

/* Queue what the core takes now; SMTPW_E_AGAIN means "later". */
static void queue(smtpw_client *c)
{
    int rc = 0;
    if (!A.helo_done || (smtpw_client_want(c) & SMTPW_WANT_BODY))
        return; /* the body first: no command while it is due */
    while (A.queued < A.nplan) {
        uint32_t cmd = A.plan[A.queued];
        char rcpt[64];
        switch (cmd) {
        case SMTPW_CMD_MAIL:
            rc = smtpw_client_mail(c, "a@client.example", 16, 0, 0, NULL, 0);
            break;
        case SMTPW_CMD_RCPT:
            snprintf(rcpt, sizeof rcpt, "r%zu@example.org", A.queued);
            rc = smtpw_client_rcpt(c, rcpt, strlen(rcpt), NULL, 0);
            break;
        case SMTPW_CMD_DATA:
            rc = smtpw_client_data(c);
            break;
        case SMTPW_CMD_NOOP:
            rc = smtpw_client_noop(c);
            break;
        default:
            rc = smtpw_client_rset(c);
            break;
        }
        if (rc == SMTPW_E_AGAIN)
            return;
        assert_int_equal(rc, 0);
        expect(cmd);
        if (cmd == SMTPW_CMD_DATA)
            expect(SMTPW_CMD_BODY);
        A.queued++;
    }
    if (!A.quit_queued) {
        rc = smtpw_client_quit(c);
        if (rc == SMTPW_E_AGAIN)
            return;
        assert_int_equal(rc, 0);
        expect(SMTPW_CMD_QUIT);
        A.quit_queued = 1;
    }
}

static void handle(const smtpw_event *ev)
{
    assert_int_equal(ev->type, SMTPW_EV_REPLY);
    if (!(ev->flags & SMTPW_EVF_LAST))
        return;
    assert_true(A.replies < A.nexpect);
    assert_int_equal(ev->cmd, A.expect[A.replies]);
    A.replies++;
    if (ev->cmd == SMTPW_CMD_GREETING) {
        assert_int_equal(smtpw_client_ehlo(A.c, "client.example", 14), 0);
        expect(SMTPW_CMD_EHLO);
    } else if (ev->cmd == SMTPW_CMD_EHLO) {
        A.helo_done = 1;
    }
}

static void send_body(smtpw_client *c)
{
    static const uint8_t msg[] = "Subject: t\r\n\r\n.a dot line\r\nend\r\n";
    uint8_t out[128];
    size_t used, w, w2;
    assert_int_equal(smtpw_client_body_encode(c, msg, sizeof msg - 1, &used, out, sizeof out, &w),
                     0);
    assert_int_equal(used, sizeof msg - 1);
    assert_int_equal(smtpw_client_body_end(c, out + w, sizeof out - w, &w2), 0);
    drain_to_server(out, w + w2);
}

/* One session; returns the number of loop turns. */
static size_t session(size_t ncmds, size_t readsize, size_t chunk)
{
    static union {
        uint64_t align;
        unsigned char b[SMTPW_CLIENT_SIZE_HINT];
    } mem;
    static uint8_t buf[8192];
    size_t len = 0, off = 0, used = 0, turns = 0;
    smtpw_client *c;
    smtpw_event ev;
    uint32_t w;

    memset(&S, 0, sizeof S);
    memset(&A, 0, sizeof A);
    A.chunk = chunk;
    make_plan(ncmds);
    assert_int_equal(smtpw_client_init(&mem, sizeof mem, NULL, &c), 0);
    A.c = c;
    expect(SMTPW_CMD_GREETING);
    say("220 mx.example ESMTP\r\n");

    /* ---- the loop of client.h, word for word ---- */
    for (;;) {
        int t;
        assert_true(++turns < 100000); /* a stall would spin here */
        while ((t = smtpw_client_recv(c, buf + off, len - off, &used, &ev, sizeof ev)) > 0) {
            off += used;
            handle(&ev);
        }
        if (t < 0) break;
        queue(c);
        {   /* drain smtpw_client_output() / smtpw_client_output_ack(); */
            size_t n;
            const uint8_t *p = smtpw_client_output(c, &n);
            drain_to_server(p, n);
            smtpw_client_output_ack(c, n);
        }
        w = smtpw_client_want(c);
        if (w & SMTPW_WANT_CLOSE) break;
        if (w & SMTPW_WANT_TLS) fail_msg("no STARTTLS here");
        if (w & SMTPW_WANT_BODY) { send_body(c); continue; }
        if (!(w & SMTPW_WANT_READ)) continue;
        memmove(buf, buf + off, len - off); len -= off; off = 0;
        {   /* read more into buf + len; */
            size_t k = S.s2c_len - S.s2c_off;
            if (k > readsize)
                k = readsize;
            if (k > sizeof buf - len)
                k = sizeof buf - len;
            if (k == 0)
                fail_msg("stall: READ wanted, nothing can come (%zu of %zu replies)", A.replies,
                         A.nexpect);
            memcpy(buf + len, S.s2c + S.s2c_off, k);
            S.s2c_off += k;
            len += k;
        }
    }
    /* ---- end of the loop ---- */

    assert_int_equal(smtpw_client_recv(c, buf, 0, &used, &ev, sizeof ev), SMTPW_E_CLOSED);
    assert_int_equal(A.queued, A.nplan);
    assert_true(A.quit_queued);
    assert_int_equal(A.replies, A.nexpect);
    assert_int_equal(S.s2c_off, S.s2c_len); /* every reply byte was read */
    return turns;
}

/* api.md A: 1, 10, 100 and 1000 pipelined commands; reads of 1, 7, 64 and
 * 4096 bytes; output drained 1, 3, 17, 512 bytes and all at a time. */
static void contract_a_client_loop_every_reply_no_stall(void **state)
{
    static const size_t counts[] = {1, 10, 100, 1000};
    static const size_t reads[] = {1, 7, 64, 4096};
    static const size_t chunks[] = {1, 3, 17, 512, (size_t)-1};
    size_t i, j, k;
    (void)state;
    for (i = 0; i < sizeof counts / sizeof counts[0]; i++)
        for (j = 0; j < sizeof reads / sizeof reads[0]; j++)
            for (k = 0; k < sizeof chunks / sizeof chunks[0]; k++)
                session(counts[i], reads[j], chunks[k]);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(contract_a_client_loop_every_reply_no_stall),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
