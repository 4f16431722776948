/* The example programs' key=value log: see log.h.
 * SPDX-License-Identifier: MIT */
#if !defined(_POSIX_C_SOURCE) || _POSIX_C_SOURCE < 200809L
#undef _POSIX_C_SOURCE
#define _POSIX_C_SOURCE 200809L
#endif

#include "log.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "clock.h"
#include "escape.h"

static int cur_level = LOG_INFO;
static int out_fd = 2;

/* log_set_buffered(): whole lines waiting for log_flush() */
#define BUF_MAX (16u * LOG_LINE_MAX)
static char *pend;
static size_t npend;
static int buffered;

/* Room kept at the end of every line for " truncated=1", the newline and
 * the NUL of log_text(). */
#define TAIL (sizeof " truncated=1" - 1 + 2)
#define LIMIT (LOG_LINE_MAX - TAIL)

static const char *const level_names[] = {"error", "warn", "info", "debug"};

void log_set_level(int level)
{
    cur_level = level < LOG_ERROR ? LOG_ERROR : level > LOG_DEBUG ? LOG_DEBUG : level;
}

int log_get_level(void)
{
    return cur_level;
}

int log_enabled(int level)
{
    return level <= cur_level;
}

void log_set_fd(int fd)
{
    out_fd = fd;
}

static void put(log_line *l, const char *s, size_t n)
{
    memcpy(l->buf + l->len, s, n);
    l->len += n;
    l->buf[l->len] = '\0';
}

/* A value may go bare when a parser splitting at spaces and at the first
 * '=' gets it back unchanged and nothing in it needs escaping. */
static int bare_ok(const char *v, size_t n)
{
    size_t i;
    if (n == 0)
        return 0;
    for (i = 0; i < n; i++) {
        unsigned char b = (unsigned char)v[i];
        if (b <= 0x20 || b >= 0x7f || b == '"' || b == '\\' || b == '=')
            return 0;
    }
    return 1;
}

void log_bytes(log_line *l, const char *key, const char *val, size_t n)
{
    size_t klen = strlen(key), room, used;
    if (!l->on)
        return;
    if (!val)
        n = 0;
    /* " key=" plus at least the two quotes must fit, else drop the pair */
    if (l->len + 1 + klen + 1 + 2 > LIMIT) {
        l->cut = 1;
        return;
    }
    put(l, " ", 1);
    put(l, key, klen);
    put(l, "=", 1);
    if (bare_ok(val, n) && l->len + n <= LIMIT) {
        put(l, val, n);
        return;
    }
    room = LIMIT - l->len - 2; /* the characters between the quotes */
    put(l, "\"", 1);
    l->len += esc_write(l->buf + l->len, room + 1, val ? val : "", n, ESC_QUOTED, &used);
    if (used < n)
        l->cut = 1;
    put(l, "\"", 1);
}

void log_str(log_line *l, const char *key, const char *val)
{
    log_bytes(l, key, val, val ? strlen(val) : 0);
}

void log_num(log_line *l, const char *key, uint64_t val)
{
    char d[24];
    int n = snprintf(d, sizeof d, "%llu", (unsigned long long)val);
    log_bytes(l, key, d, n > 0 ? (size_t)n : 0);
}

void log_begin(log_line *l, int level, const char *event)
{
    char ts[32];
    l->len = 0;
    l->cut = 0;
    l->buf[0] = '\0';
    l->on = log_enabled(level);
    if (!l->on)
        return;
    put(l, "ts=", 3);
    (void)clock_rfc3339(ts, sizeof ts, clock_wall_ms());
    put(l, ts, strlen(ts));
    log_str(l, "level", level_names[level < 0 ? 0 : level > LOG_DEBUG ? LOG_DEBUG : level]);
    log_str(l, "event", event);
}

const char *log_text(log_line *l)
{
    return l->buf;
}

/* Write all of p (one call unless the descriptor takes less: a pipe takes
 * up to PIPE_BUF bytes whole, a file or terminal may not). */
static int write_all(const char *p, size_t n)
{
    size_t off = 0;
    while (off < n) {
        ssize_t w = write(out_fd, p + off, n - off);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return -1;
        off += (size_t)w;
    }
    return 0;
}

int log_flush(void)
{
    int rc = 0;
    if (npend)
        rc = write_all(pend, npend);
    npend = 0;
    return rc;
}

void log_set_buffered(int on)
{
    if (!on)
        (void)log_flush();
    if (on && !pend)
        pend = (char *)malloc(BUF_MAX); /* never freed: lives as long as the program */
    buffered = on && pend;
}

int log_end(log_line *l)
{
    int rc = 0;
    if (!l->on)
        return 0;
    if (l->cut)
        put(l, " truncated=1", sizeof " truncated=1" - 1);
    put(l, "\n", 1);
    l->on = 0;
    if (!buffered)
        return write_all(l->buf, l->len);
    if (npend + l->len > BUF_MAX)
        rc = log_flush();
    memcpy(pend + npend, l->buf, l->len);
    npend += l->len;
    return rc;
}

void log_msg(int level, const char *event, const char *msg)
{
    log_line l;
    log_begin(&l, level, event);
    if (msg)
        log_str(&l, "msg", msg);
    (void)log_end(&l);
}
