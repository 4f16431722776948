/* smtpwire-server: the group commit.  Every message completed in one turn
 * of the loop is fsync'd, renamed into new/ and covered by one fsync of
 * new/; only then are they all answered.  The core makes this easy: a
 * DATA_END event may be answered later, and the session waits for it.
 * SPDX-License-Identifier: MIT */
#if !defined(_POSIX_C_SOURCE) || _POSIX_C_SOURCE < 200809L
#undef _POSIX_C_SOURCE
#define _POSIX_C_SOURCE 200809L
#endif

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "srv.h"

/* Queue a finished message for the group commit.  Out of memory it is
 * refused at once: a DATA_END left unanswered would hold the session for
 * ever, as the adapter runs no timeout while the application owes a reply. */
void commit_push(server *srv, session *s)
{
    if (srv->ncommit == srv->capcommit) {
        size_t cap = srv->capcommit ? srv->capcommit * 2 : 64;
        session **c = (session **)realloc(srv->commit, cap * sizeof *c);
        if (!c) {
            session_log_message(s, "failed", 451, "out of memory", 0);
            session_txn_free(s);
            session_reply(s, 451, NULL, "Cannot store the message now");
            return;
        }
        srv->commit = c;
        srv->capcommit = cap;
    }
    srv->commit[srv->ncommit++] = s;
    s->cslot = srv->ncommit;
}

/* A session that ends takes its message out of the group commit and the
 * message is discarded (session_txn_free unlinks it from tmp/).  RFC 5321
 * 6.1 makes the server responsible for a message once it has sent the 250;
 * this one was never answered and never can be, so the client still owns
 * it and will send it again.  Committing it instead would store a message
 * nobody was told about and that comes back as a duplicate.  Every path
 * agrees: a session ending with a DATA_END unanswered leaves nothing in
 * new/. */
void commit_leave(server *srv, session *s)
{
    size_t i;
    if (s->cslot) {
        size_t at = s->cslot - 1;
        session *last = srv->commit[--srv->ncommit];
        srv->commit[at] = last; /* the order of a batch does not matter */
        last->cslot = at + 1;
        s->cslot = 0;
    }
    for (i = 0; i < srv->nbatch; i++) /* the batch being answered, if any */
        if (srv->batch[i] == s)
            srv->batch[i] = NULL;
}

/* A peer whose connection is reset (POLLERR/POLLHUP: nothing reaches it any
 * more) while its message waits for the commit can never see the 250: end
 * the session now, so the message is discarded like any other one that was
 * never answered (commit_leave).  A peer that only half-closed still reads. */
static void commit_drop_gone(server *srv)
{
    size_t n = srv->ncommit, i;
    struct pollfd *p = (struct pollfd *)malloc(n * sizeof *p);
    session **list = (session **)malloc(n * sizeof *list);
    if (p && list) {
        for (i = 0; i < n; i++) {
            list[i] = srv->commit[i];
            p[i].fd = smtpw_posix_server_fd(list[i]->conn);
            p[i].events = 0; /* errors and hang-ups are always reported */
            p[i].revents = 0;
        }
        if (poll(p, (nfds_t)n, 0) > 0) {
            for (i = 0; i < n; i++) {
                if (p[i].revents & (POLLERR | POLLHUP | POLLNVAL)) {
                    smtpw_posix_server_close(list[i]->conn);
                    session_end(list[i], SMTPW_E_CLOSED);
                }
            }
        }
    }
    free(p);
    free(list);
}

/* The batch owns the message files from the moment it is taken, and every
 * verdict is queued before any session of the batch is stepped again: a
 * session that then fails to write its 250 (the peer reset) is the usual
 * lost-reply case of RFC 5321 6.1, stored and possibly sent again, never a
 * dangling transaction. */
void group_commit(server *srv)
{
    while (srv->ncommit) {
        size_t n, i;
        session **batch;
        maildir_msg *files, **msgs;
        int *ok, err;
        uint64_t t0, fsync_ms;
        commit_drop_gone(srv);
        n = srv->ncommit;
        if (n == 0)
            break;
        batch = (session **)malloc(n * sizeof *batch);
        files = (maildir_msg *)malloc(n * sizeof *files);
        msgs = (maildir_msg **)malloc(n * sizeof *msgs);
        ok = (int *)malloc(n * sizeof *ok);
        if (!batch || !msgs || !ok || !files) {
            log_msg(LOG_ERROR, "error", "out of memory in the group commit");
            exit(1);
        }
        memcpy(batch, srv->commit, n * sizeof *batch);
        srv->ncommit = 0;
        srv->batch = batch;
        srv->nbatch = n;
        for (i = 0; i < n; i++) {
            batch[i]->cslot = 0;
            files[i] = batch[i]->t->msg; /* the batch owns the file now */
            batch[i]->t->in_data = 0;
            msgs[i] = &files[i];
        }
        t0 = smtpw_posix_now_ms();
        maildir_commit(&srv->md, msgs, n, ok);
        err = errno;
        fsync_ms = smtpw_posix_now_ms() - t0;
        log_restamp(); /* the verdict lines say when the fsync ended */
        for (i = 0; i < n; i++) {
            session *s = batch[i];
            if (!s) { /* ended since: never answered, so not kept (commit_leave) */
                if (ok[i])
                    maildir_retract(&srv->md, &files[i]);
                continue;
            }
            memcpy(s->t->msg.name, files[i].name, sizeof files[i].name); /* its name in new/ */
            if (ok[i]) {
                srv->stored++;
                s->messages++;
                session_log_message(s, "accepted", 250, NULL, fsync_ms);
                session_txn_free(s);
                session_reply(s, 0, NULL, NULL);
            } else {
                log_line l;
                log_begin(&l, LOG_ERROR, "store_error");
                log_str(&l, "session", s->id);
                log_str(&l, "path", files[i].name);
                log_str(&l, "error", strerror(err));
                log_end(&l);
                session_log_message(s, "failed", 451, "cannot store the message", fsync_ms);
                session_txn_free(s);
                session_reply(s, 451, NULL, "Cannot store the message now");
            }
        }
        /* Only now may the sessions move on (and end, or queue more). */
        for (i = 0; i < n; i++)
            if (batch[i])
                session_run(batch[i], 0);
        srv->batch = NULL;
        srv->nbatch = 0;
        free(batch);
        free(files);
        free(msgs);
        free(ok);
    }
}
