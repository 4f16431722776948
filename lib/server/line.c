/* Command-line framing: only CRLF ends a line (RFC 5321 2.3.8), the
 * 512-octet limit (4.5.3.1.4), discard-to-CRLF for longer lines, resume
 * offsets.
 * SPDX-License-Identifier: MIT */
#include "server/line.h"

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

/* Index of the LF of the first CRLF whose LF lies in p[from, to), or to.
 * Bare LFs on the way are passed over: they end nothing (RFC 5321 2.3.8).
 * cr_before says whether the byte before p[0] was a CR (the discard path,
 * which drops its input in pieces). */
static size_t crlf_from(const uint8_t *p, size_t from, size_t to, int cr_before)
{
    while (from < to) {
        const uint8_t *lf = (const uint8_t *)memchr(p + from, '\n', to - from);
        size_t j;
        if (lf == NULL)
            break;
        j = (size_t)(lf - p);
        if (j > 0 ? p[j - 1] == '\r' : cr_before)
            return j;
        from = j + 1;
    }
    return to;
}

/* Everything but a whole CRLF line at the start of in: over-long lines,
 * bare CR or LF, partial lines and their resumed scans.
 *
 * Only CRLF ends a line, whatever the policy: a filter or proxy in front
 * that splits at CRLF must see the same lines we do, or a bare LF could
 * slip a second command past it (RFC 5321 2.3.8, the command-line cousin
 * of SMTP smuggling).  A bare CR or LF is judged only once the line's
 * CRLF is here, so a refusal covers the whole line and nothing behind a
 * bare LF ever runs; until then the line limit counts every byte. */
static SMTPW_NOINLINE int line_slow(smtpw__line *l, const uint8_t *in, size_t len, size_t max,
                                    unsigned bare, size_t *consumed, size_t *content)
{
    size_t from, lim, j, end;

    if (l->discard) {
        /* Inside an over-long line: drop everything up to its CRLF, which
         * may straddle two calls (discard == 2: we dropped the CR). */
        j = crlf_from(in, 0, len, l->discard == 2);
        if (j == len) {
            if (len)
                l->discard = in[len - 1] == '\r' ? 2 : 1;
            *consumed = len;
            return SMTPW__LINE_MORE;
        }
        *consumed = j + 1;
        l->discard = 0;
        return SMTPW__LINE_TOOLONG;
    }

    /* Only the first max bytes can hold the CRLF of an acceptable line. */
    lim = len < max ? len : max;
    from = l->scan <= lim ? l->scan : 0; /* a shorter re-presentation: rescan */
    j = crlf_from(in, from, lim, 0);
    if (j == lim) {
        if (len < max) {
            /* The LF of a CR at lim-1 will be looked at next time, with
             * its CR still in front of it: scan stops at len, not before. */
            l->scan = (uint32_t)len;
            return SMTPW__LINE_MORE;
        }
        /* The line cannot fit: drop it up to its CRLF, in pieces if need
         * be.  A bare LF does not end it either (4.5.3.1.4, 2.3.8). */
        l->scan = 0;
        j = crlf_from(in, max, len, 0);
        if (j == len) {
            l->discard = in[len - 1] == '\r' ? 2 : 1;
            *consumed = len;
            return SMTPW__LINE_MORE;
        }
        *consumed = j + 1;
        return SMTPW__LINE_TOOLONG;
    }

    l->scan = 0;
    *consumed = j + 1;
    end = j - 1; /* the CR of the CRLF */
    *content = end;
    /* A bare CR or LF inside the line: REJECT and NORMALIZE refuse the
     * whole line (one 500).  Normalizing it into a line end is exactly
     * what would split one line into two, and into a space would need a
     * copy of the line, which the core never makes; so for command lines
     * NORMALIZE is REJECT.  KEEP leaves the byte in the line, where the
     * grammar refuses it (no path, parameter, domain or VRFY/EXPN/HELP
     * argument takes a control byte). */
    if (bare != SMTPW_BARE_KEEP && first_cr_lf(in, end) != end)
        return SMTPW__LINE_BARE;
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
