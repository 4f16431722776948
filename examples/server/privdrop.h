/* smtpwire-server --run-as USER and --allow-root: give up root once the
 * privileged work (binding ports below 1024, creating and checking the
 * Maildir) is done.
 * SPDX-License-Identifier: MIT */
#ifndef SMTPWIRE_EXAMPLE_PRIVDROP_H
#define SMTPWIRE_EXAMPLE_PRIVDROP_H

#include <stddef.h>
#include <sys/types.h>

typedef struct privdrop_user {
    uid_t uid;
    gid_t gid;
    char name[64];
} privdrop_user;

/* Look USER up in the password database, by name or by numeric uid; its
 * primary group comes from there too.  Root is refused (no drop at all).
 * Done before the drop, while /etc/passwd is surely readable.  Returns 0, or -1 with a
 * message in err. */
int privdrop_lookup(const char *user, privdrop_user *out, char *err, size_t errlen);

/* Become u for good: supplementary groups to u's primary group only
 * (setgroups), then setgid, then setuid (in that order: after setuid the
 * others are no longer allowed), each checked; then verify that real and
 * effective ids are u's and that setuid(0) now fails.  Any failure is
 * fatal to the caller: a server must not go on half-dropped.  Returns 0,
 * or -1 with a message in err. */
int privdrop_to(const privdrop_user *u, char *err, size_t errlen);

/* The start-up rule: running as root (effective uid 0) without --run-as
 * is refused when a listener port is privileged (< 1024), since a root
 * process then parses every byte from the network, unless --allow-root.
 * Returns 0 when allowed, -1 with a message in err. */
int privdrop_root_check(int run_as_given, int allow_root, unsigned lowest_port, char *err,
                        size_t errlen);

#endif
