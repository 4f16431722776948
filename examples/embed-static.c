/*
 * The smallest complete embedding: an SMTP server on standard input and
 * output (run it from inetd, systemd socket activation with Accept=yes, or
 * `socat TCP-LISTEN:2525,fork EXEC:./embed-static`), with static storage
 * only: no malloc, no adapter.  Each message's envelope and size are
 * printed to stderr and the body is discarded; the recipient "nobody" is
 * refused to show a per-recipient decision.  The driver loop is the one
 * server.h documents; README "Embedding the server core" is the text
 * between the EMBED markers (tests/embed_static.sh checks both).
 * SPDX-License-Identifier: MIT
 */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <string.h>
#include <unistd.h>

/* EMBED: begin */
#include <smtpwire/smtpwire.h>

static union { void *p; uint64_t u; unsigned char b[SMTPW_SERVER_SIZE_HINT]; } mem;
static uint8_t buf[4096];                  /* must hold one command line (512) */

static int write_all(int fd, const uint8_t *p, size_t n)
{
    while (n) {
        ssize_t w = write(fd, p, n);
        if (w <= 0)
            return -1;
        p += w;
        n -= (size_t)w;
    }
    return 0;
}

/* One event; its spans point into buf and are used before buf moves. */
static void handle(smtpw_server *s, const smtpw_event *ev)
{
    switch (ev->type) {
    case SMTPW_EV_MAIL:
        fprintf(stderr, "mail %.*s\n", (int)ev->arg.len, ev->arg.ptr);
        smtpw_server_reply(s, 0, NULL, 0, NULL, 0);
        break;
    case SMTPW_EV_RCPT:
        fprintf(stderr, "rcpt %.*s\n", (int)ev->arg.len, ev->arg.ptr);
        if (ev->path.local.len == 6 && memcmp(ev->path.local.ptr, "nobody", 6) == 0)
            smtpw_server_reply(s, 550, "5.1.1", 5, "No such user here", 17);
        else
            smtpw_server_reply(s, 0, NULL, 0, NULL, 0);
        break;
    case SMTPW_EV_DATA_END:
        fprintf(stderr, "message of %llu octets\n", (unsigned long long)ev->size);
        smtpw_server_reply(s, 0, NULL, 0, NULL, 0);
        break;
    default: /* HELO, DATA, VRFY, EXPN, HELP: the default answers */
        if (smtpw_server_want(s) & SMTPW_WANT_REPLY)
            smtpw_server_reply(s, 0, NULL, 0, NULL, 0);
    }
}

int main(void)
{
    smtpw_server_config cfg;
    smtpw_server *s;
    smtpw_event ev;
    size_t len = 0, off = 0, used = 0, n;
    uint32_t w;

    smtpw_server_config_init(&cfg, SMTPW_SERVER_CONFIG_VERSION);
    cfg.hostname = "embed.example";        /* referenced, not copied */
    cfg.hostname_len = strlen(cfg.hostname);
    if (smtpw_server_init(&mem, sizeof mem, &cfg, &s) != 0) /* queues the 220 */
        return 1;
    for (;;) {
        int t;
        ssize_t got;
        const uint8_t *out;
        while ((t = smtpw_server_recv(s, buf + off, len - off, &used, &ev, sizeof ev)) > 0) {
            off += used;
            handle(s, &ev);                /* may call smtpw_server_reply() */
        }
        if (t < 0)
            break;                         /* SMTPW_E_CLOSED: after QUIT or 421 */
        off += used;
        out = smtpw_server_output(s, &n);  /* replies out before we block */
        if (n && write_all(1, out, n) != 0)
            return 1;
        smtpw_server_output_ack(s, n);
        w = smtpw_server_want(s);
        if (w & SMTPW_WANT_CLOSE)
            break;
        if (!(w & SMTPW_WANT_READ))
            continue;                      /* input still pending: run it first */
        memmove(buf, buf + off, len - off);
        len -= off;
        off = 0;
        got = read(0, buf + len, sizeof buf - len);
        if (got <= 0)
            return 0;                      /* peer gone: the message in progress is dropped */
        len += (size_t)got;
    }
    {
        const uint8_t *out = smtpw_server_output(s, &n); /* the 221 or 421 */
        return n && write_all(1, out, n) != 0;
    }
}
/* EMBED: end */
