/* The client core's state machine: the only file that knows client states
 * (RFC 5321, RFC 2920 pipelining, RFC 3207 STARTTLS): the state table, the
 * commands that move it and the replies matched to them.  Around it:
 * config.c (setup), body.c (the body entry points), query.c (output queue
 * and queries).  SPDX-License-Identifier: MIT */
#include "client/client_internal.h"

#include "client/command.h"
#include "client/reply_read.h"
#include "smtpwire/syntax.h"

/* ---- states and transitions: the whole client state machine ----
 *
 * The state follows what the client has queued (a MAIL queued opens the
 * transaction at once, so RCPTs may be pipelined behind it, RFC 2920) and
 * what the replies said (a refused MAIL closes it again).  A reply moves
 * the state only when it belongs to the current transaction: replies still
 * due for one reset by RSET, EHLO or a new MAIL change nothing.  Counters
 * (recipients, accepted) and the sticky error live beside the state. */
enum {
    CS_GREETING,      /* awaiting the 220 (the reply to connecting, 4.3.1) */
    CS_GREET_REFUSED, /* the greeting was not 2xx: only QUIT (3.1) */
    CS_HELLO,         /* no EHLO/HELO accepted yet (or one in flight) */
    CS_READY,         /* hello accepted, no transaction */
    CS_TXN_MAIL,      /* MAIL queued: RCPT and DATA may follow */
    CS_TXN_DATA,      /* DATA queued, its reply awaited */
    CS_TXN_DATA_NOMAIL, /* the same, but the MAIL before it was refused */
    CS_BODY,          /* 354 came: body_encode()/body_end() */
    CS_TLS_WAIT,      /* 220 to STARTTLS: the handshake is owed (RFC 3207) */
    CS_QUITTING,      /* QUIT queued */
    CS_CLOSED         /* reply to QUIT, or a 421 (3.8): session over */
};

#define B(cmd) (1u << SMTPW_CMD_##cmd)
/* What any session with a greeting may say (4.1.4: EHLO resets). */
#define ALWAYS (B(EHLO) | B(HELO) | B(RSET) | B(NOOP) | B(QUIT) | B(VRFY) | B(EXPN) | B(HELP))

/* Moves every state makes (rows "ANY" below): EHLO/HELO and QUIT queued,
 * the reply to QUIT. */
#define ANYQ (B(EHLO) | B(HELO) | B(QUIT))
#define ANYR B(QUIT)

/* Which commands each state lets the caller queue.  A command outside
 * `may` gets `refuse` at once when that is set, else SMTPW_E_STATE after
 * its arguments and the RFC 2920 ordering were checked (so before the
 * greeting every command is SMTPW_E_AGAIN, and DATA ends a group: in the
 * TXN_DATA states everything is SMTPW_E_AGAIN until its reply).  `queued`
 * and `replied`: the commands with a row in MOVES from this state, when
 * queued and on their reply (the others skip the scan; checked against
 * MOVES by smtpw__client_table_check()). */
static const struct state_row {
    int refuse;
    uint32_t may, queued, replied;
} STATES[] = {
    /* state                 refuse          may queue                          queued             replied */
    [CS_GREETING]        = { 0,              ALWAYS,                            ANYQ,              ANYR | B(GREETING) },
    [CS_GREET_REFUSED]   = { SMTPW_E_STATE,  B(QUIT),                           ANYQ,              ANYR },
    [CS_HELLO]           = { 0,              ALWAYS,                            ANYQ,              ANYR | B(EHLO) | B(HELO) },
    [CS_READY]           = { 0,              ALWAYS | B(MAIL) | B(STARTTLS),    ANYQ | B(MAIL),    ANYR | B(STARTTLS) },
    [CS_TXN_MAIL]        = { 0,              ALWAYS | B(RCPT) | B(DATA),        ANYQ | B(RSET) | B(DATA), ANYR | B(MAIL) },
    [CS_TXN_DATA]        = { 0,              0,                                 ANYQ,              ANYR | B(MAIL) | B(DATA) },
    [CS_TXN_DATA_NOMAIL] = { 0,              0,                                 ANYQ,              ANYR | B(DATA) },
    [CS_BODY]            = { SMTPW_E_STATE,  B(BODY),                           ANYQ | B(BODY),    ANYR },
    [CS_TLS_WAIT]        = { SMTPW_E_STATE,  0,                                 ANYQ,              ANYR },
    [CS_QUITTING]        = { SMTPW_E_CLOSED, 0,                                 ANYQ,              ANYR },
    [CS_CLOSED]          = { SMTPW_E_CLOSED, 0,                                 ANYQ,              ANYR },
};
#define NSTATES (sizeof STATES / sizeof STATES[0])

