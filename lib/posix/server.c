/* POSIX adapter, server half: drives one smtpw_server core per connection
 * from a caller's poll() loop.  Every session reads into one scratch buffer
 * shared by the loop; only bytes the core has not consumed yet (a partial
 * command line, or a pipelined rest while a reply is deferred) are kept per
 * session, in a pool slot (or heap block) that is returned once it is empty
 * and no event handed out still points into it: at the session's next step.
 * SPDX-License-Identifier: MIT */
#if !defined(_POSIX_C_SOURCE) || _POSIX_C_SOURCE < 200809L
#undef _POSIX_C_SOURCE
#define _POSIX_C_SOURCE 200809L
#endif

#include <poll.h>
#include <stdlib.h>
#include <unistd.h>

#include "internal.h"
#include "smtpwire/posix.h"

struct smtpw_posix_shared {
    uint8_t *scratch;
    size_t scratch_len;
    uint8_t *pool;
    size_t nslots;
    size_t fresh;        /* slots below this index have been handed out once */
    uint8_t *free_head;  /* returned slots; each stores the next pointer */
    smtpw_posix_server *owner; /* session whose unconsumed input sits in scratch */
    uint32_t slot_size;
    uint32_t flags;
    uint32_t timeout_ms;
};

/* smtpw_posix_server.flags */
#define F_READABLE 0x001u   /* poll said readable and we have not drained it */
#define F_IN_SCRATCH 0x002u /* in points into the shared scratch buffer */
#define F_HOLD_HEAP 0x004u  /* hold came from malloc, not the pool */
#define F_WBLOCK 0x008u     /* a write would block: wait for c->wait */
#define F_RBLOCK_W 0x010u   /* a (TLS) read wants the socket writable */
#define F_HANDSHAKE 0x020u  /* running the STARTTLS handshake */
#define F_CLOSED 0x040u     /* fd closed, err is final */
#define F_PROGRESS 0x080u   /* something moved since the deadline was last set */

/* Bytes that complete nothing (a body, a refused body being dropped, an
 * over-long line being discarded) each push the deadline back this much,
 * never past now + the timeout.  A peer must complete commands or keep up
 * 100 octets a second, else it times out: one byte a second cannot hold a
 * session forever (slowloris).  RFC 5321 4.5.3.2 bounds each wait; it does
 * not ask a server to wait on a body that never ends. */
#define CREDIT_MS_PER_BYTE 10u

struct smtpw_posix_server {
    smtpw_posix_shared *sh;
    const smtpw_posix_io *io;
    void *io_ctx;
    const uint8_t *in; /* unconsumed input, in scratch or in hold */
    uint8_t *hold;     /* the slot or heap block holding input between steps; may
                          be empty (in_len 0) while the last event points into it */
    uint64_t deadline;
    uint64_t credit; /* body-like bytes consumed since the deadline was last set */
    size_t in_len;
    uint32_t flags;
    uint32_t wait; /* SMTPW_WANT_READ/WRITE the blocked hook asked for */
    int fd;
    int err; /* the terminal result, or an error to report at the next step */
};

/* The core lives right behind the adapter state, at an offset that keeps
 * it SMTPW_STATE_ALIGN-aligned when the session's memory is. */
#define CORE_OFF ((sizeof(struct smtpw_posix_server) + 15u) & ~(size_t)15u)
struct align_probe_shared {
    char c;
    smtpw_posix_shared s;
};
struct align_probe_server {
    char c;
    smtpw_posix_server s;
};
typedef char smtpw__posix_align_check[CORE_OFF % SMTPW_STATE_ALIGN == 0 &&
                                              SMTPW_STATE_ALIGN % offsetof(struct align_probe_shared, s) == 0 &&
                                              SMTPW_STATE_ALIGN % offsetof(struct align_probe_server, s) == 0
                                          ? 1
                                          : -1];
