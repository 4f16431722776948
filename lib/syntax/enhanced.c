/* Enhanced status codes (RFC 3463 2).  SPDX-License-Identifier: MIT */
#include "internal.h"
#include "smtpwire/syntax.h"

/* 1 to 3 digits at p; returns how many, 0 if none or more than 3. */
static size_t digits(const char *p, const char *end, uint32_t *v)
{
    size_t n = 0;
    *v = 0;
    while (p + n < end && p[n] >= '0' && p[n] <= '9') {
        if (n == 3)
            return 0;
        *v = *v * 10 + (uint32_t)(p[n] - '0');
        n++;
    }
    return n;
}

int smtpw_enhanced_parse(const char *text, size_t len, uint32_t *cls, uint32_t *subject,
                         uint32_t *detail, size_t *consumed)
{
    const char *p, *end;
    uint32_t c, s, d;
    size_t n;
    if (consumed)
        *consumed = 0;
    if (text == NULL)
        return SMTPW_E_INVALID_ARG;
    p = text;
    end = text + len;
    /* class = "2" / "4" / "5" */
    if (len < 5 || (p[0] != '2' && p[0] != '4' && p[0] != '5') || p[1] != '.')
        return SMTPW_E_SYNTAX;
    c = (uint32_t)(p[0] - '0');
    p += 2;
    if ((n = digits(p, end, &s)) == 0)
        return SMTPW_E_SYNTAX;
    p += n;
    if (p == end || *p != '.')
        return SMTPW_E_SYNTAX;
    p++;
    if ((n = digits(p, end, &d)) == 0)
        return SMTPW_E_SYNTAX;
    p += n;
    /* "2.0.0.1" is not a code followed by text */
    if (p < end && *p == '.')
        return SMTPW_E_SYNTAX;
    if (cls)
        *cls = c;
    if (subject)
        *subject = s;
    if (detail)
        *detail = d;
    if (consumed)
        *consumed = (size_t)(p - text);
    return SMTPW_OK;
}
