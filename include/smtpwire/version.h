/* smtpwire version; tests/unit/test_version.c keeps it equal to meson.build's.
 * SPDX-License-Identifier: MIT */
#ifndef SMTPWIRE_VERSION_H
#define SMTPWIRE_VERSION_H
#define SMTPW_VERSION_MAJOR 0
#define SMTPW_VERSION_MINOR 1
#define SMTPW_VERSION_PATCH 0
#define SMTPW_VERSION_NUM 0x000100UL
#define SMTPW_VERSION_STRING "0.1.0"
#endif
