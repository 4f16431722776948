/* smtpwire-server: an SMTP server that stores mail in a Maildir, built on
 * the sans-I/O core and the POSIX adapter.  One process, one poll() loop,
 * many concurrent sessions; each accepted message is made durable (tmp/,
 * fsync, rename into new/, fsync of new/) before its 250, with one group
 * commit per loop turn so an fsync never stalls the other sessions.
 *
 *   smtpwire-server [--listen ADDR:PORT] [--maildir DIR] [--sink] ...
 *
 * This file: the command line and the start-up checks, in the order that
 * keeps root for as short as possible: what needs it (binding a port below
 * 1024, reading the TLS key) first, then the drop to --run-as, then the
 * Maildir, created and checked as the user that will write it.
 * See man/smtpwire-server.1.
 * SPDX-License-Identifier: MIT */
#if !defined(_POSIX_C_SOURCE) || _POSIX_C_SOURCE < 200809L
#undef _POSIX_C_SOURCE
#define _POSIX_C_SOURCE 200809L
#endif

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include "clock.h"
#include "escape.h"
#include "log.h"
#include "privdrop.h"
#include "srv.h"
#include "tls.h"

#define EX_USAGE 64
#define SCRATCH_LEN 65536u
#define POOL_SLOTS 1024u
#define FD_HEADROOM 16u /* descriptors kept for the listener, the signal pipe, stdio */

volatile sig_atomic_t got_signal;
static int sigpipe_w = -1;

static void on_signal(int sig)
{
    int saved = errno;
    char b = 1;
    got_signal = sig;
    if (sigpipe_w >= 0)
        (void)write(sigpipe_w, &b, 1);
    errno = saved;
}

static void flush_log(void)
{
    (void)log_flush();
}

static void usage(FILE *f)
{
    fprintf(f,
            "usage: smtpwire-server [options]\n"
            "  --listen ADDR:PORT    listen address (default 127.0.0.1:2525; port 0 picks\n"
            "                        a free one; IPv6 as [::1]:PORT)\n"
            "  --maildir DIR         store messages in this Maildir (default ./Maildir;\n"
            "                        created if missing, must be writable)\n"
            "  --sink                accept and discard every message\n"
            "  --lenient             accept common client deviations (lenient profile)\n"
            "  --hostname NAME       name in the greeting and Received: (default: this host)\n"
            "  --max-size BYTES      SIZE limit, 0 for none (default 10485760)\n"
            "  --max-recipients N    recipients per message (default 100)\n"
            "  --max-messages N      exit after storing N messages\n"
            "  --max-connections N   concurrent sessions; more get 421 (default: what the\n"
            "                        descriptor limit allows, two per session)\n"
            "  --timeout SECONDS     idle timeout of a session, 0 for RFC 5321 4.5.3.2's\n"
            "                        5 minutes (default 0)\n"
            "  --bare-command POLICY bare CR/LF in commands: reject, normalize or keep\n"
            "  --bare-body POLICY    bare CR/LF in message bodies: reject, normalize or keep\n"
            "                        (default reject; never ends a message either way)\n"
#ifdef SMTPW_HAVE_OPENSSL
            "  --tls-cert FILE       offer STARTTLS with this certificate chain (PEM)\n"
            "  --tls-key FILE        the private key for --tls-cert (PEM)\n"
#endif
            "  --domain NAME         accept mail for this domain (repeatable); others get\n"
            "                        550 5.7.1; postmaster is always accepted\n"
            "  --recipients FILE     accept only the addresses in FILE (one a line, #\n"
            "                        comments); others get 550 5.1.1\n"
            "                        (without --domain and --recipients: accept all)\n"
            "  --run-as USER         drop to USER and its group once the port is bound\n"
            "  --allow-root          keep running as root on a port below 1024\n"
            "  -q, --quiet           log errors only\n"
            "  -v, --verbose         log the protocol dialogue too\n"
            "  --version             print the program and library versions\n"
            "  -h, --help            show this help\n"
            "The first line on stdout is \"listening on ADDR:PORT\"; the log (one\n"
            "key=value line per event) goes to stderr.\n");
}

static void die_usage(const char *msg, const char *arg)
{
    char safe[200];
    fprintf(stderr, PROG ": %s%s%s\n", msg, arg ? ": " : "",
            arg ? esc_str(safe, sizeof safe, arg, 0) : "");
    fprintf(stderr, "try '" PROG " --help'\n");
    exit(EX_USAGE);
}

/* A start-up failure: one error line in the log format, exit 1. */
static void die(const char *msg, const char *err)
{
    log_line l;
    log_begin(&l, LOG_ERROR, "error");
    log_str(&l, "msg", msg);
    if (err)
        log_str(&l, "error", err);
    log_end(&l);
    exit(1);
}

