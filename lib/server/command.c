/* The server's command grammar: verbs (RFC 5321 4.1.1), paths and ESMTP
 * parameters (4.1.2), SIZE (RFC 1870), BODY (RFC 6152), SMTPUTF8 (RFC
 * 6531), STARTTLS (RFC 3207 4).  What a state allows is server.c's table.
 * SPDX-License-Identifier: MIT */
#include "server/command.h"

#define P4 SMTPW__P4
#define load4_lower smtpw__command_load4

/* Every verb of RFC 5321 4.1.1 and 4.1.3 we name (STARTTLS by "star").
 * Two verbs on one slot would not compile (-Woverride-init, -Werror). */
#define VERB(a, b, c, d, cmd) [SMTPW__VERB_HASH(P4(a, b, c, d))] = {P4(a, b, c, d), cmd}
const smtpw__verb smtpw__command_verbs[32] = {
    VERB('h', 'e', 'l', 'o', SMTPW_CMD_HELO), VERB('e', 'h', 'l', 'o', SMTPW_CMD_EHLO),
    VERB('m', 'a', 'i', 'l', SMTPW_CMD_MAIL), VERB('r', 'c', 'p', 't', SMTPW_CMD_RCPT),
    VERB('d', 'a', 't', 'a', SMTPW_CMD_DATA), VERB('r', 's', 'e', 't', SMTPW_CMD_RSET),
    VERB('n', 'o', 'o', 'p', SMTPW_CMD_NOOP), VERB('q', 'u', 'i', 't', SMTPW_CMD_QUIT),
    VERB('v', 'r', 'f', 'y', SMTPW_CMD_VRFY), VERB('e', 'x', 'p', 'n', SMTPW_CMD_EXPN),
    VERB('h', 'e', 'l', 'p', SMTPW_CMD_HELP), VERB('a', 'u', 't', 'h', SMTPW_CMD_AUTH),
    VERB('b', 'd', 'a', 't', SMTPW_CMD_BDAT), VERB('s', 'e', 'n', 'd', SMTPW_CMD_SEND),
    VERB('s', 'o', 'm', 'l', SMTPW_CMD_SOML), VERB('s', 'a', 'm', 'l', SMTPW_CMD_SAML),
    VERB('t', 'u', 'r', 'n', SMTPW_CMD_TURN), VERB('s', 't', 'a', 'r', SMTPW_CMD_STARTTLS),
};

static int lenient(const smtpw__grammar *g)
{
    return (g->flags & SMTPW_SERVER_LENIENT) != 0;
}

/* The refusals of the grammar.  No enhanced code on replies to HELO/EHLO
 * (RFC 2034 3). */
