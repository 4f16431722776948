/* The server core against a hostile peer: line-length edges, NUL and 8-bit
 * bytes in commands, paths that could forge trace header fields, pipelined
 * commands after QUIT or a 421, every smuggling end-of-data variant.  Each
 * input is replayed at every split size; replies are checked byte for byte.
 * SPDX-License-Identifier: MIT */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "smtpwire/smtpwire.h"

#define HOST "mx.example"
#define GREET "220 " HOST " ESMTP smtpwire\r\n"
#define EHLO_OK                                                                            \
    "250-" HOST "\r\n250-PIPELINING\r\n250-8BITMIME\r\n250-SIZE 10485760\r\n"               \
    "250 ENHANCEDSTATUSCODES\r\n"

/* ---- driver: feed everything, default answers, record what happened ---- */

typedef struct H {
    uint64_t mem[SMTPW_SERVER_SIZE_HINT / 8 + 1];
    smtpw_server *s;
    smtpw_server_config cfg;
    char in[4096]; /* the caller's buffer: unconsumed bytes stay at the front */
    size_t inlen;
    char out[16384];
    size_t outlen;
    char evs[256]; /* one letter per event */
    size_t nev;
    char paths[2048]; /* MAIL/RCPT mailboxes, each followed by '|' */
    size_t pathlen;
    char body[4096];
    size_t bodylen;
    int closed;
} H;

static H h_;

static char letter(int t)
{
    static const char l[] = "-HMRDbEASVXPQTJC"; /* J: REJECTED, C: CLOSE */
    return t >= 0 && t < (int)sizeof l - 1 ? l[t] : '?';
}

static void drain(H *h)
{
    size_t n;
    const uint8_t *o = smtpw_server_output(h->s, &n);
    assert_true(h->outlen + n < sizeof h->out);
    memcpy(h->out + h->outlen, o, n);
    h->outlen += n;
    h->out[h->outlen] = '\0';
    smtpw_server_output_ack(h->s, n);
}

/* Work through the buffered input as far as it goes. */
static void pump(H *h)
{
    for (;;) {
        smtpw_event ev;
        size_t used = 0;
        int t = smtpw_server_recv(h->s, (const uint8_t *)h->in, h->inlen, &used, &ev, sizeof ev);
        assert_true(used <= h->inlen);
        if (t == SMTPW_E_CLOSED) {
            assert_int_equal(used, 0);
            h->closed = 1;
            drain(h);
            return;
        }
        assert_true(t >= 0);
        /* Consecutive BODY events are one 'b': the cut depends on the split. */
        if (t > 0 && h->nev + 1 < sizeof h->evs &&
            !(t == SMTPW_EV_BODY && h->nev && h->evs[h->nev - 1] == 'b'))
            h->evs[h->nev++] = letter(t);
        if (t == SMTPW_EV_BODY) {
            assert_true(h->bodylen + ev.arg.len <= sizeof h->body);
            memcpy(h->body + h->bodylen, ev.arg.ptr, ev.arg.len);
            h->bodylen += ev.arg.len;
        }
        if (t == SMTPW_EV_MAIL || t == SMTPW_EV_RCPT) {
            smtpw_span m = ev.path.mailbox;
            assert_true(h->pathlen + m.len + 1 < sizeof h->paths);
            memcpy(h->paths + h->pathlen, m.ptr, m.len);
            h->pathlen += m.len;
            h->paths[h->pathlen++] = '|';
        }
        memmove(h->in, h->in + used, h->inlen - used);
        h->inlen -= used;
        if (smtpw_server_want(h->s) & SMTPW_WANT_REPLY) {
            assert_int_equal(smtpw_server_reply(h->s, 0, NULL, 0, NULL, 0), 0);
            continue;
        }
        if (t == SMTPW_EV_NONE && used == 0) {
            if (smtpw_server_want(h->s) & SMTPW_WANT_WRITE) {
                drain(h);
                continue;
            }
            return;
        }
    }
}

