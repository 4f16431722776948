/* POSIX adapter: a small DNS stub resolver for MX delivery (RFC 5321 5.1,
 * RFC 7505): UDP with EDNS0 (RFC 6891), TCP when the answer is truncated
 * (RFC 7766).  Answers are hostile input: every read is bounds checked,
 * compression pointers must go strictly backwards and are followed at most
 * MAX_HOPS times per name (RFC 1035 4.1.4), and an answer that fails any
 * check contributes nothing.
 * SPDX-License-Identifier: MIT */
#if !defined(_POSIX_C_SOURCE) || _POSIX_C_SOURCE < 200809L
#undef _POSIX_C_SOURCE
#define _POSIX_C_SOURCE 200809L
#endif

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <time.h>
#include <unistd.h>

#include "posix/posix_internal.h"
#include "smtpwire/posix.h"

#define T_A 1u
#define T_CNAME 5u
#define T_MX 15u
#define T_AAAA 28u
#define T_OPT 41u
#define C_IN 1u
#define HDR 12u
#define MAX_HOPS 32
#define MAX_CNAMES 8
#define DNS_TIMEOUT_MS 5000u
/* RFC 6891 6.2.5 and the DNS flag day 2020 figure: fits any path MTU */
#define EDNS_SIZE 1232u
/* the largest answer taken (over TCP; UDP ones stay within EDNS_SIZE):
 * far more than any sane MX or address set */
#define PKT_MAX 16384

/* parse() flags */
#define P_USABLE_MX 1u   /* skip exchangers mx_usable() refuses */
#define P_NO_LOCAL 2u    /* skip addresses of this machine (local_addr()) */

#ifndef MSG_NOSIGNAL
#define MSG_NOSIGNAL 0
#endif

static unsigned get16(const uint8_t *p)
{
    return (unsigned)p[0] << 8 | p[1];
}

static int name_byte_ok(uint8_t c)
{
    /* host names only (RFC 1123 2.1, plus '_'): nothing that could be
     * misread once the name is text */
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
           c == '-' || c == '_';
}

/* Read the name at *off into out as dotted text ("" for the root).  *off
 * moves past the name as stored at that place.  Returns 0 or SMTPW_E_PROTO. */
static int read_name(const uint8_t *pkt, size_t len, size_t *off, char *out, size_t cap)
{
    size_t pos = *off, limit = *off, textlen = 0, wire = 1;
    int hops = 0, jumped = 0;
    for (;;) {
        uint8_t c;
        if (pos >= len)
            return SMTPW_E_PROTO;
        c = pkt[pos];
        if ((c & 0xC0) == 0xC0) {
            size_t target;
            if (pos + 1 >= len)
                return SMTPW_E_PROTO;
            target = (size_t)(c & 0x3F) << 8 | pkt[pos + 1];
            /* strictly backwards, each jump before the previous target:
             * no loop can form, and the hop cap bounds the work anyway */
            if (target >= limit || target < HDR || ++hops > MAX_HOPS)
                return SMTPW_E_PROTO;
            if (!jumped)
                *off = pos + 2;
            jumped = 1;
            limit = target;
            pos = target;
            continue;
        }
        if (c & 0xC0)
            return SMTPW_E_PROTO; /* 0x40/0x80 label types: obsolete (RFC 6891 5) */
        if (c == 0) {
            if (!jumped)
                *off = pos + 1;
            if (textlen >= cap)
                return SMTPW_E_PROTO;
            out[textlen] = '\0';
            return 0;
        }
        wire += (size_t)c + 1;
        if (pos + 1 + c > len || wire > 255)
            return SMTPW_E_PROTO;
        if (textlen + (textlen ? 1u : 0u) + c >= cap)
            return SMTPW_E_PROTO;
        if (textlen)
            out[textlen++] = '.';
        {
            size_t i;
            for (i = 0; i < c; i++) {
                uint8_t b = pkt[pos + 1 + i];
                if (!name_byte_ok(b))
                    return SMTPW_E_PROTO;
                out[textlen++] = (char)b;
            }
        }
        pos += 1 + (size_t)c;
    }
}

