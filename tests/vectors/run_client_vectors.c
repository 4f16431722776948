/*
 * Replays client transcripts (tests/vectors/client/ *.smtp) against the
 * client core: the server bytes all at once, one byte at a time, and split
 * in two at every byte boundary; the client's output is drained one byte
 * at a time after every call, and the message body is encoded in pieces
 * (down to one input byte into a 2-byte buffer).  Output must match byte
 * for byte, events line for line, return codes call for call, in every run.
 *
 * Format, one item per line (the same escapes as the server vectors:
 * \r \n \t \\ \xHH; \x20 for a space inside an argument):
 *   # comment (the first one names the RFC section)
 *   ! key=value ...  config: flags=NO_PIPELINING,UTF8 max_reply_line=
 *                    max_reply_lines=
 *   A: call [=> SMTPW_E_x]   a call and its expected result (default 0):
 *        ehlo D | helo D | mail ADDR [size=N] [8bit] [utf8] [params=P]
 *        | rcpt ADDR [params=P] | data | rset | noop | quit | starttls
 *        | vrfy X | expn X | help [X] | body BYTES | end | tls
 *        | want BITS (READ,WRITE,BODY,TLS,CLOSE or 0: smtpw_client_want())
 *        | accepted N (smtpw_client_accepted())
 *        ADDR is the unquoted address ("<>": the null path).
 *   C: bytes     what the client must have sent so far (commands and body),
 *                checked at the next S: line and at the end
 *   S: bytes     server bytes fed to smtpw_client_recv()
 *   E: event     expected, in order:  CODE CMD [last] [#INDEX] [enh=X.Y.Z]
 *                [kw=KEYWORD]   or   error SMTPW_E_x  (a failing recv)
 * SPDX-License-Identifier: MIT
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "smtpwire/smtpwire.h"

#include "vecfile.h"

#define MAXITEMS 1024

enum { IT_A, IT_C, IT_S, IT_E };

struct item {
    int kind;
    char *text; /* A: the call, E: the event; C:/S: raw bytes */
    size_t len;
    int expect; /* A: the expected return */
    int line;
};

struct vec {
    const char *name;
    smtpw_client_config cfg;
    struct item it[MAXITEMS];
    int n;
    size_t slen; /* all S: bytes */
};

static int failures;
static long runs;

/* ---- parsing ---- */

static const char *const err_names[] = {
    "0",             "SMTPW_E_INVALID_ARG", "SMTPW_E_STATE",   "SMTPW_E_NOBUF",
    "SMTPW_E_AGAIN", "SMTPW_E_PROTO",       "SMTPW_E_CLOSED",  "SMTPW_E_SYNTAX",
    "SMTPW_E_TOOLONG", "SMTPW_E_VERSION",   "SMTPW_E_8BIT",    "SMTPW_E_SIZE",
    "SMTPW_E_IO",    "SMTPW_E_TIMEOUT",     "SMTPW_E_TLS",     "SMTPW_E_NOTSUP",
    "SMTPW_E_DNS"};

static int err_value(const char *s)
{
    int i;
    for (i = 0; i < (int)(sizeof err_names / sizeof err_names[0]); i++)
        if (strcmp(s, err_names[i]) == 0)
            return -i;
    return 1; /* unknown */
}

static char *dupmem(const char *s, size_t n)
{
    char *d = malloc(n + 1);
    if (!d)
        abort();
    memcpy(d, s, n);
    d[n] = 0;
    return d;
}

static int config_item(void *ctx, char *tok)
{
    struct vec *v = ctx;
    char *eq = strchr(tok, '=');
    const char *val;
    if (!eq)
        return -1;
    *eq = 0;
    val = eq + 1;
    if (strcmp(tok, "flags") == 0) {
        while (*val) {
            size_t n = strcspn(val, ",");
            if (n == 13 && memcmp(val, "NO_PIPELINING", n) == 0)
                v->cfg.flags |= SMTPW_CLIENT_NO_PIPELINING;
            else if (n == 4 && memcmp(val, "UTF8", n) == 0)
                v->cfg.flags |= SMTPW_CLIENT_SMTPUTF8;
            else
                return -1;
            val += n;
            if (*val == ',')
                val++;
        }
    } else if (strcmp(tok, "max_reply_line") == 0) {
        v->cfg.max_reply_line = (uint32_t)strtoul(val, NULL, 10);
    } else if (strcmp(tok, "max_reply_lines") == 0) {
        v->cfg.max_reply_lines = (uint32_t)strtoul(val, NULL, 10);
    } else {
        return -1;
    }
    return 0;
}

