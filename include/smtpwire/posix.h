/*
 * smtpwire: the optional POSIX adapter (built with -Dposix=true).
 *
 * A thin driver around the sans-I/O cores: it reads from and writes to a
 * connected, non-blocking socket through replaceable I/O hooks (so TLS can
 * sit under it), feeds the core, writes its replies and enforces the RFC
 * 5321 4.5.3.2 timeouts the core names.  It starts no thread, keeps no
 * global state and reads no clock on its own: the caller passes "now" in
 * milliseconds (smtpw_posix_now_ms() is a CLOCK_MONOTONIC helper for that).
 *
 * Text in is (pointer, length) as in the cores (README "API conventions"),
 * with one exception: what the adapter hands to the operating system as it
 * is, smtpw_posix_connect()'s host and port and the domain, host and
 * nameserver of smtpw_posix_mx_lookup()/_addr_lookup(), are NUL-terminated
 * C strings, as getaddrinfo() and inet_pton() take them.
 *
 * Server half, for one poll() loop serving thousands of sessions:
 *
 *   smtpw_posix_shared   one per loop: a scratch read buffer every session
 *                        reads into, and a pool of small slots that keep a
 *                        session's unconsumed bytes (a partial command line)
 *                        between loop turns.  Caller memory.
 *   smtpw_posix_server   one per session: adapter state followed by the
 *                        core, smtpw_posix_server_sizeof() bytes of caller
 *                        memory.  An idle session holds no buffer.
 *
 *   loop:
 *     for each session: pfd.events = smtpw_posix_server_events(c);
 *                       timeout = min(smtpw_posix_server_deadline(c)) - now
 *     poll(); now = smtpw_posix_now_ms();
 *     for each session with revents, or whose deadline passed:
 *       rev = pfd.revents;
 *       while ((r = smtpw_posix_server_step(c, rev, now, &ev, sizeof ev)) > 0) {
 *           rev = 0;
 *           handle ev, copying what you keep of its spans (valid until the
 *           next step of any session); answer it with
 *           smtpw_server_reply(smtpw_posix_server_core(c), ...)
 *           now, or later (then call step again once answered)
 *       }
 *       if (r < 0) the session is over and its fd closed: free c
 *
 * Copyright (c) 2026 The smtpwire authors.  SPDX-License-Identifier: MIT
 */
#ifndef SMTPWIRE_POSIX_H
#define SMTPWIRE_POSIX_H

#include "smtpwire.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ---- I/O hooks (shared by the server and client halves) ---- */

/**
 * How the adapter moves bytes, version 1 (`version` first: set it to
 * SMTPW_POSIX_IO_VERSION; the adapter refuses a table of a version it does
 * not know with SMTPW_E_VERSION).  One table can serve every connection; the
 * per-connection state goes in `ctx` (given to the adapter beside the
 * table).  A TLS layer (OpenSSL, mbedTLS...) implements these over the
 * socket; before its handshake it passes bytes through in the clear, which
 * smtpw_posix_plain_read()/_write() do.
 *
 * read: read up to cap bytes into buf.  Returns 0 with *got > 0; SMTPW_E_AGAIN
 *   when nothing can be read now, with *wait set to SMTPW_WANT_READ (or
 *   SMTPW_WANT_WRITE when a TLS layer must write first); SMTPW_E_CLOSED at
 *   the peer's orderly end; SMTPW_E_IO or SMTPW_E_TLS on failure.
 * write: write up to len bytes from buf.  Returns 0 with *sent > 0;
 *   SMTPW_E_AGAIN with *wait (usually SMTPW_WANT_WRITE); SMTPW_E_IO or
 *   SMTPW_E_TLS.  Must never raise SIGPIPE.
 * starttls: run (or continue) the server-side TLS handshake after the core's
 *   220 to STARTTLS went out (RFC 3207 4).  Returns 0 once done,
 *   SMTPW_E_AGAIN with *wait, or SMTPW_E_TLS.  NULL: STARTTLS impossible.
 * pending: bytes the layer already holds decrypted, readable without the
 *   socket becoming readable (poll() cannot see them).  NULL: none ever.
 * close: end the connection (TLS close_notify, free the TLS state, close
 *   fd).  NULL: the adapter calls close(fd).
 */
