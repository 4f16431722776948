/*
 * The server core: the only file that knows server states (RFC 5321).
 *
 * States (st):
 *   INIT    connected, greeted; no accepted HELO/EHLO yet (also after TLS starts)
 *   READY   HELO/EHLO accepted, no mail transaction
 *   MAIL    MAIL accepted, no recipient yet
 *   RCPT    at least one recipient accepted
 *   DATA    354 sent: the body streams as BODY events
 *   SWALLOW the core refused the body: dropping it up to CRLF "." CRLF
 *   TLS     220 to STARTTLS queued: all input dropped until tls_started()
 *   CLOSED  221 or 421 queued: nothing more is read
 * A decision event (HELO, MAIL, RCPT, DATA, DATA_END, VRFY, EXPN, HELP)
 * sets `pending`; nothing is read until smtpw_server_reply() answers it, so
 * pipelined replies go out in order (RFC 2920, h11's pause).
 *
 * Lenient profile (SMTPW_SERVER_LENIENT), one deviation per line:
 * - spaces between "FROM:"/"TO:" and the path ("MAIL FROM: <a@b>")
 * - a path without angle brackets ("MAIL FROM:a@b", SMTPW_PARSE_LENIENT)
 * - spaces at the end of a command line are ignored
 * - more than one space between the verb and its argument
 * - more than one space between ESMTP parameters
 * - a HELO/EHLO argument that is neither a domain nor an address literal, if it is one printable token
 * - ESMTP parameters on MAIL in a session opened with HELO instead of EHLO
 *
 * SPDX-License-Identifier: MIT
 */
#include "server/line.h"
#include "server/reply_write.h"
#include "server/unstuff.h"

#include "smtpwire/server.h"

/* Output queue: room for the largest reply (a 512-octet EHLO line plus the
 * capability list) and a backlog of pipelined replies. */
#define OUTQ ((size_t)896)

#define ST_INIT 0
#define ST_READY 1
#define ST_MAIL 2
#define ST_RCPT 3
#define ST_DATA 4
#define ST_SWALLOW 5
#define ST_TLS 6
#define ST_CLOSED 7

struct smtpw_server {
    const char *host; /* cfg->hostname, referenced */
    uint64_t max_size;
    uint64_t size; /* DATA: octets delivered so far */
    uint32_t flags, max_rcpt, max_cmd, max_text, max_errors;
    uint32_t nrcpt, nerrors, messages;
    smtpw__line line;
    smtpw__unstuff us;
    uint16_t hostlen, head, tail, reserve, abort_code;
    uint8_t st, pending, pend_cmd, pend_flags;
    uint8_t bare_cmd, bare_body;
    uint8_t esmtp;    /* the session was opened with EHLO */
    uint8_t enh;      /* enhanced status codes on (EHLO advertised them) */
    uint8_t tls;      /* TLS is active */
    uint8_t tls_told; /* SMTPW_EV_STARTTLS was returned */
    uint8_t mailflags; /* SMTPW_EVF_* of the accepted MAIL */
    uint8_t shut;      /* a 421 waits for room in the queue */
    uint8_t out[OUTQ];
};

/* C99 static assertion: the header's size hint is a true bound. */
typedef char smtpw__server_fits_hint[sizeof(struct smtpw_server) <= SMTPW_SERVER_SIZE_HINT ? 1 : -1];

struct align_probe {
    char c;
    struct smtpw_server s;
};

#define LIT(s) s, (sizeof(s) - 1)

/* ------------------------------------------------------------------ */
/* Output queue                                                        */

static size_t q_free(const smtpw_server *s)
{
    return OUTQ - (size_t)(s->tail - s->head);
}

/* Room at the tail for n more octets, moving queued bytes to the front if
 * that makes it fit. */
static size_t q_room(smtpw_server *s, size_t n)
{
    if (OUTQ - s->tail < n && s->head) {
        memmove(s->out, s->out + s->head, (size_t)(s->tail - s->head));
        s->tail = (uint16_t)(s->tail - s->head);
        s->head = 0;
    }
    return OUTQ - (size_t)s->tail;
}

/* Queue one reply line of the core.  Enhanced codes only once EHLO
 * advertised them (RFC 2034), never on 3xx. */
static void say(smtpw_server *s, unsigned code, const char *enh, const char *t1, size_t n1,
                const char *t2, size_t n2)
{
    size_t enhlen = (s->enh && enh && code / 100 != 3) ? strlen(enh) : 0;
    size_t cap = q_room(s, SMTPW_MAX_REPLY_LINE);
    size_t n = smtpw__reply_write_line(s->out + s->tail, cap, code, 0, enh, enhlen, t1, n1, t2, n2);
    SMTPW_ASSERT(n != 0);
    s->tail = (uint16_t)(s->tail + n);
}

/* Queue "250 Ok", a fixed line: one copy. */
static void say_ok(smtpw_server *s)
{
    static const char plain[] = "250 Ok\r\n", enh[] = "250 2.0.0 Ok\r\n";
    size_t n = s->enh ? sizeof enh - 1 : sizeof plain - 1;
    q_room(s, SMTPW_MAX_REPLY_LINE);
    memcpy(s->out + s->tail, s->enh ? enh : plain, n);
    s->tail = (uint16_t)(s->tail + n);
}

/* Out of line: output_ack() runs once per reply and seldom has a 421 to
 * queue, so it should not pay for this call's registers. */
static SMTPW_NOINLINE void say421(smtpw_server *s)
{
    if (s->shut && q_room(s, SMTPW_MAX_REPLY_LINE) >= SMTPW_MAX_REPLY_LINE) {
        say(s, 421, "4.3.2", s->host, s->hostlen,
            LIT("Service not available, closing transmission channel"));
        s->shut = 0;
    }
}

static unsigned caps_now(const smtpw_server *s)
{
    unsigned c = SMTPW__CAP_SIZE;
    if (!(s->flags & SMTPW_SERVER_NO_PIPELINING))
        c |= SMTPW__CAP_PIPELINING;
    if (!(s->flags & SMTPW_SERVER_NO_8BITMIME))
        c |= SMTPW__CAP_8BITMIME;
    if (!(s->flags & SMTPW_SERVER_NO_ENHANCED))
        c |= SMTPW__CAP_ENHANCED;
    if ((s->flags & SMTPW_SERVER_STARTTLS) && !s->tls)
        c |= SMTPW__CAP_STARTTLS;
    if (s->flags & SMTPW_SERVER_SMTPUTF8)
        c |= SMTPW__CAP_SMTPUTF8;
    return c;
}

