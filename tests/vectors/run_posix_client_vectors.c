/*
 * Replays POSIX client transcripts (tests/vectors/posix_client/ *.smtp):
 * smtpw_posix_send_fd() over a socketpair() against a server child that
 * follows the transcript, then the result fields the vector names are
 * compared with what the adapter reported.  Everything the client sent must
 * be the C: lines, in order, byte for byte, and nothing more.  Timeouts,
 * segmentation, write sizes, TCP and DNS stay as C tests in
 * tests/unit/test_posix_client.c.
 *
 * Format, one item per line (escapes as in the other vectors: \r \n \t \\
 * \xHH; \x20 for a space inside a value):
 *   # comment (the first one names the RFC section)
 *   ! key[=value] ...  the send config (defaults: helo client.test, from
 *        a@x.test, timeout_ms 3000, body "hi\n", the plain hooks):
 *        rcpt=A,B,...  helo=H  from=F  body=BYTES  timeout_ms=N
 *        replies (pass rcpt_replies)  status (pass rcpt_status)
 *        policy=SEND_ACCEPTED|RESET_ON_TEMP|RESET_ON_ANY
 *        tls=NEVER|OPPORTUNISTIC|REQUIRE (over identity "TLS" hooks that
 *        count handshakes)  tls_fail (the handshake hook fails)
 *   S: bytes   the server writes them
 *   C: bytes   the server reads exactly these bytes next; any other byte
 *              (or the end of input) stops the script, and the vector fails
 *   H:         the server hangs up (shutdown for writing)
 *   R: key=value ...  expected results (only those named are checked):
 *        err (0 or an SMTPW_E_ name without prefix: IO, PROTO, TLS ...; the
 *        return value must equal it), delivered, accepted, stage and cmd
 *        (SMTPW_CMD_ names: NONE, GREETING, BODY ...), code, text (the
 *        reply), transactions, delivered_rcpts, os_error, handshakes,
 *        rcpt.N.code, rcpt.N.cmd, rcpt.N.text, status.N (NOT_SENT,
 *        DELIVERED, REFUSED)
 * After its script the server keeps reading until the client hangs up.
 * SPDX-License-Identifier: MIT
 */
#include <errno.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include "smtpwire/posix.h"

#include "vecfile.h"

#define MAXITEMS 256
#define MAXRCPT 16
#define REC_MAX (1u << 20)

enum { IT_S, IT_C, IT_H };

struct item {
    int kind;
    char *text;
    size_t len;
};

struct vec {
    const char *name;
    struct item it[MAXITEMS];
    int n;
    struct buf sent;   /* all C: bytes: what the client must send */
    struct buf expect; /* R: tokens, unescaped, one per line */
    /* config */
    char *rcpt[MAXRCPT];
    size_t nrcpt;
    char *helo, *from, *body; /* helo and from may hold any byte (\x escapes) */
    size_t helolen, fromlen, bodylen;
    uint32_t timeout_ms, policy;
    int replies, status, tls, tls_fail;
};

static int failures;
static long runs;

/* ---- identity "TLS": counts handshakes, passes bytes through ---- */

struct ftls {
    int handshakes, fail;
};

static int ftls_read(void *ctx, int fd, uint8_t *buf, size_t cap, size_t *got, uint32_t *wait)
{
    (void)ctx;
    return smtpw_posix_plain_read(NULL, fd, buf, cap, got, wait);
}

static int ftls_write(void *ctx, int fd, const uint8_t *buf, size_t len, size_t *sent,
                      uint32_t *wait)
{
    (void)ctx;
    return smtpw_posix_plain_write(NULL, fd, buf, len, sent, wait);
}

static int ftls_starttls(void *ctx, int fd, uint32_t *wait)
{
    struct ftls *t = ctx;
    (void)fd;
    (void)wait;
    t->handshakes++;
    return t->fail ? SMTPW_E_TLS : 0;
}

static const smtpw_posix_io ftls_io = {SMTPW_POSIX_IO_VERSION, ftls_read, ftls_write,
                                       ftls_starttls, NULL, NULL};

/* ---- parsing ---- */

static char *unescaped(const char *s, size_t *len)
{
    char *d = malloc(strlen(s) + 1);
    size_t n;
    if (!d)
        abort();
    n = unescape(s, d);
    d[n] = 0;
    if (len)
        *len = n;
    return d;
}

static int name_value(const char *const *names, size_t n, const char *s, uint32_t *out)
{
    size_t i;
    for (i = 0; i < n; i++)
        if (strcmp(s, names[i]) == 0) {
            *out = (uint32_t)i;
            return 0;
        }
    return -1;
}

