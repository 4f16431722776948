/* smtpwire-server's recipient policy (examples/server/policy.c):
 * --domain and --recipients, RFC 5321 4.5.1 (postmaster), 2.4 (case),
 * 4.1.3 (address literals), RFC 3463 3.2 / 3.8 (5.1.1, 5.7.1). */
#if !defined(_POSIX_C_SOURCE) || _POSIX_C_SOURCE < 200809L
#undef _POSIX_C_SOURCE
#define _POSIX_C_SOURCE 200809L /* mkstemp, pipe, fork */
#endif
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "policy.h"

/* The verdict for RCPT TO:text under p (text is a whole path). */
static int check(const policy *p, const char *text)
{
    smtpw_path path;
    size_t used = 0;
    int rc = smtpw_path_parse(text, strlen(text), SMTPW_PARSE_FORWARD | SMTPW_PARSE_UTF8, &path,
                              &used);
    if (rc != 0) {
        print_error("test path %s does not parse: %d\n", text, rc);
        fail();
    }
    return policy_check(p, &path);
}

static void add_domain(policy *p, const char *d)
{
    char err[128];
    if (policy_add_domain(p, d, strlen(d), err, sizeof err) != 0) {
        print_error("--domain %s: %s\n", d, err);
        fail();
    }
}

static void add_rcpt(policy *p, const char *a)
{
    char err[128];
    if (policy_add_recipient(p, a, strlen(a), err, sizeof err) != 0) {
        print_error("recipient %s: %s\n", a, err);
        fail();
    }
}

static void no_option_accepts_every_recipient(void **state)
{
    policy p;
    (void)state;
    policy_init(&p);
    assert_int_equal(policy_finish(&p), 0);
    assert_false(policy_active(&p));
    assert_int_equal(check(&p, "<anyone@anywhere.example>"), POLICY_ACCEPT);
    assert_int_equal(check(&p, "<x@[192.0.2.1]>"), POLICY_ACCEPT);
    assert_int_equal(check(&p, "<Postmaster>"), POLICY_ACCEPT);
    policy_free(&p);
}

static void rfc3463_3_8_other_domains_relaying_denied_5_7_1(void **state)
{
    policy p;
    (void)state;
    policy_init(&p);
    add_domain(&p, "example.org");
    add_domain(&p, "example.net");
    policy_finish(&p);
    assert_true(policy_active(&p));
    assert_int_equal(check(&p, "<bob@example.org>"), POLICY_ACCEPT);
    assert_int_equal(check(&p, "<bob@example.net>"), POLICY_ACCEPT);
    assert_int_equal(check(&p, "<bob@example.com>"), POLICY_RELAY_DENIED);
    /* no implicit subdomains, no suffix match */
    assert_int_equal(check(&p, "<bob@sub.example.org>"), POLICY_RELAY_DENIED);
    assert_int_equal(check(&p, "<bob@badexample.org>"), POLICY_RELAY_DENIED);
    /* a source route does not change where the mail is for (4.1.1.3) */
    assert_int_equal(check(&p, "<@relay.example.com:bob@example.org>"), POLICY_ACCEPT);
    assert_int_equal(check(&p, "<@example.org:bob@example.com>"), POLICY_RELAY_DENIED);
    assert_int_equal(policy_code(POLICY_RELAY_DENIED), 550);
    assert_string_equal(policy_enh(POLICY_RELAY_DENIED), "5.7.1");
    assert_int_equal(policy_code(POLICY_ACCEPT), 0);
    policy_free(&p);
}

static void rfc5321_4_5_1_postmaster_always_accepted(void **state)
{
    policy p;
    char err[128];
    (void)state;
    policy_init(&p);
    add_domain(&p, "example.org");
    assert_int_equal(policy_load_text(&p, "alice@example.org\n", 18, "list", err, sizeof err), 0);
    policy_finish(&p);
    assert_int_equal(check(&p, "<Postmaster>"), POLICY_ACCEPT);
    assert_int_equal(check(&p, "<postmaster>"), POLICY_ACCEPT);
    /* postmaster@ a served domain, local part in any case, quoted or not */
    assert_int_equal(check(&p, "<postmaster@example.org>"), POLICY_ACCEPT);
    assert_int_equal(check(&p, "<PostMaster@EXAMPLE.org>"), POLICY_ACCEPT);
    assert_int_equal(check(&p, "<\"postmaster\"@example.org>"), POLICY_ACCEPT);
    assert_int_equal(check(&p, "<\"post\\master\"@example.org>"), POLICY_ACCEPT);
    /* but not postmaster of somebody else's domain: that is relaying */
    assert_int_equal(check(&p, "<postmaster@example.com>"), POLICY_RELAY_DENIED);
    /* nor something merely like it */
    assert_int_equal(check(&p, "<postmaster2@example.org>"), POLICY_NO_SUCH_USER);
    assert_int_equal(check(&p, "<post.master@example.org>"), POLICY_NO_SUCH_USER);
    policy_free(&p);
}

