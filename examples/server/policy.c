/* smtpwire-server's recipient policy: see policy.h.
 * SPDX-License-Identifier: MIT */
#if !defined(_POSIX_C_SOURCE) || _POSIX_C_SOURCE < 200809L
#undef _POSIX_C_SOURCE
#define _POSIX_C_SOURCE 200809L
#endif

#include "policy.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

/* Longest canonical domain: 255 octets, or a literal's brackets and tag
 * around an inet_ntop() form. */
#define CANON_MAX (SMTPW_MAX_DOMAIN + 16)
#define POLICY_FILE_MAX (64u << 20) /* a recipients file larger than this is a mistake */

void policy_init(policy *p)
{
    memset(p, 0, sizeof *p);
}

void policy_free(policy *p)
{
    size_t i;
    for (i = 0; i < p->ndomains; i++)
        free(p->domains[i]);
    for (i = 0; i < p->naddrs; i++) {
        free(p->addrs[i].domain);
        free(p->addrs[i].local);
    }
    free(p->domains);
    free(p->addrs);
    policy_init(p);
}

static char lower(char c)
{
    return c >= 'A' && c <= 'Z' ? (char)(c - 'A' + 'a') : c;
}

static char *dup_n(const char *s, size_t n)
{
    char *d = (char *)malloc(n + 1);
    if (d) {
        memcpy(d, s, n);
        d[n] = '\0';
    }
    return d;
}

/* An IPv4 literal's inside, RFC 5321 4.1.3: four Snum (1-3 digits, 0-255)
 * joined by dots.  Leading zeros are allowed there, so inet_pton (which
 * refuses them) is not used. */
static int parse_ipv4(const char *s, size_t n, uint8_t out[4])
{
    size_t i = 0;
    int part;
    for (part = 0; part < 4; part++) {
        unsigned v = 0, digits = 0;
        while (i < n && s[i] >= '0' && s[i] <= '9' && digits < 3) {
            v = v * 10u + (unsigned)(s[i] - '0');
            i++;
            digits++;
        }
        if (digits == 0 || v > 255)
            return -1;
        out[part] = (uint8_t)v;
        if (part < 3) {
            if (i >= n || s[i] != '.')
                return -1;
            i++;
        }
    }
    return i == n ? 0 : -1;
}

size_t policy_canon_domain(const char *d, size_t n, char *out, size_t cap)
{
    size_t i;
    int len;
    if (!d || n == 0 || cap == 0)
        return 0;
    if (d[0] == '[') {
        uint32_t kind = SMTPW_LITERAL_NONE;
        const char *in = d + 1;
        size_t inlen = n - 2;
        if (smtpw_address_literal_check(d, n, &kind) != 0)
            return 0;
        if (kind == SMTPW_LITERAL_IPV4) {
            uint8_t a[4];
            if (parse_ipv4(in, inlen, a) == 0) {
                len = snprintf(out, cap, "[%u.%u.%u.%u]", a[0], a[1], a[2], a[3]);
                return len > 0 && (size_t)len < cap ? (size_t)len : 0;
            }
        } else if (kind == SMTPW_LITERAL_IPV6 && inlen > 5) {
            char text[64], shown[INET6_ADDRSTRLEN];
            unsigned char bin[16];
            if (inlen - 5 < sizeof text) { /* after the tag "IPv6:" */
                memcpy(text, in + 5, inlen - 5);
                text[inlen - 5] = '\0';
                if (inet_pton(AF_INET6, text, bin) == 1 &&
                    inet_ntop(AF_INET6, bin, shown, sizeof shown)) {
                    len = snprintf(out, cap, "[ipv6:%s]", shown);
                    return len > 0 && (size_t)len < cap ? (size_t)len : 0;
                }
            }
        }
        /* a General-address-literal, or a form the above did not read:
         * compared as text, ignoring case */
    } else {
        if (n > 1 && d[n - 1] == '.')
            n--; /* "example.org." is the same domain, written absolute */
        if (smtpw_domain_check(d, n, SMTPW_PARSE_UTF8) != 0)
            return 0;
    }
    if (n >= cap)
        return 0;
    for (i = 0; i < n; i++)
        out[i] = lower(d[i]);
    out[n] = '\0';
    return n;
}

static int push_domain(policy *p, const char *canon, size_t n)
{
    char *d;
    if (p->ndomains == p->capdomains) {
        size_t cap = p->capdomains ? p->capdomains * 2 : 8;
        char **nd = (char **)realloc(p->domains, cap * sizeof *nd);
        if (!nd)
            return -1;
        p->domains = nd;
        p->capdomains = cap;
    }
    d = dup_n(canon, n);
    if (!d)
        return -1;
    p->domains[p->ndomains++] = d;
    p->finished = 0;
    return 0;
}