static const smtpw__refusal
    R_EHLO_SYNTAX = REFUSAL(501, NULL, "Syntax: EHLO hostname"),
    R_HELO_SYNTAX = REFUSAL(501, NULL, "Syntax: HELO hostname"),
    R_HELO_DOMAIN = REFUSAL(501, NULL, "Invalid domain name"),
    R_MAIL_SYNTAX = REFUSAL(501, "5.5.4", "Syntax: MAIL FROM:<address>"),
    R_RCPT_SYNTAX = REFUSAL(501, "5.5.4", "Syntax: RCPT TO:<address>"),
    R_MAIL_LONG = REFUSAL(501, "5.1.7", "Path too long"),
    R_RCPT_LONG = REFUSAL(501, "5.1.3", "Path too long"),
    R_MAIL_ADDR = REFUSAL(501, "5.1.7", "Bad sender address syntax"),
    R_RCPT_ADDR = REFUSAL(501, "5.1.3", "Bad recipient address syntax"),
    R_PARAMS = REFUSAL(501, "5.5.4", "Syntax error in parameters"),
    R_PARAMS_HELO = REFUSAL(555, "5.5.4", "Parameters need an EHLO session"),
    R_SIZE_DUP = REFUSAL(501, "5.5.4", "Duplicate SIZE parameter"),
    R_SIZE_BAD = REFUSAL(501, "5.5.4", "Invalid SIZE value"),
    R_SIZE_BIG = REFUSAL(552, "5.3.4", "Message size exceeds fixed maximum message size"),
    R_BODY_DUP = REFUSAL(501, "5.5.4", "Duplicate BODY parameter"),
    R_BODY_BAD = REFUSAL(501, "5.5.4", "Invalid BODY value"),
    R_UTF8_DUP = REFUSAL(501, "5.5.4", "Duplicate SMTPUTF8 parameter"),
    R_UTF8_VALUE = REFUSAL(501, "5.5.4", "SMTPUTF8 takes no value"),
    R_UTF8_NEEDED = REFUSAL(553, "5.6.7", "Non-ASCII address needs SMTPUTF8"),
    R_PARAM_UNKNOWN = REFUSAL(555, "5.5.4", "Unsupported parameter"),
    R_DATA_SYNTAX = REFUSAL(501, "5.5.4", "Syntax: DATA"),
    R_RSET_SYNTAX = REFUSAL(501, "5.5.4", "Syntax: RSET"),
    R_QUIT_SYNTAX = REFUSAL(501, "5.5.4", "Syntax: QUIT"),
    R_VRFY_SYNTAX = REFUSAL(501, "5.5.4", "Syntax: VRFY <string>"),
    R_EXPN_SYNTAX = REFUSAL(501, "5.5.4", "Syntax: EXPN <string>"),
    R_HELP_SYNTAX = REFUSAL(501, "5.5.4", "Syntax error in parameters or arguments"),
    R_TLS_SYNTAX = REFUSAL(501, "5.5.4", "Syntax: STARTTLS"),
    R_TLS_ACTIVE = REFUSAL(503, "5.5.1", "TLS already active"),
    R_NOT_IMPL = REFUSAL(502, "5.5.1", "Command not implemented"),
    R_UNKNOWN = REFUSAL(500, "5.5.1", "Command unrecognized");

static int helo_arg_ok(const smtpw__grammar *g, const char *a, size_t n)
{
    size_t i;
    if (a[0] == '[') {
        if (smtpw_address_literal_check(a, n, NULL) == 0)
            return 1;
    } else if (smtpw_domain_check(a, n,
                                  (g->flags & SMTPW_SERVER_SMTPUTF8) ? SMTPW_PARSE_UTF8 : 0) ==
               0) {
        return 1;
    }
    if (!lenient(g))
        return 0;
    for (i = 0; i < n; i++) /* one printable token */
        if ((unsigned char)a[i] <= ' ' || (unsigned char)a[i] >= 0x7f)
            return 0;
    return 1;
}

/* ESMTP parameters must be separated by exactly one space in the strict
 * profile (4.1.2 Mail-parameters): no SP first or last, no two in a row.
 * Eight bytes at a time: a byte is SP when it XORs to zero with 0x20, and
 * two neighbours inside a word are neighbours in either byte order; the
 * pair across two words is compared as bytes. */
static int params_spacing_ok(const char *p, size_t n)
{
    const uint64_t low7 = 0x7f7f7f7f7f7f7f7fu;
    size_t i = 0;
    if (n == 0 || p[0] == ' ' || p[n - 1] == ' ')
        return 0;
    for (; n - i >= 8; i += 8) {
        uint64_t x, sp;
        memcpy(&x, p + i, 8);
        x ^= 0x2020202020202020u;
        /* Bit 7 of each byte set exactly when that byte is zero (no carry
         * crosses bytes: each sum stays below 0x100). */
        sp = ~(((x & low7) + low7) | x | low7);
        if ((sp & (sp << 8)) != 0 || (i > 0 && p[i - 1] == ' ' && p[i] == ' '))
            return 0;
    }
    for (i = i ? i - 1 : 0; i + 1 < n; i++)
        if (p[i] == ' ' && p[i + 1] == ' ')
            return 0;
    return 1;
}

/* "FROM:" / "TO:", the path into ev->path, and the parameter text into
 * ev->params and *rest. */
