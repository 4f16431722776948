/*
 * smtpwire: the sans-I/O SMTP server core (RFC 5321).
 *
 * The caller owns every byte: it feeds what the peer sent to
 * smtpw_server_recv(), gets one event at a time back, answers decision
 * events with smtpw_server_reply(), and drains reply bytes from
 * smtpw_server_output().  The core never reads, writes, allocates, looks at
 * a clock or touches a global; its state lives in smtpw_server_sizeof()
 * bytes of caller memory.
 *
 * The driver loop (the same text as examples/embed-static.c and README.md,
 * which compile it).  recv() goes on by itself through input that makes no
 * event (NOOP, an accepted STARTTLS, a refused message's body) and returns
 * SMTPW_EV_NONE only when it cannot go on; then want() says why:
 *   SMTPW_WANT_READ   every complete line given was used: read more bytes
 *                     and present them behind the unconsumed rest (which is
 *                     an incomplete line, if anything);
 *   SMTPW_WANT_WRITE  without READ: the output queue is full and input is
 *                     pending: drain, then recv() again WITHOUT reading;
 *   SMTPW_WANT_REPLY  answer the last event with smtpw_server_reply();
 *   SMTPW_WANT_CLOSE  close once the output is drained.
 * WRITE and READ together: drain, then read.
 *
 *   for (;;) {
 *       int t;
 *       while ((t = smtpw_server_recv(s, buf + off, len - off, &used, &ev, sizeof ev)) > 0) {
 *           off += used;
 *           handle(&ev);                     // may call smtpw_server_reply()
 *       }
 *       if (t < 0) break;                    // SMTPW_E_CLOSED: after QUIT or 421
 *       off += used;
 *       drain smtpw_server_output() / smtpw_server_output_ack();
 *       w = smtpw_server_want(s);
 *       if (w & SMTPW_WANT_CLOSE) break;
 *       if (!(w & SMTPW_WANT_READ)) continue; // input still pending: run it first
 *       memmove(buf, buf + off, len - off); len -= off; off = 0;
 *       read more into buf + len;
 *   }
 *
 * Memory: the state holds no pointer into itself, so it may be moved with
 * memcpy between calls (pointers from smtpw_server_output() are then
 * stale).  The only memory it references is cfg->hostname.
 *
 * Copyright (c) 2026 The smtpwire authors.  SPDX-License-Identifier: MIT
 */
#ifndef SMTPWIRE_SERVER_H
#define SMTPWIRE_SERVER_H

#include "common.h"
#include "syntax.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct smtpw_server smtpw_server; /* opaque: smtpw_server_sizeof() bytes */

/* Upper bound of smtpw_server_sizeof() for this header version, for static
 * storage in appliances.  smtpw_server_init() still checks the real size.
 * The output queue is included: the core needs no other memory. */
#define SMTPW_SERVER_SIZE_HINT 1024

/* The newest smtpw_server_config version this header knows. */
#define SMTPW_SERVER_CONFIG_VERSION 1

/* smtpw_server_config.flags */
#define SMTPW_SERVER_LENIENT 0x01u        /* accept common client deviations (README "Lenient profile") */
#define SMTPW_SERVER_REFUSE 0x02u         /* greet 554 and answer 503 to all but QUIT (RFC 5321 3.1) */
#define SMTPW_SERVER_NO_PIPELINING 0x04u  /* do not advertise PIPELINING (RFC 2920) */
#define SMTPW_SERVER_NO_8BITMIME 0x08u    /* do not advertise 8BITMIME (RFC 6152) */
#define SMTPW_SERVER_NO_ENHANCED 0x10u    /* do not advertise ENHANCEDSTATUSCODES (RFC 2034) */
#define SMTPW_SERVER_STARTTLS 0x20u       /* advertise and accept STARTTLS (RFC 3207) */
#define SMTPW_SERVER_SMTPUTF8 0x40u       /* advertise SMTPUTF8, accept UTF-8 paths (RFC 6531) */

/**
 * Server configuration, version 1.  Fill with smtpw_server_config_init(),
 * then change fields.  New fields are only ever appended, under a new
 * version; `version` tells the library which ones the caller has.
 */
