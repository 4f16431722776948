/* DATA body decoding: dot-unstuffing, CRLF "." CRLF only (RFC 5321
 * 4.1.1.4, 4.5.2), bare CR/LF policy (2.3.8; the SMTP smuggling family,
 * CVE-2023-51764), text line limit (4.5.3.1.6).
 *
 * Zero copy: data is handed out as spans into the caller's input, cut only
 * around a stuffed dot or a byte the policy rewrites.  Bulk data goes
 * through a block check that gcc and clang vectorize; bytes are handled one
 * by one only in blocks holding something special.
 * SPDX-License-Identifier: MIT */
#include "unstuff.h"

/* Static bytes for a held CR given back, or a bare byte normalized. */
static const char crlf[2] = {'\r', '\n'};

#define BLOCK 64

void smtpw__unstuff_init(smtpw__unstuff *u, unsigned policy, uint32_t max_line)
{
    u->line = 0;
    u->max_line = max_line;
    u->state = SMTPW__US_BOL;
    u->policy = (uint8_t)policy;
}

int smtpw__unstuff_may_end(const smtpw__unstuff *u, const uint8_t *in, size_t len)
{
    switch (u->state) {
    case SMTPW__US_BOL:
        return len >= 3 && in[0] == '.' && in[1] == '\r' && in[2] == '\n';
    case SMTPW__US_DOT:
        return len >= 2 && in[0] == '\r' && in[1] == '\n';
    case SMTPW__US_DOTCR:
        return len >= 1 && in[0] == '\n';
    default:
        return 0;
    }
}

/* Non-zero when one more content octet would make the line too long,
 * counting the CRLF it must still end with. */
static int full(const smtpw__unstuff *u)
{
    return u->max_line != 0 && (uint64_t)u->line + 3 > u->max_line;
}

/* The held CR turned out to be bare (not followed by LF). */
static int held_bare(smtpw__unstuff *u, smtpw_span *out)
{
    u->state = SMTPW__US_MID;
    switch (u->policy) {
    case SMTPW_BARE_NORMALIZE:
        u->line = 0;
        *out = smtpw__span(crlf, 2);
        return SMTPW__UNSTUFF_DATA;
    case SMTPW_BARE_KEEP:
        if (full(u))
            return SMTPW__UNSTUFF_LONG;
        u->line++;
        *out = smtpw__span(crlf, 1);
        return SMTPW__UNSTUFF_DATA;
    default:
        return SMTPW__UNSTUFF_BARE;
    }
}

/*
 * Non-zero when p[0, n) holds nothing special: every CR is followed by LF
 * and every LF preceded by CR (checked as "p[k-1] is CR" == "p[k] is LF",
 * which also pairs p[-1] with p[0]), and no '.' follows an LF.  Reads
 * p[-1]; n is a multiple of 16 and a constant at each call.  Branch-free
 * plain C that compilers turn into vector compares.  The two spellings
 * compute the same thing: gcc vectorizes the first best; clang sees p[k-1]
 * as a recurrence there and needs the 16-lane form (about 10x faster).
 */
static int block_clean(const uint8_t *p, int n)
{
#if defined(__clang__)
    uint8_t bad[16];
    int k, j;
    for (j = 0; j < 16; j++)
        bad[j] = 0;
    for (k = 0; k < n; k += 16)
        for (j = 0; j < 16; j++) {
            uint8_t c = p[k + j], pr = p[k + j - 1];
            bad[j] |= (uint8_t)(((pr == '\r') ^ (c == '\n')) | ((pr == '\n') & (c == '.')));
        }
    for (j = 1; j < 16; j++)
        bad[0] |= bad[j];
    return bad[0] == 0;
#else
    unsigned char bad = 0;
    int k;
    for (k = 0; k < n; k++) {
        unsigned char c = p[k], pr = p[k - 1];
        bad |= (unsigned char)(-(pr == '\r') ^ -(c == '\n'));
        bad |= (unsigned char)(-(pr == '\n') & -(c == '.'));
    }
    return bad == 0;
#endif
}

/* Bytes after the last LF of p[0, n), or n + 1 when there is none. */
static size_t after_last_lf(const uint8_t *p, size_t n)
{
    size_t k = n;
    while (k > 0 && p[k - 1] != '\n')
        k--;
    return k ? n - k : n + 1;
}

static int deliver(size_t s, size_t i, const uint8_t *in, size_t *consumed, smtpw_span *out)
{
    *consumed = i;
    if (i == s)
        return SMTPW__UNSTUFF_MORE;
    *out = smtpw__span((const char *)in + s, i - s);
    return SMTPW__UNSTUFF_DATA;
}

