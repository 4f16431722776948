/* xtext (RFC 3461 4), used by ENVID and ORCPT.  SPDX-License-Identifier: MIT */
#include "internal.h"
#include "smtpwire/syntax.h"

/* Uppercase hex only: hexchar = "+" 2(%x30-39 / %x41-46) (RFC 3461 4). */
static int hexval(unsigned char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

int smtpw_xtext_decode(const char *in, size_t len, char *out, size_t cap, size_t *outlen)
{
    const unsigned char *p, *end;
    size_t w = 0;
    if (outlen)
        *outlen = 0;
    if ((in == NULL && len) || outlen == NULL || (out == NULL && cap))
        return SMTPW_E_INVALID_ARG;
    if (len == 0) /* also keeps NULL + 0 out of the arithmetic */
        return SMTPW_OK;
    p = (const unsigned char *)in;
    end = p + len;
    /* Validate everything first so a bad input is SYNTAX whatever cap is. */
    while (p < end) {
        unsigned char c = *p;
        if (c == '+') {
            int hi, lo;
            if (end - p < 3 || (hi = hexval(p[1])) < 0 || (lo = hexval(p[2])) < 0)
                return SMTPW_E_SYNTAX;
            c = (unsigned char)(hi * 16 + lo);
            p += 3;
        } else if (c >= 33 && c <= 126 && c != '=') {
            p++;
        } else
            return SMTPW_E_SYNTAX;
        if (w < cap)
            out[w] = (char)c;
        w++;
    }
    if (w > cap)
        return SMTPW_E_NOBUF;
    *outlen = w;
    return SMTPW_OK;
}

int smtpw_xtext_encode(const char *in, size_t len, char *out, size_t cap, size_t *outlen)
{
    static const char hex[] = "0123456789ABCDEF";
    size_t i, w = 0;
    if (outlen)
        *outlen = 0;
    if ((in == NULL && len) || outlen == NULL || (out == NULL && cap))
        return SMTPW_E_INVALID_ARG;
    for (i = 0; i < len; i++) {
        unsigned char c = (unsigned char)in[i];
        if (c >= 33 && c <= 126 && c != '+' && c != '=') {
            if (cap - w < 1)
                return SMTPW_E_NOBUF;
            out[w++] = (char)c;
        } else {
            if (cap - w < 3)
                return SMTPW_E_NOBUF;
            out[w++] = '+';
            out[w++] = hex[c >> 4];
            out[w++] = hex[c & 15];
        }
    }
    *outlen = w;
    return SMTPW_OK;
}
