/* The client core's state, private to lib/client/ (the state machine in
 * client.c; config.c, body.c, query.c around it) and its tests.
 * SPDX-License-Identifier: MIT */
#ifndef SMTPW_CLIENT_INTERNAL_H
#define SMTPW_CLIENT_INTERNAL_H

#include "internal.h"

#include "client/caps.h"
#include "smtpwire/client.h"
#include "client/stuff.h"

/* Replies awaited at once: MAIL, up to 126 RCPT and DATA in one flight
 * (RFC 2920); more returns SMTPW_E_AGAIN. */
#define SMTPW__CLIENT_RING 128u
/* Queued command bytes; the longest command line is 512 (4.5.3.1.4). */
#define SMTPW__CLIENT_OUTQ 1536u

/* One command whose reply is awaited. */
struct smtpw__pending {
    uint32_t end;   /* output stream offset just past its line: the reply
                     * cannot come before those bytes were sent */
    uint32_t index; /* RCPT: recipient number in its transaction */
    uint16_t gen;   /* transaction generation it belongs to */
    uint8_t cmd;    /* SMTPW_CMD_* */
    uint8_t pad;
};

struct smtpw_client {
    smtpw_client_config cfg;
    struct smtpw__caps caps;
    struct smtpw__stuffer body;
    int err;                 /* sticky fatal error, 0 when none */
    uint8_t state;           /* CS_*: the table at the top of client.c */
    uint8_t txn_8bit;        /* BODY=8BITMIME sent in this transaction */
    uint8_t txn_utf8;        /* SMTPUTF8 sent in this transaction */
    uint8_t cur_unsolicited; /* the reply in progress is an uninvited 421 */
    uint8_t starved;         /* the last recv() used up its input (api.md A) */
    uint16_t gen;          /* current transaction generation */
    uint32_t rcpt_n;       /* RCPTs queued in this transaction */
    uint32_t rcpt_pending; /* of those, replies not yet in */
    uint32_t accepted;     /* of those, 2xx */
    /* reply reader */
    uint32_t cur_code;  /* code of the reply in progress, 0 between replies */
    uint32_t cur_lines; /* lines of it seen */
    /* pending ring */
    uint32_t ring_head, ring_count;
    struct smtpw__pending ring[SMTPW__CLIENT_RING];
    /* output queue: bytes [out_off, out_off + out_len) of outq */
    uint32_t out_off, out_len;
    uint32_t queued_total, acked_total; /* stream offsets, wrap modulo 2^32 */
    uint8_t outq[SMTPW__CLIENT_OUTQ];
};

/* 0 when client.c's state table agrees with its move rows (unit test). */
int smtpw__client_table_check(void);

/* config.c: check init()'s memory and config, and fill *use with the
 * config to run (defaults for the fields cfg's version lacks).  0, or
 * SMTPW_E_INVALID_ARG, SMTPW_E_NOBUF, SMTPW_E_VERSION as init() says. */
int smtpw__client_config_use(const void *mem, size_t memlen, const smtpw_client_config *cfg,
                             smtpw_client_config *use);

/* client.c, for body.c: 0 when the body is due (a 354 came), else the
 * sticky error, SMTPW_E_CLOSED or SMTPW_E_STATE. */
int smtpw__client_body_due(const smtpw_client *c);
/* The same test inline for body.c's hot path (a call there cost ~30
 * instructions per body_encode() under callgrind): the one state number
 * known outside client.c, which checks it against its CS_BODY. */
#define SMTPW__CLIENT_STATE_BODY 7u
static inline int smtpw__client_in_body(const smtpw_client *c)
{
    return c->err == 0 && c->state == SMTPW__CLIENT_STATE_BODY;
}
/* client.c, for body.c: the final dot was written; its reply is awaited. */
void smtpw__client_body_ended(smtpw_client *c);

#endif
