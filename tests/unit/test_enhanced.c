/* Enhanced status codes (RFC 3463 2).  Inputs are read from the guard page. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "guardbuf.h"
#include "smtpwire/syntax.h"

static int parse(const char *s, unsigned *c, unsigned *sub, unsigned *det, size_t *n)
{
    size_t len = strlen(s);
    return smtpw_enhanced_parse((const char *)guardbuf_put(s, len), len, c, sub, det, n);
}

static void rfc3463_2_valid(void **state)
{
    static const struct {
        const char *s;
        unsigned c, sub, det;
        size_t n;
    } v[] = {
        {"2.0.0", 2, 0, 0, 5},         {"5.1.1 User unknown", 5, 1, 1, 5},
        {"4.7.0", 4, 7, 0, 5},         {"5.999.999", 5, 999, 999, 9},
        {"2.10.123 x", 2, 10, 123, 8}, {"4.007.010", 4, 7, 10, 9},
        {"5.7.1\r\n", 5, 7, 1, 5},
    };
    size_t i, n;
    unsigned c, s, d;
    (void)state;
    for (i = 0; i < sizeof v / sizeof v[0]; i++) {
        c = s = d = 1234;
        n = 77;
        assert_int_equal(parse(v[i].s, &c, &s, &d, &n), 0);
        assert_int_equal(c, v[i].c);
        assert_int_equal(s, v[i].sub);
        assert_int_equal(d, v[i].det);
        assert_int_equal(n, v[i].n);
    }
    /* outputs are optional */
    assert_int_equal(parse("2.0.0", NULL, NULL, NULL, NULL), 0);
}

static void rfc3463_2_invalid(void **state)
{
    static const char *const bad[] = {
        "", "2", "2.", "2.0", "2.0.", "3.0.0", "1.0.0", "6.0.0", "0.0.0", "22.0.0",
        "2.1000.0", "2.0.1000", "2..0", "2.0..0", ".2.0.0", "2.a.0", "2.0.a", " 2.0.0",
        "2-0-0", "2.0.0.0", "2.0.0.", "2 .0.0", "2.0 .0", "\xc2\xb2.0.0",
    };
    size_t i, n;
    unsigned c;
    (void)state;
    for (i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        n = 77;
        if (parse(bad[i], &c, NULL, NULL, &n) != SMTPW_E_SYNTAX) {
            print_error("accepted \"%s\"\n", bad[i]);
            fail();
        }
        assert_int_equal(n, 0);
    }
    assert_int_equal(smtpw_enhanced_parse(NULL, 5, &c, NULL, NULL, &n), SMTPW_E_INVALID_ARG);
    /* the length is authoritative */
    assert_int_equal(smtpw_enhanced_parse("2.0.0", 4, &c, NULL, NULL, &n), SMTPW_E_SYNTAX);
    assert_int_equal(smtpw_enhanced_parse("2.0.01", 5, &c, NULL, NULL, &n), 0);
    assert_int_equal(n, 5);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(rfc3463_2_valid),
        cmocka_unit_test(rfc3463_2_invalid),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