static unsigned long long parse_num(const char *opt, const char *v, unsigned long long max)
{
    char *end;
    unsigned long long n;
    if (!v || !*v || *v == '-' || *v == '+')
        die_usage("not a number", opt);
    errno = 0;
    n = strtoull(v, &end, 10);
    if (errno || *end || n > max)
        die_usage("bad number", opt);
    return n;
}

static uint32_t parse_bare(const char *opt, const char *v)
{
    if (!strcmp(v, "reject"))
        return SMTPW_BARE_REJECT;
    if (!strcmp(v, "normalize"))
        return SMTPW_BARE_NORMALIZE;
    if (!strcmp(v, "keep"))
        return SMTPW_BARE_KEEP;
    die_usage("not reject, normalize or keep", opt);
    return SMTPW_BARE_REJECT;
}

/* Raise the soft descriptor limit to the hard one, and size the session
 * table so that every session can also hold an open message file: running
 * out of descriptors then never costs a message, only a 421 at connect. */
static size_t sessions_allowed(void)
{
    struct rlimit rl;
    rlim_t n;
    if (getrlimit(RLIMIT_NOFILE, &rl) != 0)
        return 256;
    if (rl.rlim_cur != rl.rlim_max) {
        struct rlimit up = rl;
        up.rlim_cur = rl.rlim_max == RLIM_INFINITY ? 1048576 : rl.rlim_max;
        if (setrlimit(RLIMIT_NOFILE, &up) == 0)
            rl = up;
    }
    n = rl.rlim_cur == RLIM_INFINITY ? 1048576 : rl.rlim_cur;
    if (n <= FD_HEADROOM + 2)
        return 1;
    return (size_t)((n - FD_HEADROOM) / 2);
}

static void default_hostname(char *out, size_t cap)
{
    if (gethostname(out, cap) != 0 || out[0] == '\0' ||
        smtpw_domain_check(out, strnlen(out, cap), 0) != 0)
        snprintf(out, cap, "localhost");
    out[cap - 1] = '\0';
}

/* Options that take a value. */
static int takes_value(const char *name)
{
    static const char *const with[] = {
        "--listen",    "--maildir",     "--hostname",        "--max-size",
        "--max-recipients", "--max-messages", "--max-connections", "--timeout",
        "--bare-command", "--bare-body", "--tls-cert",       "--tls-key",
        "--domain",    "--recipients",  "--run-as"};
    size_t i;
    for (i = 0; i < sizeof with / sizeof *with; i++)
        if (!strcmp(name, with[i]))
            return 1;
    return 0;
}

typedef struct opts {
    const char *listen, *maildir, *cert, *key, *recipients, *run_as;
    size_t max_conn;
    uint32_t timeout_s;
    int allow_root, hostname_given;
} opts;

