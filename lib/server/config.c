/* The server core's configuration and the memory it lives in: its size,
 * the defaults of each config version, and what init() may accept
 * (README "API conventions": versioned configs read as a prefix).
 * SPDX-License-Identifier: MIT */
#include "server/server_internal.h"

/* C99 static assertion: the header's size hint is a true bound. */
typedef char smtpw__server_fits_hint[sizeof(struct smtpw_server) <= SMTPW_SERVER_SIZE_HINT ? 1 : -1];

/* The alignment the state needs (offsetof: C99 has no alignof) must not
 * exceed the one init() checks (common.h SMTPW_STATE_ALIGN). */
struct align_probe {
    char c;
    struct smtpw_server s;
};
typedef char smtpw__server_align_check[SMTPW_STATE_ALIGN % offsetof(struct align_probe, s) == 0 ? 1 : -1];

size_t smtpw_server_sizeof(void)
{
    return sizeof(struct smtpw_server);
}

/* Bytes of each config version (api.md B: read and write only those). */
#define CONFIG_V1_SIZE (offsetof(smtpw_server_config, bare_body) + sizeof(uint32_t))

int smtpw_server_config_init(smtpw_server_config *cfg, uint32_t version)
{
    smtpw_server_config d;
    if (cfg == NULL)
        return SMTPW_E_INVALID_ARG;
    if (version != 1)
        return SMTPW_E_VERSION;
    memset(&d, 0, sizeof d);
    d.version = version;
    d.flags = 0;
    d.hostname = NULL; /* with hostname_len 0: "localhost" */
    d.hostname_len = 0;
    d.max_message_size = 10485760u;
    d.max_recipients = 100;
    d.max_command_line = SMTPW_MAX_COMMAND_LINE;
    d.max_text_line = 0;
    d.max_errors = 10;
    d.bare_command = SMTPW_BARE_REJECT;
    d.bare_body = SMTPW_BARE_REJECT;
    memcpy(cfg, &d, CONFIG_V1_SIZE);
    return SMTPW_OK;
}

#define KNOWN_FLAGS                                                                           \
    (SMTPW_SERVER_LENIENT | SMTPW_SERVER_REFUSE | SMTPW_SERVER_NO_PIPELINING |                \
     SMTPW_SERVER_NO_8BITMIME | SMTPW_SERVER_NO_ENHANCED | SMTPW_SERVER_STARTTLS |            \
     SMTPW_SERVER_SMTPUTF8)

int smtpw__server_config_use(const void *mem, size_t memlen, const smtpw_server_config *cfg,
                             smtpw_server_config *use, const char **host, size_t *hostlen)
{
    if (mem == NULL || (uintptr_t)mem % SMTPW_STATE_ALIGN != 0)
        return SMTPW_E_INVALID_ARG;
    if (memlen < sizeof(struct smtpw_server))
        return SMTPW_E_NOBUF;
    /* Defaults, then the fields the caller's version has (versions 1 to
     * SMTPW_SERVER_CONFIG_VERSION); never a byte past them. */
    smtpw_server_config_init(use, SMTPW_SERVER_CONFIG_VERSION);
    if (cfg != NULL) {
        if (cfg->version != 1)
            return SMTPW_E_VERSION;
        memcpy(use, cfg, CONFIG_V1_SIZE);
    }
    /* No default length beside a caller's pointer: NULL/0 is "localhost",
     * a name with length 0 is a mistake (a length left unset). */
    if (use->hostname == NULL && use->hostname_len == 0) {
        *host = "localhost";
        *hostlen = 9;
    } else {
        *host = use->hostname;
        *hostlen = use->hostname_len;
    }
    if (*host == NULL || *hostlen == 0 || *hostlen > SMTPW_MAX_DOMAIN ||
        (smtpw_domain_check(*host, *hostlen, 0) != 0 &&
         smtpw_address_literal_check(*host, *hostlen, NULL) != 0))
        return SMTPW_E_INVALID_ARG;
    if ((use->flags & ~KNOWN_FLAGS) || use->max_command_line < SMTPW_MAX_COMMAND_LINE ||
        use->max_command_line > 65536 || (use->max_text_line != 0 && use->max_text_line < 3) ||
        use->bare_command > SMTPW_BARE_KEEP || use->bare_body > SMTPW_BARE_KEEP)
        return SMTPW_E_INVALID_ARG;
    return SMTPW_OK;
}
