/* POSIX adapter, client half: the send config (its versions, defaults and
 * the checks made before a byte is sent) and the result handed back at the
 * caller's size (README "API conventions": versioned structs read and
 * written as a prefix).  The session itself is client.c's.
 * SPDX-License-Identifier: MIT */
#include <string.h>

#include "posix/posix_internal.h"
#include "smtpwire/posix.h"

/* Bytes of each config version (index: version): fields are only
 * appended, so a version is read as a prefix of the current struct. */
#define CONFIG_V1_SIZE (offsetof(smtpw_posix_send_config, trace_arg) + sizeof(void *))
static const size_t CONFIG_SIZE[] = {0, CONFIG_V1_SIZE};
#define CONFIG_VERSIONS (sizeof CONFIG_SIZE / sizeof CONFIG_SIZE[0] - 1u)
/* The newest version is the whole struct. */
typedef char smtpw__config_size_check[SMTPW_POSIX_SEND_CONFIG_VERSION == 1 && CONFIG_V1_SIZE == sizeof(smtpw_posix_send_config) ? 1 : -1];

int smtpw_posix_send_config_init(smtpw_posix_send_config *cfg, uint32_t version)
{
    smtpw_posix_send_config def;
    if (!cfg)
        return SMTPW_E_INVALID_ARG;
    if (version == 0 || version > CONFIG_VERSIONS)
        return SMTPW_E_VERSION;
    memset(&def, 0, sizeof def);
    def.version = version;
    def.tls = SMTPW_POSIX_TLS_NEVER; /* helo, from {NULL, 0}: address literal, <> */
    /* never more than the caller's version of the struct has */
    memcpy(cfg, &def, CONFIG_SIZE[version]);
    return 0;
}

/* The caller's config as the current version: what its version has, then
 * the defaults. */
static int read_config(const smtpw_posix_send_config *in, smtpw_posix_send_config *o)
{
    if (!in)
        return SMTPW_E_INVALID_ARG;
    if (in->version == 0 || in->version > CONFIG_VERSIONS)
        return SMTPW_E_VERSION;
    (void)smtpw_posix_send_config_init(o, SMTPW_POSIX_SEND_CONFIG_VERSION);
    memcpy(o, in, CONFIG_SIZE[in->version]);
    o->version = SMTPW_POSIX_SEND_CONFIG_VERSION;
    return 0;
}

/* Text the caller passes: a NULL pointer only with length 0 (README "API
 * conventions"), and no control byte: RFC 5321 2.3.8 lets CR and LF appear
 * only as a line's end, and 4.1.2 has no control byte in a domain or a
 * mailbox.  Refused before a byte is sent, rather than by the core half
 * way through the session (an embedded NUL included, which a C string
 * could not have carried). */
static int text_ok(smtpw_span t)
{
    size_t i;
    if (!t.ptr)
        return t.len == 0;
    for (i = 0; i < t.len; i++)
        if ((unsigned char)t.ptr[i] < 0x20 || (unsigned char)t.ptr[i] == 0x7f)
            return 0;
    return 1;
}

static int check_opts(const smtpw_posix_send_config *o)
{
    size_t i;
    if (!text_ok(o->helo) || !text_ok(o->from) || (o->nrcpt > 0 && !o->rcpt) ||
        (o->bodylen > 0 && !o->body))
        return SMTPW_E_INVALID_ARG;
    if (o->tls > SMTPW_POSIX_TLS_REQUIRE ||
        (o->tls == SMTPW_POSIX_TLS_REQUIRE && (!o->io || !o->io->starttls)))
        return SMTPW_E_INVALID_ARG;
    if (o->nrcpt == 0 || o->rcpt_policy > SMTPW_POSIX_RCPT_RESET_ON_ANY)
        return SMTPW_E_INVALID_ARG;
    for (i = 0; i < o->nrcpt; i++)
        if (o->rcpt[i].len == 0 || !text_ok(o->rcpt[i]))
            return SMTPW_E_INVALID_ARG;
    return 0;
}

static void reset_replies(const smtpw_posix_send_config *o)
{
    size_t i;
    if (o->rcpt_replies && o->rcpt)
        for (i = 0; i < o->nrcpt; i++) {
            memset(&o->rcpt_replies[i], 0, sizeof o->rcpt_replies[i]);
            o->rcpt_replies[i].cmd = SMTPW_CMD_RCPT;
        }
    if (o->rcpt_status && o->rcpt)
        for (i = 0; i < o->nrcpt; i++)
            o->rcpt_status[i] = SMTPW_POSIX_RCPT_NOT_SENT;
}

/* api.md B: the caller's result gets no byte past ressize, and zeros past
 * ours. */
int smtpw__posix_give_result(const smtpw_posix_send_result *r, smtpw_posix_send_result *res,
                             size_t ressize, int rc)
{
    if (ressize <= sizeof *r) {
        memcpy(res, r, ressize);
    } else {
        memcpy(res, r, sizeof *r);
        memset((char *)res + sizeof *r, 0, ressize - sizeof *r);
    }
    return rc;
}

/* The config read and checked; *res cleared.  0 or the error. */
int smtpw__posix_send_prepare(const smtpw_posix_send_config *cfg, smtpw_posix_send_config *o,
                              smtpw_posix_send_result *r)
{
    int rc;
    memset(r, 0, sizeof *r);
    r->stage = SMTPW_CMD_NONE;
    rc = read_config(cfg, o);
    if (rc == 0) {
        reset_replies(o);
        rc = check_opts(o);
    }
    r->err = rc;
    return rc;
}
