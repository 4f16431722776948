/* Paths, domains and address literals: RFC 5321 4.1.2, 4.1.3, 4.5.1,
 * 4.5.3.1 and Appendix C; UTF-8 forms from RFC 6531 3.3.
 * One pass over the input, character classes from a constant table.
 * SPDX-License-Identifier: MIT */
#include "internal.h"
#include "simd.h"
#include "smtpwire/syntax.h"

#define C_ATEXT 0x01u    /* atext (RFC 5322 3.2.3, used by 5321 Atom) */
#define C_QTEXT 0x02u    /* qtextSMTP: %d32-33 / %d35-91 / %d93-126 */
#define C_LETDIG 0x04u   /* Let-dig */
#define C_LDH 0x08u      /* Let-dig / "-" */
#define C_DCONTENT 0x10u /* dcontent: %d33-90 / %d94-126 */
#define C_HEX 0x20u      /* HEXDIG, either case */
#define C_DIGIT 0x40u    /* DIGIT */

/* Bytes >= 0x80 have no ASCII class; UTF-8 is checked separately. */
static const unsigned char cls[256] = {
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x02, 0x13, 0x10, 0x13, 0x13, 0x13, 0x13, 0x13, 0x12, 0x12, 0x13, 0x13, 0x12, 0x1b, 0x12, 0x13,
    0x7f, 0x7f, 0x7f, 0x7f, 0x7f, 0x7f, 0x7f, 0x7f, 0x7f, 0x7f, 0x12, 0x12, 0x12, 0x13, 0x12, 0x13,
    0x12, 0x3f, 0x3f, 0x3f, 0x3f, 0x3f, 0x3f, 0x1f, 0x1f, 0x1f, 0x1f, 0x1f, 0x1f, 0x1f, 0x1f, 0x1f,
    0x1f, 0x1f, 0x1f, 0x1f, 0x1f, 0x1f, 0x1f, 0x1f, 0x1f, 0x1f, 0x1f, 0x02, 0x00, 0x02, 0x13, 0x13,
    0x13, 0x3f, 0x3f, 0x3f, 0x3f, 0x3f, 0x3f, 0x1f, 0x1f, 0x1f, 0x1f, 0x1f, 0x1f, 0x1f, 0x1f, 0x1f,
    0x1f, 0x1f, 0x1f, 0x1f, 0x1f, 0x1f, 0x1f, 0x1f, 0x1f, 0x1f, 0x1f, 0x13, 0x13, 0x13, 0x13, 0x00,
};

typedef const unsigned char *ptr;

/* The first byte in [p, end) without class bit c, or end.  Four bytes a
 * round while they last: these runs are most of the work on a path. */
static ptr skip_cls(ptr p, ptr end, unsigned c)
{
    while (end - p >= 4 && (cls[p[0]] & cls[p[1]] & cls[p[2]] & cls[p[3]] & c))
        p += 4;
    while (p < end && (cls[*p] & c))
        p++;
    return p;
}

#if defined(SMTPW_SIMD_SSE2)
/* Bytes of x in [lo, lo + n), n <= 127: 0xff lanes. */
static __m128i in_range(__m128i x, int lo, int n)
{
    return _mm_cmplt_epi8(_mm_sub_epi8(x, _mm_set1_epi8((char)(lo - 128))),
                          _mm_set1_epi8((char)(n - 128)));
}

/* Lanes of x holding an Ldh-str byte or '.' (ldh), else an atext byte or '.'. */
static unsigned dotted_class(__m128i x, int ldh)
{
    __m128i ok;
    if (ldh) {
        ok = _mm_or_si128(in_range(_mm_or_si128(x, _mm_set1_epi8(0x20)), 'a', 26),
                          in_range(x, '0', 10));
        ok = _mm_or_si128(ok, _mm_or_si128(_mm_cmpeq_epi8(x, _mm_set1_epi8('-')),
                                           _mm_cmpeq_epi8(x, _mm_set1_epi8('.'))));
    } else {
        /* atext is printable ASCII but for these specials (RFC 5322 3.2.3) */
        __m128i sp = _mm_or_si128(_mm_cmpeq_epi8(x, _mm_set1_epi8('"')), in_range(x, '(', 2));
        sp = _mm_or_si128(sp, _mm_or_si128(_mm_cmpeq_epi8(x, _mm_set1_epi8(',')),
                                           in_range(x, ':', 3)));
        sp = _mm_or_si128(sp, _mm_or_si128(_mm_cmpeq_epi8(x, _mm_set1_epi8('>')),
                                           _mm_cmpeq_epi8(x, _mm_set1_epi8('@'))));
        sp = _mm_or_si128(sp, in_range(x, '[', 3));
        ok = _mm_andnot_si128(sp, in_range(x, 0x21, 94));
    }
    return (unsigned)_mm_movemask_epi8(ok);
}

