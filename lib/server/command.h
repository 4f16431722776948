/* The server's command grammar (RFC 5321 4.1.1, 4.1.2; RFC 1870, 6152,
 * 6531, 3207): a command line in, a parsed command or the core's refusal
 * out.  No session state beyond what is passed in.  Never installed.
 * SPDX-License-Identifier: MIT */
#ifndef SMTPW_COMMAND_H
#define SMTPW_COMMAND_H

#include "internal.h"
#include "smtpwire/server.h"
#include "smtpwire/syntax.h"

/* A reply the core sends itself: code, enhanced code (NUL-terminated, or
 * NULL), text. */
typedef struct smtpw__refusal {
    uint16_t code;
    uint16_t len;
    const char *enh;
    const char *text;
} smtpw__refusal;

#define REFUSAL(code, enh, text) {code, sizeof(text) - 1, enh, text}

/* A command line split into verb and argument. */
typedef struct smtpw__command {
    uint32_t cmd;     /* SMTPW_CMD_*: UNKNOWN for a verb we do not know */
    uint32_t sep;     /* something (a SP) followed the verb */
    const char *line; /* the line without CRLF (lenient: trailing spaces dropped) */
    size_t len;
    const char *arg;  /* after the verb and its SP (lenient: all SPs) */
    size_t arglen;
} smtpw__command;

/* What the grammar depends on.  The server keeps one inside its state and
 * passes a pointer to it, so nothing is rebuilt per command. */
typedef struct smtpw__grammar {
    uint64_t max_size; /* SIZE limit, 0 = none */
    uint32_t flags;    /* SMTPW_SERVER_* */
    uint8_t esmtp;     /* the session was opened with EHLO */
    uint8_t tls;       /* TLS is active */
} smtpw__grammar;

#define SMTPW__P4(a, b, c, d) \
    ((uint32_t)(a) | (uint32_t)(b) << 8 | (uint32_t)(c) << 16 | (uint32_t)(d) << 24)

/* Four bytes, ASCII letters folded to lower case with |0x20, which maps no
 * other byte onto a letter. */
static inline uint32_t smtpw__command_load4(const char *p)
{
    const unsigned char *u = (const unsigned char *)p;
    return ((uint32_t)u[0] | (uint32_t)u[1] << 8 | (uint32_t)u[2] << 16 | (uint32_t)u[3] << 24) |
           0x20202020u;
}

/* The verbs, placed by a perfect hash of their first four bytes (folded):
 * one multiply, one load and one compare per command.  An empty slot has
 * word 0, which no folded load gives (every byte has 0x20 set). */
#define SMTPW__VERB_HASH(w) ((uint32_t)((uint32_t)(w) * 0x5add92d1u) >> 27)
typedef struct smtpw__verb {
    uint32_t word; /* SMTPW__P4 of the verb's first four letters */
    uint32_t cmd;  /* SMTPW_CMD_* */
} smtpw__verb;
extern const smtpw__verb smtpw__command_verbs[32];

/* The verb of line[0, n) (RFC 5321 4.1.1: case-insensitive, ended by SP or
 * the line end); *vlen receives its length. */
static inline uint32_t smtpw__command_verb(const char *L, size_t n, size_t *vlen)
{
    const smtpw__verb *v;
    uint32_t w, cmd;
    *vlen = 4;
    if (n < 4)
        return SMTPW_CMD_UNKNOWN;
    w = smtpw__command_load4(L);
    v = &smtpw__command_verbs[SMTPW__VERB_HASH(w)];
    cmd = v->word == w ? v->cmd : SMTPW_CMD_UNKNOWN;
    if (cmd == SMTPW_CMD_STARTTLS) {
        if (n >= 8 && smtpw__command_load4(L + 4) == SMTPW__P4('t', 't', 'l', 's'))
            *vlen = 8;
        else
            cmd = SMTPW_CMD_UNKNOWN;
    }
    if (n > *vlen && L[*vlen] != ' ')
        return SMTPW_CMD_UNKNOWN;
    return cmd;
}

/* Split line[0, n) (no CRLF) into the verb and its argument.  Inline: every
 * command goes through it, and the server keeps the parts in registers. */
static inline void smtpw__command_split(const char *L, size_t n, uint32_t flags,
                                        smtpw__command *c)
{
    size_t vlen, i;
    int len = (flags & SMTPW_SERVER_LENIENT) != 0;
    if (len)
        while (n > 0 && L[n - 1] == ' ')
            n--;
    c->line = L;
    c->len = n;
    c->cmd = smtpw__command_verb(L, n, &vlen);
    i = n > vlen ? vlen + 1 : n; /* the argument, after one SP */
    if (len)
        while (i < n && L[i] == ' ')
            i++;
    c->sep = i > vlen;
    c->arg = L + i;
    c->arglen = n - i;
}

/**
 * Check the argument of c against its command's grammar.  On success fills
 * what the event carries (arg; for MAIL and RCPT also path, params, and for
 * MAIL size and flags) and returns NULL; else returns the refusal (static
 * storage) and ev may hold parts of the parse.  MAIL/RCPT/DATA state rules,
 * the recipient limit and RCPT's SMTPUTF8 check belong to the session.
 */
const smtpw__refusal *smtpw__command_parse_arg(const smtpw__command *c, const smtpw__grammar *g,
                                               smtpw_event *ev);

/* The argument of MAIL (RFC 5321 4.1.1.2) and RCPT (4.1.1.3) a[0, n), as
 * smtpw__command_parse_arg() checks it: the hot commands, called directly. */
const smtpw__refusal *smtpw__command_mail(const smtpw__grammar *g, const char *a, size_t n,
                                          smtpw_event *ev);
const smtpw__refusal *smtpw__command_rcpt(const smtpw__grammar *g, const char *a, size_t n,
                                          smtpw_event *ev);

/* smtpw__command_parse_arg(), with MAIL and RCPT called directly and the
 * commands that take no argument answered inline: nothing after their verb, not even a SP (4.1.1.4,
 * 4.1.1.5, 4.1.1.10), and NOOP ignores its argument (4.1.1.9).  Without a
 * SP after the verb the argument is empty, so sep alone decides. */
static inline const smtpw__refusal *smtpw__command_parse(const smtpw__command *c,
                                                         const smtpw__grammar *g, smtpw_event *ev)
{
    switch (c->cmd) {
    case SMTPW_CMD_MAIL:
        return smtpw__command_mail(g, c->arg, c->arglen, ev);
    case SMTPW_CMD_RCPT:
        return smtpw__command_rcpt(g, c->arg, c->arglen, ev);
    case SMTPW_CMD_DATA:
    case SMTPW_CMD_RSET:
    case SMTPW_CMD_QUIT:
        if (SMTPW_LIKELY(!c->sep))
            return NULL;
        break;
    case SMTPW_CMD_NOOP:
        return NULL;
    default:
        break;
    }
    return smtpw__command_parse_arg(c, g, ev);
}

#endif
