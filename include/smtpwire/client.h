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
 * The driver loop (api.md A; tests/unit/test_client_driver.c compiles
 * this text): recv() hands back one event per reply line and returns
 * SMTPW_EV_NONE only when no whole reply line is left in what it was given;
 * want() then says SMTPW_WANT_READ exactly when replies are outstanding
 * (and the input given was used up).
 *
 *   for (;;) {
 *       int t;
 *       while ((t = smtpw_client_recv(c, buf + off, len - off, &used, &ev, sizeof ev)) > 0) {
 *           off += used;
 *           handle(&ev);                 // spans point into buf; on SMTPW_EVF_LAST
 *       }                                // the reply to ev.cmd is complete
 *       if (t < 0) break;                // SMTPW_E_CLOSED: after QUIT's reply or a 421
 *       queue(c);                        // smtpw_client_mail() ... until SMTPW_E_AGAIN
 *       drain smtpw_client_output() / smtpw_client_output_ack();
 *       w = smtpw_client_want(c);
 *       if (w & SMTPW_WANT_CLOSE) break;
 *       if (w & SMTPW_WANT_TLS) { handshake; smtpw_client_tls_started(c); continue; }
 *       if (w & SMTPW_WANT_BODY) { send smtpw_client_body_encode() ... _body_end(); continue; }
 *       if (!(w & SMTPW_WANT_READ)) continue; // no reply awaited: queue() must send more
 *       memmove(buf, buf + off, len - off); len -= off; off = 0;
 *       read more into buf + len;
 *   }
 *
 * Reply matching.  Every command queued waits in a fixed ring (128 entries)
 * for its reply; the server's first reply is the answer to SMTPW_CMD_GREETING
 * and the reply after the body's final dot answers SMTPW_CMD_BODY.  A reply
 * is matched only to a command whose bytes were acknowledged with
 * smtpw_client_output_ack(): a reply before that, a reply when nothing is
 * outstanding, or more replies than commands, is SMTPW_E_PROTO.  A 421 is
 * accepted at any point, even uninvited (ev.cmd SMTPW_CMD_NONE then): its
 * lines are delivered, then the session is over (SMTPW_E_CLOSED,
 * want() SMTPW_WANT_CLOSE), RFC 5321 3.8.
 *
 * Pipelining (RFC 2920).  With PIPELINING offered (and not disabled by
 * SMTPW_CLIENT_NO_PIPELINING), MAIL, RCPT and RSET may be queued while
 * replies are outstanding; any command may follow them.  EHLO, HELO,
 * DATA, NOOP, QUIT, VRFY, EXPN, HELP and STARTTLS end a group (RFC 2920
 * 3.1, RFC 3207 4.2): after one of them every command returns
 * SMTPW_E_AGAIN until all replies are in.  Without PIPELINING one command
 * at a time.  A message body (after 354) may start the next group, so with
 * PIPELINING a MAIL or QUIT may follow body_end() at once.
 *
 * HELO fallback.  The core never retries by itself: when EHLO is refused
 * with 500 or 502 (RFC 5321 3.2) the caller calls smtpw_client_helo().
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

/* Upper bound of smtpw_client_sizeof() for this header version, for static
 * storage (the library checks it at compile time); smtpw_client_init()
 * still checks the real size. */
#define SMTPW_CLIENT_SIZE_HINT 4096

/* The newest smtpw_client_config version this header knows. */
#define SMTPW_CLIENT_CONFIG_VERSION 1

/* smtpw_client_config.flags */
#define SMTPW_CLIENT_NO_PIPELINING 0x01u /* never pipeline, even when offered */
#define SMTPW_CLIENT_SMTPUTF8 0x02u      /* declare SMTPUTF8 on every MAIL when offered */

/* Version 1.  Fields are only appended, each in a new version. */
typedef struct smtpw_client_config {
    uint32_t version;         /* 1; set by smtpw_client_config_init() */
    uint32_t flags;           /* SMTPW_CLIENT_* */
    uint32_t max_reply_line;  /* octets incl. CRLF before SMTPW_E_PROTO (default 2048, >= 512) */
    uint32_t max_reply_lines; /* lines in one reply; one more is SMTPW_E_PROTO (default 100, >= 1) */
} smtpw_client_config;


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

