/* The POSIX client adapter (lib/posix/client.c) where a transcript cannot
 * say it: timeouts, segmentation, write sizes, TCP, TLS hook traffic and the
 * API's struct rules, over socketpair() against a scripted fake server in a
 * child process; and the DNS answer parser (lib/posix/dns.c) on hand-made
 * packets and a fake name server.  Plain transcripts (fixed replies to
 * fixed commands, checked byte-exact) are vectors in
 * tests/vectors/posix_client/.  SPDX-License-Identifier: MIT */
#if !defined(_POSIX_C_SOURCE) || _POSIX_C_SOURCE < 200809L
#undef _POSIX_C_SOURCE
#define _POSIX_C_SOURCE 200809L
#endif

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>

#include "guardbuf.h"
#include "smtpwire/posix.h"

/* ------------------------------------------------------------------ */
/* The fake server: runs in a child on one end of a socketpair, records
 * every byte the client sent and hands them to the parent through a pipe. */

#define REC_MAX (1u << 20)

typedef struct fake {
    int fd;
    uint8_t *rec; /* everything received */
    size_t reclen;
    size_t scan;  /* consumed by rd_line/rd_data */
} fake;

static int fill(fake *f)
{
    ssize_t n;
    if (f->reclen == REC_MAX)
        return 0;
    n = read(f->fd, f->rec + f->reclen, REC_MAX - f->reclen);
    if (n <= 0)
        return 0;
    f->reclen += (size_t)n;
    return 1;
}

/* Wait for one more line from the client; 0 at EOF. */
static int rd_line(fake *f)
{
    for (;;) {
        uint8_t *lf = memchr(f->rec + f->scan, '\n', f->reclen - f->scan);
        if (lf) {
            f->scan = (size_t)(lf - f->rec) + 1;
            return 1;
        }
        if (!fill(f))
            return 0;
    }
}

/* Wait for the end of a message: CRLF.CRLF, or "." CRLF at once. */
static int rd_data(fake *f)
{
    for (;;) {
        size_t i;
        if (f->reclen - f->scan >= 3 && memcmp(f->rec + f->scan, ".\r\n", 3) == 0) {
            f->scan += 3;
            return 1;
        }
        for (i = f->scan; i + 5 <= f->reclen; i++)
            if (memcmp(f->rec + i, "\r\n.\r\n", 5) == 0) {
                f->scan = i + 5;
                return 1;
            }
        if (!fill(f))
            return 0;
    }
}

static void wr(fake *f, const char *s)
{
    size_t len = strlen(s), off = 0;
    while (off < len) {
        ssize_t n = write(f->fd, s + off, len - off);
        if (n <= 0)
            return;
        off += (size_t)n;
    }
}

typedef void (*script_fn)(fake *f);

typedef struct peer {
    pid_t pid;
    int fd;   /* the client's end */
    int pipe; /* the recording comes back here */
} peer;

/* Run script on sv[1] in a child; the client keeps sv[0]. */
static peer start_on(int sv[2], script_fn script)
{
    int pp[2];
    peer p;
    assert_int_equal(pipe(pp), 0);
    p.pid = fork();
    assert_true(p.pid >= 0);
    if (p.pid == 0) {
        fake f;
        size_t off = 0;
        close(sv[0]);
        close(pp[0]);
        signal(SIGPIPE, SIG_IGN);
        f.fd = sv[1];
        f.rec = malloc(REC_MAX);
        f.reclen = f.scan = 0;
        if (!f.rec)
            _exit(2);
        script(&f);
        /* keep recording until the client hangs up, so QUIT is seen */
        while (fill(&f))
            ;
        close(f.fd);
        while (off < f.reclen) {
            ssize_t n = write(pp[1], f.rec + off, f.reclen - off);
            if (n <= 0)
                _exit(3);
            off += (size_t)n;
        }
        _exit(0);
    }
    close(sv[1]);
    close(pp[1]);
    p.fd = sv[0];
    p.pipe = pp[0];
    return p;
}

static peer start(script_fn script)
{
    int sv[2];
    assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
    return start_on(sv, script);
}

/* The same over a TCP connection on 127.0.0.1. */
static peer start_tcp(script_fn script)
{
    struct sockaddr_in a;
    socklen_t al = (socklen_t)sizeof a;
    int l = socket(AF_INET, SOCK_STREAM, 0), sv[2];
    assert_true(l >= 0);
    memset(&a, 0, sizeof a);
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    assert_int_equal(bind(l, (struct sockaddr *)&a, sizeof a), 0);
    assert_int_equal(listen(l, 1), 0);
    assert_int_equal(getsockname(l, (struct sockaddr *)&a, &al), 0);
    sv[0] = socket(AF_INET, SOCK_STREAM, 0);
    assert_int_equal(connect(sv[0], (struct sockaddr *)&a, sizeof a), 0);
    sv[1] = accept(l, NULL, NULL);
    assert_true(sv[1] >= 0);
    close(l);
    return start_on(sv, script);
}

/* Hang up and collect what the client sent (NUL-terminated, malloc'd). */
static char *finish(peer *p, size_t *len)
{
    size_t cap = REC_MAX + 1, n = 0;
    char *buf = malloc(cap);
    int status = 0;
    assert_non_null(buf);
    close(p->fd);
    for (;;) {
        ssize_t r = read(p->pipe, buf + n, cap - 1 - n);
        if (r <= 0)
            break;
        n += (size_t)r;
    }
    close(p->pipe);
    buf[n] = '\0';
    assert_int_equal(waitpid(p->pid, &status, 0), p->pid);
    assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    if (len)
        *len = n;
    return buf;
}

/* Text for the adapter: (pointer, length) of a string literal. */
#define SPAN(lit) {lit, sizeof(lit) - 1}

static smtpw_span span_of(const char *s)
{
    smtpw_span t;
    t.ptr = s;
    t.len = s ? strlen(s) : 0;
    return t;
}

static const smtpw_span two[] = {SPAN("b@y.test"), SPAN("c@y.test")};

static void opts_for(smtpw_posix_send_config *o, const smtpw_span *rcpt, size_t n, const char *body)
{
    smtpw_posix_send_config_init(o, SMTPW_POSIX_SEND_CONFIG_VERSION);
    o->helo = span_of("client.test");
    o->from = span_of("a@x.test");
    o->rcpt = rcpt;
    o->nrcpt = n;
    o->body = (const uint8_t *)body;
    o->bodylen = strlen(body);
    o->timeout_ms = 3000;
}

static void run(script_fn script, smtpw_posix_send_config *o, smtpw_posix_send_result *r,
                char **rec)
{
    peer p = start(script);
    smtpw_posix_send_fd(p.fd, o, r, sizeof *r);
    *rec = finish(&p, NULL);
}

/* ---- scripts ---- */

static void srv_silent(fake *f)
{
    (void)f; /* never greets; finish() records until the client hangs up */
}

static long long mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* RFC 5321 4.5.3.2.1: the greeting wait is bounded (here by timeout_ms). */
static void rfc5321_4_5_3_2_1_greeting_timeout(void **state)
{
    smtpw_posix_send_config o;
    smtpw_posix_send_result r;
    char *rec;
    long long t0, took;
    (void)state;
    opts_for(&o, two, 2, "body\n");
    o.timeout_ms = 200;
    o.rcpt_replies = NULL;
    t0 = mono_ms();
    {
        peer p = start(srv_silent);
        assert_int_equal(smtpw_posix_send_fd(p.fd, &o, &r, sizeof r), SMTPW_E_TIMEOUT);
        took = mono_ms() - t0;
        rec = finish(&p, NULL);
    }
    assert_int_equal(r.err, SMTPW_E_TIMEOUT);
    assert_int_equal(r.stage, SMTPW_CMD_NONE);
    assert_true(took >= 190 && took < 2000);
    assert_string_equal(rec, "");
    free(rec);
}

