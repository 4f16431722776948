/* Paths, domains and address literals: RFC 5321 4.1.2, 4.1.3, 4.1.1.3,
 * 4.5.1, 4.5.3.1, Appendix C; RFC 6531 3.3.  Every parse runs twice: on the
 * caller's bytes and on a copy flush against a PROT_NONE page (guardbuf),
 * and both runs must agree. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "guardbuf.h"
#include "smtpwire/syntax.h"

#define U SMTPW_PARSE_UTF8
#define R SMTPW_PARSE_REVERSE
#define F SMTPW_PARSE_FORWARD
#define L SMTPW_PARSE_LENIENT

#define EQ(a, b, line)                                                                         \
    _assert_int_equal(cast_to_largest_integral_type(a), cast_to_largest_integral_type(b),     \
                      __FILE__, line)

static void span_is(smtpw_span sp, const char *want, int line)
{
    size_t n = strlen(want);
    if (sp.len != n || memcmp(sp.ptr, want, n) != 0) {
        print_error("span \"%.*s\" != \"%s\"\n", (int)sp.len, sp.ptr, want);
        _fail(__FILE__, line);
    }
}

static void span_inside(smtpw_span sp, const char *base, size_t n, int line)
{
    if (sp.ptr < base || sp.ptr > base + n || sp.len > (size_t)(base + n - sp.ptr))
        _fail(__FILE__, line);
}

static size_t off(smtpw_span sp, const char *base)
{
    return (size_t)(sp.ptr - base);
}

/* Parse s[0..n) in place and from the guard page; the results must match. */
static int parse_n(const char *s, size_t n, unsigned opt, smtpw_path *out, size_t *consumed,
                   int line)
{
    smtpw_path a, g;
    size_t ca = 12345, cg = 54321;
    int ra, rg;
    const char *gp;
    ra = smtpw_path_parse(s, n, opt, &a, &ca);
    gp = (const char *)guardbuf_put(s, n);
    rg = smtpw_path_parse(gp, n, opt, &g, &cg);
    EQ(ra, rg, line);
    EQ(ca, cg, line);
    if (ra == 0) {
        int i;
        smtpw_span all_a[6], all_g[6];
        all_a[0] = a.raw, all_a[1] = a.mailbox, all_a[2] = a.local, all_a[3] = a.domain;
        all_a[4] = a.route, all_a[5] = a.literal;
        all_g[0] = g.raw, all_g[1] = g.mailbox, all_g[2] = g.local, all_g[3] = g.domain;
        all_g[4] = g.route, all_g[5] = g.literal;
        for (i = 0; i < 6; i++) {
            span_inside(all_a[i], s, n, line);
            span_inside(all_g[i], gp, n, line);
            EQ(all_a[i].len, all_g[i].len, line);
            EQ(off(all_a[i], s), off(all_g[i], gp), line);
        }
        EQ(a.flags, g.flags, line);
        EQ(a.literal_kind, g.literal_kind, line);
        if (ca > n)
            _fail(__FILE__, line);
    } else {
        EQ(ca, 0, line);
    }
    *out = a;
    if (consumed)
        *consumed = ca;
    return ra;
}

/* Expect success with the whole text consumed; returns the parse. */
static smtpw_path ok_at(const char *s, unsigned opt, const char *local, const char *domain,
                        uint32_t flags, int line)
{
    smtpw_path p;
    size_t c;
    int rc = parse_n(s, strlen(s), opt, &p, &c, line);
    EQ(rc, 0, line);
    EQ(c, strlen(s), line);
    span_is(p.raw, s, line);
    span_is(p.local, local, line);
    span_is(p.domain, domain, line);
    EQ(p.flags, flags, line);
    return p;
}
#define OK(s, opt, local, domain, flags) ok_at(s, opt, local, domain, flags, __LINE__)

static void bad_at(const char *s, size_t n, unsigned opt, int want, int line)
{
    smtpw_path p;
    size_t c;
    EQ(parse_n(s, n, opt, &p, &c, line), want, line);
}
#define BAD(s, opt) bad_at(s, strlen(s), opt, SMTPW_E_SYNTAX, __LINE__)
#define BADN(s, n, opt) bad_at(s, n, opt, SMTPW_E_SYNTAX, __LINE__)
#define LONG(s, opt) bad_at(s, strlen(s), opt, SMTPW_E_TOOLONG, __LINE__)

static void unquote_is(const smtpw_path *p, const char *want, int line)
{
    char buf[300];
    size_t n = 999;
    EQ(smtpw_path_local_unquote(p, buf, sizeof buf, &n), 0, line);
    EQ(n, strlen(want), line);
    if (memcmp(buf, want, n) != 0)
        _fail(__FILE__, line);
}

/* --- RFC 5321 4.1.2 Dot-string ------------------------------------------------ */

static void rfc5321_4_1_2_dot_string(void **state)
{
    smtpw_path p;
    (void)state;
    p = OK("<user@example.com>", 0, "user", "example.com", 0);
    span_is(p.mailbox, "user@example.com", __LINE__);
    span_is(p.route, "", __LINE__);
    span_is(p.literal, "", __LINE__);
    assert_int_equal(p.literal_kind, SMTPW_LITERAL_NONE);
    unquote_is(&p, "user", __LINE__);
    OK("<first.last@example.com>", 0, "first.last", "example.com", 0);
    OK("<a.b.c.d@x>", 0, "a.b.c.d", "x", 0);
    OK("<!#$%&'*+-/=?^_`{|}~@x>", 0, "!#$%&'*+-/=?^_`{|}~", "x", 0);
    OK("<AZaz09@x>", 0, "AZaz09", "x", 0);
}

static void rfc5321_4_1_2_dot_string_bad_dots(void **state)
{
    (void)state;
    BAD("<.a@x>", 0);
    BAD("<a.@x>", 0);
    BAD("<a..b@x>", 0);
    BAD("<.@x>", 0);
    BAD("<@x>", 0);
    BAD("<a.b.@x>", 0);
    BAD("<a.b..c@x>", 0);
}

static void rfc5321_4_1_2_dot_string_non_atext(void **state)
{
    (void)state;
    BAD("<a b@x>", 0);
    BAD("<a(b)@x>", 0);
    BAD("<a,b@x>", 0);
    BAD("<a:b@x>", 0);
    BAD("<a;b@x>", 0);
    BAD("<a<b@x>", 0);
    BAD("<a>b@x>", 0);
    BAD("<a[b@x>", 0);
    BAD("<a\\b@x>", 0);
    BAD("<a\"b@x>", 0);
    BAD("<a@b@x>", 0);
    BAD("<ab>", 0);
    BAD("<ab@>", 0);
}

/* --- RFC 5321 4.1.2 Quoted-string --------------------------------------------- */

static void rfc5321_4_1_2_quoted_string_keeps_quotes(void **state)
{
    smtpw_path p;
    (void)state;
    p = OK("<\"john doe\"@example.com>", 0, "\"john doe\"", "example.com", SMTPW_PATH_QUOTED);
    span_is(p.mailbox, "\"john doe\"@example.com", __LINE__);
    unquote_is(&p, "john doe", __LINE__);
    p = OK("<\"a@b\"@x>", 0, "\"a@b\"", "x", SMTPW_PATH_QUOTED);
    unquote_is(&p, "a@b", __LINE__);
    p = OK("<\"a..b.\"@x>", 0, "\"a..b.\"", "x", SMTPW_PATH_QUOTED);
    unquote_is(&p, "a..b.", __LINE__);
    p = OK("<\"plain\"@x>", 0, "\"plain\"", "x", SMTPW_PATH_QUOTED);
    unquote_is(&p, "plain", __LINE__);
    /* every qtextSMTP byte: %d32-33 / %d35-91 / %d93-126 */
    p = OK("<\" !#[]~<>(),;:\"@x>", 0, "\" !#[]~<>(),;:\"", "x", SMTPW_PATH_QUOTED);
    unquote_is(&p, " !#[]~<>(),;:", __LINE__);
}