/* The common ASCII Dot-string (ldh == 0) or Domain (ldh != 0) starting at
 * p, 16 bytes a round: where it ends when it is valid and stops at an
 * ASCII byte or at end, else NULL, and the byte-wise scan decides.  Only
 * [lo, end) is read; a last round of less than 16 bytes loads the 16
 * ending at end, so it needs end - lo >= 16.  As a whole it must be
 * "." run "." without ".." (an empty atom or label) and, for a Domain,
 * without ".-" or "-." (a label starting or ending with '-'). */
static ptr dotted_fast(ptr p, ptr lo, ptr end, int ldh)
{
    unsigned prev_dot = 1, prev_hy = 0; /* the start acts as a dot */
    for (;;) {
        size_t left = (size_t)(end - p), shift = 0;
        unsigned ok, dot, hy, hi, stop, d, h;
        __m128i x;
        if (left >= 16) {
            x = _mm_loadu_si128((const __m128i *)(const void *)p);
        } else if (end - lo >= 16) {
            shift = 16 - left;
            x = _mm_loadu_si128((const __m128i *)(const void *)(end - 16));
        } else {
            return NULL;
        }
        /* bit i for byte p[i]; bits past end are 0, so the run stops there */
        ok = dotted_class(x, ldh) >> shift;
        dot = (unsigned)_mm_movemask_epi8(_mm_cmpeq_epi8(x, _mm_set1_epi8('.'))) >> shift;
        hy = ldh ? (unsigned)_mm_movemask_epi8(_mm_cmpeq_epi8(x, _mm_set1_epi8('-'))) >> shift : 0;
        hi = (unsigned)_mm_movemask_epi8(x) >> shift; /* bytes >= 0x80 */
        stop = ~ok & (ok + 1); /* the first byte past the run (bit 16: none here) */
        dot &= stop - 1;
        hy &= stop - 1;
        d = dot << 1 | prev_dot; /* bit i: the byte before p[i] is a dot */
        h = hy << 1 | prev_hy;
        /* the end acts as a dot too, and the byte there must be ASCII */
        if ((d & (dot | hy)) | (h & dot) | ((d | h | hi) & stop & 0xffffu))
            return NULL;
        if (stop & 0xffffu)
            return p + smtpw__first_bit(stop);
        prev_dot = dot >> 15;
        prev_hy = hy >> 15;
        p += 16;
    }
}
#endif

/* A UTF-8 sequence at p when the options allow one (RFC 6531 3.3), else 0. */
static size_t utf8_at(ptr p, ptr end, unsigned opt, uint32_t *flags)
{
    size_t k;
    if (*p < 0x80 || !(opt & SMTPW_PARSE_UTF8))
        return 0;
    k = smtpw__utf8_len(p, end);
    if (k)
        *flags |= SMTPW_PATH_UTF8;
    return k;
}

/* Domain = sub-domain *("." sub-domain); sub-domain = Let-dig [Ldh-str]
 * (4.1.2), or a U-label with SMTPW_PARSE_UTF8.  Returns where the domain
 * ends, or NULL. */
static SMTPW_NOINLINE ptr scan_domain_bytes(ptr p, ptr end, unsigned opt, uint32_t *flags)
{
    for (;;) {
        ptr s = p;
        size_t k;
        for (;;) { /* Let-dig / "-" runs, and U-labels' UTF-8 */
            p = skip_cls(p, end, C_LDH);
            if (p == end || (k = utf8_at(p, end, opt, flags)) == 0)
                break;
            p += k;
        }
        /* starts and ends with Let-dig (or UTF-8): the last byte of a
         * UTF-8 sequence is never '-' */
        if (p == s || *s == '-' || p[-1] == '-')
            return NULL;
        if (p == end || *p != '.')
            return p;
        p++;
    }
}

