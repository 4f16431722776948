/* smtpwire-send's sendmail mode: the command line sendmail callers use
 * (cron, mail(1), PHP's mail(), monitoring scripts) and what sendmail
 * does to the message it reads.  Chosen when the program is called as
 * "sendmail" (argv[0]'s base name) or with --sendmail.
 *
 *   sendmail [-t] [-i | -oi] [-f ADDR] [-F NAME] [-bm] [-v] [ignored...]
 *            [--long-option...] [--] [RECIPIENT...]
 *
 * The message comes from standard input.  Without -i (-oi), a line
 * holding a lone "." ends it, as in sendmail and Postfix; with -i the
 * input runs to its end.  Recipient operands are RFC 5322 address lists
 * ("a@example.org, Bob <b@example.org>").  -t adds the recipients of the
 * header's To:, Cc: and Bcc: fields (Resent-To:, Resent-Cc: and
 * Resent-Bcc: instead when the message has any, RFC 5322 3.6.6) to the
 * operands, as Postfix does (sendmail 8 would instead leave the operands
 * out).  Bcc: and Resent-Bcc: fields are removed from the message sent,
 * with -t or not.  A message without From: gets one naming the envelope
 * sender, with -F's full name.
 *
 * Accepted and ignored, as harmless here (smtpwire-send always delivers
 * at once, reports errors on stderr and in its exit status, and asks for
 * no DSN): -Ac -Am -G -m -n -U -XV (no value); -B TYPE, -C FILE, -h N,
 * -L TAG, -N DSN, -O OPT=VALUE, -R RET, -V ENVID, -X FILE (a value, joined
 * or as the next argument); -o followed by one option letter and its
 * value, joined or as the next argument (-odi, -oem, -oee, -om, -o7, -o8,
 * ...), except -oi which is -i.  -r ADDR is -f ADDR.  Every other option,
 * -b other than -bm (-bp, -bs, -bd, -bi, -bv, ...), -q and -I among them,
 * is a usage error: those ask for a queue or a daemon we do not have.
 * SPDX-License-Identifier: MIT */
#ifndef SMTPWIRE_SEND_SENDMAIL_H
#define SMTPWIRE_SEND_SENDMAIL_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "config.h"

typedef struct sm_opts {
    int extract;          /* -t */
    int dot_ends;         /* 1 unless -i/-oi: a lone "." line ends the input */
    const char *fullname; /* -F NAME (points into argv), or NULL */
} sm_opts;

/* Nonzero when the program was called as sendmail: argv0's base name is
 * "sendmail". */
int sm_called_as_sendmail(const char *argv0);

/* Parse a sendmail mode command line (argv[1..argc)).  Long options
 * (--server ...) go through send_cli_option(); -f/-r set the sender and
 * operands add recipients to s, both as command line settings.  Returns 0
 * or SEND_EX_USAGE with one line in err. */
int sm_parse_argv(int argc, char **argv, sm_opts *o, send_settings *s, char *err, size_t errcap);

/* Called with each address of a list: the addr-spec with its local part
 * unquoted (as --to takes it: smtpw_path_render() quotes it again), NUL
 * terminated, len its length.  A mailbox without '@' is passed as is.
 * Return nonzero to stop the list there. */
typedef int (*sm_addr_fn)(void *arg, const char *addr, size_t len);

/* Parse an RFC 5322 3.4 address-list (field body or operand): mailboxes,
 * name-addrs with display names, groups ("team: a@x, b@y;", "undisclosed
 * recipients:;"), comments, quoted local parts, folding (CR and LF count
 * as white space), obsolete routes (<@a,@b:u@d>, dropped) and empty list
 * elements.  Returns the number of addresses, -1 on a syntax error (*at,
 * when not NULL, gets the offset where it was seen), -2 when an address
 * is too long to be one (over 255 octets of local part or domain), -3
 * when fn stopped it. */
int sm_address_list(const char *text, size_t len, sm_addr_fn fn, void *arg, size_t *at);

/* The header section of msg: its length up to the empty line or the first
 * line that is not a field (Postfix's rule), or len when the whole input
 * is header.  The body starts there. */
size_t sm_header_len(const uint8_t *msg, size_t len);

/* Call fn with each recipient of the header's To:, Cc:, Bcc: fields, or of
 * the Resent-To:, Resent-Cc:, Resent-Bcc: fields when there is any of
 * those (RFC 5322 3.6.3, 3.6.6).  Returns the number of addresses, or as
 * sm_address_list() (with *field, when not NULL, naming the field). */
int sm_header_recipients(const uint8_t *msg, size_t len, sm_addr_fn fn, void *arg,
                         const char **field);

/* Nonzero when the header has a field with this name (any case). */
int sm_has_field(const uint8_t *msg, size_t len, const char *name);

/* Remove every Bcc: and Resent-Bcc: field, continuation lines included,
 * in place.  Returns the new length. */
size_t sm_remove_bcc(uint8_t *msg, size_t len);

/* Write a From: field for addr (unquoted local part, as --from) with the
 * display name fullname (may be NULL or ""): a quoted-string for printable
 * ASCII, RFC 2047 "B" encoded-words for UTF-8, folded to stay short;
 * eol ("\n" or "\r\n") ends each line.  Returns the length written (no
 * NUL is counted, one is written), or 0 when it does not fit, addr is
 * not a mailbox, or fullname holds a control byte or invalid UTF-8. */
size_t sm_from_field(char *out, size_t cap, const char *fullname, const char *addr,
                     const char *eol);

/* The line end the message uses: "\r\n" when its first line ends so,
 * else "\n". */
const char *sm_eol(const uint8_t *msg, size_t len);

/* Read the message from f into a malloc'd buffer.  dot_ends: stop at a
 * line holding a lone "." (LF or CRLF), which is not part of the message.
 * Returns 0, or -1 with errno set (the input failed, out of memory). */
int sm_read_message(FILE *f, int dot_ends, uint8_t **out, size_t *outlen);

#endif
