/* Test support: place bytes flush against an inaccessible page so any read
 * past the end faults (picohttpparser's trick).  SPDX-License-Identifier: MIT */
#ifndef SMTPW_TEST_GUARDBUF_H
#define SMTPW_TEST_GUARDBUF_H
#include <stddef.h>
#include <stdint.h>
/* Copy len bytes so they end right before a PROT_NONE page; returns the copy.
 * The copy stays valid until the next guardbuf_put() (one slot). */
const uint8_t *guardbuf_put(const void *data, size_t len);
#endif