static const char *const tls_names[] = {"NEVER", "OPPORTUNISTIC", "REQUIRE"};
static const char *const policy_names[] = {"SEND_ACCEPTED", "RESET_ON_TEMP", "RESET_ON_ANY"};
static const char *const status_names[] = {"NOT_SENT", "DELIVERED", "REFUSED"};
typedef char status_check[SMTPW_POSIX_RCPT_NOT_SENT == 0 && SMTPW_POSIX_RCPT_DELIVERED == 1 &&
                                  SMTPW_POSIX_RCPT_REFUSED == 2 && SMTPW_POSIX_TLS_REQUIRE == 2 &&
                                  SMTPW_POSIX_RCPT_RESET_ON_ANY == 2
                              ? 1
                              : -1];

static int config_item(void *ctx, char *tok)
{
    struct vec *v = ctx;
    char *eq = strchr(tok, '=');
    const char *val = eq ? eq + 1 : NULL;
    uint32_t u;
    if (eq)
        *eq = 0;
    if (strcmp(tok, "replies") == 0 && !val)
        v->replies = 1;
    else if (strcmp(tok, "status") == 0 && !val)
        v->status = 1;
    else if (strcmp(tok, "tls_fail") == 0 && !val)
        v->tls_fail = 1;
    else if (!val)
        return -1;
    else if (strcmp(tok, "rcpt") == 0) {
        while (*val) {
            size_t k = strcspn(val, ",");
            char *one = malloc(k + 1);
            if (!one || v->nrcpt == MAXRCPT)
                return -1;
            memcpy(one, val, k);
            one[k] = 0;
            v->rcpt[v->nrcpt++] = one;
            val += k;
            if (*val == ',')
                val++;
        }
    } else if (strcmp(tok, "helo") == 0) {
        free(v->helo);
        v->helo = unescaped(val, &v->helolen);
    } else if (strcmp(tok, "from") == 0) {
        free(v->from);
        v->from = unescaped(val, &v->fromlen);
    } else if (strcmp(tok, "body") == 0) {
        free(v->body);
        v->body = unescaped(val, &v->bodylen);
    } else if (strcmp(tok, "timeout_ms") == 0) {
        v->timeout_ms = (uint32_t)strtoul(val, NULL, 10);
    } else if (strcmp(tok, "policy") == 0) {
        if (name_value(policy_names, 3, val, &v->policy))
            return -1;
    } else if (strcmp(tok, "tls") == 0) {
        if (name_value(tls_names, 3, val, &u))
            return -1;
        v->tls = (int)u + 1; /* 0: no hooks, the default policy */
    } else {
        return -1;
    }
    return 0;
}

/* Values are compared in one form: control bytes and '\\' escaped, so a
 * multi-line reply text stays on one line of the lists compared. */
static void put_escaped(struct buf *b, const char *s, size_t n)
{
    size_t i;
    for (i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        char tmp[8];
        if (c == '\\')
            puts_(b, "\\\\");
        else if (c == '\n')
            puts_(b, "\\n");
        else if (c == '\r')
            puts_(b, "\\r");
        else if (c < 0x20 || c == 0x7f) {
            sprintf(tmp, "\\x%02x", c);
            puts_(b, tmp);
        } else
            put(b, s + i, 1);
    }
}

static int expect_item(void *ctx, char *tok)
{
    struct vec *v = ctx;
    size_t n;
    char *val;
    if (!strchr(tok, '='))
        return -1;
    val = unescaped(tok, &n);
    put_escaped(&v->expect, val, n);
    put(&v->expect, "\n", 1);
    free(val);
    return 0;
}

static void vec_free(struct vec *v)
{
    int i;
    size_t k;
    for (i = 0; i < v->n; i++)
        free(v->it[i].text);
    for (k = 0; k < v->nrcpt; k++)
        free(v->rcpt[k]);
    free(v->helo);
    free(v->from);
    free(v->body);
    free(v->sent.p);
    free(v->expect.p);
}

static int load(const char *path, struct vec *v)
{
    FILE *f = fopen(path, "rb");
    static char line[70000];
    int lineno = 0, bad = 0;
    memset(v, 0, sizeof *v);
    v->name = path;
    v->timeout_ms = 3000;
    v->helo = unescaped("client.test", &v->helolen);
    v->from = unescaped("a@x.test", &v->fromlen);
    v->body = unescaped("hi\\n", &v->bodylen);
    put(&v->sent, "", 0);
    put(&v->expect, "", 0);
    if (!f)
        return -1;
    while (!bad && fgets(line, sizeof line, f)) {
        size_t n = strlen(line);
        struct item *it;
        lineno++;
        while (n && (line[n - 1] == '\n' || line[n - 1] == '\r'))
            line[--n] = 0;
        if (n == 0 || line[0] == '#')
            continue;
        if (line[0] == '!') {
            bad = config_line(line + 1, config_item, v) != 0;
        } else if (n >= 2 && line[0] == 'R' && line[1] == ':') {
            bad = config_line(line + 2, expect_item, v) != 0;
        } else if (n < 2 || line[1] != ':' || v->n >= MAXITEMS) {
            bad = 1;
        } else {
            it = &v->it[v->n++];
            switch (line[0]) {
            case 'S':
            case 'C':
                it->kind = line[0] == 'S' ? IT_S : IT_C;
                it->text = unescaped(line[2] == ' ' ? line + 3 : line + 2, &it->len);
                if (it->kind == IT_C)
                    put(&v->sent, it->text, it->len);
                break;
            case 'H':
                it->kind = IT_H;
                break;
            default:
                bad = 1;
            }
        }
        if (bad)
            fprintf(stderr, "%s:%d: bad line\n", path, lineno);
    }
    fclose(f);
    return bad ? -1 : 0;
}

