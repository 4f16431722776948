/* Runtime version, so an application can check header == library (SQLite's habit).
 * SPDX-License-Identifier: MIT */
#include "internal.h"

unsigned long smtpw_version(void)
{
    return SMTPW_VERSION_NUM;
}

const char *smtpw_version_string(void)
{
    return SMTPW_VERSION_STRING;
}
