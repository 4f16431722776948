/* smtpwire-send's sendmail mode (examples/send/sendmail.c): address
 * lists, the header's recipients, Bcc removal, From: with -F, the input's
 * lone dot, and the command lines sendmail callers really use. */
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

#include <cmocka.h>

#include "sendmail.h"

/* The addresses a list gave, joined with '|'. */
typedef struct got {
    char buf[1024];
    int n;
} got;

static int collect(void *arg, const char *addr, size_t len)
{
    got *g = arg;
    size_t used = strlen(g->buf);
    assert_int_equal(strlen(addr), len);
    snprintf(g->buf + used, sizeof g->buf - used, "%s%s", g->n ? "|" : "", addr);
    g->n++;
    return 0;
}

static int list(const char *text, got *g)
{
    memset(g, 0, sizeof *g);
    return sm_address_list(text, strlen(text), collect, g, NULL);
}

static void expect_list(const char *text, const char *want)
{
    got g;
    int r = list(text, &g);
    if (r < 0)
        fail_msg("\"%s\": %d", text, r);
    assert_string_equal(g.buf, want);
    assert_int_equal(r, g.n);
}

static void rfc5322_3_4_mailbox_forms(void **state)
{
    (void)state;
    expect_list("a@example.org", "a@example.org");
    expect_list("Alice <a@example.org>, b@example.org", "a@example.org|b@example.org");
    expect_list("\"Doe, John\" <j@example.org>", "j@example.org");
    expect_list("<a@example.org>", "a@example.org");
    expect_list("first.last@sub.example.org", "first.last@sub.example.org");
    expect_list("a@[192.0.2.1]", "a@[192.0.2.1]");
    expect_list("", "");
}

static void rfc5322_3_4_groups_list_their_members(void **state)
{
    (void)state;
    expect_list("team: a@example.org, Bob <b@example.org>;, c@example.org",
                "a@example.org|b@example.org|c@example.org");
    /* the usual Bcc-only message: an empty group, nobody */
    expect_list("undisclosed-recipients:;", "");
}

static void rfc5322_3_2_2_comments_and_folding(void **state)
{
    (void)state;
    /* a comment may hold commas, '<', '@' and nested parentheses */
    expect_list("a@example.org (Alice, <x@evil.example> (nested)), b@example.org",
                "a@example.org|b@example.org");
    expect_list("a(c)@(c)example.org", "a@example.org");
    expect_list("Alice\r\n <a@example.org>,\r\n\tb@example.org\n", "a@example.org|b@example.org");
}

static void rfc5322_3_4_1_quoted_local_part_unquoted(void **state)
{
    (void)state;
    /* unquoted as --to takes it: smtpw_path_render() quotes it again */
    expect_list("\"john doe\"@example.org", "john doe@example.org");
    expect_list("\"a\\\"b\"@example.org", "a\"b@example.org");
    expect_list("Name <\"x y\"@example.org>", "x y@example.org");
}

static void rfc5322_4_4_obsolete_forms(void **state)
{
    (void)state;
    expect_list("<@relay.example,@r2.example:a@example.org>", "a@example.org");
    expect_list(",, a@example.org ,,b@example.org,", "a@example.org|b@example.org");
    expect_list("a . b @ example . org", "a.b@example.org");
}

static void rfc5322_3_4_malformed_lists_refused(void **state)
{
    got g;
    (void)state;
    assert_int_equal(list("John Doe@example.org", &g), -1); /* a phrase is no local part */
    assert_int_equal(list("<a@example.org", &g), -1);
    assert_int_equal(list("a@example.org (open", &g), -1);
    assert_int_equal(list("\"open@example.org", &g), -1);
    assert_int_equal(list("a@", &g), -1);
    assert_int_equal(list("a@\"q\"", &g), -1);   /* a domain has no quoted-string */
    assert_int_equal(list("team: a@example.org", &g), -1); /* group without ';' */
    assert_int_equal(list("<>", &g), -1);
}

static void sendmail_bare_local_name_passed_on(void **state)
{
    (void)state;
    expect_list("root", "root");
}

static void rfc5321_4_5_3_1_overlong_address(void **state)
{
    char big[700];
    got g;
    (void)state;
    memset(big, 'a', 600);
    strcpy(big + 600, "@example.org");
    assert_int_equal(list(big, &g), -2);
}