/* ---- the scripted server (in a child) ---- */

struct rec {
    int fd;
    uint8_t *p;
    size_t n, scan;
};

static int fill(struct rec *r)
{
    ssize_t got;
    if (r->n == REC_MAX)
        return 0;
    got = read(r->fd, r->p + r->n, REC_MAX - r->n);
    if (got <= 0)
        return 0;
    r->n += (size_t)got;
    return 1;
}

static void write_all(int fd, const void *p, size_t n)
{
    const uint8_t *b = p;
    while (n) {
        ssize_t w = write(fd, b, n);
        if (w <= 0)
            return;
        b += w;
        n -= (size_t)w;
    }
}

/* Follow the script on fd, then send back everything read on out. */
static void serve(const struct vec *v, int fd, int out)
{
    struct rec r;
    int i;
    signal(SIGPIPE, SIG_IGN);
    r.fd = fd;
    r.n = r.scan = 0;
    r.p = malloc(REC_MAX);
    if (!r.p)
        _exit(2);
    for (i = 0; i < v->n; i++) {
        const struct item *it = &v->it[i];
        if (it->kind == IT_S) {
            write_all(fd, it->text, it->len);
        } else if (it->kind == IT_H) {
            shutdown(fd, SHUT_WR);
        } else {
            while (r.n - r.scan < it->len && fill(&r))
                ;
            if (r.n - r.scan < it->len || memcmp(r.p + r.scan, it->text, it->len) != 0)
                break; /* off the script: the recording shows where */
            r.scan += it->len;
        }
    }
    while (fill(&r))
        ; /* until the client hangs up, so QUIT is seen */
    close(fd);
    write_all(out, r.p, r.n);
    _exit(0);
}

/* ---- one run ---- */

static const char *err_text(int err, char *tmp)
{
    if (err == 0)
        return "0";
    if (strcmp(smtpw_err_name(err), "?") == 0) {
        sprintf(tmp, "%d", err);
        return tmp;
    }
    return smtpw_err_name(err);
}

static void actual(struct buf *a, const char *key, const char *val)
{
    puts_(a, key);
    put(a, "=", 1);
    put_escaped(a, val, strlen(val));
    put(a, "\n", 1);
}

static void actual_u(struct buf *a, const char *key, unsigned long val)
{
    char tmp[32];
    sprintf(tmp, "%lu", val);
    actual(a, key, tmp);
}

/* Every field the vector may name, "key=value" a line. */
static void describe(struct buf *a, int ret, const smtpw_posix_send_result *r,
                     const struct vec *v, const smtpw_posix_reply *rr, const uint32_t *st,
                     const struct ftls *t)
{
    char key[64], tmp[32];
    size_t k;
    actual(a, "err", err_text(r->err, tmp));
    actual(a, "ret", err_text(ret, tmp));
    actual_u(a, "delivered", r->delivered);
    actual_u(a, "accepted", r->accepted);
    actual(a, "stage", smtpw_cmd_name(r->stage));
    actual_u(a, "code", r->reply.code);
    actual(a, "cmd", smtpw_cmd_name(r->reply.cmd));
    actual(a, "text", r->reply.text);
    actual_u(a, "transactions", r->transactions);
    actual_u(a, "delivered_rcpts", r->delivered_rcpts);
    sprintf(tmp, "%ld", (long)r->os_error);
    actual(a, "os_error", tmp);
    actual_u(a, "handshakes", (unsigned long)t->handshakes);
    for (k = 0; k < v->nrcpt; k++) {
        if (v->replies) {
            sprintf(key, "rcpt.%zu.code", k);
            actual_u(a, key, rr[k].code);
            sprintf(key, "rcpt.%zu.cmd", k);
            actual(a, key, smtpw_cmd_name(rr[k].cmd));
            sprintf(key, "rcpt.%zu.text", k);
            actual(a, key, rr[k].text);
        }
        if (v->status) {
            sprintf(key, "status.%zu", k);
            actual(a, key, st[k] < 3 ? status_names[st[k]] : "?");
        }
    }
}

