/* EHLO reply lines into capability bits (RFC 5321 4.1.1.1, 4.2).
 * SPDX-License-Identifier: MIT */
#include "client/caps.h"

#include "smtpwire/client.h"

struct name_bit {
    const char *name;
    uint32_t bit;
};

static const struct name_bit auth_names[] = {
    {"PLAIN", SMTPW_AUTH_PLAIN},
    {"LOGIN", SMTPW_AUTH_LOGIN},
    {"CRAM-MD5", SMTPW_AUTH_CRAM_MD5},
    {"XOAUTH2", SMTPW_AUTH_XOAUTH2},
    {"SCRAM-SHA-256", SMTPW_AUTH_SCRAM_SHA_256},
};

static int is_alnum(unsigned char c)
{
    return (c >= '0' && c <= '9') || (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z');
}

static uint32_t lookup(const struct name_bit *t, size_t n, smtpw_span key)
{
    size_t i;
    for (i = 0; i < n; i++)
        if (smtpw_span_ieq(key, t[i].name))
            return t[i].bit;
    return 0;
}

static uint32_t lookup_ext(smtpw_span key)
{
    size_t i;
    for (i = 0; i < SMTPW__EXT_COUNT; i++)
        if (smtpw_span_ieq(key, smtpw__ext_names[i].name))
            return smtpw__ext_names[i].bit;
    return 0;
}

/* RFC 4954 4: AUTH mechanism names separated by spaces. */
static uint32_t auth_mechs(const char *p, size_t len)
{
    uint32_t bits = 0;
    size_t i = 0, s;
    while (i < len) {
        uint32_t b;
        while (i < len && p[i] == ' ')
            i++;
        s = i;
        while (i < len && p[i] != ' ')
            i++;
        if (i == s)
            break;
        b = lookup(auth_names, sizeof auth_names / sizeof auth_names[0], smtpw__span(p + s, i - s));
        bits |= b ? b : SMTPW_AUTH_OTHER;
    }
    return bits;
}

int smtpw__caps_line(const char *text, size_t len, struct smtpw__caps *caps,
                     smtpw_span *keyword, smtpw_span *params)
{
    size_t k = 0, ps;
    uint32_t bit;
    smtpw_span key;

    /* ehlo-keyword = (ALPHA / DIGIT) *(ALPHA / DIGIT / "-") */
    if (len == 0 || !is_alnum((unsigned char)text[0]))
        return 0;
    while (k < len && (is_alnum((unsigned char)text[k]) || text[k] == '-'))
        k++;
    key = smtpw__span(text, k);
    ps = k;
    if (k < len) {
        /* "AUTH=LOGIN PLAIN" is the pre-RFC 2554 form some servers still send. */
        if (text[k] == '=' && smtpw_span_ieq(key, "AUTH"))
            ps = k + 1;
        else if (text[k] == ' ')
            ps = k + 1;
        else
            return 0;
    }
    bit = lookup_ext(key);
    caps->ext |= bit;
    if (bit == SMTPW_EXT_AUTH)
        caps->auth |= auth_mechs(text + ps, len - ps);
    if (bit == SMTPW_EXT_SIZE) {
        /* RFC 1870 4: "SIZE" [SP number]; 0 or no number means no fixed
         * limit.  An unreadable number is treated the same way. */
        uint64_t v = 0;
        size_t e = ps;
        while (e < len && text[e] != ' ')
            e++;
        if (ps >= len || smtpw_parse_u64(smtpw__span(text + ps, e - ps), &v) != 0)
            v = 0;
        caps->size_limit = v;
    }
    *keyword = key;
    *params = smtpw__span(text + ps, len - ps);
    return 1;
}
