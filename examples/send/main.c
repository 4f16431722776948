/* smtpwire-send: send one RFC 5322 message over SMTP, with sysexits(3)
 * exit codes a caller can retry on, or stand in for sendmail.  The manual
 * page smtpwire-send(1) is the reference; in short:
 *
 *   smtpwire-send [--server HOST[:PORT]] --from ADDR --to ADDR [--to ADDR]...
 *                 [--helo NAME] [--timeout SECONDS] [-v] [option...] [FILE]
 *   sendmail [-t] [-i] [-f ADDR] [-F NAME] [option...] [RECIPIENT...]
 *
 * Other tools depend on the first command line: keep it stable.  Settings
 * also come from a configuration file (send/config.h), the sendmail
 * command line and message rules are in send/sendmail.h.
 *
 * Retry safety: the adapter runs each server's transaction with
 * SMTPW_POSIX_RCPT_RESET_ON_TEMP (or RESET_ON_ANY with --all-or-nothing),
 * so a recipient refused with 4xx resets the transaction before DATA and
 * the exit status is 75 with nothing delivered there: a caller retrying
 * on 75 never delivers twice through that server.  A 452 after an
 * acceptance (RFC 5321 4.5.3.1.10) only splits the recipients into
 * further transactions on the same connection.
 *
 * --helo defaults to this host's name when gethostname() gives one with a
 * dot (RFC 5321 4.1.1.1), else the adapter sends the address literal of
 * the connection's local end (4.1.4).  Text from the server is printed
 * escaped (common/escape.h): a hostile server cannot send terminal
 * escapes.  Without --server, each recipient domain's exchangers are
 * looked up (RFC 5321 5.1) through SMTPW_NAMESERVER or /etc/resolv.conf;
 * SMTPW_MX_PORT (tests only) replaces port 25 for them.
 * SPDX-License-Identifier: MIT */
#if !defined(_POSIX_C_SOURCE) || _POSIX_C_SOURCE < 200809L
#undef _POSIX_C_SOURCE
#define _POSIX_C_SOURCE 200809L
#endif

#include <errno.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"
#include "escape.h"
#include "sendmail.h"
#include "smtpwire/posix.h"
#include "tls.h"

/* sysexits(3) */
#define EX_OK 0
#define EX_USAGE 64
#define EX_NOINPUT 66
#define EX_NOHOST 68
#define EX_UNAVAILABLE 69
#define EX_TEMPFAIL 75
#define EX_PROTOCOL 76

#define MAX_MX 16
#define SYS_CONF "/etc/smtpwire.conf"

static const char prog[] = "smtpwire-send";

/* ---- output ---- */

/* Room for a reply text escaped (4 bytes per byte at worst). */
#define SAFE_MAX (4 * SMTPW_POSIX_REPLY_TEXT + 1)

/* Server text made safe for the terminal, in one of two rotating buffers
 * (two may appear in one message).  A reply's lines stay on separate
 * lines (the LF that joins them is kept). */
static const char *safe_text(const char *text)
{
    static char bufs[2][SAFE_MAX];
    static int k;
    k ^= 1;
    return esc_str(bufs[k], sizeof bufs[k], text, ESC_KEEP_LF);
}

/* A bad command line: one line saying what, one pointing to --help. */
static int usage_error(const char *what)
{
    fprintf(stderr, "%s: %s\n%s: see '%s --help' for the options\n", prog, what, prog, prog);
    return EX_USAGE;
}