static void rfc5321_4_1_2_quoted_pair_escapes(void **state)
{
    smtpw_path p;
    (void)state;
    p = OK("<\"a\\\"b\\\\c\"@x>", 0, "\"a\\\"b\\\\c\"", "x", SMTPW_PATH_QUOTED);
    unquote_is(&p, "a\"b\\c", __LINE__);
    /* quoted-pairSMTP = "\" %d32-126: any printable may be escaped */
    p = OK("<\"\\a\\ \\~\"@x>", 0, "\"\\a\\ \\~\"", "x", SMTPW_PATH_QUOTED);
    unquote_is(&p, "a ~", __LINE__);
    /* an escaped quote does not end the string */
    p = OK("<\"\\\"\"@x>", 0, "\"\\\"\"", "x", SMTPW_PATH_QUOTED);
    unquote_is(&p, "\"", __LINE__);
}

static void rfc5321_4_1_2_quoted_string_empty(void **state)
{
    smtpw_path p;
    char buf[4];
    size_t n = 9;
    (void)state;
    /* Quoted-string = DQUOTE *QcontentSMTP DQUOTE: may be empty */
    p = OK("<\"\"@x>", 0, "\"\"", "x", SMTPW_PATH_QUOTED);
    assert_int_equal(smtpw_path_local_unquote(&p, buf, 0, &n), 0);
    assert_int_equal(n, 0);
}

static void rfc5321_4_1_2_quoted_string_bad(void **state)
{
    (void)state;
    BAD("<\"abc@x>", 0);          /* unterminated */
    BAD("<\"abc\"x@y>", 0);       /* text after the closing quote */
    BAD("<x\"abc\"@y>", 0);       /* quote inside a dot-string */
    BAD("<\"a\tb\"@x>", 0);       /* TAB is not qtextSMTP */
    BAD("<\"a\\\tb\"@x>", 0);     /* nor a quoted-pair */
    BAD("<\"a\x7f\"@x>", 0);      /* DEL */
    BAD("<\"a\\\x7f\"@x>", 0);    /* escaped DEL */
    BAD("<\"a\\\"@x>", 0);        /* the escaped quote leaves it open */
    BAD("<\"a\\", 0);             /* ends after the backslash */
    BAD("<\"\"\"@x>", 0);
    BAD("<\"a\".\"b\"@x>", 0);    /* RFC 5322 obs-local-part is not SMTP */
}

static void rfc5321_4_1_2_local_unquote_nobuf(void **state)
{
    smtpw_path p;
    char buf[8];
    size_t n = 9;
    (void)state;
    p = OK("<\"a\\\"b\"@x>", 0, "\"a\\\"b\"", "x", SMTPW_PATH_QUOTED);
    assert_int_equal(smtpw_path_local_unquote(&p, buf, 2, &n), SMTPW_E_NOBUF);
    assert_int_equal(n, 0);
    assert_int_equal(smtpw_path_local_unquote(&p, buf, 3, &n), 0);
    assert_int_equal(n, 3);
    assert_memory_equal(buf, "a\"b", 3);
    p = OK("<abcd@x>", 0, "abcd", "x", 0);
    assert_int_equal(smtpw_path_local_unquote(&p, buf, 3, &n), SMTPW_E_NOBUF);
    assert_int_equal(smtpw_path_local_unquote(&p, buf, 4, &n), 0);
    assert_int_equal(n, 4);
    assert_int_equal(smtpw_path_local_unquote(NULL, buf, 4, &n), SMTPW_E_INVALID_ARG);
    assert_int_equal(smtpw_path_local_unquote(&p, buf, 4, NULL), SMTPW_E_INVALID_ARG);
}

/* --- RFC 5321 4.1.2 Domain ---------------------------------------------------- */

static void rfc5321_4_1_2_domain_labels(void **state)
{
    (void)state;
    OK("<a@a-b.example>", 0, "a", "a-b.example", 0);
    OK("<a@a--b.c>", 0, "a", "a--b.c", 0);
    OK("<a@localhost>", 0, "a", "localhost", 0);
    OK("<a@x.123>", 0, "a", "x.123", 0); /* numeric labels are grammatical */
    OK("<a@1.2.3.4>", 0, "a", "1.2.3.4", 0);
    OK("<a@9>", 0, "a", "9", 0);
    OK("<a@EXAMPLE.COM>", 0, "a", "EXAMPLE.COM", 0);
    BAD("<a@-ab.c>", 0);
    BAD("<a@ab-.c>", 0);
    BAD("<a@ab.-c>", 0);
    BAD("<a@ab.c->", 0);
    BAD("<a@->", 0);
    BAD("<a@a..b>", 0);
    BAD("<a@.a>", 0);
    BAD("<a@a.>", 0); /* no trailing root dot in SMTP */
    BAD("<a@a_b.c>", 0);
    BAD("<a@a b>", 0);
    BAD("<a@>", 0);
    BAD("<a@a:b>", 0);
}

static void rfc5321_4_1_2_domain_check(void **state)
{
    (void)state;
    assert_int_equal(smtpw_domain_check("example.com", 11, 0), 0);
    assert_int_equal(smtpw_domain_check("a", 1, 0), 0);
    assert_int_equal(smtpw_domain_check("", 0, 0), SMTPW_E_SYNTAX);
    assert_int_equal(smtpw_domain_check("a.", 2, 0), SMTPW_E_SYNTAX);
    assert_int_equal(smtpw_domain_check("a-", 2, 0), SMTPW_E_SYNTAX);
    assert_int_equal(smtpw_domain_check("a b", 3, 0), SMTPW_E_SYNTAX);
    assert_int_equal(smtpw_domain_check("a\r\n", 3, 0), SMTPW_E_SYNTAX);
    assert_int_equal(smtpw_domain_check("[1.2.3.4]", 9, 0), SMTPW_E_SYNTAX);
    assert_int_equal(smtpw_domain_check("b\xc3\xbc" "cher.de", 9, 0), SMTPW_E_SYNTAX);
    assert_int_equal(smtpw_domain_check("b\xc3\xbc" "cher.de", 9, U), 0);
    assert_int_equal(smtpw_domain_check(NULL, 0, 0), SMTPW_E_INVALID_ARG);
    /* the length given is the length checked: a NUL inside is a byte */
    assert_int_equal(smtpw_domain_check("ab\0cd", 5, 0), SMTPW_E_SYNTAX);
    assert_int_equal(smtpw_domain_check("ab\0cd", 2, 0), 0);
}

/* Dot-strings and domains are scanned 16 bytes a round where SIMD is
 * built in: a dot, hyphen or UTF-8 byte at every offset of 1 to 3 rounds
 * must give the byte-wise answers. */
