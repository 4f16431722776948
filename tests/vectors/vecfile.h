/* What both transcript runners share: a growing log buffer, the escapes of
 * .smtp lines, and the walk over the vector directories.
 * SPDX-License-Identifier: MIT */
#ifndef SMTPW_TEST_VECFILE_H
#define SMTPW_TEST_VECFILE_H
#include <stddef.h>

struct buf {
    char *p;
    size_t n, cap;
};

/* Append n bytes (always NUL-terminated after them). */
void put(struct buf *b, const void *p, size_t n);
void puts_(struct buf *b, const char *s);

/* Decode \r \n \t \0 \xHH and \<c> (c itself) from s into out, which must
 * hold strlen(s) bytes; returns the decoded length. */
size_t unescape(const char *s, char *out);

/* Hand each space-separated token of a "!" config line to item(ctx, tok);
 * returns 0, or -1 (after naming the token on stderr) when item() refuses. */
int config_line(const char *p, int (*item)(void *ctx, char *tok), void *ctx);

/* Run run_vector() on every *.smtp file of each directory argument (sorted
 * by name) or on each file argument; print the totals.  Returns the exit
 * status: 0, 1 when *failures, 77 when there was no vector. */
int run_all(int argc, char **argv, int (*run_vector)(const char *path), const int *failures,
            const long *runs);
#endif