static void usage(FILE *f)
{
    const send_option *o;
    fprintf(f,
            "usage: %s [--server HOST[:PORT]] --from ADDR --to ADDR [--to ADDR]... [option]...\n"
            "       [FILE]\n"
            "       %s --sendmail [sendmail option]... [RECIPIENT]...   (or called as sendmail)\n"
            "Send the RFC 5322 message in FILE (default: standard input) by SMTP.\n",
            prog, prog);
    for (o = send_options; o->name; o++) {
        char left[64];
        if (!o->help)
            continue;
        if (o->shortname)
            snprintf(left, sizeof left, "-%c, --%s%s%s", o->shortname, o->name,
                     o->arg ? " " : "", o->arg ? o->arg : "");
        else
            snprintf(left, sizeof left, "--%s%s%s", o->name, o->arg ? " " : "",
                     o->arg ? o->arg : "");
        fprintf(f, "  %-22s %s\n", left, o->help);
    }
    fprintf(f,
            "%s"
            "Sendmail mode: -t (recipients from To:, Cc:, Bcc:), -i/-oi (a lone \".\" is text),\n"
            "-f ADDR, -F NAME, -bm; the usual harmless sendmail options are ignored.\n"
            "Settings: --config FILE, else ~/.smtpwirerc, else %s: one \"key value\"\n"
            "per line, keys the long options without dashes; the command line wins.\n"
            "TLS: with --server, --starttls, --require-tls and --cafile verify the certificate\n"
            "and the --server name against the system's CAs (or --cafile) and require TLS;\n"
            "--insecure skips verification.  By MX, --starttls is opportunistic and not\n"
            "verified (RFC 7435); --cafile verifies each MX name and requires TLS.\n"
            "Environment: SMTPW_NAMESERVER=IP[:PORT] for MX lookups; SMTPW_MX_PORT (tests).\n"
            "Exit: 0 delivered to all, 64 usage, 66 no input, 68 unknown host or domain,\n"
            "69 permanent failure, 75 temporary failure (nothing was delivered by a server\n"
            "that deferred a recipient: safe to retry), 76 protocol error.\n",
            tls_available() ? "" : "(this build has no OpenSSL: the TLS options exit 64)\n",
            SYS_CONF);
}

/* arg: the tls_session, or NULL */
static void trace(void *arg, uint32_t dir, const char *line, size_t len)
{
    static const char started[] = "TLS started";
    char desc[128], text[SAFE_MAX];
    if (dir == SMTPW_POSIX_TRACE_INFO && arg && len == sizeof started - 1 &&
        memcmp(line, started, len) == 0) {
        fprintf(stderr, "*  %s (%s)\n", started,
                safe_text(tls_session_describe(arg, desc, sizeof desc)));
        return;
    }
    (void)esc_write(text, sizeof text, line, len, ESC_KEEP_LF, NULL);
    fprintf(stderr, "%s %s\n",
            dir == SMTPW_POSIX_TRACE_INFO     ? "* "
            : dir == SMTPW_POSIX_TRACE_SERVER ? "S:"
                                              : "C:",
            text);
}

/* ---- outcome ---- */

/* Exit statuses by urgency when several servers or domains disagree: a
 * caller must retry first of all (75), then the server is broken (76),
 * then it is final (69, 68). */
static int urgency(int status)
{
    switch (status) {
    case EX_TEMPFAIL:
        return 5;
    case EX_PROTOCOL:
        return 4;
    case EX_UNAVAILABLE:
        return 3;
    case EX_NOHOST:
        return 2;
    default:
        return status ? 1 : 0;
    }
}

typedef struct tally {
    int status;          /* the most urgent so far */
    int verbose;
    const void *tls;     /* the tls_session, for its error text */
    const char *tls_why; /* what made TLS required */
} tally;

static void worst(tally *t, int status)
{
    if (urgency(status) > urgency(t->status))
        t->status = status;
}

static int is2xx(uint32_t code)
{
    return code >= 200 && code < 300;
}

static int is4xx(uint32_t code)
{
    return code >= 400 && code < 500;
}

static const char *cmd_name(uint32_t cmd)
{
    switch (cmd) {
    case SMTPW_CMD_GREETING:
        return "the greeting";
    case SMTPW_CMD_BODY:
        return "the message";
    default:
        return smtpw_cmd_name(cmd);
    }
}

/* What stopped a session before the message was accepted, in words, and
 * its exit status.  The errno is the adapter's (os_error), never the
 * global left over from some later call. */