static int name_eq(const char *a, const char *b)
{
    for (; *a && *b; a++, b++)
        if (smtpw__lower((unsigned char)*a) != smtpw__lower((unsigned char)*b))
            return 0;
    return *a == *b;
}

/* RFC 5321 5.1: an MX names a host, never an address.  No top-level
 * domain starts with a digit (RFC 3696 2), so such a last label means a
 * literal in disguise ("192.0.2.1", "127.1", "0x7f000001": the system
 * resolver would take each as an address).  "localhost" and the names
 * under it are this machine (RFC 6761 6.3): mail there loops back or
 * reaches a local service.  A single label is no fully qualified name
 * (RFC 5321 2.3.5 allows only those): it would be completed by a search
 * list or found in /etc/hosts ("ip6-localhost", "ip6-loopback",
 * "mailhost"), i.e. somewhere local.  The null MX "" is left to the
 * caller. */
static int mx_usable(const char *host)
{
    const char *last = strrchr(host, '.');
    if (!host[0])
        return 1;
    if (!last)
        return 0;
    last++;
    if (last[0] >= '0' && last[0] <= '9')
        return 0;
    return !name_eq(last, "localhost");
}

/* An address that is this machine, whatever interfaces it has: IPv4
 * 0.0.0.0/8 ("this host", RFC 1122 3.2.1.3, connects locally on Linux)
 * and 127.0.0.0/8 (loopback); IPv6 ::/96 (::, ::1 and the deprecated
 * IPv4-compatible form, RFC 4291 2.5.5.1) and the IPv4-mapped form of the
 * IPv4 ones (::ffff:127.0.0.1, RFC 4291 2.5.5.2).  An MX that leads here
 * would loop mail back to us (RFC 5321 5.1) or into a local service. */
static int local_addr(const uint8_t *a, size_t len)
{
    static const uint8_t mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xFF, 0xFF};
    static const uint8_t zero[12] = {0};
    if (len == 16) {
        if (memcmp(a, zero, 12) == 0)
            return 1;
        if (memcmp(a, mapped, 12) != 0)
            return 0;
        a += 12;
    }
    return a[0] == 0 || a[0] == 127;
}

/* Insert keeping preference order, equal ones in arrival order; when full,
 * the least preferred falls off. */
static void insert_sorted(smtpw_posix_mx *out, size_t cap, size_t *n, uint32_t pref,
                          const char *host)
{
    size_t pos = *n, last;
    while (pos > 0 && out[pos - 1].pref > pref)
        pos--;
    if (pos >= cap)
        return;
    last = *n < cap ? *n : cap - 1;
    memmove(&out[pos + 1], &out[pos], (last - pos) * sizeof *out);
    out[pos].pref = pref;
    memcpy(out[pos].host, host, strlen(host) + 1);
    if (*n < cap)
        (*n)++;
}

/* Parse a response to a question of type qtype.  MX records go to out
 * sorted; A/AAAA as numeric text.  Records refused by pflags (P_*) are
 * counted but not stored.  Returns the records found (also those that did
 * not fit), or SMTPW_E_DNS / SMTPW_E_PROTO / SMTPW_E_NXDOMAIN with *stored
 * 0: a rejected answer contributes nothing, not even the records read
 * before the fault. */