#define SMTPW_POSIX_IO_VERSION 1
typedef struct smtpw_posix_io {
    uint32_t version; /* SMTPW_POSIX_IO_VERSION */
    int (*read)(void *ctx, int fd, uint8_t *buf, size_t cap, size_t *got, uint32_t *wait);
    int (*write)(void *ctx, int fd, const uint8_t *buf, size_t len, size_t *sent,
                 uint32_t *wait);
    int (*starttls)(void *ctx, int fd, uint32_t *wait);
    size_t (*pending)(void *ctx);
    void (*close)(void *ctx, int fd);
} smtpw_posix_io;

/** Plain read(2) in the smtpw_posix_io read-hook convention (ctx unused;
 *  EINTR is retried).  Usable by TLS hooks before their handshake. */
SMTPW_API int smtpw_posix_plain_read(void *ctx, int fd, uint8_t *buf, size_t cap, size_t *got,
                                     uint32_t *wait);

/** Plain send(2) with MSG_NOSIGNAL in the write-hook convention. */
SMTPW_API int smtpw_posix_plain_write(void *ctx, int fd, const uint8_t *buf, size_t len,
                                      size_t *sent, uint32_t *wait);

/** The hook table for a plain socket: the two functions above, no TLS.
 *  Static storage, read-only. */
SMTPW_API const smtpw_posix_io *smtpw_posix_io_plain(void);

/** Milliseconds of CLOCK_MONOTONIC (an arbitrary epoch), never 0.  Call it
 *  once per loop turn and pass the value to the adapter; on Linux it costs
 *  no system call (vDSO). */
SMTPW_API uint64_t smtpw_posix_now_ms(void);

/* ---- server half ---- */

typedef struct smtpw_posix_shared smtpw_posix_shared; /* opaque, one per loop */
typedef struct smtpw_posix_server smtpw_posix_server; /* opaque, one per session */

/* The newest smtpw_posix_shared_config version this header knows. */
#define SMTPW_POSIX_SHARED_CONFIG_VERSION 1

/* smtpw_posix_shared_config.flags */
#define SMTPW_POSIX_NO_MALLOC 0x01u /* never call malloc: a hold larger than a slot, or
                                       with the pool empty, ends that session (NOBUF) */

/**
 * Memory shared by every session of one loop (one thread), version 1.  Fill
 * with smtpw_posix_shared_config_init(), then set the buffers.  Append-only.
 *
 * scratch: every read lands here; recommended 65536, at least 2048 and at
 *   least twice the sessions' max_command_line.  Event spans point into it.
 * pool: slots of slot_size bytes that keep a session's unconsumed input
 *   between turns (a partial command line; the pipelined rest of a burst
 *   while the application defers a reply or the peer does not read).  A
 *   session holds at most one, only while it has such bytes or the last
 *   event it returned points into them (given back at its next step).  When the
 *   pool is empty or the bytes do not fit a slot, the adapter uses malloc
 *   unless SMTPW_POSIX_NO_MALLOC.  May be NULL/0 (malloc only).
 * timeout_ms: 0 applies the RFC 5321 4.5.3.2 lengths; any other value
 *   replaces every one of them (for tests and for busy servers shedding
 *   idle sessions).  A completed command or a reply written restarts the
 *   timeout; bytes that complete nothing (a body, an over-long line being
 *   dropped) only push it back 10 ms each, so a peer trickling slower than
 *   100 octets a second still times out (slowloris).
 */
typedef struct smtpw_posix_shared_config {
    uint32_t version;   /* set by smtpw_posix_shared_config_init() */
    uint32_t flags;     /* SMTPW_POSIX_* */
    uint8_t *scratch;   /* NOT copied: must outlive the shared object */
    size_t scratch_len;
    uint8_t *pool;      /* NOT copied; may be NULL */
    size_t pool_len;
    uint32_t slot_size; /* bytes per pool slot (default 512) */
    uint32_t timeout_ms; /* default 0: RFC values */
} smtpw_posix_shared_config;

/** Fill cfg with the defaults of config version `version` (pass
 *  SMTPW_POSIX_SHARED_CONFIG_VERSION; no buffers: set scratch before init),
 *  writing exactly that version's fields.  Returns 0, SMTPW_E_INVALID_ARG
 *  for a NULL cfg, SMTPW_E_VERSION for an unknown version. */
