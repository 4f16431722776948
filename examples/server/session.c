/* smtpwire-server: one SMTP session, event by event.  This is the file to
 * read to learn how an application sits on the smtpwire server core: the
 * core parses every command, answers what it can answer by itself, and
 * hands the application one event per decision.  An event marked REPLY in
 * <smtpwire/common.h> waits until the application calls
 * smtpw_server_reply(): at once (most events here) or later (the message
 * verdict, after the group commit in commit.c).  Code 0 means "the
 * core's default reply" (250, 354, ...).
 * SPDX-License-Identifier: MIT */
#if !defined(_POSIX_C_SOURCE) || _POSIX_C_SOURCE < 200809L
#undef _POSIX_C_SOURCE
#define _POSIX_C_SOURCE 200809L
#endif

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "srv.h"
#include "tls.h"

#define BODY_BUF 65536u /* one file write per this many body bytes */
#define LOGGED_LINE 512u /* bytes of a refused line put in the log */

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

void session_txn_free(session *s)
{
    txn *t = s->t;
    if (!t)
        return;
    if (t->in_data)
        maildir_abort(&s->srv->md, &t->msg);
    free(t->buf); /* BODY_BUF bytes: not kept while the session idles */
    t->buf = NULL;
    s->t = NULL;
    if (s->spare) {
        free(t->env);
        free(t);
        return;
    }
    s->spare = t; /* a client sends message after message: no malloc per MAIL */
}

/* A new, empty transaction: the spare one (its envelope buffer kept) or
 * a fresh one.  NULL out of memory. */
static txn *txn_new(session *s)
{
    txn *t = s->spare;
    char *env;
    size_t cap;
    if (!t)
        return (txn *)calloc(1, sizeof *t);
    s->spare = NULL;
    env = t->env;
    cap = t->envcap;
    memset(t, 0, sizeof *t);
    t->env = env;
    t->envcap = cap;
    return t;
}

/* The spare transaction too, when the session ends. */
static void txn_drop_spare(session *s)
{
    if (s->spare) {
        free(s->spare->env);
        free(s->spare);
        s->spare = NULL;
    }
}

static void body_flush(session *s)
{
    txn *t = s->t;
    if (t->buflen && !t->failed && maildir_write(&t->msg, t->buf, t->buflen) != 0) {
        t->failed = 1;
        t->write_err = errno;
    }
    t->buflen = 0;
}

void session_body_add(session *s, const char *p, size_t n)
{
    txn *t = s->t;
    if (t->failed)
        return;
    if (t->buflen + n > BODY_BUF) {
        body_flush(s);
        if (n >= BODY_BUF) { /* a chunk this large goes straight to the file */
            if (!t->failed && maildir_write(&t->msg, p, n) != 0) {
                t->failed = 1;
                t->write_err = errno;
            }
            return;
        }
    }
    memcpy(t->buf + t->buflen, p, n);
    t->buflen += n;
}

/* ---- the log ---- */

/* What a refusal code means (RFC 5321 4.2.2, 4.2.3; RFC 1870 for 552):
 * the core chose the code and the text, the log says it in few words. */
static const char *code_reason(uint32_t code)
{
    switch (code) {
    case 421: return "closing";
    case 450: return "mailbox unavailable";
    case 451: return "local error";
    case 452: return "too many recipients";
    case 454: return "TLS not available";
    case 500: return "syntax error or line too long";
    case 501: return "syntax error in arguments";
    case 502: return "command not implemented";
    case 503: return "bad sequence of commands";
    case 504: return "parameter not implemented";
    case 550: return "mailbox unavailable";
    case 552: return "message too large";
    case 553: return "mailbox name not allowed";
    case 554: return "transaction failed";
    case 555: return "parameters not recognized";
    default: return "refused";
    }
}

