/* Clocks for the example programs: see clock.h.
 * SPDX-License-Identifier: MIT */
#if !defined(_POSIX_C_SOURCE) || _POSIX_C_SOURCE < 200809L
#undef _POSIX_C_SOURCE
#define _POSIX_C_SOURCE 200809L
#endif

#include "clock.h"

#include <time.h>

uint64_t clock_wall_ms(void)
{
    struct timespec ts;
    if (clock_gettime(CLOCK_REALTIME, &ts) != 0 || ts.tv_sec < 0)
        return 0;
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

static int leap(uint64_t y)
{
    return (y % 4u == 0 && y % 100u != 0) || y % 400u == 0;
}

static void two(char *p, unsigned v)
{
    p[0] = (char)('0' + (int)(v / 10u));
    p[1] = (char)('0' + (int)(v % 10u));
}

/* Civil UTC date by counting (POSIX time has no leap seconds): whole
 * 400-year cycles of 146097 days first, then years and months.  No
 * gmtime_r() (time zone lock) and no snprintf(): the log calls this once
 * per second of time stamps. */
const char *clock_rfc3339(char *out, size_t cap, uint64_t ms)
{
    static const unsigned char mdays[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    uint64_t secs = ms / 1000u, days = secs / 86400u, y;
    unsigned sod = (unsigned)(secs % 86400u), frac = (unsigned)(ms % 1000u), m = 0;
    if (cap == 0)
        return out;
    out[0] = '\0';
    if (cap < 25)
        return out;
    y = 1970u + 400u * (days / 146097u); /* 1970 + 400k starts a cycle like 1970 */
    days %= 146097u;
    while (days >= (uint64_t)(365 + leap(y))) {
        days -= (uint64_t)(365 + leap(y));
        y++;
    }
    if (y > 9999u) /* four digits, as RFC 3339 5.6 writes a year */
        return out;
    while (days >= (uint64_t)mdays[m] + (m == 1 && leap(y))) {
        days -= (uint64_t)mdays[m] + (m == 1 && leap(y));
        m++;
    }
    two(out, (unsigned)(y / 100u));
    two(out + 2, (unsigned)(y % 100u));
    out[4] = '-';
    two(out + 5, m + 1u);
    out[7] = '-';
    two(out + 8, (unsigned)days + 1u);
    out[10] = 'T';
    two(out + 11, sod / 3600u);
    out[13] = ':';
    two(out + 14, sod / 60u % 60u);
    out[16] = ':';
    two(out + 17, sod % 60u);
    out[19] = '.';
    out[20] = (char)('0' + (int)(frac / 100u));
    two(out + 21, frac % 100u);
    out[23] = 'Z';
    out[24] = '\0';
    return out;
}

int clock_poll_timeout(uint64_t now, uint64_t deadline, int cap_ms)
{
    uint64_t left;
    if (deadline == 0)
        return -1;
    if (deadline <= now)
        return 0;
    left = deadline - now;
    if (cap_ms > 0 && left > (uint64_t)cap_ms)
        return cap_ms;
    return left > (uint64_t)0x7fffffff ? 0x7fffffff : (int)left;
}
