/* Server core (lib/server.c): every state transition and reply code, named
 * after the RFC section or rule it checks.  SPDX-License-Identifier: MIT */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "smtpwire/smtpwire.h"

/* ---- a small scripted driver ------------------------------------------ */

struct answer {
    unsigned code;
    const char *enh;
    const char *text;
};

typedef struct T {
    uint64_t mem[SMTPW_SERVER_SIZE_HINT / 8 + 1];
    smtpw_server *s;
    smtpw_server_config cfg;
    char in[8192]; /* unconsumed input, kept as the API asks */
    size_t inlen;
    char out[65536];
    size_t outlen;
    char log[65536]; /* one line per event */
    size_t loglen;
    const struct answer *script; /* answers to REPLY events, in order; then code 0 */
    size_t nscript, iscript;
    int drain;  /* drain output whenever the core is stuck (default on) */
    int closed; /* recv returned SMTPW_E_CLOSED */
} T;

static T t_;

static void logf_(T *t, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    t->loglen += (size_t)vsnprintf(t->log + t->loglen, sizeof t->log - t->loglen, fmt, ap);
    va_end(ap);
}

static void log_span(T *t, smtpw_span sp)
{
    size_t i;
    for (i = 0; i < sp.len; i++) {
        unsigned char c = (unsigned char)sp.ptr[i];
        if (c == '\r')
            logf_(t, "\\r");
        else if (c == '\n')
            logf_(t, "\\n");
        else if (c < 0x20 || c >= 0x7f || c == '\\')
            logf_(t, "\\x%02x", c);
        else
            logf_(t, "%c", c);
    }
}

/* Consecutive BODY events are joined: how the body is cut depends on the
 * chunking, its bytes do not. */
static int in_body;

static void log_event(T *t, const smtpw_event *ev)
{
    if (ev->type == SMTPW_EV_BODY) {
        if (!in_body)
            logf_(t, "BODY ");
        in_body = 1;
        log_span(t, ev->arg);
        return;
    }
    if (in_body)
        logf_(t, "\n");
    in_body = 0;
    switch (ev->type) {
    case SMTPW_EV_HELO:
        logf_(t, "HELO %s ", smtpw_cmd_name(ev->cmd));
        log_span(t, ev->arg);
        break;
    case SMTPW_EV_MAIL:
    case SMTPW_EV_RCPT:
        logf_(t, "%s ", smtpw_event_name(ev->type));
        log_span(t, ev->arg);
        if (ev->params.len) {
            logf_(t, " [");
            log_span(t, ev->params);
            logf_(t, "]");
        }
        if (ev->flags)
            logf_(t, " flags=%u", (unsigned)ev->flags);
        if (ev->flags & SMTPW_EVF_SIZE)
            logf_(t, " size=%llu", (unsigned long long)ev->size);
        break;
    case SMTPW_EV_DATA_END:
        logf_(t, "DATA_END %llu", (unsigned long long)ev->size);
        break;
    case SMTPW_EV_DATA_ABORT:
    case SMTPW_EV_CLOSE:
        logf_(t, "%s %u", smtpw_event_name(ev->type), (unsigned)ev->code);
        break;
    case SMTPW_EV_REJECTED:
        logf_(t, "REJECTED %s %u", ev->cmd == SMTPW_CMD_UNKNOWN ? "?"
                                          : ev->cmd == SMTPW_CMD_NONE ? ""
                                                                      : smtpw_cmd_name(ev->cmd),
              (unsigned)ev->code);
        break;
    case SMTPW_EV_VRFY:
    case SMTPW_EV_EXPN:
    case SMTPW_EV_HELP:
        logf_(t, "%s ", smtpw_event_name(ev->type));
        log_span(t, ev->arg);
        break;
    default:
        logf_(t, "%s", smtpw_event_name(ev->type));
        break;
    }
    logf_(t, "\n");
}

static void drain(T *t)
{
    size_t n;
    const uint8_t *p = smtpw_server_output(t->s, &n);
    assert_true(t->outlen + n < sizeof t->out);
    memcpy(t->out + t->outlen, p, n);
    t->outlen += n;
    t->out[t->outlen] = 0;
    smtpw_server_output_ack(t->s, n);
}

static void answer(T *t)
{
    struct answer a = {0, NULL, NULL};
    if (t->iscript < t->nscript)
        a = t->script[t->iscript++];
    assert_int_equal(smtpw_server_reply(t->s, a.code, a.enh, a.enh ? strlen(a.enh) : 0, a.text, a.text ? strlen(a.text) : 0),
                     0);
}

/* Feed bytes, handle every event, answer, drain when stuck. */
static void feedn(T *t, const char *in, size_t len)
{
    assert_true(t->inlen + len <= sizeof t->in);
    memcpy(t->in + t->inlen, in, len);
    t->inlen += len;
    for (;;) {
        smtpw_event ev;
        size_t used = 99999;
        int r = smtpw_server_recv(t->s, (const uint8_t *)t->in, t->inlen, &used, &ev, sizeof ev);
        if (r == SMTPW_E_CLOSED) {
            assert_int_equal(used, 0);
            t->closed = 1;
            break;
        }
        assert_true(r >= 0);
        assert_true(used <= t->inlen);
        assert_int_equal(r, ev.type);
        if (r != SMTPW_EV_NONE)
            log_event(t, &ev);
        memmove(t->in, t->in + used, t->inlen - used);
        t->inlen -= used;
        if (smtpw_server_want(t->s) & SMTPW_WANT_REPLY)
            answer(t);
        if (r == SMTPW_EV_NONE && used == 0) {
            size_t n;
            smtpw_server_output(t->s, &n);
            if (t->drain && n) {
                drain(t);
                continue;
            }
            break;
        }
    }
    if (t->drain)
        drain(t);
}

#define feed(t, lit) feedn(t, lit, sizeof(lit) - 1)

static void cfg_default(smtpw_server_config *c)
{
    smtpw_server_config_init(c, SMTPW_SERVER_CONFIG_VERSION);
    c->hostname = "mx.example";
    c->hostname_len = 10;
}

static T *start_cfg(const smtpw_server_config *cfg)
{
    T *t = &t_;
    memset(t, 0, sizeof *t);
    in_body = 0;
    t->cfg = *cfg;
    t->drain = 1;
    assert_int_equal(smtpw_server_init(t->mem, sizeof t->mem, &t->cfg, &t->s), 0);
    drain(t);
    return t;
}

static T *start(unsigned flags)
{
    smtpw_server_config c;
    cfg_default(&c);
    c.flags = flags;
    return start_cfg(&c);
}

static void script(T *t, const struct answer *a, size_t n)
{
    t->script = a;
    t->nscript = n;
    t->iscript = 0;
}

/* Forget output and log so far. */
static void clear(T *t)
{
    t->outlen = 0;
    t->out[0] = 0;
    t->loglen = 0;
    t->log[0] = 0;
}

#define GREET "220 mx.example ESMTP smtpwire\r\n"
#define EHLO_REPLY                                                                            \
    "250-mx.example\r\n250-PIPELINING\r\n250-8BITMIME\r\n250-SIZE 10485760\r\n"              \
    "250 ENHANCEDSTATUSCODES\r\n"

static T *ehlo(unsigned flags)
{
    T *t = start(flags);
    feed(t, "EHLO client.example\r\n");
    clear(t);
    return t;
}

static T *in_rcpt(unsigned flags)
{
    T *t = ehlo(flags);
    feed(t, "MAIL FROM:<a@example.org>\r\nRCPT TO:<b@example.net>\r\n");
    clear(t);
    return t;
}

static T *in_data(unsigned flags)
{
    T *t = in_rcpt(flags);
    feed(t, "DATA\r\n");
    assert_string_equal(t->out, "354 Start mail input; end with <CRLF>.<CRLF>\r\n");
    clear(t);
    return t;
}

/* ---- greeting, EHLO, HELO ---------------------------------------------- */

static void rfc5321_4_2_greeting_220(void **state)
{
    T *t = start(0);
    (void)state;
    assert_string_equal(t->out, GREET);
    assert_int_equal(smtpw_server_want(t->s), SMTPW_WANT_READ);
    assert_int_equal(smtpw_server_timeout(t->s), SMTPW_TIMEOUT_SERVER);
}

static void rfc5321_3_1_refuse_554_then_503_until_quit(void **state)
{
    T *t = start(SMTPW_SERVER_REFUSE);
    (void)state;
    assert_string_equal(t->out, "554 mx.example No SMTP service here\r\n");
    clear(t);
    feed(t, "EHLO a.example\r\nMAIL FROM:<a@b.c>\r\nXYZZ\r\nQUIT\r\n");
    assert_string_equal(t->out, "503 Bad sequence of commands\r\n503 Bad sequence of commands\r\n"
                                "503 Bad sequence of commands\r\n"
                                "221 mx.example Service closing transmission channel\r\n");
    assert_string_equal(t->log, "REJECTED EHLO 503\nREJECTED MAIL 503\nREJECTED ? 503\nQUIT\n");
}

static void rfc5321_4_1_1_1_ehlo_capabilities(void **state)
{
    T *t = start(0);
    (void)state;
    clear(t);
    feed(t, "EHLO client.example\r\n");
    assert_string_equal(t->out, EHLO_REPLY);
    assert_string_equal(t->log, "HELO EHLO client.example\n");
}

static void rfc5321_4_1_1_1_ehlo_text_after_hostname(void **state)
{
    static const struct answer a[] = {{250, NULL, "greets client.example"}};
    T *t = start(SMTPW_SERVER_NO_PIPELINING | SMTPW_SERVER_NO_8BITMIME | SMTPW_SERVER_NO_ENHANCED);
    (void)state;
    clear(t);
    script(t, a, 1);
    feed(t, "EHLO client.example\r\n");
    assert_string_equal(t->out, "250-mx.example greets client.example\r\n250 SIZE 10485760\r\n");
}

static void rfc1870_4_size_without_number_when_unlimited(void **state)
{
    smtpw_server_config c;
    T *t;
    (void)state;
    cfg_default(&c);
    c.max_message_size = 0;
    c.flags = SMTPW_SERVER_STARTTLS | SMTPW_SERVER_SMTPUTF8;
    t = start_cfg(&c);
    clear(t);
    feed(t, "EHLO client.example\r\n");
    assert_string_equal(t->out, "250-mx.example\r\n250-PIPELINING\r\n250-8BITMIME\r\n250-SIZE\r\n"
                                "250-ENHANCEDSTATUSCODES\r\n250-STARTTLS\r\n250 SMTPUTF8\r\n");
}

static void rfc5321_4_1_1_1_helo_single_line(void **state)
{
    T *t = start(0);
    (void)state;
    clear(t);
    feed(t, "HELO client.example\r\nMAIL FROM:<a@b.example>\r\n");
    /* RFC 2034: no enhanced codes in a HELO session */
    assert_string_equal(t->out, "250 mx.example\r\n250 Sender ok\r\n");
}

static void rfc2034_3_enhanced_codes_after_ehlo_only(void **state)
{
    T *t = ehlo(0);
    (void)state;
    feed(t, "MAIL FROM:<a@b.example>\r\nRCPT TO:<c@d.example>\r\nNOOP\r\nRSET\r\n");
    assert_string_equal(t->out, "250 2.1.0 Sender ok\r\n250 2.1.5 Recipient ok\r\n"
                                "250 2.0.0 Ok\r\n250 2.0.0 Ok\r\n");
    clear(t);
    /* a later HELO turns them off again; replies to HELO/EHLO never carry one */
    feed(t, "HELO c.example\r\nNOOP\r\nEHLO\r\n");
    assert_string_equal(t->out, "250 mx.example\r\n250 Ok\r\n501 Syntax: EHLO hostname\r\n");
}

static void rfc2034_no_enhanced_flag(void **state)
{
    T *t = ehlo(SMTPW_SERVER_NO_ENHANCED);
    (void)state;
    feed(t, "MAIL FROM:<a@b.example>\r\n");
    assert_string_equal(t->out, "250 Sender ok\r\n");
}

