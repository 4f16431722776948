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
 * The command grammar (and the lenient profile, README "Strict and lenient
 * profiles") is in command.c, the default reply texts in replies.c, the
 * config and init()'s checks in config.c.
 *
 * SPDX-License-Identifier: MIT
 */
#include "server/server_internal.h"

#include "server/replies.h"
#include "server/reply_write.h"

#define ST_INIT 0
#define ST_READY 1
#define ST_MAIL 2
#define ST_RCPT 3
#define ST_DATA 4
#define ST_SWALLOW 5
#define ST_TLS 6
#define ST_CLOSED 7

/* Refusals of the state machine: a command out of sequence (RFC 5321
 * 4.1.4, 3.3; RFC 3207 4.2). */
#define R_HELO_FIRST 1
#define R_NESTED_MAIL 2
#define R_RCPT_NEED_MAIL 3
#define R_DATA_NEED_MAIL 4
#define R_NO_RCPT 5
#define R_TLS_IN_TXN 6
#define R_LATE 0x80 /* checked after the command's grammar */

static const smtpw__refusal state_refusal[] = {
    REFUSAL(0, NULL, ""),
    REFUSAL(503, "5.5.1", "Send HELO/EHLO first"),
    REFUSAL(503, "5.5.1", "Nested MAIL command"),
    REFUSAL(503, "5.5.1", "Need MAIL before RCPT"),
    REFUSAL(503, "5.5.1", "Need MAIL command"),
    REFUSAL(554, "5.5.1", "No valid recipients"),
    REFUSAL(503, "5.5.1", "STARTTLS inside a mail transaction"),
};

/*
 * The state machine, h11 style: for each state that reads commands and
 * each command, either the state after a positive answer (2xx; 354 for
 * DATA) or the refusal the core sends itself.  HELO/EHLO also reset the
 * transaction on arrival (4.1.4); a refused DATA and every DATA_END end it
 * (back to READY); 421 (shutdown or reply) goes to CLOSED from anywhere;
 * tls_started() goes from TLS to INIT (RFC 3207 4.2).  Commands not in the
 * table (AUTH, BDAT, SEND, SOML, SAML, TURN, unknown verbs) are refused by
 * the grammar in every state; SMTPW_SERVER_REFUSE answers 503 to all but
 * QUIT (3.1).
 */
#define GO(st) {ST_##st, 0}
#define NO(r) {0, r}
static const struct cell {
    uint8_t next, refuse;
} machine[ST_RCPT + 1][SMTPW_CMD_STARTTLS + 1] = {
    /*          NONE   HELO       EHLO       MAIL               RCPT
     *          DATA                 RSET       NOOP      QUIT        VRFY
     *          EXPN      HELP      STARTTLS */
    [ST_INIT] = {{0, 0}, GO(READY), GO(READY), NO(R_HELO_FIRST), NO(R_RCPT_NEED_MAIL),
                 NO(R_DATA_NEED_MAIL), GO(INIT), GO(INIT), GO(CLOSED), GO(INIT),
                 GO(INIT), GO(INIT), GO(TLS)},
    [ST_READY] = {{0, 0}, GO(READY), GO(READY), GO(MAIL), NO(R_RCPT_NEED_MAIL),
                  NO(R_DATA_NEED_MAIL), GO(READY), GO(READY), GO(CLOSED), GO(READY),
                  GO(READY), GO(READY), GO(TLS)},
    [ST_MAIL] = {{0, 0}, GO(READY), GO(READY), NO(R_NESTED_MAIL), GO(RCPT),
                 NO(R_NO_RCPT), GO(READY), GO(MAIL), GO(CLOSED), GO(MAIL),
                 GO(MAIL), GO(MAIL), NO(R_TLS_IN_TXN | R_LATE)},
    [ST_RCPT] = {{0, 0}, GO(READY), GO(READY), NO(R_NESTED_MAIL), GO(RCPT),
                 GO(DATA), GO(READY), GO(RCPT), GO(CLOSED), GO(RCPT),
                 GO(RCPT), GO(RCPT), NO(R_TLS_IN_TXN | R_LATE)},
};

/* Internal result of one step of recv(): input was used without an event
 * (NOOP, an accepted STARTTLS, a swallowed message): go on with the rest. */
#define GO_ON (-1000)

#define OUTQ SMTPW__SERVER_OUTQ

#define LIT(s) s, (sizeof(s) - 1)

/* ------------------------------------------------------------------ */
/* Output queue                                                        */

static size_t q_free(const smtpw_server *s)
{
    return OUTQ - (size_t)(s->tail - s->head);
}

/* Out of line: the queue is seldom moved, and the callers are hot. */
static SMTPW_NOINLINE void q_compact(smtpw_server *s)
{
    memmove(s->out, s->out + s->head, (size_t)(s->tail - s->head));
    s->tail = (uint16_t)(s->tail - s->head);
    s->head = 0;
}

/* Room at the tail for n more octets, moving queued bytes to the front if
 * that makes it fit. */
static size_t q_room(smtpw_server *s, size_t n)
{
    if (OUTQ - s->tail < n && s->head)
        q_compact(s);
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
    q_room(s, SMTPW_MAX_REPLY_LINE);
    /* Constant sizes: a few moves each, not a call. */
    if (s->enh) {
        memcpy(s->out + s->tail, enh, sizeof enh - 1);
        s->tail = (uint16_t)(s->tail + sizeof enh - 1);
    } else {
        memcpy(s->out + s->tail, plain, sizeof plain - 1);
        s->tail = (uint16_t)(s->tail + sizeof plain - 1);
    }
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
    unsigned c = SMTPW_EXT_SIZE;
    if (!(s->g.flags & SMTPW_SERVER_NO_PIPELINING))
        c |= SMTPW_EXT_PIPELINING;
    if (!(s->g.flags & SMTPW_SERVER_NO_8BITMIME))
        c |= SMTPW_EXT_8BITMIME;
    if (!(s->g.flags & SMTPW_SERVER_NO_ENHANCED))
        c |= SMTPW_EXT_ENHANCEDSTATUSCODES;
    if ((s->g.flags & SMTPW_SERVER_STARTTLS) && !s->g.tls)
        c |= SMTPW_EXT_STARTTLS;
    if (s->g.flags & SMTPW_SERVER_SMTPUTF8)
        c |= SMTPW_EXT_SMTPUTF8;
    return c;
}

/* ------------------------------------------------------------------ */
/* Events                                                              */

/* The head of the event (every field before `path`) and the client's
 * fields after it start at zero: a span an event does not use points
 * nowhere.  `path` is cleared at the end of recv() unless the event is
 * MAIL or RCPT, the only ones that carry it (parsing fills it anyway). */
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

/* A command the core refuses itself; the event carries the command, the
 * code and the refused line, nothing else.  Protocol errors (5xx other
 * than 552) count toward max_errors; at the limit the core says 421 and
 * closes. */
static int reject(smtpw_server *s, smtpw_event *ev, uint32_t cmd, const smtpw__refusal *no,
                  smtpw_span line)
{
    uint32_t code = no->code;
    say(s, code, no->enh, no->text, no->len, NULL, 0);
    ev->type = SMTPW_EV_REJECTED;
    ev->cmd = cmd;
    ev->code = code;
    ev->flags = 0;
    ev->arg = line;
    ev->params = smtpw__span(NULL, 0);
    ev->size = 0;
    if (code / 100 == 5 && code != 552 && s->max_errors && ++s->nerrors >= s->max_errors) {
        say(s, 421, "4.7.0", s->host, s->hostlen, LIT("Too many errors, closing connection"));
        s->st = ST_CLOSED;
        ev->type = SMTPW_EV_CLOSE;
        ev->code = 421;
    }
    return (int)ev->type;
}

static int pend(smtpw_server *s, smtpw_event *ev, uint32_t type, uint32_t cmd)
{
    s->pending = (uint8_t)type;
    s->pend_cmd = (uint8_t)cmd;
    ev->type = type;
    ev->cmd = cmd;
    return (int)type;
}

/* ------------------------------------------------------------------ */
/* Commands                                                            */

static const smtpw__refusal R_SEQUENCE = REFUSAL(503, "5.5.1", "Bad sequence of commands"),
                            R_LINE_LONG = REFUSAL(500, "5.5.2", "Line too long"),
                            R_LINE_BARE = REFUSAL(500, "5.5.2", "Bare CR or LF in command line"),
                            R_RCPT_UTF8 = REFUSAL(553, "5.6.7", "Non-ASCII address needs SMTPUTF8"),
                            R_RCPT_MANY = REFUSAL(452, "4.5.3", "Too many recipients");

static int dispatch(smtpw_server *s, const char *L, size_t n, size_t inlen, size_t *consumed,
                    smtpw_event *ev)
{
    const smtpw__refusal *no;
    smtpw__command c;
    struct cell rule;

    smtpw__command_split(L, n, s->g.flags, &c);
    if ((s->g.flags & SMTPW_SERVER_REFUSE) && c.cmd != SMTPW_CMD_QUIT) /* 3.1 */
        return reject(s, ev, c.cmd, &R_SEQUENCE, smtpw__span(c.line, c.len));
    rule.next = 0;
    rule.refuse = 0;
    if (c.cmd <= SMTPW_CMD_STARTTLS)
        rule = machine[s->st][c.cmd];
    if (SMTPW_UNLIKELY(rule.refuse)) {
        /* Refused here; a late refusal comes after the grammar's own. */
        no = NULL;
        if (rule.refuse & R_LATE)
            no = smtpw__command_parse(&c, &s->g, ev);
        if (no == NULL)
            no = &state_refusal[rule.refuse & ~R_LATE];
        return reject(s, ev, c.cmd, no, smtpw__span(c.line, c.len));
    }
    no = smtpw__command_parse(&c, &s->g, ev);
    if (no == NULL && c.cmd == SMTPW_CMD_RCPT) { /* the transaction's own limits */
        if ((ev->path.flags & SMTPW_PATH_UTF8) && !(s->mailflags & SMTPW_EVF_SMTPUTF8))
            no = &R_RCPT_UTF8; /* RFC 6531 3.7.1 */
        else if (s->max_rcpt && s->nrcpt >= s->max_rcpt) /* 4.5.3.1.10 */
            no = &R_RCPT_MANY;
    }
    if (no)
        return reject(s, ev, c.cmd, no, smtpw__span(c.line, c.len));

    s->pend_next = rule.next; /* the table's transition if the answer is positive */
    switch (c.cmd) {
    case SMTPW_CMD_HELO:
    case SMTPW_CMD_EHLO:
        reset_transaction(s); /* 4.1.4: as if RSET */
        return pend(s, ev, SMTPW_EV_HELO, c.cmd);
    case SMTPW_CMD_MAIL:
        s->pend_flags = (uint8_t)ev->flags;
        return pend(s, ev, SMTPW_EV_MAIL, c.cmd);
    case SMTPW_CMD_RCPT:
        return pend(s, ev, SMTPW_EV_RCPT, c.cmd);
    case SMTPW_CMD_DATA:
        return pend(s, ev, SMTPW_EV_DATA, c.cmd);
    case SMTPW_CMD_VRFY:
        return pend(s, ev, SMTPW_EV_VRFY, c.cmd);
    case SMTPW_CMD_EXPN:
        return pend(s, ev, SMTPW_EV_EXPN, c.cmd);
    case SMTPW_CMD_HELP:
        return pend(s, ev, SMTPW_EV_HELP, c.cmd);
    case SMTPW_CMD_RSET:
        reset_transaction(s);
        say_ok(s);
        ev->type = SMTPW_EV_RSET;
        ev->cmd = c.cmd;
        return SMTPW_EV_RSET;
    case SMTPW_CMD_QUIT:
        say(s, 221, "2.0.0", s->host, s->hostlen, LIT("Service closing transmission channel"));
        s->st = ST_CLOSED;
        ev->type = SMTPW_EV_QUIT;
        ev->cmd = c.cmd;
        return SMTPW_EV_QUIT;
    case SMTPW_CMD_STARTTLS:
        say(s, 220, "2.0.0", LIT("Ready to start TLS"), NULL, 0);
        /* RFC 3207 4.2: whatever came after STARTTLS in the clear is dropped,
         * never read as commands under TLS (CVE-2011-0411). */
        *consumed = inlen;
        s->st = ST_TLS;
        return GO_ON;
    default: /* NOOP, 4.1.1.9: any argument is ignored; no event */
        say_ok(s);
        return GO_ON;
    }
}

static int command(smtpw_server *s, const uint8_t *in, size_t inlen, size_t *consumed,
                   smtpw_event *ev)
{
    size_t n;
    int r;
    /* Pull model: read a command only when its largest reply fits; with
     * input pending the driver drains and comes back without reading. */
    if (q_free(s) < s->reserve) {
        s->starved = inlen == 0;
        return SMTPW_EV_NONE;
    }
    r = smtpw__line_next(&s->line, in, inlen, s->max_cmd, s->bare_cmd, consumed, &n);
    switch (r) {
    case SMTPW__LINE_OK:
        return dispatch(s, (const char *)in, n, inlen, consumed, ev);
    case SMTPW__LINE_TOOLONG: /* 4.5.3.1.10 */
        return reject(s, ev, SMTPW_CMD_NONE, &R_LINE_LONG, smtpw__span(NULL, 0));
    case SMTPW__LINE_BARE:
        /* 2.3.8: a bare CR or LF is never a line end, so the refusal is
         * one 500 for everything up to the CRLF; nothing after a bare LF
         * runs as a command of its own (line.c says why). */
        return reject(s, ev, SMTPW_CMD_NONE, &R_LINE_BARE, smtpw__span((const char *)in, n));
    default: /* an incomplete line (or the dropped piece of a long one) */
        s->starved = 1;
        return SMTPW_EV_NONE;
    }
}

/* ------------------------------------------------------------------ */
/* Message body                                                        */

static int data_abort(smtpw_server *s, smtpw_event *ev, uint32_t code)
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
        if (!room && smtpw__unstuff_may_end(&s->us, in, inlen)) {
            s->starved = 0; /* the reply to the end needs room first */
            return SMTPW_EV_NONE;
        }
        r = smtpw__unstuff_next(&s->us, in, inlen, consumed, &span);
        switch (r) {
        case SMTPW__UNSTUFF_DATA:
            if (s->g.max_size && span.len > s->g.max_size - s->size)
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
            s->starved = 1;
            return SMTPW_EV_NONE;
        }
    }

    /* SWALLOW: drop everything up to the end, answer for the core, and go
     * on with the commands after it. */
    for (;;) {
        if (!room && smtpw__unstuff_may_end(&s->us, in + total, inlen - total)) {
            *consumed = total;
            s->starved = 0;
            return SMTPW_EV_NONE;
        }
        r = smtpw__unstuff_next(&s->us, in + total, inlen - total, &n, &span);
        total += n;
        if (r == SMTPW__UNSTUFF_END) {
            abort_reply(s);
            reset_transaction(s);
            *consumed = total;
            return GO_ON;
        }
        if (r != SMTPW__UNSTUFF_DATA) {
            *consumed = total;
            s->starved = 1;
            return SMTPW_EV_NONE;
        }
    }
}

