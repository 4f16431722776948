/* smtpwire-send's settings and configuration file: see config.h.
 * SPDX-License-Identifier: MIT */
#if !defined(_POSIX_C_SOURCE) || _POSIX_C_SOURCE < 200809L
#undef _POSIX_C_SOURCE
#define _POSIX_C_SOURCE 200809L
#endif

#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "escape.h"
#include "smtpwire/syntax.h"

/* Longest configuration line, its line end included. */
#define LINE_MAX_CFG 1024

const send_option send_options[] = {
    {"server", 0, SEND_OPT_STRING, SEND_IN_CLI | SEND_IN_FILE, "HOST[:PORT]",
     "relay to use (port 25; IPv6 as [::1]:2525); without it, deliver by MX"},
    {"from", 0, SEND_OPT_STRING, SEND_IN_CLI | SEND_IN_FILE, "ADDR",
     "envelope sender (\"\" for the null reverse-path)"},
    {"to", 0, SEND_OPT_LIST, SEND_IN_CLI | SEND_IN_FILE, "ADDR",
     "envelope recipient, repeatable"},
    {"helo", 0, SEND_OPT_STRING, SEND_IN_CLI | SEND_IN_FILE, "NAME",
     "EHLO/HELO name (default: this host's name with a dot, else [local IP])"},
    {"timeout", 0, SEND_OPT_SECONDS, SEND_IN_CLI | SEND_IN_FILE, "SECONDS",
     "bound every wait (default: the RFC 5321 4.5.3.2 values)"},
    {"all-or-nothing", 0, SEND_OPT_FLAG, SEND_IN_CLI | SEND_IN_FILE, NULL,
     "send nothing to a server that refuses any recipient"},
    {"starttls", 0, SEND_OPT_FLAG, SEND_IN_CLI | SEND_IN_FILE, NULL,
     "use STARTTLS (RFC 3207), see the TLS policy"},
    {"require-tls", 0, SEND_OPT_FLAG, SEND_IN_CLI | SEND_IN_FILE, NULL,
     "send no mail unless TLS starts (else exit 75)"},
    {"cafile", 0, SEND_OPT_STRING, SEND_IN_CLI | SEND_IN_FILE, "FILE",
     "verify against the CAs in FILE; implies --require-tls"},
    {"insecure", 0, SEND_OPT_FLAG, SEND_IN_CLI | SEND_IN_FILE, NULL,
     "with --server: do not verify the certificate"},
    {"verbose", 'v', SEND_OPT_FLAG, SEND_IN_CLI | SEND_IN_FILE, NULL,
     "print the protocol dialogue to stderr"},
    {"config", 0, SEND_OPT_STRING, SEND_IN_CLI, "FILE",
     "read settings from FILE (default ~/.smtpwirerc, else /etc/smtpwire.conf)"},
    {"sendmail", 0, SEND_OPT_FLAG, SEND_IN_CLI, NULL,
     "sendmail mode, as when called as sendmail (see the manual page)"},
    {"allow-loopback-mx", 0, SEND_OPT_FLAG, SEND_IN_CLI | SEND_IN_FILE, NULL,
     "(tests only) deliver by MX even to an exchanger on this machine"},
    {"version", 0, SEND_OPT_FLAG, SEND_IN_CLI, NULL, "print the version and exit"},
    {"help", 'h', SEND_OPT_FLAG, SEND_IN_CLI, NULL, "this text"},
    {NULL, 0, 0, 0, NULL, NULL},
};

const send_option *send_option_find(const char *name, size_t len)
{
    const send_option *o;
    for (o = send_options; o->name; o++)
        if (strlen(o->name) == len && memcmp(o->name, name, len) == 0)
            return o;
    return NULL;
}

/* Text from a file or argv made safe for the terminal or log the message
 * goes to (it may hold anything); buf must have room for 160 bytes. */
#define ESCBUF 160
static const char *shown(char *buf, const char *text)
{
    return esc_str(buf, ESCBUF, text, 0);
}

static int set_string(char **slot, const char *value)
{
    char *copy = strdup(value);
    if (!copy)
        return -1;
    free(*slot);
    *slot = copy;
    return 0;
}

static int add_to(send_settings *s, const char *value)
{
    char **grown;
    char *copy = strdup(value);
    if (!copy)
        return -1;
    grown = realloc(s->to, (s->nto + 1) * sizeof *grown);
    if (!grown) {
        free(copy);
        return -1;
    }
    s->to = grown;
    s->to[s->nto++] = copy;
    return 0;
}