/* ------------------------------------------------------------------ */
/* Events                                                              */

/* Every field before `path` starts at zero (empty spans point nowhere),
 * and so do the client's fields after it; path is written only by MAIL
 * and RCPT, the events that document it (server.h), which saves clearing
 * its 104 bytes on every command. */
static void ev_clear(smtpw_event *ev)
{
    memset(ev, 0, offsetof(smtpw_event, path));
    memset(&ev->line, 0, sizeof *ev - offsetof(smtpw_event, line));
}

static void reset_transaction(smtpw_server *s)
{
    if (s->st != ST_INIT)
        s->st = ST_READY;
    s->nrcpt = 0;
    s->mailflags = 0;
    s->size = 0;
}

/* A command the core refuses itself.  Protocol errors (5xx other than 552)
 * count toward max_errors; at the limit the core says 421 and closes. */
static int reject(smtpw_server *s, smtpw_event *ev, int cmd, unsigned code, const char *enh,
                  const char *text, size_t textlen)
{
    say(s, code, enh, text, textlen, NULL, 0);
    ev->type = SMTPW_EV_REJECTED;
    ev->cmd = (uint32_t)cmd;
    ev->code = code;
    if (code / 100 == 5 && code != 552 && s->max_errors && ++s->nerrors >= s->max_errors) {
        say(s, 421, "4.7.0", s->host, s->hostlen, LIT("Too many errors, closing connection"));
        s->st = ST_CLOSED;
        ev->type = SMTPW_EV_CLOSE;
        ev->code = 421;
    }
    return (int)ev->type;
}

#define REJECT(s, ev, cmd, code, enh, lit) reject(s, ev, cmd, code, enh, LIT(lit))

static int pend(smtpw_server *s, smtpw_event *ev, int type, int cmd)
{
    s->pending = (uint8_t)type;
    s->pend_cmd = (uint8_t)cmd;
    ev->type = (uint32_t)type;
    ev->cmd = (uint32_t)cmd;
    return type;
}

/* ------------------------------------------------------------------ */
/* Commands                                                            */

#define P4(a, b, c, d) \
    ((uint32_t)(a) | (uint32_t)(b) << 8 | (uint32_t)(c) << 16 | (uint32_t)(d) << 24)

static uint32_t load4_lower(const char *p)
{
    const unsigned char *u = (const unsigned char *)p;
    /* |0x20 folds ASCII letters; it maps no other byte onto a letter. */
    return ((uint32_t)u[0] | (uint32_t)u[1] << 8 | (uint32_t)u[2] << 16 | (uint32_t)u[3] << 24) |
           0x20202020u;
}

static int lenient(const smtpw_server *s)
{
    return (s->flags & SMTPW_SERVER_LENIENT) != 0;
}

static int helo_arg_ok(const smtpw_server *s, const char *a, size_t n)
{
    size_t i;
    if (a[0] == '[') {
        if (smtpw_address_literal_check(a, n, NULL) == 0)
            return 1;
    } else if (smtpw_domain_check(a, n,
                                  (s->flags & SMTPW_SERVER_SMTPUTF8) ? SMTPW_PARSE_UTF8 : 0) ==
               0) {
        return 1;
    }
    if (!lenient(s))
        return 0;
    for (i = 0; i < n; i++) /* one printable token */
        if ((unsigned char)a[i] <= ' ' || (unsigned char)a[i] >= 0x7f)
            return 0;
    return 1;
}

static int cmd_helo(smtpw_server *s, int cmd, const char *a, size_t n, smtpw_event *ev)
{
    /* No enhanced codes in replies to HELO/EHLO (RFC 2034 3). */
    if (n == 0)
        return cmd == SMTPW_CMD_EHLO ? REJECT(s, ev, cmd, 501, NULL, "Syntax: EHLO hostname")
                                     : REJECT(s, ev, cmd, 501, NULL, "Syntax: HELO hostname");
    if (!helo_arg_ok(s, a, n))
        return REJECT(s, ev, cmd, 501, NULL, "Invalid domain name");
    reset_transaction(s); /* 4.1.4: as if RSET */
    ev->arg = smtpw__span(a, n);
    return pend(s, ev, SMTPW_EV_HELO, cmd);
}

/* ESMTP parameters must be separated by exactly one space in the strict
 * profile (4.1.2 Mail-parameters). */
static int params_spacing_ok(const char *p, size_t n)
{
    size_t i;
    if (n == 0 || p[0] == ' ' || p[n - 1] == ' ')
        return 0;
    for (i = 1; i < n; i++)
        if (p[i] == ' ' && p[i - 1] == ' ')
            return 0;
    return 1;
}

/* "FROM:" / "TO:" then the path and the parameter text (ev->params, and
 * its start in *ps: the caller reads that, not ev->params, which was just
 * stored in halves).  Returns 0, or the event of a rejection. */
static int path_args(smtpw_server *s, smtpw_event *ev, int cmd, const char *a, size_t n,
                     smtpw_path *path, size_t *ps)
{
    int rcpt = cmd == SMTPW_CMD_RCPT;
    size_t kw = rcpt ? 3 : 5, i, used = 0;
    unsigned opt = rcpt ? SMTPW_PARSE_FORWARD : SMTPW_PARSE_REVERSE;
    int r;

    /* Letters fold with |0x20; the colon is compared as is. */
    if (rcpt ? n < 3 || (a[0] | 0x20) != 't' || (a[1] | 0x20) != 'o' || a[2] != ':'
             : n < 5 || load4_lower(a) != P4('f', 'r', 'o', 'm') || a[4] != ':')
        return rcpt ? REJECT(s, ev, cmd, 501, "5.5.4", "Syntax: RCPT TO:<address>")
                    : REJECT(s, ev, cmd, 501, "5.5.4", "Syntax: MAIL FROM:<address>");
    i = kw;
    if (lenient(s)) {
        opt |= SMTPW_PARSE_LENIENT;
        while (i < n && a[i] == ' ')
            i++;
    }
    /* UTF-8 is parsed whenever SMTPUTF8 is offered; a non-ASCII path
     * without the SMTPUTF8 parameter is refused 553 5.6.7 (RFC 6531 3.7.1). */
    if (s->flags & SMTPW_SERVER_SMTPUTF8)
        opt |= SMTPW_PARSE_UTF8;
    r = smtpw_path_parse(a + i, n - i, opt, path, &used);
    if (r == SMTPW_E_TOOLONG)
        return REJECT(s, ev, cmd, 501, rcpt ? "5.1.3" : "5.1.7", "Path too long");
    if (r != 0)
        return rcpt ? REJECT(s, ev, cmd, 501, "5.1.3", "Bad recipient address syntax")
                    : REJECT(s, ev, cmd, 501, "5.1.7", "Bad sender address syntax");
    i += used;
    ev->params = smtpw__span(a + n, 0);
    *ps = n;
    if (i < n) {
        if (a[i] != ' ')
            return rcpt ? REJECT(s, ev, cmd, 501, "5.1.3", "Bad recipient address syntax")
                        : REJECT(s, ev, cmd, 501, "5.1.7", "Bad sender address syntax");
        i++;
        if (lenient(s)) {
            while (i < n && a[i] == ' ')
                i++;
        } else if (!params_spacing_ok(a + i, n - i)) {
            return REJECT(s, ev, cmd, 501, "5.5.4", "Syntax error in parameters");
        }
        ev->params = smtpw__span(a + i, n - i);
        *ps = i;
    }
    return 0;
}

