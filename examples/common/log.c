/* The example programs' key=value log: see log.h.
 * SPDX-License-Identifier: MIT */
#if !defined(_POSIX_C_SOURCE) || _POSIX_C_SOURCE < 200809L
#undef _POSIX_C_SOURCE
#define _POSIX_C_SOURCE 200809L
#endif

#include "log.h"

#include <errno.h>
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

/* The time stamp of the lines, "2026-01-31T23:59:59.123Z".  Buffered, it
 * is read and formatted once per loop turn (log_flush() ends a turn) and
 * shared by the turn's lines; unbuffered, once per line.  The date and
 * time part is formatted again only when the second changes. */
static char stamp[32];
static size_t stamplen;
static uint64_t stamp_sec = UINT64_MAX; /* the second stamp shows */
static int stamp_fresh;                 /* stamp is this turn's */

/* Room kept at the end of every line for " truncated=1", the newline and
 * the NUL of log_text(). */
#define TAIL (sizeof " truncated=1" - 1 + 2)
#define LIMIT (LOG_LINE_MAX - TAIL)

/* " level=NAME event=", padded to one fixed-size copy (the line has room
 * past its end for the padding, which the next bytes overwrite) */
static const char level_heads[4][24] = {" level=error event=", " level=warn event=",
                                        " level=info event=", " level=debug event="};
static const size_t level_head_lens[4] = {19, 18, 18, 19};

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
}

/* A value may go bare when a parser splitting at spaces and at the first
 * '=' gets it back unchanged and nothing in it needs escaping: printable
 * ASCII other than space, '"', '\\' and '='.  One byte per entry. */
static const unsigned char plain[256] = {
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    0, 1, 0, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, /* not ' ' '"' */
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 1, 1, /* not '=' */
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 1, 1, 1, /* not backslash */
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, /* not DEL */
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
};

#define ONES UINT64_C(0x0101010101010101)
#define HIGHS UINT64_C(0x8080808080808080)

/* The same test for eight bytes at once.  Per byte of w, each term sets
 * the top bit for a byte that is not plain; a carry or borrow between
 * bytes starts only at such a byte, so the word tests clean exactly when
 * all eight bytes are plain. */
static int word_plain(uint64_t w)
{
    uint64_t q = w ^ (ONES * 0x22u), b = w ^ (ONES * 0x5cu), e = w ^ (ONES * 0x3du);
    return ((((w - ONES * 0x21u) & ~w) |             /* below '!' */
             ((w + ONES) | w) |                      /* DEL and above */
             ((q - ONES) & ~q) | ((b - ONES) & ~b) | /* '"', backslash */
             ((e - ONES) & ~e)) &                    /* '=' */
            HIGHS) == 0;
}

/* The value quoted and escaped, cut to fit (never inside an escape); its
 * first k bytes are known plain, and stand for themselves quoted too. */
static void put_quoted(log_line *l, const char *val, size_t n, size_t k)
{
    size_t room = LIMIT - l->len - 2, used; /* the characters between the quotes */
    l->buf[l->len++] = '"';
    if (k > room)
        k = room;
    put(l, val, k);
    l->len += esc_write(l->buf + l->len, room - k + 1, val + k, n - k, ESC_QUOTED, &used);
    if (k + used < n)
        l->cut = 1;
    l->buf[l->len++] = '"';
}

/* " key=" in place; 0 when even that and two quotes do not fit (the pair
 * is dropped and the line marked cut). */
static int put_key(log_line *l, const char *key)
{
    size_t k = strlen(key);
    if (l->len + k + 4 > LIMIT) {
        l->cut = 1;
        return 0;
    }
    l->buf[l->len] = ' ';
    memcpy(l->buf + l->len + 1, key, k);
    l->buf[l->len + 1 + k] = '=';
    l->len += k + 2;
    return 1;
}

/* " key=value", the value bare when it can be, else quoted.  A value that
 * fits is copied while it is scanned, a word at a time: a plain value
 * (the usual one) is read once. */
