/* ESMTP parameters (RFC 5321 4.1.2 Mail-parameters, RFC 6531 3.3) and
 * decimal numbers (RFC 1870 3).  Inputs are read from the guard page. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "guardbuf.h"
#include "smtpwire/syntax.h"

#define EQ(a, b, line)                                                                         \
    _assert_int_equal(cast_to_largest_integral_type(a), cast_to_largest_integral_type(b),     \
                      __FILE__, line)

static void span_is(smtpw_span sp, const char *want, int line)
{
    size_t n = strlen(want);
    if (sp.len != n || (n && memcmp(sp.ptr, want, n) != 0)) {
        print_error("span \"%.*s\" != \"%s\"\n", (int)sp.len, sp.ptr ? sp.ptr : "", want);
        _fail(__FILE__, line);
    }
}

/* Walk text from the guard page; expect the given "key=value"/"key" items
 * (NULL-terminated) and then final (0 for a clean end, else an error). */
static void walk_at(const char *text, size_t n, const char *const *items, int final, int line)
{
    const char *g = (const char *)guardbuf_put(text, n);
    smtpw_span rest, key, value;
    int rc;
    rest.ptr = g;
    rest.len = n;
    for (; *items; items++) {
        const char *eq = strchr(*items, '=');
        size_t klen = eq ? (size_t)(eq - *items) : strlen(*items);
        rc = smtpw_param_next(&rest, &key, &value);
        EQ(rc, 1, line);
        if (key.len != klen || memcmp(key.ptr, *items, klen) != 0)
            _fail(__FILE__, line);
        span_is(value, eq ? eq + 1 : "", line);
        /* spans stay inside the input */
        if (key.ptr < g || key.ptr + key.len > g + n || rest.ptr + rest.len != g + n)
            _fail(__FILE__, line);
    }
    {
        smtpw_span before = rest;
        rc = smtpw_param_next(&rest, &key, &value);
        EQ(rc, final, line);
        if (final < 0) { /* rest untouched on error */
            EQ(rest.ptr == before.ptr, 1, line);
            EQ(rest.len, before.len, line);
        } else
            EQ(rest.len, 0, line);
    }
}
#define WALK(text, final, ...)                                                                  \
    do {                                                                                       \
        static const char *const it_[] = {__VA_ARGS__, NULL};                                  \
        walk_at(text, strlen(text), it_, final, __LINE__);                                     \
    } while (0)
#define WALK0(text, final)                                                                      \
    do {                                                                                       \
        static const char *const it_[] = {NULL};                                               \
        walk_at(text, strlen(text), it_, final, __LINE__);                                     \
    } while (0)

static void rfc5321_4_1_2_mail_parameters(void **state)
{
    (void)state;
    WALK("SIZE=1000 BODY=8BITMIME", 0, "SIZE=1000", "BODY=8BITMIME");
    WALK(" SIZE=1000", 0, "SIZE=1000");
    WALK("SMTPUTF8", 0, "SMTPUTF8");
    WALK("SMTPUTF8 SIZE=1", 0, "SMTPUTF8", "SIZE=1");
    WALK("A  B   C=d   ", 0, "A", "B", "C=d");
    WALK("X-FOO=bar 9=9 a-=b", 0, "X-FOO=bar", "9=9", "a-=b");
    WALK("ENVID=QQ+2B!~<>", 0, "ENVID=QQ+2B!~<>");
    WALK("ORCPT=rfc822;a+40b.c", 0, "ORCPT=rfc822;a+40b.c");
    WALK0("", 0);
    WALK0("     ", 0);
}

static void rfc5321_4_1_2_esmtp_keyword_bad(void **state)
{
    (void)state;
    WALK0("-SIZE=1", SMTPW_E_SYNTAX);
    WALK0("=1", SMTPW_E_SYNTAX);
    WALK0("SI_ZE=1", SMTPW_E_SYNTAX);
    WALK0("SIZE.=1", SMTPW_E_SYNTAX);
    WALK0("\tSIZE=1", SMTPW_E_SYNTAX); /* only SP separates */
    WALK0("SIZE=1\tBODY=7BIT", SMTPW_E_SYNTAX); /* TAB ends nothing */
}

static void rfc5321_4_1_2_esmtp_value_bad(void **state)
{
    (void)state;
    WALK0("SIZE=", SMTPW_E_SYNTAX); /* 1*(...) */
    WALK0("SIZE= 1", SMTPW_E_SYNTAX);
    WALK0("SIZE==1", SMTPW_E_SYNTAX);
    WALK0("A=b=c", SMTPW_E_SYNTAX);
    WALK0("A=b\rc", SMTPW_E_SYNTAX);
    WALK0("A=b\nc", SMTPW_E_SYNTAX);
    WALK0("A=b\x7f", SMTPW_E_SYNTAX);
    WALK0("A=\x01", SMTPW_E_SYNTAX);
    WALK("OK=1 SIZE=", SMTPW_E_SYNTAX, "OK=1");
    WALK("OK=1 A=b\r\n", SMTPW_E_SYNTAX, "OK=1");
    {
        const char *g = (const char *)guardbuf_put("A=b\0c", 5);
        smtpw_span rest = {g, 5}, k, v;
        assert_int_equal(smtpw_param_next(&rest, &k, &v), SMTPW_E_SYNTAX);
    }
}

