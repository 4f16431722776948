/* DATA body decoding for the server core: dot-unstuffing and end of data
 * (RFC 5321 4.1.1.4, 4.5.2), bare CR/LF policy (2.3.8), text line limit
 * (4.5.3.1.6).  Never installed.  SPDX-License-Identifier: MIT */
#ifndef SMTPW_UNSTUFF_H
#define SMTPW_UNSTUFF_H

#include "internal.h"

/* Position states.  Only a real CRLF leads to BOL: a bare CR or LF never
 * starts a line, so it can neither end the message nor unstuff a dot. */
#define SMTPW__US_BOL 0   /* at the start of a line */
#define SMTPW__US_MID 1   /* inside a line */
#define SMTPW__US_CR 2    /* a CR was consumed and not delivered yet */
#define SMTPW__US_DOT 3   /* a '.' at line start was consumed (terminator or dropped) */
#define SMTPW__US_DOTCR 4 /* ".\r" at line start consumed */

typedef struct smtpw__unstuff {
    uint32_t line;     /* octets of the current line so far, CRLF and stuffed dot not counted */
    uint32_t max_line; /* longest line including CRLF, 0 = unlimited */
    uint8_t state;     /* SMTPW__US_* */
    uint8_t policy;    /* SMTPW_BARE_* */
    uint8_t avx2;      /* the CPU has AVX2: the wider scan (simd.h) */
} smtpw__unstuff;

/* Results of smtpw__unstuff_next() */
#define SMTPW__UNSTUFF_MORE 0 /* nothing to deliver; *consumed may still be > 0 (held bytes) */
#define SMTPW__UNSTUFF_DATA 1 /* *out is message data (into in, or static CRLF bytes) */
#define SMTPW__UNSTUFF_END 2  /* CRLF "." CRLF: the message is complete */
#define SMTPW__UNSTUFF_BARE 3 /* REJECT policy met a bare CR or LF; the scan stays in sync */
#define SMTPW__UNSTUFF_LONG 4 /* a line is longer than max_line; the scan stays in sync */

/** Start a body: at the beginning of a line (DATA starts there, 4.1.1.4). */
void smtpw__unstuff_init(smtpw__unstuff *u, unsigned policy, uint32_t max_line);

/**
 * Decode the next piece of in[0, len).  Sets *consumed (always <= len) and,
 * for DATA, *out: a span into in or into static storage (a held CR given
 * back, or the CRLF a NORMALIZE policy puts for a bare byte).  END is only
 * reported for a terminator at the start of in (or completing held bytes),
 * so the caller can make room first (see smtpw__unstuff_may_end()).  Held
 * bytes are always a prefix of "\r" or ".\r": there is no hold buffer.
 * After BARE or LONG the state is in sync with the stream, so the caller can
 * go on scanning for the end with policy KEEP and no line limit.
 */
int smtpw__unstuff_next(smtpw__unstuff *u, const uint8_t *in, size_t len, size_t *consumed,
                        smtpw_span *out);

/** Non-zero when the next smtpw__unstuff_next(in, len) would return END. */
int smtpw__unstuff_may_end(const smtpw__unstuff *u, const uint8_t *in, size_t len);

#endif