static int parse_answer(const uint8_t *pkt, size_t len, uint16_t id, unsigned qtype,
                        unsigned pflags, smtpw_posix_mx *out, size_t cap, size_t *stored)
{
    char qname[SMTPW_POSIX_HOST_MAX], owner[SMTPW_POSIX_HOST_MAX],
        target[SMTPW_POSIX_HOST_MAX];
    size_t off = HDR, i, an;
    int found = 0, cnames = 0;
    unsigned flags;

    *stored = 0;
    if (!pkt || len < HDR)
        return SMTPW_E_PROTO;
    flags = get16(pkt + 2);
    if (get16(pkt) != id || !(flags & 0x8000u) || (flags & 0x7800u) != 0)
        return SMTPW_E_DNS; /* not our response, or not a standard query's */
    if (flags & 0x0200u)
        return SMTPW_E_DNS; /* truncated: the answer would need TCP */
    if ((flags & 0x000Fu) == 3)
        return SMTPW_E_NXDOMAIN; /* the name does not exist (RFC 1035 4.1.1) */
    if ((flags & 0x000Fu) != 0)
        return SMTPW_E_DNS; /* SERVFAIL, REFUSED...: try again later */
    if (get16(pkt + 4) != 1)
        return SMTPW_E_PROTO;
    an = get16(pkt + 6);
    if (read_name(pkt, len, &off, qname, sizeof qname) != 0 || off + 4 > len)
        return SMTPW_E_PROTO;
    if (get16(pkt + off) != qtype || get16(pkt + off + 2) != C_IN)
        return SMTPW_E_PROTO;
    off += 4;

    for (i = 0; i < an; i++) {
        unsigned type, cls;
        size_t rdlen, rd;
        if (read_name(pkt, len, &off, owner, sizeof owner) != 0 || off + 10 > len)
            return SMTPW_E_PROTO;
        type = get16(pkt + off);
        cls = get16(pkt + off + 2);
        rdlen = get16(pkt + off + 8);
        rd = off + 10;
        if (rd + rdlen > len)
            return SMTPW_E_PROTO;
        off = rd + rdlen;
        /* only records about the name asked, or its alias target */
        if (cls != C_IN || !name_eq(owner, qname))
            continue;
        if (type == T_CNAME) {
            size_t p = rd;
            if (++cnames > MAX_CNAMES || read_name(pkt, len, &p, target, sizeof target) != 0 ||
                p != rd + rdlen)
                return SMTPW_E_PROTO;
            memcpy(qname, target, strlen(target) + 1);
            continue;
        }
        if (type != qtype)
            continue;
        if (type == T_MX) {
            size_t p = rd + 2;
            if (rdlen < 3 || read_name(pkt, len, &p, target, sizeof target) != 0 ||
                p != rd + rdlen)
                return SMTPW_E_PROTO;
            if (!(pflags & P_USABLE_MX) || mx_usable(target))
                insert_sorted(out, cap, stored, get16(pkt + rd), target);
        } else {
            char text[INET6_ADDRSTRLEN];
            int af = type == T_A ? AF_INET : AF_INET6;
            if (rdlen != (type == T_A ? 4u : 16u) ||
                !inet_ntop(af, pkt + rd, text, (socklen_t)sizeof text))
                return SMTPW_E_PROTO;
            if ((pflags & P_NO_LOCAL) && local_addr(pkt + rd, rdlen)) {
                /* counted, not stored */
            } else if (*stored < cap) {
                out[*stored].pref = 0;
                memcpy(out[*stored].host, text, strlen(text) + 1);
                (*stored)++;
            }
        }
        if (found < 65535)
            found++;
    }
    return found;
}

static int parse(const uint8_t *pkt, size_t len, uint16_t id, unsigned qtype, unsigned pflags,
                 smtpw_posix_mx *out, size_t cap, size_t *stored)
{
    int rc = parse_answer(pkt, len, id, qtype, pflags, out, cap, stored);
    if (rc < 0)
        *stored = 0;
    return rc;
}

int smtpw_posix_dns_parse_mx(const uint8_t *pkt, size_t len, uint16_t id, smtpw_posix_mx *out,
                             size_t cap)
{
    size_t stored;
    if (!pkt || (cap > 0 && !out))
        return SMTPW_E_INVALID_ARG;
    return parse(pkt, len, id, T_MX, 0, out, cap, &stored);
}

