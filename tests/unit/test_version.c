/* Versions, value names and texts: the header, the library and meson.build
 * agree (SQLite's habit), and every constant has its name (README "API
 * conventions": the name without its group prefix, "?" for no constant). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "smtpwire/smtpwire.h"

/* "MAJOR.MINOR.PATCH" as 0xMMmmpp, or 0xffffffff when it is not that. */
static uint32_t parse_version(const char *v)
{
    unsigned a, b, c;
    int end = 0;
    if (sscanf(v, "%u.%u.%u%n", &a, &b, &c, &end) != 3 || v[end] != '\0' || a > 255 ||
        b > 255 || c > 255)
        return 0xffffffffu;
    return (uint32_t)(a << 16 | b << 8 | c);
}

static void version_header_library_and_meson_agree(void **state)
{
    uint32_t meson = parse_version(SMTPW_PROJECT_VERSION);
    char s[32];
    (void)state;
    assert_int_not_equal(meson, 0xffffffffu);
    /* the header against meson.build's project(version:) */
    assert_int_equal(SMTPW_VERSION_MAJOR, meson >> 16);
    assert_int_equal(SMTPW_VERSION_MINOR, (meson >> 8) & 0xff);
    assert_int_equal(SMTPW_VERSION_PATCH, meson & 0xff);
    assert_int_equal(SMTPW_VERSION_NUM, meson);
    assert_string_equal(SMTPW_VERSION_STRING, SMTPW_PROJECT_VERSION);
    snprintf(s, sizeof s, "%d.%d.%d", SMTPW_VERSION_MAJOR, SMTPW_VERSION_MINOR, SMTPW_VERSION_PATCH);
    assert_string_equal(SMTPW_VERSION_STRING, s);
    /* the library against meson.build */
    assert_int_equal(smtpw_version(), meson);
    assert_string_equal(smtpw_version_string(), SMTPW_PROJECT_VERSION);
}

/* Every code with its own name and text, each checked by value. */
static void every_error_code_has_its_name_and_text(void **state)
{
    static const struct {
        int err;
        const char *name;
        const char *text;
    } want[] = {
        {SMTPW_OK, "OK", "success"},
        {SMTPW_E_INVALID_ARG, "INVALID_ARG", "invalid argument"},
        {SMTPW_E_STATE, "STATE", "call not allowed in the current state"},
        {SMTPW_E_NOBUF, "NOBUF", "buffer too small"},
        {SMTPW_E_AGAIN, "AGAIN", "try again after draining output or reading replies"},
        {SMTPW_E_PROTO, "PROTO", "peer violated the SMTP protocol"},
        {SMTPW_E_CLOSED, "CLOSED", "session closed"},
        {SMTPW_E_SYNTAX, "SYNTAX", "syntax error"},
        {SMTPW_E_TOOLONG, "TOOLONG", "length limit exceeded"},
        {SMTPW_E_VERSION, "VERSION", "unknown struct version"},
        {SMTPW_E_8BIT, "8BIT", "8-bit data but the server does not offer 8BITMIME"},
        {SMTPW_E_SIZE, "SIZE", "message exceeds the server's SIZE limit"},
        {SMTPW_E_IO, "IO", "I/O error"},
        {SMTPW_E_TIMEOUT, "TIMEOUT", "timeout"},
        {SMTPW_E_TLS, "TLS", "TLS error"},
        {SMTPW_E_NOTSUP, "NOTSUP", "not supported by the peer"},
        {SMTPW_E_DNS, "DNS", "name or MX lookup failed"},
        {SMTPW_E_NXDOMAIN, "NXDOMAIN", "the domain does not exist"},
        {SMTPW_E_NOMAIL, "NOMAIL", "the domain accepts no mail (null MX)"},
    };
    size_t i;
    (void)state;
    assert_int_equal(SMTPW_E_NXDOMAIN, -17);
    assert_int_equal(SMTPW_E_NOMAIL, -18);
    for (i = 0; i < sizeof want / sizeof want[0]; i++) {
        assert_int_equal(want[i].err, -(int)i); /* dense: none skipped or reused */
        assert_string_equal(smtpw_err_name(want[i].err), want[i].name);
        assert_string_equal(smtpw_strerror(want[i].err), want[i].text);
    }
    assert_string_equal(smtpw_err_name(SMTPW_E_NOMAIL - 1), "?");
    assert_string_equal(smtpw_err_name(1), "?");
    assert_string_equal(smtpw_err_name(-1000), "?");
    assert_string_equal(smtpw_strerror(SMTPW_E_NOMAIL - 1), "unknown error");
}

