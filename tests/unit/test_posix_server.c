/* The POSIX adapter, server half, over socketpair(): whole sessions,
 * pipelined bursts (one read and one write per burst), partial lines split
 * across reads, deferred verdicts, peers that vanish, timeouts,
 * backpressure, the shared scratch buffer and its slot pool. */
#if !defined(_POSIX_C_SOURCE) || _POSIX_C_SOURCE < 200809L
#undef _POSIX_C_SOURCE
#define _POSIX_C_SOURCE 200809L
#endif

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include <cmocka.h>

#include "smtpwire/posix.h"

#define HOST "mx.example"
#define SCRATCH 4096

/* ---- counting hooks over the plain ones ---- */

typedef struct counter {
    int reads, writes, tls_calls, tls_again, closes;
} counter;

static int c_read(void *ctx, int fd, uint8_t *buf, size_t cap, size_t *got, uint32_t *wait)
{
    ((counter *)ctx)->reads++;
    return smtpw_posix_plain_read(NULL, fd, buf, cap, got, wait);
}

static int c_write(void *ctx, int fd, const uint8_t *buf, size_t len, size_t *sent,
                   uint32_t *wait)
{
    ((counter *)ctx)->writes++;
    return smtpw_posix_plain_write(NULL, fd, buf, len, sent, wait);
}

/* A pretend TLS layer: the handshake needs one more readiness, then the
 * bytes stay in the clear (the adapter cannot tell). */
static int c_starttls(void *ctx, int fd, uint32_t *wait)
{
    counter *k = (counter *)ctx;
    (void)fd;
    k->tls_calls++;
    if (k->tls_again-- > 0) {
        *wait = SMTPW_WANT_READ;
        return SMTPW_E_AGAIN;
    }
    return 0;
}

static void c_close(void *ctx, int fd)
{
    ((counter *)ctx)->closes++;
    close(fd);
}

static const smtpw_posix_io counting_io = {SMTPW_POSIX_IO_VERSION, c_read, c_write, c_starttls, NULL, c_close};

/* ---- fixture ---- */

typedef struct fx {
    uint8_t scratch[SCRATCH];
    uint8_t pool[4 * 512];
    void *shmem;
    smtpw_posix_shared *sh;
    smtpw_server_config cfg;
    counter k[2];
    int cfd[2]; /* client ends */
    void *mem[2];
    smtpw_posix_server *c[2];
    uint64_t now;
} fx;

static void fx_shared(fx *f, uint32_t flags, size_t pool_slots, uint32_t timeout_ms)
{
    smtpw_posix_shared_config sc;
    smtpw_posix_shared_config_init(&sc, SMTPW_POSIX_SHARED_CONFIG_VERSION);
    sc.scratch = f->scratch;
    sc.scratch_len = sizeof f->scratch;
    sc.pool = pool_slots ? f->pool : NULL;
    sc.pool_len = pool_slots * 512;
    sc.slot_size = 512;
    sc.flags = flags;
    sc.timeout_ms = timeout_ms;
    f->shmem = malloc(smtpw_posix_shared_sizeof());
    assert_non_null(f->shmem);
    assert_int_equal(smtpw_posix_shared_init(f->shmem, smtpw_posix_shared_sizeof(), &sc, &f->sh),
                     0);
}

static void fx_session(fx *f, int i)
{
    int sv[2];
    assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
    assert_int_equal(fcntl(sv[0], F_SETFL, O_NONBLOCK), 0);
    f->cfd[i] = sv[1];
    f->mem[i] = malloc(smtpw_posix_server_sizeof());
    assert_non_null(f->mem[i]);
    assert_int_equal(smtpw_posix_server_init(f->mem[i], smtpw_posix_server_sizeof(), f->sh,
                                             sv[0], &f->cfg, &counting_io, &f->k[i], f->now,
                                             &f->c[i]),
                     0);
}

static fx *fx_new(uint32_t flags, size_t pool_slots, uint32_t timeout_ms, uint32_t core_flags)
{
    fx *f = (fx *)calloc(1, sizeof *f);
    assert_non_null(f);
    f->now = 1000;
    smtpw_server_config_init(&f->cfg, SMTPW_SERVER_CONFIG_VERSION);
    f->cfg.hostname = HOST;
    f->cfg.hostname_len = strlen(HOST);
    f->cfg.flags = core_flags;
    fx_shared(f, flags, pool_slots, timeout_ms);
    fx_session(f, 0);
    return f;
}

static void fx_free(fx *f)
{
    int i;
    for (i = 0; i < 2; i++) {
        if (f->c[i])
            smtpw_posix_server_close(f->c[i]);
        if (f->cfd[i] > 0)
            close(f->cfd[i]);
        free(f->mem[i]);
    }
    free(f->shmem);
    free(f);
}

static void client_send(fx *f, int i, const char *s)
{
    size_t n = strlen(s);
    assert_int_equal(write(f->cfd[i], s, n), (ssize_t)n);
}

/* Everything the server wrote so far: a socketpair delivers at once. */
static char *client_recv(fx *f, int i)
{
    static char buf[1 << 17];
    size_t len = 0;
    struct pollfd p;
    p.fd = f->cfd[i];
    p.events = POLLIN;
    while (len + 1 < sizeof buf && poll(&p, 1, 0) == 1) {
        ssize_t n = read(f->cfd[i], buf + len, sizeof buf - 1 - len);
        if (n <= 0)
            break;
        len += (size_t)n;
    }
    buf[len] = '\0';
    return buf;
}

