/* Command-line framing: CRLF (RFC 5321 2.3.8), the 512-octet limit
 * (4.5.3.1.4), discard-to-LF for longer lines, resume offsets.
 * SPDX-License-Identifier: MIT */
#include "line.h"

#include "simd.h"

void smtpw__line_reset(smtpw__line *l)
{
    l->scan = 0;
    l->discard = 0;
}

/* Index of the first CR or LF in p[0, n), or n. */
static size_t first_cr_lf(const uint8_t *p, size_t n)
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

/* Everything but a whole CRLF line at the start of in: over-long lines,
 * bare CR or LF, partial lines and their resumed scans. */
static SMTPW_NOINLINE int line_slow(smtpw__line *l, const uint8_t *in, size_t len, size_t max,
                                    unsigned bare, size_t *consumed, size_t *content)
{
    const uint8_t *lf;
    size_t from, lim, end;

    if (l->discard) {
        lf = len ? (const uint8_t *)memchr(in, '\n', len) : NULL;
        if (lf == NULL) {
            *consumed = len;
            return SMTPW__LINE_MORE;
        }
        *consumed = (size_t)(lf - in) + 1;
        l->discard = 0;
        return SMTPW__LINE_TOOLONG;
    }

    /* Only the first max bytes can hold the LF of an acceptable line. */
    lim = len < max ? len : max;
    from = l->scan <= lim ? l->scan : 0; /* a shorter re-presentation: rescan */
    lf = lim > from ? (const uint8_t *)memchr(in + from, '\n', lim - from) : NULL;
    if (lf == NULL) {
        if (len < max) {
            l->scan = (uint32_t)len;
            return SMTPW__LINE_MORE;
        }
        /* The line cannot fit: drop it up to its LF, in pieces if need be. */
        l->scan = 0;
        lf = len > max ? (const uint8_t *)memchr(in + max, '\n', len - max) : NULL;
        if (lf == NULL) {
            l->discard = 1;
            *consumed = len;
            return SMTPW__LINE_MORE;
        }
        *consumed = (size_t)(lf - in) + 1;
        return SMTPW__LINE_TOOLONG;
    }

    l->scan = 0;
    end = (size_t)(lf - in); /* index of the LF */
    *consumed = end + 1;
    if (end > 0 && in[end - 1] == '\r') {
        end--;
    } else if (bare == SMTPW_BARE_REJECT) {
        return SMTPW__LINE_BARE; /* bare LF (RFC 5321 2.3.8) */
    }
    /* A CR inside the line is never a line end: that would let one line
     * smuggle a second command past whatever checked the first. */
    if (bare != SMTPW_BARE_KEEP && end > 0 && memchr(in, '\r', end) != NULL)
        return SMTPW__LINE_BARE;
    *content = end;
    return SMTPW__LINE_OK;
}

int smtpw__line_next(smtpw__line *l, const uint8_t *in, size_t len, size_t max, unsigned bare,
                     size_t *consumed, size_t *content)
{
    size_t lim = len < max ? len : max;

    *consumed = 0;
    *content = 0;
    /* The common line, in one pass: its first CR or LF is its CRLF.  A
     * resumed scan (scan <= lim) goes on from where it stopped instead. */
    if (!l->discard && (l->scan == 0 || l->scan > lim)) {
        size_t k = first_cr_lf(in, lim);
        if (k + 1 < lim && in[k] == '\r' && in[k + 1] == '\n') {
            l->scan = 0; /* it may have been past a shorter re-presentation */
            *consumed = k + 2;
            *content = k;
            return SMTPW__LINE_OK;
        }
    }
    return line_slow(l, in, len, max, bare, consumed, content);
}