/* An address the adapter can put on the wire: rendered as a path
 * (RFC 5321 4.1.2), never a control byte (no command injection). */
static int address_ok(const char *a, int recipient)
{
    char path[SMTPW_MAX_PATH * 2 + 8];
    size_t len;
    if (recipient && !strchr(a, '@'))
        return 0; /* RFC 5321 4.1.1.3: a recipient is a mailbox with a domain */
    return smtpw_path_render(a, strlen(a), SMTPW_PARSE_UTF8, path, sizeof path, &len) == 0;
}

static int int_flag_slot(send_settings *s, const char *name, int **slot)
{
    static const char *const names[] = {"verbose",  "starttls", "require-tls",
                                        "insecure", "allow-loopback-mx",
                                        "all-or-nothing", "sendmail", "help", "version"};
    int *slots[9];
    size_t k;
    slots[0] = &s->verbose;
    slots[1] = &s->starttls;
    slots[2] = &s->require_tls;
    slots[3] = &s->insecure;
    slots[4] = &s->allow_loopback_mx;
    slots[5] = &s->all_or_nothing;
    slots[6] = &s->sendmail;
    slots[7] = &s->help;
    slots[8] = &s->version;
    for (k = 0; k < sizeof names / sizeof names[0]; k++)
        if (strcmp(names[k], name) == 0) {
            *slot = slots[k];
            return 0;
        }
    return -1;
}

static char **string_slot(send_settings *s, const char *name)
{
    if (strcmp(name, "server") == 0)
        return &s->server;
    if (strcmp(name, "from") == 0)
        return &s->from;
    if (strcmp(name, "helo") == 0)
        return &s->helo;
    if (strcmp(name, "cafile") == 0)
        return &s->cafile;
    if (strcmp(name, "config") == 0)
        return &s->config;
    return NULL;
}

int send_settings_apply(send_settings *s, const send_option *o, const char *value, int source,
                        char *err, size_t errcap)
{
    uint64_t bit = (uint64_t)1 << (size_t)(o - send_options);
    /* the command line wins over the file (read after it) */
    int use = source == SEND_FROM_CLI || !(s->cli_set & bit);
    const char *dashes = source == SEND_FROM_CLI ? "--" : "";
    char e1[ESCBUF];

    if (o->kind == SEND_OPT_FLAG) {
        int *slot;
        if (value) {
            snprintf(err, errcap, "%s%s takes no value", dashes, o->name);
            return SEND_EX_USAGE;
        }
        if (int_flag_slot(s, o->name, &slot) != 0)
            return SEND_EX_USAGE; /* a table entry without a field */
        if (use)
            *slot = 1;
    } else if (!value) {
        snprintf(err, errcap, "%s%s needs a value", dashes, o->name);
        return SEND_EX_USAGE;
    } else if (o->kind == SEND_OPT_SECONDS) {
        char *end;
        unsigned long v;
        errno = 0;
        v = strtoul(value, &end, 10);
        if (value[0] < '0' || value[0] > '9' || *end || errno || v == 0 || v > 86400) {
            snprintf(err, errcap, "%s%s must be a number of seconds from 1 to 86400, not \"%s\"",
                     dashes, o->name, shown(e1, value));
            return SEND_EX_USAGE;
        }
        if (use)
            s->timeout_s = (uint32_t)v;
    } else if (o->kind == SEND_OPT_LIST) {
        /* "to", the only list */
        if (!address_ok(value, 1)) {
            snprintf(err, errcap, "%s%s: bad recipient address \"%s\" (expected local@domain)",
                     dashes, o->name, shown(e1, value));
            return SEND_EX_USAGE;
        }
        if (use && add_to(s, value) != 0) {
            snprintf(err, errcap, "out of memory");
            return SEND_EX_USAGE;
        }
    } else {
        char **slot = string_slot(s, o->name);
        int is_from = strcmp(o->name, "from") == 0;
        if (!slot)
            return SEND_EX_USAGE; /* a table entry without a field */
        if (!is_from && !value[0]) {
            snprintf(err, errcap, "%s%s needs a non-empty value", dashes, o->name);
            return SEND_EX_USAGE;
        }
        if (is_from && value[0] && !address_ok(value, 0)) {
            snprintf(err, errcap, "%s%s: bad sender address \"%s\"", dashes, o->name,
                     shown(e1, value));
            return SEND_EX_USAGE;
        }
        if (strcmp(o->name, "server") == 0) {
            char *tmp = strdup(value);
            const char *h, *p;
            int bad = !tmp || send_split_server(tmp, &h, &p) != 0;
            free(tmp);
            if (bad) {
                snprintf(err, errcap, "%s%s: bad server \"%s\" (HOST[:PORT] or [IPv6]:PORT)",
                         dashes, o->name, shown(e1, value));
                return SEND_EX_USAGE;
            }
        }
        if (use && set_string(slot, value) != 0) {
            snprintf(err, errcap, "out of memory");
            return SEND_EX_USAGE;
        }
    }
    if (source == SEND_FROM_CLI)
        s->cli_set |= bit;
    return 0;
}

