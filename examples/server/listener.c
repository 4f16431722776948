/* smtpwire-server: the listening socket, accept(), and the one poll() loop
 * that drives every session through the POSIX adapter: ask each session
 * which events it waits for and until when, poll, step the ready ones,
 * run the group commit, drop the ended ones.
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
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <unistd.h>

#include "clock.h"
#include "log.h"
#include "srv.h"
#include "tls.h"

#define MAX_ACCEPT_PER_TURN 64
#define DRAIN_MS 2000u       /* --max-messages: how long open sessions may linger */
#define ACCEPT_PAUSE_MS 100u /* out of descriptors: stop accepting this long */

/* Append z (cut to fit) at out[*at] with room for a NUL in cap. */
static void cat(char *out, size_t cap, size_t *at, const char *z)
{
    size_t n = strlen(z);
    if (*at >= cap)
        return;
    if (n > cap - 1 - *at)
        n = cap - 1 - *at;
    memcpy(out + *at, z, n);
    *at += n;
    out[*at] = '\0';
}

/* ":40000" for a port. */
static void port_text(char *out, unsigned port)
{
    char d[8];
    size_t k = 0, i;
    do {
        d[k++] = (char)('0' + (int)(port % 10u));
        port /= 10u;
    } while (port);
    out[0] = ':';
    for (i = 0; i < k; i++)
        out[1 + i] = d[k - 1 - i];
    out[1 + k] = '\0';
}

/* The peer as RFC 5321 4.4's TCP-info ("[192.0.2.1]", "[IPv6:2001:db8::1]")
 * and as the log writes it ("192.0.2.1:40000", "[2001:db8::1]:40000"):
 * once per connection, so a few copies rather than snprintf(). */
static void fmt_peer(const struct sockaddr_storage *ss, char *lit, size_t litcap, char *where,
                     size_t wcap)
{
    char a[INET6_ADDRSTRLEN], port[8];
    size_t li = 0, wi = 0;
    lit[0] = '\0';
    where[0] = '\0';
    if (ss->ss_family == AF_INET6) {
        const struct sockaddr_in6 *s6 = (const struct sockaddr_in6 *)(const void *)ss;
        inet_ntop(AF_INET6, &s6->sin6_addr, a, sizeof a);
        port_text(port, (unsigned)ntohs(s6->sin6_port));
        cat(lit, litcap, &li, "[IPv6:");
        cat(lit, litcap, &li, a);
        cat(lit, litcap, &li, "]");
        cat(where, wcap, &wi, "[");
        cat(where, wcap, &wi, a);
        cat(where, wcap, &wi, "]");
        cat(where, wcap, &wi, port);
    } else if (ss->ss_family == AF_INET) {
        const struct sockaddr_in *s4 = (const struct sockaddr_in *)(const void *)ss;
        inet_ntop(AF_INET, &s4->sin_addr, a, sizeof a);
        port_text(port, (unsigned)ntohs(s4->sin_port));
        cat(lit, litcap, &li, "[");
        cat(lit, litcap, &li, a);
        cat(lit, litcap, &li, "]");
        cat(where, wcap, &wi, a);
        cat(where, wcap, &wi, port);
    } else {
        cat(lit, litcap, &li, "[127.0.0.1]");
        cat(where, wcap, &wi, "local");
    }
}

/* A connection we will not serve: one non-blocking 421 (RFC 5321 3.1
 * allows it instead of the greeting), then close; and a log line. */
static void turn_away(server *srv, int fd, const char *where, const char *reason)
{
    char msg[320];
    log_line l;
    int n = snprintf(msg, sizeof msg,
                     "421 4.3.2 %s Too many connections, try again later\r\n", srv->hostname);
    if (n > 0 && (size_t)n < sizeof msg)
        (void)send(fd, msg, (size_t)n, MSG_NOSIGNAL | MSG_DONTWAIT);
    (void)close(fd);
    log_begin(&l, LOG_WARN, "busy");
    log_str(&l, "peer", where);
    log_str(&l, "listener", srv->listen_shown);
    log_num(&l, "code", 421);
    log_str(&l, "reason", reason);
    log_end(&l);
}

