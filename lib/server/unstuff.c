/* DATA body decoding: dot-unstuffing, CRLF "." CRLF only (RFC 5321
 * 4.1.1.4, 4.5.2), bare CR/LF policy (2.3.8; the SMTP smuggling family,
 * CVE-2023-51764), text line limit (4.5.3.1.6).
 *
 * Zero copy: data is handed out as spans into the caller's input, cut only
 * around a stuffed dot or a byte the policy rewrites.  Bulk data goes
 * through a wide pair check (SSE2, AVX2 when the CPU has it, else plain C
 * that compilers vectorize); bytes are handled one by one only around
 * something special.
 * SPDX-License-Identifier: MIT */
#include "server/unstuff.h"

#include "simd.h"

/* Static bytes for a held CR given back, or a bare byte normalized. */
static const char crlf[2] = {'\r', '\n'};

#define BLOCK 64

void smtpw__unstuff_init(smtpw__unstuff *u, unsigned policy, uint32_t max_line)
{
    u->line = 0;
    u->max_line = max_line;
    u->state = SMTPW__US_BOL;
    u->policy = (uint8_t)policy;
    u->avx2 = (uint8_t)smtpw__cpu_avx2();
}

int smtpw__unstuff_may_end(const smtpw__unstuff *u, const uint8_t *in, size_t len)
{
    switch (u->state) {
    case SMTPW__US_BOL:
        return len >= 3 && in[0] == '.' && in[1] == '\r' && in[2] == '\n';
    case SMTPW__US_DOT:
        return len >= 2 && in[0] == '\r' && in[1] == '\n';
    case SMTPW__US_DOTCR:
        return len >= 1 && in[0] == '\n';
    default:
        return 0;
    }
}

/* Non-zero when one more content octet would make the line too long,
 * counting the CRLF it must still end with. */
static int full(const smtpw__unstuff *u)
{
    return u->max_line != 0 && (uint64_t)u->line + 3 > u->max_line;
}

/* The held CR turned out to be bare (not followed by LF). */
static int held_bare(smtpw__unstuff *u, smtpw_span *out)
{
    u->state = SMTPW__US_MID;
    switch (u->policy) {
    case SMTPW_BARE_NORMALIZE:
        u->line = 0;
        *out = smtpw__span(crlf, 2);
        return SMTPW__UNSTUFF_DATA;
    case SMTPW_BARE_KEEP:
        if (full(u))
            return SMTPW__UNSTUFF_LONG;
        u->line++;
        *out = smtpw__span(crlf, 1);
        return SMTPW__UNSTUFF_DATA;
    default:
        return SMTPW__UNSTUFF_BARE;
    }
}

/*
 * The fast path skips runs of bytes that need no work: every CR followed
 * by LF and every LF preceded by CR (tested as "p[k-1] is CR" == "p[k] is
 * LF", which also pairs p[-1] with p[0]), and no '.' after an LF.  Each
 * clean_run() returns how many leading bytes of p[0, n) pass that pair
 * test, reading p[-1]: with SIMD the exact count, portably a multiple of
 * BLOCK (the slow path then takes the dirty block byte by byte).
 */
#if defined(SMTPW_SIMD_SSE2)
#define SLOW_STEPS 4 /* the run stops right at the byte that needs work */

/* Lanes of p[0, 16) whose pair with the byte before needs work. */
#define PAIR_BAD(p)                                                                         \
    pair_bad(_mm_loadu_si128((const __m128i *)(const void *)((p)-1)),                       \
             _mm_loadu_si128((const __m128i *)(const void *)(p)))

static inline __m128i pair_bad(__m128i pr, __m128i c)
{
    const __m128i cr = _mm_set1_epi8('\r'), lf = _mm_set1_epi8('\n'), dot = _mm_set1_epi8('.');
    return _mm_or_si128(_mm_xor_si128(_mm_cmpeq_epi8(pr, cr), _mm_cmpeq_epi8(c, lf)),
                        _mm_and_si128(_mm_cmpeq_epi8(pr, lf), _mm_cmpeq_epi8(c, dot)));
}

static size_t clean_run(const uint8_t *p, size_t n)
{
    size_t k = 0;
    unsigned m;
    /* 64 bytes a round with one test; text has a line end in most rounds,
     * so a "no CR/LF here" branch would only mispredict. */
    while (n - k >= 64) {
        const uint8_t *q = p + k;
        __m128i bad = _mm_or_si128(_mm_or_si128(PAIR_BAD(q), PAIR_BAD(q + 16)),
                                   _mm_or_si128(PAIR_BAD(q + 32), PAIR_BAD(q + 48)));
        if (_mm_movemask_epi8(bad) != 0)
            break;
        k += 64;
    }
    while (n - k >= 16) {
        m = (unsigned)_mm_movemask_epi8(PAIR_BAD(p + k));
        if (m != 0)
            return k + smtpw__first_bit(m);
        k += 16;
    }
    return k;
}