/* README "API conventions": PROTO, CLOSED, IO, TIMEOUT, TLS and nothing else. */
static void err_is_fatal_exactly_for_unusable_objects(void **state)
{
    int e;
    (void)state;
    for (e = 1; e >= SMTPW_E_NOMAIL - 1; e--) {
        int fatal = e == SMTPW_E_PROTO || e == SMTPW_E_CLOSED || e == SMTPW_E_IO ||
                    e == SMTPW_E_TIMEOUT || e == SMTPW_E_TLS;
        assert_int_equal(smtpw_err_is_fatal(e) != 0, fatal);
    }
}

static void cmd_names_without_prefix_and_unknown_is_question_mark(void **state)
{
    static const char *const want[] = {
        "NONE", "HELO", "EHLO", "MAIL",     "RCPT",     "DATA", "RSET", "NOOP",
        "QUIT", "VRFY", "EXPN", "HELP",     "STARTTLS", "AUTH", "BDAT", "SEND",
        "SOML", "SAML", "TURN", "GREETING", "BODY",     "UNKNOWN",
    };
    uint32_t i;
    (void)state;
    assert_int_equal(SMTPW_CMD_UNKNOWN + 1, sizeof want / sizeof want[0]);
    for (i = 0; i < sizeof want / sizeof want[0]; i++)
        assert_string_equal(smtpw_cmd_name(i), want[i]);
    assert_string_equal(smtpw_cmd_name(SMTPW_CMD_MAIL), "MAIL");
    assert_string_equal(smtpw_cmd_name(SMTPW_CMD_NONE), "NONE");
    assert_string_equal(smtpw_cmd_name(SMTPW_CMD_GREETING), "GREETING");
    assert_string_equal(smtpw_cmd_name(SMTPW_CMD_BODY), "BODY");
    assert_string_equal(smtpw_cmd_name(SMTPW_CMD_UNKNOWN), "UNKNOWN");
    assert_string_equal(smtpw_cmd_name(SMTPW_CMD_UNKNOWN + 1), "?");
    assert_string_equal(smtpw_cmd_name(UINT32_MAX), "?");
}

static void event_names_without_prefix_and_unknown_is_question_mark(void **state)
{
    static const char *const want[] = {
        "NONE", "HELO", "MAIL", "RCPT",  "DATA",        "BODY",     "DATA_END", "DATA_ABORT",
        "RSET", "VRFY", "EXPN", "HELP",  "QUIT",        "STARTTLS", "REJECTED", "CLOSE",
        "REPLY", "TLS_STARTED",
    };
    uint32_t i;
    (void)state;
    assert_int_equal(SMTPW_EV_REPLY, 16);
    assert_int_equal(SMTPW_EV_TLS_STARTED, 17);
    for (i = 0; i < sizeof want / sizeof want[0]; i++)
        assert_string_equal(smtpw_event_name(i), want[i]);
    assert_string_equal(smtpw_event_name(SMTPW_EV_DATA_END), "DATA_END");
    assert_string_equal(smtpw_event_name(SMTPW_EV_TLS_STARTED + 1), "?");
    assert_string_equal(smtpw_event_name(UINT32_MAX), "?");
}

/* RFC 5321 4.5.3.2.1 to 4.5.3.2.7 */
static void rfc5321_4_5_3_2_timeouts(void **state)
{
    (void)state;
    assert_int_equal(smtpw_timeout_seconds(SMTPW_TIMEOUT_GREETING), 300);
    assert_int_equal(smtpw_timeout_seconds(SMTPW_TIMEOUT_MAIL), 300);
    assert_int_equal(smtpw_timeout_seconds(SMTPW_TIMEOUT_RCPT), 300);
    assert_int_equal(smtpw_timeout_seconds(SMTPW_TIMEOUT_DATA_INIT), 120);
    assert_int_equal(smtpw_timeout_seconds(SMTPW_TIMEOUT_DATA_BLOCK), 180);
    assert_int_equal(smtpw_timeout_seconds(SMTPW_TIMEOUT_DATA_TERM), 600);
    assert_int_equal(smtpw_timeout_seconds(SMTPW_TIMEOUT_SERVER), 300);
    assert_int_equal(smtpw_timeout_seconds(SMTPW_TIMEOUT_COMMAND), 300);
    assert_int_equal(smtpw_timeout_seconds(SMTPW_TIMEOUT_NONE), 0);
    assert_int_equal(smtpw_timeout_seconds(SMTPW_TIMEOUT_COMMAND + 1), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(version_header_library_and_meson_agree),
        cmocka_unit_test(every_error_code_has_its_name_and_text),
        cmocka_unit_test(err_is_fatal_exactly_for_unusable_objects),
        cmocka_unit_test(cmd_names_without_prefix_and_unknown_is_question_mark),
        cmocka_unit_test(event_names_without_prefix_and_unknown_is_question_mark),
        cmocka_unit_test(rfc5321_4_5_3_2_timeouts),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
