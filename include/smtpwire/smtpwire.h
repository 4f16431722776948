/* smtpwire: umbrella header for the sans-I/O core (the POSIX adapter is
 * <smtpwire/posix.h>).  SPDX-License-Identifier: MIT */
#ifndef SMTPWIRE_H
#define SMTPWIRE_H
#include "common.h"
#include "syntax.h"
#include "server.h"
#include "client.h"
#endif
