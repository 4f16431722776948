/* EHLO capabilities (RFC 5321 4.1.1.1 and the extension RFCs): the line
 * parser and the public accessors.  SPDX-License-Identifier: MIT */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "client/caps.h"
#include "guardbuf.h"
#include "smtpwire/smtpwire.h"

static int cap(const char *s, struct smtpw__caps *caps, smtpw_span *kw, smtpw_span *pa)
{
    size_t n = strlen(s);
    const char *g = (const char *)guardbuf_put(s, n);
    int r = smtpw__caps_line(g, n, caps, kw, pa);
    if (r) {
        assert_true(kw->ptr >= g && kw->ptr + kw->len <= g + n);
        assert_true(pa->ptr >= g && pa->ptr + pa->len <= g + n);
    }
    return r;
}

static uint32_t ext_of(const char *s)
{
    struct smtpw__caps caps;
    smtpw_span kw, pa;
    memset(&caps, 0, sizeof caps);
    assert_int_equal(cap(s, &caps, &kw, &pa), 1);
    return caps.ext;
}

static void rfc5321_4_1_1_1_every_known_keyword(void **state)
{
    (void)state;
    assert_int_equal(ext_of("PIPELINING"), SMTPW_EXT_PIPELINING);
    assert_int_equal(ext_of("SIZE"), SMTPW_EXT_SIZE);
    assert_int_equal(ext_of("8BITMIME"), SMTPW_EXT_8BITMIME);
    assert_int_equal(ext_of("SMTPUTF8"), SMTPW_EXT_SMTPUTF8);
    assert_int_equal(ext_of("CHUNKING"), SMTPW_EXT_CHUNKING);
    assert_int_equal(ext_of("BINARYMIME"), SMTPW_EXT_BINARYMIME);
    assert_int_equal(ext_of("STARTTLS"), SMTPW_EXT_STARTTLS);
    assert_int_equal(ext_of("AUTH PLAIN"), SMTPW_EXT_AUTH);
    assert_int_equal(ext_of("DSN"), SMTPW_EXT_DSN);
    assert_int_equal(ext_of("ENHANCEDSTATUSCODES"), SMTPW_EXT_ENHANCEDSTATUSCODES);
    assert_int_equal(ext_of("REQUIRETLS"), SMTPW_EXT_REQUIRETLS);
    /* near misses are unknown keywords */
    assert_int_equal(ext_of("PIPELININGX"), 0);
    assert_int_equal(ext_of("PIPELININ"), 0);
    assert_int_equal(ext_of("X-EXPS GSSAPI NTLM"), 0);
}

static void rfc5321_2_4_keywords_case_insensitive(void **state)
{
    (void)state;
    assert_int_equal(ext_of("pipelining"), SMTPW_EXT_PIPELINING);
    assert_int_equal(ext_of("StartTls"), SMTPW_EXT_STARTTLS);
    assert_int_equal(ext_of("8bitmime"), SMTPW_EXT_8BITMIME);
    assert_int_equal(ext_of("enhancedStatusCodes"), SMTPW_EXT_ENHANCEDSTATUSCODES);
}

static void rfc1870_size_parameter(void **state)
{
    struct smtpw__caps caps;
    smtpw_span kw, pa;
    (void)state;
    memset(&caps, 0, sizeof caps);
    assert_int_equal(cap("SIZE 35882577", &caps, &kw, &pa), 1);
    assert_int_equal(caps.size_limit, 35882577);
    assert_int_equal(pa.len, 8);
    memset(&caps, 0, sizeof caps);
    assert_int_equal(cap("SIZE", &caps, &kw, &pa), 1);
    assert_int_equal(caps.ext, SMTPW_EXT_SIZE);
    assert_int_equal(caps.size_limit, 0);
    assert_int_equal(pa.len, 0);
    caps.size_limit = 7;
    assert_int_equal(cap("SIZE 0", &caps, &kw, &pa), 1);
    assert_int_equal(caps.size_limit, 0);
    caps.size_limit = 7;
    assert_int_equal(cap("size 12x", &caps, &kw, &pa), 1); /* unreadable: no limit */
    assert_int_equal(caps.size_limit, 0);
    assert_int_equal(cap("SIZE 99999999999999999999999", &caps, &kw, &pa), 1);
    assert_int_equal(caps.size_limit, 0);
    assert_int_equal(cap("SIZE 18446744073709551615", &caps, &kw, &pa), 1);
    assert_int_equal(caps.size_limit, UINT64_MAX);
}

static void rfc4954_auth_mechanisms(void **state)
{
    struct smtpw__caps caps;
    smtpw_span kw, pa;
    (void)state;
    memset(&caps, 0, sizeof caps);
    assert_int_equal(cap("AUTH PLAIN LOGIN CRAM-MD5 XOAUTH2 SCRAM-SHA-256", &caps, &kw, &pa), 1);
    assert_int_equal(caps.auth, SMTPW_AUTH_PLAIN | SMTPW_AUTH_LOGIN | SMTPW_AUTH_CRAM_MD5 |
                                    SMTPW_AUTH_XOAUTH2 | SMTPW_AUTH_SCRAM_SHA_256);
    assert_int_equal(kw.len, 4);
    memset(&caps, 0, sizeof caps);
    assert_int_equal(cap("auth  gssapi plain", &caps, &kw, &pa), 1);
    assert_int_equal(caps.auth, SMTPW_AUTH_OTHER | SMTPW_AUTH_PLAIN);
    /* the old "AUTH=" form, added to what was seen */
    assert_int_equal(cap("AUTH=LOGIN PLAIN", &caps, &kw, &pa), 1);
    assert_int_equal(caps.ext, SMTPW_EXT_AUTH);
    assert_int_equal(caps.auth, SMTPW_AUTH_OTHER | SMTPW_AUTH_PLAIN | SMTPW_AUTH_LOGIN);
    assert_int_equal(kw.len, 4);
    assert_int_equal(pa.len, 11);
    assert_memory_equal(pa.ptr, "LOGIN PLAIN", 11);
    /* AUTH with no mechanism: the extension, no mechanism bits */
    memset(&caps, 0, sizeof caps);
    assert_int_equal(cap("AUTH", &caps, &kw, &pa), 1);
    assert_int_equal(caps.ext, SMTPW_EXT_AUTH);
    assert_int_equal(caps.auth, 0);
    /* "=" is only the old AUTH form */
    assert_int_equal(cap("SIZE=10", &caps, &kw, &pa), 0);
}