#if defined(SMTPW_SIMD_AVX2)
static SMTPW_TARGET_AVX2 inline __m256i pair_bad32(const uint8_t *p)
{
    const __m256i cr = _mm256_set1_epi8('\r'), lf = _mm256_set1_epi8('\n'),
                  dot = _mm256_set1_epi8('.');
    const __m256i pr = _mm256_loadu_si256((const __m256i *)(const void *)(p - 1));
    const __m256i c = _mm256_loadu_si256((const __m256i *)(const void *)p);
    return _mm256_or_si256(_mm256_xor_si256(_mm256_cmpeq_epi8(pr, cr), _mm256_cmpeq_epi8(c, lf)),
                           _mm256_and_si256(_mm256_cmpeq_epi8(pr, lf), _mm256_cmpeq_epi8(c, dot)));
}

/* 128 bytes a round; clean_run() finds the exact stop in a dirty round. */
static SMTPW_TARGET_AVX2 size_t clean_run_avx2(const uint8_t *p, size_t n)
{
    size_t k = 0;
    while (n - k >= 128) {
        const uint8_t *q = p + k;
        __m256i bad = _mm256_or_si256(_mm256_or_si256(pair_bad32(q), pair_bad32(q + 32)),
                                      _mm256_or_si256(pair_bad32(q + 64), pair_bad32(q + 96)));
        if (!_mm256_testz_si256(bad, bad))
            break;
        k += 128;
    }
    return k;
}
#endif

#else
#define SLOW_STEPS BLOCK

/* Non-zero when the pairs of p[0, n) are clean; n is a multiple of 16 and
 * a constant at each call.  Branch-free plain C that compilers turn into
 * vector compares.  The two spellings compute the same thing: gcc
 * vectorizes the first best; clang sees p[k-1] as a recurrence there and
 * needs the 16-lane form (about 10x faster). */
static int block_clean(const uint8_t *p, int n)
{
#if defined(__clang__)
    uint8_t bad[16];
    int k, j;
    for (j = 0; j < 16; j++)
        bad[j] = 0;
    for (k = 0; k < n; k += 16)
        for (j = 0; j < 16; j++) {
            uint8_t c = p[k + j], pr = p[k + j - 1];
            bad[j] |= (uint8_t)(((pr == '\r') ^ (c == '\n')) | ((pr == '\n') & (c == '.')));
        }
    for (j = 1; j < 16; j++)
        bad[0] |= bad[j];
    return bad[0] == 0;
#else
    unsigned char bad = 0;
    int k;
    for (k = 0; k < n; k++) {
        unsigned char c = p[k], pr = p[k - 1];
        bad |= (unsigned char)(-(pr == '\r') ^ -(c == '\n'));
        bad |= (unsigned char)(-(pr == '\n') & -(c == '.'));
    }
    return bad == 0;
#endif
}

static size_t clean_run(const uint8_t *p, size_t n)
{
    size_t k = 0;
    /* Two blocks a round (halves the reduction work); a dirty pair of
     * blocks may still start with a clean one (keeps text fast). */
    while (n - k >= 2 * BLOCK && block_clean(p + k, 2 * BLOCK))
        k += 2 * BLOCK;
    if (n - k >= BLOCK && block_clean(p + k, BLOCK))
        k += BLOCK;
    return k;
}
#endif

/* Bytes after the last LF of p[0, n), or n + 1 when there is none. */
static size_t after_last_lf(const uint8_t *p, size_t n)
{
    size_t k = n;
    while (k > 0 && p[k - 1] != '\n')
        k--;
    return k ? n - k : n + 1;
}

static int deliver(size_t s, size_t i, const uint8_t *in, size_t *consumed, smtpw_span *out)
{
    *consumed = i;
    if (i == s)
        return SMTPW__UNSTUFF_MORE;
    *out = smtpw__span((const char *)in + s, i - s);
    return SMTPW__UNSTUFF_DATA;
}