SMTPW_API int smtpw_posix_shared_config_init(smtpw_posix_shared_config *cfg, uint32_t version);

/** Bytes of caller memory for one smtpw_posix_shared. */
SMTPW_API size_t smtpw_posix_shared_sizeof(void);

/**
 * Set up the shared state in mem (smtpw_posix_shared_sizeof() bytes,
 * aligned to SMTPW_STATE_ALIGN bytes).  Nothing to tear down once every session is closed.
 * Returns 0; SMTPW_E_NOBUF when memlen is too small; SMTPW_E_VERSION for
 * a cfg->version other than 1; SMTPW_E_INVALID_ARG for NULLs, mem not
 * aligned to SMTPW_STATE_ALIGN, a scratch
 * below 2048 bytes, or a slot_size below 16.
 */
SMTPW_API int smtpw_posix_shared_init(void *mem, size_t memlen,
                                      const smtpw_posix_shared_config *cfg,
                                      smtpw_posix_shared **out);

/** Bytes of caller memory for one session (aligned to SMTPW_STATE_ALIGN
 *  bytes): the adapter's state and the server core (smtpw_server_sizeof())
 *  behind it. */
SMTPW_API size_t smtpw_posix_server_sizeof(void);

/**
 * Start a session on fd, a connected socket the caller made non-blocking
 * (O_NONBLOCK).  Initialises the core in the same memory with cfg (see
 * smtpw_server_init(): NULL for the defaults; cfg->hostname must outlive
 * the session) and queues
 * its greeting, which the first step writes.  io and io_ctx: the hooks
 * (smtpw_posix_io_plain() for plain TCP) and their per-connection state;
 * both must outlive the session.  now_ms starts the first timeout.
 * The session owns fd from here on: the adapter closes it.
 *
 * Returns 0; SMTPW_E_NOBUF when memlen is too small; SMTPW_E_VERSION for
 * an io table whose version is not SMTPW_POSIX_IO_VERSION; SMTPW_E_INVALID_ARG
 * for NULLs, mem not aligned to SMTPW_STATE_ALIGN, fd < 0, hooks without read/write, or a shared scratch buffer
 * shorter than twice cfg->max_command_line; any error of
 * smtpw_server_init().  On error fd is left open.
 */
SMTPW_API int smtpw_posix_server_init(void *mem, size_t memlen, smtpw_posix_shared *shared,
                                      int fd, const smtpw_server_config *cfg,
                                      const smtpw_posix_io *io, void *io_ctx, uint64_t now_ms,
                                      smtpw_posix_server **out);

/** The core inside a session: answer events with smtpw_server_reply() on it,
 *  ask it for smtpw_server_messages(), end it with smtpw_server_shutdown()
 *  (then step the session to send the 421 and close). */
SMTPW_API smtpw_server *smtpw_posix_server_core(smtpw_posix_server *c);