static int describe_err(const smtpw_posix_send_result *r, const tally *t, const char *peer,
                        char *out, size_t cap)
{
    const char *when = r->reply.cmd ? cmd_name(r->reply.cmd) : "the greeting";
    switch (r->err) {
    case SMTPW_E_IO:
        if (r->stage == SMTPW_CMD_NONE && r->reply.cmd == SMTPW_CMD_NONE && r->os_error)
            snprintf(out, cap, "cannot connect: %s", strerror(r->os_error));
        else if (r->os_error)
            snprintf(out, cap, "connection lost waiting for the reply to %s: %s", when,
                     strerror(r->os_error));
        else
            snprintf(out, cap, "the server closed the connection %s %s",
                     r->reply.cmd == SMTPW_CMD_GREETING ? "before" : "after", when);
        return EX_TEMPFAIL;
    case SMTPW_E_TIMEOUT:
        snprintf(out, cap, "timed out waiting for the reply to %s", when);
        return EX_TEMPFAIL;
    case SMTPW_E_PROTO:
        snprintf(out, cap, "protocol error: a malformed or unexpected reply to %s", when);
        return EX_PROTOCOL;
    case SMTPW_E_DNS:
        snprintf(out, cap, "cannot resolve the host name (temporary DNS failure)");
        return EX_TEMPFAIL;
    case SMTPW_E_NXDOMAIN:
        snprintf(out, cap, "no such host (the name does not exist)");
        return EX_NOHOST;
    case SMTPW_E_TLS:
        /* RFC 3207 and MTA practice: a TLS failure is temporary; the
         * adapter sent no MAIL, RCPT or DATA */
        if (r->reply.code && r->reply.cmd == SMTPW_CMD_STARTTLS)
            snprintf(out, cap, "server %s refused STARTTLS: %s; TLS is required (%s); nothing sent",
                     peer, safe_text(r->reply.text), t->tls_why);
        else if (r->reply.code)
            snprintf(out, cap, "server %s does not offer STARTTLS; TLS is required (%s); nothing sent",
                     peer, t->tls_why);
        else
            snprintf(out, cap, "TLS handshake failed: %s; nothing sent",
                     t->tls && tls_session_error(t->tls)[0] ? safe_text(tls_session_error(t->tls))
                                                            : "no details");
        return EX_TEMPFAIL;
    case SMTPW_E_8BIT:
        snprintf(out, cap, "the message has 8-bit data and the server offers no 8BITMIME");
        return EX_UNAVAILABLE;
    case SMTPW_E_SIZE:
        snprintf(out, cap, "the message is larger than the server's SIZE limit");
        return EX_UNAVAILABLE;
    case SMTPW_E_NOTSUP:
        snprintf(out, cap, "UTF-8 addresses and the server offers no SMTPUTF8");
        return EX_UNAVAILABLE;
    default:
        snprintf(out, cap, "%s", smtpw_strerror(r->err));
        return EX_UNAVAILABLE;
    }
}

/* Report one server's session: one line per recipient when anything went
 * wrong (or with -v), and account for its exit status. */
static void report(tally *t, const char *peer, const char *const *rcpt, size_t n,
                   const smtpw_posix_reply *replies, const uint32_t *status,
                   const smtpw_posix_send_result *r)
{
    char why[SAFE_MAX + 200];
    int st = EX_OK, all = 1, deferred = 0;
    size_t i;

    why[0] = '\0';
    for (i = 0; i < n; i++) {
        if (status[i] == SMTPW_POSIX_RCPT_REFUSED) {
            deferred |= is4xx(replies[i].code);
            worst(t, is4xx(replies[i].code) ? EX_TEMPFAIL : EX_UNAVAILABLE);
        }
        if (status[i] != SMTPW_POSIX_RCPT_DELIVERED)
            all = 0;
    }
    if (r->err) {
        st = describe_err(r, t, peer, why, sizeof why);
    } else if (r->stage == SMTPW_CMD_BODY && !is2xx(r->reply.code)) {
        snprintf(why, sizeof why, "message refused: %s", safe_text(r->reply.text));
        st = is4xx(r->reply.code) ? EX_TEMPFAIL : EX_UNAVAILABLE;
    } else if (r->stage != SMTPW_CMD_RCPT && r->stage != SMTPW_CMD_BODY &&
               !is2xx(r->reply.code)) {
        /* the greeting, EHLO/HELO, MAIL or DATA refused the transaction */
        snprintf(why, sizeof why, "%s refused: %s", cmd_name(r->stage), safe_text(r->reply.text));
        st = is4xx(r->reply.code) ? EX_TEMPFAIL : EX_UNAVAILABLE;
    } else if (!all) {
        /* accepted recipients left without the message: the adapter reset
         * the transaction on a refusal (rcpt_policy) */
        snprintf(why, sizeof why, "%s",
                 deferred ? "the transaction was reset: a recipient was deferred, so nothing "
                            "was delivered here (safe to retry)"
                          : "the transaction was reset: a recipient was refused "
                            "(--all-or-nothing)");
    }
    worst(t, st);
    if (all && !t->verbose)
        return;
    for (i = 0; i < n; i++) {
        if (status[i] == SMTPW_POSIX_RCPT_DELIVERED)
            fprintf(stderr, "%s: %s: delivered <%s>\n", prog, peer, rcpt[i]);
        else if (status[i] == SMTPW_POSIX_RCPT_REFUSED)
            fprintf(stderr, "%s: %s: %s <%s>: %s\n", prog, peer,
                    is4xx(replies[i].code) ? "deferred" : "refused", rcpt[i],
                    safe_text(replies[i].text));
        else
            fprintf(stderr, "%s: %s: not sent <%s>: %s\n", prog, peer, rcpt[i],
                    why[0] ? why : "no reply");
    }
}

