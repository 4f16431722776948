/* smtpwire-send: send one RFC 5322 message over SMTP, sendmail-style exit
 * status.  Other tools depend on this command line; keep it stable:
 *
 *   smtpwire-send [--server HOST[:PORT]] --from ADDR --to ADDR [--to ADDR]...
 *                 [--helo NAME] [--timeout SECONDS] [-v] [FILE]
 *
 * Added since, all optional: --starttls, --require-tls, --cafile FILE,
 * --insecure (STARTTLS, RFC 3207, through examples/tls.c; exit 64 without
 * OpenSSL).  TLS policy: with --server (a smarthost the user named) any
 * TLS option verifies the certificate chain and the --server name or IP
 * (RFC 6125) against the system's CAs, or --cafile, and then TLS is
 * required; --insecure opts out (opportunistic unless --require-tls).  By
 * MX, --starttls is opportunistic and unauthenticated (RFC 7435, what MTAs
 * do) and only --cafile verifies (each MX name) and requires TLS.  A
 * verified or required TLS that does not start (not offered, refused,
 * failed handshake) sends nothing of the transaction and exits 75.
 *
 * --helo defaults to this host's name when gethostname() gives one with a
 * dot (RFC 5321 4.1.1.1: the client's domain), else to the address
 * literal of the connection's local end (RFC 5321 4.1.4), e.g.
 * "[192.0.2.1]".  Text from the server (replies, -v dialogue) is printed
 * with every byte outside printable ASCII as \xNN, so a hostile server
 * cannot send terminal escapes to the user's screen.
 *
 * Without --server, each recipient domain's mail exchangers are looked up
 * (RFC 5321 5.1) through the nameserver in SMTPW_NAMESERVER (IP[:PORT]) or
 * /etc/resolv.conf.  SMTPW_MX_PORT (test use only) replaces port 25 for
 * those connections: DNS has no way to name another port for SMTP.
 * Exchanger addresses come from that nameserver too (never /etc/hosts),
 * and an exchanger that is this machine (loopback or unspecified address,
 * localhost, a single label) is refused, as it would loop the mail back
 * (RFC 5321 5.1): exit 69.  --allow-loopback-mx (tests only) lets MX
 * delivery reach loopback addresses.
 *
 * Exit status (sysexits.h): 0 accepted for every recipient; 75 any 4xx,
 * refused or dropped connection, timeout, TLS required but not started
 * (temporary, as MTAs treat TLS failures); 69 any 5xx (and nothing
 * temporary); 64 bad usage.
 * SPDX-License-Identifier: MIT */
#if !defined(_POSIX_C_SOURCE) || _POSIX_C_SOURCE < 200809L
#undef _POSIX_C_SOURCE
#define _POSIX_C_SOURCE 200809L
#endif

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "smtpwire/posix.h"
#include "tls.h"

#define EX_OK 0
#define EX_USAGE 64
#define EX_UNAVAILABLE 69
#define EX_TEMPFAIL 75

#define MAX_MX 16

static const char *prog = "smtpwire-send";