static void srv_silent_after_body(fake *f)
{
    wr(f, "220 fake\r\n");
    rd_line(f);
    wr(f, "250-fake\r\n250 PIPELINING\r\n");
    rd_line(f);
    rd_line(f);
    rd_line(f);
    wr(f, "250 ok\r\n250 ok\r\n354 go\r\n");
    rd_data(f); /* then nothing: the client must give up */
}

/* RFC 5321 4.5.3.2.6: the wait for the reply to "." is bounded too. */
static void rfc5321_4_5_3_2_6_data_termination_timeout(void **state)
{
    static const smtpw_span one[] = {SPAN("b@y.test")};
    smtpw_posix_send_config o;
    smtpw_posix_send_result r;
    char *rec;
    long long t0, took;
    peer p;
    (void)state;
    opts_for(&o, one, 1, "body\n");
    o.timeout_ms = 200;
    o.rcpt_replies = NULL;
    t0 = mono_ms();
    p = start(srv_silent_after_body);
    assert_int_equal(smtpw_posix_send_fd(p.fd, &o, &r, sizeof r), SMTPW_E_TIMEOUT);
    took = mono_ms() - t0;
    rec = finish(&p, NULL);
    assert_int_equal(r.err, SMTPW_E_TIMEOUT);
    assert_int_equal(r.delivered, 0);
    assert_true(took >= 190 && took < 2000);
    assert_string_equal(rec, "EHLO client.test\r\nMAIL FROM:<a@x.test>\r\n"
                             "RCPT TO:<b@y.test>\r\nDATA\r\nbody\r\n.\r\n");
    free(rec);
}

/* ---- STARTTLS (RFC 3207) through fake hooks: "TLS" is the identity, so
 * the fake server's recording shows every byte in order ---- */

typedef struct ftls {
    int handshakes, fail, active;
    size_t tx_tls; /* bytes written through the hook after the handshake */
} ftls;

static int ftls_read(void *ctx, int fd, uint8_t *buf, size_t cap, size_t *got, unsigned *wait)
{
    (void)ctx;
    return smtpw_posix_plain_read(NULL, fd, buf, cap, got, wait);
}

static int ftls_write(void *ctx, int fd, const uint8_t *buf, size_t len, size_t *sent,
                      unsigned *wait)
{
    ftls *t = ctx;
    int rc = smtpw_posix_plain_write(NULL, fd, buf, len, sent, wait);
    if (rc == 0 && t->active)
        t->tx_tls += *sent;
    return rc;
}

static int ftls_starttls(void *ctx, int fd, unsigned *wait)
{
    ftls *t = ctx;
    (void)fd;
    (void)wait;
    t->handshakes++;
    if (t->fail)
        return SMTPW_E_TLS;
    t->active = 1;
    return 0;
}

static const smtpw_posix_io ftls_io = {SMTPW_POSIX_IO_VERSION, ftls_read, ftls_write, ftls_starttls, NULL, NULL};

static const smtpw_span one_rcpt[] = {SPAN("b@y.test")};

static void tls_opts(smtpw_posix_send_config *o, ftls *t, uint32_t policy)
{
    opts_for(o, one_rcpt, 1, "hi\n");
    memset(t, 0, sizeof *t);
    o->io = &ftls_io;
    o->io_ctx = t;
    o->tls = policy;
}

/* the rest of a plain one-at-a-time transaction after EHLO */
static void srv_txn(fake *f)
{
    rd_line(f);
    wr(f, "250 ok\r\n");
    rd_line(f);
    wr(f, "250 ok\r\n");
    rd_line(f);
    wr(f, "354 go\r\n");
    rd_data(f);
    wr(f, "250 queued\r\n");
    rd_line(f);
    wr(f, "221 bye\r\n");
}

static void srv_inject(fake *f)
{
    wr(f, "220 fake\r\n");
    rd_line(f);
    wr(f, "250-fake\r\n250 STARTTLS\r\n");
    rd_line(f);
    /* one write: the injected reply sits right behind the 220 */
    wr(f, "220 go\r\n250 injected\r\n");
    rd_line(f);
    /* after TLS: STARTTLS again on offer, which the client must ignore */
    wr(f, "250-real\r\n250 STARTTLS\r\n");
    srv_txn(f);
}

static void trace_log(void *arg, uint32_t dir, const char *line, size_t len)
{
    char *log = arg;
    size_t n = strlen(log);
    if (n + len + 4 < 2048) {
        log[n] = dir == SMTPW_POSIX_TRACE_INFO ? '*' : dir == SMTPW_POSIX_TRACE_SERVER ? 'S' : 'C';
        memcpy(log + n + 1, line, len);
        log[n + 1 + len] = '\n';
        log[n + 2 + len] = '\0';
    }
}

/* RFC 3207 4.2: bytes after the 220 are dropped unread (the client mirror
 * of CVE-2011-0411), the handshake runs, EHLO is sent again and its reply
 * alone counts; STARTTLS is not sent twice. */
static void rfc3207_4_2_injected_reply_discarded_then_ehlo(void **state)
{
    static const char before[] = "EHLO client.test\r\nSTARTTLS\r\n";
    smtpw_posix_send_config o;
    smtpw_posix_send_result r;
    ftls t;
    char *rec, log[2048] = "";
    size_t reclen;
    peer p;
    (void)state;
    tls_opts(&o, &t, SMTPW_POSIX_TLS_REQUIRE);
    o.trace = trace_log;
    o.trace_arg = log;
    o.rcpt_replies = NULL;
    p = start(srv_inject);
    assert_int_equal(smtpw_posix_send_fd(p.fd, &o, &r, sizeof r), 0);
    rec = finish(&p, &reclen);
    assert_int_equal(r.err, 0);
    assert_int_equal(r.delivered, 1);
    assert_int_equal(t.handshakes, 1);
    assert_string_equal(rec, "EHLO client.test\r\nSTARTTLS\r\n"
                             "EHLO client.test\r\nMAIL FROM:<a@x.test>\r\n"
                             "RCPT TO:<b@y.test>\r\nDATA\r\nhi\r\n.\r\nQUIT\r\n");
    /* everything after STARTTLS went through the hook in TLS mode */
    assert_int_equal(t.tx_tls, reclen - strlen(before));
    assert_string_equal(log, "S220 fake\nCEHLO client.test\nS250-fake\nS250 STARTTLS\n"
                             "CSTARTTLS\nS220 go\n"
                             "*discarded 14 octets sent in clear after the 220 (RFC 3207 4.2)\n"
                             "*TLS started\n"
                             "CEHLO client.test\nS250-real\nS250 STARTTLS\n"
                             "CMAIL FROM:<a@x.test>\nS250 ok\nCRCPT TO:<b@y.test>\nS250 ok\n"
                             "CDATA\nS354 go\nC(message body, 3 octets, and \".\")\n"
                             "S250 queued\nCQUIT\nS221 bye\n");
    free(rec);
}

static void srv_offers_starttls(fake *f)
{
    wr(f, "220 fake\r\n");
    rd_line(f);
    wr(f, "250-fake\r\n250 STARTTLS\r\n");
    srv_txn(f);
}

/* api.md B: a config is read only as far as its version goes.  A version
 * 1 struct followed by garbage runs as if the rest were the defaults (no
 * byte past it is read: the garbage would say TLS REQUIRE and a bad
 * io); version 0 and a version newer than the library are
 * SMTPW_E_VERSION before a byte is sent. */