/* key is the 4-letter keyword w (P4, lower case), in any case. */
static int key_is(smtpw_span key, uint32_t w)
{
    return key.len == 4 && load4_lower(key.ptr) == w;
}

/* 1 to 20 ASCII digits: RFC 1870 5's size-value, whatever its magnitude. */
static int size_digits(smtpw_span v)
{
    size_t i;
    if (v.len == 0 || v.len > 20)
        return 0;
    for (i = 0; i < v.len; i++)
        if (v.ptr[i] < '0' || v.ptr[i] > '9')
            return 0;
    return 1;
}

static int cmd_mail(smtpw_server *s, const char *a, size_t n, smtpw_event *ev)
{
    const int cmd = SMTPW_CMD_MAIL;
    smtpw_span rest, key, val;
    uint32_t f = 0;
    size_t ps;
    int r;

    if (s->st == ST_INIT)
        return REJECT(s, ev, cmd, 503, "5.5.1", "Send HELO/EHLO first");
    if (s->st != ST_READY)
        return REJECT(s, ev, cmd, 503, "5.5.1", "Nested MAIL command");
    r = path_args(s, ev, cmd, a, n, &ev->path, &ps);
    if (r)
        return r;
    rest = smtpw__span(a + ps, n - ps);
    /* An empty rest has no parameter: skip the call that would say so. */
    while (rest.len && (r = smtpw_param_next(&rest, &key, &val)) == 1) {
        if (!s->esmtp && !lenient(s))
            return REJECT(s, ev, cmd, 555, "5.5.4", "Parameters need an EHLO session");
        if (key_is(key, P4('s', 'i', 'z', 'e'))) { /* RFC 1870 */
            if (f & SMTPW_EVF_SIZE)
                return REJECT(s, ev, cmd, 501, "5.5.4", "Duplicate SIZE parameter");
            if (smtpw_parse_u64(val, &ev->size) != 0) {
                if (!size_digits(val))
                    return REJECT(s, ev, cmd, 501, "5.5.4", "Invalid SIZE value");
                /* RFC 1870 5: size-value = 1*20DIGIT, so 2^64 and up are
                 * well formed, only larger than a uint64_t: that is a size
                 * over any limit (552, 6.1), not bad syntax.  Even with no
                 * limit configured: the core counts body octets in 64 bits
                 * and no store takes 2^64 of them, so we can never accept
                 * such a message, a permanent condition (552, not 452). */
                ev->size = UINT64_MAX;
                return REJECT(s, ev, cmd, 552, "5.3.4",
                              "Message size exceeds fixed maximum message size");
            }
            if (s->max_size && ev->size > s->max_size)
                return REJECT(s, ev, cmd, 552, "5.3.4",
                              "Message size exceeds fixed maximum message size");
            f |= SMTPW_EVF_SIZE;
        } else if (key_is(key, P4('b', 'o', 'd', 'y')) && !(s->flags & SMTPW_SERVER_NO_8BITMIME)) {
            if (f & (SMTPW_EVF_7BIT | SMTPW_EVF_8BITMIME)) /* RFC 6152 */
                return REJECT(s, ev, cmd, 501, "5.5.4", "Duplicate BODY parameter");
            if (smtpw_span_ieq(val, "7BIT"))
                f |= SMTPW_EVF_7BIT;
            else if (smtpw_span_ieq(val, "8BITMIME"))
                f |= SMTPW_EVF_8BITMIME;
            else
                return REJECT(s, ev, cmd, 501, "5.5.4", "Invalid BODY value");
        } else if (smtpw_span_ieq(key, "SMTPUTF8") && (s->flags & SMTPW_SERVER_SMTPUTF8)) {
            if (f & SMTPW_EVF_SMTPUTF8) /* RFC 6531 3.4 */
                return REJECT(s, ev, cmd, 501, "5.5.4", "Duplicate SMTPUTF8 parameter");
            if (val.len)
                return REJECT(s, ev, cmd, 501, "5.5.4", "SMTPUTF8 takes no value");
            f |= SMTPW_EVF_SMTPUTF8;
        } else {
            return REJECT(s, ev, cmd, 555, "5.5.4", "Unsupported parameter");
        }
    }
    if (r < 0)
        return REJECT(s, ev, cmd, 501, "5.5.4", "Syntax error in parameters");
    if ((ev->path.flags & SMTPW_PATH_UTF8) && !(f & SMTPW_EVF_SMTPUTF8))
        return REJECT(s, ev, cmd, 553, "5.6.7", "Non-ASCII address needs SMTPUTF8");
    if (!(f & SMTPW_EVF_SIZE))
        ev->size = 0;
    ev->flags = f;
    ev->arg = ev->path.raw;
    s->pend_flags = (uint8_t)f;
    return pend(s, ev, SMTPW_EV_MAIL, cmd);
}

