/* See vecfile.h.  SPDX-License-Identifier: MIT */
#include "vecfile.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void put(struct buf *b, const void *p, size_t n)
{
    if (b->n + n + 1 > b->cap) {
        b->cap = (b->n + n + 1) * 2 + 64;
        b->p = realloc(b->p, b->cap);
        if (!b->p)
            abort();
    }
    if (n)
        memcpy(b->p + b->n, p, n);
    b->n += n;
    b->p[b->n] = 0;
}

void puts_(struct buf *b, const char *s)
{
    put(b, s, strlen(s));
}

static int hexval(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

size_t unescape(const char *s, char *out)
{
    size_t n = 0;
    while (*s) {
        if (*s != '\\' || !s[1]) {
            out[n++] = *s++;
            continue;
        }
        s++;
        switch (*s) {
        case 'r': out[n++] = '\r'; break;
        case 'n': out[n++] = '\n'; break;
        case 't': out[n++] = '\t'; break;
        case '0': out[n++] = '\0'; break;
        case 'x': {
            unsigned v = 0;
            int k;
            /* up to two hex digits; never past the end of s */
            for (k = 0; k < 2 && hexval(s[1]) >= 0; k++, s++)
                v = v * 16 + (unsigned)hexval(s[1]);
            out[n++] = (char)v;
            break;
        }
        default: out[n++] = *s; break;
        }
        s++;
    }
    return n;
}

int config_line(const char *p, int (*item)(void *ctx, char *tok), void *ctx)
{
    char one[512];
    while (*p) {
        size_t k = strcspn(p, " ");
        if (k) {
            snprintf(one, sizeof one, "%.*s", (int)k, p);
            if (item(ctx, one) != 0) {
                fprintf(stderr, "bad config item %s\n", one);
                return -1;
            }
        }
        p += k;
        while (*p == ' ')
            p++;
    }
    return 0;
}

static int cmp(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

int run_all(int argc, char **argv, int (*run_vector)(const char *path), const int *failures,
            const long *runs)
{
    int i, n = 0;
    for (i = 1; i < argc; i++) {
        DIR *d = opendir(argv[i]);
        char *names[1024];
        int nn = 0, j;
        struct dirent *de;
        if (!d) {
            run_vector(argv[i]);
            n++;
            continue;
        }
        while ((de = readdir(d)) != NULL) {
            size_t l = strlen(de->d_name);
            if (l > 5 && strcmp(de->d_name + l - 5, ".smtp") == 0 && nn < 1024) {
                names[nn] = malloc(strlen(argv[i]) + l + 2);
                if (!names[nn])
                    abort();
                sprintf(names[nn], "%s/%s", argv[i], de->d_name);
                nn++;
            }
        }
        closedir(d);
        qsort(names, (size_t)nn, sizeof names[0], cmp);
        for (j = 0; j < nn; j++, n++) {
            run_vector(names[j]);
            free(names[j]);
        }
    }
    printf("%d vectors, %ld replays, %d failures\n", n, *runs, *failures);
    return *failures ? 1 : n ? 0 : 77;
}