static void send_config_older_version(void **state)
{
    union {
        smtpw_posix_send_config cfg;
        unsigned char bytes[sizeof(smtpw_posix_send_config) + 64];
    } u;
    smtpw_posix_send_result r;
    int sv[2];
    char *rec, c;
    (void)state;
    memset(&u, 0xA5, sizeof u);
    opts_for(&u.cfg, one_rcpt, 1, "hi\n");
    u.cfg.version = 1; /* what a 1.0 caller passes */
    run(srv_offers_starttls, &u.cfg, &r, &rec);
    assert_int_equal(r.err, 0);
    assert_int_equal(r.delivered, 1);
    assert_null(strstr(rec, "STARTTLS"));
    free(rec);

    assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
    u.cfg.version = 0;
    assert_int_equal(smtpw_posix_send_fd(sv[0], &u.cfg, &r, sizeof r), SMTPW_E_VERSION);
    assert_int_equal(r.err, SMTPW_E_VERSION);
    u.cfg.version = SMTPW_POSIX_SEND_CONFIG_VERSION + 1;
    assert_int_equal(smtpw_posix_send_fd(sv[0], &u.cfg, &r, sizeof r), SMTPW_E_VERSION);
    assert_int_equal(smtpw_posix_send("127.0.0.1", "1", &u.cfg, &r, sizeof r), SMTPW_E_VERSION);
    assert_int_equal(recv(sv[1], &c, 1, MSG_DONTWAIT), -1);
    close(sv[0]);
    close(sv[1]);

    /* config_init writes that version's bytes and no more */
    memset(&u, 0xA5, sizeof u);
    assert_int_equal(smtpw_posix_send_config_init(&u.cfg, 1), 0);
    assert_int_equal(u.cfg.version, 1);
    assert_int_equal(u.cfg.tls, SMTPW_POSIX_TLS_NEVER);
    assert_null(u.cfg.from.ptr); /* {NULL, 0}: the null reverse-path */
    assert_int_equal(u.cfg.from.len, 0);
    assert_null(u.cfg.helo.ptr);
    assert_int_equal(u.cfg.helo.len, 0);
    assert_null(u.cfg.rcpt_replies);
    assert_int_equal(u.bytes[sizeof u.cfg], 0xA5);
    assert_int_equal(u.bytes[sizeof u.bytes - 1], 0xA5);
    memset(&u, 0xA5, sizeof u);
    assert_int_equal(smtpw_posix_send_config_init(&u.cfg, 0), SMTPW_E_VERSION);
    assert_int_equal(smtpw_posix_send_config_init(&u.cfg, SMTPW_POSIX_SEND_CONFIG_VERSION + 1),
                     SMTPW_E_VERSION);
    assert_int_equal(u.bytes[0], 0xA5);
    assert_int_equal(smtpw_posix_send_config_init(NULL, 1), SMTPW_E_INVALID_ARG);
}

/* api.md B: the result is written up to the caller's size and no further
 * (an older caller's smaller struct), and zero-filled past the library's
 * own (a newer caller's bigger one). */
static void send_result_size_never_written_past(void **state)
{
    smtpw_posix_send_config o;
    union {
        smtpw_posix_send_result res;
        unsigned char bytes[sizeof(smtpw_posix_send_result) + 32];
    } u;
    size_t small = offsetof(smtpw_posix_send_result, reply);
    char *rec;
    peer p;
    (void)state;
    opts_for(&o, one_rcpt, 1, "hi\n");
    memset(&u, 0xA5, sizeof u);
    p = start(srv_offers_starttls);
    assert_int_equal(smtpw_posix_send_fd(p.fd, &o, &u.res, small), 0);
    rec = finish(&p, NULL);
    free(rec);
    assert_int_equal(u.res.err, 0);
    assert_int_equal(u.res.delivered, 1);
    assert_int_equal(u.res.stage, SMTPW_CMD_BODY);
    assert_int_equal(u.bytes[small], 0xA5); /* reply.code untouched */
    assert_int_equal(u.bytes[sizeof u.bytes - 1], 0xA5);

    memset(&u, 0xA5, sizeof u);
    p = start(srv_offers_starttls);
    assert_int_equal(smtpw_posix_send_fd(p.fd, &o, &u.res, sizeof u.bytes), 0);
    rec = finish(&p, NULL);
    free(rec);
    assert_int_equal(u.res.reply.code, 250);
    assert_int_equal(u.bytes[sizeof u.res], 0);
    assert_int_equal(u.bytes[sizeof u.bytes - 1], 0);

    /* NULL result: nothing to write into */
    assert_int_equal(smtpw_posix_send_fd(-1, &o, NULL, sizeof u.res), SMTPW_E_INVALID_ARG);
}

/* Bad policies are refused before a byte is sent: an unknown value, and
 * REQUIRE over hooks that cannot start TLS.  OPPORTUNISTIC over plain
 * hooks is allowed (it runs, and here meets a closed peer). */
static void tls_policy_checked_before_sending(void **state)
{
    smtpw_posix_send_config o;
    smtpw_posix_send_result r;
    int sv[2];
    char c;
    (void)state;
    opts_for(&o, one_rcpt, 1, "hi\n");
    o.rcpt_replies = NULL;
    assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
    o.tls = 3;
    assert_int_equal(smtpw_posix_send_fd(sv[0], &o, &r, sizeof r), SMTPW_E_INVALID_ARG);
    assert_int_equal(r.err, SMTPW_E_INVALID_ARG);
    o.tls = SMTPW_POSIX_TLS_REQUIRE; /* io NULL: plain, no starttls hook */
    assert_int_equal(smtpw_posix_send_fd(sv[0], &o, &r, sizeof r), SMTPW_E_INVALID_ARG);
    assert_int_equal(recv(sv[1], &c, 1, MSG_DONTWAIT), -1);
    assert_true(errno == EAGAIN || errno == EWOULDBLOCK);
    close(sv[1]);
    o.tls = SMTPW_POSIX_TLS_OPPORTUNISTIC;
    assert_int_equal(smtpw_posix_send_fd(sv[0], &o, &r, sizeof r), SMTPW_E_IO);
    close(sv[0]);
}

/* ---- the body goes out in large writes, the terminator in the last ---- */

typedef struct write_log {
    size_t calls, lens[64]; /* what the adapter asked to write, per call */
    int ends_dot[64];       /* that request ended with CRLF "." CRLF */
} write_log;

static int rec_write(void *ctx, int fd, const uint8_t *buf, size_t len, size_t *sent,
                     unsigned *wait)
{
    write_log *w = ctx;
    if (w->calls < 64) {
        w->lens[w->calls] = len;
        w->ends_dot[w->calls] = len >= 5 && memcmp(buf + len - 5, "\r\n.\r\n", 5) == 0;
    }
    w->calls++;
    return smtpw_posix_plain_write(NULL, fd, buf, len, sent, wait);
}

static void srv_big(fake *f)
{
    wr(f, "220 fake\r\n");
    rd_line(f);
    wr(f, "250-fake\r\n250 PIPELINING\r\n");
    rd_line(f);
    rd_line(f);
    rd_line(f);
    wr(f, "250 ok\r\n250 ok\r\n354 go\r\n");
    rd_data(f);
    wr(f, "250 ok\r\n");
    rd_line(f);
    wr(f, "221 bye\r\n");
}

/* The body is never written line by line, and "." CRLF never alone. */
static void body_in_large_writes_with_the_terminator(void **state)
{
    static const smtpw_span one[] = {SPAN("b@y.test")};
    smtpw_posix_io io;
    write_log w;
    smtpw_posix_send_config o;
    smtpw_posix_send_result r;
    char *body = malloc(200001), *rec;
    size_t i, reclen, body_writes = 0;
    peer p;
    (void)state;
    assert_non_null(body);
    for (i = 0; i < 200000; i++)
        body[i] = (i % 50 == 49) ? '\n' : (char)('a' + i % 26);
    body[200000] = '\0';
    memset(&w, 0, sizeof w);
    io = *smtpw_posix_io_plain();
    io.write = rec_write;
    opts_for(&o, one, 1, body);
    o.io = &io;
    o.io_ctx = &w;
    o.rcpt_replies = NULL;
    p = start(srv_big);
    smtpw_posix_send_fd(p.fd, &o, &r, sizeof r);
    rec = finish(&p, &reclen);
    assert_int_equal(r.err, 0);
    assert_int_equal(r.delivered, 1);
    /* 4000 lines of 50: 204000 octets of body plus ".\r\n" */
    assert_true(strstr(rec, "DATA\r\n") != NULL);
    assert_int_equal(reclen, strlen("EHLO client.test\r\nMAIL FROM:<a@x.test>\r\n"
                                    "RCPT TO:<b@y.test>\r\nDATA\r\n") +
                                 204000 + 3 + strlen("QUIT\r\n"));
    /* requests: EHLO, the flight, the body in a few, QUIT (a partial
     * write repeats the rest of a request) */
    assert_true(w.calls >= 4 && w.calls <= 40);
    assert_int_equal(w.lens[w.calls - 1], 6); /* QUIT */
    assert_true(w.ends_dot[w.calls - 2]);
    assert_true(w.lens[w.calls - 2] > 5); /* never the final dot alone */
    assert_true(w.lens[2] >= 16384); /* the first body request is large */
    for (i = 2; i + 1 < w.calls; i++)
        body_writes++;
    assert_true(body_writes <= 20); /* 204 KiB: never line by line */
    free(rec);
    free(body);
}


