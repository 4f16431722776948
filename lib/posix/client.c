/* POSIX adapter, client half: connect by name and drive a smtpw_client core
 * through one mail transaction (RFC 5321 3.3, RFC 2920), every wait bounded
 * by the RFC 5321 4.5.3.2 timeout the core names.  The connection is
 * connect.c's, the config's checks send_config.c's, the replies
 * client_reply.c's.
 * SPDX-License-Identifier: MIT */
#if !defined(_POSIX_C_SOURCE) || _POSIX_C_SOURCE < 200809L
#undef _POSIX_C_SOURCE
#define _POSIX_C_SOURCE 200809L
#endif

#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "posix/client_internal.h"
#include "smtpwire/posix.h"

#define BODYBUF 65536    /* one body write; the terminator always shares the last */
#define DRAIN_MAX 65536  /* clear-text bytes dropped after 220 before giving up */

/* The core lives in caller memory: a stack buffer aligned for anything. */
typedef union {
    uint8_t bytes[SMTPW_CLIENT_SIZE_HINT];
    void *p;
    uint64_t u;
    double d;
    long double ld;
} core_mem;

typedef smtpw__posix_sess sess;

static void note(const sess *s, const char *text)
{
    smtpw__posix_trace(s, SMTPW_POSIX_TRACE_INFO, text, strlen(text));
}

static void await_push(sess *s, uint32_t cmd)
{
    if (s->await_n < SMTPW__POSIX_AWAIT_MAX) {
        s->await[(s->await_head + s->await_n) % SMTPW__POSIX_AWAIT_MAX] = (uint8_t)cmd;
        s->await_n++;
    }
}

/* The command whose reply is awaited: what a broken session broke on. */
static uint32_t awaited(const sess *s)
{
    return s->await_n > 0 ? s->await[s->await_head] : SMTPW_CMD_NONE;
}

/* Write all of buf, each wait bounded by the given timeout. */
static int write_all(sess *s, const uint8_t *buf, size_t len, uint32_t which)
{
    while (len > 0) {
        size_t sent = 0;
        uint32_t wait = SMTPW_WANT_WRITE;
        int rc = s->io->write(s->io_ctx, s->fd, buf, len, &sent, &wait);
        if (rc == 0) {
            if (sent > len)
                return SMTPW_E_IO; /* a broken hook */
            buf += sent;
            len -= sent;
            continue;
        }
        if (rc != SMTPW_E_AGAIN)
            return smtpw__posix_io_failed(s, rc);
        rc = smtpw__posix_wait(s->fd, smtpw__posix_poll_events(wait),
                               smtpw_posix_now_ms() + smtpw__posix_wait_ms(s, which));
        if (rc)
            return rc == SMTPW_E_IO ? smtpw__posix_io_failed(s, rc) : rc;
    }
    return 0;
}

/* Send everything the core has queued, tracing each command line once. */
int smtpw__posix_flush(sess *s)
{
    size_t len;
    const uint8_t *out = smtpw_client_output(s->c, &len);
    int rc;
    if (len == 0)
        return 0;
    if (s->o->trace && s->traced < len) {
        size_t i = s->traced, start = i;
        for (; i < len; i++) {
            if (out[i] == '\n') {
                size_t end = i > start && out[i - 1] == '\r' ? i - 1 : i;
                smtpw__posix_trace(s, SMTPW_POSIX_TRACE_CLIENT, (const char *)out + start,
                                   end - start);
                start = i + 1;
            }
        }
        s->traced = len;
    }
    rc = write_all(s, out, len, SMTPW_TIMEOUT_COMMAND);
    if (rc)
        return rc;
    smtpw_client_output_ack(s->c, len);
    s->traced = 0;
    return 0;
}

static int is2xx(uint32_t code)
{
    return code >= 200 && code < 300;
}

/* Canonical (CRLF) message size for SIZE=, RFC 1870 3: every bare LF or
 * bare CR becomes CRLF, and a last line without one gets it. */