/* Events seen by step(), as letters: H M R D b E A S V Q T X C (see ev_letter). */
static char ev_letter(int type)
{
    switch (type) {
    case SMTPW_EV_HELO: return 'H';
    case SMTPW_EV_MAIL: return 'M';
    case SMTPW_EV_RCPT: return 'R';
    case SMTPW_EV_DATA: return 'D';
    case SMTPW_EV_BODY: return 'b';
    case SMTPW_EV_DATA_END: return 'E';
    case SMTPW_EV_DATA_ABORT: return 'A';
    case SMTPW_EV_RSET: return 'S';
    case SMTPW_EV_QUIT: return 'Q';
    case SMTPW_EV_STARTTLS: return 's'; /* the core's: never handed out by the adapter */
    case SMTPW_EV_TLS_STARTED: return 'T';
    case SMTPW_EV_REJECTED: return 'X';
    case SMTPW_EV_CLOSE: return 'C';
    default: return '?';
    }
}

typedef struct run {
    char evs[256];
    size_t nev;
    char body[4096];
    size_t bodylen;
    char arg[600]; /* arg of the last MAIL/RCPT */
    int defer_data_end;
} run;

/* Step session i until it waits; answer decision events with the default
 * (except DATA_END when deferring).  Returns the last step result. */
static int drive(fx *f, int i, int revents, run *r)
{
    smtpw_event ev;
    int rc;
    while ((rc = smtpw_posix_server_step(f->c[i], revents, f->now, &ev, sizeof ev)) > 0) {
        revents = 0;
        if (r->nev + 1 < sizeof r->evs)
            r->evs[r->nev++] = ev_letter(rc);
        if (rc == SMTPW_EV_BODY) {
            assert_true(r->bodylen + ev.arg.len < sizeof r->body);
            memcpy(r->body + r->bodylen, ev.arg.ptr, ev.arg.len);
            r->bodylen += ev.arg.len;
        }
        if (rc == SMTPW_EV_MAIL || rc == SMTPW_EV_RCPT) {
            assert_true(ev.arg.len < sizeof r->arg);
            memcpy(r->arg, ev.arg.ptr, ev.arg.len);
            r->arg[ev.arg.len] = '\0';
        }
        if (rc == SMTPW_EV_DATA_END && r->defer_data_end)
            continue;
        if (smtpw_server_want(smtpw_posix_server_core(f->c[i])) & SMTPW_WANT_REPLY)
            assert_int_equal(smtpw_server_reply(smtpw_posix_server_core(f->c[i]), 0, NULL, 0, NULL, 0),
                             0);
    }
    r->evs[r->nev] = '\0';
    return rc;
}

#define GREETING "220 " HOST " ESMTP smtpwire\r\n"
#define EHLO_REPLY                                                                         \
    "250-" HOST "\r\n250-PIPELINING\r\n250-8BITMIME\r\n250-SIZE 10485760\r\n"               \
    "250 ENHANCEDSTATUSCODES\r\n"

/* The greeting goes out on the first step, in one write. */
static void greet(fx *f, int i)
{
    run r;
    memset(&r, 0, sizeof r);
    assert_int_equal(drive(f, i, 0, &r), 0);
    assert_string_equal(client_recv(f, i), GREETING);
    assert_int_equal(smtpw_posix_server_events(f->c[i]), POLLIN);
}

/* RFC 5321 3.3: a whole mail transaction and QUIT through the adapter. */
static void rfc5321_3_3_whole_session(void **state)
{
    fx *f = fx_new(0, 4, 0, 0);
    run r;
    (void)state;
    memset(&r, 0, sizeof r);
    greet(f, 0);
    client_send(f, 0, "EHLO client.example\r\n");
    assert_int_equal(drive(f, 0, POLLIN, &r), 0);
    assert_string_equal(client_recv(f, 0), EHLO_REPLY);
    client_send(f, 0, "MAIL FROM:<a@b.example>\r\n");
    assert_int_equal(drive(f, 0, POLLIN, &r), 0);
    assert_string_equal(client_recv(f, 0), "250 2.1.0 Sender ok\r\n");
    assert_string_equal(r.arg, "<a@b.example>");
    client_send(f, 0, "RCPT TO:<c@d.example>\r\n");
    assert_int_equal(drive(f, 0, POLLIN, &r), 0);
    assert_string_equal(client_recv(f, 0), "250 2.1.5 Recipient ok\r\n");
    client_send(f, 0, "DATA\r\n");
    assert_int_equal(drive(f, 0, POLLIN, &r), 0);
    assert_string_equal(client_recv(f, 0), "354 Start mail input; end with <CRLF>.<CRLF>\r\n");
    client_send(f, 0, "Subject: x\r\n\r\n..dot\r\nend\r\n.\r\n");
    assert_int_equal(drive(f, 0, POLLIN, &r), 0);
    assert_string_equal(client_recv(f, 0), "250 2.0.0 Message accepted for delivery\r\n");
    assert_int_equal(r.bodylen, strlen("Subject: x\r\n\r\n.dot\r\nend\r\n"));
    assert_memory_equal(r.body, "Subject: x\r\n\r\n.dot\r\nend\r\n", r.bodylen);
    client_send(f, 0, "QUIT\r\n");
    assert_int_equal(drive(f, 0, POLLIN, &r), SMTPW_E_CLOSED);
    assert_string_equal(client_recv(f, 0), "221 2.0.0 " HOST " Service closing transmission channel\r\n");
    assert_int_equal(read(f->cfd[0], r.body, 1), 0); /* closed */
    assert_int_equal(smtpw_posix_server_fd(f->c[0]), -1);
    assert_int_equal(f->k[0].closes, 1);
    assert_int_equal(smtpw_server_messages(smtpw_posix_server_core(f->c[0])), 1);
    assert_int_equal(r.evs[0], 'H');
    assert_int_equal(r.evs[1], 'M');
    assert_int_equal(r.evs[2], 'R');
    assert_int_equal(r.evs[3], 'D');
    assert_int_equal(r.evs[r.nev - 2], 'E');
    assert_int_equal(r.evs[r.nev - 1], 'Q');
    /* Later calls repeat the end. */
    assert_int_equal(drive(f, 0, POLLIN, &r), SMTPW_E_CLOSED);
    fx_free(f);
}