static H *start(uint32_t flags, uint32_t bare_cmd, uint32_t bare_body)
{
    H *h = &h_;
    memset(h, 0, sizeof *h);
    smtpw_server_config_init(&h->cfg, SMTPW_SERVER_CONFIG_VERSION);
    h->cfg.hostname = HOST;
    h->cfg.hostname_len = strlen(HOST);
    h->cfg.flags = flags;
    h->cfg.bare_command = bare_cmd;
    h->cfg.bare_body = bare_body;
    assert_int_equal(smtpw_server_init(h->mem, sizeof h->mem, &h->cfg, &h->s), 0);
    drain(h);
    assert_string_equal(h->out, GREET);
    h->outlen = 0;
    return h;
}

/* Feed len bytes in pieces of at most step bytes, pumping after each. */
static void feed_split(H *h, const char *p, size_t len, size_t step)
{
    while (len) {
        size_t n = len < step ? len : step;
        assert_true(h->inlen + n <= sizeof h->in);
        memcpy(h->in + h->inlen, p, n);
        h->inlen += n;
        p += n;
        len -= n;
        pump(h);
    }
    drain(h);
}

/* Run input under a config at every split size from 1 to len; every run
 * must give the same replies and events, which are then left in h_. */
static H *run_all(uint32_t flags, uint32_t bc, uint32_t bb, const char *in, size_t len)
{
    char out0[16384], evs0[256];
    size_t step;
    H *h;
    for (step = len; step >= 1; step--) {
        h = start(flags, bc, bb);
        feed_split(h, in, len, step);
        if (step == len) {
            memcpy(out0, h->out, h->outlen + 1);
            memcpy(evs0, h->evs, h->nev);
            evs0[h->nev] = '\0';
        } else {
            assert_string_equal(h->out, out0);
            h->evs[h->nev] = '\0';
            assert_string_equal(h->evs, evs0);
        }
    }
    h = &h_;
    h->evs[h->nev] = '\0';
    return h;
}

#define RUN(flags, lit) run_all(flags, SMTPW_BARE_REJECT, SMTPW_BARE_REJECT, lit, sizeof(lit) - 1)

static int contains(const char *hay, size_t n, const char *needle)
{
    size_t k = strlen(needle), i;
    for (i = 0; i + k <= n; i++)
        if (memcmp(hay + i, needle, k) == 0)
            return 1;
    return 0;
}

/* A command line of exactly n octets, CRLF included: "NOOP xxx...\r\n". */
static size_t noop_line(char *buf, size_t n)
{
    memcpy(buf, "NOOP ", 5);
    memset(buf + 5, 'x', n - 7);
    memcpy(buf + n - 2, "\r\n", 2);
    return n;
}

/* ---- line length ---- */

/* RFC 5321 4.5.3.1.4: 512 octets including CRLF is the largest line a
 * server must take; one more is 500 5.5.2, and the next line is read as a
 * command again (nothing of the long line leaks into it). */
static void rfc5321_4_5_3_1_4_line_512_ok_513_refused(void **state)
{
    char buf[1100];
    size_t n;
    H *h;
    (void)state;
    n = noop_line(buf, 512);
    memcpy(buf + n, "QUIT\r\n", 6);
    h = run_all(0, 0, 0, buf, n + 6);
    assert_string_equal(h->out, "250 Ok\r\n221 " HOST " Service closing transmission channel\r\n");
    n = noop_line(buf, 513);
    memcpy(buf + n, "QUIT\r\n", 6);
    h = run_all(0, 0, 0, buf, n + 6);
    assert_string_equal(h->out, "500 Line too long\r\n221 " HOST
                                " Service closing transmission channel\r\n");
    assert_string_equal(h->evs, "JQ");
    /* A long line whose tail looks like a command is still one line. */
    n = noop_line(buf, 600);
    memcpy(buf + 520, "\r\nQUIT", 6); /* CR LF inside: the LF ends the long line */
    h = run_all(0, 0, 0, buf, n);
    assert_string_equal(h->out, "500 Line too long\r\n500 Command unrecognized\r\n");
    assert_int_equal(h->closed, 0);
}