static uint64_t canonical_size(const uint8_t *p, size_t n, int *eightbit)
{
    uint64_t size = n;
    size_t i;
    *eightbit = 0;
    for (i = 0; i < n; i++) {
        if (p[i] >= 0x80)
            *eightbit = 1;
        else if (p[i] == '\n' && (i == 0 || p[i - 1] != '\r'))
            size++;
        else if (p[i] == '\r' && (i + 1 == n || p[i + 1] != '\n'))
            size++;
    }
    if (n > 0 && p[n - 1] != '\n' && p[n - 1] != '\r')
        size += 2;
    return size;
}

/* Before a body write.  The server has nothing to say until it has the
 * final dot (RFC 5321 4.1.1.4) but a 421 (3.8).  Whatever it sent so far
 * goes to the core, which refuses any reply but a 421 while the body is
 * due: a reply sent early is never taken for the answer to the dot.
 * Returns 0 (nothing came), SMTPW_E_CLOSED after a 421 (s->closed), or
 * the error (SMTPW_E_PROTO for any other reply). */
static int early_reply(sess *s)
{
    int rc = 0;
    while (s->inlen < sizeof s->in) {
        size_t got = 0;
        uint32_t wait = SMTPW_WANT_READ;
        rc = s->io->read(s->io_ctx, s->fd, s->in + s->inlen, sizeof s->in - s->inlen, &got,
                         &wait);
        if (rc != 0 || got == 0 || got > sizeof s->in - s->inlen)
            break;
        s->inlen += got;
    }
    if (s->inlen == 0)
        return rc == SMTPW_E_AGAIN ? 0 : smtpw__posix_io_failed(s, rc == 0 ? SMTPW_E_CLOSED : rc);
    rc = smtpw__posix_read_reply(s);
    if (rc)
        return rc;
    /* the 421 took the message with it */
    s->closing.cmd = SMTPW_CMD_BODY;
    return SMTPW_E_CLOSED;
}

/* Stuff the body into large writes; the last one carries ".\r\n". */
static int send_body(sess *s, const uint8_t *body, size_t len, int with_body)
{
    static const size_t end_room = 5; /* CRLF "." CRLF */
    uint8_t out[BODYBUF];
    size_t olen = 0, off = 0, w;
    int rc;
    char note[64];
    if (with_body) {
        while (off < len) {
            size_t used = 0;
            w = 0;
            rc = smtpw_client_body_encode(s->c, body + off, len - off, &used, out + olen,
                                          sizeof out - end_room - olen, &w);
            if (rc < 0)
                return rc;
            off += used;
            olen += w;
            if (off < len && (used == 0 || olen > sizeof out / 2)) {
                if (used == 0 && w == 0 && olen == 0)
                    return SMTPW_E_NOBUF; /* cannot happen with a 64 KiB buffer */
                rc = early_reply(s);
                if (rc == 0)
                    rc = write_all(s, out, olen, SMTPW_TIMEOUT_DATA_BLOCK);
                if (rc)
                    return rc;
                olen = 0;
            }
        }
    }
    /* last chance to see an early reply: after body_end() the core
     * would take it for the answer to the dot */
    rc = early_reply(s);
    if (rc)
        return rc;
    w = 0;
    rc = smtpw_client_body_end(s->c, out + olen, sizeof out - olen, &w);
    if (rc < 0)
        return rc;
    olen += w;
    if (s->o->trace) {
        int k = snprintf(note, sizeof note, "(message body, %lu octets, and \".\")",
                         (unsigned long)(with_body ? len : 0));
        smtpw__posix_trace(s, SMTPW_POSIX_TRACE_CLIENT, note, k > 0 ? (size_t)k : 0);
    }
    return write_all(s, out, olen, SMTPW_TIMEOUT_DATA_BLOCK);
}

/* The attempt ended on this reply. */
static int stop_at(sess *s, uint32_t stage, const smtpw_posix_reply *rep)
{
    s->r->stage = stage;
    if (rep)
        smtpw__posix_copy_reply(&s->r->reply, rep);
    return 0;
}

