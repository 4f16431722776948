/* smtpwire-server's recipient policy (--domain, --recipients).
 *
 * Served domains are every --domain NAME and the domains of the addresses
 * in the --recipients file.  A recipient is
 *   - accepted when it is <Postmaster> or postmaster@ a served domain (the
 *     local part in any case, quoted or not), always: RFC 5321 4.5.1;
 *   - refused 550 5.7.1 (relaying denied, RFC 3463 3.8) when its domain is
 *     not served: this server is no relay;
 *   - refused 550 5.1.1 (no such mailbox, RFC 3463 3.2) when --recipients
 *     was given and the address is not listed;
 *   - accepted otherwise.
 * With neither option every recipient is accepted.
 *
 * Domains compare without regard to ASCII case (RFC 5321 2.4), with one
 * trailing dot ignored in what the operator writes.  Address literals
 * compare by the address they hold: [192.0.2.1] matches [192.000.2.1],
 * [IPv6:2001:db8::1] matches [ipv6:2001:DB8:0::1].  Local parts compare
 * after unquoting ("john"@x is john@x) and, like Postfix's tables, without
 * regard to ASCII case: RFC 5321 2.4 leaves case to the receiving host and
 * tells it not to define mailboxes that differ only in case.
 * SPDX-License-Identifier: MIT */
#ifndef SMTPWIRE_EXAMPLE_POLICY_H
#define SMTPWIRE_EXAMPLE_POLICY_H

#include <stddef.h>
#include <stdint.h>

#include <smtpwire/syntax.h>

/* policy_check() verdicts */
#define POLICY_ACCEPT 0
#define POLICY_RELAY_DENIED 1 /* 550 5.7.1 */
#define POLICY_NO_SUCH_USER 2 /* 550 5.1.1 */

typedef struct policy_addr {
    char *domain; /* canonical (policy_canon_domain) */
    char *local;  /* unquoted, lower case */
} policy_addr;

typedef struct policy {
    char **domains; /* canonical, sorted and unique after policy_finish() */
    size_t ndomains, capdomains;
    policy_addr *addrs; /* sorted and unique after policy_finish() */
    size_t naddrs, capaddrs;
    int listed;   /* --recipients given: unlisted addresses get 5.1.1 */
    int finished; /* policy_finish() ran */
} policy;

/* An empty policy (accept everything).  Nothing to free until an add. */
void policy_init(policy *p);
void policy_free(policy *p);

/* --domain NAME: a domain name or an address literal ("[192.0.2.1]").
 * Returns 0, or -1 with a message in err (not a domain, out of memory). */
int policy_add_domain(policy *p, const char *name, size_t len, char *err, size_t errlen);

/* One address of the recipients list, as RFC 5321 4.1.2 writes a Mailbox
 * ("user@example.org", "\"john smith\"@example.org") or as a whole path
 * ("<user@example.org>").
 * Returns 0 or -1 with a message in err. */
int policy_add_recipient(policy *p, const char *addr, size_t len, char *err, size_t errlen);

/* The text of a recipients file: one address per line (LF or CRLF),
 * leading and trailing blanks ignored, blank lines and lines starting
 * with '#' skipped.  Marks the policy as listing recipients even when the
 * text holds none (then only postmaster is accepted).  name is used in
 * messages ("name:LINE: ...").  Returns 0 or -1 with a message in err. */
int policy_load_text(policy *p, const char *text, size_t len, const char *name, char *err,
                     size_t errlen);

/* policy_load_text() of a file. */
int policy_load_file(policy *p, const char *path, char *err, size_t errlen);

/* Sort and merge; call after the last add and before policy_check().
 * Returns 0, or -1 out of memory. */
int policy_finish(policy *p);

/* Non-zero when the policy refuses anything (an option was given). */
int policy_active(const policy *p);

/* The verdict for a parsed RCPT forward-path (POLICY_*). */
int policy_check(const policy *p, const smtpw_path *rcpt);

/* The reply for a verdict: code (0 for ACCEPT, meaning the core's 250),
 * enhanced code and text (static strings; "" for ACCEPT). */
uint32_t policy_code(int verdict);
const char *policy_enh(int verdict);
const char *policy_text(int verdict);

/* A domain or address literal in its canonical form, for comparison:
 * ASCII lower case without a trailing dot; [a.b.c.d] with plain decimal
 * numbers; [ipv6:...] as inet_ntop(3) writes it; other literals lowered.
 * Returns the length written to out (NUL-terminated), 0 when the text is
 * neither a domain nor an address literal or does not fit cap. */
size_t policy_canon_domain(const char *d, size_t n, char *out, size_t cap);

#endif
