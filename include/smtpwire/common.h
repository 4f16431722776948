/*
 * smtpwire: common definitions shared by every public header.
 *
 * Copyright (c) 2026 The smtpwire authors.  SPDX-License-Identifier: MIT
 */
#ifndef SMTPWIRE_COMMON_H
#define SMTPWIRE_COMMON_H

#include <stddef.h>
#include <stdint.h>

#include "version.h"

#ifdef __cplusplus
extern "C" {
#endif

/* SMTPW_API marks every exported symbol; the library is built with hidden
 * visibility so nothing else leaks into the ABI. */
#if defined(_WIN32) || defined(__CYGWIN__)
#if defined(SMTPW_BUILDING_DLL)
#define SMTPW_API __declspec(dllexport)
#elif defined(SMTPW_STATIC)
#define SMTPW_API
#else
#define SMTPW_API __declspec(dllimport)
#endif
#elif defined(__GNUC__) && __GNUC__ >= 4
#define SMTPW_API __attribute__((visibility("default")))
#else
#define SMTPW_API
#endif

/**
 * A view of bytes owned by someone else: never NUL-terminated.
 * Every span handed out by smtpwire documents whose memory it points into
 * and how long it stays valid.
 */
typedef struct smtpw_span {
    const char *ptr;
    size_t len;
} smtpw_span;

/* Error codes: 0 is success, failures are small negative numbers.  Values
 * are part of the ABI: new ones are appended, none is ever reused. */
#define SMTPW_OK 0
#define SMTPW_E_INVALID_ARG (-1) /* a bad argument: NULL, CR/LF in text, bad grammar */
#define SMTPW_E_STATE (-2)       /* the call is not allowed in the current state */
#define SMTPW_E_NOBUF (-3)       /* caller memory or output space too small */
#define SMTPW_E_AGAIN (-4)       /* not now: drain output or read replies first */
#define SMTPW_E_PROTO (-5)       /* the peer broke the protocol beyond repair (fatal) */
#define SMTPW_E_CLOSED (-6)      /* the session is over (fatal) */
#define SMTPW_E_SYNTAX (-7)      /* input does not match the RFC grammar */
#define SMTPW_E_TOOLONG (-8)     /* input exceeds an RFC or configured length limit */
#define SMTPW_E_VERSION (-9)     /* config struct version unknown to this library */
#define SMTPW_E_8BIT (-10)       /* 8-bit data but the server offers no 8BITMIME */
#define SMTPW_E_SIZE (-11)       /* message larger than the server's SIZE limit */
#define SMTPW_E_IO (-12)         /* adapter: read/write/connect failed (see errno) */
#define SMTPW_E_TIMEOUT (-13)    /* adapter: an RFC 5321 4.5.3.2 timeout expired */
#define SMTPW_E_TLS (-14)        /* adapter: the TLS hook failed */
#define SMTPW_E_NOTSUP (-15)     /* the peer does not support what was asked */
#define SMTPW_E_DNS (-16)        /* adapter: name or MX lookup failed */
#define SMTPW_E_NXDOMAIN (-17)   /* adapter: the domain does not exist (DNS NXDOMAIN); permanent */
#define SMTPW_E_NOMAIL (-18)     /* adapter: the domain takes no mail (null MX, RFC 7505); permanent */

/** Human-readable text for an error code; never NULL.  Static storage. */
SMTPW_API const char *smtpw_strerror(int err);

/** The name of an error code without its "SMTPW_E_" prefix ("NOBUF"; "OK"
 *  for 0), or "?" for a value with no constant; never NULL.  Static storage. */
SMTPW_API const char *smtpw_err_name(int err);

/** Non-zero when err leaves the object unusable (it must be initialised
 *  again): SMTPW_E_PROTO, SMTPW_E_CLOSED, SMTPW_E_IO, SMTPW_E_TIMEOUT,
 *  SMTPW_E_TLS.  The cores and the adapter apply exactly this rule. */
SMTPW_API int smtpw_err_is_fatal(int err);

/** The library's version as 0xMMmmpp; compare with SMTPW_VERSION_NUM to
 *  check that header and library match. */
SMTPW_API uint32_t smtpw_version(void);

/** The library's version as a static string, "MAJOR.MINOR.PATCH". */
SMTPW_API const char *smtpw_version_string(void);

/* Commands, used by both the server and the client cores. */
#define SMTPW_CMD_NONE 0
#define SMTPW_CMD_HELO 1
#define SMTPW_CMD_EHLO 2
#define SMTPW_CMD_MAIL 3
#define SMTPW_CMD_RCPT 4
#define SMTPW_CMD_DATA 5
#define SMTPW_CMD_RSET 6
#define SMTPW_CMD_NOOP 7
#define SMTPW_CMD_QUIT 8
#define SMTPW_CMD_VRFY 9
#define SMTPW_CMD_EXPN 10
#define SMTPW_CMD_HELP 11
#define SMTPW_CMD_STARTTLS 12
#define SMTPW_CMD_AUTH 13
#define SMTPW_CMD_BDAT 14
#define SMTPW_CMD_SEND 15
#define SMTPW_CMD_SOML 16
#define SMTPW_CMD_SAML 17
#define SMTPW_CMD_TURN 18
#define SMTPW_CMD_GREETING 19 /* client side: the 220 banner is a reply to "connect" */
#define SMTPW_CMD_BODY 20     /* client side: the reply after the message body */
#define SMTPW_CMD_UNKNOWN 21  /* server side: a verb smtpwire does not know */

/** The name of an SMTPW_CMD_* without its prefix: the verb ("MAIL"), or
 *  "NONE", "GREETING", "BODY", "UNKNOWN"; "?" for a value with no
 *  constant.  Never NULL.  Static storage. */
SMTPW_API const char *smtpw_cmd_name(uint32_t cmd);

/* Which RFC 5321 4.5.3.2 timeout applies while waiting in the current state.
 * The core never reads a clock: it names the timeout, the driver enforces it. */
#define SMTPW_TIMEOUT_NONE 0       /* nothing is awaited from the peer */
#define SMTPW_TIMEOUT_GREETING 1   /* 4.5.3.2.1 initial 220: 5 minutes */
#define SMTPW_TIMEOUT_MAIL 2       /* 4.5.3.2.2 MAIL reply: 5 minutes */
#define SMTPW_TIMEOUT_RCPT 3       /* 4.5.3.2.3 RCPT reply: 5 minutes */
#define SMTPW_TIMEOUT_DATA_INIT 4  /* 4.5.3.2.4 DATA 354: 2 minutes */
#define SMTPW_TIMEOUT_DATA_BLOCK 5 /* 4.5.3.2.5 each body write: 3 minutes */
#define SMTPW_TIMEOUT_DATA_TERM 6  /* 4.5.3.2.6 reply after ".": 10 minutes */
#define SMTPW_TIMEOUT_SERVER 7     /* 4.5.3.2.7 server waiting for a command: 5 minutes */
#define SMTPW_TIMEOUT_COMMAND 8    /* client: reply to any other command: 5 minutes */

/** The RFC 5321 4.5.3.2 recommended length, in seconds, of a timeout
 *  (SMTPW_TIMEOUT_*); 0 for NONE and for a value with no constant. */
SMTPW_API uint32_t smtpw_timeout_seconds(uint32_t which);

/* ESMTP extensions (EHLO keywords): the server core advertises some of
 * them, the client core reports those it saw (smtpw_client_extensions()). */
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

/* Bits of *_want() (a uint32_t): what the core needs from its driver next
 * (BearSSL-style); the driver loop is documented in server.h and client.h. */
#define SMTPW_WANT_READ 0x1u  /* feed more peer bytes to *_recv() */
#define SMTPW_WANT_WRITE 0x2u /* drain *_output() to the peer */
#define SMTPW_WANT_REPLY 0x4u /* server: the application must answer the last event */
#define SMTPW_WANT_CLOSE 0x8u /* close the connection once output is drained */
#define SMTPW_WANT_TLS 0x10u  /* start TLS now (after STARTTLS), then call *_tls_started() */
#define SMTPW_WANT_BODY 0x20u /* client: 354 came, send the body (smtpw_client_body_encode/_end) */

/* Kind of address literal in a path's domain (4.1.3). */
#define SMTPW_LITERAL_NONE 0    /* a domain name, or no domain at all */
#define SMTPW_LITERAL_IPV4 1    /* [192.0.2.1] */
#define SMTPW_LITERAL_IPV6 2    /* [IPv6:2001:db8::1] */
#define SMTPW_LITERAL_GENERAL 3 /* [tag:content], a standardized-tag other than IPv6 */

/* smtpw_path.flags */
#define SMTPW_PATH_NULL 0x01u        /* the null reverse-path <> */
#define SMTPW_PATH_POSTMASTER 0x02u  /* <Postmaster> with no domain (4.5.1) */
#define SMTPW_PATH_QUOTED 0x04u      /* local part is a quoted-string */
#define SMTPW_PATH_UTF8 0x08u        /* contains UTF-8 (RFC 6531 3.3) */
#define SMTPW_PATH_ROUTE 0x10u       /* a source route was present and dropped */
#define SMTPW_PATH_NO_BRACKETS 0x20u /* lenient only: written without <> */

/**
 * A parsed path, lossless: every span points into the text given to
 * smtpw_path_parse() and is valid as long as that text is.
 */
typedef struct smtpw_path {
    smtpw_span raw;     /* the whole path as written, brackets included */
    smtpw_span mailbox; /* Local-part "@" Domain as written, no route, no <> */
    smtpw_span local;   /* the local part as written (quotes and escapes kept) */
    smtpw_span domain;  /* domain or address literal with its [ ]; empty for <>, <Postmaster> */
    smtpw_span route;   /* the dropped source route "@a,@b" (no ':'), or empty */
    smtpw_span literal; /* inside of an address literal without [ ] and tag, or empty */
    uint32_t flags;     /* SMTPW_PATH_* */
    uint32_t literal_kind; /* SMTPW_LITERAL_* */
} smtpw_path;

/* Event types (smtpw_event.type), one vocabulary for both cores.  Those
 * marked REPLY leave the server waiting (SMTPW_WANT_REPLY) until
 * smtpw_server_reply(). */
#define SMTPW_EV_NONE 0        /* no event: see smtpw_*_want() for why */
#define SMTPW_EV_HELO 1        /* server, REPLY. HELO or EHLO (ev.cmd); arg = domain or literal */
#define SMTPW_EV_MAIL 2        /* server, REPLY. arg = path text, path parsed, params, size */
#define SMTPW_EV_RCPT 3        /* server, REPLY. arg = path text, path parsed, params */
#define SMTPW_EV_DATA 4        /* server, REPLY. DATA with >= 1 accepted recipient: 354 or refuse */
#define SMTPW_EV_BODY 5        /* server: arg = a chunk of the message, unstuffed, CRLF kept */
#define SMTPW_EV_DATA_END 6    /* server, REPLY. the message is complete; size = its octets */
#define SMTPW_EV_DATA_ABORT 7  /* server: the core refuses this message (code); discard it */
#define SMTPW_EV_RSET 8        /* server: RSET (or a transaction reset); the core answered 250 */
#define SMTPW_EV_VRFY 9        /* server, REPLY. arg = argument (printable ASCII; else 501) */
#define SMTPW_EV_EXPN 10       /* server, REPLY. arg = argument (printable ASCII; else 501) */
#define SMTPW_EV_HELP 11       /* server, REPLY. arg = argument (may be empty; printable) */
#define SMTPW_EV_QUIT 12       /* server: the core queued 221; WANT_CLOSE follows */
#define SMTPW_EV_STARTTLS 13   /* server: the 220 is drained: start TLS now, then tls_started() */
#define SMTPW_EV_REJECTED 14   /* server: the core refused a command itself (cmd, code, arg = line) */
#define SMTPW_EV_CLOSE 15      /* server: the core ends the session (code, e.g. 421); WANT_CLOSE */
#define SMTPW_EV_REPLY 16      /* client: one line of a reply; SMTPW_EVF_LAST on its last line */
#define SMTPW_EV_TLS_STARTED 17 /* posix adapter: the STARTTLS handshake succeeded (RFC 3207 4.2) */

/* smtpw_event.flags */
#define SMTPW_EVF_SIZE 0x01u     /* server: MAIL carried SIZE= (value in ev.size), RFC 1870 */
#define SMTPW_EVF_8BITMIME 0x02u /* server: MAIL carried BODY=8BITMIME, RFC 6152 */
#define SMTPW_EVF_7BIT 0x04u     /* server: MAIL carried BODY=7BIT */
#define SMTPW_EVF_SMTPUTF8 0x08u /* server: MAIL carried SMTPUTF8, RFC 6531 */
#define SMTPW_EVF_LAST 0x10u     /* client: the reply's final line: the reply is complete */
#define SMTPW_EVF_ENHANCED 0x20u /* client: enh_* hold an RFC 3463 code */
#define SMTPW_EVF_KEYWORD 0x40u  /* client: an EHLO line: keyword/params hold an extension */

/**
 * One event of either core.  Spans point into the `in` bytes of the
 * *_recv() call that returned it (or, for a few server body bytes, into
 * static storage) and stay valid until the caller reuses those bytes.
 * A span an event type does not use is {NULL, 0}; a number it does not
 * use is 0.  Fields are only appended (see *_recv() for the size rule).
 */
typedef struct smtpw_event {
    uint32_t type;      /* SMTPW_EV_* */
    uint32_t cmd;       /* SMTPW_CMD_* the event belongs to */
    uint32_t code;      /* server: the reply code the core sent (REJECTED, DATA_ABORT,
                           CLOSE); client: the reply's code */
    uint32_t flags;     /* SMTPW_EVF_* */
    smtpw_span arg;     /* server: argument, body chunk or refused line;
                           client: the reply text after the code and enhanced code */
    smtpw_span params;  /* server: MAIL/RCPT parameters (smtpw_param_next());
                           client: EHLO keyword parameters */
    uint64_t size;      /* server: MAIL SIZE= value, DATA_END message octets */
    smtpw_path path;    /* server: MAIL/RCPT parsed path */
    smtpw_span line;    /* client: the whole reply line without CRLF */
    smtpw_span keyword; /* client: EHLO extension keyword (with SMTPW_EVF_KEYWORD) */
    uint32_t index;     /* client: RCPT number (0-based) in the transaction */
    uint32_t enh_class, enh_subject, enh_detail; /* client: with SMTPW_EVF_ENHANCED */
} smtpw_event;

/* The least evsize every call that fills an smtpw_event accepts
 * (smtpw_server_recv(), smtpw_client_recv(), smtpw_posix_server_step()):
 * the fixed head, type, cmd, code and flags.  A smaller evsize is
 * SMTPW_E_INVALID_ARG and nothing happens; fields are only appended, so
 * any caller's struct has at least this head. */
#define SMTPW_EVENT_MIN_SIZE 16

/* Every *_init() (smtpw_server_init(), smtpw_client_init(),
 * smtpw_posix_shared_init(), smtpw_posix_server_init()) needs memory
 * aligned to this many bytes; other memory is SMTPW_E_INVALID_ARG.  An
 * array of uint64_t, or malloc(), is always aligned enough. */
#define SMTPW_STATE_ALIGN 8

/** The name of an SMTPW_EV_* without its prefix ("DATA_END"), "?" for a
 *  value with no constant.  Never NULL.  Static storage. */
SMTPW_API const char *smtpw_event_name(uint32_t type);

/* What to do with a bare CR or bare LF (one not part of CRLF), RFC 5321 2.3.8.
 * Set separately for command lines and for message bodies.  Under every
 * policy only CRLF ends a command line and only CRLF "." CRLF ends a
 * message, so a filter in front that splits at CRLF always sees the lines
 * we see: a bare byte can never make one line two (smuggling).
 *   REJECT:    command: the whole line up to its CRLF gets one 500 5.5.2;
 *              message: 550 after its end (default)
 *   NORMALIZE: command: as REJECT (a bare LF made a line end would split
 *              the line; the core keeps no copy to rewrite it);
 *              message: each bare CR or LF is delivered as CRLF
 *   KEEP:      command: the byte stays in the line, which the grammar then
 *              judges whole (500/501: no verb, path, parameter or argument
 *              takes a control byte; NOOP ignores its argument);
 *              message: the byte is delivered as is */
#define SMTPW_BARE_REJECT 0   /* refuse (default) */
#define SMTPW_BARE_NORMALIZE 1 /* body: turn it into CRLF; command: refuse */
#define SMTPW_BARE_KEEP 2     /* pass the byte through as data */

#ifdef __cplusplus
}
#endif
#endif /* SMTPWIRE_COMMON_H */
