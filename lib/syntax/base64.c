/* base64 (RFC 4648 4) for AUTH (RFC 4954).  SPDX-License-Identifier: MIT */
#include "internal.h"
#include "smtpwire/syntax.h"

static const char b64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

int smtpw_base64_encode(const uint8_t *in, size_t len, char *out, size_t cap, size_t *outlen)
{
    size_t need, i, w = 0;
    if (outlen)
        *outlen = 0;
    if ((in == NULL && len) || outlen == NULL || (out == NULL && cap))
        return SMTPW_E_INVALID_ARG;
    if (len / 3 >= SIZE_MAX / 4)
        return SMTPW_E_NOBUF;
    need = (len + 2) / 3 * 4;
    if (need > cap)
        return SMTPW_E_NOBUF;
    for (i = 0; i + 3 <= len; i += 3) {
        uint32_t v = (uint32_t)in[i] << 16 | (uint32_t)in[i + 1] << 8 | in[i + 2];
        out[w++] = b64[v >> 18];
        out[w++] = b64[(v >> 12) & 63];
        out[w++] = b64[(v >> 6) & 63];
        out[w++] = b64[v & 63];
    }
    if (len - i == 1) {
        uint32_t v = (uint32_t)in[i] << 16;
        out[w++] = b64[v >> 18];
        out[w++] = b64[(v >> 12) & 63];
        out[w++] = '=';
        out[w++] = '=';
    } else if (len - i == 2) {
        uint32_t v = (uint32_t)in[i] << 16 | (uint32_t)in[i + 1] << 8;
        out[w++] = b64[v >> 18];
        out[w++] = b64[(v >> 12) & 63];
        out[w++] = b64[(v >> 6) & 63];
        out[w++] = '=';
    }
    *outlen = w;
    return SMTPW_OK;
}

static int val(unsigned char c)
{
    if (c >= 'A' && c <= 'Z')
        return c - 'A';
    if (c >= 'a' && c <= 'z')
        return c - 'a' + 26;
    if (c >= '0' && c <= '9')
        return c - '0' + 52;
    if (c == '+')
        return 62;
    if (c == '/')
        return 63;
    return -1;
}

int smtpw_base64_decode(const char *in, size_t len, uint8_t *out, size_t cap, size_t *outlen)
{
    const unsigned char *p = (const unsigned char *)in;
    size_t i, w = 0, pad = 0, need;
    if (outlen)
        *outlen = 0;
    if ((in == NULL && len) || outlen == NULL || (out == NULL && cap))
        return SMTPW_E_INVALID_ARG;
    if (len % 4)
        return SMTPW_E_SYNTAX;
    if (len && p[len - 1] == '=')
        pad = p[len - 2] == '=' ? 2 : 1;
    need = len / 4 * 3 - pad;
    /* Validate all of it before writing so SYNTAX wins over NOBUF. */
    for (i = 0; i < len; i += 4) {
        int a = val(p[i]), b = val(p[i + 1]), c, d;
        uint32_t v;
        int last = i + 4 == len;
        if (a < 0 || b < 0)
            return SMTPW_E_SYNTAX;
        c = (last && pad == 2) ? 0 : val(p[i + 2]);
        d = (last && pad >= 1) ? 0 : val(p[i + 3]);
        if (c < 0 || d < 0)
            return SMTPW_E_SYNTAX;
        v = (uint32_t)a << 18 | (uint32_t)b << 12 | (uint32_t)c << 6 | (uint32_t)d;
        /* RFC 4648 3.5: the bits dropped by padding must be zero */
        if (last && ((pad == 2 && (v & 0xffff)) || (pad == 1 && (v & 0xff))))
            return SMTPW_E_SYNTAX;
        if (need <= cap) {
            size_t n = last ? 3 - pad : 3;
            out[w++] = (uint8_t)(v >> 16);
            if (n > 1)
                out[w++] = (uint8_t)(v >> 8);
            if (n > 2)
                out[w++] = (uint8_t)v;
        }
    }
    if (need > cap)
        return SMTPW_E_NOBUF;
    *outlen = w;
    return SMTPW_OK;
}