/* The same, trying 16 bytes a round first; [lo, p) may be read too. */
static ptr scan_domain(ptr lo, ptr p, ptr end, unsigned opt, uint32_t *flags)
{
#if defined(SMTPW_SIMD_SSE2)
    ptr q = dotted_fast(p, lo, end, 1);
    if (q != NULL)
        return q;
#else
    (void)lo;
#endif
    return scan_domain_bytes(p, end, opt, flags);
}

/* IPv4-address-literal = Snum 3("." Snum), Snum 1*3DIGIT 0-255 (4.1.3)
 * at s: returns where it ends, or NULL. */
static ptr ipv4_end(ptr s, ptr e)
{
    int i;
    for (i = 0; i < 4; i++) {
        unsigned v = 0, n = 0;
        if (i) {
            if (s == e || *s != '.')
                return NULL;
            s++;
        }
        while (s < e && n < 3 && (cls[*s] & C_DIGIT)) {
            v = v * 10 + (unsigned)(*s - '0');
            n++;
            s++;
        }
        if (n == 0 || v > 255)
            return NULL;
    }
    return s;
}

/* Exactly [s, e) is an IPv4-address-literal. */
static int ipv4_ok(ptr s, ptr e)
{
    return ipv4_end(s, e) == e;
}

/* IPv6-addr (4.1.3): 8 groups of 1-4 HEXDIG, or "::" once with at most 6
 * other groups; an IPv4 tail counts as 2 groups.  RFC 5321 has "::" stand
 * for at least 2 groups, so 7 groups plus "::" is refused. */
static int ipv6_ok(ptr s, ptr e)
{
    unsigned groups = 0;
    int dcolon = 0;
    if (e - s >= 2 && s[0] == ':' && s[1] == ':') {
        dcolon = 1;
        s += 2;
        if (s == e)
            return 1;
    }
    for (;;) {
        ptr g = s;
        while (s < e && (cls[*s] & C_HEX))
            s++;
        if (s == g)
            return 0;
        if (s < e && *s == '.') { /* IPv6v4 forms: the rest is a dotted quad */
            if (!ipv4_ok(g, e))
                return 0;
            groups += 2;
            break;
        }
        if (s - g > 4)
            return 0;
        groups++;
        if (s == e)
            break;
        if (*s != ':')
            return 0;
        s++;
        if (s < e && *s == ':') {
            if (dcolon)
                return 0;
            dcolon = 1;
            s++;
            if (s == e)
                break;
        } else if (s == e)
            return 0;
        if (groups > 8)
            return 0;
    }
    return dcolon ? groups <= 6 : groups == 8;
}

/* address-literal = "[" ( IPv4-address-literal / IPv6-address-literal /
 * General-address-literal ) "]" (4.1.3).  p points at '['; returns the
 * position after ']' or NULL. */
static ptr scan_literal(ptr p, ptr end, uint32_t *kind, ptr *lit, size_t *litlen)
{
    ptr s = p + 1, colon = NULL, q;
    /* The common literal, IPv4, in one pass: digits and dots are
     * dcontent, so the general scan below would end at the same ']'. */
    q = ipv4_end(s, end);
    if (q != NULL && q < end && *q == ']') {
        *kind = SMTPW_LITERAL_IPV4;
        *lit = s;
        *litlen = (size_t)(q - s);
        return q + 1;
    }
    p = s;
    while (p < end && (cls[*p] & C_DCONTENT)) {
        if (*p == ':' && colon == NULL)
            colon = p;
        p++;
    }
    if (p == end || *p != ']' || p == s)
        return NULL;
    if (colon == NULL) {
        if (!ipv4_ok(s, p))
            return NULL;
        *kind = SMTPW_LITERAL_IPV4;
        *lit = s;
        *litlen = (size_t)(p - s);
        return p + 1;
    }
    /* Standardized-tag is an Ldh-str; ABNF strings ignore case, so
     * "ipv6:" is the IPv6 tag too and must hold a valid address. */
    if (colon - s == 4 && smtpw__lower(s[0]) == 'i' && smtpw__lower(s[1]) == 'p' &&
        smtpw__lower(s[2]) == 'v' && s[3] == '6') {
        if (!ipv6_ok(colon + 1, p))
            return NULL;
        *kind = SMTPW_LITERAL_IPV6;
    } else {
        if (colon == s || !(cls[colon[-1]] & C_LETDIG) || colon + 1 == p)
            return NULL;
        for (q = s; q < colon; q++)
            if (!(cls[*q] & C_LDH))
                return NULL;
        *kind = SMTPW_LITERAL_GENERAL;
    }
    *lit = colon + 1;
    *litlen = (size_t)(p - colon - 1);
    return p + 1;
}