/**
 * Drive the session as far as it can go without blocking: write the queued
 * replies, read (at most once per readiness, a whole burst at a time),
 * feed the core, run a STARTTLS handshake.  Replies queued while the core
 * works through a pipelined burst go out together in one write, when the
 * core stops making progress (RFC 2920).
 *
 * revents: the poll() revents for fd (POLLIN, POLLOUT, POLLHUP...), or 0
 *   when the call is not due to readiness (after an event, after answering
 *   a deferred one, or when the deadline passed).
 * now_ms: the caller's clock (smtpw_posix_now_ms()); checked against the
 *   deadline and used to set the next one.
 *
 * ev, evsize: the caller's event and its sizeof, as for smtpw_server_recv()
 *   (never a byte written past evsize).
 *
 * Returns an SMTPW_EV_* > 0 with *ev filled: handle it, then call step
 * again.  Decision events (want() has SMTPW_WANT_REPLY) may be answered
 * right away or later; until answered, the session reads nothing and has
 * no deadline; after answering, call step (revents 0).
 * Lifetime of *ev: its spans point into the shared scratch buffer or into
 * this session's hold, and stay valid and unchanged until the next call of
 * smtpw_posix_server_step() on any session of the same smtpw_posix_shared
 * (another session's read overwrites the scratch buffer), or
 * smtpw_posix_server_close() of this one.  The adapter frees or reuses
 * that memory no earlier: an emptied hold is given back at the session's
 * next step, not when the core consumes its last byte.  So copy what you
 * keep before stepping any session, above all for a verdict you defer
 * (the example server copies the EHLO name and the paths at once).
 * SMTPW_EV_TLS_STARTED is returned after the STARTTLS handshake succeeded
 * (the core's SMTPW_EV_STARTTLS is handled inside: the adapter runs the
 * handshake hook itself).
 * Returns 0 when it must wait: poll for smtpw_posix_server_events() or
 * until smtpw_posix_server_deadline(), or answer the pending event.
 * Returns < 0 when the session is over and fd is closed: SMTPW_E_CLOSED
 * (QUIT, a 421 drained, or the peer went away), SMTPW_E_TIMEOUT (a 421
 * was tried), SMTPW_E_IO, SMTPW_E_TLS, SMTPW_E_NOBUF (no memory to keep
 * unconsumed input).  A message not yet answered at DATA_END is lost then:
 * discard it.  Further calls return the same code.  SMTPW_E_INVALID_ARG
 * for NULL c or ev or evsize < SMTPW_EVENT_MIN_SIZE (nothing happens then).
 */
SMTPW_API int smtpw_posix_server_step(smtpw_posix_server *c, short revents, uint64_t now_ms,
                                      smtpw_event *ev, size_t evsize);

/** The poll() events to wait for (POLLIN, POLLOUT or both), or 0 when
 *  only the application can move the session on (a pending reply): then
 *  leave fd out of poll (pfd.fd = -1), as POLLHUP would be reported. */
SMTPW_API short smtpw_posix_server_events(const smtpw_posix_server *c);

/** The time (the caller's ms clock) at which the current RFC 5321 4.5.3.2
 *  timeout expires, or 0 for none: step the session then. */
SMTPW_API uint64_t smtpw_posix_server_deadline(const smtpw_posix_server *c);

/** Bytes of unconsumed input the session keeps between steps (0 when
 *  idle: then it holds no slot and no heap memory). */
SMTPW_API size_t smtpw_posix_server_held(const smtpw_posix_server *c);

/** The session's socket (-1 once closed). */
SMTPW_API int smtpw_posix_server_fd(const smtpw_posix_server *c);

/**
 * End the session now, without a word to the peer: release its hold and
 * close fd (through the close hook).  For the caller's own teardown; a
 * polite end is smtpw_server_shutdown() on the core, then step.  Safe on a
 * session step already closed.
 */
SMTPW_API void smtpw_posix_server_close(smtpw_posix_server *c);

/* ---- client half ---- */

/* The client half drives a smtpw_client core through one whole mail
 * transaction over a connected socket (RFC 5321 3.3, RFC 2920 when offered).
 * Every wait is bounded by the RFC 5321 4.5.3.2 timeout the core names,
 * or by smtpw_posix_send_config.timeout_ms when that is not 0. */

/* The newest smtpw_posix_send_config version this header knows. */
#define SMTPW_POSIX_SEND_CONFIG_VERSION 1
#define SMTPW_POSIX_REPLY_TEXT 512 /* bytes of reply text kept, NUL included */

/** A reply copied out of the core (whose spans are transient).  Frozen: it
 *  never grows, so it may be used in arrays. */
typedef struct smtpw_posix_reply {
    uint32_t code; /* 200..599; 0 when no reply came (never sent, or lost) */
    uint32_t cmd;  /* SMTPW_CMD_* it answered */
    /* The reply's lines without CRLF, code included ("550 5.1.1 no"),
     * joined by '\n', NUL-terminated, cut at SMTPW_POSIX_REPLY_TEXT - 1. */
    char text[SMTPW_POSIX_REPLY_TEXT];
} smtpw_posix_reply;

/* smtpw_posix_send_config.trace direction */
#define SMTPW_POSIX_TRACE_CLIENT 0 /* a line the client sent */
#define SMTPW_POSIX_TRACE_SERVER 1 /* a line the server sent */
#define SMTPW_POSIX_TRACE_INFO 2   /* a note from the adapter, not a protocol line:
                                      "TLS started", bytes discarded, TLS skipped
                                      (only when cfg.tls is not NEVER) */

