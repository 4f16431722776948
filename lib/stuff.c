/* DATA body encoder, client side: dot-stuffing (RFC 5321 4.5.2) and CRLF
 * line ends (2.3.8).  Streaming, no hold-back buffer: a CR is written at
 * once and the state remembers that its LF is still owed.
 * SPDX-License-Identifier: MIT */
#include "stuff.h"

#include "smtpwire/common.h"

/*
 * Fast path.  A block of bytes can be copied unchanged when, for every
 * byte p[k] and its successor p[k+1]:
 *   - p[k] is CR exactly when p[k+1] is LF (no bare CR, no bare LF), and
 *   - not (p[k] is LF and p[k+1] is "."), no dot at a line start, and
 *   - p[k] < 0x80 unless 8-bit is allowed.
 * The successor check reaches one byte past the block, so a block needs
 * B + 1 input bytes.  The first byte's own LF/dot condition depends on
 * the byte before it: the caller only enters with a first byte that
 * cannot need work (see first_ok()).
 */
#if defined(__SSE2__) && !defined(SMTPW_NO_SIMD)
#include <emmintrin.h>
#define B 16u

#else
/* Portable SWAR: eight bytes per word, lane k of x is p[k] and of y is
 * p[k+1] on either byte order. */
#define B 8u
#define HIGH UINT64_C(0x8080808080808080)
#define ONES UINT64_C(0x0101010101010101)

static uint64_t load64(const uint8_t *p)
{
    uint64_t v;
    memcpy(&v, p, sizeof v);
    return v;
}

/* 0x80 in exactly the lanes of x that equal byte c (no false positives). */
static uint64_t eq(uint64_t x, unsigned c)
{
    uint64_t t = x ^ (ONES * c);
    return ~(((t & ~HIGH) + ~HIGH) | t) & HIGH;
}

static int dirty(const uint8_t *p, int allow8)
{
    uint64_t x = load64(p), y = load64(p + 1);
    uint64_t bad = (eq(x, '\r') ^ eq(y, '\n')) | (eq(x, '\n') & eq(y, '.'));
    if (!allow8)
        bad |= x & HIGH;
    return bad != 0;
}
#endif

#if defined(__SSE2__) && !defined(SMTPW_NO_SIMD)
/* Copy clean blocks; returns the count copied (the same in and out).
 * Most blocks hold no CR, LF or 8-bit byte at all: one compare pair
 * settles those; only blocks with a line end take the pair check. */
static size_t fast_copy(const uint8_t *in, size_t inlen, uint8_t *out, size_t outcap, int allow8)
{
    const __m128i cr_v = _mm_set1_epi8('\r'), lf_v = _mm_set1_epi8('\n'),
                  dot_v = _mm_set1_epi8('.');
    const __m128i hi_v = allow8 ? _mm_setzero_si128() : _mm_set1_epi8((char)0x80);
    size_t n = 0;
    while (n + B + 1 <= inlen && n + B <= outcap) {
        const __m128i x = _mm_loadu_si128((const __m128i *)(const void *)(in + n));
        const __m128i cr = _mm_cmpeq_epi8(x, cr_v), lf = _mm_cmpeq_epi8(x, lf_v);
        const __m128i hi = _mm_and_si128(x, hi_v);
        if (_mm_movemask_epi8(_mm_or_si128(_mm_or_si128(cr, lf), hi)) == 0) {
            _mm_storeu_si128((__m128i *)(void *)(out + n), x);
            n += B;
            /* the last byte was no CR: an LF right after it is bare */
            if (in[n] == '\n')
                break;
            continue;
        }
        {
            const __m128i y = _mm_loadu_si128((const __m128i *)(const void *)(in + n + 1));
            __m128i bad = _mm_xor_si128(cr, _mm_cmpeq_epi8(y, lf_v));
            bad = _mm_or_si128(bad, _mm_and_si128(lf, _mm_cmpeq_epi8(y, dot_v)));
            if (_mm_movemask_epi8(_mm_or_si128(bad, hi)) != 0)
                break;
        }
        _mm_storeu_si128((__m128i *)(void *)(out + n), x);
        n += B;
    }
    return n;
}
#else
/* Copy clean blocks; returns the count copied (the same in and out). */
static size_t fast_copy(const uint8_t *in, size_t inlen, uint8_t *out, size_t outcap, int allow8)
{
    size_t n = 0;
    while (n + 4 * B + 1 <= inlen && n + 4 * B <= outcap) {
        const uint8_t *p = in + n;
        if (dirty(p, allow8) | dirty(p + B, allow8) | dirty(p + 2 * B, allow8) |
            dirty(p + 3 * B, allow8))
            break;
        memcpy(out + n, p, 4 * B);
        n += 4 * B;
    }
    while (n + B + 1 <= inlen && n + B <= outcap && !dirty(in + n, allow8)) {
        memcpy(out + n, in + n, B);
        n += B;
    }
    return n;
}
#endif

