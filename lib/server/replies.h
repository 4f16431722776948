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

/**
 * The whole default answer line (code 0, default enh and text) to ev, with
 * (enh != 0) or without enhanced codes, CRLF included; NULL for events
 * whose answer is not one fixed line (HELO/EHLO).  *len receives its length.
 */
const char *smtpw__replies_line(uint32_t ev, uint32_t enh, size_t *len);

#endif