/* RFC 5321 4.1.1.1 and 4.5.3.1.2: EHLO with a 300-octet argument is not a
 * domain (255 at most): 501, and the session goes on; a 253-octet domain of
 * 63-octet labels is accepted and never echoed. */
static void rfc5321_4_5_3_1_2_ehlo_300_octet_argument(void **state)
{
    char buf[700];
    size_t n = 0, i;
    H *h;
    (void)state;
    memcpy(buf, "EHLO ", 5);
    n = 5;
    for (i = 0; i < 300; i++)
        buf[n++] = (i % 60 == 59) ? '.' : 'a';
    memcpy(buf + n, "\r\nEHLO ", 7);
    n += 7;
    for (i = 0; i < 253; i++)
        buf[n++] = (i % 64 == 63) ? '.' : 'b';
    memcpy(buf + n, "\r\n", 2);
    n += 2;
    h = run_all(0, 0, 0, buf, n);
    assert_string_equal(h->out, "501 Invalid domain name\r\n" EHLO_OK);
    assert_string_equal(h->evs, "JH");
    /* Lenient: one printable 300-octet token is taken, as the README says. */
    memcpy(buf + 5, "!#$%&'*+/=?^_`{|}~", 18);
    h = run_all(SMTPW_SERVER_LENIENT, 0, 0, buf, 5 + 300 + 2);
    assert_string_equal(h->out, EHLO_OK);
}

/* ---- NUL and 8-bit bytes ---- */

/* RFC 5321 2.4, 4.1.2: commands are ASCII; a NUL or an 8-bit byte in a verb
 * or a path is refused and counted, never passed on as a path. */
static void rfc5321_4_1_2_nul_and_8bit_in_commands_refused(void **state)
{
    static const char in[] = "EHLO c.example\r\n"
                             "NOOP\0\r\n"                       /* verb then NUL */
                             "\xc8\xc5LO c.example\r\n"          /* 8-bit verb */
                             "MAIL FROM:<a\0b@x.example>\r\n"   /* NUL in a path */
                             "MAIL FROM:<\"a\\\0b\"@x.example>\r\n" /* quoted NUL */
                             "MAIL FROM:<\xc3\xa9@x.example>\r\n" /* UTF-8, no SMTPUTF8 */
                             "MAIL FROM:<a@x\xff.example>\r\n"
                             "HELO a\0b\r\n"
                             "QUIT\r\n";
    H *h = RUN(0, in);
    assert_string_equal(h->out, EHLO_OK "500 5.5.1 Command unrecognized\r\n"
                                        "500 5.5.1 Command unrecognized\r\n"
                                        "501 5.1.7 Bad sender address syntax\r\n"
                                        "501 5.1.7 Bad sender address syntax\r\n"
                                        "501 5.1.7 Bad sender address syntax\r\n"
                                        "501 5.1.7 Bad sender address syntax\r\n"
                                        "501 Invalid domain name\r\n"
                                        "221 2.0.0 " HOST " Service closing transmission channel\r\n");
    assert_int_equal(h->pathlen, 0);
    /* The lenient profile takes no more of them. */
    h = RUN(SMTPW_SERVER_LENIENT, in);
    assert_int_equal(h->pathlen, 0);
    assert_string_equal(h->evs, "HJJJJJJJQ");
}

/* NUL and 8-bit bytes in a body are data (RFC 6152 for 8-bit): passed
 * through unchanged, and none of them ends the message. */
