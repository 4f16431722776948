/* The parent of tests/subproject/meson.build: links smtpwire, built as a
 * subproject, and checks the header and the library agree. */
#include <smtpwire/smtpwire.h>
#include <stdio.h>

int main(void)
{
    unsigned long v = smtpw_version();
    size_t n = smtpw_server_sizeof();

    printf("smtpwire %s (0x%06lx), server state %zu bytes\n", smtpw_version_string(), v,
           n);
    if (v != SMTPW_VERSION_NUM || n == 0 || n > SMTPW_SERVER_SIZE_HINT)
        return 1;
    return 0;
}