void send_settings_free(send_settings *s)
{
    size_t k;
    for (k = 0; k < s->nto; k++)
        free(s->to[k]);
    free(s->to);
    free(s->server);
    free(s->from);
    free(s->helo);
    free(s->cafile);
    free(s->config);
    memset(s, 0, sizeof *s);
}

int send_cli_option(send_settings *s, int argc, char **argv, int *i, char *err, size_t errcap)
{
    const char *arg = argv[*i], *value = NULL, *eq;
    const send_option *o = NULL;
    char e1[ESCBUF];

    if (arg[0] != '-' || arg[1] == '\0' || strcmp(arg, "--") == 0)
        return 0;
    if (arg[1] != '-') {
        /* the short aliases "-v" and "-h"; nothing is bundled */
        if (arg[2] == '\0')
            for (o = send_options; o->name; o++)
                if (o->shortname && o->shortname == arg[1])
                    break;
        if (!o || !o->name) {
            snprintf(err, errcap, "unknown option %s", shown(e1, arg));
            return SEND_EX_USAGE;
        }
        return send_settings_apply(s, o, NULL, SEND_FROM_CLI, err, errcap) == 0 ? 1
                                                                                : SEND_EX_USAGE;
    }
    eq = strchr(arg, '=');
    o = send_option_find(arg + 2, eq ? (size_t)(eq - arg - 2) : strlen(arg + 2));
    if (!o || !(o->where & SEND_IN_CLI)) {
        char name[ESCBUF];
        size_t n = eq ? (size_t)(eq - arg) : strlen(arg);
        (void)esc_write(name, sizeof name, arg, n, 0, NULL);
        snprintf(err, errcap, "unknown option %s", name);
        return SEND_EX_USAGE;
    }
    if (eq) {
        value = eq + 1;
    } else if (o->kind != SEND_OPT_FLAG) {
        if (*i + 1 >= argc) {
            snprintf(err, errcap, "--%s needs a value", o->name);
            return SEND_EX_USAGE;
        }
        value = argv[++*i];
    }
    return send_settings_apply(s, o, value, SEND_FROM_CLI, err, errcap) == 0 ? 1
                                                                             : SEND_EX_USAGE;
}

static int is_blank(char c)
{
    return c == ' ' || c == '\t';
}

int send_config_split(char *line, char **key, char **value, const char **why)
{
    char *p = line, *k, *v, *end;
    size_t n = strlen(line);

    /* the line end (LF or CRLF) is not part of the line */
    if (n && line[n - 1] == '\n')
        line[--n] = '\0';
    if (n && line[n - 1] == '\r')
        line[--n] = '\0';
    for (end = line; *end; end++)
        if ((unsigned char)*end < 0x20 && *end != '\t') {
            *why = "control character";
            return -1;
        }
    while (is_blank(*p))
        p++;
    if (*p == '\0' || *p == '#')
        return 0;
    k = p;
    while (*p && !is_blank(*p))
        p++;
    if (*p)
        *p++ = '\0';
    while (is_blank(*p))
        p++;
    *key = k;
    *value = NULL;
    if (*p == '\0' || *p == '#')
        return 1;
    if (*p == '"') {
        char *close = strchr(p + 1, '"');
        if (!close) {
            *why = "unterminated quote";
            return -1;
        }
        *close = '\0';
        v = p + 1;
        p = close + 1;
        while (is_blank(*p))
            p++;
        if (*p && *p != '#') {
            *why = "text after the closing quote";
            return -1;
        }
        *value = v;
        return 1;
    }
    v = p;
    /* a comment starts at a '#' after a blank; a '#' inside a word
     * (a local part may hold one) stays */
    for (end = p; *end; end++)
        if (*end == '#' && is_blank(end[-1]))
            break;
    *end = '\0';
    while (end > v && is_blank(end[-1]))
        *--end = '\0';
    *value = v;
    return 1;
}