static void rfc6531_3_3_utf8_values(void **state)
{
    (void)state;
    WALK("X=caf\xc3\xa9", 0, "X=caf\xc3\xa9");
    WALK("X=\xf0\x9f\x98\x80 Y=1", 0, "X=\xf0\x9f\x98\x80", "Y=1");
    WALK0("X=\xc3", SMTPW_E_SYNTAX);     /* truncated */
    WALK0("X=\xc0\xaf", SMTPW_E_SYNTAX); /* overlong */
    WALK0("X=\xed\xa0\x80", SMTPW_E_SYNTAX);
    WALK0("X=\x80", SMTPW_E_SYNTAX);
    WALK0("\xc3\xa9=1", SMTPW_E_SYNTAX); /* keywords stay ASCII */
}

static void param_next_arguments(void **state)
{
    smtpw_span rest = {"A", 1}, k, v, null_rest = {NULL, 0};
    (void)state;
    assert_int_equal(smtpw_param_next(NULL, &k, &v), SMTPW_E_INVALID_ARG);
    assert_int_equal(smtpw_param_next(&rest, NULL, &v), SMTPW_E_INVALID_ARG);
    assert_int_equal(smtpw_param_next(&rest, &k, NULL), SMTPW_E_INVALID_ARG);
    assert_int_equal(smtpw_param_next(&null_rest, &k, &v), 0);
    assert_int_equal(smtpw_param_next(&rest, &k, &v), 1);
    assert_int_equal(k.len, 1);
    assert_int_equal(v.len, 0);
    assert_int_equal(smtpw_param_next(&rest, &k, &v), 0);
}

static void span_ieq_ascii_only(void **state)
{
    smtpw_span s = {"SiZe", 4}, e = {"", 0}, u = {"\xc3\xa9", 2};
    (void)state;
    assert_true(smtpw_span_ieq(s, "size"));
    assert_true(smtpw_span_ieq(s, "SIZE"));
    assert_false(smtpw_span_ieq(s, "SIZ"));
    assert_false(smtpw_span_ieq(s, "SIZES"));
    assert_false(smtpw_span_ieq(s, "SIZF"));
    assert_false(smtpw_span_ieq(s, NULL));
    assert_true(smtpw_span_ieq(e, ""));
    assert_false(smtpw_span_ieq(e, "a"));
    assert_true(smtpw_span_ieq(u, "\xc3\xa9"));
    assert_false(smtpw_span_ieq(u, "\xc3\x89")); /* no folding beyond ASCII */
    s.len = 3;
    assert_true(smtpw_span_ieq(s, "siz"));
    {
        smtpw_span at = {"@", 1}, bt = {"`", 1}; /* neighbours of A-Z and a-z */
        assert_false(smtpw_span_ieq(at, "`"));
        assert_false(smtpw_span_ieq(bt, "@"));
        assert_false(smtpw_span_ieq(at, "\x60"));
    }
}

static int u64(const char *s, uint64_t *v)
{
    smtpw_span sp;
    sp.ptr = (const char *)guardbuf_put(s, strlen(s));
    sp.len = strlen(s);
    return smtpw_parse_u64(sp, v);
}

static void rfc1870_3_size_number(void **state)
{
    uint64_t v = 7;
    (void)state;
    assert_int_equal(u64("0", &v), 0);
    assert_true(v == 0);
    assert_int_equal(u64("1000000", &v), 0);
    assert_true(v == 1000000u);
    assert_int_equal(u64("18446744073709551615", &v), 0);
    assert_true(v == UINT64_MAX);
    assert_int_equal(u64("00000000000000000001", &v), 0); /* 20 digits */
    assert_true(v == 1);
    assert_int_equal(u64("000000000000000000001", &v), SMTPW_E_SYNTAX); /* 21 */
    assert_int_equal(u64("18446744073709551616", &v), SMTPW_E_SYNTAX);
    assert_int_equal(u64("99999999999999999999", &v), SMTPW_E_SYNTAX);
    assert_int_equal(u64("", &v), SMTPW_E_SYNTAX);
    assert_int_equal(u64("-1", &v), SMTPW_E_SYNTAX);
    assert_int_equal(u64("+1", &v), SMTPW_E_SYNTAX);
    assert_int_equal(u64(" 1", &v), SMTPW_E_SYNTAX);
    assert_int_equal(u64("1 ", &v), SMTPW_E_SYNTAX);
    assert_int_equal(u64("1a", &v), SMTPW_E_SYNTAX);
    assert_int_equal(u64("0x10", &v), SMTPW_E_SYNTAX);
    assert_int_equal(u64("1/", &v), SMTPW_E_SYNTAX); /* '/' is '0' - 1 */
    assert_int_equal(u64("1:", &v), SMTPW_E_SYNTAX); /* ':' is '9' + 1 */
    {
        smtpw_span sp = {"1", 1};
        assert_int_equal(smtpw_parse_u64(sp, NULL), SMTPW_E_INVALID_ARG);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(rfc5321_4_1_2_mail_parameters),
        cmocka_unit_test(rfc5321_4_1_2_esmtp_keyword_bad),
        cmocka_unit_test(rfc5321_4_1_2_esmtp_value_bad),
        cmocka_unit_test(rfc6531_3_3_utf8_values),
        cmocka_unit_test(param_next_arguments),
        cmocka_unit_test(span_ieq_ascii_only),
        cmocka_unit_test(rfc1870_3_size_number),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
