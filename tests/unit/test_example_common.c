/* The example programs' shared helpers (examples/common/: escape, log,
 * clock) and smtpwire-server's privilege drop (examples/server/privdrop.c).
 * The log tests are the core of "nothing a client sends can forge or break
 * a log line". */
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
#include <fcntl.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>
#include <cmocka.h>

#include "clock.h"
#include "escape.h"
#include "log.h"
#include "privdrop.h"

/* Undo escape.h's escaping; returns the decoded length, or -1 when the
 * text is not something esc_write() can produce. */
static long unescape(const char *s, size_t n, char *out, unsigned flags)
{
    size_t i = 0, w = 0;
    while (i < n) {
        unsigned char c = (unsigned char)s[i];
        if (c == '\n' && (flags & ESC_KEEP_LF)) {
            out[w++] = '\n';
            i++;
        } else if (c < 0x20 || c >= 0x7f || (c == '"' && (flags & ESC_QUOTED))) {
            return -1; /* must have been escaped */
        } else if (c != '\\') {
            out[w++] = (char)c;
            i++;
        } else if (i + 1 < n && (s[i + 1] == '\\' || (s[i + 1] == '"' && (flags & ESC_QUOTED)))) {
            out[w++] = s[i + 1];
            i += 2;
        } else if (i + 3 < n && s[i + 1] == 'x') {
            unsigned v;
            if (sscanf(s + i + 2, "%2x", &v) != 1)
                return -1;
            out[w++] = (char)v;
            i += 4;
        } else {
            return -1;
        }
    }
    return (long)w;
}

static void escape_every_byte_is_printable_and_reversible(void **state)
{
    char in[256], out[1025], back[256];
    unsigned flags;
    int b;
    (void)state;
    for (b = 0; b < 256; b++)
        in[b] = (char)b;
    for (flags = 0; flags < 4; flags++) {
        size_t used, n = esc_write(out, sizeof out, in, sizeof in, flags, &used);
        size_t i;
        assert_int_equal(used, sizeof in);
        assert_int_equal(n, esc_len(in, sizeof in, flags));
        assert_int_equal(strlen(out), n);
        for (i = 0; i < n; i++) {
            unsigned char c = (unsigned char)out[i];
            assert_true((c >= 0x20 && c < 0x7f) || (c == '\n' && (flags & ESC_KEEP_LF)));
        }
        assert_int_equal(unescape(out, n, back, flags), 256);
        assert_memory_equal(back, in, 256);
    }
}

static void escape_terminal_controls_and_c1(void **state)
{
    char out[128];
    (void)state;
    /* ESC [2J (clear screen), 0x9b (C1 CSI), CR, DEL, a bidi override */
    assert_string_equal(esc_str(out, sizeof out, "a\x1b[2Jb\x9b" "c\rd\x7f" "e\xe2\x80\xae", 0),
                        "a\\x1b[2Jb\\x9bc\\x0dd\\x7fe\\xe2\\x80\\xae");
    assert_string_equal(esc_str(out, sizeof out, "two\nlines", ESC_KEEP_LF), "two\nlines");
    assert_string_equal(esc_str(out, sizeof out, "two\nlines", 0), "two\\x0alines");
    assert_string_equal(esc_str(out, sizeof out, "a\\b\"c", 0), "a\\\\b\"c");
    assert_string_equal(esc_str(out, sizeof out, "a\\b\"c", ESC_QUOTED), "a\\\\b\\\"c");
    assert_string_equal(esc_str(out, sizeof out, NULL, 0), "");
}

static void escape_cut_never_inside_an_escape(void **state)
{
    static const char in[] = "ab\x01\\z";
    char out[16];
    size_t cap, used;
    (void)state;
    /* full form: ab\x01\\z (9 characters) */
    for (cap = 0; cap <= 11; cap++) {
        size_t n;
        memset(out, 'Q', sizeof out);
        n = esc_write(out, cap, in, sizeof in - 1, 0, &used);
        if (cap == 0) {
            assert_int_equal(n, 0);
            assert_int_equal(out[0], 'Q');
            continue;
        }
        assert_true(n < cap);
        assert_int_equal(out[n], '\0');
        assert_int_equal(n, esc_len(in, used, 0)); /* whole escapes only */
        assert_int_equal(out[cap], 'Q'); /* nothing written past cap */
    }
    assert_int_equal(esc_write(out, 4, in, sizeof in - 1, 0, &used), 2);
    assert_int_equal(used, 2);
}

/* A pipe standing in for stderr. */
static int log_pipe[2];