/* May the fast path start at byte c in this state? */
static int first_ok(unsigned state, uint8_t c)
{
    if (c == '\n')
        return 0;
    if (state == SMTPW__STUFF_BOL)
        return c != '.';
    return state == SMTPW__STUFF_MID;
}

void smtpw__stuff_init(struct smtpw__stuffer *st, int allow8)
{
    st->state = SMTPW__STUFF_BOL; /* DATA starts at a line start */
    st->allow8 = allow8 ? 1u : 0u;
}

int smtpw__stuff_encode(struct smtpw__stuffer *st, const uint8_t *in, size_t inlen,
                        size_t *consumed, uint8_t *out, size_t outcap, size_t *written)
{
    size_t i = 0, w = 0, slow;
    unsigned s = st->state;
    int allow8 = st->allow8, rc = 0;

    *consumed = 0;
    *written = 0;
    if (outcap < 2)
        return SMTPW_E_NOBUF; /* a doubled dot or a CRLF must fit */
    while (i < inlen) {
        if (first_ok(s, in[i])) {
            size_t n = fast_copy(in + i, inlen - i, out + w, outcap - w, allow8);
            if (n) {
                i += n;
                w += n;
                s = in[i - 1] == '\r'   ? SMTPW__STUFF_CR
                    : in[i - 1] == '\n' ? SMTPW__STUFF_BOL
                                        : SMTPW__STUFF_MID;
                continue;
            }
        }
        /* Byte by byte over one block, then try the fast path again. */
        for (slow = 0; slow < B && i < inlen; slow++) {
            uint8_t c = in[i];
            if (s == SMTPW__STUFF_CR) {
                /* The LF owed to a written CR: the input's own LF, or one
                 * we add because the CR was bare. */
                if (w == outcap)
                    goto done;
                out[w++] = '\n';
                s = SMTPW__STUFF_BOL;
                if (c == '\n')
                    i++;
                continue;
            }
            if (c >= 0x80 && !allow8) {
                rc = SMTPW_E_8BIT;
                goto done;
            }
            if (c == '\r') {
                if (w == outcap)
                    goto done;
                out[w++] = '\r';
                s = SMTPW__STUFF_CR;
            } else if (c == '\n' || (c == '.' && s == SMTPW__STUFF_BOL)) {
                /* bare LF -> CRLF; a line-start dot is doubled (4.5.2) */
                if (outcap - w < 2)
                    goto done;
                out[w++] = c == '\n' ? '\r' : '.';
                out[w++] = c;
                s = c == '\n' ? SMTPW__STUFF_BOL : SMTPW__STUFF_MID;
            } else {
                if (w == outcap)
                    goto done;
                out[w++] = c;
                s = SMTPW__STUFF_MID;
            }
            i++;
        }
    }
done:
    st->state = (uint8_t)s;
    *consumed = i;
    *written = w;
    return rc;
}

size_t smtpw__stuff_end(struct smtpw__stuffer *st, uint8_t *out)
{
    size_t w = 0;
    /* 4.1.1.4: the CRLF ending the last line is the first half of the
     * end-of-data mark; add it only when the body did not end with one. */
    if (st->state == SMTPW__STUFF_CR)
        out[w++] = '\n';
    else if (st->state == SMTPW__STUFF_MID) {
        out[w++] = '\r';
        out[w++] = '\n';
    }
    out[w++] = '.';
    out[w++] = '\r';
    out[w++] = '\n';
    st->state = SMTPW__STUFF_BOL;
    return w;
}