void session_log_message(session *s, const char *verdict, uint32_t code, const char *reason,
                         uint64_t fsync_ms)
{
    log_line l;
    txn *t = s->t;
    const char *p;
    size_t n;
    uint32_t i;
    if (!log_begin(&l, LOG_INFO, "message"))
        return; /* -q: once per message, so nothing at all */
    log_str(&l, "session", s->id);
    if (t && !s->srv->sink && t->msg.name[0])
        log_str(&l, "file", t->msg.name);
    if (t) {
        p = t->env; /* "sender\0rcpt1\0...": each length taken once */
        n = strlen(p);
        log_bytes(&l, "from", p, n);
        for (i = 0; i < t->nrcpt; i++) {
            p += n + 1;
            n = strlen(p);
            log_bytes(&l, "to", p, n);
        }
        log_num(&l, "nrcpt", t->nrcpt);
        log_num(&l, "size", t->size);
    }
    if (!strcmp(verdict, "accepted") && !s->srv->sink)
        log_num(&l, "fsync_ms", fsync_ms);
    log_str(&l, "verdict", verdict);
    log_num(&l, "code", code);
    if (reason)
        log_str(&l, "reason", reason);
    log_end(&l);
}

static void log_reject(session *s, uint32_t cmd, uint32_t code, const char *enh,
                       const char *reason, const char *what, const char *val, size_t n)
{
    log_line l;
    s->rejects++;
    if (!log_begin(&l, LOG_INFO, "reject"))
        return;
    log_str(&l, "session", s->id);
    log_str(&l, "cmd", smtpw_cmd_name(cmd));
    log_num(&l, "code", code);
    if (enh)
        log_str(&l, "enh", enh);
    log_str(&l, "reason", reason);
    if (what)
        log_bytes(&l, what, val, n > LOGGED_LINE ? LOGGED_LINE : n);
    log_end(&l);
}

/* -v: the dialogue, one debug line per command understood and per reply
 * line sent.  Commands are logged from the events (the body never is);
 * replies from the bytes really written, under the TLS layer's plaintext. */
static void log_command(session *s, const smtpw_event *ev)
{
    log_line l;
    if (!log_enabled(LOG_DEBUG) || ev->type == SMTPW_EV_BODY ||
        ev->type == SMTPW_EV_DATA_ABORT || ev->type == SMTPW_EV_TLS_STARTED)
        return; /* not commands */
    log_begin(&l, LOG_DEBUG, "recv");
    log_str(&l, "session", s->id);
    if (ev->type == SMTPW_EV_DATA_END) {
        log_str(&l, "line", "."); /* the end of the message data (RFC 5321 4.1.1.4) */
        log_end(&l);
        return;
    }
    log_str(&l, "cmd", smtpw_cmd_name(ev->cmd));
    if (ev->arg.len)
        log_bytes(&l, ev->type == SMTPW_EV_REJECTED ? "line" : "arg", ev->arg.ptr,
                  ev->arg.len > LOGGED_LINE ? LOGGED_LINE : ev->arg.len);
    if (ev->params.len)
        log_bytes(&l, "params", ev->params.ptr, ev->params.len);
    log_end(&l);
}

static void log_sent(session *s, const uint8_t *p, size_t n)
{
    while (n) {
        /* the bytes up to the next LF join the line (as far as it holds
         * them), then the LF ends it when a CR came before */
        const uint8_t *lf = (const uint8_t *)memchr(p, '\n', n);
        size_t k = lf ? (size_t)(lf - p) : n, room = SESSION_OUT - s->outlen;
        memcpy(s->out + s->outlen, p, k < room ? k : room);
        s->outlen += (uint32_t)(k < room ? k : room);
        p += k;
        n -= k;
        if (!lf)
            break;
        if (s->outlen && s->out[s->outlen - 1] == '\r') {
            log_line l;
            log_begin(&l, LOG_DEBUG, "send");
            log_str(&l, "session", s->id);
            log_bytes(&l, "line", s->out, s->outlen - 1);
            log_end(&l);
            s->outlen = 0;
        } else if (s->outlen < SESSION_OUT) {
            s->out[s->outlen++] = '\n';
        }
        p++;
        n--;
    }
}

/* -v: the hooks under the logging hooks (TLS when the session has it). */
static const smtpw_posix_io *inner(const session *s)
{
    return s->tls ? tls_io() : smtpw_posix_io_plain();
}

static int dlg_read(void *ctx, int fd, uint8_t *buf, size_t cap, size_t *got, uint32_t *wait)
{
    session *s = (session *)ctx;
    return inner(s)->read(s->tls, fd, buf, cap, got, wait);
}

