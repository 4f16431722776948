/* SIMD switches shared by the byte scanners (stuff.c, line.c, unstuff.c).
 * Never installed.  SPDX-License-Identifier: MIT
 *
 * SMTPW_SIMD_SSE2: SSE2 intrinsics (every x86-64 has them).
 * SMTPW_SIMD_AVX2: AVX2 functions built with a target attribute, to be
 *   called only where smtpw__cpu_avx2() said yes at run time.
 * Define SMTPW_NO_SIMD to build the portable C99 paths only. */
#ifndef SMTPW_SIMD_H
#define SMTPW_SIMD_H

#include "internal.h"

#if defined(__SSE2__) && !defined(SMTPW_NO_SIMD)
#include <emmintrin.h>
#define SMTPW_SIMD_SSE2 1

/* Index of the lowest set bit of m (m != 0). */
static inline size_t smtpw__first_bit(unsigned m)
{
#if defined(__GNUC__)
    return (size_t)__builtin_ctz(m);
#else
    size_t j = 0;
    while (!(m & 1u)) {
        m >>= 1;
        j++;
    }
    return j;
#endif
}
#endif

#if defined(SMTPW_SIMD_SSE2) && defined(__GNUC__) && (defined(__x86_64__) || defined(__i386__)) && \
    (defined(__clang__) || __GNUC__ >= 5)
#include <immintrin.h>
#define SMTPW_SIMD_AVX2 1
#define SMTPW_TARGET_AVX2 __attribute__((target("avx2")))

static inline int smtpw__cpu_avx2(void)
{
    return __builtin_cpu_supports("avx2") ? 1 : 0;
}
#else
static inline int smtpw__cpu_avx2(void)
{
    return 0;
}
#endif

#endif
