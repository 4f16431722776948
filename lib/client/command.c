/* Client command lines: argument checks and rendering (RFC 5321 4.1.1,
 * 4.5.3.1).  SPDX-License-Identifier: MIT */
#include "client/command.h"

#include "smtpwire/syntax.h"

void smtpw__cmd_put_u64(struct smtpw__cmdline *l, uint64_t v)
{
    char tmp[20];
    smtpw__cmd_put(l, tmp, smtpw__u64_dec(tmp, v));
}


int smtpw__cmd_check_domain(const char *d, size_t len)
{
    if (d == NULL && len)
        return SMTPW_E_INVALID_ARG;
    if (smtpw__has_ctl(d, len, 0))
        return SMTPW_E_INVALID_ARG;
    if (len == 0)
        return SMTPW_E_SYNTAX;
    if (d[0] == '[')
        return smtpw_address_literal_check(d, len, NULL);
    return smtpw_domain_check(d, len, 0);
}

int smtpw__cmd_put_params(struct smtpw__cmdline *l, const char *params, size_t plen, int utf8,
                          int is_mail)
{
    smtpw_span rest, key, value;
    int r;
    if (params == NULL && plen)
        return SMTPW_E_INVALID_ARG;
    if (smtpw__has_ctl(params, plen, 0) || (!utf8 && smtpw__has_8bit(params, plen)))
        return SMTPW_E_INVALID_ARG;
    rest = smtpw__span(params, plen);
    while ((r = smtpw_param_next(&rest, &key, &value)) == 1) {
        /* A second copy would let the caller contradict what the core
         * checked from the mail() arguments. */
        if (is_mail && (smtpw_span_ieq(key, "SIZE") || smtpw_span_ieq(key, "BODY") ||
                        smtpw_span_ieq(key, "SMTPUTF8")))
            return SMTPW_E_INVALID_ARG;
        smtpw__cmd_put(l, " ", 1);
        smtpw__cmd_put(l, key.ptr, key.len);
        if (value.len) {
            smtpw__cmd_put(l, "=", 1);
            smtpw__cmd_put(l, value.ptr, value.len);
        }
    }
    return r < 0 ? r : 0;
}

int smtpw__cmd_put_path(struct smtpw__cmdline *l, const char *addr, size_t len, int utf8)
{
    char path[SMTPW_MAX_PATH];
    size_t n;
    int rc = smtpw_path_render(addr, len, utf8 ? SMTPW_PARSE_UTF8 : 0u, path, sizeof path, &n);
    if (rc == SMTPW_E_NOBUF)
        rc = SMTPW_E_TOOLONG;
    if (rc)
        return rc;
    smtpw__cmd_put(l, path, n);
    return 0;
}