/*
 * Reply lines (RFC 5321 4.2).  Each line ends in CRLF; a bare LF is
 * SMTPW_E_PROTO (strict: no guessing about where a reply ends).  The code
 * must match Reply-code = %x32-35 %x30-35 %x30-39, be followed by "-"
 * (more lines follow), SP or the end of the line (a bare "250" is a valid
 * last line with empty text), and be the same on every line of a reply.
 * Text may hold HT, printable ASCII and 8-bit bytes, no other control byte.
 *
 * Enhanced status codes (RFC 3463): split off whenever the text starts
 * with a valid "class.subject.detail" whose class equals the reply's first
 * digit, followed by SP or the end of the line, whether or not
 * ENHANCEDSTATUSCODES was advertised (the greeting comes before EHLO, and
 * many servers send them anyway).  Never on EHLO extension lines.
 *
 * EHLO: on each line after the first of a 2xx EHLO reply that is an
 * ehlo-line (keyword [SP params], or the old "AUTH=MECH ..."),
 * SMTPW_EVF_KEYWORD is set and keyword/params point at it, for known and
 * unknown keywords alike; known ones (case-insensitive) also update
 * smtpw_client_extensions(), _size_limit() and _auth_mechs().
 */

/*
 * Events: smtpw_client_recv() fills an smtpw_event (common.h) for each
 * reply line: type SMTPW_EV_REPLY; cmd the SMTPW_CMD_* it answers
 * (GREETING, BODY, ...; SMTPW_CMD_NONE for an uninvited 421); code
 * 200..559; flags SMTPW_EVF_LAST (the final line), SMTPW_EVF_ENHANCED
 * (enh_class/_subject/_detail hold an RFC 3463 code) and SMTPW_EVF_KEYWORD
 * (an EHLO line: keyword and params); arg the text after the code and the
 * enhanced code; line the whole line without CRLF; index a RCPT's 0-based
 * number in its transaction.  Spans point into the `in` bytes and stay
 * valid until the caller reuses them.  Every other field (the server's
 * size and path) is 0 / {NULL, 0}.
 */

/** Bytes of caller memory one client needs; fixed for a library build and
 *  at most SMTPW_CLIENT_SIZE_HINT. */
SMTPW_API size_t smtpw_client_sizeof(void);
/**
 * Write the defaults of config version `version` (1 to
 * SMTPW_CLIENT_CONFIG_VERSION) into cfg, version included, and not one
 * byte more than that version's struct has: pass SMTPW_CLIENT_CONFIG_VERSION
 * of the header you compile with.  Returns 0, SMTPW_E_INVALID_ARG (cfg NULL)
 * or SMTPW_E_VERSION (a version this library does not know; nothing
 * written).
 */
SMTPW_API int smtpw_client_config_init(smtpw_client_config *cfg, uint32_t version);

/**
 * Start a client in mem (smtpw_client_sizeof() bytes, aligned to
 * SMTPW_STATE_ALIGN bytes); it then awaits the server's greeting
 * (SMTPW_CMD_GREETING).
 * The config is copied; cfg NULL means the defaults; a config of an older
 * version is read only as far as that version goes, the newer fields take
 * their defaults.  *out receives the handle (== mem).  No teardown: drop
 * the memory; the state holds no pointer into itself, so it may be moved
 * with memcpy between calls.  Returns 0, SMTPW_E_NOBUF (memlen too
 * small), SMTPW_E_VERSION (cfg->version 0 or newer than the library)
 * or SMTPW_E_INVALID_ARG (NULL mem/out, mem not aligned to
 * SMTPW_STATE_ALIGN, unknown flags, max_reply_line < 512,
 * max_reply_lines 0).
 */
SMTPW_API int smtpw_client_init(void *mem, size_t memlen, const smtpw_client_config *cfg,
                                smtpw_client **out);

/*
 * Command functions.  Each checks its arguments before producing a byte
 * and queues exactly one command line (never over 512 octets, RFC 5321
 * 4.5.3.1.4) into the output queue; nothing is queued on error.  The
 * core's output queue holds 1536 bytes.  Common returns:
 *   0                    queued
 *   SMTPW_E_AGAIN        not now: replies are outstanding and RFC 2920
 *                        forbids more in this group (or no PIPELINING),
 *                        128 replies are outstanding, or the output queue
 *                        is full: drain output / recv replies and retry
 *   SMTPW_E_STATE        not valid now: before the greeting was 2xx (only
 *                        QUIT after a refusing greeting, RFC 5321 3.1),
 *                        MAIL/RCPT/DATA/STARTTLS before a 2xx EHLO/HELO,
 *                        RCPT without MAIL, MAIL inside a transaction,
 *                        anything during the body or while TLS is owed
 *   SMTPW_E_INVALID_ARG  NULL with a length, CR, LF, NUL or another
 *                        control byte in any argument, unknown flags
 *   SMTPW_E_SYNTAX       a domain, address or parameter off the grammar
 *   SMTPW_E_TOOLONG      an RFC 5321 4.5.3.1 limit (path, command line)
 *   SMTPW_E_CLOSED       after QUIT was queued or a 421
 *   a sticky SMTPW_E_PROTO once the server broke the protocol
 */
