/*
 * smtpwire: pure grammar helpers shared by the server and client cores.
 * Paths (RFC 5321 4.1.2, 4.1.3), ESMTP parameters (4.1.2), xtext (RFC 3461
 * 4), base64 (RFC 4648 4, for AUTH), enhanced status codes (RFC 3463).
 * Nothing here allocates or keeps state between calls.
 *
 * Copyright (c) 2026 The smtpwire authors.  SPDX-License-Identifier: MIT
 */
#ifndef SMTPWIRE_SYNTAX_H
#define SMTPWIRE_SYNTAX_H

#include "common.h"

#ifdef __cplusplus
extern "C" {
#endif

/* RFC 5321 4.5.3.1 size limits, in octets. */
#define SMTPW_MAX_LOCAL_PART 64   /* 4.5.3.1.1 */
#define SMTPW_MAX_DOMAIN 255      /* 4.5.3.1.2 */
#define SMTPW_MAX_PATH 256        /* 4.5.3.1.3, including the angle brackets */
#define SMTPW_MAX_COMMAND_LINE 512 /* 4.5.3.1.4, including CRLF */
#define SMTPW_MAX_REPLY_LINE 512  /* 4.5.3.1.5, including CRLF */
#define SMTPW_MAX_TEXT_LINE 1000  /* 4.5.3.1.6, including CRLF */

/* Options of smtpw_path_parse() */
#define SMTPW_PARSE_REVERSE 0x01u  /* a MAIL FROM reverse-path: allow <> */
#define SMTPW_PARSE_FORWARD 0x02u  /* a RCPT TO forward-path: allow <Postmaster> */
#define SMTPW_PARSE_LENIENT 0x04u  /* allow a bare address without < > */
#define SMTPW_PARSE_UTF8 0x08u     /* allow UTF-8 in local part and domain (RFC 6531) */

/**
 * Parse a path at the start of text: "<local@domain>", "<@route:local@domain>",
 * and with options "<>" and "<Postmaster>".
 *
 * Parsing stops right after the closing '>' (with SMTPW_PARSE_LENIENT and
 * no '<', at the first SP or the end of text); *consumed (may be NULL)
 * receives the number of bytes used, so the caller can go on with the ESMTP
 * parameters; it is 0 on error.  Spans in *out point into text.
 * A source route "<@a,@b:u@d>" is accepted and reported in route
 * (4.1.1.3, Appendix C).  "<Postmaster>" needs SMTPW_PARSE_FORWARD;
 * "<postmaster@domain>" is an ordinary mailbox.  Control bytes (below 0x20,
 * DEL) are never accepted; bytes >= 0x80 only as well-formed UTF-8 with
 * SMTPW_PARSE_UTF8 (never in address literals).  IPv6 literals follow
 * 4.1.3 exactly: "::" stands for at least two groups.
 * Security note: SMTPW_PARSE_LENIENT accepts what RFC 5321 forbids; a bare
 * address ends at the first SP, so it cannot swallow the parameters.
 *
 * Returns 0, SMTPW_E_SYNTAX when text is not a path per RFC 5321 4.1.2,
 * SMTPW_E_TOOLONG when a 4.5.3.1 limit is exceeded (local part 64 as
 * written, quotes included; domain 255; path 256 including the brackets,
 * counted as if present for a bare address), SMTPW_E_INVALID_ARG when text
 * or out is NULL.
 */
SMTPW_API int smtpw_path_parse(const char *text, size_t len, uint32_t options,
                               smtpw_path *out, size_t *consumed);

/**
 * Copy the local part of a parsed path without its quotes and backslash
 * escapes ("a\"b" -> a"b); a Dot-string is copied as is.  Writes at most
 * cap bytes to out, no NUL.  Returns 0 and sets *outlen, SMTPW_E_NOBUF when
 * cap is too small, SMTPW_E_INVALID_ARG for NULL path or outlen.
 */
SMTPW_API int smtpw_path_local_unquote(const smtpw_path *path, char *out, size_t cap,
                                       size_t *outlen);

/**
 * Check a domain name (RFC 5321 4.1.2 Domain: sub-domains of letters, digits
 * and inner hyphens, separated by dots, total at most 255).  With
 * SMTPW_PARSE_UTF8, U-labels are accepted too (well-formed UTF-8 only; not
 * checked against IDNA2008).  Address literals are not domains here.
 * Returns 0, SMTPW_E_SYNTAX, SMTPW_E_TOOLONG or SMTPW_E_INVALID_ARG (NULL).
 */
SMTPW_API int smtpw_domain_check(const char *text, size_t len, uint32_t options);

/**
 * Check an address literal including its brackets ("[192.0.2.1]",
 * "[IPv6:::1]", "[tag:content]").  Sets *kind to SMTPW_LITERAL_* when not NULL
 * (SMTPW_LITERAL_NONE on error).  A tag "IPv6" (any case) must hold a valid
 * IPv6 address.  Returns 0, SMTPW_E_SYNTAX or SMTPW_E_INVALID_ARG (NULL).
 */
SMTPW_API int smtpw_address_literal_check(const char *text, size_t len, uint32_t *kind);

/**
 * Write a mailbox as a path "<local@domain>" for the wire, quoting the local
 * part when it is not a valid Dot-string (RFC 5321 4.1.2).  mailbox is the
 * address as a user writes it, the local part unquoted and the last '@'
 * separating it from the domain (a domain name or an address literal; the
 * '@' before a trailing "[...]" when the literal itself holds an '@');
 * len 0 gives "<>", and "Postmaster" alone (any case) gives "<Postmaster>".
 * '"' and '\' are backslash-escaped inside the quotes.  Bytes below 0x20,
 * DEL, and (without SMTPW_PARSE_UTF8) bytes >= 0x80 are refused so nothing
 * can inject a command; with it they must be well-formed UTF-8.  The output
 * parses back with smtpw_path_parse() to the same local part and domain.
 * Nothing is written past cap; *outlen is 0 on error.
 * Returns 0 and sets *outlen; SMTPW_E_SYNTAX, SMTPW_E_TOOLONG (4.5.3.1
 * limits on the rendered form), SMTPW_E_NOBUF, SMTPW_E_INVALID_ARG (NULL).
 */
SMTPW_API int smtpw_path_render(const char *mailbox, size_t len, uint32_t options, char *out,
                                size_t cap, size_t *outlen);

/**
 * Iterate over ESMTP parameters "KEY[=VALUE] KEY[=VALUE]" (RFC 5321 4.1.2
 * Mail-parameters).  *rest is the unread text; leading spaces are skipped.
 * On success key/value point into the text (value.len 0 when no "=") and
 * *rest is advanced past the parameter; on error *rest is left unchanged.
 * Parameters are separated by one or more SP (not TAB).  esmtp-value may
 * hold well-formed UTF-8 (RFC 6531 3.3); "KEY=" with no value is an error.
 * Returns 1 when a parameter was read, 0 at the end, SMTPW_E_SYNTAX on a
 * malformed keyword or value (esmtp-value excludes "=", SP and controls),
 * SMTPW_E_INVALID_ARG for NULL arguments.
 */
SMTPW_API int smtpw_param_next(smtpw_span *rest, smtpw_span *key, smtpw_span *value);

/** Non-zero when key equals name ignoring ASCII case (name NUL-terminated,
 *  lengths must match exactly); 0 when name is NULL. */
SMTPW_API int smtpw_span_ieq(smtpw_span key, const char *name);

/**
 * Parse a decimal number of at most 20 digits that fits in uint64_t
 * (SIZE=, RFC 1870 3): digits only, no sign or spaces.  Returns 0,
 * SMTPW_E_SYNTAX (also on overflow) or SMTPW_E_INVALID_ARG (out NULL).
 */
SMTPW_API int smtpw_parse_u64(smtpw_span text, uint64_t *out);

/**
 * Decode xtext (RFC 3461 4): "+XX" hex escapes (uppercase hex only, as the
 * RFC says), %d33-42 / %d44-60 / %d62-126 literally.  Nothing is written
 * past cap; a syntax error is reported even when cap is also too small.
 * Returns 0 and *outlen, SMTPW_E_SYNTAX, SMTPW_E_NOBUF or
 * SMTPW_E_INVALID_ARG.
 */
SMTPW_API int smtpw_xtext_decode(const char *in, size_t len, char *out, size_t cap,
                                 size_t *outlen);

/** Encode bytes as xtext (RFC 3461 4): '+', '=' and bytes outside 33-126
 *  become "+XX".  Returns 0, SMTPW_E_NOBUF or SMTPW_E_INVALID_ARG. */
SMTPW_API int smtpw_xtext_encode(const char *in, size_t len, char *out, size_t cap,
                                 size_t *outlen);

/** Standard base64 with padding (RFC 4648 4); len 0 gives "".
 *  Returns 0, SMTPW_E_NOBUF (nothing written) or SMTPW_E_INVALID_ARG. */
SMTPW_API int smtpw_base64_encode(const uint8_t *in, size_t len, char *out, size_t cap,
                                  size_t *outlen);

/** Strict base64 decode: length a multiple of 4, padding only at the end,
 *  non-zero bits under the padding refused (RFC 4648 3.5), no whitespace;
 *  "" decodes to nothing.  SYNTAX is reported before NOBUF.
 *  Returns 0, SMTPW_E_SYNTAX, SMTPW_E_NOBUF or SMTPW_E_INVALID_ARG. */
SMTPW_API int smtpw_base64_decode(const char *in, size_t len, uint8_t *out, size_t cap,
                                  size_t *outlen);

/**
 * Parse an enhanced status code "class.subject.detail" (RFC 3463 2) at the
 * start of text: class 2, 4 or 5; subject and detail 1 to 3 digits.  Sets
 * *consumed to its length (not counting a following space).  A fourth digit
 * or a '.' right after the detail is a syntax error.  cls, subject, detail
 * and consumed may be NULL.
 * Returns 0, SMTPW_E_SYNTAX or SMTPW_E_INVALID_ARG (text NULL).
 */
SMTPW_API int smtpw_enhanced_parse(const char *text, size_t len, uint32_t *cls,
                                   uint32_t *subject, uint32_t *detail, size_t *consumed);

#ifdef __cplusplus
}
#endif
#endif /* SMTPWIRE_SYNTAX_H */
