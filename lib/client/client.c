/* The client core: the only file that knows client states (RFC 5321,
 * RFC 2920 pipelining, RFC 3207 STARTTLS).  SPDX-License-Identifier: MIT */
#include "client/client_internal.h"

#include "client/reply_read.h"
#include "smtpwire/syntax.h"

/* The state must fit the size promised to static-storage users. */
typedef char smtpw__client_size_check[sizeof(struct smtpw_client) <= SMTPW_CLIENT_SIZE_HINT ? 1
                                                                                             : -1];

#define DEFAULT_MAX_REPLY_LINE 2048u
#define DEFAULT_MAX_REPLY_LINES 100u
#define KNOWN_FLAGS (SMTPW_CLIENT_NO_PIPELINING | SMTPW_CLIENT_UTF8)

/* offsetof gives the alignment a type needs (C99 has no alignof). */
struct align_u64 {
    char c;
    uint64_t u;
};
struct align_ptr {
    char c;
    void *p;
};

/* ---- small helpers ---- */

static int fail(smtpw_client *c, int err)
{
    c->err = err; /* sticky until init */
    return err;
}

static int has_ctl(const char *s, size_t n)
{
    size_t i;
    for (i = 0; i < n; i++) {
        unsigned char b = (unsigned char)s[i];
        if (b < 0x20 || b == 0x7f)
            return 1;
    }
    return 0;
}

static int has_8bit(const char *s, size_t n)
{
    size_t i;
    for (i = 0; i < n; i++)
        if ((unsigned char)s[i] >= 0x80)
            return 1;
    return 0;
}

/* A command line under construction; never longer than 4.5.3.1.4 allows. */
struct line {
    size_t len;
    int over;
    char buf[SMTPW_MAX_COMMAND_LINE];
};

static void put(struct line *l, const char *s, size_t n)
{
    if (l->over || n > sizeof l->buf - l->len) {
        l->over = 1;
        return;
    }
    memcpy(l->buf + l->len, s, n);
    l->len += n;
}

static void put_str(struct line *l, const char *s)
{
    put(l, s, strlen(s));
}

/* Start a command line with its verb. */
static void line_init(struct line *l, const char *verb)
{
    l->len = 0;
    l->over = 0;
    put_str(l, verb);
}

static void put_u64(struct line *l, uint64_t v)
{
    char tmp[20];
    size_t n = 0;
    do {
        tmp[sizeof tmp - 1 - n++] = (char)('0' + (int)(v % 10u));
        v /= 10u;
    } while (v);
    put(l, tmp + sizeof tmp - n, n);
}

/* ---- the pending ring ---- */

static struct smtpw__pending *ring_at(smtpw_client *c, uint32_t k)
{
    return &c->ring[(c->ring_head + k) % SMTPW__CLIENT_RING];
}

static void ring_push(smtpw_client *c, int cmd, uint32_t index, uint16_t gen)
{
    struct smtpw__pending *p = ring_at(c, c->ring_count);
    p->cmd = (uint8_t)cmd;
    p->index = index;
    p->gen = gen;
    p->end = c->queued_total;
    p->pad = 0;
    c->ring_count++;
}

static void ring_pop(smtpw_client *c)
{
    c->ring_head = (c->ring_head + 1u) % SMTPW__CLIENT_RING;
    c->ring_count--;
}

/* RFC 2920 3.1: these can only be the last command of a group, because
 * the client must see their outcome first.  HELP and STARTTLS (RFC 3207
 * 4.2) are treated the same way; the greeting starts the session. */
static int ends_group(int cmd)
{
    switch (cmd) {
    case SMTPW_CMD_MAIL:
    case SMTPW_CMD_RCPT:
    case SMTPW_CMD_RSET:
    case SMTPW_CMD_BODY: /* the message may open the next group */
        return 0;
    default:
        return 1;
    }
}