/** EHLO domain-or-address-literal (RFC 5321 4.1.1.1).  Forgets the previous
 *  capabilities and resets the transaction (4.1.4).  Ends a group. */
SMTPW_API int smtpw_client_ehlo(smtpw_client *c, const char *domain, size_t len);
/** HELO, e.g. after EHLO got 500/502 (3.2).  Afterwards no extensions. */
SMTPW_API int smtpw_client_helo(smtpw_client *c, const char *domain, size_t len);
/** MAIL FROM.  addr: the sender unquoted ("a b"@x is given as a b@x; the
 *  local part is quoted on the wire when needed); len 0 for the null path.
 *  size: message octets (0 unknown), sent as SIZE= when offered;
 *  SMTPW_E_SIZE when over a nonzero advertised limit (RFC 1870).  flags:
 *  SMTPW_MAIL_8BIT sends BODY=8BITMIME, or SMTPW_E_8BIT (nothing queued)
 *  when 8BITMIME is not offered; SMTPW_MAIL_SMTPUTF8 sends SMTPUTF8 and
 *  allows UTF-8 in this transaction's addresses, or SMTPW_E_NOTSUP when not
 *  offered.  params: extra "KEY[=VALUE] ..." text, may be NULL; each one
 *  is checked with smtpw_param_next() and re-rendered single-spaced; SIZE,
 *  BODY and SMTPUTF8 there are SMTPW_E_INVALID_ARG (use size and flags). */
SMTPW_API int smtpw_client_mail(smtpw_client *c, const char *addr, size_t len, uint64_t size,
                                uint32_t flags, const char *params, size_t plen);
/** RCPT TO (after MAIL); the reply's index is this recipient's 0-based
 *  number in the transaction.  len 0 is SMTPW_E_SYNTAX; "Postmaster"
 *  without a domain is allowed (4.5.1).  params as for MAIL (any key). */
SMTPW_API int smtpw_client_rcpt(smtpw_client *c, const char *addr, size_t len,
                                const char *params, size_t plen);
/**
 * DATA: needs a MAIL and at least one RCPT queued; SMTPW_E_STATE once every
 * RCPT was answered and none accepted (send RSET instead).  On 354 the
 * body is due (want() SMTPW_WANT_BODY).  If 354 comes although no
 * recipient was accepted (pipelined, broken server), RFC 2920 3.1 says to
 * send a single dot: call smtpw_client_body_end() without any body.  On
 * another reply the transaction stays open (RSET, or RCPT and DATA again).
 */
SMTPW_API int smtpw_client_data(smtpw_client *c);
/** RSET: the transaction is reset at once; replies still due for it no
 *  longer count in smtpw_client_accepted().  Allowed before EHLO. */
SMTPW_API int smtpw_client_rset(smtpw_client *c);
SMTPW_API int smtpw_client_noop(smtpw_client *c);
/** QUIT: afterwards every command is SMTPW_E_CLOSED; the reply (221)
 *  closes the session.  The only command after a refusing greeting. */
SMTPW_API int smtpw_client_quit(smtpw_client *c);
/** STARTTLS (RFC 3207) after a 2xx EHLO, outside a transaction;
 *  SMTPW_E_NOTSUP when not offered.  On 220 want() says SMTPW_WANT_TLS:
 *  hand the connection to TLS, then call smtpw_client_tls_started().  Any
 *  byte the server sends after the 220 and before that is refused with
 *  SMTPW_E_PROTO (plaintext injection, RFC 3207 4.2). */
SMTPW_API int smtpw_client_starttls(smtpw_client *c);
/** VRFY/EXPN: a non-empty argument of printable US-ASCII (0x20-0x7E)
 *  only, else SMTPW_E_INVALID_ARG.  HELP: the same, argument optional. */
SMTPW_API int smtpw_client_vrfy(smtpw_client *c, const char *arg, size_t len);
SMTPW_API int smtpw_client_expn(smtpw_client *c, const char *arg, size_t len);
SMTPW_API int smtpw_client_help(smtpw_client *c, const char *arg, size_t len);