#define CORE(c) ((smtpw_server *)(void *)((uint8_t *)(c) + CORE_OFF))
#define CCORE(c) ((const smtpw_server *)(const void *)((const uint8_t *)(c) + CORE_OFF))

static const uint8_t no_input[1] = {0};

int smtpw_posix_shared_config_init(smtpw_posix_shared_config *cfg, uint32_t version)
{
    if (!cfg)
        return SMTPW_E_INVALID_ARG;
    if (version != 1)
        return SMTPW_E_VERSION;
    /* version 1 is the whole struct (README "API conventions") */
    memset(cfg, 0, sizeof *cfg);
    cfg->version = version;
    cfg->slot_size = 512;
    return 0;
}

size_t smtpw_posix_shared_sizeof(void)
{
    return sizeof(struct smtpw_posix_shared);
}

int smtpw_posix_shared_init(void *mem, size_t memlen, const smtpw_posix_shared_config *cfg,
                            smtpw_posix_shared **out)
{
    smtpw_posix_shared *sh;
    if (!mem || !cfg || !out || (uintptr_t)mem % SMTPW_STATE_ALIGN != 0)
        return SMTPW_E_INVALID_ARG;
    if (memlen < sizeof *sh)
        return SMTPW_E_NOBUF;
    if (cfg->version != 1)
        return SMTPW_E_VERSION;
    if (!cfg->scratch || cfg->scratch_len < 2048 || cfg->slot_size < 16 ||
        (cfg->pool_len && !cfg->pool))
        return SMTPW_E_INVALID_ARG;
    sh = (smtpw_posix_shared *)mem;
    memset(sh, 0, sizeof *sh);
    sh->scratch = cfg->scratch;
    sh->scratch_len = cfg->scratch_len;
    sh->pool = cfg->pool;
    sh->slot_size = cfg->slot_size;
    sh->nslots = cfg->pool ? cfg->pool_len / cfg->slot_size : 0;
    sh->flags = cfg->flags;
    sh->timeout_ms = cfg->timeout_ms;
    *out = sh;
    return 0;
}

/* ---- holds: the only per-session input storage ---- */

static uint8_t *slot_get(smtpw_posix_shared *sh)
{
    uint8_t *p = sh->free_head;
    if (p) {
        memcpy(&sh->free_head, p, sizeof sh->free_head); /* next-free link in the slot */
        return p;
    }
    /* Hand out untouched slots lazily, so unused pool pages stay unmapped. */
    if (sh->fresh < sh->nslots)
        return sh->pool + sh->fresh++ * sh->slot_size;
    return NULL;
}

/* Only where no event handed to the caller can point into the hold any
 * more: the start of a step, a read or the idle return of a step that has
 * returned no event, the handshake, the session's end.  A released slot
 * gets the free-list link over its first bytes and goes to the next
 * session that parks; a heap block goes back to malloc. */
static void hold_release(smtpw_posix_server *c)
{
    if (!c->hold)
        return;
    if (c->flags & F_HOLD_HEAP) {
        free(c->hold);
    } else {
        memcpy(c->hold, &c->sh->free_head, sizeof c->sh->free_head);
        c->sh->free_head = c->hold;
    }
    c->hold = NULL;
    c->flags &= ~F_HOLD_HEAP;
}

/* Move a session's unconsumed input out of the scratch buffer, which the
 * next read of any session overwrites. */