static void parse_args(server *srv, opts *o, int argc, char **argv)
{
    char err[256];
    int i, level = LOG_INFO;
    for (i = 1; i < argc; i++) {
        const char *a = argv[i], *v = NULL;
        const char *eq = a[0] == '-' && a[1] == '-' ? strchr(a, '=') : NULL;
        char name[64];
        size_t nl = eq ? (size_t)(eq - a) : strlen(a);
        if (nl >= sizeof name)
            die_usage("unknown option", a);
        memcpy(name, a, nl);
        name[nl] = '\0';
        if (!strcmp(name, "--help") || !strcmp(name, "-h")) {
            usage(stdout);
            exit(0);
        }
        if (!strcmp(name, "--version")) {
            printf(PROG " %s (smtpwire library %s)\n", SMTPW_VERSION_STRING,
                   smtpw_version_string());
            exit(0);
        }
        if (!strcmp(name, "--sink")) {
            srv->sink = 1;
        } else if (!strcmp(name, "--lenient")) {
            srv->cfg.flags |= SMTPW_SERVER_LENIENT;
        } else if (!strcmp(name, "--allow-root")) {
            o->allow_root = 1;
        } else if (!strcmp(name, "-q") || !strcmp(name, "--quiet")) {
            level = LOG_ERROR;
        } else if (!strcmp(name, "-v") || !strcmp(name, "--verbose")) {
            level = LOG_DEBUG;
        } else if (!takes_value(name)) {
            die_usage("unknown option", a);
        } else {
            if (eq)
                v = eq + 1;
            else if (i + 1 < argc)
                v = argv[++i];
            else
                die_usage("option needs a value", a);
            if (!strcmp(name, "--listen")) {
                o->listen = v;
            } else if (!strcmp(name, "--maildir")) {
                if (!*v)
                    die_usage("empty --maildir", NULL);
                o->maildir = v;
            } else if (!strcmp(name, "--hostname")) {
                if (smtpw_domain_check(v, strlen(v), 0) != 0 ||
                    strlen(v) >= sizeof srv->hostname)
                    die_usage("--hostname is not a domain name", v);
                snprintf(srv->hostname, sizeof srv->hostname, "%s", v);
                o->hostname_given = 1;
            } else if (!strcmp(name, "--max-size")) {
                srv->cfg.max_message_size = (uint64_t)parse_num(name, v, UINT64_MAX);
            } else if (!strcmp(name, "--max-recipients")) {
                srv->cfg.max_recipients = (uint32_t)parse_num(name, v, UINT32_MAX);
                if (srv->cfg.max_recipients == 0)
                    die_usage("--max-recipients must be at least 1", NULL);
            } else if (!strcmp(name, "--max-messages")) {
                srv->max_messages = (unsigned long)parse_num(name, v, ULONG_MAX);
            } else if (!strcmp(name, "--max-connections")) {
                o->max_conn = (size_t)parse_num(name, v, 1000000);
                if (o->max_conn == 0)
                    die_usage("--max-connections must be at least 1", NULL);
            } else if (!strcmp(name, "--timeout")) {
                o->timeout_s = (uint32_t)parse_num(name, v, 86400);
            } else if (!strcmp(name, "--bare-command")) {
                srv->cfg.bare_command = parse_bare(name, v);
            } else if (!strcmp(name, "--bare-body")) {
                srv->cfg.bare_body = parse_bare(name, v);
            } else if (!strcmp(name, "--tls-cert")) {
                o->cert = v;
            } else if (!strcmp(name, "--tls-key")) {
                o->key = v;
            } else if (!strcmp(name, "--domain")) {
                if (policy_add_domain(&srv->pol, v, strlen(v), err, sizeof err) != 0)
                    die_usage("--domain is not a domain name or address literal", v);
            } else if (!strcmp(name, "--recipients")) {
                if (o->recipients)
                    die_usage("--recipients given twice", v);
                o->recipients = v;
            } else {
                o->run_as = v;
            }
        }
    }
    if ((o->cert != NULL) != (o->key != NULL))
        die_usage("--tls-cert and --tls-key go together", NULL);
    if (o->run_as && o->allow_root)
        die_usage("--run-as and --allow-root exclude each other", NULL);
    log_set_level(level);
}

/* Open the Maildir (created if missing) and make sure it takes a message
 * now, as the user that will write it: create a file in tmp/ and remove
 * it.  A server that answers 451 to every message is worse than one that
 * does not start. */
static void open_maildir(server *srv, const char *dir)
{
    maildir_msg m;
    char err[512], what[512];
    if (maildir_open(&srv->md, dir, srv->hostname, err, sizeof err) != 0)
        die("cannot open the Maildir", err);
    m.fd = -1;
    if (maildir_create(&srv->md, &m) != 0 || maildir_write(&m, "x", 1) != 0) {
        int e = errno;
        if (m.fd >= 0)
            maildir_abort(&srv->md, &m);
        snprintf(what, sizeof what, "Maildir %s/tmp is not writable", dir);
        die(what, strerror(e));
    }
    maildir_abort(&srv->md, &m);
}