static void rfc5321_4_1_1_1_helo_argument_checked(void **state)
{
    T *t = start(0);
    (void)state;
    clear(t);
    feed(t, "HELO\r\nEHLO bad_domain\r\nEHLO a..b\r\nEHLO [192.0.2.1]\r\nHELO [IPv6:2001:db8::1]\r\n"
            "EHLO two words\r\n");
    assert_string_equal(t->log, "REJECTED HELO 501\nREJECTED EHLO 501\nREJECTED EHLO 501\n"
                                "HELO EHLO [192.0.2.1]\nHELO HELO [IPv6:2001:db8::1]\n"
                                "REJECTED EHLO 501\n");
}

/* ---- sequence (RFC 5321 4.1.4, 4.3.2) ----------------------------------- */

static void rfc5321_4_1_4_mail_before_helo_503(void **state)
{
    T *t = start(0);
    (void)state;
    clear(t);
    feed(t, "MAIL FROM:<a@b.example>\r\n");
    assert_string_equal(t->out, "503 Send HELO/EHLO first\r\n");
    assert_string_equal(t->log, "REJECTED MAIL 503\n");
}

static void rfc5321_4_1_4_nested_mail_503(void **state)
{
    T *t = ehlo(0);
    (void)state;
    feed(t, "MAIL FROM:<a@b.example>\r\nMAIL FROM:<c@b.example>\r\n");
    assert_string_equal(t->out, "250 2.1.0 Sender ok\r\n503 5.5.1 Nested MAIL command\r\n");
}

static void rfc5321_4_1_4_rcpt_before_mail_503(void **state)
{
    T *t = ehlo(0);
    (void)state;
    feed(t, "RCPT TO:<c@d.example>\r\n");
    assert_string_equal(t->out, "503 5.5.1 Need MAIL before RCPT\r\n");
}

static void rfc5321_3_3_data_without_rcpt_554(void **state)
{
    static const struct answer a[] = {{0, NULL, NULL}, {550, NULL, NULL}};
    T *t = ehlo(0);
    (void)state;
    script(t, a, 2);
    feed(t, "MAIL FROM:<a@b.example>\r\nRCPT TO:<nobody@d.example>\r\nDATA\r\n");
    assert_string_equal(t->out, "250 2.1.0 Sender ok\r\n550 5.1.1 Mailbox unavailable\r\n"
                                "554 5.5.1 No valid recipients\r\n");
    assert_string_equal(t->log, "MAIL <a@b.example>\nRCPT <nobody@d.example>\nREJECTED DATA 554\n");
}

static void rfc5321_4_1_4_data_before_mail_503(void **state)
{
    T *t = ehlo(0);
    (void)state;
    feed(t, "DATA\r\n");
    assert_string_equal(t->out, "503 5.5.1 Need MAIL command\r\n");
}

static void rfc5321_4_1_4_ehlo_resets_transaction(void **state)
{
    T *t = in_rcpt(0);
    (void)state;
    feed(t, "EHLO again.example\r\nDATA\r\nRCPT TO:<x@y.example>\r\n");
    assert_string_equal(t->log, "HELO EHLO again.example\nREJECTED DATA 503\nREJECTED RCPT 503\n");
}

static void rfc5321_4_1_1_5_rset(void **state)
{
    T *t = in_rcpt(0);
    (void)state;
    feed(t, "RSET\r\nDATA\r\nRSET x\r\nMAIL FROM:<a@b.example>\r\n");
    assert_string_equal(t->out, "250 2.0.0 Ok\r\n503 5.5.1 Need MAIL command\r\n"
                                "501 5.5.4 Syntax: RSET\r\n250 2.1.0 Sender ok\r\n");
    assert_string_equal(t->log, "RSET\nREJECTED DATA 503\nREJECTED RSET 501\nMAIL <a@b.example>\n");
}

static void rfc5321_4_1_4_rset_before_helo_allowed(void **state)
{
    T *t = start(0);
    (void)state;
    clear(t);
    feed(t, "RSET\r\nNOOP\r\nMAIL FROM:<a@b.example>\r\n");
    assert_string_equal(t->out, "250 Ok\r\n250 Ok\r\n503 Send HELO/EHLO first\r\n");
}

static void rfc5321_4_1_1_data_quit_with_argument_501(void **state)
{
    T *t = in_rcpt(0);
    (void)state;
    feed(t, "DATA now\r\nQUIT now\r\nDATA \r\n");
    assert_string_equal(t->out, "501 5.5.4 Syntax: DATA\r\n501 5.5.4 Syntax: QUIT\r\n"
                                "501 5.5.4 Syntax: DATA\r\n");
}

static void rfc5321_4_1_1_9_noop_takes_a_string(void **state)
{
    T *t = ehlo(0);
    (void)state;
    feed(t, "NOOP\r\nNOOP hello there\r\nnoop x\r\n");
    assert_string_equal(t->out, "250 2.0.0 Ok\r\n250 2.0.0 Ok\r\n250 2.0.0 Ok\r\n");
    assert_string_equal(t->log, "");
}

static void rfc5321_4_2_4_unknown_500_unimplemented_502(void **state)
{
    T *t = ehlo(0);
    (void)state;
    feed(t, "XYZZY\r\nSEND FROM:<a@b.c>\r\nSOML x\r\nSAML x\r\nTURN\r\nSTARTTLS\r\nBDAT 10\r\n"
            "AUTH PLAIN\r\n\r\n");
    assert_string_equal(t->out, "500 5.5.1 Command unrecognized\r\n"
                                "502 5.5.1 Command not implemented\r\n"
                                "502 5.5.1 Command not implemented\r\n"
                                "502 5.5.1 Command not implemented\r\n"
                                "502 5.5.1 Command not implemented\r\n"
                                "502 5.5.1 Command not implemented\r\n"
                                "502 5.5.1 Command not implemented\r\n"
                                "502 5.5.1 Command not implemented\r\n"
                                "500 5.5.1 Command unrecognized\r\n");
    assert_string_equal(t->log, "REJECTED ? 500\nREJECTED SEND 502\nREJECTED SOML 502\n"
                                "REJECTED SAML 502\nREJECTED TURN 502\nREJECTED STARTTLS 502\n"
                                "REJECTED BDAT 502\nREJECTED AUTH 502\nREJECTED ? 500\n");
}

static void rfc5321_2_4_verbs_case_insensitive(void **state)
{
    T *t = start(0);
    (void)state;
    clear(t);
    feed(t, "eHlO client.example\r\nmAiL fRoM:<a@b.example>\r\nrcpt to:<c@d.example>\r\n"
            "Data\r\n.\r\nqUiT\r\n");
    assert_string_equal(t->log, "HELO EHLO client.example\nMAIL <a@b.example>\nRCPT <c@d.example>\n"
                                "DATA\nDATA_END 0\nQUIT\n");
}

static void verb_must_be_followed_by_space_or_end(void **state)
{
    T *t = ehlo(0);
    (void)state;
    feed(t, "HELOX a.example\r\nMAILFROM:<a@b.c>\r\nNOOPS\r\nQUIT\tx\r\nSTARTTLSX\r\nSTART\r\n");
    assert_string_equal(t->log, "REJECTED ? 500\nREJECTED ? 500\nREJECTED ? 500\n"
                                "REJECTED ? 500\nREJECTED ? 500\nREJECTED ? 500\n");
}

static void rfc5321_3_5_vrfy_expn_help_defaults(void **state)
{
    T *t = ehlo(0);
    (void)state;
    feed(t, "VRFY postmaster\r\nEXPN staff\r\nHELP\r\nHELP MAIL\r\nVRFY\r\n");
    assert_string_equal(t->out,
                        "252 2.5.2 Cannot VRFY user, but will accept message and attempt delivery\r\n"
                        "502 5.5.1 Command not implemented\r\n"
                        "214 2.0.0 Commands: HELO EHLO MAIL RCPT DATA RSET NOOP QUIT VRFY HELP\r\n"
                        "214 2.0.0 Commands: HELO EHLO MAIL RCPT DATA RSET NOOP QUIT VRFY HELP\r\n"
                        "501 5.5.4 Syntax: VRFY <string>\r\n");
    assert_string_equal(t->log, "VRFY postmaster\nEXPN staff\nHELP \nHELP MAIL\nREJECTED VRFY 501\n");
}

/* ---- MAIL, RCPT, parameters --------------------------------------------- */

static void rfc5321_4_1_2_strict_no_space_after_colon(void **state)
{
    T *t = ehlo(0);
    (void)state;
    feed(t, "MAIL FROM: <a@b.example>\r\nMAIL FROM:a@b.example\r\nMAIL  FROM:<a@b.example>\r\n"
            "MAIL FROM:<a@b.example> \r\nMAIL FROM:<a@b.example>  SIZE=1\r\nMAIL FROM\r\n"
            "MAIL TO:<a@b.example>\r\n");
    assert_string_equal(t->out, "501 5.1.7 Bad sender address syntax\r\n"
                                "501 5.1.7 Bad sender address syntax\r\n"
                                "501 5.5.4 Syntax: MAIL FROM:<address>\r\n"
                                "501 5.5.4 Syntax error in parameters\r\n"
                                "501 5.5.4 Syntax error in parameters\r\n"
                                "501 5.5.4 Syntax: MAIL FROM:<address>\r\n"
                                "501 5.5.4 Syntax: MAIL FROM:<address>\r\n");
}

static void lenient_profile_deviations(void **state)
{
    T *t = start(SMTPW_SERVER_LENIENT);
    (void)state;
    clear(t);
    feed(t, "EHLO client_host  \r\nMAIL  FROM: a@b.example   SIZE=10  BODY=8BITMIME \r\n"
            "RCPT TO:   <c@d.example>  \r\nDATA  \r\n.\r\nHELO x y\r\n");
    assert_string_equal(t->log, "HELO EHLO client_host\n"
                                "MAIL a@b.example [SIZE=10  BODY=8BITMIME] flags=3 size=10\n"
                                "RCPT <c@d.example>\nDATA\nDATA_END 0\nREJECTED HELO 501\n");
}

static void lenient_params_after_helo(void **state)
{
    T *t = start(0);
    (void)state;
    feed(t, "HELO c.example\r\nMAIL FROM:<a@b.example> SIZE=10\r\n");
    assert_string_equal(t->log, "HELO HELO c.example\nREJECTED MAIL 555\n");
    t = start(SMTPW_SERVER_LENIENT);
    feed(t, "HELO c.example\r\nMAIL FROM:<a@b.example> SIZE=10\r\n");
    assert_string_equal(t->log, "HELO HELO c.example\nMAIL <a@b.example> [SIZE=10] flags=1 size=10\n");
}

static void rfc5321_4_1_2_path_errors(void **state)
{
    char line[400];
    T *t = ehlo(0);
    (void)state;
    feed(t, "MAIL FROM:<a@@b>\r\nMAIL FROM:<>\r\nRCPT TO:<>\r\nRCPT TO:<a b@c.example>\r\n"
            "RCPT TO:<Postmaster>\r\nRCPT TO:<c@d.example>x\r\n");
    assert_string_equal(t->out, "501 5.1.7 Bad sender address syntax\r\n250 2.1.0 Sender ok\r\n"
                                "501 5.1.3 Bad recipient address syntax\r\n"
                                "501 5.1.3 Bad recipient address syntax\r\n"
                                "250 2.1.5 Recipient ok\r\n"
                                "501 5.1.3 Bad recipient address syntax\r\n");
    clear(t);
    /* 4.5.3.1.3: a path over 256 octets (local part 64, domain 251) */
    memcpy(line, "RCPT TO:<", 9);
    memset(line + 9, 'a', 64);
    line[73] = '@';
    memset(line + 74, 'b', 251);
    line[74 + 62] = line[74 + 125] = line[74 + 188] = '.';
    memcpy(line + 325, ">\r\n", 3);
    feedn(t, line, 328);
    assert_string_equal(t->out, "501 5.1.3 Path too long\r\n");
}

