/* Client side reply-line reader (RFC 5321 4.2).  Never installed.
 * SPDX-License-Identifier: MIT */
#ifndef SMTPW_REPLY_READ_H
#define SMTPW_REPLY_READ_H

#include "internal.h"

/* One reply line, found whole in the caller's bytes. */
struct smtpw__rline {
    size_t len;      /* line length without the CRLF */
    size_t consumed; /* len + 2 */
    uint32_t code;   /* 200..599 */
    int last;        /* "xyz " or bare "xyz": the reply's final line */
    size_t text_off; /* where the text starts in the line (3 or 4) */
};

/*
 * Find and check one reply line at the start of in.  Only a line ending
 * in CRLF is accepted; a bare LF, a CR inside the line, any other control
 * byte except HT, a line longer than maxline octets (CRLF included), a
 * code outside Reply-code = %x32-35 %x30-35 %x30-39, or a fourth octet
 * other than SP or "-" are protocol errors.
 * Returns 1 (line found, *out filled), 0 (no whole line yet, maxline not
 * reached) or SMTPW_E_PROTO.  Reads at most maxline bytes of in.
 */
int smtpw__reply_line(const uint8_t *in, size_t inlen, size_t maxline, struct smtpw__rline *out);

/*
 * Split an RFC 3463 enhanced status code off the start of reply text: it
 * counts only when its class equals the reply's first digit and it is
 * followed by SP or the end of the text.  Sets *skip to the octets to
 * drop (code and one SP).  Returns 1 when found, else 0.
 */
int smtpw__reply_enhanced(const char *text, size_t len, uint32_t code, uint32_t *cls,
                          uint32_t *subject, uint32_t *detail, size_t *skip);

#endif
