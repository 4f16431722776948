/* smtpwire-send's settings (examples/send/config.c): the option table
 * shared by the command line and the configuration file, the file's
 * syntax, precedence, errors that name FILE:LINE, the password rule. */
#if !defined(_POSIX_C_SOURCE) || _POSIX_C_SOURCE < 200809L
#undef _POSIX_C_SOURCE
#define _POSIX_C_SOURCE 200809L
#endif

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "config.h"

/* A temporary file holding text with mode; the path is in a static buffer
 * per slot. */
static const char *file_with(int slot, const char *text, mode_t mode)
{
    static char paths[3][64];
    int fd;
    snprintf(paths[slot], sizeof paths[slot], "/tmp/smtpw-cfg-test-XXXXXX");
    fd = mkstemp(paths[slot]);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
    assert_int_equal(fchmod(fd, mode), 0);
    close(fd);
    return paths[slot];
}

static int load(send_settings *s, const char *text, mode_t mode, char *err, size_t cap)
{
    const char *p = file_with(0, text, mode);
    int found = 0, r = send_config_load(s, p, 1, &found, err, cap);
    assert_true(found);
    unlink(p);
    return r;
}

static void config_split_lines(void **state)
{
    char line[200], *k, *v;
    const char *why;
    (void)state;
    strcpy(line, "server 127.0.0.1:2525\n");
    assert_int_equal(send_config_split(line, &k, &v, &why), 1);
    assert_string_equal(k, "server");
    assert_string_equal(v, "127.0.0.1:2525");
    strcpy(line, "  timeout\t 30   # seconds\r\n");
    assert_int_equal(send_config_split(line, &k, &v, &why), 1);
    assert_string_equal(k, "timeout");
    assert_string_equal(v, "30");
    strcpy(line, "starttls\n");
    assert_int_equal(send_config_split(line, &k, &v, &why), 1);
    assert_string_equal(k, "starttls");
    assert_null(v);
    strcpy(line, "starttls # on\n");
    assert_int_equal(send_config_split(line, &k, &v, &why), 1);
    assert_null(v);
    strcpy(line, "from a#b@example.org\n"); /* '#' inside a word is no comment */
    assert_int_equal(send_config_split(line, &k, &v, &why), 1);
    assert_string_equal(v, "a#b@example.org");
    strcpy(line, "from \"\"\n");
    assert_int_equal(send_config_split(line, &k, &v, &why), 1);
    assert_string_equal(v, "");
    strcpy(line, "helo \"two words # kept\"  # comment\n");
    assert_int_equal(send_config_split(line, &k, &v, &why), 1);
    assert_string_equal(v, "two words # kept");
    strcpy(line, "   # a comment\n");
    assert_int_equal(send_config_split(line, &k, &v, &why), 0);
    strcpy(line, "\r\n");
    assert_int_equal(send_config_split(line, &k, &v, &why), 0);
    strcpy(line, "helo \"open\n");
    assert_int_equal(send_config_split(line, &k, &v, &why), -1);
    assert_string_equal(why, "unterminated quote");
    strcpy(line, "helo \"a\" b\n");
    assert_int_equal(send_config_split(line, &k, &v, &why), -1);
    strcpy(line, "helo a\x1b[2Jb\n");
    assert_int_equal(send_config_split(line, &k, &v, &why), -1);
}

static void config_file_sets_every_kind(void **state)
{
    send_settings s;
    char err[300] = "";
    (void)state;
    memset(&s, 0, sizeof s);
    assert_int_equal(load(&s,
                          "# smtpwire-send settings\n"
                          "\n"
                          "server [::1]:2525\n"
                          "helo mail.example.org\n"
                          "timeout 30\n"
                          "from \"\"\n"
                          "to a@example.org\n"
                          "to b@example.org\n"
                          "starttls\n"
                          "all-or-nothing\n",
                          0644, err, sizeof err),
                     0);
    assert_string_equal(s.server, "[::1]:2525");
    assert_string_equal(s.helo, "mail.example.org");
    assert_int_equal(s.timeout_s, 30);
    assert_string_equal(s.from, "");
    assert_int_equal(s.nto, 2);
    assert_true(s.starttls);
    assert_true(s.all_or_nothing);
    assert_false(s.verbose);
    send_settings_free(&s);
}