static void rfc5321_4_1_2_dot_rules_at_every_offset(void **state)
{
    static const char *const pairs[] = {"..", ".-", "-."};
    char s[96], t[48];
    size_t len, k, i;
    (void)state;
    for (len = 1; len <= 40; len++) {
        for (k = 0; k < len; k++) {
            int edge = k == 0 || k == len - 1;
            memset(t, 'a', len);
            t[len] = '\0';
            t[k] = '.';
            snprintf(s, sizeof s, "<x@%s>", t);
            if (edge)
                BAD(s, 0);
            else
                OK(s, 0, "x", t, 0);
            snprintf(s, sizeof s, "<%s@x.y>", t); /* Dot-string: the same rule */
            if (edge)
                BAD(s, 0);
            else
                OK(s, 0, t, "x.y", 0);
            t[k] = '-'; /* a label may not start or end with '-' */
            snprintf(s, sizeof s, "<x@%s>", t);
            if (edge)
                BAD(s, 0);
            else
                OK(s, 0, "x", t, 0);
            snprintf(s, sizeof s, "<%s@x.y>", t); /* '-' is atext */
            OK(s, 0, t, "x.y", 0);
            for (i = 0; i < 3 && k + 1 < len; i++) {
                memcpy(t + k, pairs[i], 2);
                snprintf(s, sizeof s, "<x@%s>", t);
                BAD(s, 0);
            }
            memset(t, 'a', len);
            memcpy(t + k, "\xc3\xa9", 2); /* UTF-8 inside a run */
            t[len + 1] = '\0';
            snprintf(s, sizeof s, "<%s@x.y>", t);
            OK(s, U, t, "x.y", SMTPW_PATH_UTF8);
            BAD(s, 0);
            snprintf(s, sizeof s, "<x@%s>", t);
            OK(s, U, "x", t, SMTPW_PATH_UTF8);
            BAD(s, 0);
        }
    }
}

/* --- RFC 5321 4.1.3 address literals ------------------------------------------ */

static void literal_ok(const char *lit, uint32_t kind, const char *inner, int line)
{
    char buf[300];
    smtpw_path p;
    size_t c;
    uint32_t k = 99;
    int n = snprintf(buf, sizeof buf, "<u@%s>", lit);
    EQ(parse_n(buf, (size_t)n, 0, &p, &c, line), 0, line);
    EQ(c, (size_t)n, line);
    EQ(p.literal_kind, kind, line);
    span_is(p.domain, lit, line);
    span_is(p.literal, inner, line);
    EQ(smtpw_address_literal_check(lit, strlen(lit), &k), 0, line);
    EQ(k, kind, line);
}
#define LIT_OK(lit, kind, inner) literal_ok(lit, kind, inner, __LINE__)

static void literal_bad(const char *lit, int line)
{
    char buf[300];
    smtpw_path p;
    size_t c;
    uint32_t k = 99;
    int n = snprintf(buf, sizeof buf, "<u@%s>", lit);
    EQ(parse_n(buf, (size_t)n, U, &p, &c, line), SMTPW_E_SYNTAX, line);
    EQ(smtpw_address_literal_check(lit, strlen(lit), &k), SMTPW_E_SYNTAX, line);
    EQ(k, SMTPW_LITERAL_NONE, line);
}
#define LIT_BAD(lit) literal_bad(lit, __LINE__)

static void rfc5321_4_1_3_ipv4_literal(void **state)
{
    (void)state;
    LIT_OK("[192.0.2.1]", SMTPW_LITERAL_IPV4, "192.0.2.1");
    LIT_OK("[0.0.0.0]", SMTPW_LITERAL_IPV4, "0.0.0.0");
    LIT_OK("[255.255.255.255]", SMTPW_LITERAL_IPV4, "255.255.255.255");
    LIT_OK("[001.02.3.004]", SMTPW_LITERAL_IPV4, "001.02.3.004");
    LIT_BAD("[256.0.0.1]");
    LIT_BAD("[1.2.3.256]");
    LIT_BAD("[1.2.3.999]");
    LIT_BAD("[1234.1.1.1]");
    LIT_BAD("[0001.1.1.1]");
    LIT_BAD("[1.2.3]");
    LIT_BAD("[1.2.3.4.5]");
    LIT_BAD("[1..2.3]");
    LIT_BAD("[1.2.3.]");
    LIT_BAD("[.1.2.3]");
    LIT_BAD("[1.2.3.4 ]");
    LIT_BAD("[ 1.2.3.4]");
    LIT_BAD("[a.b.c.d]");
    LIT_BAD("[]");
    LIT_BAD("[");
    LIT_BAD("[1.2.3.4");
    LIT_BAD("1.2.3.4]");
    LIT_BAD("[1.2.3.4]]");
    LIT_BAD("[[1.2.3.4]");
}

static void rfc5321_4_1_3_ipv6_literal(void **state)
{
    static const char *const good[] = {
        "::", "::1", "1::", "1:2:3:4:5:6:7:8", "2001:db8::1", "2001:DB8:0:0:0:0:0:1",
        "fe80::1:2", "1:2:3::4:5:6", "1::2:3:4:5:6", "1:2:3:4:5::6", "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff",
        "::ffff:1.2.3.4", "::1.2.3.4", "1:2:3:4:5:6:1.2.3.4", "1:2:3:4::1.2.3.4", "1::2.3.4.5",
        "0:0:0:0:0:0:0:0", "1:2:3:4:5:6::", "::1:2:3:4:5:6",
    };
    static const char *const bad[] = {
        "", ":", ":::", "1:2:3:4:5:6:7:8:9", "1:2:3:4:5:6:7", "1::2::3", "::1::", "12345::",
        "::12345", "1:2:3:4:5:6:7:12345", "g::1", "1:::2", ":1:2:3:4:5:6:7:8",
        "1:2:3:4:5:6:7:8:", "1:", ":1", "::ffff:1.2.3.256", "::ffff:1.2.3", "1.2.3.4",
        "::1.2.3.4:1", "1:2:3:4:5:6:7:1.2.3.4", "1:2:3:4:5::1.2.3.4", "::ffff:1a.2.3.4",
        /* RFC 5321 4.1.3: "::" stands for at least 2 groups, at most 6 others */
        "1:2:3:4:5:6:7::", "::1:2:3:4:5:6:7", "1:2:3::4:5:6:7", "1:2:3:4:5::1.2.3.4",
        "1:2 ::", " ::1", "::1 ",
    };
    size_t i;
    char lit[128];
    (void)state;
    for (i = 0; i < sizeof good / sizeof good[0]; i++) {
        snprintf(lit, sizeof lit, "[IPv6:%s]", good[i]);
        literal_ok(lit, SMTPW_LITERAL_IPV6, good[i], (int)(__LINE__ * 1000 + i));
        snprintf(lit, sizeof lit, "[ipv6:%s]", good[i]); /* ABNF strings ignore case */
        literal_ok(lit, SMTPW_LITERAL_IPV6, good[i], (int)(__LINE__ * 1000 + i));
    }
    for (i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        snprintf(lit, sizeof lit, "[IPv6:%s]", bad[i]);
        literal_bad(lit, (int)(__LINE__ * 1000 + i));
    }
    /* "IPv6" as a tag must hold an IPv6 address, never a general literal */
    LIT_BAD("[IPv6:hello]");
    LIT_BAD("[IPv6:]");
    LIT_BAD("[IPv6]");
}