static void event_carries_path_and_params(void **state)
{
    smtpw_event ev;
    size_t used;
    static const char mail[] = "MAIL FROM:<\"x y\"@[192.0.2.1]> SIZE=42 BODY=7BIT\r\n";
    T *t = ehlo(0);
    (void)state;
    assert_int_equal(smtpw_server_recv(t->s, (const uint8_t *)mail, sizeof mail - 1, &used, &ev, sizeof ev),
                     SMTPW_EV_MAIL);
    assert_int_equal(used, sizeof mail - 1);
    assert_int_equal(ev.cmd, SMTPW_CMD_MAIL);
    assert_ptr_equal(ev.arg.ptr, mail + 10);
    assert_int_equal(ev.arg.len, 19);
    assert_ptr_equal(ev.params.ptr, mail + 30);
    assert_int_equal(ev.params.len, 17);
    assert_int_equal(ev.size, 42);
    assert_int_equal(ev.flags, SMTPW_EVF_SIZE | SMTPW_EVF_7BIT);
    assert_int_equal(ev.path.literal_kind, SMTPW_LITERAL_IPV4);
    assert_true(ev.path.flags & SMTPW_PATH_QUOTED);
    assert_int_equal(smtpw_server_want(t->s), SMTPW_WANT_REPLY);
    assert_int_equal(smtpw_server_timeout(t->s), SMTPW_TIMEOUT_NONE);
    /* pull model: nothing is read while the reply is owed */
    assert_int_equal(smtpw_server_recv(t->s, (const uint8_t *)"NOOP\r\n", 6, &used, &ev, sizeof ev),
                     SMTPW_EV_NONE);
    assert_int_equal(used, 0);
}

static void rfc1870_size_parameter(void **state)
{
    smtpw_server_config c;
    T *t;
    (void)state;
    cfg_default(&c);
    c.max_message_size = 1000;
    t = start_cfg(&c);
    feed(t, "EHLO c.example\r\n");
    clear(t);
    feed(t, "MAIL FROM:<a@b.example> SIZE=1001\r\nMAIL FROM:<a@b.example> SIZE=x\r\n"
            "MAIL FROM:<a@b.example> SIZE\r\nMAIL FROM:<a@b.example> SIZE=99999999999999999999\r\n"
            "MAIL FROM:<a@b.example> SIZE=1 SIZE=1\r\nMAIL FROM:<a@b.example> size=1000\r\n");
    assert_string_equal(t->out, "552 5.3.4 Message size exceeds fixed maximum message size\r\n"
                                "501 5.5.4 Invalid SIZE value\r\n501 5.5.4 Invalid SIZE value\r\n"
                                "552 5.3.4 Message size exceeds fixed maximum message size\r\n"
                                "501 5.5.4 Duplicate SIZE parameter\r\n250 2.1.0 Sender ok\r\n");
    assert_non_null(strstr(t->log, "\nMAIL <a@b.example> [size=1000] flags=1 size=1000\n"));
}

/* RFC 1870 5: size-value = 1*20DIGIT.  Twenty digits past 2^64-1 are well
 * formed, a size over any limit: 552 5.3.4 (6.1), with a limit and without
 * one (no message that large can be counted or stored).  Twenty-one digits
 * are outside the grammar: 501. */
static void rfc1870_5_size_value_past_2_64_is_552(void **state)
{
#define REST "REJECTED MAIL 552\nREJECTED MAIL 552\nREJECTED MAIL 501\nREJECTED MAIL 501\n"
    static const uint64_t limits[] = {1000, 0, UINT64_MAX};
    size_t i;
    (void)state;
    for (i = 0; i < sizeof limits / sizeof limits[0]; i++) {
        smtpw_server_config c;
        T *t;
        cfg_default(&c);
        c.max_message_size = limits[i];
        t = start_cfg(&c);
        feed(t, "EHLO c.example\r\n");
        clear(t);
        feed(t, "MAIL FROM:<a@b.example> SIZE=18446744073709551615\r\nRSET\r\n"
                "MAIL FROM:<a@b.example> SIZE=18446744073709551616\r\n"
                "MAIL FROM:<a@b.example> SIZE=99999999999999999999\r\n"
                "MAIL FROM:<a@b.example> SIZE=100000000000000000000\r\n"
                "MAIL FROM:<a@b.example> SIZE=000000000000000000009\r\n");
        if (limits[i] == 1000) /* 2^64-1 is over the limit like any size */
            assert_string_equal(t->log, "REJECTED MAIL 552\nRSET\n" REST);
        else
            assert_string_equal(t->log, "MAIL <a@b.example> [SIZE=18446744073709551615] flags=1 "
                                        "size=18446744073709551615\nRSET\n" REST);
        assert_non_null(strstr(t->out, "250 2.0.0 Ok\r\n"
                                       "552 5.3.4 Message size exceeds fixed maximum message size\r\n"
                                       "552 5.3.4 Message size exceeds fixed maximum message size\r\n"
                                       "501 5.5.4 Invalid SIZE value\r\n"
                                       "501 5.5.4 Invalid SIZE value\r\n"));
    }
#undef REST
}

static void rfc6152_body_parameter(void **state)
{
    T *t = ehlo(0);
    (void)state;
    feed(t, "MAIL FROM:<a@b.example> BODY=BINARYMIME\r\nMAIL FROM:<a@b.example> BODY=7bit BODY=7BIT\r\n"
            "MAIL FROM:<a@b.example> BODY=8BITMIME\r\n");
    assert_string_equal(t->log, "REJECTED MAIL 501\nREJECTED MAIL 501\n"
                                "MAIL <a@b.example> [BODY=8BITMIME] flags=2\n");
    t = ehlo(SMTPW_SERVER_NO_8BITMIME);
    feed(t, "MAIL FROM:<a@b.example> BODY=8BITMIME\r\n");
    assert_string_equal(t->out, "555 5.5.4 Unsupported parameter\r\n");
}

static void rfc6531_smtputf8_parameter(void **state)
{
    T *t = ehlo(0);
    (void)state;
    feed(t, "MAIL FROM:<a@b.example> SMTPUTF8\r\n");
    assert_string_equal(t->out, "555 5.5.4 Unsupported parameter\r\n");
    t = ehlo(SMTPW_SERVER_SMTPUTF8);
    feed(t, "MAIL FROM:<\xc3\xa9@b.example>\r\nMAIL FROM:<a@b.example> SMTPUTF8=yes\r\n"
            "MAIL FROM:<\xc3\xa9@b.example> SMTPUTF8\r\nRCPT TO:<\xc3\xa9@d.example>\r\n");
    assert_string_equal(t->out, "553 5.6.7 Non-ASCII address needs SMTPUTF8\r\n"
                                "501 5.5.4 SMTPUTF8 takes no value\r\n250 2.1.0 Sender ok\r\n"
                                "250 2.1.5 Recipient ok\r\n");
    clear(t);
    feed(t, "RSET\r\nMAIL FROM:<a@b.example>\r\nRCPT TO:<\xc3\xa9@d.example>\r\n");
    assert_string_equal(t->out, "250 2.0.0 Ok\r\n250 2.1.0 Sender ok\r\n"
                                "553 5.6.7 Non-ASCII address needs SMTPUTF8\r\n");
}

static void rfc5321_4_1_1_11_unknown_parameter_555(void **state)
{
    T *t = ehlo(0);
    (void)state;
    feed(t, "MAIL FROM:<a@b.example> RET=HDRS\r\nMAIL FROM:<a@b.example> =x\r\n"
            "MAIL FROM:<a@b.example>\r\nRCPT TO:<c@d.example> NOTIFY=NEVER\r\n"
            "RCPT TO:<c@d.example> =\r\n");
    assert_string_equal(t->out, "555 5.5.4 Unsupported parameter\r\n"
                                "501 5.5.4 Syntax error in parameters\r\n250 2.1.0 Sender ok\r\n"
                                "555 5.5.4 Unsupported parameter\r\n"
                                "501 5.5.4 Syntax error in parameters\r\n");
}

static void rfc5321_4_5_3_1_8_max_recipients_452(void **state)
{
    smtpw_server_config c;
    T *t;
    (void)state;
    cfg_default(&c);
    c.max_recipients = 2;
    t = start_cfg(&c);
    feed(t, "EHLO c.example\r\nMAIL FROM:<a@b.example>\r\n");
    clear(t);
    feed(t, "RCPT TO:<1@d.example>\r\nRCPT TO:<2@d.example>\r\nRCPT TO:<3@d.example>\r\n");
    assert_string_equal(t->out, "250 2.1.5 Recipient ok\r\n250 2.1.5 Recipient ok\r\n"
                                "452 4.5.3 Too many recipients\r\n");
    clear(t);
    /* the count is per message */
    feed(t, "DATA\r\n.\r\nMAIL FROM:<a@b.example>\r\nRCPT TO:<1@d.example>\r\n"
            "RCPT TO:<2@d.example>\r\nRCPT TO:<3@d.example>\r\n");
    assert_string_equal(t->log, "DATA\nDATA_END 0\nMAIL <a@b.example>\nRCPT <1@d.example>\n"
                                "RCPT <2@d.example>\nREJECTED RCPT 452\n");
}

static void refused_rcpt_does_not_count(void **state)
{
    static const struct answer a[] = {{550, NULL, "no such user"}, {0, NULL, NULL}};
    smtpw_server_config c;
    T *t;
    (void)state;
    cfg_default(&c);
    c.max_recipients = 1;
    t = start_cfg(&c);
    feed(t, "EHLO c.example\r\nMAIL FROM:<a@b.example>\r\n");
    clear(t);
    script(t, a, 2);
    feed(t, "RCPT TO:<1@d.example>\r\nRCPT TO:<2@d.example>\r\nRCPT TO:<3@d.example>\r\n");
    assert_string_equal(t->out, "550 5.1.1 no such user\r\n250 2.1.5 Recipient ok\r\n"
                                "452 4.5.3 Too many recipients\r\n");
}

static void max_errors_421_and_close(void **state)
{
    smtpw_server_config c;
    T *t;
    (void)state;
    cfg_default(&c);
    c.max_errors = 3;
    t = start_cfg(&c);
    clear(t);
    feed(t, "X\r\nNOOP\r\nY\r\nZ\r\nNOOP\r\n");
    assert_string_equal(t->out, "500 Command unrecognized\r\n250 Ok\r\n500 Command unrecognized\r\n"
                                "500 Command unrecognized\r\n"
                                "421 mx.example Too many errors, closing connection\r\n");
    assert_string_equal(t->log, "REJECTED ? 500\nREJECTED ? 500\nCLOSE 421\n");
    assert_true(t->closed);
    assert_int_equal(smtpw_server_want(t->s), SMTPW_WANT_CLOSE);
    assert_int_equal(t->inlen, 6); /* the last NOOP was never read */
}

static void max_errors_after_ehlo_uses_4_7_0(void **state)
{
    smtpw_server_config c;
    T *t;
    (void)state;
    cfg_default(&c);
    c.max_errors = 1;
    t = start_cfg(&c);
    feed(t, "EHLO c.example\r\n");
    clear(t);
    feed(t, "DATA\r\n");
    assert_string_equal(t->out, "503 5.5.1 Need MAIL command\r\n"
                                "421 4.7.0 mx.example Too many errors, closing connection\r\n");
}

/* ---- framing (2.3.8, 4.5.3.1.4) ------------------------------------------ */

static void rfc5321_4_5_3_1_4_command_line_limit(void **state)
{
    char line[1200];
    T *t = ehlo(0);
    (void)state;
    /* exactly 512 octets with CRLF: accepted */
    memcpy(line, "NOOP ", 5);
    memset(line + 5, 'x', 505);
    memcpy(line + 510, "\r\n", 2);
    feedn(t, line, 512);
    assert_string_equal(t->out, "250 2.0.0 Ok\r\n");
    clear(t);
    /* 513: too long */
    memset(line + 5, 'x', 506);
    memcpy(line + 511, "\r\n", 2);
    feedn(t, line, 513);
    assert_string_equal(t->out, "500 5.5.2 Line too long\r\n");
    assert_string_equal(t->log, "REJECTED  500\n");
    clear(t);
    /* a much longer one, the rest of it never read as a command */
    memset(line, 'x', 1100);
    memcpy(line + 1100, "QUIT\r\n", 6);
    memcpy(line + 1000, "\r\n", 2);
    feedn(t, line, 1106);
    assert_string_equal(t->out, "500 5.5.2 Line too long\r\n500 5.5.1 Command unrecognized\r\n");
}

