/* Error texts and names, command and event names, RFC 5321 4.5.3.2 timeouts.
 * SPDX-License-Identifier: MIT */
#include "internal.h"
#include "smtpwire/server.h"

struct errinfo {
    const char *name;
    const char *text;
};

/* Indexed by -err; names without the "SMTPW_E_" prefix (README "API
 * conventions"). */
static const struct errinfo errors[] = {
    {"OK", "success"},
    {"INVALID_ARG", "invalid argument"},
    {"STATE", "call not allowed in the current state"},
    {"NOBUF", "buffer too small"},
    {"AGAIN", "try again after draining output or reading replies"},
    {"PROTO", "peer violated the SMTP protocol"},
    {"CLOSED", "session closed"},
    {"SYNTAX", "syntax error"},
    {"TOOLONG", "length limit exceeded"},
    {"VERSION", "unknown struct version"},
    {"8BIT", "8-bit data but the server does not offer 8BITMIME"},
    {"SIZE", "message exceeds the server's SIZE limit"},
    {"IO", "I/O error"},
    {"TIMEOUT", "timeout"},
    {"TLS", "TLS error"},
    {"NOTSUP", "not supported by the peer"},
    {"DNS", "name or MX lookup failed"},
    {"NXDOMAIN", "the domain does not exist"},
    {"NOMAIL", "the domain accepts no mail (null MX)"},
};

#define NERRORS (sizeof errors / sizeof errors[0])

static const struct errinfo *errinfo(int err)
{
    if (err > 0 || (size_t)(-(long)err) >= NERRORS)
        return NULL;
    return &errors[-(long)err];
}

const char *smtpw_strerror(int err)
{
    const struct errinfo *e = errinfo(err);
    return e ? e->text : "unknown error";
}

const char *smtpw_err_name(int err)
{
    const struct errinfo *e = errinfo(err);
    return e ? e->name : "?";
}

/* After these the object cannot go on: the peer broke the protocol, the
 * session is over, or the transport (socket, timer, TLS) failed under it. */
int smtpw_err_is_fatal(int err)
{
    switch (err) {
    case SMTPW_E_PROTO:
    case SMTPW_E_CLOSED:
    case SMTPW_E_IO:
    case SMTPW_E_TIMEOUT:
    case SMTPW_E_TLS:
        return 1;
    default:
        return 0;
    }
}

/* Indexed by SMTPW_CMD_*. */
static const char *const cmd_names[] = {
    "NONE", "HELO", "EHLO", "MAIL",     "RCPT", "DATA",  "RSET",    "NOOP",
    "QUIT", "VRFY", "EXPN", "HELP",     "STARTTLS", "AUTH", "BDAT", "SEND",
    "SOML", "SAML", "TURN", "GREETING", "BODY", "UNKNOWN",
};

const char *smtpw_cmd_name(uint32_t cmd)
{
    if (cmd >= sizeof cmd_names / sizeof cmd_names[0])
        return "?";
    return cmd_names[cmd];
}

/* Indexed by SMTPW_EV_*. */
static const char *const event_names[] = {
    "NONE", "HELO", "MAIL", "RCPT", "DATA",     "BODY",     "DATA_END", "DATA_ABORT",
    "RSET", "VRFY", "EXPN", "HELP", "QUIT",     "STARTTLS", "REJECTED", "CLOSE",
    "REPLY", "TLS_STARTED",
};

const char *smtpw_event_name(uint32_t type)
{
    if (type >= sizeof event_names / sizeof event_names[0])
        return "?";
    return event_names[type];
}

uint32_t smtpw_timeout_seconds(uint32_t which)
{
    switch (which) {
    case SMTPW_TIMEOUT_GREETING: /* 4.5.3.2.1 */
    case SMTPW_TIMEOUT_MAIL:     /* 4.5.3.2.2 */
    case SMTPW_TIMEOUT_RCPT:     /* 4.5.3.2.3 */
    case SMTPW_TIMEOUT_SERVER:   /* 4.5.3.2.7 */
    case SMTPW_TIMEOUT_COMMAND:
        return 300;
    case SMTPW_TIMEOUT_DATA_INIT: /* 4.5.3.2.4 */
        return 120;
    case SMTPW_TIMEOUT_DATA_BLOCK: /* 4.5.3.2.5 */
        return 180;
    case SMTPW_TIMEOUT_DATA_TERM: /* 4.5.3.2.6 */
        return 600;
    default:
        return 0;
    }
}
