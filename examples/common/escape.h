/* Untrusted bytes made safe for a terminal or a log line (shared by the
 * example programs).  Whatever a peer sends, the output is printable
 * ASCII: no control byte (CR, LF, ESC), no DEL, no byte >= 0x80 (which
 * would include C1 controls such as 0x9B CSI and UTF-8 bidi overrides)
 * ever reaches the screen or the log file, so a peer can neither move the
 * cursor nor start a forged log line.
 *
 * The escaping is reversible and unambiguous: "\\" is a backslash, "\""
 * a double quote (with ESC_QUOTED only), "\xNN" (two lowercase hex
 * digits) any other byte; every other output character is itself.
 * SPDX-License-Identifier: MIT */
#ifndef SMTPWIRE_EXAMPLE_ESCAPE_H
#define SMTPWIRE_EXAMPLE_ESCAPE_H

#include <stddef.h>

/* esc_write() flags */
#define ESC_KEEP_LF 0x1u /* a terminal showing a multi-line reply: LF stays LF */
#define ESC_QUOTED 0x2u  /* inside a "..." value: '"' becomes \" */

/* The length of the escaped form of in[0..n) (no NUL). */
size_t esc_len(const char *in, size_t n, unsigned flags);

/* Write the escaped form of in[0..n) to out, NUL-terminated, at most cap
 * bytes including the NUL (cap 0 writes nothing).  The output is cut to
 * fit, never inside an escape.  Returns the number of bytes written
 * before the NUL; *consumed (may be NULL) gets how many input bytes they
 * stand for: n unless the output was cut. */
size_t esc_write(char *out, size_t cap, const char *in, size_t n, unsigned flags,
                 size_t *consumed);

/* esc_write() of a NUL-terminated string (NULL as ""); returns out. */
const char *esc_str(char *out, size_t cap, const char *z, unsigned flags);

#endif