typedef struct smtpw_server_config {
    uint32_t version;          /* set by smtpw_server_config_init() */
    uint32_t flags;            /* SMTPW_SERVER_* (default 0: strict profile) */
    const char *hostname;      /* NOT copied: must outlive the server; default NULL */
    size_t hostname_len;       /* with hostname NULL, 0: "localhost" (default) */
    uint64_t max_message_size; /* SIZE limit in octets, 0 = none (default 10485760) */
    uint32_t max_recipients;   /* per message, 452 past it, 0 = none (default 100, RFC 5321 4.5.3.1.8) */
    uint32_t max_command_line; /* octets incl. CRLF, >= 512 (default 512, 4.5.3.1.4) */
    uint32_t max_text_line;    /* body line octets incl. CRLF, 0 = unlimited or >= 3 (default 0) */
    uint32_t max_errors;       /* refused commands before 421 and close, 0 = none (default 10) */
    uint32_t bare_command;     /* SMTPW_BARE_* for command lines (default REJECT) */
    uint32_t bare_body;        /* SMTPW_BARE_* for message bodies (default REJECT) */
} smtpw_server_config;

/*
 * Bare CR / bare LF policies (RFC 5321 2.3.8), in detail:
 *   command lines: only CRLF ends one, under every policy.  REJECT and
 *     NORMALIZE answer one 500 5.5.2 to a line holding a bare CR or LF,
 *     for everything up to its CRLF; KEEP keeps the byte in the line and
 *     the grammar judges the line whole.  A line longer than
 *     max_command_line, bare bytes counted, is dropped up to its CRLF.
 *   bodies: REJECT refuses the message (DATA_ABORT, then 550 5.6.0 after the
 *     end); NORMALIZE passes each bare CR or LF as CRLF; KEEP passes it as is.
 *   Under every policy only CRLF "." CRLF ends DATA, and only a real CRLF
 *   starts a line (for the end and for dot-unstuffing): a bare CR or LF can
 *   never end a message or turn body bytes into commands (SMTP smuggling).
 *
 * Refusals of a message body by the core (DATA_ABORT code, sent after the
 * end of data): 552 5.3.4 past max_message_size, 500 5.5.2 for a line over
 * max_text_line, 550 5.6.0 for a bare CR or LF under REJECT.
 */

/* Event types (SMTPW_EV_*), flags (SMTPW_EVF_*) and the event struct
 * smtpw_event are in common.h, shared with the client.  The server sets
 * type, cmd, code, flags, arg, params, size and, for MAIL and RCPT, path;
 * its events leave line, keyword, index and enh_* zero. */

/** Bytes of caller memory one server needs; fixed for a library build. */
SMTPW_API size_t smtpw_server_sizeof(void);

/**
 * Fill cfg with the defaults of config version `version` (1 to
 * SMTPW_SERVER_CONFIG_VERSION; pass that constant) and set cfg->version.
 * Writes exactly that version's fields, never more bytes.  Returns 0,
 * SMTPW_E_INVALID_ARG for a NULL cfg, SMTPW_E_VERSION for a version this
 * library does not know (nothing written).
 */
SMTPW_API int smtpw_server_config_init(smtpw_server_config *cfg, uint32_t version);

/**
 * Start a server in mem (at least smtpw_server_sizeof() bytes, aligned to
 * SMTPW_STATE_ALIGN bytes) and queue its greeting: 220, or 554 with SMTPW_SERVER_REFUSE.
 * cfg NULL means the defaults; else cfg->version may be any version from 1
 * to SMTPW_SERVER_CONFIG_VERSION: only that version's fields are read, the
 * rest get defaults.  The config is copied except for the bytes of
 * cfg->hostname, which are referenced and must outlive the server (the
 * state stays small: no 255-byte copy per session).  *out receives the
 * handle (== mem).  No teardown is needed: drop the memory.
 * Returns 0; SMTPW_E_NOBUF if memlen is too small; SMTPW_E_VERSION for an
 * unknown cfg->version; SMTPW_E_INVALID_ARG for a NULL mem or out, mem
 * not aligned to SMTPW_STATE_ALIGN, or a bad field: hostname not a domain or address
 * literal, a hostname with hostname_len 0 (or NULL with a length),
 * unknown flags, max_command_line < 512, unknown bare policy.
 */
SMTPW_API int smtpw_server_init(void *mem, size_t memlen, const smtpw_server_config *cfg,
                                smtpw_server **out);

/**
 * Feed peer bytes in[0, inlen).  Runs commands until one makes an event,
 * consuming every command that makes none (NOOP, an accepted STARTTLS, the
 * body of a message the core refused), and sets *consumed to the bytes
 * used (also when it returns NONE).  The caller keeps the unconsumed bytes
 * and presents them again, followed by new ones.  A command line is
 * consumed only whole, so the caller's buffer must hold max_command_line
 * bytes; a longer line is consumed in pieces and answered 500.
 *
 * Returns the event type (> 0) with *ev filled; SMTPW_EV_NONE (0) when the
 * core cannot go on with these bytes: input used up (want() has READ),
 * output queue full (WRITE without READ), a reply owed (REPLY), TLS to
 * start, closing; SMTPW_E_CLOSED after QUIT/421 (nothing after QUIT is
 * executed); SMTPW_E_INVALID_ARG for a NULL s, consumed or ev, a NULL in
 * with inlen > 0, or evsize < SMTPW_EVENT_MIN_SIZE (nothing consumed).
 *
 * evsize is sizeof the caller's smtpw_event: the library writes no byte
 * past it, and zero-fills the caller's struct past the library's own size.
 *
 * After an accepted STARTTLS all of `in` is consumed and dropped (RFC 3207
 * 4.2), and so is everything fed until smtpw_server_tls_started().  Peer
 * errors are not API errors: they are answered on the wire and reported as
 * SMTPW_EV_REJECTED.
 */