static int pipelining(const smtpw_client *c)
{
    return (c->caps.ext & SMTPW_EXT_PIPELINING) && !(c->cfg.flags & SMTPW_CLIENT_NO_PIPELINING);
}

/* May a command be queued now, as far as ordering goes? */
static int may_send(smtpw_client *c)
{
    if (c->ring_count == 0)
        return 1;
    if (c->ring_count >= SMTPW__CLIENT_RING || !pipelining(c))
        return 0;
    return !ends_group(ring_at(c, c->ring_count - 1)->cmd);
}

/* Checks shared by every command.  QUIT skips the greeting check. */
static int precheck(smtpw_client *c, int is_quit)
{
    if (c == NULL)
        return SMTPW_E_INVALID_ARG;
    if (c->err)
        return c->err;
    if (c->closed || c->quitting)
        return SMTPW_E_CLOSED;
    if (c->tls_pending || c->txn == SMTPW__TXN_BODY)
        return SMTPW_E_STATE;
    /* RFC 5321 3.1: after a refusing greeting only QUIT makes sense. */
    if (c->greet_failed && !is_quit)
        return SMTPW_E_STATE;
    return 0;
}

/* precheck() and may_send() for a command without arguments to check. */
static int ready(smtpw_client *c, int is_quit)
{
    int rc = precheck(c, is_quit);
    if (rc)
        return rc;
    return may_send(c) ? 0 : SMTPW_E_AGAIN;
}

/* Finish the line, queue it and record the reply it awaits. */
static int submit(smtpw_client *c, int cmd, struct line *l, uint32_t index, uint16_t gen)
{
    size_t n;
    put(l, "\r\n", 2);
    if (l->over)
        return SMTPW_E_TOOLONG; /* 512 octets with CRLF, 4.5.3.1.4 */
    n = l->len;
    if (n > SMTPW__CLIENT_OUTQ - c->out_len)
        return SMTPW_E_AGAIN; /* drain the output first */
    if (c->out_off + c->out_len + n > SMTPW__CLIENT_OUTQ) {
        memmove(c->outq, c->outq + c->out_off, c->out_len);
        c->out_off = 0;
    }
    memcpy(c->outq + c->out_off + c->out_len, l->buf, n);
    c->out_len += (uint32_t)n;
    c->queued_total += (uint32_t)n;
    ring_push(c, cmd, index, gen);
    return 0;
}

static void new_txn(smtpw_client *c)
{
    c->txn = SMTPW__TXN_NONE;
    c->gen = (uint16_t)(c->gen + 1u);
    c->rcpt_n = 0;
    c->rcpt_pending = 0;
    c->accepted = 0;
    c->mail_refused = 0;
    c->txn_8bit = 0;
    c->txn_utf8 = 0;
}

/* ---- setup ---- */

size_t smtpw_client_sizeof(void)
{
    return sizeof(struct smtpw_client);
}

void smtpw_client_config_init(smtpw_client_config *cfg)
{
    if (cfg == NULL)
        return;
    memset(cfg, 0, sizeof *cfg);
    cfg->version = SMTPW_CLIENT_CONFIG_VERSION;
    cfg->max_reply_line = DEFAULT_MAX_REPLY_LINE;
    cfg->max_reply_lines = DEFAULT_MAX_REPLY_LINES;
}