/* smtpw_posix_send_config.tls: STARTTLS policy (RFC 3207) */
#define SMTPW_POSIX_TLS_NEVER 0         /* never send STARTTLS (the default) */
#define SMTPW_POSIX_TLS_OPPORTUNISTIC 1 /* STARTTLS when offered and io has a starttls
                                           hook; plaintext when not offered or refused
                                           (RFC 7435); a failed handshake still ends
                                           the attempt (SMTPW_E_TLS) */
#define SMTPW_POSIX_TLS_REQUIRE 2       /* no MAIL unless TLS started: not offered,
                                           refused or a failed handshake is SMTPW_E_TLS */

/* smtpw_posix_send_config.flags, also the flags of smtpw_posix_addr_lookup() */
/* Delivery by MX may reach this machine: exchanger addresses in
 * 127.0.0.0/8, 0.0.0.0/8, ::/96 or ::ffff:0:0/96 (loopback, unspecified)
 * are kept.  For tests only: by default they are refused, as such an MX
 * loops back to us (RFC 5321 5.1). */
#define SMTPW_POSIX_SEND_ALLOW_LOOPBACK_MX 0x1u

/**
 * What to send: version 1.  Text is (pointer, length), never
 * NUL-terminated; a control byte (CR, LF, NUL...) in helo, from or a
 * recipient is SMTPW_E_INVALID_ARG before anything is sent.  All memory
 * stays the caller's and must outlive the call.
 * smtpw_posix_send_config_init() sets the defaults; the caller then sets
 * from, rcpt, nrcpt and body.  The uint32_t fields come first, so the
 * struct has no padding hole.
 */
typedef struct smtpw_posix_send_config {
    uint32_t version;            /* SMTPW_POSIX_SEND_CONFIG_VERSION (set by _init) */
    uint32_t tls;                /* SMTPW_POSIX_TLS_* (default NEVER).  When the
                                  * server offers STARTTLS, the adapter sends it
                                  * and, on 220, drops every byte the server sent
                                  * in clear after that reply (RFC 3207 4.2, a
                                  * plaintext injection), calls io->starttls (the
                                  * hook runs the client side of the handshake and
                                  * checks certificates), then EHLOs again,
                                  * forgetting the earlier capabilities. */
    uint32_t flags;              /* SMTPW_POSIX_SEND_* (default 0) */
    uint32_t timeout_ms;         /* 0: RFC 5321 4.5.3.2 values; else the bound of every wait */
    uint32_t connect_timeout_ms; /* per address; 0: 30 s */
    /* SMTPW_POSIX_RCPT_* policy: what a refused recipient does to the
     * transaction (default SMTPW_POSIX_RCPT_SEND_ACCEPTED). */
    uint32_t rcpt_policy;
    smtpw_span helo;             /* EHLO/HELO domain (RFC 5321 4.1.1.1: the client's own
                                  * name); length 0 (default {NULL, 0}): the address
                                  * literal of the socket's local end ("[192.0.2.1]",
                                  * RFC 5321 4.1.4), "localhost" when it has none
                                  * (AF_UNIX) */
    smtpw_span from;             /* reverse-path mailbox, unquoted; length 0 (default
                                  * {NULL, 0}): the null reverse-path <> */
    const smtpw_span *rcpt;      /* nrcpt forward-path mailboxes, unquoted (none empty) */
    size_t nrcpt;
    smtpw_posix_reply *rcpt_replies; /* caller's array of nrcpt entries, each recipient's
                                      * reply filled in order (code 0: none came);
                                      * may be NULL */
    /* Caller's array of nrcpt entries, each recipient's outcome
     * (SMTPW_POSIX_RCPT_NOT_SENT, _DELIVERED, _REFUSED), filled in order;
     * may be NULL.  Also where the adapter keeps track of the recipients
     * a 452 postponed, so without it there is one transaction only and a
     * 452 counts as any other 4xx (see smtpw_posix_send_fd()). */
    uint32_t *rcpt_status;
    const uint8_t *body;         /* RFC 5322 message, LF or CRLF line ends */
    size_t bodylen;
    const smtpw_posix_io *io;    /* NULL: smtpw_posix_io_plain() */
    void *io_ctx;                /* the hooks' per-connection state */
    /* Called with each protocol line (no CRLF), dir SMTPW_POSIX_TRACE_*,
     * e.g. for a -v dialogue; the body is reported as one summary line.
     * May be NULL. */
    void (*trace)(void *arg, uint32_t dir, const char *line, size_t len);
    void *trace_arg;
} smtpw_posix_send_config;