/* ------------------------------------------------------------------ */
/* A hostile server.                                                  */

/* Write s one octet per segment. */
static void wr_slow(fake *f, const char *s)
{
    for (; *s; s++) {
        struct timespec ts = {0, 200000};
        if (write(f->fd, s, 1) != 1)
            return;
        nanosleep(&ts, NULL);
    }
}

static void srv_trickle(fake *f)
{
    wr_slow(f, "220 fake ESMTP\r\n");
    rd_line(f);
    wr_slow(f, "250-fake\r\n250 PIPELINING\r\n");
    rd_line(f);
    rd_line(f);
    rd_line(f);
    wr_slow(f, "250 2.1.0 ok\r\n250 2.1.5 ok\r\n354 go\r\n");
    rd_data(f);
    wr_slow(f, "250 2.0.0 queued\r\n");
    rd_line(f);
    wr_slow(f, "221 bye\r\n");
}

/* Every reply in 1-octet TCP segments: the same session as in one piece. */
static void rfc5321_4_2_replies_in_one_octet_segments(void **state)
{
    smtpw_posix_send_config o;
    smtpw_posix_send_result r;
    char *rec;
    (void)state;
    memset(&r, 0, sizeof r);
    opts_for(&o, one_rcpt, 1, "hi\n");
    run(srv_trickle, &o, &r, &rec);
    assert_int_equal(r.err, 0);
    assert_int_equal(r.delivered, 1);
    assert_string_equal(r.reply.text, "250 2.0.0 queued");
    assert_string_equal(rec, "EHLO client.test\r\nMAIL FROM:<a@x.test>\r\n"
                             "RCPT TO:<b@y.test>\r\nDATA\r\nhi\r\n.\r\nQUIT\r\n");
    free(rec);
}

static void srv_endless(fake *f)
{
    static char junk[65536];
    int i;
    memset(junk, 'x', sizeof junk);
    wr(f, "220 ");
    /* 64 MiB without a LF, unless the client hangs up first */
    for (i = 0; i < 1024; i++) {
        size_t off = 0;
        while (off < sizeof junk) {
            ssize_t n = write(f->fd, junk + off, sizeof junk - off);
            if (n <= 0)
                return;
            off += (size_t)n;
        }
    }
}

/* An endless greeting without LF: refused once the line limit is passed,
 * long before the timeout and without buffering it. */
static void rfc5321_4_5_3_1_5_endless_reply_line(void **state)
{
    smtpw_posix_send_config o;
    smtpw_posix_send_result r;
    char *rec;
    long long t0;
    (void)state;
    memset(&r, 0, sizeof r);
    opts_for(&o, one_rcpt, 1, "hi\n");
    o.timeout_ms = 20000;
    t0 = mono_ms();
    run(srv_endless, &o, &r, &rec);
    assert_int_equal(r.err, SMTPW_E_PROTO);
    assert_int_equal(r.stage, SMTPW_CMD_NONE);
    assert_true(mono_ms() - t0 < 5000);
    assert_string_equal(rec, "");
    free(rec);
}

static void srv_helo_only(fake *f)
{
    wr(f, "220 fake\r\n");
    rd_line(f);
    wr(f, "554 5.7.1 go away\r\n");
    rd_line(f);
    wr(f, "221 bye\r\n");
}

/* RFC 5321 4.1.4: with no helo given, the address literal of the local
 * end; "localhost" only where there is no address. */
static void rfc5321_4_1_4_default_helo_address_literal(void **state)
{
    smtpw_posix_send_config o;
    smtpw_posix_send_result r;
    peer p;
    char *rec;
    (void)state;
    memset(&r, 0, sizeof r);
    opts_for(&o, one_rcpt, 1, "hi\n");
    o.helo = span_of(NULL);
    p = start_tcp(srv_helo_only);
    smtpw_posix_send_fd(p.fd, &o, &r, sizeof r);
    rec = finish(&p, NULL);
    assert_int_equal(r.stage, SMTPW_CMD_EHLO);
    assert_string_equal(rec, "EHLO [127.0.0.1]\r\nQUIT\r\n");
    free(rec);
    o.helo = span_of("client.test");
    o.helo.len = 0; /* length 0 is "none", whatever the pointer */
    run(srv_helo_only, &o, &r, &rec); /* AF_UNIX: no address */
    assert_string_equal(rec, "EHLO localhost\r\nQUIT\r\n");
    free(rec);
}

/* ------------------------------------------------------------------ */
/* DNS answers: hand-made packets, placed flush against a guard page.  */

typedef struct pkt {
    uint8_t b[4096];
    size_t n;
} pkt;

static void put(pkt *p, const void *d, size_t n)
{
    memcpy(p->b + p->n, d, n);
    p->n += n;
}

static void put16(pkt *p, unsigned v)
{
    p->b[p->n++] = (uint8_t)(v >> 8);
    p->b[p->n++] = (uint8_t)v;
}

/* Header + question "example.test" MX IN; the qname sits at offset 12. */
static void hdr(pkt *p, uint16_t id, unsigned flags, unsigned an)
{
    p->n = 0;
    put16(p, id);
    put16(p, flags);
    put16(p, 1);
    put16(p, an);
    put16(p, 0);
    put16(p, 0);
    put(p, "\x07" "example" "\x04" "test", 13);
    p->b[p->n++] = 0;
    put16(p, 15);
    put16(p, 1);
}

/* An MX record owned by the qname (pointer 0xC00C), exchange given in wire
 * form (may contain pointers). */
static void mx_rr(pkt *p, unsigned pref, const void *exch, size_t exlen)
{
    put16(p, 0xC00C);
    put16(p, 15);
    put16(p, 1);
    put16(p, 0);
    put16(p, 300);
    put16(p, (unsigned)(2 + exlen));
    put16(p, pref);
    put(p, exch, exlen);
}

static int parse(const pkt *p, uint16_t id, smtpw_posix_mx *out, size_t cap)
{
    return smtpw_posix_dns_parse_mx(guardbuf_put(p->b, p->n), p->n, id, out, cap);
}

/* RFC 5321 5.1: lowest preference first, equal ones in any (here: given)
 * order; names compressed against the question (RFC 1035 4.1.4). */
static void rfc5321_5_1_mx_preference_order(void **state)
{
    pkt p;
    smtpw_posix_mx mx[4];
    (void)state;
    hdr(&p, 0x1234, 0x8180, 3);
    mx_rr(&p, 20, "\x03" "mx2" "\xC0\x0C", 6);
    mx_rr(&p, 10, "\x03" "mxa" "\xC0\x0C", 6);
    mx_rr(&p, 10, "\x03" "mxb" "\xC0\x0C", 6);
    assert_int_equal(parse(&p, 0x1234, mx, 4), 3);
    assert_int_equal(mx[0].pref, 10);
    assert_string_equal(mx[0].host, "mxa.example.test");
    assert_int_equal(mx[1].pref, 10);
    assert_string_equal(mx[1].host, "mxb.example.test");
    assert_int_equal(mx[2].pref, 20);
    assert_string_equal(mx[2].host, "mx2.example.test");
    /* only room for two: the least preferred one falls off */
    assert_int_equal(parse(&p, 0x1234, mx, 2), 3);
    assert_string_equal(mx[0].host, "mxa.example.test");
    assert_string_equal(mx[1].host, "mxb.example.test");
}

