/*
 * Client-side load: the client core sends many messages over one
 * connection with PIPELINING (RFC 2920), one round trip per message, as
 * ../shared/tools/pipesource.c -P -s 1 does.  tests/bench/e2e.py runs both
 * against the same Postfix smtp-sink and compares client CPU per message.
 *
 *   bench_send [-m messages] [-l body_bytes] 127.0.0.1:PORT
 *
 * Per message: MAIL, RCPT, DATA (one write); after 354 the body, the final
 * dot and the next message's MAIL/RCPT/DATA in one write.
 * Prints "messages N seconds S msg_per_s R".  SPDX-License-Identifier: MIT
 */
#define _POSIX_C_SOURCE 200809L
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "smtpwire/smtpwire.h"

static void die(const char *what, int err)
{
    fprintf(stderr, "bench_send: %s: %s\n", what, err ? smtpw_err_name(err) : "failed");
    exit(1);
}

static int fd;
static uint8_t out[1 << 20]; /* one write: body + dot + next envelope */
static size_t outlen;

static void take_output(smtpw_client *c)
{
    size_t n;
    const uint8_t *p = smtpw_client_output(c, &n);
    if (outlen + n > sizeof out)
        die("output buffer", 0);
    memcpy(out + outlen, p, n);
    outlen += n;
    smtpw_client_output_ack(c, n);
}

static void flush(void)
{
    size_t off = 0;
    while (off < outlen) {
        ssize_t w = write(fd, out + off, outlen - off);
        if (w <= 0)
            die("write", SMTPW_E_IO);
        off += (size_t)w;
    }
    outlen = 0;
}

static uint8_t in[65536];
static size_t inlen;

/* Read until `replies` complete replies arrived; every code must be 2xx/3xx. */
static void await(smtpw_client *c, unsigned replies)
{
    while (replies) {
        size_t used = 0;
        smtpw_event ev;
        int r = inlen ? smtpw_client_recv(c, in, inlen, &used, &ev, sizeof ev) : SMTPW_EV_NONE;
        if (r < 0)
            die("recv", r);
        if (r == SMTPW_EV_NONE) {
            ssize_t n = read(fd, in + inlen, sizeof in - inlen);
            if (n <= 0)
                die("read", SMTPW_E_IO);
            inlen += (size_t)n;
            continue;
        }
        if (ev.code >= 400) {
            fprintf(stderr, "bench_send: unexpected reply %u to %s\n", ev.code,
                    smtpw_cmd_name(ev.cmd));
            exit(1);
        }
        if (ev.flags & SMTPW_EVF_LAST)
            replies--;
        memmove(in, in + used, inlen - used);
        inlen -= used;
    }
}

static void envelope(smtpw_client *c)
{
    int r;
    if ((r = smtpw_client_mail(c, "bench@example.com", 17, 0, 0, NULL, 0)))
        die("mail", r);
    if ((r = smtpw_client_rcpt(c, "sink@example.org", 16, NULL, 0)))
        die("rcpt", r);
    if ((r = smtpw_client_data(c)))
        die("data", r);
    take_output(c);
}

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
    long messages = 1000, i;
    size_t bodylen = 1024, k, used, wrote;
    smtpw_client_config cfg;
    smtpw_client *c;
    struct sockaddr_in sa;
    char *body, *colon = NULL;
    int opt, r, one = 1;
    double t0;

    while ((opt = getopt(argc, argv, "m:l:")) != -1) {
        if (opt == 'm')
            messages = atol(optarg);
        else if (opt == 'l')
            bodylen = (size_t)atol(optarg);
        else
            die("usage: bench_send [-m n] [-l bytes] 127.0.0.1:PORT", 0);
    }
    if (optind >= argc || !(colon = strchr(argv[optind], ':')) || messages < 1)
        die("usage: bench_send [-m n] [-l bytes] 127.0.0.1:PORT", 0);
    *colon = 0;
    memset(&sa, 0, sizeof sa);
    sa.sin_family = AF_INET;
    sa.sin_port = htons((uint16_t)atoi(colon + 1));
    if (inet_pton(AF_INET, argv[optind], &sa.sin_addr) != 1)
        die("address", 0);
    fd = socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof sa) != 0)
        die("connect", SMTPW_E_IO);
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);

    /* lines of 'x' ending in CRLF, like the generators' bodies */
    body = malloc(bodylen + 2);
    if (!body)
        return 1;
    for (k = 0; k < bodylen; k++)
        body[k] = (k % 80 == 78) ? '\r' : (k % 80 == 79) ? '\n' : 'x';

    smtpw_client_config_init(&cfg, SMTPW_CLIENT_CONFIG_VERSION);
    c = malloc(smtpw_client_sizeof());
    if (!c || (r = smtpw_client_init(c, smtpw_client_sizeof(), &cfg, &c)))
        die("init", 0);
    t0 = now();
    await(c, 1); /* greeting */
    if ((r = smtpw_client_ehlo(c, "bench.example", 13)))
        die("ehlo", r);
    take_output(c);
    flush();
    await(c, 1);
    if (!(smtpw_client_extensions(c) & SMTPW_EXT_PIPELINING))
        die("server does not offer PIPELINING", 0);
    envelope(c);
    flush();
    await(c, 3); /* MAIL, RCPT, DATA 354 */
    for (i = 0; i < messages; i++) {
        if ((r = smtpw_client_body_encode(c, (const uint8_t *)body, bodylen, &used, out + outlen,
                                          sizeof out - outlen, &wrote)) || used != bodylen)
            die("body_encode", r);
        outlen += wrote;
        if ((r = smtpw_client_body_end(c, out + outlen, sizeof out - outlen, &wrote)))
            die("body_end", r);
        outlen += wrote;
        if (i + 1 < messages) {
            envelope(c);
            flush();
            await(c, 4); /* body 250, MAIL, RCPT, DATA 354 */
        } else {
            if ((r = smtpw_client_quit(c)))
                die("quit", r);
            take_output(c);
            flush();
            await(c, 2); /* body 250, 221 */
        }
    }
    {
        double t = now() - t0;
        printf("messages %ld seconds %.3f msg_per_s %.0f\n", messages, t, (double)messages / t);
    }
    close(fd);
    free(body);
    free(c);
    return 0;
}
