/* What the adapter's files share: one socket maker and one deadline wait,
 * so the client, the DNS resolver and the hooks behave alike.  Never
 * installed.  SPDX-License-Identifier: MIT */
#ifndef SMTPW_POSIX_INTERNAL_H
#define SMTPW_POSIX_INTERNAL_H

#include "internal.h"

/* A socket that is non-blocking and close-on-exec from the start (no
 * window in which a concurrent fork+exec of the embedding program inherits
 * it).  Returns the fd, or -1 with errno set. */
int smtpw__posix_socket(int family, int type, int protocol);

/* Wait until fd is ready for the poll(2) events ev or the deadline (the
 * smtpw_posix_now_ms() clock) passes; EINTR is retried.  Returns 0 when
 * ready (POLLERR/POLLHUP included: the next read or write reports them),
 * SMTPW_E_TIMEOUT, or SMTPW_E_IO (poll failed: errno). */
int smtpw__posix_wait(int fd, short ev, uint64_t deadline);

#endif
