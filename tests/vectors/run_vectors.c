/*
 * Replays server transcripts (tests/vectors/server/ *.smtp) against the
 * server core: all at once, one byte at a time, and split in two at every
 * byte boundary; output is drained one byte at a time whenever the core
 * waits, the smallest step the API allows.  Output must match byte for
 * byte and events line for line in every run.
 *
 * Format, one item per line:
 *   # comment (the first one names the RFC section)
 *   ! key=value ...   config: flags=LENIENT,STARTTLS,... hostname= max_message_size=
 *                     max_recipients= max_command_line= max_text_line= max_errors=
 *                     bare_command=REJECT|NORMALIZE|KEEP bare_body=...
 *   C: bytes          client bytes; escapes \r \n \t \\ \xHH
 *   S: bytes          expected server bytes, same escapes
 *   E: event          expected event (as printed by log_event below); consecutive
 *                     BODY lines are joined
 *   A: code [x.y.z] [text]   the application's answer to the event just above
 *                     (events without one get code 0, the default)
 *   T:                the TLS handshake happens here: client bytes after it are
 *                     sent under TLS (the core must have said STARTTLS)
 * Body bytes delivered before a DATA_ABORT are void (the application drops
 * them) and how many there are depends on the chunking: a BODY run right
 * before DATA_ABORT is left out of the comparison.
 * SPDX-License-Identifier: MIT
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "smtpwire/smtpwire.h"

#include "vecfile.h"

#define MAXEV 2048

struct ev_exp {
    char *text;    /* expected event line */
    unsigned code; /* answer */
    char enh[16];
    char *atext;
    int has_answer;
};

struct vec {
    const char *name;
    smtpw_server_config cfg;
    char host[256];
    char *in[8]; /* client bytes per TLS segment */
    size_t inlen[8];
    int nseg;
    char *out;
    size_t outlen;
    struct ev_exp ev[MAXEV];
    int nev;
};

static int failures;
static long runs;

/* ---- parsing ---------------------------------------------------------- */

static unsigned policy(const char *v)
{
    if (strcmp(v, "REJECT") == 0)
        return SMTPW_BARE_REJECT;
    if (strcmp(v, "NORMALIZE") == 0)
        return SMTPW_BARE_NORMALIZE;
    if (strcmp(v, "KEEP") == 0)
        return SMTPW_BARE_KEEP;
    return 99;
}

/* One "key=value" of a "!" line. */
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
        const char *f = val;
        while (*f) {
            size_t n = strcspn(f, ",");
#define FLAG(name, bit)                                                                       \
    if (n == sizeof(name) - 1 && memcmp(f, name, n) == 0)                                     \
        v->cfg.flags |= bit;                                                                  \
    else
            FLAG("LENIENT", SMTPW_SERVER_LENIENT)
            FLAG("REFUSE", SMTPW_SERVER_REFUSE)
            FLAG("NO_PIPELINING", SMTPW_SERVER_NO_PIPELINING)
            FLAG("NO_8BITMIME", SMTPW_SERVER_NO_8BITMIME)
            FLAG("NO_ENHANCED", SMTPW_SERVER_NO_ENHANCED)
            FLAG("STARTTLS", SMTPW_SERVER_STARTTLS)
            FLAG("SMTPUTF8", SMTPW_SERVER_SMTPUTF8)
            return -1;
#undef FLAG
            f += n;
            if (*f == ',')
                f++;
        }
    } else if (strcmp(tok, "hostname") == 0) {
        snprintf(v->host, sizeof v->host, "%s", val);
        v->cfg.hostname = v->host;
        v->cfg.hostname_len = strlen(v->host);
    } else if (strcmp(tok, "max_message_size") == 0) {
        v->cfg.max_message_size = strtoull(val, NULL, 10);
    } else if (strcmp(tok, "max_recipients") == 0) {
        v->cfg.max_recipients = (uint32_t)strtoul(val, NULL, 10);
    } else if (strcmp(tok, "max_command_line") == 0) {
        v->cfg.max_command_line = (uint32_t)strtoul(val, NULL, 10);
    } else if (strcmp(tok, "max_text_line") == 0) {
        v->cfg.max_text_line = (uint32_t)strtoul(val, NULL, 10);
    } else if (strcmp(tok, "max_errors") == 0) {
        v->cfg.max_errors = (uint32_t)strtoul(val, NULL, 10);
    } else if (strcmp(tok, "bare_command") == 0) {
        v->cfg.bare_command = policy(val);
    } else if (strcmp(tok, "bare_body") == 0) {
        v->cfg.bare_body = policy(val);
    } else {
        return -1;
    }
    return 0;
}

