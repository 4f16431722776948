/* smtpwire-server: an SMTP server that stores mail in a Maildir, built on
 * the sans-I/O core and the POSIX adapter.  One process, one poll() loop,
 * many concurrent sessions; each accepted message is made durable (tmp/,
 * fsync, rename into new/, fsync of new/) before its 250, with one group
 * commit per loop turn so an fsync never stalls the other sessions.
 *
 *   smtpwire-server [--listen ADDR:PORT] [--maildir DIR] [--sink] ...
 *
 * SPDX-License-Identifier: MIT */
#if !defined(_POSIX_C_SOURCE) || _POSIX_C_SOURCE < 200809L
#undef _POSIX_C_SOURCE
#define _POSIX_C_SOURCE 200809L
#endif

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <limits.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <time.h>
#include <unistd.h>

#include <smtpwire/posix.h>

#include "maildir.h"
#include "tls.h"

#define EX_USAGE 64
#define SCRATCH_LEN 65536u
#define POOL_SLOTS 1024u
#define BODY_BUF 65536u /* one file write per this many body bytes */
#define MAX_ACCEPT_PER_TURN 64
#define DRAIN_MS 2000u /* --max-messages: how long open sessions may linger */
#define ACCEPT_PAUSE_MS 100u /* out of descriptors: stop accepting this long */
#define FD_HEADROOM 16u /* descriptors kept for the listener, the signal pipe, stdio */

typedef struct txn {
    char *env; /* "sender\0rcpt1\0rcpt2\0..." */
    size_t envlen, envcap;
    uint32_t nrcpt;
    int in_data;   /* a message file is open */
    int failed;    /* a write failed: answer 451 at the end */
    maildir_msg msg;
    char *buf;     /* BODY_BUF bytes while in DATA */
    size_t buflen;
} txn;

typedef struct session {
    struct server *srv;
    smtpw_posix_server *conn;
    char *helo; /* NUL-terminated copy of the HELO/EHLO argument */
    txn *t;
    void *tls; /* tls_session, when the server has a certificate */
    int ehlo;
    int dead;
    size_t cslot; /* 1 + its index in server.commit while queued there, else 0 */
    char peer[56]; /* "[192.0.2.1]" or "[IPv6:...]", RFC 5321 4.4 TCP-info */
} session;

typedef struct server {
    smtpw_server_config cfg;
    smtpw_posix_shared *shared;
    maildir md;
    int sink;
    unsigned long max_messages;
    unsigned long stored;
    char hostname[256];
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
} server;

static volatile sig_atomic_t got_signal;
static int sigpipe_w = -1;

static void on_signal(int sig)
{
    int saved = errno;
    char b = 1;
    got_signal = sig;
    if (sigpipe_w >= 0)
        (void)write(sigpipe_w, &b, 1);
    errno = saved;
}

static void usage(FILE *f)
{
    fprintf(f,
            "usage: smtpwire-server [options]\n"
            "  --listen ADDR:PORT    listen address (default 127.0.0.1:2525; port 0 picks\n"
            "                        a free one; IPv6 as [::1]:PORT)\n"
            "  --maildir DIR         store messages in this Maildir (default ./Maildir)\n"
            "  --sink                accept and discard every message\n"
            "  --lenient             accept common client deviations (lenient profile)\n"
            "  --hostname NAME       name in the greeting and Received: (default: this host)\n"
            "  --max-size BYTES      SIZE limit, 0 for none (default 10485760)\n"
            "  --max-recipients N    recipients per message (default 100)\n"
            "  --max-messages N      exit after storing N messages\n"
            "  --max-connections N   concurrent sessions; more get 421 (default: what the\n"
            "                        descriptor limit allows, two per session)\n"
            "  --timeout SECONDS     idle timeout of a session, 0 for RFC 5321 4.5.3.2's\n"
            "                        5 minutes (default 0)\n"
            "  --bare-command POLICY bare CR/LF in commands: reject, normalize or keep\n"
            "  --bare-body POLICY    bare CR/LF in message bodies: reject, normalize or keep\n"
            "                        (default reject; never ends a message either way)\n"
#ifdef SMTPW_HAVE_OPENSSL
            "  --tls-cert FILE       offer STARTTLS with this certificate chain (PEM)\n"
            "  --tls-key FILE        the private key for --tls-cert (PEM)\n"
#endif
            "  --help                show this help\n"
            "The first line on stdout is \"listening on ADDR:PORT\".\n");
}