static int park(smtpw_posix_server *c)
{
    smtpw_posix_shared *sh = c->sh;
    uint8_t *h = NULL;
    if (!(c->flags & F_IN_SCRATCH))
        return 0;
    c->flags &= ~F_IN_SCRATCH;
    hold_release(c); /* do_read dropped it already; never leak one */
    if (sh->owner == c)
        sh->owner = NULL;
    if (c->in_len == 0) {
        c->in = NULL;
        return 0;
    }
    if (c->in_len <= sh->slot_size)
        h = slot_get(sh);
    if (h) {
        c->flags &= ~F_HOLD_HEAP;
    } else {
        if (sh->flags & SMTPW_POSIX_NO_MALLOC)
            h = NULL;
        else
            h = (uint8_t *)malloc(c->in_len);
        if (!h) {
            c->in = NULL;
            c->in_len = 0;
            return SMTPW_E_NOBUF;
        }
        c->flags |= F_HOLD_HEAP;
    }
    memcpy(h, c->in, c->in_len);
    c->hold = h;
    c->in = h;
    return 0;
}

/* The event returned with these bytes may point into them: an emptied
 * hold stays until the session's next step (released there, in do_read or
 * at the idle return), never before the caller has seen that event. */
static void consume(smtpw_posix_server *c, size_t n)
{
    c->in += n;
    c->in_len -= n;
    if (c->in_len == 0)
        c->in = NULL;
}

/* ---- session lifetime ---- */

static int finish(smtpw_posix_server *c, int err)
{
    hold_release(c);
    if (c->sh->owner == c)
        c->sh->owner = NULL;
    c->in = NULL;
    c->in_len = 0;
    if (c->fd >= 0) {
        if (c->io->close)
            c->io->close(c->io_ctx, c->fd);
        else
            (void)close(c->fd);
    }
    c->fd = -1;
    c->flags = F_CLOSED;
    c->err = err;
    c->deadline = 0;
    return err;
}

/* End with a 421 (RFC 5321 3.8): one write attempt, never waiting. */
static int abort_with(smtpw_posix_server *c, int err)
{
    smtpw_server *core = CORE(c);
    const uint8_t *out;
    size_t len = 0, sent = 0;
    uint32_t wait = 0;
    (void)smtpw_server_shutdown(core);
    out = smtpw_server_output(core, &len);
    if (len && !(c->flags & (F_WBLOCK | F_HANDSHAKE)))
        (void)c->io->write(c->io_ctx, c->fd, out, len, &sent, &wait);
    return finish(c, err);
}

static uint64_t timeout_ms(const smtpw_posix_server *c, uint32_t kind)
{
    if (c->sh->timeout_ms)
        return c->sh->timeout_ms;
    return (uint64_t)smtpw_timeout_seconds(kind) * 1000u;
}

/* Which timeout runs while the session waits for the peer. */
static uint32_t waiting_kind(const smtpw_posix_server *c)
{
    uint32_t kind = smtpw_server_timeout(CCORE(c));
    if (kind == SMTPW_TIMEOUT_NONE && (c->flags & (F_WBLOCK | F_HANDSHAKE)))
        kind = SMTPW_TIMEOUT_SERVER; /* a peer that does not read or handshake */
    return kind;
}

size_t smtpw_posix_server_sizeof(void)
{
    return CORE_OFF + smtpw_server_sizeof();
}

int smtpw_posix_server_init(void *mem, size_t memlen, smtpw_posix_shared *shared, int fd,
                            const smtpw_server_config *cfg, const smtpw_posix_io *io,
                            void *io_ctx, uint64_t now_ms, smtpw_posix_server **out)
{
    smtpw_posix_server *c;
    smtpw_server *core;
    uint32_t kind;
    int rc;
    if (!mem || !shared || !io || !out || fd < 0 || (uintptr_t)mem % SMTPW_STATE_ALIGN != 0)
        return SMTPW_E_INVALID_ARG;
    if (io->version != 1)
        return SMTPW_E_VERSION;
    if (!io->read || !io->write)
        return SMTPW_E_INVALID_ARG;
    if (memlen < smtpw_posix_server_sizeof())
        return SMTPW_E_NOBUF;
    rc = smtpw_server_init((uint8_t *)mem + CORE_OFF, memlen - CORE_OFF, cfg, &core);
    if (rc < 0)
        return rc;
    /* A partial command line plus a read must fit the scratch buffer. */
    if ((size_t)(cfg ? cfg->max_command_line : SMTPW_MAX_COMMAND_LINE) * 2u > shared->scratch_len)
        return SMTPW_E_INVALID_ARG;
    c = (smtpw_posix_server *)mem;
    memset(c, 0, sizeof *c);
    c->sh = shared;
    c->io = io;
    c->io_ctx = io_ctx;
    c->fd = fd;
    kind = waiting_kind(c);
    c->deadline = kind == SMTPW_TIMEOUT_NONE ? 0 : now_ms + timeout_ms(c, kind);
    *out = c;
    return 0;
}