static void long_line_consumed_in_pieces(void **state)
{
    char buf[512];
    size_t used, total = 0;
    smtpw_event ev;
    int i;
    T *t = ehlo(0);
    (void)state;
    memset(buf, 'A', sizeof buf);
    /* a caller with a 512-byte buffer can always make progress */
    for (i = 0; i < 5; i++) {
        assert_int_equal(smtpw_server_recv(t->s, (const uint8_t *)buf, 512, &used, &ev, sizeof ev),
                         SMTPW_EV_NONE);
        assert_int_equal(used, 512);
        total += used;
    }
    assert_int_equal(total, 5 * 512);
    assert_int_equal(smtpw_server_recv(t->s, (const uint8_t *)"AA\r\nNOOP\r\n", 10, &used, &ev, sizeof ev),
                     SMTPW_EV_REJECTED);
    assert_int_equal(used, 4);
    assert_int_equal(ev.code, 500);
    assert_int_equal(smtpw_server_recv(t->s, (const uint8_t *)"NOOP\r\n", 6, &used, &ev, sizeof ev),
                     SMTPW_EV_NONE);
    assert_int_equal(used, 6);
    drain(t);
    assert_string_equal(t->out, "500 5.5.2 Line too long\r\n250 2.0.0 Ok\r\n");
}

static void configurable_command_line_limit(void **state)
{
    char line[1000];
    smtpw_server_config c;
    T *t;
    (void)state;
    cfg_default(&c);
    c.max_command_line = 1000;
    t = start_cfg(&c);
    clear(t);
    memcpy(line, "NOOP ", 5);
    memset(line + 5, 'y', 993);
    memcpy(line + 998, "\r\n", 2);
    feedn(t, line, 1000);
    assert_string_equal(t->out, "250 Ok\r\n");
}

static void slow_line_resumes_scan(void **state)
{
    static const char cmd[] = "MAIL FROM:<a@b.example>\r\n";
    size_t i;
    T *t = ehlo(0);
    (void)state;
    for (i = 0; i < sizeof cmd - 1; i++)
        feedn(t, cmd + i, 1);
    assert_string_equal(t->log, "MAIL <a@b.example>\n");
    assert_string_equal(t->out, "250 2.1.0 Sender ok\r\n");
}

static void rfc5321_2_3_8_bare_lf_command_reject(void **state)
{
    T *t = ehlo(0);
    (void)state;
    /* three CRLF lines, three refusals: the bare LF and CRs end nothing */
    feed(t, "NOOP\nNOOP\r\nNOOP a\rb\r\nNOOP\r\r\n");
    assert_string_equal(t->out, "500 5.5.2 Bare CR or LF in command line\r\n"
                                "500 5.5.2 Bare CR or LF in command line\r\n"
                                "500 5.5.2 Bare CR or LF in command line\r\n");
}

/* RFC 5321 2.3.8: only CRLF ends a command line.  A filter in front that
 * splits at CRLF sees "RSET<LF>MAIL FROM:<x@example.org>" as one line, and
 * so do we, under every policy: never an RSET and then a MAIL.  REJECT and
 * NORMALIZE refuse it whole with one 500 5.5.2; KEEP hands it to the
 * grammar, LF included, where "RSET<LF>" is no verb.  What is pipelined
 * after the CRLF runs normally.  Fed whole and one byte at a time. */
static void rfc5321_2_3_8_bare_lf_never_ends_a_command(void **state)
{
    static const char in[] = "RSET\nMAIL FROM:<x@example.org>\r\nMAIL FROM:<y@example.org>\r\n";
    unsigned pol;
    size_t i, byte;
    (void)state;
    for (pol = SMTPW_BARE_REJECT; pol <= SMTPW_BARE_KEEP; pol++) {
        for (byte = 0; byte < 2; byte++) {
            smtpw_server_config c;
            T *t;
            cfg_default(&c);
            c.bare_command = pol;
            t = start_cfg(&c);
            feed(t, "EHLO c.example\r\n");
            clear(t);
            if (byte)
                for (i = 0; i < sizeof in - 1; i++)
                    feedn(t, in + i, 1);
            else
                feed(t, in);
            if (pol == SMTPW_BARE_KEEP) {
                assert_string_equal(t->log, "REJECTED ? 500\nMAIL <y@example.org>\n");
                assert_string_equal(t->out, "500 5.5.1 Command unrecognized\r\n"
                                            "250 2.1.0 Sender ok\r\n");
            } else {
                assert_string_equal(t->log, "REJECTED  500\nMAIL <y@example.org>\n");
                assert_string_equal(t->out, "500 5.5.2 Bare CR or LF in command line\r\n"
                                            "250 2.1.0 Sender ok\r\n");
            }
        }
    }
    /* the refusal's event names the whole line, up to the CRLF */
    {
        smtpw_server_config c;
        smtpw_event ev;
        size_t used;
        T *t;
        cfg_default(&c);
        t = start_cfg(&c);
        assert_int_equal(smtpw_server_recv(t->s, (const uint8_t *)in, sizeof in - 1, &used, &ev, sizeof ev),
                         SMTPW_EV_REJECTED);
        assert_int_equal(used, 32);
        assert_int_equal(ev.code, 500);
        assert_int_equal(ev.arg.len, 30);
        assert_memory_equal(ev.arg.ptr, in, 30);
    }
}

/* RFC 5321 2.3.8 inside MAIL FROM: a bare LF in the path or between the path
 * and its parameters ends nothing, under every policy; no MAIL is taken
 * from either half. */
static void rfc5321_2_3_8_bare_lf_inside_mail_from(void **state)
{
    unsigned pol;
    (void)state;
    for (pol = SMTPW_BARE_REJECT; pol <= SMTPW_BARE_KEEP; pol++) {
        smtpw_server_config c;
        T *t;
        cfg_default(&c);
        c.bare_command = pol;
        t = start_cfg(&c);
        feed(t, "EHLO c.example\r\n");
        clear(t);
        feed(t, "MAIL FROM:<a@b.example>\nRCPT TO:<c@d.example>\r\n"
                "MAIL FROM:<a\n@b.example>\r\nMAIL FROM:<a@b.example> \nSIZE=1\r\n"
                "MAIL FROM:\n<a@b.example>\r\nNOOP\r\n");
        if (pol == SMTPW_BARE_KEEP)
            assert_string_equal(t->log, "REJECTED MAIL 501\nREJECTED MAIL 501\n"
                                        "REJECTED MAIL 501\nREJECTED MAIL 501\n");
        else
            assert_string_equal(t->log, "REJECTED  500\nREJECTED  500\n"
                                        "REJECTED  500\nREJECTED  500\n");
        assert_non_null(strstr(t->out, "\r\n250 2.0.0 Ok\r\n"));
    }
}

/* RFC 5321 2.3.8 with 4.5.3.1.4: a line with a bare LF and no CRLF within
 * max_command_line is over-long, and is dropped up to its CRLF (not to the
 * LF): one 500 Line too long, then what follows the CRLF runs. */
static void rfc5321_2_3_8_bare_lf_in_overlong_line(void **state)
{
    char in[1400];
    unsigned pol;
    size_t n = 0;
    (void)state;
    memcpy(in, "NOOP ", 5);
    n = 5;
    memset(in + n, 'x', 600);
    n += 600;
    memcpy(in + n, "\nMAIL FROM:<x@example.org>\r\n", 29);
    n += 29;
    memcpy(in + n, "NOOP ", 5);
    n += 5;
    memset(in + n, 'x', 300);
    n += 300;
    memcpy(in + n, "\nMAIL FROM:<x@example.org> ", 27);
    n += 27;
    memset(in + n, 'y', 300);
    n += 300;
    memcpy(in + n, "\r\nMAIL FROM:<y@example.org>\r\n", 29);
    n += 29;
    for (pol = SMTPW_BARE_REJECT; pol <= SMTPW_BARE_KEEP; pol++) {
        smtpw_server_config c;
        T *t;
        cfg_default(&c);
        c.bare_command = pol;
        t = start_cfg(&c);
        feed(t, "EHLO c.example\r\n");
        clear(t);
        feedn(t, in, n);
        assert_string_equal(t->out, "500 5.5.2 Line too long\r\n500 5.5.2 Line too long\r\n"
                                    "250 2.1.0 Sender ok\r\n");
        assert_string_equal(t->log, "REJECTED  500\nREJECTED  500\nMAIL <y@example.org>\n");
    }
}

/* Under NORMALIZE and KEEP too a line ends only at CRLF: LF-only lines are
 * not commands (they wait for a CRLF, or for the line limit). */
static void rfc5321_2_3_8_bare_lf_command_normalize_and_keep(void **state)
{
    smtpw_server_config c;
    T *t;
    (void)state;
    cfg_default(&c);
    c.bare_command = SMTPW_BARE_NORMALIZE;
    t = start_cfg(&c);
    clear(t);
    feed(t, "NOOP\nEHLO c.example\nNOOP a\rb\r\nMAIL FROM:<a@b.example>\rRCPT TO:<c@d.example>\r\n");
    /* a bare CR or LF never splits a line into two commands */
    assert_string_equal(t->log, "REJECTED  500\nREJECTED  500\n");
    assert_string_equal(t->out, "500 Bare CR or LF in command line\r\n"
                                "500 Bare CR or LF in command line\r\n");
    feed(t, "EHLO c.example\n");
    assert_int_equal(t->inlen, 15); /* waits for its CRLF */
    cfg_default(&c);
    c.bare_command = SMTPW_BARE_KEEP;
    t = start_cfg(&c);
    clear(t);
    feed(t, "NOOP\nEHLO c.example\nNOOP a\rb\r\nEHLO c.example\r\n"
            "MAIL FROM:<a@b.example>\rRCPT TO:<c@d.example>\r\n");
    assert_string_equal(t->log, "REJECTED ? 500\nHELO EHLO c.example\nREJECTED MAIL 501\n");
    assert_string_equal(t->out, "500 Command unrecognized\r\n" EHLO_REPLY
                                "501 5.1.7 Bad sender address syntax\r\n");
}

static void quit_then_bytes_only_221(void **state)
{
    smtpw_event ev;
    size_t used;
    T *t = ehlo(0);
    (void)state;
    feed(t, "QUIT\r\nMAIL FROM:<a@b.example>\r\nRSET\r\n");
    assert_string_equal(t->out, "221 2.0.0 mx.example Service closing transmission channel\r\n");
    assert_string_equal(t->log, "QUIT\n");
    assert_true(t->closed);
    assert_int_equal(smtpw_server_recv(t->s, (const uint8_t *)"RSET\r\n", 6, &used, &ev, sizeof ev),
                     SMTPW_E_CLOSED);
    assert_int_equal(used, 0);
    assert_int_equal(smtpw_server_want(t->s), SMTPW_WANT_CLOSE);
    assert_int_equal(smtpw_server_shutdown(t->s), SMTPW_E_CLOSED);
    assert_int_equal(smtpw_server_timeout(t->s), SMTPW_TIMEOUT_NONE);
}

static void rfc5321_3_8_shutdown_421(void **state)
{
    T *t = ehlo(0);
    (void)state;
    assert_int_equal(smtpw_server_shutdown(t->s), 0);
    drain(t);
    assert_string_equal(t->out,
                        "421 4.3.2 mx.example Service not available, closing transmission channel\r\n");
    assert_int_equal(smtpw_server_want(t->s), SMTPW_WANT_CLOSE);
    /* before EHLO: no enhanced code */
    t = start(0);
    clear(t);
    assert_int_equal(smtpw_server_shutdown(t->s), 0);
    drain(t);
    assert_string_equal(t->out,
                        "421 mx.example Service not available, closing transmission channel\r\n");
}

static void rfc5321_3_8_shutdown_mid_data_and_pending(void **state)
{
    smtpw_event ev;
    size_t used;
    T *t = in_data(0);
    (void)state;
    feed(t, "Subject: x\r\n\r\nhalf a bo");
    assert_int_equal(smtpw_server_shutdown(t->s), 0);
    drain(t);
    assert_string_equal(t->out,
                        "421 4.3.2 mx.example Service not available, closing transmission channel\r\n");
    assert_int_equal(smtpw_server_recv(t->s, (const uint8_t *)"dy\r\n.\r\n", 7, &used, &ev, sizeof ev),
                     SMTPW_E_CLOSED);
    /* while a reply is owed: the reply is no longer possible */
    t = ehlo(0);
    assert_int_equal(smtpw_server_recv(t->s, (const uint8_t *)"VRFY x\r\n", 8, &used, &ev, sizeof ev),
                     SMTPW_EV_VRFY);
    assert_int_equal(smtpw_server_shutdown(t->s), 0);
    assert_int_equal(smtpw_server_reply(t->s, 0, NULL, 0, NULL, 0), SMTPW_E_STATE);
}

