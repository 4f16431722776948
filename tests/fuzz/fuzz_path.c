/*
 * libFuzzer target for smtpw_path_parse() (RFC 5321 4.1.2, 4.1.3) under
 * every option combination: data[0] low 4 bits are the SMTPW_PARSE_*
 * options, the rest is the text.  Invariants: consumed <= len, every span
 * inside the input and in its place (local and domain inside mailbox,
 * mailbox inside raw), flags consistent with the spans (NULL: all empty;
 * POSTMASTER: no domain; QUOTED: local starts and ends with '"'; UTF8 only
 * with the option and a byte >= 0x80), and the round trip
 * parse -> local_unquote -> path_render -> parse gives the same unquoted
 * local part and the same domain.  smtpw_domain_check() and
 * smtpw_address_literal_check() must agree with what the parser accepted.
 * SPDX-License-Identifier: MIT
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "smtpwire/smtpwire.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(x)                                                                              \
    do {                                                                                      \
        if (!(x))                                                                             \
            abort();                                                                          \
    } while (0)

static int inside(smtpw_span s, const char *p, size_t n)
{
    if (s.ptr == NULL)
        return s.len == 0;
    return s.ptr >= p && s.len <= n && (size_t)(s.ptr - p) <= n - s.len;
}

static int within(smtpw_span in, smtpw_span out)
{
    return inside(in, out.ptr, out.len);
}

static int has_8bit(smtpw_span s)
{
    size_t i;
    for (i = 0; i < s.len; i++)
        if ((unsigned char)s.ptr[i] >= 0x80)
            return 1;
    return 0;
}

static int eq(smtpw_span a, const char *b, size_t n)
{
    return a.len == n && (n == 0 || memcmp(a.ptr, b, n) == 0);
}

/* Every span and flag of a successful parse of text[0..len). */
static void check_parsed(const smtpw_path *p, const char *text, size_t len, size_t used,
                         unsigned opt)
{
    CHECK(used >= 2 && used <= len);
    CHECK(inside(p->raw, text, used) && inside(p->mailbox, text, used) &&
          inside(p->local, text, used) && inside(p->domain, text, used) &&
          inside(p->route, text, used) && inside(p->literal, text, used));
    CHECK(p->raw.ptr == text);
    CHECK(within(p->mailbox, p->raw));
    CHECK(p->flags & SMTPW_PATH_NO_BRACKETS ? p->raw.len == used && p->raw.len == p->mailbox.len
                                            : p->raw.len == used);
    CHECK((p->flags & ~0x3fu) == 0);
    CHECK(p->literal_kind <= SMTPW_LITERAL_GENERAL);
    if (!(opt & SMTPW_PARSE_LENIENT))
        CHECK(!(p->flags & SMTPW_PATH_NO_BRACKETS));
    if (!(p->flags & SMTPW_PATH_NO_BRACKETS))
        CHECK(text[0] == '<' && text[used - 1] == '>');
    else
        CHECK(used == len || text[used] == ' ');
    if (p->flags & SMTPW_PATH_NULL) {
        CHECK(opt & SMTPW_PARSE_REVERSE);
        CHECK(p->flags == SMTPW_PATH_NULL && used == 2);
        CHECK(p->mailbox.len == 0 && p->local.len == 0 && p->domain.len == 0 &&
              p->route.len == 0 && p->literal.len == 0);
        CHECK(p->literal_kind == SMTPW_LITERAL_NONE);
        return;
    }
    CHECK(p->local.len >= 1 && p->local.len <= SMTPW_MAX_LOCAL_PART);
    CHECK(p->domain.len <= SMTPW_MAX_DOMAIN);
    CHECK(p->flags & SMTPW_PATH_NO_BRACKETS ? p->raw.len + 2 <= SMTPW_MAX_PATH
                                            : p->raw.len <= SMTPW_MAX_PATH);
    CHECK(within(p->local, p->mailbox) && within(p->domain, p->mailbox));
    CHECK(p->local.ptr == p->mailbox.ptr);
    /* a route, when present, sits before the mailbox, "@..." without ':' */
    if (p->flags & SMTPW_PATH_ROUTE) {
        CHECK(p->route.len >= 2 && p->route.ptr[0] == '@');
        CHECK(memchr(p->route.ptr, ':', p->route.len) == NULL);
        CHECK(p->route.ptr + p->route.len + 1 == p->mailbox.ptr);
        CHECK(p->route.ptr[p->route.len] == ':');
    } else {
        CHECK(p->route.len == 0);
    }
    if (p->flags & SMTPW_PATH_QUOTED)
        CHECK(p->local.len >= 2 && p->local.ptr[0] == '"' &&
              p->local.ptr[p->local.len - 1] == '"');
    if (p->flags & SMTPW_PATH_UTF8)
        CHECK((opt & SMTPW_PARSE_UTF8) && has_8bit(p->raw)); /* the route counts */
    else
        CHECK(!has_8bit(p->raw));
    if (p->flags & SMTPW_PATH_POSTMASTER) {
        CHECK(opt & SMTPW_PARSE_FORWARD);
        CHECK(p->domain.len == 0 && p->local.len == 10 && p->mailbox.len == 10);
        CHECK(p->literal_kind == SMTPW_LITERAL_NONE && p->literal.len == 0);
        return;
    }
    /* Local "@" Domain, nothing else */
    CHECK(p->domain.len >= 1);
    CHECK(p->mailbox.len == p->local.len + 1 + p->domain.len);
    CHECK(p->local.ptr[p->local.len] == '@');
    CHECK(p->domain.ptr == p->local.ptr + p->local.len + 1);
    if (p->domain.ptr[0] == '[') {
        uint32_t kind = 99;
        CHECK(p->literal_kind != SMTPW_LITERAL_NONE);
        CHECK(p->domain.ptr[p->domain.len - 1] == ']');
        CHECK(within(p->literal, p->domain) && p->literal.len >= 1);
        CHECK(smtpw_address_literal_check(p->domain.ptr, p->domain.len, &kind) == 0);
        CHECK(kind == p->literal_kind);
        if (kind == SMTPW_LITERAL_IPV4)
            CHECK(p->literal.ptr == p->domain.ptr + 1 && p->literal.len + 2 == p->domain.len);
        else
            CHECK(p->literal.ptr[-1] == ':' &&
                  p->literal.ptr + p->literal.len + 1 == p->domain.ptr + p->domain.len);
    } else {
        CHECK(p->literal_kind == SMTPW_LITERAL_NONE && p->literal.len == 0);
        CHECK(smtpw_domain_check(p->domain.ptr, p->domain.len, opt & SMTPW_PARSE_UTF8) == 0);
    }
}

