/* The client core: command bytes, argument checks, RFC 2920 grouping,
 * reply matching, session end.  SPDX-License-Identifier: MIT */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "guardbuf.h"
#include "smtpwire/smtpwire.h"

static union {
    uint64_t align;
    void *p;
    unsigned char b[SMTPW_CLIENT_SIZE_HINT];
} mem;

static smtpw_client *client(uint32_t flags)
{
    smtpw_client_config cfg;
    smtpw_client *c;
    smtpw_client_config_init(&cfg, SMTPW_CLIENT_CONFIG_VERSION);
    cfg.flags = flags;
    assert_int_equal(smtpw_client_init(&mem, sizeof mem, &cfg, &c), 0);
    return c;
}

/* The queued output must be exactly s; then it is acknowledged. */
static void out_is(smtpw_client *c, const char *s)
{
    size_t n;
    const uint8_t *p = smtpw_client_output(c, &n);
    if (n != strlen(s) || memcmp(p, s, n) != 0)
        fail_msg("output \"%.*s\" != \"%s\"", (int)n, (const char *)p, s);
    smtpw_client_output_ack(c, n);
}

/* Feed one whole reply line (guarded); returns its event. */
static smtpw_event line(smtpw_client *c, const char *s)
{
    smtpw_event ev;
    size_t used, n = strlen(s);
    const uint8_t *p = guardbuf_put(s, n);
    smtpw_event none;
    int r = smtpw_client_recv(c, p, n, &used, &ev, sizeof ev);
    if (r != SMTPW_EV_REPLY)
        fail_msg("recv \"%s\": %s", s, smtpw_err_name(r));
    assert_int_equal(used, n);
    /* As a driver does (client.h): recv until NONE, the input used up;
     * only then does want() say READ (api.md A). */
    r = smtpw_client_recv(c, p + n, 0, &used, &none, sizeof none);
    assert_true(r == SMTPW_EV_NONE || r == SMTPW_E_CLOSED);
    return ev;
}

/* Feed lines expecting an error at the last one. */
static int line_err(smtpw_client *c, const char *s)
{
    smtpw_event ev;
    size_t used = 99, n = strlen(s);
    const uint8_t *p = guardbuf_put(s, n);
    int r = smtpw_client_recv(c, p, n, &used, &ev, sizeof ev);
    assert_int_equal(used, 0);
    return r;
}

static const char ehlo_all[] = "250-mx.example\r\n";

/* Greeting, EHLO with the given extension lines (each "250-X\r\n" or a
 * final "250 X\r\n"), output drained. */
static smtpw_client *ready(uint32_t flags, const char *const *ext, size_t n)
{
    smtpw_client *c = client(flags);
    size_t i;
    line(c, "220 mx.example ESMTP\r\n");
    assert_int_equal(smtpw_client_ehlo(c, "client.example", 14), 0);
    out_is(c, "EHLO client.example\r\n");
    if (n == 0) {
        line(c, "250 mx.example\r\n");
        return c;
    }
    line(c, ehlo_all);
    for (i = 0; i < n; i++)
        line(c, ext[i]);
    return c;
}

static const char *const pipe_ext[] = {"250-PIPELINING\r\n", "250-8BITMIME\r\n",
                                       "250-SMTPUTF8\r\n", "250-STARTTLS\r\n",
                                       "250 SIZE 1000\r\n"};
#define PIPE_EXT pipe_ext, 5

static void api_init_checks(void **state)
{
    smtpw_client_config cfg;
    smtpw_client *c = (smtpw_client *)&mem;
    (void)state;
    assert_true(smtpw_client_sizeof() <= SMTPW_CLIENT_SIZE_HINT);
    smtpw_client_config_init(&cfg, SMTPW_CLIENT_CONFIG_VERSION);
    assert_int_equal(cfg.version, SMTPW_CLIENT_CONFIG_VERSION);
    assert_int_equal(cfg.max_reply_line, 2048);
    assert_int_equal(cfg.max_reply_lines, 100);
    assert_int_equal(smtpw_client_init(&mem, smtpw_client_sizeof() - 1, &cfg, &c),
                     SMTPW_E_NOBUF);
    assert_null(c);
    assert_int_equal(smtpw_client_init(mem.b + 1, sizeof mem - 1, &cfg, &c), SMTPW_E_INVALID_ARG);
    assert_int_equal(smtpw_client_init(NULL, sizeof mem, &cfg, &c), SMTPW_E_INVALID_ARG);
    cfg.version = 99;
    assert_int_equal(smtpw_client_init(&mem, sizeof mem, &cfg, &c), SMTPW_E_VERSION);
    smtpw_client_config_init(&cfg, SMTPW_CLIENT_CONFIG_VERSION);
    cfg.max_reply_line = 511;
    assert_int_equal(smtpw_client_init(&mem, sizeof mem, &cfg, &c), SMTPW_E_INVALID_ARG);
    smtpw_client_config_init(&cfg, SMTPW_CLIENT_CONFIG_VERSION);
    cfg.max_reply_lines = 0;
    assert_int_equal(smtpw_client_init(&mem, sizeof mem, &cfg, &c), SMTPW_E_INVALID_ARG);
    smtpw_client_config_init(&cfg, SMTPW_CLIENT_CONFIG_VERSION);
    cfg.flags = 0x80;
    assert_int_equal(smtpw_client_init(&mem, sizeof mem, &cfg, &c), SMTPW_E_INVALID_ARG);
    assert_int_equal(smtpw_client_init(&mem, sizeof mem, NULL, &c), 0);
    assert_ptr_equal(c, &mem);
    assert_int_equal(smtpw_client_want(c), SMTPW_WANT_READ);
    assert_int_equal(smtpw_client_timeout(c), SMTPW_TIMEOUT_GREETING);
    assert_int_equal(smtpw_client_pending(c), 1);
}

/* api.md B: the event is written up to the caller's evsize and no
 * further (an older caller), and zero-filled past the library's own
 * struct (a newer caller); a reply's event in a buffer just big enough
 * for the head still says what the reply was. */
static void client_event_size_never_written_past(void **state)
{
    static const char g[] = "220 2.0.0 mx.example hi\r\n";
    union {
        smtpw_event ev;
        unsigned char b[sizeof(smtpw_event) + 32];
    } u;
    size_t used, head = offsetof(smtpw_event, arg), k;
    smtpw_client *c;
    (void)state;
    /* from the head up (less: api_event_min_size_client) */
    for (k = SMTPW_EVENT_MIN_SIZE; k <= sizeof(smtpw_event); k += k < head ? 4 : sizeof(smtpw_event) - head) {
        c = client(0);
        memset(&u, 0xA5, sizeof u);
        assert_int_equal(smtpw_client_recv(c, (const uint8_t *)g, sizeof g - 1, &used, &u.ev, k),
                         SMTPW_EV_REPLY);
        assert_int_equal(used, sizeof g - 1);
        assert_int_equal(u.b[k], 0xA5);
        assert_int_equal(u.b[sizeof u.b - 1], 0xA5);
        if (k >= head) {
            assert_int_equal(u.ev.type, SMTPW_EV_REPLY);
            assert_int_equal(u.ev.cmd, SMTPW_CMD_GREETING);
            assert_int_equal(u.ev.code, 220);
            assert_int_equal(u.ev.flags, SMTPW_EVF_LAST | SMTPW_EVF_ENHANCED);
        }
    }
    /* bigger than ours: the rest is zeros */
    c = client(0);
    memset(&u, 0xA5, sizeof u);
    assert_int_equal(smtpw_client_recv(c, (const uint8_t *)g, sizeof g - 1, &used, &u.ev,
                                       sizeof u.b),
                     SMTPW_EV_REPLY);
    for (k = sizeof u.ev; k < sizeof u.b; k++)
        assert_int_equal(u.b[k], 0);
    assert_int_equal(u.ev.enh_detail, 0);
    assert_int_equal(u.ev.arg.len, 13);
    /* fields the client does not use are zero, spans {NULL, 0} */
    assert_null(u.ev.params.ptr);
    assert_null(u.ev.keyword.ptr);
    assert_null(u.ev.path.raw.ptr);
    assert_int_equal(u.ev.path.flags, 0);
    assert_int_equal(u.ev.size, 0);
    /* NULL event: an argument error, nothing consumed */
    assert_int_equal(smtpw_client_recv(c, (const uint8_t *)g, sizeof g - 1, &used, NULL, 0),
                     SMTPW_E_INVALID_ARG);
    assert_int_equal(used, 0);
}

/* api.md B: a config is read as far as its version goes; the newer fields
 * get their defaults.  A version 1 struct followed by garbage runs as the
 * defaults say (the garbage would be flags and lengths init refuses). */