static int cmd_rcpt(smtpw_server *s, const char *a, size_t n, smtpw_event *ev)
{
    const int cmd = SMTPW_CMD_RCPT;
    smtpw_span rest, key, val;
    size_t ps;
    int r;

    if (s->st != ST_MAIL && s->st != ST_RCPT)
        return REJECT(s, ev, cmd, 503, "5.5.1", "Need MAIL before RCPT");
    r = path_args(s, ev, cmd, a, n, &ev->path, &ps);
    if (r)
        return r;
    rest = smtpw__span(a + ps, n - ps);
    r = rest.len ? smtpw_param_next(&rest, &key, &val) : 0;
    if (r < 0)
        return REJECT(s, ev, cmd, 501, "5.5.4", "Syntax error in parameters");
    if (r > 0) /* no RCPT parameter is supported (yet) */
        return REJECT(s, ev, cmd, 555, "5.5.4", "Unsupported parameter");
    if ((ev->path.flags & SMTPW_PATH_UTF8) && !(s->mailflags & SMTPW_EVF_SMTPUTF8))
        return REJECT(s, ev, cmd, 553, "5.6.7", "Non-ASCII address needs SMTPUTF8");
    if (s->max_rcpt && s->nrcpt >= s->max_rcpt) /* 4.5.3.1.10 */
        return REJECT(s, ev, cmd, 452, "4.5.3", "Too many recipients");
    ev->arg = ev->path.raw;
    return pend(s, ev, SMTPW_EV_RCPT, cmd);
}

static int cmd_starttls(smtpw_server *s, size_t n, size_t inlen, size_t *consumed,
                        smtpw_event *ev)
{
    const int cmd = SMTPW_CMD_STARTTLS;
    if (!(s->flags & SMTPW_SERVER_STARTTLS))
        return REJECT(s, ev, cmd, 502, "5.5.1", "Command not implemented");
    if (s->tls)
        return REJECT(s, ev, cmd, 503, "5.5.1", "TLS already active");
    if (n)
        return REJECT(s, ev, cmd, 501, "5.5.4", "Syntax: STARTTLS"); /* RFC 3207 4 */
    if (s->st == ST_MAIL || s->st == ST_RCPT)
        return REJECT(s, ev, cmd, 503, "5.5.1", "STARTTLS inside a mail transaction");
    say(s, 220, "2.0.0", LIT("Ready to start TLS"), NULL, 0);
    /* RFC 3207 4.2: whatever came after STARTTLS in the clear is dropped,
     * never read as commands under TLS (CVE-2011-0411). */
    *consumed = inlen;
    s->st = ST_TLS;
    return SMTPW_EV_NONE;
}

static int verb(const char *L, size_t n, size_t *vlen)
{
    int cmd = SMTPW_CMD_UNKNOWN;
    *vlen = 4;
    if (n < 4)
        return SMTPW_CMD_UNKNOWN;
    switch (load4_lower(L)) {
    case P4('h', 'e', 'l', 'o'): cmd = SMTPW_CMD_HELO; break;
    case P4('e', 'h', 'l', 'o'): cmd = SMTPW_CMD_EHLO; break;
    case P4('m', 'a', 'i', 'l'): cmd = SMTPW_CMD_MAIL; break;
    case P4('r', 'c', 'p', 't'): cmd = SMTPW_CMD_RCPT; break;
    case P4('d', 'a', 't', 'a'): cmd = SMTPW_CMD_DATA; break;
    case P4('r', 's', 'e', 't'): cmd = SMTPW_CMD_RSET; break;
    case P4('n', 'o', 'o', 'p'): cmd = SMTPW_CMD_NOOP; break;
    case P4('q', 'u', 'i', 't'): cmd = SMTPW_CMD_QUIT; break;
    case P4('v', 'r', 'f', 'y'): cmd = SMTPW_CMD_VRFY; break;
    case P4('e', 'x', 'p', 'n'): cmd = SMTPW_CMD_EXPN; break;
    case P4('h', 'e', 'l', 'p'): cmd = SMTPW_CMD_HELP; break;
    case P4('a', 'u', 't', 'h'): cmd = SMTPW_CMD_AUTH; break;
    case P4('b', 'd', 'a', 't'): cmd = SMTPW_CMD_BDAT; break;
    case P4('s', 'e', 'n', 'd'): cmd = SMTPW_CMD_SEND; break;
    case P4('s', 'o', 'm', 'l'): cmd = SMTPW_CMD_SOML; break;
    case P4('s', 'a', 'm', 'l'): cmd = SMTPW_CMD_SAML; break;
    case P4('t', 'u', 'r', 'n'): cmd = SMTPW_CMD_TURN; break;
    case P4('s', 't', 'a', 'r'):
        if (n >= 8 && load4_lower(L + 4) == P4('t', 't', 'l', 's')) {
            cmd = SMTPW_CMD_STARTTLS;
            *vlen = 8;
        }
        break;
    default: break;
    }
    if (n > *vlen && L[*vlen] != ' ')
        return SMTPW_CMD_UNKNOWN;
    return cmd;
}

/* VRFY, EXPN and HELP hand their String (RFC 5321 4.1.1.6-8, 4.1.2) to the
 * application: printable ASCII and SP only, so no NUL, terminal escape or
 * other control byte reaches a log or a lookup. */
static int printable(const char *a, size_t n)
{
    size_t i;
    for (i = 0; i < n; i++)
        if ((unsigned char)a[i] < 0x20 || (unsigned char)a[i] > 0x7e)
            return 0;
    return 1;
}