/* One step: an event (> 0), GO_ON after input that makes none, or NONE
 * when the core cannot go on (s->starved says whether for want of input),
 * or SMTPW_E_CLOSED. */
static int step(smtpw_server *s, const uint8_t *in, size_t inlen, size_t *consumed,
                smtpw_event *ev)
{
    switch (s->st) {
    case ST_CLOSED:
        return SMTPW_E_CLOSED;
    case ST_TLS:
        *consumed = inlen; /* RFC 3207 4.2: nothing from before TLS counts */
        s->starved = 0;
        if (s->tail == s->head && !s->tls_told) {
            s->tls_told = 1;
            ev->type = SMTPW_EV_STARTTLS;
            ev->cmd = SMTPW_CMD_STARTTLS;
            return SMTPW_EV_STARTTLS;
        }
        return SMTPW_EV_NONE;
    case ST_DATA:
    case ST_SWALLOW:
        if (s->pending) {
            s->starved = 0;
            return SMTPW_EV_NONE;
        }
        return body(s, in, inlen, consumed, ev);
    default:
        if (s->pending) {
            s->starved = 0;
            return SMTPW_EV_NONE;
        }
        return command(s, in, inlen, consumed, ev);
    }
}

/* recv() on an event of the library's size: the steps go on through input
 * that makes no event (api.md A), so NONE means the core cannot go on. */