static void rfc5321_4_1_3_general_literal(void **state)
{
    (void)state;
    LIT_OK("[x-tag:abc]", SMTPW_LITERAL_GENERAL, "abc");
    LIT_OK("[X400:a=b;c=d]", SMTPW_LITERAL_GENERAL, "a=b;c=d");
    LIT_OK("[t:!~^_`{|}]", SMTPW_LITERAL_GENERAL, "!~^_`{|}");
    LIT_OK("[tag:a:b:c]", SMTPW_LITERAL_GENERAL, "a:b:c");
    LIT_OK("[1a:x]", SMTPW_LITERAL_GENERAL, "x"); /* Ldh-str may start with a digit */
    LIT_OK("[IPv66:x]", SMTPW_LITERAL_GENERAL, "x");
    LIT_OK("[IPv4:x]", SMTPW_LITERAL_GENERAL, "x");
    LIT_BAD("[tag:]");        /* 1*dcontent */
    LIT_BAD("[:abc]");        /* no tag */
    LIT_BAD("[tag-:abc]");    /* Ldh-str ends in Let-dig */
    LIT_BAD("[-:abc]");
    LIT_BAD("[t_g:abc]");
    LIT_BAD("[t g:abc]");
    LIT_BAD("[tag:a b]");     /* SP is not dcontent */
    LIT_BAD("[tag:a[b]");     /* %d91 */
    LIT_BAD("[tag:a\\b]");    /* %d92 */
    LIT_BAD("[tag:a\x7f]");
    LIT_BAD("[tag:a\xc3\xa9]"); /* no UTF-8 in literals, even with SMTPW_PARSE_UTF8 */
    LIT_BAD("[abc]");         /* neither IPv4 nor tag ":" content */
    assert_int_equal(smtpw_address_literal_check(NULL, 0, NULL), SMTPW_E_INVALID_ARG);
    assert_int_equal(smtpw_address_literal_check("", 0, NULL), SMTPW_E_SYNTAX);
    assert_int_equal(smtpw_address_literal_check("[1.2.3.4]", 9, NULL), 0);
}

/* --- null path, Postmaster, source routes ------------------------------------- */

static void rfc5321_4_1_2_null_reverse_path(void **state)
{
    smtpw_path p;
    size_t c;
    (void)state;
    p = OK("<>", R, "", "", SMTPW_PATH_NULL);
    span_is(p.mailbox, "", __LINE__);
    assert_int_equal(parse_n("<> SIZE=10", 10, R, &p, &c, __LINE__), 0);
    assert_int_equal(c, 2);
    BAD("<>", 0);
    BAD("<>", F);
    BAD("<>", L | U);
    BAD("< >", R);
    BAD("<", R);
    BAD("", R | F | L | U);
}

static void rfc5321_4_5_1_postmaster(void **state)
{
    smtpw_path p;
    size_t c;
    (void)state;
    p = OK("<Postmaster>", F, "Postmaster", "", SMTPW_PATH_POSTMASTER);
    span_is(p.mailbox, "Postmaster", __LINE__);
    assert_int_equal(p.literal_kind, SMTPW_LITERAL_NONE);
    OK("<pOsTmAsTeR>", F, "pOsTmAsTeR", "", SMTPW_PATH_POSTMASTER);
    OK("<POSTMASTER>", F | R, "POSTMASTER", "", SMTPW_PATH_POSTMASTER);
    assert_int_equal(parse_n("<postmaster> NOTIFY=NEVER", 25, F, &p, &c, __LINE__), 0);
    assert_int_equal(c, 12);
    /* <postmaster@domain> is an ordinary mailbox */
    OK("<postmaster@example.com>", F, "postmaster", "example.com", 0);
    OK("<postmaster@example.com>", 0, "postmaster", "example.com", 0);
    BAD("<Postmaster>", 0);
    BAD("<Postmaster>", R);
    BAD("<Postmasters>", F);
    BAD("<Postmaste>", F);
    BAD("<\"Postmaster\">", F);
    BAD("<@a:Postmaster>", F);
    BAD("<Postmaster@>", F);
    /* lenient bare form */
    p = OK("Postmaster", F | L, "Postmaster", "", SMTPW_PATH_POSTMASTER | SMTPW_PATH_NO_BRACKETS);
    BAD("Postmaster", F);
    BAD("Postmaster", L);
}

static void rfc5321_4_1_1_3_source_route(void **state)
{
    smtpw_path p;
    (void)state;
    p = OK("<@a,@b:user@c>", 0, "user", "c", SMTPW_PATH_ROUTE);
    span_is(p.route, "@a,@b", __LINE__);
    span_is(p.mailbox, "user@c", __LINE__);
    p = OK("<@relay.example:u@x.example>", R | F, "u", "x.example", SMTPW_PATH_ROUTE);
    span_is(p.route, "@relay.example", __LINE__);
    p = OK("<@a,@b,@c:\"q r\"@[1.2.3.4]>", 0, "\"q r\"", "[1.2.3.4]",
           SMTPW_PATH_ROUTE | SMTPW_PATH_QUOTED);
    span_is(p.route, "@a,@b,@c", __LINE__);
    assert_int_equal(p.literal_kind, SMTPW_LITERAL_IPV4);
    BAD("<@a,b:u@c>", 0);
    BAD("<@:u@c>", 0);
    BAD("<@a>", 0);
    BAD("<@a,@b>", 0);
    BAD("<@a:>", 0);
    BAD("<@a:@b:u@c>", 0);
    BAD("<@a,:u@c>", 0);
    BAD("<@a,,@b:u@c>", 0);
    BAD("<@a;@b:u@c>", 0);
    BAD("<@-a:u@c>", 0);
    BAD("<@[1.2.3.4]:u@c>", 0); /* At-domain is a Domain only */
    BAD("<@a :u@c>", 0);
    BAD("@a:u@c", L);           /* routes need the brackets */
}

/* --- RFC 5321 4.5.3.1 size limits --------------------------------------------- */

static void rep(char *dst, char c, size_t n)
{
    memset(dst, c, n);
    dst[n] = '\0';
}

/* A domain of exactly n octets made of 63-octet labels. */
static void mkdomain(char *dst, size_t n)
{
    size_t i;
    for (i = 0; i < n; i++)
        dst[i] = (i % 64 == 63) ? '.' : 'd';
    if (n && dst[n - 1] == '.')
        dst[n - 1] = 'e';
    dst[n] = '\0';
}

static void rfc5321_4_5_3_1_1_local_part_64(void **state)
{
    char local[80], path[120], q[80];
    (void)state;
    rep(local, 'a', 64);
    snprintf(path, sizeof path, "<%s@x>", local);
    OK(path, 0, local, "x", 0);
    rep(local, 'a', 65);
    snprintf(path, sizeof path, "<%s@x>", local);
    LONG(path, 0);
    /* quotes count: they are part of the local part as written */
    rep(q + 1, 'b', 62);
    q[0] = '"';
    q[63] = '"';
    q[64] = '\0';
    snprintf(path, sizeof path, "<%s@x>", q);
    OK(path, 0, q, "x", SMTPW_PATH_QUOTED);
    rep(q + 1, 'b', 63);
    q[0] = '"';
    q[64] = '"';
    q[65] = '\0';
    snprintf(path, sizeof path, "<%s@x>", q);
    LONG(path, 0);
}

static void rfc5321_4_5_3_1_2_domain_255(void **state)
{
    char d[300];
    (void)state;
    mkdomain(d, 255);
    assert_int_equal(smtpw_domain_check(d, 255, 0), 0);
    mkdomain(d, 256);
    assert_int_equal(smtpw_domain_check(d, 256, 0), SMTPW_E_TOOLONG);
    /* in a route the 255 limit applies per At-domain */
    {
        char path[600];
        mkdomain(d, 256);
        snprintf(path, sizeof path, "<@%s:a@b>", d);
        LONG(path, 0);
    }
    assert_int_equal(smtpw_address_literal_check("[1.2.3.4]", 9, NULL), 0);
}