/**
 * Stuff message bytes for DATA (RFC 5321 4.5.2) into out: dots doubled at
 * line starts, bare CR and bare LF written as CRLF, all else copied
 * (dot-free spans with block copies).  Chunks may split anywhere (even
 * between CR and LF: a CR is written at once and its LF is owed).  Only
 * after DATA got 354.  out is the caller's: send it before any later
 * smtpw_client_output() bytes.  Lines are not folded (1000-octet lines,
 * 4.5.3.1.6, are the caller's business).  Sets *consumed and *written;
 * consumes as much as fits.  Returns 0, SMTPW_E_INVALID_ARG (NULLs),
 * SMTPW_E_STATE (no 354), SMTPW_E_NOBUF (outcap < 2: no progress
 * possible), SMTPW_E_8BIT (a byte >= 0x80 but the MAIL did not send
 * BODY=8BITMIME: *consumed stops right before it, nothing of it written;
 * not sticky, but the message cannot be sent as it is).
 */
SMTPW_API int smtpw_client_body_encode(smtpw_client *c, const uint8_t *in, size_t inlen,
                                       size_t *consumed, uint8_t *out, size_t outcap,
                                       size_t *written);

/**
 * Finish the body: a CRLF when the last line had none, then ".\r\n"
 * (an empty body gives just ".\r\n", RFC 5321 4.1.1.4).  Needs
 * outcap >= 5.  The next reply answers SMTPW_CMD_BODY; the transaction is
 * over whatever it says.  Returns 0, SMTPW_E_INVALID_ARG, SMTPW_E_STATE or
 * SMTPW_E_NOBUF.
 */
SMTPW_API int smtpw_client_body_end(smtpw_client *c, uint8_t *out, size_t outcap,
                                    size_t *written);

/**
 * Feed server bytes; at most one reply line is consumed per call, and only
 * a whole line: keep unconsumed bytes and present them again with more.
 * Spans in *ev point into in.  Returns SMTPW_EV_REPLY with *ev filled,
 * SMTPW_EV_NONE when no whole line is there (nothing consumed; want()
 * then has SMTPW_WANT_READ while replies are outstanding), or
 * SMTPW_E_PROTO (fatal, sticky: malformed line, bare LF, mixed codes, a
 * line over max_reply_line octets, found without buffering it, a reply over
 * max_reply_lines lines, a reply nobody asked for (also any reply but 421
 * while the body is due: feed what arrives before the final dot is sent
 * before calling smtpw_client_body_end()), a 3yz other than 354 to DATA,
 * a 2yz to DATA (RFC 5321 4.3.2), bytes after a 220 to STARTTLS),
 * SMTPW_E_CLOSED after the session ended (any reply to QUIT, or
 * after a 421 was delivered), SMTPW_E_INVALID_ARG for NULLs or evsize <
 * SMTPW_EVENT_MIN_SIZE (nothing consumed).
 *
 * evsize is the size of the caller's *ev (sizeof ev): the library never
 * writes past it (an older caller simply does not get fields appended
 * since), and zero-fills what lies past its own smtpw_event (for a newer
 * caller).  *ev is filled (cleared on errors and NONE) on every return
 * but SMTPW_E_INVALID_ARG.
 */
SMTPW_API int smtpw_client_recv(smtpw_client *c, const uint8_t *in, size_t inlen,
                                size_t *consumed, smtpw_event *ev, size_t evsize);

/** Command bytes waiting to be sent; *len receives their number (0 when
 *  nothing is queued: the pointer is still not NULL).  The pointer is into
 *  the client's memory, valid until the next call that changes the client.
 *  NULL when len is NULL; NULL with *len 0 when c is NULL. */
SMTPW_API const uint8_t *smtpw_client_output(const smtpw_client *c, size_t *len);
/** Mark n bytes of smtpw_client_output() as sent (clamped to its length). */
SMTPW_API void smtpw_client_output_ack(smtpw_client *c, size_t n);
/** SMTPW_WANT_* bits: WRITE (output queued), READ (replies outstanding
 *  and the last recv() used up its input: read more), BODY (354: the body
 *  is due), TLS (220 to STARTTLS), CLOSE (session over or a fatal error).
 *  0 for a NULL client. */
SMTPW_API uint32_t smtpw_client_want(const smtpw_client *c);
/** Which RFC 5321 4.5.3.2 timeout applies to the oldest outstanding reply:
 *  SMTPW_TIMEOUT_GREETING, _MAIL, _RCPT, _DATA_INIT (DATA), _DATA_TERM
 *  (after the dot), _COMMAND (any other); _DATA_BLOCK while the body is
 *  due; _NONE when nothing is awaited. */
SMTPW_API uint32_t smtpw_client_timeout(const smtpw_client *c);
/** After the TLS handshake following STARTTLS: forget the capabilities;
 *  the client must EHLO again (RFC 3207 4.2).  Returns 0, or SMTPW_E_STATE
 *  when no 220 to STARTTLS is pending. */
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