int main(int argc, char **argv)
{
    static server srv;
    opts o;
    char err[512];
    smtpw_posix_shared_config scfg;
    uint8_t *scratch, *pool;
    void *shmem;
    privdrop_user user;
    unsigned port = 0;
    int lfd, sp[2], rc;
    struct sigaction sa;
    log_line l;

    memset(&o, 0, sizeof o);
    o.listen = "127.0.0.1:2525";
    o.maildir = "./Maildir";
    smtpw_server_config_init(&srv.cfg, SMTPW_SERVER_CONFIG_VERSION);
    policy_init(&srv.pol);
    default_hostname(srv.hostname, sizeof srv.hostname);
    parse_args(&srv, &o, argc, argv);
    /* one write per loop turn rather than one per event (flushed at exit) */
    log_set_buffered(1);
    atexit(flush_log);

    /* RFC 5321 2.3.5 and 4.1.1.1: the greeting names the server by its
     * fully-qualified domain name; clients and receivers rely on it. */
    if (!strchr(srv.hostname, '.')) {
        log_begin(&l, LOG_WARN, "config");
        log_str(&l, "hostname", srv.hostname);
        log_str(&l, "reason", o.hostname_given
                                  ? "not fully qualified (RFC 5321 2.3.5)"
                                  : "this host's name is not fully qualified: set --hostname");
        log_end(&l);
    }
    if (o.recipients && policy_load_file(&srv.pol, o.recipients, err, sizeof err) != 0)
        die("cannot load --recipients", err);
    if (policy_finish(&srv.pol) != 0)
        die("cannot set up the recipient policy", "out of memory");
    srv.policy_on = policy_active(&srv.pol);
    srv.log_info = log_enabled(LOG_INFO);
    srv.log_debug = log_enabled(LOG_DEBUG);
    if (o.run_as && privdrop_lookup(o.run_as, &user, err, sizeof err) != 0)
        die_usage(err, NULL);

    if (o.cert) { /* the key is read while we may still be root */
        srv.tls = tls_server_new(o.cert, o.key, err, sizeof err);
        if (!srv.tls) {
            if (!tls_available())
                die_usage(err, NULL);
            die("cannot load the TLS certificate or key", err);
        }
        srv.cfg.flags |= SMTPW_SERVER_STARTTLS;
    }
    srv.cfg.hostname = srv.hostname;
    srv.cfg.hostname_len = strlen(srv.hostname);
    srv.max_sessions = sessions_allowed(); /* raises the soft fd limit, so always call it */
    if (o.max_conn)
        srv.max_sessions = o.max_conn; /* the admin's word, even past the fd limit */

    if (!srv.sink && !o.run_as)
        open_maildir(&srv, o.maildir);

    /* One scratch buffer for every session's reads; a lazily touched pool
     * of small slots for partial command lines. */
    scratch = (uint8_t *)malloc(SCRATCH_LEN);
    pool = (uint8_t *)malloc((size_t)POOL_SLOTS * 512u);
    shmem = malloc(smtpw_posix_shared_sizeof());
    smtpw_posix_shared_config_init(&scfg, SMTPW_POSIX_SHARED_CONFIG_VERSION);
    scfg.scratch = scratch;
    scfg.scratch_len = SCRATCH_LEN;
    scfg.pool = pool;
    scfg.pool_len = (size_t)POOL_SLOTS * 512u;
    scfg.slot_size = 512;
    scfg.timeout_ms = o.timeout_s * 1000u;
    if (!scratch || !pool || !shmem ||
        (rc = smtpw_posix_shared_init(shmem, smtpw_posix_shared_sizeof(), &scfg,
                                      &srv.shared)) != 0)
        die("cannot set up buffers", "out of memory");

    if (pipe(sp) != 0)
        die("pipe", strerror(errno));
    fcntl(sp[0], F_SETFL, O_NONBLOCK);
    fcntl(sp[1], F_SETFL, O_NONBLOCK);
    sigpipe_w = sp[1];
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    sa.sa_handler = SIG_IGN;
    sigaction(SIGPIPE, &sa, NULL);

    lfd = listener_open(o.listen, srv.listen_shown, sizeof srv.listen_shown, &port);
    if (lfd == -2)
        die_usage(srv.listen_shown[0] ? srv.listen_shown : "bad --listen (use ADDR:PORT or "
                                                           "[IPv6]:PORT)",
                  o.listen);
    if (lfd < 0)
        die("cannot listen", srv.listen_shown);

    /* Root past this point parses every byte from the network. */
    if (privdrop_root_check(o.run_as != NULL, o.allow_root, port, err, sizeof err) != 0)
        die("refusing to run as root", err);
    if (o.run_as) {
        if (privdrop_to(&user, err, sizeof err) != 0)
            die("cannot drop privileges", err);
        log_begin(&l, LOG_INFO, "run_as");
        log_str(&l, "user", user.name);
        log_num(&l, "uid", (uint64_t)user.uid);
        log_num(&l, "gid", (uint64_t)user.gid);
        log_end(&l);
        if (!srv.sink) /* created and checked as the user that will write it */
            open_maildir(&srv, o.maildir);
    }

    srv.id_base = clock_wall_ms() / 1000u;
    printf("listening on %s\n", srv.listen_shown);
    fflush(stdout);
    log_begin(&l, LOG_INFO, "start");
    log_str(&l, "listen", srv.listen_shown);
    if (srv.sink)
        log_num(&l, "sink", 1);
    else
        log_str(&l, "maildir", o.maildir);
    log_str(&l, "hostname", srv.hostname);
    log_str(&l, "version", smtpw_version_string());
    log_num(&l, "pid", (uint64_t)getpid());
    log_end(&l);

    rc = listener_run(&srv, lfd, sp[0]);
    listener_shutdown(&srv);
    log_begin(&l, LOG_INFO, "stop");
    log_str(&l, "reason", rc ? "error" : got_signal ? "signal" : "max_messages");
    log_num(&l, "messages", srv.stored);
    log_end(&l);
    close(lfd);
    if (srv.tls)
        tls_server_free(srv.tls);
    policy_free(&srv.pol);
    free(scratch);
    free(pool);
    free(shmem);
    return rc;
}