static int is_postmaster(ptr s)
{
    static const char pm[] = "postmaster";
    size_t i;
    for (i = 0; i < 10; i++)
        if (smtpw__lower(s[i]) != (unsigned char)pm[i])
            return 0;
    return 1;
}

/* Every span of out set to z.  One by one from a value, not as a chain
 * of assignments: a chain reads each span back right after its two
 * halves were stored, which stalls store forwarding. */
static void empty_spans(smtpw_path *out, smtpw_span z)
{
    out->raw = z;
    out->mailbox = z;
    out->local = z;
    out->domain = z;
    out->route = z;
    out->literal = z;
}

#define SPAN(a, b) smtpw__span((const char *)(a), (size_t)((b) - (a)))

int smtpw_path_parse(const char *text, size_t len, uint32_t options, smtpw_path *out,
                     size_t *consumed)
{
    ptr b, p, end, ms, ls, le, ds;
    uint32_t flags = 0;
    size_t k, pathlen;
    int bare;

    if (consumed)
        *consumed = 0;
    if (text == NULL || out == NULL)
        return SMTPW_E_INVALID_ARG;
    b = (ptr)text;
    end = b + len;
    p = b;
    empty_spans(out, smtpw__span(text, 0));
    out->flags = 0;
    out->literal_kind = SMTPW_LITERAL_NONE;

    if (p == end)
        return SMTPW_E_SYNTAX;
    if (*p == '<') {
        bare = 0;
        p++;
        if (p == end)
            return SMTPW_E_SYNTAX;
        if (*p == '>') { /* Reverse-path = Path / "<>" (4.1.2) */
            if (!(options & SMTPW_PARSE_REVERSE))
                return SMTPW_E_SYNTAX;
            empty_spans(out, smtpw__span(text + 1, 0));
            out->raw = smtpw__span(text, 2);
            out->flags = SMTPW_PATH_NULL;
            if (consumed)
                *consumed = 2;
            return SMTPW_OK;
        }
        if (*p == '@') { /* A-d-l ":" (4.1.2), accepted and ignored (C) */
            ptr rs = p, d;
            for (;;) {
                p++;
                d = scan_domain(b, p, end, options, &flags);
                if (d == NULL)
                    return SMTPW_E_SYNTAX;
                if (d - p > SMTPW_MAX_DOMAIN)
                    return SMTPW_E_TOOLONG;
                p = d;
                if (p == end)
                    return SMTPW_E_SYNTAX;
                if (*p == ':')
                    break;
                if (*p != ',' || ++p == end || *p != '@')
                    return SMTPW_E_SYNTAX;
            }
            out->route = SPAN(rs, p);
            flags |= SMTPW_PATH_ROUTE;
            p++;
        }
    } else if (options & SMTPW_PARSE_LENIENT) {
        bare = 1;
        flags |= SMTPW_PATH_NO_BRACKETS;
    } else
        return SMTPW_E_SYNTAX;

    /* Local-part = Dot-string / Quoted-string (4.1.2) */
    ms = ls = p;
    if (p < end && *p == '"') {
        p++;
        for (;;) {
            unsigned char c;
            p = skip_cls(p, end, C_QTEXT); /* never '"' or '\\' */
            if (p == end)
                return SMTPW_E_SYNTAX;
            c = *p;
            if (c == '"')
                break;
            if (c == '\\') { /* quoted-pairSMTP = "\" %d32-126 */
                if (++p == end)
                    return SMTPW_E_SYNTAX;
                if (*p >= 32 && *p <= 126)
                    p++;
                else if ((k = utf8_at(p, end, options, &flags)) != 0)
                    p += k;
                else
                    return SMTPW_E_SYNTAX;
            } else if ((k = utf8_at(p, end, options, &flags)) != 0)
                p += k;
            else
                return SMTPW_E_SYNTAX;
        }
        p++;
        flags |= SMTPW_PATH_QUOTED;
    } else {
#if defined(SMTPW_SIMD_SSE2)
        ptr q = dotted_fast(p, b, end, 0);
        if (q != NULL)
            p = q;
        else
#endif
        for (;;) { /* Atom *("." Atom) */
            ptr as = p;
            for (;;) {
                p = skip_cls(p, end, C_ATEXT);
                if (p == end || (k = utf8_at(p, end, options, &flags)) == 0)
                    break;
                p += k;
            }
            if (p == as)
                return SMTPW_E_SYNTAX;
            if (p == end || *p != '.')
                break;
            p++;
        }
    }
    le = p;
    if (le - ls > SMTPW_MAX_LOCAL_PART) /* 4.5.3.1.1 */
        return SMTPW_E_TOOLONG;
    out->local = SPAN(ls, le);

    /* "<Postmaster>" without a domain, RCPT only (4.1.1.3, 4.5.1) */
    if ((options & SMTPW_PARSE_FORWARD) && !(flags & (SMTPW_PATH_ROUTE | SMTPW_PATH_QUOTED)) &&
        le - ls == 10 && is_postmaster(ls) &&
        (bare ? (p == end || *p == ' ') : (p < end && *p == '>'))) {
        flags |= SMTPW_PATH_POSTMASTER;
        out->domain = smtpw__span((const char *)p, 0);
    } else {
        if (p == end || *p != '@')
            return SMTPW_E_SYNTAX;
        ds = ++p;
        if (p < end && *p == '[') {
            ptr lit = NULL;
            size_t litlen = 0;
            p = scan_literal(p, end, &out->literal_kind, &lit, &litlen);
            if (p == NULL)
                return SMTPW_E_SYNTAX;
            out->literal = smtpw__span((const char *)lit, litlen);
        } else {
            p = scan_domain(b, p, end, options, &flags);
            if (p == NULL)
                return SMTPW_E_SYNTAX;
        }
        if (p - ds > SMTPW_MAX_DOMAIN) /* 4.5.3.1.2 */
            return SMTPW_E_TOOLONG;
        out->domain = SPAN(ds, p);
    }
    out->mailbox = SPAN(ms, p);

    if (bare) {
        if (p != end && *p != ' ')
            return SMTPW_E_SYNTAX;
        out->raw = out->mailbox;
        pathlen = out->mailbox.len + 2; /* as if it had its brackets */
    } else {
        if (p == end || *p != '>')
            return SMTPW_E_SYNTAX;
        p++;
        out->raw = SPAN(b, p);
        pathlen = out->raw.len;
    }
    if (pathlen > SMTPW_MAX_PATH) /* 4.5.3.1.3 */
        return SMTPW_E_TOOLONG;
    out->flags = flags;
    if (consumed)
        *consumed = (size_t)(p - b);
    return SMTPW_OK;
}