static int load(const char *path, struct vec *v)
{
    FILE *f = fopen(path, "rb");
    static char line[70000], tmp[70000];
    int lineno = 0;
    if (!f)
        return -1;
    memset(v, 0, sizeof *v);
    smtpw_client_config_init(&v->cfg, SMTPW_CLIENT_CONFIG_VERSION);
    while (fgets(line, sizeof line, f)) {
        size_t n = strlen(line);
        struct item *it;
        lineno++;
        while (n && (line[n - 1] == '\n' || line[n - 1] == '\r'))
            line[--n] = 0;
        if (n == 0 || line[0] == '#')
            continue;
        if (line[0] == '!') {
            if (config_line(line + 1, config_item, v) != 0) {
                fprintf(stderr, "%s:%d: bad config line\n", path, lineno);
                fclose(f);
                return -1;
            }
            continue;
        }
        if (n < 2 || line[1] != ':' || v->n >= MAXITEMS) {
            fprintf(stderr, "%s:%d: bad line\n", path, lineno);
            fclose(f);
            return -1;
        }
        it = &v->it[v->n++];
        it->line = lineno;
        it->expect = 0;
        switch (line[0]) {
        case 'A': {
            char *arrow = strstr(line, " => ");
            if (arrow) {
                it->expect = err_value(arrow + 4);
                *arrow = 0;
                if (it->expect > 0) {
                    fprintf(stderr, "%s:%d: unknown error name\n", path, lineno);
                    fclose(f);
                    return -1;
                }
            }
            it->kind = IT_A;
            it->text = dupmem(line + 3, strlen(line + 3));
            break;
        }
        case 'E':
            it->kind = IT_E;
            it->text = dupmem(line + 3, strlen(line + 3));
            break;
        case 'C':
        case 'S':
            it->kind = line[0] == 'C' ? IT_C : IT_S;
            it->len = unescape(line[2] == ' ' ? line + 3 : line + 2, tmp);
            it->text = dupmem(tmp, it->len);
            if (it->kind == IT_S)
                v->slen += it->len;
            break;
        default:
            fprintf(stderr, "%s:%d: bad line\n", path, lineno);
            fclose(f);
            return -1;
        }
    }
    fclose(f);
    return 0;
}

/* ---- replay ---- */

struct run {
    const struct vec *v;
    char mode[64];
    smtpw_client *c;
    struct buf out;      /* what the client sent */
    struct buf want_out; /* C: so far */
    struct buf evs;      /* events seen, one per line */
    struct buf sbuf;     /* server bytes given, not yet consumed */
    size_t sfed;         /* S: bytes delivered so far (for the cut) */
    size_t cut;          /* 0: none, else split the S: stream there */
    int bytewise;
    size_t body_in, body_out; /* body_encode piece and buffer sizes */
    int dead;                 /* recv failed: feed no more */
};

static int fail(struct run *r, int line, const char *what)
{
    fprintf(stderr, "FAIL %s:%d [%s]: %s\n", r->v->name, line, r->mode, what);
    failures++;
    return -1;
}

static void drain(struct run *r)
{
    size_t n;
    const uint8_t *p;
    for (;;) {
        p = smtpw_client_output(r->c, &n);
        if (n == 0)
            break;
        if (!(smtpw_client_want(r->c) & SMTPW_WANT_WRITE))
            abort();
        put(&r->out, p, 1);
        smtpw_client_output_ack(r->c, 1);
    }
}

