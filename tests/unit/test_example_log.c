/* The example programs' log (examples/common/log.c, clock.c) as a busy
 * server uses it: what a line costs in clock reads, and that the fast
 * paths (a plain value scanned a word at a time, a time stamp formatted
 * once per turn without gmtime) write exactly what log.h describes.
 *
 * The wall clock is this file's own clock_gettime(): an executable's
 * definition comes before libc's, so log.c's reads of CLOCK_REALTIME are
 * counted and see a time the test sets (other clocks pass through). */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE /* syscall() */
#endif
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>

#include "clock.h"
#include "escape.h"
#include "log.h"

static int faking;          /* CLOCK_REALTIME is the fake one */
static uint64_t fake_ms;    /* what it reads next ... */
static uint64_t fake_step;  /* ... and how far it moves at each read */
static unsigned wall_reads; /* reads of the fake clock */

int clock_gettime(clockid_t clk, struct timespec *ts)
{
    if (faking && clk == CLOCK_REALTIME) {
        wall_reads++;
        ts->tv_sec = (time_t)(fake_ms / 1000u);
        ts->tv_nsec = (long)(fake_ms % 1000u) * 1000000L;
        fake_ms += fake_step;
        return 0;
    }
    return (int)syscall(SYS_clock_gettime, clk, ts);
}

static int devnull = -1;

static int setup(void **state)
{
    (void)state;
    devnull = open("/dev/null", O_WRONLY);
    if (devnull < 0)
        return -1;
    log_set_fd(devnull);
    log_set_level(LOG_INFO);
    faking = 1;
    wall_reads = 0;
    fake_step = 0;
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    log_set_buffered(0);
    log_set_fd(2);
    log_set_level(LOG_INFO);
    faking = 0;
    close(devnull);
    return 0;
}

/* The ts value of a line being built ("ts=...Z level=..."). */
static void ts_of(log_line *l, char out[32])
{
    const char *t = log_text(l), *sp = strchr(t, ' ');
    size_t n;
    assert_non_null(sp);
    assert_memory_equal(t, "ts=", 3);
    n = (size_t)(sp - t) - 3;
    assert_true(n < 32);
    memcpy(out, t + 3, n);
    out[n] = '\0';
}

/* log.h: buffered, the wall clock is read and the stamp formatted once per
 * loop turn, and the turn's lines share it; log_flush() ends the turn.
 * (Before, every line read the clock and ran gmtime_r and snprintf.) */
static void log_one_clock_read_and_stamp_per_loop_turn(void **state)
{
    char a[32], b[32], c[32];
    log_line l;
    (void)state;
    log_set_buffered(1);
    fake_ms = 1767225599998u; /* 2025-12-31T23:59:59.998Z */
    fake_step = 1;            /* the clock moves 1 ms at every read */
    wall_reads = 0;
    log_begin(&l, LOG_INFO, "connect");
    ts_of(&l, a);
    log_end(&l);
    log_begin(&l, LOG_INFO, "helo");
    ts_of(&l, b);
    log_end(&l);
    log_begin(&l, LOG_INFO, "message");
    log_str(&l, "session", "0001");
    ts_of(&l, c);
    log_end(&l);
    assert_int_equal(wall_reads, 1);
    assert_string_equal(a, "2025-12-31T23:59:59.998Z");
    assert_string_equal(b, a);
    assert_string_equal(c, a);
    assert_int_equal(log_flush(), 0); /* the loop sleeps: the turn ends */
    log_begin(&l, LOG_INFO, "disconnect");
    ts_of(&l, a);
    log_end(&l);
    assert_int_equal(wall_reads, 2);
    assert_string_equal(a, "2025-12-31T23:59:59.999Z"); /* only the milliseconds moved */
    (void)log_flush();
    log_begin(&l, LOG_INFO, "connect");
    ts_of(&l, a);
    log_end(&l);
    assert_string_equal(a, "2026-01-01T00:00:00.000Z"); /* a new second, day and year */
    assert_int_equal(wall_reads, 3);
}

/* log_restamp(): a line after something slow in the same turn (the group
 * commit's fsync) reads the clock again. */
static void log_restamp_reads_the_clock_again(void **state)
{
    char a[32], b[32];
    log_line l;
    (void)state;
    log_set_buffered(1);
    fake_ms = 1767225600100u;
    fake_step = 250;
    wall_reads = 0;
    log_begin(&l, LOG_INFO, "message");
    ts_of(&l, a);
    log_end(&l);
    log_restamp();
    log_begin(&l, LOG_INFO, "message");
    ts_of(&l, b);
    log_end(&l);
    assert_int_equal(wall_reads, 2);
    assert_string_equal(a, "2026-01-01T00:00:00.100Z");
    assert_string_equal(b, "2026-01-01T00:00:00.350Z");
}

/* Unbuffered (a program without a loop), every line reads the clock; a
 * line whose level is off reads nothing and formats nothing. */
