/* Default texts and enhanced codes of the server's replies to decision
 * events (RFC 5321 4.2.2, 4.2.3; RFC 3463).  Never installed.
 * SPDX-License-Identifier: MIT */
#ifndef SMTPW_REPLIES_H
#define SMTPW_REPLIES_H

#include "internal.h"

/** Default text of a reply with this code to event ev (SMTPW_EV_*). */
const char *smtpw__replies_text(uint32_t ev, uint32_t code);

/** Default enhanced status code (RFC 3463 3) of a reply with this code to ev. */
const char *smtpw__replies_enh(uint32_t ev, uint32_t code);

/* What rendering an application's reply depends on (server.c fills it). */
typedef struct smtpw__reply_to {
    const char *host; /* the server's name, for 250 to HELO/EHLO and 421 */
    size_t hostlen;
    uint64_t max_size; /* SIZE limit for the EHLO list, 0 = none */
    uint32_t ev;       /* the event answered: SMTPW_EV_* */
    uint32_t enh;      /* enhanced status codes are on (RFC 2034) */
    uint32_t caps;     /* answering EHLO: SMTPW__CAP_* to list; else 0 */
} smtpw__reply_to;

/**
 * Validate a reply (code, enh[0, enhlen), text[0, textlen); no text means
 * the default one) to to->ev and render it into out[0, cap): one line, or
 * for a 250 to EHLO the greeting line and the capability list.  *w
 * receives its length.  Returns 0, SMTPW_E_INVALID_ARG for a reply the
 * event cannot have, or SMTPW_E_TOOLONG when it does not fit.
 */
int smtpw__replies_render(uint8_t *out, size_t cap, const smtpw__reply_to *to, uint32_t code,
                          const char *enh, size_t enhlen, const char *text, size_t textlen,
                          size_t *w);

/* The whole default answer line (code 0, default enh and text) to an
 * event, CRLF included, with its code: the common reply is one copy. */
typedef struct smtpw__reply_line {
    const char *text;
    uint16_t code; /* 0: no fixed line (HELO/EHLO, whose answer names the host) */
    uint16_t len;  /* octets of text */
} smtpw__reply_line;

/* Indexed by SMTPW_EV_* (the events that wait for a reply, HELO to HELP),
 * then without (0) and with (1) enhanced codes. */
extern const smtpw__reply_line smtpw__replies_lines[SMTPW_EV_HELP + 1][2];

/** The default line answering ev, with (enh != 0) or without enhanced
 *  codes; NULL when ev has none.  Inline: every default reply asks. */
static inline const smtpw__reply_line *smtpw__replies_line(uint32_t ev, uint32_t enh)
{
    const smtpw__reply_line *l;
    if (ev > SMTPW_EV_HELP)
        return NULL;
    l = &smtpw__replies_lines[ev][enh != 0];
    return l->code ? l : NULL;
}

#endif
