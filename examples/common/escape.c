/* Untrusted bytes made safe for a terminal or a log line: see escape.h.
 * SPDX-License-Identifier: MIT */
#include "escape.h"

#include <string.h>

/* How many output characters byte b becomes: 1 (itself), 2 (\\ or \")
 * or 4 (\xNN). */
static size_t esc_width(unsigned char b, unsigned flags)
{
    if (b == '\\' || (b == '"' && (flags & ESC_QUOTED)))
        return 2;
    if (b == '\n' && (flags & ESC_KEEP_LF))
        return 1;
    if (b < 0x20 || b >= 0x7f)
        return 4;
    return 1;
}

size_t esc_len(const char *in, size_t n, unsigned flags)
{
    size_t i, len = 0;
    for (i = 0; i < n; i++)
        len += esc_width((unsigned char)in[i], flags);
    return len;
}

size_t esc_write(char *out, size_t cap, const char *in, size_t n, unsigned flags,
                 size_t *consumed)
{
    static const char hex[] = "0123456789abcdef";
    size_t i, w = 0;
    if (cap == 0) {
        if (consumed)
            *consumed = 0;
        return 0;
    }
    for (i = 0; i < n; i++) {
        unsigned char b = (unsigned char)in[i];
        size_t k = esc_width(b, flags);
        if (w + k >= cap) /* keep room for the NUL */
            break;
        if (k == 1) {
            out[w++] = (char)b;
        } else if (k == 2) {
            out[w++] = '\\';
            out[w++] = (char)b;
        } else {
            out[w++] = '\\';
            out[w++] = 'x';
            out[w++] = hex[b >> 4];
            out[w++] = hex[b & 15u];
        }
    }
    out[w] = '\0';
    if (consumed)
        *consumed = i;
    return w;
}

const char *esc_str(char *out, size_t cap, const char *z, unsigned flags)
{
    if (cap)
        (void)esc_write(out, cap, z ? z : "", z ? strlen(z) : 0, flags, NULL);
    return out;
}