static void log_unbuffered_each_line_reads_the_clock_off_level_none(void **state)
{
    char a[32], b[32];
    log_line l;
    (void)state;
    fake_ms = 1709164800000u; /* 2024-02-29T00:00:00.000Z */
    fake_step = 1000;
    wall_reads = 0;
    log_begin(&l, LOG_INFO, "a");
    ts_of(&l, a);
    log_end(&l);
    log_begin(&l, LOG_INFO, "b");
    ts_of(&l, b);
    log_end(&l);
    assert_int_equal(wall_reads, 2);
    assert_string_equal(a, "2024-02-29T00:00:00.000Z");
    assert_string_equal(b, "2024-02-29T00:00:01.000Z");
    log_set_level(LOG_ERROR); /* -q */
    assert_int_equal(log_begin(&l, LOG_INFO, "message"), 0);
    log_str(&l, "session", "0001");
    log_num(&l, "size", 1024);
    log_bytes(&l, "from", "a@b", 3);
    assert_string_equal(log_text(&l), "");
    assert_int_equal(log_end(&l), 0);
    assert_int_equal(wall_reads, 2);
}

/* Every byte class at every place of values from 1 to 40 bytes (word
 * scans cover 8 bytes and overlap at the tail): bare exactly when the
 * value is non-empty printable ASCII without space, '"', '\' and '=';
 * otherwise quoted and escaped (log.h). */
static void log_bare_or_quoted_exactly_as_log_h_says_at_every_length(void **state)
{
    static const unsigned char probes[] = {0x00, 0x01, 0x09, 0x0a, 0x1f, 0x20, 0x21, 0x22,
                                           0x2f, 0x3c, 0x3d, 0x3e, 0x5b, 0x5c, 0x5d, 0x7e,
                                           0x7f, 0x80, 0x9b, 0xa0, 0xfe, 0xff};
    char val[48], want[256], esc[200];
    size_t n, p, k, pre;
    log_line l;
    (void)state;
    for (n = 1; n <= 40; n++) {
        for (p = 0; p < n; p++) {
            for (k = 0; k < sizeof probes; k++) {
                unsigned char b = probes[k];
                int bare = b > 0x20 && b < 0x7f && b != '"' && b != '\\' && b != '=';
                size_t i;
                for (i = 0; i < n; i++)
                    val[i] = (char)('a' + (int)(i % 26u));
                val[p] = (char)b;
                if (bare) {
                    memcpy(want, " v=", 3);
                    memcpy(want + 3, val, n);
                    want[3 + n] = '\0';
                } else {
                    (void)esc_write(esc, sizeof esc, val, n, ESC_QUOTED, NULL);
                    snprintf(want, sizeof want, " v=\"%s\"", esc);
                }
                log_begin(&l, LOG_INFO, "x");
                pre = strlen(log_text(&l));
                log_bytes(&l, "v", val, n);
                assert_string_equal(log_text(&l) + pre, want);
                log_end(&l);
            }
        }
    }
    /* and the empty value, NULL, numbers */
    log_begin(&l, LOG_INFO, "x");
    pre = strlen(log_text(&l));
    log_bytes(&l, "e", "", 0);
    log_str(&l, "z", NULL);
    log_num(&l, "n", 0);
    log_num(&l, "m", 18446744073709551615u);
    assert_string_equal(log_text(&l) + pre, " e=\"\" z=\"\" n=0 m=18446744073709551615");
    log_end(&l);
}

/* RFC 3339 5.6 date-time in UTC, by counting days rather than gmtime_r():
 * leap years of the Gregorian rules (2000 yes, 2100 no), the last
 * representable instant, and no 5-digit year. */
static void clock_rfc3339_5_6_civil_dates_without_gmtime(void **state)
{
    char ts[40];
    (void)state;
    assert_string_equal(clock_rfc3339(ts, sizeof ts, 951782400000u), "2000-02-29T00:00:00.000Z");
    assert_string_equal(clock_rfc3339(ts, sizeof ts, 4107542400000u), "2100-03-01T00:00:00.000Z");
    assert_string_equal(clock_rfc3339(ts, sizeof ts, 1709251199999u), "2024-02-29T23:59:59.999Z");
    assert_string_equal(clock_rfc3339(ts, sizeof ts, 1735689599123u), "2024-12-31T23:59:59.123Z");
    assert_string_equal(clock_rfc3339(ts, sizeof ts, 13569465600000u), "2400-01-01T00:00:00.000Z");
    assert_string_equal(clock_rfc3339(ts, sizeof ts, 253402300799999u), "9999-12-31T23:59:59.999Z");
    assert_string_equal(clock_rfc3339(ts, sizeof ts, 253402300800000u), ""); /* year 10000 */
    assert_string_equal(clock_rfc3339(ts, sizeof ts, UINT64_MAX), "");
    assert_string_equal(clock_rfc3339(ts, 25, 86399999u), "1970-01-01T23:59:59.999Z");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(log_one_clock_read_and_stamp_per_loop_turn, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(log_restamp_reads_the_clock_again, setup, teardown),
        cmocka_unit_test_setup_teardown(log_unbuffered_each_line_reads_the_clock_off_level_none,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(log_bare_or_quoted_exactly_as_log_h_says_at_every_length,
                                        setup, teardown),
        cmocka_unit_test(clock_rfc3339_5_6_civil_dates_without_gmtime),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