/* RFC 2920 3.1: a pipelined group is read once and answered in one write. */
static void rfc2920_3_1_burst_one_read_one_write(void **state)
{
    fx *f = fx_new(0, 4, 0, 0);
    run r;
    (void)state;
    memset(&r, 0, sizeof r);
    greet(f, 0);
    client_send(f, 0, "EHLO client.example\r\n");
    assert_int_equal(drive(f, 0, POLLIN, &r), 0);
    (void)client_recv(f, 0);
    f->k[0].reads = f->k[0].writes = 0;
    client_send(f, 0, "MAIL FROM:<a@b.example>\r\nRCPT TO:<c@d.example>\r\n"
                      "RCPT TO:<e@d.example>\r\nDATA\r\n");
    assert_int_equal(drive(f, 0, POLLIN, &r), 0);
    assert_string_equal(client_recv(f, 0), "250 2.1.0 Sender ok\r\n250 2.1.5 Recipient ok\r\n"
                                           "250 2.1.5 Recipient ok\r\n"
                                           "354 Start mail input; end with <CRLF>.<CRLF>\r\n");
    assert_int_equal(f->k[0].reads, 1);
    assert_int_equal(f->k[0].writes, 1);
    /* Body, end and the next transaction in one burst, too. */
    client_send(f, 0, "hello\r\n.\r\nMAIL FROM:<>\r\nRCPT TO:<c@d.example>\r\nDATA\r\n");
    assert_int_equal(drive(f, 0, POLLIN, &r), 0);
    assert_string_equal(client_recv(f, 0), "250 2.0.0 Message accepted for delivery\r\n"
                                           "250 2.1.0 Sender ok\r\n250 2.1.5 Recipient ok\r\n"
                                           "354 Start mail input; end with <CRLF>.<CRLF>\r\n");
    assert_int_equal(f->k[0].reads, 2);
    assert_int_equal(f->k[0].writes, 2);
    assert_string_equal(r.evs, "HMRRDbEMRD");
    assert_int_equal(smtpw_posix_server_held(f->c[0]), 0);
    fx_free(f);
}

/* RFC 5321 2.3.8: a command line arriving in pieces is kept between reads
 * (in a pool slot) and handed to the core whole. */
static void rfc5321_2_3_8_partial_line_across_reads(void **state)
{
    fx *f = fx_new(SMTPW_POSIX_NO_MALLOC, 4, 0, 0);
    run r;
    (void)state;
    memset(&r, 0, sizeof r);
    greet(f, 0);
    client_send(f, 0, "EHLO client.example\r\n");
    assert_int_equal(drive(f, 0, POLLIN, &r), 0);
    (void)client_recv(f, 0);
    client_send(f, 0, "MAIL FR");
    assert_int_equal(drive(f, 0, POLLIN, &r), 0);
    assert_int_equal(smtpw_posix_server_held(f->c[0]), 7);
    assert_string_equal(r.evs, "H");
    client_send(f, 0, "OM:<a@b.exam");
    assert_int_equal(drive(f, 0, POLLIN, &r), 0);
    assert_int_equal(smtpw_posix_server_held(f->c[0]), 19);
    client_send(f, 0, "ple>\r\nRCPT TO:<c");
    assert_int_equal(drive(f, 0, POLLIN, &r), 0);
    assert_string_equal(r.evs, "HM");
    assert_string_equal(r.arg, "<a@b.example>");
    assert_int_equal(smtpw_posix_server_held(f->c[0]), 10);
    client_send(f, 0, "@d.example>\r\n");
    assert_int_equal(drive(f, 0, POLLIN, &r), 0);
    assert_string_equal(r.evs, "HMR");
    assert_string_equal(r.arg, "<c@d.example>");
    assert_int_equal(smtpw_posix_server_held(f->c[0]), 0);
    assert_string_equal(client_recv(f, 0), "250 2.1.0 Sender ok\r\n250 2.1.5 Recipient ok\r\n");
    fx_free(f);
}

/* Every split point of a session: one byte per read gives the same bytes. */
static void rfc5321_2_3_8_session_one_byte_per_read(void **state)
{
    static const char in[] = "EHLO c.example\r\nMAIL FROM:<a@b.example>\r\n"
                             "RCPT TO:<c@d.example>\r\nDATA\r\n";
    static const char body[] = "x\r\n..y\r\n.\r\nQUIT\r\n";
    fx *f = fx_new(SMTPW_POSIX_NO_MALLOC, 1, 0, 0);
    char out[2048] = "";
    run r;
    size_t i;
    int rc = 0;
    (void)state;
    memset(&r, 0, sizeof r);
    greet(f, 0);
    for (i = 0; in[i]; i++) {
        assert_int_equal(write(f->cfd[0], in + i, 1), 1);
        assert_int_equal(drive(f, 0, POLLIN, &r), 0);
        strcat(out, client_recv(f, 0));
    }
    for (i = 0; body[i] && rc == 0; i++) {
        assert_int_equal(write(f->cfd[0], body + i, 1), 1);
        rc = drive(f, 0, POLLIN, &r);
        strcat(out, client_recv(f, 0));
    }
    assert_int_equal(rc, SMTPW_E_CLOSED);
    assert_string_equal(out, EHLO_REPLY "250 2.1.0 Sender ok\r\n250 2.1.5 Recipient ok\r\n"
                             "354 Start mail input; end with <CRLF>.<CRLF>\r\n"
                             "250 2.0.0 Message accepted for delivery\r\n"
                             "221 2.0.0 " HOST " Service closing transmission channel\r\n");
    assert_int_equal(r.bodylen, 7);
    assert_memory_equal(r.body, "x\r\n.y\r\n", 7);
    fx_free(f);
}

