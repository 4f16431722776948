/* Runtime version, so an application can check header == library (SQLite's habit).
 * SPDX-License-Identifier: MIT */
#include "internal.h"

uint32_t smtpw_version(void)
{
    return (uint32_t)SMTPW_VERSION_NUM;
}

const char *smtpw_version_string(void)
{
    return SMTPW_VERSION_STRING;
}