static int run(smtpw_server *s, const uint8_t *in, size_t inlen, size_t *consumed,
               smtpw_event *ev)
{
    size_t total = 0, n;
    int r;
    ev_clear(ev);
    for (;;) {
        n = 0;
        r = step(s, in + total, inlen - total, &n, ev);
        total += n;
        if (r != GO_ON)
            break; /* (a step that goes on writes nothing into ev) */
    }
    *consumed = total;
    if (r > 0)
        s->starved = 0;
    if (r != SMTPW_EV_MAIL && r != SMTPW_EV_RCPT)
        memset(&ev->path, 0, sizeof ev->path);
    return r;
}

/* ------------------------------------------------------------------ */
/* API                                                                 */

/* sizeof, the config's versions and init()'s checks: config.c. */

int smtpw_server_init(void *mem, size_t memlen, const smtpw_server_config *cfg,
                      smtpw_server **out)
{
    smtpw_server *s = (smtpw_server *)mem;
    smtpw_server_config c;
    const char *host;
    size_t hostlen, caps;
    int rc;

    if (out)
        *out = NULL;
    if (out == NULL)
        return SMTPW_E_INVALID_ARG;
    rc = smtpw__server_config_use(mem, memlen, cfg, &c, &host, &hostlen);
    if (rc != SMTPW_OK)
        return rc;

    memset(s, 0, sizeof *s);
    s->host = host;
    s->hostlen = (uint16_t)hostlen;
    s->g.flags = c.flags;
    s->g.max_size = c.max_message_size;
    s->max_rcpt = c.max_recipients;
    s->max_cmd = c.max_command_line;
    s->max_text = c.max_text_line;
    s->max_errors = c.max_errors;
    s->bare_cmd = (uint8_t)c.bare_command;
    s->bare_body = (uint8_t)c.bare_body;
    s->st = ST_INIT;
    s->starved = 1;
    smtpw__line_reset(&s->line);
    smtpw__unstuff_init(&s->us, s->bare_body, s->max_text);

    /* The largest reply a command can need: a full EHLO greeting line and
     * the capability list (a refusal plus 421 is shorter). */
    caps = smtpw__reply_write_caps(s->out, OUTQ, caps_now(s), s->g.max_size);
    s->reserve = (uint16_t)(SMTPW_MAX_REPLY_LINE + caps);

    if (s->g.flags & SMTPW_SERVER_REFUSE) /* 3.1 */
        say(s, 554, NULL, host, hostlen, LIT("No SMTP service here"));
    else
        say(s, 220, NULL, host, hostlen, LIT("ESMTP smtpwire"));
    *out = s;
    return SMTPW_OK;
}