/* A peer that closes mid-DATA: the session ends without DATA_END. */
static void peer_closes_mid_data_ends_session(void **state)
{
    fx *f = fx_new(0, 4, 0, 0);
    run r;
    (void)state;
    memset(&r, 0, sizeof r);
    greet(f, 0);
    client_send(f, 0, "EHLO c.example\r\nMAIL FROM:<a@b.example>\r\nRCPT TO:<c@d.example>\r\n"
                      "DATA\r\n");
    assert_int_equal(drive(f, 0, POLLIN, &r), 0);
    (void)client_recv(f, 0);
    client_send(f, 0, "Subject: cut\r\n\r\nhalf a li");
    shutdown(f->cfd[0], SHUT_WR);
    /* One read per readiness: the body bytes now, the end at the next poll. */
    assert_int_equal(drive(f, 0, POLLIN | POLLHUP, &r), 0);
    assert_int_equal(smtpw_posix_server_held(f->c[0]), 0);
    assert_int_equal(drive(f, 0, POLLIN | POLLHUP, &r), SMTPW_E_CLOSED);
    assert_null(strchr(r.evs, 'E'));
    assert_non_null(strchr(r.evs, 'b'));
    assert_int_equal(smtpw_posix_server_fd(f->c[0]), -1);
    assert_int_equal(smtpw_posix_server_held(f->c[0]), 0);
    assert_int_equal(smtpw_posix_server_events(f->c[0]), 0);
    fx_free(f);
}

/* RFC 5321 4.5.3.2.7: the server's timeout for the next command, enforced
 * with the caller's clock; a 421 goes out, then the socket is closed. */
static void rfc5321_4_5_3_2_7_timeout_sends_421(void **state)
{
    fx *f = fx_new(0, 4, 50, 0);
    run r;
    (void)state;
    memset(&r, 0, sizeof r);
    assert_int_equal(smtpw_posix_server_deadline(f->c[0]), 1050);
    greet(f, 0);
    client_send(f, 0, "EHLO c.example\r\nMAIL FR");
    f->now = 1030;
    assert_int_equal(drive(f, 0, POLLIN, &r), 0);
    (void)client_recv(f, 0);
    assert_int_equal(smtpw_posix_server_deadline(f->c[0]), 1080);
    f->now = 1079; /* a trickle that completes no command does not extend it */
    client_send(f, 0, "OM");
    assert_int_equal(drive(f, 0, POLLIN, &r), 0);
    assert_int_equal(smtpw_posix_server_deadline(f->c[0]), 1080);
    f->now = 1080;
    assert_int_equal(drive(f, 0, 0, &r), SMTPW_E_TIMEOUT);
    assert_string_equal(client_recv(f, 0),
                        "421 4.3.2 " HOST " Service not available, closing transmission channel\r\n");
    assert_int_equal(read(f->cfd[0], r.body, 1), 0);
    assert_int_equal(drive(f, 0, 0, &r), SMTPW_E_TIMEOUT);
    fx_free(f);
}

/* The DATA_END verdict may wait (group commit): meanwhile the session
 * reads nothing, has no deadline, and keeps the pipelined rest. */
static void deferred_data_end_keeps_pipelined_rest(void **state)
{
    fx *f = fx_new(0, 4, 0, 0);
    run r;
    smtpw_server *core;
    (void)state;
    memset(&r, 0, sizeof r);
    r.defer_data_end = 1;
    greet(f, 0);
    core = smtpw_posix_server_core(f->c[0]);
    client_send(f, 0, "EHLO c.example\r\nMAIL FROM:<a@b.example>\r\nRCPT TO:<c@d.example>\r\n"
                      "DATA\r\n");
    assert_int_equal(drive(f, 0, POLLIN, &r), 0);
    (void)client_recv(f, 0);
    client_send(f, 0, "body\r\n.\r\nMAIL FROM:<x@y.example>\r\nRCPT TO:<z@y.example>\r\n");
    assert_int_equal(drive(f, 0, POLLIN, &r), 0);
    assert_string_equal(r.evs, "HMRDbE");
    assert_int_equal(smtpw_posix_server_events(f->c[0]), 0);
    assert_int_equal(smtpw_posix_server_deadline(f->c[0]), 0);
    assert_int_equal(smtpw_posix_server_held(f->c[0]), strlen("MAIL FROM:<x@y.example>\r\n"
                                                             "RCPT TO:<z@y.example>\r\n"));
    assert_string_equal(client_recv(f, 0), "");
    /* Stepping again changes nothing until the verdict. */
    assert_int_equal(drive(f, 0, 0, &r), 0);
    assert_string_equal(r.evs, "HMRDbE");
    assert_int_equal(smtpw_server_reply(core, 451, NULL, 0, NULL, 0), 0);
    r.defer_data_end = 0;
    f->now = 5000;
    assert_int_equal(drive(f, 0, 0, &r), 0);
    assert_string_equal(r.evs, "HMRDbEMR");
    assert_string_equal(client_recv(f, 0), "451 4.3.0 Local error in processing\r\n"
                                           "250 2.1.0 Sender ok\r\n250 2.1.5 Recipient ok\r\n");
    assert_int_equal(smtpw_posix_server_held(f->c[0]), 0);
    assert_int_equal(smtpw_posix_server_deadline(f->c[0]), 5000 + 300000);
    fx_free(f);
}