/* "IP", "IP:PORT", "[IPv6]:PORT" or a bare IPv6 address. */
static int parse_ns(const char *ns, struct sockaddr_storage *sa, socklen_t *salen)
{
    char host[INET6_ADDRSTRLEN + 1];
    const char *port = NULL, *h = ns, *end;
    unsigned long p = 53;
    size_t hl;
    memset(sa, 0, sizeof *sa);
    if (ns[0] == '[') {
        h = ns + 1;
        end = strchr(h, ']');
        if (!end)
            return SMTPW_E_INVALID_ARG;
        if (end[1] == ':')
            port = end + 2;
        else if (end[1])
            return SMTPW_E_INVALID_ARG;
    } else {
        end = strchr(ns, ':');
        if (end && strchr(end + 1, ':'))
            end = NULL; /* bare IPv6 */
        if (end)
            port = end + 1;
        else
            end = ns + strlen(ns);
    }
    hl = (size_t)(end - h);
    if (hl == 0 || hl >= sizeof host)
        return SMTPW_E_INVALID_ARG;
    memcpy(host, h, hl);
    host[hl] = '\0';
    if (port) {
        p = 0;
        if (!*port)
            return SMTPW_E_INVALID_ARG;
        for (; *port; port++) {
            if (*port < '0' || *port > '9' || p > 65535)
                return SMTPW_E_INVALID_ARG;
            p = p * 10 + (unsigned long)(*port - '0');
        }
        if (p == 0 || p > 65535)
            return SMTPW_E_INVALID_ARG;
    }
    {
        struct sockaddr_in *v4 = (struct sockaddr_in *)(void *)sa;
        struct sockaddr_in6 *v6 = (struct sockaddr_in6 *)(void *)sa;
        if (inet_pton(AF_INET, host, &v4->sin_addr) == 1) {
            v4->sin_family = AF_INET;
            v4->sin_port = htons((uint16_t)p);
            *salen = (socklen_t)sizeof *v4;
            return 0;
        }
        if (inet_pton(AF_INET6, host, &v6->sin6_addr) == 1) {
            v6->sin6_family = AF_INET6;
            v6->sin6_port = htons((uint16_t)p);
            *salen = (socklen_t)sizeof *v6;
            return 0;
        }
    }
    return SMTPW_E_INVALID_ARG;
}

/* The first "nameserver" of /etc/resolv.conf, else 127.0.0.1 (resolv.conf(5)). */
static void system_ns(char *out, size_t cap)
{
    FILE *f = fopen("/etc/resolv.conf", "r");
    char line[512];
    snprintf(out, cap, "127.0.0.1");
    if (!f)
        return;
    while (fgets(line, sizeof line, f)) {
        char *p = line, *e;
        if (strncmp(p, "nameserver", 10) != 0 || (p[10] != ' ' && p[10] != '\t'))
            continue;
        p += 10;
        while (*p == ' ' || *p == '\t')
            p++;
        e = p;
        while (*e && *e != ' ' && *e != '\t' && *e != '\n' && *e != '\r' && *e != '%')
            e++;
        if (e > p && (size_t)(e - p) < cap) {
            memcpy(out, p, (size_t)(e - p));
            out[e - p] = '\0';
            break;
        }
    }
    fclose(f);
}

/* The question: header, QNAME from dotted text, QTYPE, QCLASS IN; with
 * edns, an OPT record after it (RFC 6891 6.1.2: root owner, our UDP size
 * in CLASS, version 0, no options).  *qend: where the question ends. */