static void rfc6152_nul_and_8bit_in_body_pass_through(void **state)
{
    static const char in[] = "EHLO c.example\r\nMAIL FROM:<a@x.example> BODY=8BITMIME\r\n"
                             "RCPT TO:<b@y.example>\r\nDATA\r\n"
                             "a\0b\r\n\xff\xfe.\r\n\0.\r\n.\0\r\n.\r\nQUIT\r\n";
    static const char body[] = "a\0b\r\n\xff\xfe.\r\n\0.\r\n\0\r\n";
    H *h = RUN(0, in);
    assert_int_equal(h->bodylen, sizeof body - 1);
    assert_memory_equal(h->body, body, sizeof body - 1);
    assert_string_equal(h->evs, "HMRDbEQ");
}

/* ---- envelope bytes that could forge trace fields ---- */

/* RFC 5321 4.1.2: quoted local parts allow only printable ASCII (qtextSMTP,
 * quoted-pairSMTP %d92 %d32-126).  Whatever a peer tries, a mailbox handed
 * to the application holds no control byte, so Return-Path, Delivered-To
 * and Received built from it stay one line each. */
static void rfc5321_4_1_2_mailbox_never_holds_controls(void **state)
{
    static const char *const paths[] = {
        "<\"a\\\rb\"@x.example>",  "<\"a\rb\"@x.example>",  "<\"a\\\nb\"@x.example>",
        "<\"a\tb\"@x.example>",    "<\"a\\\tb\"@x.example>", "<\"a\x7f\"@x.example>",
        "<\"a\\\x7f\"@x.example>", "<\"a\x1b[0m\"@x.example>", "<a\x0b@x.example>",
        "<a@x.example\x0c>",       "<a@[1.2.3.4\x01]>",     "<a@[tag:\x02]>",
        "\"a\\\x01\"@x.example",   "a\x08@x.example",
    };
    static const uint32_t profiles[] = {0, SMTPW_SERVER_LENIENT,
                                        SMTPW_SERVER_LENIENT | SMTPW_SERVER_SMTPUTF8};
    size_t i, p, k;
    for (p = 0; p < 3; p++) {
        for (i = 0; i < sizeof paths / sizeof paths[0]; i++) {
            char buf[256];
            int n = snprintf(buf, sizeof buf, "EHLO c.example\r\nMAIL FROM:%s SMTPUTF8\r\n"
                                              "MAIL FROM:%s\r\n", paths[i], paths[i]);
            H *h;
            (void)state;
            assert_true(n > 0 && (size_t)n < sizeof buf);
            /* Bare CR/LF inside would end or refuse the line first; take
             * the keep policy so the path parser itself is what is tested. */
            h = run_all(profiles[p], SMTPW_BARE_KEEP, 0, buf, (size_t)n);
            for (k = 0; k < h->pathlen; k++)
                assert_true((unsigned char)h->paths[k] >= 0x20 &&
                            (unsigned char)h->paths[k] != 0x7f);
        }
    }
}

/* A quoted local part with odd but legal bytes keeps its quotes and
 * backslashes (RFC 5321 4.1.2), so it can be written back as sent. */
static void rfc5321_4_1_2_quoted_local_part_kept_verbatim(void **state)
{
    static const char in[] = "EHLO c.example\r\n"
                             "MAIL FROM:<\"a>b\\\" Received: x\"@x.example>\r\n"
                             "RCPT TO:<\"; \\\\\"@y.example>\r\n";
    H *h = RUN(0, in);
    h->paths[h->pathlen] = '\0';
    assert_string_equal(h->paths, "\"a>b\\\" Received: x\"@x.example|\"; \\\\\"@y.example|");
    assert_string_equal(h->out, EHLO_OK "250 2.1.0 Sender ok\r\n250 2.1.5 Recipient ok\r\n");
}

/* RFC 5321 4.1.1.6-4.1.1.8: the arguments of VRFY, EXPN and HELP are a
 * String (Atom / Quoted-string): printable ASCII.  NUL, ESC, BEL, DEL and
 * 8-bit bytes should be refused 501 5.5.4, not handed to the application,
 * which may log them (terminal escape injection) or cut them at the NUL. */