smtpw_server *smtpw_posix_server_core(smtpw_posix_server *c)
{
    return c ? CORE(c) : NULL;
}

/* Read once into the scratch buffer, behind the bytes the session already
 * has (a partial line), so the core sees one contiguous run. */
static int do_read(smtpw_posix_server *c, size_t *got)
{
    smtpw_posix_shared *sh = c->sh;
    smtpw_posix_server *o = sh->owner;
    size_t have = c->in_len, cap;
    int rc;
    uint32_t wait = SMTPW_WANT_READ;
    *got = 0;
    if (o && o != c && park(o) < 0) {
        /* o's bytes are lost: end o at its next step (deadline 1 = now). */
        o->err = SMTPW_E_NOBUF;
        o->deadline = 1;
    }
    sh->owner = NULL;
    if (have) {
        if (c->flags & F_IN_SCRATCH)
            memmove(sh->scratch, c->in, have);
        else
            memcpy(sh->scratch, c->in, have);
    }
    hold_release(c); /* copied or empty; no event of this step points into it */
    c->in = sh->scratch;
    c->flags |= F_IN_SCRATCH;
    sh->owner = c;
    cap = sh->scratch_len - have;
    if (cap == 0)
        return SMTPW_E_NOBUF;
    rc = c->io->read(c->io_ctx, c->fd, sh->scratch + have, cap, got, &wait);
    if (rc == 0) {
        c->in_len = have + *got;
        if (*got < cap)
            c->flags &= ~F_READABLE; /* drained this readiness: no EAGAIN probe */
    } else if (rc == SMTPW_E_AGAIN) {
        c->flags &= ~F_READABLE;
        if (wait & SMTPW_WANT_WRITE)
            c->flags |= F_RBLOCK_W;
    }
    return rc;
}

/* Start or continue the STARTTLS handshake (RFC 3207 4). */
static int handshake(smtpw_posix_server *c)
{
    uint32_t wait = 0;
    int rc;
    if (!(c->flags & F_HANDSHAKE)) {
        /* Plaintext pipelined after STARTTLS must never reach the TLS
         * session (RFC 3207 4.2; the CVE-2011-0411 injection class). */
        if (c->sh->owner == c)
            c->sh->owner = NULL;
        c->flags &= ~F_IN_SCRATCH;
        c->in_len = 0;
        c->in = NULL;
        hold_release(c);
        c->flags |= F_HANDSHAKE;
    }
    if (!c->io->starttls)
        return SMTPW_E_TLS;
    rc = c->io->starttls(c->io_ctx, c->fd, &wait);
    if (rc == SMTPW_E_AGAIN) {
        c->wait = wait ? wait : SMTPW_WANT_READ;
        return rc;
    }
    if (rc < 0)
        return SMTPW_E_TLS;
    c->flags &= ~F_HANDSHAKE;
    c->wait = 0;
    if (smtpw_server_tls_started(CORE(c)) < 0)
        return SMTPW_E_TLS;
    return 0;
}

/* Run (or go on with) the STARTTLS handshake: SMTPW_EV_TLS_STARTED once it
 * is done, SMTPW_E_AGAIN while it waits for the socket; otherwise the
 * session is over and its error comes back. */
