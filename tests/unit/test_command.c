/* The server's command grammar (lib/server/command.[ch]): the verb table
 * and the strict parameter spacing, against plain reference checks.
 * SPDX-License-Identifier: MIT */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "server/command.h"

static const struct {
    const char *name;
    uint32_t cmd;
} verbs[] = {
    {"HELO", SMTPW_CMD_HELO}, {"EHLO", SMTPW_CMD_EHLO}, {"MAIL", SMTPW_CMD_MAIL},
    {"RCPT", SMTPW_CMD_RCPT}, {"DATA", SMTPW_CMD_DATA}, {"RSET", SMTPW_CMD_RSET},
    {"NOOP", SMTPW_CMD_NOOP}, {"QUIT", SMTPW_CMD_QUIT}, {"VRFY", SMTPW_CMD_VRFY},
    {"EXPN", SMTPW_CMD_EXPN}, {"HELP", SMTPW_CMD_HELP}, {"AUTH", SMTPW_CMD_AUTH},
    {"BDAT", SMTPW_CMD_BDAT}, {"SEND", SMTPW_CMD_SEND}, {"SOML", SMTPW_CMD_SOML},
    {"SAML", SMTPW_CMD_SAML}, {"TURN", SMTPW_CMD_TURN},
};

/* What the verb of a four-letter line is, by string comparison. */
static uint32_t reference_verb(const char *w)
{
    size_t i, k;
    for (i = 0; i < sizeof verbs / sizeof verbs[0]; i++) {
        for (k = 0; k < 4; k++)
            if ((w[k] | 0x20) != (verbs[i].name[k] | 0x20))
                break;
        if (k == 4)
            return verbs[i].cmd;
    }
    return SMTPW_CMD_UNKNOWN;
}

/* RFC 5321 4.1.1: verbs are case-insensitive.  Every four-letter word in
 * both cases, and every word of four bytes drawn from around the letters,
 * gets the verb a string comparison gives: the hashed table has no false
 * hit and no miss. */
static void rfc5321_4_1_1_verbs_as_string_comparison_says(void **state)
{
    static const char extra[] = "@[`{09 -:.";
    char w[5] = {0};
    unsigned a, b, c, d;
    size_t vlen;
    (void)state;
    for (a = 0; a < 26; a++)
        for (b = 0; b < 26; b++)
            for (c = 0; c < 26; c++)
                for (d = 0; d < 26; d++) {
                    w[0] = (char)('a' + a);
                    w[1] = (char)('A' + b); /* mixed case */
                    w[2] = (char)('a' + c);
                    w[3] = (char)('A' + d);
                    assert_int_equal(smtpw__command_verb(w, 4, &vlen), reference_verb(w));
                }
    /* Bytes next to the letters fold onto nothing. */
    for (a = 0; a < sizeof verbs / sizeof verbs[0]; a++)
        for (b = 0; b < 4; b++)
            for (c = 0; extra[c]; c++) {
                memcpy(w, verbs[a].name, 4);
                w[b] = extra[c];
                assert_int_equal(smtpw__command_verb(w, 4, &vlen), SMTPW_CMD_UNKNOWN);
            }
}

/* RFC 3207 4: STARTTLS whole, any case, ended by SP or the line end. */
static void rfc3207_4_starttls_verb_whole(void **state)
{
    size_t vlen = 0;
    (void)state;
    assert_int_equal(smtpw__command_verb("STARTTLS", 8, &vlen), SMTPW_CMD_STARTTLS);
    assert_int_equal(vlen, 8);
    assert_int_equal(smtpw__command_verb("starttls x", 10, &vlen), SMTPW_CMD_STARTTLS);
    assert_int_equal(smtpw__command_verb("STAR", 4, &vlen), SMTPW_CMD_UNKNOWN);
    assert_int_equal(smtpw__command_verb("STARTTL", 7, &vlen), SMTPW_CMD_UNKNOWN);
    assert_int_equal(smtpw__command_verb("STARTTLSX", 9, &vlen), SMTPW_CMD_UNKNOWN);
    assert_int_equal(smtpw__command_verb("STARTTLX", 8, &vlen), SMTPW_CMD_UNKNOWN);
    assert_int_equal(smtpw__command_verb("HELOX", 5, &vlen), SMTPW_CMD_UNKNOWN);
    assert_int_equal(smtpw__command_verb("HEL", 3, &vlen), SMTPW_CMD_UNKNOWN);
    assert_int_equal(smtpw__command_verb("helo x", 6, &vlen), SMTPW_CMD_HELO);
}

static int spacing_refused(const char *params)
{
    char arg[128];
    smtpw__grammar g;
    smtpw_event ev;
    const smtpw__refusal *no;
    int n = snprintf(arg, sizeof arg, "FROM:<a@b.example> %s", params);
    memset(&g, 0, sizeof g);
    g.esmtp = 1;
    memset(&ev, 0, sizeof ev);
    no = smtpw__command_mail(&g, arg, (size_t)n, &ev);
    return no != NULL && strcmp(no->text, "Syntax error in parameters") == 0;
}

/* RFC 5321 4.1.2 (strict profile): parameters are separated by exactly one
 * SP.  A second SP at every place of parameter texts of every length up to
 * 40 (so across every eight-byte word the check reads) is refused, and
 * single spaces anywhere are not. */
static void rfc5321_4_1_2_parameters_one_space_apart(void **state)
{
    char p[48];
    size_t len, at;
    (void)state;
    for (len = 1; len <= 40; len++) {
        memset(p, 'A', len);
        p[len] = '\0';
        assert_false(spacing_refused(p));
        for (at = 1; at + 1 < len; at++) { /* a single SP inside */
            memset(p, 'A', len);
            p[at] = ' ';
            assert_false(spacing_refused(p));
        }
        for (at = 1; at + 2 < len; at++) { /* two in a row */
            memset(p, 'A', len);
            p[at] = ' ';
            p[at + 1] = ' ';
            assert_true(spacing_refused(p));
        }
        memset(p, 'A', len); /* a trailing SP */
        p[len - 1] = ' ';
        assert_true(spacing_refused(p));
    }
    /* Alternating single spaces across several words. */
    assert_false(spacing_refused("A A A A A A A A A A A A A A A A A A A"));
    assert_true(spacing_refused("A A A A A A A  A A A A A A A A A A A"));
    assert_true(spacing_refused("AAAAAAA  AAAAAAAA"));
    assert_true(spacing_refused("AAAAAAAAAAAAAAA  A"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(rfc5321_4_1_1_verbs_as_string_comparison_says),
        cmocka_unit_test(rfc3207_4_starttls_verb_whole),
        cmocka_unit_test(rfc5321_4_1_2_parameters_one_space_apart),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