static void app_421_closes(void **state)
{
    static const struct answer a[] = {{421, NULL, NULL}};
    T *t = ehlo(0);
    (void)state;
    script(t, a, 1);
    feed(t, "MAIL FROM:<a@b.example>\r\nNOOP\r\n");
    assert_string_equal(t->out,
                        "421 4.3.2 mx.example Service not available, closing transmission channel\r\n");
    assert_true(t->closed);
    assert_int_equal(smtpw_server_want(t->s), SMTPW_WANT_CLOSE);
}

/* ---- pipelining (RFC 2920) -------------------------------------------- */

static void rfc2920_pipelined_replies_in_order(void **state)
{
    static const struct answer a[] = {
        {0, NULL, NULL}, {0, NULL, NULL}, {550, NULL, NULL}, {0, NULL, NULL}, {0, NULL, NULL}};
    T *t = start(0);
    (void)state;
    clear(t);
    script(t, a, 5);
    feed(t, "EHLO c.example\r\nMAIL FROM:<a@b.example>\r\nRCPT TO:<x@d.example>\r\n"
            "RCPT TO:<y@d.example>\r\nNOOP\r\nDATA\r\nhi\r\n.\r\nQUIT\r\n");
    assert_string_equal(t->out, EHLO_REPLY "250 2.1.0 Sender ok\r\n550 5.1.1 Mailbox unavailable\r\n"
                                "250 2.1.5 Recipient ok\r\n250 2.0.0 Ok\r\n"
                                "354 Start mail input; end with <CRLF>.<CRLF>\r\n"
                                "250 2.0.0 Message accepted for delivery\r\n"
                                "221 2.0.0 mx.example Service closing transmission channel\r\n");
    assert_int_equal(smtpw_server_messages(t->s), 1);
}

static void rfc2920_backpressure_nothing_lost(void **state)
{
    char in[4000];
    size_t n = 0, used, outn, total = 0;
    int i, rounds = 0;
    smtpw_event ev;
    T *t = ehlo(0);
    (void)state;
    for (i = 0; i < 200; i++) {
        memcpy(in + n, "NOOP\r\n", 6);
        n += 6;
    }
    /* never draining: the core must stop reading while it lacks room */
    for (;;) {
        int r = smtpw_server_recv(t->s, (const uint8_t *)in + total, n - total, &used, &ev, sizeof ev);
        assert_int_equal(r, SMTPW_EV_NONE);
        if (used == 0)
            break;
        total += used;
    }
    assert_true(total < n);
    assert_true(total > 0);
    assert_int_equal(smtpw_server_want(t->s), SMTPW_WANT_WRITE);
    smtpw_server_output(t->s, &outn);
    assert_int_equal(outn, total / 6 * 14);
    /* drain one byte at a time and go on: every command gets its reply */
    while (total < n) {
        const uint8_t *p = smtpw_server_output(t->s, &outn);
        if (outn) {
            t->out[t->outlen++] = (char)p[0];
            smtpw_server_output_ack(t->s, 1);
        }
        while (smtpw_server_recv(t->s, (const uint8_t *)in + total, n - total, &used, &ev, sizeof ev) ==
                   SMTPW_EV_NONE &&
               used)
            total += used;
        rounds++;
    }
    drain(t);
    assert_int_equal(t->outlen, 200 * 14);
    for (i = 0; i < 200; i++)
        assert_memory_equal(t->out + 14 * i, "250 2.0.0 Ok\r\n", 14);
    assert_true(rounds > 1);
}

static void want_bits(void **state)
{
    smtpw_event ev;
    size_t used;
    T *t = start(0);
    (void)state;
    assert_int_equal(smtpw_server_want(t->s), SMTPW_WANT_READ);
    assert_int_equal(smtpw_server_recv(t->s, (const uint8_t *)"HELO a.example\r\n", 16, &used, &ev, sizeof ev),
                     SMTPW_EV_HELO);
    assert_int_equal(smtpw_server_want(t->s), SMTPW_WANT_REPLY);
    assert_int_equal(smtpw_server_reply(t->s, 0, NULL, 0, NULL, 0), 0);
    /* api.md A: after an event recv() goes first; READ only once it has
     * used up its input */
    assert_int_equal(smtpw_server_want(t->s), SMTPW_WANT_WRITE);
    assert_int_equal(smtpw_server_reply(t->s, 0, NULL, 0, NULL, 0), SMTPW_E_STATE);
    assert_int_equal(smtpw_server_recv(t->s, (const uint8_t *)"NO", 2, &used, &ev, sizeof ev),
                     SMTPW_EV_NONE);
    assert_int_equal(used, 0);
    assert_int_equal(smtpw_server_want(t->s), SMTPW_WANT_READ | SMTPW_WANT_WRITE);
}

/* ---- reply API ----------------------------------------------------------- */

static void reply_text_injection_refused(void **state)
{
    smtpw_event ev;
    size_t used, n;
    T *t = ehlo(0);
    (void)state;
    assert_int_equal(smtpw_server_recv(t->s, (const uint8_t *)"RCPT TO:<a@b.c>\r\n", 17, &used, &ev, sizeof ev),
                     SMTPW_EV_REJECTED);
    drain(t);
    assert_int_equal(
        smtpw_server_recv(t->s, (const uint8_t *)"MAIL FROM:<a@b.c>\r\n", 19, &used, &ev, sizeof ev),
        SMTPW_EV_MAIL);
    assert_int_equal(smtpw_server_reply(t->s, 250, NULL, 0, "ok\r\n250 injected", 16),
                     SMTPW_E_INVALID_ARG);
    assert_int_equal(smtpw_server_reply(t->s, 250, NULL, 0, "ok\n", 3), SMTPW_E_INVALID_ARG);
    assert_int_equal(smtpw_server_reply(t->s, 250, NULL, 0, "ok\r", 3), SMTPW_E_INVALID_ARG);
    assert_int_equal(smtpw_server_reply(t->s, 250, NULL, 0, "o\0k", 3), SMTPW_E_INVALID_ARG);
    smtpw_server_output(t->s, &n);
    assert_int_equal(n, 0);
    assert_int_equal(smtpw_server_want(t->s), SMTPW_WANT_REPLY);
    assert_int_equal(smtpw_server_reply(t->s, 250, NULL, 0, "fine", 4), 0);
    drain(t);
    assert_string_equal(t->out, "503 5.5.1 Need MAIL before RCPT\r\n250 2.1.0 fine\r\n");
}

static void reply_code_and_enh_validation(void **state)
{
    char text[600];
    smtpw_event ev;
    size_t used;
    T *t = ehlo(0);
    (void)state;
    assert_int_equal(
        smtpw_server_recv(t->s, (const uint8_t *)"MAIL FROM:<a@b.c>\r\n", 19, &used, &ev, sizeof ev),
        SMTPW_EV_MAIL);
    assert_int_equal(smtpw_server_reply(t->s, 354, NULL, 0, NULL, 0), SMTPW_E_INVALID_ARG);
    assert_int_equal(smtpw_server_reply(t->s, 199, NULL, 0, NULL, 0), SMTPW_E_INVALID_ARG);
    assert_int_equal(smtpw_server_reply(t->s, 600, NULL, 0, NULL, 0), SMTPW_E_INVALID_ARG);
    assert_int_equal(smtpw_server_reply(t->s, 260, NULL, 0, NULL, 0), SMTPW_E_INVALID_ARG);
    assert_int_equal(smtpw_server_reply(t->s, 330, NULL, 0, NULL, 0), SMTPW_E_INVALID_ARG);
    assert_int_equal(smtpw_server_reply(t->s, 550, "4.1.1", 5, NULL, 0), SMTPW_E_INVALID_ARG);
    assert_int_equal(smtpw_server_reply(t->s, 550, "5.1", 3, NULL, 0), SMTPW_E_INVALID_ARG);
    assert_int_equal(smtpw_server_reply(t->s, 550, "5.1.1 ", 6, NULL, 0), SMTPW_E_INVALID_ARG);
    assert_int_equal(smtpw_server_reply(t->s, 550, "5.1234.1", 8, NULL, 0), SMTPW_E_INVALID_ARG);
    memset(text, 'x', sizeof text);
    /* "550 5.7.1 " + text + CRLF must fit 512 */
    assert_int_equal(smtpw_server_reply(t->s, 550, "5.7.1", 5, text, 501), SMTPW_E_TOOLONG);
    assert_int_equal(smtpw_server_reply(t->s, 550, "5.7.1", 5, text, 500), 0);
    drain(t);
    assert_int_equal(t->outlen, 512);
    assert_memory_equal(t->out, "550 5.7.1 xxx", 13);
}

static void reply_enh_ignored_before_ehlo(void **state)
{
    static const struct answer a[] = {{0, NULL, NULL}, {451, "4.3.0", "later"}};
    T *t = start(0);
    (void)state;
    script(t, a, 2);
    clear(t);
    feed(t, "HELO c.example\r\nMAIL FROM:<a@b.c>\r\n");
    assert_string_equal(t->out, "250 mx.example\r\n451 later\r\n");
}

static void data_reply_must_be_354_or_failure(void **state)
{
    smtpw_event ev;
    size_t used;
    T *t = in_rcpt(0);
    (void)state;
    assert_int_equal(smtpw_server_recv(t->s, (const uint8_t *)"DATA\r\n", 6, &used, &ev, sizeof ev),
                     SMTPW_EV_DATA);
    assert_int_equal(smtpw_server_reply(t->s, 250, NULL, 0, NULL, 0), SMTPW_E_INVALID_ARG);
    assert_int_equal(smtpw_server_reply(t->s, 354, "2.0.0", 5, NULL, 0), SMTPW_E_INVALID_ARG);
    assert_int_equal(smtpw_server_reply(t->s, 354, NULL, 0, "go ahead", 8), 0);
    drain(t);
    assert_string_equal(t->out, "354 go ahead\r\n");
}

/* ---- DATA ------------------------------------------------------------------ */

static void rfc5321_4_1_1_4_body_and_end(void **state)
{
    T *t = in_data(0);
    (void)state;
    feed(t, "Subject: hi\r\n\r\nline one\r\n..dotted\r\n.\r\nNOOP\r\n");
    assert_string_equal(t->log, "BODY Subject: hi\\r\\n\\r\\nline one\\r\\n.dotted\\r\\n\n"
                                "DATA_END 34\n");
    assert_string_equal(t->out, "250 2.0.0 Message accepted for delivery\r\n250 2.0.0 Ok\r\n");
    assert_int_equal(smtpw_server_messages(t->s), 1);
}

static void rfc5321_4_1_1_4_data_starts_at_line_start(void **state)
{
    T *t = in_data(0);
    (void)state;
    feed(t, ".\r\n");
    assert_string_equal(t->log, "DATA_END 0\n");
    t = in_data(0);
    feed(t, "..x\r\n.\r\n");
    assert_string_equal(t->log, "BODY .x\\r\\n\nDATA_END 4\n");
    t = in_data(0);
    feed(t, ".x\r\n.\r\n"); /* 4.5.2: a leading dot with more on the line is dropped */
    assert_string_equal(t->log, "BODY x\\r\\n\nDATA_END 3\n");
}

static void body_spans_point_into_input(void **state)
{
    static const char body[] = "abc\r\ndef\r\n.\r\n";
    smtpw_event ev;
    size_t used;
    T *t = in_data(0);
    (void)state;
    assert_int_equal(smtpw_server_recv(t->s, (const uint8_t *)body, 13, &used, &ev, sizeof ev), SMTPW_EV_BODY);
    assert_ptr_equal(ev.arg.ptr, body);
    assert_int_equal(ev.arg.len, 10);
    assert_int_equal(used, 10);
    assert_int_equal(smtpw_server_recv(t->s, (const uint8_t *)body + 10, 3, &used, &ev, sizeof ev),
                     SMTPW_EV_DATA_END);
    assert_int_equal(used, 3);
    assert_int_equal(ev.size, 10);
    assert_int_equal(smtpw_server_timeout(t->s), SMTPW_TIMEOUT_NONE);
}