static int stop_at_first(void *arg, const char *addr, size_t len)
{
    (void)arg;
    (void)addr;
    (void)len;
    return 1;
}

static void sendmail_callback_stops_list(void **state)
{
    const char *t = "a@example.org, b@example.org";
    (void)state;
    assert_int_equal(sm_address_list(t, strlen(t), stop_at_first, NULL, NULL), -3);
}

static int header_rcpts(const char *msg, got *g, const char **field)
{
    memset(g, 0, sizeof *g);
    return sm_header_recipients((const uint8_t *)msg, strlen(msg), collect, g, field);
}

static void rfc5322_3_6_3_to_cc_bcc_are_the_recipients(void **state)
{
    got g;
    const char *msg = "From: me@example.org\r\n"
                      "To: Alice <a@example.org>,\r\n"
                      "  b@example.org\r\n"
                      "cc: c@example.org\r\n"
                      "Reply-To: not@example.org\r\n"
                      "BCC: hidden@example.org\r\n"
                      "Subject: To: fake@example.org\r\n"
                      "\r\n"
                      "To: body@example.org\r\n";
    (void)state;
    assert_int_equal(header_rcpts(msg, &g, NULL), 4);
    assert_string_equal(g.buf, "a@example.org|b@example.org|c@example.org|hidden@example.org");
}

static void rfc5322_3_6_6_resent_fields_win(void **state)
{
    got g;
    const char *msg = "Resent-From: me@example.org\n"
                      "Resent-To: new@example.org\n"
                      "Resent-Bcc: secret@example.org\n"
                      "From: orig@example.org\n"
                      "To: old@example.org\n"
                      "\n"
                      "body\n";
    (void)state;
    assert_int_equal(header_rcpts(msg, &g, NULL), 2);
    assert_string_equal(g.buf, "new@example.org|secret@example.org");
}

static void rfc5322_2_2_header_ends_at_first_non_field(void **state)
{
    got g;
    const char *field = NULL;
    /* LF only, and a line that is no field ends the header (Postfix) */
    const char *msg = "To: a@example.org\nnot a field\nCc: b@example.org\n";
    (void)state;
    assert_int_equal(sm_header_len((const uint8_t *)msg, strlen(msg)), 18);
    assert_int_equal(header_rcpts(msg, &g, NULL), 1);
    assert_int_equal(header_rcpts("To: Bob Smith@example.org\n\n", &g, &field), -1);
    assert_string_equal(field, "To");
    assert_int_equal(sm_header_len((const uint8_t *)"\nTo: a@b.example\n", 17), 0);
}

static void sendmail_bcc_removed_with_its_continuations(void **state)
{
    char msg[] = "From: me@example.org\r\n"
                 "Bcc: x@example.org,\r\n"
                 "\ty@example.org\r\n"
                 "To: a@example.org\r\n"
                 "resent-bcc: z@example.org\r\n"
                 "Subject: hi\r\n"
                 "\r\n"
                 "Bcc: in the body stays\r\n";
    const char *want = "From: me@example.org\r\n"
                       "To: a@example.org\r\n"
                       "Subject: hi\r\n"
                       "\r\n"
                       "Bcc: in the body stays\r\n";
    size_t n;
    (void)state;
    n = sm_remove_bcc((uint8_t *)msg, strlen(msg));
    assert_int_equal(n, strlen(want));
    assert_memory_equal(msg, want, n);
    assert_false(sm_has_field((const uint8_t *)msg, n, "bcc"));
    assert_true(sm_has_field((const uint8_t *)msg, n, "subject"));
}

static void rfc5322_3_2_4_fullname_as_quoted_string(void **state)
{
    char out[512];
    size_t n;
    (void)state;
    n = sm_from_field(out, sizeof out, "CronDaemon", "root@example.org", "\n");
    assert_string_equal(out, "From: \"CronDaemon\" <root@example.org>\n");
    assert_int_equal(n, strlen(out));
    sm_from_field(out, sizeof out, "Doe, \"J\" \\", "j@example.org", "\r\n");
    assert_string_equal(out, "From: \"Doe, \\\"J\\\" \\\\\" <j@example.org>\r\n");
    sm_from_field(out, sizeof out, NULL, "q@example.org", "\n");
    assert_string_equal(out, "From: <q@example.org>\n");
    sm_from_field(out, sizeof out, "", "john doe@example.org", "\n");
    assert_string_equal(out, "From: <\"john doe\"@example.org>\n");
}

