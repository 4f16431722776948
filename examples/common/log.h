/* The example programs' log: one line per event on stderr, in a stable
 * key=value format a program can parse:
 *
 *   ts=2026-01-31T23:59:59.123Z level=info event=connect session=... peer=[192.0.2.1]:40000
 *
 * The first three keys are always ts (RFC 3339 UTC), level (error, warn,
 * info, debug) and event; the rest depend on the event.  A value is
 * written bare when it is non-empty and holds only printable ASCII other
 * than space, '"', '\' and '='; otherwise it is quoted, "...", with '"',
 * '\' and every byte outside printable ASCII escaped (escape.h: \" \\
 * \xNN).  So whatever a peer sends, a line holds no CR, LF or control
 * byte and its key=value pairs split unambiguously: a client cannot end
 * a line early or forge one.  A line is at most LOG_LINE_MAX bytes; a value
 * that would not fit is cut, and the line then ends with "truncated=1".
 * Unbuffered (the default), each line is one write(2), so concurrent
 * writers to one pipe do not interleave (PIPE_BUF).  Buffered, lines are
 * kept until log_flush() (a poll loop calls it before it sleeps) or until
 * the buffer is full, so a busy server pays one write per loop turn, not
 * one per event; a write then holds whole lines only.
 * Cost: a line whose level is off costs a compare (nothing is formatted,
 * the clock is not read).  Buffered, the wall clock is read and the time
 * stamp formatted once per loop turn (until log_flush()), and the turn's
 * lines share it; a plain value is scanned once and copied.
 * SPDX-License-Identifier: MIT */
#ifndef SMTPWIRE_EXAMPLE_LOG_H
#define SMTPWIRE_EXAMPLE_LOG_H

#include <stddef.h>
#include <stdint.h>

/* Levels: a line is written when its level <= the current level. */
#define LOG_ERROR 0 /* -q shows only these */
#define LOG_WARN 1
#define LOG_INFO 2  /* the default */
#define LOG_DEBUG 3 /* -v: the protocol dialogue too */

#define LOG_LINE_MAX 4096 /* bytes, the newline included; PIPE_BUF on Linux */

typedef struct log_line {
    char buf[LOG_LINE_MAX];
    size_t len;
    int on;  /* 0: the level is off, every call is a no-op */
    int cut; /* a value was cut: "truncated=1" at the end */
} log_line;

/* The current level (default LOG_INFO) and the descriptor lines go to
 * (default 2, stderr). */
void log_set_level(int level);
int log_get_level(void);
int log_enabled(int level);
void log_set_fd(int fd);

/* Buffer lines (on != 0) until log_flush(), or write each at once (0,
 * the default; switching off flushes). */
void log_set_buffered(int on);

/* Write the buffered lines.  Returns 0, or -1 when the write failed (the
 * lines are dropped; the program goes on). */
int log_flush(void);

/* Start a line: ts, level and event.  event is a trusted constant.
 * Returns non-zero when the level is on: a caller with costly values to
 * prepare can skip them when it returns 0. */
int log_begin(log_line *l, int level, const char *event);

/* Buffered: the next line reads the clock again instead of sharing the
 * turn's time stamp (after something slow within a turn, an fsync). */
void log_restamp(void);

/* Append key=value.  key is a trusted constant ([a-z0-9_]); the value is
 * escaped as needed: untrusted bytes are fine (log_bytes: n bytes, which
 * may hold NUL; log_str: NUL-terminated, NULL as ""). */
void log_bytes(log_line *l, const char *key, const char *val, size_t n);
void log_str(log_line *l, const char *key, const char *val);
void log_num(log_line *l, const char *key, uint64_t val);

/* Finish the line with a newline and write it (or buffer it).  Returns
 * 0, or -1 when a write failed (the line is lost; the program goes on). */
int log_end(log_line *l);

/* The line as built so far (no newline), NUL-terminated: for tests. */
const char *log_text(log_line *l);

/* One-shot helper: "level event msg=..." for simple messages. */
void log_msg(int level, const char *event, const char *msg);

#endif