static int build_query(uint8_t *q, size_t cap, uint16_t id, const char *name, unsigned qtype,
                       int edns, size_t *qlen, size_t *qend)
{
    size_t off = HDR, nl = strlen(name);
    const char *p = name;
    if (nl > 0 && name[nl - 1] == '.')
        nl--;
    if (nl == 0 || nl > 253 || cap < HDR + nl + 2 + 4 + 11)
        return SMTPW_E_INVALID_ARG;
    memset(q, 0, HDR);
    q[0] = (uint8_t)(id >> 8);
    q[1] = (uint8_t)id;
    q[2] = 0x01; /* RD */
    q[5] = 1;    /* QDCOUNT */
    while (p < name + nl) {
        const char *dot = memchr(p, '.', (size_t)(name + nl - p));
        size_t ll = dot ? (size_t)(dot - p) : (size_t)(name + nl - p);
        size_t i;
        if (ll == 0 || ll > 63)
            return SMTPW_E_INVALID_ARG;
        for (i = 0; i < ll; i++)
            if (!name_byte_ok((uint8_t)p[i]))
                return SMTPW_E_INVALID_ARG;
        q[off++] = (uint8_t)ll;
        memcpy(q + off, p, ll);
        off += ll;
        p += ll + (dot ? 1 : 0);
    }
    q[off++] = 0;
    q[off++] = (uint8_t)(qtype >> 8);
    q[off++] = (uint8_t)qtype;
    q[off++] = 0;
    q[off++] = C_IN;
    *qend = off;
    if (edns) {
        q[11] = 1; /* ARCOUNT */
        q[off++] = 0;
        q[off++] = 0;
        q[off++] = (uint8_t)T_OPT;
        q[off++] = (uint8_t)(EDNS_SIZE >> 8);
        q[off++] = (uint8_t)EDNS_SIZE;
        memset(q + off, 0, 6); /* extended rcode, version, flags, RDLENGTH */
        off += 6;
    }
    *qlen = off;
    return 0;
}

/* One question to one nameserver. */
typedef struct dns_query {
    struct sockaddr_storage sa;
    socklen_t salen;
    uint8_t q[300];
    size_t qlen, qend; /* the whole query; the end of its question */
    uint16_t id;
    int edns;
    uint32_t timeout_ms;
} dns_query;

/* Wait for ev on fd until deadline: 0, or SMTPW_E_DNS (timeout, error). */
static int wait_fd(int fd, short ev, uint64_t deadline)
{
    return smtpw__posix_wait(fd, ev, deadline) == 0 ? 0 : SMTPW_E_DNS;
}

/* Is pkt an answer to d: its id, and its question (RFC 5452 9.1; the
 * name's case may differ, RFC 4343)?  Servers that know no EDNS may
 * answer FORMERR without the question (RFC 6891 7): taken by id alone,
 * it only leads to asking again without EDNS. */
static int answer_ok(const uint8_t *pkt, size_t n, const dns_query *d)
{
    size_t i;
    if (n < HDR || get16(pkt) != d->id)
        return 0;
    if (d->edns && (pkt[3] & 0x0Fu) == 1 && get16(pkt + 4) == 0)
        return 1;
    if (n < d->qend || get16(pkt + 4) != 1)
        return 0;
    for (i = HDR; i < d->qend - 4; i++)
        if (smtpw__lower(pkt[i]) != smtpw__lower(d->q[i]))
            return 0;
    return memcmp(pkt + d->qend - 4, d->q + d->qend - 4, 4) == 0;
}

/* The query over UDP, sent twice at most, each wait bounded by the
 * timeout; answers with another id or question, or from elsewhere (the
 * socket is connected), are ignored.  0 and *len, or SMTPW_E_DNS. */
static int udp_exchange(const dns_query *d, uint8_t *pkt, size_t cap, size_t *len)
{
    int fd = smtpw__posix_socket(d->sa.ss_family, SOCK_DGRAM, 0), attempt, rc = SMTPW_E_DNS;
    if (fd < 0)
        return SMTPW_E_DNS;
    if (connect(fd, (const struct sockaddr *)(const void *)&d->sa, d->salen) != 0) {
        close(fd);
        return SMTPW_E_DNS;
    }
    for (attempt = 0; attempt < 2; attempt++) {
        uint64_t deadline = smtpw_posix_now_ms() + d->timeout_ms;
        if (send(fd, d->q, d->qlen, 0) != (ssize_t)d->qlen)
            break;
        while (wait_fd(fd, POLLIN, deadline) == 0) {
            ssize_t n = recv(fd, pkt, cap, 0);
            if (n < 0) {
                if (errno == EINTR || errno == EAGAIN)
                    continue;
                goto done; /* ICMP refused: nobody listens there */
            }
            if (!answer_ok(pkt, (size_t)n, d))
                continue;
            *len = (size_t)n;
            rc = 0;
            goto done;
        }
    }
done:
    close(fd);
    return rc;
}