SMTPW_API int smtpw_server_recv(smtpw_server *s, const uint8_t *in, size_t inlen,
                                size_t *consumed, smtpw_event *ev, size_t evsize);

/**
 * Answer the pending decision event (only when want() has SMTPW_WANT_REPLY).
 *
 * code: 0 for the default positive answer (250; 354 for DATA), else a
 *   reply code valid for the event: 2xx/4xx/5xx, and 354 only for DATA.
 * enh, enhlen: enhanced status code "x.y.z" (RFC 3463, class = the code's
 *   first digit), not NUL-terminated; NULL/0 for the default matching the
 *   code and command; used only when ENHANCEDSTATUSCODES is on.
 * text, textlen: reply text; NULL (or textlen 0) for a default text.  Control
 *   bytes other than HT (CR, LF, NUL, ESC, DEL...) are refused (RFC 5321
 *   4.2 textstring), so application text cannot inject a reply.
 *   A 250 to HELO/EHLO puts the text after the hostname.
 * Defaults with code 0: 250 (2.1.0 MAIL, 2.1.5 RCPT, 2.0.0 DATA_END), 354
 * for DATA, 252 2.5.2 for VRFY, 502 5.5.1 for EXPN, 214 for HELP.
 * A 421 ends the session like smtpw_server_shutdown().
 * A 250 to EHLO is sent as the multi-line capability list (RFC 5321 4.1.1.1).
 * A refused MAIL/RCPT/DATA leaves the transaction as the RFC says; a
 * refused message (DATA_END answered 4xx/5xx) resets the transaction.
 *
 * Returns 0; SMTPW_E_STATE when no reply is pending; SMTPW_E_INVALID_ARG
 * for a NULL s, a NULL pointer with a length, or a code, enh or text that
 * is not allowed; SMTPW_E_TOOLONG when the line would exceed 512 octets
 * (RFC 5321 4.5.3.1.5).
 */
SMTPW_API int smtpw_server_reply(smtpw_server *s, uint32_t code, const char *enh, size_t enhlen,
                                 const char *text, size_t textlen);

/**
 * Reply bytes waiting to be sent; *len receives their number (0: none, the
 * pointer is still not NULL).  The pointer is into the server's memory and
 * valid until the next call that changes (or moves) the server.  NULL when
 * s or len is NULL.
 */
SMTPW_API const uint8_t *smtpw_server_output(const smtpw_server *s, size_t *len);

/** Mark n bytes of smtpw_server_output() as sent; n is clamped to what is queued. */
SMTPW_API void smtpw_server_output_ack(smtpw_server *s, size_t n);

/** What the core needs next: SMTPW_WANT_* bits (see the loop above); 0 for NULL. */
SMTPW_API uint32_t smtpw_server_want(const smtpw_server *s);

/** Which timeout applies now: SMTPW_TIMEOUT_* (SERVER while awaiting the
 *  peer, NONE while the application owes a reply). */
SMTPW_API uint32_t smtpw_server_timeout(const smtpw_server *s);

/**
 * End the session at once: queue "421 <hostname> Service not available,
 * closing transmission channel" (RFC 5321 3.8) and close once drained.  Any
 * message in progress is dropped.  Use on shutdown or on a timeout.
 * Returns 0 or SMTPW_E_CLOSED when already closing.
 */
SMTPW_API int smtpw_server_shutdown(smtpw_server *s);

/**
 * The TLS handshake after STARTTLS succeeded: the session starts over as
 * RFC 3207 4.2 requires (the client must EHLO again; STARTTLS is no longer
 * offered).  Returns 0 or SMTPW_E_STATE when no STARTTLS was pending.
 */
SMTPW_API int smtpw_server_tls_started(smtpw_server *s);

/** The number of messages this session has completed (DATA_END answered 250). */
SMTPW_API uint32_t smtpw_server_messages(const smtpw_server *s);

#ifdef __cplusplus
}
#endif
#endif /* SMTPWIRE_SERVER_H */