static void client_config_older_version_gets_defaults(void **state)
{
    union {
        smtpw_client_config cfg;
        unsigned char b[sizeof(smtpw_client_config) + 32];
    } u;
    smtpw_client *c = NULL;
    (void)state;
    memset(&u, 0xFF, sizeof u);
    u.cfg.version = 1;
    u.cfg.flags = 0;
    u.cfg.max_reply_line = 512;
    u.cfg.max_reply_lines = 1;
    assert_int_equal(smtpw_client_init(&mem, sizeof mem, &u.cfg, &c), 0);
    assert_non_null(c);
    assert_int_equal(smtpw_client_want(c), SMTPW_WANT_READ);
    u.cfg.version = 0;
    assert_int_equal(smtpw_client_init(&mem, sizeof mem, &u.cfg, &c), SMTPW_E_VERSION);
    u.cfg.version = SMTPW_CLIENT_CONFIG_VERSION + 1;
    assert_int_equal(smtpw_client_init(&mem, sizeof mem, &u.cfg, &c), SMTPW_E_VERSION);
    /* NULL config: the defaults */
    assert_int_equal(smtpw_client_init(&mem, sizeof mem, NULL, &c), 0);
}

/* api.md B: config_init(cfg, v) writes the defaults of version v, never
 * more bytes than that version's struct, and refuses a version it does not
 * know without writing. */
static void client_config_init_writes_only_its_version(void **state)
{
    union {
        smtpw_client_config cfg;
        unsigned char b[sizeof(smtpw_client_config) + 32];
    } u;
    size_t k;
    (void)state;
    memset(&u, 0xA5, sizeof u);
    assert_int_equal(smtpw_client_config_init(&u.cfg, 1), 0);
    assert_int_equal(u.cfg.version, 1);
    assert_int_equal(u.cfg.flags, 0);
    assert_int_equal(u.cfg.max_reply_line, 2048);
    assert_int_equal(u.cfg.max_reply_lines, 100);
    for (k = sizeof u.cfg; k < sizeof u.b; k++)
        assert_int_equal(u.b[k], 0xA5);
    memset(&u, 0xA5, sizeof u);
    assert_int_equal(smtpw_client_config_init(&u.cfg, 0), SMTPW_E_VERSION);
    assert_int_equal(smtpw_client_config_init(&u.cfg, SMTPW_CLIENT_CONFIG_VERSION + 1),
                     SMTPW_E_VERSION);
    for (k = 0; k < sizeof u.b; k++)
        assert_int_equal(u.b[k], 0xA5);
    assert_int_equal(smtpw_client_config_init(NULL, 1), SMTPW_E_INVALID_ARG);
}

/* api.md A: want() says READ only after recv() used up its input: with a
 * whole reply line still unread it must not send the driver to read
 * (the old core said READ whenever a reply was outstanding). */
static void contract_a_want_read_only_when_input_used_up(void **state)
{
    static const char two[] = "220 mx\r\n250-mx\r\n";
    smtpw_client *c = client(0);
    smtpw_event ev;
    size_t used;
    (void)state;
    assert_int_equal(smtpw_client_want(c), SMTPW_WANT_READ); /* nothing given yet */
    assert_int_equal(smtpw_client_recv(c, (const uint8_t *)"220", 3, &used, &ev, sizeof ev),
                     SMTPW_EV_NONE);
    assert_int_equal(smtpw_client_want(c), SMTPW_WANT_READ); /* incomplete line */
    assert_int_equal(smtpw_client_recv(c, (const uint8_t *)two, 8, &used, &ev, sizeof ev),
                     SMTPW_EV_REPLY);
    assert_int_equal(smtpw_client_ehlo(c, "a.example", 9), 0);
    /* the event came; whether more is in the buffer only recv() can say */
    assert_int_equal(smtpw_client_want(c), SMTPW_WANT_WRITE);
    out_is(c, "EHLO a.example\r\n");
    assert_int_equal(smtpw_client_recv(c, (const uint8_t *)two + 8, sizeof two - 9, &used, &ev,
                                       sizeof ev),
                     SMTPW_EV_REPLY);
    assert_int_equal(smtpw_client_want(c), 0); /* "250-": more lines may be given */
    assert_int_equal(smtpw_client_recv(c, (const uint8_t *)two, 0, &used, &ev, sizeof ev),
                     SMTPW_EV_NONE);
    assert_int_equal(ev.type, SMTPW_EV_NONE);
    assert_int_equal(smtpw_client_want(c), SMTPW_WANT_READ);
}

/* api.md B: output(c, NULL) is NULL; nothing queued is a non-NULL pointer
 * and *len 0; a NULL client is NULL and 0; ack clamps. */
static void api_output_null_rules(void **state)
{
    smtpw_client *c = client(0);
    size_t n = 99;
    (void)state;
    assert_null(smtpw_client_output(c, NULL));
    assert_non_null(smtpw_client_output(c, &n));
    assert_int_equal(n, 0);
    n = 99;
    assert_null(smtpw_client_output(NULL, &n));
    assert_int_equal(n, 0);
    smtpw_client_output_ack(c, 1000);
    assert_int_equal(smtpw_client_want(NULL), 0);
    assert_int_equal(smtpw_client_timeout(NULL), SMTPW_TIMEOUT_NONE);
}

/* lib/client/client.c: the per-state columns of which commands move
 * agree with the rows of the transition table. */
int smtpw__client_table_check(void);
static void client_state_table_consistent(void **state)
{
    (void)state;
    assert_int_equal(smtpw__client_table_check(), 0);
}

/* RFC 5321 4.3.1: nothing is sent before the 220. */
static void rfc5321_4_3_1_wait_for_greeting(void **state)
{
    smtpw_client *c = client(0);
    smtpw_event ev;
    (void)state;
    assert_int_equal(smtpw_client_ehlo(c, "a.example", 9), SMTPW_E_AGAIN);
    assert_int_equal(smtpw_client_quit(c), SMTPW_E_AGAIN);
    ev = line(c, "220 mx.example ESMTP\r\n");
    assert_int_equal(ev.cmd, SMTPW_CMD_GREETING);
    assert_int_equal(smtpw_client_want(c), 0);
    assert_int_equal(smtpw_client_timeout(c), SMTPW_TIMEOUT_NONE);
    assert_int_equal(smtpw_client_mail(c, "a@b.example", 11, 0, 0, NULL, 0), SMTPW_E_STATE);
    assert_int_equal(smtpw_client_ehlo(c, "a.example", 9), 0);
    assert_int_equal(smtpw_client_want(c), SMTPW_WANT_WRITE | SMTPW_WANT_READ);
    out_is(c, "EHLO a.example\r\n");
    assert_int_equal(smtpw_client_timeout(c), SMTPW_TIMEOUT_COMMAND);
}

/* RFC 5321 3.1: a 554 greeting leaves only QUIT. */
static void rfc5321_3_1_refusing_greeting_only_quit(void **state)
{
    smtpw_client *c = client(0);
    smtpw_event ev;
    (void)state;
    line(c, "554 go away\r\n");
    assert_int_equal(smtpw_client_ehlo(c, "a.example", 9), SMTPW_E_STATE);
    assert_int_equal(smtpw_client_noop(c), SMTPW_E_STATE);
    assert_int_equal(smtpw_client_quit(c), 0);
    out_is(c, "QUIT\r\n");
    assert_int_equal(smtpw_client_noop(c), SMTPW_E_CLOSED);
    ev = line(c, "221 bye\r\n");
    assert_int_equal(ev.cmd, SMTPW_CMD_QUIT);
    assert_int_equal(smtpw_client_want(c), SMTPW_WANT_CLOSE);
    assert_int_equal(line_err(c, "250 x\r\n"), SMTPW_E_CLOSED);
}