static int dispatch(smtpw_server *s, const char *L, size_t n, size_t inlen, size_t *consumed,
                    smtpw_event *ev)
{
    size_t vlen, i;
    const char *a;
    int cmd;

    if (lenient(s))
        while (n > 0 && L[n - 1] == ' ')
            n--;
    ev->arg = smtpw__span(L, n);
    cmd = verb(L, n, &vlen);
    i = n > vlen ? vlen + 1 : n; /* the argument, after one SP */
    if (lenient(s))
        while (i < n && L[i] == ' ')
            i++;
    a = L + i;
    n -= i;

    if ((s->flags & SMTPW_SERVER_REFUSE) && cmd != SMTPW_CMD_QUIT) /* 3.1 */
        return REJECT(s, ev, cmd, 503, "5.5.1", "Bad sequence of commands");

    switch (cmd) {
    case SMTPW_CMD_HELO:
    case SMTPW_CMD_EHLO:
        return cmd_helo(s, cmd, a, n, ev);
    case SMTPW_CMD_MAIL:
        return cmd_mail(s, a, n, ev);
    case SMTPW_CMD_RCPT:
        return cmd_rcpt(s, a, n, ev);
    case SMTPW_CMD_DATA:
        if (s->st == ST_INIT || s->st == ST_READY)
            return REJECT(s, ev, cmd, 503, "5.5.1", "Need MAIL command");
        if (s->st == ST_MAIL) /* 3.3 */
            return REJECT(s, ev, cmd, 554, "5.5.1", "No valid recipients");
        if (n || i > vlen)
            return REJECT(s, ev, cmd, 501, "5.5.4", "Syntax: DATA");
        return pend(s, ev, SMTPW_EV_DATA, cmd);
    case SMTPW_CMD_RSET:
        if (n || i > vlen)
            return REJECT(s, ev, cmd, 501, "5.5.4", "Syntax: RSET");
        reset_transaction(s);
        say_ok(s);
        ev->type = SMTPW_EV_RSET;
        ev->cmd = (uint32_t)cmd;
        return SMTPW_EV_RSET;
    case SMTPW_CMD_NOOP: /* 4.1.1.9: any argument is ignored */
        say_ok(s);
        ev->cmd = (uint32_t)cmd;
        return SMTPW_EV_NONE;
    case SMTPW_CMD_QUIT:
        if (n || i > vlen)
            return REJECT(s, ev, cmd, 501, "5.5.4", "Syntax: QUIT");
        say(s, 221, "2.0.0", s->host, s->hostlen, LIT("Service closing transmission channel"));
        s->st = ST_CLOSED;
        ev->type = SMTPW_EV_QUIT;
        ev->cmd = (uint32_t)cmd;
        return SMTPW_EV_QUIT;
    case SMTPW_CMD_VRFY:
    case SMTPW_CMD_EXPN:
        if (n == 0 || !printable(a, n))
            return cmd == SMTPW_CMD_VRFY ? REJECT(s, ev, cmd, 501, "5.5.4", "Syntax: VRFY <string>")
                                         : REJECT(s, ev, cmd, 501, "5.5.4", "Syntax: EXPN <string>");
        ev->arg = smtpw__span(a, n);
        return pend(s, ev, cmd == SMTPW_CMD_VRFY ? SMTPW_EV_VRFY : SMTPW_EV_EXPN, cmd);
    case SMTPW_CMD_HELP:
        if (!printable(a, n))
            return REJECT(s, ev, cmd, 501, "5.5.4", "Syntax error in parameters or arguments");
        ev->arg = smtpw__span(a, n);
        return pend(s, ev, SMTPW_EV_HELP, cmd);
    case SMTPW_CMD_STARTTLS:
        return cmd_starttls(s, i > vlen ? 1 : n, inlen, consumed, ev);
    case SMTPW_CMD_AUTH:
    case SMTPW_CMD_BDAT:
    case SMTPW_CMD_SEND:
    case SMTPW_CMD_SOML:
    case SMTPW_CMD_SAML:
    case SMTPW_CMD_TURN:
        return REJECT(s, ev, cmd, 502, "5.5.1", "Command not implemented");
    default:
        return REJECT(s, ev, SMTPW_CMD_UNKNOWN, 500, "5.5.1", "Command unrecognized");
    }
}

static int command(smtpw_server *s, const uint8_t *in, size_t inlen, size_t *consumed,
                   smtpw_event *ev)
{
    size_t n;
    int r;
    /* Pull model: read a command only when its largest reply fits. */
    if (q_free(s) < s->reserve)
        return SMTPW_EV_NONE;
    r = smtpw__line_next(&s->line, in, inlen, s->max_cmd, s->bare_cmd, consumed, &n);
    switch (r) {
    case SMTPW__LINE_OK:
        return dispatch(s, (const char *)in, n, inlen, consumed, ev);
    case SMTPW__LINE_TOOLONG: /* 4.5.3.1.10 */
        return REJECT(s, ev, SMTPW_CMD_NONE, 500, "5.5.2", "Line too long");
    case SMTPW__LINE_BARE:
        /* 2.3.8: a bare CR or LF is never a line end, so the refusal is
         * one 500 for everything up to the CRLF; nothing after a bare LF
         * runs as a command of its own (line.c says why). */
        ev->arg = smtpw__span((const char *)in, n);
        return REJECT(s, ev, SMTPW_CMD_NONE, 500, "5.5.2", "Bare CR or LF in command line");
    default:
        return SMTPW_EV_NONE;
    }
}

/* ------------------------------------------------------------------ */
/* Message body                                                        */

static int data_abort(smtpw_server *s, smtpw_event *ev, unsigned code)
{
    s->st = ST_SWALLOW;
    s->abort_code = (uint16_t)code;
    s->us.policy = SMTPW_BARE_KEEP; /* from here on only the end matters */
    s->us.max_line = 0;
    ev->type = SMTPW_EV_DATA_ABORT;
    ev->cmd = SMTPW_CMD_DATA;
    ev->code = code;
    return SMTPW_EV_DATA_ABORT;
}

static void abort_reply(smtpw_server *s)
{
    switch (s->abort_code) {
    case 552: /* RFC 1870 6.1, 5321 4.5.3.1.10 */
        say(s, 552, "5.3.4", LIT("Message size exceeds fixed maximum message size"), NULL, 0);
        break;
    case 500: /* 4.5.3.1.6, 4.5.3.1.10 */
        say(s, 500, "5.5.2", LIT("Line too long"), NULL, 0);
        break;
    default: /* 2.3.8 */
        say(s, 550, "5.6.0", LIT("Message refused: bare CR or LF in the body"), NULL, 0);
        break;
    }
}

