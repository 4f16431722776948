/* The client's message body entry points: the caller's bytes through the
 * dot-stuffer (stuff.c) while the state machine (client.c) says the 354
 * came, and the final dot that hands the turn back to it (RFC 5321 4.1.1.4,
 * 4.5.2).  SPDX-License-Identifier: MIT */
#include "client/client_internal.h"

int smtpw_client_body_encode(smtpw_client *c, const uint8_t *in, size_t inlen,
                             size_t *consumed, uint8_t *out, size_t outcap, size_t *written)
{
    if (consumed)
        *consumed = 0;
    if (written)
        *written = 0;
    if (c == NULL || consumed == NULL || written == NULL || (in == NULL && inlen) ||
        (out == NULL && outcap))
        return SMTPW_E_INVALID_ARG;
    if (SMTPW_UNLIKELY(!smtpw__client_in_body(c)))
        return smtpw__client_body_due(c); /* which refusal */
    if (inlen == 0)
        return 0;
    return smtpw__stuff_encode(&c->body, in, inlen, consumed, out, outcap, written);
}

int smtpw_client_body_end(smtpw_client *c, uint8_t *out, size_t outcap, size_t *written)
{
    int rc;
    if (written)
        *written = 0;
    if (c == NULL || written == NULL || (out == NULL && outcap))
        return SMTPW_E_INVALID_ARG;
    if ((rc = smtpw__client_body_due(c)) != 0)
        return rc;
    if (outcap < 5)
        return SMTPW_E_NOBUF;
    *written = smtpw__stuff_end(&c->body, out);
    smtpw__client_body_ended(c);
    return 0;
}