/* Say goodbye; nothing after this changes the outcome. */
static void quit(sess *s)
{
    int rc;
    for (;;) {
        rc = smtpw_client_quit(s->c);
        if (rc != SMTPW_E_AGAIN)
            break;
        if (smtpw__posix_make_room(s))
            return;
    }
    if (rc == 0) {
        await_push(s, SMTPW_CMD_QUIT);
        (void)smtpw__posix_read_reply(s);
    }
}

/* Abandon the transaction politely (RFC 5321 4.1.1.5); the session stays
 * usable.  Returns 0 or the error. */
static int rset(sess *s)
{
    int rc;
    for (;;) {
        rc = smtpw_client_rset(s->c);
        if (rc != SMTPW_E_AGAIN)
            break;
        rc = smtpw__posix_make_room(s);
        if (rc)
            return rc;
    }
    if (rc)
        return rc;
    await_push(s, SMTPW_CMD_RSET);
    return smtpw__posix_read_reply(s);
}

/* Abandon the transaction and quit. */
static void rset_quit(sess *s)
{
    if (rset(s) == 0)
        quit(s);
}

/* Queue a command, taking replies until the core accepts it. */
#define QUEUE(s, cmd, call, rc)                                                               \
    do {                                                                                      \
        while (((rc) = (call)) == SMTPW_E_AGAIN) {                                            \
            if (((rc) = smtpw__posix_make_room(s)) != 0)                                      \
                break;                                                                        \
        }                                                                                     \
        if ((rc) == 0)                                                                        \
            await_push((s), (cmd));                                                           \
    } while (0)

/* EHLO, or HELO when EHLO is not recognised (RFC 5321 4.1.4).  Returns 0
 * after a 2xx, 1 when the attempt ended on the reply (recorded), or < 0. */
static int hello(sess *s, smtpw_span helo)
{
    int rc;
    QUEUE(s, SMTPW_CMD_EHLO, smtpw_client_ehlo(s->c, helo.ptr, helo.len), rc);
    if (rc == 0)
        rc = smtpw__posix_read_reply(s);
    if (rc)
        return rc;
    if (s->hello.code == 500 || s->hello.code == 502) {
        QUEUE(s, SMTPW_CMD_HELO, smtpw_client_helo(s->c, helo.ptr, helo.len), rc);
        if (rc == 0)
            rc = smtpw__posix_read_reply(s);
        if (rc)
            return rc;
    }
    if (!is2xx(s->hello.code)) {
        if (s->hello.code != 421)
            quit(s);
        stop_at(s, s->hello.cmd, &s->hello);
        return 1;
    }
    return 0;
}

/* RFC 3207 4.2: after the 220 the server must send nothing until the
 * handshake, and in TLS the client speaks first, so every byte already
 * here or readable now was sent in clear and could have been injected
 * (the client's side of CVE-2011-0411): drop it, never parse it. */
static int drain_clear(sess *s)
{
    size_t dropped = s->inlen;
    char msg[96];
    s->inlen = 0;
    while (dropped <= DRAIN_MAX) {
        size_t got = 0;
        uint32_t wait = SMTPW_WANT_READ;
        int rc = s->io->read(s->io_ctx, s->fd, s->in, sizeof s->in, &got, &wait);
        if (rc != 0 || got == 0 || got > sizeof s->in)
            break; /* AGAIN: all gone; EOF or an error: the handshake will fail */
        dropped += got;
    }
    if (dropped > 0) {
        int k = snprintf(msg, sizeof msg,
                         "discarded %lu octets sent in clear after the 220 (RFC 3207 4.2)",
                         (unsigned long)dropped);
        if (k > 0)
            smtpw__posix_trace(s, SMTPW_POSIX_TRACE_INFO, msg, (size_t)k);
    }
    return dropped > DRAIN_MAX ? SMTPW_E_TLS : 0;
}