int smtpw__unstuff_next(smtpw__unstuff *u, const uint8_t *in, size_t len, size_t *consumed,
                        smtpw_span *out)
{
    size_t i = 0, s, stop;

    *consumed = 0;
    out->ptr = NULL;
    out->len = 0;

    /* Bytes held from the previous piece, and a line starting with '.'. */
    for (;;) {
        if (u->state == SMTPW__US_MID)
            break;
        if (i == len) {
            *consumed = i;
            return SMTPW__UNSTUFF_MORE;
        }
        switch (u->state) {
        case SMTPW__US_CR:
            if (in[i] == '\n') {
                u->state = SMTPW__US_BOL;
                u->line = 0;
                *consumed = i + 1;
                *out = smtpw__span(crlf, 2);
                return SMTPW__UNSTUFF_DATA;
            }
            *consumed = i;
            return held_bare(u, out);
        case SMTPW__US_DOT:
            if (in[i] == '\r') {
                i++;
                u->state = SMTPW__US_DOTCR;
                continue;
            }
            u->state = SMTPW__US_MID; /* a stuffed dot: dropped (4.5.2) */
            break;
        case SMTPW__US_DOTCR:
            if (in[i] == '\n') {
                u->state = SMTPW__US_BOL;
                u->line = 0;
                *consumed = i + 1;
                return SMTPW__UNSTUFF_END;
            }
            *consumed = i; /* the dot is dropped, the CR is bare */
            return held_bare(u, out);
        default: /* BOL */
            if (in[i] == '.') {
                i++;
                u->state = SMTPW__US_DOT;
                continue;
            }
            break;
        }
        break;
    }

    s = i;
    while (i < len) {
        /* Fast path: a clean run.  It reads in[i - 1], so the first byte
         * of a call goes the slow way; with a line limit, it stops where
         * the current line could reach it. */
        size_t n = 0;
        if (i > 0) {
            size_t lim = len - i;
            if (u->max_line != 0) {
                uint64_t room = (uint64_t)u->line + 2 < u->max_line
                                    ? (uint64_t)u->max_line - u->line - 2 : 0;
                if (room < lim)
                    lim = (size_t)room;
            }
#if defined(SMTPW_SIMD_AVX2)
            if (u->avx2)
                n = clean_run_avx2(in + i, lim);
#endif
            n += clean_run(in + i + n, lim - n);
            /* A CR ending the run is paired with an LF not yet checked:
             * leave it to the slow path. */
            if (n && in[i + n - 1] == '\r')
                n--;
        }
        if (n) {
            if (u->max_line) {
                size_t a = after_last_lf(in + i, n);
                u->line = a > n ? u->line + (uint32_t)n : (uint32_t)a;
            }
            i += n;
            u->state = in[i - 1] == '\n' ? SMTPW__US_BOL : SMTPW__US_MID;
            continue;
        }
        stop = len - i > SLOW_STEPS ? i + SLOW_STEPS : len;

        /* Slow path, one byte at a time up to stop. */
        while (i < stop) {
            unsigned char c = in[i];
            if (c == '.' && u->state == SMTPW__US_BOL)
                return deliver(s, i, in, consumed, out); /* next call handles it */
            if (c == '\r') {
                if (i + 1 == len) {
                    /* Maybe half of a CRLF: hold it (consumed, not delivered). */
                    int r = deliver(s, i, in, consumed, out);
                    *consumed = i + 1;
                    u->state = SMTPW__US_CR;
                    return r;
                }
                if (in[i + 1] == '\n') {
                    i += 2;
                    u->state = SMTPW__US_BOL;
                    u->line = 0;
                    continue;
                }
            } else if (c != '\n') {
                if (full(u)) {
                    if (i > s)
                        return deliver(s, i, in, consumed, out);
                    *consumed = i;
                    return SMTPW__UNSTUFF_LONG;
                }
                u->line++;
                u->state = SMTPW__US_MID;
                i++;
                continue;
            }
            /* A bare CR or a bare LF. */
            if (u->policy == SMTPW_BARE_KEEP) {
                if (full(u)) {
                    if (i > s)
                        return deliver(s, i, in, consumed, out);
                    *consumed = i;
                    return SMTPW__UNSTUFF_LONG;
                }
                u->line++;
                u->state = SMTPW__US_MID;
                i++;
                continue;
            }
            if (i > s)
                return deliver(s, i, in, consumed, out); /* cut before it */
            *consumed = i + 1;
            u->state = SMTPW__US_MID;
            if (u->policy == SMTPW_BARE_NORMALIZE) {
                u->line = 0;
                *out = smtpw__span(crlf, 2);
                return SMTPW__UNSTUFF_DATA;
            }
            return SMTPW__UNSTUFF_BARE;
        }
    }
    return deliver(s, i, in, consumed, out);
}
