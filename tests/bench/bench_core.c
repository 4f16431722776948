/*
 * In-memory throughput of the cores, each figure beside a baseline measured
 * over the same bytes in the same run (README "Performance"):
 *   - server DATA path vs memchr once per line and vs one memchr pass,
 *     for prose-like bodies with dots and base64 bodies without, 1 KiB,
 *     64 KiB and 1 MiB, fed in 64 KiB reads as from a socket;
 *   - server commands per second (pipelined MAIL/RCPT/RSET, every reply
 *     rendered and drained), full path and argument validation;
 *   - client body encoding vs memcpy of the same bytes, reply parsing.
 * Run: meson setup build-rel --buildtype=release && meson test -C build-rel --benchmark -v
 * or build-rel/tests/bench/bench_core [seconds-per-figure [data|commands|client]].
 * SPDX-License-Identifier: MIT
 */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "smtpwire/smtpwire.h"

static double min_seconds = 0.25;
static volatile size_t sink; /* keeps baselines from being optimised away */

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void die(const char *what, int err)
{
    fprintf(stderr, "bench: %s: %s (%d)\n", what, smtpw_err_name(err), err);
    exit(1);
}

/* xorshift PRNG: fixed seed, so every run measures the same bytes */
static unsigned long long rng = 0x9e3779b97f4a7c15ULL;
static unsigned rnd(unsigned n)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return (unsigned)(rng % n);
}

/* Prose: words, sentences ending in ". ", ~70-char lines, and one line in
 * 16 starting with a dot (stuffed on the wire as ".."). */
static size_t make_prose(char *out, size_t want)
{
    static const char *const words[] = {"the", "message", "server", "relay", "mail",
                                        "of", "and", "delivery", "transfer", "a",
                                        "protocol", "envelope", "is", "to", "simple"};
    size_t n = 0, col = 0;
    while (n + 90 < want) {
        if (col == 0 && rnd(16) == 0) {
            out[n++] = '.';
            out[n++] = '.';
            col = 1;
        }
        const char *w = words[rnd(15)];
        size_t wl = strlen(w);
        memcpy(out + n, w, wl);
        n += wl;
        col += wl;
        if (rnd(8) == 0)
            out[n++] = '.', col++;
        if (col > 64) {
            out[n++] = '\r';
            out[n++] = '\n';
            col = 0;
        } else {
            out[n++] = ' ';
            col++;
        }
    }
    while (n < want - 2)
        out[n++] = 'x';
    out[n++] = '\r';
    out[n++] = '\n';
    return n;
}

/* base64 lines of 76 characters, as MIME attachments have: no dots. */
static size_t make_base64(char *out, size_t want)
{
    static const char b64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    size_t n = 0, col = 0;
    while (n < want - 2) {
        if (col == 76) {
            out[n++] = '\r';
            out[n++] = '\n';
            col = 0;
            continue;
        }
        out[n++] = b64[rnd(64)];
        col++;
    }
    out[n++] = '\r';
    out[n++] = '\n';
    return n;
}

/* ---- server ---- */

static void *server_mem;

static smtpw_server *server_new(void)
{
    smtpw_server_config cfg;
    smtpw_server *s;
    int r;
    smtpw_server_config_init(&cfg, SMTPW_SERVER_CONFIG_VERSION);
    cfg.max_message_size = 0;
    cfg.max_recipients = 1000000;
    cfg.max_errors = 1000000;
    r = smtpw_server_init(server_mem, smtpw_server_sizeof(), &cfg, &s);
    if (r)
        die("server_init", r);
    return s;
}

struct feed_stats {
    unsigned long long body_bytes, events, messages;
};

/* Feed bytes the way a driver does: present up to `window` bytes at a time,
 * answer every decision with the default reply, drain the output. */