static char *dupstr(const char *s)
{
    size_t n = strlen(s) + 1;
    char *d = malloc(n);
    if (!d)
        abort();
    memcpy(d, s, n);
    return d;
}

static int load(const char *path, struct vec *v)
{
    FILE *f = fopen(path, "rb");
    char line[70000];
    struct buf in = {0}, out = {0};
    int lineno = 0;
    if (!f)
        return -1;
    memset(v, 0, sizeof *v);
    smtpw_server_config_init(&v->cfg, SMTPW_SERVER_CONFIG_VERSION);
    v->cfg.hostname = "mx.example";
    v->cfg.hostname_len = 10;
    v->nseg = 0;
    while (fgets(line, sizeof line, f)) {
        size_t n = strlen(line);
        char tmp[70000];
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
        if (n < 2 || line[1] != ':') {
            fprintf(stderr, "%s:%d: bad line\n", path, lineno);
            fclose(f);
            return -1;
        }
        switch (line[0]) {
        case 'C':
            put(&in, tmp, unescape(line[2] == ' ' ? line + 3 : line + 2, tmp));
            break;
        case 'S':
            put(&out, tmp, unescape(line[2] == ' ' ? line + 3 : line + 2, tmp));
            break;
        case 'T':
            v->in[v->nseg] = in.p ? in.p : dupstr("");
            v->inlen[v->nseg++] = in.n;
            memset(&in, 0, sizeof in);
            break;
        case 'E':
            if (v->nev >= MAXEV)
                abort();
            v->ev[v->nev++].text = dupstr(line + 3);
            break;
        case 'A': {
            struct ev_exp *e = &v->ev[v->nev - 1];
            char *p = line + 3, *sp;
            if (v->nev == 0)
                return -1;
            e->has_answer = 1;
            e->code = (unsigned)strtoul(p, &p, 10);
            while (*p == ' ')
                p++;
            if (p[0] >= '2' && p[0] <= '5' && p[1] == '.') {
                sp = strchr(p, ' ');
                if (!sp)
                    sp = p + strlen(p);
                snprintf(e->enh, sizeof e->enh, "%.*s", (int)(sp - p), p);
                p = *sp ? sp + 1 : sp;
            }
            if (*p) {
                e->atext = malloc(strlen(p) + 1);
                e->atext[unescape(p, e->atext)] = 0;
            }
            break;
        }
        default:
            fprintf(stderr, "%s:%d: bad line\n", path, lineno);
            fclose(f);
            return -1;
        }
    }
    fclose(f);
    v->in[v->nseg] = in.p ? in.p : dupstr("");
    v->inlen[v->nseg++] = in.n;
    v->out = out.p ? out.p : dupstr("");
    v->outlen = out.n;
    return 0;
}

/* ---- replay ----------------------------------------------------------- */

static void log_span(struct buf *b, smtpw_span sp)
{
    size_t i;
    char t[8];
    for (i = 0; i < sp.len; i++) {
        unsigned char c = (unsigned char)sp.ptr[i];
        if (c == '\r')
            puts_(b, "\\r");
        else if (c == '\n')
            puts_(b, "\\n");
        else if (c == '\\')
            puts_(b, "\\\\");
        else if (c < 0x20 || c >= 0x7f) {
            snprintf(t, sizeof t, "\\x%02x", c);
            puts_(b, t);
        } else
            put(b, &c, 1);
    }
}

