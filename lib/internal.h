/* smtpwire internals shared by lib/ files; never installed.
 * SPDX-License-Identifier: MIT */
#ifndef SMTPW_INTERNAL_H
#define SMTPW_INTERNAL_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "smtpwire/common.h"

/* Internal non-static functions are named smtpw__<module>_<verb>. */

#ifdef SMTPW_DEBUG_ASSERT
#include <assert.h>
#define SMTPW_ASSERT(x) assert(x)
#else
#define SMTPW_ASSERT(x) ((void)0)
#endif

#if defined(__GNUC__)
#define SMTPW_LIKELY(x) __builtin_expect(!!(x), 1)
#define SMTPW_UNLIKELY(x) __builtin_expect(!!(x), 0)
#else
#define SMTPW_LIKELY(x) (x)
#define SMTPW_UNLIKELY(x) (x)
#endif

#if defined(__GNUC__) && __GNUC__ >= 7
#define SMTPW_FALLTHROUGH __attribute__((fallthrough))
#else
#define SMTPW_FALLTHROUGH ((void)0)
#endif

/* ASCII-only case folding: never locale-dependent. */
static inline unsigned char smtpw__lower(unsigned char c)
{
    return (unsigned char)((c >= 'A' && c <= 'Z') ? c + 32 : c);
}

static inline smtpw_span smtpw__span(const char *p, size_t n)
{
    smtpw_span s;
    s.ptr = p;
    s.len = n;
    return s;
}

#endif