static const smtpw__refusal *path_args(const smtpw__grammar *g, int rcpt, const char *a,
                                       size_t n, smtpw_event *ev, smtpw_span *rest)
{
    size_t i = rcpt ? 3 : 5, used = 0;
    uint32_t opt = rcpt ? SMTPW_PARSE_FORWARD : SMTPW_PARSE_REVERSE;
    int r;

    /* Letters fold with |0x20; the colon is compared as is. */
    if (rcpt ? n < 3 || (a[0] | 0x20) != 't' || (a[1] | 0x20) != 'o' || a[2] != ':'
             : n < 5 || load4_lower(a) != P4('f', 'r', 'o', 'm') || a[4] != ':')
        return rcpt ? &R_RCPT_SYNTAX : &R_MAIL_SYNTAX;
    if (lenient(g)) {
        opt |= SMTPW_PARSE_LENIENT;
        while (i < n && a[i] == ' ')
            i++;
    }
    /* UTF-8 is parsed whenever SMTPUTF8 is offered; a non-ASCII path
     * without the SMTPUTF8 parameter is refused 553 5.6.7 (RFC 6531 3.7.1). */
    if (g->flags & SMTPW_SERVER_SMTPUTF8)
        opt |= SMTPW_PARSE_UTF8;
    r = smtpw_path_parse(a + i, n - i, opt, &ev->path, &used);
    if (r == SMTPW_E_TOOLONG)
        return rcpt ? &R_RCPT_LONG : &R_MAIL_LONG;
    if (r != 0)
        return rcpt ? &R_RCPT_ADDR : &R_MAIL_ADDR;
    i += used;
    *rest = smtpw__span(a + n, 0);
    if (i < n) {
        if (a[i] != ' ')
            return rcpt ? &R_RCPT_ADDR : &R_MAIL_ADDR;
        i++;
        if (lenient(g)) {
            while (i < n && a[i] == ' ')
                i++;
        } else if (!params_spacing_ok(a + i, n - i)) {
            return &R_PARAMS;
        }
        *rest = smtpw__span(a + i, n - i);
    }
    ev->params = *rest;
    ev->arg = ev->path.raw;
    return NULL;
}

/* key is the 4-letter keyword w (P4, lower case), in any case. */
static int key_is(smtpw_span key, uint32_t w)
{
    return key.len == 4 && load4_lower(key.ptr) == w;
}

/* 1 to 20 ASCII digits: RFC 1870 5's size-value, whatever its magnitude. */
static int size_digits(smtpw_span v)
{
    size_t i;
    if (v.len == 0 || v.len > 20)
        return 0;
    for (i = 0; i < v.len; i++)
        if (v.ptr[i] < '0' || v.ptr[i] > '9')
            return 0;
    return 1;
}

const smtpw__refusal *smtpw__command_mail(const smtpw__grammar *g, const char *a, size_t n,
                                          smtpw_event *ev)
{
    const smtpw__refusal *no;
    smtpw_span rest, key, val;
    uint64_t size = 0;
    uint32_t f = 0;
    int r = 0;

    no = path_args(g, 0, a, n, ev, &rest);
    if (no)
        return no;
    /* An empty rest has no parameter: skip the call that would say so. */
    while (rest.len && (r = smtpw_param_next(&rest, &key, &val)) == 1) {
        if (!g->esmtp && !lenient(g))
            return &R_PARAMS_HELO;
        if (key_is(key, P4('s', 'i', 'z', 'e'))) { /* RFC 1870 */
            if (f & SMTPW_EVF_SIZE)
                return &R_SIZE_DUP;
            if (smtpw_parse_u64(val, &size) != 0)
                /* RFC 1870 5: size-value = 1*20DIGIT, so 2^64 and up are
                 * well formed, only larger than a uint64_t: that is a size
                 * over any limit (552, 6.1), not bad syntax.  Even with no
                 * limit configured: the core counts body octets in 64 bits
                 * and no store takes 2^64 of them, so we can never accept
                 * such a message, a permanent condition (552, not 452). */
                return size_digits(val) ? &R_SIZE_BIG : &R_SIZE_BAD;
            if (g->max_size && size > g->max_size)
                return &R_SIZE_BIG;
            f |= SMTPW_EVF_SIZE;
        } else if (key_is(key, P4('b', 'o', 'd', 'y')) && !(g->flags & SMTPW_SERVER_NO_8BITMIME)) {
            if (f & (SMTPW_EVF_7BIT | SMTPW_EVF_8BITMIME)) /* RFC 6152 */
                return &R_BODY_DUP;
            if (smtpw_span_ieq(val, "7BIT"))
                f |= SMTPW_EVF_7BIT;
            else if (smtpw_span_ieq(val, "8BITMIME"))
                f |= SMTPW_EVF_8BITMIME;
            else
                return &R_BODY_BAD;
        } else if (smtpw_span_ieq(key, "SMTPUTF8") && (g->flags & SMTPW_SERVER_SMTPUTF8)) {
            if (f & SMTPW_EVF_SMTPUTF8) /* RFC 6531 3.4 */
                return &R_UTF8_DUP;
            if (val.len)
                return &R_UTF8_VALUE;
            f |= SMTPW_EVF_SMTPUTF8;
        } else {
            return &R_PARAM_UNKNOWN;
        }
    }
    if (r < 0)
        return &R_PARAMS;
    if ((ev->path.flags & SMTPW_PATH_UTF8) && !(f & SMTPW_EVF_SMTPUTF8))
        return &R_UTF8_NEEDED;
    ev->size = size;
    ev->flags = f;
    return NULL;
}

