/*
 * smtpwire: the sans-I/O SMTP client core (RFC 5321, RFC 2920).
 *
 * The caller queues commands with smtpw_client_<verb>(); the core checks
 * every argument, renders the command into its output queue and records
 * which reply belongs to which command.  The caller sends
 * smtpw_client_output(), feeds the server's bytes to smtpw_client_recv()
 * and gets one event per reply line, each matched to its command.  The
 * message body is stuffed by smtpw_client_body_encode() into a buffer the
 * caller owns.  No I/O, no malloc, no clock, no globals.
 *
 * Copyright (c) 2026 The smtpwire authors.  SPDX-License-Identifier: MIT
 */
#ifndef SMTPWIRE_CLIENT_H
#define SMTPWIRE_CLIENT_H

#include "common.h"
#include "syntax.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct smtpw_client smtpw_client; /* opaque: smtpw_client_sizeof() bytes */

/* Upper bound of smtpw_client_sizeof() for this header version. */
#define SMTPW_CLIENT_SIZE_HINT 4096

#define SMTPW_CLIENT_CONFIG_VERSION 1u

/* smtpw_client_config.flags */
#define SMTPW_CLIENT_NO_PIPELINING 0x01u /* never pipeline, even when offered */
#define SMTPW_CLIENT_UTF8 0x02u          /* allow UTF-8 addresses (needs SMTPUTF8) */

typedef struct smtpw_client_config {
    uint32_t version;         /* set by smtpw_client_config_init() */
    uint32_t flags;           /* SMTPW_CLIENT_* */
    uint32_t max_reply_line;  /* octets incl. CRLF before SMTPW_E_PROTO (default 2048) */
    uint32_t max_reply_lines; /* lines in one reply before SMTPW_E_PROTO (default 100) */
} smtpw_client_config;

/* Extensions from the EHLO reply: smtpw_client_extensions() bits. */
#define SMTPW_EXT_PIPELINING 0x001u  /* RFC 2920 */
#define SMTPW_EXT_SIZE 0x002u        /* RFC 1870 */
#define SMTPW_EXT_8BITMIME 0x004u    /* RFC 6152 */
#define SMTPW_EXT_SMTPUTF8 0x008u    /* RFC 6531 */
#define SMTPW_EXT_CHUNKING 0x010u    /* RFC 3030 */
#define SMTPW_EXT_BINARYMIME 0x020u  /* RFC 3030 */
#define SMTPW_EXT_STARTTLS 0x040u    /* RFC 3207 */
#define SMTPW_EXT_AUTH 0x080u        /* RFC 4954 */
#define SMTPW_EXT_DSN 0x100u         /* RFC 3461 */
#define SMTPW_EXT_ENHANCEDSTATUSCODES 0x200u /* RFC 2034 */
#define SMTPW_EXT_REQUIRETLS 0x400u  /* RFC 8689 */

/* AUTH mechanisms: smtpw_client_auth_mechs() bits. */
#define SMTPW_AUTH_PLAIN 0x01u
#define SMTPW_AUTH_LOGIN 0x02u
#define SMTPW_AUTH_CRAM_MD5 0x04u
#define SMTPW_AUTH_XOAUTH2 0x08u
#define SMTPW_AUTH_SCRAM_SHA_256 0x10u
#define SMTPW_AUTH_OTHER 0x80u

/* smtpw_client_mail() flags */
#define SMTPW_MAIL_8BIT 0x01u     /* body has 8-bit bytes: BODY=8BITMIME, or SMTPW_E_8BIT */
#define SMTPW_MAIL_SMTPUTF8 0x02u /* send SMTPUTF8 (RFC 6531 3.4) */

/* Event types returned by smtpw_client_recv() */
#define SMTPW_CEV_NONE 0  /* need more bytes */
#define SMTPW_CEV_REPLY 1 /* one line of a reply; SMTPW_REPLY_LAST on its last line */

/* smtpw_reply.flags */
#define SMTPW_REPLY_LAST 0x01u     /* the final line: the reply is complete */
#define SMTPW_REPLY_ENHANCED 0x02u /* enh_* hold an RFC 3463 code */
#define SMTPW_REPLY_KEYWORD 0x04u  /* EHLO line: keyword/params hold an extension */

/**
 * One reply line.  Spans point into the `in` bytes given to
 * smtpw_client_recv() and stay valid until the caller reuses them.
 */
typedef struct smtpw_reply {
    int32_t type;       /* SMTPW_CEV_* */
    int32_t cmd;        /* SMTPW_CMD_* this reply answers (GREETING, BODY, ...) */
    uint32_t code;      /* 200..599 */
    uint32_t flags;     /* SMTPW_REPLY_* */
    uint32_t index;     /* RCPT: 0-based recipient number in this transaction */
    uint32_t enh_class, enh_subject, enh_detail;
    smtpw_span line;    /* the whole line without CRLF */
    smtpw_span text;    /* text after the code and the enhanced code */
    smtpw_span keyword; /* EHLO extension keyword (not on the first line) */
    smtpw_span params;  /* EHLO extension parameters */
} smtpw_reply;

SMTPW_API size_t smtpw_client_sizeof(void);
SMTPW_API void smtpw_client_config_init(smtpw_client_config *cfg);

/**
 * Start a client in mem (smtpw_client_sizeof() bytes, pointer-aligned); it
 * then awaits the server's greeting.  Returns 0, SMTPW_E_NOBUF,
 * SMTPW_E_VERSION or SMTPW_E_INVALID_ARG.
 */
SMTPW_API int smtpw_client_init(void *mem, size_t memlen, const smtpw_client_config *cfg,
                                smtpw_client **out);

