/* Error texts and names, command names, RFC 5321 4.5.3.2 timeouts.
 * SPDX-License-Identifier: MIT */
#include "internal.h"
#include "smtpwire/server.h"

struct errinfo {
    const char *name;
    const char *text;
};

/* Indexed by -err. */
static const struct errinfo errors[] = {
    {"SMTPW_OK", "success"},
    {"SMTPW_E_INVALID_ARG", "invalid argument"},
    {"SMTPW_E_STATE", "call not allowed in the current state"},
    {"SMTPW_E_NOBUF", "buffer too small"},
    {"SMTPW_E_AGAIN", "try again after draining output or reading replies"},
    {"SMTPW_E_PROTO", "peer violated the SMTP protocol"},
    {"SMTPW_E_CLOSED", "session closed"},
    {"SMTPW_E_SYNTAX", "syntax error"},
    {"SMTPW_E_TOOLONG", "length limit exceeded"},
    {"SMTPW_E_VERSION", "unknown config version"},
    {"SMTPW_E_8BIT", "8-bit data but the server does not offer 8BITMIME"},
    {"SMTPW_E_SIZE", "message exceeds the server's SIZE limit"},
    {"SMTPW_E_IO", "I/O error"},
    {"SMTPW_E_TIMEOUT", "timeout"},
    {"SMTPW_E_TLS", "TLS error"},
    {"SMTPW_E_NOTSUP", "not supported by the peer"},
    {"SMTPW_E_DNS", "name or MX lookup failed"},
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
    return e ? e->name : "SMTPW_E_UNKNOWN";
}

int smtpw_err_is_fatal(int err)
{
    return err == SMTPW_E_PROTO || err == SMTPW_E_CLOSED;
}

static const char *const cmd_names[] = {
    "",     "HELO", "EHLO", "MAIL", "RCPT", "DATA",     "RSET",  "NOOP",
    "QUIT", "VRFY", "EXPN", "HELP", "STARTTLS", "AUTH", "BDAT",  "SEND",
    "SOML", "SAML", "TURN", "",     "",     "",
};

const char *smtpw_cmd_name(int cmd)
{
    if (cmd < 0 || (size_t)cmd >= sizeof cmd_names / sizeof cmd_names[0])
        return "";
    return cmd_names[cmd];
}

/* Indexed by SMTPW_EV_*. */
static const char *const event_names[] = {
    "NONE", "HELO", "MAIL", "RCPT", "DATA",     "BODY",     "DATA_END", "DATA_ABORT",
    "RSET", "VRFY", "EXPN", "HELP", "QUIT", "STARTTLS", "REJECTED", "CLOSE",
};

const char *smtpw_server_event_name(int type)
{
    if (type < 0 || (size_t)type >= sizeof event_names / sizeof event_names[0])
        return "?";
    return event_names[type];
}

unsigned smtpw_timeout_seconds(int which)
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