static void usage(FILE *f)
{
    fprintf(f,
            "usage: %s [--server HOST[:PORT]] --from ADDR --to ADDR [--to ADDR]...\n"
            "       [--helo NAME] [--timeout SECONDS] [-v] [FILE]\n"
            "Send the RFC 5322 message in FILE (default: standard input) by SMTP.\n"
            "  --server HOST[:PORT]  relay to use (port 25; IPv6 as [::1]:2525);\n"
            "                        without it, deliver by MX lookup of each domain\n"
            "  --from ADDR           envelope sender (\"\" for the null path)\n"
            "  --to ADDR             envelope recipient, repeatable\n"
            "  --helo NAME           EHLO/HELO name (default: this host's name when it\n"
            "                        has a dot, else the local address as [IP])\n"
            "  --timeout SECONDS     bound every wait (default: RFC 5321 4.5.3.2 values)\n"
            "  -v                    print the protocol dialogue to stderr\n"
            "  --allow-loopback-mx   (tests only) deliver by MX even to an exchanger\n"
            "                        whose address is this machine (127.0.0.0/8, ::1)\n"
            "  --starttls            use STARTTLS (RFC 3207), see TLS policy below\n"
            "  --require-tls         send no mail unless TLS starts (else exit 75)\n"
            "  --cafile FILE         verify against the CAs in FILE instead of the\n"
            "                        system's; implies --require-tls (also by MX)\n"
            "  --insecure            with --server: do not verify the certificate\n"
            "%s"
            "  --help                this text\n"
            "TLS policy: with --server, --starttls, --require-tls and --cafile verify the\n"
            "certificate chain and the --server name (or IP) against the system's CAs\n"
            "(or --cafile), and TLS is then required: if it does not start, nothing is\n"
            "sent and the exit is 75.  --insecure skips verification and leaves\n"
            "--starttls opportunistic.  By MX lookup (no --server), --starttls is\n"
            "opportunistic and NOT verified (RFC 7435); --cafile verifies each MX\n"
            "name and requires TLS.\n"
            "Environment: SMTPW_NAMESERVER=IP[:PORT] for MX lookups; SMTPW_MX_PORT\n"
            "(tests only) replaces port 25 when delivering by MX.\n"
            "Exit: 0 sent to all, 75 temporary failure, 69 permanent failure, 64 usage.\n",
            prog,
            tls_available() ? ""
                            : "                        (this build has no OpenSSL: the TLS\n"
                              "                        options exit 64)\n");
}

/* Room for SMTPW_POSIX_REPLY_TEXT octets, each escaped to 4. */
#define SAFE_MAX (4 * SMTPW_POSIX_REPLY_TEXT)

/* Peer text made safe for a terminal: printable ASCII stays, "\" and
 * every other byte (ESC, C1 controls such as 0x9B CSI, 8-bit) become
 * \xNN; only the LF that joins the lines of a reply is kept.  Cut to fit
 * buf (cap >= 1).  Returns buf. */
static const char *safe(char *buf, size_t cap, const char *s, size_t n)
{
    static const char hex[] = "0123456789abcdef";
    size_t i, w = 0;
    for (i = 0; i < n; i++) {
        unsigned char b = (unsigned char)s[i];
        if ((b >= 0x20 && b < 0x7f && b != '\\') || b == '\n') {
            if (w + 1 >= cap)
                break;
            buf[w++] = (char)b;
        } else {
            if (w + 4 >= cap)
                break;
            buf[w++] = '\\';
            buf[w++] = 'x';
            buf[w++] = hex[b >> 4];
            buf[w++] = hex[b & 15];
        }
    }
    buf[w] = '\0';
    return buf;
}

/* A reply's text, made safe (in one of two rotating buffers, so two may
 * appear in one message). */
static const char *safe_text(const char *text)
{
    static char bufs[2][SAFE_MAX + 1];
    static int k;
    k ^= 1;
    return safe(bufs[k], sizeof bufs[k], text, strlen(text));
}

/* arg: the tls_session, or NULL */
static void trace(void *arg, uint32_t dir, const char *line, size_t len)
{
    static const char started[] = "TLS started";
    char desc[128], text[SAFE_MAX + 1];
    if (dir == SMTPW_POSIX_TRACE_INFO && arg && len == sizeof started - 1 &&
        memcmp(line, started, len) == 0) {
        fprintf(stderr, "*  %s (%s)\n", started,
                safe_text(tls_session_describe(arg, desc, sizeof desc)));
        return;
    }
    fprintf(stderr, "%s %s\n",
            dir == SMTPW_POSIX_TRACE_INFO     ? "* "
            : dir == SMTPW_POSIX_TRACE_SERVER ? "S:"
                                              : "C:",
            safe(text, sizeof text, line, len));
}

/* The outcome so far, worst wins: temporary beats permanent beats OK. */
typedef struct tally {
    int temp, perm;
    const void *tls;     /* the tls_session, for its error text */
    const char *tls_why; /* what made TLS required, for the messages */
} tally;

static int is_temp(uint32_t code)
{
    return code >= 400 && code < 500;
}

