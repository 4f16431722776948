/*
 * libFuzzer target for the POSIX adapter's server half, driven entirely
 * through its smtpw_posix_io hooks: no socket, no clock, deterministic.
 *
 * Input: 4 header bytes (sessions, pool, slot size, scratch size, core
 * profile, timeout, read size), then data[0] control bytes, then the
 * transcript every session's peer sends (each session is its own
 * connection sending the same bytes, at its own pace).  Control bytes
 * schedule the sessions: step one (with its poll events, or forced
 * revents), answer a decision event now or several steps later, change a
 * session's read size, make its writes block or go short, let time pass,
 * run a session to idle like the example server (DATA_END deferred for
 * the group commit).  When they run out, a default loop plays the example
 * server's poll loop to the end.  Several sessions share one
 * smtpw_posix_shared, so the scratch buffer and pool slots move between
 * them.
 *
 * Invariants (posix.h, smtpw_posix_server_step):
 *  - every span of an event reads back unchanged right before the next
 *    step of any session; spans outside the scratch buffer (a session's
 *    hold) also across other sessions' steps, until that session's next
 *    step (the pooled slot or heap block must not be given back earlier);
 *  - command spans are bytes the peer sent (a substring of the
 *    transcript); body spans too, or the core's static CRLF;
 *  - no crash, no sanitizer report, no leak once every session is closed.
 * SPDX-License-Identifier: MIT
 */
#include <poll.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "smtpwire/posix.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(x)                                                                              \
    do {                                                                                      \
        if (!(x))                                                                             \
            abort();                                                                          \
    } while (0)

#define NSESS 3
#define NSPAN 8
#define SCRATCH_MAX 4096
#define COPY_MAX (NSPAN * SCRATCH_MAX)

/* What one event pointed at, copied when it was returned. */
typedef struct snap {
    int n;
    const uint8_t *ptr[NSPAN];
    size_t len[NSPAN];
    size_t off[NSPAN]; /* into copy */
    uint8_t copy[COPY_MAX];
} snap;

typedef struct sess {
    smtpw_posix_server *c;
    void *mem;
    int open;
    int reinits;
    size_t rpos;      /* transcript bytes read so far */
    size_t rmax;      /* bytes per read at most */
    unsigned wblock;  /* this many writes would block */
    size_t wshort;    /* writes take at most this many bytes (0: all) */
    unsigned rwant_w; /* this many reads want the socket writable (TLS) */
    unsigned tls_again;
    int tls_fail;
    int owed;         /* a decision event waits for our answer */
    int owed_type;
    unsigned owed_code;
    snap last;
} sess;

static struct {
    const uint8_t *t; /* transcript */
    size_t tlen;
    int eof;          /* the peer closes after the transcript */
    int pending_hook; /* pretend a TLS layer holds the unread bytes */
    uint8_t scratch[SCRATCH_MAX];
    size_t scratch_len;
    uint8_t pool[8 * 512];
    uint64_t shmem[64];
    smtpw_posix_shared *sh;
    smtpw_server_config cfg;
    sess s[NSESS];
    int ns;
    uint64_t now;
} F;

/* ---- the fake peer, through the hooks ---- */

static int h_read(void *ctx, int fd, uint8_t *buf, size_t cap, size_t *got, uint32_t *wait)
{
    sess *s = (sess *)ctx;
    size_t n = F.tlen - s->rpos;
    (void)fd;
    CHECK(cap > 0);
    CHECK(buf >= F.scratch && buf + cap <= F.scratch + F.scratch_len);
    *got = 0;
    if (s->rwant_w) {
        s->rwant_w--;
        *wait = SMTPW_WANT_WRITE;
        return SMTPW_E_AGAIN;
    }
    if (n == 0) {
        if (F.eof)
            return SMTPW_E_CLOSED;
        *wait = SMTPW_WANT_READ;
        return SMTPW_E_AGAIN;
    }
    if (n > cap)
        n = cap;
    if (n > s->rmax)
        n = s->rmax;
    memcpy(buf, F.t + s->rpos, n);
    s->rpos += n;
    *got = n;
    return 0;
}

static int h_write(void *ctx, int fd, const uint8_t *buf, size_t len, size_t *sent,
                   uint32_t *wait)
{
    sess *s = (sess *)ctx;
    volatile uint8_t sink = 0;
    size_t i;
    (void)fd;
    CHECK(len > 0);
    for (i = 0; i < len; i++) /* the bytes must be readable */
        sink = (uint8_t)(sink ^ buf[i]);
    (void)sink;
    *sent = 0;
    if (s->wblock) {
        s->wblock--;
        *wait = SMTPW_WANT_WRITE;
        return SMTPW_E_AGAIN;
    }
    *sent = s->wshort && len > s->wshort ? s->wshort : len;
    return 0;
}