static int log_setup(void **state)
{
    (void)state;
    if (pipe(log_pipe) != 0)
        return -1;
    log_set_fd(log_pipe[1]);
    log_set_level(LOG_INFO);
    return 0;
}

static int log_teardown(void **state)
{
    (void)state;
    log_set_fd(2);
    log_set_level(LOG_INFO);
    close(log_pipe[0]);
    close(log_pipe[1]);
    return 0;
}

/* What the log wrote since the last call. */
static size_t log_read(char *buf, size_t cap)
{
    ssize_t n;
    log_line l;
    /* a marker line, so that read() never blocks on an empty pipe */
    log_begin(&l, LOG_ERROR, "mark");
    log_end(&l);
    n = read(log_pipe[0], buf, cap - 1);
    assert_true(n > 0);
    buf[n] = '\0';
    {
        char *m = strstr(buf, "event=mark\n");
        assert_non_null(m);
        while (m > buf && m[-1] != '\n')
            m--;
        *m = '\0';
        return (size_t)(m - buf);
    }
}

/* Split one log line (no newline) into key=value pairs, decoding quoted
 * values; returns the number of pairs or -1 when the line does not parse
 * as log.h describes. */
static int parse_line(const char *s, char keys[][32], char vals[][4096], int max)
{
    int k = 0;
    while (*s) {
        const char *eq = strchr(s, '=');
        size_t kl;
        if (k == max || !eq || eq == s || (size_t)(eq - s) >= 32)
            return -1;
        kl = (size_t)(eq - s);
        memcpy(keys[k], s, kl);
        keys[k][kl] = '\0';
        if (strspn(keys[k], "abcdefghijklmnopqrstuvwxyz0123456789_") != kl)
            return -1;
        s = eq + 1;
        if (*s == '"') {
            const char *e = s + 1;
            long n;
            while (*e && *e != '"')
                e += *e == '\\' && e[1] ? 2 : 1;
            if (*e != '"')
                return -1;
            n = unescape(s + 1, (size_t)(e - s - 1), vals[k], ESC_QUOTED);
            if (n < 0)
                return -1;
            vals[k][n] = '\0';
            s = e + 1;
        } else {
            size_t n = strcspn(s, " ");
            if (n == 0)
                return -1;
            memcpy(vals[k], s, n);
            vals[k][n] = '\0';
            s += n;
        }
        k++;
        if (*s == ' ')
            s++;
        else if (*s)
            return -1;
    }
    return k;
}

static char keys[64][32], vals[64][4096];

static void log_line_shape_ts_level_event(void **state)
{
    char buf[8192];
    log_line l;
    int n;
    (void)state;
    log_begin(&l, LOG_INFO, "connect");
    log_str(&l, "session", "00ab12");
    log_str(&l, "peer", "[192.0.2.1]:40000");
    log_num(&l, "size", 18446744073709551615u);
    log_str(&l, "empty", "");
    log_str(&l, "spaced", "a b");
    log_end(&l);
    log_read(buf, sizeof buf);
    assert_int_equal(buf[strlen(buf) - 1], '\n');
    buf[strlen(buf) - 1] = '\0';
    assert_null(strchr(buf, '\n'));
    n = parse_line(buf, keys, vals, 64);
    assert_int_equal(n, 8);
    assert_string_equal(keys[0], "ts");
    assert_int_equal(strlen(vals[0]), 24);
    assert_int_equal(vals[0][23], 'Z');
    assert_string_equal(keys[1], "level");
    assert_string_equal(vals[1], "info");
    assert_string_equal(vals[2], "connect");
    assert_string_equal(vals[3], "00ab12");
    assert_string_equal(vals[4], "[192.0.2.1]:40000");
    assert_string_equal(vals[5], "18446744073709551615");
    assert_non_null(strstr(buf, " empty=\"\" spaced=\"a b\""));
}

/* A HELO name with a fake CRLF and a forged line behind it, ESC sequences,
 * NUL, quotes and '=' in a value: still one line, and it parses back to
 * exactly the pairs written with exactly the bytes given. */
static void log_client_bytes_cannot_forge_or_break_a_line(void **state)
{
    static const char hostile[] =
        "evil.example\r\nts=2026-01-01T00:00:00.000Z level=info event=message verdict=accepted"
        " \"x\\\" y=\"z\" \x1b]0;title\x07\x00\x9b" "2J\n\r";
    char buf[8192];
    log_line l;
    int n;
    (void)state;
    log_begin(&l, LOG_INFO, "helo");
    log_bytes(&l, "name", hostile, sizeof hostile - 1);
    log_str(&l, "after", "ok");
    log_end(&l);
    log_read(buf, sizeof buf);
    assert_int_equal(strchr(buf, '\n') - buf, (long)strlen(buf) - 1); /* one line */
    buf[strlen(buf) - 1] = '\0';
    assert_null(strchr(buf, '\r'));
    assert_null(strchr(buf, '\x1b'));
    n = parse_line(buf, keys, vals, 64);
    assert_int_equal(n, 5);
    assert_string_equal(keys[3], "name");
    assert_memory_equal(vals[3], hostile, sizeof hostile - 1);
    assert_string_equal(keys[4], "after");
    assert_string_equal(vals[4], "ok");
    assert_string_equal(vals[2], "helo"); /* the only event key */
}

