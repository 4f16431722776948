/* Server reply rendering: reply lines (RFC 5321 4.2), the 512-octet limit
 * (4.5.3.1.5), enhanced status codes (RFC 2034, RFC 3463), and the EHLO
 * capability list (4.1.1.1).  SPDX-License-Identifier: MIT */
#include "server/reply_write.h"

int smtpw__reply_write_code_ok(unsigned code)
{
    return code >= 200 && code <= 599 && (code / 10) % 10 <= 5;
}

int smtpw__reply_write_text_ok(const char *text, size_t len)
{
    /* RFC 5321 4.2 textstring: HT and printable ASCII; 8-bit bytes are left
     * to the application (UTF-8, RFC 6531).  Any other control byte would
     * let application text corrupt the reply stream. */
    return !smtpw__has_ctl(text, len, 1);
}

int smtpw__reply_write_enh_ok(const char *enh, size_t len, unsigned code)
{
    size_t i, part;
    /* class is 2, 4 or 5 (RFC 3463 3.1): never on a 3xx reply */
    if (enh == NULL || len < 5 || code < 200 || code > 599 || code / 100 == 3 ||
        enh[0] != (char)('0' + code / 100) || enh[1] != '.')
        return 0;
    i = 2;
    for (part = 0; part < 2; part++) {
        size_t d = 0;
        while (i < len && enh[i] >= '0' && enh[i] <= '9') {
            i++;
            d++;
        }
        if (d == 0 || d > 3) /* subject and detail: 1 to 3 digits (RFC 3463 2) */
            return 0;
        if (part == 0 && (i >= len || enh[i++] != '.'))
            return 0;
    }
    return i == len;
}

size_t smtpw__reply_write_line(uint8_t *out, size_t cap, unsigned code, int more, const char *enh,
                         size_t enhlen, const char *t1, size_t n1, const char *t2, size_t n2)
{
    size_t len = 4 + (enhlen ? enhlen + 1 : 0) + n1 + (n1 && n2 ? 1 : 0) + n2 + 2;
    uint8_t *p = out;
    if (len > cap || len > SMTPW_MAX_REPLY_LINE || code < 100 || code > 999)
        return 0;
    *p++ = (uint8_t)('0' + code / 100);
    *p++ = (uint8_t)('0' + code / 10 % 10);
    *p++ = (uint8_t)('0' + code % 10);
    *p++ = more ? '-' : ' ';
    if (enhlen) {
        memcpy(p, enh, enhlen);
        p += enhlen;
        *p++ = ' ';
    }
    if (n1) {
        memcpy(p, t1, n1);
        p += n1;
    }
    if (n1 && n2)
        *p++ = ' ';
    if (n2) {
        memcpy(p, t2, n2);
        p += n2;
    }
    *p++ = '\r';
    *p++ = '\n';
    return len;
}

size_t smtpw__reply_write_caps(uint8_t *out, size_t cap, unsigned caps, uint64_t max_size)
{
    char num[20];
    size_t w = 0, i, n;
    for (i = 0; i < SMTPW__EXT_COUNT; i++) {
        uint32_t bit = smtpw__ext_names[i].bit;
        const char *name = smtpw__ext_names[i].name;
        if (!(caps & bit))
            continue;
        caps &= ~bit;
        n = (bit == SMTPW_EXT_SIZE && max_size) ? smtpw__u64_dec(num, max_size) : 0;
        n = smtpw__reply_write_line(out + w, cap - w, 250, caps != 0, NULL, 0, name,
                                    strlen(name), num, n);
        if (n == 0)
            return 0;
        w += n;
    }
    return w;
}