static void server_feed(smtpw_server *s, const char *data, size_t len, size_t window,
                        struct feed_stats *st)
{
    const uint8_t *p = (const uint8_t *)data, *end = p + len;
    size_t avail = 0;
    while (p < end) {
        size_t used, olen;
        smtpw_event ev;
        int r;
        if (avail == 0 || avail > (size_t)(end - p))
            avail = (size_t)(end - p) < window ? (size_t)(end - p) : window;
        r = smtpw_server_recv(s, p, avail, &used, &ev, sizeof ev);
        if (r < 0)
            die("server_recv", r);
        p += used;
        avail -= used;
        st->events++;
        if (r == SMTPW_EV_BODY)
            st->body_bytes += ev.arg.len;
        else if (r == SMTPW_EV_DATA_END)
            st->messages++;
        if (smtpw_server_want(s) & SMTPW_WANT_REPLY) {
            r = smtpw_server_reply(s, 0, NULL, 0, NULL, 0);
            if (r)
                die("server_reply", r);
        }
        smtpw_server_output(s, &olen);
        if (olen)
            smtpw_server_output_ack(s, olen);
        if (r == SMTPW_EV_NONE && used == 0) {
            /* the window ends mid-line: a socket read would bring more */
            size_t more = (size_t)(end - p) < avail + window ? (size_t)(end - p) : avail + window;
            if (more == avail)
                die("server stalled", 0);
            avail = more;
        }
    }
}

static const char session_head[] = "EHLO client.example\r\n";

/* One pipelined transaction per message: MAIL, RCPT, DATA, body, dot. */
static char *build_session(const char *body, size_t blen, unsigned messages, size_t *outlen)
{
    static const char env[] = "MAIL FROM:<sender@example.com>\r\nRCPT TO:<rcpt@example.org>\r\nDATA\r\n";
    size_t per = sizeof env - 1 + blen + 3;
    char *buf = malloc(sizeof session_head + per * messages);
    size_t n = 0;
    unsigned i;
    if (!buf)
        exit(1);
    memcpy(buf, session_head, sizeof session_head - 1);
    n = sizeof session_head - 1;
    for (i = 0; i < messages; i++) {
        memcpy(buf + n, env, sizeof env - 1);
        n += sizeof env - 1;
        memcpy(buf + n, body, blen);
        n += blen;
        memcpy(buf + n, ".\r\n", 3);
        n += 3;
    }
    *outlen = n;
    return buf;
}

static size_t memchr_lines(const char *p, size_t n)
{
    const char *end = p + n;
    size_t lines = 0;
    while (p < end) {
        const char *q = memchr(p, '\n', (size_t)(end - p));
        if (!q)
            break;
        lines++;
        p = q + 1;
    }
    return lines;
}

typedef double (*bench_fn)(const void *arg, size_t *bytes);

/* Repeat fn until min_seconds pass; best of three rounds, in bytes/s. */
static double rate(bench_fn fn, const void *arg)
{
    double best = 0;
    int round;
    for (round = 0; round < 3; round++) {
        double t0 = now(), t;
        size_t bytes = 0, b;
        do {
            fn(arg, &b);
            bytes += b;
            t = now() - t0;
        } while (t < min_seconds);
        if ((double)bytes / t > best)
            best = (double)bytes / t;
    }
    return best;
}

struct data_case {
    const char *session;
    size_t session_len;
    const char *body; /* the body bytes alone, for the baselines */
    size_t body_len;
    unsigned messages;
};

static double run_server_data(const void *arg, size_t *bytes)
{
    const struct data_case *c = arg;
    struct feed_stats st = {0, 0, 0};
    smtpw_server *s = server_new();
    server_feed(s, c->session, c->session_len, 65536, &st);
    if (st.messages != c->messages)
        die("lost messages", 0);
    *bytes = c->session_len;
    return 0;
}

static double run_memchr_lines(const void *arg, size_t *bytes)
{
    const struct data_case *c = arg;
    sink += memchr_lines(c->session, c->session_len);
    *bytes = c->session_len;
    return 0;
}

static double run_memchr_once(const void *arg, size_t *bytes)
{
    const struct data_case *c = arg;
    sink += (size_t)(memchr(c->session, 0, c->session_len) != NULL);
    *bytes = c->session_len;
    return 0;
}

