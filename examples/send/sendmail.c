/* smtpwire-send's sendmail mode: see sendmail.h.
 * SPDX-License-Identifier: MIT */
#if !defined(_POSIX_C_SOURCE) || _POSIX_C_SOURCE < 200809L
#undef _POSIX_C_SOURCE
#define _POSIX_C_SOURCE 200809L
#endif

#include "sendmail.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "escape.h"
#include "smtpwire/syntax.h"

#define ESCBUF 160

static const char *shown(char *buf, const char *text)
{
    return esc_str(buf, ESCBUF, text, 0);
}

int sm_called_as_sendmail(const char *argv0)
{
    const char *base;
    if (!argv0)
        return 0;
    base = strrchr(argv0, '/');
    base = base ? base + 1 : argv0;
    return strcmp(base, "sendmail") == 0;
}

/* ---- address lists (RFC 5322 3.4, with the obsolete forms of 4.4) ---- */

typedef struct lex {
    const char *p, *start, *end;
} lex;

/* Room for an addr-spec: RFC 5321 4.5.3.1.1-2 allow 64 + 1 + 255 octets;
 * more than that is refused as too long. */
#define LOCAL_CAP 256
#define DOMAIN_CAP 256

static int is_wsp(char c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

/* atext (RFC 5322 3.2.3), and UTF-8 bytes (RFC 6532 3.2) */
static int is_atext(char ch)
{
    unsigned char c = (unsigned char)ch;
    if (c >= 0x80)
        return 1;
    if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'))
        return 1;
    return c != 0 && strchr("!#$%&'*+-/=?^_`{|}~", c) != NULL;
}

/* Skip white space, folding and (nested) comments (RFC 5322 3.2.2).
 * Returns 0, or -1 on an unterminated comment. */
static int skip_cfws(lex *L)
{
    for (;;) {
        while (L->p < L->end && is_wsp(*L->p))
            L->p++;
        if (L->p < L->end && *L->p == '(') {
            int depth = 0;
            do {
                if (*L->p == '\\' && L->p + 1 < L->end)
                    L->p++;
                else if (*L->p == '(')
                    depth++;
                else if (*L->p == ')')
                    depth--;
                L->p++;
            } while (depth > 0 && L->p < L->end);
            if (depth > 0)
                return -1;
            continue;
        }
        return 0;
    }
}

/* A growing piece of an address; overflow is remembered, not fatal (the
 * words may turn out to be a display name, which we never keep). */
typedef struct piece {
    char *buf;
    size_t len, cap;
    int over;
} piece;

static void put(piece *w, char c)
{
    if (w->len + 1 < w->cap)
        w->buf[w->len++] = c;
    else
        w->over = 1;
    w->buf[w->len] = '\0';
}

/* One word: an atom (a run of atext) or a quoted-string, whose quotes,
 * quoted-pairs and folding are removed (RFC 5322 3.2.4).  Returns 1 for a
 * word, 0 when none starts here, -1 for an unterminated quoted-string. */
static int word(lex *L, piece *w, int atoms_only)
{
    if (L->p >= L->end)
        return 0;
    if (*L->p == '"' && !atoms_only) {
        L->p++;
        while (L->p < L->end && *L->p != '"') {
            if (*L->p == '\\' && L->p + 1 < L->end)
                L->p++;
            else if (*L->p == '\r' || *L->p == '\n') {
                L->p++; /* unfolding removes the line break only (3.2.2) */
                continue;
            }
            put(w, *L->p++);
        }
        if (L->p >= L->end)
            return -1;
        L->p++;
        return 1;
    }
    if (!is_atext(*L->p))
        return 0;
    while (L->p < L->end && is_atext(*L->p))
        put(w, *L->p++);
    return 1;
}

/* A run of words and dots.  *dotted is set when it has the shape of a
 * local-part, word *("." word) (obsolete CFWS around the dots allowed);
 * a phrase (display name) is words separated by white space. */
static int words(lex *L, piece *w, int atoms_only, int *dotted, int *count)
{
    int expect_word = 1, shape_ok = 1, r;
    *count = 0;
    for (;;) {
        if (skip_cfws(L) != 0)
            return -1;
        if (L->p < L->end && *L->p == '.') {
            /* obs-phrase allows dots in display names too */
            if (expect_word)
                shape_ok = 0;
            put(w, '.');
            L->p++;
            expect_word = 1;
            continue;
        }
        r = word(L, w, atoms_only);
        if (r < 0)
            return -1;
        if (r == 0)
            break;
        if (!expect_word)
            shape_ok = 0; /* two words side by side: a phrase */
        expect_word = 0;
        ++*count;
    }
    *dotted = shape_ok && !expect_word && *count > 0;
    return 0;
}

/* A domain after '@': a dot-atom or a domain-literal (RFC 5322 3.4.1). */
static int domain(lex *L, piece *d)
{
    if (skip_cfws(L) != 0)
        return -1;
    if (L->p < L->end && *L->p == '[') {
        while (L->p < L->end && *L->p != ']') {
            if (*L->p == '\\' && L->p + 1 < L->end)
                L->p++;
            if (!is_wsp(*L->p))
                put(d, *L->p);
            L->p++;
        }
        if (L->p >= L->end)
            return -1;
        put(d, *L->p++);
    } else {
        int dotted, count;
        if (words(L, d, 1, &dotted, &count) != 0 || !dotted)
            return -1;
    }
    return d->len ? 0 : -1;
}

typedef struct list_state {
    sm_addr_fn fn;
    void *arg;
    int count;
} list_state;

static int emit(list_state *st, piece *local, piece *dom, int has_domain)
{
    char addr[LOCAL_CAP + DOMAIN_CAP + 2];
    size_t n;
    if (local->over || dom->over)
        return -2;
    memcpy(addr, local->buf, local->len);
    n = local->len;
    if (has_domain) {
        addr[n++] = '@';
        memcpy(addr + n, dom->buf, dom->len);
        n += dom->len;
    }
    addr[n] = '\0';
    st->count++;
    return st->fn(st->arg, addr, n) ? -3 : 0;
}

/* "<" [obs-route] addr-spec ">" with the '<' already read. */
static int angle_addr(lex *L, list_state *st)
{
    char lb[LOCAL_CAP], db[DOMAIN_CAP];
    piece local = {lb, 0, sizeof lb, 0}, dom = {db, 0, sizeof db, 0};
    int dotted, count;
    lb[0] = db[0] = '\0';
    if (skip_cfws(L) != 0)
        return -1;
    if (L->p < L->end && *L->p == '@') {
        /* obs-route "@a,@b:" (RFC 5322 4.4): dropped, as RFC 5321 C says */
        while (L->p < L->end && *L->p != ':' && *L->p != '>')
            L->p++;
        if (L->p >= L->end || *L->p != ':')
            return -1;
        L->p++;
    }
    if (words(L, &local, 0, &dotted, &count) != 0 || !dotted)
        return -1;
    if (L->p >= L->end || *L->p != '@')
        return -1;
    L->p++;
    if (domain(L, &dom) != 0)
        return -1;
    if (skip_cfws(L) != 0 || L->p >= L->end || *L->p != '>')
        return -1;
    L->p++;
    return emit(st, &local, &dom, 1);
}

/* One mailbox (name-addr or addr-spec), or with allow_group a group. */
static int address(lex *L, list_state *st, int allow_group)
{
    char lb[LOCAL_CAP], db[DOMAIN_CAP];
    piece local = {lb, 0, sizeof lb, 0}, dom = {db, 0, sizeof db, 0};
    int dotted, count, r;
    lb[0] = db[0] = '\0';

    if (words(L, &local, 0, &dotted, &count) != 0)
        return -1;
    if (skip_cfws(L) != 0)
        return -1;
    if (L->p < L->end && *L->p == '<') {
        L->p++;
        r = angle_addr(L, st);
        return r != 0 ? r : skip_cfws(L);
    }
    if (L->p < L->end && *L->p == ':' && allow_group && count > 0) {
        /* group: display-name ":" [mailbox-list] ";" (3.4) */
        L->p++;
        for (;;) {
            if (skip_cfws(L) != 0)
                return -1;
            if (L->p >= L->end)
                return -1;
            if (*L->p == ';') {
                L->p++;
                return skip_cfws(L);
            }
            if (*L->p == ',') {
                L->p++; /* obs-mbox-list: empty elements */
                continue;
            }
            r = address(L, st, 0);
            if (r != 0)
                return r;
            if (L->p < L->end && *L->p != ',' && *L->p != ';')
                return -1;
        }
    }
    if (!dotted)
        return -1;
    if (L->p < L->end && *L->p == '@') {
        L->p++;
        if (domain(L, &dom) != 0)
            return -1;
        r = emit(st, &local, &dom, 1);
        return r != 0 ? r : skip_cfws(L);
    }
    /* a bare local name ("root"): passed on, the caller decides */
    return emit(st, &local, &dom, 0);
}

int sm_address_list(const char *text, size_t len, sm_addr_fn fn, void *arg, size_t *at)
{
    lex L;
    list_state st;
    int r;
    L.p = L.start = text;
    L.end = text + len;
    st.fn = fn;
    st.arg = arg;
    st.count = 0;
    for (;;) {
        if (skip_cfws(&L) != 0)
            goto bad;
        if (L.p >= L.end)
            return st.count;
        if (*L.p == ',') {
            L.p++; /* obs-addr-list: empty elements */
            continue;
        }
        r = address(&L, &st, 1);
        if (r == -1)
            goto bad;
        if (r < 0)
            return r;
        if (L.p < L.end && *L.p != ',')
            goto bad;
    }
bad:
    if (at)
        *at = (size_t)(L.p - L.start);
    return -1;
}

/* ---- the header section ---- */

/* The end of the line starting at pos (just past its LF, or len). */
static size_t line_end(const uint8_t *m, size_t len, size_t pos)
{
    const uint8_t *nl = memchr(m + pos, '\n', len - pos);
    return nl ? (size_t)(nl - m) + 1 : len;
}

/* Length of a field name at pos when the line is a field (ftext, RFC
 * 5322 3.6.8, then optional white space, obsolete, and ':'), else 0.
 * *colon gets the offset just past the ':'. */
static size_t field_name(const uint8_t *m, size_t len, size_t pos, size_t *colon)
{
    size_t i = pos, n;
    while (i < len && m[i] >= 33 && m[i] <= 126 && m[i] != ':')
        i++;
    n = i - pos;
    while (i < len && (m[i] == ' ' || m[i] == '\t'))
        i++;
    if (n == 0 || i >= len || m[i] != ':')
        return 0;
    *colon = i + 1;
    return n;
}

size_t sm_header_len(const uint8_t *msg, size_t len)
{
    size_t pos = 0, colon = 0;
    while (pos < len) {
        int blank = msg[pos] == '\n' || (msg[pos] == '\r' && pos + 1 < len && msg[pos + 1] == '\n');
        if (blank)
            return pos;
        if (!((msg[pos] == ' ' || msg[pos] == '\t') && pos > 0) &&
            field_name(msg, len, pos, &colon) == 0)
            return pos; /* not a field: the body starts here */
        pos = line_end(msg, len, pos);
    }
    return len;
}

/* The next field of the header section [0, hlen): name [*name, +*nlen),
 * body [*body, *bend) without the final line end.  Returns 0 at the end. */
static int next_field(const uint8_t *m, size_t hlen, size_t *pos, size_t *name, size_t *nlen,
                      size_t *body, size_t *bend, size_t *fend)
{
    size_t colon = 0, e;
    while (*pos < hlen) {
        size_t start = *pos;
        *nlen = field_name(m, hlen, start, &colon);
        e = line_end(m, hlen, start);
        while (e < hlen && (m[e] == ' ' || m[e] == '\t'))
            e = line_end(m, hlen, e); /* folded lines (3.2.2) */
        *pos = e;
        if (*nlen == 0)
            continue;
        *name = start;
        *body = colon;
        *fend = e;
        while (e > colon && (m[e - 1] == '\n' || m[e - 1] == '\r'))
            e--;
        *bend = e;
        return 1;
    }
    return 0;
}

static int name_is(const uint8_t *m, size_t name, size_t nlen, const char *want)
{
    size_t k;
    if (strlen(want) != nlen)
        return 0;
    for (k = 0; k < nlen; k++) {
        uint8_t a = m[name + k], b = (uint8_t)want[k];
        if (a >= 'A' && a <= 'Z')
            a = (uint8_t)(a + 32);
        if (b >= 'A' && b <= 'Z')
            b = (uint8_t)(b + 32);
        if (a != b)
            return 0;
    }
    return 1;
}

int sm_has_field(const uint8_t *msg, size_t len, const char *name)
{
    size_t hlen = sm_header_len(msg, len), pos = 0, n, nl, b, be, fe;
    while (next_field(msg, hlen, &pos, &n, &nl, &b, &be, &fe))
        if (name_is(msg, n, nl, name))
            return 1;
    return 0;
}

int sm_header_recipients(const uint8_t *msg, size_t len, sm_addr_fn fn, void *arg,
                         const char **field)
{
    static const char *const plain[] = {"To", "Cc", "Bcc"};
    static const char *const resent[] = {"Resent-To", "Resent-Cc", "Resent-Bcc"};
    const char *const *names = plain;
    size_t hlen = sm_header_len(msg, len), pos = 0, n, nl, b, be, fe, k;
    int total = 0;

    /* RFC 5322 3.6.6: a resent message goes to the Resent- recipients */
    for (k = 0; k < 3; k++)
        if (sm_has_field(msg, hlen, resent[k]))
            names = resent;
    while (next_field(msg, hlen, &pos, &n, &nl, &b, &be, &fe)) {
        for (k = 0; k < 3; k++) {
            int r;
            if (!name_is(msg, n, nl, names[k]))
                continue;
            r = sm_address_list((const char *)msg + b, be - b, fn, arg, NULL);
            if (r < 0) {
                if (field)
                    *field = names[k];
                return r;
            }
            total += r;
        }
    }
    return total;
}

size_t sm_remove_bcc(uint8_t *msg, size_t len)
{
    size_t hlen = sm_header_len(msg, len), pos = 0, n, nl, b, be, fe, w = 0, copied = 0;
    /* copy everything but the Bcc fields down over them, in order */
    while (next_field(msg, hlen, &pos, &n, &nl, &b, &be, &fe)) {
        if (!name_is(msg, n, nl, "Bcc") && !name_is(msg, n, nl, "Resent-Bcc"))
            continue;
        memmove(msg + w, msg + copied, n - copied);
        w += n - copied;
        copied = fe;
    }
    memmove(msg + w, msg + copied, len - copied);
    return w + len - copied;
}

const char *sm_eol(const uint8_t *msg, size_t len)
{
    const uint8_t *nl = memchr(msg, '\n', len);
    return nl && nl > msg && nl[-1] == '\r' ? "\r\n" : "\n";
}

/* Length of the well-formed UTF-8 sequence at s (RFC 3629 4), 0 if none. */
static size_t utf8_len(const unsigned char *s, size_t n)
{
    size_t need, k;
    uint32_t cp;
    if (s[0] < 0x80)
        return 1;
    if (s[0] >= 0xc2 && s[0] <= 0xdf) {
        need = 2;
        cp = s[0] & 0x1fu;
    } else if (s[0] >= 0xe0 && s[0] <= 0xef) {
        need = 3;
        cp = s[0] & 0x0fu;
    } else if (s[0] >= 0xf0 && s[0] <= 0xf4) {
        need = 4;
        cp = s[0] & 0x07u;
    } else {
        return 0;
    }
    if (n < need)
        return 0;
    for (k = 1; k < need; k++) {
        if ((s[k] & 0xc0) != 0x80)
            return 0;
        cp = (cp << 6) | (s[k] & 0x3fu);
    }
    if ((need == 3 && (cp < 0x800 || (cp >= 0xd800 && cp <= 0xdfff))) ||
        (need == 4 && (cp < 0x10000 || cp > 0x10ffff)))
        return 0;
    return need;
}

/* Append text to out[*w..cap); 0 or -1 when it does not fit. */
static int append(char *out, size_t cap, size_t *w, const char *text, size_t n)
{
    if (*w + n >= cap)
        return -1;
    memcpy(out + *w, text, n);
    *w += n;
    out[*w] = '\0';
    return 0;
}

size_t sm_from_field(char *out, size_t cap, const char *fullname, const char *addr,
                     const char *eol)
{
    char path[SMTPW_MAX_PATH * 2 + 8];
    size_t plen, w = 0, i, n = fullname ? strlen(fullname) : 0;
    int ascii = 1;

    if (cap == 0)
        return 0;
    out[0] = '\0';
    if (!addr || !addr[0] ||
        smtpw_path_render(addr, strlen(addr), SMTPW_PARSE_UTF8, path, sizeof path, &plen) != 0)
        return 0;
    for (i = 0; i < n; i++) {
        unsigned char c = (unsigned char)fullname[i];
        size_t k;
        if (c < 0x20 || c == 0x7f)
            return 0; /* no line break or escape may enter the header */
        if (c < 0x80)
            continue;
        k = utf8_len((const unsigned char *)fullname + i, n - i);
        if (k == 0)
            return 0;
        ascii = 0;
        i += k - 1;
    }
    if (append(out, cap, &w, "From: ", 6) != 0)
        return 0;
    if (n && ascii) {
        /* a quoted-string is a valid display name for any printable ASCII
         * (RFC 5322 3.2.4): only '"' and '\' need a backslash */
        if (append(out, cap, &w, "\"", 1) != 0)
            return 0;
        for (i = 0; i < n; i++) {
            if ((fullname[i] == '"' || fullname[i] == '\\') &&
                append(out, cap, &w, "\\", 1) != 0)
                return 0;
            if (append(out, cap, &w, fullname + i, 1) != 0)
                return 0;
        }
        if (append(out, cap, &w, "\" ", 2) != 0)
            return 0;
    } else if (n) {
        /* RFC 2047 2, 5(3): encoded-words of at most 75 characters, so
         * 45 octets of UTF-8 each, cut between characters; folded
         * between words, which a reader joins without the space (6.2) */
        size_t at = 0;
        while (at < n) {
            char b64[64];
            size_t take = 0, blen;
            while (at + take < n) {
                size_t k = utf8_len((const unsigned char *)fullname + at + take, n - at - take);
                if (take + k > 45)
                    break;
                take += k;
            }
            if (smtpw_base64_encode((const uint8_t *)fullname + at, take, b64, sizeof b64,
                                    &blen) != 0)
                return 0;
            if ((at && (append(out, cap, &w, eol, strlen(eol)) != 0 ||
                        append(out, cap, &w, " ", 1) != 0)) ||
                append(out, cap, &w, "=?UTF-8?B?", 10) != 0 ||
                append(out, cap, &w, b64, blen) != 0 || append(out, cap, &w, "?=", 2) != 0)
                return 0;
            at += take;
        }
        if (append(out, cap, &w, " ", 1) != 0)
            return 0;
    }
    if (append(out, cap, &w, path, plen) != 0 || append(out, cap, &w, eol, strlen(eol)) != 0)
        return 0;
    return w;
}

/* ---- input ---- */

int sm_read_message(FILE *f, int dot_ends, uint8_t **out, size_t *outlen)
{
    size_t cap = 65536, len = 0;
    uint8_t *buf = malloc(cap);
    char *line = NULL;
    size_t lcap = 0;
    ssize_t n;

    if (!buf)
        return -1;
    /* line by line, so that a writer who keeps the pipe open after the
     * "." is not waited for (sendmail stops reading there too) */
    while ((n = getline(&line, &lcap, f)) > 0) {
        size_t ln = (size_t)n;
        if (dot_ends && line[0] == '.' &&
            (ln == 1 || (ln == 2 && line[1] == '\n') ||
             (ln == 3 && line[1] == '\r' && line[2] == '\n')))
            break;
        if (len + ln > cap) {
            uint8_t *nb;
            while (len + ln > cap)
                cap *= 2;
            nb = realloc(buf, cap);
            if (!nb) {
                free(buf);
                free(line);
                errno = ENOMEM;
                return -1;
            }
            buf = nb;
        }
        memcpy(buf + len, line, ln);
        len += ln;
    }
    free(line);
    if (ferror(f)) {
        int e = errno;
        free(buf);
        errno = e;
        return -1;
    }
    *out = buf;
    *outlen = len;
    return 0;
}

/* ---- the command line ---- */

typedef struct add_ctx {
    send_settings *s;
    char *err;
    size_t errcap;
    int status;
} add_ctx;

static int add_recipient(void *arg, const char *addr, size_t len)
{
    add_ctx *c = arg;
    const send_option *to = send_option_find("to", 2);
    char e1[ESCBUF], inner[300];
    (void)len;
    if (send_settings_apply(c->s, to, addr, SEND_FROM_CLI, inner, sizeof inner) != 0) {
        snprintf(c->err, c->errcap, "bad recipient \"%s\"%s", shown(e1, addr),
                 strchr(addr, '@') ? "" : ": no domain (a local name is not qualified here)");
        c->status = SEND_EX_USAGE;
        return 1;
    }
    return 0;
}

static int operand(send_settings *s, const char *arg, char *err, size_t errcap)
{
    add_ctx c;
    char e1[ESCBUF];
    int r;
    c.s = s;
    c.err = err;
    c.errcap = errcap;
    c.status = 0;
    r = sm_address_list(arg, strlen(arg), add_recipient, &c, NULL);
    if (c.status)
        return c.status;
    if (r < 0) {
        snprintf(err, errcap, "bad recipient \"%s\": not an address list", shown(e1, arg));
        return SEND_EX_USAGE;
    }
    return 0;
}

/* -f ADDR: "<addr>" and "<>" as sendmail callers write them too. */
static int set_sender(send_settings *s, const char *v, char *err, size_t errcap)
{
    char buf[LOCAL_CAP + DOMAIN_CAP + 4], inner[300], e1[ESCBUF];
    size_t n = strlen(v);
    if (n >= sizeof buf) {
        snprintf(err, errcap, "-f: sender address too long");
        return SEND_EX_USAGE;
    }
    memcpy(buf, v, n + 1);
    if (n >= 2 && buf[0] == '<' && buf[n - 1] == '>') {
        memmove(buf, buf + 1, n - 2);
        buf[n - 2] = '\0';
    }
    if (send_settings_apply(s, send_option_find("from", 4), buf, SEND_FROM_CLI, inner,
                            sizeof inner) != 0) {
        snprintf(err, errcap, "-f: bad sender address \"%s\"", shown(e1, v));
        return SEND_EX_USAGE;
    }
    return 0;
}

int sm_parse_argv(int argc, char **argv, sm_opts *o, send_settings *s, char *err, size_t errcap)
{
    int i, r;
    char e1[ESCBUF];

    o->extract = 0;
    o->dot_ends = 1;
    o->fullname = NULL;
    for (i = 1; i < argc; i++) {
        const char *arg = argv[i];
        size_t k;
        if (strcmp(arg, "--") == 0) {
            for (i++; i < argc; i++)
                if ((r = operand(s, argv[i], err, errcap)) != 0)
                    return r;
            break;
        }
        if (arg[0] == '-' && arg[1] == '-') {
            r = send_cli_option(s, argc, argv, &i, err, errcap);
            if (r < 0 || r == SEND_EX_USAGE)
                return SEND_EX_USAGE;
            continue;
        }
        if (arg[0] != '-' || arg[1] == '\0') {
            if ((r = operand(s, arg, err, errcap)) != 0)
                return r;
            continue;
        }
        /* getopt(3) style: flags may be bundled ("-ti"); an option with a
         * value takes the rest of the argument or the next one */
        for (k = 1; arg[k]; k++) {
            char c = arg[k];
            const char *value = NULL;
            if (strchr("tivmnUG", c)) {
                if (c == 't')
                    o->extract = 1;
                else if (c == 'i')
                    o->dot_ends = 0;
                else if (c == 'v')
                    s->verbose = 1;
                continue; /* m, n, U, G: ignored */
            }
            if (!strchr("frFbBChLNORVXoA", c)) {
                char opt[3] = {'-', c, '\0'};
                snprintf(err, errcap, "unknown sendmail option %s", shown(e1, opt));
                return SEND_EX_USAGE;
            }
            if (arg[k + 1]) {
                value = arg + k + 1;
            } else if (i + 1 < argc) {
                value = argv[++i];
            } else {
                snprintf(err, errcap, "-%c needs a value", c);
                return SEND_EX_USAGE;
            }
            switch (c) {
            case 'f':
            case 'r': /* -r: the old name of -f */
                if ((r = set_sender(s, value, err, errcap)) != 0)
                    return r;
                break;
            case 'F':
                o->fullname = value;
                break;
            case 'b':
                if (strcmp(value, "m") != 0) {
                    snprintf(err, errcap,
                             "-b%s: only -bm (deliver the message now) is supported: no "
                             "queue, daemon or alias database here",
                             shown(e1, value));
                    return SEND_EX_USAGE;
                }
                break;
            case 'o':
                /* -oi (-oiTrue, -oiFalse): sendmail's IgnoreDots; every
                 * other one-letter option (-odi, -oem, -om) is ignored */
                if (value[0] == 'i') {
                    char t = value[1];
                    o->dot_ends = !(t == '\0' || t == 'T' || t == 't' || t == 'Y' || t == 'y');
                }
                break;
            default:
                break; /* -A -B -C -h -L -N -O -R -V -X: ignored */
            }
            break; /* the value used the rest of this argument */
        }
    }
    return 0;
}