/* A pointer to a pointer (a chain going backwards) is fine. */
static void rfc1035_4_1_4_pointer_chain(void **state)
{
    pkt p;
    smtpw_posix_mx mx[2];
    size_t first;
    (void)state;
    hdr(&p, 7, 0x8180, 2);
    first = p.n + 12 + 2; /* where the first exchange name starts */
    mx_rr(&p, 5, "\x04" "mail" "\xC0\x0C", 7);
    {
        uint8_t ex[] = {0x02, 'a', 'b', 0xC0, (uint8_t)first};
        mx_rr(&p, 6, ex, sizeof ex);
    }
    assert_int_equal(parse(&p, 7, mx, 2), 2);
    assert_string_equal(mx[0].host, "mail.example.test");
    assert_string_equal(mx[1].host, "ab.mail.example.test");
}

/* RFC 1035 4.1.4 pointers must point to a prior occurrence: a pointer to
 * itself, a forward one and a cycle are all refused. */
static void rfc1035_4_1_4_pointer_loops_refused(void **state)
{
    pkt p;
    smtpw_posix_mx mx[2];
    size_t at;
    (void)state;
    /* pointer to itself */
    hdr(&p, 7, 0x8180, 1);
    at = p.n + 12 + 2;
    {
        uint8_t ex[] = {0xC0, (uint8_t)at};
        mx_rr(&p, 5, ex, sizeof ex);
    }
    assert_int_equal(parse(&p, 7, mx, 2), SMTPW_E_PROTO);
    /* forward pointer (past the end of the name) */
    hdr(&p, 7, 0x8180, 1);
    at = p.n + 12 + 2;
    {
        uint8_t ex[] = {0xC0, (uint8_t)(at + 2), 0x00};
        mx_rr(&p, 5, ex, sizeof ex);
    }
    assert_int_equal(parse(&p, 7, mx, 2), SMTPW_E_PROTO);
    /* two names pointing at each other: "a" -> (b) and "b" -> (a) */
    hdr(&p, 7, 0x8180, 2);
    at = p.n + 12 + 2;
    {
        uint8_t ex1[] = {0x01, 'a', 0xC0, (uint8_t)(at + 4 + 14)};
        uint8_t ex2[] = {0x01, 'b', 0xC0, (uint8_t)at};
        mx_rr(&p, 5, ex1, sizeof ex1);
        mx_rr(&p, 6, ex2, sizeof ex2);
    }
    assert_int_equal(parse(&p, 7, mx, 2), SMTPW_E_PROTO);
    /* a pointer into the header */
    hdr(&p, 7, 0x8180, 1);
    mx_rr(&p, 5, "\xC0\x02", 2);
    assert_int_equal(parse(&p, 7, mx, 2), SMTPW_E_PROTO);
}

/* Every truncation of a valid answer is refused, never read past. */
static void rfc1035_4_1_truncated_packets_refused(void **state)
{
    pkt p;
    smtpw_posix_mx mx[2];
    size_t n, full;
    (void)state;
    hdr(&p, 9, 0x8180, 2);
    mx_rr(&p, 10, "\x02" "mx" "\xC0\x0C", 5);
    mx_rr(&p, 20, "\x03" "mx2" "\x07" "example" "\x03" "org" "\x00", 17);
    full = p.n;
    assert_int_equal(parse(&p, 9, mx, 2), 2);
    assert_string_equal(mx[1].host, "mx2.example.org");
    for (n = 0; n < full; n++) {
        int rc = smtpw_posix_dns_parse_mx(guardbuf_put(p.b, n), n, 9, mx, 2);
        assert_true(rc == SMTPW_E_PROTO);
    }
}

/* Labels of at most 63 octets, names of at most 255 (RFC 1035 2.3.4),
 * and only host-name bytes. */
static void rfc1035_2_3_4_label_and_name_limits(void **state)
{
    pkt p;
    smtpw_posix_mx mx[1];
    uint8_t ex[300];
    size_t i;
    (void)state;
    hdr(&p, 1, 0x8180, 1);
    ex[0] = 64;
    memset(ex + 1, 'a', 64);
    ex[65] = 0;
    mx_rr(&p, 1, ex, 66);
    assert_int_equal(parse(&p, 1, mx, 1), SMTPW_E_PROTO);
    /* 4 labels of 63: 257 octets */
    hdr(&p, 1, 0x8180, 1);
    for (i = 0; i < 4; i++) {
        ex[i * 64] = 63;
        memset(ex + i * 64 + 1, 'b', 63);
    }
    ex[256] = 0;
    mx_rr(&p, 1, ex, 257);
    assert_int_equal(parse(&p, 1, mx, 1), SMTPW_E_PROTO);
    /* a dot inside a label would change the name once it is text */
    hdr(&p, 1, 0x8180, 1);
    mx_rr(&p, 1, "\x03" "a.b" "\x00", 5);
    assert_int_equal(parse(&p, 1, mx, 1), SMTPW_E_PROTO);
    /* extended label types (0x40, 0x80) */
    hdr(&p, 1, 0x8180, 1);
    mx_rr(&p, 1, "\x41" "a" "\x00", 3);
    assert_int_equal(parse(&p, 1, mx, 1), SMTPW_E_PROTO);
}

/* Header checks: id, QR, TC, rcodes; RFC 7505 null MX; no MX at all. */
static void rfc1035_4_1_1_header_and_rfc7505_null_mx(void **state)
{
    pkt p;
    smtpw_posix_mx mx[2];
    (void)state;
    hdr(&p, 0xBEEF, 0x8180, 1);
    mx_rr(&p, 0, "\x00", 1);
    assert_int_equal(parse(&p, 0xBEEF, mx, 2), 1);
    assert_int_equal(mx[0].pref, 0);
    assert_string_equal(mx[0].host, "");
    assert_int_equal(parse(&p, 0xBEEE, mx, 2), SMTPW_E_DNS); /* wrong id */
    hdr(&p, 5, 0x0100, 0);                                     /* a query, not a response */
    assert_int_equal(parse(&p, 5, mx, 2), SMTPW_E_DNS);
    hdr(&p, 5, 0x8380, 0); /* TC */
    assert_int_equal(parse(&p, 5, mx, 2), SMTPW_E_DNS);
    hdr(&p, 5, 0x8183, 0); /* NXDOMAIN */
    assert_int_equal(parse(&p, 5, mx, 2), SMTPW_E_NXDOMAIN);
    hdr(&p, 5, 0x8182, 0); /* SERVFAIL */
    assert_int_equal(parse(&p, 5, mx, 2), SMTPW_E_DNS);
    hdr(&p, 5, 0x8180, 0); /* NOERROR, no MX: the implicit MX applies */
    assert_int_equal(parse(&p, 5, mx, 2), 0);
    /* an answer count larger than the packet */
    hdr(&p, 5, 0x8180, 40);
    mx_rr(&p, 1, "\x00", 1);
    assert_int_equal(parse(&p, 5, mx, 2), SMTPW_E_PROTO);
}