static void die_usage(const char *msg, const char *arg)
{
    fprintf(stderr, "smtpwire-server: %s%s%s\n", msg, arg ? ": " : "", arg ? arg : "");
    fprintf(stderr, "try 'smtpwire-server --help'\n");
    exit(EX_USAGE);
}

static unsigned long long parse_num(const char *opt, const char *v, unsigned long long max)
{
    char *end;
    unsigned long long n;
    if (!v || !*v || *v == '-' || *v == '+')
        die_usage("not a number", opt);
    errno = 0;
    n = strtoull(v, &end, 10);
    if (errno || *end || n > max)
        die_usage("bad number", opt);
    return n;
}

/* ---- envelope and message ---- */

static int env_add(txn *t, const char *p, size_t n)
{
    if (t->envlen + n + 1 > t->envcap) {
        size_t cap = t->envcap ? t->envcap * 2 : 128;
        char *e;
        while (cap < t->envlen + n + 1)
            cap *= 2;
        e = (char *)realloc(t->env, cap);
        if (!e)
            return -1;
        t->env = e;
        t->envcap = cap;
    }
    memcpy(t->env + t->envlen, p, n);
    t->env[t->envlen + n] = '\0';
    t->envlen += n + 1;
    return 0;
}

static void txn_free(session *s)
{
    txn *t = s->t;
    if (!t)
        return;
    if (t->in_data)
        maildir_abort(&s->srv->md, &t->msg);
    free(t->buf);
    free(t->env);
    free(t);
    s->t = NULL;
}

static int body_flush(session *s)
{
    txn *t = s->t;
    if (t->buflen && !t->failed && maildir_write(&t->msg, t->buf, t->buflen) != 0)
        t->failed = 1;
    t->buflen = 0;
    return t->failed ? -1 : 0;
}

static void body_add(session *s, const char *p, size_t n)
{
    txn *t = s->t;
    if (t->failed)
        return;
    if (t->buflen + n > BODY_BUF) {
        body_flush(s);
        if (n >= BODY_BUF) { /* a chunk this large goes straight to the file */
            if (!t->failed && maildir_write(&t->msg, p, n) != 0)
                t->failed = 1;
            return;
        }
    }
    memcpy(t->buf + t->buflen, p, n);
    t->buflen += n;
}

static void body_addz(session *s, const char *z)
{
    body_add(s, z, strlen(z));
}

/* The trace fields prepended to every stored message: Return-Path, one
 * Delivered-To per recipient, Received (RFC 5321 4.4). */
static void add_trace_headers(session *s)
{
    txn *t = s->t;
    const char *p = t->env, *first_rcpt;
    char date[64], line[1024];
    time_t now = time(NULL);
    struct tm tm;
    uint32_t i;
    const char *proto;
    body_addz(s, "Return-Path: <");
    body_addz(s, p);
    body_addz(s, ">\r\n");
    p += strlen(p) + 1;
    first_rcpt = p;
    for (i = 0; i < t->nrcpt; i++) {
        body_addz(s, "Delivered-To: ");
        body_addz(s, p);
        body_addz(s, "\r\n");
        p += strlen(p) + 1;
    }
    localtime_r(&now, &tm);
    strftime(date, sizeof date, "%a, %d %b %Y %H:%M:%S %z", &tm); /* RFC 5322 3.3 */
    proto = s->ehlo ? (s->tls && tls_active(s->tls) ? "ESMTPS" : "ESMTP") : "SMTP";
    snprintf(line, sizeof line, "Received: from %s (%s)\r\n\tby %s with %s id %s",
             s->helo ? s->helo : "unknown", s->peer, s->srv->hostname, proto, t->msg.name);
    body_addz(s, line);
    if (t->nrcpt == 1) {
        body_addz(s, "\r\n\tfor <");
        body_addz(s, first_rcpt);
        body_addz(s, ">");
    }
    body_addz(s, "; ");
    body_addz(s, date);
    body_addz(s, "\r\n");
}

/* ---- events ---- */

static void reply(session *s, unsigned code, const char *text)
{
    smtpw_server *core = smtpw_posix_server_core(s->conn);
    int rc = smtpw_server_reply(core, code, NULL, 0, text, text ? strlen(text) : 0);
    if (rc < 0) {
        fprintf(stderr, "smtpwire-server: reply %u refused: %s\n", code, smtpw_strerror(rc));
        (void)smtpw_server_reply(core, code >= 500 ? 554 : 451, NULL, 0, NULL, 0);
    }
}