int smtpw_path_local_unquote(const smtpw_path *path, char *out, size_t cap, size_t *outlen)
{
    const char *s;
    size_t n, i, w = 0;
    if (outlen)
        *outlen = 0;
    if (path == NULL || outlen == NULL || (out == NULL && cap))
        return SMTPW_E_INVALID_ARG;
    s = path->local.ptr;
    n = path->local.len;
    if ((path->flags & SMTPW_PATH_QUOTED) && n >= 2) {
        s++;
        n -= 2;
        for (i = 0; i < n; i++) {
            if (s[i] == '\\' && i + 1 < n)
                i++;
            if (w == cap)
                return SMTPW_E_NOBUF;
            out[w++] = s[i];
        }
    } else {
        if (n > cap)
            return SMTPW_E_NOBUF;
        if (n)
            memcpy(out, s, n);
        w = n;
    }
    *outlen = w;
    return SMTPW_OK;
}

int smtpw_domain_check(const char *text, size_t len, uint32_t options)
{
    uint32_t flags = 0;
    ptr e;
    if (text == NULL)
        return SMTPW_E_INVALID_ARG;
    e = scan_domain((ptr)text, (ptr)text, (ptr)text + len, options, &flags);
    if (e == NULL || e != (ptr)text + len)
        return SMTPW_E_SYNTAX;
    return len > SMTPW_MAX_DOMAIN ? SMTPW_E_TOOLONG : SMTPW_OK;
}