/* Byte-exact rendering of every command. */
static void rfc5321_4_1_1_command_bytes(void **state)
{
    smtpw_client *c = ready(0, NULL, 0);
    (void)state;
    assert_int_equal(smtpw_client_noop(c), 0);
    out_is(c, "NOOP\r\n");
    line(c, "250 ok\r\n");
    assert_int_equal(smtpw_client_vrfy(c, "postmaster", 10), 0);
    out_is(c, "VRFY postmaster\r\n");
    line(c, "252 maybe\r\n");
    assert_int_equal(smtpw_client_expn(c, "list", 4), 0);
    out_is(c, "EXPN list\r\n");
    line(c, "550 no\r\n");
    assert_int_equal(smtpw_client_help(c, NULL, 0), 0);
    out_is(c, "HELP\r\n");
    line(c, "214 help\r\n");
    assert_int_equal(smtpw_client_help(c, "MAIL", 4), 0);
    out_is(c, "HELP MAIL\r\n");
    line(c, "214 help\r\n");
    assert_int_equal(smtpw_client_rset(c), 0);
    out_is(c, "RSET\r\n");
    line(c, "250 ok\r\n");
    assert_int_equal(smtpw_client_mail(c, "a b@x.example", 13, 0, 0, NULL, 0), 0);
    out_is(c, "MAIL FROM:<\"a b\"@x.example>\r\n");
    line(c, "250 ok\r\n");
    assert_int_equal(smtpw_client_rcpt(c, "Postmaster", 10, NULL, 0), 0);
    out_is(c, "RCPT TO:<Postmaster>\r\n");
    line(c, "250 ok\r\n");
    assert_int_equal(smtpw_client_rcpt(c, "u@[192.0.2.1]", 13, " NOTIFY=NEVER  ORCPT=rfc822;u@x ", 32), 0);
    out_is(c, "RCPT TO:<u@[192.0.2.1]> NOTIFY=NEVER ORCPT=rfc822;u@x\r\n");
    line(c, "250 ok\r\n");
    assert_int_equal(smtpw_client_data(c), 0);
    out_is(c, "DATA\r\n");
    line(c, "354 go\r\n");
    {
        uint8_t buf[8];
        size_t w;
        assert_int_equal(smtpw_client_body_end(c, buf, sizeof buf, &w), 0);
        assert_int_equal(w, 3);
        assert_memory_equal(buf, ".\r\n", 3);
    }
    line(c, "250 queued\r\n");
    assert_int_equal(smtpw_client_mail(c, NULL, 0, 0, 0, NULL, 0), 0);
    out_is(c, "MAIL FROM:<>\r\n");
    line(c, "250 ok\r\n");
    assert_int_equal(smtpw_client_rset(c), 0);
    out_is(c, "RSET\r\n");
    line(c, "250 ok\r\n");
    assert_int_equal(smtpw_client_helo(c, "[192.0.2.7]", 11), 0);
    out_is(c, "HELO [192.0.2.7]\r\n");
    line(c, "250 mx\r\n");
    assert_int_equal(smtpw_client_quit(c), 0);
    out_is(c, "QUIT\r\n");
    line(c, "221 bye\r\n");
}

/* Nothing with CR, LF, NUL or another control byte gets out. */
static void rfc5321_injection_refused(void **state)
{
    static const char *const evil[] = {"a@b.example\r\nRCPT TO:<x@y>", "a@b.example\n",
                                       "a@b.example\r", "a\0@b.example", "a@b.exa\tmple",
                                       "a@b.example\x7f", "a\x1b@b.example"};
    smtpw_client *c = ready(0, PIPE_EXT);
    size_t i, n;
    (void)state;
    for (i = 0; i < sizeof evil / sizeof evil[0]; i++) {
        size_t len = i == 3 ? 13 : strlen(evil[i]);
        assert_int_equal(smtpw_client_mail(c, evil[i], len, 0, 0, NULL, 0), SMTPW_E_INVALID_ARG);
        assert_int_equal(smtpw_client_ehlo(c, evil[i], len), SMTPW_E_INVALID_ARG);
        assert_int_equal(smtpw_client_helo(c, evil[i], len), SMTPW_E_INVALID_ARG);
        assert_int_equal(smtpw_client_vrfy(c, evil[i], len), SMTPW_E_INVALID_ARG);
        assert_int_equal(smtpw_client_expn(c, evil[i], len), SMTPW_E_INVALID_ARG);
        assert_int_equal(smtpw_client_help(c, evil[i], len), SMTPW_E_INVALID_ARG);
        assert_int_equal(smtpw_client_mail(c, "a@b.example", 11, 0, 0, evil[i], len),
                         SMTPW_E_INVALID_ARG);
    }
    assert_int_equal(smtpw_client_mail(c, "a@b.example", 11, 0, 0, "X=\r\nRSET", 9),
                     SMTPW_E_INVALID_ARG);
    assert_int_equal(smtpw_client_mail(c, "a@b.example", 11, 0, 0, "X=1\0", 4),
                     SMTPW_E_INVALID_ARG);
    assert_int_equal(smtpw_client_mail(c, "a@b.example", 11, 0, 0, NULL, 0), 0);
    for (i = 0; i < sizeof evil / sizeof evil[0]; i++) {
        size_t len = i == 3 ? 13 : strlen(evil[i]);
        assert_int_equal(smtpw_client_rcpt(c, evil[i], len, NULL, 0), SMTPW_E_INVALID_ARG);
        assert_int_equal(smtpw_client_rcpt(c, "u@x.example", 11, evil[i], len),
                         SMTPW_E_INVALID_ARG);
    }
    /* only the MAIL went out */
    out_is(c, "MAIL FROM:<a@b.example>\r\n");
    smtpw_client_output(c, &n);
    assert_int_equal(n, 0);
}

/* Grammar errors come back as SMTPW_E_SYNTAX / TOOLONG; nothing queued. */
static void rfc5321_4_1_2_grammar(void **state)
{
    char big[600];
    smtpw_client *c = ready(0, PIPE_EXT);
    size_t n;
    (void)state;
    assert_int_equal(smtpw_client_ehlo(c, "", 0), SMTPW_E_SYNTAX);
    assert_int_equal(smtpw_client_ehlo(c, "-bad.example", 12), SMTPW_E_SYNTAX);
    assert_int_equal(smtpw_client_ehlo(c, "[999.1.1.1]", 11), SMTPW_E_SYNTAX);
    assert_int_equal(smtpw_client_mail(c, "nodomain", 8, 0, 0, NULL, 0), SMTPW_E_SYNTAX);
    assert_int_equal(smtpw_client_mail(c, "Postmaster", 10, 0, 0, NULL, 0), SMTPW_E_SYNTAX);
    assert_int_equal(smtpw_client_mail(c, "a@b.example", 11, 0, 0, "=x", 2), SMTPW_E_SYNTAX);
    assert_int_equal(smtpw_client_mail(c, "a@b.example", 11, 0, 0, "SIZE=10", 7),
                     SMTPW_E_INVALID_ARG);
    assert_int_equal(smtpw_client_mail(c, "a@b.example", 11, 0, 0, "body=7BIT", 9),
                     SMTPW_E_INVALID_ARG);
    assert_int_equal(smtpw_client_mail(c, "a@b.example", 11, 0, 0x100, NULL, 0),
                     SMTPW_E_INVALID_ARG);
    memset(big, 'a', sizeof big);
    assert_int_equal(smtpw_client_mail(c, big, 100, 0, 0, NULL, 0), SMTPW_E_SYNTAX);
    memcpy(big + 65, "@x.example", 10);
    assert_int_equal(smtpw_client_mail(c, big, 75, 0, 0, NULL, 0), SMTPW_E_TOOLONG);
    /* a command line over 512 octets (4.5.3.1.4) */
    memcpy(big, "X=", 2);
    assert_int_equal(smtpw_client_mail(c, "a@b.example", 11, 0, 0, big, 500), SMTPW_E_TOOLONG);
    assert_int_equal(smtpw_client_vrfy(c, "", 0), SMTPW_E_INVALID_ARG);
    assert_int_equal(smtpw_client_vrfy(c, "\xc3\xa9", 2), SMTPW_E_INVALID_ARG);
    /* UTF-8 addresses only with SMTPUTF8 declared (RFC 6531 3.4) */
    assert_int_equal(smtpw_client_mail(c, "\xc3\xa9@x.example", 12, 0, 0, NULL, 0),
                     SMTPW_E_SYNTAX);
    smtpw_client_output(c, &n);
    assert_int_equal(n, 0);
    assert_int_equal(smtpw_client_pending(c), 0);
    assert_int_equal(smtpw_client_mail(c, "\xc3\xa9@x.example", 12, 0, SMTPW_MAIL_SMTPUTF8,
                                       NULL, 0),
                     0);
    out_is(c, "MAIL FROM:<\xc3\xa9@x.example> SMTPUTF8\r\n");
    assert_int_equal(smtpw_client_rcpt(c, "\xc3\xa9@y.example", 12, NULL, 0), 0);
    assert_int_equal(smtpw_client_rcpt(c, "", 0, NULL, 0), SMTPW_E_SYNTAX);
}