static void log_event(struct run *r, const smtpw_event *ev)
{
    char t[160];
    const char *name = ev->cmd == SMTPW_CMD_GREETING ? "GREETING"
                       : ev->cmd == SMTPW_CMD_BODY   ? "BODY"
                       : ev->cmd == SMTPW_CMD_NONE   ? "NONE"
                                                     : smtpw_cmd_name(ev->cmd);
    snprintf(t, sizeof t, "%u %s", (unsigned)ev->code, name);
    puts_(&r->evs, t);
    if (ev->flags & SMTPW_EVF_LAST)
        puts_(&r->evs, " last");
    if (ev->cmd == SMTPW_CMD_RCPT) {
        snprintf(t, sizeof t, " #%u", (unsigned)ev->index);
        puts_(&r->evs, t);
    }
    if (ev->flags & SMTPW_EVF_ENHANCED) {
        snprintf(t, sizeof t, " enh=%u.%u.%u", (unsigned)ev->enh_class,
                 (unsigned)ev->enh_subject, (unsigned)ev->enh_detail);
        puts_(&r->evs, t);
    }
    if (ev->flags & SMTPW_EVF_KEYWORD) {
        puts_(&r->evs, " kw=");
        put(&r->evs, ev->keyword.ptr, ev->keyword.len);
    }
    puts_(&r->evs, "\n");
}

/* Deliver one piece of server bytes and take every whole line. */
static int feed(struct run *r, int line, const char *p, size_t n)
{
    put(&r->sbuf, p, n);
    /* recv until NONE, as the driver loop of client.h: the input used up
     * is what makes want() say READ (api.md A) */
    while (!r->dead) {
        smtpw_event ev;
        size_t used = 4242;
        int x = smtpw_client_recv(r->c, (const uint8_t *)r->sbuf.p, r->sbuf.n, &used, &ev, sizeof ev);
        if (used > r->sbuf.n)
            return fail(r, line, "consumed more than given");
        if (x < 0 && r->sbuf.n == 0)
            break; /* nothing was given: an ended session says so next time */
        if (x < 0) {
            char t[64];
            if (used)
                return fail(r, line, "consumed on error");
            snprintf(t, sizeof t, "error SMTPW_E_%s\n", smtpw_err_name(x));
            puts_(&r->evs, t);
            r->dead = 1;
            break;
        }
        if (x == SMTPW_EV_NONE) {
            if (used)
                return fail(r, line, "consumed without an event");
            break;
        }
        if (x != SMTPW_EV_REPLY || ev.type != (uint32_t)x)
            return fail(r, line, "bad event type");
        if (ev.line.ptr != r->sbuf.p || ev.line.len + 2 != used)
            return fail(r, line, "line span is not the consumed line");
        log_event(r, &ev);
        memmove(r->sbuf.p, r->sbuf.p + used, r->sbuf.n - used);
        r->sbuf.n -= used;
        drain(r);
    }
    return 0;
}

static int feed_block(struct run *r, const struct item *it)
{
    size_t off = 0;
    while (off < it->len) {
        size_t piece = it->len - off;
        if (r->bytewise)
            piece = 1;
        else if (r->cut > r->sfed && r->cut - r->sfed < piece)
            piece = r->cut - r->sfed;
        if (feed(r, it->line, it->text + off, piece))
            return -1;
        off += piece;
        r->sfed += piece;
    }
    return 0;
}

static int check_out(struct run *r, int line)
{
    if (r->out.n != r->want_out.n ||
        (r->out.n && memcmp(r->out.p, r->want_out.p, r->out.n) != 0)) {
        fail(r, line, "client output differs");
        fprintf(stderr, "  got:  %.*s\n  want: %.*s\n", (int)r->out.n, r->out.p ? r->out.p : "",
                (int)r->want_out.n, r->want_out.p ? r->want_out.p : "");
        return -1;
    }
    return 0;
}

static unsigned want_bits(const char *s)
{
    unsigned w = 0;
    if (strstr(s, "READ"))
        w |= SMTPW_WANT_READ;
    if (strstr(s, "WRITE"))
        w |= SMTPW_WANT_WRITE;
    if (strstr(s, "BODY"))
        w |= SMTPW_WANT_BODY;
    if (strstr(s, "TLS"))
        w |= SMTPW_WANT_TLS;
    if (strstr(s, "CLOSE"))
        w |= SMTPW_WANT_CLOSE;
    return w;
}

/* The body through body_encode in pieces; returns the first error or 0. */
static int body(struct run *r, const char *b, size_t n)
{
    uint8_t out[4096];
    size_t off = 0;
    while (off < n) {
        size_t used = 0, wrote = 0, in = n - off < r->body_in ? n - off : r->body_in;
        int x = smtpw_client_body_encode(r->c, (const uint8_t *)b + off, in, &used, out,
                                         r->body_out, &wrote);
        if (used > in || wrote > r->body_out)
            abort();
        put(&r->out, out, wrote);
        off += used;
        if (x)
            return x;
        if (!used && !wrote)
            abort(); /* no progress */
    }
    return 0;
}