int smtpw_client_init(void *mem, size_t memlen, const smtpw_client_config *cfg,
                      smtpw_client **out)
{
    smtpw_client *c;
    smtpw_client_config def;
    if (out)
        *out = NULL;
    if (mem == NULL || out == NULL ||
        (uintptr_t)mem % offsetof(struct align_u64, u) != 0 ||
        (uintptr_t)mem % offsetof(struct align_ptr, p) != 0)
        return SMTPW_E_INVALID_ARG;
    if (memlen < sizeof(struct smtpw_client))
        return SMTPW_E_NOBUF;
    if (cfg == NULL) {
        smtpw_client_config_init(&def);
        cfg = &def;
    }
    if (cfg->version != SMTPW_CLIENT_CONFIG_VERSION)
        return SMTPW_E_VERSION;
    if ((cfg->flags & ~KNOWN_FLAGS) || cfg->max_reply_line < SMTPW_MAX_REPLY_LINE ||
        cfg->max_reply_lines == 0)
        return SMTPW_E_INVALID_ARG;
    c = (smtpw_client *)mem;
    memset(c, 0, sizeof *c);
    c->cfg = *cfg;
    /* The 220 banner is the reply to connecting (4.3.1). */
    ring_push(c, SMTPW_CMD_GREETING, 0, 0);
    *out = c;
    return 0;
}

/* ---- commands ---- */

/* EHLO/HELO argument: a Domain or an address literal (4.1.1.1). */
static int check_domain(const char *d, size_t len)
{
    if (d == NULL && len)
        return SMTPW_E_INVALID_ARG;
    if (has_ctl(d, len))
        return SMTPW_E_INVALID_ARG;
    if (len == 0)
        return SMTPW_E_SYNTAX;
    if (d[0] == '[')
        return smtpw_address_literal_check(d, len, NULL);
    return smtpw_domain_check(d, len, 0);
}

static int hello(smtpw_client *c, int cmd, const char *domain, size_t len)
{
    struct line l;
    int rc = precheck(c, 0);
    if (rc)
        return rc;
    if ((rc = check_domain(domain, len)) != 0)
        return rc;
    if (!may_send(c))
        return SMTPW_E_AGAIN;
    line_init(&l, cmd == SMTPW_CMD_EHLO ? "EHLO " : "HELO ");
    put(&l, domain, len);
    if ((rc = submit(c, cmd, &l, 0, (uint16_t)(c->gen + 1u))) != 0)
        return rc;
    /* A new EHLO replaces what the last one said and resets the
     * transaction (4.1.4). */
    memset(&c->caps, 0, sizeof c->caps);
    c->hello = 0;
    new_txn(c);
    return 0;
}

int smtpw_client_ehlo(smtpw_client *c, const char *domain, size_t len)
{
    return hello(c, SMTPW_CMD_EHLO, domain, len);
}

int smtpw_client_helo(smtpw_client *c, const char *domain, size_t len)
{
    return hello(c, SMTPW_CMD_HELO, domain, len);
}

/* Append caller parameters "KEY[=VALUE] ..." after checking each one. */
static int put_params(struct line *l, const char *params, size_t plen, int utf8, int is_mail)
{
    smtpw_span rest, key, value;
    int r;
    if (params == NULL && plen)
        return SMTPW_E_INVALID_ARG;
    if (has_ctl(params, plen) || (!utf8 && has_8bit(params, plen)))
        return SMTPW_E_INVALID_ARG;
    rest = smtpw__span(params, plen);
    while ((r = smtpw_param_next(&rest, &key, &value)) == 1) {
        /* These come from the mail() arguments; a second copy would let
         * the caller contradict what the core checked. */
        if (is_mail && (smtpw_span_ieq(key, "SIZE") || smtpw_span_ieq(key, "BODY") ||
                        smtpw_span_ieq(key, "SMTPUTF8")))
            return SMTPW_E_INVALID_ARG;
        put(l, " ", 1);
        put(l, key.ptr, key.len);
        if (value.len) {
            put(l, "=", 1);
            put(l, value.ptr, value.len);
        }
    }
    return r < 0 ? r : 0;
}

static int put_path(struct line *l, const char *addr, size_t len, int utf8)
{
    char path[SMTPW_MAX_PATH];
    size_t n;
    int rc = smtpw_path_render(addr, len, utf8 ? SMTPW_PARSE_UTF8 : 0u, path, sizeof path, &n);
    if (rc == SMTPW_E_NOBUF)
        rc = SMTPW_E_TOOLONG;
    if (rc)
        return rc;
    put(l, path, n);
    return 0;
}

