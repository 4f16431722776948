/* Server reply rendering (RFC 5321 4.2, 4.5.3.1.5; RFC 2034 enhanced
 * codes; EHLO capability lines 4.1.1.1).  Never installed.
 * SPDX-License-Identifier: MIT */
#ifndef SMTPW_REPLY_WRITE_H
#define SMTPW_REPLY_WRITE_H

#include "internal.h"
#include "smtpwire/syntax.h"

/** Non-zero for a reply code RFC 5321 4.2 allows: 2yz..5yz with y <= 5. */
int smtpw__reply_write_code_ok(unsigned code);

/** Non-zero when text holds no CR, LF or NUL: it cannot end or add a line. */
int smtpw__reply_write_text_ok(const char *text, size_t len);

/**
 * Non-zero when enh[0, len) is an enhanced status code "class.subject.detail"
 * (RFC 3463 2: 1 to 3 digits each), nothing more, whose class is the first
 * digit of code (RFC 2034 4).
 */
int smtpw__reply_write_enh_ok(const char *enh, size_t len, unsigned code);

/**
 * Write one reply line: code, '-' when more lines follow else SP, then
 * "enh SP" when enhlen > 0, then t1, then SP and t2 when both are
 * non-empty, then CRLF.  Returns the octets written, or 0 when they would
 * not fit in cap or would exceed 512 octets (4.5.3.1.5).
 */
size_t smtpw__reply_write_line(uint8_t *out, size_t cap, unsigned code, int more, const char *enh,
                         size_t enhlen, const char *t1, size_t n1, const char *t2, size_t n2);

/**
 * Write the EHLO capability lines after the greeting line: one "250-KEYWORD"
 * per bit of caps, the last one "250 KEYWORD".  SIZE carries max_size, or
 * no number when it is 0 (RFC 1870 4).  Returns octets written, 0 when caps
 * is 0 or the lines do not fit in cap.
 */
size_t smtpw__reply_write_caps(uint8_t *out, size_t cap, unsigned caps, uint64_t max_size);

#endif