static void rfc5321_4_5_3_1_3_path_256(void **state)
{
    char d[300], local[80], path[400];
    (void)state;
    /* 2 brackets + 1 local + '@' + 252 domain = 256 */
    mkdomain(d, 252);
    snprintf(path, sizeof path, "<a@%s>", d);
    assert_int_equal(strlen(path), 256);
    OK(path, 0, "a", d, 0);
    mkdomain(d, 253);
    snprintf(path, sizeof path, "<a@%s>", d);
    assert_int_equal(strlen(path), 257);
    LONG(path, 0);
    /* 64-octet local part: 2 + 64 + 1 + 189 = 256 */
    rep(local, 'l', 64);
    mkdomain(d, 189);
    snprintf(path, sizeof path, "<%s@%s>", local, d);
    OK(path, 0, local, d, 0);
    mkdomain(d, 190);
    snprintf(path, sizeof path, "<%s@%s>", local, d);
    LONG(path, 0);
    /* the route counts toward the path length */
    mkdomain(d, 249);
    snprintf(path, sizeof path, "<@r:a@%s>", d);
    assert_int_equal(strlen(path), 256);
    OK(path, 0, "a", d, SMTPW_PATH_ROUTE);
    mkdomain(d, 250);
    snprintf(path, sizeof path, "<@r:a@%s>", d);
    LONG(path, 0);
    /* bare form: counted as if it had its brackets */
    mkdomain(d, 252);
    snprintf(path, sizeof path, "a@%s", d);
    OK(path, L, "a", d, SMTPW_PATH_NO_BRACKETS);
    mkdomain(d, 253);
    snprintf(path, sizeof path, "a@%s", d);
    LONG(path, L);
}

/* --- control and 8-bit bytes, RFC 6531 3.3 ------------------------------------ */

static void rfc5321_4_1_2_control_bytes_refused(void **state)
{
    static const char *const tmpl[] = {"<a%cb@x>", "<a@x%cy>", "<\"a%cb\"@x>", "<\"a\\%c\"@x>",
                                       "<a@[1.2.3.4%c]>", "<%ca@x>", "<a@x%c>", "<@r%c:a@x>",
                                       "<a@[t:x%c]>", "a%c@x"};
    static const char ctl[] = {'\r', '\n', '\t', '\0', 0x01, 0x1f, 0x7f};
    size_t i, j;
    char buf[32];
    (void)state;
    for (i = 0; i < sizeof tmpl / sizeof tmpl[0]; i++) {
        for (j = 0; j < sizeof ctl; j++) {
            /* place the byte by hand: snprintf stops at NUL */
            const char *t = tmpl[i];
            size_t n = 0;
            for (; *t; t++) {
                if (t[0] == '%' && t[1] == 'c') {
                    buf[n++] = ctl[j];
                    t++;
                } else
                    buf[n++] = *t;
            }
            bad_at(buf, n, R | F | L | U, SMTPW_E_SYNTAX, (int)(__LINE__ * 1000 + i * 10 + j));
        }
    }
}

static void rfc6531_3_3_eight_bit_needs_utf8(void **state)
{
    smtpw_path p;
    (void)state;
    BAD("<\xc3\xa9@x>", 0);
    BAD("<a@b\xc3\xbc" "cher.de>", 0);
    BAD("<\"\xc3\xa9\"@x>", 0);
    BAD("<a@x\xc3\xa9>", F | R | L);
    p = OK("<\xc3\xa9@x>", U, "\xc3\xa9", "x", SMTPW_PATH_UTF8);
    p = OK("<j\xc3\xb6rg@b\xc3\xbc" "cher.de>", U, "j\xc3\xb6rg", "b\xc3\xbc" "cher.de",
           SMTPW_PATH_UTF8);
    p = OK("<\"\xe2\x82\xac \xf0\x9f\x98\x80\"@x>", U, "\"\xe2\x82\xac \xf0\x9f\x98\x80\"", "x",
           SMTPW_PATH_UTF8 | SMTPW_PATH_QUOTED);
    unquote_is(&p, "\xe2\x82\xac \xf0\x9f\x98\x80", __LINE__);
    p = OK("<a@\xe4\xbe\x8b\xe3\x81\x88.\xe3\x83\x86\xe3\x82\xb9\xe3\x83\x88>", U, "a",
           "\xe4\xbe\x8b\xe3\x81\x88.\xe3\x83\x86\xe3\x82\xb9\xe3\x83\x88", SMTPW_PATH_UTF8);
    /* ASCII-only input under SMTPW_PARSE_UTF8 does not set the flag */
    OK("<a@x>", U, "a", "x", 0);
    /* U-labels still obey the hyphen rule */
    BAD("<a@-\xc3\xa9>", U);
    BAD("<a@\xc3\xa9->", U);
    OK("<a@\xc3\xa9-\xc3\xa9>", U, "a", "\xc3\xa9-\xc3\xa9", SMTPW_PATH_UTF8);
}

static void rfc3629_invalid_utf8_refused(void **state)
{
    static const char *const bad[] = {
        "\x80",             /* lone continuation */
        "\xbf",
        "\xc0\xaf",         /* overlong '/' */
        "\xc1\xbf",         /* overlong */
        "\xe0\x80\xaf",     /* overlong 3-byte */
        "\xe0\x9f\xbf",
        "\xed\xa0\x80",     /* surrogate U+D800 */
        "\xed\xbf\xbf",
        "\xf0\x80\x80\xaf", /* overlong 4-byte */
        "\xf0\x8f\xbf\xbf",
        "\xf4\x90\x80\x80", /* above U+10FFFF */
        "\xf5\x80\x80\x80",
        "\xff",
        "\xfe",
        "\xc3",             /* truncated */
        "\xe2\x82",
        "\xf0\x9f\x98",
        "\xc3\x28",         /* bad continuation */
        "\xe2\x28\xa1",
        "\xe2\x82\x28",
    };
    static const char *const tmpl[] = {"<a%s@x>", "<a@x%s>", "<\"%s\"@x>", "<\"\\%s\"@x>", "a%s@x"};
    char buf[64];
    size_t i, j;
    (void)state;
    for (i = 0; i < sizeof bad / sizeof bad[0]; i++)
        for (j = 0; j < sizeof tmpl / sizeof tmpl[0]; j++) {
            const char *pct = strstr(tmpl[j], "%s");
            size_t a = (size_t)(pct - tmpl[j]), b = strlen(bad[i]), n;
            memcpy(buf, tmpl[j], a);
            memcpy(buf + a, bad[i], b);
            strcpy(buf + a + b, pct + 2);
            n = strlen(buf);
            bad_at(buf, n, U | L | R | F, SMTPW_E_SYNTAX, (int)(__LINE__ * 1000 + i * 10 + j));
        }
    /* the valid extremes */
    OK("<\xc2\x80\xdf\xbf\xe0\xa0\x80\xed\x9f\xbf\xee\x80\x80\xf0\x90\x80\x80\xf4\x8f\xbf\xbf@x>", U,
       "\xc2\x80\xdf\xbf\xe0\xa0\x80\xed\x9f\xbf\xee\x80\x80\xf0\x90\x80\x80\xf4\x8f\xbf\xbf", "x",
       SMTPW_PATH_UTF8);
}

/* --- lenient bare addresses, consumed, arguments ------------------------------ */