int smtpw_client_mail(smtpw_client *c, const char *addr, size_t len, uint64_t size,
                      unsigned flags, const char *params, size_t plen)
{
    struct line l;
    int rc = precheck(c, 0), utf8, send_size;
    if (rc)
        return rc;
    if ((addr == NULL && len) || (params == NULL && plen) ||
        (flags & ~(unsigned)(SMTPW_MAIL_8BIT | SMTPW_MAIL_SMTPUTF8)) || has_ctl(addr, len))
        return SMTPW_E_INVALID_ARG;
    if (!may_send(c))
        return SMTPW_E_AGAIN;
    if (!c->hello || c->txn != SMTPW__TXN_NONE)
        return SMTPW_E_STATE;
    if ((flags & SMTPW_MAIL_SMTPUTF8) && !(c->caps.ext & SMTPW_EXT_SMTPUTF8))
        return SMTPW_E_NOTSUP;
    if ((flags & SMTPW_MAIL_8BIT) && !(c->caps.ext & SMTPW_EXT_8BITMIME))
        return SMTPW_E_8BIT; /* RFC 6152 3: never send 8-bit unannounced */
    send_size = size > 0 && (c->caps.ext & SMTPW_EXT_SIZE);
    if (send_size && c->caps.size_limit && size > c->caps.size_limit)
        return SMTPW_E_SIZE; /* RFC 1870 6.1 */
    utf8 = (flags & SMTPW_MAIL_SMTPUTF8) ||
           ((c->cfg.flags & SMTPW_CLIENT_UTF8) && (c->caps.ext & SMTPW_EXT_SMTPUTF8));
    /* A reverse-path is "<>" or a mailbox with a domain (4.1.2). */
    if (len && memchr(addr, '@', len) == NULL)
        return SMTPW_E_SYNTAX;
    line_init(&l, "MAIL FROM:");
    if ((rc = put_path(&l, addr, len, utf8)) != 0)
        return rc;
    if (send_size) {
        put_str(&l, " SIZE=");
        put_u64(&l, size);
    }
    if (flags & SMTPW_MAIL_8BIT)
        put_str(&l, " BODY=8BITMIME");
    if (utf8)
        put_str(&l, " SMTPUTF8");
    if ((rc = put_params(&l, params, plen, utf8, 1)) != 0)
        return rc;
    if ((rc = submit(c, SMTPW_CMD_MAIL, &l, 0, (uint16_t)(c->gen + 1u))) != 0)
        return rc;
    new_txn(c);
    c->txn = SMTPW__TXN_OPEN;
    c->txn_8bit = (flags & SMTPW_MAIL_8BIT) ? 1u : 0u;
    c->txn_utf8 = utf8 ? 1u : 0u;
    return 0;
}

int smtpw_client_rcpt(smtpw_client *c, const char *addr, size_t len, const char *params,
                      size_t plen)
{
    struct line l;
    int rc = precheck(c, 0);
    if (rc)
        return rc;
    if ((addr == NULL && len) || (params == NULL && plen) || has_ctl(addr, len))
        return SMTPW_E_INVALID_ARG;
    if (!may_send(c))
        return SMTPW_E_AGAIN;
    if (!c->hello || c->txn != SMTPW__TXN_OPEN)
        return SMTPW_E_STATE;
    if (len == 0)
        return SMTPW_E_SYNTAX; /* a forward-path is never "<>" */
    line_init(&l, "RCPT TO:");
    if ((rc = put_path(&l, addr, len, c->txn_utf8)) != 0)
        return rc;
    if ((rc = put_params(&l, params, plen, c->txn_utf8, 0)) != 0)
        return rc;
    if ((rc = submit(c, SMTPW_CMD_RCPT, &l, c->rcpt_n, c->gen)) != 0)
        return rc;
    c->rcpt_n++;
    c->rcpt_pending++;
    return 0;
}