static void rfc5321_4_1_1_6_vrfy_expn_help_argument_printable(void **state)
{
    static const char in[] = "EHLO c.example\r\n"
                             "VRFY a\0b\x1b[2J\r\n"
                             "EXPN \x1b]0;x\x07\r\n"
                             "HELP \x01\x7f\xff\r\n";
    H *h;
    (void)state;
    h = RUN(0, in);
    assert_string_equal(h->evs, "HJJJ");
    assert_string_equal(h->out, EHLO_OK "501 5.5.4 Syntax: VRFY <string>\r\n"
                                        "501 5.5.4 Syntax: EXPN <string>\r\n"
                                        "501 5.5.4 Syntax error in parameters or arguments\r\n");
}

/* ---- sequencing ---- */

/* RFC 5321 4.1.1.5: RSET mid-transaction drops the envelope; DATA after it
 * is out of sequence and no body is read. */
static void rfc5321_4_1_1_5_rset_mid_transaction(void **state)
{
    static const char in[] = "EHLO c.example\r\nMAIL FROM:<a@x.example>\r\n"
                             "RCPT TO:<b@y.example>\r\nRSET\r\nDATA\r\nbody\r\n.\r\n"
                             "RCPT TO:<b@y.example>\r\n";
    H *h = RUN(0, in);
    assert_string_equal(h->out, EHLO_OK "250 2.1.0 Sender ok\r\n250 2.1.5 Recipient ok\r\n"
                                        "250 2.0.0 Ok\r\n503 5.5.1 Need MAIL command\r\n"
                                        "500 5.5.1 Command unrecognized\r\n"
                                        "500 5.5.1 Command unrecognized\r\n"
                                        "503 5.5.1 Need MAIL before RCPT\r\n");
    assert_string_equal(h->evs, "HMRSJJJJ");
}

/* RFC 5321 4.1.1.10: nothing after QUIT is executed, even in the same
 * segment: only the 221, and the core reports CLOSED. */
static void rfc5321_4_1_1_10_pipelined_after_quit_ignored(void **state)
{
    static const char in[] = "EHLO c.example\r\nQUIT\r\nMAIL FROM:<a@x.example>\r\n"
                             "RCPT TO:<b@y.example>\r\nDATA\r\nx\r\n.\r\n";
    H *h = RUN(0, in);
    assert_string_equal(h->out, EHLO_OK "221 2.0.0 " HOST " Service closing transmission channel\r\n");
    assert_string_equal(h->evs, "HQ");
    assert_int_equal(h->closed, 1);
    assert_int_equal(h->pathlen, 0);
}

/* After the max_errors 421 (RFC 5321 3.8, 4.2.5 "421 ... closing") the
 * core reads nothing more: a valid command right after is not executed. */
static void rfc5321_3_8_nothing_after_max_errors_421(void **state)
{
    static const char in[] = "EHLO c.example\r\nX\r\nX\r\nX\r\nX\r\nX\r\nX\r\nX\r\nX\r\nX\r\n"
                             "X\r\nMAIL FROM:<a@x.example>\r\nQUIT\r\n";
    H *h = RUN(0, in);
    assert_string_equal(h->out, EHLO_OK "500 5.5.1 Command unrecognized\r\n"
                                        "500 5.5.1 Command unrecognized\r\n"
                                        "500 5.5.1 Command unrecognized\r\n"
                                        "500 5.5.1 Command unrecognized\r\n"
                                        "500 5.5.1 Command unrecognized\r\n"
                                        "500 5.5.1 Command unrecognized\r\n"
                                        "500 5.5.1 Command unrecognized\r\n"
                                        "500 5.5.1 Command unrecognized\r\n"
                                        "500 5.5.1 Command unrecognized\r\n"
                                        "500 5.5.1 Command unrecognized\r\n"
                                        "421 4.7.0 " HOST " Too many errors, closing connection\r\n");
    assert_string_equal(h->evs, "HJJJJJJJJJC");
    assert_int_equal(h->closed, 1);
}

