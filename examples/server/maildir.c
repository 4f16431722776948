/* Maildir delivery for the example server (see maildir.h).
 * SPDX-License-Identifier: MIT */
#if defined(__linux__) && !defined(_GNU_SOURCE)
#define _GNU_SOURCE /* renameat2() (glibc 2.28) and getrandom() (glibc 2.25) */
#endif
#if !defined(_POSIX_C_SOURCE) || _POSIX_C_SOURCE < 200809L
#undef _POSIX_C_SOURCE
#define _POSIX_C_SOURCE 200809L
#endif

#include "maildir.h"

#include "log.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/types.h>
#include <unistd.h>

#if defined(__GLIBC__) && (__GLIBC__ > 2 || (__GLIBC__ == 2 && __GLIBC_MINOR__ >= 25))
#include <sys/random.h>
#define HAVE_GETRANDOM 1
#endif

#define NAME_TRIES 16 /* fresh names tried before giving up on a message */
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

/* Open tmp/ or new/ below the Maildir: a real directory only.  A symbolic
 * link there could send every message (and the fsyncs) somewhere else. */
static int open_sub(int dfd, const char *dir, const char *sub, char *err, size_t errlen)
{
    struct stat st;
    int fd = openat(dfd, sub, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    int e = errno;
    if (fd >= 0)
        return fd;
    if (fstatat(dfd, sub, &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISLNK(st.st_mode))
        snprintf(err, errlen, "refusing %s/%s: it is a symbolic link (tmp/ and new/ must be "
                 "real directories)", dir, sub);
    else
        snprintf(err, errlen, "cannot open %s/%s: %s", dir, sub, strerror(e));
    errno = e;
    return -1;
}

/* SMTPW_TEST_MAILDIR_UNIQUE=TOKEN, for the test suite only: the first name
 * tried for every message is "TOKEN.host" instead of a fresh unique one, so
 * that a test can make two deliveries meet on one name.  It cannot cost a
 * message: a name taken in tmp/ (O_EXCL) or in new/ (no-replace move) is
 * swapped for a fresh unique one exactly as without it.  TOKEN must be 1 to
 * 64 of [A-Za-z0-9_-]; anything else is ignored. */
static void test_hook(maildir *md)
{
    const char *v = getenv("SMTPW_TEST_MAILDIR_UNIQUE");
    size_t i, n;
    if (!v)
        return;
    n = strlen(v);
    if (n == 0 || n >= sizeof md->test_unique)
        return;
    for (i = 0; i < n; i++) {
        char c = v[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '_' || c == '-'))
            return;
    }
    memcpy(md->test_unique, v, n + 1);
    log_msg(LOG_WARN, "config", "SMTPW_TEST_MAILDIR_UNIQUE is set (a test hook)");
}

int maildir_open(maildir *md, const char *dir, const char *hostname, char *err, size_t errlen)
{
    static const char *const subs[] = {"tmp", "new", "cur"};
    size_t i, j = 0;
    int dfd;
    memset(md, 0, sizeof *md);
    md->tmpfd = md->newfd = md->randfd = -1;
    if (mkdir_p(dir) != 0) {
        snprintf(err, errlen, "cannot create %s: %s", dir, strerror(errno));
        return -1;
    }
    dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd < 0) {
        snprintf(err, errlen, "cannot open %s: %s", dir, strerror(errno));
        return -1;
    }
    for (i = 0; i < 3; i++) {
        if (mkdirat(dfd, subs[i], 0700) != 0 && errno != EEXIST) {
            snprintf(err, errlen, "cannot create %s/%s: %s", dir, subs[i], strerror(errno));
            goto fail;
        }
    }
    md->tmpfd = open_sub(dfd, dir, "tmp", err, errlen);
    if (md->tmpfd < 0)
        goto fail;
    md->newfd = open_sub(dfd, dir, "new", err, errlen);
    if (md->newfd < 0)
        goto fail;
    (void)close(dfd);
    /* Maildir escapes '/' as \057 and ':' as \072 in the host part of a
     * name; the part is cut (never inside an escape) so names fit NAME_MAX. */
    for (i = 0; hostname[i]; i++) {
        if (hostname[i] == '/' || hostname[i] == ':') {
            if (j + 4 > MAILDIR_HOST_MAX)
                break;
            snprintf(md->host + j, sizeof md->host - j, "\\%03o",
                     (unsigned)(unsigned char)hostname[i]);
            j += 4;
        } else {
            if (j + 1 > MAILDIR_HOST_MAX)
                break;
            md->host[j++] = hostname[i];
        }
    }
    md->host[j] = '\0';
    md->pid = (long)getpid();
    test_hook(md);
    return 0;
fail:
    if (md->tmpfd >= 0)
        (void)close(md->tmpfd);
    md->tmpfd = -1;
    (void)close(dfd);
    return -1;
}