static void config_command_line_wins(void **state)
{
    send_settings s;
    char err[300] = "";
    char *argv[] = {(char *)"smtpwire-send", (char *)"--server=127.0.0.1:25",
                    (char *)"--to", (char *)"cli@example.org", (char *)"--timeout", (char *)"5",
                    NULL};
    int i;
    (void)state;
    memset(&s, 0, sizeof s);
    for (i = 1; i < 6; i++)
        assert_int_equal(send_cli_option(&s, 6, argv, &i, err, sizeof err), 1);
    assert_int_equal(load(&s,
                          "server 192.0.2.1:2525\n"
                          "to file@example.org\n"
                          "timeout 60\n"
                          "helo from-file.example.org\n",
                          0600, err, sizeof err),
                     0);
    assert_string_equal(s.server, "127.0.0.1:25");
    assert_int_equal(s.nto, 1);
    assert_string_equal(s.to[0], "cli@example.org");
    assert_int_equal(s.timeout_s, 5);
    assert_string_equal(s.helo, "from-file.example.org"); /* not on the command line */
    /* a file's value is still checked when the command line overrides it */
    assert_int_equal(load(&s, "timeout soon\n", 0600, err, sizeof err), SEND_EX_USAGE);
    send_settings_free(&s);
}

static void config_errors_name_file_and_line(void **state)
{
    send_settings s;
    char err[300], want[400];
    const char *p;
    int found;
    (void)state;
    memset(&s, 0, sizeof s);
    p = file_with(0, "server 127.0.0.1\n\n# ok so far\nsevrer 127.0.0.1\n", 0644);
    assert_int_equal(send_config_load(&s, p, 1, &found, err, sizeof err), SEND_EX_USAGE);
    snprintf(want, sizeof want, "%s:4: unknown key \"sevrer\"", p);
    assert_string_equal(err, want);
    unlink(p);
    assert_int_equal(load(&s, "starttls yes\n", 0644, err, sizeof err), SEND_EX_USAGE);
    assert_non_null(strstr(err, ":1: starttls takes no value"));
    assert_int_equal(load(&s, "timeout 0\n", 0644, err, sizeof err), SEND_EX_USAGE);
    assert_int_equal(load(&s, "timeout 86401\n", 0644, err, sizeof err), SEND_EX_USAGE);
    assert_int_equal(load(&s, "server\n", 0644, err, sizeof err), SEND_EX_USAGE);
    assert_non_null(strstr(err, ":1: server needs a value"));
    assert_int_equal(load(&s, "config /etc/other\n", 0644, err, sizeof err), SEND_EX_USAGE);
    assert_non_null(strstr(err, "(a command line option only)"));
    assert_int_equal(load(&s, "to nobody\n", 0644, err, sizeof err), SEND_EX_USAGE);
    assert_int_equal(load(&s, "server host:\n", 0644, err, sizeof err), SEND_EX_USAGE);
    assert_int_equal(load(&s, "--server host\n", 0644, err, sizeof err), SEND_EX_USAGE);
    assert_int_equal(load(&s, "k\x1b]0;x\x07\n", 0644, err, sizeof err), SEND_EX_USAGE);
    assert_null(strchr(err, '\x1b'));
    send_settings_free(&s);
}

static void config_nul_and_long_lines_refused(void **state)
{
    send_settings s;
    char err[300], big[1200];
    const char nul[] = "helo a\0b\n";
    const char *p;
    int found, fd;
    (void)state;
    memset(&s, 0, sizeof s);
    memset(big, 'a', sizeof big - 2);
    memcpy(big, "helo ", 5);
    big[sizeof big - 2] = '\n';
    big[sizeof big - 1] = '\0';
    assert_int_equal(load(&s, big, 0644, err, sizeof err), SEND_EX_USAGE);
    assert_non_null(strstr(err, ":1: line longer than"));
    p = file_with(1, "", 0644);
    fd = open(p, O_WRONLY);
    assert_int_equal(write(fd, nul, sizeof nul - 1), (ssize_t)(sizeof nul - 1));
    close(fd);
    assert_int_equal(send_config_load(&s, p, 1, &found, err, sizeof err), SEND_EX_USAGE);
    assert_non_null(strstr(err, ":1: NUL byte"));
    unlink(p);
    send_settings_free(&s);
}