static int tls_step(smtpw_posix_server *c, smtpw_event *ev, size_t evsize)
{
    int rc = handshake(c);
    if (rc == SMTPW_E_AGAIN)
        return rc;
    if (rc != 0)
        return finish(c, rc);
    memset(ev, 0, evsize); /* all of it is the caller's (api.md B) */
    ev->type = SMTPW_EV_TLS_STARTED;
    ev->cmd = SMTPW_CMD_STARTTLS;
    c->flags |= F_PROGRESS;
    return SMTPW_EV_TLS_STARTED;
}

int smtpw_posix_server_step(smtpw_posix_server *c, short revents, uint64_t now_ms,
                            smtpw_event *ev, size_t evsize)
{
    smtpw_server *core;
    uint32_t kind;
    int rc, progress = 0, core_closed = 0;
    if (!c || !ev || evsize < SMTPW_EVENT_MIN_SIZE)
        return SMTPW_E_INVALID_ARG;
    if (c->flags & F_CLOSED)
        return c->err;
    /* The caller is done with the last event: an emptied hold can go. */
    if (c->in_len == 0)
        hold_release(c);
    if (c->err)
        return abort_with(c, c->err);
    if (revents & POLLNVAL)
        return finish(c, SMTPW_E_IO);
    core = CORE(c);
    if (revents & (POLLIN | POLLHUP | POLLERR))
        c->flags |= F_READABLE;
    if (revents & (POLLOUT | POLLHUP | POLLERR)) {
        c->flags &= ~F_WBLOCK;
        if (c->flags & F_RBLOCK_W)
            c->flags = (c->flags & ~F_RBLOCK_W) | F_READABLE;
    }
    if (c->flags & F_HANDSHAKE) {
        if (revents == 0 && !(c->deadline && now_ms >= c->deadline))
            goto idle;
        rc = tls_step(c, ev, evsize);
        if (rc != SMTPW_E_AGAIN)
            return rc;
        goto idle;
    }

    for (;;) {
        uint32_t want = smtpw_server_want(core);
        const uint8_t *out;
        size_t used = 0, outlen = 0, got = 0;
        uint32_t wait = SMTPW_WANT_WRITE;

        /* 1. Let the core work through what it has. */
        if (!(want & SMTPW_WANT_REPLY)) {
            /* The core goes through input that makes no event (NOOP...)
             * by itself; NONE means it cannot go on (api.md A). */
            rc = smtpw_server_recv(core, c->in_len ? c->in : no_input, c->in_len, &used, ev,
                                   evsize);
            if (used) {
                consume(c, used);
                /* Body bytes and dropped bytes only earn credit; a command
                 * shows up as an event or as a reply written. */
                if (rc == SMTPW_EV_BODY || rc == SMTPW_EV_NONE)
                    c->credit += used;
                else
                    progress = 1;
            }
            if (rc == SMTPW_EV_STARTTLS) {
                rc = tls_step(c, ev, evsize);
                if (rc != SMTPW_E_AGAIN)
                    return rc;
                progress = 1;
                goto idle;
            }
            if (rc > 0) {
                if (rc != SMTPW_EV_BODY)
                    c->flags |= F_PROGRESS;
                return rc;
            }
            if (rc == SMTPW_E_CLOSED)
                core_closed = 1;
            else if (rc < 0)
                return finish(c, rc);
            if (used)
                continue;
            want = smtpw_server_want(core);
        }

        /* 2. No progress: the replies so far go out in one write. */
        out = smtpw_server_output(core, &outlen);
        if (outlen) {
            if (c->flags & F_WBLOCK)
                break;
            rc = c->io->write(c->io_ctx, c->fd, out, outlen, &got, &wait);
            if (rc == 0) {
                smtpw_server_output_ack(core, got);
                progress = 1;
                continue;
            }
            if (rc == SMTPW_E_AGAIN) {
                c->flags |= F_WBLOCK;
                c->wait = wait ? wait : SMTPW_WANT_WRITE;
                break;
            }
            return finish(c, rc == SMTPW_E_TLS ? SMTPW_E_TLS : SMTPW_E_IO);
        }
        if ((want & SMTPW_WANT_CLOSE) || core_closed)
            return finish(c, SMTPW_E_CLOSED);
        if (want & SMTPW_WANT_TLS) {
            rc = tls_step(c, ev, evsize);
            if (rc != SMTPW_E_AGAIN)
                return rc;
            progress = 1;
            goto idle;
        }
        if ((want & SMTPW_WANT_REPLY) || !(want & SMTPW_WANT_READ))
            break;

        /* 3. Output drained and the core wants bytes: read one burst. */
        if (!(c->flags & F_READABLE) &&
            !(c->io->pending && c->io->pending(c->io_ctx) > 0))
            break;
        rc = do_read(c, &got);
        if (rc == 0)
            continue;
        if (rc == SMTPW_E_AGAIN)
            break;
        if (rc == SMTPW_E_CLOSED)
            return finish(c, SMTPW_E_CLOSED); /* the peer went away */
        if (rc == SMTPW_E_NOBUF)
            return abort_with(c, rc);
        return finish(c, rc == SMTPW_E_TLS ? SMTPW_E_TLS : SMTPW_E_IO);
    }

idle:
    if (park(c) < 0)
        return abort_with(c, SMTPW_E_NOBUF);
    if (c->in_len == 0)
        hold_release(c); /* no event goes out: an idle session keeps nothing */
    kind = waiting_kind(c);
    if (kind == SMTPW_TIMEOUT_NONE) {
        c->deadline = 0; /* the application owes a reply: no peer timeout */
    } else if (progress || (c->flags & F_PROGRESS) || c->deadline == 0) {
        c->deadline = now_ms + timeout_ms(c, kind);
    } else if (c->credit) {
        uint64_t cap = now_ms + timeout_ms(c, kind);
        uint64_t more = c->credit > cap / CREDIT_MS_PER_BYTE ? cap : c->credit * CREDIT_MS_PER_BYTE;
        c->deadline = c->deadline >= cap || more >= cap - c->deadline ? cap : c->deadline + more;
    }
    c->credit = 0;
    c->flags &= ~F_PROGRESS;
    if (c->deadline && now_ms >= c->deadline)
        return abort_with(c, SMTPW_E_TIMEOUT); /* RFC 5321 4.5.3.2 */
    return 0;
}