/* ---- bare CR/LF in commands: only CRLF ends a line (RFC 5321 2.3.8) ---- */

/* Number of complete reply lines (a code and a space) in out. */
static size_t final_replies(const char *out, size_t n)
{
    size_t i, k = 0, start = 0;
    for (i = 0; i + 1 < n; i++) {
        if (out[i] == '\r' && out[i + 1] == '\n') {
            if (i - start >= 4 && out[start + 3] == ' ')
                k++;
            start = i + 2;
        }
    }
    return k;
}

/* A front-end that splits only at CRLF (a filter, a proxy, a policy check)
 * must see the same commands we do.  Two commands joined by bare CR/LF
 * bytes and ended by one CRLF are one command line under every policy and
 * both profiles: exactly one reply for it, at every split, no MAIL or RCPT
 * taken from either half, no QUIT or DATA run from the second, and the
 * command after the CRLF answered normally. */
static void rfc5321_2_3_8_one_reply_per_crlf_line(void **state)
{
    static const char *const firsts[] = {"RSET", "NOOP", "HELP", "MAIL FROM:<a@x.example>",
                                         "RCPT TO:<b@y.example>", "EHLO d.example"};
    static const char *const seps[] = {"\n", "\r", "\n\n", "\r\r", "\n\r", " \n", "\r \n"};
    static const char *const seconds[] = {"MAIL FROM:<s@x.example>", "RCPT TO:<v@y.example>",
                                          "DATA", "QUIT"};
    size_t a, b, c, pol, prof;
    (void)state;
    for (prof = 0; prof < 2; prof++)
        for (pol = SMTPW_BARE_REJECT; pol <= SMTPW_BARE_KEEP; pol++)
            for (a = 0; a < sizeof firsts / sizeof firsts[0]; a++)
                for (b = 0; b < sizeof seps / sizeof seps[0]; b++)
                    for (c = 0; c < sizeof seconds / sizeof seconds[0]; c++) {
                        char buf[256];
                        int n = snprintf(buf, sizeof buf, "EHLO c.example\r\n%s%s%s\r\nNOOP\r\n",
                                         firsts[a], seps[b], seconds[c]);
                        H *h;
                        assert_true(n > 0 && (size_t)n < sizeof buf);
                        h = run_all(prof ? SMTPW_SERVER_LENIENT : 0, (uint32_t)pol, 0, buf,
                                    (size_t)n);
                        assert_int_equal(final_replies(h->out, h->outlen), 3);
                        assert_int_equal(h->pathlen, 0);
                        assert_int_equal(h->closed, 0);
                        assert_true(h->outlen >= 14);
                        assert_string_equal(h->out + h->outlen - 14, "250 2.0.0 Ok\r\n");
                        if (pol != SMTPW_BARE_KEEP)
                            assert_true(contains(h->out, h->outlen,
                                                 "\r\n500 5.5.2 Bare CR or LF in command line\r\n"));
                    }
}

/* ---- SMTP smuggling (CVE-2023-51764 class) ---- */

#define ENVELOPE_OK                                                                        \
    EHLO_OK "250 2.1.0 Sender ok\r\n250 2.1.5 Recipient ok\r\n"                              \
            "354 Start mail input; end with <CRLF>.<CRLF>\r\n"

/* RFC 5321 4.1.1.4, 2.3.8: only CRLF "." CRLF ends DATA.  Every mix of bare
 * CR, bare LF and CRLF around the dot, under every bare-body policy and
 * both profiles: the commands after the fake end are body (or the message
 * is refused), never executed. */
