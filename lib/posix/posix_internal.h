/* What the adapter's files share: one socket maker and one deadline wait,
 * so the client, the DNS resolver and the hooks behave alike.  Never
 * installed.  SPDX-License-Identifier: MIT */
#ifndef SMTPW_POSIX_INTERNAL_H
#define SMTPW_POSIX_INTERNAL_H

#include "internal.h"
#include "smtpwire/posix.h"

/* A socket that is non-blocking and close-on-exec from the start (no
 * window in which a concurrent fork+exec of the embedding program inherits
 * it).  Returns the fd, or -1 with errno set. */
int smtpw__posix_socket(int family, int type, int protocol);

/* Wait until fd is ready for the poll(2) events ev or the deadline (the
 * smtpw_posix_now_ms() clock) passes; EINTR is retried.  Returns 0 when
 * ready (POLLERR/POLLHUP included: the next read or write reports them),
 * SMTPW_E_TIMEOUT, or SMTPW_E_IO (poll failed: errno). */
int smtpw__posix_wait(int fd, short ev, uint64_t deadline);

/* The client's files (client.c drives the session; what it shares with
 * client_reply.c, the reply side, is in client_internal.h). */

/* connect.c: the HELO/EHLO name of our end of fd, an address literal
 * (RFC 5321 4.1.4), "localhost" where there is no address. */
void smtpw__posix_default_helo(int fd, char *out, size_t cap);

/* send_config.c: *o = the caller's config as the current version, checked
 * (the caller's rcpt_replies and rcpt_status reset); *r cleared.  0 or the
 * error, also left in r->err. */
int smtpw__posix_send_prepare(const smtpw_posix_send_config *cfg, smtpw_posix_send_config *o,
                              smtpw_posix_send_result *r);

/* send_config.c: *r copied to the caller's result of ressize bytes (no
 * byte past it, zeros past ours: api.md B); returns rc. */
int smtpw__posix_give_result(const smtpw_posix_send_result *r, smtpw_posix_send_result *res,
                             size_t ressize, int rc);

#endif