/* Account for one transaction and tell the user what went wrong. */
static void report(tally *t, const char *peer, const char *const *rcpt, size_t n,
                   const smtpw_posix_reply *replies, const smtpw_posix_send_result *r)
{
    size_t i;
    if (r->err == SMTPW_E_TLS) {
        /* RFC 3207 and MTA practice: a TLS failure is temporary; the
         * adapter sent no MAIL, RCPT or DATA (SMTPW_E_TLS) */
        if (r->reply.code && r->reply.cmd == SMTPW_CMD_STARTTLS)
            fprintf(stderr, "%s: server %s refused STARTTLS: %s; TLS is required (%s); "
                    "nothing sent\n", prog, peer, safe_text(r->reply.text), t->tls_why);
        else if (r->reply.code)
            fprintf(stderr, "%s: server %s does not offer STARTTLS; TLS is required (%s); "
                    "nothing sent\n", prog, peer, t->tls_why);
        else
            fprintf(stderr, "%s: server %s: TLS handshake failed: %s; nothing sent\n", prog,
                    peer, t->tls && tls_session_error(t->tls)[0]
                              ? safe_text(tls_session_error(t->tls))
                              : "no details");
        t->temp = 1;
        return;
    }
    if (r->err) {
        int perm = r->err == SMTPW_E_8BIT || r->err == SMTPW_E_SIZE ||
                   r->err == SMTPW_E_NOTSUP || r->err == SMTPW_E_INVALID_ARG ||
                   r->err == SMTPW_E_SYNTAX || r->err == SMTPW_E_TOOLONG;
        fprintf(stderr, "%s: %s: %s%s%s\n", prog, peer, smtpw_strerror(r->err),
                r->err == SMTPW_E_IO && errno ? ": " : "",
                r->err == SMTPW_E_IO && errno ? strerror(errno) : "");
        if (perm)
            t->perm = 1;
        else
            t->temp = 1;
        return;
    }
    if (r->stage != SMTPW_CMD_RCPT && r->stage != SMTPW_CMD_BODY) {
        /* greeting, EHLO/HELO, MAIL or DATA refused the whole transaction */
        fprintf(stderr, "%s: %s: %s refused: %s\n", prog, peer,
                r->stage == SMTPW_CMD_GREETING ? "connection" : smtpw_cmd_name((uint32_t)r->stage),
                safe_text(r->reply.text));
        if (is_temp(r->reply.code))
            t->temp = 1;
        else
            t->perm = 1;
        return;
    }
    for (i = 0; i < n; i++) {
        uint32_t code = replies[i].code;
        if (code >= 200 && code < 300)
            continue;
        fprintf(stderr, "%s: <%s>: %s\n", prog, rcpt[i],
                code ? safe_text(replies[i].text) : "no reply");
        if (is_temp(code) || code == 0)
            t->temp = 1;
        else
            t->perm = 1;
    }
    if (r->stage == SMTPW_CMD_BODY && !r->delivered) {
        fprintf(stderr, "%s: %s: message refused: %s\n", prog, peer,
                safe_text(r->reply.text));
        if (is_temp(r->reply.code))
            t->temp = 1;
        else
            t->perm = 1;
    }
}

/* Split HOST[:PORT], [IPv6]:PORT or a bare IPv6 address.  Returns 0 or -1. */
static int split_server(char *arg, const char **host, const char **port)
{
    char *colon;
    *port = "25";
    if (arg[0] == '[') {
        char *end = strchr(arg, ']');
        if (!end || end == arg + 1)
            return -1;
        *end = '\0';
        *host = arg + 1;
        if (end[1] == ':' && end[2])
            *port = end + 2;
        else if (end[1])
            return -1;
        return 0;
    }
    colon = strchr(arg, ':');
    if (colon && strchr(colon + 1, ':'))
        colon = NULL; /* bare IPv6 address, no port */
    if (colon) {
        *colon = '\0';
        if (!colon[1])
            return -1;
        *port = colon + 1;
    }
    *host = arg;
    return arg[0] ? 0 : -1;
}