/* RFC 1870 and RFC 6152: SIZE= only when offered and nonzero; limits. */
static void rfc1870_size_and_rfc6152_8bitmime(void **state)
{
    static const char *const plain[] = {"250 SIZE\r\n"};
    smtpw_client *c = ready(0, PIPE_EXT);
    (void)state;
    assert_int_equal(smtpw_client_size_limit(c), 1000);
    assert_int_equal(smtpw_client_mail(c, "a@b.example", 11, 1001, 0, NULL, 0), SMTPW_E_SIZE);
    assert_int_equal(smtpw_client_mail(c, "a@b.example", 11, 1000, SMTPW_MAIL_8BIT,
                                       "ENVID=x+2Bq RET=HDRS", 20),
                     0);
    out_is(c, "MAIL FROM:<a@b.example> SIZE=1000 BODY=8BITMIME ENVID=x+2Bq RET=HDRS\r\n");

    c = ready(0, plain, 1); /* SIZE without a number: no limit; no 8BITMIME */
    assert_int_equal(smtpw_client_extensions(c), SMTPW_EXT_SIZE);
    assert_int_equal(smtpw_client_size_limit(c), 0);
    assert_int_equal(smtpw_client_mail(c, "a@b.example", 11, 5, SMTPW_MAIL_8BIT, NULL, 0),
                     SMTPW_E_8BIT);
    assert_int_equal(smtpw_client_mail(c, "a@b.example", 11, 5, SMTPW_MAIL_SMTPUTF8, NULL, 0),
                     SMTPW_E_NOTSUP);
    assert_int_equal(smtpw_client_pending(c), 0);
    assert_int_equal(smtpw_client_mail(c, "a@b.example", 11, UINT64_C(18446744073709551615), 0,
                                       NULL, 0),
                     0);
    out_is(c, "MAIL FROM:<a@b.example> SIZE=18446744073709551615\r\n");

    c = ready(0, NULL, 0); /* no SIZE at all: size not sent */
    assert_int_equal(smtpw_client_mail(c, "a@b.example", 11, 99999999, 0, NULL, 0), 0);
    out_is(c, "MAIL FROM:<a@b.example>\r\n");
}

/* RFC 2920 3.1: grouping with PIPELINING. */
static void rfc2920_3_1_pipelined_group(void **state)
{
    smtpw_client *c = ready(0, PIPE_EXT);
    smtpw_event ev;
    (void)state;
    assert_int_equal(smtpw_client_mail(c, "a@b.example", 11, 0, 0, NULL, 0), 0);
    assert_int_equal(smtpw_client_rcpt(c, "r0@x.example", 12, NULL, 0), 0);
    assert_int_equal(smtpw_client_rcpt(c, "r1@x.example", 12, NULL, 0), 0);
    assert_int_equal(smtpw_client_rcpt(c, "r2@x.example", 12, NULL, 0), 0);
    assert_int_equal(smtpw_client_data(c), 0);
    /* DATA ends the group */
    assert_int_equal(smtpw_client_noop(c), SMTPW_E_AGAIN);
    assert_int_equal(smtpw_client_rset(c), SMTPW_E_AGAIN);
    assert_int_equal(smtpw_client_pending(c), 5);
    assert_int_equal(smtpw_client_timeout(c), SMTPW_TIMEOUT_MAIL);
    out_is(c, "MAIL FROM:<a@b.example>\r\nRCPT TO:<r0@x.example>\r\n"
              "RCPT TO:<r1@x.example>\r\nRCPT TO:<r2@x.example>\r\nDATA\r\n");
    ev = line(c, "250 2.1.0 ok\r\n");
    assert_int_equal(ev.cmd, SMTPW_CMD_MAIL);
    assert_int_equal(smtpw_client_timeout(c), SMTPW_TIMEOUT_RCPT);
    ev = line(c, "250 2.1.5 ok\r\n");
    assert_int_equal(ev.cmd, SMTPW_CMD_RCPT);
    assert_int_equal(ev.index, 0);
    ev = line(c, "550-5.1.1 no\r\n");
    assert_int_equal(ev.cmd, SMTPW_CMD_RCPT);
    assert_int_equal(ev.index, 1);
    assert_int_equal(ev.flags, SMTPW_EVF_ENHANCED);
    ev = line(c, "550 5.1.1 such user\r\n");
    assert_int_equal(ev.index, 1);
    ev = line(c, "251 2.1.5 forwarded\r\n");
    assert_int_equal(ev.index, 2);
    assert_int_equal(smtpw_client_accepted(c), 2);
    assert_int_equal(smtpw_client_timeout(c), SMTPW_TIMEOUT_DATA_INIT);
    ev = line(c, "354 go\r\n");
    assert_int_equal(ev.cmd, SMTPW_CMD_DATA);
    assert_int_equal(smtpw_client_want(c), SMTPW_WANT_BODY);
    assert_int_equal(smtpw_client_timeout(c), SMTPW_TIMEOUT_DATA_BLOCK);
    assert_int_equal(smtpw_client_noop(c), SMTPW_E_STATE);
    {
        uint8_t buf[64];
        size_t used, w;
        assert_int_equal(smtpw_client_body_encode(c, (const uint8_t *)"hi", 2, &used, buf,
                                                  sizeof buf, &w),
                         0);
        assert_int_equal(smtpw_client_body_end(c, buf + w, sizeof buf - w, &w), 0);
        assert_int_equal(w, 5);
    }
    assert_int_equal(smtpw_client_timeout(c), SMTPW_TIMEOUT_DATA_TERM);
    /* the message may open the next group: MAIL and QUIT right away */
    assert_int_equal(smtpw_client_mail(c, "a@b.example", 11, 0, 0, NULL, 0), 0);
    assert_int_equal(smtpw_client_rcpt(c, "r0@x.example", 12, NULL, 0), 0);
    assert_int_equal(smtpw_client_accepted(c), 0);
    assert_int_equal(smtpw_client_quit(c), 0);
    assert_int_equal(smtpw_client_rset(c), SMTPW_E_CLOSED);
    out_is(c, "MAIL FROM:<a@b.example>\r\nRCPT TO:<r0@x.example>\r\nQUIT\r\n");
    ev = line(c, "250 queued\r\n");
    assert_int_equal(ev.cmd, SMTPW_CMD_BODY);
    ev = line(c, "250 ok\r\n");
    assert_int_equal(ev.cmd, SMTPW_CMD_MAIL);
    ev = line(c, "250 ok\r\n");
    assert_int_equal(ev.cmd, SMTPW_CMD_RCPT);
    assert_int_equal(smtpw_client_accepted(c), 1);
    ev = line(c, "221 bye\r\n");
    assert_int_equal(ev.cmd, SMTPW_CMD_QUIT);
    assert_int_equal(smtpw_client_want(c), SMTPW_WANT_CLOSE);
}

/* Every group-ending command blocks the next one until its reply. */
static void rfc2920_3_1_group_enders(void **state)
{
    int k;
    (void)state;
    for (k = 0; k < 7; k++) {
        smtpw_client *c = ready(0, PIPE_EXT);
        int r = -100;
        switch (k) {
        case 0: r = smtpw_client_noop(c); break;
        case 1: r = smtpw_client_vrfy(c, "x", 1); break;
        case 2: r = smtpw_client_expn(c, "x", 1); break;
        case 3: r = smtpw_client_help(c, NULL, 0); break;
        case 4: r = smtpw_client_ehlo(c, "a.example", 9); break;
        case 5: r = smtpw_client_helo(c, "a.example", 9); break;
        case 6: r = smtpw_client_starttls(c); break;
        default: break;
        }
        assert_int_equal(r, 0);
        assert_int_equal(smtpw_client_rset(c), SMTPW_E_AGAIN);
        assert_int_equal(smtpw_client_mail(c, "a@b.example", 11, 0, 0, NULL, 0), SMTPW_E_AGAIN);
        assert_int_equal(smtpw_client_noop(c), SMTPW_E_AGAIN);
    }
}

/* Without PIPELINING (or with it disabled): one command at a time. */
static void rfc2920_no_pipelining_one_at_a_time(void **state)
{
    int disabled;
    (void)state;
    for (disabled = 0; disabled < 2; disabled++) {
        smtpw_client *c = disabled ? ready(SMTPW_CLIENT_NO_PIPELINING, PIPE_EXT)
                                   : ready(0, NULL, 0);
        assert_int_equal(smtpw_client_mail(c, "a@b.example", 11, 0, 0, NULL, 0), 0);
        assert_int_equal(smtpw_client_rcpt(c, "r@x.example", 11, NULL, 0), SMTPW_E_AGAIN);
        assert_int_equal(smtpw_client_rset(c), SMTPW_E_AGAIN);
        out_is(c, "MAIL FROM:<a@b.example>\r\n");
        line(c, "250 ok\r\n");
        assert_int_equal(smtpw_client_rcpt(c, "r@x.example", 11, NULL, 0), 0);
        assert_int_equal(smtpw_client_data(c), SMTPW_E_AGAIN);
        out_is(c, "RCPT TO:<r@x.example>\r\n");
        line(c, "550 no\r\n");
        /* every RCPT answered, none accepted: DATA is refused */
        assert_int_equal(smtpw_client_data(c), SMTPW_E_STATE);
        assert_int_equal(smtpw_client_rset(c), 0);
        out_is(c, "RSET\r\n");
    }
}