static void log_long_value_cut_and_marked(void **state)
{
    char *big = (char *)malloc(20000), buf[16384];
    log_line l;
    size_t len;
    int n;
    (void)state;
    assert_non_null(big);
    memset(big, '\n', 20000); /* each byte escapes to 4 */
    log_begin(&l, LOG_INFO, "message");
    log_bytes(&l, "from", big, 20000);
    log_str(&l, "to", "<a@b>");
    log_end(&l);
    len = log_read(buf, sizeof buf);
    assert_true(len <= LOG_LINE_MAX);
    assert_true(len <= 4096); /* PIPE_BUF: one atomic write */
    assert_int_equal(buf[len - 1], '\n');
    buf[len - 1] = '\0';
    n = parse_line(buf, keys, vals, 64);
    assert_true(n >= 5);
    assert_string_equal(keys[n - 1], "truncated");
    assert_string_equal(vals[n - 1], "1");
    free(big);
}

static void log_levels_quiet_and_verbose(void **state)
{
    char buf[8192];
    log_line l;
    (void)state;
    log_set_level(LOG_ERROR); /* -q */
    log_begin(&l, LOG_INFO, "connect");
    log_str(&l, "x", "y");
    log_end(&l);
    log_begin(&l, LOG_WARN, "warned");
    log_end(&l);
    log_begin(&l, LOG_ERROR, "failed");
    log_end(&l);
    log_read(buf, sizeof buf);
    assert_null(strstr(buf, "event=connect"));
    assert_null(strstr(buf, "event=warned"));
    assert_non_null(strstr(buf, "level=error event=failed"));
    log_set_level(LOG_INFO); /* default */
    log_begin(&l, LOG_DEBUG, "recv");
    log_end(&l);
    log_begin(&l, LOG_INFO, "connect");
    log_end(&l);
    log_read(buf, sizeof buf);
    assert_null(strstr(buf, "event=recv"));
    assert_non_null(strstr(buf, "level=info event=connect"));
    log_set_level(LOG_DEBUG); /* -v */
    log_begin(&l, LOG_DEBUG, "recv");
    log_end(&l);
    log_read(buf, sizeof buf);
    assert_non_null(strstr(buf, "level=debug event=recv"));
}

static void log_buffered_lines_wait_for_flush(void **state)
{
    char buf[8192];
    log_line l;
    ssize_t n;
    size_t total;
    int i;
    (void)state;
    log_set_buffered(1);
    log_begin(&l, LOG_INFO, "first");
    log_end(&l);
    log_begin(&l, LOG_INFO, "second");
    log_end(&l);
    assert_int_equal(fcntl(log_pipe[0], F_SETFL, O_NONBLOCK), 0);
    assert_true(read(log_pipe[0], buf, sizeof buf) < 0); /* nothing written yet */
    assert_int_equal(fcntl(log_pipe[0], F_SETFL, 0), 0);
    assert_int_equal(log_flush(), 0);
    n = read(log_pipe[0], buf, sizeof buf - 1);
    assert_true(n > 0);
    buf[n] = '\0';
    assert_non_null(strstr(buf, "event=first\n"));
    assert_non_null(strstr(buf, "event=second\n"));
    /* a full buffer is written at once, in whole lines (16 lines of about
     * 4 KiB fill it; the pipe holds 64 KiB) */
    memset(buf, '\n', 1000);
    for (i = 0; i < 17; i++) {
        log_begin(&l, LOG_INFO, "fill");
        log_bytes(&l, "x", buf, 1000); /* 4000 bytes escaped */
        log_end(&l);
    }
    assert_int_equal(fcntl(log_pipe[0], F_SETFL, O_NONBLOCK), 0);
    total = 0;
    while ((n = read(log_pipe[0], buf, sizeof buf)) > 0)
        total += (size_t)n;
    assert_true(total >= 16 * 4000);
    log_set_buffered(0); /* flushes the 17th line */
    n = read(log_pipe[0], buf, sizeof buf);
    assert_true(n > 4000);
    assert_int_equal(buf[n - 1], '\n');
    assert_int_equal(fcntl(log_pipe[0], F_SETFL, 0), 0);
}