/* Run the starttls hook to completion, bounded like a command. */
static int handshake(sess *s)
{
    uint64_t deadline = smtpw_posix_now_ms() + smtpw__posix_wait_ms(s, SMTPW_TIMEOUT_COMMAND);
    for (;;) {
        uint32_t wait = SMTPW_WANT_READ;
        int rc = s->io->starttls(s->io_ctx, s->fd, &wait);
        if (rc == 0)
            return 0;
        if (rc != SMTPW_E_AGAIN)
            return SMTPW_E_TLS;
        rc = smtpw__posix_wait(s->fd, smtpw__posix_poll_events(wait), deadline);
        if (rc)
            return rc;
    }
}

/* The TLS policy after the first 2xx EHLO (RFC 3207).  Returns 0 to go on
 * (in TLS after a fresh EHLO, or in clear when the policy allows), 1 when
 * the attempt ended on a reply (recorded), or < 0: SMTPW_E_TLS with
 * s->r->reply saying why, or another error. */
static int start_tls(sess *s, smtpw_span helo)
{
    int rc;
    if (!(smtpw_client_extensions(s->c) & SMTPW_EXT_STARTTLS) || !s->io->starttls) {
        if (s->tls == SMTPW_POSIX_TLS_REQUIRE) {
            smtpw__posix_copy_reply(&s->r->reply, &s->hello);
            quit(s);
            return SMTPW_E_TLS;
        }
        note(s, s->io->starttls ? "STARTTLS not offered: continuing without TLS"
                                : "no starttls hook: continuing without TLS");
        return 0;
    }
    QUEUE(s, SMTPW_CMD_STARTTLS, smtpw_client_starttls(s->c), rc);
    if (rc == 0)
        rc = smtpw__posix_read_reply(s);
    if (rc)
        return rc;
    if (s->closed) {
        stop_at(s, s->closing.cmd, &s->closing);
        return 1;
    }
    if (s->starttls.code != 220) {
        /* RFC 3207 4: the session stays usable in clear after a refusal */
        if (s->tls == SMTPW_POSIX_TLS_REQUIRE) {
            smtpw__posix_copy_reply(&s->r->reply, &s->starttls);
            quit(s);
            return SMTPW_E_TLS;
        }
        note(s, "STARTTLS refused: continuing without TLS");
        return 0;
    }
    /* a failed handshake leaves no usable session: no QUIT in clear */
    memset(&s->r->reply, 0, sizeof s->r->reply);
    rc = drain_clear(s);
    if (rc == 0)
        rc = handshake(s);
    if (rc == 0)
        rc = smtpw_client_tls_started(s->c);
    if (rc)
        return SMTPW_E_TLS;
    note(s, "TLS started");
    /* RFC 3207 4.2: forget what the server said before; ask again */
    memset(&s->hello, 0, sizeof s->hello);
    return hello(s, helo);
}

/* Every recipient accepted in this transaction now has the message. */
static void mark_delivered(sess *s)
{
    uint32_t *st = s->o->rcpt_status;
    size_t i;
    if (st)
        for (i = 0; i < s->o->nrcpt; i++)
            if (st[i] == SMTPW__POSIX_ST_ACCEPTED)
                st[i] = SMTPW_POSIX_RCPT_DELIVERED;
    s->r->delivered = 1;
    s->r->transactions++;
    s->r->delivered_rcpts += s->txn_accepted;
}

/* Recipients a 452 postponed to the next transaction. */
static int more_pending(const sess *s)
{
    const uint32_t *st = s->o->rcpt_status;
    size_t i;
    if (st)
        for (i = 0; i < s->o->nrcpt; i++)
            if (st[i] == SMTPW__POSIX_ST_PENDING)
                return 1;
    return 0;
}

/* One mail transaction (RFC 5321 3.3) for the recipients still pending.
 * Returns 0 when the message was accepted (another may follow), 1 when
 * the transaction ended otherwise (recorded with stop_at; RSET sent when
 * the session is still usable), or < 0. */