static void one_span_per_feed_for_clean_data(void **state)
{
    char body[4096];
    smtpw_event ev;
    size_t used, i;
    T *t = in_data(0);
    (void)state;
    for (i = 0; i < sizeof body; i++)
        body[i] = (i % 78 == 76) ? '\r' : (i % 78 == 77) ? '\n' : (char)('A' + i % 26);
    assert_int_equal(smtpw_server_recv(t->s, (const uint8_t *)body, sizeof body, &used, &ev, sizeof ev),
                     SMTPW_EV_BODY);
    /* all of it but a trailing partial line end */
    assert_true(used >= sizeof body - 1);
    assert_ptr_equal(ev.arg.ptr, body);
}

static void rset_after_failed_message_requires_new_mail(void **state)
{
    static const struct answer a[] = {{554, NULL, "content refused"}};
    T *t = in_data(0);
    (void)state;
    script(t, a, 1);
    feed(t, "spam\r\n.\r\nRCPT TO:<x@y.example>\r\nDATA\r\n");
    assert_string_equal(t->out, "554 5.6.0 content refused\r\n503 5.5.1 Need MAIL before RCPT\r\n"
                                "503 5.5.1 Need MAIL command\r\n");
    assert_int_equal(smtpw_server_messages(t->s), 0);
}

static void data_refused_by_app_resets_transaction(void **state)
{
    static const struct answer a[] = {{451, NULL, NULL}};
    T *t = in_rcpt(0);
    (void)state;
    script(t, a, 1);
    feed(t, "DATA\r\nRCPT TO:<x@y.example>\r\n");
    assert_string_equal(t->out, "451 4.3.0 Local error in processing\r\n"
                                "503 5.5.1 Need MAIL before RCPT\r\n");
}

static void accepted_message_then_new_transaction(void **state)
{
    T *t = in_data(0);
    (void)state;
    feed(t, "x\r\n.\r\nRCPT TO:<x@y.example>\r\nMAIL FROM:<a@b.example>\r\n");
    assert_string_equal(t->out, "250 2.0.0 Message accepted for delivery\r\n"
                                "503 5.5.1 Need MAIL before RCPT\r\n250 2.1.0 Sender ok\r\n");
}

static void rfc1870_message_size_limit_boundary(void **state)
{
    smtpw_server_config c;
    T *t;
    (void)state;
    cfg_default(&c);
    c.max_message_size = 10;
    t = start_cfg(&c);
    feed(t, "EHLO c.example\r\nMAIL FROM:<a@b.example>\r\nRCPT TO:<c@d.example>\r\nDATA\r\n");
    clear(t);
    feed(t, "12345678\r\n.\r\n"); /* exactly 10 octets */
    assert_string_equal(t->log, "BODY 12345678\\r\\n\nDATA_END 10\n");
    feed(t, "MAIL FROM:<a@b.example>\r\nRCPT TO:<c@d.example>\r\nDATA\r\n");
    clear(t);
    feed(t, "123456789\r\n.\r\nNOOP\r\n"); /* 11 */
    assert_string_equal(t->log, "DATA_ABORT 552\n");
    assert_string_equal(t->out, "552 5.3.4 Message size exceeds fixed maximum message size\r\n"
                                "250 2.0.0 Ok\r\n");
    clear(t);
    feed(t, "RCPT TO:<c@d.example>\r\n");
    assert_string_equal(t->out, "503 5.5.1 Need MAIL before RCPT\r\n");
}

static void rfc5321_4_5_3_1_6_text_line_limit_boundary(void **state)
{
    smtpw_server_config c;
    T *t;
    (void)state;
    cfg_default(&c);
    c.max_text_line = 10;
    t = start_cfg(&c);
    feed(t, "EHLO c.example\r\nMAIL FROM:<a@b.example>\r\nRCPT TO:<c@d.example>\r\nDATA\r\n");
    clear(t);
    feed(t, "12345678\r\n..2345678\r\n.\r\n"); /* 10 with CRLF; the stuffed dot is not counted */
    assert_string_equal(t->log, "BODY 12345678\\r\\n.2345678\\r\\n\nDATA_END 20\n");
    feed(t, "MAIL FROM:<a@b.example>\r\nRCPT TO:<c@d.example>\r\nDATA\r\n");
    clear(t);
    feed(t, "123456789\r\n.\r\n");
    assert_string_equal(t->log, "BODY 12345678\nDATA_ABORT 500\n");
    assert_string_equal(t->out, "500 5.5.2 Line too long\r\n");
}

/* ---- SMTP smuggling: a bare CR or LF never ends DATA -------------------- */

struct smuggle {
    const char *name;
    const char *seq; /* put between "a" and "MAIL FROM:<evil@x.example>\r\n" */
};

static const struct smuggle smuggles[] = {
    {"LF.LF", "\n.\n"},       {"CRLF.LF", "\r\n.\n"},   {"LF.CRLF", "\n.\r\n"},
    {"CR.CR", "\r.\r"},       {"CRLF.CR", "\r\n.\r"},   {"CR.CRLF", "\r.\r\n"},
    {".CRCRLF", "\r\n.\r\r\n"}, {"LF.CR", "\n.\r"},     {"CR.LF", "\r.\n"},
    {"CRLF.CRCRLF2", "\r\n.\r\rMAIL FROM:<x@y.z>\r\n"},
};

/* Runs "a" seq "MAIL FROM:<evil@x.example>\r\n" ".\r\n" through DATA under
 * policy, fed whole and byte by byte; returns the log. */
static void smuggle_run(unsigned policy, const struct smuggle *sm, int bytewise)
{
    char msg[256];
    size_t n, i;
    smtpw_server_config c;
    T *t;
    cfg_default(&c);
    c.bare_body = policy;
    t = start_cfg(&c);
    feed(t, "EHLO c.example\r\nMAIL FROM:<a@b.example>\r\nRCPT TO:<c@d.example>\r\nDATA\r\n");
    clear(t);
    n = (size_t)snprintf(msg, sizeof msg, "a%sMAIL FROM:<evil@x.example>\r\n.\r\nNOOP\r\n", sm->seq);
    if (bytewise)
        for (i = 0; i < n; i++)
            feedn(t, msg + i, 1);
    else
        feedn(t, msg, n);
    /* never a second MAIL event: the smuggled command is data or dropped */
    assert_null(strstr(t->log, "MAIL <"));
    assert_non_null(strstr(t->out, "250 2.0.0 Ok\r\n")); /* the NOOP after the real end */
    if (policy == SMTPW_BARE_REJECT) {
        assert_non_null(strstr(t->log, "DATA_ABORT 550\n"));
        assert_null(strstr(t->log, "DATA_END"));
        assert_string_equal(t->out, "550 5.6.0 Message refused: bare CR or LF in the body\r\n"
                                    "250 2.0.0 Ok\r\n");
    } else {
        assert_non_null(strstr(t->log, "DATA_END"));
        if (strstr(t->log, "MAIL FROM:<evil@x.example>\\r\\n\n") == NULL)
            fail_msg("%s: %s", sm->name, t->log);
        assert_string_equal(t->out, "250 2.0.0 Message accepted for delivery\r\n250 2.0.0 Ok\r\n");
    }
}

static void smuggling_all_variants(unsigned policy)
{
    size_t k;
    for (k = 0; k < sizeof smuggles / sizeof smuggles[0]; k++) {
        smuggle_run(policy, &smuggles[k], 0);
        smuggle_run(policy, &smuggles[k], 1);
    }
}

static void smuggling_bare_lf_dot_bare_lf_never_ends_data_reject(void **state)
{
    (void)state;
    smuggling_all_variants(SMTPW_BARE_REJECT);
}

static void smuggling_bare_lf_dot_bare_lf_never_ends_data_normalize(void **state)
{
    (void)state;
    smuggling_all_variants(SMTPW_BARE_NORMALIZE);
}

static void smuggling_bare_lf_dot_bare_lf_never_ends_data_keep(void **state)
{
    (void)state;
    smuggling_all_variants(SMTPW_BARE_KEEP);
}

static void smuggling_exact_bytes_normalize_and_keep(void **state)
{
    smtpw_server_config c;
    T *t;
    (void)state;
    cfg_default(&c);
    c.bare_body = SMTPW_BARE_NORMALIZE;
    t = start_cfg(&c);
    feed(t, "EHLO c.example\r\nMAIL FROM:<a@b.example>\r\nRCPT TO:<c@d.example>\r\nDATA\r\n");
    clear(t);
    feed(t, "a\nb\rc\r\n.\n.\r\nx\r\n.\r\n");
    /* bare bytes become CRLF but start no line: ".\n" loses its dot, and
     * the ".\r\n" after it is data */
    assert_string_equal(t->log, "BODY a\\r\\nb\\r\\nc\\r\\n\\r\\n.\\r\\nx\\r\\n\nDATA_END 17\n");
    cfg_default(&c);
    c.bare_body = SMTPW_BARE_KEEP;
    t = start_cfg(&c);
    feed(t, "EHLO c.example\r\nMAIL FROM:<a@b.example>\r\nRCPT TO:<c@d.example>\r\nDATA\r\n");
    clear(t);
    feed(t, "a\nb\rc\r\n.\n.\r\nx\r\n.\r\n");
    assert_string_equal(t->log, "BODY a\\nb\\rc\\r\\n\\n.\\r\\nx\\r\\n\nDATA_END 14\n");
}

/* ---- STARTTLS (RFC 3207) ------------------------------------------------- */

static void rfc3207_4_2_discard_pipelined_after_starttls(void **state)
{
    smtpw_event ev;
    size_t used;
    T *t = ehlo(SMTPW_SERVER_STARTTLS);
    static const char inj[] = "STARTTLS\r\nMAIL FROM:<evil@x.example>\r\n";
    (void)state;
    assert_int_equal(smtpw_server_recv(t->s, (const uint8_t *)inj, sizeof inj - 1, &used, &ev, sizeof ev),
                     SMTPW_EV_NONE);
    assert_int_equal(used, sizeof inj - 1); /* all of the feed, the injection included */
    assert_int_equal(smtpw_server_want(t->s), SMTPW_WANT_WRITE);
    assert_int_equal(smtpw_server_tls_started(t->s), SMTPW_E_STATE);
    /* more cleartext before the handshake: dropped too */
    assert_int_equal(smtpw_server_recv(t->s, (const uint8_t *)"RSET\r\n", 6, &used, &ev, sizeof ev),
                     SMTPW_EV_NONE);
    assert_int_equal(used, 6);
    drain(t);
    assert_string_equal(t->out, "220 2.0.0 Ready to start TLS\r\n");
    assert_int_equal(smtpw_server_want(t->s), SMTPW_WANT_TLS);
    assert_int_equal(smtpw_server_recv(t->s, (const uint8_t *)"", 0, &used, &ev, sizeof ev),
                     SMTPW_EV_STARTTLS);
    assert_int_equal(ev.cmd, SMTPW_CMD_STARTTLS);
    assert_int_equal(smtpw_server_recv(t->s, (const uint8_t *)"x", 1, &used, &ev, sizeof ev), SMTPW_EV_NONE);
    assert_int_equal(used, 1);
    assert_int_equal(smtpw_server_tls_started(t->s), 0);
    assert_int_equal(smtpw_server_tls_started(t->s), SMTPW_E_STATE);
    clear(t);
    /* fresh state: no HELO, STARTTLS no longer offered, second STARTTLS 503 */
    feed(t, "MAIL FROM:<a@b.example>\r\nEHLO c.example\r\nSTARTTLS\r\n");
    assert_string_equal(t->out, "503 Send HELO/EHLO first\r\n" EHLO_REPLY
                                "503 5.5.1 TLS already active\r\n");
}

static void rfc3207_4_starttls_argument_and_transaction(void **state)
{
    T *t = ehlo(SMTPW_SERVER_STARTTLS);
    (void)state;
    feed(t, "STARTTLS now\r\nMAIL FROM:<a@b.example>\r\nSTARTTLS\r\n");
    assert_string_equal(t->out, "501 5.5.4 Syntax: STARTTLS\r\n250 2.1.0 Sender ok\r\n"
                                "503 5.5.1 STARTTLS inside a mail transaction\r\n");
}

