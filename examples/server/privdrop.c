/* smtpwire-server --run-as and --allow-root: see privdrop.h.
 * SPDX-License-Identifier: MIT */
#if !defined(_DEFAULT_SOURCE)
#define _DEFAULT_SOURCE /* setgroups() */
#endif
#if !defined(_POSIX_C_SOURCE) || _POSIX_C_SOURCE < 200809L
#undef _POSIX_C_SOURCE
#define _POSIX_C_SOURCE 200809L
#endif

#include "privdrop.h"

#include <errno.h>
#include <grp.h>
#include <limits.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int privdrop_lookup(const char *user, privdrop_user *out, char *err, size_t errlen)
{
    struct passwd pw, *res = NULL;
    char buf[4096];
    int rc;
    memset(out, 0, sizeof *out);
    if (!user || !*user) {
        snprintf(err, errlen, "--run-as: empty user name");
        return -1;
    }
    rc = getpwnam_r(user, &pw, buf, sizeof buf, &res);
    if (!res && user[0] >= '0' && user[0] <= '9') {
        char *end;
        unsigned long id;
        errno = 0;
        id = strtoul(user, &end, 10);
        if (!errno && !*end && id < (unsigned long)UINT_MAX)
            rc = getpwuid_r((uid_t)id, &pw, buf, sizeof buf, &res);
    }
    if (!res) {
        snprintf(err, errlen, "--run-as %s: %s", user,
                 rc ? strerror(rc) : "no such user in the password database");
        return -1;
    }
    if (res->pw_uid == 0) {
        snprintf(err, errlen, "--run-as %s: that is root", user);
        return -1;
    }
    out->uid = res->pw_uid;
    out->gid = res->pw_gid;
    snprintf(out->name, sizeof out->name, "%s", res->pw_name);
    return 0;
}

int privdrop_to(const privdrop_user *u, char *err, size_t errlen)
{
    gid_t g = u->gid;
    /* Supplementary groups first: root's (e.g. group 0) would otherwise
     * survive setgid/setuid and keep access to files of those groups. */
    if (setgroups(1, &g) != 0) {
        snprintf(err, errlen, "setgroups(%lu): %s", (unsigned long)g, strerror(errno));
        return -1;
    }
    if (setgid(u->gid) != 0) {
        snprintf(err, errlen, "setgid(%lu): %s", (unsigned long)u->gid, strerror(errno));
        return -1;
    }
    if (setuid(u->uid) != 0) {
        snprintf(err, errlen, "setuid(%lu): %s", (unsigned long)u->uid, strerror(errno));
        return -1;
    }
    /* Trust but verify: setuid() from root sets real, effective and saved
     * ids, so there must be no way back. */
    if (getuid() != u->uid || geteuid() != u->uid || getgid() != u->gid ||
        getegid() != u->gid) {
        snprintf(err, errlen, "ids after the drop are not %lu:%lu", (unsigned long)u->uid,
                 (unsigned long)u->gid);
        return -1;
    }
    if (setuid(0) == 0) {
        snprintf(err, errlen, "setuid(0) still succeeds after the drop");
        return -1;
    }
    return 0;
}

int privdrop_root_check(int run_as_given, int allow_root, unsigned lowest_port, char *err,
                        size_t errlen)
{
    if (geteuid() != 0 || run_as_given || allow_root || lowest_port >= 1024)
        return 0;
    snprintf(err, errlen,
             "refusing to run as root on privileged port %u: use --run-as USER (or "
             "--allow-root)",
             lowest_port);
    return -1;
}