/* ---- delivery ---- */

typedef struct job {
    smtpw_posix_send_config cfg; /* the shared settings; rcpt set per group */
    smtpw_span *spans;           /* the recipients as the adapter takes text:
                                    (pointer, length), one per recipient */
    smtpw_posix_reply *replies;  /* one per recipient of the whole job */
    uint32_t *status;
} job;

/* The adapter takes text as (pointer, length), never NUL-terminated. */
static smtpw_span span_of(const char *s)
{
    smtpw_span t;
    t.ptr = s;
    t.len = s ? strlen(s) : 0;
    return t;
}

static const char *domain_of(const char *addr)
{
    const char *at = strrchr(addr, '@');
    return at ? at + 1 : "";
}

/* One connection attempt for a group of recipients (rcpt[0..n), their
 * replies and statuses at the same offsets). */
static void attempt(const char *host, const char *port, const char *tls_name, job *j,
                    const smtpw_span *rcpt, size_t n, smtpw_posix_reply *replies,
                    uint32_t *status, smtpw_posix_send_result *r)
{
    smtpw_posix_send_config o = j->cfg;
    o.rcpt = rcpt;
    o.nrcpt = n;
    o.rcpt_replies = replies;
    o.rcpt_status = status;
    if (o.io_ctx)
        (void)tls_session_set_host(o.io_ctx, tls_name);
    memset(r, 0, sizeof *r);
    (void)smtpw_posix_send(host, port, &o, r, sizeof *r);
}