/* ---- init ------------------------------------------------------------------ */

static void init_checks_arguments(void **state)
{
    static uint64_t mem[SMTPW_SERVER_SIZE_HINT / 8 + 1];
    smtpw_server_config c;
    smtpw_server *s = (smtpw_server *)1;
    (void)state;
    assert_true(smtpw_server_sizeof() <= SMTPW_SERVER_SIZE_HINT);
    assert_true(smtpw_server_sizeof() <= 1024);
    cfg_default(&c);
    assert_int_equal(smtpw_server_init(mem, smtpw_server_sizeof() - 1, &c, &s), SMTPW_E_NOBUF);
    assert_null(s);
    assert_int_equal(smtpw_server_init(NULL, sizeof mem, &c, &s), SMTPW_E_INVALID_ARG);
    assert_int_equal(smtpw_server_init(mem, sizeof mem, &c, NULL), SMTPW_E_INVALID_ARG);
    c.version = 99;
    assert_int_equal(smtpw_server_init(mem, sizeof mem, &c, &s), SMTPW_E_VERSION);
    cfg_default(&c);
    c.hostname = "bad host";
    c.hostname_len = 8;
    assert_int_equal(smtpw_server_init(mem, sizeof mem, &c, &s), SMTPW_E_INVALID_ARG);
    cfg_default(&c);
    c.max_command_line = 511;
    assert_int_equal(smtpw_server_init(mem, sizeof mem, &c, &s), SMTPW_E_INVALID_ARG);
    cfg_default(&c);
    c.bare_body = 3;
    assert_int_equal(smtpw_server_init(mem, sizeof mem, &c, &s), SMTPW_E_INVALID_ARG);
    cfg_default(&c);
    c.bare_command = 7;
    assert_int_equal(smtpw_server_init(mem, sizeof mem, &c, &s), SMTPW_E_INVALID_ARG);
    cfg_default(&c);
    c.flags = 0x80000000u;
    assert_int_equal(smtpw_server_init(mem, sizeof mem, &c, &s), SMTPW_E_INVALID_ARG);
    cfg_default(&c);
    assert_int_equal(smtpw_server_init((char *)mem + 1, sizeof mem - 1, &c, &s),
                     SMTPW_E_INVALID_ARG);
    c.hostname = NULL; /* the default, with hostname_len 0 */
    c.hostname_len = 0;
    assert_int_equal(smtpw_server_init(mem, sizeof mem, &c, &s), 0);
    assert_ptr_equal(s, mem);
}

static void api_rejects_null(void **state)
{
    smtpw_event ev;
    size_t used = 5, n;
    T *t = start(0);
    (void)state;
    assert_int_equal(smtpw_server_recv(NULL, (const uint8_t *)"", 0, &used, &ev, sizeof ev),
                     SMTPW_E_INVALID_ARG);
    assert_int_equal(used, 0);
    assert_int_equal(smtpw_server_recv(t->s, NULL, 3, &used, &ev, sizeof ev), SMTPW_E_INVALID_ARG);
    assert_int_equal(smtpw_server_recv(t->s, (const uint8_t *)"", 0, &used, NULL, sizeof ev),
                     SMTPW_E_INVALID_ARG);
    assert_int_equal(smtpw_server_recv(t->s, NULL, 0, &used, &ev, sizeof ev), SMTPW_EV_NONE);
    assert_null(smtpw_server_output(t->s, NULL));
    smtpw_server_output_ack(t->s, 1000); /* clamped */
    smtpw_server_output(t->s, &n);
    assert_int_equal(n, 0);
    assert_int_equal(smtpw_server_reply(NULL, 0, NULL, 0, NULL, 0), SMTPW_E_INVALID_ARG);
    assert_int_equal(smtpw_server_shutdown(NULL), SMTPW_E_INVALID_ARG);
    assert_int_equal(smtpw_server_tls_started(NULL), SMTPW_E_INVALID_ARG);
}

/* ---- API rules (README "API conventions", api.md B) ------------------------ */

/* The size rule: recv() writes no byte past evsize (an older caller's
 * smaller struct), and zero-fills a newer caller's larger struct past the
 * library's own size. */
static void smtpw_event_size_never_written_past(void **state)
{
    static const size_t sizes[] = {16, 24, 56, offsetof(smtpw_event, line), sizeof(smtpw_event) - 4};
    unsigned char buf[sizeof(smtpw_event) + 64];
    size_t i, j, used;
    T *t = start(0);
    (void)state;
    feed(t, "EHLO c.example\r\n");
    for (i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
        memset(buf, 0xA5, sizeof buf);
        assert_int_equal(smtpw_server_recv(t->s, (const uint8_t *)"MAIL FROM:<a@b.example>\r\n", 25,
                                           &used, (smtpw_event *)(void *)buf, sizes[i]),
                         SMTPW_EV_MAIL);
        for (j = sizes[i]; j < sizeof buf; j++) /* the canary after evsize */
            assert_int_equal(buf[j], 0xA5);
        assert_int_equal(((smtpw_event *)(void *)buf)->type, SMTPW_EV_MAIL);
        assert_int_equal(smtpw_server_reply(t->s, 421, NULL, 0, NULL, 0), 0); /* start over */
        t = start(0);
        feed(t, "EHLO c.example\r\n");
    }
    /* a larger struct: the bytes past sizeof(smtpw_event) come back zero */
    memset(buf, 0xA5, sizeof buf);
    assert_int_equal(smtpw_server_recv(t->s, (const uint8_t *)"NOOP\r\nRSET\r\n", 12, &used,
                                       (smtpw_event *)(void *)buf, sizeof(smtpw_event) + 32),
                     SMTPW_EV_RSET);
    for (j = sizeof(smtpw_event); j < sizeof(smtpw_event) + 32; j++)
        assert_int_equal(buf[j], 0);
    for (; j < sizeof buf; j++)
        assert_int_equal(buf[j], 0xA5);
    assert_int_equal(smtpw_server_recv(t->s, (const uint8_t *)"", 0, &used,
                                       (smtpw_event *)(void *)buf, 15),
                     SMTPW_E_INVALID_ARG);
}

/* A version-1 config followed by bytes the library must not read (a later
 * version's fields): init takes the version-1 fields, defaults the rest. */
static void config_older_version_gets_defaults(void **state)
{
    static uint64_t mem[SMTPW_SERVER_SIZE_HINT / 8 + 1];
    unsigned char raw[sizeof(smtpw_server_config) + 64];
    smtpw_server_config v1;
    smtpw_server *s;
    const uint8_t *out;
    size_t n;
    (void)state;
    memset(raw, 0xA5, sizeof raw); /* garbage where a newer version has fields */
    assert_int_equal(smtpw_server_config_init(&v1, 1), 0);
    v1.hostname = "old.example";
    v1.hostname_len = 11;
    memcpy(raw, &v1, sizeof v1);
    assert_int_equal(smtpw_server_init(mem, sizeof mem, (const smtpw_server_config *)(void *)raw, &s), 0);
    out = smtpw_server_output(s, &n);
    assert_int_equal(n, 32);
    assert_memory_equal(out, "220 old.example ESMTP smtpwire\r\n", 32);
    /* NULL is the defaults ("localhost") */
    assert_int_equal(smtpw_server_init(mem, sizeof mem, NULL, &s), 0);
    out = smtpw_server_output(s, &n);
    assert_int_equal(n, 30);
    assert_memory_equal(out, "220 localhost ESMTP smtpwire\r\n", 30);
    /* an unknown version */
    v1.version = 0;
    assert_int_equal(smtpw_server_init(mem, sizeof mem, &v1, &s), SMTPW_E_VERSION);
    v1.version = SMTPW_SERVER_CONFIG_VERSION + 1;
    assert_int_equal(smtpw_server_init(mem, sizeof mem, &v1, &s), SMTPW_E_VERSION);
}

/* config_init(cfg, 1) writes exactly version 1's bytes, and an unknown
 * version writes nothing. */
static void config_init_writes_only_its_version(void **state)
{
    unsigned char raw[sizeof(smtpw_server_config) + 64];
    const size_t v1 = offsetof(smtpw_server_config, bare_body) + sizeof(uint32_t);
    smtpw_server_config *c = (smtpw_server_config *)(void *)raw;
    size_t i;
    (void)state;
    memset(raw, 0xA5, sizeof raw);
    assert_int_equal(smtpw_server_config_init(c, 1), 0);
    for (i = v1; i < sizeof raw; i++)
        assert_int_equal(raw[i], 0xA5);
    assert_int_equal(c->version, 1);
    assert_null(c->hostname);
    assert_int_equal(c->hostname_len, 0);
    assert_int_equal(c->max_message_size, 10485760);
    assert_int_equal(c->max_recipients, 100);
    assert_int_equal(c->max_command_line, 512);
    assert_int_equal(c->max_errors, 10);
    memset(raw, 0xA5, sizeof raw);
    assert_int_equal(smtpw_server_config_init(c, 0), SMTPW_E_VERSION);
    assert_int_equal(smtpw_server_config_init(c, SMTPW_SERVER_CONFIG_VERSION + 1), SMTPW_E_VERSION);
    for (i = 0; i < sizeof raw; i++)
        assert_int_equal(raw[i], 0xA5);
    assert_int_equal(smtpw_server_config_init(NULL, 1), SMTPW_E_INVALID_ARG);
}

/* A name with no length is refused, never sent as "220 mx.exampl": the
 * default is NULL/0 ("localhost"), no length to forget beside a pointer. */
static void hostname_len_zero_refused(void **state)
{
    static uint64_t mem[SMTPW_SERVER_SIZE_HINT / 8 + 1];
    smtpw_server_config c;
    smtpw_server *s;
    (void)state;
    smtpw_server_config_init(&c, SMTPW_SERVER_CONFIG_VERSION);
    c.hostname = "mx.example";
    assert_int_equal(smtpw_server_init(mem, sizeof mem, &c, &s), SMTPW_E_INVALID_ARG);
    c.hostname = NULL;
    c.hostname_len = 4;
    assert_int_equal(smtpw_server_init(mem, sizeof mem, &c, &s), SMTPW_E_INVALID_ARG);
    c.hostname_len = 0;
    assert_int_equal(smtpw_server_init(mem, sizeof mem, &c, &s), 0);
}

/* Every span an event type does not use is {NULL, 0} (api.md C): DATA and
 * QUIT hand back no verb, RSET and DATA_END no line, and path is zero
 * unless MAIL/RCPT. */
static void unused_spans_are_null(void **state)
{
    static const char *const in[] = {
        "EHLO c.example\r\n", "MAIL FROM:<a@b.example> SIZE=10\r\n", "RCPT TO:<r@b.example>\r\n",
        "DATA\r\n", "x\r\n.\r\n", "RSET\r\n", "MAIL FROM:<a@b.example> FOO=1\r\n", "QUIT\r\n"};
    static const int type[] = {SMTPW_EV_HELO, SMTPW_EV_MAIL, SMTPW_EV_RCPT, SMTPW_EV_DATA,
                               SMTPW_EV_BODY, SMTPW_EV_RSET, SMTPW_EV_REJECTED, SMTPW_EV_QUIT};
    static const smtpw_path zero_path;
    smtpw_event ev;
    size_t i, used, off = 0;
    T *t = start(0);
    (void)state;
    for (i = 0; i < sizeof in / sizeof in[0]; i++) {
        size_t n = strlen(in[i]);
        memset(&ev, 0xA5, sizeof ev); /* a caller's uninitialised struct */
        off = 0;
        assert_int_equal(smtpw_server_recv(t->s, (const uint8_t *)in[i], n, &used, &ev, sizeof ev),
                         type[i]);
        off += used;
        assert_null(ev.line.ptr);
        assert_int_equal(ev.line.len, 0);
        assert_null(ev.keyword.ptr);
        assert_int_equal(ev.index + ev.enh_class + ev.enh_subject + ev.enh_detail, 0);
        if (type[i] != SMTPW_EV_MAIL && type[i] != SMTPW_EV_RCPT) {
            assert_memory_equal(&ev.path, &zero_path, sizeof zero_path);
            assert_null(ev.params.ptr);
            assert_int_equal(ev.params.len, 0);
        }
        switch (type[i]) {
        case SMTPW_EV_DATA:
        case SMTPW_EV_RSET:
        case SMTPW_EV_QUIT:
            assert_null(ev.arg.ptr);
            assert_int_equal(ev.arg.len, 0);
            assert_int_equal(ev.size, 0);
            break;
        case SMTPW_EV_REJECTED: /* the refused line, nothing of its parse */
            assert_int_equal(ev.arg.len, n - 2);
            assert_int_equal(ev.size + ev.flags, 0);
            break;
        default:
            break;
        }
        if (type[i] == SMTPW_EV_BODY) { /* then DATA_END from the rest */
            assert_int_equal(smtpw_server_recv(t->s, (const uint8_t *)in[i] + off, n - off, &used,
                                               &ev, sizeof ev),
                             SMTPW_EV_DATA_END);
            assert_null(ev.arg.ptr);
            assert_int_equal(ev.size, 3);
            assert_memory_equal(&ev.path, &zero_path, sizeof zero_path);
        }
        if (smtpw_server_want(t->s) & SMTPW_WANT_REPLY)
            assert_int_equal(smtpw_server_reply(t->s, 0, NULL, 0, NULL, 0), 0);
        drain(t);
    }
}