static void bench_data(const char *kind, size_t body_size, size_t (*make)(char *, size_t))
{
    struct data_case c;
    char *body = malloc(body_size + 8);
    double r_srv, r_lines, r_once;
    unsigned messages = (unsigned)(8u * 1024 * 1024 / body_size);
    if (!body)
        exit(1);
    if (messages < 4)
        messages = 4;
    c.body_len = make(body, body_size);
    c.body = body;
    c.messages = messages;
    c.session = build_session(body, c.body_len, messages, &c.session_len);
    r_srv = rate(run_server_data, &c);
    r_lines = rate(run_memchr_lines, &c);
    r_once = rate(run_memchr_once, &c);
    printf("server DATA %-6s %7zu B x %5u msgs: %7.2f GB/s | memchr per line %7.2f GB/s "
           "(ratio %.2f) | memchr once %7.2f GB/s (ratio %.2f)\n",
           kind, c.body_len, messages, r_srv / 1e9, r_lines / 1e9, r_srv / r_lines, r_once / 1e9,
           r_srv / r_once);
    free((void *)c.session);
    free(body);
}

struct cmd_case {
    const char *session;
    size_t len;
    unsigned commands;
};

static double run_server_cmds(const void *arg, size_t *bytes)
{
    const struct cmd_case *c = arg;
    struct feed_stats st = {0, 0, 0};
    smtpw_server *s = server_new();
    server_feed(s, c->session, c->len, 65536, &st);
    *bytes = c->commands; /* counted in commands, not bytes */
    return 0;
}

static void bench_commands(void)
{
    static const char tx[] = "MAIL FROM:<sender.name@example.com> SIZE=12345\r\n"
                             "RCPT TO:<first.rcpt@mail.example.org>\r\n"
                             "RCPT TO:<\"quoted local\"@[192.0.2.1]>\r\n"
                             "RSET\r\n";
    const unsigned reps = 20000;
    struct cmd_case c;
    char *buf = malloc(sizeof session_head + (sizeof tx - 1) * reps);
    size_t n;
    unsigned i;
    double r;
    if (!buf)
        exit(1);
    memcpy(buf, session_head, sizeof session_head - 1);
    n = sizeof session_head - 1;
    for (i = 0; i < reps; i++) {
        memcpy(buf + n, tx, sizeof tx - 1);
        n += sizeof tx - 1;
    }
    c.session = buf;
    c.len = n;
    c.commands = 1 + 4 * reps;
    r = rate(run_server_cmds, &c);
    printf("server commands: %.1f million/s (MAIL with SIZE, 2 RCPT incl. quoted + literal, RSET; "
           "replies rendered and drained)\n",
           r / 1e6);
    free(buf);
}

/* ---- client ---- */

static void *client_mem;

static void client_recv_all(smtpw_client *c, const char *text)
{
    const uint8_t *p = (const uint8_t *)text;
    size_t n = strlen(text);
    while (n) {
        size_t used;
        smtpw_event ev;
        int r = smtpw_client_recv(c, p, n, &used, &ev, sizeof ev);
        if (r < 0)
            die("client_recv", r);
        if (used == 0)
            die("client_recv stalled", 0);
        p += used;
        n -= used;
    }
}

static void client_drain(smtpw_client *c)
{
    size_t olen;
    smtpw_client_output(c, &olen);
    if (olen)
        smtpw_client_output_ack(c, olen);
}

/* A client after 354: ready to encode a body. */
static smtpw_client *client_at_data(void)
{
    smtpw_client_config cfg;
    smtpw_client *c;
    int r;
    smtpw_client_config_init(&cfg, SMTPW_CLIENT_CONFIG_VERSION);
    if ((r = smtpw_client_init(client_mem, smtpw_client_sizeof(), &cfg, &c)))
        die("client_init", r);
    client_recv_all(c, "220 mx.example ESMTP\r\n");
    if ((r = smtpw_client_ehlo(c, "client.example", 14)))
        die("client_ehlo", r);
    client_drain(c);
    client_recv_all(c, "250-mx.example\r\n250-PIPELINING\r\n250-8BITMIME\r\n250 SIZE 0\r\n");
    if ((r = smtpw_client_mail(c, "a@example.com", 13, 0, 0, NULL, 0)))
        die("client_mail", r);
    if ((r = smtpw_client_rcpt(c, "b@example.org", 13, NULL, 0)))
        die("client_rcpt", r);
    if ((r = smtpw_client_data(c)))
        die("client_data", r);
    client_drain(c);
    client_recv_all(c, "250 ok\r\n250 ok\r\n354 go\r\n");
    return c;
}