int policy_add_domain(policy *p, const char *name, size_t len, char *err, size_t errlen)
{
    char canon[CANON_MAX];
    size_t n = policy_canon_domain(name, len, canon, sizeof canon);
    if (n == 0) {
        snprintf(err, errlen, "not a domain name or address literal");
        return -1;
    }
    if (push_domain(p, canon, n) != 0) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    return 0;
}

/* The local part of a parsed path, unquoted and lowered, into out
 * (SMTPW_MAX_LOCAL_PART + 1 bytes).  Returns its length, or -1. */
static int canon_local(const smtpw_path *path, char *out, size_t cap)
{
    size_t n, i;
    if (smtpw_path_local_unquote(path, out, cap - 1, &n) != 0)
        return -1;
    for (i = 0; i < n; i++)
        out[i] = lower(out[i]);
    out[n] = '\0';
    return (int)n;
}

int policy_add_recipient(policy *p, const char *addr, size_t len, char *err, size_t errlen)
{
    char pathbuf[SMTPW_MAX_PATH + 8], local[SMTPW_MAX_LOCAL_PART + 1], canon[CANON_MAX];
    smtpw_path path;
    size_t plen = 0, used = 0, dn;
    int ln;
    policy_addr *a;
    /* As RFC 5321 4.1.2 writes a Mailbox (quoted local part included), or
     * as a whole path "<...>" */
    if (len > 0 && addr[0] == '<') {
        if (len > sizeof pathbuf) {
            snprintf(err, errlen, "address too long");
            return -1;
        }
        memcpy(pathbuf, addr, len);
        plen = len;
    } else {
        if (len + 2 > sizeof pathbuf) {
            snprintf(err, errlen, "address too long");
            return -1;
        }
        pathbuf[0] = '<';
        memcpy(pathbuf + 1, addr, len);
        pathbuf[len + 1] = '>';
        plen = len + 2;
    }
    if (smtpw_path_parse(pathbuf, plen, SMTPW_PARSE_FORWARD | SMTPW_PARSE_UTF8, &path, &used) !=
            0 ||
        used != plen) {
        snprintf(err, errlen, "not an address (RFC 5321 4.1.2)");
        return -1;
    }
    if (path.flags & SMTPW_PATH_POSTMASTER)
        return 0; /* always accepted anyway */
    ln = canon_local(&path, local, sizeof local);
    dn = policy_canon_domain(path.domain.ptr, path.domain.len, canon, sizeof canon);
    if (ln < 0 || dn == 0) {
        snprintf(err, errlen, "not an address (RFC 5321 4.1.2)");
        return -1;
    }
    if (p->naddrs == p->capaddrs) {
        size_t cap = p->capaddrs ? p->capaddrs * 2 : 16;
        policy_addr *na = (policy_addr *)realloc(p->addrs, cap * sizeof *na);
        if (!na) {
            snprintf(err, errlen, "out of memory");
            return -1;
        }
        p->addrs = na;
        p->capaddrs = cap;
    }
    a = &p->addrs[p->naddrs];
    a->local = dup_n(local, (size_t)ln);
    a->domain = dup_n(canon, dn);
    if (!a->local || !a->domain || push_domain(p, canon, dn) != 0) {
        free(a->local);
        free(a->domain);
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    p->naddrs++;
    p->listed = 1;
    return 0;
}

static int is_blank(char c)
{
    return c == ' ' || c == '\t';
}

int policy_load_text(policy *p, const char *text, size_t len, const char *name, char *err,
                     size_t errlen)
{
    size_t pos = 0;
    unsigned long lineno = 0;
    p->listed = 1;
    while (pos < len) {
        const char *line = text + pos, *nl = (const char *)memchr(line, '\n', len - pos);
        size_t n = nl ? (size_t)(nl - line) : len - pos;
        char why[128];
        pos += n + (nl ? 1 : 0);
        lineno++;
        if (n && line[n - 1] == '\r')
            n--;
        while (n && is_blank(*line)) {
            line++;
            n--;
        }
        while (n && is_blank(line[n - 1]))
            n--;
        if (n == 0 || line[0] == '#')
            continue;
        if (policy_add_recipient(p, line, n, why, sizeof why) != 0) {
            snprintf(err, errlen, "%s:%lu: %s", name, lineno, why);
            return -1;
        }
    }
    p->finished = 0;
    return 0;
}

int policy_load_file(policy *p, const char *path, char *err, size_t errlen)
{
    FILE *f = fopen(path, "rb");
    char *text = NULL;
    size_t len = 0, cap = 0;
    int rc;
    if (!f) {
        snprintf(err, errlen, "%s: %s", path, strerror(errno));
        return -1;
    }
    for (;;) {
        size_t got;
        if (len == cap) {
            char *nt;
            cap = cap ? cap * 2 : 4096;
            nt = cap > POLICY_FILE_MAX ? NULL : (char *)realloc(text, cap);
            if (!nt) {
                snprintf(err, errlen, "%s: %s", path,
                         cap > POLICY_FILE_MAX ? "file too large" : "out of memory");
                free(text);
                fclose(f);
                return -1;
            }
            text = nt;
        }
        got = fread(text + len, 1, cap - len, f);
        len += got;
        if (got == 0)
            break;
    }
    if (ferror(f)) {
        snprintf(err, errlen, "%s: read error", path);
        free(text);
        fclose(f);
        return -1;
    }
    fclose(f);
    rc = policy_load_text(p, text ? text : "", len, path, err, errlen);
    free(text);
    return rc;
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static int cmp_addr(const void *a, const void *b)
{
    const policy_addr *x = (const policy_addr *)a, *y = (const policy_addr *)b;
    int c = strcmp(x->domain, y->domain);
    return c ? c : strcmp(x->local, y->local);
}

int policy_finish(policy *p)
{
    size_t i, k;
    if (p->ndomains)
        qsort(p->domains, p->ndomains, sizeof *p->domains, cmp_str);
    for (i = 0, k = 0; i < p->ndomains; i++) {
        if (k && strcmp(p->domains[k - 1], p->domains[i]) == 0)
            free(p->domains[i]);
        else
            p->domains[k++] = p->domains[i];
    }
    p->ndomains = k;
    if (p->naddrs)
        qsort(p->addrs, p->naddrs, sizeof *p->addrs, cmp_addr);
    for (i = 0, k = 0; i < p->naddrs; i++) {
        if (k && cmp_addr(&p->addrs[k - 1], &p->addrs[i]) == 0) {
            free(p->addrs[i].domain);
            free(p->addrs[i].local);
        } else {
            p->addrs[k++] = p->addrs[i];
        }
    }
    p->naddrs = k;
    p->finished = 1;
    return 0;
}

int policy_active(const policy *p)
{
    return p->ndomains > 0 || p->listed;
}

int policy_check(const policy *p, const smtpw_path *rcpt)
{
    char canon[CANON_MAX], local[SMTPW_MAX_LOCAL_PART + 1];
    char *key = canon;
    policy_addr want;
    size_t dn;
    if (!policy_active(p))
        return POLICY_ACCEPT;
    if (rcpt->flags & SMTPW_PATH_POSTMASTER)
        return POLICY_ACCEPT; /* <Postmaster>, RFC 5321 4.5.1 */
    dn = policy_canon_domain(rcpt->domain.ptr, rcpt->domain.len, canon, sizeof canon);
    if (dn == 0 || !p->ndomains ||
        !bsearch(&key, p->domains, p->ndomains, sizeof *p->domains, cmp_str))
        return POLICY_RELAY_DENIED;
    if (canon_local(rcpt, local, sizeof local) < 0)
        return POLICY_NO_SUCH_USER;
    if (strcmp(local, "postmaster") == 0)
        return POLICY_ACCEPT; /* postmaster@ every served domain, RFC 5321 4.5.1 */
    if (!p->listed)
        return POLICY_ACCEPT;
    want.domain = canon;
    want.local = local;
    if (!p->naddrs || !bsearch(&want, p->addrs, p->naddrs, sizeof *p->addrs, cmp_addr))
        return POLICY_NO_SUCH_USER;
    return POLICY_ACCEPT;
}

uint32_t policy_code(int verdict)
{
    return verdict == POLICY_ACCEPT ? 0u : 550u;
}

const char *policy_enh(int verdict)
{
    switch (verdict) {
    case POLICY_RELAY_DENIED:
        return "5.7.1";
    case POLICY_NO_SUCH_USER:
        return "5.1.1";
    default:
        return "";
    }
}

const char *policy_text(int verdict)
{
    switch (verdict) {
    case POLICY_RELAY_DENIED:
        return "Relaying denied";
    case POLICY_NO_SUCH_USER:
        return "No such user here";
    default:
        return "";
    }
}