static int call(struct run *r, const struct item *it)
{
    char *args[8];
    size_t alen[8];
    char *save = NULL, *tok, *textcopy = dupmem(it->text, strlen(it->text));
    smtpw_client *c = r->c;
    int na = 0, x = 0, k;
    const char *verb;
    char *rest_arg;

    for (tok = strtok_r(textcopy, " ", &save); tok && na < 8; tok = strtok_r(NULL, " ", &save)) {
        args[na] = malloc(strlen(tok) + 1);
        if (!args[na])
            abort();
        alen[na] = unescape(tok, args[na]);
        args[na][alen[na]] = 0;
        na++;
    }
    if (na == 0) {
        free(textcopy);
        return fail(r, it->line, "empty call");
    }
    /* the rest of the line, unescaped, for body/vrfy/expn/help */
    rest_arg = malloc(strlen(it->text) + 1);
    if (!rest_arg)
        abort();
    verb = args[0];
    if (strcmp(verb, "ehlo") == 0 || strcmp(verb, "helo") == 0) {
        x = (verb[0] == 'e' ? smtpw_client_ehlo : smtpw_client_helo)(c, args[1], na > 1 ? alen[1] : 0);
    } else if (strcmp(verb, "mail") == 0 || strcmp(verb, "rcpt") == 0) {
        const char *addr = args[1], *params = NULL;
        size_t len = na > 1 ? alen[1] : 0, plen = 0;
        uint64_t size = 0;
        unsigned flags = 0;
        if (len == 2 && memcmp(addr, "<>", 2) == 0) {
            addr = NULL;
            len = 0;
        }
        for (k = 2; k < na; k++) {
            if (strncmp(args[k], "size=", 5) == 0)
                size = strtoull(args[k] + 5, NULL, 10);
            else if (strcmp(args[k], "8bit") == 0)
                flags |= SMTPW_MAIL_8BIT;
            else if (strcmp(args[k], "utf8") == 0)
                flags |= SMTPW_MAIL_SMTPUTF8;
            else if (strncmp(args[k], "params=", 7) == 0) {
                params = args[k] + 7;
                plen = alen[k] - 7;
            } else {
                x = 1;
            }
        }
        if (x == 1) {
            x = fail(r, it->line, "bad argument");
            goto out;
        }
        x = verb[0] == 'm' ? smtpw_client_mail(c, addr, len, size, flags, params, plen)
                           : smtpw_client_rcpt(c, addr, len, params, plen);
    } else if (strcmp(verb, "data") == 0) {
        x = smtpw_client_data(c);
    } else if (strcmp(verb, "rset") == 0) {
        x = smtpw_client_rset(c);
    } else if (strcmp(verb, "noop") == 0) {
        x = smtpw_client_noop(c);
    } else if (strcmp(verb, "quit") == 0) {
        x = smtpw_client_quit(c);
    } else if (strcmp(verb, "starttls") == 0) {
        x = smtpw_client_starttls(c);
    } else if (strcmp(verb, "tls") == 0) {
        x = smtpw_client_tls_started(c);
    } else if (strcmp(verb, "vrfy") == 0 || strcmp(verb, "expn") == 0 ||
               strcmp(verb, "help") == 0) {
        /* the argument is the rest of the line */
        const char *rest = it->text + strlen(verb);
        char *a = rest_arg;
        size_t n;
        while (*rest == ' ')
            rest++;
        n = unescape(rest, a);
        x = verb[0] == 'v' ? smtpw_client_vrfy(c, a, n)
            : verb[0] == 'e' ? smtpw_client_expn(c, a, n)
                             : smtpw_client_help(c, n ? a : NULL, n);
    } else if (strcmp(verb, "body") == 0) {
        const char *rest = it->text + 4;
        char *a = rest_arg;
        size_t n;
        while (*rest == ' ')
            rest++;
        n = unescape(rest, a);
        x = body(r, a, n);
    } else if (strcmp(verb, "end") == 0) {
        uint8_t out[5];
        size_t wrote = 0;
        x = smtpw_client_body_end(c, out, sizeof out, &wrote);
        put(&r->out, out, wrote);
    } else if (strcmp(verb, "accepted") == 0) {
        unsigned long exp = strtoul(args[na > 1 ? 1 : 0], NULL, 10);
        if (smtpw_client_accepted(c) != exp) {
            x = fail(r, it->line, "smtpw_client_accepted() differs");
            goto out;
        }
    } else if (strcmp(verb, "want") == 0) {
        unsigned got = smtpw_client_want(c), exp = want_bits(it->text + 4);
        if (got != exp) {
            char t[96];
            snprintf(t, sizeof t, "want() is 0x%x, expected 0x%x", got, exp);
            x = fail(r, it->line, t);
            goto out;
        }
    } else {
        x = fail(r, it->line, "unknown call");
        goto out;
    }
    drain(r);
    if (x != it->expect) {
        char t[128];
        snprintf(t, sizeof t, "%s returned %s, expected %s", verb, smtpw_err_name(x),
                 smtpw_err_name(it->expect));
        x = fail(r, it->line, t);
    } else {
        x = 0;
    }
out:
    for (k = 0; k < na; k++)
        free(args[k]);
    free(rest_arg);
    free(textcopy);
    return x;
}