int smtpw_address_literal_check(const char *text, size_t len, uint32_t *kind)
{
    uint32_t k = SMTPW_LITERAL_NONE;
    ptr lit, e, b = (ptr)text;
    size_t litlen;
    if (kind)
        *kind = SMTPW_LITERAL_NONE;
    if (text == NULL)
        return SMTPW_E_INVALID_ARG;
    if (len == 0 || b[0] != '[')
        return SMTPW_E_SYNTAX;
    e = scan_literal(b, b + len, &k, &lit, &litlen);
    if (e == NULL || e != b + len)
        return SMTPW_E_SYNTAX;
    if (kind)
        *kind = k;
    return SMTPW_OK;
}

int smtpw_path_render(const char *mailbox, size_t len, uint32_t options, char *out, size_t cap,
                      size_t *outlen)
{
    ptr b = (ptr)mailbox, p, at = NULL, lb = NULL, end;
    size_t llen, dlen, wlocal, qlen, total, k, w;
    int dot = 1, prev_dot = 1, rc;

    if (outlen)
        *outlen = 0;
    if ((mailbox == NULL && len) || outlen == NULL || (out == NULL && cap))
        return SMTPW_E_INVALID_ARG;
    if (len == 0) { /* the null reverse-path */
        if (cap < 2)
            return SMTPW_E_NOBUF;
        out[0] = '<';
        out[1] = '>';
        *outlen = 2;
        return SMTPW_OK;
    }
    end = b + len;
    for (p = b; p < end; p++) { /* nothing may smuggle a line end or NUL */
        if (*p < 0x20 || *p == 0x7f)
            return SMTPW_E_SYNTAX;
        if (*p == '@')
            at = p;
        else if (*p == '[')
            lb = p;
    }
    /* dcontent may hold '@': a trailing literal claims the '@' before its
     * '[' (which dcontent excludes, so it is the last one) */
    if (end[-1] == ']' && lb != NULL && lb > b && lb[-1] == '@')
        at = lb - 1;
    llen = at ? (size_t)(at - b) : len;

    /* One pass over the local part: is it a Dot-string, and how long would
     * its Quoted-string be? */
    qlen = 2;
    for (p = b; p < b + llen;) {
        if (*p >= 0x80) {
            if (!(options & SMTPW_PARSE_UTF8) || (k = smtpw__utf8_len(p, b + llen)) == 0)
                return SMTPW_E_SYNTAX;
            p += k;
            qlen += k;
            prev_dot = 0;
            continue;
        }
        if (*p == '.') {
            if (prev_dot)
                dot = 0;
            prev_dot = 1;
        } else {
            if (!(cls[*p] & C_ATEXT))
                dot = 0;
            prev_dot = 0;
        }
        qlen += (*p == '"' || *p == '\\') ? 2u : 1u;
        p++;
    }
    if (prev_dot) /* empty, or a trailing dot */
        dot = 0;
    wlocal = dot ? llen : qlen;
    if (wlocal > SMTPW_MAX_LOCAL_PART)
        return SMTPW_E_TOOLONG;

    if (at == NULL) { /* only "Postmaster" may go without a domain (4.5.1) */
        if (llen != 10 || !is_postmaster(b))
            return SMTPW_E_SYNTAX;
        dlen = 0;
        total = 12;
    } else {
        dlen = (size_t)(end - at - 1);
        if (dlen && at[1] == '[') {
            if (dlen > SMTPW_MAX_DOMAIN)
                return SMTPW_E_TOOLONG;
            rc = smtpw_address_literal_check((const char *)at + 1, dlen, NULL);
        } else
            rc = smtpw_domain_check((const char *)at + 1, dlen, options);
        if (rc)
            return rc;
        total = 2 + wlocal + 1 + dlen;
    }
    if (total > SMTPW_MAX_PATH)
        return SMTPW_E_TOOLONG;
    if (total > cap)
        return SMTPW_E_NOBUF;

    w = 0;
    out[w++] = '<';
    if (dot) {
        memcpy(out + w, b, llen);
        w += llen;
    } else {
        out[w++] = '"';
        for (p = b; p < b + llen; p++) {
            if (*p == '"' || *p == '\\')
                out[w++] = '\\';
            out[w++] = (char)*p;
        }
        out[w++] = '"';
    }
    if (at) {
        out[w++] = '@';
        memcpy(out + w, at + 1, dlen);
        w += dlen;
    }
    out[w++] = '>';
    *outlen = w;
    return SMTPW_OK;
}