static void lenient_bare_address(void **state)
{
    smtpw_path p;
    size_t c;
    (void)state;
    p = OK("user@example.com", L, "user", "example.com", SMTPW_PATH_NO_BRACKETS);
    span_is(p.mailbox, "user@example.com", __LINE__);
    assert_int_equal(parse_n("user@example.com SIZE=10", 24, L, &p, &c, __LINE__), 0);
    assert_int_equal(c, 16);
    span_is(p.raw, "user@example.com", __LINE__);
    p = OK("\"a b\"@x", L, "\"a b\"", "x", SMTPW_PATH_NO_BRACKETS | SMTPW_PATH_QUOTED);
    /* the brackets still work, without the NO_BRACKETS flag */
    OK("<user@example.com>", L, "user", "example.com", 0);
    BAD("user@example.com", 0);
    BAD("user@example.com>", L);
    BAD("user@example.com\t", L);
    BAD("user", L);
    BAD(" user@x", L); /* spaces before the path are the caller's business */
    BAD("<user@x", L);
}

static void rfc5321_4_1_2_consumed_stops_at_bracket(void **state)
{
    smtpw_path p;
    size_t c;
    (void)state;
    assert_int_equal(parse_n("<a@b> SIZE=10", 13, 0, &p, &c, __LINE__), 0);
    assert_int_equal(c, 5);
    span_is(p.raw, "<a@b>", __LINE__);
    assert_int_equal(parse_n("<a@b>junk", 9, 0, &p, &c, __LINE__), 0);
    assert_int_equal(c, 5);
    assert_int_equal(parse_n("<a@[IPv6:::1]> BODY=8BITMIME", 28, 0, &p, &c, __LINE__), 0);
    assert_int_equal(c, 14);
    assert_int_equal(p.literal_kind, SMTPW_LITERAL_IPV6);
    span_is(p.literal, "::1", __LINE__);
    /* consumed may be NULL */
    assert_int_equal(smtpw_path_parse("<a@b>", 5, 0, &p, NULL), 0);
    assert_int_equal(smtpw_path_parse(NULL, 0, 0, &p, &c), SMTPW_E_INVALID_ARG);
    assert_int_equal(smtpw_path_parse("<a@b>", 5, 0, NULL, &c), SMTPW_E_INVALID_ARG);
    /* the length is authoritative, not a NUL */
    assert_int_equal(parse_n("<a@b>", 4, 0, &p, &c, __LINE__), SMTPW_E_SYNTAX);
}

/* Every valid bracketed vector: each proper prefix is refused, read
 * against the guard page (catches over-reads at every truncation point). */
static void truncation_at_every_byte(void **state)
{
    static const struct {
        const char *s;
        unsigned opt;
    } v[] = {
        {"<user@example.com>", 0},
        {"<\"a\\\"b\"@x>", 0},
        {"<@a,@b:user@c>", 0},
        {"<a@[192.0.2.1]>", 0},
        {"<a@[IPv6:2001:db8::ffff:1.2.3.4]>", 0},
        {"<a@[tag:xyz]>", 0},
        {"<>", R},
        {"<Postmaster>", F},
        {"<j\xc3\xb6rg@b\xc3\xbc" "cher.de>", U},
        {"<\"\xf0\x9f\x98\x80\"@x>", U},
    };
    size_t i, n;
    smtpw_path p;
    size_t c;
    (void)state;
    for (i = 0; i < sizeof v / sizeof v[0]; i++) {
        size_t len = strlen(v[i].s);
        assert_int_equal(parse_n(v[i].s, len, v[i].opt, &p, &c, __LINE__), 0);
        assert_int_equal(c, len);
        for (n = 0; n < len; n++) {
            int rc = parse_n(v[i].s, n, v[i].opt, &p, &c, __LINE__);
            if (rc != SMTPW_E_SYNTAX) {
                print_error("vector %zu prefix %zu: rc %d\n", i, n, rc);
                fail();
            }
        }
    }
}

/* --- smtpw_path_render -------------------------------------------------------- */

static void render_is(const char *mb, unsigned opt, const char *want, int line)
{
    char out[400];
    size_t n = 999;
    EQ(smtpw_path_render(mb, strlen(mb), opt, out, sizeof out, &n), 0, line);
    if (n != strlen(want) || memcmp(out, want, n) != 0) {
        print_error("render \"%.*s\" != \"%s\"\n", (int)n, out, want);
        _fail(__FILE__, line);
    }
}
#define RENDER(mb, opt, want) render_is(mb, opt, want, __LINE__)

static void render_err(const char *mb, size_t len, unsigned opt, int want, int line)
{
    char out[400];
    size_t n = 999;
    EQ(smtpw_path_render(mb, len, opt, out, sizeof out, &n), want, line);
    EQ(n, 0, line);
}
#define RENDER_ERR(mb, opt, want) render_err(mb, strlen(mb), opt, want, __LINE__)

static void rfc5321_4_1_2_render_quotes_when_needed(void **state)
{
    (void)state;
    RENDER("user@example.com", 0, "<user@example.com>");
    RENDER("first.last@x", 0, "<first.last@x>");
    RENDER("!#$%&'*+-/=?^_`{|}~@x", 0, "<!#$%&'*+-/=?^_`{|}~@x>");
    RENDER("john doe@x", 0, "<\"john doe\"@x>");
    RENDER("a\"b@x", 0, "<\"a\\\"b\"@x>");
    RENDER("a\\b@x", 0, "<\"a\\\\b\"@x>");
    RENDER(".a@x", 0, "<\".a\"@x>");
    RENDER("a.@x", 0, "<\"a.\"@x>");
    RENDER("a..b@x", 0, "<\"a..b\"@x>");
    RENDER("@x", 0, "<\"\"@x>");
    RENDER("a@b@x", 0, "<\"a@b\"@x>"); /* the last '@' separates */
    RENDER("a<b>@x", 0, "<\"a<b>\"@x>");
    RENDER("u@[192.0.2.1]", 0, "<u@[192.0.2.1]>");
    RENDER("u@[IPv6:::1]", 0, "<u@[IPv6:::1]>");
    RENDER("u@[t:a@b]", 0, "<u@[t:a@b]>"); /* '@' is dcontent */
    RENDER("a@b@[t:a@b]", 0, "<\"a@b\"@[t:a@b]>");
    RENDER_ERR("u@x]", 0, SMTPW_E_SYNTAX);
    RENDER("Postmaster", 0, "<Postmaster>");
    RENDER("postMASTER", 0, "<postMASTER>");
    RENDER("", 0, "<>");
    RENDER("\xc3\xa9@b\xc3\xbc" "cher.de", U, "<\xc3\xa9@b\xc3\xbc" "cher.de>");
    RENDER("\xc3\xa9 x@x", U, "<\"\xc3\xa9 x\"@x>");
}