static void config_password_needs_a_private_file(void **state)
{
    send_settings s;
    char err[300];
    (void)state;
    memset(&s, 0, sizeof s);
    assert_int_equal(load(&s, "server h\npassword secret\n", 0644, err, sizeof err),
                     SEND_EX_USAGE);
    assert_non_null(strstr(err, ":2: holds a password but is readable by others"));
    assert_int_equal(load(&s, "password secret\n", 0640, err, sizeof err), SEND_EX_USAGE);
    assert_non_null(strstr(err, "readable by its group"));
    assert_null(strstr(err, "secret"));
    assert_int_equal(load(&s, "password secret\n", 0600, err, sizeof err), SEND_EX_USAGE);
    assert_non_null(strstr(err, ":1: password: AUTH is not supported yet"));
    assert_null(strstr(err, "secret"));
    send_settings_free(&s);
}

static void config_missing_files(void **state)
{
    send_settings s;
    char err[300];
    const char *used = "x";
    int found = 1;
    (void)state;
    memset(&s, 0, sizeof s);
    assert_int_equal(send_config_load(&s, "/nonexistent/smtpw.conf", 0, &found, err, sizeof err),
                     0);
    assert_false(found);
    assert_int_equal(send_config_load(&s, "/nonexistent/smtpw.conf", 1, &found, err, sizeof err),
                     SEND_EX_NOINPUT);
    assert_string_equal(err, "/nonexistent/smtpw.conf: No such file or directory");
    assert_int_equal(send_config_load_default(&s, "/nonexistent/a", "/nonexistent/b", &used, err,
                                              sizeof err),
                     0);
    assert_null(used);
    send_settings_free(&s);
}

static void config_default_order_home_then_system(void **state)
{
    send_settings s;
    char err[300];
    const char *home = file_with(1, "helo home.example.org\n", 0600);
    const char *sys = file_with(2, "helo sys.example.org\ntimeout 9\n", 0644);
    const char *used = NULL;
    (void)state;
    memset(&s, 0, sizeof s);
    /* the first that exists is read, the other is not */
    assert_int_equal(send_config_load_default(&s, home, sys, &used, err, sizeof err), 0);
    assert_string_equal(used, home);
    assert_string_equal(s.helo, "home.example.org");
    assert_int_equal(s.timeout_s, 0);
    send_settings_free(&s);
    assert_int_equal(send_config_load_default(&s, "/nonexistent/rc", sys, &used, err, sizeof err),
                     0);
    assert_string_equal(used, sys);
    assert_string_equal(s.helo, "sys.example.org");
    send_settings_free(&s);
    assert_int_equal(send_config_load_default(&s, NULL, sys, &used, err, sizeof err), 0);
    assert_string_equal(used, sys);
    send_settings_free(&s);
    unlink(home);
    unlink(sys);
}

static int cli(send_settings *s, const char *const *args, char *err, size_t cap)
{
    char *argv[20];
    int argc = 0, i, r = 0;
    argv[argc++] = (char *)"smtpwire-send";
    while (*args)
        argv[argc++] = (char *)*args++;
    argv[argc] = NULL;
    for (i = 1; i < argc; i++) {
        r = send_cli_option(s, argc, argv, &i, err, cap);
        if (r != 1)
            return r;
    }
    return r;
}