/*
 * Command functions.  Each checks its arguments before producing a byte
 * and queues exactly one command line.  Common returns:
 *   0                    queued
 *   SMTPW_E_AGAIN        not now: replies are outstanding and RFC 2920
 *                        forbids more in this group (or no PIPELINING), or
 *                        the output queue is full: drain/recv and retry
 *   SMTPW_E_STATE        not valid now (e.g. RCPT before MAIL, before EHLO)
 *   SMTPW_E_INVALID_ARG  CR, LF, NUL or another control byte, bad grammar
 *   SMTPW_E_SYNTAX, SMTPW_E_TOOLONG  from address rendering
 *   SMTPW_E_CLOSED       after QUIT or a 421
 */
SMTPW_API int smtpw_client_ehlo(smtpw_client *c, const char *domain, size_t len);
SMTPW_API int smtpw_client_helo(smtpw_client *c, const char *domain, size_t len);
/** MAIL FROM.  addr: the sender unquoted ("a b"@x is given as a b@x); len 0
 *  for the null path.  size: message octets (0 unknown), sent as SIZE= when
 *  offered; SMTPW_E_SIZE when over the advertised limit.  flags:
 *  SMTPW_MAIL_*; SMTPW_E_8BIT when SMTPW_MAIL_8BIT but no 8BITMIME.
 *  params: extra "KEY=VALUE ..." text, checked, may be NULL. */
SMTPW_API int smtpw_client_mail(smtpw_client *c, const char *addr, size_t len, uint64_t size,
                                unsigned flags, const char *params, size_t plen);
/** RCPT TO; the reply's index is this recipient's number in the transaction. */
SMTPW_API int smtpw_client_rcpt(smtpw_client *c, const char *addr, size_t len,
                                const char *params, size_t plen);
SMTPW_API int smtpw_client_data(smtpw_client *c);
SMTPW_API int smtpw_client_rset(smtpw_client *c);
SMTPW_API int smtpw_client_noop(smtpw_client *c);
SMTPW_API int smtpw_client_quit(smtpw_client *c);
SMTPW_API int smtpw_client_starttls(smtpw_client *c);
SMTPW_API int smtpw_client_vrfy(smtpw_client *c, const char *arg, size_t len);
SMTPW_API int smtpw_client_expn(smtpw_client *c, const char *arg, size_t len);
SMTPW_API int smtpw_client_help(smtpw_client *c, const char *arg, size_t len);

/**
 * Stuff message bytes for DATA (RFC 5321 4.5.2) into out: dots doubled at
 * line starts, bare CR and bare LF written as CRLF.  Chunks may split
 * anywhere (even between CR and LF).  Only after DATA got 354 and the
 * output queue is drained.  Sets *consumed and *written; consumes as much
 * as fits.  Returns 0, SMTPW_E_STATE, SMTPW_E_8BIT (an 8-bit byte but
 * BODY=8BITMIME was not sent; nothing of it written).
 */
SMTPW_API int smtpw_client_body_encode(smtpw_client *c, const uint8_t *in, size_t inlen,
                                       size_t *consumed, uint8_t *out, size_t outcap,
                                       size_t *written);

/**
 * Finish the body: a CRLF when the last line had none, then ".\r\n".
 * Needs outcap >= 5.  Afterwards the next reply answers SMTPW_CMD_BODY.
 * Returns 0, SMTPW_E_STATE or SMTPW_E_NOBUF.
 */
SMTPW_API int smtpw_client_body_end(smtpw_client *c, uint8_t *out, size_t outcap,
                                    size_t *written);

/**
 * Feed server bytes; at most one reply line is consumed per call.
 * Returns SMTPW_CEV_REPLY with *ev filled, SMTPW_CEV_NONE when a whole line
 * is not there yet (nothing consumed), or SMTPW_E_PROTO (fatal: malformed
 * reply, mixed codes, over-long line or reply, a reply nobody asked for),
 * SMTPW_E_CLOSED after the session ended (221 to QUIT, or any 421).
 */
SMTPW_API int smtpw_client_recv(smtpw_client *c, const uint8_t *in, size_t inlen,
                                size_t *consumed, smtpw_reply *ev);

SMTPW_API const uint8_t *smtpw_client_output(const smtpw_client *c, size_t *len);
SMTPW_API void smtpw_client_output_ack(smtpw_client *c, size_t n);
SMTPW_API unsigned smtpw_client_want(const smtpw_client *c);
/** Which RFC 5321 4.5.3.2 timeout applies to the oldest outstanding reply. */
SMTPW_API int smtpw_client_timeout(const smtpw_client *c);
/** After the TLS handshake following STARTTLS: forget the capabilities;
 *  the client must EHLO again (RFC 3207 4.2). */
SMTPW_API int smtpw_client_tls_started(smtpw_client *c);

/** SMTPW_EXT_* bits from the last EHLO reply (0 before, or after HELO). */
SMTPW_API uint32_t smtpw_client_extensions(const smtpw_client *c);
/** The SIZE limit advertised, 0 when none. */
SMTPW_API uint64_t smtpw_client_size_limit(const smtpw_client *c);
/** SMTPW_AUTH_* bits advertised. */
SMTPW_API uint32_t smtpw_client_auth_mechs(const smtpw_client *c);
/** Recipients accepted (2xx) in the current transaction so far. */
SMTPW_API uint32_t smtpw_client_accepted(const smtpw_client *c);
/** Commands sent or queued whose replies have not arrived. */
SMTPW_API uint32_t smtpw_client_pending(const smtpw_client *c);

#ifdef __cplusplus
}
#endif
#endif /* SMTPWIRE_CLIENT_H */