/* The ring holds 128 outstanding replies; more is E_AGAIN. */
static void rfc2920_ring_full_is_again(void **state)
{
    smtpw_client *c = ready(0, PIPE_EXT);
    uint32_t i;
    size_t n;
    smtpw_event ev;
    (void)state;
    assert_int_equal(smtpw_client_mail(c, "a@b.example", 11, 0, 0, NULL, 0), 0);
    for (i = 1; i < 128; i++) {
        int r = smtpw_client_rcpt(c, "r@x.example", 11, NULL, 0);
        if (r == SMTPW_E_AGAIN) { /* output queue full: drain it */
            smtpw_client_output(c, &n);
            smtpw_client_output_ack(c, n);
            r = smtpw_client_rcpt(c, "r@x.example", 11, NULL, 0);
        }
        assert_int_equal(r, 0);
    }
    smtpw_client_output(c, &n);
    smtpw_client_output_ack(c, n);
    assert_int_equal(smtpw_client_pending(c), 128);
    assert_int_equal(smtpw_client_rcpt(c, "r@x.example", 11, NULL, 0), SMTPW_E_AGAIN);
    line(c, "250 ok\r\n");
    assert_int_equal(smtpw_client_rcpt(c, "r@x.example", 11, NULL, 0), 0);
    out_is(c, "RCPT TO:<r@x.example>\r\n");
    for (i = 0; i < 128; i++) {
        ev = line(c, "250 ok\r\n");
        assert_int_equal(ev.cmd, SMTPW_CMD_RCPT);
        assert_int_equal(ev.index, i);
    }
    assert_int_equal(smtpw_client_accepted(c), 128);
}

/* The output queue full: E_AGAIN, nothing half-written. */
static void api_output_queue_full_is_again(void **state)
{
    char addr[80];
    smtpw_client *c = ready(0, PIPE_EXT);
    size_t n, before;
    int r, count = 0;
    (void)state;
    memset(addr, 'a', 60);
    memcpy(addr + 60, "@x.example", 10);
    assert_int_equal(smtpw_client_mail(c, addr, 70, 0, 0, NULL, 0), 0);
    for (;;) {
        smtpw_client_output(c, &before);
        r = smtpw_client_rcpt(c, addr, 70, NULL, 0);
        if (r != 0)
            break;
        count++;
    }
    assert_int_equal(r, SMTPW_E_AGAIN);
    smtpw_client_output(c, &n);
    assert_int_equal(n, before);
    assert_true(count > 10);
    assert_int_equal(smtpw_client_pending(c), (uint32_t)count + 1);
}

/* RFC 2920 3.1: DATA gets 354 with no recipient accepted: a lone dot. */
static void rfc2920_3_1_data_354_without_recipients(void **state)
{
    smtpw_client *c = ready(0, PIPE_EXT);
    uint8_t buf[8];
    size_t w;
    smtpw_event ev;
    (void)state;
    assert_int_equal(smtpw_client_mail(c, "a@b.example", 11, 0, 0, NULL, 0), 0);
    assert_int_equal(smtpw_client_rcpt(c, "r@x.example", 11, NULL, 0), 0);
    assert_int_equal(smtpw_client_data(c), 0);
    out_is(c, "MAIL FROM:<a@b.example>\r\nRCPT TO:<r@x.example>\r\nDATA\r\n");
    line(c, "250 ok\r\n");
    line(c, "550 no\r\n");
    ev = line(c, "354 go ahead anyway\r\n");
    assert_int_equal(ev.cmd, SMTPW_CMD_DATA);
    assert_int_equal(smtpw_client_accepted(c), 0);
    assert_int_equal(smtpw_client_want(c), SMTPW_WANT_BODY);
    assert_int_equal(smtpw_client_body_end(c, buf, 4, &w), SMTPW_E_NOBUF);
    assert_int_equal(smtpw_client_body_end(c, buf, sizeof buf, &w), 0);
    assert_int_equal(w, 3);
    assert_memory_equal(buf, ".\r\n", 3);
    ev = line(c, "554 no valid recipients\r\n");
    assert_int_equal(ev.cmd, SMTPW_CMD_BODY);
    assert_int_equal(smtpw_client_mail(c, "a@b.example", 11, 0, 0, NULL, 0), 0);
}

/* A refused MAIL in a pipelined flight; a refused DATA keeps the
 * transaction for RSET. */
static void rfc2920_3_1_refused_mail_and_data(void **state)
{
    smtpw_client *c = ready(0, PIPE_EXT);
    (void)state;
    assert_int_equal(smtpw_client_mail(c, "a@b.example", 11, 0, 0, NULL, 0), 0);
    assert_int_equal(smtpw_client_rcpt(c, "r@x.example", 11, NULL, 0), 0);
    out_is(c, "MAIL FROM:<a@b.example>\r\nRCPT TO:<r@x.example>\r\n");
    line(c, "451 later\r\n");
    assert_int_equal(smtpw_client_rcpt(c, "s@x.example", 11, NULL, 0), SMTPW_E_STATE);
    assert_int_equal(smtpw_client_data(c), SMTPW_E_STATE);
    line(c, "503 no MAIL\r\n");
    assert_int_equal(smtpw_client_mail(c, "a@b.example", 11, 0, 0, NULL, 0), 0);
    assert_int_equal(smtpw_client_mail(c, "a@b.example", 11, 0, 0, NULL, 0), SMTPW_E_STATE);
    assert_int_equal(smtpw_client_rcpt(c, "r@x.example", 11, NULL, 0), 0);
    assert_int_equal(smtpw_client_data(c), 0);
    out_is(c, "MAIL FROM:<a@b.example>\r\nRCPT TO:<r@x.example>\r\nDATA\r\n");
    line(c, "250 ok\r\n");
    line(c, "250 ok\r\n");
    line(c, "451 try later\r\n");
    assert_int_equal(smtpw_client_want(c), 0);
    assert_int_equal(smtpw_client_mail(c, "a@b.example", 11, 0, 0, NULL, 0), SMTPW_E_STATE);
    assert_int_equal(smtpw_client_rset(c), 0);
    assert_int_equal(smtpw_client_mail(c, "a@b.example", 11, 0, 0, NULL, 0), 0);
}

/* Replies nobody asked for, and more replies than commands. */
static void rfc5321_4_2_unsolicited_reply_fatal(void **state)
{
    smtpw_client *c = ready(0, NULL, 0);
    (void)state;
    assert_int_equal(line_err(c, "250 surprise\r\n"), SMTPW_E_PROTO);
    assert_int_equal(smtpw_client_noop(c), SMTPW_E_PROTO);
    assert_int_equal(smtpw_client_want(c), SMTPW_WANT_CLOSE);

    c = ready(0, NULL, 0);
    assert_int_equal(smtpw_client_noop(c), 0);
    /* a reply before the command was even handed out */
    assert_int_equal(line_err(c, "250 ok\r\n"), SMTPW_E_PROTO);

    c = ready(0, NULL, 0);
    assert_int_equal(smtpw_client_noop(c), 0);
    out_is(c, "NOOP\r\n");
    line(c, "250 ok\r\n");
    assert_int_equal(line_err(c, "250 ok\r\n"), SMTPW_E_PROTO);
}

/* RFC 5321 3.8: 421 anywhere ends the session after its event. */
static void rfc5321_3_8_421_anywhere(void **state)
{
    smtpw_client *c;
    smtpw_event ev;
    uint8_t buf[8];
    size_t w, u;
    (void)state;
    /* as the greeting */
    c = client(0);
    ev = line(c, "421 busy\r\n");
    assert_int_equal(ev.cmd, SMTPW_CMD_GREETING);
    assert_int_equal(smtpw_client_want(c), SMTPW_WANT_CLOSE);
    assert_int_equal(line_err(c, "220 hi\r\n"), SMTPW_E_CLOSED);
    assert_int_equal(smtpw_client_ehlo(c, "a.example", 9), SMTPW_E_CLOSED);
    /* multi-line, as a reply to RCPT */
    c = ready(0, PIPE_EXT);
    assert_int_equal(smtpw_client_mail(c, "a@b.example", 11, 0, 0, NULL, 0), 0);
    assert_int_equal(smtpw_client_rcpt(c, "r@x.example", 11, NULL, 0), 0);
    out_is(c, "MAIL FROM:<a@b.example>\r\nRCPT TO:<r@x.example>\r\n");
    line(c, "250 ok\r\n");
    ev = line(c, "421-4.3.2 shutting\r\n");
    assert_int_equal(ev.cmd, SMTPW_CMD_RCPT);
    assert_int_equal(smtpw_client_want(c), SMTPW_WANT_READ);
    ev = line(c, "421 4.3.2 down\r\n");
    assert_int_equal(ev.flags, SMTPW_EVF_LAST | SMTPW_EVF_ENHANCED);
    assert_int_equal(smtpw_client_want(c), SMTPW_WANT_CLOSE);
    assert_int_equal(smtpw_client_rset(c), SMTPW_E_CLOSED);
    /* uninvited, while idle */
    c = ready(0, NULL, 0);
    ev = line(c, "421 idle timeout\r\n");
    assert_int_equal(ev.cmd, SMTPW_CMD_NONE);
    assert_int_equal(smtpw_client_want(c), SMTPW_WANT_CLOSE);
    /* during the body */
    c = ready(0, NULL, 0);
    assert_int_equal(smtpw_client_mail(c, "a@b.example", 11, 0, 0, NULL, 0), 0);
    out_is(c, "MAIL FROM:<a@b.example>\r\n");
    line(c, "250 ok\r\n");
    assert_int_equal(smtpw_client_rcpt(c, "r@x.example", 11, NULL, 0), 0);
    out_is(c, "RCPT TO:<r@x.example>\r\n");
    line(c, "250 ok\r\n");
    assert_int_equal(smtpw_client_data(c), 0);
    out_is(c, "DATA\r\n");
    line(c, "354 go\r\n");
    ev = line(c, "421 bye\r\n");
    assert_int_equal(ev.cmd, SMTPW_CMD_NONE);
    assert_int_equal(smtpw_client_body_encode(c, buf, 1, &u, buf, sizeof buf, &w),
                     SMTPW_E_CLOSED);
    assert_int_equal(smtpw_client_body_end(c, buf, sizeof buf, &w), SMTPW_E_CLOSED);
    assert_int_equal(smtpw_client_timeout(c), SMTPW_TIMEOUT_NONE);
}