/* Read exactly n bytes before the deadline: 0 or SMTPW_E_DNS. */
static int read_full(int fd, uint8_t *buf, size_t n, uint64_t deadline)
{
    size_t got = 0;
    while (got < n) {
        ssize_t r;
        if (wait_fd(fd, POLLIN, deadline) != 0)
            return SMTPW_E_DNS;
        r = recv(fd, buf + got, n - got, 0);
        if (r == 0)
            return SMTPW_E_DNS; /* closed before the whole answer */
        if (r < 0) {
            if (errno == EINTR || errno == EAGAIN)
                continue;
            return SMTPW_E_DNS;
        }
        got += (size_t)r;
    }
    return 0;
}

/* The query over TCP (RFC 7766 5, after a truncated UDP answer): each
 * message behind a 2-octet length (RFC 1035 4.2.2); one deadline of the
 * timeout for connect, query and answer; the answer must carry the same
 * id and question.  0 and *len, or SMTPW_E_DNS. */
static int tcp_exchange(const dns_query *d, uint8_t *pkt, size_t cap, size_t *len)
{
    uint64_t deadline = smtpw_posix_now_ms() + d->timeout_ms;
    uint8_t frame[2 + sizeof d->q], lb[2];
    size_t total = 2 + d->qlen, sent = 0, alen;
    int fd = smtpw__posix_socket(d->sa.ss_family, SOCK_STREAM, 0), rc = SMTPW_E_DNS;
    if (fd < 0)
        return SMTPW_E_DNS;
    if (connect(fd, (const struct sockaddr *)(const void *)&d->sa, d->salen) != 0 &&
        errno != EINPROGRESS && errno != EINTR)
        goto done;
    frame[0] = (uint8_t)(d->qlen >> 8);
    frame[1] = (uint8_t)d->qlen;
    memcpy(frame + 2, d->q, d->qlen);
    while (sent < total) {
        ssize_t n;
        if (wait_fd(fd, POLLOUT, deadline) != 0)
            goto done;
        /* a refused connect fails here; MSG_NOSIGNAL: no SIGPIPE for
         * the embedding program */
        n = send(fd, frame + sent, total - sent, MSG_NOSIGNAL);
        if (n < 0) {
            if (errno == EINTR || errno == EAGAIN)
                continue;
            goto done;
        }
        sent += (size_t)n;
    }
    if (read_full(fd, lb, 2, deadline) != 0)
        goto done;
    alen = get16(lb);
    if (alen > cap || read_full(fd, pkt, alen, deadline) != 0 || !answer_ok(pkt, alen, d))
        goto done;
    *len = alen;
    rc = 0;
done:
    close(fd);
    return rc;
}

/* One question: over UDP with EDNS0, again without it after FORMERR
 * (RFC 6891 7), over TCP when the answer came truncated (RFC 7766 5; a
 * truncated answer is never used: what it lacks is unknown). */