static void rfc5321_4_1_2_render_refuses(void **state)
{
    (void)state;
    RENDER_ERR("user", 0, SMTPW_E_SYNTAX);
    RENDER_ERR("a@", 0, SMTPW_E_SYNTAX);
    RENDER_ERR("a@-x", 0, SMTPW_E_SYNTAX);
    RENDER_ERR("a@x.", 0, SMTPW_E_SYNTAX);
    RENDER_ERR("a@x>", 0, SMTPW_E_SYNTAX);
    RENDER_ERR("a@x> SIZE=1", 0, SMTPW_E_SYNTAX);
    RENDER_ERR("a@[1.2.3.256]", 0, SMTPW_E_SYNTAX);
    RENDER_ERR("a@[IPv6:1::2::3]", 0, SMTPW_E_SYNTAX);
    /* command injection attempts */
    RENDER_ERR("a@x\r\nRCPT TO:<b@y>", 0, SMTPW_E_SYNTAX);
    RENDER_ERR("a\r\n@x", 0, SMTPW_E_SYNTAX);
    RENDER_ERR("a\n@x", 0, SMTPW_E_SYNTAX);
    RENDER_ERR("a\t@x", 0, SMTPW_E_SYNTAX);
    RENDER_ERR("a\x7f@x", 0, SMTPW_E_SYNTAX);
    render_err("a\0b@x", 5, 0, SMTPW_E_SYNTAX, __LINE__);
    render_err("a@x\0", 4, 0, SMTPW_E_SYNTAX, __LINE__);
    /* 8-bit needs SMTPW_PARSE_UTF8, and then valid UTF-8 */
    RENDER_ERR("\xc3\xa9@x", 0, SMTPW_E_SYNTAX);
    RENDER_ERR("a@\xc3\xa9", 0, SMTPW_E_SYNTAX);
    RENDER_ERR("\xc0\xaf@x", U, SMTPW_E_SYNTAX);
    RENDER_ERR("\xed\xa0\x80 x@x", U, SMTPW_E_SYNTAX);
    RENDER_ERR("a@\xff", U, SMTPW_E_SYNTAX);
    RENDER_ERR("\xc3@x", U, SMTPW_E_SYNTAX);
}

static void rfc5321_4_5_3_1_render_limits(void **state)
{
    char mb[400], d[300], local[80];
    char out[400];
    size_t n;
    (void)state;
    rep(local, 'a', 64);
    snprintf(mb, sizeof mb, "%s@x", local);
    assert_int_equal(smtpw_path_render(mb, strlen(mb), 0, out, sizeof out, &n), 0);
    rep(local, 'a', 65);
    snprintf(mb, sizeof mb, "%s@x", local);
    RENDER_ERR(mb, 0, SMTPW_E_TOOLONG);
    /* 62 octets plus 2 quotes = 64; one escape more is 65 */
    rep(local, ' ', 62);
    snprintf(mb, sizeof mb, "%s@x", local);
    assert_int_equal(smtpw_path_render(mb, strlen(mb), 0, out, sizeof out, &n), 0);
    assert_int_equal(n, 64 + 4);
    local[0] = '"';
    snprintf(mb, sizeof mb, "%s@x", local);
    RENDER_ERR(mb, 0, SMTPW_E_TOOLONG);
    mkdomain(d, 252);
    snprintf(mb, sizeof mb, "a@%s", d);
    assert_int_equal(smtpw_path_render(mb, strlen(mb), 0, out, sizeof out, &n), 0);
    assert_int_equal(n, 256);
    mkdomain(d, 253);
    snprintf(mb, sizeof mb, "a@%s", d);
    RENDER_ERR(mb, 0, SMTPW_E_TOOLONG);
    mkdomain(d, 256);
    snprintf(mb, sizeof mb, "a@%s", d);
    RENDER_ERR(mb, 0, SMTPW_E_TOOLONG);
}

static void render_nobuf_at_every_cap(void **state)
{
    static const char *const v[] = {"user@example.com", "a \"q\"@x", "", "Postmaster"};
    char out[64];
    size_t i, cap, n, full;
    (void)state;
    for (i = 0; i < sizeof v / sizeof v[0]; i++) {
        assert_int_equal(smtpw_path_render(v[i], strlen(v[i]), 0, out, sizeof out, &full), 0);
        for (cap = 0; cap < full; cap++) {
            n = 77;
            memset(out, 'Z', sizeof out);
            assert_int_equal(smtpw_path_render(v[i], strlen(v[i]), 0, out, cap, &n),
                             SMTPW_E_NOBUF);
            assert_int_equal(n, 0);
            assert_int_equal(out[cap], 'Z'); /* nothing past cap written */
        }
    }
    assert_int_equal(smtpw_path_render("a@b", 3, 0, NULL, 0, &n), SMTPW_E_NOBUF);
    assert_int_equal(smtpw_path_render("a@b", 3, 0, out, sizeof out, NULL), SMTPW_E_INVALID_ARG);
    assert_int_equal(smtpw_path_render(NULL, 3, 0, out, sizeof out, &n), SMTPW_E_INVALID_ARG);
    assert_int_equal(smtpw_path_render(NULL, 0, 0, out, sizeof out, &n), 0);
    assert_int_equal(n, 2);
}

/* render -> parse gives back the same mailbox (local unquoted, domain). */
static int roundtrip_one(const char *mb, size_t len, unsigned opt)
{
    char out[400], local[400];
    size_t n, c, ln;
    smtpw_path p;
    const char *at;
    int rc = smtpw_path_render(mb, len, opt, out, sizeof out, &n);
    if (rc != 0)
        return rc;
    assert_int_equal(parse_n(out, n, opt | SMTPW_PARSE_FORWARD | SMTPW_PARSE_REVERSE, &p, &c,
                             __LINE__),
                     0);
    assert_int_equal(c, n);
    assert_int_equal(smtpw_path_local_unquote(&p, local, sizeof local, &ln), 0);
    if (len == 0) {
        assert_true(p.flags & SMTPW_PATH_NULL);
        return 0;
    }
    /* local "@" domain must spell the input exactly */
    if (p.flags & SMTPW_PATH_POSTMASTER) {
        at = mb + len;
    } else {
        assert_true(p.domain.len < len);
        at = mb + len - p.domain.len - 1;
        assert_int_equal(*at, '@');
        assert_memory_equal(p.domain.ptr, at + 1, p.domain.len);
    }
    assert_int_equal(ln, (size_t)(at - mb));
    if (ln)
        assert_memory_equal(local, mb, ln);
    return 0;
}

static void rfc5321_4_1_2_render_roundtrip(void **state)
{
    static const char *const v[] = {
        "user@example.com", "john doe@x", "a\"b@x", "a\\b@x", ".a@x", "a.@x", "a..b@x", "@x",
        "a@b@x", "a<b>@x", "u@[192.0.2.1]", "u@[IPv6:2001:db8::1]", "u@[x-t:stuff]",
        "Postmaster", "", "\"\"@x", "\\@x", " @x", "(comment)@x", "a,b;c:d@x", "\"@x",
        "postmaster@x", "a b c d e f@sub.domain.example",
        "u@[t:a@b]", "[x]@[t:@]", "a@b@[t:@@]",
    };
    static const char alpha[] = "ab.\"\\ @(),:;<>[]!#~-_0Z";
    static const char *const doms[] = {"x", "example.com", "[1.2.3.4]", "[IPv6:::ffff:1.2.3.4]"};
    size_t i, ok = 0;
    uint32_t seed = 12345;
    char mb[128];
    (void)state;
    for (i = 0; i < sizeof v / sizeof v[0]; i++)
        assert_int_equal(roundtrip_one(v[i], strlen(v[i]), 0), 0);
    {
        static const char *const u8[] = {("\xc3\xa9\xe2\x82\xac@b\xc3\xbc" "cher.de"),
                                          "\xc3\xa9 \"\xe2\x82\xac\"@x", "\xf0\x9f\x98\x80.\xc3\xa9@x"};
        for (i = 0; i < sizeof u8 / sizeof u8[0]; i++)
            assert_int_equal(roundtrip_one(u8[i], strlen(u8[i]), U), 0);
    }
    /* pseudo-random local parts over an alphabet full of specials */
    for (i = 0; i < 20000; i++) {
        size_t llen, j, n;
        const char *d;
        int rc;
        seed = seed * 1103515245u + 12345u;
        llen = (seed >> 16) % 70;
        for (j = 0; j < llen; j++) {
            seed = seed * 1103515245u + 12345u;
            mb[j] = alpha[(seed >> 16) % (sizeof alpha - 1)];
        }
        d = doms[(seed >> 8) % 4];
        n = llen + 1 + strlen(d);
        mb[llen] = '@';
        memcpy(mb + llen + 1, d, strlen(d));
        rc = roundtrip_one(mb, n, 0);
        if (rc == 0)
            ok++;
        else
            assert_int_equal(rc, SMTPW_E_TOOLONG);
    }
    assert_true(ok > 10000);
}

