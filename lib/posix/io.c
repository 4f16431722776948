/* POSIX adapter: plain-socket I/O hooks, the monotonic clock, and the
 * socket and deadline helpers the other adapter files share.
 * SPDX-License-Identifier: MIT */
#if !defined(_POSIX_C_SOURCE) || _POSIX_C_SOURCE < 200809L
#undef _POSIX_C_SOURCE
#define _POSIX_C_SOURCE 200809L
#endif

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <time.h>
#include <unistd.h>

#include "posix/posix_internal.h"
#include "smtpwire/posix.h"

#ifndef MSG_NOSIGNAL
#define MSG_NOSIGNAL 0 /* platforms without it set SO_NOSIGPIPE on the socket */
#endif

int smtpw_posix_plain_read(void *ctx, int fd, uint8_t *buf, size_t cap, size_t *got,
                           uint32_t *wait)
{
    ssize_t n;
    (void)ctx;
    *got = 0;
    do {
        n = read(fd, buf, cap);
    } while (n < 0 && errno == EINTR);
    if (n > 0) {
        *got = (size_t)n;
        return 0;
    }
    if (n == 0)
        return SMTPW_E_CLOSED;
    if (errno == EAGAIN || errno == EWOULDBLOCK) {
        *wait = SMTPW_WANT_READ;
        return SMTPW_E_AGAIN;
    }
    return SMTPW_E_IO;
}

int smtpw_posix_plain_write(void *ctx, int fd, const uint8_t *buf, size_t len, size_t *sent,
                            uint32_t *wait)
{
    ssize_t n;
    (void)ctx;
    *sent = 0;
    do {
        n = send(fd, buf, len, MSG_NOSIGNAL);
    } while (n < 0 && errno == EINTR);
    if (n > 0) {
        *sent = (size_t)n;
        return 0;
    }
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
        *wait = SMTPW_WANT_WRITE;
        return SMTPW_E_AGAIN;
    }
    return SMTPW_E_IO;
}

static const smtpw_posix_io plain_io = {
    SMTPW_POSIX_IO_VERSION, smtpw_posix_plain_read, smtpw_posix_plain_write, NULL, NULL, NULL,
};

const smtpw_posix_io *smtpw_posix_io_plain(void)
{
    return &plain_io;
}

uint64_t smtpw_posix_now_ms(void)
{
    struct timespec ts;
    uint64_t ms;
    if (clock_gettime(CLOCK_MONOTONIC, &ts) != 0)
        return 1;
    ms = (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
    return ms ? ms : 1; /* 0 means "no deadline" to the callers */
}

int smtpw__posix_socket(int family, int type, int protocol)
{
#if defined(SOCK_CLOEXEC) && defined(SOCK_NONBLOCK)
    return socket(family, type | SOCK_CLOEXEC | SOCK_NONBLOCK, protocol);
#else
    int fd = socket(family, type, protocol), fl, saved;
    if (fd < 0)
        return -1;
    fl = fcntl(fd, F_GETFL);
    if (fl < 0 || fcntl(fd, F_SETFL, fl | O_NONBLOCK) < 0 || fcntl(fd, F_SETFD, FD_CLOEXEC) < 0) {
        saved = errno;
        close(fd);
        errno = saved;
        return -1;
    }
    return fd;
#endif
}

int smtpw__posix_wait(int fd, short ev, uint64_t deadline)
{
    for (;;) {
        struct pollfd pfd;
        uint64_t now = smtpw_posix_now_ms();
        uint64_t left = deadline > now ? deadline - now : 0;
        int rc;
        if (left == 0)
            return SMTPW_E_TIMEOUT;
        pfd.fd = fd;
        pfd.events = ev;
        pfd.revents = 0;
        rc = poll(&pfd, 1, left > 60000u ? 60000 : (int)left); /* re-checked each minute */
        if (rc > 0)
            return 0;
        if (rc < 0 && errno != EINTR)
            return SMTPW_E_IO;
    }
}