static int query(const char *name, unsigned qtype, const char *nameserver, uint32_t timeout_ms,
                 unsigned pflags, smtpw_posix_mx *out, size_t cap, size_t *stored)
{
    dns_query d;
    uint8_t pkt[PKT_MAX];
    size_t len = 0;
    char ns[128];
    struct timespec ts;
    uint8_t idb[2];
    int fd, rc;

    *stored = 0;
    if (!nameserver || !nameserver[0]) {
        system_ns(ns, sizeof ns);
        nameserver = ns;
    }
    memset(&d, 0, sizeof d);
    rc = parse_ns(nameserver, &d.sa, &d.salen);
    if (rc)
        return rc;
    /* an unpredictable id (RFC 5452 9.2); the kernel picks a random
     * source port */
    fd = open("/dev/urandom", O_RDONLY | O_CLOEXEC);
    if (fd < 0 || read(fd, idb, sizeof idb) != (ssize_t)sizeof idb) {
        clock_gettime(CLOCK_REALTIME, &ts);
        idb[0] = (uint8_t)((unsigned long)ts.tv_nsec ^ (unsigned long)ts.tv_sec);
        idb[1] = (uint8_t)(((unsigned long)ts.tv_nsec >> 8) ^ (unsigned long)getpid());
    }
    if (fd >= 0)
        close(fd);
    d.id = (uint16_t)(idb[0] << 8 | idb[1]);
    d.timeout_ms = timeout_ms ? timeout_ms : DNS_TIMEOUT_MS;
    for (d.edns = 1;; d.edns = 0) {
        rc = build_query(d.q, sizeof d.q, d.id, name, qtype, d.edns, &d.qlen, &d.qend);
        if (rc)
            return rc;
        rc = udp_exchange(&d, pkt, sizeof pkt, &len);
        if (rc)
            return rc;
        if (!d.edns || (pkt[3] & 0x0Fu) != 1)
            break;
    }
    if (pkt[2] & 0x02u) {
        rc = tcp_exchange(&d, pkt, sizeof pkt, &len);
        if (rc)
            return rc;
    }
    return parse(pkt, len, d.id, qtype, pflags, out, cap, stored);
}

int smtpw_posix_mx_lookup(const char *domain, const char *nameserver, uint32_t timeout_ms,
                          smtpw_posix_mx *out, size_t cap)
{
    size_t stored = 0, i, k;
    int rc;
    if (!domain || !out || cap == 0 || !domain[0] || strlen(domain) >= SMTPW_POSIX_HOST_MAX)
        return SMTPW_E_INVALID_ARG;
    rc = query(domain, T_MX, nameserver, timeout_ms, P_USABLE_MX, out, cap, &stored);
    if (rc < 0)
        return rc;
    if (rc > 0 && stored == 0)
        return SMTPW_E_NOMAIL; /* 5.1: MX records, none usable: an error;
                                  RFC 7505 1: the old way to say "no mail" */
    if (rc == 0) {
        /* RFC 5321 5.1: no MX, the domain itself is the implicit MX,
         * under the same rules as any exchanger */
        size_t dl = strlen(domain);
        if (domain[dl - 1] == '.')
            dl--;
        out[0].pref = 0;
        memcpy(out[0].host, domain, dl);
        out[0].host[dl] = '\0';
        if (!out[0].host[0] || !mx_usable(out[0].host))
            return SMTPW_E_NOMAIL; /* an implicit MX we must not use */
        return 1;
    }
    /* RFC 7505 3: "." means no mail; other MXs beside it are ignored only
     * if they exist, so drop the null entries then */
    for (i = 0, k = 0; i < stored; i++)
        if (out[i].host[0])
            out[k++] = out[i];
    if (k == 0)
        return SMTPW_E_NOMAIL; /* a null MX (RFC 7505 3) */
    return (int)k;
}

int smtpw_posix_addr_lookup(const char *host, const char *nameserver, uint32_t timeout_ms,
                            uint32_t flags, smtpw_posix_mx *out, size_t cap)
{
    size_t n6 = 0, n4 = 0;
    unsigned pf = (flags & SMTPW_POSIX_SEND_ALLOW_LOOPBACK_MX) ? 0u : P_NO_LOCAL;
    int r6, r4;
    if (!host || !out || cap == 0 || !host[0])
        return SMTPW_E_INVALID_ARG;
    r6 = query(host, T_AAAA, nameserver, timeout_ms, pf, out, cap, &n6);
    r4 = query(host, T_A, nameserver, timeout_ms, pf, out + n6, cap - n6, &n4);
    if (n6 + n4 > 0)
        return (int)(n6 + n4);
    if (r6 > 0 || r4 > 0)
        return 0; /* addresses, every one of them this machine */
    if (r4 < 0)
        return r4;
    return r6 < 0 ? r6 : SMTPW_E_DNS;
}