struct enc_case {
    smtpw_client *c;
    const uint8_t *body;
    size_t len;
    uint8_t *out;
    size_t outcap;
};

static double run_encode(const void *arg, size_t *bytes)
{
    const struct enc_case *e = arg;
    size_t off = 0;
    while (off < e->len) {
        size_t used, wrote;
        int r = smtpw_client_body_encode(e->c, e->body + off, e->len - off, &used, e->out,
                                         e->outcap, &wrote);
        if (r)
            die("body_encode", r);
        off += used;
        sink += wrote;
    }
    *bytes = e->len;
    return 0;
}

static double run_memcpy(const void *arg, size_t *bytes)
{
    const struct enc_case *e = arg;
    memcpy(e->out, e->body, e->len);
    sink += e->out[e->len / 2];
    *bytes = e->len;
    return 0;
}

static void bench_encode(const char *kind, size_t (*make)(char *, size_t))
{
    const size_t size = 1 << 20;
    struct enc_case e;
    char *body = malloc(size);
    double r_enc, r_cpy;
    if (!body)
        exit(1);
    e.len = make(body, size);
    e.body = (const uint8_t *)body;
    e.outcap = size * 2 + 16;
    e.out = malloc(e.outcap);
    if (!e.out)
        exit(1);
    e.c = client_at_data();
    r_enc = rate(run_encode, &e);
    r_cpy = rate(run_memcpy, &e);
    printf("client body encode %-6s 1 MiB: %7.2f GB/s | memcpy %7.2f GB/s (ratio %.2f)\n", kind,
           r_enc / 1e9, r_cpy / 1e9, r_enc / r_cpy);
    free(e.out);
    free(body);
}

static double run_replies(const void *arg, size_t *bytes)
{
    smtpw_client *c = (smtpw_client *)(uintptr_t)arg;
    static const char reply[] = "250 2.0.0 Ok: queued as 4ABC123DEF\r\n";
    unsigned i;
    for (i = 0; i < 1000; i++) {
        size_t used;
        smtpw_event ev;
        int r = smtpw_client_noop(c);
        if (r)
            die("client_noop", r);
        client_drain(c);
        r = smtpw_client_recv(c, (const uint8_t *)reply, sizeof reply - 1, &used, &ev, sizeof ev);
        if (r != SMTPW_EV_REPLY || used != sizeof reply - 1)
            die("client_recv reply", r);
    }
    *bytes = 1000;
    return 0;
}

static void bench_replies(void)
{
    smtpw_client_config cfg;
    smtpw_client *c;
    int r;
    smtpw_client_config_init(&cfg, SMTPW_CLIENT_CONFIG_VERSION);
    if ((r = smtpw_client_init(client_mem, smtpw_client_sizeof(), &cfg, &c)))
        die("client_init", r);
    client_recv_all(c, "220 mx.example ESMTP\r\n");
    if ((r = smtpw_client_ehlo(c, "client.example", 14)))
        die("client_ehlo", r);
    client_drain(c);
    client_recv_all(c, "250-mx.example\r\n250-ENHANCEDSTATUSCODES\r\n250 PIPELINING\r\n");
    printf("client NOOP + reply parse: %.1f million/s (command rendered, reply with enhanced "
           "code parsed)\n",
           rate(run_replies, (const void *)c) / 1e6);
}

/* Reply parsing over a buffer of pipelined replies: 100 RSETs queued in
 * one group (RFC 2920), then their 100 replies parsed from one buffer. */