static int read_all(FILE *f, uint8_t **out, size_t *outlen)
{
    size_t cap = 65536, len = 0;
    uint8_t *buf = malloc(cap);
    if (!buf)
        return -1;
    for (;;) {
        size_t n;
        if (len == cap) {
            uint8_t *nb = realloc(buf, cap * 2);
            if (!nb) {
                free(buf);
                return -1;
            }
            buf = nb;
            cap *= 2;
        }
        n = fread(buf + len, 1, cap - len, f);
        len += n;
        if (n == 0)
            break;
    }
    if (ferror(f)) {
        free(buf);
        return -1;
    }
    *out = buf;
    *outlen = len;
    return 0;
}

static const char *domain_of(const char *addr)
{
    const char *at = strrchr(addr, '@');
    return at ? at + 1 : "";
}

/* Deliver to the recipients of one domain through its mail exchangers. */
static void deliver_mx(tally *t, const char *domain, const char *const *rcpt, size_t n,
                       const smtpw_posix_send_config *base, smtpw_posix_reply *replies)
{
    smtpw_posix_mx mx[MAX_MX];
    smtpw_posix_send_config o = *base;
    smtpw_posix_send_result r;
    const char *ns = getenv("SMTPW_NAMESERVER");
    const char *port = getenv("SMTPW_MX_PORT");
    uint32_t dns_ms = base->timeout_ms ? base->timeout_ms : 5000u;
    int nmx, i, tried = 0, looped = 0, dnsfail = 0;
    size_t k;
    const char *last = domain; /* the exchanger tried last, for the report */

    if (!port || !port[0])
        port = "25";
    if (ns && !ns[0])
        ns = NULL;
    o.rcpt = rcpt;
    o.nrcpt = n;
    o.rcpt_replies = replies;
    memset(&r, 0, sizeof r);

    if (domain[0] == '[') {
        /* an address literal names the host itself (RFC 5321 4.1.3) */
        char lit[SMTPW_POSIX_HOST_MAX];
        size_t len = strlen(domain);
        const char *h = domain + 1;
        if (len < 3 || len >= sizeof lit || domain[len - 1] != ']') {
            fprintf(stderr, "%s: %s: bad address literal\n", prog, domain);
            t->perm = 1;
            return;
        }
        if (strncmp(h, "IPv6:", 5) == 0)
            h += 5;
        memcpy(lit, h, len - 1 - (size_t)(h - domain));
        lit[len - 1 - (size_t)(h - domain)] = '\0';
        if (o.io_ctx)
            (void)tls_session_set_host(o.io_ctx, lit);
        smtpw_posix_send(lit, port, &o, &r, sizeof r);
        report(t, domain, rcpt, n, replies, &r);
        return;
    }

    nmx = smtpw_posix_mx_lookup(domain, ns, dns_ms, mx, MAX_MX);
    if (nmx == SMTPW_E_NXDOMAIN || nmx == SMTPW_E_NOMAIL) {
        /* RFC 7505 4.2 (556 5.1.10); RFC 5321 5.1 for a missing domain:
         * both permanent */
        for (k = 0; k < n; k++)
            fprintf(stderr,
                    nmx == SMTPW_E_NXDOMAIN
                        ? "%s: <%s>: domain %s does not exist\n"
                        : "%s: <%s>: domain %s takes no mail (a null MX, or no usable MX: IP "
                          "literals, localhost and single-label names are refused)\n",
                    prog, rcpt[k], domain);
        t->perm = 1;
        return;
    }
    if (nmx < 0) {
        fprintf(stderr, "%s: %s: MX lookup: %s\n", prog, domain, smtpw_strerror(nmx));
        t->temp = 1; /* RFC 5321 5.1: a failed lookup is temporary */
        return;
    }
    /* RFC 5321 5.1: in preference order; on a connection failure or a
     * refused greeting, go on to the next address or exchanger */
    for (i = 0; i < nmx; i++) {
        smtpw_posix_mx addr[8];
        int na, j;
        /* DNS only, never /etc/hosts; addresses of this machine are left
         * out unless --allow-loopback-mx (RFC 5321 5.1: no loop back) */
        na = smtpw_posix_addr_lookup(mx[i].host, ns, dns_ms, base->flags, addr, 8);
        if (na < 0) {
            fprintf(stderr, "%s: %s: address lookup: %s\n", prog, mx[i].host,
                    smtpw_strerror(na));
            dnsfail = 1;
            continue;
        }
        if (na == 0) {
            fprintf(stderr, "%s: %s: MX host %s is this machine (loopback address), "
                    "refused: mail would loop back (RFC 5321 5.1)\n", prog, domain,
                    mx[i].host);
            looped = 1;
        }
        for (j = 0; j < na; j++) {
            const char *host = addr[j].host;
            tried = 1;
            last = mx[i].host;
            /* the certificate names the exchanger, not its address */
            if (o.io_ctx)
                (void)tls_session_set_host(o.io_ctx, mx[i].host);
            smtpw_posix_send(host, port, &o, &r, sizeof r);
            if (r.err || r.stage == SMTPW_CMD_GREETING || r.stage == SMTPW_CMD_EHLO ||
                r.stage == SMTPW_CMD_HELO) {
                if (base->trace)
                    fprintf(stderr, "%s: %s (%s): %s; trying the next\n", prog, mx[i].host,
                            host, r.err ? smtpw_strerror(r.err) : safe_text(r.reply.text));
                continue;
            }
            report(t, mx[i].host, rcpt, n, replies, &r);
            return;
        }
    }
    if (!tried) {
        if (looped && !dnsfail)
            t->perm = 1; /* as MTAs bounce "loops back to myself" (5.4.6) */
        else
            t->temp = 1;
        return;
    }
    /* every exchanger failed: report the last attempt */
    report(t, last, rcpt, n, replies, &r);
}