static void rfc2047_fullname_utf8_as_encoded_words(void **state)
{
    char out[512], name[200];
    size_t i;
    (void)state;
    sm_from_field(out, sizeof out, "J\xc3\xbcrgen", "j@example.org", "\n");
    assert_string_equal(out, "From: =?UTF-8?B?SsO8cmdlbg==?= <j@example.org>\n");
    /* 30 two-byte characters: 45 octets per word, split between characters */
    for (i = 0; i < 30; i++)
        memcpy(name + 2 * i, "\xc3\xa9", 2);
    name[60] = '\0';
    sm_from_field(out, sizeof out, name, "j@example.org", "\n");
    assert_non_null(strstr(out, "?=\n =?UTF-8?B?"));
    for (i = 0; out[i]; i++) {
        size_t line = strcspn(out + i, "\n");
        assert_true(line <= 78); /* RFC 5322 2.1.1 */
        i += line;
    }
}

static void sendmail_fullname_cannot_inject_a_header(void **state)
{
    char out[512];
    (void)state;
    assert_int_equal(sm_from_field(out, sizeof out, "x\r\nBcc: y@example.org", "a@example.org",
                                   "\n"),
                     0);
    assert_int_equal(sm_from_field(out, sizeof out, "\xff", "a@example.org", "\n"), 0);
    assert_int_equal(sm_from_field(out, sizeof out, "ok", "", "\n"), 0); /* null sender */
    assert_int_equal(sm_from_field(out, sizeof out, "ok", "a\n@example.org", "\n"), 0);
    assert_int_equal(sm_from_field(out, 10, "ok", "a@example.org", "\n"), 0);
}

static void sendmail_eol_follows_the_message(void **state)
{
    (void)state;
    assert_string_equal(sm_eol((const uint8_t *)"a: b\r\n", 6), "\r\n");
    assert_string_equal(sm_eol((const uint8_t *)"a: b\n", 5), "\n");
    assert_string_equal(sm_eol((const uint8_t *)"", 0), "\n");
}

static void read_from(const char *input, int dot_ends, const char *want)
{
    FILE *f = tmpfile();
    uint8_t *msg = NULL;
    size_t len = 0;
    assert_non_null(f);
    fputs(input, f);
    rewind(f);
    assert_int_equal(sm_read_message(f, dot_ends, &msg, &len), 0);
    fclose(f);
    assert_int_equal(len, strlen(want));
    assert_memory_equal(msg, want, len);
    free(msg);
}

static void sendmail_lone_dot_ends_input_unless_i(void **state)
{
    (void)state;
    read_from("Subject: x\n\nline\n.\nafter\n", 1, "Subject: x\n\nline\n");
    read_from("Subject: x\r\n\r\nline\r\n.\r\nafter\r\n", 1, "Subject: x\r\n\r\nline\r\n");
    read_from("Subject: x\n\nline\n.\nafter\n", 0, "Subject: x\n\nline\n.\nafter\n");
    /* only a lone dot: ".." and ". " are text */
    read_from("a\n..\n. \n.x\n", 1, "a\n..\n. \n.x\n");
    read_from("a\n.", 1, "a\n");
}

/* ---- command lines ---- */

typedef struct run {
    sm_opts o;
    send_settings s;
    char err[300];
    int status;
} run;

static void parse(run *r, const char *const *args)
{
    char *argv[40];
    int argc = 0;
    memset(r, 0, sizeof *r);
    argv[argc++] = (char *)"sendmail";
    while (*args)
        argv[argc++] = (char *)*args++;
    argv[argc] = NULL;
    r->status = sm_parse_argv(argc, argv, &r->o, &r->s, r->err, sizeof r->err);
}

static void sendmail_argv_vixie_cron(void **state)
{
    static const char *const a[] = {"-FCronDaemon", "-odi", "-oem", "-oi", "-t", NULL};
    run r;
    (void)state;
    parse(&r, a);
    assert_int_equal(r.status, 0);
    assert_true(r.o.extract);
    assert_false(r.o.dot_ends);
    assert_string_equal(r.o.fullname, "CronDaemon");
    assert_int_equal(r.s.nto, 0);
    send_settings_free(&r.s);
}