static void clock_rfc3339_and_poll_timeout(void **state)
{
    char ts[32];
    (void)state;
    assert_string_equal(clock_rfc3339(ts, sizeof ts, 0), "1970-01-01T00:00:00.000Z");
    assert_string_equal(clock_rfc3339(ts, sizeof ts, 1767225599999u), "2025-12-31T23:59:59.999Z");
    assert_string_equal(clock_rfc3339(ts, 24, 0), ""); /* no room */
    assert_true(clock_wall_ms() > 1700000000000u);
    assert_int_equal(clock_poll_timeout(100, 0, 60000), -1);
    assert_int_equal(clock_poll_timeout(100, 50, 60000), 0);
    assert_int_equal(clock_poll_timeout(100, 100, 60000), 0);
    assert_int_equal(clock_poll_timeout(100, 350, 60000), 250);
    assert_int_equal(clock_poll_timeout(0, UINT64_MAX, 60000), 60000);
    assert_int_equal(clock_poll_timeout(0, UINT64_MAX, 0), 0x7fffffff);
}

static void privileged_port_as_root_needs_run_as_or_allow_root(void **state)
{
    char err[256];
    (void)state;
    if (geteuid() != 0) {
        assert_int_equal(privdrop_root_check(0, 0, 25, err, sizeof err), 0);
        skip();
    }
    assert_int_equal(privdrop_root_check(0, 0, 25, err, sizeof err), -1);
    assert_non_null(strstr(err, "--run-as"));
    assert_int_equal(privdrop_root_check(1, 0, 25, err, sizeof err), 0);
    assert_int_equal(privdrop_root_check(0, 1, 25, err, sizeof err), 0);
    assert_int_equal(privdrop_root_check(0, 0, 1023, err, sizeof err), -1);
    assert_int_equal(privdrop_root_check(0, 0, 1024, err, sizeof err), 0);
    assert_int_equal(privdrop_root_check(0, 0, 0, err, sizeof err), -1); /* port 0 is < 1024 */
}

static void run_as_drops_groups_gid_uid_for_good(void **state)
{
    privdrop_user u;
    char err[256];
    pid_t pid;
    int st;
    (void)state;
    assert_int_equal(privdrop_lookup("root", &u, err, sizeof err), -1);
    assert_int_equal(privdrop_lookup("no-such-user-smtpw", &u, err, sizeof err), -1);
    assert_non_null(strstr(err, "no-such-user-smtpw"));
    if (geteuid() != 0 || privdrop_lookup("nobody", &u, err, sizeof err) != 0)
        skip();
    pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        gid_t groups[8];
        int ng;
        if (privdrop_to(&u, err, sizeof err) != 0)
            _exit(1);
        ng = getgroups(8, groups);
        if (ng != 1 || groups[0] != u.gid)
            _exit(2);
        if (getuid() != u.uid || geteuid() != u.uid || getgid() != u.gid || setuid(0) == 0 ||
            setgid(0) == 0)
            _exit(3);
        _exit(0);
    }
    assert_int_equal(waitpid(pid, &st, 0), pid);
    assert_true(WIFEXITED(st));
    assert_int_equal(WEXITSTATUS(st), 0);
    /* by number too */
    {
        char num[32];
        privdrop_user v;
        snprintf(num, sizeof num, "%lu", (unsigned long)u.uid);
        assert_int_equal(privdrop_lookup(num, &v, err, sizeof err), 0);
        assert_int_equal(v.uid, u.uid);
        assert_string_equal(v.name, u.name);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(escape_every_byte_is_printable_and_reversible),
        cmocka_unit_test(escape_terminal_controls_and_c1),
        cmocka_unit_test(escape_cut_never_inside_an_escape),
        cmocka_unit_test_setup_teardown(log_line_shape_ts_level_event, log_setup, log_teardown),
        cmocka_unit_test_setup_teardown(log_client_bytes_cannot_forge_or_break_a_line, log_setup,
                                        log_teardown),
        cmocka_unit_test_setup_teardown(log_long_value_cut_and_marked, log_setup, log_teardown),
        cmocka_unit_test_setup_teardown(log_levels_quiet_and_verbose, log_setup, log_teardown),
        cmocka_unit_test_setup_teardown(log_buffered_lines_wait_for_flush, log_setup,
                                        log_teardown),
        cmocka_unit_test(clock_rfc3339_and_poll_timeout),
        cmocka_unit_test(privileged_port_as_root_needs_run_as_or_allow_root),
        cmocka_unit_test(run_as_drops_groups_gid_uid_for_good),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
