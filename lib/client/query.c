/* What a driver reads off the client without moving its state: the queued
 * command bytes and their acknowledgement, what the last EHLO announced,
 * and the counters.  NULL rules of README "API conventions".
 * SPDX-License-Identifier: MIT */
#include "client/client_internal.h"

const uint8_t *smtpw_client_output(const smtpw_client *c, size_t *len)
{
    if (len == NULL)
        return NULL;
    if (c == NULL) {
        *len = 0;
        return NULL;
    }
    *len = c->out_len;
    return c->outq + c->out_off;
}

void smtpw_client_output_ack(smtpw_client *c, size_t n)
{
    if (c == NULL)
        return;
    if (n > c->out_len)
        n = c->out_len;
    c->out_off += (uint32_t)n;
    c->out_len -= (uint32_t)n;
    /* Replies are matched to commands by this offset (client.c). */
    c->acked_total += (uint32_t)n;
    if (c->out_len == 0)
        c->out_off = 0;
}

uint32_t smtpw_client_extensions(const smtpw_client *c)
{
    return c ? c->caps.ext : 0u;
}

uint64_t smtpw_client_size_limit(const smtpw_client *c)
{
    return c ? c->caps.size_limit : 0u;
}

uint32_t smtpw_client_auth_mechs(const smtpw_client *c)
{
    return c ? c->caps.auth : 0u;
}

uint32_t smtpw_client_accepted(const smtpw_client *c)
{
    return c ? c->accepted : 0u;
}

uint32_t smtpw_client_pending(const smtpw_client *c)
{
    return c ? c->ring_count : 0u;
}