static int body(smtpw_server *s, const uint8_t *in, size_t inlen, size_t *consumed,
                smtpw_event *ev)
{
    int room = q_free(s) >= s->reserve, r;
    smtpw_span span;
    size_t total = 0, n;

    if (s->st == ST_DATA) {
        if (!room && smtpw__unstuff_may_end(&s->us, in, inlen))
            return SMTPW_EV_NONE;
        r = smtpw__unstuff_next(&s->us, in, inlen, consumed, &span);
        switch (r) {
        case SMTPW__UNSTUFF_DATA:
            if (s->max_size && span.len > s->max_size - s->size)
                return data_abort(s, ev, 552);
            s->size += span.len;
            ev->type = SMTPW_EV_BODY;
            ev->cmd = SMTPW_CMD_DATA;
            ev->arg = span;
            return SMTPW_EV_BODY;
        case SMTPW__UNSTUFF_END:
            ev->size = s->size;
            return pend(s, ev, SMTPW_EV_DATA_END, SMTPW_CMD_DATA);
        case SMTPW__UNSTUFF_BARE:
            return data_abort(s, ev, 550);
        case SMTPW__UNSTUFF_LONG:
            return data_abort(s, ev, 500);
        default:
            return SMTPW_EV_NONE;
        }
    }

    /* SWALLOW: drop everything up to the end, then answer for the core. */
    for (;;) {
        if (!room && smtpw__unstuff_may_end(&s->us, in + total, inlen - total))
            break;
        r = smtpw__unstuff_next(&s->us, in + total, inlen - total, &n, &span);
        total += n;
        if (r == SMTPW__UNSTUFF_END) {
            abort_reply(s);
            reset_transaction(s);
            break;
        }
        if (r != SMTPW__UNSTUFF_DATA)
            break;
    }
    *consumed = total;
    return SMTPW_EV_NONE;
}

/* ------------------------------------------------------------------ */
/* API                                                                 */

size_t smtpw_server_sizeof(void)
{
    return sizeof(struct smtpw_server);
}

void smtpw_server_config_init(smtpw_server_config *cfg)
{
    if (cfg == NULL)
        return;
    memset(cfg, 0, sizeof *cfg);
    cfg->version = SMTPW_SERVER_CONFIG_VERSION;
    cfg->flags = 0;
    cfg->hostname = "localhost";
    cfg->hostname_len = 9;
    cfg->max_message_size = 10485760u;
    cfg->max_recipients = 100;
    cfg->max_command_line = SMTPW_MAX_COMMAND_LINE;
    cfg->max_text_line = 0;
    cfg->max_errors = 10;
    cfg->bare_command = SMTPW_BARE_REJECT;
    cfg->bare_body = SMTPW_BARE_REJECT;
}

#define KNOWN_FLAGS                                                                           \
    (SMTPW_SERVER_LENIENT | SMTPW_SERVER_REFUSE | SMTPW_SERVER_NO_PIPELINING |                \
     SMTPW_SERVER_NO_8BITMIME | SMTPW_SERVER_NO_ENHANCED | SMTPW_SERVER_STARTTLS |            \
     SMTPW_SERVER_SMTPUTF8)

int smtpw_server_init(void *mem, size_t memlen, const smtpw_server_config *cfg,
                      smtpw_server **out)
{
    smtpw_server *s = (smtpw_server *)mem;
    const char *host;
    size_t hostlen, caps;

    if (out)
        *out = NULL;
    if (mem == NULL || cfg == NULL || out == NULL)
        return SMTPW_E_INVALID_ARG;
    if (memlen < sizeof *s)
        return SMTPW_E_NOBUF;
    if (cfg->version != SMTPW_SERVER_CONFIG_VERSION)
        return SMTPW_E_VERSION;
    if ((uintptr_t)mem % offsetof(struct align_probe, s) != 0)
        return SMTPW_E_INVALID_ARG;
    host = cfg->hostname ? cfg->hostname : "localhost";
    hostlen = cfg->hostname ? cfg->hostname_len : 9;
    if (hostlen == 0 || hostlen > SMTPW_MAX_DOMAIN ||
        (smtpw_domain_check(host, hostlen, 0) != 0 &&
         smtpw_address_literal_check(host, hostlen, NULL) != 0))
        return SMTPW_E_INVALID_ARG;
    if ((cfg->flags & ~KNOWN_FLAGS) || cfg->max_command_line < SMTPW_MAX_COMMAND_LINE ||
        cfg->max_command_line > 65536 || (cfg->max_text_line != 0 && cfg->max_text_line < 3) ||
        cfg->bare_command > SMTPW_BARE_KEEP || cfg->bare_body > SMTPW_BARE_KEEP)
        return SMTPW_E_INVALID_ARG;

    memset(s, 0, sizeof *s);
    s->host = host;
    s->hostlen = (uint16_t)hostlen;
    s->flags = cfg->flags;
    s->max_size = cfg->max_message_size;
    s->max_rcpt = cfg->max_recipients;
    s->max_cmd = cfg->max_command_line;
    s->max_text = cfg->max_text_line;
    s->max_errors = cfg->max_errors;
    s->bare_cmd = (uint8_t)cfg->bare_command;
    s->bare_body = (uint8_t)cfg->bare_body;
    s->st = ST_INIT;
    smtpw__line_reset(&s->line);
    smtpw__unstuff_init(&s->us, s->bare_body, s->max_text);

    /* The largest reply a command can need: a full EHLO greeting line and
     * the capability list (a refusal plus 421 is shorter). */
    caps = smtpw__reply_write_caps(s->out, OUTQ, caps_now(s), s->max_size);
    s->reserve = (uint16_t)(SMTPW_MAX_REPLY_LINE + caps);

    if (s->flags & SMTPW_SERVER_REFUSE) /* 3.1 */
        say(s, 554, NULL, host, hostlen, LIT("No SMTP service here"));
    else
        say(s, 220, NULL, host, hostlen, LIT("ESMTP smtpwire"));
    *out = s;
    return SMTPW_OK;
}

int smtpw_server_recv(smtpw_server *s, const uint8_t *in, size_t inlen, size_t *consumed,
                      smtpw_event *ev)
{
    if (consumed)
        *consumed = 0;
    if (s == NULL || consumed == NULL || ev == NULL || (in == NULL && inlen))
        return SMTPW_E_INVALID_ARG;
    ev_clear(ev);
    if (in == NULL)
        in = (const uint8_t *)"";
    switch (s->st) {
    case ST_CLOSED:
        return SMTPW_E_CLOSED;
    case ST_TLS:
        *consumed = inlen; /* RFC 3207 4.2: nothing from before TLS counts */
        if (s->tail == s->head && !s->tls_told) {
            s->tls_told = 1;
            ev->type = SMTPW_EV_STARTTLS;
            ev->cmd = SMTPW_CMD_STARTTLS;
            return SMTPW_EV_STARTTLS;
        }
        return SMTPW_EV_NONE;
    case ST_DATA:
    case ST_SWALLOW:
        if (s->pending)
            return SMTPW_EV_NONE;
        return body(s, in, inlen, consumed, ev);
    default:
        if (s->pending)
            return SMTPW_EV_NONE;
        return command(s, in, inlen, consumed, ev);
    }
}