#define NREPLY 100
static const char stream_reply[] = "250 2.0.0 Ok, recipient <someone@example.org> reset\r\n";
static char stream[NREPLY * (sizeof stream_reply - 1)];

static double run_reply_stream(const void *arg, size_t *bytes)
{
    smtpw_client *c = (smtpw_client *)(uintptr_t)arg;
    const uint8_t *p = (const uint8_t *)stream;
    size_t n = sizeof stream;
    unsigned i;
    for (i = 0; i < NREPLY; i++) {
        int r = smtpw_client_rset(c);
        if (r)
            die("client_rset", r);
    }
    client_drain(c);
    while (n) {
        size_t used;
        smtpw_event ev;
        int r = smtpw_client_recv(c, p, n, &used, &ev, sizeof ev);
        if (r != SMTPW_EV_REPLY)
            die("client_recv stream", r);
        p += used;
        n -= used;
    }
    *bytes = sizeof stream;
    return 0;
}

static double run_reply_memcpy(const void *arg, size_t *bytes)
{
    static char copy[sizeof stream];
    (void)arg;
    memcpy(copy, stream, sizeof stream);
    sink += (size_t)copy[sizeof stream / 2];
    *bytes = sizeof stream;
    return 0;
}

static void bench_reply_stream(void)
{
    smtpw_client_config cfg;
    smtpw_client *c;
    double r_parse, r_cpy;
    unsigned i;
    int r;
    for (i = 0; i < NREPLY; i++)
        memcpy(stream + i * (sizeof stream_reply - 1), stream_reply, sizeof stream_reply - 1);
    smtpw_client_config_init(&cfg, SMTPW_CLIENT_CONFIG_VERSION);
    if ((r = smtpw_client_init(client_mem, smtpw_client_sizeof(), &cfg, &c)))
        die("client_init", r);
    client_recv_all(c, "220 mx.example ESMTP\r\n");
    if ((r = smtpw_client_ehlo(c, "client.example", 14)))
        die("client_ehlo", r);
    client_drain(c);
    client_recv_all(c, "250-mx.example\r\n250-ENHANCEDSTATUSCODES\r\n250 PIPELINING\r\n");
    r_parse = rate(run_reply_stream, (const void *)c);
    r_cpy = rate(run_reply_memcpy, NULL);
    printf("client reply parsing, %u pipelined replies per buffer (RSETs rendered too): %.2f GB/s, "
           "%.1f million replies/s | memcpy %.2f GB/s (ratio %.2f)\n",
           NREPLY, r_parse / 1e9, r_parse / (double)(sizeof stream_reply - 1) / 1e6, r_cpy / 1e9,
           r_parse / r_cpy);
}

/* Is this group of figures wanted?  Second argument: data, commands or
 * client (default: all), so a profiler can look at one group alone. */
static const char *only;
static int want(const char *group)
{
    return only == NULL || strcmp(only, group) == 0;
}

int main(int argc, char **argv)
{
    if (argc > 1)
        min_seconds = atof(argv[1]);
    if (argc > 2)
        only = argv[2];
    printf("smtpwire %s bench (best of 3 rounds of >= %.2f s each)\n", smtpw_version_string(),
           min_seconds);
    printf("state size: server %zu bytes, client %zu bytes per connection\n",
           smtpw_server_sizeof(), smtpw_client_sizeof());
    server_mem = malloc(smtpw_server_sizeof());
    client_mem = malloc(smtpw_client_sizeof());
    if (!server_mem || !client_mem)
        return 1;
    if (want("data")) {
        bench_data("text", 1024, make_prose);
        bench_data("text", 65536, make_prose);
        bench_data("text", 1 << 20, make_prose);
        bench_data("base64", 1024, make_base64);
        bench_data("base64", 65536, make_base64);
        bench_data("base64", 1 << 20, make_base64);
    }
    if (want("commands"))
        bench_commands();
    if (want("client")) {
        bench_encode("text", make_prose);
        bench_encode("base64", make_base64);
        bench_replies();
        bench_reply_stream();
    }
    free(server_mem);
    free(client_mem);
    return (int)(sink & 0);
}