/* recv() into an event of another size than ours (api.md B): an older
 * caller gets its prefix and never a byte past it, a newer one zeroes in
 * the fields we do not know.  Out of line: the usual caller has our size. */
static SMTPW_NOINLINE int recv_other_size(smtpw_server *s, const uint8_t *in, size_t inlen,
                                          size_t *consumed, smtpw_event *ev, size_t evsize)
{
    smtpw_event local;
    int r;
    if (evsize < SMTPW_EVENT_MIN_SIZE)
        return SMTPW_E_INVALID_ARG;
    r = smtpw_server_recv(s, in, inlen, consumed, &local, sizeof local);
    if (evsize < sizeof local) {
        memcpy(ev, &local, evsize);
    } else {
        memcpy(ev, &local, sizeof local);
        memset((unsigned char *)ev + sizeof local, 0, evsize - sizeof local);
    }
    return r;
}

int smtpw_server_recv(smtpw_server *s, const uint8_t *in, size_t inlen, size_t *consumed,
                      smtpw_event *ev, size_t evsize)
{
    if (consumed)
        *consumed = 0;
    if (s == NULL || consumed == NULL || ev == NULL || (in == NULL && inlen))
        return SMTPW_E_INVALID_ARG;
    if (SMTPW_UNLIKELY(evsize != sizeof *ev))
        return recv_other_size(s, in, inlen, consumed, ev, evsize);
    if (in == NULL)
        in = (const uint8_t *)"";
    return run(s, in, inlen, consumed, ev);
}