/* The pipelined rest behind a deferred DATA_END (RFC 2920 3.1: commands
 * after the final dot are read with it) is kept in a hold; after the
 * verdict the next step hands out the EHLO from it.  That event's spans
 * point into the hold, which must stay alive and untouched until the next
 * step: the adapter once returned it to the pool (or free()) first.
 * noops NOOP lines go in front of the EHLO to make the tail larger. */
static void to_data(fx *f, run *r);

static void deferred_tail_ehlo(uint32_t flags, size_t pool_slots, size_t noops)
{
    static const char name[] = "abcdefghijkl.example";
    fx *f = fx_new(flags, pool_slots, 0, 0);
    run r;
    smtpw_server *core;
    smtpw_event ev;
    char tail[1024] = "", got[sizeof name];
    size_t i, taillen;
    char *out;
    memset(&r, 0, sizeof r);
    to_data(f, &r);
    core = smtpw_posix_server_core(f->c[0]);
    r.defer_data_end = 1;
    for (i = 0; i < noops; i++)
        strcat(tail, "NOOP\r\n");
    strcat(tail, "EHLO abcdefghijkl.example\r\n");
    taillen = strlen(tail);
    client_send(f, 0, "body\r\n.\r\n");
    client_send(f, 0, tail);
    assert_int_equal(drive(f, 0, POLLIN, &r), 0);
    assert_int_equal(r.evs[r.nev - 1], 'E');
    assert_int_equal(smtpw_posix_server_held(f->c[0]), taillen);
    /* The verdict comes later (group commit); then the rest is handed out. */
    assert_int_equal(smtpw_server_reply(core, 0, NULL, 0, NULL, 0), 0);
    assert_int_equal(smtpw_posix_server_step(f->c[0], 0, f->now, &ev, sizeof ev), SMTPW_EV_HELO);
    assert_int_equal(ev.arg.len, strlen(name));
    memcpy(got, ev.arg.ptr, ev.arg.len); /* our own read, for ASan (cmocka is not instrumented) */
    assert_memory_equal(got, name, strlen(name));
    assert_int_equal(smtpw_server_reply(core, 0, NULL, 0, NULL, 0), 0);
    /* Now idle: the hold is gone. */
    assert_int_equal(smtpw_posix_server_step(f->c[0], 0, f->now, &ev, sizeof ev), 0);
    assert_int_equal(smtpw_posix_server_held(f->c[0]), 0);
    out = client_recv(f, 0);
    assert_non_null(strstr(out, "250 2.0.0 Message accepted for delivery\r\n"));
    assert_non_null(strstr(out, EHLO_REPLY));
    fx_free(f);
}

/* A tail that fits a pool slot: releasing the slot wrote the free-list
 * link over its first bytes, "EHLO abc", before the EHLO event was read. */
static void rfc2920_3_1_deferred_verdict_tail_in_slot_outlives_event(void **state)
{
    (void)state;
    deferred_tail_ehlo(0, 4, 0);
    deferred_tail_ehlo(SMTPW_POSIX_NO_MALLOC, 1, 0);
}

/* A tail on the heap: larger than a slot (567 bytes: ASan sees the
 * use after free), or a small one with no pool (malloc's own free-list
 * bookkeeping overwrites the EHLO line). */
static void rfc2920_3_1_deferred_verdict_tail_on_heap_outlives_event(void **state)
{
    (void)state;
    deferred_tail_ehlo(0, 4, 90);
    deferred_tail_ehlo(0, 0, 0);
}

/* Backpressure: a peer that pipelines without reading.  The adapter stops
 * reading once its writes block, keeps at most what one read brought, and
 * loses nothing: every command is answered once the peer reads. */
static void rfc2920_backpressure_when_peer_does_not_read(void **state)
{
    enum { N = 20000 };
    fx *f = fx_new(0, 4, 0, 0);
    run r;
    int small = 4096, sent = 0, answered = 0, blocked = 0, rounds = 0;
    static const char noop[] = "NOOP\r\n";
    static const char ok[] = "250 Ok\r\n"; /* no EHLO: no enhanced codes */
    char tail[32] = "";
    (void)state;
    memset(&r, 0, sizeof r);
    greet(f, 0);
    setsockopt(f->cfd[0], SOL_SOCKET, SO_RCVBUF, &small, sizeof small);
    setsockopt(smtpw_posix_server_fd(f->c[0]), SOL_SOCKET, SO_SNDBUF, &small, sizeof small);
    assert_int_equal(fcntl(f->cfd[0], F_SETFL, O_NONBLOCK), 0);
    while (answered < N && rounds++ < 1000000) {
        short ev;
        /* The client writes as much as fits, and reads only after the
         * server blocked a few times. */
        while (sent < N && write(f->cfd[0], noop, 6) == 6)
            sent++;
        ev = smtpw_posix_server_events(f->c[0]);
        assert_int_equal(drive(f, 0, ev, &r), 0);
        assert_true(smtpw_posix_server_held(f->c[0]) <= SCRATCH);
        if (smtpw_posix_server_events(f->c[0]) == POLLOUT)
            blocked++;
        if (blocked > 3 || sent == N) {
            char buf[8192];
            ssize_t n;
            while ((n = read(f->cfd[0], buf, sizeof buf)) > 0) {
                /* Count complete replies; carry a split one over. */
                size_t tl = strlen(tail), j = 0;
                while (j < (size_t)n) {
                    tail[tl++] = buf[j++];
                    tail[tl] = '\0';
                    if (tl == sizeof ok - 1) {
                        assert_string_equal(tail, ok);
                        answered++;
                        tl = 0;
                        tail[0] = '\0';
                    }
                }
            }
        }
    }
    assert_true(blocked > 0);
    assert_int_equal(answered, N);
    assert_int_equal(smtpw_posix_server_held(f->c[0]), 0);
    fx_free(f);
}

