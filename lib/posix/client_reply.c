/* POSIX adapter, client half: the server's replies.  Bytes read within
 * the reply's RFC 5321 4.5.3.2 timeout, handed to the core line by line,
 * each whole reply recorded where the session's flow (client.c) decides
 * on it.  SPDX-License-Identifier: MIT */
#if !defined(_POSIX_C_SOURCE) || _POSIX_C_SOURCE < 200809L
#undef _POSIX_C_SOURCE
#define _POSIX_C_SOURCE 200809L
#endif

#include <string.h>

#include "posix/client_internal.h"
#include "smtpwire/posix.h"

typedef smtpw__posix_sess sess;

/* The oldest awaited command got its reply. */
static void await_pop(sess *s)
{
    if (s->await_n > 0) {
        s->await_head = (s->await_head + 1) % SMTPW__POSIX_AWAIT_MAX;
        s->await_n--;
    }
}

/* A RCPT reply: which recipient it answers (the next one asked: replies
 * come in order, RFC 2920 3.1), and what it does to the transaction. */
static void rcpt_reply(sess *s, const smtpw_event *ev, const smtpw_posix_reply *r)
{
    const smtpw_posix_send_config *o = s->o;
    uint32_t *st = o->rcpt_status;
    size_t i = ev->index;
    if (st) {
        while (s->rcur < o->nrcpt && st[s->rcur] != SMTPW__POSIX_ST_ASKED)
            s->rcur++;
        i = s->rcur;
    }
    if (i >= o->nrcpt)
        return;
    if (o->rcpt_replies)
        smtpw__posix_copy_reply(&o->rcpt_replies[i], r);
    if (r->code >= 200 && r->code < 300) {
        s->r->accepted++;
        s->txn_accepted++;
        if (st)
            st[i] = SMTPW__POSIX_ST_ACCEPTED;
        return;
    }
    if (r->code == 452 && s->txn_accepted > 0 && st) {
        /* RFC 5321 4.5.3.1.10: too many recipients for this transaction,
         * not a refusal: this one goes in the next */
        st[i] = SMTPW__POSIX_ST_PENDING;
        return;
    }
    if (st)
        st[i] = SMTPW_POSIX_RCPT_REFUSED;
    if (r->code >= 400 && r->code < 500) {
        if (!s->txn_temp)
            smtpw__posix_copy_reply(&s->first_temp, r);
        s->txn_temp = 1;
    } else {
        s->txn_perm = 1;
    }
    if (s->first_any.code == 0)
        smtpw__posix_copy_reply(&s->first_any, r);
}

/* File a complete reply where the flow looks for it. */
static void file_reply(sess *s, const smtpw_event *ev)
{
    const smtpw_posix_reply *r = &s->cur;
    if (r->code == 421 && !s->closed) {
        /* RFC 5321 3.8: 421 may answer any command; nothing follows it */
        smtpw__posix_copy_reply(&s->closing, r);
        s->closed = 1;
    }
    switch (ev->cmd) {
    case SMTPW_CMD_GREETING:
        smtpw__posix_copy_reply(&s->greeting, r);
        break;
    case SMTPW_CMD_EHLO:
    case SMTPW_CMD_HELO:
        smtpw__posix_copy_reply(&s->hello, r);
        break;
    case SMTPW_CMD_MAIL:
        smtpw__posix_copy_reply(&s->mail, r);
        break;
    case SMTPW_CMD_RCPT:
        rcpt_reply(s, ev, r);
        break;
    case SMTPW_CMD_DATA:
        smtpw__posix_copy_reply(&s->data, r);
        break;
    case SMTPW_CMD_STARTTLS:
        smtpw__posix_copy_reply(&s->starttls, r);
        break;
    case SMTPW_CMD_BODY:
        smtpw__posix_copy_reply(&s->body, r);
        break;
    default:
        break; /* RSET, QUIT: nothing decides on them */
    }
    await_pop(s);
}

/* Read more server bytes into s->in, waiting until the deadline.  Returns
 * 0 when some came, SMTPW_E_PROTO when s->in is full without a whole line
 * (the core's line limit is below its size), or the error. */
static int read_some(sess *s, uint64_t deadline)
{
    for (;;) {
        size_t got = 0, room = sizeof s->in - s->inlen;
        uint32_t wait = SMTPW_WANT_READ;
        int rc;
        if (room == 0)
            return SMTPW_E_PROTO;
        rc = s->io->read(s->io_ctx, s->fd, s->in + s->inlen, room, &got, &wait);
        if (rc == 0 && got > 0 && got <= room) {
            s->inlen += got;
            return 0;
        }
        if (rc != SMTPW_E_AGAIN)
            /* the peer hung up before the reply was complete, or a hook
             * broke its contract */
            return smtpw__posix_io_failed(s, rc);
        rc = smtpw__posix_wait(s->fd, smtpw__posix_poll_events(wait), deadline);
        if (rc)
            return rc == SMTPW_E_IO ? smtpw__posix_io_failed(s, rc) : rc;
    }
}

/* Read and file exactly one whole reply.  A 421 is filed like any other;
 * the core refuses further commands afterwards. */
int smtpw__posix_read_reply(sess *s)
{
    uint64_t deadline;
    int rc = smtpw__posix_flush(s);
    if (rc)
        return rc;
    deadline = smtpw_posix_now_ms() + smtpw__posix_wait_ms(s, smtpw_client_timeout(s->c));
    s->curlen = 0;
    s->cur.code = 0;
    s->cur.text[0] = '\0';
    for (;;) {
        size_t used = 0;
        smtpw_event ev;
        rc = smtpw_client_recv(s->c, s->in, s->inlen, &used, &ev, sizeof ev);
        if (rc == SMTPW_EV_REPLY) {
            size_t room = sizeof s->cur.text - 1 - s->curlen;
            size_t take;
            smtpw__posix_trace(s, SMTPW_POSIX_TRACE_SERVER, ev.line.ptr, ev.line.len);
            if (s->curlen > 0 && room > 0) {
                s->cur.text[s->curlen++] = '\n';
                room--;
            }
            take = ev.line.len < room ? ev.line.len : room;
            memcpy(s->cur.text + s->curlen, ev.line.ptr, take);
            s->curlen += take;
            s->cur.text[s->curlen] = '\0';
            s->cur.code = ev.code;
            s->cur.cmd = ev.cmd;
            /* the spans point into s->in: drop the line only now */
            if (used > 0 && used <= s->inlen) {
                memmove(s->in, s->in + used, s->inlen - used);
                s->inlen -= used;
            }
            if (ev.flags & SMTPW_EVF_LAST) {
                file_reply(s, &ev);
                return 0;
            }
            continue;
        }
        if (rc < 0)
            return rc == SMTPW_E_CLOSED ? SMTPW_E_IO : rc;
        /* SMTPW_EV_NONE: a line is incomplete */
        rc = read_some(s, deadline);
        if (rc)
            return rc;
    }
}

/* Make room for one more command: send what is queued and, if the core
 * still says no (RFC 2920 group end, no PIPELINING), take one reply. */
int smtpw__posix_make_room(sess *s)
{
    size_t len;
    smtpw_client_output(s->c, &len);
    if (len > 0)
        return smtpw__posix_flush(s);
    if (smtpw_client_pending(s->c) == 0)
        return SMTPW_E_STATE; /* the core refuses with nothing outstanding */
    return smtpw__posix_read_reply(s);
}