/* Queue a command without arguments, all checks done. */
static int queue_verb(smtpw_client *c, int cmd, const char *verb)
{
    struct line l;
    line_init(&l, verb);
    return submit(c, cmd, &l, 0, c->gen);
}

/* A command without arguments. */
static int simple(smtpw_client *c, int cmd, const char *verb)
{
    int rc = ready(c, cmd == SMTPW_CMD_QUIT);
    return rc ? rc : queue_verb(c, cmd, verb);
}

int smtpw_client_data(smtpw_client *c)
{
    int rc = ready(c, 0);
    if (rc)
        return rc;
    /* DATA needs a MAIL and a RCPT; once every RCPT has been answered and
     * none was accepted, DATA is pointless: RSET instead. */
    if (c->txn != SMTPW__TXN_OPEN || c->rcpt_n == 0 ||
        (c->rcpt_pending == 0 && c->accepted == 0))
        return SMTPW_E_STATE;
    if ((rc = queue_verb(c, SMTPW_CMD_DATA, "DATA")) != 0)
        return rc;
    c->txn = SMTPW__TXN_DATA;
    return 0;
}

int smtpw_client_rset(smtpw_client *c)
{
    int rc = simple(c, SMTPW_CMD_RSET, "RSET");
    if (rc == 0)
        new_txn(c); /* replies still due for the old one no longer count */
    return rc;
}

int smtpw_client_noop(smtpw_client *c)
{
    return simple(c, SMTPW_CMD_NOOP, "NOOP");
}

int smtpw_client_quit(smtpw_client *c)
{
    int rc = simple(c, SMTPW_CMD_QUIT, "QUIT");
    if (rc == 0)
        c->quitting = 1;
    return rc;
}

int smtpw_client_starttls(smtpw_client *c)
{
    int rc = ready(c, 0);
    if (rc)
        return rc;
    if (!c->hello || c->txn != SMTPW__TXN_NONE)
        return SMTPW_E_STATE;
    if (!(c->caps.ext & SMTPW_EXT_STARTTLS))
        return SMTPW_E_NOTSUP;
    return queue_verb(c, SMTPW_CMD_STARTTLS, "STARTTLS");
}

/* VRFY, EXPN, HELP: a printable US-ASCII argument (4.1.1.6 to 4.1.1.8). */
static int with_arg(smtpw_client *c, int cmd, const char *verb, const char *arg, size_t len,
                    int optional)
{
    struct line l;
    size_t i;
    int rc = precheck(c, 0);
    if (rc)
        return rc;
    if (arg == NULL && len)
        return SMTPW_E_INVALID_ARG;
    for (i = 0; i < len; i++)
        if ((unsigned char)arg[i] < 0x20 || (unsigned char)arg[i] > 0x7e)
            return SMTPW_E_INVALID_ARG;
    if (len == 0 && !optional)
        return SMTPW_E_INVALID_ARG;
    if (!may_send(c))
        return SMTPW_E_AGAIN;
    line_init(&l, verb);
    if (len) {
        put(&l, " ", 1);
        put(&l, arg, len);
    }
    return submit(c, cmd, &l, 0, c->gen);
}

int smtpw_client_vrfy(smtpw_client *c, const char *arg, size_t len)
{
    return with_arg(c, SMTPW_CMD_VRFY, "VRFY", arg, len, 0);
}

int smtpw_client_expn(smtpw_client *c, const char *arg, size_t len)
{
    return with_arg(c, SMTPW_CMD_EXPN, "EXPN", arg, len, 0);
}

int smtpw_client_help(smtpw_client *c, const char *arg, size_t len)
{
    return with_arg(c, SMTPW_CMD_HELP, "HELP", arg, len, 1);
}

/* ---- message body ---- */