/* Default reply texts (RFC 5321 4.2.2, 4.2.3), in our words. */
#define T_214 "Commands: HELO EHLO MAIL RCPT DATA RSET NOOP QUIT VRFY HELP"
#define T_252 "Cannot VRFY user, but will accept message and attempt delivery"
#define T_354 "Start mail input; end with <CRLF>.<CRLF>"
#define T_502 "Command not implemented"
#define T_MAIL "Sender ok"
#define T_RCPT "Recipient ok"
#define T_END "Message accepted for delivery"

static const char *default_text(int ev, unsigned code)
{
    switch (code) {
    case 214: return T_214;
    case 252: return T_252;
    case 354: return T_354;
    case 450: return "Mailbox unavailable, try again later";
    case 451: return "Local error in processing";
    case 452: return ev == SMTPW_EV_RCPT ? "Too many recipients" : "Insufficient system storage";
    case 455: return "Server unable to accommodate parameters";
    case 500: return "Command unrecognized";
    case 501: return "Syntax error in parameters or arguments";
    case 502: return T_502;
    case 503: return "Bad sequence of commands";
    case 504: return "Command parameter not implemented";
    case 550: return "Mailbox unavailable";
    case 551: return "User not local";
    case 552: return "Exceeded storage allocation";
    case 553: return "Mailbox name not allowed";
    case 554: return "Transaction failed";
    case 555: return "Parameters not recognized or not implemented";
    default: break;
    }
    switch (code / 100) {
    case 2:
        switch (ev) {
        case SMTPW_EV_MAIL: return T_MAIL;
        case SMTPW_EV_RCPT: return T_RCPT;
        case SMTPW_EV_DATA_END: return T_END;
        default: return "Ok";
        }
    case 4: return "Temporary failure, try again later";
    default: return "Permanent failure";
    }
}

/* Default enhanced status code for a reply (RFC 3463 3). */
static const char *default_enh(int ev, unsigned code)
{
    switch (code) {
    case 250:
    case 251:
        return ev == SMTPW_EV_MAIL ? "2.1.0" : ev == SMTPW_EV_RCPT ? "2.1.5" : "2.0.0";
    case 252: return "2.5.2";
    case 421: return "4.3.2";
    case 450: return "4.2.0";
    case 451: return "4.3.0";
    case 452: return ev == SMTPW_EV_RCPT ? "4.5.3" : "4.3.1";
    case 500: return "5.5.2";
    case 501: return "5.5.4";
    case 502:
    case 503: return "5.5.1";
    case 504:
    case 555: return "5.5.4";
    case 550: return ev == SMTPW_EV_RCPT ? "5.1.1" : ev == SMTPW_EV_MAIL ? "5.1.0" : "5.7.1";
    case 551: return "5.1.6";
    case 552: return ev == SMTPW_EV_RCPT ? "5.2.2" : "5.3.4";
    case 553: return ev == SMTPW_EV_MAIL ? "5.1.7" : "5.1.3";
    case 554: return ev == SMTPW_EV_DATA_END ? "5.6.0" : "5.0.0";
    default: break;
    }
    switch (code / 100) {
    case 2: return "2.0.0";
    case 4: return "4.0.0";
    default: return "5.0.0";
    }
}

/* The answers to code 0 with default text and enh, without and with
 * enhanced codes (what default_text() and default_enh() give), made at
 * compile time: the common reply is one copy.  HELO/EHLO is not here. */
struct line {
    const char *p;
    size_t n;
};
#define DLINE(code, enh, text) {{LIT(code " " text "\r\n")}, {LIT(code " " enh " " text "\r\n")}}
static const struct line default_line[][2] = {
    [SMTPW_EV_MAIL] = DLINE("250", "2.1.0", T_MAIL),
    [SMTPW_EV_RCPT] = DLINE("250", "2.1.5", T_RCPT),
    [SMTPW_EV_DATA] = {{LIT("354 " T_354 "\r\n")}, {LIT("354 " T_354 "\r\n")}}, /* never on 3xx */
    [SMTPW_EV_DATA_END] = DLINE("250", "2.0.0", T_END),
    [SMTPW_EV_VRFY] = DLINE("252", "2.5.2", T_252),
    [SMTPW_EV_EXPN] = DLINE("502", "5.5.1", T_502),
    [SMTPW_EV_HELP] = DLINE("214", "2.0.0", T_214),
};

/* Validate and render a reply to event ev into the queue (not yet counted
 * in tail); *w receives its length.  A 250 to HELO/EHLO also opens the
 * session.  Returns 0 or an SMTPW_E_*. */
static int render(smtpw_server *s, int ev, unsigned code, const char *enh, const char *text,
                  size_t textlen, size_t *w)
{
    int deftext;
    unsigned cls = code / 100;
    size_t enhlen = 0, cap;

    if (code == 354 ? ev != SMTPW_EV_DATA
                    : (!smtpw__reply_write_code_ok(code) || cls == 3 ||
                       (cls == 2 && ev == SMTPW_EV_DATA) ||
                       (cls == 2 && ev == SMTPW_EV_HELO && code != 250)))
        return SMTPW_E_INVALID_ARG;
    deftext = text == NULL || textlen == 0;
    if (deftext) {
        text = (cls == 2 && ev == SMTPW_EV_HELO) ? "" : default_text(ev, code);
        textlen = strlen(text);
    } else if (!smtpw__reply_write_text_ok(text, textlen)) {
        return SMTPW_E_INVALID_ARG;
    }
    if (enh != NULL && smtpw__reply_write_enh_len(enh, code) == 0)
        return SMTPW_E_INVALID_ARG;
    /* RFC 2034: after EHLO only, never on 3xx or replies to HELO/EHLO. */
    if (s->enh && cls != 3 && ev != SMTPW_EV_HELO) {
        if (enh == NULL)
            enh = default_enh(ev, code);
        enhlen = strlen(enh);
    }

    cap = q_room(s, s->reserve);
    if (ev == SMTPW_EV_HELO && cls == 2) {
        /* 4.1.1.1: "250" SP Domain [SP text], or the EHLO keyword list. */
        int ehlo = s->pend_cmd == SMTPW_CMD_EHLO;
        unsigned caps = ehlo ? caps_now(s) : 0;
        *w = smtpw__reply_write_line(s->out + s->tail, cap, 250, caps != 0, NULL, 0, s->host,
                                     s->hostlen, text, textlen);
        if (*w == 0)
            return SMTPW_E_TOOLONG;
        if (caps) {
            size_t c = smtpw__reply_write_caps(s->out + s->tail + *w, cap - *w, caps, s->max_size);
            if (c == 0)
                return SMTPW_E_TOOLONG;
            *w += c;
        }
        s->esmtp = (uint8_t)ehlo;
        s->enh = (uint8_t)(ehlo && !(s->flags & SMTPW_SERVER_NO_ENHANCED));
        s->st = ST_READY;
        return SMTPW_OK;
    }
    if (code == 421 && deftext) /* 3.8: "421 <domain> ..." */
        *w = smtpw__reply_write_line(s->out + s->tail, cap, code, 0, enh, enhlen, s->host,
                                     s->hostlen,
                                     LIT("Service not available, closing transmission channel"));
    else
        *w = smtpw__reply_write_line(s->out + s->tail, cap, code, 0, enh, enhlen, text, textlen,
                                     NULL, 0);
    return *w == 0 ? SMTPW_E_TOOLONG : SMTPW_OK;
}