static int h_starttls(void *ctx, int fd, uint32_t *wait)
{
    sess *s = (sess *)ctx;
    (void)fd;
    if (s->tls_again) {
        s->tls_again--;
        *wait = s->tls_again & 1 ? SMTPW_WANT_WRITE : SMTPW_WANT_READ;
        return SMTPW_E_AGAIN;
    }
    return s->tls_fail ? SMTPW_E_TLS : 0;
}

static size_t h_pending(void *ctx)
{
    sess *s = (sess *)ctx;
    return F.pending_hook ? F.tlen - s->rpos : 0;
}

static void h_close(void *ctx, int fd)
{
    (void)ctx;
    (void)fd;
}

static const smtpw_posix_io hooks = {SMTPW_POSIX_IO_VERSION, h_read, h_write, h_starttls, h_pending, h_close};

/* ---- the invariants ---- */

static int sent_by_peer(const uint8_t *p, size_t n)
{
    size_t i;
    for (i = 0; n <= F.tlen && i <= F.tlen - n; i++)
        if (F.t[i] == p[0] && memcmp(F.t + i, p, n) == 0)
            return 1;
    return 0;
}

static int in_scratch(const uint8_t *p, size_t n)
{
    return p >= F.scratch && p + n <= F.scratch + F.scratch_len;
}

static void take(snap *sn, smtpw_span sp, int body)
{
    const uint8_t *p = (const uint8_t *)sp.ptr;
    size_t off = sn->n ? sn->off[sn->n - 1] + sn->len[sn->n - 1] : 0;
    if (sp.len == 0)
        return;
    CHECK(p != NULL);
    /* Never straddling the scratch buffer's edges. */
    CHECK(in_scratch(p, sp.len) || p + sp.len <= F.scratch || p >= F.scratch + F.scratch_len);
    CHECK(sn->n < NSPAN && off + sp.len <= COPY_MAX);
    memcpy(sn->copy + off, p, sp.len); /* readable now (ASan: not freed) */
    /* Bytes the peer sent; for a body, or the core's static CRLF. */
    if (!(body && sp.len <= 2 && memcmp(p, "\r\n", sp.len) == 0))
        CHECK(sent_by_peer(p, sp.len));
    sn->ptr[sn->n] = p;
    sn->len[sn->n] = sp.len;
    sn->off[sn->n] = off;
    sn->n++;
}

static void record(sess *s, int type, const smtpw_event *ev)
{
    snap *sn = &s->last;
    int body = type == SMTPW_EV_BODY;
    CHECK(ev->type == (uint32_t)type);
    sn->n = 0;
    take(sn, ev->arg, body);
    if (type == SMTPW_EV_MAIL || type == SMTPW_EV_RCPT) {
        take(sn, ev->params, 0);
        take(sn, ev->path.raw, 0);
        take(sn, ev->path.mailbox, 0);
        take(sn, ev->path.local, 0);
        take(sn, ev->path.domain, 0);
        take(sn, ev->path.route, 0);
        take(sn, ev->path.literal, 0);
    }
}

/* Right before session j steps: every event still covered reads back the
 * same.  After it, j's own event is over, and the other sessions' spans
 * into scratch are no longer promised (j may read over them). */
static void before_step(int j)
{
    int i, k, m;
    for (i = 0; i < F.ns; i++) {
        snap *sn = &F.s[i].last;
        for (k = 0; k < sn->n; k++)
            CHECK(memcmp(sn->ptr[k], sn->copy + sn->off[k], sn->len[k]) == 0);
        if (i == j) {
            sn->n = 0;
            continue;
        }
        for (k = m = 0; k < sn->n; k++) {
            if (in_scratch(sn->ptr[k], sn->len[k]))
                continue;
            sn->ptr[m] = sn->ptr[k];
            sn->len[m] = sn->len[k];
            sn->off[m] = sn->off[k]; /* copies stay where they are */
            m++;
        }
        sn->n = m;
    }
}

/* ---- sessions ---- */

static void sess_start(int i)
{
    sess *s = &F.s[i];
    s->rpos = 0;
    s->owed = 0;
    s->last.n = 0;
    s->wblock = 0;
    s->rwant_w = 0;
    CHECK(smtpw_posix_server_init(s->mem, smtpw_posix_server_sizeof(), F.sh, 100 + i, &F.cfg,
                                  &hooks, s, F.now, &s->c) == 0);
    s->open = 1;
}