/* smtpw_posix_send_config.rcpt_policy (RFC 5321 3.3: each RCPT is
 * answered on its own; the client decides what to do with the rest) */
#define SMTPW_POSIX_RCPT_SEND_ACCEPTED 0 /* the message goes to the recipients accepted;
                                            with PIPELINING, DATA ends the RCPT flight */
#define SMTPW_POSIX_RCPT_RESET_ON_TEMP 1 /* any 4xx (but a 452 after an acceptance) resets
                                            the transaction before DATA: nothing is sent,
                                            so a retry cannot deliver twice; DATA waits
                                            for every RCPT reply */
#define SMTPW_POSIX_RCPT_RESET_ON_ANY 2  /* any refusal resets it: all or nothing */

/* smtpw_posix_send_config.rcpt_status values */
#define SMTPW_POSIX_RCPT_NOT_SENT 0  /* no message for it: accepted but the transaction
                                        was reset or failed, or never asked */
#define SMTPW_POSIX_RCPT_DELIVERED 1 /* accepted, and so was the message (2xx after it) */
#define SMTPW_POSIX_RCPT_REFUSED 2   /* its RCPT was refused: rcpt_replies has the reply */

/** The outcome of one transaction, filled by smtpw_posix_send*() (only
 *  library-filled: passed with its size, see smtpw_posix_send_fd()). */
typedef struct smtpw_posix_send_result {
    /* 0, or the SMTPW_E_* that stopped the transaction before the message
     * was accepted: SMTPW_E_IO (refused, reset, dropped), SMTPW_E_TIMEOUT,
     * SMTPW_E_PROTO (malformed reply), SMTPW_E_DNS, SMTPW_E_8BIT, SMTPW_E_SIZE,
     * SMTPW_E_NOTSUP (UTF-8 addresses, SMTPUTF8 not offered),
     * SMTPW_E_TLS (cfg.tls: no MAIL was sent; reply then holds the EHLO
     * reply when STARTTLS was not offered (cmd EHLO), the STARTTLS reply
     * when it was refused (cmd STARTTLS), or code 0 when the handshake or
     * the starttls hook failed). */
    int32_t err;
    uint32_t delivered; /* 1 when the server accepted the message (2xx after the body) */
    uint32_t stage;     /* SMTPW_CMD_* whose reply ended the attempt: GREETING, EHLO,
                         * HELO, MAIL, RCPT (no recipient accepted), DATA, BODY
                         * (delivered or refused), or NONE (err is set) */
    uint32_t accepted;  /* recipients accepted (2xx) */
    smtpw_posix_reply reply; /* the reply of `stage` (code 0 for RCPT/NONE); for a
                              * transaction reset by cfg.rcpt_policy (stage RCPT),
                              * the refusal that reset it.  With err IO, TIMEOUT
                              * or PROTO: code 0 and cmd the command whose reply
                              * was awaited (GREETING before the greeting), so a
                              * caller can say "closed after MAIL". */
    uint32_t transactions;    /* transactions whose message was accepted (more than
                               * one after a 452 split) */
    uint32_t delivered_rcpts; /* recipients the message was delivered to */
    int32_t os_error;         /* with err SMTPW_E_IO: the errno of the failed
                               * connect, read or write, or 0 when the server
                               * closed the connection (end of file) */
} smtpw_posix_send_result;

/**
 * Write the defaults of config version `version` (1 to
 * SMTPW_POSIX_SEND_CONFIG_VERSION) into cfg, version included, and not one
 * byte more than that version's struct: tls NEVER, everything else
 * 0/NULL (helo and from {NULL, 0}: the address literal and <>).  Returns 0, SMTPW_E_INVALID_ARG (cfg NULL) or
 * SMTPW_E_VERSION (nothing written).
 */