static void format_event(struct buf *b, const smtpw_event *ev)
{
    char t[128];
    switch (ev->type) {
    case SMTPW_EV_HELO:
        snprintf(t, sizeof t, "HELO %s ", smtpw_cmd_name(ev->cmd));
        puts_(b, t);
        log_span(b, ev->arg);
        break;
    case SMTPW_EV_MAIL:
    case SMTPW_EV_RCPT:
        puts_(b, smtpw_event_name(ev->type));
        puts_(b, " ");
        log_span(b, ev->arg);
        if (ev->params.len) {
            puts_(b, " [");
            log_span(b, ev->params);
            puts_(b, "]");
        }
        if (ev->flags) {
            snprintf(t, sizeof t, " flags=%u", (unsigned)ev->flags);
            puts_(b, t);
        }
        if (ev->flags & SMTPW_EVF_SIZE) {
            snprintf(t, sizeof t, " size=%llu", (unsigned long long)ev->size);
            puts_(b, t);
        }
        break;
    case SMTPW_EV_DATA_END:
        snprintf(t, sizeof t, "DATA_END %llu", (unsigned long long)ev->size);
        puts_(b, t);
        break;
    case SMTPW_EV_DATA_ABORT:
    case SMTPW_EV_CLOSE:
        snprintf(t, sizeof t, "%s %u", smtpw_event_name(ev->type), (unsigned)ev->code);
        puts_(b, t);
        break;
    case SMTPW_EV_REJECTED:
        snprintf(t, sizeof t, "REJECTED %s %u",
                 ev->cmd == SMTPW_CMD_UNKNOWN ? "?" : ev->cmd == SMTPW_CMD_NONE ? "-" : smtpw_cmd_name(ev->cmd),
                 (unsigned)ev->code);
        puts_(b, t);
        break;
    case SMTPW_EV_VRFY:
    case SMTPW_EV_EXPN:
    case SMTPW_EV_HELP:
        puts_(b, smtpw_event_name(ev->type));
        puts_(b, " ");
        log_span(b, ev->arg);
        break;
    default:
        puts_(b, smtpw_event_name(ev->type));
        break;
    }
}

struct run {
    const struct vec *v;
    const char *mode;
    struct buf out, evs; /* actual */
    int nev;             /* events seen (a BODY run counts once) */
    int in_body;
};

static int check_span(smtpw_span sp, const char *in, size_t inlen)
{
    if (sp.len == 0)
        return 1;
    if (sp.ptr >= in && sp.ptr + sp.len <= in + inlen)
        return 1;
    /* static bytes: a held or normalized CR / CRLF */
    return sp.len <= 2 && memcmp(sp.ptr, "\r\n", sp.len) == 0;
}

static int fail(struct run *r, const char *what)
{
    fprintf(stderr, "FAIL %s [%s]: %s\n", r->v->name, r->mode, what);
    failures++;
    return -1;
}

