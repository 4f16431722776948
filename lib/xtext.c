/* placeholder: being written */
#include "internal.h"
typedef int smtpw__placeholder_xtext;