/* Deliver to the recipients of one domain through its mail exchangers. */
static void deliver_mx(tally *t, const char *domain, job *j, const char *const *rcpt,
                       const smtpw_span *spans, size_t n, smtpw_posix_reply *replies,
                       uint32_t *status)
{
    smtpw_posix_mx mx[MAX_MX];
    smtpw_posix_send_result r;
    const char *ns = getenv("SMTPW_NAMESERVER");
    const char *port = getenv("SMTPW_MX_PORT");
    uint32_t dns_ms = j->cfg.timeout_ms ? j->cfg.timeout_ms : 5000u;
    int nmx, i, tried = 0, looped = 0, dnsfail = 0;
    size_t k;
    char last[SMTPW_POSIX_HOST_MAX + 8];

    if (!port || !port[0])
        port = "25";
    if (ns && !ns[0])
        ns = NULL;
    snprintf(last, sizeof last, "%s", domain);
    if (domain[0] == '[') {
        /* an address literal names the host itself (RFC 5321 4.1.3) */
        char lit[SMTPW_POSIX_HOST_MAX];
        size_t len = strlen(domain);
        const char *h = domain + 1;
        if (len < 3 || len >= sizeof lit || domain[len - 1] != ']') {
            fprintf(stderr, "%s: %s: bad address literal\n", prog, domain);
            worst(t, EX_UNAVAILABLE);
            return;
        }
        if (strncmp(h, "IPv6:", 5) == 0)
            h += 5;
        memcpy(lit, h, len - 1 - (size_t)(h - domain));
        lit[len - 1 - (size_t)(h - domain)] = '\0';
        attempt(lit, port, lit, j, spans, n, replies, status, &r);
        report(t, domain, rcpt, n, replies, status, &r);
        return;
    }

    nmx = smtpw_posix_mx_lookup(domain, ns, dns_ms, mx, MAX_MX);
    if (nmx == SMTPW_E_NXDOMAIN || nmx == SMTPW_E_NOMAIL) {
        /* RFC 7505 4.2 (556 5.1.10); RFC 5321 5.1 for a missing domain:
         * both permanent */
        for (k = 0; k < n; k++)
            fprintf(stderr,
                    nmx == SMTPW_E_NXDOMAIN
                        ? "%s: %s: not sent <%s>: the domain %s does not exist (NXDOMAIN)\n"
                        : "%s: %s: not sent <%s>: the domain %s takes no mail (a null MX, or "
                          "no usable MX: IP literals, localhost and single-label names are "
                          "refused)\n",
                    prog, domain, rcpt[k], domain);
        worst(t, nmx == SMTPW_E_NXDOMAIN ? EX_NOHOST : EX_UNAVAILABLE);
        return;
    }
    if (nmx < 0) {
        for (k = 0; k < n; k++)
            fprintf(stderr, "%s: %s: not sent <%s>: MX lookup failed: %s\n", prog, domain,
                    rcpt[k], smtpw_strerror(nmx));
        worst(t, EX_TEMPFAIL); /* RFC 5321 5.1: a failed lookup is temporary */
        return;
    }
    memset(&r, 0, sizeof r);
    /* RFC 5321 5.1: in preference order; on a connection failure or a
     * refused greeting, go on to the next address or exchanger */
    for (i = 0; i < nmx; i++) {
        smtpw_posix_mx addr[8];
        int na, a;
        /* DNS only, never /etc/hosts; addresses of this machine are left
         * out unless --allow-loopback-mx (RFC 5321 5.1: no loop back) */
        na = smtpw_posix_addr_lookup(mx[i].host, ns, dns_ms, j->cfg.flags, addr, 8);
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
        for (a = 0; a < na; a++) {
            tried = 1;
            snprintf(last, sizeof last, "%s", mx[i].host);
            /* the certificate names the exchanger, not its address */
            attempt(addr[a].host, port, mx[i].host, j, spans, n, replies, status, &r);
            if ((r.err && r.transactions == 0) ||
                (!r.err && r.transactions == 0 &&
                 (r.stage == SMTPW_CMD_GREETING || r.stage == SMTPW_CMD_EHLO ||
                  r.stage == SMTPW_CMD_HELO))) {
                if (j->cfg.trace)
                    fprintf(stderr, "%s: %s (%s): %s; trying the next\n", prog, mx[i].host,
                            addr[a].host,
                            r.err ? smtpw_strerror(r.err) : safe_text(r.reply.text));
                continue;
            }
            report(t, mx[i].host, rcpt, n, replies, status, &r);
            return;
        }
    }
    if (!tried) {
        for (k = 0; k < n; k++)
            fprintf(stderr, "%s: %s: not sent <%s>: no usable mail exchanger\n", prog, domain,
                    rcpt[k]);
        /* as MTAs bounce "loops back to myself" (5.4.6) */
        worst(t, looped && !dnsfail ? EX_UNAVAILABLE : EX_TEMPFAIL);
        return;
    }
    /* every exchanger failed: report the last attempt */
    report(t, last, rcpt, n, replies, status, &r);
}

/* ---- input ---- */

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

/* sendmail's default sender: the login name at this host's name, when the
 * name is qualified (a dot); NULL otherwise. */
static char *default_sender(void)
{
    struct passwd *pw = getpwuid(getuid());
    char host[256], *out;
    size_t n;
    host[sizeof host - 1] = '\0';
    if (!pw || !pw->pw_name || gethostname(host, sizeof host - 1) != 0 || !strchr(host, '.') ||
        smtpw_domain_check(host, strlen(host), 0) != 0)
        return NULL;
    n = strlen(pw->pw_name) + strlen(host) + 2;
    out = malloc(n);
    if (out)
        snprintf(out, n, "%s@%s", pw->pw_name, host);
    return out;
}

typedef struct hdr_ctx {
    send_settings *s;
    char err[300];
} hdr_ctx;

static int add_header_rcpt(void *arg, const char *addr, size_t len)
{
    hdr_ctx *h = arg;
    char e[200];
    (void)len;
    if (send_settings_apply(h->s, send_option_find("to", 2), addr, SEND_FROM_CLI, e,
                            sizeof e) != 0) {
        char a[160];
        snprintf(h->err, sizeof h->err, "-t: bad recipient \"%s\" in the header%s",
                 esc_str(a, sizeof a, addr, 0),
                 strchr(addr, '@') ? "" : ": no domain (a local name is not qualified here)");
        return 1;
    }
    return 0;
}