SMTPW_API int smtpw_posix_send_config_init(smtpw_posix_send_config *cfg, uint32_t version);

/**
 * Connect to host (a name, an IPv4 or an IPv6 address without brackets)
 * and port (a number or service name) over TCP.  Every address
 * getaddrinfo() gives is tried in order, each with a non-blocking connect
 * bounded by timeout_ms (0: 30 s).  The socket comes back non-blocking,
 * close-on-exec, with TCP_NODELAY; the caller closes it.
 * Returns 0 and sets *fd, SMTPW_E_NXDOMAIN (getaddrinfo: the name does not
 * exist, EAI_NONAME), SMTPW_E_DNS (no address for another reason, e.g. a
 * failed lookup), SMTPW_E_TIMEOUT (the last address timed out), SMTPW_E_IO
 * (refused or unreachable: errno), SMTPW_E_INVALID_ARG.
 */
SMTPW_API int smtpw_posix_connect(const char *host, const char *port, uint32_t timeout_ms,
                                  int *fd);

/**
 * Run one transaction over a connected stream socket fd (made non-blocking
 * here; not closed): greeting, EHLO (HELO after 500/502), MAIL with SIZE
 * and BODY=8BITMIME as offered, RCPTs, DATA, body, QUIT.  With PIPELINING,
 * MAIL and the RCPTs go out in one write (RFC 2920), and DATA with them
 * under SMTPW_POSIX_RCPT_SEND_ACCEPTED; under the RESET policies DATA
 * waits for the RCPT replies, so that a transaction the policy resets
 * never sees a 354 (it gets RSET instead).  The body is sent only when a
 * recipient was accepted and DATA got 354, in large writes that include
 * the terminator; otherwise RSET.  cfg->rcpt_replies (when not NULL) gets
 * each recipient's reply, cfg->rcpt_status its outcome.
 * A 452 after at least one recipient of the transaction was accepted means
 * "too many recipients" (RFC 5321 4.5.3.1.10), not a refusal: with
 * cfg->rcpt_status, the message goes to the accepted ones and those the
 * 452 postponed follow in further transactions on the same session (res
 * then describes the last one; res->transactions counts them).  A 452 with
 * no acceptance before it is an ordinary 4xx.  With cfg->tls STARTTLS
 * comes right after the first 2xx EHLO, before any MAIL, and EHLO follows
 * the handshake (RFC 3207 4.2).  A config of an older version is read only
 * as far as that version goes (newer fields: defaults).
 * ressize is sizeof *res: the library writes no byte past it and zero-fills
 * what lies past its own struct (api.md B).
 * Returns 0 when the session ran (read res: delivered, stage, replies), or
 * the same SMTPW_E_* as res->err; SMTPW_E_INVALID_ARG (also in res->err)
 * for bad arguments, e.g. cfg NULL, a span with a NULL pointer and a
 * length, an empty recipient, a control byte (CR, LF, NUL...) in helo,
 * from or a recipient (refused before connecting: nothing is sent), a
 * recipient that is not a mailbox, an unknown cfg->tls, or SMTPW_POSIX_TLS_REQUIRE with io lacking a starttls
 * hook; SMTPW_E_VERSION for an unknown cfg->version; res NULL is
 * SMTPW_E_INVALID_ARG with nothing written.
 */
SMTPW_API int smtpw_posix_send_fd(int fd, const smtpw_posix_send_config *cfg,
                                  smtpw_posix_send_result *res, size_t ressize);

/**
 * smtpw_posix_connect() then smtpw_posix_send_fd(), then the io close hook
 * (close(2) without one).  A failed connect is reported in res->err (stage
 * NONE).  Returns as send_fd.
 */
SMTPW_API int smtpw_posix_send(const char *host, const char *port,
                               const smtpw_posix_send_config *cfg, smtpw_posix_send_result *res,
                               size_t ressize);

/* ---- DNS (lib/posix/dns.c): MX lookup, RFC 5321 5.1 ---- */

#define SMTPW_POSIX_HOST_MAX 256 /* a domain name as text, NUL included */

/** One mail exchanger, or one address of a host. */
typedef struct smtpw_posix_mx {
    uint32_t pref;                    /* MX preference; 0 for an implicit MX */
    char host[SMTPW_POSIX_HOST_MAX];  /* NUL-terminated, no trailing dot */
} smtpw_posix_mx;