#define ANY 0xffu /* a move from every state */
#define QUEUED 0u, 0u /* the move happens when the command is queued */

/* How the state moves: when a command is queued (codes 0, 0), or when the
 * last line of the reply to a command of the current transaction arrives
 * with a code in [lo, hi].  The first matching row wins; no row, no move.
 * A 421 closes the session from every state (3.8), whatever it answers. */
static const struct move {
    uint8_t from, cmd;
    uint16_t lo, hi;
    uint8_t to;
} MOVES[] = {
    /* from                cmd                 codes       to */
    { CS_GREETING,         SMTPW_CMD_GREETING, 200, 299,   CS_HELLO },
    { CS_GREETING,         SMTPW_CMD_GREETING, 0, 999,     CS_GREET_REFUSED }, /* 554, 3.1 */
    { ANY,                 SMTPW_CMD_EHLO,     QUEUED,     CS_HELLO },  /* 4.1.4 */
    { ANY,                 SMTPW_CMD_HELO,     QUEUED,     CS_HELLO },
    { CS_HELLO,            SMTPW_CMD_EHLO,     200, 299,   CS_READY },
    { CS_HELLO,            SMTPW_CMD_HELO,     200, 299,   CS_READY },
    { CS_READY,            SMTPW_CMD_MAIL,     QUEUED,     CS_TXN_MAIL },
    { CS_TXN_MAIL,         SMTPW_CMD_MAIL,     300, 599,   CS_READY },
    { CS_TXN_DATA,         SMTPW_CMD_MAIL,     300, 599,   CS_TXN_DATA_NOMAIL },
    { CS_TXN_MAIL,         SMTPW_CMD_RSET,     QUEUED,     CS_READY },
    { CS_TXN_MAIL,         SMTPW_CMD_DATA,     QUEUED,     CS_TXN_DATA },
    /* 354 even with no recipient accepted (a pipelined flight, a broken
     * server): body_end() alone sends the single dot of RFC 2920 3.1. */
    { CS_TXN_DATA,         SMTPW_CMD_DATA,     354, 354,   CS_BODY },
    { CS_TXN_DATA,         SMTPW_CMD_DATA,     0, 999,     CS_TXN_MAIL },
    { CS_TXN_DATA_NOMAIL,  SMTPW_CMD_DATA,     354, 354,   CS_BODY },
    { CS_TXN_DATA_NOMAIL,  SMTPW_CMD_DATA,     0, 999,     CS_READY },
    /* The reply after the dot answers the body; the transaction is over
     * whatever it says (4.1.1.4), so a MAIL may follow at once. */
    { CS_BODY,             SMTPW_CMD_BODY,     QUEUED,     CS_READY },
    { CS_READY,            SMTPW_CMD_STARTTLS, 220, 220,   CS_TLS_WAIT },
    { ANY,                 SMTPW_CMD_QUIT,     QUEUED,     CS_QUITTING },
    { ANY,                 SMTPW_CMD_QUIT,     0, 999,     CS_CLOSED },
};

static SMTPW_NOINLINE void move_scan(smtpw_client *c, int cmd, uint32_t code)
{
    size_t i;
    for (i = 0; i < sizeof MOVES / sizeof MOVES[0]; i++) {
        const struct move *m = &MOVES[i];
        if (m->cmd == cmd && (m->from == ANY || m->from == c->state) && code >= m->lo &&
            code <= m->hi) {
            c->state = m->to;
            return;
        }
    }
}