static void sendmail_argv_debian_cron(void **state)
{
    static const char *const a[] = {"-FCronDaemon", "-i", "-B8BITMIME", "-oem",
                                    "ops@example.org", NULL};
    run r;
    (void)state;
    parse(&r, a);
    assert_int_equal(r.status, 0);
    assert_false(r.o.extract);
    assert_false(r.o.dot_ends);
    assert_int_equal(r.s.nto, 1);
    assert_string_equal(r.s.to[0], "ops@example.org");
    send_settings_free(&r.s);
}

static void sendmail_argv_php_mail(void **state)
{
    /* php.ini sendmail_path "sendmail -t -i" plus mail()'s "-f" parameter */
    static const char *const a[] = {"-t", "-i", "-fwww@example.org", NULL};
    static const char *const b[] = {"-ti", "-f", "<www@example.org>", NULL};
    static const char *const c[] = {"-t", "-i", "-f", "<>", NULL};
    run r;
    (void)state;
    parse(&r, a);
    assert_int_equal(r.status, 0);
    assert_true(r.o.extract);
    assert_false(r.o.dot_ends);
    assert_string_equal(r.s.from, "www@example.org");
    send_settings_free(&r.s);
    parse(&r, b);
    assert_int_equal(r.status, 0);
    assert_true(r.o.extract);
    assert_false(r.o.dot_ends);
    assert_string_equal(r.s.from, "www@example.org");
    send_settings_free(&r.s);
    parse(&r, c);
    assert_int_equal(r.status, 0);
    assert_string_equal(r.s.from, "");
    send_settings_free(&r.s);
}

static void sendmail_argv_mailx_operands(void **state)
{
    static const char *const a[] = {"-i", "--", "a@example.org", "Bob <b@example.org>, c@example.org",
                                    NULL};
    run r;
    (void)state;
    parse(&r, a);
    assert_int_equal(r.status, 0);
    assert_false(r.o.dot_ends);
    assert_int_equal(r.s.nto, 3);
    assert_string_equal(r.s.to[1], "b@example.org");
    assert_string_equal(r.s.to[2], "c@example.org");
    send_settings_free(&r.s);
}

static void sendmail_argv_ignored_options(void **state)
{
    static const char *const a[] = {"-Am", "-Ac", "-G", "-U", "-m", "-n", "-B", "7BIT",
                                    "-C/etc/mail/sendmail.cf", "-h", "17", "-L", "tag",
                                    "-N", "never", "-O", "DeliveryMode=i", "-Rhdrs",
                                    "-V", "envid", "-XV", "-o7", "-om", "-odb", "-oee",
                                    "-bm", "x@example.org", NULL};
    run r;
    (void)state;
    parse(&r, a);
    assert_int_equal(r.status, 0);
    assert_true(r.o.dot_ends); /* no -i among them */
    assert_false(r.o.extract);
    assert_int_equal(r.s.nto, 1);
    send_settings_free(&r.s);
}

static void sendmail_argv_oi_values(void **state)
{
    static const char *const t[] = {"-oiTrue", NULL};
    static const char *const f[] = {"-oi", "-oiFalse", NULL};
    static const char *const sep[] = {"-o", "i", NULL};
    run r;
    (void)state;
    parse(&r, t);
    assert_false(r.o.dot_ends);
    parse(&r, f);
    assert_true(r.o.dot_ends);
    parse(&r, sep);
    assert_false(r.o.dot_ends);
    assert_int_equal(r.s.nto, 0);
}

static void sendmail_argv_modes_without_queue_refused(void **state)
{
    static const char *const bp[] = {"-bp", NULL};
    static const char *const bs[] = {"-bs", NULL};
    static const char *const q[] = {"-q", NULL};
    static const char *const d[] = {"-d0.1", NULL};
    static const char *const novalue[] = {"-f", NULL};
    run r;
    (void)state;
    parse(&r, bp);
    assert_int_equal(r.status, SEND_EX_USAGE);
    assert_non_null(strstr(r.err, "-bp"));
    parse(&r, bs);
    assert_int_equal(r.status, SEND_EX_USAGE);
    parse(&r, q);
    assert_int_equal(r.status, SEND_EX_USAGE);
    assert_string_equal(r.err, "unknown sendmail option -q");
    parse(&r, d);
    assert_int_equal(r.status, SEND_EX_USAGE);
    parse(&r, novalue);
    assert_int_equal(r.status, SEND_EX_USAGE);
    assert_string_equal(r.err, "-f needs a value");
}

