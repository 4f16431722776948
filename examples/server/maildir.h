/* Maildir delivery for the example server: unique names in tmp/, fsync,
 * move into new/ without ever replacing a file there, fsync of new/ (the
 * usual Maildir rules), with a group commit so one fsync of new/ covers
 * every message of a loop turn.
 * SPDX-License-Identifier: MIT */
#ifndef SMTPWIRE_EXAMPLE_MAILDIR_H
#define SMTPWIRE_EXAMPLE_MAILDIR_H

#include <stddef.h>

/* A name is "time.unique.host" and must fit NAME_MAX (255): the host part
 * is cut to MAILDIR_HOST_MAX bytes, leaving room for the unique part. */
#define MAILDIR_HOST_MAX 160
#define MAILDIR_NAME_MAX 256

typedef struct maildir {
    int tmpfd; /* directory descriptors of tmp/ and new/ */
    int newfd;
    int randfd;       /* /dev/urandom where getrandom() is missing, else -1 */
    int no_renameat2; /* renameat2() is missing here: link + unlink */
    long pid;
    unsigned long counter;
    char host[MAILDIR_HOST_MAX + 1]; /* hostname with '/' and ':' escaped */
    char test_unique[65]; /* SMTPW_TEST_MAILDIR_UNIQUE (tests only), or "" */
} maildir;

typedef struct maildir_msg {
    int fd;
    char name[MAILDIR_NAME_MAX]; /* in tmp/; in new/ once committed */
} maildir_msg;

/* Create dir and its tmp/ new/ cur/ as needed, open tmp/ and new/ (which
 * must be real directories, not symbolic links).
 * Returns 0, or -1 with errno and a message in err. */
int maildir_open(maildir *md, const char *dir, const char *hostname, char *err, size_t errlen);

/* Create a fresh file in tmp/ under a unique name.  Returns 0 or -1. */
int maildir_create(maildir *md, maildir_msg *m);

/* Write all of buf to the message file.  Returns 0 or -1. */
int maildir_write(maildir_msg *m, const void *buf, size_t len);

/* Make n written messages durable: fsync each file, move each into new/
 * (under a fresh unique name should its own be taken there: a file in
 * new/ is never replaced), then fsync new/ once.  ok[i] receives 1 for a
 * stored message (msgs[i]->name is then its name in new/), 0 for one that
 * failed (its file is gone).  Every file is closed afterwards. */
void maildir_commit(maildir *md, maildir_msg *const *msgs, size_t n, int *ok);

/* Drop a message that is not to be delivered: close and unlink it. */
void maildir_abort(maildir *md, maildir_msg *m);

/* Take a committed message back out of new/ (its 250 never went out). */
void maildir_retract(maildir *md, const maildir_msg *m);

#endif