/* The sendmail mode's changes to the message (sendmail.h): recipients
 * from the header with -t, Bcc: removed, From: added when missing.
 * Returns 0 or an exit status (its message printed). */
static int sendmail_message(const sm_opts *so, send_settings *s, uint8_t **body, size_t *len)
{
    if (so->extract) {
        hdr_ctx h;
        const char *field = "To";
        int r;
        h.s = s;
        h.err[0] = '\0';
        r = sm_header_recipients(*body, *len, add_header_rcpt, &h, &field);
        if (r < 0) {
            char e[400];
            if (h.err[0])
                return usage_error(h.err);
            snprintf(e, sizeof e, "-t: the %s: field is not a valid address list", field);
            return usage_error(e);
        }
    }
    *len = sm_remove_bcc(*body, *len);
    if (s->from && s->from[0] && !sm_has_field(*body, *len, "From")) {
        char field[1024];
        size_t n = sm_from_field(field, sizeof field, so->fullname, s->from, sm_eol(*body, *len));
        uint8_t *nb;
        if (n == 0)
            return usage_error("-F: the full name holds a control character or bad UTF-8");
        nb = malloc(*len + n + 1);
        if (!nb) {
            fprintf(stderr, "%s: out of memory\n", prog);
            return EX_TEMPFAIL;
        }
        memcpy(nb, field, n);
        memcpy(nb + n, *body, *len);
        free(*body);
        *body = nb;
        *len += n;
    }
    return 0;
}

/* ---- main ---- */

/* argv holds --sendmail (before any "--"): the sendmail command line. */
static int wants_sendmail(int argc, char **argv)
{
    int i;
    for (i = 1; i < argc && strcmp(argv[i], "--") != 0; i++)
        if (strcmp(argv[i], "--sendmail") == 0)
            return 1;
    return 0;
}