/* Two sessions share the scratch buffer: one's unconsumed bytes survive
 * the other's read, whether parked at a wait or still in scratch. */
static void shared_scratch_between_sessions(void **state)
{
    fx *f = fx_new(0, 4, 0, 0);
    run r0, r1;
    smtpw_event ev;
    int rc;
    (void)state;
    memset(&r0, 0, sizeof r0);
    memset(&r1, 0, sizeof r1);
    fx_session(f, 1);
    greet(f, 0);
    greet(f, 1);
    client_send(f, 0, "EHLO a.example\r\nMAIL FROM:<a@a.example>\r\nRCPT TO:<b@a.exa");
    client_send(f, 1, "EHLO b.example\r\nMAIL FROM:<x@b.example>\r\n");
    /* Session 0 stops after its first event, with the rest in scratch. */
    rc = smtpw_posix_server_step(f->c[0], POLLIN, f->now, &ev, sizeof ev);
    assert_int_equal(rc, SMTPW_EV_HELO);
    assert_int_equal(smtpw_server_reply(smtpw_posix_server_core(f->c[0]), 0, NULL, 0, NULL, 0), 0);
    /* Session 1 reads into the same scratch. */
    assert_int_equal(drive(f, 1, POLLIN, &r1), 0);
    assert_string_equal(r1.evs, "HM");
    assert_string_equal(r1.arg, "<x@b.example>");
    /* Session 0 goes on from its own bytes. */
    assert_int_equal(drive(f, 0, 0, &r0), 0);
    assert_string_equal(r0.evs, "M");
    assert_string_equal(r0.arg, "<a@a.example>");
    assert_int_equal(smtpw_posix_server_held(f->c[0]), strlen("RCPT TO:<b@a.exa"));
    client_send(f, 1, "RCPT TO:<y@b.example>\r\n");
    assert_int_equal(drive(f, 1, POLLIN, &r1), 0);
    client_send(f, 0, "mple>\r\n");
    assert_int_equal(drive(f, 0, POLLIN, &r0), 0);
    assert_string_equal(r0.evs, "MR");
    assert_string_equal(r0.arg, "<b@a.example>");
    assert_string_equal(r1.arg, "<y@b.example>");
    fx_free(f);
}

/* With SMTPW_POSIX_NO_MALLOC and the pool used up, a session that must
 * keep bytes ends with 421 and SMTPW_E_NOBUF; the others are unharmed. */
static void pool_exhausted_without_malloc_ends_session(void **state)
{
    fx *f = fx_new(SMTPW_POSIX_NO_MALLOC, 1, 0, 0);
    run r0, r1;
    (void)state;
    memset(&r0, 0, sizeof r0);
    memset(&r1, 0, sizeof r1);
    fx_session(f, 1);
    greet(f, 0);
    greet(f, 1);
    client_send(f, 0, "NOOP");
    assert_int_equal(drive(f, 0, POLLIN, &r0), 0);
    assert_int_equal(smtpw_posix_server_held(f->c[0]), 4);
    client_send(f, 1, "NOOP");
    assert_int_equal(drive(f, 1, POLLIN, &r1), SMTPW_E_NOBUF);
    assert_string_equal(client_recv(f, 1),
                        "421 " HOST " Service not available, closing transmission channel\r\n");
    client_send(f, 0, "\r\n");
    assert_int_equal(drive(f, 0, POLLIN, &r0), 0);
    assert_string_equal(client_recv(f, 0), "250 Ok\r\n");
    assert_int_equal(smtpw_posix_server_held(f->c[0]), 0);
    fx_free(f);
}

/* RFC 3207 4.2: after STARTTLS the handshake runs through the hook; bytes
 * pipelined in the clear behind STARTTLS are never executed. */
static void rfc3207_4_2_starttls_drops_pipelined_plaintext(void **state)
{
    fx *f = fx_new(0, 4, 0, SMTPW_SERVER_STARTTLS);
    run r;
    (void)state;
    memset(&r, 0, sizeof r);
    f->k[0].tls_again = 1;
    greet(f, 0);
    client_send(f, 0, "EHLO c.example\r\n");
    assert_int_equal(drive(f, 0, POLLIN, &r), 0);
    (void)client_recv(f, 0);
    client_send(f, 0, "STARTTLS\r\nMAIL FROM:<evil@x.example>\r\n");
    assert_int_equal(drive(f, 0, POLLIN, &r), 0);
    assert_string_equal(client_recv(f, 0), "220 2.0.0 Ready to start TLS\r\n");
    assert_int_equal(f->k[0].tls_calls, 1);
    assert_int_equal(smtpw_posix_server_events(f->c[0]), POLLIN);
    assert_int_equal(smtpw_posix_server_held(f->c[0]), 0);
    assert_int_equal(drive(f, 0, POLLIN, &r), 0);
    assert_int_equal(f->k[0].tls_calls, 2);
    assert_string_equal(r.evs, "HT");
    /* The session starts over: MAIL before EHLO is refused. */
    client_send(f, 0, "MAIL FROM:<a@b.example>\r\n");
    assert_int_equal(drive(f, 0, POLLIN, &r), 0);
    assert_string_equal(r.evs, "HTX");
    assert_string_equal(client_recv(f, 0), "503 Send HELO/EHLO first\r\n");
    fx_free(f);
}

