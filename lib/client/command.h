/* Client command lines: argument checks and rendering (RFC 5321 4.1.1,
 * 4.5.3.1.4).  No state: client.c decides what may be sent.  Never
 * installed.  SPDX-License-Identifier: MIT */
#ifndef SMTPW_CLIENT_COMMAND_H
#define SMTPW_CLIENT_COMMAND_H

#include "internal.h"

#include "smtpwire/syntax.h"

/* A command line under construction; never longer than 4.5.3.1.4 allows.
 * Writes past the limit set `over` and are dropped. */
struct smtpw__cmdline {
    size_t len;
    int over;
    char buf[SMTPW_MAX_COMMAND_LINE];
};

/* Inline: every command goes through these (NOOP is a hot path). */
static inline void smtpw__cmd_put(struct smtpw__cmdline *l, const char *s, size_t n)
{
    if (l->over || n > sizeof l->buf - l->len) {
        l->over = 1;
        return;
    }
    memcpy(l->buf + l->len, s, n);
    l->len += n;
}

static inline void smtpw__cmd_put_str(struct smtpw__cmdline *l, const char *s)
{
    smtpw__cmd_put(l, s, strlen(s));
}

/* Start a line with its verb ("MAIL FROM:", "EHLO "...). */
static inline void smtpw__cmd_start(struct smtpw__cmdline *l, const char *verb)
{
    l->len = 0;
    l->over = 0;
    smtpw__cmd_put_str(l, verb);
}

void smtpw__cmd_put_u64(struct smtpw__cmdline *l, uint64_t v);

/* EHLO/HELO argument: a Domain or an address literal (4.1.1.1).  Returns
 * 0, SMTPW_E_INVALID_ARG (NULL with a length, control bytes) or the
 * grammar's error (SMTPW_E_SYNTAX for an empty one). */
int smtpw__cmd_check_domain(const char *d, size_t len);

/* Append the path of addr (quoted as needed, RFC 5321 4.1.2); UTF-8
 * allowed when utf8 (RFC 6531 3.3).  SMTPW_E_TOOLONG past 4.5.3.1.3. */
int smtpw__cmd_put_path(struct smtpw__cmdline *l, const char *addr, size_t len, int utf8);

/* Append caller parameters "KEY[=VALUE] ..." single-spaced after checking
 * each one; on MAIL, SIZE, BODY and SMTPUTF8 are SMTPW_E_INVALID_ARG
 * (they come from the mail() arguments). */
int smtpw__cmd_put_params(struct smtpw__cmdline *l, const char *params, size_t plen, int utf8,
                          int is_mail);

#endif