/**
 * Parse a DNS response (RFC 1035 4.1) to an MX query with the given id.
 * Each MX record of the answer section is written to out (up to cap; more
 * are counted but dropped), sorted by preference (RFC 5321 5.1; equal
 * preferences keep the server's order).  Compression pointers are followed
 * only backwards and at most 32 times per name; every read is bounds
 * checked.  On an error, what out holds means nothing.  A null MX (RFC 7505: one record, exchange ".") comes back as
 * one entry with an empty host.
 * Returns the number of MX records found (>= 0; 0 with NOERROR means no
 * MX: use the domain's A/AAAA), SMTPW_E_NXDOMAIN (no such domain), SMTPW_E_DNS (SERVFAIL and other rcodes, wrong id, not a
 * response, truncated: TC set) or SMTPW_E_PROTO (malformed packet: bad
 * pointer, loop, overrun, label too long, bytes outside LDH and '_').
 */
SMTPW_API int smtpw_posix_dns_parse_mx(const uint8_t *pkt, size_t len, uint16_t id,
                                       smtpw_posix_mx *out, size_t cap);

/**
 * Look up the mail exchangers of domain (RFC 5321 5.1): MX records in
 * preference order; when there is none, the domain itself (pref 0, the
 * implicit MX).  nameserver: "IP" or "IP:PORT" ("[IPv6]:PORT"), or NULL
 * for the first nameserver of /etc/resolv.conf (127.0.0.1 when none).
 * Queries go over UDP with EDNS0 (RFC 6891, 1232 octets; asked again
 * without it after FORMERR), retried once, each wait bounded by timeout_ms
 * (0: 5 s); a truncated answer is asked again over TCP (RFC 7766), within
 * one more timeout.  Answers are taken only from the nameserver's address
 * and port, with the query's random id and question (RFC 5452 9); others
 * are ignored.  Exchangers that are IP literals in disguise (last label
 * starting with a digit, RFC 5321 5.1), "localhost" and names under it
 * (RFC 6761 6.3), or single labels (not fully qualified, RFC 5321 2.3.5:
 * "ip6-localhost", "mailhost") are skipped; the implicit MX is held to
 * the same rules.  Returns the number of entries written (>= 1),
 * SMTPW_E_NXDOMAIN (the domain does not exist), SMTPW_E_NOMAIL (the domain
 * takes no mail: a null MX, RFC 7505, or MX records none of which is
 * usable, or an unusable implicit MX) -- both permanent --, SMTPW_E_DNS (no
 * answer, SERVFAIL: temporary), SMTPW_E_PROTO (malformed answer),
 * SMTPW_E_INVALID_ARG.
 */
SMTPW_API int smtpw_posix_mx_lookup(const char *domain, const char *nameserver,
                                    uint32_t timeout_ms, smtpw_posix_mx *out, size_t cap);

/**
 * Look up the IPv6 (AAAA) then IPv4 (A) addresses of host through the
 * given nameserver (as above, NULL for /etc/resolv.conf's) and write them
 * as numeric text into out (the pref field is 0).  Meant for the
 * addresses of a mail exchanger: addresses of this machine (127.0.0.0/8,
 * 0.0.0.0/8, ::/96 and the IPv4-mapped forms: an MX looping back to us,
 * RFC 5321 5.1) are left out unless flags has
 * SMTPW_POSIX_SEND_ALLOW_LOOPBACK_MX (tests; a send's cfg.flags may be
 * passed as they are, other bits are ignored).  An answer that fails any
 * check contributes no address.  host must not point into out.  Returns
 * the number written (>= 1), 0 when host has addresses but every one is
 * this machine, SMTPW_E_NXDOMAIN, SMTPW_E_DNS, SMTPW_E_PROTO or
 * SMTPW_E_INVALID_ARG.
 */
SMTPW_API int smtpw_posix_addr_lookup(const char *host, const char *nameserver,
                                      uint32_t timeout_ms, uint32_t flags, smtpw_posix_mx *out,
                                      size_t cap);

#ifdef __cplusplus
}
#endif
#endif /* SMTPWIRE_POSIX_H */
