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

/** Human-readable text for an error code; never NULL.  Static storage. */
SMTPW_API const char *smtpw_strerror(int err);

/** The symbolic name of an error code ("SMTPW_E_NOBUF"); never NULL. */
SMTPW_API const char *smtpw_err_name(int err);

/** Non-zero when err leaves the object unusable until it is initialised
 *  again (SMTPW_E_PROTO, SMTPW_E_CLOSED). */
SMTPW_API int smtpw_err_is_fatal(int err);

/** The library's version as 0xMMmmpp; compare with SMTPW_VERSION_NUM to
 *  check that header and library match. */
SMTPW_API unsigned long smtpw_version(void);

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

/** The verb of a command ("MAIL"), or "" for NONE/UNKNOWN.  Static storage. */
SMTPW_API const char *smtpw_cmd_name(int cmd);

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

/** The RFC 5321 4.5.3.2 recommended length, in seconds, of a timeout. */
SMTPW_API unsigned smtpw_timeout_seconds(int which);

/* Bits of *_want(): what the core needs from its driver next (BearSSL-style). */
#define SMTPW_WANT_READ 0x1u  /* feed more peer bytes to *_recv() */
#define SMTPW_WANT_WRITE 0x2u /* drain *_output() to the peer */
#define SMTPW_WANT_REPLY 0x4u /* server: the application must answer the last event */
#define SMTPW_WANT_CLOSE 0x8u /* close the connection once output is drained */
#define SMTPW_WANT_TLS 0x10u  /* start TLS now (after STARTTLS), then call *_tls_started() */
#define SMTPW_WANT_BODY 0x20u /* client: 354 came, send the body (smtpw_client_body_encode/_end) */

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