static void answer(sess *s)
{
    static const unsigned codes[] = {0, 250, 451, 550, 354, 421, 252, 503};
    smtpw_server *core = smtpw_posix_server_core(s->c);
    unsigned code = s->owed_code;
    if (!s->owed)
        return;
    s->owed = 0;
    code = codes[code % 8];
    if (code == 354 && s->owed_type != SMTPW_EV_DATA)
        code = 0;
    if (!(smtpw_server_want(core) & SMTPW_WANT_REPLY))
        return; /* the session was ended (421) meanwhile */
    if (smtpw_server_reply(core, code, NULL, 0, NULL, 0) != 0)
        CHECK(smtpw_server_reply(core, 0, NULL, 0, NULL, 0) == 0);
}

/* One step of session i.  Returns the step's result (0 when not open). */
static int step(int i, int revents, int answer_now, unsigned code, int defer_data_end)
{
    sess *s = &F.s[i];
    smtpw_event ev;
    int rc;
    if (!s->open)
        return 0;
    before_step(i);
    rc = smtpw_posix_server_step(s->c, revents, F.now, &ev, sizeof ev);
    if (rc < 0) {
        s->open = 0;
        s->owed = 0;
        CHECK(smtpw_posix_server_fd(s->c) == -1);
        CHECK(smtpw_posix_server_held(s->c) == 0);
        CHECK(smtpw_posix_server_step(s->c, 0, F.now, &ev, sizeof ev) == rc); /* the end repeats */
        return rc;
    }
    if (rc == 0) {
        CHECK(smtpw_posix_server_held(s->c) <= F.scratch_len);
        return 0;
    }
    record(s, rc, &ev);
    if (smtpw_server_want(smtpw_posix_server_core(s->c)) & SMTPW_WANT_REPLY) {
        CHECK(!s->owed);
        s->owed = 1;
        s->owed_type = rc;
        s->owed_code = code;
        if (answer_now && !(defer_data_end && rc == SMTPW_EV_DATA_END))
            answer(s);
    }
    return rc;
}

/* Step session i until it waits, as the example server's run_session(). */
static void run(int i, unsigned code, int defer_data_end)
{
    int guard = 0, rev = smtpw_posix_server_events(F.s[i].c);
    while (F.s[i].open && guard++ < 256 && step(i, rev, 1, code, defer_data_end) > 0)
        rev = 0;
}