/* Checks shared by body_encode() and body_end(). */
static int body_due(const smtpw_client *c)
{
    if (c->err)
        return c->err;
    if (c->closed)
        return SMTPW_E_CLOSED;
    return c->txn == SMTPW__TXN_BODY ? 0 : SMTPW_E_STATE;
}

int smtpw_client_body_encode(smtpw_client *c, const uint8_t *in, size_t inlen,
                             size_t *consumed, uint8_t *out, size_t outcap, size_t *written)
{
    int rc;
    if (consumed)
        *consumed = 0;
    if (written)
        *written = 0;
    if (c == NULL || consumed == NULL || written == NULL || (in == NULL && inlen) ||
        (out == NULL && outcap))
        return SMTPW_E_INVALID_ARG;
    if ((rc = body_due(c)) != 0 || inlen == 0)
        return rc;
    return smtpw__stuff_encode(&c->body, in, inlen, consumed, out, outcap, written);
}

int smtpw_client_body_end(smtpw_client *c, uint8_t *out, size_t outcap, size_t *written)
{
    int rc;
    if (written)
        *written = 0;
    if (c == NULL || written == NULL || (out == NULL && outcap))
        return SMTPW_E_INVALID_ARG;
    if ((rc = body_due(c)) != 0)
        return rc;
    if (outcap < 5)
        return SMTPW_E_NOBUF;
    *written = smtpw__stuff_end(&c->body, out);
    /* The reply after the dot answers the body; the transaction is over
     * whatever it says (4.1.1.4), so a new MAIL may follow it. */
    c->txn = SMTPW__TXN_NONE;
    ring_push(c, SMTPW_CMD_BODY, 0, c->gen);
    return 0;
}

/* ---- replies ---- */

/* RFC 5321 4.2.1, 4.3.2: a 3yz reply is only ever the 354 that asks for
 * the message, and DATA is never completed by a 2yz.  Any other pairing
 * means the server is in another state than the client: stop before a
 * command line lands in a message body or the body is taken for commands. */
static int code_fits(int cmd, unsigned code)
{
    if (cmd == SMTPW_CMD_DATA)
        return code == 354 || code >= 400;
    return code / 100u != 3u;
}

/* The effect of a complete reply on the state. */
static void reply_done(smtpw_client *c, const struct smtpw__pending *p, unsigned code)
{
    unsigned cls = code / 100u;
    int current = p->gen == c->gen;
    switch (p->cmd) {
    case SMTPW_CMD_GREETING:
        if (cls != 2)
            c->greet_failed = 1; /* 554: QUIT and go (3.1) */
        break;
    case SMTPW_CMD_EHLO:
    case SMTPW_CMD_HELO:
        if (cls == 2)
            c->hello = 1;
        if (cls != 2 || p->cmd == SMTPW_CMD_HELO)
            memset(&c->caps, 0, sizeof c->caps);
        break;
    case SMTPW_CMD_MAIL:
        if (cls != 2 && current) {
            c->mail_refused = 1;
            if (c->txn == SMTPW__TXN_OPEN)
                c->txn = SMTPW__TXN_NONE;
        }
        break;
    case SMTPW_CMD_RCPT:
        if (current) {
            c->rcpt_pending--;
            if (cls == 2)
                c->accepted++;
        }
        break;
    case SMTPW_CMD_DATA:
        if (!current)
            break;
        if (code == 354) {
            /* Even with no recipient accepted (a pipelined flight and a
             * broken server): the caller ends with body_end() alone, the
             * single dot of RFC 2920 3.1. */
            c->txn = SMTPW__TXN_BODY;
            smtpw__stuff_init(&c->body, c->txn_8bit);
        } else
            c->txn = (uint8_t)(c->mail_refused ? SMTPW__TXN_NONE : SMTPW__TXN_OPEN);
        break;
    case SMTPW_CMD_QUIT:
        c->closed = 1;
        break;
    case SMTPW_CMD_STARTTLS:
        if (code == 220)
            c->tls_pending = 1;
        break;
    default:
        break;
    }
}