static inline void move(smtpw_client *c, int cmd, uint32_t code)
{
    const struct state_row *st = &STATES[c->state];
    if (((code ? st->replied : st->queued) >> cmd) & 1u)
        move_scan(c, cmd, code);
}

/* The queued/replied columns say exactly which commands have rows in MOVES
 * from each state.  0, or -1 (for the unit test). */
int smtpw__client_table_check(void)
{
    size_t s, i;
    for (s = 0; s < NSTATES; s++) {
        uint32_t q = 0, r = 0;
        for (i = 0; i < sizeof MOVES / sizeof MOVES[0]; i++) {
            if (MOVES[i].from != ANY && MOVES[i].from != s)
                continue;
            if (MOVES[i].lo == 0 && MOVES[i].hi == 0)
                q |= 1u << MOVES[i].cmd;
            else
                r |= 1u << MOVES[i].cmd;
        }
        if (q != STATES[s].queued || r != STATES[s].replied)
            return -1;
    }
    return 0;
}

/* May cmd be queued in this state?  0, or how it is refused. */
static int allowed(const smtpw_client *c, int cmd)
{
    return (STATES[c->state].may & (1u << cmd)) ? 0 : SMTPW_E_STATE;
}

static int fail(smtpw_client *c, int err)
{
    c->err = err; /* sticky until init */
    return err;
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

/* Checks shared by every command, before its arguments: the sticky
 * error, and the states that refuse a command at once (the table). */
static int precheck(smtpw_client *c, int cmd)
{
    if (c == NULL)
        return SMTPW_E_INVALID_ARG;
    if (c->err)
        return c->err;
    if (STATES[c->state].refuse && allowed(c, cmd))
        return STATES[c->state].refuse;
    return 0;
}

/* precheck(), the RFC 2920 ordering and the state, for a command without
 * arguments to check. */
static int ready(smtpw_client *c, int cmd)
{
    int rc = precheck(c, cmd);
    if (rc)
        return rc;
    return may_send(c) ? 0 : SMTPW_E_AGAIN;
}

/* Finish the line, queue it and record the reply it awaits. */
static int submit(smtpw_client *c, int cmd, struct smtpw__cmdline *l, uint32_t index,
                  uint16_t gen)
{
    size_t n;
    smtpw__cmd_put(l, "\r\n", 2);
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
    move(c, cmd, 0);
    return 0;
}

/* A new transaction: replies still due for the old one no longer count. */
static void new_txn(smtpw_client *c)
{
    c->gen = (uint16_t)(c->gen + 1u);
    c->rcpt_n = 0;
    c->rcpt_pending = 0;
    c->accepted = 0;
    c->txn_8bit = 0;
    c->txn_utf8 = 0;
}

/* ---- setup ---- */

int smtpw_client_init(void *mem, size_t memlen, const smtpw_client_config *cfg,
                      smtpw_client **out)
{
    smtpw_client *c;
    smtpw_client_config use;
    int rc;
    if (out)
        *out = NULL;
    if (out == NULL)
        return SMTPW_E_INVALID_ARG;
    if ((rc = smtpw__client_config_use(mem, memlen, cfg, &use)) != 0)
        return rc; /* config.c */
    c = (smtpw_client *)mem;
    memset(c, 0, sizeof *c);
    c->cfg = use;
    c->state = CS_GREETING;
    c->starved = 1; /* nothing given yet: the greeting must be read */
    /* The 220 banner is the reply to connecting (4.3.1). */
    ring_push(c, SMTPW_CMD_GREETING, 0, 0);
    *out = c;
    return 0;
}

/* ---- commands ---- */

static int hello(smtpw_client *c, int cmd, const char *domain, size_t len)
{
    struct smtpw__cmdline l;
    int rc = precheck(c, cmd);
    if (rc)
        return rc;
    if ((rc = smtpw__cmd_check_domain(domain, len)) != 0)
        return rc;
    if (!may_send(c))
        return SMTPW_E_AGAIN;
    smtpw__cmd_start(&l, cmd == SMTPW_CMD_EHLO ? "EHLO " : "HELO ");
    smtpw__cmd_put(&l, domain, len);
    if ((rc = submit(c, cmd, &l, 0, (uint16_t)(c->gen + 1u))) != 0)
        return rc;
    /* A new EHLO replaces what the last one said and resets the
     * transaction (4.1.4). */
    memset(&c->caps, 0, sizeof c->caps);
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

int smtpw_client_mail(smtpw_client *c, const char *addr, size_t len, uint64_t size,
                      uint32_t flags, const char *params, size_t plen)
{
    struct smtpw__cmdline l;
    int rc = precheck(c, SMTPW_CMD_MAIL), utf8, send_size;
    if (rc)
        return rc;
    if ((addr == NULL && len) || (params == NULL && plen) ||
        (flags & ~(uint32_t)(SMTPW_MAIL_8BIT | SMTPW_MAIL_SMTPUTF8)) || smtpw__has_ctl(addr, len, 0))
        return SMTPW_E_INVALID_ARG;
    if (!may_send(c))
        return SMTPW_E_AGAIN;
    if ((rc = allowed(c, SMTPW_CMD_MAIL)) != 0)
        return rc;
    if ((flags & SMTPW_MAIL_SMTPUTF8) && !(c->caps.ext & SMTPW_EXT_SMTPUTF8))
        return SMTPW_E_NOTSUP;
    if ((flags & SMTPW_MAIL_8BIT) && !(c->caps.ext & SMTPW_EXT_8BITMIME))
        return SMTPW_E_8BIT; /* RFC 6152 3: never send 8-bit unannounced */
    send_size = size > 0 && (c->caps.ext & SMTPW_EXT_SIZE);
    if (send_size && c->caps.size_limit && size > c->caps.size_limit)
        return SMTPW_E_SIZE; /* RFC 1870 6.1 */
    utf8 = (flags & SMTPW_MAIL_SMTPUTF8) ||
           ((c->cfg.flags & SMTPW_CLIENT_SMTPUTF8) && (c->caps.ext & SMTPW_EXT_SMTPUTF8));
    /* A reverse-path is "<>" or a mailbox with a domain (4.1.2). */
    if (len && memchr(addr, '@', len) == NULL)
        return SMTPW_E_SYNTAX;
    smtpw__cmd_start(&l, "MAIL FROM:");
    if ((rc = smtpw__cmd_put_path(&l, addr, len, utf8)) != 0)
        return rc;
    if (send_size) {
        smtpw__cmd_put_str(&l, " SIZE=");
        smtpw__cmd_put_u64(&l, size);
    }
    if (flags & SMTPW_MAIL_8BIT)
        smtpw__cmd_put_str(&l, " BODY=8BITMIME");
    if (utf8)
        smtpw__cmd_put_str(&l, " SMTPUTF8");
    if ((rc = smtpw__cmd_put_params(&l, params, plen, utf8, 1)) != 0)
        return rc;
    if ((rc = submit(c, SMTPW_CMD_MAIL, &l, 0, (uint16_t)(c->gen + 1u))) != 0)
        return rc;
    new_txn(c);
    c->txn_8bit = (flags & SMTPW_MAIL_8BIT) ? 1u : 0u;
    c->txn_utf8 = utf8 ? 1u : 0u;
    return 0;
}

int smtpw_client_rcpt(smtpw_client *c, const char *addr, size_t len, const char *params,
                      size_t plen)
{
    struct smtpw__cmdline l;
    int rc = precheck(c, SMTPW_CMD_RCPT);
    if (rc)
        return rc;
    if ((addr == NULL && len) || (params == NULL && plen) || smtpw__has_ctl(addr, len, 0))
        return SMTPW_E_INVALID_ARG;
    if (!may_send(c))
        return SMTPW_E_AGAIN;
    if ((rc = allowed(c, SMTPW_CMD_RCPT)) != 0)
        return rc;
    if (len == 0)
        return SMTPW_E_SYNTAX; /* a forward-path is never "<>" */
    smtpw__cmd_start(&l, "RCPT TO:");
    if ((rc = smtpw__cmd_put_path(&l, addr, len, c->txn_utf8)) != 0)
        return rc;
    if ((rc = smtpw__cmd_put_params(&l, params, plen, c->txn_utf8, 0)) != 0)
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
    struct smtpw__cmdline l;
    smtpw__cmd_start(&l, verb);
    return submit(c, cmd, &l, 0, c->gen);
}

/* A command without arguments. */
static int simple(smtpw_client *c, int cmd, const char *verb)
{
    int rc = ready(c, cmd);
    if (rc == 0)
        rc = allowed(c, cmd);
    return rc ? rc : queue_verb(c, cmd, verb);
}

int smtpw_client_data(smtpw_client *c)
{
    int rc = ready(c, SMTPW_CMD_DATA);
    if (rc)
        return rc;
    /* DATA needs a MAIL and a RCPT; once every RCPT has been answered and
     * none was accepted, DATA is pointless: RSET instead. */
    if (allowed(c, SMTPW_CMD_DATA) || c->rcpt_n == 0 ||
        (c->rcpt_pending == 0 && c->accepted == 0))
        return SMTPW_E_STATE;
    return queue_verb(c, SMTPW_CMD_DATA, "DATA");
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
    return simple(c, SMTPW_CMD_QUIT, "QUIT");
}

int smtpw_client_starttls(smtpw_client *c)
{
    int rc = ready(c, SMTPW_CMD_STARTTLS);
    if (rc)
        return rc;
    if ((rc = allowed(c, SMTPW_CMD_STARTTLS)) != 0)
        return rc;
    if (!(c->caps.ext & SMTPW_EXT_STARTTLS))
        return SMTPW_E_NOTSUP;
    return queue_verb(c, SMTPW_CMD_STARTTLS, "STARTTLS");
}

/* VRFY, EXPN, HELP: a printable US-ASCII argument (4.1.1.6 to 4.1.1.8). */
static int with_arg(smtpw_client *c, int cmd, const char *verb, const char *arg, size_t len,
                    int optional)
{
    struct smtpw__cmdline l;
    int rc = precheck(c, cmd);
    if (rc)
        return rc;
    if (arg == NULL && len)
        return SMTPW_E_INVALID_ARG;
    if (!smtpw__all_print(arg, len))
        return SMTPW_E_INVALID_ARG;
    if (len == 0 && !optional)
        return SMTPW_E_INVALID_ARG;
    if (!may_send(c))
        return SMTPW_E_AGAIN;
    if ((rc = allowed(c, cmd)) != 0)
        return rc;
    smtpw__cmd_start(&l, verb);
    if (len) {
        smtpw__cmd_put(&l, " ", 1);
        smtpw__cmd_put(&l, arg, len);
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

/* ---- message body (the entry points are in body.c) ---- */

typedef char smtpw__client_body_check[CS_BODY == SMTPW__CLIENT_STATE_BODY ? 1 : -1];

int smtpw__client_body_due(const smtpw_client *c)
{
    if (c->err)
        return c->err;
    if (c->state == CS_CLOSED)
        return SMTPW_E_CLOSED;
    return c->state == CS_BODY ? 0 : SMTPW_E_STATE;
}

void smtpw__client_body_ended(smtpw_client *c)
{
    ring_push(c, SMTPW_CMD_BODY, 0, c->gen); /* the dot's reply is awaited */
    move(c, SMTPW_CMD_BODY, 0);
}

/* ---- replies ---- */

/* RFC 5321 4.2.1, 4.3.2: a 3yz reply is only ever the 354 that asks for
 * the message, and DATA is never completed by a 2yz.  Any other pairing
 * means the server is in another state than the client: stop before a
 * command line lands in a message body or the body is taken for commands. */
static int code_fits(int cmd, uint32_t code)
{
    if (cmd == SMTPW_CMD_DATA)
        return code == 354 || code >= 400;
    return code / 100u != 3u;
}

/* The effect of a complete reply: the table's move, and what else the
 * reply tells (capabilities, recipient counts). */
static void reply_done(smtpw_client *c, const struct smtpw__pending *p, uint32_t code)
{
    uint32_t cls = code / 100u;
    uint8_t was = c->state;
    if ((p->cmd == SMTPW_CMD_EHLO && cls != 2) || p->cmd == SMTPW_CMD_HELO)
        memset(&c->caps, 0, sizeof c->caps); /* HELO: no extensions */
    if (p->gen != c->gen)
        return; /* a reset transaction's reply: counts for nothing */
    if (p->cmd == SMTPW_CMD_RCPT) {
        c->rcpt_pending--;
        if (cls == 2)
            c->accepted++;
        return;
    }
    move(c, p->cmd, code);
    if (c->state == CS_BODY && was != CS_BODY)
        smtpw__stuff_init(&c->body, c->txn_8bit);
}

/* Every field zero, every span {NULL, 0}.  Field by field: a memset of
 * the whole event compiles to "rep stos", whose start-up cost was a
 * quarter of the time of a short reply. */
static void ev_clear(smtpw_event *ev)
{
    static const smtpw_span none = {NULL, 0};
    ev->type = SMTPW_EV_NONE;
    ev->cmd = SMTPW_CMD_NONE;
    ev->code = 0;
    ev->flags = 0;
    ev->arg = none;
    ev->params = none;
    ev->size = 0;
    ev->path.raw = none;
    ev->path.mailbox = none;
    ev->path.local = none;
    ev->path.domain = none;
    ev->path.route = none;
    ev->path.literal = none;
    ev->path.flags = 0;
    ev->path.literal_kind = 0;
    ev->line = none;
    ev->keyword = none;
    ev->index = 0;
    ev->enh_class = 0;
    ev->enh_subject = 0;
    ev->enh_detail = 0;
}

/* One reply line into *ev (cleared first), the arguments checked. */
static int recv_line(smtpw_client *c, const uint8_t *in, size_t inlen, size_t *consumed,
                     smtpw_event *ev)
{
    struct smtpw__rline rl;
    struct smtpw__pending head;
    const char *line, *text;
    size_t tlen, skip;
    int r, unsolicited;

    ev_clear(ev);
    if (c->err)
        return c->err;
    if (c->state == CS_CLOSED)
        return SMTPW_E_CLOSED;
    if (inlen == 0)
        return SMTPW_EV_NONE;
    /* Bytes after the 220 to STARTTLS and before the handshake were sent
     * in clear text and could be injected: refuse them (RFC 3207 4.2). */
    if (c->state == CS_TLS_WAIT)
        return fail(c, SMTPW_E_PROTO);
    r = smtpw__reply_line(in, inlen, c->cfg.max_reply_line, &rl);
    if (r < 0)
        return fail(c, r);
    if (r == 0)
        return SMTPW_EV_NONE;
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
    ev->type = SMTPW_EV_REPLY;
    ev->cmd = head.cmd;
    ev->code = rl.code;
    ev->flags = rl.last ? SMTPW_EVF_LAST : 0u;
    ev->index = head.cmd == SMTPW_CMD_RCPT ? head.index : 0u;
    ev->line = smtpw__span(line, rl.len);
    if (head.cmd == SMTPW_CMD_EHLO && c->cur_lines > 0 && rl.code / 100u == 2) {
        /* 4.1.1.1: every line after the first names one extension. */
        if (smtpw__caps_line(text, tlen, &c->caps, &ev->keyword, &ev->params))
            ev->flags |= SMTPW_EVF_KEYWORD;
    } else if (smtpw__reply_enhanced(text, tlen, rl.code, &ev->enh_class, &ev->enh_subject,
                                     &ev->enh_detail, &skip)) {
        ev->flags |= SMTPW_EVF_ENHANCED;
        text += skip;
        tlen -= skip;
    }
    ev->arg = smtpw__span(text, tlen);
    *consumed = rl.consumed;

    if (!rl.last) {
        c->cur_code = rl.code;
        c->cur_lines++;
        c->cur_unsolicited = (uint8_t)unsolicited;
        return SMTPW_EV_REPLY;
    }
    c->cur_code = 0;
    c->cur_lines = 0;
    c->cur_unsolicited = 0;
    if (!unsolicited) {
        ring_pop(c);
        reply_done(c, &head, rl.code);
    }
    if (rl.code == 421)
        c->state = CS_CLOSED; /* 3.8: the server is closing; so are we */
    return SMTPW_EV_REPLY;
}

/* The head common.h promises every caller is exactly the fields before
 * the first span. */
typedef char smtpw__event_head_check[offsetof(smtpw_event, arg) == SMTPW_EVENT_MIN_SIZE ? 1 : -1];

/* api.md B for a caller whose smtpw_event is not ours: never a byte past
 * evsize, zeros past our own struct; less than the head is refused, as
 * the server does (common.h SMTPW_EVENT_MIN_SIZE). */
static SMTPW_NOINLINE int recv_other_size(smtpw_client *c, const uint8_t *in, size_t inlen,
                                          size_t *consumed, smtpw_event *ev, size_t evsize)
{
    smtpw_event local;
    int r;
    if (evsize < SMTPW_EVENT_MIN_SIZE)
        return SMTPW_E_INVALID_ARG;
    if (evsize > sizeof local) {
        memset((char *)ev + sizeof local, 0, evsize - sizeof local);
        return smtpw_client_recv(c, in, inlen, consumed, ev, sizeof local);
    }
    r = smtpw_client_recv(c, in, inlen, consumed, &local, sizeof local);
    memcpy(ev, &local, evsize);
    return r;
}

int smtpw_client_recv(smtpw_client *c, const uint8_t *in, size_t inlen, size_t *consumed,
                      smtpw_event *ev, size_t evsize)
{
    int r;
    if (consumed)
        *consumed = 0;
    if (c == NULL || consumed == NULL || ev == NULL || (in == NULL && inlen))
        return SMTPW_E_INVALID_ARG;
    if (SMTPW_UNLIKELY(evsize != sizeof *ev))
        return recv_other_size(c, in, inlen, consumed, ev, evsize);
    r = recv_line(c, in, inlen, consumed, ev);
    /* api.md A: NONE means every whole line was used: read more. */
    if (r == SMTPW_EV_NONE)
        c->starved = 1;
    else if (r > 0)
        c->starved = 0;
    return r;
}

/* ---- status (the output queue and the queries are in query.c) ---- */

uint32_t smtpw_client_want(const smtpw_client *c)
{
    uint32_t w;
    if (c == NULL)
        return 0;
    if (c->err)
        return SMTPW_WANT_CLOSE;
    w = c->out_len ? SMTPW_WANT_WRITE : 0u;
    if (c->state == CS_CLOSED)
        return w | SMTPW_WANT_CLOSE;
    if (c->state == CS_TLS_WAIT)
        return w | SMTPW_WANT_TLS;
    if (c->state == CS_BODY)
        w |= SMTPW_WANT_BODY;
    if (c->ring_count && c->starved)
        w |= SMTPW_WANT_READ; /* api.md A: exact, never with whole lines unread */
    return w;
}

uint32_t smtpw_client_timeout(const smtpw_client *c)
{
    if (c == NULL || c->err || c->state == CS_CLOSED)
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
    if (c->state == CS_BODY)
        return SMTPW_TIMEOUT_DATA_BLOCK; /* 4.5.3.2.5 */
    return SMTPW_TIMEOUT_NONE;
}

int smtpw_client_tls_started(smtpw_client *c)
{
    if (c == NULL)
        return SMTPW_E_INVALID_ARG;
    if (c->err)
        return c->err;
    if (c->state != CS_TLS_WAIT)
        return SMTPW_E_STATE;
    /* RFC 3207 4.2: forget everything learnt before TLS; EHLO again. */
    c->state = CS_HELLO;
    memset(&c->caps, 0, sizeof c->caps);
    new_txn(c);
    return 0;
}
