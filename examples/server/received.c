/* smtpwire-server: the trace fields on top of every stored message.
 * RFC 5321 4.4: a server that accepts a message adds a Received: field
 * ("Time-stamp-line") saying from whom (the HELO name and the TCP peer),
 * by whom, with which protocol and when; the final delivery adds
 * Return-Path: with the reverse-path.  Delivered-To: (one per recipient)
 * is the common Maildir practice that tells a reader which envelope
 * recipient a copy was for.
 * SPDX-License-Identifier: MIT */
#if !defined(_POSIX_C_SOURCE) || _POSIX_C_SOURCE < 200809L
#undef _POSIX_C_SOURCE
#define _POSIX_C_SOURCE 200809L
#endif

#include <stdio.h>
#include <string.h>
#include <time.h>

#include "srv.h"
#include "tls.h"

static void addz(session *s, const char *z)
{
    session_body_add(s, z, strlen(z));
}

void received_add(session *s)
{
    txn *t = s->t;
    const char *p = t->env, *first_rcpt;
    char date[64], line[1024];
    time_t now = time(NULL);
    struct tm tm;
    uint32_t i;
    const char *proto;
    addz(s, "Return-Path: <");
    addz(s, p);
    addz(s, ">\r\n");
    p += strlen(p) + 1;
    first_rcpt = p;
    for (i = 0; i < t->nrcpt; i++) {
        addz(s, "Delivered-To: ");
        addz(s, p);
        addz(s, "\r\n");
        p += strlen(p) + 1;
    }
    localtime_r(&now, &tm);
    strftime(date, sizeof date, "%a, %d %b %Y %H:%M:%S %z", &tm); /* RFC 5322 3.3 */
    /* RFC 3848: ESMTPS once TLS runs, ESMTP after EHLO, SMTP after HELO */
    proto = s->ehlo ? (s->tls && tls_active(s->tls) ? "ESMTPS" : "ESMTP") : "SMTP";
    snprintf(line, sizeof line, "Received: from %s (%s)\r\n\tby %s with %s id %s",
             s->helo ? s->helo : "unknown", s->peer, s->srv->hostname, proto, t->msg.name);
    addz(s, line);
    if (t->nrcpt == 1) { /* "for" names one recipient only: no leak of the others */
        addz(s, "\r\n\tfor <");
        addz(s, first_rcpt);
        addz(s, ">");
    }
    addz(s, "; ");
    addz(s, date);
    addz(s, "\r\n");
}