static void accept_some(server *srv, int lfd)
{
    int i;
    for (i = 0; i < MAX_ACCEPT_PER_TURN; i++) {
        struct sockaddr_storage ss;
        socklen_t sl = sizeof ss;
        char lit[56], where[64];
        int one = 1, rc;
        int fd = accept(lfd, (struct sockaddr *)(void *)&ss, &sl);
        if (fd < 0) {
            /* Out of descriptors or memory: the connection stays queued and
             * the listener stays readable, so polling it again at once would
             * spin.  Leave it out of poll() for a moment. */
            if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM) {
                if (srv->accept_pause <= srv->now) {
                    log_line l;
                    log_begin(&l, LOG_WARN, "accept_error");
                    log_str(&l, "error", strerror(errno));
                    log_end(&l);
                }
                srv->accept_pause = srv->now + ACCEPT_PAUSE_MS;
            } else if (errno == ECONNABORTED || errno == EINTR || errno == EPROTO) {
                continue; /* that one is gone; others may wait */
            }
            return; /* EAGAIN: nothing more */
        }
        fmt_peer(&ss, lit, sizeof lit, where, sizeof where);
        if (srv->nsess >= srv->max_sessions) {
            turn_away(srv, fd, where, "max_connections");
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
                turn_away(srv, fd, where, "no_memory");
                return;
            }
            srv->sess = ns;
            srv->capsess = cap;
        }
        rc = session_start(srv, fd, lit, where);
        if (rc == -2)
            turn_away(srv, fd, where, "tls_setup");
        else if (rc < 0)
            turn_away(srv, fd, where, "no_memory");
    }
}

int listener_open(const char *spec, char *shown, size_t shownlen, unsigned *portnum)
{
    char host[256], a[INET6_ADDRSTRLEN];
    const char *port;
    struct addrinfo hints, *res = NULL, *ai;
    struct sockaddr_storage ss;
    socklen_t sl = sizeof ss;
    int fd = -1, one = 1, rc;
    size_t hl;
    unsigned p;
    if (spec[0] == '[') {
        const char *e = strchr(spec, ']');
        if (!e || e[1] != ':')
            return -2;
        hl = (size_t)(e - spec - 1);
        port = e + 2;
        if (hl >= sizeof host)
            return -2;
        memcpy(host, spec + 1, hl);
    } else {
        const char *e = strrchr(spec, ':');
        if (!e)
            return -2;
        hl = (size_t)(e - spec);
        port = e + 1;
        if (hl >= sizeof host)
            return -2;
        memcpy(host, spec, hl);
    }
    host[hl] = '\0';
    if (!*port || strspn(port, "0123456789") != strlen(port) || strlen(port) > 5 ||
        atoi(port) > 65535)
        return -2;
    memset(&hints, 0, sizeof hints);
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
    rc = getaddrinfo(host[0] ? host : NULL, port, &hints, &res);
    if (rc != 0) {
        snprintf(shown, shownlen, "%s", gai_strerror(rc));
        return -2;
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
        snprintf(shown, shownlen, "cannot listen on %s: %s", spec, strerror(errno));
        return -1;
    }
    if (fcntl(fd, F_SETFL, O_NONBLOCK) != 0 ||
        fcntl(fd, F_SETFD, FD_CLOEXEC) != 0 ||
        getsockname(fd, (struct sockaddr *)(void *)&ss, &sl) != 0) {
        snprintf(shown, shownlen, "%s: %s", spec, strerror(errno));
        close(fd);
        return -1;
    }
    if (ss.ss_family == AF_INET6) {
        const struct sockaddr_in6 *s6 = (const struct sockaddr_in6 *)(const void *)&ss;
        inet_ntop(AF_INET6, &s6->sin6_addr, a, sizeof a);
        p = (unsigned)ntohs(s6->sin6_port);
        snprintf(shown, shownlen, "[%s]:%u", a, p);
    } else {
        const struct sockaddr_in *s4 = (const struct sockaddr_in *)(const void *)&ss;
        inet_ntop(AF_INET, &s4->sin_addr, a, sizeof a);
        p = (unsigned)ntohs(s4->sin_port);
        snprintf(shown, shownlen, "%s:%u", a, p);
    }
    if (portnum)
        *portnum = p;
    return fd;
}