/* The password key, reserved for AUTH: see config.h. */
static int password_line(FILE *f, const char *path, unsigned line, char *err, size_t errcap)
{
    struct stat st;
    char e1[ESCBUF];
    if (fstat(fileno(f), &st) != 0) {
        snprintf(err, errcap, "%s:%u: cannot check the file's permissions: %s",
                 shown(e1, path), line, strerror(errno));
        return SEND_EX_USAGE;
    }
    /* checked on the open file, so a rename cannot swap it under us */
    if (st.st_mode & (S_IRGRP | S_IROTH)) {
        snprintf(err, errcap,
                 "%s:%u: holds a password but is readable by %s: refused (chmod 600 it)",
                 shown(e1, path), line, (st.st_mode & S_IROTH) ? "others" : "its group");
        return SEND_EX_USAGE;
    }
    snprintf(err, errcap, "%s:%u: password: AUTH is not supported yet; nothing sent",
             shown(e1, path), line);
    return SEND_EX_USAGE;
}

int send_config_load(send_settings *s, const char *path, int explicit, int *found, char *err,
                     size_t errcap)
{
    FILE *f;
    char *buf = NULL;
    size_t cap = 0;
    unsigned line = 0;
    int status = 0;
    char e1[ESCBUF], e2[ESCBUF];

    if (found)
        *found = 0;
    f = fopen(path, "r");
    if (!f) {
        if (errno == ENOENT && !explicit)
            return 0; /* a default file is optional */
        snprintf(err, errcap, "%s: %s", shown(e1, path), strerror(errno));
        return SEND_EX_NOINPUT;
    }
    if (found)
        *found = 1;
    for (;;) {
        char *key, *value;
        const char *why = "";
        const send_option *o;
        char inner[300];
        int r;
        ssize_t n;

        errno = 0;
        n = getline(&buf, &cap, f);
        if (n < 0)
            break;
        line++;
        if ((size_t)n > LINE_MAX_CFG) {
            snprintf(err, errcap, "%s:%u: line longer than %d bytes", shown(e1, path), line,
                     LINE_MAX_CFG);
            status = SEND_EX_USAGE;
            break;
        }
        if (strlen(buf) != (size_t)n) {
            snprintf(err, errcap, "%s:%u: NUL byte", shown(e1, path), line);
            status = SEND_EX_USAGE;
            break;
        }
        r = send_config_split(buf, &key, &value, &why);
        if (r == 0)
            continue;
        if (r < 0) {
            snprintf(err, errcap, "%s:%u: %s", shown(e1, path), line, why);
            status = SEND_EX_USAGE;
            break;
        }
        if (strcmp(key, "password") == 0) {
            status = password_line(f, path, line, err, errcap);
            break;
        }
        o = send_option_find(key, strlen(key));
        if (!o || !(o->where & SEND_IN_FILE)) {
            snprintf(err, errcap, "%s:%u: unknown key \"%s\"%s", shown(e1, path), line,
                     shown(e2, key), o ? " (a command line option only)" : "");
            status = SEND_EX_USAGE;
            break;
        }
        if (send_settings_apply(s, o, value, SEND_FROM_FILE, inner, sizeof inner) != 0) {
            snprintf(err, errcap, "%s:%u: %s", shown(e1, path), line, inner);
            status = SEND_EX_USAGE;
            break;
        }
    }
    if (status == 0 && ferror(f)) {
        snprintf(err, errcap, "%s: %s", shown(e1, path), strerror(errno));
        status = SEND_EX_NOINPUT;
    }
    free(buf);
    fclose(f);
    return status;
}

int send_config_load_default(send_settings *s, const char *home_rc, const char *sys_conf,
                             const char **used, char *err, size_t errcap)
{
    const char *paths[2];
    size_t k;
    paths[0] = home_rc;
    paths[1] = sys_conf;
    if (used)
        *used = NULL;
    for (k = 0; k < 2; k++) {
        int found = 0, r;
        if (!paths[k] || !paths[k][0])
            continue;
        r = send_config_load(s, paths[k], 0, &found, err, errcap);
        if (r != 0 || found) {
            if (used && found)
                *used = paths[k];
            return r;
        }
    }
    return 0;
}

int send_split_server(char *arg, const char **host, const char **port)
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
        colon = NULL; /* a bare IPv6 address, no port */
    if (colon) {
        *colon = '\0';
        if (!colon[1])
            return -1;
        *port = colon + 1;
    }
    *host = arg;
    return arg[0] ? 0 : -1;
}
