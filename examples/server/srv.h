/* smtpwire-server: what its files share.
 *   main.c      the command line, start-up checks, privilege drop
 *   listener.c  the listening socket, accept, the poll() loop, shutdown
 *   session.c   the events of one SMTP session: what an embedder learns from
 *   commit.c    the group commit: messages made durable, then answered
 *   received.c  the trace fields on top of each stored message (RFC 5321 4.4)
 *   policy.c    the recipient policy; maildir.c the Maildir; privdrop.c --run-as
 * SPDX-License-Identifier: MIT */
#ifndef SMTPWIRE_EXAMPLE_SRV_H
#define SMTPWIRE_EXAMPLE_SRV_H

#include <signal.h>
#include <stddef.h>
#include <stdint.h>

#include <smtpwire/posix.h>

#include "maildir.h"
#include "policy.h"

#define PROG "smtpwire-server"

typedef struct txn {
    char *env; /* "sender\0rcpt1\0rcpt2\0..." */
    size_t envlen, envcap;
    uint32_t nrcpt;
    int in_data;   /* a message file is open */
    int failed;    /* a write failed: answer 451 at the end */
    int write_err; /* errno of that failure */
    maildir_msg msg;
    char *buf;     /* BODY_BUF bytes while in DATA */
    size_t buflen;
    uint64_t size; /* octets of the message (DATA_END) */
} txn;

/* -v keeps the reply line being sent (a reply line is at most 512 octets,
 * RFC 5321 4.5.3.1.5); without -v a session has no such buffer: an idle
 * session's memory is what an operator pays per connection. */
#define SESSION_OUT 600

typedef struct session {
    struct server *srv;
    smtpw_posix_server *conn;
    char *helo; /* NUL-terminated copy of the HELO/EHLO argument */
    txn *t;
    txn *spare; /* the last transaction's memory, kept for the next MAIL */
    void *tls; /* tls_session, when the server has a certificate */
    char *out; /* SESSION_OUT bytes behind the session, with -v only */
    size_t cslot;   /* 1 + its index in server.commit while queued there, else 0 */
    char peer[56];  /* "[192.0.2.1]" or "[IPv6:...]", RFC 5321 4.4 TCP-info */
    char id[24];    /* the session id of the log */
    uint64_t started;  /* monotonic ms at accept */
    uint32_t messages; /* stored */
    uint32_t rejects;  /* commands refused */
    uint32_t close_code; /* the core ended the session (SMTPW_EV_CLOSE) */
    uint32_t outlen;   /* -v: bytes of the reply line being sent in out */
    uint8_t ehlo;      /* the session was opened with EHLO */
    uint8_t dead;
    uint8_t saw_quit;  /* the client said QUIT */
} session;

typedef struct server {
    smtpw_server_config cfg;
    smtpw_posix_shared *shared;
    maildir md;
    policy pol;
    int sink;
    unsigned long max_messages;
    unsigned long stored;
    char hostname[256];
    char listen_shown[300]; /* the bound address, "127.0.0.1:2525" */
    session **sess;
    size_t nsess, capsess;
    session **commit; /* sessions whose message awaits the group commit */
    size_t ncommit, capcommit;
    session **batch; /* the batch group_commit is answering (NULL entries: gone) */
    size_t nbatch;
    void *tls; /* tls_server, or NULL */
    uint64_t now;
    size_t max_sessions;   /* --max-connections, or what the fd limit allows */
    uint64_t accept_pause; /* no accept() before this time (fd exhaustion) */
    uint64_t id_base;      /* session ids: this run's start time ... */
    uint64_t id_next;      /* ... and a counter */
    int shutting_down;     /* the 421s of SIGTERM are going out */
    /* Fixed at start-up, tested on the hot paths instead of a call per
     * event: the info and debug levels are on, a recipient policy is set. */
    int log_info, log_debug, policy_on;
} server;

/* main.c: the signal that ends the loop */
extern volatile sig_atomic_t got_signal;

/* session.c */
int session_start(server *srv, int fd, const char *peer, const char *where);
void session_event(session *s, const smtpw_event *ev); /* one event of the core */
void session_end(session *s, int rc); /* rc: why (SMTPW_E_*); logs the disconnect */
void session_reply(session *s, uint32_t code, const char *enh, const char *text);
void session_txn_free(session *s);
void session_body_add(session *s, const char *p, size_t n);
void session_log_message(session *s, const char *verdict, uint32_t code, const char *reason,
                         uint64_t fsync_ms);

/* Step a session until it waits; handle its events.  Inline: the loop
 * runs it for every ready session every turn, as often as a message has
 * commands. */
static inline void session_run(session *s, short revents)
{
    smtpw_event ev;
    int rc;
    if (s->dead)
        return;
    while ((rc = smtpw_posix_server_step(s->conn, revents, s->srv->now, &ev, sizeof ev)) > 0) {
        revents = 0;
        session_event(s, &ev);
    }
    if (rc < 0)
        session_end(s, rc);
}

/* commit.c */
void commit_push(server *srv, session *s);
void commit_leave(server *srv, session *s);
void group_commit(server *srv);

/* received.c */
void received_add(session *s);

/* listener.c */
int listener_open(const char *spec, char *shown, size_t shownlen, unsigned *port);
int listener_run(server *srv, int lfd, int sigfd);
void listener_shutdown(server *srv);

#endif