/* RFC 5321 3.2: EHLO refused with 500/502, the caller falls back to HELO. */
static void rfc5321_3_2_helo_fallback(void **state)
{
    smtpw_client *c = client(0);
    smtpw_event ev;
    (void)state;
    line(c, "220 old.example\r\n");
    assert_int_equal(smtpw_client_ehlo(c, "a.example", 9), 0);
    out_is(c, "EHLO a.example\r\n");
    ev = line(c, "502 what?\r\n");
    assert_int_equal(ev.cmd, SMTPW_CMD_EHLO);
    assert_int_equal(smtpw_client_mail(c, "a@b.example", 11, 0, 0, NULL, 0), SMTPW_E_STATE);
    assert_int_equal(smtpw_client_helo(c, "a.example", 9), 0);
    out_is(c, "HELO a.example\r\n");
    ev = line(c, "250 old.example\r\n");
    assert_int_equal(ev.cmd, SMTPW_CMD_HELO);
    assert_int_equal(smtpw_client_extensions(c), 0);
    assert_int_equal(smtpw_client_mail(c, "a@b.example", 11, 10, 0, NULL, 0), 0);
    out_is(c, "MAIL FROM:<a@b.example>\r\n");
}

/* RFC 3207 4.2: after TLS the capabilities are forgotten; bytes sent in
 * the clear after the 220 are refused. */
static void rfc3207_4_2_starttls(void **state)
{
    static const char *const after[] = {"250-PIPELINING\r\n", "250 AUTH PLAIN\r\n"};
    smtpw_client *c = ready(0, NULL, 0);
    smtpw_event ev;
    size_t used;
    (void)state;
    assert_int_equal(smtpw_client_starttls(c), SMTPW_E_NOTSUP);
    c = ready(0, PIPE_EXT);
    assert_int_equal(smtpw_client_starttls(c), 0);
    out_is(c, "STARTTLS\r\n");
    assert_int_equal(smtpw_client_tls_started(c), SMTPW_E_STATE);
    ev = line(c, "220 2.0.0 go\r\n");
    assert_int_equal(ev.cmd, SMTPW_CMD_STARTTLS);
    assert_int_equal(smtpw_client_want(c), SMTPW_WANT_TLS);
    assert_int_equal(smtpw_client_mail(c, "a@b.example", 11, 0, 0, NULL, 0), SMTPW_E_STATE);
    assert_int_equal(smtpw_client_recv(c, (const uint8_t *)"", 0, &used, &ev, sizeof ev), SMTPW_EV_NONE);
    assert_int_equal(smtpw_client_tls_started(c), 0);
    assert_int_equal(smtpw_client_extensions(c), 0);
    assert_int_equal(smtpw_client_size_limit(c), 0);
    assert_int_equal(smtpw_client_mail(c, "a@b.example", 11, 0, 0, NULL, 0), SMTPW_E_STATE);
    assert_int_equal(smtpw_client_ehlo(c, "a.example", 9), 0);
    out_is(c, "EHLO a.example\r\n");
    line(c, "250-mx\r\n");
    line(c, after[0]);
    line(c, after[1]);
    assert_int_equal(smtpw_client_extensions(c), SMTPW_EXT_PIPELINING | SMTPW_EXT_AUTH);
    assert_int_equal(smtpw_client_auth_mechs(c), SMTPW_AUTH_PLAIN);

    /* injection: a pipelined reply sent in the clear with the 220 */
    c = ready(0, PIPE_EXT);
    assert_int_equal(smtpw_client_starttls(c), 0);
    out_is(c, "STARTTLS\r\n");
    {
        static const char inj[] = "220 go\r\n250-evil\r\n250 AUTH PLAIN\r\n";
        assert_int_equal(smtpw_client_recv(c, (const uint8_t *)inj, sizeof inj - 1, &used, &ev, sizeof ev),
                         SMTPW_EV_REPLY);
        assert_int_equal(used, 8);
        assert_int_equal(smtpw_client_recv(c, (const uint8_t *)inj + 8, sizeof inj - 9, &used, &ev, sizeof ev),
                         SMTPW_E_PROTO);
        assert_int_equal(smtpw_client_tls_started(c), SMTPW_E_PROTO);
    }
    /* a refused STARTTLS changes nothing */
    c = ready(0, PIPE_EXT);
    assert_int_equal(smtpw_client_starttls(c), 0);
    out_is(c, "STARTTLS\r\n");
    line(c, "454 TLS not available\r\n");
    assert_int_equal(smtpw_client_want(c), 0);
    assert_int_equal(smtpw_client_mail(c, "a@b.example", 11, 0, 0, NULL, 0), 0);
}

/* 8-bit body without BODY=8BITMIME: the encoder stops at the byte. */
static void rfc6152_encoder_8bit_safety_net(void **state)
{
    static const uint8_t body[] = "ab\xc3\xa9";
    uint8_t out[16];
    size_t used, w;
    int k;
    (void)state;
    for (k = 0; k < 2; k++) {
        smtpw_client *c = ready(0, PIPE_EXT);
        assert_int_equal(smtpw_client_mail(c, "a@b.example", 11, 0, k ? SMTPW_MAIL_8BIT : 0u,
                                           NULL, 0),
                         0);
        assert_int_equal(smtpw_client_rcpt(c, "r@x.example", 11, NULL, 0), 0);
        assert_int_equal(smtpw_client_data(c), 0);
        assert_int_equal(smtpw_client_body_encode(c, body, 4, &used, out, sizeof out, &w),
                         SMTPW_E_STATE);
        out_is(c, k ? "MAIL FROM:<a@b.example> BODY=8BITMIME\r\nRCPT TO:<r@x.example>\r\nDATA\r\n"
                    : "MAIL FROM:<a@b.example>\r\nRCPT TO:<r@x.example>\r\nDATA\r\n");
        line(c, "250 ok\r\n");
        line(c, "250 ok\r\n");
        line(c, "354 go\r\n");
        assert_int_equal(smtpw_client_body_encode(c, body, 4, &used, out, sizeof out, &w),
                         k ? 0 : SMTPW_E_8BIT);
        assert_int_equal(used, k ? 4u : 2u);
        assert_int_equal(w, k ? 4u : 2u);
        assert_int_equal(smtpw_client_body_encode(c, body, 4, &used, out, 1, &w),
                         SMTPW_E_NOBUF);
    }
}

/* EHLO reply lines carry keyword events; unknown ones too. */
static void rfc5321_4_1_1_1_ehlo_keyword_events(void **state)
{
    smtpw_client *c = client(0);
    smtpw_event ev;
    (void)state;
    line(c, "220 mx\r\n");
    assert_int_equal(smtpw_client_ehlo(c, "a.example", 9), 0);
    out_is(c, "EHLO a.example\r\n");
    ev = line(c, "250-mx.example greets a.example\r\n");
    assert_int_equal(ev.flags, 0);
    assert_int_equal(ev.arg.len, 27);
    ev = line(c, "250-X-FOO bar  baz\r\n");
    assert_int_equal(ev.flags, SMTPW_EVF_KEYWORD);
    assert_int_equal(ev.keyword.len, 5);
    assert_memory_equal(ev.keyword.ptr, "X-FOO", 5);
    assert_int_equal(ev.params.len, 8);
    assert_memory_equal(ev.params.ptr, "bar  baz", 8);
    ev = line(c, "250 2.0.0\r\n"); /* not an ehlo-line: no keyword, no enhanced */
    assert_int_equal(ev.flags, SMTPW_EVF_LAST);
    assert_int_equal(smtpw_client_extensions(c), 0);
}


