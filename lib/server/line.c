/* Command-line framing: only CRLF ends a line (RFC 5321 2.3.8), the
 * 512-octet limit (4.5.3.1.4), discard-to-CRLF for longer lines, resume
 * offsets.
 * SPDX-License-Identifier: MIT */
#include "server/line.h"

void smtpw__line_reset(smtpw__line *l)
{
    l->scan = 0;
    l->discard = 0;
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
int smtpw__line_slow(smtpw__line *l, const uint8_t *in, size_t len, size_t max,
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
    if (bare != SMTPW_BARE_KEEP && smtpw__line_first_cr_lf(in, end) != end)
        return SMTPW__LINE_BARE;
    return SMTPW__LINE_OK;
}