int smtpw_server_reply(smtpw_server *s, unsigned code, const char *enh, const char *text,
                       size_t textlen)
{
    int ev, r;
    unsigned cls;
    size_t w;

    if (s == NULL)
        return SMTPW_E_INVALID_ARG;
    if (!s->pending)
        return SMTPW_E_STATE;
    ev = s->pending;
    if (code == 0 && enh == NULL && (text == NULL || textlen == 0) &&
        default_line[ev][0].p != NULL) {
        const struct line *l = &default_line[ev][s->enh];
        if (q_room(s, s->reserve) < l->n)
            return SMTPW_E_TOOLONG;
        memcpy(s->out + s->tail, l->p, l->n);
        w = l->n;
        code = (unsigned)(l->p[0] - '0') * 100 + (unsigned)(l->p[1] - '0') * 10 +
               (unsigned)(l->p[2] - '0');
    } else {
        if (code == 0)
            code = ev == SMTPW_EV_DATA ? 354
                 : ev == SMTPW_EV_VRFY ? 252
                 : ev == SMTPW_EV_EXPN ? 502
                 : ev == SMTPW_EV_HELP ? 214
                                       : 250;
        r = render(s, ev, code, enh, text, textlen, &w);
        if (r != SMTPW_OK)
            return r;
    }
    cls = code / 100;
    switch (ev) {
    case SMTPW_EV_MAIL:
        if (cls == 2) {
            s->st = ST_MAIL;
            s->nrcpt = 0;
            s->mailflags = s->pend_flags;
        }
        break;
    case SMTPW_EV_RCPT:
        if (cls == 2) {
            s->st = ST_RCPT;
            s->nrcpt++;
        }
        break;
    case SMTPW_EV_DATA:
        if (code == 354) {
            s->st = ST_DATA;
            s->size = 0;
            smtpw__unstuff_init(&s->us, s->bare_body, s->max_text);
        } else {
            reset_transaction(s); /* a refused message ends the transaction */
        }
        break;
    case SMTPW_EV_DATA_END:
        if (cls == 2)
            s->messages++;
        s->st = ST_READY;
        reset_transaction(s);
        break;
    default:
        break;
    }
    s->tail = (uint16_t)(s->tail + w);
    s->pending = 0;
    if (code == 421) /* the application closes the session (3.8) */
        s->st = ST_CLOSED;
    return SMTPW_OK;
}

const uint8_t *smtpw_server_output(const smtpw_server *s, size_t *len)
{
    if (len)
        *len = 0;
    if (s == NULL || len == NULL)
        return NULL;
    *len = (size_t)(s->tail - s->head);
    return s->out + s->head;
}

void smtpw_server_output_ack(smtpw_server *s, size_t n)
{
    size_t have;
    if (s == NULL)
        return;
    have = (size_t)(s->tail - s->head);
    if (n > have)
        n = have;
    s->head = (uint16_t)(s->head + n);
    if (s->head == s->tail)
        s->head = s->tail = 0;
    if (s->shut)
        say421(s);
}

unsigned smtpw_server_want(const smtpw_server *s)
{
    unsigned w = 0;
    if (s == NULL)
        return 0;
    if (s->tail != s->head)
        w |= SMTPW_WANT_WRITE;
    switch (s->st) {
    case ST_CLOSED:
        return w | SMTPW_WANT_CLOSE;
    case ST_TLS:
        return s->tail == s->head ? w | SMTPW_WANT_TLS : w;
    case ST_DATA:
    case ST_SWALLOW:
        return s->pending ? w | SMTPW_WANT_REPLY : w | SMTPW_WANT_READ;
    default:
        if (s->pending)
            return w | SMTPW_WANT_REPLY;
        return q_free(s) >= s->reserve ? w | SMTPW_WANT_READ : w;
    }
}

int smtpw_server_timeout(const smtpw_server *s)
{
    if (s == NULL || s->pending || s->st == ST_CLOSED || s->st == ST_TLS)
        return SMTPW_TIMEOUT_NONE;
    return SMTPW_TIMEOUT_SERVER; /* 4.5.3.2.7 */
}

int smtpw_server_shutdown(smtpw_server *s)
{
    if (s == NULL)
        return SMTPW_E_INVALID_ARG;
    if (s->st == ST_CLOSED)
        return SMTPW_E_CLOSED;
    s->st = ST_CLOSED;
    s->pending = 0;
    s->shut = 1;
    say421(s);
    return SMTPW_OK;
}

int smtpw_server_tls_started(smtpw_server *s)
{
    if (s == NULL)
        return SMTPW_E_INVALID_ARG;
    if (s->st != ST_TLS || s->tail != s->head)
        return SMTPW_E_STATE;
    /* RFC 3207 4.2: back to the state right after the greeting. */
    s->st = ST_INIT;
    s->tls = 1;
    s->tls_told = 0;
    s->esmtp = 0;
    s->enh = 0;
    reset_transaction(s);
    smtpw__line_reset(&s->line);
    return SMTPW_OK;
}

uint32_t smtpw_server_messages(const smtpw_server *s)
{
    return s ? s->messages : 0;
}