/* Into DATA on session 0 at f->now; the 354 is read by the client. */
static void to_data(fx *f, run *r)
{
    greet(f, 0);
    client_send(f, 0, "EHLO c.example\r\nMAIL FROM:<a@b.example>\r\nRCPT TO:<c@d.example>\r\n"
                      "DATA\r\n");
    assert_int_equal(drive(f, 0, POLLIN, r), 0);
    assert_string_equal(client_recv(f, 0), EHLO_REPLY "250 2.1.0 Sender ok\r\n"
                                           "250 2.1.5 Recipient ok\r\n"
                                           "354 Start mail input; end with <CRLF>.<CRLF>\r\n");
}

/* Slowloris in DATA: RFC 5321 4.5.3.2.7 bounds the wait for the peer, and
 * one byte now and then must not hold a session for ever.  Each body byte
 * buys 10 ms, never past now + timeout: a 1-byte-per-20-ms trickle times
 * out, with the exact deadlines below. */
static void rfc5321_4_5_3_2_7_body_trickle_times_out(void **state)
{
    fx *f = fx_new(0, 4, 50, 0);
    run r;
    static const uint64_t want[] = {1060, 1070, 1080, 1090};
    size_t i;
    (void)state;
    memset(&r, 0, sizeof r);
    to_data(f, &r);
    assert_int_equal(smtpw_posix_server_deadline(f->c[0]), 1050);
    for (i = 0; i < 4; i++) {
        f->now += 20;
        client_send(f, 0, "x");
        assert_int_equal(drive(f, 0, POLLIN, &r), 0);
        assert_int_equal(smtpw_posix_server_deadline(f->c[0]), want[i]);
    }
    f->now += 20; /* 1100: the credit no longer keeps up with the clock */
    client_send(f, 0, "x");
    assert_int_equal(drive(f, 0, POLLIN, &r), SMTPW_E_TIMEOUT);
    assert_string_equal(client_recv(f, 0), "421 4.3.2 " HOST
                                           " Service not available, closing transmission channel\r\n");
    assert_int_equal(r.bodylen, 5);
    fx_free(f);
}

/* A body that arrives at a normal rate is never cut: each burst moves the
 * deadline to now + timeout (the cap), for as long as the body lasts. */
static void rfc5321_4_5_3_2_7_steady_body_keeps_session(void **state)
{
    fx *f = fx_new(0, 4, 50, 0);
    run r;
    char chunk[1001];
    int i;
    (void)state;
    memset(&r, 0, sizeof r);
    memset(chunk, 'y', 998);
    memcpy(chunk + 998, "\r\n", 3);
    to_data(f, &r);
    for (i = 0; i < 40; i++) { /* 2 s of fake time, 40 timeouts long */
        f->now += 49;
        client_send(f, 0, chunk);
        r.bodylen = 0;
        assert_int_equal(drive(f, 0, POLLIN, &r), 0);
        assert_int_equal(smtpw_posix_server_deadline(f->c[0]), f->now + 50);
    }
    client_send(f, 0, ".\r\n");
    assert_int_equal(drive(f, 0, POLLIN, &r), 0);
    assert_string_equal(client_recv(f, 0), "250 2.0.0 Message accepted for delivery\r\n");
    fx_free(f);
}

/* An endless line without LF is dropped as it comes (500 later), and a
 * trickle after the first 512 octets times out like a body trickle. */
static void rfc5321_4_5_3_1_4_endless_line_trickle_times_out(void **state)
{
    fx *f = fx_new(0, 4, 50, 0);
    run r;
    char big[601];
    int i;
    (void)state;
    memset(&r, 0, sizeof r);
    memset(big, 'A', 600);
    big[600] = '\0';
    greet(f, 0);
    client_send(f, 0, big);
    assert_int_equal(drive(f, 0, POLLIN, &r), 0);
    assert_int_equal(smtpw_posix_server_held(f->c[0]), 0); /* nothing buffered */
    assert_int_equal(smtpw_posix_server_deadline(f->c[0]), 1050); /* capped */
    for (i = 0; i < 4; i++) {
        f->now += 20;
        client_send(f, 0, "A");
        assert_int_equal(drive(f, 0, POLLIN, &r), 0);
        assert_int_equal(smtpw_posix_server_held(f->c[0]), 0);
    }
    assert_int_equal(smtpw_posix_server_deadline(f->c[0]), 1090);
    f->now += 20;
    client_send(f, 0, "A");
    assert_int_equal(drive(f, 0, POLLIN, &r), SMTPW_E_TIMEOUT);
    assert_string_equal(client_recv(f, 0),
                        "421 " HOST " Service not available, closing transmission channel\r\n");
    fx_free(f);
}