static void rfc5321_4_1_1_1_not_an_ehlo_line(void **state)
{
    struct smtpw__caps caps;
    smtpw_span kw, pa;
    (void)state;
    memset(&caps, 0, sizeof caps);
    assert_int_equal(cap("", &caps, &kw, &pa), 0);
    assert_int_equal(cap(" PIPELINING", &caps, &kw, &pa), 0);
    assert_int_equal(cap("-X", &caps, &kw, &pa), 0);
    assert_int_equal(cap("PIPE_LINING", &caps, &kw, &pa), 0);
    assert_int_equal(cap("PIPELINING\t", &caps, &kw, &pa), 0);
    assert_int_equal(caps.ext, 0);
}

static union {
    uint64_t align;
    unsigned char b[SMTPW_CLIENT_SIZE_HINT];
} mem;

static void feed(smtpw_client *c, const char *s)
{
    smtpw_event ev;
    size_t used, n = strlen(s);
    while (n) {
        assert_int_equal(smtpw_client_recv(c, (const uint8_t *)s, n, &used, &ev, sizeof ev),
                         SMTPW_EV_REPLY);
        s += used;
        n -= used;
    }
}

/* A whole EHLO reply through the public API; a new EHLO forgets it. */
static void rfc5321_4_1_4_ehlo_reply_into_state(void **state)
{
    smtpw_client *c;
    size_t n;
    (void)state;
    assert_int_equal(smtpw_client_init(&mem, sizeof mem, NULL, &c), 0);
    feed(c, "220 mx ESMTP\r\n");
    assert_int_equal(smtpw_client_ehlo(c, "a.example", 9), 0);
    smtpw_client_output(c, &n);
    smtpw_client_output_ack(c, n);
    feed(c, "250-mx.example\r\n250-pipelining\r\n250-SIZE 1000000\r\n250-8BITMIME\r\n"
            "250-AUTH=LOGIN\r\n250-AUTH CRAM-MD5 PLAIN\r\n250-X-UNKNOWN 1 2\r\n"
            "250-DSN\r\n250-SMTPUTF8\r\n250-CHUNKING\r\n250-BINARYMIME\r\n"
            "250-REQUIRETLS\r\n250-STARTTLS\r\n250 ENHANCEDSTATUSCODES\r\n");
    assert_int_equal(smtpw_client_extensions(c),
                     SMTPW_EXT_PIPELINING | SMTPW_EXT_SIZE | SMTPW_EXT_8BITMIME |
                         SMTPW_EXT_AUTH | SMTPW_EXT_DSN | SMTPW_EXT_SMTPUTF8 |
                         SMTPW_EXT_CHUNKING | SMTPW_EXT_BINARYMIME | SMTPW_EXT_REQUIRETLS |
                         SMTPW_EXT_STARTTLS | SMTPW_EXT_ENHANCEDSTATUSCODES);
    assert_int_equal(smtpw_client_size_limit(c), 1000000);
    assert_int_equal(smtpw_client_auth_mechs(c),
                     SMTPW_AUTH_LOGIN | SMTPW_AUTH_CRAM_MD5 | SMTPW_AUTH_PLAIN);
    /* the first line's text is a domain, never a keyword */
    assert_int_equal(smtpw_client_ehlo(c, "a.example", 9), 0);
    assert_int_equal(smtpw_client_extensions(c), 0);
    assert_int_equal(smtpw_client_size_limit(c), 0);
    assert_int_equal(smtpw_client_auth_mechs(c), 0);
    smtpw_client_output(c, &n);
    smtpw_client_output_ack(c, n);
    feed(c, "250-PIPELINING\r\n250 8BITMIME\r\n");
    assert_int_equal(smtpw_client_extensions(c), SMTPW_EXT_8BITMIME);
    /* a refused EHLO leaves nothing */
    assert_int_equal(smtpw_client_ehlo(c, "a.example", 9), 0);
    smtpw_client_output(c, &n);
    smtpw_client_output_ack(c, n);
    feed(c, "550-PIPELINING\r\n550 8BITMIME\r\n");
    assert_int_equal(smtpw_client_extensions(c), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(rfc5321_4_1_1_1_every_known_keyword),
        cmocka_unit_test(rfc5321_2_4_keywords_case_insensitive),
        cmocka_unit_test(rfc1870_size_parameter),
        cmocka_unit_test(rfc4954_auth_mechanisms),
        cmocka_unit_test(rfc5321_4_1_1_1_not_an_ehlo_line),
        cmocka_unit_test(rfc5321_4_1_4_ehlo_reply_into_state),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