/* parse -> unquote -> render -> parse: same local part and domain. */
static void round_trip(const smtpw_path *p, unsigned opt)
{
    char user[2 * SMTPW_MAX_PATH], wire[SMTPW_MAX_PATH], wire2[SMTPW_MAX_PATH],
        local2[SMTPW_MAX_PATH];
    size_t ulen = 0, wlen = 0, n = 0, used = 0, l2 = 0;
    unsigned ropt = opt & SMTPW_PARSE_UTF8, popt;
    smtpw_path q;
    int r;

    CHECK(smtpw_path_local_unquote(p, user, sizeof user, &ulen) == 0);
    CHECK(ulen <= p->local.len);
    if (!(p->flags & SMTPW_PATH_QUOTED))
        CHECK(eq(p->local, user, ulen));
    if (ulen > 0) /* cap one short must fail cleanly */
        CHECK(smtpw_path_local_unquote(p, user, ulen - 1, &n) == SMTPW_E_NOBUF && n == 0);
    if (p->flags & SMTPW_PATH_NULL) {
        CHECK(smtpw_path_render(NULL, 0, ropt, wire, sizeof wire, &wlen) == 0);
        CHECK(wlen == 2 && memcmp(wire, "<>", 2) == 0);
        return;
    }
    n = ulen;
    if (!(p->flags & SMTPW_PATH_POSTMASTER)) {
        user[n++] = '@';
        memcpy(user + n, p->domain.ptr, p->domain.len);
        n += p->domain.len;
    }
    r = smtpw_path_render(user, n, ropt, wire, sizeof wire, &wlen);
    /* Quoting may lengthen the local part past 64 or the path past 256:
     * only then may render refuse what parse accepted. */
    if (r == SMTPW_E_TOOLONG) {
        CHECK(p->flags & SMTPW_PATH_QUOTED || p->flags & SMTPW_PATH_ROUTE ||
              p->flags & SMTPW_PATH_NO_BRACKETS);
        return;
    }
    CHECK(r == 0);
    CHECK(wlen >= 3 && wlen <= SMTPW_MAX_PATH && wire[0] == '<' && wire[wlen - 1] == '>');
    /* render never gets longer than needed: a smaller cap is NOBUF */
    CHECK(smtpw_path_render(user, n, ropt, wire2, wlen - 1, &used) == SMTPW_E_NOBUF &&
          used == 0);
    CHECK(smtpw_path_render(user, n, ropt, wire2, wlen, &used) == 0 && used == wlen &&
          memcmp(wire2, wire, wlen) == 0);
    popt = ropt | SMTPW_PARSE_REVERSE | SMTPW_PARSE_FORWARD;
    if (!(p->flags & SMTPW_PATH_POSTMASTER))
        popt &= ~SMTPW_PARSE_FORWARD; /* a "postmaster@d" stays a mailbox */
    CHECK(smtpw_path_parse(wire, wlen, popt, &q, &used) == 0);
    CHECK(used == wlen);
    CHECK((q.flags & SMTPW_PATH_POSTMASTER) == (p->flags & SMTPW_PATH_POSTMASTER));
    CHECK(!(q.flags & (SMTPW_PATH_NULL | SMTPW_PATH_ROUTE | SMTPW_PATH_NO_BRACKETS)));
    CHECK(q.domain.len == p->domain.len &&
          (q.domain.len == 0 || memcmp(q.domain.ptr, p->domain.ptr, q.domain.len) == 0));
    CHECK(q.literal_kind == p->literal_kind);
    CHECK(smtpw_path_local_unquote(&q, local2, sizeof local2, &l2) == 0);
    CHECK(l2 == ulen && (ulen == 0 || memcmp(local2, user, ulen) == 0));
    /* the rendered form is canonical: rendering it again changes nothing */
    if (!(q.flags & SMTPW_PATH_QUOTED))
        CHECK(eq(q.local, user, ulen));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    smtpw_path p;
    size_t used = 12345, len;
    unsigned opt;
    const char *text;
    char *copy;
    int r;

    if (size < 1)
        return 0;
    opt = data[0] & 0x0fu;
    len = size - 1;
    /* an exact-size heap copy: ASan sees any read past the end */
    copy = (char *)malloc(len ? len : 1);
    CHECK(copy != NULL);
    if (len)
        memcpy(copy, data + 1, len);
    text = copy;

    r = smtpw_path_parse(text, len, opt, &p, &used);
    CHECK(r == 0 || r == SMTPW_E_SYNTAX || r == SMTPW_E_TOOLONG);
    if (r != 0) {
        CHECK(used == 0);
    } else {
        size_t used2 = 0;
        smtpw_path p2;
        check_parsed(&p, text, len, used, opt);
        /* the parse is a prefix property: the path alone parses the same */
        CHECK(smtpw_path_parse(text, used, opt, &p2, &used2) == 0 && used2 == used);
        CHECK(p2.flags == p.flags && p2.mailbox.ptr == p.mailbox.ptr &&
              p2.mailbox.len == p.mailbox.len);
        /* consumed may be NULL */
        CHECK(smtpw_path_parse(text, len, opt, &p2, NULL) == 0);
        round_trip(&p, opt);
    }
    /* the checkers alone never read out of bounds and agree on kind */
    {
        uint32_t kind = 77;
        r = smtpw_address_literal_check(text, len, &kind);
        CHECK(r == 0 ? kind != SMTPW_LITERAL_NONE : (r == SMTPW_E_SYNTAX && kind == 0));
        r = smtpw_domain_check(text, len, opt);
        CHECK(r == 0 || r == SMTPW_E_SYNTAX || r == SMTPW_E_TOOLONG);
        if (r == 0)
            CHECK(len >= 1 && len <= SMTPW_MAX_DOMAIN);
    }
    /* render of arbitrary user text: either refused or parses back */
    {
        char wire[SMTPW_MAX_PATH];
        size_t wlen = 99;
        r = smtpw_path_render(text, len, opt & SMTPW_PARSE_UTF8, wire, sizeof wire, &wlen);
        CHECK(r == 0 || r == SMTPW_E_SYNTAX || r == SMTPW_E_TOOLONG || r == SMTPW_E_NOBUF);
        if (r != 0) {
            CHECK(wlen == 0);
        } else {
            smtpw_path q;
            size_t u = 0;
            CHECK(smtpw_path_parse(wire, wlen,
                                   (opt & SMTPW_PARSE_UTF8) | SMTPW_PARSE_REVERSE |
                                       SMTPW_PARSE_FORWARD,
                                   &q, &u) == 0);
            CHECK(u == wlen);
            if (len == 0)
                CHECK(q.flags & SMTPW_PATH_NULL);
        }
    }
    free(copy);
    return 0;
}
