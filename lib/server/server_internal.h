/* The server core's state, private to lib/server/: the state machine in
 * server.c reads and writes it, config.c checks what init() may accept.
 * SPDX-License-Identifier: MIT */
#ifndef SMTPW_SERVER_INTERNAL_H
#define SMTPW_SERVER_INTERNAL_H

#include "internal.h"

#include "server/command.h"
#include "server/line.h"
#include "server/unstuff.h"
#include "smtpwire/server.h"

/* Output queue: room for the largest reply (a 512-octet EHLO line plus the
 * capability list) and a backlog of pipelined replies. */
#define SMTPW__SERVER_OUTQ ((size_t)896)

struct smtpw_server {
    const char *host; /* cfg->hostname, referenced */
    smtpw__grammar g; /* flags, SIZE limit, EHLO session, TLS: what the grammar reads */
    uint64_t size;    /* DATA: octets delivered so far */
    uint32_t max_rcpt, max_cmd, max_text, max_errors;
    uint32_t nrcpt, nerrors, messages;
    smtpw__line line;
    smtpw__unstuff us;
    uint16_t hostlen, head, tail, reserve, abort_code;
    uint8_t st, pending, pend_cmd, pend_flags, pend_next;
    uint8_t bare_cmd, bare_body;
    uint8_t enh;      /* enhanced status codes on (EHLO advertised them) */
    uint8_t tls_told; /* SMTPW_EV_STARTTLS was returned */
    uint8_t mailflags; /* SMTPW_EVF_* of the accepted MAIL */
    uint8_t shut;      /* a 421 waits for room in the queue */
    uint8_t starved;   /* the last recv() used up its input: want() READ (api.md A) */
    uint8_t out[SMTPW__SERVER_OUTQ];
};

/* init()'s checks (config.c): the memory (mem, memlen), then *use = the
 * defaults overlaid with what cfg's version has, and *host, *hostlen the
 * greeting name ("localhost" for NULL/0).  0 or the error init() returns;
 * nothing is written to mem. */
int smtpw__server_config_use(const void *mem, size_t memlen, const smtpw_server_config *cfg,
                             smtpw_server_config *use, const char **host, size_t *hostlen);

#endif