int main(int argc, char **argv)
{
    const char *from = NULL, *helo = NULL, *file = NULL, *host = NULL, *port = NULL;
    char *server = NULL;
    const char **rcpt;
    smtpw_posix_reply *replies = NULL;
    size_t nrcpt = 0, i;
    unsigned timeout_s = 0;
    int verbose = 0, a, status, starttls = 0, require_tls = 0, insecure = 0, verify = 0;
    const char *cafile = NULL;
    void *tls_ctx = NULL, *tls_sess = NULL;
    uint8_t *body = NULL;
    size_t bodylen = 0;
    smtpw_posix_send_config o;
    tally t = {0, 0, NULL, ""};
    char myname[256];
    int allow_loopback_mx = 0; /* --allow-loopback-mx (tests only) */

    rcpt = calloc((size_t)argc + 1, sizeof *rcpt);
    if (!rcpt)
        return EX_TEMPFAIL;
    for (a = 1; a < argc; a++) {
        const char *arg = argv[a], *val = NULL;
        const char *eq = strncmp(arg, "--", 2) == 0 ? strchr(arg, '=') : NULL;
        size_t namelen = eq ? (size_t)(eq - arg) : strlen(arg);
        int takes = 0;
        static const char *const valued[] = {"--server", "--from", "--to", "--helo",
                                             "--timeout", "--cafile"};
        size_t v;
        if (strcmp(arg, "--help") == 0 || strcmp(arg, "-h") == 0) {
            usage(stdout);
            status = EX_OK;
            goto out;
        }
        if (strcmp(arg, "-v") == 0 || strcmp(arg, "--verbose") == 0) {
            verbose = 1;
            continue;
        }
        if (strcmp(arg, "--starttls") == 0) {
            starttls = 1;
            continue;
        }
        if (strcmp(arg, "--require-tls") == 0) {
            require_tls = 1;
            continue;
        }
        if (strcmp(arg, "--insecure") == 0) {
            insecure = 1;
            continue;
        }
        if (strcmp(arg, "--allow-loopback-mx") == 0) {
            allow_loopback_mx = 1;
            continue;
        }
        if (strcmp(arg, "--") == 0) {
            if (a + 1 < argc)
                file = argv[++a];
            if (a + 1 < argc)
                goto bad;
            break;
        }
        for (v = 0; v < sizeof valued / sizeof valued[0]; v++)
            if (strlen(valued[v]) == namelen && strncmp(arg, valued[v], namelen) == 0)
                takes = 1;
        if (takes) {
            if (eq)
                val = eq + 1;
            else if (a + 1 < argc)
                val = argv[++a];
            else
                goto bad;
            if (strncmp(arg, "--server", namelen) == 0) {
                free(server);
                server = strdup(val);
                if (!server)
                    goto bad;
            } else if (strncmp(arg, "--from", namelen) == 0) {
                from = val;
            } else if (strncmp(arg, "--to", namelen) == 0) {
                rcpt[nrcpt++] = val;
            } else if (strncmp(arg, "--helo", namelen) == 0) {
                helo = val;
            } else if (strncmp(arg, "--cafile", namelen) == 0) {
                if (!val[0])
                    goto bad;
                cafile = val;
            } else {
                char *end;
                unsigned long s;
                errno = 0;
                s = strtoul(val, &end, 10);
                if (!val[0] || *end || errno || s == 0 || s > 86400)
                    goto bad;
                timeout_s = (unsigned)s;
            }
            continue;
        }
        if (arg[0] == '-' && arg[1] != '\0')
            goto bad;
        if (file)
            goto bad;
        file = arg;
    }
    if (!from || nrcpt == 0)
        goto bad;
    if (server && split_server(server, &host, &port) != 0)
        goto bad;
    if (cafile && insecure) {
        fprintf(stderr, "%s: --cafile and --insecure contradict each other\n", prog);
        status = EX_USAGE;
        goto out;
    }
    if (insecure && !starttls && !require_tls) {
        fprintf(stderr, "%s: --insecure needs --starttls or --require-tls\n", prog);
        status = EX_USAGE;
        goto out;
    }
    if ((starttls || require_tls || cafile) && !tls_available()) {
        fprintf(stderr, "%s: %s: this build has no OpenSSL, STARTTLS is not available\n",
                prog, require_tls ? "--require-tls" : cafile ? "--cafile" : "--starttls");
        status = EX_USAGE;
        goto out;
    }
    /* Asking for verification asks for TLS: a verified peer that can be
     * talked out of STARTTLS (stripped from EHLO, or 454) verifies nothing.
     * A named --server is verified unless --insecure; MX hosts only with
     * --cafile (RFC 7435 opportunistic security otherwise). */
    verify = cafile || (server && (starttls || require_tls) && !insecure);
    t.tls_why = require_tls ? "--require-tls"
                : cafile    ? "--cafile"
                            : "the --server certificate is verified; --insecure to opt out";
    if (verify)
        require_tls = 1;
    /* refuse what cannot be rendered as a path before touching the net */
    {
        char path[600];
        size_t plen;
        if (from[0] && smtpw_path_render(from, strlen(from), SMTPW_PARSE_UTF8, path,
                                         sizeof path, &plen) != 0) {
            fprintf(stderr, "%s: bad --from address: %s\n", prog, from);
            status = EX_USAGE;
            goto out;
        }
        for (i = 0; i < nrcpt; i++)
            if (!strchr(rcpt[i], '@') ||
                smtpw_path_render(rcpt[i], strlen(rcpt[i]), SMTPW_PARSE_UTF8, path,
                                  sizeof path, &plen) != 0) {
                fprintf(stderr, "%s: bad --to address: %s\n", prog, rcpt[i]);
                status = EX_USAGE;
                goto out;
            }
    }

    {
        FILE *f = stdin;
        if (file && strcmp(file, "-") != 0) {
            f = fopen(file, "rb");
            if (!f) {
                fprintf(stderr, "%s: %s: %s\n", prog, file, strerror(errno));
                status = 66; /* EX_NOINPUT */
                goto out;
            }
        }
        if (read_all(f, &body, &bodylen) != 0) {
            fprintf(stderr, "%s: reading the message: %s\n", prog, strerror(errno));
            status = 74; /* EX_IOERR */
            goto out;
        }
        if (f != stdin)
            fclose(f);
    }

    replies = calloc(nrcpt, sizeof *replies);
    if (!replies) {
        status = EX_TEMPFAIL;
        goto out;
    }
    if (!helo) {
        /* RFC 5321 4.1.1.1: the client's own domain when it has a real one;
         * otherwise NULL makes the adapter send its address literal (4.1.4) */
        myname[sizeof myname - 1] = '\0';
        if (gethostname(myname, sizeof myname - 1) == 0 && strchr(myname, '.') &&
            smtpw_domain_check(myname, strlen(myname), 0) == 0)
            helo = myname;
    }
    smtpw_posix_send_config_init(&o, SMTPW_POSIX_SEND_CONFIG_VERSION);
    o.helo = helo;
    o.from = from;
    o.body = body;
    o.bodylen = bodylen;
    o.timeout_ms = timeout_s * 1000u;
    o.connect_timeout_ms = timeout_s * 1000u;
    if (allow_loopback_mx)
        o.flags |= SMTPW_POSIX_SEND_ALLOW_LOOPBACK_MX;
    if (starttls || require_tls) {
        char err[256];
        tls_ctx = tls_client_new(verify, cafile, err, sizeof err);
        if (!tls_ctx) {
            fprintf(stderr, "%s: %s\n", prog, err);
            status = tls_available() ? EX_TEMPFAIL : EX_USAGE;
            goto out;
        }
        tls_sess = tls_client_session_new(tls_ctx);
        if (!tls_sess || (host && tls_session_set_host(tls_sess, host) != 0)) {
            fprintf(stderr, "%s: cannot set up TLS\n", prog);
            status = EX_TEMPFAIL;
            goto out;
        }
        /* OpenSSL writes with write(2): a peer gone mid-write must not kill us */
        signal(SIGPIPE, SIG_IGN);
        o.io = tls_io();
        o.io_ctx = tls_sess;
        o.tls = require_tls ? SMTPW_POSIX_TLS_REQUIRE : SMTPW_POSIX_TLS_OPPORTUNISTIC;
        t.tls = tls_sess;
    }
    if (verbose) {
        o.trace = trace;
        o.trace_arg = tls_sess;
    }

    if (server) {
        smtpw_posix_send_result r;
        char peer[300];
        memset(&r, 0, sizeof r);
        o.rcpt = rcpt;
        o.nrcpt = nrcpt;
        o.rcpt_replies = replies;
        snprintf(peer, sizeof peer, strchr(host, ':') ? "[%s]:%s" : "%s:%s", host, port);
        smtpw_posix_send(host, port, &o, &r, sizeof r);
        report(&t, peer, rcpt, nrcpt, replies, &r);
    } else {
        /* one transaction per recipient domain; group them in place */
        const char **group = calloc(nrcpt, sizeof *group);
        char *done = calloc(nrcpt, 1);
        size_t j;
        if (!group || !done) {
            free(group);
            free(done);
            status = EX_TEMPFAIL;
            goto out;
        }
        for (i = 0; i < nrcpt; i++) {
            size_t n = 0;
            const char *dom = domain_of(rcpt[i]);
            if (done[i])
                continue;
            for (j = i; j < nrcpt; j++) {
                /* domains compare without case (RFC 5321 2.4) */
                const char *d2 = domain_of(rcpt[j]);
                size_t k = 0;
                if (done[j] || strlen(d2) != strlen(dom))
                    continue;
                while (dom[k] && (dom[k] | 0x20) == (d2[k] | 0x20))
                    k++;
                if (dom[k])
                    continue;
                done[j] = 1;
                group[n++] = rcpt[j];
            }
            deliver_mx(&t, dom, group, n, &o, replies);
        }
        free(group);
        free(done);
    }
    status = t.temp ? EX_TEMPFAIL : t.perm ? EX_UNAVAILABLE : EX_OK;
    goto out;

bad:
    fprintf(stderr, "%s: bad arguments (see --help)\n", prog);
    usage(stderr);
    status = EX_USAGE;
out:
    tls_session_free(tls_sess);
    tls_client_free(tls_ctx);
    free(replies);
    free(body);
    free(server);
    free(rcpt);
    return status;
}