static void put_pair(log_line *l, const char *key, const char *val, size_t n)
{
    size_t i = 0;
    char *o;
    if (!put_key(l, key))
        return;
    o = l->buf + l->len;
    if (n && l->len + n <= LIMIT) {
        uint64_t w;
        for (; i + 8 <= n; i += 8) {
            memcpy(&w, val + i, 8);
            if (!word_plain(w))
                break;
            memcpy(o + i, &w, 8);
        }
        if (i < n && i >= 8 && i == (n & ~(size_t)7)) {
            /* a tail of 1 to 7 bytes after plain words: the last eight
             * bytes as one word, overlapping what was already copied */
            memcpy(&w, val + n - 8, 8);
            if (word_plain(w)) {
                memcpy(o + n - 8, &w, 8);
                i = n;
            }
        }
        for (; i < n && plain[(unsigned char)val[i]]; i++)
            o[i] = val[i];
        if (i == n) {
            l->len += n;
            return;
        }
    }
    put_quoted(l, val, n, i);
}

void log_bytes(log_line *l, const char *key, const char *val, size_t n)
{
    if (!l->on)
        return;
    put_pair(l, key, val ? val : "", val ? n : 0);
}

void log_str(log_line *l, const char *key, const char *val)
{
    if (!l->on)
        return;
    put_pair(l, key, val ? val : "", val ? strlen(val) : 0);
}

void log_num(log_line *l, const char *key, uint64_t val)
{
    char d[20]; /* UINT64_MAX has 20 digits */
    size_t i = sizeof d;
    if (!l->on)
        return;
    do {
        d[--i] = (char)('0' + (int)(val % 10u));
        val /= 10u;
    } while (val);
    if (!put_key(l, key))
        return;
    if (l->len + sizeof d - i > LIMIT) {
        put_quoted(l, d + i, sizeof d - i, 0);
        return;
    }
    for (; i < sizeof d; i++) /* digits are plain; a few, not worth a memcpy call */
        l->buf[l->len++] = d[i];
}

/* Read the wall clock into stamp: the milliseconds always, the rest when
 * the second changed. */
static void stamp_read(void)
{
    uint64_t ms = clock_wall_ms(), sec = ms / 1000u;
    unsigned frac = (unsigned)(ms % 1000u);
    if (sec != stamp_sec) {
        (void)clock_rfc3339(stamp, sizeof stamp, ms);
        stamplen = strlen(stamp);
        stamp_sec = sec;
    } else if (stamplen) { /* "....:59.123Z": only the milliseconds move */
        stamp[20] = (char)('0' + (int)(frac / 100u));
        stamp[21] = (char)('0' + (int)(frac / 10u % 10u));
        stamp[22] = (char)('0' + (int)(frac % 10u));
    }
    stamp_fresh = buffered;
}

void log_restamp(void)
{
    stamp_fresh = 0;
}

int log_begin(log_line *l, int level, const char *event)
{
    int k = level < 0 ? 0 : level > LOG_DEBUG ? LOG_DEBUG : level;
    l->len = 0;
    l->cut = 0;
    l->buf[0] = '\0';
    l->on = log_enabled(level);
    if (!l->on)
        return 0; /* nothing formatted, not even the clock read */
    if (!stamp_fresh)
        stamp_read();
    memcpy(l->buf, "ts=", 3);
    if (stamplen == 24) /* a fixed size: a few moves, no call */
        memcpy(l->buf + 3, stamp, 24);
    else
        memcpy(l->buf + 3, stamp, stamplen);
    l->len = 3 + stamplen;
    memcpy(l->buf + l->len, level_heads[k], sizeof level_heads[k]);
    l->len += level_head_lens[k] - (sizeof " event=" - 1);
    log_str(l, "event", event); /* a constant, written as any value would be */
    return 1;
}

const char *log_text(log_line *l)
{
    l->buf[l->len] = '\0'; /* TAIL keeps room for it */
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
    stamp_fresh = 0; /* the loop sleeps next: the next turn reads the clock again */
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
    stamp_fresh = 0;
}

int log_end(log_line *l)
{
    int rc = 0;
    if (!l->on)
        return 0;
    if (l->cut)
        put(l, " truncated=1", sizeof " truncated=1" - 1);
    l->buf[l->len++] = '\n';
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
    if (!log_begin(&l, level, event))
        return;
    if (msg)
        log_str(&l, "msg", msg);
    (void)log_end(&l);
}