static int dlg_write(void *ctx, int fd, const uint8_t *buf, size_t len, size_t *sent,
                     uint32_t *wait)
{
    session *s = (session *)ctx;
    int rc = inner(s)->write(s->tls, fd, buf, len, sent, wait);
    if (rc == 0)
        log_sent(s, buf, *sent);
    return rc;
}

static int dlg_starttls(void *ctx, int fd, uint32_t *wait)
{
    session *s = (session *)ctx;
    return inner(s)->starttls(s->tls, fd, wait);
}

static size_t dlg_pending(void *ctx)
{
    session *s = (session *)ctx;
    return inner(s)->pending ? inner(s)->pending(s->tls) : 0;
}

static void dlg_close(void *ctx, int fd)
{
    session *s = (session *)ctx;
    if (inner(s)->close)
        inner(s)->close(s->tls, fd);
    else
        close(fd);
}

static const smtpw_posix_io dlg_io = {SMTPW_POSIX_IO_VERSION, dlg_read, dlg_write,
                                      dlg_starttls, dlg_pending, dlg_close};
static const smtpw_posix_io dlg_io_plain = {SMTPW_POSIX_IO_VERSION, dlg_read, dlg_write, NULL,
                                            dlg_pending, dlg_close};

/* ---- events ---- */

void session_reply(session *s, uint32_t code, const char *enh, const char *text)
{
    smtpw_server *core = smtpw_posix_server_core(s->conn);
    int rc = smtpw_server_reply(core, code, enh, enh ? strlen(enh) : 0, text,
                                text ? strlen(text) : 0);
    if (rc < 0) {
        log_line l;
        log_begin(&l, LOG_ERROR, "error");
        log_str(&l, "session", s->id);
        log_str(&l, "msg", "reply refused by the core");
        log_num(&l, "code", code);
        log_str(&l, "error", smtpw_strerror(rc));
        log_end(&l);
        (void)smtpw_server_reply(core, code >= 500 ? 554 : 451, NULL, 0, NULL, 0);
    }
}

/* The core's default reply (250, 354, ...): the common case, without the
 * lengths of texts there are none of. */
static void reply_default(session *s)
{
    if (smtpw_server_reply(smtpw_posix_server_core(s->conn), 0, NULL, 0, NULL, 0) < 0)
        session_reply(s, 0, NULL, NULL); /* logs why and answers 451 */
}

static void out_of_memory(session *s, uint32_t cmd)
{
    log_reject(s, cmd, 451, NULL, "out of memory", NULL, NULL, 0);
    session_reply(s, 451, NULL, "Out of memory");
}

/* HELO/EHLO: the core checked the argument's grammar; the application
 * decides (here: always yes) and remembers the name for Received:.  A new
 * HELO resets the transaction (RFC 5321 4.1.4). */
static void on_helo(session *s, const smtpw_event *ev)
{
    log_line l;
    free(s->helo);
    s->helo = (char *)malloc(ev->arg.len + 1);
    if (!s->helo) {
        out_of_memory(s, ev->cmd);
        return;
    }
    memcpy(s->helo, ev->arg.ptr, ev->arg.len);
    s->helo[ev->arg.len] = '\0';
    s->ehlo = ev->cmd == SMTPW_CMD_EHLO;
    session_txn_free(s);
    log_begin(&l, LOG_INFO, "helo");
    log_str(&l, "session", s->id);
    log_str(&l, "cmd", smtpw_cmd_name(ev->cmd));
    log_bytes(&l, "name", ev->arg.ptr, ev->arg.len);
    log_end(&l);
    reply_default(s);
}

/* MAIL: the path is parsed (ev->path) and SIZE already checked against the
 * limit by the core (RFC 1870); a transaction starts. */
static void on_mail(session *s, const smtpw_event *ev)
{
    session_txn_free(s);
    s->t = txn_new(s);
    if (!s->t || env_add(s->t, ev->path.mailbox.ptr, ev->path.mailbox.len) != 0) {
        session_txn_free(s);
        out_of_memory(s, ev->cmd);
        return;
    }
    s->t->msg.fd = -1;
    reply_default(s);
}