const smtpw__refusal *smtpw__command_rcpt(const smtpw__grammar *g, const char *a, size_t n,
                                          smtpw_event *ev)
{
    const smtpw__refusal *no;
    smtpw_span rest, key, val;
    int r;

    no = path_args(g, 1, a, n, ev, &rest);
    if (no)
        return no;
    r = rest.len ? smtpw_param_next(&rest, &key, &val) : 0;
    if (r < 0)
        return &R_PARAMS;
    if (r > 0) /* no RCPT parameter is supported (yet) */
        return &R_PARAM_UNKNOWN;
    return NULL;
}

/* VRFY, EXPN and HELP hand their String (RFC 5321 4.1.1.6-8, 4.1.2) to the
 * application: printable ASCII and SP only, so no NUL, terminal escape or
 * other control byte reaches a log or a lookup. */
const smtpw__refusal *smtpw__command_parse_arg(const smtpw__command *c, const smtpw__grammar *g,
                                               smtpw_event *ev)
{
    const char *a = c->arg;
    size_t n = c->arglen;

    switch (c->cmd) {
    case SMTPW_CMD_HELO:
    case SMTPW_CMD_EHLO:
        if (n == 0)
            return c->cmd == SMTPW_CMD_EHLO ? &R_EHLO_SYNTAX : &R_HELO_SYNTAX;
        if (!helo_arg_ok(g, a, n))
            return &R_HELO_DOMAIN;
        ev->arg = smtpw__span(a, n);
        return NULL;
    case SMTPW_CMD_MAIL:
        return smtpw__command_mail(g, a, n, ev);
    case SMTPW_CMD_RCPT:
        return smtpw__command_rcpt(g, a, n, ev);
    case SMTPW_CMD_DATA: /* 4.1.1.4, 4.1.1.5, 4.1.1.10: no argument */
        return n || c->sep ? &R_DATA_SYNTAX : NULL;
    case SMTPW_CMD_RSET:
        return n || c->sep ? &R_RSET_SYNTAX : NULL;
    case SMTPW_CMD_QUIT:
        return n || c->sep ? &R_QUIT_SYNTAX : NULL;
    case SMTPW_CMD_NOOP: /* 4.1.1.9: any argument is ignored */
        return NULL;
    case SMTPW_CMD_VRFY:
    case SMTPW_CMD_EXPN:
        if (n == 0 || !smtpw__all_print(a, n))
            return c->cmd == SMTPW_CMD_VRFY ? &R_VRFY_SYNTAX : &R_EXPN_SYNTAX;
        ev->arg = smtpw__span(a, n);
        return NULL;
    case SMTPW_CMD_HELP:
        if (!smtpw__all_print(a, n))
            return &R_HELP_SYNTAX;
        ev->arg = smtpw__span(a, n);
        return NULL;
    case SMTPW_CMD_STARTTLS: /* RFC 3207 4 */
        if (!(g->flags & SMTPW_SERVER_STARTTLS))
            return &R_NOT_IMPL;
        if (g->tls)
            return &R_TLS_ACTIVE;
        return n || c->sep ? &R_TLS_SYNTAX : NULL;
    case SMTPW_CMD_AUTH:
    case SMTPW_CMD_BDAT:
    case SMTPW_CMD_SEND:
    case SMTPW_CMD_SOML:
    case SMTPW_CMD_SAML:
    case SMTPW_CMD_TURN:
        return &R_NOT_IMPL;
    default:
        return &R_UNKNOWN;
    }
}
