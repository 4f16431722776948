/* DATA body encoder, client side: dot-stuffing (RFC 5321 4.5.2) and CRLF
 * line ends (2.3.8).  Streaming, no hold-back buffer: a CR is written at
 * once and the state remembers that its LF is still owed.
 * SPDX-License-Identifier: MIT */
#include "client/stuff.h"

#include "simd.h"
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
#if defined(SMTPW_SIMD_SSE2)
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

#if defined(SMTPW_SIMD_SSE2)
/* The pair test of one 16-byte block at p (reads p[0..16]); 8-bit is
 * tested by the caller on x itself. */
#define PAIR_BAD(x, p)                                                                    \
    _mm_or_si128(_mm_xor_si128(_mm_cmpeq_epi8(x, cr_v),                                   \
                               _mm_cmpeq_epi8(_mm_loadu_si128((const __m128i *)(const void *)((p) + 1)), lf_v)), \
                 _mm_and_si128(_mm_cmpeq_epi8(x, lf_v),                                   \
                               _mm_cmpeq_epi8(_mm_loadu_si128((const __m128i *)(const void *)((p) + 1)), dot_v)))

/* Copy clean blocks; returns the count copied (the same in and out).
 * Branch-free over 64 bytes: text has a line end in most windows, so a
 * quick "no CR/LF here" branch would mispredict once per line. */
static size_t fast_copy(const uint8_t *in, size_t inlen, uint8_t *out, size_t outcap, int allow8)
{
    const __m128i cr_v = _mm_set1_epi8('\r'), lf_v = _mm_set1_epi8('\n'),
                  dot_v = _mm_set1_epi8('.');
    const __m128i hi_v = allow8 ? _mm_setzero_si128() : _mm_set1_epi8((char)0x80);
    size_t n = 0;
    while (n + 4 * B + 1 <= inlen && n + 4 * B <= outcap) {
        const uint8_t *p = in + n;
        const __m128i x0 = _mm_loadu_si128((const __m128i *)(const void *)p);
        const __m128i x1 = _mm_loadu_si128((const __m128i *)(const void *)(p + B));
        const __m128i x2 = _mm_loadu_si128((const __m128i *)(const void *)(p + 2 * B));
        const __m128i x3 = _mm_loadu_si128((const __m128i *)(const void *)(p + 3 * B));
        __m128i bad = _mm_or_si128(_mm_or_si128(PAIR_BAD(x0, p), PAIR_BAD(x1, p + B)),
                                   _mm_or_si128(PAIR_BAD(x2, p + 2 * B), PAIR_BAD(x3, p + 3 * B)));
        bad = _mm_or_si128(bad, _mm_and_si128(_mm_or_si128(_mm_or_si128(x0, x1), _mm_or_si128(x2, x3)),
                                              hi_v));
        if (_mm_movemask_epi8(bad) != 0)
            break;
        _mm_storeu_si128((__m128i *)(void *)(out + n), x0);
        _mm_storeu_si128((__m128i *)(void *)(out + n + B), x1);
        _mm_storeu_si128((__m128i *)(void *)(out + n + 2 * B), x2);
        _mm_storeu_si128((__m128i *)(void *)(out + n + 3 * B), x3);
        n += 4 * B;
    }
    while (n + B + 1 <= inlen && n + B <= outcap) {
        const __m128i x = _mm_loadu_si128((const __m128i *)(const void *)(in + n));
        unsigned m = (unsigned)_mm_movemask_epi8(
            _mm_or_si128(PAIR_BAD(x, in + n), _mm_and_si128(x, hi_v)));
        if (m != 0) {
            /* Every pair before the first bad lane is clean: copy up to
             * it, so the slow path only sees the byte that needs work. */
            size_t j = smtpw__first_bit(m);
            memcpy(out + n, in + n, j);
            return n + j;
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

/* AVX2, chosen at run time (simd.h); the stuffer records the choice at
 * init, so there is no global. */
#if defined(SMTPW_SIMD_AVX2)

#define PAIR_BAD32(x, p)                                                                  \
    _mm256_or_si256(                                                                      \
        _mm256_xor_si256(_mm256_cmpeq_epi8(x, cr32),                                      \
                         _mm256_cmpeq_epi8(_mm256_loadu_si256((const __m256i *)(const void *)((p) + 1)), lf32)), \
        _mm256_and_si256(_mm256_cmpeq_epi8(x, lf32),                                      \
                         _mm256_cmpeq_epi8(_mm256_loadu_si256((const __m256i *)(const void *)((p) + 1)), dot32)))

SMTPW_TARGET_AVX2 static size_t fast_copy_avx2(const uint8_t *in, size_t inlen,
                                                             uint8_t *out, size_t outcap,
                                                             int allow8)
{
    const __m256i cr32 = _mm256_set1_epi8('\r'), lf32 = _mm256_set1_epi8('\n'),
                  dot32 = _mm256_set1_epi8('.');
    const __m256i hi32 = allow8 ? _mm256_setzero_si256() : _mm256_set1_epi8((char)0x80);
    size_t n = 0;
    while (n + 64 + 1 <= inlen && n + 64 <= outcap) {
        const uint8_t *p = in + n;
        const __m256i x0 = _mm256_loadu_si256((const __m256i *)(const void *)p);
        const __m256i x1 = _mm256_loadu_si256((const __m256i *)(const void *)(p + 32));
        __m256i bad = _mm256_or_si256(PAIR_BAD32(x0, p), PAIR_BAD32(x1, p + 32));
        bad = _mm256_or_si256(bad, _mm256_and_si256(_mm256_or_si256(x0, x1), hi32));
        if (!_mm256_testz_si256(bad, bad))
            break;
        _mm256_storeu_si256((__m256i *)(void *)(out + n), x0);
        _mm256_storeu_si256((__m256i *)(void *)(out + n + 32), x1);
        n += 64;
    }
    return n;
}
#endif

/* Slow steps before the fast path is tried again.  The SSE2 path stops
 * right at the byte that needs work, so a few steps get past it; the
 * portable path stops at a block start and needs a whole block. */
#if defined(SMTPW_SIMD_SSE2)
#define SLOW_STEPS 4u
#else
#define SLOW_STEPS B
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
    st->avx2 = (uint8_t)smtpw__cpu_avx2();
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
            size_t n = 0;
#ifdef SMTPW_SIMD_AVX2
            if (st->avx2)
                n = fast_copy_avx2(in + i, inlen - i, out + w, outcap - w, allow8);
#endif
            n += fast_copy(in + i + n, inlen - i - n, out + w + n, outcap - w - n, allow8);
            if (n) {
                i += n;
                w += n;
                s = in[i - 1] == '\r'   ? SMTPW__STUFF_CR
                    : in[i - 1] == '\n' ? SMTPW__STUFF_BOL
                                        : SMTPW__STUFF_MID;
                continue;
            }
        }
        /* Byte by byte over the few bytes that need work (a line end and
         * what follows it), then try the fast path again. */
        for (slow = 0; slow < SLOW_STEPS && i < inlen; slow++) {
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