static void rfc5321_4_1_1_4_no_fake_end_of_data(void **state)
{
    static const char *const fakes[] = {
        "\r.\r", "\r.\n", "\r.\r\n", "\n.\r", "\n.\n", "\n.\r\n", "\r\n.\r", "\r\n.\n",
        "\r\n.\r\r\n", "\n.\r\r\n", "\r\n.\n\r\n", "\r\n.\x00\r\n", "\r\n. \r\n", "\r\n.\r\r\n\r\n",
    };
    static const char head[] = "EHLO c.example\r\nMAIL FROM:<a@x.example>\r\n"
                               "RCPT TO:<b@y.example>\r\nDATA\r\nbefore";
    static const char smuggled[] = "MAIL FROM:<evil@x.example>\r\nRCPT TO:<v@y.example>\r\n"
                                   "DATA\r\nsmuggled\r\n";
    static const char tail[] = "\r\n.\r\nQUIT\r\n";
    size_t f, pol, prof;
    (void)state;
    for (prof = 0; prof < 2; prof++) {
        for (pol = SMTPW_BARE_REJECT; pol <= SMTPW_BARE_KEEP; pol++) {
            for (f = 0; f < sizeof fakes / sizeof fakes[0]; f++) {
                char buf[512];
                size_t n = 0, fl = strlen(fakes[f]);
                H *h;
                if (f == 11)
                    fl = 6; /* the one with a NUL */
                memcpy(buf, head, sizeof head - 1);
                n += sizeof head - 1;
                memcpy(buf + n, fakes[f], fl);
                n += fl;
                memcpy(buf + n, smuggled, sizeof smuggled - 1);
                n += sizeof smuggled - 1;
                memcpy(buf + n, tail, sizeof tail - 1);
                n += sizeof tail - 1;
                h = run_all(prof ? SMTPW_SERVER_LENIENT : 0, SMTPW_BARE_KEEP, (uint32_t)pol, buf, n);
                /* One envelope only: the smuggled MAIL/RCPT never parsed. */
                h->paths[h->pathlen] = '\0';
                assert_string_equal(h->paths, "a@x.example|b@y.example|");
                assert_int_equal(h->closed, 1);
                if (pol == SMTPW_BARE_REJECT && f != 11 && f != 12) {
                    assert_string_equal(h->evs, "HMRDbAQ"); /* refused, 550 at the end */
                    assert_string_equal(h->out, ENVELOPE_OK
                                        "550 5.6.0 Message refused: bare CR or LF in the body\r\n"
                                        "221 2.0.0 " HOST " Service closing transmission channel\r\n");
                } else {
                    assert_string_equal(h->evs, "HMRDbEQ");
                    assert_string_equal(h->out, ENVELOPE_OK
                                        "250 2.0.0 Message accepted for delivery\r\n"
                                        "221 2.0.0 " HOST " Service closing transmission channel\r\n");
                    /* the smuggled text is in the body */
                    assert_true(contains(h->body, h->bodylen, "MAIL FROM:<evil"));
                }
            }
        }
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(rfc5321_4_5_3_1_4_line_512_ok_513_refused),
        cmocka_unit_test(rfc5321_4_5_3_1_2_ehlo_300_octet_argument),
        cmocka_unit_test(rfc5321_4_1_2_nul_and_8bit_in_commands_refused),
        cmocka_unit_test(rfc6152_nul_and_8bit_in_body_pass_through),
        cmocka_unit_test(rfc5321_4_1_2_mailbox_never_holds_controls),
        cmocka_unit_test(rfc5321_4_1_2_quoted_local_part_kept_verbatim),
        cmocka_unit_test(rfc5321_4_1_1_6_vrfy_expn_help_argument_printable),
        cmocka_unit_test(rfc5321_4_1_1_5_rset_mid_transaction),
        cmocka_unit_test(rfc5321_4_1_1_10_pipelined_after_quit_ignored),
        cmocka_unit_test(rfc5321_3_8_nothing_after_max_errors_421),
        cmocka_unit_test(rfc5321_2_3_8_one_reply_per_crlf_line),
        cmocka_unit_test(rfc5321_4_1_1_4_no_fake_end_of_data),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
