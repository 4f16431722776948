/* placeholder: being written */
#include "internal.h"
typedef int smtpw__placeholder_posix_server;