int smtpw__unstuff_next(smtpw__unstuff *u, const uint8_t *in, size_t len, size_t *consumed,
                        smtpw_span *out)
{
    size_t i = 0, s, stop;

    *consumed = 0;
    out->ptr = NULL;
    out->len = 0;

    /* Bytes held from the previous piece, and a line starting with '.'. */
    for (;;) {
        if (u->state == SMTPW__US_MID)
            break;
        if (i == len) {
            *consumed = i;
            return SMTPW__UNSTUFF_MORE;
        }
        switch (u->state) {
        case SMTPW__US_CR:
            if (in[i] == '\n') {
                u->state = SMTPW__US_BOL;
                u->line = 0;
                *consumed = i + 1;
                *out = smtpw__span(crlf, 2);
                return SMTPW__UNSTUFF_DATA;
            }
            *consumed = i;
            return held_bare(u, out);
        case SMTPW__US_DOT:
            if (in[i] == '\r') {
                i++;
                u->state = SMTPW__US_DOTCR;
                continue;
            }
            u->state = SMTPW__US_MID; /* a stuffed dot: dropped (4.5.2) */
            break;
        case SMTPW__US_DOTCR:
            if (in[i] == '\n') {
                u->state = SMTPW__US_BOL;
                u->line = 0;
                *consumed = i + 1;
                return SMTPW__UNSTUFF_END;
            }
            *consumed = i; /* the dot is dropped, the CR is bare */
            return held_bare(u, out);
        default: /* BOL */
            if (in[i] == '.') {
                i++;
                u->state = SMTPW__US_DOT;
                continue;
            }
            break;
        }
        break;
    }

    s = i;
    while (i < len) {
        /* Fast path: whole clean blocks.  Needs p[-1] (so the first byte of a
         * call goes the slow way), and a line limit no line in the block can
         * reach (else the block goes the slow way and the next is tried). */
        if (len - i < BLOCK + (i == 0)) {
            stop = len;
        } else if (i == 0) {
            stop = 1;
        } else if (u->max_line != 0 && (uint64_t)u->line + BLOCK + 2 > u->max_line) {
            stop = i + BLOCK;
        } else {
            /* Two blocks at once where possible (halves the reduction work);
             * if that is dirty, the first one alone (keeps text with dot
             * lines fast). */
            size_t b = 0;
            if (len - i >= 2 * BLOCK &&
                (u->max_line == 0 || (uint64_t)u->line + 2 * BLOCK + 2 <= u->max_line) &&
                block_clean(in + i, 2 * BLOCK))
                b = 2 * BLOCK;
            else if (block_clean(in + i, BLOCK))
                b = BLOCK;
            if (b) {
                /* A CR ending the block is paired with an LF not yet checked:
                 * leave it to the next round. */
                size_t n = in[i + b - 1] == '\r' ? b - 1 : b;
                if (u->max_line) {
                    size_t a = after_last_lf(in + i, n);
                    u->line = a > n ? u->line + (uint32_t)n : (uint32_t)a;
                }
                i += n;
                u->state = in[i - 1] == '\n' ? SMTPW__US_BOL : SMTPW__US_MID;
                continue;
            }
            stop = i + BLOCK;
        }

        /* Slow path, one byte at a time up to stop. */
        while (i < stop) {
            unsigned char c = in[i];
            if (c == '.' && u->state == SMTPW__US_BOL)
                return deliver(s, i, in, consumed, out); /* next call handles it */
            if (c == '\r') {
                if (i + 1 == len) {
                    /* Maybe half of a CRLF: hold it (consumed, not delivered). */
                    int r = deliver(s, i, in, consumed, out);
                    *consumed = i + 1;
                    u->state = SMTPW__US_CR;
                    return r;
                }
                if (in[i + 1] == '\n') {
                    i += 2;
                    u->state = SMTPW__US_BOL;
                    u->line = 0;
                    continue;
                }
            } else if (c != '\n') {
                if (full(u)) {
                    if (i > s)
                        return deliver(s, i, in, consumed, out);
                    *consumed = i;
                    return SMTPW__UNSTUFF_LONG;
                }
                u->line++;
                u->state = SMTPW__US_MID;
                i++;
                continue;
            }
            /* A bare CR or a bare LF. */
            if (u->policy == SMTPW_BARE_KEEP) {
                if (full(u)) {
                    if (i > s)
                        return deliver(s, i, in, consumed, out);
                    *consumed = i;
                    return SMTPW__UNSTUFF_LONG;
                }
                u->line++;
                u->state = SMTPW__US_MID;
                i++;
                continue;
            }
            if (i > s)
                return deliver(s, i, in, consumed, out); /* cut before it */
            *consumed = i + 1;
            u->state = SMTPW__US_MID;
            if (u->policy == SMTPW_BARE_NORMALIZE) {
                u->line = 0;
                *out = smtpw__span(crlf, 2);
                return SMTPW__UNSTUFF_DATA;
            }
            return SMTPW__UNSTUFF_BARE;
        }
    }
    return deliver(s, i, in, consumed, out);
}