/* 64 random bits for the unique part of a name: getrandom(), or
 * /dev/urandom, or as a last resort a mix of what we have (the name stays
 * unique within this process through the counter either way). */
static unsigned long long random64(maildir *md, const struct timeval *tv)
{
    unsigned long long r = 0;
#ifdef HAVE_GETRANDOM
    if (getrandom(&r, sizeof r, GRND_NONBLOCK) == (ssize_t)sizeof r)
        return r;
#endif
    if (md->randfd == -1) {
        md->randfd = open("/dev/urandom", O_RDONLY | O_CLOEXEC);
        if (md->randfd < 0)
            md->randfd = -2; /* tried: do not try again */
    }
    if (md->randfd >= 0 && read(md->randfd, &r, sizeof r) == (ssize_t)sizeof r)
        return r;
    /* splitmix64 finaliser over the clock, the pid and the counter */
    r = (unsigned long long)tv->tv_sec * 1000003u ^ (unsigned long long)tv->tv_usec ^
        (unsigned long long)md->pid << 32 ^ (unsigned long long)md->counter * 0x9e3779b97f4a7c15ull;
    r = (r ^ (r >> 30)) * 0xbf58476d1ce4e5b9ull;
    r = (r ^ (r >> 27)) * 0x94d049bb133111ebull;
    return r ^ (r >> 31);
}

/* A Maildir name: time.MusecPpidQcounterRrandom.host.  The counter keeps
 * names of this process apart, the random bits keep apart processes that
 * share a host name and a pid (several MX hosts given one --hostname,
 * containers where the server is pid 1).  first: the first name tried for
 * a message, which the test hook may fix. */
static int make_name(maildir *md, char *out, int first)
{
    struct timeval tv;
    int n;
    gettimeofday(&tv, NULL);
    md->counter++;
    if (first && md->test_unique[0])
        n = snprintf(out, MAILDIR_NAME_MAX, "%s.%s", md->test_unique, md->host);
    else
        n = snprintf(out, MAILDIR_NAME_MAX, "%lld.M%06ldP%ldQ%luR%016llx.%s",
                     (long long)tv.tv_sec, (long)tv.tv_usec, md->pid, md->counter,
                     random64(md, &tv), md->host);
    if (n < 0 || n >= MAILDIR_NAME_MAX) {
        errno = ENAMETOOLONG;
        return -1;
    }
    return 0;
}

int maildir_create(maildir *md, maildir_msg *m)
{
    int tries;
    m->fd = -1;
    for (tries = 0; tries < NAME_TRIES; tries++) {
        if (make_name(md, m->name, tries == 0) != 0)
            return -1;
        m->fd = openat(md->tmpfd, m->name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
                       0600);
        if (m->fd >= 0)
            return 0;
        if (errno != EEXIST)
            return -1;
    }
    return -1;
}

/* Move tmp/from to new/to unless new/to exists (then EEXIST): a delivered
 * message is never replaced.  renameat2(RENAME_NOREPLACE) where the kernel
 * and the file system have it; else a hard link, which never replaces
 * either, and the unlink of the tmp/ name. */
static int move_noreplace(maildir *md, const char *from, const char *to)
{
    struct stat st;
#ifdef RENAME_NOREPLACE
    if (!md->no_renameat2) {
        if (renameat2(md->tmpfd, from, md->newfd, to, RENAME_NOREPLACE) == 0)
            return 0;
        if (errno != EINVAL && errno != ENOSYS)
            return -1; /* EEXIST among them */
        md->no_renameat2 = 1; /* old kernel, or a file system without the flag */
    }
#endif
    if (linkat(md->tmpfd, from, md->newfd, to, 0) == 0) {
        (void)unlinkat(md->tmpfd, from, 0);
        return 0;
    }
    if (errno != EPERM && errno != EOPNOTSUPP && errno != ENOSYS)
        return -1;
    /* No hard links on this file system either: look, then rename.  Only a
     * file created under this very name in between (64 random bits and a
     * per-process counter) could still be replaced. */
    if (fstatat(md->newfd, to, &st, AT_SYMLINK_NOFOLLOW) == 0) {
        errno = EEXIST;
        return -1;
    }
    if (errno != ENOENT)
        return -1;
    return renameat(md->tmpfd, from, md->newfd, to);
}

/* Deliver into new/, under a fresh unique name while the name is taken
 * there; m->name becomes the name in new/. */
static int move_to_new(maildir *md, maildir_msg *m)
{
    char to[MAILDIR_NAME_MAX];
    int tries;
    memcpy(to, m->name, sizeof to);
    for (tries = 0; tries < NAME_TRIES; tries++) {
        if (move_noreplace(md, m->name, to) == 0) {
            memcpy(m->name, to, sizeof to);
            return 0;
        }
        if (errno != EEXIST || make_name(md, to, 0) != 0)
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
        if (ok[i] && move_to_new(md, msgs[i]) == 0) {
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