/* Records about other names are ignored; a CNAME is followed. */
static void rfc1034_3_6_2_cname_followed_others_ignored(void **state)
{
    pkt p;
    smtpw_posix_mx mx[2];
    size_t alias;
    (void)state;
    hdr(&p, 3, 0x8180, 3);
    /* example.test CNAME alias.example.test */
    put16(&p, 0xC00C);
    put16(&p, 5);
    put16(&p, 1);
    put16(&p, 0);
    put16(&p, 60);
    put16(&p, 8);
    alias = p.n;
    put(&p, "\x05" "alias" "\xC0\x0C", 8);
    /* an MX for another name: ignored */
    put(&p, "\x05" "other" "\xC0\x0C", 8);
    put16(&p, 15);
    put16(&p, 1);
    put16(&p, 0);
    put16(&p, 60);
    put16(&p, 5);
    put16(&p, 1);
    put(&p, "\x01" "x" "\x00", 3);
    /* alias.example.test MX 7 mx.alias.example.test */
    put16(&p, 0xC000 | (unsigned)alias);
    put16(&p, 15);
    put16(&p, 1);
    put16(&p, 0);
    put16(&p, 60);
    put16(&p, 7);
    put16(&p, 7);
    {
        uint8_t ex[] = {0x02, 'm', 'x', 0xC0, (uint8_t)alias};
        put(&p, ex, sizeof ex);
    }
    assert_int_equal(parse(&p, 3, mx, 2), 1);
    assert_int_equal(mx[0].pref, 7);
    assert_string_equal(mx[0].host, "mx.alias.example.test");
}


/* ---- a fake nameserver on 127.0.0.1, in a child ---- */

typedef void (*dns_fn)(int ns, const struct sockaddr_in *to, uint16_t id, int n);

static int udp_bound(const char *ip)
{
    struct sockaddr_in a;
    int fd = socket(AF_INET, SOCK_DGRAM, 0);
    memset(&a, 0, sizeof a);
    a.sin_family = AF_INET;
    if (fd < 0 || inet_pton(AF_INET, ip, &a.sin_addr) != 1 ||
        bind(fd, (struct sockaddr *)&a, sizeof a) != 0) {
        if (fd >= 0)
            close(fd);
        return -1;
    }
    return fd;
}

static void send_pkt(int fd, const pkt *p, const struct sockaddr_in *to)
{
    (void)sendto(fd, p->b, p->n, 0, (const struct sockaddr *)to, sizeof *to);
}

/* Answer nq queries with fn; *ns_text gets "127.0.0.1:PORT". */
static pid_t dns_start(dns_fn fn, int nq, char *ns_text, size_t cap)
{
    struct sockaddr_in a;
    socklen_t al = (socklen_t)sizeof a;
    int ns = udp_bound("127.0.0.1");
    pid_t pid;
    assert_true(ns >= 0);
    assert_int_equal(getsockname(ns, (struct sockaddr *)&a, &al), 0);
    snprintf(ns_text, cap, "127.0.0.1:%u", (unsigned)ntohs(a.sin_port));
    pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        int i;
        alarm(10); /* never outlive a failed test */
        for (i = 0; i < nq; i++) {
            uint8_t q[512];
            struct sockaddr_in from;
            socklen_t fl = (socklen_t)sizeof from;
            ssize_t n = recvfrom(ns, q, sizeof q, 0, (struct sockaddr *)&from, &fl);
            if (n < 12)
                _exit(2);
            fn(ns, &from, (uint16_t)(q[0] << 8 | q[1]), i);
        }
        _exit(0);
    }
    close(ns);
    return pid;
}

static void dns_finish(pid_t pid)
{
    int status = 0;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
}

/* Forged answers first: from another port, from another address, with
 * another id, for another question; then the real one. */
static void dns_spoof(int ns, const struct sockaddr_in *to, uint16_t id, int n)
{
    pkt p;
    int other = udp_bound("127.0.0.1"), far = udp_bound("127.0.0.2");
    (void)n;
    hdr(&p, id, 0x8180, 1);
    mx_rr(&p, 1, "\x05" "evil1" "\x00", 7);
    if (other >= 0)
        send_pkt(other, &p, to);
    hdr(&p, id, 0x8180, 1);
    mx_rr(&p, 1, "\x05" "evil2" "\x00", 7);
    if (far >= 0)
        send_pkt(far, &p, to);
    hdr(&p, (uint16_t)(id ^ 0x5a5a), 0x8180, 1);
    mx_rr(&p, 1, "\x05" "evil3" "\x00", 7);
    send_pkt(ns, &p, to);
    hdr(&p, id, 0x8180, 1);
    memcpy(p.b + 12, "\x07" "example" "\x04" "evil", 13); /* another question */
    mx_rr(&p, 1, "\x05" "evil4" "\x00", 7);
    send_pkt(ns, &p, to);
    hdr(&p, id, 0x8180, 1);
    mx_rr(&p, 10, "\x04" "good" "\xC0\x0C", 7);
    send_pkt(ns, &p, to);
    if (other >= 0)
        close(other);
    if (far >= 0)
        close(far);
}

/* RFC 5452 9: only the nameserver's address and port, the query's id and
 * question count; forged answers are ignored, not taken. */
static void rfc5452_9_forged_dns_answers_ignored(void **state)
{
    smtpw_posix_mx mx[4];
    char ns[64];
    pid_t pid;
    (void)state;
    pid = dns_start(dns_spoof, 1, ns, sizeof ns);
    assert_int_equal(smtpw_posix_mx_lookup("example.test", ns, 3000, mx, 4), 1);
    assert_int_equal(mx[0].pref, 10);
    assert_string_equal(mx[0].host, "good.example.test");
    dns_finish(pid);
}

static void dns_unusable(int ns, const struct sockaddr_in *to, uint16_t id, int n)
{
    pkt p;
    hdr(&p, id, 0x8180, n == 0 ? 6 : 2);
    mx_rr(&p, 1, "\x03" "192" "\x01" "0" "\x01" "2" "\x01" "1" "\x00", 11);
    mx_rr(&p, 2, "\x0a" "0x7f000001" "\x00", 12);
    if (n == 0) {
        mx_rr(&p, 3, "\x09" "localhost" "\x00", 11);
        mx_rr(&p, 4, "\x02" "mx" "\x09" "LocalHost" "\x00", 14);
        mx_rr(&p, 5, "\x03" "127" "\x00", 5); /* one all-digit label */
        mx_rr(&p, 20, "\x02" "mx" "\xC0\x0C", 5);
    }
    send_pkt(ns, &p, to);
}

static void dns_nx_then_null(int ns, const struct sockaddr_in *to, uint16_t id, int n)
{
    pkt p;
    if (n == 0) {
        hdr(&p, id, 0x8183, 0); /* NXDOMAIN */
    } else {
        hdr(&p, id, 0x8180, 1);
        mx_rr(&p, 0, "\x00", 1); /* RFC 7505: "." */
    }
    send_pkt(ns, &p, to);
}

/* A domain that does not exist is SMTPW_E_NXDOMAIN (RFC 1035 4.1.1 rcode
 * 3), a null MX is SMTPW_E_NOMAIL (RFC 7505 3): two permanent failures
 * with their own codes, no longer SMTPW_E_NOTSUP (api.md C). */
static void rfc7505_3_null_mx_nomail_and_nxdomain(void **state)
{
    smtpw_posix_mx mx[4];
    char ns[64];
    pid_t pid;
    (void)state;
    pid = dns_start(dns_nx_then_null, 2, ns, sizeof ns);
    assert_int_equal(smtpw_posix_mx_lookup("example.test", ns, 3000, mx, 4), SMTPW_E_NXDOMAIN);
    assert_int_equal(smtpw_posix_mx_lookup("example.test", ns, 3000, mx, 4), SMTPW_E_NOMAIL);
    dns_finish(pid);
}

/* RFC 5321 5.1: an exchanger named by an IP literal in disguise, or
 * localhost (RFC 6761 6.3), is skipped; when no usable one is left the
 * lookup fails rather than falling back to the implicit MX. */