static int run_once(const struct vec *v, const char *mode, size_t cut, int bytewise)
{
    static uint64_t mem[SMTPW_CLIENT_SIZE_HINT / 8 + 1];
    struct run r;
    struct buf want_ev = {0};
    int i, rc = 0, last = 0;

    memset(&r, 0, sizeof r);
    runs++;
    r.v = v;
    r.cut = cut;
    r.bytewise = bytewise;
    r.body_in = bytewise ? 1 : cut ? 1 + cut % 7 : 65536;
    r.body_out = bytewise ? 2 : cut ? 2 + cut % 5 : 4096;
    snprintf(r.mode, sizeof r.mode, "%s %zu", mode, cut);
    if (smtpw_client_init(mem, sizeof mem, &v->cfg, &r.c) != 0)
        return fail(&r, 0, "init");
    for (i = 0; i < v->n && rc == 0; i++) {
        const struct item *it = &v->it[i];
        last = it->line;
        switch (it->kind) {
        case IT_A:
            rc = call(&r, it);
            break;
        case IT_C:
            put(&r.want_out, it->text, it->len);
            break;
        case IT_S:
            /* all that was queued must be out before the server speaks */
            rc = check_out(&r, it->line);
            if (rc == 0)
                rc = feed_block(&r, it);
            break;
        default:
            puts_(&want_ev, it->text);
            puts_(&want_ev, "\n");
            break;
        }
    }
    if (rc == 0)
        rc = check_out(&r, last);
    if (rc == 0 && strcmp(want_ev.p ? want_ev.p : "", r.evs.p ? r.evs.p : "") != 0) {
        fail(&r, last, "events differ");
        fprintf(stderr, "  got:\n%s  want:\n%s", r.evs.p ? r.evs.p : "",
                want_ev.p ? want_ev.p : "");
        rc = -1;
    }
    if (rc == 0) {
        /* command bytes: whole CRLF lines, never a bare CR or LF */
        size_t k;
        for (k = 0; k < r.out.n; k++)
            if ((r.out.p[k] == '\n' && (k == 0 || r.out.p[k - 1] != '\r')) ||
                (r.out.p[k] == '\r' && (k + 1 == r.out.n || r.out.p[k + 1] != '\n')))
                rc = fail(&r, last, "bare CR or LF in client output");
    }
    free(r.out.p);
    free(r.want_out.p);
    free(r.evs.p);
    free(r.sbuf.p);
    free(want_ev.p);
    return rc;
}

static void free_vec(struct vec *v)
{
    int i;
    for (i = 0; i < v->n; i++)
        free(v->it[i].text);
}

static int run_vector(const char *path)
{
    static struct vec v;
    size_t k;
    int rc = 0;
    if (load(path, &v) != 0) {
        fprintf(stderr, "FAIL %s: cannot load\n", path);
        failures++;
        return -1;
    }
    v.name = path;
    if (run_once(&v, "whole", 0, 0) || run_once(&v, "bytewise", 0, 1))
        rc = -1;
    for (k = 1; k < v.slen && rc == 0; k++)
        if (run_once(&v, "split", k, 0))
            rc = -1;
    free_vec(&v);
    return rc;
}

int main(int argc, char **argv)
{
    return run_all(argc, argv, run_vector, &failures, &runs);
}
