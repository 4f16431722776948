/* placeholder: the POSIX adapter is being written.  SPDX-License-Identifier: MIT */
#ifndef SMTPWIRE_POSIX_H
#define SMTPWIRE_POSIX_H
#include "smtpwire.h"
#endif
