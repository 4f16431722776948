/* The server's command grammar (RFC 5321 4.1.1, 4.1.2; RFC 1870, 6152,
 * 6531, 3207): a command line in, a parsed command or the core's refusal
 * out.  No session state beyond what is passed in.  Never installed.
 * SPDX-License-Identifier: MIT */
#ifndef SMTPW_COMMAND_H
#define SMTPW_COMMAND_H

#include "internal.h"
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

/* What the grammar depends on. */
typedef struct smtpw__grammar {
    uint32_t flags;    /* SMTPW_SERVER_* */
    uint32_t esmtp;    /* the session was opened with EHLO */
    uint32_t tls;      /* TLS is active */
    uint64_t max_size; /* SIZE limit, 0 = none */
} smtpw__grammar;

/** Split line[0, n) (no CRLF) into the verb and its argument. */
void smtpw__command_split(const char *line, size_t n, uint32_t flags, smtpw__command *c);

/**
 * Check the argument of c against its command's grammar.  On success fills
 * what the event carries (arg; for MAIL and RCPT also path, params, and for
 * MAIL size and flags) and returns NULL; else returns the refusal (static
 * storage) and ev may hold parts of the parse.  MAIL/RCPT/DATA state rules,
 * the recipient limit and RCPT's SMTPUTF8 check belong to the session.
 */
const smtpw__refusal *smtpw__command_parse(const smtpw__command *c, const smtpw__grammar *g,
                                           smtpw_event *ev);

#endif