static int transaction(sess *s, uint64_t size, uint32_t mflags, int pipelined)
{
    const smtpw_posix_send_config *o = s->o;
    uint32_t *st = o->rcpt_status;
    /* the RESET policies decide on every RCPT reply before DATA: never a
     * 354 they would have to answer with a message or a dropped line */
    int data_in_flight = pipelined && o->rcpt_policy == SMTPW_POSIX_RCPT_SEND_ACCEPTED;
    int rc, reset;
    size_t i;

    memset(&s->mail, 0, sizeof s->mail);
    memset(&s->data, 0, sizeof s->data);
    memset(&s->body, 0, sizeof s->body);
    memset(&s->first_temp, 0, sizeof s->first_temp);
    memset(&s->first_any, 0, sizeof s->first_any);
    s->txn_accepted = 0;
    s->txn_temp = s->txn_perm = 0;
    s->rcur = 0;

    QUEUE(s, SMTPW_CMD_MAIL, smtpw_client_mail(s->c, o->from.ptr, o->from.len, size, mflags,
                                               NULL, 0), rc);
    if (rc) {
        if (rc == SMTPW_E_8BIT || rc == SMTPW_E_SIZE || rc == SMTPW_E_INVALID_ARG ||
            rc == SMTPW_E_SYNTAX || rc == SMTPW_E_TOOLONG)
            quit(s);
        return rc;
    }
    for (i = 0; i < o->nrcpt; i++) {
        if (st && st[i] != SMTPW__POSIX_ST_PENDING)
            continue;
        /* without pipelining, a refused MAIL ends the transaction here */
        if (s->mail.code && !is2xx(s->mail.code))
            break;
        QUEUE(s, SMTPW_CMD_RCPT, smtpw_client_rcpt(s->c, o->rcpt[i].ptr, o->rcpt[i].len, NULL, 0),
              rc);
        if (rc == SMTPW_E_STATE && s->mail.code)
            break;
        if (rc == SMTPW_E_INVALID_ARG || rc == SMTPW_E_SYNTAX || rc == SMTPW_E_TOOLONG) {
            /* a bad address: nothing was sent for it; give up cleanly */
            while (smtpw_client_pending(s->c) > 0 && smtpw__posix_read_reply(s) == 0)
                ;
            rset_quit(s);
            return rc;
        }
        if (rc)
            return rc;
        if (st)
            st[i] = SMTPW__POSIX_ST_ASKED;
    }
    /* RFC 2920 3.1: DATA may end the pipelined group */
    if (data_in_flight && (s->mail.code == 0 || is2xx(s->mail.code))) {
        QUEUE(s, SMTPW_CMD_DATA, smtpw_client_data(s->c), rc);
        if (rc)
            return rc;
    }
    /* one flight out, then every reply in order */
    rc = smtpw__posix_flush(s);
    while (rc == 0 && !s->closed && smtpw_client_pending(s->c) > 0)
        rc = smtpw__posix_read_reply(s);
    if (rc)
        return rc;
    if (s->closed)
        return stop_at(s, s->closing.cmd, &s->closing) + 1;

    if (!is2xx(s->mail.code)) {
        if (s->mail.code != 421 && (rc = rset(s)) != 0)
            return rc;
        return stop_at(s, SMTPW_CMD_MAIL, &s->mail) + 1;
    }
    reset = s->txn_accepted > 0 &&
            ((o->rcpt_policy == SMTPW_POSIX_RCPT_RESET_ON_TEMP && s->txn_temp) ||
             (o->rcpt_policy == SMTPW_POSIX_RCPT_RESET_ON_ANY && (s->txn_temp || s->txn_perm)));
    if (reset) {
        /* RFC 5321 4.1.1.5: abandon the transaction before DATA, so the
         * recipients accepted get nothing now and all of them can be sent
         * to again later without a second copy */
        if ((rc = rset(s)) != 0)
            return rc;
        return stop_at(s, SMTPW_CMD_RCPT,
                       o->rcpt_policy == SMTPW_POSIX_RCPT_RESET_ON_TEMP ? &s->first_temp
                                                                        : &s->first_any) +
               1;
    }
    if (!data_in_flight && s->txn_accepted > 0) {
        QUEUE(s, SMTPW_CMD_DATA, smtpw_client_data(s->c), rc);
        if (rc == 0)
            rc = smtpw__posix_read_reply(s);
        if (rc)
            return rc;
    }
    if (s->data.code == 354) {
        /* with no recipient accepted yet DATA 354 (RFC 2920 3.1), end the
         * data at once: an empty message the server must refuse */
        await_push(s, SMTPW_CMD_BODY);
        rc = send_body(s, o->body, o->bodylen, s->txn_accepted > 0);
        if (rc == 0)
            rc = smtpw__posix_read_reply(s);
        if (rc)
            return rc;
        if (s->txn_accepted == 0) {
            if (s->body.code != 421 && (rc = rset(s)) != 0)
                return rc;
            return stop_at(s, SMTPW_CMD_RCPT, NULL) + 1;
        }
        stop_at(s, SMTPW_CMD_BODY, &s->body);
        if (!is2xx(s->body.code))
            return 1;
        mark_delivered(s);
        return 0;
    }
    if (s->txn_accepted == 0) {
        if (s->data.code != 421 && !s->closed && (rc = rset(s)) != 0)
            return rc;
        return stop_at(s, SMTPW_CMD_RCPT, NULL) + 1;
    }
    if (s->data.code != 421 && (rc = rset(s)) != 0)
        return rc;
    return stop_at(s, SMTPW_CMD_DATA, &s->data) + 1;
}

