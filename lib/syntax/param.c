/* ESMTP parameters (RFC 5321 4.1.2 Mail-parameters, RFC 6531 3.3 UTF-8
 * values) and decimal numbers (RFC 1870 3 SIZE).
 * SPDX-License-Identifier: MIT */
#include "internal.h"
#include "smtpwire/syntax.h"

static int is_alnum(unsigned char c)
{
    return (c >= '0' && c <= '9') || (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z');
}

int smtpw_param_next(smtpw_span *rest, smtpw_span *key, smtpw_span *value)
{
    const unsigned char *p, *end, *ks, *ke, *vs;
    if (key) {
        key->ptr = NULL;
        key->len = 0;
    }
    if (value) {
        value->ptr = NULL;
        value->len = 0;
    }
    if (rest == NULL || key == NULL || value == NULL || (rest->ptr == NULL && rest->len))
        return SMTPW_E_INVALID_ARG;
    if (rest->len == 0)
        return 0;
    p = (const unsigned char *)rest->ptr;
    end = p + rest->len;
    while (p < end && *p == ' ')
        p++;
    if (p == end) {
        rest->ptr = (const char *)p;
        rest->len = 0;
        return 0;
    }
    /* esmtp-keyword = (ALPHA / DIGIT) *(ALPHA / DIGIT / "-") */
    ks = p;
    if (!is_alnum(*p))
        return SMTPW_E_SYNTAX;
    p++;
    while (p < end && (is_alnum(*p) || *p == '-'))
        p++;
    ke = vs = p;
    if (p < end && *p == '=') {
        /* esmtp-value = 1*(%d33-60 / %d62-126), =/ UTF8-non-ascii */
        vs = ++p;
        while (p < end) {
            size_t k;
            if (*p >= 33 && *p <= 126 && *p != '=')
                p++;
            else if (*p >= 0x80 && (k = smtpw__utf8_len(p, end)) != 0)
                p += k;
            else
                break;
        }
        if (p == vs)
            return SMTPW_E_SYNTAX;
    }
    if (p < end && *p != ' ')
        return SMTPW_E_SYNTAX;
    key->ptr = (const char *)ks;
    key->len = (size_t)(ke - ks);
    value->ptr = (const char *)vs;
    value->len = (size_t)(p - vs);
    rest->ptr = (const char *)p;
    rest->len = (size_t)(end - p);
    return 1;
}

int smtpw_span_ieq(smtpw_span key, const char *name)
{
    size_t i;
    if (name == NULL || (key.ptr == NULL && key.len))
        return 0;
    for (i = 0; i < key.len; i++) {
        if (name[i] == '\0' ||
            smtpw__lower((unsigned char)key.ptr[i]) != smtpw__lower((unsigned char)name[i]))
            return 0;
    }
    return name[i] == '\0';
}

int smtpw_parse_u64(smtpw_span text, uint64_t *out)
{
    uint64_t v = 0;
    size_t i;
    if (out)
        *out = 0;
    if (out == NULL || (text.ptr == NULL && text.len))
        return SMTPW_E_INVALID_ARG;
    if (text.len == 0 || text.len > 20)
        return SMTPW_E_SYNTAX;
    for (i = 0; i < text.len; i++) {
        unsigned d = (unsigned)((unsigned char)text.ptr[i] - '0');
        if (d > 9)
            return SMTPW_E_SYNTAX;
        /* 19 digits always fit in 64 bits: only a 20th can overflow. */
        if (i == 19 && v > (UINT64_MAX - d) / 10)
            return SMTPW_E_SYNTAX;
        v = v * 10 + d;
    }
    *out = v;
    return SMTPW_OK;
}

size_t smtpw__u64_dec(char *out, uint64_t v)
{
    char tmp[20];
    size_t n = 0, i;
    do {
        tmp[n++] = (char)('0' + (int)(v % 10u));
        v /= 10u;
    } while (v);
    for (i = 0; i < n; i++)
        out[i] = tmp[n - 1 - i];
    return n;
}
