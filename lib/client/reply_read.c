/* Reply-line reader for the client core (RFC 5321 4.2, 4.2.1).
 * SPDX-License-Identifier: MIT */
#include "client/reply_read.h"

#include "smtpwire/syntax.h"

int smtpw__reply_line(const uint8_t *in, size_t inlen, size_t maxline, struct smtpw__rline *out)
{
    const uint8_t *lf;
    size_t scan = inlen < maxline ? inlen : maxline, len;

    /* Only a whole line is taken, and never more than maxline is looked
     * at: an endless line is an error, not a growing buffer. */
    lf = scan ? (const uint8_t *)memchr(in, '\n', scan) : NULL;
    if (lf == NULL)
        return inlen >= maxline ? SMTPW_E_PROTO : 0;
    len = (size_t)(lf - in);
    /* Replies end in CRLF (4.2); a bare LF is refused, not guessed at. */
    if (len == 0 || in[len - 1] != '\r')
        return SMTPW_E_PROTO;
    len--;
    /* Reply-code = %x32-35 %x30-35 %x30-39 */
    if (len < 3 || in[0] < '2' || in[0] > '5' || in[1] < '0' || in[1] > '5' || in[2] < '0' ||
        in[2] > '9')
        return SMTPW_E_PROTO;
    if (len > 3 && in[3] != ' ' && in[3] != '-')
        return SMTPW_E_PROTO;
    /* textstring = 1*(%d09 / %d32-126); 8-bit text is tolerated (some
     * servers send UTF-8), other controls such as a lone CR or NUL are not. */
    if (len > 4 && smtpw__has_ctl((const char *)in + 4, len - 4, 1))
        return SMTPW_E_PROTO;
    out->len = len;
    out->consumed = len + 2;
    out->code = (uint32_t)(in[0] - '0') * 100u + (uint32_t)(in[1] - '0') * 10u +
                (uint32_t)(in[2] - '0');
    /* A bare "250" is a valid last line with no text (CVE-2020-8794 class:
     * never look past it). */
    out->last = len == 3 || in[3] == ' ';
    out->text_off = len == 3 ? 3 : 4;
    return 1;
}

int smtpw__reply_enhanced(const char *text, size_t len, uint32_t code, uint32_t *cls,
                          uint32_t *subject, uint32_t *detail, size_t *skip)
{
    size_t n;
    uint32_t k, s, d;
    if (len == 0 || text[0] < '2' || text[0] > '5')
        return 0;
    if (smtpw_enhanced_parse(text, len, &k, &s, &d, &n) != 0)
        return 0;
    /* RFC 3463 2: the class repeats the reply's first digit. */
    if (k != code / 100u)
        return 0;
    if (n < len && text[n] != ' ')
        return 0;
    *cls = k;
    *subject = s;
    *detail = d;
    *skip = n < len ? n + 1 : n;
    return 1;
}