static void rfc5321_5_1_literal_and_localhost_mx_skipped(void **state)
{
    smtpw_posix_mx mx[8];
    char ns[64];
    pid_t pid;
    pkt p;
    (void)state;
    pid = dns_start(dns_unusable, 2, ns, sizeof ns);
    assert_int_equal(smtpw_posix_mx_lookup("example.test", ns, 3000, mx, 8), 1);
    assert_int_equal(mx[0].pref, 20);
    assert_string_equal(mx[0].host, "mx.example.test");
    /* none usable: permanent, as a null MX (RFC 7505 1) */
    assert_int_equal(smtpw_posix_mx_lookup("example.test", ns, 3000, mx, 8), SMTPW_E_NOMAIL);
    dns_finish(pid);
    /* the packet parser itself reports every record */
    hdr(&p, 1, 0x8180, 1);
    mx_rr(&p, 1, "\x09" "localhost" "\x00", 11);
    assert_int_equal(parse(&p, 1, mx, 8), 1);
    assert_string_equal(mx[0].host, "localhost");
}

/* 100 MX records: mx00 (preference 100) to mx99 (preference 1). */
static void many_mx(pkt *p, uint16_t id)
{
    unsigned i;
    hdr(p, id, 0x8180, 100);
    for (i = 0; i < 100; i++) {
        uint8_t ex[7] = {4, 'm', 'x', (uint8_t)('0' + i / 10), (uint8_t)('0' + i % 10), 0xC0,
                         0x0C};
        mx_rr(p, 100 - i, ex, sizeof ex);
    }
}

static void dns_many(int ns, const struct sockaddr_in *to, uint16_t id, int n)
{
    pkt p;
    (void)n;
    many_mx(&p, id);
    send_pkt(ns, &p, to);
}

/* 100 MX records (more than any table here): all counted, the most
 * preferred kept in order, the rest dropped. */
static void rfc5321_5_1_more_mx_than_room(void **state)
{
    smtpw_posix_mx mx[16];
    char ns[64];
    pid_t pid;
    pkt p;
    (void)state;
    pid = dns_start(dns_many, 1, ns, sizeof ns);
    assert_int_equal(smtpw_posix_mx_lookup("example.test", ns, 3000, mx, 16), 16);
    dns_finish(pid);
    assert_int_equal(mx[0].pref, 1);
    assert_string_equal(mx[0].host, "mx99.example.test");
    assert_int_equal(mx[15].pref, 16);
    assert_string_equal(mx[15].host, "mx84.example.test");
    many_mx(&p, 9);
    assert_int_equal(parse(&p, 9, mx, 16), 100);
    assert_int_equal(mx[15].pref, 16);
}

/* ---- exchangers that are this machine; answers that fail checks ---- */

/* Header + question qname (wire form) qtype IN; the qname sits at 12. */
static void hdr_q(pkt *p, uint16_t id, unsigned flags, unsigned an, const char *qname,
                  size_t qlen, unsigned qtype)
{
    p->n = 0;
    put16(p, id);
    put16(p, flags);
    put16(p, 1);
    put16(p, an);
    put16(p, 0);
    put16(p, 0);
    put(p, qname, qlen);
    put16(p, qtype);
    put16(p, 1);
}

/* A record owned by the qname. */
static void rr(pkt *p, unsigned type, const void *rd, size_t rdlen)
{
    put16(p, 0xC00C);
    put16(p, type);
    put16(p, 1);
    put16(p, 0);
    put16(p, 300);
    put16(p, (unsigned)rdlen);
    put(p, rd, rdlen);
}

#define MX_HOST "\x02" "mx" "\x07" "example" "\x04" "test" "\x00"

static void dns_single_label(int ns, const struct sockaddr_in *to, uint16_t id, int n)
{
    pkt p;
    if (n == 2) {
        /* "intranet": no MX, and no usable implicit MX either */
        hdr_q(&p, id, 0x8180, 0, "\x08" "intranet" "\x00", 10, 15);
    } else {
        hdr(&p, id, 0x8180, n == 0 ? 4 : 2);
        mx_rr(&p, 1, "\x0d" "ip6-localhost" "\x00", 15);
        mx_rr(&p, 2, "\x0c" "ip6-loopback" "\x00", 14);
        if (n == 0) {
            mx_rr(&p, 3, "\x08" "mailhost" "\x00", 10);
            mx_rr(&p, 9, "\x02" "mx" "\xC0\x0C", 5);
        }
    }
    send_pkt(ns, &p, to);
}

/* RFC 5321 2.3.5: only fully qualified names; a single label
 * ("ip6-localhost", "ip6-loopback", "mailhost") is completed or found
 * locally, i.e. this machine: skipped, and none usable is permanent
 * (RFC 5321 5.1, RFC 7505 1), the implicit MX included. */
static void rfc5321_2_3_5_single_label_mx_skipped(void **state)
{
    smtpw_posix_mx mx[8];
    char ns[64];
    pid_t pid;
    (void)state;
    pid = dns_start(dns_single_label, 3, ns, sizeof ns);
    assert_int_equal(smtpw_posix_mx_lookup("example.test", ns, 3000, mx, 8), 1);
    assert_int_equal(mx[0].pref, 9);
    assert_string_equal(mx[0].host, "mx.example.test");
    assert_int_equal(smtpw_posix_mx_lookup("example.test", ns, 3000, mx, 8), SMTPW_E_NOMAIL);
    assert_int_equal(smtpw_posix_mx_lookup("intranet", ns, 3000, mx, 8), SMTPW_E_NOMAIL);
    dns_finish(pid);
}

/* Queries come AAAA then A: n even is AAAA. */
static void dns_local_addrs(int ns, const struct sockaddr_in *to, uint16_t id, int n)
{
    static const uint8_t v6[][16] = {
        {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1},             /* ::1 */
        {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0},             /* :: */
        {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 127, 0, 0, 1},     /* mapped */
        {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 0, 0, 0, 0},       /* mapped 0/8 */
        {0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 7}, /* 2001:db8::7 */
    };
    static const uint8_t v4[][4] = {{127, 0, 0, 1}, {127, 1, 2, 3}, {0, 0, 0, 0},
                                    {192, 0, 2, 7}};
    /* round 0 with a public address each, rounds 1 and 2 without */
    size_t n6 = n / 2 == 0 ? 5 : 4, n4 = n / 2 == 0 ? 4 : 3, i;
    pkt p;
    if (n % 2 == 0) {
        hdr_q(&p, id, 0x8180, (unsigned)n6, MX_HOST, 17, 28);
        for (i = 0; i < n6; i++)
            rr(&p, 28, v6[i], 16);
    } else {
        hdr_q(&p, id, 0x8180, (unsigned)n4, MX_HOST, 17, 1);
        for (i = 0; i < n4; i++)
            rr(&p, 1, v4[i], 4);
    }
    send_pkt(ns, &p, to);
}

/* RFC 5321 5.1: an exchanger whose address is this machine (loopback,
 * unspecified, IPv4-mapped forms) would loop mail back: such addresses
 * are left out; only them: 0.  SMTPW_POSIX_SEND_ALLOW_LOOPBACK_MX keeps
 * them (tests). */
static void rfc5321_5_1_loopback_exchanger_addresses_refused(void **state)
{
    smtpw_posix_mx a[16];
    char ns[64];
    pid_t pid;
    (void)state;
    pid = dns_start(dns_local_addrs, 6, ns, sizeof ns);
    assert_int_equal(smtpw_posix_addr_lookup("mx.example.test", ns, 3000, 0, a, 16), 2);
    assert_string_equal(a[0].host, "2001:db8::7");
    assert_string_equal(a[1].host, "192.0.2.7");
    assert_int_equal(smtpw_posix_addr_lookup("mx.example.test", ns, 3000, 0, a, 16), 0);
    assert_int_equal(smtpw_posix_addr_lookup("mx.example.test", ns, 3000,
                                                   SMTPW_POSIX_SEND_ALLOW_LOOPBACK_MX, a, 16),
                     7);
    assert_string_equal(a[0].host, "::1");
    assert_string_equal(a[4].host, "127.0.0.1");
    dns_finish(pid);
}