static int run(sess *s)
{
    const smtpw_posix_send_config *o = s->o;
    smtpw_span helo = o->helo;
    uint32_t ext;
    uint32_t mflags = 0;
    int eightbit, rc, pipelined;
    uint64_t size = canonical_size(o->body, o->bodylen, &eightbit);
    size_t i;

    if (helo.len == 0) { /* no name given: the address literal (smtpw__posix_default_helo()) */
        helo.ptr = s->helo;
        helo.len = strlen(s->helo);
    }
    /* RFC 5321 3.1: wait for the greeting; on anything but 220, QUIT */
    await_push(s, SMTPW_CMD_GREETING);
    rc = smtpw__posix_read_reply(s);
    if (rc)
        return rc;
    if (s->greeting.code != 220) {
        if (s->greeting.code != 421)
            quit(s);
        return stop_at(s, SMTPW_CMD_GREETING, &s->greeting);
    }

    rc = hello(s, helo);
    if (rc == 0 && s->tls != SMTPW_POSIX_TLS_NEVER)
        rc = start_tls(s, helo);
    if (rc)
        return rc > 0 ? 0 : rc;

    ext = smtpw_client_extensions(s->c);
    if (eightbit)
        mflags |= SMTPW_MAIL_8BIT;
    if (smtpw__has_8bit(o->from.ptr, o->from.len))
        mflags |= SMTPW_MAIL_SMTPUTF8;
    for (i = 0; i < o->nrcpt; i++)
        if (smtpw__has_8bit(o->rcpt[i].ptr, o->rcpt[i].len))
            mflags |= SMTPW_MAIL_SMTPUTF8;
    if ((mflags & SMTPW_MAIL_SMTPUTF8) && !(ext & SMTPW_EXT_SMTPUTF8)) {
        quit(s);
        return SMTPW_E_NOTSUP;
    }
    pipelined = (ext & SMTPW_EXT_PIPELINING) != 0;

    if (o->rcpt_status)
        for (i = 0; i < o->nrcpt; i++)
            o->rcpt_status[i] = SMTPW__POSIX_ST_PENDING;
    /* RFC 5321 4.5.3.1.10: recipients a 452 postponed go in the next
     * transaction, as long as each one delivers */
    do
        rc = transaction(s, size, mflags, pipelined);
    while (rc == 0 && more_pending(s));
    if (rc < 0)
        return rc;
    if (!s->closed)
        quit(s);
    return 0;
}

/* No rcpt_status is left in a running state: what was not delivered or
 * refused was not sent. */
static void finish_status(const smtpw_posix_send_config *o)
{
    size_t i;
    if (o->rcpt_status)
        for (i = 0; i < o->nrcpt; i++)
            if (o->rcpt_status[i] != SMTPW_POSIX_RCPT_DELIVERED &&
                o->rcpt_status[i] != SMTPW_POSIX_RCPT_REFUSED)
                o->rcpt_status[i] = SMTPW_POSIX_RCPT_NOT_SENT;
}

