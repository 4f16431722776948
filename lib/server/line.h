/* Command-line framing for the server core (RFC 5321 2.3.8, 4.1.1,
 * 4.5.3.1.4).  Never installed.  SPDX-License-Identifier: MIT */
#ifndef SMTPW_LINE_H
#define SMTPW_LINE_H

#include "internal.h"
#include "simd.h"

/* Framing state kept between calls: nothing of the line itself is copied. */
typedef struct smtpw__line {
    uint32_t scan;   /* leading bytes already searched for a CRLF, so they are not rescanned */
    uint8_t discard; /* inside an over-long line, dropping bytes up to its CRLF: 1, or 2
                        when the last byte dropped was a CR (the CRLF may straddle calls) */
} smtpw__line;

/* Results of smtpw__line_next() */
#define SMTPW__LINE_MORE 0    /* no complete line: *consumed is 0, or all of in while discarding */
#define SMTPW__LINE_OK 1      /* a line: content is in[0, *content), *consumed includes the ending */
#define SMTPW__LINE_TOOLONG 2 /* the end of an over-long line was consumed: answer 500 */
#define SMTPW__LINE_BARE 3    /* a bare CR or LF the policy refuses: the whole line up to its
                                 CRLF consumed (content as for OK), answer 500 */

/** Forget any partial scan (after the stream changes, e.g. STARTTLS). */
void smtpw__line_reset(smtpw__line *l);

/**
 * Find the next command line in in[0, len).  Only CRLF ends a line, under
 * every policy (RFC 5321 2.3.8), so we split the stream exactly where a
 * CRLF-splitting filter in front of us does.  max is the longest line
 * allowed including CRLF, counting any bare CR or LF in it.  bare is
 * SMTPW_BARE_*: REJECT and NORMALIZE refuse a line holding a bare CR or
 * LF, whole (SMTPW__LINE_BARE); KEEP returns it as an ordinary line with
 * the byte inside.  Never consumes a partial line, except the pieces of an
 * over-long one, which are dropped up to its CRLF without being buffered:
 * the caller never needs more than max bytes of buffer.
 */

/* Everything but a whole CRLF line at the start of in (line.c). */
int smtpw__line_slow(smtpw__line *l, const uint8_t *in, size_t len, size_t max, unsigned bare,
                     size_t *consumed, size_t *content);

/* Index of the first CR or LF in p[0, n), or n. */
static inline size_t smtpw__line_first_cr_lf(const uint8_t *p, size_t n)
{
    size_t k = 0;
#if defined(SMTPW_SIMD_SSE2)
    const __m128i cr = _mm_set1_epi8('\r'), lf = _mm_set1_epi8('\n');
    while (n - k >= 16) {
        __m128i x = _mm_loadu_si128((const __m128i *)(const void *)(p + k));
        unsigned m = (unsigned)_mm_movemask_epi8(
            _mm_or_si128(_mm_cmpeq_epi8(x, cr), _mm_cmpeq_epi8(x, lf)));
        if (m != 0)
            return k + smtpw__first_bit(m);
        k += 16;
    }
#endif
    while (k < n && p[k] != '\r' && p[k] != '\n')
        k++;
    return k;
}

/* Inline: every command comes through here, and the common line (its
 * first CR or LF is its CRLF) takes one pass and no call. */
static inline int smtpw__line_next(smtpw__line *l, const uint8_t *in, size_t len, size_t max,
                                   unsigned bare, size_t *consumed, size_t *content)
{
    size_t lim = len < max ? len : max;

    *consumed = 0;
    *content = 0;
    /* A resumed scan (scan <= lim) goes on from where it stopped instead. */
    if (!l->discard && (l->scan == 0 || l->scan > lim)) {
        size_t k = smtpw__line_first_cr_lf(in, lim);
        if (k + 1 < lim && in[k] == '\r' && in[k + 1] == '\n') {
            l->scan = 0; /* it may have been past a shorter re-presentation */
            *consumed = k + 2;
            *content = k;
            return SMTPW__LINE_OK;
        }
    }
    return smtpw__line_slow(l, in, len, max, bare, consumed, content);
}

#endif
