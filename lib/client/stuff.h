/* Client side DATA body encoder (RFC 5321 4.5.2 dot-stuffing, 2.3.8 line
 * ends).  Never installed.  SPDX-License-Identifier: MIT */
#ifndef SMTPW_STUFF_H
#define SMTPW_STUFF_H

#include "internal.h"

#define SMTPW__STUFF_BOL 0u     /* at a line start: a "." here is doubled */
#define SMTPW__STUFF_MID 1u     /* inside a line */
#define SMTPW__STUFF_CR 2u      /* a CR was written; its LF was not yet */

struct smtpw__stuffer {
    uint8_t state;  /* SMTPW__STUFF_* */
    uint8_t allow8; /* 8-bit bytes allowed (BODY=8BITMIME was sent) */
    uint8_t avx2;   /* the CPU has AVX2: the wider fast path */
};

void smtpw__stuff_init(struct smtpw__stuffer *st, int allow8);

/*
 * Encode in into out: "." doubled at line starts, bare CR and bare LF
 * written as CRLF, everything else copied.  Consumes as much as fits.
 * Needs outcap >= 2 (SMTPW_E_NOBUF otherwise, nothing done).  Returns 0,
 * or SMTPW_E_8BIT at a byte >= 0x80 when !allow8 (*consumed stops before it).
 */
int smtpw__stuff_encode(struct smtpw__stuffer *st, const uint8_t *in, size_t inlen,
                        size_t *consumed, uint8_t *out, size_t outcap, size_t *written);

/*
 * The end of data: CRLF when the last line is open (or the LF of a written
 * CR), then ".\r\n" (4.1.1.4).  Writes at most 5 bytes; returns the count.
 */
size_t smtpw__stuff_end(struct smtpw__stuffer *st, uint8_t *out);

#endif