/* ---- a hostile server ---- */

/* Feed n bytes (guarded) and return the recv result; *used gets the count. */
static int feed_n(smtpw_client *c, const char *s, size_t n, size_t *used, smtpw_event *ev)
{
    return smtpw_client_recv(c, guardbuf_put(s, n), n, used, ev, sizeof *ev);
}

/* The pipelined flight MAIL, RCPT, DATA, handed out. */
static smtpw_client *flight(void)
{
    smtpw_client *c = ready(0, PIPE_EXT);
    assert_int_equal(smtpw_client_mail(c, "a@b.example", 11, 0, 0, NULL, 0), 0);
    assert_int_equal(smtpw_client_rcpt(c, "r@x.example", 11, NULL, 0), 0);
    assert_int_equal(smtpw_client_data(c), 0);
    out_is(c, "MAIL FROM:<a@b.example>\r\nRCPT TO:<r@x.example>\r\nDATA\r\n");
    return c;
}

/* RFC 5321 4.3.2: DATA is answered 354 or refused, never completed by a
 * 2yz; a 3yz answers nothing but DATA.  Either means the server is in
 * another state (it may take the next command lines as the message):
 * fatal, and the line is not delivered. */
static void rfc5321_4_3_2_reply_codes_that_do_not_fit(void **state)
{
    smtpw_client *c;
    (void)state;
    c = flight();
    line(c, "250 ok\r\n");
    line(c, "250 ok\r\n");
    assert_int_equal(line_err(c, "250 data accepted?\r\n"), SMTPW_E_PROTO);
    assert_int_equal(smtpw_client_want(c), SMTPW_WANT_CLOSE);
    assert_int_equal(smtpw_client_rset(c), SMTPW_E_PROTO);
    /* found on the first line of a multi-line reply */
    c = flight();
    line(c, "250 ok\r\n");
    line(c, "250 ok\r\n");
    assert_int_equal(line_err(c, "251-odd\r\n"), SMTPW_E_PROTO);
    /* 354 to MAIL */
    c = flight();
    assert_int_equal(line_err(c, "354 send it\r\n"), SMTPW_E_PROTO);
    /* 334 (AUTH's) to RCPT, 354 to the greeting and to EHLO */
    c = flight();
    line(c, "250 ok\r\n");
    assert_int_equal(line_err(c, "334 VXNlcm5hbWU6\r\n"), SMTPW_E_PROTO);
    c = client(0);
    assert_int_equal(line_err(c, "354 hello\r\n"), SMTPW_E_PROTO);
    c = client(0);
    line(c, "220 mx\r\n");
    assert_int_equal(smtpw_client_ehlo(c, "a.example", 9), 0);
    out_is(c, "EHLO a.example\r\n");
    assert_int_equal(line_err(c, "354 mx\r\n"), SMTPW_E_PROTO);
    /* what does fit still works: 4yz/5yz to DATA, 354 to DATA */
    c = flight();
    line(c, "250 ok\r\n");
    line(c, "250 ok\r\n");
    assert_int_equal(line(c, "451 later\r\n").cmd, SMTPW_CMD_DATA);
}

/* A reply while the body is being sent (before body_end) can only be an
 * uninvited one: 2yz there is fatal, so it is never taken for the answer
 * to a dot that was not sent yet. */
static void rfc5321_4_1_1_4_reply_before_the_dot(void **state)
{
    smtpw_client *c = flight();
    uint8_t buf[64];
    size_t w, u;
    (void)state;
    line(c, "250 ok\r\n");
    line(c, "250 ok\r\n");
    line(c, "354 go\r\n");
    assert_int_equal(smtpw_client_body_encode(c, (const uint8_t *)"hi\r\n", 4, &u, buf,
                                              sizeof buf, &w), 0);
    assert_int_equal(line_err(c, "250 2.0.0 queued early\r\n"), SMTPW_E_PROTO);
    assert_int_equal(smtpw_client_body_end(c, buf, sizeof buf, &w), SMTPW_E_PROTO);
    assert_int_equal(smtpw_client_want(c), SMTPW_WANT_CLOSE);
}

/* RFC 5321 4.5.3.1.5: a line of exactly max_reply_line octets (CRLF
 * included) is taken; one more octet is fatal, found before the LF comes
 * and with nothing consumed.  Default limit 2048. */
static void rfc5321_4_5_3_1_5_reply_line_limit_exact(void **state)
{
    static char buf[2100];
    smtpw_client *c;
    smtpw_event ev;
    size_t used = 99;
    (void)state;
    memset(buf, 'x', sizeof buf);
    memcpy(buf, "220 ", 4);
    memcpy(buf + 2046, "\r\n", 2);
    c = client(0);
    assert_int_equal(feed_n(c, buf, 2048, &used, &ev), SMTPW_EV_REPLY);
    assert_int_equal(used, 2048);
    assert_int_equal(ev.arg.len, 2042);
    c = client(0);
    buf[2046] = 'x';
    memcpy(buf + 2047, "\r\n", 2);
    assert_int_equal(feed_n(c, buf, 2047, &used, &ev), SMTPW_EV_NONE);
    assert_int_equal(used, 0);
    assert_int_equal(feed_n(c, buf, 2049, &used, &ev), SMTPW_E_PROTO);
    assert_int_equal(used, 0);
    assert_int_equal(smtpw_client_want(c), SMTPW_WANT_CLOSE);
    /* an endless line without LF fails once 2048 octets are in */
    c = client(0);
    memset(buf + 4, 'y', sizeof buf - 4);
    assert_int_equal(feed_n(c, buf, sizeof buf, &used, &ev), SMTPW_E_PROTO);
}

/* A 220 greeting of exactly max_reply_lines (100) lines is fine, one more
 * is fatal at the extra line; every line was delivered before. */
static void rfc5321_4_2_greeting_line_count_exact(void **state)
{
    smtpw_client *c;
    smtpw_event ev;
    size_t used;
    int i;
    (void)state;
    c = client(0);
    for (i = 0; i < 99; i++)
        assert_int_equal(line(c, "220-banner\r\n").flags, 0);
    ev = line(c, "220 ready\r\n");
    assert_int_equal(ev.flags, SMTPW_EVF_LAST);
    assert_int_equal(smtpw_client_ehlo(c, "a.example", 9), 0);
    c = client(0);
    for (i = 0; i < 100; i++)
        line(c, "220-banner\r\n");
    assert_int_equal(feed_n(c, "220 ready\r\n", 11, &used, &ev), SMTPW_E_PROTO);
    assert_int_equal(used, 0);
    assert_int_equal(smtpw_client_ehlo(c, "a.example", 9), SMTPW_E_PROTO);
}

/* A reply fed one octet at a time: nothing until the LF, then the line. */
static void rfc5321_4_2_one_octet_segments(void **state)
{
    static const char r[] = "250-mx.example\r\n250-SIZE 0\r\n250 PIPELINING\r\n";
    smtpw_client *c = client(0);
    smtpw_event ev;
    size_t have = 0, off = 0, used, lines = 0;
    (void)state;
    line(c, "220 mx\r\n");
    assert_int_equal(smtpw_client_ehlo(c, "a.example", 9), 0);
    out_is(c, "EHLO a.example\r\n");
    while (off < sizeof r - 1) {
        int rc;
        have++;
        rc = feed_n(c, r + off, have, &used, &ev);
        if (rc == SMTPW_EV_NONE) {
            assert_int_equal(used, 0);
            continue;
        }
        assert_int_equal(rc, SMTPW_EV_REPLY);
        assert_int_equal(r[off + used - 1], '\n');
        assert_int_equal(used, have);
        off += used;
        have = 0;
        lines++;
    }
    assert_int_equal(lines, 3);
    assert_int_equal(ev.flags, SMTPW_EVF_LAST | SMTPW_EVF_KEYWORD);
    assert_int_equal(smtpw_client_extensions(c), SMTPW_EXT_SIZE | SMTPW_EXT_PIPELINING);
    assert_int_equal(smtpw_client_size_limit(c), 0);
}

/* RFC 1870 4 through the public API: SIZE 0, garbage and a value over
 * 2^64 - 1 all mean no known limit (SIZE= is still sent, never refused
 * locally); a real limit is enforced. */