/* Queue a finished message for the group commit.  Out of memory it is
 * refused at once: a DATA_END left unanswered would hold the session for
 * ever, as the adapter runs no timeout while the application owes a reply. */
static void commit_push(server *srv, session *s)
{
    if (srv->ncommit == srv->capcommit) {
        size_t cap = srv->capcommit ? srv->capcommit * 2 : 64;
        session **c = (session **)realloc(srv->commit, cap * sizeof *c);
        if (!c) {
            txn_free(s);
            reply(s, 451, "Cannot store the message now");
            return;
        }
        srv->commit = c;
        srv->capcommit = cap;
    }
    srv->commit[srv->ncommit++] = s;
    s->cslot = srv->ncommit;
}

/* A session that ends takes its message out of the group commit and the
 * message is discarded (txn_free unlinks it from tmp/).  RFC 5321 6.1 makes
 * the server responsible for a message once it has sent the 250; this one
 * was never answered and never can be, so the client still owns it and
 * will send it again.  Committing it instead would store a message nobody
 * was told about and that comes back as a duplicate.  Every path agrees:
 * a session ending with a DATA_END unanswered leaves nothing in new/. */
static void commit_leave(server *srv, session *s)
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

static void on_event(session *s, const smtpw_event *ev)
{
    server *srv = s->srv;
    txn *t;
    switch (ev->type) {
    case SMTPW_EV_HELO:
        free(s->helo);
        s->helo = (char *)malloc(ev->arg.len + 1);
        if (!s->helo) {
            reply(s, 451, "Out of memory");
            break;
        }
        memcpy(s->helo, ev->arg.ptr, ev->arg.len);
        s->helo[ev->arg.len] = '\0';
        s->ehlo = ev->cmd == SMTPW_CMD_EHLO;
        txn_free(s);
        reply(s, 0, NULL);
        break;
    case SMTPW_EV_MAIL:
        txn_free(s);
        s->t = (txn *)calloc(1, sizeof *s->t);
        if (!s->t || env_add(s->t, ev->path.mailbox.ptr, ev->path.mailbox.len) != 0) {
            txn_free(s);
            reply(s, 451, "Out of memory");
            break;
        }
        s->t->msg.fd = -1;
        reply(s, 0, NULL);
        break;
    case SMTPW_EV_RCPT:
        if (!s->t || env_add(s->t, ev->path.mailbox.ptr, ev->path.mailbox.len) != 0) {
            reply(s, 451, "Out of memory");
            break;
        }
        s->t->nrcpt++;
        reply(s, 0, NULL);
        break;
    case SMTPW_EV_DATA:
        t = s->t;
        if (!t) {
            reply(s, 451, "No transaction");
            break;
        }
        if (srv->sink) {
            reply(s, 0, NULL);
            break;
        }
        t->buf = (char *)malloc(BODY_BUF);
        if (!t->buf || maildir_create(&srv->md, &t->msg) != 0) {
            fprintf(stderr, "smtpwire-server: cannot create a message in tmp/: %s\n",
                    strerror(errno));
            free(t->buf);
            t->buf = NULL;
            reply(s, 451, "Cannot store the message now");
            break;
        }
        t->in_data = 1;
        t->buflen = 0;
        t->failed = 0;
        add_trace_headers(s);
        reply(s, 0, NULL);
        break;
    case SMTPW_EV_BODY:
        if (s->t && s->t->in_data)
            body_add(s, ev->arg.ptr, ev->arg.len);
        break;
    case SMTPW_EV_DATA_END:
        if (srv->sink || !s->t || !s->t->in_data) {
            if (!srv->sink) {
                reply(s, 451, "Message lost");
                break;
            }
            srv->stored++;
            txn_free(s);
            reply(s, 0, NULL);
            break;
        }
        body_flush(s);
        free(s->t->buf);
        s->t->buf = NULL;
        if (s->t->failed) {
            txn_free(s);
            reply(s, 451, "Cannot store the message now");
            break;
        }
        commit_push(srv, s); /* answered after the group commit */
        break;
    case SMTPW_EV_DATA_ABORT:
    case SMTPW_EV_RSET:
        txn_free(s);
        break;
    case SMTPW_EV_VRFY:
        reply(s, 252, "Cannot VRFY user, but will accept message and attempt delivery");
        break;
    case SMTPW_EV_EXPN:
        reply(s, 502, "EXPN not available");
        break;
    case SMTPW_EV_HELP:
        reply(s, 214, "Commands: HELO EHLO MAIL RCPT DATA RSET NOOP QUIT VRFY HELP");
        break;
    case SMTPW_EV_STARTTLS:
        /* RFC 3207 4.2: everything learnt before TLS is forgotten. */
        free(s->helo);
        s->helo = NULL;
        txn_free(s);
        break;
    case SMTPW_EV_NONE:
    case SMTPW_EV_QUIT:
    case SMTPW_EV_REJECTED:
    case SMTPW_EV_CLOSE:
    default:
        break;
    }
}