static void cli_option_forms_and_errors(void **state)
{
    send_settings s;
    char err[300];
    static const char *const ok[] = {"--to=a@example.org", "--to", "b@example.org", "-v",
                                     "--from", "", "--require-tls", "--version", "-h", NULL};
    static const char *const unknown[] = {"--tow=a@example.org", NULL};
    static const char *const novalue[] = {"--to", NULL};
    static const char *const flagvalue[] = {"--starttls=yes", NULL};
    static const char *const short_unknown[] = {"-x", NULL};
    static const char *const badto[] = {"--to", "a\r\nRSET@example.org", NULL};
    static const char *const badfrom[] = {"--from", "nobody@", NULL};
    static const char *const badtime[] = {"--timeout", "-5", NULL};
    static const char *const operand[] = {"message.eml", NULL};
    (void)state;
    memset(&s, 0, sizeof s);
    assert_int_equal(cli(&s, ok, err, sizeof err), 1);
    assert_int_equal(s.nto, 2);
    assert_true(s.verbose);
    assert_string_equal(s.from, "");
    assert_true(s.require_tls);
    assert_true(s.version);
    assert_true(s.help);
    assert_int_equal(cli(&s, unknown, err, sizeof err), SEND_EX_USAGE);
    assert_string_equal(err, "unknown option --tow");
    assert_int_equal(cli(&s, novalue, err, sizeof err), SEND_EX_USAGE);
    assert_string_equal(err, "--to needs a value");
    assert_int_equal(cli(&s, flagvalue, err, sizeof err), SEND_EX_USAGE);
    assert_string_equal(err, "--starttls takes no value");
    assert_int_equal(cli(&s, short_unknown, err, sizeof err), SEND_EX_USAGE);
    assert_string_equal(err, "unknown option -x");
    assert_int_equal(cli(&s, badto, err, sizeof err), SEND_EX_USAGE);
    assert_null(strchr(err, '\r'));
    assert_int_equal(cli(&s, badfrom, err, sizeof err), SEND_EX_USAGE);
    assert_int_equal(cli(&s, badtime, err, sizeof err), SEND_EX_USAGE);
    assert_int_equal(cli(&s, operand, err, sizeof err), 0);
    send_settings_free(&s);
}

static void cli_every_option_has_help_and_a_field(void **state)
{
    const send_option *o;
    send_settings s;
    char err[300];
    (void)state;
    memset(&s, 0, sizeof s);
    for (o = send_options; o->name; o++) {
        const char *v = o->kind == SEND_OPT_FLAG      ? NULL
                        : o->kind == SEND_OPT_SECONDS ? "10"
                        : strcmp(o->name, "server") == 0 ? "127.0.0.1"
                                                         : "a@example.org";
        assert_non_null(o->help);
        assert_true((o->arg == NULL) == (o->kind == SEND_OPT_FLAG));
        assert_ptr_equal(send_option_find(o->name, strlen(o->name)), o);
        if (send_settings_apply(&s, o, v, SEND_FROM_CLI, err, sizeof err) != 0)
            fail_msg("--%s: %s", o->name, err);
    }
    assert_true((size_t)(o - send_options) <= 64); /* cli_set is 64 bits */
    send_settings_free(&s);
}

static void server_split_forms(void **state)
{
    char a[64];
    const char *h, *p;
    (void)state;
    strcpy(a, "mx.example.org");
    assert_int_equal(send_split_server(a, &h, &p), 0);
    assert_string_equal(h, "mx.example.org");
    assert_string_equal(p, "25");
    strcpy(a, "127.0.0.1:2525");
    assert_int_equal(send_split_server(a, &h, &p), 0);
    assert_string_equal(p, "2525");
    strcpy(a, "[::1]:2525");
    assert_int_equal(send_split_server(a, &h, &p), 0);
    assert_string_equal(h, "::1");
    strcpy(a, "::1");
    assert_int_equal(send_split_server(a, &h, &p), 0);
    assert_string_equal(h, "::1");
    assert_string_equal(p, "25");
    strcpy(a, "[::1]x");
    assert_int_equal(send_split_server(a, &h, &p), -1);
    strcpy(a, "host:");
    assert_int_equal(send_split_server(a, &h, &p), -1);
    strcpy(a, "[]:25");
    assert_int_equal(send_split_server(a, &h, &p), -1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(config_split_lines),
        cmocka_unit_test(config_file_sets_every_kind),
        cmocka_unit_test(config_command_line_wins),
        cmocka_unit_test(config_errors_name_file_and_line),
        cmocka_unit_test(config_nul_and_long_lines_refused),
        cmocka_unit_test(config_password_needs_a_private_file),
        cmocka_unit_test(config_missing_files),
        cmocka_unit_test(config_default_order_home_then_system),
        cmocka_unit_test(cli_option_forms_and_errors),
        cmocka_unit_test(cli_every_option_has_help_and_a_field),
        cmocka_unit_test(server_split_forms),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