/* RCPT: the place for a recipient policy.  The core enforces the count
 * (452 past max_recipients) and the grammar; which addresses this server
 * takes mail for is the application's call (policy.c). */
static void on_rcpt(session *s, const smtpw_event *ev)
{
    int verdict = s->srv->policy_on ? policy_check(&s->srv->pol, &ev->path) : POLICY_ACCEPT;
    if (verdict != POLICY_ACCEPT) {
        log_reject(s, ev->cmd, policy_code(verdict), policy_enh(verdict), policy_text(verdict),
                   "rcpt", ev->path.raw.ptr, ev->path.raw.len);
        session_reply(s, policy_code(verdict), policy_enh(verdict), policy_text(verdict));
        return;
    }
    if (!s->t || env_add(s->t, ev->path.mailbox.ptr, ev->path.mailbox.len) != 0) {
        out_of_memory(s, ev->cmd);
        return;
    }
    s->t->nrcpt++;
    reply_default(s);
}

/* DATA: only sent with at least one accepted recipient.  Open the file
 * now, so that a full disk is a 451 before the client sends the body. */
static void on_data(session *s)
{
    txn *t = s->t;
    if (!t) {
        session_reply(s, 451, NULL, "No transaction");
        return;
    }
    if (s->srv->sink) {
        reply_default(s);
        return;
    }
    t->buf = (char *)malloc(BODY_BUF);
    if (!t->buf || maildir_create(&s->srv->md, &t->msg) != 0) {
        int e = errno;
        log_line l;
        log_begin(&l, LOG_ERROR, "store_error");
        log_str(&l, "session", s->id);
        log_str(&l, "path", "tmp/");
        log_str(&l, "error", t->buf ? strerror(e) : "out of memory");
        log_end(&l);
        free(t->buf);
        t->buf = NULL;
        log_reject(s, SMTPW_CMD_DATA, 451, NULL, "cannot store the message now", NULL, NULL, 0);
        session_reply(s, 451, NULL, "Cannot store the message now");
        return;
    }
    t->in_data = 1;
    t->buflen = 0;
    t->failed = 0;
    received_add(s); /* trace fields first, RFC 5321 4.4 */
    reply_default(s);
}

/* DATA_END: the message is complete and unstuffed.  Its verdict waits for
 * the group commit (commit.c): the 250 goes out only once the file is
 * durable.  The core holds the session meanwhile; nothing times out. */
static void on_data_end(session *s, const smtpw_event *ev)
{
    server *srv = s->srv;
    if (s->t)
        s->t->size = ev->size;
    if (srv->sink) {
        srv->stored++;
        s->messages++;
        if (srv->log_info) /* -q: not even the call, once per message */
            session_log_message(s, "accepted", 250, NULL, 0);
        session_txn_free(s);
        reply_default(s);
        return;
    }
    if (!s->t || !s->t->in_data) {
        session_log_message(s, "failed", 451, "message lost", 0);
        session_reply(s, 451, NULL, "Message lost");
        return;
    }
    body_flush(s);
    free(s->t->buf);
    s->t->buf = NULL;
    if (s->t->failed) {
        log_line l;
        log_begin(&l, LOG_ERROR, "store_error");
        log_str(&l, "session", s->id);
        log_str(&l, "path", s->t->msg.name);
        log_str(&l, "error", strerror(s->t->write_err));
        log_end(&l);
        session_log_message(s, "failed", 451, "write failed", 0);
        session_txn_free(s);
        session_reply(s, 451, NULL, "Cannot store the message now");
        return;
    }
    commit_push(srv, s); /* answered after the group commit */
}