static void session_end(session *s)
{
    commit_leave(s->srv, s);
    txn_free(s);
    free(s->helo);
    s->helo = NULL;
    if (s->tls)
        tls_session_free(s->tls);
    s->tls = NULL;
    s->dead = 1;
}

/* Step a session until it waits; handle its events. */
static void run_session(session *s, short revents)
{
    smtpw_event ev;
    int rc;
    if (s->dead)
        return;
    while ((rc = smtpw_posix_server_step(s->conn, revents, s->srv->now, &ev, sizeof ev)) > 0) {
        revents = 0;
        on_event(s, &ev);
    }
    if (rc < 0)
        session_end(s);
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
                    session_end(list[i]);
                }
            }
        }
    }
    free(p);
    free(list);
}

/* The group commit: every message completed this turn is fsync'd, renamed
 * and covered by one fsync of new/, then all of them are answered.
 * The batch owns the message files from the moment it is taken, and every
 * verdict is queued before any session of the batch is stepped again: a
 * session that then fails to write its 250 (the peer reset) is the usual
 * lost-reply case of RFC 5321 6.1, stored and possibly sent again, never a
 * dangling transaction. */
static void group_commit(server *srv)
{
    while (srv->ncommit) {
        size_t n, i;
        session **batch;
        maildir_msg *files, **msgs;
        int *ok, err;
        commit_drop_gone(srv);
        n = srv->ncommit;
        if (n == 0)
            break;
        batch = (session **)malloc(n * sizeof *batch);
        files = (maildir_msg *)malloc(n * sizeof *files);
        msgs = (maildir_msg **)malloc(n * sizeof *msgs);
        ok = (int *)malloc(n * sizeof *ok);
        if (!batch || !msgs || !ok || !files) {
            fprintf(stderr, "smtpwire-server: out of memory in commit\n");
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
        maildir_commit(&srv->md, msgs, n, ok);
        err = errno;
        for (i = 0; i < n; i++) {
            session *s = batch[i];
            if (!s) { /* ended since: never answered, so not kept (commit_leave) */
                if (ok[i])
                    maildir_retract(&srv->md, &files[i]);
                continue;
            }
            txn_free(s);
            if (ok[i]) {
                srv->stored++;
                reply(s, 0, NULL);
            } else {
                fprintf(stderr, "smtpwire-server: cannot store a message: %s\n",
                        strerror(err));
                reply(s, 451, "Cannot store the message now");
            }
        }
        /* Only now may the sessions move on (and end, or queue more). */
        for (i = 0; i < n; i++)
            if (batch[i])
                run_session(batch[i], 0);
        srv->batch = NULL;
        srv->nbatch = 0;
        free(batch);
        free(files);
        free(msgs);
        free(ok);
    }
}

/* ---- connections ---- */

static void fmt_peer(const struct sockaddr_storage *ss, char *out, size_t cap)
{
    char a[INET6_ADDRSTRLEN];
    if (ss->ss_family == AF_INET6) {
        const struct sockaddr_in6 *s6 = (const struct sockaddr_in6 *)(const void *)ss;
        inet_ntop(AF_INET6, &s6->sin6_addr, a, sizeof a);
        snprintf(out, cap, "[IPv6:%s]", a);
    } else if (ss->ss_family == AF_INET) {
        const struct sockaddr_in *s4 = (const struct sockaddr_in *)(const void *)ss;
        inet_ntop(AF_INET, &s4->sin_addr, a, sizeof a);
        snprintf(out, cap, "[%s]", a);
    } else {
        snprintf(out, cap, "[127.0.0.1]");
    }
}

/* A connection over --max-connections: one non-blocking 421 (RFC 5321
 * 3.1 allows it instead of the greeting), then close. */
static void turn_away(server *srv, int fd)
{
    char msg[320];
    int n = snprintf(msg, sizeof msg,
                     "421 4.3.2 %s Too many connections, try again later\r\n", srv->hostname);
    if (n > 0 && (size_t)n < sizeof msg)
        (void)send(fd, msg, (size_t)n, MSG_NOSIGNAL | MSG_DONTWAIT);
    (void)close(fd);
}

static void accept_some(server *srv, int lfd)
{
    int i;
    for (i = 0; i < MAX_ACCEPT_PER_TURN; i++) {
        struct sockaddr_storage ss;
        socklen_t sl = sizeof ss;
        size_t off = (sizeof(session) + 15u) & ~(size_t)15u;
        session *s;
        int one = 1, rc;
        int fd = accept(lfd, (struct sockaddr *)(void *)&ss, &sl);
        if (fd < 0) {
            /* Out of descriptors or memory: the connection stays queued and
             * the listener stays readable, so polling it again at once would
             * spin.  Leave it out of poll() for a moment. */
            if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM)
                srv->accept_pause = srv->now + ACCEPT_PAUSE_MS;
            else if (errno == ECONNABORTED || errno == EINTR || errno == EPROTO)
                continue; /* that one is gone; others may wait */
            return; /* EAGAIN: nothing more */
        }
        if (srv->nsess >= srv->max_sessions) {
            turn_away(srv, fd);
            continue;
        }
        if (fcntl(fd, F_SETFL, O_NONBLOCK) != 0) {
            close(fd);
            continue;
        }
        (void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        if (srv->nsess == srv->capsess) {
            size_t cap = srv->capsess ? srv->capsess * 2 : 64;
            session **ns = (session **)realloc(srv->sess, cap * sizeof *ns);
            if (!ns) {
                close(fd);
                return;
            }
            srv->sess = ns;
            srv->capsess = cap;
        }
        s = (session *)malloc(off + smtpw_posix_server_sizeof());
        if (!s) {
            close(fd);
            return;
        }
        memset(s, 0, sizeof *s);
        s->srv = srv;
        fmt_peer(&ss, s->peer, sizeof s->peer);
        if (srv->tls) {
            s->tls = tls_session_new(srv->tls);
            if (!s->tls) { /* STARTTLS is offered: never run it without its hooks */
                free(s);
                turn_away(srv, fd);
                continue;
            }
        }
        rc = smtpw_posix_server_init((char *)s + off, smtpw_posix_server_sizeof(), srv->shared,
                                     fd, &srv->cfg, s->tls ? tls_io() : smtpw_posix_io_plain(),
                                     s->tls, srv->now, &s->conn);
        if (rc < 0) {
            fprintf(stderr, "smtpwire-server: session init: %s\n", smtpw_strerror(rc));
            if (s->tls)
                tls_session_free(s->tls);
            free(s);
            close(fd);
            continue;
        }
        srv->sess[srv->nsess++] = s;
        run_session(s, 0); /* the greeting goes out now */
    }
}

static int listen_on(const char *spec, char *shown, size_t shownlen)
{
    char host[256];
    const char *port;
    struct addrinfo hints, *res = NULL, *ai;
    struct sockaddr_storage ss;
    socklen_t sl = sizeof ss;
    char a[INET6_ADDRSTRLEN];
    int fd = -1, one = 1, rc;
    size_t hl;
    if (spec[0] == '[') {
        const char *e = strchr(spec, ']');
        if (!e || e[1] != ':')
            die_usage("bad --listen (use [IPv6]:PORT)", spec);
        hl = (size_t)(e - spec - 1);
        port = e + 2;
        if (hl >= sizeof host)
            die_usage("bad --listen", spec);
        memcpy(host, spec + 1, hl);
    } else {
        const char *e = strrchr(spec, ':');
        if (!e)
            die_usage("bad --listen (use ADDR:PORT)", spec);
        hl = (size_t)(e - spec);
        port = e + 1;
        if (hl >= sizeof host)
            die_usage("bad --listen", spec);
        memcpy(host, spec, hl);
    }
    host[hl] = '\0';
    (void)parse_num("--listen port", port, 65535);
    memset(&hints, 0, sizeof hints);
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
    rc = getaddrinfo(host[0] ? host : NULL, port, &hints, &res);
    if (rc != 0) {
        fprintf(stderr, "smtpwire-server: %s: %s\n", spec, gai_strerror(rc));
        exit(EX_USAGE);
    }
    for (ai = res; ai; ai = ai->ai_next) {
        fd = socket(ai->ai_family, ai->ai_socktype, ai->ai_protocol);
        if (fd < 0)
            continue;
        (void)setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
        if (bind(fd, ai->ai_addr, ai->ai_addrlen) == 0 && listen(fd, 1024) == 0)
            break;
        close(fd);
        fd = -1;
    }
    freeaddrinfo(res);
    if (fd < 0) {
        fprintf(stderr, "smtpwire-server: cannot listen on %s: %s\n", spec, strerror(errno));
        exit(1);
    }
    if (fcntl(fd, F_SETFL, O_NONBLOCK) != 0 ||
        getsockname(fd, (struct sockaddr *)(void *)&ss, &sl) != 0) {
        fprintf(stderr, "smtpwire-server: %s: %s\n", spec, strerror(errno));
        exit(1);
    }
    if (ss.ss_family == AF_INET6) {
        const struct sockaddr_in6 *s6 = (const struct sockaddr_in6 *)(const void *)&ss;
        inet_ntop(AF_INET6, &s6->sin6_addr, a, sizeof a);
        snprintf(shown, shownlen, "[%s]:%u", a, (unsigned)ntohs(s6->sin6_port));
    } else {
        const struct sockaddr_in *s4 = (const struct sockaddr_in *)(const void *)&ss;
        inet_ntop(AF_INET, &s4->sin_addr, a, sizeof a);
        snprintf(shown, shownlen, "%s:%u", a, (unsigned)ntohs(s4->sin_port));
    }
    return fd;
}

static uint32_t parse_bare(const char *opt, const char *v)
{
    if (!strcmp(v, "reject"))
        return SMTPW_BARE_REJECT;
    if (!strcmp(v, "normalize"))
        return SMTPW_BARE_NORMALIZE;
    if (!strcmp(v, "keep"))
        return SMTPW_BARE_KEEP;
    die_usage("not reject, normalize or keep", opt);
    return SMTPW_BARE_REJECT;
}

/* Raise the soft descriptor limit to the hard one, and size the session
 * table so that every session can also hold an open message file: running
 * out of descriptors then never costs a message, only a 421 at connect. */
static size_t sessions_allowed(void)
{
    struct rlimit rl;
    rlim_t n;
    if (getrlimit(RLIMIT_NOFILE, &rl) != 0)
        return 256;
    if (rl.rlim_cur != rl.rlim_max) {
        struct rlimit up = rl;
        up.rlim_cur = rl.rlim_max == RLIM_INFINITY ? 1048576 : rl.rlim_max;
        if (setrlimit(RLIMIT_NOFILE, &up) == 0)
            rl = up;
    }
    n = rl.rlim_cur == RLIM_INFINITY ? 1048576 : rl.rlim_cur;
    if (n <= FD_HEADROOM + 2)
        return 1;
    return (size_t)((n - FD_HEADROOM) / 2);
}

static void default_hostname(char *out, size_t cap)
{
    if (gethostname(out, cap) != 0 || out[0] == '\0' ||
        smtpw_domain_check(out, strnlen(out, cap), 0) != 0)
        snprintf(out, cap, "localhost");
    out[cap - 1] = '\0';
}

int main(int argc, char **argv)
{
    static server srv;
    const char *listen_spec = "127.0.0.1:2525", *maildir_dir = "./Maildir";
    const char *cert = NULL, *key = NULL;
    char shown[300], err[512];
    smtpw_posix_shared_config scfg;
    uint8_t *scratch, *pool;
    void *shmem;
    struct pollfd *pfd = NULL;
    size_t cappfd = 0;
    int lfd, sp[2], i, rc;
    int draining = 0;
    uint64_t drain_until = 0;
    size_t max_conn = 0;
    uint32_t timeout_s = 0;
    struct sigaction sa;

    smtpw_server_config_init(&srv.cfg, SMTPW_SERVER_CONFIG_VERSION);
    default_hostname(srv.hostname, sizeof srv.hostname);
    for (i = 1; i < argc; i++) {
        const char *a = argv[i], *v = NULL;
        const char *eq = strchr(a, '=');
        char name[64];
        size_t nl = eq ? (size_t)(eq - a) : strlen(a);
        if (nl >= sizeof name)
            die_usage("unknown option", a);
        memcpy(name, a, nl);
        name[nl] = '\0';
        if (!strcmp(name, "--help") || !strcmp(name, "-h")) {
            usage(stdout);
            return 0;
        }
        if (!strcmp(name, "--sink")) {
            srv.sink = 1;
            continue;
        }
        if (!strcmp(name, "--lenient")) {
            srv.cfg.flags |= SMTPW_SERVER_LENIENT;
            continue;
        }
        if (strcmp(name, "--listen") && strcmp(name, "--maildir") && strcmp(name, "--hostname") &&
            strcmp(name, "--max-size") && strcmp(name, "--max-recipients") &&
            strcmp(name, "--max-messages") && strcmp(name, "--tls-cert") &&
            strcmp(name, "--tls-key") && strcmp(name, "--timeout") &&
            strcmp(name, "--bare-command") && strcmp(name, "--bare-body") &&
            strcmp(name, "--max-connections"))
            die_usage("unknown option", a);
        if (eq)
            v = eq + 1;
        else if (i + 1 < argc)
            v = argv[++i];
        else
            die_usage("option needs a value", a);
        if (!strcmp(name, "--listen")) {
            listen_spec = v;
        } else if (!strcmp(name, "--maildir")) {
            if (!*v)
                die_usage("empty --maildir", NULL);
            maildir_dir = v;
        } else if (!strcmp(name, "--hostname")) {
            if (smtpw_domain_check(v, strlen(v), 0) != 0 || strlen(v) >= sizeof srv.hostname)
                die_usage("--hostname is not a domain name", v);
            snprintf(srv.hostname, sizeof srv.hostname, "%s", v);
        } else if (!strcmp(name, "--max-size")) {
            srv.cfg.max_message_size = (uint64_t)parse_num(name, v, UINT64_MAX);
        } else if (!strcmp(name, "--max-recipients")) {
            srv.cfg.max_recipients = (uint32_t)parse_num(name, v, UINT32_MAX);
            if (srv.cfg.max_recipients == 0)
                die_usage("--max-recipients must be at least 1", NULL);
        } else if (!strcmp(name, "--max-messages")) {
            srv.max_messages = (unsigned long)parse_num(name, v, ULONG_MAX);
        } else if (!strcmp(name, "--max-connections")) {
            max_conn = (size_t)parse_num(name, v, 1000000);
            if (max_conn == 0)
                die_usage("--max-connections must be at least 1", NULL);
        } else if (!strcmp(name, "--timeout")) {
            timeout_s = (uint32_t)parse_num(name, v, 86400);
        } else if (!strcmp(name, "--bare-command")) {
            srv.cfg.bare_command = parse_bare(name, v);
        } else if (!strcmp(name, "--bare-body")) {
            srv.cfg.bare_body = parse_bare(name, v);
        } else if (!strcmp(name, "--tls-cert")) {
            cert = v;
        } else {
            key = v;
        }
    }
    if ((cert != NULL) != (key != NULL))
        die_usage("--tls-cert and --tls-key go together", NULL);
    if (cert) {
        srv.tls = tls_server_new(cert, key, err, sizeof err);
        if (!srv.tls) {
            fprintf(stderr, "smtpwire-server: %s\n", err);
            return cert && !tls_available() ? EX_USAGE : 1;
        }
        srv.cfg.flags |= SMTPW_SERVER_STARTTLS;
    }
    srv.cfg.hostname = srv.hostname;
    srv.cfg.hostname_len = strlen(srv.hostname);
    srv.max_sessions = sessions_allowed(); /* raises the soft fd limit, so always call it */
    if (max_conn)
        srv.max_sessions = max_conn; /* the admin's word, even past the fd limit */

    if (!srv.sink && maildir_open(&srv.md, maildir_dir, srv.hostname, err, sizeof err) != 0) {
        fprintf(stderr, "smtpwire-server: %s\n", err);
        return 1;
    }

    /* One scratch buffer for every session's reads; a lazily touched pool
     * of small slots for partial command lines. */
    scratch = (uint8_t *)malloc(SCRATCH_LEN);
    pool = (uint8_t *)malloc((size_t)POOL_SLOTS * 512u);
    shmem = malloc(smtpw_posix_shared_sizeof());
    smtpw_posix_shared_config_init(&scfg, SMTPW_POSIX_SHARED_CONFIG_VERSION);
    scfg.scratch = scratch;
    scfg.scratch_len = SCRATCH_LEN;
    scfg.pool = pool;
    scfg.pool_len = (size_t)POOL_SLOTS * 512u;
    scfg.slot_size = 512;
    scfg.timeout_ms = timeout_s * 1000u;
    if (!scratch || !pool || !shmem ||
        (rc = smtpw_posix_shared_init(shmem, smtpw_posix_shared_sizeof(), &scfg,
                                      &srv.shared)) != 0) {
        fprintf(stderr, "smtpwire-server: cannot set up buffers\n");
        return 1;
    }

    if (pipe(sp) != 0) {
        perror("smtpwire-server: pipe");
        return 1;
    }
    fcntl(sp[0], F_SETFL, O_NONBLOCK);
    fcntl(sp[1], F_SETFL, O_NONBLOCK);
    sigpipe_w = sp[1];
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    sa.sa_handler = SIG_IGN;
    sigaction(SIGPIPE, &sa, NULL);

    lfd = listen_on(listen_spec, shown, sizeof shown);
    printf("listening on %s\n", shown);
    fflush(stdout);

    srv.now = smtpw_posix_now_ms();
    for (;;) {
        size_t n, k, np = 0;
        uint64_t next = 0;
        int timeout = -1;

        if (cappfd < srv.nsess + 2) {
            size_t cap = (srv.nsess + 2) * 2;
            struct pollfd *np2 = (struct pollfd *)realloc(pfd, cap * sizeof *pfd);
            if (!np2) {
                fprintf(stderr, "smtpwire-server: out of memory\n");
                return 1;
            }
            pfd = np2;
            cappfd = cap;
        }
        pfd[np].fd = sp[0];
        pfd[np++].events = POLLIN;
        pfd[np].fd = draining || srv.accept_pause > srv.now ? -1 : lfd;
        pfd[np].events = POLLIN;
        pfd[np++].revents = 0;
        if (srv.accept_pause > srv.now && !draining)
            next = srv.accept_pause;
        for (n = 0; n < srv.nsess; n++) {
            session *s = srv.sess[n];
            short ev = smtpw_posix_server_events(s->conn);
            uint64_t d = smtpw_posix_server_deadline(s->conn);
            pfd[np].fd = ev ? smtpw_posix_server_fd(s->conn) : -1;
            pfd[np].events = ev;
            pfd[np++].revents = 0;
            if (d && (!next || d < next))
                next = d;
        }
        if (draining && (!next || drain_until < next))
            next = drain_until;
        if (next) {
            uint64_t now = smtpw_posix_now_ms();
            timeout = next <= now ? 0 : (next - now > 60000u ? 60000 : (int)(next - now));
        }
        rc = poll(pfd, (nfds_t)np, timeout);
        if (rc < 0 && errno != EINTR) {
            perror("smtpwire-server: poll");
            return 1;
        }
        srv.now = smtpw_posix_now_ms();
        if (got_signal)
            break;
        if (rc > 0 && pfd[1].fd >= 0 && (pfd[1].revents & POLLIN))
            accept_some(&srv, lfd);
        for (n = 0, k = 2; n < srv.nsess && k < np; n++, k++) {
            session *s = srv.sess[n];
            uint64_t d = smtpw_posix_server_deadline(s->conn);
            short rev = rc > 0 ? pfd[k].revents : 0;
            if (rev || (d && d <= srv.now))
                run_session(s, rev);
        }
        group_commit(&srv);
        /* Drop ended sessions. */
        for (n = 0, k = 0; n < srv.nsess; n++) {
            if (srv.sess[n]->dead)
                free(srv.sess[n]);
            else
                srv.sess[k++] = srv.sess[n];
        }
        srv.nsess = k;
        if (srv.max_messages && srv.stored >= srv.max_messages) {
            if (!draining) {
                draining = 1;
                drain_until = srv.now + DRAIN_MS;
            }
            if (srv.nsess == 0 || srv.now >= drain_until)
                break;
        }
    }

    /* SIGTERM/SIGINT or done: 421 to every open session (RFC 5321 3.8). */
    for (size_t n = 0; n < srv.nsess; n++) {
        session *s = srv.sess[n];
        if (!s->dead) {
            (void)smtpw_server_shutdown(smtpw_posix_server_core(s->conn));
            run_session(s, 0);
            if (!s->dead) {
                smtpw_posix_server_close(s->conn);
                session_end(s);
            }
        }
        free(s);
    }
    free(srv.sess);
    free(srv.commit);
    free(pfd);
    close(lfd);
    if (srv.tls)
        tls_server_free(srv.tls);
    free(scratch);
    free(pool);
    free(shmem);
    return 0;
}