/* Validate and render an application's reply to event ev into the queue
 * (not yet counted in tail); *w receives its length.  A 250 to HELO/EHLO
 * also opens the session.  Returns 0 or an SMTPW_E_*.  Out of line: the
 * default answers do not pay for its registers. */
static SMTPW_NOINLINE int render(smtpw_server *s, uint32_t ev, uint32_t code, const char *enh,
                                 size_t enhlen, const char *text, size_t textlen, size_t *w)
{
    smtpw__reply_to to;
    int ehlo = s->pend_cmd == SMTPW_CMD_EHLO, r;
    size_t cap = q_room(s, s->reserve);

    to.host = s->host;
    to.hostlen = s->hostlen;
    to.max_size = s->g.max_size;
    to.ev = ev;
    to.enh = s->enh;
    to.caps = ev == SMTPW_EV_HELO && ehlo ? caps_now(s) : 0;
    r = smtpw__replies_render(s->out + s->tail, cap, &to, code, enh, enhlen, text, textlen, w);
    if (r == SMTPW_OK && ev == SMTPW_EV_HELO && code / 100 == 2) {
        s->g.esmtp = (uint8_t)ehlo;
        s->enh = (uint8_t)(ehlo && !(s->g.flags & SMTPW_SERVER_NO_ENHANCED));
    }
    return r;
}