static void rfc3463_3_2_unlisted_recipient_5_1_1(void **state)
{
    policy p;
    (void)state;
    policy_init(&p);
    add_domain(&p, "example.org");
    add_rcpt(&p, "alice@example.org");
    add_rcpt(&p, "<bob@example.org>");
    add_rcpt(&p, "\"john smith\"@example.org");
    policy_finish(&p);
    assert_int_equal(check(&p, "<alice@example.org>"), POLICY_ACCEPT);
    assert_int_equal(check(&p, "<bob@example.org>"), POLICY_ACCEPT);
    assert_int_equal(check(&p, "<\"john smith\"@example.org>"), POLICY_ACCEPT);
    assert_int_equal(check(&p, "<carol@example.org>"), POLICY_NO_SUCH_USER);
    assert_int_equal(check(&p, "<carol@example.com>"), POLICY_RELAY_DENIED);
    assert_int_equal(policy_code(POLICY_NO_SUCH_USER), 550);
    assert_string_equal(policy_enh(POLICY_NO_SUCH_USER), "5.1.1");
    policy_free(&p);
}

static void rfc5321_2_4_case_and_quoting_do_not_matter(void **state)
{
    policy p;
    (void)state;
    policy_init(&p);
    add_rcpt(&p, "Alice@Example.ORG");
    add_domain(&p, "Example.NET."); /* absolute form, trailing dot */
    policy_finish(&p);
    assert_int_equal(check(&p, "<alice@example.org>"), POLICY_ACCEPT);
    assert_int_equal(check(&p, "<ALICE@EXAMPLE.ORG>"), POLICY_ACCEPT);
    assert_int_equal(check(&p, "<\"alice\"@example.org>"), POLICY_ACCEPT);
    assert_int_equal(check(&p, "<\"al\\ice\"@example.org>"), POLICY_ACCEPT);
    /* example.net is served, but --recipients lists its users: none */
    assert_int_equal(check(&p, "<alice@example.net>"), POLICY_NO_SUCH_USER);
    assert_int_equal(check(&p, "<postmaster@EXAMPLE.net>"), POLICY_ACCEPT);
    policy_free(&p);
}

static void recipients_alone_serve_the_listed_domains(void **state)
{
    policy p;
    char err[128];
    (void)state;
    policy_init(&p);
    assert_int_equal(policy_load_text(&p, "a@one.example\nb@two.example\n", 28, "f", err,
                                      sizeof err),
                     0);
    policy_finish(&p);
    assert_int_equal(check(&p, "<a@one.example>"), POLICY_ACCEPT);
    assert_int_equal(check(&p, "<b@two.example>"), POLICY_ACCEPT);
    assert_int_equal(check(&p, "<b@one.example>"), POLICY_NO_SUCH_USER);
    assert_int_equal(check(&p, "<a@three.example>"), POLICY_RELAY_DENIED);
    assert_int_equal(check(&p, "<postmaster@two.example>"), POLICY_ACCEPT);
    policy_free(&p);
}

static void empty_recipients_file_accepts_only_postmaster(void **state)
{
    policy p;
    char err[128];
    (void)state;
    policy_init(&p);
    assert_int_equal(policy_load_text(&p, "# nobody yet\n\n", 14, "f", err, sizeof err), 0);
    policy_finish(&p);
    assert_true(policy_active(&p));
    assert_int_equal(check(&p, "<a@one.example>"), POLICY_RELAY_DENIED);
    assert_int_equal(check(&p, "<Postmaster>"), POLICY_ACCEPT);
    policy_free(&p);
}

static void rfc5321_4_1_3_literals_compare_by_address(void **state)
{
    policy p;
    char err[128];
    (void)state;
    policy_init(&p);
    add_domain(&p, "[192.0.2.1]");
    add_domain(&p, "[IPv6:2001:db8::1]");
    add_domain(&p, "[x-tag:Some.Thing]");
    policy_finish(&p);
    assert_int_equal(check(&p, "<u@[192.0.2.1]>"), POLICY_ACCEPT);
    assert_int_equal(check(&p, "<u@[192.000.002.001]>"), POLICY_ACCEPT); /* Snum, leading 0s */
    assert_int_equal(check(&p, "<u@[192.0.2.2]>"), POLICY_RELAY_DENIED);
    assert_int_equal(check(&p, "<u@[ipv6:2001:DB8:0:0::1]>"), POLICY_ACCEPT);
    assert_int_equal(check(&p, "<u@[IPv6:2001:db8:0:0:0:0:0:1]>"), POLICY_ACCEPT);
    assert_int_equal(check(&p, "<u@[IPv6:2001:db8::2]>"), POLICY_RELAY_DENIED);
    assert_int_equal(check(&p, "<u@[X-TAG:some.thing]>"), POLICY_ACCEPT);
    /* an IPv4 literal is not the domain name spelt with the same digits */
    assert_int_equal(check(&p, "<postmaster@[192.0.2.1]>"), POLICY_ACCEPT);
    assert_int_equal(policy_add_domain(&p, "[300.0.0.1]", 11, err, sizeof err), -1);
    assert_int_equal(policy_add_domain(&p, "[192.0.2.1", 10, err, sizeof err), -1);
    policy_free(&p);
}

