/* EHLO capability parsing, client side (RFC 5321 4.1.1.1).  Never installed.
 * SPDX-License-Identifier: MIT */
#ifndef SMTPW_CAPS_H
#define SMTPW_CAPS_H

#include "internal.h"

/* What the EHLO reply told us; zeroed when a new EHLO is sent. */
struct smtpw__caps {
    uint64_t size_limit; /* SIZE n, 0 when none or no number */
    uint32_t ext;        /* SMTPW_EXT_* */
    uint32_t auth;       /* SMTPW_AUTH_* */
};

/*
 * Parse the text of one EHLO reply line after the first:
 *   ehlo-line = ehlo-keyword *( SP ehlo-param )
 * and the old "AUTH=MECH ..." form.  Known keywords update *caps (keywords
 * and AUTH mechanisms are case-insensitive).  On success *keyword and
 * *params point into text (params without the separator) and 1 is
 * returned; 0 when the line is not an ehlo-line (caps untouched).
 */
int smtpw__caps_line(const char *text, size_t len, struct smtpw__caps *caps,
                     smtpw_span *keyword, smtpw_span *params);

#endif