void session_event(session *s, const smtpw_event *ev)
{
    if (s->srv->log_debug)
        log_command(s, ev);
    switch (ev->type) {
    case SMTPW_EV_HELO:
        on_helo(s, ev);
        break;
    case SMTPW_EV_MAIL:
        on_mail(s, ev);
        break;
    case SMTPW_EV_RCPT:
        on_rcpt(s, ev);
        break;
    case SMTPW_EV_DATA:
        on_data(s);
        break;
    case SMTPW_EV_BODY: /* a chunk of the message, unstuffed, CRLF kept */
        if (s->t && s->t->in_data)
            session_body_add(s, ev->arg.ptr, ev->arg.len);
        break;
    case SMTPW_EV_DATA_END:
        on_data_end(s, ev);
        break;
    case SMTPW_EV_DATA_ABORT:
        /* The core refused the message itself (too large, a bare CR or LF
         * under "reject") and already answered: throw the file away. */
        if (s->t)
            s->t->size = ev->size;
        session_log_message(s, "refused", ev->code, code_reason(ev->code), 0);
        session_txn_free(s);
        break;
    case SMTPW_EV_RSET: /* answered by the core; the transaction is gone */
        session_txn_free(s);
        break;
    case SMTPW_EV_VRFY: /* RFC 5321 3.5.3: 252 rather than reveal users */
        session_reply(s, 252, NULL,
                      "Cannot VRFY user, but will accept message and attempt delivery");
        break;
    case SMTPW_EV_EXPN:
        session_reply(s, 502, NULL, "EXPN not available");
        break;
    case SMTPW_EV_HELP:
        session_reply(s, 214, NULL, "Commands: HELO EHLO MAIL RCPT DATA RSET NOOP QUIT VRFY HELP");
        break;
    case SMTPW_EV_STARTTLS:
        /* The 220 went out; the adapter runs the handshake next.  RFC 3207
         * 4.2: everything learnt before TLS is forgotten. */
        free(s->helo);
        s->helo = NULL;
        session_txn_free(s);
        break;
    case SMTPW_EV_TLS_STARTED: {
        char desc[128], proto[64];
        const char *comma;
        log_line l;
        tls_session_describe(s->tls, desc, sizeof desc); /* "TLSv1.3, TLS_AES_..." */
        comma = strchr(desc, ',');
        snprintf(proto, sizeof proto, "%.*s", comma ? (int)(comma - desc) : (int)strlen(desc),
                 desc);
        log_begin(&l, LOG_INFO, "tls");
        log_str(&l, "session", s->id);
        log_str(&l, "protocol", proto);
        log_str(&l, "cipher", comma ? comma + 2 : "");
        log_end(&l);
        break;
    }
    case SMTPW_EV_REJECTED:
        /* The core refused a command by itself (grammar, sequence, limits)
         * and answered it; the application only hears about it. */
        log_reject(s, ev->cmd, ev->code, NULL, code_reason(ev->code), "line", ev->arg.ptr,
                   ev->arg.len);
        break;
    case SMTPW_EV_QUIT: /* 221 queued; the session closes once it is written */
        s->saw_quit = 1;
        break;
    case SMTPW_EV_CLOSE: {
        /* The core ends the session with a 421: too many errors, or our
         * own smtpw_server_shutdown() at SIGTERM. */
        log_line l;
        s->close_code = ev->code ? ev->code : 421;
        log_begin(&l, LOG_INFO, "close");
        log_str(&l, "session", s->id);
        log_num(&l, "code", s->close_code);
        log_str(&l, "reason", s->srv->shutting_down ? "shutdown" : "too_many_errors");
        log_end(&l);
        break;
    }
    case SMTPW_EV_NONE:
    case SMTPW_EV_REPLY:
    default:
        break;
    }
}

/* ---- start and end ---- */