/* Feed the pieces of one segment; returns 0, or -1 after reporting. */
static int replay(struct run *r, smtpw_server *s, const char *seg, size_t seglen,
                  const size_t *cuts, size_t ncuts, int last_seg)
{
    static char buf[1 << 17];
    size_t have = 0, next = 0, k = 0;
    for (;;) {
        smtpw_event ev;
        size_t used = 777, olen;
        unsigned w = smtpw_server_want(s);
        int x = smtpw_server_recv(s, (const uint8_t *)buf, have, &used, &ev, sizeof ev);
        if (x == SMTPW_E_CLOSED) {
            if (used != 0 || !(w & SMTPW_WANT_CLOSE))
                return fail(r, "closed but want() had no CLOSE");
            break;
        }
        if (x < 0)
            return fail(r, smtpw_err_name(x));
        if (used > have)
            return fail(r, "consumed more than given");
        if ((uint32_t)x != ev.type)
            return fail(r, "return value and ev.type differ");
        if ((w & SMTPW_WANT_REPLY) && (x != SMTPW_EV_NONE || used))
            return fail(r, "progress while a reply was owed");
        if (!check_span(ev.arg, buf, have) || !check_span(ev.params, buf, have))
            return fail(r, "span outside the input");
        if (x != SMTPW_EV_NONE) {
            if (x == SMTPW_EV_BODY) {
                if (!r->in_body) {
                    if (r->evs.n)
                        puts_(&r->evs, "\n");
                    puts_(&r->evs, "BODY ");
                    r->nev++;
                }
                r->in_body = 1;
                log_span(&r->evs, ev.arg);
            } else {
                if (x == SMTPW_EV_DATA_ABORT && r->in_body) {
                    /* void body: drop the run */
                    char *b = r->evs.p ? strrchr(r->evs.p, '\n') : NULL;
                    r->evs.n = b ? (size_t)(b - r->evs.p) : 0;
                    if (r->evs.p)
                        r->evs.p[r->evs.n] = 0;
                    r->nev--;
                }
                if (r->evs.n)
                    puts_(&r->evs, "\n");
                r->in_body = 0;
                format_event(&r->evs, &ev);
                r->nev++;
            }
        }
        memmove(buf, buf + used, have - used);
        have -= used;
        if (smtpw_server_want(s) & SMTPW_WANT_REPLY) {
            int i = r->nev - 1;
            unsigned code = 0;
            const char *enh = NULL, *text = NULL;
            if (i >= 0 && i < r->v->nev && r->v->ev[i].has_answer) {
                code = r->v->ev[i].code;
                enh = r->v->ev[i].enh[0] ? r->v->ev[i].enh : NULL;
                text = r->v->ev[i].atext;
            }
            if (smtpw_server_reply(s, code, enh, enh ? strlen(enh) : 0, text, text ? strlen(text) : 0) != 0)
                return fail(r, "reply refused");
            continue;
        }
        if (x != SMTPW_EV_NONE || used)
            continue;
        /* stuck: drain one byte, else deliver the next piece */
        smtpw_server_output(s, &olen);
        if (olen) {
            const uint8_t *p = smtpw_server_output(s, &olen);
            if (!(smtpw_server_want(s) & SMTPW_WANT_WRITE))
                return fail(r, "output queued but no WRITE");
            put(&r->out, p, 1);
            smtpw_server_output_ack(s, 1);
            continue;
        }
        if (next < seglen) {
            size_t to = k < ncuts ? cuts[k++] : seglen;
            if (have + (to - next) > sizeof buf)
                return fail(r, "buffer");
            memcpy(buf + have, seg + next, to - next);
            have += to - next;
            next = to;
            continue;
        }
        break;
    }
    (void)last_seg;
    return 0;
}