static void init_checks_arguments(void **state)
{
    fx *f = fx_new(0, 4, 0, 0);
    smtpw_posix_shared_config sc;
    smtpw_posix_server *c;
    uint8_t small[100];
    void *mem = malloc(smtpw_posix_server_sizeof());
    void *shm = malloc(smtpw_posix_shared_sizeof());
    smtpw_posix_shared *sh;
    (void)state;
    assert_non_null(mem);
    assert_non_null(shm);
    assert_int_equal(smtpw_posix_server_init(mem, smtpw_posix_server_sizeof() - 1, f->sh, 0, &f->cfg,
                                             smtpw_posix_io_plain(), NULL, 0, &c),
                     SMTPW_E_NOBUF);
    assert_int_equal(smtpw_posix_server_init(mem, smtpw_posix_server_sizeof(), f->sh, -1, &f->cfg,
                                             smtpw_posix_io_plain(), NULL, 0, &c),
                     SMTPW_E_INVALID_ARG);
    smtpw_posix_shared_config_init(&sc, SMTPW_POSIX_SHARED_CONFIG_VERSION);
    assert_int_equal(smtpw_posix_shared_init(shm, smtpw_posix_shared_sizeof(), &sc, &sh),
                     SMTPW_E_INVALID_ARG); /* no scratch */
    sc.scratch = small;
    sc.scratch_len = sizeof small;
    assert_int_equal(smtpw_posix_shared_init(shm, smtpw_posix_shared_sizeof(), &sc, &sh),
                     SMTPW_E_INVALID_ARG); /* below 2048 */
    sc.version = 99;
    assert_int_equal(smtpw_posix_shared_init(shm, smtpw_posix_shared_sizeof(), &sc, &sh),
                     SMTPW_E_VERSION);
    assert_int_equal(smtpw_posix_shared_init(shm, 1, &sc, &sh), SMTPW_E_NOBUF);
    /* An idle session is small: the adapter adds little to the core. */
    assert_true(smtpw_posix_server_sizeof() <= smtpw_server_sizeof() + 96);
    free(mem);
    free(shm);
    fx_free(f);
}

/* common.h SMTPW_STATE_ALIGN: both adapter inits take memory aligned to
 * it and refuse any other (the shared state was not checked at all). */
static void api_state_align_posix(void **state)
{
    fx *f = fx_new(0, 4, 0, 0);
    smtpw_posix_shared_config sc;
    smtpw_posix_shared *sh;
    smtpw_posix_server *c;
    uint64_t *shm = malloc(smtpw_posix_shared_sizeof() + 16);
    uint64_t *mem = malloc(smtpw_posix_server_sizeof() + 16);
    unsigned char *b;
    size_t k;
    (void)state;
    assert_non_null(shm);
    assert_non_null(mem);
    smtpw_posix_shared_config_init(&sc, SMTPW_POSIX_SHARED_CONFIG_VERSION);
    sc.scratch = f->scratch;
    sc.scratch_len = sizeof f->scratch;
    b = (unsigned char *)shm;
    for (k = 1; k < SMTPW_STATE_ALIGN; k++)
        assert_int_equal(smtpw_posix_shared_init(b + k, smtpw_posix_shared_sizeof(), &sc, &sh),
                         SMTPW_E_INVALID_ARG);
    assert_int_equal(smtpw_posix_shared_init(b + SMTPW_STATE_ALIGN, smtpw_posix_shared_sizeof(),
                                             &sc, &sh),
                     0);
    b = (unsigned char *)mem;
    for (k = 1; k < SMTPW_STATE_ALIGN; k++)
        assert_int_equal(smtpw_posix_server_init(b + k, smtpw_posix_server_sizeof(), f->sh, 0,
                                                 &f->cfg, smtpw_posix_io_plain(), NULL, 0, &c),
                         SMTPW_E_INVALID_ARG);
    free(mem);
    free(shm);
    fx_free(f);
}

/* common.h SMTPW_EVENT_MIN_SIZE: step() refuses an event smaller than the
 * head, as the cores do, and nothing happens (the greeting stays queued). */
static void api_event_min_size_posix_server(void **state)
{
    fx *f = fx_new(0, 4, 0, 0);
    smtpw_event ev;
    char got[64];
    (void)state;
    assert_int_equal(smtpw_posix_server_step(f->c[0], 0, f->now, &ev, SMTPW_EVENT_MIN_SIZE - 1),
                     SMTPW_E_INVALID_ARG);
    assert_int_equal(recv(f->cfd[0], got, sizeof got, MSG_DONTWAIT), -1);
    assert_int_equal(smtpw_posix_server_step(f->c[0], 0, f->now, &ev, SMTPW_EVENT_MIN_SIZE), 0);
    assert_true(recv(f->cfd[0], got, sizeof got, MSG_DONTWAIT) > 0);
    fx_free(f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(rfc5321_3_3_whole_session),
        cmocka_unit_test(rfc2920_3_1_burst_one_read_one_write),
        cmocka_unit_test(rfc5321_2_3_8_partial_line_across_reads),
        cmocka_unit_test(rfc5321_2_3_8_session_one_byte_per_read),
        cmocka_unit_test(peer_closes_mid_data_ends_session),
        cmocka_unit_test(rfc5321_4_5_3_2_7_timeout_sends_421),
        cmocka_unit_test(deferred_data_end_keeps_pipelined_rest),
        cmocka_unit_test(rfc2920_3_1_deferred_verdict_tail_in_slot_outlives_event),
        cmocka_unit_test(rfc2920_3_1_deferred_verdict_tail_on_heap_outlives_event),
        cmocka_unit_test(rfc2920_backpressure_when_peer_does_not_read),
        cmocka_unit_test(shared_scratch_between_sessions),
        cmocka_unit_test(pool_exhausted_without_malloc_ends_session),
        cmocka_unit_test(rfc3207_4_2_starttls_drops_pipelined_plaintext),
        cmocka_unit_test(rfc5321_4_5_3_2_7_body_trickle_times_out),
        cmocka_unit_test(rfc5321_4_5_3_2_7_steady_body_keeps_session),
        cmocka_unit_test(rfc5321_4_5_3_1_4_endless_line_trickle_times_out),
        cmocka_unit_test(init_checks_arguments),
        cmocka_unit_test(api_state_align_posix),
        cmocka_unit_test(api_event_min_size_posix_server),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