/* The line of `all` for key (up to its '='), or NULL. */
static const char *find_key(const char *all, const char *key, size_t klen)
{
    const char *p = all;
    while (*p) {
        if (strncmp(p, key, klen) == 0 && p[klen] == '=')
            return p;
        p = strchr(p, '\n') + 1;
    }
    return NULL;
}

static void fail(const struct vec *v, const char *what, const char *want, size_t wlen,
                 const char *got, size_t glen)
{
    failures++;
    fprintf(stderr, "FAIL %s: %s\n  want: %.*s\n  got:  %.*s\n", v->name, what, (int)wlen, want,
            (int)glen, got);
}

static int run_vector(const char *path)
{
    struct vec *v = calloc(1, sizeof *v);
    smtpw_posix_send_config o;
    smtpw_posix_send_result r;
    smtpw_posix_reply rr[MAXRCPT];
    uint32_t st[MAXRCPT];
    smtpw_span rs[MAXRCPT];
    size_t k;
    struct ftls t;
    struct buf got = {NULL, 0, 0}, a = {NULL, 0, 0};
    int sv[2], pp[2], status = 0, ret;
    pid_t pid;
    const char *e;
    if (!v)
        abort();
    runs++;
    if (load(path, v) != 0) {
        failures++;
        vec_free(v);
        free(v);
        return -1;
    }
    if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) != 0 || pipe(pp) != 0)
        abort();
    fflush(NULL);
    pid = fork();
    if (pid < 0)
        abort();
    if (pid == 0) {
        close(sv[0]);
        close(pp[0]);
        serve(v, sv[1], pp[1]);
    }
    close(sv[1]);
    close(pp[1]);

    smtpw_posix_send_config_init(&o, SMTPW_POSIX_SEND_CONFIG_VERSION);
    o.helo.ptr = v->helo;
    o.helo.len = v->helolen;
    o.from.ptr = v->from;
    o.from.len = v->fromlen;
    for (k = 0; k < v->nrcpt; k++) {
        rs[k].ptr = v->rcpt[k];
        rs[k].len = strlen(v->rcpt[k]);
    }
    o.rcpt = rs;
    o.nrcpt = v->nrcpt;
    o.body = (const uint8_t *)v->body;
    o.bodylen = v->bodylen;
    o.timeout_ms = v->timeout_ms;
    o.rcpt_policy = v->policy;
    memset(rr, 0xA5, sizeof rr);
    memset(st, 0xA5, sizeof st);
    o.rcpt_replies = v->replies ? rr : NULL;
    o.rcpt_status = v->status ? st : NULL;
    memset(&t, 0, sizeof t);
    t.fail = v->tls_fail;
    if (v->tls) {
        o.io = &ftls_io;
        o.io_ctx = &t;
        o.tls = (uint32_t)(v->tls - 1);
    }
    errno = EAGAIN; /* a stale value must never show as os_error */
    ret = smtpw_posix_send_fd(sv[0], &o, &r, sizeof r);
    close(sv[0]);
    for (;;) {
        char tmp[4096];
        ssize_t n = read(pp[0], tmp, sizeof tmp);
        if (n <= 0)
            break;
        put(&got, tmp, (size_t)n);
    }
    put(&got, "", 0);
    close(pp[0]);
    if (waitpid(pid, &status, 0) != pid || !WIFEXITED(status) || WEXITSTATUS(status) != 0) {
        failures++;
        fprintf(stderr, "FAIL %s: the server child failed\n", path);
    }

    if (got.n != v->sent.n || memcmp(got.p, v->sent.p, got.n) != 0)
        fail(v, "client bytes", v->sent.p, v->sent.n, got.p, got.n);
    describe(&a, ret, &r, v, rr, st, &t);
    if (ret != r.err)
        fail(v, "return value is not res.err", "ret == err", 10, a.p, a.n);
    for (e = v->expect.p; *e; e = strchr(e, '\n') + 1) {
        size_t elen = (size_t)(strchr(e, '\n') - e), klen = (size_t)(strchr(e, '=') - e);
        const char *line = find_key(a.p, e, klen);
        if (line == NULL) {
            fail(v, "unknown result key", e, klen, "", 0);
            continue;
        }
        if ((size_t)(strchr(line, '\n') - line) != elen || memcmp(line, e, elen) != 0)
            fail(v, "result", e, elen, line, (size_t)(strchr(line, '\n') - line));
    }
    free(got.p);
    free(a.p);
    vec_free(v);
    free(v);
    return 0;
}

int main(int argc, char **argv)
{
    signal(SIGPIPE, SIG_IGN); /* as the unit tests run the adapter */
    return run_all(argc, argv, run_vector, &failures, &runs);
}
