/* The header's version, the library's and meson.build's agree (SQLite's habit). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "smtpwire/smtpwire.h"

static void header_matches_library(void **state)
{
    (void)state;
    assert_int_equal(smtpw_version(), SMTPW_VERSION_NUM);
    assert_string_equal(smtpw_version_string(), SMTPW_VERSION_STRING);
}

static void header_matches_meson(void **state)
{
    (void)state;
    assert_string_equal(SMTPW_VERSION_STRING, SMTPW_PROJECT_VERSION);
    assert_int_equal(SMTPW_VERSION_NUM, (SMTPW_VERSION_MAJOR << 16) | (SMTPW_VERSION_MINOR << 8) |
                                            SMTPW_VERSION_PATCH);
}

static void every_error_has_a_name(void **state)
{
    int e;
    (void)state;
    for (e = SMTPW_E_DNS; e <= 0; e++) {
        assert_string_not_equal(smtpw_err_name(e), "SMTPW_E_UNKNOWN");
        assert_string_not_equal(smtpw_strerror(e), "unknown error");
    }
    assert_string_equal(smtpw_err_name(SMTPW_E_NOBUF), "SMTPW_E_NOBUF");
    assert_string_equal(smtpw_err_name(SMTPW_E_DNS - 1), "SMTPW_E_UNKNOWN");
    assert_string_equal(smtpw_err_name(1), "SMTPW_E_UNKNOWN");
    assert_true(smtpw_err_is_fatal(SMTPW_E_PROTO));
    assert_false(smtpw_err_is_fatal(SMTPW_E_AGAIN));
}

static void command_names(void **state)
{
    (void)state;
    assert_string_equal(smtpw_cmd_name(SMTPW_CMD_MAIL), "MAIL");
    assert_string_equal(smtpw_cmd_name(SMTPW_CMD_STARTTLS), "STARTTLS");
    assert_string_equal(smtpw_cmd_name(SMTPW_CMD_UNKNOWN), "");
    assert_string_equal(smtpw_cmd_name(-1), "");
    assert_string_equal(smtpw_cmd_name(1000), "");
}

static void event_names(void **state)
{
    (void)state;
    assert_string_equal(smtpw_server_event_name(SMTPW_EV_NONE), "NONE");
    assert_string_equal(smtpw_server_event_name(SMTPW_EV_DATA_END), "DATA_END");
    assert_string_equal(smtpw_server_event_name(SMTPW_EV_STARTTLS), "STARTTLS");
    assert_string_equal(smtpw_server_event_name(SMTPW_EV_CLOSE), "CLOSE");
    assert_string_equal(smtpw_server_event_name(SMTPW_EV_CLOSE + 1), "?");
    assert_string_equal(smtpw_server_event_name(-1), "?");
}

/* RFC 5321 4.5.3.2.1 to 4.5.3.2.7 */
static void rfc5321_4_5_3_2_timeouts(void **state)
{
    (void)state;
    assert_int_equal(smtpw_timeout_seconds(SMTPW_TIMEOUT_GREETING), 300);
    assert_int_equal(smtpw_timeout_seconds(SMTPW_TIMEOUT_DATA_INIT), 120);
    assert_int_equal(smtpw_timeout_seconds(SMTPW_TIMEOUT_DATA_BLOCK), 180);
    assert_int_equal(smtpw_timeout_seconds(SMTPW_TIMEOUT_DATA_TERM), 600);
    assert_int_equal(smtpw_timeout_seconds(SMTPW_TIMEOUT_SERVER), 300);
    assert_int_equal(smtpw_timeout_seconds(SMTPW_TIMEOUT_NONE), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(header_matches_library), cmocka_unit_test(header_matches_meson),
        cmocka_unit_test(every_error_has_a_name), cmocka_unit_test(command_names), cmocka_unit_test(event_names),
        cmocka_unit_test(rfc5321_4_5_3_2_timeouts),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
