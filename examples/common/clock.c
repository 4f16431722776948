/* Clocks for the example programs: see clock.h.
 * SPDX-License-Identifier: MIT */
#if !defined(_POSIX_C_SOURCE) || _POSIX_C_SOURCE < 200809L
#undef _POSIX_C_SOURCE
#define _POSIX_C_SOURCE 200809L
#endif

#include "clock.h"

#include <stdio.h>
#include <time.h>

uint64_t clock_wall_ms(void)
{
    struct timespec ts;
    if (clock_gettime(CLOCK_REALTIME, &ts) != 0 || ts.tv_sec < 0)
        return 0;
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

const char *clock_rfc3339(char *out, size_t cap, uint64_t ms)
{
    time_t secs = (time_t)(ms / 1000u);
    struct tm tm;
    int n;
    if (cap == 0)
        return out;
    out[0] = '\0';
    if (cap < 25 || !gmtime_r(&secs, &tm))
        return out;
    n = snprintf(out, cap, "%04d-%02d-%02dT%02d:%02d:%02d.%03uZ", tm.tm_year + 1900,
                 tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
                 (unsigned)(ms % 1000u));
    if (n < 0 || (size_t)n >= cap) /* a year past 9999 */
        out[0] = '\0';
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
