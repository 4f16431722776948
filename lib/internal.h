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

/* Keeps a rare path out of line, so a hot caller does not pay for the
 * registers it needs. */
#if defined(__GNUC__)
#define SMTPW_NOINLINE __attribute__((noinline))
#else
#define SMTPW_NOINLINE
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

/* Length of the well-formed UTF-8 sequence (RFC 3629 4) starting at p, or 0.
 * Overlongs, surrogates and code points above U+10FFFF are refused. */
static inline size_t smtpw__utf8_len(const unsigned char *p, const unsigned char *end)
{
    unsigned char c = p[0], lo = 0x80, hi = 0xbf;
    size_t n, i;
    if (c >= 0xc2 && c <= 0xdf)
        n = 2;
    else if (c >= 0xe0 && c <= 0xef) {
        n = 3;
        if (c == 0xe0)
            lo = 0xa0;
        else if (c == 0xed)
            hi = 0x9f;
    } else if (c >= 0xf0 && c <= 0xf4) {
        n = 4;
        if (c == 0xf0)
            lo = 0x90;
        else if (c == 0xf4)
            hi = 0x8f;
    } else
        return 0;
    if ((size_t)(end - p) < n || p[1] < lo || p[1] > hi)
        return 0;
    for (i = 2; i < n; i++)
        if (p[i] < 0x80 || p[i] > 0xbf)
            return 0;
    return n;
}

/* ESMTP extension keywords and their SMTPW_EXT_* bits, in the order the
 * server lists them in its EHLO reply (lib/syntax/ext.c). */
typedef struct smtpw__ext_name {
    const char *name;
    uint32_t bit;
} smtpw__ext_name;
#define SMTPW__EXT_COUNT 11
extern const smtpw__ext_name smtpw__ext_names[SMTPW__EXT_COUNT];

/* v in decimal at out (room for 20 digits, no NUL): its length.  One
 * writer for the server's EHLO SIZE and the client's SIZE= (RFC 1870). */
size_t smtpw__u64_dec(char *out, uint64_t v);

/* Byte classes, each written once (RFC 5321 4.1.2, 4.2; RFC 6531 3.3).
 * A control byte is below SP, or DEL; ht allows HT (textstring). */
static inline int smtpw__has_ctl(const char *s, size_t n, int ht)
{
    size_t i;
    for (i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if ((c < 0x20 && !(ht && c == '\t')) || c == 0x7f)
            return 1;
    }
    return 0;
}

/* Only printable US-ASCII and SP (0x20-0x7E). */
static inline int smtpw__all_print(const char *s, size_t n)
{
    size_t i;
    for (i = 0; i < n; i++)
        if ((unsigned char)s[i] < 0x20 || (unsigned char)s[i] > 0x7e)
            return 0;
    return 1;
}

/* A byte of 8-bit data (>= 0x80). */
static inline int smtpw__has_8bit(const char *s, size_t n)
{
    size_t i;
    for (i = 0; i < n; i++)
        if ((unsigned char)s[i] >= 0x80)
            return 1;
    return 0;
}

#endif