static void bad_domain_option_refused(void **state)
{
    policy p;
    char err[128];
    static const char *const bad[] = {"", "-x.example", "a..b", "a b", "ex\rample.org",
                                      "bob@example.org", "."};
    size_t i;
    (void)state;
    policy_init(&p);
    for (i = 0; i < sizeof bad / sizeof *bad; i++) {
        err[0] = '\0';
        assert_int_equal(policy_add_domain(&p, bad[i], strlen(bad[i]), err, sizeof err), -1);
        assert_true(err[0] != '\0');
    }
    assert_int_equal(p.ndomains, 0);
    policy_free(&p);
}

static void recipients_file_comments_blanks_crlf(void **state)
{
    static const char text[] = "# users\r\n"
                               "\r\n"
                               "   alice@example.org  \r\n"
                               "\t<bob@example.org>\t\n"
                               "  # indented comment\n"
                               "alice@example.org\n" /* twice is fine */
                               "carol@example.org"; /* no final newline */
    policy p;
    char err[128];
    (void)state;
    policy_init(&p);
    assert_int_equal(policy_load_text(&p, text, sizeof text - 1, "users", err, sizeof err), 0);
    policy_finish(&p);
    assert_int_equal(p.naddrs, 3);
    assert_int_equal(check(&p, "<alice@example.org>"), POLICY_ACCEPT);
    assert_int_equal(check(&p, "<bob@example.org>"), POLICY_ACCEPT);
    assert_int_equal(check(&p, "<carol@example.org>"), POLICY_ACCEPT);
    assert_int_equal(check(&p, "<dave@example.org>"), POLICY_NO_SUCH_USER);
    policy_free(&p);
}

static void recipients_file_bad_line_names_file_and_line(void **state)
{
    static const char text[] = "alice@example.org\n# ok\nnot an address\n";
    static const char ctl[] = "alice@example.org\nbo\x1b[2Jb@example.org\n";
    policy p;
    char err[160];
    (void)state;
    policy_init(&p);
    assert_int_equal(policy_load_text(&p, text, sizeof text - 1, "/etc/users", err, sizeof err),
                     -1);
    assert_non_null(strstr(err, "/etc/users:3: "));
    policy_free(&p);
    policy_init(&p);
    assert_int_equal(policy_load_text(&p, ctl, sizeof ctl - 1, "u", err, sizeof err), -1);
    assert_non_null(strstr(err, "u:2: "));
    policy_free(&p);
}

static void recipients_file_read_from_disk(void **state)
{
    char path[] = "/tmp/smtpw-policy-XXXXXX", err[256];
    static const char text[] = "alice@example.org\n";
    policy p;
    int fd = mkstemp(path);
    (void)state;
    assert_true(fd >= 0);
    assert_int_equal(write(fd, text, sizeof text - 1), (ssize_t)(sizeof text - 1));
    close(fd);
    policy_init(&p);
    assert_int_equal(policy_load_file(&p, path, err, sizeof err), 0);
    policy_finish(&p);
    assert_int_equal(check(&p, "<alice@example.org>"), POLICY_ACCEPT);
    policy_free(&p);
    unlink(path);
    policy_init(&p);
    assert_int_equal(policy_load_file(&p, path, err, sizeof err), -1);
    assert_non_null(strstr(err, path));
    assert_non_null(strstr(err, "No such file"));
    policy_free(&p);
}

static void rfc6531_utf8_domains_compare(void **state)
{
    policy p;
    (void)state;
    policy_init(&p);
    add_domain(&p, "b\xc3\xbc" "cher.example");
    policy_finish(&p);
    assert_int_equal(check(&p, "<u@b\xc3\xbc" "cher.EXAMPLE>"), POLICY_ACCEPT);
    assert_int_equal(check(&p, "<u@bucher.example>"), POLICY_RELAY_DENIED);
    policy_free(&p);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(no_option_accepts_every_recipient),
        cmocka_unit_test(rfc3463_3_8_other_domains_relaying_denied_5_7_1),
        cmocka_unit_test(rfc5321_4_5_1_postmaster_always_accepted),
        cmocka_unit_test(rfc3463_3_2_unlisted_recipient_5_1_1),
        cmocka_unit_test(rfc5321_2_4_case_and_quoting_do_not_matter),
        cmocka_unit_test(recipients_alone_serve_the_listed_domains),
        cmocka_unit_test(empty_recipients_file_accepts_only_postmaster),
        cmocka_unit_test(rfc5321_4_1_3_literals_compare_by_address),
        cmocka_unit_test(bad_domain_option_refused),
        cmocka_unit_test(recipients_file_comments_blanks_crlf),
        cmocka_unit_test(recipients_file_bad_line_names_file_and_line),
        cmocka_unit_test(recipients_file_read_from_disk),
        cmocka_unit_test(rfc6531_utf8_domains_compare),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