static void sendmail_argv_long_options_work_too(void **state)
{
    static const char *const a[] = {"--server", "127.0.0.1:2525", "--timeout=5", "-t",
                                    "--all-or-nothing", "-v", NULL};
    static const char *const bad[] = {"--tow", "x@example.org", NULL};
    run r;
    (void)state;
    parse(&r, a);
    assert_int_equal(r.status, 0);
    assert_string_equal(r.s.server, "127.0.0.1:2525");
    assert_int_equal(r.s.timeout_s, 5);
    assert_true(r.s.all_or_nothing);
    assert_true(r.s.verbose);
    send_settings_free(&r.s);
    parse(&r, bad);
    assert_int_equal(r.status, SEND_EX_USAGE);
    assert_string_equal(r.err, "unknown option --tow");
}

static void sendmail_argv_bad_recipients_named(void **state)
{
    static const char *const local[] = {"root", NULL};
    static const char *const junk[] = {"a@example.org, <oops", NULL};
    static const char *const ctl[] = {"-f", "a\x1b@example.org", NULL};
    run r;
    (void)state;
    parse(&r, local);
    assert_int_equal(r.status, SEND_EX_USAGE);
    assert_non_null(strstr(r.err, "\"root\": no domain"));
    send_settings_free(&r.s);
    parse(&r, junk);
    assert_int_equal(r.status, SEND_EX_USAGE);
    send_settings_free(&r.s);
    parse(&r, ctl);
    assert_int_equal(r.status, SEND_EX_USAGE);
    assert_non_null(strstr(r.err, "a\\x1b@example.org")); /* escaped in the message */
    send_settings_free(&r.s);
}

static void sendmail_called_as(void **state)
{
    (void)state;
    assert_true(sm_called_as_sendmail("sendmail"));
    assert_true(sm_called_as_sendmail("/usr/sbin/sendmail"));
    assert_false(sm_called_as_sendmail("/usr/sbin/sendmail.postfix"));
    assert_false(sm_called_as_sendmail("smtpwire-send"));
    assert_false(sm_called_as_sendmail("/tmp/sendmail/smtpwire-send"));
    assert_false(sm_called_as_sendmail(NULL));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(rfc5322_3_4_mailbox_forms),
        cmocka_unit_test(rfc5322_3_4_groups_list_their_members),
        cmocka_unit_test(rfc5322_3_2_2_comments_and_folding),
        cmocka_unit_test(rfc5322_3_4_1_quoted_local_part_unquoted),
        cmocka_unit_test(rfc5322_4_4_obsolete_forms),
        cmocka_unit_test(rfc5322_3_4_malformed_lists_refused),
        cmocka_unit_test(sendmail_bare_local_name_passed_on),
        cmocka_unit_test(rfc5321_4_5_3_1_overlong_address),
        cmocka_unit_test(sendmail_callback_stops_list),
        cmocka_unit_test(rfc5322_3_6_3_to_cc_bcc_are_the_recipients),
        cmocka_unit_test(rfc5322_3_6_6_resent_fields_win),
        cmocka_unit_test(rfc5322_2_2_header_ends_at_first_non_field),
        cmocka_unit_test(sendmail_bcc_removed_with_its_continuations),
        cmocka_unit_test(rfc5322_3_2_4_fullname_as_quoted_string),
        cmocka_unit_test(rfc2047_fullname_utf8_as_encoded_words),
        cmocka_unit_test(sendmail_fullname_cannot_inject_a_header),
        cmocka_unit_test(sendmail_eol_follows_the_message),
        cmocka_unit_test(sendmail_lone_dot_ends_input_unless_i),
        cmocka_unit_test(sendmail_argv_vixie_cron),
        cmocka_unit_test(sendmail_argv_debian_cron),
        cmocka_unit_test(sendmail_argv_php_mail),
        cmocka_unit_test(sendmail_argv_mailx_operands),
        cmocka_unit_test(sendmail_argv_ignored_options),
        cmocka_unit_test(sendmail_argv_oi_values),
        cmocka_unit_test(sendmail_argv_modes_without_queue_refused),
        cmocka_unit_test(sendmail_argv_long_options_work_too),
        cmocka_unit_test(sendmail_argv_bad_recipients_named),
        cmocka_unit_test(sendmail_called_as),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