int smtpw_client_recv(smtpw_client *c, const uint8_t *in, size_t inlen, size_t *consumed,
                      smtpw_reply *ev)
{
    struct smtpw__rline rl;
    struct smtpw__pending head;
    const char *line, *text;
    size_t tlen, skip;
    int r, unsolicited;

    if (consumed)
        *consumed = 0;
    if (ev)
        memset(ev, 0, sizeof *ev);
    if (c == NULL || consumed == NULL || ev == NULL || (in == NULL && inlen))
        return SMTPW_E_INVALID_ARG;
    if (c->err)
        return c->err;
    if (c->closed)
        return SMTPW_E_CLOSED;
    if (inlen == 0)
        return SMTPW_CEV_NONE;
    /* Bytes after the 220 to STARTTLS and before the handshake were sent
     * in clear text and could be injected: refuse them (RFC 3207 4.2). */
    if (c->tls_pending)
        return fail(c, SMTPW_E_PROTO);
    r = smtpw__reply_line(in, inlen, c->cfg.max_reply_line, &rl);
    if (r < 0)
        return fail(c, r);
    if (r == 0)
        return SMTPW_CEV_NONE;
    if (c->cur_code && rl.code != c->cur_code)
        return fail(c, SMTPW_E_PROTO); /* 4.2.1: one code for all lines */
    if (c->cur_lines >= c->cfg.max_reply_lines)
        return fail(c, SMTPW_E_PROTO);
    /* Which command does it answer?  The oldest one awaiting a reply,
     * once its bytes have been handed out and acknowledged. */
    if (c->cur_code)
        unsolicited = c->cur_unsolicited;
    else
        unsolicited = c->ring_count == 0 ||
                      c->acked_total - ring_at(c, 0)->end > UINT32_MAX / 2u;
    if (unsolicited) {
        /* Only a 421 may come uninvited (3.8). */
        if (rl.code != 421)
            return fail(c, SMTPW_E_PROTO);
        memset(&head, 0, sizeof head);
        head.cmd = SMTPW_CMD_NONE;
    } else {
        head = *ring_at(c, 0);
        if (c->cur_code == 0 && !code_fits(head.cmd, rl.code))
            return fail(c, SMTPW_E_PROTO);
    }

    line = (const char *)in;
    text = line + rl.text_off;
    tlen = rl.len - rl.text_off;
    ev->type = SMTPW_CEV_REPLY;
    ev->cmd = head.cmd;
    ev->code = rl.code;
    ev->flags = rl.last ? SMTPW_REPLY_LAST : 0u;
    ev->index = head.cmd == SMTPW_CMD_RCPT ? head.index : 0u;
    ev->line = smtpw__span(line, rl.len);
    if (head.cmd == SMTPW_CMD_EHLO && c->cur_lines > 0 && rl.code / 100u == 2) {
        /* 4.1.1.1: every line after the first names one extension. */
        if (smtpw__caps_line(text, tlen, &c->caps, &ev->keyword, &ev->params))
            ev->flags |= SMTPW_REPLY_KEYWORD;
    } else if (smtpw__reply_enhanced(text, tlen, rl.code, &ev->enh_class, &ev->enh_subject,
                                     &ev->enh_detail, &skip)) {
        ev->flags |= SMTPW_REPLY_ENHANCED;
        text += skip;
        tlen -= skip;
    }
    ev->text = smtpw__span(text, tlen);
    *consumed = rl.consumed;

    if (!rl.last) {
        c->cur_code = rl.code;
        c->cur_lines++;
        c->cur_unsolicited = (uint8_t)unsolicited;
        return SMTPW_CEV_REPLY;
    }
    c->cur_code = 0;
    c->cur_lines = 0;
    c->cur_unsolicited = 0;
    if (!unsolicited) {
        ring_pop(c);
        reply_done(c, &head, rl.code);
    }
    if (rl.code == 421)
        c->closed = 1; /* 3.8: the server is closing; so are we */
    return SMTPW_CEV_REPLY;
}

