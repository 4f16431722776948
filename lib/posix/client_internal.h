/* What the POSIX client's files share: the session one send drives
 * (client.c) and the reply side that reads and records the server's
 * replies (client_reply.c).  Never installed.  SPDX-License-Identifier: MIT */
#ifndef SMTPW_POSIX_CLIENT_INTERNAL_H
#define SMTPW_POSIX_CLIENT_INTERNAL_H

#include <errno.h>
#include <poll.h>
#include <string.h>

#include "posix/posix_internal.h"
#include "smtpwire/posix.h"

#define SMTPW__POSIX_INBUF 4096     /* > the core's longest reply line (2048 by default) */
#define SMTPW__POSIX_AWAIT_MAX 256  /* > the core's replies outstanding at once */

/* rcpt_status while the session runs (never left there): to be asked in
 * the next transaction, asked in this one, accepted in this one */
#define SMTPW__POSIX_ST_PENDING 0x10u
#define SMTPW__POSIX_ST_ASKED 0x11u
#define SMTPW__POSIX_ST_ACCEPTED 0x12u

typedef struct smtpw__posix_sess {
    smtpw_client *c;
    int fd;
    const smtpw_posix_send_config *o;
    smtpw_posix_send_result *r;
    const smtpw_posix_io *io;
    void *io_ctx;
    size_t traced;               /* bytes of core output already traced */
    uint8_t in[SMTPW__POSIX_INBUF];
    size_t inlen;
    /* the reply being gathered, line by line */
    smtpw_posix_reply cur;
    size_t curlen;
    /* replies the flow decides on */
    smtpw_posix_reply greeting, hello, mail, data, body, starttls;
    smtpw_posix_reply closing; /* a 421: the server is going away */
    int closed;
    int os_error;                /* errno of the failed read/write, 0 for end of file */
    /* commands whose replies are awaited, oldest first: names the one a
     * broken session was waiting for (res->reply.cmd) */
    uint8_t await[SMTPW__POSIX_AWAIT_MAX];
    size_t await_head, await_n;
    /* the transaction in progress */
    size_t rcur;                 /* where to look for the next RCPT reply's recipient */
    uint32_t txn_accepted;       /* recipients accepted in it */
    int txn_temp, txn_perm;      /* a recipient refused with 4xx / 5xx in it */
    smtpw_posix_reply first_temp, first_any; /* the first such refusals: what a
                                                reset reports */
    uint32_t tls;                /* SMTPW_POSIX_TLS_* in force */
    char helo[64];               /* the EHLO argument when opts.helo is not set */
} smtpw__posix_sess;

/* Small helpers both files use on every reply and write: inline, so the
 * split costs no call. */

static inline uint32_t smtpw__posix_wait_ms(const smtpw__posix_sess *s, uint32_t which)
{
    if (s->o->timeout_ms)
        return s->o->timeout_ms;
    return smtpw_timeout_seconds(which) * 1000u;
}

static inline void smtpw__posix_trace(const smtpw__posix_sess *s, uint32_t dir, const char *p,
                                      size_t n)
{
    if (s->o->trace)
        s->o->trace(s->o->trace_arg, dir, p, n);
}

static inline void smtpw__posix_copy_reply(smtpw_posix_reply *dst, const smtpw_posix_reply *src)
{
    memcpy(dst, src, sizeof *dst);
}

/* The errno of a failed read or write, kept before anything else can
 * change it; a peer that hung up leaves 0 (no stale errno). */
static inline int smtpw__posix_io_failed(smtpw__posix_sess *s, int rc)
{
    if (rc == SMTPW_E_CLOSED || rc == 0) {
        s->os_error = 0;
        return SMTPW_E_IO;
    }
    s->os_error = rc == SMTPW_E_IO ? errno : 0;
    return rc;
}

static inline short smtpw__posix_poll_events(uint32_t wait)
{
    short ev = 0;
    if (wait & SMTPW_WANT_READ)
        ev |= POLLIN;
    if (wait & SMTPW_WANT_WRITE)
        ev |= POLLOUT;
    return ev ? ev : POLLIN;
}

/* client.c: send everything the core has queued.  0 or the error. */
int smtpw__posix_flush(smtpw__posix_sess *s);

/* client_reply.c: flush, then read and file exactly one whole reply where
 * the flow looks for it.  0 or the error. */
int smtpw__posix_read_reply(smtpw__posix_sess *s);

/* client_reply.c: room for one more command in the core (flush, or take a
 * reply).  0 or the error. */
int smtpw__posix_make_room(smtpw__posix_sess *s);

#endif