/* The transaction, all checks done; fills *res (ours, full size). */
static int send_fd(int fd, const smtpw_posix_send_config *opts, smtpw_posix_send_result *res)
{
    static const int one = 1;
    core_mem mem;
    sess s;
    int rc, fl;

    rc = fd < 0 ? SMTPW_E_INVALID_ARG : 0;
    if (rc == 0 && smtpw_client_sizeof() > sizeof mem)
        rc = SMTPW_E_NOBUF;
    if (rc == 0) {
        /* RFC 6531: UTF-8 addresses get SMTPUTF8 on MAIL, from run() */
        memset(&s, 0, sizeof s);
        s.fd = fd;
        s.o = opts;
        s.r = res;
        s.io = opts->io ? opts->io : smtpw_posix_io_plain();
        s.io_ctx = opts->io_ctx;
        s.tls = opts->tls;
        if (!s.io->read || !s.io->write)
            rc = SMTPW_E_INVALID_ARG;
        if (rc == 0)
            rc = smtpw_client_init(&mem, sizeof mem, NULL, &s.c);
    }
    if (rc == 0) {
        fl = fcntl(fd, F_GETFL);
        if (fl < 0 || fcntl(fd, F_SETFL, fl | O_NONBLOCK) < 0)
            rc = SMTPW_E_IO;
    }
    if (rc) {
        res->err = rc;
        return rc;
    }
    /* commands and the body go out in whole writes: no Nagle delay (fails
     * harmlessly on a socketpair) */
    (void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    smtpw__posix_default_helo(fd, s.helo, sizeof s.helo);
    rc = run(&s);
    finish_status(opts);
    if (s.closed && res->stage == SMTPW_CMD_NONE) {
        /* a 421 ended it, whatever the next step then tripped on */
        (void)stop_at(&s, s.closing.cmd, &s.closing);
        rc = 0;
    }
    if (rc) {
        /* also after a delivery: a later transaction of a 452 split broke */
        res->err = rc;
        res->stage = SMTPW_CMD_NONE;
        if (rc == SMTPW_E_IO || rc == SMTPW_E_TIMEOUT || rc == SMTPW_E_PROTO) {
            memset(&res->reply, 0, sizeof res->reply);
            res->reply.cmd = awaited(&s);
        }
        if (rc == SMTPW_E_IO)
            res->os_error = s.os_error;
        return rc;
    }
    return 0;
}

int smtpw_posix_send_fd(int fd, const smtpw_posix_send_config *cfg, smtpw_posix_send_result *res,
                        size_t ressize)
{
    smtpw_posix_send_config o;
    smtpw_posix_send_result r;
    int rc;
    if (!res)
        return SMTPW_E_INVALID_ARG;
    rc = smtpw__posix_send_prepare(cfg, &o, &r);
    if (rc == 0)
        rc = send_fd(fd, &o, &r);
    return smtpw__posix_give_result(&r, res, ressize, rc);
}

int smtpw_posix_send(const char *host, const char *port, const smtpw_posix_send_config *cfg,
                     smtpw_posix_send_result *res, size_t ressize)
{
    smtpw_posix_send_config o;
    smtpw_posix_send_result r;
    int fd = -1, rc;
    if (!res)
        return SMTPW_E_INVALID_ARG;
    rc = smtpw__posix_send_prepare(cfg, &o, &r);
    if (rc == 0) {
        rc = smtpw_posix_connect(host, port, o.connect_timeout_ms, &fd);
        if (rc == SMTPW_E_IO)
            r.os_error = errno;
    }
    if (rc) {
        r.err = rc;
        return smtpw__posix_give_result(&r, res, ressize, rc);
    }
    rc = send_fd(fd, &o, &r);
    if (o.io && o.io->close)
        o.io->close(o.io_ctx, fd);
    else
        close(fd);
    return smtpw__posix_give_result(&r, res, ressize, rc);
}