/* ---- output and status ---- */

const uint8_t *smtpw_client_output(const smtpw_client *c, size_t *len)
{
    if (c == NULL) {
        if (len)
            *len = 0;
        return NULL;
    }
    if (len)
        *len = c->out_len;
    return c->outq + c->out_off;
}

void smtpw_client_output_ack(smtpw_client *c, size_t n)
{
    if (c == NULL)
        return;
    if (n > c->out_len)
        n = c->out_len;
    c->out_off += (uint32_t)n;
    c->out_len -= (uint32_t)n;
    c->acked_total += (uint32_t)n;
    if (c->out_len == 0)
        c->out_off = 0;
}

unsigned smtpw_client_want(const smtpw_client *c)
{
    unsigned w;
    if (c == NULL)
        return 0;
    if (c->err)
        return SMTPW_WANT_CLOSE;
    w = c->out_len ? SMTPW_WANT_WRITE : 0u;
    if (c->closed)
        return w | SMTPW_WANT_CLOSE;
    if (c->tls_pending)
        return w | SMTPW_WANT_TLS;
    if (c->txn == SMTPW__TXN_BODY)
        w |= SMTPW_WANT_BODY;
    if (c->ring_count)
        w |= SMTPW_WANT_READ;
    return w;
}

int smtpw_client_timeout(const smtpw_client *c)
{
    if (c == NULL || c->err || c->closed)
        return SMTPW_TIMEOUT_NONE;
    if (c->ring_count) {
        switch (c->ring[c->ring_head].cmd) {
        case SMTPW_CMD_GREETING:
            return SMTPW_TIMEOUT_GREETING; /* 4.5.3.2.1 */
        case SMTPW_CMD_MAIL:
            return SMTPW_TIMEOUT_MAIL; /* 4.5.3.2.2 */
        case SMTPW_CMD_RCPT:
            return SMTPW_TIMEOUT_RCPT; /* 4.5.3.2.3 */
        case SMTPW_CMD_DATA:
            return SMTPW_TIMEOUT_DATA_INIT; /* 4.5.3.2.4 */
        case SMTPW_CMD_BODY:
            return SMTPW_TIMEOUT_DATA_TERM; /* 4.5.3.2.6 */
        default:
            return SMTPW_TIMEOUT_COMMAND;
        }
    }
    if (c->txn == SMTPW__TXN_BODY)
        return SMTPW_TIMEOUT_DATA_BLOCK; /* 4.5.3.2.5 */
    return SMTPW_TIMEOUT_NONE;
}

int smtpw_client_tls_started(smtpw_client *c)
{
    if (c == NULL)
        return SMTPW_E_INVALID_ARG;
    if (c->err)
        return c->err;
    if (!c->tls_pending)
        return SMTPW_E_STATE;
    /* RFC 3207 4.2: forget everything learnt before TLS; EHLO again. */
    c->tls_pending = 0;
    c->hello = 0;
    memset(&c->caps, 0, sizeof c->caps);
    new_txn(c);
    return 0;
}

uint32_t smtpw_client_extensions(const smtpw_client *c)
{
    return c ? c->caps.ext : 0u;
}

uint64_t smtpw_client_size_limit(const smtpw_client *c)
{
    return c ? c->caps.size_limit : 0u;
}

uint32_t smtpw_client_auth_mechs(const smtpw_client *c)
{
    return c ? c->caps.auth : 0u;
}

uint32_t smtpw_client_accepted(const smtpw_client *c)
{
    return c ? c->accepted : 0u;
}

uint32_t smtpw_client_pending(const smtpw_client *c)
{
    return c ? c->ring_count : 0u;
}
