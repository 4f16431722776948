/* Maildir delivery for the example server (see maildir.h).
 * SPDX-License-Identifier: MIT */
#if !defined(_POSIX_C_SOURCE) || _POSIX_C_SOURCE < 200809L
#undef _POSIX_C_SOURCE
#define _POSIX_C_SOURCE 200809L
#endif

#include "maildir.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/types.h>
#include <unistd.h>

static int mkdir_p(const char *dir)
{
    char path[4096];
    size_t i, n = strlen(dir);
    if (n == 0 || n >= sizeof path) {
        errno = ENAMETOOLONG;
        return -1;
    }
    memcpy(path, dir, n + 1);
    for (i = 1; i <= n; i++) {
        if (path[i] == '/' || path[i] == '\0') {
            char c = path[i];
            path[i] = '\0';
            if (mkdir(path, 0700) != 0 && errno != EEXIST)
                return -1;
            path[i] = c;
        }
    }
    return 0;
}

int maildir_open(maildir *md, const char *dir, const char *hostname, char *err, size_t errlen)
{
    static const char *const subs[] = {"tmp", "new", "cur"};
    char path[4096];
    size_t i, j = 0;
    int dfd;
    memset(md, 0, sizeof *md);
    md->tmpfd = md->newfd = -1;
    if (mkdir_p(dir) != 0) {
        snprintf(err, errlen, "cannot create %s: %s", dir, strerror(errno));
        return -1;
    }
    for (i = 0; i < 3; i++) {
        snprintf(path, sizeof path, "%s/%s", dir, subs[i]);
        if (mkdir(path, 0700) != 0 && errno != EEXIST) {
            snprintf(err, errlen, "cannot create %s: %s", path, strerror(errno));
            return -1;
        }
        if (i == 2)
            break;
        dfd = open(path, O_RDONLY | O_DIRECTORY);
        if (dfd < 0) {
            snprintf(err, errlen, "cannot open %s: %s", path, strerror(errno));
            return -1;
        }
        if (i == 0)
            md->tmpfd = dfd;
        else
            md->newfd = dfd;
    }
    /* Maildir escapes '/' and ':' in the host part of a name. */
    for (i = 0; hostname[i] && j + 5 < sizeof md->host; i++) {
        if (hostname[i] == '/' || hostname[i] == ':') {
            j += (size_t)snprintf(md->host + j, sizeof md->host - j, "\\%03o",
                                  (unsigned)(unsigned char)hostname[i]);
        } else {
            md->host[j++] = hostname[i];
        }
    }
    md->host[j] = '\0';
    md->pid = (long)getpid();
    return 0;
}

int maildir_create(maildir *md, maildir_msg *m)
{
    struct timeval tv;
    int tries;
    for (tries = 0; tries < 8; tries++) {
        gettimeofday(&tv, NULL);
        /* time.MusecPpidQcounter.host: unique per process and delivery. */
        snprintf(m->name, sizeof m->name, "%lld.M%06ldP%ldQ%lu.%s", (long long)tv.tv_sec,
                 (long)tv.tv_usec, md->pid, ++md->counter, md->host);
        m->fd = openat(md->tmpfd, m->name, O_WRONLY | O_CREAT | O_EXCL, 0600);
        if (m->fd >= 0)
            return 0;
        if (errno != EEXIST)
            return -1;
    }
    return -1;
}

int maildir_write(maildir_msg *m, const void *buf, size_t len)
{
    const char *p = (const char *)buf;
    while (len) {
        ssize_t n = write(m->fd, p, len);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            return -1;
        }
        p += n;
        len -= (size_t)n;
    }
    return 0;
}

void maildir_commit(maildir *md, maildir_msg *const *msgs, size_t n, int *ok)
{
    size_t i;
    int any = 0;
    for (i = 0; i < n; i++) {
        ok[i] = fsync(msgs[i]->fd) == 0;
        (void)close(msgs[i]->fd);
        msgs[i]->fd = -1;
    }
    for (i = 0; i < n; i++) {
        if (ok[i] && renameat(md->tmpfd, msgs[i]->name, md->newfd, msgs[i]->name) == 0) {
            any = 1;
            continue;
        }
        ok[i] = 0;
        (void)unlinkat(md->tmpfd, msgs[i]->name, 0);
    }
    /* One directory fsync makes every rename of this turn durable. */
    if (any && fsync(md->newfd) != 0) {
        for (i = 0; i < n; i++) {
            if (ok[i])
                (void)unlinkat(md->newfd, msgs[i]->name, 0);
            ok[i] = 0;
        }
    }
}

void maildir_abort(maildir *md, maildir_msg *m)
{
    if (m->fd >= 0) {
        (void)close(m->fd);
        m->fd = -1;
        (void)unlinkat(md->tmpfd, m->name, 0);
    }
}

void maildir_retract(maildir *md, const maildir_msg *m)
{
    if (unlinkat(md->newfd, m->name, 0) == 0)
        (void)fsync(md->newfd);
}
