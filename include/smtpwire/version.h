/* smtpwire version; tests/unit/test_version.c keeps it equal to meson.build's.
 * SPDX-License-Identifier: MIT */
#ifndef SMTPWIRE_VERSION_H
#define SMTPWIRE_VERSION_H
#define SMTPW_VERSION_MAJOR 1
#define SMTPW_VERSION_MINOR 0
#define SMTPW_VERSION_PATCH 0
#define SMTPW_VERSION_NUM 0x010000u
#define SMTPW_VERSION_STRING "1.0.0"
#endif