/* The loop.  Returns 0 at SIGTERM/SIGINT (got_signal) or when
 * --max-messages is reached, 1 on a fatal error. */
int listener_run(server *srv, int lfd, int sigfd)
{
    struct pollfd *pfd = NULL;
    size_t cappfd = 0;
    int draining = 0, rc;
    uint64_t drain_until = 0;
    srv->now = smtpw_posix_now_ms();
    for (;;) {
        size_t n, k, np = 0;
        uint64_t next = 0;
        int timeout;
        if (cappfd < srv->nsess + 2) {
            size_t cap = (srv->nsess + 2) * 2;
            struct pollfd *np2 = (struct pollfd *)realloc(pfd, cap * sizeof *pfd);
            if (!np2) {
                log_msg(LOG_ERROR, "error", "out of memory");
                free(pfd);
                return 1;
            }
            pfd = np2;
            cappfd = cap;
        }
        pfd[np].fd = sigfd;
        pfd[np].events = POLLIN;
        pfd[np++].revents = 0;
        pfd[np].fd = draining || srv->accept_pause > srv->now ? -1 : lfd;
        pfd[np].events = POLLIN;
        pfd[np++].revents = 0;
        if (srv->accept_pause > srv->now && !draining)
            next = srv->accept_pause;
        for (n = 0; n < srv->nsess; n++) {
            session *s = srv->sess[n];
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
        timeout = clock_poll_timeout(smtpw_posix_now_ms(), next, 60000);
        (void)log_flush(); /* this turn's lines, before we sleep */
        rc = poll(pfd, (nfds_t)np, timeout);
        if (rc < 0 && errno != EINTR) {
            log_line l;
            log_begin(&l, LOG_ERROR, "error");
            log_str(&l, "msg", "poll failed");
            log_str(&l, "error", strerror(errno));
            log_end(&l);
            free(pfd);
            return 1;
        }
        srv->now = smtpw_posix_now_ms();
        if (got_signal)
            break;
        if (rc > 0 && pfd[1].fd >= 0 && (pfd[1].revents & POLLIN))
            accept_some(srv, lfd);
        for (n = 0, k = 2; n < srv->nsess && k < np; n++, k++) {
            session *s = srv->sess[n];
            uint64_t d = smtpw_posix_server_deadline(s->conn);
            short rev = rc > 0 ? pfd[k].revents : 0;
            if (rev || (d && d <= srv->now))
                session_run(s, rev);
        }
        group_commit(srv);
        /* Drop ended sessions. */
        for (n = 0, k = 0; n < srv->nsess; n++) {
            if (srv->sess[n]->dead)
                free(srv->sess[n]);
            else
                srv->sess[k++] = srv->sess[n];
        }
        srv->nsess = k;
        if (srv->max_messages && srv->stored >= srv->max_messages) {
            if (!draining) {
                draining = 1;
                drain_until = srv->now + DRAIN_MS;
            }
            if (srv->nsess == 0 || srv->now >= drain_until)
                break;
        }
    }
    free(pfd);
    return 0;
}

/* SIGTERM/SIGINT or done: 421 to every open session (RFC 5321 3.8). */
void listener_shutdown(server *srv)
{
    size_t n;
    srv->shutting_down = 1;
    srv->now = smtpw_posix_now_ms();
    for (n = 0; n < srv->nsess; n++) {
        session *s = srv->sess[n];
        if (!s->dead) {
            (void)smtpw_server_shutdown(smtpw_posix_server_core(s->conn));
            session_run(s, 0);
            if (!s->dead) {
                smtpw_posix_server_close(s->conn);
                session_end(s, SMTPW_E_CLOSED);
            }
        }
        free(s);
    }
    srv->nsess = 0;
    free(srv->sess);
    srv->sess = NULL;
    free(srv->commit);
    srv->commit = NULL;
}
