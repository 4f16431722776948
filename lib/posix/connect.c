/* POSIX adapter, client half: the connection.  A host name and port
 * resolved and tried address by address within the connect timeout, and
 * the name of our end of a connection for HELO/EHLO.
 * SPDX-License-Identifier: MIT */
#if !defined(_POSIX_C_SOURCE) || _POSIX_C_SOURCE < 200809L
#undef _POSIX_C_SOURCE
#define _POSIX_C_SOURCE 200809L
#endif

#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <unistd.h>

#include "posix/posix_internal.h"
#include "smtpwire/posix.h"

#define CONNECT_TIMEOUT_MS 30000u

/* RFC 5321 4.1.4: a client without a name of its own sends the address
 * literal of its end of the connection; "localhost" only where there is
 * no address (a UNIX socket). */
void smtpw__posix_default_helo(int fd, char *out, size_t cap)
{
    struct sockaddr_storage sa;
    socklen_t len = (socklen_t)sizeof sa;
    char ip[INET6_ADDRSTRLEN];
    const char *pre = NULL;
    int k = -1;
    memset(&sa, 0, sizeof sa);
    if (getsockname(fd, (struct sockaddr *)(void *)&sa, &len) == 0) {
        if (sa.ss_family == AF_INET &&
            inet_ntop(AF_INET, &((struct sockaddr_in *)(void *)&sa)->sin_addr, ip,
                      (socklen_t)sizeof ip))
            pre = "";
        else if (sa.ss_family == AF_INET6 &&
                 inet_ntop(AF_INET6, &((struct sockaddr_in6 *)(void *)&sa)->sin6_addr, ip,
                           (socklen_t)sizeof ip))
            pre = "IPv6:";
    }
    if (pre)
        k = snprintf(out, cap, "[%s%s]", pre, ip);
    if (k <= 0 || (size_t)k >= cap || smtpw_address_literal_check(out, (size_t)k, NULL) != 0)
        snprintf(out, cap, "localhost");
}

int smtpw_posix_connect(const char *host, const char *port, uint32_t timeout_ms, int *fd)
{
    struct addrinfo hints, *list = NULL, *ai;
    int rc, last = SMTPW_E_DNS, saved = 0;
    static const int one = 1;

    if (!host || !port || !fd || !host[0])
        return SMTPW_E_INVALID_ARG;
    *fd = -1;
    if (!timeout_ms)
        timeout_ms = CONNECT_TIMEOUT_MS;
    memset(&hints, 0, sizeof hints);
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_protocol = IPPROTO_TCP;
    rc = getaddrinfo(host, port, &hints, &list);
    if (rc == EAI_NONAME)
        return SMTPW_E_NXDOMAIN; /* the name does not exist: permanent */
    if (rc != 0 || !list)
        return SMTPW_E_DNS;
    for (ai = list; ai; ai = ai->ai_next) {
        int s = smtpw__posix_socket(ai->ai_family, ai->ai_socktype, ai->ai_protocol);
        if (s < 0) {
            saved = errno;
            last = SMTPW_E_IO;
            continue;
        }
        if (connect(s, ai->ai_addr, ai->ai_addrlen) != 0) {
            int soerr = 0;
            socklen_t sl = sizeof soerr;
            if (errno != EINPROGRESS && errno != EINTR) {
                saved = errno;
                close(s);
                last = SMTPW_E_IO;
                continue;
            }
            rc = smtpw__posix_wait(s, POLLOUT, smtpw_posix_now_ms() + timeout_ms);
            if (rc == 0 && getsockopt(s, SOL_SOCKET, SO_ERROR, &soerr, &sl) != 0)
                soerr = errno;
            if (rc || soerr) {
                saved = rc == SMTPW_E_TIMEOUT ? ETIMEDOUT : soerr ? soerr : errno;
                close(s);
                last = rc == SMTPW_E_TIMEOUT ? SMTPW_E_TIMEOUT : SMTPW_E_IO;
                continue;
            }
        }
        (void)setsockopt(s, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        freeaddrinfo(list);
        *fd = s;
        return 0;
    }
    freeaddrinfo(list);
    errno = saved;
    return last;
}