/* The state holds no pointer into itself: moved with memcpy between calls
 * mid-session (mid-line, mid-transaction), it goes on where it was. */
static void state_moved_with_memcpy(void **state)
{
    static uint64_t a[SMTPW_SERVER_SIZE_HINT / 8 + 1], b[SMTPW_SERVER_SIZE_HINT / 8 + 1];
    T *t = start(0);
    (void)state;
    feed(t, "EHLO c.example\r\nMAIL FROM:<a@b.example>\r\nRCPT TO:<r@b.example>\r\nDATA\r\nhel");
    memcpy(a, t->s, smtpw_server_sizeof());
    memset(t->mem, 0xA5, sizeof t->mem); /* the old place is gone */
    memcpy(b, a, smtpw_server_sizeof());
    memset(a, 0x5A, sizeof a);
    t->s = (smtpw_server *)(void *)b;
    feed(t, "lo\r\n.\r\nQUIT\r\n");
    assert_string_equal(t->log, "HELO EHLO c.example\nMAIL <a@b.example>\nRCPT <r@b.example>\n"
                                "DATA\nBODY hello\\r\\n\nDATA_END 7\nQUIT\n");
    assert_true(t->closed);
}

/* output(): NULL only without len; nothing queued is a pointer and 0. */
static void output_conventions(void **state)
{
    size_t n = 7;
    T *t = start(0);
    (void)state;
    assert_null(smtpw_server_output(t->s, NULL));
    assert_non_null(smtpw_server_output(t->s, &n));
    assert_int_equal(n, 0);
    assert_null(smtpw_server_output(NULL, &n));
    assert_int_equal(n, 0);
    assert_int_equal(smtpw_server_want(NULL), 0);
    assert_int_equal(smtpw_server_timeout(NULL), SMTPW_TIMEOUT_NONE);
}

/* common.h SMTPW_EVENT_MIN_SIZE: recv() takes an event of the fixed head
 * (type, cmd, code, flags) and no less; smaller is an argument error that
 * consumes nothing, writes nothing and leaves the command for later. */
static void api_event_min_size_server(void **state)
{
    static const char mail[] = "MAIL FROM:<a@b.example>\r\n";
    unsigned char buf[sizeof(smtpw_event)];
    size_t used = 99, j;
    T *t = start(0);
    (void)state;
    assert_int_equal(SMTPW_EVENT_MIN_SIZE, offsetof(smtpw_event, arg));
    feed(t, "EHLO c.example\r\n");
    memset(buf, 0xA5, sizeof buf);
    assert_int_equal(smtpw_server_recv(t->s, (const uint8_t *)mail, sizeof mail - 1, &used,
                                       (smtpw_event *)(void *)buf, SMTPW_EVENT_MIN_SIZE - 1),
                     SMTPW_E_INVALID_ARG);
    assert_int_equal(used, 0);
    for (j = 0; j < sizeof buf; j++)
        assert_int_equal(buf[j], 0xA5);
    assert_int_equal(smtpw_server_recv(t->s, (const uint8_t *)mail, sizeof mail - 1, &used,
                                       (smtpw_event *)(void *)buf, 0),
                     SMTPW_E_INVALID_ARG);
    /* the head alone is enough to learn what came */
    assert_int_equal(smtpw_server_recv(t->s, (const uint8_t *)mail, sizeof mail - 1, &used,
                                       (smtpw_event *)(void *)buf, SMTPW_EVENT_MIN_SIZE),
                     SMTPW_EV_MAIL);
    assert_int_equal(used, sizeof mail - 1);
    assert_int_equal(((smtpw_event *)(void *)buf)->cmd, SMTPW_CMD_MAIL);
    for (j = SMTPW_EVENT_MIN_SIZE; j < sizeof buf; j++)
        assert_int_equal(buf[j], 0xA5);
}

/* common.h SMTPW_STATE_ALIGN: init() takes memory aligned to it and
 * refuses any other, whatever the platform's own alignment of the state
 * (4 for a uint64_t on i386). */
static void api_state_align_server(void **state)
{
    static uint64_t mem[SMTPW_SERVER_SIZE_HINT / 8 + 2];
    unsigned char *b = (unsigned char *)mem;
    smtpw_server *s = (smtpw_server *)(void *)b;
    size_t k;
    (void)state;
    assert_int_equal(SMTPW_STATE_ALIGN, 8);
    for (k = 1; k < SMTPW_STATE_ALIGN; k++) {
        assert_int_equal(smtpw_server_init(b + k, sizeof mem - k, NULL, &s), SMTPW_E_INVALID_ARG);
        assert_null(s);
    }
    assert_int_equal(smtpw_server_init(b + SMTPW_STATE_ALIGN, sizeof mem - SMTPW_STATE_ALIGN, NULL,
                                       &s),
                     0);
    assert_ptr_equal(s, b + SMTPW_STATE_ALIGN);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(rfc5321_4_2_greeting_220),
        cmocka_unit_test(rfc5321_3_1_refuse_554_then_503_until_quit),
        cmocka_unit_test(rfc5321_4_1_1_1_ehlo_capabilities),
        cmocka_unit_test(rfc5321_4_1_1_1_ehlo_text_after_hostname),
        cmocka_unit_test(rfc1870_4_size_without_number_when_unlimited),
        cmocka_unit_test(rfc5321_4_1_1_1_helo_single_line),
        cmocka_unit_test(rfc2034_3_enhanced_codes_after_ehlo_only),
        cmocka_unit_test(rfc2034_no_enhanced_flag),
        cmocka_unit_test(rfc5321_4_1_1_1_helo_argument_checked),
        cmocka_unit_test(rfc5321_4_1_4_mail_before_helo_503),
        cmocka_unit_test(rfc5321_4_1_4_nested_mail_503),
        cmocka_unit_test(rfc5321_4_1_4_rcpt_before_mail_503),
        cmocka_unit_test(rfc5321_3_3_data_without_rcpt_554),
        cmocka_unit_test(rfc5321_4_1_4_data_before_mail_503),
        cmocka_unit_test(rfc5321_4_1_4_ehlo_resets_transaction),
        cmocka_unit_test(rfc5321_4_1_1_5_rset),
        cmocka_unit_test(rfc5321_4_1_4_rset_before_helo_allowed),
        cmocka_unit_test(rfc5321_4_1_1_data_quit_with_argument_501),
        cmocka_unit_test(rfc5321_4_1_1_9_noop_takes_a_string),
        cmocka_unit_test(rfc5321_4_2_4_unknown_500_unimplemented_502),
        cmocka_unit_test(rfc5321_2_4_verbs_case_insensitive),
        cmocka_unit_test(verb_must_be_followed_by_space_or_end),
        cmocka_unit_test(rfc5321_3_5_vrfy_expn_help_defaults),
        cmocka_unit_test(rfc5321_4_1_2_strict_no_space_after_colon),
        cmocka_unit_test(lenient_profile_deviations),
        cmocka_unit_test(lenient_params_after_helo),
        cmocka_unit_test(rfc5321_4_1_2_path_errors),
        cmocka_unit_test(event_carries_path_and_params),
        cmocka_unit_test(rfc1870_size_parameter),
        cmocka_unit_test(rfc1870_5_size_value_past_2_64_is_552),
        cmocka_unit_test(rfc6152_body_parameter),
        cmocka_unit_test(rfc6531_smtputf8_parameter),
        cmocka_unit_test(rfc5321_4_1_1_11_unknown_parameter_555),
        cmocka_unit_test(rfc5321_4_5_3_1_8_max_recipients_452),
        cmocka_unit_test(refused_rcpt_does_not_count),
        cmocka_unit_test(max_errors_421_and_close),
        cmocka_unit_test(max_errors_after_ehlo_uses_4_7_0),
        cmocka_unit_test(rfc5321_4_5_3_1_4_command_line_limit),
        cmocka_unit_test(long_line_consumed_in_pieces),
        cmocka_unit_test(configurable_command_line_limit),
        cmocka_unit_test(slow_line_resumes_scan),
        cmocka_unit_test(rfc5321_2_3_8_bare_lf_command_reject),
        cmocka_unit_test(rfc5321_2_3_8_bare_lf_never_ends_a_command),
        cmocka_unit_test(rfc5321_2_3_8_bare_lf_inside_mail_from),
        cmocka_unit_test(rfc5321_2_3_8_bare_lf_in_overlong_line),
        cmocka_unit_test(rfc5321_2_3_8_bare_lf_command_normalize_and_keep),
        cmocka_unit_test(quit_then_bytes_only_221),
        cmocka_unit_test(rfc5321_3_8_shutdown_421),
        cmocka_unit_test(rfc5321_3_8_shutdown_mid_data_and_pending),
        cmocka_unit_test(app_421_closes),
        cmocka_unit_test(rfc2920_pipelined_replies_in_order),
        cmocka_unit_test(rfc2920_backpressure_nothing_lost),
        cmocka_unit_test(want_bits),
        cmocka_unit_test(reply_text_injection_refused),
        cmocka_unit_test(reply_code_and_enh_validation),
        cmocka_unit_test(reply_enh_ignored_before_ehlo),
        cmocka_unit_test(data_reply_must_be_354_or_failure),
        cmocka_unit_test(rfc5321_4_1_1_4_body_and_end),
        cmocka_unit_test(rfc5321_4_1_1_4_data_starts_at_line_start),
        cmocka_unit_test(body_spans_point_into_input),
        cmocka_unit_test(one_span_per_feed_for_clean_data),
        cmocka_unit_test(rset_after_failed_message_requires_new_mail),
        cmocka_unit_test(data_refused_by_app_resets_transaction),
        cmocka_unit_test(accepted_message_then_new_transaction),
        cmocka_unit_test(rfc1870_message_size_limit_boundary),
        cmocka_unit_test(rfc5321_4_5_3_1_6_text_line_limit_boundary),
        cmocka_unit_test(smuggling_bare_lf_dot_bare_lf_never_ends_data_reject),
        cmocka_unit_test(smuggling_bare_lf_dot_bare_lf_never_ends_data_normalize),
        cmocka_unit_test(smuggling_bare_lf_dot_bare_lf_never_ends_data_keep),
        cmocka_unit_test(smuggling_exact_bytes_normalize_and_keep),
        cmocka_unit_test(rfc3207_4_2_discard_pipelined_after_starttls),
        cmocka_unit_test(rfc3207_4_starttls_argument_and_transaction),
        cmocka_unit_test(init_checks_arguments),
        cmocka_unit_test(api_rejects_null),
        cmocka_unit_test(smtpw_event_size_never_written_past),
        cmocka_unit_test(config_older_version_gets_defaults),
        cmocka_unit_test(config_init_writes_only_its_version),
        cmocka_unit_test(hostname_len_zero_refused),
        cmocka_unit_test(unused_spans_are_null),
        cmocka_unit_test(state_moved_with_memcpy),
        cmocka_unit_test(output_conventions),
        cmocka_unit_test(api_event_min_size_server),
        cmocka_unit_test(api_state_align_server),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