int smtpw_server_reply(smtpw_server *s, uint32_t code, const char *enh, size_t enhlen,
                       const char *text, size_t textlen)
{
    uint32_t ev, cls;
    const smtpw__reply_line *line;
    size_t w, cap;
    int r;

    if (s == NULL || (enh == NULL && enhlen) || (text == NULL && textlen))
        return SMTPW_E_INVALID_ARG;
    if (!s->pending)
        return SMTPW_E_STATE;
    ev = s->pending;
    if ((code | enhlen | textlen) == 0 && (line = smtpw__replies_line(ev, s->enh)) != NULL) {
        w = line->len;
        cap = q_room(s, s->reserve);
        if (cap < w)
            return SMTPW_E_TOOLONG;
        memcpy(s->out + s->tail, line->text, w);
        code = line->code;
    } else {
        if (code == 0)
            code = ev == SMTPW_EV_DATA ? 354
                 : ev == SMTPW_EV_VRFY ? 252
                 : ev == SMTPW_EV_EXPN ? 502
                 : ev == SMTPW_EV_HELP ? 214
                                       : 250;
        size_t rw = 0; /* its own variable: w stays in a register */
        r = render(s, ev, code, enh, enhlen, text, textlen, &rw);
        if (r != SMTPW_OK)
            return r;
        w = rw;
    }
    cls = code / 100;
    if (ev == SMTPW_EV_DATA_END) {
        if (cls == 2)
            s->messages++;
        s->st = ST_READY;
        reset_transaction(s);
    } else if (cls == 2 || code == 354) {
        /* the table's transition on a positive answer */
        s->st = s->pend_next;
        switch (ev) {
        case SMTPW_EV_MAIL:
            s->nrcpt = 0;
            s->mailflags = s->pend_flags;
            break;
        case SMTPW_EV_RCPT:
            s->nrcpt++;
            break;
        case SMTPW_EV_DATA:
            s->size = 0;
            smtpw__unstuff_init(&s->us, s->bare_body, s->max_text);
            break;
        default:
            break;
        }
    } else if (ev == SMTPW_EV_DATA) {
        reset_transaction(s); /* a refused message ends the transaction */
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

uint32_t smtpw_server_want(const smtpw_server *s)
{
    uint32_t w = 0;
    if (s == NULL)
        return 0;
    if (s->tail != s->head)
        w |= SMTPW_WANT_WRITE;
    switch (s->st) {
    case ST_CLOSED:
        return w | SMTPW_WANT_CLOSE;
    case ST_TLS:
        return s->tail == s->head ? w | SMTPW_WANT_TLS : w;
    default:
        if (s->pending)
            return w | SMTPW_WANT_REPLY;
        /* READ only when the last recv() used up what it was given
         * (api.md A): else input is pending and recv() goes first. */
        return s->starved ? w | SMTPW_WANT_READ : w;
    }
}

uint32_t smtpw_server_timeout(const smtpw_server *s)
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
    s->g.tls = 1;
    s->tls_told = 0;
    s->g.esmtp = 0;
    s->enh = 0;
    s->starved = 1; /* everything before was dropped: read the TLS stream */
    reset_transaction(s);
    smtpw__line_reset(&s->line);
    return SMTPW_OK;
}

uint32_t smtpw_server_messages(const smtpw_server *s)
{
    return s ? s->messages : 0;
}
