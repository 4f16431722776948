/* ESMTP extension keywords (RFC 5321 4.1.1.1, 2.2.2): one table for the
 * server, which lists what it offers in this order, and the client, which
 * looks keywords up in it.  SPDX-License-Identifier: MIT */
#include "internal.h"

const smtpw__ext_name smtpw__ext_names[SMTPW__EXT_COUNT] = {
    {"PIPELINING", SMTPW_EXT_PIPELINING},   /* RFC 2920 */
    {"8BITMIME", SMTPW_EXT_8BITMIME},       /* RFC 6152 */
    {"SIZE", SMTPW_EXT_SIZE},               /* RFC 1870 */
    {"ENHANCEDSTATUSCODES", SMTPW_EXT_ENHANCEDSTATUSCODES}, /* RFC 2034 */
    {"STARTTLS", SMTPW_EXT_STARTTLS},       /* RFC 3207 */
    {"SMTPUTF8", SMTPW_EXT_SMTPUTF8},       /* RFC 6531 */
    {"CHUNKING", SMTPW_EXT_CHUNKING},       /* RFC 3030 */
    {"BINARYMIME", SMTPW_EXT_BINARYMIME},   /* RFC 3030 */
    {"AUTH", SMTPW_EXT_AUTH},               /* RFC 4954 */
    {"DSN", SMTPW_EXT_DSN},                 /* RFC 3461 */
    {"REQUIRETLS", SMTPW_EXT_REQUIRETLS},   /* RFC 8689 */
};
