/* The client core's configuration and the memory it lives in: its size,
 * the defaults of each config version, and what init() may accept
 * (README "API conventions": versioned configs read as a prefix).
 * SPDX-License-Identifier: MIT */
#include "client/client_internal.h"

/* The state must fit the size promised to static-storage users. */
typedef char smtpw__client_size_check[sizeof(struct smtpw_client) <= SMTPW_CLIENT_SIZE_HINT ? 1
                                                                                             : -1];

#define DEFAULT_MAX_REPLY_LINE 2048u
#define DEFAULT_MAX_REPLY_LINES 100u
#define KNOWN_FLAGS (SMTPW_CLIENT_NO_PIPELINING | SMTPW_CLIENT_SMTPUTF8)

/* Bytes of each config version (index: version); fields are only
 * appended, so a version is read as a prefix of the current struct. */
#define CONFIG_V1_SIZE (offsetof(smtpw_client_config, max_reply_lines) + sizeof(uint32_t))
static const size_t CONFIG_SIZE[] = {0, CONFIG_V1_SIZE};
#define CONFIG_VERSIONS (sizeof CONFIG_SIZE / sizeof CONFIG_SIZE[0] - 1u)
/* The newest version is the whole struct. */
typedef char smtpw__config_size_check[SMTPW_CLIENT_CONFIG_VERSION == 1 && CONFIG_V1_SIZE == sizeof(smtpw_client_config) ? 1 : -1];

/* The alignment the state needs (offsetof: C99 has no alignof) must not
 * exceed the one init() checks (common.h SMTPW_STATE_ALIGN). */
struct align_probe {
    char c;
    struct smtpw_client s;
};
typedef char smtpw__client_align_check[SMTPW_STATE_ALIGN % offsetof(struct align_probe, s) == 0 ? 1 : -1];

size_t smtpw_client_sizeof(void)
{
    return sizeof(struct smtpw_client);
}

int smtpw_client_config_init(smtpw_client_config *cfg, uint32_t version)
{
    smtpw_client_config def;
    if (cfg == NULL)
        return SMTPW_E_INVALID_ARG;
    if (version == 0 || version > CONFIG_VERSIONS)
        return SMTPW_E_VERSION;
    memset(&def, 0, sizeof def);
    def.version = version;
    def.max_reply_line = DEFAULT_MAX_REPLY_LINE;
    def.max_reply_lines = DEFAULT_MAX_REPLY_LINES;
    /* An older caller's struct ends with its version's last field. */
    memcpy(cfg, &def, CONFIG_SIZE[version]);
    return 0;
}

int smtpw__client_config_use(const void *mem, size_t memlen, const smtpw_client_config *cfg,
                             smtpw_client_config *use)
{
    if (mem == NULL || (uintptr_t)mem % SMTPW_STATE_ALIGN != 0)
        return SMTPW_E_INVALID_ARG;
    if (memlen < sizeof(struct smtpw_client))
        return SMTPW_E_NOBUF;
    smtpw_client_config_init(use, SMTPW_CLIENT_CONFIG_VERSION);
    if (cfg) {
        /* Read what the caller's version has; the rest keeps its default. */
        if (cfg->version == 0 || cfg->version > CONFIG_VERSIONS)
            return SMTPW_E_VERSION;
        memcpy(use, cfg, CONFIG_SIZE[cfg->version]);
        use->version = SMTPW_CLIENT_CONFIG_VERSION;
    }
    if ((use->flags & ~KNOWN_FLAGS) || use->max_reply_line < SMTPW_MAX_REPLY_LINE ||
        use->max_reply_lines == 0)
        return SMTPW_E_INVALID_ARG;
    return 0;
}