static void rfc1870_4_hostile_size_values(void **state)
{
    static const char *const vals[] = {"250 SIZE 0\r\n", "250 SIZE lots\r\n",
                                       "250 SIZE 18446744073709551616\r\n",
                                       "250 SIZE -1\r\n", "250 SIZE 0x10\r\n"};
    size_t i;
    (void)state;
    for (i = 0; i < sizeof vals / sizeof vals[0]; i++) {
        smtpw_client *c = ready(0, &vals[i], 1);
        assert_int_equal(smtpw_client_extensions(c), SMTPW_EXT_SIZE);
        assert_int_equal(smtpw_client_size_limit(c), 0);
        assert_int_equal(smtpw_client_mail(c, "a@b.example", 11, UINT64_MAX, 0, NULL, 0), 0);
        out_is(c, "MAIL FROM:<a@b.example> SIZE=18446744073709551615\r\n");
    }
    {
        static const char *const lim[] = {"250 SIZE 18446744073709551614\r\n"};
        smtpw_client *c = ready(0, lim, 1);
        assert_int_equal(smtpw_client_mail(c, "a@b.example", 11, UINT64_MAX, 0, NULL, 0),
                         SMTPW_E_SIZE);
    }
}

/* Huge capability lists: AUTH with 1000 mechanisms over lines of at most
 * max_reply_line octets, and unknown keywords up to the line count limit;
 * 500 keyword lines exceed it (100) and are fatal, not stored. */
static void rfc5321_4_1_1_1_hostile_ehlo_lists(void **state)
{
    static char l[2048];
    smtpw_client *c = client(0);
    smtpw_event ev;
    size_t used, n;
    int i, k;
    (void)state;
    line(c, "220 mx\r\n");
    assert_int_equal(smtpw_client_ehlo(c, "a.example", 9), 0);
    out_is(c, "EHLO a.example\r\n");
    line(c, "250-mx\r\n");
    /* 1000 mechanisms in 10 lines of 100, then the known ones */
    for (k = 0; k < 10; k++) {
        n = (size_t)snprintf(l, sizeof l, "250-AUTH");
        for (i = 0; i < 100; i++)
            n += (size_t)snprintf(l + n, sizeof l - n, " X-M%d", k * 100 + i);
        n += (size_t)snprintf(l + n, sizeof l - n, "\r\n");
        assert_true(n < sizeof l);
        assert_int_equal(feed_n(c, l, n, &used, &ev), SMTPW_EV_REPLY);
        assert_int_equal(used, n);
        assert_int_equal(ev.flags, SMTPW_EVF_KEYWORD);
    }
    for (i = 0; i < 87; i++) {
        n = (size_t)snprintf(l, sizeof l, "250-X-UNKNOWN-%d with params\r\n", i);
        assert_int_equal(feed_n(c, l, n, &used, &ev), SMTPW_EV_REPLY);
    }
    line(c, "250 AUTH PLAIN login\r\n"); /* line 99 */
    assert_int_equal(smtpw_client_extensions(c), SMTPW_EXT_AUTH);
    assert_int_equal(smtpw_client_auth_mechs(c),
                     SMTPW_AUTH_OTHER | SMTPW_AUTH_PLAIN | SMTPW_AUTH_LOGIN);
    /* 500 keyword lines */
    c = client(0);
    line(c, "220 mx\r\n");
    assert_int_equal(smtpw_client_ehlo(c, "a.example", 9), 0);
    out_is(c, "EHLO a.example\r\n");
    line(c, "250-mx\r\n");
    for (i = 0; i < 500; i++) {
        int rc;
        n = (size_t)snprintf(l, sizeof l, "250-X-K%d\r\n", i);
        rc = feed_n(c, l, n, &used, &ev);
        if (i < 99) {
            assert_int_equal(rc, SMTPW_EV_REPLY);
            continue;
        }
        assert_int_equal(rc, SMTPW_E_PROTO);
        break;
    }
    assert_int_equal(i, 99);
    assert_int_equal(smtpw_client_want(c), SMTPW_WANT_CLOSE);
}

/* common.h SMTPW_EVENT_MIN_SIZE: recv() takes an event of the fixed head
 * (type, cmd, code, flags) and no less, as the server does; smaller is an
 * argument error that consumes nothing, writes nothing and leaves the
 * reply for the next call. */
static void api_event_min_size_client(void **state)
{
    static const char g[] = "220 mx.example hi\r\n";
    unsigned char buf[sizeof(smtpw_event)];
    size_t used = 99, j, k;
    smtpw_client *c;
    (void)state;
    assert_int_equal(SMTPW_EVENT_MIN_SIZE, offsetof(smtpw_event, arg));
    c = client(0);
    for (k = 0; k < SMTPW_EVENT_MIN_SIZE; k++) {
        memset(buf, 0xA5, sizeof buf);
        assert_int_equal(smtpw_client_recv(c, (const uint8_t *)g, sizeof g - 1, &used,
                                           (smtpw_event *)(void *)buf, k),
                         SMTPW_E_INVALID_ARG);
        assert_int_equal(used, 0);
        for (j = 0; j < sizeof buf; j++)
            assert_int_equal(buf[j], 0xA5);
    }
    assert_int_equal(smtpw_client_pending(c), 1); /* the greeting is still awaited */
    assert_int_equal(smtpw_client_recv(c, (const uint8_t *)g, sizeof g - 1, &used,
                                       (smtpw_event *)(void *)buf, SMTPW_EVENT_MIN_SIZE),
                     SMTPW_EV_REPLY);
    assert_int_equal(used, sizeof g - 1);
    assert_int_equal(((smtpw_event *)(void *)buf)->code, 220);
    assert_int_equal(buf[SMTPW_EVENT_MIN_SIZE], 0xA5);
}

/* common.h SMTPW_STATE_ALIGN: init() takes memory aligned to it and
 * refuses any other, whatever the platform's own alignment of the state
 * (4 for a uint64_t on i386). */
static void api_state_align_client(void **state)
{
    static uint64_t m[SMTPW_CLIENT_SIZE_HINT / 8 + 2];
    unsigned char *b = (unsigned char *)m;
    smtpw_client *c = (smtpw_client *)(void *)b;
    size_t k;
    (void)state;
    assert_int_equal(SMTPW_STATE_ALIGN, 8);
    for (k = 1; k < SMTPW_STATE_ALIGN; k++)
        assert_int_equal(smtpw_client_init(b + k, sizeof m - k, NULL, &c), SMTPW_E_INVALID_ARG);
    assert_int_equal(smtpw_client_init(b + SMTPW_STATE_ALIGN, sizeof m - SMTPW_STATE_ALIGN, NULL,
                                       &c),
                     0);
    assert_ptr_equal(c, b + SMTPW_STATE_ALIGN);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(api_init_checks),
        cmocka_unit_test(client_event_size_never_written_past),
        cmocka_unit_test(client_config_older_version_gets_defaults),
        cmocka_unit_test(client_config_init_writes_only_its_version),
        cmocka_unit_test(contract_a_want_read_only_when_input_used_up),
        cmocka_unit_test(api_output_null_rules),
        cmocka_unit_test(client_state_table_consistent),
        cmocka_unit_test(rfc5321_4_3_1_wait_for_greeting),
        cmocka_unit_test(rfc5321_3_1_refusing_greeting_only_quit),
        cmocka_unit_test(rfc5321_4_1_1_command_bytes),
        cmocka_unit_test(rfc5321_injection_refused),
        cmocka_unit_test(rfc5321_4_1_2_grammar),
        cmocka_unit_test(rfc1870_size_and_rfc6152_8bitmime),
        cmocka_unit_test(rfc2920_3_1_pipelined_group),
        cmocka_unit_test(rfc2920_3_1_group_enders),
        cmocka_unit_test(rfc2920_no_pipelining_one_at_a_time),
        cmocka_unit_test(rfc2920_ring_full_is_again),
        cmocka_unit_test(api_output_queue_full_is_again),
        cmocka_unit_test(rfc2920_3_1_data_354_without_recipients),
        cmocka_unit_test(rfc2920_3_1_refused_mail_and_data),
        cmocka_unit_test(rfc5321_4_2_unsolicited_reply_fatal),
        cmocka_unit_test(rfc5321_3_8_421_anywhere),
        cmocka_unit_test(rfc5321_3_2_helo_fallback),
        cmocka_unit_test(rfc3207_4_2_starttls),
        cmocka_unit_test(rfc6152_encoder_8bit_safety_net),
        cmocka_unit_test(rfc5321_4_1_1_1_ehlo_keyword_events),
        cmocka_unit_test(rfc5321_4_3_2_reply_codes_that_do_not_fit),
        cmocka_unit_test(rfc5321_4_1_1_4_reply_before_the_dot),
        cmocka_unit_test(rfc5321_4_5_3_1_5_reply_line_limit_exact),
        cmocka_unit_test(rfc5321_4_2_greeting_line_count_exact),
        cmocka_unit_test(rfc5321_4_2_one_octet_segments),
        cmocka_unit_test(rfc1870_4_hostile_size_values),
        cmocka_unit_test(rfc5321_4_1_1_1_hostile_ehlo_lists),
        cmocka_unit_test(api_event_min_size_client),
        cmocka_unit_test(api_state_align_client),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