static int run_once(const struct vec *v, const char *mode, size_t cut_at, int bytewise)
{
    static uint64_t mem[SMTPW_SERVER_SIZE_HINT / 8 + 1];
    static size_t cuts[1 << 16];
    struct run r;
    smtpw_server *s;
    int seg, rc = 0, i;
    size_t olen;
    const uint8_t *p;
    char m[64];
    memset(&r, 0, sizeof r);
    runs++;
    r.v = v;
    snprintf(m, sizeof m, "%s %zu", mode, cut_at);
    r.mode = m;
    if (smtpw_server_init(mem, sizeof mem, &v->cfg, &s) != 0)
        return fail(&r, "init");
    for (seg = 0; seg < v->nseg && rc == 0; seg++) {
        size_t nc = 0, j;
        if (bytewise)
            for (j = 1; j < v->inlen[seg] && j < (1u << 16); j++)
                cuts[nc++] = j;
        else if (cut_at && cut_at < v->inlen[seg])
            cuts[nc++] = cut_at;
        rc = replay(&r, s, v->in[seg], v->inlen[seg], cuts, nc, seg + 1 == v->nseg);
        if (rc == 0 && seg + 1 < v->nseg) {
            /* the handshake: the 220 must be drained first */
            smtpw_event ev;
            size_t used;
            size_t el = strlen("STARTTLS");
            int told = r.evs.n >= el && strcmp(r.evs.p + r.evs.n - el, "STARTTLS") == 0;
            if (!(smtpw_server_want(s) & SMTPW_WANT_TLS))
                rc = fail(&r, "T: without WANT_TLS");
            else if (!told &&
                     smtpw_server_recv(s, (const uint8_t *)"", 0, &used, &ev, sizeof ev) != SMTPW_EV_STARTTLS)
                rc = fail(&r, "T: without STARTTLS event");
            else if (smtpw_server_tls_started(s) != 0)
                rc = fail(&r, "tls_started");
            else if (!told) {
                if (r.evs.n)
                    puts_(&r.evs, "\n");
                r.in_body = 0;
                puts_(&r.evs, "STARTTLS");
                r.nev++;
            }
        }
    }
    p = smtpw_server_output(s, &olen);
    put(&r.out, p, olen);
    if (rc == 0) {
        /* output: byte-exact; every line CRLF-terminated, <= 512 */
        size_t a = 0, b;
        if (r.out.n != v->outlen || memcmp(r.out.p ? r.out.p : "", v->out, v->outlen) != 0) {
            struct buf e = {0};
            smtpw_span sp;
            fail(&r, "output differs");
            sp.ptr = r.out.p ? r.out.p : "";
            sp.len = r.out.n;
            log_span(&e, sp);
            fprintf(stderr, "  got:  %s\n", e.p ? e.p : "");
            e.n = 0;
            sp.ptr = v->out;
            sp.len = v->outlen;
            log_span(&e, sp);
            fprintf(stderr, "  want: %s\n", e.p ? e.p : "");
            free(e.p);
            rc = -1;
        }
        for (b = 0; b < r.out.n; b++) {
            if (r.out.p[b] == '\n') {
                if (b == 0 || r.out.p[b - 1] != '\r' || b + 1 - a > 512)
                    rc = fail(&r, "bad output line");
                a = b + 1;
            } else if (r.out.p[b] == '\r' && (b + 1 >= r.out.n || r.out.p[b + 1] != '\n')) {
                rc = fail(&r, "bare CR in output");
            }
        }
    }
    if (rc == 0) {
        struct buf e = {0};
        for (i = 0; i < v->nev; i++) {
            /* consecutive expected BODY lines are one run */
            if (i && strncmp(v->ev[i].text, "BODY ", 5) == 0 &&
                strncmp(v->ev[i - 1].text, "BODY ", 5) == 0) {
                puts_(&e, v->ev[i].text + 5);
                continue;
            }
            if (e.n)
                puts_(&e, "\n");
            puts_(&e, v->ev[i].text);
        }
        if (strcmp(e.p ? e.p : "", r.evs.p ? r.evs.p : "") != 0) {
            fail(&r, "events differ");
            fprintf(stderr, "  got:\n%s\n  want:\n%s\n", r.evs.p ? r.evs.p : "", e.p ? e.p : "");
            rc = -1;
        }
        free(e.p);
    }
    free(r.out.p);
    free(r.evs.p);
    return rc;
}

static void free_vec(struct vec *v)
{
    int i;
    for (i = 0; i < v->nseg; i++)
        free(v->in[i]);
    free(v->out);
    for (i = 0; i < v->nev; i++) {
        free(v->ev[i].text);
        free(v->ev[i].atext);
    }
}

static int run_vector(const char *path)
{
    static struct vec v;
    size_t k, maxlen = 0;
    int seg, rc = 0;
    if (load(path, &v) != 0) {
        fprintf(stderr, "FAIL %s: cannot load\n", path);
        failures++;
        return -1;
    }
    v.name = path;
    if (run_once(&v, "whole", 0, 0) || run_once(&v, "bytewise", 0, 1))
        rc = -1;
    for (seg = 0; seg < v.nseg; seg++)
        if (v.inlen[seg] > maxlen)
            maxlen = v.inlen[seg];
    for (k = 1; k < maxlen && rc == 0; k++)
        if (run_once(&v, "split", k, 0))
            rc = -1;
    free_vec(&v);
    return rc;
}

int main(int argc, char **argv)
{
    return run_all(argc, argv, run_vector, &failures, &runs);
}