static short revents_of(unsigned a)
{
    static const short r[] = {POLLIN, POLLOUT, POLLIN | POLLOUT, POLLHUP, POLLERR, 0,
                              POLLIN | POLLHUP, POLLNVAL};
    return r[a % 8];
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const size_t rsizes[] = {1, 2, 5, 17, 64, 300, 1000, SCRATCH_MAX};
    static const uint32_t slots[] = {0, 1, 2, 8};
    static const uint32_t slot_sizes[] = {16, 64, 512, 100};
    static const uint32_t timeouts[] = {0, 50, 1000, 5};
    smtpw_posix_shared_config sc;
    const uint8_t *ctl;
    size_t nctl, pc = 0;
    int i, round, quiet = 0;

    if (size < 4)
        return 0;
    memset(F.s, 0, sizeof F.s);
    nctl = data[0];
    ctl = data + 4;
    if (nctl > size - 4)
        nctl = size - 4;
    F.t = data + 4 + nctl;
    F.tlen = size - 4 - nctl;
    F.ns = 1 + (data[1] & 3) % NSESS;
    F.scratch_len = (data[1] & 0x80) ? 4096 : 2048;
    F.eof = (data[3] >> 2) & 1;
    F.pending_hook = (data[3] >> 3) & 1;
    F.now = 1000;

    smtpw_posix_shared_config_init(&sc, SMTPW_POSIX_SHARED_CONFIG_VERSION);
    sc.scratch = F.scratch;
    sc.scratch_len = F.scratch_len;
    sc.slot_size = slot_sizes[(data[1] >> 5) & 3];
    sc.pool_len = slots[(data[1] >> 3) & 3] * sc.slot_size;
    sc.pool = sc.pool_len ? F.pool : NULL;
    sc.flags = (data[1] & 4) ? SMTPW_POSIX_NO_MALLOC : 0;
    sc.timeout_ms = timeouts[data[3] & 3];
    CHECK(smtpw_posix_shared_sizeof() <= sizeof F.shmem);
    CHECK(smtpw_posix_shared_init(F.shmem, sizeof F.shmem, &sc, &F.sh) == 0);

    smtpw_server_config_init(&F.cfg, SMTPW_SERVER_CONFIG_VERSION);
    F.cfg.hostname = "fuzz.example";
    F.cfg.hostname_len = 12;
    F.cfg.flags = 0;
    if (data[2] & 1)
        F.cfg.flags |= SMTPW_SERVER_LENIENT;
    if (data[2] & 2)
        F.cfg.flags |= SMTPW_SERVER_STARTTLS;
    if (data[2] & 4)
        F.cfg.flags |= SMTPW_SERVER_SMTPUTF8;
    if (data[2] & 8)
        F.cfg.max_message_size = 300;
    F.cfg.bare_command = (uint32_t)((data[2] >> 4) & 3) % 3;
    F.cfg.bare_body = (uint32_t)((data[2] >> 6) & 3) % 3;
    F.cfg.max_command_line = (data[3] & 0x10) ? 1024 : 512;

    for (i = 0; i < F.ns; i++) {
        F.s[i].mem = malloc(smtpw_posix_server_sizeof());
        CHECK(F.s[i].mem != NULL);
        F.s[i].rmax = rsizes[(data[3] >> 5) & 7];
        F.s[i].tls_again = 1;
        sess_start(i);
    }

    /* The fuzzer's schedule: op in the low 3 bits, its argument above. */
    while (pc < nctl) {
        unsigned b = ctl[pc++], a = b >> 3;
        sess *s = &F.s[a % (unsigned)F.ns];
        int si = (int)(a % (unsigned)F.ns);
        a /= (unsigned)F.ns;
        if (!s->open && s->reinits < 3) { /* a new connection in the same memory */
            s->reinits++;
            sess_start(si);
        }
        switch (b & 7) {
        case 0: /* the loop's step: what the session polls for */
            (void)step(si, smtpw_posix_server_events(s->c), (int)(a & 1), a >> 1, 0);
            break;
        case 1: /* a step after answering, or at the deadline */
            (void)step(si, 0, (int)(a & 1), a >> 1, 0);
            break;
        case 2: /* readiness the session did not ask for */
            if (revents_of(a) == POLLNVAL && (a >> 3) != 0)
                break; /* closed-descriptor reports stay rare */
            (void)step(si, revents_of(a), 0, 0, 0);
            break;
        case 3: /* the deferred verdict arrives */
            s->owed_code = a;
            answer(s);
            break;
        case 4:
            s->rmax = rsizes[a % 8];
            break;
        case 5: /* backpressure: blocked writes, short writes, TLS reads */
            if (a & 1)
                s->wblock += 1 + (a >> 1) % 3;
            else if (a & 2)
                s->rwant_w++;
            else
                s->wshort = (a >> 2) ? (size_t)(a >> 2) * 7 : 0;
            break;
        case 6: /* time passes, or jumps to the session's deadline */
            if (a == 0 && smtpw_posix_server_deadline(s->c) > F.now)
                F.now = smtpw_posix_server_deadline(s->c);
            else
                F.now += (uint64_t)a * (a > 8 ? 100 : 3);
            break;
        default: /* run to idle, DATA_END left for the group commit */
            if (s->open)
                run(si, a >> 1, (int)(a & 1));
            break;
        }
    }

    /* Then the example server's loop: every session to idle, DATA_END
     * verdicts at the end of the turn, then those sessions again. */
    for (round = 0; round < 200 && quiet < 3; round++) {
        int moved = 0;
        for (i = 0; i < F.ns; i++) {
            size_t before = F.s[i].rpos;
            if (!F.s[i].open)
                continue;
            if (F.s[i].owed && F.s[i].owed_type != SMTPW_EV_DATA_END)
                answer(&F.s[i]);
            run(i, 0, 1);
            moved |= F.s[i].rpos != before ||
                     (F.s[i].open && (smtpw_posix_server_events(F.s[i].c) & POLLOUT));
        }
        for (i = 0; i < F.ns; i++) {
            if (F.s[i].open && F.s[i].owed) {
                answer(&F.s[i]);
                run(i, 0, 1);
                moved = 1;
            }
        }
        F.now += 7;
        quiet = moved ? 0 : quiet + 1;
    }

    for (i = 0; i < F.ns; i++) {
        before_step(i); /* the last events are still intact at close */
        smtpw_posix_server_close(F.s[i].c);
        CHECK(smtpw_posix_server_held(F.s[i].c) == 0);
        smtpw_posix_server_close(F.s[i].c); /* safe twice */
        free(F.s[i].mem);
    }
    return 0;
}