short smtpw_posix_server_events(const smtpw_posix_server *c)
{
    uint32_t want, wait = 0;
    short ev = 0;
    if (!c || (c->flags & F_CLOSED) || c->err)
        return 0;
    if (c->flags & (F_HANDSHAKE | F_WBLOCK)) {
        wait = c->wait;
    } else {
        want = smtpw_server_want(CCORE(c));
        if ((want & SMTPW_WANT_REPLY) || !(want & SMTPW_WANT_READ))
            return 0;
        wait = (c->flags & F_RBLOCK_W) ? SMTPW_WANT_WRITE : SMTPW_WANT_READ;
    }
    if (wait & SMTPW_WANT_READ)
        ev = (short)(ev | POLLIN);
    if (wait & SMTPW_WANT_WRITE)
        ev = (short)(ev | POLLOUT);
    return ev;
}

uint64_t smtpw_posix_server_deadline(const smtpw_posix_server *c)
{
    return c ? c->deadline : 0;
}

size_t smtpw_posix_server_held(const smtpw_posix_server *c)
{
    return c ? c->in_len : 0;
}

int smtpw_posix_server_fd(const smtpw_posix_server *c)
{
    return c ? c->fd : -1;
}

void smtpw_posix_server_close(smtpw_posix_server *c)
{
    if (c && !(c->flags & F_CLOSED))
        (void)finish(c, SMTPW_E_CLOSED);
}