int main(int argc, char **argv)
{
    send_settings s;
    sm_opts so;
    const char *file = NULL, *host = NULL, *port = NULL;
    char *server = NULL, *dflt_from = NULL;
    char err[600], myname[256];
    void *tls_ctx = NULL, *tls_sess = NULL;
    uint8_t *body = NULL;
    size_t bodylen = 0;
    int status = EX_OK, verify = 0, require_tls, sendmail_mode;
    job j;
    tally t;

    memset(&s, 0, sizeof s);
    memset(&so, 0, sizeof so);
    memset(&j, 0, sizeof j);
    memset(&t, 0, sizeof t);
    sendmail_mode = sm_called_as_sendmail(argv[0]) || wants_sendmail(argc, argv);
    if (sendmail_mode) {
        if (sm_parse_argv(argc, argv, &so, &s, err, sizeof err) != 0) {
            status = usage_error(err);
            goto out;
        }
    } else {
        int a;
        for (a = 1; a < argc; a++) {
            int r = send_cli_option(&s, argc, argv, &a, err, sizeof err);
            if (r == 1)
                continue;
            if (r != 0) {
                status = usage_error(err);
                goto out;
            }
            if (strcmp(argv[a], "--") == 0 && a + 1 < argc)
                a++;
            else if (strcmp(argv[a], "--") == 0)
                continue;
            if (file) {
                status = usage_error("one message file at most");
                goto out;
            }
            file = argv[a];
        }
    }
    if (s.help) {
        usage(stdout);
        goto out;
    }
    if (s.version) {
        printf("%s %s (library %s)\n", prog, SMTPW_VERSION_STRING, smtpw_version_string());
        goto out;
    }

    /* the configuration file, after the command line, which wins */
    if (s.config) {
        int found;
        status = send_config_load(&s, s.config, 1, &found, err, sizeof err);
    } else {
        const char *home = getenv("HOME");
        char rc[4096];
        if (home && home[0] && strlen(home) + sizeof "/.smtpwirerc" <= sizeof rc)
            snprintf(rc, sizeof rc, "%s/.smtpwirerc", home);
        else
            rc[0] = '\0';
        status = send_config_load_default(&s, rc[0] ? rc : NULL, SYS_CONF, NULL, err,
                                          sizeof err);
    }
    if (status) {
        fprintf(stderr, "%s: %s\n", prog, err);
        goto out;
    }
    t.verbose = s.verbose;

    if (!s.from && sendmail_mode) {
        dflt_from = default_sender();
        if (!dflt_from) {
            status = usage_error("no sender: give -f ADDR or a \"from\" line in the "
                                 "configuration file (this host's name is not qualified)");
            goto out;
        }
        s.from = dflt_from;
        dflt_from = NULL;
    }
    if (!s.from) {
        status = usage_error("--from is required");
        goto out;
    }
    if (s.nto == 0 && !(sendmail_mode && so.extract)) {
        status = usage_error(sendmail_mode ? "no recipients: give them as operands, or -t"
                                           : "--to is required");
        goto out;
    }
    if (s.server) {
        server = strdup(s.server);
        if (!server || send_split_server(server, &host, &port) != 0) {
            status = usage_error("bad --server");
            goto out;
        }
    }
    if (s.cafile && s.insecure) {
        status = usage_error("--cafile and --insecure contradict each other");
        goto out;
    }
    if (s.insecure && !s.starttls && !s.require_tls) {
        status = usage_error("--insecure needs --starttls or --require-tls");
        goto out;
    }
    if ((s.starttls || s.require_tls || s.cafile) && !tls_available()) {
        snprintf(err, sizeof err, "%s: this build has no OpenSSL, STARTTLS is not available",
                 s.require_tls ? "--require-tls" : s.cafile ? "--cafile" : "--starttls");
        status = usage_error(err);
        goto out;
    }
    /* Asking for verification asks for TLS: a verified peer that can be
     * talked out of STARTTLS (stripped from EHLO, or 454) verifies nothing.
     * A named --server is verified unless --insecure; MX hosts only with
     * --cafile (RFC 7435 opportunistic security otherwise). */
    require_tls = s.require_tls;
    verify = s.cafile || (server && (s.starttls || require_tls) && !s.insecure);
    t.tls_why = require_tls ? "--require-tls"
                : s.cafile  ? "--cafile"
                            : "the --server certificate is verified; --insecure to opt out";
    if (verify)
        require_tls = 1;

    /* the message */
    if (sendmail_mode) {
        if (sm_read_message(stdin, so.dot_ends, &body, &bodylen) != 0) {
            fprintf(stderr, "%s: reading the message: %s\n", prog, strerror(errno));
            status = EX_NOINPUT;
            goto out;
        }
        status = sendmail_message(&so, &s, &body, &bodylen);
        if (status)
            goto out;
        if (s.nto == 0) {
            status = usage_error("no recipients: none in the operands, none in the header");
            goto out;
        }
    } else {
        FILE *f = stdin;
        if (file && strcmp(file, "-") != 0) {
            f = fopen(file, "rb");
            if (!f) {
                char e[160];
                fprintf(stderr, "%s: %s: %s\n", prog, esc_str(e, sizeof e, file, 0),
                        strerror(errno));
                status = EX_NOINPUT;
                goto out;
            }
        }
        if (read_all(f, &body, &bodylen) != 0) {
            fprintf(stderr, "%s: reading the message: %s\n", prog, strerror(errno));
            status = EX_NOINPUT;
            if (f != stdin)
                fclose(f);
            goto out;
        }
        if (f != stdin)
            fclose(f);
    }

    j.spans = calloc(s.nto, sizeof *j.spans);
    j.replies = calloc(s.nto, sizeof *j.replies);
    j.status = calloc(s.nto, sizeof *j.status);
    if (!j.spans || !j.replies || !j.status) {
        fprintf(stderr, "%s: out of memory\n", prog);
        status = EX_TEMPFAIL;
        goto out;
    }
    smtpw_posix_send_config_init(&j.cfg, SMTPW_POSIX_SEND_CONFIG_VERSION);
    j.cfg.helo = span_of(s.helo);
    if (!s.helo) {
        /* RFC 5321 4.1.1.1: the client's own domain when it has a real one;
         * otherwise {NULL, 0} makes the adapter send its address literal (4.1.4) */
        myname[sizeof myname - 1] = '\0';
        if (gethostname(myname, sizeof myname - 1) == 0 && strchr(myname, '.') &&
            smtpw_domain_check(myname, strlen(myname), 0) == 0)
            j.cfg.helo = span_of(myname);
    }
    j.cfg.from = span_of(s.from); /* "" is the null reverse-path <> */
    j.cfg.body = body;
    j.cfg.bodylen = bodylen;
    j.cfg.timeout_ms = s.timeout_s * 1000u;
    j.cfg.connect_timeout_ms = s.timeout_s * 1000u;
    j.cfg.rcpt_policy =
        s.all_or_nothing ? SMTPW_POSIX_RCPT_RESET_ON_ANY : SMTPW_POSIX_RCPT_RESET_ON_TEMP;
    if (s.allow_loopback_mx)
        j.cfg.flags |= SMTPW_POSIX_SEND_ALLOW_LOOPBACK_MX;
    if (s.starttls || require_tls) {
        tls_ctx = tls_client_new(verify, s.cafile, err, sizeof err);
        if (!tls_ctx) {
            fprintf(stderr, "%s: %s\n", prog, err);
            status = tls_available() ? EX_TEMPFAIL : EX_USAGE;
            goto out;
        }
        tls_sess = tls_client_session_new(tls_ctx);
        if (!tls_sess) {
            fprintf(stderr, "%s: cannot set up TLS\n", prog);
            status = EX_TEMPFAIL;
            goto out;
        }
        /* OpenSSL writes with write(2): a peer gone mid-write must not kill us */
        signal(SIGPIPE, SIG_IGN);
        j.cfg.io = tls_io();
        j.cfg.io_ctx = tls_sess;
        j.cfg.tls = require_tls ? SMTPW_POSIX_TLS_REQUIRE : SMTPW_POSIX_TLS_OPPORTUNISTIC;
        t.tls = tls_sess;
    }
    if (s.verbose) {
        j.cfg.trace = trace;
        j.cfg.trace_arg = tls_sess;
    }

    if (server) {
        smtpw_posix_send_result r;
        char peer[300];
        size_t k;
        snprintf(peer, sizeof peer, strchr(host, ':') ? "[%s]:%s" : "%s:%s", host, port);
        for (k = 0; k < s.nto; k++)
            j.spans[k] = span_of(s.to[k]);
        attempt(host, port, host, &j, j.spans, s.nto, j.replies, j.status, &r);
        report(&t, peer, (const char *const *)s.to, s.nto, j.replies, j.status, &r);
    } else {
        /* one transaction per recipient domain: sort the recipients so that
         * each domain's are together (domains compare without case,
         * RFC 5321 2.4), keeping their order inside a domain */
        size_t n = s.nto, k, a, b;
        char **sorted = malloc(n * sizeof *sorted);
        char *done = calloc(n, 1);
        if (!sorted || !done) {
            free(sorted);
            free(done);
            fprintf(stderr, "%s: out of memory\n", prog);
            status = EX_TEMPFAIL;
            goto out;
        }
        for (a = 0, k = 0; a < n; a++) {
            const char *dom = domain_of(s.to[a]);
            if (done[a])
                continue;
            for (b = a; b < n; b++) {
                const char *d2 = domain_of(s.to[b]);
                size_t c = 0;
                if (done[b] || strlen(d2) != strlen(dom))
                    continue;
                while (dom[c] && (dom[c] | 0x20) == (d2[c] | 0x20))
                    c++;
                if (dom[c])
                    continue;
                done[b] = 1;
                sorted[k++] = s.to[b];
            }
        }
        memcpy(s.to, sorted, n * sizeof *sorted);
        free(sorted);
        free(done);
        for (k = 0; k < n; k++)
            j.spans[k] = span_of(s.to[k]);
        for (a = 0; a < n; a = b) {
            const char *dom = domain_of(s.to[a]);
            for (b = a + 1; b < n && strlen(domain_of(s.to[b])) == strlen(dom); b++) {
                const char *d2 = domain_of(s.to[b]);
                size_t c = 0;
                while (dom[c] && (dom[c] | 0x20) == (d2[c] | 0x20))
                    c++;
                if (dom[c])
                    break;
            }
            deliver_mx(&t, dom, &j, (const char *const *)s.to + a, j.spans + a, b - a,
                       j.replies + a, j.status + a);
        }
    }
    status = t.status;

out:
    tls_session_free(tls_sess);
    tls_client_free(tls_ctx);
    free(j.spans);
    free(j.replies);
    free(j.status);
    free(body);
    free(server);
    free(dflt_from);
    send_settings_free(&s);
    return status;
}
