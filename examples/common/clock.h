/* Clocks for the example programs.  Intervals and deadlines use
 * smtpw_posix_now_ms() (CLOCK_MONOTONIC: immune to the wall clock being
 * set); only what a human reads (log time stamps, Date-like fields) uses
 * the wall clock.
 * SPDX-License-Identifier: MIT */
#ifndef SMTPWIRE_EXAMPLE_CLOCK_H
#define SMTPWIRE_EXAMPLE_CLOCK_H

#include <stddef.h>
#include <stdint.h>

/* Milliseconds since the Unix epoch (CLOCK_REALTIME); 0 if unavailable. */
uint64_t clock_wall_ms(void);

/* The wall time ms as RFC 3339 UTC with milliseconds,
 * "2026-01-31T23:59:59.123Z" (24 characters), NUL-terminated into out
 * (cap >= 25, else "" when cap >= 1).  Returns out. */
const char *clock_rfc3339(char *out, size_t cap, uint64_t ms);

/* The timeout argument for poll(2): milliseconds from now until deadline
 * (both monotonic ms), 0 when it has passed, -1 (wait for ever) when
 * deadline is 0 (none); never more than cap_ms (> 0), so a far deadline
 * cannot overflow an int and the loop wakes now and then. */
int clock_poll_timeout(uint64_t now, uint64_t deadline, int cap_ms);

#endif