/* Mutated and random inputs: never crash or over-read (guard page), spans
 * inside the input, and whatever parses re-renders to the same mailbox. */
static void hostile_mutations_keep_invariants(void **state)
{
    static const char *const seeds[] = {
        "<user@example.com> SIZE=1", "<\"a\\\"b c\"@x.y>", "<@a,@b:u@c>", "<a@[1.2.3.4]>",
        "<a@[IPv6:1:2:3:4:5:6:1.2.3.4]>", "<a@[tag:x]>", "<>", "<Postmaster>",
        ("<j\xc3\xb6rg@b\xc3\xbc" "cher.de>"), "user@example.com",
    };
    static const unsigned char pool[] = {'<', '>', '@', '.', '"', '\\', ':', ',', '[', ']', '-',
                                         ' ', 'a', 'Z', '0', '9', 0x00, '\r', '\n', 0x7f,
                                         0x80, 0xc3, 0xa9, 0xff, '!', '=', '+'};
    unsigned opts[] = {0, R | F, L, U, R | F | L | U};
    uint32_t seed = 99;
    size_t i, parsed = 0;
    char buf[128], local[300], out[400];
    (void)state;
    for (i = 0; i < 200000; i++) {
        const char *sd;
        size_t n, k, muts, c, ln, on;
        unsigned opt;
        smtpw_path p;
        int rc;
        seed = seed * 1103515245u + 12345u;
        sd = seeds[(seed >> 16) % (sizeof seeds / sizeof seeds[0])];
        n = strlen(sd);
        memcpy(buf, sd, n);
        seed = seed * 1103515245u + 12345u;
        muts = 1 + (seed >> 16) % 3;
        for (k = 0; k < muts; k++) {
            size_t pos;
            unsigned char b;
            seed = seed * 1103515245u + 12345u;
            pos = (seed >> 8) % (n + 1);
            b = pool[(seed >> 20) % sizeof pool];
            switch ((seed >> 28) % 3) {
            case 0: /* replace */
                if (pos < n)
                    buf[pos] = (char)b;
                break;
            case 1: /* insert */
                if (n < sizeof buf - 1) {
                    memmove(buf + pos + 1, buf + pos, n - pos);
                    buf[pos] = (char)b;
                    n++;
                }
                break;
            default: /* delete */
                if (pos < n) {
                    memmove(buf + pos, buf + pos + 1, n - pos - 1);
                    n--;
                }
                break;
            }
        }
        opt = opts[(seed >> 4) % 5];
        rc = parse_n(buf, n, opt, &p, &c, __LINE__);
        if (rc != 0) {
            assert_true(rc == SMTPW_E_SYNTAX || rc == SMTPW_E_TOOLONG);
            continue;
        }
        parsed++;
        for (k = 0; k < c; k++) { /* nothing accepted may hold a control byte */
            unsigned char ch = (unsigned char)buf[k];
            assert_true(ch >= 0x20 && ch != 0x7f);
            if (!(opt & U))
                assert_true(ch < 0x80);
        }
        if (p.flags & (SMTPW_PATH_NULL | SMTPW_PATH_POSTMASTER))
            continue;
        /* parse -> unquote -> render -> parse keeps the mailbox */
        assert_int_equal(smtpw_path_local_unquote(&p, local, sizeof local, &ln), 0);
        local[ln] = '@';
        memcpy(local + ln + 1, p.domain.ptr, p.domain.len);
        rc = smtpw_path_render(local, ln + 1 + p.domain.len, opt, out, sizeof out, &on);
        if (rc == SMTPW_E_TOOLONG)
            continue; /* a quoted form may be longer than the dot-string was */
        if (rc != 0) {
            print_error("render of \"%.*s\" (from \"%.*s\") gave %d\n", (int)(ln + 1 + p.domain.len),
                        local, (int)n, buf, rc);
            fail();
        }
        {
            smtpw_path q;
            char l2[300];
            size_t c2, ln2;
            assert_int_equal(smtpw_path_parse(out, on, opt, &q, &c2), 0);
            assert_int_equal(c2, on);
            assert_int_equal(smtpw_path_local_unquote(&q, l2, sizeof l2, &ln2), 0);
            assert_int_equal(ln2, ln);
            assert_memory_equal(l2, local, ln);
            assert_int_equal(q.domain.len, p.domain.len);
            assert_memory_equal(q.domain.ptr, p.domain.ptr, p.domain.len);
            assert_int_equal(q.literal_kind, p.literal_kind);
        }
    }
    assert_true(parsed > 1000);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(rfc5321_4_1_2_dot_string),
        cmocka_unit_test(rfc5321_4_1_2_dot_string_bad_dots),
        cmocka_unit_test(rfc5321_4_1_2_dot_string_non_atext),
        cmocka_unit_test(rfc5321_4_1_2_quoted_string_keeps_quotes),
        cmocka_unit_test(rfc5321_4_1_2_quoted_pair_escapes),
        cmocka_unit_test(rfc5321_4_1_2_quoted_string_empty),
        cmocka_unit_test(rfc5321_4_1_2_quoted_string_bad),
        cmocka_unit_test(rfc5321_4_1_2_local_unquote_nobuf),
        cmocka_unit_test(rfc5321_4_1_2_domain_labels),
        cmocka_unit_test(rfc5321_4_1_2_domain_check),
        cmocka_unit_test(rfc5321_4_1_2_dot_rules_at_every_offset),
        cmocka_unit_test(rfc5321_4_1_3_ipv4_literal),
        cmocka_unit_test(rfc5321_4_1_3_ipv6_literal),
        cmocka_unit_test(rfc5321_4_1_3_general_literal),
        cmocka_unit_test(rfc5321_4_1_2_null_reverse_path),
        cmocka_unit_test(rfc5321_4_5_1_postmaster),
        cmocka_unit_test(rfc5321_4_1_1_3_source_route),
        cmocka_unit_test(rfc5321_4_5_3_1_1_local_part_64),
        cmocka_unit_test(rfc5321_4_5_3_1_2_domain_255),
        cmocka_unit_test(rfc5321_4_5_3_1_3_path_256),
        cmocka_unit_test(rfc5321_4_1_2_control_bytes_refused),
        cmocka_unit_test(rfc6531_3_3_eight_bit_needs_utf8),
        cmocka_unit_test(rfc3629_invalid_utf8_refused),
        cmocka_unit_test(lenient_bare_address),
        cmocka_unit_test(rfc5321_4_1_2_consumed_stops_at_bracket),
        cmocka_unit_test(truncation_at_every_byte),
        cmocka_unit_test(rfc5321_4_1_2_render_quotes_when_needed),
        cmocka_unit_test(rfc5321_4_1_2_render_refuses),
        cmocka_unit_test(rfc5321_4_5_3_1_render_limits),
        cmocka_unit_test(render_nobuf_at_every_cap),
        cmocka_unit_test(rfc5321_4_1_2_render_roundtrip),
        cmocka_unit_test(hostile_mutations_keep_invariants),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