void session_end(session *s, int rc)
{
    log_line l;
    const char *why;
    if (rc == SMTPW_E_TIMEOUT) {
        /* the adapter tried a 421 (RFC 5321 4.5.3.2) before closing */
        log_begin(&l, LOG_INFO, "timeout");
        log_str(&l, "session", s->id);
        log_num(&l, "code", 421);
        log_end(&l);
    } else if (rc == SMTPW_E_TLS && s->tls && tls_session_error(s->tls)[0]) {
        log_begin(&l, LOG_WARN, "tls_error");
        log_str(&l, "session", s->id);
        log_str(&l, "error", tls_session_error(s->tls));
        log_end(&l);
    }
    why = s->saw_quit                            ? "quit"
          : s->srv->shutting_down                ? "shutdown"
          : s->close_code                        ? "closed"
          : rc == SMTPW_E_TIMEOUT                ? "timeout"
          : rc == SMTPW_E_TLS                    ? "tls_error"
          : rc == SMTPW_E_CLOSED                 ? "peer_closed"
                                                 : "error";
    log_begin(&l, LOG_INFO, "disconnect");
    log_str(&l, "session", s->id);
    log_num(&l, "duration_ms", s->srv->now > s->started ? s->srv->now - s->started : 0);
    log_num(&l, "messages", s->messages);
    log_num(&l, "rejects", s->rejects);
    log_str(&l, "reason", why);
    log_end(&l);
    commit_leave(s->srv, s);
    session_txn_free(s);
    txn_drop_spare(s);
    free(s->helo);
    s->helo = NULL;
    if (s->tls)
        tls_session_free(s->tls);
    s->tls = NULL;
    s->dead = 1;
}

/* z into out[cap], cut to fit and NUL-terminated. */
static void copy_cut(char *out, size_t cap, const char *z)
{
    size_t n = strlen(z);
    if (n >= cap)
        n = cap - 1;
    memcpy(out, z, n);
    out[n] = '\0';
}

/* v in lower-case hex, at least width digits; returns the digits written. */
static size_t hex(char *out, uint64_t v, size_t width)
{
    char d[16];
    size_t k = 0, i;
    do {
        d[k++] = "0123456789abcdef"[v & 15u];
        v >>= 4;
    } while (v);
    while (k < width)
        d[k++] = '0';
    for (i = 0; i < k; i++)
        out[i] = d[k - 1 - i];
    return k;
}

/* The session id of the log: the run's start second (8 hex digits until
 * 2106) and a counter (4 or more), cut to fit like the ids before. */
static void make_id(char *out, size_t cap, uint64_t base, uint64_t next)
{
    char t[32];
    size_t n = hex(t, base, 8);
    n += hex(t + n, next, 4);
    t[n] = '\0';
    copy_cut(out, cap, t);
}

/* A new connection: its session, its log line, its greeting. */
int session_start(server *srv, int fd, const char *peer, const char *where)
{
    size_t off = (sizeof(session) + 15u) & ~(size_t)15u;
    size_t core = smtpw_posix_server_sizeof();
    int verbose = log_enabled(LOG_DEBUG);
    session *s;
    log_line l;
    int rc;
    s = (session *)malloc(off + core + (verbose ? SESSION_OUT : 0));
    if (!s)
        return -1;
    memset(s, 0, sizeof *s);
    if (verbose)
        s->out = (char *)s + off + core;
    s->srv = srv;
    s->started = srv->now;
    copy_cut(s->peer, sizeof s->peer, peer);
    make_id(s->id, sizeof s->id, srv->id_base, srv->id_next++);
    if (srv->tls) {
        s->tls = tls_session_new(srv->tls);
        if (!s->tls) { /* STARTTLS is offered: never run it without its hooks */
            free(s);
            return -2;
        }
    }
    if (verbose) /* -v: the logging hooks over the real ones */
        rc = smtpw_posix_server_init((char *)s + off, smtpw_posix_server_sizeof(), srv->shared,
                                     fd, &srv->cfg, inner(s)->starttls ? &dlg_io : &dlg_io_plain,
                                     s, srv->now, &s->conn);
    else
        rc = smtpw_posix_server_init((char *)s + off, smtpw_posix_server_sizeof(), srv->shared,
                                     fd, &srv->cfg, inner(s), s->tls, srv->now, &s->conn);
    if (rc < 0) {
        log_begin(&l, LOG_ERROR, "error");
        log_str(&l, "msg", "session init failed");
        log_str(&l, "error", smtpw_strerror(rc));
        log_end(&l);
        if (s->tls)
            tls_session_free(s->tls);
        free(s);
        return -1;
    }
    log_begin(&l, LOG_INFO, "connect");
    log_str(&l, "session", s->id);
    log_str(&l, "peer", where);
    log_str(&l, "listener", srv->listen_shown);
    log_end(&l);
    srv->sess[srv->nsess++] = s;
    session_run(s, 0); /* the greeting goes out now */
    return 0;
}
