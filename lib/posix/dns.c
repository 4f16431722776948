/* POSIX adapter: a small DNS stub resolver for MX delivery (RFC 5321 5.1,
 * RFC 7505), UDP only.  Answers are hostile input: every read is bounds
 * checked, compression pointers must go strictly backwards and are
 * followed at most MAX_HOPS times per name (RFC 1035 4.1.4).
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

#include "internal.h"
#include "smtpwire/posix.h"

#define T_A 1u
#define T_CNAME 5u
#define T_MX 15u
#define T_AAAA 28u
#define C_IN 1u
#define HDR 12u
#define MAX_HOPS 32
#define MAX_CNAMES 8
#define DNS_TIMEOUT_MS 5000u
#define PKT_MAX 4096

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
 * reaches a local service.  The null MX "" is left to the caller. */
static int mx_usable(const char *host)
{
    const char *last = strrchr(host, '.');
    last = last ? last + 1 : host;
    if (last[0] >= '0' && last[0] <= '9')
        return 0;
    return !name_eq(last, "localhost");
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
 * sorted (with only_usable, those mx_usable() refuses are counted but not
 * stored); A/AAAA as numeric text.  Returns the records found (also those
 * that did not fit), or SMTPW_E_DNS / SMTPW_E_PROTO. */
static int parse(const uint8_t *pkt, size_t len, uint16_t id, unsigned qtype, int only_usable,
                 smtpw_posix_mx *out, size_t cap, size_t *stored)
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
        return SMTPW_E_NOTSUP; /* NXDOMAIN: the name does not exist (RFC 1035 4.1.1) */
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
            if (!only_usable || mx_usable(target))
                insert_sorted(out, cap, stored, get16(pkt + rd), target);
        } else {
            char text[INET6_ADDRSTRLEN];
            int af = type == T_A ? AF_INET : AF_INET6;
            if (rdlen != (type == T_A ? 4u : 16u) ||
                !inet_ntop(af, pkt + rd, text, (socklen_t)sizeof text))
                return SMTPW_E_PROTO;
            if (*stored < cap) {
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

/* The question: header, QNAME from dotted text, QTYPE, QCLASS IN. */
static int build_query(uint8_t *q, size_t cap, uint16_t id, const char *name, unsigned qtype,
                       size_t *qlen)
{
    size_t off = HDR, nl = strlen(name);
    const char *p = name;
    if (nl > 0 && name[nl - 1] == '.')
        nl--;
    if (nl == 0 || nl > 253 || cap < HDR + nl + 2 + 4)
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
    *qlen = off;
    return 0;
}

static long long mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* One question over UDP, sent twice at most; answers with another id or
 * from elsewhere (the socket is connected) are ignored. */
static int query(const char *name, unsigned qtype, const char *nameserver, unsigned timeout_ms,
                 smtpw_posix_mx *out, size_t cap, size_t *stored)
{
    struct sockaddr_storage sa;
    socklen_t salen = 0;
    uint8_t q[300], pkt[PKT_MAX];
    size_t qlen;
    char ns[128];
    struct timespec ts;
    uint8_t idb[2];
    uint16_t id;
    int fd, rc, attempt;

    if (!nameserver || !nameserver[0]) {
        system_ns(ns, sizeof ns);
        nameserver = ns;
    }
    rc = parse_ns(nameserver, &sa, &salen);
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
    id = (uint16_t)(idb[0] << 8 | idb[1]);
    rc = build_query(q, sizeof q, id, name, qtype, &qlen);
    if (rc)
        return rc;
    if (!timeout_ms)
        timeout_ms = DNS_TIMEOUT_MS;
    fd = socket(sa.ss_family, SOCK_DGRAM, 0);
    if (fd < 0)
        return SMTPW_E_DNS;
    if (connect(fd, (struct sockaddr *)(void *)&sa, salen) != 0) {
        close(fd);
        return SMTPW_E_DNS;
    }
    rc = SMTPW_E_DNS;
    for (attempt = 0; attempt < 2; attempt++) {
        long long deadline = mono_ms() + timeout_ms;
        if (send(fd, q, qlen, 0) != (long)qlen)
            break;
        for (;;) {
            struct pollfd pfd;
            long long left = deadline - mono_ms();
            long n;
            if (left <= 0)
                break;
            pfd.fd = fd;
            pfd.events = POLLIN;
            pfd.revents = 0;
            if (poll(&pfd, 1, (int)(left > 60000 ? 60000 : left)) <= 0)
                continue; /* timeout or EINTR: the deadline check decides */
            n = (long)recv(fd, pkt, sizeof pkt, 0);
            if (n < 0) {
                if (errno == EINTR || errno == EAGAIN)
                    continue;
                goto done; /* ICMP refused: nobody listens there */
            }
            if ((size_t)n < 2 || get16(pkt) != id)
                continue;
            /* RFC 5452 9.1: the question must be ours as well */
            if ((size_t)n < qlen || memcmp(pkt + HDR, q + HDR, qlen - HDR) != 0) {
                size_t i;
                int same = (size_t)n >= qlen;
                for (i = HDR; same && i < qlen; i++)
                    same = smtpw__lower(pkt[i]) == smtpw__lower(q[i]);
                if (!same)
                    continue;
            }
            rc = parse(pkt, (size_t)n, id, qtype, 1, out, cap, stored);
            goto done;
        }
    }
done:
    close(fd);
    return rc;
}

int smtpw_posix_mx_lookup(const char *domain, const char *nameserver, unsigned timeout_ms,
                          smtpw_posix_mx *out, size_t cap)
{
    size_t stored = 0, i, k;
    int rc;
    if (!domain || !out || cap == 0 || !domain[0] || strlen(domain) >= SMTPW_POSIX_HOST_MAX)
        return SMTPW_E_INVALID_ARG;
    rc = query(domain, T_MX, nameserver, timeout_ms, out, cap, &stored);
    if (rc < 0)
        return rc;
    if (rc > 0 && stored == 0)
        return SMTPW_E_PROTO; /* 5.1: MX records, none usable: an error */
    if (rc == 0) {
        /* RFC 5321 5.1: no MX, the domain itself is the implicit MX */
        size_t dl = strlen(domain);
        if (domain[dl - 1] == '.')
            dl--;
        out[0].pref = 0;
        memcpy(out[0].host, domain, dl);
        out[0].host[dl] = '\0';
        return 1;
    }
    /* RFC 7505 3: "." means no mail; other MXs beside it are ignored only
     * if they exist, so drop the null entries then */
    for (i = 0, k = 0; i < stored; i++)
        if (out[i].host[0])
            out[k++] = out[i];
    if (k == 0)
        return SMTPW_E_NOTSUP;
    return (int)k;
}

int smtpw_posix_addr_lookup(const char *host, const char *nameserver, unsigned timeout_ms,
                            smtpw_posix_mx *out, size_t cap)
{
    size_t n6 = 0, n4 = 0;
    int r6, r4;
    if (!host || !out || cap == 0 || !host[0])
        return SMTPW_E_INVALID_ARG;
    r6 = query(host, T_AAAA, nameserver, timeout_ms, out, cap, &n6);
    r4 = query(host, T_A, nameserver, timeout_ms, out + n6, cap - n6, &n4);
    if (n6 + n4 > 0)
        return (int)(n6 + n4);
    if (r4 < 0)
        return r4;
    return r6 < 0 ? r6 : SMTPW_E_DNS;
}