static void dns_bad_aaaa(int ns, const struct sockaddr_in *to, uint16_t id, int n)
{
    static const uint8_t good[16] = {0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0,
                                     0,    0,    0,    0,    0, 0, 0, 9};
    pkt p;
    if (n % 2 == 0) {
        /* a valid AAAA, then one with 4 octets of data: the answer is bad */
        hdr_q(&p, id, 0x8180, 2, MX_HOST, 17, 28);
        rr(&p, 28, good, 16);
        if (n == 0)
            rr(&p, 28, "\x01\x02\x03\x04", 4);
        else
            put16(&p, 0xC0FF); /* then a pointer forward, out of the packet */
    } else {
        hdr_q(&p, id, 0x8180, 0, MX_HOST, 17, 1); /* no A */
    }
    send_pkt(ns, &p, to);
}

/* RFC 1035 4.1.3: an answer that fails validation is rejected whole; the
 * records read before the fault contribute no address either. */
static void rfc1035_4_1_3_rejected_answer_contributes_no_address(void **state)
{
    smtpw_posix_mx a[4];
    char ns[64];
    pid_t pid;
    (void)state;
    pid = dns_start(dns_bad_aaaa, 4, ns, sizeof ns);
    assert_int_equal(smtpw_posix_addr_lookup("mx.example.test", ns, 3000, 0, a, 4), SMTPW_E_PROTO);
    assert_int_equal(smtpw_posix_addr_lookup("mx.example.test", ns, 3000, 0, a, 4), SMTPW_E_PROTO);
    dns_finish(pid);
}

/* An unknown rcpt_policy is refused before a byte is sent (the policies
 * themselves: tests/vectors/posix_client/018 to 021). */
static void posix_rcpt_policy_unknown_refused(void **state)
{
    smtpw_posix_send_config o;
    smtpw_posix_send_result r;
    (void)state;
    opts_for(&o, two, 2, "hi\r\n");
    o.rcpt_policy = 3;
    assert_int_equal(smtpw_posix_send_fd(-1, &o, &r, sizeof r), SMTPW_E_INVALID_ARG);
    assert_int_equal(r.err, SMTPW_E_INVALID_ARG);
}

/* RFC 5321 2.3.8 (CR and LF only as a line's end) and 4.1.2 (no control
 * byte in a domain or a mailbox): text is (pointer, length) now, so it can
 * hold a NUL a C string could not; a CR, LF, NUL or DEL in helo, from or a
 * recipient, or a NULL pointer with a length, is SMTPW_E_INVALID_ARG before
 * a byte is written (the peer records nothing, not even EHLO). */
static void rfc5321_2_3_8_control_bytes_in_text_never_sent(void **state)
{
    static const char *const bad[] = {"a@x\0.test", "a@x.test\r\nRSET", "a@x.test\n",
                                       "a@x\177.test", "x\0y"};
    static const size_t badlen[] = {10, 14, 9, 9, 3};
    smtpw_posix_send_config o;
    smtpw_posix_send_result r;
    smtpw_span rc[2];
    size_t i, field;
    char *rec;
    (void)state;
    for (i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        for (field = 0; field < 4; field++) {
            smtpw_span t;
            t.ptr = bad[i];
            t.len = badlen[i];
            rc[0] = two[0];
            rc[1] = two[1];
            opts_for(&o, rc, 2, "hi\n");
            if (field == 0)
                o.helo = t;
            else if (field == 1)
                o.from = t;
            else
                rc[field - 2] = t; /* the first or the second recipient */
            memset(&r, 0xA5, sizeof r);
            run(srv_offers_starttls, &o, &r, &rec);
            assert_int_equal(r.err, SMTPW_E_INVALID_ARG);
            assert_int_equal(r.stage, SMTPW_CMD_NONE);
            assert_string_equal(rec, "");
            free(rec);
        }
    }
    /* a NULL pointer with a length, in each place */
    for (field = 0; field < 3; field++) {
        smtpw_span t;
        int sv[2];
        char c;
        t.ptr = NULL;
        t.len = 3;
        rc[0] = two[0];
        opts_for(&o, rc, 1, "hi\n");
        if (field == 0)
            o.helo = t;
        else if (field == 1)
            o.from = t;
        else
            rc[0] = t;
        assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
        assert_int_equal(smtpw_posix_send_fd(sv[0], &o, &r, sizeof r), SMTPW_E_INVALID_ARG);
        assert_int_equal(recv(sv[1], &c, 1, MSG_DONTWAIT), -1);
        close(sv[0]);
        close(sv[1]);
    }
}

/* README "API conventions", Text: only the length counts, nothing is read
 * past it (no NUL needed), and a from of length 0 is the null
 * reverse-path <> (RFC 5321 4.5.5). */
static void send_config_text_is_pointer_and_length(void **state)
{
    static const char buf[] = "client.testXa@x.testYb@y.testZ";
    smtpw_posix_send_config o;
    smtpw_posix_send_result r;
    smtpw_span rc[1];
    char *rec;
    (void)state;
    rc[0].ptr = buf + 21;
    rc[0].len = 8;
    opts_for(&o, rc, 1, "hi\n");
    o.helo.ptr = buf;
    o.helo.len = 11;
    o.from.ptr = buf + 12;
    o.from.len = 8;
    run(srv_offers_starttls, &o, &r, &rec);
    assert_int_equal(r.err, 0);
    assert_int_equal(r.delivered, 1);
    assert_non_null(strstr(rec, "EHLO client.test\r\nMAIL FROM:<a@x.test>\r\n"
                                "RCPT TO:<b@y.test>\r\nDATA\r\n"));
    free(rec);
    o.from.len = 0; /* the pointer is not looked at */
    run(srv_offers_starttls, &o, &r, &rec);
    assert_int_equal(r.delivered, 1);
    assert_non_null(strstr(rec, "MAIL FROM:<>\r\nRCPT TO:<b@y.test>\r\n"));
    free(rec);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(posix_rcpt_policy_unknown_refused),
        cmocka_unit_test(rfc5321_4_5_3_2_1_greeting_timeout),
        cmocka_unit_test(rfc5321_4_5_3_2_6_data_termination_timeout),
        cmocka_unit_test(body_in_large_writes_with_the_terminator),
        cmocka_unit_test(rfc3207_4_2_injected_reply_discarded_then_ehlo),
        cmocka_unit_test(send_config_older_version),
        cmocka_unit_test(send_result_size_never_written_past),
        cmocka_unit_test(rfc7505_3_null_mx_nomail_and_nxdomain),
        cmocka_unit_test(tls_policy_checked_before_sending),
        cmocka_unit_test(rfc5321_4_2_replies_in_one_octet_segments),
        cmocka_unit_test(rfc5321_4_5_3_1_5_endless_reply_line),
        cmocka_unit_test(rfc5321_4_1_4_default_helo_address_literal),
        cmocka_unit_test(rfc5321_5_1_mx_preference_order),
        cmocka_unit_test(rfc1035_4_1_4_pointer_chain),
        cmocka_unit_test(rfc1035_4_1_4_pointer_loops_refused),
        cmocka_unit_test(rfc1035_4_1_truncated_packets_refused),
        cmocka_unit_test(rfc1035_2_3_4_label_and_name_limits),
        cmocka_unit_test(rfc1035_4_1_1_header_and_rfc7505_null_mx),
        cmocka_unit_test(rfc1034_3_6_2_cname_followed_others_ignored),
        cmocka_unit_test(rfc5452_9_forged_dns_answers_ignored),
        cmocka_unit_test(rfc5321_5_1_literal_and_localhost_mx_skipped),
        cmocka_unit_test(rfc5321_5_1_more_mx_than_room),
        cmocka_unit_test(rfc5321_2_3_5_single_label_mx_skipped),
        cmocka_unit_test(rfc5321_5_1_loopback_exchanger_addresses_refused),
        cmocka_unit_test(rfc1035_4_1_3_rejected_answer_contributes_no_address),
        cmocka_unit_test(rfc5321_2_3_8_control_bytes_in_text_never_sent),
        cmocka_unit_test(send_config_text_is_pointer_and_length),
    };
    signal(SIGPIPE, SIG_IGN);
    return cmocka_run_group_tests(tests, NULL, NULL);
}
